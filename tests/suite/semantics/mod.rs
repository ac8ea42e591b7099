//! `docs/SEMANTICS.md` §14, row by row: each test is named after its scenario and asserts
//! relata's outcome (as Part A sets it), the unchanged state on failure, and `check_integrity`.
//! Rows about transactions live in `tests/suite/transactions.rs`.

mod schema;

use crate::common::{assert_fails_unchanged, ok};
use relata::{Error, Key, Store};
use schema::*;

fn posts_of(s: &Store, u: Key<User>) -> Vec<Key<Post>> {
    s.children(Post::AUTHOR, u).collect()
}

#[test]
fn o2o_01_both_sides_linked_at_creation() {
    let mut s = store();
    let u = user(&mut s, "u");
    let p = ok(&mut s, |s| {
        s.insert(Profile {
            bio: "b".into(),
            user: Some(u),
        })
    });
    assert_eq!(s.child(Profile::USER, u), Some(p));
    assert_eq!(s.parent(Profile::USER, p), Some(u));
    let u2 = user(&mut s, "u2");
    let p2 = s
        .insert(Profile {
            bio: "b2".into(),
            user: None,
        })
        .unwrap();
    ok(&mut s, |s| s.set_child(Profile::USER, Some(p2), u2));
    assert_eq!(s.get(p2).unwrap().user, Some(u2));
}

#[test]
fn o2o_02_replacing_a_nullable_child_unowns_the_old_one() {
    let mut s = store();
    let u = user(&mut s, "u");
    let p1 = s
        .insert(Profile {
            bio: "1".into(),
            user: Some(u),
        })
        .unwrap();
    let p2 = s
        .insert(Profile {
            bio: "2".into(),
            user: None,
        })
        .unwrap();
    ok(&mut s, |s| s.set_child(Profile::USER, Some(p2), u));
    assert_eq!(s.get(p1).unwrap().user, None);
    assert_eq!(s.child(Profile::USER, u), Some(p2));
}

#[test]
fn o2o_03_displacing_a_required_child_fails_and_changes_nothing() {
    let mut s = store();
    let (u, u2) = (user(&mut s, "u"), user(&mut s, "u2"));
    let p1 = s
        .insert(RequiredProfile {
            bio: "1".into(),
            user: u,
        })
        .unwrap();
    let p2 = s
        .insert(RequiredProfile {
            bio: "2".into(),
            user: u2,
        })
        .unwrap();
    let err = Error::RequiredReference {
        table: "required_profiles",
        column: "user_id",
        key: p1.raw(),
    };
    assert_fails_unchanged(&mut s, &err, |s| s.set_child(RequiredProfile::USER, Some(p2), u));
}

#[test]
fn o2o_04_delete_orphan_replacement_succeeds() {
    let mut s = store();
    let u = user(&mut s, "u");
    let p1 = s
        .insert(OwnedProfile {
            bio: "1".into(),
            user: Some(u),
        })
        .unwrap();
    let p2 = s
        .insert(OwnedProfile {
            bio: "2".into(),
            user: None,
        })
        .unwrap();
    ok(&mut s, |s| s.set_child(OwnedProfile::USER, Some(p2), u));
    assert!(!s.contains(p1), "the displaced orphan is deleted");
    assert_eq!(s.child(OwnedProfile::USER, u), Some(p2));
}

#[test]
fn o2o_05_every_move_keeps_both_views_consistent() {
    let mut s = store();
    let (u1, u2, u3) = (user(&mut s, "u1"), user(&mut s, "u2"), user(&mut s, "u3"));
    let p = s
        .insert(Profile {
            bio: "p".into(),
            user: Some(u1),
        })
        .unwrap();
    // (a) child side, new parent free.
    ok(&mut s, |s| s.set_parent(Profile::USER, p, Some(u2)));
    assert_eq!(
        (s.child(Profile::USER, u1), s.child(Profile::USER, u2)),
        (None, Some(p))
    );
    // (b) parent side steals a child from its owner: the owner is left with none, at once.
    ok(&mut s, |s| s.set_child(Profile::USER, Some(p), u1));
    assert_eq!(
        (s.child(Profile::USER, u1), s.child(Profile::USER, u2)),
        (Some(p), None)
    );
    // (d) child side, new parent occupied: the occupant is displaced.
    let p0 = s
        .insert(Profile {
            bio: "p0".into(),
            user: Some(u3),
        })
        .unwrap();
    ok(&mut s, |s| s.set_parent(Profile::USER, p, Some(u3)));
    assert_eq!(s.child(Profile::USER, u3), Some(p));
    assert_eq!(s.get(p0).unwrap().user, None);
    assert_eq!(s.child(Profile::USER, u1), None);
}

