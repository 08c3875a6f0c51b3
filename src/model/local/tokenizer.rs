//! Text ↔ token ids for a local model: `tokenizer.json` when the model has one, otherwise a
//! Hugging Face tokenizer built from the GGUF metadata (byte-level BPE for `gpt2`-kind vocabularies,
//! SentencePiece-style BPE with byte fallback for `llama`-kind ones). candle's own GGUF tokenizer
//! adds a prefix space to SmolLM2 prompts ("Complete" → " Complete") and rejects SentencePiece
//! vocabularies, hence this.

use std::collections::HashMap;

use anyhow::{Context, anyhow, bail};
use candle_core::quantized::gguf_file::Value;
use serde_json::{Value as Json, json};

/// GGUF `tokenizer.ggml.token_type` values.
const TOKEN_CONTROL: i32 = 3;
const TOKEN_USER_DEFINED: i32 = 4;

pub(crate) struct TextTokenizer {
    inner: tokenizers::Tokenizer,
    pub(crate) bos: Option<u32>,
    /// Tokens that end a generation (the model's end of sequence, and end of turn for chat models).
    pub(crate) eos: Vec<u32>,
    pub(crate) add_bos: bool,
    pub(crate) chat_template: Option<String>,
}

impl TextTokenizer {
    /// From a `tokenizer.json` (ids for BOS/EOS from the GGUF metadata or the usual token names).
    pub(crate) fn from_json(bytes: &[u8], metadata: Option<&HashMap<String, Value>>) -> anyhow::Result<Self> {
        let inner = tokenizers::Tokenizer::from_bytes(bytes).map_err(|e| anyhow!("tokenizer.json: {e}"))?;
        let mut t = TextTokenizer { inner, bos: None, eos: Vec::new(), add_bos: false, chat_template: None };
        if let Some(md) = metadata {
            t.read_special(md);
        }
        if t.eos.is_empty() {
            for name in ["<|endoftext|>", "</s>", "<|im_end|>", "<|end_of_text|>", "<|eot_id|>"] {
                if let Some(id) = t.inner.token_to_id(name) {
                    t.eos.push(id);
                }
            }
        }
        Ok(t)
    }

    /// Built from the GGUF metadata alone.
    pub(crate) fn from_gguf(md: &HashMap<String, Value>) -> anyhow::Result<Self> {
        let json = tokenizer_json(md)?;
        let inner = tokenizers::Tokenizer::from_bytes(json.to_string().as_bytes())
            .map_err(|e| anyhow!("building the tokenizer from GGUF metadata: {e}"))?;
        let mut t = TextTokenizer { inner, bos: None, eos: Vec::new(), add_bos: false, chat_template: None };
        t.read_special(md);
        Ok(t)
    }

    /// The tokenizer as a `tokenizer.json` (for models plumb writes itself).
    pub(crate) fn to_json(&self) -> anyhow::Result<String> {
        self.inner.to_string(false).map_err(|e| anyhow!("serialising the tokenizer: {e}"))
    }

    fn read_special(&mut self, md: &HashMap<String, Value>) {
        let id = |k: &str| md.get(k).and_then(|v| v.to_u32().ok());
        self.bos = id("tokenizer.ggml.bos_token_id");
        self.add_bos = md.get("tokenizer.ggml.add_bos_token").and_then(|v| v.to_bool().ok()).unwrap_or(
            // SentencePiece vocabularies start every prompt with BOS unless told otherwise.
            md.get("tokenizer.ggml.model").and_then(|v| v.to_string().ok()).is_some_and(|m| m == "llama"),
        );
        for key in ["tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id"] {
            if let Some(e) = id(key)
                && !self.eos.contains(&e)
            {
                self.eos.push(e);
            }
        }
        // Chat models end a turn with their own token, often not the EOS the metadata names.
        for name in ["<|im_end|>", "<|eot_id|>", "<|end|>", "<end_of_turn>"] {
            if let Some(e) = self.inner.token_to_id(name)
                && !self.eos.contains(&e)
            {
                self.eos.push(e);
            }
        }
        self.chat_template = md.get("tokenizer.chat_template").and_then(|v| v.to_string().ok()).cloned();
    }

    /// Token ids of `text`; special tokens written in the text (`<|im_start|>`) become their ids.
    pub(crate) fn encode(&self, text: &str, with_bos: bool) -> anyhow::Result<Vec<u32>> {
        let encoding = self.inner.encode(text, false).map_err(|e| anyhow!("tokenizing: {e}"))?;
        let mut ids = Vec::with_capacity(encoding.len() + 1);
        if with_bos
            && self.add_bos
            && let Some(bos) = self.bos
        {
            ids.push(bos);
        }
        ids.extend_from_slice(encoding.get_ids());
        Ok(ids)
    }

