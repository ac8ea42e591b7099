//! `#[relata(id)]`: integer ids the store assigns, per table, handed out as each engine's
//! profile says (SQLite: the largest id plus one; PostgreSQL: a sequence), and exported as
//! each engine declares them. docs/SEMANTICS.md A.15.

use relata::{Dialect, Engine, Entity, Error, Key, Schema, Store, Upserted};
use rusqlite::Connection;

use crate::common::{assert_fails_unchanged, ok, pg};

#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "articles")]
pub struct Article {
    #[relata(id)]
    id: i64,
    #[relata(unique)]
    slug: String,
}

#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "comments")]
pub struct Comment {
    #[relata(id)]
    id: i32,
    #[relata(on_delete = "cascade")]
    article: Key<Article>,
    body: String,
}

fn schema() -> Schema {
    Schema::builder()
        .entity::<Article>()
        .entity::<Comment>()
        .build()
        .unwrap()
}

fn article(slug: &str) -> Article {
    Article {
        id: 0,
        slug: slug.into(),
    }
}

fn id(s: &Store, k: Key<Article>) -> i64 {
    s.get(k).unwrap().id
}

/// The id a value holds is not what the insert stores, so an insert is not refused for an
/// id another record holds (its unique constraints are probed from the value only for the
/// columns the caller supplies).
#[test]
fn an_insert_ignores_a_taken_id_its_value_holds() {
    let mut s = Store::new(schema());
    let a = ok(&mut s, |s| s.insert(article("a")));
    let taken = Article {
        id: id(&s, a),
        slug: "b".into(),
    };
    let b = ok(&mut s, |s| s.insert(taken));
    assert_eq!((id(&s, a), id(&s, b)), (1, 2));
    // PostgreSQL probes the primary key first (SQLite the slug): neither refuses.
    let mut s = Store::with_engine(schema(), Engine::Postgres);
    let a = ok(&mut s, |s| s.insert(article("a")));
    let taken = Article {
        id: id(&s, a),
        slug: "b".into(),
    };
    let b = ok(&mut s, |s| s.insert(taken));
    assert_eq!(id(&s, b), 2);
}

#[test]
fn ids_count_from_one_per_table_and_find_their_record() {
    let mut s = Store::new(schema());
    let a = ok(&mut s, |s| s.insert(article("a")));
    let b = ok(&mut s, |s| {
        s.insert(Article {
            id: 99,
            slug: "b".into(),
        })
    });
    assert_eq!((id(&s, a), id(&s, b)), (1, 2), "the caller's value is replaced");
    let c = ok(&mut s, |s| {
        s.insert(Comment {
            id: 0,
            article: b,
            body: "hi".into(),
        })
    });
    assert_eq!(s.get(c).unwrap().id, 1, "each table counts on its own");
    assert_eq!(s.find_unique(Article::BY_ID, &2), Some(b));
    assert_eq!(s.find_unique(Article::BY_ID, &3), None);
    assert_eq!(s.find_unique(Comment::BY_ID, &1), Some(c));
    // An id never changes: update and replace keep the record's own.
    ok(&mut s, |s| s.update(a, |x| x.id = 7));
    ok(&mut s, |s| {
        s.replace(
            b,
            Article {
                id: 8,
                slug: "b2".into(),
            },
        )
    });
    assert_eq!((id(&s, a), id(&s, b)), (1, 2));
    assert_eq!(s.get(b).unwrap().slug, "b2");
}

/// The ids relata hands out for a run of inserts and deletes, and those of `conn` for the
/// same run on the exported DDL (`None` where the table is SQLite's).
fn reuse_run(s: &mut Store, conn: Option<&Connection>) -> Vec<i64> {
    let mut ids = Vec::new();
    let mut keys = Vec::new();
    let steps: [(&str, Option<usize>); 6] = [
        ("a", None),
        ("b", None),
        ("c", None),
        ("", Some(2)), // delete the newest
        ("d", None),
        ("", Some(1)), // delete one in the middle
    ];
    for (slug, delete) in steps
        .into_iter()
        .chain([("e", None), ("", Some(4)), ("", Some(3)), ("f", None)])
    {
        match (delete, conn) {
            (Some(i), None) => ok(s, |s| s.delete(keys[i]).map(drop)),
            (Some(i), Some(c)) => {
                c.execute("DELETE FROM articles WHERE id = ?1", [ids[i]]).unwrap();
            }
            (None, None) => {
                let k = ok(s, |s| s.insert(article(slug)));
                keys.push(k);
                ids.push(id(s, k));
            }
            (None, Some(c)) => {
                c.execute("INSERT INTO articles (slug) VALUES (?1)", [slug])
                    .unwrap();
                ids.push(c.last_insert_rowid());
            }
        }
    }
    ids
}

