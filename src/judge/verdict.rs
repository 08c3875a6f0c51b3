//! The one verdict: a function's typed evidence → its status, findings, counterexample, fix and
//! confidence. Every judging rule lives here or in `matrix` (consensus, strength, calibration);
//! the engine only arranges runs and asks. [`next_shrink`] tells the engine which smaller inputs
//! to run next; [`judge`] reads all of it, shrinking rounds included, and decides.

use super::matrix::{self, Behaviour, Calibration, CandidateRun, Consensus, Counterexample, Parts, Strength};
use super::{ExampleVerdict, Finding, FindingKind, Fix, Severity, Status, Verdict, judge_example, judge_examples};
use crate::evidence::inputs::{self, Args};
use crate::evidence::{
    Cells, Column, Exercise, FunctionEvidence, Outcome, Proposals, ShrinkRound, TestOutcome, TestResult,
};
use crate::syntax::Function;

/// Shrinking: at most this many rounds, each trying at most this many smaller inputs.
pub const SHRINK_ROUNDS: usize = 8;
pub const SHRINK_WIDTH: usize = 24;

/// The function being judged, its text, and the file name its feedback shows.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    pub path: &'a str,
    pub function: &'a Function,
    /// The function's own text (decorators included).
    pub source: &'a str,
}

/// The verdict, and what it was made of (for the training records).
#[derive(Debug, Clone, PartialEq)]
pub struct Judgement {
    pub verdict: Verdict,
    /// The user's function on each example column, judged on its own terms (before a consensus
    /// made any of them suspect).
    pub examples: Vec<ExampleVerdict>,
    /// Each candidate that loaded, against the examples and the surviving generated tests (PLUM).
    pub candidates: Vec<CandidateResult>,
}

/// One candidate's results: each column it is judged on, and whether it passed.
#[derive(Debug, Clone, PartialEq)]
pub struct CandidateResult {
    /// Index into the proposals' candidates.
    pub candidate: usize,
    pub results: Vec<(Column, bool)>,
}

/// The user's function on one example column. A cell that never ran reads as cancelled.
fn example_verdict(subject: Subject<'_>, ev: &FunctionEvidence, k: usize, cells: &Cells) -> ExampleVerdict {
    let example = &subject.function.examples[ev.examples[k]];
    let outcome = cells.examples.get(k).and_then(Option::as_ref).unwrap_or(&Outcome::Cancelled);
    judge_example(subject.path, &subject.function.name, example, outcome)
}

/// A docstring's examples share one namespace: once an example could not be judged (a missing
/// module, threads the sandbox lacks, ...), what later examples see is not what they would see on
/// the user's machine, so their failures are not judged either.
fn after_unresolved(subject: Subject<'_>, ev: &FunctionEvidence, verdicts: &mut [ExampleVerdict]) {
    let Some(first) = verdicts.iter().position(|v| matches!(v, ExampleVerdict::Unresolved(_))) else { return };
    for (k, verdict) in verdicts.iter_mut().enumerate().skip(first + 1) {
        let ExampleVerdict::Failed(failed) = verdict else { continue };
        let call = super::first_line(&subject.function.examples[ev.examples[k]].source);
        *verdict = ExampleVerdict::Unresolved(Finding {
            kind: FindingKind::ExampleUnresolved,
            severity: Severity::Information,
            message: format!("`{call}` follows an example that could not be run here; it was not judged either"),
            range: failed.range,
            feedback: std::mem::take(&mut failed.feedback),
        });
    }
}