#[test]
fn o2o_06_slot_moves_succeed_in_either_key_order() {
    for newer_first in [false, true] {
        let mut s = store();
        let (u, v) = (user(&mut s, "u"), user(&mut s, "v"));
        let (a, b) = if newer_first {
            let b = s
                .insert(Profile {
                    bio: "b".into(),
                    user: Some(v),
                })
                .unwrap();
            (
                s.insert(Profile {
                    bio: "a".into(),
                    user: Some(u),
                })
                .unwrap(),
                b,
            )
        } else {
            let a = s
                .insert(Profile {
                    bio: "a".into(),
                    user: Some(u),
                })
                .unwrap();
            (
                a,
                s.insert(Profile {
                    bio: "b".into(),
                    user: Some(v),
                })
                .unwrap(),
            )
        };
        ok(&mut s, |s| s.set_parent(Profile::USER, a, Some(v)));
        assert_eq!(s.child(Profile::USER, v), Some(a));
        assert_eq!(s.get(b).unwrap().user, None);
    }
}

#[test]
fn o2o_07_raw_duplicate_is_a_unique_violation_double_assignment_displaces() {
    let mut s = store();
    let u = user(&mut s, "u");
    let pa = s
        .insert(Profile {
            bio: "a".into(),
            user: Some(u),
        })
        .unwrap();
    let err = Error::UniqueViolation {
        table: "profiles",
        columns: &["user_id"],
        constraint: "uq_profiles_user_id",
        value: format!("users[{}]", u.raw()).into(),
        existing: pa.raw(),
    };
    assert_fails_unchanged(&mut s, &err, |s| {
        s.insert(Profile {
            bio: "b".into(),
            user: Some(u),
        })
    });
    let pb = s
        .insert(Profile {
            bio: "b".into(),
            user: None,
        })
        .unwrap();
    assert_fails_unchanged(&mut s, &err, |s| s.update(pb, |p| p.user = Some(u)));
    ok(&mut s, |s| s.set_child(Profile::USER, Some(pb), u));
    assert_eq!(s.get(pa).unwrap().user, None);
    assert_eq!(s.child(Profile::USER, u), Some(pb));
}

#[test]
fn o2o_08_two_children_for_one_parent_are_unreachable() {
    let mut s = store();
    let u = user(&mut s, "u");
    s.insert(RequiredProfile {
        bio: "1".into(),
        user: u,
    })
    .unwrap();
    assert!(s
        .insert(RequiredProfile {
            bio: "2".into(),
            user: u
        })
        .is_err());
    assert_eq!(s.children(RequiredProfile::USER, u).count(), 1);
}

#[test]
fn o2o_09_deleting_the_parent_follows_each_policy() {
    let mut s = store();
    let u = user(&mut s, "u");
    let nullable = s
        .insert(Profile {
            bio: "n".into(),
            user: Some(u),
        })
        .unwrap();
    let owned = s
        .insert(OwnedProfile {
            bio: "o".into(),
            user: Some(u),
        })
        .unwrap();
    let required = s
        .insert(RequiredProfile {
            bio: "r".into(),
            user: u,
        })
        .unwrap();
    let err = Error::Restricted {
        table: "users",
        key: u.raw(),
        child_table: "required_profiles",
        column: "user_id",
        relationship: "required_profile",
        dependents: 1,
        action: relata::OnDelete::NoAction,
    };
    assert_fails_unchanged(&mut s, &err, |s| s.delete(u));
    ok(&mut s, |s| s.delete(required));
    ok(&mut s, |s| s.delete(u));
    assert_eq!(s.get(nullable).unwrap().user, None);
    assert!(!s.contains(owned));
}

#[test]
fn o2o_10_clearing_the_child_nullifies_or_deletes_the_orphan() {
    let mut s = store();
    let u = user(&mut s, "u");
    let p = s
        .insert(Profile {
            bio: "n".into(),
            user: Some(u),
        })
        .unwrap();
    let o = s
        .insert(OwnedProfile {
            bio: "o".into(),
            user: Some(u),
        })
        .unwrap();
    ok(&mut s, |s| s.set_child(Profile::USER, None, u));
    ok(&mut s, |s| s.set_child(OwnedProfile::USER, None, u));
    assert_eq!(s.get(p).unwrap().user, None);
    assert!(!s.contains(o));
    for i in 0..3 {
        ok(&mut s, |s| {
            s.insert(Profile {
                bio: format!("{i}"),
                user: None,
            })
        });
    }
}

#[test]
fn o2o_11_deleting_every_parent_record_by_record_never_dangles() {
    let mut s = store();
    let users: Vec<_> = (0..5).map(|i| user(&mut s, &format!("u{i}"))).collect();
    for (i, &u) in users.iter().enumerate() {
        s.insert(Profile {
            bio: format!("{i}"),
            user: Some(u),
        })
        .unwrap();
        s.insert(OwnedProfile {
            bio: format!("{i}"),
            user: Some(u),
        })
        .unwrap();
    }
    for u in users {
        ok(&mut s, |s| s.delete(u));
    }
    assert_eq!(s.count::<Profile>(), 5);
    assert_eq!(s.count::<OwnedProfile>(), 0);
}

#[test]
fn o2m_01_both_directions_persist_the_child() {
    let mut s = store();
    let u = user(&mut s, "u");
    let a = ok(&mut s, |s| {
        s.insert(Post {
            title: "a".into(),
            author: Some(u),
        })
    });
    let b = s
        .insert(Post {
            title: "b".into(),
            author: None,
        })
        .unwrap();
    assert!(ok(&mut s, |s| s.add_child_if_absent(Post::AUTHOR, b, u)));
    assert_eq!(posts_of(&s, u), [a, b]);
}

