//! Deletes: plan the whole cascade first (which records go, which keys become NULL, which
//! restriction blocks), then apply it as primitive changes. Planning reads only, so a blocked
//! delete changes nothing; applying runs inside a statement, so any failure undoes itself.

use hashbrown::{HashMap, HashSet};

use crate::engine::Engine;
use crate::entity::{Entity, OnDelete};
use crate::error::Error;
use crate::key::{Key, RawKey};
use crate::store::journal::Change;
use crate::store::Store;

/// What a delete removed and changed: see [`Store::delete`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeleteReport {
    /// Every deleted record, the requested one first, then the cascade in the order it was
    /// reached.
    pub deleted: Vec<DeletedRecord>,
    /// Every foreign key set to NULL by `on_delete = "set_null"`.
    pub nulled: Vec<NulledReference>,
    /// Every many-to-many link removed because one of its ends was deleted.
    pub unlinked: Vec<UnlinkedPair>,
}

impl DeleteReport {
    /// How many records of entity type `E` were deleted. O(records deleted). Example at
    /// [`Store::explain_delete`]. Named by the type, not by a string, so a misspelt table
    /// cannot pass an assertion by answering 0.
    pub fn deleted_from<E: Entity>(&self) -> usize {
        self.deleted.iter().filter(|d| d.table == E::DEF.table).count()
    }
}

/// One deleted record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeletedRecord {
    /// The table.
    pub table: &'static str,
    /// The record's (now stale) key.
    pub key: RawKey,
}

/// One foreign key set to NULL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NulledReference {
    /// The child table.
    pub table: &'static str,
    /// The foreign-key column.
    pub column: &'static str,
    /// The child record.
    pub key: RawKey,
}

/// One many-to-many link removed with an end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnlinkedPair {
    /// The relation (association table).
    pub relation: &'static str,
    /// The left end.
    pub left: RawKey,
    /// The right end.
    pub right: RawKey,
}

/// SQLite runs each level of a cascade as a nested trigger, at most 1000 deep
/// (`SQLITE_MAX_TRIGGER_DEPTH`): a record 1000 levels below the one deleted fails the delete.
const SQLITE_CASCADE_LIMIT: usize = 1000;

/// A cascade reaching at most this many records keeps them in lists it scans instead of a hash
/// set, and its lists start with room for this many: most deletes reach a few records, where
/// a scan costs less than hashing each, and growing the set and the lists from empty was
/// several allocations and rehashes per delete.
const SHORT: usize = 32;

/// The records a cascade has reached that it could reach again: those of a table the schema
/// says the delete can reach twice (`TableEntry::rejoins`: a membership row reached from its
/// user and from its group when both go, the root's table on a cycle). Any other record has
/// one parent that can reach it, itself reached once, so it is not kept (see `plan_delete`).
/// A short list, scanned, until it holds [`SHORT`], then a hash set. O(1) per look-up either
/// way (the list is bounded).
#[derive(Default)]
struct Seen {
    list: Vec<(usize, RawKey)>,
    set: HashSet<(usize, RawKey)>,
}

impl Seen {
    /// Adds a record; `false` if it was there already.
    fn insert(&mut self, record: (usize, RawKey)) -> bool {
        if self.set.is_empty() {
            if self.list.contains(&record) {
                return false;
            }
            if self.list.len() < SHORT {
                if self.list.capacity() == 0 {
                    self.list.reserve_exact(SHORT);
                }
                self.list.push(record);
                return true;
            }
            self.set.extend(self.list.drain(..));
        }
        self.set.insert(record)
    }

    #[cfg(test)]
    fn contains(&self, record: &(usize, RawKey)) -> bool {
        self.list.contains(record) || self.set.contains(record)
    }
}

/// A delete plan's walk buffers, kept by the store between deletes so that a delete does not
/// allocate them (its report still allocates what it returns). At most [`KEPT`] entries
/// each are kept; a larger cascade's buffers are freed after it.
#[derive(Default)]
pub(crate) struct PlanBuffers {
    /// Records to visit, with their depth below the root.
    stack: Vec<(usize, RawKey, usize)>,
    /// The plan's `reached`, empty.
    reached: Vec<(usize, RawKey)>,
    /// The plan's `lists`, empty.
    lists: Vec<LeafList>,
}

