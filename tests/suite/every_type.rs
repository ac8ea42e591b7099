//! Every column type, one table-driven test: each built-in type behind its cargo feature,
//! `Vec<u8>`, a derived newtype, a text enum and an integer enum, as a unique column, an
//! indexed column and an optional one, through insert, get and update; unique and secondary
//! look-ups; a unique violation's message; snapshot save and load; JSON export and the
//! fixture load of that JSON; the diff display; the DDL applied to SQLite, and to PostgreSQL
//! with the column types it reports back.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use relata::{Dialect, Entity, Error, Schema, Store};
use rust_decimal::Decimal;
use uuid::Uuid;

// The user column types: a newtype, a text enum and an integer enum, declared once.
use crate::suite::column_types::{Email, Level, Status};

fn at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 1, 2, 3, 4, 5).unwrap() + chrono::Duration::microseconds(7)
}

/// What one type's case checks, beside the round trips: how diffs and errors quote the
/// first value, its JSON form, and the column type each database reports.
struct Expect {
    /// The first value as errors and diffs quote it.
    shown: &'static str,
    /// The first value in `to_json`.
    json: serde_json::Value,
    /// The SQLite column type in the DDL.
    sqlite: &'static str,
    /// `information_schema.columns.data_type` in PostgreSQL.
    postgres: &'static str,
}

/// One module per type: an entity `Row` with the type as a unique, an indexed and an
/// optional column, and `run()`, the whole scenario in memory and on SQLite.
macro_rules! cases {
    ($($name:ident: $ty:ty = [$a:expr, $b:expr], query $query:expr, $expect:expr;)*) => {
        $(mod $name {
            use super::*;

            #[derive(Entity, Clone, Debug, PartialEq)]
            #[relata(table = "rows")]
            pub struct Row {
                #[relata(unique)]
                pub u: $ty,
                #[relata(index)]
                pub i: $ty,
                pub o: Option<$ty>,
            }

            pub fn schema() -> Schema {
                Schema::builder().entity::<Row>().build().unwrap()
            }

            pub fn expect() -> Expect {
                $expect
            }

            pub fn run() {
                let (a, b): ($ty, $ty) = ($a, $b);
                let want = expect();
                let what = stringify!($name);
                let mut s = Store::new(schema());
                let mark = s.mark().unwrap();
                let first = Row { u: a.clone(), i: a.clone(), o: None };
                let k1 = s.insert(first.clone()).unwrap();
                let diff = s.changes_since(&mark).unwrap().to_string();
                assert!(diff.contains(&format!("u: {}", want.shown)), "{what}: diff {diff}");
                s.release_mark(&mark).unwrap();
                assert_eq!(s.try_get_owned(k1).unwrap(), first, "{what}: get");
                let k2 = s.insert(Row { u: b.clone(), i: a.clone(), o: Some(b.clone()) }).unwrap();
                s.update(k1, |r| r.o = Some(a.clone())).unwrap();
                s.update(k2, |r| r.i = b.clone()).unwrap();
                let rows = [
                    Row { u: a.clone(), i: a.clone(), o: Some(a.clone()) },
                    Row { u: b.clone(), i: b.clone(), o: Some(b.clone()) },
                ];
                assert_eq!(s.try_get_owned(k1).unwrap(), rows[0], "{what}: update");
                assert_eq!(s.try_get_owned(k2).unwrap(), rows[1], "{what}: update");
                assert_eq!(s.find_unique(Row::BY_U, $query(&b)), Some(k2), "{what}: unique look-up");
                assert_eq!(s.find_by(Row::BY_I, $query(&a)).collect::<Vec<_>>(), [k1], "{what}: index look-up");
                let dup = s.insert(Row { u: a.clone(), i: b.clone(), o: None }).unwrap_err();
                assert!(
                    matches!(&dup, Error::UniqueViolation { value, existing, .. }
                        if value == want.shown && *existing == k1.raw()),
                    "{what}: {dup}"
                );
                s.check_integrity().unwrap();

                let loaded = Store::from_snapshot(schema(), &s.to_snapshot().unwrap()).unwrap();
                assert!(loaded == s, "{what}: snapshot");
                assert_eq!(loaded.try_get_owned(k2).unwrap(), rows[1], "{what}: snapshot");
                assert_eq!(loaded.find_unique(Row::BY_U, $query(&a)), Some(k1), "{what}: snapshot");

                let json = s.to_json();
                let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
                assert_eq!(doc["rows"][0]["u"], want.json, "{what}: JSON\n{json}");
                let (fixture, _) = Store::from_json(schema(), &json).unwrap();
                let got: Vec<Row> = fixture.iter::<Row>().map(|(k, _)| fixture.try_get_owned(k).unwrap()).collect();
                assert_eq!(got.len(), 2, "{what}: fixture");
                assert!(got.contains(&rows[0]) && got.contains(&rows[1]), "{what}: fixture {got:?}");
                fixture.check_integrity().unwrap();

                let sql = schema().to_sql(Dialect::Sqlite);
                let column = format!("\"u\" {} NOT NULL", want.sqlite);
                assert!(sql.contains(&column), "{what}: {column} in\n{sql}");
                let conn = rusqlite::Connection::open_in_memory().unwrap();
                conn.execute_batch(&sql).unwrap_or_else(|e| panic!("{what}: SQLite refused the DDL: {e}\n{sql}"));
            }
        })*

        /// Every case, in memory and on SQLite.
        #[test]
        fn every_column_type_round_trips_and_applies_to_sqlite() {
            $( $name::run(); )*
        }

        /// Every case's DDL applied to PostgreSQL: the column types it reports back.
        #[test]
        fn every_column_type_applies_to_postgres_with_its_types() {
            let Some(mut pg) = crate::common::pg::connect("every_type::postgres") else {
                return;
            };
            $(
                let what = stringify!($name);
                let sql = $name::schema().to_sql(Dialect::Postgres);
                pg.client
                    .batch_execute(&format!("DROP TABLE IF EXISTS rows; {sql}"))
                    .unwrap_or_else(|e| panic!("{what}: PostgreSQL refused the DDL: {e}\n{sql}"));
                let types: Vec<(String, String)> = pg
                    .client
                    .query(
                        "SELECT column_name::text, data_type::text FROM information_schema.columns \
                         WHERE table_schema = current_schema() AND table_name = 'rows' ORDER BY ordinal_position",
                        &[],
                    )
                    .unwrap()
                    .iter()
                    .map(|r| (r.get(0), r.get(1)))
                    .collect();
                let want = $name::expect().postgres;
                let expected: Vec<(String, String)> = [("id", "bigint"), ("u", want), ("i", want), ("o", want)]
                    .iter()
                    .map(|(c, t)| (c.to_string(), t.to_string()))
                    .collect();
                assert_eq!(types, expected, "{what}");
            )*
        }
    };
}

