//! The column types behind cargo features (chrono, time, uuid, rust_decimal, serde_json):
//! each through insert, get, update, unique and secondary look-ups, snapshot save and load,
//! JSON, diffs and DDL applied to SQLite.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use relata::{Dialect, Entity, Schema, Store};
use rust_decimal::Decimal;
use uuid::Uuid;

#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "events")]
pub struct Event {
    #[relata(unique)]
    public_id: Uuid,
    #[relata(index)]
    at: DateTime<Utc>,
    local: NaiveDateTime,
    #[relata(index)]
    day: NaiveDate,
    t_at: time::OffsetDateTime,
    t_day: Option<time::Date>,
    #[relata(index)]
    price: Decimal,
    settings: serde_json::Value,
}

fn schema() -> Schema {
    Schema::builder().entity::<Event>().build().unwrap()
}

fn event(n: u8) -> Event {
    let at = Utc.with_ymd_and_hms(2024, 1, n.into(), 12, 30, 0).unwrap() + chrono::Duration::microseconds(7);
    Event {
        public_id: Uuid::from_bytes([n; 16]),
        at,
        local: at.naive_utc(),
        day: at.date_naive(),
        t_at: time::OffsetDateTime::from_unix_timestamp(1_700_000_000 + i64::from(n)).unwrap(),
        t_day: time::Date::from_calendar_date(2024, time::Month::March, n).ok(),
        price: Decimal::new(1050 + i64::from(n), 2),
        settings: serde_json::json!({"theme": "dark", "n": n, "a": [1, 2]}),
    }
}

#[test]
fn round_trip_through_insert_get_update() {
    let mut s = Store::new(schema());
    let e = event(1);
    let k = s.insert(e.clone()).unwrap();
    let view = s.get(k).unwrap();
    assert_eq!((view.public_id, view.at, view.day), (e.public_id, e.at, e.day));
    assert_eq!((view.t_at, view.t_day, view.price), (e.t_at, e.t_day, e.price));
    assert_eq!(
        view.settings, r#"{"a":[1,2],"n":1,"theme":"dark"}"#,
        "canonical JSON"
    );
    assert_eq!(s.try_get_owned(k).unwrap(), e);
    s.replace(k, event(2)).unwrap();
    assert_eq!(s.try_get_owned(k).unwrap(), event(2));
    s.check_integrity().unwrap();
}

#[test]
fn nanoseconds_are_truncated_to_microseconds_as_in_postgresql() {
    let mut s = Store::new(schema());
    let mut e = event(1);
    e.at = DateTime::from_timestamp(1_700_000_000, 123_456_789).unwrap();
    let k = s.insert(e).unwrap();
    assert_eq!(s.get(k).unwrap().at.timestamp_subsec_nanos(), 123_456_000);
}

#[test]
fn look_ups_take_the_types() {
    let mut s = Store::new(schema());
    let a = s.insert(event(1)).unwrap();
    let b = s.insert(event(2)).unwrap();
    assert_eq!(
        s.find_unique(Event::BY_PUBLIC_ID, &Uuid::from_bytes([2; 16])),
        Some(b)
    );
    assert_eq!(s.find_by(Event::BY_AT, &event(1).at).collect::<Vec<_>>(), [a]);
    assert_eq!(s.find_by(Event::BY_DAY, &event(2).day).collect::<Vec<_>>(), [b]);
    assert_eq!(
        s.find_by(Event::BY_PRICE, &Decimal::new(1051, 2))
            .collect::<Vec<_>>(),
        [a]
    );
    let mut twin = event(3);
    twin.public_id = Uuid::from_bytes([1; 16]);
    let err = s.insert(twin).unwrap_err().to_string();
    assert!(
        err.contains("value '01010101-0101-0101-0101-010101010101'"),
        "{err}"
    );
    s.check_integrity().unwrap();
}

