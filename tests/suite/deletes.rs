//! On-delete actions: restrict, cascade (any depth, across types, through cycles), set-null,
//! and the all-or-nothing rule when a restriction is met half-way.

use crate::common::*;
use relata::{DeletedRecord, Error, NulledReference};

#[test]
fn restrict_blocks_and_names_the_relationship() {
    let mut s = store();
    let alice = s.insert(user("alice")).unwrap();
    let p = s.insert(post(alice, "Hi")).unwrap();
    s.insert(Comment {
        body: "first".into(),
        post: p,
    })
    .unwrap();
    s.insert(Comment {
        body: "second".into(),
        post: p,
    })
    .unwrap();
    let err = Error::Restricted {
        table: "posts",
        key: p.raw(),
        child_table: "comments",
        column: "post_id",
        relationship: "comments",
        dependents: 2,
        action: relata::OnDelete::NoAction,
    };
    assert_fails_unchanged(&mut s, &err, |s| s.delete(p));
    assert!(err
        .to_string()
        .contains("2 row(s) of comments.post_id still reference it"));
}

#[test]
fn a_restriction_deep_in_a_cascade_undoes_everything() {
    let mut s = store();
    let alice = s.insert(user("alice")).unwrap();
    s.insert(Profile {
        bio: "hi".into(),
        user: alice,
    })
    .unwrap();
    let p1 = s.insert(post(alice, "one")).unwrap();
    let p2 = s.insert(post(alice, "two")).unwrap();
    s.insert(Comment {
        body: "blocks".into(),
        post: p2,
    })
    .unwrap();
    let err = Error::Restricted {
        table: "posts",
        key: p2.raw(),
        child_table: "comments",
        column: "post_id",
        relationship: "comments",
        dependents: 1,
        action: relata::OnDelete::NoAction,
    };
    assert_fails_unchanged(&mut s, &err, |s| s.delete(alice));
    assert_eq!(s.explain_delete(alice).unwrap_err(), err);
    assert!(s.contains(p1));
}

/// The report lists the records in the order the cascade reached them: the root, then each
/// record's cascading children key by key, the last declared key's first, each child followed
/// by what it reaches (the walk's order, pinned so a faster walk cannot change it): users'
/// keys are the profile's, the address's, the posts', the memberships' and the badge's.
#[test]
fn cascade_report_lists_records_in_the_order_they_were_reached() {
    let mut s = store();
    let alice = s.insert(user("alice")).unwrap();
    let profile = s
        .insert(Profile {
            bio: "hi".into(),
            user: alice,
        })
        .unwrap();
    let posts: Vec<_> = (0..2)
        .map(|i| s.insert(post(alice, &format!("p{i}"))).unwrap())
        .collect();
    let groups: Vec<_> = (0..2)
        .map(|i| {
            s.insert(Group {
                name: format!("g{i}"),
            })
            .unwrap()
        })
        .collect();
    let memberships: Vec<_> = groups
        .iter()
        .map(|&group| {
            let m = UserGroup {
                user: alice,
                group,
                joined_on: 1,
            };
            s.insert(m).unwrap()
        })
        .collect();
    let badge = s
        .insert(Badge {
            label: "b".into(),
            user: alice,
        })
        .unwrap();
    let report = ok(&mut s, |s| s.delete(alice));
    let order: Vec<_> = report.deleted.iter().map(|d| (d.table, d.key)).collect();
    let mut want = vec![("users", alice.raw()), ("badges", badge.raw())];
    want.extend(memberships.iter().map(|m| ("user_groups", m.raw())));
    want.extend(posts.iter().map(|p| ("posts", p.raw())));
    want.push(("profiles", profile.raw()));
    assert_eq!(order, want);
}

#[test]
fn cascade_reports_everything_it_deleted() {
    let mut s = store();
    let alice = s.insert(user("alice")).unwrap();
    let bob = s.insert(user("bob")).unwrap();
    let prof = s
        .insert(Profile {
            bio: "hi".into(),
            user: alice,
        })
        .unwrap();
    let posts: Vec<_> = (0..3)
        .map(|i| s.insert(post(alice, &format!("p{i}"))).unwrap())
        .collect();
    let admin = s.insert(Group { name: "admin".into() }).unwrap();
    let m = s
        .insert(UserGroup {
            user: alice,
            group: admin,
            joined_on: 1,
        })
        .unwrap();
    let kept = s
        .insert(UserGroup {
            user: bob,
            group: admin,
            joined_on: 2,
        })
        .unwrap();
    let explained = s.explain_delete(alice).unwrap();
    let report = ok(&mut s, |s| s.delete(alice));
    assert_eq!(report, explained);
    assert_eq!(
        report.deleted[0],
        DeletedRecord {
            table: "users",
            key: alice.raw()
        }
    );
    assert_eq!(report.deleted.len(), 1 + 1 + 3 + 1);
    assert_eq!(report.deleted_from::<Post>(), 3);
    assert!(!s.contains(prof) && !s.contains(m) && posts.iter().all(|p| !s.contains(*p)));
    assert!(s.contains(admin) && s.contains(kept) && s.contains(bob));
    assert_eq!(s.children(UserGroup::GROUP, admin).collect::<Vec<_>>(), [kept]);
}

