//! The type-erased face of a table, for the parts of the store that work across entity types:
//! cascades, the journal, forks and the integrity checker.

use std::any::Any;

use crate::column::{JsonBad, JsonCx};
use crate::diff::{Before, BeforeRow};
use crate::engine::Engine;
use crate::entity::{Entity, EntityDef};
use crate::error::SnapshotError;
use crate::error::{Error, IntegrityError};
use crate::key::RawKey;
use crate::store::table::{KeyState, Table};
use crate::store::write::check_predicates;
use crate::store::Store;

pub(crate) trait AnyTable: Any + Send + Sync {
    fn def(&self) -> &'static EntityDef;
    fn clone_box(&self) -> Box<dyn AnyTable>;
    fn len(&self) -> usize;
    fn state(&self, key: RawKey) -> KeyState;
    fn fk(&self, key: RawKey, fk: usize) -> Option<RawKey>;
    fn children(&self, fk: usize, parent: RawKey) -> &[RawKey];
    /// Primitive: delete (detach) a record.
    fn p_delete(&mut self, key: RawKey) -> bool;
    /// Primitive: delete a parent's whole children list at once (see `Table::p_delete_list`).
    fn p_delete_list(&mut self, fk: usize, parent: RawKey, run: &[(usize, RawKey)]) -> usize;
    /// Primitive: point a foreign key elsewhere (or to NULL) with a new link sequence number.
    fn p_set_fk(&mut self, key: RawKey, fk: usize, to: Option<RawKey>) -> Result<bool, Error>;
    /// The record satisfies its CHECK constraints after each of `fks` in turn is set to NULL
    /// (a database runs each key's SET NULL as its own UPDATE, checked).
    fn check_nulled(&self, key: RawKey, fks: &[usize], engine: Engine) -> Result<(), Error>;
    fn undo_insert(&mut self, key: RawKey);
    fn undo_delete(&mut self, key: RawKey);
    fn undo_update(&mut self, key: RawKey);
    /// Undo of `Change::Moved` (see `Table::undo_move`).
    fn undo_move(&mut self, key: RawKey, fk: usize, from: RawKey, seq: u32, at: u32);
    /// Puts the id counter back (undo of `Change::IdCounter`).
    fn set_next_id(&mut self, next: u64);
    fn finalize(&mut self);
    /// One column of a live record (`Null` if absent).
    fn value_of(&self, key: RawKey, field: usize) -> crate::value::Value<'_>;
    /// One column of a live record as people read it, when that is not its value (see
    /// `Column::shown`).
    fn shown_of(&self, key: RawKey, field: usize) -> Option<String>;
    /// Live keys in slot order.
    fn keys(&self) -> Vec<RawKey>;
    /// A live record's values rendered for messages and diffs.
    fn render(&self, key: RawKey) -> Option<Vec<String>>;
    /// The values of a record's row before a journal position (the diff's "before").
    fn render_before(&self, key: RawKey, before: &Before) -> Option<Vec<String>>;
    /// Appends this table's snapshot parts (see `table/parts.rs`).
    fn encode_parts(&self, out: &mut Vec<u8>) -> Result<(), SnapshotError>;
    /// Replaces this (empty) table with the one whose parts start `bytes`, validated, its
    /// indexes rebuilt but not its children lists; returns the bytes the parts took.
    fn decode_parts(&mut self, bytes: &[u8], version: u32) -> Result<usize, SnapshotError>;
    /// Every record holds values `engine` accepts, checked in its order (see
    /// `Table::check_values`).
    fn check_values(&self, engine: Engine) -> Result<(), SnapshotError>;
    /// A record of this table's declared defaults (see `Table::default_row`).
    fn default_row(&self) -> Result<crate::store::table::parts::DefaultRow, SnapshotError>;
    /// Validates every foreign key against `tables` and counts children per parent (see
    /// `Table::count_children`).
    fn count_children(
        &self,
        targets: &[usize],
        tables: &[Box<dyn AnyTable>],
    ) -> Result<Vec<crate::index::children::ChildIndex>, SnapshotError>;
    /// Fills the children lists from the counts of `count_children`.
    fn fill_children(&mut self, counts: Vec<crate::index::children::ChildIndex>)
        -> Result<(), SnapshotError>;
    /// Every slot index of this table is below this.
    fn slot_bound(&self) -> usize;
    fn text_len(&self) -> usize;
    /// Drops text appended after `len`; only valid once every row using it is gone.
    fn truncate_text(&mut self, len: usize);
    /// A deferrable unique constraint another live record shares with `key`, as an error.
    fn deferred_unique_violation(&self, key: RawKey) -> Option<Error>;
    /// Calls `f(child, fk, parent)` for every non-NULL foreign key of every live record.
    fn for_each_fk(&self, f: &mut dyn FnMut(RawKey, usize, RawKey));
    /// Logical equality with another table of the same type: same keys, equal field values,
    /// same children order, and the same next id as each store's engine hands it out
    /// (`engines`: this table's, the other's). Ignores the text heap layout, slot free lists,
    /// link sequence numbers and a counter no insert can see.
    fn same_content(&self, other: &dyn AnyTable, engines: (Engine, Engine)) -> bool;
    /// Recomputes this table's derived state from its rows and compares.
    /// `strict`: deferrable constraints must hold too (no transaction is open).
    fn check_local(&self, strict: bool) -> Result<(), IntegrityError>;
    /// How to decode a record of this table from a JSON fixture, and how to write it.
    fn json_fns(&self) -> (DecodeJson, WriteJson);
}

