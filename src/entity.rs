//! The [`Entity`] trait that `#[derive(Entity)]` implements, the static schema descriptors it
//! generates, and the typed handles (`Post::AUTHOR`, `User::BY_USERNAME`) users pass to the
//! store.

use std::any::TypeId;
use std::fmt::Debug;
use std::marker::PhantomData;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::column::{JsonBad, JsonCx};
use crate::error::Error;
use crate::key::RawKey;
use crate::text::{Span, TextHeap, TextRead};
use crate::value::{SqlType, Value};

/// A record type stored in a relata [`Store`](crate::Store). Derive it:
///
/// ```
/// use relata::{Entity, Key};
///
/// #[derive(Entity, Clone, Debug, PartialEq)]
/// #[relata(table = "users")]
/// struct User {
///     #[relata(unique)]
///     username: String,
///     #[relata(unique)]
///     email: String,
/// }
///
/// #[derive(Entity, Clone, Debug, PartialEq)]
/// #[relata(unique(author, title))]
/// struct Post {
///     #[relata(index)]
///     title: String,
///     body: Option<String>,
///     #[relata(back = "posts", on_delete = "cascade")]
///     author: Key<User>,
/// }
/// ```
///
/// # Attributes
///
/// On the struct, `#[relata(...)]` takes:
///
/// | option | example | meaning |
/// |---|---|---|
/// | `table = "..."` | `table = "users"` | the SQL table (default: snake_case plural of the type) |
/// | `unique(fields, ...)` | `unique(author, title, name = "uq_x", deferrable, nocase)` | composite unique constraint; a `None` part never collides |
/// | `index(fields, ...)` | `index(author, title, name = "ix_x")` | composite secondary index, looked up with `find_by_values` |
/// | `index(fields, ordered)` | `index(author, title, ordered)` | also kept sorted, for prefix and range scans ([`Store::range`](crate::Store::range)) |
/// | `check(predicate, ...)` | `check(in_stock, name = "ck_stock", sql = "stock >= 0")` | CHECK: `fn(&Self) -> bool` on every insert and rewrite; `sql` goes to the DDL |
///
/// On a field:
///
/// | option | example | meaning |
/// |---|---|---|
/// | `unique` | `unique`, `unique(name = "uq_x")` | single-column unique constraint; gives `Type::BY_FIELD` |
/// | `unique(deferrable)` | | checked at commit instead of per operation, under `Engine::Postgres` (SQLite, and `Engine::Sqlite`, check UNIQUE per statement; so does PostgreSQL a `nocase` one, a unique index on `lower(col)`) |
/// | `unique(nocase)` | | text compares ignoring ASCII case, in look-ups too (SQLite `COLLATE NOCASE`, PostgreSQL `lower(col)` index) |
/// | `index` | | secondary index; gives `Type::BY_FIELD` for `find_by` (`Type::BY_FIELD_INDEX` when the field is also `unique`; likewise `BY_A_B_INDEX` for `index(a, b)` beside `unique(a, b)`) |
/// | `index(ordered)` | | also kept sorted, for range scans ([`Store::range`](crate::Store::range)) |
/// | `max_len = N` | `max_len = 50` | text of at most N characters (`VARCHAR(N)`); more is `Error::TooLong`; a compile error on a non-text field |
/// | `column = "..."` | `column = "user_name"` | the SQL column (foreign keys default to `<field>_id`) |
/// | `created_at` | | the store writes its [`Clock`](crate::Clock)'s time at insert and keeps it on every later write; the field's type must be a [`Timestamp`](crate::Timestamp) |
/// | `updated_at` | | the store writes its clock's time at insert, update, replace and upsert |
/// | `id` | | an integer primary key the store assigns (1, 2, 3 … per table; see below); gives `Type::BY_FIELD` |
/// | `default = expr` | `default = Status::Draft` | the value of the field when a JSON fixture leaves it out, in the records of a snapshot saved before the field existed ([`Store::from_snapshot_evolving`](crate::Store::from_snapshot_evolving)), and its SQL `DEFAULT` ([`FieldDef::default_value`]) |
///
/// On a foreign key (a `Key<T>` or `Option<Key<T>>` field):
///
/// | option | example | meaning |
/// |---|---|---|
/// | `back = "..."` | `back = "posts"` | the relationship's name on the parent (default: the child table) |
/// | `on_delete = "..."` | `"no_action"` (default), `"restrict"`, `"cascade"`, `"set_null"` | what deleting the parent does: `no_action` (SQL's default) refuses if children remain at the end of the delete, `restrict` refuses at once and is never deferred; `set_null` needs `Option<Key<T>>` |
/// | `orphan` | | delete-orphan: a child that loses its parent is deleted |
/// | `acyclic` | | on a self-reference: a cycle is an `Error::Cycle` |
/// | `deferrable` | | a `no_action` restriction checked at commit instead of per operation (also on a one-to-one key; with `restrict`, a compile error) |
/// | `unique` | | one-to-one: a second child of one parent is a unique violation |
/// | `order_by = "field"` | `order_by = "position"` | the parent's children sorted by that field (ties in link order) |
///
/// Every option at once:
///
/// ```
/// use relata::{Entity, Key};
///
/// fn non_empty(t: &Tag) -> bool {
///     !t.name.is_empty()
/// }
///
/// #[derive(Entity, Clone, Debug, PartialEq)]
/// #[relata(table = "tags", check(non_empty, name = "ck_tags_name", sql = "name <> ''"))]
/// struct Tag {
///     #[relata(unique(nocase, name = "uq_tag_name"), max_len = 30, column = "tag_name")]
///     name: String,
///     #[relata(acyclic, on_delete = "set_null", back = "subtags", order_by = "position")]
///     parent: Option<Key<Tag>>,
///     #[relata(index)]
///     position: i32,
/// }
///
/// #[derive(Entity, Clone, Debug, PartialEq)]
/// #[relata(unique(tag, label, deferrable), index(label, tag))]
/// struct Alias {
///     #[relata(on_delete = "cascade", orphan, deferrable)]
///     tag: Key<Tag>,
///     #[relata(unique(deferrable))]
///     label: String,
/// }
///
/// #[derive(Entity, Clone, Debug, PartialEq)]
/// struct Icon {
///     #[relata(unique, on_delete = "cascade")]
///     tag: Key<Tag>,
///     png: Vec<u8>,
/// }
///
/// relata::Schema::builder().entity::<Tag>().entity::<Alias>().entity::<Icon>().build()?;
/// # Ok::<(), relata::SchemaError>(())
/// ```
///
/// ## Each attribute, with an example
///
/// `table`, and the look-up handles `unique` and `index` give (an index over the same fields
/// as a unique constraint is `BY_<FIELDS>_INDEX`):
///
/// ```
/// use relata::{Entity, Error, Schema, Store};
///
/// #[derive(Entity, Clone, Debug, PartialEq)]
/// #[relata(table = "people", unique(first, last, name = "uq_full_name"), index(last, first))]
/// struct Person {
///     #[relata(unique(name = "uq_people_login"), index(ordered))]
///     login: String,
///     #[relata(index)]
///     age: u8,
///     first: String,
///     last: String,
/// }
///
/// let mut store = Store::new(Schema::builder().entity::<Person>().build()?);
/// let p = |login: &str, age, first: &str| Person { login: login.into(), age, first: first.into(), last: "Li".into() };
/// let ann = store.insert(p("ann", 30, "Ann"))?;
/// let bo = store.insert(p("bo", 30, "Bo"))?;
/// assert_eq!(store.find_unique(Person::BY_LOGIN, "bo"), Some(bo));
/// assert_eq!(store.scan(Person::BY_LOGIN_INDEX).collect::<Vec<_>>(), [ann, bo]);
/// assert_eq!(store.find_by(Person::BY_AGE, &30).collect::<Vec<_>>(), [ann, bo]);
/// assert_eq!(store.find_unique_values(Person::BY_FIRST_LAST, &["Bo".into(), "Li".into()])?, Some(bo));
/// assert_eq!(store.find_by_values(Person::BY_LAST_FIRST, &["Li".into(), "Ann".into()])?.collect::<Vec<_>>(), [ann]);
/// let err = store.insert(p("cy", 1, "Ann")).unwrap_err();
/// assert!(matches!(err, Error::UniqueViolation { constraint: "uq_full_name", .. }));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// `index(..., ordered)` on the struct, for prefix and range scans over several fields:
///
/// ```
/// use relata::{Entity, Schema, Store};
///
/// #[derive(Entity, Clone, Debug, PartialEq)]
/// #[relata(index(day, hour, ordered))]
/// struct Slot { day: u8, hour: u8 }
///
/// let mut store = Store::new(Schema::builder().entity::<Slot>().build()?);
/// let late = store.insert(Slot { day: 1, hour: 18 })?;
/// let early = store.insert(Slot { day: 1, hour: 9 })?;
/// store.insert(Slot { day: 2, hour: 7 })?;
/// let day_one: Vec<_> = store.prefix(Slot::BY_DAY_HOUR, &[1i64.into()])?.collect();
/// assert_eq!(day_one, [early, late]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// `check`, `max_len`, `unique(nocase)` and `column`: constraints the database enforces.
///
/// ```
/// use relata::{Dialect, Entity, Error, Schema, Store};
///
/// fn in_stock(p: &Product) -> bool {
///     p.stock >= 0
/// }
///
/// #[derive(Entity, Clone, Debug, PartialEq)]
/// #[relata(check(in_stock, name = "ck_stock", sql = "stock >= 0"))]
/// struct Product {
///     #[relata(unique(nocase), max_len = 8, column = "sku_code")]
///     sku: String,
///     stock: i64,
/// }
///
/// let schema = Schema::builder().entity::<Product>().build()?;
/// let mut store = Store::new(schema.clone());
/// let k = store.insert(Product { sku: "AB-1".into(), stock: 3 })?;
/// assert_eq!(store.find_unique(Product::BY_SKU, "ab-1"), Some(k));
/// assert!(matches!(store.insert(Product { sku: "ab-1".into(), stock: 1 }), Err(Error::UniqueViolation { .. })));
/// assert!(matches!(store.insert(Product { sku: "ABCDEFGHI".into(), stock: 1 }), Err(Error::TooLong { limit: 8, length: 9, .. })));
/// assert!(matches!(store.insert(Product { sku: "X".into(), stock: -1 }), Err(Error::CheckViolation { constraint: "ck_stock", .. })));
/// let sql = schema.to_sql(Dialect::Sqlite);
/// assert!(sql.contains(r#""sku_code" VARCHAR(8) NOT NULL"#) && sql.contains("CHECK (stock >= 0)"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// `unique(deferrable)`: checked at commit under `Engine::Postgres`, so two rows may swap:
///
/// ```
/// use relata::{Engine, Entity, Schema, Store};
///
/// #[derive(Entity, Clone, Debug, PartialEq)]
/// #[relata(unique(row, col, deferrable))]
/// struct Seat { #[relata(unique(deferrable))] number: u8, row: u8, col: u8 }
///
/// let schema = Schema::builder().entity::<Seat>().build()?;
/// let mut store = Store::with_engine(schema, Engine::Postgres);
/// let a = store.insert(Seat { number: 1, row: 0, col: 0 })?;
/// let b = store.insert(Seat { number: 2, row: 0, col: 1 })?;
/// store.transaction(|s| {
///     s.update(a, |x| x.number = 2)?;
///     s.update(b, |x| x.number = 1)
/// })?;
/// assert_eq!(store.get(a).unwrap().number, 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// On foreign keys: `back`, `on_delete`, `orphan`, `order_by`:
///
/// ```
/// use relata::{Entity, Key, Schema, Store};
///
/// #[derive(Entity, Clone, Debug, PartialEq)]
/// struct List { name: String }
///
/// #[derive(Entity, Clone, Debug, PartialEq)]
/// struct Item {
///     #[relata(back = "items", on_delete = "cascade", order_by = "position")]
///     list: Key<List>,
///     position: i32,
/// }
///
/// #[derive(Entity, Clone, Debug, PartialEq)]
/// struct Label {
///     #[relata(orphan)]
///     item: Key<Item>,
///     #[relata(on_delete = "set_null")]
///     list: Option<Key<List>>,
/// }
///
/// let mut store = Store::new(Schema::builder().entity::<List>().entity::<Item>().entity::<Label>().build()?);
/// let list = store.insert(List { name: "todo".into() })?;
/// let second = store.insert(Item { list, position: 2 })?;
/// let first = store.insert(Item { list, position: 1 })?;
/// assert_eq!(store.children(Item::LIST, list).collect::<Vec<_>>(), [first, second]);
/// let label = store.insert(Label { item: first, list: Some(list) })?;
/// store.delete(list)?; // cascades to the items, and the label goes with its item
/// assert!(!store.contains(second) && !store.contains(label));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// `on_delete = "restrict"` (refused at once) against `"no_action"` with `deferrable`
/// (checked at commit, so the children may move first), `acyclic`, and a one-to-one `unique`
/// key:
///
/// ```
/// use relata::{Entity, Error, Key, Schema, Store};
///
/// #[derive(Entity, Clone, Debug, PartialEq)]
/// struct Team { name: String }
///
/// #[derive(Entity, Clone, Debug, PartialEq)]
/// struct Player {
///     #[relata(deferrable)]
///     team: Key<Team>,
///     #[relata(acyclic, on_delete = "restrict")]
///     mentor: Option<Key<Player>>,
///     #[relata(unique, on_delete = "set_null")]
///     captain_of: Option<Key<Team>>,
/// }
///
/// let schema = Schema::builder().entity::<Team>().entity::<Player>().build()?;
/// let mut store = Store::new(schema);
/// let (red, blue) = (store.insert(Team { name: "red".into() })?, store.insert(Team { name: "blue".into() })?);
/// let ann = store.insert(Player { team: red, mentor: None, captain_of: Some(red) })?;
/// let bo = store.insert(Player { team: red, mentor: Some(ann), captain_of: None })?;
/// assert!(matches!(store.update(ann, |p| p.mentor = Some(bo)), Err(Error::Cycle { .. })));
/// assert!(matches!(store.delete(ann), Err(Error::Restricted { .. })));
/// assert!(matches!(store.update(bo, |p| p.captain_of = Some(red)), Err(Error::UniqueViolation { .. })));
/// store.transaction(|s| {
///     s.delete(red)?; // deferred: the players still point at red until commit
///     s.update(ann, |p| p.team = blue)?;
///     s.update(bo, |p| p.team = blue)
/// })?;
/// assert_eq!(store.get(ann).unwrap().captain_of, None);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// `created_at`, `updated_at` and `default`: values the store fills. Rust has no way to
/// leave a field out of a struct, so the store *owns* a `created_at` / `updated_at` field:
/// whatever the caller writes there is replaced by the clock's time (as Django's
/// `auto_now_add` / `auto_now`); a test sets the time through the store's
/// [`clock`](crate::Store::clock). A `default` fills what data from outside Rust leaves out: a
/// JSON fixture's record (where a left-out `created_at` / `updated_at` takes the clock's time;
/// given times are kept, since a fixture is stored data), and the DDL's `DEFAULT`.
///
/// ```
/// use std::time::Duration;
/// use chrono::{DateTime, Utc};
/// use relata::{Column, Entity, Schema, Store};
///
/// #[derive(Column, Clone, Copy, Debug, PartialEq)]
/// enum Status { Draft, Published }
///
/// #[derive(Entity, Clone, Debug, PartialEq)]
/// struct Article {
///     title: String,
///     #[relata(default = Status::Draft)]
///     status: Status,
///     #[relata(created_at)]
///     created_at: DateTime<Utc>,
///     #[relata(updated_at)]
///     updated_at: DateTime<Utc>,
/// }
///
/// let mut store = Store::new(Schema::builder().entity::<Article>().build()?);
/// store.insert_json(r#"{"articles": [{"title": "Hello"}]}"#)?;
/// let k = store.query::<Article>().first().unwrap();
/// let a = store.get(k).unwrap();
/// assert_eq!((a.status, a.created_at.to_rfc3339()), (Status::Draft, "2000-01-01T00:00:00+00:00".into()));
/// store.clock().advance(Duration::from_secs(3600));
/// store.update(k, |a| a.status = Status::Published)?;
/// let a = store.get(k).unwrap();
/// assert_eq!((a.updated_at - a.created_at).num_hours(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// `id`: an integer primary key the store assigns, as `GENERATED BY DEFAULT AS IDENTITY`
/// in PostgreSQL and `INTEGER PRIMARY KEY` in SQLite (what the DDL export writes). The value
/// the caller puts in the field is replaced by the table's next id at insert and the
/// record's own id at every later write (an id never changes); `Type::BY_<FIELD>` finds a
/// record by its id in O(1) average. Which id comes next follows the store's
/// [`Engine`](crate::Engine): under `Engine::Sqlite`, one more than the largest id in the
/// table (so deleting the newest record frees its id for the next insert, as SQLite does
/// without `AUTOINCREMENT`); under `Engine::Postgres`, a counter that never goes back, as
/// a sequence. A failed insert, a rollback and a fixture reset give the counter back with
/// everything else (PostgreSQL would leave a gap; `docs/SEMANTICS.md` A.15). The field's
/// type must be an [`Identity`] (`i64`, `i32`, `u64`, `u32`). [`Store::to_json`](crate::Store::to_json)
/// names such a record by its id, and a JSON fixture's record keeps the integer id it gives
/// (one without gets the next id), so ids survive a round trip. An upsert on `Type::BY_<FIELD>` is the one write that reads the
/// caller's id: it looks for that id and inserts under it when no record holds it
/// ([`Store::upsert`](crate::Store::upsert)).
///
/// ```
/// use relata::{Engine, Entity, Error, Schema, Store};
///
/// #[derive(Entity, Clone, Debug, PartialEq)]
/// struct Article {
///     #[relata(id)]
///     id: i64,
///     #[relata(unique)]
///     slug: String,
/// }
///
/// let schema = Schema::builder().entity::<Article>().build()?;
/// let article = |slug: &str| Article { id: 0, slug: slug.into() };
/// let mut store = Store::new(schema.clone()); // Engine::Sqlite
/// let first = store.insert(article("hello"))?;
/// let second = store.insert(article("world"))?;
/// assert_eq!((store.get(first).unwrap().id, store.get(second).unwrap().id), (1, 2));
/// assert_eq!(store.find_unique(Article::BY_ID, &2), Some(second));
/// assert!(matches!(store.insert(article("hello")), Err(Error::UniqueViolation { .. })));
/// store.delete(second)?;
/// let third = store.insert(article("again"))?;
/// assert_eq!(store.get(third).unwrap().id, 2); // SQLite hands out max(id) + 1
///
/// let mut pg = Store::with_engine(schema, Engine::Postgres);
/// pg.insert(article("hello"))?;
/// let second = pg.insert(article("world"))?;
/// pg.delete(second)?;
/// let third = pg.insert(article("again"))?;
/// assert_eq!(pg.get(third).unwrap().id, 3); // a sequence never goes back
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Field types: see [`Column`](crate::Column); your own through [`AsColumn`](crate::AsColumn)
/// or `#[derive(relata::Column)]`.
///
/// The methods starting with `__` are generated plumbing, not API.
pub trait Entity: Sized + Send + Sync + 'static {
    /// The compact stored record (private to the store).
    #[doc(hidden)]
    type Row: Clone + Debug + Default + PartialEq + Send + Sync + Serialize + DeserializeOwned + 'static;
    /// The borrowed view the store hands out: `<Name>Ref<'a>`, text fields as lazy [`Text`](crate::Text).
    type Ref<'a>: Copy + Debug;
    /// The static schema of this entity.
    const DEF: &'static EntityDef;

    #[doc(hidden)]
    fn __into_row(self, text: &mut TextHeap) -> Result<Self::Row, Error>;
    #[doc(hidden)]
    fn __into_row_reusing(self, old: &Self::Row, text: &mut TextHeap) -> Result<Self::Row, Error>;
    #[doc(hidden)]
    fn __view<'a>(row: &'a Self::Row, text: TextRead<'a>) -> Self::Ref<'a>;
    #[doc(hidden)]
    fn __from_row(row: &Self::Row, text: &TextHeap) -> Self;
    #[doc(hidden)]
    fn __value<'a>(row: &'a Self::Row, text: &'a TextHeap, field: usize) -> Value<'a>;
    /// Field `field`'s value as the stored row will give it, read from the value before it is
    /// stored; `None` when only the row has it (see `Column::given`).
    #[doc(hidden)]
    fn __given(&self, _field: usize) -> Option<Value<'_>> {
        None
    }
    /// Field `field`'s text moved out of the value, leaving it empty (a refused insert's error
    /// quotes it with no copy); `None` when the field holds no `String` (see
    /// `Column::take_text`).
    #[doc(hidden)]
    fn __take_text(&mut self, _field: usize) -> Option<String> {
        None
    }
    /// A field as people read it when that is not its representation (see
    /// [`AsColumn::shown`](crate::AsColumn::shown)).
    #[doc(hidden)]
    fn __shown(_row: &Self::Row, _text: &TextHeap, _field: usize) -> Option<String> {
        None
    }
    /// The first CHECK constraint (position in `DEF.checks`) the record fails.
    #[doc(hidden)]
    fn __check(&self) -> Option<usize> {
        None
    }
    /// Whether the record fails CHECK constraint `check` (position in `DEF.checks`).
    #[doc(hidden)]
    fn __fails(&self, _check: usize) -> bool {
        false
    }
    /// Whether every stored value of every field is a value of its type (no field needs
    /// [`__rejected`](Self::__rejected)'s check).
    #[doc(hidden)]
    const __ACCEPTS_ALL: bool = true;
    /// The first field whose stored value its type does not accept (a snapshot's bytes).
    #[doc(hidden)]
    fn __rejected(_row: &Self::Row, _text: &TextHeap) -> Option<usize> {
        None
    }
    /// A record from a JSON fixture object; on error the field and why.
    #[doc(hidden)]
    fn __from_json(
        record: &serde_json::Map<String, serde_json::Value>,
        cx: &mut JsonCx<'_>,
    ) -> Result<Self, (usize, JsonBad)>;
    #[doc(hidden)]
    fn __fk(row: &Self::Row, fk: usize) -> Option<RawKey>;
    #[doc(hidden)]
    fn __set_fk(row: &mut Self::Row, fk: usize, to: Option<RawKey>) -> bool;
    #[doc(hidden)]
    fn __seqs(row: &Self::Row) -> &[u32];
    #[doc(hidden)]
    fn __seqs_mut(row: &mut Self::Row) -> &mut [u32];
    #[doc(hidden)]
    fn __for_each_span(row: &mut Self::Row, f: &mut dyn FnMut(&mut Span));
    /// Calls `f` with each text span, in field order.
    #[doc(hidden)]
    fn __spans(row: &Self::Row, f: &mut dyn FnMut(Span));
    /// Whether a field is `created_at` or `updated_at` (so a write reads the clock).
    #[doc(hidden)]
    const __STAMPS: bool = false;
    /// Fills the `created_at` fields (from `old` on a rewrite, else `now`) and the
    /// `updated_at` fields (`now`) of a row built from the caller's record.
    #[doc(hidden)]
    fn __stamp(
        _row: &mut Self::Row,
        _old: Option<&Self::Row>,
        _now: i64,
        _text: &mut TextHeap,
    ) -> Result<(), Error> {
        Ok(())
    }
    /// Sets field `field` of `row` to its declared default (`default = expr`), stored in
    /// `text`; `Ok(false)` (and nothing written) when the field declares none.
    #[doc(hidden)]
    fn __default_field(_row: &mut Self::Row, _text: &mut TextHeap, _field: usize) -> Result<bool, Error> {
        Ok(false)
    }
    /// Writes the id the store assigned into the `#[relata(id)]` field of a new row.
    #[doc(hidden)]
    fn __set_id(_row: &mut Self::Row, _id: u64, _text: &mut TextHeap) -> Result<(), Error> {
        Ok(())
    }
    /// Gives a rewritten row its record's id back (an id never changes).
    #[doc(hidden)]
    fn __keep_id(_row: &mut Self::Row, _old: &Self::Row) {}
}

