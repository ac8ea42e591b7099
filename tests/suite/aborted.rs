//! An error inside a transaction: SQLite rolls back the statement and the transaction goes
//! on; PostgreSQL aborts the transaction (SQLSTATE 25P02 for every later statement until
//! ROLLBACK or ROLLBACK TO SAVEPOINT, and COMMIT answers ROLLBACK). Each scenario runs on
//! relata under both profiles, and on the real engines (docs/ENGINES.md).

use crate::common::{assert_fails_unchanged, pg};
use relata::{Dialect, Engine, Entity, Error, FaultPoint, Key, ManyToMany, Schema, SqlState, Store};
use rusqlite::Connection;

#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "tags")]
struct Tag {
    #[relata(unique)]
    name: String,
}

#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "articles")]
struct Article {
    title: String,
}

const ARTICLE_TAGS: ManyToMany<Article, Tag> = ManyToMany::new("article_tags", "tags", "articles");

/// A deferrable unique: a duplicate is found at commit.
#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "handles")]
struct Handle {
    #[relata(unique(deferrable))]
    name: String,
}

fn schema() -> Schema {
    Schema::builder()
        .entity::<Tag>()
        .entity::<Article>()
        .entity::<Handle>()
        .relation(ARTICLE_TAGS)
        .build()
        .unwrap()
}

fn tag(name: &str) -> Tag {
    Tag { name: name.into() }
}

/// A store with the tag "rust" and one article.
fn seeded(engine: Engine) -> (Store, Key<Tag>, Key<Article>) {
    let mut s = Store::with_engine(schema(), engine);
    let rust = s.insert(tag("rust")).unwrap();
    let a1 = s.insert(Article { title: "one".into() }).unwrap();
    (s, rust, a1)
}

/// The trial's pattern (try the insert; on a unique violation use the existing row), in a
/// transaction: what the link after the caught failure and the commit give.
fn insert_or_existing_then_link(engine: Engine) -> (Result<(), Error>, Result<(), Error>, Store) {
    let (mut s, _, a1) = seeded(engine);
    s.begin().unwrap();
    s.insert(tag("go")).unwrap();
    let t = match s.insert(tag("rust")) {
        Ok(k) => k,
        Err(Error::UniqueViolation { .. }) => s.find_unique(Tag::BY_NAME, "rust").unwrap(),
        Err(e) => panic!("{e}"),
    };
    let link = s.link(ARTICLE_TAGS, a1, t);
    let commit = s.commit();
    s.check_integrity().unwrap();
    (link, commit, s)
}

const SEED: &str =
    "INSERT INTO tags (id, name) VALUES (1, 'rust'); INSERT INTO articles (id, title) VALUES (1, 'one');";

#[test]
fn sqlite_profile_goes_on_after_an_error_in_a_transaction_as_sqlite_does() {
    let (link, commit, s) = insert_or_existing_then_link(Engine::Sqlite);
    assert_eq!((link, commit), (Ok(()), Ok(())));
    assert_eq!(s.count::<Tag>(), 2);
    assert_eq!(
        s.rights(ARTICLE_TAGS, s.keys::<Article>().next().unwrap()).len(),
        1
    );

    let db = Connection::open_in_memory().unwrap();
    db.execute_batch("PRAGMA foreign_keys = ON;").unwrap();
    db.execute_batch(&schema().to_sql(Dialect::Sqlite)).unwrap();
    db.execute_batch(SEED).unwrap();
    db.execute_batch("BEGIN; INSERT INTO tags (id, name) VALUES (2, 'go');")
        .unwrap();
    db.execute_batch("INSERT INTO tags (id, name) VALUES (3, 'rust')")
        .unwrap_err();
    db.execute_batch("INSERT INTO article_tags (article_id, tag_id) VALUES (1, 1); COMMIT;")
        .unwrap();
    let count = |sql: &str| db.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap();
    assert_eq!(count("SELECT count(*) FROM tags"), 2);
    assert_eq!(count("SELECT count(*) FROM article_tags"), 1);
}

