//! Fixture-driven syntax tests: the input and the expected extraction side by side
//! (`UPDATE_EXPECT=1 cargo test` rewrites the expectations).

use expect_test::{Expect, expect};

use super::*;

/// Renders what `parse` extracted, one line per fact, with 0-based lines.
fn render(text: &str) -> String {
    let parsed = parse(text);
    let index = LineIndex::new(text);
    let pos = |o| {
        let p = index.position(text, o, PositionEncoding::Utf16);
        format!("{}:{}", p.line, p.character)
    };
    let mut out = String::new();
    for f in &parsed.functions {
        out.push_str(&format!(
            "fn {} [{}] {}..{} `{}`{}\n",
            f.name,
            f.qualified_name,
            pos(f.range.start),
            pos(f.range.end),
            f.signature,
            if f.has_error { " has_error" } else { "" }
        ));
        if let Some(d) = &f.docstring {
            out.push_str(&format!("  doc {:?}\n", d.value.lines().next().unwrap_or("")));
        }
        for e in &f.examples {
            out.push_str(&format!(
                "  ex line {} {}..{} src={:?} want={:?}{}{}\n",
                e.line,
                pos(e.range.start),
                pos(e.range.end),
                e.source,
                e.want,
                if e.options.is_empty() { String::new() } else { format!(" options={:?}", e.options) },
                if e.skip { " skip" } else { "" }
            ));
        }
    }
    for t in &parsed.top_level {
        out.push_str(&format!("top line {}{}\n", t.line, if t.has_error { " has_error" } else { "" }));
    }
    for i in &parsed.syntax_issues {
        out.push_str(&format!("issue {}..{} {}\n", pos(i.range.start), pos(i.range.end), i.message));
    }
    out
}

#[track_caller]
fn check(text: &str, expect: Expect) {
    expect.assert_eq(&render(text));
}

#[test]
fn queries_compile() {
    check_queries();
}

