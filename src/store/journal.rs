//! The journal: the one write path.
//!
//! Every mutation of ground truth is one of a few primitive changes (insert, delete, update of a
//! record, a key moved between parents, a link added or removed, an id counter moved), applied
//! by a table and recorded here. Undoing a change applies its inverse through
//! the same table code, so derived state is restored by the same functions that built it; the
//! one exception is an undone move, which puts the child back at the list position the entry
//! stored (`insert_at`) instead of searching for it by link number.
//! Statements (every public mutating call), and later transactions, savepoints and fixture
//! marks, are positions in this log: failing rolls back to the position, succeeding at the
//! outermost level finalizes (frees deleted rows, reclaims text).

use hashbrown::HashMap;

use crate::diff::{Before, BeforeRow, FirstChanges};
use crate::error::Error;
use crate::key::RawKey;
use crate::store::guard::StatementGuard;
use crate::store::Store;

/// One primitive change, with enough to undo it (old rows live in the table's undo stack).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Change {
    Inserted {
        table: usize,
        key: RawKey,
    },
    Deleted {
        table: usize,
        key: RawKey,
    },
    Updated {
        table: usize,
        key: RawKey,
    },
    Linked {
        relation: usize,
        left: RawKey,
        right: RawKey,
    },
    Unlinked {
        relation: usize,
        left: RawKey,
        right: RawKey,
        seq: u32,
    },
    /// Foreign key `fk` of a live record moved from parent `from`, where it had link number
    /// `seq` and position `at` in `from`'s children list, to another parent; nothing else of
    /// the row changed and no index but the children lists covers the key
    /// (`Table::moves_alone`). No old row is kept: undo puts the key, the link number and
    /// the list position back. (`table` and `fk` are narrow so a change stays 32 bytes.)
    Moved {
        table: u32,
        fk: u16,
        key: RawKey,
        from: RawKey,
        seq: u32,
        at: u32,
    },
    /// A table's id counter moved from `old` (`#[relata(id)]`).
    IdCounter {
        table: usize,
        old: u64,
    },
}

impl Change {
    /// The table whose undo stack the change pushed an old row onto (a delete or an update),
    /// which finalizing frees: a committed insert keeps no old row and makes no garbage text,
    /// so a journal of inserts has nothing to finalize. (An undone insert does make garbage:
    /// [`Store::abandon_statement`] finalizes what it undoes.)
    fn undo_table(self) -> Option<usize> {
        match self {
            Change::Deleted { table, .. } | Change::Updated { table, .. } => Some(table),
            _ => None,
        }
    }

    /// The table whose undo stack the change uses, if any.
    fn table(self) -> Option<usize> {
        match self {
            Change::Inserted { table, .. }
            | Change::Deleted { table, .. }
            | Change::Updated { table, .. } => Some(table),
            Change::Moved { table, .. } => Some(table as usize),
            Change::Linked { .. } | Change::Unlinked { .. } | Change::IdCounter { .. } => None,
        }
    }
}

impl Store {
    /// Journals an applied primitive change; an injected fault on its table fires here, after
    /// the change is journalled, so the statement's undo removes it like a real failure.
    /// Inline: every write calls it, and with no fault injected it is a push and a test.
    #[inline]
    pub(crate) fn record(&mut self, change: Change) -> Result<(), Error> {
        self.journal.push(change);
        match change.table() {
            Some(t) if !self.faults.is_empty() => self.fire_table_fault(t),
            _ => Ok(()),
        }
    }

    /// Journals the deletes of `keys` of table `t`, applied in this order by one primitive
    /// call (`Table::p_delete_list`); an injected fault on the table fires once, after them
    /// all (the statement's undo removes them all alike).
    pub(crate) fn record_deletes(
        &mut self,
        t: usize,
        keys: impl Iterator<Item = RawKey>,
    ) -> Result<(), Error> {
        let before = self.journal.len();
        (self.journal).extend(keys.map(|key| Change::Deleted { table: t, key }));
        match self.journal.len() > before && !self.faults.is_empty() {
            true => self.fire_table_fault(t),
            false => Ok(()),
        }
    }

