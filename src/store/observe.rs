//! Fault injection and the operation log: tools for testing the code *around* the store.
//!
//! Both hang off the one write path. A fault fires at the start of a write (the Nth one), at
//! the first primitive change to a table (inside a cascade too: a cascade that deletes a whole
//! list of leaves in one primitive call fires it once, after journalling them all), or at a
//! commit; the failure then behaves like a real one: the statement or transaction is undone
//! and nothing changes.
//! The log, off by default (one branch per operation when off), records each call of a
//! public write or scope operation: its name, table, key and outcome.

use crate::engine::Engine;
use crate::entity::Entity;
use crate::error::Error;
use crate::key::RawKey;
use crate::store::guard::{ScopeUndo, Unwind};
use crate::store::txn::ScopeKind;
use crate::store::Store;

/// Where an injected fault fires; see [`Faults::inject`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FaultPoint {
    /// The `n`th write operation from now (1 = the next), before it changes anything.
    /// `NthWrite(0)` is taken as `NthWrite(1)`, the next write (there is no write before
    /// the next one to fail).
    NthWrite(usize),
    /// The next change to this table, wherever it happens (a cascade included).
    NextWriteTo(&'static str),
    /// The next [`commit`](Store::commit): it fails and rolls the transaction back.
    Commit,
}

impl FaultPoint {
    /// The next change to entity type `E`'s table. O(1).
    ///
    /// ```
    /// # use relata::{Entity, Error, FaultPoint, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct User { name: String }
    /// assert_eq!(FaultPoint::next_write_to::<User>(), FaultPoint::NextWriteTo("users"));
    /// let mut store = Store::new(Schema::builder().entity::<User>().build()?);
    /// store.faults().inject(FaultPoint::next_write_to::<User>(), Error::Unavailable { reason: "down" });
    /// assert!(store.insert(User { name: "ada".into() }).is_err());
    /// assert_eq!(store.count::<User>(), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn next_write_to<E: Entity>() -> FaultPoint {
        FaultPoint::NextWriteTo(E::DEF.table)
    }
}

/// An injected fault that has not fired yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingFault {
    /// Where it fires.
    pub at: FaultPoint,
    /// What it returns.
    pub error: Error,
}

/// One logged call; see [`OpLog::start`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogEntry {
    /// The method called: a write (`insert`, `update`, `replace`, `upsert`, `delete`, `link`,
    /// `link_if_absent`, `unlink`, `unlink_if_present`, `set_parent`, `set_child`,
    /// `replace_children`, `add_child_if_absent`, `remove_child`) or a scope operation
    /// (`begin`, `commit`, `rollback`, `savepoint`, `rollback_to`, `release`, `mark`,
    /// `reset`, `release_mark`). Calls built on these log the ones they make: a JSON fixture
    /// or a factory call opens a `mark` (a `savepoint` inside a transaction) around its
    /// `insert`s (and a JSON fixture's `replace` filling a key to a record further down the
    /// document), and on failure the `reset` (`rollback_to`) that undid them, before the
    /// `release_mark` (`release`) that closes it.
    pub op: &'static str,
    /// The table or relation it addressed (`""` for a scope operation): the child's table
    /// for `set_parent`, `add_child_if_absent` and `remove_child`, the parent's for
    /// `set_child` and `replace_children`, each with that table's key.
    pub table: &'static str,
    /// The record it addressed, of `table` (the new key for a successful insert or upsert).
    pub key: Option<RawKey>,
    /// `Ok` or the error it returned.
    pub outcome: Result<(), Error>,
}

/// Fault injection, a view of a store for tests: see [`Store::faults`].
#[derive(Debug)]
pub struct Faults<'s> {
    pub(crate) store: &'s mut Store,
}

/// The operation log, a view of a store for tests: see [`Store::log`].
#[derive(Debug)]
pub struct OpLog<'s> {
    store: &'s mut Store,
}

impl Store {
    /// Fault injection: make the store fail on purpose ([`Faults::inject`],
    /// [`Faults::run`]), for testing the code around it. O(1).
    ///
    /// ```
    /// # use relata::{Entity, Error, FaultPoint, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct User { #[relata(unique)] name: String }
    /// let mut store = Store::new(Schema::builder().entity::<User>().build()?);
    /// store.faults().inject(FaultPoint::Commit, Error::Unavailable { reason: "down" });
    /// assert_eq!(store.faults().pending().len(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn faults(&mut self) -> Faults<'_> {
        Faults { store: self }
    }

    /// The operation log: each call of a public write or scope operation, with its table,
    /// key and outcome, once [`started`](OpLog::start). It logs calls, refused ones included,
    /// not their lasting effect: a write later undone by `rollback`, `rollback_to` or `reset`
    /// keeps its `Ok` entry, and the entry of the call that undid it follows. O(1).
    ///
    /// ```
    /// # use relata::{Entity, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct User { #[relata(unique)] name: String }
    /// let mut store = Store::new(Schema::builder().entity::<User>().build()?);
    /// store.log().start();
    /// store.insert(User { name: "ada".into() })?;
    /// assert_eq!(store.log().entries().len(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn log(&mut self) -> OpLog<'_> {
        OpLog { store: self }
    }
}