#[test]
fn function_with_value_and_exception_examples() {
    check(
        r#"
def mean(values):
    """Arithmetic mean.

    >>> mean([1, 2])
    1.5
    >>> mean([])
    Traceback (most recent call last):
        ...
    ValueError: empty
    """
    return sum(values) / len(values)
"#,
        expect![[r#"
            fn mean [mean] 1:0..11:36 `def mean(values):`
              doc "Arithmetic mean."
              ex line 4 4:4..4:20 src="mean([1, 2])\n" want="1.5\n"
              ex line 6 6:4..6:16 src="mean([])\n" want="Traceback (most recent call last):\n    ...\nValueError: empty\n"
            top line 1
        "#]],
    );
}

#[test]
fn qualified_names_for_methods_nested_async_and_decorated() {
    check(
        r#"
import functools

class Box:
    @functools.cache
    def size(self) -> int:
        return 1

    async def fetch(self, *, key: str = "a"):
        def helper(x):
            return x
        return helper(key)
"#,
        expect![[r#"
            fn size [Box.size] 4:4..6:16 `def size(self) -> int:`
            fn fetch [Box.fetch] 8:4..11:26 `async def fetch(self, *, key: str = "a"):`
            fn helper [Box.fetch.<locals>.helper] 9:8..10:20 `def helper(x):`
            top line 1
            top line 3
        "#]],
    );
}

#[test]
fn continuation_lines_directives_and_assert_form() {
    check(
        r#"
def f(xs):
    """
    >>> total = 0
    >>> for x in [1, 2]:
    ...     total += f([x])
    >>> total
    3
    >>> f(list(range(100)))  # doctest: +ELLIPSIS
    4...
    >>> f([1]) == 1
    >>> f(None)  # doctest: +SKIP
    0
    """
    return sum(xs)
"#,
        expect![[r#"
            fn f [f] 1:0..14:18 `def f(xs):`
              doc ""
              ex line 3 3:4..3:17 src="total = 0\n" want=""
              ex line 4 4:4..5:27 src="for x in [1, 2]:\n    total += f([x])\n" want=""
              ex line 6 6:4..6:13 src="total\n" want="3\n"
              ex line 8 8:4..8:49 src="f(list(range(100)))  # doctest: +ELLIPSIS\n" want="4...\n" options=["ELLIPSIS"]
              ex line 10 10:4..10:19 src="f([1]) == 1\n" want=""
              ex line 11 11:4..11:33 src="f(None)  # doctest: +SKIP\n" want="0\n" skip
            top line 1
        "#]],
    );
}

#[test]
fn raw_and_escaped_docstrings() {
    check(
        r#"
def raw():
    r"""
    >>> print("a\nb")
    a
    b
    """

def escaped():
    """
    >>> print("a\\tb")
    a	b
    >>> len('\u00e9')
    1
    """
"#,
        expect![[r#"
            fn raw [raw] 1:0..6:7 `def raw():`
              doc ""
              ex line 3 3:4..3:21 src="print(\"a\\nb\")\n" want="a\nb\n"
            fn escaped [escaped] 8:0..14:7 `def escaped():`
              doc ""
              ex line 10 10:4..10:22 src="print(\"a\\tb\")\n" want="a\tb\n"
              ex line 12 12:4..12:21 src="len('é')\n" want="1\n"
            top line 1
            top line 8
        "#]],
    );
}

#[test]
fn syntax_errors_are_findings_and_functions_survive() {
    check(
        r#"
def good(x):
    """
    >>> good(1)
    2
    """
    return x + 1

def broken(x):
    return (x +

def after():
    return 3
"#,
        expect![[r#"
            fn good [good] 1:0..6:16 `def good(x):`
              doc ""
              ex line 3 3:4..3:15 src="good(1)\n" want="2\n"
            fn broken [broken] 8:0..9:15 `def broken(x): return (x +` has_error
            fn after [after] 11:0..12:12 `def after():`
            top line 1
            top line 8 has_error
            top line 11
            issue 9:4..9:15 syntax error: unexpected `return (x +`
        "#]],
    );
}

#[test]
fn parsing_never_panics_on_garbage() {
    let inputs = [
        "",
        "\0\0\0",
        "def",
        "def f(:\n  '''\n  >>> ",
        "'''\n>>> x\n",
        "class C(\n    def m(self): '''>>> 1\n1'''",
        "def f():\n    '''\n    >>>\n    ...\n    '''\n",
        "\u{feff}def f(): pass\r\n",
        "def f():\r\n    \"\"\"\r\n    >>> 1\r\n    1\r\n    \"\"\"\r\n",
        "def 𝔣():\n    '''>>> 1\n    1'''",
        "if True:\n\tdef f(): pass\n        x = (",
    ];
    for input in inputs {
        let parsed = parse(input);
        for f in &parsed.functions {
            assert!(f.range.end <= input.len());
            for e in &f.examples {
                assert!(e.range.start <= e.range.end && e.range.end <= input.len(), "{input:?}");
            }
        }
    }
    // Deeply nested brackets and long lines too.
    let deep = format!("x = {}{}\n", "[".repeat(5000), "]".repeat(5000));
    let _ = parse(&deep);
    let long = format!("def f():\n    '''\n    >>> {}\n    '''\n", "1+".repeat(100_000) + "1");
    assert_eq!(parse(&long).functions[0].examples.len(), 1);
}

#[test]
fn crlf_examples_have_clean_text() {
    let text = "def f():\r\n    \"\"\"\r\n    >>> f()\r\n    1\r\n    \"\"\"\r\n    return 1\r\n";
    let f = &parse(text).functions[0];
    assert_eq!(f.examples[0].source, "f()\n");
    assert_eq!(f.examples[0].want, "1\n");
}

#[test]
fn keys_depend_on_the_function_text_only() {
    let a = "def f(x):\n    return x\n\ndef g():\n    return 1\n";
    let b = "import os\n\n\ndef f(x):\n    return x\n\ndef g():\n    return 2\n";
    let (pa, pb) = (parse(a), parse(b));
    assert_eq!(pa.functions[0].key, pb.functions[0].key, "moving f and editing g keeps f's key");
    assert_ne!(pa.functions[1].key, pb.functions[1].key, "editing g changes g's key");
    assert_eq!(pa.functions[0].key.to_string().len(), 32);
}

#[test]
fn positions_in_utf16_utf8_and_code_points() {
    let text = "s = '𝔣é'\nx = 1\n";
    let index = LineIndex::new(text);
    let x = text.find("'\n").unwrap();
    assert_eq!(index.position(text, x, PositionEncoding::Utf16), Position { line: 0, character: 8 });
    assert_eq!(index.position(text, x, PositionEncoding::Utf8), Position { line: 0, character: 11 });
    assert_eq!(index.position(text, x, PositionEncoding::Utf32), Position { line: 0, character: 7 });
    for enc in [PositionEncoding::Utf16, PositionEncoding::Utf8, PositionEncoding::Utf32] {
        let p = index.position(text, x, enc);
        assert_eq!(index.offset(text, p, enc), x);
    }
    assert_eq!(index.position(text, text.len(), PositionEncoding::Utf16), Position { line: 2, character: 0 });
}

#[test]
fn string_values() {
    assert_eq!(string_value(r#""a\nb""#), "a\nb");
    assert_eq!(string_value(r#"r"a\nb""#), "a\\nb");
    assert_eq!(string_value(r#"'''x'''"#), "x");
    assert_eq!(string_value(r#""\x41\u00e9\N{BULLET}\q""#), "Aé\\N{BULLET}\\q");
    assert_eq!(string_value(r#""\101""#), "A");
}

#[test]
fn lines_end_at_lf_crlf_and_lone_cr_and_positions_stay_in_the_content() {
    let text = "a = 1\r\n    return 'abc'\r\nb\rc\n";
    let index = LineIndex::new(text);
    assert_eq!(index.line_count(), 5);
    let enc = PositionEncoding::Utf16;
    // Past the end of a CRLF line: the end of its content, never between `\r` and `\n`.
    let end = text.find("'\r\n").unwrap() + 1;
    assert_eq!(index.offset(text, Position { line: 1, character: 1000 }, enc), end);
    // An offset inside the line ending reads as the end of the content.
    assert_eq!(index.position(text, end + 1, enc), Position { line: 1, character: 16 });
    // A lone `\r` ends a line too.
    let c = text.rfind('c').unwrap();
    assert_eq!(index.position(text, c, enc), Position { line: 3, character: 0 });
    assert_eq!(index.offset(text, Position { line: 2, character: 9 }, enc), c - 1);
    assert_eq!(index.line_range(text, 1), (7, end));
}

#[test]
fn comment_only_examples_are_no_examples_as_in_doctest() {
    let text = "def f():\n    \"\"\"\n    >>> # set up\n    >>> x = 1  # a real one\n    >>> #\n    >>> # a comment\n    ... # and more\n    \"\"\"\n";
    let parsed = parse(text);
    let sources: Vec<&str> = parsed.functions[0].examples.iter().map(|e| e.source.as_str()).collect();
    // The two-line comment is kept, as doctest keeps it (its regex only matches one line).
    assert_eq!(sources, ["x = 1  # a real one\n", "# a comment\n# and more\n"]);
}

#[test]
fn a_backslash_at_the_end_of_a_docstring_line_joins_it_to_the_next() {
    let text = "def f():\n    \"\"\"\n    >>> f() == \\\n        1\n    True\n    \"\"\"\n    return 1\n";
    let parsed = parse(text);
    let ex = &parsed.functions[0].examples;
    assert_eq!(ex.len(), 1, "{ex:?}");
    assert_eq!(ex[0].source, "f() ==         1\n");
    assert_eq!(ex[0].want, "True\n");
    assert_eq!(ex[0].line, 2);
    // In a raw docstring the backslash stays, as doctest sees it.
    let raw = "def f():\n    r\"\"\"\n    >>> 1 + \\\n    ... 1\n    2\n    \"\"\"\n";
    assert_eq!(parse(raw).functions[0].examples[0].source, "1 + \\\n1\n");
}
