//! JSON fixtures: every field type, symbolic references (backward, forward, cyclic through
//! nullable keys), relations, each kind of bad input with its typed error and path, atomicity,
//! and the round trip from `to_json`.

use crate::common::*;
use crate::suite::column_types::{Email, Level, Status};
use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use relata::{Engine, Entity, Error, FixtureError, Key, ManyToMany, Schema, Store};

/// Every built-in column type, optional or not, and user column types.
#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "kinds")]
struct Kinds {
    text: String,
    maybe: Option<String>,
    i_8: i8,
    i_16: i16,
    i_32: i32,
    i_64: i64,
    u_8: u8,
    u_16: u16,
    u_32: u32,
    u_64: u64,
    yes: bool,
    f_32: f32,
    f_64: f64,
    blob: Vec<u8>,
    email: Email,
    status: Status,
    level: Option<Level>,
    at: DateTime<Utc>,
    local: NaiveDateTime,
    day: NaiveDate,
    public_id: uuid::Uuid,
    price: rust_decimal::Decimal,
    settings: serde_json::Value,
}

fn kinds_store() -> Store {
    Store::new(Schema::builder().entity::<Kinds>().build().unwrap())
}

fn kinds() -> Kinds {
    Kinds {
        text: "tab\there \"quoted\" é".into(),
        maybe: None,
        i_8: -128,
        i_16: -32768,
        i_32: i32::MIN,
        i_64: i64::MIN,
        u_8: 255,
        u_16: 65535,
        u_32: u32::MAX,
        u_64: u64::MAX,
        yes: true,
        f_32: 1.5,
        f_64: -0.25,
        blob: vec![0, 1, 255],
        email: Email("a@x".into()),
        status: Status::OnHold,
        level: Some(Level::High),
        at: Utc.with_ymd_and_hms(2024, 2, 29, 23, 59, 58).unwrap() + chrono::Duration::microseconds(123_456),
        local: NaiveDate::from_ymd_opt(1969, 12, 31)
            .unwrap()
            .and_hms_opt(1, 2, 3)
            .unwrap(),
        day: NaiveDate::from_ymd_opt(2000, 1, 1).unwrap(),
        public_id: uuid::Uuid::from_bytes([7; 16]),
        price: rust_decimal::Decimal::new(1050, 2),
        settings: serde_json::json!({"b": [1, 2], "a": null}),
    }
}

#[test]
fn every_field_type_round_trips_through_to_json() {
    let mut s = kinds_store();
    s.insert(kinds()).unwrap();
    s.insert(Kinds {
        maybe: Some("x".into()),
        level: None,
        ..kinds()
    })
    .unwrap();
    let json = s.to_json();
    let (back, _) = Store::from_json(s.schema().clone(), &json).unwrap();
    assert!(back == s, "{json}\n{}", back.to_json());
    assert_eq!(back.to_json(), json);
    back.check_integrity().unwrap();
}

#[test]
fn a_hand_written_record_of_every_type() {
    let mut s = kinds_store();
    let f = s
        .insert_json(
            r#"{"kinds": [{"id": "k", "text": "t", "i_8": 1, "i_16": 2, "i_32": 3, "i_64": 4,
            "u_8": 5, "u_16": 6, "u_32": 7, "u_64": 8, "yes": false, "f_32": 2, "f_64": 0.5,
            "blob": [104, 105], "email": "e@x", "status": "gone", "at": "2024-01-02T03:04:05Z",
            "local": "2024-01-02T03:04:05.5", "day": "2024-01-02",
            "public_id": "07070707-0707-0707-0707-070707070707", "price": "1.50",
            "settings": "{\"a\":1}"}]}"#,
        )
        .unwrap();
    let k = s.try_get_owned(f.key::<Kinds>("k").unwrap()).unwrap();
    assert_eq!((k.maybe, k.level, k.status), (None, None, Status::Closed));
    assert_eq!((k.i_8, k.u_64, k.f_32, k.blob), (1, 8, 2.0, b"hi".to_vec()));
    assert_eq!(k.at, Utc.with_ymd_and_hms(2024, 1, 2, 3, 4, 5).unwrap());
    assert_eq!(k.local.to_string(), "2024-01-02 03:04:05.500");
    assert_eq!(k.price.to_string(), "1.50");
    assert_eq!(k.settings, serde_json::json!({"a": 1}));
}

