//! A guard in front of the server's stdin. tower-lsp-server's codec stops reading for good after
//! any framing or JSON error (its `FramedRead` ends on the first decode error), and buffers a
//! message whole whatever its declared size. So every message is checked here first:
//! - a `Content-Length` over the cap: the body is discarded as it streams in, never buffered;
//! - no usable `Content-Length`, invalid JSON, or JSON that is not JSON-RPC: dropped.
//!
//! Each dropped message is replaced by a well-formed request to `$/plumb/invalidMessage` carrying
//! the JSON-RPC error code (-32700 parse error, -32600 invalid request) and the original id where
//! one could be read (else null); the server answers it with that error, and reading goes on.
//!
//! What passes is re-serialised from the parsed value, so the framework never sees what it would
//! reject and stop on (a duplicated key, an odd header). The guard also gives the answers the
//! specification asks for where the framework does not: a request before `initialize` gets
//! -32002, a `$/` request -32601; a response that is malformed becomes an error response for its
//! id (or is dropped), never a request; and it tells `exit` to the process, which must end within
//! a second of it whatever handler is still waiting for the client.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use serde_json::{Map, Value, json};
use tokio::io::{AsyncRead, ReadBuf};
use tokio::sync::Notify;

/// Largest message accepted.
pub const MAX_MESSAGE_BYTES: usize = 64 << 20;
/// A header block longer than this is invalid.
const MAX_HEADER_BYTES: usize = 8 << 10;
/// The method a dropped message is replaced with.
pub(super) const INVALID_MESSAGE: &str = "$/plumb/invalidMessage";

enum State {
    Header(Vec<u8>),
    Body {
        len: usize,
        body: Vec<u8>,
    },
    Skip(usize),
    /// After a header without a usable length: discard until the next `Content-Length`.
    Scan(Vec<u8>),
}

pub(super) struct FrameGuard<R> {
    inner: R,
    state: State,
    pending: Vec<u8>,
    pending_at: usize,
    max: usize,
    /// An `initialize` request went through.
    initialize_seen: bool,
    /// Notified when an `exit` notification goes through.
    exit: Arc<Notify>,
}

/// What becomes of one well-framed body.
#[derive(Debug, PartialEq)]
enum Verdict {
    /// Hand this body on.
    Pass(Vec<u8>),
    /// Replace it by a request the server answers with this error.
    Answer(i64, &'static str, Value),
    /// A response nobody can be told about: dropped.
    Drop,
}

fn frame(body: &[u8]) -> Vec<u8> {
    let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    out.extend_from_slice(body);
    out
}

/// The replacement for a dropped message.
fn invalid(code: i64, message: &str, id: Value) -> Vec<u8> {
    let body =
        json!({"jsonrpc": "2.0", "id": id, "method": INVALID_MESSAGE, "params": {"code": code, "message": message}});
    frame(body.to_string().as_bytes())
}

fn encode(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_default()
}

/// A valid response: `jsonrpc`, an id, and exactly one of `result` or a well-formed `error`.
fn valid_response(obj: &Map<String, Value>) -> bool {
    let one = obj.contains_key("result") != obj.contains_key("error");
    let error_ok = obj.get("error").is_none_or(|e| {
        e.as_object().is_some_and(|e| {
            e.keys().all(|k| matches!(k.as_str(), "code" | "message" | "data"))
                && e.get("code").is_some_and(|c| c.as_i64().is_some())
                && e.get("message").is_some_and(Value::is_string)
        })
    });
    one && error_ok
}

impl<R> FrameGuard<R> {
    /// What to do with a body: checked to decode as a JSON-RPC message the framework accepts.
    fn classify(&mut self, body: &[u8]) -> Verdict {
        let Ok(value) = serde_json::from_slice::<Value>(body) else {
            return Verdict::Answer(-32700, "invalid JSON", Value::Null);
        };
        let Some(obj) = value.as_object() else {
            return Verdict::Answer(-32600, "not a JSON-RPC message", Value::Null);
        };
        let id = obj.get("id").cloned();
        let id_ok = match &id {
            None | Some(Value::Null) | Some(Value::String(_)) => true,
            Some(Value::Number(n)) => n.is_i64(),
            _ => false,
        };
        let reply_id = if id_ok { id.clone().unwrap_or(Value::Null) } else { Value::Null };
        if obj.get("jsonrpc").and_then(Value::as_str) != Some("2.0") || !id_ok {
            return Verdict::Answer(-32600, "not a JSON-RPC 2.0 message", reply_id);
        }
        let method = match obj.get("method") {
            Some(Value::String(m)) => m.as_str(),
            Some(_) => return Verdict::Answer(-32600, "method must be a string", reply_id),
            None if id.is_some() && (obj.contains_key("result") || obj.contains_key("error")) => {
                // A response. A malformed one still ends the wait of the request it answers.
                if valid_response(obj) {
                    return Verdict::Pass(encode(&value));
                }
                return match reply_id {
                    Value::Null => Verdict::Drop,
                    id => Verdict::Pass(encode(&json!({"jsonrpc": "2.0", "id": id, "error": {
                        "code": -32603, "message": "plumb: malformed response from the client"}}))),
                };
            }
            None => return Verdict::Answer(-32600, "neither a request nor a response", reply_id),
        };
        if obj.contains_key("result") || obj.contains_key("error") {
            return Verdict::Answer(-32600, "a request cannot carry a result or an error", reply_id);
        }
        let request = obj.contains_key("id");
        if request && method == "initialize" {
            self.initialize_seen = true;
        } else if request && !self.initialize_seen {
            return Verdict::Answer(-32002, "the server is not initialized", reply_id);
        } else if request && method.starts_with("$/") {
            return Verdict::Answer(-32601, "method not found", reply_id);
        } else if !request && method == "exit" {
            self.exit.notify_one();
        }
        Verdict::Pass(encode(&value))
    }