#[test]
fn postgres_profile_aborts_the_transaction_at_the_first_error_as_postgres_does() {
    let (link, commit, s) = insert_or_existing_then_link(Engine::Postgres);
    let Err(Error::TransactionAborted {
        statement,
        table,
        cause,
    }) = &link
    else {
        panic!("the link should be refused: {link:?}")
    };
    assert_eq!((*statement, *table), ("insert", "tags"));
    assert!(matches!(**cause, Error::UniqueViolation { .. }), "{cause}");
    let err = link.as_ref().unwrap_err();
    assert_eq!(err.sqlstate(), Some(SqlState::InFailedSqlTransaction));
    assert_eq!(SqlState::InFailedSqlTransaction.code(), "25P02");
    assert_eq!(
        err.message(Engine::Postgres),
        "ERROR: current transaction is aborted, commands ignored until end of transaction block"
    );
    assert!(err.to_string().contains("insert on tags failed first"), "{err}");
    // The commit rolled everything back, "go" included, and closed the transaction.
    assert!(
        matches!(commit, Err(Error::TransactionAborted { .. })),
        "{commit:?}"
    );
    assert!(!s.in_transaction());
    assert_eq!(s.count::<Tag>(), 1);
    assert_eq!(
        s.rights(ARTICLE_TAGS, s.keys::<Article>().next().unwrap()).len(),
        0
    );

    let Some(mut pg) =
        pg::connect("postgres_profile_aborts_the_transaction_at_the_first_error_as_postgres_does")
    else {
        return;
    };
    pg.client
        .batch_execute(&schema().to_sql(Dialect::Postgres))
        .unwrap();
    pg.client.batch_execute(SEED).unwrap();
    let c = &mut pg.client;
    c.batch_execute("BEGIN; INSERT INTO tags (id, name) VALUES (2, 'go');")
        .unwrap();
    let code = |c: &mut postgres::Client, sql: &str| {
        let e = c.batch_execute(sql).expect_err(sql);
        let db = e.as_db_error().unwrap_or_else(|| panic!("{e}"));
        (db.code().code().to_string(), db.message().to_string())
    };
    assert_eq!(
        code(c, "INSERT INTO tags (id, name) VALUES (3, 'rust')").0,
        "23505"
    );
    let aborted = code(c, "INSERT INTO article_tags (article_id, tag_id) VALUES (1, 1)");
    assert_eq!(
        aborted,
        (
            "25P02".to_string(),
            "current transaction is aborted, commands ignored until end of transaction block".to_string()
        )
    );
    assert_eq!(code(c, "SELECT 1").0, "25P02");
    // COMMIT is no error: the server answers it with ROLLBACK.
    c.batch_execute("COMMIT").unwrap();
    let count = |c: &mut postgres::Client, sql: &str| c.query_one(sql, &[]).unwrap().get::<_, i64>(0);
    assert_eq!(count(c, "SELECT count(*) FROM tags"), 1);
    assert_eq!(count(c, "SELECT count(*) FROM article_tags"), 0);
    // A driver's commit (here the postgres crate's, as sqlx's) reports success.
    let mut tx = c.transaction().unwrap();
    tx.batch_execute("INSERT INTO tags (id, name) VALUES (2, 'go')")
        .unwrap();
    tx.batch_execute("INSERT INTO tags (id, name) VALUES (3, 'rust')")
        .unwrap_err();
    tx.commit().unwrap();
    assert_eq!(count(c, "SELECT count(*) FROM tags"), 1);
}

/// Savepoints in an aborted transaction: SAVEPOINT and RELEASE are refused, ROLLBACK TO a
/// savepoint taken before the failure ends the abort and keeps what came before it.
/// A statement tried in an aborted transaction.
type Op = fn(&mut Store) -> Result<(), Error>;

fn first<E: Entity>(s: &Store) -> Key<E> {
    s.keys::<E>().next().unwrap()
}

