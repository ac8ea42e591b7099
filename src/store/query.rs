//! Queries: a set of keys of one entity type, filtered and navigated through relationships.
//!
//! Each step is eager (it computes the next key list) and keeps a deterministic order: the
//! order of the previous step, then link order, each key once.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::ops::RangeBounds;

use hashbrown::HashSet;

use crate::entity::{Entity, Fk, Index};
use crate::error::Error;
use crate::index::ordered::{OrderedIndex, Run};
use crate::key::{Key, RawKey};
use crate::relation::ManyToMany;
use crate::store::scan::{check_index_values, with_bound, within, Given};
use crate::store::table::{has_null, order_cmp, prefix_cmp, Nulls, Table};
use crate::store::Store;
use crate::value::{QueryValue, Value};

/// An ordered set of records of type `E`; see [`Store::query`].
///
/// ```
/// use relata::{Entity, Key, Schema, Store};
///
/// #[derive(Entity, Clone, Debug, PartialEq)]
/// #[relata(table = "users")]
/// struct User { #[relata(unique)] name: String }
/// #[derive(Entity, Clone, Debug, PartialEq)]
/// #[relata(table = "groups")]
/// struct Group { #[relata(unique)] name: String }
/// #[derive(Entity, Clone, Debug, PartialEq)]
/// #[relata(table = "user_groups", unique(user, group))]
/// struct UserGroup {
///     #[relata(on_delete = "cascade")] user: Key<User>,
///     #[relata(on_delete = "cascade")] group: Key<Group>,
///     joined_on: i64,
/// }
/// #[derive(Entity, Clone, Debug, PartialEq)]
/// struct Post { title: String, #[relata(on_delete = "cascade")] author: Key<User> }
///
/// let schema = Schema::builder()
///     .entity::<User>().entity::<Group>().entity::<UserGroup>().entity::<Post>().build()?;
/// let mut s = Store::new(schema);
/// let (alice, bob, carol) = (
///     s.insert(User { name: "alice".into() })?,
///     s.insert(User { name: "bob".into() })?,
///     s.insert(User { name: "carol".into() })?,
/// );
/// let admin = s.insert(Group { name: "admin".into() })?;
/// s.insert(UserGroup { user: alice, group: admin, joined_on: 1 })?;
/// s.insert(UserGroup { user: bob, group: admin, joined_on: 2 })?;
/// let hi = s.insert(Post { title: "hi".into(), author: bob })?;
///
/// // All posts written by members of admin.
/// let posts = s.query_keys([admin]).through(UserGroup::GROUP, UserGroup::USER).children(Post::AUTHOR);
/// assert_eq!(posts.keys(), [hi]);
/// // Users in no group, and in some group.
/// assert_eq!(s.query::<User>().without_children(UserGroup::USER).keys(), [carol]);
/// assert_eq!(s.query::<User>().with_children(UserGroup::USER).keys(), [alice, bob]);
/// // Member count per group.
/// assert_eq!(s.query::<Group>().count_children(UserGroup::GROUP), [(admin, 2)]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Query<'s, E> {
    store: &'s Store,
    /// `None`: every record, in slot order (listed only when a step needs the list).
    keys: Option<Vec<Key<E>>>,
}

impl<E> Clone for Query<'_, E> {
    fn clone(&self) -> Self {
        Query {
            store: self.store,
            keys: self.keys.clone(),
        }
    }
}

impl Store {
    /// Every record of type `E`, in slot order. O(1): the records are listed by the first
    /// step that needs them (O(n)). Examples at [`Query`] and [`Query::filter`].
    pub fn query<E: Entity>(&self) -> Query<'_, E> {
        Query {
            store: self,
            keys: None,
        }
    }

    /// The given records (stale keys are dropped, duplicates kept once). O(k) average for k
    /// keys. Example at [`Query`].
    pub fn query_keys<E: Entity>(&self, keys: impl IntoIterator<Item = Key<E>>) -> Query<'_, E> {
        let keys = keys.into_iter().filter(|k| self.contains(*k));
        Query::listed(self, distinct(keys))
    }

    /// The read-only many-to-many view over an association entity `A`: from `key` through
    /// `A`'s key `from` to the records `A`'s key `to` references, in link order. E.g. the
    /// groups of a user through `UserGroup::USER` then `UserGroup::GROUP`. O(1) to start,
    /// O(1) per record (a record reached through two association rows is listed twice;
    /// [`Query::through`] lists it once).
    ///
    /// ```
    /// # use relata::{Entity, Key, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct User { name: String }
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct Group { name: String }
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct Member { user: Key<User>, group: Key<Group> }
    /// let schema = Schema::builder().entity::<User>().entity::<Group>().entity::<Member>().build()?;
    /// let mut s = Store::new(schema);
    /// let ada = s.insert(User { name: "ada".into() })?;
    /// let admin = s.insert(Group { name: "admin".into() })?;
    /// s.insert(Member { user: ada, group: admin })?;
    /// assert_eq!(s.through(Member::USER, Member::GROUP, ada).collect::<Vec<_>>(), [admin]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn through<A: Entity, L: Entity, R: Entity>(
        &self,
        from: Fk<A, L>,
        to: Fk<A, R>,
        key: Key<L>,
    ) -> impl Iterator<Item = Key<R>> + '_ {
        let rows = self.records::<A>(); // found once, not per association row
        rows.children(from, key).filter_map(move |a| rows.parent(to, a))
    }
}