#[test]
fn sqlite_profile_hands_out_the_largest_id_plus_one_as_sqlite_does() {
    let conn = Connection::open_in_memory().unwrap();
    conn.execute_batch(&schema().to_sql(Dialect::Sqlite)).unwrap();
    let sqlite = reuse_run(&mut Store::new(schema()), Some(&conn));
    let relata = reuse_run(&mut Store::new(schema()), None);
    // Deleting the newest frees its id: d gets c's 3; once e (4) and d (3) go, f gets 2.
    assert_eq!(sqlite, [1, 2, 3, 3, 4, 2]);
    assert_eq!(relata, sqlite);
}

#[test]
fn postgres_profile_never_hands_out_an_id_twice_as_a_sequence_does() {
    let relata = reuse_run(&mut Store::with_engine(schema(), Engine::Postgres), None);
    assert_eq!(relata, [1, 2, 3, 4, 5, 6]);
}

#[test]
fn a_failed_insert_a_rollback_and_a_reset_give_the_counter_back() {
    for engine in [Engine::Sqlite, Engine::Postgres] {
        let mut s = Store::with_engine(schema(), engine);
        let a = ok(&mut s, |s| s.insert(article("a")));
        let taken = Error::UniqueViolation {
            table: "articles",
            columns: &["slug"],
            constraint: "uq_articles_slug",
            value: "'a'".into(),
            existing: a.raw(),
        };
        assert_fails_unchanged(&mut s, &taken, |s| s.insert(article("a")));
        let gone = Error::MissingTarget {
            table: "comments",
            column: "article_id",
            target: "articles",
            key: relata::RawKey::from_u64(77),
        };
        assert_fails_unchanged(&mut s, &gone, |s| {
            s.insert(Comment {
                id: 0,
                article: Key::from_u64(77),
                body: String::new(),
            })
        });

        let before = s.clone();
        s.begin().unwrap();
        let b = ok(&mut s, |s| s.insert(article("b")));
        ok(&mut s, |s| {
            s.insert(Comment {
                id: 0,
                article: b,
                body: String::new(),
            })
        });
        assert_eq!(id(&s, b), 2);
        s.rollback().unwrap();
        assert!(s == before, "{engine:?}: a rollback restores the id counters");
        s.check_integrity().unwrap();

        let mark = s.mark().unwrap();
        ok(&mut s, |s| s.insert(article("c")));
        s.reset(&mark).unwrap();
        assert!(s == before, "{engine:?}: a reset restores the id counters");

        // So the next id is the one the failed and undone inserts would have had (PostgreSQL
        // would have skipped 2 and 3: docs/SEMANTICS.md A.15).
        let d = ok(&mut s, |s| s.insert(article("d")));
        assert_eq!(id(&s, d), 2, "{engine:?}");
    }
}

