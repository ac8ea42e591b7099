//! A table's ground truth as parts, for snapshots: written by [`Table::encode_parts`], and a
//! table rebuilt from them by [`Table::from_parts`], which validates them and rebuilds every
//! derived structure (unique, secondary and ordered indexes here; children lists, which need
//! the parent tables, in [`Table::fill_children`] once each foreign key is validated by
//! [`Table::count_children`]).
//!
//! The parts, encoded with bincode's serde path ([`config`]):
//! - `rows`: the records in slotmap's own serde form (each slot's version and, if occupied,
//!   its row, whose link numbers format 5 writes relative to the row before's; a record
//!   detached by an open transaction is saved as vacant, i.e. deleted), and how far slot
//!   indexes have gone. [`Rows::decode`] inserts the rows when the slots are what inserts give,
//!   and otherwise lets slotmap decode them (it validates occupancy and rebuilds its free
//!   list, so a stale key stays stale);
//! - `next_seq`: each foreign key's link counter;
//! - `text`: every live record's text fields back to back, in slot and field order (a span
//!   is saved as its length; [`place_text`] gives each its offset back);
//! - then, only for an entity with an `#[relata(id)]` field, the id counter (a `u64`).

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use super::{
    has_null, index_row, links_within_counters, order_cmp, place_child, row_hash, same_values, Nulls, Table,
};
use crate::engine::Engine;
use crate::entity::Entity;
use crate::error::SnapshotError;
use crate::index::children::ChildIndex;
use crate::index::ordered::OrderedIndex;
use crate::index::unique::UniqueIndex;
use crate::key::RawKey;
use crate::store::erased::AnyTable;
use crate::store::rows::Rows;
use crate::store::table::KeyState;
use crate::store::write::{check_lengths, check_postgres_values, check_predicates, refusable};
use crate::text::{Span, TextHeap};

/// The bincode configuration of every part of a snapshot: standard (varint) encoding, no byte
/// limit. Nothing a snapshot decodes is allocated at a length read from the input alone: text
/// and names are borrowed from it, a table's slots reserve no more memory than
/// the bytes left ([`Rows::decode`]), and other sequences (pairs, bytes) never pre-allocate more than serde's
/// cautious size hint (1 MiB), growing only as their elements are actually read, so a length
/// bomb runs out of input first. (A limit would be claimed on every value read: 4% of a
/// load's instructions.)
pub(crate) fn config() -> bincode::config::Configuration {
    bincode::config::standard()
}

/// Appends `value` to `out`, encoded as every part of a snapshot is.
pub(crate) fn put(value: &impl Serialize, out: &mut Vec<u8>) -> Result<(), bincode::error::EncodeError> {
    bincode::serde::encode_into_std_write(value, out, config()).map(drop)
}

/// The value encoded at `bytes[*at..]` (strings borrowed from `bytes`); `*at` moves past it.
pub(crate) fn take<'a, T: Deserialize<'a>>(
    bytes: &'a [u8],
    at: &mut usize,
) -> Result<T, bincode::error::DecodeError> {
    let rest = bytes.get(*at..).unwrap_or_default();
    let (value, used) = bincode::serde::borrow_decode_from_slice(rest, config())?;
    *at += used;
    Ok(value)
}

/// A record of declared defaults (see [`Table::default_row`]).
pub(crate) struct DefaultRow {
    /// The row, encoded as the parts encode rows.
    pub(crate) bytes: Vec<u8>,
    /// Its text fields' text, back to back in field order.
    pub(crate) text: String,
    /// Whether each field declares a default.
    pub(crate) declared: Vec<bool>,
}

impl<E: Entity> Table<E> {
    /// Appends this table's parts to `out`. O(records + text).
    pub(crate) fn encode_parts(&self, out: &mut Vec<u8>) -> Result<(), SnapshotError> {
        let encode_err = |e| SnapshotError::Encode {
            detail: format!("table {}: {e}", E::DEF.table),
        };
        super::links::restart_links();
        let mut run = TextRun::default();
        (self.rows.encode(out, |row| E::__spans(row, &mut |s| run.add(s)))).map_err(encode_err)?;
        let text = run.text::<E>(&self.rows, &self.text);
        put(&(&self.next_seq, text), out).map_err(encode_err)?;
        if E::DEF.id.is_some() {
            put(&self.next_id, out).map_err(encode_err)?;
        }
        Ok(())
    }

