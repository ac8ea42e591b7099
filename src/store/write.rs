//! Inserts and rewrites: build the compact row, check every constraint, then apply one
//! primitive change. A rejected row's text is truncated off the heap again.

use crate::column::Stored;
use crate::engine::Engine;
use crate::entity::{Entity, FieldDef};
use crate::error::{Error, Part, QuotedValue};
use crate::key::{Key, RawKey};
use crate::store::journal::Change;
use crate::store::table::{KeyState, NotGiven, Table};
use crate::store::Store;
use crate::text::TextHeap;
use crate::value::{SqlType, Value};

impl Store {
    /// Inserts a record and returns its key.
    ///
    /// Checks, in this order: under `Engine::Postgres` the values its types cannot hold (as
    /// PostgreSQL binds them), `max_len`, the `check` predicates (of two that fail, the first
    /// declared, as SQLite reports it; under PostgreSQL's profile the one whose name sorts
    /// first), every unique constraint (last declared first, as SQLite reports them;
    /// PostgreSQL's order under its profile), then
    /// every foreign key's target (exists and is live); a value held already whose other
    /// checks also fail is reported by the first of these it fails. Cost: O(1) average per
    /// constraint, plus the record's text copied into the table's heap.
    ///
    /// # Errors
    /// [`Error::NulInText`], [`Error::NulInJson`], [`Error::OutOfRange`] and
    /// [`Error::IdsExhausted`] (under `Engine::Postgres`),
    /// [`Error::TooLong`], [`Error::CheckViolation`], [`Error::UniqueViolation`],
    /// [`Error::MissingTarget`], [`Error::DeletedTarget`], [`Error::Cycle`],
    /// [`Error::UnknownEntity`], [`Error::CapacityExceeded`], and
    /// [`Error::TransactionAborted`] in an aborted transaction. On error nothing changed.
    ///
    /// ```
    /// # use relata::{Entity, Error, Key, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct User { #[relata(unique)] name: String }
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct Post { title: String, author: Key<User> }
    /// let mut store = Store::new(Schema::builder().entity::<User>().entity::<Post>().build()?);
    /// let alice = store.insert(User { name: "alice".into() })?;
    /// store.delete(alice)?;
    /// let err = store.insert(Post { title: "orphan".into(), author: alice }).unwrap_err();
    /// assert!(matches!(err, Error::DeletedTarget { .. }));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn insert<E: Entity>(&mut self, mut value: E) -> Result<Key<E>, Error> {
        let (t, table) = match self.table_with_index::<E>() {
            Ok(found) => found,
            Err(e) => return self.logged("insert", E::DEF.table, None, Err(e), |_| None),
        };
        // Plan, then apply: the value's unique constraints (and, for a refused value, its
        // CHECK and `max_len` limits) are probed before a statement opens, so a refused
        // insert opens none: no guard, no undo, the error returned from here. A pending
        // fault fires before a write looks at anything (a refused write counts as one), so
        // with a fault pending (or the transaction aborted, which refuses the statement
        // first) the probe stays inside the statement.
        let probed = match self.quiet() {
            true => match probe_table(table, self.engine, &mut value) {
                Ok(probed) => Some(probed),
                Err(e) => return self.logged("insert", E::DEF.table, None, Err(e), |_| None),
            },
            false => None,
        };
        let result = self.statement(|s| s.insert_given(t, value, true, probed));
        self.logged("insert", E::DEF.table, None, result, |k| Some(*k))
            .map(Key::from_raw)
    }

    /// Changes a record through a closure over an owned copy, then checks and writes it back.
    /// Changing a foreign key moves the record between its parents' children lists (to the end
    /// of the new parent's list). Unchanged text is not copied again. Cost: as
    /// [`insert`](Self::insert) for the changed columns, plus O(1) per moved key.
    ///
    /// # Errors
    /// [`Error::NotFound`] / [`Error::Stale`] for the key, then as [`insert`](Self::insert)
    /// for the changed columns, and [`Error::Cycle`] for an `acyclic` key. On error nothing
    /// changed.
    ///
    /// ```
    /// # use relata::{Entity, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct User { #[relata(unique)] name: String }
    /// let mut store = Store::new(Schema::builder().entity::<User>().build()?);
    /// let k = store.insert(User { name: "alice".into() })?;
    /// store.update(k, |u| u.name = "alicia".into())?;
    /// assert_eq!(store.get(k).unwrap().name, "alicia");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn update<E: Entity>(&mut self, key: Key<E>, f: impl FnOnce(&mut E)) -> Result<(), Error> {
        let result = self.table_index::<E>().and_then(|t| {
            self.statement(|s| {
                let mut value = s.owned(key)?;
                f(&mut value);
                s.rewrite_in(t, key.raw(), value)
            })
        });
        self.logged("update", E::DEF.table, Some(key.raw()), result, |_| None)
    }

    /// Replaces a whole record and returns the old value. Same checks and cost as
    /// [`update`](Self::update), plus the old value's copy out of the table.
    ///
    /// # Errors
    /// As [`update`](Self::update).
    ///
    /// ```
    /// # use relata::{Entity, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct User { #[relata(unique)] name: String }
    /// let mut store = Store::new(Schema::builder().entity::<User>().build()?);
    /// let k = store.insert(User { name: "alice".into() })?;
    /// let old = store.replace(k, User { name: "ann".into() })?;
    /// assert_eq!(old.name, "alice");
    /// assert_eq!(store.get(k).unwrap().name, "ann");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn replace<E: Entity>(&mut self, key: Key<E>, value: E) -> Result<E, Error> {
        let result = self.table_index::<E>().and_then(|t| {
            self.statement(|s| {
                let old = s.owned(key)?;
                s.rewrite_in(t, key.raw(), value)?;
                Ok(old)
            })
        });
        self.logged("replace", E::DEF.table, Some(key.raw()), result, |_| None)
    }

    /// Inserts (`key` `None`) or replaces a record keeping the values it gives for the fields
    /// the store fills (`created_at`, `updated_at`, and an `#[relata(id)]` of 1 or more on
    /// insert): a JSON fixture's records, which are data as it was stored. Otherwise as
    /// [`insert`](Self::insert) and [`replace`](Self::replace).
    pub(crate) fn write_as_given<E: Entity>(
        &mut self,
        key: Option<RawKey>,
        value: E,
    ) -> Result<RawKey, Error> {
        let t = self.table_index::<E>()?;
        let result = match key {
            None => self.statement(|s| s.insert_given(t, value, false, None)),
            Some(key) => self.statement(|s| s.rewrite_with(t, key, value, false).map(|()| key)),
        };
        let op = if key.is_some() { "replace" } else { "insert" };
        self.logged(op, E::DEF.table, key, result, |k| key.is_none().then_some(*k))
    }

    /// Inserts; `stamp`: fill `created_at` / `updated_at` from the clock and give the next
    /// id; else keep what `value` gives (its id too, if it is one). `probed`: what
    /// [`probe_given`](Self::probe_given) answered for `value` before the statement, or
    /// `None` to probe here.
    #[inline(always)]
    fn insert_given<E: Entity>(
        &mut self,
        t: usize,
        mut value: E,
        stamp: bool,
        probed: Option<bool>,
    ) -> Result<RawKey, Error> {
        let probed = match probed {
            Some(probed) => probed,
            None => self.probe_given::<E>(t, &mut value)?,
        };
        let new_id = if stamp { NewId::Next } else { NewId::Given };
        let (row, counter, mark) = self.proposed_row(t, None, value, stamp, new_id)?;
        self.insert_probed::<E>(t, row, counter, mark, probed)
    }

    /// Inserts a row [`proposed_row`](Self::proposed_row) built, with the id counter it
    /// worked out (`counter`), whose text starts at heap length `mark`: checks the store's
    /// constraints, then applies the insert and moves the counter, journalled. On error the
    /// heap is cut back to `mark`.
    #[inline(always)]
    pub(crate) fn insert_row<E: Entity>(
        &mut self,
        t: usize,
        row: E::Row,
        counter: u64,
        mark: usize,
    ) -> Result<RawKey, Error> {
        self.insert_probed::<E>(t, row, counter, mark, false)
    }

    /// [`insert_row`](Self::insert_row); with `probed`, the unique constraints are not
    /// probed again ([`probe_given`](Self::probe_given) found none violated).
    #[inline(always)]
    fn insert_probed<E: Entity>(
        &mut self,
        t: usize,
        mut row: E::Row,
        counter: u64,
        mark: usize,
        probed: bool,
    ) -> Result<RawKey, Error> {
        let checked = match probed {
            true => self.check_targets::<E>(t, None, &row),
            false => {
                (self.check_unique::<E>(t, None, &row)).and_then(|()| self.check_targets::<E>(t, None, &row))
            }
        };
        // The table found once for the rest: the links numbered, the counter moved, the
        // row inserted; then both changes journalled in that order (the counter's entry
        // fires no fault: an injected fault fires at the insert's entry, after both are
        // journalled, and the statement undoes both).
        let table = self.table_mut::<E>(t)?;
        if let Err(e) = checked.and_then(|()| number_links::<E>(table, None, &mut row)) {
            table.text.truncate(mark);
            return Err(e);
        }
        let old = E::DEF.id.map(|_| std::mem::replace(&mut table.next_id, counter));
        let key = table.p_insert(row);
        if let Some(old) = old {
            self.record(Change::IdCounter { table: t, old })?;
        }
        self.record(Change::Inserted { table: t, key })?;
        Ok(key)
    }

    pub(crate) fn rewrite_in<E: Entity>(&mut self, t: usize, key: RawKey, value: E) -> Result<(), Error> {
        self.rewrite_with(t, key, value, true)
    }

    /// Rewrites a live record; `stamp` as in [`insert_given`](Self::insert_given).
    #[inline(always)]
    fn rewrite_with<E: Entity>(&mut self, t: usize, key: RawKey, value: E, stamp: bool) -> Result<(), Error> {
        let table = self.table_mut::<E>(t)?;
        let mark = table.text.len();
        let Some(old) = table.row(key).cloned() else {
            return Err(self.missing_or_stale(t, key));
        };
        match self.build_row(t, Some((key, &old)), value, stamp) {
            Ok(row) if row == old => Ok(()),
            Ok(row) => self.apply_update::<E>(t, key, &old, row),
            Err(e) => {
                self.table_mut::<E>(t)?.text.truncate(mark);
                Err(e)
            }
        }
    }

    /// Converts `value` to a row (reusing `old`'s text where unchanged; with `stamp`, its
    /// `created_at` / `updated_at` fields filled), checks it, and gives every new link a
    /// sequence number.
    fn build_row<E: Entity>(
        &mut self,
        t: usize,
        old: Option<(RawKey, &E::Row)>,
        value: E,
        stamp: bool,
    ) -> Result<E::Row, Error> {
        let (mut row, ..) = self.proposed_row(t, old, value, stamp, NewId::Next)?;
        self.check_row::<E>(t, old, &mut row)?;
        Ok(row)
    }

    /// `value` as a row, with the checks of the row alone (CHECK predicates, `max_len`) but
    /// not those against other records: what `build_row` does before [`check_row`]. Its
    /// text is appended to the heap, which started at the length that comes back third (to
    /// cut it back to if a later check fails); on error it is cut back here. A new row
    /// (`old` `None`) gets its `#[relata(id)]` as `new_id` says, and the id counter the table
    /// has once it is inserted comes back beside it (the current counter without an id field
    /// and for a rewrite).
    ///
    /// [`check_row`]: Self::check_row
    pub(crate) fn proposed_row<E: Entity>(
        &mut self,
        t: usize,
        old: Option<(RawKey, &E::Row)>,
        value: E,
        stamp: bool,
        new_id: NewId,
    ) -> Result<(E::Row, u64, usize), Error> {
        if let Some(c) = value.__check() {
            let id_given = old.is_none() && matches!(new_id, NewId::Given);
            return Err(refused_value::<E>(
                value,
                c,
                self.engine,
                old.map(|(k, _)| k),
                id_given,
            ));
        }
        let now = match E::__STAMPS && stamp {
            true => Some(self.clock.unix_micros()),
            false => None,
        };
        let engine = self.engine;
        let table = self.table_mut::<E>(t)?;
        let mark = table.text.len();
        let built = Self::proposed_in(table, engine, old, value, new_id, now);
        if built.is_err() {
            table.text.truncate(mark);
        }
        built.map(|(row, counter)| (row, counter, mark))
    }

    /// The body of [`proposed_row`](Self::proposed_row) on its table; `now`: the stamps'
    /// time, if they are filled.
    #[inline(always)]
    fn proposed_in<E: Entity>(
        table: &mut Table<E>,
        engine: Engine,
        old: Option<(RawKey, &E::Row)>,
        value: E,
        new_id: NewId,
        now: Option<i64>,
    ) -> Result<(E::Row, u64), Error> {
        let mut row = match old {
            Some((_, o)) => value.__into_row_reusing(o, &mut table.text)?,
            None => value.__into_row(&mut table.text)?,
        };
        let mut counter = table.next_id;
        if E::DEF.id.is_some() {
            match old {
                Some((_, o)) => E::__keep_id(&mut row, o),
                None => {
                    let given = match new_id {
                        NewId::Given => table.id_of(&row).filter(|&id| id >= 1),
                        NewId::Next => None,
                    };
                    let id = match given {
                        Some(id) => id,
                        None => {
                            let id = table.next_id(engine);
                            if engine == Engine::Postgres {
                                check_sequence::<E>(id)?;
                            }
                            E::__set_id(&mut row, id, &mut table.text)?;
                            counter = 0; // the next id is above every id held
                            id
                        }
                    };
                    let Some(after) = id.checked_add(1) else {
                        return Err(Error::CapacityExceeded { what: "ids (2^64)" });
                    };
                    counter = counter.max(after);
                }
            }
        }
        if let Some(now) = now {
            E::__stamp(&mut row, old.map(|(_, o)| o), now, &mut table.text)?;
        }
        if engine == Engine::Postgres {
            check_postgres_values::<E>(&row, &table.text, old.map(|(k, _)| k))?;
        }
        check_lengths::<E>(&row, &table.text, old.map(|(k, _)| k))?;
        Ok((row, counter))
    }

    /// Checks a new or rewritten row against every constraint and numbers its new links.
    fn check_row<E: Entity>(
        &mut self,
        t: usize,
        old: Option<(RawKey, &E::Row)>,
        row: &mut E::Row,
    ) -> Result<(), Error> {
        self.check_unique::<E>(t, old.map(|o| o.0), row)?;
        self.check_rest::<E>(t, old, row)
    }

    /// The checks of [`check_row`](Self::check_row) after the unique constraints: every
    /// changed foreign key's target, then a sequence number for each new link.
    fn check_rest<E: Entity>(
        &mut self,
        t: usize,
        old: Option<(RawKey, &E::Row)>,
        row: &mut E::Row,
    ) -> Result<(), Error> {
        self.check_targets::<E>(t, old, row)?;
        number_links::<E>(self.table_mut::<E>(t)?, old, row)
    }

    /// Points one foreign key of a live record elsewhere (or to NULL), with every check.
    pub(crate) fn write_fk<E: Entity>(
        &mut self,
        t: usize,
        key: RawKey,
        fk: usize,
        to: Option<RawKey>,
    ) -> Result<(), Error> {
        if let (Some(to), Ok(t32), Ok(fk16)) = (to, u32::try_from(t), u16::try_from(fk)) {
            if Self::moves_plainly::<E>(fk) && self.move_alone::<E>(t32, key, fk16, to)? {
                return Ok(());
            }
        }
        let Some(row) = self.table_at::<E>(t)?.row(key) else {
            return Err(self.missing_or_stale(t, key));
        };
        let from = E::__fk(row, fk);
        if from == to {
            return Ok(());
        }
        // A move between two parents of a key only the children lists cover: no row is
        // written. In an entity without CHECKs nothing of the row is read or copied either;
        // the new target is the one check.
        let moving = match (to, from, u32::try_from(t), u16::try_from(fk)) {
            (Some(to), Some(_), Ok(t32), Ok(fk16)) if Table::<E>::moves_alone(fk) => Some((t32, fk16, to)),
            _ => None,
        };
        if let (Some((t32, fk16, to)), true) = (moving, E::DEF.checks.is_empty()) {
            self.check_target::<E>(t, fk, to, Some(key))?;
            return self.apply_move::<E>(t32, key, fk16, to);
        }
        let old = row.clone();
        let mut row = old.clone();
        if !E::__set_fk(&mut row, fk, to) {
            let (table, column) = (E::DEF.table, E::DEF.fk_column(fk));
            return Err(Error::RequiredReference { table, column, key });
        }
        // Only the key changed: a CHECK may read it, only a unique constraint over it can
        // newly conflict (a one-to-one key), and only its target can be missing; the key gets
        // the next link number. The checks of `proposed_row` and `check_row` that can fire.
        if !E::DEF.checks.is_empty() {
            check_predicates::<E>(&row, &self.table_at::<E>(t)?.text, Some(key), self.engine)?;
        }
        let field = E::DEF.fks[fk].field;
        if E::DEF.uniques.iter().any(|u| u.fields.contains(&field)) {
            self.check_unique::<E>(t, Some(key), &row)?;
        }
        self.check_targets::<E>(t, Some((key, &old)), &row)?;
        if let Some((t32, fk16, to)) = moving {
            return self.apply_move::<E>(t32, key, fk16, to);
        }
        E::__seqs_mut(&mut row)[fk] = match to {
            Some(_) => self.table_mut::<E>(t)?.next_seq(fk)?,
            None => 0,
        };
        self.apply_update::<E>(t, key, &old, row)
    }

    /// Whether a move of `fk` to another parent can be [`move_alone`](Self::move_alone):
    /// only the children lists cover the key ([`Table::moves_alone`]), the entity declares no
    /// CHECK (none to evaluate on the moved row) and the key is not `acyclic` (no ancestor
    /// walk). Decided per entity type and key from constants (`E::DEF`); `fk` is a run-time
    /// index, so the look-ups into `E::DEF` run per call unless the compiler folds them.
    #[inline(always)]
    fn moves_plainly<E: Entity>(fk: usize) -> bool {
        Table::<E>::moves_alone(fk) && E::DEF.checks.is_empty() && !E::DEF.fks[fk].acyclic
    }

    /// A plain move ([`moves_plainly`](Self::moves_plainly)) with the child's table found
    /// once: the target's liveness is read first (a read, through the erased table), then the
    /// typed table reads the row and moves the child. The checks and errors come in
    /// [`write_fk`](Self::write_fk)'s order: the child live, no change when the key already
    /// names `to`, then the target live. `Ok(false)`, changing nothing, when the child has no
    /// parent (a NULL key set: an update, `write_fk`'s general path).
    #[inline(always)]
    fn move_alone<E: Entity>(&mut self, t: u32, key: RawKey, fk: u16, to: RawKey) -> Result<bool, Error> {
        let (ti, fki) = (t as usize, usize::from(fk));
        let target = self.schema.inner.tables[ti].fk_targets[fki];
        let target_state = self.tables[target].state(to);
        let table = self.table_mut::<E>(ti)?;
        let Some(row) = table.row(key) else {
            return Err(table.missing_or_stale(key));
        };
        match E::__fk(row, fki) {
            None => return Ok(false),
            Some(from) if from == to => return Ok(true),
            Some(_) => {}
        }
        if target_state != KeyState::Live {
            return Err(self.target_error::<E>(fki, target, to, target_state));
        }
        let seq = table.next_seq(fki)?;
        let Some((from, seq, at)) = table.p_move(key, fki, to, seq) else {
            return Ok(true); // not reached: the record is live and has a parent (read above)
        };
        self.record(Change::Moved {
            table: t,
            fk,
            key,
            from,
            seq,
            at,
        })?;
        Ok(true)
    }

    /// A move from one parent to another of a key only the children lists cover
    /// ([`Table::moves_alone`]), with the key's next link number, journalled as
    /// `Change::Moved`: no old row kept, nothing for finalize to release, and undo puts the
    /// record back at its place in the old list.
    fn apply_move<E: Entity>(&mut self, t: u32, key: RawKey, fk: u16, to: RawKey) -> Result<(), Error> {
        let table = self.table_mut::<E>(t as usize)?;
        let seq = table.next_seq(fk.into())?;
        let moved = table.p_move(key, fk.into(), to, seq);
        let Some((from, seq, at)) = moved else {
            return Ok(()); // not reached: the record is live and has a parent (checked above)
        };
        self.record(Change::Moved {
            table: t,
            fk,
            key,
            from,
            seq,
            at,
        })
    }

    /// The update primitive, journalled; a delete-orphan child whose key it clears is queued
    /// for the sweep at the commit point (writing the key *is* the relationship change).
    fn apply_update<E: Entity>(
        &mut self,
        t: usize,
        key: RawKey,
        old: &E::Row,
        row: E::Row,
    ) -> Result<(), Error> {
        let orphaned = (0..E::DEF.fks.len())
            .filter(|&fk| E::DEF.fks[fk].orphan && E::__fk(old, fk).is_some() && E::__fk(&row, fk).is_none());
        let orphaned: Vec<usize> = orphaned.collect();
        self.table_mut::<E>(t)?.p_update(key, row);
        self.record(Change::Updated { table: t, key })?;
        self.orphans.extend(orphaned.into_iter().map(|fk| (t, key, fk)));
        Ok(())
    }

    /// The unique constraints of a new record, probed from `value` before it becomes a row,
    /// so that a refused insert copies no text into the heap and cuts none off again.
    /// `Ok(true)`: every constraint was probed and none is violated (the row's check skips
    /// them). `Ok(false)`: a constraint has a column only the row has (`#[relata(id)]`, a
    /// stamp, a type converted on the way in), so the row's check probes them all. A conflict
    /// is the error the row's check would report: the same constraint, in the engine's order,
    /// and after the checks of the record alone (`max_len`, then CHECK), which are run for it
    /// here. (Only a text heap or id space at capacity, 2^32 bytes or 2^64 ids, which the
    /// row's building reports first, is reported after a unique violation instead.)
    ///
    /// Out of line: the common insert probes before its statement ([`probe_table`]); this is
    /// the probe inside it (a fault pending, a fixture's record).
    #[cold]
    #[inline(never)]
    fn probe_given<E: Entity>(&self, t: usize, value: &mut E) -> Result<bool, Error> {
        probe_table(self.table_at::<E>(t)?, self.engine, value)
    }

    fn check_unique<E: Entity>(&self, t: usize, except: Option<RawKey>, row: &E::Row) -> Result<(), Error> {
        let table = self.table_at::<E>(t)?;
        match table.unique_conflict(row, except, self.engine) {
            Some((u, existing)) => Err(unique_violation::<E>(row, &table.text, u, existing)),
            None => Ok(()),
        }
    }

    /// Every changed foreign key must name a live record; an `acyclic` one must not make the
    /// record its own ancestor. Inlined: a call per insert was about 15 instructions.
    #[inline(always)]
    fn check_targets<E: Entity>(
        &self,
        t: usize,
        old: Option<(RawKey, &E::Row)>,
        row: &E::Row,
    ) -> Result<(), Error> {
        for fk in 0..E::DEF.fks.len() {
            let new = E::__fk(row, fk);
            if old.is_some_and(|(_, o)| E::__fk(o, fk) == new) {
                continue;
            }
            let Some(parent) = new else { continue };
            self.check_target::<E>(t, fk, parent, old.map(|(key, _)| key))?;
        }
        Ok(())
    }

    /// Foreign key `fk` of a record of table `t` may point at `parent`: a live record, and
    /// for an `acyclic` key of an existing record (`key`) not the record or a descendant.
    #[inline(always)]
    fn check_target<E: Entity>(
        &self,
        t: usize,
        fk: usize,
        parent: RawKey,
        key: Option<RawKey>,
    ) -> Result<(), Error> {
        let target = self.schema.inner.tables[t].fk_targets[fk];
        match self.tables[target].state(parent) {
            KeyState::Live => {}
            state => return Err(self.target_error::<E>(fk, target, parent, state)),
        }
        if let (true, Some(key)) = (E::DEF.fks[fk].acyclic, key) {
            if parent == key || self.ancestors_reach(t, fk, parent, key) {
                return Err(Error::Cycle {
                    table: E::DEF.table,
                    column: E::DEF.fk_column(fk),
                    key,
                    parent,
                });
            }
        }
        Ok(())
    }

    /// The error for foreign key `fk` naming `parent` of table `target`, which is not live
    /// (`state`). Out of line: the names are looked up only for an error (the target's is a
    /// virtual call).
    #[cold]
    #[inline(never)]
    fn target_error<E: Entity>(&self, fk: usize, target: usize, parent: RawKey, state: KeyState) -> Error {
        let (table, column, target) = (
            E::DEF.table,
            E::DEF.fk_column(fk),
            self.tables[target].def().table,
        );
        match state {
            KeyState::Stale => Error::DeletedTarget {
                table,
                column,
                target,
                key: parent,
            },
            _ => Error::MissingTarget {
                table,
                column,
                target,
                key: parent,
            },
        }
    }
}

