//! `plumb lsp`: the language server, the only module that knows LSP types and tower-lsp-server.
//! A second face of the `engine`: handlers update the session and hand work to one actor (`actor`),
//! which runs checks on worker threads and publishes through `publisher`.

mod actions;
mod actor;
mod framing;
mod publisher;
mod server;
mod session;
mod to_proto;

use std::process::ExitCode;

use tower_lsp_server::{LspService, Server};

pub use framing::MAX_MESSAGE_BYTES;

/// How long after `exit` the server lets its last answers go out before it ends regardless.
const EXIT_GRACE: std::time::Duration = std::time::Duration::from_millis(300);

/// Serves LSP on stdin/stdout until `exit`. Exit code 0 when `shutdown` came first, else 1 (as the
/// specification asks).
pub fn run_stdio() -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            // No printing outside cli: stderr through the io layer is the server's log channel.
            let _ = std::io::Write::write_all(&mut std::io::stderr(), format!("plumb lsp: {e}\n").as_bytes());
            return ExitCode::from(2);
        }
    };
    let shared = session::Shared::default();
    let state = shared.clone();
    let clean = runtime.block_on(async move {
        let exit = std::sync::Arc::new(tokio::sync::Notify::new());
        let stdin = framing::FrameGuard::new(tokio::io::stdin(), MAX_MESSAGE_BYTES, exit.clone());
        let stdout = tokio::io::stdout();
        let (service, socket) = LspService::build(move |client| server::Backend::new(client, state))
            .custom_method(framing::INVALID_MESSAGE, server::Backend::invalid_message)
            .finish();
        // `serve` returns only when no handler is left running; one still waiting for the client
        // (which may never answer) must not keep the process alive after `exit`.
        tokio::select! {
            () = Server::new(stdin, stdout, socket).serve(service) => {}
            () = async {
                exit.notified().await;
                tokio::time::sleep(EXIT_GRACE).await;
            } => {}
        }
        shared.lock().shutdown_requested
    });
    // Worker threads may still be finishing a sandbox run: do not wait for them.
    runtime.shutdown_background();
    if clean { ExitCode::SUCCESS } else { ExitCode::from(1) }
}
