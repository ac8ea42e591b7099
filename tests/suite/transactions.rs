//! Transactions, savepoints, deferrable constraints, fixture marks and forks.

use crate::common::*;
use relata::{Error, Key, Schema, Store};

/// A populated store with every kind of relationship.
fn fixture() -> (Store, Key<User>, Key<User>, Key<Group>) {
    let mut s = store();
    let alice = s.insert(user("alice")).unwrap();
    let bob = s.insert(user("bob")).unwrap();
    s.insert(Profile {
        bio: "a".into(),
        user: alice,
    })
    .unwrap();
    for t in ["one", "two", "three"] {
        s.insert(post(alice, t)).unwrap();
    }
    let admin = s.insert(Group { name: "admin".into() }).unwrap();
    s.insert(UserGroup {
        user: alice,
        group: admin,
        joined_on: 1,
    })
    .unwrap();
    s.insert(UserGroup {
        user: bob,
        group: admin,
        joined_on: 2,
    })
    .unwrap();
    s.insert(Address {
        email_address: "a@x".into(),
        user: Some(alice),
    })
    .unwrap();
    (s, alice, bob, admin)
}

/// Runs `f` in a transaction, rolls back, and asserts the store equals the state before.
#[track_caller]
fn rolls_back_exactly(f: impl FnOnce(&mut Store)) {
    let (mut s, ..) = fixture();
    let before = s.fork();
    s.begin().unwrap();
    f(&mut s);
    s.check_integrity().unwrap();
    s.rollback().unwrap();
    assert!(s == before, "rollback did not restore the state");
    s.check_integrity().unwrap();
}

#[test]
fn rollback_undoes_each_kind_of_operation() {
    rolls_back_exactly(|s| {
        let k = s.insert(user("carol")).unwrap();
        s.insert(post(k, "new")).unwrap();
    });
    rolls_back_exactly(|s| {
        let alice = s.find_unique(User::BY_USERNAME, "alice").unwrap();
        let bob = s.find_unique(User::BY_USERNAME, "bob").unwrap();
        let first = s.children(Post::AUTHOR, alice).next().unwrap();
        s.update(first, |p| p.author = bob).unwrap(); // a move, from the front of the list
        s.update(bob, |u| u.email = "changed@example.com".into()).unwrap();
    });
    rolls_back_exactly(|s| {
        let alice = s.find_unique(User::BY_USERNAME, "alice").unwrap();
        s.delete(alice).unwrap(); // cascade: profile, posts, memberships; set null: address
    });
    rolls_back_exactly(|s| {
        let bob = s.find_unique(User::BY_USERNAME, "bob").unwrap();
        let ex = s
            .insert(Address {
                email_address: "b@x".into(),
                user: None,
            })
            .unwrap();
        s.set_parent(Address::USER, ex, Some(bob)).unwrap();
        let alice = s.find_unique(User::BY_USERNAME, "alice").unwrap();
        s.set_child(Address::USER, Some(ex), alice).unwrap(); // displaces alice's address
        s.replace(bob, user("robert")).unwrap();
    });
}

#[test]
fn keys_made_in_a_rolled_back_transaction_are_stale() {
    let (mut s, ..) = fixture();
    s.begin().unwrap();
    let k = s.insert(user("carol")).unwrap();
    s.rollback().unwrap();
    assert_eq!(
        s.try_get(k).unwrap_err(),
        Error::Stale {
            table: "users",
            key: k.raw()
        }
    );
    let again = s.insert(user("carol")).unwrap();
    assert_ne!(again, k);
}

#[test]
fn a_failed_operation_leaves_the_transaction_usable() {
    let (mut s, alice, ..) = fixture();
    s.begin().unwrap();
    s.insert(user("carol")).unwrap();
    let before = s.fork();
    assert!(matches!(
        s.insert(user("alice")),
        Err(Error::UniqueViolation { .. })
    ));
    assert!(s.delete(alice).is_ok());
    assert!(s != before);
    s.commit().unwrap();
    assert_eq!(s.count::<User>(), 2);
    s.check_integrity().unwrap();
}

