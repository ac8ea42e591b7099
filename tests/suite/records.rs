//! Plain record operations: insert, the read family, update, replace, iteration order.

use crate::common::*;
use relata::{Error, Key};

#[test]
fn insert_then_read_in_every_form() {
    let mut s = store();
    let alice = ok(&mut s, |s| s.insert(user("alice")));
    let view = s.get(alice).expect("present");
    assert_eq!(
        (view.username.as_str(), view.email.as_str()),
        ("alice", "alice@example.com")
    );
    assert_eq!(s.try_get(alice).unwrap().username, "alice");
    assert_eq!(s.try_get_owned(alice).unwrap(), user("alice"));
    assert!(s.contains(alice));
    assert_eq!(s.count::<User>(), 1);
    assert_eq!(s.count::<Post>(), 0);
}

#[test]
fn iteration_is_in_slot_order_and_deterministic() {
    let build = || {
        let mut s = store();
        let keys: Vec<Key<User>> = ["a", "b", "c", "d"]
            .iter()
            .map(|n| s.insert(user(n)).unwrap())
            .collect();
        s.delete(keys[1]).unwrap();
        s.insert(user("e")).unwrap();
        s
    };
    let (one, two) = (build(), build());
    let names = |s: &relata::Store| {
        s.iter::<User>()
            .map(|(k, u)| (k, u.username.to_string()))
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&one), names(&two));
    assert_eq!(names(&one).len(), 4);
    assert_eq!(one.keys::<User>().count(), 4);
}

#[test]
fn update_changes_only_what_the_closure_changes() {
    let mut s = store();
    let alice = s.insert(user("alice")).unwrap();
    ok(&mut s, |s| {
        s.update(alice, |u| u.email = "new@example.com".into())
    });
    assert_eq!(
        s.try_get_owned(alice).unwrap(),
        User {
            username: "alice".into(),
            email: "new@example.com".into()
        }
    );
    // The old email is free again, the new one taken.
    assert_eq!(s.find_unique(User::BY_EMAIL, "alice@example.com"), None);
    assert_eq!(s.find_unique(User::BY_EMAIL, "new@example.com"), Some(alice));
}

#[test]
fn update_to_its_own_value_is_not_a_conflict() {
    let mut s = store();
    let alice = s.insert(user("alice")).unwrap();
    ok(&mut s, |s| s.update(alice, |u| u.username = "alice".into()));
    ok(&mut s, |s| s.replace(alice, user("alice")));
    assert_eq!(s.count::<User>(), 1);
}

#[test]
fn replace_returns_the_old_value() {
    let mut s = store();
    let alice = s.insert(user("alice")).unwrap();
    let old = ok(&mut s, |s| s.replace(alice, user("alicia")));
    assert_eq!(old, user("alice"));
    assert_eq!(s.get(alice).unwrap().username, "alicia");
}

#[test]
fn update_of_a_missing_or_stale_key_is_typed() {
    let mut s = store();
    let alice = s.insert(user("alice")).unwrap();
    s.delete(alice).unwrap();
    let stale = Error::Stale {
        table: "users",
        key: alice.raw(),
    };
    assert_fails_unchanged(&mut s, &stale, |s| s.update(alice, |u| u.email = "x".into()));
    assert_fails_unchanged(&mut s, &stale, |s| s.replace(alice, user("x")));
    assert_fails_unchanged(&mut s, &stale, |s| s.delete(alice));
    let never = Key::<User>::from_u64(0x0000_0001_0000_0777);
    let missing = Error::NotFound {
        table: "users",
        key: never.raw(),
    };
    assert_fails_unchanged(&mut s, &missing, |s| s.update(never, |_| {}));
    assert_eq!(s.try_get(never).unwrap_err(), missing);
}

#[test]
fn secondary_index_follows_inserts_updates_and_deletes() {
    let mut s = store();
    let alice = s.insert(user("alice")).unwrap();
    let bob = s.insert(user("bob")).unwrap();
    let a = s.insert(post(alice, "Hello")).unwrap();
    let b = s.insert(post(bob, "Hello")).unwrap();
    let carol = s.insert(user("carol")).unwrap();
    let c = s.insert(post(carol, "Other")).unwrap();
    let hello: Vec<_> = s.find_by(Post::BY_TITLE, "Hello").collect();
    assert_eq!(hello.len(), 2);
    assert!(hello.contains(&a) && hello.contains(&b));
    ok(&mut s, |s| s.update(c, |p| p.title = "Hello".into()));
    assert_eq!(s.find_by(Post::BY_TITLE, "Hello").count(), 3);
    ok(&mut s, |s| s.delete(a));
    assert_eq!(s.find_by(Post::BY_TITLE, "Hello").count(), 2);
    assert_eq!(s.find_by(Post::BY_TITLE, "Other").count(), 0);
}

#[test]
fn composite_index_lookup_by_values() {
    let mut s = store();
    let t1 = s
        .insert(Tag {
            name: Some("a".into()),
            scope: "x".into(),
            weight: 1,
        })
        .unwrap();
    let t2 = s
        .insert(Tag {
            name: Some("b".into()),
            scope: "x".into(),
            weight: 1,
        })
        .unwrap();
    s.insert(Tag {
        name: Some("c".into()),
        scope: "x".into(),
        weight: 2,
    })
    .unwrap();
    let hits: Vec<_> = s
        .find_by_values(Tag::BY_SCOPE_WEIGHT, &["x".into(), relata::Value::Int(1)])
        .unwrap()
        .collect();
    let mut want = vec![t1, t2];
    want.sort();
    assert_eq!(hits, want);
}

