//! The candle backend: a model run in-process, on the CPU (or a GPU with the `cuda`/`metal`
//! features). One thread owns the model and serves requests from a queue, so loading happens once
//! per process, lazily, and callers on any thread (the LSP's checks, the CLI) share it.
//!
//! Samples that share a prompt share its KV cache: the prompt runs once, its cache is repeated to
//! one row per sample and the samples decode as one batch (GGUF llama models, through plumb's copy
//! of candle's model in `llama.rs`); for other models, on the CPU each sample continues from a copy
//! of the cache, one after another, and on a GPU the prompt is repeated as rows of one batch.
//! Cancellation is checked after every token.

pub(crate) mod default;
mod device;
mod llama;
mod sample;
pub mod synthetic;
mod template;
mod tokenizer;
mod weights;

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::mpsc;

use candle_core::{Device, Tensor};

use super::{Answer, ModelError, Prompt, Sampler};
use crate::base::Cancel;
use sample::{Rng, Sampling};
use weights::Loaded;

pub use default::{DEFAULT_MODEL_NAME, default_model_path, ensure_default_model};
pub use device::DeviceChoice;

/// The prompt speed figures are measured on (a function with its docstring, about 150 tokens).
pub const BENCH_PROMPT: &str = "def merge_intervals(intervals: list[list[int]]) -> list[list[int]]:\n    \"\"\"Merge overlapping closed intervals and return them sorted by start.\n\n    Intervals that touch (one ends where the next starts) are merged too.\n\n    >>> merge_intervals([[1, 3], [2, 6], [8, 10], [15, 18]])\n    [[1, 6], [8, 10], [15, 18]]\n    >>> merge_intervals([[1, 4], [4, 5]])\n    [[1, 5]]\n    >>> merge_intervals([])\n    []\n    \"\"\"\n";

/// Where the model is and how to run it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalSpec {
    /// A GGUF file, a `.safetensors` file or a directory with safetensors + config.json + tokenizer.json.
    pub path: PathBuf,
    /// CPU threads for the model (0: all cores but one, at least one).
    pub threads: usize,
    /// `path` is the default model: fetch it (on the model thread) if it is not there yet.
    pub fetch_default: bool,
    /// CPU or GPU (see [`DeviceChoice`]).
    pub device: DeviceChoice,
}

impl LocalSpec {
    /// The model at `path`, on all cores but one, on the device `$PLUMB_DEVICE` chooses.
    pub fn new(path: PathBuf) -> LocalSpec {
        LocalSpec { path, threads: 0, fetch_default: false, device: DeviceChoice::Auto }
    }
}

/// Where a model asked for `choice` runs, as a line for people (`gpu (CUDA device 0)`, `cpu`,
/// `cpu (no usable GPU: ...)`): what the model thread will pick, without loading a model.
pub fn device_line(choice: DeviceChoice) -> String {
    device::select(choice).1
}

enum Job {
    Generate { prompt: Prompt, sampler: Sampler, cancel: Cancel, reply: mpsc::Sender<Result<Vec<Answer>, ModelError>> },
    PTrue { prompt: Prompt, cancel: Cancel, reply: mpsc::Sender<Result<f64, ModelError>> },
    Info { reply: mpsc::Sender<Result<String, ModelError>> },
    Chat { reply: mpsc::Sender<Result<bool, ModelError>> },
    Measure { text: String, tokens: usize, n: usize, batch: bool, reply: mpsc::Sender<Result<Measure, ModelError>> },
    Trace { text: String, steps: usize, forced: Vec<u32>, reply: mpsc::Sender<Result<Trace, ModelError>> },
}

/// Greedy decoding step by step (for comparing devices): the token taken at each step and the
/// logits it was taken from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Trace {
    pub tokens: Vec<u32>,
    pub logits: Vec<Vec<f32>>,
}

/// How far two traces of the same steps agree (`reference` on one device, `other` on another,
/// teacher-forced with the reference's tokens).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Agreement {
    /// Steps whose highest logit is the same token.
    pub argmax_agree: usize,
    pub max_abs_diff: f32,
    /// The largest logit of the reference, for scale.
    pub max_abs: f32,
}