#[test]
fn nested_savepoints() {
    let (mut s, ..) = fixture();
    s.begin().unwrap();
    s.insert(user("outer")).unwrap();
    let sp1 = s.savepoint().unwrap();
    s.insert(user("inner1")).unwrap();
    let after_inner1 = s.fork();
    let sp2 = s.savepoint().unwrap();
    s.insert(user("inner2")).unwrap();
    s.rollback_to(&sp2).unwrap();
    assert!(s == after_inner1);
    s.insert(user("inner2b")).unwrap();
    s.release(&sp2).unwrap();
    s.rollback_to(&sp1).unwrap();
    assert_eq!(s.find_unique(User::BY_USERNAME, "inner2b"), None);
    s.release(&sp1).unwrap();
    s.commit().unwrap();
    assert!(s.find_unique(User::BY_USERNAME, "outer").is_some());
    assert_eq!(s.count::<User>(), 3);
    s.check_integrity().unwrap();
}

#[test]
fn closure_transactions_commit_on_ok_and_roll_back_on_err() {
    let (mut s, ..) = fixture();
    let before = s.fork();
    let out: Result<(), Error> = s.transaction(|s| {
        s.insert(user("carol"))?;
        s.insert(user("alice"))?; // fails: the whole closure rolls back
        Ok(())
    });
    assert!(matches!(out, Err(Error::UniqueViolation { .. })));
    assert!(s == before);
    let k = s
        .transaction(|s| {
            let k = s.insert(user("carol"))?;
            // A nested transaction is a savepoint: its failure leaves the outer one intact.
            let inner: Result<(), Error> = s.transaction(|s| {
                s.insert(user("dave"))?;
                Err(Error::NoTransaction)
            });
            assert!(inner.is_err());
            Ok::<_, Error>(k)
        })
        .unwrap();
    assert!(s.contains(k));
    assert_eq!(s.find_unique(User::BY_USERNAME, "dave"), None);
    assert!(!s.in_transaction());
}

