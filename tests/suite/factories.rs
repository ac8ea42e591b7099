//! Factories: defaults, sequences, overrides, computed fields, parents created recursively,
//! unique and one-to-one conflicts, self-references, batches, atomicity.

use crate::common::*;
use relata::{Entity, Error, Factories, FactoryError, Key, Schema, Store};

#[test]
fn defaults_and_sequences() {
    let (mut s, mut f) = (store(), factories());
    let a = f.create::<User>(&mut s).unwrap();
    let b = f.create::<User>(&mut s).unwrap();
    assert_eq!(s.try_get_owned(a).unwrap(), user("user1"));
    assert_eq!(s.try_get_owned(b).unwrap(), user("user2"));
    assert_eq!(f.sequence::<User>(), 2);
    s.check_integrity().unwrap();
}

#[test]
fn overrides_and_computed_fields() {
    let (mut s, mut f) = (store(), factories());
    let bob = f
        .build::<User>()
        .with(|u| u.username = "bob".into())
        .create(&mut s)
        .unwrap();
    assert_eq!(
        s.try_get_owned(bob).unwrap(),
        user("bob"),
        "email computed from the override"
    );
    let own = f
        .build::<User>()
        .with(|u| u.email = "own@x.org".into())
        .create(&mut s)
        .unwrap();
    assert_eq!(
        s.get(own).unwrap().email,
        "own@x.org",
        "an overridden computed field stays"
    );
    assert_eq!(s.get(own).unwrap().username, "user2");
    let both = f
        .build::<User>()
        .with(|u| u.username = "c".into())
        .with(|u| u.username.push('d'))
        .create(&mut s)
        .unwrap();
    assert_eq!(
        s.try_get_owned(both).unwrap(),
        user("cd"),
        "overrides run in order"
    );
}

#[test]
fn parents_are_created_recursively() {
    let (mut s, mut f) = (store(), factories());
    let c = f.create::<Comment>(&mut s).unwrap();
    let post = s.get(c).unwrap().post;
    let author = s.get(post).unwrap().author;
    assert_eq!(s.get(author).unwrap().username, "user1");
    assert_eq!(
        (s.count::<User>(), s.count::<Post>(), s.count::<Comment>()),
        (1, 1, 1)
    );
    let m = f.create::<UserGroup>(&mut s).unwrap();
    assert_eq!((s.count::<User>(), s.count::<Group>()), (2, 1));
    assert_eq!(s.get(m).unwrap().user, s.keys::<User>().nth(1).unwrap());
    s.check_integrity().unwrap();
}

#[test]
fn a_given_parent_is_used_and_none_is_made() {
    let (mut s, mut f) = (store(), factories());
    let alice = f.create::<User>(&mut s).unwrap();
    let p = f
        .build::<Post>()
        .parent(Post::AUTHOR, alice)
        .with(|p| p.title = "Hello".into())
        .create(&mut s)
        .unwrap();
    assert_eq!(s.count::<User>(), 1);
    assert_eq!(s.get(p).unwrap().author, alice);
    assert_eq!(s.get(p).unwrap().title, "Hello");
    // A parent given for a key the definition never asks for is an error, not ignored.
    let err = f
        .build::<Node>()
        .parent(Node::PARENT, Key::from_u64(1))
        .create(&mut s);
    assert!(
        matches!(
            err,
            Err(FactoryError::UnusedParent {
                entity: "Node",
                column: "parent_id"
            })
        ),
        "{err:?}"
    );
}

#[test]
fn a_second_profile_for_one_user_is_an_error() {
    let (mut s, mut f) = (store(), factories());
    let alice = f.create::<User>(&mut s).unwrap();
    f.build::<Profile>()
        .parent(Profile::USER, alice)
        .create(&mut s)
        .unwrap();
    let before = s.clone();
    let err = f
        .build::<Profile>()
        .parent(Profile::USER, alice)
        .create(&mut s)
        .unwrap_err();
    assert!(
        matches!(
            &err,
            FactoryError::Store(Error::UniqueViolation {
                table: "profiles",
                ..
            })
        ),
        "{err}"
    );
    assert!(s == before, "no silent new user");
    // Without a given user, each profile gets its own.
    f.create::<Profile>(&mut s).unwrap();
    assert_eq!(s.count::<User>(), 2);
}

