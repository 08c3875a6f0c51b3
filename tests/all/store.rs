//! The training-data store end to end: `plumb check` and the language server record executions
//! and labels; `plumb export` writes LeTI, DPO, KTO and label files that pyarrow and Hugging Face
//! `datasets` load; durability under kill -9, a full disk, two writers, a killed export, canaries.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use plumb::store::{ExecutionRecord, Store};
use serde_json::{Value, json};

use crate::lsp_client::Client;

const BUGGY: &str = "def median(values):\n    \"\"\"\n    >>> median([3, 1, 2])\n    2\n    >>> median([4, 1, 3, 2])\n    2.5\n    \"\"\"\n    s = sorted(values)\n    m = len(s) // 2\n    if len(s) % 2:\n        return s[m]\n    return (s[m] + s[m + 1]) / 2\n";

fn plumb(dir: &Path, store: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_plumb"))
        .current_dir(dir)
        .env("PLUMB_STORE", store)
        .env("PLUMB_MODEL", "off")
        .args(args)
        .output()
        .expect("plumb runs")
}

/// Python with pyarrow and `datasets` from PyPI, in plumb's cache (installed on first use).
fn python_with_datasets() -> PathBuf {
    if let Some(p) = std::env::var_os("PLUMB_DATASETS_PYTHON") {
        return PathBuf::from(p);
    }
    crate::support::python_with("datasets-5.2.0-pyarrow-26.0.1", &["datasets==5.2.0", "pyarrow==26.0.1"])
}

#[test]
fn checks_and_edits_become_training_data_that_datasets_loads() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store.sqlite3");
    std::fs::write(dir.path().join("stats.py"), BUGGY).unwrap();
    // A failing check, then the fixed function: one prompt, a rejected and a chosen program.
    assert_eq!(plumb(dir.path(), &store, &["check", "stats.py"]).status.code(), Some(1));
    assert_eq!(plumb(dir.path(), &store, &["check", "stats.py"]).status.code(), Some(1), "the same check again");
    std::fs::write(dir.path().join("stats.py"), BUGGY.replace("s[m + 1]", "s[m - 1]")).unwrap();
    assert_eq!(plumb(dir.path(), &store, &["check", "stats.py"]).status.code(), Some(0));

    // The language server records its checks too, and a listener label from a code action.
    let uri = format!("file://{}/other.py", dir.path().display());
    let other = "def double(x):\n    \"\"\"\n    >>> double(2)\n    5\n    \"\"\"\n    return 2 * x\n";
    let mut c = Client::spawn_with_store(store.to_str().unwrap());
    c.initialize(json!({}));
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": other}}),
    );
    let p = c.diagnostics(&uri, |p| !p["diagnostics"].as_array().unwrap().is_empty());
    let d = p["diagnostics"][0].clone();
    assert!(d["data"]["execution"].is_string(), "{d}");
    let actions = c.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": d["range"], "context": {"diagnostics": [d]}}),
    );
    let label = actions["result"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["title"] == "plumb: this is a false alarm")
        .unwrap()
        .clone();
    let r = c.request("workspace/executeCommand", label["command"].clone());
    assert!(r["result"]["label"].is_string(), "{r}");
    let status = c.request("workspace/executeCommand", json!({"command": "plumb.status"}));
    std::thread::sleep(Duration::from_millis(300));
    let status2 = c.request("workspace/executeCommand", json!({"command": "plumb.status"}));
    assert!(status2["result"]["store"]["written"].as_u64().unwrap() >= 2, "{status} {status2}");
    c.request("shutdown", Value::Null);
    c.notify("exit", Value::Null);
    c.exit_code(Duration::from_secs(10));

    let s = Store::open(&store).unwrap();
    assert_eq!(
        s.counts().unwrap(),
        (3, 1),
        "two executions of median (the repeat stored once), one of double; one label"
    );
    assert_eq!(s.integrity_check().unwrap(), "ok");

    let mut args = Vec::new();
    for (kind, rows) in [("leti", 3), ("dpo", 1), ("kto", 3), ("labels", 2)] {
        for format in ["jsonl", "parquet"] {
            let out = dir.path().join(format!("export/{kind}.{format}"));
            let o = plumb(
                dir.path(),
                &store,
                &["export", "--kind", kind, "--format", format, "--out", out.to_str().unwrap()],
            );
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            args.push(format!("{kind}={}={rows}", out.display()));
        }
    }
    let leti = std::fs::read_to_string(dir.path().join("export/leti.jsonl")).unwrap();
    assert!(
        leti.contains("<|bad|><|lang_feedback|>The code is not working correctly. Here is some feedback: File"),
        "{leti}"
    );
    assert!(leti.contains("Expected:\\n    2.5\\nGot:\\n    3.5"), "the feedback the editor showed: {leti}");

    let out = Command::new(python_with_datasets())
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/store/load_exports.py"))
        .args(&args)
        .env("HF_DATASETS_CACHE", dir.path().join("hf-cache"))
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{text}");
    assert_eq!(text.matches(" ok").count(), 8, "{text}");
}