/// A service's own error type through `transaction`: its rule broken inside the closure rolls
/// back and comes out as itself, relata's errors (the closure's and the commit's) come out
/// converted, nested calls too. (The closure could return only `relata::Error`.)
#[test]
fn a_transaction_closure_returns_the_services_own_error() {
    #[derive(Debug, PartialEq)]
    enum ServiceError {
        Banned(&'static str),
        Store(Error),
    }
    impl From<Error> for ServiceError {
        fn from(e: Error) -> Self {
            ServiceError::Store(e)
        }
    }
    let (mut s, ..) = fixture();
    let before = s.fork();
    let out = s.transaction(|s| {
        s.insert(user("mallory"))?;
        Err::<(), _>(ServiceError::Banned("mallory"))
    });
    assert_eq!(out, Err(ServiceError::Banned("mallory")));
    assert!(s == before);
    let out: Result<(), ServiceError> = s.transaction(|s| {
        s.insert(user("alice"))?; // taken
        Ok(())
    });
    assert!(matches!(
        out,
        Err(ServiceError::Store(Error::UniqueViolation { .. }))
    ));
    assert!(s == before);
    // Nested: the inner call's service error rolls back its savepoint only.
    let k = s
        .transaction(|s| {
            let k = s.insert(user("carol"))?;
            let inner = s.transaction(|s| {
                s.insert(user("dave"))?;
                Err::<(), _>(ServiceError::Banned("dave"))
            });
            assert_eq!(inner, Err(ServiceError::Banned("dave")));
            Ok::<_, ServiceError>(k)
        })
        .unwrap();
    assert!(s.contains(k));
    assert_eq!(s.find_unique(User::BY_USERNAME, "dave"), None);
    // The commit's own failure, converted.
    let mut pg = postgres_store();
    pg.insert(Handle { name: "a".into() }).unwrap();
    let pg_before = pg.fork();
    let out = pg.transaction(|s| {
        s.insert(Handle { name: "a".into() })?; // deferrable: refused at commit
        Ok::<_, ServiceError>(())
    });
    assert!(
        matches!(out, Err(ServiceError::Store(Error::CommitFailed { .. }))),
        "{out:?}"
    );
    assert!(pg == pg_before && !pg.in_transaction());
    s.check_integrity().unwrap();
}

#[test]
fn deferred_unique_swap_succeeds_in_a_transaction() {
    // Deferrable uniques are PostgreSQL's (SQLite checks UNIQUE per statement).
    let mut s = postgres_store();
    let a = s.insert(Handle { name: "a".into() }).unwrap();
    let b = s.insert(Handle { name: "b".into() }).unwrap();
    s.transaction(|s| {
        s.update(a, |h| h.name = "b".into())?;
        s.update(b, |h| h.name = "a".into())?;
        Ok::<_, Error>(())
    })
    .unwrap();
    assert_eq!(s.find_unique(Handle::BY_NAME, "a"), Some(b));
    assert_eq!(s.find_unique(Handle::BY_NAME, "b"), Some(a));
    s.check_integrity().unwrap();
}

#[test]
fn deferred_violations_fail_the_commit_with_every_violation_listed() {
    // Deferrable uniques are PostgreSQL's (SQLite checks UNIQUE per statement).
    let mut s = postgres_store();
    let a = s.insert(Handle { name: "a".into() }).unwrap();
    let b = s.insert(Handle { name: "b".into() }).unwrap();
    let folder = s.insert(Folder { name: "f".into() }).unwrap();
    s.insert(File {
        name: "x".into(),
        folder,
    })
    .unwrap();
    let before = s.fork();
    s.begin().unwrap();
    s.update(a, |h| h.name = "b".into()).unwrap();
    s.insert(Handle { name: "c".into() }).unwrap();
    s.insert(Handle { name: "c".into() }).unwrap();
    s.delete(folder).unwrap(); // deferrable restriction: allowed until commit
    let Err(Error::CommitFailed { violations }) = s.commit() else {
        panic!("commit should fail")
    };
    assert_eq!(violations.len(), 3, "{violations:?}");
    assert!(violations
        .iter()
        .any(|v| matches!(v, Error::UniqueViolation { value, .. } if value == "'b'")));
    assert!(violations
        .iter()
        .any(|v| matches!(v, Error::UniqueViolation { value, .. } if value == "'c'")));
    assert!(violations.iter().any(|v| matches!(
        v,
        Error::Restricted {
            table: "folders",
            dependents: 1,
            ..
        }
    )));
    assert!(s == before);
    assert!(!s.in_transaction());
    s.check_integrity().unwrap();
    let _ = b;
}

#[test]
fn deferred_restriction_allows_moving_children_out_before_commit() {
    let mut s = store();
    let old = s.insert(Folder { name: "old".into() }).unwrap();
    let new = s.insert(Folder { name: "new".into() }).unwrap();
    let f = s
        .insert(File {
            name: "x".into(),
            folder: old,
        })
        .unwrap();
    s.begin().unwrap();
    s.delete(old).unwrap();
    s.update(f, |f| f.folder = new).unwrap();
    s.commit().unwrap();
    assert_eq!(s.parent(File::FOLDER, f), Some(new));
    s.check_integrity().unwrap();
    // Outside a transaction the statement is the commit point: the delete is refused at once.
    let err = Error::Restricted {
        table: "folders",
        key: new.raw(),
        child_table: "files",
        column: "folder_id",
        relationship: "files",
        dependents: 1,
        action: relata::OnDelete::NoAction,
    };
    assert_fails_unchanged(&mut s, &err, |s| s.delete(new));
}

#[test]
fn deferred_unique_outside_a_transaction_is_checked_per_statement() {
    let mut s = store();
    let a = s.insert(Handle { name: "a".into() }).unwrap();
    let err = Error::UniqueViolation {
        table: "handles",
        columns: &["name"],
        constraint: "uq_handles_name",
        value: "'a'".into(),
        existing: a.raw(),
    };
    assert_fails_unchanged(&mut s, &err, |s| s.insert(Handle { name: "a".into() }));
}

#[test]
fn deferred_one_to_one_create_the_new_child_before_deleting_the_old() {
    // Deferrable uniques are PostgreSQL's (SQLite checks UNIQUE per statement).
    let mut s = postgres_store();
    let u = s.insert(user("u")).unwrap();
    let old = s
        .insert(Badge {
            label: "old".into(),
            user: u,
        })
        .unwrap();
    s.transaction(|s| {
        s.insert(Badge {
            label: "new".into(),
            user: u,
        })?;
        s.delete(old)?;
        Ok::<_, Error>(())
    })
    .unwrap();
    assert_eq!(s.get(s.child(Badge::USER, u).unwrap()).unwrap().label, "new");
    s.check_integrity().unwrap();
}

/// While a deferred one-to-one key holds two children of one parent (before its commit),
/// deleting the parent cascades to both, as PostgreSQL's ON DELETE CASCADE deletes every
/// referencing row: none is left pointing at the deleted parent.
#[test]
fn deleting_the_parent_of_two_deferred_one_to_one_children_cascades_to_both() {
    let mut s = postgres_store();
    let u = s.insert(user("u")).unwrap();
    let old = s
        .insert(Badge {
            label: "old".into(),
            user: u,
        })
        .unwrap();
    let report = s
        .transaction(|s| {
            let new = s.insert(Badge {
                label: "new".into(),
                user: u,
            })?;
            assert_eq!(s.child_count(Badge::USER, u), 2);
            let report = s.delete(u)?;
            assert!(!s.contains(old) && !s.contains(new));
            Ok::<_, Error>(report)
        })
        .unwrap();
    assert_eq!(report.deleted.len(), 3, "{report:?}");
    assert_eq!(s.count::<Badge>(), 0);
    s.check_integrity().unwrap();
}

/// A deferrable one-to-one slot with delete-orphan: the card a user loses is deleted.
#[derive(relata::Entity, Clone, Debug, PartialEq)]
#[relata(table = "cards")]
struct Card {
    #[relata(unique(deferrable), back = "card", on_delete = "cascade", orphan)]
    user: Key<User>,
}

/// While a deferred one-to-one key holds two children of one parent, `set_child` to either
/// keeps that one and lets the other go (here deleted, as an orphan): the one asked for is
/// never the one let go.
#[test]
fn set_child_among_two_deferred_one_to_one_children_keeps_the_one_asked_for() {
    let schema = Schema::builder()
        .entity::<User>()
        .entity::<Card>()
        .build()
        .unwrap();
    for keep_new in [true, false] {
        let mut s = Store::with_engine(schema.clone(), relata::Engine::Postgres);
        let u = s.insert(user("u")).unwrap();
        let old = s.insert(Card { user: u }).unwrap();
        s.transaction(|s| {
            let new = s.insert(Card { user: u })?;
            let (kept, gone) = if keep_new { (new, old) } else { (old, new) };
            s.set_child(Card::USER, Some(kept), u)?;
            assert!(s.contains(kept) && !s.contains(gone));
            assert_eq!(s.child(Card::USER, u), Some(kept));
            Ok::<_, Error>(())
        })
        .unwrap();
        assert_eq!(s.count::<Card>(), 1);
        s.check_integrity().unwrap();
    }
}

#[test]
fn sess_01_a_failed_commit_restores_the_pre_transaction_state() {
    // Deferrable uniques are PostgreSQL's (SQLite checks UNIQUE per statement).
    let mut s = postgres_store();
    s.insert(Handle { name: "taken".into() }).unwrap();
    let before = s.fork();
    s.begin().unwrap();
    s.insert(user("carol")).unwrap();
    s.insert(Handle { name: "taken".into() }).unwrap();
    assert!(matches!(s.commit(), Err(Error::CommitFailed { .. })));
    assert!(s == before);
}

#[test]
fn sess_02_savepoint_rollback_keeps_the_outer_work() {
    let mut s = store();
    s.begin().unwrap();
    let outer = s.insert(user("outer")).unwrap();
    let sp = s.savepoint().unwrap();
    s.update(outer, |u| u.email = "modified".into()).unwrap();
    s.insert(user("inner")).unwrap();
    s.rollback_to(&sp).unwrap();
    s.release(&sp).unwrap();
    s.commit().unwrap();
    assert_eq!(s.get(outer).unwrap().email, "outer@example.com");
    assert_eq!(s.count::<User>(), 1);
}

#[test]
fn uniq_01_swap_and_delete_then_reinsert_in_one_transaction() {
    let mut s = store();
    let a = s.insert(Handle { name: "alice".into() }).unwrap();
    s.transaction(|s| {
        s.delete(a)?;
        s.insert(Handle { name: "alice".into() })?;
        Ok::<_, Error>(())
    })
    .unwrap();
    // Exact comparison: neither case nor trailing space collide.
    s.insert(Handle { name: "Alice".into() }).unwrap();
    s.insert(Handle {
        name: "alice ".into(),
    })
    .unwrap();
    assert_eq!(s.count::<Handle>(), 3);
}

#[test]
fn fixture_reset_returns_to_the_mark_in_proportion_to_the_changes() {
    let (mut s, alice, bob, admin) = fixture();
    let at_mark = s.fork();
    let mark = s.mark().unwrap();
    for round in 0..3 {
        let k = s.insert(user(&format!("temp{round}"))).unwrap();
        s.delete(alice).unwrap();
        s.update(bob, |u| u.username = format!("bob{round}")).unwrap();
        s.insert(UserGroup {
            user: k,
            group: admin,
            joined_on: 9,
        })
        .unwrap();
        let undone = s.reset(&mark).unwrap();
        assert!((4..40).contains(&undone), "{undone} changes undone");
        assert!(s == at_mark);
        assert!(!s.contains(k));
        s.check_integrity().unwrap();
    }
    s.release_mark(&mark).unwrap();
    assert!(s == at_mark);
}

#[test]
fn reset_aborts_an_open_transaction_and_marks_are_checked() {
    let (mut s, ..) = fixture();
    let mark = s.mark().unwrap();
    let at_mark = s.fork();
    s.begin().unwrap();
    s.insert(user("carol")).unwrap();
    assert_eq!(s.mark().unwrap_err(), Error::TransactionOpen);
    s.reset(&mark).unwrap();
    assert!(!s.in_transaction());
    assert!(s == at_mark);
    let (mut other, ..) = fixture();
    assert_eq!(other.reset(&mark).unwrap_err(), Error::UnknownMark);
}

#[test]
fn misuse_is_a_typed_error() {
    let (mut s, ..) = fixture();
    assert_eq!(s.commit().unwrap_err(), Error::NoTransaction);
    assert_eq!(s.rollback().unwrap_err(), Error::NoTransaction);
    assert_eq!(s.savepoint().unwrap_err(), Error::NoTransaction);
    s.begin().unwrap();
    assert_eq!(s.begin().unwrap_err(), Error::TransactionOpen);
    let sp = s.savepoint().unwrap();
    let sp2 = s.savepoint().unwrap();
    s.rollback_to(&sp).unwrap(); // closes sp2
    assert_eq!(s.release(&sp2).unwrap_err(), Error::UnknownSavepoint);
    s.release(&sp).unwrap();
    s.commit().unwrap();
}

#[test]
fn forks_are_independent() {
    let (mut s, alice, ..) = fixture();
    let mark = s.mark().unwrap();
    let mut fork = s.fork();
    fork.delete(alice).unwrap();
    assert!(s.contains(alice));
    fork.reset(&mark).unwrap();
    assert!(fork.contains(alice));
    assert!(fork == s);
}

/// Forks share the text already written (large chunks are never copied); every write after
/// the fork, rollback and reset included, stays in the store that made it.
#[test]
fn forks_share_written_text_but_not_later_writes() {
    let (mut s, alice, ..) = fixture();
    let long = "long ".repeat(30_000); // past the heap's copy-on-write limit
    let big = s.insert(post(alice, &long)).unwrap();
    let mark = s.mark().unwrap();
    let before = s.fork();
    let mut fork = s.fork();
    fork.update(big, |p| p.content = "rewritten in the fork".into())
        .unwrap();
    let extra = fork.insert(post(alice, "fork only")).unwrap();
    s.insert(post(alice, "original only")).unwrap();
    fork.begin().unwrap();
    fork.update(big, |p| p.title = "rolled back".into()).unwrap();
    fork.rollback().unwrap();
    assert_eq!(s.get(big).unwrap().content, format!("content of {long}"));
    assert_eq!(fork.get(big).unwrap().title, long);
    assert_eq!(fork.get(big).unwrap().content, "rewritten in the fork");
    assert_eq!(fork.get(extra).unwrap().title, "fork only");
    assert!(s.get(extra).is_none_or(|p| p.title != "fork only"));
    for store in [&s, &fork] {
        store.check_integrity().unwrap();
    }
    fork.reset(&mark).unwrap();
    s.reset(&mark).unwrap();
    assert!(fork == before && s == before);
    fork.check_integrity().unwrap();
}

#[test]
fn the_store_is_send_and_sync_and_forks_serve_parallel_tests() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Store>();
    let (fixture, alice, ..) = fixture();
    std::thread::scope(|scope| {
        for i in 0..4 {
            let mut mine = fixture.fork();
            scope.spawn(move || {
                mine.insert(user(&format!("thread{i}"))).unwrap();
                mine.delete(alice).unwrap();
                mine.check_integrity().unwrap();
            });
        }
    });
    assert!(fixture.contains(alice));
}

