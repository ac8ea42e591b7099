//! [`Records`]: one entity type's reads with the table found once.
//!
//! Every typed read on [`Store`] first finds the table of its type (a type-index guess and a
//! downcast, about 30 instructions: callgrind, docs/PERFORMANCE.md). A loop that reads many
//! records of one type pays that once per call; a [`Records`] view pays it once, when it is
//! taken, and its reads go straight to the table. The `Store` reads are this view's reads on
//! a view taken for the one call, so both give the same answers.

use std::marker::PhantomData;

use super::scan::check_unique_values;
use super::table::Table;
use super::{unknown_entity, Children, Store};
use crate::entity::{Entity, Fk, Unique};
use crate::error::Error;
use crate::key::Key;
use crate::text::TextRead;
use crate::value::{Composite, QueryValue, Value};

/// The records of one entity type `E`, read without finding the table again: take it with
/// [`Store::records`] before a loop that reads many records of `E` (its children through a
/// foreign key, then each child's fields, or many look-ups by a unique value), and read
/// through it inside the loop. It borrows the store, so no write happens while it is held.
/// It reads as the [`Store`] methods of the same names do; for a type outside the schema
/// every read finds nothing, as theirs do.
///
/// ```
/// # use relata::{Entity, Key, Schema, Store};
/// #[derive(Entity, Clone, Debug, PartialEq)]
/// struct User { name: String }
/// #[derive(Entity, Clone, Debug, PartialEq)]
/// struct Post { title: String, author: Key<User> }
/// let mut s = Store::new(Schema::builder().entity::<User>().entity::<Post>().build()?);
/// let ada = s.insert(User { name: "ada".into() })?;
/// s.insert(Post { title: "one".into(), author: ada })?;
/// s.insert(Post { title: "two".into(), author: ada })?;
///
/// let posts = s.records::<Post>(); // the table found once
/// let mut titles = Vec::new();
/// for p in posts.children(Post::AUTHOR, ada) {
///     titles.push(posts.get(p).unwrap().title.to_string());
/// }
/// assert_eq!(titles, ["one", "two"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Records<'s, E: Entity> {
    /// `None` for a type outside the schema.
    table: Option<&'s Table<E>>,
    /// The store, for what a read given `Value`s checks as the `Store`'s does (its engine, an
    /// aborted transaction): the view borrows it, so neither changes while the view lives.
    store: &'s Store,
    /// How the views read the table's text, found once.
    text: TextRead<'s>,
    _type: PhantomData<fn() -> E>,
}

impl<E: Entity> Clone for Records<'_, E> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<E: Entity> Copy for Records<'_, E> {}

impl<E: Entity> std::fmt::Debug for Records<'_, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Records")
            .field("table", &E::DEF.table)
            .field("count", &self.count())
            .finish()
    }
}

impl Store {
    /// The records of type `E` as a [`Records`] view: the table is found here, once, and the
    /// view's reads (`get`, `children`, `parent`, ...) go straight to it. Take it before a loop
    /// that reads many records of one type; a single read is as cheap through the `Store`
    /// method of the same name. O(1): one type-index guess and one downcast.
    ///
    /// ```
    /// # use relata::{Entity, Key, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct User { name: String }
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct Group { name: String }
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct Member { user: Key<User>, group: Key<Group>, since: i64 }
    /// let schema = Schema::builder().entity::<User>().entity::<Group>().entity::<Member>().build()?;
    /// let mut s = Store::new(schema);
    /// let ada = s.insert(User { name: "ada".into() })?;
    /// let admin = s.insert(Group { name: "admin".into() })?;
    /// s.insert(Member { user: ada, group: admin, since: 2020 })?;
    ///
    /// let members = s.records::<Member>();
    /// let groups: Vec<_> = members
    ///     .children(Member::USER, ada)
    ///     .filter_map(|m| members.get(m))
    ///     .map(|m| (m.group, m.since))
    ///     .collect();
    /// assert_eq!(groups, [(admin, 2020)]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn records<E: Entity>(&self) -> Records<'_, E> {
        let table = self.table::<E>().ok();
        Records {
            table,
            store: self,
            // No view is built without a table.
            text: table.map_or(TextRead::One(""), |t| t.text.read()),
            _type: PhantomData,
        }
    }

    /// The view for one read ([`Store::get`], [`Store::try_get`]): its views search the heap
    /// when a text field is read, so a read of no text field never looks at it. O(1).
    #[inline]
    pub(crate) fn records_for_one<E: Entity>(&self) -> Records<'_, E> {
        let table = self.table::<E>().ok();
        Records {
            table,
            store: self,
            text: table.map_or(TextRead::One(""), |t| TextRead::Heap(&t.text)),
            _type: PhantomData,
        }
    }
}

