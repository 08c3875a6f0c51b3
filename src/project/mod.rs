//! The project a file belongs to: where its imports come from and how its tests are configured.
//!
//! A [`Project`] is found from a file's path the way a user's tools find it: its root is the
//! nearest directory above the file with a pytest configuration or a project marker
//! (`pyproject.toml`, `setup.cfg`, `setup.py`, `.git`, ...). From the root come the import roots
//! (the root, a `src/` layout, pytest's `pythonpath`), the pure-Python packages of the project's
//! virtual environment (`.venv`, `venv`, `$VIRTUAL_ENV`) and the pytest settings that change how
//! examples are judged (`doctest_optionflags`, `testpaths`, `python_files`).
//!
//! [`Project::find`] answers the sandbox's imports: a dotted module name becomes the text of a
//! file under one of those roots (an open editor buffer wins over the disk), a namespace package, a
//! compiled extension (which the sandbox cannot load), or nothing. Names are checked to be Python
//! identifiers and every file found must lie inside a root after symlinks are resolved: an import
//! from hostile code sees nothing else of the host.

mod config;

use std::path::{Path, PathBuf};

pub use config::PytestConfig;

/// Files that mark a project's root, besides pytest's configuration files.
const MARKERS: &[&str] = &["pyproject.toml", "setup.cfg", "setup.py", ".git", "pytest.ini", "tox.ini"];

/// Python source files larger than this are not served to the sandbox.
pub const MAX_MODULE_BYTES: u64 = 4 << 20;

/// A project, as found from one of its files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    /// Where the project's markers are; every import root lies under it or in its environment.
    pub root: PathBuf,
    /// Directories whose modules are importable by their path, in order.
    pub import_roots: Vec<PathBuf>,
    /// `site-packages` of the project's virtual environment.
    pub site_packages: Vec<PathBuf>,
    pub pytest: PytestConfig,
    /// The root was found by a marker (else it is just the file's directory).
    pub marked: bool,
}

/// What an import of a dotted name finds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    Source {
        path: PathBuf,
        text: String,
        package: bool,
    },
    /// A directory without `__init__.py` (a namespace package).
    Namespace {
        path: PathBuf,
    },
    /// A compiled extension module: the sandbox's CPython cannot load it.
    Extension {
        path: PathBuf,
    },
    Missing,
}

/// Whether `s` is a Python identifier (the ASCII rules plus any alphabetic character).
pub fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c == '_' || c.is_alphabetic())
        && chars.all(|c| c == '_' || c.is_alphanumeric())
        && !s.contains('\u{0}')
}

impl Project {
    /// The project of a file (or directory): never fails. A path outside any project is a project
    /// of its own directory.
    pub fn discover(path: &Path) -> Project {
        let path = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        let start = if path.is_dir() { path.clone() } else { path.parent().map(Path::to_path_buf).unwrap_or_default() };
        let marked = start.ancestors().find(|dir| MARKERS.iter().any(|m| dir.join(m).exists()) && !is_home(dir));
        // Unmarked, a file in `tests/` belongs with the modules beside that directory: where
        // plumb's "add as a unit test" action writes `tests/test_<module>.py`, importing the
        // module by name (as `python -m pytest` from there would find it).
        let unmarked_root = match start.file_name().and_then(|n| n.to_str()) {
            Some("tests" | "test") => start.parent().filter(|p| p.parent().is_some() && !is_home(p)).unwrap_or(&start),
            _ => &start,
        };
        let mut project = Project::at(marked.unwrap_or(unmarked_root));
        project.marked = marked.is_some();
        project
    }

    /// Directories a run may read: the project's root (never `/`, nor the home directory or a
    /// directory above it) and its environment.
    pub fn readable(&self) -> Vec<PathBuf> {
        let home = std::env::var_os("HOME").map(PathBuf::from);
        let broad = self.root.parent().is_none() || home.is_some_and(|h| h.starts_with(&self.root));
        let mut out = Vec::new();
        if !broad {
            out.push(self.root.clone());
        }
        out.extend(self.site_packages.iter().cloned());
        out
    }

