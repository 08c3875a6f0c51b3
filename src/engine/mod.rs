//! The one way through: document → syntax → evidence → sandbox → judge, as a value. An [`Engine`]
//! owns what outlives one check — the sandbox (loaded lazily, once), the model (built from the
//! settings, reused while they stay the same), the verdict cache and the training-data recorder —
//! and [`Engine::check`] turns a document into a [`FileReport`]. `cli` and `lsp` are two faces of
//! it: they parse their own input into [`Options`], build one engine and render its reports.
//!
//! The engine arranges runs and nothing else: `plan` lays evidence out as sandbox programs and reads
//! outcomes back into the typed evidence, and every decision (consensus, suspicion, shrinking,
//! status, confidence) is the judge's.

mod attribution;
mod cache;
mod coder;
mod context;
mod discover;
mod input;
mod plan;
mod record;
mod settings;
pub mod wire;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant};

use crate::base::Cancel;
use crate::evidence::{FunctionEvidence, Outcome};
use crate::judge::matrix::Calibration;
use crate::judge::{self, Finding, FindingKind, Severity, Subject, Verdict};
use crate::sandbox::{Import, Limits, Report, Sandbox};
use crate::store::{self, ExecutionRecord, Provenance, TestKind, TestRecord};
use crate::syntax::{self, Function, LineIndex, SyntaxIssue};

pub use cache::Cache;
pub use coder::Coder;
pub use input::{Document, InputError, MAX_FILE_BYTES, read_document};
pub use record::{Recorder, StoreNotice};
pub use settings::{
    LocalModel, MEMORY_BUDGET_MB, MEMORY_MB, ModelChoice, Options, SAMPLES, Settings, StoreChoice, TIMEOUT_MS,
};

