//! Typed errors. Every failed operation returns one of these and leaves the store exactly as
//! it was. Display texts start like SQLite's ("UNIQUE constraint failed: users.username")
//! and continue with relata's detail: the constraint, the records involved, the value.

use crate::entity::OnDelete;
use crate::entity::{Entity, Unique};
use crate::key::RawKey;

/// The error of a store operation.
///
/// ```
/// use relata::{Entity, Error, Schema, Store};
///
/// #[derive(Entity, Clone, Debug, PartialEq)]
/// #[relata(table = "users")]
/// struct User { #[relata(unique)] username: String }
///
/// let mut store = Store::new(Schema::builder().entity::<User>().build()?);
/// let alice = store.insert(User { username: "alice".into() })?;
/// let err = store.insert(User { username: "alice".into() }).unwrap_err();
/// assert!(matches!(err, Error::UniqueViolation { existing, .. } if existing == alice.raw()));
/// assert!(err.to_string().starts_with("UNIQUE constraint failed: users.username"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A write would give two records the same value under a unique constraint.
    #[error(
        "UNIQUE constraint failed: {cols} (constraint {constraint}: value {value} is already held by {table}[{existing}])",
        cols = qualified(table, columns)
    )]
    UniqueViolation {
        /// The table.
        table: &'static str,
        /// The constrained columns ([`UniqueDef::columns`](crate::UniqueDef::columns)).
        columns: &'static [&'static str],
        /// The constraint name.
        constraint: &'static str,
        /// The offending value, SQL-quoted when displayed (long text is shortened); for
        /// several columns a tuple, `('a', 2)`.
        value: QuotedValue,
        /// The record already holding the value.
        existing: RawKey,
    },

    /// A text value is longer than its column's `max_len` (`VARCHAR(N)`). Worded as SQLite
    /// reports the `CHECK` relata's SQLite DDL adds (`ck_<table>_<column>_max_len`);
    /// PostgreSQL's wording and SQLSTATE 22001 through [`Error::message`] and
    /// [`Error::sqlstate`].
    #[error(
        "CHECK constraint failed: ck_{table}_{column}_max_len ({table}.{column}{of} would hold {length} characters, VARCHAR({limit}))",
        of = key.map_or(String::new(), |k| format!(" of {table}[{k}]"))
    )]
    TooLong {
        /// The table.
        table: &'static str,
        /// The column.
        column: &'static str,
        /// The record being rewritten (`None` for an insert).
        key: Option<RawKey>,
        /// The declared limit, in characters.
        limit: u32,
        /// The value's length, in characters.
        length: usize,
    },

    /// Under [`Engine::Postgres`](crate::Engine::Postgres), a text value holding a NUL byte,
    /// which PostgreSQL's text types cannot hold (SQLSTATE 22021,
    /// `invalid byte sequence for encoding "UTF8": 0x00`); SQLite stores it. Given to a write
    /// (the value the column would hold) or to a read given `Value`s (a query's value, which
    /// PostgreSQL refuses as a parameter alike): the text says neither.
    #[error("{table}.{column}{of}: text with a NUL byte (0x00), which PostgreSQL's text cannot hold",
        of = key.map_or(String::new(), |k| format!(" of {table}[{k}]")))]
    NulInText {
        /// The table.
        table: &'static str,
        /// The column.
        column: &'static str,
        /// The record being rewritten or loaded (`None` for an insert and a query's value).
        key: Option<RawKey>,
    },

    /// Under [`Engine::Postgres`](crate::Engine::Postgres), a JSON value holding the escape
    /// `\u0000` (a NUL character in a string or an object's key), which the DDL's `JSONB`
    /// cannot hold (SQLSTATE 22P05, `unsupported Unicode escape sequence`); SQLite's TEXT
    /// stores it, and so does PostgreSQL's `json` (relata declares `JSONB`). `\\u0000`, a
    /// backslash and text, is not the escape.
    #[error("{table}.{column}{of}: JSON with the escape \\u0000, which PostgreSQL's jsonb cannot hold",
        of = key.map_or(String::new(), |k| format!(" of {table}[{k}]")))]
    NulInJson {
        /// The table.
        table: &'static str,
        /// The JSON column.
        column: &'static str,
        /// The record being rewritten or loaded (`None` for an insert and a query's value).
        key: Option<RawKey>,
    },

    /// A JSON value nesting arrays and objects more than [`JSON_DEPTH_LIMIT`](crate::JSON_DEPTH_LIMIT)
    /// (127) levels deep. relata reads a stored JSON value back with `serde_json`, which
    /// stops at that depth: stored, the value would read back as `null` and its snapshot would
    /// not load, so it is refused under both profiles. PostgreSQL's `JSONB` and SQLite take
    /// deeper documents (SQLite up to 1,000 levels): a refusal where they accept, never the
    /// reverse.
    #[error("{table}.{column}{of}: JSON nested more than {limit} levels deep, deeper than relata reads back (serde_json's limit)",
        of = key.map_or(String::new(), |k| format!(" of {table}[{k}]")))]
    JsonTooDeep {
        /// The table.
        table: &'static str,
        /// The JSON column.
        column: &'static str,
        /// The record being rewritten or loaded (`None` for an insert).
        key: Option<RawKey>,
        /// The deepest nesting relata stores.
        limit: usize,
    },

    /// Under [`Engine::Postgres`](crate::Engine::Postgres), a `u64` above `i64::MAX` in a
    /// column the PostgreSQL DDL declares `BIGINT` (SQLSTATE 22003,
    /// `value "..." is out of range for type bigint`); SQLite's INTEGER cannot hold it either,
    /// but relata's SQLite profile keeps it.
    #[error("{table}.{column}{of} would hold {value}, above BIGINT's largest value 9223372036854775807",
        of = key.map_or(String::new(), |k| format!(" of {table}[{k}]")))]
    OutOfRange {
        /// The table.
        table: &'static str,
        /// The column.
        column: &'static str,
        /// The record being rewritten or loaded (`None` for an insert).
        key: Option<RawKey>,
        /// The value.
        value: u64,
    },

    /// A record fails a CHECK constraint.
    #[error(
        "CHECK constraint failed: {constraint} (on {table}{at}{with})",
        at = key.map_or(String::new(), |k| format!("[{k}]")),
        with = column_values(values)
    )]
    CheckViolation {
        /// The table.
        table: &'static str,
        /// The constraint name.
        constraint: &'static str,
        /// The record being rewritten (`None` for an insert).
        key: Option<RawKey>,
        /// The columns the constraint reads, each with the record's value: those its `sql`
        /// names, or every column for a Rust predicate without `sql` (it may read any).
        values: Vec<(&'static str, QuotedValue)>,
    },

    /// A foreign key names a record that never existed.
    #[error(
        "FOREIGN KEY constraint failed: {table}.{column} references {target}[{key}], which does not exist"
    )]
    MissingTarget {
        /// The child table.
        table: &'static str,
        /// The foreign-key column.
        column: &'static str,
        /// The referenced table.
        target: &'static str,
        /// The referenced key.
        key: RawKey,
    },

    /// A foreign key names a record that was deleted.
    #[error("FOREIGN KEY constraint failed: {table}.{column} references {target}[{key}], which was deleted")]
    DeletedTarget {
        /// The child table.
        table: &'static str,
        /// The foreign-key column.
        column: &'static str,
        /// The referenced table.
        target: &'static str,
        /// The referenced (stale) key.
        key: RawKey,
    },

    /// No record has this key (it was never handed out by this store).
    #[error("no record {table}[{key}]")]
    NotFound {
        /// The table.
        table: &'static str,
        /// The key.
        key: RawKey,
    },

    /// The key's slot was used but this generation is not live: the record was deleted (or
    /// the key was forged); the key will never name another record.
    #[error("record {table}[{key}] was deleted (stale key)")]
    Stale {
        /// The table.
        table: &'static str,
        /// The stale key.
        key: RawKey,
    },

    /// A delete was refused because children still reference the record under ON DELETE
    /// RESTRICT or NO ACTION.
    #[error(
        "FOREIGN KEY constraint failed: cannot delete {table}[{key}]: {dependents} row(s) of {child_table}.{column} still reference it (relationship {table}.{relationship}, ON DELETE {})",
        action.as_sql()
    )]
    Restricted {
        /// The table of the record being deleted (possibly reached by a cascade).
        table: &'static str,
        /// The record whose children block the delete.
        key: RawKey,
        /// The child table.
        child_table: &'static str,
        /// The child's foreign-key column.
        column: &'static str,
        /// The parent-side name of the relationship.
        relationship: &'static str,
        /// How many children block it.
        dependents: usize,
        /// The relationship's action: `Restrict` or `NoAction`.
        action: OnDelete,
    },

    /// A required (`Key<T>`) foreign key would become NULL.
    #[error("NOT NULL constraint failed: {table}.{column} ({table}[{key}] would lose its required parent)")]
    RequiredReference {
        /// The child table.
        table: &'static str,
        /// The foreign-key column.
        column: &'static str,
        /// The child record.
        key: RawKey,
    },

    /// Linking would create a cycle in a relationship declared `acyclic`.
    #[error("CHECK constraint failed: {table}.{column} is acyclic, and putting {table}[{key}] under {table}[{parent}] would create a cycle")]
    Cycle {
        /// The table.
        table: &'static str,
        /// The self-referencing column.
        column: &'static str,
        /// The record being moved.
        key: RawKey,
        /// The parent it would be moved under (itself or one of its descendants).
        parent: RawKey,
    },

    /// A many-to-many pair that is already linked (the association table's primary key,
    /// named `<relation>_pkey` as PostgreSQL names it).
    #[error(
        "UNIQUE constraint failed: {relation}.{left_column}, {relation}.{right_column} (constraint {relation}_pkey: {left_table}[{left}] and {right_table}[{right}] are already linked)"
    )]
    DuplicateLink {
        /// The relation (association table) name.
        relation: &'static str,
        /// The left column.
        left_column: &'static str,
        /// The right column.
        right_column: &'static str,
        /// The left table.
        left_table: &'static str,
        /// The right table.
        right_table: &'static str,
        /// The left record.
        left: RawKey,
        /// The right record.
        right: RawKey,
    },

    /// Unlinking a pair that is not linked.
    #[error("{left_table}[{left}] and {right_table}[{right}] are not linked in {relation}")]
    NotLinked {
        /// The relation (association table) name.
        relation: &'static str,
        /// The left table.
        left_table: &'static str,
        /// The right table.
        right_table: &'static str,
        /// The left record.
        left: RawKey,
        /// The right record.
        right: RawKey,
    },

    /// The many-to-many relation is not part of this store's schema.
    #[error("relation {relation} is not registered in this store's schema")]
    UnknownRelation {
        /// The relation name.
        relation: &'static str,
    },

    /// A relation handle whose name is registered but whose end types are not the
    /// registration's: refused like an unregistered relation, never matched by name alone.
    #[error("relation {relation} is registered as ManyToMany<{left}, {right}>, not ManyToMany<{handle_left}, {handle_right}>")]
    RelationMismatch {
        /// The relation name.
        relation: &'static str,
        /// The registered left type.
        left: &'static str,
        /// The registered right type.
        right: &'static str,
        /// The handle's left type.
        handle_left: &'static str,
        /// The handle's right type.
        handle_right: &'static str,
    },

    /// `remove_child` of a record that is not a child of that parent.
    #[error("{table}[{key}] is not a child of {parent_table}[{parent}] through {table}.{column}")]
    NotAChild {
        /// The child table.
        table: &'static str,
        /// The foreign-key column.
        column: &'static str,
        /// The record.
        key: RawKey,
        /// The parent's table.
        parent_table: &'static str,
        /// The parent it is not a child of.
        parent: RawKey,
    },

    /// A one-to-one operation on a one-to-many key.
    #[error("{table}.{column} is one-to-many; this operation needs a one-to-one key (`#[relata(unique)]`)")]
    NotOneToOne {
        /// The child table.
        table: &'static str,
        /// The foreign-key column.
        column: &'static str,
    },

    /// `begin` (or `mark`) while a transaction is open.
    #[error("a transaction is already open (use a savepoint to nest)")]
    TransactionOpen,

    /// `commit`, `rollback` or `savepoint` with no transaction open.
    #[error("no transaction is open")]
    NoTransaction,

    /// A `commit`, `rollback`, `rollback_to`, `release`, `reset` or `release_mark` that would
    /// end a transaction, savepoint or mark owned by a running call: a
    /// [`Store::transaction`](crate::Store::transaction) or
    /// [`Faults::run`](crate::Faults::run) closure, or a
    /// [`FixtureScope`](crate::FixtureScope). Nothing changed; end it by returning from the
    /// closure (or dropping the scope).
    #[error("{operation} would end a scope that an enclosing call owns (a `transaction` or `faults().run` closure, or a fixture scope); return from the closure or drop the scope instead")]
    EndsEnclosingScope {
        /// The refused operation.
        operation: &'static str,
    },

    /// Under [`Engine::Postgres`](crate::Engine::Postgres), a statement inside a transaction
    /// after an earlier one failed: PostgreSQL's aborted transaction (SQLSTATE 25P02). Every
    /// write, [`savepoint`](crate::Store::savepoint), [`release`](crate::Store::release), the
    /// fallible reads and [`commit`](crate::Store::commit) return it until
    /// [`rollback`](crate::Store::rollback), or [`rollback_to`](crate::Store::rollback_to) a
    /// savepoint taken before the failure; `commit` returns it after rolling the whole
    /// transaction back. It names the statement that failed first and its error.
    #[error("current transaction is aborted, commands ignored until end of transaction block: {statement} on {table} failed first ({cause}); roll back, or roll back to a savepoint taken before it")]
    TransactionAborted {
        /// The operation that failed first (`insert`, `link`, ...).
        statement: &'static str,
        /// The table or relation it addressed.
        table: &'static str,
        /// Its error.
        cause: Box<Error>,
    },

    /// A savepoint that was released or rolled past.
    #[error("the savepoint is no longer open")]
    UnknownSavepoint,

    /// A fixture mark that was released, or belongs to another store.
    #[error("the fixture mark is not open in this store")]
    UnknownMark,

    /// A commit whose deferred checks failed; the transaction was rolled back.
    #[error("commit failed with {} violation(s); the transaction was rolled back: {}", violations.len(), list(violations))]
    CommitFailed {
        /// Every violation found, each naming its constraint and records.
        violations: Vec<Error>,
    },

    /// An injected "the database is unavailable" failure; see
    /// [`Faults::inject`](crate::Faults::inject).
    #[error("database unavailable: {reason}")]
    Unavailable {
        /// Why, as the test put it.
        reason: &'static str,
    },

    /// A fault injected by [`Faults::run`](crate::Faults::run) never fired.
    #[error("the injected fault {fault} never fired: the code under test did not reach it")]
    FaultNotTriggered {
        /// The fault point.
        fault: String,
    },

    /// A diff between stores that do not share a schema.
    #[error("these stores do not share a schema: there is no meaningful diff between them")]
    UnrelatedStores,

    /// The entity type is not part of this store's schema.
    #[error("entity type {type_name} is not registered in this store's schema")]
    UnknownEntity {
        /// The Rust type name.
        type_name: &'static str,
    },

    /// A value given for a column of an index or composite unique constraint
    /// ([`Store::range_values`](crate::Store::range_values)' bounds, a
    /// [`Store::prefix`](crate::Store::prefix),
    /// [`Store::find_by_values`](crate::Store::find_by_values),
    /// [`Store::find_unique_values`](crate::Store::find_unique_values), a keyset cursor's
    /// [`Sorted::after`](crate::Sorted::after)) is not of the kind the column holds, or is
    /// text in a form the column's type never holds (a UUID not in lower case, JSON not in
    /// its canonical form, a decimal not as it prints, a name no variant has). Compared anyway, it would sort by its kind, not by its value (text after every number,
    /// NULL before everything), or hash to nothing, and the read would return records that do
    /// not match or none. Nothing was read.
    #[error("index {index} on {table}: column {column} holds {expected}, but the value given, {value}, is {given}")]
    ValueType {
        /// The table.
        table: &'static str,
        /// The index.
        index: &'static str,
        /// The column the value was given for.
        column: &'static str,
        /// What the column holds, and the [`Value`](crate::Value) variants that compare with it.
        expected: &'static str,
        /// What was given: the [`Value`](crate::Value) variant.
        given: &'static str,
        /// The value given, quoted (long text shortened). Boxed: inline it made every `Error`,
        /// and so every write's `Result`, larger (insert 1,147 -> 1,166 instructions).
        value: Box<QuotedValue>,
    },

    /// More values than the index or composite unique constraint has columns (a bound of
    /// [`Store::range_values`](crate::Store::range_values), a
    /// [`Store::prefix`](crate::Store::prefix), the values of
    /// [`Store::find_by_values`](crate::Store::find_by_values),
    /// [`Store::find_unique_values`](crate::Store::find_unique_values) or
    /// [`Sorted::after`](crate::Sorted::after)). Nothing was read.
    #[error("index {index} on {table} has {columns} column(s), but {given} values were given")]
    TooManyValues {
        /// The table.
        table: &'static str,
        /// The index.
        index: &'static str,
        /// How many columns the index has.
        columns: usize,
        /// How many values were given.
        given: usize,
    },

    /// Fewer values than the index or composite unique constraint has columns where a read
    /// needs one per column: [`Store::find_by_values`](crate::Store::find_by_values),
    /// [`Store::find_unique_values`](crate::Store::find_unique_values) (a hash look-up of
    /// the whole row's values: a shorter one matches nothing) and
    /// [`Sorted::after`](crate::Sorted::after) (the previous page's last row). A prefix is
    /// [`Store::prefix`](crate::Store::prefix)'s. Nothing was read.
    #[error("index {index} on {table} has {columns} column(s), but only {given} values were given: this read takes one per column")]
    TooFewValues {
        /// The table.
        table: &'static str,
        /// The index or unique constraint.
        index: &'static str,
        /// How many columns it has.
        columns: usize,
        /// How many values were given.
        given: usize,
    },

    /// A delete's cascade reached deeper than the engine allows (SQLite: 1000 levels, its
    /// trigger recursion limit; PostgreSQL has none).
    #[error("too many levels of trigger recursion: deleting {table}[{key}] cascades {limit} or more levels deep (SQLite's limit; Engine::Postgres has none)")]
    CascadeTooDeep {
        /// The table of the record being deleted.
        table: &'static str,
        /// The record being deleted.
        key: RawKey,
        /// The limit.
        limit: usize,
    },

    /// Under [`Engine::Postgres`](crate::Engine::Postgres), an insert that needs the next
    /// `#[relata(id)]` when its identity sequence has reached the largest value the column's
    /// type holds (`i64::MAX` for `BIGINT`: `i64`, `u64`, `u32` fields; `i32::MAX` for an
    /// `i32` field's `INTEGER`): PostgreSQL's `nextval` refuses (SQLSTATE 2200H,
    /// `nextval: reached maximum value of sequence "<table>_<column>_seq" (<max>)`). An
    /// insert giving its own id (an upsert by id) still may.
    #[error("{table}.{column}: no id left: the identity sequence {table}_{column}_seq reached its maximum value ({max})")]
    IdsExhausted {
        /// The table.
        table: &'static str,
        /// The id column.
        column: &'static str,
        /// The largest value of the column's type, the last id handed out or given.
        max: i64,
    },

    /// An internal limit was reached.
    #[error("capacity exceeded: {what}")]
    CapacityExceeded {
        /// Which limit.
        what: &'static str,
    },
}

