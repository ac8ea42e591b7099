//! The reads given `Value`s (`range_values`, `prefix`, `find_by_values`,
//! `find_unique_values`, `Sorted::after`) check them with one check: each of its column's
//! kind, no more than the columns (exactly as many for a look-up or a cursor), and under
//! `Engine::Postgres` no text with a NUL byte, which PostgreSQL refuses as a parameter. And
//! under `Engine::Postgres`, every read that returns a `Result` refuses in an aborted
//! transaction, as PostgreSQL refuses every query there (docs/ENGINES.md).

use std::ops::Bound::{Included, Unbounded};

use crate::common::pg;
use relata::{Dialect, Engine, Entity, Error, Key, Order, Schema, Store, Value};

#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "people")]
struct Person {
    #[relata(unique)]
    name: String,
}

#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "slots", unique(owner, day), index(owner, room, ordered))]
struct Slot {
    owner: Key<Person>,
    day: i64,
    room: String,
}

fn schema() -> Schema {
    Schema::builder()
        .entity::<Person>()
        .entity::<Slot>()
        .build()
        .unwrap()
}

/// A store with ann and her slot on day 1 in room "a".
fn seeded(engine: Engine) -> (Store, Key<Person>, Key<Slot>) {
    let mut s = Store::with_engine(schema(), engine);
    let ann = s.insert(Person { name: "ann".into() }).unwrap();
    let slot = (s.insert(Slot {
        owner: ann,
        day: 1,
        room: "a".into(),
    }))
    .unwrap();
    (s, ann, slot)
}

#[test]
fn value_reads_refuse_a_value_of_the_wrong_kind_or_count() {
    for engine in [Engine::Sqlite, Engine::Postgres] {
        let (s, ann, slot) = seeded(engine);
        let day = |v: Value<'_>| s.find_unique_values(Slot::BY_OWNER_DAY, &[ann.into(), v]);
        assert_eq!(day(1.into()), Ok(Some(slot)));
        assert_eq!(day(Value::Null), Ok(None), "a NULL part matches nothing");
        let e = day("1".into()).unwrap_err();
        assert!(
            matches!(
                &e,
                Error::ValueType {
                    table: "slots",
                    index: "uq_slots_owner_id_day",
                    column: "day",
                    ..
                }
            ),
            "{e:?}"
        );
        assert!(e.to_string().contains("the value given, '1', is text"), "{e}");
        let e = (s.find_unique_values(Slot::BY_OWNER_DAY, &["ann".into(), 1.into()])).unwrap_err();
        assert!(
            matches!(
                &e,
                Error::ValueType {
                    column: "owner_id",
                    ..
                }
            ),
            "{e:?}"
        );
        let three = [ann.into(), 1.into(), 2.into()];
        assert!(matches!(
            s.find_unique_values(Slot::BY_OWNER_DAY, &three),
            Err(Error::TooManyValues {
                columns: 2,
                given: 3,
                ..
            })
        ));
        assert!(matches!(
            s.find_unique_values(Slot::BY_OWNER_DAY, &[ann.into()]),
            Err(Error::TooFewValues {
                columns: 2,
                given: 1,
                ..
            })
        ));
        let view = s.records::<Slot>();
        assert!(matches!(
            view.find_unique_values(Slot::BY_OWNER_DAY, &[ann.into(), "1".into()]),
            Err(Error::ValueType { column: "day", .. })
        ));
        assert_eq!(
            view.find_unique_values(Slot::BY_OWNER_DAY, &[ann.into(), 1.into()]),
            Ok(Some(slot))
        );

        let room = |v: &[Value<'_>]| {
            s.find_by_values(Slot::BY_OWNER_ROOM, v)
                .map(Iterator::collect::<Vec<_>>)
        };
        assert_eq!(room(&[ann.into(), "a".into()]), Ok(vec![slot]));
        assert_eq!(room(&[ann.into(), Value::Null]), Ok(vec![]));
        assert!(matches!(
            room(&[ann.into(), 1.into()]),
            Err(Error::ValueType { column: "room", .. })
        ));
        assert!(matches!(
            room(&[1.into(), "a".into()]),
            Err(Error::ValueType {
                column: "owner_id",
                ..
            })
        ));
        assert!(matches!(
            room(&[ann.into(), "a".into(), "b".into()]),
            Err(Error::TooManyValues {
                columns: 2,
                given: 3,
                ..
            })
        ));
        assert!(matches!(
            room(&[ann.into()]),
            Err(Error::TooFewValues {
                columns: 2,
                given: 1,
                ..
            })
        ));

        let page = |v: &[Value<'_>]| {
            (s.query::<Slot>().order_by(Slot::BY_OWNER_ROOM, Order::Asc))
                .after(slot, v)
                .map(|q| q.keys())
        };
        assert_eq!(page(&[ann.into(), "a".into()]), Ok(vec![]));
        assert!(
            page(&[ann.into(), Value::Null]).is_ok(),
            "the row's value may be NULL"
        );
        assert!(matches!(
            page(&[ann.into(), 1.into()]),
            Err(Error::ValueType { column: "room", .. })
        ));
        assert!(matches!(
            page(&[ann.into(), "a".into(), "b".into()]),
            Err(Error::TooManyValues {
                columns: 2,
                given: 3,
                ..
            })
        ));
        assert!(matches!(
            page(&[ann.into()]),
            Err(Error::TooFewValues {
                columns: 2,
                given: 1,
                ..
            })
        ));
    }
}

