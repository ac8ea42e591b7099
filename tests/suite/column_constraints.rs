//! Column constraints the real databases enforce: `max_len` (VARCHAR(N)), CHECK as a Rust
//! predicate, and case-insensitive unique constraints; each against SQLite running relata's
//! own DDL, with SQLite's one divergence (it does not enforce VARCHAR lengths) pinned.

use crate::common::assert_fails_unchanged;
use relata::{Dialect, Engine, Entity, Error, Key, Schema, Store};
use rusqlite::Connection;

fn positive_stock(p: &Product) -> bool {
    p.stock >= 0
}

#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(
    table = "products",
    check(positive_stock, name = "ck_stock", sql = "stock >= 0")
)]
pub struct Product {
    #[relata(unique(nocase), max_len = 5)]
    code: String,
    #[relata(max_len = 3)]
    label: Option<String>,
    stock: i64,
}

fn schema() -> Schema {
    Schema::builder().entity::<Product>().build().unwrap()
}

fn product(code: &str, label: Option<&str>, stock: i64) -> Product {
    Product {
        code: code.into(),
        label: label.map(Into::into),
        stock,
    }
}

fn sqlite() -> Connection {
    let conn = Connection::open_in_memory().unwrap();
    conn.execute_batch(&schema().to_sql(Dialect::Sqlite)).unwrap();
    conn
}

fn sqlite_insert(conn: &Connection, id: i64, p: &Product) -> Result<usize, String> {
    conn.execute(
        "INSERT INTO products (id, code, label, stock) VALUES (?1, ?2, ?3, ?4)",
        rusqlite::params![id, p.code, p.label, p.stock],
    )
    .map_err(|e| e.to_string())
}

#[test]
fn max_len_counts_characters_and_names_column_limit_and_length() {
    let mut s = Store::new(schema());
    s.insert(product("é€ab5", Some("abc"), 1)).unwrap();
    let too_long = Error::TooLong {
        table: "products",
        column: "code",
        key: None,
        limit: 5,
        length: 6,
    };
    assert_fails_unchanged(&mut s, &too_long, |s| s.insert(product("abcdef", None, 1)));
    let k = s.insert(product("x", None, 1)).unwrap();
    let label = Error::TooLong {
        table: "products",
        column: "label",
        key: Some(k.raw()),
        limit: 3,
        length: 4,
    };
    assert_fails_unchanged(&mut s, &label, |s| s.update(k, |p| p.label = Some("four".into())));
    // An update names the record it would have rewritten.
    assert_eq!(
        label.to_string(),
        format!(
            "CHECK constraint failed: ck_products_label_max_len (products.label of products[{}] would hold 4 characters, VARCHAR(3))",
            k.raw()
        )
    );
    assert_eq!(
        label.message(relata::Engine::Postgres),
        "ERROR: value too long for type character varying(3)"
    );
    assert_eq!(label.sqlstate().map(relata::SqlState::code), Some("22001"));
}

/// SQLite does not enforce VARCHAR(N) (PostgreSQL does, and relata does under both profiles):
/// a bare `VARCHAR(50)` takes 51 characters. The SQLite DDL relata exports adds
/// `CHECK (length(col) <= N)`, so the exported schema refuses them as relata does. If SQLite
/// ever starts enforcing the length, the first assertion fails (docs/ENGINES.md).
#[test]
fn sqlite_ignores_varchar_length_and_the_exported_ddl_enforces_it() {
    let bare = Connection::open_in_memory().unwrap();
    bare.execute_batch("CREATE TABLE t (name VARCHAR(50) NOT NULL);")
        .unwrap();
    let fifty_one = "é".repeat(51);
    assert_eq!(
        bare.execute("INSERT INTO t (name) VALUES (?1)", [&fifty_one]),
        Ok(1)
    );
    let sql = schema().to_sql(Dialect::Sqlite);
    assert!(
        sql.contains(
            r#""code" VARCHAR(5) NOT NULL CONSTRAINT "ck_products_code_max_len" CHECK (length("code") <= 5)"#
        ),
        "{sql}"
    );
    let conn = sqlite();
    let err = sqlite_insert(&conn, 1, &product("abcdef", None, 1)).unwrap_err();
    assert_eq!(err, "CHECK constraint failed: ck_products_code_max_len");
    let mut s = Store::new(schema());
    let mine = s.insert(product("abcdef", None, 1)).unwrap_err();
    assert!(mine.to_string().starts_with(&err), "{mine}");
    // Five characters of two bytes each: both count characters, not bytes.
    assert_eq!(sqlite_insert(&conn, 2, &product("ééééé", Some("abc"), 1)), Ok(1));
    s.insert(product("ééééé", Some("abc"), 1)).unwrap();
    // A NULL has no length: the CHECK passes, as VARCHAR does.
    assert_eq!(sqlite_insert(&conn, 3, &product("x", None, 1)), Ok(1));
    let label = sqlite_insert(&conn, 4, &product("y", Some("four"), 1)).unwrap_err();
    assert_eq!(label, "CHECK constraint failed: ck_products_label_max_len");
}

