//! The engine profiles (docs/ENGINES.md): each behaviour where SQLite and PostgreSQL differ,
//! run on relata under `Engine::Sqlite` next to SQLite, and under `Engine::Postgres` next to a
//! live PostgreSQL (`RELATA_POSTGRES_URL`; skipped locally without one, failed in CI).

use crate::common::{pg, Handle, Node, User};
use relata::{Dialect, Engine, Entity, Error, Key, Schema, SnapshotError, SqlState, Store};
use rusqlite::Connection;

fn users() -> Schema {
    Schema::builder().entity::<User>().build().unwrap()
}

fn sqlite(schema: &Schema) -> Connection {
    let db = Connection::open_in_memory().unwrap();
    db.execute_batch("PRAGMA foreign_keys = ON;").unwrap();
    db.execute_batch(&schema.to_sql(Dialect::Sqlite)).unwrap();
    db
}

fn postgres(test: &str, schema: &Schema) -> Option<pg::Pg> {
    let mut pg = pg::connect(test)?;
    pg.client
        .batch_execute(&schema.to_sql(Dialect::Postgres))
        .unwrap();
    Some(pg)
}

/// PostgreSQL's error for `sql`: its SQLSTATE and its `ERROR: message` line.
fn pg_error(pg: &mut pg::Pg, sql: &str) -> (String, String, Option<String>) {
    let e = pg.client.batch_execute(sql).expect_err(sql);
    let db = e
        .as_db_error()
        .unwrap_or_else(|| panic!("not a database error: {e}"));
    (
        db.code().code().to_string(),
        format!("{}: {}", db.severity(), db.message()),
        db.constraint().map(str::to_string),
    )
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or_default()
}

fn user(name: &str, email: &str) -> User {
    User {
        username: name.into(),
        email: email.into(),
    }
}

// ----- which of several violated unique constraints is reported -----

/// `users` declares `username` then `email`; a row repeating both violates both.
fn double_violation(engine: Engine) -> Error {
    let mut s = Store::with_engine(users(), engine);
    s.insert(user("ann", "a@x")).unwrap();
    s.insert(user("ann", "a@x")).unwrap_err()
}

#[test]
fn sqlite_profile_reports_the_last_declared_unique_as_sqlite_does() {
    let err = double_violation(Engine::Sqlite);
    assert!(
        matches!(
            err,
            Error::UniqueViolation {
                constraint: "uq_users_email",
                ..
            }
        ),
        "{err}"
    );
    let db = sqlite(&users());
    db.execute_batch("INSERT INTO users (username, email) VALUES ('ann', 'a@x')")
        .unwrap();
    let theirs = db
        .execute_batch("INSERT INTO users (username, email) VALUES ('ann', 'a@x')")
        .unwrap_err()
        .to_string();
    assert_eq!(theirs, "UNIQUE constraint failed: users.email");
    assert!(err.to_string().starts_with(&theirs), "{err}");
}

#[test]
fn postgres_profile_reports_the_first_declared_unique_as_postgres_does() {
    let err = double_violation(Engine::Postgres);
    assert!(
        matches!(
            err,
            Error::UniqueViolation {
                constraint: "uq_users_username",
                ..
            }
        ),
        "{err}"
    );
    let Some(mut pg) = postgres(
        "postgres_profile_reports_the_first_declared_unique_as_postgres_does",
        &users(),
    ) else {
        return;
    };
    pg.client
        .batch_execute("INSERT INTO users (id, username, email) VALUES (1, 'ann', 'a@x')")
        .unwrap();
    let (_, _, constraint) = pg_error(
        &mut pg,
        "INSERT INTO users (id, username, email) VALUES (2, 'ann', 'a@x')",
    );
    assert_eq!(constraint.as_deref(), Some("uq_users_username"));
}

/// A `nocase` unique declared before a plain one: PostgreSQL checks the plain UNIQUE first,
/// because relata's DDL makes the `nocase` one a `lower(col)` index created after the table
/// (and PostgreSQL checks a table's unique indexes in creation order). SQLite, whose
/// `COLLATE NOCASE` constraint is inline, still reports the last declared.
#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "logins")]
struct Login {
    #[relata(unique(nocase))]
    email: String,
    #[relata(unique)]
    handle: String,
}

fn logins() -> Schema {
    Schema::builder().entity::<Login>().build().unwrap()
}

