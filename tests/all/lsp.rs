//! `plumb lsp` over its real stdio: a small client speaking raw Content-Length frames, the whole
//! editing loop, and the protocol's hostile inputs (shared/design/hostile-matrix.md, LSP table).

use std::time::Duration;

use serde_json::{Value, json};

use crate::lsp_client::{Client, frame};

const BUGGY: &str = "def median(values):\n    \"\"\"\n    >>> median([3, 1, 2])\n    2\n    >>> median([4, 1, 3, 2])\n    2.5\n    \"\"\"\n    s = sorted(values)\n    m = len(s) // 2\n    if len(s) % 2:\n        return s[m]\n    return (s[m] + s[m + 1]) / 2\n\n\ndef double(x):\n    \"\"\"\n    >>> double(2)\n    4\n    \"\"\"\n    return 2 * x\n";

fn uri_in(dir: &std::path::Path, name: &str) -> String {
    format!("file://{}", dir.join(name).display())
}

#[test]
fn edit_loop_diagnostics_hover_code_action_fix_and_clean_exit() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("tests")).unwrap();
    std::fs::write(dir.path().join("stats.py"), BUGGY).unwrap();
    let uri = uri_in(dir.path(), "stats.py");
    let mut c = Client::spawn();
    let init = c.initialize(json!({"general": {"positionEncodings": ["utf-16"]}, "window": {"workDoneProgress": true},
                                   "workspace": {"configuration": true}}));
    assert_eq!(init["result"]["capabilities"]["positionEncoding"], "utf-16");
    assert_eq!(init["result"]["capabilities"]["textDocumentSync"]["change"], 2);

    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": BUGGY}}),
    );
    let published = c.diagnostics(&uri, |p| p["diagnostics"].as_array().is_some_and(|d| !d.is_empty()));
    assert_eq!(published["version"], 1);
    let diags = published["diagnostics"].as_array().unwrap().clone();
    assert_eq!(diags.len(), 1, "{diags:#?}");
    let d = &diags[0];
    assert_eq!(d["code"], "example_failed");
    assert_eq!(d["severity"], 1);
    assert_eq!(d["range"], json!({"start": {"line": 4, "character": 4}, "end": {"line": 4, "character": 28}}));
    let message = d["message"].as_str().unwrap();
    assert!(message.starts_with("`median([4, 1, 3, 2])` returned 3.5, expected 2.5"), "{message}");
    assert!(message.contains("Expected:\n    2.5\nGot:\n    3.5"), "feedback text in the diagnostic: {message}");

    let hover =
        c.request("textDocument/hover", json!({"textDocument": {"uri": uri}, "position": {"line": 0, "character": 5}}));
    let text = hover["result"]["contents"]["value"].as_str().unwrap();
    assert!(text.contains("`median` is **failing**") && text.contains("| docstring examples | 2 |"), "{text}");

    let actions = c.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": d["range"], "context": {"diagnostics": diags}}),
    );
    let action = &actions["result"][0];
    assert_eq!(action["title"], "Add this example as a unit test in test_stats.py");
    // Every action has a kind (VS Code drops those without one), and `only` is honoured.
    let kinds = |r: &Value| -> Vec<String> {
        r["result"].as_array().unwrap().iter().map(|a| a["kind"].as_str().unwrap_or("").to_string()).collect()
    };
    let all = kinds(&actions);
    assert_eq!(all.first().map(String::as_str), Some("quickfix"));
    assert!(all.contains(&"plumb.label".to_string()), "the labels are offered: {all:?}");
    let quick = c.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": d["range"], "context": {"diagnostics": diags, "only": ["quickfix"]}}),
    );
    assert_eq!(kinds(&quick), ["quickfix"], "only the quick fix: {quick}");
    let labels = c.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": d["range"], "context": {"diagnostics": diags, "only": ["plumb"]}}),
    );
    assert_eq!(kinds(&labels), ["plumb.label", "plumb.label"], "a parent kind matches: {labels}");
    let ops = action["edit"]["documentChanges"].as_array().unwrap();
    assert_eq!(ops[0]["kind"], "create");
    assert!(ops[0]["uri"].as_str().unwrap().ends_with("/tests/test_stats.py"));
    let inserted = ops[1]["edits"][0]["newText"].as_str().unwrap();
    assert_eq!(
        inserted,
        "from stats import median\n\n\ndef test_median_example_line_5():\n    assert median([4, 1, 3, 2]) == 2.5\n"
    );

    // Fix the bug with an incremental edit: `s[m + 1]` → `s[m - 1]` on line 11 (0-based).
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2},
               "contentChanges": [{"range": {"start": {"line": 11, "character": 23}, "end": {"line": 11, "character": 24}}, "text": "-"}]}),
    );
    let cleared = c.diagnostics(&uri, |p| p["version"] == 2);
    assert_eq!(cleared["diagnostics"], json!([]), "fixing the function clears its diagnostic");

    let status = c.request("workspace/executeCommand", json!({"command": "plumb.status", "arguments": []}));
    assert_eq!(status["result"]["documents"][0]["failing"], 0);

    let shutdown = c.request("shutdown", Value::Null);
    assert!(shutdown.get("error").is_none(), "{shutdown}");
    let after =
        c.request("textDocument/hover", json!({"textDocument": {"uri": uri}, "position": {"line": 0, "character": 5}}));
    assert_eq!(after["error"]["code"], -32600, "requests after shutdown are invalid: {after}");
    c.notify("exit", Value::Null);
    assert_eq!(c.exit_code(Duration::from_secs(10)), Some(0));
}

