//! Transactions, savepoints and fixture marks: each is a scope, a position in the one journal.
//!
//! - A **transaction** groups statements; `commit` is its commit point (orphans swept, deferred
//!   constraints checked against the final state); `rollback` undoes it.
//! - A **savepoint** is a nested position inside a transaction.
//! - A **fixture mark** is a position outside any transaction that is never committed:
//!   [`Store::reset`] returns to it in time proportional to the changes since.
//!
//! Outside a transaction every statement is its own commit point. The journal is finalized
//! (deleted rows freed, text reclaimed) only when no scope is open.

use crate::error::Error;
use crate::store::Store;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ScopeKind {
    Transaction,
    Savepoint,
    Mark,
}

/// A position to return to.
#[derive(Clone, Debug)]
pub(crate) struct Scope {
    pub(crate) kind: ScopeKind,
    pub(crate) id: u64,
    pub(crate) journal: usize,
    pub(crate) orphans: usize,
    /// Each table's text-heap length when the scope opened (truncated back on rollback).
    pub(crate) text: Vec<usize>,
}

/// A savepoint inside a transaction; see [`Store::savepoint`].
#[derive(Debug, PartialEq, Eq)]
#[must_use = "a savepoint is released or rolled back to"]
pub struct Savepoint {
    id: u64,
}

/// A fixture mark; see [`Store::mark`].
#[derive(Debug, PartialEq, Eq)]
pub struct Mark {
    id: u64,
}

impl Store {
    /// `true` while a transaction is open.
    pub fn in_transaction(&self) -> bool {
        self.scopes.iter().any(|s| s.kind == ScopeKind::Transaction)
    }

    fn open_scope(&mut self, kind: ScopeKind) -> u64 {
        // Unique across stores (forks share their original's scopes, on purpose).
        static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let id = NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let text = self.tables.iter().map(|t| t.text_len()).collect();
        let scope = Scope {
            kind,
            id,
            journal: self.journal.len(),
            orphans: self.orphans.len(),
            text,
        };
        self.scopes.push(scope);
        id
    }

    fn scope_position(&self, kind: ScopeKind, id: Option<u64>) -> Option<usize> {
        self.scopes
            .iter()
            .rposition(|s| s.kind == kind && id.is_none_or(|id| s.id == id))
    }

    /// Undoes everything after scope `at` (which stays open); scopes above it close.
    fn rollback_within(&mut self, at: usize) -> usize {
        let scope = self.scopes[at].clone();
        let undone = self.journal.len() - scope.journal;
        self.undo_to(scope.journal);
        self.orphans.truncate(scope.orphans);
        for (table, len) in self.tables.iter_mut().zip(&scope.text) {
            table.truncate_text(*len);
        }
        self.scopes.truncate(at + 1);
        undone
    }

    /// Closes scope `at` and the scopes above it, keeping their changes.
    pub(crate) fn close_from(&mut self, at: usize) {
        self.scopes.truncate(at);
        if self.scopes.is_empty() {
            self.finalize_journal();
        }
    }

