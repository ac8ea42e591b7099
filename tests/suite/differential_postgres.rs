//! The differential test across engines: the same random operation sequences on relata under
//! `Engine::Sqlite` next to SQLite `:memory:` (foreign keys on), and on relata under
//! `Engine::Postgres` next to PostgreSQL (`RELATA_POSTGRES_URL`; skipped locally without one,
//! run in CI), each database built from relata's own DDL export. After every operation each
//! pair's outcomes must agree (success, a UNIQUE failure on the same columns, or a FOREIGN KEY
//! failure) and so must the whole contents of every table. (`differential.rs` adds sorted reads
//! and upserts against SQLite alone.)
//!
//! Deliberate divergences (`docs/SEMANTICS.md` Part D), accepted here and asserted elsewhere:
//! - writing or deleting a row that does not exist: relata returns `NotFound` / `Stale`, SQL
//!   changes 0 rows; both leave the data as it was.
//!
//! Engine differences show up here as each profile matching its own engine: of two violated
//! unique constraints SQLite reports the last declared and PostgreSQL the first
//! (docs/ENGINES.md).
//!
//! Users hold the field types services store: a case-insensitive unique `VARCHAR(5)` email
//! (SQLite: `COLLATE NOCASE` and relata's `CHECK (length(email) <= 5)`; PostgreSQL: a unique
//! index on `lower(email)` and the `VARCHAR`), a text enum, and a timestamp (SQLite: integer
//! microseconds; PostgreSQL: `TIMESTAMPTZ`).
//!
//! `RELATA_PROPTEST_CASES` raises the case count (CI: 300); `-- --nocapture` prints how many
//! operations each pair ran.

use chrono::{DateTime, Utc};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use relata::{Column, Dialect, Engine, Entity, Error, Key, RawKey, Schema, Store};
use rusqlite::Connection;

use crate::common::pg;

#[derive(Column, Clone, Copy, Debug, PartialEq)]
#[relata(rename_all = "snake_case")]
enum Status {
    Active,
    OnHold,
}

#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "users")]
struct User {
    #[relata(unique)]
    username: String,
    #[relata(unique(nocase), max_len = 5)]
    email: String,
    status: Status,
    joined: DateTime<Utc>,
}

/// Emails: two equal ignoring case, and one longer than its `VARCHAR(5)`.
const EMAILS: [&str; 4] = ["ann@x", "ANN@x", "o'k@x", "o'kay@x"];
/// `joined` in microseconds: before 1970, the epoch, two with microseconds.
const JOINED: [i64; 4] = [-1, 0, 1_704_067_200_000_007, 1_700_000_000_123_456];

/// The user `AddUser { name, email }` inserts: its status and join time follow from the two.
fn user(name: u8, email: u8) -> User {
    User {
        username: NAMES[name as usize].into(),
        email: EMAILS[email as usize].into(),
        status: if email % 2 == 0 {
            Status::Active
        } else {
            Status::OnHold
        },
        joined: DateTime::from_timestamp_micros(JOINED[name as usize]).unwrap(),
    }
}

fn status_name(s: Status) -> &'static str {
    match s {
        Status::Active => "active",
        Status::OnHold => "on_hold",
    }
}

#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "posts", unique(author, title))]
struct Post {
    title: String,
    #[relata(back = "posts", on_delete = "cascade")]
    author: Key<User>,
}

#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "comments")]
struct Comment {
    body: String,
    #[relata(back = "comments")]
    post: Key<Post>,
}

fn schema() -> Schema {
    Schema::builder()
        .entity::<User>()
        .entity::<Post>()
        .entity::<Comment>()
        .build()
        .unwrap()
}

/// One operation; record references are indices into the records handed out so far (deleted
/// ones included, so stale keys are exercised).
#[derive(Clone, Debug)]
enum Op {
    AddUser { name: u8, email: u8 },
    AddPost { author: u8, title: u8 },
    AddComment { post: u8 },
    Rename { user: u8, name: u8 },
    MovePost { post: u8, author: u8 },
    DeleteUser { user: u8 },
    DeletePost { post: u8 },
    DeleteComment { comment: u8 },
}