#[test]
fn check_is_reported_like_the_database_and_exported() {
    let mut s = Store::new(schema());
    let err = Error::CheckViolation {
        table: "products",
        constraint: "ck_stock",
        key: None,
        values: vec![("stock", "-1".into())],
    };
    assert_fails_unchanged(&mut s, &err, |s| s.insert(product("a", None, -1)));
    let k = s.insert(product("a", None, 0)).unwrap();
    let err = Error::CheckViolation {
        table: "products",
        constraint: "ck_stock",
        key: Some(k.raw()),
        values: vec![("stock", "-5".into())],
    };
    assert_fails_unchanged(&mut s, &err, |s| s.update(k, |p| p.stock = -5));
    // The message names the columns the CHECK's SQL reads, with the record's values.
    assert_eq!(
        err.to_string(),
        format!(
            "CHECK constraint failed: ck_stock (on products[{}], where stock = -5)",
            k.raw()
        )
    );
    let sqlite_err = sqlite_insert(&sqlite(), 1, &product("a", None, -1)).unwrap_err();
    assert!(
        sqlite_err.contains("CHECK constraint failed: ck_stock"),
        "{sqlite_err}"
    );
}

#[test]
fn nocase_unique_ignores_case_in_writes_and_look_ups() {
    let mut s = Store::new(schema());
    let a = s.insert(product("AbC", None, 1)).unwrap();
    let err = s.insert(product("aBc", None, 1)).unwrap_err();
    assert!(
        matches!(err, Error::UniqueViolation { existing, .. } if existing == a.raw()),
        "{err}"
    );
    assert_eq!(s.find_unique(Product::BY_CODE, "ABC"), Some(a));
    assert_eq!(s.find_unique(Product::BY_CODE, "abd"), None);
    s.update(a, |p| p.code = "ABC".into()).unwrap();
    s.check_integrity().unwrap();
    let again = Store::from_snapshot(schema(), &s.to_snapshot().unwrap()).unwrap();
    assert_eq!(again.find_unique(Product::BY_CODE, "abc"), Some(a));
    again.check_integrity().unwrap();
    let conn = sqlite();
    sqlite_insert(&conn, 1, &product("AbC", None, 1)).unwrap();
    let sqlite_err = sqlite_insert(&conn, 2, &product("aBc", None, 1)).unwrap_err();
    assert!(
        sqlite_err.contains("UNIQUE constraint failed: products.code"),
        "{sqlite_err}"
    );
}

