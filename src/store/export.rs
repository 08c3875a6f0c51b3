//! `plumb export`: the store as training data.
//! - `leti`: one row per execution, with the reward token and LeTI's training text
//!   (`<|good|>`/`<|bad|>` + `<|lang_feedback|>{feedback}<|/lang_feedback|>` + problem + program);
//! - `dpo`: PLUM preference pairs per prompt (TRL columns `prompt`/`chosen`/`rejected`): chosen
//!   passes every test, rejected fails at least one; prompts where all pass or all fail give none;
//! - `kto`: unpaired rows (`prompt`/`completion`/`label`);
//! - `labels`: listener labels, explicit ones and those implied by a later fix.
//!
//! Files are written to a temporary file beside the target and renamed into place, so a killed
//! export leaves the previous file intact. Above `SHARD_ROWS` rows the output is a directory of
//! shards (`part-00000.parquet`, ...), which Spark, Ray Data, DuckDB and HF `datasets` read as is.

use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use arrow_array::{ArrayRef, BooleanArray, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use serde_json::{Map, Value, json};

use super::{Reward, Store};

pub(super) const SHARD_ROWS: usize = 100_000;
/// Pairs kept per prompt.
const MAX_PAIRS: usize = 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportKind {
    Leti,
    Dpo,
    Kto,
    Labels,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Jsonl,
    Parquet,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportSummary {
    pub rows: usize,
    pub files: Vec<PathBuf>,
}

#[derive(Clone, Copy)]
enum Col {
    Str,
    OptStr,
    Bool,
}

fn columns(kind: ExportKind) -> &'static [(&'static str, Col)] {
    match kind {
        ExportKind::Leti => &[
            ("id", Col::Str),
            ("created_at", Col::Str),
            ("prompt", Col::Str),
            ("completion", Col::Str),
            ("reward", Col::Str),
            ("reward_token", Col::Str),
            ("feedback", Col::Str),
            ("text", Col::Str),
            ("tests_hash", Col::Str),
            ("source", Col::Str),
            ("model_id", Col::OptStr),
            ("truncated", Col::Bool),
        ],
        ExportKind::Dpo => &[
            ("prompt", Col::Str),
            ("chosen", Col::Str),
            ("rejected", Col::Str),
            ("prompt_hash", Col::Str),
            ("chosen_id", Col::Str),
            ("rejected_id", Col::Str),
            ("tests_hash", Col::Str),
            ("model_id", Col::OptStr),
        ],
        ExportKind::Kto => &[("id", Col::Str), ("prompt", Col::Str), ("completion", Col::Str), ("label", Col::Bool)],
        ExportKind::Labels => &[
            ("id", Col::Str),
            ("execution_id", Col::Str),
            ("label", Col::Str),
            ("implicit", Col::Bool),
            ("finding_kind", Col::Str),
            ("prompt", Col::Str),
            ("completion", Col::Str),
        ],
    }
}

