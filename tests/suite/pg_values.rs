//! Values PostgreSQL refuses before any constraint looks at them: text holding a NUL byte
//! (22021) and a `u64` above `i64::MAX` in its `BIGINT` column (22003). `Engine::Postgres`
//! refuses them on insert, update and load, as the live server does (`RELATA_POSTGRES_URL`;
//! skipped locally without one); `Engine::Sqlite` keeps them. And text order: bytewise, as
//! PostgreSQL's C collation orders it.

use crate::common::{assert_fails_unchanged, pg};
use relata::{Dialect, Engine, Entity, Error, FixtureError, Order, Schema, SnapshotError, SqlState, Store};

#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "notes")]
struct Note {
    #[relata(index(ordered))]
    body: String,
    #[relata(unique)]
    code: u64,
}

fn schema() -> Schema {
    Schema::builder().entity::<Note>().build().unwrap()
}

fn note(body: &str, code: u64) -> Note {
    Note {
        body: body.into(),
        code,
    }
}

/// A connection to the live server with the notes table created by the PostgreSQL DDL.
fn postgres(test: &str) -> Option<pg::Pg> {
    let mut pg = pg::connect(test)?;
    pg.client
        .batch_execute(&schema().to_sql(Dialect::Postgres))
        .unwrap();
    Some(pg)
}

/// The SQLSTATE and `ERROR: message` line of a failed statement.
fn db_error(e: &postgres::Error) -> (String, String) {
    let db = e
        .as_db_error()
        .unwrap_or_else(|| panic!("not a database error: {e}"));
    (db.code().code().to_owned(), format!("ERROR: {}", db.message()))
}

#[test]
fn postgres_profile_refuses_a_nul_byte_in_text_as_postgres_does() {
    let mut s = Store::with_engine(schema(), Engine::Postgres);
    let on_insert = Error::NulInText {
        table: "notes",
        column: "body",
        key: None,
    };
    assert_fails_unchanged(&mut s, &on_insert, |s| s.insert(note("a\0b", 1)));
    assert_eq!(on_insert.sqlstate().map(SqlState::code), Some("22021"));
    // Worded for a stored value and a query's value alike (both are built with no key).
    assert_eq!(
        on_insert.to_string(),
        "notes.body: text with a NUL byte (0x00), which PostgreSQL's text cannot hold"
    );
    let k = s.insert(note("ab", 1)).unwrap();
    let on_update = Error::NulInText {
        table: "notes",
        column: "body",
        key: Some(k.raw()),
    };
    assert_fails_unchanged(&mut s, &on_update, |s| s.update(k, |n| n.body.push('\0')));
    // A value that also repeats a unique one: PostgreSQL refuses the text first.
    assert_fails_unchanged(&mut s, &on_insert, |s| s.insert(note("\0", 1)));
    // The SQLite profile keeps it (SQLite's TEXT holds a NUL), and reports the duplicate.
    let mut lite = Store::new(schema());
    lite.insert(note("a\0b", 1)).unwrap();
    assert!(matches!(
        lite.insert(note("\0", 1)),
        Err(Error::UniqueViolation { .. })
    ));

    let Some(mut pg) = postgres("postgres_profile_refuses_a_nul_byte_in_text_as_postgres_does") else {
        return;
    };
    let e = (pg.client)
        .execute("INSERT INTO notes (id, body, code) VALUES (1, $1, 1)", &[&"a\0b"])
        .unwrap_err();
    assert_eq!(
        db_error(&e),
        ("22021".to_owned(), on_insert.message(Engine::Postgres))
    );
}

