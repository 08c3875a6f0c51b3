//! The one way through: document → syntax → evidence → sandbox → judge. `cli` and (later) `lsp` are
//! two faces of this module; neither runs a stage itself.

mod cache;
mod input;
mod matrix;
mod model;

use serde::Serialize;

use crate::judge::{self, ExampleVerdict, Finding, FindingKind, Severity, Verdict};
use crate::sandbox::{Cancel, Case, CaseKind, Chunk, Group, Limits, Program, Report, Sandbox};
use crate::syntax::{self, Function, LineIndex, SyntaxIssue};

pub use cache::Cache;
pub use input::{Document, InputError, MAX_FILE_BYTES, read_document};

/// Settings for one check.
#[derive(Debug, Clone)]
pub struct Settings {
    pub limits: Limits,
    /// Model evidence (generated tests, candidates), when a model is configured.
    pub model: Option<std::sync::Arc<ModelEvidence>>,
    /// Ask the model this time (the editor asks on save or when idle); when false, functions
    /// whose model verdict is not cached are judged without it, and not cached.
    pub ask_model: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings { limits: Limits::default(), model: None, ask_model: true }
    }
}

pub use model::{Generated, ModelEvidence};

/// Deadline per case for what the model proposed (candidates, generated tests, differential inputs).
const MODEL_CASE_DEADLINE: std::time::Duration = std::time::Duration::from_millis(300);

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
    /// Time spent waiting for the model, and in the whole check.
    pub model_time: std::time::Duration,
    pub total_time: std::time::Duration,
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
            Some(m) => m.fingerprint(),
            None => "no-model".into(),
        };
        let calibration = &crate::judge::matrix::Calibration::builtin().version;
        format!(
            "{}:{}:{}:{}:{}:{model}:{calibration}",
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
    let started = std::time::Instant::now();
    let text = doc.text.as_str();
    let parsed = syntax::parse(text);
    let fingerprint = settings.fingerprint();
    let cached: Vec<Option<Verdict>> =
        parsed.functions.iter().map(|f| cache.get(&f.key, &fingerprint, f.range.start)).collect();
    // Model evidence first: generated tests and candidates join the same sandbox run.
    let mut model_error = None;
    let model_started = std::time::Instant::now();
    let generated: Vec<Option<Generated>> = parsed
        .functions
        .iter()
        .enumerate()
        .map(|(i, f)| match &settings.model {
            Some(m)
                if settings.ask_model
                    && cached[i].is_none()
                    && !f.has_error
                    && f.qualified_name == f.name
                    && model_error.is_none() =>
            {
                match m.generate(f, text, cancel) {
                    Ok(g) => Some(g),
                    Err(e) => {
                        model_error = Some(e.to_string());
                        None
                    }
                }
            }
            _ => None,
        })
        .collect();
    let model_time = model_started.elapsed();
    let (program, model_program, slots) = program_for(&doc.path, text, &parsed, &cached, &generated);
    let empty = || Report { setup: Vec::new(), outcomes: Vec::new(), instances: 0 };
    let report = if program.groups.is_empty() { empty() } else { sandbox.run(&program, &settings.limits, cancel) };
    // What the model proposed runs with a short deadline per case: a candidate or a mutated input
    // that loops must not cost the user's whole per-example budget, many times over.
    let model_limits =
        Limits { case_deadline: settings.limits.case_deadline.min(MODEL_CASE_DEADLINE), ..settings.limits };
    let model_report =
        if model_program.groups.is_empty() { empty() } else { sandbox.run(&model_program, &model_limits, cancel) };

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
            let model_outcomes = |group: usize| model_report.outcomes.get(group).map(Vec::as_slice).unwrap_or(&[]);
            let mut verdicts: Vec<ExampleVerdict> = match slot {
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
                let model_groups = slot.model.iter().flat_map(|m| {
                    [m.tests_group, m.inputs_group].into_iter().chain(m.candidate_groups.iter().copied())
                });
                outcomes(slot.examples_group)
                    .iter()
                    .chain(model_groups.flat_map(model_outcomes))
                    .all(|o| !matches!(o, crate::sandbox::Outcome::Cancelled))
            });
            let judged = verdicts.clone();
            let mut extra = syntax_findings;
            let mut parts = crate::judge::matrix::Parts::default();
            let mut fix = None;
            let mut counterexample_test = None;
            let mut candidate_results = Vec::new();
            if let (Some(slot), Some(model), Some(generated)) =
                (slot, slot.and_then(|s| s.model.as_ref()), generated[index].as_ref())
            {
                let mut rerun = |groups: Vec<Group>| {
                    let p = Program { groups, ..model_program.clone() };
                    sandbox.run(&p, &model_limits, cancel)
                };
                let judged_model = matrix::judge(
                    &doc.path,
                    function,
                    &slot.examples,
                    &mut verdicts,
                    outcomes(slot.examples_group),
                    generated,
                    model,
                    &model_report,
                    &mut rerun,
                );
                extra.extend(judged_model.findings);
                parts = judged_model.parts;
                fix = judged_model.fix;
                counterexample_test = judged_model.counterexample_test;
                candidate_results = judged_model.candidate_results;
            }
            parts.examples_passed = verdicts.iter().filter(|v| matches!(v, ExampleVerdict::Passed)).count() as u32;
            if let Some(g) = slot.and_then(|s| s.model.as_ref()).map(|m| m.inputs_group) {
                let behaviours: Vec<_> = model_outcomes(g).iter().map(crate::judge::matrix::Behaviour::of).collect();
                parts.neighbour_raises = crate::judge::matrix::unintended_raises(
                    &behaviours,
                    &text[function.range.start..function.range.end],
                );
            }
            let mut verdict = judge::judge_examples(verdicts, extra);
            parts.verified_failure = verdict.findings.iter().any(|f| f.severity == Severity::Error);
            // No examples, but the consensus's tests all pass and nothing was found: evidence too.
            if verdict.status == judge::Status::Unverified
                && parts.tests_passed == Some(1.0)
                && !verdict.findings.iter().any(|f| f.severity <= Severity::Warning)
            {
                verdict.status = judge::Status::Passing;
            }
            if let (Some(m), Some(g)) = (&settings.model, &generated[index]) {
                verdict.evidence.generated_tests = g.tests.len() as u32;
                verdict.evidence.candidates = g.candidates.len() as u32;
                verdict.evidence.model = Some(m.name.clone());
            }
            // Judged without a configured model that was not asked: not the verdict to keep.
            let without_model = settings.model.is_some() && !settings.ask_model;
            verdict.fix = fix;
            verdict.counterexample_test = counterexample_test;
            if verdict.evidence.examples > 0 || verdict.evidence.model.is_some() || parts.verified_failure {
                verdict.confidence = Some(crate::judge::matrix::Calibration::builtin().probability(&parts));
                verdict.parts = Some(parts);
            }
            if complete && !cancel.is_cancelled() && model_error.is_none() && !without_model {
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
                if let Some(m) = &settings.model {
                    for (candidate, results) in &candidate_results {
                        let results: Vec<_> = results.iter().map(|(t, o, p)| (t.clone(), o, *p)).collect();
                        let c = &m.candidates;
                        let sampler = serde_json::json!({
                            "temperature": c.temperature, "top_p": c.top_p, "top_k": c.top_k,
                            "repetition_penalty": c.repetition_penalty, "seed": c.seed, "n": c.n,
                            "max_tokens": c.max_tokens, "p_true": m.p_true,
                        });
                        records.extend(crate::store::candidate_record(
                            &doc.path, text, function, candidate, &results, &m.name, sampler,
                        ));
                    }
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
        model_time,
        total_time: started.elapsed(),
    }
}