impl<'s> Faults<'s> {
    /// Makes the store fail on purpose at `at`, returning `error` (any variant: a
    /// [`Error::UniqueViolation`], a [`Error::Restricted`], or [`Error::Unavailable`] for
    /// "the database is down"). Faults fire once, in the order injected.
    ///
    /// ```
    /// # use relata::{Entity, Error, FaultPoint, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct User { #[relata(unique)] name: String }
    /// let mut store = Store::new(Schema::builder().entity::<User>().build()?);
    /// store.faults().inject(FaultPoint::NthWrite(2), Error::Unavailable { reason: "disk full" });
    /// store.insert(User { name: "a".into() })?;
    /// assert_eq!(store.insert(User { name: "b".into() }), Err(Error::Unavailable { reason: "disk full" }));
    /// assert_eq!(store.count::<User>(), 1);
    /// assert!(store.faults().pending().is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn inject(self, at: FaultPoint, error: Error) {
        self.store.faults.push(PendingFault { at, error });
    }

    /// Faults injected and not fired yet. O(1). Example at [`clear`](Self::clear).
    pub fn pending(self) -> &'s [PendingFault] {
        &self.store.faults
    }

    /// Removes every pending fault, returning them. O(1).
    ///
    /// ```
    /// # use relata::{Entity, Error, FaultPoint, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct User { name: String }
    /// let mut store = Store::new(Schema::builder().entity::<User>().build()?);
    /// store.faults().inject(FaultPoint::NthWrite(1), Error::Unavailable { reason: "down" });
    /// assert_eq!(store.faults().pending()[0].at, FaultPoint::NthWrite(1));
    /// assert_eq!(store.faults().clear().len(), 1);
    /// assert!(store.faults().pending().is_empty());
    /// store.insert(User { name: "ada".into() })?; // nothing left to fire
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn clear(self) -> Vec<PendingFault> {
        std::mem::take(&mut self.store.faults)
    }

    /// Runs `f` with a fault injected, and reports a fault that never fired instead of
    /// ignoring it: the helper for testing one error path.
    ///
    /// `f` runs in a scope the call owns (a mark, or a savepoint inside a transaction): if `f`
    /// panics, everything it did is undone and the pending faults are as before the call.
    /// Inside `f`, a `reset` or `rollback_to` that would end that scope is refused with
    /// [`Error::EndsEnclosingScope`]. Cost: O(tables) on top of `f`.
    ///
    /// # Errors
    /// [`Error::FaultNotTriggered`] if `f` never reached the fault (which is then removed):
    /// what `f` did is undone (as when it panics), so a test cannot go on from a state the
    /// failure path it meant to test never produced. `f`'s own return value is dropped.
    ///
    /// ```
    /// # use relata::{Entity, Error, FaultPoint, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct User { #[relata(unique)] name: String }
    /// let mut store = Store::new(Schema::builder().entity::<User>().build()?);
    /// let down = Error::Unavailable { reason: "down" };
    /// let out = store.faults().run(FaultPoint::NthWrite(1), down.clone(), |s| {
    ///     s.insert(User { name: "a".into() })
    /// })?;
    /// assert_eq!(out, Err(down.clone()));
    /// let never = store.faults().run(FaultPoint::Commit, down, |_| ());
    /// assert!(matches!(never, Err(Error::FaultNotTriggered { .. })));
    /// let far = store.faults().run(FaultPoint::NthWrite(5), Error::Unavailable { reason: "down" }, |s| {
    ///     s.insert(User { name: "b".into() })
    /// });
    /// assert!(matches!(far, Err(Error::FaultNotTriggered { .. })));
    /// assert_eq!(store.count::<User>(), 0);            // the insert was undone
    /// assert!(store.faults().pending().is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn run<R>(self, at: FaultPoint, error: Error, f: impl FnOnce(&mut Store) -> R) -> Result<R, Error> {
        let store = self.store;
        store.refuse_if_aborted()?;
        let saved = store.faults.clone();
        let before = store.faults.len();
        store.faults.push(PendingFault {
            at: at.clone(),
            error,
        });
        let kind = match store.in_transaction() {
            true => ScopeKind::Savepoint,
            false => ScopeKind::Mark,
        };
        let id = store.open_held(kind);
        let faults = Some(saved);
        let mut guard = Unwind::new(store, ScopeUndo { id, faults });
        let out = f(&mut *guard.store);
        guard.disarm();
        let s = &mut *guard.store;
        if s.faults.len() > before {
            // `Err` means nothing `f` did stayed: its changes are in the journal since the
            // scope the call opened.
            s.faults.truncate(before);
            s.abandon_scope(id);
            return Err(Error::FaultNotTriggered {
                fault: format!("{at:?}"),
            });
        }
        s.close_held(id);
        Ok(out)
    }
}