/// The most entries a [`PlanBuffers`] buffer keeps between deletes (10 KB for both).
const KEPT: usize = 256;

impl PlanBuffers {
    /// Takes back a plan's `reached` and `lists` buffers, emptied; frees what outgrew
    /// [`KEPT`].
    fn keep(&mut self, mut reached: Vec<(usize, RawKey)>, mut lists: Vec<LeafList>) {
        reached.clear();
        if reached.capacity() <= KEPT {
            self.reached = reached;
        }
        lists.clear();
        if lists.capacity() <= KEPT {
            self.lists = lists;
        }
        if self.stack.capacity() > KEPT {
            self.stack = Vec::new();
        }
    }
}

/// A whole children list of a reached record that the plan reached as leaves (records of a
/// table no key points into): `reached[start..end]` is that list, in its order, so the
/// delete empties it at once (`Table::p_delete_list`) instead of entry by entry.
#[derive(Clone, Copy)]
struct LeafList {
    /// The children's table and foreign key.
    table: usize,
    fk: usize,
    parent: RawKey,
    start: usize,
    end: usize,
}

/// The full effect of one delete, computed before anything changes.
struct Plan {
    /// Records in the order they were reached (the root first).
    reached: Vec<(usize, RawKey)>,
    /// The runs of `reached` that are whole children lists of two or more leaves, in order.
    lists: Vec<LeafList>,
    /// (table, record, foreign key) to set NULL.
    nulls: Vec<(usize, RawKey, usize)>,
    /// (relation, left, right) links to remove.
    unlinks: Vec<(usize, RawKey, RawKey)>,
}

