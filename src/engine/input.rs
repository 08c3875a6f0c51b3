//! Turning bytes into a document, with clear errors for what cannot be checked.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Files larger than this are not checked (a Python module this size is generated, not written).
pub const MAX_FILE_BYTES: u64 = 2 << 20;

/// Text to check, under the name tracebacks and findings use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub path: String,
    pub text: String,
    /// Invalid UTF-8 was replaced with U+FFFD.
    pub lossy: bool,
    /// Where the document lives on disk (absolute), when it does: its project is found from there.
    pub file: Option<PathBuf>,
    /// Other files' unsaved text (an editor's open buffers), which imports see instead of the disk.
    pub buffers: Arc<HashMap<PathBuf, String>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputError {
    NotFound,
    Unreadable(String),
    TooLarge { bytes: u64 },
    Binary,
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InputError::NotFound => write!(f, "no such file or directory"),
            InputError::Unreadable(e) => write!(f, "cannot read: {e}"),
            InputError::TooLarge { bytes } => write!(
                f,
                "file is {:.1} MiB, over the {} MiB limit; not checked",
                *bytes as f64 / (1 << 20) as f64,
                MAX_FILE_BYTES >> 20
            ),
            InputError::Binary => write!(f, "binary file (contains NUL bytes); not checked"),
        }
    }
}

impl Document {
    /// A document from bytes: UTF-8 (a BOM is dropped), else decoded with replacement.
    pub fn from_bytes(path: &str, bytes: &[u8]) -> Result<Document, InputError> {
        if bytes.len() as u64 > MAX_FILE_BYTES {
            return Err(InputError::TooLarge { bytes: bytes.len() as u64 });
        }
        if bytes.contains(&0) {
            return Err(InputError::Binary);
        }
        let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
        let (text, lossy) = match std::str::from_utf8(bytes) {
            Ok(t) => (t.to_string(), false),
            Err(_) => (String::from_utf8_lossy(bytes).into_owned(), true),
        };
        Ok(Document { path: path.to_string(), text: lone_cr_to_lf(text), lossy, file: None, buffers: Arc::default() })
    }

    /// The document as the file at `file` (made absolute), seeing `buffers` for other files.
    pub fn at(mut self, file: &Path, buffers: Arc<HashMap<PathBuf, String>>) -> Document {
        let file = std::path::absolute(file).unwrap_or_else(|_| file.to_path_buf());
        self.file = Some(file.canonicalize().unwrap_or(file));
        self.buffers = buffers;
        self
    }
}

/// Python (and LSP) end a line at a lone `\r`; tree-sitter does not. Each becomes `\n`: the same
/// byte length, so every offset and every line number stays what the editor has.
fn lone_cr_to_lf(text: String) -> String {
    if !text.contains('\r') {
        return text;
    }
    let mut bytes = text.into_bytes();
    for i in 0..bytes.len() {
        if bytes[i] == b'\r' && bytes.get(i + 1) != Some(&b'\n') {
            bytes[i] = b'\n';
        }
    }
    // Only ASCII bytes were replaced by ASCII bytes.
    String::from_utf8(bytes).unwrap_or_default()
}

/// Reads a file from disk, refusing huge ones before reading them.
pub fn read_document(path: &Path, shown_as: &str) -> Result<Document, InputError> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(InputError::NotFound),
        Err(e) => return Err(InputError::Unreadable(e.to_string())),
    };
    if meta.len() > MAX_FILE_BYTES {
        return Err(InputError::TooLarge { bytes: meta.len() });
    }
    let bytes = std::fs::read(path).map_err(|e| InputError::Unreadable(e.to_string()))?;
    Ok(Document::from_bytes(shown_as, &bytes)?.at(path, Arc::default()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn lone_carriage_returns_end_lines_and_keep_offsets() {
        let d = super::Document::from_bytes("m.py", b"def f():\r    return 1\r\n\rx = 'a\xc3\xa9'\r").unwrap();
        assert_eq!(d.text, "def f():\n    return 1\r\n\nx = 'a\u{e9}'\n");
    }
}
