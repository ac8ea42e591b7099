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
    assert_eq!(s.try_get_owned(alice).unwrap(), renamed);
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
    assert_eq!(s.try_get_owned(alice).unwrap(), user("alice"));
    s.check_integrity().unwrap();
}

fn non_negative(h: &Handle) -> bool {
    h.score >= 0
}

/// A table whose rows have checks of their own: a `max_len` and a CHECK.
#[derive(relata::Entity, Clone, Debug, PartialEq)]
#[relata(table = "handles", check(non_negative, name = "ck_score", sql = "score >= 0"))]
struct Handle {
    #[relata(unique)]
    name: String,
    #[relata(max_len = 3)]
    nick: String,
    score: i64,
}

/// SQLite and PostgreSQL check the proposed row (CHECK, `VARCHAR(N)`) before they look for
/// a conflict, so even `DO NOTHING` refuses a bad row whose key is taken (found by the
/// differential test).
#[test]
fn the_proposed_row_is_checked_before_the_conflict() {
    let mut s = relata::Store::new(relata::Schema::builder().entity::<Handle>().build().unwrap());
    let handle = |nick: &str, score| Handle {
        name: "ann".into(),
        nick: nick.into(),
        score,
    };
    ok(&mut s, |s| s.insert(handle("a", 1)));
    let too_long = Error::TooLong {
        table: "handles",
        column: "nick",
        key: None,
        limit: 3,
        length: 4,
    };
    let check = Error::CheckViolation {
        table: "handles",
        constraint: "ck_score",
        key: None,
        values: vec![("score", "-1".into())],
    };
    assert_fails_unchanged(&mut s, &too_long, |s| {
        s.insert_if_absent(Handle::BY_NAME, handle("abcd", 1))
    });
    assert_fails_unchanged(&mut s, &check, |s| {
        s.insert_if_absent(Handle::BY_NAME, handle("b", -1))
    });
    assert_fails_unchanged(&mut s, &too_long, |s| {
        s.upsert_with(Handle::BY_NAME, handle("abcd", 1), |_| ())
    });
    assert_fails_unchanged(&mut s, &check, |s| {
        s.upsert_with(Handle::BY_NAME, handle("b", -1), |_| ())
    });
    let existing = ok(&mut s, |s| s.insert_if_absent(Handle::BY_NAME, handle("abc", 2)));
    assert!(!existing.inserted());
}

thread_local! {
    /// Conversions of a [`Counted`] to or from its stored form on this thread.
    static CONVERSIONS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

fn conversions() -> usize {
    CONVERSIONS.with(|c| c.get())
}

/// Text that counts its conversions to and from its stored form: how often a write builds
/// a row from a value, or reads one back.
#[derive(Clone, Debug, PartialEq)]
struct Counted(String);

impl relata::AsColumn for Counted {
    type Repr = String;
    type Ref<'a> = <String as relata::Column>::Ref<'a>;
    const SQL_TYPE: relata::SqlType = relata::SqlType::Text;
    fn into_repr(self) -> String {
        CONVERSIONS.with(|c| c.set(c.get() + 1));
        self.0
    }
    fn from_repr(repr: String) -> Self {
        CONVERSIONS.with(|c| c.set(c.get() + 1));
        Counted(repr)
    }
    fn view(repr: <String as relata::Column>::Ref<'_>) -> <Self as relata::AsColumn>::Ref<'_> {
        repr
    }
}

#[derive(relata::Entity, Clone, Debug, PartialEq)]
struct Account {
    #[relata(unique)]
    email: String,
    name: Counted,
}

#[test]
fn an_upsert_that_inserts_builds_its_row_once() {
    let schema = relata::Schema::builder().entity::<Account>().build().unwrap();
    let mut s = relata::Store::new(schema);
    let account = |name: &str| Account {
        email: "a@example.com".into(),
        name: Counted(name.into()),
    };
    let before = conversions();
    let first = s.upsert(Account::BY_EMAIL, account("Ann")).unwrap();
    assert!(first.inserted());
    // One conversion into the row; none back out, none into a second row.
    assert_eq!(conversions() - before, 1);
    let before = conversions();
    assert!(!s
        .insert_if_absent(Account::BY_EMAIL, account("Bo"))
        .unwrap()
        .inserted());
    assert_eq!(conversions() - before, 1, "DO NOTHING reads nothing back");
    assert_eq!(
        s.upsert(Account::BY_EMAIL, account("Cy")).unwrap(),
        Upserted::Updated(first.key())
    );
    assert_eq!(s.get(first.key()).unwrap().name, "Cy");
    s.check_integrity().unwrap();
}