/// `: email = 'nope', id = 3`: the columns a CHECK message quotes.
fn column_values(values: &[(&'static str, QuotedValue)]) -> String {
    let pairs: Vec<String> = values.iter().map(|(c, v)| format!("{c} = {v}")).collect();
    match pairs.is_empty() {
        true => String::new(),
        false => format!(", where {}", pairs.join(", ")),
    }
}

fn list(errors: &[Error]) -> String {
    let texts: Vec<String> = errors.iter().map(ToString::to_string).collect();
    texts.join("; ")
}

/// The value an [`Error::UniqueViolation`] names, kept as data and written out only when it
/// is displayed: `'alice'`, `42`, `users[1v1]` for a foreign key, `('a', 2)` for several
/// columns; text longer than 64 bytes is cut, with its length. A refused write formats no
/// text: most callers match the error and never print it. Equality, `{:?}` and comparison
/// with a `str` go by that text. O(1) to build for short values, O(length) to display.
///
/// ```
/// # use relata::{Entity, Error, Schema, Store};
/// #[derive(Entity, Clone, Debug, PartialEq)]
/// struct User { #[relata(unique)] name: String }
/// let mut store = Store::new(Schema::builder().entity::<User>().build()?);
/// store.insert(User { name: "o'hara".into() })?;
/// let Err(Error::UniqueViolation { value, .. }) = store.insert(User { name: "o'hara".into() }) else {
///     panic!("a unique violation")
/// };
/// assert_eq!(value, "'o''hara'");
/// assert_eq!(value.to_string(), "'o''hara'");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct QuotedValue(Quoted);

#[derive(Clone)]
enum Quoted {
    One(Part),
    Tuple(Box<[Part]>),
    /// Text given as it is displayed (`From<String>`).
    Given(String),
}

/// One column's value: what its quoted form shows, or (`Whole`) the text it shortens.
pub(crate) enum Part {
    /// A value with no text or bytes (NULL, a number, a boolean, a key with no table).
    Scalar(crate::value::Value<'static>),
    /// Text (or a decimal's text) of `len` bytes, of which `head` is what is quoted.
    Text { head: Box<str>, len: usize },
    /// Bytes: `len` of them, of which `head` is what is quoted.
    Bytes { head: Box<[u8]>, len: usize },
    /// A foreign key, with its target's table: `users[1v1]`.
    Ref {
        table: &'static str,
        key: crate::key::RawKey,
    },
    /// Text held whole, quoted as text: a value as people read it (`AsColumn::shown`), or a
    /// refused insert's own `String`, moved in rather than copied.
    Whole(String),
}

impl Part {
    /// What `value` shows, copied out of the store (only the quoted prefix of long text).
    pub(crate) fn of(value: crate::value::Value<'_>) -> Part {
        use crate::value::{quoted_bytes_prefix, quoted_prefix, Value};
        match value {
            Value::Null => Part::Scalar(Value::Null),
            Value::Bool(b) => Part::Scalar(Value::Bool(b)),
            Value::Int(i) => Part::Scalar(Value::Int(i)),
            Value::UInt(u) => Part::Scalar(Value::UInt(u)),
            Value::Float(x) => Part::Scalar(Value::Float(x)),
            Value::Key(k) => Part::Scalar(Value::Key(k)),
            Value::Text(s) | Value::Numeric(s) => Part::Text {
                head: quoted_prefix(s).into(),
                len: s.len(),
            },
            Value::Bytes(b) => Part::Bytes {
                head: quoted_bytes_prefix(b).into(),
                len: b.len(),
            },
        }
    }
}

/// A clone keeps only what the quoted form shows: a `Whole` text (a refused insert's own
/// `String`, which may be megabytes) clones as its quoted prefix, so an error copied into the
/// operation log or by a caller costs at most the quote's bytes. It displays the same.
impl Clone for Part {
    fn clone(&self) -> Part {
        match self {
            Part::Scalar(v) => Part::Scalar(*v),
            Part::Text { head, len } => Part::Text {
                head: head.clone(),
                len: *len,
            },
            Part::Bytes { head, len } => Part::Bytes {
                head: head.clone(),
                len: *len,
            },
            Part::Ref { table, key } => Part::Ref { table, key: *key },
            Part::Whole(s) => Part::Text {
                head: crate::value::quoted_prefix(s).into(),
                len: s.len(),
            },
        }
    }
}

impl std::fmt::Display for Part {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use crate::value::{quote_bytes, quote_text};
        match self {
            Part::Scalar(v) => std::fmt::Display::fmt(v, f),
            Part::Text { head, len } => quote_text(f, head, *len),
            Part::Bytes { head, len } => quote_bytes(f, head, *len),
            Part::Ref { table, key } => write!(f, "{table}[{key}]"),
            Part::Whole(s) => quote_text(f, s, s.len()),
        }
    }
}

impl QuotedValue {
    /// One column's value.
    pub(crate) fn one(part: Part) -> Self {
        QuotedValue(Quoted::One(part))
    }

    /// Several columns' values, shown as a tuple.
    pub(crate) fn tuple(parts: Vec<Part>) -> Self {
        QuotedValue(Quoted::Tuple(parts.into_boxed_slice()))
    }
}

impl std::fmt::Display for QuotedValue {
    // `to_string` below formats with no width or precision, so it recurses one level only.
    #[allow(clippy::recursive_format_impl)]
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Width and precision apply to the whole text, as they did to the `String` this was.
        if f.width().is_some() || f.precision().is_some() {
            return f.pad(&self.to_string());
        }
        match &self.0 {
            Quoted::One(part) => std::fmt::Display::fmt(part, f),
            Quoted::Tuple(parts) => {
                f.write_str("(")?;
                for (i, part) in parts.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    std::fmt::Display::fmt(part, f)?;
                }
                f.write_str(")")
            }
            Quoted::Given(text) => f.write_str(text),
        }
    }
}

