//! One entity type's storage: a slotmap arena of compact rows, the table's text heap, and the
//! derived indexes over them.
//!
//! The `p_*` methods are the primitive changes; each has an `undo_*` inverse. The store
//! journals every primitive it applies (see `journal.rs`) and nothing else mutates a table.

pub(crate) mod links;
pub(crate) mod parts;

use std::cmp::Ordering;
use std::ops::Bound;

use super::rows::{Detached, Rows};
use crate::engine::Engine;
use crate::entity::Entity;
use crate::error::Error;
use crate::index::children::ChildIndex;
use crate::index::ordered::{OrderedIndex, Run};
use crate::index::secondary::SecondaryIndex;
use crate::index::unique::UniqueIndex;
use crate::index::{hash_pair, hash_value, hash_values, same_bytes, same_value};
use crate::key::RawKey;
use crate::text::{Span, TextHeap};
use crate::value::Value;

/// Whether a key names a live record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KeyState {
    Live,
    /// The key was handed out, and its record deleted (or rolled back).
    Stale,
    /// No record ever had this slot.
    Missing,
}

/// Old rows whose room the undo stack keeps across statements (see `Table::finalize`).
const UNDO_KEPT: usize = 64;

/// An old row kept for undo until the journal is finalized.
#[derive(Clone, Debug)]
enum UndoRow<R> {
    /// A deleted record, detached from its slot.
    Deleted(Detached<R>),
    /// A live record's row before an update.
    Updated { key: RawKey, row: R },
}

impl<R> UndoRow<R> {
    fn row(&self) -> &R {
        match self {
            UndoRow::Deleted(d) => &d.row,
            UndoRow::Updated { row, .. } => row,
        }
    }
}

#[derive(Debug)]
pub(crate) struct Table<E: Entity> {
    pub(crate) rows: Rows<E::Row>,
    pub(crate) text: TextHeap,
    uniques: Vec<UniqueIndex>,
    indexes: Vec<SecondaryIndex>,
    /// Per secondary index: its sorted form if it is `ordered`.
    ordered: Vec<Option<OrderedIndex>>,
    /// Per foreign key; unused (empty) for one-to-one keys whose unique index serves instead
    /// (a deferrable one-to-one key keeps lists: inside a transaction it may hold two children).
    children: Vec<ChildIndex>,
    /// Per foreign key: the unique constraint that makes it one-to-one, if any and not
    /// deferrable (whose children are found through it instead of children lists).
    fk_unique: Vec<Option<usize>>,
    next_seq: Vec<u32>,
    /// With an `#[relata(id)]` field: above every id the table holds, and under
    /// `Engine::Postgres` the next id (ground truth: saved in snapshots, journalled).
    pub(crate) next_id: u64,
    undo: Vec<UndoRow<E::Row>>,
}

/// The columns of a unique constraint or an index, and how they compare.
pub(crate) trait Cols {
    fn fields(&self) -> &'static [u16];
    /// Text compares ignoring ASCII case.
    fn nocase(&self) -> bool;
}
impl Cols for crate::entity::UniqueDef {
    fn fields(&self) -> &'static [u16] {
        self.fields
    }
    fn nocase(&self) -> bool {
        self.nocase
    }
}
impl Cols for crate::entity::IndexDef {
    fn fields(&self) -> &'static [u16] {
        self.fields
    }
    fn nocase(&self) -> bool {
        false
    }
}

/// The hash of a record's values in `cols`; `None` when one is NULL. Inlined into its
/// callers (`unlink`, `link_uniques`, the probes): out of line, its prologue and epilogue were
/// about 17 instructions a call, 8 calls per deleted user of the bench's schema.
#[inline(always)]
pub(crate) fn row_hash<E: Entity>(row: &E::Row, text: &TextHeap, cols: &impl Cols) -> Option<u64> {
    match cols.fields() {
        [field] => return hash_value(E::__value(row, text, *field as usize), cols.nocase()),
        &[a, b] => {
            let (a, b) = (
                E::__value(row, text, a as usize),
                E::__value(row, text, b as usize),
            );
            return hash_pair(a, b, cols.nocase());
        }
        _ => {}
    }
    let values = cols.fields().iter().map(|&f| E::__value(row, text, f as usize));
    hash_values(values, cols.nocase())
}

/// The first unique constraint, in `order`, for which `holder` finds a record (see
/// [`Table::first_conflict_by`]).
#[inline]
fn first_conflict<E: Entity, X>(
    engine: Engine,
    order: impl Iterator<Item = usize>,
    mut holder: impl FnMut(usize) -> Result<Option<RawKey>, X>,
) -> Result<Option<(usize, RawKey)>, X> {
    for u in order {
        // PostgreSQL defers a `deferrable` UNIQUE to the commit, but not a `nocase` one: the
        // exported DDL makes that a unique index on `lower(col)`, which cannot be DEFERRABLE,
        // so PostgreSQL checks it per statement (docs/ENGINES.md).
        let def = &E::DEF.uniques[u];
        if def.deferrable && engine == Engine::Postgres && !def.nocase {
            continue;
        }
        if let Some(existing) = holder(u)? {
            return Ok(Some((u, existing)));
        }
    }
    Ok(None)
}

/// A unique constraint has a column whose value only the stored row has (see
/// [`Table::given_holder`]).
#[derive(Debug)]
pub(crate) struct NotGiven;

/// Which unique constraint of an entity a probe is for: its position as a value (`usize`),
/// or as a constant ([`At`]), with which the probe's code is compiled for that constraint
/// alone (its definition folded in).
pub(crate) trait Constraint: Copy {
    fn at(self) -> usize;
}

impl Constraint for usize {
    #[inline(always)]
    fn at(self) -> usize {
        self
    }
}

/// Unique constraint `U`, a constant (see [`Constraint`]).
#[derive(Clone, Copy)]
pub(crate) struct At<const U: usize>;

impl<const U: usize> Constraint for At<U> {
    #[inline(always)]
    fn at(self) -> usize {
        U
    }
}

#[inline]
pub(crate) fn same_values<E: Entity>(a: &E::Row, b: &E::Row, text: &TextHeap, cols: &impl Cols) -> bool {
    cols.fields().iter().all(|&f| {
        let (x, y) = (E::__value(a, text, f as usize), E::__value(b, text, f as usize));
        same_value(x, y, cols.nocase())
    })
}