    /// The table whose parts, in format `version`, start `bytes`, and how many bytes they took.
    pub(crate) fn decode_parts(bytes: &[u8], version: u32) -> Result<(Table<E>, usize), SnapshotError> {
        // The parts open with slotmap's slots, a sequence bincode prefixes with its length:
        // how many slots the table has (slot 0 included), read here so the slot count the
        // rows record is checked against the slots themselves, not trusted.
        let slots: u64 = take(bytes, &mut 0).map_err(|e| bad::<E>(e.to_string()))?;
        let (rows, mut at) = Rows::decode(bytes, config()).map_err(|e| bad::<E>(e.to_string()))?;
        let (next_seq, text) = take(bytes, &mut at).map_err(|e| bad::<E>(e.to_string()))?;
        let mut table = Table::from_parts((rows, next_seq, text), slots, version)?;
        if E::DEF.id.is_some() {
            table.next_id = take(bytes, &mut at).map_err(|e| bad::<E>(e.to_string()))?;
            if let Some(detail) = table.first_bad_id() {
                return Err(bad::<E>(detail));
            }
        }
        Ok((table, at))
    }

    /// A record holding every field's declared default (`default = expr`; a field without
    /// one holds its type's zero value), encoded as a row of the parts, with its text in
    /// field order, and which fields declare a default: what a load of a snapshot saved
    /// before a field existed fills it with. O(fields).
    pub(crate) fn default_row() -> Result<DefaultRow, SnapshotError> {
        let (mut row, mut heap) = (E::Row::default(), TextHeap::default());
        let mut declared = Vec::with_capacity(E::DEF.fields.len());
        for f in 0..E::DEF.fields.len() {
            let set = E::__default_field(&mut row, &mut heap, f).map_err(|e| SnapshotError::Encode {
                detail: format!("the default of {}.{}: {e}", E::DEF.table, E::DEF.fields[f].name),
            })?;
            declared.push(set);
        }
        let bytes = bincode::serde::encode_to_vec(&row, config()).map_err(|e| SnapshotError::Encode {
            detail: format!("table {}: {e}", E::DEF.table),
        })?;
        let mut text = String::new();
        E::__spans(&row, &mut |s| text.push_str(heap.str(s)));
        Ok(DefaultRow {
            bytes,
            text,
            declared,
        })
    }

    /// A table from its parts (rows, link counters, text borrowed from the input) in format
    /// `version` and its slot count (slot 0 included), link numbers made absolute (format 5
    /// writes them relative), validated (the slot count the rows record, link counters, every
    /// text field in the text on char boundaries and every byte used, each value of its type),
    /// with its unique, secondary and ordered indexes rebuilt; children lists follow
    /// (`fill_children`). O(records + text), O(n log n) per ordered index.
    pub(crate) fn from_parts(
        (mut rows, next_seq, text): (Rows<E::Row>, Vec<u32>, &str),
        slots: u64,
        version: u32,
    ) -> Result<Table<E>, SnapshotError> {
        if !rows.counts_slots(slots) {
            let detail = format!("slot count {} recorded, {slots} slots saved", rows.slot_count());
            return Err(bad::<E>(detail));
        }
        if next_seq.len() != E::DEF.fks.len() {
            return Err(bad::<E>("malformed link counters".into()));
        }
        let mut table = Table::new();
        table.text = TextHeap::from_string(text.to_owned());
        let (mut at, mut previous) = (0, [0; super::links::LANES]);
        for (key, row) in rows.iter_mut() {
            if version >= 5 {
                super::links::absolute_links(E::__seqs_mut(row), &mut previous);
            }
            at = place_text::<E>(row, text, at).ok_or_else(|| {
                bad::<E>(format!(
                    "record {key}: a text field runs past the text or ends inside a char"
                ))
            })?;
            if !links_within_counters::<E>(row, &next_seq) {
                return Err(bad::<E>(format!("record {key}: link number beyond its counter")));
            }
            if let Some(f) = (!E::__ACCEPTS_ALL)
                .then(|| E::__rejected(row, &table.text))
                .flatten()
            {
                let column = E::DEF.fields.get(f).map_or("?", |f| f.column);
                return Err(bad::<E>(format!(
                    "record {key}: {column} holds no value of its type"
                )));
            }
        }
        if at != text.len() {
            return Err(bad::<E>("the text holds bytes no record uses".into()));
        }
        table.rows = rows;
        table.next_seq = next_seq;
        table.fill_indexes()?;
        Ok(table)
    }

