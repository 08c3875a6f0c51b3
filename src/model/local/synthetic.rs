//! Models with a real model's shape and random weights, written by plumb itself: a tiny llama for
//! tests, and SmolLM2 / Qwen2.5-Coder shapes for benchmarks and the GPU check, where speed and the
//! agreement between devices do not depend on what the weights are. The files go through the same
//! loaders as downloaded models (GGUF, or safetensors + `config.json` + `tokenizer.json`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use candle_core::quantized::gguf_file::Value;
use candle_core::quantized::{GgmlDType, QTensor, gguf_file};
use candle_core::{DType, Device, Tensor};

use super::sample::Rng;
use super::tokenizer::{TextTokenizer, byte_level_metadata};

/// A model's shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    pub name: &'static str,
    /// `llama` or `qwen2` (qwen2 adds q/k/v biases).
    pub architecture: &'static str,
    pub layers: usize,
    pub hidden: usize,
    pub ffn: usize,
    pub heads: usize,
    pub kv_heads: usize,
    /// Vocabulary size (0: the byte-level test vocabulary's own, about 270).
    pub vocab: usize,
    /// The output projection is the embedding (no `output.weight`).
    pub tied: bool,
}

/// The shapes `plumb`'s benchmarks and GPU check use.
pub const SHAPES: [Shape; 4] = [
    Shape {
        name: "tiny",
        architecture: "llama",
        layers: 2,
        hidden: 32,
        ffn: 64,
        heads: 2,
        kv_heads: 1,
        vocab: 0,
        tied: false,
    },
    Shape {
        name: "smollm2-135m",
        architecture: "llama",
        layers: 30,
        hidden: 576,
        ffn: 1536,
        heads: 9,
        kv_heads: 3,
        vocab: 49152,
        tied: true,
    },
    Shape {
        name: "qwen2.5-0.5b",
        architecture: "qwen2",
        layers: 24,
        hidden: 896,
        ffn: 4864,
        heads: 14,
        kv_heads: 2,
        vocab: 151_936,
        tied: true,
    },
    Shape {
        name: "qwen2.5-1.5b",
        architecture: "qwen2",
        layers: 28,
        hidden: 1536,
        ffn: 8960,
        heads: 12,
        kv_heads: 2,
        vocab: 151_936,
        tied: true,
    },
];

/// The shape called `name`.
pub fn shape(name: &str) -> Option<Shape> {
    SHAPES.iter().copied().find(|s| s.name == name)
}

/// How the weights are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One GGUF file; matrices in this type (norms and biases stay F32).
    Gguf(GgmlDType),
    /// A directory in Hugging Face's layout, weights in BF16 (loaded as F32 on the CPU and BF16
    /// on a GPU).
    Safetensors,
}

impl Format {
    /// `q8_0`, `q4_0`, `q4_1`, `f16`, `f32` (GGUF) or `safetensors`.
    pub fn parse(s: &str) -> Option<Format> {
        Some(match s {
            "q8_0" => Format::Gguf(GgmlDType::Q8_0),
            "q4_0" => Format::Gguf(GgmlDType::Q4_0),
            "q4_1" => Format::Gguf(GgmlDType::Q4_1),
            "f16" => Format::Gguf(GgmlDType::F16),
            "f32" => Format::Gguf(GgmlDType::F32),
            "safetensors" => Format::Safetensors,
            _ => return None,
        })
    }

    fn label(self) -> String {
        match self {
            Format::Gguf(t) => format!("{t:?}").to_lowercase(),
            Format::Safetensors => "bf16-safetensors".into(),
        }
    }
}

impl Shape {
    fn head_dim(&self) -> usize {
        self.hidden / self.heads
    }

