//! Writing off the hot path: a bounded queue to one writer thread that commits in batches.
//! Submitting never blocks: a full queue drops the record and counts it; a failing disk is
//! counted and its error kept, and writing resumes when the disk recovers (the batch that failed
//! is retried with the next one, up to a bound).

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::{ExecutionRecord, LabelRecord, Store};

const QUEUE: usize = 4096;
const BATCH: usize = 256;
/// Records kept for retry while the disk fails.
const RETRY_LIMIT: usize = 4096;

enum Item {
    Execution(Box<ExecutionRecord>),
    Label(LabelRecord),
    Flush(mpsc::Sender<()>),
}

#[derive(Debug, Default)]
struct Counters {
    written: AtomicU64,
    dropped_full: AtomicU64,
    failed: AtomicU64,
    last_error: Mutex<Option<String>>,
}

/// What the writer has done so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriterStats {
    pub written: u64,
    /// Dropped because the queue was full.
    pub dropped_full: u64,
    /// Write attempts that failed (disk full, read-only, ...).
    pub failed: u64,
    pub last_error: Option<String>,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer").field("path", &self.path).field("stats", &self.stats()).finish()
    }
}

#[derive(Clone)]
pub struct Writer {
    tx: SyncSender<Item>,
    counters: Arc<Counters>,
    path: PathBuf,
}

impl Writer {
    /// Opens the store (errors here are reported to the caller) and starts the writer thread.
    pub fn start(path: PathBuf) -> anyhow::Result<Writer> {
        let store = Store::open(&path)?;
        let (tx, rx) = mpsc::sync_channel(QUEUE);
        let counters = Arc::new(Counters::default());
        let c = Arc::clone(&counters);
        std::thread::Builder::new().name("plumb-store".into()).spawn(move || run(store, rx, c))?;
        Ok(Writer { tx, counters, path })
    }

    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    fn submit(&self, item: Item) -> bool {
        match self.tx.try_send(item) {
            Ok(()) => true,
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                self.counters.dropped_full.fetch_add(1, Ordering::Relaxed);
                false
            }
        }
    }

    pub fn execution(&self, record: ExecutionRecord) -> bool {
        self.submit(Item::Execution(Box::new(record)))
    }

    pub fn label(&self, record: LabelRecord) -> bool {
        self.submit(Item::Label(record))
    }

    /// Waits until everything submitted before this call was written (or failed).
    pub fn flush(&self, timeout: Duration) -> bool {
        let (tx, rx) = mpsc::channel();
        if self.tx.send(Item::Flush(tx)).is_err() {
            return false;
        }
        rx.recv_timeout(timeout).is_ok()
    }

    pub fn stats(&self) -> WriterStats {
        WriterStats {
            written: self.counters.written.load(Ordering::Relaxed),
            dropped_full: self.counters.dropped_full.load(Ordering::Relaxed),
            failed: self.counters.failed.load(Ordering::Relaxed),
            last_error: self.counters.last_error.lock().unwrap_or_else(|p| p.into_inner()).clone(),
        }
    }
}

fn run(mut store: Store, rx: Receiver<Item>, counters: Arc<Counters>) {
    let mut executions: Vec<ExecutionRecord> = Vec::new();
    let mut labels: Vec<LabelRecord> = Vec::new();
    let mut flushes: Vec<mpsc::Sender<()>> = Vec::new();
    loop {
        // With a batch waiting for the disk to recover, retry every second even if nothing new
        // arrives.
        let pending = !executions.is_empty() || !labels.is_empty();
        let first = if pending {
            match rx.recv_timeout(Duration::from_secs(1)) {
                Ok(item) => Some(item),
                Err(mpsc::RecvTimeoutError::Timeout) => None,
                Err(mpsc::RecvTimeoutError::Disconnected) => return,
            }
        } else {
            match rx.recv() {
                Ok(item) => Some(item),
                Err(_) => return,
            }
        };
        let mut next = first;
        let mut taken = 0;
        while let Some(item) = next {
            match item {
                Item::Execution(e) => executions.push(*e),
                Item::Label(l) => labels.push(l),
                Item::Flush(done) => flushes.push(done),
            }
            taken += 1;
            next = if taken < BATCH { rx.try_recv().ok() } else { None };
        }
        if !executions.is_empty() || !labels.is_empty() {
            match store.write(&executions, &labels) {
                Ok(ids) => {
                    counters.written.fetch_add(ids.len() as u64, Ordering::Relaxed);
                    executions.clear();
                    labels.clear();
                    *counters.last_error.lock().unwrap_or_else(|p| p.into_inner()) = None;
                }
                Err(e) => {
                    counters.failed.fetch_add(1, Ordering::Relaxed);
                    *counters.last_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(format!("{e:#}"));
                    if executions.len() + labels.len() > RETRY_LIMIT {
                        let lost = (executions.len() + labels.len()) as u64;
                        counters.dropped_full.fetch_add(lost, Ordering::Relaxed);
                        executions.clear();
                        labels.clear();
                    }
                }
            }
        }
        for done in flushes.drain(..) {
            let _ = done.send(());
        }
    }
}