    /// For the diff: each record and pair touched after journal position `start`, with where
    /// its earlier state lives. O(journal): the entries before `start` are read to place each
    /// table's old rows in its undo stack.
    pub(crate) fn first_changes(&self, start: usize) -> FirstChanges {
        let mut undo_pos = vec![0usize; self.tables.len()];
        let mut records = HashMap::new();
        let mut pairs = HashMap::new();
        for (i, change) in self.journal.iter().enumerate() {
            let counted = i >= start;
            match *change {
                Change::Inserted { table, key } if counted => {
                    records.entry((table, key)).or_insert(Before {
                        row: BeforeRow::Absent,
                        parents: Vec::new(),
                    });
                }
                Change::Deleted { table, key } | Change::Updated { table, key } => {
                    let pos = undo_pos[table];
                    undo_pos[table] += 1;
                    if counted {
                        let before = records.entry((table, key)).or_insert(Before {
                            row: BeforeRow::Now,
                            parents: Vec::new(),
                        });
                        // The first old row kept (only moves came before it).
                        if before.row == BeforeRow::Now {
                            before.row = BeforeRow::Undo(pos);
                        }
                    }
                }
                Change::Moved {
                    table, fk, key, from, ..
                } if counted => {
                    let before = records.entry((table as usize, key)).or_insert(Before {
                        row: BeforeRow::Now,
                        parents: Vec::new(),
                    });
                    // Before any old row: the key's first parent is the one to put back.
                    let fk = usize::from(fk);
                    if before.row == BeforeRow::Now && before.parents.iter().all(|&(f, _)| f != fk) {
                        before.parents.push((fk, from));
                    }
                }
                Change::Linked {
                    relation,
                    left,
                    right,
                } if counted => {
                    pairs.entry((relation, left, right)).or_insert(false);
                }
                Change::Unlinked {
                    relation,
                    left,
                    right,
                    ..
                } if counted => {
                    pairs.entry((relation, left, right)).or_insert(true);
                }
                _ => {}
            }
        }
        (records, pairs)
    }

    /// Applies the inverse of every change after `mark`, newest first.
    pub(crate) fn undo_to(&mut self, mark: usize) {
        while self.journal.len() > mark {
            let Some(change) = self.journal.pop() else { break };
            match change {
                Change::Inserted { table, key } => self.tables[table].undo_insert(key),
                Change::Deleted { table, key } => self.tables[table].undo_delete(key),
                Change::Updated { table, key } => self.tables[table].undo_update(key),
                Change::Moved {
                    table,
                    fk,
                    key,
                    from,
                    seq,
                    at,
                } => self.tables[table as usize].undo_move(key, fk.into(), from, seq, at),
                Change::Linked {
                    relation,
                    left,
                    right,
                } => {
                    self.relations[relation].remove(left, right);
                }
                Change::Unlinked {
                    relation,
                    left,
                    right,
                    seq,
                } => {
                    self.relations[relation].insert(left, right, seq);
                }
                Change::IdCounter { table, old } => self.tables[table].set_next_id(old),
            }
        }
    }

    /// Runs one statement atomically: on error, or if `f` panics, every change it made is
    /// undone (the guard's drop). Outside a transaction the statement's end is a commit point
    /// (orphans swept, deferred constraints checked); with no scope open the journal is then
    /// finalized.
    pub(crate) fn statement<R>(
        &mut self,
        f: impl FnOnce(&mut Store) -> Result<R, Error>,
    ) -> Result<R, Error> {
        let journal = self.journal.len();
        let orphans = self.orphans.len();
        // One test for both rare cases: a fault pending, an aborted transaction.
        if self.depth == 0 && !self.quiet() {
            self.before_statement()?;
        }
        let depth = self.depth;
        let mut guard = StatementGuard::new(self, journal, orphans, depth);
        let s = &mut *guard.store;
        s.depth += 1;
        let mut out = f(s);
        if out.is_ok() && s.depth == 1 && !s.in_transaction() {
            if let Err(e) = s.commit_point(journal) {
                out = Err(e);
            }
        }
        s.depth -= 1;
        let r = out?; // on error the guard undoes the statement
        guard.disarm();
        let s = &mut *guard.store;
        if s.depth == 0 && s.scopes.is_empty() {
            s.finalize_journal();
        }
        Ok(r)
    }