#[test]
fn set_null_keeps_the_child_unowned() {
    let mut s = store();
    let alice = s.insert(user("alice")).unwrap();
    let addr = s
        .insert(Address {
            email_address: "a@x".into(),
            user: Some(alice),
        })
        .unwrap();
    let report = ok(&mut s, |s| s.delete(alice));
    assert_eq!(
        report.nulled,
        [NulledReference {
            table: "addresses",
            column: "user_id",
            key: addr.raw()
        }]
    );
    assert_eq!(s.get(addr).unwrap().user, None);
    // The slot is free again: a new user can take the address.
    let bob = s.insert(user("bob")).unwrap();
    ok(&mut s, |s| s.update(addr, |a| a.user = Some(bob)));
    assert_eq!(s.children(Address::USER, bob).collect::<Vec<_>>(), [addr]);
}

#[test]
fn cascade_through_a_deep_tree() {
    // PostgreSQL has no cascade depth limit (SQLite's 1000 levels: tests/suite/engines.rs).
    let mut s = postgres_store();
    let root = s
        .insert(Node {
            name: "root".into(),
            parent: None,
        })
        .unwrap();
    let mut parent = root;
    for i in 0..10_000 {
        parent = s
            .insert(Node {
                name: format!("n{i}"),
                parent: Some(parent),
            })
            .unwrap();
    }
    let report = ok(&mut s, |s| s.delete(root));
    assert_eq!(report.deleted.len(), 10_001);
    assert_eq!(s.count::<Node>(), 0);
}

#[test]
fn cascade_through_a_cycle_deletes_each_record_once() {
    let mut s = store();
    let a = s
        .insert(Employee {
            name: "a".into(),
            manager: None,
        })
        .unwrap();
    let b = s
        .insert(Employee {
            name: "b".into(),
            manager: Some(a),
        })
        .unwrap();
    let c = s
        .insert(Employee {
            name: "c".into(),
            manager: Some(b),
        })
        .unwrap();
    ok(&mut s, |s| s.update(a, |e| e.manager = Some(c))); // a -> c -> b -> a
    let outsider = s
        .insert(Employee {
            name: "d".into(),
            manager: None,
        })
        .unwrap();
    let report = ok(&mut s, |s| s.delete(b));
    assert_eq!(report.deleted.len(), 3);
    assert_eq!(s.keys::<Employee>().collect::<Vec<_>>(), [outsider]);
}

#[test]
fn deleting_a_child_leaves_its_parents_collections_at_once() {
    let mut s = store();
    let alice = s.insert(user("alice")).unwrap();
    let p1 = s.insert(post(alice, "one")).unwrap();
    let p2 = s.insert(post(alice, "two")).unwrap();
    let p3 = s.insert(post(alice, "three")).unwrap();
    ok(&mut s, |s| s.delete(p2));
    assert_eq!(s.children(Post::AUTHOR, alice).collect::<Vec<_>>(), [p1, p3]);
    assert_eq!(s.child_count(Post::AUTHOR, alice), 2);
}

#[test]
fn moving_a_child_updates_both_parents_in_link_order() {
    let mut s = store();
    let alice = s.insert(user("alice")).unwrap();
    let bob = s.insert(user("bob")).unwrap();
    let a1 = s.insert(post(alice, "a1")).unwrap();
    let b1 = s.insert(post(bob, "b1")).unwrap();
    let a2 = s.insert(post(alice, "a2")).unwrap();
    ok(&mut s, |s| s.update(a1, |p| p.author = bob));
    assert_eq!(s.children(Post::AUTHOR, alice).collect::<Vec<_>>(), [a2]);
    assert_eq!(s.children(Post::AUTHOR, bob).collect::<Vec<_>>(), [b1, a1]);
    assert_eq!(s.parent(Post::AUTHOR, a1), Some(bob));
}