fn login_violation(engine: Engine) -> Error {
    let mut s = Store::with_engine(logins(), engine);
    let login = |email: &str| Login {
        email: email.into(),
        handle: "ann".into(),
    };
    s.insert(login("a@x")).unwrap();
    s.insert(login("A@x")).unwrap_err()
}

#[test]
fn postgres_profile_reports_a_plain_unique_before_a_nocase_one_as_postgres_does() {
    let err = login_violation(Engine::Postgres);
    assert!(
        matches!(
            err,
            Error::UniqueViolation {
                constraint: "uq_logins_handle",
                ..
            }
        ),
        "{err}"
    );
    let mine = login_violation(Engine::Sqlite);
    assert!(
        matches!(
            mine,
            Error::UniqueViolation {
                constraint: "uq_logins_handle",
                ..
            }
        ),
        "{mine}"
    );
    let db = sqlite(&logins());
    db.execute_batch("INSERT INTO logins (email, handle) VALUES ('a@x', 'ann')")
        .unwrap();
    let theirs = db
        .execute_batch("INSERT INTO logins (email, handle) VALUES ('A@x', 'ann')")
        .unwrap_err()
        .to_string();
    assert_eq!(theirs, "UNIQUE constraint failed: logins.handle");
    let Some(mut pg) = postgres(
        "postgres_profile_reports_a_plain_unique_before_a_nocase_one_as_postgres_does",
        &logins(),
    ) else {
        return;
    };
    pg.client
        .batch_execute("INSERT INTO logins (id, email, handle) VALUES (1, 'a@x', 'ann')")
        .unwrap();
    let (_, _, constraint) = pg_error(
        &mut pg,
        "INSERT INTO logins (id, email, handle) VALUES (2, 'A@x', 'ann')",
    );
    assert_eq!(constraint.as_deref(), Some("uq_logins_handle"));
}

// ----- error text and SQLSTATE -----

#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "authors")]
struct Author {
    #[relata(unique)]
    name: String,
}

#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "books")]
struct Book {
    title: String,
    #[relata(back = "books")]
    author: Key<Author>,
}

fn library() -> Schema {
    Schema::builder()
        .entity::<Author>()
        .entity::<Book>()
        .build()
        .unwrap()
}

/// One violation of each kind, on relata: unique, missing parent, restricted delete, NULL in a
/// required key.
fn violations(engine: Engine) -> Vec<Error> {
    let mut s = Store::with_engine(library(), engine);
    let ann = s.insert(Author { name: "ann".into() }).unwrap();
    let book = s
        .insert(Book {
            title: "t".into(),
            author: ann,
        })
        .unwrap();
    let gone = s.insert(Author { name: "gone".into() }).unwrap();
    s.delete(gone).unwrap();
    vec![
        s.insert(Author { name: "ann".into() }).unwrap_err(),
        s.insert(Book {
            title: "u".into(),
            author: gone,
        })
        .unwrap_err(),
        s.delete(ann).unwrap_err(),
        s.remove_child(Book::AUTHOR, book, ann).unwrap_err(),
    ]
}

/// The same four violations in SQL (author 1 'ann' with book 1; no author 2).
const SETUP: &str = "INSERT INTO authors (id, name) VALUES (1, 'ann');
    INSERT INTO books (id, title, author_id) VALUES (1, 't', 1);";
const VIOLATIONS: [&str; 4] = [
    "INSERT INTO authors (id, name) VALUES (3, 'ann')",
    "INSERT INTO books (id, title, author_id) VALUES (2, 'u', 2)",
    "DELETE FROM authors WHERE id = 1",
    "UPDATE books SET author_id = NULL WHERE id = 1",
];

#[test]
fn sqlite_profile_words_errors_as_sqlite_does() {
    let db = sqlite(&library());
    db.execute_batch(SETUP).unwrap();
    for (mine, sql) in violations(Engine::Sqlite).iter().zip(VIOLATIONS) {
        let theirs = db.execute_batch(sql).unwrap_err().to_string();
        assert!(
            mine.message(Engine::Sqlite).starts_with(&theirs),
            "{sql}: relata {mine}, SQLite {theirs}"
        );
    }
}