/// An integer type an `#[relata(id)]` field may have: `i64` (PostgreSQL `BIGINT`), `i32`
/// (`INTEGER`), `u64` or `u32` (`BIGINT`). The store assigns ids from 1 up, per table: see
/// [`Entity`]'s `id` attribute.
///
/// ```
/// use relata::Identity;
/// assert_eq!(i32::from_id(7), Some(7));
/// assert_eq!(i32::from_id(1 << 31), None); // beyond i32: the insert fails, CapacityExceeded
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be an `#[relata(id)]` field: an id is an integer the store assigns",
    label = "use i64, i32, u64 or u32",
    note = "relata implements `relata::Identity` for i64, i32, u64 and u32",
    note = "an id of your own (a UUID, a code) is a unique field under another column: `#[relata(unique, column = \"public_id\")] id: Uuid`"
)]
pub trait Identity: Sized {
    /// The id `id` as this type, or `None` if it does not fit. O(1).
    fn from_id(id: u64) -> Option<Self>;
}

macro_rules! identity {
    ($($t:ty),*) => {$(
        impl Identity for $t {
            fn from_id(id: u64) -> Option<Self> {
                <$t>::try_from(id).ok()
            }
        }
    )*};
}
identity!(i64, i32, u64, u32);

/// The static schema of one entity type, generated by `#[derive(Entity)]`.
#[derive(Debug)]
pub struct EntityDef {
    /// The Rust type name, e.g. `"User"`.
    pub type_name: &'static str,
    /// The SQL table name, e.g. `"users"`.
    pub table: &'static str,
    /// The fields in declaration order.
    pub fields: &'static [FieldDef],
    /// Unique constraints (single-field ones first, then composite ones).
    pub uniques: &'static [UniqueDef],
    /// Secondary (non-unique) indexes.
    pub indexes: &'static [IndexDef],
    /// Foreign keys, in field order.
    pub fks: &'static [FkDef],
    /// CHECK constraints (Rust predicates over the whole record).
    pub checks: &'static [CheckDef],
    /// The `#[relata(id)]` field's position: an integer the store assigns, the table's
    /// primary key. Its unique constraint (`pk_<table>`) is `uniques[0]`.
    pub id: Option<u16>,
}

