//! State diffs for assertions: which records a piece of code inserted, deleted and updated
//! (with the changed fields), and which links it added and removed, cascades included.
//!
//! [`Store::changes_since`] reads only the journal after a fixture mark: its cost is
//! proportional to the change, not to the store. [`Store::diff`] compares two whole stores of
//! one schema (a fixture and its fork, say) in O(records).

use std::fmt;

use hashbrown::HashMap;

use crate::entity::Entity;
use crate::error::Error;
use crate::key::RawKey;
use crate::relation::ManyToMany;
use crate::store::{Mark, Store};

/// The difference between two states of a store: see [`Store::changes_since`].
///
/// It lists records and links, not their order: a child moved to another parent and back,
/// or a pair unlinked and linked again, changes the order `children` and `rights` answer
/// in (and `==` between stores sees that), yet leaves no diff. An empty diff means the same
/// records with the same values and the same links.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Diff {
    /// Per table with any change, in schema order.
    pub tables: Vec<TableDiff>,
    /// Per many-to-many relation with any change, in schema order.
    pub relations: Vec<RelationDiff>,
}

/// The changes to one table.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TableDiff {
    /// The table.
    pub table: &'static str,
    /// Records that exist now and did not before, with their values.
    pub inserted: Vec<Record>,
    /// Records whose values changed.
    pub updated: Vec<Update>,
    /// Records that existed before and do not now, with their old values.
    pub deleted: Vec<Record>,
}

/// One record and its values (column, SQL-style rendering), in field order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// The record's key.
    pub key: RawKey,
    /// `(column, value)` for every field.
    pub values: Vec<(&'static str, String)>,
}

/// One updated record: each changed column with its old and new value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Update {
    /// The record's key.
    pub key: RawKey,
    /// `(column, old, new)` for every changed field.
    pub changes: Vec<(&'static str, String, String)>,
}

/// The changes to one many-to-many relation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RelationDiff {
    /// The relation.
    pub relation: &'static str,
    /// The left end's table.
    pub left_table: &'static str,
    /// The right end's table.
    pub right_table: &'static str,
    /// Pairs linked now and not before.
    pub added: Vec<(RawKey, RawKey)>,
    /// Pairs linked before and not now.
    pub removed: Vec<(RawKey, RawKey)>,
}

impl Diff {
    /// `true` when nothing changed. O(1).
    ///
    /// ```
    /// # use relata::{Entity, ManyToMany, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct User { name: String }
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct Group { name: String }
    /// const MEMBERS: ManyToMany<User, Group> = ManyToMany::new("members", "groups", "users");
    /// let schema = Schema::builder().entity::<User>().entity::<Group>().relation(MEMBERS).build()?;
    /// let mut before = Store::new(schema);
    /// let g = before.insert(Group { name: "admin".into() })?;
    /// let mut after = before.fork();
    /// let u = after.insert(User { name: "ada".into() })?;
    /// after.link(MEMBERS, u, g)?;
    /// let diff = after.diff(&before)?;
    /// assert!(!diff.is_empty());
    /// assert_eq!(diff.counts(), [("users", 1, 0, 0)]);
    /// assert_eq!(diff.table::<User>().inserted[0].key, u.raw());
    /// assert!(diff.table::<Group>().inserted.is_empty());
    /// assert_eq!(diff.relation(MEMBERS).added, [(u.raw(), g.raw())]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.tables.is_empty() && self.relations.is_empty()
    }

    /// The changes to entity type `E`'s table (empty if none). Named by the type, not by a
    /// string, so a misspelt table cannot pass an assertion by answering "no change".
    /// O(changed tables + the copied changes). Example at [`is_empty`](Self::is_empty).
    pub fn table<E: Entity>(&self) -> TableDiff {
        self.tables
            .iter()
            .find(|t| t.table == E::DEF.table)
            .cloned()
            .unwrap_or_default()
    }

    /// `(inserted, updated, deleted)` counts per changed table: handy in assertions like
    /// "this call inserted exactly one post and changed nothing else". O(changed tables).
    /// Example at [`is_empty`](Self::is_empty).
    pub fn counts(&self) -> Vec<(&'static str, usize, usize, usize)> {
        self.tables
            .iter()
            .map(|t| (t.table, t.inserted.len(), t.updated.len(), t.deleted.len()))
            .collect()
    }

    /// The changes to `relation` (empty if none). Named by the relation's constant, as
    /// [`Store::link`](crate::Store::link) takes it, not by a string that may be misspelt.
    /// O(changed relations + the copied changes). Example at [`is_empty`](Self::is_empty).
    pub fn relation<L, R>(&self, relation: ManyToMany<L, R>) -> RelationDiff {
        self.relations
            .iter()
            .find(|r| r.relation == relation.name())
            .cloned()
            .unwrap_or_default()
    }
}

