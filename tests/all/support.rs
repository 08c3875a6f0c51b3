//! Shared fixtures: one sandbox for the whole test binary, program builders.

use std::sync::OnceLock;
use std::time::Duration;

use plumb::sandbox::{Cancel, Case, CaseKind, Chunk, Group, Limits, Program, Report, Sandbox, runtime};

/// The real sandbox, loaded (and on a fresh machine built) once per test binary.
pub(crate) fn sandbox() -> &'static Sandbox {
    static SANDBOX: OnceLock<Sandbox> = OnceLock::new();
    SANDBOX
        .get_or_init(|| runtime::load(&mut |m| eprintln!("plumb test setup: {m}")).expect("the sandbox runtime loads"))
}

/// Short deadlines so that hostile loops cost little test time.
pub(crate) fn quick_limits() -> Limits {
    Limits { case_deadline: Duration::from_millis(400), run_deadline: Duration::from_secs(10), ..Limits::default() }
}

/// A program made of `source` (its top-level statements as chunks, as the pipeline does) and
/// groups of cases.
pub(crate) fn program(source: &str, groups: Vec<Vec<Case>>) -> Program {
    let parsed = plumb::syntax::parse(source);
    Program {
        filename: "hostile.py".into(),
        source: source.into(),
        module_name: "hostile".into(),
        chunks: parsed
            .top_level
            .iter()
            .map(|t| Chunk { line: t.line, text: source[t.range.start..t.range.end].to_string() })
            .collect(),
        groups: groups.into_iter().map(|cases| Group { cases }).collect(),
    }
}

pub(crate) fn example(source: &str, want: &str) -> Case {
    Case { kind: CaseKind::Example { want: want.into(), options: Vec::new() }, source: format!("{source}\n"), line: 0 }
}

pub(crate) fn assert_case(source: &str) -> Case {
    Case { kind: CaseKind::Assert, source: format!("{source}\n"), line: 0 }
}

pub(crate) fn run(program: &Program, limits: &Limits) -> Report {
    sandbox().run(program, limits, &Cancel::new())
}