/// What a check tells its caller as it goes (the CLI's progress line, the editor's `$/progress`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event<'a> {
    /// A slow step of setting up (building the runtime, fetching the model).
    Status(&'a str),
    /// Asking the model about a function: the `index`-th (from 1) of `total` in this file.
    Model { function: &'a str, index: usize, total: usize },
    /// Running the examples and the model's evidence in the sandbox.
    Sandbox,
}

/// The whole pytest run of a test file may take this long (each test has the case deadline).
const TESTS_DEADLINE: Duration = Duration::from_secs(120);
/// The most test files of one project the editor runs in the background.
pub const MAX_BACKGROUND_TEST_FILES: usize = 200;
/// The most directory entries looked at to find a project's test files.
pub const MAX_WALKED_ENTRIES: usize = 50_000;

/// Deadline per case for what the model proposed (candidates, generated tests, differential inputs).
const MODEL_CASE_DEADLINE: Duration = Duration::from_millis(300);

/// One function and what the judge made of it.
#[derive(Debug, Clone)]
pub struct FunctionReport {
    pub function: Function,
    pub verdict: Verdict,
}

/// A checked file.
#[derive(Debug, Clone)]
pub struct FileReport {
    pub path: String,
    pub text: String,
    pub line_index: LineIndex,
    pub functions: Vec<FunctionReport>,
    /// Syntax errors outside every function.
    pub module_issues: Vec<SyntaxIssue>,
    /// The decoder replaced invalid UTF-8.
    pub lossy: bool,
    /// Training records of the executions this check ran (cached verdicts give none).
    pub records: Vec<ExecutionRecord>,
    /// Why model evidence is missing, when a configured model could not be used.
    pub model_error: Option<String>,
    /// The model that gave evidence and where it ran (`SmolLM2-135M-Instruct on cpu`), when one
    /// is configured.
    pub model: Option<String>,
    /// Why the file's own tests (a test file's) could not be run by pytest, when so.
    pub tests_problem: Option<String>,
    /// Time spent waiting for the model, and in the whole check.
    pub model_time: Duration,
    pub total_time: Duration,
    /// Why the file was not analysed (or only in part), when that happened.
    pub degraded: Option<String>,
    /// The project files (absolute paths) the verdicts depend on through imports: an edit to one
    /// of them is a reason to check this file again.
    pub depends_on: Vec<PathBuf>,
    /// The document's file (canonical), when it has one.
    pub file: Option<PathBuf>,
    /// The file is one of its project's test files (pytest ran it).
    pub test_file: bool,
    /// The file's tests as pytest ran them in this check (none when every verdict was cached).
    pub tests: Vec<crate::evidence::TestResult>,
}

impl FileReport {
    /// A report with nothing in it (the document could not be checked).
    pub fn empty(doc: &Document) -> FileReport {
        FileReport {
            path: doc.path.clone(),
            line_index: LineIndex::new(&doc.text),
            text: doc.text.clone(),
            functions: Vec::new(),
            module_issues: Vec::new(),
            lossy: doc.lossy,
            records: Vec::new(),
            model_error: None,
            model: None,
            tests_problem: None,
            model_time: Duration::ZERO,
            total_time: Duration::ZERO,
            degraded: None,
            depends_on: Vec::new(),
            file: None,
            test_file: false,
            tests: Vec::new(),
        }
    }

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

/// The model built for some settings, or why it could not be.
type Built = (ModelChoice, u32, Result<Option<Arc<Coder>>, String>);

/// The orchestrator. Shared by reference between threads: every method takes `&self`.
pub struct Engine {
    settings: RwLock<Arc<Settings>>,
    sandbox: OnceLock<Result<Arc<Sandbox>, String>>,
    model: Mutex<Option<Built>>,
    cache: Cache,
    recorder: Recorder,
    attribution: attribution::Attribution,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("settings", &self.settings()).finish_non_exhaustive()
    }
}

impl Engine {
    pub fn new(settings: Settings) -> Engine {
        let recorder = Recorder::new(settings.store.clone());
        Engine {
            settings: RwLock::new(Arc::new(settings)),
            sandbox: OnceLock::new(),
            model: Mutex::new(None),
            cache: Cache::default(),
            recorder,
            attribution: attribution::Attribution::default(),
        }
    }

    pub fn settings(&self) -> Arc<Settings> {
        Arc::clone(&self.settings.read().unwrap_or_else(|p| p.into_inner()))
    }

    /// New settings for later checks. The sandbox stays; the model is rebuilt only if its
    /// settings changed; cached verdicts stay valid (their key includes the settings).
    pub fn configure(&self, settings: Settings) {
        self.recorder.set_path(settings.store.clone());
        *self.settings.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(settings);
    }

    /// The sandbox, built on first use (`status` hears about slow steps). An error is plumb's own
    /// environment failing, remembered and not retried.
    pub fn sandbox(&self, status: &mut dyn FnMut(&str)) -> Result<Arc<Sandbox>, String> {
        let sandbox = self
            .sandbox
            .get_or_init(|| crate::sandbox::runtime::load(status).map(Arc::new).map_err(|e| format!("{e:#}")))
            .clone()?;
        sandbox.set_memory_budget(self.settings().memory_budget);
        Ok(sandbox)
    }

    /// The configured model; with `fetch`, a missing default model is fetched now. A model that
    /// cannot be built is an error once per settings, then simply absent.
    fn coder(
        &self,
        settings: &Settings,
        fetch: bool,
        status: &mut dyn FnMut(&str),
    ) -> (Option<Arc<Coder>>, Option<String>) {
        let mut model = self.model.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((choice, samples, built)) = model.as_ref()
            && *choice == settings.model
            && *samples == settings.samples
        {
            return (built.clone().ok().flatten(), None);
        }
        let built = Coder::from_choice(&settings.model, settings.samples, fetch, status).map(|c| c.map(Arc::new));
        let error = built.as_ref().err().cloned();
        *model = Some((settings.model.clone(), settings.samples, built.clone()));
        (built.ok().flatten(), error)
    }

    /// Loads the sandbox and the model now rather than on the first check (the CLI's way: slow
    /// steps are reported as they happen). Returns the model's problem, if any: a warning.
    pub fn prepare(&self, status: &mut dyn FnMut(&str)) -> Result<Option<String>, String> {
        self.sandbox(status)?;
        let settings = self.settings();
        Ok(self.coder(&settings, true, status).1)
    }

    /// The configured model's name, once it is built.
    pub fn model_name(&self) -> Option<String> {
        let model = self.model.lock().unwrap_or_else(|p| p.into_inner());
        model.as_ref().and_then(|(_, _, built)| built.as_ref().ok()?.as_ref().map(|c| c.name.clone()))
    }

    /// Forgets every cached verdict.
    pub fn clear_cache(&self) {
        self.cache.clear();
    }

    pub fn recorder(&self) -> &Recorder {
        &self.recorder
    }

    /// Adds to a source file's verdicts the user's tests that ran its functions (from every test
    /// file checked so far by this engine). Once per report, after [`Engine::check`]: the CLI when
    /// every file is checked, the editor before it publishes.
    pub fn attribute(&self, report: &mut FileReport) {
        let Some(file) = report.file.as_deref().filter(|_| !report.test_file) else { return };
        let provenance = Provenance {
            runtime: crate::sandbox::runtime::runner_hash(),
            prompt_version: crate::model::PROMPT_VERSION.to_string(),
        };
        for f in &mut report.functions {
            let tests = self.attribution.of(file, &f.function.qualified_name);
            judge::exercised_by(&f.function, &tests, &mut f.verdict);
            // The tests' runs are training data too (content-addressed: a run recorded before
            // is not recorded again).
            if let Some(r) = store::user_test_record(&provenance, &report.path, &report.text, &f.function, &tests) {
                report.records.push(r);
            }
        }
    }

    /// Runs again, before a source file's report is published, the user's tests that ran one of
    /// its functions as it no longer is (an edit since their run): only those tests, by node id,
    /// so that the report shows what the tests say of the function as it is now. Returns how many
    /// tests ran. The editor's face calls it; a CLI run never has stale tests.
    pub fn refresh_tests(&self, doc: &Document, report: &FileReport, cancel: &Cancel) -> usize {
        let Some(file) = report.file.as_deref().filter(|_| !report.test_file) else { return 0 };
        let current: HashMap<&str, syntax::FunctionKey> =
            report.functions.iter().map(|f| (f.function.qualified_name.as_str(), f.function.key)).collect();
        let stale = self.attribution.stale(file, &|q| current.get(q).copied());
        if stale.is_empty() {
            return 0;
        }
        let Ok(sandbox) = self.sandbox(&mut |_| {}) else { return 0 };
        let settings = self.settings();
        let run = Run {
            sandbox: &sandbox,
            cache: &self.cache,
            settings: &settings,
            coder: None,
            attribution: &self.attribution,
        };
        let mut ran = 0;
        for s in stale {
            if cancel.is_cancelled() {
                break;
            }
            // The test file as the editor has it (an open buffer), else as it is on disk.
            let text = doc.buffers.get(&s.test_file).cloned().or_else(|| std::fs::read_to_string(&s.test_file).ok());
            let Some(text) = text else { continue };
            let mut buffers = (*doc.buffers).clone();
            buffers.insert(file.to_path_buf(), doc.text.clone());
            let test_doc = Document {
                path: s.shown,
                text,
                lossy: false,
                file: Some(s.test_file.clone()),
                buffers: Arc::new(buffers),
            };
            let context = context::Context::of(&test_doc);
            let Some(mut tests) = context.tests.clone() else { continue };
            tests.select = s.nodeids;
            let parsed = syntax::parse(&test_doc.text);
            let base =
                plan::base_program(&test_doc.path, &test_doc.text, &parsed, &context.module_name, &context.origin);
            ran += run_tests(&run, &test_doc, &context, &base, &tests, cancel).tests.len();
        }
        ran
    }

    /// The root of a file's project, when the file is in a marked project the sandbox may read
    /// (cheap: no walk).
    pub fn project_root(&self, file: &std::path::Path) -> Option<PathBuf> {
        let project = crate::project::Project::discover(file);
        (project.marked && !project.readable().is_empty()).then_some(project.root)
    }

    /// The test files of the project at `root`, as pytest collects them without arguments: under
    /// `testpaths` (else the root), the Python files `python_files` matches. At most
    /// [`MAX_BACKGROUND_TEST_FILES`], from at most [`MAX_WALKED_ENTRIES`] entries walked (a huge
    /// tree is never walked whole); it reads the disk, so callers run it off their hot path.
    pub fn project_tests(&self, root: &std::path::Path) -> Vec<PathBuf> {
        let project = crate::project::Project::at(root);
        let mut dirs: Vec<PathBuf> = project.pytest.testpaths.iter().map(|t| project.root.join(t)).collect();
        dirs.retain(|d| d.starts_with(&project.root) && d.exists());
        if dirs.is_empty() {
            dirs.push(project.root.clone());
        }
        let mut files: Vec<PathBuf> = dirs
            .iter()
            .flat_map(|d| crate::base::walk(d))
            .take(MAX_WALKED_ENTRIES)
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_some_and(|t| t.is_file()) && crate::base::is_python(e.path()))
            .map(|e| e.into_path())
            .filter(|p| project.is_test_file(p))
            .take(MAX_BACKGROUND_TEST_FILES)
            .collect();
        files.sort();
        files.dedup();
        files
    }

    /// The files (canonical) whose functions the last run of this test file's tests called.
    pub fn exercised_by(&self, test_file: &std::path::Path) -> Vec<PathBuf> {
        self.attribution.exercised_by(&attribution::canonical(test_file))
    }

    /// What a cached verdict depends on besides the function's text.
    fn fingerprint(settings: &Settings, coder: Option<&Coder>) -> String {
        let l = &settings.limits;
        let model = coder.map_or_else(|| "no-model".into(), Coder::fingerprint);
        format!(
            "{}:{}:{}:{}:{}:{model}:{}",
            crate::sandbox::runtime::runner_hash(),
            l.case_deadline.as_millis(),
            l.run_deadline.as_millis(),
            l.memory_bytes,
            l.output_chars,
            Calibration::builtin().version
        )
    }

    /// Checks one document. Functions whose text was checked before with the same settings
    /// (wherever they are in the file) reuse their verdict; new verdicts are cached unless the run
    /// was cancelled or a configured model was not asked (`ask_model` false: the editor's checks
    /// while typing). `Err` only when the sandbox cannot be loaded.
    pub fn check(
        &self,
        doc: &Document,
        ask_model: bool,
        cancel: &Cancel,
        events: &mut dyn FnMut(Event<'_>),
    ) -> Result<FileReport, String> {
        let sandbox = self.sandbox(&mut |m| events(Event::Status(m)))?;
        let settings = self.settings();
        let (coder, problem) = self.coder(&settings, false, &mut |m| events(Event::Status(m)));
        let run = Run {
            sandbox: &sandbox,
            cache: &self.cache,
            settings: &settings,
            coder: coder.as_deref(),
            attribution: &self.attribution,
        };
        let mut report = check_with(&run, doc, ask_model, cancel, events);
        if report.model_error.is_none() {
            report.model_error = problem;
        }
        report.model = coder.as_deref().map(Coder::describe);
        Ok(report)
    }
}

/// Python's own compiler may reject what tree-sitter accepted (an unexpected indent, say): the
/// top-level statements that failed with a SyntaxError are syntax issues too.
fn compiler_issues(text: &str, line_index: &LineIndex, report: &Report, known: &mut Vec<SyntaxIssue>) {
    for failure in &report.setup {
        let Some(exc) = failure.outcome.exception() else { continue };
        if !matches!(exc.exc_type.as_str(), "SyntaxError" | "IndentationError" | "TabError") {
            continue;
        }
        let Some(line) = exc.line else { continue };
        let (start, end) = line_index.line_range(text, line);
        let start = start + (text[start..end].len() - text[start..end].trim_start().len());
        if known.iter().any(|i| i.range.start < end && start <= i.range.end) {
            continue;
        }
        let message = match exc.message.rfind(" (") {
            Some(at) if exc.message.ends_with(')') => &exc.message[..at],
            _ => exc.message.as_str(),
        };
        known.push(SyntaxIssue {
            range: syntax::TextRange::new(start, end.max(start)),
            message: format!("syntax error: {message}"),
        });
    }
}

fn within(f: &Function, i: &SyntaxIssue) -> bool {
    f.range.start <= i.range.start && i.range.end <= f.range.end
}

/// What one check runs with.
struct Run<'a> {
    sandbox: &'a Sandbox,
    cache: &'a Cache,
    settings: &'a Settings,
    coder: Option<&'a Coder>,
    attribution: &'a attribution::Attribution,
}