    /// Undoes a statement that failed or whose user code panicked: back to its journal and
    /// orphan-queue positions and its nesting depth.
    ///
    /// An undone insert or update leaves its text as garbage in the table's heap (the heap is
    /// append-only while the journal is open). When the undo empties the journal (no scope
    /// open), the tables it touched are finalized here, which compacts a heap that wants it:
    /// a journal of inserts never finalizes its tables, so without this a table that only
    /// ever receives inserts would keep the garbage of every failed one.
    #[cold]
    #[inline(never)]
    pub(crate) fn abandon_statement(&mut self, journal: usize, orphans: usize, depth: u32) {
        self.orphans.truncate(orphans);
        self.depth = depth;
        if self.journal.len() > journal {
            self.undo_statement(journal);
        }
    }

    /// Undoes the journal back to `journal` and, if that empties it with no scope open,
    /// finalizes the tables whose changes it undid (see [`abandon_statement`]). Out of line:
    /// a statement refused before it changed anything (a unique violation) never gets here.
    ///
    /// [`abandon_statement`]: Self::abandon_statement
    #[inline(never)]
    fn undo_statement(&mut self, journal: usize) {
        // Inside a transaction or a mark the journal stays open: nothing is finalized.
        if journal > 0 || self.depth > 0 || !self.scopes.is_empty() {
            self.undo_to(journal);
            return;
        }
        let mut touched: Vec<usize> = self.journal.iter().filter_map(|change| change.table()).collect();
        self.undo_to(0);
        touched.sort_unstable();
        touched.dedup();
        for t in touched {
            self.tables[t].finalize();
        }
    }

    /// An autocommit statement's commit point: sweep orphans, then check deferred constraints
    /// over the changes since `start`, reporting the first violation. With no orphan queued
    /// and no deferred constraint in the schema (most single writes) there is nothing to do,
    /// and that is decided here, inline, before any call.
    #[inline]
    fn commit_point(&mut self, start: usize) -> Result<(), Error> {
        if self.orphans.is_empty() && !self.schema.inner.has_deferred {
            return Ok(());
        }
        self.commit_point_checks(start)
    }

    /// The commit point's work (see [`commit_point`](Self::commit_point)).
    #[inline(never)]
    fn commit_point_checks(&mut self, start: usize) -> Result<(), Error> {
        self.sweep_orphans()?;
        match self.deferred_violations(start).into_iter().next() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Makes the journal's changes permanent: no undo is possible past this point.
    pub(crate) fn finalize_journal(&mut self) {
        // Finalizing a table twice is harmless; skipping consecutive repeats avoids most of it
        // without allocating.
        let mut last = None;
        for i in 0..self.journal.len() {
            let t = self.journal[i].undo_table();
            if t.is_some() && t != last {
                if let Some(t) = t {
                    self.tables[t].finalize();
                }
                last = t;
            }
        }
        self.journal.clear();
        debug_assert!(self.journal.is_empty());
    }
}

#[cfg(test)]
mod tests {
    use crate::{Entity, Error, FaultPoint, Schema, Store};

    #[derive(Entity, Clone, Debug, PartialEq)]
    struct Doc {
        body: String,
    }

    /// A journal entry stays 32 bytes with the move's narrow fields.
    #[test]
    fn a_change_is_32_bytes() {
        assert_eq!(std::mem::size_of::<super::Change>(), 32);
    }

    /// Failed autocommitted inserts into a table that only ever receives inserts: their
    /// text is reclaimed, not kept until some later update or delete reaches the table.
    #[test]
    fn the_text_of_undone_inserts_is_reclaimed_without_an_update_or_delete() {
        let mut s = Store::new(Schema::builder().entity::<Doc>().build().unwrap());
        let body = "x".repeat(4096);
        s.insert(Doc { body: body.clone() }).unwrap();
        for _ in 0..64 {
            s.faults().inject(
                FaultPoint::next_write_to::<Doc>(),
                Error::Unavailable { reason: "test" },
            );
            let failed = s.insert(Doc { body: body.clone() });
            assert_eq!(failed, Err(Error::Unavailable { reason: "test" }));
            s.insert(Doc { body: "y".into() }).unwrap();
        }
        s.check_integrity().unwrap();
        // One live 4 KiB body and 64 one-byte ones; 64 undone bodies would be 256 KiB more.
        let heap = s.tables[0].text_len();
        assert!(heap < 16 * 4096, "heap holds {heap} bytes");
    }
}