impl Trace {
    pub fn agreement(&self, other: &Trace) -> Agreement {
        let mut out = Agreement { argmax_agree: 0, max_abs_diff: 0.0, max_abs: 0.0 };
        for (a, b) in self.logits.iter().zip(&other.logits) {
            out.argmax_agree += usize::from(sample::argmax(a) == sample::argmax(b));
            for (x, y) in a.iter().zip(b) {
                out.max_abs_diff = out.max_abs_diff.max((x - y).abs());
                out.max_abs = out.max_abs.max(x.abs());
            }
        }
        out
    }
}

/// Speed figures of one run (for benchmarks): a prompt processed once, then `n` streams of
/// `tokens` tokens each, end-of-sequence ignored.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measure {
    pub prompt_tokens: usize,
    pub prompt_seconds: f64,
    /// Tokens generated over all streams.
    pub generated_tokens: usize,
    pub decode_seconds: f64,
    /// The streams ran as one batch (GPU, or a model whose cache cannot be copied).
    pub batched: bool,
}

/// A handle on the model-owning thread.
pub struct Local {
    jobs: Mutex<mpsc::Sender<Job>>,
    spec: LocalSpec,
}

impl std::fmt::Debug for Local {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Local").field("spec", &self.spec).finish()
    }
}

impl Local {
    /// Starts the model thread; the model itself loads on the first request.
    pub fn new(spec: LocalSpec) -> Local {
        let (tx, rx) = mpsc::channel::<Job>();
        let thread_spec = spec.clone();
        // If the thread cannot start, requests find the channel closed and say so.
        let _ = std::thread::Builder::new().name("plumb-model".into()).spawn(move || serve(thread_spec, rx));
        Local { jobs: Mutex::new(tx), spec }
    }

    fn send<T>(&self, make: impl FnOnce(mpsc::Sender<Result<T, ModelError>>) -> Job) -> Result<T, ModelError> {
        let (reply, answer) = mpsc::channel();
        let sent = self.jobs.lock().map(|jobs| jobs.send(make(reply)).is_ok()).unwrap_or(false);
        if !sent {
            return Err(ModelError::Local("the model thread has stopped".into()));
        }
        answer.recv().unwrap_or_else(|_| Err(ModelError::Local("the model thread stopped while working".into())))
    }

    /// `sampler.n` completions of `prompt` (continuations of its completion text, or of its
    /// answer prefix when the model has a chat template).
    pub fn generate(&self, prompt: &Prompt, sampler: &Sampler, cancel: &Cancel) -> Result<Vec<String>, ModelError> {
        Ok(self.answers(prompt, sampler, cancel)?.into_iter().map(|a| a.text).collect())
    }

    /// As [`Local::generate`], saying of each answer whether it stopped at `sampler.max_tokens`.
    pub fn answers(&self, prompt: &Prompt, sampler: &Sampler, cancel: &Cancel) -> Result<Vec<Answer>, ModelError> {
        self.send(|reply| Job::Generate {
            prompt: prompt.clone(),
            sampler: sampler.clone(),
            cancel: cancel.clone(),
            reply,
        })
    }

    /// P(True): the probability the model gives " (A)" over " (B)" after the prompt.
    pub fn p_true(&self, prompt: &Prompt, cancel: &Cancel) -> Result<f64, ModelError> {
        self.send(|reply| Job::PTrue { prompt: prompt.clone(), cancel: cancel.clone(), reply })
    }

    /// Prompt and decode speed on `text` (raw, no chat template): see [`Measure`].
    pub fn measure(&self, text: &str, tokens: usize, n: usize) -> Result<Measure, ModelError> {
        self.send(|reply| Job::Measure { text: text.to_string(), tokens, n, batch: true, reply })
    }