#[test]
fn many_updates_reclaim_text_and_keep_values() {
    let mut s = store();
    let alice = s.insert(user("alice")).unwrap();
    let long = "x".repeat(1000);
    for i in 0..200 {
        s.update(alice, |u| u.email = format!("{i}{long}")).unwrap();
    }
    assert_eq!(s.get(alice).unwrap().email, format!("199{long}"));
    assert_eq!(s.get(alice).unwrap().username, "alice");
    s.check_integrity().unwrap();
}

#[test]
fn reads_of_an_unregistered_type_are_typed_errors_or_empty() {
    let mut s = relata::Store::new(relata::Schema::builder().entity::<Group>().build().unwrap());
    let err = Error::UnknownEntity { type_name: "User" };
    assert_fails_unchanged(&mut s, &err, |s| s.insert(user("alice")));
    let k = Key::<User>::from_u64(1 << 32);
    assert_eq!(s.try_get(k).unwrap_err(), err);
    assert!(s.get(k).is_none());
    assert_eq!(s.count::<User>(), 0);
    assert_eq!(s.iter::<User>().count(), 0);
    let users = s.records::<User>();
    assert_eq!(users.try_get(k).unwrap_err(), err);
    assert!(users.get(k).is_none() && !users.contains(k) && users.is_empty());
    assert_eq!(users.iter().count(), 0);
}

#[test]
fn a_records_view_reads_as_the_store_does() {
    let mut s = store();
    let alice = ok(&mut s, |s| s.insert(user("alice")));
    let bob = ok(&mut s, |s| s.insert(user("bob")));
    let posts: Vec<_> = (0..3)
        .map(|i| s.insert(post(alice, &format!("p{i}"))).unwrap())
        .collect();
    s.delete(posts[1]).unwrap();
    s.delete(bob).unwrap();
    let (users, view) = (s.records::<User>(), s.records::<Post>());
    for k in [alice, bob] {
        assert_eq!(
            users.get(k).map(|u| u.username.to_string()),
            s.get(k).map(|u| u.username.to_string())
        );
        assert_eq!(users.try_get(k).map(|_| ()), s.try_get(k).map(|_| ()));
        assert_eq!(users.contains(k), s.contains(k));
        assert_eq!(
            view.children(Post::AUTHOR, k).collect::<Vec<_>>(),
            s.children(Post::AUTHOR, k).collect::<Vec<_>>()
        );
        assert_eq!(view.child_count(Post::AUTHOR, k), s.child_count(Post::AUTHOR, k));
    }
    for &p in &posts {
        assert_eq!(view.parent(Post::AUTHOR, p), s.parent(Post::AUTHOR, p));
        assert_eq!(view.get(p).is_some(), s.get(p).is_some());
    }
    assert_eq!(
        view.children(Post::AUTHOR, alice).collect::<Vec<_>>(),
        [posts[0], posts[2]]
    );
    assert_eq!(
        (users.count(), view.count()),
        (s.count::<User>(), s.count::<Post>())
    );
    let keys = |it: &mut dyn Iterator<Item = Key<Post>>| it.collect::<Vec<_>>();
    assert_eq!(
        keys(&mut view.iter().map(|(k, _)| k)),
        keys(&mut s.keys::<Post>())
    );
}

/// A `Records` view finds its table's text once, when it is taken: the heap's one chunk, or
/// nothing for a heap a fork split into several chunks. Both read every text field as the
/// owned record (read through the heap itself) has it, the empty text included.
#[test]
fn a_records_view_reads_text_of_one_chunk_and_of_several() {
    fn read_all(store: &relata::Store, author: Key<User>) -> Vec<String> {
        let view = store.records::<Post>();
        let mut titles = Vec::new();
        for p in view.children(Post::AUTHOR, author) {
            let (got, owned) = (view.get(p).unwrap(), store.try_get_owned(p).unwrap());
            assert_eq!(got.title.as_str(), owned.title);
            assert_eq!(got.content.as_str(), owned.content);
            titles.push(got.title.to_string());
        }
        store.check_integrity().unwrap();
        titles
    }
    let mut s = store();
    let alice = ok(&mut s, |s| s.insert(user("alice")));
    let long = "long ".repeat(30_000); // past the heap's copy-on-write limit: forks share it
    s.insert(post(alice, &long)).unwrap();
    s.insert(post(alice, "")).unwrap();
    assert_eq!(read_all(&s, alice), [&*long, ""]); // one chunk
    let mut fork = s.fork();
    for (theirs, mine) in [("after the fork", "a"), ("é", "b")] {
        fork.insert(post(alice, theirs)).unwrap(); // in a new chunk behind the shared one
        s.insert(post(alice, mine)).unwrap();
    }
    assert_eq!(read_all(&s, alice), [&*long, "", "a", "b"]);
    assert_eq!(read_all(&fork, alice), [&*long, "", "after the fork", "é"]);
}