/// `INSERT .. ON CONFLICT (id)`: the conflict is looked for under the id the caller gives,
/// and a row no record holds is inserted under that id, as both engines do when the id
/// column is given. An id below 1 names no record: the row gets the next id, as `insert`.
#[test]
fn upsert_by_id_finds_the_record_by_the_callers_id() {
    for engine in [Engine::Sqlite, Engine::Postgres] {
        let mut s = Store::with_engine(schema(), engine);
        let a = ok(&mut s, |s| s.insert(article("a")));
        let b = ok(&mut s, |s| s.insert(article("b")));
        let given = |id: i64, slug: &str| Article {
            id,
            slug: slug.into(),
        };
        let up = ok(&mut s, |s| s.upsert(Article::BY_ID, given(1, "a2")));
        assert_eq!(up, Upserted::Updated(a), "{engine:?}");
        assert_eq!((id(&s, a), s.get(a).unwrap().slug.as_str()), (1, "a2"));
        let kept = ok(&mut s, |s| s.insert_if_absent(Article::BY_ID, given(2, "zz")));
        assert_eq!(kept, Upserted::Existing(b));
        let changed = ok(&mut s, |s| {
            s.upsert_with(Article::BY_ID, given(2, "zz"), |x| x.slug.push('!'))
        });
        assert_eq!(changed, Upserted::Updated(b));
        assert_eq!(s.get(b).unwrap().slug, "b!");
        assert_eq!(s.count::<Article>(), 2);

        // No record holds 10: inserted as 10, and the counter goes past it.
        let ten = ok(&mut s, |s| s.upsert(Article::BY_ID, given(10, "c")));
        assert!(ten.inserted());
        assert_eq!(id(&s, ten.key()), 10);
        assert_eq!(s.find_unique(Article::BY_ID, &10), Some(ten.key()));
        let next = ok(&mut s, |s| s.insert(article("d")));
        assert_eq!(id(&s, next), 11, "{engine:?}");
        let fresh = ok(&mut s, |s| s.upsert(Article::BY_ID, given(0, "e")));
        assert!(fresh.inserted());
        assert_eq!(id(&s, fresh.key()), 12, "{engine:?}: id 0 names no record");

        // A refused insert under a given id leaves the counter where it was.
        let taken = Error::UniqueViolation {
            table: "articles",
            columns: &["slug"],
            constraint: "uq_articles_slug",
            value: "'e'".into(),
            existing: fresh.key().raw(),
        };
        assert_fails_unchanged(&mut s, &taken, |s| s.upsert(Article::BY_ID, given(50, "e")));
        let last = ok(&mut s, |s| s.insert(article("f")));
        assert_eq!(id(&s, last), 13, "{engine:?}");
    }
}

/// `==` compares what each profile lets a caller see of the counter: the id the next insert
/// gets. Under SQLite that is the largest id plus one, so a store whose newest record was
/// deleted equals one that never inserted it; under PostgreSQL the sequence remembers.
#[test]
fn equality_compares_the_next_id_each_profile_hands_out() {
    let run = |engine: Engine, slugs: &[&str], delete_last: bool| {
        let mut s = Store::with_engine(schema(), engine);
        let keys: Vec<_> = slugs
            .iter()
            .map(|&x| ok(&mut s, |s| s.insert(article(x))))
            .collect();
        if delete_last {
            ok(&mut s, |s| s.delete(keys[keys.len() - 1]).map(drop));
        }
        s
    };
    // Same key too: the deleted record's slot is free again, so ids 1 and 2 then a delete of 2
    // leave the same records under the same keys as inserting 1 alone.
    let (sqlite_deleted, sqlite_once) = (
        run(Engine::Sqlite, &["a", "b"], true),
        run(Engine::Sqlite, &["a"], false),
    );
    assert!(sqlite_deleted == sqlite_once, "SQLite: both hand out 2 next");
    let (pg_deleted, pg_once) = (
        run(Engine::Postgres, &["a", "b"], true),
        run(Engine::Postgres, &["a"], false),
    );
    assert!(pg_deleted != pg_once, "PostgreSQL: 3 next against 2");
}

#[test]
fn the_counter_is_saved_in_snapshots_and_kept_by_forks() {
    let mut s = Store::with_engine(schema(), Engine::Postgres);
    for slug in ["a", "b", "c"] {
        ok(&mut s, |s| s.insert(article(slug)));
    }
    let c = s.find_unique(Article::BY_SLUG, "c").unwrap();
    ok(&mut s, |s| s.delete(c).map(drop));
    // Same records, different counters (a sequence at 4, SQLite's at 3): not equal.
    let mut fresh = Store::new(schema());
    for slug in ["a", "b"] {
        ok(&mut fresh, |f| f.insert(article(slug)));
    }
    assert!(fresh != s);

    let loaded = Store::from_snapshot(schema(), &s.to_snapshot().unwrap()).unwrap();
    loaded.check_integrity().unwrap();
    assert_eq!(loaded.engine(), Engine::Postgres);
    assert!(loaded == s, "the counter (4) came back with the records");

    let mut fork = s.fork();
    let d = ok(&mut fork, |f| f.insert(article("d")));
    assert_eq!(id(&fork, d), 4);
}

