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

use crate::clock::Clock;
use crate::engine::Engine;
use crate::error::Error;
use crate::store::guard::{ScopeUndo, Unwind};
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
    /// The store's clock when the scope opened, and its reading then: a reset to a mark gives
    /// the store that clock back (a `set_clock` since is undone), set back to that time.
    pub(crate) clock: (Clock, i64),
    /// Owned by a running call (a `transaction` or `faults().run` closure, a fixture scope):
    /// nothing else may end it. A fork's copy is not held.
    pub(crate) held: bool,
}

/// The failure that aborted the open transaction under `Engine::Postgres` (PostgreSQL's
/// 25P02 state), and where: a rollback to a scope open when it happened ends the state.
#[derive(Clone, Debug)]
pub(crate) struct Aborted {
    /// The innermost scope open when the statement failed. Scope ids grow as scopes open, so
    /// an open scope whose id is at most this one was open then, and rolling back to it
    /// undoes past the failure.
    scope: u64,
    statement: &'static str,
    table: &'static str,
    cause: Error,
}

impl Aborted {
    /// The error every refused statement returns.
    fn error(&self) -> Error {
        Error::TransactionAborted {
            statement: self.statement,
            table: self.table,
            cause: Box::new(self.cause.clone()),
        }
    }
}

/// A savepoint inside a transaction; see [`Store::savepoint`]. Every call takes it by
/// reference, [`Store::release`] too: a refused release leaves it usable, and a released one
/// answers [`Error::UnknownSavepoint`].
#[derive(Debug, PartialEq, Eq)]
#[must_use = "a savepoint stays open until released, rolled back past or the transaction ends: dropping the handle does not close it, and the transaction's changes cannot be rolled back to it"]
pub struct Savepoint {
    id: u64,
}

/// A fixture mark; see [`Store::mark`]. Every call takes it by reference,
/// [`Store::release_mark`] too: a refused release leaves it usable, and a released one
/// answers [`Error::UnknownMark`].
#[derive(Debug, PartialEq, Eq)]
#[must_use = "a mark stays open until released with Store::release_mark: dropping the handle does not close it, and while it is open every change is kept for undo (memory grows with the store's life)"]
pub struct Mark {
    id: u64,
}

/// A fixture scope: a [`Mark`] that resets itself. While it lives it lends the store (it
/// derefs to [`Store`]); when it is dropped, at the end of the test or while a panic unwinds
/// through it, every change since [`Store::scope`] is undone and the mark released, so a
/// failing test cannot leave a shared fixture dirty. See [`Store::scope`].
///
/// A change is what the store's methods do. Replacing the whole store through the scope
/// (`*store = Store::new(..)`) is not one: the fixture it guarded is dropped, no scope can
/// bring it back, and the fixture keeps the replacement. Reset contents with the store's
/// methods, never by assignment.
#[derive(Debug)]
#[must_use = "the scope resets the store when dropped: bind it (`let mut store = fixture.scope()?;`)"]
pub struct FixtureScope<'s> {
    store: &'s mut Store,
    mark: Mark,
}

impl FixtureScope<'_> {
    /// The scope's mark, for [`Store::changes_since`] (what the test changed so far). O(1).
    ///
    /// ```
    /// # use relata::{Entity, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct User { name: String }
    /// let mut fixture = Store::new(Schema::builder().entity::<User>().build()?);
    /// let mut store = fixture.scope()?;
    /// store.insert(User { name: "ada".into() })?;
    /// assert_eq!(store.changes_since(store.mark())?.counts(), [("users", 1, 0, 0)]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn mark(&self) -> &Mark {
        &self.mark
    }
}

impl std::ops::Deref for FixtureScope<'_> {
    type Target = Store;
    fn deref(&self) -> &Store {
        self.store
    }
}

impl std::ops::DerefMut for FixtureScope<'_> {
    fn deref_mut(&mut self) -> &mut Store {
        self.store
    }
}

impl Drop for FixtureScope<'_> {
    fn drop(&mut self) {
        self.store.abandon_scope(self.mark.id);
    }
}

