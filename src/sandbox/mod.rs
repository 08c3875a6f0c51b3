//! Runs Python inside a wasmtime sandbox: a CPython 3.14 WASI component built by componentize-py
//! from `runner/app.py`, never the host's Python.
//!
//! One [`Sandbox`] owns the engine (pooling allocator, epoch interruption) and an `InstancePre`;
//! every [`Sandbox::run`] gets a fresh `Store` and instance, so nothing one run does can be seen by the
//! next. The guest streams one event per step (see `runner/app.py`), so a trap in one case (deadline,
//! stack, exit) costs only that case: the rest run again in a fresh instance.

mod engine;
pub mod runtime;

use std::time::Duration;

use serde::Serialize;

pub use crate::base::Cancel;
pub use crate::evidence::{Class, ExceptionInfo, Outcome, Ran, Shown};
pub use engine::{DEFAULT_MEMORY_BUDGET, Sandbox};

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
}

/// A whole run: the user's file (as top-level statements) and the cases to run against it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Program {
    /// The name tracebacks show, normally the path as the user gave it.
    pub filename: String,
    pub source: String,
    pub module_name: String,
    pub chunks: Vec<Chunk>,
    pub groups: Vec<Group>,
}

/// A top-level statement of the file that failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SetupFailure {
    pub chunk: usize,
    pub outcome: Outcome,
}

/// Everything a run observed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub setup: Vec<SetupFailure>,
    /// One outcome per case, in the order of `Program::groups`.
    pub outcomes: Vec<Vec<Outcome>>,
    /// Instances it took (1 unless a case trapped).
    pub instances: u32,
}
