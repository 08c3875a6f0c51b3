//! The real candle path on a tiny random model that the test writes itself: GGUF → weights and
//! tokenizer → chat template → sampling → text.

use std::collections::HashMap;
use std::path::Path;

use candle_core::quantized::gguf_file::Value;
use candle_core::quantized::{GgmlDType, QTensor, gguf_file};
use candle_core::{Device, Tensor};

use super::tokenizer::tests::byte_level_metadata;
use super::*;

const EMBED: usize = 32;
const FFN: usize = 64;

/// A 2-layer llama with random weights and the byte-level test vocabulary, in `dir`.
pub(crate) fn tiny_gguf(dir: &Path, dtype: GgmlDType, chat: bool) -> PathBuf {
    let mut md: HashMap<String, Value> = byte_level_metadata();
    let vocab = md["tokenizer.ggml.tokens"].to_vec().unwrap().len();
    for (k, v) in [
        ("general.architecture", Value::String("llama".into())),
        ("llama.attention.head_count", Value::U32(2)),
        ("llama.attention.head_count_kv", Value::U32(1)),
        ("llama.block_count", Value::U32(2)),
        ("llama.embedding_length", Value::U32(EMBED as u32)),
        ("llama.feed_forward_length", Value::U32(FFN as u32)),
        ("llama.rope.dimension_count", Value::U32((EMBED / 2) as u32)),
        ("llama.attention.layer_norm_rms_epsilon", Value::F32(1e-5)),
        ("llama.context_length", Value::U32(512)),
    ] {
        md.insert(k.to_string(), v);
    }
    if chat {
        md.insert(
            "tokenizer.chat_template".into(),
            Value::String("{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}".into()),
        );
    }
    let mut seed = 1u64;
    let mut random = |rows: usize, cols: usize| -> QTensor {
        let mut rng = sample::Rng::new(seed);
        seed += 1;
        let data: Vec<f32> = (0..rows * cols).map(|_| (rng.next_f64() as f32 - 0.5) * 0.5).collect();
        let t = Tensor::from_vec(data, (rows, cols), &Device::Cpu).unwrap();
        QTensor::quantize(&t, dtype).unwrap()
    };
    let ones = |n: usize| {
        QTensor::quantize(&Tensor::ones(n, candle_core::DType::F32, &Device::Cpu).unwrap(), GgmlDType::F32).unwrap()
    };
    let mut tensors: Vec<(String, QTensor)> = vec![
        ("token_embd.weight".into(), random(vocab, EMBED)),
        ("output_norm.weight".into(), ones(EMBED)),
        ("output.weight".into(), random(vocab, EMBED)),
    ];
    for l in 0..2 {
        let p = format!("blk.{l}");
        tensors.push((format!("{p}.attn_q.weight"), random(EMBED, EMBED)));
        tensors.push((format!("{p}.attn_k.weight"), random(EMBED / 2, EMBED)));
        tensors.push((format!("{p}.attn_v.weight"), random(EMBED / 2, EMBED)));
        tensors.push((format!("{p}.attn_output.weight"), random(EMBED, EMBED)));
        tensors.push((format!("{p}.ffn_gate.weight"), random(FFN, EMBED)));
        tensors.push((format!("{p}.ffn_up.weight"), random(FFN, EMBED)));
        tensors.push((format!("{p}.ffn_down.weight"), random(EMBED, FFN)));
        tensors.push((format!("{p}.attn_norm.weight"), ones(EMBED)));
        tensors.push((format!("{p}.ffn_norm.weight"), ones(EMBED)));
    }
    let metadata: Vec<(&str, &Value)> = md.iter().map(|(k, v)| (k.as_str(), v)).collect();
    let refs: Vec<(&str, &QTensor)> = tensors.iter().map(|(n, t)| (n.as_str(), t)).collect();
    let path = dir.join(format!("tiny-{dtype:?}-{chat}.gguf"));
    let mut file = std::fs::File::create(&path).unwrap();
    gguf_file::write(&mut file, &metadata, &refs).unwrap();
    path
}