fn distinct<T: Copy + Eq + std::hash::Hash>(items: impl IntoIterator<Item = T>) -> Vec<T> {
    let mut seen = HashSet::new();
    items.into_iter().filter(|k| seen.insert(*k)).collect()
}

impl<'s, E: Entity> Query<'s, E> {
    /// Keeps the records whose view satisfies `pred`. O(k) for the query's k records.
    ///
    /// ```
    /// # use relata::{Entity, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct User { name: String, visits: i64 }
    /// let mut s = Store::new(Schema::builder().entity::<User>().build()?);
    /// let [a, b, c] = [3, 0, 5].map(|visits| s.insert(User { name: "u".into(), visits }).unwrap());
    /// let active = || s.query::<User>().filter(|u| u.visits > 0);
    /// assert_eq!(active().keys(), [a, c]);
    /// assert_eq!(active().offset(1).keys(), [c]);
    /// assert_eq!(active().limit(1).keys(), [a]);
    /// assert_eq!(active().iter().map(|(_, u)| u.visits).sum::<i64>(), 8);
    /// assert!(s.query::<User>().filter(|u| u.visits > 9).is_empty());
    /// # let _ = b;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn filter(mut self, mut pred: impl FnMut(E::Ref<'s>) -> bool) -> Self {
        let store = self.store;
        self.list_mut().retain(|k| store.get(*k).is_some_and(&mut pred));
        self
    }

    /// Keeps the records whose indexed column equals `value` (SQL `WHERE col = ?`): on a
    /// whole-table query, the index's hits ([`Store::find_by`], O(1) average plus the k hits);
    /// otherwise a filter of the query's k records, O(k).
    ///
    /// ```
    /// # use relata::{Entity, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct Event { #[relata(index)] day: i64, #[relata(index)] room: i64 }
    /// let mut s = Store::new(Schema::builder().entity::<Event>().build()?);
    /// let a = s.insert(Event { day: 1, room: 7 })?;
    /// s.insert(Event { day: 1, room: 8 })?;
    /// s.insert(Event { day: 2, room: 7 })?;
    /// assert_eq!(s.query::<Event>().find_by(Event::BY_DAY, &1).find_by(Event::BY_ROOM, &7).keys(), [a]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn find_by<Q: QueryValue + ?Sized>(mut self, by: Index<E, Q>, value: &Q) -> Self {
        let hits = self.store.find_by(by, value);
        if self.keys.is_none() {
            // Every record, in slot order: the hits are in key order, the same order.
            self.keys = Some(hits.collect());
            return self;
        }
        let hits: HashSet<Key<E>> = hits.collect();
        self.list_mut().retain(|k| hits.contains(k));
        self
    }

    /// The children of every record through `fk`, each parent's in link order. O(k) for the
    /// k children. A query's records are distinct and a child has one parent through `fk`,
    /// so the children are distinct as listed. Example at [`Query`].
    pub fn children<C: Entity>(self, fk: Fk<C, E>) -> Query<'s, C> {
        let store = self.store;
        let mut keys = Vec::new();
        if let Ok(t) = store.table::<C>() {
            for parent in self.each() {
                keys.extend(
                    t.children(fk.index, parent.raw())
                        .iter()
                        .map(|&k| Key::from_raw(k)),
                );
            }
        }
        Query::listed(store, keys)
    }

    /// The distinct parents of the records through `fk` (records with a NULL key add none),
    /// in the order first reached. O(k) average.
    ///
    /// ```
    /// # use relata::{Entity, Key, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct User { name: String }
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct Post { long: bool, author: Key<User> }
    /// let mut s = Store::new(Schema::builder().entity::<User>().entity::<Post>().build()?);
    /// let [ada, bo] = ["ada", "bo"].map(|n| s.insert(User { name: n.into() }).unwrap());
    /// for (author, long) in [(bo, true), (ada, false), (bo, true)] {
    ///     s.insert(Post { long, author })?;
    /// }
    /// // The authors of long posts.
    /// assert_eq!(s.query::<Post>().filter(|p| p.long).parents(Post::AUTHOR).keys(), [bo]);
    /// # let _ = ada;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn parents<P: Entity>(self, fk: Fk<E, P>) -> Query<'s, P> {
        let store = self.store;
        let keys = self.each().filter_map(|k| store.parent(fk, k));
        Query::listed(store, distinct(keys))
    }

    /// The distinct right ends linked to the records (e.g. the groups of some users), in
    /// the order first reached. O(k) average for the k links read.
    ///
    /// ```
    /// # use relata::{Entity, ManyToMany, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct User { name: String }
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct Group { name: String }
    /// const MEMBERS: ManyToMany<User, Group> = ManyToMany::new("user_groups", "groups", "members");
    /// let mut s = Store::new(Schema::builder().entity::<User>().entity::<Group>().relation(MEMBERS).build()?);
    /// let [ada, bo, cy] = ["ada", "bo", "cy"].map(|n| s.insert(User { name: n.into() }).unwrap());
    /// let [admin, ops] = ["admin", "ops"].map(|n| s.insert(Group { name: n.into() }).unwrap());
    /// s.link(MEMBERS, ada, admin)?;
    /// s.link(MEMBERS, ada, ops)?;
    /// s.link(MEMBERS, bo, ops)?;
    /// assert_eq!(s.query_keys([ada, bo]).rights(MEMBERS).keys(), [admin, ops]);
    /// assert_eq!(s.query_keys([ops]).lefts(MEMBERS).keys(), [ada, bo]);
    /// assert_eq!(s.query::<User>().with_rights(MEMBERS).keys(), [ada, bo]);
    /// assert_eq!(s.query::<User>().without_rights(MEMBERS).keys(), [cy]);
    /// assert_eq!(s.query::<Group>().with_lefts(MEMBERS).keys(), [admin, ops]);
    /// assert!(s.query::<Group>().without_lefts(MEMBERS).is_empty());
    /// assert_eq!(s.query::<User>().count_rights(MEMBERS), [(ada, 2), (bo, 1), (cy, 0)]);
    /// assert_eq!(s.query::<Group>().count_lefts(MEMBERS), [(admin, 1), (ops, 2)]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn rights<R: Entity>(self, rel: ManyToMany<E, R>) -> Query<'s, R> {
        let store = self.store;
        let keys = self.each().flat_map(|k| store.rights(rel, k));
        Query::listed(store, distinct(keys))
    }

    /// The distinct left ends linked to the records (e.g. the members of some groups), in
    /// the order first reached. O(k) average for the k links read. Example at
    /// [`rights`](Self::rights).
    pub fn lefts<L: Entity>(self, rel: ManyToMany<L, E>) -> Query<'s, L> {
        let store = self.store;
        let keys = self.each().flat_map(|k| store.lefts(rel, k));
        Query::listed(store, distinct(keys))
    }

    /// Navigates an association entity `A`: from the records through `A`'s key `from` to what
    /// `A`'s key `to` references, each record once, in the order first reached. O(k) average
    /// for the k association records read. Example at [`Query`].
    pub fn through<A: Entity, R: Entity>(self, from: Fk<A, E>, to: Fk<A, R>) -> Query<'s, R> {
        let store = self.store;
        let keys = self.each().flat_map(move |k| store.through(from, to, k));
        Query::listed(store, distinct(keys))
    }

    /// Keeps the records with no child through `fk` (e.g. users in no group). O(k). Example
    /// at [`Query`].
    pub fn without_children<C: Entity>(mut self, fk: Fk<C, E>) -> Self {
        let store = self.store;
        self.list_mut().retain(|k| store.child_count(fk, *k) == 0);
        self
    }

    /// Keeps the records with at least one child through `fk`. O(k). Example at [`Query`].
    pub fn with_children<C: Entity>(mut self, fk: Fk<C, E>) -> Self {
        let store = self.store;
        self.list_mut().retain(|k| store.child_count(fk, *k) > 0);
        self
    }

    /// Keeps the records linked to no right end of `rel`. O(k). Example at
    /// [`rights`](Self::rights).
    pub fn without_rights<R: Entity>(mut self, rel: ManyToMany<E, R>) -> Self {
        let store = self.store;
        self.list_mut().retain(|k| store.rights(rel, *k).len() == 0);
        self
    }

    /// Keeps the records linked to at least one right end of `rel` (the counterpart of
    /// [`without_rights`](Self::without_rights)). O(k). Example at [`rights`](Self::rights).
    pub fn with_rights<R: Entity>(mut self, rel: ManyToMany<E, R>) -> Self {
        let store = self.store;
        self.list_mut().retain(|k| store.rights(rel, *k).len() > 0);
        self
    }

    /// Keeps the records linked to at least one left end of `rel`. O(k). Example at
    /// [`rights`](Self::rights).
    pub fn with_lefts<L: Entity>(mut self, rel: ManyToMany<L, E>) -> Self {
        let store = self.store;
        self.list_mut().retain(|k| store.lefts(rel, *k).len() > 0);
        self
    }

    /// Keeps the records linked to no left end of `rel`. O(k). Example at
    /// [`rights`](Self::rights).
    pub fn without_lefts<L: Entity>(mut self, rel: ManyToMany<L, E>) -> Self {
        let store = self.store;
        self.list_mut().retain(|k| store.lefts(rel, *k).len() == 0);
        self
    }

    /// Each record with its number of children through `fk` (e.g. member count per group).
    /// O(k). Example at [`Query`].
    pub fn count_children<C: Entity>(&self, fk: Fk<C, E>) -> Vec<(Key<E>, usize)> {
        self.each().map(|k| (k, self.store.child_count(fk, k))).collect()
    }

    /// Each record with its number of right ends in `rel` (e.g. group count per user), the
    /// counterpart of [`count_lefts`](Self::count_lefts). O(k). Example at
    /// [`rights`](Self::rights).
    pub fn count_rights<R: Entity>(&self, rel: ManyToMany<E, R>) -> Vec<(Key<E>, usize)> {
        self.each()
            .map(|k| (k, self.store.rights(rel, k).len()))
            .collect()
    }

    /// Each record with its number of left ends in `rel` (e.g. member count per group).
    /// O(k). Example at [`rights`](Self::rights).
    pub fn count_lefts<L: Entity>(&self, rel: ManyToMany<L, E>) -> Vec<(Key<E>, usize)> {
        self.each().map(|k| (k, self.store.lefts(rel, k).len())).collect()
    }

    /// The keys, in query order. O(k). Example at [`filter`](Self::filter).
    pub fn keys(self) -> Vec<Key<E>> {
        match self.keys {
            Some(keys) => keys,
            None => self.store.keys::<E>().collect(),
        }
    }

    /// How many records. O(1).
    ///
    /// ```
    /// # use relata::{Entity, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct Tag { #[relata(unique)] name: String }
    /// let mut s = Store::new(Schema::builder().entity::<Tag>().build()?);
    /// s.insert(Tag { name: "rust".into() })?;
    /// assert_eq!(s.query::<Tag>().count(), 1);
    /// assert!(!s.query::<Tag>().is_empty()); // SQL `EXISTS`
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn count(&self) -> usize {
        match &self.keys {
            Some(keys) => keys.len(),
            None => self.store.count::<E>(),
        }
    }

    /// `true` if no record matched; `!is_empty()` is SQL's `EXISTS`. O(1). Examples at
    /// [`filter`](Self::filter) and [`count`](Self::count).
    pub fn is_empty(&self) -> bool {
        self.count() == 0
    }

    /// The first record in query order. O(1).
    ///
    /// ```
    /// # use relata::{Entity, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct Tag { #[relata(unique)] name: String }
    /// let mut s = Store::new(Schema::builder().entity::<Tag>().build()?);
    /// let rust = s.insert(Tag { name: "rust".into() })?;
    /// assert_eq!(s.query::<Tag>().first(), Some(rust));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn first(&self) -> Option<Key<E>> {
        self.each().next()
    }

    /// Skips the first `n` records (SQL `OFFSET`). O(k). Example at [`filter`](Self::filter).
    pub fn offset(mut self, n: usize) -> Self {
        let keys = self.list_mut();
        keys.drain(..n.min(keys.len()));
        self
    }

    /// Keeps the first `n` records (SQL `LIMIT`). O(1) on a listed query, O(n) on a whole
    /// table (which is listed first). Example at [`filter`](Self::filter).
    pub fn limit(mut self, n: usize) -> Self {
        self.list_mut().truncate(n);
        self
    }

    /// The records with their views, in query order. O(1) per record. Example at
    /// [`filter`](Self::filter).
    pub fn iter(&self) -> impl Iterator<Item = (Key<E>, E::Ref<'s>)> + '_ {
        let rows = self.store.records::<E>(); // the table and its text found once
        self.each().filter_map(move |k| rows.get(k).map(|r| (k, r)))
    }

    fn listed(store: &'s Store, keys: Vec<Key<E>>) -> Self {
        Query {
            store,
            keys: Some(keys),
        }
    }

    /// The keys in query order.
    fn each(&self) -> impl Iterator<Item = Key<E>> + '_ {
        let (listed, all) = match &self.keys {
            Some(keys) => (Some(keys.iter().copied()), None),
            None => (None, Some(self.store.keys::<E>())),
        };
        listed.into_iter().flatten().chain(all.into_iter().flatten())
    }

    /// The key list, listing every record first if the query still means the whole table.
    fn list_mut(&mut self) -> &mut Vec<Key<E>> {
        let store = self.store;
        self.keys.get_or_insert_with(|| store.keys::<E>().collect())
    }
}

