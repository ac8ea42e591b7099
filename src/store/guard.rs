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

/// What to undo if the guard is dropped armed.
pub(crate) enum Undo {
    /// A statement: the journal and orphan queue positions and the nesting depth at its start.
    Statement {
        journal: usize,
        orphans: usize,
        depth: u32,
    },
    /// A scope opened for the call (by id), with the pending faults to restore.
    Scope {
        id: u64,
        faults: Option<Vec<PendingFault>>,
    },
}

/// Undoes [`Undo`] on drop unless disarmed.
pub(crate) struct Unwind<'s> {
    pub(crate) store: &'s mut Store,
    undo: Option<Undo>,
}

impl<'s> Unwind<'s> {
    pub(crate) fn new(store: &'s mut Store, undo: Undo) -> Self {
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
        match self.undo.take() {
            None => {}
            Some(Undo::Statement {
                journal,
                orphans,
                depth,
            }) => self.store.abandon_statement(journal, orphans, depth),
            Some(Undo::Scope { id, faults }) => {
                self.store.abandon_scope(id);
                if let Some(faults) = faults {
                    self.store.faults = faults;
                }
            }
        }
    }
}