impl EntityDef {
    /// The SQL column names of some fields, e.g. `["user_id", "title"]`. O(fields given).
    ///
    /// ```
    /// # use relata::{Entity, Key};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct User { name: String }
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct Post { author: Key<User>, title: String }
    /// assert_eq!(Post::DEF.columns(&[0, 1]), ["author_id", "title"]);
    /// assert_eq!(Post::DEF.fk_column(0), "author_id");
    /// ```
    pub fn columns(&self, fields: &[u16]) -> Vec<&'static str> {
        fields
            .iter()
            .filter_map(|&f| self.fields.get(f as usize).map(|d| d.column))
            .collect()
    }

    /// The SQL column of a foreign key (`"?"` for a position past the last key). O(1).
    /// Example at [`columns`](Self::columns).
    pub fn fk_column(&self, fk: usize) -> &'static str {
        self.fks
            .get(fk)
            .and_then(|d| self.fields.get(d.field as usize))
            .map_or("?", |f| f.column)
    }
}

/// One field of an entity.
#[derive(Debug)]
pub struct FieldDef {
    /// The Rust field name.
    pub name: &'static str,
    /// The SQL column name (foreign keys get an `_id` suffix by default).
    pub column: &'static str,
    /// The SQL type.
    pub sql_type: SqlType,
    /// Whether the column is nullable (`Option<_>`).
    pub nullable: bool,
    /// The stored form (snapshots describe fields by it). Not API.
    #[doc(hidden)]
    pub stored: crate::column::Stored,
    /// `max_len = N`: the most characters a text value may have (SQL `VARCHAR(N)`).
    pub max_len: Option<u32>,
    /// `created_at` / `updated_at`: the store fills the field from its [`Clock`](crate::Clock).
    pub stamp: Option<Stamp>,
    /// `default = expr`: calls its argument with the default's value, as stored and as
    /// shown. Read it through [`FieldDef::default_value`]. Not API.
    #[doc(hidden)]
    pub default: Option<crate::__private::DefaultFn>,
    /// Whether a query's value of the column's kind is one its type holds
    /// (`Column::holds`). Not API.
    #[doc(hidden)]
    pub holds: fn(crate::Value<'_>) -> bool,
}

impl FieldDef {
    /// The field's declared default (`#[relata(default = expr)]`), if it has one: `f` gets
    /// the value as the store holds it and, for a type read differently (a timestamp held as
    /// microseconds), as people read it. O(1) plus evaluating the expression.
    ///
    /// ```
    /// use relata::{Entity, Value};
    ///
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct Task { title: String, #[relata(default = 3)] priority: i32 }
    ///
    /// let priority = &Task::DEF.fields[1];
    /// assert_eq!(priority.default_value(|v, _| v == Value::Int(3)), Some(true));
    /// assert_eq!(Task::DEF.fields[0].default_value(|_, _| ()), None);
    /// ```
    pub fn default_value<R>(&self, f: impl FnOnce(Value<'_>, Option<&str>) -> R) -> Option<R> {
        let eval = self.default?;
        let (mut f, mut out) = (Some(f), None);
        eval(&mut |value, shown| {
            if let Some(f) = f.take() {
                out = Some(f(value, shown.as_deref()));
            }
        });
        out
    }
}

/// Which time the store writes into a field from its [`Clock`](crate::Clock).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Stamp {
    /// `#[relata(created_at)]`: the clock's time at insert; kept by every later write.
    CreatedAt,
    /// `#[relata(updated_at)]`: the clock's time at insert and at every update, replace
    /// and upsert.
    UpdatedAt,
}

/// A CHECK constraint: a Rust predicate every record must satisfy.
#[derive(Debug)]
pub struct CheckDef {
    /// The constraint name (default `ck_<table>_<predicate>`).
    pub name: &'static str,
    /// The same condition in SQL, written to the DDL when given.
    pub sql: Option<&'static str>,
}

/// A unique constraint over one or more fields.
#[derive(Debug)]
pub struct UniqueDef {
    /// The constraint name (default `uq_<table>_<columns>`).
    pub name: &'static str,
    /// Field positions.
    pub fields: &'static [u16],
    /// The fields' SQL columns, in the same order: what an [`Error::UniqueViolation`] names
    /// (a static slice, so a refused write allocates no list of names).
    ///
    /// [`Error::UniqueViolation`]: crate::Error::UniqueViolation
    pub columns: &'static [&'static str],
    /// Checked at commit instead of per operation (SQL `DEFERRABLE INITIALLY DEFERRED`),
    /// under `Engine::Postgres` and unless `nocase` ([`Schema::to_sql`](crate::Schema::to_sql)
    /// makes that a unique index on `lower(col)`, which PostgreSQL checks per statement).
    pub deferrable: bool,
    /// Text compares ignoring ASCII case (`unique(nocase)`: SQLite's `COLLATE NOCASE`,
    /// PostgreSQL's unique index on `lower(col)`), in look-ups too.
    pub nocase: bool,
}

/// A secondary (non-unique) index over one or more fields.
#[derive(Debug)]
pub struct IndexDef {
    /// The index name (default `ix_<table>_<columns>`).
    pub name: &'static str,
    /// Field positions.
    pub fields: &'static [u16],
    /// Also kept sorted by value (`index(ordered)`): range scans, prefix scans and ordered
    /// reads in O(log n + k).
    pub ordered: bool,
}

/// What deleting a parent does to the children that reference it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OnDelete {
    /// SQL's RESTRICT: the delete fails while children exist, checked at once (even children
    /// the same delete's cascade would remove block it) and never deferred.
    Restrict,
    /// SQL's NO ACTION, the default: the delete fails if children still reference the record
    /// at the end of the operation (children its own cascade removes do not block), or at
    /// commit when the key is `deferrable`.
    NoAction,
    /// The children are deleted too, recursively.
    Cascade,
    /// The children's key is set to NULL (only for `Option<Key<_>>`).
    SetNull,
}

