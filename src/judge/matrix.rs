//! The execution matrix (CodeT dual agreement), counterexamples and the confidence that a function
//! is correct. Pure: it reads what the sandbox observed, handed in by the engine.

use serde::Serialize;

use super::{Finding, FindingKind, Severity, feedback};
use crate::evidence::Outcome;
use crate::syntax::TextRange;

/// What a piece of code did on one call.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Behaviour {
    /// Returned normally; the text is what it displayed (the value's repr, after anything printed).
    Returned(String),
    Raised(String),
    /// Timeout, memory, stack, crash, cancelled.
    Stopped(String),
}

impl Behaviour {
    pub fn of(outcome: &Outcome) -> Behaviour {
        match outcome {
            Outcome::Ran(ran) => match &ran.exception {
                None => Behaviour::Returned(ran.stdout.trim_end().to_string()),
                Some(e) => Behaviour::Raised(e.exc_type.clone()),
            },
            other => Behaviour::Stopped(format!("{:?}", other.class())),
        }
    }

    fn describe(&self) -> String {
        match self {
            Behaviour::Returned(v) if v.is_empty() => "returns None".into(),
            Behaviour::Returned(v) => format!("returns {}", feedback::clip(v, 80)),
            Behaviour::Raised(e) => format!("raises {e}"),
            Behaviour::Stopped(why) => format!("does not finish ({why})"),
        }
    }
}

/// One candidate solution's row of the matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct CandidateRun {
    /// Its definition ran (it parsed and its imports resolved).
    pub loaded: bool,
    /// Per generated test: passed.
    pub tests: Vec<bool>,
    /// It passes every docstring example the user's function passes.
    pub examples_ok: bool,
    /// Per differential input.
    pub inputs: Vec<Behaviour>,
}

/// CodeT's best group: candidates passing exactly the same tests, scored
/// `tests passed × sqrt(candidates)`. Only candidates that load and pass the docstring's examples
/// (where the user's function passes them) take part: the examples are ground truth.
#[derive(Debug, Clone, PartialEq)]
pub struct Consensus {
    pub members: Vec<usize>,
    /// The tests the group passes: the surviving tests (the rest are discarded as wrong).
    pub tests: Vec<usize>,
    pub score: f64,
    /// Candidates that loaded and passed the examples.
    pub eligible: usize,
    pub total: usize,
}

/// How much a consensus may say. The one rule: a consensus is `Strong` when it holds at least half
/// of the eligible candidates (and at least two), `Decisive` when it is strong with three members
/// or more; `Weak` otherwise. Its findings are warnings when strong, hints when weak; only a
/// decisive one may call the user's own example wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Strength {
    Weak,
    Strong,
    Decisive,
}

impl Consensus {
    pub fn strength(&self) -> Strength {
        let members = self.members.len();
        if members * 2 < self.eligible.max(2) {
            Strength::Weak
        } else if members >= 3 {
            Strength::Decisive
        } else {
            Strength::Strong
        }
    }
}

pub fn consensus(candidates: &[CandidateRun]) -> Option<Consensus> {
    let eligible: Vec<usize> =
        (0..candidates.len()).filter(|&i| candidates[i].loaded && candidates[i].examples_ok).collect();
    let mut groups: Vec<(Vec<bool>, Vec<usize>)> = Vec::new();
    for &i in &eligible {
        // Without tests, candidates are grouped by what they return on the inputs instead.
        let key: Vec<bool> = candidates[i].tests.clone();
        match groups
            .iter_mut()
            .find(|(k, m)| *k == key && same_inputs(&candidates[m[0]], &candidates[i], key.is_empty()))
        {
            Some((_, members)) => members.push(i),
            None => groups.push((key, vec![i])),
        }
    }
    let score = |(key, members): &(Vec<bool>, Vec<usize>)| {
        let passed = key.iter().filter(|p| **p).count() as f64;
        // With no passed tests at all, agreement alone still counts a little.
        (passed.max(0.5)) * (members.len() as f64).sqrt()
    };
    let best = groups.iter().max_by(|a, b| score(a).total_cmp(&score(b)).then(b.1[0].cmp(&a.1[0])))?;
    if best.1.len() < 2 {
        return None;
    }
    Some(Consensus {
        members: best.1.clone(),
        tests: best.0.iter().enumerate().filter(|(_, p)| **p).map(|(i, _)| i).collect(),
        score: score(best),
        eligible: eligible.len(),
        total: candidates.len(),
    })
}

fn same_inputs(a: &CandidateRun, b: &CandidateRun, required: bool) -> bool {
    !required || a.inputs == b.inputs
}