/// The user's own tests that are this function (one run per parameter set): a failure is an error
/// on the test with pytest's own report; a test the sandbox stopped (its deadline, a trap) is not
/// judged — the user's suite may hold tests slower than the sandbox allows; passes are evidence.
fn user_tests(subject: Subject<'_>, ev: &FunctionEvidence, verdict: &mut Verdict) {
    let ran: Vec<&TestResult> = ev.user_tests.iter().filter(|t| t.outcome != TestOutcome::Skipped).collect();
    if ran.is_empty() {
        return;
    }
    let range = subject.function.name_range;
    let mut passed = 0;
    for t in &ran {
        let (kind, severity, message) = match t.outcome {
            TestOutcome::Passed => {
                passed += 1;
                continue;
            }
            TestOutcome::Failed => {
                (FindingKind::UserTestFailed, Severity::Error, format!("`{}` failed{}", t.name, first_error(&t.report)))
            }
            TestOutcome::Error => (
                FindingKind::UserTestFailed,
                Severity::Error,
                format!("`{}` could not run: its setup or teardown failed{}", t.name, first_error(&t.report)),
            ),
            TestOutcome::Unsupported => (
                FindingKind::ExampleUnresolved,
                Severity::Information,
                format!("`{}` {}; it was not judged", t.name, t.report.lines().next().unwrap_or("could not run here")),
            ),
            TestOutcome::Stopped | TestOutcome::Skipped => (
                FindingKind::ExampleUnresolved,
                Severity::Information,
                format!("`{}` did not finish in the sandbox; it was not judged", t.name),
            ),
        };
        verdict.findings.push(Finding { kind, severity, message, range, feedback: t.report.clone() });
    }
    verdict.evidence.user_tests = ran.len() as u32;
    if verdict.findings.iter().any(|f| f.severity == Severity::Error) {
        verdict.status = Status::Failing;
    } else if passed > 0 && verdict.status == Status::Unverified {
        verdict.status = Status::Passing;
    }
}

/// The user's tests that ran this function (recorded by the sandbox, from any test file): evidence,
/// not proof. Passing tests make an unverified function passing; a failing one is a hint on the
/// function — the test may have failed in another function it called, so never a warning here (the
/// error is on the test itself).
pub fn exercised_by(function: &Function, tests: &[Exercise], verdict: &mut Verdict) {
    let ran: Vec<&Exercise> = tests.iter().filter(|t| t.outcome.judged()).collect();
    if ran.is_empty() {
        return;
    }
    verdict.evidence.user_tests += ran.len() as u32;
    let failing: Vec<&&Exercise> = ran.iter().filter(|t| t.outcome != TestOutcome::Passed).collect();
    if let Some(first) = failing.first() {
        let more = match failing.len() {
            1 => String::new(),
            n => format!(" (and {} more)", n - 1),
        };
        let at = first.line.map_or_else(|| first.file.clone(), |l| format!("{}:{}", first.file, l + 1));
        let summary = if first.summary.is_empty() { String::new() } else { format!(": {}", first.summary) };
        verdict.findings.push(Finding {
            kind: FindingKind::UserTestFailed,
            severity: Severity::Hint,
            message: format!("`{}` ({at}) ran this function and failed{summary}{more}", first.test),
            range: function.name_range,
            feedback: String::new(),
        });
    } else if verdict.status == Status::Unverified {
        verdict.status = Status::Passing;
    }
}

/// pytest's first `E ` line (`assert 4 == 5`), after a colon; empty when there is none.
fn first_error(report: &str) -> String {
    let line = first_error_line(report);
    if line.is_empty() { line } else { format!(": {line}") }
}

/// pytest's first `E ` line of a report (`assert 4 == 5`), clipped; empty when there is none.
pub fn first_error_line(report: &str) -> String {
    report
        .lines()
        .find_map(|l| l.strip_prefix("E ").map(str::trim))
        .filter(|l| !l.is_empty())
        .map(|l| super::feedback::clip(l, 100))
        .unwrap_or_default()
}

/// A cell where the code ran and raised nothing.
fn ran_clean(outcome: Option<&Outcome>) -> bool {
    matches!(outcome, Some(Outcome::Ran(r)) if r.exception.is_none())
}

/// The behaviours of a row on consecutive columns, up to the first that did not run.
fn behaviours(cells: &[Option<Outcome>]) -> Vec<Behaviour> {
    cells.iter().map_while(Option::as_ref).map(Behaviour::of).collect()
}

/// The matrix read as the consensus sees it.
struct Analysis {
    runs: Vec<CandidateRun>,
    /// Per candidate, per example column: passed.
    example_passed: Vec<Vec<bool>>,
    consensus: Option<Consensus>,
}

