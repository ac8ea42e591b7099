//! Upsert: insert-or-update by a named unique constraint, with insert's and update's checks.

use crate::common::*;
use relata::{Error, Upserted};

#[test]
fn upsert_inserts_then_updates_the_holder() {
    let mut s = store();
    let first = ok(&mut s, |s| s.upsert(User::BY_USERNAME, user("alice")));
    let Upserted::Inserted(alice) = first else {
        panic!("expected an insert, got {first:?}")
    };
    let renamed = User {
        username: "alice".into(),
        email: "alice@new.example".into(),
    };
    let second = ok(&mut s, |s| s.upsert(User::BY_USERNAME, renamed.clone()));
    assert_eq!(second, Upserted::Updated(alice));
    assert_eq!(s.get_owned(alice).unwrap(), renamed);
    assert_eq!(s.count::<User>(), 1);
}

#[test]
fn upsert_reports_the_same_errors_as_insert_and_update() {
    let mut s = store();
    let alice = ok(&mut s, |s| s.insert(user("alice")));
    ok(&mut s, |s| s.insert(user("bob")));
    // The update branch: alice would take bob's email.
    let stolen = User {
        username: "alice".into(),
        email: "bob@example.com".into(),
    };
    let update_err = s.clone().replace(alice, stolen.clone()).unwrap_err();
    assert_fails_unchanged(&mut s, &update_err, |s| s.upsert(User::BY_USERNAME, stolen));
    // The insert branch: a new user with bob's email.
    let carol = User {
        username: "carol".into(),
        email: "bob@example.com".into(),
    };
    let insert_err = s.clone().insert(carol.clone()).unwrap_err();
    assert!(matches!(insert_err, Error::UniqueViolation { .. }));
    assert_fails_unchanged(&mut s, &insert_err, |s| s.upsert(User::BY_USERNAME, carol));
    // A missing foreign-key target, through the composite constraint (author, title).
    let gone = ok(&mut s, |s| s.insert(user("gone")));
    ok(&mut s, |s| s.delete(gone));
    let orphan_err = s.clone().insert(post(gone, "t")).unwrap_err();
    assert_fails_unchanged(&mut s, &orphan_err, |s| {
        s.upsert(Post::BY_AUTHOR_TITLE, post(gone, "t"))
    });
}

#[test]
fn composite_upsert_and_upsert_with() {
    let mut s = store();
    let alice = ok(&mut s, |s| s.insert(user("alice")));
    let p = ok(&mut s, |s| s.upsert(Post::BY_AUTHOR_TITLE, post(alice, "hi"))).key();
    let edited = ok(&mut s, |s| {
        s.upsert_with(Post::BY_AUTHOR_TITLE, post(alice, "hi"), |p| p.content.push('!'))
    });
    assert_eq!(edited, Upserted::Updated(p));
    assert_eq!(s.get(p).unwrap().content, "content of hi!");
    assert_eq!(s.find_by(Post::BY_TITLE, "hi").count(), 1);
}

#[test]
fn insert_if_absent_leaves_the_holder_alone() {
    let mut s = store();
    let alice = ok(&mut s, |s| s.insert(user("alice")));
    let before = s.clone();
    let again = User {
        username: "alice".into(),
        email: "other@example.com".into(),
    };
    let got = ok(&mut s, |s| s.insert_if_absent(User::BY_USERNAME, again));
    assert_eq!(got, Upserted::Existing(alice));
    assert!(s == before);
    let bob = ok(&mut s, |s| s.insert_if_absent(User::BY_USERNAME, user("bob")));
    assert!(bob.inserted());
}

#[test]
fn an_upsert_rolled_back_leaves_nothing() {
    let mut s = store();
    let alice = ok(&mut s, |s| s.insert(user("alice")));
    let before = s.clone();
    s.begin().unwrap();
    s.upsert(
        User::BY_USERNAME,
        User {
            username: "alice".into(),
            email: "x@example.com".into(),
        },
    )
    .unwrap();
    s.upsert(User::BY_USERNAME, user("bob")).unwrap();
    s.rollback().unwrap();
    assert!(s == before);
    assert_eq!(s.get_owned(alice).unwrap(), user("alice"));
    s.check_integrity().unwrap();
}