/// Managers `m1` (reports r0..r3) and `m2` (report r4) in a fresh store.
fn two_managers() -> (Store, [Key<Employee>; 2], Vec<Key<Employee>>) {
    let mut s = store();
    let employee = |s: &mut Store, name: &str, manager| {
        s.insert(Employee {
            name: name.into(),
            manager,
        })
        .unwrap()
    };
    let m1 = employee(&mut s, "m1", None);
    let m2 = employee(&mut s, "m2", None);
    let r = (0..5)
        .map(|i| employee(&mut s, &format!("r{i}"), Some(if i < 4 { m1 } else { m2 })))
        .collect();
    (s, [m1, m2], r)
}

fn reports(s: &Store, manager: Key<Employee>) -> Vec<Key<Employee>> {
    s.children(Employee::MANAGER, manager).collect()
}

/// A move from one parent to another journals the old parent, link number and list position,
/// not the old row: undoing moves (a reset, a rollback, a savepoint) puts each child back at
/// its exact place, from the middle of a list and after a child moved twice.
#[test]
fn undoing_moves_restores_each_list_in_its_exact_order() {
    let (mut s, [m1, m2], r) = two_managers();
    let before = s.fork();
    let mark = s.mark().unwrap();
    s.set_parent(Employee::MANAGER, r[1], Some(m2)).unwrap();
    s.set_parent(Employee::MANAGER, r[2], Some(m2)).unwrap();
    s.set_parent(Employee::MANAGER, r[1], Some(m1)).unwrap(); // back, now last
    assert_eq!(reports(&s, m1), [r[0], r[3], r[1]]);
    assert_eq!(reports(&s, m2), [r[4], r[2]]);
    s.check_integrity().unwrap();
    assert_eq!(s.reset(&mark).unwrap(), 3);
    assert_eq!(reports(&s, m1), [r[0], r[1], r[2], r[3]]);
    assert_eq!(reports(&s, m2), [r[4]]);
    assert!(s == before);
    s.check_integrity().unwrap();

    // A savepoint inside a transaction: only the moves after it are undone.
    s.begin().unwrap();
    s.set_parent(Employee::MANAGER, r[0], Some(m2)).unwrap();
    let sp = s.savepoint().unwrap();
    s.set_parent(Employee::MANAGER, r[2], Some(m2)).unwrap();
    s.set_parent(Employee::MANAGER, r[4], Some(m1)).unwrap();
    s.rollback_to(&sp).unwrap();
    assert_eq!(reports(&s, m1), [r[1], r[2], r[3]]);
    assert_eq!(reports(&s, m2), [r[4], r[0]]);
    s.check_integrity().unwrap();
    s.rollback().unwrap();
    assert_eq!(reports(&s, m1), [r[0], r[1], r[2], r[3]]);
    assert!(s == before);
    s.check_integrity().unwrap();

    // After the undo the link numbers are the old ones: a new move still goes last.
    s.set_parent(Employee::MANAGER, r[3], Some(m2)).unwrap();
    s.set_parent(Employee::MANAGER, r[1], Some(m2)).unwrap();
    assert_eq!(reports(&s, m2), [r[4], r[3], r[1]]);
    s.check_integrity().unwrap();
}