/// A hand-written fixture gives a JSON column its document (or its text in any spacing and
/// key order) and a UUID in any form PostgreSQL reads; both are stored as `to_json` writes
/// them. They were refused ("expected a string", "a value of serde_json::value::Value", "a
/// value of uuid"): only the canonical text and the lower-case hyphenated form loaded
/// (adversarial probe, 8 Dec).
#[test]
fn a_fixture_gives_json_as_a_document_and_uuids_in_any_postgres_form() {
    let record = |settings: &str, uuid: &str| {
        format!(
            r#"{{"kinds": [{{"text": "t", "i_8": 1, "i_16": 2, "i_32": 3, "i_64": 4, "u_8": 5,
            "u_16": 6, "u_32": 7, "u_64": 8, "yes": false, "f_32": 2, "f_64": 0.5, "blob": [],
            "email": "e@x", "status": "gone", "at": "2024-01-02T03:04:05Z",
            "local": "2024-01-02T03:04:05", "day": "2024-01-02", "price": "1.50",
            "public_id": "{uuid}", "settings": {settings}}}]}}"#
        )
    };
    let uuid = uuid::Uuid::parse_str("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11").unwrap();
    for (settings, given) in [
        (
            r#"{"b": [1, 2], "a": {"c": null}}"#,
            "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11",
        ),
        (
            r#""{ \"b\": [1, 2], \"a\": {\"c\": null} }""#,
            "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}",
        ),
        (
            r#"{"a": {"c": null}, "b": [1, 2]}"#,
            "a0eebc999c0b4ef8bb6d6bb9bd380a11",
        ),
        ("{}", "{a0eebc999c0b4ef8bb6d6bb9bd380a11}"),
        ("{}", "a0ee-bc99-9c0b-4ef8-bb6d-6bb9-bd38-0a11"),
    ] {
        let mut s = kinds_store();
        s.insert_json(&record(settings, given)).unwrap();
        let k = s.try_get_owned(s.keys::<Kinds>().next().unwrap()).unwrap();
        if settings != "{}" {
            let document = serde_json::json!({"a": {"c": null}, "b": [1, 2]});
            assert_eq!(k.settings, document, "{settings}");
        }
        assert_eq!(k.public_id, uuid, "{given}");
        let (back, _) = Store::from_json(s.schema().clone(), &s.to_json()).unwrap();
        assert!(back == s);
    }
    // What PostgreSQL's input refuses is refused (`uuid::Uuid::try_parse` takes the first).
    for given in [
        "urn:uuid:a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
        "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1",
        "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11-",
        "-a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
        "a0eeb-c99-9c0b-4ef8-bb6d-6bb9bd380a11",
        "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
        "+0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
        "a0eebc99--9c0b-4ef8-bb6d-6bb9bd380a11",
    ] {
        let mut s = kinds_store();
        let err = load_err(&mut s, &record("{}", given));
        assert!(matches!(err, FixtureError::BadValue { .. }), "{given}: {err:?}");
    }
}

fn load_err(s: &mut Store, json: &str) -> FixtureError {
    let before = s.clone();
    let err = s.insert_json(json).unwrap_err();
    assert!(*s == before, "a failed load changed the store: {err}");
    s.check_integrity().unwrap();
    err
}

#[test]
fn values_of_the_wrong_type_name_the_field() {
    let mut s = kinds_store();
    let good = serde_json::to_value(
        serde_json::from_str::<serde_json::Value>(&{
            let mut t = kinds_store();
            t.insert(kinds()).unwrap();
            t.to_json()
        })
        .unwrap()["kinds"][0]
            .clone(),
    )
    .unwrap();
    for (field, bad, expected) in [
        ("i_8", serde_json::json!(128), "an integer (i8)"),
        ("u_8", serde_json::json!(-1), "a non-negative integer (u8)"),
        ("u_64", serde_json::json!(1.5), "a non-negative integer (u64)"),
        ("text", serde_json::json!(1), "a string"),
        // Beyond f32's range, or nonzero and too small for it: PostgreSQL's REAL refuses
        // both; they were stored as an infinity and 0 (adversarial probe, 8 Dec).
        ("f_32", serde_json::json!(1e300), "a number or"),
        ("f_32", serde_json::json!(-1e39), "a number or"),
        ("f_32", serde_json::json!(1e-50), "a number or"),
        ("yes", serde_json::json!("true"), "true or false (bool)"),
        ("blob", serde_json::json!([256]), "an array of bytes (0 to 255)"),
        ("status", serde_json::json!("sleeping"), "a value of"),
        ("public_id", serde_json::json!("not-a-uuid"), "a value of uuid"),
        // The form the export writes, not the representation's (microseconds, an i64).
        (
            "at",
            serde_json::json!("yesterday"),
            "an RFC 3339 timestamp such as \"2024-01-02T03:04:05Z\"",
        ),
        (
            "day",
            serde_json::json!("monday"),
            "a date such as \"2024-01-02\"",
        ),
    ] {
        let mut record = good.clone();
        record[field] = bad;
        record.as_object_mut().unwrap().remove("id");
        let doc = serde_json::json!({ "kinds": [good.clone(), record] }).to_string();
        match load_err(&mut s, &doc) {
            FixtureError::BadValue {
                path, expected: e, ..
            } => {
                assert_eq!(path, format!("kinds[1].{field}"));
                assert!(e.starts_with(expected), "{field}: {e}");
            }
            other => panic!("{field}: {other:?}"),
        }
    }
}