/// Decodes a JSON fixture record into a boxed entity; on error the field and why.
pub(crate) type DecodeJson = fn(
    &serde_json::Map<String, serde_json::Value>,
    &mut JsonCx<'_>,
) -> Result<Box<dyn Any>, (usize, JsonBad)>;
/// Inserts a decoded entity (or replaces the record `Some(key)`) through the normal write path.
pub(crate) type WriteJson = fn(&mut Store, Option<RawKey>, Box<dyn Any>) -> Result<RawKey, Error>;

fn decode_json<E: Entity>(
    record: &serde_json::Map<String, serde_json::Value>,
    cx: &mut JsonCx<'_>,
) -> Result<Box<dyn Any>, (usize, JsonBad)> {
    E::__from_json(record, cx).map(|e| Box::new(e) as Box<dyn Any>)
}

fn write_json<E: Entity>(
    store: &mut Store,
    key: Option<RawKey>,
    value: Box<dyn Any>,
) -> Result<RawKey, Error> {
    let value = value.downcast::<E>().map_err(|_| Error::UnknownEntity {
        type_name: E::DEF.type_name,
    })?;
    store.write_as_given(key, *value)
}

fn render_row<E: Entity>(row: &E::Row, text: &crate::text::TextHeap) -> Vec<String> {
    (0..E::DEF.fields.len())
        .map(|f| crate::store::write::render::<E>(row, text, f as u16))
        .collect()
}

pub(crate) fn make_table<E: Entity>() -> Box<dyn AnyTable> {
    Box::new(Table::<E>::new())
}

