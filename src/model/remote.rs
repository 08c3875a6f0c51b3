//! The OpenAI-compatible backend: completions and chat endpoints of vLLM, llama.cpp's server,
//! Ollama, TGI or a hosted API. This is how a team outgrows one machine: every editor points at
//! one inference server; plumb never serves models itself.

use std::time::Duration;

use serde_json::{Value, json};

use crate::base::Cancel;

/// Where and how to reach the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteConfig {
    /// e.g. `http://127.0.0.1:8080` or `https://host/v1` (a missing `/v1` is added).
    pub base_url: String,
    pub model: String,
    /// Sent as `Authorization: Bearer …`; read by the caller from the environment variable the
    /// user named, never stored.
    pub api_key: Option<String>,
    /// Whole-request limit.
    pub timeout: Duration,
    /// Attempts after the first, for connection errors, 429 and 5xx answers.
    pub retries: u32,
    /// Use `/chat/completions` (a chat model) instead of `/completions`.
    pub chat: bool,
}

/// Sampling settings, sent as they are; part of the cache key of what is derived.
#[derive(Debug, Clone, PartialEq)]
pub struct Sampler {
    pub temperature: f32,
    pub top_p: f32,
    pub max_tokens: u32,
    /// Samples per prompt (`n`).
    pub n: u32,
    pub seed: Option<u64>,
    pub stop: Vec<String>,
    /// 0: no limit. Sent to servers only when set (vLLM, llama.cpp and Ollama take it).
    pub top_k: u32,
    /// 1.0: none. Sent only when set, as `repetition_penalty`.
    pub repetition_penalty: f32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelError {
    /// The server answered with an error status that retrying does not fix (or retries ran out).
    Status {
        status: u16,
        message: String,
    },
    /// No answer: connection refused, timeout, TLS, ...
    Transport(String),
    /// An answer that is not an OpenAI-style completion.
    BadResponse(String),
    /// The local model could not be loaded or run.
    Local(String),
    Cancelled,
}

impl std::fmt::Display for ModelError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ModelError::Status { status, message } => write!(f, "the model server answered {status}: {message}"),
            ModelError::Transport(e) => write!(f, "could not reach the model server: {e}"),
            ModelError::BadResponse(e) => write!(f, "the model server's answer is not a completion: {e}"),
            ModelError::Local(e) => write!(f, "the local model failed: {e}"),
            ModelError::Cancelled => write!(f, "cancelled"),
        }
    }
}

impl std::error::Error for ModelError {}

pub struct Remote {
    agent: ureq::Agent,
    config: RemoteConfig,
    /// First retry delay; doubles each time (capped at 4 s, or the server's Retry-After).
    backoff: Duration,
    /// The server refused `n` > 1 (llama.cpp's server does): ask once per sample instead.
    one_at_a_time: std::sync::atomic::AtomicBool,
}

impl Remote {
    pub fn is_chat(&self) -> bool {
        self.config.chat
    }