impl OnDelete {
    /// The action as SQL writes it after `ON DELETE`. O(1).
    ///
    /// ```
    /// assert_eq!(relata::OnDelete::NoAction.as_sql(), "NO ACTION");
    /// ```
    pub fn as_sql(self) -> &'static str {
        match self {
            OnDelete::Restrict => "RESTRICT",
            OnDelete::NoAction => "NO ACTION",
            OnDelete::Cascade => "CASCADE",
            OnDelete::SetNull => "SET NULL",
        }
    }
}

/// A foreign key: a `Key<T>` or `Option<Key<T>>` field.
#[derive(Debug)]
pub struct FkDef {
    /// Position of the key field.
    pub field: u16,
    /// The referenced entity's schema.
    pub target: fn() -> &'static EntityDef,
    /// The referenced entity's type.
    pub target_type: fn() -> TypeId,
    /// `true` for `Option<Key<T>>`.
    pub nullable: bool,
    /// The parent-side name of the relationship (e.g. `"posts"` on users).
    pub back: &'static str,
    /// The on-delete action.
    pub on_delete: OnDelete,
    /// Delete-orphan: a child that loses its parent is deleted.
    pub orphan: bool,
    /// Self-reference that must stay a forest (no cycles).
    pub acyclic: bool,
    /// A `NoAction` restriction is checked at commit instead of per operation (SQL
    /// `DEFERRABLE INITIALLY DEFERRED`); never with `Restrict`.
    pub deferrable: bool,
    /// One-to-one: the key carries a UNIQUE constraint.
    pub unique: bool,
    /// The field the parent's children are kept sorted by (ties in link order); `None` keeps
    /// link order.
    pub order_by: Option<u16>,
}

