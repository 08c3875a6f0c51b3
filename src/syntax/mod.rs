//! Python source → functions, docstrings, `>>>` examples, top-level statements and syntax errors,
//! with tree-sitter. Parsing never fails: broken code gives a tree with error nodes, which become
//! [`SyntaxIssue`]s, and every function still found is extracted.

mod doctest;
mod line_index;
mod tree;

use std::sync::OnceLock;

use serde::Serialize;
use sha2::{Digest, Sha256};
use tree_sitter::{Language, Node, Query, QueryCursor, StreamingIterator};

pub use tree::{PARSE_BUDGET, parse_tree};

pub use doctest::{Example, parse_examples};
pub use line_index::{LineIndex, Position, PositionEncoding};

pub const FUNCTIONS_QUERY: &str = include_str!("../../grammars/python/functions.scm");
pub const DOCSTRINGS_QUERY: &str = include_str!("../../grammars/python/docstrings.scm");
pub const CLASSES_QUERY: &str = include_str!("../../grammars/python/classes.scm");
pub const ERRORS_QUERY: &str = include_str!("../../grammars/python/errors.scm");

/// A byte range in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct TextRange {
    pub start: usize,
    pub end: usize,
}

impl TextRange {
    pub fn new(start: usize, end: usize) -> Self {
        TextRange { start, end }
    }
    fn of(node: Node<'_>) -> Self {
        TextRange { start: node.start_byte(), end: node.end_byte() }
    }
}

/// The identity of a function for caching: a hash of its text only, so that edits elsewhere in the
/// file never change it and undo brings the old key back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct FunctionKey(pub [u8; 16]);

impl FunctionKey {
    pub fn of_text(text: &str) -> FunctionKey {
        let digest = Sha256::digest(text.as_bytes());
        let mut key = [0; 16];
        key.copy_from_slice(&digest[..16]);
        FunctionKey(key)
    }
}

impl std::fmt::Display for FunctionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Docstring {
    /// The string's value (escapes decoded, quotes removed).
    pub value: String,
    pub range: TextRange,
}

/// What holds a docstring with examples. Classes and the module are there only for their
/// examples (doctest runs those as items of their own); only functions get model evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Function,
    Class,
    Module,
    /// A docstring that exists only when the module runs (assigned to `__doc__`, or on a generated
    /// function), found by doctest's own finder in the sandbox; placed at its object's line.
    Runtime,
}

/// A function, or a class or module whose docstring has examples.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Function {
    pub kind: Kind,
    pub name: String,
    /// Python's `__qualname__`: `Class.method`, `outer.<locals>.inner`.
    pub qualified_name: String,
    /// The whole definition, decorators included.
    pub range: TextRange,
    pub name_range: TextRange,
    /// `def name(params) -> ret:` as written (async included), on one line.
    pub signature: String,
    pub docstring: Option<Docstring>,
    pub examples: Vec<Example>,
    pub key: FunctionKey,
    /// The function's text contains a syntax error.
    pub has_error: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SyntaxIssue {
    pub range: TextRange,
    pub message: String,
}

/// A top-level statement: what the sandbox executes, one at a time, to build the module.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TopLevel {
    pub range: TextRange,
    pub line: u32,
    pub has_error: bool,
}

#[derive(Debug, Clone)]
pub struct ParsedFile {
    pub functions: Vec<Function>,
    pub top_level: Vec<TopLevel>,
    pub syntax_issues: Vec<SyntaxIssue>,
    /// The parse did not finish within its deadline: nothing of the file was analysed.
    pub timed_out: bool,
}

struct Queries {
    language: Language,
    functions: Query,
    classes: Query,
    docstrings: Query,
    errors: Query,
}

fn queries() -> &'static Queries {
    static QUERIES: OnceLock<Queries> = OnceLock::new();
    QUERIES.get_or_init(|| {
        let language: Language = tree_sitter_python::LANGUAGE.into();
        let compile = |name: &str, text: &str| {
            Query::new(&language, text).unwrap_or_else(|e| panic!("grammars/python/{name}.scm does not compile: {e}"))
        };
        Queries {
            functions: compile("functions", FUNCTIONS_QUERY),
            classes: compile("classes", CLASSES_QUERY),
            docstrings: compile("docstrings", DOCSTRINGS_QUERY),
            errors: compile("errors", ERRORS_QUERY),
            language,
        }
    })
}

/// Compiles the embedded queries; a test calls this so that a broken `.scm` fails the build's tests.
pub fn check_queries() {
    let _ = queries();
}

