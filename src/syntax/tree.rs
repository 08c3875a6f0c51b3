//! Parsing a text into a tree-sitter tree in linear time, within a deadline.
//!
//! tree-sitter-python's external scanner (0.25.0, the newest release, and upstream master) looks
//! ahead over every following comment line and blank line each time a comment token may end a
//! statement or a block, and throws the look-ahead away: a run of n comment lines after a statement
//! costs O(n²) (20,000 lines: 35 s). So before parsing, long runs of whole-line comments are blanked
//! (the bytes from `#` to the line's end become spaces: every offset, line and column stays), except
//! the lines the scanner's indentation decisions depend on: the first and last of the run, each line
//! whose indentation is a new minimum for the run, and the line before it. If a blanked line turns
//! out to be inside a string (the tree disagrees with this module's reading of the text, which only
//! happens in broken code), the original text is parsed instead. Every parse has a deadline.

use std::ops::{ControlFlow, Range};
use std::time::{Duration, Instant};

use tree_sitter::{Language, ParseOptions, Parser, Tree};

/// Runs shorter than this are left alone: normal files parse byte for byte as written.
const MIN_RUN: usize = 64;
/// A parse that takes longer than this is abandoned.
pub const PARSE_BUDGET: Duration = Duration::from_secs(5);

/// The tree of `text`, or `None` when it could not be parsed within the deadline. Trees of valid
/// code are the same as a plain parse's (comment nodes of blanked lines aside).
pub fn parse_tree(language: &Language, text: &str) -> Option<Tree> {
    parse_tree_with(language, text, MIN_RUN, PARSE_BUDGET)
}

fn parse_tree_with(language: &Language, text: &str, min_run: usize, budget: Duration) -> Option<Tree> {
    let mut parser = Parser::new();
    parser.set_language(language).ok()?;
    let bytes = text.as_bytes();
    let blanks = comment_blanks(bytes, min_run);
    if !blanks.is_empty() {
        let mut buffer = bytes.to_vec();
        for r in &blanks {
            buffer[r.clone()].fill(b' ');
        }
        if let Some(tree) = parse_bytes(&mut parser, &buffer, budget) {
            let inside_string = blanks.iter().any(|r| {
                let mut node = tree.root_node().descendant_for_byte_range(r.start, r.end);
                while let Some(n) = node {
                    if n.kind() == "string" {
                        return true;
                    }
                    node = n.parent();
                }
                false
            });
            if !inside_string {
                return Some(tree);
            }
        }
        parser.reset();
    }
    parse_bytes(&mut parser, bytes, budget)
}

