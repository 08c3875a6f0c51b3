//! Byte offsets ↔ (line, character) positions. Lines end at `\n`, `\r\n` or a lone `\r`, as in
//! LSP and in Python. A character past the end of a line's content means the end of the content:
//! a position never lands inside or after a line ending.

use serde::Serialize;

/// What a "character" counts: UTF-16 code units (LSP's default), UTF-8 bytes or code points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PositionEncoding {
    #[default]
    Utf16,
    Utf8,
    Utf32,
}

/// A 0-based position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Position {
    pub line: u32,
    pub character: u32,
}

#[derive(Debug, Clone)]
pub struct LineIndex {
    /// Byte offset where each line starts.
    starts: Vec<usize>,
    len: usize,
}

impl LineIndex {
    pub fn new(text: &str) -> LineIndex {
        let bytes = text.as_bytes();
        let mut starts = vec![0];
        for (i, &b) in bytes.iter().enumerate() {
            if b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n')) {
                starts.push(i + 1);
            }
        }
        LineIndex { starts, len: text.len() }
    }

    /// Byte offset where the content of line `line` ends (before its ending).
    fn content_end(&self, text: &str, line: usize) -> usize {
        let start = self.starts.get(line).copied().unwrap_or(self.len);
        let mut end = self.starts.get(line + 1).copied().unwrap_or(self.len);
        let bytes = text.as_bytes();
        while end > start && matches!(bytes.get(end - 1), Some(b'\n' | b'\r')) {
            end -= 1;
        }
        end
    }

    pub fn line_count(&self) -> usize {
        self.starts.len()
    }

    /// Byte range of line `line` without its ending.
    pub fn line_range(&self, text: &str, line: u32) -> (usize, usize) {
        let start = self.starts.get(line as usize).copied().unwrap_or(self.len);
        (start, self.content_end(text, line as usize).max(start))
    }

    /// The position of a byte offset (clamped to the text, and to a char boundary).
    pub fn position(&self, text: &str, offset: usize, encoding: PositionEncoding) -> Position {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.starts.partition_point(|&s| s <= offset) - 1;
        let offset = offset.min(self.content_end(text, line));
        let prefix = &text[self.starts[line]..offset];
        let character = match encoding {
            PositionEncoding::Utf8 => prefix.len(),
            PositionEncoding::Utf16 => prefix.chars().map(char::len_utf16).sum(),
            PositionEncoding::Utf32 => prefix.chars().count(),
        };
        Position { line: line as u32, character: character as u32 }
    }

    /// The byte offset of a position (clamped to the end of its line's content).
    pub fn offset(&self, text: &str, pos: Position, encoding: PositionEncoding) -> usize {
        let Some(&start) = self.starts.get(pos.line as usize) else { return text.len() };
        let end = self.content_end(text, pos.line as usize);
        let line = &text[start..end];
        let mut units = 0u32;
        for (i, ch) in line.char_indices() {
            if units >= pos.character {
                return start + i;
            }
            units += match encoding {
                PositionEncoding::Utf8 => ch.len_utf8() as u32,
                PositionEncoding::Utf16 => ch.len_utf16() as u32,
                PositionEncoding::Utf32 => 1,
            };
        }
        end
    }
}