#[test]
fn o2m_02_moves_update_both_collections() {
    let mut s = store();
    let (u1, u2) = (user(&mut s, "u1"), user(&mut s, "u2"));
    let p = s
        .insert(Post {
            title: "p".into(),
            author: Some(u1),
        })
        .unwrap();
    ok(&mut s, |s| s.add_child_if_absent(Post::AUTHOR, p, u2));
    assert_eq!((posts_of(&s, u1), posts_of(&s, u2)), (vec![], vec![p]));
}

#[test]
fn o2m_03_removal_follows_the_policy() {
    let mut s = store();
    let u = user(&mut s, "u");
    let owned = s
        .insert(OwnedPost {
            title: "o".into(),
            author: Some(u),
        })
        .unwrap();
    let plain = s
        .insert(Post {
            title: "p".into(),
            author: Some(u),
        })
        .unwrap();
    let req = s
        .insert(RequiredPost {
            title: "r".into(),
            author: u,
        })
        .unwrap();
    ok(&mut s, |s| s.remove_child(OwnedPost::AUTHOR, owned, u));
    assert!(!s.contains(owned));
    ok(&mut s, |s| s.remove_child(Post::AUTHOR, plain, u));
    assert_eq!(s.get(plain).unwrap().author, None);
    let err = Error::RequiredReference {
        table: "required_posts",
        column: "author_id",
        key: req.raw(),
    };
    assert_fails_unchanged(&mut s, &err, |s| s.remove_child(RequiredPost::AUTHOR, req, u));
}

#[test]
fn o2m_04_deleting_the_parent_follows_each_policy() {
    let mut s = store();
    let u = user(&mut s, "u");
    let plain: Vec<_> = (0..2)
        .map(|i| {
            s.insert(Post {
                title: format!("{i}"),
                author: Some(u),
            })
            .unwrap()
        })
        .collect();
    let owned: Vec<_> = (0..2)
        .map(|i| {
            s.insert(OwnedPost {
                title: format!("{i}"),
                author: Some(u),
            })
            .unwrap()
        })
        .collect();
    let req = s
        .insert(RequiredPost {
            title: "r".into(),
            author: u,
        })
        .unwrap();
    assert!(matches!(
        s.delete(u),
        Err(Error::Restricted { dependents: 1, .. })
    ));
    ok(&mut s, |s| s.delete(req));
    let report = ok(&mut s, |s| s.delete(u));
    assert_eq!(report.nulled.len(), 2);
    assert!(plain.iter().all(|p| s.get(*p).unwrap().author.is_none()));
    assert!(owned.iter().all(|p| !s.contains(*p)));
}

#[test]
fn o2m_05_collections_are_sets() {
    let mut s = store();
    let u = user(&mut s, "u");
    let p = s
        .insert(Post {
            title: "p".into(),
            author: None,
        })
        .unwrap();
    assert!(ok(&mut s, |s| s.add_child_if_absent(Post::AUTHOR, p, u)));
    assert!(!ok(&mut s, |s| s.add_child_if_absent(Post::AUTHOR, p, u)));
    assert_eq!(posts_of(&s, u), [p]);
    ok(&mut s, |s| s.remove_child(Post::AUTHOR, p, u));
    assert!(posts_of(&s, u).is_empty());
}

#[test]
fn o2m_06_link_order_or_always_sorted() {
    let mut s = store();
    let u = user(&mut s, "u");
    let c = s
        .insert(Post {
            title: "c".into(),
            author: Some(u),
        })
        .unwrap();
    let a = s
        .insert(Post {
            title: "a".into(),
            author: Some(u),
        })
        .unwrap();
    assert_eq!(posts_of(&s, u), [c, a]);
    let sc = s
        .insert(SortedPost {
            title: "c".into(),
            author: u,
        })
        .unwrap();
    let sa = s
        .insert(SortedPost {
            title: "a".into(),
            author: u,
        })
        .unwrap();
    let sb = s
        .insert(SortedPost {
            title: "b".into(),
            author: u,
        })
        .unwrap();
    assert_eq!(
        s.children(SortedPost::AUTHOR, u).collect::<Vec<_>>(),
        [sa, sb, sc]
    );
    ok(&mut s, |s| s.update(sa, |p| p.title = "z".into()));
    assert_eq!(
        s.children(SortedPost::AUTHOR, u).collect::<Vec<_>>(),
        [sb, sc, sa]
    );
    // A move gives the child the newest link number: a plain list appends it, a sorted one
    // still places it by title; undone, each goes back where it was.
    let v = user(&mut s, "v");
    let (vb, va) = (
        s.insert(SortedPost {
            title: "b".into(),
            author: v,
        }),
        s.insert(SortedPost {
            title: "a".into(),
            author: v,
        }),
    );
    let (vb, va) = (vb.unwrap(), va.unwrap());
    let sorted = |s: &Store, u| s.children(SortedPost::AUTHOR, u).collect::<Vec<_>>();
    let mark = s.mark().unwrap();
    ok(&mut s, |s| s.set_parent(SortedPost::AUTHOR, sc, Some(v)));
    ok(&mut s, |s| s.set_parent(Post::AUTHOR, c, Some(v)));
    assert_eq!(sorted(&s, v), [va, vb, sc]);
    ok(&mut s, |s| s.set_parent(SortedPost::AUTHOR, vb, Some(u)));
    assert_eq!(sorted(&s, u), [sb, vb, sa]);
    assert_eq!(sorted(&s, v), [va, sc]);
    ok(&mut s, |s| s.set_parent(Post::AUTHOR, c, Some(u)));
    assert_eq!(posts_of(&s, u), [a, c]);
    s.reset(&mark).unwrap();
    s.check_integrity().unwrap();
    assert_eq!(sorted(&s, u), [sb, sc, sa]);
    assert_eq!(sorted(&s, v), [va, vb]);
    assert_eq!(posts_of(&s, u), [c, a]);
}

