//! The one way through: document → syntax → evidence → sandbox → judge. `cli` and (later) `lsp` are
//! two faces of this module; neither runs a stage itself.

mod cache;
mod input;

use serde::Serialize;

use crate::judge::{self, ExampleVerdict, Finding, FindingKind, Severity, Verdict};
use crate::sandbox::{Cancel, Case, CaseKind, Chunk, Group, Limits, Program, Report, Sandbox};
use crate::syntax::{self, Function, LineIndex, SyntaxIssue};

pub use cache::Cache;
pub use input::{Document, InputError, MAX_FILE_BYTES, read_document};

/// Settings for one check.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub limits: Limits,
    /// Model evidence (generated tests), when a model is configured.
    pub model: Option<std::sync::Arc<ModelEvidence>>,
}

/// A model that writes unit tests for functions (CodeT's prompt), through an OpenAI-compatible
/// server. Generated tests are executed in the sandbox and counted as evidence; judging them
/// against candidate solutions is the judge's next step (issue #5), so they raise no findings yet.
pub struct ModelEvidence {
    pub remote: crate::model::Remote,
    /// The model's name as the server knows it (the JSON's `evidence.model`).
    pub name: String,
    pub sampler: crate::model::Sampler,
}

impl std::fmt::Debug for ModelEvidence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelEvidence").field("name", &self.name).field("sampler", &self.sampler).finish()
    }
}

/// Generated tests kept per function.
const MAX_GENERATED: usize = 20;

impl ModelEvidence {
    /// Test generation through an OpenAI-compatible server with plumb's sampling settings; the
    /// key comes from `$PLUMB_MODEL_API_KEY`.
    pub fn remote(url: &str, model: &str, chat: bool, samples: u32) -> ModelEvidence {
        ModelEvidence {
            remote: crate::model::Remote::new(crate::model::RemoteConfig {
                base_url: url.to_string(),
                model: model.to_string(),
                api_key: std::env::var("PLUMB_MODEL_API_KEY").ok().filter(|k| !k.is_empty()),
                timeout: std::time::Duration::from_secs(120),
                retries: 3,
                chat,
            }),
            name: model.to_string(),
            sampler: crate::model::Sampler {
                temperature: 0.8,
                top_p: 0.95,
                max_tokens: 300,
                n: samples,
                seed: Some(0),
                stop: vec!["\n\n\n".into(), "\ndef ".into(), "\nclass ".into(), "\nif __name__".into()],
            },
        }
    }

    /// Unit tests for one function: CodeT asserts from every sample, deduplicated.
    pub fn generated_tests(
        &self,
        function: &Function,
        text: &str,
        cancel: &Cancel,
    ) -> Result<Vec<String>, crate::model::ModelError> {
        let problem = crate::model::Problem::of(function, text);
        let samples = self.remote.complete(&crate::model::test_prompt(&problem), &self.sampler, cancel)?;
        let mut tests: Vec<String> = Vec::new();
        for sample in samples {
            for t in crate::model::generated_asserts(&problem.entry_point, &sample) {
                if tests.len() < MAX_GENERATED && !tests.contains(&t) {
                    tests.push(t);
                }
            }
        }
        Ok(tests)
    }
}

/// One function and what the judge made of it.
#[derive(Debug, Clone, Serialize)]
pub struct FunctionResult {
    pub function: Function,
    pub verdict: Verdict,
}

/// A checked file.
#[derive(Debug, Clone)]
pub struct FileResult {
    pub path: String,
    pub text: String,
    pub line_index: LineIndex,
    pub functions: Vec<FunctionResult>,
    /// Syntax errors outside every function.
    pub module_issues: Vec<SyntaxIssue>,
    /// The decoder replaced invalid UTF-8.
    pub lossy: bool,
    /// Training records of the executions this check ran (cached verdicts give none).
    pub records: Vec<crate::store::ExecutionRecord>,
    /// Why model evidence is missing, when a configured model could not be used.
    pub model_error: Option<String>,
}

impl FileResult {
    /// Syntax errors outside every function, as findings.
    pub fn module_findings(&self) -> Vec<Finding> {
        self.module_issues
            .iter()
            .map(|issue| Finding {
                kind: FindingKind::SyntaxError,
                severity: Severity::Error,
                message: issue.message.clone(),
                range: issue.range,
                feedback: String::new(),
            })
            .collect()
    }

    pub fn failing(&self) -> bool {
        self.functions.iter().any(|f| f.verdict.status == judge::Status::Failing) || !self.module_issues.is_empty()
    }
}