/// Where a new record's `#[relata(id)]` comes from.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum NewId {
    /// The table's next id, whatever the value holds (`insert`).
    Next,
    /// The id the value holds, if it is one (1 or more; the counter goes past it), else the
    /// next (an upsert on the id, a JSON fixture's record: `INSERT` with the id column given).
    Given,
}

/// The error for `row` colliding with `existing` under unique constraint `u`. Its value is
/// copied out as data; the message text is written only if the error is displayed.
pub(crate) fn unique_violation<E: Entity>(
    row: &E::Row,
    text: &TextHeap,
    u: usize,
    existing: RawKey,
) -> Error {
    unique_violation_of::<E>(u, existing, |f| quoted::<E>(row, text, f))
}

/// The error for a record colliding with `existing` under unique constraint `u`, each column
/// quoted by `quote`.
fn unique_violation_of<E: Entity>(u: usize, existing: RawKey, mut quote: impl FnMut(u16) -> Part) -> Error {
    let def = &E::DEF.uniques[u];
    let value = match def.fields {
        [field] => QuotedValue::one(quote(*field)),
        fields => QuotedValue::tuple(fields.iter().map(|&f| quote(f)).collect()),
    };
    Error::UniqueViolation {
        table: E::DEF.table,
        columns: def.columns,
        constraint: def.name,
        value,
        existing,
    }
}

