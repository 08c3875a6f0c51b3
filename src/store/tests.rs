//! The store on its own: durability settings, idempotent writes, checksums, exports.

use super::*;

fn execution(program: &str, problem: &str, good: bool) -> ExecutionRecord {
    let base = ExecutionRecord::synthetic(usize::from(!good));
    ExecutionRecord {
        id: records::sha(&[program, problem, if good { "g" } else { "b" }]),
        problem: problem.into(),
        prompt_hash: records::sha(&[problem]),
        program: program.into(),
        ..base
    }
}

#[test]
fn wal_full_sync_and_idempotent_writes() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("s.sqlite3")).unwrap();
    let mode: String = store.conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    let sync: i64 = store.conn.query_row("PRAGMA synchronous", [], |r| r.get(0)).unwrap();
    assert_eq!((mode.as_str(), sync), ("wal", 2));
    let a = execution("def f(x): return x + 2", "def f(x):", false);
    let b = execution("def f(x): return x + 1", "def f(x):", true);
    store.write(&[a.clone(), b.clone()], &[]).unwrap();
    store
        .write(std::slice::from_ref(&a), &[LabelRecord::new(&a.id, "example_failed", Label::Right, false, None)])
        .unwrap();
    assert_eq!(store.counts().unwrap(), (2, 1));
    assert_eq!(store.execution(&a.id).unwrap(), Some(a));
    assert_eq!(store.integrity_check().unwrap(), "ok");
}

#[test]
fn damaged_rows_are_detected() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("s.sqlite3")).unwrap();
    let a = execution("p", "q", true);
    store.write(&[a], &[]).unwrap();
    store.conn.execute("UPDATE executions SET record = replace(record, '\"p\"', '\"x\"')", []).unwrap();
    let err = store.executions().unwrap_err().to_string();
    assert!(err.contains("fails its checksum"), "{err}");
}

#[test]
fn exports_have_the_documented_rows() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("s.sqlite3")).unwrap();
    let bad = execution("def f(x): return x + 2", "def f(x):", false);
    let good = execution("def f(x): return x + 1", "def f(x):", true);
    let other = execution("def g(): return 1", "def g():", true);
    store
        .write(
            &[bad.clone(), good.clone(), other],
            &[LabelRecord::new(&bad.id, "example_failed", Label::Right, false, None)],
        )
        .unwrap();
    let read = |kind, name: &str| {
        let out = dir.path().join(name);
        let summary = export(&store, kind, ExportFormat::Jsonl, &out).unwrap();
        let text = std::fs::read_to_string(&out).unwrap();
        let rows: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(summary.rows, rows.len());
        rows
    };
    let leti = read(ExportKind::Leti, "leti.jsonl");
    assert_eq!(leti.len(), 3);
    assert_eq!(leti[0]["reward_token"], "<|bad|>");
    assert!(
        leti[0]["text"].as_str().unwrap().starts_with("<|bad|><|lang_feedback|>The code is not working correctly.")
    );
    let dpo = read(ExportKind::Dpo, "dpo.jsonl");
    assert_eq!(dpo.len(), 1, "one prompt with a passing and a failing program; g's prompt has no pair");
    assert_eq!(
        (dpo[0]["chosen"].as_str(), dpo[0]["rejected"].as_str()),
        (Some(good.program.as_str()), Some(bad.program.as_str()))
    );
    let kto = read(ExportKind::Kto, "kto.jsonl");
    assert_eq!(kto.iter().filter(|r| r["label"] == true).count(), 2);
    let labels = read(ExportKind::Labels, "labels.jsonl");
    assert_eq!(labels.len(), 2, "the explicit label and the fix implied by the later passing version");
    assert_eq!((labels[1]["label"].as_str(), labels[1]["implicit"].as_bool()), (Some("fixed"), Some(true)));

    // Parquet round trip with the parquet crate's own reader.
    let out = dir.path().join("dpo.parquet");
    export(&store, ExportKind::Dpo, ExportFormat::Parquet, &out).unwrap();
    let reader = parquet::file::reader::SerializedFileReader::new(std::fs::File::open(&out).unwrap()).unwrap();
    use parquet::file::reader::FileReader;
    assert_eq!(reader.metadata().file_metadata().num_rows(), 1);
    let names: Vec<String> =
        reader.metadata().file_metadata().schema_descr().columns().iter().map(|c| c.name().to_string()).collect();
    assert_eq!(&names[..3], ["prompt", "chosen", "rejected"]);
}

#[test]
fn large_exports_become_a_directory_of_shards_swapped_in_whole() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("s.sqlite3")).unwrap();
    let records: Vec<_> = (0..25).map(|i| execution(&format!("def f(): return {i}"), "def f():", i % 2 == 0)).collect();
    store.write(&records, &[]).unwrap();
    let out = dir.path().join("kto");
    for _ in 0..2 {
        let summary = export::export_sharded(&store, ExportKind::Kto, ExportFormat::Parquet, &out, 10).unwrap();
        assert_eq!(summary.rows, 25);
        let mut names: Vec<_> =
            std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        names.sort();
        assert_eq!(names, ["part-00000.parquet", "part-00001.parquet", "part-00002.parquet"]);
    }
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with(".plumb-export"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