/// A cascade keeps only the records a second path could reach (the root, rows of a table with
/// two cascading keys): a cycle through two tables comes back to the root, a membership row
/// is reached from its user and its group, and each is still deleted once.
#[test]
fn cascade_through_a_two_table_cycle_and_a_diamond_deletes_each_record_once() {
    use relata::{Entity, Key, Schema, Store};
    #[derive(Entity, Clone, Debug, PartialEq)]
    #[relata(table = "owners")]
    struct Owner {
        name: String,
        #[relata(back = "owners", on_delete = "cascade")]
        team: Option<Key<Team>>,
    }
    #[derive(Entity, Clone, Debug, PartialEq)]
    #[relata(table = "teams")]
    struct Team {
        name: String,
        #[relata(back = "teams", on_delete = "cascade")]
        owner: Option<Key<Owner>>,
    }
    #[derive(Entity, Clone, Debug, PartialEq)]
    #[relata(table = "seats", unique(owner, team))]
    struct Seat {
        #[relata(back = "seats", on_delete = "cascade")]
        owner: Key<Owner>,
        #[relata(back = "seats", on_delete = "cascade")]
        team: Key<Team>,
    }
    let schema = Schema::builder()
        .entity::<Owner>()
        .entity::<Team>()
        .entity::<Seat>()
        .build()
        .unwrap();
    let mut s = Store::new(schema);
    let o1 = s
        .insert(Owner {
            name: "o1".into(),
            team: None,
        })
        .unwrap();
    let t1 = s
        .insert(Team {
            name: "t1".into(),
            owner: Some(o1),
        })
        .unwrap();
    let o2 = s
        .insert(Owner {
            name: "o2".into(),
            team: Some(t1),
        })
        .unwrap();
    let t2 = s
        .insert(Team {
            name: "t2".into(),
            owner: Some(o2),
        })
        .unwrap();
    ok(&mut s, |s| s.update(o1, |o| o.team = Some(t2))); // o1 -> t1 -> o2 -> t2 -> o1
    for (o, t) in [(o1, t1), (o1, t2), (o2, t1), (o2, t2)] {
        s.insert(Seat { owner: o, team: t }).unwrap();
    }
    let bystander = s
        .insert(Owner {
            name: "o3".into(),
            team: None,
        })
        .unwrap();
    let report = ok(&mut s, |s| s.delete(t1));
    assert_eq!(report.deleted.len(), 8, "4 owners and teams, 4 seats: {report:?}");
    let mut keys: Vec<_> = report.deleted.iter().map(|d| (d.table, d.key)).collect();
    keys.sort_unstable();
    keys.dedup();
    assert_eq!(keys.len(), 8, "each record once");
    assert_eq!(s.keys::<Owner>().collect::<Vec<_>>(), [bystander]);
    assert_eq!((s.count::<Team>(), s.count::<Seat>()), (0, 0));
}

/// The plan looks up only the records of a table a delete can reach twice, which the schema
/// decides per starting table: deleting an org reaches a member from its department and from
/// its project (both go with the org, one level down), deleting a department reaches each of
/// its members once (no project goes). Both delete each record once.
#[test]
fn a_cascade_reaching_a_row_from_both_its_parents_only_through_the_root_deletes_it_once() {
    use relata::{Entity, Key, Schema, Store};
    #[derive(Entity, Clone, Debug, PartialEq)]
    #[relata(table = "orgs")]
    struct Org {
        name: String,
    }
    #[derive(Entity, Clone, Debug, PartialEq)]
    #[relata(table = "depts")]
    struct Dept {
        #[relata(back = "depts", on_delete = "cascade")]
        org: Key<Org>,
    }
    #[derive(Entity, Clone, Debug, PartialEq)]
    #[relata(table = "projects")]
    struct Project {
        #[relata(back = "projects", on_delete = "cascade")]
        org: Key<Org>,
    }
    #[derive(Entity, Clone, Debug, PartialEq)]
    #[relata(table = "members")]
    struct Member {
        #[relata(back = "members", on_delete = "cascade")]
        dept: Key<Dept>,
        #[relata(back = "members", on_delete = "cascade")]
        project: Key<Project>,
    }
    let schema = Schema::builder()
        .entity::<Org>()
        .entity::<Dept>()
        .entity::<Project>()
        .entity::<Member>()
        .build()
        .unwrap();
    let mut s = Store::new(schema);
    let org = s.insert(Org { name: "o".into() }).unwrap();
    let (d1, d2) = (s.insert(Dept { org }).unwrap(), s.insert(Dept { org }).unwrap());
    let (p1, p2) = (
        s.insert(Project { org }).unwrap(),
        s.insert(Project { org }).unwrap(),
    );
    for (dept, project) in [(d1, p1), (d1, p2), (d2, p1), (d2, p2), (d1, p1)] {
        s.insert(Member { dept, project }).unwrap();
    }
    let report = ok(&mut s, |s| s.delete(d1));
    assert_eq!(
        report.deleted.len(),
        4,
        "the department and its 3 members: {report:?}"
    );
    assert_eq!((s.count::<Member>(), s.count::<Project>()), (2, 2));
    let report = ok(&mut s, |s| s.delete(org));
    assert_eq!(
        report.deleted.len(),
        6,
        "org, dept, 2 projects, 2 members: {report:?}"
    );
    let mut keys: Vec<_> = report.deleted.iter().map(|d| (d.table, d.key)).collect();
    keys.sort_unstable();
    keys.dedup();
    assert_eq!(keys.len(), 6, "each record once");
    assert_eq!(s.count::<Member>(), 0);
}

