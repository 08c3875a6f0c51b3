//! `--format json`: the contract other tools rely on (version 2; `--json-version 1` writes the
//! version before the `suspect` status). Lines and characters are 0-based;
//! characters count UTF-16 code units, as LSP does. The document is made of the explicit types
//! below, converted here from the engine's reports: a renamed internal field changes nothing.

use serde::Serialize;

use super::InputProblem;
use crate::engine::FileReport;
use crate::engine::wire::{self, ConfidencePartsV1, JSON_VERSION};
use crate::judge::{Finding, Status};
use crate::syntax::{PositionEncoding, TextRange};

#[derive(Serialize)]
struct DocumentV1 {
    version: u32,
    files: Vec<FileV1>,
    errors: Vec<ErrorV1>,
}

#[derive(Serialize)]
struct ErrorV1 {
    path: String,
    message: String,
}

#[derive(Serialize)]
struct FileV1 {
    path: String,
    functions: Vec<FunctionV1>,
    /// A test file's tests as pytest ran them in the sandbox (absent for other files).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tests: Vec<TestV1>,
}

#[derive(Serialize)]
struct TestV1 {
    /// pytest's node id (`tests/test_x.py::TestA::test_b[1-2]`).
    nodeid: String,
    /// 0-based line of the test function.
    line: Option<u32>,
    /// `passed`, `failed`, `error` (setup or teardown), `skipped`, `stopped` (its deadline, a trap)
    /// or `unsupported` (needs what the sandbox lacks).
    outcome: &'static str,
    duration_ms: f64,
    /// pytest's report of a failure.
    #[serde(skip_serializing_if = "String::is_empty")]
    report: String,
}

#[derive(Serialize)]
struct PositionV1 {
    line: u32,
    character: u32,
}

#[derive(Serialize)]
struct RangeV1 {
    start: PositionV1,
    end: PositionV1,
}

#[derive(Serialize)]
struct EvidenceV1 {
    examples: u32,
    user_tests: u32,
    generated_tests: u32,
    candidates: u32,
    model: Option<String>,
}

#[derive(Serialize)]
struct FunctionV1 {
    /// `function`, or `class` / `module` for a docstring with examples outside any function.
    kind: crate::syntax::Kind,
    name: String,
    qualified_name: String,
    range: RangeV1,
    status: &'static str,
    confidence: Option<f64>,
    confidence_parts: Option<ConfidencePartsV1>,
    evidence: EvidenceV1,
    findings: Vec<FindingV1>,
}

#[derive(Serialize)]
struct FindingV1 {
    kind: &'static str,
    severity: &'static str,
    message: String,
    range: RangeV1,
    feedback: String,
}

pub(super) fn render(results: &[FileReport], problems: &[InputProblem], version: u32) -> String {
    let files = results.iter().map(|r| file(r, version)).collect();
    let mut errors: Vec<ErrorV1> =
        problems.iter().map(|p| ErrorV1 { path: p.path.clone(), message: p.message.clone() }).collect();
    for r in results {
        for issue in &r.module_issues {
            let at = r.line_index.position(&r.text, issue.range.start, PositionEncoding::Utf32);
            errors.push(ErrorV1 {
                path: r.path.clone(),
                message: format!("{}:{}: {}", at.line + 1, at.character + 1, issue.message),
            });
        }
    }
    let doc = DocumentV1 { version: version.min(JSON_VERSION), files, errors };
    let mut out = serde_json::to_string_pretty(&doc).unwrap_or_else(|_| "{}".into());
    out.push('\n');
    out
}

fn range(r: &FileReport, range: TextRange) -> RangeV1 {
    let start = r.line_index.position(&r.text, range.start, PositionEncoding::Utf16);
    let end = r.line_index.position(&r.text, range.end, PositionEncoding::Utf16);
    RangeV1 {
        start: PositionV1 { line: start.line, character: start.character },
        end: PositionV1 { line: end.line, character: end.character },
    }
}

fn finding(r: &FileReport, f: &Finding) -> FindingV1 {
    FindingV1 {
        kind: f.kind.as_str(),
        severity: wire::severity(f.severity),
        message: f.message.clone(),
        range: range(r, f.range),
        feedback: f.feedback.clone(),
    }
}

fn file(r: &FileReport, version: u32) -> FileV1 {
    let functions = r
        .functions
        .iter()
        .map(|f| {
            let v = &f.verdict;
            FunctionV1 {
                kind: f.function.kind,
                name: f.function.name.clone(),
                qualified_name: f.function.qualified_name.clone(),
                range: range(r, f.function.range),
                status: match v.status {
                    // Version 1 had no `suspect`: what it said then.
                    Status::Suspect if version < 2 => {
                        if v.evidence.examples > 0 || v.evidence.user_tests > 0 {
                            "passing"
                        } else {
                            "unverified"
                        }
                    }
                    s => wire::status(s),
                },
                confidence: v.confidence.map(|c| (c * 1000.0).round() / 1000.0),
                confidence_parts: v.parts.as_ref().map(ConfidencePartsV1::from),
                evidence: EvidenceV1 {
                    examples: v.evidence.examples,
                    user_tests: v.evidence.user_tests,
                    generated_tests: v.evidence.generated_tests,
                    candidates: v.evidence.candidates,
                    model: v.evidence.model.clone(),
                },
                findings: v.findings.iter().map(|x| finding(r, x)).collect(),
            }
        })
        .collect();
    let tests = r
        .tests
        .iter()
        .map(|t| TestV1 {
            nodeid: t.nodeid.clone(),
            line: t.line,
            outcome: wire::test_outcome(t.outcome),
            duration_ms: (t.duration_us as f64 / 10.0).round() / 100.0,
            report: t.report.clone(),
        })
        .collect();
    FileV1 { path: r.path.clone(), functions, tests }
}
