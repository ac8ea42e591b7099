//! A table's part of a snapshot: ground truth out (slots with their versions, the text heap,
//! link counters), and on the way in the same, validated, with every derived structure rebuilt.
//!
//! Format 2 starts each part with its form: 0 for the compact form (`compact.rs`), 1 for
//! slotmap's serde form through bincode, the only form of format 1, kept for arenas whose slot
//! versions the compact form does not replay cheaply (see `snapshot/slots.rs`).

use serde::{Deserialize, Serialize};
use slotmap::{DefaultKey, SlotMap};

use super::{links_within_counters, row_hash, same_values, Table};
use crate::entity::Entity;
use crate::index::children::ChildIndex;
use crate::key::RawKey;
use crate::snapshot::{format, slots, SnapshotError};
use crate::text::{Span, TextHeap};

/// The part's first byte in format 2: which form follows.
const COMPACT: u8 = 0;
const SERDE: u8 = 1;

#[derive(Serialize)]
struct TableOut<'a, R> {
    rows: &'a SlotMap<DefaultKey, R>,
    text: &'a str,
    next_seq: &'a [u32],
    high_water: u32,
}

/// Decoded borrowing `text` from the input: an owned `String` would be allocated at its
/// announced length before bincode checks that the input holds it (found by fuzzing).
#[derive(Deserialize)]
struct TableIn<'a, R> {
    rows: SlotMap<DefaultKey, R>,
    text: &'a str,
    next_seq: Vec<u32>,
    high_water: u32,
}

impl<E: Entity> Table<E> {
    /// Appends this table's ground truth to `out`, in the compact form when it can.
    pub(crate) fn save(&self, out: &mut Vec<u8>) -> Result<(), SnapshotError> {
        let versions = slots::versions(&self.rows);
        if slots::replayable(&versions) {
            out.push(COMPACT);
            self.save_compact(&versions, out);
            Ok(())
        } else {
            out.push(SERDE);
            self.save_serde(out)
        }
    }

    /// Loads this (empty) table from the part at the start of `bytes`, written in snapshot
    /// format `format`; returns the bytes consumed.
    pub(crate) fn load(&mut self, bytes: &[u8], format: u32) -> Result<usize, SnapshotError> {
        if format == 1 {
            return self.load_serde(bytes);
        }
        let rest = bytes.get(1..).unwrap_or_default();
        let used = match bytes.first() {
            Some(&COMPACT) => self.load_compact(rest)?,
            Some(&SERDE) => self.load_serde(rest)?,
            _ => {
                return Err(SnapshotError::Decode {
                    part: E::DEF.table,
                    detail: "unknown table form".into(),
                })
            }
        };
        Ok(used + 1)
    }

    fn save_serde(&self, out: &mut Vec<u8>) -> Result<(), SnapshotError> {
        let text = self.text.contiguous();
        let part = TableOut {
            rows: &self.rows,
            text: &text,
            next_seq: &self.next_seq,
            high_water: self.high_water,
        };
        bincode::serde::encode_into_std_write(&part, out, format::config())
            .map(drop)
            .map_err(|e| SnapshotError::Encode {
                detail: e.to_string(),
            })
    }