impl FkDef {
    /// Whether the key deletes its record with its parent (`cascade` or delete-orphan).
    pub(crate) fn cascades(&self) -> bool {
        self.orphan || self.on_delete == OnDelete::Cascade
    }
}

/// Marks a handle's type parameters without owning them (`Q` may be unsized, e.g. `str`).
type Marker<A, B> = PhantomData<fn() -> (A, Box<B>)>;

/// A typed handle to a foreign key of `C` referencing `P`, e.g. `Post::AUTHOR`.
pub struct Fk<C, P> {
    pub(crate) index: usize,
    _types: PhantomData<fn() -> (C, P)>,
}

/// A typed handle to a unique constraint of `E` looked up with a `&Q`, e.g. `User::BY_USERNAME`.
pub struct Unique<E, Q: ?Sized> {
    pub(crate) index: usize,
    _types: Marker<E, Q>,
}

/// A typed handle to a secondary index of `E` looked up with a `&Q`, e.g. `Post::BY_TITLE`.
pub struct Index<E, Q: ?Sized> {
    pub(crate) index: usize,
    _types: Marker<E, Q>,
}

macro_rules! handle_impls {
    ($name:ident<$a:ident, $b:ident $(: ?$sized:ident)?>) => {
        impl<$a, $b $(: ?$sized)?> $name<$a, $b> {
            #[doc(hidden)]
            pub const fn __new(index: usize) -> Self {
                $name { index, _types: PhantomData }
            }
        }
        impl<$a, $b $(: ?$sized)?> Clone for $name<$a, $b> {
            fn clone(&self) -> Self {
                *self
            }
        }
        impl<$a, $b $(: ?$sized)?> Copy for $name<$a, $b> {}
        impl<$a, $b $(: ?$sized)?> Debug for $name<$a, $b> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}({})", stringify!($name), self.index)
            }
        }
    };
}
handle_impls!(Fk<C, P>);
handle_impls!(Unique<E, Q: ?Sized>);
handle_impls!(Index<E, Q: ?Sized>);
