//! Docstrings that exist only when the module runs: `f.__doc__ = g.__doc__`, functions made by a
//! factory with a docstring built at run time. The file's text does not show their examples, but
//! `pytest --doctest-modules` runs them, so plumb asks doctest's own finder in the sandbox (only
//! for files that mention `__doc__`, once per text of the file and its imports) and checks each
//! as an entry of `Kind::Runtime`, placed at the line doctest gives its object.

use std::sync::Arc;

use super::cache::Found;
use super::context::Context;
use crate::base::Cancel;
use crate::sandbox::{FoundDocstring, Limits, Program, Sandbox};
use crate::syntax::{Example, Function, FunctionKey, Kind, ParsedFile, TextRange};

/// Whether a file may have docstrings that only exist at run time.
pub(super) fn worth_asking(text: &str, parsed: &ParsedFile) -> bool {
    !parsed.timed_out && text.contains("__doc__")
}

/// The qualified names whose examples the file's text already shows.
fn known(parsed: &ParsedFile) -> Vec<String> {
    parsed.functions.iter().filter(|f| !f.examples.is_empty()).map(|f| f.qualified_name.clone()).collect()
}

/// Runs the module and asks doctest's finder; `None` when the run was cancelled.
pub(super) fn find(
    sandbox: &Sandbox,
    base: &Program,
    parsed: &ParsedFile,
    context: &Context,
    limits: &Limits,
    cancel: &Cancel,
) -> Option<Found> {
    let program = Program { groups: Vec::new(), discover: Some(known(parsed)), ..base.clone() };
    let report = sandbox.run_with(&program, &context.host, limits, cancel);
    if cancel.is_cancelled() {
        return None;
    }
    let functions = report.found.iter().map(|item| entry(&base.source, item)).collect();
    Some((Arc::new(functions), Arc::new(report.imports)))
}

/// The entry for a found docstring: its examples all placed on the object's line.
fn entry(text: &str, item: &FoundDocstring) -> Function {
    let line = item.line.unwrap_or(0);
    let range = line_range(text, line);
    let examples = item
        .examples
        .iter()
        .map(|e| Example {
            source: e.source.clone(),
            want: e.want.clone(),
            line,
            range,
            options: e.options.clone(),
            skip: e.skip,
        })
        .collect::<Vec<_>>();
    // The docstring comes from running the whole file: its text is part of the key.
    let mut identity = format!("runtime\0{}\0", item.name);
    for e in &examples {
        identity.push_str(&e.source);
        identity.push('\0');
        identity.push_str(&e.want);
        identity.push('\0');
    }
    identity.push_str(text);
    let name = item.name.rsplit('.').next().unwrap_or(&item.name).to_string();
    Function {
        kind: Kind::Runtime,
        name,
        qualified_name: item.name.clone(),
        range,
        name_range: range,
        signature: String::new(),
        docstring: None,
        examples,
        key: FunctionKey::of_text(&identity),
        has_error: false,
    }
}

/// The text of 0-based line `line` without its indentation and line ending (the file's last line
/// when there are fewer).
fn line_range(text: &str, line: u32) -> TextRange {
    let mut start = 0;
    let mut lines = text.split_inclusive('\n').peekable();
    let mut current = "";
    let mut n = 0;
    while let Some(l) = lines.next() {
        current = l;
        if n == line || lines.peek().is_none() {
            break;
        }
        start += l.len();
        n += 1;
    }
    let content = current.trim_end_matches(['\n', '\r']);
    let indent = content.len() - content.trim_start().len();
    TextRange::new(start + indent, start + content.len().max(indent))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_sit_on_their_objects_line() {
        let text = "import x\n\n    def f():\n        pass\n";
        assert_eq!(line_range(text, 2), TextRange::new(14, 22));
        assert_eq!(line_range(text, 99), TextRange::new(31, 35), "past the end: the last line");
        let item = FoundDocstring {
            name: "C.m".into(),
            line: Some(2),
            examples: vec![crate::sandbox::FoundExample {
                source: "1 + 1\n".into(),
                want: "2\n".into(),
                options: vec!["ELLIPSIS".into()],
                skip: false,
            }],
        };
        let f = entry(text, &item);
        assert_eq!((f.name.as_str(), f.kind, f.range), ("m", Kind::Runtime, TextRange::new(14, 22)));
        assert_eq!(f.examples[0].line, 2);
        assert_ne!(f.key, entry(&format!("{text}\n"), &item).key, "the file's text is part of the key");
    }
}