fn record_line(f: &mut fmt::Formatter<'_>, sign: char, table: &str, r: &Record) -> fmt::Result {
    let fields: Vec<String> = r.values.iter().map(|(c, v)| format!("{c}: {v}")).collect();
    writeln!(f, "  {sign} {table}[{}] {{{}}}", r.key, fields.join(", "))
}

impl fmt::Display for Diff {
    /// One line per changed table or relation, then one line per record or link:
    /// `+` inserted, `-` deleted, `~` updated (`column: old -> new`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return writeln!(f, "no changes");
        }
        for t in &self.tables {
            writeln!(
                f,
                "{}: +{} ~{} -{}",
                t.table,
                t.inserted.len(),
                t.updated.len(),
                t.deleted.len()
            )?;
            for r in &t.inserted {
                record_line(f, '+', t.table, r)?;
            }
            for u in &t.updated {
                let changes: Vec<String> = u
                    .changes
                    .iter()
                    .map(|(c, o, n)| format!("{c}: {o} -> {n}"))
                    .collect();
                writeln!(f, "  ~ {}[{}] {}", t.table, u.key, changes.join(", "))?;
            }
            for r in &t.deleted {
                record_line(f, '-', t.table, r)?;
            }
        }
        for r in &self.relations {
            writeln!(f, "{}: +{} -{} links", r.relation, r.added.len(), r.removed.len())?;
            for (sign, pairs) in [('+', &r.added), ('-', &r.removed)] {
                for (l, rt) in pairs {
                    writeln!(f, "  {sign} {}[{l}] -> {}[{rt}]", r.left_table, r.right_table)?;
                }
            }
        }
        Ok(())
    }
}

/// A record with its rendered values before and after (`None`: absent).
pub(crate) type BeforeAfter = (RawKey, Option<Vec<String>>, Option<Vec<String>>);

