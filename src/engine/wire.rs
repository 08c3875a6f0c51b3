//! The parts of plumb's external formats that both faces write: the confidence parts (CLI JSON,
//! LSP diagnostic data, saved eval runs), and the names of statuses and severities. Each is an
//! explicit, versioned type converted from the judge's own: renaming a judge field or variant
//! changes nothing a tool reads. The faces own the rest of their formats (`cli::json`,
//! `lsp::to_proto`, `cli::eval`).

use serde::{Deserialize, Serialize};

use crate::judge::matrix::Parts;
use crate::judge::{Severity, Status};

/// Version of the CLI's JSON document (`"version": 2`; 2 added the `suspect` status, which
/// version 1 documents, still written on request, report as `passing` or `unverified`).
pub const JSON_VERSION: u32 = 2;

/// What the confidence is made of, as written in format version 1.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ConfidencePartsV1 {
    pub verified_failure: bool,
    pub examples_passed: u32,
    pub tests_passed: Option<f64>,
    pub agreement: Option<f64>,
    pub codet_score: Option<f64>,
    pub counterexample: bool,
    pub p_true: Option<f64>,
    #[serde(default)]
    pub neighbour_raises: Option<f64>,
}

impl From<&Parts> for ConfidencePartsV1 {
    fn from(p: &Parts) -> Self {
        ConfidencePartsV1 {
            verified_failure: p.verified_failure,
            examples_passed: p.examples_passed,
            tests_passed: p.tests_passed,
            agreement: p.agreement,
            codet_score: p.codet_score,
            counterexample: p.counterexample,
            p_true: p.p_true,
            neighbour_raises: p.neighbour_raises,
        }
    }
}

impl From<ConfidencePartsV1> for Parts {
    fn from(p: ConfidencePartsV1) -> Self {
        Parts {
            verified_failure: p.verified_failure,
            examples_passed: p.examples_passed,
            tests_passed: p.tests_passed,
            agreement: p.agreement,
            codet_score: p.codet_score,
            counterexample: p.counterexample,
            p_true: p.p_true,
            neighbour_raises: p.neighbour_raises,
        }
    }
}

/// A status as the formats name it.
pub fn status(s: Status) -> &'static str {
    match s {
        Status::Failing => "failing",
        Status::Suspect => "suspect",
        Status::Passing => "passing",
        Status::Unverified => "unverified",
    }
}

/// A test's outcome as the formats name it.
pub fn test_outcome(o: crate::evidence::TestOutcome) -> &'static str {
    use crate::evidence::TestOutcome;
    match o {
        TestOutcome::Passed => "passed",
        TestOutcome::Failed => "failed",
        TestOutcome::Error => "error",
        TestOutcome::Skipped => "skipped",
        TestOutcome::Stopped => "stopped",
        TestOutcome::Unsupported => "unsupported",
    }
}

/// A severity as the formats name it.
pub fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Information => "information",
        Severity::Hint => "hint",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_round_trip_and_keep_their_names() {
        let p = Parts { examples_passed: 2, tests_passed: Some(0.5), counterexample: true, ..Parts::default() };
        let wire = ConfidencePartsV1::from(&p);
        let text = serde_json::to_string(&wire).unwrap();
        assert_eq!(
            text,
            r#"{"verified_failure":false,"examples_passed":2,"tests_passed":0.5,"agreement":null,"codet_score":null,"counterexample":true,"p_true":null,"neighbour_raises":null}"#
        );
        // Runs saved before `neighbour_raises` existed still read.
        let old: ConfidencePartsV1 = serde_json::from_str(
            r#"{"verified_failure":true,"examples_passed":0,"tests_passed":null,"agreement":null,"codet_score":null,"counterexample":false,"p_true":0.4}"#,
        )
        .unwrap();
        assert_eq!(Parts::from(old).p_true, Some(0.4));
        assert_eq!(Parts::from(wire), p);
    }
}
