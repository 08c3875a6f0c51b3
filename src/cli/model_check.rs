//! `plumb model-check` (hidden; `.ci/device-check` runs it): the model path on this machine's
//! devices, with random weights of a real code model's shape that plumb writes itself. It prints
//! one JSON object per line: the device found, the CPU/GPU agreement on the same weights (greedy
//! tokens, and the largest logit difference along the CPU's sequence), and prompt / decode speed
//! for one stream and for N samples of one prompt decoded together.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use serde_json::json;

use crate::model::{BENCH_PROMPT, DeviceChoice, Local, LocalSpec, Measure, synthetic};

#[derive(clap::Args, Debug)]
pub(super) struct ModelCheckArgs {
    /// The model's shape: tiny, smollm2-135m, qwen2.5-0.5b, qwen2.5-1.5b.
    #[arg(long, default_value = "qwen2.5-0.5b")]
    shape: String,
    /// Weights: q8_0, q4_0, f16 (GGUF) or safetensors (BF16 on a GPU, F32 on the CPU).
    #[arg(long, default_value = "q8_0")]
    weights: String,
    /// Where the model file is written (kept: a second run with the same shape reuses it).
    #[arg(long)]
    dir: PathBuf,
    /// Compare the CPU and the GPU on the same weights for this many greedy steps (0: no).
    #[arg(long, default_value_t = 0)]
    compare: usize,
    /// Measure speed on this device (auto, cpu, gpu; none: no speed run).
    #[arg(long, default_value = "none")]
    speed: String,
    /// Tokens decoded per stream in the speed run.
    #[arg(long, default_value_t = 64)]
    tokens: usize,
    /// Samples of one prompt decoded together in the speed run.
    #[arg(long, default_value_t = 8)]
    samples: usize,
    /// CPU threads for the model (0: all cores but one).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Memory bandwidth in GB/s for the roofline figure (H200: 4800).
    #[arg(long, default_value_t = 4800.0)]
    bandwidth: f64,
}

pub(super) fn run(args: ModelCheckArgs) -> ExitCode {
    match check(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            println!("{}", json!({"check": "error", "error": format!("{e:#}")}));
            ExitCode::from(1)
        }
    }
}

fn check(args: &ModelCheckArgs) -> anyhow::Result<()> {
    let Some(shape) = synthetic::shape(&args.shape) else {
        let known: Vec<&str> = synthetic::SHAPES.iter().map(|s| s.name).collect();
        anyhow::bail!("unknown shape {:?} (known: {})", args.shape, known.join(", "));
    };
    let Some(format) = synthetic::Format::parse(&args.weights) else {
        anyhow::bail!("unknown weights {:?} (q8_0, q4_0, q4_1, f16, f32, safetensors)", args.weights);
    };
    std::fs::create_dir_all(&args.dir)?;
    let started = Instant::now();
    let existing = synthetic::path(&shape, format, &args.dir, false);
    let reused = existing.is_file() || existing.join("tokenizer.json").is_file();
    let path = if reused { existing } else { synthetic::write(&shape, format, &args.dir, 1, false)? };
    let bytes = size(&path);
    println!(
        "{}",
        json!({"check": "model", "shape": shape.name, "weights": args.weights, "path": path, "bytes": bytes, "reused": reused,
               "write_seconds": started.elapsed().as_secs_f64(),
               "gpu": crate::model::device_line(DeviceChoice::Gpu)})
    );
    let spec = |device| LocalSpec { threads: args.threads, device, ..LocalSpec::new(path.clone()) };
    if args.compare > 0 {
        let cpu = Local::new(spec(DeviceChoice::Cpu));
        let gpu = Local::new(spec(DeviceChoice::Gpu));
        let reference = cpu.trace(BENCH_PROMPT, args.compare, &[])?;
        let free = gpu.trace(BENCH_PROMPT, args.compare, &[])?;
        let forced = gpu.trace(BENCH_PROMPT, args.compare, &reference.tokens)?;
        let same = reference.tokens.iter().zip(&free.tokens).take_while(|(a, b)| a == b).count();
        let agreement = reference.agreement(&forced);
        println!(
            "{}",
            json!({"check": "compare", "cpu": cpu.info()?, "gpu": gpu.info()?, "steps": args.compare,
                   "greedy_tokens_identical": same, "argmax_agree_teacher_forced": agreement.argmax_agree,
                   "max_abs_logit_diff": agreement.max_abs_diff, "max_abs_logit": agreement.max_abs,
                   "cpu_tokens": reference.tokens, "gpu_tokens": free.tokens})
        );
    }
    if args.speed != "none" {
        let Some(device) = DeviceChoice::parse(&args.speed) else {
            anyhow::bail!("--speed takes auto, cpu, gpu or none, not {:?}", args.speed);
        };
        let model = Local::new(spec(device));
        let info = model.info()?;
        model.measure(BENCH_PROMPT, 4, 1)?; // warm-up: page the weights in, build kernels and pools
        let one = best(&model, args.tokens, 1)?;
        let many = best(&model, args.tokens, args.samples)?;
        let rate = |tokens: usize, secs: f64| tokens as f64 / secs.max(1e-9);
        let decode = rate(one.generated_tokens, one.decode_seconds);
        let batch = rate(many.generated_tokens, many.decode_seconds);
        // Weights read per decoded token (all of them, once per step) against the bandwidth.
        let roofline = args.bandwidth * 1e9 / bytes.max(1) as f64;
        println!(
            "{}",
            json!({"check": "speed", "shape": shape.name, "weights": args.weights, "device": info,
                   "prompt_tokens": one.prompt_tokens,
                   "prompt_tok_s": rate(one.prompt_tokens, one.prompt_seconds),
                   "decode_tok_s": decode,
                   "roofline_tok_s": roofline, "roofline_fraction": decode / roofline,
                   "samples": args.samples, "batch_tok_s": batch, "batched": many.batched,
                   "batch_over_single": batch / decode.max(1e-9)})
        );
    }
    Ok(())
}

/// The fastest of two runs.
fn best(model: &Local, tokens: usize, n: usize) -> anyhow::Result<Measure> {
    let a = model.measure(BENCH_PROMPT, tokens, n)?;
    let b = model.measure(BENCH_PROMPT, tokens, n)?;
    Ok(if a.prompt_seconds + a.decode_seconds <= b.prompt_seconds + b.decode_seconds { a } else { b })
}

/// Bytes of a model file, or of the files in a model directory.
fn size(path: &std::path::Path) -> u64 {
    if path.is_dir() {
        std::fs::read_dir(path).map(|d| d.filter_map(|e| e.ok()?.metadata().ok()).map(|m| m.len()).sum()).unwrap_or(0)
    } else {
        path.metadata().map(|m| m.len()).unwrap_or(0)
    }
}
