//! A small LSP client speaking raw Content-Length frames to a spawned `plumb lsp`: shared by the
//! integration tests (`tests/all/lsp.rs`) and the LSP benchmark (`benches/lsp_bench.rs`).
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub(crate) struct Client {
    child: Child,
    stdin: ChildStdin,
    rx: Receiver<Value>,
    next_id: i64,
    /// Messages received but not yet consumed.
    backlog: Vec<Value>,
    /// Answer the server's own requests (a well-behaved client); `false`: never answer them.
    pub(crate) answers: bool,
}

pub(crate) fn frame(body: &[u8]) -> Vec<u8> {
    let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    out.extend_from_slice(body);
    out
}

impl Client {
    /// A server that records no training data (`PLUMB_STORE=off`).
    pub(crate) fn spawn() -> Client {
        Client::spawn_with_store("off")
    }

    pub(crate) fn spawn_with_store(store: &str) -> Client {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_plumb"));
        cmd.arg("lsp").env("PLUMB_STORE", store).env("PLUMB_MODEL", "off");
        Client::spawn_command(cmd)
    }

    /// A server started by `cmd` (which must run `plumb lsp`).
    pub(crate) fn spawn_command(mut cmd: Command) -> Client {
        let mut child = cmd
            .env("PLUMB_LSP_TEST_HOOKS", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(if std::env::var_os("PLUMB_TEST_STDERR").is_some() { Stdio::inherit() } else { Stdio::null() })
            .spawn()
            .expect("plumb lsp starts");
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            loop {
                let mut len = None;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    if let Some(v) = line.strip_prefix("Content-Length: ") {
                        len = v.parse::<usize>().ok();
                    }
                }
                let mut body = vec![0; len.expect("Content-Length from the server")];
                if reader.read_exact(&mut body).is_err() {
                    return;
                }
                let value: Value = serde_json::from_slice(&body).expect("the server sends JSON");
                if tx.send(value).is_err() {
                    return;
                }
            }
        });
        Client { child, stdin, rx, next_id: 1, backlog: Vec::new(), answers: true }
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    pub(crate) fn raw(&mut self, bytes: &[u8]) {
        self.stdin.write_all(bytes).unwrap();
        self.stdin.flush().unwrap();
    }

    /// Writes bytes, telling whether the server still reads its input.
    pub(crate) fn try_raw(&mut self, bytes: &[u8]) -> bool {
        self.stdin.write_all(bytes).and_then(|_| self.stdin.flush()).is_ok()
    }

    /// Every message received within `window`, answering nothing.
    pub(crate) fn drain(&mut self, window: Duration) -> Vec<Value> {
        let deadline = Instant::now() + window;
        let mut out = std::mem::take(&mut self.backlog);
        while let Ok(m) = self.rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            out.push(m);
        }
        out
    }

    /// The server process is still running.
    pub(crate) fn alive(&mut self) -> bool {
        self.child.try_wait().map(|s| s.is_none()).unwrap_or(false)
    }

    /// Resident and peak resident memory of the server, in KiB (Linux `/proc`).
    pub(crate) fn rss_kib(&self) -> (u64, u64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
                .unwrap_or(0)
        };
        (field("VmRSS:"), field("VmHWM:"))
    }

    /// Anonymous (private) resident memory of the server, in KiB: what a leak would grow, unlike
    /// the code pages of the binary and the runtime that newly used paths bring in.
    pub(crate) fn anon_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("RssAnon:"))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    }

    /// CPU seconds the server has used (user + system).
    pub(crate) fn cpu_seconds(&self) -> f64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        // Fields after the command name (which may hold spaces) start after the last ')'.
        let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks: f64 = [11, 12].iter().filter_map(|&i| fields.get(i)?.parse::<f64>().ok()).sum();
        ticks / 100.0
    }

    pub(crate) fn notify(&mut self, method: &str, params: Value) {
        let body = json!({"jsonrpc": "2.0", "method": method, "params": params});
        self.raw(&frame(body.to_string().as_bytes()));
    }

    pub(crate) fn send_request(&mut self, method: &str, params: Value) -> i64 {
        let id = self.next_id;
        self.next_id += 1;
        let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        self.raw(&frame(body.to_string().as_bytes()));
        id
    }

    /// The next message matching `pred`, answering the server's own requests on the way.
    pub(crate) fn wait_for(&mut self, what: &str, timeout: Duration, pred: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.backlog.iter().position(&pred) {
            return self.backlog.remove(i);
        }
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let msg = self
                .rx
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("timed out waiting for {what}; backlog: {:#?}", self.backlog));
            if self.answers && msg.get("method").is_some() && msg.get("id").is_some() {
                // A server-to-client request: workspace/configuration, progress creation, ...
                let result = match msg["method"].as_str() {
                    Some("workspace/configuration") => json!([{"debounceMs": 20, "timeoutMs": 1000}]),
                    _ => Value::Null,
                };
                let reply = json!({"jsonrpc": "2.0", "id": msg["id"], "result": result});
                self.raw(&frame(reply.to_string().as_bytes()));
            }
            if pred(&msg) {
                return msg;
            }
            self.backlog.push(msg);
        }
    }

    pub(crate) fn response(&mut self, id: i64) -> Value {
        self.wait_for(&format!("response {id}"), Duration::from_secs(30), |m| {
            m["id"] == id && m.get("method").is_none()
        })
    }

    pub(crate) fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.send_request(method, params);
        self.response(id)
    }

    pub(crate) fn initialize(&mut self, capabilities: Value) -> Value {
        let r = self.request(
            "initialize",
            json!({"processId": null, "rootUri": null, "capabilities": capabilities,
                   "initializationOptions": {"debounceMs": 20, "timeoutMs": 1000}}),
        );
        self.notify("initialized", json!({}));
        r
    }

    /// The next diagnostics published for `uri` that satisfy `pred`.
    pub(crate) fn diagnostics(&mut self, uri: &str, pred: impl Fn(&Value) -> bool) -> Value {
        self.wait_for(&format!("diagnostics for {uri}"), Duration::from_secs(60), |m| {
            m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri && pred(&m["params"])
        })["params"]
            .clone()
    }

    pub(crate) fn exit_code(mut self, timeout: Duration) -> Option<i32> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}
