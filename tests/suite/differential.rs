//! The differential test across engines: the same random operation sequences on relata under
//! `Engine::Sqlite` next to SQLite `:memory:` (foreign keys on), and on relata under
//! `Engine::Postgres` next to PostgreSQL (`RELATA_POSTGRES_URL`; skipped locally without one,
//! run in CI), each database built from relata's own DDL export. One driver (`World`) runs
//! every operation on relata and on a database behind the `Db` trait (two backends). After
//! every operation each pair's outcomes must agree (success, a UNIQUE failure on the same
//! columns, a FOREIGN KEY failure, the rows a read returns in order, what an upsert did) and so
//! must the whole contents of every table.
//!
//! Sorted reads (ORDER BY / LIMIT / OFFSET, keyset pages, a range) and upserts (`ON CONFLICT
//! (username) DO UPDATE` / `DO NOTHING`) are operations too. relata breaks ties by key (slot
//! index, then generation); SQL reproduces that through a side table holding each post's
//! relata key as an integer in that order (`post_keys.rk`), and compares text bytewise
//! (`COLLATE "C"` in PostgreSQL) as relata does.
//!
//! Users hold the field types services store: a case-insensitive unique `VARCHAR(5)` email
//! (SQLite: `COLLATE NOCASE` and relata's `CHECK (length(email) <= 5)`; PostgreSQL: a unique
//! index on `lower(email)` and the `VARCHAR`), a text enum, and a timestamp (SQLite: integer
//! microseconds; PostgreSQL: `TIMESTAMPTZ`).
//!
//! Deliberate divergences (`docs/SEMANTICS.md` Part D), accepted here and asserted elsewhere:
//! - writing or deleting a row that does not exist: relata returns `NotFound` / `Stale`, SQL
//!   changes 0 rows; both leave the data as it was.
//!
//! Engine differences show up here as each profile matching its own engine: of two violated
//! unique constraints SQLite reports the last declared and PostgreSQL the first
//! (docs/ENGINES.md).
//!
//! `RELATA_PROPTEST_CASES` raises the case count (CI: 300); `-- --nocapture` prints how many
//! operations each pair ran.

use chrono::{DateTime, Utc};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use relata::{Column, Dialect, Engine, Entity, Error, Key, Order, RawKey, Schema, Store, Upserted};
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
    #[relata(index(ordered))]
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
    AddUser {
        name: u8,
        email: u8,
    },
    AddPost {
        author: u8,
        title: u8,
    },
    AddComment {
        post: u8,
    },
    Rename {
        user: u8,
        name: u8,
    },
    MovePost {
        post: u8,
        author: u8,
    },
    DeleteUser {
        user: u8,
    },
    DeletePost {
        post: u8,
    },
    DeleteComment {
        comment: u8,
    },
    /// Upsert a user by username: `ON CONFLICT (username) DO UPDATE SET email` (`Store::upsert`)
    /// or, with `nothing`, `DO NOTHING` (`Store::insert_if_absent`).
    UpsertUser {
        name: u8,
        email: u8,
        nothing: bool,
    },
    /// A page of posts ordered by title (of one author, or all with `author: None`).
    Page {
        author: Option<u8>,
        desc: bool,
        offset: u8,
        limit: u8,
    },
    /// A keyset page: the posts after `(title, post)` in title order, at most `limit`.
    After {
        author: Option<u8>,
        desc: bool,
        title: u8,
        post: u8,
        limit: u8,
    },
    /// The posts whose title lies in `lo..=hi`, in title order.
    TitleRange {
        lo: u8,
        hi: u8,
    },
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
        2 => (small(), small(), any::<bool>())
            .prop_map(|(name, email, nothing)| Op::UpsertUser { name, email, nothing }),
        2 => (prop::option::of(any_ref()), any::<bool>(), 0u8..4, 0u8..5)
            .prop_map(|(author, desc, offset, limit)| Op::Page { author, desc, offset, limit }),
        2 => (prop::option::of(any_ref()), any::<bool>(), small(), any_ref(), 1u8..4)
            .prop_map(|(author, desc, title, post, limit)| Op::After { author, desc, title, post, limit }),
        1 => (small(), small()).prop_map(|(lo, hi)| Op::TitleRange { lo, hi }),
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
    /// Rows read, as SQL ids in order.
    Rows(Vec<i64>),
    /// An upsert: whether it inserted.
    Upserted {
        inserted: bool,
    },
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
    /// The first column of every row, as integers.
    fn ids(&mut self, sql: &str, args: &[Arg]) -> Vec<i64>;
    /// What makes text compare bytewise, as relata compares it, after a column name.
    fn bytewise(&self) -> &'static str;
    fn reset(&mut self);
}

struct Sqlite(Connection);

/// Empties every table.
const RESET: &str = "DELETE FROM comments; DELETE FROM posts; DELETE FROM users; DELETE FROM post_keys;";

