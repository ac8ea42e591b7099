//! Unique constraints (single, composite, NULL semantics) and foreign-key targets: every
//! violation is a typed error naming table, columns, value and the record holding it, and
//! leaves the store unchanged.

use crate::common::*;
use relata::{Error, Key, Value};

fn unique(
    table: &'static str,
    columns: &'static [&'static str],
    constraint: &'static str,
    value: &str,
    existing: relata::RawKey,
) -> Error {
    Error::UniqueViolation {
        table,
        columns,
        constraint,
        value: value.into(),
        existing,
    }
}

#[test]
fn duplicate_unique_value_on_insert() {
    let mut s = store();
    let alice = s.insert(user("alice")).unwrap();
    let dup = User {
        username: "alice".into(),
        email: "other@example.com".into(),
    };
    let err = unique(
        "users",
        &["username"],
        "uq_users_username",
        "'alice'",
        alice.raw(),
    );
    assert_fails_unchanged(&mut s, &err, |s| s.insert(dup));
    assert_eq!(
        err.to_string(),
        format!("UNIQUE constraint failed: users.username (constraint uq_users_username: value 'alice' is already held by users[{}])", alice.raw())
    );
}

#[test]
fn comparison_is_exact_bytes() {
    let mut s = store();
    for name in ["alice", "Alice", "alice "] {
        ok(&mut s, |s| s.insert(user(name)));
    }
    assert_eq!(s.count::<User>(), 3);
}

#[test]
fn duplicate_unique_value_on_update() {
    let mut s = store();
    let alice = s.insert(user("alice")).unwrap();
    let bob = s.insert(user("bob")).unwrap();
    let err = unique(
        "users",
        &["email"],
        "uq_users_email",
        "'alice@example.com'",
        alice.raw(),
    );
    assert_fails_unchanged(&mut s, &err, |s| {
        s.update(bob, |u| u.email = "alice@example.com".into())
    });
    // A swap of two unique values fails per statement, as in SQL without DEFERRABLE.
    let err = unique("users", &["username"], "uq_users_username", "'bob'", bob.raw());
    assert_fails_unchanged(&mut s, &err, |s| s.update(alice, |u| u.username = "bob".into()));
}

#[test]
fn empty_strings_are_values_not_nulls() {
    let mut s = store();
    let a = ok(&mut s, |s| {
        s.insert(User {
            username: String::new(),
            email: "a".into(),
        })
    });
    let err = unique("users", &["username"], "uq_users_username", "''", a.raw());
    assert_fails_unchanged(&mut s, &err, |s| {
        s.insert(User {
            username: String::new(),
            email: "b".into(),
        })
    });
}

#[test]
fn very_long_unique_values_are_reported_shortened() {
    let mut s = store();
    let long = "é".repeat(100_000);
    let a = ok(&mut s, |s| {
        s.insert(User {
            username: long.clone(),
            email: "a".into(),
        })
    });
    assert_eq!(s.find_unique(User::BY_USERNAME, long.as_str()), Some(a));
    let before = s.clone();
    let err = s
        .insert(User {
            username: long.clone(),
            email: "b".into(),
        })
        .unwrap_err();
    assert!(s == before);
    let Error::UniqueViolation { value, existing, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(*existing, a.raw());
    assert!(value.to_string().ends_with("(200000 bytes)"), "{value}");
    assert!(err.to_string().len() < 400);
}

#[test]
fn composite_unique_names_table_and_columns() {
    let mut s = store();
    let alice = s.insert(user("alice")).unwrap();
    let first = ok(&mut s, |s| s.insert(post(alice, "Hello")));
    let err = unique(
        "posts",
        &["author_id", "title"],
        "uq_post_user_title",
        &format!("(users[{}], 'Hello')", alice.raw()),
        first.raw(),
    );
    assert_fails_unchanged(&mut s, &err, |s| s.insert(post(alice, "Hello")));
    assert!(err
        .to_string()
        .starts_with("UNIQUE constraint failed: posts.author_id, posts.title"));
    // The columns are the constraint's own static list (UniqueDef::columns), not a copy made
    // for each refused write.
    let Err(Error::UniqueViolation { columns, .. }) = s.insert(post(alice, "Hello")) else {
        panic!("a unique violation")
    };
    let columns: &'static [&'static str] = columns;
    let def = <Post as relata::Entity>::DEF.uniques.iter();
    assert!(def.map(|u| u.columns).any(|c| c == columns));
    // Another author may reuse the title.
    let bob = s.insert(user("bob")).unwrap();
    ok(&mut s, |s| s.insert(post(bob, "Hello")));
    assert_eq!(
        s.find_unique_values(Post::BY_AUTHOR_TITLE, &[alice.into(), "Hello".into()]),
        Ok(Some(first))
    );
}

