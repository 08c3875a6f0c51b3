use std::fs;
use std::path::Path;

use super::*;

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

fn none(_: &Path) -> Option<String> {
    None
}

#[test]
fn finds_the_root_the_module_name_and_the_modules() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    write(&root, "pyproject.toml", "[project]\nname = 'pkg'\n");
    write(&root, "src/pkg/__init__.py", "from .util import clamp\n");
    write(&root, "src/pkg/util.py", "def clamp(x): return x\n");
    write(&root, "src/pkg/sub/deep.py", "X = 1\n");
    write(&root, "src/pkg/_speedups.cpython-311-x86_64-linux-gnu.so", "\x7fELF");
    write(&root, "tests/test_util.py", "def test(): pass\n");
    write(&root, ".venv/pyvenv.cfg", "home = /usr\n");
    write(&root, ".venv/lib/python3.11/site-packages/dep.py", "Y = 2\n");

    let p = Project::discover(&root.join("src/pkg/util.py"));
    assert_eq!(p.root, root);
    assert_eq!(p.import_roots, [root.clone(), root.join("src")]);
    assert_eq!(p.site_packages, [root.join(".venv/lib/python3.11/site-packages")]);
    assert_eq!(Project::module_of(&root.join("src/pkg/util.py")), Some(("pkg.util".into(), root.join("src"))));
    assert_eq!(Project::module_of(&root.join("src/pkg/__init__.py")), Some(("pkg".into(), root.join("src"))));
    assert_eq!(Project::module_of(&root.join("tests/test_util.py")), Some(("test_util".into(), root.join("tests"))));
    assert_eq!(Project::module_of(&root.join("src/pkg/my-file.py")), None);

    let text = |found: Found| match found {
        Found::Source { text, package, .. } => (text, package),
        other => panic!("{other:?}"),
    };
    assert_eq!(text(p.find("pkg", None, &none)), ("from .util import clamp\n".into(), true));
    assert_eq!(text(p.find("pkg.util", None, &none)).0, "def clamp(x): return x\n");
    assert_eq!(text(p.find("dep", None, &none)).0, "Y = 2\n", "the environment's packages");
    assert!(matches!(p.find("pkg.sub", None, &none), Found::Namespace { .. }));
    assert_eq!(text(p.find("pkg.sub.deep", None, &none)).0, "X = 1\n");
    assert!(matches!(p.find("pkg._speedups", None, &none), Found::Extension { .. }));
    assert_eq!(p.find("test_util", None, &none), Found::Missing, "tests/ is not an import root");
    assert!(matches!(p.find("test_util", Some(&root.join("tests")), &none), Found::Source { .. }));
    // An open buffer wins over the disk.
    let util = root.join("src/pkg/util.py");
    let buffer = |path: &Path| (path == util).then(|| "def clamp(x): return 0\n".to_string());
    assert_eq!(text(p.find("pkg.util", None, &buffer)).0, "def clamp(x): return 0\n");
    // Names that are not dotted identifiers find nothing.
    for bad in ["", "pkg..util", "../etc", "pkg/util", "pkg.util ", ".pkg", "pkg\0"] {
        assert_eq!(p.find(bad, None, &none), Found::Missing, "{bad:?}");
    }
}

#[test]
fn a_symlink_out_of_the_project_is_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    write(&root, "setup.py", "");
    write(outside.path(), "secret.py", "TOKEN = 'x'\n");
    std::os::unix::fs::symlink(outside.path().join("secret.py"), root.join("secret.py")).unwrap();
    std::os::unix::fs::symlink(outside.path(), root.join("linked")).unwrap();
    let p = Project::discover(&root);
    assert_eq!(p.find("secret", None, &none), Found::Missing);
    assert_eq!(p.find("linked.secret", None, &none), Found::Missing);
    assert_eq!(p.find("linked", None, &none), Found::Missing);
}

#[test]
fn a_file_outside_any_project_is_its_own_directory() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    write(&root, "lone/m.py", "");
    let p = Project::discover(&root.join("lone/m.py"));
    // Somewhere above a temporary directory there may be a marker; the root is never below the file.
    assert!(root.join("lone").starts_with(&p.root));
}

#[test]
fn test_files_are_what_pytest_collects() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    let p = Project::at(&root);
    for (file, is) in [("tests/test_a.py", true), ("a_test.py", true), ("testing.py", false), ("test_a.txt", false)] {
        assert_eq!(p.is_test_file(&root.join(file)), is, "{file}");
    }
    write(&root, "pytest.ini", "[pytest]\npython_files = check_*.py\n");
    let p = Project::at(&root);
    assert!(p.is_test_file(&root.join("check_x.py")) && !p.is_test_file(&root.join("test_x.py")));
}