/// A direction of [`Query::order_by`]. Where NULL goes follows the store's
/// [`Engine`](crate::Engine): under [`Engine::Sqlite`](crate::Engine::Sqlite) NULL sorts
/// before every value (SQLite's rule), under [`Engine::Postgres`](crate::Engine::Postgres)
/// after every value (PostgreSQL's default, `ASC NULLS LAST`, `DESC NULLS FIRST`); on a
/// composite index, part by part.
///
/// ```
/// # use relata::{Engine, Entity, Order, Schema, Store};
/// #[derive(Entity, Clone, Debug, PartialEq)]
/// struct Task { #[relata(index(ordered))] due: Option<i64> }
/// let schema = Schema::builder().entity::<Task>().build()?;
/// for (engine, nulls_first) in [(Engine::Sqlite, true), (Engine::Postgres, false)] {
///     let mut s = Store::with_engine(schema.clone(), engine);
///     let later = s.insert(Task { due: Some(2) })?;
///     let never = s.insert(Task { due: None })?;
///     let soon = s.insert(Task { due: Some(1) })?;
///     let asc = s.query::<Task>().order_by(Task::BY_DUE, Order::Asc).keys();
///     let want = if nulls_first { [never, soon, later] } else { [soon, later, never] };
///     assert_eq!(asc, want, "{engine:?}");
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Order {
    /// Ascending: smaller values first, NULL first under `Engine::Sqlite` and last under
    /// `Engine::Postgres`; ties by ascending key.
    Asc,
    /// Descending: the exact reverse of [`Order::Asc`] (ties by descending key; NULL last
    /// under `Engine::Sqlite`, first under `Engine::Postgres`).
    Desc,
}