impl Settings {
    /// What a cached verdict depends on besides the function's text: the limits and the runtime.
    pub fn fingerprint(&self) -> String {
        let l = &self.limits;
        let model = match &self.model {
            Some(m) => format!("{}:{}:{:?}", m.name, crate::model::PROMPT_VERSION, m.sampler),
            None => "no-model".into(),
        };
        format!(
            "{}:{}:{}:{}:{}:{model}",
            crate::sandbox::runtime::runner_hash(),
            l.case_deadline.as_millis(),
            l.run_deadline.as_millis(),
            l.memory_bytes,
            l.output_chars
        )
    }
}

/// Checks one document: every function's examples run in one sandbox run, then each is judged.
pub fn check_document(sandbox: &Sandbox, doc: &Document, settings: &Settings, cancel: &Cancel) -> FileResult {
    check_document_cached(sandbox, doc, settings, cancel, &Cache::default())
}

/// As [`check_document`], reusing verdicts of functions whose text was checked before with the
/// same settings (wherever they are in the file) and caching the new ones. Verdicts of a cancelled
/// run are not cached.
pub fn check_document_cached(
    sandbox: &Sandbox,
    doc: &Document,
    settings: &Settings,
    cancel: &Cancel,
    cache: &Cache,
) -> FileResult {
    let text = doc.text.as_str();
    let parsed = syntax::parse(text);
    let fingerprint = settings.fingerprint();
    let cached: Vec<Option<Verdict>> =
        parsed.functions.iter().map(|f| cache.get(&f.key, &fingerprint, f.range.start)).collect();
    // Model evidence first: generated tests join the same sandbox run.
    let mut model_error = None;
    let generated: Vec<Vec<String>> = parsed
        .functions
        .iter()
        .enumerate()
        .map(|(i, f)| match &settings.model {
            Some(m) if cached[i].is_none() && !f.has_error && model_error.is_none() => {
                m.generated_tests(f, text, cancel).unwrap_or_else(|e| {
                    model_error = Some(e.to_string());
                    Vec::new()
                })
            }
            _ => Vec::new(),
        })
        .collect();
    let (program, slots) = program_for(&doc.path, text, &parsed, &cached, &generated);
    let report = if program.groups.is_empty() {
        Report { setup: Vec::new(), outcomes: Vec::new(), instances: 0 }
    } else {
        sandbox.run(&program, &settings.limits, cancel)
    };

    // Python's own compiler may reject what tree-sitter accepted (an unexpected indent, say):
    // top-level statements that failed with a SyntaxError are syntax issues too.
    let line_index = LineIndex::new(text);
    let mut syntax_issues = parsed.syntax_issues.clone();
    for failure in &report.setup {
        let Some(exc) = failure.outcome.exception() else { continue };
        if !matches!(exc.exc_type.as_str(), "SyntaxError" | "IndentationError" | "TabError") {
            continue;
        }
        let Some(line) = exc.line else { continue };
        let (start, end) = line_index.line_range(text, line);
        let start = start + (text[start..end].len() - text[start..end].trim_start().len());
        if syntax_issues.iter().any(|i| i.range.start < end && start <= i.range.end) {
            continue;
        }
        let message = match exc.message.rfind(" (") {
            Some(at) if exc.message.ends_with(')') => &exc.message[..at],
            _ => exc.message.as_str(),
        };
        syntax_issues.push(SyntaxIssue {
            range: crate::syntax::TextRange::new(start, end.max(start)),
            message: format!("syntax error: {message}"),
        });
    }
    let in_function = |f: &Function, i: &SyntaxIssue| f.range.start <= i.range.start && i.range.end <= f.range.end;
    let mut module_issues = Vec::new();
    for issue in &syntax_issues {
        if !parsed.functions.iter().any(|f| in_function(f, issue)) {
            module_issues.push(issue.clone());
        }
    }

    let mut records = Vec::new();
    let functions = parsed
        .functions
        .iter()
        .enumerate()
        .map(|(index, function)| -> FunctionResult {
            if let Some(verdict) = &cached[index] {
                return FunctionResult { function: function.clone(), verdict: verdict.clone() };
            }
            let syntax_findings: Vec<Finding> = syntax_issues
                .iter()
                .filter(|i| in_function(function, i))
                .map(|i| Finding {
                    kind: FindingKind::SyntaxError,
                    severity: Severity::Error,
                    message: i.message.clone(),
                    range: i.range,
                    feedback: format!("SyntaxError: {}\n", i.message.trim_start_matches("syntax error: ")),
                })
                .collect();
            let slot = slots.iter().find(|s| s.function == index);
            let outcomes = |group: usize| report.outcomes.get(group).map(Vec::as_slice).unwrap_or(&[]);
            let verdicts: Vec<ExampleVerdict> = match slot {
                Some(slot) => slot
                    .examples
                    .iter()
                    .zip(outcomes(slot.examples_group))
                    .map(|(&e, outcome)| {
                        judge::judge_example(&doc.path, &function.name, &function.examples[e], outcome)
                    })
                    .collect(),
                None => Vec::new(),
            };
            let complete = slot.is_none_or(|slot| {
                std::iter::once(slot.examples_group)
                    .chain(slot.generated)
                    .flat_map(outcomes)
                    .all(|o| !matches!(o, crate::sandbox::Outcome::Cancelled))
            });
            let judged = verdicts.clone();
            let mut verdict = judge::judge_examples(verdicts, syntax_findings);
            if let Some(m) = settings.model.as_ref().filter(|_| model_error.is_none()) {
                // Generated tests that ran count as evidence; judging them is the judge's next step.
                let ran =
                    slot.and_then(|s| s.generated).map(|g| outcomes(g).iter().filter(|o| o.ran().is_some()).count());
                verdict.evidence.generated_tests = ran.unwrap_or(0) as u32;
                verdict.evidence.model = Some(m.name.clone());
            }
            if complete && !cancel.is_cancelled() && model_error.is_none() {
                cache.put(function.key, &fingerprint, function.range.start, &verdict);
                if let Some(slot) = slot {
                    let examples: Vec<_> = slot
                        .examples
                        .iter()
                        .zip(outcomes(slot.examples_group))
                        .zip(&judged)
                        .map(|((&e, outcome), v)| (&function.examples[e], outcome, v))
                        .collect();
                    records.extend(crate::store::execution_record(&doc.path, text, function, &examples, &verdict));
                }
            }
            FunctionResult { function: function.clone(), verdict }
        })
        .collect();
    FileResult {
        path: doc.path.clone(),
        line_index,
        text: doc.text.clone(),
        functions,
        module_issues,
        lossy: doc.lossy,
        records,
        model_error,
    }
}

