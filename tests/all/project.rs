//! A package as users have them: modules importing each other (relative and absolute), data files
//! read through `__file__`, examples that write files, the project's pytest doctest flags, a
//! compiled extension. Through the real binary and through the engine with an editor's buffers.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use plumb::base::Cancel;
use plumb::engine::{Document, Engine, Options, StoreChoice, read_document};
use plumb::judge::{FindingKind, Status};
use serde_json::Value;

fn project() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/project")
}

/// A copy of the fixture project in a temporary directory (examples write to their scratch
/// directory only, but edits made by a test must not touch the checkout).
pub(crate) fn copy_of_project() -> tempfile::TempDir {
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            let target = to.join(entry.file_name());
            if entry.file_type().unwrap().is_dir() {
                copy(&entry.path(), &target);
            } else {
                std::fs::copy(entry.path(), &target).unwrap();
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    copy(&project(), dir.path());
    dir
}

fn function<'a>(file: &'a Value, name: &str) -> &'a Value {
    file["functions"].as_array().unwrap().iter().find(|f| f["name"] == name).unwrap_or_else(|| panic!("{name}"))
}

fn kinds(f: &Value) -> Vec<&str> {
    f["findings"].as_array().unwrap().iter().map(|x| x["kind"].as_str().unwrap()).collect()
}

#[test]
fn a_package_is_checked_as_python_imports_it() {
    let out = Command::new(env!("CARGO_BIN_EXE_plumb"))
        .current_dir(project())
        .env("PLUMB_STORE", "off")
        .env("PLUMB_MODEL", "off")
        .args(["check", "--format", "json", "src/shapes"])
        .output()
        .unwrap();
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let files = json["files"].as_array().unwrap();
    let stats = files.iter().find(|f| f["path"] == "src/shapes/stats.py").expect("stats.py checked");
    let status = |name: &str| function(stats, name)["status"].as_str().unwrap().to_string();
    // Relative imports of the package's own modules resolve: no "not defined in this file".
    assert_eq!(status("mean_clamped"), "passing", "{:#}", function(stats, "mean_clamped"));
    // A real bug in a package module is still found.
    assert_eq!(status("buggy_mean"), "failing");
    assert_eq!(kinds(function(stats, "buggy_mean")), ["example_failed"]);
    // A data file next to the module, read through __file__; a scratch directory for writes.
    assert_eq!(status("sides"), "passing", "{:#}", function(stats, "sides"));
    assert_eq!(status("roundtrip"), "passing", "{:#}", function(stats, "roundtrip"));
    // pyproject.toml's doctest_optionflags, pytest's own flags included.
    assert_eq!(status("third"), "passing", "{:#}", function(stats, "third"));
    // A compiled extension cannot be loaded: unresolved, naming it, never a failure.
    let fast = function(stats, "fast_sum");
    assert_eq!(fast["status"], "unverified", "{fast:#}");
    let message = fast["findings"][0]["message"].as_str().unwrap();
    assert!(message.contains("compiled extension"), "{message}");
    let util = files.iter().find(|f| f["path"] == "src/shapes/util.py").unwrap();
    assert_eq!(function(util, "clamp")["status"], "passing");
    assert_eq!(out.status.code(), Some(1), "buggy_mean fails");
    // Nothing was written into the project.
    assert!(!project().join("notes.txt").exists());
    assert!(!project().join("src/shapes/notes.txt").exists());
}

#[test]
fn an_edit_to_an_imported_module_is_seen_and_only_there() {
    let dir = copy_of_project();
    let root = dir.path().canonicalize().unwrap();
    let engine = Engine::new(Options { store: StoreChoice::Off, no_model: true, ..Options::default() }.settings());
    let stats_path = root.join("src/shapes/stats.py");
    let util_path = root.join("src/shapes/util.py");
    let check = |buffers: HashMap<PathBuf, String>| {
        let doc = read_document(&stats_path, "stats.py").unwrap();
        let doc = doc.clone().at(doc.file.as_deref().unwrap(), Arc::new(buffers));
        engine.check(&doc, false, &Cancel::new(), &mut |_| {}).unwrap()
    };
    let status = |r: &plumb::engine::FileReport, name: &str| {
        r.functions.iter().find(|f| f.function.name == name).unwrap().verdict.status
    };
    let first = check(HashMap::new());
    assert_eq!(status(&first, "mean_clamped"), Status::Passing);
    assert!(first.depends_on.contains(&util_path), "{:?}", first.depends_on);
    assert!(first.depends_on.contains(&root.join("src/shapes/__init__.py")));

    // The editor's unsaved text of util.py: clamp is now wrong. stats.py's text did not change,
    // but the verdict that used clamp is not taken from the cache.
    let broken = std::fs::read_to_string(&util_path).unwrap().replace("max(lo, min(x, hi))", "min(x, hi)");
    let edited = check(HashMap::from([(util_path.clone(), broken)]));
    assert!(!edited.records.is_empty(), "checked again, not taken from the cache");
    assert_eq!(status(&edited, "mean_clamped"), Status::Passing, "its examples have no value below lo");
    // The same text again: now a cache hit (no executions recorded).
    let again = check(HashMap::from([(util_path.clone(), std::fs::read_to_string(&util_path).unwrap())]));
    assert!(again.records.is_empty(), "the disk's text is what the first check saw: {:?}", again.records.len());
    // A buffer that breaks what mean_clamped's example needs.
    let raising = "def clamp(x, lo, hi):\n    raise ValueError('no')\n".to_string();
    let r = check(HashMap::from([(util_path.clone(), raising)]));
    // The package's __init__ imports clamp from util, which still works; calling it raises.
    let v = &r.functions.iter().find(|f| f.function.name == "mean_clamped").unwrap().verdict;
    assert_eq!(v.status, Status::Failing, "{v:#?}");
    assert!(
        v.findings.iter().any(|f| f.kind == FindingKind::ExampleFailed && f.feedback.contains("util.py")),
        "{v:#?}"
    );
    // Back to the disk's text: the first verdicts again.
    let back = check(HashMap::new());
    assert_eq!(status(&back, "mean_clamped"), Status::Passing);
}

#[test]
fn a_file_outside_any_package_still_imports_its_neighbours() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("helpers.py"), "def twice(x):\n    return 2 * x\n").unwrap();
    std::fs::write(
        dir.path().join("main.py"),
        "from helpers import twice\n\ndef four():\n    \"\"\"\n    >>> four()\n    4\n    \"\"\"\n    return twice(2)\n",
    )
    .unwrap();
    let engine = Engine::new(Options { store: StoreChoice::Off, no_model: true, ..Options::default() }.settings());
    let doc = read_document(&dir.path().join("main.py"), "main.py").unwrap();
    let r = engine.check(&doc, false, &Cancel::new(), &mut |_| {}).unwrap();
    assert_eq!(r.functions[0].verdict.status, Status::Passing, "{:#?}", r.functions[0].verdict);
    // Without a file on disk there is no project: the import is unresolved, not a failure.
    let loose = Document::from_bytes("main.py", doc.text.as_bytes()).unwrap();
    let r = engine.check(&loose, false, &Cancel::new(), &mut |_| {}).unwrap();
    assert_eq!(r.functions[0].verdict.status, Status::Unverified, "{:#?}", r.functions[0].verdict);
}
