//! The async side of the actor: publishes diagnostics, shows messages, and reports work-done
//! progress for checks that last longer than `PROGRESS_AFTER`. Its loop never waits for the
//! client: asking for a progress token runs in its own task, with a timeout; a client that lets
//! one request time out is not asked again.

use std::collections::HashMap;
use std::time::Duration;

use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};
use tower_lsp_server::ls_types::{NumberOrString, ProgressToken, Uri};
use tower_lsp_server::{Client, OngoingProgress};

use super::actor::Out;
use super::server::CLIENT_TIMEOUT;
use super::session::Shared;

const PROGRESS_AFTER: Duration = Duration::from_millis(500);

pub(super) async fn run(client: Client, shared: Shared, tx: UnboundedSender<Out>, mut rx: UnboundedReceiver<Out>) {
    let mut in_flight: HashMap<Uri, u64> = HashMap::new();
    let mut shown: HashMap<Uri, (u64, OngoingProgress<tower_lsp_server::Bounded, tower_lsp_server::NotCancellable>)> =
        HashMap::new();
    let (due_tx, mut due_rx) = tokio::sync::mpsc::unbounded_channel::<(Uri, u64)>();
    // A token the client accepted (`Some`), or a client that did not answer (`None`).
    let (created_tx, mut created_rx) = tokio::sync::mpsc::unbounded_channel::<Option<(Uri, u64, ProgressToken)>>();
    let mut progress_off = false;
    let _keep = tx;
    loop {
        tokio::select! {
            msg = rx.recv() => {
                let Some(msg) = msg else { return };
                match msg {
                    Out::Publish { uri, version, diagnostics } => client.publish_diagnostics(uri, diagnostics, version).await,
                    Out::Message(typ, text) => client.show_message(typ, text).await,
                    Out::Started { uri, run } => {
                        in_flight.insert(uri.clone(), run);
                        let due = due_tx.clone();
                        tokio::spawn(async move {
                            tokio::time::sleep(PROGRESS_AFTER).await;
                            let _ = due.send((uri, run));
                        });
                    }
                    Out::Report { uri, run, message } => {
                        if let Some((r, progress)) = shown.get(&uri)
                            && *r == run
                        {
                            progress.report_with_message(message, 50).await;
                        }
                    }
                    Out::Finished { uri, run } => {
                        if in_flight.get(&uri) == Some(&run) {
                            in_flight.remove(&uri);
                        }
                        if shown.get(&uri).is_some_and(|(r, _)| *r == run)
                            && let Some((_, progress)) = shown.remove(&uri)
                        {
                            progress.finish().await;
                        }
                    }
                }
            }
            Some((uri, run)) = due_rx.recv() => {
                if in_flight.get(&uri) != Some(&run) || progress_off || !shared.lock().supports_progress {
                    continue;
                }
                let token = ProgressToken::from(NumberOrString::String(format!("plumb/check/{run}")));
                let (client, created) = (client.clone(), created_tx.clone());
                tokio::spawn(async move {
                    let answer = tokio::time::timeout(CLIENT_TIMEOUT, client.create_work_done_progress(token.clone())).await;
                    let _ = match answer {
                        Ok(Ok(())) => created.send(Some((uri, run, token))),
                        Ok(Err(_)) => Ok(()),
                        Err(_) => created.send(None),
                    };
                });
            }
            Some(created) = created_rx.recv() => {
                let Some((uri, run, token)) = created else {
                    progress_off = true;
                    continue;
                };
                // The check may have finished while the client answered: the token goes unused.
                if in_flight.get(&uri) != Some(&run) {
                    continue;
                }
                let name = uri.path().as_str().rsplit('/').next().unwrap_or("").to_string();
                let progress = client
                    .progress(token, "plumb")
                    .with_message(format!("checking {name}"))
                    .with_percentage(0)
                    .begin()
                    .await;
                shown.insert(uri, (run, progress));
            }
        }
    }
}
