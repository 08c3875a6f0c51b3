//! Byte offsets ↔ (line, character) positions. Lines end at `\n` (a `\r\n` counts as one ending,
//! as in LSP; Python itself treats a lone `\r` as an ending too, which tree-sitter does not).

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
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { starts, len: text.len() }
    }

    pub fn line_count(&self) -> usize {
        self.starts.len()
    }

    /// Byte range of line `line` without its ending.
    pub fn line_range(&self, text: &str, line: u32) -> (usize, usize) {
        let start = self.starts.get(line as usize).copied().unwrap_or(self.len);
        let mut end = self.starts.get(line as usize + 1).map(|e| e - 1).unwrap_or(self.len);
        if end > start && text.as_bytes().get(end - 1) == Some(&b'\r') {
            end -= 1;
        }
        (start, end.max(start))
    }

    /// The position of a byte offset (clamped to the text, and to a char boundary).
    pub fn position(&self, text: &str, offset: usize, encoding: PositionEncoding) -> Position {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.starts.partition_point(|&s| s <= offset) - 1;
        let prefix = &text[self.starts[line]..offset];
        let character = match encoding {
            PositionEncoding::Utf8 => prefix.len(),
            PositionEncoding::Utf16 => prefix.chars().map(char::len_utf16).sum(),
            PositionEncoding::Utf32 => prefix.chars().count(),
        };
        Position { line: line as u32, character: character as u32 }
    }

    /// The byte offset of a position (clamped to its line's end).
    pub fn offset(&self, text: &str, pos: Position, encoding: PositionEncoding) -> usize {
        let Some(&start) = self.starts.get(pos.line as usize) else { return text.len() };
        let end = self.starts.get(pos.line as usize + 1).copied().unwrap_or(text.len());
        let line = &text[start..end];
        let mut units = 0u32;
        for (i, ch) in line.char_indices() {
            if units >= pos.character || ch == '\n' {
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
