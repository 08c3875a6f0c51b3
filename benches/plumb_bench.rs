//! plumb's benchmarks: figures, and ratios against a baseline measured in the same run.
//!
//!     cargo bench --bench plumb_bench
//!
//! 1. Warm sandbox: one function with 20 assert-style checks, median over many runs (target ≤ 2 ms),
//!    beside the cost of an empty run (fresh store + instance + request round trip).
//! 2. `plumb check` on a 10-function file with examples vs `python3 -m doctest` on the same file,
//!    whole process each, medians (target ratio ≤ 0.5); `plumb check` with and without recording.
//! 3. The training-data store with `synchronous=FULL`: records per second, one commit per record
//!    and in the writer's batches.
//! 4. The judge beyond the model: one function with 8 candidates × 20 generated tests (from a
//!    loopback stand-in for a model server, so that model time is ~0 and measured apart), the
//!    differential inputs and counterexample search with shrinking (target ≤ 100 ms).
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use plumb::sandbox::{Cancel, Case, CaseKind, Chunk, Group, Limits, Program, runtime};

#[path = "../tests/all/support.rs"]
#[allow(dead_code)]
mod support;
use plumb::store::{ExecutionRecord, Store};

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

fn pct(xs: &[Duration], p: f64) -> Duration {
    let mut v = xs.to_vec();
    v.sort();
    v[((v.len() - 1) as f64 * p).round() as usize]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

const FUNCTION: &str =
    "def clamp(x, lo, hi):\n    if x < lo:\n        return lo\n    if x > hi:\n        return hi\n    return x\n";

fn assert_program(n: usize) -> Program {
    let cases = (0..n)
        .map(|i| {
            let x = i as i64 - 10;
            let want = x.clamp(-5, 5);
            Case { kind: CaseKind::Assert, source: format!("assert clamp({x}, -5, 5) == {want}\n"), line: 0 }
        })
        .collect();
    Program {
        filename: "bench.py".into(),
        origin: "bench.py".into(),
        source: FUNCTION.into(),
        module_name: "bench".into(),
        chunks: vec![Chunk { line: 0, text: FUNCTION.into() }],
        groups: vec![Group { cases, stop_on_timeout: false }],
        discover: None,
        pytest: None,
        conftests: Vec::new(),
    }
}

fn ten_function_file() -> String {
    let mut s = String::from("\"\"\"Ten small functions with docstring examples.\"\"\"\n\n");
    for i in 0..10 {
        s.push_str(&format!(
            "def f{i}(x, y={i}):\n    \"\"\"Adds and scales.\n\n    >>> f{i}(1)\n    {a}\n    >>> f{i}(2, 3)\n    {b}\n    >>> [f{i}(k) for k in range(3)]\n    {c:?}\n    \"\"\"\n    return (x + y) * 2\n\n\n",
            a = (1 + i) * 2,
            b = (2 + 3) * 2,
            c = (0..3).map(|k| (k + i) * 2).collect::<Vec<_>>(),
        ));
    }
    s
}

fn time_command(cmd: &mut Command, runs: usize) -> (Duration, bool) {
    let mut xs = Vec::new();
    let mut ok = true;
    for _ in 0..runs {
        let t = Instant::now();
        let out = cmd.output().expect("running the command");
        xs.push(t.elapsed());
        ok &= out.status.code().is_some();
    }
    (median(xs), ok)
}

fn main() {
    let sandbox = runtime::load(&mut |m| println!("setup: {m}")).expect("the sandbox runtime");
    let limits = Limits::default();
    let cancel = Cancel::new();

    println!("== warm sandbox ==");
    let empty = Program { groups: vec![], ..assert_program(0) };
    let twenty = assert_program(20);
    for _ in 0..20 {
        sandbox.run(&twenty, &limits, &cancel);
    }
    let report = sandbox.run(&twenty, &limits, &cancel);
    let passed = report.outcomes[0].iter().filter(|o| o.exception().is_none()).count();
    assert_eq!(passed, 20, "all 20 checks pass: {report:?}");
    let runs = 300;
    let time_runs = |program: &Program| -> Vec<Duration> {
        (0..runs)
            .map(|_| {
                let t = Instant::now();
                sandbox.run(program, &limits, &cancel);
                t.elapsed()
            })
            .collect()
    };
    let empty_times = time_runs(&empty);
    let times = time_runs(&twenty);
    let uncached: Vec<Duration> = (0..runs)
        .map(|_| {
            sandbox.forget_compiled();
            let t = Instant::now();
            sandbox.run(&twenty, &limits, &cancel);
            t.elapsed()
        })
        .collect();
    println!(
        "empty run (fresh instance + define the function):  median {:.3} ms  p90 {:.3} ms",
        ms(median(empty_times.clone())),
        ms(pct(&empty_times, 0.9))
    );
    println!(
        "one function, 20 assert checks:                    median {:.3} ms  p90 {:.3} ms  (target <= 2 ms)",
        ms(median(times.clone())),
        ms(pct(&times, 0.9))
    );
    println!(
        "  the same, compiling every check (first sight):   median {:.3} ms  p90 {:.3} ms",
        ms(median(uncached.clone())),
        ms(pct(&uncached, 0.9))
    );

    println!("== plumb check vs python3 -m doctest, 10-function file, whole process ==");
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("tenfuncs.py");
    std::fs::write(&file, ten_function_file()).expect("write the file");
    let plumb = Path::new(env!("CARGO_BIN_EXE_plumb"));
    let store = dir.path().join("bench-store.sqlite3");
    let out = Command::new(plumb)
        .arg("check")
        .arg(&file)
        .env("PLUMB_STORE", "off")
        .env("PLUMB_MODEL", "off")
        .output()
        .expect("plumb check");
    assert_eq!(out.status.code(), Some(0), "plumb check passes: {}", String::from_utf8_lossy(&out.stdout));
    let doctest = Command::new("python3").args(["-m", "doctest"]).arg(&file).output().expect("python3 -m doctest");
    assert!(doctest.status.success(), "doctest passes on the same file");
    let runs = 30;
    let (plumb_t, _) = time_command(
        Command::new(plumb).arg("check").arg(&file).env("PLUMB_STORE", "off").env("PLUMB_MODEL", "off"),
        runs,
    );
    let (plumb_store_t, _) = time_command(
        Command::new(plumb).arg("check").arg(&file).env("PLUMB_STORE", &store).env("PLUMB_MODEL", "off"),
        runs,
    );
    let (doctest_t, _) = time_command(Command::new("python3").args(["-m", "doctest"]).arg(&file), runs);
    println!("plumb check:        median {:.1} ms", ms(plumb_t));
    println!("python3 -m doctest: median {:.1} ms", ms(doctest_t));
    println!("ratio plumb/doctest: {:.2}  (target <= 0.5)", plumb_t.as_secs_f64() / doctest_t.as_secs_f64());
    println!(
        "plumb check recording to the store: median {:.1} ms (ratio to doctest {:.2})",
        ms(plumb_store_t),
        plumb_store_t.as_secs_f64() / doctest_t.as_secs_f64()
    );

    println!("== training-data store, synchronous=FULL ==");
    let mut s = Store::open(&dir.path().join("rate.sqlite3")).expect("store");
    let n = 300;
    let t = Instant::now();
    for i in 0..n {
        s.write(&[ExecutionRecord::synthetic(i)], &[]).expect("write");
    }
    let single = n as f64 / t.elapsed().as_secs_f64();
    let batches = 40;
    let t = Instant::now();
    for b in 0..batches {
        let batch: Vec<_> = (0..256).map(|i| ExecutionRecord::synthetic(1_000_000 + b * 256 + i)).collect();
        s.write(&batch, &[]).expect("write");
    }
    let batched = (batches * 256) as f64 / t.elapsed().as_secs_f64();
    println!("one commit per record: {single:.0} records/s; batches of 256: {batched:.0} records/s");

    println!("== the judge beyond the model: 8 candidates x 20 tests + counterexample search ==");
    let url = fake_coder();
    let options = plumb::engine::Options {
        model_url: Some(url),
        model_name: Some("bench-coder".into()),
        model_samples: 8,
        store: plumb::engine::StoreChoice::Off,
        ..Default::default()
    };
    let text = "def add(a, b):\n    \"\"\"\n    >>> add(1, 1)\n    2\n    \"\"\"\n    return 0 if a == 2 else a + b\n";
    let doc = plumb::engine::Document::from_bytes("m.py", text.as_bytes()).expect("document");
    let mut beyond = Vec::new();
    let mut findings = 0;
    let engine = plumb::engine::Engine::new(options.settings());
    for _ in 0..20 {
        // Nothing cached: the whole matrix and the shrinking run each time.
        engine.clear_cache();
        let r = engine.check(&doc, true, &cancel, &mut |_| {}).expect("sandbox");
        beyond.push(r.total_time.saturating_sub(r.model_time));
        findings = r.functions[0].verdict.findings.len();
        assert_eq!(r.functions[0].verdict.evidence.candidates, 8);
        assert_eq!(r.functions[0].verdict.evidence.generated_tests, 20);
    }
    println!(
        "time beyond the model: median {:.1} ms, p90 {:.1} ms ({findings} findings, counterexample shrunk each run; target <= 100 ms)",
        ms(median(beyond.clone())),
        ms(pct(&beyond, 0.9))
    );
}

/// A loopback OpenAI-compatible server (the tests' stand-in) answering test prompts with 20
/// asserts and candidate prompts with 8 candidates (7 correct ways to write `add`, one wrong).
fn fake_coder() -> String {
    // Four samples of five asserts each (CodeT keeps five per sample); the backend puts back the
    // prompt's leading `assert `.
    let test_choices: Vec<serde_json::Value> = (0..4)
        .map(|k| {
            let tests: Vec<String> =
                (5 * k..5 * k + 5).map(|i| format!("assert add({i}, {}) == {}", i + 1, 2 * i + 1)).collect();
            serde_json::json!({"text": format!("{}\n", tests.join("\n").trim_start_matches("assert "))})
        })
        .collect();
    let tests_answer: &'static str =
        Box::leak(serde_json::json!({ "choices": test_choices }).to_string().into_boxed_str());
    const CANDIDATES: &[&str] = &[
        "    return a + b\n",
        "    return b + a\n",
        "    return sum((a, b))\n",
        "    return a - (-b)\n",
        "    return (a + b) * 1\n",
        "    return int(a + b)\n",
        "    return a + b + 0\n",
        "    return a * b\n",
    ];
    support::fake_coder_server(tests_answer, CANDIDATES, usize::MAX)
}