    /// The project whose root is `root`.
    pub fn at(root: &Path) -> Project {
        let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
        let pytest = PytestConfig::read(&root);
        let mut import_roots = vec![root.clone()];
        let src = root.join("src");
        if src.is_dir() {
            import_roots.push(src);
        }
        for extra in &pytest.pythonpath {
            let dir = root.join(extra);
            if let Ok(dir) = dir.canonicalize()
                && dir.is_dir()
                && !import_roots.contains(&dir)
            {
                import_roots.push(dir);
            }
        }
        Project { site_packages: site_packages(&root), root, import_roots, pytest, marked: true }
    }

    /// The module name pytest gives a file (its `prepend` import mode): the file's stem after the
    /// names of the packages (directories with `__init__.py`) it is in, and the directory above
    /// the outermost package, from which that name is importable.
    pub fn module_of(file: &Path) -> Option<(String, PathBuf)> {
        let file = file.canonicalize().unwrap_or_else(|_| file.to_path_buf());
        let stem = file.file_stem()?.to_str()?;
        let mut parts = vec![stem.to_string()];
        if stem == "__init__" {
            parts.clear();
        }
        let mut dir = file.parent()?.to_path_buf();
        while dir.join("__init__.py").is_file() {
            parts.push(dir.file_name()?.to_str()?.to_string());
            dir = dir.parent()?.to_path_buf();
        }
        parts.reverse();
        (!parts.is_empty() && parts.iter().all(|p| is_identifier(p))).then(|| (parts.join("."), dir))
    }

    /// Finds the module `name` under `first` (the importing file's base directory), then the
    /// import roots, then the environment. `read` gives an open buffer's text for a path.
    pub fn find(&self, name: &str, first: Option<&Path>, read: &dyn Fn(&Path) -> Option<String>) -> Found {
        let parts: Vec<&str> = name.split('.').collect();
        if parts.len() > 32 || !parts.iter().all(|p| is_identifier(p)) {
            return Found::Missing;
        }
        let roots = first.into_iter().chain(self.import_roots.iter().map(PathBuf::as_path));
        for root in roots.chain(self.site_packages.iter().map(PathBuf::as_path)) {
            let found = find_under(root, &parts, read);
            if found != Found::Missing {
                return found;
            }
        }
        Found::Missing
    }
}

impl Project {
    /// Whether pytest would collect tests from this file (`python_files`, matched on the name, or
    /// on the path relative to the root for patterns with a `/`).
    /// The `conftest.py` files pytest applies to `file`: in the root and each directory down to
    /// the file's own, root first.
    pub fn conftests_for(&self, file: &Path) -> Vec<PathBuf> {
        let Ok(relative) = file.strip_prefix(&self.root) else { return Vec::new() };
        let mut dir = self.root.clone();
        let mut out = Vec::new();
        let mut parts: Vec<_> = relative.components().collect();
        parts.pop();
        for part in std::iter::once(None).chain(parts.into_iter().map(Some)) {
            if let Some(part) = part {
                dir.push(part);
            }
            let candidate = dir.join("conftest.py");
            if candidate.is_file() {
                out.push(candidate);
            }
        }
        out
    }

    pub fn is_test_file(&self, file: &Path) -> bool {
        let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let relative = file.strip_prefix(&self.root).ok().and_then(|p| p.to_str()).unwrap_or(name);
        self.pytest.python_files.iter().any(|p| glob(p, if p.contains('/') { relative } else { name }))
    }
}