    pub fn new(config: RemoteConfig) -> Remote {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(config.timeout))
            .http_status_as_error(false)
            .build()
            .into();
        Remote { agent, config, backoff: Duration::from_millis(250), one_at_a_time: Default::default() }
    }

    #[doc(hidden)]
    pub fn with_backoff(mut self, backoff: Duration) -> Remote {
        self.backoff = backoff;
        self
    }

    fn endpoint(&self) -> String {
        let base = self.config.base_url.trim_end_matches('/');
        let base = if base.ends_with("/v1") { base.to_string() } else { format!("{base}/v1") };
        format!("{base}/{}", if self.config.chat { "chat/completions" } else { "completions" })
    }

    fn body(&self, prompt: &str, s: &Sampler) -> Value {
        let mut body = json!({
            "model": self.config.model,
            "max_tokens": s.max_tokens,
            "temperature": s.temperature,
            "top_p": s.top_p,
            "n": s.n,
        });
        if self.config.chat {
            body["messages"] = json!([{"role": "user", "content": prompt}]);
        } else {
            body["prompt"] = json!(prompt);
        }
        if !s.stop.is_empty() {
            body["stop"] = json!(s.stop);
        }
        if let Some(seed) = s.seed {
            body["seed"] = json!(seed);
        }
        if s.top_k > 0 {
            body["top_k"] = json!(s.top_k);
        }
        if s.repetition_penalty != 1.0 {
            body["repetition_penalty"] = json!(s.repetition_penalty);
        }
        body
    }

    /// `n` samples for one prompt, in the server's order. Retries connection errors, 429 and 5xx
    /// with exponential backoff (honouring `Retry-After`); checks `cancel` between attempts.
    /// A server that refuses `n` > 1 (llama.cpp's answers 400 "Field 'n' ...") is asked once per
    /// sample, with seeds `seed`, `seed + 1`, ...; plumb remembers that for the server.
    pub fn complete(&self, prompt: &str, sampler: &Sampler, cancel: &Cancel) -> Result<Vec<String>, ModelError> {
        Ok(self.answers(prompt, sampler, cancel)?.into_iter().map(|a| a.text).collect())
    }

    /// As [`Remote::complete`], saying of each answer whether the server cut it at the token
    /// limit (`finish_reason: "length"`).
    pub fn answers(&self, prompt: &str, sampler: &Sampler, cancel: &Cancel) -> Result<Vec<Answer>, ModelError> {
        use std::sync::atomic::Ordering;
        if sampler.n > 1 && !self.one_at_a_time.load(Ordering::Relaxed) {
            match self.complete_n(prompt, sampler, cancel) {
                Err(ModelError::Status { status: 400, message }) if refuses_n(&message) => {
                    self.one_at_a_time.store(true, Ordering::Relaxed);
                }
                other => return other,
            }
        }
        if sampler.n <= 1 {
            return self.complete_n(prompt, sampler, cancel);
        }
        let mut out = Vec::with_capacity(sampler.n as usize);
        for i in 0..sampler.n {
            let one = Sampler { n: 1, seed: sampler.seed.map(|s| s.wrapping_add(u64::from(i))), ..sampler.clone() };
            out.extend(self.complete_n(prompt, &one, cancel)?);
        }
        Ok(out)
    }

    fn complete_n(&self, prompt: &str, sampler: &Sampler, cancel: &Cancel) -> Result<Vec<Answer>, ModelError> {
        let body = self.body(prompt, sampler).to_string();
        let url = self.endpoint();
        let mut delay = self.backoff;
        let mut attempt = 0;
        loop {
            if cancel.is_cancelled() {
                return Err(ModelError::Cancelled);
            }
            let mut request = self.agent.post(&url).header("Content-Type", "application/json");
            if let Some(key) = &self.config.api_key {
                request = request.header("Authorization", format!("Bearer {key}"));
            }
            let (error, retry_after) = match request.send(body.as_str()) {
                Ok(mut response) => {
                    let status = response.status().as_u16();
                    let retry_after = response
                        .headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<u64>().ok())
                        .map(Duration::from_secs);
                    let text =
                        response.body_mut().read_to_string().map_err(|e| ModelError::Transport(e.to_string()))?;
                    if status == 200 {
                        return parse_choices(&text, self.config.chat);
                    }
                    let error = ModelError::Status { status, message: error_message(&text) };
                    if status != 429 && status < 500 {
                        return Err(error);
                    }
                    (error, retry_after)
                }
                Err(e) => (ModelError::Transport(e.to_string()), None),
            };
            if attempt >= self.config.retries {
                return Err(error);
            }
            attempt += 1;
            std::thread::sleep(retry_after.unwrap_or(delay).min(Duration::from_secs(10)));
            delay = (delay * 2).min(Duration::from_secs(4));
        }
    }
}

/// A 400 answer about the `n` field.
fn refuses_n(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("'n'") || m.contains("\"n\"") || m.contains("field n") || m.contains("`n`")
}

fn error_message(body: &str) -> String {
    let parsed: Option<Value> = serde_json::from_str(body).ok();
    let message = parsed
        .as_ref()
        .and_then(|v| v["error"]["message"].as_str().or_else(|| v["error"].as_str()).or_else(|| v["message"].as_str()))
        .map(str::to_string)
        .unwrap_or_else(|| body.chars().take(200).collect());
    if message.is_empty() { "(no message)".into() } else { message }
}

/// One sampled answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub text: String,
    /// The model stopped at the token limit: the answer is cut off, its last line unfinished.
    pub truncated: bool,
}