/// PostgreSQL refuses a NUL byte in a query's text parameter as it does in a stored value
/// (22021): the reads given `Value`s refuse it under its profile; the reads that answer an
/// `Option` or an iterator find nothing, as no record can hold one there.
#[test]
fn postgres_profile_refuses_a_nul_byte_in_a_query_value_as_postgres_does() {
    let nul = Error::NulInText {
        table: "slots",
        column: "room",
        key: None,
    };
    let (s, ann, slot) = seeded(Engine::Postgres);
    let v = [ann.into(), "a\0".into()];
    assert_eq!(
        s.find_by_values(Slot::BY_OWNER_ROOM, &v).map(|i| i.len()),
        Err(nul.clone())
    );
    assert_eq!(
        s.prefix(Slot::BY_OWNER_ROOM, &v).map(Iterator::count),
        Err(nul.clone())
    );
    let range = s.range_values(Slot::BY_OWNER_ROOM, Included(&v[..]), Unbounded);
    assert_eq!(range.map(Iterator::count), Err(nul.clone()));
    let page = (s.query::<Slot>().order_by(Slot::BY_OWNER_ROOM, Order::Asc)).after(slot, &v);
    assert_eq!(page.map(|q| q.keys()), Err(nul.clone()));
    assert_eq!(s.find_unique(Person::BY_NAME, "ann\0"), None);
    // The SQLite profile compares it (SQLite binds a NUL in text).
    let (lite, ann, _) = seeded(Engine::Sqlite);
    let v = [ann.into(), "a\0".into()];
    assert_eq!(
        lite.find_by_values(Slot::BY_OWNER_ROOM, &v).map(|i| i.len()),
        Ok(0)
    );

    let Some(mut pg) = pg::connect("postgres_profile_refuses_a_nul_byte_in_a_query_value_as_postgres_does")
    else {
        return;
    };
    pg.client
        .batch_execute(&schema().to_sql(Dialect::Postgres))
        .unwrap();
    let e = (pg.client)
        .query("SELECT id FROM slots WHERE room = $1", &[&"a\0"])
        .unwrap_err();
    let db = e.as_db_error().unwrap_or_else(|| panic!("{e}"));
    assert_eq!(
        (db.code().code(), format!("ERROR: {}", db.message())),
        ("22021", nul.message(Engine::Postgres))
    );
}