/// A plain move (a key only the children lists cover, as an employee's manager) reads the
/// target's liveness before the child's row, yet refuses in the order every key change does:
/// a stale or unknown child first, then nothing to do when the key already names the target,
/// then a deleted or unknown target.
#[test]
fn a_plain_move_refuses_the_child_before_the_target() {
    let (mut s, [m1, m2], r) = two_managers();
    let mut other = s.fork();
    let unknown = other
        .insert(Employee {
            name: "x".into(),
            manager: None,
        })
        .unwrap();
    s.delete(m2).unwrap(); // and r4 with it
    let stale_child = Error::Stale {
        table: "employees",
        key: r[4].raw(),
    };
    assert_fails_unchanged(&mut s, &stale_child, |s| {
        s.set_parent(Employee::MANAGER, r[4], Some(m2))
    });
    assert_fails_unchanged(&mut s, &stale_child, |s| {
        s.set_parent(Employee::MANAGER, r[4], Some(m1))
    });
    let unknown_child = Error::NotFound {
        table: "employees",
        key: unknown.raw(),
    };
    assert_fails_unchanged(&mut s, &unknown_child, |s| {
        s.set_parent(Employee::MANAGER, unknown, Some(m2))
    });
    let deleted = Error::DeletedTarget {
        table: "employees",
        column: "manager_id",
        target: "employees",
        key: m2.raw(),
    };
    assert_fails_unchanged(&mut s, &deleted, |s| {
        s.set_parent(Employee::MANAGER, r[1], Some(m2))
    });
    let missing = Error::MissingTarget {
        table: "employees",
        column: "manager_id",
        target: "employees",
        key: unknown.raw(),
    };
    assert_fails_unchanged(&mut s, &missing, |s| {
        s.set_parent(Employee::MANAGER, r[1], Some(unknown))
    });
    let before = s.fork();
    s.set_parent(Employee::MANAGER, r[3], Some(m1)).unwrap(); // already there
    assert!(s == before);
    assert_eq!(reports(&s, m1), [r[0], r[1], r[2], r[3]]);
    s.check_integrity().unwrap();
}