fn sampler(n: u32) -> Sampler {
    Sampler {
        temperature: 0.9,
        top_p: 0.95,
        max_tokens: 12,
        n,
        seed: Some(3),
        stop: Vec::new(),
        top_k: 40,
        repetition_penalty: 1.1,
    }
}

fn prompt() -> Prompt {
    let text = "def f(x):\n    \"\"\"Twice x.\"\"\"\n";
    let problem = crate::model::Problem::of(&crate::syntax::parse(text).functions[0], text);
    crate::model::candidate_prompt(&problem)
}

#[test]
fn tiny_model_loads_generates_and_parses() {
    let dir = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    for chat in [false, true] {
        let model = Local::new(LocalSpec {
            path: tiny_gguf(dir.path(), GgmlDType::F32, chat),
            threads: 1,
            fetch_default: false,
        });
        let info = model.info().unwrap();
        assert!(info.starts_with("llama on cpu"), "{info}");
        let cancel = Cancel::new();
        let samples = model.generate(&prompt(), &sampler(3), &cancel).unwrap();
        assert_eq!(samples.len(), 3);
        // Seeded: the same request gives the same samples; samples differ from each other.
        assert_eq!(model.generate(&prompt(), &sampler(3), &cancel).unwrap(), samples);
        assert!(samples.iter().any(|s| s != &samples[0]), "{samples:?}");
        // Random weights write no valid body: the parser keeps nothing, and says so by None.
        for s in &samples {
            let _ = crate::model::candidate_function(&prompt().completion, "f", s);
        }
        // Greedy decoding with a stop string that the text must not contain.
        let mut greedy = Sampler { temperature: 0.0, n: 1, ..sampler(1) };
        let full = model.generate(&prompt(), &greedy, &cancel).unwrap().remove(0);
        if let Some(stop) = full.get(1..3).filter(|s| !s.is_empty()) {
            greedy.stop = vec![stop.to_string()];
            let cut = model.generate(&prompt(), &greedy, &cancel).unwrap().remove(0);
            assert!(!cut.contains(stop) && full.starts_with(&cut), "{full:?} / {cut:?} / {stop:?}");
        }
        let p = model.p_true(&prompt(), &cancel).unwrap();
        assert!((0.0..=1.0).contains(&p));
        cancel.cancel();
        assert_eq!(model.generate(&prompt(), &sampler(2), &cancel), Err(ModelError::Cancelled));
    }
    assert!(started.elapsed() < std::time::Duration::from_secs(10), "{:?}", started.elapsed());
}

#[test]
fn batched_and_forked_sampling_agree_on_greedy_text() {
    let dir = tempfile::tempdir().unwrap();
    let path = tiny_gguf(dir.path(), GgmlDType::F32, false);
    let mut engine = Engine::load(&LocalSpec { path, threads: 1, fetch_default: false }).unwrap();
    let greedy = Sampler { temperature: 0.0, n: 3, ..sampler(3) };
    let forked = engine.generate(&prompt(), &greedy, &Cancel::new()).unwrap();
    let ids = engine.prompt_ids(&prompt()).unwrap();
    let mut streams: Vec<Stream> =
        (0..3).map(|i| Stream { tokens: Vec::new(), text: String::new(), done: false, rng: Rng::new(i) }).collect();
    engine.loaded.weights.reset();
    let s = Sampling { temperature: 0.0, top_p: 1.0, top_k: 0, repetition_penalty: 1.1 };
    engine.generate_batch(&ids, &mut streams, &s, &greedy, &Cancel::new()).unwrap();
    let batched: Vec<String> = streams.into_iter().map(|s| s.text).collect();
    assert_eq!(forked, batched);
    assert!(forked.iter().all(|t| t == &forked[0]));
}