#[test]
fn a_unique_conflict_undoes_the_parents_made_for_it() {
    let (mut s, mut f) = (store(), factories());
    s.insert(Group {
        name: "group1".into(),
    })
    .unwrap();
    let before = s.clone();
    // The membership's user is created, then its group collides with a hand-made one.
    let err = f.create::<UserGroup>(&mut s).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("UNIQUE constraint failed: groups.name"),
        "{err}"
    );
    assert!(s == before, "the user made for the membership is undone");
    s.check_integrity().unwrap();
    // A membership that already exists: the store's composite unique constraint says so.
    let m = f.create::<UserGroup>(&mut s).unwrap();
    let (u, g) = (s.get(m).unwrap().user, s.get(m).unwrap().group);
    let before = s.clone();
    let err = f
        .build::<UserGroup>()
        .parent(UserGroup::USER, u)
        .parent(UserGroup::GROUP, g)
        .create(&mut s)
        .unwrap_err();
    assert!(matches!(
        err,
        FactoryError::Store(Error::UniqueViolation {
            table: "user_groups",
            ..
        })
    ));
    assert!(s == before);
}

/// A required self-reference: the first record cannot exist without a parent given by key.
#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "links")]
struct Link {
    #[relata(back = "next")]
    prev: Key<Link>,
}

/// Two types that each require the other.
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
fn required_self_references_and_cycles_end_with_an_error() {
    let schema = Schema::builder()
        .entity::<Link>()
        .entity::<Hen>()
        .entity::<Egg>()
        .build()
        .unwrap();
    let mut s = Store::new(schema);
    let mut f = Factories::new()
        .define(|c| {
            Ok(Link {
                prev: c.parent(Link::PREV)?,
            })
        })
        .define(|c| {
            Ok(Hen {
                egg: c.parent(Hen::EGG)?,
            })
        })
        .define(|c| {
            Ok(Egg {
                hen: c.parent(Egg::HEN)?,
            })
        });
    let err = f.create::<Link>(&mut s).unwrap_err();
    assert_eq!(
        err,
        FactoryError::Cycle {
            path: vec!["Link", "Link"]
        }
    );
    let err = f.create::<Hen>(&mut s).unwrap_err();
    assert_eq!(
        err,
        FactoryError::Cycle {
            path: vec!["Hen", "Egg", "Hen"]
        }
    );
    assert!(
        err.to_string().starts_with("factory cycle: Hen -> Egg -> Hen"),
        "{err}"
    );
    assert_eq!(s.count::<Link>() + s.count::<Hen>() + s.count::<Egg>(), 0);
}

/// A count no store can hold fails in the store, never in the allocator: the keys were
/// reserved for `n` up front, so `usize::MAX` panicked ("capacity overflow") and `1 << 40`
/// aborted the process before the first record.
#[test]
fn create_many_with_an_absurd_count_fails_as_the_store_refuses() {
    let (mut s, mut f) = (store(), factories());
    let before = s.clone();
    for n in [usize::MAX, 1 << 40] {
        let err = (f.build::<Group>())
            .with(|g| g.name = "same".into())
            .create_many(&mut s, n)
            .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("UNIQUE constraint failed: groups.name"),
            "{err}"
        );
        assert!(s == before);
    }
    s.check_integrity().unwrap();
}

#[test]
fn acyclic_trees_are_built_by_giving_the_parent() {
    let (mut s, mut f) = (store(), factories());
    let root = f.create::<Node>(&mut s).unwrap();
    let kids = f
        .build::<Node>()
        .with(move |n| n.parent = Some(root))
        .create_many(&mut s, 3)
        .unwrap();
    assert_eq!(s.child_count(Node::PARENT, root), 3);
    // The write path's acyclic check still applies to factory records.
    let err = s.update(root, |n| n.parent = Some(kids[0])).unwrap_err();
    assert!(matches!(err, Error::Cycle { .. }));
    s.check_integrity().unwrap();
}