#[test]
fn utf8_positions_when_offered_and_astral_characters() {
    let dir = tempfile::tempdir().unwrap();
    let text = "def f():\n    \"\"\"𝔣𝔣 >>> is not at line start\n\n    >>> f()  # 𝔣\n    2\n    \"\"\"\n    return 1\n";
    let uri = uri_in(dir.path(), "u.py");
    for (enc, end) in [("utf-8", 19), ("utf-16", 17)] {
        let mut c = Client::spawn();
        let init = c.initialize(json!({"general": {"positionEncodings": [enc]}}));
        assert_eq!(init["result"]["capabilities"]["positionEncoding"], enc);
        c.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}}),
        );
        let p = c.diagnostics(&uri, |p| !p["diagnostics"].as_array().unwrap().is_empty());
        assert_eq!(p["diagnostics"][0]["range"]["end"], json!({"line": 3, "character": end}), "{enc}");
    }
}

#[test]
fn protocol_errors_are_answered_and_the_server_keeps_serving() {
    let mut c = Client::spawn();
    // Before initialize.
    let early = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": "file:///x.py"}, "position": {"line": 0, "character": 0}}),
    );
    assert_eq!(early["error"]["code"], -32002);
    c.initialize(json!({}));
    let again = c.request("initialize", json!({"capabilities": {}}));
    assert_eq!(again["error"]["code"], -32600);

    // Invalid JSON, then a valid request.
    c.raw(&frame(b"{not json"));
    let e = c.wait_for("parse error", Duration::from_secs(10), |m| m["error"]["code"] == -32700);
    assert_eq!(e["id"], Value::Null);
    let ok = c.request("workspace/executeCommand", json!({"command": "plumb.status"}));
    assert!(ok["result"].is_object());

    // A header without Content-Length, then a valid request.
    c.raw(b"Content-Type: application/json\r\n\r\n{}");
    let ok = c.request("workspace/executeCommand", json!({"command": "plumb.status"}));
    assert!(ok["result"].is_object(), "{ok}");

    // A message over the size cap is refused without being buffered; the next one is served.
    let big = vec![b' '; plumb::lsp::MAX_MESSAGE_BYTES + 10];
    c.raw(&frame(&big));
    let e = c.wait_for("refusal of the oversized message", Duration::from_secs(20), |m| m["error"]["code"] == -32700);
    assert_eq!(e["id"], Value::Null);
    let ok = c.request("workspace/executeCommand", json!({"command": "plumb.status"}));
    assert!(ok["result"].is_object());

    // Not JSON-RPC, wrong parameter types, unknown methods.
    c.raw(&frame(br#"{"hello": "world"}"#));
    let e = c.wait_for("invalid request", Duration::from_secs(10), |m| m["error"]["code"] == -32600);
    assert_eq!(e["id"], Value::Null);
    let bad = c.request("textDocument/hover", json!({"textDocument": 3}));
    assert_eq!(bad["error"]["code"], -32602);
    let unknown = c.request("plumb/nothing", json!({}));
    assert_eq!(unknown["error"]["code"], -32601);
    c.notify("$/unknownNotification", json!({}));

    // A panic inside a handler becomes InternalError, and the server goes on.
    let panic = c.request("workspace/executeCommand", json!({"command": "plumb.debug.panic"}));
    assert_eq!(panic["error"]["code"], -32603, "{panic}");
    let ok = c.request("workspace/executeCommand", json!({"command": "plumb.status"}));
    assert!(ok["result"].is_object());

    // exit without shutdown: exit code 1.
    c.notify("exit", Value::Null);
    assert_eq!(c.exit_code(Duration::from_secs(10)), Some(1));
}

#[test]
fn rapid_edits_keep_the_text_exact_and_diagnostics_carry_the_latest_version() {
    let dir = tempfile::tempdir().unwrap();
    let uri = uri_in(dir.path(), "rapid.py");
    let mut c = Client::spawn();
    c.initialize(json!({}));
    let base = "def f(x):\n    \"\"\"\n    >>> f(1)\n    1\n    \"\"\"\n    return x\n";
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": base}}),
    );
    // 1,000 one-character inserts at the end of `return x`, building `return x+1+1+...`, with
    // requests interleaved; each pair `+1` adds one to the result.
    let mut version = 1;
    for i in 0..1000 {
        version += 1;
        let ch = if i % 2 == 0 { "+" } else { "1" };
        let col = 12 + i;
        c.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version},
                   "contentChanges": [{"range": {"start": {"line": 5, "character": col}, "end": {"line": 5, "character": col}}, "text": ch}]}),
        );
        if i % 100 == 0 {
            c.send_request(
                "textDocument/hover",
                json!({"textDocument": {"uri": uri}, "position": {"line": 0, "character": 4}}),
            );
        }
    }
    let p = c.diagnostics(&uri, |p| p["version"] == version);
    let d = &p["diagnostics"][0];
    assert!(d["message"].as_str().unwrap().starts_with("`f(1)` returned 501, expected 1"), "{d}");
}

