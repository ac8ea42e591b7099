//! Scopes in the model: transactions, savepoints and marks as copies of the whole state,
//! statements with their commit point (deferred constraints), closures that own a scope, and
//! `NthWrite` faults. Deliberately naive: opening a scope clones everything.

use std::collections::{BTreeMap, BTreeSet};

use relata::{Error, RawKey};

use super::{Expected, MRecord, Model, Pairs, TableId, V};

/// The kind of an open scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScopeKind {
    /// `begin` (or an outermost `transaction` closure).
    Transaction,
    /// `savepoint` (or a nested `transaction` / a `faults().run` closure inside a transaction).
    Savepoint,
    /// `mark` (or a `faults().run` closure outside a transaction, or a fixture scope).
    Mark,
}

/// One open scope.
#[derive(Clone, Debug)]
pub(super) struct MScope {
    kind: ScopeKind,
    id: u64,
    /// Owned by a running closure: nothing else may end it.
    held: bool,
    saved: (Vec<BTreeMap<RawKey, MRecord>>, Vec<Pairs>),
}

/// A closure the driver runs, with what the model needs to end it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClosureKind {
    /// `transaction`; `nested` when a transaction was already open (a savepoint).
    Transaction {
        /// Runs in a savepoint.
        nested: bool,
    },
    /// `faults().run(NthWrite(n))`; `before` is the number of faults pending before it.
    WithFault {
        /// Faults pending before the call.
        before: usize,
    },
    /// `Store::scope`.
    FixtureScope,
}

/// The error an injected fault returns.
pub const INJECTED: Error = Error::Unavailable { reason: "injected" };

impl Model {
    /// `true` while a transaction is open.
    pub fn in_transaction(&self) -> bool {
        self.scopes.iter().any(|s| s.kind == ScopeKind::Transaction)
    }

    /// `true` if a commit now would be refused (a deferred constraint is violated); a
    /// snapshot taken inside the transaction is refused then too.
    pub fn commit_would_refuse(&self) -> bool {
        !self.deferred_violations().is_empty()
    }

    /// `true` while any scope is open.
    pub fn has_scopes(&self) -> bool {
        !self.scopes.is_empty()
    }

    fn open(&mut self, kind: ScopeKind, held: bool) -> u64 {
        let id = self.next_scope;
        self.next_scope += 1;
        let saved = self.state();
        self.scopes.push(MScope {
            kind,
            id,
            held,
            saved,
        });
        id
    }

    fn position(&self, kind: ScopeKind, id: Option<u64>) -> Option<usize> {
        self.scopes
            .iter()
            .rposition(|s| s.kind == kind && id.is_none_or(|id| s.id == id))
    }

    fn not_held(&self, from: usize, operation: &'static str) -> Result<(), Error> {
        match self.scopes.get(from..).is_some_and(|s| s.iter().any(|s| s.held)) {
            true => Err(Error::EndsEnclosingScope { operation }),
            false => Ok(()),
        }
    }

    /// Back to scope `at`'s start; it stays open, the scopes above close.
    fn rollback_within(&mut self, at: usize) {
        let saved = self.scopes[at].saved.clone();
        self.restore(saved);
        self.scopes.truncate(at + 1);
    }

    /// `Store::begin`.
    pub fn begin(&mut self) -> Result<(), Error> {
        if self.in_transaction() {
            return Err(Error::TransactionOpen);
        }
        self.open(ScopeKind::Transaction, false);
        Ok(())
    }

    /// `Store::commit`: deferred constraints checked against the final state.
    pub fn commit(&mut self) -> Result<(), Expected> {
        let at = self
            .position(ScopeKind::Transaction, None)
            .ok_or(Expected::Exactly(Error::NoTransaction))?;
        self.not_held(at, "commit").map_err(Expected::Exactly)?;
        let violations = self.deferred_violations();
        if violations.is_empty() {
            self.scopes.truncate(at);
            return Ok(());
        }
        self.rollback_within(at);
        self.scopes.truncate(at);
        Err(Expected::CommitFailed(violations))
    }