/// The value every consensus member returns on input `i`, if they all return the same one
/// (the input is then valid: the spec, as the candidates read it, covers it).
pub fn consensus_value<'a>(candidates: &'a [CandidateRun], members: &[usize], i: usize) -> Option<&'a str> {
    let mut value = None;
    for &m in members {
        match candidates[m].inputs.get(i) {
            Some(Behaviour::Returned(v)) if value.is_none_or(|w| w == v.as_str()) => value = Some(v.as_str()),
            _ => return None,
        }
    }
    value
}

/// An input, shrunk, on which the user's function and the consensus disagree.
#[derive(Debug, Clone, PartialEq)]
pub struct Counterexample {
    /// `f([3, 1])`.
    pub call: String,
    pub user: Behaviour,
    pub expected: String,
    /// Candidates in the consensus that agree on it, of all candidates.
    pub agreeing: usize,
    pub total: usize,
    /// Tests the consensus passes.
    pub tests: usize,
}

/// The named parts of the confidence, shown in findings' data and the JSON.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Parts {
    /// A failing example (or crash) was executed: hard evidence.
    pub verified_failure: bool,
    pub examples_passed: u32,
    /// Share of the surviving generated tests the user's function passes.
    pub tests_passed: Option<f64>,
    /// Consensus members / all candidates, and CodeT's score.
    pub agreement: Option<f64>,
    pub codet_score: Option<f64>,
    pub counterexample: bool,
    /// The model's P(True) for the function.
    pub p_true: Option<f64>,
    /// Share of the differential inputs (neighbours of the examples' arguments) on which the
    /// function raises an exception it does not raise on purpose (`raise X` in its body).
    pub neighbour_raises: Option<f64>,
}

/// The share of `behaviours` that raise an exception `source` does not raise itself, or stop.
pub fn unintended_raises(behaviours: &[Behaviour], source: &str) -> Option<f64> {
    if behaviours.is_empty() {
        return None;
    }
    let unintended = behaviours
        .iter()
        .filter(|b| match b {
            Behaviour::Raised(e) => !source.contains(&format!("raise {e}")),
            Behaviour::Stopped(_) => true,
            Behaviour::Returned(_) => false,
        })
        .count();
    Some(unintended as f64 / behaviours.len() as f64)
}

/// The calibration map: Platt scaling (logistic regression) over features of the parts, fitted by
/// `plumb eval --fit` on the labelled set and kept, versioned, in `calibration.json`.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, Serialize)]
pub struct Calibration {
    pub version: String,
    pub features: Vec<String>,
    pub weights: Vec<f64>,
    pub bias: f64,
    #[serde(default)]
    pub fitted_on: String,
}

pub const FEATURES: [&str; 8] = [
    "verified_failure",
    "log_examples_passed",
    "counterexample",
    "tests_failed",
    "agreement",
    "p_true",
    "no_evidence",
    "neighbour_raises",
];

impl Parts {
    pub fn features(&self) -> [f64; 8] {
        let no_evidence = self.examples_passed == 0 && self.tests_passed.is_none() && self.agreement.is_none();
        [
            f64::from(u8::from(self.verified_failure)),
            (1.0 + f64::from(self.examples_passed)).ln(),
            f64::from(u8::from(self.counterexample)),
            self.tests_passed.map(|p| 1.0 - p).unwrap_or(0.0),
            // Support: a consensus the function agrees with (no counterexample, every surviving
            // test passed, nothing failing).
            self.agreement
                .filter(|_| {
                    !self.counterexample && !self.verified_failure && self.tests_passed.is_none_or(|t| t >= 1.0)
                })
                .unwrap_or(0.0),
            self.p_true.map(|p| p - 0.5).unwrap_or(0.0),
            f64::from(u8::from(no_evidence)),
            self.neighbour_raises.unwrap_or(0.0),
        ]
    }
}

