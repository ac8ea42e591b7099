//! User column types (`AsColumn`, `#[derive(Column)]`) and `Vec<u8>`: each through insert,
//! get, update, unique and secondary look-ups, snapshot save and load, JSON, diffs, errors
//! and DDL applied to SQLite.

use relata::{Column, Dialect, Entity, Error, Schema, Store};
use rusqlite::Connection;

/// A newtype stored as its text.
#[derive(Column, Clone, Debug, PartialEq)]
pub struct Email(pub String);

/// An enum stored as its (renamed) variant names.
#[derive(Column, Clone, Copy, Debug, PartialEq)]
#[relata(rename_all = "snake_case")]
pub enum Status {
    Active,
    OnHold,
    #[relata(rename = "gone")]
    Closed,
}

/// An enum stored as its discriminants.
#[derive(Column, Clone, Copy, Debug, PartialEq)]
#[relata(integer)]
pub enum Level {
    Low = 1,
    High = 10,
}

#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "accounts")]
pub struct Account {
    #[relata(unique)]
    email: Email,
    #[relata(index)]
    status: Status,
    #[relata(index)]
    level: Option<Level>,
    #[relata(unique)]
    avatar: Vec<u8>,
}

fn store() -> Store {
    Store::new(Schema::builder().entity::<Account>().build().unwrap())
}

fn account(email: &str, status: Status, level: Option<Level>, avatar: &[u8]) -> Account {
    Account {
        email: Email(email.into()),
        status,
        level,
        avatar: avatar.to_vec(),
    }
}

#[test]
fn round_trip_through_insert_get_update() {
    let mut s = store();
    let a = account("a@x", Status::OnHold, Some(Level::High), b"\x00\xff");
    let k = s.insert(a.clone()).unwrap();
    let view = s.get(k).unwrap();
    assert_eq!(view.email, "a@x", "a text newtype reads as text");
    assert_eq!(view.status, Status::OnHold);
    assert_eq!(view.level, Some(Level::High));
    assert_eq!(view.avatar, b"\x00\xff");
    assert_eq!(s.try_get_owned(k).unwrap(), a);
    let b = account("b@x", Status::Closed, None, b"");
    s.replace(k, b.clone()).unwrap();
    s.update(k, |a| a.status = Status::Active).unwrap();
    assert_eq!(s.get(k).unwrap().status, Status::Active);
    s.update(k, |a| a.status = Status::Closed).unwrap();
    assert_eq!(s.try_get_owned(k).unwrap(), b);
    s.check_integrity().unwrap();
}

#[test]
fn unique_and_secondary_look_ups_take_the_type() {
    let mut s = store();
    let a = s
        .insert(account("a@x", Status::Active, Some(Level::Low), b"1"))
        .unwrap();
    let b = s
        .insert(account("b@x", Status::Active, Some(Level::High), b"2"))
        .unwrap();
    let c = s.insert(account("c@x", Status::Closed, None, b"3")).unwrap();
    assert_eq!(s.find_unique(Account::BY_EMAIL, &Email("b@x".into())), Some(b));
    assert_eq!(s.find_unique(Account::BY_AVATAR, b"3".as_slice()), Some(c));
    let active: Vec<_> = s.find_by(Account::BY_STATUS, &Status::Active).collect();
    assert_eq!(active, [a, b]);
    let high: Vec<_> = s.find_by(Account::BY_LEVEL, &Level::High).collect();
    assert_eq!(high, [b]);
    let err = s.insert(account("a@x", Status::Active, None, b"4")).unwrap_err();
    assert!(
        matches!(err, Error::UniqueViolation { ref value, .. } if value == "'a@x'"),
        "{err}"
    );
    let err = s.insert(account("d@x", Status::Active, None, b"1")).unwrap_err();
    assert!(
        matches!(err, Error::UniqueViolation { ref value, .. } if value == "x'31'"),
        "{err}"
    );
    s.check_integrity().unwrap();
}

#[test]
fn snapshot_json_and_diff_show_the_stored_forms() {
    let mut s = store();
    let mark = s.mark().unwrap();
    s.insert(account("a@x", Status::OnHold, Some(Level::High), b"\xab"))
        .unwrap();
    let diff = s.changes_since(&mark).unwrap().to_string();
    assert!(
        diff.contains("email: 'a@x', status: 'on_hold', level: 10, avatar: x'ab'"),
        "{diff}"
    );
    let json = s.to_json();
    assert!(
        json.contains(r#""status": "on_hold""#) && json.contains(r#""level": 10"#),
        "{json}"
    );
    s.reset(&mark).unwrap();
    s.insert(account("a@x", Status::Closed, None, b"\xab\xcd"))
        .unwrap();
    let bytes = s.to_snapshot().unwrap();
    let again = Store::from_snapshot(Schema::builder().entity::<Account>().build().unwrap(), &bytes).unwrap();
    assert!(again == s);
    again.check_integrity().unwrap();
    let (_, view) = again.iter::<Account>().next().unwrap();
    assert_eq!((view.status, view.avatar), (Status::Closed, &b"\xab\xcd"[..]));
}

/// A snapshot whose enum column holds a name that is no variant is refused, not read as
/// some variant.
#[test]
fn snapshot_with_an_unknown_enum_name_is_refused() {
    let mut s = store();
    s.insert(account("a@x", Status::Active, None, b"")).unwrap();
    let bytes = s.to_snapshot().unwrap();
    let at = bytes.windows(6).position(|w| w == b"active").unwrap();
    let mut bad = bytes.clone();
    bad[at..at + 6].copy_from_slice(b"actixe");
    relata::__private::reseal(&mut bad);
    let err = Store::from_snapshot(Schema::builder().entity::<Account>().build().unwrap(), &bad).unwrap_err();
    assert!(
        err.to_string().contains("status holds no value of its type"),
        "{err}"
    );
}

#[test]
fn ddl_types_apply_to_sqlite() {
    let schema = Schema::builder().entity::<Account>().build().unwrap();
    let sql = schema.to_sql(Dialect::Sqlite);
    assert!(sql.contains(r#""email" TEXT NOT NULL"#), "{sql}");
    assert!(sql.contains(r#""level" INTEGER,"#), "{sql}");
    assert!(sql.contains(r#""avatar" BLOB NOT NULL"#), "{sql}");
    let pg = schema.to_sql(Dialect::Postgres);
    assert!(pg.contains(r#""avatar" BYTEA NOT NULL"#), "{pg}");
    let conn = Connection::open_in_memory().unwrap();
    conn.execute_batch(&sql).unwrap();
    conn.execute(
        "INSERT INTO accounts (id, email, status, level, avatar) VALUES (1, 'a@x', 'active', 1, x'00')",
        [],
    )
    .unwrap();
    let dup = conn.execute(
        "INSERT INTO accounts (id, email, status, level, avatar) VALUES (2, 'b@x', 'active', 1, x'00')",
        [],
    );
    assert!(dup.unwrap_err().to_string().contains("accounts.avatar"));
}

#[test]
fn postgres_accepts_the_ddl() {
    let Some(mut pg) = crate::common::pg::connect("column_types::postgres_accepts_the_ddl") else {
        return;
    };
    let sql = Schema::builder()
        .entity::<Account>()
        .build()
        .unwrap()
        .to_sql(Dialect::Postgres);
    pg.client
        .batch_execute(&sql)
        .unwrap_or_else(|e| panic!("DDL rejected by PostgreSQL: {e}\n{sql}"));
}