/// A column value as a message quotes it; a key names its table, like `users[1v1]`.
fn quoted<E: Entity>(row: &E::Row, text: &TextHeap, field: u16) -> Part {
    if let Some(shown) = E::__shown(row, text, field as usize) {
        return Part::Whole(shown);
    }
    quoted_value::<E>(E::__value(row, text, field as usize), field)
}

/// Field `field`'s `value` as a message quotes it (a type quoted differently has gone through
/// [`quoted`] first).
fn quoted_value<E: Entity>(value: Value<'_>, field: u16) -> Part {
    match (value, E::DEF.fks.iter().find(|fk| fk.field == field)) {
        (Value::Key(key), Some(fk)) => Part::Ref {
            table: (fk.target)().table,
            key,
        },
        _ => Part::of(value),
    }
}

/// A column value for a message (see [`quoted`]).
pub(crate) fn render<E: Entity>(row: &E::Row, text: &TextHeap, field: u16) -> String {
    quoted::<E>(row, text, field).to_string()
}

/// Every `max_len` text column of `row` (the record `key`, `None` for an insert) is within its
/// limit, counted in characters as PostgreSQL counts them, and every JSON column nests no
/// deeper than [`JSON_DEPTH_LIMIT`]. O(columns), plus the characters of each limited or JSON
/// value.
pub(crate) fn check_lengths<E: Entity>(
    row: &E::Row,
    text: &TextHeap,
    key: Option<RawKey>,
) -> Result<(), Error> {
    check_lengths_of::<E>(key, |f| Some(E::__value(row, text, f))).map(|_| ())
}