    pub(crate) fn decode(&self, ids: &[u32]) -> anyhow::Result<String> {
        self.inner.decode(ids, true).map_err(|e| anyhow!("detokenizing: {e}"))
    }

    /// Decoding that keeps special tokens (round-trip checks).
    #[cfg(test)]
    pub(crate) fn inner_decode(&self, ids: &[u32]) -> String {
        self.inner.decode(ids, false).unwrap_or_default()
    }

    pub(crate) fn token_to_id(&self, token: &str) -> Option<u32> {
        self.inner.token_to_id(token)
    }

    pub(crate) fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }

    pub(crate) fn id_to_token(&self, id: u32) -> Option<String> {
        self.inner.id_to_token(id)
    }
}

fn strings(md: &HashMap<String, Value>, key: &str) -> anyhow::Result<Vec<String>> {
    let values = md.get(key).with_context(|| format!("the GGUF has no {key}"))?.to_vec()?;
    values.iter().map(|v| Ok(v.to_string()?.clone())).collect()
}

/// A `tokenizer.json` document equivalent to the GGUF's vocabulary, in Hugging Face's format.
fn tokenizer_json(md: &HashMap<String, Value>) -> anyhow::Result<Json> {
    let kind = md.get("tokenizer.ggml.model").context("the GGUF has no tokenizer.ggml.model")?.to_string()?.clone();
    let tokens = strings(md, "tokenizer.ggml.tokens")?;
    let types: Vec<i32> = match md.get("tokenizer.ggml.token_type") {
        Some(v) => v.to_vec()?.iter().map(|t| t.to_i32().unwrap_or(1)).collect(),
        None => vec![1; tokens.len()],
    };
    let special_ids: Vec<Option<u32>> = ["bos", "eos", "eot", "unknown", "padding"]
        .iter()
        .map(|k| md.get(&format!("tokenizer.ggml.{k}_token_id")).and_then(|v| v.to_u32().ok()))
        .collect();
    let mut added = Vec::new();
    for (id, token) in tokens.iter().enumerate() {
        let ty = types.get(id).copied().unwrap_or(1);
        let named = special_ids.contains(&Some(id as u32));
        if ty == TOKEN_CONTROL || ty == TOKEN_USER_DEFINED || named {
            added.push(json!({
                "id": id, "content": token, "single_word": false, "lstrip": false, "rstrip": false,
                "normalized": false, "special": ty != TOKEN_USER_DEFINED,
            }));
        }
    }
    let vocab: serde_json::Map<String, Json> =
        tokens.iter().enumerate().map(|(id, t)| (t.clone(), json!(id))).collect();
    match kind.as_str() {
        "gpt2" => {
            let merges: Vec<Json> = strings(md, "tokenizer.ggml.merges")?
                .iter()
                .filter_map(|m| m.split_once(' ').map(|(a, b)| json!([a, b])))
                .collect();
            let pre = md.get("tokenizer.ggml.pre").and_then(|v| v.to_string().ok()).map(String::as_str);
            Ok(json!({
                "version": "1.0", "truncation": null, "padding": null, "added_tokens": added,
                "normalizer": null,
                "pre_tokenizer": byte_level_pre_tokenizer(pre.unwrap_or("default")),
                "post_processor": null,
                "decoder": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true},
                "model": {
                    "type": "BPE", "dropout": null, "unk_token": null, "continuing_subword_prefix": null,
                    "end_of_word_suffix": null, "fuse_unk": false, "byte_fallback": false,
                    "ignore_merges": pre == Some("llama-bpe"), "vocab": vocab, "merges": merges,
                },
            }))
        }
        "llama" => {
            let scores: Vec<f32> = match md.get("tokenizer.ggml.scores") {
                Some(v) => v.to_vec()?.iter().map(|s| s.to_f32().unwrap_or(0.0)).collect(),
                None => (0..tokens.len()).map(|i| -(i as f32)).collect(),
            };
            let unk = special_ids[3].and_then(|i| tokens.get(i as usize)).cloned();
            Ok(json!({
                "version": "1.0", "truncation": null, "padding": null, "added_tokens": added,
                "normalizer": {"type": "Sequence", "normalizers": [
                    {"type": "Prepend", "prepend": "\u{2581}"},
                    {"type": "Replace", "pattern": {"String": " "}, "content": "\u{2581}"},
                ]},
                "pre_tokenizer": null,
                "post_processor": null,
                "decoder": {"type": "Sequence", "decoders": [
                    {"type": "Replace", "pattern": {"String": "\u{2581}"}, "content": " "},
                    {"type": "ByteFallback"},
                    {"type": "Fuse"},
                    {"type": "Strip", "content": " ", "start": 1, "stop": 0},
                ]},
                "model": {
                    "type": "BPE", "dropout": null, "unk_token": unk, "continuing_subword_prefix": null,
                    "end_of_word_suffix": null, "fuse_unk": true, "byte_fallback": true, "ignore_merges": false,
                    "vocab": vocab, "merges": sentencepiece_merges(&tokens, &types, &scores),
                },
            }))
        }
        other => {
            bail!("unsupported tokenizer kind {other:?} (supported: gpt2, llama); give the model a tokenizer.json")
        }
    }
}