#[test]
fn symbolic_ids_forward_references_and_relations() {
    const FOLLOWS: ManyToMany<User, User> =
        ManyToMany::new("follows", "following", "followers").columns("follower_id", "followee_id");
    let schema = Schema::builder()
        .entity::<User>()
        .entity::<Post>()
        .entity::<Node>()
        .entity::<Employee>()
        .relation(FOLLOWS)
        .build()
        .unwrap();
    let mut s = Store::new(schema);
    let f = s
        .insert_json(
            r#"{
        "posts": [{"id": "hello", "title": "Hello", "content": "", "author_id": "bob"}],
        "users": [{"id": "alice", "username": "alice", "email": "a@x"},
                  {"id": "bob", "username": "bob", "email": "b@x"}],
        "nodes": [{"id": "leaf", "name": "leaf", "parent": "root"}, {"id": "root", "name": "root"}],
        "employees": [{"id": "a", "name": "a", "manager_id": "b"}, {"id": "b", "name": "b", "manager_id": "a"}],
        "relations": {"follows": [["alice", "bob"], ["bob", "alice"]]}
    }"#,
        )
        .unwrap();
    let (alice, bob) = (f.key::<User>("alice").unwrap(), f.key::<User>("bob").unwrap());
    let hello = f.key::<Post>("hello").unwrap();
    assert_eq!(s.get(hello).unwrap().author, bob);
    assert_eq!(s.rights(FOLLOWS, alice).collect::<Vec<_>>(), [bob]);
    let (leaf, root) = (f.key::<Node>("leaf").unwrap(), f.key::<Node>("root").unwrap());
    assert_eq!(
        s.get(leaf).unwrap().parent,
        Some(root),
        "a nullable key set once its record exists"
    );
    let (a, b) = (f.key::<Employee>("a").unwrap(), f.key::<Employee>("b").unwrap());
    assert_eq!(
        (s.get(a).unwrap().manager, s.get(b).unwrap().manager),
        (Some(b), Some(a))
    );
    assert_eq!(f.len(), 7);
    // A second fixture adds to the store and may reference its records by key.
    let more = format!(
        r#"{{"posts": [{{"title": "Again", "content": "", "author": "{}"}}]}}"#,
        alice.raw()
    );
    s.insert_json(&more).unwrap();
    assert_eq!(s.child_count(Post::AUTHOR, alice), 1);
    s.check_integrity().unwrap();
}