/// fnmatch's `*` and `?` (what `python_files` patterns use).
fn glob(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    let (mut i, mut j, mut star, mut mark) = (0, 0, None, 0);
    while j < n.len() {
        if i < p.len() && (p[i] == '?' || p[i] == n[j]) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == '*' {
            star = Some(i);
            mark = j;
            i += 1;
        } else if let Some(s) = star {
            i = s + 1;
            mark += 1;
            j = mark;
        } else {
            return false;
        }
    }
    p[i..].iter().all(|&c| c == '*')
}

/// The home directory holds dotfiles of every kind (a `.git` of dotfile managers): never a root.
fn is_home(dir: &Path) -> bool {
    std::env::var_os("HOME").is_some_and(|h| Path::new(&h) == dir)
}

fn find_under(root: &Path, parts: &[&str], read: &dyn Fn(&Path) -> Option<String>) -> Found {
    let Some((last, packages)) = parts.split_last() else { return Found::Missing };
    let dir: PathBuf = packages.iter().fold(root.to_path_buf(), |d, p| d.join(p));
    let package = dir.join(last);
    let candidates = [(package.join("__init__.py"), true), (dir.join(format!("{last}.py")), false)];
    for (path, is_package) in candidates {
        if let Some(text) = source_at(root, &path, read) {
            return Found::Source { path, text, package: is_package };
        }
    }
    if let Some(path) = extension_in(&dir, last)
        && inside(root, &path)
    {
        return Found::Extension { path };
    }
    if package.is_dir() && inside(root, &package) {
        return Found::Namespace { path: package };
    }
    Found::Missing
}

/// The text of a Python file under `root`: the open buffer, else the file when it is not too
/// large and lies inside `root` once symlinks are resolved.
fn source_at(root: &Path, path: &Path, read: &dyn Fn(&Path) -> Option<String>) -> Option<String> {
    if let Some(text) = read(path) {
        return Some(text);
    }
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_file() || meta.len() > MAX_MODULE_BYTES || !inside(root, path) {
        return None;
    }
    let bytes = std::fs::read(path).ok()?;
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&bytes);
    Some(String::from_utf8_lossy(bytes).into_owned())
}

fn inside(root: &Path, path: &Path) -> bool {
    match (root.canonicalize(), path.canonicalize()) {
        (Ok(root), Ok(path)) => path.starts_with(root),
        _ => false,
    }
}

/// `name.cpython-…so`, `name.abi3.so`, `name.so`, `name.pyd` … in `dir`.
fn extension_in(dir: &Path, name: &str) -> Option<PathBuf> {
    let entries = std::fs::read_dir(dir).ok()?;
    entries.flatten().map(|e| e.path()).find(|p| {
        let Some(file) = p.file_name().and_then(|f| f.to_str()) else { return false };
        let Some(rest) = file.strip_prefix(name) else { return false };
        (rest.starts_with('.') || rest.is_empty())
            && (file.ends_with(".so") || file.ends_with(".pyd") || file.ends_with(".dylib"))
            && !rest.is_empty()
    })
}

/// `site-packages` of the project's virtual environment: `.venv` or `venv` in the root, else
/// `$VIRTUAL_ENV`.
fn site_packages(root: &Path) -> Vec<PathBuf> {
    let envs = [root.join(".venv"), root.join("venv")];
    let env = envs
        .into_iter()
        .find(|e| e.join("pyvenv.cfg").is_file())
        .or_else(|| std::env::var_os("VIRTUAL_ENV").map(PathBuf::from).filter(|e| e.join("pyvenv.cfg").is_file()));
    let Some(env) = env else { return Vec::new() };
    let mut out = Vec::new();
    for lib in ["lib", "lib64", "Lib"] {
        let Ok(entries) = std::fs::read_dir(env.join(lib)) else { continue };
        let mut dirs: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("python")))
            .map(|p| p.join("site-packages"))
            .chain(std::iter::once(env.join(lib).join("site-packages")))
            .filter(|p| p.is_dir())
            .filter_map(|p| p.canonicalize().ok())
            .collect();
        dirs.sort();
        for d in dirs {
            if !out.contains(&d) {
                out.push(d);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