    /// As [`Local::measure`], the samples one after another from copies of the prompt's cache
    /// where the model allows it (the baseline batching is measured against).
    pub fn measure_unbatched(&self, text: &str, tokens: usize, n: usize) -> Result<Measure, ModelError> {
        self.send(|reply| Job::Measure { text: text.to_string(), tokens, n, batch: false, reply })
    }

    /// `steps` tokens of greedy decoding after `text` (raw, no chat template); where `forced` has a
    /// token for a step, that token is fed instead of the model's choice (teacher forcing, so that
    /// two devices are compared on the same sequence).
    pub fn trace(&self, text: &str, steps: usize, forced: &[u32]) -> Result<Trace, ModelError> {
        self.send(|reply| Job::Trace { text: text.to_string(), steps, forced: forced.to_vec(), reply })
    }

    /// Whether prompts go through the model's chat template (loads the model).
    pub fn uses_chat(&self) -> Result<bool, ModelError> {
        self.send(|reply| Job::Chat { reply })
    }

    /// Loads the model now (if not yet) and describes it: architecture, device, vocabulary.
    pub fn info(&self) -> Result<String, ModelError> {
        self.send(|reply| Job::Info { reply })
    }
}

fn serve(spec: LocalSpec, jobs: mpsc::Receiver<Job>) {
    let threads = if spec.threads > 0 {
        spec.threads
    } else {
        std::thread::available_parallelism().map(|n| n.get().saturating_sub(1).max(1)).unwrap_or(1)
    };
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).thread_name(|i| format!("plumb-model-{i}")).build();
    let mut engine: Option<Result<Engine, String>> = None;
    for job in jobs {
        let engine = engine.get_or_insert_with(|| Engine::load(&spec).map_err(|e| format!("{e:#}")));
        match &pool {
            Ok(pool) => pool.install(|| handle(job, engine)),
            Err(_) => handle(job, engine),
        }
    }
}

fn handle(job: Job, engine: &mut Result<Engine, String>) {
    match job {
        Job::Generate { prompt, sampler, cancel, reply } => {
            let answer = match engine {
                Ok(e) => e.generate(&prompt, &sampler, &cancel),
                Err(e) => Err(ModelError::Local(e.clone())),
            };
            let _ = reply.send(answer);
        }
        Job::PTrue { prompt, cancel, reply } => {
            let answer = match engine {
                Ok(e) => e.p_true(&prompt, &cancel),
                Err(e) => Err(ModelError::Local(e.clone())),
            };
            let _ = reply.send(answer);
        }
        Job::Measure { text, tokens, n, batch, reply } => {
            let _ = reply.send(match engine {
                Ok(e) => e.measure(&text, tokens, n, batch),
                Err(e) => Err(ModelError::Local(e.clone())),
            });
        }
        Job::Trace { text, steps, forced, reply } => {
            let _ = reply.send(match engine {
                Ok(e) => e.trace(&text, steps, &forced),
                Err(e) => Err(ModelError::Local(e.clone())),
            });
        }
        Job::Chat { reply } => {
            let _ = reply.send(match engine {
                Ok(e) => Ok(e.loaded.tokenizer.chat_template.is_some()),
                Err(e) => Err(ModelError::Local(e.clone())),
            });
        }
        Job::Info { reply } => {
            let _ = reply.send(match engine {
                Ok(e) => Ok(format!(
                    "{} on {}, vocabulary {}, chat template: {}",
                    e.loaded.architecture,
                    e.device_line,
                    e.loaded.tokenizer.vocab_size(),
                    if e.loaded.tokenizer.chat_template.is_some() { "yes" } else { "no" }
                )),
                Err(e) => Err(ModelError::Local(e.clone())),
            });
        }
    }
}

fn local_error(e: impl std::fmt::Display) -> ModelError {
    ModelError::Local(e.to_string())
}

struct Engine {
    loaded: Loaded,
    device: Device,
    /// Where the model runs and why, for people.
    device_line: String,
}