    /// Replaces this (empty) table's ground truth with the serde part at the start of `bytes`;
    /// returns the bytes consumed. Validates text spans and counters; the caller validates
    /// foreign keys and then calls [`rebuild`](Self::rebuild) (children lists are sized by
    /// parent slots, so they must not be built from unvalidated keys).
    fn load_serde(&mut self, bytes: &[u8]) -> Result<usize, SnapshotError> {
        let table = E::DEF.table;
        let (part, used): (TableIn<'_, E::Row>, usize) =
            bincode::serde::borrow_decode_from_slice(bytes, format::config()).map_err(|e| {
                SnapshotError::Decode {
                    part: table,
                    detail: e.to_string(),
                }
            })?;
        if part.next_seq.len() != E::DEF.fks.len() {
            return Err(SnapshotError::Decode {
                part: table,
                detail: "wrong number of link counters".into(),
            });
        }
        self.rows = part.rows;
        self.text = TextHeap::from_string(part.text.to_owned());
        self.next_seq = part.next_seq;
        self.high_water = part.high_water;
        self.validate_rows()?;
        Ok(used)
    }

    fn validate_rows(&mut self) -> Result<(), SnapshotError> {
        let table = E::DEF.table;
        let text = &self.text;
        let mut high = self.high_water;
        for (slot, row) in self.rows.iter_mut() {
            let key = RawKey::from_slot(slot);
            high = high.max(key.index().saturating_add(1));
            let mut bad = false;
            E::__for_each_span(row, &mut |s: &mut Span| bad |= !text.contains(*s));
            if bad {
                return Err(SnapshotError::TextOutOfBounds { table, key });
            }
            if !links_within_counters::<E>(row, &self.next_seq) {
                return Err(SnapshotError::Decode {
                    part: table,
                    detail: format!("record {key}: link number beyond its counter"),
                });
            }
        }
        self.high_water = high;
        Ok(())
    }

    /// Rebuilds unique and secondary indexes and children lists from the rows, refusing
    /// duplicate unique values and ambiguous link order.
    pub(crate) fn rebuild(&mut self) -> Result<(), SnapshotError> {
        let keys: Vec<RawKey> = self.rows.keys().map(RawKey::from_slot).collect();
        for u in 0..E::DEF.uniques.len() {
            self.fill_unique(u, &keys)?;
        }
        self.presize_children();
        let mut newest: Vec<Vec<u32>> = vec![Vec::new(); E::DEF.fks.len()];
        for &key in &keys {
            self.link_indexes(key);
            self.relink_children(key, &mut newest)?;
        }
        Ok(())
    }

    /// Replaces every children index with an empty one whose lists are sized exactly (one
    /// counting pass over the rows; foreign keys are validated, so parents' slot indexes are
    /// bounded by their tables).
    fn presize_children(&mut self) {
        for fk in 0..E::DEF.fks.len() {
            if self.fk_unique[fk].is_some() {
                continue;
            }
            let mut counts: Vec<(RawKey, u32)> = Vec::new();
            for parent in self.rows.values().filter_map(|row| E::__fk(row, fk)) {
                let at = parent.index() as usize;
                if counts.len() <= at {
                    counts.resize(at + 1, (parent, 0));
                }
                counts[at] = (parent, counts[at].1 + 1);
            }
            self.children[fk] = ChildIndex::with_counts(counts.into_iter().filter(|&(_, n)| n > 0));
        }
    }

    /// Adds `key` to its parents' children lists. Records come in slot order, which is
    /// usually link order: `newest[fk][parent slot]` holds the highest link number seen, so
    /// a child in order is appended without reading its siblings, and only one out of order
    /// is placed by comparing. Refuses two children of one parent sharing a link number.
    fn relink_children(&mut self, key: RawKey, newest: &mut [Vec<u32>]) -> Result<(), SnapshotError> {
        for (fk, seen) in newest.iter_mut().enumerate() {
            let Some(row) = self.rows.get(key.slot()) else {
                return Ok(());
            };
            let Some(parent) = E::__fk(row, fk).filter(|_| self.fk_unique[fk].is_none()) else {
                continue;
            };
            if E::DEF.fks[fk].order_by.is_some() {
                self.link_child(fk, key); // sorted by a field: link numbers order nothing
                continue;
            }
            let seq = E::__seqs(row)[fk];
            let at = parent.index() as usize;
            if seen.len() <= at {
                seen.resize(at + 1, u32::MAX);
            }
            if seen[at] == u32::MAX || seen[at] < seq {
                seen[at] = seq;
                self.children[fk].insert_by(parent, key, |_| true);
                continue;
            }
            let repeat = seen[at] == seq;
            let Some(pos) = self.link_child(fk, key) else {
                continue;
            };
            // Siblings before `pos` have smaller numbers; the next one must be larger.
            let seq_of = |c: RawKey| self.rows.get(c.slot()).map_or(0, |r| E::__seqs(r)[fk]);
            let next = self.children[fk].get(parent).get(pos + 1);
            if repeat || next.is_some_and(|&c| seq_of(c) == seq) {
                let detail = format!("two children of parent {parent} share link number {seq}");
                return Err(SnapshotError::Decode {
                    part: E::DEF.table,
                    detail,
                });
            }
        }
        Ok(())
    }

    /// Fills unique index `u`, refusing a value two records hold. Every record is hashed
    /// first (one pass in slot order), then inserted grouped by where its hash lands in the
    /// table, so the probes sweep the table's memory once instead of missing the cache on
    /// every record. The grouping is stable: of two records holding one value, the one in the
    /// lower slot goes in first and the other is reported.
    fn fill_unique(&mut self, u: usize, keys: &[RawKey]) -> Result<(), SnapshotError> {
        let Table {
            rows, text, uniques, ..
        } = self;
        let def = &E::DEF.uniques[u];
        let hash_of = |k: RawKey| {
            rows.get(k.slot())
                .and_then(|r| row_hash::<E>(r, text, def.fields))
        };
        let hashed: Vec<(u64, RawKey)> = keys.iter().filter_map(|&k| hash_of(k).map(|h| (h, k))).collect();
        let index = &mut uniques[u];
        index.reserve(hashed.len(), |k| hash_of(k).unwrap_or(0));
        for (hash, key) in group_by_bucket(hashed, index.bucket_mask_hint()) {
            // Reads the two records only on a tag match (rare): fetching this record up front
            // would be a cache miss per insert, the records being in bucket order, not slot
            // order.
            let eq = |k: RawKey| {
                rows.get(key.slot())
                    .zip(rows.get(k.slot()))
                    .is_some_and(|(a, b)| same_values::<E>(a, b, text, def.fields))
            };
            if let Err(existing) = index.insert_new(hash, key, eq, |k| hash_of(k).unwrap_or(0)) {
                return Err(SnapshotError::DuplicateUnique {
                    table: E::DEF.table,
                    constraint: def.name,
                    keys: [existing, key],
                });
            }
        }
        Ok(())
    }
}

/// `items` stably reordered by the top (at most) 12 bits of `hash & mask`: a counting sort,
/// O(n). Small inputs stay as they are; their table fits in the cache anyway.
fn group_by_bucket(items: Vec<(u64, RawKey)>, mask: u64) -> Vec<(u64, RawKey)> {
    if items.len() < 1 << 14 {
        return items;
    }
    let shift = (64 - mask.leading_zeros()).saturating_sub(12);
    let group = |h: u64| ((h & mask) >> shift) as usize;
    let mut starts = vec![0usize; group(mask) + 2];
    for &(h, _) in &items {
        starts[group(h) + 1] += 1;
    }
    for g in 1..starts.len() {
        starts[g] += starts[g - 1];
    }
    let mut out = vec![(0, RawKey::default()); items.len()];
    for item in items {
        let at = &mut starts[group(item.0)];
        out[*at] = item;
        *at += 1;
    }
    out
}