#[test]
fn cancel_request_is_answered() {
    let mut c = Client::spawn();
    c.initialize(json!({}));
    let id = c.send_request("workspace/executeCommand", json!({"command": "plumb.debug.sleep"}));
    c.notify("$/cancelRequest", json!({"id": id}));
    let r = c.response(id);
    assert_eq!(r["error"]["code"], -32800, "{r}");
}

#[test]
fn huge_documents_get_a_message_not_a_hang() {
    let dir = tempfile::tempdir().unwrap();
    let uri = uri_in(dir.path(), "huge.py");
    let mut c = Client::spawn();
    c.initialize(json!({}));
    let text = "x = 1\n".repeat(600_000);
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}}),
    );
    let m = c.wait_for("a message about the size", Duration::from_secs(30), |m| m["method"] == "window/showMessage");
    assert!(m["params"]["message"].as_str().unwrap().contains("over the 2 MiB limit"), "{m}");
    let p = c.diagnostics(&uri, |_| true);
    assert_eq!(p["diagnostics"], json!([]));
    let ok = c.request("workspace/executeCommand", json!({"command": "plumb.status"}));
    assert!(ok["result"].is_object());
}

#[test]
fn slow_checks_report_progress_and_an_edit_cancels_the_running_check() {
    let dir = tempfile::tempdir().unwrap();
    let uri = uri_in(dir.path(), "slow.py");
    let mut c = Client::spawn();
    c.request(
        "initialize",
        json!({"processId": null, "capabilities": {"window": {"workDoneProgress": true}},
               "initializationOptions": {"debounceMs": 0, "timeoutMs": 20000}}),
    );
    c.notify("initialized", json!({}));
    let slow =
        "import time\n\ndef f():\n    \"\"\"\n    >>> f()\n    1\n    \"\"\"\n    time.sleep(15)\n    return 1\n";
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": slow}}),
    );
    let create =
        c.wait_for("progress creation", Duration::from_secs(10), |m| m["method"] == "window/workDoneProgress/create");
    let token = create["params"]["token"].clone();
    let begin = c.wait_for("progress begin", Duration::from_secs(10), |m| {
        m["method"] == "$/progress" && m["params"]["value"]["kind"] == "begin"
    });
    assert_eq!(begin["params"]["token"], token);
    // Edit while the 15 s example runs: the run is cancelled, not left to finish.
    let started = std::time::Instant::now();
    let fast = slow.replace("    time.sleep(15)\n", "");
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": fast}]}),
    );
    let p = c.diagnostics(&uri, |p| p["version"] == 2);
    assert_eq!(p["diagnostics"], json!([]));
    assert!(started.elapsed() < Duration::from_secs(5), "the edit waited {:?} for the old run", started.elapsed());
    c.wait_for("progress end", Duration::from_secs(10), |m| {
        m["method"] == "$/progress" && m["params"]["value"]["kind"] == "end"
    });
}