#[test]
fn postgres_profile_words_errors_and_sqlstates_as_postgres_does() {
    let mine = violations(Engine::Postgres);
    let codes: Vec<_> = mine.iter().map(|e| e.sqlstate().map(SqlState::code)).collect();
    assert_eq!(
        codes,
        [Some("23505"), Some("23503"), Some("23503"), Some("23502")]
    );
    let Some(mut pg) = postgres(
        "postgres_profile_words_errors_and_sqlstates_as_postgres_does",
        &library(),
    ) else {
        return;
    };
    pg.client.batch_execute(SETUP).unwrap();
    for (mine, sql) in mine.iter().zip(VIOLATIONS) {
        let (code, message, _) = pg_error(&mut pg, sql);
        let text = mine.message(Engine::Postgres);
        assert_eq!(first_line(&text), message, "{sql}");
        assert_eq!(mine.sqlstate().map(SqlState::code), Some(code.as_str()), "{sql}");
    }
}

// ----- deferrable unique constraints -----

/// Two handles swap names inside a transaction.
fn swap(engine: Engine) -> Result<(), Error> {
    let mut s = Store::with_engine(Schema::builder().entity::<Handle>().build().unwrap(), engine);
    let a = s.insert(Handle { name: "a".into() }).unwrap();
    let b = s.insert(Handle { name: "b".into() }).unwrap();
    s.begin()?;
    let swapped = s
        .update(a, |h| h.name = "b".into())
        .and_then(|()| s.update(b, |h| h.name = "a".into()));
    match swapped {
        Ok(()) => s.commit(),
        Err(e) => {
            s.rollback()?;
            Err(e)
        }
    }
}

const SWAP: &str = "INSERT INTO handles (id, name) VALUES (1, 'a'), (2, 'b');
    BEGIN;
    UPDATE handles SET name = 'b' WHERE id = 1;
    UPDATE handles SET name = 'a' WHERE id = 2;
    COMMIT;";

#[test]
fn sqlite_profile_checks_a_deferrable_unique_at_once_as_sqlite_does() {
    let err = swap(Engine::Sqlite).unwrap_err();
    assert!(matches!(err, Error::UniqueViolation { .. }), "{err}");
    let db = sqlite(&Schema::builder().entity::<Handle>().build().unwrap());
    let theirs = db.execute_batch(SWAP).unwrap_err().to_string();
    assert!(
        err.to_string().starts_with(&theirs),
        "relata {err}, SQLite {theirs}"
    );
}

#[test]
fn postgres_profile_defers_a_deferrable_unique_to_commit_as_postgres_does() {
    swap(Engine::Postgres).unwrap();
    let schema = Schema::builder().entity::<Handle>().build().unwrap();
    if let Some(mut pg) = postgres(
        "postgres_profile_defers_a_deferrable_unique_to_commit_as_postgres_does",
        &schema,
    ) {
        pg.client.batch_execute(SWAP).unwrap();
    }
}

/// A case-insensitive unique declared deferrable. relata's PostgreSQL DDL makes it a unique
/// index on `lower(address)`, and an index cannot be DEFERRABLE (only a constraint can), so
/// PostgreSQL checks it per statement: the swap's first update is refused. relata under its
/// profile refuses it too; it used to defer the check to the commit and accept the swap, a
/// green test over code that fails in production.
#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "mailboxes")]
struct Mailbox {
    #[relata(unique(nocase, deferrable))]
    address: String,
}

#[test]
fn postgres_profile_checks_a_deferrable_nocase_unique_per_statement_as_postgres_does() {
    let schema = Schema::builder().entity::<Mailbox>().build().unwrap();
    for engine in [Engine::Sqlite, Engine::Postgres] {
        let mut s = Store::with_engine(schema.clone(), engine);
        let mailbox = |address: &str| Mailbox {
            address: address.into(),
        };
        let a = s.insert(mailbox("a@x")).unwrap();
        let b = s.insert(mailbox("b@x")).unwrap();
        s.begin().unwrap();
        let err = s.update(a, |m| m.address = "B@x".into()).unwrap_err();
        assert!(
            matches!(
                err,
                Error::UniqueViolation {
                    constraint: "uq_mailboxes_address",
                    existing,
                    ..
                } if existing == b.raw()
            ),
            "{engine:?}: {err}"
        );
        assert_eq!(err.sqlstate().map(SqlState::code), Some("23505"));
        s.rollback().unwrap();
        s.check_integrity().unwrap();
    }
    let sql = schema.to_sql(Dialect::Postgres);
    assert!(
        sql.contains("-- uq_mailboxes_address: DEFERRABLE (a unique index on lower() cannot be deferred"),
        "{sql}"
    );
    let Some(mut pg) = postgres(
        "postgres_profile_checks_a_deferrable_nocase_unique_per_statement_as_postgres_does",
        &schema,
    ) else {
        return;
    };
    (pg.client)
        .batch_execute("INSERT INTO mailboxes (id, address) VALUES (1, 'a@x'), (2, 'b@x')")
        .unwrap();
    let (code, _, constraint) = pg_error(
        &mut pg,
        "BEGIN;
         UPDATE mailboxes SET address = 'B@x' WHERE id = 1;
         UPDATE mailboxes SET address = 'A@x' WHERE id = 2;
         COMMIT;",
    );
    pg.client.batch_execute("ROLLBACK").unwrap();
    assert_eq!(
        (code.as_str(), constraint.as_deref()),
        ("23505", Some("uq_mailboxes_address"))
    );
}

