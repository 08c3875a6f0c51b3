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

/// `plumb check ARGS` in `dir`, with no model and no store.
fn plumb(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_plumb"))
        .current_dir(dir)
        .env("PLUMB_STORE", "off")
        .env("PLUMB_MODEL", "off")
        .arg("check")
        .args(args)
        .output()
        .unwrap()
}

/// `plumb check --format json ARGS` in `dir`: its JSON report and exit code.
fn plumb_json(dir: &Path, args: &[&str]) -> (Value, Option<i32>) {
    let out = plumb(dir, &[&["--format", "json"], args].concat());
    let json =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (json, out.status.code())
}

/// A test file's tests in the JSON report: (node id, outcome), in the order pytest ran them.
fn test_outcomes(file: &Value) -> Vec<(&str, &str)> {
    let tests = file["tests"].as_array().unwrap_or_else(|| panic!("no tests: {file:#}"));
    tests.iter().map(|t| (t["nodeid"].as_str().unwrap(), t["outcome"].as_str().unwrap())).collect()
}

fn kinds(f: &Value) -> Vec<&str> {
    f["findings"].as_array().unwrap().iter().map(|x| x["kind"].as_str().unwrap()).collect()
}

#[test]
fn a_package_is_checked_as_python_imports_it() {
    let (json, code) = plumb_json(&project(), &["src/shapes"]);
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
    assert_eq!(code, Some(1), "buggy_mean fails");
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

/// Without project markers, a test file in `tests/` imports the modules beside that directory:
/// the layout plumb's "add as a unit test" action writes (`tests/test_stats.py` importing
/// `stats`), so the test it wrote runs and says what it says.
#[test]
fn an_unmarked_tests_directory_imports_the_modules_beside_it() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir(root.join("tests")).unwrap();
    std::fs::write(root.join("stats.py"), "def add(a, b):\n    return a - b\n").unwrap();
    std::fs::write(
        root.join("tests/test_stats.py"),
        "from stats import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n",
    )
    .unwrap();
    let (json, code) = plumb_json(root, &["tests/test_stats.py"]);
    assert_eq!(test_outcomes(&json["files"][0]), [("tests/test_stats.py::test_add", "failed")], "{json:#}");
    assert_eq!(code, Some(1));
}

/// Names a project's conftest.py puts in pytest's `doctest_namespace` through an autouse fixture
/// are there for the examples of the modules under it (not for a module beside it); a fixture that
/// needs more than the namespace is not run, so what it would add stays unresolved, never failing.
#[test]
fn conftest_doctest_namespace_fills_the_examples_names() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(root.join("pyproject.toml"), "[project]\nname = 'nsdemo'\n").unwrap();
    std::fs::create_dir_all(root.join("pkg")).unwrap();
    std::fs::create_dir_all(root.join("other")).unwrap();
    std::fs::write(root.join("pkg/__init__.py"), "").unwrap();
    std::fs::write(
        root.join("pkg/conftest.py"),
        "import pytest\nimport pkg.mathlib\n\n\n@pytest.fixture(autouse=True)\ndef names(doctest_namespace):\n    \
         doctest_namespace['ml'] = pkg.mathlib\n    doctest_namespace['TEN'] = 10\n    yield\n\n\n\
         @pytest.fixture(autouse=True)\ndef more(doctest_namespace, tmp_path):\n    doctest_namespace['LATER'] = 1\n",
    )
    .unwrap();
    let module = "def double(x):\n    \"\"\"\n    >>> ml.double(TEN)\n    20\n    \"\"\"\n    return 2 * x\n\n\n\
                  def triple(x):\n    \"\"\"\n    >>> triple(LATER)\n    3\n    \"\"\"\n    return 3 * x\n";
    std::fs::write(root.join("pkg/mathlib.py"), module).unwrap();
    std::fs::write(root.join("other/mathlib.py"), module).unwrap();
    // In the editor, the module depends on the conftest: an edit to it checks the module again.
    let engine = Engine::new(Options { store: StoreChoice::Off, no_model: true, ..Options::default() }.settings());
    let doc = read_document(&root.join("pkg/mathlib.py"), "pkg/mathlib.py").unwrap();
    let r = engine.check(&doc, false, &Cancel::new(), &mut |_| {}).unwrap();
    let conftest = root.join("pkg/conftest.py").canonicalize().unwrap();
    assert!(r.depends_on.contains(&conftest), "{:?}", r.depends_on);
    let (json, _) = plumb_json(root, &["pkg/mathlib.py", "other/mathlib.py"]);
    let file = |path: &str| {
        json["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"] == path)
            .unwrap_or_else(|| panic!("{path}: {json:#}"))
    };
    let (inside, beside) = (file("pkg/mathlib.py"), file("other/mathlib.py"));
    assert_eq!(function(inside, "double")["status"], "passing", "{inside:#}");
    assert_eq!(function(inside, "triple")["status"], "unverified", "{inside:#}");
    assert!(kinds(function(inside, "triple")).contains(&"example_unresolved"), "{inside:#}");
    for name in ["double", "triple"] {
        assert_eq!(function(beside, name)["status"], "unverified", "{beside:#}");
    }
}