/// [`check_lengths`] over the values `value` gives, field by field; `Ok(false)`, checking no
/// further, at a limited field whose value it does not give.
#[inline(always)]
fn check_lengths_of<'a, E: Entity>(
    key: Option<RawKey>,
    value: impl Fn(usize) -> Option<Value<'a>>,
) -> Result<bool, Error> {
    for (f, def) in E::DEF.fields.iter().enumerate() {
        let json = def.sql_type == SqlType::Json;
        if def.max_len.is_none() && !json {
            continue;
        }
        let Some(v) = value(f) else {
            return Ok(false);
        };
        let Value::Text(s) = v else { continue };
        let (table, column) = (E::DEF.table, def.column);
        if let Some(limit) = def.max_len {
            let length = s.chars().count();
            if length > limit as usize {
                return Err(Error::TooLong {
                    table,
                    column,
                    key,
                    limit,
                    length,
                });
            }
        }
        if json && json_depth(s) > JSON_DEPTH_LIMIT {
            let limit = JSON_DEPTH_LIMIT;
            return Err(Error::JsonTooDeep {
                table,
                column,
                key,
                limit,
            });
        }
    }
    Ok(true)
}

/// The deepest nesting of arrays and objects relata stores in a JSON column: `serde_json`,
/// which reads a stored value back, refuses a document nested deeper
/// ([`Error::JsonTooDeep`]).
pub const JSON_DEPTH_LIMIT: usize = 127;

