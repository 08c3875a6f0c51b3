//! A seeded protocol fuzzer: hostile frames, JSON, JSON-RPC and LSP sequences (clients that
//! never answer included) against one `plumb lsp`, each case followed by a sanity round trip — a
//! failing example must be diagnosed within 5 s and hover must answer — with the server's
//! liveness, memory and exit code checked. `PLUMB_FUZZ_CASES` (default 300) and `PLUMB_FUZZ_SEED`
//! (default 1) choose the run; the long run is documented in the README:
//! `PLUMB_FUZZ_CASES=5000 cargo test --release -- lsp_fuzz --nocapture`.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::lsp_client::{Client, frame};

/// xorshift64*: small, seeded, reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const METHODS: &[&str] = &[
    "textDocument/hover",
    "textDocument/codeAction",
    "textDocument/didOpen",
    "textDocument/didChange",
    "textDocument/didSave",
    "textDocument/didClose",
    "workspace/executeCommand",
    "workspace/didChangeConfiguration",
    "$/cancelRequest",
    "$/setTrace",
    "$/plumb/invalidMessage",
    "initialize",
    "initialized",
    "textDocument/completion",
    "plumb/unknown",
    "",
];

const TEXTS: &[&str] = &[
    "def f(x):\n    \"\"\"\n    >>> f(1)\n    3\n    \"\"\"\n    return x\n",
    "def f(:\n    pass\n",
    "import os\nos._exit(3)\n",
    "def f():\n    \"\"\"\n    >>> f()\n    \"\"\"\n    while True:\n        pass\n",
    "def f():\n    \"\"\"\n    >>> f()\n    \"\"\"\n    return 'x' * (1 << 30)\n",
    "x = 1\r\ndef g():\r\n    '''\r\n    >>> g()\r\n    2\r\n    '''\r\n    return 1\r\n",
    "def h():\r    return 1\r",
    "\u{feff}# é 𝔣 \u{0}\u{7}\n",
    "",
];

fn random_value(r: &mut Rng, depth: usize) -> Value {
    match r.below(if depth > 3 { 6 } else { 9 }) {
        0 => Value::Null,
        1 => json!(r.chance(50)),
        2 => json!(r.next() as i64),
        3 => json!((r.next() % 1000) as f64 / 7.0),
        4 => json!(r.pick(&["", "x", "file:///nope.py", "𝔣", "\u{0}", "plumb.status", "plumb.recheck"])),
        5 => json!(r.pick(TEXTS)),
        6 => Value::Array((0..r.below(4)).map(|_| random_value(r, depth + 1)).collect()),
        _ => {
            let keys = [
                "textDocument",
                "uri",
                "position",
                "range",
                "text",
                "contentChanges",
                "version",
                "command",
                "arguments",
                "id",
                "settings",
                "context",
                "line",
                "character",
                "start",
                "end",
            ];
            Value::Object((0..r.below(5)).map(|_| (r.pick(&keys).to_string(), random_value(r, depth + 1))).collect())
        }
    }
}

fn position(r: &mut Rng) -> Value {
    let big = |r: &mut Rng| if r.chance(20) { 1 << 31 } else { r.below(12) as u64 };
    json!({"line": big(r), "character": big(r)})
}

/// One hostile case: the bytes to send.
fn case(r: &mut Rng, uris: &[String]) -> Vec<Vec<u8>> {
    let uri = r.pick(uris).clone();
    let mut out = Vec::new();
    for _ in 0..1 + r.below(6) {
        let bytes = match r.below(12) {
            // Framing: a header with no usable length (resynchronised at the next frame).
            0 => r
                .pick::<&[u8]>(&[
                    b"Content-Type: x\r\n\r\n{}",
                    b"Content-Length: -1\r\n\r\n",
                    b"\r\n\r\n",
                    b"Content-Length: 1\r\nContent-Length: 1\r\n\r\n{",
                    b"garbage without headers",
                ])
                .to_vec(),
            // Bodies that are not JSON, or not objects, or deeply nested.
            1 => {
                let bodies: &[&[u8]] = &[b"{not json", b"[]", b"42", b"\"s\"", b"null", b"\xff\xfe", b"{\"a\":"];
                frame(r.pick::<&[u8]>(bodies))
            }
            2 => {
                let depth = 1 + r.below(5000);
                frame(format!("{}{}", "[".repeat(depth), "]".repeat(depth)).as_bytes())
            }
            // JSON-RPC shapes: odd ids, duplicated keys, batches, responses.
            3 => frame(r.pick::<&[u8]>(&[
                br#"{"jsonrpc":"2.0","id":1.5,"method":"textDocument/hover"}"#,
                br#"{"jsonrpc":"2.0","id":{"a":1},"method":"x"}"#,
                br#"{"jsonrpc":"1.0","id":1,"method":"x"}"#,
                br#"{"jsonrpc":"2.0","id":7,"method":"x","method":"y","params":{}}"#,
                br#"{"jsonrpc":"2.0","id":8,"id":9,"method":"textDocument/hover","params":{}}"#,
                br#"[{"jsonrpc":"2.0","id":1,"method":"x"}]"#,
                br#"{"jsonrpc":"2.0","id":991,"error":"oops"}"#,
                br#"{"jsonrpc":"2.0","id":992,"result":{},"error":{"code":1,"message":"m"}}"#,
                br#"{"jsonrpc":"2.0","id":99999999999,"result":null}"#,
                br#"{"jsonrpc":"2.0","method":"textDocument/didOpen","params":null}"#,
                br#"{"jsonrpc":"2.0","id":5,"method":"$/x"}"#,
                br#"{"jsonrpc":"2.0","id":6,"method":"textDocument/hover","result":1}"#,
            ])),
            // Random methods with random parameters, requests and notifications.
            4..=6 => {
                let method = *r.pick(METHODS);
                let mut msg = json!({"jsonrpc": "2.0", "method": method, "params": random_value(r, 0)});
                if r.chance(50) {
                    msg["id"] = json!(1_000_000 + r.below(1000));
                }
                frame(msg.to_string().as_bytes())
            }
            // Well-typed LSP with hostile content: open, edit out of range, close.
            7 => frame(json!({"jsonrpc": "2.0", "method": "textDocument/didOpen",
                "params": {"textDocument": {"uri": uri, "languageId": "python", "version": r.below(5), "text": r.pick(TEXTS)}}})
                .to_string().as_bytes()),
            8 => frame(json!({"jsonrpc": "2.0", "method": "textDocument/didChange",
                "params": {"textDocument": {"uri": uri, "version": 10 + r.below(100)},
                           "contentChanges": [{"range": {"start": position(r), "end": position(r)}, "text": r.pick(TEXTS)}]}})
                .to_string().as_bytes()),
            9 => frame(json!({"jsonrpc": "2.0", "method": "textDocument/didClose", "params": {"textDocument": {"uri": uri}}})
                .to_string().as_bytes()),
            10 => frame(json!({"jsonrpc": "2.0", "id": 2_000_000 + r.below(1000), "method": "textDocument/hover",
                "params": {"textDocument": {"uri": uri}, "position": position(r)}}).to_string().as_bytes()),
            // A large message.
            _ => frame(json!({"jsonrpc": "2.0", "method": "textDocument/didOpen",
                "params": {"textDocument": {"uri": uri, "languageId": "python", "version": 1,
                                            "text": "# x\n".repeat(1 + r.below(50_000))}}}).to_string().as_bytes()),
        };
        out.push(bytes);
    }
    out
}

