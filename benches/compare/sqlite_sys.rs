//! SQLite `:memory:` under test, set up as docs/PERFORMANCE.md, "What is measured, and how", says: bundled SQLite through
//! rusqlite, `PRAGMA foreign_keys=ON`, the SQLAlchemy-style DDL below, statement cache of 64.
//!
//! Every batch prepares its statement once (`prepare_cached`) and holds it across the loop.
//! Bulk loads run in one transaction; single writes (violations, moves, deletes) autocommit.
//! Snapshots are `sqlite3_serialize` / `sqlite3_deserialize`; fork uses the backup API.
//! Fixture reset is either `ROLLBACK TO` a savepoint opened at the mark (the writes after it,
//! bulk loads included, then run inside that transaction) or a backup-API copy back from a
//! fixture copy.

use std::hint::black_box;

use rusqlite::backup::{Backup, StepResult};
use rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE;
use rusqlite::serialize::{Data, OwnedData};
use rusqlite::{params, Connection, OptionalExtension, MAIN_DB};

use crate::data::{Bundle, UserRow};
use crate::subject::{read_text, Counts, Ids, Restore, Subject};

const DDL: &str = r#"
CREATE TABLE users(id INTEGER PRIMARY KEY, username TEXT UNIQUE NOT NULL, email TEXT UNIQUE NOT NULL);
CREATE TABLE profiles(id INTEGER PRIMARY KEY, bio TEXT,
  user_id INTEGER NOT NULL UNIQUE REFERENCES users(id) ON DELETE CASCADE);
CREATE TABLE posts(id INTEGER PRIMARY KEY, title TEXT, content TEXT,
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE);
CREATE INDEX ix_posts_user_id ON posts(user_id);
CREATE TABLE "groups"(id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL);
CREATE TABLE user_groups(user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  group_id INTEGER NOT NULL REFERENCES "groups"(id) ON DELETE CASCADE, joined_on INTEGER,
  PRIMARY KEY(user_id, group_id));
CREATE INDEX ix_user_groups_group_id ON user_groups(group_id);
"#;

const INSERT_USER: &str = "INSERT INTO users(username, email) VALUES (?1, ?2)";
const INSERT_PROFILE: &str = "INSERT INTO profiles(bio, user_id) VALUES (?1, ?2)";
const INSERT_POST: &str = "INSERT INTO posts(title, content, user_id) VALUES (?1, ?2, ?3)";
const INSERT_GROUP: &str = r#"INSERT INTO "groups"(name) VALUES (?1)"#;
const INSERT_MEMBER: &str = "INSERT INTO user_groups(user_id, group_id, joined_on) VALUES (?1, ?2, ?3)";

/// A `:memory:` connection, plus the fixture while a fixture mark is active.
pub struct Sqlite {
    conn: Connection,
    fixture: Option<Fixture>,
}

/// How an active fixture mark is kept.
enum Fixture {
    /// The savepoint `fixture` is open; bulk loads nest their own savepoint inside it.
    Savepoint,
    /// A copy of the database at the mark.
    Copy(Connection),
}

/// A fresh `:memory:` connection with foreign keys on and a 64-entry statement cache.
fn connect() -> Connection {
    let conn = Connection::open_in_memory().expect("open :memory:");
    conn.execute_batch("PRAGMA foreign_keys=ON;")
        .expect("foreign keys on");
    conn.set_prepared_statement_cache_capacity(64);
    conn
}

/// Copies every page of `from` into `to` with one backup step.
fn copy_pages(from: &Connection, to: &mut Connection) {
    let backup = Backup::new(from, to).expect("start backup");
    assert_eq!(backup.step(-1).expect("backup step"), StepResult::Done);
}

impl Sqlite {
    /// Runs `sql` once per key and visits every row's first column with `visit`.
    fn per_key(&self, sql: &str, keys: &[i64], mut visit: impl FnMut(&rusqlite::Row<'_>)) -> usize {
        let mut st = self.conn.prepare_cached(sql).expect("prepare");
        let mut n = 0;
        for &k in keys {
            let mut rows = st.query([k]).expect("query");
            while let Some(row) = rows.next().expect("step") {
                visit(row);
                n += 1;
            }
        }
        n
    }

    fn count(&self, table: &str) -> usize {
        let sql = format!("SELECT count(*) FROM {table}");
        let n: i64 = self.conn.query_row(&sql, [], |r| r.get(0)).expect("count");
        n as usize
    }
}

impl Subject for Sqlite {
    const NAME: &'static str = "sqlite";
    type User = i64;
    type Post = i64;
    type Group = i64;
    type Snapshot = OwnedData;

    fn open() -> Sqlite {
        let conn = connect();
        conn.execute_batch(DDL).expect("create schema");
        Sqlite { conn, fixture: None }
    }

    fn begin(&mut self) {
        let sql = match self.fixture {
            Some(Fixture::Savepoint) => "SAVEPOINT load",
            _ => "BEGIN DEFERRED",
        };
        self.conn.execute_batch(sql).expect("begin");
    }

    fn commit(&mut self) {
        let sql = match self.fixture {
            Some(Fixture::Savepoint) => "RELEASE load",
            _ => "COMMIT",
        };
        self.conn.execute_batch(sql).expect("commit");
    }

    fn insert_groups(&mut self, names: &mut [String]) -> Vec<i64> {
        let mut st = self.conn.prepare_cached(INSERT_GROUP).expect("prepare");
        let insert = |name: &String| st.insert([name]).expect("insert group");
        names.iter().map(insert).collect()
    }