fn analyse(subject: Subject<'_>, ev: &FunctionEvidence, p: &Proposals, user_passed: &[bool]) -> Analysis {
    let n_tests = p.tests.len();
    let mut runs = Vec::new();
    let mut example_passed = Vec::new();
    for cells in &ev.candidates {
        let loaded = ran_clean(cells.definition.as_ref()) && cells.tests.iter().all(Option::is_some);
        let tests: Vec<bool> = (0..n_tests).map(|t| ran_clean(cells.tests.get(t).and_then(Option::as_ref))).collect();
        let present = cells.examples.iter().all(Option::is_some);
        let passed: Vec<bool> = (0..ev.examples.len())
            .map(|k| present && matches!(example_verdict(subject, ev, k, cells), ExampleVerdict::Passed))
            .collect();
        let examples_ok = present && passed.iter().zip(user_passed).all(|(&ok, &user_ok)| ok || !user_ok);
        example_passed.push(passed);
        runs.push(CandidateRun { loaded, tests, examples_ok, inputs: behaviours(&cells.inputs) });
    }
    let consensus = matrix::consensus(&runs);
    Analysis { runs, example_passed, consensus }
}

/// The smallest differential input on which the user's function and the consensus disagree, then
/// each shrinking round's accepted smaller input, as far as the rounds go. The second value says
/// whether the last round found a smaller one (so another round may).
fn counterexample(ev: &FunctionEvidence, a: &Analysis, c: &Consensus) -> Option<(Args, Behaviour, String, bool)> {
    let user_inputs = behaviours(&ev.user.inputs);
    let mut best: Option<(Args, Behaviour, String)> = None;
    for (i, args) in ev.inputs.iter().enumerate() {
        let Some(expected) = matrix::consensus_value(&a.runs, &c.members, i) else { continue };
        let Some(user) = user_inputs.get(i) else { continue };
        if *user != Behaviour::Returned(expected.to_string())
            && best.as_ref().is_none_or(|(b, _, _)| args.size() < b.size())
        {
            best = Some((args.clone(), user.clone(), expected.to_string()));
        }
    }
    let (mut args, mut user, mut expected) = best?;
    let mut progressing = true;
    for round in &ev.shrinks {
        match accepted(round) {
            Some((j, u, v)) => {
                args = round.inputs[j].clone();
                user = u;
                expected = v;
            }
            None => {
                progressing = false;
                break;
            }
        }
    }
    Some((args, user, expected, progressing))
}

/// The first smaller input of a round on which every member returns the same value and the user's
/// function does something else (REFUTE's validity: the spec, as the candidates read it, covers it).
fn accepted(round: &ShrinkRound) -> Option<(usize, Behaviour, String)> {
    (0..round.inputs.len()).find_map(|j| {
        let mut value: Option<String> = None;
        for m in 0..round.members.len() {
            match round.candidates.get(m).and_then(|row| row.get(j)).and_then(Option::as_ref).map(Behaviour::of) {
                Some(Behaviour::Returned(v)) if value.as_ref().is_none_or(|w| *w == v) => value = Some(v),
                _ => return None,
            }
        }
        let value = value?;
        if round.members.is_empty() {
            return None;
        }
        let user = round.user.get(j).and_then(Option::as_ref).map(Behaviour::of)?;
        (user != Behaviour::Returned(value.clone())).then_some((j, user, value))
    })
}

/// The next shrinking round to run (its inputs and the consensus members to run them on; the
/// outcome cells empty), or `None` when the counterexample is as small as it will get.
pub fn next_shrink(subject: Subject<'_>, ev: &FunctionEvidence) -> Option<ShrinkRound> {
    let p = ev.proposals.as_ref()?;
    if ev.shrinks.len() >= SHRINK_ROUNDS {
        return None;
    }
    let user_passed: Vec<bool> = (0..ev.examples.len())
        .map(|k| matches!(example_verdict(subject, ev, k, &ev.user), ExampleVerdict::Passed))
        .collect();
    let a = analyse(subject, ev, p, &user_passed);
    let c = a.consensus.as_ref().filter(|c| voice(ev, p, c) > Voice::Silent)?;
    let (args, _, _, progressing) = counterexample(ev, &a, c)?;
    if !progressing {
        return None;
    }
    let smaller = inputs::shrink(&args, SHRINK_WIDTH);
    if smaller.is_empty() {
        return None;
    }
    Some(ShrinkRound { inputs: smaller, members: c.members.clone(), user: Vec::new(), candidates: Vec::new() })
}

