//! Queries: a set of keys of one entity type, filtered and navigated through relationships.
//!
//! Each step is eager (it computes the next key list) and keeps a deterministic order: the
//! order of the previous step, then link order, each key once.

use hashbrown::HashSet;

use crate::entity::{Entity, Fk, Index};
use crate::key::Key;
use crate::relation::ManyToMany;
use crate::store::Store;
use crate::value::QueryValue;

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
/// // Users in no group.
/// assert_eq!(s.query::<User>().without_children(UserGroup::USER).keys(), [carol]);
/// // Member count per group.
/// assert_eq!(s.query::<Group>().count_children(UserGroup::GROUP), [(admin, 2)]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Query<'s, E> {
    store: &'s Store,
    keys: Vec<Key<E>>,
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
    /// Every record of type `E`, in slot order. O(n).
    pub fn query<E: Entity>(&self) -> Query<'_, E> {
        Query {
            store: self,
            keys: self.keys::<E>().collect(),
        }
    }

    /// The given records (stale keys are dropped, duplicates kept once).
    pub fn query_keys<E: Entity>(&self, keys: impl IntoIterator<Item = Key<E>>) -> Query<'_, E> {
        let keys = keys.into_iter().filter(|k| self.contains(*k));
        Query {
            store: self,
            keys: distinct(keys),
        }
    }

    /// The records whose indexed column equals `value`.
    pub fn query_by<E: Entity, Q: QueryValue + ?Sized>(&self, by: Index<E, Q>, value: &Q) -> Query<'_, E> {
        Query {
            store: self,
            keys: self.find_by(by, value).collect(),
        }
    }

    /// The read-only many-to-many view over an association entity `A`: from `key` through
    /// `A`'s key `from` to the records `A`'s key `to` references, in link order. E.g. the
    /// groups of a user through `UserGroup::USER` then `UserGroup::GROUP`.
    pub fn through<A: Entity, L: Entity, R: Entity>(
        &self,
        from: Fk<A, L>,
        to: Fk<A, R>,
        key: Key<L>,
    ) -> Vec<Key<R>> {
        self.children(from, key)
            .filter_map(|a| self.parent(to, a))
            .collect()
    }
}

fn distinct<T: Copy + Eq + std::hash::Hash>(items: impl IntoIterator<Item = T>) -> Vec<T> {
    let mut seen = HashSet::new();
    items.into_iter().filter(|k| seen.insert(*k)).collect()
}

impl<'s, E: Entity> Query<'s, E> {
    /// Keeps the records whose view satisfies `pred`.
    pub fn filter(mut self, mut pred: impl FnMut(E::Ref<'s>) -> bool) -> Self {
        let store = self.store;
        self.keys.retain(|k| store.get(*k).is_some_and(&mut pred));
        self
    }

    /// Keeps the records whose indexed column equals `value`.
    pub fn where_eq<Q: QueryValue + ?Sized>(mut self, by: Index<E, Q>, value: &Q) -> Self {
        let hits: HashSet<Key<E>> = self.store.find_by(by, value).collect();
        self.keys.retain(|k| hits.contains(k));
        self
    }

    /// The children of every record through `fk`.
    pub fn children<C: Entity>(self, fk: Fk<C, E>) -> Query<'s, C> {
        let store = self.store;
        let keys = self.keys.iter().flat_map(|k| store.children(fk, *k));
        Query {
            store,
            keys: distinct(keys),
        }
    }

    /// The distinct parents of the records through `fk` (records with a NULL key add none).
    pub fn parents<P: Entity>(self, fk: Fk<E, P>) -> Query<'s, P> {
        let store = self.store;
        let keys = self.keys.iter().filter_map(|k| store.parent(fk, *k));
        Query {
            store,
            keys: distinct(keys),
        }
    }

    /// The right ends linked to the records (e.g. the groups of some users).
    pub fn rights<R: Entity>(self, rel: ManyToMany<E, R>) -> Query<'s, R> {
        let store = self.store;
        let keys = self.keys.iter().flat_map(|k| store.rights(rel, *k));
        Query {
            store,
            keys: distinct(keys),
        }
    }

    /// The left ends linked to the records (e.g. the members of some groups).
    pub fn lefts<L: Entity>(self, rel: ManyToMany<L, E>) -> Query<'s, L> {
        let store = self.store;
        let keys = self.keys.iter().flat_map(|k| store.lefts(rel, *k));
        Query {
            store,
            keys: distinct(keys),
        }
    }

    /// Navigates an association entity `A`: from the records through `A`'s key `from` to what
    /// `A`'s key `to` references.
    pub fn through<A: Entity, R: Entity>(self, from: Fk<A, E>, to: Fk<A, R>) -> Query<'s, R> {
        let store = self.store;
        let keys = self.keys.iter().flat_map(|k| store.through(from, to, *k));
        Query {
            store,
            keys: distinct(keys),
        }
    }

    /// Keeps the records with no child through `fk` (e.g. users in no group).
    pub fn without_children<C: Entity>(mut self, fk: Fk<C, E>) -> Self {
        let store = self.store;
        self.keys.retain(|k| store.child_count(fk, *k) == 0);
        self
    }

    /// Keeps the records with at least one child through `fk`.
    pub fn with_children<C: Entity>(mut self, fk: Fk<C, E>) -> Self {
        let store = self.store;
        self.keys.retain(|k| store.child_count(fk, *k) > 0);
        self
    }

    /// Keeps the records linked to no right end of `rel`.
    pub fn without_rights<R: Entity>(mut self, rel: ManyToMany<E, R>) -> Self {
        let store = self.store;
        self.keys.retain(|k| store.rights(rel, *k).len() == 0);
        self
    }

    /// Keeps the records linked to no left end of `rel`.
    pub fn without_lefts<L: Entity>(mut self, rel: ManyToMany<L, E>) -> Self {
        let store = self.store;
        self.keys.retain(|k| store.lefts(rel, *k).len() == 0);
        self
    }

    /// Each record with its number of children through `fk` (e.g. member count per group).
    pub fn count_children<C: Entity>(&self, fk: Fk<C, E>) -> Vec<(Key<E>, usize)> {
        self.keys
            .iter()
            .map(|k| (*k, self.store.child_count(fk, *k)))
            .collect()
    }

    /// Each record with its number of left ends in `rel` (e.g. member count per group).
    pub fn count_lefts<L: Entity>(&self, rel: ManyToMany<L, E>) -> Vec<(Key<E>, usize)> {
        self.keys
            .iter()
            .map(|k| (*k, self.store.lefts(rel, *k).len()))
            .collect()
    }

    /// The keys, in query order.
    pub fn keys(self) -> Vec<Key<E>> {
        self.keys
    }

    /// How many records.
    pub fn count(&self) -> usize {
        self.keys.len()
    }

    /// `true` if no record matched.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The records with their views, in query order.
    pub fn iter(&self) -> impl Iterator<Item = (Key<E>, E::Ref<'s>)> + '_ {
        let store = self.store;
        self.keys
            .iter()
            .filter_map(move |k| store.get(*k).map(|r| (*k, r)))
    }
}
