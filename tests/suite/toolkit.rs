//! The test-double toolkit: state diffs (and, as they land, the operation log, fault
//! injection and pictures).

use crate::common::*;
use relata::{Error, Store};

#[test]
fn changes_since_a_mark_lists_every_effect_including_cascades() {
    let mut s = store();
    let alice = s.insert(user("alice")).unwrap();
    let bob = s.insert(user("bob")).unwrap();
    let p1 = s.insert(post(alice, "one")).unwrap();
    let admin = s.insert(Group { name: "admin".into() }).unwrap();
    let m = s
        .insert(UserGroup {
            user: alice,
            group: admin,
            joined_on: 1,
        })
        .unwrap();
    let mark = s.mark().unwrap();
    assert!(s.changes_since(&mark).unwrap().is_empty());

    let p2 = s.insert(post(bob, "two")).unwrap();
    s.update(bob, |u| u.email = "robert@example.com".into()).unwrap();
    s.delete(alice).unwrap(); // cascades to p1 and the membership
    let diff = s.changes_since(&mark).unwrap();
    assert_eq!(
        diff.counts(),
        [("users", 0, 1, 1), ("posts", 1, 0, 1), ("user_groups", 0, 0, 1)]
    );
    let users = diff.table::<User>();
    assert_eq!(users.updated[0].key, bob.raw());
    assert_eq!(
        users.updated[0].changes,
        [("email", "'bob@example.com'".into(), "'robert@example.com'".into())]
    );
    assert_eq!(users.deleted[0].values[0], ("username", "'alice'".into()));
    let posts = diff.table::<Post>();
    assert_eq!(
        (posts.inserted[0].key, posts.deleted[0].key),
        (p2.raw(), p1.raw())
    );
    assert_eq!(diff.table::<UserGroup>().deleted[0].key, m.raw());

    let text = diff.to_string();
    assert!(text.contains("users: +0 ~1 -1"), "{text}");
    assert!(
        text.contains(&format!(
            "~ users[{}] email: 'bob@example.com' -> 'robert@example.com'",
            bob.raw()
        )),
        "{text}"
    );
}

#[test]
fn changes_are_net_of_what_was_undone_or_reverted() {
    let mut s = store();
    let alice = s.insert(user("alice")).unwrap();
    let mark = s.mark().unwrap();
    let temp = s.insert(user("temp")).unwrap();
    s.delete(temp).unwrap();
    s.update(alice, |u| u.email = "x".into()).unwrap();
    s.update(alice, |u| u.email = "alice@example.com".into()).unwrap();
    let _ = s.insert(user("alice")); // fails: nothing recorded
    assert!(
        s.changes_since(&mark).unwrap().is_empty(),
        "{}",
        s.changes_since(&mark).unwrap()
    );
}

#[test]
fn link_changes_are_listed() {
    const FOLLOWS: relata::ManyToMany<User, User> =
        relata::ManyToMany::new("follows", "following", "followers").columns("follower_id", "followed_id");
    let mut s = Store::new(
        relata::Schema::builder()
            .entity::<User>()
            .relation(FOLLOWS)
            .build()
            .unwrap(),
    );
    let (a, b, c) = (
        s.insert(user("a")).unwrap(),
        s.insert(user("b")).unwrap(),
        s.insert(user("c")).unwrap(),
    );
    s.link(FOLLOWS, a, b).unwrap();
    let mark = s.mark().unwrap();
    let before = s.fork();
    s.unlink(FOLLOWS, a, b).unwrap();
    s.link(FOLLOWS, a, c).unwrap();
    s.link(FOLLOWS, c, a).unwrap();
    s.unlink(FOLLOWS, c, a).unwrap();
    let diff = s.changes_since(&mark).unwrap();
    let follows = diff.relation(FOLLOWS);
    assert_eq!(follows.added, [(a.raw(), c.raw())]);
    assert_eq!(follows.removed, [(a.raw(), b.raw())]);
    assert_eq!(s.diff(&before).unwrap(), diff);
}

