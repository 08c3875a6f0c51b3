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
        let stdin = framing::FrameGuard::new(tokio::io::stdin(), MAX_MESSAGE_BYTES);
        let stdout = tokio::io::stdout();
        let (service, socket) = LspService::build(move |client| server::Backend::new(client, state))
            .custom_method(framing::INVALID_MESSAGE, server::Backend::invalid_message)
            .finish();
        Server::new(stdin, stdout, socket).serve(service).await;
        shared.lock().shutdown_requested
    });
    // Worker threads may still be finishing a sandbox run: do not wait for them.
    runtime.shutdown_background();
    if clean { ExitCode::SUCCESS } else { ExitCode::from(1) }
}