    /// Every record holds values the snapshot's engine accepts, checked in the order an
    /// insert under it checks them: under `Engine::Postgres` what PostgreSQL cannot bind
    /// first (text with a NUL byte, the escape `\u0000` in a `JSONB` column, a `u64` above
    /// `i64::MAX`), then each `max_len`, then the CHECKs (of two failing, PostgreSQL reports
    /// the one whose name sorts first, SQLite the first declared). A snapshot's description
    /// records none of these, so a load under a schema that added one checks the data
    /// against it. Run once every table is decoded: the engine's byte follows them.
    /// O(records + text) for a table with something to check, else O(1).
    pub(crate) fn check_values(&self, engine: Engine) -> Result<(), SnapshotError> {
        let postgres = engine == Engine::Postgres && E::DEF.fields.iter().any(refusable);
        let limited = E::DEF.fields.iter().any(|f| f.max_len.is_some());
        let checked = !E::DEF.checks.is_empty();
        if !(postgres || limited || checked) {
            return Ok(());
        }
        for (key, row) in self.rows.iter() {
            let text = &self.text;
            let values = match postgres {
                true => check_postgres_values::<E>(row, text, Some(key)),
                false => Ok(()),
            };
            values
                .and_then(|()| check_lengths::<E>(row, text, Some(key)))
                .and_then(|()| match checked {
                    true => check_predicates::<E>(row, text, Some(key), engine),
                    false => Ok(()),
                })
                .map_err(|error| SnapshotError::Rejected {
                    table: E::DEF.table,
                    key,
                    error: Box::new(error),
                })?;
        }
        Ok(())
    }

    /// Rebuilds the unique, secondary and ordered indexes from the rows.
    fn fill_indexes(&mut self) -> Result<(), SnapshotError> {
        let Table {
            rows,
            text,
            uniques,
            indexes,
            ordered,
            ..
        } = self;
        for (u, index) in uniques.iter_mut().enumerate() {
            fill_unique::<E>(rows, text, u, index)?;
        }
        for (x, index) in indexes.iter_mut().enumerate() {
            for (key, row) in rows.iter() {
                index_row::<E>(rows, text, x, index, key, row);
            }
        }
        for (x, sorted) in ordered.iter_mut().enumerate() {
            if let Some(sorted) = sorted.as_mut() {
                *sorted = sort_index::<E>(rows, text, x);
            }
        }
        Ok(())
    }