#[test]
fn postgres_profile_recovers_by_rolling_back_to_a_savepoint_as_postgres_does() {
    let (mut s, _, a1) = seeded(Engine::Postgres);
    s.begin().unwrap();
    let go = s.insert(tag("go")).unwrap();
    let sp1 = s.savepoint().unwrap();
    let sp2 = s.savepoint().unwrap();
    s.insert(tag("zig")).unwrap();
    s.insert(tag("rust")).unwrap_err();
    let aborted = s.insert(tag("c")).unwrap_err();
    assert!(matches!(aborted, Error::TransactionAborted { .. }), "{aborted}");
    // Every refusal changes nothing, the abort included.
    let refused: [Op; 7] = [
        |s| s.insert(tag("c")).map(drop),
        |s| s.link(ARTICLE_TAGS, first::<Article>(s), first::<Tag>(s)),
        |s| s.savepoint().map(drop),
        |s| s.update(first::<Tag>(s), |t| t.name = "x".into()),
        |s| s.delete(first::<Article>(s)).map(drop),
        |s| s.transaction(|s| s.insert(tag("d"))).map(drop),
        |s| s.upsert(Tag::BY_NAME, tag("e")).map(drop),
    ];
    for op in refused {
        assert_fails_unchanged(&mut s, &aborted, op);
    }
    assert_fails_unchanged(&mut s, &aborted, |s| s.release(&sp2));
    // Fallible reads are refused too; the reads that answer an Option read the state as it
    // stands (the failed statement undone).
    assert_eq!(s.try_get(go).map(drop), Err(aborted.clone()));
    assert_eq!(s.try_get_owned(go).map(drop), Err(aborted.clone()));
    assert_eq!(s.explain_delete(a1).map(drop), Err(aborted.clone()));
    assert!(s.get(go).is_some());
    assert!(s.find_unique(Tag::BY_NAME, "zig").is_some());
    // ROLLBACK TO a savepoint taken before the failure: usable again.
    s.rollback_to(&sp1).unwrap();
    s.insert(tag("c")).unwrap();
    s.release(&sp1).unwrap();
    s.commit().unwrap();
    let mut names: Vec<String> = s.iter::<Tag>().map(|(_, t)| t.name.to_string()).collect();
    names.sort();
    assert_eq!(names, ["c", "go", "rust"]);
    s.check_integrity().unwrap();

    let Some(mut pg) =
        pg::connect("postgres_profile_recovers_by_rolling_back_to_a_savepoint_as_postgres_does")
    else {
        return;
    };
    let c = &mut pg.client;
    c.batch_execute(&schema().to_sql(Dialect::Postgres)).unwrap();
    c.batch_execute(SEED).unwrap();
    c.batch_execute("BEGIN; INSERT INTO tags (id, name) VALUES (2, 'go'); SAVEPOINT sp1; SAVEPOINT sp2;")
        .unwrap();
    c.batch_execute("INSERT INTO tags (id, name) VALUES (3, 'zig')")
        .unwrap();
    c.batch_execute("INSERT INTO tags (id, name) VALUES (4, 'rust')")
        .unwrap_err();
    for refused in ["SAVEPOINT other", "RELEASE SAVEPOINT sp2", "SELECT 1"] {
        let e = c.batch_execute(refused).expect_err(refused);
        assert_eq!(e.code().map(|c| c.code()), Some("25P02"), "{refused}");
    }
    c.batch_execute(
        "ROLLBACK TO SAVEPOINT sp1; INSERT INTO tags (id, name) VALUES (5, 'c'); RELEASE SAVEPOINT sp1; COMMIT;",
    )
    .unwrap();
    let rows = c.query("SELECT name FROM tags ORDER BY name", &[]).unwrap();
    let names: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    assert_eq!(names, ["c", "go", "rust"]);
}

/// Outside a transaction every statement commits on its own: a failure aborts nothing.
#[test]
fn postgres_profile_autocommit_goes_on_after_an_error() {
    let (mut s, ..) = seeded(Engine::Postgres);
    s.insert(tag("rust")).unwrap_err();
    s.insert(tag("go")).unwrap();
    s.begin().unwrap();
    s.insert(tag("zig")).unwrap();
    s.commit().unwrap();
    assert_eq!(s.count::<Tag>(), 3);
}

/// Errors PostgreSQL would not raise do not abort: a write to a deleted row (0 rows there),
/// unlinking an absent pair, `link_if_absent` of a present one (ON CONFLICT DO NOTHING).
#[test]
fn postgres_profile_is_not_aborted_by_what_postgres_does_without_an_error() {
    let (mut s, rust, a1) = seeded(Engine::Postgres);
    let gone = s.insert(tag("gone")).unwrap();
    s.delete(gone).unwrap();
    s.begin().unwrap();
    assert!(matches!(
        s.update(gone, |t| t.name = "x".into()),
        Err(Error::Stale { .. })
    ));
    assert!(matches!(
        s.unlink(ARTICLE_TAGS, a1, rust),
        Err(Error::NotLinked { .. })
    ));
    s.link(ARTICLE_TAGS, a1, rust).unwrap();
    assert!(!s.link_if_absent(ARTICLE_TAGS, a1, rust).unwrap());
    s.insert(tag("go")).unwrap();
    s.commit().unwrap();
    assert_eq!(s.count::<Tag>(), 2);
}