fn synthetic(i: usize) -> ExecutionRecord {
    ExecutionRecord::synthetic(i)
}

/// The child half of the kill -9 test: writes records one commit at a time and prints each id
/// once its commit returned. Run by `acknowledged_records_survive_kill_9` with the variable set;
/// on its own it checks that a commit is readable right after it returns.
#[test]
#[allow(clippy::print_stdout)]
fn durability_child() {
    let Some(path) = std::env::var_os("PLUMB_DURABILITY_STORE") else {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("s.sqlite3")).unwrap();
        let ids = s.write(&[synthetic(1)], &[]).unwrap();
        assert!(s.execution(&ids[0]).unwrap().is_some());
        return;
    };
    let start: usize = std::env::var("PLUMB_DURABILITY_START").unwrap().parse().unwrap();
    let mut s = Store::open(Path::new(&path)).unwrap();
    for i in start.. {
        let ids = s.write(&[synthetic(i)], &[]).unwrap();
        println!("ack {}", ids[0]);
    }
}

fn kill_9_iterations() -> usize {
    std::env::var("PLUMB_KILL_ITERATIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(200)
}

#[test]
fn acknowledged_records_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("durable.sqlite3");
    let mut acked = Vec::new();
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let iterations = kill_9_iterations();
    for iteration in 0..iterations {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let stop_after = (rng % 25) as usize;
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "store::durability_child", "--nocapture", "--test-threads=1"])
            .env("PLUMB_DURABILITY_STORE", &path)
            .env("PLUMB_DURABILITY_START", (iteration * 1000).to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut seen = 0;
        while seen < stop_after {
            match lines.next() {
                Some(Ok(line)) => {
                    if let Some(id) = line.strip_prefix("ack ") {
                        acked.push(id.to_string());
                        seen += 1;
                    }
                }
                _ => break,
            }
        }
        // SIGKILL mid-write (the child is committing its next record).
        child.kill().unwrap();
        let _ = child.wait();
        // Lines already printed before the kill were acknowledged too.
        for line in lines.map_while(Result::ok) {
            if let Some(id) = line.strip_prefix("ack ") {
                acked.push(id.to_string());
            }
        }
    }
    let s = Store::open(&path).unwrap();
    assert_eq!(s.integrity_check().unwrap(), "ok");
    let stored = s.executions().expect("every stored row passes its checksum");
    let mut ids: Vec<&str> = stored.iter().map(|(r, _)| r.id.as_str()).collect();
    let total = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), total, "no duplicates");
    let missing: Vec<&String> = acked.iter().filter(|a| ids.binary_search(&a.as_str()).is_err()).collect();
    assert!(missing.is_empty(), "{} of {} acknowledged records lost: {missing:?}", missing.len(), acked.len());
    eprintln!("kill -9: {iterations} iterations, {} acknowledged, {total} stored, 0 lost, 0 duplicates", acked.len());
}

#[test]
fn two_writers_share_one_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("shared.sqlite3");
    for i in 0..6 {
        std::fs::write(
            dir.path().join(format!("m{i}.py")),
            format!("def f{i}(x):\n    \"\"\"\n    >>> f{i}(1)\n    {i}\n    \"\"\"\n    return x\n"),
        )
        .unwrap();
    }
    let spawn = |files: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_plumb"))
            .current_dir(dir.path())
            .env("PLUMB_STORE", &store)
            .env("PLUMB_MODEL", "off")
            .arg("check")
            .args(files)
            .stdout(Stdio::null())
            .spawn()
            .unwrap()
    };
    let mut a = spawn(&["m0.py", "m1.py", "m2.py"]);
    let mut b = spawn(&["m3.py", "m4.py", "m5.py"]);
    a.wait().unwrap();
    b.wait().unwrap();
    let s = Store::open(&store).unwrap();
    assert_eq!(s.counts().unwrap().0, 6);
    assert_eq!(s.integrity_check().unwrap(), "ok");
}

fn prlimit_fsize(pid: u32, soft: &str) {
    let ok = Command::new("prlimit").arg(format!("--pid={pid}")).arg(format!("--fsize={soft}:")).output().unwrap();
    assert!(ok.status.success(), "prlimit: {}", String::from_utf8_lossy(&ok.stderr));
}