#[test]
fn configuration_changes_apply() {
    let dir = tempfile::tempdir().unwrap();
    let uri = uri_in(dir.path(), "cfg.py");
    let mut c = Client::spawn();
    c.initialize(json!({}));
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": BUGGY}}),
    );
    c.diagnostics(&uri, |p| !p["diagnostics"].as_array().unwrap().is_empty());
    c.notify("workspace/didChangeConfiguration", json!({"settings": {"plumb": {"enable": false}}}));
    let p = c.diagnostics(&uri, |p| p["diagnostics"].as_array().unwrap().is_empty());
    assert_eq!(p["version"], 1);
    let status = c.request("workspace/executeCommand", json!({"command": "plumb.status"}));
    assert_eq!(status["result"]["config"]["enable"], false);
    c.notify("workspace/didChangeConfiguration", json!({"settings": {"plumb": {"enable": true, "debounceMs": 0}}}));
    c.diagnostics(&uri, |p| !p["diagnostics"].as_array().unwrap().is_empty());
}

#[test]
fn invalid_utf8_in_a_message_is_a_parse_error() {
    let mut c = Client::spawn();
    c.initialize(json!({}));
    c.raw(&frame(b"{\"jsonrpc\":\"2.0\",\"id\":99,\"method\":\"plumb/\xff\xfe\"}"));
    let e = c.wait_for("parse error", Duration::from_secs(10), |m| m["error"]["code"] == -32700);
    assert_eq!(e["id"], Value::Null);
    let ok = c.request("workspace/executeCommand", json!({"command": "plumb.status"}));
    assert!(ok["result"].is_object());
}

#[test]
fn a_configured_model_server_adds_generated_tests() {
    let dir = tempfile::tempdir().unwrap();
    let uri = uri_in(dir.path(), "m.py");
    let url = crate::support::fake_model_server(crate::support::FAKE_TESTS_ANSWER, 200, 2);
    let mut c = Client::spawn();
    c.request(
        "initialize",
        json!({"processId": null, "capabilities": {},
               "initializationOptions": {"debounceMs": 0, "modelUrl": url, "model": "tiny-coder", "modelSamples": 2}}),
    );
    c.notify("initialized", json!({}));
    let text = "def add(a, b):\n    \"\"\"\n    >>> add(1, 1)\n    2\n    \"\"\"\n    return a + b\n";
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}}),
    );
    c.diagnostics(&uri, |p| p["version"] == 1);
    let hover = |c: &mut Client| {
        let h = c.request(
            "textDocument/hover",
            json!({"textDocument": {"uri": uri}, "position": {"line": 0, "character": 5}}),
        );
        h["result"]["contents"]["value"].as_str().unwrap_or_default().to_string()
    };
    // The model is asked on save (`modelMode: save`), not while typing.
    assert!(!hover(&mut c).contains("generated tests | 3"));
    c.notify("textDocument/didSave", json!({"textDocument": {"uri": uri}}));
    let mut value = String::new();
    for _ in 0..100 {
        value = hover(&mut c);
        if value.contains("| generated tests | 3 |") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(value.contains("| generated tests | 3 |"), "{value}");
}
