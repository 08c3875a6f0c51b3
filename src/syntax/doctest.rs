//! `>>>` examples in a docstring, found the way Python's `doctest.DocTestParser` finds them, with
//! their place in the file.

use serde::Serialize;
use tree_sitter::Node;

use super::{TextRange, decode_escapes, split_literal};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Example {
    /// The statement(s) after `>>>` / `...`, newline-terminated.
    pub source: String,
    /// The expected output, newline-terminated, or empty.
    pub want: String,
    /// 0-based line of the `>>>` in the file.
    pub line: u32,
    /// From `>>>` to the end of the last source line.
    pub range: TextRange,
    /// doctest option flags switched on by `# doctest: +FLAG` (names without the `+`).
    pub options: Vec<String>,
    /// `# doctest: +SKIP`.
    pub skip: bool,
}

/// One line of the docstring's value with where its raw text sits in the file.
struct Line {
    value: String,
    start: usize,
    end: usize,
    row: u32,
}

/// Examples in the docstring whose string literal is `node`.
pub fn parse_examples(text: &str, node: Node<'_>) -> Vec<Example> {
    let literal = &text[node.start_byte()..node.end_byte()];
    let (prefix, body) = split_literal(literal);
    let raw = prefix.contains(['r', 'R']);
    // Byte offset of the body in the file.
    let body_offset = node.start_byte() + (body.as_ptr() as usize - literal.as_ptr() as usize);
    let first_row = node.start_position().row as u32;
    let mut lines = Vec::new();
    let mut offset = body_offset;
    // In a non-raw literal a backslash at the end of a line joins it to the next: the docstring's
    // value (what doctest reads) has one line where the file has two.
    let mut pending: Option<(usize, u32)> = None;
    for (i, raw_line) in body.split('\n').enumerate() {
        let (start, row) = pending.take().unwrap_or((offset, first_row + i as u32));
        let end = offset + raw_line.len();
        offset = end + 1;
        let content = raw_line.strip_suffix('\r').unwrap_or(raw_line);
        let backslashes = content.len() - content.trim_end_matches('\\').len();
        if !raw && backslashes % 2 == 1 && offset <= body_offset + body.len() {
            pending = Some((start, row));
            continue;
        }
        let joined = &text[start..end];
        let value = if raw { joined.to_string() } else { decode_escapes(&joined.replace("\\\r\n", "\\\n")) };
        let value = value.strip_suffix('\r').map(str::to_string).unwrap_or(value);
        lines.push(Line { value, start, end, row });
    }
    parse_lines(text, &lines)
}

fn indent_of(s: &str) -> usize {
    s.len() - s.trim_start_matches(' ').len()
}

fn parse_lines(text: &str, lines: &[Line]) -> Vec<Example> {
    let mut examples = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = &lines[i].value;
        let indent = indent_of(line);
        if !line[indent..].starts_with(">>>") {
            i += 1;
            continue;
        }
        let mut source = vec![after_prompt(line, indent)];
        let mut j = i + 1;
        let continuation = format!("{}...", " ".repeat(indent));
        while j < lines.len() && lines[j].value.starts_with(&continuation) {
            source.push(after_prompt(&lines[j].value, indent));
            j += 1;
        }
        let last_source = j - 1;
        let mut want = Vec::new();
        while j < lines.len() {
            let w = &lines[j].value;
            let t = w.trim_start_matches(' ');
            if t.trim().is_empty() || t.starts_with(">>>") {
                break;
            }
            let strip = indent_of(w).min(indent);
            want.push(&w[strip..]);
            j += 1;
        }
        let source_text = source.join("\n");
        // doctest's `_IS_BLANK_OR_COMMENT`: a one-line source that is blank or only a comment is no
        // example at all (and its expected output, if any, belongs to nothing).
        if !source_text.contains('\n') && matches!(source_text.trim_start_matches(' ').chars().next(), None | Some('#'))
        {
            i = j;
            continue;
        }
        let (options, skip) = options_of(&source_text);
        // The range starts at `>>>` in the raw line (escapes never precede it in practice).
        let raw_first = &text[lines[i].start..lines[i].end];
        let start = lines[i].start + raw_first.find(">>>").unwrap_or(0);
        examples.push(Example {
            source: format!("{source_text}\n"),
            want: if want.is_empty() { String::new() } else { format!("{}\n", want.join("\n")) },
            line: lines[i].row,
            range: TextRange::new(start, lines[last_source].end.max(start)),
            options,
            skip,
        });
        i = j;
    }
    examples
}

/// The text after `>>> ` or `... ` (doctest strips the prompt and one space).
fn after_prompt(line: &str, indent: usize) -> String {
    let rest = line.get(indent + 3..).unwrap_or("");
    rest.strip_prefix(' ').unwrap_or(rest).to_string()
}

/// doctest directives: `# doctest: +ELLIPSIS, -NORMALIZE_WHITESPACE, +SKIP`.
fn options_of(source: &str) -> (Vec<String>, bool) {
    let mut on: Vec<String> = Vec::new();
    let mut skip = false;
    for line in source.lines() {
        let Some(at) = line.find("doctest:") else { continue };
        let before = line[..at].trim_end();
        if !before.ends_with('#') {
            continue;
        }
        for option in line[at + "doctest:".len()..].split(|c: char| c == ',' || c.is_whitespace()) {
            let (enable, name) = match option.split_at_checked(1) {
                Some(("+", name)) => (true, name),
                Some(("-", name)) => (false, name),
                _ => continue,
            };
            if name == "SKIP" {
                skip = enable;
            } else if enable {
                if !on.iter().any(|o| o == name) {
                    on.push(name.to_string());
                }
            } else {
                on.retain(|o| o != name);
            }
        }
    }
    (on, skip)
}
