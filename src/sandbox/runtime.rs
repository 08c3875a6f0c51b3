//! The sandbox runtime on disk: the CPython component built from `runner/`, and its precompiled form.
//!
//! Nothing here is committed to the repository: the first `plumb check` (or `plumb setup`) builds
//! the component with componentize-py (installed from PyPI into plumb's cache when it is not on the
//! machine), then precompiles it for this engine. Both are cached by content:
//! - component: `runtime/<hash of world.wit + app.py + componentize-py version>/runner.wasm`
//! - precompiled: `runner-<hash of wasmtime version + engine compatibility hash>.cwasm` beside it.
//!
//! Concurrent processes serialise on a lock file; outputs appear by atomic rename only.

use std::fs::{self, File};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};
use wasmtime::Engine;

use crate::base::{cache_dir, hex, run, write_atomic};

use super::Sandbox;
use super::engine::engine_config;

pub const WORLD_WIT: &str = include_str!("runner/world.wit");
pub const APP_PY: &str = include_str!("runner/app.py");
/// A small pytest suite the build runs so that the snapshot has pytest warm (`_warm_up_tests`).
const WARM_TESTS: &str = include_str!("runner/warm_test.py");
pub const COMPONENTIZE_PY_VERSION: &str = "0.25.1";
pub const WASMTIME_VERSION: &str = "48.0.8";
/// pytest and what it imports, bundled into the runtime (pure Python) to run the user's own tests;
/// pinned, installed with `--no-deps`.
pub const PYTEST_PACKAGES: &[&str] =
    &["pytest==8.4.2", "pluggy==1.6.0", "iniconfig==2.1.0", "packaging==25.0", "pygments==2.19.2"];

/// The runtime's identity: changes whenever the runner, the builder or the engine changes.
pub fn runner_hash() -> String {
    let mut h = Sha256::new();
    h.update(WORLD_WIT.as_bytes());
    h.update([0]);
    h.update(APP_PY.as_bytes());
    h.update(WARM_TESTS.as_bytes());
    h.update([0]);
    h.update(COMPONENTIZE_PY_VERSION.as_bytes());
    for package in PYTEST_PACKAGES {
        h.update([0]);
        h.update(package.as_bytes());
    }
    hex(&h.finalize())[..16].to_string()
}

fn engine_hash(engine: &Engine) -> String {
    struct Sha(Sha256);
    impl Hasher for Sha {
        fn finish(&self) -> u64 {
            0
        }
        fn write(&mut self, bytes: &[u8]) {
            self.0.update(bytes);
        }
    }
    let mut h = Sha(Sha256::new());
    WASMTIME_VERSION.hash(&mut h);
    engine.precompile_compatibility_hash().hash(&mut h);
    hex(&h.0.finalize())[..16].to_string()
}

/// Loads the sandbox, building and precompiling the runtime first when needed. `status` receives
/// one line per slow step ("installing componentize-py …"), for the CLI or the editor to show.
pub fn load(status: &mut dyn FnMut(&str)) -> Result<Sandbox> {
    let engine = Engine::new(&engine_config()).map_err(anyhow::Error::from)?;
    let cwasm = ensure(&engine, &cache_dir(), status)?;
    Sandbox::from_precompiled(engine, &cwasm)
}

/// Makes sure the precompiled runtime exists and returns its path.
pub fn ensure(engine: &Engine, cache: &Path, status: &mut dyn FnMut(&str)) -> Result<PathBuf> {
    let dir = cache.join("runtime").join(runner_hash());
    let cwasm = dir.join(format!("runner-{}.cwasm", engine_hash(engine)));
    if cwasm.is_file() {
        return Ok(cwasm);
    }
    fs::create_dir_all(&dir).with_context(|| format!("creating the cache directory {}", dir.display()))?;
    let lock = File::create(dir.join(".lock")).context("creating the runtime lock file")?;
    lock.lock().context("locking the runtime cache")?;
    if cwasm.is_file() {
        return Ok(cwasm);
    }
    let component = dir.join("runner.wasm");
    if !component.is_file() {
        let builder = componentize_py(cache, status)?;
        let site = pytest_site(cache, status)?;
        status(&format!("building the sandbox runtime (CPython WASI component) in {}", dir.display()));
        build_component(&builder, &site, &dir, &component)?;
    }
    prune_other_runtimes(&dir);
    status("precompiling the sandbox runtime for this machine (once)");
    let bytes = fs::read(&component).with_context(|| format!("reading {}", component.display()))?;
    let compiled =
        engine.precompile_component(&bytes).map_err(anyhow::Error::from).context("compiling the sandbox runtime")?;
    write_atomic(&cwasm, &compiled)?;
    Ok(cwasm)
}