    /// Validates every foreign key against its target table (`tables[targets[fk]]`) and
    /// counts each parent's children (a slot index past the target's slots, or two versions
    /// of one slot, stops the count); each parent counted is then checked live, once (a
    /// one-to-one key's parent as its child is read). On failure the first dangling record in foreign
    /// key and slot order is found and reported. O(records + parents).
    pub(crate) fn count_children(
        &self,
        targets: &[usize],
        tables: &[Box<dyn AnyTable>],
    ) -> Result<Vec<ChildIndex>, SnapshotError> {
        let targets: Vec<&dyn AnyTable> = targets.iter().map(|&t| &*tables[t]).collect();
        let mut counts = vec![ChildIndex::default(); targets.len()];
        let mut counted = true;
        'count: for (fk, (c, target)) in counts.iter_mut().zip(&targets).enumerate() {
            let bound = target.slot_bound();
            let unique = self.fk_unique.get(fk).is_some_and(Option::is_some);
            for (_, row) in self.rows.iter() {
                let Some(p) = E::__fk(row, fk) else { continue };
                // A one-to-one key has no lists: each child checks its parent.
                counted = match unique {
                    true => target.state(p) == KeyState::Live,
                    false => (p.index() as usize) < bound && c.count(p, E::__seqs(row)[fk]),
                };
                if !counted {
                    break 'count;
                }
            }
        }
        let live = |(c, t): (&ChildIndex, &&_)| c.counted().all(|p| AnyTable::state(*t, p) == KeyState::Live);
        if counted && counts.iter().zip(&targets).all(live) {
            return Ok(counts);
        }
        for (fk, target) in targets.iter().enumerate() {
            let parent_of = |(key, row)| E::__fk(row, fk).map(|parent| (key, parent));
            let mut parents = self.rows.iter().filter_map(parent_of);
            if let Some((key, parent)) = parents.find(|&(_, p)| target.state(p) != KeyState::Live) {
                return Err(SnapshotError::DanglingReference {
                    table: E::DEF.table,
                    column: E::DEF.fk_column(fk),
                    key,
                    target: target.def().table,
                    target_key: parent,
                });
            }
        }
        Err(bad::<E>("a count failed on live parents".into()))
    }

    /// Fills the children list of every one-to-many foreign key, each sized by its count
    /// (from [`count_children`](Self::count_children)), in link order; refuses two children
    /// of one parent sharing a link number. Records come in slot order, usually link order:
    /// each is appended, then only the lists counted out of order are sorted (a list ordered
    /// by a field places each child by comparing).
    pub(crate) fn fill_children(&mut self, counts: Vec<ChildIndex>) -> Result<(), SnapshotError> {
        let Table {
            rows,
            text,
            children,
            fk_unique,
            ..
        } = self;
        for (fk, (mut index, unique)) in counts.into_iter().zip(fk_unique.iter()).enumerate() {
            if unique.is_some() {
                continue;
            }
            let unordered = index.lay_out();
            let by_field = E::DEF.fks[fk].order_by.is_some();
            for (key, row) in rows.iter() {
                let Some(parent) = E::__fk(row, fk) else { continue };
                if by_field || !index.push(parent, key) {
                    place_child::<E>(rows, text, fk, &mut index, parent, row, key);
                }
            }
            let seq_of = |c: RawKey| rows.get(c).map_or(0, |r| E::__seqs(r)[fk]);
            for parent in unordered {
                let run = index.get_mut(parent);
                // A list ordered by a field keeps its order: its numbers are checked on a copy.
                let mut copy = Vec::new();
                let run: &mut [RawKey] = match by_field {
                    true => {
                        copy.extend_from_slice(run);
                        &mut copy
                    }
                    false => run,
                };
                run.sort_by_key(|&c| seq_of(c));
                if let Some(w) = run.windows(2).find(|w| seq_of(w[0]) == seq_of(w[1])) {
                    let (key, seq) = (w[1], seq_of(w[1]));
                    let detail =
                        format!("record {key}: two children of parent {parent} share link number {seq}");
                    return Err(bad::<E>(detail));
                }
            }
            children[fk] = index; // fk < fk_unique.len() == children.len()
        }
        Ok(())
    }
}

/// Where the text fields seen so far lie in the heap, if back to back.
#[derive(Default)]
struct TextRun {
    run: Option<(usize, usize)>,
    split: bool,
}

impl TextRun {
    fn add(&mut self, s: Span) {
        match &mut self.run {
            _ if s.is_empty() => {}
            None => self.run = Some((s.off(), s.off() + s.len())),
            Some((_, end)) if *end == s.off() => *end += s.len(),
            Some(_) => self.split = true,
        }
    }

    /// The text of every live record's text fields (all of them added), back to back in slot
    /// and field order: borrowed from the heap when they already lie so (a loaded or
    /// bulk-inserted table).
    fn text<'a, E: Entity>(self, rows: &Rows<E::Row>, heap: &'a TextHeap) -> Cow<'a, str> {
        let (start, end) = self.run.unwrap_or((0, 0));
        let whole = Span::new(start as u32, (end - start) as u32);
        if !self.split && heap.contains(whole) {
            return Cow::Borrowed(heap.str(whole));
        }
        let mut text = String::new();
        for (_, row) in rows.iter() {
            E::__spans(row, &mut |s| text.push_str(heap.str(s)));
        }
        Cow::Owned(text)
    }
}