#[test]
fn a_full_diff_against_a_fork_agrees_with_the_journal_diff() {
    let mut s = store();
    let alice = s.insert(user("alice")).unwrap();
    s.insert(post(alice, "one")).unwrap();
    let before = s.fork();
    let mark = s.mark().unwrap();
    let bob = s.insert(user("bob")).unwrap();
    s.update(alice, |u| u.username = "alicia".into()).unwrap();
    s.insert(post(bob, "two")).unwrap();
    s.delete(alice).unwrap();
    assert_eq!(s.diff(&before).unwrap(), s.changes_since(&mark).unwrap());
}

#[test]
fn a_diff_between_unrelated_stores_says_so() {
    let s = store();
    let other = Store::new(relata::Schema::builder().entity::<Group>().build().unwrap());
    assert_eq!(s.diff(&other).unwrap_err(), Error::UnrelatedStores);
    let mut unmarked = store();
    let mark = unmarked.mark().unwrap();
    assert_eq!(s.changes_since(&mark).unwrap_err(), Error::UnknownMark);
}

#[test]
fn the_nth_write_fails_on_purpose_and_changes_nothing() {
    let mut s = store();
    s.faults().inject(
        relata::FaultPoint::NthWrite(3),
        Error::Unavailable { reason: "network" },
    );
    s.insert(user("a")).unwrap();
    s.insert(user("b")).unwrap();
    let err = Error::Unavailable { reason: "network" };
    assert_fails_unchanged(&mut s, &err, |s| s.insert(user("c")));
    s.insert(user("c")).unwrap();
    assert_eq!(s.count::<User>(), 3);
}

/// An insert probes its unique constraints before it opens a statement; a pending fault
/// still fires first, and a refused insert still counts as a write.
#[test]
fn a_refused_insert_counts_as_a_write_and_a_due_fault_fires_before_its_probe() {
    let mut s = store();
    s.insert(user("a")).unwrap();
    let down = Error::Unavailable { reason: "network" };
    s.faults().inject(relata::FaultPoint::NthWrite(1), down.clone());
    assert_fails_unchanged(&mut s, &down, |s| s.insert(user("a")));

    s.faults().inject(relata::FaultPoint::NthWrite(2), down.clone());
    let refused = s.insert(user("a"));
    assert!(
        matches!(refused, Err(Error::UniqueViolation { .. })),
        "{refused:?}"
    );
    assert_fails_unchanged(&mut s, &down, |s| s.insert(user("b")));
    assert!(s.faults().pending().is_empty());
    s.insert(user("b")).unwrap();
    assert_eq!(s.count::<User>(), 2);
}

#[test]
fn a_fault_on_a_table_fires_inside_a_cascade_and_undoes_it() {
    let mut s = store();
    let alice = s.insert(user("alice")).unwrap();
    s.insert(post(alice, "one")).unwrap();
    let admin = s.insert(Group { name: "admin".into() }).unwrap();
    s.insert(UserGroup {
        user: alice,
        group: admin,
        joined_on: 1,
    })
    .unwrap();
    let injected = Error::Restricted {
        table: "users",
        key: alice.raw(),
        child_table: "user_groups",
        column: "user_id",
        relationship: "memberships",
        dependents: 1,
        action: relata::OnDelete::NoAction,
    };
    s.faults()
        .inject(relata::FaultPoint::next_write_to::<UserGroup>(), injected.clone());
    assert_fails_unchanged(&mut s, &injected, |s| s.delete(alice));
    assert!(s.faults().pending().is_empty());
    s.delete(alice).unwrap();
}

#[test]
fn a_commit_fault_rolls_the_transaction_back() {
    let mut s = store();
    let before = s.fork();
    s.faults().inject(
        relata::FaultPoint::Commit,
        Error::Unavailable {
            reason: "commit lost",
        },
    );
    s.begin().unwrap();
    s.insert(user("a")).unwrap();
    assert_eq!(
        s.commit(),
        Err(Error::Unavailable {
            reason: "commit lost"
        })
    );
    assert!(!s.in_transaction());
    assert!(s == before);
}