fn op() -> impl Strategy<Value = Op> {
    let small = || 0u8..4;
    let any_ref = || 0u8..12;
    prop_oneof![
        3 => (small(), small()).prop_map(|(name, email)| Op::AddUser { name, email }),
        3 => (any_ref(), small()).prop_map(|(author, title)| Op::AddPost { author, title }),
        2 => any_ref().prop_map(|post| Op::AddComment { post }),
        1 => (any_ref(), small()).prop_map(|(user, name)| Op::Rename { user, name }),
        2 => (any_ref(), any_ref()).prop_map(|(post, author)| Op::MovePost { post, author }),
        1 => any_ref().prop_map(|user| Op::DeleteUser { user }),
        1 => any_ref().prop_map(|post| Op::DeletePost { post }),
        1 => any_ref().prop_map(|comment| Op::DeleteComment { comment }),
    ]
}

/// What an operation did, in terms every system shares.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Outcome {
    Ok,
    /// A unique constraint failed, named by its columns: `users.username`.
    Unique(String),
    ForeignKey,
    /// Text longer than its `VARCHAR(N)` (SQLite: the `CHECK` relata's DDL adds).
    TooLong,
    /// The addressed row does not exist (relata: an error; SQL: 0 rows changed).
    NoRow,
}

fn relata_outcome<T>(r: Result<T, Error>) -> Outcome {
    match r {
        Ok(_) => Outcome::Ok,
        Err(Error::UniqueViolation { table, columns, .. }) => Outcome::Unique(
            columns
                .iter()
                .map(|c| format!("{table}.{c}"))
                .collect::<Vec<_>>()
                .join(", "),
        ),
        Err(Error::MissingTarget { .. } | Error::DeletedTarget { .. } | Error::Restricted { .. }) => {
            Outcome::ForeignKey
        }
        Err(Error::NotFound { .. } | Error::Stale { .. }) => Outcome::NoRow,
        Err(Error::TooLong { .. }) => Outcome::TooLong,
        Err(other) => panic!("relata returned an error outside the differential vocabulary: {other}"),
    }
}

/// A statement argument.
#[derive(Clone, Debug)]
enum Arg {
    Int(i64),
    Text(String),
}

/// A real database: runs one statement, lists rows as text, and empties its tables.
trait Db {
    fn name(&self) -> &'static str;
    /// The profile relata runs under next to this database.
    fn engine(&self) -> Engine;
    fn run(&mut self, sql: &str, args: &[Arg]) -> Outcome;
    fn query(&mut self, sql: &str) -> Vec<String>;
    /// The SQL of a `joined` value from a parameter holding microseconds since 1970.
    fn timestamp(&self, param: &str) -> String;
    /// The SQL reading `joined` back as microseconds.
    fn micros(&self) -> &'static str;
    fn reset(&mut self);
}

struct Sqlite(Connection);