#[test]
fn composite_unique_null_part_never_collides() {
    let mut s = store();
    let tag = |name: Option<&str>| Tag {
        name: name.map(Into::into),
        scope: "x".into(),
        weight: 0,
    };
    ok(&mut s, |s| s.insert(tag(None)));
    ok(&mut s, |s| s.insert(tag(None)));
    let a = ok(&mut s, |s| s.insert(tag(Some("a"))));
    let err = unique(
        "tags",
        &["name", "scope"],
        "uq_tags_name_scope",
        "('a', 'x')",
        a.raw(),
    );
    assert_fails_unchanged(&mut s, &err, |s| s.insert(tag(Some("a"))));
    assert_eq!(
        s.find_unique_values(Tag::BY_NAME_SCOPE, &[Value::Null, "x".into()]),
        Ok(None)
    );
}

#[test]
fn one_to_one_second_child_is_a_unique_violation() {
    let mut s = store();
    let alice = s.insert(user("alice")).unwrap();
    let p1 = ok(&mut s, |s| {
        s.insert(Profile {
            bio: "one".into(),
            user: alice,
        })
    });
    let err = unique(
        "profiles",
        &["user_id"],
        "uq_profiles_user_id",
        &format!("users[{}]", alice.raw()),
        p1.raw(),
    );
    assert_fails_unchanged(&mut s, &err, |s| {
        s.insert(Profile {
            bio: "two".into(),
            user: alice,
        })
    });
    assert_eq!(s.children(Profile::USER, alice).collect::<Vec<_>>(), [p1]);
    // Many unowned addresses are fine: NULLs never collide.
    for _ in 0..3 {
        ok(&mut s, |s| {
            s.insert(Address {
                email_address: "x".into(),
                user: None,
            })
        });
    }
}

#[test]
fn dangling_and_stale_foreign_keys() {
    let mut s = store();
    let ghost = Key::<User>::from_u64(0x0000_0001_0000_0063);
    let err = Error::MissingTarget {
        table: "posts",
        column: "author_id",
        target: "users",
        key: ghost.raw(),
    };
    assert_fails_unchanged(&mut s, &err, |s| s.insert(post(ghost, "Hi")));
    let alice = s.insert(user("alice")).unwrap();
    s.delete(alice).unwrap();
    let err = Error::DeletedTarget {
        table: "posts",
        column: "author_id",
        target: "users",
        key: alice.raw(),
    };
    assert_fails_unchanged(&mut s, &err, |s| s.insert(post(alice, "Hi")));
    assert!(err
        .to_string()
        .starts_with("FOREIGN KEY constraint failed: posts.author_id"));
    // A key reused in the same slot stays stale: the new record has a new generation.
    let bob = s.insert(user("bob")).unwrap();
    assert_ne!(bob.raw(), alice.raw());
    assert_fails_unchanged(&mut s, &err, |s| s.insert(post(alice, "Hi")));
    // Moving a post to a stale parent is refused too.
    let p = s.insert(post(bob, "Hi")).unwrap();
    assert_fails_unchanged(&mut s, &err, |s| s.update(p, |p| p.author = alice));
}

