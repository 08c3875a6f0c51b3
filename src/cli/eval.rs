//! `plumb eval DIR`: the quality harness. Runs the engine (the same one `check` runs) over a
//! labelled set and prints recall on buggy functions (those failing their own examples, and the
//! subtle ones), the false-alarm rate on correct ones, the AUROC of (1 − confidence) and the
//! expected calibration error. With `--fit`, fits the calibration map and reports 5-fold
//! cross-validated figures instead of in-sample ones.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::{EvalArgs, options, ready_engine, status};
use crate::base::Cancel;
use crate::engine::{self, wire::ConfidencePartsV1};
use crate::judge::matrix::{Calibration, Parts};
use crate::judge::metrics::{self, Scored};
use crate::judge::{Severity, Verdict};

#[derive(Debug, Deserialize)]
struct Manifest {
    cases: Vec<Case>,
}

/// A labelled function of the set (`labels.json`).
#[derive(Debug, Clone, Deserialize, Serialize)]
struct Case {
    file: String,
    function: String,
    label: Label,
    #[serde(default)]
    kind: Option<BugKind>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
enum Label {
    Correct,
    Buggy,
}

/// How a buggy function shows its bug.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
enum BugKind {
    /// It fails one of its own docstring examples.
    Example,
    /// Its examples pass; only other inputs show the bug.
    Subtle,
}

/// One line of a saved run (`--cases`, read back by `--cases-in`): format version 1.
#[derive(Debug, Deserialize, Serialize)]
struct SavedCase {
    #[serde(flatten)]
    case: Case,
    flagged: bool,
    confidence: f64,
    parts: ConfidencePartsV1,
    #[serde(default)]
    findings: Vec<String>,
}

struct Row {
    case: Case,
    parts: Parts,
    flagged: bool,
    confidence: f64,
    findings: Vec<String>,
}

pub(super) fn run(args: EvalArgs) -> ExitCode {
    let manifest_path = args.dir.join("labels.json");
    let manifest: Manifest = match std::fs::read_to_string(&manifest_path)
        .map_err(|e| e.to_string())
        .and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string()))
    {
        Ok(m) => m,
        Err(e) => {
            eprintln!("plumb: error: {}: {e}", manifest_path.display());
            return ExitCode::from(2);
        }
    };
    if let Some(path) = &args.cases_in {
        let rows: Result<Vec<Row>, String> = std::fs::read_to_string(path)
            .map_err(|e| e.to_string())
            .and_then(|t| t.lines().map(|l| saved_row(l).map_err(|e| e.to_string())).collect());
        return match rows {
            Ok(rows) => report(&args, rows, "(from saved cases)", std::time::Duration::ZERO, Vec::new()),
            Err(e) => {
                eprintln!("plumb: error: {}: {e}", path.display());
                ExitCode::from(2)
            }
        };
    }
    let engine = match ready_engine(options(&args.model)) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let mut by_file: BTreeMap<String, Vec<Case>> = BTreeMap::new();
    for case in manifest.cases {
        by_file.entry(case.file.clone()).or_default().push(case);
    }
    let started = Instant::now();
    let model_name = engine.model_name().unwrap_or_else(|| "none".into());
    let mut rows: Vec<Row> = Vec::new();
    // Per function, the check's time beyond the model's (sandbox matrix, counterexample search).
    let mut judging_ms: Vec<f64> = Vec::new();
    let total_files = by_file.len();
    for (n, (file, cases)) in by_file.into_iter().enumerate() {
        let path = args.dir.join(&file);
        let doc = match engine::read_document(&path, &file) {
            Ok(d) => d,
            Err(e) => {
                eprintln!("plumb: error: {file}: {e}");
                return ExitCode::from(2);
            }
        };
        eprintln!("plumb: eval [{}/{total_files}] {file}", n + 1);
        let mut events = |e: engine::Event<'_>| {
            if let engine::Event::Status(m) = e {
                status(m);
            }
        };
        let result = match engine.check(&doc, true, &Cancel::new(), &mut events) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("plumb: error: could not set up the sandbox runtime: {e}");
                return ExitCode::from(2);
            }
        };
        if let Some(e) = &result.model_error {
            eprintln!("plumb: warning: {file}: no model evidence: {e}");
        }
        let beyond_model = result.total_time.saturating_sub(result.model_time).as_secs_f64() * 1000.0;
        judging_ms.push(beyond_model / result.functions.len().max(1) as f64);
        for case in cases {
            let Some(f) = result.functions.iter().find(|f| f.function.qualified_name == case.function) else {
                eprintln!("plumb: error: {file}: no function {}", case.function);
                return ExitCode::from(2);
            };
            rows.push(row(case, &f.verdict));
        }
    }
    report(&args, rows, &model_name, started.elapsed(), judging_ms)
}

fn saved_row(line: &str) -> Result<Row, serde_json::Error> {
    let saved: SavedCase = serde_json::from_str(line)?;
    let parts = Parts::from(saved.parts);
    Ok(Row {
        case: saved.case,
        flagged: saved.flagged,
        confidence: Calibration::builtin().probability(&parts),
        parts,
        findings: saved.findings,
    })
}