// ----- cascade depth -----

/// A chain of `n` nodes, each the parent of the next (ON DELETE CASCADE); deletes the root.
fn delete_chain(engine: Engine, n: usize) -> Result<usize, Error> {
    let mut s = Store::with_engine(Schema::builder().entity::<Node>().build().unwrap(), engine);
    let root = s
        .insert(Node {
            name: "0".into(),
            parent: None,
        })
        .unwrap();
    let mut last = root;
    for i in 1..n {
        last = s
            .insert(Node {
                name: i.to_string(),
                parent: Some(last),
            })
            .unwrap();
    }
    let deleted = s.delete(root).map(|r| r.deleted.len());
    s.check_integrity().unwrap();
    deleted
}

fn chain_sql(n: usize) -> String {
    let rows: Vec<String> = (1..=n)
        .map(|i| {
            if i == 1 {
                "(1, '1', NULL)".to_string()
            } else {
                format!("({i}, '{i}', {})", i - 1)
            }
        })
        .collect();
    format!(
        "INSERT INTO nodes (id, name, parent_id) VALUES {};",
        rows.join(", ")
    )
}

#[test]
fn sqlite_profile_refuses_a_cascade_deeper_than_1000_levels_as_sqlite_does() {
    assert_eq!(delete_chain(Engine::Sqlite, 1000).unwrap(), 1000);
    let err = delete_chain(Engine::Sqlite, 1001).unwrap_err();
    assert!(matches!(err, Error::CascadeTooDeep { .. }), "{err}");
    let schema = Schema::builder().entity::<Node>().build().unwrap();
    for (n, ok) in [(1000, true), (1001, false)] {
        let db = sqlite(&schema);
        db.execute_batch(&chain_sql(n)).unwrap();
        let theirs = db.execute("DELETE FROM nodes WHERE id = 1", []);
        assert_eq!(theirs.is_ok(), ok, "{n}: {theirs:?}");
    }
}

/// A record no key points into (a leaf) below a chain of nodes, deleted with its node.
#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "leaves")]
struct Leaf {
    #[relata(back = "leaves", on_delete = "cascade")]
    node: Key<Node>,
}

/// The 1000-level limit counts a leaf too: a chain of `n` nodes with a leaf under the last,
/// the leaf `n` levels below the root.
#[test]
fn sqlite_profile_counts_a_leaf_below_a_chain_in_the_cascade_depth() {
    let leaf_below = |n: usize| {
        let schema = Schema::builder()
            .entity::<Node>()
            .entity::<Leaf>()
            .build()
            .unwrap();
        let mut s = Store::with_engine(schema, Engine::Sqlite);
        let root = s
            .insert(Node {
                name: "0".into(),
                parent: None,
            })
            .unwrap();
        let mut last = root;
        for i in 1..n {
            last = s
                .insert(Node {
                    name: i.to_string(),
                    parent: Some(last),
                })
                .unwrap();
        }
        s.insert(Leaf { node: last }).unwrap();
        let deleted = s.delete(root).map(|r| r.deleted.len());
        s.check_integrity().unwrap();
        deleted
    };
    assert_eq!(leaf_below(999).unwrap(), 1000);
    let err = leaf_below(1000).unwrap_err();
    assert!(matches!(err, Error::CascadeTooDeep { .. }), "{err}");
}

#[test]
fn postgres_profile_cascades_without_a_depth_limit_as_postgres_does() {
    assert_eq!(delete_chain(Engine::Postgres, 1500).unwrap(), 1500);
    let schema = Schema::builder().entity::<Node>().build().unwrap();
    if let Some(mut pg) = postgres(
        "postgres_profile_cascades_without_a_depth_limit_as_postgres_does",
        &schema,
    ) {
        pg.client.batch_execute(&chain_sql(1500)).unwrap();
        assert_eq!(
            pg.client.execute("DELETE FROM nodes WHERE id = 1", &[]).unwrap(),
            1
        );
        let left: i64 = pg
            .client
            .query_one("SELECT count(*) FROM nodes", &[])
            .unwrap()
            .get(0);
        assert_eq!(left, 0);
    }
}