#[test]
fn ddl_writes_varchar_check_and_nocase() {
    let sql = schema().to_sql(Dialect::Sqlite);
    assert!(sql.contains(r#""code" VARCHAR(5) NOT NULL"#), "{sql}");
    assert!(sql.contains(r#"UNIQUE ("code" COLLATE NOCASE)"#), "{sql}");
    assert!(
        sql.contains(r#"CONSTRAINT "ck_stock" CHECK (stock >= 0)"#),
        "{sql}"
    );
    let pg = schema().to_sql(Dialect::Postgres);
    assert!(
        pg.contains(r#"CREATE UNIQUE INDEX "uq_products_code" ON "products" (lower("code"));"#),
        "{pg}"
    );
    let Some(mut pg_conn) = crate::common::pg::connect("column_constraints::ddl") else {
        return;
    };
    pg_conn
        .client
        .batch_execute(&pg)
        .unwrap_or_else(|e| panic!("{e}\n{pg}"));
    let insert = "INSERT INTO products (id, code, label, stock) VALUES ($1, $2, NULL, 1)";
    pg_conn.client.execute(insert, &[&1i64, &"AbC"]).unwrap();
    let dup = pg_conn.client.execute(insert, &[&2i64, &"aBc"]).unwrap_err();
    assert!(format!("{dup:?}").contains("uq_products_code"), "{dup:?}");
    let long = pg_conn.client.execute(insert, &[&3i64, &"abcdef"]).unwrap_err();
    assert!(format!("{long:?}").contains("value too long"), "{long:?}");
}

/// `nocase` folds ASCII letters only, as SQLite's NOCASE does: `"Éd"` and `"éd"` are two
/// values, under both profiles. PostgreSQL's `lower()` follows the database's collation: under
/// `C` (the `--no-locale` cluster CI starts) it folds ASCII only too, and both rows are
/// accepted; under a Unicode locale it folds `É`, and the second row is refused where relata
/// accepts it (docs/ENGINES.md).
#[test]
fn nocase_folds_ascii_only_as_sqlite_does_and_postgres_under_the_c_collation() {
    for engine in [relata::Engine::Sqlite, relata::Engine::Postgres] {
        let mut s = Store::with_engine(schema(), engine);
        s.insert(product("Éd", None, 1)).unwrap();
        s.insert(product("éd", None, 1)).unwrap();
        assert!(
            s.insert(product("éD", None, 1)).is_err(),
            "{engine:?}: ASCII case folds"
        );
    }
    let conn = sqlite();
    assert_eq!(sqlite_insert(&conn, 1, &product("Éd", None, 1)), Ok(1));
    assert_eq!(sqlite_insert(&conn, 2, &product("éd", None, 1)), Ok(1));
    let Some(mut pg) = crate::common::pg::connect("column_constraints::nocase_postgres_collation") else {
        return;
    };
    pg.client
        .batch_execute(&schema().to_sql(Dialect::Postgres))
        .unwrap();
    let collation: String = pg
        .client
        .query_one(
            "SELECT datcollate::text FROM pg_database WHERE datname = current_database()",
            &[],
        )
        .unwrap()
        .get(0);
    let insert = "INSERT INTO products (id, code, label, stock) VALUES ($1, $2, NULL, 1)";
    pg.client.execute(insert, &[&1i64, &"Éd"]).unwrap();
    let second = pg.client.execute(insert, &[&2i64, &"éd"]);
    match collation.as_str() {
        "C" | "POSIX" => assert!(second.is_ok(), "{second:?}"),
        _ => assert!(second.is_err(), "under {collation}, lower() folds É"),
    }
}

/// An insert probes its unique constraints from the value before its text is copied into the
/// heap; a record that is a duplicate *and* fails a check of its own must still be reported as
/// the full row's check reports it: CHECK first, then `max_len`, then UNIQUE (as SQLite does).
#[test]
fn a_duplicate_failing_check_or_max_len_reports_those_first() {
    let mut s = Store::new(schema());
    let a = s.insert(product("AbC", None, 1)).unwrap();
    let check = Error::CheckViolation {
        table: "products",
        constraint: "ck_stock",
        key: None,
        values: vec![("stock", "-1".into())],
    };
    assert_fails_unchanged(&mut s, &check, |s| s.insert(product("abc", None, -1)));
    let too_long = Error::TooLong {
        table: "products",
        column: "label",
        key: None,
        limit: 3,
        length: 4,
    };
    assert_fails_unchanged(&mut s, &too_long, |s| s.insert(product("abc", Some("four"), 1)));
    let err = s.insert(product("abc", Some("ok"), 1)).unwrap_err();
    assert!(
        matches!(err, Error::UniqueViolation { existing, .. } if existing == a.raw()),
        "{err}"
    );
    assert!(err.to_string().contains("value 'abc'"), "{err}");
    let conn = sqlite();
    sqlite_insert(&conn, 1, &product("AbC", None, 1)).unwrap();
    let sqlite_err = sqlite_insert(&conn, 2, &product("abc", None, -1)).unwrap_err();
    assert!(
        sqlite_err.contains("CHECK constraint failed: ck_stock"),
        "{sqlite_err}"
    );
}

/// A draft has an owner, and its editor is someone else.
fn owned_and_reviewed(d: &Draft) -> bool {
    (d.author.is_some() || d.editor.is_some()) && (d.author.is_none() || d.author != d.editor)
}

#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "writers")]
pub struct Writer {
    name: String,
}

#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "drafts", check(owned_and_reviewed, name = "ck_owned"))]
pub struct Draft {
    #[relata(back = "drafts", on_delete = "set_null")]
    author: Option<Key<Writer>>,
    #[relata(back = "edits")]
    editor: Option<Key<Writer>>,
}

/// A note is signed by someone: `by` or `seen`, both cleared when their writer goes.
fn signed(n: &Note) -> bool {
    n.by.is_some() || n.seen.is_some()
}

#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "notes", check(signed, name = "ck_signed"))]
pub struct Note {
    #[relata(back = "notes", on_delete = "cascade")]
    draft: Key<Draft>,
    #[relata(back = "written", on_delete = "set_null")]
    by: Option<Key<Writer>>,
    #[relata(back = "seen", on_delete = "set_null")]
    seen: Option<Key<Writer>>,
}

/// A CHECK over a foreign key holds however the key changes: `set_parent`, `remove_child`
/// and `ON DELETE SET NULL` write only the key, and are refused like `update` (in PostgreSQL
/// and SQLite the action's UPDATE fails the CHECK, and the DELETE with it).
#[test]
fn check_holds_when_only_a_foreign_key_changes() {
    for engine in [Engine::Postgres, Engine::Sqlite] {
        let schema = Schema::builder()
            .entity::<Writer>()
            .entity::<Draft>()
            .entity::<Note>()
            .build()
            .unwrap();
        let mut s = Store::with_engine(schema, engine);
        let [w1, w2] = ["ann", "bo"].map(|n| s.insert(Writer { name: n.into() }).unwrap());
        let both = s
            .insert(Draft {
                author: Some(w1),
                editor: Some(w2),
            })
            .unwrap();
        let alone = s
            .insert(Draft {
                author: Some(w1),
                editor: None,
            })
            .unwrap();
        // A Rust predicate without SQL may read any column: the message quotes them all.
        let err = |key: Key<Draft>, author: Option<Key<Writer>>, editor: Option<Key<Writer>>| {
            let quote =
                |w: Option<Key<Writer>>| w.map_or("NULL".to_string(), |w| format!("writers[{}]", w.raw()));
            Error::CheckViolation {
                table: "drafts",
                constraint: "ck_owned",
                key: Some(key.raw()),
                values: vec![
                    ("author_id", quote(author).into()),
                    ("editor_id", quote(editor).into()),
                ],
            }
        };
        assert_fails_unchanged(&mut s, &err(both, Some(w2), Some(w2)), |s| {
            s.set_parent(Draft::AUTHOR, both, Some(w2))
        });
        assert_fails_unchanged(&mut s, &err(alone, None, None), |s| {
            s.remove_child(Draft::AUTHOR, alone, w1)
        });
        assert_fails_unchanged(&mut s, &err(alone, None, None), |s| s.delete(w1));
        // Two keys cleared by one delete: the second UPDATE leaves the draft with no owner.
        let w3 = s.insert(Writer { name: "cy".into() }).unwrap();
        let shared = s
            .insert(Draft {
                author: Some(w3),
                editor: Some(w2),
            })
            .unwrap();
        s.insert(Note {
            draft: shared,
            by: Some(w3),
            seen: Some(w3),
        })
        .unwrap();
        let note_err = Error::CheckViolation {
            table: "notes",
            constraint: "ck_signed",
            key: Some(s.records::<Note>().iter().next().unwrap().0.raw()),
            values: vec![
                ("draft_id", format!("drafts[{}]", shared.raw()).into()),
                ("by_id", "NULL".into()),
                ("seen_id", "NULL".into()),
            ],
        };
        assert_fails_unchanged(&mut s, &note_err, |s| s.delete(w3));
        s.update(alone, |d| d.editor = Some(w2)).unwrap();
        s.delete(w1).unwrap();
        assert_eq!(s.get(alone).unwrap().author, None);
        s.check_integrity().unwrap();
    }
}
