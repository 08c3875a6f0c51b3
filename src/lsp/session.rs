//! The server's state: open documents, settings, the negotiated position encoding. Changed only
//! synchronously by notification handlers (never across an `.await`), read by the actor through
//! short-lived locks.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde::Deserialize;
use tower_lsp_server::ls_types::{Position, TextDocumentContentChangeEvent, Uri};

use crate::engine::{FileReport, Options, StoreChoice};
use crate::syntax::{self, LineIndex, PositionEncoding};

/// When the model is asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum ModelMode {
    /// Never: examples only.
    Off,
    /// When the document is saved.
    Save,
    /// After `idleMs` without edits.
    Idle,
}

/// User settings (`workspace/configuration` section `plumb`, or initialization options), as the
/// client sends them; the engine validates them (`engine::Options::settings`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(super) struct Config {
    pub(super) enable: bool,
    /// Quiet time after an edit before a function is re-run.
    pub(super) debounce_ms: u64,
    /// Wall-clock limit per example.
    pub(super) timeout_ms: u64,
    /// Memory limit of the sandboxed interpreter.
    pub(super) memory_mb: u64,
    /// Sandbox memory all running checks may reserve together; more checks wait their turn.
    pub(super) memory_budget_mb: u64,
    /// Record executions and labels in the training-data store.
    pub(super) store: bool,
    /// The store's path (default: $PLUMB_STORE, else ~/.local/share/plumb/store.sqlite3).
    pub(super) store_path: Option<String>,
    /// An OpenAI-compatible server that writes unit tests for each function (off when unset);
    /// its key is read from $PLUMB_MODEL_API_KEY.
    pub(super) model_url: Option<String>,
    pub(super) model: Option<String>,
    pub(super) model_chat: bool,
    pub(super) model_samples: u32,
    pub(super) model_mode: ModelMode,
    /// The in-process model: `default` (SmolLM2-135M-Instruct, fetched on first use), `off`, or a
    /// GGUF / safetensors path; unset: $PLUMB_MODEL, else `default`. Ignored when `modelUrl` is set.
    pub(super) local_model: Option<String>,
    pub(super) model_threads: usize,
    pub(super) idle_ms: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            enable: true,
            debounce_ms: 300,
            timeout_ms: 2000,
            memory_mb: 256,
            memory_budget_mb: 1024,
            store: true,
            store_path: None,
            model_url: None,
            model: None,
            model_chat: false,
            model_samples: 4,
            model_mode: ModelMode::Save,
            local_model: None,
            model_threads: 0,
            idle_ms: 1500,
        }
    }
}

impl Config {
    /// The engine's options for these settings.
    pub(super) fn options(&self) -> Options {
        let store = match (&self.store_path, self.store) {
            (_, false) => StoreChoice::Off,
            (Some(p), true) if !p.is_empty() => StoreChoice::At(p.into()),
            _ => StoreChoice::Default,
        };
        Options {
            timeout_ms: self.timeout_ms,
            memory_mb: self.memory_mb,
            memory_budget_mb: self.memory_budget_mb,
            model_url: self.model_url.clone(),
            model_name: self.model.clone(),
            model_chat: self.model_chat,
            local_model: self.local_model.clone(),
            no_model: self.model_mode == ModelMode::Off,
            model_threads: self.model_threads,
            model_samples: self.model_samples,
            store,
        }
    }

    /// A model is configured (and may be asked).
    fn has_model(&self) -> bool {
        let options = Options { store: StoreChoice::Off, ..self.options() };
        options.settings().model != crate::engine::ModelChoice::Off
    }

    /// Quiet time after an edit before the model is asked (`idle` mode).
    pub(super) fn idle(&self) -> Option<Duration> {
        (self.model_mode == ModelMode::Idle && self.has_model())
            .then(|| Duration::from_millis(self.idle_ms.clamp(200, 60_000)))
    }

    pub(super) fn asks_on_save(&self) -> bool {
        self.model_mode == ModelMode::Save && self.has_model()
    }

    pub(super) fn debounce(&self) -> Duration {
        Duration::from_millis(self.debounce_ms.min(10_000))
    }
}

#[derive(Debug)]
pub(super) struct Doc {
    pub(super) text: String,
    pub(super) version: i32,
    pub(super) index: LineIndex,
    /// The latest analysis of this document, and the version it was made for.
    pub(super) result: Option<(i32, Arc<FileReport>)>,
}

#[derive(Debug, Default)]
pub(super) struct Session {
    pub(super) docs: HashMap<Uri, Doc>,
    pub(super) config: Config,
    pub(super) encoding: PositionEncoding,
    pub(super) supports_progress: bool,
    pub(super) supports_configuration: bool,
    pub(super) shutdown_requested: bool,
    /// The latest execution record of each function (by key), for labels.
    pub(super) executions: HashMap<String, String>,
}

/// The session behind a lock that is never held across an `.await`.
#[derive(Debug, Clone, Default)]
pub(super) struct Shared(Arc<Mutex<Session>>);

impl Shared {
    pub(super) fn lock(&self) -> MutexGuard<'_, Session> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Doc {
    pub(super) fn new(text: String, version: i32) -> Doc {
        Doc { index: LineIndex::new(&text), text, version, result: None }
    }

    /// Applies LSP content changes in order (ranges in the negotiated encoding).
    pub(super) fn apply(
        &mut self,
        changes: Vec<TextDocumentContentChangeEvent>,
        version: i32,
        encoding: PositionEncoding,
    ) {
        for change in changes {
            match change.range {
                None => self.text = change.text,
                Some(range) => {
                    let start = self.offset(range.start, encoding);
                    let end = self.offset(range.end, encoding).max(start);
                    self.text.replace_range(start..end, &change.text);
                }
            }
            self.index = LineIndex::new(&self.text);
        }
        self.version = version;
    }

    pub(super) fn offset(&self, pos: Position, encoding: PositionEncoding) -> usize {
        self.index.offset(&self.text, syntax::Position { line: pos.line, character: pos.character }, encoding)
    }
}
