//! A table's part of a snapshot: ground truth out (slots with their versions, the text heap,
//! link counters), and on the way in the same, validated, with every derived structure rebuilt.
//!
//! Each part starts with its form: 0 for the compact form (`compact.rs`), the only one this
//! build writes or reads (form 1, slotmap's serde form of formats 1 and 2, is gone with
//! slotmap).

use super::compact::PartLoaded;
use super::tally::{ParentSlots, Tallies};
use super::{has_null, index_row, order_cmp, place_child, row_hash, same_values, Table};
use crate::entity::Entity;
use crate::index::children::ChildIndex;
use crate::index::ordered::OrderedIndex;
use crate::index::secondary::SecondaryIndex;
use crate::index::unique::UniqueIndex;
use crate::key::RawKey;
use crate::snapshot::text_copy::TextCopies;
use crate::snapshot::SnapshotError;
use crate::store::arena::Arena;
use crate::text::TextHeap;

/// The part's first byte: which form follows.
const COMPACT: u8 = 0;

impl<E: Entity> Table<E> {
    /// Appends this table's ground truth to `out`, in the compact form.
    pub(crate) fn save(&self, out: &mut Vec<u8>) -> Result<(), SnapshotError> {
        out.push(COMPACT);
        self.save_compact(&self.rows.versions().collect::<Vec<_>>(), out);
        Ok(())
    }

    /// Loads this (empty) table, number `table` of its store, from the part at the start of
    /// `bytes`; a large text block in the compact form
    /// is posted to `copies` and installed later with [`set_text`](Self::set_text). The
    /// compact form also counts children per parent for each foreign key whose `parents`
    /// bound is known.
    pub(crate) fn load<'a>(
        &mut self,
        bytes: &'a [u8],
        copies: &TextCopies<'a>,
        (table, parents): (usize, &[ParentSlots]),
    ) -> Result<PartLoaded, SnapshotError> {
        let rest = bytes.get(1..).unwrap_or_default();
        let mut loaded = match bytes.first() {
            Some(&COMPACT) => self.load_compact(rest, copies, table, parents)?,
            _ => {
                return Err(SnapshotError::Decode {
                    part: E::DEF.table,
                    detail: "unknown table form".into(),
                })
            }
        };
        loaded.used += 1;
        Ok(loaded)
    }

    /// Installs the text heap of a part whose block was copied after its records decoded.
    pub(crate) fn set_text(&mut self, text: TextHeap) {
        self.text = text;
    }

    /// The pieces of rebuilding this table's derived state from its rows: one per unique
    /// index, secondary index and foreign key, each owning its structure and sharing the rows
    /// and text, so they can run on either thread; and what the jobs of other tables may read
    /// of this one (its live keys). The job of foreign key `fk` validates it against table
    /// `fk_targets[fk]` before building anything sized by it, from `counted[fk]` if the
    /// decoder counted its children.
    pub(crate) fn rebuild_jobs<'a>(
        &'a mut self,
        fk_targets: &'a [usize],
        mut counted: Vec<Option<Tallies>>,
    ) -> (Box<dyn LiveKeys + 'a>, Vec<RebuildJob<'a>>) {
        let Table {
            rows,
            text,
            uniques,
            indexes,
            ordered,
            children,
            fk_unique,
            ..
        } = self;
        let (rows, text, n) = (&*rows, &*text, rows.len());
        let mut jobs: Vec<RebuildJob<'a>> = Vec::new();
        for (u, index) in uniques.iter_mut().enumerate() {
            jobs.push(RebuildJob::new(3 * n, move |_| {
                fill_unique::<E>(rows, text, u, index)
            }));
        }
        for (x, index) in indexes.iter_mut().enumerate() {
            jobs.push(RebuildJob::new(3 * n, move |_| {
                fill_index::<E>(rows, text, x, index);
                Ok(())
            }));
        }
        for (x, sorted) in ordered.iter_mut().enumerate() {
            let Some(sorted) = sorted.as_mut() else { continue };
            jobs.push(RebuildJob::new(20 * n, move |_| {
                *sorted = sort_index::<E>(rows, text, x);
                Ok(())
            }));
        }
        for (fk, index) in children.iter_mut().enumerate() {
            let one_to_one = fk_unique[fk].is_some();
            let counted = counted.get_mut(fk).and_then(Option::take);
            jobs.push(RebuildJob::new(n, move |tables: &[&dyn LiveKeys]| {
                let target = *tables.get(fk_targets[fk]).ok_or(SnapshotError::Decode {
                    part: E::DEF.table,
                    detail: "foreign key to a table the store lacks".into(),
                })?;
                match one_to_one {
                    true => validate_fk::<E>(rows, fk, target), // its unique index serves
                    false => fill_children::<E>(rows, text, (fk, counted), index, target),
                }
            }));
        }
        (Box::new(Live::<E>(rows)), jobs)
    }
}