#[test]
fn requantized_model_still_runs() {
    let dir = tempfile::tempdir().unwrap();
    let f32_path = tiny_gguf(dir.path(), GgmlDType::F32, false);
    let q4 = tiny_gguf(dir.path(), GgmlDType::Q4_1, false);
    let bytes = default::requantize(&q4, GgmlDType::Q8_0).unwrap();
    let q8 = dir.path().join("q8.gguf");
    std::fs::write(&q8, bytes).unwrap();
    let content = gguf_file::Content::read(&mut std::fs::File::open(&q8).unwrap()).unwrap();
    assert_eq!(content.tensor_infos["blk.0.attn_q.weight"].ggml_dtype, GgmlDType::Q8_0);
    assert_eq!(content.tensor_infos["blk.0.attn_norm.weight"].ggml_dtype, GgmlDType::F32);
    assert_eq!(content.metadata["tokenizer.ggml.pre"].to_string().unwrap(), "smollm");
    for path in [f32_path, q8] {
        let model = Local::new(LocalSpec { path, threads: 1, fetch_default: false });
        assert_eq!(model.generate(&prompt(), &sampler(2), &Cancel::new()).unwrap().len(), 2);
    }
}

#[test]
fn bad_model_files_are_errors_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.gguf");
    std::fs::write(&junk, b"not a model").unwrap();
    for path in [junk, dir.path().join("missing.gguf")] {
        let model = Local::new(LocalSpec { path, threads: 1, fetch_default: false });
        let e = model.generate(&prompt(), &sampler(1), &Cancel::new()).unwrap_err();
        assert!(matches!(e, ModelError::Local(_)), "{e:?}");
        // The failure is remembered, not retried per request.
        assert_eq!(model.info().unwrap_err(), e);
    }
}

/// The real default model (SmolLM2-135M-Instruct, Q8_0), when it is installed (`plumb setup`
/// installs it; CI runs that first): its GGUF tokenizer round-trips without candle's prefix-space
/// bug, and it writes a function for a simple prompt.
#[test]
fn default_model_smoke() {
    let path = default_model_path();
    if !path.is_file() {
        #[allow(clippy::print_stderr)]
        {
            eprintln!("skipped: the default model is not installed at {} (run `plumb setup`)", path.display());
        }
        return;
    }
    let mut file = std::fs::File::open(&path).unwrap();
    let content = gguf_file::Content::read(&mut file).unwrap();
    let t = tokenizer::TextTokenizer::from_gguf(&content.metadata).unwrap();
    for text in [
        "Complete this Python function.",
        "def f(x):\n    return [x * 2 for x in range(10)]\n",
        "<|im_start|>user\nhé 🦀<|im_end|>",
    ] {
        let ids = t.encode(text, true).unwrap();
        assert_eq!(t.inner_decode(&ids), text);
    }
    let ids = t.encode("Complete", true).unwrap();
    assert_eq!(t.id_to_token(ids[0]).as_deref(), Some("Complete"), "no prefix space");
    assert_eq!(t.encode("<|im_start|>", true).unwrap().len(), 1);

    let model = Local::new(LocalSpec { path, threads: 2, fetch_default: false });
    let text = "def is_even(n: int) -> bool:\n    \"\"\"Return True when n is even.\"\"\"\n";
    let problem = crate::model::Problem::of(&crate::syntax::parse(text).functions[0], text);
    let backend = crate::model::Backend::Local(model);
    let s = Sampler { temperature: 0.2, n: 2, max_tokens: 96, stop: vec!["\n```".into()], ..sampler(2) };
    let answers = backend.generate(&crate::model::candidate_prompt(&problem), &s, &Cancel::new()).unwrap();
    let parsed: Vec<_> = answers.iter().filter_map(|a| crate::model::candidate_function("", "is_even", a)).collect();
    assert!(!parsed.is_empty(), "{answers:?}");
}