/// A query in the order of an index's values; see [`Query::order_by`]. Nothing is sorted
/// until [`keys`](Self::keys), [`first`](Self::first) or [`iter`](Self::iter).
#[derive(Debug)]
pub struct Sorted<'s, E> {
    query: Query<'s, E>,
    index: usize,
    order: Order,
    offset: usize,
    limit: Option<usize>,
    /// The indexed keys after a keyset cursor, found by a seek ([`Sorted::after`] on a whole
    /// table through its ordered index).
    cursor: Option<Run<'s>>,
}

impl<'s, E: Entity> Query<'s, E> {
    /// The records in the order of index `by`'s values (single-column or composite, ordered or
    /// not), ascending or descending. Ties are broken by key ([`Key`]'s order: slot index, then
    /// generation), so the order is total and the same on every run; [`Order::Desc`] is the
    /// exact reverse of [`Order::Asc`]. NULL sorts as the store's engine sorts it: first
    /// ascending under `Engine::Sqlite`, last ascending under `Engine::Postgres`
    /// (PostgreSQL's default `ASC NULLS LAST`, `DESC NULLS FIRST`); see [`Order`].
    ///
    /// Cost when read: for the whole table and an `index(ordered)`, a walk of the index, O(m)
    /// for the m = offset + limit records read; otherwise a sort of the k records, O(k log k),
    /// or with a limit a selection, O(k + m log m). Ordering the children of a few parents
    /// (a feed: the posts of the users someone follows) costs O(k) for their k records.
    ///
    /// ```
    /// use relata::{Entity, Key, ManyToMany, Order, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct User { #[relata(unique)] name: String }
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct Article {
    ///     #[relata(on_delete = "cascade")] author: Key<User>,
    ///     #[relata(index(ordered))] created_at: i64,
    /// }
    /// const FOLLOWS: ManyToMany<User, User> =
    ///     ManyToMany::new("follows", "following", "followers").columns("follower_id", "followee_id");
    /// let schema = Schema::builder().entity::<User>().entity::<Article>().relation(FOLLOWS).build()?;
    /// let mut s = Store::new(schema);
    /// let [alice, bob, carol] = ["alice", "bob", "carol"].map(|n| s.insert(User { name: n.into() }).unwrap());
    /// s.link(FOLLOWS, alice, bob)?;
    /// s.link(FOLLOWS, alice, carol)?;
    /// let a1 = s.insert(Article { author: bob, created_at: 1 })?;
    /// let a2 = s.insert(Article { author: carol, created_at: 2 })?;
    /// let a3 = s.insert(Article { author: bob, created_at: 3 })?;
    /// s.insert(Article { author: alice, created_at: 4 })?;
    ///
    /// // The articles of the users alice follows, newest first, two per page.
    /// let feed = || s.query_keys([alice]).rights(FOLLOWS).children(Article::AUTHOR)
    ///     .order_by(Article::BY_CREATED_AT, Order::Desc).limit(2);
    /// assert_eq!(feed().keys(), [a3, a2]);
    /// assert_eq!(feed().offset(2).keys(), [a1]);
    /// // Keyset pagination: the page after the last row seen, by its values and key.
    /// assert_eq!(feed().after(a2, &[2.into()])?.keys(), [a1]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn order_by<Q: ?Sized>(self, by: Index<E, Q>, order: Order) -> Sorted<'s, E> {
        Sorted {
            query: self,
            index: by.index,
            order,
            offset: 0,
            limit: None,
            cursor: None,
        }
    }

