//! plumb's types → LSP types.

use std::collections::HashMap;

use serde_json::json;
use tower_lsp_server::ls_types::{Diagnostic, DiagnosticSeverity, NumberOrString, Position, Range};

use crate::engine::FileReport;
use crate::engine::wire::ConfidencePartsV1;
use crate::judge::{Finding, Severity};
use crate::syntax::{LineIndex, PositionEncoding, TextRange};

/// A diagnostic's `data`, version 1: what code actions and labels read back. Byte offsets are
/// the server's own (for finding the example or function again), not positions.
#[derive(serde::Serialize)]
struct DataV1 {
    kind: &'static str,
    function: Option<String>,
    start: usize,
    end: usize,
    execution: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    confidence: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    confidence_parts: Option<ConfidencePartsV1>,
}

pub(super) fn range(text: &str, index: &LineIndex, r: TextRange, encoding: PositionEncoding) -> Range {
    let s = index.position(text, r.start, encoding);
    let e = index.position(text, r.end, encoding);
    Range { start: Position::new(s.line, s.character), end: Position::new(e.line, e.character) }
}

fn severity(s: Severity) -> DiagnosticSeverity {
    match s {
        Severity::Error => DiagnosticSeverity::ERROR,
        Severity::Warning => DiagnosticSeverity::WARNING,
        Severity::Information => DiagnosticSeverity::INFORMATION,
        Severity::Hint => DiagnosticSeverity::HINT,
    }
}

fn diagnostic(
    r: &FileReport,
    f: &Finding,
    function: Option<&crate::syntax::Function>,
    encoding: PositionEncoding,
    executions: &HashMap<String, String>,
) -> Diagnostic {
    let execution = function.and_then(|func| executions.get(&func.key.to_string())).cloned();
    let message =
        if f.feedback.is_empty() { f.message.clone() } else { format!("{}\n\n{}", f.message, f.feedback.trim_end()) };
    Diagnostic {
        range: range(&r.text, &r.line_index, f.range, encoding),
        severity: Some(severity(f.severity)),
        code: Some(NumberOrString::String(f.kind.as_str().to_string())),
        source: Some("plumb".into()),
        message,
        data: serde_json::to_value(DataV1 {
            kind: f.kind.as_str(),
            function: function.map(|f| f.qualified_name.clone()),
            start: f.range.start,
            end: f.range.end,
            execution,
            confidence: None,
            confidence_parts: None,
        })
        .ok(),
        ..Diagnostic::default()
    }
}

/// Every finding of a file, as diagnostics.
pub(super) fn diagnostics(
    r: &FileReport,
    encoding: PositionEncoding,
    executions: &HashMap<String, String>,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for f in r.module_findings() {
        out.push(diagnostic(r, &f, None, encoding, executions));
    }
    for func in &r.functions {
        for f in &func.verdict.findings {
            let mut d = diagnostic(r, f, Some(&func.function), encoding, executions);
            // The confidence and its named parts travel with the function's findings.
            if let Some(data) = d.data.as_mut() {
                data["confidence"] = json!(func.verdict.confidence);
                data["confidence_parts"] = json!(func.verdict.parts.as_ref().map(ConfidencePartsV1::from));
            }
            out.push(d);
        }
    }
    out
}
