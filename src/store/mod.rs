//! The [`Store`]: typed reads and constraint-checked writes over a [`Schema`]'s tables.

mod check;
mod deferred;
mod delete;
pub(crate) mod erased;
mod guard;
mod journal;
mod link;
mod observe;
mod query;
mod records;
mod relate;
pub(crate) mod rows;
mod scan;
pub(crate) mod table;
mod txn;
mod upsert;
pub(crate) mod write;

use std::any::{Any, TypeId};
use std::marker::PhantomData;

pub use delete::{DeleteReport, DeletedRecord, NulledReference, UnlinkedPair};
pub use link::Linked;
pub use observe::{FaultPoint, Faults, LogEntry, OpLog, PendingFault};
pub use query::{Order, Query, Sorted};
pub use records::Records;
pub use scan::Scan;
pub use txn::{FixtureScope, Mark, Savepoint};
pub use upsert::Upserted;

use crate::clock::Clock;
use crate::engine::Engine;
use crate::entity::{Entity, Fk, Index, Unique};
use crate::error::Error;
use crate::key::{Key, RawKey};
use crate::relation::edges::EdgeSet;
use crate::schema::Schema;
use crate::value::{Composite, QueryValue, SqlType, Value};
use erased::AnyTable;
use journal::Change;
use table::{KeyState, Table};

/// An in-memory relational store: one generational arena per entity type, with unique constraints,
/// foreign keys, secondary indexes and relationship navigation.
///
/// Every write checks its constraints before anything changes; a failed write returns a typed
/// [`Error`] and leaves the store exactly as it was. Reads never check or change anything.
///
/// ```
/// use relata::{Entity, Key, Schema, Store};
///
/// #[derive(Entity, Clone, Debug, PartialEq)]
/// #[relata(table = "users")]
/// struct User { #[relata(unique)] username: String }
///
/// #[derive(Entity, Clone, Debug, PartialEq)]
/// struct Post { title: String, #[relata(back = "posts", on_delete = "cascade")] author: Key<User> }
///
/// let schema = Schema::builder().entity::<User>().entity::<Post>().build()?;
/// let mut store = Store::new(schema);
/// let alice = store.insert(User { username: "alice".into() })?;
/// let hello = store.insert(Post { title: "Hello".into(), author: alice })?;
///
/// assert_eq!(store.get(hello).unwrap().title, "Hello");
/// assert_eq!(store.children(Post::AUTHOR, alice).collect::<Vec<_>>(), [hello]);
/// assert_eq!(store.find_unique(User::BY_USERNAME, "alice"), Some(alice));
///
/// let report = store.delete(alice)?;           // cascades to the post
/// assert_eq!(report.deleted.len(), 2);
/// assert!(store.get(hello).is_none());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Store {
    pub(crate) schema: Schema,
    pub(crate) tables: Vec<Box<dyn AnyTable>>,
    pub(crate) relations: Vec<EdgeSet>,
    journal: Vec<Change>,
    depth: u32,
    /// Delete-orphan children that lost their parent since the last commit point: (table, key, fk).
    orphans: Vec<(usize, RawKey, usize)>,
    /// Open transactions, savepoints and fixture marks, outermost first.
    scopes: Vec<txn::Scope>,
    /// Injected faults not fired yet.
    faults: Vec<PendingFault>,
    /// Under `Engine::Postgres`, the failure that aborted the open transaction (PostgreSQL's
    /// 25P02 state): every statement is refused until a rollback past it.
    aborted: Option<Box<txn::Aborted>>,
    /// The operation log, when on.
    log: Option<Vec<LogEntry>>,
    /// The database imitated where SQLite and PostgreSQL differ.
    pub(crate) engine: Engine,
    /// Fills `created_at` / `updated_at` fields.
    pub(crate) clock: Clock,
    /// The delete plan's walk buffers, reused from one delete to the next (empty between).
    plan_buffers: delete::PlanBuffers,
}

