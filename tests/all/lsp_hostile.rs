//! The server under hostile clients and load: each test is one defect a robustness run found
//! (duplicated keys, clients that never answer, floods of documents, CRLF and lone-CR edits, a
//! spinning actor, quadratic parses, a FIFO where a test file should be, spec deviations).

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::lsp_client::{Client, frame};

fn uri_in(dir: &std::path::Path, name: &str) -> String {
    format!("file://{}", dir.join(name).display())
}

const FAILING: &str = "def add(a, b):\n    \"\"\"\n    >>> add(2, 3)\n    5\n    \"\"\"\n    return a - b\n";

fn open(c: &mut Client, uri: &str, text: &str) {
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}}),
    );
}

fn status_answers(c: &mut Client) -> bool {
    c.request("workspace/executeCommand", json!({"command": "plumb.status"}))["result"].is_object()
}

fn codes(p: &Value) -> Vec<String> {
    p["diagnostics"].as_array().unwrap().iter().map(|d| d["code"].as_str().unwrap_or("").to_string()).collect()
}

#[test]
fn a_duplicated_key_is_answered_and_the_server_keeps_serving() {
    let mut c = Client::spawn();
    c.initialize(json!({}));
    c.raw(&frame(br#"{"jsonrpc":"2.0","id":4,"method":"x","method":"x","params":{}}"#));
    let e = c.wait_for("an answer to id 4", Duration::from_secs(10), |m| m["id"] == 4);
    assert_eq!(e["error"]["code"], -32601, "an unknown method, answered: {e}");
    assert!(status_answers(&mut c));
    assert!(c.alive());
}

#[test]
fn the_specifications_answers_for_odd_messages() {
    let mut c = Client::spawn();
    let early = c.request("plumb/unknown", json!({}));
    assert_eq!(early["error"]["code"], -32002, "before initialize: {early}");
    c.initialize(json!({}));
    let dollar = c.request("$/plumb/anything", json!({}));
    assert_eq!(dollar["error"]["code"], -32601, "{dollar}");
    // A malformed response is nobody's request: no answer comes back for it.
    c.raw(&frame(br#"{"jsonrpc":"2.0","id":991,"error":"oops"}"#));
    c.raw(&frame(br#"{"id":992,"error":"oops"}"#));
    assert!(status_answers(&mut c));
    let stray = c.drain(Duration::from_millis(300));
    assert!(!stray.iter().any(|m| m["id"] == 991), "{stray:#?}");
}

#[test]
fn a_client_that_never_answers_still_gets_diagnostics_and_a_prompt_exit() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Client::spawn();
    c.answers = false;
    c.initialize(json!({"window": {"workDoneProgress": true}, "workspace": {"configuration": true}}));
    // A slow check asks for a progress token (never answered); the next checks still publish.
    let slow = uri_in(dir.path(), "slow.py");
    open(&mut c, &slow, "def f():\n    \"\"\"\n    >>> f()\n    1\n    \"\"\"\n    while True:\n        pass\n");
    let p = c.diagnostics(&slow, |p| !p["diagnostics"].as_array().unwrap().is_empty());
    assert_eq!(codes(&p), ["timeout"]);
    for i in 0..3 {
        let uri = uri_in(dir.path(), &format!("m{i}.py"));
        open(&mut c, &uri, FAILING);
        let p = c.diagnostics(&uri, |p| !p["diagnostics"].as_array().unwrap().is_empty());
        assert_eq!(codes(&p), ["example_failed"]);
    }
    // `workspace/configuration` and the progress token are still unanswered: exit is prompt.
    let shutdown = c.request("shutdown", Value::Null);
    assert!(shutdown.get("error").is_none(), "{shutdown}");
    c.notify("exit", Value::Null);
    let asked = Instant::now();
    assert_eq!(c.exit_code(Duration::from_secs(5)), Some(0));
    // The target is 1 s (see lsp_bench); the bound leaves room for a loaded CI machine.
    assert!(asked.elapsed() < Duration::from_secs(2), "exit took {:?}", asked.elapsed());
}

#[test]
fn many_documents_at_once_get_their_own_findings_never_a_false_crash() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Client::spawn();
    c.initialize(json!({}));
    let uris: Vec<String> = (0..200).map(|i| uri_in(dir.path(), &format!("d{i}.py"))).collect();
    for (i, uri) in uris.iter().enumerate() {
        // Different texts: nothing comes from the cache.
        open(&mut c, uri, &FAILING.replace("a - b", &format!("a - b - {i} * 0")));
    }
    let loops: Vec<String> = (0..20).map(|i| uri_in(dir.path(), &format!("loop{i}.py"))).collect();
    for (i, uri) in loops.iter().enumerate() {
        open(
            &mut c,
            uri,
            &format!("def f():\n    \"\"\"\n    >>> f()\n    {i}\n    \"\"\"\n    while True:\n        pass\n"),
        );
    }
    for uri in &uris {
        let p = c.diagnostics(uri, |p| !p["diagnostics"].as_array().unwrap().is_empty());
        assert_eq!(codes(&p), ["example_failed"], "{uri}: {p}");
    }
    for uri in &loops {
        let p = c.diagnostics(uri, |p| !p["diagnostics"].as_array().unwrap().is_empty());
        assert_eq!(codes(&p), ["timeout"], "{uri}: {p}");
    }
    assert!(c.alive());
}

#[test]
fn line_endings_follow_the_specification() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Client::spawn();
    c.initialize(json!({}));
    // An edit past the end of a CRLF line lands at the end of its content, not inside `\r\n`.
    let crlf = uri_in(dir.path(), "crlf.py");
    let text = "def f():\r\n    \"\"\"\r\n    >>> f()\r\n    'abcd'\r\n    \"\"\"\r\n    return 'abc'\r\n";
    open(&mut c, &crlf, text);
    let p = c.diagnostics(&crlf, |p| !p["diagnostics"].as_array().unwrap().is_empty());
    // The example's range ends at the end of its line's content.
    assert_eq!(p["diagnostics"][0]["range"]["end"], json!({"line": 2, "character": 11}), "{p}");
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": crlf, "version": 2},
               "contentChanges": [{"range": {"start": {"line": 5, "character": 1000}, "end": {"line": 5, "character": 1000}}, "text": " + 'd'"}]}),
    );
    let p = c.diagnostics(&crlf, |p| p["version"] == 2);
    assert_eq!(p["diagnostics"], json!([]), "the edit completed the return line: {p}");
    // Lone `\r` line endings: the failing example is found.
    let cr = uri_in(dir.path(), "cr.py");
    open(&mut c, &cr, &FAILING.replace('\n', "\r"));
    let p = c.diagnostics(&cr, |p| !p["diagnostics"].as_array().unwrap().is_empty());
    assert_eq!(codes(&p), ["example_failed"]);
    assert_eq!(p["diagnostics"][0]["range"]["start"]["line"], 2);
}