// ----- NO ACTION inside a cascade -----

#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "accounts")]
struct Account {
    name: String,
}

#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "threads")]
struct Thread {
    #[relata(back = "threads", on_delete = "cascade")]
    account: Key<Account>,
}

/// Deleted with its thread; its author (NO ACTION, the default) may not go while it exists.
#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "reactions")]
struct Reaction {
    #[relata(back = "reactions", on_delete = "cascade")]
    thread: Key<Thread>,
    #[relata(back = "reacted")]
    author: Key<Account>,
}

fn forum() -> Schema {
    Schema::builder()
        .entity::<Account>()
        .entity::<Thread>()
        .entity::<Reaction>()
        .build()
        .unwrap()
}

/// An account reacted in its own thread, then is deleted: the cascade removes the thread
/// and the reaction.
fn delete_own_reactor(engine: Engine) -> Result<usize, Error> {
    let mut s = Store::with_engine(forum(), engine);
    let a = s.insert(Account { name: "a".into() }).unwrap();
    let t = s.insert(Thread { account: a }).unwrap();
    s.insert(Reaction { thread: t, author: a }).unwrap();
    s.delete(a).map(|r| r.deleted.len())
}

const OWN_REACTOR: &str = "INSERT INTO accounts VALUES (1, 'a');
    INSERT INTO threads VALUES (1, 1);
    INSERT INTO reactions VALUES (1, 1, 1);";

#[test]
fn sqlite_profile_checks_no_action_after_the_cascade_as_sqlite_does() {
    assert_eq!(delete_own_reactor(Engine::Sqlite).unwrap(), 3);
    let db = sqlite(&forum());
    db.execute_batch(OWN_REACTOR).unwrap();
    assert_eq!(db.execute("DELETE FROM accounts WHERE id = 1", []).unwrap(), 1);
}

#[test]
fn postgres_profile_checks_no_action_before_the_cascade_as_postgres_does() {
    let err = delete_own_reactor(Engine::Postgres).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Restricted {
                child_table: "reactions",
                ..
            }
        ),
        "{err}"
    );
    if let Some(mut pg) = postgres(
        "postgres_profile_checks_no_action_before_the_cascade_as_postgres_does",
        &forum(),
    ) {
        pg.client.batch_execute(OWN_REACTOR).unwrap();
        let (code, message, _) = pg_error(&mut pg, "DELETE FROM accounts WHERE id = 1");
        assert_eq!(code, "23503");
        assert_eq!(first_line(&err.message(Engine::Postgres)), message);
    }
}

// ----- which of several failed checks is reported -----

fn a_not_negative(r: &Reading) -> bool {
    r.a >= 0
}

fn b_not_negative(r: &Reading) -> bool {
    r.b >= 0
}

/// Two CHECKs, declared `z_first` then `a_second`, and a `max_len` on `label`.
#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(
    table = "readings",
    check(a_not_negative, name = "z_first", sql = "a >= 0"),
    check(b_not_negative, name = "a_second", sql = "b >= 0")
)]
struct Reading {
    #[relata(max_len = 3)]
    label: String,
    a: i64,
    b: i64,
}

fn readings() -> Schema {
    Schema::builder().entity::<Reading>().build().unwrap()
}

fn reading(label: &str, a: i64, b: i64) -> Reading {
    Reading {
        label: label.into(),
        a,
        b,
    }
}

/// The constraint a refused write names, or the error's variant.
fn refused_by(e: &Error) -> &'static str {
    match e {
        Error::CheckViolation { constraint, .. } => constraint,
        Error::TooLong { .. } => "max_len",
        other => panic!("unexpected {other:?}"),
    }
}

