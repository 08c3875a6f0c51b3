//! Runs Python inside a wasmtime sandbox: a CPython 3.14 WASI component built by componentize-py
//! from `runner/app.py`, never the host's Python.
//!
//! One [`Sandbox`] owns the engine (pooling allocator, epoch interruption) and an `InstancePre`;
//! every [`Sandbox::run`] gets a fresh `Store` and instance, so nothing one run does can be seen by the
//! next. The guest streams one event per step (see `runner/app.py`), so a trap in one case (deadline,
//! stack, exit) costs only that case: the rest run again in a fresh instance.

mod engine;
pub mod runtime;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use sha2::{Digest, Sha256};

pub use crate::base::Cancel;
pub use crate::evidence::{Class, ExceptionInfo, Outcome, Ran, Shown, TestOutcome, TestResult};
pub use engine::{DEFAULT_MEMORY_BUDGET, SCRATCH_BYTES, Sandbox};

/// Limits for one run. Every one is set: wasmtime's own defaults are unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Wall-clock budget for one case (and for one top-level statement of the file).
    pub case_deadline: Duration,
    /// Wall-clock budget for the whole run, restarts included.
    pub run_deadline: Duration,
    /// Linear memory, all memories of the instance together.
    pub memory_bytes: usize,
    /// Characters one case may print before it is stopped; the prefix is kept.
    pub output_chars: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            case_deadline: Duration::from_millis(2_000),
            run_deadline: Duration::from_secs(20),
            memory_bytes: 256 << 20,
            output_chars: 64 << 10,
        }
    }
}

/// One top-level statement of the user's file, executed before any case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Chunk {
    /// 0-based line where the statement starts in the user's file.
    pub line: u32,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CaseKind {
    /// A docstring example with doctest semantics: `want` is the expected output.
    Example { want: String, options: Vec<String> },
    /// Statements that pass when they raise nothing (`assert f(1) == 2`).
    Assert,
}

/// One thing to run: an example or an assert-style test.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Case {
    #[serde(flatten)]
    pub kind: CaseKind,
    pub source: String,
    /// 0-based line of the case's first line in the user's file.
    pub line: u32,
}

/// Cases that share one namespace, a copy of the module's (a docstring's examples, doctest style).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Group {
    pub cases: Vec<Case>,
    /// After one case times out, the group's other cases are not run (each reports that
    /// timeout): for code that may loop everywhere (a model's candidate), so that it costs one
    /// deadline, not one per case.
    #[serde(skip)]
    pub stop_on_timeout: bool,
}

/// A whole run: the user's file (as top-level statements) and the cases to run against it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Program {
    /// The name tracebacks show, normally the path as the user gave it.
    pub filename: String,
    /// The module's `__file__`: the file's absolute path where it has one.
    pub origin: String,
    pub source: String,
    /// The module's dotted name; its parent packages are imported first, as Python does.
    pub module_name: String,
    pub chunks: Vec<Chunk>,
    pub groups: Vec<Group>,
    /// After the groups, find the module's docstrings with examples as doctest does and report
    /// those whose qualified names are not in this list ([`Report::found`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discover: Option<Vec<String>>,
    /// Instead of the file's statements and groups: the user's tests in `file`, run by pytest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pytest: Option<TestRun>,
    /// The project's `conftest.py` files whose autouse fixtures fill pytest's `doctest_namespace`
    /// for this module's examples (rootdir first), as pytest applies them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conftests: Vec<Conftest>,
}

/// A `conftest.py` and its text (the editor's, when it is open).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Conftest {
    pub path: String,
    pub source: String,
}

/// A pytest run over one test file of a project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TestRun {
    /// The project's root (pytest's rootdir: its configuration applies).
    pub rootdir: String,
    /// The test file's absolute path.
    pub file: String,
    /// Only these tests of the file (pytest node ids, relative to `rootdir`); all when empty.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub select: Vec<String>,
}

/// A docstring with examples that the file's text does not show (set at run time), as doctest's
/// finder found it in the running module.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct FoundDocstring {
    /// The qualified name in the module (`<module>` for the module itself).
    pub name: String,
    /// 0-based line doctest gives the object (its `def`), when it has one.
    pub line: Option<u32>,
    pub examples: Vec<FoundExample>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct FoundExample {
    pub source: String,
    pub want: String,
    /// doctest flags the example switches on.
    pub options: Vec<String>,
    pub skip: bool,
}

/// A top-level statement of the file that failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SetupFailure {
    pub chunk: usize,
    pub outcome: Outcome,
}

/// Everything a run observed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct Report {
    pub setup: Vec<SetupFailure>,
    /// One outcome per case, in the order of `Program::groups`.
    pub outcomes: Vec<Vec<Outcome>>,
    /// Instances it took (1 unless a case trapped).
    pub instances: u32,
    /// The modules the guest asked the host for, in the order first asked, each once.
    pub imports: Vec<Import>,
    /// What `Program::discover` found.
    pub found: Vec<FoundDocstring>,
    /// What `Program::pytest` ran, in order.
    pub tests: Vec<TestResult>,
    /// Why the pytest run did not report its tests (it could not start, collect, ...), if so.
    pub tests_problem: Option<String>,
}

/// A module the guest imported from the host, and a digest of what it got: the run's result holds
/// while every one of them still gives the same digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Import {
    pub name: String,
    pub digest: String,
}

/// What the host gives the guest for an import it cannot satisfy itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Module {
    /// Python source; `package` for an `__init__.py` (or a namespace package: no source, and
    /// `origin` the directory). `filename` is what tracebacks show, `origin` the module's
    /// `__file__` (its absolute path, readable in the sandbox when the project is).
    Source {
        filename: String,
        origin: String,
        source: String,
        package: bool,
    },
    /// A compiled extension, which the sandbox's CPython cannot load.
    Extension {
        filename: String,
    },
    Missing,
}

impl Module {
    pub fn digest(&self) -> String {
        let mut h = Sha256::new();
        match self {
            Module::Source { filename, origin, source, package } => {
                h.update(if *package { b"package\0" as &[u8] } else { b"module\0" });
                h.update(filename.as_bytes());
                h.update([0]);
                h.update(origin.as_bytes());
                h.update([0]);
                h.update(source.as_bytes());
            }
            Module::Extension { filename } => {
                h.update(b"extension\0");
                h.update(filename.as_bytes());
            }
            Module::Missing => h.update(b"missing"),
        }
        crate::base::hex(&h.finalize())[..16].to_string()
    }
}

/// Where imports come from beyond the standard library (the project's modules, its environment).
pub trait Modules: Send + Sync {
    fn find(&self, name: &str) -> Module;
}

/// What of the host a run may see: modules served on import, and directories it may read (the
/// project, so that code reading its own data files finds them). Besides these, every run has a
/// private, empty, writable scratch directory as its working directory and `TMPDIR`.
#[derive(Clone, Default)]
pub struct Host {
    pub modules: Option<Arc<dyn Modules>>,
    pub read_only: Vec<PathBuf>,
}

impl std::fmt::Debug for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Host").field("modules", &self.modules.is_some()).field("read_only", &self.read_only).finish()
    }
}