/// Builds a table's diff from its records' values before and after.
pub(crate) fn table_diff(
    table: &'static str,
    columns: &[&'static str],
    mut changes: Vec<BeforeAfter>,
) -> Option<TableDiff> {
    changes.sort_by_key(|c| c.0);
    let mut out = TableDiff {
        table,
        ..TableDiff::default()
    };
    let record = |key, values: Vec<String>| Record {
        key,
        values: columns.iter().copied().zip(values).collect(),
    };
    for (key, before, after) in changes {
        match (before, after) {
            (None, Some(now)) => out.inserted.push(record(key, now)),
            (Some(old), None) => out.deleted.push(record(key, old)),
            (Some(old), Some(now)) if old != now => {
                let changed = columns.iter().zip(old).zip(now).filter(|((_, o), n)| o != n);
                let changes = changed.map(|((c, o), n)| (*c, o, n)).collect();
                out.updated.push(Update { key, changes });
            }
            _ => {}
        }
    }
    let any = !(out.inserted.is_empty() && out.deleted.is_empty() && out.updated.is_empty());
    any.then_some(out)
}

impl Store {
    /// What changed since `mark`: records inserted, deleted and updated (with the changed
    /// fields), links added and removed, cascaded effects included; net of changes undone.
    /// Cost: O(changes since the oldest mark or transaction still open), whatever the store's
    /// size: the journal is read from its start to place each old row (for the usual
    /// fixture mark, the one open, that is the changes since it).
    ///
    /// # Errors
    /// [`Error::UnknownMark`] if the mark is not open in this store.
    ///
    /// ```
    /// # use relata::{Entity, Key, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct User { #[relata(unique)] name: String }
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct Post { title: String, #[relata(on_delete = "cascade")] author: Key<User> }
    /// let mut store = Store::new(Schema::builder().entity::<User>().entity::<Post>().build()?);
    /// let alice = store.insert(User { name: "alice".into() })?;
    /// let mark = store.mark()?;
    /// store.insert(Post { title: "Hello".into(), author: alice })?;   // the code under test
    /// let diff = store.changes_since(&mark)?;
    /// assert_eq!(diff.counts(), [("posts", 1, 0, 0)]);   // exactly one post, nothing else
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn changes_since(&self, mark: &Mark) -> Result<Diff, Error> {
        let start = self.mark_position(mark).ok_or(Error::UnknownMark)?;
        Ok(self.journal_diff(start))
    }

    /// The difference from `before` to `self`, for two stores of the same schema (typically a
    /// fixture and a fork of it). Cost: O(records + links) of both; within one store,
    /// [`changes_since`](Self::changes_since) a mark costs O(changes since the oldest open
    /// mark) instead.
    ///
    /// # Errors
    /// [`Error::UnrelatedStores`] when the two stores do not share a schema.
    ///
    /// ```
    /// # use relata::{Entity, Key, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct User { #[relata(unique)] name: String }
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct Post { title: String, #[relata(on_delete = "cascade")] author: Key<User> }
    /// let mut fixture = Store::new(Schema::builder().entity::<User>().entity::<Post>().build()?);
    /// let ann = fixture.insert(User { name: "ann".into() })?;
    /// fixture.insert(Post { title: "one".into(), author: ann })?;
    /// let mut after = fixture.fork();
    /// after.update(ann, |u| u.name = "anna".into())?;       // the code under test, on the fork
    /// after.insert(Post { title: "two".into(), author: ann })?;
    /// let diff = after.diff(&fixture)?;
    /// assert_eq!(diff.counts(), [("users", 0, 1, 0), ("posts", 1, 0, 0)]);
    /// assert!(fixture.diff(&fixture.fork())?.is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn diff(&self, before: &Store) -> Result<Diff, Error> {
        if !self.schema.same_as(&before.schema) {
            return Err(Error::UnrelatedStores);
        }
        let mut diff = Diff::default();
        for (t, table) in self.tables.iter().enumerate() {
            let def = table.def();
            let columns: Vec<&'static str> = def.fields.iter().map(|f| f.column).collect();
            let mut keys = table.keys();
            keys.extend(before.tables[t].keys());
            keys.sort_unstable();
            keys.dedup();
            let changes = keys
                .into_iter()
                .map(|k| (k, before.tables[t].render(k), table.render(k)))
                .collect();
            diff.tables.extend(table_diff(def.table, &columns, changes));
        }
        for (r, edges) in self.relations.iter().enumerate() {
            let now: Vec<(RawKey, RawKey)> = edges.pairs().into_iter().map(|(_, l, rt)| (l, rt)).collect();
            let then: Vec<(RawKey, RawKey)> = before.relations[r]
                .pairs()
                .into_iter()
                .map(|(_, l, rt)| (l, rt))
                .collect();
            let added = now
                .iter()
                .filter(|p| !before.relations[r].contains(p.0, p.1))
                .copied()
                .collect();
            let removed = then
                .iter()
                .filter(|p| !edges.contains(p.0, p.1))
                .copied()
                .collect();
            push_relation(&mut diff, self.relation_names(r), added, removed);
        }
        Ok(diff)
    }

    /// The net effect of the journal after position `start`.
    fn journal_diff(&self, start: usize) -> Diff {
        let mut diff = Diff::default();
        let (records, pairs) = self.first_changes(start);
        for (t, table) in self.tables.iter().enumerate() {
            let def = table.def();
            let columns: Vec<&'static str> = def.fields.iter().map(|f| f.column).collect();
            let changes = records
                .iter()
                .filter(|((rt, _), _)| *rt == t)
                .map(|(&(_, k), before)| (k, table.render_before(k, before), table.render(k)))
                .collect();
            diff.tables.extend(table_diff(def.table, &columns, changes));
        }
        for (r, edges) in self.relations.iter().enumerate() {
            let mut added = Vec::new();
            let mut removed = Vec::new();
            for (&(pr, l, rt), &existed) in &pairs {
                match (pr == r, existed, edges.contains(l, rt)) {
                    (true, false, true) => added.push((l, rt)),
                    (true, true, false) => removed.push((l, rt)),
                    _ => {}
                }
            }
            added.sort_unstable();
            removed.sort_unstable();
            push_relation(&mut diff, self.relation_names(r), added, removed);
        }
        diff
    }
}

type Names = (&'static str, &'static str, &'static str);

fn push_relation(
    diff: &mut Diff,
    names: Names,
    added: Vec<(RawKey, RawKey)>,
    removed: Vec<(RawKey, RawKey)>,
) {
    let (relation, left_table, right_table) = names;
    if !added.is_empty() || !removed.is_empty() {
        diff.relations.push(RelationDiff {
            relation,
            left_table,
            right_table,
            added,
            removed,
        });
    }
}

impl Store {
    fn relation_names(&self, r: usize) -> Names {
        let rel = &self.schema.inner.relations[r];
        (
            rel.name,
            self.tables[rel.left].def().table,
            self.tables[rel.right].def().table,
        )
    }
}

/// Per record touched after a journal position: its state before (see [`Before`]). Per pair:
/// whether it existed.
pub(crate) type FirstChanges = (
    HashMap<(usize, RawKey), Before>,
    HashMap<(usize, RawKey, RawKey), bool>,
);

/// A touched record's state before a journal position: a row, with the parents of the keys
/// that moved (`Change::Moved`, which keeps no old row) before any old row was kept put back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Before {
    pub(crate) row: BeforeRow,
    /// Per moved foreign key, its parent before the first move.
    pub(crate) parents: Vec<(usize, RawKey)>,
}

/// Where the row of a [`Before`] lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BeforeRow {
    /// The record did not exist.
    Absent,
    /// In its table's undo stack at this position.
    Undo(usize),
    /// The record's row now: only its keys moved since (so far in the walk).
    Now,
}