impl Db for Sqlite {
    fn name(&self) -> &'static str {
        "SQLite"
    }

    fn engine(&self) -> Engine {
        Engine::Sqlite
    }

    fn reset(&mut self) {
        self.0
            .execute_batch("DELETE FROM comments; DELETE FROM posts; DELETE FROM users;")
            .unwrap();
    }

    fn run(&mut self, sql: &str, args: &[Arg]) -> Outcome {
        let values: Vec<rusqlite::types::Value> = args
            .iter()
            .map(|a| match a {
                Arg::Int(i) => rusqlite::types::Value::Integer(*i),
                Arg::Text(t) => rusqlite::types::Value::Text(t.clone()),
            })
            .collect();
        match self.0.execute(sql, rusqlite::params_from_iter(values)) {
            Ok(0) => Outcome::NoRow,
            Ok(_) => Outcome::Ok,
            Err(e) => {
                let msg = e.to_string();
                if let Some(cols) = msg.strip_prefix("UNIQUE constraint failed: ") {
                    Outcome::Unique(cols.to_string())
                } else if msg.contains("FOREIGN KEY constraint failed") {
                    Outcome::ForeignKey
                } else if msg == "CHECK constraint failed: ck_users_email_max_len" {
                    Outcome::TooLong
                } else {
                    panic!("SQLite failed outside the differential vocabulary: {msg}")
                }
            }
        }
    }

    fn query(&mut self, sql: &str) -> Vec<String> {
        let mut st = self.0.prepare(sql).unwrap();
        st.query_map([], |r| r.get::<_, String>(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    fn timestamp(&self, param: &str) -> String {
        param.to_owned()
    }

    fn micros(&self) -> &'static str {
        "joined"
    }
}

struct Postgres(pg::Pg);

impl Db for Postgres {
    fn name(&self) -> &'static str {
        "PostgreSQL"
    }

    fn engine(&self) -> Engine {
        Engine::Postgres
    }

    fn reset(&mut self) {
        self.0
            .client
            .batch_execute("DELETE FROM comments; DELETE FROM posts; DELETE FROM users;")
            .unwrap();
    }

    fn run(&mut self, sql: &str, args: &[Arg]) -> Outcome {
        let params: Vec<&(dyn postgres::types::ToSql + Sync)> = args
            .iter()
            .map(|a| match a {
                Arg::Int(i) => i as &(dyn postgres::types::ToSql + Sync),
                Arg::Text(t) => t as &(dyn postgres::types::ToSql + Sync),
            })
            .collect();
        match self.0.client.execute(sql, &params) {
            Ok(0) => Outcome::NoRow,
            Ok(_) => Outcome::Ok,
            Err(e) => {
                let db = e.as_db_error().unwrap_or_else(|| panic!("PostgreSQL: {e}"));
                match db.code().code() {
                    // DETAIL: Key (author_id, title)=(1, ann) already exists.
                    "23505" => {
                        let detail = db.detail().unwrap_or_default();
                        let cols = detail
                            .strip_prefix("Key (")
                            .and_then(|d| d.split_once(")="))
                            .map_or("?", |(cols, _)| cols);
                        let table = db.table().unwrap_or("?");
                        // A nocase unique is an index on `lower(col)`, shown as
                        // `lower((email)::text)` for a VARCHAR.
                        let column = |c: &str| match c.strip_prefix("lower(") {
                            Some(inner) => inner.replace("::text", "").replace(['(', ')'], ""),
                            None => c.to_owned(),
                        };
                        let named: Vec<String> = cols
                            .split(", ")
                            .map(|c| format!("{table}.{}", column(c)))
                            .collect();
                        Outcome::Unique(named.join(", "))
                    }
                    "23503" => Outcome::ForeignKey,
                    "22001" => Outcome::TooLong,
                    code => panic!("PostgreSQL failed outside the differential vocabulary: {code} {db}"),
                }
            }
        }
    }

    fn query(&mut self, sql: &str) -> Vec<String> {
        let rows = self.0.client.query(sql, &[]).unwrap();
        rows.iter().map(|r| r.get::<_, String>(0)).collect()
    }

    fn timestamp(&self, param: &str) -> String {
        format!("TIMESTAMPTZ 'epoch' + {param}::bigint * INTERVAL '1 microsecond'")
    }

    fn micros(&self) -> &'static str {
        "(extract(epoch FROM joined) * 1000000)::bigint"
    }
}

/// One relata store under a profile next to the database it imitates, and the records each
/// holds: (relata key, SQL id) per table. SQL ids are handed out by the test and never
/// reused, as relata never reuses a key (docs/SEMANTICS.md A.12).
struct World<'a> {
    store: Store,
    db: &'a mut dyn Db,
    users: Vec<(RawKey, i64)>,
    posts: Vec<(RawKey, i64)>,
    comments: Vec<(RawKey, i64)>,
    next_id: i64,
}

const NAMES: [&str; 4] = ["ann", "Ann", "bob", "o'k"];

/// The `i`th record handed out (past the end: a key and id never handed out).
fn pick(ids: &[(RawKey, i64)], i: u8) -> (RawKey, i64) {
    ids.get(i as usize)
        .copied()
        .unwrap_or((RawKey::from_u64(0x0000_0001_0000_0fff), -2))
}

