//! `--format sarif`: SARIF 2.1.0 for code scanning (GitHub and others). One rule per finding kind,
//! with help text; one result per finding with its level, message, location (1-based lines, UTF-16
//! columns) and feedback; fingerprints from the function's content hash and the finding kind, so a
//! finding keeps its identity across runs and edits elsewhere in the file. Problems with the input
//! (unreadable files, syntax outside functions) are tool notifications and results.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::InputProblem;
use crate::engine::FileReport;
use crate::judge::{Finding, FindingKind, Severity};
use crate::syntax::PositionEncoding;

/// Every finding kind, in the order of the rules.
const KINDS: [FindingKind; 12] = [
    FindingKind::ExampleFailed,
    FindingKind::UserTestFailed,
    FindingKind::TestFailed,
    FindingKind::Counterexample,
    FindingKind::ExampleSuspect,
    FindingKind::Crash,
    FindingKind::Timeout,
    FindingKind::MemoryLimit,
    FindingKind::RecursionLimit,
    FindingKind::OutputLimit,
    FindingKind::SyntaxError,
    FindingKind::ExampleUnresolved,
];

/// A rule's short description and help.
fn rule_text(kind: FindingKind) -> (&'static str, &'static str) {
    match kind {
        FindingKind::ExampleFailed => (
            "A docstring example fails",
            "The function was run on one of its own docstring examples (`>>>`) in plumb's sandbox and gave something else than the example expects. Fix the function, or the example if it is the example that is wrong.",
        ),
        FindingKind::UserTestFailed => (
            "A test of the project fails",
            "One of the project's own tests, run by pytest in plumb's sandbox, fails (or its fixture does); the feedback is pytest's report.",
        ),
        FindingKind::TestFailed => (
            "A generated unit test fails",
            "A unit test written by the code model, and passed by the consensus of the candidate solutions, fails on this function.",
        ),
        FindingKind::Counterexample => (
            "The function disagrees with the consensus of candidate solutions",
            "On the input shown (shrunk to a small one), the function returns something other than what the candidate solutions that pass the generated tests agree on.",
        ),
        FindingKind::ExampleSuspect => (
            "A docstring example looks wrong",
            "The function and a decisive consensus of candidate solutions agree with each other on this example, not with what the example expects: the example may be out of date.",
        ),
        FindingKind::Crash => (
            "The interpreter crashed or exited",
            "Running the example ended the interpreter (a trap, or the program exited).",
        ),
        FindingKind::Timeout => ("An example did not finish", "The example ran past its time limit (infinite loop?)."),
        FindingKind::MemoryLimit => {
            ("An example ran out of memory", "The example exceeded the sandbox's memory limit.")
        }
        FindingKind::RecursionLimit => (
            "An example exhausted the stack",
            "The example recursed until the stack was exhausted (unbounded recursion?).",
        ),
        FindingKind::OutputLimit => {
            ("An example printed too much", "The example printed more than the sandbox allows.")
        }
        FindingKind::SyntaxError => ("Syntax error", "The code does not parse, so it cannot run."),
        FindingKind::ExampleUnresolved => (
            "An example could not be judged",
            "The example needs something the sandbox does not have (a name, a module) or could not be run; it is evidence neither way.",
        ),
    }
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Information | Severity::Hint => "note",
    }
}

/// A relative path as a URI reference (forward slashes, the few characters that need it escaped).
fn uri(path: &str) -> String {
    let path = path.strip_prefix("./").unwrap_or(path).replace('\\', "/");
    let mut out = String::new();
    for b in path.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'.' | b'-' | b'_' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn fingerprint(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    crate::base::hex(&h.finalize())[..32].to_string()
}

fn result(r: &FileReport, f: &Finding, identity: &str, function: Option<&str>, confidence: Option<f64>) -> Value {
    let rule = KINDS.iter().position(|k| *k == f.kind).unwrap_or(0);
    let start = r.line_index.position(&r.text, f.range.start, PositionEncoding::Utf16);
    let end = r.line_index.position(&r.text, f.range.end, PositionEncoding::Utf16);
    let mut region = json!({
        "startLine": start.line + 1, "startColumn": start.character + 1,
        "endLine": end.line + 1, "endColumn": end.character + 1,
    });
    if let Some(snippet) = r.text.get(f.range.start..f.range.end).filter(|s| !s.is_empty()) {
        region["snippet"] = json!({"text": snippet});
    }
    let mut properties = json!({"feedback": f.feedback});
    if let Some(name) = function {
        properties["function"] = json!(name);
    }
    if let Some(c) = confidence {
        properties["confidence"] = json!((c * 1000.0).round() / 1000.0);
    }
    json!({
        "ruleId": f.kind.as_str(),
        "ruleIndex": rule,
        "level": level(f.severity),
        "message": {"text": f.message},
        "locations": [{"physicalLocation": {
            "artifactLocation": {"uri": uri(&r.path), "uriBaseId": "%SRCROOT%"},
            "region": region,
        }}],
        "partialFingerprints": {"plumbFinding/v1": fingerprint(&[identity, f.kind.as_str()])},
        "properties": properties,
    })
}

pub(super) fn render(results: &[FileReport], problems: &[InputProblem]) -> String {
    let rules: Vec<Value> = KINDS
        .iter()
        .map(|&k| {
            let (short, help) = rule_text(k);
            json!({
                "id": k.as_str(),
                "name": k.as_str(),
                "shortDescription": {"text": short},
                "fullDescription": {"text": help},
                "help": {"text": help},
                "defaultConfiguration": {"level": match k {
                    FindingKind::TestFailed | FindingKind::Counterexample | FindingKind::ExampleSuspect => "warning",
                    FindingKind::ExampleUnresolved => "note",
                    _ => "error",
                }},
            })
        })
        .collect();
    let mut out = Vec::new();
    for r in results {
        for f in r.module_findings() {
            // Outside any function: identified by the file and the message.
            out.push(result(r, &f, &format!("{}\0{}", r.path, f.message), None, None));
        }
        for func in &r.functions {
            let identity = func.function.key.to_string();
            for f in &func.verdict.findings {
                out.push(result(r, f, &identity, Some(&func.function.qualified_name), func.verdict.confidence));
            }
        }
    }
    let notifications: Vec<Value> = problems
        .iter()
        .map(|p| {
            json!({
                "level": if p.fatal { "error" } else { "warning" },
                "message": {"text": format!("{}: {}", p.path, p.message)},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": uri(&p.path), "uriBaseId": "%SRCROOT%"}}}],
            })
        })
        .collect();
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "plumb",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "invocations": [{
                "executionSuccessful": !problems.iter().any(|p| p.fatal),
                "toolExecutionNotifications": notifications,
            }],
            "columnKind": "utf16CodeUnits",
            "results": out,
        }],
    });
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_else(|_| "{}".into());
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    #[test]
    fn uris_and_fingerprints() {
        assert_eq!(super::uri("./src/a b.py"), "src/a%20b.py");
        assert_eq!(super::uri("dir\\é.py"), "dir/%C3%A9.py");
        assert_eq!(super::fingerprint(&["k", "example_failed"]), super::fingerprint(&["k", "example_failed"]));
        assert_ne!(super::fingerprint(&["k", "timeout"]), super::fingerprint(&["k", "example_failed"]));
    }
}