/// How far a consensus may speak against the function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Voice {
    Silent,
    /// Hints only.
    Hint,
    /// As its [`Strength`] allows.
    Full,
}

/// CodeT's dual agreement, read as a skeptic: a consensus speaks against the function only when
/// generated tests support it, and never when the function passes more of them than the
/// consensus does (two identical wrong candidates passing 3 of 10 tests say nothing against a
/// function passing 10). On a tie (the tests cannot tell them apart, only the differential inputs
/// can), only a decisive consensus speaks fully; a lesser one gives hints.
fn voice(ev: &FunctionEvidence, p: &Proposals, c: &Consensus) -> Voice {
    let user_passes = (0..p.tests.len()).filter(|&t| ran_clean(ev.user.tests.get(t).and_then(Option::as_ref))).count();
    if c.tests.is_empty() || user_passes > c.tests.len() {
        Voice::Silent
    } else if user_passes < c.tests.len() || c.strength() == Strength::Decisive {
        Voice::Full
    } else {
        Voice::Hint
    }
}

/// What the model's evidence adds to a verdict.
#[derive(Default)]
struct ModelJudgement {
    findings: Vec<Finding>,
    parts: Parts,
    fix: Option<Fix>,
    counterexample_test: Option<String>,
    candidates: Vec<CandidateResult>,
}

/// Reads the matrix, finds the consensus, makes example failures a decisive consensus shares
/// `example_suspect`, and writes the counterexample and failing-test findings.
fn model_judgement(
    subject: Subject<'_>,
    ev: &FunctionEvidence,
    p: &Proposals,
    verdicts: &mut [ExampleVerdict],
) -> ModelJudgement {
    let function = subject.function;
    let user_passed: Vec<bool> = verdicts.iter().map(|v| matches!(v, ExampleVerdict::Passed)).collect();
    let a = analyse(subject, ev, p, &user_passed);
    let mut out = ModelJudgement { parts: Parts { p_true: p.p_true, ..Parts::default() }, ..ModelJudgement::default() };
    let Some(c) = a.consensus.as_ref() else { return out };
    let user_tests: Vec<&Outcome> = ev.user.tests.iter().map_while(Option::as_ref).collect();
    if c.tests.is_empty() {
        return out;
    }
    let voice = voice(ev, p, c);
    let speaks = voice > Voice::Silent;
    out.parts.agreement = Some(c.members.len() as f64 / c.total.max(1) as f64);
    out.parts.codet_score = Some(c.score);
    if !c.tests.is_empty() {
        let passed = c.tests.iter().filter(|&&t| ran_clean(user_tests.get(t).copied())).count();
        out.parts.tests_passed = Some(passed as f64 / c.tests.len() as f64);
    }

    // An example the user's function fails in the same way as a decisive consensus: suspect the example.
    for (k, verdict) in verdicts.iter_mut().enumerate() {
        let ExampleVerdict::Failed(f) = verdict else { continue };
        if c.strength() < Strength::Decisive || f.kind != FindingKind::ExampleFailed {
            continue;
        }
        let Some(user) = ev.user.examples.get(k).and_then(Option::as_ref).map(Behaviour::of) else { continue };
        let members = c
            .members
            .iter()
            .filter(|&&m| {
                ev.candidates[m].examples.get(k).and_then(Option::as_ref).map(Behaviour::of).as_ref() == Some(&user)
            })
            .count();
        if members == c.members.len() {
            // The whole example, a newline inside it shown as `\n` (not cut there).
            let call = super::feedback::clip(&function.examples[ev.examples[k]].source.trim().replace('\n', "\\n"), 80);
            *verdict = ExampleVerdict::Unresolved(Finding {
                kind: FindingKind::ExampleSuspect,
                severity: Severity::Warning,
                message: format!(
                    "the example looks wrong: `{call}` gives the same here and in {members} of {} candidate solutions, not what the example expects",
                    c.total
                ),
                range: f.range,
                feedback: f.feedback.clone(),
            });
        }
    }

    let cx = counterexample(ev, &a, c).filter(|_| speaks).map(|(args, user, expected, _)| Counterexample {
        call: args.call(&function.name),
        user,
        expected,
        agreeing: c.members.len(),
        total: c.total,
        tests: c.tests.len(),
    });
    if let Some(found) = &cx {
        out.parts.counterexample = true;
        // The test must be valid Python: a call that displays nothing returned None.
        out.counterexample_test = Some(if found.expected.is_empty() {
            format!("assert {} is None", found.call)
        } else {
            format!("assert {} == {}", found.call, found.expected)
        });
    }
    let facts = matrix::ModelFacts {
        range: function.name_range,
        tests: &p.tests,
        user_tests: &user_tests,
        consensus: c,
        counterexample: cx.as_ref(),
    };
    if speaks {
        out.findings = matrix::model_findings(&facts);
    }
    if voice == Voice::Hint {
        for f in &mut out.findings {
            f.severity = Severity::Hint;
        }
    }
    out.fix = (!out.findings.is_empty()).then(|| Fix {
        source: p.candidates[c.members[0]].clone(),
        passes: c.tests.len(),
        of: p.tests.len(),
    });
    for (k, cells) in ev.candidates.iter().enumerate() {
        if !a.runs[k].loaded {
            continue;
        }
        let mut results = Vec::new();
        for j in 0..ev.examples.len() {
            if let (Some(Some(_)), Some(&passed)) = (cells.examples.get(j), a.example_passed[k].get(j)) {
                results.push((Column::Example(j), passed));
            }
        }
        for &t in &c.tests {
            let Some(outcome) = cells.tests.get(t).and_then(Option::as_ref) else { continue };
            results.push((Column::Test(t), ran_clean(Some(outcome))));
        }
        out.candidates.push(CandidateResult { candidate: k, results });
    }
    out
}

