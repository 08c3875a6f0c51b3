//! A progress line on stderr while `plumb check` works: files done of all, the file and what is
//! happening in it (asking the model about a function, running the sandbox), and the time so far.
//! Only on a terminal and without `--quiet`; otherwise nothing is drawn.

use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::engine::Event;

struct State {
    files: usize,
    done: usize,
    /// What the latest event said, per file being checked.
    doing: Vec<(String, String)>,
    started: Instant,
    finished: bool,
}

#[derive(Clone)]
pub(super) struct Progress(Option<Arc<Mutex<State>>>);

impl Progress {
    /// A progress line for `files` files, drawn only when stderr is a terminal and `quiet` is off.
    pub(super) fn new(files: usize, quiet: bool) -> Progress {
        if quiet || !std::io::stderr().is_terminal() {
            return Progress(None);
        }
        let state =
            Arc::new(Mutex::new(State { files, done: 0, doing: Vec::new(), started: Instant::now(), finished: false }));
        let ticking = Arc::clone(&state);
        // Redraws now and then so that the time moves while the model thinks.
        std::thread::spawn(move || {
            loop {
                std::thread::sleep(Duration::from_millis(250));
                let s = ticking.lock().unwrap_or_else(|p| p.into_inner());
                if s.finished {
                    return;
                }
                draw(&s);
            }
        });
        Progress(Some(state))
    }

    fn with(&self, f: impl FnOnce(&mut State)) {
        if let Some(state) = &self.0 {
            let mut s = state.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut s);
            if !s.finished {
                draw(&s);
            }
        }
    }

    /// What the engine reports while checking `path`.
    pub(super) fn event(&self, path: &str, event: Event<'_>) {
        let what = match event {
            Event::Status(m) => {
                self.line(m);
                return;
            }
            Event::Model { function, index, total } => format!("asking the model about `{function}` ({index}/{total})"),
            Event::Sandbox => "running in the sandbox".to_string(),
        };
        self.with(|s| match s.doing.iter_mut().find(|(p, _)| p == path) {
            Some(entry) => entry.1 = what,
            None => s.doing.push((path.to_string(), what)),
        });
    }

    /// A file is done.
    pub(super) fn done(&self, path: &str) {
        self.with(|s| {
            s.done += 1;
            s.doing.retain(|(p, _)| p != path);
        });
    }

    /// A message line (status), printed above the progress line.
    pub(super) fn line(&self, message: &str) {
        match &self.0 {
            Some(state) => {
                let s = state.lock().unwrap_or_else(|p| p.into_inner());
                let mut err = std::io::stderr().lock();
                let _ = write!(err, "\r\x1b[2Kplumb: {message}\n");
                drop(err);
                draw(&s);
            }
            None => {
                let _ = writeln!(std::io::stderr().lock(), "plumb: {message}");
            }
        }
    }

    /// Clears the line for good.
    pub(super) fn finish(&self) {
        if let Some(state) = &self.0 {
            let mut s = state.lock().unwrap_or_else(|p| p.into_inner());
            s.finished = true;
            let _ = write!(std::io::stderr().lock(), "\r\x1b[2K");
        }
    }
}

fn draw(s: &State) {
    let doing = match s.doing.first() {
        Some((path, what)) => format!(" {path}: {what}"),
        None => String::new(),
    };
    let line = format!("plumb: [{}/{}]{doing} · {:.1} s", s.done, s.files, s.started.elapsed().as_secs_f64());
    // One terminal line: cut, never wrapped.
    let line: String = line.chars().take(160).collect();
    let _ = write!(std::io::stderr().lock(), "\r\x1b[2K{line}");
}