#[test]
fn o2m_07_loading_strategies_do_not_apply() {
    // Everything is always loaded: a traversal is the same whichever way it starts.
    let mut s = store();
    let u = user(&mut s, "u");
    let p = s
        .insert(Post {
            title: "p".into(),
            author: Some(u),
        })
        .unwrap();
    assert_eq!(s.query_keys([u]).children(Post::AUTHOR).keys(), [p]);
    assert_eq!(s.query_keys([p]).parents(Post::AUTHOR).keys(), [u]);
}

#[test]
fn o2m_08_a_deleted_child_leaves_the_collection_at_once() {
    let mut s = store();
    let u = user(&mut s, "u");
    let a = s
        .insert(Post {
            title: "a".into(),
            author: Some(u),
        })
        .unwrap();
    let b = s
        .insert(Post {
            title: "b".into(),
            author: Some(u),
        })
        .unwrap();
    ok(&mut s, |s| s.delete(a));
    assert_eq!(posts_of(&s, u), [b]);
}

#[test]
fn o2m_09_only_children_that_lost_a_parent_are_orphans() {
    let mut s = store();
    let u = user(&mut s, "u");
    let never = ok(&mut s, |s| {
        s.insert(OwnedPost {
            title: "never".into(),
            author: None,
        })
    });
    let lost = s
        .insert(OwnedPost {
            title: "lost".into(),
            author: Some(u),
        })
        .unwrap();
    ok(&mut s, |s| s.set_parent(OwnedPost::AUTHOR, lost, None));
    assert!(s.contains(never));
    assert!(!s.contains(lost));
}

#[test]
fn o2m_10_a_moved_orphan_survives_a_deleted_one_is_gone() {
    let mut s = store();
    let (u1, u2) = (user(&mut s, "u1"), user(&mut s, "u2"));
    let p = s
        .insert(OwnedPost {
            title: "p".into(),
            author: Some(u1),
        })
        .unwrap();
    ok(&mut s, |s| s.add_child_if_absent(OwnedPost::AUTHOR, p, u2));
    assert!(s.contains(p));
    ok(&mut s, |s| s.remove_child(OwnedPost::AUTHOR, p, u2));
    let err = Error::Stale {
        table: "owned_posts",
        key: p.raw(),
    };
    assert_fails_unchanged(&mut s, &err, |s| s.add_child_if_absent(OwnedPost::AUTHOR, p, u1));
}

#[test]
fn o2m_10a_an_orphan_re_parented_before_commit_is_kept() {
    let mut s = store();
    let (u1, u2) = (user(&mut s, "u1"), user(&mut s, "u2"));
    let p = s
        .insert(OwnedPost {
            title: "p".into(),
            author: Some(u1),
        })
        .unwrap();
    let q = s
        .insert(OwnedPost {
            title: "q".into(),
            author: Some(u1),
        })
        .unwrap();
    s.transaction(|s| {
        s.remove_child(OwnedPost::AUTHOR, p, u1)?;
        s.add_child_if_absent(OwnedPost::AUTHOR, p, u2)?;
        s.remove_child(OwnedPost::AUTHOR, q, u1)?;
        assert!(s.contains(q), "an orphan lives until the commit point");
        Ok::<_, Error>(())
    })
    .unwrap();
    assert!(s.contains(p), "re-parented before commit: kept");
    assert!(!s.contains(q), "still an orphan at commit: deleted");
    s.check_integrity().unwrap();
}

#[test]
fn o2m_11_replacing_the_collection() {
    let mut s = store();
    let u = user(&mut s, "u");
    let [a, b] = ["a", "b"].map(|t| {
        s.insert(Post {
            title: t.into(),
            author: Some(u),
        })
        .unwrap()
    });
    let c = s
        .insert(Post {
            title: "c".into(),
            author: None,
        })
        .unwrap();
    ok(&mut s, |s| s.replace_children(Post::AUTHOR, &[b, c], u));
    assert_eq!(s.get(a).unwrap().author, None);
    assert_eq!(posts_of(&s, u), [b, c]);
    let [oa, ob] = ["a", "b"].map(|t| {
        s.insert(OwnedPost {
            title: t.into(),
            author: Some(u),
        })
        .unwrap()
    });
    ok(&mut s, |s| s.replace_children(OwnedPost::AUTHOR, &[ob], u));
    assert!(!s.contains(oa));
}