/// A loaded store imitates the engine the saved one did: the snapshot carries the profile
/// (a byte after the relations, written only for a profile other than SQLite's, so a SQLite
/// store's snapshot and the golden files are byte for byte as before).
#[test]
fn a_snapshot_and_its_evolution_keep_the_engine_profile() {
    for (engine, next) in [(Engine::Sqlite, 3), (Engine::Postgres, 4)] {
        let mut s = Store::with_engine(Schema::builder().entity::<Article>().build().unwrap(), engine);
        for slug in ["a", "b", "c"] {
            ok(&mut s, |s| s.insert(article(slug)));
        }
        let c = s.find_unique(Article::BY_SLUG, "c").unwrap();
        ok(&mut s, |s| s.delete(c).map(drop));
        let bytes = s.to_snapshot().unwrap();

        let mut loaded = Store::from_snapshot(s.schema().clone(), &bytes).unwrap();
        assert_eq!(loaded.engine(), engine);
        let d = ok(&mut loaded, |l| l.insert(article("d")));
        assert_eq!(id(&loaded, d), next, "{engine:?}");

        let v2 = Schema::builder().entity::<v2::Article>().build().unwrap();
        let (mut evolved, _) = Store::from_snapshot_evolving(v2, &bytes).unwrap();
        assert_eq!(evolved.engine(), engine, "evolution keeps the profile");
        let d = ok(&mut evolved, |e| {
            e.insert(v2::Article {
                id: 0,
                slug: "d".into(),
                views: 0,
            })
        });
        assert_eq!(evolved.get(d).unwrap().id, next, "{engine:?}");

        // Only the one engine byte may follow the relations.
        let mut longer = bytes.clone();
        longer.push(7);
        relata::__private::reseal(&mut longer);
        let extra = if engine == Engine::Sqlite { 1 } else { 2 };
        assert_eq!(
            Store::from_snapshot(s.schema().clone(), &longer).unwrap_err(),
            relata::SnapshotError::TrailingBytes { extra }
        );
    }
}

/// A snapshot whose id counter is not above every id is refused, naming the record (the same
/// check `check_integrity` makes).
#[test]
fn a_snapshot_with_an_id_at_its_counter_is_refused() {
    let mut s = Store::new(Schema::builder().entity::<Article>().build().unwrap());
    ok(&mut s, |s| s.insert(article("a")));
    let b = ok(&mut s, |s| s.insert(article("b")));
    let mut bytes = s.to_snapshot().unwrap();
    // The body ends with the table's id counter (3, one varint byte): make it 2.
    let last = bytes.len() - 1;
    assert_eq!(bytes[last], 3);
    bytes[last] = 2;
    relata::__private::reseal(&mut bytes);
    let err = Store::from_snapshot(s.schema().clone(), &bytes).unwrap_err();
    assert!(
        err.to_string()
            .contains(&format!("record {} has id Some(2), not in 1..2", b.raw())),
        "{err}"
    );
}