/// How deeply JSON text `s` nests arrays and objects (0 for a scalar); brackets inside strings
/// do not count. O(bytes).
fn json_depth(s: &str) -> usize {
    let (mut depth, mut deepest, mut in_string, mut escaped) = (0usize, 0, false, false);
    for &b in s.as_bytes() {
        match (in_string, b) {
            (true, _) if escaped => escaped = false,
            (true, b'\\') => escaped = true,
            (true, b'"') => in_string = false,
            (false, b'"') => in_string = true,
            (false, b'[' | b'{') => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            (false, b']' | b'}') => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// Under `Engine::Postgres`: no text column of `row` (the record `key`, `None` for an insert)
/// holds a NUL byte, no `JSONB` column the escape `\u0000`, and no `u64` column a value
/// above `i64::MAX` (its DDL type is `BIGINT`): PostgreSQL refuses each before any
/// constraint (22021, 22P05, 22003). O(columns), plus the bytes of each text value. Inlined,
/// as [`check_lengths`] is: out of line, the call given `&row` kept the row in memory and
/// `proposed_row` moved it more on its way out, under every engine
/// (docs/PERFORMANCE.md, "The write path's PostgreSQL value checks, won back").
#[inline(always)]
pub(crate) fn check_postgres_values<E: Entity>(
    row: &E::Row,
    text: &TextHeap,
    key: Option<RawKey>,
) -> Result<(), Error> {
    check_postgres_values_of::<E>(key, |f| Some(E::__value(row, text, f))).map(|_| ())
}

/// Whether field `def` can hold a value PostgreSQL refuses: text, or a `u64` the DDL declares
/// `BIGINT` (an `AsColumn` type over `u64` may declare a type that holds it).
pub(crate) fn refusable(def: &FieldDef) -> bool {
    match def.stored {
        Stored::Text => true,
        Stored::U64 => matches!(def.sql_type, SqlType::Integer),
        _ => false,
    }
}

/// Under `Engine::Postgres`: `id`, the next id a table hands out, is one its identity
/// sequence gives: at most the largest value of the id column's type (`INTEGER` for an `i32`
/// field, else `BIGINT`). O(1).
fn check_sequence<E: Entity>(id: u64) -> Result<(), Error> {
    let Some(def) = E::DEF.id.and_then(|f| E::DEF.fields.get(usize::from(f))) else {
        return Ok(());
    };
    let max = match def.sql_type {
        SqlType::Integer32 => i64::from(i32::MAX),
        _ => i64::MAX,
    };
    match i64::try_from(id) {
        Ok(id) if id <= max => Ok(()),
        _ => Err(Error::IdsExhausted {
            table: E::DEF.table,
            column: def.column,
            max,
        }),
    }
}

/// [`check_postgres_values`] over the values `value` gives; `Ok(false)`, checking no further,
/// at a text or `u64` field whose value it does not give.
#[inline(always)]
fn check_postgres_values_of<'a, E: Entity>(
    key: Option<RawKey>,
    value: impl Fn(usize) -> Option<Value<'a>>,
) -> Result<bool, Error> {
    for (f, def) in E::DEF.fields.iter().enumerate() {
        if !refusable(def) {
            continue;
        }
        let (table, column) = (E::DEF.table, def.column);
        match value(f) {
            None => return Ok(false),
            Some(Value::Text(s)) => check_postgres_text(table, def, key, s)?,
            Some(Value::UInt(v)) if i64::try_from(v).is_err() => {
                return Err(Error::OutOfRange {
                    table,
                    column,
                    key,
                    value: v,
                });
            }
            Some(_) => {}
        }
    }
    Ok(true)
}

/// Under `Engine::Postgres`: text `s` of field `def` (of `table`; the record `key`, `None` for
/// an insert and a query's value) holds nothing PostgreSQL refuses as it binds the parameter:
/// no NUL byte (22021), and in a `JSONB` column no escape `\u0000` (22P05). The one check of
/// text for writes, loads and reads. O(bytes of `s`).
pub(crate) fn check_postgres_text(
    table: &'static str,
    def: &FieldDef,
    key: Option<RawKey>,
    s: &str,
) -> Result<(), Error> {
    let column = def.column;
    if s.as_bytes().contains(&0) {
        return Err(Error::NulInText { table, column, key });
    }
    if def.sql_type == SqlType::Json && has_nul_escape(s) {
        return Err(Error::NulInJson { table, column, key });
    }
    Ok(())
}

/// Whether JSON text `s` holds the escape `\u0000` (not `\\u0000`, a backslash and text):
/// each backslash starts an escape, which the next byte names.
fn has_nul_escape(s: &str) -> bool {
    let mut rest = s.as_bytes();
    while let Some(p) = rest.iter().position(|&b| b == b'\\') {
        let escape = rest.get(p + 1..).unwrap_or_default();
        if escape.starts_with(b"u0000") {
            return true;
        }
        rest = escape.get(1..).unwrap_or_default();
    }
    false
}

/// [`Store::probe_given`] on the table found already (an insert finds it once, with its
/// position).
#[inline(always)]
fn probe_table<E: Entity>(table: &Table<E>, engine: Engine, value: &mut E) -> Result<bool, Error> {
    let found = table.first_given_conflict(engine, value);
    match found {
        Ok(None) => Ok(true),
        Err(NotGiven) => Ok(false),
        Ok(Some((u, existing))) => {
            // A value PostgreSQL refuses before any constraint (as it binds it), or one not
            // given: the row's path reports it, before the CHECK, max_len and unique errors,
            // under its profile. No error of its own here: a second `?` made every refused
            // insert's error dearer to return, under `Engine::Sqlite` too.
            if engine == Engine::Postgres
                && !check_postgres_values_of::<E>(None, |f| value.__given(f)).unwrap_or(false)
            {
                return Ok(false);
            }
            // A value failing a CHECK too: the row's path reports it, quoting the value.
            if value.__check().is_some() {
                return Ok(false);
            }
            match check_lengths_of::<E>(None, |f| value.__given(f))? {
                // The refused value is the insert's to drop: its text moves into the
                // error (no copy); a column with no `String` of its own is quoted.
                true => Err(unique_violation_of::<E>(u, existing, |f| {
                    match value.__take_text(f as usize) {
                        Some(text) => Part::Whole(text),
                        None => quoted_value::<E>(value.__given(f as usize).unwrap_or(Value::Null), f),
                    }
                })),
                false => Ok(false),
            }
        }
    }
}

/// Gives each foreign key of `row` that is new or changed (against `old`) the next link
/// number of `table`, or 0 for NULL. When a key's counter has run out, the counters already
/// moved are set back, so this step fails having moved none. A failure later in the write (a
/// fault, a deferred check at the commit point) and a rollback leave the counters moved, as
/// PostgreSQL leaves a sequence: link numbers only order a parent's children, and a gap in
/// them changes no order and no answer (a snapshot's bytes do show it).
#[inline(always)]
fn number_links<E: Entity>(
    table: &mut Table<E>,
    old: Option<(RawKey, &E::Row)>,
    row: &mut E::Row,
) -> Result<(), Error> {
    for fk in 0..E::DEF.fks.len() {
        let new = E::__fk(row, fk);
        if old.is_none_or(|(_, o)| E::__fk(o, fk) != new) {
            E::__seqs_mut(row)[fk] = match new {
                Some(_) => match table.next_seq(fk) {
                    Ok(seq) => seq,
                    Err(e) => return Err(unnumber_links::<E>(table, old, row, fk, e)),
                },
                None => 0,
            };
        }
    }
    Ok(())
}

/// Sets back the counter of each foreign key before `failed` that [`number_links`] numbered
/// (the link numbers it gave are those counters minus one), and returns `e`.
#[cold]
#[inline(never)]
fn unnumber_links<E: Entity>(
    table: &mut Table<E>,
    old: Option<(RawKey, &E::Row)>,
    row: &E::Row,
    failed: usize,
    e: Error,
) -> Error {
    for fk in 0..failed {
        let new = E::__fk(row, fk);
        if new.is_some() && old.is_none_or(|(_, o)| E::__fk(o, fk) != new) {
            table.unnumber(fk);
        }
    }
    e
}

/// The record in `row` (the record `key`, `None` for an insert) satisfies every CHECK
/// constraint of its entity; else the one `engine` reports ([`reported_check`]).
pub(crate) fn check_predicates<E: Entity>(
    row: &E::Row,
    text: &TextHeap,
    key: Option<RawKey>,
    engine: Engine,
) -> Result<(), Error> {
    let value = E::__from_row(row, text);
    match value.__check() {
        None => Ok(()),
        Some(c) => Err(check_violation::<E>(
            reported_check(&value, c, engine),
            key,
            Some((row, text)),
        )),
    }
}

/// Of the CHECK constraints `value` fails, the first of which is `first` (in declaration
/// order, as SQLite checks them), the one `engine` reports: under `Engine::Postgres` the one
/// whose name sorts first, as PostgreSQL checks them in name order. Only a refused write pays.
#[cold]
fn reported_check<E: Entity>(value: &E, first: usize, engine: Engine) -> usize {
    let name = |c: &usize| E::DEF.checks.get(*c).map(|d| d.name);
    match engine {
        Engine::Postgres => (first..E::DEF.checks.len())
            .filter(|&c| value.__fails(c))
            .min_by_key(name)
            .unwrap_or(first),
        _ => first,
    }
}

/// The error for `value` (the record `key`, `None` for an insert), which fails CHECK `first`,
/// as its engine reports it: made a row in a heap of its own, that row's values PostgreSQL
/// cannot bind (under its profile) and its `max_len` limits come first, as both engines
/// check a column's type before the table's CHECKs; else the violation, quoting the row.
/// The `#[relata(id)]` field is checked only if the write keeps it (`id_given`): otherwise
/// the store assigns it. Only a refused write pays.
#[cold]
#[inline(never)]
fn refused_value<E: Entity>(
    value: E,
    first: usize,
    engine: Engine,
    key: Option<RawKey>,
    id_given: bool,
) -> Error {
    let c = reported_check(&value, first, engine);
    let mut text = TextHeap::default();
    let Ok(row) = value.__into_row(&mut text) else {
        return check_violation::<E>(c, key, None);
    };
    let skipped = E::DEF.id.filter(|_| !id_given).map(usize::from);
    let bound = match engine {
        Engine::Postgres => check_postgres_values_of::<E>(key, |f| match skipped == Some(f) {
            true => Some(Value::Null),
            false => Some(E::__value(&row, &text, f)),
        })
        .map(drop),
        _ => Ok(()),
    };
    match bound.and_then(|()| check_lengths::<E>(&row, &text, key)) {
        Err(e) => e,
        Ok(()) => check_violation::<E>(c, key, Some((&row, &text))),
    }
}

/// The error for a record failing CHECK `c`, quoting from its row the columns the check reads:
/// those its SQL names, or every column for a Rust predicate without SQL.
fn check_violation<E: Entity>(c: usize, key: Option<RawKey>, row: Option<(&E::Row, &TextHeap)>) -> Error {
    let check = E::DEF.checks.get(c);
    let sql = check.and_then(|d| d.sql);
    let values = match row {
        Some((row, text)) => (E::DEF.fields.iter().zip(0u16..))
            .filter(|(f, _)| sql.is_none_or(|sql| names(sql, f.column)))
            .map(|(f, i)| (f.column, QuotedValue::one(quoted::<E>(row, text, i))))
            .collect(),
        None => Vec::new(),
    };
    Error::CheckViolation {
        table: E::DEF.table,
        constraint: check.map_or("?", |d| d.name),
        key,
        values,
    }
}

/// Whether SQL `sql` names `column`: as a word of its own (letters, digits, `_`; quoted or
/// not), outside string literals (every other piece between `'`s is inside one; `''` in a
/// literal gives an empty piece outside).
fn names(sql: &str, column: &str) -> bool {
    sql.split('\'')
        .step_by(2)
        .flat_map(|outside| outside.split(|c: char| !(c.is_alphanumeric() || c == '_')))
        .any(|word| word.eq_ignore_ascii_case(column))
}

#[cfg(test)]
mod tests {
    use super::has_nul_escape;

    #[test]
    fn the_escape_u0000_is_found_only_as_an_escape() {
        for (json, holds) in [
            (r#""\u0000""#, true),
            (r#"{"\u0000":1}"#, true),
            (r#""\\\u0000""#, true), // a backslash, then the escape
            (r#""\\u0000""#, false), // a backslash, then text
            (r#""\\\\u0000""#, false),
            (r#""\u00000""#, true),
            (r#""\u0001\"u0000""#, false),
            (r#""u0000""#, false),
            ("\\", false), // a lone backslash at the end (not JSON): no escape, no panic
            ("\\u000", false),
            ("", false),
        ] {
            assert_eq!(has_nul_escape(json), holds, "{json}");
        }
    }
}