/// Parses a Python file. Never fails.
pub fn parse(text: &str) -> ParsedFile {
    let q = queries();
    let Some(tree) = tree::parse_tree(&q.language, text) else {
        // Past the parse's deadline: nothing is analysed, and the file says so.
        return ParsedFile { functions: Vec::new(), top_level: Vec::new(), syntax_issues: Vec::new(), timed_out: true };
    };
    let root = tree.root_node();
    let bytes = text.as_bytes();

    let mut docstrings = std::collections::HashMap::new();
    let mut cursor = QueryCursor::new();
    let mut matches = cursor.matches(&q.docstrings, root, bytes);
    while let Some(m) = matches.next() {
        if let Some(c) = m.captures().first() {
            let def = c.node.parent().and_then(|n| n.parent()).and_then(|n| n.parent());
            if let Some(def) = def {
                docstrings.insert(def.id(), c.node);
            }
        }
    }

    let name_idx = q.functions.capture_index_for_name("name").expect("@name in functions.scm");
    let params_idx = q.functions.capture_index_for_name("parameters").expect("@parameters");
    let body_idx = q.functions.capture_index_for_name("body").expect("@body");
    let fn_idx = q.functions.capture_index_for_name("function").expect("@function");
    let mut functions = Vec::new();
    let mut cursor = QueryCursor::new();
    let mut matches = cursor.matches(&q.functions, root, bytes);
    while let Some(m) = matches.next() {
        let get = |idx| m.captures().iter().find(|c| c.index == idx).map(|c| c.node);
        let (Some(def), Some(name), Some(params), Some(body)) =
            (get(fn_idx), get(name_idx), get(params_idx), get(body_idx))
        else {
            continue;
        };
        let _ = params;
        let docstring = docstrings.get(&def.id()).copied();
        let examples = docstring.map(|node| parse_examples(text, node)).unwrap_or_default();
        functions.push(definition(Kind::Function, text, def, name, body, docstring, examples));
    }
    classes(q, root, text, &docstrings, &mut functions);
    if let Some(module) = module_docstring(root, text) {
        functions.push(module);
    }
    functions.sort_by_key(|f| f.range.start);

    let mut syntax_issues = Vec::new();
    let mut cursor = QueryCursor::new();
    let mut matches = cursor.matches(&q.errors, root, bytes);
    while let Some(m) = matches.next() {
        for c in m.captures() {
            syntax_issues.push(syntax_issue(c.node, text));
        }
    }
    // MISSING nodes are found by walking too, in case the query form is not supported by a grammar.
    collect_missing(root, text, &mut syntax_issues);
    syntax_issues.sort_by_key(|i| (i.range.start, i.range.end));
    syntax_issues.dedup();

    let mut top_level = Vec::new();
    let mut walk = root.walk();
    for child in root.named_children(&mut walk) {
        if child.kind() == "comment" {
            continue;
        }
        top_level.push(TopLevel {
            range: TextRange::of(child),
            line: child.start_position().row as u32,
            has_error: child.has_error(),
        });
    }
    ParsedFile { functions, top_level, syntax_issues, timed_out: false }
}

/// Classes whose docstring has examples.
fn classes(
    q: &Queries,
    root: Node<'_>,
    text: &str,
    docstrings: &std::collections::HashMap<usize, Node<'_>>,
    out: &mut Vec<Function>,
) {
    let name_idx = q.classes.capture_index_for_name("name").expect("@name in classes.scm");
    let body_idx = q.classes.capture_index_for_name("body").expect("@body in classes.scm");
    let class_idx = q.classes.capture_index_for_name("class").expect("@class in classes.scm");
    let mut cursor = QueryCursor::new();
    let mut matches = cursor.matches(&q.classes, root, text.as_bytes());
    while let Some(m) = matches.next() {
        let get = |idx| m.captures().iter().find(|c| c.index == idx).map(|c| c.node);
        let (Some(def), Some(name), Some(body)) = (get(class_idx), get(name_idx), get(body_idx)) else { continue };
        let Some(node) = docstrings.get(&def.id()).copied() else { continue };
        let examples = parse_examples(text, node);
        if !examples.is_empty() {
            out.push(definition(Kind::Class, text, def, name, body, Some(node), examples));
        }
    }
}

/// A function or class definition as an entry: its range includes its decorators, its key is its
/// text.
fn definition(
    kind: Kind,
    text: &str,
    def: Node<'_>,
    name: Node<'_>,
    body: Node<'_>,
    docstring: Option<Node<'_>>,
    examples: Vec<Example>,
) -> Function {
    let outer = match def.parent() {
        Some(p) if p.kind() == "decorated_definition" => p,
        _ => def,
    };
    let range = TextRange::of(outer);
    let name_text = node_text(text, name).to_string();
    Function {
        kind,
        qualified_name: qualified_name(def, text, &name_text),
        name: name_text,
        range,
        name_range: TextRange::of(name),
        signature: squash(&text[def.start_byte()..body.start_byte()]).trim_end().to_string(),
        docstring: docstring
            .map(|node| Docstring { value: string_value(node_text(text, node)), range: TextRange::of(node) }),
        examples,
        key: FunctionKey::of_text(&text[range.start..range.end]),
        has_error: outer.has_error(),
    }
}