/// Every `Result` read refuses in an aborted transaction under `Engine::Postgres`, a
/// `Records` view's and `Sorted::after` too (they answered); the `Option` reads answer from
/// the state as it stands (docs/ENGINES.md says why).
#[test]
fn postgres_profile_refuses_every_result_read_in_an_aborted_transaction() {
    for engine in [Engine::Sqlite, Engine::Postgres] {
        let (mut s, ann, slot) = seeded(engine);
        s.begin().unwrap();
        assert!(s.insert(Person { name: "ann".into() }).is_err());
        let row = [ann.into(), Value::Int(1)];
        let at = [ann.into(), "a".into()];
        let reads: [(&str, Result<(), Error>); 10] = [
            ("try_get", s.try_get(ann).map(drop)),
            ("try_get_owned", s.try_get_owned(ann).map(drop)),
            ("explain_delete", s.explain_delete(slot).map(drop)),
            (
                "range_values",
                s.range_values(Slot::BY_OWNER_ROOM, Included(&at[..1]), Unbounded)
                    .map(drop),
            ),
            ("prefix", s.prefix(Slot::BY_OWNER_ROOM, &at[..1]).map(drop)),
            (
                "find_by_values",
                s.find_by_values(Slot::BY_OWNER_ROOM, &at).map(drop),
            ),
            (
                "find_unique_values",
                s.find_unique_values(Slot::BY_OWNER_DAY, &row).map(drop),
            ),
            ("Records::try_get", s.records::<Person>().try_get(ann).map(drop)),
            (
                "Records::find_unique_values",
                (s.records::<Slot>())
                    .find_unique_values(Slot::BY_OWNER_DAY, &row)
                    .map(drop),
            ),
            (
                "Sorted::after",
                (s.query::<Slot>().order_by(Slot::BY_OWNER_ROOM, Order::Asc))
                    .after(slot, &at)
                    .map(drop),
            ),
        ];
        for (read, got) in reads {
            match engine {
                Engine::Postgres => assert!(
                    matches!(
                        got,
                        Err(Error::TransactionAborted {
                            statement: "insert",
                            ..
                        })
                    ),
                    "{read}: {got:?}"
                ),
                _ => assert_eq!(got, Ok(()), "{read}"),
            }
        }
        assert!(s.get(slot).is_some());
        assert_eq!(s.find_unique(Person::BY_NAME, "ann"), Some(ann));
        assert_eq!(
            s.records::<Person>().find_unique(Person::BY_NAME, "ann"),
            Some(ann)
        );
        s.rollback().unwrap();
        assert_eq!(
            s.records::<Slot>().find_unique_values(Slot::BY_OWNER_DAY, &row),
            Ok(Some(slot))
        );
        assert_eq!(s.find_unique_values(Slot::BY_OWNER_DAY, &row), Ok(Some(slot)));
        assert_eq!(
            s.prefix(Slot::BY_OWNER_ROOM, &at[..1]).map(Iterator::count),
            Ok(1)
        );
    }
}

#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "desks", unique(floor, name))]
struct Desk {
    floor: i64,
    name: String,
}

/// A `Records` view's `find_unique_values` checks its values as the `Store`'s does, under the
/// store's engine: the view borrows the store, so it reads the engine (and whether the
/// transaction is aborted) there.
#[test]
fn a_records_view_refuses_a_nul_byte_in_a_query_value_as_the_store_does() {
    let schema = Schema::builder().entity::<Desk>().build().unwrap();
    let values = [1i64.into(), "a\0".into()];
    for engine in [Engine::Sqlite, Engine::Postgres] {
        let mut s = Store::with_engine(schema.clone(), engine);
        s.insert(Desk {
            floor: 1,
            name: "a".into(),
        })
        .unwrap();
        let by_store = s.find_unique_values(Desk::BY_FLOOR_NAME, &values);
        let by_view = (s.records::<Desk>()).find_unique_values(Desk::BY_FLOOR_NAME, &values);
        assert_eq!(by_view, by_store);
        let expected = match engine {
            Engine::Postgres => Err(Error::NulInText {
                table: "desks",
                column: "name",
                key: None,
            }),
            _ => Ok(None),
        };
        assert_eq!(by_view, expected);
    }
}

