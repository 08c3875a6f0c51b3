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
        origin: "hostile.py".into(),
        source: source.into(),
        module_name: "hostile".into(),
        chunks: parsed
            .top_level
            .iter()
            .map(|t| Chunk { line: t.line, text: source[t.range.start..t.range.end].to_string() })
            .collect(),
        groups: groups.into_iter().map(|cases| Group { cases, stop_on_timeout: false }).collect(),
        discover: None,
        pytest: None,
        conftests: Vec::new(),
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

/// A loopback stand-in for an OpenAI-compatible server (the real ones — llama.cpp, vLLM — are
/// not available here): answers every request with `body`, `count` times.
pub(crate) fn fake_model_server(body: &'static str, status: u16, count: usize) -> String {
    fake_server(move |_| (status, body.to_string()), count)
}

/// A fake coder: CodeT tests for test prompts (`# check the correctness`), `candidates` for the
/// others (completions continuing the function's header).
pub(crate) fn fake_coder_server(tests: &'static str, candidates: &'static [&'static str], count: usize) -> String {
    fake_server(
        move |request| {
            if request.contains("check the correctness") {
                (200, tests.to_string())
            } else {
                let choices: Vec<serde_json::Value> =
                    candidates.iter().enumerate().map(|(i, c)| serde_json::json!({"index": i, "text": c})).collect();
                (200, serde_json::json!({ "choices": choices }).to_string())
            }
        },
        count,
    )
}

fn fake_server(reply: impl Fn(&str) -> (u16, String) + Send + 'static, count: usize) -> String {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for _ in 0..count {
            let Ok((stream, _)) = listener.accept() else { return };
            let mut reader = BufReader::new(stream);
            let mut len = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap_or(0);
                }
            }
            let mut request = vec![0; len];
            let _ = reader.read_exact(&mut request);
            let (status, body) = reply(&String::from_utf8_lossy(&request));
            let reply =
                format!("HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
            let _ = reader.into_inner().write_all(reply.as_bytes());
        }
    });
    url
}

/// Two samples of CodeT tests for `add`, three distinct asserts in all.
pub(crate) const FAKE_TESTS_ANSWER: &str = r#"{"choices":[{"index":0,"text":"add(1, 2) == 3\nassert add(0, 0) == 0\n\nThese tests cover it."},{"index":1,"text":"add(2, 2) == 4\nassert add(1, 2) == 3"}]}"#;

/// A virtualenv in plumb's cache with `packages` from PyPI (installed on first use, pinned by the
/// caller), for tests that check plumb's output with a real tool; its `python`.
pub(crate) fn python_with(name: &str, packages: &[&str]) -> std::path::PathBuf {
    let venv = plumb::base::cache_dir().join("tools").join(name);
    let python = venv.join("bin").join("python");
    let ready = venv.join(".installed");
    // Tests run in parallel: one installs, the others wait for it.
    std::fs::create_dir_all(venv.parent().unwrap()).unwrap();
    let lock = std::fs::File::create(venv.with_extension("lock")).unwrap();
    lock.lock().unwrap();
    if !ready.is_file() {
        let ok =
            std::process::Command::new("python3").args(["-m", "venv"]).arg(&venv).status().is_ok_and(|s| s.success())
                && std::process::Command::new(venv.join("bin").join("pip"))
                    .args(["install", "--quiet", "--disable-pip-version-check"])
                    .args(packages)
                    .status()
                    .is_ok_and(|s| s.success());
        assert!(ok, "could not install {packages:?} from PyPI into {}", venv.display());
        std::fs::write(&ready, "").unwrap();
    }
    python
}
