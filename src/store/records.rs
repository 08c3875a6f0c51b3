//! Training records (LeTI execution records, listener labels), built from what a check observed.
//! Pure data: no I/O here.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::evidence::{Exercise, Outcome, TestOutcome};
use crate::judge::{ExampleVerdict, Verdict};
use crate::syntax::{Example, Function};

pub const SCHEMA_VERSION: u32 = 1;
/// Large text fields are cut to this many bytes (at a char boundary) and flagged `truncated`.
pub(super) const FIELD_CAP: usize = 64 << 10;

/// LeTI's fixed feedback for a program that passed.
pub(super) const GOOD_FEEDBACK: &str = "The code is working correctly.";
/// LeTI's prefix for a program that failed.
pub(super) const BAD_PREFIX: &str = "The code is not working correctly. Here is some feedback: ";

/// Where a test came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TestKind {
    /// A docstring example.
    Example,
    /// A test a model wrote (CodeT).
    Generated,
    /// A test of the user's own suite that ran the function (its node id is the source).
    UserTest,
}

/// Whose program a record executed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProgramSource {
    /// The user's own function.
    User,
    /// A model's candidate solution.
    Candidate,
}

/// LeTI's binary reward.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reward {
    Good,
    Bad,
}

impl Reward {
    pub fn as_str(self) -> &'static str {
        match self {
            Reward::Good => "good",
            Reward::Bad => "bad",
        }
    }
}

impl ProgramSource {
    pub fn as_str(self) -> &'static str {
        match self {
            ProgramSource::User => "user",
            ProgramSource::Candidate => "candidate",
        }
    }
}

/// What produced a record besides the program and its tests: the sandbox runtime's version and,
/// for candidates, the prompt version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provenance {
    pub runtime: String,
    pub prompt_version: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestRecord {
    pub kind: TestKind,
    pub source: String,
    pub expected: String,
    pub line: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutcomeRecord {
    pub test: usize,
    /// The outcome class (`completed`, `exception`, `timeout`, ...).
    pub class: String,
    pub passed: bool,
    pub duration_us: u64,
}

/// One execution of a program against tests: what LeTI trains on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutionRecord {
    pub schema_version: u32,
    /// Content address: the same program, tests and outcomes give the same id.
    pub id: String,
    /// The instruction: signature and docstring.
    pub problem: String,
    pub prompt_hash: String,
    /// The program executed: the user's function (later: a model's candidate).
    pub program: String,
    pub source: ProgramSource,
    pub function_key: String,
    pub qualified_name: String,
    pub path: String,
    pub tests: Vec<TestRecord>,
    pub tests_hash: String,
    pub outcomes: Vec<OutcomeRecord>,
    /// `good` when every judged test passed, else `bad`.
    pub reward: Reward,
    /// LeTI feedback: the fixed sentence, or the prefix and the normalised feedback text the
    /// editor showed.
    pub feedback: String,
    pub runtime: String,
    pub model_id: Option<String>,
    pub prompt_version: Option<String>,
    pub sampler: Option<serde_json::Value>,
    pub truncated: bool,
}

/// What a person said of a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Label {
    /// The finding is right.
    Right,
    /// The finding is a false alarm.
    FalseAlarm,
    /// Implicit: the function was fixed by a later edit.
    Fixed,
}

impl Label {
    pub fn as_str(self) -> &'static str {
        match self {
            Label::Right => "right",
            Label::FalseAlarm => "false_alarm",
            Label::Fixed => "fixed",
        }
    }

    /// The label a person may give (`right`, `false_alarm`).
    pub fn explicit(s: &str) -> Option<Label> {
        match s {
            "right" => Some(Label::Right),
            "false_alarm" => Some(Label::FalseAlarm),
            _ => None,
        }
    }
}

/// A person's verdict on a finding, or one implied by their next edit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelRecord {
    pub schema_version: u32,
    pub id: String,
    /// The execution whose finding was labelled.
    pub execution_id: String,
    pub finding_kind: String,
    pub label: Label,
    pub implicit: bool,
    pub note: Option<String>,
}

pub(crate) fn sha(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0u8]);
    }
    crate::base::hex(&h.finalize())[..32].to_string()
}