/// The pre-tokenizer llama.cpp's `tokenizer.ggml.pre` names.
fn byte_level_pre_tokenizer(pre: &str) -> Json {
    const LLAMA3: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
    const QWEN2: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
    let byte_level = |use_regex: bool| json!({"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": use_regex});
    let split =
        |regex: &str| json!({"type": "Split", "pattern": {"Regex": regex}, "behavior": "Isolated", "invert": false});
    match pre {
        // SmolLM and StarCoder: every digit on its own, then GPT-2's byte-level split.
        "smollm" | "starcoder" | "refact" => json!({"type": "Sequence", "pretokenizers": [
            {"type": "Digits", "individual_digits": true}, byte_level(true),
        ]}),
        "qwen2" | "deepseek-r1-qwen" => json!({"type": "Sequence", "pretokenizers": [split(QWEN2), byte_level(false)]}),
        "llama-bpe" | "llama3" | "smaug-bpe" => {
            json!({"type": "Sequence", "pretokenizers": [split(LLAMA3), byte_level(false)]})
        }
        _ => byte_level(true),
    }
}

/// SentencePiece vocabularies carry scores instead of merges: every way of splitting a piece into
/// two pieces of the vocabulary is a merge, ranked by the score of the piece it makes.
fn sentencepiece_merges(tokens: &[String], types: &[i32], scores: &[f32]) -> Vec<Json> {
    let ids: HashMap<&str, usize> = tokens.iter().enumerate().map(|(i, t)| (t.as_str(), i)).collect();
    let mut merges: Vec<(f32, usize, usize, usize)> = Vec::new();
    for (id, token) in tokens.iter().enumerate() {
        if types.get(id).is_some_and(|&t| t != 1) {
            continue;
        }
        for (at, _) in token.char_indices().skip(1) {
            let (a, b) = token.split_at(at);
            if let (Some(&ia), Some(&ib)) = (ids.get(a), ids.get(b)) {
                merges.push((scores.get(id).copied().unwrap_or(0.0), id, ia, ib));
            }
        }
    }
    merges.sort_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)).then(x.2.cmp(&y.2)));
    merges.into_iter().map(|(_, _, a, b)| json!([tokens[a], tokens[b]])).collect()
}

fn s(v: &str) -> Value {
    Value::String(v.to_string())
}
fn list(items: &[&str]) -> Value {
    Value::Array(items.iter().map(|t| s(t)).collect())
}

/// A GPT-2 byte-level vocabulary for models plumb writes itself (tests, benchmarks, the GPU
/// check): every byte, a few merges and ChatML's control tokens, then unused control tokens up to
/// `size` entries (a real model's vocabulary size), when that is more.
pub(crate) fn byte_level_metadata(size: usize) -> HashMap<String, Value> {
    let mut tokens: Vec<String> = byte_alphabet();
    let merges = ["Ġ t", "h e", "Ġt he", "d e", "de f", "Ġ f", "i n", "( x"];
    for m in merges {
        tokens.push(m.replace(' ', ""));
    }
    tokens.push("<|im_start|>".into());
    tokens.push("<|im_end|>".into());
    let n = tokens.len();
    let mut types = vec![Value::I32(1); n];
    types[n - 2] = Value::I32(TOKEN_CONTROL);
    types[n - 1] = Value::I32(TOKEN_CONTROL);
    for i in n..size {
        tokens.push(format!("<|unused_{i}|>"));
        types.push(Value::I32(TOKEN_CONTROL));
    }
    let token_refs: Vec<&str> = tokens.iter().map(String::as_str).collect();
    HashMap::from([
        ("tokenizer.ggml.model".to_string(), s("gpt2")),
        ("tokenizer.ggml.pre".to_string(), s("smollm")),
        ("tokenizer.ggml.tokens".to_string(), list(&token_refs)),
        ("tokenizer.ggml.token_type".to_string(), Value::Array(types)),
        ("tokenizer.ggml.merges".to_string(), list(&merges)),
        ("tokenizer.ggml.eos_token_id".to_string(), Value::U32(n as u32 - 1)),
        ("tokenizer.ggml.add_bos_token".to_string(), Value::Bool(false)),
    ])
}

