//! Values the store fills: `created_at` / `updated_at` from the store's clock, and declared
//! defaults (`default = expr`) for fields a JSON fixture leaves out, written to the DDL.

use std::time::{Duration, SystemTime};

use chrono::{DateTime, NaiveDateTime, Utc};
use relata::{Clock, Column, Dialect, Entity, Error, Schema, Stamp, Store, Value};
use rusqlite::Connection;

#[derive(Column, Clone, Copy, Debug, PartialEq)]
#[relata(rename_all = "lowercase")]
pub enum State {
    Draft,
    Live,
}

#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "docs")]
pub struct Doc {
    #[relata(unique)]
    title: String,
    #[relata(default = State::Draft)]
    state: State,
    #[relata(default = 3)]
    rank: i32,
    #[relata(default = String::from("it's"))]
    note: String,
    #[relata(created_at)]
    created_at: DateTime<Utc>,
    #[relata(updated_at)]
    updated_at: NaiveDateTime,
    #[relata(updated_at)]
    touched: time::OffsetDateTime,
}

fn schema() -> Schema {
    Schema::builder().entity::<Doc>().build().unwrap()
}

fn doc(title: &str) -> Doc {
    Doc {
        title: title.into(),
        state: State::Live,
        rank: 0,
        note: String::new(),
        created_at: DateTime::UNIX_EPOCH,
        updated_at: NaiveDateTime::default(),
        touched: time::OffsetDateTime::UNIX_EPOCH,
    }
}

fn at(secs: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
}

/// (created_at, updated_at, touched) in seconds since 1970.
fn stamps(store: &Store, k: relata::Key<Doc>) -> (i64, i64, i64) {
    let d = store.get(k).unwrap();
    (
        d.created_at.timestamp(),
        d.updated_at.and_utc().timestamp(),
        d.touched.unix_timestamp(),
    )
}

#[test]
fn the_default_clock_stands_at_2000_and_fills_every_stamp_on_insert() {
    let mut s = Store::new(schema());
    let k = s.insert(doc("a")).unwrap();
    assert_eq!(stamps(&s, k), (946_684_800, 946_684_800, 946_684_800));
    s.check_integrity().unwrap();
}

#[test]
fn created_at_is_kept_and_updated_at_follows_the_clock_on_every_rewrite() {
    let mut s = Store::new(schema());
    let clock = Clock::manual(at(100));
    s.set_clock(clock.clone());
    let k = s.insert(doc("a")).unwrap();
    clock.set(at(200));
    // The caller's own created_at is not written: the store owns the field.
    s.update(k, |d| d.created_at = DateTime::UNIX_EPOCH).unwrap();
    assert_eq!(stamps(&s, k), (100, 200, 200));
    clock.set(at(300));
    s.replace(k, doc("a")).unwrap();
    assert_eq!(stamps(&s, k), (100, 300, 300));
    clock.set(at(400));
    let up = s.upsert(Doc::BY_TITLE, doc("a")).unwrap();
    assert!(!up.inserted());
    assert_eq!(stamps(&s, k), (100, 400, 400));
    let fresh = s.upsert(Doc::BY_TITLE, doc("b")).unwrap();
    assert_eq!(stamps(&s, fresh.key()), (400, 400, 400));
    s.check_integrity().unwrap();
}

#[test]
fn stamps_go_through_the_journal_rollback_undoes_them_and_a_fork_has_its_own_clock() {
    let mut s = Store::new(schema());
    let clock = Clock::manual(at(10));
    s.set_clock(clock.clone());
    let k = s.insert(doc("a")).unwrap();
    let before = s.clone();
    clock.set(at(20));
    let err = s.transaction(|s| {
        s.update(k, |d| d.rank = 9)?;
        assert_eq!(stamps(s, k).1, 20);
        Err::<(), _>(Error::NotFound {
            table: "docs",
            key: k.raw(),
        })
    });
    assert!(err.is_err());
    assert_eq!(s, before);
    assert_eq!(stamps(&s, k), (10, 10, 10));
    assert_eq!(s.clock().now(), at(20), "a rollback does not move time back");
    // A fork starts at its store's time, then each clock goes its own way.
    let mut fork = s.fork();
    clock.set(at(30));
    let f = fork.insert(doc("b")).unwrap();
    assert_eq!(stamps(&fork, f), (20, 20, 20));
    fork.clock().advance(Duration::from_secs(5));
    assert_eq!((s.clock().now(), fork.clock().now()), (at(30), at(25)));
    let g = s.fork();
    g.clock().set(at(1));
    assert_eq!((s.clock().now(), fork.clock().now()), (at(30), at(25)));
    fork.check_integrity().unwrap();
}