#[test]
fn a_full_disk_is_reported_diagnostics_keep_flowing_and_writing_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("full.sqlite3");
    // SIGXFSZ ignored, as a server should run: a write past the file-size limit fails with EFBIG.
    let mut c = {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "trap '' XFSZ; exec \"$0\" lsp", env!("CARGO_BIN_EXE_plumb")])
            .env("PLUMB_STORE", &store)
            .env("PLUMB_MODEL", "off");
        Client::spawn_command(cmd)
    };
    c.initialize(json!({}));
    let uri = format!("file://{}/full.py", dir.path().display());
    let text = |k: usize| format!("def f(x):\n    \"\"\"\n    >>> f(1)\n    2\n    \"\"\"\n    return x + {k}\n");
    let status = |c: &mut Client| {
        c.request("workspace/executeCommand", json!({"command": "plumb.status"}))["result"]["store"].clone()
    };
    let wait_written = |c: &mut Client, n: u64| {
        for _ in 0..100 {
            if status(c)["written"].as_u64().unwrap_or(0) >= n {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    };
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text(0)}}),
    );
    c.diagnostics(&uri, |p| p["version"] == 1);
    assert!(wait_written(&mut c, 1), "the first record is written: {}", status(&mut c));

    // The disk fills up: no file may grow past 4 KiB (the WAL already has).
    prlimit_fsize(c.pid(), "4096");
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": text(2)}]}),
    );
    let p = c.diagnostics(&uri, |p| p["version"] == 2);
    assert_eq!(p["diagnostics"][0]["code"], "example_failed", "diagnostics keep flowing: {p}");
    let mut st = Value::Null;
    for _ in 0..100 {
        st = status(&mut c);
        if st["failed"].as_u64().unwrap_or(0) > 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(st["failed"].as_u64().unwrap_or(0) > 0 && st["written"] == 1, "the failure is counted: {st}");
    let m = c.wait_for("a warning about the store", Duration::from_secs(20), |m| {
        m["method"] == "window/showMessage"
            && m["params"]["message"].as_str().is_some_and(|t| t.contains("training data"))
    });
    assert!(m["params"]["message"].as_str().unwrap().contains("diagnostics are unaffected"), "{m}");

    // Space returns: the writer retries the kept record by itself.
    prlimit_fsize(c.pid(), "unlimited");
    assert!(wait_written(&mut c, 2), "writing recovered once space returned: {}", status(&mut c));
    assert_eq!(Store::open(&store).unwrap().counts().unwrap().0, 2);
}

/// The user's own tests that ran a function are training data: a record of the function with each
/// test's node id and outcome, pytest's report of the failure as LeTI feedback; the test file's
/// own functions give none (pytest ran them, they are not the program under test).
#[test]
fn user_tests_that_ran_a_function_become_training_data() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(root.join("pyproject.toml"), "[tool.pytest.ini_options]\npythonpath = [\".\"]\n").unwrap();
    std::fs::create_dir(root.join("tests")).unwrap();
    std::fs::write(root.join("mod.py"), "def scale(x):\n    return x * 2 + 1\n").unwrap();
    std::fs::write(
        root.join("tests/test_mod.py"),
        "from mod import scale\n\n\ndef test_zero():\n    assert scale(0) == 0\n\n\ndef test_sign():\n    assert scale(-1) < 0\n",
    )
    .unwrap();
    let store = root.join("store.sqlite3");
    assert_eq!(plumb(root, &store, &["check", "mod.py", "tests"]).status.code(), Some(1));
    let s = Store::open(&store).unwrap();
    let executions = s.executions().unwrap();
    let user: Vec<&ExecutionRecord> = executions
        .iter()
        .map(|(_, r)| r)
        .filter(|r| r.tests.iter().any(|t| t.kind == plumb::store::TestKind::UserTest))
        .collect();
    assert_eq!(user.len(), 1, "{executions:#?}");
    let r = user[0];
    assert_eq!(r.qualified_name, "scale");
    assert_eq!(r.program, "def scale(x):\n    return x * 2 + 1");
    let tests: Vec<&str> = r.tests.iter().map(|t| t.source.as_str()).collect();
    assert_eq!(tests, ["tests/test_mod.py::test_zero", "tests/test_mod.py::test_sign"]);
    let outcomes: Vec<(&str, bool)> = r.outcomes.iter().map(|o| (o.class.as_str(), o.passed)).collect();
    assert_eq!(outcomes, [("failed", false), ("passed", true)]);
    assert_eq!(r.reward, plumb::store::Reward::Bad);
    assert!(r.feedback.contains("assert 1 == 0"), "{}", r.feedback);
    // The same run again records nothing new.
    plumb(root, &store, &["check", "mod.py", "tests"]);
    assert_eq!(Store::open(&store).unwrap().executions().unwrap().len(), executions.len());
}