    pub(super) fn new(inner: R, max: usize, exit: Arc<Notify>) -> Self {
        FrameGuard {
            inner,
            state: State::Header(Vec::new()),
            pending: Vec::new(),
            pending_at: 0,
            max,
            initialize_seen: false,
            exit,
        }
    }

    /// Runs bytes through the state machine, appending what the codec should see to `pending`.
    fn feed(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            match &mut self.state {
                State::Body { len, body } => {
                    let n = (*len - body.len()).min(bytes.len());
                    body.extend_from_slice(&bytes[..n]);
                    bytes = &bytes[n..];
                    if body.len() == *len {
                        let body = std::mem::take(body);
                        match self.classify(&body) {
                            Verdict::Pass(body) => self.pending.extend(frame(&body)),
                            Verdict::Answer(code, message, id) => self.pending.extend(invalid(code, message, id)),
                            Verdict::Drop => {}
                        }
                        self.state = State::Header(Vec::new());
                    }
                }
                State::Skip(remaining) => {
                    let n = (*remaining).min(bytes.len());
                    *remaining -= n;
                    bytes = &bytes[n..];
                    if *remaining == 0 {
                        self.state = State::Header(Vec::new());
                    }
                }
                State::Scan(window) => {
                    window.extend_from_slice(bytes);
                    bytes = &[];
                    match find(window, b"Content-Length") {
                        Some(at) => {
                            let rest = window.split_off(at);
                            self.state = State::Header(Vec::new());
                            self.feed(&rest);
                        }
                        None => {
                            let keep = window.len().saturating_sub(16);
                            window.drain(..keep);
                        }
                    }
                }
                State::Header(header) => {
                    let mut end = None;
                    for (i, &b) in bytes.iter().enumerate() {
                        header.push(b);
                        if header.ends_with(b"\r\n\r\n") {
                            end = Some(i + 1);
                            break;
                        }
                    }
                    match end {
                        Some(n) => {
                            bytes = &bytes[n..];
                            let mut header = std::mem::take(header);
                            // Bytes that were no message run into the next header: they are
                            // answered as what they were, and the header is read from its start.
                            if content_length(&header).is_none()
                                && let Some(at) = find(&header, b"Content-Length").filter(|&at| at > 0)
                            {
                                self.pending.extend(invalid(-32700, "bytes outside any message", Value::Null));
                                header.drain(..at);
                            }
                            match content_length(&header) {
                                Some(len) if len > self.max => {
                                    self.pending.extend(invalid(-32700, "message over the size limit", Value::Null));
                                    self.state = if len == 0 { State::Header(Vec::new()) } else { State::Skip(len) };
                                }
                                Some(0) => self.pending.extend(invalid(-32700, "empty message", Value::Null)),
                                Some(len) => {
                                    self.state = State::Body { len, body: Vec::with_capacity(len.min(1 << 20)) }
                                }
                                None => {
                                    self.pending.extend(invalid(
                                        -32700,
                                        "missing or invalid Content-Length",
                                        Value::Null,
                                    ));
                                    self.state = State::Scan(Vec::new());
                                }
                            }
                        }
                        None => {
                            bytes = &[];
                            if header.len() > MAX_HEADER_BYTES {
                                self.pending.extend(invalid(-32700, "header too long", Value::Null));
                                self.state = State::Scan(Vec::new());
                            }
                        }
                    }
                }
            }
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The `Content-Length` value of a header block, if there is exactly one that parses.
fn content_length(header: &[u8]) -> Option<usize> {
    let text = std::str::from_utf8(header).ok()?;
    let mut found = None;
    for line in text.split("\r\n") {
        if let Some((name, value)) = line.split_once(':')
            && name.trim().eq_ignore_ascii_case("content-length")
        {
            if found.is_some() {
                return None;
            }
            found = Some(value.trim().parse::<usize>().ok()?);
        }
    }
    found
}

impl<R: AsyncRead + Unpin> AsyncRead for FrameGuard<R> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        loop {
            let this = &mut *self;
            if this.pending_at < this.pending.len() {
                let n = (this.pending.len() - this.pending_at).min(buf.remaining());
                buf.put_slice(&this.pending[this.pending_at..this.pending_at + n]);
                this.pending_at += n;
                if this.pending_at == this.pending.len() {
                    this.pending.clear();
                    this.pending_at = 0;
                }
                return Poll::Ready(Ok(()));
            }
            let mut chunk = [0u8; 16 << 10];
            let mut read = ReadBuf::new(&mut chunk);
            match Pin::new(&mut this.inner).poll_read(cx, &mut read) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Ready(Ok(())) => {
                    let filled = read.filled();
                    if filled.is_empty() {
                        // End of input: an unfinished message is dropped with it.
                        return Poll::Ready(Ok(()));
                    }
                    let filled = filled.to_vec();
                    this.feed(&filled);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    const INIT: &[u8] = br#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{}}"#;

    /// What the framework sees of `input`, after an `initialize` request.
    async fn through(input: Vec<u8>, max: usize) -> Vec<u8> {
        let mut all = frame(INIT);
        all.extend(input);
        let mut guard = FrameGuard::new(&all[..], max, Arc::default());
        let mut out = Vec::new();
        guard.read_to_end(&mut out).await.unwrap();
        out.split_off(frame(INIT).len())
    }

    #[tokio::test(flavor = "current_thread")]
    async fn valid_messages_pass_unchanged() {
        let mut input = frame(br#"{"jsonrpc":"2.0","id":1,"method":"a"}"#);
        input.extend(frame(br#"{"jsonrpc":"2.0","method":"b","params":{}}"#));
        input.extend(frame(br#"{"jsonrpc":"2.0","id":"x","result":null}"#));
        assert_eq!(through(input.clone(), 1000).await, input);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn oversized_messages_are_replaced_and_the_next_passes() {
        let next = frame(br#"{"jsonrpc":"2.0","id":2,"method":"b"}"#);
        let mut input = frame(&[b' '; 5000]);
        input.extend(next.clone());
        let mut expected = invalid(-32700, "message over the size limit", Value::Null);
        expected.extend(next);
        assert_eq!(through(input, 1000).await, expected);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_huge_declared_length_allocates_nothing() {
        let input = b"Content-Length: 2147483648\r\n\r\n{\"partial\"".to_vec();
        assert_eq!(
            through(input, MAX_MESSAGE_BYTES).await,
            invalid(-32700, "message over the size limit", Value::Null)
        );
    }

    #[tokio::test(flavor = "current_thread")]
    async fn invalid_bodies_and_headers_are_replaced() {
        let next = frame(br#"{"jsonrpc":"2.0","id":9,"method":"ok"}"#);
        let mut input = frame(b"{not json");
        input.extend(frame(br#"{"hello":"world"}"#));
        input.extend(frame(br#"{"jsonrpc":"2.0","id":7}"#));
        input.extend(b"Content-Type: x\r\n\r\ngarbage".iter());
        input.extend(next.clone());
        let mut expected = invalid(-32700, "invalid JSON", Value::Null);
        expected.extend(invalid(-32600, "not a JSON-RPC 2.0 message", Value::Null));
        expected.extend(invalid(-32600, "neither a request nor a response", json!(7)));
        expected.extend(invalid(-32700, "missing or invalid Content-Length", Value::Null));
        expected.extend(next);
        assert_eq!(String::from_utf8(through(input, 1000).await).unwrap(), String::from_utf8(expected).unwrap());
    }

    #[tokio::test(flavor = "current_thread")]
    async fn duplicate_keys_collapse_and_the_length_follows() {
        let input = frame(br#"{"jsonrpc":"2.0","id":4,"method":"x","method":"y","params":{}}"#);
        assert_eq!(through(input, 1000).await, frame(br#"{"jsonrpc":"2.0","id":4,"method":"y","params":{}}"#));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn the_specifications_answers() {
        // `$/` requests: method not found; `$/` notifications pass (the framework ignores them).
        let input = frame(br#"{"jsonrpc":"2.0","id":5,"method":"$/x"}"#);
        assert_eq!(through(input, 1000).await, invalid(-32601, "method not found", json!(5)));
        let note = frame(br#"{"jsonrpc":"2.0","method":"$/x"}"#);
        assert_eq!(through(note.clone(), 1000).await, note);
        // A malformed response: an error response for its id, or nothing without one.
        let bad = frame(br#"{"jsonrpc":"2.0","id":991,"error":"oops"}"#);
        let out = String::from_utf8(through(bad, 1000).await).unwrap();
        assert!(out.contains(r#""id":991,"error":{"code":-32603"#), "{out}");
        assert!(!out.contains("method"), "never a request: {out}");
        assert_eq!(through(frame(br#"{"jsonrpc":"2.0","id":null,"result":1,"error":{}}"#), 1000).await, b"");
        // A request carrying a result is invalid.
        let both = frame(br#"{"jsonrpc":"2.0","id":6,"method":"m","result":1}"#);
        assert_eq!(through(both, 1000).await, invalid(-32600, "a request cannot carry a result or an error", json!(6)));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn requests_before_initialize_and_exit() {
        let exit = Arc::new(Notify::new());
        let mut input = frame(br#"{"jsonrpc":"2.0","id":1,"method":"textDocument/hover"}"#);
        input.extend(frame(br#"{"jsonrpc":"2.0","method":"initialized"}"#));
        input.extend(frame(INIT));
        input.extend(frame(br#"{"jsonrpc":"2.0","id":2,"method":"textDocument/hover"}"#));
        input.extend(frame(br#"{"jsonrpc":"2.0","method":"exit"}"#));
        let mut guard = FrameGuard::new(&input[..], 1000, Arc::clone(&exit));
        let mut out = Vec::new();
        guard.read_to_end(&mut out).await.unwrap();
        let mut expected = invalid(-32002, "the server is not initialized", json!(1));
        expected.extend(frame(br#"{"jsonrpc":"2.0","method":"initialized"}"#));
        expected.extend(frame(INIT));
        expected.extend(frame(br#"{"jsonrpc":"2.0","id":2,"method":"textDocument/hover"}"#));
        expected.extend(frame(br#"{"jsonrpc":"2.0","method":"exit"}"#));
        assert_eq!(String::from_utf8(out).unwrap(), String::from_utf8(expected).unwrap());
        // The permit is stored: whoever waits later still hears of it.
        tokio::time::timeout(std::time::Duration::from_secs(1), exit.notified()).await.unwrap();
    }

    #[tokio::test(flavor = "current_thread")]
    async fn garbage_before_a_header_is_answered_and_the_message_served() {
        let next = frame(br#"{"jsonrpc":"2.0","id":3,"method":"ok"}"#);
        let mut input = b"garbage without headers".to_vec();
        input.extend(next.clone());
        let mut expected = invalid(-32700, "bytes outside any message", Value::Null);
        expected.extend(next);
        assert_eq!(through(input, 1000).await, expected);
    }

    #[test]
    fn content_length_parsing() {
        assert_eq!(content_length(b"Content-Length: 12\r\n\r\n"), Some(12));
        assert_eq!(content_length(b"content-length:7\r\nContent-Type: x\r\n\r\n"), Some(7));
        assert_eq!(content_length(b"Content-Length: x\r\n\r\n"), None);
        assert_eq!(content_length(b"Content-Length: 1\r\nContent-Length: 1\r\n\r\n"), None);
        assert_eq!(content_length(b"Content-Type: x\r\n\r\n"), None);
    }
}