    /// Weight matrices and vectors in GGUF's names, row-major `(rows, cols)`; vectors have one row.
    fn tensors(&self, vocab: usize) -> Vec<(String, usize, usize, Kind)> {
        let (h, kv) = (self.hidden, self.kv_heads * self.head_dim());
        let mut out = vec![
            ("token_embd.weight".to_string(), vocab, h, Kind::Random),
            ("output_norm.weight".into(), 1, h, Kind::Ones),
        ];
        if !self.tied {
            out.push(("output.weight".into(), vocab, h, Kind::Random));
        }
        for l in 0..self.layers {
            let p = format!("blk.{l}");
            for (name, rows, cols) in [
                ("attn_q.weight", h, h),
                ("attn_k.weight", kv, h),
                ("attn_v.weight", kv, h),
                ("attn_output.weight", h, h),
                ("ffn_gate.weight", self.ffn, h),
                ("ffn_up.weight", self.ffn, h),
                ("ffn_down.weight", h, self.ffn),
            ] {
                out.push((format!("{p}.{name}"), rows, cols, Kind::Random));
            }
            out.push((format!("{p}.attn_norm.weight"), 1, h, Kind::Ones));
            out.push((format!("{p}.ffn_norm.weight"), 1, h, Kind::Ones));
            if self.architecture == "qwen2" {
                for (name, n) in [("attn_q.bias", h), ("attn_k.bias", kv), ("attn_v.bias", kv)] {
                    out.push((format!("{p}.{name}"), 1, n, Kind::Random));
                }
            }
        }
        out
    }