#[test]
fn two_violations_at_once_report_the_unique_one_first() {
    let mut s = store();
    let alice = s.insert(user("alice")).unwrap();
    let first = s.insert(post(alice, "Hello")).unwrap();
    let ghost = Key::<User>::from_u64(0x0000_0001_0000_0063);
    // Unique constraints are checked before foreign keys, like SQLite.
    // Of two violated unique constraints the last declared is reported, as SQLite reports it.
    let err = unique(
        "users",
        &["email"],
        "uq_users_email",
        "'alice@example.com'",
        alice.raw(),
    );
    assert_fails_unchanged(&mut s, &err, |s| s.insert(user("alice")));
    let mut moved = post(ghost, "Hello");
    moved.author = alice;
    let err = unique(
        "posts",
        &["author_id", "title"],
        "uq_post_user_title",
        &format!("(users[{}], 'Hello')", alice.raw()),
        first.raw(),
    );
    assert_fails_unchanged(&mut s, &err, |s| s.insert(moved));
}

#[test]
fn acyclic_self_reference_rejects_loops_and_moves_under_descendants() {
    let mut s = store();
    let root = s
        .insert(Node {
            name: "root".into(),
            parent: None,
        })
        .unwrap();
    let child = s
        .insert(Node {
            name: "child".into(),
            parent: Some(root),
        })
        .unwrap();
    let grandchild = s
        .insert(Node {
            name: "grandchild".into(),
            parent: Some(child),
        })
        .unwrap();
    let err = Error::Cycle {
        table: "nodes",
        column: "parent_id",
        key: root.raw(),
        parent: root.raw(),
    };
    assert_fails_unchanged(&mut s, &err, |s| s.update(root, |n| n.parent = Some(root)));
    let err = Error::Cycle {
        table: "nodes",
        column: "parent_id",
        key: root.raw(),
        parent: grandchild.raw(),
    };
    assert_fails_unchanged(&mut s, &err, |s| s.update(root, |n| n.parent = Some(grandchild)));
    // Moving a leaf elsewhere is fine.
    ok(&mut s, |s| s.update(grandchild, |n| n.parent = Some(root)));
    assert_eq!(
        s.children(Node::PARENT, root).collect::<Vec<_>>(),
        [child, grandchild]
    );
}

#[test]
fn an_unregistered_relation_and_a_non_child_are_typed_errors() {
    const STRANGERS: relata::ManyToMany<User, Group> = relata::ManyToMany::new("strangers", "a", "b");
    let mut s = store();
    let u = s.insert(user("u")).unwrap();
    let g = s.insert(Group { name: "g".into() }).unwrap();
    let err = Error::UnknownRelation {
        relation: "strangers",
    };
    assert_fails_unchanged(&mut s, &err, |s| s.link(STRANGERS, u, g));
    assert!(!s.is_linked(STRANGERS, u, g));
    assert_eq!(s.rights(STRANGERS, u).count(), 0);
    let v = s.insert(user("v")).unwrap();
    let p = s.insert(post(u, "p")).unwrap();
    let err = Error::NotAChild {
        table: "posts",
        column: "author_id",
        key: p.raw(),
        parent_table: "users",
        parent: v.raw(),
    };
    assert_fails_unchanged(&mut s, &err, |s| s.remove_child(Post::AUTHOR, p, v));
    // A deleted child is stale, as `set_parent` says of it (it was `NotAChild`).
    let gone = s.insert(post(u, "gone")).unwrap();
    s.delete(gone).unwrap();
    let stale = Error::Stale {
        table: "posts",
        key: gone.raw(),
    };
    assert_fails_unchanged(&mut s, &stale, |s| s.remove_child(Post::AUTHOR, gone, u));
    assert_eq!(
        err.to_string(),
        format!(
            "posts[{}] is not a child of users[{}] through posts.author_id",
            p.raw(),
            v.raw()
        )
    );
}

