//! The analysis actor: one thread that owns scheduling. Handlers send it messages and return at
//! once; it debounces edits per document, runs the pipeline on worker threads (cancelling a run
//! whose document changed or closed), and hands results to the async publisher.

use std::collections::{HashMap, HashSet};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use tokio::sync::mpsc::UnboundedSender;
use tower_lsp_server::ls_types::{Diagnostic, MessageType, Uri};

use super::session::Shared;
use super::to_proto;
use crate::pipeline::{self, Cache, Document, FileResult, MAX_FILE_BYTES};
use crate::sandbox::{Cancel, Sandbox, runtime};

pub(super) enum Msg {
    Changed(Uri),
    /// Saved: the model is asked on save (`modelMode: save`).
    Saved(Uri),
    Closed(Uri),
    /// Forget cached verdicts and check again: one document, or all.
    Recheck(Option<Uri>),
    /// Settings changed: check every open document again.
    Config,
    Done {
        uri: Uri,
        version: i32,
        run: u64,
        result: Arc<FileResult>,
        cancelled: bool,
    },
    Stop,
}

/// What the async side does for the actor.
pub(super) enum Out {
    Publish { uri: Uri, version: Option<i32>, diagnostics: Vec<Diagnostic> },
    Started { uri: Uri, run: u64 },
    Finished { uri: Uri, run: u64 },
    Message(MessageType, String),
}

#[derive(Clone)]
pub(super) struct Handle(mpsc::Sender<Msg>);

impl Handle {
    pub(super) fn send(&self, msg: Msg) {
        // The actor lives as long as the server; a send after it stopped has nothing left to do.
        let _ = self.0.send(msg);
    }
}

type Loaded = Arc<OnceLock<Result<Arc<Sandbox>, String>>>;

pub(super) fn start(shared: Shared, out: UnboundedSender<Out>) -> Handle {
    let (tx, rx) = mpsc::channel();
    let handle = Handle(tx.clone());
    std::thread::Builder::new()
        .name("plumb-actor".into())
        .spawn(move || {
            Actor {
                shared,
                out,
                tx,
                cache: Arc::new(Cache::default()),
                sandbox: Arc::default(),
                next_run: 0,
                store_failed: false,
                store_trouble: 0,
                unsent: Vec::new(),
                model: None,
                ask_model: HashSet::new(),
            }
            .run(rx)
        })
        .expect("spawning the analysis actor");
    handle
}

struct Actor {
    shared: Shared,
    out: UnboundedSender<Out>,
    tx: mpsc::Sender<Msg>,
    cache: Arc<Cache>,
    sandbox: Loaded,
    next_run: u64,
    store_failed: bool,
    store_trouble: u64,
    /// Records waiting for the store to open.
    unsent: Vec<crate::store::ExecutionRecord>,
    /// The configured model, kept while its configuration stays the same.
    model: Option<(String, Arc<pipeline::ModelEvidence>)>,
    /// Documents whose next run asks the model (saved, or idle).
    ask_model: HashSet<Uri>,
}

/// Records kept while the store cannot be opened.
const UNSENT_LIMIT: usize = 4096;

struct Running {
    run: u64,
    cancel: Cancel,
}

