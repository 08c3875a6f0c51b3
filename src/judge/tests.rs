//! The judge on hand-made outcomes: no sandbox, no wasmtime.

use super::*;
use crate::sandbox::{ExceptionInfo, Shown};

fn example(source: &str, want: &str) -> Example {
    Example {
        source: format!("{source}\n"),
        want: want.to_string(),
        line: 4,
        range: TextRange::new(40, 40 + source.len()),
        options: Vec::new(),
        skip: false,
    }
}

fn ran(stdout: &str, value: Option<(&str, &str)>) -> Ran {
    Ran {
        stdout: stdout.to_string(),
        value: value.map(|(repr, kind)| Shown { repr: repr.into(), kind: kind.into() }),
        exception: None,
        text_match: None,
        value_equal: None,
        expected: None,
        actual: None,
        duration_us: 10,
    }
}

fn raised(exc_type: &str, message: &str, missing: Option<&str>) -> Ran {
    Ran {
        exception: Some(ExceptionInfo {
            exc_type: exc_type.into(),
            module: "builtins".into(),
            message: message.into(),
            traceback: format!(
                "Traceback (most recent call last):\n  File \"m.py\", line 9, in f\n{exc_type}: {message}\n"
            ),
            line: Some(8),
            missing_name: missing.map(str::to_string),
        }),
        text_match: Some(false),
        ..ran("", None)
    }
}

fn judge(ex: &Example, ran: Ran) -> ExampleVerdict {
    judge_example("m.py", "f", ex, &Outcome::Ran(Box::new(ran)))
}