impl Clone for Store {
    /// A full, independent copy. O(records): the arenas and indexes are copied as large
    /// buffers (tables of a large store in two groups on two threads); text written so far
    /// is shared, never copied (see [`Store::fork`]).
    fn clone(&self) -> Self {
        let clock = self.clock.detached();
        Store {
            schema: self.schema.clone(),
            tables: clone_tables(&self.tables),
            relations: self.relations.clone(),
            journal: self.journal.clone(),
            depth: self.depth,
            orphans: self.orphans.clone(),
            // A fork's scopes belong to no running call, and hold clocks of the fork's own: its
            // own clock where the scope holds this store's, a detached copy of an older one.
            scopes: self
                .scopes
                .iter()
                .map(|s| txn::Scope {
                    held: false,
                    clock: match s.clock.0.same(&self.clock) {
                        true => (clock.clone(), s.clock.1),
                        false => (s.clock.0.detached(), s.clock.1),
                    },
                    ..s.clone()
                })
                .collect(),
            faults: Vec::new(),
            aborted: self.aborted.clone(),
            log: None,
            engine: self.engine,
            clock,
            plan_buffers: delete::PlanBuffers::default(),
        }
    }
}

/// Copies every table. O(records); text chunks are shared, not copied.
fn clone_tables(tables: &[Box<dyn AnyTable>]) -> Vec<Box<dyn AnyTable>> {
    tables.iter().map(|t| t.clone_box()).collect()
}

impl PartialEq for Store {
    /// Logical equality: the same tables, the same records under the same keys with equal
    /// field values, the same children in the same order, and for each `#[relata(id)]` table
    /// the same next id, as each store's engine hands it out (under `Engine::Sqlite` the
    /// largest id plus one, so a deleted newest record's id leaves no trace; under
    /// `Engine::Postgres` the sequence). Internal layout (text heap offsets, free slots, link
    /// sequence numbers) is ignored, and so are the engine profiles themselves (a SQLite and a
    /// PostgreSQL store holding the same data are equal: compare [`engine`](Store::engine)
    /// too where it matters) and the clocks. O(records).
    fn eq(&self, other: &Store) -> bool {
        let engines = (self.engine, other.engine);
        self.tables.len() == other.tables.len()
            && self
                .tables
                .iter()
                .zip(&other.tables)
                .all(|(a, b)| a.same_content(b.as_ref(), engines))
            && self.relations.len() == other.relations.len()
            && self
                .relations
                .iter()
                .zip(&other.relations)
                .all(|(a, b)| a.same_content(b))
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut m = f.debug_map();
        for t in &self.tables {
            m.entry(&t.def().table, &t.len());
        }
        m.finish()
    }
}

/// The error for an entity type outside the schema. A function (not `ok_or(Error::..)`) so the
/// error is only built on failure: building and dropping it on every successful look-up was a
/// measurable share of an insert (callgrind).
fn unknown_entity<E: Entity>() -> Error {
    Error::UnknownEntity {
        type_name: E::DEF.type_name,
    }
}

