//! Deferred constraints: checked at a commit point against the final state, over the changes
//! since the scope began. A unique constraint declared `deferrable` may hold duplicates inside
//! a transaction (a swap of two values); a `deferrable` restricting foreign key lets a parent be
//! deleted while its children are moved elsewhere before commit.

use hashbrown::HashSet;

use crate::error::Error;
use crate::key::RawKey;
use crate::store::journal::Change;
use crate::store::table::KeyState;
use crate::store::Store;

impl Store {
    /// Every deferred violation among the changes after journal position `start`. O(changes).
    pub(crate) fn deferred_violations(&self, start: usize) -> Vec<Error> {
        if !self.schema.inner.has_deferred {
            return Vec::new();
        }
        let mut out = Vec::new();
        let mut seen: HashSet<(usize, RawKey)> = HashSet::new();
        let mut pairs = HashSet::new();
        for change in self.journal.get(start..).unwrap_or_default() {
            match *change {
                Change::Inserted { table, key } | Change::Updated { table, key } => {
                    if seen.insert((table, key)) {
                        self.deferred_unique(table, key, &mut pairs, &mut out);
                    }
                }
                // As an update: no unique constraint covers the moved key, but the record is
                // checked as every record a statement touched.
                Change::Moved { table, key, .. } => {
                    if seen.insert((table as usize, key)) {
                        self.deferred_unique(table as usize, key, &mut pairs, &mut out);
                    }
                }
                Change::Deleted { table, key } => self.deferred_restrict(table, key, &mut out),
                Change::Linked { .. } | Change::Unlinked { .. } | Change::IdCounter { .. } => {}
            }
        }
        out
    }

    fn deferred_unique(
        &self,
        t: usize,
        key: RawKey,
        pairs: &mut HashSet<(usize, RawKey, RawKey)>,
        out: &mut Vec<Error>,
    ) {
        if self.tables[t].state(key) != KeyState::Live {
            return;
        }
        if let Some(e) = self.tables[t].deferred_unique_violation(key) {
            // Both records of a duplicate are usually touched: report each pair once.
            let other = match &e {
                Error::UniqueViolation { existing, .. } => *existing,
                _ => key,
            };
            if pairs.insert((t, key.min(other), key.max(other))) {
                out.push(e);
            }
        }
    }

    fn deferred_restrict(&self, t: usize, key: RawKey, out: &mut Vec<Error>) {
        for &(ct, fk) in &self.schema.inner.tables[t].incoming {
            let child = self.tables[ct].def();
            if !child.fks[fk].deferrable {
                continue;
            }
            let dependents = self.tables[ct].children(fk, key).len();
            if dependents > 0 {
                out.push(Error::Restricted {
                    table: self.tables[t].def().table,
                    key,
                    child_table: child.table,
                    column: child.fk_column(fk),
                    relationship: child.fks[fk].back,
                    dependents,
                    action: child.fks[fk].on_delete,
                });
            }
        }
    }
}
