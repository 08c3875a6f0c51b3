//! The server's state: open documents, settings, the negotiated position encoding. Changed only
//! synchronously by notification handlers (never across an `.await`), read by the actor through
//! short-lived locks.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde::Deserialize;
use tower_lsp_server::ls_types::{Position, TextDocumentContentChangeEvent, Uri};

use crate::pipeline::{FileResult, Settings};
use crate::syntax::{self, LineIndex, PositionEncoding};

/// User settings (`workspace/configuration` section `plumb`, or initialization options).
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
    /// When the model is asked: `off`, `save` (on save) or `idle` (after `idleMs` without edits).
    pub(super) model_mode: String,
    /// The in-process model: `default` (SmolLM2-135M-Instruct, fetched on first use), `off`, or a
    /// GGUF / safetensors path. Ignored when `modelUrl` is set.
    pub(super) local_model: String,
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
            store: true,
            store_path: None,
            model_url: None,
            model: None,
            model_chat: false,
            model_samples: 4,
            model_mode: "save".into(),
            local_model: std::env::var("PLUMB_MODEL")
                .ok()
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| "default".into()),
            model_threads: 0,
            idle_ms: 1500,
        }
    }
}

impl Config {
    /// Check settings; `model` is the test-writing model, reused across checks (see
    /// [`Config::model_key`]) so that its HTTP connections are too.
    pub(super) fn settings(&self, model: Option<std::sync::Arc<crate::pipeline::ModelEvidence>>) -> Settings {
        let mut s = Settings::default();
        s.limits.case_deadline = Duration::from_millis(self.timeout_ms.clamp(10, 60_000));
        s.limits.memory_bytes = (self.memory_mb.clamp(32, 1024) as usize) << 20;
        s.model = model;
        s
    }

    /// What identifies the configured model, if one is configured.
    pub(super) fn model_key(&self) -> Option<String> {
        if self.model_mode == "off" {
            return None;
        }
        match self.model_url.as_ref().filter(|u| !u.is_empty()) {
            Some(url) => Some(format!(
                "{url}\0{}\0{}\0{}",
                self.model.as_deref().unwrap_or(""),
                self.model_chat,
                self.model_samples
            )),
            None if matches!(self.local_model.as_str(), "off" | "none" | "") => None,
            None => Some(format!("local\0{}\0{}\0{}", self.local_model, self.model_samples, self.model_threads)),
        }
    }

    /// The configured model; the default local model is fetched by its own thread on first use.
    pub(super) fn model_evidence(&self) -> Result<Option<crate::pipeline::ModelEvidence>, String> {
        self.model_key().ok_or(()).map_or(Ok(None), |_| match self.model_url.as_ref().filter(|u| !u.is_empty()) {
            Some(url) => {
                let name = self.model.clone().unwrap_or_default();
                Ok(Some(crate::pipeline::ModelEvidence::remote(
                    url,
                    &name,
                    self.model_chat,
                    self.model_samples.clamp(1, 16),
                )))
            }
            None => crate::pipeline::ModelEvidence::local_choice_lazy(
                &self.local_model,
                self.model_samples.clamp(1, 16),
                self.model_threads,
            ),
        })
    }

    /// Quiet time after an edit before the model is asked (`idle` mode).
    pub(super) fn idle(&self) -> Option<Duration> {
        (self.model_mode == "idle" && self.model_key().is_some())
            .then(|| Duration::from_millis(self.idle_ms.clamp(200, 60_000)))
    }

    pub(super) fn asks_on_save(&self) -> bool {
        self.model_mode == "save" && self.model_key().is_some()
    }

    pub(super) fn store_path(&self) -> Option<std::path::PathBuf> {
        if !self.store {
            return None;
        }
        match &self.store_path {
            Some(p) if !p.is_empty() => Some(p.into()),
            _ => crate::store::default_path(),
        }
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
    pub(super) result: Option<(i32, Arc<FileResult>)>,
}

#[derive(Debug, Default)]
pub(super) struct Session {
    pub(super) docs: HashMap<Uri, Doc>,
    pub(super) config: Config,
    pub(super) encoding: PositionEncoding,
    pub(super) supports_progress: bool,
    pub(super) supports_configuration: bool,
    pub(super) shutdown_requested: bool,
    /// The training-data writer, opened on first use for the configured path.
    pub(super) writer: Option<crate::store::Writer>,
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
