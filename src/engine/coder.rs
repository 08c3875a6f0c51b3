//! The configured model as a source of evidence for one function: CodeT unit tests and candidate
//! solutions (PLUM stages 1–2), and the model's own P(True) for the user's function. Everything
//! here is only proposed: the sandbox runs it and the judge weighs it.

use crate::base::Cancel;
use crate::evidence::Proposals;
use crate::model::{Backend, ModelError, Problem, Sampler};
use crate::syntax::Function;

use super::settings::{LocalModel, ModelChoice};

/// Generated tests kept per function.
const MAX_TESTS: usize = 20;

/// A model and how it is sampled.
pub struct Coder {
    pub backend: Backend,
    /// The JSON's `evidence.model`.
    pub name: String,
    pub tests: Sampler,
    pub candidates: Sampler,
    /// Ask for P(True) (one forward pass over the function; local models only).
    pub p_true: bool,
    /// Where a local model runs (`gpu (CUDA device 0)`, `cpu`).
    pub device: Option<String>,
}

impl std::fmt::Debug for Coder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Coder").field("name", &self.name).field("tests", &self.tests).finish()
    }
}

fn sampler(n: u32, max_tokens: u32, stop: &[&str]) -> Sampler {
    Sampler {
        temperature: 0.8,
        top_p: 0.95,
        max_tokens,
        n,
        seed: Some(0),
        stop: stop.iter().map(|s| s.to_string()).collect(),
        top_k: 0,
        repetition_penalty: 1.0,
    }
}

const STOPS: &[&str] = &["\n\n\n", "\ndef ", "\nclass ", "\nif __name__", "\n```", "```\n"];

impl Coder {
    /// Through an OpenAI-compatible server; the key comes from `$PLUMB_MODEL_API_KEY`.
    pub fn remote(url: &str, model: &str, chat: bool, samples: u32) -> Coder {
        let remote = crate::model::Remote::new(crate::model::RemoteConfig {
            base_url: url.to_string(),
            model: model.to_string(),
            api_key: std::env::var("PLUMB_MODEL_API_KEY").ok().filter(|k| !k.is_empty()),
            timeout: std::time::Duration::from_secs(120),
            retries: 3,
            chat,
        });
        // A chat answer puts its code in a fenced block after some prose: no stop sequence may cut
        // it before the fence (the parsers take the code out of the block).
        let stops: &[&str] = if chat { &[] } else { STOPS };
        Coder {
            backend: Backend::Remote(remote),
            name: model.to_string(),
            tests: sampler(samples, 300, stops),
            candidates: sampler(samples, 400, stops),
            p_true: false,
            device: None,
        }
    }

    /// A model run in this process with candle (`name` is what the JSON reports).
    pub fn local(spec: crate::model::LocalSpec, name: &str, samples: u32) -> Coder {
        let mut tests = sampler(samples.div_ceil(2).max(1), 128, STOPS);
        tests.repetition_penalty = 1.05;
        let mut candidates = sampler(samples, 192, STOPS);
        candidates.repetition_penalty = 1.05;
        let device = Some(crate::model::device_line(spec.device));
        Coder {
            device,
            backend: Backend::Local(crate::model::Local::new(spec)),
            name: name.to_string(),
            tests,
            candidates,
            p_true: true,
        }
    }

    /// The model `choice` names, `None` when it is off. With `fetch`, a missing default model is
    /// fetched now (`status` hears about it); without, by the model thread when it is first asked
    /// for something (the editor's case: nothing blocks).
    pub fn from_choice(
        choice: &ModelChoice,
        samples: u32,
        fetch: bool,
        status: &mut dyn FnMut(&str),
    ) -> Result<Option<Coder>, String> {
        match choice {
            ModelChoice::Off => Ok(None),
            ModelChoice::Remote { url, name, chat } => Ok(Some(Coder::remote(url, name, *chat, samples))),
            ModelChoice::Local { model: LocalModel::Default, threads } => {
                let path = crate::model::default_model_path();
                let fetch_default = if fetch {
                    crate::model::ensure_default_model(status).map_err(|e| format!("{e:#}"))?;
                    false
                } else {
                    !path.is_file()
                };
                let spec =
                    crate::model::LocalSpec { threads: *threads, fetch_default, ..crate::model::LocalSpec::new(path) };
                Ok(Some(Coder::local(spec, crate::model::DEFAULT_MODEL_NAME, samples)))
            }
            ModelChoice::Local { model: LocalModel::Hub(file), threads } => {
                let path = crate::model::resolve_hub_file(file, status).map_err(|e| format!("{e:#}"))?;
                let spec = crate::model::LocalSpec { threads: *threads, ..crate::model::LocalSpec::new(path) };
                Ok(Some(Coder::local(spec, &file.to_string(), samples)))
            }
            ModelChoice::Local { model: LocalModel::Path(p), threads } => {
                if !p.exists() {
                    return Err(format!("no model at {}", p.display()));
                }
                let name =
                    p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| p.display().to_string());
                let spec = crate::model::LocalSpec { threads: *threads, ..crate::model::LocalSpec::new(p.clone()) };
                Ok(Some(Coder::local(spec, &name, samples)))
            }
        }
    }

    /// The model's name, and where it runs when it runs here.
    pub fn describe(&self) -> String {
        match &self.device {
            Some(device) => format!("{} on {device}", self.name),
            None => self.name.clone(),
        }
    }

    /// Part of the cache key of everything derived from this model.
    pub(crate) fn fingerprint(&self) -> String {
        format!("{}:{}:{:?}:{:?}:{}", self.name, crate::model::PROMPT_VERSION, self.tests, self.candidates, self.p_true)
    }

    /// Tests and candidates for one function: CodeT asserts from every sample, deduplicated (an
    /// answer cut at the token limit loses its unfinished last line); candidates that parse, from
    /// answers that ended (a cut-off body is not a solution), identical ones kept: each sample is
    /// a vote in the consensus.
    pub fn generate(&self, function: &Function, text: &str, cancel: &Cancel) -> Result<Proposals, ModelError> {
        let problem = Problem::of(function, text);
        let mut out = Proposals { model: self.name.clone(), ..Proposals::default() };
        for sample in self.backend.generate(&crate::model::test_prompt(&problem), &self.tests, cancel)? {
            let text = match sample.text.rfind('\n') {
                Some(end) if sample.truncated => &sample.text[..end],
                _ if sample.truncated => "",
                _ => sample.text.as_str(),
            };
            for t in crate::model::generated_asserts(&problem.entry_point, text) {
                if out.tests.len() < MAX_TESTS && !out.tests.contains(&t) {
                    out.tests.push(t);
                }
            }
        }
        let prompt = crate::model::candidate_prompt(&problem);
        for sample in self.backend.generate(&prompt, &self.candidates, cancel)? {
            if let Some(c) = crate::model::candidate_function(&prompt.completion, &problem.entry_point, &sample.text)
                && !(sample.truncated && cut_inside(&sample.text, &c))
            {
                out.candidates.push(c);
            }
        }
        if self.p_true {
            let own = &text[function.range.start..function.range.end];
            let ideas: Vec<&str> = out.candidates.iter().take(1).map(String::as_str).collect();
            out.p_true = self.backend.p_true(&crate::model::p_true_prompt(&problem, &ideas, own), cancel)?;
        }
        Ok(out)
    }
}

/// The answer ends inside the candidate function: a cut at the token limit fell in its body.
fn cut_inside(answer: &str, candidate: &str) -> bool {
    let last = candidate.trim_end().lines().last().unwrap_or("").trim();
    answer.trim_end().ends_with(last)
}
