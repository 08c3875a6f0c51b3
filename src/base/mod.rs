//! Small pieces every stage may use and that belong to none of them: cancellation, plumb's cache
//! directory, hashing to hex, atomic writes and running a helper command. Depends on no other
//! module of plumb.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result, bail};

/// Shared flag a caller sets to stop work: checked by the sandbox at every epoch tick and by the
/// model after every token.
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// Where plumb keeps what it builds and fetches: `$PLUMB_CACHE_DIR`, else
/// `$XDG_CACHE_HOME/plumb`, else `~/.cache/plumb`.
pub fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("PLUMB_CACHE_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir).join("plumb");
    }
    match std::env::var_os("HOME").filter(|d| !d.is_empty()) {
        Some(home) => PathBuf::from(home).join(".cache").join("plumb"),
        None => std::env::temp_dir().join("plumb-cache"),
    }
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Runs a helper command to completion; its output becomes the error when it fails.
pub fn run(cmd: &mut Command, what: &str) -> Result<()> {
    let out = cmd.output().with_context(|| format!("{what}: could not start {:?}", cmd.get_program()))?;
    if !out.status.success() {
        bail!(
            "{what} failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

/// Writes through a temporary file in the same directory and renames it into place.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    std::io::Write::write_all(&mut tmp, bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// Directories never worth descending into, beyond hidden and git-ignored ones.
const SKIP_DIRS: &[&str] = &["__pycache__", "node_modules", "site-packages", "venv", "env"];

/// The files under `dir` as the user's tools see them: hidden and git-ignored ones (and
/// environments, caches) left out.
pub fn walk(dir: &Path) -> ignore::Walk {
    ignore::WalkBuilder::new(dir)
        .hidden(true)
        .git_ignore(true)
        .git_exclude(true)
        .require_git(false)
        .filter_entry(|e| {
            !(e.file_type().is_some_and(|t| t.is_dir())
                && e.file_name().to_str().is_some_and(|n| SKIP_DIRS.contains(&n)))
        })
        .build()
}

/// A Python source file, by its name.
pub fn is_python(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "py")
}

#[cfg(test)]
mod tests {
    #[test]
    fn hex_and_cancel() {
        assert_eq!(super::hex(&[0, 15, 255]), "000fff");
        let c = super::Cancel::new();
        let seen = c.clone();
        assert!(!seen.is_cancelled());
        c.cancel();
        assert!(seen.is_cancelled());
    }
}
