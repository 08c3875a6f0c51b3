//! Loading a model's weights with candle: GGUF (`llama`, `qwen2`, `qwen3` architectures through
//! candle-transformers' quantized models) or safetensors + `config.json` (`llama`, `qwen2`).

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context, bail};
use candle_core::quantized::gguf_file;
use candle_core::{DType, Device, Tensor};
use candle_transformers::models::{llama, quantized_qwen2, quantized_qwen3, qwen2};

use super::llama as quantized_llama;
use super::tokenizer::TextTokenizer;

pub(crate) enum Weights {
    Llama(quantized_llama::ModelWeights),
    Qwen2(quantized_qwen2::ModelWeights),
    Qwen3(quantized_qwen3::ModelWeights),
    /// The model, its KV cache, and an empty cache to reset to (llama's cache has no reset).
    SafeLlama(Box<(llama::Llama, llama::Cache, llama::Cache)>),
    SafeQwen2(qwen2::ModelForCausalLM),
}

/// What was loaded: the weights, the tokenizer, and what to call them.
pub(crate) struct Loaded {
    pub(crate) weights: Weights,
    pub(crate) tokenizer: TextTokenizer,
    pub(crate) architecture: String,
}

impl Weights {
    /// Logits of the last position, `(batch, vocab)`. `pos` is the index of the first token of
    /// `input` in the sequence (what the KV cache already holds).
    pub(crate) fn forward(&mut self, input: &Tensor, pos: usize) -> candle_core::Result<Tensor> {
        let logits = match self {
            Weights::Llama(m) => m.forward(input, pos)?,
            Weights::Qwen2(m) => m.forward(input, pos)?,
            Weights::Qwen3(m) => m.forward(input, pos)?,
            Weights::SafeLlama(b) => {
                let (m, cache, _) = &mut **b;
                m.forward(input, pos, cache)?
            }
            Weights::SafeQwen2(m) => m.forward(input, pos)?,
        };
        let logits = if logits.rank() == 3 { logits.squeeze(1)? } else { logits };
        logits.to_dtype(DType::F32)
    }

    /// A copy sharing the weights and the KV cache so far (tensors are reference-counted), when
    /// the model type allows it; the copy then extends its own cache.
    pub(crate) fn fork(&self) -> Option<Weights> {
        match self {
            Weights::Llama(m) => m.fork().ok().map(Weights::Llama),
            Weights::Qwen3(m) => Some(Weights::Qwen3(m.clone())),
            Weights::SafeLlama(b) => Some(Weights::SafeLlama(b.clone())),
            Weights::SafeQwen2(m) => Some(Weights::SafeQwen2(m.clone())),
            Weights::Qwen2(_) => None,
        }
    }

    /// Whether the prompt's cache can be repeated across a batch ([`Weights::repeat_cache`]) and
    /// rows dropped from it ([`Weights::keep_rows`]): the samples of one prompt then decode as one
    /// batch after the prompt ran once.
    pub(crate) fn shares_prompt(&self) -> bool {
        matches!(self, Weights::Llama(_))
    }

    /// See [`Weights::shares_prompt`].
    pub(crate) fn repeat_cache(&mut self, n: usize) -> candle_core::Result<()> {
        match self {
            Weights::Llama(m) => m.repeat_cache(n),
            _ => candle_core::bail!("this model's cache cannot be repeated"),
        }
    }

    /// See [`Weights::shares_prompt`].
    pub(crate) fn keep_rows(&mut self, rows: &[u32]) -> candle_core::Result<()> {
        match self {
            Weights::Llama(m) => m.keep_rows(rows),
            _ => candle_core::bail!("this model's cache rows cannot be dropped"),
        }
    }

    /// Whether [`Weights::fork`] works, without making a copy.
    pub(crate) fn can_fork(&self) -> bool {
        !matches!(self, Weights::Qwen2(_))
    }

    pub(crate) fn reset(&mut self) {
        match self {
            Weights::Llama(m) => m.clear_kv_cache(),
            Weights::Qwen2(m) => m.clear_kv_cache(),
            Weights::Qwen3(m) => m.clear_kv_cache(),
            Weights::SafeLlama(b) => {
                let (_, cache, empty) = &mut **b;
                *cache = empty.clone();
            }
            Weights::SafeQwen2(m) => m.clear_kv_cache(),
        }
    }
}