    /// Keeps the records whose value under the single-column index `by` lies in `range`
    /// (SQL `WHERE col >= a AND col < b`; NULL is never in a range). O(k).
    ///
    /// ```
    /// # use relata::{Entity, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct Event { #[relata(index)] day: i64 }
    /// let mut s = Store::new(Schema::builder().entity::<Event>().build()?);
    /// let days: Vec<_> = (0..5).map(|day| s.insert(Event { day })).collect::<Result<_, _>>()?;
    /// assert_eq!(s.query::<Event>().range(Event::BY_DAY, 1..=2).keys(), days[1..3]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn range<Q: QueryValue + ?Sized, B: Borrow<Q>>(
        mut self,
        by: Index<E, Q>,
        range: impl RangeBounds<B>,
    ) -> Self {
        let Ok(t) = self.store.table::<E>() else {
            return self;
        };
        let Some(&field) = E::DEF.indexes.get(by.index).and_then(|d| d.fields.first()) else {
            return self;
        };
        let (lower, upper) = (
            range.start_bound().map(Borrow::borrow),
            range.end_bound().map(Borrow::borrow),
        );
        with_bound(lower, |lo| {
            with_bound(upper, |hi| {
                self.list_mut().retain(|k| {
                    let v = t.value(k.raw(), field as usize);
                    !v.is_null() && within(|b| b.first().map_or(Ordering::Equal, |b| v.sql_cmp(b)), lo, hi)
                })
            })
        });
        self
    }
}