impl std::fmt::Debug for QuotedValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&self.to_string(), f)
    }
}

impl QuotedValue {
    /// Whether this value displays as `text`, compared piece by piece as it is written.
    fn displays_as(&self, text: &str) -> bool {
        struct Rest<'a>(&'a str);
        impl std::fmt::Write for Rest<'_> {
            fn write_str(&mut self, s: &str) -> std::fmt::Result {
                self.0 = self.0.strip_prefix(s).ok_or(std::fmt::Error)?;
                Ok(())
            }
        }
        let mut rest = Rest(text);
        std::fmt::Write::write_fmt(&mut rest, format_args!("{self}")).is_ok() && rest.0.is_empty()
    }
}

impl PartialEq for QuotedValue {
    fn eq(&self, other: &Self) -> bool {
        match (&self.0, &other.0) {
            (_, Quoted::Given(text)) => self.displays_as(text),
            (Quoted::Given(text), _) => other.displays_as(text),
            _ => self.displays_as(&other.to_string()),
        }
    }
}
impl Eq for QuotedValue {}

impl PartialEq<str> for QuotedValue {
    fn eq(&self, other: &str) -> bool {
        self.displays_as(other)
    }
}
impl PartialEq<&str> for QuotedValue {
    fn eq(&self, other: &&str) -> bool {
        self.displays_as(other)
    }
}
impl PartialEq<String> for QuotedValue {
    fn eq(&self, other: &String) -> bool {
        self.displays_as(other)
    }
}

