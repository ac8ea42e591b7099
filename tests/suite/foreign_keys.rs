//! What porting SQLite's foreign-key tests (fkey*.test, e_fkey.test) found, as a new user
//! would meet it: a deferrable one-to-one key, the children of a parent deleted under a
//! deferred key, and RESTRICT versus NO ACTION. Each scenario runs on relata and on SQLite
//! built from relata's DDL, and on PostgreSQL when one is configured.

use crate::common::{pg, File, Folder, User};
use relata::{Dialect, Entity, Error, Key, OnDelete, Schema, Store};
use rusqlite::Connection;

/// A one-to-one key whose restriction is deferred: the seat may lose its user inside a
/// transaction as long as it has a user again at commit.
#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "seats")]
struct Seat {
    label: String,
    #[relata(unique, deferrable, back = "seat")]
    user: Key<User>,
}

fn users_and_seats() -> Schema {
    Schema::builder()
        .entity::<User>()
        .entity::<Seat>()
        .build()
        .unwrap()
}

fn user(name: &str) -> User {
    User {
        username: name.into(),
        email: format!("{name}@x"),
    }
}

fn sqlite(schema: &Schema) -> Connection {
    let db = Connection::open_in_memory().unwrap();
    db.execute_batch("PRAGMA foreign_keys = ON;").unwrap();
    db.execute_batch(&schema.to_sql(Dialect::Sqlite)).unwrap();
    db
}