/// Which function and which of its examples each group of the program holds, and where its
/// model evidence runs.
struct Slot {
    function: usize,
    examples: Vec<usize>,
    examples_group: usize,
    /// Groups of the model program.
    model: Option<matrix::ModelSlot>,
}

/// The sandbox programs for a file: its top-level statements, and one group per function with
/// examples (a docstring's examples share a namespace, as in doctest); and the same statements
/// with the groups of the model's evidence, run under their own (shorter) deadline.
fn program_for(
    path: &str,
    text: &str,
    parsed: &syntax::ParsedFile,
    cached: &[Option<Verdict>],
    generated: &[Option<Generated>],
) -> (Program, Program, Vec<Slot>) {
    let chunks = parsed
        .top_level
        .iter()
        .filter(|t| !t.has_error)
        .map(|t| Chunk { line: t.line, text: text[t.range.start..t.range.end].to_string() })
        .collect();
    let mut groups = Vec::new();
    let mut model_groups = Vec::new();
    let mut slots = Vec::new();
    for (index, function) in parsed.functions.iter().enumerate() {
        if function.has_error || cached[index].is_some() {
            continue;
        }
        let examples: Vec<usize> = (0..function.examples.len()).filter(|&e| !function.examples[e].skip).collect();
        if examples.is_empty() && generated[index].is_none() {
            continue;
        }
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
        let examples_group = groups.len() - 1;
        let model = generated[index].as_ref().map(|g| matrix::add_groups(&mut model_groups, function, &examples, g));
        slots.push(Slot { function: index, examples, examples_group, model });
    }
    let program = Program {
        filename: path.to_string(),
        source: text.to_string(),
        module_name: module_name(path),
        chunks,
        groups,
    };
    let model_program = Program { groups: model_groups, ..program.clone() };
    (program, model_program, slots)
}

/// The module's `__name__`: the file stem when it is an identifier.
fn module_name(path: &str) -> String {
    let stem = std::path::Path::new(path).file_stem().and_then(|s| s.to_str()).unwrap_or("");
    let valid = stem.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && stem.chars().all(|c| c.is_alphanumeric() || c == '_');
    if valid { stem.to_string() } else { "__plumb__".to_string() }
}
