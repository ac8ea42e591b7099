//! A table's part of a format-2 snapshot in the compact form: one pass over the bytes on
//! load, each record decoded straight into a pre-sized arena (see `snapshot/codec.rs`).
//!
//! ```text
//! varint         slots n (slot 0, never used, excluded)
//! n varints      each slot's version: odd live, even vacant
//! varints        one link counter per foreign key
//! varint, bytes  the text block: every live record's text, in slot and field order
//! records        each live record in slot order: its fields, then its link numbers
//! ```

use super::tally::{ParentSlots, Tallies};
use super::{links_within_counters, Table};
use crate::entity::Entity;
use crate::snapshot::codec::{Reader, Writer};
use crate::snapshot::text_copy::{not_utf8, owned_text, TextCopies};
use crate::snapshot::SnapshotError;
use crate::store::arena::Arena;
use crate::text::{TextHeap, TEXT_HEAP_LIMIT};

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
        // The text block is every field's text in slot and field order: when the fields lie
        // back to back in the heap (a loaded or bulk-inserted table), one copy of that range.
        let (mut text_len, mut run, mut back_to_back) = (0, None, true);
        for row in self.rows.iter().map(|(_, r)| r) {
            E::__spans(row, &mut |s| {
                text_len += s.len();
                let (off, end) = (s.off(), s.off() + s.len());
                match &mut run {
                    _ if s.is_empty() => {}
                    None => run = Some(off..end),
                    Some(r) if r.end == off => r.end = end,
                    Some(_) => back_to_back = false,
                }
            });
        }
        w.u64(text_len as u64);
        let copied = back_to_back && run.is_some_and(|r| w.text_range(r));
        if !copied {
            for row in self.rows.iter().map(|(_, r)| r) {
                E::__spans(row, &mut |s| w.text(s));
            }
        }
        for row in self.rows.iter().map(|(_, r)| r) {
            E::__encode_row(row, &mut w);
        }
    }

    /// Replaces this (empty) table's ground truth with the compact part at the start of
    /// `bytes`; returns the bytes consumed and, for a large text block, which block of
    /// `copies` holds it (installed with [`set_text`](Table::set_text) once copied; the
    /// caller then checks field ends with [`check_field_ends`](Table::check_field_ends) unless
    /// the block is all ASCII). Validates versions, every text byte used by exactly one field,
    /// and link numbers; a block copied here is also validated as UTF-8 and its field ends
    /// checked, a posted block is validated by its copies. Allocates at most a few times the
    /// input's size. Foreign keys are validated by the rebuild jobs.
    pub(crate) fn load_compact<'a>(
        &mut self,
        bytes: &'a [u8],
        copies: &TextCopies<'a>,
        table: usize,
        parents: &[ParentSlots],
    ) -> Result<PartLoaded, SnapshotError> {
        let head = PartHead::read(bytes, E::DEF.fks.len()).map_err(|detail| bad::<E>(detail.into()))?;
        let mut tallies = self.tallies_to_count(parents, head.high_water as usize);
        let block = &bytes[head.text.clone()];
        let posted = copies.post(table, E::DEF.table, block);
        let here = match posted {
            None => Some(owned_text(block).map_err(|e| not_utf8(E::DEF.table, e))?),
            Some(_) => None,
        };
        let mut rows_in = Reader::new(&bytes[head.text.end..], block);
        if let Some(posted) = &posted {
            rows_in = rows_in.with_goals(&posted.goals).without_boundary_checks();
        }
        self.rows = decode_rows::<E>(&mut rows_in, &head, &mut tallies)?;
        if rows_in.text_used() != block.len() {
            return Err(bad::<E>("text block holds bytes no record uses".into()));
        }
        if let Some(text) = here {
            self.text = TextHeap::from_string(text);
        }
        let used = head.text.end + rows_in.position();
        let field_starts = rows_in.field_starts().to_vec();
        self.next_seq = head.next_seq;
        Ok(PartLoaded {
            used,
            text: posted.map(|p| (p.block, field_starts)),
            tallies,
        })
    }

    /// Per foreign key with a children index whose parents' slots are known (their table
    /// decoded already, or this one, of `own_slots` slots), tallies to count into while the
    /// records decode.
    fn tallies_to_count(&self, parents: &[ParentSlots], own_slots: usize) -> Vec<Option<Tallies>> {
        let bound = |fk: usize| match parents.get(fk) {
            Some(ParentSlots::Below(n)) => Some(*n),
            Some(ParentSlots::Own) => Some(own_slots),
            Some(ParentSlots::Unknown) | None => None,
        };
        (0..E::DEF.fks.len())
            .map(|fk| {
                bound(fk)
                    .filter(|_| self.fk_unique[fk].is_none())
                    .map(Tallies::new)
            })
            .collect()
    }
}

