//! Engine profiles: where SQLite and PostgreSQL behave differently, a store imitates the one
//! its [`Engine`] names (docs/ENGINES.md lists every difference and the test pinning it), and
//! errors can be read in either engine's wording, with PostgreSQL's SQLSTATE as a typed code.

use crate::error::Error;

/// The database a [`Store`](crate::Store) imitates where SQLite and PostgreSQL differ; chosen
/// per store with [`Store::with_engine`](crate::Store::with_engine). The default is
/// [`Engine::Sqlite`] (what [`Store::new`](crate::Store::new) gives).
///
/// ```
/// use relata::{Engine, Entity, Schema, Store};
/// #[derive(Entity, Clone, Debug, PartialEq)]
/// struct User { #[relata(unique)] name: String }
/// let schema = Schema::builder().entity::<User>().build()?;
/// assert_eq!(Store::new(schema.clone()).engine(), Engine::Sqlite);
/// assert_eq!(Store::with_engine(schema, Engine::Postgres).engine(), Engine::Postgres);
/// # Ok::<(), relata::SchemaError>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Engine {
    /// SQLite with `PRAGMA foreign_keys = ON`: of several violated unique constraints the
    /// last declared is reported; UNIQUE is checked per statement even when declared
    /// deferrable; NO ACTION is checked at the end of the statement; a cascade may be at most
    /// 1000 levels deep.
    #[default]
    Sqlite,
    /// PostgreSQL: the first declared unique constraint is reported; deferrable uniques wait
    /// for commit; NO ACTION refuses a child present when its parent goes, even one the same
    /// delete's cascade removes later; cascades have no depth limit.
    Postgres,
}

/// The PostgreSQL SQLSTATE of a constraint violation (class 23; 22001 for a `VARCHAR`
/// overflow, 22021, 22P05 and 22003 for a value its types cannot hold, 2200H when no id is
/// left, 25P02 in an aborted transaction): what code that maps database errors matches on (sqlx's `code()`, diesel's
/// `DatabaseErrorKind`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SqlState {
    /// `23505` unique_violation.
    UniqueViolation,
    /// `23503` foreign_key_violation.
    ForeignKeyViolation,
    /// `23514` check_violation.
    CheckViolation,
    /// `23502` not_null_violation.
    NotNullViolation,
    /// `22001` string_data_right_truncation: text longer than its `VARCHAR(N)`.
    StringDataRightTruncation,
    /// `22021` character_not_in_repertoire: a NUL byte in text ([`Error::NulInText`]).
    CharacterNotInRepertoire,
    /// `22P05` untranslatable_character: the escape `\u0000` in a `JSONB` value
    /// ([`Error::NulInJson`]).
    UntranslatableCharacter,
    /// `22003` numeric_value_out_of_range: a `u64` above `BIGINT`'s range
    /// ([`Error::OutOfRange`]).
    NumericValueOutOfRange,
    /// `2200H` sequence_generator_limit_exceeded: no `#[relata(id)]` left
    /// ([`Error::IdsExhausted`]).
    SequenceGeneratorLimitExceeded,
    /// `25P02` in_failed_sql_transaction: a statement in a transaction an earlier failure
    /// aborted ([`Error::TransactionAborted`]).
    InFailedSqlTransaction,
}

impl SqlState {
    /// The five-character code, e.g. `"23505"`. O(1).
    ///
    /// ```
    /// assert_eq!(relata::SqlState::UniqueViolation.code(), "23505");
    /// ```
    pub fn code(self) -> &'static str {
        match self {
            SqlState::UniqueViolation => "23505",
            SqlState::ForeignKeyViolation => "23503",
            SqlState::CheckViolation => "23514",
            SqlState::NotNullViolation => "23502",
            SqlState::StringDataRightTruncation => "22001",
            SqlState::CharacterNotInRepertoire => "22021",
            SqlState::UntranslatableCharacter => "22P05",
            SqlState::NumericValueOutOfRange => "22003",
            SqlState::SequenceGeneratorLimitExceeded => "2200H",
            SqlState::InFailedSqlTransaction => "25P02",
        }
    }
}