/// Issue 17 item 5: a handle whose name equals a registered relation's but whose types differ
/// must not reach that relation's pairs (it used to link the registered relation's records).
#[test]
fn a_relation_handle_is_matched_by_its_types_not_only_its_name() {
    const MEMBERS: relata::ManyToMany<User, Group> = relata::ManyToMany::new("members", "groups", "users");
    const IMPOSTOR: relata::ManyToMany<Node, Employee> = relata::ManyToMany::new("members", "x", "y");
    let mut s = relata::Store::new(
        relata::Schema::builder()
            .entity::<User>()
            .entity::<Group>()
            .entity::<Node>()
            .entity::<Employee>()
            .relation(MEMBERS)
            .build()
            .unwrap(),
    );
    let u = s.insert(user("u")).unwrap();
    let g = s.insert(Group { name: "g".into() }).unwrap();
    let n = s
        .insert(Node {
            name: "n".into(),
            parent: None,
        })
        .unwrap();
    let e = s
        .insert(Employee {
            name: "e".into(),
            manager: None,
        })
        .unwrap();
    s.link(MEMBERS, u, g).unwrap();
    let err = Error::RelationMismatch {
        relation: "members",
        left: "User",
        right: "Group",
        handle_left: "Node",
        handle_right: "Employee",
    };
    assert_fails_unchanged(&mut s, &err, |s| s.link(IMPOSTOR, n, e));
    assert_fails_unchanged(&mut s, &err, |s| s.link_if_absent(IMPOSTOR, n, e));
    assert_fails_unchanged(&mut s, &err, |s| s.unlink(IMPOSTOR, n, e));
    assert!(!s.is_linked(IMPOSTOR, n, e));
    assert_eq!(s.rights(IMPOSTOR, n).count(), 0);
    assert_eq!(s.lefts(IMPOSTOR, e).count(), 0);
    assert_eq!(s.link_count(IMPOSTOR), 0);
    assert!(err
        .to_string()
        .contains("ManyToMany<User, Group>, not ManyToMany<Node, Employee>"));
    assert_eq!(s.link_count(MEMBERS), 1);
}

/// Issue 17 item 10: `ancestors` stops at a repeated record (cycles are allowed without
/// `acyclic`) and walks a long chain in linear time (`benches/ops.rs`, `ancestors`, measures
/// the deepest node of a 100,000-node chain; it was quadratic).
#[test]
fn ancestors_of_a_long_chain_and_of_a_cycle() {
    let mut s = store();
    let mut prev = None;
    let mut chain = Vec::new();
    for i in 0..2_000 {
        let k = s
            .insert(Employee {
                name: format!("e{i}"),
                manager: prev,
            })
            .unwrap();
        chain.push(k);
        prev = Some(k);
    }
    let deepest = *chain.last().unwrap();
    let mut want: Vec<_> = chain[..chain.len() - 1].to_vec();
    want.reverse();
    assert_eq!(s.ancestors(Employee::MANAGER, deepest).collect::<Vec<_>>(), want);
    // Close the loop: the walk stops before repeating a record, the start included.
    s.update(chain[0], |e| e.manager = Some(deepest)).unwrap();
    let around = s.ancestors(Employee::MANAGER, deepest).collect::<Vec<_>>();
    assert_eq!(around.len(), chain.len() - 1);
    assert!(!around.contains(&deepest));
    s.update(chain[0], |e| e.manager = Some(chain[1])).unwrap();
    assert_eq!(
        s.ancestors(Employee::MANAGER, chain[2]).collect::<Vec<_>>(),
        [chain[1], chain[0]]
    );
}