fn parse_bytes(parser: &mut Parser, bytes: &[u8], budget: Duration) -> Option<Tree> {
    let started = Instant::now();
    let mut read = |i: usize, _| if i < bytes.len() { &bytes[i..] } else { &[][..] };
    let mut progress = |_: &tree_sitter::ParseState| {
        if started.elapsed() > budget { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
    };
    let tree = parser.parse_with_options(&mut read, None, Some(ParseOptions::new().progress_callback(&mut progress)));
    if tree.is_none() {
        parser.reset();
    }
    tree
}

/// `(line start, '#', end)` of each comment that is alone on its line, outside strings; `end`
/// excludes the line ending.
fn full_line_comments(b: &[u8]) -> Vec<(usize, usize, usize)> {
    // A backslash escapes the next byte, or a whole `\r\n`.
    let step = |i: usize| if b.get(i + 1) == Some(&b'\r') && b.get(i + 2) == Some(&b'\n') { 3 } else { 2 };
    let (mut out, mut i, mut line_start, mut fresh) = (Vec::new(), 0, 0, true);
    while i < b.len() {
        match b[i] {
            b'\n' => {
                i += 1;
                line_start = i;
                fresh = true;
            }
            b' ' | b'\t' | b'\x0c' | b'\r' => i += 1,
            b'#' => {
                let eol = b[i..].iter().position(|&c| c == b'\n').map_or(b.len(), |k| i + k);
                if fresh {
                    let end = if eol > i && b[eol - 1] == b'\r' { eol - 1 } else { eol };
                    out.push((line_start, i, end));
                }
                i = eol;
            }
            // A continuation: the next line does not start a statement.
            b'\\' => {
                fresh = false;
                i += step(i);
            }
            q @ (b'\'' | b'"' | b'`') => {
                fresh = false;
                let triple = q != b'`' && b[i..].starts_with(&[q, q, q]);
                i += if triple { 3 } else { 1 };
                while i < b.len() {
                    match b[i] {
                        b'\\' => i += step(i),
                        c if c == q && !triple => {
                            i += 1;
                            break;
                        }
                        c if c == q && b[i..].starts_with(&[q, q, q]) => {
                            i += 3;
                            break;
                        }
                        b'\n' if !triple => break,
                        _ => i += 1,
                    }
                }
            }
            _ => {
                fresh = false;
                i += 1;
            }
        }
    }
    out
}

/// Indentation as the scanner measures it: a space 1, a tab 8, `\r` and form feed start over.
fn indent_width(ws: &[u8]) -> u32 {
    ws.iter().fold(0, |w, &c| match c {
        b' ' => w + 1,
        b'\t' => w + 8,
        _ => 0,
    })
}

/// The byte ranges to blank: the comment text of the lines of long runs that the scanner's
/// decisions do not depend on.
fn comment_blanks(b: &[u8], min_run: usize) -> Vec<Range<usize>> {
    let lines = full_line_comments(b);
    let mut out = Vec::new();
    let mut s = 0;
    while s < lines.len() {
        // A run: comment lines with only white space between them.
        let mut e = s + 1;
        while e < lines.len() && b[lines[e - 1].2..lines[e].0].iter().all(|c| b" \t\x0c\r\n".contains(c)) {
            e += 1;
        }
        let run = &lines[s..e];
        if run.len() >= min_run {
            let mut keep = vec![false; run.len()];
            keep[0] = true;
            keep[run.len() - 1] = true;
            let mut lowest = indent_width(&b[run[0].0..run[0].1]);
            for k in 1..run.len() {
                let w = indent_width(&b[run[k].0..run[k].1]);
                if w < lowest {
                    keep[k] = true;
                    keep[k - 1] = true;
                    lowest = w;
                }
            }
            out.extend(run.iter().zip(&keep).filter(|(_, k)| !**k).map(|(l, _)| l.1..l.2));
        }
        s = e;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn language() -> Language {
        tree_sitter_python::LANGUAGE.into()
    }

    /// Every node but comments, as (kind, range, error, missing), in order.
    fn shape(tree: &Tree) -> Vec<(String, Range<usize>, bool, bool)> {
        let mut out = Vec::new();
        let mut cursor = tree.walk();
        let mut stack = vec![tree.root_node()];
        while let Some(n) = stack.pop() {
            if n.kind() != "comment" {
                out.push((n.kind().to_string(), n.byte_range(), n.is_error(), n.is_missing()));
            }
            let children: Vec<_> = n.children(&mut cursor).collect();
            stack.extend(children.into_iter().rev());
        }
        out
    }

    #[test]
    fn blanking_keeps_the_tree_of_valid_code() {
        let cases = [
            "def f():\n    x = 1\n    # a\n    # b\n    # c\n# d\n# e\ny = 2\n",
            "class A:\n    def f(self):\n        pass\n        # trailing\n        # more\n    # method gone\n    # x\n\n# top\nz = 1\n",
            "def f():\r\n    return 1\r\n    # a\r\n\t# b\r\n# c\r\n# d\r\n",
            "x = 1 + \\\n# not a comment line start\n2\n# a\n# b\n# c\n",
            "def f():\n    \"\"\"\n    # doctest: +SKIP\n    >>> f()  # doctest: +ELLIPSIS\n    # inside\n    \"\"\"\n    # a\n    # b\n  # c\n# d\n",
            "if x:\n    pass\n        # deeper\n    # same\n  # less\n # least\n# none\nelse:\n    pass\n",
            "x = 1\n# a\n# b\n\n# c\n# d\n# e\ny = 2\n",
            "def f():\n    return 1\n    # 1\n    # 2\n    # 3\n    # 4\n# 5\n# 6\n# 7\nz = 0\n",
            "class A:\n    x = 1\n    # 1\n    # 2\n    # 3\n    y = 2\n",
        ];
        let mut blanked_lines = 0;
        for text in cases {
            let mut plain = Parser::new();
            plain.set_language(&language()).unwrap();
            let original = plain.parse(text, None).unwrap();
            // Blank every run of one line or more.
            let blanked = parse_tree_with(&language(), text, 1, PARSE_BUDGET).unwrap();
            assert_eq!(shape(&blanked), shape(&original), "{text:?}");
            blanked_lines += comment_blanks(text.as_bytes(), 1).len();
        }
        assert!(blanked_lines >= 8, "the cases exercise blanking: {blanked_lines}");
    }

    #[test]
    fn comments_inside_strings_are_never_blanked() {
        let text = "s = '''\n# one\n# two\n# three\n'''\nt = \"# x\"\n";
        assert!(comment_blanks(text.as_bytes(), 1).is_empty());
        let lines = full_line_comments(b"x = 1\n  # a\ny = 2  # tail\n");
        assert_eq!(lines, vec![(6, 8, 11)]);
    }

    #[test]
    fn a_long_run_of_comments_after_a_block_parses_quickly() {
        let mut text = String::from("def f():\n    return 1\n");
        for i in 0..20_000 {
            text.push_str(&format!("# comment {i}\n"));
        }
        text.push_str("def g():\n    return 2\n");
        let started = Instant::now();
        let tree = parse_tree(&language(), &text).expect("parsed");
        assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
        let root = tree.root_node();
        assert!(!root.has_error());
        let mut cursor = root.walk();
        let functions = root.named_children(&mut cursor).filter(|n| n.kind() == "function_definition").count();
        assert_eq!(functions, 2);
    }

    #[test]
    fn a_parse_past_its_deadline_gives_up() {
        let text = format!("x = 1\n{}", "# c\n".repeat(20_000));
        // Without blanking (a run never counts as long) and with no time: abandoned, no tree.
        assert!(parse_tree_with(&language(), &text, usize::MAX, Duration::ZERO).is_none());
    }
}