fn e(shown: &'static str, json: serde_json::Value, sqlite: &'static str, postgres: &'static str) -> Expect {
    Expect {
        shown,
        json,
        sqlite,
        postgres,
    }
}

fn same<T: ?Sized>(v: &T) -> &T {
    v
}

cases! {
    chrono_datetime: DateTime<Utc> = [at(), DateTime::UNIX_EPOCH], query same,
        e("'2024-01-02T03:04:05.000007Z'", "2024-01-02T03:04:05.000007Z".into(), "INTEGER", "timestamp with time zone");
    chrono_naive_datetime: NaiveDateTime = [at().naive_utc(), DateTime::UNIX_EPOCH.naive_utc()], query same,
        e("'2024-01-02T03:04:05.000007'", "2024-01-02T03:04:05.000007".into(), "INTEGER", "timestamp without time zone");
    chrono_naive_date: NaiveDate = [at().date_naive(), NaiveDate::from_ymd_opt(1969, 12, 31).unwrap()], query same,
        e("'2024-01-02'", "2024-01-02".into(), "INTEGER", "date");
    time_offset_datetime: time::OffsetDateTime = [
            time::OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap(),
            time::OffsetDateTime::UNIX_EPOCH
        ], query same,
        e("'2023-11-14T22:13:20Z'", "2023-11-14T22:13:20Z".into(), "INTEGER", "timestamp with time zone");
    time_date: time::Date = [
            time::Date::from_calendar_date(2024, time::Month::March, 1).unwrap(),
            time::Date::from_calendar_date(1900, time::Month::January, 1).unwrap()
        ], query same,
        e("'2024-03-01'", "2024-03-01".into(), "INTEGER", "date");
    uuid_type: Uuid = [Uuid::from_bytes([1; 16]), Uuid::nil()], query same,
        e("'01010101-0101-0101-0101-010101010101'", "01010101-0101-0101-0101-010101010101".into(), "TEXT", "uuid");
    decimal_type: Decimal = [Decimal::new(1050, 2), Decimal::new(-3, 0)], query same,
        e("'10.50'", "10.50".into(), "TEXT", "numeric");
    json_value: serde_json::Value = [serde_json::json!({"b": 1, "a": [true]}), serde_json::json!(0)], query same,
        e(r#"'{"a":[true],"b":1}'"#, r#"{"a":[true],"b":1}"#.into(), "TEXT", "jsonb");
    bytes: Vec<u8> = [vec![0, 255], vec![]], query Vec::as_slice,
        e("x'00ff'", serde_json::json!([0, 255]), "BLOB", "bytea");
    newtype: Email = [Email("a@x".into()), Email("b@x".into())], query same,
        e("'a@x'", "a@x".into(), "TEXT", "text");
    text_enum: Status = [Status::OnHold, Status::Active], query same,
        e("'on_hold'", "on_hold".into(), "TEXT", "text");
    integer_enum: Level = [Level::High, Level::Low], query same,
        e("10", 10.into(), "INTEGER", "bigint");
}