#[test]
fn floats_compare_numerically_under_unique() {
    #[derive(relata::Entity, Clone, Debug, PartialEq)]
    #[relata(table = "readings")]
    struct Reading {
        #[relata(unique)]
        value: f64,
    }
    let mut s = relata::Store::new(relata::Schema::builder().entity::<Reading>().build().unwrap());
    let zero = s.insert(Reading { value: 0.0 }).unwrap();
    let err = s.insert(Reading { value: -0.0 }).unwrap_err();
    assert!(
        matches!(err, Error::UniqueViolation { existing, .. } if existing == zero.raw()),
        "{err:?}"
    );
    let nan = s.insert(Reading { value: f64::NAN }).unwrap();
    let err = s.insert(Reading { value: -f64::NAN }).unwrap_err();
    assert!(
        matches!(err, Error::UniqueViolation { existing, .. } if existing == nan.raw()),
        "{err:?}"
    );
    assert_eq!(s.find_unique(Reading::BY_VALUE, &-0.0), Some(zero));
    s.check_integrity().unwrap();
}

#[test]
fn numbers_compare_by_value_across_widths() {
    let mut s = store();
    let t = s
        .insert(Tag {
            name: Some("a".into()),
            scope: "x".into(),
            weight: 1,
        })
        .unwrap();
    let by = |v: relata::Value<'static>| {
        s.find_by_values(Tag::BY_SCOPE_WEIGHT, &["x".into(), v])
            .unwrap()
            .collect::<Vec<_>>()
    };
    assert_eq!(by(relata::Value::Int(1)), [t]);
    assert_eq!(by(relata::Value::UInt(1)), [t]);
    assert_eq!(by(relata::Value::Float(1.0)), [t]);
    assert!(by(relata::Value::Float(1.5)).is_empty());
}

/// `set_parent` moving a child checks only what a key change can break, and all of it: the
/// new parent is live, a unique constraint over the key (`unique(author, title)`) holds, the
/// child is live; a refused move changes nothing, an accepted one moves the child to the end
/// of its new parent's list.
#[test]
fn set_parent_checks_the_target_the_unique_over_the_key_and_the_child() {
    let mut s = store();
    let alice = s.insert(user("alice")).unwrap();
    let bob = s.insert(user("bob")).unwrap();
    let gone = s.insert(user("gone")).unwrap();
    s.delete(gone).unwrap();
    let hi = s.insert(post(alice, "Hi")).unwrap();
    let bobs_hi = s.insert(post(bob, "Hi")).unwrap();
    let other = s.insert(post(alice, "Other")).unwrap();
    let err = Error::DeletedTarget {
        table: "posts",
        column: "author_id",
        target: "users",
        key: gone.raw(),
    };
    assert_fails_unchanged(&mut s, &err, |s| s.set_parent(Post::AUTHOR, hi, Some(gone)));
    let err = s.set_parent(Post::AUTHOR, hi, Some(bob)).unwrap_err();
    assert!(
        matches!(&err, Error::UniqueViolation { constraint, existing, .. }
            if *constraint == "uq_post_user_title" && *existing == bobs_hi.raw()),
        "{err:?}"
    );
    assert_fails_unchanged(&mut s, &err, |s| s.set_parent(Post::AUTHOR, hi, Some(bob)));
    ok(&mut s, |s| s.set_parent(Post::AUTHOR, other, Some(alice))); // already there
    ok(&mut s, |s| s.set_parent(Post::AUTHOR, hi, Some(alice)));
    ok(&mut s, |s| s.set_parent(Post::AUTHOR, other, Some(bob)));
    assert_eq!(
        s.children(Post::AUTHOR, bob).collect::<Vec<_>>(),
        [bobs_hi, other]
    );
    assert_eq!(s.children(Post::AUTHOR, alice).collect::<Vec<_>>(), [hi]);
    s.delete(other).unwrap();
    let err = Error::Stale {
        table: "posts",
        key: other.raw(),
    };
    assert_fails_unchanged(&mut s, &err, |s| s.set_parent(Post::AUTHOR, other, Some(alice)));
}