impl Store {
    /// `true` while a transaction is open. O(open scopes).
    ///
    /// ```
    /// # use relata::{Entity, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct User { #[relata(unique)] name: String }
    /// let mut store = Store::new(Schema::builder().entity::<User>().build()?);
    /// assert!(!store.in_transaction());
    /// store.begin()?;
    /// assert!(store.in_transaction());
    /// store.commit()?;
    /// assert!(!store.in_transaction());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
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
            clock: (self.clock.clone(), self.clock.unix_micros()),
            held: false,
        };
        self.scopes.push(scope);
        id
    }

    fn scope_position(&self, kind: ScopeKind, id: Option<u64>) -> Option<usize> {
        self.scopes
            .iter()
            .rposition(|s| s.kind == kind && id.is_none_or(|id| s.id == id))
    }

    /// Refuses what PostgreSQL refuses in an aborted transaction. O(1).
    #[inline]
    pub(crate) fn refuse_if_aborted(&self) -> Result<(), Error> {
        match &self.aborted {
            None => Ok(()),
            Some(aborted) => Err(aborted.error()),
        }
    }

    /// A public operation returned `error` (called under `Engine::Postgres` only). Inside a
    /// transaction not aborted yet, an error PostgreSQL would raise aborts the transaction:
    /// one with a SQLSTATE (a constraint violation), or an injected [`Error::Unavailable`].
    /// relata's own errors for what PostgreSQL does without failing (a write to a missing row
    /// changes 0 rows there; `NotLinked`; a schema mistake) do not.
    #[cold]
    #[inline(never)]
    pub(crate) fn statement_failed(&mut self, statement: &'static str, table: &'static str, error: &Error) {
        if self.engine != Engine::Postgres || self.aborted.is_some() || !self.in_transaction() {
            return;
        }
        if error.sqlstate().is_none() && !matches!(error, Error::Unavailable { .. }) {
            return;
        }
        if let Some(innermost) = self.scopes.last() {
            self.aborted = Some(Box::new(Aborted {
                scope: innermost.id,
                statement,
                table,
                cause: error.clone(),
            }));
        }
    }

    /// Undoes everything after scope `at` (which stays open); scopes above it close. A
    /// transaction aborted inside the scope is usable again.
    fn rollback_within(&mut self, at: usize) -> usize {
        let scope = self.scopes[at].clone();
        if self.aborted.as_ref().is_some_and(|a| scope.id <= a.scope) {
            self.aborted = None;
        }
        let undone = self.journal.len() - scope.journal;
        self.undo_to(scope.journal);
        self.orphans.truncate(scope.orphans);
        for (table, len) in self.tables.iter_mut().zip(&scope.text) {
            table.truncate_text(*len);
        }
        if scope.kind == ScopeKind::Mark {
            self.restore_clock(&scope);
        }
        self.scopes.truncate(at + 1);
        undone
    }

    /// Gives the store back the clock it had when `scope` opened, at the time it read then.
    pub(crate) fn restore_clock(&mut self, scope: &Scope) {
        let (clock, micros) = &scope.clock;
        self.clock = clock.clone();
        self.clock.set_micros(*micros);
    }

    /// Closes scope `at` and the scopes above it, keeping their changes.
    pub(crate) fn close_from(&mut self, at: usize) {
        self.scopes.truncate(at);
        if self.aborted.is_some() && !self.in_transaction() {
            self.aborted = None;
        }
        if self.scopes.is_empty() {
            self.finalize_journal();
        }
    }

    /// Opens a scope owned by the running call (see [`Scope::held`]).
    pub(crate) fn open_held(&mut self, kind: ScopeKind) -> u64 {
        let id = self.open_scope(kind);
        if let Some(top) = self.scopes.last_mut() {
            top.held = true;
        }
        id
    }

    /// The position of scope `id`, no longer held; `None` if the closure replaced the store.
    pub(crate) fn unhold(&mut self, id: u64) -> Option<usize> {
        let at = self.scopes.iter().rposition(|s| s.id == id)?;
        self.scopes[at].held = false;
        Some(at)
    }

    /// Ends scope `id` keeping its changes; scopes opened above it stay open.
    pub(crate) fn close_held(&mut self, id: u64) {
        if let Some(at) = self.unhold(id) {
            self.scopes.remove(at);
            if self.scopes.is_empty() {
                self.finalize_journal();
            }
        }
    }

    /// Undoes everything since scope `id` and closes it (and the scopes above): what a guard
    /// does when the code it ran panicked.
    pub(crate) fn abandon_scope(&mut self, id: u64) -> Option<Scope> {
        let at = self.scopes.iter().rposition(|s| s.id == id)?;
        let scope = self.scopes[at].clone();
        self.rollback_within(at);
        self.close_from(at);
        Some(scope)
    }

    /// Refuses `operation` if it would end a held scope: one at position `from` or above.
    fn not_held(&self, from: usize, operation: &'static str) -> Result<(), Error> {
        match self.scopes.get(from..).is_some_and(|s| s.iter().any(|s| s.held)) {
            true => Err(Error::EndsEnclosingScope { operation }),
            false => Ok(()),
        }
    }

    /// Starts a transaction. Reads inside it see its writes; a failed operation inside it
    /// changes nothing. Under [`Engine::Sqlite`] the transaction goes on after a failed
    /// statement, as SQLite's does; under [`Engine::Postgres`] a failure PostgreSQL would
    /// raise (a constraint violation) aborts it, as PostgreSQL does: every later statement
    /// fails with [`Error::TransactionAborted`] (SQLSTATE 25P02) until
    /// [`rollback`](Self::rollback) or [`rollback_to`](Self::rollback_to) a savepoint taken
    /// before the failure. O(tables).
    ///
    /// # Errors
    /// [`Error::TransactionOpen`] if one is already open (use a [`savepoint`](Self::savepoint)).
    ///
    /// ```
    /// # use relata::{Engine, Entity, Error, Schema, SqlState, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct User { #[relata(unique)] name: String }
    /// let mut store = Store::new(Schema::builder().entity::<User>().build()?);
    /// store.begin()?;
    /// let k = store.insert(User { name: "alice".into() })?;
    /// assert!(store.insert(User { name: "alice".into() }).is_err()); // the transaction goes on
    /// store.rollback()?;
    /// assert!(store.get(k).is_none());
    ///
    /// // PostgreSQL aborts the transaction at the first error.
    /// let mut pg = Store::with_engine(store.schema().clone(), Engine::Postgres);
    /// pg.begin()?;
    /// let k = pg.insert(User { name: "alice".into() })?;
    /// let sp = pg.savepoint()?;
    /// assert!(matches!(pg.insert(User { name: "alice".into() }), Err(Error::UniqueViolation { .. })));
    /// let err = pg.insert(User { name: "bob".into() }).unwrap_err();
    /// assert_eq!(err.sqlstate(), Some(SqlState::InFailedSqlTransaction));
    /// pg.rollback_to(&sp)?;                                // usable again
    /// pg.insert(User { name: "bob".into() })?;
    /// pg.commit()?;
    /// assert_eq!(pg.count::<User>(), 2);
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
    /// constraint against the final state. O(changes since `begin`) with deferred
    /// constraints or orphans to check, else O(changes) to finalize the journal.
    ///
    /// # Errors
    /// [`Error::NoTransaction`]; [`Error::EndsEnclosingScope`] inside a
    /// [`transaction`](Self::transaction) closure (nothing changes); [`Error::CommitFailed`]
    /// listing every violation, after which the store is exactly as before
    /// [`begin`](Self::begin) and the transaction is closed; [`Error::TransactionAborted`]
    /// under [`Engine::Postgres`] when a statement failed in it: the whole transaction is
    /// rolled back and closed (PostgreSQL answers `COMMIT` with `ROLLBACK` and no error, which
    /// a driver's `commit` passes on as success; relata says so, so a test sees that nothing
    /// was kept; docs/ENGINES.md).
    ///
    /// ```
    /// # use relata::{Engine, Entity, Error, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct User { #[relata(unique)] name: String }
    /// let mut store = Store::with_engine(Schema::builder().entity::<User>().build()?, Engine::Postgres);
    /// store.insert(User { name: "rust".into() })?;
    /// store.begin()?;
    /// store.insert(User { name: "ann".into() })?;
    /// let _ = store.insert(User { name: "rust".into() });  // fails: the transaction is aborted
    /// let err = store.commit().unwrap_err();
    /// assert!(matches!(err, Error::TransactionAborted { statement: "insert", .. }));
    /// assert!(!store.in_transaction());
    /// assert_eq!(store.count::<User>(), 1);                // ann was rolled back too
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn commit(&mut self) -> Result<(), Error> {
        let result = self.commit_inner();
        self.logged("commit", "", None, result, |_| None)
    }

    fn commit_inner(&mut self) -> Result<(), Error> {
        let at = self
            .scope_position(ScopeKind::Transaction, None)
            .ok_or(Error::NoTransaction)?;
        self.not_held(at, "commit")?;
        if let Some(aborted) = self.aborted.take() {
            self.rollback_within(at);
            self.close_from(at);
            return Err(aborted.error());
        }
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

    /// The deferred constraints the open transaction's changes violate right now (what a
    /// commit would report, before its orphan sweep); empty outside a transaction.
    /// O(changes since `begin`).
    pub(crate) fn uncommitted_violations(&self) -> Vec<Error> {
        self.scope_position(ScopeKind::Transaction, None)
            .map_or_else(Vec::new, |at| self.deferred_violations(self.scopes[at].journal))
    }

    /// Rolls the open transaction back: records, links, indexes and children order are
    /// exactly as before [`begin`](Self::begin); keys handed out inside it are stale. Ends an
    /// aborted transaction too. O(changes since `begin`).
    ///
    /// # Errors
    /// [`Error::NoTransaction`]; [`Error::EndsEnclosingScope`] inside a
    /// [`transaction`](Self::transaction) closure (nothing changes).
    ///
    /// ```
    /// # use relata::{Entity, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct User { #[relata(unique)] name: String }
    /// let mut store = Store::new(Schema::builder().entity::<User>().build()?);
    /// let alice = store.insert(User { name: "alice".into() })?;
    /// store.begin()?;
    /// let bob = store.insert(User { name: "bob".into() })?;
    /// store.update(alice, |u| u.name = "ann".into())?;
    /// store.rollback()?;
    /// assert_eq!(store.get(alice).unwrap().name, "alice");
    /// assert!(store.get(bob).is_none());                  // the key is stale
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn rollback(&mut self) -> Result<(), Error> {
        let result = match self.scope_position(ScopeKind::Transaction, None) {
            Some(at) => self.not_held(at, "rollback").map(|()| {
                self.rollback_within(at);
                self.close_from(at);
            }),
            None => Err(Error::NoTransaction),
        };
        self.logged("rollback", "", None, result, |_| None)
    }

    /// Runs `f` in a transaction: commit on `Ok`, roll back on `Err`. Inside an open
    /// transaction it runs in a savepoint instead, so calls nest.
    ///
    /// Under [`Engine::Postgres`], a failure inside `f` that `f` handles and goes on from
    /// aborts the transaction as PostgreSQL does: `f`'s later statements fail with
    /// [`Error::TransactionAborted`], and if `f` still returns `Ok` the call returns that
    /// error having rolled back (a nested call, its savepoint only: the enclosing
    /// transaction is usable again, as after a driver's failed `RELEASE SAVEPOINT`). A nested
    /// call in an aborted transaction is refused before `f` runs.
    ///
    /// The transaction (or savepoint) belongs to the call: inside `f`, `commit`, `rollback`,
    /// and any `rollback_to`, `release` or `reset` that would end it are refused with
    /// [`Error::EndsEnclosingScope`] and change nothing, so `Err` always means nothing `f` did
    /// stayed, with one exception no scope can undo: `f` replacing the store itself
    /// (`*s = Store::new(..)`) drops the store the transaction was in, so the call returns
    /// `EndsEnclosingScope` and the replacement stays. If `f` panics, everything it did is undone before the panic goes on: the store
    /// is as before the call and fully usable (a test harness catching the panic can carry on
    /// with it).
    ///
    /// # Errors
    /// `f`'s error, or the commit's ([`Error::CommitFailed`], [`Error::TransactionAborted`])
    /// converted into `f`'s error type. `f` returns any error type `E` that relata's
    /// [`Error`] converts into (`From<Error>`): relata's own, or a service's, so a business
    /// rule broken inside `f` returns the service's error and rolls back like any other.
    /// A closure ending in a relata call (`s.insert(x)`) has its type inferred; one ending
    /// in `Ok(())` names it (`Ok::<_, Error>(())`, or a type on the call's result).
    ///
    /// Cost: O(tables) to open, then as [`commit`](Self::commit) or
    /// [`rollback`](Self::rollback) (O(changes since the call)).
    ///
    /// ```
    /// # use relata::{Entity, Error, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct User { #[relata(unique)] name: String }
    /// let mut store = Store::new(Schema::builder().entity::<User>().build()?);
    /// let ann = store.transaction(|s| s.insert(User { name: "ann".into() }))?;
    /// store.delete(ann)?;
    /// let out: Result<(), Error> = store.transaction(|s| {
    ///     s.insert(User { name: "alice".into() })?;
    ///     assert_eq!(s.commit(), Err(Error::EndsEnclosingScope { operation: "commit" }));
    ///     s.insert(User { name: "alice".into() })?; // a duplicate: the closure fails
    ///     Ok(())
    /// });
    /// assert!(out.is_err());
    /// assert_eq!(store.count::<User>(), 0); // nothing stayed
    ///
    /// // A service's own error: relata's errors convert into it, its own rules return it.
    /// #[derive(Debug, PartialEq)]
    /// enum SignUpError { Taken, Full, Store(Error) }
    /// impl From<Error> for SignUpError {
    ///     fn from(e: Error) -> Self {
    ///         match e { Error::UniqueViolation { .. } => SignUpError::Taken, e => SignUpError::Store(e) }
    ///     }
    /// }
    /// let signed_up = store.transaction(|s| {
    ///     s.insert(User { name: "bo".into() })?;
    ///     if s.count::<User>() > 0 { return Err(SignUpError::Full); } // the service's own rule
    ///     Ok(())
    /// });
    /// assert_eq!(signed_up, Err(SignUpError::Full));
    /// assert_eq!(store.count::<User>(), 0); // rolled back on the service's error too
    /// store.insert(User { name: "bo".into() })?;
    /// let again = store.transaction(|s| s.insert(User { name: "bo".into() }).map_err(SignUpError::from));
    /// assert_eq!(again, Err(SignUpError::Taken));
    ///
    /// let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
    ///     store.transaction(|s| -> Result<(), Error> {
    ///         s.insert(User { name: "cy".into() })?;
    ///         panic!("a failing test");
    ///     })
    /// }));
    /// assert!(panicked.is_err());
    /// assert_eq!(store.count::<User>(), 1);
    /// assert!(!store.in_transaction());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn transaction<R, E: From<Error>>(
        &mut self,
        f: impl FnOnce(&mut Store) -> Result<R, E>,
    ) -> Result<R, E> {
        let nested = self.in_transaction();
        let id = match nested {
            true => {
                self.refuse_if_aborted()?;
                self.open_held(ScopeKind::Savepoint)
            }
            false => {
                self.begin()?;
                self.hold_top()
            }
        };
        let mut guard = Unwind::new(self, ScopeUndo { id, faults: None });
        let out = f(&mut *guard.store);
        guard.disarm();
        let s = &mut *guard.store;
        let Some(at) = s.unhold(id) else {
            let operation = "replacing the store inside a transaction closure";
            return Err(Error::EndsEnclosingScope { operation }.into());
        };
        if nested {
            // `f` went on after a failure it caught: its savepoint cannot be released.
            let out = match (out, &s.aborted) {
                (Ok(_), Some(aborted)) => Err(aborted.error().into()),
                (out, _) => out,
            };
            if out.is_err() {
                s.rollback_within(at);
            }
            s.scopes.truncate(at);
            return out;
        }
        match out {
            Ok(r) => s.commit().map(|()| r).map_err(E::from),
            Err(e) => {
                s.rollback()?;
                Err(e)
            }
        }
    }

    /// Marks the innermost scope held and returns its id.
    fn hold_top(&mut self) -> u64 {
        match self.scopes.last_mut() {
            Some(top) => {
                top.held = true;
                top.id
            }
            None => 0,
        }
    }

    /// Opens a savepoint inside the open transaction. O(tables).
    ///
    /// # Errors
    /// [`Error::NoTransaction`]; [`Error::TransactionAborted`] in an aborted transaction
    /// (under [`Engine::Postgres`]).
    ///
    /// ```
    /// # use relata::{Entity, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct User { #[relata(unique)] name: String }
    /// let mut store = Store::new(Schema::builder().entity::<User>().build()?);
    /// store.begin()?;
    /// store.insert(User { name: "ann".into() })?;
    /// let sp = store.savepoint()?;
    /// store.insert(User { name: "bob".into() })?;
    /// store.rollback_to(&sp)?;                 // bob is gone, ann stays
    /// store.release(&sp)?;
    /// store.commit()?;
    /// assert_eq!(store.count::<User>(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn savepoint(&mut self) -> Result<Savepoint, Error> {
        let result = match self.in_transaction() {
            false => Err(Error::NoTransaction),
            true => self.refuse_if_aborted().map(|()| Savepoint {
                id: self.open_scope(ScopeKind::Savepoint),
            }),
        };
        self.logged("savepoint", "", None, result, |_| None)
    }

    /// Undoes everything since `sp`; `sp` stays open, savepoints opened after it close. Ends
    /// an aborted transaction's abort when the failure came after `sp` (every open savepoint
    /// was taken before it: `savepoint` is refused in an aborted transaction), as `ROLLBACK
    /// TO SAVEPOINT` does. O(changes since `sp`). Example at [`savepoint`](Self::savepoint).
    ///
    /// # Errors
    /// [`Error::UnknownSavepoint`] if `sp` was released or rolled past;
    /// [`Error::EndsEnclosingScope`] if that would end a scope a running
    /// [`transaction`](Self::transaction) closure owns (nothing changes).
    pub fn rollback_to(&mut self, sp: &Savepoint) -> Result<(), Error> {
        let result = (self.scope_position(ScopeKind::Savepoint, Some(sp.id)))
            .ok_or(Error::UnknownSavepoint)
            .and_then(|at| self.not_held(at + 1, "rollback_to").map(|()| at))
            .map(|at| {
                self.rollback_within(at);
            });
        self.logged("rollback_to", "", None, result, |_| None)
    }

    /// Forgets `sp`, keeping its changes in the enclosing transaction. O(1). Example at
    /// [`savepoint`](Self::savepoint). `sp` is borrowed: when the release is refused the
    /// savepoint is still open and `sp` still names it (PostgreSQL keeps a savepoint whose
    /// `RELEASE` failed); once released, `sp` answers [`Error::UnknownSavepoint`].
    ///
    /// # Errors
    /// [`Error::TransactionAborted`] in an aborted transaction, as PostgreSQL refuses
    /// `RELEASE SAVEPOINT` there (nothing changes: roll back, or roll back to a savepoint
    /// first); [`Error::UnknownSavepoint`] if `sp` was released or rolled past;
    /// [`Error::EndsEnclosingScope`] as for [`rollback_to`](Self::rollback_to).
    pub fn release(&mut self, sp: &Savepoint) -> Result<(), Error> {
        let result = self.refuse_if_aborted().and_then(|()| {
            let at =
                (self.scope_position(ScopeKind::Savepoint, Some(sp.id))).ok_or(Error::UnknownSavepoint)?;
            self.not_held(at, "release")?;
            self.scopes.truncate(at);
            Ok(())
        });
        self.logged("release", "", None, result, |_| None)
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
        let result = match self.in_transaction() {
            true => Err(Error::TransactionOpen),
            false => Ok(Mark {
                id: self.open_scope(ScopeKind::Mark),
            }),
        };
        self.logged("mark", "", None, result, |_| None)
    }

    /// Returns to `mark`: every change since (including an open transaction's) is undone, in
    /// time proportional to the number of changes, and the store's [`Clock`](crate::Clock) is
    /// set back to the time it read at the mark. The mark stays, for the next test.
    /// Returns how many primitive changes were undone. O(changes since the mark + tables),
    /// whatever the store's size. Example at [`mark`](Self::mark).
    ///
    /// # Errors
    /// [`Error::UnknownMark`] if the mark was released or belongs to another store;
    /// [`Error::EndsEnclosingScope`] if a scope opened after the mark is owned by a running
    /// call (a [`transaction`](Self::transaction) closure, a [`FixtureScope`]): nothing changes.
    pub fn reset(&mut self, mark: &Mark) -> Result<usize, Error> {
        let result = (self.scope_position(ScopeKind::Mark, Some(mark.id)))
            .ok_or(Error::UnknownMark)
            .and_then(|at| self.not_held(at + 1, "reset").map(|()| at))
            .map(|at| self.rollback_within(at));
        self.logged("reset", "", None, result, |_| None)
    }

    /// Opens a [`FixtureScope`]: a mark that the scope resets to (and releases) when it is
    /// dropped, including while a panic unwinds: records and the clock's time are as when
    /// the scope opened. Use the scope as the store. Inside it,
    /// `reset` or `release_mark` of a mark opened before it would end it, and is refused with
    /// [`Error::EndsEnclosingScope`]. Cost: as [`mark`](Self::mark) to open, as
    /// [`reset`](Self::reset) (O(changes)) to drop.
    ///
    /// For tests running on parallel threads: fork the fixture once per thread, then open a
    /// scope per test on that thread's fork.
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
    /// {
    ///     let mut store = fixture.scope()?;               // one test
    ///     store.insert(User { name: "bob".into() })?;
    ///     assert_eq!(store.count::<User>(), 2);
    /// }                                                    // dropped: reset
    /// assert_eq!(fixture.count::<User>(), 1);
    /// let failed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
    ///     let mut store = fixture.scope().unwrap();
    ///     store.insert(User { name: "carol".into() }).unwrap();
    ///     panic!("a failing test");
    /// }));
    /// assert!(failed.is_err());
    /// assert_eq!(fixture.count::<User>(), 1);               // still clean
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn scope(&mut self) -> Result<FixtureScope<'_>, Error> {
        if self.in_transaction() {
            return Err(Error::TransactionOpen);
        }
        let mark = Mark {
            id: self.open_held(ScopeKind::Mark),
        };
        Ok(FixtureScope { store: self, mark })
    }

    /// The journal position of an open mark.
    pub(crate) fn mark_position(&self, mark: &Mark) -> Option<usize> {
        self.scope_position(ScopeKind::Mark, Some(mark.id))
            .map(|at| self.scopes[at].journal)
    }

    /// Keeps every change since `mark` and forgets it (and any mark opened after it).
    /// `mark` is borrowed: when the release is refused the mark is still open and `mark`
    /// still names it (release it later, or reset to it); once released, `mark` answers
    /// [`Error::UnknownMark`].
    /// Cost: O(open scopes), plus O(changes kept for undo) when no scope is left open (the
    /// journal is then let go).
    ///
    /// # Errors
    /// [`Error::UnknownMark`], [`Error::TransactionOpen`] inside a transaction, or
    /// [`Error::EndsEnclosingScope`] as for [`reset`](Self::reset).
    ///
    /// ```
    /// # use relata::{Entity, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct User { #[relata(unique)] name: String }
    /// let mut store = Store::new(Schema::builder().entity::<User>().build()?);
    /// let mark = store.mark()?;
    /// store.insert(User { name: "alice".into() })?;
    /// store.release_mark(&mark)?;                         // alice stays; nothing to undo
    /// assert_eq!(store.count::<User>(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn release_mark(&mut self, mark: &Mark) -> Result<(), Error> {
        let result = match self.in_transaction() {
            true => Err(Error::TransactionOpen),
            false => (self.scope_position(ScopeKind::Mark, Some(mark.id)))
                .ok_or(Error::UnknownMark)
                .and_then(|at| self.not_held(at, "release_mark").map(|()| self.close_from(at))),
        };
        self.logged("release_mark", "", None, result, |_| None)
    }

    /// An independent copy of the whole store, open scopes included (a fork of a marked
    /// fixture can be reset on its own). O(records): arenas and indexes are copied as a few
    /// large buffers per table (for a store of 64k records or more, the tables in two groups
    /// on two threads), and text is not copied at all: both stores share what was written
    /// before the fork (immutable, reference-counted) and each appends its later writes apart.
    /// The fork gets a [`Clock`](crate::Clock) of its own, standing where this store's stands
    /// (a system clock stays one): moving either's time leaves the other's. For tests running
    /// in parallel threads, fork one fixture per thread; see the crate docs.
    ///
    /// ```
    /// # use relata::{Entity, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct User { #[relata(unique)] name: String }
    /// let mut fixture = Store::new(Schema::builder().entity::<User>().build()?);
    /// let alice = fixture.insert(User { name: "alice".into() })?;
    /// let mut test = fixture.fork();
    /// test.update(alice, |u| u.name = "ann".into())?;     // the same key in the fork
    /// test.insert(User { name: "bob".into() })?;
    /// assert_eq!(fixture.get(alice).unwrap().name, "alice"); // the fixture is untouched
    /// assert_eq!((fixture.count::<User>(), test.count::<User>()), (1, 2));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn fork(&self) -> Store {
        self.clone()
    }
}
