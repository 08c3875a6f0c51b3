//! Model evidence: what a code model is asked and how its answers are read. The prompts are
//! versioned (`PROMPT_VERSION` joins the cache key of everything derived from them); answers are
//! parsed with tree-sitter and only what compiles is kept. Two backends: `local` runs a model
//! in-process with candle; `remote` asks an OpenAI-compatible server.

mod hub;
mod local;
mod parse;
mod prompts;
mod remote;

pub use hub::{HubFile, hub_cache, resolve as resolve_hub_file};
pub use local::synthetic;
pub use local::{
    Agreement, BENCH_PROMPT, DEFAULT_MODEL_NAME, DeviceChoice, Local, LocalSpec, Measure, Trace, default_model_path,
    device_line, ensure_default_model,
};
pub use parse::{candidate_function, generated_asserts};
pub use prompts::{PROMPT_VERSION, Problem, Prompt, candidate_prompt, p_true_prompt, test_prompt};
pub use remote::{Answer, ModelError, Remote, RemoteConfig, Sampler};

use crate::base::Cancel;

/// Where completions come from.
#[derive(Debug)]
pub enum Backend {
    Local(Local),
    Remote(Remote),
}

impl std::fmt::Debug for Remote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Remote").field("chat", &self.is_chat()).finish()
    }
}

impl Backend {
    /// `sampler.n` answers to `prompt`, each led by the part of the prompt that belongs to the
    /// answer (`assert `, the function's header), so that parsers read whole statements; a remote
    /// chat model's answer is returned as it is.
    pub fn generate(&self, prompt: &Prompt, sampler: &Sampler, cancel: &Cancel) -> Result<Vec<Answer>, ModelError> {
        let (answers, lead) = match self {
            Backend::Local(l) => {
                let lead = if l.uses_chat()? { &prompt.chat_lead } else { &prompt.completion_lead };
                (l.answers(prompt, sampler, cancel)?, lead.as_str())
            }
            Backend::Remote(r) if r.is_chat() => (r.answers(&prompt.instruction, sampler, cancel)?, ""),
            Backend::Remote(r) => (r.answers(&prompt.completion, sampler, cancel)?, prompt.completion_lead.as_str()),
        };
        Ok(answers.into_iter().map(|a| Answer { text: format!("{lead}{}", a.text), ..a }).collect())
    }

    /// The model's probability that the answer in a [`p_true_prompt`] is correct, where the
    /// backend can give one (OpenAI-compatible servers do not expose it uniformly: `None`).
    pub fn p_true(&self, prompt: &Prompt, cancel: &Cancel) -> Result<Option<f64>, ModelError> {
        match self {
            Backend::Local(l) => l.p_true(prompt, cancel).map(Some),
            Backend::Remote(_) => Ok(None),
        }
    }
}