impl Calibration {
    /// The map compiled into plumb.
    /// The map compiled into plumb, parsed once per process (it is read on every check).
    pub fn builtin() -> &'static Calibration {
        static MAP: std::sync::OnceLock<Calibration> = std::sync::OnceLock::new();
        MAP.get_or_init(|| {
            serde_json::from_str(include_str!("calibration.json")).unwrap_or_else(|_| Calibration {
                version: "fallback".into(),
                features: FEATURES.iter().map(|s| s.to_string()).collect(),
                weights: vec![-6.0, 0.8, -2.5, -2.0, 0.5, 1.0, 0.0, -2.0],
                bias: 0.0,
                fitted_on: String::new(),
            })
        })
    }

    pub fn probability(&self, parts: &Parts) -> f64 {
        let z = self.bias + self.weights.iter().zip(parts.features()).map(|(w, x)| w * x).sum::<f64>();
        1.0 / (1.0 + (-z).exp())
    }

    /// Logistic regression by gradient descent, labels 1 = correct, with a Gaussian prior centred
    /// on `prior`'s weights (MAP): a feature the labelled set never exercises keeps its prior
    /// weight instead of collapsing to zero.
    pub fn fit(samples: &[([f64; 8], bool)], prior: &Calibration, version: &str, fitted_on: &str) -> Calibration {
        let w0: Vec<f64> = (0..FEATURES.len()).map(|k| prior.weights.get(k).copied().unwrap_or(0.0)).collect();
        let mut w = [0.0f64; 8];
        w.copy_from_slice(&w0);
        let mut b = prior.bias;
        let n = samples.len().max(1) as f64;
        for _ in 0..4000 {
            let mut gw = [0.0f64; 8];
            let mut gb = 0.0;
            for (x, y) in samples {
                let z = b + w.iter().zip(x).map(|(w, x)| w * x).sum::<f64>();
                let err = 1.0 / (1.0 + (-z).exp()) - f64::from(u8::from(*y));
                for k in 0..FEATURES.len() {
                    gw[k] += err * x[k];
                }
                gb += err;
            }
            for k in 0..FEATURES.len() {
                w[k] -= 0.5 * (gw[k] / n + 0.05 * (w[k] - w0[k]));
            }
            b -= 0.5 * gb / n;
        }
        Calibration {
            version: version.to_string(),
            features: FEATURES.iter().map(|s| s.to_string()).collect(),
            weights: w.iter().map(|v| (v * 1e4).round() / 1e4).collect(),
            bias: (b * 1e4).round() / 1e4,
            fitted_on: fitted_on.to_string(),
        }
    }
}

/// What the model's evidence says about one function.
pub struct ModelFacts<'a> {
    /// Where the findings go (the function's name).
    pub range: TextRange,
    pub tests: &'a [String],
    /// The user's function on each generated test.
    pub user_tests: &'a [&'a Outcome],
    pub consensus: &'a Consensus,
    pub counterexample: Option<&'a Counterexample>,
}