#[test]
fn postgres_profile_refuses_a_u64_above_bigint_as_postgres_does() {
    let big = i64::MAX as u64 + 1;
    let mut s = Store::with_engine(schema(), Engine::Postgres);
    let on_insert = Error::OutOfRange {
        table: "notes",
        column: "code",
        key: None,
        value: big,
    };
    assert_fails_unchanged(&mut s, &on_insert, |s| s.insert(note("a", big)));
    assert_eq!(on_insert.sqlstate().map(SqlState::code), Some("22003"));
    let k = s.insert(note("a", i64::MAX as u64)).unwrap();
    let on_update = Error::OutOfRange {
        table: "notes",
        column: "code",
        key: Some(k.raw()),
        value: u64::MAX,
    };
    assert_fails_unchanged(&mut s, &on_update, |s| s.update(k, |n| n.code = u64::MAX));
    // The SQLite profile keeps it.
    Store::new(schema()).insert(note("a", u64::MAX)).unwrap();

    let Some(mut pg) = postgres("postgres_profile_refuses_a_u64_above_bigint_as_postgres_does") else {
        return;
    };
    let e = (pg.client)
        .batch_execute(&format!(
            "INSERT INTO notes (id, body, code) VALUES (1, 'a', '{big}')"
        ))
        .unwrap_err();
    assert_eq!(
        db_error(&e),
        ("22003".to_owned(), on_insert.message(Engine::Postgres))
    );
}

/// A snapshot saved under the SQLite profile, marked as a PostgreSQL profile's (its trailing
/// engine byte) and resealed: the load checks the values as an insert would.
#[test]
fn postgres_profile_refuses_such_values_on_load() {
    for (value, error) in [
        (note("a\0b", 1), "NulInText"),
        (note("a", u64::MAX), "OutOfRange"),
    ] {
        let mut lite = Store::new(schema());
        let k = lite.insert(value).unwrap();
        let mut bytes = lite.to_snapshot().unwrap();
        assert!(Store::from_snapshot(schema(), &bytes).is_ok());
        bytes.push(1);
        relata::__private::reseal(&mut bytes);
        match Store::from_snapshot(schema(), &bytes) {
            Err(SnapshotError::Rejected { table, key, error: e }) => {
                assert_eq!((table, key), ("notes", k.raw()));
                assert!(format!("{e:?}").starts_with(error), "{e:?}");
                assert!(
                    format!("{e:?}").contains(&format!("{:?}", Some(k.raw()))),
                    "{e:?}"
                );
            }
            other => panic!("expected a rejected record, got {other:?}"),
        }
    }
    // The same bytes with values PostgreSQL holds load under its profile.
    let mut lite = Store::new(schema());
    lite.insert(note("ab", i64::MAX as u64)).unwrap();
    let mut bytes = lite.to_snapshot().unwrap();
    bytes.push(1);
    relata::__private::reseal(&mut bytes);
    let pg = Store::from_snapshot(schema(), &bytes).unwrap();
    assert_eq!(pg.engine(), Engine::Postgres);
}

/// A JSON fixture's records are written as inserts, so its values are checked as an insert's
/// under the PostgreSQL profile, and the failed load changes nothing.
#[test]
fn postgres_profile_refuses_such_values_in_a_json_fixture() {
    let nul = r#"{"notes": [{"body": "a\u0000b", "code": 1}]}"#;
    let big = r#"{"notes": [{"body": "a", "code": 18446744073709551615}]}"#;
    for (json, column) in [(nul, "body"), (big, "code")] {
        let mut s = Store::with_engine(schema(), Engine::Postgres);
        let err = s.insert_json(json).unwrap_err();
        assert!(
            matches!(&err, FixtureError::Constraint {
                error: Error::NulInText { column: c, .. } | Error::OutOfRange { column: c, .. }, ..
            } if *c == column),
            "{err}"
        );
        assert_eq!(s.count::<Note>(), 0);
        Store::new(schema()).insert_json(json).unwrap();
    }
}