/// The reads given `Value`s name a type outside the schema as every `Result` read does,
/// before they look at the values.
#[test]
fn value_reads_of_a_type_outside_the_schema_are_unknown_entity() {
    let s = Store::new(Schema::builder().entity::<Person>().build().unwrap());
    let unknown = |e: Error| matches!(e, Error::UnknownEntity { .. });
    let v = [Value::Int(1), "a".into()];
    assert!(unknown(s.find_unique_values(Slot::BY_OWNER_DAY, &v).unwrap_err()));
    assert!(unknown(
        s.find_by_values(Slot::BY_OWNER_ROOM, &v).map(drop).unwrap_err()
    ));
    let view = s.records::<Slot>();
    assert!(unknown(
        view.find_unique_values(Slot::BY_OWNER_DAY, &v).unwrap_err()
    ));
    assert!(unknown(s.prefix(Slot::BY_OWNER_ROOM, &v).map(drop).unwrap_err()));
    let stale = Key::<Slot>::from_raw(relata::RawKey::default());
    let sorted = s.query::<Slot>().order_by(Slot::BY_OWNER_ROOM, Order::Asc);
    assert!(unknown(sorted.after(stale, &v).map(drop).unwrap_err()));
}

/// Stored as its variant names.
#[derive(relata::Column, Clone, Copy, Debug, PartialEq)]
#[relata(rename_all = "snake_case")]
enum Mood {
    Calm,
}

#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "things", index(price, uid, doc, mood))]
struct Thing {
    price: rust_decimal::Decimal,
    uid: uuid::Uuid,
    doc: serde_json::Value,
    mood: Mood,
}

/// A text value of the right kind in a form its column's type never holds is refused as
/// `ValueType`, as a value of the wrong kind is: an upper-case or unhyphenated UUID,
/// non-canonical JSON, a decimal in another form, an unknown variant name. It matched
/// nothing, so a look-up answered `Ok` with no record (PostgreSQL matches some of these
/// forms and refuses the rest with 22P02; the values a type converts to hold).
#[test]
fn a_text_value_in_a_form_its_column_never_holds_is_a_value_type_error() {
    let mut s = Store::new(Schema::builder().entity::<Thing>().build().unwrap());
    let uid = "67e55044-10b1-426f-9247-bb680e5fe0c8";
    let k = s
        .insert(Thing {
            price: "0.50".parse().unwrap(),
            uid: uid.parse().unwrap(),
            doc: serde_json::json!({"b": 2, "a": 1}),
            mood: Mood::Calm,
        })
        .unwrap();
    let good = [
        Value::Numeric("0.50"),
        Value::Text(uid),
        Value::Text(r#"{"a":1,"b":2}"#),
        Value::Text("calm"),
    ];
    let found = |values: &[Value<'_>]| {
        s.find_by_values(Thing::BY_PRICE_UID_DOC_MOOD, values)
            .map(|i| i.collect::<Vec<_>>())
    };
    assert_eq!(found(&good), Ok(vec![k]));
    // A decimal equal by value matches: the values compare as NUMERIC does.
    let mut equal = good;
    equal[0] = Value::Numeric("0.5");
    assert_eq!(found(&equal), Ok(vec![k]));
    let bad: [(usize, Value<'_>, &str); 8] = [
        (0, Value::Numeric(".5"), "price"),
        (0, Value::Numeric("5e-1"), "price"),
        (0, Value::Numeric("abc"), "price"),
        (1, Value::Text("67E55044-10B1-426F-9247-BB680E5FE0C8"), "uid"),
        (1, Value::Text("67e5504410b1426f9247bb680e5fe0c8"), "uid"),
        (2, Value::Text(r#"{"b": 2, "a": 1}"#), "doc"),
        (2, Value::Text("not json"), "doc"),
        (3, Value::Text("Calm"), "mood"),
    ];
    for (at, value, column) in bad {
        let mut values = good;
        values[at] = value;
        match found(&values) {
            Err(Error::ValueType { column: c, .. }) => assert_eq!(c, column, "{value:?}"),
            other => panic!("{value:?}: expected ValueType, got {other:?}"),
        }
        let prefix = s.prefix(Thing::BY_PRICE_UID_DOC_MOOD, &values[..=at]).map(drop);
        assert!(
            matches!(prefix, Err(Error::ValueType { .. })),
            "{value:?}: {prefix:?}"
        );
    }
}
