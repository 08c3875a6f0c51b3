//! The engine's side of the training-data store: one writer opened on first use for the configured
//! path, records that could not be handed over kept (bounded) for a retry, and write trouble
//! reported once as it grows. Diagnostics never wait for it.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use crate::store::{ExecutionRecord, LabelRecord, Store, Writer, WriterStats};

/// Records kept while the store cannot be opened.
const UNSENT_LIMIT: usize = 4096;

/// Something a face should tell the user about the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreNotice {
    /// The store could not be opened; records wait and opening is retried.
    Unavailable(String),
    /// Writes failed or were dropped (counts so far, and the latest reason).
    Trouble { failed: u64, dropped: u64, why: String },
}

#[derive(Debug, Default)]
struct Inner {
    path: Option<PathBuf>,
    writer: Option<Writer>,
    unsent: Vec<ExecutionRecord>,
    unavailable: bool,
    trouble: u64,
}

#[derive(Debug, Default)]
pub struct Recorder(Mutex<Inner>);

impl Recorder {
    pub fn new(path: Option<PathBuf>) -> Recorder {
        Recorder(Mutex::new(Inner { path, ..Inner::default() }))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A new path (or none: recording off). An open writer for another path is closed.
    pub fn set_path(&self, path: Option<PathBuf>) {
        let mut inner = self.lock();
        if inner.writer.as_ref().is_some_and(|w| Some(w.path()) != path.as_deref()) {
            inner.writer = None;
        }
        if path.is_none() {
            inner.unsent.clear();
        }
        inner.path = path;
    }

    pub fn path(&self) -> Option<PathBuf> {
        self.lock().path.clone()
    }

    /// Records wait to be written, or a writer is open: call [`Recorder::tick`] now and then.
    pub fn busy(&self) -> bool {
        let inner = self.lock();
        inner.writer.is_some() || !inner.unsent.is_empty()
    }

    /// Hands records to the writer without waiting for them to be written.
    pub fn submit(&self, records: &[ExecutionRecord]) -> Vec<StoreNotice> {
        let mut inner = self.lock();
        if inner.path.is_none() || records.is_empty() {
            return Vec::new();
        }
        inner.unsent.extend(records.iter().cloned());
        if inner.unsent.len() > UNSENT_LIMIT {
            let excess = inner.unsent.len() - UNSENT_LIMIT;
            inner.unsent.drain(..excess);
        }
        send(&mut inner).into_iter().collect()
    }

    /// Retries records waiting for the store, and reports write failures that are new.
    pub fn tick(&self) -> Vec<StoreNotice> {
        let mut inner = self.lock();
        let mut notices: Vec<StoreNotice> = send(&mut inner).into_iter().collect();
        if let Some(writer) = &inner.writer {
            let stats = writer.stats();
            let trouble = stats.failed + stats.dropped_full;
            if trouble > inner.trouble {
                inner.trouble = trouble;
                notices.push(StoreNotice::Trouble {
                    failed: stats.failed,
                    dropped: stats.dropped_full,
                    why: stats.last_error.unwrap_or_else(|| "the write queue is full".into()),
                });
            }
        }
        notices
    }

    /// Queues a person's label; its id, or why it could not be queued.
    pub fn label(&self, record: LabelRecord) -> Result<String, String> {
        let mut inner = self.lock();
        let writer = writer(&mut inner)?;
        let id = record.id.clone();
        if writer.label(record) { Ok(id) } else { Err("the store's write queue is full".into()) }
    }

    /// The open writer's path and figures.
    pub fn stats(&self) -> Option<(PathBuf, WriterStats)> {
        self.lock().writer.as_ref().map(|w| (w.path().to_path_buf(), w.stats()))
    }

    /// Waits (up to `timeout`) until what was handed over is committed.
    pub fn flush(&self, timeout: Duration) -> bool {
        let writer = self.lock().writer.clone();
        writer.is_none_or(|w| w.flush(timeout))
    }

    /// Writes records now, in one transaction, and returns once they are committed (a batch run's
    /// way: nothing is dropped for a full queue).
    pub fn write_now(&self, records: &[ExecutionRecord]) -> Result<(), String> {
        let Some(path) = self.path() else { return Ok(()) };
        if records.is_empty() {
            return Ok(());
        }
        Store::open(&path)
            .and_then(|mut s| s.write(records, &[]))
            .map(|_| ())
            .map_err(|e| format!("could not record {} executions in {}: {e:#}", records.len(), path.display()))
    }
}

/// The writer for the configured path, opened on first use.
fn writer(inner: &mut Inner) -> Result<Writer, String> {
    if let Some(w) = &inner.writer {
        return Ok(w.clone());
    }
    let Some(path) = inner.path.clone() else { return Err("the training-data store is switched off".into()) };
    let w = Writer::start(path).map_err(|e| format!("the store cannot be opened: {e:#}"))?;
    inner.writer = Some(w.clone());
    Ok(w)
}

/// Hands waiting records to the writer; a notice the first time the store cannot be opened.
fn send(inner: &mut Inner) -> Option<StoreNotice> {
    if inner.unsent.is_empty() {
        return None;
    }
    if inner.path.is_none() {
        inner.unsent.clear();
        return None;
    }
    match writer(inner) {
        Ok(w) => {
            inner.unavailable = false;
            for r in inner.unsent.drain(..) {
                w.execution(r);
            }
            None
        }
        Err(e) if !inner.unavailable => {
            inner.unavailable = true;
            Some(StoreNotice::Unavailable(e))
        }
        Err(_) => None,
    }
}