#[test]
fn a_fault_that_never_fires_is_reported() {
    let mut s = store();
    let err = s.faults().run(
        relata::FaultPoint::next_write_to::<Post>(),
        Error::Unavailable { reason: "x" },
        |s| {
            s.insert(user("a")).unwrap();
        },
    );
    assert!(matches!(err, Err(Error::FaultNotTriggered { .. })));
    assert!(s.faults().pending().is_empty());
    // `Err` means nothing the closure did stayed, inside a transaction too.
    assert_eq!(s.count::<User>(), 0, "the closure's insert was undone");
    assert_eq!(s.hidden_state().1, 0, "no scope left open");
    s.begin().unwrap();
    let kept = s.insert(user("kept")).unwrap();
    let err = s.faults().run(
        relata::FaultPoint::NthWrite(3),
        Error::Unavailable { reason: "x" },
        |s| {
            s.insert(user("c")).unwrap();
        },
    );
    assert!(matches!(err, Err(Error::FaultNotTriggered { .. })));
    s.commit().unwrap();
    assert_eq!(s.count::<User>(), 1);
    assert!(s.contains(kept));
    s.check_integrity().unwrap();
    let fired = s.faults().run(
        relata::FaultPoint::NthWrite(1),
        Error::Unavailable { reason: "y" },
        |s| s.insert(user("b")).is_err(),
    );
    assert_eq!(fired, Ok(true));
}

#[test]
fn the_operation_log_records_kind_table_key_and_outcome() {
    let mut s = store();
    s.insert(user("before")).unwrap();
    assert!(s.log().entries().is_empty(), "the log is off by default");
    s.log().start();
    let alice = s.insert(user("alice")).unwrap();
    let _ = s.insert(user("alice"));
    s.begin().unwrap();
    s.update(alice, |u| u.email = "new".into()).unwrap();
    s.rollback().unwrap();
    s.delete(alice).unwrap();
    let log = s.log().stop();
    let ops: Vec<_> = log.iter().map(|e| (e.op, e.table, e.outcome.is_ok())).collect();
    assert_eq!(
        ops,
        [
            ("insert", "users", true),
            ("insert", "users", false),
            ("begin", "", true),
            ("update", "users", true),
            ("rollback", "", true),
            ("delete", "users", true),
        ]
    );
    assert_eq!(log[0].key, Some(alice.raw()));
    assert!(matches!(log[1].outcome, Err(Error::UniqueViolation { .. })));
    assert!(s.log().entries().is_empty());
}

#[test]
fn the_object_graph_as_dot_filters_by_table_and_depth() {
    let mut s = store();
    let alice = s.insert(user("alice")).unwrap();
    let bob = s.insert(user("bob")).unwrap();
    let p = s.insert(post(alice, "one")).unwrap();
    let c = s
        .insert(Comment {
            body: "hi".into(),
            post: p,
        })
        .unwrap();
    s.insert(post(bob, "two")).unwrap();
    let node = |t: &str, k: relata::RawKey| format!("{t}[{k}]");
    let all = s.to_dot(&relata::DotOptions::new());
    assert!(all.contains(&node("users", bob.raw())) && all.contains(&node("comments", c.raw())));
    assert!(all.contains("[label=\"author_id\"]"));
    let near = s.to_dot(&relata::DotOptions::new().around(alice, 1));
    assert!(near.contains(&node("posts", p.raw())));
    assert!(!near.contains(&node("comments", c.raw())), "two links away");
    assert!(!near.contains(&node("users", bob.raw())));
    let only_users = s.to_dot(&relata::DotOptions::new().tables(&["users"]));
    assert!(!only_users.contains("posts["));
    assert!(!only_users.contains("->"));
}