fn failed(v: ExampleVerdict) -> Finding {
    match v {
        ExampleVerdict::Failed(f) => f,
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[test]
fn doctest_text_match_passes() {
    let r = Ran { text_match: Some(true), ..ran("2\n", Some(("2", "other"))) };
    assert_eq!(judge(&example("f(1)", "2\n"), r), ExampleVerdict::Passed);
}

#[test]
fn literal_value_equality_passes_where_text_differs() {
    // `'21'` expected, `"21"` written: doctest's text comparison fails, the values are equal.
    let r = Ran { text_match: Some(false), value_equal: Some(true), ..ran("'21'\n", Some(("'21'", "other"))) };
    assert_eq!(judge(&example("f(1)", "\"21\"\n"), r), ExampleVerdict::Passed);
}

#[test]
fn no_output_asserts_true() {
    let ex = example("f(1) == 2", "");
    let t = Ran { text_match: Some(false), ..ran("True\n", Some(("True", "true"))) };
    assert_eq!(judge(&ex, t), ExampleVerdict::Passed);
    let f = failed(judge(&ex, Ran { text_match: Some(false), ..ran("False\n", Some(("False", "false"))) }));
    assert_eq!(f.kind, FindingKind::ExampleFailed);
    assert_eq!(f.severity, Severity::Error);
    assert_eq!(f.message, "`f(1) == 2` is False; an example with no output must be True or None");
}

#[test]
fn wrong_value_names_call_expected_and_actual() {
    let r = Ran {
        text_match: Some(false),
        value_equal: Some(false),
        expected: Some("2.5".into()),
        ..ran("3.5\n", Some(("3.5", "other")))
    };
    let f = failed(judge(&example("median([4, 1, 3, 2])", "2.5\n"), r));
    assert_eq!(f.message, "`median([4, 1, 3, 2])` returned 3.5, expected 2.5");
    assert_eq!(f.range, TextRange::new(40, 60));
    assert_eq!(
        f.feedback,
        "File \"m.py\", line 5, in f\nFailed example:\n    median([4, 1, 3, 2])\nExpected:\n    2.5\nGot:\n    3.5\n"
    );
}

#[test]
fn printed_output_mismatch() {
    let r = Ran { text_match: Some(false), ..ran("hello\n", None) };
    let f = failed(judge(&example("greet()", "hi\n"), r));
    assert_eq!(f.message, "`greet()` printed \"hello\", expected hi");
}

#[test]
fn exception_feedback_carries_the_traceback() {
    let f = failed(judge(&example("f(0)", "1\n"), raised("ZeroDivisionError", "division by zero", None)));
    assert_eq!(f.kind, FindingKind::ExampleFailed);
    assert_eq!(f.message, "`f(0)` raised ZeroDivisionError: division by zero, expected 1");
    assert!(f.feedback.ends_with("Got:\nTraceback (most recent call last):\n  File \"m.py\", line 9, in f\nZeroDivisionError: division by zero\n"), "{}", f.feedback);
}

#[test]
fn expected_exception_passes() {
    let r = Ran { text_match: Some(true), ..raised("ValueError", "empty", None) };
    assert_eq!(
        judge(&example("f([])", "Traceback (most recent call last):\nValueError: empty\n"), r),
        ExampleVerdict::Passed
    );
}

#[test]
fn missing_names_and_modules_are_not_the_functions_fault() {
    for r in [
        raised("NameError", "name 'helper' is not defined", Some("helper")),
        raised("ModuleNotFoundError", "No module named 'numpy'", None),
    ] {
        match judge(&example("f(1)", "1\n"), r) {
            ExampleVerdict::Unresolved(f) => {
                assert_eq!(f.kind, FindingKind::ExampleUnresolved);
                assert_eq!(f.severity, Severity::Information);
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn resource_outcomes_map_to_their_kinds() {
    let ex = example("f()", "1\n");
    let cases = [
        (Outcome::Timeout { after_ms: 2001 }, FindingKind::Timeout),
        (Outcome::MemoryLimit { detail: "cap".into() }, FindingKind::MemoryLimit),
        (Outcome::RecursionLimit { detail: "stack".into() }, FindingKind::RecursionLimit),
        (Outcome::OutputLimit { prefix: "xxx".into() }, FindingKind::OutputLimit),
        (Outcome::Exited { code: 1 }, FindingKind::Crash),
        (Outcome::Crash { detail: "trap".into() }, FindingKind::Crash),
        (Outcome::Ran(Box::new(raised("MemoryError", "", None))), FindingKind::MemoryLimit),
        (
            Outcome::Ran(Box::new(raised("RecursionError", "maximum recursion depth exceeded", None))),
            FindingKind::RecursionLimit,
        ),
    ];
    for (outcome, kind) in cases {
        let f = failed(judge_example("m.py", "f", &ex, &outcome));
        assert_eq!(f.kind, kind, "{outcome:?}");
        assert_eq!(f.severity, Severity::Error);
        assert!(f.feedback.starts_with("File \"m.py\", line 5, in f\nFailed example:\n    f()\n"));
    }
}

#[test]
fn feedback_neutralises_terminal_escapes() {
    let r = Ran { text_match: Some(false), ..ran("\u{1b}]0;pwned\u{7}\u{1b}[31mred\n", None) };
    let f = failed(judge(&example("f()", "x\n"), r));
    assert!(!f.feedback.contains('\u{1b}') && !f.message.contains('\u{1b}'), "{:?}", f.feedback);
    assert!(f.feedback.contains("\\u{1b}[31mred"));
}

#[test]
fn function_status_from_example_verdicts() {
    let fail = failed(judge(&example("f(0)", "1\n"), raised("ValueError", "x", None)));
    let unresolved = match judge(&example("g(1)", "1\n"), raised("NameError", "g", Some("g"))) {
        ExampleVerdict::Unresolved(f) => f,
        other => panic!("{other:?}"),
    };
    let v = judge_examples(vec![ExampleVerdict::Passed, ExampleVerdict::Failed(fail.clone())], vec![]);
    assert_eq!((v.status, v.evidence.examples, v.findings.len()), (Status::Failing, 2, 1));
    let v = judge_examples(vec![ExampleVerdict::Passed, ExampleVerdict::Unresolved(unresolved.clone())], vec![]);
    assert_eq!((v.status, v.evidence.examples, v.findings.len()), (Status::Passing, 1, 1));
    let v = judge_examples(vec![ExampleVerdict::Unresolved(unresolved)], vec![]);
    assert_eq!((v.status, v.evidence.examples), (Status::Unverified, 0));
    let v = judge_examples(vec![], vec![]);
    assert_eq!(v.status, Status::Unverified);
    assert_eq!(v.confidence, None);
}