impl Actor {
    fn run(mut self, rx: mpsc::Receiver<Msg>) {
        let mut due: HashMap<Uri, Instant> = HashMap::new();
        let mut running: HashMap<Uri, Running> = HashMap::new();
        // When documents fall idle (`modelMode: idle`), and which next runs ask the model.
        let mut idle_due: HashMap<Uri, Instant> = HashMap::new();
        loop {
            let now = Instant::now();
            let mut wait = due
                .values()
                .chain(idle_due.values())
                .min()
                .map(|t| t.saturating_duration_since(now))
                .unwrap_or(Duration::from_secs(3600));
            // While a store is open (or records wait for one), look at it once a second.
            if !self.unsent.is_empty() || self.shared.lock().writer.is_some() {
                wait = wait.min(Duration::from_secs(1));
            }
            let msg = match rx.recv_timeout(wait) {
                Ok(m) => Some(m),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => return,
            };
            self.send_unsent();
            self.check_store();
            let (debounce, idle, on_save) = {
                let session = self.shared.lock();
                (session.config.debounce(), session.config.idle(), session.config.asks_on_save())
            };
            let now = Instant::now();
            let fell_idle: Vec<Uri> = idle_due.iter().filter(|(_, t)| **t <= now).map(|(u, _)| u.clone()).collect();
            for uri in fell_idle {
                idle_due.remove(&uri);
                self.ask_model.insert(uri.clone());
                due.insert(uri, now);
            }
            match msg {
                None => {}
                Some(Msg::Stop) => {
                    for r in running.values() {
                        r.cancel.cancel();
                    }
                    return;
                }
                Some(Msg::Changed(uri)) => {
                    if let Some(r) = running.get(&uri) {
                        r.cancel.cancel();
                    }
                    if let Some(idle) = idle {
                        idle_due.insert(uri.clone(), Instant::now() + idle.max(debounce));
                    }
                    self.ask_model.remove(&uri);
                    due.insert(uri, Instant::now() + debounce);
                }
                Some(Msg::Saved(uri)) if on_save => {
                    self.ask_model.insert(uri.clone());
                    due.insert(uri, Instant::now());
                }
                Some(Msg::Saved(_)) => {}
                Some(Msg::Closed(uri)) => {
                    due.remove(&uri);
                    idle_due.remove(&uri);
                    self.ask_model.remove(&uri);
                    if let Some(r) = running.get(&uri) {
                        r.cancel.cancel();
                    }
                    let _ = self.out.send(Out::Publish { uri, version: None, diagnostics: Vec::new() });
                }
                Some(Msg::Recheck(uri)) => {
                    self.cache.clear();
                    let uris: Vec<Uri> = match uri {
                        Some(u) => vec![u],
                        None => self.shared.lock().docs.keys().cloned().collect(),
                    };
                    for u in uris {
                        due.insert(u, Instant::now());
                    }
                }
                Some(Msg::Config) => {
                    for u in self.shared.lock().docs.keys() {
                        due.insert(u.clone(), Instant::now());
                    }
                }
                Some(Msg::Done { uri, version, run, result, cancelled }) => {
                    if running.get(&uri).is_some_and(|r| r.run == run) {
                        running.remove(&uri);
                    }
                    let _ = self.out.send(Out::Finished { uri: uri.clone(), run });
                    if !cancelled {
                        self.record(&result);
                        self.publish(uri, version, result);
                    }
                }
            }
            let now = Instant::now();
            let ready: Vec<Uri> =
                due.iter().filter(|(u, t)| **t <= now && !running.contains_key(*u)).map(|(u, _)| u.clone()).collect();
            for uri in ready {
                due.remove(&uri);
                if let Some(r) = self.start(uri.clone()) {
                    running.insert(uri, r);
                }
            }
        }
    }

    fn settings(&mut self, config: &super::session::Config, ask_model: bool) -> pipeline::Settings {
        let model = match config.model_key() {
            None => None,
            Some(key) => match &self.model {
                Some((k, m)) if *k == key => Some(Arc::clone(m)),
                _ => match config.model_evidence() {
                    Ok(m) => {
                        let m = m.map(Arc::new);
                        self.model = m.clone().map(|m| (key, m));
                        m
                    }
                    Err(e) => {
                        let _ =
                            self.out.send(Out::Message(MessageType::WARNING, format!("plumb: no model evidence: {e}")));
                        None
                    }
                },
            },
        };
        let mut settings = config.settings(model);
        settings.ask_model = ask_model;
        settings
    }

    /// Hands the check's execution records to the store's writer (opened on first use), off the
    /// diagnostic path: a full queue or a failing disk is reported, never waited for. Records
    /// that could not be handed over (the store would not open) wait, bounded, for a retry.
    fn record(&mut self, result: &FileResult) {
        {
            let mut s = self.shared.lock();
            for r in &result.records {
                s.executions.insert(r.function_key.clone(), r.id.clone());
            }
            if s.config.store_path().is_none() {
                return;
            }
        }
        self.unsent.extend(result.records.iter().cloned());
        if self.unsent.len() > UNSENT_LIMIT {
            let excess = self.unsent.len() - UNSENT_LIMIT;
            self.unsent.drain(..excess);
        }
        self.send_unsent();
    }

    fn send_unsent(&mut self) {
        if self.unsent.is_empty() {
            return;
        }
        let (path, writer) = {
            let mut s = self.shared.lock();
            let Some(path) = s.config.store_path() else {
                self.unsent.clear();
                return;
            };
            if s.writer.as_ref().is_some_and(|w| w.path() != path) {
                s.writer = None;
            }
            (path, s.writer.clone())
        };
        let writer = match writer {
            Some(w) => w,
            None => match crate::store::Writer::start(path) {
                Ok(w) => {
                    self.shared.lock().writer = Some(w.clone());
                    w
                }
                Err(e) => {
                    if !self.store_failed {
                        self.store_failed = true;
                        let _ = self.out.send(Out::Message(
                            MessageType::WARNING,
                            format!("plumb: training data is not being recorded (will retry): {e:#}"),
                        ));
                    }
                    return;
                }
            },
        };
        self.store_failed = false;
        for r in self.unsent.drain(..) {
            writer.execution(r);
        }
    }