#[inline]
fn matches_values<E: Entity>(row: &E::Row, text: &TextHeap, cols: &impl Cols, values: &[Value<'_>]) -> bool {
    let fields = cols.fields();
    fields.len() == values.len()
        && (fields.iter().zip(values))
            .all(|(&f, v)| same_value(E::__value(row, text, f as usize), *v, cols.nocase()))
}

impl<E: Entity> Clone for Table<E> {
    fn clone(&self) -> Self {
        Table {
            rows: self.rows.clone(),
            text: self.text.clone(),
            uniques: self.uniques.clone(),
            indexes: self.indexes.clone(),
            ordered: self.ordered.clone(),
            children: self.children.clone(),
            fk_unique: self.fk_unique.clone(),
            next_seq: self.next_seq.clone(),
            next_id: self.next_id,
            undo: self.undo.clone(),
        }
    }
}

impl<E: Entity> Default for Table<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E: Entity> Table<E> {
    pub(crate) fn new() -> Self {
        let def = E::DEF;
        // A deferrable unique may hold two children of one parent until its commit: such a
        // key keeps children lists, so a walk (a cascade, a restriction, `children`) sees both.
        let fk_unique = def
            .fks
            .iter()
            .map(|fk| (def.uniques.iter()).position(|u| u.fields == [fk.field] && !u.deferrable))
            .collect();
        Table {
            rows: Rows::default(),
            text: TextHeap::default(),
            uniques: vec![UniqueIndex::default(); def.uniques.len()],
            indexes: vec![SecondaryIndex::default(); def.indexes.len()],
            ordered: def
                .indexes
                .iter()
                .map(|d| d.ordered.then(OrderedIndex::default))
                .collect(),
            children: vec![ChildIndex::default(); def.fks.len()],
            fk_unique,
            next_seq: vec![0; def.fks.len()],
            next_id: 1,
            undo: Vec::new(),
        }
    }

    pub(crate) fn row(&self, key: RawKey) -> Option<&E::Row> {
        self.rows.get(key)
    }

    /// The error for `key` naming no live record: never handed out, or deleted.
    #[cold]
    pub(crate) fn missing_or_stale(&self, key: RawKey) -> Error {
        let table = E::DEF.table;
        match self.state(key) {
            KeyState::Missing => Error::NotFound { table, key },
            _ => Error::Stale { table, key },
        }
    }

    pub(crate) fn state(&self, key: RawKey) -> KeyState {
        if self.rows.contains_key(key) {
            KeyState::Live
        } else if self.rows.slot_was_used(key) {
            KeyState::Stale
        } else {
            KeyState::Missing
        }
    }

    /// The first record (in slot order) with a text field outside the heap or off its char
    /// boundaries, and that field. O(records).
    pub(crate) fn first_bad_span(&self) -> Option<(RawKey, Span)> {
        self.rows.iter().find_map(|(slot, row)| {
            let mut bad = None;
            E::__spans(row, &mut |s| {
                if bad.is_none() && !self.text.contains(s) {
                    bad = Some(s);
                }
            });
            bad.map(|s| (slot, s))
        })
    }

    pub(crate) fn value(&self, key: RawKey, field: usize) -> Value<'_> {
        self.row(key)
            .map_or(Value::Null, |r| E::__value(r, &self.text, field))
    }

    /// The unique constraint `row` would violate, with the record already holding the value.
    /// With several, the one `engine` reports: SQLite the last declared; PostgreSQL the first
    /// declared plain one, then the `nocase` ones (indexes on `lower(col)` its DDL creates
    /// after the table, and PostgreSQL checks unique indexes in creation order); found by the
    /// differential tests. Deferrable constraints wait for the commit point under PostgreSQL;
    /// SQLite checks UNIQUE per statement whatever the declaration. `except` is the record
    /// being rewritten.
    pub(crate) fn unique_conflict(
        &self,
        row: &E::Row,
        except: Option<RawKey>,
        engine: Engine,
    ) -> Option<(usize, RawKey)> {
        let holder = |u| Ok::<_, std::convert::Infallible>(self.unique_holder(u, row, except));
        match self.first_conflict_by(engine, holder) {
            Ok(found) => found,
            Err(never) => match never {},
        }
    }

    /// The first unique constraint, in the order `engine` reports them (see
    /// [`unique_conflict`](Self::unique_conflict)), for which `holder` finds a record;
    /// deferrable ones are skipped under PostgreSQL. `holder` may stop the walk with `Err`.
    #[inline]
    pub(crate) fn first_conflict_by<X>(
        &self,
        engine: Engine,
        holder: impl FnMut(usize) -> Result<Option<RawKey>, X>,
    ) -> Result<Option<(usize, RawKey)>, X> {
        let uniques = E::DEF.uniques;
        match engine {
            Engine::Sqlite => first_conflict::<E, X>(engine, (0..uniques.len()).rev(), holder),
            Engine::Postgres => {
                let plain = (0..uniques.len()).filter(|&u| !uniques[u].nocase);
                let nocase = (0..uniques.len()).filter(|&u| uniques[u].nocase);
                first_conflict::<E, X>(engine, plain.chain(nocase), holder)
            }
        }
    }

    /// [`first_conflict_by`](Self::first_conflict_by) with [`given_holder`](Self::given_holder)
    /// as the holder: the unique constraint `value` would violate. An entity without unique
    /// constraints calls nothing; the others make one call, in which, under SQLite and for an
    /// entity with one or two constraints (most), each probe is written out with its
    /// constraint a constant ([`At`]): the constraint's columns and case rule fold into the
    /// probe and into its comparison of a candidate (which hashbrown calls out of line: with
    /// the constraint a variable, that call read the definition and walked its columns, about
    /// 110 instructions per candidate). Inlining the probes into every insert instead made
    /// the bulk insert about 2% slower (docs/PERFORMANCE.md, "Refused inserts and cascade
    /// deletes").
    #[inline(always)]
    pub(crate) fn first_given_conflict(
        &self,
        engine: Engine,
        value: &E,
    ) -> Result<Option<(usize, RawKey)>, NotGiven> {
        match E::DEF.uniques.is_empty() {
            true => Ok(None),
            false => self.first_given_conflict_probed(engine, value),
        }
    }

    /// [`first_given_conflict`](Self::first_given_conflict)'s probes, out of line.
    #[inline(never)]
    fn first_given_conflict_probed(
        &self,
        engine: Engine,
        value: &E,
    ) -> Result<Option<(usize, RawKey)>, NotGiven> {
        let n = E::DEF.uniques.len();
        if engine == Engine::Postgres || n > 2 {
            return self.first_conflict_by(engine, |u| self.given_holder(u, value));
        }
        // SQLite's order, the last declared first.
        if n == 2 {
            if let Some(existing) = self.given_holder(At::<1>, value)? {
                return Ok(Some((1, existing)));
            }
        }
        Ok(self.given_holder(At::<0>, value)?.map(|existing| (0, existing)))
    }

    /// A record holding, under unique constraint `u`, the values `value` gives for its
    /// columns, read from the value before it is stored (no text copied); `Err(NotGiven)`
    /// when a column's value is one only the stored row has (a field the store fills, a type
    /// converted on the way in). Hashes and compares as [`unique_holder`](Self::unique_holder).
    #[inline(always)]
    pub(crate) fn given_holder(&self, u: impl Constraint, value: &E) -> Result<Option<RawKey>, NotGiven> {
        let Some(def) = E::DEF.uniques.get(u.at()) else {
            return Ok(None);
        };
        let filled =
            |f: u16| E::DEF.id == Some(f) || E::DEF.fields.get(f as usize).is_none_or(|d| d.stamp.is_some());
        if def
            .fields
            .iter()
            .any(|&f| filled(f) || value.__given(f as usize).is_none())
        {
            return Err(NotGiven);
        }
        let given = |f: u16| value.__given(f as usize).unwrap_or(Value::Null);
        let hash = match def.fields {
            [f] => hash_value(given(*f), def.nocase),
            fields => hash_values(fields.iter().map(|&f| given(f)), def.nocase),
        };
        let (Some(hash), Some(index)) = (hash, self.uniques.get(u.at())) else {
            return Ok(None);
        };
        // The definition is taken again from `u` inside the comparison, not captured: for an
        // `At` it is then a constant there too.
        Ok(index.find(hash, |k| {
            let (Some(def), Some(r)) = (E::DEF.uniques.get(u.at()), self.row(k)) else {
                return false;
            };
            (def.fields.iter())
                .all(|&f| same_value(E::__value(r, &self.text, f as usize), given(f), def.nocase))
        }))
    }

    /// A record other than `except` holding `row`'s values under unique constraint `u`;
    /// `None` if a value is NULL. O(1) average: one hash of the row's values, compared with
    /// the records in place (no value is copied).
    #[inline]
    pub(crate) fn unique_holder(&self, u: usize, row: &E::Row, except: Option<RawKey>) -> Option<RawKey> {
        let def = E::DEF.uniques.get(u)?;
        let hash = row_hash::<E>(row, &self.text, def)?;
        self.uniques.get(u)?.find(hash, |k| {
            Some(k) != except
                && self
                    .row(k)
                    .is_some_and(|other| same_values::<E>(row, other, &self.text, def))
        })
    }

    /// For a live record: the first deferrable unique constraint another live record shares
    /// with it (deferrable constraints may hold duplicates until a commit point).
    pub(crate) fn deferred_unique_conflict(&self, key: RawKey) -> Option<(usize, RawKey)> {
        let row = self.row(key)?;
        for (u, def) in E::DEF.uniques.iter().enumerate().filter(|(_, d)| d.deferrable) {
            let Some(hash) = row_hash::<E>(row, &self.text, def) else {
                continue;
            };
            let other = self.uniques[u].find_all(hash).find(|&k| {
                k != key
                    && self
                        .row(k)
                        .is_some_and(|o| same_values::<E>(row, o, &self.text, def))
            });
            if let Some(other) = other {
                return Some((u, other));
            }
        }
        None
    }

    pub(crate) fn find_unique(&self, u: usize, values: &[Value<'_>]) -> Option<RawKey> {
        if let [value] = values {
            return self.find_unique_one(u, *value);
        }
        let def = E::DEF.uniques.get(u)?;
        let hash = hash_values(values.iter().copied(), def.nocase)?;
        self.uniques[u].find(hash, |k| {
            self.row(k)
                .is_some_and(|r| matches_values::<E>(r, &self.text, def, values))
        })
    }

    /// [`find_unique`](Self::find_unique) for one value: `None` unless constraint `u` has
    /// one column. One hash of the value and one comparison per candidate, no slice walked.
    #[inline(always)]
    pub(crate) fn find_unique_one(&self, u: usize, value: Value<'_>) -> Option<RawKey> {
        self.find_unique_ref(u, value).copied()
    }

    /// [`find_unique_one`](Self::find_unique_one), borrowing the key from the index (inlined
    /// to the call site as it is).
    #[inline(always)]
    fn find_unique_ref(&self, u: usize, value: Value<'_>) -> Option<&RawKey> {
        let def = E::DEF.uniques.get(u)?;
        let &[field] = def.fields else {
            return None;
        };
        let field = field as usize;
        let hash = hash_value(value, def.nocase)?;
        let index = self.uniques.get(u)?;
        match value {
            // Text under a case-sensitive constraint (a username, an email): the value's
            // kind and the case rule are decided here, once, so a candidate is one byte
            // compare, inlined into the probe.
            Value::Text(s) if !def.nocase => index.find_inlined(hash, |k| {
                self.row(k).is_some_and(|r| {
                    matches!(E::__value(r, &self.text, field), Value::Text(t) if same_bytes(t.as_bytes(), s.as_bytes()))
                })
            }),
            _ => index.find_ref(hash, |k| {
                self.row(k)
                    .is_some_and(|r| same_value(E::__value(r, &self.text, field), value, def.nocase))
            }),
        }
    }

    pub(crate) fn find_index(&self, ix: usize, values: &[Value<'_>]) -> &[RawKey] {
        let Some(def) = E::DEF.indexes.get(ix) else {
            return &[];
        };
        let Some(hash) = hash_values(values.iter().copied(), false) else {
            return &[];
        };
        self.indexes[ix].find(hash, |k| {
            self.row(k)
                .is_some_and(|r| matches_values::<E>(r, &self.text, def, values))
        })
    }

    /// The records of ordered index `x` whose leading values lie between `lower` and `upper`
    /// (each a prefix of the index's values, compared by [`Value::sql_cmp`]), in index order;
    /// `None` if index `x` is not ordered. O(log n) to start, O(1) per record.
    pub(crate) fn scan(
        &self,
        x: usize,
        lower: Bound<&[Value<'_>]>,
        upper: Bound<&[Value<'_>]>,
    ) -> Option<Run<'_>> {
        let sorted = self.ordered.get(x)?.as_ref()?;
        let fields = E::DEF.indexes[x].fields;
        let cmp = |k: RawKey, bound: &[Value<'_>]| {
            self.row(k).map_or(Ordering::Less, |r| {
                prefix_cmp::<E>(Nulls::First, r, &self.text, fields, bound)
            })
        };
        let lower = |k: RawKey| match lower {
            Bound::Included(b) => cmp(k, b).is_lt(),
            Bound::Excluded(b) => cmp(k, b).is_le(),
            Bound::Unbounded => false,
        };
        let upper = |k: RawKey| match upper {
            Bound::Included(b) => cmp(k, b).is_le(),
            Bound::Excluded(b) => cmp(k, b).is_lt(),
            Bound::Unbounded => true,
        };
        Some(sorted.range(lower, upper))
    }

    /// How two live records compare in the order of index `x` (values, NULL placed by
    /// `nulls`, then key).
    pub(crate) fn order_of(&self, nulls: Nulls, x: usize, a: RawKey, b: RawKey) -> Ordering {
        let fields = E::DEF.indexes.get(x).map_or(&[][..], |d| d.fields);
        match (self.row(a), self.row(b)) {
            (Some(ra), Some(rb)) => order_cmp::<E>(nulls, &self.text, fields, (a, ra), (b, rb)),
            _ => a.cmp(&b),
        }
    }

    /// Children of a live `parent` through foreign key `fk`, in link order. The list's path
    /// is a few loads and bounds checks, inlined into a traversal that calls it once per
    /// parent; the one-to-one probe stays out of line so that it does not stop the inlining.
    /// Both kinds of key answer with a slice borrowed from the table, so a walk over
    /// children is a slice's walk: a one-to-many key's list, or a one-to-one key's child as
    /// held by its unique index (a slice of one). A one-to-one key's children index is never
    /// written, so it holds no list: a list found is a one-to-many key's answer (or a
    /// deferrable one-to-one key's, which keeps lists: see `fk_unique`), and which kind `fk`
    /// is is asked only when there is none (a parent without children, or a one-to-one key).
    #[inline]
    pub(crate) fn children(&self, fk: usize, parent: RawKey) -> &[RawKey] {
        if let Some(list) = self.children[fk].list(parent) {
            return list;
        }
        match self.fk_unique[fk] {
            Some(u) => self.only_child(u, parent),
            None => &[],
        }
    }

    /// The child of a one-to-one key: a probe of its unique index `u`.
    #[inline(never)]
    fn only_child(&self, u: usize, parent: RawKey) -> &[RawKey] {
        (self.find_unique_ref(u, Value::Key(parent))).map_or(&[], std::slice::from_ref)
    }

    /// Allocates the next link sequence number of a foreign key.
    pub(crate) fn next_seq(&mut self, fk: usize) -> Result<u32, Error> {
        let seq = self.next_seq[fk];
        // Not `ok_or(Error::..)`: that builds the error, and drops it, on every call.
        let Some(next) = seq.checked_add(1) else {
            return Err(Error::CapacityExceeded {
                what: "link sequence numbers of one foreign key (2^32 links)",
            });
        };
        self.next_seq[fk] = next;
        Ok(seq)
    }

    /// Takes back the last link number [`next_seq`](Self::next_seq) gave `fk` (a write
    /// failing after numbering it).
    pub(crate) fn unnumber(&mut self, fk: usize) {
        self.next_seq[fk] = self.next_seq[fk].saturating_sub(1);
    }

    /// The first record (in slot order) holding a link number at or above its key's counter:
    /// none may, since a new link is appended to its parent's list as the newest
    /// (`link_new_child`). O(records).
    pub(crate) fn first_link_beyond_counter(&self) -> Option<RawKey> {
        let beyond = |(_, row): &(RawKey, &E::Row)| !links_within_counters::<E>(row, &self.next_seq);
        self.rows.iter().find(beyond).map(|(key, _)| key)
    }

    /// A row's `#[relata(id)]` value (`None` without one).
    pub(crate) fn id_of(&self, row: &E::Row) -> Option<u64> {
        match E::__value(row, &self.text, E::DEF.id? as usize) {
            Value::Int(i) => u64::try_from(i).ok(),
            Value::UInt(u) => Some(u),
            _ => None,
        }
    }

    /// With an `#[relata(id)]` field, what is wrong with the first record whose id is not in
    /// 1..counter (none is NULL, 0 or at or above the counter); `None` when every id is, or
    /// without an id field. `check_integrity` and the snapshot load both ask. O(records).
    pub(crate) fn first_bad_id(&self) -> Option<String> {
        E::DEF.id?;
        let next = self.next_id;
        self.rows.iter().find_map(|(key, row)| match self.id_of(row) {
            Some(id) if id >= 1 && id < next => None,
            id => Some(format!(
                "record {key} has id {id:?}, not in 1..{next} (the id counter)"
            )),
        })
    }

    /// The id the next insert gets: under `Engine::Postgres` the counter (a sequence never
    /// goes back); under `Engine::Sqlite` one more than the largest id held (1 for an empty
    /// table), found by walking down from the counter over the ids no record holds, at most
    /// one step per record: a counter far above the ids (a sequence's, loaded from a snapshot)
    /// is answered by one pass over the records instead. O(1) average; O(records) at most.
    pub(crate) fn next_id(&self, engine: Engine) -> u64 {
        let mut next = self.next_id;
        if engine == Engine::Sqlite {
            let mut steps = self.rows.len();
            while next > 1 && self.find_unique(0, &[Value::UInt(next - 1)]).is_none() {
                if steps == 0 {
                    let largest = self.rows.iter().filter_map(|(_, row)| self.id_of(row)).max();
                    return largest.map_or(1, |id| id.saturating_add(1));
                }
                steps -= 1;
                next -= 1;
            }
        }
        next
    }

    /// The old row at `pos` of the undo stack (journal order).
    pub(crate) fn undo_row(&self, pos: usize) -> Option<&E::Row> {
        self.undo.get(pos).map(UndoRow::row)
    }

    // ----- primitive changes and their inverses -----

    /// Inserts a row whose links are all new (numbered by [`next_seq`](Self::next_seq)).
    pub(crate) fn p_insert(&mut self, row: E::Row) -> RawKey {
        let key = self.rows.insert(row);
        self.link_uniques(key);
        self.link_indexes(key);
        for fk in 0..E::DEF.fks.len() {
            self.link_new_child(fk, key);
        }
        key
    }

    pub(crate) fn undo_insert(&mut self, key: RawKey) {
        // The row leaves its slot first and is unlinked as given: one slot look-up, not two.
        if let Some(row) = self.rows.remove(key) {
            self.unlink(key, Some(&row));
            release_text::<E>(&row, &mut self.text);
        }
    }

    /// Deletes a record: its derived entries go, its row is kept (detached) for undo.
    pub(crate) fn p_delete(&mut self, key: RawKey) -> bool {
        // The row leaves its slot first and is unlinked as detached (as an undone insert is):
        // one slot look-up, not three.
        let Some(detached) = self.rows.detach(key) else {
            return false;
        };
        self.unlink(key, Some(&detached.row));
        self.undo.push(UndoRow::Deleted(detached));
        true
    }

    /// Deletes the children of `parent` through foreign key `fk` that `run` names (the
    /// second of each pair), newest first, when they are that whole list, in its order (a
    /// cascade's leaves: see `Store::apply_delete`), in one call. Each is detached and
    /// unlinked as [`p_delete`](Self::p_delete) does (leaving the list as its last entry, found
    /// at once); a record whose only derived entry is its place in that list (a post: no
    /// unique, no index, one foreign key) is not unlinked at all: the list is cut once at the
    /// end. Returns how many were deleted, the newest of `run`: all of them, or none when
    /// `run` is not the list (then nothing changed), or fewer if a record could not be
    /// detached (the list then keeps the others). The caller journals each one deleted; undo
    /// is [`undo_delete`](Self::undo_delete)'s, which puts each back in the list.
    /// O(run + their index entries).
    pub(crate) fn p_delete_list(&mut self, fk: usize, parent: RawKey, run: &[(usize, RawKey)]) -> usize {
        let Some(list) = self.children.get(fk).and_then(|c| c.list(parent)) else {
            return 0;
        };
        if !list.iter().eq(run.iter().map(|(_, k)| k)) {
            return 0;
        }
        // Decided per entity type at compile time (`E::DEF` is a constant).
        let list_only = E::DEF.uniques.is_empty() && E::DEF.indexes.is_empty() && E::DEF.fks.len() == 1;
        self.undo.reserve(run.len());
        let mut deleted = 0;
        for &(_, key) in run.iter().rev() {
            let Some(detached) = self.rows.detach(key) else {
                break;
            };
            if !list_only {
                self.unlink(key, Some(&detached.row));
            }
            self.undo.push(UndoRow::Deleted(detached));
            deleted += 1;
        }
        self.children[fk].truncate(parent, run.len() - deleted);
        deleted
    }

    pub(crate) fn undo_delete(&mut self, key: RawKey) {
        match self.undo.pop() {
            Some(UndoRow::Deleted(detached)) if detached.key() == key => {
                self.rows.reattach(detached);
                self.link_derived(key);
            }
            Some(other) => {
                debug_assert!(false, "undo stack out of order");
                self.undo.push(other);
            }
            None => {}
        }
    }

    /// Replaces a record's row; the old row is kept for undo.
    pub(crate) fn p_update(&mut self, key: RawKey, row: E::Row) -> bool {
        if !self.rows.contains_key(key) {
            return false;
        }
        self.unlink_derived(key);
        let Some(slot) = self.rows.get_mut(key) else {
            return false;
        };
        let old = std::mem::replace(slot, row);
        self.undo.push(UndoRow::Updated { key, row: old });
        self.link_derived(key);
        true
    }

    pub(crate) fn undo_update(&mut self, key: RawKey) {
        let old = match self.undo.pop() {
            Some(UndoRow::Updated { key: k, row }) if k == key => row,
            Some(other) => {
                debug_assert!(false, "undo stack out of order");
                return self.undo.push(other);
            }
            None => return,
        };
        self.unlink_derived(key);
        let Some(slot) = self.rows.get_mut(key) else {
            return;
        };
        let newer = std::mem::replace(slot, old);
        release_replaced::<E>(&newer, slot, &mut self.text);
        self.link_derived(key);
    }

    /// Whether foreign key `fk` can move without touching more than two children lists: no
    /// unique constraint or secondary index covers its column (so not one-to-one either) and
    /// no relationship is ordered by it. Then a move is [`p_move`](Self::p_move).
    #[inline]
    pub(crate) fn moves_alone(fk: usize) -> bool {
        let Some(field) = E::DEF.fks.get(fk).map(|d| d.field) else {
            return false;
        };
        !(E::DEF.uniques.iter().any(|u| u.fields.contains(&field))
            || E::DEF.indexes.iter().any(|x| x.fields.contains(&field))
            || E::DEF.fks.iter().any(|d| d.order_by == Some(field)))
    }

    /// Points foreign key `fk` of the live record `key` from its parent to `to`, with link
    /// number `seq`; nothing else of the row changes and nothing is kept but what
    /// [`undo_move`](Self::undo_move) is given back: the old parent, the old link number and
    /// the record's position in the old parent's list. The caller checked
    /// [`moves_alone`](Self::moves_alone), so the two lists are all the derived state that
    /// changes. `None`, changing nothing, for a record that is not live or has no parent.
    #[inline(always)]
    pub(crate) fn p_move(
        &mut self,
        key: RawKey,
        fk: usize,
        to: RawKey,
        seq: u32,
    ) -> Option<(RawKey, u32, u32)> {
        let row = self.rows.get_mut(key)?;
        let from = E::__fk(row, fk)?;
        let old_seq = *E::__seqs(row).get(fk)?;
        let taken = self.children.get_mut(fk)?.take(from, key);
        debug_assert!(taken.is_some(), "{}: child entry of {key} missing", E::DEF.table);
        set_link::<E>(row, fk, to, seq);
        match E::DEF.fks[fk].order_by {
            // The newest link sorts last, and no unique constraint covers the key (the
            // caller's `moves_alone`): appended to `to`'s list without reading the row again.
            None => {
                debug_assert!(
                    (self.children[fk].get(to).last())
                        .and_then(|&c| self.rows.get(c))
                        .is_none_or(|r| E::__seqs(r)[fk] < seq),
                    "{}: a moved link sorts last",
                    E::DEF.table
                );
                self.children[fk].append(to, key)
            }
            Some(_) => drop(self.link_child(fk, key)),
        }
        Some((from, old_seq, taken.unwrap_or(u32::MAX)))
    }

    /// The inverse of [`p_move`](Self::p_move): `key` leaves its parent's list and goes back
    /// to position `at` of `from`'s list, with its old link number `seq`. Undo is last in,
    /// first out, so `from`'s list is as the move left it and the position is exact.
    pub(crate) fn undo_move(&mut self, key: RawKey, fk: usize, from: RawKey, seq: u32, at: u32) {
        let Some(row) = self.rows.get_mut(key) else { return };
        let Some(now) = E::__fk(row, fk) else { return };
        set_link::<E>(row, fk, from, seq);
        let Some(list) = self.children.get_mut(fk) else {
            return;
        };
        let removed = list.remove(now, key);
        debug_assert!(removed, "{}: child entry of {key} missing", E::DEF.table);
        list.insert_at(from, key, at as usize);
    }

    /// The journal is being discarded: deleted rows are freed for good, replaced text becomes
    /// garbage, and the heap is compacted when that pays.
    /// The undo stack keeps its buffer, so the next statement's old rows need no allocation.
    pub(crate) fn finalize(&mut self) {
        let Table { rows, text, undo, .. } = self;
        for entry in undo.drain(..) {
            match entry {
                UndoRow::Deleted(detached) => release_text::<E>(&rows.free(detached), text),
                UndoRow::Updated { key, row } => match rows.get(key) {
                    Some(current) => release_replaced::<E>(&row, current, text),
                    None => release_text::<E>(&row, text),
                },
            }
        }
        // A large statement's buffer is not kept for ever.
        undo.shrink_to(UNDO_KEPT);
        if self.text.wants_compaction() {
            let rows = &mut self.rows;
            self.text.compact(|f| {
                for row in rows.values_mut() {
                    E::__for_each_span(row, f);
                }
            });
        }
    }

    // ----- derived-state maintenance -----

    fn link_derived(&mut self, key: RawKey) {
        self.link_uniques(key);
        self.link_indexes(key);
        self.link_children(key);
    }

    fn link_uniques(&mut self, key: RawKey) {
        let Table {
            rows, text, uniques, ..
        } = self;
        let Some(row) = rows.get(key) else { return };
        for (u, def) in E::DEF.uniques.iter().enumerate() {
            if let Some(hash) = row_hash::<E>(row, text, def) {
                let rehash = |k: RawKey| rows.get(k).and_then(|r| row_hash::<E>(r, text, def)).unwrap_or(0);
                uniques[u].insert(hash, key, rehash);
            }
        }
    }

    fn link_indexes(&mut self, key: RawKey) {
        let Table {
            rows,
            text,
            indexes,
            ordered,
            ..
        } = self;
        let Some(row) = rows.get(key) else { return };
        for (x, index) in indexes.iter_mut().enumerate() {
            index_row::<E>(rows, text, x, index, key, row);
        }
        for (x, sorted) in ordered.iter_mut().enumerate() {
            let Some(sorted) = sorted else { continue };
            let fields = E::DEF.indexes[x].fields;
            if has_null::<E>(row, text, fields) {
                continue;
            }
            sorted.insert(key, |k| sorts_before::<E>(rows, text, fields, k, (key, row)));
        }
    }

    /// Inserts `key` into each parent's children list at its place in link order.
    fn link_children(&mut self, key: RawKey) {
        for fk in 0..E::DEF.fks.len() {
            self.link_child(fk, key);
        }
    }

    /// Inserts `key` into its parent's list for foreign key `fk` (none for a NULL or
    /// one-to-one key), comparing with siblings by link order; returns its position.
    fn link_child(&mut self, fk: usize, key: RawKey) -> Option<usize> {
        let Table {
            rows,
            text,
            children,
            fk_unique,
            ..
        } = self;
        let row = rows.get(key)?;
        let parent = E::__fk(row, fk).filter(|_| fk_unique[fk].is_none())?;
        Some(place_child::<E>(
            rows,
            text,
            fk,
            &mut children[fk],
            parent,
            row,
            key,
        ))
    }

    /// [`link_child`](Self::link_child) for a link numbered by [`next_seq`](Self::next_seq)
    /// just now (an insert, a move): its number is above every sibling's, so without an
    /// `order_by` field it sorts last and is appended, no sibling read or compared. (An undo
    /// or a rewrite puts back an older number and goes through `link_child`.)
    #[inline]
    fn link_new_child(&mut self, fk: usize, key: RawKey) {
        if E::DEF.fks[fk].order_by.is_some() {
            self.link_child(fk, key);
            return;
        }
        let Some(row) = self.rows.get(key) else { return };
        let Some(parent) = E::__fk(row, fk).filter(|_| self.fk_unique[fk].is_none()) else {
            return;
        };
        debug_assert!(
            (self.children[fk].get(parent).last())
                .and_then(|&c| self.rows.get(c))
                .is_none_or(|r| E::__seqs(r)[fk] < E::__seqs(row)[fk]),
            "{}: a new link sorts last",
            E::DEF.table
        );
        self.children[fk].append(parent, key);
    }

    fn unlink_derived(&mut self, key: RawKey) {
        self.unlink(key, None);
    }

    /// Removes record `key` from every derived structure; its row is `removed` if it already
    /// left its slot, else read from the slot. Comparisons read the other records from the
    /// slots and this one from its row.
    fn unlink(&mut self, key: RawKey, removed: Option<&E::Row>) {
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
        let (rows, text) = (&*rows, &*text);
        let Some(row) = removed.or_else(|| rows.get(key)) else {
            return;
        };
        for (u, def) in E::DEF.uniques.iter().enumerate() {
            if let Some(hash) = row_hash::<E>(row, text, def) {
                let removed = uniques[u].remove(hash, key);
                debug_assert!(removed, "{}: unique entry of {key} missing", E::DEF.table);
            }
        }
        for (x, def) in E::DEF.indexes.iter().enumerate() {
            if let Some(hash) = row_hash::<E>(row, text, def) {
                // `key` itself may be out of its slot: it matches its own bucket.
                let eq =
                    |k: RawKey| k == key || rows.get(k).is_some_and(|r| same_values::<E>(row, r, text, def));
                let removed = indexes[x].remove(hash, key, eq);
                debug_assert!(removed, "{}: index entry of {key} missing", E::DEF.table);
            }
            if let Some(sorted) = ordered[x]
                .as_mut()
                .filter(|_| !has_null::<E>(row, text, def.fields))
            {
                let removed =
                    sorted.remove(key, |k| sorts_before::<E>(rows, text, def.fields, k, (key, row)));
                debug_assert!(removed, "{}: ordered entry of {key} missing", E::DEF.table);
            }
        }
        for (fk, list) in children.iter_mut().enumerate() {
            if fk_unique[fk].is_some() {
                continue;
            }
            if let Some(parent) = E::__fk(row, fk) {
                let removed = list.remove(parent, key);
                debug_assert!(removed, "{}: child entry of {key} missing", E::DEF.table);
            }
        }
    }

    // ----- read access for the integrity checker -----

    pub(crate) fn unique_index(&self, u: usize) -> &UniqueIndex {
        &self.uniques[u]
    }
    pub(crate) fn secondary_index(&self, x: usize) -> &SecondaryIndex {
        &self.indexes[x]
    }
    pub(crate) fn ordered_index(&self, x: usize) -> Option<&OrderedIndex> {
        self.ordered.get(x)?.as_ref()
    }
    pub(crate) fn child_index(&self, fk: usize) -> Option<&ChildIndex> {
        self.fk_unique[fk].is_none().then(|| &self.children[fk])
    }

    /// `true` when `fk` is one-to-one yet its children index, never written, holds a list
    /// ([`children`](Self::children) would answer from it instead of the unique probe).
    pub(crate) fn stray_lists(&self, fk: usize) -> bool {
        self.fk_unique[fk].is_some() && !self.children[fk].is_unused()
    }
}

/// Where a child sorts among its siblings: by the relationship's `order_by` field if it has
/// one, then by link sequence number.
pub(crate) struct LinkOrder<'a> {
    field: Option<Value<'a>>,
    seq: u32,
}

impl LinkOrder<'_> {
    pub(crate) fn seq(&self) -> u32 {
        self.seq
    }

    pub(crate) fn cmp_with(&self, other: &LinkOrder<'_>) -> std::cmp::Ordering {
        let by_field = match (&self.field, &other.field) {
            (Some(a), Some(b)) => a.sql_cmp(b),
            _ => std::cmp::Ordering::Equal,
        };
        by_field.then(self.seq.cmp(&other.seq))
    }
}

/// Whether any of `fields` of `row` is NULL (such a record is in no secondary index).
pub(crate) fn has_null<E: Entity>(row: &E::Row, text: &TextHeap, fields: &[u16]) -> bool {
    fields
        .iter()
        .any(|&f| E::__value(row, text, f as usize).is_null())
}

/// Where NULL sorts in an ascending order (descending is the exact reverse): first, SQLite's
/// rule, or last, PostgreSQL's default (`ASC NULLS LAST`, `DESC NULLS FIRST`). An ordered
/// index holds no NULL, so its order is the same under either; the rule places the records
/// left outside it, in a sorted query and against a keyset cursor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Nulls {
    First,
    Last,
}

