//! Human output in the style of rustc and ruff: `path:line:col: severity[kind]: message`, the
//! source line with a caret underline, then the feedback text.

use std::fmt::Write;

use super::InputProblem;
use crate::engine::FileReport;
use crate::evidence::TestOutcome;
use crate::judge::{Finding, Severity, Status};
use crate::syntax::PositionEncoding;

pub(super) fn render(results: &[FileReport], problems: &[InputProblem]) -> String {
    let mut out = String::new();
    let (mut failing, mut suspect, mut passing, mut unverified) = (0, 0, 0, 0);
    for r in results {
        for f in r.module_findings() {
            finding(&mut out, r, &f);
        }
        for f in &r.functions {
            match f.verdict.status {
                Status::Failing => failing += 1,
                Status::Suspect => suspect += 1,
                Status::Passing => passing += 1,
                Status::Unverified => unverified += 1,
            }
            for x in &f.verdict.findings {
                finding(&mut out, r, x);
            }
        }
    }
    for p in problems {
        let level = if p.fatal { "error" } else { "warning" };
        let _ = writeln!(out, "{}: {level}: {}", p.path, p.message);
    }
    let tests: Vec<_> = results.iter().flat_map(|r| &r.tests).collect();
    if !tests.is_empty() {
        // Like a test runner's last line: the user's own tests, run by pytest in the sandbox.
        let count = |o: &[TestOutcome]| tests.iter().filter(|t| o.contains(&t.outcome)).count();
        let _ = writeln!(
            out,
            "Ran {} test{} in the sandbox: {} passed, {} failed, {} skipped, {} not run here (deadline or unsupported).",
            tests.len(),
            if tests.len() == 1 { "" } else { "s" },
            count(&[TestOutcome::Passed]),
            count(&[TestOutcome::Failed, TestOutcome::Error]),
            count(&[TestOutcome::Skipped]),
            count(&[TestOutcome::Stopped, TestOutcome::Unsupported]),
        );
    }
    let functions = failing + suspect + passing + unverified;
    // `suspect` only where there are some: most runs have no model evidence against anything.
    let suspect = if suspect > 0 { format!(" {suspect} suspect,") } else { String::new() };
    let _ = writeln!(
        out,
        "Checked {} function{} in {} file{}: {failing} failing,{suspect} {passing} passing, {unverified} unverified (not enough evidence).",
        functions,
        if functions == 1 { "" } else { "s" },
        results.len(),
        if results.len() == 1 { "" } else { "s" },
    );
    out
}

fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Information => "info",
        Severity::Hint => "hint",
    }
}

fn finding(out: &mut String, r: &FileReport, f: &Finding) {
    let start = r.line_index.position(&r.text, f.range.start, PositionEncoding::Utf32);
    let end = r.line_index.position(&r.text, f.range.end, PositionEncoding::Utf32);
    let _ = writeln!(
        out,
        "{}:{}:{}: {}[{}]: {}",
        r.path,
        start.line + 1,
        start.character + 1,
        severity(f.severity),
        f.kind.as_str(),
        f.message
    );
    let (ls, le) = r.line_index.line_range(&r.text, start.line);
    let line = crate::judge::first_line(&r.text[ls..le].replace('\t', " "));
    let line_no = (start.line + 1).to_string();
    let pad = " ".repeat(line_no.len());
    let width = if end.line == start.line { (end.character - start.character).max(1) } else { 1 };
    let source_line = &r.text[ls..le];
    let lead: String = source_line.chars().take_while(|c| c.is_whitespace()).collect();
    let shown = format!("{lead}{}", line.trim_start());
    let _ = writeln!(out, "{pad} |");
    let _ = writeln!(out, "{line_no} | {}", shown.trim_end());
    let _ = writeln!(out, "{pad} | {}{}", " ".repeat(start.character as usize), "^".repeat(width as usize));
    if !f.feedback.is_empty() {
        let _ = writeln!(out, "{pad} = feedback:");
        for l in f.feedback.lines() {
            let _ = writeln!(out, "{pad}   {l}");
        }
    }
    out.push('\n');
}
