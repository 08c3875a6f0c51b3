//! Running model evidence: the user's function and every candidate against every generated test,
//! every docstring example and every differential input (one sandbox run with the examples), then
//! shrinking a disagreement in a few more runs. The judge decides; this module only arranges runs.

use crate::judge::inputs::{self, Args};
use crate::judge::matrix::{self, Behaviour, CandidateRun, Counterexample};
use crate::judge::{ExampleVerdict, Finding, FindingKind, Severity};
use crate::sandbox::{Case, CaseKind, Group, Outcome, Report};
use crate::syntax::Function;

use super::Generated;

/// Differential inputs per function.
const MAX_INPUTS: usize = 40;
/// Shrinking: rounds, and smaller inputs tried per round.
const SHRINK_ROUNDS: usize = 8;
const SHRINK_WIDTH: usize = 24;

/// Where a function's model evidence sits in the program.
pub(super) struct ModelSlot {
    pub(super) tests_group: usize,
    pub(super) inputs_group: usize,
    pub(super) candidate_groups: Vec<usize>,
    pub(super) inputs: Vec<Args>,
}

fn call_case(call: String, line: u32) -> Case {
    Case { kind: CaseKind::Example { want: String::new(), options: Vec::new() }, source: format!("{call}\n"), line }
}

fn assert_case(source: &str, line: u32) -> Case {
    Case { kind: CaseKind::Assert, source: format!("{}\n", source.trim_end()), line }
}

/// The differential inputs: arguments of the examples' and tests' calls and their mutations, or
/// inputs made from type hints when there are none.
fn differential_inputs(function: &Function, generated: &Generated) -> Vec<Args> {
    let mut seeds: Vec<Args> = Vec::new();
    let sources = function.examples.iter().map(|e| e.source.as_str()).chain(generated.tests.iter().map(String::as_str));
    for source in sources {
        for a in inputs::calls_in(source, &function.name) {
            if !seeds.contains(&a) {
                seeds.push(a);
            }
        }
    }
    if seeds.is_empty() {
        seeds = inputs::from_hints(&function.signature);
    }
    inputs::mutate(&seeds, MAX_INPUTS)
}

/// Adds the groups for one function: the user's function on the tests and on the inputs, then one
/// group per candidate (its definition, the tests, the examples, the inputs).
pub(super) fn add_groups(
    groups: &mut Vec<Group>,
    function: &Function,
    examples: &[usize],
    generated: &Generated,
) -> ModelSlot {
    let line = function.examples.first().map(|e| e.line).unwrap_or(0);
    let inputs = differential_inputs(function, generated);
    let calls: Vec<Case> = inputs.iter().map(|a| call_case(a.call(&function.name), line)).collect();
    let tests: Vec<Case> = generated.tests.iter().map(|t| assert_case(t, line)).collect();
    groups.push(Group { cases: tests.clone() });
    let tests_group = groups.len() - 1;
    groups.push(Group { cases: calls.clone() });
    let inputs_group = groups.len() - 1;
    let mut candidate_groups = Vec::new();
    for candidate in &generated.candidates {
        let mut cases = vec![assert_case(candidate, 0)];
        cases.extend(tests.iter().cloned());
        cases.extend(examples.iter().map(|&e| {
            let ex = &function.examples[e];
            Case {
                kind: CaseKind::Example { want: ex.want.clone(), options: ex.options.clone() },
                source: ex.source.clone(),
                line: ex.line,
            }
        }));
        cases.extend(calls.iter().cloned());
        groups.push(Group { cases });
        candidate_groups.push(groups.len() - 1);
    }
    ModelSlot { tests_group, inputs_group, candidate_groups, inputs }
}

/// A test (example or surviving generated test), a candidate's outcome on it, and whether it passed.
pub(super) type TestResult = (crate::store::TestRecord, Outcome, bool);

/// What came of a function's model evidence.
pub(super) struct Judged {
    pub(super) findings: Vec<Finding>,
    pub(super) parts: matrix::Parts,
    pub(super) fix: Option<crate::judge::Fix>,
    pub(super) counterexample_test: Option<String>,
    /// Each loaded candidate against the examples and the surviving tests (PLUM's records).
    pub(super) candidate_results: Vec<(String, Vec<TestResult>)>,
}