#[test]
fn every_kind_of_bad_input_has_its_typed_error() {
    let mut s = store();
    let alice = r#"{"id": "alice", "username": "alice", "email": "a@x"}"#;
    let err = load_err(&mut s, r#"{"users": [ }"#);
    assert!(
        matches!(&err, FixtureError::Malformed { path, message } if path == "$" && message.contains("line 1")),
        "{err}"
    );
    let err = load_err(&mut s, r#"{"users": {"a": 1}}"#);
    assert!(
        matches!(&err, FixtureError::Malformed { path, .. } if path == "users"),
        "{err}"
    );
    let err = load_err(&mut s, r#"{"people": []}"#);
    assert!(matches!(&err, FixtureError::UnknownTable { table, .. } if table == "people"));
    let err = load_err(
        &mut s,
        &format!(r#"{{"users": [{alice}, {{"username": "b", "emial": "b@x"}}]}}"#),
    );
    assert_eq!(
        err.to_string(),
        r#"users[1].emial: unknown field "emial" of users"#
    );
    let err = load_err(&mut s, r#"{"users": [{"username": "b"}]}"#);
    assert_eq!(
        err,
        FixtureError::MissingField {
            path: "users[0].email".into(),
            table: "users",
            column: "email"
        }
    );
    // `null` on a NOT NULL column is the same constraint as leaving it out, not a type error.
    let err = load_err(&mut s, r#"{"users": [{"username": "b", "email": null}]}"#);
    assert_eq!(
        err.to_string(),
        "users[0].email: NOT NULL constraint failed: users.email is null"
    );
    assert!(matches!(err, FixtureError::NullField { column: "email", .. }));
    let err = load_err(
        &mut s,
        &format!(
            r#"{{"users": [{alice}], "posts": [{{"title": "t", "content": "", "author_id": "alicia"}}]}}"#
        ),
    );
    assert_eq!(
        err,
        FixtureError::DanglingReference {
            path: "posts[0].author_id".into(),
            table: "users",
            id: "alicia".into()
        }
    );
    let err = load_err(&mut s, &format!(r#"{{"users": [{alice}, {alice}]}}"#));
    assert_eq!(
        err,
        FixtureError::DuplicateId {
            path: "users[1]".into(),
            id: "alice".into(),
            first: "users[0]".into()
        }
    );
    let err = load_err(
        &mut s,
        &format!(
            r#"{{"users": [{alice}, {{"username": "b", "email": "b@x"}}, {{"username": "c", "email": "c@x"}}, {{"username": "alice", "email": "d@x"}}]}}"#
        ),
    );
    assert!(
        err.to_string()
            .starts_with("users[3].username: UNIQUE constraint failed: users.username"),
        "{err}"
    );
    assert!(matches!(
        err,
        FixtureError::Constraint {
            error: Error::UniqueViolation { .. },
            ..
        }
    ));
    // A one-to-one key taken twice, and a link to no record.
    let err = load_err(
        &mut s,
        &format!(
            r#"{{"users": [{alice}], "profiles": [{{"bio": "", "user": "alice"}}, {{"bio": "", "user_id": "alice"}}]}}"#
        ),
    );
    assert!(
        err.to_string()
            .starts_with("profiles[1].user_id: UNIQUE constraint failed"),
        "{err}"
    );
    assert_eq!(s.count::<User>(), 0);
}

/// Two records whose required keys reference each other cannot be loaded.
#[derive(Entity, Clone, Debug, PartialEq)]
struct Hen {
    #[relata(back = "hens")]
    egg: Key<Egg>,
}
#[derive(Entity, Clone, Debug, PartialEq)]
struct Egg {
    #[relata(back = "eggs")]
    hen: Key<Hen>,
}

#[test]
fn a_cycle_of_required_keys_is_an_error_not_a_loop() {
    let mut s = Store::new(Schema::builder().entity::<Hen>().entity::<Egg>().build().unwrap());
    let err = load_err(
        &mut s,
        r#"{"hens": [{"id": "h", "egg": "e"}], "eggs": [{"id": "e", "hen": "h"}]}"#,
    );
    assert_eq!(
        err,
        FixtureError::ReferenceCycle {
            path: "hens[0].egg_id".into(),
            table: "eggs",
            id: "e".into()
        }
    );
}

#[test]
fn an_acyclic_key_is_checked_on_load() {
    let mut s = store();
    let err = load_err(
        &mut s,
        r#"{"nodes": [{"id": "a", "name": "a", "parent": "b"}, {"id": "b", "name": "b", "parent": "a"}]}"#,
    );
    assert!(
        matches!(&err, FixtureError::Constraint { error: Error::Cycle { .. }, path } if path.ends_with(".parent_id")),
        "{err}"
    );
}

#[test]
fn a_failed_load_inside_a_transaction_leaves_it_open_and_unchanged() {
    let mut s = store();
    s.begin().unwrap();
    s.insert(user("alice")).unwrap();
    let err = load_err(
        &mut s,
        r#"{"users": [{"username": "bob", "email": "b@x"}, {"username": "alice", "email": "c@x"}]}"#,
    );
    assert!(matches!(err, FixtureError::Constraint { .. }));
    assert!(s.in_transaction());
    s.commit().unwrap();
    assert_eq!(s.count::<User>(), 1);
}

#[test]
fn a_populated_store_round_trips() {
    let (mut s, mut f) = (store(), factories());
    f.create_many::<Comment>(&mut s, 3).unwrap();
    f.create_many::<UserGroup>(&mut s, 2).unwrap();
    f.create::<Profile>(&mut s).unwrap();
    let root = f.create::<Node>(&mut s).unwrap();
    f.build::<Node>()
        .with(move |n| n.parent = Some(root))
        .create_many(&mut s, 2)
        .unwrap();
    let json = s.to_json();
    let (back, _) = Store::from_json(s.schema().clone(), &json).unwrap();
    assert!(back == s);
    assert_eq!(back.to_json(), json);
}

/// JSON carries no engine: `from_json` builds an `Engine::Sqlite` store as `Store::new` does,
/// and `insert_json` keeps the engine of the store it loads into. `==` compares data, not the
/// engine profiles.
#[test]
fn from_json_builds_a_sqlite_store_and_insert_json_keeps_the_engine() {
    let mut saved = kinds_store();
    // BIGINT's largest value: Engine::Postgres refuses a u64 above it (pg_values.rs).
    let held = Kinds {
        u_64: i64::MAX as u64,
        ..kinds()
    };
    saved.insert(held).unwrap();
    let json = saved.to_json();
    let schema = || Schema::builder().entity::<Kinds>().build().unwrap();
    let (sqlite, _) = Store::from_json(schema(), &json).unwrap();
    let mut pg = Store::with_engine(schema(), Engine::Postgres);
    pg.insert_json(&json).unwrap();
    pg.check_integrity().unwrap();
    assert_eq!((sqlite.engine(), pg.engine()), (Engine::Sqlite, Engine::Postgres));
    assert!(sqlite == pg && pg == saved);
}

/// A field named `id` kept under another column, as the derive tells a UUID or code key to
/// be written: a record's `"id"` is its name in the fixture, never that field's value.
#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "coded")]
struct Coded {
    #[relata(unique, column = "code")]
    id: String,
}

#[test]
fn a_records_id_is_its_name_not_a_field_spelled_id() {
    let mut s = Store::new(Schema::builder().entity::<Coded>().build().unwrap());
    let err = load_err(&mut s, r#"{"coded": [{"id": "first"}]}"#);
    assert!(
        matches!(
            err,
            FixtureError::MissingField {
                table: "coded",
                column: "code",
                ..
            }
        ),
        "{err:?}"
    );
    let loaded = s
        .insert_json(r#"{"coded": [{"id": "first", "code": "A-1"}]}"#)
        .unwrap();
    let k = loaded.key::<Coded>("first").unwrap();
    assert_eq!(s.get(k).unwrap().id, "A-1");
}

/// An `#[relata(id)]` field kept under another column is still named by the record's `"id"`,
/// as the export writes it.
#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "numbered")]
struct Numbered {
    #[relata(id, column = "number")]
    id: i64,
    name: String,
}

#[test]
fn an_id_field_under_another_column_is_given_by_the_records_id() {
    let mut s = Store::new(Schema::builder().entity::<Numbered>().build().unwrap());
    let loaded = s
        .insert_json(r#"{"numbered": [{"id": 17, "name": "a"}]}"#)
        .unwrap();
    let k = loaded.key::<Numbered>("17").unwrap();
    assert_eq!(s.get(k).unwrap().id, 17);
    assert_eq!(s.find_unique(Numbered::BY_ID, &17), Some(k));
}

/// An `#[relata(id)]` field under another name is given by the record's `"id"` too.
#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "tickets")]
struct Ticket {
    #[relata(id)]
    number: i64,
    title: String,
}

#[test]
fn an_id_field_under_another_name_is_given_by_the_records_id() {
    let mut s = Store::new(Schema::builder().entity::<Ticket>().build().unwrap());
    let json = r#"{"tickets": [{"id": 17, "title": "a"}, {"id": 1, "title": "b"}, {"number": 5, "id": 9, "title": "c"}]}"#;
    let loaded = s.insert_json(json).unwrap();
    for (name, number) in [("17", 17), ("1", 1), ("9", 5)] {
        let k = loaded.key::<Ticket>(name).unwrap();
        assert_eq!(s.get(k).unwrap().number, number, "record {name}");
    }
    s.check_integrity().unwrap();
}

/// Floats of every kind, NOT NULL and nullable, both widths.
#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "readings")]
struct Reading {
    x: f64,
    y: Option<f64>,
    z: f32,
    w: Option<f32>,
}

/// NaN and the infinities are written as the strings PostgreSQL's float input takes ("NaN",
/// "Infinity", "-Infinity"), not as `null` (which a NOT NULL field refuses and an `Option`
/// reads as `None`), and load back: `to_json` round-trips every float.
#[test]
fn nan_and_infinities_round_trip_through_to_json_as_postgres_spells_them() {
    let schema = Schema::builder().entity::<Reading>().build().unwrap();
    let odd = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY];
    let mut s = Store::new(schema.clone());
    for x in odd {
        s.insert(Reading {
            x,
            y: Some(x),
            z: x as f32,
            w: Some(x as f32),
        })
        .unwrap();
    }
    s.insert(Reading {
        x: -0.0,
        y: None,
        z: 3.4e38,
        w: None,
    })
    .unwrap();
    s.insert(Reading {
        x: f64::MIN_POSITIVE / 4.0,
        y: Some(1e308),
        z: 1e-45,
        w: Some(-1.5),
    })
    .unwrap();
    let json = s.to_json();
    for word in ["\"NaN\"", "\"Infinity\"", "\"-Infinity\""] {
        assert_eq!(json.matches(word).count(), 4, "{word} in {json}");
    }
    let (back, _) = Store::from_json(schema.clone(), &json).unwrap();
    assert!(back == s, "{json}\n{}", back.to_json());
    assert_eq!(back.to_json(), json);
    let got: Vec<Reading> = back
        .iter::<Reading>()
        .map(|(k, _)| back.try_get_owned(k).unwrap())
        .collect();
    assert!(got[0].x.is_nan() && got[0].y.is_some_and(f64::is_nan) && got[0].z.is_nan());
    assert_eq!(
        (got[1].x, got[1].y, got[1].z, got[1].w),
        (
            f64::INFINITY,
            Some(f64::INFINITY),
            f32::INFINITY,
            Some(f32::INFINITY)
        )
    );
    assert_eq!(got[2].w, Some(f32::NEG_INFINITY));

    // Exactly those strings, no other spelling and no other text.
    let mut t = Store::new(schema);
    for bad in ["nan", "inf", "-inf", "+Infinity", "1.5", ""] {
        let doc = serde_json::json!({ "readings": [{ "x": bad, "z": 1.0 }] }).to_string();
        match load_err(&mut t, &doc) {
            FixtureError::BadValue { path, expected, .. } => {
                assert_eq!(path, "readings[0].x");
                assert!(expected.contains("\"NaN\""), "{expected}");
            }
            other => panic!("{bad}: {other:?}"),
        }
    }
}

/// `from_json(to_json(store))` gives the store back, keys included, whatever order the schema
/// lists its tables in. With a referencing table listed first, a record waiting for its
/// referenced one was inserted after the records of its table that did not wait, and the
/// two traded keys (adversarial probe, 8 Dec). Tables are now inserted after the tables their
/// keys reference.
#[test]
fn to_json_loads_back_with_its_keys_when_a_referencing_table_is_listed_first() {
    #[derive(Entity, Clone, Debug, PartialEq)]
    #[relata(table = "notes")]
    struct Note {
        #[relata(on_delete = "set_null", back = "notes")]
        owner: Option<Key<Owner>>,
        #[relata(on_delete = "cascade", back = "notes")]
        book: Option<Key<Book>>,
    }
    #[derive(Entity, Clone, Debug, PartialEq)]
    #[relata(table = "books")]
    struct Book {
        #[relata(on_delete = "cascade", back = "books")]
        owner: Key<Owner>,
    }
    #[derive(Entity, Clone, Debug, PartialEq)]
    #[relata(table = "owners")]
    struct Owner {
        name: String,
    }
    let schema = Schema::builder()
        .entity::<Note>()
        .entity::<Book>()
        .entity::<Owner>()
        .build()
        .unwrap();
    let mut store = Store::new(schema.clone());
    let ann = store.insert(Owner { name: "ann".into() }).unwrap();
    let bob = store.insert(Owner { name: "bob".into() }).unwrap();
    let b1 = store.insert(Book { owner: bob }).unwrap();
    let b2 = store.insert(Book { owner: ann }).unwrap();
    let notes = [
        (Some(ann), None),
        (None, None),
        (None, Some(b1)),
        (Some(bob), Some(b2)),
    ];
    for (owner, book) in notes {
        store.insert(Note { owner, book }).unwrap();
    }
    let (back, _) = Store::from_json(schema, &store.to_json()).unwrap();
    assert!(back == store, "{}\n{}", store.to_json(), back.to_json());
}