    /// `Store::rollback`.
    pub fn rollback(&mut self) -> Result<(), Error> {
        let at = self
            .position(ScopeKind::Transaction, None)
            .ok_or(Error::NoTransaction)?;
        self.not_held(at, "rollback")?;
        self.rollback_within(at);
        self.scopes.truncate(at);
        Ok(())
    }

    /// `Store::savepoint`: the new savepoint's id.
    pub fn savepoint(&mut self) -> Result<u64, Error> {
        if !self.in_transaction() {
            return Err(Error::NoTransaction);
        }
        Ok(self.open(ScopeKind::Savepoint, false))
    }

    /// `Store::rollback_to`.
    pub fn rollback_to(&mut self, id: u64) -> Result<(), Error> {
        let at = self
            .position(ScopeKind::Savepoint, Some(id))
            .ok_or(Error::UnknownSavepoint)?;
        self.not_held(at + 1, "rollback_to")?;
        self.rollback_within(at);
        Ok(())
    }

    /// `Store::release`.
    pub fn release(&mut self, id: u64) -> Result<(), Error> {
        let at = self
            .position(ScopeKind::Savepoint, Some(id))
            .ok_or(Error::UnknownSavepoint)?;
        self.not_held(at, "release")?;
        self.scopes.truncate(at);
        Ok(())
    }

    /// `Store::mark`: the new mark's id.
    pub fn mark(&mut self) -> Result<u64, Error> {
        if self.in_transaction() {
            return Err(Error::TransactionOpen);
        }
        Ok(self.open(ScopeKind::Mark, false))
    }

    /// `Store::reset` (the count of undone changes is not modelled).
    pub fn reset(&mut self, id: u64) -> Result<(), Error> {
        let at = self
            .position(ScopeKind::Mark, Some(id))
            .ok_or(Error::UnknownMark)?;
        self.not_held(at + 1, "reset")?;
        self.rollback_within(at);
        Ok(())
    }

    /// `Store::release_mark`.
    pub fn release_mark(&mut self, id: u64) -> Result<(), Error> {
        if self.in_transaction() {
            return Err(Error::TransactionOpen);
        }
        let at = self
            .position(ScopeKind::Mark, Some(id))
            .ok_or(Error::UnknownMark)?;
        self.not_held(at, "release_mark")?;
        self.scopes.truncate(at);
        Ok(())
    }

    /// Opens the scope a closure owns: returns its id and kind, or the error opening it
    /// fails with (a fixture scope inside a transaction).
    pub fn open_closure(&mut self, closure: ClosureKind, fault: Option<usize>) -> Result<u64, Error> {
        let kind = match closure {
            ClosureKind::Transaction { nested: false } => ScopeKind::Transaction,
            ClosureKind::Transaction { nested: true } => ScopeKind::Savepoint,
            ClosureKind::WithFault { .. } if self.in_transaction() => ScopeKind::Savepoint,
            ClosureKind::WithFault { .. } => ScopeKind::Mark,
            ClosureKind::FixtureScope if self.in_transaction() => return Err(Error::TransactionOpen),
            ClosureKind::FixtureScope => ScopeKind::Mark,
        };
        self.faults.extend(fault);
        Ok(self.open(kind, true))
    }

    /// The closure `id` panicked: everything since its scope opened is undone, the scope
    /// closes, and the faults are as before the call.
    pub fn closure_panicked(&mut self, id: u64, closure: ClosureKind, faults: &[usize]) {
        if let Some(at) = self.scopes.iter().rposition(|s| s.id == id) {
            self.rollback_within(at);
            self.scopes.truncate(at);
        }
        if let ClosureKind::WithFault { .. } = closure {
            self.faults = faults.to_vec();
        }
    }