/// Gives each text field of `row` (in field order) its offset in `text`, the first at `at`;
/// returns where the next record's text starts, or `None` for a field that runs past the text
/// or ends inside a char.
fn place_text<E: Entity>(row: &mut E::Row, text: &str, mut at: usize) -> Option<usize> {
    let mut fits = true;
    E::__for_each_span(row, &mut |s| {
        // An empty span is decoded as the default one (offset 0), which it stays.
        if !s.is_empty() {
            *s = Span::new(at as u32, s.len() as u32);
            at = at.saturating_add(s.len());
            fits &= text.is_char_boundary(at);
        }
    });
    fits.then_some(at)
}

/// Fills unique index `u`, refusing a value two records hold (both are named, the lower slot
/// first). Every record is hashed first (one pass in slot order), then inserted grouped by
/// where its hash lands in the table, so the probes sweep the table's memory once instead of
/// missing the cache on every record when the table is larger than the cache. The grouping is
/// stable, so of two records holding one value the lower slot goes in first.
fn fill_unique<E: Entity>(
    rows: &Rows<E::Row>,
    text: &TextHeap,
    u: usize,
    index: &mut UniqueIndex,
) -> Result<(), SnapshotError> {
    let def = &E::DEF.uniques[u];
    let hash_of = |k: RawKey| rows.get(k).and_then(|r| row_hash::<E>(r, text, def));
    let mut hashed: Vec<(u64, RawKey)> = Vec::with_capacity(rows.len());
    hashed.extend((rows.iter()).filter_map(|(key, row)| row_hash::<E>(row, text, def).map(|h| (h, key))));
    index.reserve(hashed.len(), |k| hash_of(k).unwrap_or(0));
    for (hash, key) in group_by_bucket(hashed, index.bucket_mask_hint()) {
        // Reads the two records only on a tag match (rare).
        let eq = |k: RawKey| {
            rows.get(key)
                .zip(rows.get(k))
                .is_some_and(|(a, b)| same_values::<E>(a, b, text, def))
        };
        if let Err(existing) = index.insert_new(hash, key, eq, |k| hash_of(k).unwrap_or(0)) {
            let mut keys = [existing, key];
            keys.sort_by_key(|k| k.index());
            return Err(SnapshotError::DuplicateUnique {
                table: E::DEF.table,
                constraint: def.name,
                keys,
            });
        }
    }
    Ok(())
}

/// Ordered index `x` built from every record with no NULL indexed value, sorted by (values,
/// key): the same under either engine, as no value is NULL. O(n log n).
fn sort_index<E: Entity>(rows: &Rows<E::Row>, text: &TextHeap, x: usize) -> OrderedIndex {
    let fields = E::DEF.indexes[x].fields;
    let mut keyed: Vec<(RawKey, &E::Row)> = (rows.iter())
        .filter(|(_, row)| !has_null::<E>(row, text, fields))
        .collect();
    keyed.sort_unstable_by(|a, b| order_cmp::<E>(Nulls::First, text, fields, *a, *b));
    OrderedIndex::from_sorted(keyed.into_iter().map(|(k, _)| k).collect())
}

/// `items` stably reordered by the top (at most) 8 bits of `hash & mask`: a counting sort,
/// O(n). 256 groups keep each group's part of a large table within the cache while the
/// scatter writes only 256 streams; small inputs stay as they are (their table fits in the
/// cache anyway).
fn group_by_bucket(items: Vec<(u64, RawKey)>, mask: u64) -> Vec<(u64, RawKey)> {
    if items.len() < 1 << 14 {
        return items;
    }
    let shift = (64 - mask.leading_zeros()).saturating_sub(8);
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

fn bad<E: Entity>(detail: String) -> SnapshotError {
    SnapshotError::Decode {
        part: E::DEF.table,
        detail,
    }
}
