//! Differential tests: the same random operations on relata and on SQLite `:memory:` built from
//! relata's own DDL export (foreign keys on). After every operation the outcomes must agree
//! (success, a UNIQUE failure on the same columns, or a FOREIGN KEY failure) and so must the
//! whole contents of every table.
//!
//! Deliberate divergences (`docs/SEMANTICS.md` Part D), accepted here and asserted elsewhere:
//! - writing or deleting a row that does not exist: relata returns `NotFound` / `Stale`, SQL
//!   changes 0 rows; both leave the data as it was.
//! - of two violated unique constraints relata reports the last declared, as SQLite does
//!   (this suite found the difference; PostgreSQL reports the first).
//!
//! Sorted reads (ORDER BY / LIMIT / OFFSET, a range) and upserts (`ON CONFLICT (username) DO
//! UPDATE`) are operations too: their rows must agree in order. relata breaks ties by key
//! (slot index, then generation); SQLite reproduces that through a side table holding each
//! post's relata key as an integer in that order (`post_keys.rk`).
//!
//! Users hold the field types services store: a case-insensitive unique `VARCHAR(5)` email
//! (SQLite: `COLLATE NOCASE` and the `CHECK (length(email) <= 5)` relata's DDL adds, since
//! SQLite ignores the length), a text enum and a timestamp (microseconds in SQLite).
//!
//! `RELATA_PROPTEST_CASES` raises the case count (CI: 300).

use chrono::{DateTime, Utc};
use proptest::prelude::*;
use relata::{Column, Dialect, Entity, Error, Key, Order, RawKey, Schema, Store, Upserted};
use rusqlite::{params, Connection};

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
    /// Upsert a user by username (`ON CONFLICT (username) DO UPDATE SET email`).
    UpsertUser {
        name: u8,
        email: u8,
    },
    /// A page of posts ordered by title (of one author, or all with `author: None`).
    Page {
        author: Option<u8>,
        desc: bool,
        offset: u8,
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
        2 => (small(), small()).prop_map(|(name, email)| Op::UpsertUser { name, email }),
        2 => (prop::option::of(any_ref()), any::<bool>(), 0u8..4, 0u8..5)
            .prop_map(|(author, desc, offset, limit)| Op::Page { author, desc, offset, limit }),
        1 => (small(), small()).prop_map(|(lo, hi)| Op::TitleRange { lo, hi }),
    ]
}

/// What an operation did, in terms both systems share.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Outcome {
    Ok,
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