type Rows<E> = Arena<<E as Entity>::Row>;

/// What a rebuild job may read of another table.
pub(crate) trait LiveKeys: Sync {
    fn is_live(&self, key: RawKey) -> bool;
    /// How many slots the table has: every live key's index is below it.
    fn slots(&self) -> usize;
    fn table(&self) -> &'static str;
}

struct Live<'a, E: Entity>(&'a Rows<E>);

impl<E: Entity> LiveKeys for Live<'_, E> {
    fn is_live(&self, key: RawKey) -> bool {
        self.0.contains_key(key)
    }
    fn slots(&self) -> usize {
        super::slot_bound(self.0)
    }
    fn table(&self) -> &'static str {
        E::DEF.table
    }
}

/// A rebuild job: given every table's live keys, fills one structure.
type RunJob<'a> = Box<dyn FnOnce(&[&dyn LiveKeys]) -> Result<(), SnapshotError> + Send + 'a>;

/// One piece of a table's rebuild (see [`Table::rebuild_jobs`]), with about how much work it
/// is, for sharing the pieces between two threads.
pub(crate) struct RebuildJob<'a> {
    pub(crate) weight: usize,
    run: Option<RunJob<'a>>,
}

impl<'a> RebuildJob<'a> {
    fn new(
        weight: usize,
        run: impl FnOnce(&[&dyn LiveKeys]) -> Result<(), SnapshotError> + Send + 'a,
    ) -> Self {
        RebuildJob {
            weight,
            run: Some(Box::new(run)),
        }
    }

    /// Runs the job (once; later calls do nothing), reading other tables through `tables`.
    pub(crate) fn run(&mut self, tables: &[&dyn LiveKeys]) -> Result<(), SnapshotError> {
        self.run.take().map_or(Ok(()), |run| run(tables))
    }
}

/// Every value of foreign key `fk` names a live record of `target`; the first that does not
/// (in slot order) is reported.
fn validate_fk<E: Entity>(rows: &Rows<E>, fk: usize, target: &dyn LiveKeys) -> Result<(), SnapshotError> {
    for (slot, row) in rows.iter() {
        if let Some(parent) = E::__fk(row, fk) {
            check_target::<E>(target, slot, fk, parent)?;
        }
    }
    Ok(())
}

/// `parent`, foreign key `fk` of the record in `slot`, is a live record of `target`.
fn check_target<E: Entity>(
    target: &dyn LiveKeys,
    slot: RawKey,
    fk: usize,
    parent: RawKey,
) -> Result<(), SnapshotError> {
    match target.is_live(parent) {
        true => Ok(()),
        false => Err(SnapshotError::DanglingReference {
            table: E::DEF.table,
            column: E::DEF.fk_column(fk),
            key: slot,
            target: target.table(),
            target_key: parent,
        }),
    }
}

