//! Which files `plumb check` looks at.

use std::path::PathBuf;

use super::InputProblem;

/// Python files under the given paths, in a stable order, each with the name shown to the user.
/// A file named explicitly is checked whatever its extension; directories give their `*.py` files.
pub(super) fn python_files(paths: &[PathBuf]) -> (Vec<(PathBuf, String)>, Vec<InputProblem>) {
    let mut files = Vec::new();
    let mut problems = Vec::new();
    for path in paths {
        let shown = path.to_string_lossy().into_owned();
        if path.is_file() {
            files.push((path.clone(), shown));
        } else if path.is_dir() {
            let before = files.len();
            for entry in crate::base::walk(path) {
                match entry {
                    Ok(e) if e.file_type().is_some_and(|t| t.is_file()) && crate::base::is_python(e.path()) => {
                        // `plumb check .` shows `src/m.py`, as ruff and pytest do, not `./src/m.py`.
                        let shown = e.path().strip_prefix(".").unwrap_or(e.path());
                        files.push((e.path().to_path_buf(), shown.to_string_lossy().into_owned()));
                    }
                    Ok(_) => {}
                    Err(err) => {
                        problems.push(InputProblem { path: shown.clone(), message: err.to_string(), fatal: true })
                    }
                }
            }
            if files.len() == before {
                problems.push(InputProblem {
                    path: shown,
                    message: "no Python files found (hidden and ignored directories are skipped)".into(),
                    fatal: true,
                });
            }
        } else if path.exists() {
            problems.push(InputProblem { path: shown, message: "not a regular file or directory".into(), fatal: true });
        } else {
            problems.push(InputProblem { path: shown, message: "no such file or directory".into(), fatal: true });
        }
    }
    files.sort();
    files.dedup();
    (files, problems)
}