#[test]
fn ddl_declares_the_id_as_each_engine_assigns_it() {
    let sqlite = schema().to_sql(Dialect::Sqlite);
    assert!(sqlite.contains("\"id\" INTEGER PRIMARY KEY,"), "{sqlite}");
    assert!(
        !sqlite.contains("AUTOINCREMENT") && !sqlite.contains("pk_articles"),
        "{sqlite}"
    );
    assert!(sqlite.contains(r#""article_id" INTEGER NOT NULL REFERENCES "articles"("id") ON DELETE CASCADE"#));
    let pg = schema().to_sql(Dialect::Postgres);
    assert!(
        pg.contains("\"id\" BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"),
        "{pg}"
    );
    // An `i32` id is an INTEGER identity column, as PostgreSQL's `serial` would be.
    assert!(
        pg.contains(
            "CREATE TABLE \"comments\" (\n  \"id\" INTEGER GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
        ),
        "{pg}"
    );

    // The SQLite DDL works as relata does: ids assigned, one row per id, foreign keys on it.
    let conn = Connection::open_in_memory().unwrap();
    conn.execute_batch("PRAGMA foreign_keys = ON;").unwrap();
    conn.execute_batch(&sqlite).unwrap();
    conn.execute("INSERT INTO articles (slug) VALUES ('a')", [])
        .unwrap();
    conn.execute("INSERT INTO comments (article_id, body) VALUES (1, 'hi')", [])
        .unwrap();
    assert!(conn
        .execute("INSERT INTO comments (article_id, body) VALUES (2, 'no')", [])
        .is_err());
    let dup = conn.execute("INSERT INTO articles (id, slug) VALUES (1, 'b')", []);
    assert!(dup.is_err(), "the id is the primary key");
}

/// A JSON export names a record of an id table by its id (a number, as a dump does), and a
/// fixture load keeps the ids it gives: they survive a round trip. The counter ends above the
/// largest id (JSON carries no counter); an id a record of the store already holds is the
/// primary key's unique violation. A fixture without ids still gets the next ones.
#[test]
fn ids_survive_a_json_round_trip() {
    for engine in [Engine::Sqlite, Engine::Postgres] {
        let mut s = Store::with_engine(schema(), engine);
        let keys: Vec<_> = ["a", "b", "c"]
            .map(|x| ok(&mut s, |s| s.insert(article(x))))
            .into();
        ok(&mut s, |s| s.delete(keys[1]).map(drop));
        ok(&mut s, |s| {
            s.insert(Comment {
                id: 0,
                article: keys[2],
                body: "hi".into(),
            })
        });
        let json = s.to_json();
        let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(doc["articles"][1]["id"], 3, "{json}");
        assert_eq!(doc["comments"][0]["article_id"], 3, "{json}");

        let mut loaded = Store::with_engine(schema(), engine);
        ok(&mut loaded, |l| l.insert_json(&json).map_err(|e| panic!("{e}")));
        let c = loaded.find_unique(Article::BY_ID, &3).unwrap();
        assert_eq!(loaded.get(c).unwrap().slug, "c");
        assert_eq!(loaded.find_unique(Article::BY_ID, &2), None);
        let comment = loaded.query::<Comment>().first().unwrap();
        assert_eq!(loaded.get(comment).unwrap().article, c);
        let d = ok(&mut loaded, |l| l.insert(article("d")));
        assert_eq!(id(&loaded, d), 4, "{engine:?}: above the largest id");

        let err = loaded
            .insert_json(r#"{"articles": [{"id": 3, "slug": "z"}]}"#)
            .unwrap_err();
        match err {
            relata::FixtureError::Constraint {
                path,
                error: Error::UniqueViolation { constraint, .. },
            } => assert_eq!((path.as_str(), constraint), ("articles[0].id", "pk_articles")),
            other => panic!("{other:?}"),
        }
    }
    let (named, _) = Store::from_json(
        schema(),
        r#"{"articles": [{"id": "x", "slug": "a"}, {"slug": "b"}]}"#,
    )
    .unwrap();
    let b = named.find_unique(Article::BY_SLUG, "b").unwrap();
    assert_eq!(id(&named, b), 2, "names and left-out ids get the next ids");
}

/// A note whose key to its article is checked at commit.
#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "notes")]
pub struct Note {
    #[relata(deferrable)]
    article: Key<Article>,
}

/// Inside a transaction a deferred key may name an article deleted in it: the export has no
/// id to show for it and writes its key, rather than `null` (which lost the reference).
#[test]
fn a_key_to_a_record_deleted_in_the_open_transaction_is_exported_as_its_key() {
    let schema = Schema::builder()
        .entity::<Article>()
        .entity::<Note>()
        .build()
        .unwrap();
    let mut s = Store::new(schema);
    let a = s.insert(article("a")).unwrap();
    s.insert(Note { article: a }).unwrap();
    s.begin().unwrap();
    s.delete(a).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&s.to_json()).unwrap();
    assert_eq!(doc["notes"][0]["article_id"], a.raw().to_string());
    s.rollback().unwrap();
}

mod v2 {
    /// `Article` with a field added after a snapshot was saved.
    #[derive(relata::Entity, Clone, Debug, PartialEq)]
    #[relata(table = "articles")]
    pub struct Article {
        #[relata(id)]
        pub id: i64,
        #[relata(unique)]
        pub slug: String,
        #[relata(default = 0)]
        pub views: i64,
    }
}

#[test]
fn an_evolved_snapshot_keeps_the_ids_and_the_counter() {
    let mut old = Store::new(Schema::builder().entity::<Article>().build().unwrap());
    for slug in ["a", "b", "c"] {
        ok(&mut old, |s| s.insert(article(slug)));
    }
    let c = old.find_unique(Article::BY_SLUG, "c").unwrap();
    ok(&mut old, |s| s.delete(c).map(drop));

    let schema = Schema::builder().entity::<v2::Article>().build().unwrap();
    let (evolved, _) = Store::from_snapshot_evolving(schema.clone(), &old.to_snapshot().unwrap()).unwrap();
    evolved.check_integrity().unwrap();
    // The same history on the new schema: records a (1) and b (2), the counter at 4.
    let mut expected = Store::new(schema);
    let new = |slug: &str| v2::Article {
        id: 0,
        slug: slug.into(),
        views: 0,
    };
    for slug in ["a", "b", "c"] {
        ok(&mut expected, |s| s.insert(new(slug)));
    }
    let c = expected.find_unique(v2::Article::BY_SLUG, "c").unwrap();
    ok(&mut expected, |s| s.delete(c).map(drop));
    assert!(evolved == expected);
    let b = evolved.find_unique(v2::Article::BY_ID, &2).unwrap();
    assert_eq!(evolved.get(b).unwrap().slug, "b");
}

/// The PostgreSQL profile next to PostgreSQL 15 running relata's exported DDL (an identity
/// column): the same inserts and deletes give the same ids, since both hand out a sequence
/// that never goes back. Then the documented difference (docs/SEMANTICS.md A.15), pinned: a
/// rolled-back insert and a failed one use up PostgreSQL's sequence values (a gap), while
/// relata gives its counter back, so the next id differs.
#[test]
fn postgres_profile_hands_out_the_ids_postgresql_does() {
    let Some(mut pg) = pg::connect("ids::postgres_profile_hands_out_the_ids_postgresql_does") else {
        return;
    };
    pg.client
        .batch_execute(&schema().to_sql(Dialect::Postgres))
        .unwrap();
    let insert = |c: &mut postgres::Client, slug: &str| -> Result<i64, postgres::Error> {
        let row = c.query_one("INSERT INTO articles (slug) VALUES ($1) RETURNING id", &[&slug])?;
        Ok(row.get(0))
    };
    // reuse_run's steps: insert a, b, c; delete c (the newest); insert d; delete b; insert e;
    // delete e and d; insert f.
    let mut postgres_ids: Vec<i64> = Vec::new();
    for slug in ["a", "b", "c"] {
        postgres_ids.push(insert(&mut pg.client, slug).unwrap());
    }
    let delete = |c: &mut postgres::Client, id: i64| {
        c.execute("DELETE FROM articles WHERE id = $1", &[&id]).unwrap();
    };
    delete(&mut pg.client, postgres_ids[2]);
    postgres_ids.push(insert(&mut pg.client, "d").unwrap());
    delete(&mut pg.client, postgres_ids[1]);
    postgres_ids.push(insert(&mut pg.client, "e").unwrap());
    delete(&mut pg.client, postgres_ids[4]);
    delete(&mut pg.client, postgres_ids[3]);
    postgres_ids.push(insert(&mut pg.client, "f").unwrap());

    let mut s = Store::with_engine(schema(), Engine::Postgres);
    let relata_ids = reuse_run(&mut s, None);
    assert_eq!(postgres_ids, [1, 2, 3, 4, 5, 6]);
    assert_eq!(relata_ids, postgres_ids, "a sequence in both");

    // A rolled-back insert, then one refused by the unique slug, then one that succeeds.
    pg.client.batch_execute("BEGIN").unwrap();
    let rolled_back_pg = insert(&mut pg.client, "g").unwrap();
    pg.client.batch_execute("ROLLBACK").unwrap();
    let refused = insert(&mut pg.client, "a").unwrap_err();
    assert_eq!(refused.code(), Some(&postgres::error::SqlState::UNIQUE_VIOLATION));
    let next_pg = insert(&mut pg.client, "h").unwrap();

    s.begin().unwrap();
    let g = ok(&mut s, |s| s.insert(article("g")));
    let rolled_back_relata = id(&s, g);
    s.rollback().unwrap();
    let err = s.insert(article("a")).unwrap_err();
    assert_eq!(err.sqlstate(), Some(relata::SqlState::UniqueViolation));
    let h = ok(&mut s, |s| s.insert(article("h")));

    assert_eq!(
        (rolled_back_pg, rolled_back_relata),
        (7, 7),
        "the same id inside the transaction"
    );
    // The difference A.15 documents: PostgreSQL's nextval is not rolled back, so 7 (rolled
    // back) and 8 (the refused insert's) are gaps; relata gives its counter back both times.
    assert_eq!(next_pg, 9, "PostgreSQL leaves a gap");
    assert_eq!(id(&s, h), 7, "relata: the counter came back");
    // What never differs: no id a committed record held (1 to 6) is handed out again.
    assert!(next_pg > 6 && id(&s, h) > 6);
}

#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "tickets")]
pub struct Ticket {
    #[relata(id)]
    id: u64,
    name: String,
}

/// Past the largest id its column's type holds, PostgreSQL's identity sequence refuses the
/// next value (2200H), whatever the Rust field's type: an `i64` or a `u64` field's `BIGINT`
/// stops at `i64::MAX`, an `i32` field's `INTEGER` at `i32::MAX`. `Engine::Postgres` reports
/// it as the server does; the failed insert changes nothing, and an id given still goes in.
/// `Engine::Sqlite` keeps its own behaviour (docs/ENGINES.md): the `i64` and `i32` fields
/// cannot hold the next id (`CapacityExceeded`), a `u64` field takes `i64::MAX + 1`.
#[test]
fn postgres_profile_refuses_an_id_past_its_sequence_maximum_as_postgres_does() {
    let schema = Schema::builder()
        .entity::<Article>()
        .entity::<Comment>()
        .entity::<Ticket>()
        .build()
        .unwrap();
    let exhausted = |table, column, max| Error::IdsExhausted { table, column, max };
    for engine in [Engine::Postgres, Engine::Sqlite] {
        let mut s = Store::with_engine(schema.clone(), engine);
        let last = Article {
            id: i64::MAX,
            slug: "last".into(),
        };
        let a = s.upsert(Article::BY_ID, last).unwrap().key();
        let ticket = |id, name: &str| Ticket {
            id,
            name: name.into(),
        };
        s.upsert(Ticket::BY_ID, ticket(i64::MAX as u64, "last")).unwrap();
        let comment = |id| Comment {
            id,
            article: a,
            body: "x".into(),
        };
        s.upsert(Comment::BY_ID, comment(i32::MAX)).unwrap();
        let pg = engine == Engine::Postgres;
        let capacity = Error::CapacityExceeded {
            what: "ids: the next id does not fit the id field's type",
        };
        let on_article = if pg {
            exhausted("articles", "id", i64::MAX)
        } else {
            capacity.clone()
        };
        assert_fails_unchanged(&mut s, &on_article, |s| s.insert(article("next")));
        let on_comment = if pg {
            exhausted("comments", "id", i64::from(i32::MAX))
        } else {
            capacity.clone()
        };
        assert_fails_unchanged(&mut s, &on_comment, |s| s.insert(comment(0)));
        if pg {
            let on_ticket = exhausted("tickets", "id", i64::MAX);
            assert_fails_unchanged(&mut s, &on_ticket, |s| s.insert(ticket(0, "next")));
            assert_eq!(on_ticket.sqlstate().map(|c| c.code()), Some("2200H"));
            // An id given is no sequence's value: it still goes in.
            s.upsert(Ticket::BY_ID, ticket(7, "given")).unwrap();
        } else {
            let k = s.insert(ticket(0, "next")).unwrap();
            assert_eq!(s.get(k).unwrap().id, i64::MAX as u64 + 1);
        }
        s.check_integrity().unwrap();
    }

    let Some(mut pg) =
        pg::connect("postgres_profile_refuses_an_id_past_its_sequence_maximum_as_postgres_does")
    else {
        return;
    };
    pg.client
        .batch_execute(&schema.to_sql(Dialect::Postgres))
        .unwrap();
    for (table, max, insert) in [
        (
            "articles",
            i64::MAX,
            "INSERT INTO articles (slug) VALUES ('next')",
        ),
        ("tickets", i64::MAX, "INSERT INTO tickets (name) VALUES ('next')"),
    ] {
        pg.client
            .batch_execute(&format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), {max})"
            ))
            .unwrap();
        let e = pg.client.batch_execute(insert).unwrap_err();
        let db = e.as_db_error().unwrap();
        let ours = exhausted(table, "id", max);
        assert_eq!(
            (db.code().code(), format!("ERROR: {}", db.message())),
            ("2200H", ours.message(Engine::Postgres))
        );
    }
}