/// A table part, decoded: the bytes it took; when its text is still being copied, the block
/// number and the start of the field crossing each of its goals; and per foreign key, the
/// children counted per parent, if they were.
pub(crate) struct PartLoaded {
    pub(crate) used: usize,
    pub(crate) text: Option<(usize, Vec<usize>)>,
    pub(crate) tallies: Vec<Option<Tallies>>,
}

impl<E: Entity> Table<E> {
    /// Every text field lies in the heap on char boundaries (for a loaded text block whose
    /// field ends were not checked while the records decoded). O(records), reading each
    /// field's ends.
    pub(crate) fn check_field_ends(&self) -> Result<(), SnapshotError> {
        match self.first_bad_span() {
            None => Ok(()),
            Some((key, _)) => Err(bad::<E>(format!(
                "record in slot {} is malformed: a text field ends inside a char",
                key.index()
            ))),
        }
    }
}

impl<E: Entity> Table<E> {
    /// Every field holds a value its type accepts (an enum's variant, an in-range
    /// timestamp): O(records) for a table with such fields, nothing otherwise.
    pub(crate) fn check_values(&self) -> Result<(), SnapshotError> {
        if E::__ACCEPTS_ALL {
            return Ok(());
        }
        for (slot, row) in self.rows.iter() {
            if let Some(field) = E::__rejected(row, &self.text) {
                let key = slot;
                let column = E::DEF.fields.get(field).map_or("?", |f| f.column);
                return Err(bad::<E>(format!(
                    "record {key}: {column} holds no value of its type"
                )));
            }
        }
        Ok(())
    }
}

/// What precedes a compact part's records.
struct PartHead {
    versions: Vec<u32>,
    next_seq: Vec<u32>,
    /// One past the highest slot index handed out.
    high_water: u32,
    /// Where the text block lies in the part.
    text: std::ops::Range<usize>,
}

impl PartHead {
    fn read(bytes: &[u8], fks: usize) -> Result<PartHead, &'static str> {
        const MALFORMED: &str = "malformed slot list or counters";
        let mut r = Reader::new(bytes, b"");
        let slots = r.u64().ok_or(MALFORMED)?;
        // Each version takes a byte at least: a longer list cannot be in the input.
        if slots > bytes.len() as u64 {
            return Err(MALFORMED);
        }
        // Every slot was handed out once; an arena holds fewer than u32::MAX slots, so a count
        // that does not fit is refused before any insert.
        let high_water = match slots {
            0 => 0,
            n => u32::try_from(n + 1)
                .ok()
                .filter(|&h| h < u32::MAX)
                .ok_or(MALFORMED)?,
        };
        let versions: Option<Vec<u32>> = (0..slots).map(|_| r.u32()).collect();
        let next_seq: Option<Vec<u32>> = (0..fks).map(|_| r.u32()).collect();
        let (versions, next_seq) = versions.zip(next_seq).ok_or(MALFORMED)?;
        let text_len = r.u64().ok_or(MALFORMED)?;
        let start = r.position();
        let end = usize::try_from(text_len)
            .ok()
            .and_then(|n| start.checked_add(n))
            .filter(|&end| end <= bytes.len())
            .ok_or("text block runs past the input")?;
        if text_len > TEXT_HEAP_LIMIT as u64 {
            return Err("text block larger than a table's text heap");
        }
        Ok(PartHead {
            versions,
            next_seq,
            high_water,
            text: start..end,
        })
    }
}

/// Decodes every live record into an arena with the part's slot versions, counting each
/// record's parent into `tallies` (per foreign key, where there is one).
fn decode_rows<E: Entity>(
    rows_in: &mut Reader<'_>,
    head: &PartHead,
    tallies: &mut [Option<Tallies>],
) -> Result<Arena<E::Row>, SnapshotError> {
    let mut counting: Vec<(usize, &mut Tallies)> = (tallies.iter_mut().enumerate())
        .filter_map(|(fk, t)| t.as_mut().map(|t| (fk, t)))
        .collect();
    // One row per odd version; the versions are bounded by the input's length.
    let mut rows = Vec::with_capacity(head.versions.len());
    for (i, _) in (head.versions.iter().enumerate()).filter(|(_, v)| *v % 2 == 1) {
        let row = E::__decode_row(rows_in)
            .ok_or_else(|| bad::<E>(format!("record in slot {} is malformed", i + 1)))?;
        for (fk, tallies) in &mut counting {
            if let Some(parent) = E::__fk(&row, *fk) {
                tallies.add(parent);
            }
        }
        if !links_within_counters::<E>(&row, &head.next_seq) {
            let detail = format!("record in slot {}: link number beyond its counter", i + 1);
            return Err(bad::<E>(detail));
        }
        rows.push(row);
    }
    Arena::from_parts(head.versions.clone(), rows).map_err(|e| bad::<E>(format!("slots: {e:?}")))
}

fn bad<E: Entity>(detail: String) -> SnapshotError {
    SnapshotError::Decode {
        part: E::DEF.table,
        detail,
    }
}
