//! Model evidence (issue #4, in progress): what a code model is asked and how its answers are
//! read. The prompts are versioned (`PROMPT_VERSION` joins the cache key of everything derived
//! from them); answers are parsed with tree-sitter and only what compiles is kept. `remote` is
//! the OpenAI-compatible backend. The candle backend and the wiring into `pipeline` come next;
//! until then nothing calls this module outside its tests.

mod parse;
mod prompts;
mod remote;

pub use parse::{candidate_function, generated_asserts};
pub use prompts::{PROMPT_VERSION, Problem, candidate_prompt, p_true_prompt, test_prompt};
pub use remote::{ModelError, Remote, RemoteConfig, Sampler};