    fn insert_bundle(&mut self, b: &mut Bundle, groups: &[i64], ids: &mut Ids<Sqlite>) {
        let c = &self.conn;
        let mut st = c.prepare_cached(INSERT_USER).expect("prepare");
        let user = st.insert([&b.user.username, &b.user.email]).expect("insert user");
        ids.users.push(user);
        let mut st = c.prepare_cached(INSERT_PROFILE).expect("prepare");
        st.insert(params![&b.bio, user]).expect("insert profile");
        let mut st = c.prepare_cached(INSERT_POST).expect("prepare");
        for p in &b.posts {
            let post = st.insert(params![&p.title, &p.content, user]);
            ids.posts.push(post.expect("insert post"));
        }
        let mut st = c.prepare_cached(INSERT_MEMBER).expect("prepare");
        for (&g, &joined_on) in b.groups.iter().zip(&b.joined_on) {
            let group = groups[g as usize];
            st.insert(params![user, group, joined_on])
                .expect("insert membership");
        }
    }

    fn counts(&mut self) -> Counts {
        ["users", "profiles", "posts", "\"groups\"", "user_groups"].map(|t| self.count(t))
    }

    fn lookup_unique(&mut self, names: &[String]) -> usize {
        let mut st = self
            .conn
            .prepare_cached("SELECT id FROM users WHERE username = ?1")
            .expect("prepare");
        let mut found = 0;
        for name in names {
            let id = st.query_row([name], |r| r.get::<_, i64>(0)).optional();
            found += black_box(id.expect("lookup")).is_some() as usize;
        }
        found
    }

    fn o2m_keys(&mut self, users: &[i64]) -> usize {
        self.per_key("SELECT id FROM posts WHERE user_id = ?1", users, |row| {
            black_box(row.get_unwrap::<_, i64>(0));
        })
    }

    fn o2m_fields(&mut self, users: &[i64]) -> usize {
        self.per_key("SELECT title FROM posts WHERE user_id = ?1", users, |row| {
            read_text(row.get_ref_unwrap(0).as_str().expect("title is text"));
        })
    }

    fn m2m_forward(&mut self, users: &[i64]) -> usize {
        let sql = "SELECT group_id FROM user_groups WHERE user_id = ?1";
        self.per_key(sql, users, |row| {
            black_box(row.get_unwrap::<_, i64>(0));
        })
    }

    fn m2m_reverse(&mut self, groups: &[i64]) -> usize {
        let sql = "SELECT user_id FROM user_groups WHERE group_id = ?1";
        self.per_key(sql, groups, |row| {
            black_box(row.get_unwrap::<_, i64>(0));
        })
    }

    fn insert_rejected(&mut self, rows: &mut [UserRow]) -> usize {
        let mut st = self.conn.prepare_cached(INSERT_USER).expect("prepare");
        let mut rejected = 0;
        for row in rows.iter() {
            let result = black_box(st.insert([&row.username, &row.email]));
            rejected += matches!(result, Err(rusqlite::Error::SqliteFailure(e, _))
                if e.extended_code == SQLITE_CONSTRAINT_UNIQUE) as usize;
        }
        rejected
    }

    fn move_posts(&mut self, moves: &[(i64, i64)]) {
        let sql = "UPDATE posts SET user_id = ?1 WHERE id = ?2";
        let mut st = self.conn.prepare_cached(sql).expect("prepare");
        for &(post, to) in moves {
            assert_eq!(st.execute([to, post]).expect("move post"), 1);
        }
    }

    fn delete_users(&mut self, users: &[i64]) -> usize {
        let mut st = self
            .conn
            .prepare_cached("DELETE FROM users WHERE id = ?1")
            .expect("prepare");
        users.iter().map(|&u| st.execute([u]).expect("delete user")).sum()
    }

    fn fork(&mut self) -> Sqlite {
        let mut conn = connect();
        copy_pages(&self.conn, &mut conn);
        Sqlite { conn, fixture: None }
    }

    fn snapshot_save(&mut self) -> Option<OwnedData> {
        match self.conn.serialize(MAIN_DB).expect("serialize") {
            Data::Owned(data) => Some(data),
            Data::Shared(_) => panic!("a :memory: database should serialize to an owned copy"),
        }
    }

    fn snapshot_load(snapshot: &OwnedData) -> Option<Sqlite> {
        let mut conn = connect();
        conn.deserialize_read_exact(MAIN_DB, &snapshot[..], snapshot.len(), false)
            .expect("deserialize");
        Some(Sqlite { conn, fixture: None })
    }

    fn snapshot_len(snapshot: &OwnedData) -> usize {
        snapshot.len()
    }

    fn fixture_mark(&mut self, how: Restore) -> bool {
        self.fixture = Some(match how {
            Restore::Rollback => {
                self.conn.execute_batch("SAVEPOINT fixture").expect("savepoint");
                Fixture::Savepoint
            }
            Restore::Copy => Fixture::Copy(self.fork().conn),
        });
        true
    }

    fn fixture_reset(&mut self) {
        match self.fixture.as_ref().expect("a fixture mark") {
            Fixture::Savepoint => {
                let sql = "ROLLBACK TO fixture";
                self.conn.execute_batch(sql).expect("rollback to the fixture");
            }
            Fixture::Copy(fixture) => copy_pages(fixture, &mut self.conn),
        }
    }

    fn fixture_release(&mut self) {
        if let Some(Fixture::Savepoint) = self.fixture.take() {
            self.conn.execute_batch("RELEASE fixture").expect("release");
        }
    }
}