#[test]
fn o2m_12_missing_parent_and_missing_required_parent() {
    let mut s = store();
    let ghost = Key::<User>::from_u64(0x0000_0001_0000_03e7);
    let err = Error::MissingTarget {
        table: "posts",
        column: "author_id",
        target: "users",
        key: ghost.raw(),
    };
    assert_fails_unchanged(&mut s, &err, |s| {
        s.insert(Post {
            title: "p".into(),
            author: Some(ghost),
        })
    });
    let u = user(&mut s, "u");
    let r = s
        .insert(RequiredPost {
            title: "r".into(),
            author: u,
        })
        .unwrap();
    let err = Error::RequiredReference {
        table: "required_posts",
        column: "author_id",
        key: r.raw(),
    };
    assert_fails_unchanged(&mut s, &err, |s| s.set_parent(RequiredPost::AUTHOR, r, None));
}

#[test]
fn o2m_13_single_parent_is_a_one_to_one_slot() {
    let mut s = store();
    let u = user(&mut s, "u");
    let p = s
        .insert(RequiredProfile {
            bio: "p".into(),
            user: u,
        })
        .unwrap();
    let err = Error::UniqueViolation {
        table: "required_profiles",
        columns: &["user_id"],
        constraint: "uq_required_profiles_user_id",
        value: format!("users[{}]", u.raw()).into(),
        existing: p.raw(),
    };
    assert_fails_unchanged(&mut s, &err, |s| {
        s.insert(RequiredProfile {
            bio: "q".into(),
            user: u,
        })
    });
    // A one-to-one operation on a one-to-many key is refused, not guessed at.
    let q = s
        .insert(Post {
            title: "q".into(),
            author: None,
        })
        .unwrap();
    let err = Error::NotOneToOne {
        table: "posts",
        column: "author_id",
    };
    assert_fails_unchanged(&mut s, &err, |s| s.set_child(Post::AUTHOR, Some(q), u));
}

#[test]
fn o2m_14_removal_through_the_child_side_follows_the_policy() {
    let mut s = store();
    let u = user(&mut s, "u");
    let o = s
        .insert(OwnedPost {
            title: "o".into(),
            author: Some(u),
        })
        .unwrap();
    let p = s
        .insert(Post {
            title: "p".into(),
            author: Some(u),
        })
        .unwrap();
    ok(&mut s, |s| s.set_parent(OwnedPost::AUTHOR, o, None));
    ok(&mut s, |s| s.set_parent(Post::AUTHOR, p, None));
    assert!(!s.contains(o));
    assert_eq!(s.get(p).unwrap().author, None);
}

#[test]
fn o2m_15_writing_the_key_is_writing_the_relationship() {
    let mut s = store();
    let (u1, u2) = (user(&mut s, "u1"), user(&mut s, "u2"));
    let p = s
        .insert(Post {
            title: "p".into(),
            author: Some(u1),
        })
        .unwrap();
    ok(&mut s, |s| s.update(p, |p| p.author = Some(u2)));
    assert_eq!((posts_of(&s, u1), posts_of(&s, u2)), (vec![], vec![p]));
}

#[test]
fn o2m_16_linking_to_a_deleted_parent_fails_at_once() {
    let mut s = store();
    let (u, keep) = (user(&mut s, "u"), user(&mut s, "keep"));
    let moved = s
        .insert(OwnedPost {
            title: "moved".into(),
            author: Some(u),
        })
        .unwrap();
    let gone = s
        .insert(OwnedPost {
            title: "gone".into(),
            author: Some(u),
        })
        .unwrap();
    ok(&mut s, |s| s.add_child_if_absent(OwnedPost::AUTHOR, moved, keep));
    ok(&mut s, |s| s.delete(u));
    assert!(s.contains(moved) && !s.contains(gone));
    let err = Error::DeletedTarget {
        table: "posts",
        column: "author_id",
        target: "users",
        key: u.raw(),
    };
    assert_fails_unchanged(&mut s, &err, |s| {
        s.insert(Post {
            title: "late".into(),
            author: Some(u),
        })
    });
}

#[test]
fn o2m_17_children_are_updated_in_memory_at_once() {
    let mut s = store();
    let u = user(&mut s, "u");
    let p = s
        .insert(Post {
            title: "p".into(),
            author: Some(u),
        })
        .unwrap();
    let o = s
        .insert(OwnedPost {
            title: "o".into(),
            author: Some(u),
        })
        .unwrap();
    ok(&mut s, |s| s.delete(u));
    assert_eq!(s.get(p).unwrap().author, None);
    assert!(s.get(o).is_none());
}

#[test]
fn m2m_01_both_views_at_once() {
    let mut s = store();
    let (u, g) = (user(&mut s, "u"), group(&mut s, "g"));
    ok(&mut s, |s| s.link(USER_GROUP_LINKS, u, g));
    assert_eq!(s.rights(USER_GROUP_LINKS, u).collect::<Vec<_>>(), [g]);
    assert_eq!(s.lefts(USER_GROUP_LINKS, g).collect::<Vec<_>>(), [u]);
}