    /// Reports new write failures of the store (checked at least once a second while a writer is
    /// open, since writes happen on the writer's own thread).
    fn check_store(&mut self) {
        let Some(writer) = self.shared.lock().writer.clone() else { return };
        let stats = writer.stats();
        let trouble = stats.failed + stats.dropped_full;
        if trouble > self.store_trouble {
            self.store_trouble = trouble;
            let why = stats.last_error.unwrap_or_else(|| "the write queue is full".into());
            let _ = self.out.send(Out::Message(
                MessageType::WARNING,
                format!(
                    "plumb: recording training data failed ({} failed writes, {} dropped); diagnostics are unaffected: {why}",
                    stats.failed, stats.dropped_full
                ),
            ));
        }
    }

    /// Publishes a result if it is still about the document's current text.
    fn publish(&self, uri: Uri, version: i32, result: Arc<FileResult>) {
        let mut session = self.shared.lock();
        let encoding = session.encoding;
        let Some(doc) = session.docs.get_mut(&uri) else { return };
        if doc.version != version {
            return;
        }
        doc.result = Some((version, Arc::clone(&result)));
        let executions = session.executions.clone();
        drop(session);
        let diagnostics = to_proto::diagnostics(&result, encoding, &executions);
        let _ = self.out.send(Out::Publish { uri, version: Some(version), diagnostics });
    }

    fn start(&mut self, uri: Uri) -> Option<Running> {
        let (text, version, config) = {
            let session = self.shared.lock();
            let doc = session.docs.get(&uri)?;
            (doc.text.clone(), doc.version, session.config.clone())
        };
        if !config.enable {
            let _ = self.out.send(Out::Publish { uri, version: Some(version), diagnostics: Vec::new() });
            return None;
        }
        let path = uri.to_file_path().map(|p| p.display().to_string()).unwrap_or_else(|| uri.as_str().to_string());
        let doc = match Document::from_bytes(&path, text.as_bytes()) {
            Ok(doc) => doc,
            Err(e) => {
                let _ = self.out.send(Out::Message(MessageType::WARNING, format!("plumb: {path}: {e}")));
                let _ = self.out.send(Out::Publish { uri, version: Some(version), diagnostics: Vec::new() });
                return None;
            }
        };
        debug_assert!(doc.text.len() as u64 <= MAX_FILE_BYTES);
        self.next_run += 1;
        let run = self.next_run;
        let cancel = Cancel::new();
        let ask_model = self.ask_model.remove(&uri);
        let (tx, cache, sandbox, out, settings) = (
            self.tx.clone(),
            Arc::clone(&self.cache),
            Arc::clone(&self.sandbox),
            self.out.clone(),
            self.settings(&config, ask_model),
        );
        let worker_cancel = cancel.clone();
        let _ = self.out.send(Out::Started { uri: uri.clone(), run });
        let spawned = std::thread::Builder::new().name("plumb-check".into()).spawn(move || {
            let loaded = sandbox.get_or_init(|| {
                runtime::load(&mut |m| {
                    let _ = out.send(Out::Message(MessageType::INFO, format!("plumb: {m}")));
                })
                .map(Arc::new)
                .map_err(|e| format!("{e:#}"))
            });
            let sandbox = match loaded {
                Ok(s) => s,
                Err(e) => {
                    let _ = out.send(Out::Message(
                        MessageType::ERROR,
                        format!("plumb: the sandbox runtime is unavailable: {e}"),
                    ));
                    let empty = pipeline::FileResult {
                        path: doc.path.clone(),
                        line_index: crate::syntax::LineIndex::new(&doc.text),
                        text: doc.text.clone(),
                        functions: Vec::new(),
                        module_issues: Vec::new(),
                        lossy: false,
                        records: Vec::new(),
                        model_error: None,
                        model_time: Duration::ZERO,
                        total_time: Duration::ZERO,
                    };
                    let _ = tx.send(Msg::Done { uri, version, run, result: Arc::new(empty), cancelled: false });
                    return;
                }
            };
            let result = pipeline::check_document_cached(sandbox, &doc, &settings, &worker_cancel, &cache);
            let cancelled = worker_cancel.is_cancelled();
            let _ = tx.send(Msg::Done { uri, version, run, result: Arc::new(result), cancelled });
        });
        match spawned {
            Ok(_) => Some(Running { run, cancel }),
            Err(e) => {
                let _ = self.out.send(Out::Message(MessageType::ERROR, format!("plumb: could not start a check: {e}")));
                None
            }
        }
    }
}