/// A move that fails after it is journalled (an injected fault on the table) is undone by its
/// statement like any other change.
#[test]
fn a_move_failing_after_it_is_journalled_changes_nothing() {
    let (mut s, [_, m2], r) = two_managers();
    let err = Error::Unavailable { reason: "test" };
    s.faults()
        .inject(relata::FaultPoint::next_write_to::<Employee>(), err.clone());
    assert_fails_unchanged(&mut s, &err, |s| s.set_parent(Employee::MANAGER, r[1], Some(m2)));
    s.begin().unwrap();
    s.set_parent(Employee::MANAGER, r[2], Some(m2)).unwrap();
    s.faults()
        .inject(relata::FaultPoint::next_write_to::<Employee>(), err.clone());
    assert_fails_unchanged(&mut s, &err, |s| s.set_parent(Employee::MANAGER, r[1], Some(m2)));
    s.commit().unwrap();
    assert_eq!(reports(&s, m2), [r[4], r[2]]);
}

/// A refused `release_mark` / `release` leaves its handle usable: the scope can still be
/// closed (the journal let go) or rolled back to; a released handle answers `Unknown*`.
#[test]
fn a_refused_release_gives_the_handle_back() {
    let (mut s, ..) = fixture();
    let mark = s.mark().unwrap();
    s.begin().unwrap();
    assert_eq!(s.release_mark(&mark).unwrap_err(), Error::TransactionOpen);
    s.commit().unwrap();
    s.insert(user("carol")).unwrap();
    s.release_mark(&mark).unwrap(); // the mark could still be closed
    assert_eq!(s.hidden_state().1, 0, "no scope open: the journal is let go");
    assert_eq!(s.release_mark(&mark).unwrap_err(), Error::UnknownMark);
    assert_eq!(s.reset(&mark).unwrap_err(), Error::UnknownMark);

    // PostgreSQL refuses RELEASE in an aborted transaction and keeps the savepoint.
    let mut pg = Store::with_engine(s.schema().clone(), relata::Engine::Postgres);
    pg.insert(user("a")).unwrap();
    pg.begin().unwrap();
    let kept = pg.insert(user("kept")).unwrap();
    let sp = pg.savepoint().unwrap();
    pg.insert(user("a")).unwrap_err();
    assert!(matches!(pg.release(&sp), Err(Error::TransactionAborted { .. })));
    pg.rollback_to(&sp).unwrap(); // usable again, the savepoint named by the same handle
    pg.release(&sp).unwrap();
    assert_eq!(pg.release(&sp).unwrap_err(), Error::UnknownSavepoint);
    assert_eq!(pg.rollback_to(&sp).unwrap_err(), Error::UnknownSavepoint);
    pg.commit().unwrap();
    assert!(pg.contains(kept));
    pg.check_integrity().unwrap();
}