impl Engine {
    fn load(spec: &LocalSpec) -> anyhow::Result<Engine> {
        let (device, device_line) = device::select(spec.device);
        if spec.fetch_default {
            default::ensure_default_model(&mut |_| {})?;
        }
        let loaded = weights::load(&spec.path, &device)?;
        Ok(Engine { loaded, device, device_line })
    }

    /// The prompt's token ids: through the chat template when the model has one.
    fn prompt_ids(&self, prompt: &Prompt) -> Result<Vec<u32>, ModelError> {
        let t = &self.loaded.tokenizer;
        let text = match &t.chat_template {
            Some(template) => {
                let name = |id: Option<u32>| id.and_then(|i| t.id_to_token(i)).unwrap_or_default();
                let eos = name(t.eos.first().copied());
                let mut text =
                    template::render(template, &prompt.instruction, &name(t.bos), &eos).map_err(local_error)?;
                text.push_str(&prompt.answer_prefix);
                text
            }
            None => prompt.completion.clone(),
        };
        // A rendered template writes its own BOS.
        t.encode(&text, t.chat_template.is_none()).map_err(local_error)
    }

    fn generate(&mut self, prompt: &Prompt, sampler: &Sampler, cancel: &Cancel) -> Result<Vec<Answer>, ModelError> {
        let ids = self.prompt_ids(prompt)?;
        let n = sampler.n.max(1) as usize;
        let sampling = Sampling {
            temperature: sampler.temperature,
            top_p: sampler.top_p,
            top_k: sampler.top_k as usize,
            repetition_penalty: sampler.repetition_penalty,
        };
        let seed = sampler.seed.unwrap_or(0);
        let mut streams: Vec<Stream> = (0..n)
            .map(|i| Stream {
                tokens: Vec::new(),
                text: String::new(),
                done: false,
                truncated: false,
                rng: Rng::new(seed.wrapping_add(i as u64)),
            })
            .collect();
        self.loaded.weights.reset();
        match self.strategy() {
            Strategy::SharedBatch => self.generate_batch(&ids, &mut streams, &sampling, sampler, cancel, true)?,
            Strategy::RepeatedBatch => self.generate_batch(&ids, &mut streams, &sampling, sampler, cancel, false)?,
            Strategy::Forks => self.generate_forks(&ids, &mut streams, &sampling, sampler, cancel)?,
        }
        Ok(streams.into_iter().map(|s| Answer { text: s.text, truncated: s.truncated }).collect())
    }

    /// How the samples of one prompt run on this model and device.
    fn strategy(&self) -> Strategy {
        let w = &self.loaded.weights;
        if w.shares_prompt() {
            Strategy::SharedBatch
        } else if self.device.is_cpu() && w.can_fork() {
            Strategy::Forks
        } else {
            Strategy::RepeatedBatch
        }
    }

    /// The prompt's logits, `rows` times: with `shared`, the prompt runs once and its cache is
    /// repeated to `rows` rows; otherwise the prompt is repeated as `rows` rows of one batch.
    fn prompt_batch(&mut self, ids: &[u32], rows: usize, shared: bool) -> Result<Vec<Vec<f32>>, ModelError> {
        let w = &mut self.loaded.weights;
        if shared {
            let first = one_row(w, &self.device, ids, 0)?;
            w.repeat_cache(rows).map_err(local_error)?;
            return Ok(vec![first; rows]);
        }
        let batch: Vec<u32> = (0..rows).flat_map(|_| ids.iter().copied()).collect();
        let input = Tensor::from_vec(batch, (rows, ids.len()), &self.device).map_err(local_error)?;
        w.forward(&input, 0).and_then(|l| l.to_vec2()).map_err(local_error)
    }