/// A user's memberships are leaves of its delete (no key points into them): they leave the
/// user's list all at once, the list emptied in one step, while each leaves its group's list
/// by itself. A fault on their table, a rolled-back delete and a committed one each leave
/// every list exactly as the records say, in link order.
#[test]
fn a_cascade_empties_a_list_of_leaves_at_once_and_undoes_it_entry_by_entry() {
    let mut s = store();
    let [alice, bob, carol] = ["alice", "bob", "carol"].map(|n| s.insert(user(n)).unwrap());
    let groups: Vec<_> = (0..3)
        .map(|i| {
            s.insert(Group {
                name: format!("g{i}"),
            })
            .unwrap()
        })
        .collect();
    let member = |s: &mut relata::Store, user, group| {
        s.insert(UserGroup {
            user,
            group,
            joined_on: 1,
        })
        .unwrap()
    };
    // Each group lists alice's membership between bob's and carol's.
    let mut mine = Vec::new();
    for &g in &groups {
        member(&mut s, bob, g);
        mine.push(member(&mut s, alice, g));
        member(&mut s, carol, g);
    }
    let members = |s: &relata::Store, g| s.children(UserGroup::GROUP, g).collect::<Vec<_>>();
    let before: Vec<_> = groups.iter().map(|&g| members(&s, g)).collect();

    let injected = Error::Unavailable { reason: "lost" };
    s.faults()
        .inject(relata::FaultPoint::next_write_to::<UserGroup>(), injected.clone());
    assert_fails_unchanged(&mut s, &injected, |s| s.delete(alice));
    assert_eq!(s.children(UserGroup::USER, alice).collect::<Vec<_>>(), mine);

    let fixture = s.clone();
    s.begin().unwrap();
    let report = s.delete(alice).unwrap();
    s.check_integrity().unwrap();
    assert_eq!(report.deleted_from::<UserGroup>(), 3);
    for (i, &g) in groups.iter().enumerate() {
        assert_eq!(members(&s, g), [before[i][0], before[i][2]], "group {i}");
    }
    s.rollback().unwrap();
    s.check_integrity().unwrap();
    assert!(s == fixture, "the rollback puts every list back");
    assert_eq!(s.children(UserGroup::USER, alice).collect::<Vec<_>>(), mine);
    assert_eq!(groups.iter().map(|&g| members(&s, g)).collect::<Vec<_>>(), before);

    let report = ok(&mut s, |s| s.delete(alice));
    let deleted: Vec<_> = report.deleted.iter().map(|d| d.key).collect();
    let want: Vec<_> = std::iter::once(alice.raw())
        .chain(mine.iter().map(|m| m.raw()))
        .collect();
    assert_eq!(deleted, want);
    assert_eq!(s.children(UserGroup::USER, bob).count(), 3);
}

#[derive(relata::Entity, Clone, Debug, PartialEq)]
#[relata(table = "authors")]
struct Author {
    name: String,
}

/// A leaf whose only derived entry is its place in its author's list.
#[derive(relata::Entity, Clone, Debug, PartialEq)]
#[relata(table = "notes")]
struct Note {
    body: String,
    #[relata(back = "notes", on_delete = "cascade")]
    author: relata::Key<Author>,
}