/// `around` names its record by type, in whichever store is drawn. It held a table's
/// position in the store it was given, so drawing another store drew that position's table
/// (a user's key drawn as a group) or panicked past the end. A key of a type outside the
/// drawn store's schema now draws no record, as a stale key does.
#[test]
fn dot_around_a_key_draws_it_in_the_store_drawn_or_nothing() {
    #[derive(relata::Entity, Clone, Debug, PartialEq)]
    struct Lone {
        name: String,
    }
    let mut s = store();
    let alice = s.insert(user("alice")).unwrap();
    let lone = Store::new(relata::Schema::builder().entity::<Lone>().build().unwrap());
    let dot = lone.to_dot(&relata::DotOptions::new().around(alice, 1));
    assert!(!dot.contains("label=\"users") && !dot.contains("->"), "{dot}");
    let mut other = store();
    other.insert(user("zed")).unwrap();
    let again = other.insert(user("alice2")).unwrap();
    let dot = other.to_dot(&relata::DotOptions::new().around(again, 0));
    assert!(dot.contains("alice2") && !dot.contains("zed"), "{dot}");
}

#[test]
fn the_schema_as_dot_shows_cardinality_and_actions() {
    let dot = schema().to_dot();
    assert!(dot.starts_with("digraph schema {"));
    assert!(
        dot.contains("profiles -> users [label=\"user_id 1:1\\ncascade\\nusers.profile\"]"),
        "{dot}"
    );
    assert!(dot.contains("posts -> users [label=\"author_id N:1\\ndelete-orphan\\nusers.posts\"]"));
    assert!(dot.contains("UNIQUE(author_id, title)"));
}

#[test]
fn json_export_of_a_store_and_of_one_table() {
    let mut s = store();
    let alice = s.insert(user("alice")).unwrap();
    s.insert(Address {
        email_address: "a@x".into(),
        user: None,
    })
    .unwrap();
    s.insert(post(alice, "it's \"quoted\"")).unwrap();
    let all: serde_json::Value = serde_json::from_str(&s.to_json()).unwrap();
    assert_eq!(all["users"][0]["username"], "alice");
    assert_eq!(all["users"][0]["id"], alice.raw().to_string());
    assert_eq!(all["addresses"][0]["user_id"], serde_json::Value::Null);
    assert_eq!(all["posts"][0]["title"], "it's \"quoted\"");
    assert_eq!(all["posts"][0]["author_id"], alice.raw().to_string());
    let posts: serde_json::Value = serde_json::from_str(&s.table_to_json::<Post>()).unwrap();
    assert_eq!(posts.as_array().unwrap().len(), 1);
}

/// Moves are journalled without the old row: the diff puts the first parent back into the
/// earliest row it finds (the record now, or an old row an update kept), so a moved record
/// shows its key's change, a record moved away and back shows none, and the journal diff
/// agrees with the full diff against a fork.
#[test]
fn the_diff_of_moves_reports_each_key_change_from_its_first_parent() {
    let mut s = store();
    let alice = s.insert(user("alice")).unwrap();
    let p: Vec<_> = ["one", "two", "three"]
        .into_iter()
        .map(|t| s.insert(post(alice, t)).unwrap())
        .collect();
    let comment = |s: &mut Store, body: &str| {
        s.insert(Comment {
            body: body.into(),
            post: p[0],
        })
        .unwrap()
    };
    let (moved, updated, back) = (comment(&mut s, "a"), comment(&mut s, "b"), comment(&mut s, "c"));
    let before = s.fork();
    let mark = s.mark().unwrap();
    s.set_parent(Comment::POST, moved, Some(p[1])).unwrap();
    s.set_parent(Comment::POST, moved, Some(p[2])).unwrap();
    s.set_parent(Comment::POST, updated, Some(p[1])).unwrap();
    s.update(updated, |c| c.body = "b2".into()).unwrap();
    s.set_parent(Comment::POST, updated, Some(p[2])).unwrap();
    s.set_parent(Comment::POST, back, Some(p[1])).unwrap();
    s.set_parent(Comment::POST, back, Some(p[0])).unwrap();
    let diff = s.changes_since(&mark).unwrap();
    assert_eq!(diff.counts(), [("comments", 0, 2, 0)], "{diff}");
    let comments = diff.table::<Comment>();
    let (from, to) = (format!("posts[{}]", p[0].raw()), format!("posts[{}]", p[2].raw()));
    assert_eq!(comments.updated[0].key, moved.raw());
    assert_eq!(
        comments.updated[0].changes,
        [("post_id", from.clone(), to.clone())]
    );
    assert_eq!(comments.updated[1].key, updated.raw());
    assert_eq!(
        comments.updated[1].changes,
        [("body", "'b'".into(), "'b2'".into()), ("post_id", from, to)]
    );
    assert_eq!(s.diff(&before).unwrap(), diff);
}