/// The 256 printable stand-ins GPT-2 uses for bytes, in byte order.
pub(crate) fn byte_alphabet() -> Vec<String> {
    let printable: Vec<u32> = (b'!' as u32..=b'~' as u32).chain(0xA1..=0xAC).chain(0xAE..=0xFF).collect();
    let mut out = vec![String::new(); 256];
    for &b in &printable {
        out[b as usize] = char::from_u32(b).unwrap().to_string();
    }
    let mut extra = 0;
    for b in 0..256u32 {
        if !printable.contains(&b) {
            out[b as usize] = char::from_u32(256 + extra).unwrap().to_string();
            extra += 1;
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn byte_level_round_trips_without_a_prefix_space() {
        let t = TextTokenizer::from_gguf(&byte_level_metadata(0)).unwrap();
        for text in
            ["Complete this", "def f(x):\n    return x + 12", " the thé 🦀\t\n", "<|im_start|>user\nhi<|im_end|>"]
        {
            let ids = t.encode(text, true).unwrap();
            assert_eq!(t.inner.decode(&ids, false).unwrap(), text, "{ids:?}");
        }
        // No prefix space: "Complete" starts with the byte 'C', not 'Ġ'.
        let ids = t.encode("Complete", true).unwrap();
        assert_eq!(t.id_to_token(ids[0]).as_deref(), Some("C"));
        // Merges apply; digits are split one by one; control tokens are single ids.
        let ids = t.encode(" the 12", true).unwrap();
        let pieces: Vec<String> = ids.iter().map(|&i| t.id_to_token(i).unwrap()).collect();
        assert_eq!(pieces, ["Ġthe", "Ġ", "1", "2"]);
        assert_eq!(t.encode("<|im_end|>", true).unwrap().len(), 1);
        assert_eq!(t.eos, vec![t.token_to_id("<|im_end|>").unwrap()]);
        // Special tokens are dropped when decoding generated text.
        assert_eq!(t.decode(&t.encode("x<|im_end|>", true).unwrap()).unwrap(), "x");
    }

    #[test]
    fn sentencepiece_round_trips_with_byte_fallback() {
        let mut tokens = vec!["<unk>".to_string(), "<s>".into(), "</s>".into()];
        tokens.extend((0..256).map(|b| format!("<0x{b:02X}>")));
        let pieces = ["▁", "d", "e", "f", "x", "(", ")", ":", "▁d", "▁de", "▁def", "▁x", "re", "r", "t", "u", "n"];
        tokens.extend(pieces.iter().map(|p| p.to_string()));
        let mut types = vec![Value::I32(2), Value::I32(3), Value::I32(3)];
        types.extend((0..256).map(|_| Value::I32(6)));
        types.extend(pieces.iter().map(|_| Value::I32(1)));
        let scores: Vec<Value> = (0..tokens.len()).map(|i| Value::F32(-(i as f32))).collect();
        let token_refs: Vec<&str> = tokens.iter().map(String::as_str).collect();
        let md = HashMap::from([
            ("tokenizer.ggml.model".to_string(), s("llama")),
            ("tokenizer.ggml.tokens".to_string(), list(&token_refs)),
            ("tokenizer.ggml.token_type".to_string(), Value::Array(types)),
            ("tokenizer.ggml.scores".to_string(), Value::Array(scores)),
            ("tokenizer.ggml.bos_token_id".to_string(), Value::U32(1)),
            ("tokenizer.ggml.eos_token_id".to_string(), Value::U32(2)),
            ("tokenizer.ggml.unknown_token_id".to_string(), Value::U32(0)),
        ]);
        let t = TextTokenizer::from_gguf(&md).unwrap();
        let ids = t.encode("def f(x): return x ü", true).unwrap();
        assert_eq!(ids[0], 1, "BOS first");
        assert_eq!(t.id_to_token(ids[1]).as_deref(), Some("▁def"));
        // "ü" is not in the vocabulary: it falls back to its two UTF-8 bytes and decodes back.
        assert!(ids.contains(&(3 + 0xC3)), "{ids:?}");
        assert_eq!(t.decode(&ids).unwrap(), "def f(x): return x ü");
    }
}