fn report(
    args: &EvalArgs,
    rows: Vec<Row>,
    model_name: &str,
    elapsed: std::time::Duration,
    mut judging_ms: Vec<f64>,
) -> ExitCode {
    // Confidences: the built-in map, or cross-validated fits of a new one.
    let mut confidences: Vec<f64> = rows.iter().map(|r| r.confidence).collect();
    if let Some(out) = &args.fit {
        let prior = Calibration::builtin().clone();
        let samples: Vec<([f64; 8], bool)> =
            rows.iter().map(|r| (r.parts.features(), r.case.label == Label::Correct)).collect();
        for fold in 0..5 {
            let train: Vec<_> = samples.iter().enumerate().filter(|(i, _)| i % 5 != fold).map(|(_, s)| *s).collect();
            let map = Calibration::fit(&train, &prior, "cv", "");
            for (i, r) in rows.iter().enumerate() {
                if i % 5 == fold {
                    confidences[i] = map.probability(&r.parts);
                }
            }
        }
        let fitted = Calibration::fit(
            &samples,
            &prior,
            &format!("plumb-calibration-{}", chrono_free_date()),
            &format!("{} ({} labelled functions), model {model_name}", args.dir.display(), rows.len()),
        );
        let text = serde_json::to_string_pretty(&fitted).unwrap_or_default() + "\n";
        if let Err(e) = std::fs::write(out, text) {
            eprintln!("plumb: error: writing {}: {e}", out.display());
            return ExitCode::from(2);
        }
        eprintln!("plumb: wrote the fitted calibration map to {}", out.display());
    }
    let scored: Vec<Scored> = rows
        .iter()
        .zip(&confidences)
        .map(|(r, &c)| Scored { buggy: r.case.label != Label::Correct, flagged: r.flagged, confidence: c })
        .collect();
    let select = |f: &dyn Fn(&Row) -> bool| -> Vec<&Scored> {
        rows.iter().zip(&scored).filter(|(r, _)| f(r)).map(|(_, s)| s).collect()
    };
    let example = select(&|r| r.case.label == Label::Buggy && r.case.kind == Some(BugKind::Example));
    let subtle = select(&|r| r.case.label == Label::Buggy && r.case.kind == Some(BugKind::Subtle));
    let correct = select(&|r| r.case.label == Label::Correct);
    let pct = |v: Option<f64>| v.map(|v| format!("{:.1}%", v * 100.0)).unwrap_or_else(|| "n/a".into());
    let num = |v: Option<f64>| v.map(|v| format!("{v:.3}")).unwrap_or_else(|| "n/a".into());
    let mut out = String::new();
    out.push_str(&format!(
        "plumb eval {}: {} functions ({} correct, {} buggy: {} failing their examples, {} subtle), model {model_name}, {:.1} s\n",
        args.dir.display(),
        rows.len(),
        correct.len(),
        example.len() + subtle.len(),
        example.len(),
        subtle.len(),
        elapsed.as_secs_f64()
    ));
    out.push_str(&format!(
        "  recall, bugs failing their examples   {:>7}   (target >= 99%)\n",
        pct(metrics::rate(&example))
    ));
    out.push_str(&format!(
        "  recall, subtle bugs                   {:>7}   (target >= 20%)\n",
        pct(metrics::rate(&subtle))
    ));
    out.push_str(&format!(
        "  false alarms on correct functions     {:>7}   (target <= 2%)\n",
        pct(metrics::rate(&correct))
    ));
    out.push_str(&format!(
        "  AUROC of (1 - confidence)             {:>7}   (target >= 0.85){}\n",
        num(metrics::auroc(&scored)),
        if args.fit.is_some() { ", 5-fold cross-validated" } else { "" }
    ));
    out.push_str(&format!(
        "  expected calibration error (10 bins)  {:>7}   (target <= 0.05)\n",
        num(metrics::ece(&scored, 10))
    ));
    judging_ms.sort_by(f64::total_cmp);
    if let Some(max) = judging_ms.last() {
        let mean = judging_ms.iter().sum::<f64>() / judging_ms.len() as f64;
        out.push_str(&format!(
            "  time beyond the model per function    {mean:>5.1} ms mean, {max:.1} ms worst file (target <= 100 ms)\n"
        ));
    }
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(out.as_bytes());
    if let Some(path) = &args.cases {
        let lines: String = rows
            .iter()
            .zip(&confidences)
            .map(|(r, &confidence)| {
                let saved = SavedCase {
                    case: r.case.clone(),
                    flagged: r.flagged,
                    confidence,
                    parts: ConfidencePartsV1::from(&r.parts),
                    findings: r.findings.clone(),
                };
                serde_json::to_string(&saved).unwrap_or_default() + "\n"
            })
            .collect();
        if let Err(e) = std::fs::write(path, lines) {
            eprintln!("plumb: error: writing {}: {e}", path.display());
            return ExitCode::from(2);
        }
    }
    ExitCode::SUCCESS
}

fn row(case: Case, verdict: &Verdict) -> Row {
    let flagged = verdict.findings.iter().any(|f| matches!(f.severity, Severity::Error | Severity::Warning));
    let parts = verdict.parts.clone().unwrap_or_default();
    let confidence = verdict.confidence.unwrap_or_else(|| Calibration::builtin().probability(&parts));
    let findings = verdict.findings.iter().map(|f| format!("{}: {}", f.kind.as_str(), f.message)).collect();
    Row { case, parts, flagged, confidence, findings }
}

/// Today's date as YYYYMMDD from the system clock (civil-from-days, no date crate).
fn chrono_free_date() -> String {
    let days =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() / 86_400).unwrap_or(0)
            as i64;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}{m:02}{d:02}")
}