    /// The closure `id` returned (`ok`: with `Ok`): how the call ends.
    pub fn closure_returned(&mut self, id: u64, closure: ClosureKind, ok: bool) -> Result<(), Expected> {
        let Some(at) = self.scopes.iter().rposition(|s| s.id == id) else {
            return Ok(());
        };
        self.scopes[at].held = false;
        match closure {
            ClosureKind::Transaction { nested: true } => {
                if !ok {
                    self.rollback_within(at);
                }
                self.scopes.truncate(at);
                Ok(())
            }
            ClosureKind::Transaction { nested: false } if ok => self.commit(),
            ClosureKind::Transaction { nested: false } => self.rollback().map_err(Expected::Exactly),
            // A fault that never fired: what the closure did is undone, as when it panics.
            ClosureKind::WithFault { before } if self.faults.len() > before => {
                self.faults.truncate(before);
                self.rollback_within(at);
                self.scopes.truncate(at);
                Err(Expected::FaultNotTriggered)
            }
            ClosureKind::WithFault { .. } => {
                self.scopes.remove(at);
                Ok(())
            }
            ClosureKind::FixtureScope => {
                self.rollback_within(at);
                self.scopes.truncate(at);
                Ok(())
            }
        }
    }

    /// The pending faults (for restoring them after a panic).
    pub fn faults(&self) -> &[usize] {
        &self.faults
    }

    /// Counts one write against the pending `NthWrite` faults; the first that falls due
    /// fires (and is removed).
    fn fire_write_fault(&mut self) -> Result<(), Expected> {
        let mut due = None;
        for (i, n) in self.faults.iter_mut().enumerate() {
            *n = n.saturating_sub(1);
            if *n == 0 && due.is_none() {
                due = Some(i);
            }
        }
        match due {
            Some(i) => {
                self.faults.remove(i);
                Err(Expected::Exactly(INJECTED))
            }
            None => Ok(()),
        }
    }

    /// One statement (every public write): a due fault fails it before anything; then `f`;
    /// outside a transaction its end is a commit point (deferred constraints checked). On
    /// error nothing changed.
    pub fn statement<T>(&mut self, f: impl FnOnce(&mut Model) -> Result<T, Expected>) -> Result<T, Expected> {
        self.fire_write_fault()?;
        let before = self.state();
        let out = f(self).and_then(|t| match self.in_transaction() {
            true => Ok(t),
            false => match self.deferred_violations().into_iter().next() {
                None => Ok(t),
                Some(group) => Err(Expected::OneOf(group.errors())),
            },
        });
        if out.is_err() {
            self.restore(before);
        }
        out
    }

    /// Every group of live records sharing a value under a deferrable unique constraint.
    fn deferred_violations(&self) -> Vec<Duplicates> {
        let mut out = Vec::new();
        for t in TableId::ALL {
            let spec = t.spec();
            for u in spec.uniques.iter().filter(|u| u.deferrable) {
                let mut groups: BTreeMap<Vec<V>, BTreeSet<RawKey>> = BTreeMap::new();
                for (k, r) in self.live(t) {
                    let vals: Vec<V> = u.fields.iter().map(|&f| r.values[f].clone()).collect();
                    if !vals.contains(&V::Null) {
                        groups.entry(vals).or_default().insert(*k);
                    }
                }
                for (vals, keys) in groups.into_iter().filter(|(_, k)| k.len() > 1) {
                    let error = self.unique_error(t, u, &vals, RawKey::from_u64(0));
                    out.push(Duplicates { error, keys });
                }
            }
        }
        out
    }
}

/// Records sharing a value under a deferrable unique constraint: the violation, with any of
/// the records as the one named.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Duplicates {
    /// The violation, with a placeholder `existing`.
    error: Error,
    /// The records sharing the value.
    keys: BTreeSet<RawKey>,
}

impl Duplicates {
    /// Every error naming one of the records.
    fn errors(&self) -> Vec<Error> {
        self.keys.iter().map(|&k| self.naming(k)).collect()
    }

    fn naming(&self, k: RawKey) -> Error {
        match self.error.clone() {
            Error::UniqueViolation {
                table,
                columns,
                constraint,
                value,
                ..
            } => Error::UniqueViolation {
                table,
                columns,
                constraint,
                value,
                existing: k,
            },
            other => other,
        }
    }

    /// `true` if `e` reports this group.
    pub fn admits(&self, e: &Error) -> bool {
        self.errors().contains(e)
    }
}