#[test]
fn a_missing_factory_is_a_typed_error() {
    let mut s = store();
    let mut f = Factories::new().define(|c| {
        Ok(Post {
            title: "t".into(),
            content: String::new(),
            author: c.parent(Post::AUTHOR)?,
        })
    });
    assert_eq!(
        f.create::<Post>(&mut s).unwrap_err(),
        FactoryError::Undefined { entity: "User" }
    );
    assert_eq!(s.count::<Post>(), 0);
}

#[test]
fn batches_make_new_parents_or_share_one() {
    let (mut s, mut f) = (store(), factories());
    let posts = f.create_many::<Post>(&mut s, 10).unwrap();
    assert_eq!((posts.len(), s.count::<User>()), (10, 10));
    let shared = f
        .build::<Post>()
        .share(Post::AUTHOR)
        .create_many(&mut s, 4)
        .unwrap();
    assert_eq!(s.count::<User>(), 11);
    let author = s.get(shared[0]).unwrap().author;
    assert!(shared.iter().all(|&p| s.get(p).unwrap().author == author));
    let alice = s.insert(user("alice")).unwrap();
    f.build::<Post>()
        .parent(Post::AUTHOR, alice)
        .create_many(&mut s, 3)
        .unwrap();
    assert_eq!(s.child_count(Post::AUTHOR, alice), 3);
    s.check_integrity().unwrap();
}

#[test]
fn a_failed_batch_changes_nothing_even_in_a_transaction() {
    let (mut s, mut f) = (store(), factories());
    s.begin().unwrap();
    f.create::<User>(&mut s).unwrap();
    let before = s.clone();
    let err = f
        .build::<Post>()
        .share(Post::AUTHOR)
        .with(|p| p.title = "same".into())
        .create_many(&mut s, 3)
        .unwrap_err();
    assert!(matches!(err, FactoryError::Store(Error::UniqueViolation { .. })));
    assert!(s == before);
    s.commit().unwrap();
    assert_eq!(s.count::<User>(), 1);
}

#[test]
fn the_journal_and_the_log_see_factory_records() {
    let (mut s, mut f) = (store(), factories());
    let mark = s.mark().unwrap();
    s.log().start();
    f.create::<Comment>(&mut s).unwrap();
    let inserts = s.log().stop().iter().filter(|e| e.op == "insert").count();
    assert_eq!(inserts, 3);
    let diff = s.changes_since(&mark).unwrap();
    assert_eq!(diff.tables.iter().map(|t| t.inserted.len()).sum::<usize>(), 3);
    s.reset(&mark).unwrap();
    assert_eq!(s.count::<User>(), 0);
}

#[test]
fn a_panicking_override_leaves_no_parent_and_no_open_scope() {
    let (mut s, mut f) = (store(), factories());
    let before = s.clone();
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        f.build::<Post>()
            .with(|_| panic!("a failing test"))
            .create(&mut s)
    }));
    assert!(panicked.is_err());
    assert!(s == before, "the author made for the post is undone");
    // No scope stayed open: a transaction can start and commit as usual.
    s.begin().unwrap();
    f.create::<Post>(&mut s).unwrap();
    s.commit().unwrap();
    assert_eq!(s.count::<User>(), 1);
    s.check_integrity().unwrap();
}

/// Random factory calls on relata-testkit's schema (every relationship kind): each call's
/// inserts are accepted by the naive model under the same keys, a failed call changes
/// nothing, and `check_integrity` and the whole-state comparison pass after every call.
#[test]
fn random_factory_calls_agree_with_the_model() {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestCaseError, TestRunner};
    let config = Config {
        cases: 300,
        failure_persistence: None,
        ..Config::default()
    };
    let calls = prop::collection::vec(any::<u8>(), 0..200);
    TestRunner::new(config)
        .run(&calls, |bytes| {
            let calls = relata_testkit::factory::decode_calls(&bytes);
            relata_testkit::factory::run(&calls).map_err(TestCaseError::fail)
        })
        .unwrap();
}
