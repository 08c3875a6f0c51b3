//! The VS Code extension: type-checked, bundled with esbuild and packaged into a .vsix offline, then
//! its protocol test drives the real `plumb lsp` through vscode-languageserver-protocol (the
//! library vscode-languageclient uses). A real VS Code cannot be downloaded here.

use std::path::Path;
use std::process::Command;

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

#[test]
fn vscode_extension_builds_packages_and_talks_to_the_server() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("editors/vscode");
    if !dir.join("node_modules/.package-lock.json").is_file() {
        npm(&dir, &["ci", "--no-audit", "--no-fund"]);
    }
    npm(&dir, &["run", "build"]);
    npm(&dir, &["run", "package"]);
    assert!(dir.join("dist/plumb.vsix").is_file());
    npm(&dir, &["test"]);
}
