//! The analysis actor: one thread that owns scheduling. Handlers send it messages and return at
//! once; it debounces edits per document, runs the engine on worker threads (cancelling a run
//! whose document changed or closed), and hands results to the async publisher.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use tokio::sync::mpsc::UnboundedSender;
use tower_lsp_server::ls_types::{Diagnostic, MessageType, Uri};

use super::session::Shared;
use super::to_proto;
use crate::base::Cancel;
use crate::engine::{Document, Engine, Event, FileReport, MAX_FILE_BYTES, StoreNotice};

/// Checks running at once; more documents wait their turn (the sandbox also bounds its runs by
/// its instance pool and memory budget).
const MAX_CHECKS: usize = 4;
/// Background test files start this long after they are found, so that the open documents' own
/// checks (debounced less) go first.
const BACKGROUND_DELAY: Duration = Duration::from_millis(300);

pub(super) enum Msg {
    Changed(Uri),
    /// Saved: the model is asked on save (`modelMode: save`).
    Saved(Uri),
    Closed(Uri),
    /// Forget cached verdicts and check again: one document, or all.
    Recheck(Option<Uri>),
    /// Settings changed: check every open document again.
    Config,
    /// A project's test files, found off the actor's thread (they go to the background).
    ProjectTests(Vec<PathBuf>),
    Done {
        uri: Uri,
        version: i32,
        run: u64,
        result: Arc<FileReport>,
        cancelled: bool,
    },
    Stop,
}

