//! The `LanguageServer` implementation: each handler applies its change to the session
//! synchronously (before any `.await`), hands work to the actor, and returns. A panic inside a
//! handler becomes an `InternalError` answer and the server keeps serving.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};

use futures::FutureExt;
use serde_json::Value;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};
use tower_lsp_server::jsonrpc::{Error, Result};
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer};

use super::actions;
use super::actor::{self, Handle, Msg, Out};
use super::session::{Config, Doc, Shared};
use crate::engine::Engine;
use crate::syntax::PositionEncoding;

pub(super) const RECHECK: &str = "plumb.recheck";
pub(super) const STATUS: &str = "plumb.status";
/// Records a listener label: `[{"execution": id, "kind": finding kind, "label": "right" | "false_alarm"}]`.
pub(super) const LABEL: &str = "plumb.label";
/// Only with `PLUMB_LSP_TEST_HOOKS=1`: panics inside the handler (tests the panic guard).
pub(super) const DEBUG_PANIC: &str = "plumb.debug.panic";
/// Only with `PLUMB_LSP_TEST_HOOKS=1`: a request that takes 30 s (tests `$/cancelRequest`).
pub(super) const DEBUG_SLEEP: &str = "plumb.debug.sleep";

/// How long a code action waits for the test file to be read from disk.
const TEST_FILE_READ: std::time::Duration = std::time::Duration::from_millis(500);

/// How long the server waits for the client to answer one of its requests.
pub(super) const CLIENT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

pub(super) struct Backend {
    client: Client,
    shared: Shared,
    engine: Arc<Engine>,
    actor: Handle,
    out: UnboundedSender<Out>,
    out_rx: Mutex<Option<UnboundedReceiver<Out>>>,
    config: Configurer,
}

/// Applies settings: to the session, to the engine, and tells the actor. Cheap to clone, so a
/// task that waits for the client's configuration can own one.
#[derive(Clone)]
struct Configurer {
    shared: Shared,
    engine: Arc<Engine>,
    actor: Handle,
    out: UnboundedSender<Out>,
}

impl Configurer {
    /// Asks the client for the `plumb` section, waiting at most [`CLIENT_TIMEOUT`]: a client that
    /// never answers keeps the settings it gave before.
    async fn pull(self, client: Client) {
        if !self.shared.lock().supports_configuration {
            return;
        }
        let item = ConfigurationItem { scope_uri: None, section: Some("plumb".into()) };
        if let Ok(Ok(values)) = tokio::time::timeout(CLIENT_TIMEOUT, client.configuration(vec![item])).await
            && let Some(value) = values.into_iter().next()
        {
            self.apply(value);
        }
    }

    fn apply(&self, value: Value) {
        if value.is_null() {
            return;
        }
        match serde_json::from_value::<Config>(value) {
            Ok(config) => {
                let changed = {
                    let mut s = self.shared.lock();
                    let changed = s.config != config;
                    s.config = config.clone();
                    changed
                };
                if changed {
                    self.engine.configure(config.options().settings());
                    self.actor.send(Msg::Config);
                }
            }
            Err(e) => {
                let _ = self.out.send(Out::Message(MessageType::WARNING, format!("plumb: invalid settings: {e}")));
            }
        }
    }
}

impl Backend {
    pub(super) fn new(client: Client, shared: Shared) -> Backend {
        let (out, out_rx) = tokio::sync::mpsc::unbounded_channel();
        let engine = Arc::new(Engine::new(Config::default().options().settings()));
        let actor = actor::start(shared.clone(), Arc::clone(&engine), out.clone());
        let config =
            Configurer { shared: shared.clone(), engine: Arc::clone(&engine), actor: actor.clone(), out: out.clone() };
        Backend { client, shared, engine, actor, out, out_rx: Mutex::new(Some(out_rx)), config }
    }

    /// Answers a message the framing guard dropped (see `framing`) with its JSON-RPC error.
    pub(super) async fn invalid_message(&self, params: Value) -> Result<Value> {
        let code = params["code"].as_i64().unwrap_or(-32700);
        let message = params["message"].as_str().unwrap_or("invalid message").to_string();
        Err(Error { code: code.into(), message: message.into(), data: None })
    }

    fn apply_config(&self, value: Value) {
        self.config.apply(value);
    }
}

fn test_hooks() -> bool {
    std::env::var_os("PLUMB_LSP_TEST_HOOKS").is_some()
}

/// Runs a handler, turning a panic into an `InternalError` answer.
async fn guard<T>(f: impl Future<Output = Result<T>>) -> Result<T> {
    match AssertUnwindSafe(f).catch_unwind().await {
        Ok(r) => r,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            Err(Error { message: format!("plumb: internal error: {what}").into(), ..Error::internal_error() })
        }
    }
}