/// Which function and which of its examples each group of the program holds; generated tests
/// run in a group of their own (`generated`, the group's index).
struct Slot {
    function: usize,
    examples: Vec<usize>,
    examples_group: usize,
    generated: Option<usize>,
}

/// The sandbox program for a file: its top-level statements, and one group per function with
/// examples (a docstring's examples share a namespace, as in doctest).
fn program_for(
    path: &str,
    text: &str,
    parsed: &syntax::ParsedFile,
    cached: &[Option<Verdict>],
    generated: &[Vec<String>],
) -> (Program, Vec<Slot>) {
    let chunks = parsed
        .top_level
        .iter()
        .filter(|t| !t.has_error)
        .map(|t| Chunk { line: t.line, text: text[t.range.start..t.range.end].to_string() })
        .collect();
    let mut groups = Vec::new();
    let mut slots = Vec::new();
    for (index, function) in parsed.functions.iter().enumerate() {
        if function.has_error || cached[index].is_some() {
            continue;
        }
        let examples: Vec<usize> = (0..function.examples.len()).filter(|&e| !function.examples[e].skip).collect();
        if examples.is_empty() && generated[index].is_empty() {
            continue;
        }
        // The generated tests' group comes first so that example groups keep their slot order.
        let generated_group = if generated[index].is_empty() {
            None
        } else {
            let line = parsed.functions[index].examples.first().map(|e| e.line).unwrap_or(0);
            groups.push(Group {
                cases: generated[index]
                    .iter()
                    .map(|t| Case { kind: CaseKind::Assert, source: format!("{t}\n"), line })
                    .collect(),
            });
            Some(groups.len() - 1)
        };
        groups.push(Group {
            cases: examples
                .iter()
                .map(|&e| {
                    let ex = &function.examples[e];
                    Case {
                        kind: CaseKind::Example { want: ex.want.clone(), options: ex.options.clone() },
                        source: ex.source.clone(),
                        line: ex.line,
                    }
                })
                .collect(),
        });
        slots.push(Slot { function: index, examples, examples_group: groups.len() - 1, generated: generated_group });
    }
    let program = Program {
        filename: path.to_string(),
        source: text.to_string(),
        module_name: module_name(path),
        chunks,
        groups,
    };
    (program, slots)
}

/// The module's `__name__`: the file stem when it is an identifier.
fn module_name(path: &str) -> String {
    let stem = std::path::Path::new(path).file_stem().and_then(|s| s.to_str()).unwrap_or("");
    let valid = stem.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && stem.chars().all(|c| c.is_alphanumeric() || c == '_');
    if valid { stem.to_string() } else { "__plumb__".to_string() }
}
