//! The SQL DDL export, applied to real databases: SQLite always, PostgreSQL when one is
//! configured (`RELATA_POSTGRES_URL`; always in CI).

use crate::common::{pg, schema};
use relata::Dialect;
use rusqlite::Connection;

fn sqlite_with(sql: &str) -> Connection {
    let conn = Connection::open_in_memory().unwrap();
    conn.execute_batch("PRAGMA foreign_keys = ON;").unwrap();
    conn.execute_batch(sql)
        .unwrap_or_else(|e| panic!("DDL rejected by SQLite: {e}\n{sql}"));
    conn
}

#[test]
fn sqlite_accepts_the_ddl_and_enforces_it() {
    let sql = schema().to_sql(Dialect::Sqlite);
    let conn = sqlite_with(&sql);
    let tables: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(tables, schema().tables().count() as i64);
    conn.execute(
        "INSERT INTO users (id, username, email) VALUES (1, 'alice', 'a@x')",
        [],
    )
    .unwrap();
    let dup = conn.execute(
        "INSERT INTO users (id, username, email) VALUES (2, 'alice', 'b@x')",
        [],
    );
    assert!(dup
        .unwrap_err()
        .to_string()
        .contains("UNIQUE constraint failed: users.username"));
    let dangling = conn.execute(
        "INSERT INTO posts (id, title, content, author_id) VALUES (1, 't', 'c', 99)",
        [],
    );
    assert!(dangling
        .unwrap_err()
        .to_string()
        .contains("FOREIGN KEY constraint failed"));
    conn.execute(
        "INSERT INTO posts (id, title, content, author_id) VALUES (1, 't', 'c', 1)",
        [],
    )
    .unwrap();
    let twin = conn.execute(
        "INSERT INTO posts (id, title, content, author_id) VALUES (2, 't', 'd', 1)",
        [],
    );
    assert!(twin
        .unwrap_err()
        .to_string()
        .contains("UNIQUE constraint failed: posts.author_id, posts.title"));
    conn.execute("DELETE FROM users WHERE id = 1", []).unwrap(); // ON DELETE CASCADE
    let left: i64 = conn
        .query_row("SELECT count(*) FROM posts", [], |r| r.get(0))
        .unwrap();
    assert_eq!(left, 0);
}

#[test]
fn the_ddl_names_what_sql_cannot_express() {
    let sql = schema().to_sql(Dialect::Sqlite);
    assert!(sql.contains("-- nodes.parent_id: acyclic"));
    assert!(sql.contains("-- posts.author_id: delete-orphan"));
    assert!(sql.contains(r#"CREATE INDEX "ix_posts_title" ON "posts" ("title");"#));
    let pg = schema().to_sql(Dialect::Postgres);
    assert!(pg.contains(r#"CONSTRAINT "uq_handles_name" UNIQUE ("name") DEFERRABLE INITIALLY DEFERRED"#));
    assert!(pg.contains(r#"ALTER TABLE "files" ADD CONSTRAINT "fk_files_folder_id" FOREIGN KEY ("folder_id") REFERENCES "folders"("id") DEFERRABLE INITIALLY DEFERRED;"#));
}

#[test]
fn association_tables_get_a_composite_primary_key() {
    const FOLLOWS: relata::ManyToMany<crate::common::User, crate::common::User> =
        relata::ManyToMany::new("follows", "following", "followers").columns("follower_id", "followed_id");
    let schema = relata::Schema::builder()
        .entity::<crate::common::User>()
        .relation(FOLLOWS)
        .build()
        .unwrap();
    let conn = sqlite_with(&schema.to_sql(Dialect::Sqlite));
    conn.execute_batch("INSERT INTO users VALUES (1, 'a', 'a'); INSERT INTO users VALUES (2, 'b', 'b');")
        .unwrap();
    conn.execute("INSERT INTO follows VALUES (1, 2)", []).unwrap();
    let again = conn
        .execute("INSERT INTO follows VALUES (1, 2)", [])
        .unwrap_err()
        .to_string();
    assert!(
        again.contains("UNIQUE constraint failed: follows.follower_id, follows.followed_id"),
        "{again}"
    );
}

/// Applies the PostgreSQL DDL to the configured server (`RELATA_POSTGRES_URL`; skipped
/// without one, failed under `CI=true`) and checks every table was created.
#[test]
fn postgres_accepts_the_ddl_when_a_server_is_present() {
    let Some(mut pg) = pg::connect("postgres_accepts_the_ddl_when_a_server_is_present") else {
        return;
    };
    let sql = schema().to_sql(Dialect::Postgres);
    pg.client
        .batch_execute(&sql)
        .unwrap_or_else(|e| panic!("PostgreSQL rejected the DDL: {e}\n{sql}"));
    let tables: i64 = pg
        .client
        .query_one(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(tables, schema().tables().count() as i64);
}
