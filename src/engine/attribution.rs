//! Which of the user's tests ran which project functions: from the last pytest run of each test
//! file, as the sandbox's runner recorded the calls (never guessed from names). A run replaces
//! what its test file said before; the faces apply it to reports with [`super::Engine::attribute`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::evidence::{Exercise, TestResult};

/// A function (its file and qualified name) and a test that ran it.
type Ran = (PathBuf, String, Exercise);

#[derive(Default)]
pub(super) struct Attribution {
    /// Per test file, what its last run's tests ran.
    by_test_file: Mutex<HashMap<PathBuf, Vec<Ran>>>,
}

impl Attribution {
    /// What one run of `test_file` (shown to the user as `shown`) recorded; `absolute` turns a
    /// file as the sandbox named it into its path.
    pub(super) fn record(
        &self,
        test_file: &Path,
        shown: &str,
        tests: &[TestResult],
        absolute: &dyn Fn(&str) -> PathBuf,
    ) {
        let mut entries = Vec::new();
        for test in tests {
            let exercise = Exercise {
                test: test.name.clone(),
                file: shown.to_string(),
                line: test.line,
                outcome: test.outcome,
                summary: crate::judge::first_error_line(&test.report),
            };
            for (file, qualified) in &test.exercised {
                let file = canonical(&absolute(file));
                if file != test_file {
                    entries.push((file, qualified.clone(), exercise.clone()));
                }
            }
        }
        lock(&self.by_test_file).insert(test_file.to_path_buf(), entries);
    }

    /// The tests that ran `qualified` in `file`, across every test file run so far.
    pub(super) fn of(&self, file: &Path, qualified: &str) -> Vec<Exercise> {
        let file = canonical(file);
        let map = lock(&self.by_test_file);
        let mut keys: Vec<&PathBuf> = map.keys().collect();
        keys.sort();
        keys.iter()
            .flat_map(|k| &map[*k])
            .filter(|(f, q, _)| *f == file && q == qualified)
            .map(|(_, _, e)| e.clone())
            .collect()
    }

    /// The files whose functions the last run of `test_file` exercised.
    pub(super) fn exercised_by(&self, test_file: &Path) -> Vec<PathBuf> {
        let map = lock(&self.by_test_file);
        let mut files: Vec<PathBuf> = map.get(test_file).into_iter().flatten().map(|(f, _, _)| f.clone()).collect();
        files.sort();
        files.dedup();
        files
    }
}

pub(super) fn canonical(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