/// relata orders text bytewise (UTF-8 bytes, which is code point order): PostgreSQL's order
/// under the C collation, which the CI cluster uses (`initdb --no-locale`); under a locale such
/// as en_US.UTF-8 PostgreSQL would order `B` after `a` and `é` before `Z`.
#[test]
fn postgres_orders_text_as_relata_does_under_the_c_collation() {
    let words = ["b", "B", "a", "ab", "Z", "é", "e", "_", "10", "9", "a b", "A"];
    let mut s = Store::with_engine(schema(), Engine::Postgres);
    for (i, w) in words.iter().enumerate() {
        s.insert(note(w, i as u64)).unwrap();
    }
    let ours: Vec<String> = (s.scan(Note::BY_BODY))
        .map(|k| s.get(k).unwrap().body.to_string())
        .collect();
    let mut bytewise: Vec<&str> = words.to_vec();
    bytewise.sort_unstable();
    assert_eq!(ours, bytewise);

    let Some(mut pg) = postgres("postgres_orders_text_as_relata_does_under_the_c_collation") else {
        return;
    };
    for (i, w) in words.iter().enumerate() {
        let (id, code) = (i as i64 + 1, i as i64);
        (pg.client)
            .execute(
                "INSERT INTO notes (id, body, code) VALUES ($1, $2, $3)",
                &[&id, w, &code],
            )
            .unwrap();
    }
    let theirs: Vec<String> = (pg.client)
        .query("SELECT body FROM notes ORDER BY body COLLATE \"C\"", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(ours, theirs);
}

/// A reading with an ordered float: `DOUBLE PRECISION` in PostgreSQL's DDL.
#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "readings")]
struct Reading {
    #[relata(index(ordered))]
    x: f64,
}

/// PostgreSQL compares floats as numbers: `-0.0` equals `0.0` (a tie, broken by id), and
/// every NaN, whatever its sign bit, is one value above `Infinity`. relata's order, ranges
/// and keyset pages agree under both profiles (SQLite also compares `-0.0` equal to `0.0`; it
/// stores a NaN as NULL). Before, relata compared floats by `total_cmp`: `-0.0` came before
/// `0.0` and out of `x >= 0`, and a negative NaN (what `0.0 / 0.0` gives on x86) before
/// `-Infinity`.
#[test]
fn postgres_orders_floats_as_relata_does() {
    let xs = [
        0.0,
        -0.0,
        f64::NAN,
        f64::NEG_INFINITY,
        -f64::NAN,
        f64::INFINITY,
        -1.0,
        1.5,
        f64::NAN,
        -0.0,
    ];
    let schema = Schema::builder().entity::<Reading>().build().unwrap();
    // The position (1-based, the PostgreSQL row's id) of each record, in an order.
    let ids = |s: &Store, keys: Vec<relata::Key<Reading>>| -> Vec<i64> {
        let all: Vec<_> = s.keys::<Reading>().collect();
        keys.iter()
            .map(|k| all.iter().position(|a| a == k).unwrap() as i64 + 1)
            .collect()
    };
    // -Infinity, -1, then 0 and both -0 by id, 1.5, Infinity, then the three NaNs by id.
    let asc = vec![4, 7, 1, 2, 10, 8, 6, 3, 5, 9];
    let at_least_zero = vec![1, 2, 10, 8, 6, 3, 5, 9];
    for engine in [Engine::Sqlite, Engine::Postgres] {
        let mut s = Store::with_engine(schema.clone(), engine);
        for &x in &xs {
            s.insert(Reading { x }).unwrap();
        }
        s.check_integrity().unwrap();
        let q = || s.query::<Reading>();
        assert_eq!(
            ids(&s, q().order_by(Reading::BY_X, Order::Asc).keys()),
            asc,
            "{engine:?}"
        );
        let desc: Vec<i64> = asc.iter().rev().copied().collect();
        assert_eq!(
            ids(&s, q().order_by(Reading::BY_X, Order::Desc).keys()),
            desc,
            "{engine:?}"
        );
        assert_eq!(ids(&s, s.scan(Reading::BY_X).collect()), asc, "{engine:?}");
        assert_eq!(
            ids(&s, s.range(Reading::BY_X, 0.0..).collect()),
            at_least_zero,
            "{engine:?}"
        );
        let mut filtered = ids(&s, q().range(Reading::BY_X, 0.0..).keys());
        filtered.sort_unstable();
        let mut expected = at_least_zero.clone();
        expected.sort_unstable();
        assert_eq!(filtered, expected, "{engine:?}");
        // The page after the first -0 (id 2): the other -0, then the rest.
        let second = s.keys::<Reading>().nth(1).unwrap();
        let page = q()
            .order_by(Reading::BY_X, Order::Asc)
            .after(second, &[(-0.0).into()])
            .unwrap();
        assert_eq!(ids(&s, page.keys()), asc[4..], "{engine:?}");
    }

    let Some(mut pg) = pg::connect("postgres_orders_floats_as_relata_does") else {
        return;
    };
    pg.client
        .batch_execute(&schema.to_sql(Dialect::Postgres))
        .unwrap();
    for (i, x) in xs.iter().enumerate() {
        (pg.client)
            .execute(
                "INSERT INTO readings (id, x) VALUES ($1, $2)",
                &[&(i as i64 + 1), x],
            )
            .unwrap();
    }
    let mut ask = |sql: &str| -> Vec<i64> {
        (pg.client.query(sql, &[]).unwrap().iter())
            .map(|r| r.get(0))
            .collect()
    };
    assert_eq!(ask("SELECT id FROM readings ORDER BY x, id"), asc);
    let desc: Vec<i64> = asc.iter().rev().copied().collect();
    assert_eq!(ask("SELECT id FROM readings ORDER BY x DESC, id DESC"), desc);
    assert_eq!(
        ask("SELECT id FROM readings WHERE x >= 0 ORDER BY x, id"),
        at_least_zero
    );
    assert_eq!(
        ask("SELECT id FROM readings WHERE (x, id) > ('-0'::float8, 2) ORDER BY x, id"),
        asc[4..]
    );
}

fn short_and_fine(n: &Limited) -> bool {
    n.body != "ab\0"
}

/// A note whose body is at most 2 characters and not `"ab\0"` (a CHECK).
#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "limited", check(short_and_fine, name = "ck_short"))]
struct Limited {
    #[relata(max_len = 2)]
    body: String,
    #[relata(unique)]
    code: u64,
}

/// PostgreSQL refuses a NUL byte when the statement's parameter is bound, before any
/// constraint looks at the row, so its error comes first whatever else the value breaks: a
/// length, a CHECK, a unique value held already. relata under its profile reports the same
/// error on each path (the refused insert's probe, the row's checks).
#[test]
fn postgres_profile_reports_a_nul_byte_before_any_constraint_it_also_breaks() {
    let schema = Schema::builder().entity::<Limited>().build().unwrap();
    let mut s = Store::with_engine(schema, Engine::Postgres);
    s.insert(Limited {
        body: "ok".into(),
        code: 1,
    })
    .unwrap();
    let nul = Error::NulInText {
        table: "limited",
        column: "body",
        key: None,
    };
    for (body, code, what) in [
        ("abc\0", 2, "too long"),
        ("abc\0", 1, "too long and a code held already"),
        ("ab\0", 2, "failing the CHECK"),
        ("ab\0", 1, "failing the CHECK, a code held already"),
        ("a\0", 1, "a code held already"),
    ] {
        let err = s
            .insert(Limited {
                body: body.into(),
                code,
            })
            .unwrap_err();
        assert_eq!(err, nul, "{what}");
    }
    s.check_integrity().unwrap();
}

/// A text column holding a type of the user's (here a newtype over `String`).
#[derive(relata::Column, Clone, Debug, PartialEq)]
struct Tag(String);

fn one_word(t: &Tagged) -> bool {
    !t.tag.0.contains(' ')
}

/// A record with an `#[relata(id)]` kept as a `u64` and a CHECK.
#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "tagged", check(one_word, name = "ck_one_word"))]
struct Tagged {
    #[relata(id)]
    id: u64,
    tag: Tag,
}

/// The value a failing CHECK is checked on is the row's: a NUL byte in a column of a type of
/// the user's is found too (PostgreSQL refuses it when binding it), and an id the insert does
/// not keep (the store assigns it) is not read.
#[test]
fn postgres_profile_finds_a_nul_byte_in_a_custom_column_before_a_failing_check() {
    let schema = Schema::builder().entity::<Tagged>().build().unwrap();
    let mut s = Store::with_engine(schema, Engine::Postgres);
    let nul = Error::NulInText {
        table: "tagged",
        column: "tag",
        key: None,
    };
    let value = Tagged {
        id: 0,
        tag: Tag("two\0 words".into()),
    };
    assert_fails_unchanged(&mut s, &nul, |s| s.insert(value));
    let k = s
        .insert(Tagged {
            id: 0,
            tag: Tag("one".into()),
        })
        .unwrap();
    let on_update = Error::NulInText {
        table: "tagged",
        column: "tag",
        key: Some(k.raw()),
    };
    assert_fails_unchanged(&mut s, &on_update, |s| s.update(k, |t| t.tag.0.push_str("\0 x")));
    let ignored_id = Tagged {
        id: u64::MAX,
        tag: Tag("two words".into()),
    };
    assert!(matches!(
        s.insert(ignored_id),
        Err(Error::CheckViolation {
            constraint: "ck_one_word",
            ..
        })
    ));
}

#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "docs", unique(name, body))]
struct Doc {
    #[relata(unique)]
    name: String,
    body: serde_json::Value,
}

fn docs() -> Schema {
    Schema::builder().entity::<Doc>().build().unwrap()
}

fn doc(name: &str, body: serde_json::Value) -> Doc {
    Doc {
        name: name.into(),
        body,
    }
}

/// PostgreSQL's `jsonb` (the DDL's type for a JSON field) refuses the escape `\u0000` (a NUL
/// character in a string or a key) with 22P05, where its `json` and SQLite's TEXT keep it:
/// `Engine::Postgres` refuses it on insert, update, both arms of an upsert, a query's value,
/// a JSON fixture and a snapshot load, as the live server refuses the same text; `\\u0000` (a
/// backslash, then text) is no escape, and both keep it.
#[test]
fn postgres_profile_refuses_the_escape_u0000_in_json_as_postgres_does() {
    use serde_json::json;
    let nul = json!({"a": "x\u{0}y"});
    let nul_key = json!({"\u{0}": 1});
    let text = json!("\\u0000");
    assert_eq!(relata::AsColumn::into_repr(nul.clone()), r#"{"a":"x\u0000y"}"#);

    let mut s = Store::with_engine(docs(), Engine::Postgres);
    let on_insert = Error::NulInJson {
        table: "docs",
        column: "body",
        key: None,
    };
    assert_eq!(on_insert.sqlstate().map(SqlState::code), Some("22P05"));
    for body in [&nul, &nul_key] {
        assert_fails_unchanged(&mut s, &on_insert, |s| s.insert(doc("a", body.clone())));
        assert_fails_unchanged(&mut s, &on_insert, |s| {
            s.upsert(Doc::BY_NAME, doc("b", body.clone()))
        });
    }
    let k = s.insert(doc("a", text.clone())).unwrap();
    let on_update = Error::NulInJson {
        table: "docs",
        column: "body",
        key: Some(k.raw()),
    };
    assert_fails_unchanged(&mut s, &on_update, |s| s.update(k, |d| d.body = nul.clone()));
    // An upsert's value is its statement's parameter, refused before a conflict is looked
    // for: no record named, even where the value would have replaced one.
    assert_fails_unchanged(&mut s, &on_insert, |s| {
        s.upsert(Doc::BY_NAME, doc("a", nul.clone()))
    });
    // The conflict arm's change is an update of the record it found.
    assert_fails_unchanged(&mut s, &on_update, |s| {
        s.upsert_with(Doc::BY_NAME, doc("a", text.clone()), |d| d.body = nul_key.clone())
    });
    // A query's value: refused as a parameter, before anything is compared.
    let find = |s: &Store, body: &str| s.find_unique_values(Doc::BY_NAME_BODY, &["a".into(), body.into()]);
    assert_eq!(find(&s, r#""\u0000""#), Err(on_insert.clone()));
    assert_eq!(find(&s, r#""\\u0000""#), Ok(Some(k)));
    s.check_integrity().unwrap();

    // The SQLite profile keeps it, and finds it.
    let mut lite = Store::new(docs());
    let kept = lite.insert(doc("a", nul.clone())).unwrap();
    assert_eq!(find(&lite, r#"{"a":"x\u0000y"}"#), Ok(Some(kept)));

    // A JSON fixture (a JSON field's value is its canonical text): its records are inserts.
    let fixture = r#"{"docs": [{"name": "a", "body": "{\"a\":\"x\\u0000y\"}"}]}"#;
    let mut pg_store = Store::with_engine(docs(), Engine::Postgres);
    match pg_store.insert_json(fixture) {
        Err(FixtureError::Constraint { error, .. }) => assert_eq!(error, on_insert),
        other => panic!("expected NulInJson, got {other:?}"),
    }
    assert_eq!(pg_store.count::<Doc>(), 0);
    Store::new(docs()).insert_json(fixture).unwrap();

    // A snapshot of the SQLite profile's store, marked as a PostgreSQL profile's.
    let mut bytes = lite.to_snapshot().unwrap();
    bytes.push(1);
    relata::__private::reseal(&mut bytes);
    match Store::from_snapshot(docs(), &bytes) {
        Err(SnapshotError::Rejected { table, key, error }) => {
            assert_eq!((table, key), ("docs", kept.raw()));
            let on_load = Error::NulInJson {
                table: "docs",
                column: "body",
                key: Some(kept.raw()),
            };
            assert_eq!(*error, on_load);
        }
        other => panic!("expected a rejected record, got {other:?}"),
    }

    let Some(mut pg) = pg::connect("postgres_profile_refuses_the_escape_u0000_in_json_as_postgres_does")
    else {
        return;
    };
    pg.client
        .batch_execute(&docs().to_sql(Dialect::Postgres))
        .unwrap();
    let insert = "INSERT INTO docs (id, name, body) VALUES (1, 'a', $1::text::jsonb)";
    for body in [&nul, &nul_key] {
        let canonical: String = relata::AsColumn::into_repr(body.clone());
        let e = pg.client.execute(insert, &[&canonical]).unwrap_err();
        let db = e.as_db_error().unwrap();
        let theirs = format!("ERROR: {}\nDETAIL: {}", db.message(), db.detail().unwrap_or(""));
        assert_eq!(
            (db.code().code(), theirs),
            ("22P05", on_insert.message(Engine::Postgres))
        );
    }
    // What PostgreSQL keeps: the text `\u0000` (escaped), and the escape in `json`.
    let canonical: String = relata::AsColumn::into_repr(text.clone());
    pg.client.execute(insert, &[&canonical]).unwrap();
    let found = "SELECT count(*) FROM docs WHERE name = 'a' AND body = $1::text::jsonb";
    let row = pg.client.query_one(found, &[&r#""\\u0000""#]).unwrap();
    assert_eq!(row.get::<_, i64>(0), 1);
    let e = pg.client.query_one(found, &[&r#""\u0000""#]).unwrap_err();
    assert_eq!(e.as_db_error().map(|db| db.code().code()), Some("22P05"));
    let row = pg
        .client
        .query_one("SELECT $1::text::json::text", &[&r#""\u0000""#])
        .unwrap();
    assert_eq!(row.get::<_, String>(0), r#""\u0000""#);
}