    /// All samples as one batch, one token per row per step: after the prompt ran once (`shared`:
    /// rows whose sample ended leave the batch) or as `n` rows (ended rows are fed padding).
    fn generate_batch(
        &mut self,
        ids: &[u32],
        streams: &mut [Stream],
        sampling: &Sampling,
        sampler: &Sampler,
        cancel: &Cancel,
        shared: bool,
    ) -> Result<(), ModelError> {
        let mut logits = self.prompt_batch(ids, streams.len(), shared)?;
        // The stream each row of the batch belongs to.
        let mut rows: Vec<usize> = (0..streams.len()).collect();
        let mut pos = ids.len();
        let pad = self.loaded.tokenizer.eos.first().copied().unwrap_or(0);
        loop {
            if cancel.is_cancelled() {
                return Err(ModelError::Cancelled);
            }
            let (mut next, mut kept) = (Vec::with_capacity(rows.len()), Vec::with_capacity(rows.len()));
            for (row, &i) in rows.iter().enumerate() {
                let stream = &mut streams[i];
                if stream.done {
                    next.push(pad);
                    continue;
                }
                let token = sample::sample(&mut logits[row], &stream.tokens, sampling, &mut stream.rng);
                stream.done = self.push(stream, token, sampler);
                if !stream.done || !shared {
                    next.push(if stream.done { pad } else { token });
                    kept.push(row);
                }
            }
            if streams.iter().all(|s| s.done) {
                return Ok(());
            }
            if shared && kept.len() < rows.len() {
                let keep: Vec<u32> = kept.iter().map(|&r| r as u32).collect();
                self.loaded.weights.keep_rows(&keep).map_err(local_error)?;
                rows = kept.iter().map(|&r| rows[r]).collect();
            }
            let input = Tensor::from_vec(next, (rows.len(), 1), &self.device).map_err(local_error)?;
            logits = self.loaded.weights.forward(&input, pos).and_then(|l| l.to_vec2()).map_err(local_error)?;
            pos += 1;
        }
    }

    /// One sample after another, each from a copy of the prompt's cache.
    fn generate_forks(
        &mut self,
        ids: &[u32],
        streams: &mut [Stream],
        sampling: &Sampling,
        sampler: &Sampler,
        cancel: &Cancel,
    ) -> Result<(), ModelError> {
        let first = one_row(&mut self.loaded.weights, &self.device, ids, 0)?;
        for stream in streams {
            let Some(mut model) = self.loaded.weights.fork() else { break };
            let mut logits = first.clone();
            let mut pos = ids.len();
            loop {
                if cancel.is_cancelled() {
                    return Err(ModelError::Cancelled);
                }
                let token = sample::sample(&mut logits, &stream.tokens, sampling, &mut stream.rng);
                if self.push(stream, token, sampler) {
                    break;
                }
                logits = one_row(&mut model, &self.device, &[token], pos)?;
                pos += 1;
            }
        }
        Ok(())
    }

    /// Adds a token to a sample; true when the sample is complete (end token, stop string,
    /// length). The text is cut before a stop string.
    fn push(&self, stream: &mut Stream, token: u32, sampler: &Sampler) -> bool {
        let t = &self.loaded.tokenizer;
        if t.eos.contains(&token) {
            return true;
        }
        stream.tokens.push(token);
        stream.text = t.decode(&stream.tokens).unwrap_or_default();
        if let Some(at) = sampler.stop.iter().filter_map(|s| stream.text.find(s.as_str())).min() {
            stream.text.truncate(at);
            return true;
        }
        stream.truncated = stream.tokens.len() >= sampler.max_tokens as usize;
        stream.truncated
    }