impl Nulls {
    /// The rule of `engine`.
    pub(crate) fn of(engine: Engine) -> Nulls {
        match engine {
            Engine::Sqlite => Nulls::First,
            Engine::Postgres => Nulls::Last,
        }
    }

    /// `a` against `b`: [`Value::sql_cmp`] (NULL below every value), NULL above every value
    /// under [`Nulls::Last`].
    #[inline]
    pub(crate) fn cmp(self, a: &Value<'_>, b: &Value<'_>) -> Ordering {
        let order = a.sql_cmp(b);
        match self {
            Nulls::Last if a.is_null() != b.is_null() => order.reverse(),
            _ => order,
        }
    }
}

/// The order of ordered indexes and of sorted queries: by the values of `fields` in turn
/// ([`Value::sql_cmp`], NULL placed by `nulls`), then by key.
pub(crate) fn order_cmp<E: Entity>(
    nulls: Nulls,
    text: &TextHeap,
    fields: &[u16],
    (a, ra): (RawKey, &E::Row),
    (b, rb): (RawKey, &E::Row),
) -> Ordering {
    fields
        .iter()
        .map(|&f| {
            nulls.cmp(
                &E::__value(ra, text, f as usize),
                &E::__value(rb, text, f as usize),
            )
        })
        .find(|o| o.is_ne())
        .unwrap_or(a.cmp(&b))
}