fn parse_choices(body: &str, chat: bool) -> Result<Vec<Answer>, ModelError> {
    let v: Value = serde_json::from_str(body).map_err(|e| ModelError::BadResponse(e.to_string()))?;
    let choices = v["choices"].as_array().ok_or_else(|| ModelError::BadResponse("no `choices`".into()))?;
    let mut out: Vec<(u64, Answer)> = Vec::new();
    for (i, c) in choices.iter().enumerate() {
        let text = if chat { c["message"]["content"].as_str() } else { c["text"].as_str() };
        let text = text.ok_or_else(|| ModelError::BadResponse(format!("choice {i} has no text")))?;
        let truncated = c["finish_reason"].as_str() == Some("length");
        out.push((c["index"].as_u64().unwrap_or(i as u64), Answer { text: text.to_string(), truncated }));
    }
    out.sort_by_key(|(i, _)| *i);
    Ok(out.into_iter().map(|(_, a)| a).collect())
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpListener;
    use std::sync::{Arc, Mutex};

    use super::*;

    /// A loopback HTTP server answering each request with the next canned response, recording
    /// what it received. Bounded: it serves `responses.len()` requests and stops.
    fn server(responses: Vec<(u16, &'static str, Option<u64>, Duration)>) -> (String, Arc<Mutex<Vec<String>>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        std::thread::spawn(move || {
            for (status, body, retry_after, delay) in responses {
                let Ok((stream, _)) = listener.accept() else { return };
                let mut reader = BufReader::new(stream);
                let mut head = String::new();
                let mut len = 0;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        break;
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        len = v.trim().parse().unwrap_or(0);
                    }
                    head.push_str(&line);
                    if line == "\r\n" {
                        break;
                    }
                }
                let mut body_in = vec![0; len];
                let _ = reader.read_exact(&mut body_in);
                log.lock().unwrap().push(format!("{head}{}", String::from_utf8_lossy(&body_in)));
                std::thread::sleep(delay);
                let extra = retry_after.map(|s| format!("Retry-After: {s}\r\n")).unwrap_or_default();
                let reply = format!(
                    "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n{extra}\r\n{body}",
                    body.len()
                );
                let mut stream = reader.into_inner();
                let _ = stream.write_all(reply.as_bytes());
            }
        });
        (url, seen)
    }

    fn config(url: &str, chat: bool) -> RemoteConfig {
        RemoteConfig {
            base_url: url.into(),
            model: "tiny-coder".into(),
            api_key: Some("sk-test".into()),
            timeout: Duration::from_secs(5),
            retries: 2,
            chat,
        }
    }

    fn sampler() -> Sampler {
        Sampler {
            temperature: 0.8,
            top_p: 0.95,
            max_tokens: 64,
            n: 2,
            seed: Some(7),
            stop: vec!["\n\n".into()],
            top_k: 0,
            repetition_penalty: 1.0,
        }
    }

    #[test]
    fn completions_request_and_answer() {
        let (url, seen) = server(vec![(
            200,
            r#"{"choices":[{"index":1,"text":"add(2, 2) == 4"},{"index":0,"text":"add(1, 2) == 3"}]}"#,
            None,
            Duration::ZERO,
        )]);
        let out = Remote::new(config(&url, false)).complete("def add(a, b):", &sampler(), &Cancel::new()).unwrap();
        assert_eq!(out, ["add(1, 2) == 3", "add(2, 2) == 4"]);
        let request = seen.lock().unwrap()[0].clone();
        assert!(request.starts_with("POST /v1/completions HTTP/1.1"), "{request}");
        assert!(request.to_ascii_lowercase().contains("authorization: bearer sk-test"));
        let body: Value = serde_json::from_str(request.split("\r\n\r\n").nth(1).unwrap()).unwrap();
        assert_eq!(body["model"], "tiny-coder");
        assert_eq!(body["prompt"], "def add(a, b):");
        assert_eq!(
            (body["n"].as_u64(), body["seed"].as_u64(), body["max_tokens"].as_u64()),
            (Some(2), Some(7), Some(64))
        );
        assert_eq!(body["stop"], json!(["\n\n"]));
    }

    #[test]
    fn chat_endpoint() {
        let (url, seen) = server(vec![(
            200,
            r#"{"choices":[{"index":0,"message":{"role":"assistant","content":"def f(): pass"}}]}"#,
            None,
            Duration::ZERO,
        )]);
        let out = Remote::new(config(&format!("{url}/v1/"), true))
            .complete("Complete f", &sampler(), &Cancel::new())
            .unwrap();
        assert_eq!(out, ["def f(): pass"]);
        let request = seen.lock().unwrap()[0].clone();
        assert!(request.starts_with("POST /v1/chat/completions HTTP/1.1"), "{request}");
        let body: Value = serde_json::from_str(request.split("\r\n\r\n").nth(1).unwrap()).unwrap();
        assert_eq!(body["messages"], json!([{"role": "user", "content": "Complete f"}]));
        assert!(body.get("prompt").is_none());
    }

    #[test]
    fn a_server_that_refuses_n_is_asked_once_per_sample() {
        // llama.cpp's server, verbatim.
        let refusal = r#"{"error":{"code":400,"message":"Field 'n': Value must be between 1 <= value <= 1, but got 2","type":"invalid_request_error"}}"#;
        let (url, seen) = server(vec![
            (400, refusal, None, Duration::ZERO),
            (200, r#"{"choices":[{"text":"a"}]}"#, None, Duration::ZERO),
            (200, r#"{"choices":[{"text":"b"}]}"#, None, Duration::ZERO),
            (200, r#"{"choices":[{"text":"c"}]}"#, None, Duration::ZERO),
            (200, r#"{"choices":[{"text":"d"}]}"#, None, Duration::ZERO),
        ]);
        let remote = Remote::new(config(&url, false));
        assert_eq!(remote.complete("p", &sampler(), &Cancel::new()).unwrap(), ["a", "b"]);
        // Remembered: the next prompt goes one sample at a time straight away.
        assert_eq!(remote.complete("q", &sampler(), &Cancel::new()).unwrap(), ["c", "d"]);
        let bodies: Vec<Value> = seen
            .lock()
            .unwrap()
            .iter()
            .map(|r| serde_json::from_str(r.split("\r\n\r\n").nth(1).unwrap()).unwrap())
            .collect();
        assert_eq!(bodies.len(), 5);
        assert_eq!((bodies[0]["n"].clone(), bodies[1]["n"].clone()), (json!(2), json!(1)));
        assert_eq!((bodies[1]["seed"].clone(), bodies[2]["seed"].clone()), (json!(7), json!(8)));
    }

    #[test]
    fn retries_5xx_and_429_then_succeeds() {
        let (url, seen) = server(vec![
            (503, r#"{"error":{"message":"loading"}}"#, None, Duration::ZERO),
            (429, r#"{"error":"slow down"}"#, Some(0), Duration::ZERO),
            (200, r#"{"choices":[{"text":"ok"}]}"#, None, Duration::ZERO),
        ]);
        let remote = Remote::new(config(&url, false)).with_backoff(Duration::from_millis(10));
        assert_eq!(remote.complete("p", &sampler(), &Cancel::new()).unwrap(), ["ok"]);
        assert_eq!(seen.lock().unwrap().len(), 3);
    }

    #[test]
    fn client_errors_are_not_retried_and_say_why() {
        let (url, seen) = server(vec![(401, r#"{"error":{"message":"invalid api key"}}"#, None, Duration::ZERO)]);
        let err = Remote::new(config(&url, false)).complete("p", &sampler(), &Cancel::new()).unwrap_err();
        assert_eq!(err, ModelError::Status { status: 401, message: "invalid api key".into() });
        assert_eq!(err.to_string(), "the model server answered 401: invalid api key");
        assert_eq!(seen.lock().unwrap().len(), 1);
    }

    #[test]
    fn retries_run_out() {
        let (url, _) = server(vec![(500, "boom", None, Duration::ZERO); 3]);
        let remote = Remote::new(config(&url, false)).with_backoff(Duration::from_millis(5));
        assert_eq!(
            remote.complete("p", &sampler(), &Cancel::new()).unwrap_err(),
            ModelError::Status { status: 500, message: "boom".into() }
        );
    }

    #[test]
    fn timeouts_refusals_bad_answers_and_cancel() {
        let (url, _) = server(vec![(200, r#"{"choices":[]}"#, None, Duration::from_secs(3))]);
        let mut c = config(&url, false);
        c.timeout = Duration::from_millis(300);
        c.retries = 0;
        let started = std::time::Instant::now();
        assert!(matches!(Remote::new(c).complete("p", &sampler(), &Cancel::new()), Err(ModelError::Transport(_))));
        assert!(started.elapsed() < Duration::from_secs(2));

        let closed = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        let mut c = config(&format!("http://{closed}"), false);
        c.retries = 0;
        assert!(matches!(Remote::new(c).complete("p", &sampler(), &Cancel::new()), Err(ModelError::Transport(_))));

        let (url, _) = server(vec![(200, r#"{"nope":1}"#, None, Duration::ZERO)]);
        assert!(matches!(
            Remote::new(config(&url, false)).complete("p", &sampler(), &Cancel::new()),
            Err(ModelError::BadResponse(_))
        ));

        let cancel = Cancel::new();
        cancel.cancel();
        assert_eq!(
            Remote::new(config("http://127.0.0.1:9", false)).complete("p", &sampler(), &cancel),
            Err(ModelError::Cancelled)
        );
    }
}