fn rows(store: &Store, kind: ExportKind) -> Result<Vec<Map<String, Value>>> {
    let executions = store.executions()?;
    let obj = |v: Value| match v {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    Ok(match kind {
        ExportKind::Leti => executions
            .iter()
            .map(|(row, e)| {
                let token = if e.reward == Reward::Good { "<|good|>" } else { "<|bad|>" };
                obj(json!({
                    "id": e.id, "created_at": row.created_at, "prompt": e.problem, "completion": e.program,
                    "reward": e.reward, "reward_token": token, "feedback": e.feedback,
                    "text": format!("{token}<|lang_feedback|>{}<|/lang_feedback|>{}{}", e.feedback, e.problem, e.program),
                    "tests_hash": e.tests_hash, "source": e.source, "model_id": e.model_id, "truncated": e.truncated,
                }))
            })
            .collect(),
        ExportKind::Kto => executions
            .iter()
            .map(|(_, e)| obj(json!({"id": e.id, "prompt": e.problem, "completion": e.program, "label": e.reward == Reward::Good})))
            .collect(),
        ExportKind::Dpo => {
            let mut by_prompt: BTreeMap<&str, Vec<&super::ExecutionRecord>> = BTreeMap::new();
            for (_, e) in &executions {
                by_prompt.entry(e.prompt_hash.as_str()).or_default().push(e);
            }
            let mut out = Vec::new();
            for (prompt_hash, group) in by_prompt {
                let mut seen = HashSet::new();
                let good: Vec<_> = group.iter().filter(|e| e.reward == Reward::Good && seen.insert(&e.program)).collect();
                let bad: Vec<_> = group.iter().filter(|e| e.reward == Reward::Bad && seen.insert(&e.program)).collect();
                for (c, r) in good.iter().flat_map(|c| bad.iter().map(move |r| (c, r))).take(MAX_PAIRS) {
                    out.push(obj(json!({
                        "prompt": c.problem, "chosen": c.program, "rejected": r.program, "prompt_hash": prompt_hash,
                        "chosen_id": c.id, "rejected_id": r.id, "tests_hash": r.tests_hash, "model_id": r.model_id,
                    })));
                }
            }
            out
        }
        ExportKind::Labels => {
            let by_id: BTreeMap<&str, &super::ExecutionRecord> = executions.iter().map(|(_, e)| (e.id.as_str(), e)).collect();
            let mut out = Vec::new();
            for (_, l) in store.labels()? {
                let e = by_id.get(l.execution_id.as_str());
                out.push(obj(json!({
                    "id": l.id, "execution_id": l.execution_id, "label": l.label, "implicit": l.implicit,
                    "finding_kind": l.finding_kind, "prompt": e.map(|e| e.problem.as_str()).unwrap_or(""),
                    "completion": e.map(|e| e.program.as_str()).unwrap_or(""),
                })));
            }
            // Implicit labels: a failing execution followed, for the same prompt, by a passing one.
            let mut failing: BTreeMap<&str, Vec<&super::ExecutionRecord>> = BTreeMap::new();
            for (_, e) in &executions {
                if e.reward == Reward::Bad {
                    failing.entry(e.prompt_hash.as_str()).or_default().push(e);
                } else if let Some(fixed) = failing.remove(e.prompt_hash.as_str()) {
                    for f in fixed {
                        let l = super::LabelRecord::new(&f.id, &failing_kind(f), super::Label::Fixed, true, Some(format!("fixed by {}", e.id)));
                        out.push(obj(json!({
                            "id": l.id, "execution_id": l.execution_id, "label": l.label, "implicit": true,
                            "finding_kind": l.finding_kind, "prompt": f.problem, "completion": f.program,
                        })));
                    }
                }
            }
            out
        }
    })
}

/// The finding kind of an execution's first failing test.
fn failing_kind(e: &super::ExecutionRecord) -> String {
    match e.outcomes.iter().find(|o| !o.passed).map(|o| o.class.as_str()) {
        Some("completed") | Some("exception") | None => "example_failed".into(),
        Some("exited") | Some("crash") => "crash".into(),
        Some(other) => other.to_string(),
    }
}

/// Exports one kind of data from the store at `store_path` to `out`.
pub fn export(store: &Store, kind: ExportKind, format: ExportFormat, out: &Path) -> Result<ExportSummary> {
    export_sharded(store, kind, format, out, SHARD_ROWS)
}

pub(super) fn export_sharded(
    store: &Store,
    kind: ExportKind,
    format: ExportFormat,
    out: &Path,
    shard_rows: usize,
) -> Result<ExportSummary> {
    let rows = rows(store, kind)?;
    let cols = columns(kind);
    let ext = match format {
        ExportFormat::Jsonl => "jsonl",
        ExportFormat::Parquet => "parquet",
    };
    if rows.len() <= shard_rows {
        write_atomic(out, |w| write_rows(w, &rows, cols, format))?;
        return Ok(ExportSummary { rows: rows.len(), files: vec![out.to_path_buf()] });
    }
    // A directory of shards, built beside the target and swapped in.
    let parent = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let tmp = tempfile::Builder::new().prefix(".plumb-export-").tempdir_in(parent)?;
    let mut files = Vec::new();
    for (i, chunk) in rows.chunks(shard_rows).enumerate() {
        let name = format!("part-{i:05}.{ext}");
        let mut f = std::fs::File::create(tmp.path().join(&name))?;
        write_rows(&mut f, chunk, cols, format)?;
        f.sync_all()?;
        files.push(out.join(name));
    }
    let staged = tmp.keep();
    if out.exists() {
        let old = parent.join(format!(".plumb-export-old-{}", std::process::id()));
        std::fs::rename(out, &old).with_context(|| format!("moving the previous {} aside", out.display()))?;
        std::fs::rename(&staged, out)?;
        let _ = if old.is_dir() { std::fs::remove_dir_all(&old) } else { std::fs::remove_file(&old) };
    } else {
        std::fs::rename(&staged, out)?;
    }
    Ok(ExportSummary { rows: rows.len(), files })
}

fn write_atomic(out: &Path, write: impl FnOnce(&mut std::fs::File) -> Result<()>) -> Result<()> {
    if out.is_dir() {
        bail!("{} is a directory (a sharded export); remove it or choose another path", out.display());
    }
    let parent = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent)?;
    let mut tmp = tempfile::Builder::new().prefix(".plumb-export-").tempfile_in(parent)?;
    write(tmp.as_file_mut())?;
    tmp.as_file().sync_all()?;
    tmp.persist(out).with_context(|| format!("renaming the export into {}", out.display()))?;
    Ok(())
}