fn sqlite_args(args: &[Arg]) -> Vec<rusqlite::types::Value> {
    args.iter()
        .map(|a| match a {
            Arg::Int(i) => rusqlite::types::Value::Integer(*i),
            Arg::Text(t) => rusqlite::types::Value::Text(t.clone()),
        })
        .collect()
}

fn pg_args(args: &[Arg]) -> Vec<&(dyn postgres::types::ToSql + Sync)> {
    args.iter()
        .map(|a| match a {
            Arg::Int(i) => i as &(dyn postgres::types::ToSql + Sync),
            Arg::Text(t) => t as &(dyn postgres::types::ToSql + Sync),
        })
        .collect()
}

impl Db for Sqlite {
    fn name(&self) -> &'static str {
        "SQLite"
    }

    fn engine(&self) -> Engine {
        Engine::Sqlite
    }

    fn reset(&mut self) {
        self.0.execute_batch(RESET).unwrap();
    }

    fn bytewise(&self) -> &'static str {
        ""
    }

    fn ids(&mut self, sql: &str, args: &[Arg]) -> Vec<i64> {
        let mut st = self.0.prepare(sql).unwrap();
        let rows = st.query_map(rusqlite::params_from_iter(sqlite_args(args)), |r| {
            r.get::<_, i64>(0)
        });
        rows.unwrap().map(Result::unwrap).collect()
    }

    fn run(&mut self, sql: &str, args: &[Arg]) -> Outcome {
        let values = sqlite_args(args);
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
        self.0.client.batch_execute(RESET).unwrap();
    }

    fn bytewise(&self) -> &'static str {
        " COLLATE \"C\""
    }

    fn ids(&mut self, sql: &str, args: &[Arg]) -> Vec<i64> {
        let rows = self.0.client.query(sql, &pg_args(args)).unwrap();
        rows.iter().map(|r| r.get::<_, i64>(0)).collect()
    }

    fn run(&mut self, sql: &str, args: &[Arg]) -> Outcome {
        let params = pg_args(args);
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
                    let rk = [Arg::Int(id), Arg::Int(key_order(p.raw()))];
                    let added = self.db.run("INSERT INTO post_keys (id, rk) VALUES ($1, $2)", &rk);
                    assert_eq!(added, Outcome::Ok, "post_keys");
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
            Op::UpsertUser { name, email, nothing } => self.upsert_user(name, email, nothing),
            Op::Page {
                author,
                desc,
                offset,
                limit,
            } => self.page(author, desc, offset, limit),
            Op::After {
                author,
                desc,
                title,
                post,
                limit,
            } => self.after(
                author,
                desc,
                (NAMES[title as usize], pick(&self.posts, post).0),
                limit,
            ),
            Op::TitleRange { lo, hi } => {
                let (lo, hi) = (NAMES[lo as usize], NAMES[hi as usize]);
                let mine: Vec<RawKey> = self.store.range(Post::BY_TITLE, lo..=hi).map(Key::raw).collect();
                let c = self.db.bytewise();
                let sql = format!(
                    "SELECT p.id FROM posts p JOIN post_keys k ON k.id = p.id \
                     WHERE p.title{c} BETWEEN $1 AND $2 ORDER BY p.title{c}, k.rk"
                );
                let theirs = self.db.ids(&sql, &[Arg::Text(lo.into()), Arg::Text(hi.into())]);
                (self.rows(&mine), Outcome::Rows(theirs))
            }
        }
    }

    /// `Store::upsert` (`DO UPDATE SET email`) or `Store::insert_if_absent` (`DO NOTHING`) by
    /// username; SQL says whether it inserted by whether the name was taken before.
    fn upsert_user(&mut self, name: u8, email: u8, nothing: bool) -> (Outcome, Outcome) {
        let id = self.next_id;
        let u = user(name, email);
        let args = [
            Arg::Int(id),
            Arg::Text(u.username.clone()),
            Arg::Text(u.email.clone()),
            Arg::Text(status_name(u.status).into()),
            Arg::Int(u.joined.timestamp_micros()),
        ];
        let existed = !self
            .db
            .ids("SELECT id FROM users WHERE username = $1", &args[1..2])
            .is_empty();
        let r = match nothing {
            false => self.store.upsert(User::BY_USERNAME, u),
            true => self.store.insert_if_absent(User::BY_USERNAME, u),
        };
        let action = match nothing {
            false => {
                "DO UPDATE SET email = excluded.email, status = excluded.status, joined = excluded.joined"
            }
            true => "DO NOTHING",
        };
        let sql = format!(
            "INSERT INTO users (id, username, email, status, joined) VALUES ($1, $2, $3, $4, {}) \
             ON CONFLICT (username) {action}",
            self.db.timestamp("$5")
        );
        let s = self.db.run(&sql, &args);
        let mine = match &r {
            Ok(u) => {
                let changed = matches!(u, Upserted::Updated(_));
                assert!(!(nothing && changed), "insert_if_absent updated");
                Outcome::Upserted {
                    inserted: u.inserted(),
                }
            }
            Err(_) => relata_outcome(r.clone()),
        };
        let theirs = match s {
            Outcome::Ok | Outcome::NoRow => Outcome::Upserted { inserted: !existed },
            other => other,
        };
        if let (Ok(Upserted::Inserted(k)), Outcome::Upserted { inserted: true }) = (&r, &theirs) {
            self.users.push((k.raw(), id));
            self.next_id += 1;
        }
        (mine, theirs)
    }

    /// The posts of one author (or all), as relata's query and as SQL's `WHERE`.
    fn posts_of(&self, author: Option<u8>) -> (relata::Query<'_, Post>, String) {
        match author {
            Some(a) => {
                let (k, id) = pick(&self.users, a);
                let q = self
                    .store
                    .query_keys([Key::<User>::from_raw(k)])
                    .children(Post::AUTHOR);
                (q, format!("p.author_id = {id}"))
            }
            None => (self.store.query::<Post>(), "TRUE".into()),
        }
    }

    /// `ORDER BY title, key LIMIT OFFSET` both ways.
    fn page(&mut self, author: Option<u8>, desc: bool, offset: u8, limit: u8) -> (Outcome, Outcome) {
        let (order, dir) = if desc {
            (Order::Desc, "DESC")
        } else {
            (Order::Asc, "ASC")
        };
        let (query, filter) = self.posts_of(author);
        let page = query
            .order_by(Post::BY_TITLE, order)
            .offset(offset.into())
            .limit(limit.into());
        let mine: Vec<RawKey> = page.keys().into_iter().map(Key::raw).collect();
        let c = self.db.bytewise();
        let sql = format!(
            "SELECT p.id FROM posts p JOIN post_keys k ON k.id = p.id \
             WHERE {filter} ORDER BY p.title{c} {dir}, k.rk {dir} LIMIT $1 OFFSET $2"
        );
        let theirs = self
            .db
            .ids(&sql, &[Arg::Int(limit.into()), Arg::Int(offset.into())]);
        (self.rows(&mine), Outcome::Rows(theirs))
    }

    /// Keyset pagination: `WHERE (title, key) > (?, ?)` (`<` descending), from any position
    /// (the post named may be deleted, or never handed out).
    fn after(
        &mut self,
        author: Option<u8>,
        desc: bool,
        (title, post): (&str, RawKey),
        limit: u8,
    ) -> (Outcome, Outcome) {
        let (order, dir, cmp) = if desc {
            (Order::Desc, "DESC", "<")
        } else {
            (Order::Asc, "ASC", ">")
        };
        let (query, filter) = self.posts_of(author);
        let page = query
            .order_by(Post::BY_TITLE, order)
            .after(Key::from_raw(post), &[title.into()])
            .unwrap()
            .limit(limit.into());
        let mine: Vec<RawKey> = page.keys().into_iter().map(Key::raw).collect();
        let c = self.db.bytewise();
        let sql = format!(
            "SELECT p.id FROM posts p JOIN post_keys k ON k.id = p.id \
             WHERE {filter} AND (p.title{c}, k.rk) {cmp} ($1, $2) \
             ORDER BY p.title{c} {dir}, k.rk {dir} LIMIT $3"
        );
        let args = [
            Arg::Text(title.into()),
            Arg::Int(key_order(post)),
            Arg::Int(limit.into()),
        ];
        let theirs = self.db.ids(&sql, &args);
        (self.rows(&mine), Outcome::Rows(theirs))
    }

    /// relata's keys of posts as SQL ids.
    fn rows(&self, keys: &[RawKey]) -> Outcome {
        let id = |k: &RawKey| self.posts.iter().find(|p| p.0 == *k).map_or(-1, |p| p.1);
        Outcome::Rows(keys.iter().map(id).collect())
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

/// The side table of relata's key order, per post.
const POST_KEYS: &str = "CREATE TABLE post_keys (id BIGINT PRIMARY KEY, rk BIGINT NOT NULL);";

fn sqlite() -> Sqlite {
    let db = Connection::open_in_memory().unwrap();
    db.execute_batch("PRAGMA foreign_keys = ON;").unwrap();
    db.execute_batch(&schema().to_sql(Dialect::Sqlite)).unwrap();
    db.execute_batch(POST_KEYS).unwrap();
    Sqlite(db)
}

/// A relata key as an integer that sorts as the key does (slot index, then generation).
fn key_order(k: RawKey) -> i64 {
    let bits = k.to_u64();
    (((bits & 0xffff_ffff) << 32) | (bits >> 32)) as i64
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
        pg.client.batch_execute(POST_KEYS).unwrap();
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