fn sqlite_outcome(r: rusqlite::Result<usize>) -> Outcome {
    match r {
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

/// Both systems, and the ids each handed out (relata key, SQL rowid) per table.
struct Pair {
    store: Store,
    db: Connection,
    users: Vec<(RawKey, i64)>,
    posts: Vec<(RawKey, i64)>,
    comments: Vec<(RawKey, i64)>,
}

const NAMES: [&str; 4] = ["ann", "Ann", "bob", "o'k"];

/// The `i`th record handed out (past the end: a key and id never handed out). SQLite reuses
/// the highest deleted rowid, relata never reuses a key (docs/SEMANTICS.md A.12), so a record relata
/// no longer has maps to an id no row will ever have.
fn pick<E: Entity>(store: &Store, ids: &[(RawKey, i64)], i: u8) -> (RawKey, i64) {
    match ids.get(i as usize) {
        Some(&(k, id)) if store.contains(Key::<E>::from_raw(k)) => (k, id),
        Some(&(k, _)) => (k, -1),
        None => (RawKey::from_u64(0x0000_0001_0000_0fff), -2),
    }
}

impl Pair {
    fn new() -> Pair {
        let db = Connection::open_in_memory().unwrap();
        db.execute_batch("PRAGMA foreign_keys = ON;").unwrap();
        db.execute_batch(&schema().to_sql(Dialect::Sqlite)).unwrap();
        db.execute_batch("CREATE TABLE post_keys (id INTEGER PRIMARY KEY, rk INTEGER NOT NULL);")
            .unwrap();
        Pair {
            store: Store::new(schema()),
            db,
            users: vec![],
            posts: vec![],
            comments: vec![],
        }
    }

    fn insert_id(&self) -> i64 {
        self.db.last_insert_rowid()
    }

    fn apply(&mut self, op: &Op) -> (Outcome, Outcome) {
        match *op {
            Op::AddUser { name, email } => {
                let u = user(name, email);
                let s = self.db.execute(
                    "INSERT INTO users (username, email, status, joined) VALUES (?1, ?2, ?3, ?4)",
                    params![
                        u.username,
                        u.email,
                        status_name(u.status),
                        u.joined.timestamp_micros()
                    ],
                );
                let r = self.store.insert(u);
                if let (Ok(k), Ok(_)) = (&r, &s) {
                    self.users.push((k.raw(), self.insert_id()));
                }
                (relata_outcome(r), sqlite_outcome(s))
            }
            Op::AddPost { author, title } => {
                let ((k, id), t) = (
                    pick::<User>(&self.store, &self.users, author),
                    NAMES[title as usize],
                );
                let r = self.store.insert(Post {
                    title: t.into(),
                    author: Key::from_raw(k),
                });
                let s = self.db.execute(
                    "INSERT INTO posts (title, author_id) VALUES (?1, ?2)",
                    params![t, id],
                );
                if let (Ok(p), Ok(_)) = (&r, &s) {
                    let id = self.insert_id();
                    self.posts.push((p.raw(), id));
                    self.db
                        .execute(
                            "INSERT OR REPLACE INTO post_keys (id, rk) VALUES (?1, ?2)",
                            params![id, key_order(p.raw())],
                        )
                        .unwrap();
                }
                (relata_outcome(r), sqlite_outcome(s))
            }
            Op::AddComment { post } => {
                let (k, id) = pick::<Post>(&self.store, &self.posts, post);
                let r = self.store.insert(Comment {
                    body: "c".into(),
                    post: Key::from_raw(k),
                });
                let s = self.db.execute(
                    "INSERT INTO comments (body, post_id) VALUES ('c', ?1)",
                    params![id],
                );
                if let (Ok(c), Ok(_)) = (&r, &s) {
                    self.comments.push((c.raw(), self.insert_id()));
                }
                (relata_outcome(r), sqlite_outcome(s))
            }
            Op::Rename { user, name } => {
                let ((k, id), n) = (pick::<User>(&self.store, &self.users, user), NAMES[name as usize]);
                let r = self
                    .store
                    .update(Key::<User>::from_raw(k), |u| u.username = n.into());
                let s = self
                    .db
                    .execute("UPDATE users SET username = ?1 WHERE id = ?2", params![n, id]);
                (relata_outcome(r), sqlite_outcome(s))
            }
            Op::MovePost { post, author } => {
                let ((pk, pid), (uk, uid)) = (
                    pick::<Post>(&self.store, &self.posts, post),
                    pick::<User>(&self.store, &self.users, author),
                );
                let r = self
                    .store
                    .update(Key::<Post>::from_raw(pk), |p| p.author = Key::from_raw(uk));
                let s = self
                    .db
                    .execute("UPDATE posts SET author_id = ?1 WHERE id = ?2", params![uid, pid]);
                (relata_outcome(r), sqlite_outcome(s))
            }
            Op::DeleteUser { user } => {
                self.delete::<User>("users", pick::<User>(&self.store, &self.users, user))
            }
            Op::DeletePost { post } => {
                self.delete::<Post>("posts", pick::<Post>(&self.store, &self.posts, post))
            }
            Op::DeleteComment { comment } => {
                self.delete::<Comment>("comments", pick::<Comment>(&self.store, &self.comments, comment))
            }
            Op::UpsertUser { name, email } => self.upsert_user(name, email),
            Op::Page {
                author,
                desc,
                offset,
                limit,
            } => self.page(author, desc, offset, limit),
            Op::TitleRange { lo, hi } => {
                let (lo, hi) = (NAMES[lo as usize], NAMES[hi as usize]);
                let mine: Vec<RawKey> = self.store.range(Post::BY_TITLE, lo..=hi).map(Key::raw).collect();
                let sql = "SELECT p.id FROM posts p JOIN post_keys k ON k.id = p.id \
                           WHERE p.title BETWEEN ?1 AND ?2 ORDER BY p.title, k.rk";
                (self.rows(&mine), self.sql_rows(sql, params![lo, hi]))
            }
        }
    }

    fn upsert_user(&mut self, name: u8, email: u8) -> (Outcome, Outcome) {
        let u = user(name, email);
        let n = NAMES[name as usize];
        let existed: bool = self
            .db
            .query_row(
                "SELECT count(*) > 0 FROM users WHERE username = ?1",
                params![n],
                |r| r.get(0),
            )
            .unwrap();
        let s = self.db.execute(
            "INSERT INTO users (username, email, status, joined) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (username) DO UPDATE \
             SET email = excluded.email, status = excluded.status, joined = excluded.joined",
            params![n, u.email, status_name(u.status), u.joined.timestamp_micros()],
        );
        let r = self.store.upsert(User::BY_USERNAME, u);
        let mine = match &r {
            Ok(u) => Outcome::Upserted {
                inserted: u.inserted(),
            },
            Err(_) => relata_outcome(r.clone()),
        };
        let theirs = match s {
            Ok(_) => Outcome::Upserted { inserted: !existed },
            Err(e) => sqlite_outcome(Err(e)),
        };
        if let Ok(Upserted::Inserted(k)) = r {
            let id = self
                .db
                .query_row("SELECT id FROM users WHERE username = ?1", params![n], |r| {
                    r.get(0)
                })
                .unwrap_or(-3);
            self.users.push((k.raw(), id));
        }
        (mine, theirs)
    }

    fn page(&mut self, author: Option<u8>, desc: bool, offset: u8, limit: u8) -> (Outcome, Outcome) {
        let order = if desc { Order::Desc } else { Order::Asc };
        let dir = if desc { "DESC" } else { "ASC" };
        let (offset, limit) = (usize::from(offset), usize::from(limit));
        let (query, author_id) = match author {
            Some(a) => {
                let (k, id) = pick::<User>(&self.store, &self.users, a);
                let q = self
                    .store
                    .query_keys([Key::<User>::from_raw(k)])
                    .children(Post::AUTHOR);
                (q, Some(id))
            }
            None => (self.store.query::<Post>(), None),
        };
        let mine: Vec<RawKey> = query
            .order_by(Post::BY_TITLE, order)
            .offset(offset)
            .limit(limit)
            .keys()
            .into_iter()
            .map(Key::raw)
            .collect();
        let sql = format!(
            "SELECT p.id FROM posts p JOIN post_keys k ON k.id = p.id \
             WHERE ?1 IS NULL OR p.author_id = ?1 ORDER BY p.title {dir}, k.rk {dir} LIMIT ?2 OFFSET ?3"
        );
        (
            self.rows(&mine),
            self.sql_rows(&sql, params![author_id, limit as i64, offset as i64]),
        )
    }

    /// relata's keys of posts as SQL ids.
    fn rows(&self, keys: &[RawKey]) -> Outcome {
        let id = |k: &RawKey| self.posts.iter().find(|p| p.0 == *k).map_or(-1, |p| p.1);
        Outcome::Rows(keys.iter().map(id).collect())
    }

    fn sql_rows(&self, sql: &str, params: impl rusqlite::Params) -> Outcome {
        let mut st = self.db.prepare(sql).unwrap();
        let ids = st.query_map(params, |r| r.get::<_, i64>(0)).unwrap();
        Outcome::Rows(ids.map(Result::unwrap).collect())
    }

    fn delete<E: Entity>(&mut self, table: &str, (k, id): (RawKey, i64)) -> (Outcome, Outcome) {
        let r = self.store.delete(Key::<E>::from_raw(k));
        let s = self
            .db
            .execute(&format!("DELETE FROM {table} WHERE id = ?1"), params![id]);
        (relata_outcome(r), sqlite_outcome(s))
    }

    /// Every table's rows as (id, columns...) text, relata's keys translated to SQL ids.
    fn contents(&self) -> (Vec<String>, Vec<String>) {
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
        let queries = [
            "SELECT 'users ' || id || ' ' || username || ' ' || email || ' ' || status || ' ' || joined FROM users",
            "SELECT 'posts ' || id || ' ' || title || ' ' || author_id FROM posts",
            "SELECT 'comments ' || id || ' ' || body || ' ' || post_id FROM comments",
        ];
        for q in queries {
            let mut st = self.db.prepare(q).unwrap();
            theirs.extend(
                st.query_map([], |r| r.get::<_, String>(0))
                    .unwrap()
                    .map(Result::unwrap),
            );
        }
        mine.sort();
        theirs.sort();
        (mine, theirs)
    }
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

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn relata_and_sqlite_agree(ops in prop::collection::vec(op(), 1..60)) {
        let mut pair = Pair::new();
        for (i, op) in ops.iter().enumerate() {
            let (mine, theirs) = pair.apply(op);
            prop_assert_eq!(&mine, &theirs, "op #{} {:?}: relata {:?}, SQLite {:?}", i, op, mine, theirs);
            let (mine, theirs) = pair.contents();
            prop_assert_eq!(mine, theirs, "contents differ after op #{} {:?}", i, op);
            pair.store.check_integrity().map_err(|e| TestCaseError::fail(e.to_string()))?;
        }
    }
}