fn write_rows(
    w: &mut std::fs::File,
    rows: &[Map<String, Value>],
    cols: &[(&str, Col)],
    format: ExportFormat,
) -> Result<()> {
    match format {
        ExportFormat::Jsonl => {
            let mut buf = std::io::BufWriter::new(w);
            for row in rows {
                // Columns in their declared order.
                let ordered: Map<String, Value> = cols
                    .iter()
                    .map(|(name, _)| (name.to_string(), row.get(*name).cloned().unwrap_or(Value::Null)))
                    .collect();
                serde_json::to_writer(&mut buf, &ordered)?;
                buf.write_all(b"\n")?;
            }
            buf.flush()?;
            Ok(())
        }
        ExportFormat::Parquet => {
            let fields: Vec<Field> = cols
                .iter()
                .map(|(name, col)| match col {
                    Col::Str => Field::new(*name, DataType::Utf8, false),
                    Col::OptStr => Field::new(*name, DataType::Utf8, true),
                    Col::Bool => Field::new(*name, DataType::Boolean, false),
                })
                .collect();
            let schema = Arc::new(Schema::new(fields));
            let arrays: Vec<ArrayRef> = cols
                .iter()
                .map(|(name, col)| -> ArrayRef {
                    match col {
                        Col::Bool => Arc::new(BooleanArray::from(
                            rows.iter()
                                .map(|r| r.get(*name).and_then(Value::as_bool).unwrap_or(false))
                                .collect::<Vec<_>>(),
                        )),
                        Col::Str => Arc::new(StringArray::from(
                            rows.iter()
                                .map(|r| r.get(*name).and_then(Value::as_str).unwrap_or("").to_string())
                                .collect::<Vec<_>>(),
                        )),
                        Col::OptStr => Arc::new(StringArray::from(
                            rows.iter()
                                .map(|r| r.get(*name).and_then(Value::as_str).map(str::to_string))
                                .collect::<Vec<_>>(),
                        )),
                    }
                })
                .collect();
            let batch = RecordBatch::try_new(Arc::clone(&schema), arrays)?;
            let props = parquet::file::properties::WriterProperties::builder()
                .set_compression(parquet::basic::Compression::SNAPPY)
                .build();
            let mut writer = parquet::arrow::ArrowWriter::try_new(w, schema, Some(props))?;
            writer.write(&batch)?;
            writer.close()?;
            Ok(())
        }
    }
}