/// `test_failed` findings for surviving tests the user's function fails, and the counterexample.
/// Severity follows the [`Strength`] of the consensus: a warning when strong, else a hint.
pub fn model_findings(facts: &ModelFacts<'_>) -> Vec<Finding> {
    let c = facts.consensus;
    let severity = if c.strength() >= Strength::Strong { Severity::Warning } else { Severity::Hint };
    let mut out = Vec::new();
    if let Some(cx) = facts.counterexample {
        // A call that displays nothing returned None: say so, never an empty value.
        let expected = if cx.expected.is_empty() { "None" } else { cx.expected.as_str() };
        let message = format!(
            "`{}` {}; {} of {} candidate solutions{} say {}",
            cx.call,
            cx.user.describe(),
            cx.agreeing,
            cx.total,
            if cx.tests > 0 { format!(" and {} generated tests", cx.tests) } else { String::new() },
            feedback::clip(expected, 80)
        );
        let feedback = format!(
            "The code is not working correctly. Here is some feedback: {} {} but the consensus of {} candidate solutions returns {}.\n",
            cx.call,
            cx.user.describe(),
            cx.agreeing,
            expected
        );
        out.push(Finding { kind: FindingKind::Counterexample, severity, message, range: facts.range, feedback });
    }
    for &t in &c.tests {
        let Some(outcome) = facts.user_tests.get(t) else { continue };
        let passed = matches!(outcome, Outcome::Ran(r) if r.exception.is_none());
        if passed {
            continue;
        }
        let test = feedback::first_line(&facts.tests[t]);
        let (detail, traceback) = match outcome {
            Outcome::Ran(ran) => {
                let exc = ran.exception.as_ref();
                let detail = match (&ran.actual, &ran.expected) {
                    (Some(a), Some(e)) => format!("got {}, expected {}", feedback::clip(a, 60), feedback::clip(e, 60)),
                    _ => exc.map(|e| format!("raised {}", e.exc_type)).unwrap_or_default(),
                };
                (detail, exc.map(|e| e.traceback.clone()).unwrap_or_default())
            }
            other => (format!("{:?}", other.class()), String::new()),
        };
        out.push(Finding {
            kind: FindingKind::TestFailed,
            severity,
            message: format!(
                "generated test `{test}` fails ({detail}); {} of {} candidate solutions pass it",
                c.members.len(),
                c.total
            ),
            range: facts.range,
            feedback: format!(
                "The code is not working correctly. Here is some feedback: {}",
                feedback::neutralise(&traceback)
            ),
        });
        if out.len() >= 4 {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(tests: &[bool], inputs: &[&str]) -> CandidateRun {
        CandidateRun {
            loaded: true,
            tests: tests.to_vec(),
            examples_ok: true,
            inputs: inputs.iter().map(|v| Behaviour::Returned(v.to_string())).collect(),
        }
    }

    #[test]
    fn codet_groups_by_passed_tests_and_scores_by_sqrt_size() {
        // Three candidates pass tests {0,1}; one passes {0,1,2}; one passes nothing.
        // 2 × √3 ≈ 3.46 beats 3 × √1 = 3: the bigger group wins, test 2 is discarded as wrong.
        let c = vec![
            run(&[true, true, false], &[]),
            run(&[true, true, true], &[]),
            run(&[true, true, false], &[]),
            run(&[false, false, false], &[]),
            run(&[true, true, false], &[]),
        ];
        let k = consensus(&c).unwrap();
        assert_eq!(k.members, vec![0, 2, 4]);
        assert_eq!(k.tests, vec![0, 1]);
        assert!((k.score - 2.0 * 3f64.sqrt()).abs() < 1e-9);
        // Candidates that fail the docstring's examples or do not load take no part.
        let mut c2 = c.clone();
        c2[0].examples_ok = false;
        c2[2].loaded = false;
        // Left: {1} passes all three tests alone (3 × √1 = 3) against {4} with two: no group of two
        // or more, so no consensus.
        assert_eq!(consensus(&c2), None);
        c2[2].loaded = true;
        c2[1].examples_ok = false;
        assert_eq!(consensus(&c2).unwrap().members, vec![2, 4]);
    }

    #[test]
    fn no_consensus_from_one_candidate_and_inputs_group_without_tests() {
        assert_eq!(consensus(&[run(&[true], &[])]), None);
        let c = vec![run(&[], &["1", "2"]), run(&[], &["1", "3"]), run(&[], &["1", "2"])];
        let k = consensus(&c).unwrap();
        assert_eq!(k.members, vec![0, 2]);
        assert_eq!(consensus_value(&c, &k.members, 1), Some("2"));
        assert_eq!(consensus_value(&c, &[0, 1], 1), None);
    }

    #[test]
    fn findings_carry_evidence_strength() {
        let c = vec![run(&[true], &[]), run(&[true], &[]), run(&[false], &[])];
        let k = consensus(&c).unwrap();
        let cx = Counterexample {
            call: "f([3, 1])".into(),
            user: Behaviour::Returned("1".into()),
            expected: "3".into(),
            agreeing: 2,
            total: 3,
            tests: 1,
        };
        let failing = Outcome::Ran(Box::new(crate::evidence::Ran {
            stdout: String::new(),
            value: None,
            exception: Some(crate::evidence::ExceptionInfo {
                exc_type: "AssertionError".into(),
                module: String::new(),
                message: String::new(),
                traceback: "Traceback (most recent call last):\nAssertionError\n".into(),
                line: None,
                missing_name: None,
                unsupported: None,
            }),
            text_match: None,
            value_equal: None,
            expected: Some("3".into()),
            actual: Some("1".into()),
            duration_us: 1,
        }));
        let tests = vec!["assert f([3, 1]) == 3".to_string()];
        let user_tests = [&failing];
        let facts = ModelFacts {
            range: TextRange::new(0, 1),
            tests: &tests,
            user_tests: &user_tests,
            consensus: &k,
            counterexample: Some(&cx),
        };
        let f = model_findings(&facts);
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].message, "`f([3, 1])` returns 1; 2 of 3 candidate solutions and 1 generated tests say 3");
        assert_eq!(f[0].severity, Severity::Warning);
        assert_eq!(f[1].kind, FindingKind::TestFailed);
        assert!(f[1].message.contains("got 1, expected 3"), "{}", f[1].message);
    }

    #[test]
    fn calibration_fits_separable_data_and_orders_by_evidence() {
        let bad = Parts { verified_failure: true, ..Parts::default() };
        let good = Parts { examples_passed: 3, tests_passed: Some(1.0), agreement: Some(0.8), ..Parts::default() };
        let samples: Vec<_> =
            (0..20).map(|i| if i % 2 == 0 { (bad.features(), false) } else { (good.features(), true) }).collect();
        let cal = Calibration::fit(&samples, Calibration::builtin(), "test", "toy");
        // A feature the samples never exercise keeps the prior's weight.
        assert_eq!(cal.weights[5], Calibration::builtin().weights[5]);
        assert!(cal.probability(&bad) < 0.2 && cal.probability(&good) > 0.8, "{cal:?}");
        let builtin = Calibration::builtin();
        assert_eq!(builtin.features, FEATURES);
        assert!(builtin.probability(&bad) < builtin.probability(&good));
    }
}