impl Error {
    /// The SQLSTATE PostgreSQL reports for this violation (`None` for an error that is not a
    /// constraint violation); for a failed commit, the first violation's; 25P02 for a
    /// statement in an aborted transaction. O(1).
    ///
    /// ```
    /// # use relata::{Entity, Schema, SqlState, Store};
    /// # #[derive(Entity, Clone, Debug, PartialEq)]
    /// # struct User { #[relata(unique)] name: String }
    /// let mut store = Store::new(Schema::builder().entity::<User>().build()?);
    /// store.insert(User { name: "ann".into() })?;
    /// let err = store.insert(User { name: "ann".into() }).unwrap_err();
    /// assert_eq!(err.sqlstate(), Some(SqlState::UniqueViolation));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn sqlstate(&self) -> Option<SqlState> {
        match self {
            Error::UniqueViolation { .. } | Error::DuplicateLink { .. } => Some(SqlState::UniqueViolation),
            Error::MissingTarget { .. } | Error::DeletedTarget { .. } | Error::Restricted { .. } => {
                Some(SqlState::ForeignKeyViolation)
            }
            Error::RequiredReference { .. } => Some(SqlState::NotNullViolation),
            Error::Cycle { .. } | Error::CheckViolation { .. } => Some(SqlState::CheckViolation),
            Error::TooLong { .. } => Some(SqlState::StringDataRightTruncation),
            Error::NulInText { .. } => Some(SqlState::CharacterNotInRepertoire),
            Error::NulInJson { .. } => Some(SqlState::UntranslatableCharacter),
            Error::OutOfRange { .. } => Some(SqlState::NumericValueOutOfRange),
            Error::IdsExhausted { .. } => Some(SqlState::SequenceGeneratorLimitExceeded),
            Error::TransactionAborted { .. } => Some(SqlState::InFailedSqlTransaction),
            Error::CommitFailed { violations } => violations.first().and_then(Error::sqlstate),
            _ => None,
        }
    }

    /// The error as `engine` words it: for [`Engine::Sqlite`] the `Display` text (SQLite's
    /// message, then relata's detail); for [`Engine::Postgres`] PostgreSQL's
    /// `ERROR: message` line and, where PostgreSQL gives one, a `DETAIL:` line naming relata's
    /// keys and values. Errors without a PostgreSQL counterpart keep their `Display` text.
    /// O(length of the text).
    ///
    /// ```
    /// # use relata::{Engine, Entity, Schema, Store};
    /// # #[derive(Entity, Clone, Debug, PartialEq)]
    /// # #[relata(table = "users")]
    /// # struct User { #[relata(unique)] name: String }
    /// let mut store = Store::with_engine(Schema::builder().entity::<User>().build()?, Engine::Postgres);
    /// store.insert(User { name: "ann".into() })?;
    /// let err = store.insert(User { name: "ann".into() }).unwrap_err();
    /// assert!(err.message(Engine::Postgres).starts_with(
    ///     r#"ERROR: duplicate key value violates unique constraint "uq_users_name""#));
    /// assert!(err.message(Engine::Sqlite).starts_with("UNIQUE constraint failed: users.name"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn message(&self, engine: Engine) -> String {
        match (engine, postgres_text(self)) {
            (Engine::Postgres, Some((message, Some(detail)))) => {
                format!("ERROR: {message}\nDETAIL: {detail}")
            }
            (Engine::Postgres, Some((message, None))) => format!("ERROR: {message}"),
            _ => self.to_string(),
        }
    }
}

/// PostgreSQL's message and detail for a constraint violation (PostgreSQL 15's wording).
fn postgres_text(e: &Error) -> Option<(String, Option<String>)> {
    Some(match e {
        Error::UniqueViolation {
            columns,
            constraint,
            value,
            ..
        } => (
            format!("duplicate key value violates unique constraint \"{constraint}\""),
            Some(format!("Key ({})=({}) already exists.", columns.join(", "), unparen(&value.to_string()))),
        ),
        Error::DuplicateLink {
            relation,
            left_column,
            right_column,
            left,
            right,
            ..
        } => (
            format!("duplicate key value violates unique constraint \"{relation}_pkey\""),
            Some(format!("Key ({left_column}, {right_column})=({left}, {right}) already exists.")),
        ),
        Error::MissingTarget {
            table,
            column,
            target,
            key,
        }
        | Error::DeletedTarget {
            table,
            column,
            target,
            key,
        } => (
            format!("insert or update on table \"{table}\" violates foreign key constraint \"fk_{table}_{column}\""),
            Some(format!("Key ({column})=({key}) is not present in table \"{target}\".")),
        ),
        Error::Restricted {
            table,
            key,
            child_table,
            column,
            ..
        } => (
            format!(
                "update or delete on table \"{table}\" violates foreign key constraint \"fk_{child_table}_{column}\" on table \"{child_table}\""
            ),
            Some(format!("Key (id)=({key}) is still referenced from table \"{child_table}\".")),
        ),
        Error::RequiredReference { table, column, .. } => (
            format!("null value in column \"{column}\" of relation \"{table}\" violates not-null constraint"),
            None,
        ),
        Error::Cycle { table, column, .. } => (
            format!("new row for relation \"{table}\" violates check constraint \"{table}_{column}_acyclic\""),
            None,
        ),
        Error::CheckViolation { table, constraint, .. } => (
            format!("new row for relation \"{table}\" violates check constraint \"{constraint}\""),
            None,
        ),
        Error::TooLong { limit, .. } => (format!("value too long for type character varying({limit})"), None),
        Error::NulInText { .. } => (r#"invalid byte sequence for encoding "UTF8": 0x00"#.to_owned(), None),
        Error::NulInJson { .. } => (
            "unsupported Unicode escape sequence".to_owned(),
            Some(r"\u0000 cannot be converted to text.".to_owned()),
        ),
        Error::OutOfRange { value, .. } => (format!("value \"{value}\" is out of range for type bigint"), None),
        Error::IdsExhausted { table, column, max } => (
            format!("nextval: reached maximum value of sequence \"{table}_{column}_seq\" ({max})"),
            None,
        ),
        Error::TransactionAborted { .. } => (
            "current transaction is aborted, commands ignored until end of transaction block".to_owned(),
            None,
        ),
        Error::CommitFailed { violations } => return violations.first().and_then(postgres_text),
        _ => return None,
    })
}

/// `(a, b)` -> `a, b`: a composite value as PostgreSQL's DETAIL lists it.
fn unparen(value: &str) -> &str {
    value
        .strip_prefix('(')
        .and_then(|v| v.strip_suffix(')'))
        .unwrap_or(value)
}