impl<'s, E: Entity> Records<'s, E> {
    /// The record, or `None` if the key is stale or unknown, as [`Store::get`]. O(1): the
    /// slot's version check, no table look-up. Example at [`Records`].
    #[inline]
    pub fn get(&self, key: Key<E>) -> Option<E::Ref<'s>> {
        let row = self.table?.row(key.raw())?;
        Some(E::__view(row, self.text))
    }

    /// The record, or why there is none, as [`Store::try_get`]. O(1), no table look-up.
    ///
    /// # Errors
    /// [`Error::NotFound`] for a key this store never handed out, [`Error::Stale`] for a
    /// deleted record, [`Error::UnknownEntity`] if `E` is not in the schema, and
    /// [`Error::TransactionAborted`] in an aborted transaction under `Engine::Postgres`, as
    /// [`Store::try_get`].
    ///
    /// ```
    /// # use relata::{Entity, Error, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct User { name: String }
    /// let mut s = Store::new(Schema::builder().entity::<User>().build()?);
    /// let k = s.insert(User { name: "ada".into() })?;
    /// s.delete(k)?;
    /// assert!(matches!(s.records::<User>().try_get(k), Err(Error::Stale { .. })));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn try_get(&self, key: Key<E>) -> Result<E::Ref<'s>, Error> {
        self.store.refuse_if_aborted()?;
        let table = self.table.ok_or_else(unknown_entity::<E>)?;
        match table.row(key.raw()) {
            Some(row) => Ok(E::__view(row, self.text)),
            None => Err(table.missing_or_stale(key.raw())),
        }
    }

    /// `true` if the key names a live record, as [`Store::contains`]. O(1), no table look-up.
    ///
    /// ```
    /// # use relata::{Entity, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct User { name: String }
    /// let mut s = Store::new(Schema::builder().entity::<User>().build()?);
    /// let k = s.insert(User { name: "ada".into() })?;
    /// let users = s.records::<User>();
    /// assert!(users.contains(k));
    /// assert_eq!((users.count(), users.is_empty()), (1, false));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn contains(&self, key: Key<E>) -> bool {
        self.table.is_some_and(|t| t.row(key.raw()).is_some())
    }

    /// The number of records of type `E` (0 if `E` is not in the schema), as
    /// [`Store::count`] and [`Query::count`](crate::Query::count). O(1). Example at
    /// [`contains`](Self::contains).
    pub fn count(&self) -> usize {
        self.table.map_or(0, |t| t.rows.len())
    }

    /// `true` if there is no record of type `E`. O(1). Example at
    /// [`contains`](Self::contains).
    pub fn is_empty(&self) -> bool {
        self.count() == 0
    }

    /// The children of `parent` through `fk`, in link order, as [`Store::children`]. O(1) to
    /// start, O(1) per child, no table look-up. Example at [`Records`].
    #[inline]
    pub fn children<P: Entity>(&self, fk: Fk<E, P>, parent: Key<P>) -> Children<'s, E> {
        Children::new(match self.table {
            Some(t) => t.children(fk.index, parent.raw()),
            None => &[],
        })
    }

    /// The number of children of `parent` through `fk`, as [`Store::child_count`]. O(1).
    ///
    /// ```
    /// # use relata::{Entity, Key, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct User { name: String }
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct Post { title: String, author: Key<User> }
    /// let mut s = Store::new(Schema::builder().entity::<User>().entity::<Post>().build()?);
    /// let ada = s.insert(User { name: "ada".into() })?;
    /// let p = s.insert(Post { title: "one".into(), author: ada })?;
    /// let posts = s.records::<Post>();
    /// assert_eq!(posts.child_count(Post::AUTHOR, ada), 1);
    /// assert_eq!(posts.parent(Post::AUTHOR, p), Some(ada));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn child_count<P: Entity>(&self, fk: Fk<E, P>, parent: Key<P>) -> usize {
        self.table.map_or(0, |t| t.children(fk.index, parent.raw()).len())
    }

    /// The parent `child` references through `fk` (`None` for a NULL key or a stale child),
    /// as [`Store::parent`]. O(1), no table look-up. Example at
    /// [`child_count`](Self::child_count).
    #[inline]
    pub fn parent<P: Entity>(&self, fk: Fk<E, P>, child: Key<E>) -> Option<Key<P>> {
        let row = self.table?.row(child.raw())?;
        E::__fk(row, fk.index).map(Key::from_raw)
    }

    /// The record holding `value` under a single-column unique constraint, as
    /// [`Store::find_unique`]. O(1) average, no table look-up: take the view once before a
    /// loop of look-ups (as a prepared statement is prepared once).
    ///
    /// ```
    /// # use relata::{Entity, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct User { #[relata(unique)] name: String }
    /// let mut s = Store::new(Schema::builder().entity::<User>().build()?);
    /// let ada = s.insert(User { name: "ada".into() })?;
    /// let users = s.records::<User>();
    /// let found: Vec<_> = ["ada", "bo"].iter().map(|n| users.find_unique(User::BY_NAME, *n)).collect();
    /// assert_eq!(found, [Some(ada), None]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    pub fn find_unique<Q: QueryValue + ?Sized>(&self, by: Unique<E, Q>, value: &Q) -> Option<Key<E>> {
        let table = self.table?;
        value.with_query_value(|v| table.find_unique_one(by.index, v).map(Key::from_raw))
    }

    /// The record holding `values` (one per column, in declaration order, each of its
    /// column's kind) under a composite unique constraint, as [`Store::find_unique_values`].
    /// A NULL part never matches. O(1) average, plus O(values) to check them, no table
    /// look-up.
    ///
    /// # Errors
    /// [`Error::ValueType`], [`Error::TooManyValues`], [`Error::TooFewValues`] as
    /// [`Store::find_unique_values`]; [`Error::UnknownEntity`] if `E` is not in the schema;
    /// under [`Engine::Postgres`](crate::Engine::Postgres), [`Error::NulInText`] and
    /// [`Error::NulInJson`] for a value PostgreSQL refuses as a parameter, and
    /// [`Error::TransactionAborted`] in an aborted transaction, as the `Store` read (every read
    /// returning a `Result` refuses there, a view's too).
    ///
    /// ```
    /// # use relata::{Entity, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// #[relata(unique(city, name))]
    /// struct Shop { city: String, name: String }
    /// let mut s = Store::new(Schema::builder().entity::<Shop>().build()?);
    /// let k = s.insert(Shop { city: "Oslo".into(), name: "Kaffe".into() })?;
    /// let shops = s.records::<Shop>();
    /// assert_eq!(shops.find_unique_values(Shop::BY_CITY_NAME, &["Oslo".into(), "Kaffe".into()])?, Some(k));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn find_unique_values(
        &self,
        by: Unique<E, Composite>,
        values: &[Value<'_>],
    ) -> Result<Option<Key<E>>, Error> {
        self.store.refuse_if_aborted()?;
        let table = self.table.ok_or_else(unknown_entity::<E>)?;
        check_unique_values::<E>(self.store.engine, by.index, values)?;
        Ok(table.find_unique(by.index, values).map(Key::from_raw))
    }

    /// Every record of type `E` with its key, in slot order, as [`Store::iter`]. O(1) to
    /// start, O(1) per record.
    ///
    /// ```
    /// # use relata::{Entity, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct User { name: String }
    /// let mut s = Store::new(Schema::builder().entity::<User>().build()?);
    /// let a = s.insert(User { name: "ada".into() })?;
    /// let names: Vec<_> = s.records::<User>().iter().map(|(k, u)| (k, u.name.to_string())).collect();
    /// assert_eq!(names, [(a, "ada".to_string())]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = (Key<E>, E::Ref<'s>)> + 's {
        let text = self.text;
        self.table.into_iter().flat_map(move |t| {
            t.rows
                .iter()
                .map(move |(slot, row)| (Key::from_raw(slot), E::__view(row, text)))
        })
    }
}