/// The check itself, over what the engine holds.
fn check_with(
    run: &Run<'_>,
    doc: &Document,
    ask_model: bool,
    cancel: &Cancel,
    events: &mut dyn FnMut(Event<'_>),
) -> FileReport {
    let Run { sandbox, cache, settings, coder, attribution: _ } = *run;
    let started = Instant::now();
    let text = doc.text.as_str();
    let mut parsed = syntax::parse(text);
    let context = context::Context::of(doc);
    let mut fingerprint = format!("{}:{}", Engine::fingerprint(settings, coder), context.fingerprint());
    if context.tests.is_some() {
        // A test's outcome depends on the whole test file (its fixtures, helpers, imports).
        fingerprint = format!("{fingerprint}:{}", crate::base::hex(&syntax::FunctionKey::of_text(text).0));
    }
    // A cached verdict counts while every module its runs imported still finds the same text.
    let mut memo = HashMap::new();
    let mut depends: Vec<Import> = Vec::new();
    let mut base = plan::base_program(&doc.path, text, &parsed, &context.module_name, &context.origin);
    // The namespace is for examples: a file without any does not pay for its conftests' imports.
    if parsed.functions.iter().any(|f| !f.examples.is_empty()) {
        base.conftests = context.conftests.clone();
    }
    if doc.file.is_some() && discover::worth_asking(text, &parsed) {
        let file_key = syntax::FunctionKey::of_text(text);
        let found =
            cache.get_found(&file_key, &fingerprint, &mut |i| context.still_valid(i, &mut memo)).or_else(|| {
                let found = discover::find(sandbox, &base, &parsed, &context, &settings.limits, cancel)?;
                cache.put_found(file_key, &fingerprint, found.clone());
                Some(found)
            });
        if let Some((functions, imports)) = found {
            depends.extend(imports.iter().cloned());
            parsed.functions.extend(functions.iter().cloned());
            parsed.functions.sort_by_key(|f| f.range.start);
        }
    }
    let cached: Vec<Option<Verdict>> = parsed
        .functions
        .iter()
        .map(|f| {
            let (verdict, imports) =
                cache.get(&f.key, &fingerprint, f.range.start, &mut |i| context.still_valid(i, &mut memo))?;
            depends.extend(imports.iter().cloned());
            Some(verdict)
        })
        .collect();

    // Model evidence first: generated tests and candidates join the same sandbox runs.
    let mut model_error = None;
    let model_started = Instant::now();
    let mut evidence: Vec<Option<FunctionEvidence>> = Vec::with_capacity(parsed.functions.len());
    let asks = |f: &Function, cached: &Option<Verdict>| {
        coder.is_some()
            && ask_model
            && cached.is_none()
            && !f.has_error
            && f.kind == syntax::Kind::Function
            && context.tests.is_none()
            && f.qualified_name == f.name
    };
    let to_ask = parsed.functions.iter().zip(&cached).filter(|(f, c)| asks(f, c)).count();
    let mut asked = 0;
    for (f, cached) in parsed.functions.iter().zip(&cached) {
        if cached.is_some() {
            evidence.push(None);
            continue;
        }
        let proposals = match coder {
            Some(c) if asks(f, cached) && model_error.is_none() => {
                asked += 1;
                events(Event::Model { function: &f.name, index: asked, total: to_ask });
                match c.generate(f, text, cancel) {
                    Ok(p) => Some(p),
                    Err(e) => {
                        model_error = Some(e.to_string());
                        None
                    }
                }
            }
            _ => None,
        };
        let examples: Vec<usize> =
            if f.has_error { Vec::new() } else { (0..f.examples.len()).filter(|&e| !f.examples[e].skip).collect() };
        let inputs = proposals.as_ref().map(|p| plan::differential_inputs(f, &p.tests)).unwrap_or_default();
        evidence.push(Some(FunctionEvidence::new(examples, proposals, inputs)));
    }
    let model_time = model_started.elapsed();

    // The examples run under the user's deadline; what the model proposed under its own short
    // one, so that a looping candidate or input cannot cost the user's budget many times over.
    let mut examples_run = plan::Run::new(base.clone());
    let mut model_run = plan::Run::new(base.clone());
    for (i, (f, e)) in parsed.functions.iter().zip(&evidence).enumerate() {
        if let Some(e) = e
            && !f.has_error
            && (!e.examples.is_empty() || e.proposals.is_some())
        {
            plan::add_function(i, f, e, &context.flags, &mut examples_run, &mut model_run);
        }
    }
    let model_limits =
        Limits { case_deadline: settings.limits.case_deadline.min(MODEL_CASE_DEADLINE), ..settings.limits };
    let execute = |r: &plan::Run, limits: &Limits| {
        if r.is_empty() { Report::default() } else { sandbox.run_with(&r.program, &context.host, limits, cancel) }
    };
    if !examples_run.is_empty() || !model_run.is_empty() {
        events(Event::Sandbox);
    }
    let examples_report = execute(&examples_run, &settings.limits);
    let model_report = execute(&model_run, &model_limits);
    let mut imported: Vec<Import> = examples_report.imports.clone();
    imported.extend(model_report.imports.iter().cloned());
    let mut tests_problem = None;
    let mut tests = Vec::new();
    if let Some(tests_run) = &context.tests
        && evidence.iter().any(Option::is_some)
    {
        let report = run_tests(run, doc, &context, &base, tests_run, cancel);
        imported.extend(report.imports.iter().cloned());
        tests_problem = report.tests_problem;
        tests = report.tests.clone();
        plan::fill_tests(&parsed.functions, report.tests, &mut evidence);
    }

    let line_index = LineIndex::new(text);
    let mut syntax_issues = parsed.syntax_issues.clone();
    compiler_issues(text, &line_index, &examples_report, &mut syntax_issues);
    let module_issues: Vec<SyntaxIssue> =
        syntax_issues.iter().filter(|i| !parsed.functions.iter().any(|f| within(f, i))).cloned().collect();
    examples_run.fill(examples_report, &mut evidence);
    model_run.fill(model_report, &mut evidence);

    let provenance = Provenance {
        runtime: crate::sandbox::runtime::runner_hash(),
        prompt_version: crate::model::PROMPT_VERSION.to_string(),
    };
    // Judged without a configured model that was not asked: not the verdict to keep.
    let without_model = coder.is_some() && !ask_model;
    let mut records = Vec::new();
    let mut functions = Vec::with_capacity(parsed.functions.len());
    for ((function, cached), e) in parsed.functions.iter().zip(cached).zip(evidence) {
        if let Some(verdict) = cached {
            functions.push(FunctionReport { function: function.clone(), verdict });
            continue;
        }
        let Some(mut e) = e else { continue };
        e.syntax_issues = syntax_issues.iter().filter(|i| within(function, i)).cloned().collect();
        let subject = Subject { path: &doc.path, function, source: &text[function.range.start..function.range.end] };
        if let Some(p) = &e.proposals {
            while let Some(mut round) = judge::next_shrink(subject, &e) {
                let program = crate::sandbox::Program {
                    groups: plan::shrink_groups(function, &p.candidates, &round),
                    ..base.clone()
                };
                let report = sandbox.run_with(&program, &context.host, &model_limits, cancel);
                imported.extend(report.imports.iter().cloned());
                plan::fill_shrink(&mut round, report);
                e.shrinks.push(round);
            }
        }
        let judged = judge::judge(subject, &e, Calibration::builtin());
        let complete = !e.incomplete();
        if complete && !cancel.is_cancelled() && model_error.is_none() && !without_model {
            dedup_imports(&mut imported);
            cache.put(function.key, &fingerprint, function.range.start, &judged.verdict, Arc::new(imported.clone()));
            records.extend(records_of(&provenance, doc, function, &e, &judged, coder));
        }
        functions.push(FunctionReport { function: function.clone(), verdict: judged.verdict });
    }
    depends.extend(imported);
    dedup_imports(&mut depends);
    let mut depends_on = context.files_of(&depends);
    // An edit to a conftest.py that fills the examples' namespace is a reason to check again.
    depends_on.extend(base.conftests.iter().map(|c| PathBuf::from(&c.path)));
    depends_on.sort();
    depends_on.dedup();
    FileReport {
        depends_on,
        path: doc.path.clone(),
        line_index,
        text: doc.text.clone(),
        functions,
        module_issues,
        lossy: doc.lossy,
        records,
        model_error,
        model: None,
        model_time,
        tests_problem,
        file: doc.file.as_deref().map(attribution::canonical),
        test_file: context.tests.is_some(),
        tests,
        total_time: started.elapsed(),
        degraded: parsed.timed_out.then(|| {
            format!("the file could not be parsed within {} s; it was not analysed", syntax::PARSE_BUDGET.as_secs())
        }),
    }
}

/// Runs a test file's tests (all, or those `tests` selects) with pytest in the sandbox and records
/// which project functions each ran (unless cancelled).
fn run_tests(
    run: &Run<'_>,
    doc: &Document,
    context: &context::Context,
    base: &crate::sandbox::Program,
    tests: &crate::sandbox::TestRun,
    cancel: &Cancel,
) -> Report {
    let settings = run.settings;
    let program = crate::sandbox::Program { chunks: Vec::new(), pytest: Some(tests.clone()), ..base.clone() };
    let limits = Limits { run_deadline: settings.limits.run_deadline.max(TESTS_DEADLINE), ..settings.limits };
    let report = run.sandbox.run_with(&program, &context.host, &limits, cancel);
    if let Some(file) = doc.file.as_ref().filter(|_| !cancel.is_cancelled()) {
        let absolute = |shown: &str| context.absolute(shown);
        let mut keys: HashMap<PathBuf, HashMap<String, syntax::FunctionKey>> = HashMap::new();
        let mut key_of = |path: &std::path::Path, qualified: &str| {
            keys.entry(path.to_path_buf()).or_insert_with(|| context.function_keys(path)).get(qualified).copied()
        };
        let partial = !tests.select.is_empty();
        run.attribution.record(
            &attribution::canonical(file),
            &doc.path,
            &report.tests,
            partial,
            &absolute,
            &mut key_of,
        );
    }
    report
}

/// Each import once (the first digest seen; every run of one check sees the same files).
fn dedup_imports(imports: &mut Vec<Import>) {
    let mut seen = std::collections::HashSet::new();
    imports.retain(|i| seen.insert(i.name.clone()));
}

/// The training records of one judged function: the user's function on its examples, and each
/// loaded candidate on the examples and the surviving tests.
fn records_of(
    provenance: &Provenance,
    doc: &Document,
    function: &Function,
    e: &FunctionEvidence,
    judged: &judge::Judgement,
    coder: Option<&Coder>,
) -> Vec<ExecutionRecord> {
    let text = doc.text.as_str();
    let mut out = Vec::new();
    let examples: Vec<_> = e
        .examples
        .iter()
        .zip(&e.user.examples)
        .zip(&judged.examples)
        .filter_map(|((&x, outcome), v)| Some((&function.examples[x], outcome.as_ref()?, v)))
        .collect();
    out.extend(store::execution_record(provenance, &doc.path, text, function, &examples, &judged.verdict));
    let (Some(coder), Some(p)) = (coder, &e.proposals) else { return out };
    let c = &coder.candidates;
    let sampler = serde_json::json!({
        "temperature": c.temperature, "top_p": c.top_p, "top_k": c.top_k,
        "repetition_penalty": c.repetition_penalty, "seed": c.seed, "n": c.n,
        "max_tokens": c.max_tokens, "p_true": coder.p_true,
    });
    for result in &judged.candidates {
        let cells = &e.candidates[result.candidate];
        let results: Vec<(TestRecord, &Outcome, bool)> = result
            .results
            .iter()
            .filter_map(|&(column, passed)| {
                let outcome = cells.get(column)?;
                let test = match column {
                    crate::evidence::Column::Example(j) => {
                        let ex = &function.examples[e.examples[j]];
                        TestRecord {
                            kind: TestKind::Example,
                            source: ex.source.clone(),
                            expected: ex.want.clone(),
                            line: ex.line,
                        }
                    }
                    crate::evidence::Column::Test(t) => TestRecord {
                        kind: TestKind::Generated,
                        source: p.tests[t].clone(),
                        expected: String::new(),
                        line: 0,
                    },
                    _ => return None,
                };
                Some((test, outcome, passed))
            })
            .collect();
        let candidate = store::Candidate {
            source: &p.candidates[result.candidate],
            model_id: &coder.name,
            sampler: sampler.clone(),
        };
        out.extend(store::candidate_record(provenance, &doc.path, text, function, &candidate, &results));
    }
    out
}