    /// Uniform weights in ±`amplitude`: wide enough for the tiny model's samples to differ, small
    /// enough for deep models to keep their activations in range.
    fn amplitude(&self) -> f32 {
        if self.hidden <= 64 { 0.25 } else { 0.05 }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Random,
    Ones,
}

/// Where [`write`] puts the model in `dir`: a file or a directory named after shape and format.
pub fn path(shape: &Shape, format: Format, dir: &Path, chat: bool) -> PathBuf {
    let name = format!("{}-{}{}", shape.name, format.label(), if chat { "-chat" } else { "" });
    match format {
        Format::Gguf(_) => dir.join(format!("{name}.gguf")),
        Format::Safetensors => dir.join(name),
    }
}

/// Writes the model at [`path`] and returns that path. The same `seed` gives the same weights.
/// `chat` adds a ChatML template.
pub fn write(shape: &Shape, format: Format, dir: &Path, seed: u64, chat: bool) -> anyhow::Result<PathBuf> {
    let path = path(shape, format, dir, chat);
    let mut md = byte_level_metadata(shape.vocab);
    let vocab = md["tokenizer.ggml.tokens"].to_vec().map(|v| v.len()).unwrap_or(0);
    if chat {
        md.insert(
            "tokenizer.chat_template".into(),
            Value::String("{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}".into()),
        );
    }
    let mut rng = Rng::new(seed);
    let amplitude = shape.amplitude();
    let mut values = |rows: usize, cols: usize, kind: Kind| -> anyhow::Result<Tensor> {
        let data: Vec<f32> = match kind {
            Kind::Ones => vec![1.0; rows * cols],
            Kind::Random => (0..rows * cols).map(|_| (rng.next_f64() as f32 * 2.0 - 1.0) * amplitude).collect(),
        };
        let t = Tensor::from_vec(data, (rows, cols), &Device::Cpu)?;
        Ok(if rows == 1 { t.squeeze(0)? } else { t })
    };
    match format {
        Format::Gguf(dtype) => {
            let a = shape.architecture;
            for (k, v) in [
                ("general.architecture".to_string(), Value::String(a.into())),
                (format!("{a}.attention.head_count"), Value::U32(shape.heads as u32)),
                (format!("{a}.attention.head_count_kv"), Value::U32(shape.kv_heads as u32)),
                (format!("{a}.block_count"), Value::U32(shape.layers as u32)),
                (format!("{a}.embedding_length"), Value::U32(shape.hidden as u32)),
                (format!("{a}.feed_forward_length"), Value::U32(shape.ffn as u32)),
                (format!("{a}.rope.dimension_count"), Value::U32(shape.head_dim() as u32)),
                (format!("{a}.attention.layer_norm_rms_epsilon"), Value::F32(1e-6)),
                (format!("{a}.context_length"), Value::U32(4096)),
            ] {
                md.insert(k, v);
            }
            let mut tensors: Vec<(String, QTensor)> = Vec::new();
            for (tensor, rows, cols, kind) in shape.tensors(vocab) {
                let t = values(rows, cols, kind)?;
                // Norms, biases and rows that do not fit the block size stay F32.
                let fits = rows > 1 && cols % dtype.block_size() == 0;
                tensors.push((tensor, QTensor::quantize(&t, if fits { dtype } else { GgmlDType::F32 })?));
            }
            let metadata: Vec<(&str, &Value)> = md.iter().map(|(k, v)| (k.as_str(), v)).collect();
            let refs: Vec<(&str, &QTensor)> = tensors.iter().map(|(n, t)| (n.as_str(), t)).collect();
            // Written aside and renamed: a file at `path` is always whole.
            let partial = path.with_extension("gguf.partial");
            let mut file =
                std::fs::File::create(&partial).with_context(|| format!("creating {}", partial.display()))?;
            gguf_file::write(&mut file, &metadata, &refs)?;
            std::fs::rename(&partial, &path)?;
            Ok(path)
        }
        Format::Safetensors => {
            let out = path;
            std::fs::create_dir_all(&out)?;
            let mut tensors: HashMap<String, Tensor> = HashMap::new();
            for (tensor, rows, cols, kind) in shape.tensors(vocab) {
                let t = values(rows, cols, kind)?.to_dtype(DType::BF16)?;
                tensors.insert(hf_name(&tensor), t);
            }
            candle_core::safetensors::save(&tensors, out.join("model.safetensors"))?;
            let eos = md.get("tokenizer.ggml.eos_token_id").and_then(|v| v.to_u32().ok()).unwrap_or(0);
            let config = serde_json::json!({
                "model_type": shape.architecture,
                "architectures": [if shape.architecture == "qwen2" { "Qwen2ForCausalLM" } else { "LlamaForCausalLM" }],
                "vocab_size": vocab,
                "hidden_size": shape.hidden,
                "intermediate_size": shape.ffn,
                "num_hidden_layers": shape.layers,
                "num_attention_heads": shape.heads,
                "num_key_value_heads": shape.kv_heads,
                "max_position_embeddings": 4096,
                "sliding_window": 4096,
                "max_window_layers": shape.layers,
                "tie_word_embeddings": shape.tied,
                "rope_theta": 1_000_000.0,
                "rms_norm_eps": 1e-6,
                "use_sliding_window": false,
                "hidden_act": "silu",
                "eos_token_id": eos,
            });
            std::fs::write(out.join("config.json"), serde_json::to_string_pretty(&config)?)?;
            // Last: a directory with `tokenizer.json` is whole.
            std::fs::write(out.join("tokenizer.json"), TextTokenizer::from_gguf(&md)?.to_json()?)?;
            Ok(out)
        }
    }
}

/// GGUF's tensor name in Hugging Face's layout.
fn hf_name(gguf: &str) -> String {
    let top = [
        ("token_embd.weight", "model.embed_tokens.weight"),
        ("output_norm.weight", "model.norm.weight"),
        ("output.weight", "lm_head.weight"),
    ];
    if let Some((_, hf)) = top.iter().find(|(g, _)| *g == gguf) {
        return hf.to_string();
    }
    let rest = gguf.strip_prefix("blk.").unwrap_or(gguf);
    let (layer, name) = rest.split_once('.').unwrap_or(("0", rest));
    let hf = match name {
        "attn_q.weight" => "self_attn.q_proj.weight",
        "attn_k.weight" => "self_attn.k_proj.weight",
        "attn_v.weight" => "self_attn.v_proj.weight",
        "attn_q.bias" => "self_attn.q_proj.bias",
        "attn_k.bias" => "self_attn.k_proj.bias",
        "attn_v.bias" => "self_attn.v_proj.bias",
        "attn_output.weight" => "self_attn.o_proj.weight",
        "ffn_gate.weight" => "mlp.gate_proj.weight",
        "ffn_up.weight" => "mlp.up_proj.weight",
        "ffn_down.weight" => "mlp.down_proj.weight",
        "attn_norm.weight" => "input_layernorm.weight",
        "ffn_norm.weight" => "post_attention_layernorm.weight",
        other => other,
    };
    format!("model.layers.{layer}.{hf}")
}