/// Judges one function from its evidence.
pub fn judge(subject: Subject<'_>, ev: &FunctionEvidence, calibration: &Calibration) -> Judgement {
    let mut examples: Vec<ExampleVerdict> =
        (0..ev.examples.len()).map(|k| example_verdict(subject, ev, k, &ev.user)).collect();
    after_unresolved(subject, ev, &mut examples);
    let mut verdicts = examples.clone();
    let mut extra: Vec<Finding> = ev
        .syntax_issues
        .iter()
        .map(|i| Finding {
            kind: FindingKind::SyntaxError,
            severity: Severity::Error,
            message: i.message.clone(),
            range: i.range,
            feedback: format!("SyntaxError: {}\n", i.message.trim_start_matches("syntax error: ")),
        })
        .collect();
    let mut model = ModelJudgement::default();
    if let Some(p) = &ev.proposals {
        model = model_judgement(subject, ev, p, &mut verdicts);
        extra.append(&mut model.findings);
        // Raising on the examples' neighbours, where the body raises nothing of the kind on purpose.
        model.parts.neighbour_raises = matrix::unintended_raises(&behaviours(&ev.user.inputs), subject.source);
    }
    let mut parts = model.parts;
    parts.examples_passed = verdicts.iter().filter(|v| matches!(v, ExampleVerdict::Passed)).count() as u32;
    let mut verdict = judge_examples(verdicts, extra);
    user_tests(subject, ev, &mut verdict);
    parts.verified_failure = verdict.findings.iter().any(|f| f.severity == Severity::Error);
    // No examples, but the consensus's tests all pass and nothing was found: evidence too.
    if verdict.status == Status::Unverified
        && parts.tests_passed == Some(1.0)
        && !verdict.findings.iter().any(|f| f.severity <= Severity::Warning)
    {
        verdict.status = Status::Passing;
    }
    if let Some(p) = &ev.proposals {
        verdict.evidence.generated_tests = p.tests.len() as u32;
        verdict.evidence.candidates = p.candidates.len() as u32;
        verdict.evidence.model = Some(p.model.clone());
    }
    verdict.fix = model.fix;
    verdict.counterexample_test = model.counterexample_test;
    if verdict.evidence.examples > 0 || verdict.evidence.model.is_some() || parts.verified_failure {
        verdict.confidence = Some(calibration.probability(&parts));
        verdict.parts = Some(parts);
    }
    Judgement { verdict, examples, candidates: model.candidates }
}