const SANITY: &str = "def add(a, b):\n    \"\"\"\n    >>> add(2, 3)\n    5\n    \"\"\"\n    return a - b\n";

#[test]
fn the_server_survives_a_seeded_protocol_fuzz() {
    let cases: usize = std::env::var("PLUMB_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(300);
    let seed: u64 = std::env::var("PLUMB_FUZZ_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(1);
    let mut r = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let dir = tempfile::tempdir().unwrap();
    let uris: Vec<String> = (0..4).map(|i| format!("file://{}/f{i}.py", dir.path().display())).collect();
    let mut c = Client::spawn();
    c.initialize(json!({"window": {"workDoneProgress": true}, "workspace": {"configuration": true}}));
    let (idle_kib, _) = c.rss_kib();
    let mut slowest = Duration::ZERO;
    for n in 0..cases {
        // Half the time the client never answers the server's requests.
        c.answers = r.chance(50);
        let sent = case(&mut r, &uris);
        if std::env::var_os("PLUMB_FUZZ_VERBOSE").is_some() {
            for bytes in &sent {
                let shown = String::from_utf8_lossy(&bytes[..bytes.len().min(300)]).into_owned();
                eprintln!("case {n}: {shown:?}");
            }
        }
        for bytes in sent {
            assert!(c.try_raw(&bytes), "case {n} (seed {seed}): the server stopped reading");
        }
        // Sanity: a failing example is diagnosed, and hover answers.
        let started = Instant::now();
        let uri = format!("file://{}/sanity{n}.py", dir.path().display());
        c.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": SANITY}}),
        );
        let p = c.wait_for(&format!("case {n} (seed {seed}): sanity diagnostics"), Duration::from_secs(5), |m| {
            m["method"] == "textDocument/publishDiagnostics"
                && m["params"]["uri"] == uri
                && m["params"]["diagnostics"].as_array().is_some_and(|d| !d.is_empty())
        });
        assert_eq!(p["params"]["diagnostics"][0]["code"], "example_failed", "case {n} (seed {seed})");
        let id = c.send_request(
            "textDocument/hover",
            json!({"textDocument": {"uri": uri}, "position": {"line": 0, "character": 5}}),
        );
        let hover = c.wait_for(&format!("case {n} (seed {seed}): hover"), Duration::from_secs(5), |m| {
            m["id"] == id && m.get("method").is_none()
        });
        assert!(
            hover["result"]["contents"]["value"].as_str().is_some_and(|t| t.contains("failing")),
            "case {n}: {hover}"
        );
        c.notify("textDocument/didClose", json!({"textDocument": {"uri": uri}}));
        slowest = slowest.max(started.elapsed());
        assert!(c.alive(), "case {n} (seed {seed}): the server died");
        // Keep the backlog small: what the cases provoked is read and dropped.
        let _ = c.drain(Duration::from_millis(1));
    }
    let (rss, peak) = c.rss_kib();
    eprintln!(
        "lsp fuzz: {cases} cases (seed {seed}), slowest sanity round trip {slowest:?}, RSS idle {idle_kib} KiB, now {rss} KiB, peak {peak} KiB"
    );
    // The sandbox reserves at most its budget (1 GiB); the server's own memory stays far below.
    assert!(peak < (1 << 20) + (256 << 10), "peak RSS {peak} KiB");
    c.answers = true;
    let shutdown = c.request("shutdown", Value::Null);
    assert!(shutdown.get("error").is_none(), "{shutdown}");
    c.notify("exit", Value::Null);
    assert_eq!(c.exit_code(Duration::from_secs(2)), Some(0));
}
