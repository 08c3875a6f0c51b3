//! Verdicts by function key: a hash of the function's text plus the settings and runtime that
//! produced the verdict, never the file or its version. Ranges are kept relative to the function's
//! start, so a function that moved (an edit above it) reuses its verdict, and undo hits the cache.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::judge::Verdict;
use crate::syntax::{FunctionKey, TextRange};

/// Entries beyond this evict the whole map (a simple bound; hit rates stay high in practice since
/// an editing session touches few functions).
const MAX_ENTRIES: usize = 20_000;

#[derive(Debug, Default)]
pub struct Cache {
    map: Mutex<HashMap<(FunctionKey, String), Verdict>>,
}

fn shift(verdict: &Verdict, from: usize, to: usize) -> Verdict {
    let mut v = verdict.clone();
    for f in &mut v.findings {
        f.range = TextRange::new(f.range.start - from + to, f.range.end - from + to);
    }
    v
}

impl Cache {
    pub fn get(&self, key: &FunctionKey, fingerprint: &str, start: usize) -> Option<Verdict> {
        let map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.get(&(*key, fingerprint.to_string())).map(|v| shift(v, 0, start))
    }

    pub fn put(&self, key: FunctionKey, fingerprint: &str, start: usize, verdict: &Verdict) {
        if verdict.findings.iter().any(|f| f.range.start < start) {
            return;
        }
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert((key, fingerprint.to_string()), shift(verdict, start, 0));
    }

    pub fn clear(&self) {
        self.map.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }

    pub fn len(&self) -> usize {
        self.map.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