impl<'s, E: Entity> Sorted<'s, E> {
    /// Skips the first `n` records of the order (SQL `OFFSET`). O(1) here; the records
    /// skipped are read by [`keys`](Self::keys). Example at [`Query::order_by`].
    pub fn offset(mut self, n: usize) -> Self {
        self.offset = self.offset.saturating_add(n);
        self
    }

    /// Reads at most `n` records (SQL `LIMIT`). O(1) here. Example at [`Query::order_by`].
    pub fn limit(mut self, n: usize) -> Self {
        self.limit = Some(self.limit.map_or(n, |l| l.min(n)));
        self
    }

    /// Keeps the records after the row `key` in this order, `values` being that row's
    /// values in the index: keyset pagination (SQL `WHERE (col, id) > (?, ?)`, `<`
    /// descending), with the key and values of the last row of the previous page. "After"
    /// is in this order, NULL placed as the store's engine places it ([`Order`]), so the
    /// pages list the whole order whether or not the last row's value is NULL. The row
    /// itself may have been deleted since. The key comes before the values, as the record
    /// does in every method.
    ///
    /// Cost: on a whole table through an `index(ordered)`, with a value for each of its
    /// columns, none NULL, a seek: O(log n) here, then O(offset + limit) to read the page, so
    /// page 1000 costs what page 1 does. Otherwise a filter of the query's k records, O(k)
    /// here (O(n) for a whole table without an ordered index), then the sort of
    /// [`Query::order_by`].
    ///
    /// # Errors
    /// [`Error::UnknownEntity`] if `E` is not in the schema, [`Error::ValueType`] for a value
    /// not of its column's kind (NULL allowed: the row's value may be NULL), [`Error::TooManyValues`] / [`Error::TooFewValues`] for other than
    /// one value per column of the index; under [`Engine::Postgres`](crate::Engine::Postgres),
    /// [`Error::NulInText`] for text holding a NUL byte, [`Error::NulInJson`] for a JSON
    /// value holding the escape `\u0000`, and [`Error::TransactionAborted`] in an aborted
    /// transaction (as every read returning a `Result`). A value of the wrong kind would sort
    /// by its kind, not its value, and the page would be garbage.
    ///
    /// ```
    /// # use relata::{Entity, Error, Key, Order, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct Post { #[relata(index(ordered))] at: i64 }
    /// let mut s = Store::new(Schema::builder().entity::<Post>().build()?);
    /// let posts: Vec<_> = (0..10).map(|at| s.insert(Post { at })).collect::<Result<_, _>>()?;
    /// // The 4 newest posts after the last one shown (the first page without one).
    /// let page = |last: Option<Key<Post>>| -> Result<Vec<Key<Post>>, Error> {
    ///     let q = s.query::<Post>().order_by(Post::BY_AT, Order::Desc);
    ///     let q = match last.and_then(|k| Some((s.get(k)?.at, k))) {
    ///         Some((at, k)) => q.after(k, &[at.into()])?,
    ///         None => q,
    ///     };
    ///     Ok(q.limit(4).keys())
    /// };
    /// let first = page(None)?;
    /// assert_eq!(first, [posts[9], posts[8], posts[7], posts[6]]);
    /// assert_eq!(page(first.last().copied())?, [posts[5], posts[4], posts[3], posts[2]]);
    /// // A cursor's value must be of the column's kind: text where it holds numbers is refused.
    /// let wrong = s.query::<Post>().order_by(Post::BY_AT, Order::Desc).after(posts[3], &["3".into()]);
    /// assert!(matches!(wrong, Err(Error::ValueType { column: "at", .. })));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn after(mut self, key: Key<E>, values: &[Value<'_>]) -> Result<Self, Error> {
        let store = self.query.store;
        store.refuse_if_aborted()?;
        let t = store.table::<E>()?;
        check_index_values::<E>(store.engine, self.index, values, Given::Row)?;
        let fields = E::DEF.indexes.get(self.index).map_or(&[][..], |d| d.fields);
        let nulls = Nulls::of(store.engine);
        let cmp = |k: RawKey| {
            t.row(k)
                .map_or(Ordering::Less, |r| {
                    prefix_cmp::<E>(nulls, r, &t.text, fields, values)
                })
                .then(k.cmp(&key.raw()))
        };
        if let Some(sorted) = self.seekable(t, fields, values) {
            self.cursor = Some(match self.order {
                Order::Asc => sorted.range(|k| cmp(k).is_le(), |_| true),
                Order::Desc => sorted.range(|_| false, |k| cmp(k).is_lt()),
            });
            return Ok(self);
        }
        if let Some(run) = self.cursor.take() {
            // A second cursor: list what the first one kept, then filter.
            self.query.keys = Some(self.walk_from(t, run, true, 0, None));
        }
        let order = self.order;
        self.query.list_mut().retain(|k| match order {
            Order::Asc => cmp(k.raw()).is_gt(),
            Order::Desc => cmp(k.raw()).is_lt(),
        });
        Ok(self)
    }

    /// The ordered index a cursor `values` can seek in: the query is the whole table, the
    /// index is ordered, and `values` has one non-NULL value per column. On a composite
    /// index, only when no record has a NULL part (those are kept outside the index, and
    /// might sort on either side of the cursor; on a single column they all sort on one
    /// side: see [`walk_from`](Self::walk_from)).
    fn seekable(&self, t: &'s Table<E>, fields: &[u16], values: &[Value<'_>]) -> Option<&'s OrderedIndex> {
        let sorted = t.ordered_index(self.index)?;
        let whole = self.query.keys.is_none() && self.cursor.is_none();
        let exact = values.len() == fields.len() && !values.iter().any(Value::is_null);
        let nulls_outside = fields.len() == 1 || sorted.len() == t.rows.len();
        (whole && exact && nulls_outside).then_some(sorted)
    }

    /// The keys in order, after the offset, at most the limit. Cost: see
    /// [`Query::order_by`] and [`after`](Self::after).
    ///
    /// ```
    /// # use relata::{Entity, Order, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct Tag { #[relata(index(ordered))] name: String }
    /// let mut s = Store::new(Schema::builder().entity::<Tag>().build()?);
    /// let rust = s.insert(Tag { name: "rust".into() })?;
    /// let db = s.insert(Tag { name: "db".into() })?;
    /// assert_eq!(s.query::<Tag>().order_by(Tag::BY_NAME, Order::Asc).keys(), [db, rust]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn keys(mut self) -> Vec<Key<E>> {
        let Ok(t) = self.query.store.table::<E>() else {
            return Vec::new();
        };
        if let Some(run) = self.cursor.take() {
            return self.walk_from(t, run, true, self.offset, self.limit);
        }
        if self.query.keys.is_none() {
            if let Some(sorted) = t.ordered_index(self.index) {
                return self.walk_from(t, sorted.iter(), false, self.offset, self.limit);
            }
        }
        let keys = std::mem::take(self.query.list_mut());
        self.select(t, keys)
    }

    /// The first record in order (after the offset). Cost: see [`Query::order_by`], with a
    /// limit of one.
    ///
    /// ```
    /// # use relata::{Entity, Order, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct Tag { #[relata(index(ordered))] name: String }
    /// let mut s = Store::new(Schema::builder().entity::<Tag>().build()?);
    /// s.insert(Tag { name: "rust".into() })?;
    /// let db = s.insert(Tag { name: "db".into() })?;
    /// assert_eq!(s.query::<Tag>().order_by(Tag::BY_NAME, Order::Asc).first(), Some(db));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn first(self) -> Option<Key<E>> {
        self.limit(1).keys().into_iter().next()
    }

    /// The records with their views, in order. Cost: as [`keys`](Self::keys).
    ///
    /// ```
    /// # use relata::{Entity, Order, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct Tag { #[relata(index(ordered))] name: String }
    /// let mut s = Store::new(Schema::builder().entity::<Tag>().build()?);
    /// s.insert(Tag { name: "rust".into() })?;
    /// s.insert(Tag { name: "db".into() })?;
    /// let names: Vec<_> = s.query::<Tag>().order_by(Tag::BY_NAME, Order::Desc).iter().map(|(_, t)| t.name).collect();
    /// assert_eq!(names, ["rust", "db"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn iter(self) -> impl Iterator<Item = (Key<E>, E::Ref<'s>)> {
        let rows = self.query.store.records::<E>(); // the table and its text found once
        self.keys()
            .into_iter()
            .filter_map(move |k| rows.get(k).map(|r| (k, r)))
    }

    /// The whole table in order through its ordered index, `run` being the indexed keys to
    /// read (all of them, or those after a cursor), merged with the records that have a NULL
    /// part (they are not in the index) at their places under the engine's [`Nulls`] rule;
    /// `offset` skipped, at most `limit`. After a cursor (a seek: a non-NULL value on a
    /// single column, or a composite index with no NULL records; see
    /// [`seekable`](Self::seekable)) the NULL records all follow it or none do: they follow
    /// when NULL sorts at the end being read towards (ascending under PostgreSQL's NULLS
    /// LAST, descending under SQLite's NULL first).
    fn walk_from(
        &self,
        t: &Table<E>,
        run: Run<'_>,
        after_cursor: bool,
        offset: usize,
        limit: Option<usize>,
    ) -> Vec<Key<E>> {
        let fields = E::DEF.indexes[self.index].fields;
        let nulls = Nulls::of(self.query.store.engine);
        let follow_cursor = (self.order == Order::Asc) == (nulls == Nulls::Last);
        let mut outside: Vec<(RawKey, &E::Row)> = Vec::new();
        let indexed = t.ordered_index(self.index).map_or(0, |o| o.len());
        if indexed < t.rows.len() && (!after_cursor || follow_cursor) {
            outside.extend(
                t.rows
                    .iter()
                    .filter(|(_, row)| has_null::<E>(row, &t.text, fields)),
            );
            outside.sort_unstable_by(|a, b| order_cmp::<E>(nulls, &t.text, fields, *a, *b));
        }
        // Without NULL records, the run alone (no merge: a keyset page paid 12% for it).
        if outside.is_empty() {
            return match self.order {
                Order::Asc => page(run, offset, limit),
                Order::Desc => page(run.rev(), offset, limit),
            };
        }
        let outside = outside.into_iter().map(|(k, _)| k);
        let asc = |a: RawKey, b: RawKey| t.order_of(nulls, self.index, a, b);
        match self.order {
            Order::Asc => page(merge(run, outside, asc), offset, limit),
            Order::Desc => page(merge(run.rev(), outside.rev(), |a, b| asc(b, a)), offset, limit),
        }
    }

    /// Sorts `keys`, only as far as the offset and limit need. A single-column order reads
    /// each record's value once, then sorts `(value, key)` pairs; a composite one compares
    /// the records.
    fn select(&self, t: &Table<E>, keys: Vec<Key<E>>) -> Vec<Key<E>> {
        let fields = E::DEF.indexes.get(self.index).map_or(&[][..], |d| d.fields);
        let m = self.limit.map(|l| self.offset.saturating_add(l));
        let nulls = Nulls::of(self.query.store.engine);
        let mut keys = match *fields {
            [field] => {
                let value = |k: Key<E>| (t.value(k.raw(), field as usize), k.raw());
                let pairs: Vec<(Value<'_>, RawKey)> = keys.into_iter().map(value).collect();
                type Pair<'v> = (Value<'v>, RawKey);
                // One sort per rule, the rule a constant in each: a feed page paid 8% for
                // reading it in every comparison.
                let sorted = match nulls {
                    Nulls::First => top(pairs, m, self.order, |a: &Pair<'_>, b: &Pair<'_>| {
                        a.0.sql_cmp(&b.0).then(a.1.cmp(&b.1))
                    }),
                    Nulls::Last => top(pairs, m, self.order, |a: &Pair<'_>, b: &Pair<'_>| {
                        Nulls::Last.cmp(&a.0, &b.0).then(a.1.cmp(&b.1))
                    }),
                };
                sorted.into_iter().map(|(_, k)| Key::from_raw(k)).collect()
            }
            _ => top(keys, m, self.order, |a: &Key<E>, b: &Key<E>| {
                t.order_of(nulls, self.index, a.raw(), b.raw())
            }),
        };
        keys.drain(..self.offset.min(keys.len()));
        keys
    }
}