/// Fills unique index `u`, refusing a value two records hold (both are named, the lower slot
/// first). Every record is hashed first (one pass in slot order), then inserted grouped by
/// where its hash lands in the table, so the probes sweep the table's memory once instead of
/// missing the cache on every record when the table is larger than the cache.
/// The grouping is stable, so of two records holding one value the lower slot goes in first.
fn fill_unique<E: Entity>(
    rows: &Rows<E>,
    text: &TextHeap,
    u: usize,
    index: &mut UniqueIndex,
) -> Result<(), SnapshotError> {
    let def = &E::DEF.uniques[u];
    let hash_of = |k: RawKey| rows.get(k).and_then(|r| row_hash::<E>(r, text, def));
    let mut hashed: Vec<(u64, RawKey)> = Vec::with_capacity(rows.len());
    hashed.extend(
        rows.iter()
            .filter_map(|(slot, row)| row_hash::<E>(row, text, def).map(|h| (h, slot))),
    );
    index.reserve(hashed.len(), |k| hash_of(k).unwrap_or(0));
    for (hash, key) in group_by_bucket(hashed, index.bucket_mask_hint()) {
        // Reads the two records only on a tag match (rare): fetching this record up front
        // would be a cache miss per insert, the records being in bucket order, not slot order.
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

/// Fills secondary index `x` with every record, in slot order.
fn fill_index<E: Entity>(rows: &Rows<E>, text: &TextHeap, x: usize, index: &mut SecondaryIndex) {
    for (slot, row) in rows.iter() {
        index_row::<E>(rows, text, x, index, slot, row);
    }
}

/// Ordered index `x` built from every record: the records with no NULL indexed value, sorted
/// by (values, key). O(n log n).
fn sort_index<E: Entity>(rows: &Rows<E>, text: &TextHeap, x: usize) -> OrderedIndex {
    let fields = E::DEF.indexes[x].fields;
    let mut keyed: Vec<(RawKey, &E::Row)> = rows
        .iter()
        .filter(|(_, row)| !has_null::<E>(row, text, fields))
        .collect();
    keyed.sort_unstable_by(|a, b| order_cmp::<E>(text, fields, *a, *b));
    OrderedIndex::from_sorted(keyed.into_iter().map(|(k, _)| k).collect())
}

/// Validates foreign key `fk` (not one-to-one) against `target` and fills its children
/// index, each list sized exactly by the tallies the decoder `counted`, or by a counting pass
/// here (see `tally.rs`: nothing is sized by a parent before its slot index is bounded).
///
/// Records come in slot order, which is usually link order: each parent's tally keeps the
/// highest link number seen, so a child in order is appended without reading its siblings,
/// and only one out of order is placed by comparing. Refuses two children of one parent
/// sharing a link number.
fn fill_children<E: Entity>(
    rows: &Rows<E>,
    text: &TextHeap,
    (fk, counted): (usize, Option<Tallies>),
    index: &mut ChildIndex,
    target: &dyn LiveKeys,
) -> Result<(), SnapshotError> {
    let counted = counted.unwrap_or_else(|| count_children::<E>(rows, fk, target.slots()));
    let one_by_one = || validate_fk::<E>(rows, fk, target);
    let mut tally = counted.check(|p| target.is_live(p), one_by_one, E::DEF.table)?;
    *index = ChildIndex::with_counts(tally.iter().map(|t| (t.parent, t.count)));
    let by_field = E::DEF.fks[fk].order_by.is_some();
    for (slot, row) in rows.iter() {
        let Some(parent) = E::__fk(row, fk) else {
            continue;
        };
        let key = slot;
        let seq = E::__seqs(row)[fk];
        let newest = &mut tally[parent.index() as usize].newest;
        if !by_field && (*newest == u32::MAX || *newest < seq) {
            *newest = seq;
            index.push_in_room(parent, key);
            continue;
        }
        // Sorted by a field (link numbers order nothing), or out of link order.
        let pos = place_child::<E>(rows, text, fk, index, parent, row, key);
        if by_field {
            continue;
        }
        // Siblings before `pos` have smaller numbers; the next one must be larger.
        let seq_of = |c: RawKey| rows.get(c).map_or(0, |r| E::__seqs(r)[fk]);
        let next = index.get(parent).get(pos + 1);
        if *newest == seq || next.is_some_and(|&c| seq_of(c) == seq) {
            let detail = format!("two children of parent {parent} share link number {seq}");
            return Err(SnapshotError::Decode {
                part: E::DEF.table,
                detail,
            });
        }
    }
    Ok(())
}

/// Counts the children of each parent of foreign key `fk`, whose slot indexes are below
/// `bound`: the pass a part decoded before its parent table did not make.
fn count_children<E: Entity>(rows: &Rows<E>, fk: usize, bound: usize) -> Tallies {
    let mut tallies = Tallies::new(bound);
    for (_, row) in rows.iter() {
        if let Some(parent) = E::__fk(row, fk) {
            tallies.add(parent);
        }
    }
    tallies
}

/// `items` stably reordered by the top (at most) 8 bits of `hash & mask`: a counting sort,
/// O(n). 256 groups keep each group's part of a large table within the cache while the
/// scatter writes only 256 streams (a page each, so the TLB keeps up); small inputs stay as
/// they are: their table fits in the cache anyway.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grouping_by_bucket_keeps_every_item_and_orders_the_groups() {
        let mask = (1u64 << 20) - 1;
        let mut x = 0x9E37_79B9_7F4A_7C15_u64;
        let items: Vec<(u64, RawKey)> = (0..40_000u64)
            .map(|i| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x, RawKey::from_u64(i << 32 | 1))
            })
            .collect();
        let grouped = group_by_bucket(items.clone(), mask);
        let group = |h: u64| (h & mask) >> 12;
        assert!(grouped.windows(2).all(|w| group(w[0].0) <= group(w[1].0)));
        // Stable: within a group, the input order.
        for g in 0..256 {
            let of = |v: &[(u64, RawKey)]| v.iter().filter(|i| group(i.0) == g).copied().collect::<Vec<_>>();
            assert_eq!(of(&grouped), of(&items));
        }
    }
}