/// A value too long for its column and failing a CHECK is refused for its length by both
/// engines: PostgreSQL coerces it to `VARCHAR(n)` before any CHECK, SQLite checks the column's
/// length CHECK, written with the column, before the table's. Of two failing CHECKs SQLite
/// reports the first declared, PostgreSQL the one whose name sorts first.
#[test]
fn both_profiles_report_a_length_before_a_check_and_postgres_its_checks_in_name_order() {
    let cases = [
        (reading("long", -1, -1), "max_len", "max_len"),
        (reading("ok", -1, -1), "z_first", "a_second"),
        (reading("ok", -1, 0), "z_first", "z_first"),
        (reading("ok", 0, -1), "a_second", "a_second"),
    ];
    for engine in [Engine::Sqlite, Engine::Postgres] {
        let mut s = Store::with_engine(readings(), engine);
        let k = s.insert(reading("ok", 0, 0)).unwrap();
        let before = s.clone();
        for (value, lite, postgres) in &cases {
            let want = [*lite, *postgres][usize::from(engine == Engine::Postgres)];
            let on_insert = s.insert(value.clone()).unwrap_err();
            let on_update = s.update(k, |r| *r = value.clone()).unwrap_err();
            assert_eq!(refused_by(&on_insert), want, "{engine:?} insert {value:?}");
            assert_eq!(refused_by(&on_update), want, "{engine:?} update {value:?}");
        }
        assert!(s == before);
        s.check_integrity().unwrap();
    }

    let db = sqlite(&readings());
    for (value, lite, _) in &cases {
        let e = db
            .execute(
                "INSERT INTO readings (id, label, a, b) VALUES (1, ?1, ?2, ?3)",
                rusqlite::params![value.label, value.a, value.b],
            )
            .unwrap_err()
            .to_string();
        assert!(e.contains(lite), "SQLite for {value:?}: {e}");
    }
    let Some(mut pg) = postgres(
        "both_profiles_report_a_length_before_a_check_and_postgres_its_checks_in_name_order",
        &readings(),
    ) else {
        return;
    };
    for (value, _, theirs) in &cases {
        let e = (pg.client)
            .execute(
                "INSERT INTO readings (id, label, a, b) VALUES (1, $1, $2, $3)",
                &[&value.label, &value.a, &value.b],
            )
            .unwrap_err();
        let db = e.as_db_error().unwrap();
        let named = match db.code().code() {
            "22001" => "max_len",
            "23514" => db.constraint().unwrap(),
            other => panic!("PostgreSQL for {value:?}: {other} {}", db.message()),
        };
        assert_eq!(named, *theirs, "PostgreSQL for {value:?}");
    }
}

/// `Reading` without its CHECKs and `max_len`: what a snapshot taken before they were
/// declared holds (a snapshot's description records neither, so it loads under `Reading`).
mod unchecked {
    #[derive(relata::Entity, Clone, Debug, PartialEq)]
    #[relata(table = "readings")]
    pub struct Reading {
        pub label: String,
        pub a: i64,
        pub b: i64,
    }
}

/// A load refuses a record in the order an insert under the snapshot's profile does: what
/// PostgreSQL cannot bind (a NUL byte) first, then the length, then the CHECK whose name sorts
/// first (SQLite: the length, then the first CHECK declared; a NUL byte it keeps).
#[test]
fn a_snapshot_load_refuses_a_record_in_its_engines_order() {
    let cases = [
        (("long", -1, -1), "max_len", "max_len"),
        (("ok", -1, -1), "z_first", "a_second"),
        (("ok", -1, 0), "z_first", "z_first"),
        (("a\0", -1, -1), "z_first", "NulInText"),
        (("long\0", -1, -1), "max_len", "NulInText"),
    ];
    for engine in [Engine::Sqlite, Engine::Postgres] {
        for ((label, a, b), lite, postgres) in cases {
            let mut old = Store::new(Schema::builder().entity::<unchecked::Reading>().build().unwrap());
            old.insert(unchecked::Reading {
                label: "ok".into(),
                a: 0,
                b: 0,
            })
            .unwrap();
            let k = old
                .insert(unchecked::Reading {
                    label: label.into(),
                    a,
                    b,
                })
                .unwrap();
            let mut bytes = old.to_snapshot().unwrap();
            if engine == Engine::Postgres {
                bytes.push(1); // the engine byte a PostgreSQL profile's snapshot ends with
                relata::__private::reseal(&mut bytes);
            }
            let refused = match Store::from_snapshot(readings(), &bytes) {
                Err(SnapshotError::Rejected { table, key, error }) => {
                    assert_eq!((table, key), ("readings", k.raw()));
                    match *error {
                        Error::NulInText { .. } => "NulInText",
                        ref e => refused_by(e),
                    }
                }
                other => panic!("{engine:?} {label:?}: expected a rejected record, got {other:?}"),
            };
            let want = [lite, postgres][usize::from(engine == Engine::Postgres)];
            assert_eq!(refused, want, "{engine:?} load of {label:?} {a} {b}");
        }
    }
}