/// Reads the matrix, finds the consensus, turns example failures the consensus shares into
/// `example_suspect`, searches and shrinks a counterexample, and writes the findings.
#[allow(clippy::too_many_arguments)]
pub(super) fn judge(
    filename: &str,
    function: &Function,
    examples: &[usize],
    verdicts: &mut [ExampleVerdict],
    example_outcomes: &[Outcome],
    generated: &Generated,
    slot: &ModelSlot,
    report: &Report,
    rerun: &mut dyn FnMut(Vec<Group>) -> Report,
) -> Judged {
    let outcomes = |group: usize| report.outcomes.get(group).map(Vec::as_slice).unwrap_or(&[]);
    let n_tests = generated.tests.len();
    let user_tests: Vec<&Outcome> = outcomes(slot.tests_group).iter().collect();
    let user_inputs: Vec<Behaviour> = outcomes(slot.inputs_group).iter().map(Behaviour::of).collect();
    let user_passed: Vec<bool> = verdicts.iter().map(|v| matches!(v, ExampleVerdict::Passed)).collect();
    let mut runs = Vec::new();
    let mut example_behaviour: Vec<Vec<Behaviour>> = Vec::new();
    // Per candidate, per example: passed (judged once, for the consensus and for the records).
    let mut example_passed: Vec<Vec<bool>> = Vec::new();
    for &g in &slot.candidate_groups {
        let o = outcomes(g);
        let loaded = o.first().is_some_and(|d| matches!(d, Outcome::Ran(r) if r.exception.is_none()));
        let tests: Vec<bool> = (0..n_tests)
            .map(|t| o.get(1 + t).is_some_and(|x| matches!(x, Outcome::Ran(r) if r.exception.is_none())))
            .collect();
        let ex_outcomes = o.get(1 + n_tests..1 + n_tests + examples.len()).unwrap_or(&[]);
        let passed: Vec<bool> = examples
            .iter()
            .zip(ex_outcomes)
            .map(|(&e, outcome)| {
                matches!(
                    crate::judge::judge_example(filename, &function.name, &function.examples[e], outcome),
                    ExampleVerdict::Passed
                )
            })
            .collect();
        let examples_ok = ex_outcomes.len() == examples.len()
            && passed.iter().zip(&user_passed).all(|(&ok, &user_ok)| ok || !user_ok);
        example_passed.push(passed);
        example_behaviour.push(ex_outcomes.iter().map(Behaviour::of).collect());
        let inputs = o.get(1 + n_tests + examples.len()..).unwrap_or(&[]).iter().map(Behaviour::of).collect();
        runs.push(CandidateRun { loaded: loaded && o.len() > n_tests, tests, examples_ok, inputs });
    }
    let consensus = matrix::consensus(&runs);
    let mut parts = matrix::Parts { p_true: generated.p_true, ..matrix::Parts::default() };
    let mut findings = Vec::new();
    let Some(c) = consensus.clone() else {
        return Judged { findings, parts, fix: None, counterexample_test: None, candidate_results: Vec::new() };
    };
    parts.agreement = Some(c.members.len() as f64 / c.total.max(1) as f64);
    parts.codet_score = Some(c.score);
    if !c.tests.is_empty() {
        let passed = c
            .tests
            .iter()
            .filter(|&&t| user_tests.get(t).is_some_and(|o| matches!(o, Outcome::Ran(r) if r.exception.is_none())))
            .count();
        parts.tests_passed = Some(passed as f64 / c.tests.len() as f64);
    }
    let strong = c.members.len() >= 3 && c.members.len() * 2 >= c.eligible;

    // An example the user's function fails in the same way as a strong consensus: suspect the example.
    for (k, verdict) in verdicts.iter_mut().enumerate() {
        let ExampleVerdict::Failed(f) = verdict else { continue };
        if !strong || f.kind != FindingKind::ExampleFailed {
            continue;
        }
        let Some(user) = example_outcomes.get(k).map(Behaviour::of) else { continue };
        let members = c.members.iter().filter(|&&m| example_behaviour[m].get(k) == Some(&user)).count();
        if members == c.members.len() {
            let call = crate::judge::first_line(&function.examples[examples[k]].source);
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

    // Differential search, then shrinking.
    let mut counterexample_test = None;
    let mut best: Option<(Args, Behaviour, String)> = None;
    for (i, args) in slot.inputs.iter().enumerate() {
        let Some(expected) = matrix::consensus_value(&runs, &c.members, i) else { continue };
        let Some(user) = user_inputs.get(i) else { continue };
        if *user != Behaviour::Returned(expected.to_string())
            && best.as_ref().is_none_or(|(b, _, _)| args.size() < b.size())
        {
            best = Some((args.clone(), user.clone(), expected.to_string()));
        }
    }
    let mut cx = None;
    if let Some((mut args, mut user, mut expected)) = best {
        for _ in 0..SHRINK_ROUNDS {
            let smaller = inputs::shrink(&args, SHRINK_WIDTH);
            if smaller.is_empty() {
                break;
            }
            let calls: Vec<Case> = smaller.iter().map(|a| call_case(a.call(&function.name), 0)).collect();
            let mut groups = vec![Group { cases: calls.clone() }];
            for &m in &c.members {
                let mut cases = vec![assert_case(&generated.candidates[m], 0)];
                cases.extend(calls.iter().cloned());
                groups.push(Group { cases });
            }
            let r = rerun(groups);
            let got = |g: usize, j: usize| r.outcomes.get(g).and_then(|o| o.get(j)).map(Behaviour::of);
            let found = (0..smaller.len()).find_map(|j| {
                let mut value: Option<String> = None;
                for g in 1..=c.members.len() {
                    match got(g, j + 1) {
                        Some(Behaviour::Returned(v)) if value.as_ref().is_none_or(|w| *w == v) => value = Some(v),
                        _ => return None,
                    }
                }
                let value = value?;
                let u = got(0, j)?;
                (u != Behaviour::Returned(value.clone())).then_some((j, u, value))
            });
            match found {
                Some((j, u, v)) => {
                    args = smaller[j].clone();
                    user = u;
                    expected = v;
                }
                None => break,
            }
        }
        let found = Counterexample {
            call: args.call(&function.name),
            user,
            expected,
            agreeing: c.members.len(),
            total: c.total,
            tests: c.tests.len(),
        };
        parts.counterexample = true;
        counterexample_test = Some(format!("assert {} == {}", found.call, found.expected));
        cx = Some(found);
    }
    let facts = matrix::ModelFacts {
        function: &function.name,
        range: function.name_range,
        tests: &generated.tests,
        user_tests: &user_tests,
        candidates: &runs,
        consensus: Some(&c),
        counterexample: cx.as_ref(),
    };
    findings.extend(matrix::model_findings(&facts));
    let fix = (!findings.is_empty()).then(|| crate::judge::Fix {
        source: generated.candidates[c.members[0]].clone(),
        passes: c.tests.len(),
        of: n_tests,
    });
    let mut candidate_results = Vec::new();
    for (k, &g) in slot.candidate_groups.iter().enumerate() {
        let o = outcomes(g);
        if !runs[k].loaded {
            continue;
        }
        let mut results = Vec::new();
        for (j, &e) in examples.iter().enumerate() {
            let (ex, Some(outcome), Some(&passed)) =
                (&function.examples[e], o.get(1 + n_tests + j), example_passed[k].get(j))
            else {
                continue;
            };
            let test = crate::store::TestRecord {
                kind: "example".into(),
                source: ex.source.clone(),
                expected: ex.want.clone(),
                line: ex.line,
            };
            results.push((test, outcome.clone(), passed));
        }
        for &t in &c.tests {
            let Some(outcome) = o.get(1 + t) else { continue };
            let passed = matches!(outcome, Outcome::Ran(r) if r.exception.is_none());
            let test = crate::store::TestRecord {
                kind: "generated".into(),
                source: generated.tests[t].clone(),
                expected: String::new(),
                line: 0,
            };
            results.push((test, outcome.clone(), passed));
        }
        candidate_results.push((generated.candidates[k].clone(), results));
    }
    Judged { findings, parts, fix, counterexample_test, candidate_results }
}