impl Store {
    /// `true` when no fault is pending and the transaction (if any) is not aborted: a
    /// statement then has nothing to do before it starts. Both tested at once (`&`, not
    /// `&&`): one branch on every write.
    #[inline(always)]
    pub(crate) fn quiet(&self) -> bool {
        self.faults.is_empty() & self.aborted.is_none()
    }

    /// What a top-level statement does first when the store is not [`quiet`](Self::quiet):
    /// refuse it in an aborted transaction, else fire a due `NthWrite` fault.
    #[cold]
    #[inline(never)]
    pub(crate) fn before_statement(&mut self) -> Result<(), Error> {
        self.refuse_if_aborted()?;
        self.fire_write_fault()
    }

    /// Fires a pending `NthWrite` fault that is due, counting this write.
    pub(crate) fn fire_write_fault(&mut self) -> Result<(), Error> {
        let mut due = None;
        for (i, f) in self.faults.iter_mut().enumerate() {
            if let FaultPoint::NthWrite(n) = &mut f.at {
                *n = n.saturating_sub(1);
                if *n == 0 && due.is_none() {
                    due = Some(i);
                }
            }
        }
        match due {
            Some(i) => Err(self.faults.remove(i).error),
            None => Ok(()),
        }
    }

    /// Out of line: [`record`](Self::record) calls it only when a fault is pending.
    #[inline(never)]
    pub(crate) fn fire_table_fault(&mut self, t: usize) -> Result<(), Error> {
        if self.faults.is_empty() {
            return Ok(());
        }
        let table = self.tables[t].def().table;
        let due = self
            .faults
            .iter()
            .position(|f| f.at == FaultPoint::NextWriteTo(table));
        match due {
            Some(i) => Err(self.faults.remove(i).error),
            None => Ok(()),
        }
    }

    pub(crate) fn fire_commit_fault(&mut self) -> Result<(), Error> {
        match self.faults.iter().position(|f| f.at == FaultPoint::Commit) {
            Some(i) => Err(self.faults.remove(i).error),
            None => Ok(()),
        }
    }
}

impl<'s> OpLog<'s> {
    /// Starts recording operations (clearing an earlier log). O(1).
    ///
    /// ```
    /// # use relata::{Entity, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct User { #[relata(unique)] name: String }
    /// let mut store = Store::new(Schema::builder().entity::<User>().build()?);
    /// store.log().start();
    /// let ada = store.insert(User { name: "ada".into() })?;
    /// let _ = store.insert(User { name: "ada".into() });       // refused: logged too
    /// let log = store.log().stop();
    /// assert_eq!(log.len(), 2);
    /// assert_eq!((log[0].op, log[0].table, log[0].key), ("insert", "users", Some(ada.raw())));
    /// assert!(log[1].outcome.is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn start(self) {
        self.store.log = Some(Vec::new());
    }

    /// Stops recording and returns the log. O(1). Example at [`start`](Self::start).
    pub fn stop(self) -> Vec<LogEntry> {
        self.store.log.take().unwrap_or_default()
    }

    /// The operations recorded so far (empty when the log is off). O(1). Example at
    /// [`Store::log`].
    pub fn entries(self) -> &'s [LogEntry] {
        self.store.log.as_deref().unwrap_or_default()
    }
}

impl Store {
    /// Records an operation when the log is on; passes the result through. Inline, and the
    /// result is taken apart and rebuilt rather than passed through whole: passing
    /// `Result<(), Error>` through copied the whole `Error`'s bytes (about 100) on every
    /// successful write; rebuilt, `Ok(())` is its tag alone. The entry is made out of line.
    #[inline(always)]
    pub(crate) fn logged<R>(
        &mut self,
        op: &'static str,
        table: &'static str,
        key: Option<RawKey>,
        result: Result<R, Error>,
        key_of: impl FnOnce(&R) -> Option<RawKey>,
    ) -> Result<R, Error> {
        match result {
            Ok(r) => {
                if self.log.is_some() {
                    self.log_entry(op, table, key_of(&r).or(key), Ok(()));
                }
                Ok(r)
            }
            Err(e) => {
                if self.log.is_some() {
                    self.log_entry(op, table, key, Err(&e));
                }
                // Only PostgreSQL aborts a transaction on an error: under SQLite a refused
                // write pays one comparison here.
                if self.engine == Engine::Postgres {
                    self.statement_failed(op, table, &e);
                }
                Err(e)
            }
        }
    }

    /// Appends one entry to the log, if it is on.
    #[cold]
    #[inline(never)]
    fn log_entry(
        &mut self,
        op: &'static str,
        table: &'static str,
        key: Option<RawKey>,
        outcome: Result<(), &Error>,
    ) {
        if let Some(log) = &mut self.log {
            log.push(LogEntry {
                op,
                table,
                key,
                outcome: outcome.map_err(Clone::clone),
            });
        }
    }
}
