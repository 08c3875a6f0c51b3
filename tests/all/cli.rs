//! `plumb check` end to end: the real binary on fixture files, JSON and human output as snapshots
//! (`UPDATE_EXPECT=1` rewrites them), exit codes, and every kind of bad input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use expect_test::expect_file;
use serde_json::Value;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cli")
}

fn plumb(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_plumb"))
        .current_dir(dir)
        .env("PLUMB_STORE", "off")
        .env("PLUMB_MODEL", "off")
        .args(args)
        .output()
        .expect("plumb runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("stdout is UTF-8")
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", stdout(o)))
}

#[test]
fn json_contract_on_a_buggy_file() {
    let out = plumb(&fixtures(), &["check", "--format", "json", "--timeout", "500", "buggy.py"]);
    assert_eq!(out.status.code(), Some(1), "failing functions exit 1");
    expect_file!["../fixtures/cli/buggy.json"].assert_eq(&stdout(&out));
}

#[test]
fn human_output_on_a_buggy_file() {
    let out = plumb(&fixtures(), &["check", "--timeout", "500", "buggy.py"]);
    assert_eq!(out.status.code(), Some(1));
    expect_file!["../fixtures/cli/buggy.txt"].assert_eq(&stdout(&out));
}

#[test]
fn clean_files_exit_zero() {
    let out = plumb(&fixtures(), &["check", "--format", "json", "clean.py"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    expect_file!["../fixtures/cli/clean.json"].assert_eq(&stdout(&out));
}

#[test]
fn syntax_errors_are_findings() {
    let out = plumb(&fixtures(), &["check", "--format", "json", "syntax.py"]);
    assert_eq!(out.status.code(), Some(1));
    expect_file!["../fixtures/cli/syntax.json"].assert_eq(&stdout(&out));
}

#[test]
fn positions_are_utf16() {
    let out = plumb(&fixtures(), &["check", "--format", "json", "unicode.py"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    expect_file!["../fixtures/cli/unicode.json"].assert_eq(&stdout(&out));
}

#[test]
fn directories_recurse_skipping_hidden_and_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let ok = "def f():\n    \"\"\"\n    >>> f()\n    1\n    \"\"\"\n    return 1\n";
    let bad = "def g():\n    \"\"\"\n    >>> g()\n    1\n    \"\"\"\n    return 2\n";
    for (path, text) in [
        ("pkg/a.py", ok),
        ("pkg/sub/b.py", ok),
        ("pkg/notes.txt", bad),
        (".hidden/c.py", bad),
        ("pkg/__pycache__/d.py", bad),
        ("build/e.py", bad),
        (".gitignore", "build/\n"),
    ] {
        let p = root.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    let out = plumb(root, &["check", "--format", "json", "."]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let v = json(&out);
    let paths: Vec<&str> = v["files"].as_array().unwrap().iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert_eq!(paths, ["pkg/a.py", "pkg/sub/b.py"]);
}

#[test]
fn bad_input_gets_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir(root.join("empty")).unwrap();
    std::fs::write(root.join("binary.py"), b"def f():\x00\x01\x02 return 1\n").unwrap();
    std::fs::write(root.join("huge.py"), "x = 1\n".repeat(400_000)).unwrap();
    let mut latin1 = b"def f():\n    \"\"\"\n    >>> f()\n    '".to_vec();
    latin1.extend_from_slice(b"caf\xe9'\n    \"\"\"\n    return 'caf\xe9'\n");
    std::fs::write(root.join("latin1.py"), latin1).unwrap();

    let out = plumb(root, &["check", "--format", "json", "missing.py", "empty", "binary.py", "huge.py", "latin1.py"]);
    assert_eq!(out.status.code(), Some(2), "unreadable inputs exit 2");
    let v = json(&out);
    let errors: Vec<String> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| format!("{}: {}", e["path"].as_str().unwrap(), e["message"].as_str().unwrap()))
        .collect();
    assert_eq!(
        errors,
        [
            "binary.py: binary file (contains NUL bytes); not checked",
            "empty: no Python files found (hidden and ignored directories are skipped)",
            "huge.py: file is 2.3 MiB, over the 2 MiB limit; not checked",
            "latin1.py: not valid UTF-8; decoded with replacement characters (U+FFFD)",
            "missing.py: no such file or directory",
        ]
    );
    // The non-UTF-8 file was still checked (its example compares U+FFFD text with itself).
    assert_eq!(v["files"][0]["path"], "latin1.py");
    assert_eq!(v["files"][0]["functions"][0]["status"], "passing");

    let human = plumb(root, &["check", "missing.py"]);
    assert_eq!(human.status.code(), Some(2));
    assert!(stdout(&human).contains("missing.py: error: no such file or directory"), "{}", stdout(&human));
}

#[test]
fn usage_errors_exit_two() {
    let out = plumb(&fixtures(), &["check", "--format", "yaml", "clean.py"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid value 'yaml'"));
    let out = plumb(&fixtures(), &["frobnicate"]);
    assert_eq!(out.status.code(), Some(2));
    let out = plumb(&fixtures(), &["--help"]);
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn secrets_in_the_environment_and_escapes_never_reach_the_output() {
    let dir = tempfile::tempdir().unwrap();
    let secret = "plumb-env-canary-51c0ffee";
    let source = "import os\n\ndef leak():\n    \"\"\"\n    >>> leak()\n    'nothing'\n    \"\"\"\n    print('\\x1b]0;title\\x07\\x1b[2J')\n    return repr(dict(os.environ))\n";
    std::fs::write(dir.path().join("leak.py"), source).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_plumb"))
        .current_dir(dir.path())
        .env("PLUMB_CANARY_SECRET", secret)
        .env("PLUMB_STORE", "off")
        .env("PLUMB_MODEL", "off")
        .args(["check", "leak.py"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(!text.contains(secret), "{text}");
    assert!(!text.contains('\u{1b}'), "terminal escapes are neutralised: {text:?}");
    assert!(text.contains("\\u{1b}[2J"), "{text}");
    assert!(
        text.contains("{'TMPDIR': '/tmp', 'HOME': '/tmp'}"),
        "the guest's environment is only its scratch directory: {text}"
    );
}

use crate::support::{FAKE_TESTS_ANSWER, fake_coder_server, fake_model_server};

#[test]
fn a_model_server_adds_generated_tests_to_the_evidence() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("m.py"),
        "def add(a, b):\n    \"\"\"\n    >>> add(1, 1)\n    2\n    \"\"\"\n    return a + b\n",
    )
    .unwrap();
    let url = fake_model_server(FAKE_TESTS_ANSWER, 200, 2);
    let out = plumb(dir.path(), &["check", "--format", "json", "--model-url", &url, "--model", "tiny-coder", "m.py"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let v = json(&out);
    let evidence = &v["files"][0]["functions"][0]["evidence"];
    assert_eq!(evidence["generated_tests"], 3, "{v}");
    assert_eq!(evidence["model"], "tiny-coder");
    assert_eq!(evidence["examples"], 1);

    // A server that fails: a clear warning, the check goes on without model evidence.
    let url = fake_model_server(r#"{"error":{"message":"model not found"}}"#, 404, 1);
    let out = plumb(dir.path(), &["check", "--format", "json", "--model-url", &url, "--model", "nope", "m.py"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("no model evidence: the model server answered 404: model not found")
    );
    assert_eq!(json(&out)["files"][0]["functions"][0]["evidence"]["model"], Value::Null);
}

/// Candidates for `add`: three correct ones (written differently), one wrong.
const ADD_CANDIDATES: &[&str] =
    &["    return a + b\n", "    return b + a\n", "    return sum((a, b))\n", "    return a - b\n"];

fn check_with_coder(dir: &Path, source: &str) -> Value {
    check_with_coder_as(dir, source, "2")
}

/// As [`check_with_coder`], writing JSON document `version`.
fn check_with_coder_as(dir: &Path, source: &str, version: &str) -> Value {
    std::fs::write(dir.join("m.py"), source).unwrap();
    let url = fake_coder_server(FAKE_TESTS_ANSWER, ADD_CANDIDATES, 2);
    let args =
        ["check", "--format", "json", "--json-version", version, "--model-url", &url, "--model", "coder", "m.py"];
    let out = plumb(dir, &args);
    assert!(out.status.code().is_some(), "{}", String::from_utf8_lossy(&out.stderr));
    let v = json(&out);
    assert_eq!(v["version"].to_string(), version);
    v["files"][0]["functions"][0].clone()
}

#[test]
fn a_subtle_bug_gets_a_shrunk_counterexample_and_low_confidence() {
    let dir = tempfile::tempdir().unwrap();
    // The example passes; add(2, x) is wrong. The generated test add(2, 2) == 4 catches it, the
    // consensus of three candidates confirms, and shrinking takes the input to add(2, 0).
    let f = check_with_coder(
        dir.path(),
        "def add(a, b):\n    \"\"\"\n    >>> add(1, 1)\n    2\n    \"\"\"\n    return 0 if a == 2 else a + b\n",
    );
    let findings = f["findings"].as_array().unwrap();
    let cx = findings.iter().find(|x| x["kind"] == "counterexample").unwrap_or_else(|| panic!("{f:#}"));
    assert_eq!(cx["severity"], "warning");
    assert_eq!(cx["message"], "`add(2, 0)` returns 0; 3 of 4 candidate solutions and 3 generated tests say 2", "{f:#}");
    assert!(
        findings
            .iter()
            .any(|x| x["kind"] == "test_failed" && x["message"].as_str().unwrap().contains("add(2, 2) == 4"))
    );
    assert_eq!(f["evidence"]["candidates"], 4);
    // Its example passes, so nothing proves it wrong: suspect, not failing (exit 0).
    assert_eq!(f["status"], "suspect", "{f:#}");
    let bad = f["confidence"].as_f64().unwrap();
    // Version 1 of the document had no `suspect`: what it said then.
    let v1 = check_with_coder_as(
        dir.path(),
        "def add(a, b):\n    \"\"\"\n    >>> add(1, 1)\n    2\n    \"\"\"\n    return 0 if a == 2 else a + b\n",
        "1",
    );
    assert_eq!(v1["status"], "passing", "{v1:#}");

    // The correct function: no warning, a higher confidence.
    let g = check_with_coder(
        dir.path(),
        "def add(a, b):\n    \"\"\"\n    >>> add(1, 1)\n    2\n    \"\"\"\n    return a + b\n",
    );
    assert_eq!(g["findings"], serde_json::json!([]), "{g:#}");
    let good = g["confidence"].as_f64().unwrap();
    assert!(bad < 0.5 && good > bad + 0.2, "bad {bad}, good {good}");
}

#[test]
fn an_example_the_consensus_contradicts_looks_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let f = check_with_coder(
        dir.path(),
        "def add(a, b):\n    \"\"\"\n    >>> add(2, 2)\n    5\n    \"\"\"\n    return a + b\n",
    );
    let findings = f["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{f:#}");
    assert_eq!(findings[0]["kind"], "example_suspect");
    assert_eq!(findings[0]["severity"], "warning");
    assert!(findings[0]["message"].as_str().unwrap().starts_with("the example looks wrong: `add(2, 2)`"));
    assert_ne!(f["status"], "failing");
}

#[test]
fn sarif_validates_against_the_official_schema_and_fingerprints_are_stable() {
    let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sarif-2.1.0-rtm.5.json");
    let bytes = std::fs::read(&schema).unwrap();
    use sha2::Digest;
    assert_eq!(
        plumb::base::hex(&sha2::Sha256::digest(&bytes)),
        "2d99159ae54a3eea97f81781cff48780548657c35949f4b7f25e99a2ba4de4f8",
        "the pinned schema"
    );
    let dir = tempfile::tempdir().unwrap();
    for name in ["buggy.py", "syntax.py", "clean.py", "unicode.py"] {
        std::fs::copy(fixtures().join(name), dir.path().join(name)).unwrap();
    }
    std::fs::write(dir.path().join("bad.py"), b"x = 1\0").unwrap();
    let out = plumb(dir.path(), &["check", "--format", "sarif", "--timeout", "500"]);
    assert_eq!(out.status.code(), Some(2), "an unreadable input still exits 2");
    let sarif = json(&out);
    let path = dir.path().join("out.sarif");
    std::fs::write(&path, &out.stdout).unwrap();
    let check = Command::new(crate::support::python_with("jsonschema-4.25.1", &["jsonschema==4.25.1"]))
        .args([
            "-c",
            "import json, sys, jsonschema\n\
             schema = json.load(open(sys.argv[1]))\n\
             doc = json.load(open(sys.argv[2]))\n\
             errors = sorted(jsonschema.Draft4Validator(schema).iter_errors(doc), key=str)\n\
             print('\\n'.join(f'{list(e.path)}: {e.message}' for e in errors))\n\
             sys.exit(1 if errors else 0)",
        ])
        .arg(&schema)
        .arg(&path)
        .output()
        .unwrap();
    assert!(check.status.success(), "invalid SARIF:\n{}{}", stdout(&check), String::from_utf8_lossy(&check.stderr));

    let run = &sarif["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "plumb");
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert!(rules.iter().all(|r| r["help"]["text"].as_str().is_some_and(|t| !t.is_empty())));
    let results = run["results"].as_array().unwrap();
    let failed = results.iter().find(|r| r["ruleId"] == "example_failed").expect("the buggy example");
    assert_eq!(failed["level"], "error");
    assert_eq!(rules[failed["ruleIndex"].as_u64().unwrap() as usize]["id"], "example_failed");
    let location = &failed["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uri"], "buggy.py");
    assert!(location["region"]["startLine"].as_u64().unwrap() >= 1);
    assert!(results.iter().any(|r| r["ruleId"] == "syntax_error"));
    let notes = run["invocations"][0]["toolExecutionNotifications"].as_array().unwrap();
    assert!(notes.iter().any(|n| n["message"]["text"].as_str().unwrap().contains("bad.py")), "{notes:?}");

    // The same findings after an edit elsewhere in the file keep their fingerprints.
    let prints = |v: &serde_json::Value| -> Vec<String> {
        v["runs"][0]["results"].as_array().unwrap().iter().map(|r| r["partialFingerprints"].to_string()).collect()
    };
    let buggy = std::fs::read_to_string(dir.path().join("buggy.py")).unwrap();
    std::fs::write(dir.path().join("buggy.py"), format!("# moved down\n\n{buggy}")).unwrap();
    let again = json(&plumb(dir.path(), &["check", "--format", "sarif", "--timeout", "500"]));
    assert_eq!(prints(&again), prints(&sarif));
}

#[test]
fn no_progress_line_when_stderr_is_not_a_terminal() {
    let out = plumb(&fixtures(), &["check", "buggy.py", "clean.py"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("[0/2]") && !err.contains('\r') && !err.contains('\u{1b}'), "{err:?}");
    let quiet = plumb(&fixtures(), &["check", "--quiet", "clean.py"]);
    assert_eq!(quiet.status.code(), Some(0));
}

#[test]
fn naming_a_model_server_selects_it_whatever_the_local_model_says() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("m.py"),
        "def add(a, b):\n    \"\"\"\n    >>> add(1, 1)\n    2\n    \"\"\"\n    return a + b\n",
    )
    .unwrap();
    let url = fake_model_server(FAKE_TESTS_ANSWER, 200, 2);
    let out = plumb(
        dir.path(),
        &["check", "--format", "json", "--local-model", "off", "--model-url", &url, "--model", "tiny-coder", "m.py"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(json(&out)["files"][0]["functions"][0]["evidence"]["model"], "tiny-coder");
}

/// The judge against a stand-in for a strong model (`tests/eval/standin.py`, a loopback
/// OpenAI-compatible server answering from the labelled set): with correct candidates 90% of the
/// time and byte-identical samples, `plumb eval` warns on every subtle bug of one topic (bugs
/// that pass their own examples) and on none of its correct functions.
#[test]
fn a_strong_model_stand_in_finds_subtle_bugs_without_false_alarms() {
    let eval = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/eval");
    let dir = tempfile::tempdir().unwrap();
    let files = ["correct/search.py", "buggy/search_subtle.py"];
    for f in files {
        std::fs::create_dir_all(dir.path().join(f).parent().unwrap()).unwrap();
        std::fs::copy(eval.join(f), dir.path().join(f)).unwrap();
    }
    let labels: Value = serde_json::from_str(&std::fs::read_to_string(eval.join("labels.json")).unwrap()).unwrap();
    let cases: Vec<&Value> =
        labels["cases"].as_array().unwrap().iter().filter(|c| files.contains(&c["file"].as_str().unwrap())).collect();
    let names: Vec<&str> = cases.iter().map(|c| c["function"].as_str().unwrap()).collect();
    std::fs::write(dir.path().join("labels.json"), serde_json::json!({"version": 1, "cases": cases}).to_string())
        .unwrap();
    let mut server = Command::new("python3")
        .arg(eval.join("standin.py"))
        .args(["--p", "0.9", "--identical", "--port", "0", "--only", &names.join(",")])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs the stand-in");
    let mut url = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(server.stdout.take().unwrap()), &mut url).unwrap();
    let saved = dir.path().join("cases.jsonl");
    let args = ["eval", ".", "--model-url", url.trim(), "--model", "standin", "--model-chat", "--model-samples", "4"];
    let out = plumb(dir.path(), &[&args[..], &["--cases", saved.to_str().unwrap()]].concat());
    let _ = server.kill();
    let _ = server.wait();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rows: Vec<Value> =
        std::fs::read_to_string(&saved).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(rows.len(), cases.len());
    for r in &rows {
        let buggy = r["label"] == "buggy";
        assert_eq!(r["flagged"].as_bool(), Some(buggy), "{r}");
    }
}

/// `--local-model owner/name:file`: a loopback server stands in for the Hugging Face hub (the
/// endpoint is `$HF_ENDPOINT`) and serves a model plumb wrote itself, the way the hub does (a
/// redirect carrying the commit and the file's etag, then the bytes). The file lands in the
/// Hugging Face cache layout and is used; a second run, offline, takes it from the cache.
#[test]
fn a_model_named_by_its_hugging_face_repository_is_fetched_into_the_cache() {
    use std::io::{BufRead, BufReader, Write};
    let dir = tempfile::tempdir().unwrap();
    let tiny = plumb::model::synthetic::shape("tiny").unwrap();
    let f32 = plumb::model::synthetic::Format::parse("f32").unwrap();
    let model = std::fs::read(plumb::model::synthetic::write(&tiny, f32, dir.path(), 1, false).unwrap()).unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let server = std::thread::spawn(move || {
        let mut paths = Vec::new();
        for stream in listener.incoming().take(2) {
            let mut stream = stream.unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            while reader.read_line(&mut String::new()).unwrap() > 2 {}
            let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
            if path == "/org/tiny-GGUF/resolve/main/tiny.gguf" {
                let head = "HTTP/1.1 302 Found\r\nLocation: /cdn/blob\r\nX-Repo-Commit: 0123abcd\r\nX-Linked-Etag: \"5eed\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
                stream.write_all(head.as_bytes()).unwrap();
            } else {
                let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", model.len());
                stream.write_all(head.as_bytes()).unwrap();
                stream.write_all(&model).unwrap();
            }
            paths.push(path);
        }
        paths
    });
    let source = dir.path().join("m.py");
    std::fs::write(&source, "def double(x):\n    \"\"\"\n    >>> double(2)\n    4\n    \"\"\"\n    return 2 * x\n")
        .unwrap();
    let hf = dir.path().join("hf");
    let run = |offline: bool| {
        Command::new(env!("CARGO_BIN_EXE_plumb"))
            .current_dir(dir.path())
            .env("PLUMB_STORE", "off")
            .env("HF_HOME", &hf)
            .env("HF_ENDPOINT", &endpoint)
            .env("HF_HUB_OFFLINE", if offline { "1" } else { "0" })
            .args([
                "check",
                "m.py",
                "--format",
                "json",
                "--model-samples",
                "2",
                "--local-model",
                "org/tiny-GGUF:tiny.gguf",
            ])
            .output()
            .unwrap()
    };
    for offline in [false, true] {
        let out = run(offline);
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        let v = json(&out);
        assert_eq!(v["files"][0]["functions"][0]["evidence"]["model"], "org/tiny-GGUF:tiny.gguf", "{v}");
    }
    assert_eq!(server.join().unwrap(), ["/org/tiny-GGUF/resolve/main/tiny.gguf", "/cdn/blob"]);
    let folder = hf.join("hub/models--org--tiny-GGUF");
    assert_eq!(std::fs::read_to_string(folder.join("refs/main")).unwrap(), "0123abcd");
    let link = folder.join("snapshots/0123abcd/tiny.gguf");
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    assert_eq!(std::fs::canonicalize(&link).unwrap(), std::fs::canonicalize(folder.join("blobs/5eed")).unwrap());
}