#[test]
fn a_killed_export_leaves_the_previous_file_intact() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.sqlite3");
    let mut s = Store::open(&path).unwrap();
    s.write(&(0..10).map(synthetic).collect::<Vec<_>>(), &[]).unwrap();
    let out = dir.path().join("leti.jsonl");
    let export = |s: &Store| {
        plumb::store::export(s, plumb::store::ExportKind::Leti, plumb::store::ExportFormat::Jsonl, &out).unwrap()
    };
    export(&s);
    let before = std::fs::read(&out).unwrap();
    s.write(&(10..60_000).map(synthetic).collect::<Vec<_>>(), &[]).unwrap();
    drop(s);
    for delay_ms in [5u64, 30, 80, 150] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_plumb"))
            .args(["export", "--kind", "leti", "--out", out.to_str().unwrap(), "--store", path.to_str().unwrap()])
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = child.kill();
        let status = child.wait().unwrap();
        let now = std::fs::read(&out).unwrap();
        if status.success() {
            // It finished before the kill: the new file replaced the old one whole.
            assert_eq!(String::from_utf8(now).unwrap().lines().count(), 60_000);
            return;
        }
        assert_eq!(now, before, "killed after {delay_ms} ms: the previous export is intact");
    }
}

#[test]
fn canary_secrets_never_reach_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("canary.sqlite3");
    let secret = "plumb-store-canary-93ab";
    std::fs::write(
        dir.path().join("leak.py"),
        "import os\n\ndef leak():\n    \"\"\"\n    >>> leak()\n    ''\n    \"\"\"\n    print(os.environ)\n    return repr(dict(os.environ))\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_plumb"))
        .current_dir(dir.path())
        .env("PLUMB_STORE", &store)
        .env("PLUMB_MODEL", "off")
        .env("PLUMB_CANARY_SECRET", secret)
        .args(["check", "leak.py"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let bytes = std::fs::read(&store).unwrap();
    let wal = std::fs::read(dir.path().join("canary.sqlite3-wal")).unwrap_or_default();
    let haystack = [bytes, wal].concat();
    assert!(!haystack.windows(secret.len()).any(|w| w == secret.as_bytes()));
    assert_eq!(Store::open(&store).unwrap().counts().unwrap().0, 1);
}

/// PLUM: a model's candidates run against the examples and the surviving generated tests become
/// records of their own, and chosen/rejected pairs come out of the DPO export.
#[test]
fn candidates_become_plum_preference_pairs() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store.sqlite3");
    std::fs::write(
        dir.path().join("m.py"),
        "def add(a, b):\n    \"\"\"\n    >>> add(1, 1)\n    2\n    \"\"\"\n    return a + b\n",
    )
    .unwrap();
    let url = crate::support::fake_coder_server(
        crate::support::FAKE_TESTS_ANSWER,
        &["    return a + b\n", "    return b + a\n", "    return 2 * a\n"],
        2,
    );
    let out = plumb(dir.path(), &store, &["check", "--model-url", &url, "--model", "coder", "m.py"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let leti = dir.path().join("leti.jsonl");
    let dpo = dir.path().join("dpo.jsonl");
    for (kind, path) in [("leti", &leti), ("dpo", &dpo)] {
        let out = plumb(dir.path(), &store, &["export", "--kind", kind, "--out", path.to_str().unwrap()]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let rows: Vec<serde_json::Value> =
        std::fs::read_to_string(&leti).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let candidates: Vec<_> = rows.iter().filter(|r| r["source"] == "candidate").collect();
    assert_eq!(candidates.len(), 3, "{rows:#?}");
    assert!(candidates.iter().all(|r| r["model_id"] == "coder"));
    // 2 * a passes add(1, 1) == 2 but fails a surviving test: rejected, with feedback.
    let bad: Vec<_> = candidates.iter().filter(|r| r["reward"] == "bad").collect();
    assert_eq!(bad.len(), 1);
    assert!(bad[0]["completion"].as_str().unwrap().contains("2 * a"));
    assert!(bad[0]["feedback"].as_str().unwrap().contains("add(1, 2) == 3"), "{}", bad[0]["feedback"]);
    let pairs: Vec<serde_json::Value> =
        std::fs::read_to_string(&dpo).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(pairs.iter().any(|p| p["rejected"].as_str().unwrap().contains("2 * a")), "{pairs:#?}");
}