/// What the async side does for the actor.
pub(super) enum Out {
    Publish {
        uri: Uri,
        version: Option<i32>,
        diagnostics: Vec<Diagnostic>,
    },
    Started {
        uri: Uri,
        run: u64,
    },
    Finished {
        uri: Uri,
        run: u64,
    },
    /// What a running check is doing now (shown in its progress, if any).
    Report {
        uri: Uri,
        run: u64,
        message: String,
    },
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

pub(super) fn start(shared: Shared, engine: Arc<Engine>, out: UnboundedSender<Out>) -> Handle {
    let (tx, rx) = mpsc::channel();
    let handle = Handle(tx.clone());
    std::thread::Builder::new()
        .name("plumb-actor".into())
        .spawn(move || {
            let workers = start_workers(Arc::clone(&engine), out.clone(), tx.clone());
            Actor {
                shared,
                engine,
                out,
                workers,
                next_run: 0,
                model_error: None,
                ask_model: HashSet::new(),
                tested_projects: HashSet::new(),
                background: HashMap::new(),
                tx: tx.clone(),
            }
            .run(rx)
        })
        .expect("spawning the analysis actor");
    handle
}

struct Actor {
    shared: Shared,
    engine: Arc<Engine>,
    out: UnboundedSender<Out>,
    /// Jobs for the check workers.
    workers: mpsc::Sender<Job>,
    next_run: u64,
    /// The last model problem shown, so that it is shown once.
    model_error: Option<String>,
    /// Documents whose next run asks the model (saved, or idle).
    ask_model: HashSet<Uri>,
    /// Projects (roots) whose test files have been scheduled to run in the background.
    tested_projects: HashSet<PathBuf>,
    /// Test files that are not open, run from the disk so that their tests' word on the open
    /// documents' functions is there without opening them; one at a time, after open documents.
    background: HashMap<Uri, PathBuf>,
    /// The actor's own inbox, for work it hands to short-lived threads.
    tx: mpsc::Sender<Msg>,
}

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
            // Only what could start now counts: a document whose run is still going (or any
            // document, when every worker is busy) waits for that run's `Done`, not for a clock,
            // so the loop never spins.
            let background_running = self.background_running(&running);
            let startable = |u: &Uri| {
                running.len() < MAX_CHECKS
                    && !running.contains_key(u)
                    && (background_running == 0 || !self.background.contains_key(u))
            };
            let mut wait = due
                .iter()
                .filter(|(u, _)| startable(u))
                .map(|(_, t)| t)
                .chain(idle_due.values())
                .min()
                .map(|t| t.saturating_duration_since(now))
                .unwrap_or(Duration::from_secs(3600));
            // While a store is open (or records wait for one), look at it once a second.
            if self.engine.recorder().busy() {
                wait = wait.min(Duration::from_secs(1));
            }
            let msg = match rx.recv_timeout(wait) {
                Ok(m) => Some(m),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => return,
            };
            let notices = self.engine.recorder().tick();
            self.notify(notices);
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
                    // Documents whose verdicts came through an import of this one are checked
                    // again (their cached verdicts are kept where the import finds the same text).
                    for other in self.dependents(&uri) {
                        if let Some(r) = running.get(&other) {
                            r.cancel.cancel();
                        }
                        due.insert(other, Instant::now() + debounce);
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
                    self.engine.clear_cache();
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
                Some(Msg::ProjectTests(files)) => {
                    for test_file in self.background_tests(files) {
                        due.entry(test_file).or_insert_with(|| Instant::now() + BACKGROUND_DELAY);
                    }
                }
                Some(Msg::Done { uri, version, run, result, cancelled }) => {
                    if running.get(&uri).is_some_and(|r| r.run == run) {
                        running.remove(&uri);
                    }
                    let _ = self.out.send(Out::Finished { uri: uri.clone(), run });
                    // A background test file's run is published only if the file was opened
                    // since (it is then a document like the others); its evidence counts anyway.
                    self.background.remove(&uri);
                    if !cancelled {
                        // The first check in a project looks for its test files (off this thread).
                        self.find_project_tests(&result);
                        // A test file's run says which functions its tests ran: their open
                        // documents are published again with that evidence (cached verdicts).
                        for other in self.exercised(&result) {
                            if other != uri && !running.contains_key(&other) {
                                due.insert(other, Instant::now());
                            }
                        }
                        self.record(&result);
                        self.publish(uri, version, result);
                    }
                }
            }
            let now = Instant::now();
            let mut ready: Vec<(Instant, Uri)> = due
                .iter()
                .filter(|(u, t)| **t <= now && !running.contains_key(*u))
                .map(|(u, t)| (*t, u.clone()))
                .collect();
            // Oldest first (open documents before background test files); the rest stay due
            // until a worker is free.
            ready.sort_by_key(|(t, u)| (self.background.contains_key(u), *t));
            let mut background_running = self.background_running(&running);
            for (_, uri) in ready {
                if running.len() >= MAX_CHECKS {
                    break;
                }
                if self.background.contains_key(&uri) {
                    if background_running > 0 {
                        continue;
                    }
                    background_running += 1;
                }
                due.remove(&uri);
                if let Some(r) = self.start(uri.clone()) {
                    running.insert(uri, r);
                }
            }
        }
    }

    /// Open documents whose last result depends on `uri`'s file through an import.
    fn dependents(&self, uri: &Uri) -> Vec<Uri> {
        let Some(path) = uri.to_file_path() else { return Vec::new() };
        let path = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        let session = self.shared.lock();
        session
            .docs
            .iter()
            .filter(|(u, d)| *u != uri && d.result.as_ref().is_some_and(|(_, r)| r.depends_on.contains(&path)))
            .map(|(u, _)| u.clone())
            .collect()
    }

    /// The first time a document of a project is checked, its test files are looked for on a
    /// thread of their own (a walk of the project's tree), which answers with `ProjectTests`.
    fn find_project_tests(&mut self, result: &FileReport) {
        let Some(file) = result.file.as_deref().filter(|_| !result.test_file) else { return };
        let Some(root) = self.engine.project_root(file) else { return };
        if !self.tested_projects.insert(root.clone()) {
            return;
        }
        let (engine, tx) = (Arc::clone(&self.engine), self.tx.clone());
        let spawned = std::thread::Builder::new()
            .name("plumb-find-tests".into())
            .spawn(move || drop(tx.send(Msg::ProjectTests(engine.project_tests(&root)))));
        if let Err(e) = spawned {
            let _ = self.out.send(Out::Message(MessageType::WARNING, format!("plumb: tests not looked for: {e}")));
        }
    }

    /// How many background test files are running (at most one is).
    fn background_running(&self, running: &HashMap<Uri, Running>) -> usize {
        running.keys().filter(|u| self.background.contains_key(*u)).count()
    }

    /// Of a project's test files, those that are not open, to run in the background (the open
    /// ones run as documents).
    fn background_tests(&mut self, files: Vec<PathBuf>) -> Vec<Uri> {
        let open: HashSet<Uri> = self.shared.lock().docs.keys().cloned().collect();
        let mut uris = Vec::new();
        for path in files {
            let Some(uri) = Uri::from_file_path(&path) else { continue };
            if !open.contains(&uri) {
                self.background.insert(uri.clone(), path);
                uris.push(uri);
            }
        }
        uris
    }

    /// Open documents with functions that the tests of this (test file's) report ran.
    fn exercised(&self, result: &FileReport) -> Vec<Uri> {
        let Some(file) = result.file.as_deref().filter(|_| result.test_file) else { return Vec::new() };
        let files = self.engine.exercised_by(file);
        if files.is_empty() {
            return Vec::new();
        }
        let session = self.shared.lock();
        session
            .docs
            .keys()
            .filter(|u| {
                u.to_file_path().is_some_and(|p| files.contains(&p.canonicalize().unwrap_or_else(|_| p.to_path_buf())))
            })
            .cloned()
            .collect()
    }

    /// Hands the check's execution records to the engine's recorder, off the diagnostic path: a
    /// full queue or a failing disk is reported, never waited for.
    fn record(&mut self, result: &FileReport) {
        {
            let mut s = self.shared.lock();
            for r in &result.records {
                s.executions.insert(r.function_key.clone(), r.id.clone());
            }
        }
        let notices = self.engine.recorder().submit(&result.records);
        self.notify(notices);
        if let Some(why) = &result.degraded {
            let _ = self.out.send(Out::Message(MessageType::WARNING, format!("plumb: {}: {why}", result.path)));
        }
        if let Some(e) = &result.model_error
            && self.model_error.as_ref() != Some(e)
        {
            self.model_error = Some(e.clone());
            let _ = self.out.send(Out::Message(MessageType::WARNING, format!("plumb: no model evidence: {e}")));
        }
    }

    fn notify(&self, notices: Vec<StoreNotice>) {
        for notice in notices {
            let text = match notice {
                StoreNotice::Unavailable(e) => format!("plumb: training data is not being recorded (will retry): {e}"),
                StoreNotice::Trouble { failed, dropped, why } => format!(
                    "plumb: recording training data failed ({failed} failed writes, {dropped} dropped); diagnostics are unaffected: {why}"
                ),
            };
            let _ = self.out.send(Out::Message(MessageType::WARNING, text));
        }
    }

    /// Publishes a result if it is still about the document's current text.
    fn publish(&self, uri: Uri, version: i32, result: Arc<FileReport>) {
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

    /// The text of every other open document, by file: what imports see instead of the disk.
    fn buffers(&self, except: &Uri) -> Arc<HashMap<PathBuf, String>> {
        let session = self.shared.lock();
        let map = session
            .docs
            .iter()
            .filter(|(u, _)| *u != except)
            .filter_map(|(u, d)| {
                let path = u.to_file_path()?;
                let path = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
                Some((path, d.text.clone()))
            })
            .collect();
        Arc::new(map)
    }

    fn start(&mut self, uri: Uri) -> Option<Running> {
        let (text, version, config) = {
            let session = self.shared.lock();
            match (session.docs.get(&uri), self.background.get(&uri)) {
                (Some(doc), _) => {
                    // Opened since it was found: a document like the others now.
                    self.background.remove(&uri);
                    (doc.text.clone(), doc.version, session.config.clone())
                }
                // Never published while it is not open (no version of the client's); a file too
                // large to check is left alone, as the CLI leaves it.
                (None, Some(path)) => match std::fs::metadata(path)
                    .ok()
                    .filter(|m| m.len() <= MAX_FILE_BYTES)
                    .and_then(|_| std::fs::read(path).ok())
                {
                    Some(bytes) if session.config.enable => {
                        (String::from_utf8_lossy(&bytes).into_owned(), NOT_OPEN, session.config.clone())
                    }
                    _ => {
                        drop(session);
                        self.background.remove(&uri);
                        return None;
                    }
                },
                (None, None) => return None,
            }
        };
        if !config.enable {
            let _ = self.out.send(Out::Publish { uri, version: Some(version), diagnostics: Vec::new() });
            return None;
        }
        let file = uri.to_file_path().map(|p| p.to_path_buf());
        let path = file.as_ref().map(|p| p.display().to_string()).unwrap_or_else(|| uri.as_str().to_string());
        let doc = match Document::from_bytes(&path, text.as_bytes()) {
            Ok(doc) => match &file {
                Some(file) => doc.at(file, self.buffers(&uri)),
                None => doc,
            },
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
        let _ = self.out.send(Out::Started { uri: uri.clone(), run });
        let job = Job { uri, version, run, doc, ask_model, cancel: cancel.clone() };
        match self.workers.send(job) {
            Ok(()) => Some(Running { run, cancel }),
            Err(_) => {
                let _ = self.out.send(Out::Message(MessageType::ERROR, "plumb: the check workers stopped".into()));
                None
            }
        }
    }
}

/// The version of a background test file's run (never a client's: such results are not published).
const NOT_OPEN: i32 = i32::MIN;

/// A check for a worker.
struct Job {
    uri: Uri,
    version: i32,
    run: u64,
    doc: Document,
    ask_model: bool,
    cancel: Cancel,
}

/// Starts the [`MAX_CHECKS`] worker threads that run checks (the actor hands out no more jobs
/// than there are workers, so none waits in the queue for long).
fn start_workers(engine: Arc<Engine>, out: UnboundedSender<Out>, tx: mpsc::Sender<Msg>) -> mpsc::Sender<Job> {
    let (jobs, rx) = mpsc::channel::<Job>();
    let rx = Arc::new(std::sync::Mutex::new(rx));
    for n in 0..MAX_CHECKS {
        let (rx, engine, worker_out, tx) = (Arc::clone(&rx), Arc::clone(&engine), out.clone(), tx.clone());
        let spawned = std::thread::Builder::new().name(format!("plumb-check-{n}")).spawn(move || {
            loop {
                let job = match rx.lock().unwrap_or_else(|p| p.into_inner()).recv() {
                    Ok(job) => job,
                    Err(_) => return,
                };
                let (uri, run) = (job.uri.clone(), job.run);
                let mut events = |e: Event<'_>| {
                    let out = match e {
                        Event::Status(m) => Out::Message(MessageType::INFO, format!("plumb: {m}")),
                        Event::Model { function, index, total } => Out::Report {
                            uri: uri.clone(),
                            run,
                            message: format!("asking the model about `{function}` ({index}/{total})"),
                        },
                        Event::Sandbox => {
                            Out::Report { uri: uri.clone(), run, message: "running in the sandbox".into() }
                        }
                    };
                    let _ = worker_out.send(out);
                };
                let result = match engine.check(&job.doc, job.ask_model, &job.cancel, &mut events) {
                    Ok(mut result) => {
                        // Tests that ran an edited function run again (only those), then every
                        // test's word on each function joins its verdict.
                        engine.refresh_tests(&job.doc, &result, &job.cancel);
                        engine.attribute(&mut result);
                        result
                    }
                    Err(e) => {
                        let _ = worker_out.send(Out::Message(
                            MessageType::ERROR,
                            format!("plumb: the sandbox runtime is unavailable: {e}"),
                        ));
                        FileReport::empty(&job.doc)
                    }
                };
                let cancelled = job.cancel.is_cancelled();
                let done =
                    Msg::Done { uri: job.uri, version: job.version, run: job.run, result: Arc::new(result), cancelled };
                if tx.send(done).is_err() {
                    return;
                }
            }
        });
        if let Err(e) = spawned {
            let _ = out.send(Out::Message(MessageType::ERROR, format!("plumb: could not start a check worker: {e}")));
        }
    }
    jobs
}