/// The closure API: a closure that catches a failure and returns `Ok` gets the abort back,
/// and nothing it did stays; nested in a transaction, only its savepoint is rolled back and
/// the enclosing transaction goes on (as a driver's failed RELEASE SAVEPOINT, then ROLLBACK
/// TO SAVEPOINT on drop).
#[test]
fn postgres_profile_transaction_closures_report_a_caught_failure() {
    let (mut s, ..) = seeded(Engine::Postgres);
    let out = s.transaction(|s| {
        s.insert(tag("go"))?;
        let _ = s.insert(tag("rust"));
        Ok(())
    });
    assert!(
        matches!(
            out,
            Err(Error::TransactionAborted {
                statement: "insert",
                ..
            })
        ),
        "{out:?}"
    );
    assert!(!s.in_transaction());
    assert_eq!(s.count::<Tag>(), 1);

    s.begin().unwrap();
    s.insert(tag("go")).unwrap();
    let nested = s.transaction(|s| {
        s.insert(tag("zig"))?;
        let _ = s.insert(tag("rust"));
        s.insert(tag("c")).map(drop)
    });
    assert!(
        matches!(nested, Err(Error::TransactionAborted { .. })),
        "{nested:?}"
    );
    let caught = s.transaction(|s| {
        let _ = s.insert(tag("rust"));
        Ok(())
    });
    assert!(
        matches!(caught, Err(Error::TransactionAborted { .. })),
        "{caught:?}"
    );
    s.insert(tag("d")).unwrap(); // the enclosing transaction was not aborted
    s.commit().unwrap();
    let mut names: Vec<String> = s.iter::<Tag>().map(|(_, t)| t.name.to_string()).collect();
    names.sort();
    assert_eq!(names, ["d", "go", "rust"]);

    // Under SQLite the caught failure is just caught.
    let (mut s, ..) = seeded(Engine::Sqlite);
    s.transaction(|s| {
        s.insert(tag("go"))?;
        let _ = s.insert(tag("rust"));
        s.insert(tag("c")).map(drop)
    })
    .unwrap();
    assert_eq!(s.count::<Tag>(), 3);
}

/// A deferred constraint that fails at commit: the commit fails and rolls back, as in both
/// engines; no transaction is left, aborted or not.
#[test]
fn postgres_profile_a_failed_deferred_check_at_commit_ends_the_transaction() {
    let mut s = Store::with_engine(schema(), Engine::Postgres);
    s.insert(Handle { name: "a".into() }).unwrap();
    s.begin().unwrap();
    s.insert(Handle { name: "a".into() }).unwrap(); // deferred: checked at commit
    assert!(matches!(s.commit(), Err(Error::CommitFailed { .. })));
    assert!(!s.in_transaction());
    s.begin().unwrap();
    s.insert(Handle { name: "b".into() }).unwrap();
    s.commit().unwrap();
    assert_eq!(s.count::<Handle>(), 2);
}

/// An injected failure is a failure like any other: it aborts the transaction. A commit
/// fault does not fire in an aborted transaction (the commit never gets that far) and stays
/// pending.
#[test]
fn postgres_profile_an_injected_fault_aborts_the_transaction() {
    let (mut s, ..) = seeded(Engine::Postgres);
    let down = Error::Unavailable { reason: "down" };
    s.begin().unwrap();
    s.faults().inject(FaultPoint::NthWrite(2), down.clone());
    s.insert(tag("go")).unwrap();
    assert_eq!(s.insert(tag("zig")), Err(down.clone()));
    let refused = s.insert(tag("c")).unwrap_err();
    assert!(
        matches!(&refused, Error::TransactionAborted { cause, .. } if **cause == down),
        "{refused}"
    );
    s.faults().inject(FaultPoint::Commit, down.clone());
    assert!(matches!(s.commit(), Err(Error::TransactionAborted { .. })));
    assert_eq!(s.faults().clear().len(), 1);
    assert_eq!(s.count::<Tag>(), 1);

    // A table fault inside a cascade or a constraint error injected by `faults().run`.
    s.begin().unwrap();
    let out = s
        .faults()
        .run(FaultPoint::next_write_to::<Tag>(), down.clone(), |s| {
            let first = s.insert(tag("go"));
            (first, s.insert(tag("zig")))
        })
        .unwrap();
    assert_eq!(out.0, Err(down));
    assert!(
        matches!(out.1, Err(Error::TransactionAborted { .. })),
        "{:?}",
        out.1
    );
    s.rollback().unwrap();
    s.insert(tag("go")).unwrap();
}