#[test]
fn a_deferrable_one_to_one_key_lets_the_parent_go_before_the_child_moves() {
    let mut s = Store::new(users_and_seats());
    let (p1, p2) = (s.insert(user("a")).unwrap(), s.insert(user("b")).unwrap());
    let seat = s
        .insert(Seat {
            label: "1A".into(),
            user: p1,
        })
        .unwrap();
    s.begin().unwrap();
    s.delete(p1).unwrap();
    s.update(seat, |x| x.user = p2).unwrap();
    s.commit().unwrap();
    assert_eq!(s.parent(Seat::USER, seat), Some(p2));
    s.check_integrity().unwrap();
    assert!(users_and_seats()
        .to_sql(Dialect::Postgres)
        .contains(r#"FOREIGN KEY ("user_id") REFERENCES "users"("id") DEFERRABLE INITIALLY DEFERRED;"#));
}

#[test]
fn a_deferrable_one_to_one_key_still_fails_at_commit_if_the_child_stayed() {
    let mut s = Store::new(users_and_seats());
    let p1 = s.insert(user("a")).unwrap();
    s.insert(Seat {
        label: "1A".into(),
        user: p1,
    })
    .unwrap();
    s.begin().unwrap();
    s.delete(p1).unwrap();
    let err = s.commit().unwrap_err();
    assert!(
        matches!(&err, Error::CommitFailed { violations } if matches!(violations[..], [Error::Restricted { dependents: 1, .. }])),
        "{err}"
    );
    assert!(s.contains(p1), "the failed commit rolled back");
}

/// SQLite and PostgreSQL commit the same transaction (the seat moves before commit).
#[test]
fn sqlite_and_postgres_commit_the_deferred_one_to_one_move() {
    let script = "BEGIN;
        DELETE FROM users WHERE id = 1;
        UPDATE seats SET user_id = 2 WHERE id = 1;
        COMMIT;";
    let setup = "INSERT INTO users (id, username, email) VALUES (1, 'a', 'a@x'), (2, 'b', 'b@x');
        INSERT INTO seats (id, label, user_id) VALUES (1, '1A', 1);";
    let db = sqlite(&users_and_seats());
    db.execute_batch(setup).unwrap();
    db.execute_batch(script).unwrap();
    if let Some(mut pg) = pg::connect("sqlite_and_postgres_commit_the_deferred_one_to_one_move") {
        pg.client
            .batch_execute(&users_and_seats().to_sql(Dialect::Postgres))
            .unwrap();
        pg.client.batch_execute(setup).unwrap();
        pg.client.batch_execute(script).unwrap();
    }
}

#[test]
fn children_of_a_deleted_but_deferred_parent_are_listed_until_they_move() {
    let mut s = Store::new(
        Schema::builder()
            .entity::<Folder>()
            .entity::<File>()
            .build()
            .unwrap(),
    );
    let (f1, f2) = (
        s.insert(Folder { name: "old".into() }).unwrap(),
        s.insert(Folder { name: "new".into() }).unwrap(),
    );
    let a = s
        .insert(File {
            name: "a".into(),
            folder: f1,
        })
        .unwrap();
    let b = s
        .insert(File {
            name: "b".into(),
            folder: f1,
        })
        .unwrap();
    s.begin().unwrap();
    s.delete(f1).unwrap();
    assert_eq!(s.parent(File::FOLDER, a), Some(f1));
    assert_eq!(s.children(File::FOLDER, f1).collect::<Vec<_>>(), [a, b]);
    assert_eq!(s.child_count(File::FOLDER, f1), 2);
    s.update(a, |x| x.folder = f2).unwrap();
    assert_eq!(s.children(File::FOLDER, f1).collect::<Vec<_>>(), [b]);
    assert_eq!(s.child_count(File::FOLDER, f1), 1);
    for child in s.children(File::FOLDER, f1).collect::<Vec<_>>() {
        s.update(child, |x| x.folder = f2).unwrap();
    }
    assert_eq!(s.child_count(File::FOLDER, f1), 0);
    s.commit().unwrap();
    assert_eq!(s.children(File::FOLDER, f2).collect::<Vec<_>>(), [a, b]);
    s.check_integrity().unwrap();
}

// ----- RESTRICT versus NO ACTION -----

#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "accounts")]
struct Account {
    name: String,
}

#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "threads")]
struct Thread {
    #[relata(back = "threads", on_delete = "cascade")]
    account: Key<Account>,
}

/// A reply is deleted with its thread, and its author may not be deleted while it exists:
/// RESTRICT, checked at once.
#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "replies")]
struct Reply {
    #[relata(back = "replies", on_delete = "cascade")]
    thread: Key<Thread>,
    #[relata(back = "authored", on_delete = "restrict")]
    author: Key<Account>,
}

/// As `Reply`, with NO ACTION (the default): checked at the end of the delete.
#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "reactions")]
struct Reaction {
    #[relata(back = "reactions", on_delete = "cascade")]
    thread: Key<Thread>,
    #[relata(back = "reacted", on_delete = "no_action")]
    author: Key<Account>,
}

fn forum() -> Schema {
    Schema::builder()
        .entity::<Account>()
        .entity::<Thread>()
        .entity::<Reply>()
        .entity::<Reaction>()
        .build()
        .unwrap()
}

#[test]
fn restrict_and_no_action_are_declared_and_exported_under_their_own_names() {
    assert_eq!(Reply::DEF.fks[1].on_delete, OnDelete::Restrict);
    assert_eq!(Reaction::DEF.fks[1].on_delete, OnDelete::NoAction);
    assert_eq!(
        crate::common::Comment::DEF.fks[0].on_delete,
        OnDelete::NoAction,
        "the default"
    );
    let sql = forum().to_sql(Dialect::Sqlite);
    assert!(
        sql.contains("\"author_id\" INTEGER NOT NULL REFERENCES \"accounts\"(\"id\") ON DELETE RESTRICT\n);"),
        "{sql}"
    );
    assert!(
        sql.contains("\"author_id\" INTEGER NOT NULL REFERENCES \"accounts\"(\"id\")\n);"),
        "NO ACTION is SQL's default: no clause\n{sql}"
    );
}

/// An account that wrote in its own thread: deleting it cascades to the thread and from
/// there to what was written in it. RESTRICT refuses at once (the author's reply still exists
/// when the account goes); NO ACTION looks at the end of the delete, when the cascade has
/// removed the reaction. relata (SQLite profile) and SQLite agree.
#[test]
fn restrict_refuses_what_the_same_cascade_would_remove_and_no_action_does_not() {
    let mut s = Store::new(forum());
    let (a, b) = (
        s.insert(Account { name: "a".into() }).unwrap(),
        s.insert(Account { name: "b".into() }).unwrap(),
    );
    let ta = s.insert(Thread { account: a }).unwrap();
    let tb = s.insert(Thread { account: b }).unwrap();
    s.insert(Reply {
        thread: ta,
        author: a,
    })
    .unwrap();
    s.insert(Reaction {
        thread: tb,
        author: b,
    })
    .unwrap();
    let err = s.delete(a).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Restricted {
                child_table: "replies",
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("ON DELETE RESTRICT"), "{err}");
    assert_eq!(s.delete(b).unwrap().deleted.len(), 3);

    let db = sqlite(&forum());
    db.execute_batch(
        "INSERT INTO accounts VALUES (1, 'a'), (2, 'b');
         INSERT INTO threads VALUES (1, 1), (2, 2);
         INSERT INTO replies VALUES (1, 1, 1);
         INSERT INTO reactions VALUES (1, 2, 2);",
    )
    .unwrap();
    let refused = db.execute("DELETE FROM accounts WHERE id = 1", []).unwrap_err();
    assert!(refused.to_string().contains("FOREIGN KEY constraint failed"));
    assert_eq!(db.execute("DELETE FROM accounts WHERE id = 2", []).unwrap(), 1);
}

/// A NO ACTION child that outlives the delete is named as such.
#[test]
fn a_no_action_refusal_says_no_action() {
    let mut s = Store::new(forum());
    let (a, b) = (
        s.insert(Account { name: "a".into() }).unwrap(),
        s.insert(Account { name: "b".into() }).unwrap(),
    );
    let tb = s.insert(Thread { account: b }).unwrap();
    s.insert(Reaction {
        thread: tb,
        author: a,
    })
    .unwrap();
    let err = s.delete(a).unwrap_err().to_string();
    assert!(err.contains("ON DELETE NO ACTION"), "{err}");
}
