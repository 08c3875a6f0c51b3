//! The judge on hand-made outcomes: no sandbox, no wasmtime.

use super::*;
use crate::evidence::{ExceptionInfo, Shown};

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
            unsupported: None,
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

/// The whole verdict over hand-built evidence, rust-analyzer style: a function, a matrix written
/// as a small fixture, and the verdict rendered as text.
mod verdicts {
    use expect_test::{Expect, expect};

    use super::*;
    use crate::evidence::inputs::calls_in;
    use crate::evidence::{Cells, FunctionEvidence, Proposals, ShrinkRound};
    use crate::judge::matrix::Calibration;
    use crate::judge::{judge as verdict_of, next_shrink};
    use crate::syntax::Function;

    const ADD: &str = "def add(a, b):\n    \"\"\"\n    >>> add(1, 1)\n    2\n    \"\"\"\n    return a + b\n";

    /// One cell: `=v` returned (printed) v, `P` ran clean, `F` failed an assert, `!E` raised E,
    /// `T` timed out, `-` never ran.
    fn cell(text: &str, want: Option<&str>) -> Option<Outcome> {
        let clean = |stdout: String| {
            let text_match = want.map(|w| w == stdout);
            Outcome::Ran(Box::new(Ran { text_match, ..ran(&stdout, None) }))
        };
        Some(match text {
            "-" => return None,
            "P" => clean(String::new()),
            "T" => Outcome::Timeout { after_ms: 300 },
            "F" => Outcome::Ran(Box::new(Ran {
                expected: Some("?".into()),
                actual: Some("?".into()),
                ..raised("AssertionError", "", None)
            })),
            t if t.starts_with('!') => Outcome::Ran(Box::new(raised(&t[1..], "boom", None))),
            t if t.starts_with('=') => clean(format!("{}\n", &t[1..])),
            other => panic!("unknown cell {other:?}"),
        })
    }