/// Runtimes of other plumb versions (about 60 MiB each) are removed when a new one is built: an
/// older plumb that still needs one rebuilds it.
fn prune_other_runtimes(keep: &Path) {
    let Some(parent) = keep.parent() else { return };
    let Ok(entries) = fs::read_dir(parent) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path != keep && path.is_dir() {
            let _ = fs::remove_dir_all(&path);
        }
    }
}

/// `$PLUMB_COMPONENTIZE_PY`, else `componentize-py` on PATH at the pinned version, else a private
/// virtual environment in the cache, created on first use with `python3 -m venv` + pip.
fn componentize_py(cache: &Path, status: &mut dyn FnMut(&str)) -> Result<PathBuf> {
    if let Some(path) = std::env::var_os("PLUMB_COMPONENTIZE_PY").filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(path));
    }
    if let Ok(out) = Command::new("componentize-py").arg("--version").output()
        && out.status.success()
        && String::from_utf8_lossy(&out.stdout).contains(COMPONENTIZE_PY_VERSION)
    {
        return Ok(PathBuf::from("componentize-py"));
    }
    let venv = cache.join("tools").join(format!("componentize-py-{COMPONENTIZE_PY_VERSION}"));
    let exe = venv.join("bin").join("componentize-py");
    if exe.is_file() {
        return Ok(exe);
    }
    status(&format!("installing componentize-py {COMPONENTIZE_PY_VERSION} from PyPI into {}", venv.display()));
    let python = std::env::var_os("PLUMB_PYTHON").unwrap_or_else(|| "python3".into());
    run(Command::new(&python).args(["-m", "venv"]).arg(&venv), "creating a virtual environment (python3 -m venv)")?;
    run(
        Command::new(venv.join("bin").join("python"))
            .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check"])
            .arg(format!("componentize-py=={COMPONENTIZE_PY_VERSION}")),
        "installing componentize-py with pip",
    )?;
    if !exe.is_file() {
        bail!("pip finished but {} is missing", exe.display());
    }
    Ok(exe)
}

/// The pinned pytest packages in a directory of their own in the cache (`pip install --target`,
/// no dependencies resolved: every one is pinned here).
fn pytest_site(cache: &Path, status: &mut dyn FnMut(&str)) -> Result<PathBuf> {
    let mut h = Sha256::new();
    for package in PYTEST_PACKAGES {
        h.update(package.as_bytes());
        h.update([0]);
    }
    let site = cache.join("tools").join(format!("pytest-site-{}", &hex(&h.finalize())[..12]));
    if site.join(".installed").is_file() {
        return Ok(site);
    }
    status(&format!("installing {} from PyPI into {}", PYTEST_PACKAGES.join(" "), site.display()));
    let tmp = tempfile::Builder::new()
        .prefix("pytest-site-")
        .tempdir_in(cache.join("tools"))
        .or_else(|_| {
            fs::create_dir_all(cache.join("tools"))?;
            tempfile::Builder::new().prefix("pytest-site-").tempdir_in(cache.join("tools"))
        })
        .context("creating a directory for pytest")?;
    let python = std::env::var_os("PLUMB_PYTHON").unwrap_or_else(|| "python3".into());
    run(
        Command::new(&python)
            .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps", "--no-compile"])
            .arg("--target")
            .arg(tmp.path())
            .args(PYTEST_PACKAGES),
        "installing pytest with pip",
    )?;
    fs::write(tmp.path().join(".installed"), "")?;
    let _ = fs::remove_dir_all(&site);
    fs::rename(tmp.keep(), &site).with_context(|| format!("moving pytest to {}", site.display()))?;
    Ok(site)
}

fn build_component(builder: &Path, site: &Path, dir: &Path, out: &Path) -> Result<()> {
    let work = tempfile::Builder::new().prefix("build-").tempdir_in(dir).context("creating a build directory")?;
    let src = work.path();
    fs::create_dir_all(src.join("wit"))?;
    fs::write(src.join("wit").join("world.wit"), WORLD_WIT)?;
    fs::write(src.join("app.py"), APP_PY)?;
    fs::create_dir_all(src.join("plumb_warm"))?;
    fs::write(src.join("plumb_warm").join("test_warm.py"), WARM_TESTS)?;
    let tmp_out = src.join("runner.wasm");
    run(
        Command::new(builder)
            .current_dir(src)
            .env_remove("VIRTUAL_ENV")
            .env_remove("PYTHONPATH")
            .args(["-q", "-d", "wit", "-w", "runner", "componentize", "-p", "."])
            .arg("-p")
            .arg(site)
            .args(["app", "-o"])
            .arg(&tmp_out),
        "building the runner with componentize-py",
    )?;
    fs::rename(&tmp_out, out).with_context(|| format!("moving the component to {}", out.display()))?;
    Ok(())
}