/// A fork of a store in an aborted transaction is aborted too; each ends its own.
#[test]
fn postgres_profile_a_fork_keeps_the_abort() {
    let (mut s, ..) = seeded(Engine::Postgres);
    s.begin().unwrap();
    s.insert(tag("rust")).unwrap_err();
    let mut fork = s.fork();
    assert!(matches!(
        fork.insert(tag("go")),
        Err(Error::TransactionAborted { .. })
    ));
    fork.rollback().unwrap();
    fork.insert(tag("go")).unwrap();
    assert!(matches!(
        s.insert(tag("go")),
        Err(Error::TransactionAborted { .. })
    ));
}

/// A fixture mark taken before the transaction: resetting to it ends the transaction and
/// its abort.
#[test]
fn postgres_profile_reset_to_a_mark_ends_the_abort() {
    let (mut s, ..) = seeded(Engine::Postgres);
    let mark = s.mark().unwrap();
    s.begin().unwrap();
    s.insert(tag("rust")).unwrap_err();
    s.reset(&mark).unwrap();
    assert!(!s.in_transaction());
    s.begin().unwrap();
    s.insert(tag("go")).unwrap();
    s.commit().unwrap();
    s.reset(&mark).unwrap();
    assert_eq!(s.count::<Tag>(), 1);
}

/// A JSON load or a factory call runs in a savepoint of its own inside a transaction and
/// undoes itself when it fails: the transaction is not aborted.
#[test]
fn postgres_profile_a_failed_load_or_factory_call_does_not_abort_the_transaction() {
    let (mut s, ..) = seeded(Engine::Postgres);
    s.begin().unwrap();
    s.insert(tag("go")).unwrap();
    let err = s.insert_json(r#"{"tags": [{"name": "zig"}, {"name": "rust"}]}"#);
    assert!(err.is_err());
    let mut factories = relata::Factories::new().define(|_| Ok(tag("rust")));
    assert!(factories.create::<Tag>(&mut s).is_err());
    s.insert(tag("c")).unwrap();
    s.commit().unwrap();
    let mut names: Vec<String> = s.iter::<Tag>().map(|(_, t)| t.name.to_string()).collect();
    names.sort();
    assert_eq!(names, ["c", "go", "rust"]);
}

#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "writers")]
struct Writer {
    #[relata(unique)]
    name: String,
}

#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "drafts")]
struct Draft {
    title: String,
    #[relata(back = "drafts")]
    writer: Option<Key<Writer>>,
}

/// The relationship writes that can answer without a change (a child already there, a child
/// not there) and a fault-injected call are statements too: PostgreSQL refuses each UPDATE
/// (and the SAVEPOINT a fault run opens) in an aborted transaction.
#[test]
fn postgres_profile_refuses_the_writes_that_change_nothing_and_a_fault_run() {
    let schema = Schema::builder()
        .entity::<Writer>()
        .entity::<Draft>()
        .build()
        .unwrap();
    let mut s = Store::with_engine(schema, Engine::Postgres);
    let ann = s.insert(Writer { name: "ann".into() }).unwrap();
    let bob = s.insert(Writer { name: "bob".into() }).unwrap();
    let d = s
        .insert(Draft {
            title: "d".into(),
            writer: Some(ann),
        })
        .unwrap();
    s.begin().unwrap();
    assert!(s.insert(Writer { name: "ann".into() }).is_err());
    let aborted = |r: Result<(), Error>| {
        let e = r.unwrap_err();
        assert_eq!(e.sqlstate(), Some(SqlState::InFailedSqlTransaction), "{e}");
    };
    aborted(s.add_child_if_absent(Draft::WRITER, d, ann).map(drop));
    aborted(s.remove_child(Draft::WRITER, d, bob));
    let run = s.faults().run(
        FaultPoint::NthWrite(1),
        Error::Unavailable { reason: "down" },
        |s| s.insert(Writer { name: "cy".into() }).map(drop),
    );
    aborted(run.and_then(|r| r));
    s.rollback().unwrap();
    assert_eq!(s.add_child_if_absent(Draft::WRITER, d, ann), Ok(false));
    s.check_integrity().unwrap();
}
