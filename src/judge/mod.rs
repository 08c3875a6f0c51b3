//! Evidence and outcomes → findings, status and confidence. Pure and synchronous: it reads what
//! the sandbox observed (plain data) and decides; it never runs anything.
//!
//! First version: docstring examples, compared by value where the expected text is a Python literal
//! (so `"21"` matches `'21'`), by doctest's own text comparison otherwise, and `>>> f(x) == y` with no
//! expected output asserting `True`.

mod feedback;
pub mod matrix;
pub mod metrics;
mod verdict;

use crate::evidence::{Class, Outcome, Ran};
use crate::syntax::{Example, TextRange};
use feedback::Got;

pub use feedback::first_line;
pub use verdict::{
    CandidateResult, Judgement, SHRINK_ROUNDS, SHRINK_WIDTH, Subject, exercised_by, first_error_line, judge,
    next_shrink,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// An example or a user test fails (or the function cannot run): proof.
    Failing,
    /// The model's evidence says the function is wrong (a counterexample or failing generated
    /// tests that a strong consensus stands behind), but no example or user test fails.
    Suspect,
    Passing,
    Unverified,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
    Information,
    Hint,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FindingKind {
    ExampleFailed,
    TestFailed,
    Counterexample,
    Crash,
    Timeout,
    MemoryLimit,
    RecursionLimit,
    OutputLimit,
    SyntaxError,
    /// The example needs a name or module the sandbox does not have: not the function's fault.
    ExampleUnresolved,
    /// The function and a strong consensus of candidates agree with each other, not with the example.
    ExampleSuspect,
    /// One of the user's own tests failed (pytest's report as feedback).
    UserTestFailed,
}

impl FindingKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::ExampleFailed => "example_failed",
            FindingKind::TestFailed => "test_failed",
            FindingKind::Counterexample => "counterexample",
            FindingKind::Crash => "crash",
            FindingKind::Timeout => "timeout",
            FindingKind::MemoryLimit => "memory_limit",
            FindingKind::RecursionLimit => "recursion_limit",
            FindingKind::OutputLimit => "output_limit",
            FindingKind::SyntaxError => "syntax_error",
            FindingKind::ExampleUnresolved => "example_unresolved",
            FindingKind::ExampleSuspect => "example_suspect",
            FindingKind::UserTestFailed => "user_test_failed",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub kind: FindingKind,
    pub severity: Severity,
    /// One line: the call, what it gave, what was expected.
    pub message: String,
    pub range: TextRange,
    /// The normalised feedback text (doctest-style report with the LeTI-normalised traceback): what
    /// the editor shows and what the training store keeps.
    pub feedback: String,
}

/// Evidence counted for a function.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EvidenceCounts {
    pub examples: u32,
    pub user_tests: u32,
    pub generated_tests: u32,
    pub candidates: u32,
    pub model: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub status: Status,
    /// Probability that the function is correct; `None` until a calibrated map exists for the
    /// evidence at hand (examples alone do not make one).
    pub confidence: Option<f64>,
    /// What the confidence is made of.
    pub parts: Option<matrix::Parts>,
    /// The consensus candidate, offered as a fix when the function disagrees with it.
    pub fix: Option<Fix>,
    /// The shrunk counterexample as a test: `assert f(2, 0) == 2`.
    pub counterexample_test: Option<String>,
    pub evidence: EvidenceCounts,
    pub findings: Vec<Finding>,
}

/// A verified replacement for the function.
#[derive(Debug, Clone, PartialEq)]
pub struct Fix {
    pub source: String,
    /// Surviving generated tests it passes, of all generated tests.
    pub passes: usize,
    pub of: usize,
}

/// How one example went.
#[derive(Debug, Clone, PartialEq)]
pub enum ExampleVerdict {
    Passed,
    /// Not the function's fault and not evidence either way.
    Unresolved(Finding),
    Failed(Finding),
}