#[test]
fn snapshot_json_and_diff_show_readable_values() {
    let mut s = Store::new(schema());
    let mark = s.mark().unwrap();
    s.insert(event(1)).unwrap();
    let diff = s.changes_since(&mark).unwrap().to_string();
    assert!(diff.contains("at: '2024-01-01T12:30:00.000007Z'"), "{diff}");
    assert!(
        diff.contains("day: '2024-01-01'") && diff.contains("t_day: '2024-03-01'"),
        "{diff}"
    );
    assert!(
        diff.contains("t_at: '2023-11-14T22:13:21Z'") && diff.contains("price: '10.51'"),
        "{diff}"
    );
    let json = s.to_json();
    assert!(json.contains(r#""at": "2024-01-01T12:30:00.000007Z""#), "{json}");
    let bytes = s.to_snapshot().unwrap();
    let again = Store::from_snapshot(schema(), &bytes).unwrap();
    assert!(again == s);
    assert_eq!(again.iter::<Event>().next().unwrap().1.at, event(1).at);
}

#[test]
fn ddl_names_the_types_and_applies_to_sqlite() {
    let pg = schema().to_sql(Dialect::Postgres);
    for column in [
        r#""public_id" UUID NOT NULL"#,
        r#""at" TIMESTAMPTZ NOT NULL"#,
        r#""local" TIMESTAMP NOT NULL"#,
        r#""day" DATE NOT NULL"#,
        r#""t_day" DATE,"#,
        r#""price" NUMERIC NOT NULL"#,
        r#""settings" JSONB NOT NULL"#,
    ] {
        assert!(pg.contains(column), "{column} in\n{pg}");
    }
    let sql = schema().to_sql(Dialect::Sqlite);
    assert!(sql.contains(r#""at" INTEGER NOT NULL"#) && sql.contains(r#""price" TEXT NOT NULL"#));
    let conn = rusqlite::Connection::open_in_memory().unwrap();
    conn.execute_batch(&sql).unwrap();
}

#[test]
fn postgres_accepts_the_ddl() {
    let Some(mut pg) = crate::common::pg::connect("builtin_types::postgres_accepts_the_ddl") else {
        return;
    };
    let sql = schema().to_sql(Dialect::Postgres);
    pg.client
        .batch_execute(&sql)
        .unwrap_or_else(|e| panic!("DDL rejected by PostgreSQL: {e}\n{sql}"));
}

/// A price list: a unique and an ordered `Decimal`.
#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "prices")]
pub struct Price {
    #[relata(unique)]
    amount: Decimal,
    #[relata(index(ordered))]
    rank: Decimal,
}

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

#[test]
fn decimals_compare_by_value_as_numeric_does() {
    let mut s = Store::new(Schema::builder().entity::<Price>().build().unwrap());
    let price = |amount: &str, rank: &str| Price {
        amount: dec(amount),
        rank: dec(rank),
    };
    let ten = s.insert(price("1.50", "10")).unwrap();
    // The digits as written come back, as from PostgreSQL's NUMERIC.
    assert_eq!(s.get(ten).unwrap().amount.to_string(), "1.50");
    let err = s.insert(price("1.5", "0")).unwrap_err();
    assert!(
        matches!(err, relata::Error::UniqueViolation { .. }),
        "1.5 = 1.50 in NUMERIC: {err}"
    );
    assert_eq!(s.find_unique(Price::BY_AMOUNT, &dec("1.500")), Some(ten));
    let nine = s.insert(price("2", "9.0")).unwrap();
    let minus = s.insert(price("3", "-10")).unwrap();
    assert_eq!(s.scan(Price::BY_RANK).collect::<Vec<_>>(), [minus, nine, ten]);
    assert_eq!(s.find_by(Price::BY_RANK, &dec("9")).collect::<Vec<_>>(), [nine]);
    s.check_integrity().unwrap();
    let again = Store::from_snapshot(s.schema().clone(), &s.to_snapshot().unwrap()).unwrap();
    assert!(again == s);
    again.check_integrity().unwrap();
}

mod values {
    use super::*;
    use crate::suite::column_types::{Level, Status as Kind};
    use relata::Value;

    /// Every field type whose stored form a `Value` can hold without borrowing from the
    /// store, in one composite index.
    #[derive(Entity, Clone, Debug, PartialEq)]
    #[relata(index(at, local, day, t_at, t_day, kind, level, small, medium, unsigned, real, flag))]
    pub struct Row {
        at: DateTime<Utc>,
        local: NaiveDateTime,
        day: NaiveDate,
        t_at: time::OffsetDateTime,
        t_day: time::Date,
        kind: Kind,
        level: Level,
        small: i16,
        medium: i32,
        unsigned: u32,
        real: f32,
        flag: bool,
    }

    /// `Value::from` of each field gives the value the store holds for it: a composite
    /// look-up with the converted fields finds the record. (Before, only `bool`, `i64`,
    /// text and keys converted: this did not compile.)
    #[test]
    fn value_from_gives_the_stored_form_of_each_type() {
        let mut s = Store::new(Schema::builder().entity::<Row>().build().unwrap());
        let at = Utc.with_ymd_and_hms(2024, 5, 6, 7, 8, 9).unwrap() + chrono::Duration::microseconds(11);
        let row = Row {
            at,
            local: at.naive_utc(),
            day: at.date_naive(),
            t_at: time::OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap(),
            t_day: time::Date::from_calendar_date(2024, time::Month::May, 6).unwrap(),
            kind: Kind::OnHold,
            level: Level::High,
            small: -3,
            medium: 70_000,
            unsigned: 4_000_000_000,
            real: 1.5,
            flag: true,
        };
        let k = s.insert(row.clone()).unwrap();
        s.insert(Row {
            kind: Kind::Active,
            level: Level::Low,
            ..row.clone()
        })
        .unwrap();
        let values: [Value<'_>; 12] = [
            row.at.into(),
            row.local.into(),
            row.day.into(),
            row.t_at.into(),
            row.t_day.into(),
            row.kind.into(),
            row.level.into(),
            row.small.into(),
            row.medium.into(),
            row.unsigned.into(),
            row.real.into(),
            row.flag.into(),
        ];
        assert_eq!(
            s.find_by_values(
                Row::BY_AT_LOCAL_DAY_T_AT_T_DAY_KIND_LEVEL_SMALL_MEDIUM_UNSIGNED_REAL_FLAG,
                &values
            )
            .unwrap()
            .collect::<Vec<_>>(),
            [k]
        );
        assert_eq!(Value::from(Kind::OnHold), Value::Text("on_hold"));
        assert_eq!(Value::from(Level::High), Value::Int(10));
        assert_eq!(Value::from(at), Value::Int(at.timestamp_micros()));
        assert_eq!(Value::from(row.day), Value::Int(19_849));
    }
}

/// A UUID primary key spelled `id`: the field keeps its name, its column is another (`id` is
/// the record's key column in the DDL and JSON), as the derive's error for `id: Uuid` says.
mod uuid_id {
    use super::*;

    #[derive(Entity, Clone, Debug, PartialEq)]
    #[relata(table = "accounts")]
    pub struct Account {
        #[relata(unique, column = "public_id")]
        id: Uuid,
        name: String,
    }

    #[test]
    fn a_uuid_field_named_id_takes_another_column() {
        let schema = Schema::builder().entity::<Account>().build().unwrap();
        let mut s = Store::new(schema.clone());
        let id = Uuid::from_u128(7);
        let k = s
            .insert(Account {
                id,
                name: "ann".into(),
            })
            .unwrap();
        assert_eq!(s.find_unique(Account::BY_ID, &id), Some(k));
        assert_eq!(s.get(k).unwrap().id, id);
        let ddl = schema.to_sql(Dialect::Postgres);
        assert!(ddl.contains(r#""public_id" UUID NOT NULL"#), "{ddl}");
    }
}

/// A time finer than a microsecond is cut as the PostgreSQL clients cut a bound parameter
/// (sqlx and rust-postgres send whole microseconds since 2000-01-01, truncated toward zero):
/// down after 2000-01-01, up before it. relata floored everywhere, so a 1999 instant read
/// back one microsecond earlier than from PostgreSQL.
mod sub_microsecond {
    use super::*;
    use crate::common::pg;

    #[derive(Entity, Clone, Debug, PartialEq)]
    #[relata(table = "stamps")]
    pub struct Stamp {
        at: DateTime<Utc>,
        naive: NaiveDateTime,
        t_at: time::OffsetDateTime,
    }

    /// Instants with a part below the microsecond, on both sides of 2000-01-01 and 1970.
    fn instants() -> Vec<DateTime<Utc>> {
        let ns = chrono::Duration::nanoseconds;
        let y2k = Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0).unwrap();
        let unix = DateTime::<Utc>::UNIX_EPOCH;
        vec![
            y2k - ns(1),
            y2k + ns(1),
            y2k - ns(1_500),
            y2k + ns(1_999),
            unix - ns(1),
            unix + ns(999),
            y2k,
        ]
    }

    /// What relata keeps of `t`, through each of the three types.
    fn kept(t: DateTime<Utc>) -> [DateTime<Utc>; 3] {
        let mut s = Store::new(Schema::builder().entity::<Stamp>().build().unwrap());
        let nanos = i128::from(t.timestamp_nanos_opt().unwrap());
        let t_at = time::OffsetDateTime::from_unix_timestamp_nanos(nanos).unwrap();
        let k = s
            .insert(Stamp {
                at: t,
                naive: t.naive_utc(),
                t_at,
            })
            .unwrap();
        let got = s.try_get_owned(k).unwrap();
        let t_at = DateTime::from_timestamp_nanos(i64::try_from(got.t_at.unix_timestamp_nanos()).unwrap());
        [got.at, got.naive.and_utc(), t_at]
    }

    #[test]
    fn a_finer_time_is_cut_toward_2000_as_postgres_clients_send_it() {
        let us = chrono::Duration::microseconds;
        let y2k = Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0).unwrap();
        let unix = DateTime::<Utc>::UNIX_EPOCH;
        let want = [y2k, y2k, y2k - us(1), y2k + us(1), unix, unix + us(1), y2k];
        for (t, want) in instants().into_iter().zip(want) {
            assert_eq!(kept(t), [want; 3], "{t:?}");
        }
    }

    /// The same instants bound as parameters through rust-postgres (the cut sqlx makes too)
    /// read back from PostgreSQL as relata keeps them; a text literal is rounded instead.
    #[test]
    fn a_finer_time_reads_back_as_from_postgres_through_a_bound_parameter_postgres() {
        let Some(mut pg) =
            pg::connect("a_finer_time_reads_back_as_from_postgres_through_a_bound_parameter_postgres")
        else {
            return;
        };
        for t in instants() {
            let row = pg.client.query_one("SELECT $1::timestamptz", &[&t]).unwrap();
            let from_pg: DateTime<Utc> = row.get(0);
            assert_eq!(kept(t), [from_pg; 3], "{t:?}");
        }
        // A text literal: PostgreSQL rounds to the nearest microsecond (relata cuts 1.999 µs
        // after 2000 to 1 µs; the literal gives 2 µs).
        let row = pg
            .client
            .query_one("SELECT '2000-01-01 00:00:00.000001999+00'::timestamptz", &[])
            .unwrap();
        let literal: DateTime<Utc> = row.get(0);
        let y2k = Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(literal, y2k + chrono::Duration::microseconds(2));
        assert_eq!(
            kept(y2k + chrono::Duration::nanoseconds(1_999))[0],
            y2k + chrono::Duration::microseconds(1)
        );
    }
}

#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "docs")]
struct Doc {
    body: serde_json::Value,
}

/// `depth` arrays around a number.
fn nested(depth: usize) -> serde_json::Value {
    (0..depth).fold(serde_json::Value::from(1), |v, _| {
        serde_json::Value::Array(vec![v])
    })
}

/// A JSON value nested deeper than serde_json reads back was stored with `Ok`, then read back
/// as `null`, and its snapshot and `to_json` did not load (adversarial probe, 8 Dec). It is
/// refused on write now; the deepest value stored reads back and its snapshot loads.
#[test]
fn json_deeper_than_it_reads_back_is_refused_and_the_deepest_stored_round_trips() {
    let schema = Schema::builder().entity::<Doc>().build().unwrap();
    let mut store = Store::new(schema.clone());
    let deepest = nested(relata::JSON_DEPTH_LIMIT);
    // One level deeper than the limit is exactly what serde_json refuses to read.
    let text = nested(relata::JSON_DEPTH_LIMIT + 1).to_string();
    assert!(serde_json::from_str::<serde_json::Value>(&text).is_err());
    assert!(serde_json::from_str::<serde_json::Value>(&deepest.to_string()).is_ok());

    let k = store
        .insert(Doc {
            body: deepest.clone(),
        })
        .unwrap();
    let before = store.fork();
    for depth in [relata::JSON_DEPTH_LIMIT + 1, 200] {
        let err = store.insert(Doc { body: nested(depth) }).unwrap_err();
        assert_eq!(
            err,
            relata::Error::JsonTooDeep {
                table: "docs",
                column: "body",
                key: None,
                limit: 127
            }
        );
        let err = store.update(k, |d| d.body = nested(depth)).unwrap_err();
        assert!(
            matches!(err, relata::Error::JsonTooDeep { key: Some(_), .. }),
            "{err}"
        );
        // Brackets inside a string are text, not nesting.
        store
            .insert(Doc {
                body: "[".repeat(depth).into(),
            })
            .unwrap();
        store.delete(store.keys::<Doc>().last().unwrap()).unwrap();
    }
    assert!(store == before);
    store.check_integrity().unwrap();
    assert_eq!(store.try_get_owned(k).unwrap().body, deepest);
    let loaded = Store::from_snapshot(schema.clone(), &store.to_snapshot().unwrap()).unwrap();
    assert!(loaded == store);
    let (from_json, _) = Store::from_json(schema, &store.to_json()).unwrap();
    assert!(from_json == store);
}

/// Times and dates from 4713 BC to 262,000 AD survive `to_json` -> `from_json`. A `time`
/// type before year 0 was written `-001-03-04` (not ISO 8601's `-0001-03-04`) and its
/// fixture did not load (adversarial probe, 8 Dec).
#[test]
fn extreme_years_round_trip_through_json() {
    #[derive(Entity, Clone, Debug, PartialEq)]
    #[relata(table = "times")]
    struct Times {
        at: DateTime<Utc>,
        local: NaiveDateTime,
        day: NaiveDate,
        t_at: time::OffsetDateTime,
        t_day: time::Date,
    }
    let schema = Schema::builder().entity::<Times>().build().unwrap();
    for year in [-4713, -1, 0, 1, 1969, 9999, 10_000, 262_000] {
        let day = NaiveDate::from_ymd_opt(year, 3, 4).unwrap();
        let at = Utc.from_utc_datetime(&day.and_hms_micro_opt(5, 6, 7, 123_456).unwrap());
        let t_year = year.clamp(-9999, 9999); // `time`'s range
        let t_day = time::Date::from_calendar_date(t_year, time::Month::March, 4).unwrap();
        let t_at = t_day.with_hms_micro(5, 6, 7, 89).unwrap().assume_utc();
        let mut store = Store::new(schema.clone());
        let local = at.naive_utc();
        store
            .insert(Times {
                at,
                local,
                day,
                t_at,
                t_day,
            })
            .unwrap();
        let (back, _) = Store::from_json(schema.clone(), &store.to_json())
            .unwrap_or_else(|e| panic!("{year}: {e}\n{}", store.to_json()));
        assert!(back == store, "{year}: {}", back.to_json());
    }
}