/// The keys of `run` after the first `offset`, at most `limit`.
fn page<E>(run: impl Iterator<Item = RawKey>, offset: usize, limit: Option<usize>) -> Vec<Key<E>> {
    let take = limit.unwrap_or(usize::MAX);
    run.skip(offset).take(take).map(Key::from_raw).collect()
}

/// Two runs of distinct keys, each in the order `cmp` gives, merged into that order, lazily:
/// O(1) per key read.
fn merge(
    a: impl Iterator<Item = RawKey>,
    b: impl Iterator<Item = RawKey>,
    cmp: impl Fn(RawKey, RawKey) -> Ordering,
) -> impl Iterator<Item = RawKey> {
    let (mut a, mut b) = (a.peekable(), b.peekable());
    std::iter::from_fn(move || match (a.peek(), b.peek()) {
        (Some(&x), Some(&y)) if cmp(y, x).is_lt() => b.next(),
        (Some(_), _) => a.next(),
        (None, _) => b.next(),
    })
}

/// The first `m` (all when `None`) of `items` in `order` under `cmp` (ascending, a total
/// order), sorted. A few of many (a page of a feed) are kept in a sorted buffer that most
/// items leave after one comparison with its last; otherwise a selection, then a sort of the
/// `m`. O(k + m log m).
fn top<T>(mut items: Vec<T>, m: Option<usize>, order: Order, cmp: impl Fn(&T, &T) -> Ordering) -> Vec<T> {
    let cmp = |a: &T, b: &T| match order {
        Order::Asc => cmp(a, b),
        Order::Desc => cmp(b, a),
    };
    match m {
        Some(0) => return Vec::new(),
        Some(m) if m < items.len() / 8 => {
            let mut best: Vec<T> = Vec::with_capacity(m + 1);
            for item in items {
                if best.len() == m && best.last().is_some_and(|last| cmp(&item, last).is_gt()) {
                    continue;
                }
                let at = best.partition_point(|b| cmp(b, &item).is_lt());
                best.insert(at, item);
                best.truncate(m);
            }
            return best;
        }
        Some(m) if m < items.len() => {
            items.select_nth_unstable_by(m - 1, cmp);
            items.truncate(m);
        }
        _ => {}
    }
    items.sort_unstable_by(cmp);
    items
}