/// Judges one example from its outcome.
pub fn judge_example(filename: &str, function: &str, example: &Example, outcome: &Outcome) -> ExampleVerdict {
    let call = first_line(&example.source);
    let finding = |kind, severity, message: String, feedback: String| Finding {
        kind,
        severity,
        message,
        range: example.range,
        feedback,
    };
    let report = |got: Got<'_>| feedback::doctest_report(filename, example, function, got);
    match outcome {
        Outcome::Ran(ran) => {
            if example_passes(example, ran) {
                return ExampleVerdict::Passed;
            }
            if let Some(exc) = &ran.exception {
                if let Some(name) = &exc.missing_name {
                    return ExampleVerdict::Unresolved(finding(
                        FindingKind::ExampleUnresolved,
                        Severity::Information,
                        format!(
                            "`{call}` uses `{name}`, which is not defined in this file; the example was not judged"
                        ),
                        report(Got::Raw(&exc.traceback)),
                    ));
                }
                if let Some(feature) = &exc.unsupported {
                    return ExampleVerdict::Unresolved(finding(
                        FindingKind::ExampleUnresolved,
                        Severity::Information,
                        format!(
                            "`{call}` needs {feature}, which the sandbox does not have; the example was not judged"
                        ),
                        report(Got::Raw(&exc.traceback)),
                    ));
                }
                if matches!(exc.exc_type.as_str(), "ModuleNotFoundError" | "ImportError") {
                    return ExampleVerdict::Unresolved(finding(
                        FindingKind::ExampleUnresolved,
                        Severity::Information,
                        format!(
                            "`{call}` needs a module the sandbox does not have ({}: {}); the example was not judged",
                            exc.exc_type,
                            feedback::clip(&exc.message, 80)
                        ),
                        report(Got::Raw(&exc.traceback)),
                    ));
                }
                let kind = match outcome.class() {
                    Class::MemoryLimit => FindingKind::MemoryLimit,
                    Class::RecursionLimit => FindingKind::RecursionLimit,
                    Class::OutputLimit => FindingKind::OutputLimit,
                    _ => FindingKind::ExampleFailed,
                };
                let expected = expectation(example);
                let message = if kind == FindingKind::OutputLimit {
                    format!("`{call}` printed more than the sandbox allows ({})", exc.message)
                } else {
                    let detail = if exc.message.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", feedback::clip(&exc.message, 100))
                    };
                    format!("`{call}` raised {}{detail}{expected}", exc.exc_type)
                };
                return ExampleVerdict::Failed(finding(
                    kind,
                    Severity::Error,
                    message,
                    report(Got::Raw(&exc.traceback)),
                ));
            }
            let got = feedback::describe_got(ran);
            let message = if example.want.is_empty() {
                match ran.value.as_ref().map(|v| v.kind.as_str()) {
                    Some("false") => format!("`{call}` is False; an example with no output must be True or None"),
                    _ => format!("`{call}` {got}, but the example expects no output"),
                }
            } else {
                format!("`{call}` {got}, expected {}", feedback::expected_text(example, ran))
            };
            ExampleVerdict::Failed(finding(
                FindingKind::ExampleFailed,
                Severity::Error,
                message,
                report(Got::Output(&ran.stdout)),
            ))
        }
        Outcome::Timeout { after_ms } => ExampleVerdict::Failed(finding(
            FindingKind::Timeout,
            Severity::Error,
            format!("`{call}` did not finish within {after_ms} ms"),
            report(Got::Raw(&format!("Timeout: the example was stopped after {after_ms} ms\n"))),
        )),
        Outcome::MemoryLimit { detail } => ExampleVerdict::Failed(finding(
            FindingKind::MemoryLimit,
            Severity::Error,
            format!("`{call}` exceeded the sandbox's memory limit"),
            report(Got::Raw(&format!("MemoryLimit: {detail}\n"))),
        )),
        Outcome::RecursionLimit { detail } => ExampleVerdict::Failed(finding(
            FindingKind::RecursionLimit,
            Severity::Error,
            format!("`{call}` exhausted the stack (unbounded recursion?)"),
            report(Got::Raw(&format!("RecursionLimit: {detail}\n"))),
        )),
        Outcome::OutputLimit { prefix } => ExampleVerdict::Failed(finding(
            FindingKind::OutputLimit,
            Severity::Error,
            format!("`{call}` printed more than the sandbox allows"),
            report(Got::Output(prefix)),
        )),
        Outcome::Exited { code } => ExampleVerdict::Failed(finding(
            FindingKind::Crash,
            Severity::Error,
            format!("`{call}` ended the interpreter (exit status {code})"),
            report(Got::Raw(&format!("Exited: the process exited with status {code}\n"))),
        )),
        Outcome::Crash { detail } => ExampleVerdict::Failed(finding(
            FindingKind::Crash,
            Severity::Error,
            format!("`{call}` crashed the interpreter: {}", feedback::clip(detail, 100)),
            report(Got::Raw(&format!("Crash: {detail}\n"))),
        )),
        Outcome::Unavailable { detail } => ExampleVerdict::Unresolved(finding(
            FindingKind::ExampleUnresolved,
            Severity::Hint,
            format!("`{call}` could not be run: {}", feedback::clip(detail, 100)),
            String::new(),
        )),
        Outcome::Cancelled => ExampleVerdict::Unresolved(finding(
            FindingKind::ExampleUnresolved,
            Severity::Hint,
            format!("`{call}` was cancelled before it finished"),
            String::new(),
        )),
    }
}

/// doctest's verdict, value equality for literals, and the no-output form asserting `True`.
fn example_passes(example: &Example, ran: &Ran) -> bool {
    if ran.text_match == Some(true) || ran.value_equal == Some(true) {
        return true;
    }
    ran.exception.is_none()
        && example.want.is_empty()
        && ran.value.as_ref().is_some_and(|v| v.kind == "true")
        && ran.stdout.trim_end() == "True"
}

fn expectation(example: &Example) -> String {
    let want = example.want.trim_end();
    if want.is_empty() {
        String::new()
    } else if want.lines().count() == 1 {
        format!(", expected {}", feedback::clip(want, 80))
    } else {
        format!(", expected {}…", feedback::clip(want.lines().next().unwrap_or(""), 60))
    }
}

/// Example verdicts (in order) → the function's verdict.
fn judge_examples(verdicts: Vec<ExampleVerdict>, mut extra: Vec<Finding>) -> Verdict {
    let mut findings = Vec::new();
    let mut judged = 0;
    for v in verdicts {
        match v {
            ExampleVerdict::Passed => judged += 1,
            ExampleVerdict::Failed(f) => {
                judged += 1;
                findings.push(f);
            }
            ExampleVerdict::Unresolved(f) => findings.push(f),
        }
    }
    findings.append(&mut extra);
    findings.sort_by_key(|f| (f.range.start, f.severity));
    let failing = findings.iter().any(|f| f.severity == Severity::Error);
    let suspect = findings.iter().any(|f| {
        f.severity == Severity::Warning && matches!(f.kind, FindingKind::Counterexample | FindingKind::TestFailed)
    });
    let status = if failing {
        Status::Failing
    } else if suspect {
        Status::Suspect
    } else if judged > 0 {
        Status::Passing
    } else {
        Status::Unverified
    };
    Verdict {
        status,
        confidence: None,
        parts: None,
        fix: None,
        counterexample_test: None,
        evidence: EvidenceCounts { examples: judged, ..EvidenceCounts::default() },
        findings,
    }
}

#[cfg(test)]
mod tests;
