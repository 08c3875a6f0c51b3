//! The language server's latency and footprint, from a client harness over real stdio.
//!
//!     cargo bench --bench lsp_bench
//!
//! - didChange → publishDiagnostics for a function with docstring examples, debounce set to 0 so
//!   the figure is the check itself: p50 and p99 over 200 edits that each change the function's
//!   text (a cache miss: a real sandbox run), beside 200 edits back to texts already checked
//!   (cache hits) in the same run. Target p50 ≤ 50 ms.
//! - Resident memory of the idle server before any document (no model), and after the edits.
//!   Target ≤ 60 MB idle.
#![allow(clippy::print_stdout, dead_code)]

#[path = "../tests/all/lsp_client.rs"]
mod lsp_client;

use std::time::{Duration, Instant};

use serde_json::json;

fn rss_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    kb / 1024.0
}

fn pct(xs: &[Duration], p: f64) -> f64 {
    let mut v = xs.to_vec();
    v.sort();
    v[((v.len() - 1) as f64 * p).round() as usize].as_secs_f64() * 1e3
}

fn text(k: usize) -> String {
    format!(
        "def scale(x):\n    \"\"\"\n    >>> scale(2)\n    4\n    >>> [scale(i) for i in range(3)]\n    [0, 2, 4]\n    \"\"\"\n    return x * 2 + 0 * {k}\n"
    )
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    run(&dir, "off");
    let store = dir.path().join("lsp-store.sqlite3");
    run(&dir, store.to_str().unwrap());
}

fn run(dir: &tempfile::TempDir, store: &str) {
    println!("== training-data store: {} ==", if store == "off" { "off" } else { "on (synchronous=FULL)" });
    let uri = format!("file://{}/bench.py", dir.path().display());
    let mut c = lsp_client::Client::spawn_with_store(store);
    c.request("initialize", json!({"processId": null, "capabilities": {}, "initializationOptions": {"debounceMs": 0}}));
    c.notify("initialized", json!({}));
    std::thread::sleep(Duration::from_millis(300));
    let idle = rss_mb(c.pid());

    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text(0)}}),
    );
    c.diagnostics(&uri, |p| p["version"] == 1);

    let mut version = 1;
    let mut edit = |c: &mut lsp_client::Client, k: usize| {
        version += 1;
        let started = Instant::now();
        c.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text(k)}]}),
        );
        let v = version;
        c.diagnostics(&uri, |p| p["version"] == v);
        started.elapsed()
    };
    let misses: Vec<Duration> = (1..=200).map(|k| edit(&mut c, k)).collect();
    let hits: Vec<Duration> = (1..=200).map(|k| edit(&mut c, k)).collect();
    let after = rss_mb(c.pid());
    println!(
        "didChange -> publishDiagnostics, new text (sandbox run):  p50 {:.2} ms  p99 {:.2} ms  (target p50 <= 50 ms)",
        pct(&misses, 0.5),
        pct(&misses, 0.99)
    );
    println!(
        "didChange -> publishDiagnostics, cached text (undo):      p50 {:.2} ms  p99 {:.2} ms",
        pct(&hits, 0.5),
        pct(&hits, 0.99)
    );
    println!(
        "server RSS idle (no document, no model): {idle:.1} MB  (target <= 60 MB); after 400 edits: {after:.1} MB"
    );
}
