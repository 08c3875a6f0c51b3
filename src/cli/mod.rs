//! The command line: the only module that prints. `plumb check` runs the pipeline over files and
//! renders the results for people (rustc/ruff style) or tools (JSON, a versioned contract).
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod discover;
mod human;
mod json;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};

use crate::pipeline::{self, FileResult, Settings};
use crate::sandbox::{Cancel, Limits, runtime};

#[derive(Parser, Debug)]
#[command(name = "plumb", version, about = "Runs the Python you are writing and shows, with proof, where it is wrong")]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Check Python files: run every function's docstring examples in the sandbox and report.
    Check(CheckArgs),
    /// Build and precompile the sandbox runtime now (`check` does this on first use).
    Setup,
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
    /// Wall-clock limit for one example, in milliseconds.
    #[arg(long, default_value_t = 2000, value_name = "MS")]
    timeout: u64,
    /// Memory limit for the sandboxed interpreter, in MiB.
    #[arg(long, default_value_t = 256, value_name = "MIB", value_parser = clap::value_parser!(u64).range(32..=1024))]
    memory: u64,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum Format {
    Human,
    Json,
}

/// One input that could not be checked (or was checked with a caveat).
#[derive(Debug, Clone)]
pub(crate) struct InputProblem {
    pub(crate) path: String,
    pub(crate) message: String,
    /// The path was not checked at all.
    pub(crate) fatal: bool,
}

pub fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(a) => a,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { ExitCode::from(2) } else { ExitCode::SUCCESS };
        }
    };
    match args.command {
        Command::Setup => match runtime::load(&mut status) {
            Ok(_) => {
                eprintln!("plumb: sandbox runtime ready in {}", runtime::cache_dir().display());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("plumb: error: could not set up the sandbox runtime: {e:#}");
                ExitCode::from(2)
            }
        },
        Command::Check(check) => run_check(check),
        Command::Lsp { .. } => crate::lsp::run_stdio(),
    }
}

fn status(message: &str) {
    eprintln!("plumb: {message}");
}

fn run_check(args: CheckArgs) -> ExitCode {
    let paths = if args.paths.is_empty() { vec![PathBuf::from(".")] } else { args.paths.clone() };
    let (files, mut problems) = discover::python_files(&paths);
    let settings = Settings {
        limits: Limits {
            case_deadline: Duration::from_millis(args.timeout.max(1)),
            memory_bytes: (args.memory as usize) << 20,
            ..Limits::default()
        },
    };
    let mut results: Vec<FileResult> = Vec::new();
    if !files.is_empty() {
        let sandbox = match runtime::load(&mut status) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("plumb: error: could not set up the sandbox runtime: {e:#}");
                return ExitCode::from(2);
            }
        };
        let docs: Vec<_> = files
            .iter()
            .filter_map(|(path, shown)| match pipeline::read_document(path, shown) {
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
        let next = AtomicUsize::new(0);
        let out = Mutex::new(Vec::new());
        let workers = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).min(docs.len()).max(1);
        let cancel = Cancel::new();
        std::thread::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, Ordering::SeqCst);
                        let Some(doc) = docs.get(i) else { break };
                        let result = pipeline::check_document(&sandbox, doc, &settings, &cancel);
                        out.lock().unwrap_or_else(|p| p.into_inner()).push((i, result));
                    }
                });
            }
        });
        let mut done = out.into_inner().unwrap_or_else(|p| p.into_inner());
        done.sort_by_key(|(i, _)| *i);
        results = done.into_iter().map(|(_, r)| r).collect();
    }
    problems.sort_by(|a, b| a.path.cmp(&b.path));

    let rendered = match args.format {
        Format::Json => json::render(&results, &problems),
        Format::Human => human::render(&results, &problems),
    };
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout.write_all(rendered.as_bytes()).and_then(|_| stdout.flush())
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        eprintln!("plumb: error: writing output: {e}");
        return ExitCode::from(2);
    }
    if problems.iter().any(|p| p.fatal) {
        ExitCode::from(2)
    } else if results.iter().any(FileResult::failing) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