#[test]
fn m2m_02_a_duplicate_link_is_the_primary_key_violation() {
    let mut s = store();
    let (u, g) = (user(&mut s, "u"), group(&mut s, "g"));
    s.link(USER_GROUP_LINKS, u, g).unwrap();
    let err = Error::DuplicateLink {
        relation: "user_group_links",
        left_column: "user_id",
        right_column: "group_id",
        left_table: "users",
        right_table: "groups",
        left: u.raw(),
        right: g.raw(),
    };
    assert_fails_unchanged(&mut s, &err, |s| s.link(USER_GROUP_LINKS, u, g));
    assert!(err
        .to_string()
        .starts_with("UNIQUE constraint failed: user_group_links.user_id, user_group_links.group_id"));
    // It names the constraint as PostgreSQL does: the association table's primary key.
    assert!(
        err.to_string().contains("(constraint user_group_links_pkey: "),
        "{err}"
    );
    assert!(!ok(&mut s, |s| s.link_if_absent(USER_GROUP_LINKS, u, g)));
    assert_eq!(s.link_count(USER_GROUP_LINKS), 1);
}

#[test]
fn m2m_03_unlink_keeps_both_ends_and_a_non_member_is_not_linked() {
    let mut s = store();
    let (u, g, h) = (user(&mut s, "u"), group(&mut s, "g"), group(&mut s, "h"));
    s.link(USER_GROUP_LINKS, u, g).unwrap();
    ok(&mut s, |s| s.unlink(USER_GROUP_LINKS, u, g));
    assert!(s.contains(u) && s.contains(g));
    let err = Error::NotLinked {
        relation: "user_group_links",
        left_table: "users",
        right_table: "groups",
        left: u.raw(),
        right: h.raw(),
    };
    assert_fails_unchanged(&mut s, &err, |s| s.unlink(USER_GROUP_LINKS, u, h));
}

#[test]
fn m2m_03b_a_failed_unlink_poisons_nothing() {
    let mut s = store();
    let (u, g) = (user(&mut s, "u"), group(&mut s, "g"));
    assert!(s.unlink(USER_GROUP_LINKS, u, g).is_err());
    ok(&mut s, |s| s.link(USER_GROUP_LINKS, u, g));
    ok(&mut s, |s| s.insert(User { name: "next".into() }));
}

#[test]
fn m2m_04_links_go_with_either_end() {
    let mut s = store();
    let (u, v, g) = (user(&mut s, "u"), user(&mut s, "v"), group(&mut s, "g"));
    s.link(USER_GROUP_LINKS, u, g).unwrap();
    s.link(USER_GROUP_LINKS, v, g).unwrap();
    let report = ok(&mut s, |s| s.delete(u));
    assert_eq!(report.unlinked.len(), 1);
    assert_eq!(s.lefts(USER_GROUP_LINKS, g).collect::<Vec<_>>(), [v]);
    ok(&mut s, |s| s.delete(g));
    assert!(s.contains(v));
    assert_eq!(s.link_count(USER_GROUP_LINKS), 0);
}

#[test]
fn m2m_05_tutorial_queries() {
    let mut s = store();
    let (alice, bob, carol) = (user(&mut s, "alice"), user(&mut s, "bob"), user(&mut s, "carol"));
    let (admin, staff, empty) = (
        group(&mut s, "admin"),
        group(&mut s, "staff"),
        group(&mut s, "empty"),
    );
    for (u, g) in [(alice, staff), (alice, admin), (bob, admin)] {
        s.link(USER_GROUP_LINKS, u, g).unwrap();
    }
    assert_eq!(
        s.rights(USER_GROUP_LINKS, alice).collect::<Vec<_>>(),
        [staff, admin]
    );
    assert_eq!(s.lefts(USER_GROUP_LINKS, admin).collect::<Vec<_>>(), [alice, bob]);
    assert_eq!(s.query::<User>().without_rights(USER_GROUP_LINKS).keys(), [carol]);
    let counts = s.query::<Group>().count_lefts(USER_GROUP_LINKS);
    assert_eq!(counts, [(admin, 2), (staff, 1), (empty, 0)]);
}

#[test]
fn m2m_06_a_deleted_group_leaves_the_users_collections_at_once() {
    let mut s = store();
    let (u, g, h) = (user(&mut s, "u"), group(&mut s, "g"), group(&mut s, "h"));
    s.link(USER_GROUP_LINKS, u, g).unwrap();
    s.link(USER_GROUP_LINKS, u, h).unwrap();
    ok(&mut s, |s| s.delete(g));
    assert_eq!(s.rights(USER_GROUP_LINKS, u).collect::<Vec<_>>(), [h]);
}

#[test]
fn m2m_07_deleting_an_end_never_deletes_the_other_end() {
    // relata has no delete-cascade across a many-to-many: shared groups always survive.
    let mut s = store();
    let (alice, bob, g) = (user(&mut s, "alice"), user(&mut s, "bob"), group(&mut s, "g"));
    s.link(USER_GROUP_LINKS, alice, g).unwrap();
    s.link(USER_GROUP_LINKS, bob, g).unwrap();
    ok(&mut s, |s| s.delete(alice));
    assert!(s.contains(g) && s.contains(bob));
}