/// GGUF or a safetensors directory/file, by what `path` is.
pub(crate) fn load(path: &Path, device: &Device) -> anyhow::Result<Loaded> {
    if path.is_dir() || path.extension().is_some_and(|e| e == "safetensors") {
        return load_safetensors(path, device);
    }
    let mut file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let content = gguf_file::Content::read(&mut file)
        .map_err(|e| anyhow::anyhow!("{} is not a GGUF model: {e}", path.display()))?;
    let architecture = content
        .metadata
        .get("general.architecture")
        .and_then(|v| v.to_string().ok())
        .cloned()
        .unwrap_or_else(|| "llama".into());
    let sidecar = path.with_file_name("tokenizer.json");
    let tokenizer = if sidecar.is_file() {
        TextTokenizer::from_json(&std::fs::read(&sidecar)?, Some(&content.metadata))?
    } else {
        TextTokenizer::from_gguf(&content.metadata)?
    };
    let weights = match architecture.as_str() {
        "llama" => Weights::Llama(quantized_llama::ModelWeights::from_gguf(content, &mut file, device)?),
        "qwen2" => Weights::Qwen2(quantized_qwen2::ModelWeights::from_gguf(content, &mut file, device)?),
        "qwen3" => Weights::Qwen3(quantized_qwen3::ModelWeights::from_gguf(content, &mut file, device)?),
        other => bail!("unsupported GGUF architecture {other:?} (supported: llama, qwen2, qwen3)"),
    };
    Ok(Loaded { weights, tokenizer, architecture })
}

fn load_safetensors(path: &Path, device: &Device) -> anyhow::Result<Loaded> {
    let dir = if path.is_dir() { path.to_path_buf() } else { path.parent().unwrap_or(Path::new(".")).to_path_buf() };
    let files: Vec<std::path::PathBuf> = if path.is_dir() {
        let mut f: Vec<_> = std::fs::read_dir(&dir)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "safetensors"))
            .collect();
        f.sort();
        f
    } else {
        vec![path.to_path_buf()]
    };
    if files.is_empty() {
        bail!("{} holds no .safetensors files", dir.display());
    }
    let config_text = std::fs::read_to_string(dir.join("config.json"))
        .with_context(|| format!("reading {}", dir.join("config.json").display()))?;
    let config: serde_json::Value = serde_json::from_str(&config_text)?;
    let tokenizer = TextTokenizer::from_json(
        &std::fs::read(dir.join("tokenizer.json"))
            .with_context(|| format!("reading {}/tokenizer.json", dir.display()))?,
        None,
    )?;
    let mut tokenizer = tokenizer;
    if let Some(t) = std::fs::read_to_string(dir.join("tokenizer_config.json"))
        .ok()
        .and_then(|s| serde_json::from_str::<serde_json::Value>(&s).ok())
        .and_then(|v| v["chat_template"].as_str().map(str::to_string))
    {
        tokenizer.chat_template = Some(t);
    }
    let dtype = if device.is_cpu() { DType::F32 } else { DType::BF16 };
    let mut tensors: HashMap<String, Tensor> = HashMap::new();
    for f in &files {
        tensors.extend(candle_core::safetensors::load(f, device)?);
    }
    let vb = candle_nn::VarBuilder::from_tensors(tensors, dtype, device);
    let architecture = config["model_type"].as_str().unwrap_or("").to_string();
    let weights = match architecture.as_str() {
        "llama" => {
            let cfg: llama::LlamaConfig = serde_json::from_str(&config_text)?;
            let cfg = cfg.into_config(false);
            let cache = llama::Cache::new(true, dtype, &cfg, device)?;
            Weights::SafeLlama(Box::new((llama::Llama::load(vb, &cfg)?, cache.clone(), cache)))
        }
        "qwen2" => {
            let cfg: qwen2::Config = serde_json::from_str(&config_text)?;
            Weights::SafeQwen2(qwen2::ModelForCausalLM::new(&cfg, vb)?)
        }
        other => bail!("unsupported safetensors model_type {other:?} (supported: llama, qwen2)"),
    };
    if let Some(eos) = config["eos_token_id"].as_u64() {
        tokenizer.eos.push(eos as u32);
    }
    Ok(Loaded { weights, tokenizer, architecture })
}