impl From<String> for QuotedValue {
    /// A value given as the text it displays.
    fn from(text: String) -> Self {
        QuotedValue(Quoted::Given(text))
    }
}
impl From<&str> for QuotedValue {
    /// A value given as the text it displays.
    fn from(text: &str) -> Self {
        QuotedValue(Quoted::Given(text.to_string()))
    }
}

/// `users.a, users.b`: how SQLite names the columns of a failed constraint.
fn qualified(table: &str, columns: &[&str]) -> String {
    let names: Vec<String> = columns.iter().map(|c| format!("{table}.{c}")).collect();
    names.join(", ")
}

/// What [`Store::check_integrity`](crate::Store::check_integrity) found wrong: the first
/// difference between a derived structure and the one recomputed from ground truth.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("integrity check failed in {table}: {detail}")]
pub struct IntegrityError {
    /// The table whose state is inconsistent.
    pub table: &'static str,
    /// What differs, naming the record and structure.
    pub detail: String,
}

impl Error {
    /// `true` if this is a unique violation of the constraint `on` (a typed handle such as
    /// `User::BY_EMAIL`), instead of comparing table and constraint names by hand. O(1).
    ///
    /// ```
    /// # use relata::{Entity, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct User { #[relata(unique)] name: String, #[relata(unique)] email: String }
    /// let mut s = Store::new(Schema::builder().entity::<User>().build()?);
    /// s.insert(User { name: "ann".into(), email: "a@example.com".into() })?;
    /// let err = s.insert(User { name: "bob".into(), email: "a@example.com".into() }).unwrap_err();
    /// assert!(err.violates(User::BY_EMAIL));
    /// assert!(!err.violates(User::BY_NAME));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn violates<E: Entity, Q: ?Sized>(&self, on: Unique<E, Q>) -> bool {
        match self {
            Error::UniqueViolation {
                table, constraint, ..
            } => {
                let def = E::DEF;
                *table == def.table && def.uniques.get(on.index).is_some_and(|u| u.name == *constraint)
            }
            _ => false,
        }
    }
}