#[test]
fn an_edit_during_a_long_run_does_not_spin_the_actor() {
    // A model server that takes its time: the check cannot end before it answers.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().take(8) {
            let Ok(mut stream) = stream else { return };
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_secs(3));
                let body = r#"{"choices":[{"index":0,"text":"f() == 1"}]}"#;
                let reply =
                    format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
                let _ = std::io::Write::write_all(&mut stream, reply.as_bytes());
            });
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let uri = uri_in(dir.path(), "m.py");
    let mut c = Client::spawn();
    c.request(
        "initialize",
        json!({"processId": null, "capabilities": {},
               "initializationOptions": {"debounceMs": 0, "modelUrl": url, "model": "slow", "modelMode": "save"}}),
    );
    c.notify("initialized", json!({}));
    open(&mut c, &uri, "def f():\n    return 1\n");
    c.notify("textDocument/didSave", json!({"textDocument": {"uri": uri}}));
    std::thread::sleep(Duration::from_millis(300));
    let before = c.cpu_seconds();
    // Edits while the model is being asked: the actor waits for the run, it does not spin.
    for v in 2..5 {
        c.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": v}, "contentChanges": [{"text": format!("def f():\n    return {v}\n")}]}),
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    let used = c.cpu_seconds() - before;
    assert!(used < 0.5, "the server used {used:.2} s of CPU in 1.5 s of waiting");
    assert!(status_answers(&mut c));
}

#[test]
fn a_huge_run_of_comments_parses_in_linear_time() {
    let dir = tempfile::tempdir().unwrap();
    let uri = uri_in(dir.path(), "long.py");
    let mut text = FAILING.to_string();
    for i in 0..20_000 {
        text.push_str(&format!("# line {i}\n"));
    }
    let mut c = Client::spawn();
    c.initialize(json!({}));
    let started = Instant::now();
    open(&mut c, &uri, &text);
    let p = c.diagnostics(&uri, |p| !p["diagnostics"].as_array().unwrap().is_empty());
    assert_eq!(codes(&p), ["example_failed"]);
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
}

#[test]
fn a_fifo_where_the_test_file_goes_does_not_freeze_the_server() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("tests")).unwrap();
    let fifo = dir.path().join("tests").join("test_m.py");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().map(|s| s.success()).unwrap_or(false);
    assert!(made, "mkfifo is part of coreutils");
    std::fs::write(dir.path().join("pyproject.toml"), "").unwrap();
    let uri = uri_in(dir.path(), "m.py");
    let mut c = Client::spawn();
    c.initialize(json!({}));
    open(&mut c, &uri, FAILING);
    let p = c.diagnostics(&uri, |p| !p["diagnostics"].as_array().unwrap().is_empty());
    let started = Instant::now();
    let actions = c.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": p["diagnostics"][0]["range"], "context": {"diagnostics": p["diagnostics"]}}),
    );
    assert!(actions["result"].is_array(), "{actions}");
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
    let titles: Vec<&str> = actions["result"].as_array().unwrap().iter().filter_map(|a| a["title"].as_str()).collect();
    assert!(!titles.iter().any(|t| t.starts_with("Add this example")), "no edit of a file it cannot read: {titles:?}");
    let hover =
        c.request("textDocument/hover", json!({"textDocument": {"uri": uri}, "position": {"line": 0, "character": 5}}));
    assert!(hover["result"].is_object(), "{hover}");
}