impl<'a> World<'a> {
    /// An empty store next to `db`, emptied.
    fn new(db: &'a mut dyn Db) -> World<'a> {
        db.reset();
        World {
            store: Store::with_engine(schema(), db.engine()),
            db,
            users: vec![],
            posts: vec![],
            comments: vec![],
            next_id: 1,
        }
    }

    /// Runs `op` on both sides; their outcomes.
    fn apply(&mut self, op: &Op) -> (Outcome, Outcome) {
        let id = self.next_id;
        match *op {
            Op::AddUser { name, email } => {
                let u = user(name, email);
                let sql = format!(
                    "INSERT INTO users (id, username, email, status, joined) VALUES ($1, $2, $3, $4, {})",
                    self.db.timestamp("$5")
                );
                let s = self.db.run(
                    &sql,
                    &[
                        Arg::Int(id),
                        Arg::Text(u.username.clone()),
                        Arg::Text(u.email.clone()),
                        Arg::Text(status_name(u.status).into()),
                        Arg::Int(u.joined.timestamp_micros()),
                    ],
                );
                let r = self.store.insert(u);
                if let (Ok(k), Outcome::Ok) = (&r, &s) {
                    self.users.push((k.raw(), id));
                    self.next_id += 1;
                }
                (relata_outcome(r), s)
            }
            Op::AddPost { author, title } => {
                let ((k, uid), t) = (pick(&self.users, author), NAMES[title as usize].to_string());
                let r = self.store.insert(Post {
                    title: t.clone(),
                    author: Key::from_raw(k),
                });
                let s = self.db.run(
                    "INSERT INTO posts (id, title, author_id) VALUES ($1, $2, $3)",
                    &[Arg::Int(id), Arg::Text(t), Arg::Int(uid)],
                );
                if let (Ok(p), Outcome::Ok) = (&r, &s) {
                    self.posts.push((p.raw(), id));
                    self.next_id += 1;
                }
                (relata_outcome(r), s)
            }
            Op::AddComment { post } => {
                let (k, pid) = pick(&self.posts, post);
                let r = self.store.insert(Comment {
                    body: "c".into(),
                    post: Key::from_raw(k),
                });
                let s = self.db.run(
                    "INSERT INTO comments (id, body, post_id) VALUES ($1, 'c', $2)",
                    &[Arg::Int(id), Arg::Int(pid)],
                );
                if let (Ok(c), Outcome::Ok) = (&r, &s) {
                    self.comments.push((c.raw(), id));
                    self.next_id += 1;
                }
                (relata_outcome(r), s)
            }
            Op::Rename { user, name } => {
                let ((k, uid), n) = (pick(&self.users, user), NAMES[name as usize]);
                let r = self
                    .store
                    .update(Key::<User>::from_raw(k), |u| u.username = n.into());
                let s = self.db.run(
                    "UPDATE users SET username = $1 WHERE id = $2",
                    &[Arg::Text(n.into()), Arg::Int(uid)],
                );
                (relata_outcome(r), s)
            }
            Op::MovePost { post, author } => {
                let ((pk, pid), (uk, uid)) = (pick(&self.posts, post), pick(&self.users, author));
                let r = self
                    .store
                    .update(Key::<Post>::from_raw(pk), |p| p.author = Key::from_raw(uk));
                let s = self.db.run(
                    "UPDATE posts SET author_id = $1 WHERE id = $2",
                    &[Arg::Int(uid), Arg::Int(pid)],
                );
                (relata_outcome(r), s)
            }
            Op::DeleteUser { user } => self.delete::<User>("users", pick(&self.users, user)),
            Op::DeletePost { post } => self.delete::<Post>("posts", pick(&self.posts, post)),
            Op::DeleteComment { comment } => {
                self.delete::<Comment>("comments", pick(&self.comments, comment))
            }
        }
    }

    fn delete<E: Entity>(&mut self, table: &str, (k, id): (RawKey, i64)) -> (Outcome, Outcome) {
        let r = self.store.delete(Key::<E>::from_raw(k));
        let s = self
            .db
            .run(&format!("DELETE FROM {table} WHERE id = $1"), &[Arg::Int(id)]);
        (relata_outcome(r), s)
    }

    /// Every table's rows as (id, columns...) text, relata's keys translated to SQL ids.
    fn contents(&mut self) -> (Vec<String>, Vec<String>) {
        let sql_id = |ids: &[(RawKey, i64)], k: RawKey| ids.iter().find(|p| p.0 == k).map_or(-1, |p| p.1);
        let mut mine = Vec::new();
        for (k, u) in self.store.iter::<User>() {
            mine.push(format!(
                "users {} {} {} {} {}",
                sql_id(&self.users, k.raw()),
                u.username,
                u.email,
                status_name(u.status),
                u.joined.timestamp_micros()
            ));
        }
        for (k, p) in self.store.iter::<Post>() {
            let author = sql_id(&self.users, p.author.raw());
            mine.push(format!(
                "posts {} {} {author}",
                sql_id(&self.posts, k.raw()),
                p.title
            ));
        }
        for (k, c) in self.store.iter::<Comment>() {
            mine.push(format!(
                "comments {} {} {}",
                sql_id(&self.comments, k.raw()),
                c.body,
                sql_id(&self.posts, c.post.raw())
            ));
        }
        let mut theirs = Vec::new();
        let users = format!(
            "SELECT 'users ' || id || ' ' || username || ' ' || email || ' ' || status || ' ' || {} FROM users",
            self.db.micros()
        );
        for q in [
            users.as_str(),
            "SELECT 'posts ' || id || ' ' || title || ' ' || author_id FROM posts",
            "SELECT 'comments ' || id || ' ' || body || ' ' || post_id FROM comments",
        ] {
            theirs.extend(self.db.query(q));
        }
        mine.sort();
        theirs.sort();
        (mine, theirs)
    }

    /// Runs `ops` from an empty store and database, comparing after every step.
    fn check(&mut self, ops: &[Op]) -> Result<(), TestCaseError> {
        let engine = self.db.name();
        for (i, op) in ops.iter().enumerate() {
            let (mine, theirs) = self.apply(op);
            prop_assert_eq!(
                &mine,
                &theirs,
                "op #{} {:?}: relata {:?}, {} {:?}",
                i,
                op,
                mine,
                engine,
                theirs
            );
            let (mine, theirs) = self.contents();
            prop_assert_eq!(
                mine,
                theirs,
                "contents differ from {} after op #{} {:?}",
                engine,
                i,
                op
            );
            self.store
                .check_integrity()
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
        }
        Ok(())
    }
}

fn sqlite() -> Sqlite {
    let db = Connection::open_in_memory().unwrap();
    db.execute_batch("PRAGMA foreign_keys = ON;").unwrap();
    db.execute_batch(&schema().to_sql(Dialect::Sqlite)).unwrap();
    Sqlite(db)
}

fn cases() -> u32 {
    std::env::var("RELATA_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300)
}

/// The same random sequences on each database next to relata under its profile; prints how
/// many operations each pair ran.
#[test]
fn relata_agrees_with_sqlite_and_postgres() {
    let mut dbs: Vec<Box<dyn Db>> = vec![Box::new(sqlite())];
    if let Some(mut pg) = pg::connect("relata_agrees_with_sqlite_and_postgres") {
        pg.client
            .batch_execute(&schema().to_sql(Dialect::Postgres))
            .unwrap();
        dbs.push(Box::new(Postgres(pg)));
    }
    let config = Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    };
    let ops_run = std::cell::RefCell::new(vec![0u64; dbs.len()]);
    let dbs = std::cell::RefCell::new(dbs);
    let result = TestRunner::new(config).run(&prop::collection::vec(op(), 1..60), |ops| {
        for (i, db) in dbs.borrow_mut().iter_mut().enumerate() {
            World::new(&mut **db).check(&ops)?;
            ops_run.borrow_mut()[i] += ops.len() as u64;
        }
        Ok(())
    });
    for (db, n) in dbs.borrow().iter().zip(ops_run.borrow().iter()) {
        eprintln!(
            "differential: {n} operations on relata (Engine::{:?}) and {} agreed after every step",
            db.engine(),
            db.name()
        );
    }
    if let Err(e) = result {
        panic!("{e}");
    }
}
