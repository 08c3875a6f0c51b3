//! Feedback text: doctest's own report layout, with the normalised traceback as "Got". The same
//! text goes to the editor and to the training store (LeTI), so it must be deterministic: no
//! timings, no host paths, no terminal escapes.

use crate::evidence::Ran;
use crate::syntax::Example;

/// The first line of a snippet, trimmed and clipped for one-line messages.
pub fn first_line(source: &str) -> String {
    let mut lines = source.lines().filter(|l| !l.trim().is_empty());
    let first = lines.next().unwrap_or("").trim();
    let more = lines.next().is_some();
    let clipped = clip(first, 80);
    if more && !clipped.ends_with('…') { format!("{clipped} …") } else { clipped }
}

/// At most `max` characters, with `…` when cut; control characters made visible.
pub(crate) fn clip(s: &str, max: usize) -> String {
    let clean = neutralise(s);
    if clean.chars().count() <= max {
        clean
    } else {
        let mut out: String = clean.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

/// Terminal escapes and other control characters (but newlines and tabs) shown as `\x1b`-style
/// escapes, so guest output can never drive the reader's terminal or editor.
pub(crate) fn neutralise(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if (c.is_control() && c != '\n' && c != '\t') || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202e}' | '\u{202d}')
        {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

/// What a completed example gave, for a one-line message.
pub(crate) fn describe_got(ran: &Ran) -> String {
    match &ran.value {
        Some(v) if ran.stdout.trim_end() == v.repr.trim_end() => format!("returned {}", clip(&v.repr, 80)),
        _ if ran.stdout.is_empty() => "returned None".to_string(),
        _ => format!("printed {}", clip(&format!("{:?}", ran.stdout.trim_end_matches('\n')), 80)),
    }
}

/// The expected value for a message: the literal's repr when the want was a literal.
pub(crate) fn expected_text(example: &Example, ran: &Ran) -> String {
    if let Some(expected) = &ran.expected {
        return clip(expected, 80);
    }
    let want = example.want.trim_end();
    if want.lines().count() <= 1 {
        clip(want, 80)
    } else {
        format!("{} (+{} lines)", clip(want.lines().next().unwrap_or(""), 60), want.lines().count() - 1)
    }
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("    {l}\n")).collect()
}

/// What an example gave, for the report: printed output (indented, as doctest shows it) or a
/// traceback / runtime message (shown as is).
pub(crate) enum Got<'a> {
    Output(&'a str),
    Raw(&'a str),
}

/// doctest's failure report for one example.
pub(crate) fn doctest_report(filename: &str, example: &Example, function: &str, got: Got<'_>) -> String {
    let mut out = format!("File \"{filename}\", line {}, in {function}\nFailed example:\n", example.line + 1);
    out.push_str(&indent(&example.source));
    if example.want.is_empty() {
        out.push_str("Expected nothing\n");
    } else {
        out.push_str("Expected:\n");
        out.push_str(&indent(&example.want));
    }
    match got {
        Got::Output("") | Got::Raw("") => out.push_str("Got nothing\n"),
        Got::Output(text) => {
            out.push_str("Got:\n");
            out.push_str(&indent(&neutralise(text)));
        }
        Got::Raw(text) => {
            out.push_str("Got:\n");
            out.push_str(&neutralise(text));
            if !text.ends_with('\n') {
                out.push('\n');
            }
        }
    }
    out
}
