//! Model speed: `cargo bench --bench model_bench` (add `--features cuda` on an NVIDIA machine).
//!
//! Prints, for the default model (SmolLM2-135M-Instruct, Q8_0; or `PLUMB_BENCH_MODEL=path`):
//! prompt and decode tokens/s single-stream, the throughput of 8 samples of one prompt (KV cache
//! shared on the CPU, one batch on a GPU) and its ratio to single-stream, the time plumb takes to
//! get 8 candidates + tests for one function, and, when `PLUMB_LLAMA_BENCH` names llama.cpp's
//! `llama-bench`, llama.cpp's figures on the same GGUF with the same thread count, and the ratios.
//!
//! `PLUMB_BENCH_RANDOM=1` runs on a model with SmolLM2's shape and random weights written by the
//! bench itself (speed does not depend on the values): for machines that cannot fetch the model.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use plumb::model::{BENCH_PROMPT as PROMPT, Local, LocalSpec, Measure};

fn main() {
    let threads: usize = std::env::var("PLUMB_BENCH_THREADS")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1));
    let dir = tempfile::tempdir().expect("tempdir");
    let path = match std::env::var_os("PLUMB_BENCH_MODEL") {
        Some(p) => PathBuf::from(p),
        None if std::env::var_os("PLUMB_BENCH_RANDOM").is_some() => random_smollm2(dir.path()),
        None => plumb::model::ensure_default_model(&mut |m| eprintln!("plumb: {m}")).expect("the default model"),
    };
    let model = Local::new(LocalSpec { threads, ..LocalSpec::new(path.clone()) });
    println!("model: {} ({})", path.display(), model.info().expect("model loads"));
    println!("threads: {threads}");
    // Warm-up (page the weights in, build the thread pool).
    model.measure(PROMPT, 4, 1).expect("warm-up");

    let one: Measure = best(&model, 1, true);
    let eight: Measure = best(&model, 8, true);
    let baseline: Measure = best(&model, 8, false);
    let rate = |tokens: usize, secs: f64| tokens as f64 / secs.max(1e-9);
    let (pp, tg) = (rate(one.prompt_tokens, one.prompt_seconds), rate(one.generated_tokens, one.decode_seconds));
    let tg8 = rate(eight.generated_tokens, eight.decode_seconds);
    println!("plumb  prompt  {pp:8.1} tok/s   ({} tokens)", one.prompt_tokens);
    println!("plumb  decode  {tg:8.1} tok/s   (1 stream, 64 tokens)");
    println!(
        "plumb  decode  {tg8:8.1} tok/s   (8 samples of one prompt, {}), {:.2}x single-stream",
        if eight.batched { "one batch" } else { "shared prompt cache, one after another" },
        tg8 / tg
    );
    // What a check pays: 8 samples against one, prompt included (target: at most 2.5x), against
    // the same 8 samples decoded one after another from copies of the prompt's cache.
    let cost = |m: &Measure| m.prompt_seconds + m.decode_seconds;
    println!(
        "plumb  8 samples cost {:.2}x one sample ({:.2} s vs {:.2} s; one after another: {:.2}x, {:.2} s; speed-up {:.2}x)",
        cost(&eight) / cost(&one),
        cost(&eight),
        cost(&one),
        cost(&baseline) / cost(&one),
        cost(&baseline),
        cost(&baseline) / cost(&eight)
    );

    if let Some(bench) = std::env::var_os("PLUMB_LLAMA_BENCH") {
        let out = Command::new(&bench)
            .args(["-m", path.to_str().unwrap_or_default(), "-t", &threads.to_string(), "-r", "3", "-o", "json"])
            .args(["-p", &one.prompt_tokens.to_string(), "-n", "64"])
            .output()
            .expect("llama-bench runs");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        let ts = |prompt: bool| {
            v.as_array()?.iter().find(|r| (r["n_prompt"].as_u64().unwrap_or(0) > 0) == prompt)?["avg_ts"].as_f64()
        };
        match (ts(true), ts(false)) {
            (Some(lpp), Some(ltg)) => {
                println!("llama.cpp prompt {lpp:8.1} tok/s   ratio plumb/llama.cpp {:.2}", pp / lpp);
                println!("llama.cpp decode {ltg:8.1} tok/s   ratio plumb/llama.cpp {:.2}", tg / ltg);
            }
            _ => println!("llama.cpp: could not read llama-bench's output: {}", String::from_utf8_lossy(&out.stderr)),
        }
    } else {
        println!("llama.cpp: set PLUMB_LLAMA_BENCH to llama-bench's path to compare");
    }

    // The whole model step for one function: 8 candidates and CodeT tests (and P(True)).
    let evidence = plumb::engine::Coder::local(LocalSpec { threads, ..LocalSpec::new(path) }, "bench", 8);
    let text = format!("{PROMPT}    return intervals\n");
    let function = plumb::syntax::parse(&text).functions.remove(0);
    let started = Instant::now();
    let g = evidence.generate(&function, &text, &plumb::base::Cancel::new()).expect("generation");
    println!(
        "plumb  8 candidates + tests for one function: {:.1} s ({} candidates parsed, {} tests kept)",
        started.elapsed().as_secs_f64(),
        g.candidates.len(),
        g.tests.len()
    );
}

/// The fastest of three runs (`batch`: the samples as one batch where the model allows it).
fn best(model: &Local, n: usize, batch: bool) -> Measure {
    (0..3)
        .map(|_| {
            if batch { model.measure(PROMPT, 64, n) } else { model.measure_unbatched(PROMPT, 64, n) }.expect("measure")
        })
        .min_by(|a, b| (a.prompt_seconds + a.decode_seconds).total_cmp(&(b.prompt_seconds + b.decode_seconds)))
        .expect("three runs")
}

/// A GGUF with SmolLM2-135M's shape (30 layers, 576 wide, 9/3 heads, vocabulary 49152) and random
/// Q8_0 weights, with a byte-level vocabulary of the same size.
fn random_smollm2(dir: &std::path::Path) -> PathBuf {
    use plumb::model::synthetic;
    let shape = synthetic::shape("smollm2-135m").expect("a known shape");
    let q8 = synthetic::Format::parse("q8_0").expect("a known format");
    synthetic::write(&shape, q8, dir, 1, false).expect("write the model")
}