impl Store {
    /// An empty store over `schema`, imitating SQLite where engines differ
    /// ([`Engine::Sqlite`]; see [`with_engine`](Self::with_engine)). O(tables).
    ///
    /// ```
    /// # use relata::{Entity, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct User { name: String }
    /// let store = Store::new(Schema::builder().entity::<User>().build()?);
    /// assert_eq!(store.count::<User>(), 0);
    /// assert_eq!(store.schema().tables().count(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(schema: Schema) -> Store {
        Store::with_engine(schema, Engine::Sqlite)
    }

    /// An empty store over `schema` that behaves as `engine` where SQLite and PostgreSQL
    /// differ (which unique violation is reported, deferrable uniques, NO ACTION inside a
    /// cascade, the cascade depth limit; docs/ENGINES.md). A fork keeps its engine, and so
    /// does a store loaded from a snapshot ([`Store::from_snapshot`]). O(tables).
    ///
    /// ```
    /// # use relata::{Engine, Entity, Error, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// #[relata(table = "users")]
    /// struct User { #[relata(unique)] name: String, #[relata(unique)] email: String }
    /// let mut pg = Store::with_engine(Schema::builder().entity::<User>().build()?, Engine::Postgres);
    /// pg.insert(User { name: "ann".into(), email: "a@x".into() })?;
    /// let err = pg.insert(User { name: "ann".into(), email: "a@x".into() }).unwrap_err();
    /// // PostgreSQL reports the first declared unique constraint; SQLite the last.
    /// assert!(matches!(err, Error::UniqueViolation { constraint: "uq_users_name", .. }));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_engine(schema: Schema, engine: Engine) -> Store {
        let tables = schema.inner.tables.iter().map(|t| (t.make)()).collect();
        let relations = vec![EdgeSet::default(); schema.inner.relations.len()];
        Store {
            schema,
            tables,
            relations,
            journal: Vec::new(),
            depth: 0,
            orphans: Vec::new(),
            scopes: Vec::new(),
            faults: Vec::new(),
            aborted: None,
            log: None,
            engine,
            clock: Clock::default(),
            plan_buffers: delete::PlanBuffers::default(),
        }
    }

    /// The clock that fills `#[relata(created_at)]` and `#[relata(updated_at)]` fields: a
    /// manual one at 2000-01-01T00:00:00Z unless [`set_clock`](Self::set_clock) gave another
    /// (a store loaded from a snapshot or JSON starts at its data's latest stamp; a fork has
    /// its own; a reset sets it back: see [`Clock`]). Move it through this handle or a clone
    /// of it. O(1).
    ///
    /// ```
    /// use std::time::Duration;
    /// use chrono::{DateTime, Utc};
    /// use relata::{Entity, Schema, Store};
    ///
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct Note {
    ///     text: String,
    ///     #[relata(created_at)]
    ///     created_at: DateTime<Utc>,
    ///     #[relata(updated_at)]
    ///     updated_at: DateTime<Utc>,
    /// }
    ///
    /// let mut store = Store::new(Schema::builder().entity::<Note>().build()?);
    /// let k = store.insert(Note { text: "hi".into(), created_at: DateTime::UNIX_EPOCH, updated_at: DateTime::UNIX_EPOCH })?;
    /// let created = store.get(k).unwrap().created_at;
    /// assert_eq!(created.to_rfc3339(), "2000-01-01T00:00:00+00:00"); // the store's time, not the caller's
    /// store.clock().advance(Duration::from_secs(90));
    /// store.update(k, |n| n.text = "hello".into())?;
    /// let note = store.get(k).unwrap();
    /// assert_eq!((note.created_at, (note.updated_at - created).num_seconds()), (created, 90));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Replaces the store's clock, e.g. with [`Clock::system`] or a [`Clock::manual`] whose
    /// handle the test keeps. O(1).
    ///
    /// ```
    /// use std::time::{Duration, SystemTime};
    /// use relata::{Clock, Schema, Store};
    ///
    /// let mut store = Store::new(Schema::builder().build()?);
    /// let clock = Clock::manual(SystemTime::UNIX_EPOCH);
    /// store.set_clock(clock.clone());
    /// clock.advance(Duration::from_micros(7));
    /// assert_eq!(store.clock().unix_micros(), 7);
    /// # Ok::<(), relata::SchemaError>(())
    /// ```
    pub fn set_clock(&mut self, clock: Clock) {
        self.clock = clock;
    }

    /// Moves the clock of a store built from saved data to the latest value of its
    /// `created_at` / `updated_at` fields of a timestamp SQL type, when later than its time
    /// now. Such a field's integer is read as microseconds since 1970: relata's timestamp
    /// types store that, and [`Timestamp`](crate::Timestamp) asks a type of the user's to
    /// declare a timestamp SQL type only if it does; a stamp of another SQL type (a count of
    /// seconds as `INTEGER`) or stored otherwise (text) is skipped. O(records of the tables
    /// that have one).
    pub(crate) fn clock_to_latest_stamp(&mut self) {
        let mut latest = self.clock.unix_micros();
        for table in &self.tables {
            let fields = table.def().fields.iter().enumerate();
            let stamps: Vec<usize> = (fields.filter(|(_, f)| {
                f.stamp.is_some() && matches!(f.sql_type, SqlType::Timestamp | SqlType::TimestampTz)
            }))
            .map(|(i, _)| i)
            .collect();
            if stamps.is_empty() {
                continue;
            }
            for key in table.keys() {
                for &f in &stamps {
                    if let Value::Int(micros) = table.value_of(key, f) {
                        latest = latest.max(micros);
                    }
                }
            }
        }
        self.clock.set_micros(latest);
    }

    /// The database this store imitates where engines differ. O(1).
    ///
    /// ```
    /// # use relata::{Engine, Schema, Store};
    /// assert_eq!(Store::new(Schema::builder().build()?).engine(), Engine::Sqlite);
    /// # Ok::<(), relata::SchemaError>(())
    /// ```
    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// What `==` does not compare and a refused write must also leave as it was: each table's
    /// text heap length and the journal's length (link counters are left out: like
    /// PostgreSQL's sequences they may move on a write that fails after numbering, see
    /// `number_links`). For tests; not API. O(tables).
    #[doc(hidden)]
    pub fn hidden_state(&self) -> (Vec<usize>, usize) {
        let heaps = self.tables.iter().map(|t| t.text_len()).collect();
        (heaps, self.journal.len())
    }

    /// The store's schema. O(1). Example at [`new`](Self::new).
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// The position of `E`'s table. O(1): one hash and one comparison (`TypeIndex`).
    pub(crate) fn table_index<E: Entity>(&self) -> Result<usize, Error> {
        self.schema
            .inner
            .by_type
            .get(TypeId::of::<E>())
            .ok_or_else(unknown_entity::<E>)
    }

    /// The table of `E` and its position when the type index's guess holds it: checked by
    /// the downcast alone (one type comparison where `table_index` then `table_at` make
    /// two). The shared part of [`table`](Self::table) and
    /// [`table_with_index`](Self::table_with_index), inlined into each so that each keeps its
    /// own cold fallback (through a `map` of the other, a single `Store::parent` call cost
    /// about 20 instructions more).
    #[inline(always)]
    fn table_guessed<E: Entity>(&self) -> Option<(usize, &Table<E>)> {
        let guess = self.schema.inner.by_type.guess(TypeId::of::<E>());
        let table = self.tables.get(guess)?;
        (&**table as &dyn Any).downcast_ref().map(|table| (guess, table))
    }

    /// The table of `E` ([`table_guessed`](Self::table_guessed), else the search).
    #[inline]
    fn table<E: Entity>(&self) -> Result<&Table<E>, Error> {
        match self.table_guessed::<E>() {
            Some((_, table)) => Ok(table),
            None => self.table_searched(),
        }
    }

    /// [`table`](Self::table) with the table's position (an insert probes the table, then
    /// writes at the position).
    #[inline]
    pub(crate) fn table_with_index<E: Entity>(&self) -> Result<(usize, &Table<E>), Error> {
        match self.table_guessed::<E>() {
            Some(found) => Ok(found),
            None => self.table_with_index_searched(),
        }
    }

    /// `table_with_index` for a type the guess missed.
    #[cold]
    fn table_with_index_searched<E: Entity>(&self) -> Result<(usize, &Table<E>), Error> {
        let t = self.table_index::<E>()?;
        Ok((t, self.table_at(t)?))
    }

    /// `table` for a type the guess missed: outside the schema, or sharing its slot.
    #[cold]
    fn table_searched<E: Entity>(&self) -> Result<&Table<E>, Error> {
        self.table_at(self.table_index::<E>()?)
    }

    /// The table at index `t`, typed (a downcast, no search).
    fn table_at<E: Entity>(&self, t: usize) -> Result<&Table<E>, Error> {
        let table: &dyn Any = &*self.tables[t];
        table.downcast_ref().ok_or_else(unknown_entity::<E>)
    }

    fn table_mut<E: Entity>(&mut self, t: usize) -> Result<&mut Table<E>, Error> {
        let table: &mut dyn Any = &mut *self.tables[t];
        table.downcast_mut().ok_or_else(unknown_entity::<E>)
    }

    fn missing_or_stale(&self, t: usize, key: RawKey) -> Error {
        let table = self.tables[t].def().table;
        match self.tables[t].state(key) {
            KeyState::Missing => Error::NotFound { table, key },
            _ => Error::Stale { table, key },
        }
    }

    // ----- reads -----

    /// The record, or `None` if the key is stale or unknown. O(1).
    ///
    /// The read family: `get` gives an `Option` of a view (borrowing the store); the `try_`
    /// forms say why there is no record; the `_owned` form copies the record out. There is
    /// one owned read, [`try_get_owned`](Self::try_get_owned) (a `Result` saying why there
    /// is no record); `.ok()` makes it the `Option` a `get_owned` would give. Each call
    /// finds `E`'s table first; a loop reading many records of one type takes
    /// [`records`](Self::records) once and reads through it.
    ///
    /// ```
    /// # use relata::{Entity, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct User { name: String }
    /// let mut store = Store::new(Schema::builder().entity::<User>().build()?);
    /// let k = store.insert(User { name: "ada".into() })?;
    /// assert!(store.get(k).is_some_and(|u| u.name == "ada"));
    /// let owned: Option<User> = store.try_get_owned(k).ok(); // an owned copy
    /// assert_eq!(owned, Some(User { name: "ada".into() }));
    /// store.delete(k)?;
    /// assert!(store.get(k).is_none());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn get<E: Entity>(&self, key: Key<E>) -> Option<E::Ref<'_>> {
        self.records_for_one::<E>().get(key)
    }

    /// The record, or why there is none. O(1).
    ///
    /// # Errors
    /// [`Error::NotFound`] for a key this store never handed out, [`Error::Stale`] for a
    /// deleted record, [`Error::UnknownEntity`] if `E` is not in the schema;
    /// [`Error::TransactionAborted`] in an aborted transaction (under
    /// [`Engine::Postgres`], where PostgreSQL refuses every query there; the reads that return
    /// an `Option`, and a [`Records`] view's, answer from the state as it stands).
    ///
    /// ```
    /// # use relata::{Entity, Error, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct User { name: String }
    /// let mut store = Store::new(Schema::builder().entity::<User>().build()?);
    /// let k = store.insert(User { name: "ada".into() })?;
    /// assert_eq!(store.try_get(k)?.name, "ada");
    /// store.delete(k)?;
    /// assert!(matches!(store.try_get(k), Err(Error::Stale { .. })));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn try_get<E: Entity>(&self, key: Key<E>) -> Result<E::Ref<'_>, Error> {
        self.records_for_one::<E>().try_get(key)
    }

    /// An owned copy of the record, or why there is none. O(size of the record): it
    /// allocates its strings.
    ///
    /// # Errors
    /// As [`try_get`](Self::try_get).
    ///
    /// ```
    /// # use relata::{Entity, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct User { name: String }
    /// let mut store = Store::new(Schema::builder().entity::<User>().build()?);
    /// let k = store.insert(User { name: "ada".into() })?;
    /// let mut user = store.try_get_owned(k)?;
    /// user.name.push_str(" lovelace");
    /// store.replace(k, user)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn try_get_owned<E: Entity>(&self, key: Key<E>) -> Result<E, Error> {
        self.refuse_if_aborted()?;
        self.owned(key)
    }

    /// [`try_get_owned`](Self::try_get_owned) inside a statement (which an aborted
    /// transaction has refused already).
    pub(crate) fn owned<E: Entity>(&self, key: Key<E>) -> Result<E, Error> {
        let table = self.table::<E>()?;
        table
            .row(key.raw())
            .map(|r| E::__from_row(r, &table.text))
            .ok_or_else(|| table.missing_or_stale(key.raw()))
    }

    /// `true` if the key names a live record. O(1).
    ///
    /// ```
    /// # use relata::{Entity, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct User { name: String }
    /// let mut store = Store::new(Schema::builder().entity::<User>().build()?);
    /// let k = store.insert(User { name: "ada".into() })?;
    /// assert!(store.contains(k));
    /// assert_eq!(store.count::<User>(), 1);
    /// store.delete(k)?;
    /// assert!(!store.contains(k));
    /// assert_eq!(store.count::<User>(), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn contains<E: Entity>(&self, key: Key<E>) -> bool {
        self.records::<E>().contains(key)
    }

    /// The number of records of type `E` (0 if `E` is not in the schema). O(1). Example at
    /// [`contains`](Self::contains).
    pub fn count<E: Entity>(&self) -> usize {
        self.records::<E>().count()
    }

    /// Every record of type `E`, in slot order (deterministic for a given history). O(1) to
    /// start, O(1) per record (O(n) for all).
    ///
    /// ```
    /// # use relata::{Entity, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct User { name: String }
    /// let mut store = Store::new(Schema::builder().entity::<User>().build()?);
    /// let a = store.insert(User { name: "ada".into() })?;
    /// let b = store.insert(User { name: "bo".into() })?;
    /// let names: Vec<_> = store.iter::<User>().map(|(_, u)| u.name).collect();
    /// assert_eq!(names, ["ada", "bo"]);
    /// assert_eq!(store.keys::<User>().collect::<Vec<_>>(), [a, b]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn iter<E: Entity>(&self) -> impl Iterator<Item = (Key<E>, E::Ref<'_>)> + '_ {
        self.records::<E>().iter()
    }

    /// The keys of every record of type `E`, in slot order. O(1) to start, O(1) per key.
    /// Example at [`iter`](Self::iter).
    pub fn keys<E: Entity>(&self) -> impl Iterator<Item = Key<E>> + '_ {
        self.iter::<E>().map(|(k, _)| k)
    }

    /// The record holding `value` under a single-column unique constraint. O(1) average.
    ///
    /// ```
    /// # use relata::{Entity, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct User { #[relata(unique)] email: String }
    /// let mut store = Store::new(Schema::builder().entity::<User>().build()?);
    /// let k = store.insert(User { email: "a@example.com".into() })?;
    /// assert_eq!(store.find_unique(User::BY_EMAIL, "a@example.com"), Some(k));
    /// assert_eq!(store.find_unique(User::BY_EMAIL, "b@example.com"), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn find_unique<E: Entity, Q: QueryValue + ?Sized>(
        &self,
        by: Unique<E, Q>,
        value: &Q,
    ) -> Option<Key<E>> {
        self.records_for_one::<E>().find_unique(by, value)
    }

    /// The record holding `values` (one per column, in declaration order, each of its
    /// column's kind as in [`range_values`](Self::range_values)) under a composite unique
    /// constraint. A NULL part never matches (SQL semantics). O(1) average, plus O(values) to
    /// check them.
    ///
    /// # Errors
    /// [`Error::UnknownEntity`] if `E` is not in the schema, [`Error::ValueType`] for a value
    /// not of its column's kind, [`Error::TooManyValues`] / [`Error::TooFewValues`] for other
    /// than one value per column; under [`Engine::Postgres`], [`Error::NulInText`] for text
    /// holding a NUL byte and [`Error::NulInJson`] for a JSON value holding the escape
    /// `\u0000` (PostgreSQL refuses both as a parameter), and [`Error::TransactionAborted`] in
    /// an aborted transaction.
    ///
    /// ```
    /// # use relata::{Entity, Error, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// #[relata(unique(city, name))]
    /// struct Shop { city: String, name: String }
    /// let mut store = Store::new(Schema::builder().entity::<Shop>().build()?);
    /// let k = store.insert(Shop { city: "Oslo".into(), name: "Kaffe".into() })?;
    /// assert_eq!(store.find_unique_values(Shop::BY_CITY_NAME, &["Oslo".into(), "Kaffe".into()])?, Some(k));
    /// let wrong = store.find_unique_values(Shop::BY_CITY_NAME, &["Oslo".into(), 7.into()]);
    /// assert!(matches!(wrong, Err(Error::ValueType { column: "name", .. })));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn find_unique_values<E: Entity>(
        &self,
        by: Unique<E, Composite>,
        values: &[Value<'_>],
    ) -> Result<Option<Key<E>>, Error> {
        self.records::<E>().find_unique_values(by, values)
    }

    /// The records whose indexed column equals `value`, in key order; none if `E` is not in
    /// the schema. O(1) average to start, O(1) per record.
    ///
    /// ```
    /// # use relata::{Entity, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct Event { #[relata(index)] day: i64 }
    /// let mut s = Store::new(Schema::builder().entity::<Event>().build()?);
    /// let a = s.insert(Event { day: 1 })?;
    /// s.insert(Event { day: 2 })?;
    /// let c = s.insert(Event { day: 1 })?;
    /// assert_eq!(s.find_by(Event::BY_DAY, &1).collect::<Vec<_>>(), [a, c]);
    /// assert_eq!(s.find_by(Event::BY_DAY, &3).len(), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn find_by<E: Entity, Q: QueryValue + ?Sized>(
        &self,
        by: Index<E, Q>,
        value: &Q,
    ) -> impl ExactSizeIterator<Item = Key<E>> + '_ {
        let hits = match self.table::<E>() {
            Ok(t) => value.with_query_value(|v| t.find_index(by.index, &[v])),
            Err(_) => &[],
        };
        hits.iter().map(|&k| Key::from_raw(k))
    }

    /// The records matching `values` (one per column, in declaration order, each of its
    /// column's kind as in [`range_values`](Self::range_values)) under a composite index, in
    /// key order. A NULL part matches nothing. O(1) average to start, plus O(values) to check
    /// them, O(1) per record.
    ///
    /// # Errors
    /// As [`find_unique_values`](Self::find_unique_values).
    ///
    /// ```
    /// # use relata::{Entity, Error, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// #[relata(index(day, room))]
    /// struct Event { day: i64, room: i64 }
    /// let mut s = Store::new(Schema::builder().entity::<Event>().build()?);
    /// let a = s.insert(Event { day: 1, room: 7 })?;
    /// s.insert(Event { day: 1, room: 8 })?;
    /// assert_eq!(s.find_by_values(Event::BY_DAY_ROOM, &[1.into(), 7.into()])?.collect::<Vec<_>>(), [a]);
    /// let short = s.find_by_values(Event::BY_DAY_ROOM, &[1.into()]);
    /// assert!(matches!(short, Err(Error::TooFewValues { columns: 2, given: 1, .. })));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn find_by_values<E: Entity>(
        &self,
        by: Index<E, Composite>,
        values: &[Value<'_>],
    ) -> Result<impl ExactSizeIterator<Item = Key<E>> + '_, Error> {
        self.refuse_if_aborted()?;
        let table = self.table::<E>()?;
        scan::check_index_values::<E>(self.engine, by.index, values, scan::Given::Row)?;
        Ok(table
            .find_index(by.index, values)
            .iter()
            .map(|&k| Key::from_raw(k)))
    }

    /// The children of `parent` through foreign key `fk`, in link order (the order the links
    /// were made): the records whose key names `parent`, so the two sides always agree. Empty
    /// for a stale parent, except inside a transaction after the parent was deleted under a
    /// `deferrable` key: then the children still pointing at it, which must move before
    /// commit. O(1) to start, O(1) per child. A loop that then reads each child finds the
    /// children's table once with [`records`](Self::records) and calls its `children` and
    /// `get`.
    ///
    /// ```
    /// # use relata::{Entity, Key, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct User { name: String }
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct Post { title: String, author: Key<User> }
    /// let mut s = Store::new(Schema::builder().entity::<User>().entity::<Post>().build()?);
    /// let ada = s.insert(User { name: "ada".into() })?;
    /// let p1 = s.insert(Post { title: "one".into(), author: ada })?;
    /// let p2 = s.insert(Post { title: "two".into(), author: ada })?;
    /// assert_eq!(s.children(Post::AUTHOR, ada).collect::<Vec<_>>(), [p1, p2]);
    /// assert_eq!(s.child_count(Post::AUTHOR, ada), 2);
    /// assert_eq!(s.parent(Post::AUTHOR, p2), Some(ada));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn children<C: Entity, P: Entity>(&self, fk: Fk<C, P>, parent: Key<P>) -> Children<'_, C> {
        self.records::<C>().children(fk, parent)
    }

    /// The number of children of `parent` through `fk` (as [`children`](Self::children)
    /// lists them). O(1). Example at [`children`](Self::children).
    pub fn child_count<C: Entity, P: Entity>(&self, fk: Fk<C, P>, parent: Key<P>) -> usize {
        self.records::<C>().child_count(fk, parent)
    }

    /// The parent a child references through `fk` (`None` for a NULL key or a stale child).
    /// O(1). Example at [`children`](Self::children).
    pub fn parent<C: Entity, P: Entity>(&self, fk: Fk<C, P>, child: Key<C>) -> Option<Key<P>> {
        self.records::<C>().parent(fk, child)
    }

    /// Walks up `fk` from `from`'s parent; `true` if it reaches `target`. Bounded by the
    /// table's size, so a corrupt cycle cannot loop forever.
    pub(crate) fn ancestors_reach(&self, t: usize, fk: usize, from: RawKey, target: RawKey) -> bool {
        let table = &self.tables[t];
        let mut cur = table.fk(from, fk);
        for _ in 0..=table.len() {
            match cur {
                Some(k) if k == target => return true,
                Some(k) => cur = table.fk(k, fk),
                None => return false,
            }
        }
        true
    }
}

/// The children of one parent, in link order: see [`Store::children`].
///
/// Both kinds of key give their children as a slice borrowed from the table (a one-to-one
/// key's child is the key its unique index holds), so a step is a slice's step.
#[derive(Clone, Debug)]
pub struct Children<'a, C> {
    keys: std::slice::Iter<'a, RawKey>,
    _type: PhantomData<fn() -> C>,
}

impl<'a, C> Children<'a, C> {
    pub(crate) fn new(keys: &'a [RawKey]) -> Self {
        Children {
            keys: keys.iter(),
            _type: PhantomData,
        }
    }
}

impl<C> Iterator for Children<'_, C> {
    type Item = Key<C>;

    #[inline]
    fn next(&mut self) -> Option<Key<C>> {
        self.keys.next().map(|&raw| Key::from_raw(raw))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.keys.size_hint()
    }
}

impl<C> ExactSizeIterator for Children<'_, C> {}
