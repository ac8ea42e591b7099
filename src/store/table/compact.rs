//! A table's part of a format-2 snapshot in the compact form: one pass over the bytes on
//! load, each record decoded straight into a pre-sized arena (see `snapshot/codec.rs`).
//!
//! ```text
//! varint         slots n (slotmap's reserved slot 0 excluded)
//! n varints      each slot's version: odd live, even vacant
//! varints        one link counter per foreign key
//! varint, bytes  the text block: every live record's text, in slot and field order
//! records        each live record in slot order: its fields, then its link numbers
//! ```

use super::{links_within_counters, Table};
use crate::entity::Entity;
use crate::par;
use crate::snapshot::codec::{Reader, Writer};
use crate::snapshot::{slots, SnapshotError};
use crate::text::TextHeap;

impl<E: Entity> Table<E> {
    /// Appends the compact form, given the arena's slot versions. O(slots + text).
    pub(crate) fn save_compact(&self, versions: &[u32], out: &mut Vec<u8>) {
        let mut w = Writer::new(out, &self.text);
        w.u64(versions.len() as u64);
        for &v in versions {
            w.u64(v.into());
        }
        for &s in &self.next_seq {
            w.u64(s.into());
        }
        let mut text_len = 0;
        for row in self.rows.values() {
            E::__spans(row, &mut |s| text_len += s.len());
        }
        w.u64(text_len as u64);
        for row in self.rows.values() {
            E::__spans(row, &mut |s| w.text(s));
        }
        for row in self.rows.values() {
            E::__encode_row(row, &mut w);
        }
    }

    /// Replaces this (empty) table's ground truth with the compact part at the start of
    /// `bytes`; returns the bytes consumed. Validates versions, text (UTF-8, every byte used
    /// by exactly one field, char boundaries) and link numbers; allocates at most a few times
    /// the input's size. The caller validates foreign keys, then rebuilds the indexes.
    pub(crate) fn load_compact(&mut self, bytes: &[u8]) -> Result<usize, SnapshotError> {
        let table = E::DEF.table;
        let bad = |detail: String| SnapshotError::Decode { part: table, detail };
        let malformed = || bad("malformed slot list or counters".into());
        let mut r = Reader::new(bytes, b"");
        let slots = r.u64().ok_or_else(malformed)?;
        // Each version takes a byte at least: a longer list cannot be in the input.
        if slots > bytes.len() as u64 {
            return Err(malformed());
        }
        // One past the highest slot index handed out (every slot was, once); slotmap holds
        // fewer than u32::MAX slots, so a count that does not fit is refused before any insert.
        let high_water = match slots {
            0 => 0,
            n => u32::try_from(n + 1)
                .ok()
                .filter(|&h| h < u32::MAX)
                .ok_or_else(malformed)?,
        };
        let versions: Option<Vec<u32>> = (0..slots).map(|_| r.u32()).collect();
        let versions = versions.ok_or_else(malformed)?;
        let next_seq: Option<Vec<u32>> = E::DEF.fks.iter().map(|_| r.u32()).collect();
        let next_seq = next_seq.ok_or_else(malformed)?;
        let text_len = r.u64().ok_or_else(malformed)?;
        let start = r.position();
        let text_end = usize::try_from(text_len)
            .ok()
            .and_then(|n| start.checked_add(n))
            .filter(|&end| end <= bytes.len())
            .ok_or_else(|| bad("text block runs past the input".into()))?;
        let block = &bytes[start..text_end];
        let mut rows_in = Reader::new(&bytes[text_end..], block);
        // The text block is validated and copied on a second thread while the rows decode.
        let (text, rows) = par::join(
            block.len() >= par::PARALLEL_BYTES,
            || owned_text(block),
            || {
                slots::rebuild(table, &versions, |i| {
                    let row = E::__decode_row(&mut rows_in)
                        .ok_or_else(|| bad(format!("record in slot {} is malformed", i + 1)))?;
                    if !links_within_counters::<E>(&row, &next_seq) {
                        return Err(bad(format!(
                            "record in slot {}: link number beyond its counter",
                            i + 1
                        )));
                    }
                    Ok(row)
                })
            },
        );
        let text = text.map_err(|e| bad(format!("text block is not UTF-8: {e}")))?;
        self.rows = rows?;
        if rows_in.text_used() != text.len() {
            return Err(bad("text block holds bytes no record uses".into()));
        }
        self.text = TextHeap::from_string(text);
        self.next_seq = next_seq;
        self.high_water = high_water;
        Ok(text_end + rows_in.position())
    }
}

/// The text block as an owned `String`, validated piece by piece as it is copied (each piece
/// is still in cache when it is copied).
fn owned_text(block: &[u8]) -> Result<String, std::str::Utf8Error> {
    const PIECE: usize = 64 * 1024;
    let mut text = String::with_capacity(block.len());
    let mut rest = block;
    while !rest.is_empty() {
        let mut cut = rest.len().min(PIECE);
        // Back up to a char start (a char has at most 3 continuation bytes), so a piece never
        // splits a valid char; 4 in a row are invalid and fail the check below anyway.
        for _ in 0..3 {
            if rest.get(cut).is_some_and(|&b| b & 0xC0 == 0x80) {
                cut -= 1;
            }
        }
        let piece = std::str::from_utf8(&rest[..cut])?;
        text.push_str(piece);
        rest = &rest[cut..];
    }
    Ok(text)
}