/// The same for notifications, which have no answer: the panic is reported to the client's log.
async fn guard_notification(client: &Client, f: impl Future<Output = ()>) {
    if let Err(e) = guard(f.map(Ok)).await {
        client.log_message(MessageType::ERROR, e.message).await;
    }
}

impl LanguageServer for Backend {
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        guard(async {
            let offered =
                params.capabilities.general.as_ref().and_then(|g| g.position_encodings.clone()).unwrap_or_default();
            let (encoding, kind) = if offered.contains(&PositionEncodingKind::UTF8) {
                (PositionEncoding::Utf8, PositionEncodingKind::UTF8)
            } else {
                (PositionEncoding::Utf16, PositionEncodingKind::UTF16)
            };
            {
                let mut s = self.shared.lock();
                s.encoding = encoding;
                s.supports_progress =
                    params.capabilities.window.as_ref().and_then(|w| w.work_done_progress).unwrap_or(false);
                s.supports_configuration =
                    params.capabilities.workspace.as_ref().and_then(|w| w.configuration).unwrap_or(false);
            }
            if let Some(options) = params.initialization_options {
                self.apply_config(options);
            }
            Ok(InitializeResult {
                server_info: Some(ServerInfo { name: "plumb".into(), version: Some(env!("CARGO_PKG_VERSION").into()) }),
                capabilities: ServerCapabilities {
                    position_encoding: Some(kind),
                    text_document_sync: Some(TextDocumentSyncCapability::Options(TextDocumentSyncOptions {
                        open_close: Some(true),
                        change: Some(TextDocumentSyncKind::INCREMENTAL),
                        save: Some(TextDocumentSyncSaveOptions::Supported(true)),
                        ..TextDocumentSyncOptions::default()
                    })),
                    hover_provider: Some(HoverProviderCapability::Simple(true)),
                    code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
                        code_action_kinds: Some(vec![
                            CodeActionKind::QUICKFIX,
                            CodeActionKind::new(actions::LABEL_KIND),
                        ]),
                        ..CodeActionOptions::default()
                    })),
                    execute_command_provider: Some(ExecuteCommandOptions {
                        commands: vec![RECHECK.into(), STATUS.into(), LABEL.into()],
                        ..ExecuteCommandOptions::default()
                    }),
                    workspace: Some(WorkspaceServerCapabilities {
                        workspace_folders: Some(WorkspaceFoldersServerCapabilities {
                            supported: Some(true),
                            change_notifications: Some(OneOf::Left(true)),
                        }),
                        file_operations: None,
                    }),
                    ..ServerCapabilities::default()
                },
                offset_encoding: None,
            })
        })
        .await
    }

    async fn initialized(&self, _: InitializedParams) {
        guard_notification(&self.client, async {
            let rx = self.out_rx.lock().unwrap_or_else(|p| p.into_inner()).take();
            if let Some(rx) = rx {
                tokio::spawn(super::publisher::run(self.client.clone(), self.shared.clone(), self.out.clone(), rx));
            }
            // Not awaited here: a handler waiting for the client would hold up `exit`.
            tokio::spawn(self.config.clone().pull(self.client.clone()));
        })
        .await
    }

    async fn shutdown(&self) -> Result<()> {
        guard(async {
            self.shared.lock().shutdown_requested = true;
            self.actor.send(Msg::Stop);
            Ok(())
        })
        .await
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        guard_notification(&self.client, async {
            let doc = params.text_document;
            self.shared.lock().docs.insert(doc.uri.clone(), Doc::new(doc.text, doc.version));
            self.actor.send(Msg::Changed(doc.uri));
        })
        .await
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        guard_notification(&self.client, async {
            let uri = params.text_document.uri;
            {
                let mut s = self.shared.lock();
                let encoding = s.encoding;
                let Some(doc) = s.docs.get_mut(&uri) else { return };
                doc.apply(params.content_changes, params.text_document.version, encoding);
            }
            self.actor.send(Msg::Changed(uri));
        })
        .await
    }

    async fn did_save(&self, params: DidSaveTextDocumentParams) {
        guard_notification(&self.client, async {
            self.actor.send(Msg::Saved(params.text_document.uri));
        })
        .await
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        guard_notification(&self.client, async {
            let uri = params.text_document.uri;
            self.shared.lock().docs.remove(&uri);
            self.actor.send(Msg::Closed(uri));
        })
        .await
    }

    async fn did_change_configuration(&self, params: DidChangeConfigurationParams) {
        guard_notification(&self.client, async {
            let settings = params.settings;
            let section = settings.get("plumb").cloned().unwrap_or(settings);
            if section.is_object() {
                self.apply_config(section);
            } else {
                tokio::spawn(self.config.clone().pull(self.client.clone()));
            }
        })
        .await
    }

    async fn did_change_workspace_folders(&self, _: DidChangeWorkspaceFoldersParams) {
        // Documents are keyed by URI and test files found from each file's own path: nothing to do.
    }

    async fn hover(&self, params: HoverParams) -> Result<Option<Hover>> {
        guard(async {
            let pos = params.text_document_position_params;
            let s = self.shared.lock();
            let Some(doc) = s.docs.get(&pos.text_document.uri) else { return Ok(None) };
            let Some((version, result)) = &doc.result else { return Ok(None) };
            if *version != doc.version {
                return Ok(None);
            }
            let offset = doc.offset(pos.position, s.encoding);
            Ok(actions::hover(result, offset).map(|text| Hover {
                contents: HoverContents::Markup(MarkupContent { kind: MarkupKind::Markdown, value: text }),
                range: None,
            }))
        })
        .await
    }

    async fn code_action(&self, params: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        guard(async {
            let (result, existing, encoding) = {
                let s = self.shared.lock();
                let Some(doc) = s.docs.get(&params.text_document.uri) else { return Ok(None) };
                let Some((version, result)) = &doc.result else { return Ok(None) };
                if *version != doc.version {
                    return Ok(None);
                }
                // An open test file's text wins over the disk's.
                let path = params.text_document.uri.to_file_path().map(|p| actions::test_file_for(&p));
                let open =
                    path.clone().and_then(Uri::from_file_path).and_then(|u| s.docs.get(&u).map(|d| d.text.clone()));
                (result.clone(), open.map(actions::TestFile::Text).ok_or(path), s.encoding)
            };
            // The disk is read off the runtime thread, and not waited for long.
            let existing = match existing {
                Ok(open) => open,
                Err(None) => actions::TestFile::Unknown,
                Err(Some(path)) => {
                    let read = tokio::task::spawn_blocking(move || actions::read_test_file(&path));
                    match tokio::time::timeout(TEST_FILE_READ, read).await {
                        Ok(Ok(file)) => file,
                        _ => actions::TestFile::Unknown,
                    }
                }
            };
            let mut actions = actions::model_actions(
                &params.text_document.uri,
                &result,
                &params.context.diagnostics,
                &existing,
                encoding,
            );
            actions.extend(actions::code_actions(
                &params.text_document.uri,
                &result,
                &params.context.diagnostics,
                &existing,
            ));
            let only = params.context.only.as_deref();
            Ok(Some(
                actions.into_iter().filter(|a| actions::wanted(a, only)).map(CodeActionOrCommand::CodeAction).collect(),
            ))
        })
        .await
    }

    async fn execute_command(&self, params: ExecuteCommandParams) -> Result<Option<LSPAny>> {
        guard(async {
            match params.command.as_str() {
                RECHECK => {
                    let uri = params.arguments.first().and_then(|a| a.as_str()).and_then(|u| u.parse::<Uri>().ok());
                    self.actor.send(Msg::Recheck(uri));
                    Ok(None)
                }
                LABEL => {
                    let arg = params.arguments.first().cloned().unwrap_or(Value::Null);
                    let (Some(execution), Some(kind), Some(label)) =
                        (arg["execution"].as_str(), arg["kind"].as_str(), arg["label"].as_str())
                    else {
                        return Err(Error::invalid_params("plumb.label takes {execution, kind, label}"));
                    };
                    let Some(label) = crate::store::Label::explicit(label) else {
                        return Err(Error::invalid_params("label must be \"right\" or \"false_alarm\""));
                    };
                    let record = crate::store::LabelRecord::new(execution, kind, label, false, None);
                    let id = self.engine.recorder().label(record).map_err(Error::invalid_params)?;
                    Ok(Some(serde_json::json!({"label": id})))
                }
                STATUS => {
                    let s = self.shared.lock();
                    let docs: Vec<Value> = s
                        .docs
                        .iter()
                        .map(|(uri, d)| {
                            let failing = d.result.as_ref().map(|(_, r)| {
                                r.functions.iter().filter(|f| f.verdict.status == crate::judge::Status::Failing).count()
                            });
                            serde_json::json!({"uri": uri.as_str(), "version": d.version, "failing": failing})
                        })
                        .collect();
                    let store = self.engine.recorder().stats().map(|(path, st)| {
                        serde_json::json!({"path": path.display().to_string(), "written": st.written,
                                           "dropped": st.dropped_full, "failed": st.failed, "lastError": st.last_error})
                    });
                    Ok(Some(serde_json::json!({"documents": docs, "store": store, "config": {
                        "enable": s.config.enable, "debounceMs": s.config.debounce_ms,
                        "timeoutMs": s.config.timeout_ms, "memoryMb": s.config.memory_mb}})))
                }
                DEBUG_PANIC if test_hooks() => panic!("plumb.debug.panic was called"),
                DEBUG_SLEEP if test_hooks() => {
                    tokio::time::sleep(std::time::Duration::from_secs(30)).await;
                    Ok(None)
                }
                other => Err(Error::invalid_params(format!("unknown command {other:?}"))),
            }
        })
        .await
    }
}