#[test]
fn a_reset_and_the_end_of_a_scope_set_the_clock_back_to_the_mark() {
    let mut fixture = Store::new(schema());
    fixture.set_clock(Clock::manual(at(100)));
    let mark = fixture.mark().unwrap();
    fixture.clock().advance(Duration::from_secs(60));
    fixture.insert(doc("a")).unwrap();
    fixture.reset(&mark).unwrap();
    assert_eq!(fixture.clock().now(), at(100));
    {
        let mut test = fixture.scope().unwrap();
        test.clock().set(at(5_000));
        test.begin().unwrap();
        test.insert(doc("b")).unwrap();
    }
    assert_eq!(fixture.clock().now(), at(100));
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let test = fixture.scope().unwrap();
        test.clock().advance(Duration::from_secs(1));
        panic!("a failing test");
    }));
    assert!(panicked.is_err());
    assert_eq!(fixture.clock().now(), at(100));
    // Releasing a mark keeps the time, as it keeps the records.
    let kept = fixture.mark().unwrap();
    fixture.clock().set(at(200));
    fixture.release_mark(&kept).unwrap();
    fixture.reset(&mark).unwrap();
    assert_eq!(fixture.clock().now(), at(100));
    fixture.check_integrity().unwrap();
}

/// `set_clock` inside a scope is undone with the scope: the fixture gets back its own clock
/// (not the test's, which may be a system clock), at the mark's time; so does a reset.
#[test]
fn a_clock_set_inside_a_scope_is_not_left_in_the_fixture() {
    let mut fixture = Store::new(schema());
    fixture.set_clock(Clock::manual(at(100)));
    {
        let mut test = fixture.scope().unwrap();
        test.set_clock(Clock::system());
        test.insert(doc("a")).unwrap();
    }
    assert_eq!(
        fixture.clock().now(),
        at(100),
        "the fixture's clock, not the system's"
    );
    let theirs = Clock::manual(at(7));
    let mark = fixture.mark().unwrap();
    fixture.set_clock(theirs.clone());
    fixture.reset(&mark).unwrap();
    theirs.set(at(9));
    assert_eq!(
        fixture.clock().now(),
        at(100),
        "the test's handle no longer drives it"
    );
    // A fork's marks hold the fork's own clock: a reset there leaves the original's alone.
    let mark = fixture.mark().unwrap();
    let mut fork = fixture.fork();
    fork.clock().set(at(300));
    fork.reset(&mark).unwrap();
    fork.clock().set(at(400));
    assert_eq!((fixture.clock().now(), fork.clock().now()), (at(100), at(400)));
}

/// `faults().run` undoes what its closure did when it panics, the clock's time included,
/// inside a transaction too (where it runs in a savepoint).
#[test]
fn a_panic_in_faults_run_sets_the_clock_back_inside_a_transaction_too() {
    let mut s = Store::new(schema());
    s.set_clock(Clock::manual(at(100)));
    s.begin().unwrap();
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let down = Error::Unavailable { reason: "down" };
        let _ = s.faults().run(relata::FaultPoint::Commit, down, |s| {
            s.set_clock(Clock::manual(at(5)));
            s.clock().advance(Duration::from_secs(1));
            panic!("a failing test");
        });
    }));
    assert!(panicked.is_err());
    assert_eq!(s.clock().now(), at(100));
    s.rollback().unwrap();
}

#[test]
fn a_store_loaded_from_a_snapshot_or_json_starts_its_clock_at_the_latest_stamp() {
    let mut saved = Store::new(schema());
    saved.set_clock(Clock::manual(at(1_700_000_000)));
    let a = saved.insert(doc("a")).unwrap();
    saved.clock().advance(Duration::from_secs(60));
    saved.update(a, |d| d.rank = 1).unwrap(); // updated_at, touched: 60 s later
    saved.clock().set(at(1_600_000_000));
    saved.insert(doc("b")).unwrap();
    let latest = at(1_700_000_060);
    let (from_json, _) = Store::from_json(schema(), &saved.to_json()).unwrap();
    let from_snapshot = Store::from_snapshot(schema(), &saved.to_snapshot().unwrap()).unwrap();
    for mut loaded in [from_json, from_snapshot] {
        assert_eq!(loaded.clock().now(), latest);
        let c = loaded.insert(doc("c")).unwrap();
        let newest = loaded.iter::<Doc>().map(|(_, d)| d.created_at).max().unwrap();
        assert_eq!(loaded.get(c).unwrap().created_at, newest);
    }
    // Data older than 2000 leaves the clock at 2000; so does a table with no stamps.
    let mut old = Store::new(schema());
    old.set_clock(Clock::manual(at(10)));
    old.insert(doc("a")).unwrap();
    let (loaded, _) = Store::from_json(schema(), &old.to_json()).unwrap();
    assert_eq!(loaded.clock().unix_micros(), 946_684_800_000_000);
}