/// `plumb check` on the whole project: the package's functions and the project's own tests
/// (`tests/`, a conftest.py fixture, parametrize, raises, approx, tmp_path, capsys, monkeypatch, a
/// test class, a skipped test), run by pytest inside the sandbox; the failing test is an error on
/// the test with pytest's report, and each test counts for the functions it called.
#[test]
fn the_projects_own_tests_run_in_the_sandbox_and_count_for_what_they_ran() {
    let dir = copy_of_project();
    let (json, code) = plumb_json(dir.path(), &["."]);
    assert_eq!(json["errors"], serde_json::json!([]), "{json:#}");
    let files = json["files"].as_array().unwrap();
    let tests = files.iter().find(|f| f["path"] == "tests/test_stats.py").expect("the test file is checked");
    let outcomes = test_outcomes(tests);
    assert_eq!(
        outcomes,
        [
            ("tests/test_stats.py::test_mean_clamped", "passed"),
            ("tests/test_stats.py::test_clamp[5-3]", "passed"),
            ("tests/test_stats.py::test_clamp[-1-0]", "passed"),
            ("tests/test_stats.py::test_clamp[2-2]", "passed"),
            ("tests/test_stats.py::test_mean_is_approximate", "passed"),
            ("tests/test_stats.py::test_empty_mean_raises", "passed"),
            ("tests/test_stats.py::test_buggy_mean", "failed"),
            ("tests/test_stats.py::test_sides_from_conftest", "passed"),
            ("tests/test_stats.py::test_roundtrip_in_tmp_path", "passed"),
            ("tests/test_stats.py::TestClamp::test_inside", "passed"),
            ("tests/test_stats.py::TestClamp::test_skipped", "skipped"),
        ],
        "{tests:#}"
    );
    // The failing test: an error on the test, with both sides of the assert as pytest says them.
    let buggy = function(tests, "test_buggy_mean");
    assert_eq!(buggy["status"], "failing");
    assert_eq!(kinds(buggy), ["user_test_failed"]);
    let finding = &buggy["findings"][0];
    assert_eq!(finding["message"], "`test_buggy_mean` failed: assert 2.0 == 3.0");
    assert!(finding["feedback"].as_str().unwrap().contains("where 2.0 = buggy_mean([2, 4])"), "{finding:#}");
    let clamp_test = function(tests, "test_clamp");
    assert_eq!(
        (clamp_test["status"].as_str(), clamp_test["evidence"]["user_tests"].as_u64()),
        (Some("passing"), Some(3))
    );
    for name in ["test_sides_from_conftest", "test_roundtrip_in_tmp_path", "test_empty_mean_raises", "test_inside"] {
        assert_eq!(function(tests, name)["status"], "passing", "{:#}", function(tests, name));
    }

    // Attribution: what each test called, recorded in the sandbox.
    let stats = files.iter().find(|f| f["path"] == "src/shapes/stats.py").unwrap();
    let buggy_mean = function(stats, "buggy_mean");
    assert_eq!(buggy_mean["evidence"]["user_tests"], 1, "{buggy_mean:#}");
    assert_eq!(kinds(buggy_mean), ["example_failed", "user_test_failed"]);
    let hint = &buggy_mean["findings"][1];
    assert_eq!(hint["severity"], "hint");
    assert_eq!(
        hint["message"],
        "`test_buggy_mean` (tests/test_stats.py:28) ran this function and failed: assert 2.0 == 3.0"
    );
    // mean_clamped: test_mean_clamped, approx, raises; sides: the conftest test; roundtrip: tmp_path.
    assert_eq!(function(stats, "mean_clamped")["evidence"]["user_tests"], 3);
    assert_eq!(function(stats, "sides")["evidence"]["user_tests"], 1);
    assert_eq!(function(stats, "roundtrip")["evidence"]["user_tests"], 1);
    // clamp: its own three, test_inside, and through mean_clamped twice — not through the raising
    // test, whose empty list never reaches clamp, nor the skipped test: what ran, not names.
    let util = files.iter().find(|f| f["path"] == "src/shapes/util.py").unwrap();
    let clamp = function(util, "clamp");
    assert_eq!(clamp["evidence"]["user_tests"], 6, "{clamp:#}");
    assert_eq!(clamp["status"], "passing");
    assert!(clamp["findings"].as_array().unwrap().is_empty(), "{clamp:#}");
    assert_eq!(code, Some(1));
    // Nothing of pytest's was written into the project.
    for leftover in [".pytest_cache", "tests/__pycache__", "src/shapes/__pycache__"] {
        assert!(!dir.path().join(leftover).exists(), "{leftover} written");
    }

    // Like a test runner: a summary line for `plumb check tests/`.
    let out = plumb(dir.path(), &["tests"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Ran 11 tests in the sandbox: 9 passed, 1 failed, 1 skipped, 0 not run here"), "{text}");
    assert!(text.contains("tests/test_stats.py:28:5: error[user_test_failed]"), "{text}");
}

/// The editor's unsaved text wins for the tests too: a fix in the buffer of the module under test,
/// and an edit in the buffer of the test file itself (pytest's assertion rewriting reads it from
/// the host, not the disk).
#[test]
fn tests_see_the_editors_buffers() {
    let dir = copy_of_project();
    let root = dir.path().canonicalize().unwrap();
    let engine = Engine::new(Options { store: StoreChoice::Off, no_model: true, ..Options::default() }.settings());
    let test_path = root.join("tests/test_stats.py");
    let stats_path = root.join("src/shapes/stats.py");
    let check = |test_text: Option<String>, buffers: HashMap<PathBuf, String>| {
        let mut doc = read_document(&test_path, "tests/test_stats.py").unwrap();
        if let Some(t) = test_text {
            doc.text = t;
        }
        let doc = doc.clone().at(doc.file.as_deref().unwrap(), Arc::new(buffers));
        engine.check(&doc, false, &Cancel::new(), &mut |_| {}).unwrap()
    };
    let outcome = |r: &plumb::engine::FileReport, name: &str| {
        r.tests.iter().find(|t| t.name == name).map(|t| t.outcome).unwrap_or_else(|| panic!("{name}: {:#?}", r.tests))
    };
    use plumb::evidence::TestOutcome;
    let first = check(None, HashMap::new());
    assert_eq!(outcome(&first, "test_buggy_mean"), TestOutcome::Failed, "{:?}", first.tests_problem);
    assert!(first.depends_on.contains(&stats_path), "{:?}", first.depends_on);

    // The module under test, fixed in an unsaved buffer.
    let fixed = std::fs::read_to_string(&stats_path).unwrap().replace("(len(xs) + 1)", "len(xs)");
    let r = check(None, HashMap::from([(stats_path.clone(), fixed)]));
    assert_eq!(outcome(&r, "test_buggy_mean"), TestOutcome::Passed, "{:#?}", r.tests);

    // The test file's own unsaved text: its assert now expects what the buggy function returns.
    let text = std::fs::read_to_string(&test_path).unwrap().replace("== 3.0", "== 2.0");
    let r = check(Some(text), HashMap::new());
    assert_eq!(outcome(&r, "test_buggy_mean"), TestOutcome::Passed, "{:#?}", r.tests);

    // The attribution the engine keeps: stats.py's functions, after the last run.
    let exercised = engine.exercised_by(&test_path);
    assert!(exercised.contains(&stats_path) && exercised.contains(&root.join("src/shapes/util.py")), "{exercised:?}");
}

/// The editor's path after an edit: the tests that ran a function run again when its text
/// changes, only those, and the function's report shows what they say of it now.
#[test]
fn tests_that_ran_an_edited_function_run_again_alone() {
    let dir = copy_of_project();
    let root = dir.path().canonicalize().unwrap();
    let engine = Engine::new(Options { store: StoreChoice::Off, no_model: true, ..Options::default() }.settings());
    let test_path = root.join("tests/test_stats.py");
    let stats_path = root.join("src/shapes/stats.py");
    let no_buffers = Arc::new(HashMap::new());
    let test_doc = read_document(&test_path, "tests/test_stats.py").unwrap().at(&test_path, Arc::clone(&no_buffers));
    engine.check(&test_doc, false, &Cancel::new(), &mut |_| {}).unwrap();

    let failed_test_hint = |r: &plumb::engine::FileReport, name: &str| {
        let f = r.functions.iter().find(|f| f.function.name == name).unwrap();
        let hint = f.verdict.findings.iter().find(|x| x.kind == FindingKind::UserTestFailed).map(|x| x.message.clone());
        (f.verdict.evidence.user_tests, hint)
    };
    let check_stats = |text: String| {
        let mut doc =
            read_document(&stats_path, "src/shapes/stats.py").unwrap().at(&stats_path, Arc::clone(&no_buffers));
        doc.text = text;
        let mut report = engine.check(&doc, false, &Cancel::new(), &mut |_| {}).unwrap();
        let ran = engine.refresh_tests(&doc, &report, &Cancel::new());
        engine.attribute(&mut report);
        (ran, report)
    };
    // As on disk: nothing is stale, the failing test is a hint on buggy_mean.
    let on_disk = std::fs::read_to_string(&stats_path).unwrap();
    let (ran, report) = check_stats(on_disk.clone());
    assert_eq!(ran, 0);
    let (count, first_hint) = failed_test_hint(&report, "buggy_mean");
    assert_eq!(count, 1);
    assert!(first_hint.as_ref().is_some_and(|h| h.contains("`test_buggy_mean`")), "{:#?}", report.functions);

    // buggy_mean fixed in the buffer: its one test runs again, alone, and passes.
    let fixed = on_disk.replace("(len(xs) + 1)", "len(xs)");
    let (ran, report) = check_stats(fixed.clone());
    assert_eq!(ran, 1, "only test_buggy_mean ran buggy_mean");
    assert_eq!(failed_test_hint(&report, "buggy_mean"), (1, None));
    // mean_clamped's tests were not stale: still there, still passing.
    assert_eq!(failed_test_hint(&report, "mean_clamped").1, None);
    assert!(failed_test_hint(&report, "mean_clamped").0 >= 3);
    // The same text again: nothing left to run.
    assert_eq!(check_stats(fixed).0, 0);
    // Undone: the test runs again and fails again, with pytest's same explanation of the assert
    // (stats.py and the rewritten test module now come from the sandbox's compiled-code cache).
    let (ran, report) = check_stats(on_disk);
    assert_eq!(ran, 1);
    let last_hint = failed_test_hint(&report, "buggy_mean").1;
    assert!(last_hint.as_ref().is_some_and(|h| h.contains("assert 2.0 == 3.0")), "{last_hint:?}");
    assert_eq!(last_hint, first_hint);
    // The attribution of the rest of the file's tests is untouched.
    assert!(engine.exercised_by(&test_path).contains(&root.join("src/shapes/util.py")));
}

/// pytest's configuration and collection (importing the test modules) are not one example: a
/// slow import under a short per-example deadline still runs the tests, and each test keeps that
/// deadline.
#[test]
fn collecting_tests_has_the_runs_time_each_test_its_own() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pyproject.toml"), "").unwrap();
    std::fs::write(
        dir.path().join("test_slow.py"),
        "import time\n\ntime.sleep(0.6)\n\n\ndef test_quick():\n    assert 1 + 1 == 2\n\n\ndef test_slow():\n    time.sleep(5)\n",
    )
    .unwrap();
    let (json, _) = plumb_json(dir.path(), &["--timeout", "300", "test_slow.py"]);
    let outcomes = test_outcomes(&json["files"][0]);
    assert_eq!(outcomes, [("test_slow.py::test_quick", "passed"), ("test_slow.py::test_slow", "stopped")], "{json:#}");
}
