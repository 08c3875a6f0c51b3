//! Verdicts by function key: a hash of the function's text plus the settings and runtime that
//! produced the verdict, never the file or its version. Ranges are kept relative to the function's
//! start, so a function that moved (an edit above it) reuses its verdict, and undo hits the cache.
//! Each verdict keeps the project modules its runs imported (with digests of what they found):
//! the engine uses it only while every one of them still finds the same.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::judge::Verdict;
use crate::sandbox::Import;
use crate::syntax::{Function, FunctionKey, TextRange};

/// Entries beyond this evict the whole map (a simple bound; hit rates stay high in practice since
/// an editing session touches few functions).
const MAX_ENTRIES: usize = 20_000;

/// A verdict and the imports it depends on.
type Entry = (Verdict, Arc<Vec<Import>>);

/// Verdicts kept per function text, for different texts of the modules it imports (so that undoing
/// an edit to an imported module hits the cache too).
const PER_KEY: usize = 4;

/// Docstrings found at run time in one text of a file, and the imports that run made.
pub(super) type Found = (Arc<Vec<Function>>, Arc<Vec<Import>>);

#[derive(Debug, Default)]
pub struct Cache {
    map: Mutex<HashMap<(FunctionKey, String), Vec<Entry>>>,
    /// By the whole file's text (`discover`).
    found: Mutex<HashMap<(FunctionKey, String), Vec<Found>>>,
}

fn shift(verdict: &Verdict, from: usize, to: usize) -> Verdict {
    let mut v = verdict.clone();
    for f in &mut v.findings {
        f.range = TextRange::new(f.range.start - from + to, f.range.end - from + to);
    }
    v
}

impl Cache {
    /// The first verdict, most recent first, whose imports `valid` accepts.
    pub fn get(
        &self,
        key: &FunctionKey,
        fingerprint: &str,
        start: usize,
        valid: &mut dyn FnMut(&[Import]) -> bool,
    ) -> Option<(Verdict, Arc<Vec<Import>>)> {
        let map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        let entries = map.get(&(*key, fingerprint.to_string()))?;
        entries.iter().find(|(_, i)| valid(i)).map(|(v, i)| (shift(v, 0, start), Arc::clone(i)))
    }

    pub fn put(&self, key: FunctionKey, fingerprint: &str, start: usize, verdict: &Verdict, imports: Arc<Vec<Import>>) {
        if verdict.findings.iter().any(|f| f.range.start < start) {
            return;
        }
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        let entries = map.entry((key, fingerprint.to_string())).or_default();
        entries.retain(|(_, i)| *i != imports);
        entries.insert(0, (shift(verdict, start, 0), imports));
        entries.truncate(PER_KEY);
    }

    pub fn clear(&self) {
        self.map.lock().unwrap_or_else(|p| p.into_inner()).clear();
        self.found.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }

    /// What a file's text was found to hold at run time, while its imports still find the same.
    pub(super) fn get_found(
        &self,
        key: &FunctionKey,
        fingerprint: &str,
        valid: &mut dyn FnMut(&[Import]) -> bool,
    ) -> Option<Found> {
        let map = self.found.lock().unwrap_or_else(|p| p.into_inner());
        map.get(&(*key, fingerprint.to_string()))?.iter().find(|(_, i)| valid(i)).cloned()
    }

    pub(super) fn put_found(&self, key: FunctionKey, fingerprint: &str, found: Found) {
        let mut map = self.found.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        let entries = map.entry((key, fingerprint.to_string())).or_default();
        entries.retain(|(_, i)| *i != found.1);
        entries.insert(0, found);
        entries.truncate(PER_KEY);
    }

    pub fn len(&self) -> usize {
        self.map.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