/// Whether the live record `k` sorts before `(key, row)` in an ordered index (under
/// [`order_cmp`]; the index holds no NULL, so either [`Nulls`] rule).
pub(crate) fn sorts_before<E: Entity>(
    rows: &Rows<E::Row>,
    text: &TextHeap,
    fields: &[u16],
    k: RawKey,
    (key, row): (RawKey, &E::Row),
) -> bool {
    rows.get(k)
        .is_some_and(|r| order_cmp::<E>(Nulls::First, text, fields, (k, r), (key, row)).is_lt())
}

/// How the first `bound.len()` values of `row`'s `fields` compare with `bound` (a prefix),
/// NULL placed by `nulls`.
pub(crate) fn prefix_cmp<E: Entity>(
    nulls: Nulls,
    row: &E::Row,
    text: &TextHeap,
    fields: &[u16],
    bound: &[Value<'_>],
) -> Ordering {
    fields
        .iter()
        .zip(bound)
        .map(|(&f, v)| nulls.cmp(&E::__value(row, text, f as usize), v))
        .find(|o| o.is_ne())
        .unwrap_or(Ordering::Equal)
}

/// Whether every link number of `row` (under a non-NULL key) is below its counter.
pub(crate) fn links_within_counters<E: Entity>(row: &E::Row, next_seq: &[u32]) -> bool {
    let seqs = E::__seqs(row);
    (0..next_seq.len()).all(|fk| E::__fk(row, fk).is_none() || seqs.get(fk) < next_seq.get(fk))
}

pub(crate) fn link_order<'a, E: Entity>(row: &'a E::Row, text: &'a TextHeap, fk: usize) -> LinkOrder<'a> {
    LinkOrder {
        field: E::DEF.fks[fk].order_by.map(|f| E::__value(row, text, f as usize)),
        seq: E::__seqs(row)[fk],
    }
}

/// Adds `key` (whose record is `row`) to secondary index `x` (nothing if a field is NULL).
pub(crate) fn index_row<E: Entity>(
    rows: &Rows<E::Row>,
    text: &TextHeap,
    x: usize,
    index: &mut SecondaryIndex,
    key: RawKey,
    row: &E::Row,
) {
    let def = &E::DEF.indexes[x];
    let Some(hash) = row_hash::<E>(row, text, def) else {
        return;
    };
    let eq = |k: RawKey| rows.get(k).is_some_and(|r| same_values::<E>(row, r, text, def));
    let rehash = |k: RawKey| rows.get(k).and_then(|r| row_hash::<E>(r, text, def)).unwrap_or(0);
    index.insert(hash, key, eq, rehash);
}

/// Inserts `key` (whose record is `row`) into `parent`'s list of children index `index` (of
/// foreign key `fk`) at its place in link order; returns the position.
pub(crate) fn place_child<E: Entity>(
    rows: &Rows<E::Row>,
    text: &TextHeap,
    fk: usize,
    index: &mut ChildIndex,
    parent: RawKey,
    row: &E::Row,
    key: RawKey,
) -> usize {
    let mine = link_order::<E>(row, text, fk);
    index.insert_by(parent, key, |c| {
        rows.get(c)
            .is_some_and(|r| link_order::<E>(r, text, fk).cmp_with(&mine).is_lt())
    })
}

/// Sets foreign key `fk` of `row` to `to` with link number `seq`.
fn set_link<E: Entity>(row: &mut E::Row, fk: usize, to: RawKey, seq: u32) {
    let set = E::__set_fk(row, fk, Some(to));
    debug_assert!(set, "a key can always name a record");
    if let Some(s) = E::__seqs_mut(row).get_mut(fk) {
        *s = seq;
    }
}

fn release_text<E: Entity>(row: &E::Row, text: &mut TextHeap) {
    E::__spans(row, &mut |s| text.release(s));
}

/// Releases the spans of `old` that `current` no longer uses.
/// No allocation: a row has a few text fields, so each old span is looked for among the
/// current ones directly.
fn release_replaced<E: Entity>(old: &E::Row, current: &E::Row, text: &mut TextHeap) {
    E::__spans(old, &mut |s| {
        let mut kept = false;
        E::__spans(current, &mut |c| kept |= c == s);
        if !kept {
            text.release(s);
        }
    });
}

#[cfg(test)]
mod tests {
    use crate::{Entity, Key, Schema, Store};

    #[derive(Entity, Clone, Debug, PartialEq)]
    struct Author {
        name: String,
    }

    #[derive(Entity, Clone, Debug, PartialEq)]
    struct Book {
        author: Key<Author>,
    }

    /// Two foreign keys: the second's counter can run out after the first's has moved.
    #[derive(Entity, Clone, Debug, PartialEq)]
    struct Review {
        author: Key<Author>,
        #[relata(back = "edited")]
        editor: Key<Author>,
    }

    /// A write numbering two new links, whose second key's counter is spent (`u32::MAX`),
    /// fails with `CapacityExceeded` and leaves the first key's counter where it was (an
    /// insert, and an update moving both keys).
    #[test]
    fn a_link_counter_running_out_moves_no_other_counter() {
        let schema = Schema::builder()
            .entity::<Author>()
            .entity::<Review>()
            .build()
            .unwrap();
        let mut s = Store::new(schema);
        let ada = s.insert(Author { name: "ada".into() }).unwrap();
        let bob = s.insert(Author { name: "bob".into() }).unwrap();
        let review = s
            .insert(Review {
                author: ada,
                editor: ada,
            })
            .unwrap();
        let t = s.table_index::<Review>().unwrap();
        s.table_mut::<Review>(t).unwrap().next_seq[1] = u32::MAX;
        let before = s.to_snapshot().unwrap();
        let err = s
            .insert(Review {
                author: ada,
                editor: bob,
            })
            .unwrap_err();
        assert!(matches!(err, crate::Error::CapacityExceeded { .. }), "{err:?}");
        assert_eq!(s.table_mut::<Review>(t).unwrap().next_seq, [1, u32::MAX]);
        let err = s
            .replace(
                review,
                Review {
                    author: bob,
                    editor: bob,
                },
            )
            .unwrap_err();
        assert!(matches!(err, crate::Error::CapacityExceeded { .. }), "{err:?}");
        assert_eq!(s.to_snapshot().unwrap(), before);
        s.check_integrity().unwrap();
    }

    /// `check_integrity` catches a link number at or above its key's counter, which would
    /// let a later link sort before it while being appended after it.
    #[test]
    fn a_link_number_beyond_its_counter_fails_the_integrity_check() {
        let schema = Schema::builder()
            .entity::<Author>()
            .entity::<Book>()
            .build()
            .unwrap();
        let mut s = Store::new(schema);
        let ada = s.insert(Author { name: "ada".into() }).unwrap();
        let book = s.insert(Book { author: ada }).unwrap();
        s.check_integrity().unwrap();
        let t = s.table_index::<Book>().unwrap();
        s.table_mut::<Book>(t).unwrap().next_seq[0] = 0;
        let err = s.check_integrity().unwrap_err();
        assert!(err.to_string().contains(&book.raw().to_string()), "{err}");
    }
}
