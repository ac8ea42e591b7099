//! Unwind guards: every entry point that runs user code (the `update` closure, `transaction`,
//! `faults().run`, a [`FixtureScope`](crate::FixtureScope)) holds one while that code runs. If
//! the code panics, the guard's `drop` undoes to where the call started (the statement's
//! journal position, or the scope it opened), so a panic caught by a test harness leaves the
//! store exactly as before the call and fully usable.
//!
//! A guard owns the `&mut Store` and lends it to the user code; on a normal return the caller
//! disarms it and takes the store back.

use crate::store::observe::PendingFault;
use crate::store::Store;

/// A scope opened for the call (by id), with the pending faults to restore: what an armed
/// [`Unwind`] undoes when dropped.
pub(crate) struct ScopeUndo {
    pub(crate) id: u64,
    pub(crate) faults: Option<Vec<PendingFault>>,
}

/// Undoes a [`ScopeUndo`] on drop unless disarmed.
pub(crate) struct Unwind<'s> {
    pub(crate) store: &'s mut Store,
    undo: Option<ScopeUndo>,
}

impl<'s> Unwind<'s> {
    pub(crate) fn new(store: &'s mut Store, undo: ScopeUndo) -> Self {
        Unwind {
            store,
            undo: Some(undo),
        }
    }

    /// The user code returned: keep everything (the store stays reachable as `self.store`).
    pub(crate) fn disarm(&mut self) {
        self.undo = None;
    }
}

impl Drop for Unwind<'_> {
    fn drop(&mut self) {
        if let Some(ScopeUndo { id, faults }) = self.undo.take() {
            let scope = self.store.abandon_scope(id);
            // `faults().run` (the one caller with faults to restore) undoes everything its
            // closure did, the clock too, in a savepoint as in a mark (which did it already).
            if let Some(faults) = faults {
                self.store.faults = faults;
                if let Some(scope) = scope {
                    self.store.restore_clock(&scope);
                }
            }
        }
    }
}

/// A statement's guard: dropped armed, it undoes the statement back to the journal and
/// orphan-queue positions and the nesting depth it started at. Every write holds one, so it
/// is a few words and one branch on drop (no enum to take, nothing of its own to free).
pub(crate) struct StatementGuard<'s> {
    pub(crate) store: &'s mut Store,
    journal: usize,
    orphans: usize,
    depth: u32,
    armed: bool,
}

impl<'s> StatementGuard<'s> {
    /// Arms a guard for a statement starting now.
    #[inline]
    pub(crate) fn new(store: &'s mut Store, journal: usize, orphans: usize, depth: u32) -> Self {
        StatementGuard {
            store,
            journal,
            orphans,
            depth,
            armed: true,
        }
    }

    /// The statement succeeded: keep everything.
    #[inline]
    pub(crate) fn disarm(&mut self) {
        self.armed = false;
    }
}

impl Drop for StatementGuard<'_> {
    #[inline]
    fn drop(&mut self) {
        if self.armed {
            self.store
                .abandon_statement(self.journal, self.orphans, self.depth);
        }
    }
}