/// At most `FIELD_CAP` bytes, cut at a char boundary; sets `truncated` when it cuts.
fn cap(s: &str, truncated: &mut bool) -> String {
    if s.len() <= FIELD_CAP {
        return s.to_string();
    }
    *truncated = true;
    let mut end = FIELD_CAP;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

/// The problem a function solves, as a model would be prompted: its signature and docstring.
pub(super) fn problem_of(function: &Function, text: &str) -> String {
    match &function.docstring {
        Some(doc) => {
            let raw = &text[doc.range.start..doc.range.end];
            format!("{}\n    {}\n", function.signature, raw)
        }
        None => format!("{}\n", function.signature),
    }
}

/// The execution record of a function's examples, if any example was judged.
pub fn execution_record(
    provenance: &Provenance,
    path: &str,
    text: &str,
    function: &Function,
    examples: &[(&Example, &Outcome, &ExampleVerdict)],
    verdict: &Verdict,
) -> Option<ExecutionRecord> {
    let judged: Vec<_> = examples.iter().filter(|(_, _, v)| !matches!(v, ExampleVerdict::Unresolved(_))).collect();
    if judged.is_empty() {
        return None;
    }
    let mut truncated = false;
    let tests: Vec<TestRecord> = judged
        .iter()
        .map(|(e, _, _)| TestRecord {
            kind: TestKind::Example,
            source: cap(&e.source, &mut truncated),
            expected: cap(&e.want, &mut truncated),
            line: e.line,
        })
        .collect();
    let outcomes: Vec<OutcomeRecord> = judged
        .iter()
        .enumerate()
        .map(|(i, (_, o, v))| OutcomeRecord::of(i, o, matches!(v, ExampleVerdict::Passed)))
        .collect();
    let details: Vec<&str> = if outcomes.iter().all(|o| o.passed) {
        Vec::new()
    } else {
        verdict.findings.iter().filter(|f| !f.feedback.is_empty()).map(|f| f.feedback.as_str()).collect()
    };
    Some(user_record(provenance, path, text, function, tests, outcomes, &details, truncated))
}

/// The execution record of a function as the user's own tests ran it (each test that ran it and
/// passed, failed or errored), if any did. LeTI's feedback for a failure is pytest's report.
pub fn user_test_record(
    provenance: &Provenance,
    path: &str,
    text: &str,
    function: &Function,
    exercises: &[Exercise],
) -> Option<ExecutionRecord> {
    let ran: Vec<&Exercise> = exercises.iter().filter(|t| t.outcome.judged()).collect();
    if ran.is_empty() {
        return None;
    }
    let mut truncated = false;
    let tests: Vec<TestRecord> = ran
        .iter()
        .map(|t| TestRecord {
            kind: TestKind::UserTest,
            source: cap(&format!("{}::{}", t.file, t.test), &mut truncated),
            expected: String::new(),
            line: t.line.unwrap_or(0),
        })
        .collect();
    let outcomes: Vec<OutcomeRecord> = ran
        .iter()
        .enumerate()
        .map(|(i, t)| OutcomeRecord {
            test: i,
            class: format!("{:?}", t.outcome).to_lowercase(),
            passed: t.outcome == TestOutcome::Passed,
            duration_us: t.duration_us,
        })
        .collect();
    let failed: Vec<&str> =
        ran.iter().filter(|t| t.outcome != TestOutcome::Passed).map(|t| t.report.as_str()).collect();
    Some(user_record(provenance, path, text, function, tests, outcomes, &failed, truncated))
}

/// The record of the user's function on `tests`: LeTI's fixed sentence when every outcome passed,
/// else its prefix and `details` (what the user was shown of the failures).
#[allow(clippy::too_many_arguments)]
fn user_record(
    provenance: &Provenance,
    path: &str,
    text: &str,
    function: &Function,
    tests: Vec<TestRecord>,
    outcomes: Vec<OutcomeRecord>,
    details: &[&str],
    mut truncated: bool,
) -> ExecutionRecord {
    let program = cap(&text[function.range.start..function.range.end], &mut truncated);
    let problem = cap(&problem_of(function, text), &mut truncated);
    let feedback = if outcomes.iter().all(|o| o.passed) {
        GOOD_FEEDBACK.to_string()
    } else {
        cap(&format!("{BAD_PREFIX}{}", details.join("\n")), &mut truncated)
    };
    assemble(Parts {
        provenance,
        path,
        function,
        problem,
        program,
        source: ProgramSource::User,
        tests,
        outcomes,
        feedback,
        truncated,
        model: None,
    })
}

/// What a record is made of; `assemble` derives the rest.
struct Parts<'a> {
    provenance: &'a Provenance,
    path: &'a str,
    function: &'a Function,
    problem: String,
    program: String,
    source: ProgramSource,
    tests: Vec<TestRecord>,
    outcomes: Vec<OutcomeRecord>,
    feedback: String,
    truncated: bool,
    /// Model id and sampler settings, for a candidate.
    model: Option<(String, serde_json::Value)>,
}

fn assemble(p: Parts<'_>) -> ExecutionRecord {
    let good = p.outcomes.iter().all(|o| o.passed);
    let tests_json = serde_json::to_string(&p.tests).unwrap_or_default();
    // The id leaves out timings: the same program, tests and results are one record.
    let results: Vec<(&str, bool)> = p.outcomes.iter().map(|o| (o.class.as_str(), o.passed)).collect();
    let outcomes_json = serde_json::to_string(&results).unwrap_or_default();
    let runtime = p.provenance.runtime.clone();
    let (model_id, sampler) = p.model.map(|(m, s)| (Some(m), Some(s))).unwrap_or((None, None));
    ExecutionRecord {
        schema_version: SCHEMA_VERSION,
        id: sha(&[&p.program, &tests_json, &outcomes_json, &runtime, p.source.as_str()]),
        prompt_hash: sha(&[&p.problem]),
        problem: p.problem,
        program: p.program,
        source: p.source,
        function_key: p.function.key.to_string(),
        qualified_name: p.function.qualified_name.clone(),
        path: p.path.to_string(),
        tests_hash: sha(&[&tests_json]),
        tests: p.tests,
        outcomes: p.outcomes,
        reward: if good { Reward::Good } else { Reward::Bad },
        feedback: p.feedback,
        runtime,
        prompt_version: model_id.as_ref().map(|_| p.provenance.prompt_version.clone()),
        model_id,
        sampler,
        truncated: p.truncated,
    }
}

