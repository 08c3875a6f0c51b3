//! The training-data store: every execution (LeTI records) and every listener label, in a local
//! SQLite database (WAL, `synchronous=FULL`), exportable for fine-tuning (`export`). Nothing leaves
//! the machine unless exported; see PRIVACY.md.
//!
//! Records are content-addressed (`id`), inserted with `INSERT OR IGNORE` inside one transaction
//! per batch: a record counts once its commit returned, and writing it twice stores it once.
//! Each row keeps a checksum of its JSON, verified on read.

mod export;
mod records;
mod writer;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use rusqlite::{Connection, OptionalExtension, params};

pub use export::{ExportFormat, ExportKind, ExportSummary, export};
pub use records::{
    Candidate, ExecutionRecord, Label, LabelRecord, OutcomeRecord, ProgramSource, Provenance, Reward, SCHEMA_VERSION,
    TestKind, TestRecord, candidate_record, execution_record, user_test_record,
};
pub use writer::{Writer, WriterStats};

/// `$PLUMB_STORE` (a path, or `off`), else `$XDG_DATA_HOME/plumb/store.sqlite3`, else
/// `~/.local/share/plumb/store.sqlite3`. `None` when storing is switched off.
pub fn default_path() -> Option<PathBuf> {
    match std::env::var("PLUMB_STORE") {
        Ok(v) if v == "off" || v == "0" => return None,
        Ok(v) if !v.is_empty() => return Some(PathBuf::from(v)),
        _ => {}
    }
    let base = match std::env::var_os("XDG_DATA_HOME").filter(|d| !d.is_empty()) {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".local").join("share"),
    };
    Some(base.join("plumb").join("store.sqlite3"))
}

pub struct Store {
    conn: Connection,
    path: PathBuf,
}

/// One stored row, as read back.
#[derive(Debug, Clone)]
pub struct Row {
    pub id: String,
    pub created_at: String,
    pub json: String,
}

fn checksum(json: &str) -> String {
    records::sha(&[json])
}

impl Store {
    pub fn open(path: &Path) -> Result<Store> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let conn = Connection::open(path).with_context(|| format!("opening the store {}", path.display()))?;
        conn.busy_timeout(Duration::from_secs(10))?;
        let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            bail!("the store {} could not switch to WAL mode (got {mode})", path.display());
        }
        conn.execute_batch(
            "PRAGMA synchronous=FULL;
             PRAGMA foreign_keys=ON;
             CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS executions (
                 seq INTEGER PRIMARY KEY AUTOINCREMENT,
                 id TEXT NOT NULL UNIQUE,
                 schema_version INTEGER NOT NULL,
                 created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
                 prompt_hash TEXT NOT NULL,
                 reward TEXT NOT NULL,
                 record TEXT NOT NULL,
                 checksum TEXT NOT NULL);
             CREATE INDEX IF NOT EXISTS executions_prompt ON executions (prompt_hash, seq);
             CREATE TABLE IF NOT EXISTS labels (
                 seq INTEGER PRIMARY KEY AUTOINCREMENT,
                 id TEXT NOT NULL UNIQUE,
                 schema_version INTEGER NOT NULL,
                 created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
                 execution_id TEXT NOT NULL,
                 label TEXT NOT NULL,
                 record TEXT NOT NULL,
                 checksum TEXT NOT NULL);
             INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', '1');",
        )
        .with_context(|| format!("preparing the store {}", path.display()))?;
        Ok(Store { conn, path: path.to_path_buf() })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes executions and labels in one transaction; returns the ids, acknowledged once this
    /// returns `Ok`.
    pub fn write(&mut self, executions: &[ExecutionRecord], labels: &[LabelRecord]) -> Result<Vec<String>> {
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let mut ids = Vec::with_capacity(executions.len() + labels.len());
        {
            let mut ins = tx.prepare_cached(
                "INSERT OR IGNORE INTO executions (id, schema_version, prompt_hash, reward, record, checksum)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for e in executions {
                let json = serde_json::to_string(e)?;
                ins.execute(params![e.id, e.schema_version, e.prompt_hash, e.reward.as_str(), json, checksum(&json)])?;
                ids.push(e.id.clone());
            }
            let mut ins = tx.prepare_cached(
                "INSERT OR IGNORE INTO labels (id, schema_version, execution_id, label, record, checksum)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for l in labels {
                let json = serde_json::to_string(l)?;
                ins.execute(params![l.id, l.schema_version, l.execution_id, l.label.as_str(), json, checksum(&json)])?;
                ids.push(l.id.clone());
            }
        }
        tx.commit()?;
        Ok(ids)
    }

    fn rows(&self, table: &str) -> Result<Vec<Row>> {
        let mut stmt =
            self.conn.prepare(&format!("SELECT id, created_at, record, checksum FROM {table} ORDER BY seq"))?;
        let mut out = Vec::new();
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let (id, created_at, json, sum): (String, String, String, String) =
                (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
            if checksum(&json) != sum {
                bail!("record {id} in {table} fails its checksum: the store is damaged");
            }
            out.push(Row { id, created_at, json });
        }
        Ok(out)
    }

    fn decoded<T: serde::de::DeserializeOwned>(&self, table: &str) -> Result<Vec<(Row, T)>> {
        let mut out = Vec::new();
        for row in self.rows(table)? {
            let record = serde_json::from_str(&row.json).with_context(|| format!("reading {} from {table}", row.id))?;
            out.push((row, record));
        }
        Ok(out)
    }

    pub fn executions(&self) -> Result<Vec<(Row, ExecutionRecord)>> {
        self.decoded("executions")
    }

    pub fn labels(&self) -> Result<Vec<(Row, LabelRecord)>> {
        self.decoded("labels")
    }

    pub fn execution(&self, id: &str) -> Result<Option<ExecutionRecord>> {
        let json: Option<String> =
            self.conn.query_row("SELECT record FROM executions WHERE id = ?1", [id], |r| r.get(0)).optional()?;
        Ok(match json {
            Some(j) => Some(serde_json::from_str(&j)?),
            None => None,
        })
    }

    pub fn counts(&self) -> Result<(u64, u64)> {
        let e: i64 = self.conn.query_row("SELECT count(*) FROM executions", [], |r| r.get(0))?;
        let l: i64 = self.conn.query_row("SELECT count(*) FROM labels", [], |r| r.get(0))?;
        Ok((e as u64, l as u64))
    }

    /// SQLite's own `PRAGMA integrity_check`.
    pub fn integrity_check(&self) -> Result<String> {
        Ok(self.conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?)
    }
}

#[cfg(test)]
mod tests;