    fn measure(&mut self, text: &str, tokens: usize, n: usize, batch: bool) -> Result<Measure, ModelError> {
        let ids = self.loaded.tokenizer.encode(text, true).map_err(local_error)?;
        let n = n.max(1);
        self.loaded.weights.reset();
        let strategy = if !batch && self.loaded.weights.can_fork() && self.device.is_cpu() {
            Strategy::Forks
        } else {
            self.strategy()
        };
        let started = std::time::Instant::now();
        let first = match strategy {
            Strategy::Forks => self.prompt_batch(&ids, 1, false)?,
            Strategy::SharedBatch => self.prompt_batch(&ids, n, true)?,
            Strategy::RepeatedBatch => self.prompt_batch(&ids, n, false)?,
        };
        let prompt_seconds = started.elapsed().as_secs_f64();
        let started = std::time::Instant::now();
        let to_vecs = |l: Tensor| -> Result<Vec<Vec<f32>>, ModelError> { l.to_vec2().map_err(local_error) };
        if strategy == Strategy::Forks {
            for _ in 0..n {
                let Some(mut model) = self.loaded.weights.fork() else { break };
                let mut token = sample::argmax(&first[0]);
                for step in 0..tokens {
                    token = sample::argmax(&one_row(&mut model, &self.device, &[token], ids.len() + step)?);
                }
            }
        } else {
            let mut logits = first;
            for step in 0..tokens {
                let next: Vec<u32> = logits.iter().map(|l| sample::argmax(l)).collect();
                let input = Tensor::from_vec(next, (n, 1), &self.device).map_err(local_error)?;
                logits = to_vecs(self.loaded.weights.forward(&input, ids.len() + step).map_err(local_error)?)?;
            }
        }
        Ok(Measure {
            prompt_tokens: ids.len() * if strategy == Strategy::RepeatedBatch { n } else { 1 },
            prompt_seconds,
            generated_tokens: tokens * n,
            decode_seconds: started.elapsed().as_secs_f64(),
            batched: strategy != Strategy::Forks,
        })
    }

    fn trace(&mut self, text: &str, steps: usize, forced: &[u32]) -> Result<Trace, ModelError> {
        let ids = self.loaded.tokenizer.encode(text, true).map_err(local_error)?;
        self.loaded.weights.reset();
        let mut logits = one_row(&mut self.loaded.weights, &self.device, &ids, 0)?;
        let mut trace = Trace::default();
        for step in 0..steps {
            let token = forced.get(step).copied().unwrap_or_else(|| sample::argmax(&logits));
            trace.tokens.push(token);
            let next = one_row(&mut self.loaded.weights, &self.device, &[token], ids.len() + step)?;
            trace.logits.push(std::mem::replace(&mut logits, next));
        }
        Ok(trace)
    }

    fn p_true(&mut self, prompt: &Prompt, cancel: &Cancel) -> Result<f64, ModelError> {
        if cancel.is_cancelled() {
            return Err(ModelError::Cancelled);
        }
        let mut ids = self.prompt_ids(prompt)?;
        let t = &self.loaded.tokenizer;
        ids.extend(t.encode(" (", false).map_err(local_error)?);
        let letter = |l: &str| t.token_to_id(l).or_else(|| t.encode(l, false).ok().and_then(|v| v.last().copied()));
        let (Some(a), Some(b)) = (letter("A"), letter("B")) else {
            return Err(ModelError::Local("the vocabulary has no tokens for A and B".into()));
        };
        self.loaded.weights.reset();
        let logits = one_row(&mut self.loaded.weights, &self.device, &ids, 0)?;
        let (pa, pb) = (sample::probability(&logits, a), sample::probability(&logits, b));
        Ok(if pa + pb > 0.0 { pa / (pa + pb) } else { 0.5 })
    }
}

/// The logits after `tokens`, fed as a batch of one row starting at position `pos`.
fn one_row(w: &mut weights::Weights, device: &Device, tokens: &[u32], pos: usize) -> Result<Vec<f32>, ModelError> {
    let input = Tensor::new(tokens, device).and_then(|t| t.unsqueeze(0)).map_err(local_error)?;
    w.forward(&input, pos).and_then(|l| l.squeeze(0)?.to_vec1()).map_err(local_error)
}

/// How the samples of one prompt run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Strategy {
    /// The prompt once, its cache repeated to one row per sample, then one batch.
    SharedBatch,
    /// The prompt repeated as one row per sample of one batch.
    RepeatedBatch,
    /// The prompt once, then each sample from its own copy of the cache, one after another.
    Forks,
}

struct Stream {
    tokens: Vec<u32>,
    text: String,
    done: bool,
    /// Stopped at the token limit, not at an end token or stop string.
    truncated: bool,
    rng: Rng,
}

#[cfg(test)]
pub(crate) mod tests;