/// A model's candidate solution, and how it was sampled.
#[derive(Debug, Clone)]
pub struct Candidate<'a> {
    pub source: &'a str,
    pub model_id: &'a str,
    /// The sampler's settings, kept with the record.
    pub sampler: serde_json::Value,
}

/// A model's candidate solution run against the function's examples and the generated tests that
/// survived the consensus (PLUM: chosen when it passes them all, rejected otherwise). `results`:
/// each test, its outcome, and whether it passed.
pub fn candidate_record(
    provenance: &Provenance,
    path: &str,
    text: &str,
    function: &Function,
    candidate: &Candidate<'_>,
    results: &[(TestRecord, &Outcome, bool)],
) -> Option<ExecutionRecord> {
    if results.is_empty() {
        return None;
    }
    let mut truncated = false;
    let program = cap(candidate.source, &mut truncated);
    let problem = cap(&problem_of(function, text), &mut truncated);
    let tests: Vec<TestRecord> = results.iter().map(|(t, _, _)| t.clone()).collect();
    let outcomes: Vec<OutcomeRecord> =
        results.iter().enumerate().map(|(i, (_, o, passed))| OutcomeRecord::of(i, o, *passed)).collect();
    let good = outcomes.iter().all(|o| o.passed);
    let feedback = if good {
        GOOD_FEEDBACK.to_string()
    } else {
        let details: Vec<String> = results
            .iter()
            .filter(|(_, _, passed)| !passed)
            .map(|(t, o, _)| match o.exception() {
                Some(e) => format!("{}{}", t.source.trim_end(), format_args!("\n{}", e.traceback.trim_end())),
                None => format!("{}\nunexpected output", t.source.trim_end()),
            })
            .collect();
        cap(&format!("{BAD_PREFIX}{}", details.join("\n")), &mut truncated)
    };
    Some(assemble(Parts {
        provenance,
        path,
        function,
        problem,
        program,
        source: ProgramSource::Candidate,
        tests,
        outcomes,
        feedback,
        truncated,
        model: Some((candidate.model_id.to_string(), candidate.sampler.clone())),
    }))
}

impl OutcomeRecord {
    fn of(test: usize, outcome: &Outcome, passed: bool) -> OutcomeRecord {
        OutcomeRecord {
            test,
            class: format!("{:?}", outcome.class()).to_lowercase(),
            passed,
            duration_us: outcome.ran().map(|r| r.duration_us).unwrap_or(0),
        }
    }
}

impl LabelRecord {
    pub fn new(
        execution_id: &str,
        finding_kind: &str,
        label: Label,
        implicit: bool,
        note: Option<String>,
    ) -> LabelRecord {
        LabelRecord {
            schema_version: SCHEMA_VERSION,
            id: sha(&[execution_id, finding_kind, label.as_str(), if implicit { "implicit" } else { "explicit" }]),
            execution_id: execution_id.to_string(),
            finding_kind: finding_kind.to_string(),
            label,
            implicit,
            note,
        }
    }
}

impl ExecutionRecord {
    /// A made-up record (`f` returning `x + i`, passing when `i` is even), for tests and
    /// benchmarks of the store.
    #[doc(hidden)]
    pub fn synthetic(i: usize) -> ExecutionRecord {
        let good = i.is_multiple_of(2);
        ExecutionRecord {
            schema_version: SCHEMA_VERSION,
            id: format!("{i:032x}"),
            problem: "def f(x):\n    \"\"\"Adds one.\n\n    >>> f(1)\n    2\n    \"\"\"\n".into(),
            prompt_hash: "p".into(),
            program: format!("def f(x):\n    return x + {i}\n"),
            source: ProgramSource::User,
            function_key: "k".into(),
            qualified_name: "f".into(),
            path: "m.py".into(),
            tests: vec![TestRecord {
                kind: TestKind::Example,
                source: "f(1)\n".into(),
                expected: "2\n".into(),
                line: 3,
            }],
            tests_hash: "t".into(),
            outcomes: vec![OutcomeRecord { test: 0, class: "completed".into(), passed: good, duration_us: 40 }],
            reward: if good { Reward::Good } else { Reward::Bad },
            feedback: if good {
                GOOD_FEEDBACK.into()
            } else {
                format!(
                    "{BAD_PREFIX}File \"m.py\", line 4, in f\nFailed example:\n    f(1)\nExpected:\n    2\nGot:\n    {}\n",
                    1 + i
                )
            },
            runtime: "r".into(),
            model_id: None,
            prompt_version: None,
            sampler: None,
            truncated: false,
        }
    }
}
