//! What one case did inside the sandbox. Outcomes are data: a wrong value, an exception, a timeout or
//! a trap is an `Outcome`, never an `Err`.

use serde::{Deserialize, Serialize};

/// The normalised exception a case raised (LeTI style: frames outside the user's file dropped, line
/// numbers those of the user's file, SyntaxError column offsets removed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExceptionInfo {
    #[serde(rename = "type")]
    pub exc_type: String,
    #[serde(default)]
    pub module: String,
    pub message: String,
    pub traceback: String,
    /// 0-based line in the user's file of the innermost frame there, if any.
    pub line: Option<u32>,
    /// A `NameError` for a name bound nowhere in the file (nor a builtin).
    #[serde(default)]
    pub missing_name: Option<String>,
    /// What the sandbox lacked that the code needed (`threads`, `processes`, `network`, ...).
    #[serde(default)]
    pub unsupported: Option<String>,
}

/// A value the case displayed (doctest's `sys.displayhook`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shown {
    pub repr: String,
    /// `none`, `true`, `false` or `other`.
    pub kind: String,
}

/// Facts about a case that ran to its end or raised. The judge decides whether it passed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ran {
    /// Everything the case printed, displayed values included (doctest's "got").
    pub stdout: String,
    /// The one value it displayed, if exactly one.
    pub value: Option<Shown>,
    /// The exception it raised, if any.
    pub exception: Option<ExceptionInfo>,
    /// doctest's own verdict on the printed text (examples only).
    #[serde(default)]
    pub text_match: Option<bool>,
    /// `expected == actual` where the expected text is a Python literal (examples only).
    #[serde(default)]
    pub value_equal: Option<bool>,
    /// repr of the expected value: the literal, or the right side of `assert a == b`.
    #[serde(default)]
    pub expected: Option<String>,
    /// repr of the left side of `assert a == b`.
    #[serde(default)]
    pub actual: Option<String>,
    pub duration_us: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// The case ran; it may still have raised (see [`Ran::exception`]).
    Ran(Box<Ran>),
    /// The wall-clock deadline passed.
    Timeout { after_ms: u64 },
    /// The case was cancelled (the function changed or closed).
    Cancelled,
    /// The memory cap was reached and the guest could not recover.
    MemoryLimit { detail: String },
    /// The wasm stack was exhausted.
    RecursionLimit { detail: String },
    /// The case printed more than the cap; `prefix` is what it printed first.
    OutputLimit { prefix: String },
    /// The guest ended the process (`os._exit`, `proc_exit`).
    Exited { code: i32 },
    /// Anything else the runtime reported: a trap, a broken runner.
    Crash { detail: String },
    /// The host could not run it (no instance could be made): not the program's doing, and not
    /// evidence either way.
    Unavailable { detail: String },
}

/// The class of an outcome, for findings and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Class {
    Completed,
    Exception,
    Timeout,
    Cancelled,
    MemoryLimit,
    RecursionLimit,
    OutputLimit,
    Exited,
    Crash,
    Unavailable,
}

impl Outcome {
    /// One class per outcome: guest `MemoryError` and `RecursionError` are resource limits too.
    pub fn class(&self) -> Class {
        match self {
            Outcome::Ran(ran) => match &ran.exception {
                None => Class::Completed,
                Some(e) => match e.exc_type.as_str() {
                    "MemoryError" => Class::MemoryLimit,
                    "RecursionError" => Class::RecursionLimit,
                    "OutputLimit" if e.module == "app" => Class::OutputLimit,
                    _ => Class::Exception,
                },
            },
            Outcome::Timeout { .. } => Class::Timeout,
            Outcome::Cancelled => Class::Cancelled,
            Outcome::MemoryLimit { .. } => Class::MemoryLimit,
            Outcome::RecursionLimit { .. } => Class::RecursionLimit,
            Outcome::OutputLimit { .. } => Class::OutputLimit,
            Outcome::Exited { .. } => Class::Exited,
            Outcome::Crash { .. } => Class::Crash,
            Outcome::Unavailable { .. } => Class::Unavailable,
        }
    }

    /// The outcome says nothing about the program: the run was cancelled or could not start.
    pub fn incomplete(&self) -> bool {
        matches!(self, Outcome::Cancelled | Outcome::Unavailable { .. })
    }

    pub fn ran(&self) -> Option<&Ran> {
        match self {
            Outcome::Ran(ran) => Some(ran),
            _ => None,
        }
    }

    pub fn exception(&self) -> Option<&ExceptionInfo> {
        self.ran().and_then(|r| r.exception.as_ref())
    }
}

/// One test as pytest ran it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestResult {
    pub nodeid: String,
    /// The test's name as pytest shows it (`TestClass.test_x[param]`).
    pub name: String,
    /// 0-based line of the test function.
    pub line: Option<u32>,
    pub outcome: TestOutcome,
    /// pytest's report of the failure (both sides of a failed assert, the traceback).
    pub report: String,
    pub duration_us: u64,
    /// The project functions it ran: (file as shown, qualified name).
    pub exercised: Vec<(String, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TestOutcome {
    Passed,
    Failed,
    /// Failed outside the test's body (a fixture, setup or teardown).
    Error,
    Skipped,
    /// Stopped at its deadline, or the interpreter trapped in it.
    Stopped,
    /// Failed for want of what the sandbox lacks (threads, processes, the network): the first line
    /// of the report says which.
    Unsupported,
}

impl TestOutcome {
    /// The test ran to a verdict on what it called: passed, failed or errored.
    pub fn judged(self) -> bool {
        matches!(self, TestOutcome::Passed | TestOutcome::Failed | TestOutcome::Error)
    }
}

/// One of the user's tests that ran a function (as the sandbox's runner recorded it: what the test
/// actually called, never guessed from names).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exercise {
    /// The test as pytest shows it (`test_clamp[5-3]`).
    pub test: String,
    /// The test file as shown to the user, and the test's 0-based line.
    pub file: String,
    pub line: Option<u32>,
    pub outcome: TestOutcome,
    /// pytest's first `E ` line of a failure (`assert 2.0 == 3.0`).
    pub summary: String,
    /// pytest's whole report of a failure (empty when it passed).
    pub report: String,
    pub duration_us: u64,
}