impl Store {
    /// Deletes a record and applies every relationship's on-delete action, through any depth
    /// and across types (cycles included: each record is deleted once).
    ///
    /// - `no_action` (the default): fails if a child still references the record at the end
    ///   (children the same cascade deletes do not block, under
    ///   [`Engine::Sqlite`](crate::Engine::Sqlite); under `Engine::Postgres` they do, as in
    ///   PostgreSQL); checked at commit when `deferrable`;
    /// - `restrict`: fails while a child references the record, even one the cascade would
    ///   delete too;
    /// - `cascade` and delete-orphan (`orphan`): deletes the children (under
    ///   [`Engine::Sqlite`](crate::Engine::Sqlite) at most 1000 levels deep, as SQLite);
    /// - `set_null`: sets the children's key to NULL.
    ///
    /// Cost: O(records reached + their links).
    ///
    /// # Errors
    /// [`Error::NotFound`] / [`Error::Stale`] for the key, [`Error::Restricted`] naming the
    /// first blocking relationship and how many children block it, [`Error::CascadeTooDeep`]. On error nothing changed.
    ///
    /// ```
    /// # use relata::{Entity, Error, Key, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct User { name: String }
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct Post { title: String, author: Key<User> }   // on_delete defaults to no_action
    /// let mut store = Store::new(Schema::builder().entity::<User>().entity::<Post>().build()?);
    /// let alice = store.insert(User { name: "alice".into() })?;
    /// store.insert(Post { title: "Hi".into(), author: alice })?;
    /// let err = store.delete(alice).unwrap_err();
    /// assert!(matches!(err, Error::Restricted { dependents: 1, .. }));
    /// assert!(store.contains(alice));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn delete<E: Entity>(&mut self, key: Key<E>) -> Result<DeleteReport, Error> {
        let result = (self.table_index::<E>()).and_then(|t| self.statement(|s| s.delete_in(t, key.raw())));
        self.logged("delete", E::DEF.table, Some(key.raw()), result, |_| None)
    }

    /// Deletes within the current statement.
    pub(crate) fn delete_in(&mut self, t: usize, key: RawKey) -> Result<DeleteReport, Error> {
        let mut buffers = std::mem::take(&mut self.plan_buffers);
        let plan = self.plan_delete(t, key, &mut buffers)?;
        self.apply_delete(&plan)?;
        let report = self.report(&plan);
        buffers.keep(plan.reached, plan.lists);
        self.plan_buffers = buffers;
        Ok(report)
    }

    /// What [`delete`](Self::delete) would do, without doing it.
    ///
    /// Cost: as [`delete`](Self::delete)'s plan, O(records reached + their links); nothing
    /// is written.
    ///
    /// # Errors
    /// As [`delete`](Self::delete).
    ///
    /// ```
    /// # use relata::{Entity, Key, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// #[relata(table = "users")]
    /// struct User { name: String }
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// #[relata(table = "posts")]
    /// struct Post { title: String, #[relata(on_delete = "cascade")] author: Key<User> }
    /// let mut store = Store::new(Schema::builder().entity::<User>().entity::<Post>().build()?);
    /// let alice = store.insert(User { name: "alice".into() })?;
    /// store.insert(Post { title: "Hi".into(), author: alice })?;
    /// let plan = store.explain_delete(alice)?;
    /// assert_eq!((plan.deleted_from::<User>(), plan.deleted_from::<Post>()), (1, 1));
    /// assert_eq!(store.count::<Post>(), 1); // nothing deleted yet
    /// assert_eq!(store.delete(alice)?, plan);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn explain_delete<E: Entity>(&self, key: Key<E>) -> Result<DeleteReport, Error> {
        self.refuse_if_aborted()?;
        let t = self.table_index::<E>()?;
        let plan = self.plan_delete(t, key.raw(), &mut PlanBuffers::default())?;
        Ok(self.report(&plan))
    }

    /// The plan of deleting `key` of table `t`; its walk uses `buffers` (a plan's `reached` is
    /// taken from them).
    fn plan_delete(&self, t: usize, key: RawKey, buffers: &mut PlanBuffers) -> Result<Plan, Error> {
        if self.tables[t].state(key) != super::KeyState::Live {
            return Err(self.missing_or_stale(t, key));
        }
        let mut seen = Seen::default();
        let mut reached = std::mem::take(&mut buffers.reached);
        reached.clear();
        reached.reserve(SHORT);
        let mut lists = std::mem::take(&mut buffers.lists);
        lists.clear();
        let mut plan = Plan {
            reached,
            lists,
            nulls: Vec::new(),
            unlinks: Vec::new(),
        };
        let mut restricts = Vec::new();
        // RESTRICT looks at the children when the parent goes, before the cascade runs.
        let mut immediate = Vec::new();
        let root_table = self.tables[t].def().table;
        // Which tables the walk can reach twice from this root: only their records are looked up.
        let rejoins = &self.schema.inner.tables[t].rejoins;
        let stack = &mut buffers.stack;
        stack.clear();
        stack.reserve(SHORT);
        stack.push((t, key, 0));
        if rejoins[t] {
            seen.insert((t, key));
        }
        while let Some((t, k, depth)) = stack.pop() {
            if depth >= SQLITE_CASCADE_LIMIT && self.engine == Engine::Sqlite {
                return Err(Error::CascadeTooDeep {
                    table: root_table,
                    key,
                    limit: SQLITE_CASCADE_LIMIT,
                });
            }
            plan.reached.push((t, k));
            let incoming = &self.schema.inner.tables[t].incoming;
            // A table no key points into has no children to walk: its records, reached once
            // (not `rejoins`), are leaves. The children of the cascading keys after the last
            // key into another table (all leaves) are what the stack would give back next,
            // the last key's first: they go to `reached` in that order, not through the stack.
            let direct = incoming
                .iter()
                .rposition(|&(ct, _)| rejoins[ct] || !self.schema.inner.tables[ct].incoming.is_empty())
                .map_or(0, |at| at + 1);
            for &(ct, fk) in incoming[direct..].iter().rev() {
                let fkdef = &self.schema.inner.tables[ct].def.fks[fk];
                if !fkdef.cascades() {
                    continue;
                }
                let children = self.tables[ct].children(fk, k);
                if !children.is_empty() && depth + 1 >= SQLITE_CASCADE_LIMIT && self.engine == Engine::Sqlite
                {
                    return Err(Error::CascadeTooDeep {
                        table: root_table,
                        key,
                        limit: SQLITE_CASCADE_LIMIT,
                    });
                }
                if children.len() > 1 {
                    // A list of one is deleted as cheaply by itself.
                    let start = plan.reached.len();
                    let end = start + children.len();
                    (plan.lists).push(LeafList {
                        table: ct,
                        fk,
                        parent: k,
                        start,
                        end,
                    });
                }
                plan.reached.extend(children.iter().map(|&c| (ct, c)));
            }
            for (at, &(ct, fk)) in incoming.iter().enumerate() {
                let fkdef = &self.schema.inner.tables[ct].def.fks[fk];
                let cascades = fkdef.cascades();
                if cascades && at >= direct {
                    continue; // reached above
                }
                let children = self.tables[ct].children(fk, k);
                if children.is_empty() {
                    continue;
                }
                match (fkdef.orphan, fkdef.on_delete) {
                    (true, _) | (_, OnDelete::Cascade) => {
                        // Unless the schema says this table's records can be reached twice
                        // from the root's table, each has one parent that can reach it, and
                        // that parent is reached once: no need to look it up.
                        let once = !rejoins[ct];
                        for &c in children.iter().rev() {
                            if once || seen.insert((ct, c)) {
                                stack.push((ct, c, depth + 1));
                            }
                        }
                    }
                    (_, OnDelete::SetNull) => plan.nulls.extend(children.iter().map(|&c| (ct, c, fk))),
                    (_, OnDelete::NoAction) if fkdef.deferrable => {}
                    (_, OnDelete::NoAction) if self.engine == Engine::Sqlite => {
                        restricts.push((t, k, ct, fk))
                    }
                    // RESTRICT, and NO ACTION in PostgreSQL (its check runs before the
                    // cascade's deeper deletes do): the children present when the parent goes.
                    _ => immediate.push((t, k, ct, fk, children.len())),
                }
            }
        }
        if let Some(&(t, k, ct, fk, n)) = immediate.first() {
            return Err(self.restricted(t, k, ct, fk, n));
        }
        if !restricts.is_empty() || !plan.nulls.is_empty() {
            // `seen` holds only the records a second path could reach: ask every one reached.
            let reached: HashSet<(usize, RawKey)> = plan.reached.iter().copied().collect();
            for (t, k, ct, fk) in restricts {
                let blocking = self.tables[ct]
                    .children(fk, k)
                    .iter()
                    .filter(|&&c| !reached.contains(&(ct, c)))
                    .count();
                if blocking > 0 {
                    return Err(self.restricted(t, k, ct, fk, blocking));
                }
            }
            plan.nulls.retain(|(ct, c, _)| !reached.contains(&(*ct, *c)));
        }
        if !plan.nulls.is_empty() {
            self.check_nulls(&plan.nulls)?;
        }
        plan.unlinks = self.edges_of(&plan.reached);
        Ok(plan)
    }

    /// SET NULL is an UPDATE of the child's key: the child must satisfy its CHECKs after each
    /// of its keys the delete clears (a child may lose two keys to one delete). Called only when
    /// the delete sets something NULL, out of line; the grouping (a map and a list per child) is
    /// built only when a child's entity declares a CHECK.
    #[inline(never)]
    fn check_nulls(&self, nulls: &[(usize, RawKey, usize)]) -> Result<(), Error> {
        let mut checked = nulls.iter().filter(|n| !self.tables[n.0].def().checks.is_empty());
        let Some(&first) = checked.next() else {
            return Ok(());
        };
        let (mut children, mut at) = (Vec::<(usize, RawKey, Vec<usize>)>::new(), HashMap::new());
        for &(ct, c, fk) in std::iter::once(&first).chain(checked) {
            let i = *at.entry((ct, c)).or_insert_with(|| {
                children.push((ct, c, Vec::new()));
                children.len() - 1
            });
            children[i].2.push(fk);
        }
        for (ct, c, fks) in children {
            self.tables[ct].check_nulled(c, &fks, self.engine)?;
        }
        Ok(())
    }

    /// Every link with an end among `records`, each once, in the order the records come.
    fn edges_of(&self, records: &[(usize, RawKey)]) -> Vec<(usize, RawKey, RawKey)> {
        let mut out = Vec::new();
        if self.relations.is_empty() {
            return out;
        }
        let mut seen = HashSet::new();
        for &(t, k) in records {
            for &(r, left_end) in &self.schema.inner.tables[t].relations {
                let edges = &self.relations[r];
                let pairs: Vec<(RawKey, RawKey)> = if left_end {
                    edges.rights(k).iter().map(|&o| (k, o)).collect()
                } else {
                    edges.lefts(k).iter().map(|&o| (o, k)).collect()
                };
                out.extend(
                    pairs
                        .into_iter()
                        .filter(|&(l, rt)| seen.insert((r, l, rt)))
                        .map(|(l, rt)| (r, l, rt)),
                );
            }
        }
        out
    }

    fn restricted(&self, t: usize, key: RawKey, ct: usize, fk: usize, dependents: usize) -> Error {
        let child = self.tables[ct].def();
        Error::Restricted {
            table: self.tables[t].def().table,
            key,
            child_table: child.table,
            column: child.fk_column(fk),
            relationship: child.fks[fk].back,
            dependents,
            action: child.fks[fk].on_delete,
        }
    }

    /// Nulls first, then deletes, leaves before their parents (`reached` from its end). A
    /// run of leaves that is a whole children list ([`LeafList`]) goes in one call to its
    /// table, which empties the list once; the records are journalled one by one as any
    /// delete is, so undo puts each back by itself.
    fn apply_delete(&mut self, plan: &Plan) -> Result<(), Error> {
        for &(r, l, rt) in &plan.unlinks {
            self.remove_link(r, l, rt)?;
        }
        for &(ct, c, fk) in &plan.nulls {
            if self.tables[ct].p_set_fk(c, fk, None)? {
                self.record(Change::Updated { table: ct, key: c })?;
            }
        }
        let mut lists = plan.lists.iter().rev().peekable();
        let mut end = plan.reached.len();
        while end > 0 {
            if let Some(list) = lists.next_if(|l| l.end == end) {
                let run = &plan.reached[list.start..list.end];
                let deleted = self.tables[list.table].p_delete_list(list.fk, list.parent, run);
                let gone = &run[run.len() - deleted..];
                self.record_deletes(list.table, gone.iter().rev().map(|&(_, k)| k))?;
                end -= deleted; // the rest of the run, if any, one by one below
                continue;
            }
            end -= 1;
            let (t, k) = plan.reached[end];
            if self.tables[t].p_delete(k) {
                self.record(Change::Deleted { table: t, key: k })?;
            }
        }
        Ok(())
    }

    fn report(&self, plan: &Plan) -> DeleteReport {
        DeleteReport {
            deleted: plan
                .reached
                .iter()
                .map(|&(t, key)| DeletedRecord {
                    table: self.schema.inner.tables[t].def.table,
                    key,
                })
                .collect(),
            nulled: plan
                .nulls
                .iter()
                .map(|&(t, key, fk)| {
                    let def = self.tables[t].def();
                    NulledReference {
                        table: def.table,
                        column: def.fk_column(fk),
                        key,
                    }
                })
                .collect(),
            unlinked: plan
                .unlinks
                .iter()
                .map(|&(r, left, right)| UnlinkedPair {
                    relation: self.schema.inner.relations[r].name,
                    left,
                    right,
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Seen, SHORT};
    use crate::key::RawKey;

    /// A cascade's seen set answers the same through the switch from list to hash set: every
    /// record once, repeats refused, before and after.
    #[test]
    fn seen_refuses_repeats_across_the_switch_to_a_set() {
        let key = |i: u64| RawKey::from_u64(i << 32 | 1);
        let mut seen = Seen::default();
        for i in 1..=(SHORT as u64 * 3) {
            assert!(seen.insert((i as usize % 3, key(i))), "record {i} is new");
            assert!(!seen.insert((i as usize % 3, key(i))), "record {i} again");
            assert!(seen.contains(&(i as usize % 3, key(i))));
            assert!(!seen.contains(&(i as usize % 3 + 1, key(i))));
        }
        for i in 1..=(SHORT as u64 * 3) {
            assert!(
                !seen.insert((i as usize % 3, key(i))),
                "record {i} after the switch"
            );
        }
    }
}
