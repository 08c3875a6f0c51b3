//! `--format json`: the contract other tools rely on (version 1). Lines and characters are 0-based;
//! characters count UTF-16 code units, as LSP does.

use serde_json::{Value, json};

use super::InputProblem;
use crate::judge::Finding;
use crate::pipeline::FileResult;
use crate::syntax::{PositionEncoding, TextRange};

pub(super) fn render(results: &[FileResult], problems: &[InputProblem]) -> String {
    let files: Vec<Value> = results.iter().map(file).collect();
    let mut errors: Vec<Value> = problems.iter().map(|p| json!({"path": p.path, "message": p.message})).collect();
    for r in results {
        for issue in &r.module_issues {
            let at = r.line_index.position(&r.text, issue.range.start, PositionEncoding::Utf32);
            errors.push(json!({
                "path": r.path,
                "message": format!("{}:{}: {}", at.line + 1, at.character + 1, issue.message),
            }));
        }
    }
    let doc = json!({"version": 1, "files": files, "errors": errors});
    let mut out = serde_json::to_string_pretty(&doc).unwrap_or_else(|_| "{}".into());
    out.push('\n');
    out
}

fn range(r: &FileResult, range: TextRange) -> Value {
    let start = r.line_index.position(&r.text, range.start, PositionEncoding::Utf16);
    let end = r.line_index.position(&r.text, range.end, PositionEncoding::Utf16);
    json!({
        "start": {"line": start.line, "character": start.character},
        "end": {"line": end.line, "character": end.character},
    })
}

fn finding(r: &FileResult, f: &Finding) -> Value {
    json!({
        "kind": f.kind.as_str(),
        "severity": f.severity,
        "message": f.message,
        "range": range(r, f.range),
        "feedback": f.feedback,
    })
}

fn file(r: &FileResult) -> Value {
    let functions: Vec<Value> = r
        .functions
        .iter()
        .map(|f| {
            let v = &f.verdict;
            json!({
                "name": f.function.name,
                "qualified_name": f.function.qualified_name,
                "range": range(r, f.function.range),
                "status": v.status,
                "confidence": v.confidence.map(|c| (c * 1000.0).round() / 1000.0),
                "confidence_parts": v.parts,
                "evidence": {
                    "examples": v.evidence.examples,
                    "user_tests": v.evidence.user_tests,
                    "generated_tests": v.evidence.generated_tests,
                    "candidates": v.evidence.candidates,
                    "model": v.evidence.model,
                },
                "findings": v.findings.iter().map(|x| finding(r, x)).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({"path": r.path, "functions": functions})
}