#[test]
fn m2m_08_links_to_missing_records_are_unreachable() {
    let mut s = store();
    let (u, g) = (user(&mut s, "u"), group(&mut s, "g"));
    s.delete(g).unwrap();
    let err = Error::DeletedTarget {
        table: "user_group_links",
        column: "group_id",
        target: "groups",
        key: g.raw(),
    };
    assert_fails_unchanged(&mut s, &err, |s| s.link(USER_GROUP_LINKS, u, g));
    let ghost = Key::<User>::from_u64(0x0000_0001_0000_00ff);
    let err = Error::MissingTarget {
        table: "user_group_links",
        column: "user_id",
        target: "users",
        key: ghost.raw(),
    };
    assert_fails_unchanged(&mut s, &err, |s| s.link_if_absent(USER_GROUP_LINKS, ghost, g));
}

#[test]
fn assoc_01_created_and_visible_from_both_ends_with_its_data() {
    let mut s = store();
    let (u, g) = (user(&mut s, "u"), group(&mut s, "g"));
    let ug = ok(&mut s, |s| {
        s.insert(UserGroup {
            user: u,
            group: g,
            joined_on: 20240101,
        })
    });
    assert_eq!(s.children(UserGroup::USER, u).collect::<Vec<_>>(), [ug]);
    assert_eq!(s.children(UserGroup::GROUP, g).collect::<Vec<_>>(), [ug]);
    assert_eq!(s.get(ug).unwrap().joined_on, 20240101);
}

#[test]
fn assoc_02_a_duplicate_pair_fails_at_once() {
    let mut s = store();
    let (u, g) = (user(&mut s, "u"), group(&mut s, "g"));
    let ug = s
        .insert(UserGroup {
            user: u,
            group: g,
            joined_on: 1,
        })
        .unwrap();
    let err = Error::UniqueViolation {
        table: "user_groups",
        columns: &["user_id", "group_id"],
        constraint: "uq_user_groups_user_id_group_id",
        value: format!("(users[{}], groups[{}])", u.raw(), g.raw()).into(),
        existing: ug.raw(),
    };
    assert_fails_unchanged(&mut s, &err, |s| {
        s.insert(UserGroup {
            user: u,
            group: g,
            joined_on: 2,
        })
    });
}

#[test]
fn assoc_03_an_end_cannot_be_deleted_under_a_default_association_cascade_removes_it() {
    let mut s = store();
    let (u, g) = (user(&mut s, "u"), group(&mut s, "g"));
    let plain = s
        .insert(PlainMembership {
            user: u,
            group: g,
            joined_on: 1,
        })
        .unwrap();
    let err = Error::Restricted {
        table: "users",
        key: u.raw(),
        child_table: "plain_memberships",
        column: "user_id",
        relationship: "plain_memberships",
        dependents: 1,
        action: relata::OnDelete::NoAction,
    };
    assert_fails_unchanged(&mut s, &err, |s| s.delete(u));
    ok(&mut s, |s| s.delete(plain));
    let ug = s
        .insert(UserGroup {
            user: u,
            group: g,
            joined_on: 1,
        })
        .unwrap();
    ok(&mut s, |s| s.delete(u));
    assert!(!s.contains(ug));
    assert_eq!(s.children(UserGroup::GROUP, g).count(), 0);
}

#[test]
fn assoc_04_the_many_to_many_view_over_an_association_is_derived() {
    let mut s = store();
    let (u, g, h) = (user(&mut s, "u"), group(&mut s, "g"), group(&mut s, "h"));
    s.insert(UserGroup {
        user: u,
        group: h,
        joined_on: 1,
    })
    .unwrap();
    s.insert(UserGroup {
        user: u,
        group: g,
        joined_on: 2,
    })
    .unwrap();
    // `through` returns keys, not a collection to mutate: the view is read-only by type.
    assert_eq!(
        s.through(UserGroup::USER, UserGroup::GROUP, u)
            .collect::<Vec<_>>(),
        [h, g]
    );
    assert_eq!(
        s.through(UserGroup::GROUP, UserGroup::USER, g)
            .collect::<Vec<_>>(),
        [u]
    );
}

#[test]
fn assoc_05_re_keying_moves_between_views_with_the_duplicate_check() {
    let mut s = store();
    let (u, g, h) = (user(&mut s, "u"), group(&mut s, "g"), group(&mut s, "h"));
    let ug = s
        .insert(UserGroup {
            user: u,
            group: g,
            joined_on: 1,
        })
        .unwrap();
    ok(&mut s, |s| s.update(ug, |m| m.group = h));
    assert_eq!(s.children(UserGroup::GROUP, g).count(), 0);
    assert_eq!(s.children(UserGroup::GROUP, h).collect::<Vec<_>>(), [ug]);
    let other = s
        .insert(UserGroup {
            user: u,
            group: g,
            joined_on: 2,
        })
        .unwrap();
    assert!(matches!(
        s.update(other, |m| m.group = h),
        Err(Error::UniqueViolation { existing, .. }) if existing == ug.raw()
    ));
    let ghost = Key::<Group>::from_u64(0x0000_0001_0000_00ff);
    assert!(matches!(
        s.update(other, |m| m.group = ghost),
        Err(Error::MissingTarget { .. })
    ));
    s.check_integrity().unwrap();
}

