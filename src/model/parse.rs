//! Reading model output: generated asserts (CodeT) and candidate functions, kept only when they
//! parse cleanly. Models drift into prose, repeat themselves and stop mid-line; none of that may
//! reach the sandbox as a "test".

use crate::syntax;

/// Asserts per sample that CodeT keeps.
const PER_SAMPLE: usize = 5;

/// The asserts in one answer to [`super::test_prompt`] (led by the prompt's `assert `): split into
/// statements, kept when each parses on its own as a single `assert` that mentions the entry
/// point, deduplicated, at most five.
pub fn generated_asserts(entry_point: &str, completion: &str) -> Vec<String> {
    // Whole statements (the backend puts back the prompt's `assert `); a chat model's are often fenced.
    let text = fenced(completion).unwrap_or(completion);
    let mut statements: Vec<String> = Vec::new();
    for line in text.lines() {
        let trimmed = line.trim_end();
        if trimmed.starts_with("assert ") {
            statements.push(trimmed.to_string());
        } else if let Some(last) = statements.last_mut()
            && (line.starts_with(' ') || line.starts_with('\t'))
            && !trimmed.is_empty()
        {
            // A continuation line of the previous assert.
            last.push('\n');
            last.push_str(trimmed);
        } else if !statements.is_empty() && !trimmed.is_empty() && !trimmed.starts_with('#') {
            // Prose or other code after the asserts: the tests are over.
            break;
        }
    }
    let mut kept: Vec<String> = Vec::new();
    for s in statements {
        if kept.len() == PER_SAMPLE {
            break;
        }
        if is_single_assert(&s) && mentions(&s, entry_point) && !kept.contains(&s) {
            kept.push(s);
        }
    }
    kept
}

fn is_single_assert(statement: &str) -> bool {
    let parsed = syntax::parse(statement);
    parsed.syntax_issues.is_empty() && parsed.top_level.len() == 1 && statement.starts_with("assert ")
}

fn mentions(statement: &str, name: &str) -> bool {
    statement.match_indices(name).any(|(i, _)| {
        let before = statement[..i].chars().next_back();
        let after = statement[i + name.len()..].chars().next();
        !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.')
            && !after.is_some_and(|c| c.is_alphanumeric() || c == '_')
    })
}

/// A candidate solution from one completion of [`super::candidate_prompt`]: the prompt plus the
/// completion, cut to the function named `entry_point` (plus the imports before it), when that
/// parses without error. Chat models often answer with a fenced code block: its content is used.
pub fn candidate_function(prompt: &str, entry_point: &str, completion: &str) -> Option<String> {
    let code = fenced(completion).unwrap_or(completion);
    // A chat answer repeats the whole function; a completion continues the prompt's header.
    let text = if code.trim_start().starts_with("def ") || code.contains(&format!("def {entry_point}(")) {
        code.to_string()
    } else {
        format!("{prompt}{code}")
    };
    let parsed = syntax::parse(&text);
    let f = parsed.functions.iter().find(|f| f.name == entry_point && f.qualified_name == entry_point)?;
    if f.has_error || !has_body(&text, f) {
        return None;
    }
    let imports: String = parsed
        .top_level
        .iter()
        .filter(|t| t.range.end <= f.range.start && !t.has_error)
        .map(|t| &text[t.range.start..t.range.end])
        .filter(|s| s.starts_with("import ") || s.starts_with("from "))
        .map(|s| format!("{s}\n"))
        .collect();
    Some(format!("{imports}{}\n", &text[f.range.start..f.range.end]))
}

/// The function does something beyond its docstring (a model that answers with prose leaves
/// the header as it was).
fn has_body(text: &str, f: &syntax::Function) -> bool {
    let source = &text[f.range.start..f.range.end];
    let Some(tree) = syntax::parse_tree(&tree_sitter_python::LANGUAGE.into(), source) else { return false };
    let mut cursor = tree.walk();
    let Some(def) = tree.root_node().named_children(&mut cursor).find_map(|n| match n.kind() {
        "function_definition" => Some(n),
        "decorated_definition" => n.child_by_field_name("definition"),
        _ => None,
    }) else {
        return false;
    };
    let Some(body) = def.child_by_field_name("body") else { return false };
    let mut cursor = body.walk();
    let statements: Vec<_> = body.named_children(&mut cursor).filter(|n| n.kind() != "comment").collect();
    let docstring = statements
        .first()
        .is_some_and(|n| n.kind() == "expression_statement" && n.named_child(0).is_some_and(|c| c.kind() == "string"));
    statements.len() > usize::from(docstring)
}

/// The content of the first ``` fenced block, if any.
fn fenced(text: &str) -> Option<&str> {
    let start = text.find("```")?;
    let after = &text[start + 3..];
    let body_start = after.find('\n')? + 1;
    let body = &after[body_start..];
    let end = body.find("```").unwrap_or(body.len());
    Some(&body[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asserts_are_split_checked_and_deduplicated() {
        let completion = "assert add(1, 2) == 3\nassert add(0, 0) == 0\nassert add(1, 2) == 3\nassert add(-1,\n    1) == 0\nassert add(2, 2) = 4\nassert len([1]) == 1\nassert add(5, 5) == 10\nassert add(6, 6) == 12\n";
        assert_eq!(
            generated_asserts("add", completion),
            [
                "assert add(1, 2) == 3",
                "assert add(0, 0) == 0",
                "assert add(-1,\n    1) == 0",
                "assert add(5, 5) == 10",
                "assert add(6, 6) == 12"
            ]
        );
    }

    #[test]
    fn prose_ends_the_tests_and_other_names_do_not_count() {
        let completion = "assert add(1, 1) == 2\nassert madd(1) == 1\nassert obj.add(1) == 1\nThese tests check the sum.\nassert add(2, 2) == 4\n";
        assert_eq!(generated_asserts("add", completion), ["assert add(1, 1) == 2"]);
        assert!(generated_asserts("add", "").is_empty());
        assert!(generated_asserts("add", "assert add(1, (2) == 3").is_empty(), "a cut-off assert is dropped");
        // A chat answer: a fence, a comment, then the asserts.
        let chat = "Here you go:\n```python\n# tests\nassert add(1, 1) == 2\n```\nMore prose.";
        assert_eq!(generated_asserts("add", chat), ["assert add(1, 1) == 2"]);
    }

    #[test]
    fn completions_continue_the_header() {
        let prompt = "def add(a, b):\n    \"\"\"Sum.\"\"\"\n";
        let got = candidate_function(prompt, "add", "    return a + b\n\n\nprint(add(1, 2))\n").unwrap();
        assert_eq!(got, "def add(a, b):\n    \"\"\"Sum.\"\"\"\n    return a + b\n");
        assert_eq!(candidate_function(prompt, "add", "    return (a +\n"), None, "broken code is dropped");
    }

    #[test]
    fn chat_answers_with_fences_and_imports() {
        let prompt = "def root(x):\n    \"\"\"Square root.\"\"\"\n";
        let answer =
            "Sure! Here it is:\n```python\nimport math\n\ndef root(x):\n    return math.sqrt(x)\n```\nHope it helps.";
        assert_eq!(
            candidate_function(prompt, "root", answer).unwrap(),
            "import math\ndef root(x):\n    return math.sqrt(x)\n"
        );
        assert_eq!(candidate_function(prompt, "root", "I cannot do that."), None);
        assert_eq!(
            candidate_function(prompt, "root", "def root(x) -> float: return x ** 0.5").unwrap(),
            "def root(x) -> float: return x ** 0.5\n"
        );
    }
}
