//! plumb on released libraries from PyPI against native pytest, through
//! `benches/realworld/compare.py` (the same script that measures all the libraries of
//! `benches/realworld/libraries.json`). Two small ones run here: no false alarm is allowed, and
//! nearly every docstring (or test of their own suites) that pytest runs must be judged.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

const PYTEST: &str = "pytest==8.4.2";

/// compare.py on inflection and toolz with `extra` arguments: each library's summary, and the
/// script's output.
fn compare(extra: &[&str]) -> (Vec<Value>, String) {
    let python = crate::support::python_with("realworld-pytest-8.4.2", &[PYTEST]);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out_json = tempfile::NamedTempFile::new().unwrap();
    let cache = plumb::base::cache_dir().join("realworld");
    let out = Command::new(&python)
        .arg(root.join("benches/realworld/compare.py"))
        .args(["--plumb", env!("CARGO_BIN_EXE_plumb")])
        .arg("--python")
        .arg(&python)
        .args(["--only", "inflection,toolz"])
        .arg("--cache")
        .arg(&cache)
        .arg("--json")
        .arg(out_json.path())
        .args(extra)
        .output()
        .expect("compare.py runs");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    eprintln!("{text}");
    assert!(out.status.success(), "{text}");
    let results: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(out_json.path()).unwrap()).unwrap();
    assert_eq!(results.len(), 2, "{text}");
    (results, text)
}

#[track_caller]
fn agree(results: &[Value], text: &str, at_least: u64, what: &str) {
    for lib in results {
        let name = lib["library"].as_str().unwrap();
        let items = lib["items"].as_u64().unwrap();
        let judged = lib["judged"].as_u64().unwrap();
        assert!(items >= at_least, "{name}: pytest ran only {items} {what}\n{text}");
        assert_eq!(lib["false_alarms"], 0, "{name}: plumb fails where pytest passes\n{text}");
        assert_eq!(lib["misses"], 0, "{name}: plumb passes where pytest fails\n{text}");
        assert!(judged * 100 >= items * 95, "{name}: only {judged} of {items} {what} judged\n{text}");
    }
}

#[test]
fn released_libraries_agree_with_native_pytest() {
    let (results, text) = compare(&[]);
    agree(&results, &text, 10, "docstrings");
}

/// The libraries' own test suites, run by pytest inside the sandbox, test by test against native
/// pytest.
#[test]
fn released_test_suites_agree_with_native_pytest() {
    let (results, text) = compare(&["--tests"]);
    agree(&results, &text, 150, "tests");
}