#[test]
fn tree_01_self_loops_and_cycles_are_refused() {
    let mut s = store();
    let root = s
        .insert(Node {
            name: "root".into(),
            parent: None,
        })
        .unwrap();
    let c1 = s
        .insert(Node {
            name: "c1".into(),
            parent: Some(root),
        })
        .unwrap();
    let c2 = s
        .insert(Node {
            name: "c2".into(),
            parent: Some(c1),
        })
        .unwrap();
    for (key, parent) in [(root, root), (root, c2), (c1, c2)] {
        let err = Error::Cycle {
            table: "nodes",
            column: "parent_id",
            key: key.raw(),
            parent: parent.raw(),
        };
        assert_fails_unchanged(&mut s, &err, |s| s.set_parent(Node::PARENT, key, Some(parent)));
    }
}

#[test]
fn tree_02_cascade_the_subtree_or_make_children_roots() {
    let mut s = store();
    let root = s
        .insert(Node {
            name: "root".into(),
            parent: None,
        })
        .unwrap();
    let a = s
        .insert(Node {
            name: "a".into(),
            parent: Some(root),
        })
        .unwrap();
    let a1 = s
        .insert(Node {
            name: "a1".into(),
            parent: Some(a),
        })
        .unwrap();
    let b = s
        .insert(Node {
            name: "b".into(),
            parent: Some(root),
        })
        .unwrap();
    assert_eq!(s.descendants(Node::PARENT, root).collect::<Vec<_>>(), [a, a1, b]);
    assert_eq!(s.ancestors(Node::PARENT, a1).collect::<Vec<_>>(), [a, root]);
    let report = ok(&mut s, |s| s.delete(root));
    assert_eq!(report.deleted.len(), 4);

    let r = s
        .insert(LooseNode {
            name: "r".into(),
            parent: None,
        })
        .unwrap();
    let x = s
        .insert(LooseNode {
            name: "x".into(),
            parent: Some(r),
        })
        .unwrap();
    let x1 = s
        .insert(LooseNode {
            name: "x1".into(),
            parent: Some(x),
        })
        .unwrap();
    ok(&mut s, |s| s.delete(r));
    assert_eq!(s.get(x).unwrap().parent, None);
    assert_eq!(s.get(x1).unwrap().parent, Some(x));
}

#[test]
fn sess_03_one_record_per_key_and_not_found() {
    let mut s = store();
    let u = user(&mut s, "u");
    assert_eq!(s.get(u), s.get(u));
    let never = Key::<User>::from_u64(0x0000_0001_0000_0fff);
    assert_eq!(
        s.try_get(never).unwrap_err(),
        Error::NotFound {
            table: "users",
            key: never.raw()
        }
    );
}

#[test]
fn sess_04_reads_never_check_or_change_anything() {
    let mut s = store();
    let u = user(&mut s, "u");
    s.insert(Post {
        title: "p".into(),
        author: Some(u),
    })
    .unwrap();
    let before = s.clone();
    let _ = (
        s.count::<Post>(),
        s.query::<User>().children(Post::AUTHOR).count(),
        s.explain_delete(u),
    );
    assert!(s == before);
}

#[test]
fn sess_06_keys_are_assigned_at_creation_and_never_reused() {
    let mut s = store();
    let mut seen = Vec::new();
    for i in 0..20 {
        let k = user(&mut s, &format!("u{i}"));
        assert!(!seen.contains(&k));
        seen.push(k);
        if i % 2 == 0 {
            s.delete(k).unwrap();
        }
    }
}

#[test]
fn uniq_02_composite_unique_with_nulls() {
    let mut s = store();
    let u = user(&mut s, "u");
    for _ in 0..2 {
        ok(&mut s, |s| {
            s.insert(TitledPost {
                title: "orphan".into(),
                author: None,
            })
        });
    }
    let first = s
        .insert(TitledPost {
            title: "t".into(),
            author: Some(u),
        })
        .unwrap();
    let err = Error::UniqueViolation {
        table: "titled_posts",
        columns: &["author_id", "title"],
        constraint: "uq_post_user_title",
        value: format!("(users[{}], 't')", u.raw()).into(),
        existing: first.raw(),
    };
    assert_fails_unchanged(&mut s, &err, |s| {
        s.insert(TitledPost {
            title: "t".into(),
            author: Some(u),
        })
    });
}

#[test]
fn m3_writing_the_key_to_null_is_an_unlink_for_delete_orphan() {
    // docs/SEMANTICS.md A.3 and A.7: a raw key write is the relationship write, so it orphans too.
    let mut s = store();
    let u = user(&mut s, "u");
    let loose = s
        .insert(OwnedPost {
            title: "loose".into(),
            author: None,
        })
        .unwrap();
    let p = s
        .insert(OwnedPost {
            title: "p".into(),
            author: Some(u),
        })
        .unwrap();
    ok(&mut s, |s| s.update(p, |p| p.author = None));
    assert!(
        !s.contains(p),
        "the unlinked orphan is deleted at the commit point"
    );
    assert!(s.contains(loose), "a child never attached is not an orphan");
}