/// Why a snapshot could not be saved or loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SnapshotError {
    /// A file operation failed.
    #[error("snapshot I/O failed at step {step}: {message}")]
    Io {
        /// The step (create, write, flush, sync, rename, sync-dir, read).
        step: &'static str,
        /// The I/O error kind.
        kind: std::io::ErrorKind,
        /// The I/O error text.
        message: String,
    },
    /// The bytes do not start with relata's magic number.
    #[error("not a relata snapshot (bad magic bytes)")]
    BadMagic,
    /// The format version is not one this build reads.
    #[error("snapshot format version {found} is not supported (this build reads version {supported})")]
    UnsupportedVersion {
        /// The version in the file.
        found: u32,
        /// The version this build reads.
        supported: u32,
    },
    /// The bytes end before a part they announce.
    #[error("snapshot truncated: {what} is incomplete")]
    Truncated {
        /// Which part.
        what: &'static str,
    },
    /// The bytes go on after the announced end.
    #[error("snapshot has {extra} trailing bytes after its end")]
    TrailingBytes {
        /// How many.
        extra: usize,
    },
    /// The checksum does not match: the bytes were damaged.
    #[error("snapshot checksum mismatch (header says {expected:#018x}, content gives {found:#018x})")]
    ChecksumMismatch {
        /// The header's checksum.
        expected: u64,
        /// The checksum of the content.
        found: u64,
    },
    /// The snapshot was saved with another schema.
    #[error("snapshot schema differs from the store's: {detail}")]
    SchemaMismatch {
        /// The first difference, naming the table and field.
        detail: String,
    },
    /// A part could not be decoded.
    #[error("snapshot part {part} could not be decoded: {detail}")]
    Decode {
        /// The table or relation.
        part: &'static str,
        /// What went wrong.
        detail: String,
    },
    /// The store is inside a transaction whose changes violate a deferred constraint (a
    /// deferrable duplicate mid-swap, a restricted parent deleted before its children moved):
    /// that state could never be loaded, so it is not saved. Commit or fix it first.
    #[error("cannot snapshot a state that violates a deferred constraint: {}", violations.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    DeferredViolation {
        /// Every violation, as a commit would report them.
        violations: Vec<crate::Error>,
    },
    /// Encoding failed.
    #[error("snapshot encoding failed: {detail}")]
    Encode {
        /// What went wrong.
        detail: String,
    },
    /// A record's text lies outside its table's heap.
    #[error("record {table}[{key}] has text outside the heap")]
    TextOutOfBounds {
        /// The table.
        table: &'static str,
        /// The record.
        key: RawKey,
    },
    /// Two records share a value under a unique constraint.
    #[error("UNIQUE constraint failed in snapshot: {table} {constraint} held by both {} and {}", keys[0], keys[1])]
    DuplicateUnique {
        /// The table.
        table: &'static str,
        /// The constraint.
        constraint: &'static str,
        /// The two records.
        keys: [RawKey; 2],
    },
    /// A foreign key references a record that is not in the snapshot.
    #[error("FOREIGN KEY constraint failed in snapshot: {table}[{key}].{column} references missing {target}[{target_key}]")]
    DanglingReference {
        /// The child table.
        table: &'static str,
        /// The foreign-key column.
        column: &'static str,
        /// The child record.
        key: RawKey,
        /// The referenced table.
        target: &'static str,
        /// The missing key.
        target_key: RawKey,
    },
    /// A many-to-many pair names a record that is not in the snapshot, or appears twice.
    #[error("bad link in snapshot relation {relation}: {left}-{right} ({problem})")]
    BadLink {
        /// The relation.
        relation: &'static str,
        /// The left end.
        left: RawKey,
        /// The right end.
        right: RawKey,
        /// "missing end", "duplicate", "link number beyond its counter" or "link number
        /// repeated or out of order".
        problem: &'static str,
    },
    /// The description's record count differs from the records found.
    #[error("snapshot table {table} announces {expected} records but holds {found}")]
    CountMismatch {
        /// The table.
        table: &'static str,
        /// The count in the description.
        expected: u64,
        /// The records decoded.
        found: u64,
    },
    /// Another invariant does not hold (for example a cycle in an `acyclic` relationship).
    #[error("snapshot violates an invariant: {0}")]
    Integrity(IntegrityError),
    /// A record breaks a CHECK constraint or a `max_len` limit, or under `Engine::Postgres`
    /// holds a value PostgreSQL cannot bind (NUL in text, the escape `\u0000` in a `JSONB`
    /// column, a `u64` above `BIGINT`): `error` says which.
    #[error("snapshot record {table}[{key}] is refused: {error}")]
    Rejected {
        /// The table.
        table: &'static str,
        /// The record.
        key: RawKey,
        /// The constraint it breaks, as an insert would report it.
        error: Box<crate::Error>,
    },
    /// An evolving load found a field whose stored type changed, or a key to another table.
    #[error("snapshot field {table}.{field} changed type: {detail}")]
    FieldTypeChanged {
        /// The table.
        table: &'static str,
        /// The field.
        field: &'static str,
        /// The field in the snapshot and in the schema.
        detail: String,
    },
    /// An evolving load found a new required field with no declared default, and a record
    /// of the snapshot that would need a value for it.
    #[error("new field {table}.{field} is required and has no default, but the snapshot holds record {table}[{key}]")]
    MissingDefault {
        /// The table.
        table: &'static str,
        /// The field.
        field: &'static str,
        /// The first record (in slot order) that needs a value.
        key: RawKey,
    },
    /// An evolving load found a field that is `Option<T>` in the snapshot and `T` in the
    /// schema (SQL's SET NOT NULL), and a record of the snapshot holding `None` there.
    #[error("NOT NULL constraint failed in snapshot: {table}.{field} is required now, but record {table}[{key}] holds NULL")]
    NullInRequiredField {
        /// The table.
        table: &'static str,
        /// The field (its Rust name).
        field: &'static str,
        /// The first record (in slot order) holding `None`.
        key: RawKey,
    },
    /// An evolving load found a many-to-many relation that joins other tables than in the
    /// snapshot.
    #[error("snapshot relation {relation} changed: {detail}")]
    RelationChanged {
        /// The relation.
        relation: &'static str,
        /// Which tables it joins in the snapshot and in the schema.
        detail: String,
    },
    /// A snapshot's description names a table, a field of one table, or a relation twice: an
    /// evolving load matches them by name, so all but one would be lost.
    #[error("snapshot names {what} {name} twice")]
    NamedTwice {
        /// "table", "field" or "relation".
        what: &'static str,
        /// The name (a field's as `table.field`).
        name: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Value;

    #[test]
    fn a_quoted_value_displays_and_compares_as_the_value_did() {
        let long = format!("a{}", "é".repeat(40));
        let bytes = [7u8; 40];
        for value in [
            Value::Text("o'hara"),
            Value::Text(&long),
            Value::Numeric("-1.50"),
            Value::Bytes(&bytes),
            Value::Bytes(&bytes[..3]),
            Value::Float(-0.5),
            Value::Null,
            Value::Key(RawKey::new(3, 1)),
        ] {
            let quoted = QuotedValue::one(Part::of(value));
            let text = value.to_string();
            assert_eq!(quoted.to_string(), text);
            assert!(
                quoted == *text && [QuotedValue::from(text.clone())] == [quoted.clone()],
                "{text}"
            );
            assert!(
                quoted != text[..text.len() - 1] && quoted != format!("{text} "),
                "{text}"
            );
        }
        let pair = QuotedValue::tuple(vec![
            Part::Ref {
                table: "users",
                key: RawKey::new(1, 1),
            },
            Part::of(Value::Int(2)),
        ]);
        assert_eq!(pair, QuotedValue::from("(users[1v1], 2)"));
        assert_eq!(format!("{pair:?}"), "\"(users[1v1], 2)\"");
        // Padding and precision apply to the whole text, as they did to the `String`.
        assert_eq!(
            format!("{pair:>18}|{pair:.6}|{pair:-<17}"),
            "   (users[1v1], 2)|(users|(users[1v1], 2)--"
        );
        let one = QuotedValue::one(Part::of(Value::Float(-0.5)));
        assert_eq!(format!("{one:.2}|{one:>5}"), "-0| -0.5");
    }

    #[test]
    fn a_refused_text_held_whole_clones_as_its_quoted_prefix() {
        let long = "é".repeat(100_000);
        let whole = Part::Whole(long.clone());
        let copy = whole.clone();
        let Part::Text { head, len } = &copy else {
            panic!("a clone of a whole text should keep only its quoted prefix")
        };
        assert!(head.len() <= 64 && *len == long.len());
        assert_eq!(copy.to_string(), whole.to_string());
        assert!(whole.to_string().ends_with("...' (200000 bytes)"));
    }
}

#[cfg(test)]
mod size {
    use super::Error;
    use crate::key::Key;

    /// Every `Result` of the store carries an `Error`'s size: a variant that grows it (an
    /// inline field where a `Box` would do) costs every call that returns one (insert paid 19
    /// instructions once: docs/PERFORMANCE.md, "An inline field in one variant grows every
    /// `Result`"). A change of these numbers is a decision, measured, not an accident.
    #[test]
    fn an_error_and_a_keys_result_stay_their_size() {
        assert_eq!(std::mem::size_of::<Error>(), 104);
        assert_eq!(std::mem::size_of::<Result<Key<()>, Error>>(), 104);
    }
}