/// A diff and a delete report are asked by entity type or relation constant, so a misspelt
/// table name cannot answer "no change" and pass an assertion (it no longer compiles).
#[test]
fn diffs_and_delete_reports_are_asked_by_type() {
    let mut s = store();
    let ann = s.insert(user("ann")).unwrap();
    s.insert(post(ann, "one")).unwrap();
    let before = s.fork();
    s.insert(user("bob")).unwrap();
    let d = s.diff(&before).unwrap();
    assert_eq!(d.table::<User>().inserted.len(), 1);
    assert!(d.table::<Post>().inserted.is_empty());
    let plan = s.explain_delete(ann).unwrap();
    assert_eq!((plan.deleted_from::<User>(), plan.deleted_from::<Post>()), (1, 1));
}

/// The log names every call, refused ones and scope operations included, each with a key of
/// the table it names. Adversarial probe, 8 Dec: a refusal before the statement (a type
/// outside the schema, `NotOneToOne`) was missing, `set_child` named the child's table with
/// the parent's key, `add_child_if_absent` and `remove_child` were logged as `set_parent`
/// (and `Ok(false)` not at all), and the scope operations that undo writes were absent.
#[test]
fn the_operation_log_names_every_call_with_a_key_of_its_table() {
    use relata::{Entity, Key};
    #[derive(Entity, Clone, Debug, PartialEq)]
    #[relata(table = "outside")]
    struct Outside {
        x: i32,
    }
    let mut s = postgres_store();
    let alice = s.insert(user("alice")).unwrap();
    let (email_address, user) = ("a@x".to_owned(), None);
    let address = s.insert(Address { email_address, user }).unwrap();
    let p = s.insert(post(alice, "t")).unwrap();
    s.log().start();
    s.set_child(Address::USER, Some(address), alice).unwrap();
    let _ = s.set_child(Post::AUTHOR, Some(p), alice).unwrap_err(); // NotOneToOne
    let _ = s.insert(Outside { x: 1 }).unwrap_err(); // UnknownEntity
    let _ = s.delete(Key::<Outside>::from_raw(alice.raw())).unwrap_err();
    assert!(!s.add_child_if_absent(Post::AUTHOR, p, alice).unwrap());
    s.begin().unwrap();
    let sp = s.savepoint().unwrap();
    s.remove_child(Post::AUTHOR, p, alice).unwrap(); // an orphan: deleted
    s.rollback_to(&sp).unwrap();
    s.release(&sp).unwrap();
    s.commit().unwrap();
    let mark = s.mark().unwrap();
    s.reset(&mark).unwrap();
    s.release_mark(&mark).unwrap();
    let log = s.log().stop();
    let ops: Vec<_> = log
        .iter()
        .map(|e| (e.op, e.table, e.key, e.outcome.is_ok()))
        .collect();
    let (a, p) = (Some(alice.raw()), Some(p.raw()));
    assert_eq!(
        ops,
        [
            ("set_child", "users", a, true),
            ("set_child", "users", a, false),
            ("insert", "outside", None, false),
            ("delete", "outside", a, false),
            ("add_child_if_absent", "posts", p, true),
            ("begin", "", None, true),
            ("savepoint", "", None, true),
            ("remove_child", "posts", p, true),
            ("rollback_to", "", None, true),
            ("release", "", None, true),
            ("commit", "", None, true),
            ("mark", "", None, true),
            ("reset", "", None, true),
            ("release_mark", "", None, true),
        ]
    );
    assert!(s.contains(Key::<Post>::from_raw(p.unwrap())));
}