#[test]
fn filled_values_survive_a_snapshot_and_a_json_round_trip() {
    let mut s = Store::new(schema());
    s.set_clock(Clock::manual(at(1_000)));
    s.insert(doc("a")).unwrap();
    s.clock().set(at(2_000));
    let loaded = Store::from_snapshot(schema(), &s.to_snapshot().unwrap()).unwrap();
    assert_eq!(loaded, s);
    // A fixture is data as it was stored: its times are kept, not the clock's.
    let mut again = Store::new(schema());
    again.insert_json(&s.to_json()).unwrap();
    assert_eq!(again.to_json(), s.to_json());
    again.check_integrity().unwrap();
}

#[test]
fn a_fixture_field_left_out_takes_its_default_or_the_clocks_time() {
    let mut s = Store::new(schema());
    s.set_clock(Clock::manual(at(500)));
    s.insert_json(r#"{"docs": [{"title": "a"}]}"#).unwrap();
    let k = s.find_unique(Doc::BY_TITLE, "a").unwrap();
    let d = s.get(k).unwrap();
    assert_eq!((d.state, d.rank, &*d.note), (State::Draft, 3, "it's"));
    assert_eq!(stamps(&s, k), (500, 500, 500));
    // A field without a default is still required.
    #[derive(Entity, Clone, Debug, PartialEq)]
    struct Plain {
        name: String,
    }
    let mut p = Store::new(Schema::builder().entity::<Plain>().build().unwrap());
    assert!(p.insert_json(r#"{"plains": [{}]}"#).is_err());
}

#[test]
fn field_defs_describe_what_the_store_fills() {
    let f = Doc::DEF.fields;
    assert_eq!(f[1].default_value(|v, _| v == Value::Text("draft")), Some(true));
    assert_eq!(f[2].default_value(|v, _| v == Value::Int(3)), Some(true));
    assert_eq!(
        (f[4].stamp, f[5].stamp),
        (Some(Stamp::CreatedAt), Some(Stamp::UpdatedAt))
    );
    assert_eq!((f[0].stamp, f[4].default_value(|_, _| ())), (None, None));
}

#[test]
fn declared_defaults_are_the_sqlite_columns_defaults() {
    let sql = schema().to_sql(Dialect::Sqlite);
    assert!(sql.contains(r#""state" TEXT NOT NULL DEFAULT 'draft'"#), "{sql}");
    assert!(sql.contains(r#""note" TEXT NOT NULL DEFAULT 'it''s'"#), "{sql}");
    let conn = Connection::open_in_memory().unwrap();
    conn.execute_batch(&sql).unwrap();
    conn.execute(
        "INSERT INTO docs (id, title, created_at, updated_at, touched) VALUES (1, 'a', 0, 0, 0)",
        [],
    )
    .unwrap();
    let row: (String, i64, String) = conn
        .query_row("SELECT state, rank, note FROM docs", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap();
    assert_eq!(row, ("draft".into(), 3, "it's".into()));
    let pg = schema().to_sql(Dialect::Postgres);
    assert!(pg.contains(r#""rank" INTEGER NOT NULL DEFAULT 3"#), "{pg}");
}

/// A clock set to an instant finer than a microsecond reads what a timestamp field holding
/// that instant reads: both cut toward 2000-01-01 as the PostgreSQL clients bind a time
/// (up before it, down after it), so a stamp the clock writes equals the same instant written
/// by hand. Before 2000 the clock floored, one microsecond below the field.
#[test]
fn a_clock_set_finer_than_a_microsecond_reads_as_the_same_instant_in_a_field() {
    for nanos in [
        946_684_799_999_999_500_i128, // 1999-12-31T23:59:59.9999995Z
        946_684_800_000_000_500,      // 2000-01-01T00:00:00.0000005Z
        -1_500,                       // 1969-12-31T23:59:59.9999985Z
        1_500,
    ] {
        let instant = DateTime::<Utc>::from_timestamp_nanos(nanos as i64);
        let t = if nanos >= 0 {
            SystemTime::UNIX_EPOCH + Duration::from_nanos(nanos as u64)
        } else {
            SystemTime::UNIX_EPOCH - Duration::from_nanos(nanos.unsigned_abs() as u64)
        };
        let clock = Clock::default();
        clock.set(t);
        assert_eq!(
            clock.unix_micros(),
            relata::AsColumn::into_repr(instant),
            "at {instant:?}"
        );
    }
}