    /// `tests a | b`, `inputs f(1) | f(2)`, then `user` and `cand` rows of segments
    /// `ex …`, `tests …`, `inputs …`, `def …`.
    fn evidence(function: &Function, fixture: &str) -> FunctionEvidence {
        let mut tests = Vec::new();
        let mut inputs = Vec::new();
        let mut rows: Vec<(bool, Cells)> = Vec::new();
        let examples: Vec<usize> = (0..function.examples.len()).collect();
        for line in fixture.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let (head, rest) = line.split_once(' ').unwrap_or((line, ""));
            match head {
                "tests" => tests = rest.split('|').map(|t| format!("assert {}", t.trim())).collect(),
                "inputs" => inputs = rest.split('|').map(|c| calls_in(c.trim(), &function.name).remove(0)).collect(),
                "user" | "cand" => {
                    let mut cells = Cells::new(examples.len(), tests.len(), inputs.len());
                    if head == "cand" {
                        cells.definition = cell("P", None);
                    }
                    for segment in rest.split('|') {
                        let mut words = segment.split_whitespace();
                        let column = words.next().unwrap();
                        let values: Vec<&str> = words.collect();
                        match column {
                            "def" => cells.definition = cell(values[0], None),
                            "ex" => {
                                for (k, v) in values.iter().enumerate() {
                                    cells.examples[k] = cell(v, Some(function.examples[k].want.as_str()));
                                }
                            }
                            "tests" => cells.tests = values.iter().map(|v| cell(v, None)).collect(),
                            "inputs" => cells.inputs = values.iter().map(|v| cell(v, None)).collect(),
                            other => panic!("unknown column {other:?}"),
                        }
                    }
                    rows.push((head == "user", cells));
                }
                other => panic!("unknown fixture line {other:?}"),
            }
        }
        let candidates: Vec<Cells> = rows.iter().filter(|(u, _)| !u).map(|(_, c)| c.clone()).collect();
        let proposals = (!candidates.is_empty() || !tests.is_empty()).then(|| Proposals {
            model: "m".into(),
            tests: tests.clone(),
            candidates: (0..candidates.len())
                .map(|k| format!("def {}(a, b):\n    return {k}\n", function.name))
                .collect(),
            p_true: None,
        });
        let mut e = FunctionEvidence::new(examples, proposals, inputs);
        if let Some((_, user)) = rows.iter().find(|(u, _)| *u) {
            e.user = user.clone();
        }
        e.candidates = candidates;
        e
    }

    fn render(j: &Judgement) -> String {
        let v = &j.verdict;
        let mut out = format!("status {:?}", v.status).to_lowercase();
        if let Some(p) = &v.parts {
            let opt = |x: Option<f64>| x.map_or("-".to_string(), |x| format!("{x:.2}"));
            out += &format!(
                "\nparts examples_passed={} tests_passed={} agreement={} counterexample={} verified_failure={}",
                p.examples_passed,
                opt(p.tests_passed),
                opt(p.agreement),
                p.counterexample,
                p.verified_failure
            );
        }
        for f in &v.findings {
            let severity = format!("{:?}", f.severity).to_lowercase();
            out += &format!("\n{severity} {}: {}", f.kind.as_str(), f.message);
        }
        if let Some(t) = &v.counterexample_test {
            out += &format!("\ntest {t}");
        }
        if let Some(fix) = &v.fix {
            out += &format!("\nfix passes {} of {}", fix.passes, fix.of);
        }
        out + "\n"
    }

    #[track_caller]
    fn check(source: &str, fixture: &str, expect: Expect) {
        let function = &crate::syntax::parse(source).functions[0];
        let subject = Subject { path: "m.py", function, source };
        let e = evidence(function, fixture);
        expect.assert_eq(&render(&verdict_of(subject, &e, Calibration::builtin())));
    }

    #[test]
    fn a_consensus_no_generated_test_supports_says_nothing() {
        // Two identical candidates agree with each other and pass none of the generated tests:
        // agreement without support is no evidence (it once counted as agreement 1.0).
        check(
            ADD,
            "tests add(1, 2) == 4 | add(2, 2) == 5
             inputs add(2, 3)
             user ex =2 | tests F F | inputs =5
             cand ex =2 | tests F F | inputs =6
             cand ex =2 | tests F F | inputs =6",
            expect![[r#"
                status passing
                parts examples_passed=1 tests_passed=- agreement=- counterexample=false verified_failure=false
            "#]],
        );
    }

    #[test]
    fn a_consensus_never_speaks_against_a_function_the_tests_support_more() {
        // Two identical wrong candidates pass 1 of 3 tests; the function passes all 3.
        check(
            ADD,
            "tests add(1, 2) == 3 | add(2, 2) == 4 | add(0, 0) == 0
             inputs add(2, 3)
             user ex =2 | tests P P P | inputs =5
             cand ex =2 | tests P F F | inputs =6
             cand ex =2 | tests P F F | inputs =6",
            expect![[r#"
                status passing
                parts examples_passed=1 tests_passed=1.00 agreement=1.00 counterexample=false verified_failure=false
            "#]],
        );
    }

    #[test]
    fn a_strong_consensus_warns_and_a_weak_one_hints() {
        // Three of four agree (strong): warnings, a counterexample on the smallest input.
        check(
            "def add(a, b):\n    \"\"\"\n    >>> add(1, 1)\n    2\n    \"\"\"\n    return 0 if a == 2 else a + b\n",
            "tests add(2, 2) == 4 | add(1, 2) == 3
             inputs add(2, 3) | add(2, 0) | add(1, 1)
             user ex =2 | tests F P | inputs =0 =0 =2
             cand ex =2 | tests P P | inputs =5 =2 =2
             cand ex =2 | tests P P | inputs =5 =2 =2
             cand ex =2 | tests P P | inputs =5 =2 =2
             cand ex =2 | tests F F | inputs =6 =2 =2",
            expect![[r#"
                status suspect
                parts examples_passed=1 tests_passed=0.50 agreement=0.75 counterexample=true verified_failure=false
                warning counterexample: `add(2, 0)` returns 0; 3 of 4 candidate solutions and 2 generated tests say 2
                warning test_failed: generated test `assert add(2, 2) == 4` fails (got ?, expected ?); 3 of 4 candidate solutions pass it
                test assert add(2, 0) == 2
                fix passes 2 of 2
            "#]],
        );
        // Two of five agree and three are scattered: the best group is weak, findings are hints.
        check(
            ADD,
            "tests add(1, 2) == 3 | add(2, 3) == 6
             inputs add(2, 3)
             user ex =2 | tests P F | inputs =5
             cand ex =2 | tests P P | inputs =6
             cand ex =2 | tests P P | inputs =6
             cand ex =2 | tests F F | inputs =7
             cand ex =2 | tests F F | inputs =8
             cand ex =2 | tests F F | inputs =9",
            expect![[r#"
                status passing
                parts examples_passed=1 tests_passed=0.50 agreement=0.40 counterexample=true verified_failure=false
                hint counterexample: `add(2, 3)` returns 5; 2 of 5 candidate solutions and 2 generated tests say 6
                hint test_failed: generated test `assert add(2, 3) == 6` fails (got ?, expected ?); 2 of 5 candidate solutions pass it
                test assert add(2, 3) == 6
                fix passes 2 of 2
            "#]],
        );
    }

    #[test]
    fn only_a_decisive_consensus_calls_an_example_wrong() {
        let wrong_example = "def add(a, b):\n    \"\"\"\n    >>> add(2, 2)\n    5\n    \"\"\"\n    return a + b\n";
        // Three candidates give what the function gives: the example is suspect, not the function.
        check(
            wrong_example,
            "tests add(1, 2) == 3
             user ex =4 | tests P
             cand ex =4 | tests P
             cand ex =4 | tests P
             cand ex =4 | tests P",
            expect![[r#"
                status unverified
                parts examples_passed=0 tests_passed=1.00 agreement=1.00 counterexample=false verified_failure=false
                warning example_suspect: the example looks wrong: `add(2, 2)` gives the same here and in 3 of 3 candidate solutions, not what the example expects
            "#]],
        );
        // Two agreeing candidates are strong but not decisive: the failing example stands.
        check(
            wrong_example,
            "tests add(1, 2) == 3
             user ex =4 | tests P
             cand ex =4 | tests P
             cand ex =4 | tests P",
            expect![[r#"
                status failing
                parts examples_passed=0 tests_passed=1.00 agreement=1.00 counterexample=false verified_failure=true
                error example_failed: `add(2, 2)` printed "4", expected 5
            "#]],
        );
    }

    #[test]
    fn consensus_ties_go_to_the_first_group_and_loners_make_none() {
        // No generated tests: candidates group by what they return (two groups of two score the
        // same; the first wins), but a consensus no test supports says nothing against the function.
        check(
            ADD,
            "inputs add(0, 5)
             user ex =2 | inputs =7
             cand ex =2 | inputs =5
             cand ex =2 | inputs =5
             cand ex =2 | inputs =7
             cand ex =2 | inputs =7",
            expect![[r#"
                status passing
                parts examples_passed=1 tests_passed=- agreement=- counterexample=false verified_failure=false
            "#]],
        );
        // Candidates that fail an example the function passes, or do not load, take no part.
        check(
            ADD,
            "tests add(1, 2) == 3
             inputs add(0, 5)
             user ex =2 | tests P | inputs =5
             cand ex =3 | tests P | inputs =6
             cand ex =3 | tests P | inputs =6
             cand def !SyntaxError | ex - | tests - | inputs -
             cand ex =2 | tests P | inputs =6",
            expect![[r#"
                status passing
                parts examples_passed=1 tests_passed=- agreement=- counterexample=false verified_failure=false
            "#]],
        );
    }

    #[test]
    fn no_examples_but_every_surviving_test_passes_is_passing() {
        check(
            "def add(a, b):\n    return a + b\n",
            "tests add(1, 2) == 3 | add(0, 0) == 0
             user tests P P
             cand tests P P
             cand tests P P",
            expect![[r#"
                status passing
                parts examples_passed=0 tests_passed=1.00 agreement=1.00 counterexample=false verified_failure=false
            "#]],
        );
        // Without model evidence and without examples: unverified, no confidence.
        check(
            "def add(a, b):\n    return a + b\n",
            "",
            expect![[r#"
            status unverified
        "#]],
        );
    }

    #[test]
    fn a_consensus_of_none_is_said_as_none() {
        check(
            "def first(xs):\n    return xs[0]\n",
            "tests first([1]) == 1 | first([]) is None
             inputs first([])
             user tests P !IndexError | inputs !IndexError
             cand tests P P | inputs =
             cand tests P P | inputs =",
            expect![[r#"
                status suspect
                parts examples_passed=0 tests_passed=0.50 agreement=1.00 counterexample=true verified_failure=false
                warning counterexample: `first([])` raises IndexError; 2 of 2 candidate solutions and 2 generated tests say None
                warning test_failed: generated test `assert first([]) is None` fails (raised IndexError); 2 of 2 candidate solutions pass it
                test assert first([]) is None
                fix passes 2 of 2
            "#]],
        );
    }

    #[test]
    fn shrinking_accepts_only_inputs_every_member_agrees_on() {
        let source =
            "def add(a, b):\n    \"\"\"\n    >>> add(1, 1)\n    2\n    \"\"\"\n    return 0 if a == 2 else a + b\n";
        let function = &crate::syntax::parse(source).functions[0];
        let subject = Subject { path: "m.py", function, source };
        let mut e = evidence(
            function,
            "tests add(1, 2) == 3 | add(2, 30) == 32
             inputs add(2, 30)
             user ex =2 | tests P F | inputs =0
             cand ex =2 | tests P P | inputs =32
             cand ex =2 | tests P P | inputs =32",
        );
        let mut round = next_shrink(subject, &e).expect("a first round");
        assert_eq!(round.members, [0, 1]);
        assert!(round.inputs.len() > 1 && round.inputs.iter().all(|a| a.size() < e.inputs[0].size()));
        // On the first smaller input the members disagree; on the second they agree and the user
        // differs: that one is taken.
        let n = round.inputs.len();
        round.user = vec![cell("=0", None); n];
        round.candidates = vec![vec![cell("=1", None); n], vec![cell("=1", None); n]];
        round.candidates[1][0] = cell("=9", None);
        let second = round.inputs[1].call("add");
        e.shrinks.push(round);
        let v = verdict_of(subject, &e, Calibration::builtin()).verdict;
        assert_eq!(v.counterexample_test, Some(format!("assert {second} == 1")));
        // A round that finds nothing smaller ends shrinking.
        let mut empty = next_shrink(subject, &e).expect("a second round");
        let n = empty.inputs.len();
        empty.user = vec![cell("=1", None); n];
        empty.candidates = vec![vec![cell("=1", None); n]; 2];
        e.shrinks.push(empty);
        assert_eq!(next_shrink(subject, &e), None);
        assert_eq!(
            verdict_of(subject, &e, Calibration::builtin()).verdict.counterexample_test,
            Some(format!("assert {second} == 1"))
        );
        // And there is a bound on rounds.
        let _ = ShrinkRound::default();
    }
}

/// Once an example could not run here (threads, a missing module), the later examples of the same
/// docstring see a different namespace than on the user's machine: their failures are not judged.
#[test]
fn failures_after_an_unresolved_example_are_not_judged() {
    let source = "def f():\n    \"\"\"\n    >>> start()\n    >>> done()\n    True\n    >>> 1 + 1\n    2\n    \"\"\"\n";
    let parsed = crate::syntax::parse(source);
    let function = &parsed.functions[0];
    let mut e = crate::evidence::FunctionEvidence::new(vec![0, 1, 2], None, Vec::new());
    let mut threads = raised("RuntimeError", "starting a thread: the sandbox has no threads", None);
    if let Some(exc) = threads.exception.as_mut() {
        exc.unsupported = Some("threads".into());
    }
    let wrong = Ran { text_match: Some(false), value_equal: Some(false), ..ran("False\n", Some(("False", "false"))) };
    let right = Ran { text_match: Some(true), ..ran("2\n", Some(("2", "other"))) };
    e.user.examples = vec![threads, wrong, right].into_iter().map(|r| Some(Outcome::Ran(Box::new(r)))).collect();
    let subject = Subject { path: "m.py", function, source };
    let j = super::judge(subject, &e, matrix::Calibration::builtin());
    let findings: Vec<(FindingKind, Severity, &str)> =
        j.verdict.findings.iter().map(|f| (f.kind, f.severity, f.message.as_str())).collect();
    assert_eq!(
        findings,
        [
            (
                FindingKind::ExampleUnresolved,
                Severity::Information,
                "`start()` needs threads, which the sandbox does not have; the example was not judged"
            ),
            (
                FindingKind::ExampleUnresolved,
                Severity::Information,
                "`done()` follows an example that could not be run here; it was not judged either"
            ),
        ]
    );
    assert_eq!(j.verdict.status, Status::Passing, "the one independent example passed");
}

/// The user's own tests that are this function: a failure is an error on the test with pytest's
/// report; a stopped or unsupported test is not judged; a skipped one is not counted; passes alone
/// make it passing.
#[test]
fn the_users_own_tests_judge_the_test_function() {
    use crate::evidence::{TestOutcome, TestResult};
    let source = "def test_mean(x):\n    assert mean([2, 4]) == x\n";
    let parsed = crate::syntax::parse(source);
    let function = &parsed.functions[0];
    let subject = Subject { path: "test_m.py", function, source };
    let test = |param: &str, outcome: TestOutcome, report: &str| TestResult {
        nodeid: format!("test_m.py::test_mean[{param}]"),
        name: format!("test_mean[{param}]"),
        line: Some(0),
        outcome,
        report: report.into(),
        duration_us: 10,
        exercised: vec![("m.py".into(), "mean".into())],
    };
    let judged = |tests: Vec<TestResult>| {
        let mut e = crate::evidence::FunctionEvidence::new(Vec::new(), None, Vec::new());
        e.user_tests = tests;
        super::judge(subject, &e, matrix::Calibration::builtin()).verdict
    };
    let v = judged(vec![test("3", TestOutcome::Passed, ""), test("4", TestOutcome::Skipped, "")]);
    assert_eq!((v.status, v.evidence.user_tests, v.findings.len()), (Status::Passing, 1, 0));

    let report = "    def test_mean(x):\n>       assert mean([2, 4]) == x\nE       assert 3.0 == 5\nE        +  where 3.0 = mean([2, 4])\n\ntest_m.py:2: AssertionError";
    let v = judged(vec![
        test("3", TestOutcome::Passed, ""),
        test("5", TestOutcome::Failed, report),
        test("9", TestOutcome::Stopped, "Timeout"),
        test("7", TestOutcome::Unsupported, "needs threads, which the sandbox does not have"),
    ]);
    assert_eq!(v.status, Status::Failing);
    assert_eq!(v.evidence.user_tests, 4);
    let findings: Vec<(FindingKind, Severity, &str)> =
        v.findings.iter().map(|f| (f.kind, f.severity, f.message.as_str())).collect();
    assert_eq!(
        findings,
        [
            (FindingKind::UserTestFailed, Severity::Error, "`test_mean[5]` failed: assert 3.0 == 5"),
            (
                FindingKind::ExampleUnresolved,
                Severity::Information,
                "`test_mean[9]` did not finish in the sandbox; it was not judged"
            ),
            (
                FindingKind::ExampleUnresolved,
                Severity::Information,
                "`test_mean[7]` needs threads, which the sandbox does not have; it was not judged"
            ),
        ]
    );
    assert!(v.findings[0].feedback.contains("where 3.0 = mean([2, 4])"), "both sides of the assert");

    // Only stopped: nothing proven either way.
    let v = judged(vec![test("9", TestOutcome::Stopped, "Timeout")]);
    assert_eq!(v.status, Status::Unverified);
}