    /// Starts a transaction. Reads inside it see its writes; a failed operation inside it
    /// changes nothing and leaves it usable.
    ///
    /// # Errors
    /// [`Error::TransactionOpen`] if one is already open (use a [`savepoint`](Self::savepoint)).
    ///
    /// ```
    /// # use relata::{Entity, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct User { #[relata(unique)] name: String }
    /// let mut store = Store::new(Schema::builder().entity::<User>().build()?);
    /// store.begin()?;
    /// let k = store.insert(User { name: "alice".into() })?;
    /// assert!(store.insert(User { name: "alice".into() }).is_err()); // the transaction goes on
    /// store.rollback()?;
    /// assert!(store.get(k).is_none());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn begin(&mut self) -> Result<(), Error> {
        let result = if self.in_transaction() {
            Err(Error::TransactionOpen)
        } else {
            self.open_scope(ScopeKind::Transaction);
            Ok(())
        };
        self.logged("begin", "", None, result, |_| None)
    }

    /// Commits the open transaction: deletes its orphans, then checks every deferred
    /// constraint against the final state.
    ///
    /// # Errors
    /// [`Error::NoTransaction`]; [`Error::CommitFailed`] listing every violation, after which
    /// the store is exactly as before [`begin`](Self::begin) and the transaction is closed.
    pub fn commit(&mut self) -> Result<(), Error> {
        let result = self.commit_inner();
        self.logged("commit", "", None, result, |_| None)
    }

    fn commit_inner(&mut self) -> Result<(), Error> {
        let at = self
            .scope_position(ScopeKind::Transaction, None)
            .ok_or(Error::NoTransaction)?;
        if let Err(injected) = self.fire_commit_fault() {
            self.rollback_within(at);
            self.close_from(at);
            return Err(injected);
        }
        let start = self.scopes[at].journal;
        let mut violations = Vec::new();
        self.depth += 1;
        if let Err(e) = self.sweep_orphans() {
            violations.push(e);
        }
        self.depth -= 1;
        violations.extend(self.deferred_violations(start));
        if violations.is_empty() {
            self.close_from(at);
            return Ok(());
        }
        self.rollback_within(at);
        self.close_from(at);
        Err(Error::CommitFailed { violations })
    }

    /// Rolls the open transaction back: records, links, indexes and children order are
    /// exactly as before [`begin`](Self::begin); keys handed out inside it are stale.
    ///
    /// # Errors
    /// [`Error::NoTransaction`].
    pub fn rollback(&mut self) -> Result<(), Error> {
        let result = match self.scope_position(ScopeKind::Transaction, None) {
            Some(at) => {
                self.rollback_within(at);
                self.close_from(at);
                Ok(())
            }
            None => Err(Error::NoTransaction),
        };
        self.logged("rollback", "", None, result, |_| None)
    }

    /// Runs `f` in a transaction: commit on `Ok`, roll back on `Err`. Inside an open
    /// transaction it runs in a savepoint instead, so calls nest.
    ///
    /// # Errors
    /// `f`'s error, or the commit's ([`Error::CommitFailed`]) converted into `E`.
    pub fn transaction<R, E: From<Error>>(
        &mut self,
        f: impl FnOnce(&mut Store) -> Result<R, E>,
    ) -> Result<R, E> {
        if self.in_transaction() {
            let sp = self.savepoint()?;
            let out = f(self);
            if out.is_err() {
                self.rollback_to(&sp)?;
            }
            self.release(sp)?;
            return out;
        }
        self.begin()?;
        match f(self) {
            Ok(r) => self.commit().map(|()| r).map_err(E::from),
            Err(e) => {
                self.rollback()?;
                Err(e)
            }
        }
    }

    /// Opens a savepoint inside the open transaction.
    ///
    /// # Errors
    /// [`Error::NoTransaction`].
    pub fn savepoint(&mut self) -> Result<Savepoint, Error> {
        if !self.in_transaction() {
            return Err(Error::NoTransaction);
        }
        Ok(Savepoint {
            id: self.open_scope(ScopeKind::Savepoint),
        })
    }

    /// Undoes everything since `sp`; `sp` stays open, savepoints opened after it close.
    ///
    /// # Errors
    /// [`Error::UnknownSavepoint`] if `sp` was released or rolled past.
    pub fn rollback_to(&mut self, sp: &Savepoint) -> Result<(), Error> {
        let at = self
            .scope_position(ScopeKind::Savepoint, Some(sp.id))
            .ok_or(Error::UnknownSavepoint)?;
        self.rollback_within(at);
        Ok(())
    }

    /// Forgets `sp`, keeping its changes in the enclosing transaction.
    ///
    /// # Errors
    /// [`Error::UnknownSavepoint`] if `sp` was released or rolled past.
    pub fn release(&mut self, sp: Savepoint) -> Result<(), Error> {
        let at = self
            .scope_position(ScopeKind::Savepoint, Some(sp.id))
            .ok_or(Error::UnknownSavepoint)?;
        self.scopes.truncate(at);
        Ok(())
    }

    /// Marks the current state as a fixture to return to with [`reset`](Self::reset).
    ///
    /// While a mark is open every change is kept for undo (memory grows with the changes);
    /// statements still check their constraints as usual. Cost: O(tables).
    ///
    /// # Errors
    /// [`Error::TransactionOpen`] inside a transaction.
    ///
    /// ```
    /// # use relata::{Entity, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct User { #[relata(unique)] name: String }
    /// let mut fixture = Store::new(Schema::builder().entity::<User>().build()?);
    /// fixture.insert(User { name: "alice".into() })?;
    /// let mark = fixture.mark()?;
    /// for test in 0..3 {
    ///     fixture.insert(User { name: format!("user {test}") })?;   // the test's changes
    ///     fixture.reset(&mark)?;                                      // O(changes)
    ///     assert_eq!(fixture.count::<User>(), 1);
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn mark(&mut self) -> Result<Mark, Error> {
        if self.in_transaction() {
            return Err(Error::TransactionOpen);
        }
        Ok(Mark {
            id: self.open_scope(ScopeKind::Mark),
        })
    }

    /// Returns to `mark`: every change since (including an open transaction's) is undone, in
    /// time proportional to the number of changes. The mark stays, for the next test.
    /// Returns how many primitive changes were undone.
    ///
    /// # Errors
    /// [`Error::UnknownMark`] if the mark was released or belongs to another store.
    pub fn reset(&mut self, mark: &Mark) -> Result<usize, Error> {
        let at = self
            .scope_position(ScopeKind::Mark, Some(mark.id))
            .ok_or(Error::UnknownMark)?;
        Ok(self.rollback_within(at))
    }

    /// The journal position of an open mark.
    pub(crate) fn mark_position(&self, mark: &Mark) -> Option<usize> {
        self.scope_position(ScopeKind::Mark, Some(mark.id))
            .map(|at| self.scopes[at].journal)
    }

    /// Keeps every change since `mark` and forgets it (and any mark opened after it).
    ///
    /// # Errors
    /// [`Error::UnknownMark`], or [`Error::TransactionOpen`] inside a transaction.
    pub fn release_mark(&mut self, mark: Mark) -> Result<(), Error> {
        if self.in_transaction() {
            return Err(Error::TransactionOpen);
        }
        let at = self
            .scope_position(ScopeKind::Mark, Some(mark.id))
            .ok_or(Error::UnknownMark)?;
        self.close_from(at);
        Ok(())
    }

    /// An independent copy of the whole store, open scopes included (a fork of a marked
    /// fixture can be reset on its own). O(records): arenas and indexes are copied as a few
    /// large buffers per table (for a store of 64k records or more, the tables in two groups
    /// on two threads), and text is not copied at all: both stores share what was written
    /// before the fork (immutable, reference-counted) and each appends its later writes apart. For tests running in
    /// parallel threads, fork one fixture per thread; see the crate docs.
    pub fn fork(&self) -> Store {
        self.clone()
    }
}
