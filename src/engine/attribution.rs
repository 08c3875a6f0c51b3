//! Which of the user's tests ran which project functions: from the runs of each test file, as the
//! sandbox's runner recorded the calls (never guessed from names). A run of a whole test file
//! replaces what that file said before, a run of some of its tests replaces what those tests said;
//! the faces apply it to reports with [`super::Engine::attribute`]. Each entry keeps the key of the
//! function's text the test ran, so that an edit to the function shows which tests are stale.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::evidence::{Exercise, TestResult};
use crate::syntax::FunctionKey;

/// A function (its file and qualified name, and the key of its text when the test ran it), the
/// test (its node id) and what the test did.
#[derive(Clone)]
struct Ran {
    file: PathBuf,
    qualified: String,
    key: Option<FunctionKey>,
    nodeid: String,
    exercise: Exercise,
}

#[derive(Default)]
pub(super) struct Attribution {
    /// Per test file, what its tests ran.
    by_test_file: Mutex<HashMap<PathBuf, Vec<Ran>>>,
}

/// The tests of one test file that ran a function as it no longer is.
pub(super) struct Stale {
    pub(super) test_file: PathBuf,
    /// The test file as its runs showed it to the user.
    pub(super) shown: String,
    pub(super) nodeids: Vec<String>,
}

impl Attribution {
    /// What one run of `test_file` (shown to the user as `shown`) recorded; `absolute` turns a
    /// file as the sandbox named it into its path, `key_of` gives the key of a function's text as
    /// the run saw it. With `partial`, only the tests that ran are replaced (a run of some tests).
    pub(super) fn record(
        &self,
        test_file: &Path,
        shown: &str,
        tests: &[TestResult],
        partial: bool,
        absolute: &dyn Fn(&str) -> PathBuf,
        key_of: &mut dyn FnMut(&Path, &str) -> Option<FunctionKey>,
    ) {
        let mut entries = Vec::new();
        for test in tests {
            let exercise = Exercise {
                test: test.name.clone(),
                file: shown.to_string(),
                line: test.line,
                outcome: test.outcome,
                summary: crate::judge::first_error_line(&test.report),
                report: test.report.clone(),
                duration_us: test.duration_us,
            };
            for (file, qualified) in &test.exercised {
                let file = canonical(&absolute(file));
                if file != test_file {
                    let key = key_of(&file, qualified);
                    entries.push(Ran {
                        file,
                        qualified: qualified.clone(),
                        key,
                        nodeid: test.nodeid.clone(),
                        exercise: exercise.clone(),
                    });
                }
            }
        }
        let mut map = lock(&self.by_test_file);
        let slot = map.entry(test_file.to_path_buf()).or_default();
        if partial {
            let ran: std::collections::HashSet<&str> = tests.iter().map(|t| t.nodeid.as_str()).collect();
            slot.retain(|r| !ran.contains(r.nodeid.as_str()));
            slot.extend(entries);
        } else {
            *slot = entries;
        }
    }

    /// The tests that ran `qualified` in `file`, across every test file run so far.
    pub(super) fn of(&self, file: &Path, qualified: &str) -> Vec<Exercise> {
        let file = canonical(file);
        let map = lock(&self.by_test_file);
        let mut keys: Vec<&PathBuf> = map.keys().collect();
        keys.sort();
        keys.iter()
            .flat_map(|k| &map[*k])
            .filter(|r| r.file == file && r.qualified == qualified)
            .map(|r| r.exercise.clone())
            .collect()
    }

    /// The tests, by test file, that ran a function of `file` whose text is no longer what they
    /// ran: `current` gives each function's key now (`None`: the function is gone).
    pub(super) fn stale(&self, file: &Path, current: &dyn Fn(&str) -> Option<FunctionKey>) -> Vec<Stale> {
        let file = canonical(file);
        let map = lock(&self.by_test_file);
        let mut stale: BTreeMap<&PathBuf, (&str, Vec<String>)> = BTreeMap::new();
        for (test_file, entries) in map.iter() {
            for r in entries.iter().filter(|r| r.file == file) {
                if r.key.is_some() && current(&r.qualified) != r.key {
                    stale.entry(test_file).or_insert((&r.exercise.file, Vec::new())).1.push(r.nodeid.clone());
                }
            }
        }
        stale
            .into_iter()
            .map(|(test_file, (shown, mut nodeids))| {
                nodeids.sort();
                nodeids.dedup();
                Stale { test_file: test_file.clone(), shown: shown.to_string(), nodeids }
            })
            .collect()
    }

    /// The files whose functions the last runs of `test_file` exercised.
    pub(super) fn exercised_by(&self, test_file: &Path) -> Vec<PathBuf> {
        let map = lock(&self.by_test_file);
        let mut files: Vec<PathBuf> = map.get(test_file).into_iter().flatten().map(|r| r.file.clone()).collect();
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
