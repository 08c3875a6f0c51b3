//! The prompts, exactly as shared/design/methods.md defines them.

use crate::syntax::Function;

/// Changes whenever a prompt's text changes.
pub const PROMPT_VERSION: &str = "plumb-prompts-2";

/// What a model is told about a function: its signature and docstring, never its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The function's name (CodeT's entry point).
    pub entry_point: String,
    /// `def f(x):` (async and return annotation included), as written.
    pub signature: String,
    /// The docstring literal as written (quotes included), or none.
    pub docstring: Option<String>,
    /// Indentation of the body.
    pub indent: String,
}

impl Problem {
    pub fn of(function: &Function, text: &str) -> Problem {
        let docstring = function.docstring.as_ref().map(|d| text[d.range.start..d.range.end].to_string());
        // The body's indentation: that of the docstring's line, else four spaces.
        let indent = function
            .docstring
            .as_ref()
            .map(|d| {
                let line_start = text[..d.range.start].rfind('\n').map(|i| i + 1).unwrap_or(0);
                text[line_start..d.range.start].chars().take_while(|c| c.is_whitespace()).collect::<String>()
            })
            .filter(|i| !i.is_empty())
            .unwrap_or_else(|| "    ".into());
        Problem { entry_point: function.name.clone(), signature: function.signature.clone(), docstring, indent }
    }

    /// Signature and docstring (re-indented to the body's indentation), no body.
    pub fn header(&self) -> String {
        let mut out = format!("{}\n", self.signature);
        if let Some(doc) = &self.docstring {
            out.push_str(&self.indent);
            out.push_str(doc);
            out.push('\n');
        }
        out
    }
}

/// One request, in the two forms models take: text to continue (base models, the completions
/// endpoint) and an instruction (chat models). A local chat model's answer is forced to begin with
/// `answer_prefix`, which ends like `completion` does, so both forms are continued the same way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    pub completion: String,
    pub instruction: String,
    pub answer_prefix: String,
    /// What a continuation of `completion` is appended to before it is parsed (the end of the
    /// prompt that belongs to the answer, e.g. `assert `).
    pub completion_lead: String,
    /// The same for a continuation of `answer_prefix`.
    pub chat_lead: String,
}

/// CodeT's test-generation prompt: the function with body `pass`, then the comment and an open
/// `assert ` for the model to complete.
pub fn test_prompt(p: &Problem) -> Prompt {
    let stub = format!("{}{}pass\n", p.header(), p.indent);
    Prompt {
        completion: format!("{stub}\n\n# check the correctness of {}\nassert ", p.entry_point),
        instruction: format!(
            "Write unit tests for this Python function as assert statements, one per line.\n\n```python\n{stub}```"
        ),
        answer_prefix: format!("```python\n# check the correctness of {0}\nassert {0}(", p.entry_point),
        completion_lead: "assert ".into(),
        chat_lead: format!("assert {}(", p.entry_point),
    }
}

/// Candidate solutions: the header for the model to continue with a body.
pub fn candidate_prompt(p: &Problem) -> Prompt {
    let header = p.header();
    Prompt {
        completion: header.clone(),
        instruction: format!("Complete this Python function.\n\n```python\n{header}```"),
        // Small chat models close the fence at once when the header is forced; they write the
        // whole function when only the fence is.
        answer_prefix: "```python\n".into(),
        completion_lead: header,
        chat_lead: String::new(),
    }
}

/// Kadavath et al.'s P(True) prompt, with sampled candidates as "brainstormed ideas"; the
/// probability of " (A)" as the next token is the model's belief that `answer` is correct.
pub fn p_true_prompt(p: &Problem, ideas: &[&str], answer: &str) -> Prompt {
    let mut out = format!("Question: Complete this Python function.\n\n{}\n", p.header());
    if !ideas.is_empty() {
        out.push_str("Here are some brainstormed ideas:\n");
        for idea in ideas {
            out.push_str(idea.trim_end());
            out.push_str("\n\n");
        }
    }
    out.push_str(&format!("Possible Answer:\n{}\nIs the possible answer:\n (A) True\n (B) False\n", answer.trim_end()));
    let answer_prefix = "The possible answer is:".to_string();
    Prompt {
        completion: format!("{out}{answer_prefix}"),
        instruction: out,
        answer_prefix,
        completion_lead: String::new(),
        chat_lead: String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem() -> Problem {
        let text = "def add(a, b):\n    \"\"\"Sum.\n\n    >>> add(1, 2)\n    3\n    \"\"\"\n    return a + b\n";
        Problem::of(&crate::syntax::parse(text).functions[0], text)
    }

    #[test]
    fn codet_test_prompt() {
        assert_eq!(
            test_prompt(&problem()).completion,
            "def add(a, b):\n    \"\"\"Sum.\n\n    >>> add(1, 2)\n    3\n    \"\"\"\n    pass\n\n\n# check the correctness of add\nassert "
        );
    }

    #[test]
    fn candidate_prompt_has_no_body() {
        let p = candidate_prompt(&problem()).completion;
        assert!(p.ends_with("    \"\"\"\n") && !p.contains("return"), "{p}");
    }

    #[test]
    fn p_true_prompt_layout() {
        let p = p_true_prompt(&problem(), &["def add(a, b):\n    return b + a"], "def add(a, b):\n    return a - b\n")
            .completion;
        assert!(p.starts_with("Question: Complete this Python function.\n\ndef add(a, b):"));
        assert!(
            p.contains("Here are some brainstormed ideas:\ndef add(a, b):\n    return b + a\n\nPossible Answer:\n")
        );
        assert!(p.ends_with("Is the possible answer:\n (A) True\n (B) False\nThe possible answer is:"));
    }
}