/// Notes have no unique, no index and one key: a cascade deletes an author's notes without
/// unlinking each and cuts the author's list once. Every list stays exact through a fault on
/// their table, a rollback and a committed delete.
#[test]
fn a_cascade_cuts_a_list_of_plain_leaves_once() {
    let schema = relata::Schema::builder()
        .entity::<Author>()
        .entity::<Note>()
        .build();
    let mut s = relata::Store::new(schema.unwrap());
    let [ann, ben] = ["ann", "ben"].map(|n| s.insert(Author { name: n.into() }).unwrap());
    let mut notes = Vec::new();
    for i in 0..4 {
        for author in [ann, ben] {
            let note = s
                .insert(Note {
                    body: format!("{i}"),
                    author,
                })
                .unwrap();
            if author == ann {
                notes.push(note);
            }
        }
    }
    let injected = Error::Unavailable { reason: "lost" };
    s.faults()
        .inject(relata::FaultPoint::next_write_to::<Note>(), injected.clone());
    assert_fails_unchanged(&mut s, &injected, |s| s.delete(ann));
    assert_eq!(s.children(Note::AUTHOR, ann).collect::<Vec<_>>(), notes);

    let fixture = s.clone();
    s.begin().unwrap();
    assert_eq!(s.delete(ann).unwrap().deleted_from::<Note>(), 4);
    s.check_integrity().unwrap();
    s.rollback().unwrap();
    s.check_integrity().unwrap();
    assert!(s == fixture, "the rollback puts every note back in its list");

    let report = ok(&mut s, |s| s.delete(ann));
    let deleted: Vec<_> = report.deleted.iter().map(|d| d.key).collect();
    let want: Vec<_> = std::iter::once(ann.raw())
        .chain(notes.iter().map(|n| n.raw()))
        .collect();
    assert_eq!(deleted, want);
    assert_eq!(s.children(Note::AUTHOR, ben).count(), 4);
    assert_eq!(s.count::<Note>(), 4);
    // The author's slot is reused by a new author, who starts with no notes.
    let cat = s.insert(Author { name: "cat".into() }).unwrap();
    assert_eq!(s.children(Note::AUTHOR, cat).count(), 0);
    s.check_integrity().unwrap();
}

/// A leaf kept in its parent's list by a field (`order_by`), with no unique, no index and one
/// key: a cascade cuts the list once (see `a_cascade_cuts_a_list_of_plain_leaves_once`).
#[derive(relata::Entity, Clone, Debug, PartialEq)]
#[relata(table = "ranked_notes")]
struct RankedNote {
    rank: i64,
    #[relata(back = "ranked_notes", on_delete = "cascade", order_by = "rank")]
    author: relata::Key<Author>,
}

/// A list cut whole by a cascade comes back in its field's order, not in link order, after a
/// rollback to a savepoint and after a reset to a mark; another author's list, interleaved
/// with it, is never touched.
#[test]
fn a_cut_list_ordered_by_a_field_comes_back_in_order_after_rollback_to_and_reset() {
    let schema = relata::Schema::builder()
        .entity::<Author>()
        .entity::<RankedNote>()
        .build();
    let mut s = relata::Store::new(schema.unwrap());
    let [ann, ben] = ["ann", "ben"].map(|n| s.insert(Author { name: n.into() }).unwrap());
    // Inserted out of rank order, the two authors' notes interleaved in their table's slots.
    for rank in [5, 1, 4, 2, 3] {
        for author in [ann, ben] {
            s.insert(RankedNote { rank, author }).unwrap();
        }
    }
    let ranks = |s: &relata::Store, a| {
        let notes = s.records::<RankedNote>();
        let list = notes.children(RankedNote::AUTHOR, a);
        list.filter_map(|n| notes.get(n).map(|n| n.rank))
            .collect::<Vec<_>>()
    };
    assert_eq!(ranks(&s, ann), [1, 2, 3, 4, 5]);
    let (fixture, listed) = (s.clone(), s.children(RankedNote::AUTHOR, ann).collect::<Vec<_>>());

    s.begin().unwrap();
    let sp = s.savepoint().unwrap();
    assert_eq!(s.delete(ann).unwrap().deleted_from::<RankedNote>(), 5);
    s.check_integrity().unwrap();
    assert_eq!(ranks(&s, ben), [1, 2, 3, 4, 5]);
    s.rollback_to(&sp).unwrap();
    s.check_integrity().unwrap();
    assert_eq!(s.children(RankedNote::AUTHOR, ann).collect::<Vec<_>>(), listed);
    s.commit().unwrap();
    assert!(
        s == fixture,
        "the rollback to the savepoint puts every note back in order"
    );

    let mark = s.mark().unwrap();
    s.delete(ann).unwrap();
    s.insert(RankedNote { rank: 0, author: ben }).unwrap();
    s.reset(&mark).unwrap();
    s.check_integrity().unwrap();
    assert_eq!(s.children(RankedNote::AUTHOR, ann).collect::<Vec<_>>(), listed);
    assert_eq!(
        (ranks(&s, ann), ranks(&s, ben)),
        (vec![1, 2, 3, 4, 5], vec![1, 2, 3, 4, 5])
    );
    assert!(s == fixture, "the reset puts every note back in order");
}