/// The module's docstring (its first statement, comments aside), when it has examples. Its range
/// is the docstring's; its key is the whole file's text, which its examples may use any of.
fn module_docstring(root: Node<'_>, text: &str) -> Option<Function> {
    let mut walk = root.walk();
    let first = root.named_children(&mut walk).find(|c| c.kind() != "comment")?;
    if first.kind() != "expression_statement" || first.named_child_count() != 1 {
        return None;
    }
    let node = first.named_child(0).filter(|n| n.kind() == "string")?;
    let examples = parse_examples(text, node);
    if examples.is_empty() {
        return None;
    }
    let range = TextRange::of(node);
    Some(Function {
        kind: Kind::Module,
        name: "<module>".into(),
        qualified_name: "<module>".into(),
        range,
        name_range: TextRange::new(range.start, range.start),
        signature: String::new(),
        docstring: Some(Docstring { value: string_value(node_text(text, node)), range }),
        examples,
        key: FunctionKey::of_text(text),
        has_error: root.has_error(),
    })
}

fn collect_missing(node: Node<'_>, text: &str, out: &mut Vec<SyntaxIssue>) {
    if !node.has_error() {
        return;
    }
    if node.is_missing() {
        out.push(syntax_issue(node, text));
        return;
    }
    let mut walk = node.walk();
    for child in node.children(&mut walk) {
        collect_missing(child, text, out);
    }
}

fn syntax_issue(node: Node<'_>, text: &str) -> SyntaxIssue {
    if node.is_missing() {
        let what = node.kind();
        return SyntaxIssue { range: TextRange::of(node), message: format!("syntax error: missing `{what}`") };
    }
    let snippet = node_text(text, node).lines().next().unwrap_or("").trim();
    let snippet: String = snippet.chars().take(40).collect();
    let message =
        if snippet.is_empty() { "syntax error".to_string() } else { format!("syntax error: unexpected `{snippet}`") };
    SyntaxIssue { range: TextRange::of(node), message }
}

fn node_text<'a>(text: &'a str, node: Node<'_>) -> &'a str {
    text.get(node.start_byte()..node.end_byte()).unwrap_or("")
}

/// Collapses runs of whitespace (a signature over several lines) into single spaces.
fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ").replace("( ", "(").replace(" )", ")").replace(", )", ")")
}

fn qualified_name(def: Node<'_>, text: &str, name: &str) -> String {
    let mut parts = vec![name.to_string()];
    let mut node = def.parent();
    while let Some(n) = node {
        match n.kind() {
            "class_definition" => {
                if let Some(nm) = n.child_by_field_name("name") {
                    parts.push(node_text(text, nm).to_string());
                }
            }
            "function_definition" => {
                parts.push("<locals>".to_string());
                if let Some(nm) = n.child_by_field_name("name") {
                    parts.push(node_text(text, nm).to_string());
                }
            }
            _ => {}
        }
        node = n.parent();
    }
    parts.reverse();
    parts.join(".")
}

/// The value of a Python string literal as written (prefix, quotes and escapes handled).
pub fn string_value(literal: &str) -> String {
    let (prefix, body) = split_literal(literal);
    if prefix.contains(['r', 'R']) { body.to_string() } else { decode_escapes(body) }
}

/// `(prefix, body)` of a string literal, the body between the quotes.
pub(crate) fn split_literal(literal: &str) -> (&str, &str) {
    let quote_at = literal.find(['"', '\'']).unwrap_or(0);
    let (prefix, rest) = literal.split_at(quote_at);
    for q in ["\"\"\"", "'''", "\"", "'"] {
        if let Some(inner) = rest.strip_prefix(q) {
            let inner = inner.strip_suffix(q).unwrap_or(inner);
            return (prefix, inner);
        }
    }
    (prefix, rest)
}

/// Python's escape sequences in a non-raw string.
pub(crate) fn decode_escapes(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some(e) = chars.next() else {
            out.push('\\');
            break;
        };
        match e {
            '\n' => {}
            '\\' => out.push('\\'),
            '\'' => out.push('\''),
            '"' => out.push('"'),
            'a' => out.push('\x07'),
            'b' => out.push('\x08'),
            'f' => out.push('\x0c'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'v' => out.push('\x0b'),
            'x' | 'u' | 'U' => {
                let n = match e {
                    'x' => 2,
                    'u' => 4,
                    _ => 8,
                };
                let hex: String = (0..n).filter_map(|_| chars.next_if(|c| c.is_ascii_hexdigit())).collect();
                match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    Some(ch) if hex.len() == n => out.push(ch),
                    _ => {
                        out.push('\\');
                        out.push(e);
                        out.push_str(&hex);
                    }
                }
            }
            '0'..='7' => {
                let mut oct = e.to_string();
                while oct.len() < 3 {
                    match chars.next_if(|c| ('0'..='7').contains(c)) {
                        Some(d) => oct.push(d),
                        None => break,
                    }
                }
                match u32::from_str_radix(&oct, 8).ok().and_then(char::from_u32) {
                    Some(ch) => out.push(ch),
                    None => out.push_str(&oct),
                }
            }
            other => {
                out.push('\\');
                out.push(other);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
