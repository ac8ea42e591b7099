//! A table's part of a snapshot: ground truth out (slots with their versions, the text heap,
//! link counters), and on the way in the same, validated, with every derived structure rebuilt.
//!
//! Format 2 starts each part with its form: 0 for the compact form (`compact.rs`), 1 for
//! slotmap's serde form through bincode, the only form of format 1, kept for arenas whose slot
//! versions the compact form does not replay cheaply (see `snapshot/slots.rs`).

use serde::{Deserialize, Serialize};
use slotmap::{DefaultKey, SlotMap};

use super::{row_hash, same_values, Table};
use crate::entity::Entity;
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
        let part = TableOut {
            rows: &self.rows,
            text: self.text.as_str(),
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
            for fk in 0..E::DEF.fks.len() {
                if E::__fk(row, fk).is_some() && E::__seqs(row)[fk] >= self.next_seq[fk] {
                    return Err(SnapshotError::Decode {
                        part: table,
                        detail: format!("record {key}: link number beyond its counter"),
                    });
                }
            }
        }
        self.high_water = high;
        Ok(())
    }

    /// Rebuilds unique and secondary indexes and children lists from the rows, refusing
    /// duplicate unique values and ambiguous link order.
    pub(crate) fn rebuild(&mut self) -> Result<(), SnapshotError> {
        let keys: Vec<RawKey> = self.rows.keys().map(RawKey::from_slot).collect();
        self.reserve_indexes(keys.len());
        let mut last: Vec<Vec<u32>> = vec![Vec::new(); E::DEF.fks.len()];
        for &key in &keys {
            self.insert_unique_entries(key)?;
            self.link_indexes(key);
            self.link_children(key, Some(&mut last));
        }
        for (fk, list) in self.children.iter().enumerate() {
            if E::DEF.fks[fk].order_by.is_some() {
                continue;
            }
            for (_, kids) in list.iter() {
                let seqs = kids.iter().map(|k| self.row(*k).map_or(0, |r| E::__seqs(r)[fk]));
                let seqs: Vec<u32> = seqs.collect();
                if seqs.windows(2).any(|w| w[0] == w[1]) {
                    let detail = format!("two children of one parent share link number {}", seqs[0]);
                    return Err(SnapshotError::Decode {
                        part: E::DEF.table,
                        detail,
                    });
                }
            }
        }
        Ok(())
    }

    fn reserve_indexes(&mut self, rows: usize) {
        let Table {
            rows: arena,
            text,
            uniques,
            ..
        } = self;
        for (u, def) in E::DEF.uniques.iter().enumerate() {
            let rehash = |k: RawKey| {
                arena
                    .get(k.slot())
                    .and_then(|r| row_hash::<E>(r, text, def.fields))
                    .unwrap_or(0)
            };
            uniques[u].reserve(rows, rehash);
        }
    }

    /// Adds `key` to every unique index, refusing a value another record holds (one probe).
    fn insert_unique_entries(&mut self, key: RawKey) -> Result<(), SnapshotError> {
        let Table {
            rows, text, uniques, ..
        } = self;
        let Some(row) = rows.get(key.slot()) else {
            return Ok(());
        };
        for (u, def) in E::DEF.uniques.iter().enumerate() {
            let Some(hash) = row_hash::<E>(row, text, def.fields) else {
                continue;
            };
            let eq = |k: RawKey| {
                rows.get(k.slot())
                    .is_some_and(|o| same_values::<E>(row, o, text, def.fields))
            };
            let rehash = |k: RawKey| {
                rows.get(k.slot())
                    .and_then(|r| row_hash::<E>(r, text, def.fields))
                    .unwrap_or(0)
            };
            if let Err(existing) = uniques[u].insert_new(hash, key, eq, rehash) {
                let (table, constraint) = (E::DEF.table, def.name);
                return Err(SnapshotError::DuplicateUnique {
                    table,
                    constraint,
                    keys: [existing, key],
                });
            }
        }
        Ok(())
    }
}