impl<E: Entity> AnyTable for Table<E> {
    fn def(&self) -> &'static EntityDef {
        E::DEF
    }
    fn json_fns(&self) -> (DecodeJson, WriteJson) {
        (decode_json::<E>, write_json::<E>)
    }
    fn clone_box(&self) -> Box<dyn AnyTable> {
        Box::new(Table::clone(self))
    }
    fn len(&self) -> usize {
        self.rows.len()
    }
    fn state(&self, key: RawKey) -> KeyState {
        Table::state(self, key)
    }
    fn fk(&self, key: RawKey, fk: usize) -> Option<RawKey> {
        self.row(key).and_then(|r| E::__fk(r, fk))
    }
    fn children(&self, fk: usize, parent: RawKey) -> &[RawKey] {
        Table::children(self, fk, parent)
    }
    fn p_delete(&mut self, key: RawKey) -> bool {
        Table::p_delete(self, key)
    }
    fn p_delete_list(&mut self, fk: usize, parent: RawKey, run: &[(usize, RawKey)]) -> usize {
        Table::p_delete_list(self, fk, parent, run)
    }
    fn p_set_fk(&mut self, key: RawKey, fk: usize, to: Option<RawKey>) -> Result<bool, Error> {
        let Some(mut row) = self.row(key).cloned() else {
            return Ok(false);
        };
        if !E::__set_fk(&mut row, fk, to) {
            return Ok(false);
        }
        E::__seqs_mut(&mut row)[fk] = match to {
            Some(_) => self.next_seq(fk)?,
            None => 0,
        };
        Ok(self.p_update(key, row))
    }
    fn check_nulled(&self, key: RawKey, fks: &[usize], engine: Engine) -> Result<(), Error> {
        let Some(mut row) = self.row(key).cloned() else {
            return Ok(());
        };
        for &fk in fks {
            if E::__set_fk(&mut row, fk, None) {
                check_predicates::<E>(&row, &self.text, Some(key), engine)?;
            }
        }
        Ok(())
    }
    fn undo_insert(&mut self, key: RawKey) {
        Table::undo_insert(self, key)
    }
    fn undo_delete(&mut self, key: RawKey) {
        Table::undo_delete(self, key)
    }
    fn undo_update(&mut self, key: RawKey) {
        Table::undo_update(self, key)
    }
    fn undo_move(&mut self, key: RawKey, fk: usize, from: RawKey, seq: u32, at: u32) {
        Table::undo_move(self, key, fk, from, seq, at)
    }
    fn finalize(&mut self) {
        Table::finalize(self)
    }
    fn encode_parts(&self, out: &mut Vec<u8>) -> Result<(), SnapshotError> {
        Table::encode_parts(self, out)
    }
    fn decode_parts(&mut self, bytes: &[u8], version: u32) -> Result<usize, SnapshotError> {
        let (table, used) = Table::decode_parts(bytes, version)?;
        *self = table;
        Ok(used)
    }
    fn check_values(&self, engine: Engine) -> Result<(), SnapshotError> {
        Table::check_values(self, engine)
    }
    fn default_row(&self) -> Result<crate::store::table::parts::DefaultRow, SnapshotError> {
        Table::<E>::default_row()
    }
    fn count_children(
        &self,
        targets: &[usize],
        tables: &[Box<dyn AnyTable>],
    ) -> Result<Vec<crate::index::children::ChildIndex>, SnapshotError> {
        Table::count_children(self, targets, tables)
    }
    fn fill_children(
        &mut self,
        counts: Vec<crate::index::children::ChildIndex>,
    ) -> Result<(), SnapshotError> {
        Table::fill_children(self, counts)
    }
    fn slot_bound(&self) -> usize {
        self.rows.slot_count()
    }
    fn value_of(&self, key: RawKey, field: usize) -> crate::value::Value<'_> {
        self.value(key, field)
    }
    fn keys(&self) -> Vec<RawKey> {
        self.rows.keys().collect()
    }
    fn shown_of(&self, key: RawKey, field: usize) -> Option<String> {
        self.row(key).and_then(|r| E::__shown(r, &self.text, field))
    }
    fn render(&self, key: RawKey) -> Option<Vec<String>> {
        self.row(key).map(|r| render_row::<E>(r, &self.text))
    }
    fn render_before(&self, key: RawKey, before: &Before) -> Option<Vec<String>> {
        let row = match before.row {
            BeforeRow::Absent => return None,
            BeforeRow::Undo(pos) => self.undo_row(pos)?,
            BeforeRow::Now => self.row(key)?,
        };
        if before.parents.is_empty() {
            return Some(render_row::<E>(row, &self.text));
        }
        let mut row = row.clone();
        for &(fk, from) in &before.parents {
            E::__set_fk(&mut row, fk, Some(from));
        }
        Some(render_row::<E>(&row, &self.text))
    }
    fn text_len(&self) -> usize {
        self.text.len()
    }
    fn truncate_text(&mut self, len: usize) {
        self.text.truncate(len)
    }
    fn deferred_unique_violation(&self, key: RawKey) -> Option<Error> {
        let (u, existing) = self.deferred_unique_conflict(key)?;
        let row = self.row(key)?;
        Some(crate::store::write::unique_violation::<E>(
            row, &self.text, u, existing,
        ))
    }
    fn for_each_fk(&self, f: &mut dyn FnMut(RawKey, usize, RawKey)) {
        for (slot, row) in self.rows.iter() {
            for fk in 0..E::DEF.fks.len() {
                if let Some(parent) = E::__fk(row, fk) {
                    f(slot, fk, parent);
                }
            }
        }
    }
    fn same_content(&self, other: &dyn AnyTable, engines: (Engine, Engine)) -> bool {
        let Some(other) = (other as &dyn Any).downcast_ref::<Table<E>>() else {
            return false;
        };
        let fields = E::DEF.fields.len();
        let same_row = |slot, row: &E::Row| {
            other.row(slot).is_some_and(|o| {
                (0..fields).all(|f| E::__value(row, &self.text, f) == E::__value(o, &other.text, f))
            })
        };
        self.rows.len() == other.rows.len()
            && self.rows.iter().all(|(slot, row)| same_row(slot, row))
            && (E::DEF.id.is_none() || self.next_id(engines.0) == other.next_id(engines.1))
            && (0..E::DEF.fks.len()).all(|fk| {
                let mine = self.child_index(fk).map(|c| c.iter().collect::<Vec<_>>());
                let theirs = other.child_index(fk).map(|c| c.iter().collect::<Vec<_>>());
                mine == theirs
            })
    }
    fn check_local(&self, strict: bool) -> Result<(), IntegrityError> {
        crate::store::check::check_table(self, strict)
    }
    fn set_next_id(&mut self, next: u64) {
        self.next_id = next;
    }
}
