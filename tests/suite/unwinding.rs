//! User code that panics or ends its own scope (issue 17, items 1 and 2), and fixture scopes
//! that cannot leak (issue 21).
//!
//! Every entry point that runs user code (`transaction`, `update`, `faults().run`, a fixture
//! scope) leaves the store as before the call when that code unwinds, and fully usable; a
//! closure cannot end the scope its call owns, so `Err` never means some writes stayed.

use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::common::*;
use relata::{Error, FaultPoint, Key, Store};

/// The payload of the panics these tests raise on purpose; the panic hook stays quiet for it.
pub struct Planned;

/// Installs (once) a panic hook that says nothing for [`Planned`] panics and defers to the
/// default hook for every other panic.
pub fn quiet_planned_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !info.payload().is::<Planned>() {
                default(info);
            }
        }));
    });
}

/// Runs `f`, which must panic with [`Planned`].
#[track_caller]
fn panics(f: impl FnOnce()) {
    quiet_planned_panics();
    let payload = catch_unwind(AssertUnwindSafe(f)).expect_err("the closure should have panicked");
    assert!(payload.is::<Planned>(), "an unplanned panic");
}

fn planned() -> ! {
    std::panic::panic_any(Planned)
}

/// After a caught panic: equal to the state before the call, no scope left open, consistent.
#[track_caller]
fn as_before(s: &Store, before: &Store) {
    assert!(s == before, "the panicking call left changes behind");
    assert!(!s.in_transaction(), "the panicking call left a transaction open");
    s.check_integrity().unwrap();
}

fn populated() -> (Store, Key<User>) {
    let mut s = store();
    let alice = s.insert(user("alice")).unwrap();
    s.insert(post(alice, "one")).unwrap();
    s.insert(Handle { name: "h1".into() }).unwrap();
    (s, alice)
}

#[test]
fn a_panic_in_a_transaction_closure_rolls_it_back() {
    let (mut s, _) = populated();
    let before = s.fork();
    panics(|| {
        let _ = s.transaction(|s| -> Result<(), Error> {
            s.insert(user("bob"))?;
            planned()
        });
    });
    as_before(&s, &before);
    s.begin().unwrap(); // no TransactionOpen
    s.insert(user("carol")).unwrap();
    s.commit().unwrap();
    assert_eq!(s.count::<User>(), 2);
}

#[test]
fn a_panic_in_a_nested_transaction_closure_rolls_back_only_the_savepoint() {
    let (mut s, _) = populated();
    let before = s.fork();
    let out: Result<(), Error> = s.transaction(|s| {
        s.insert(user("bob"))?;
        let inner_before = s.fork();
        panics(|| {
            let _ = s.transaction(|s| -> Result<(), Error> {
                s.insert(user("carol"))?;
                planned()
            });
        });
        assert!(*s == inner_before && s.in_transaction());
        s.insert(user("dave"))?;
        Ok(())
    });
    out.unwrap();
    assert_eq!(s.count::<User>(), before.count::<User>() + 2);
    assert!(!s.in_transaction());
    s.check_integrity().unwrap();

    // A nested closure that panics all the way out undoes the outer transaction too.
    panics(|| {
        let _ = s.transaction(|s| -> Result<(), Error> {
            s.insert(user("erin"))?;
            s.transaction(|s| -> Result<(), Error> {
                s.insert(user("frank"))?;
                planned()
            })
        });
    });
    assert_eq!(s.count::<User>(), before.count::<User>() + 2);
    assert!(!s.in_transaction());
}

#[test]
fn a_panic_in_an_update_closure_leaves_no_statement_open() {
    let (mut s, alice) = populated();
    let before = s.fork();
    panics(|| {
        let _ = s.update(alice, |_| planned());
    });
    as_before(&s, &before);
    // Autocommit statements still check deferrable constraints at their end...
    assert!(matches!(
        s.insert(Handle { name: "h1".into() }),
        Err(Error::UniqueViolation { .. })
    ));
    s.check_integrity().unwrap();
    // ...and later statements are finalized: a new mark finds nothing to undo.
    s.insert(user("bob")).unwrap();
    let mark = s.mark().unwrap();
    assert_eq!(s.reset(&mark).unwrap(), 0);
}

#[test]
fn a_panic_in_an_update_closure_inside_a_transaction_undoes_only_that_update() {
    let (mut s, alice) = populated();
    s.begin().unwrap();
    s.update(alice, |u| u.email = "a@x".into()).unwrap();
    let before = s.fork();
    panics(|| {
        let _ = s.update(alice, |u| {
            u.email = "b@x".into();
            planned()
        });
    });
    assert!(s == before && s.in_transaction());
    s.commit().unwrap();
    assert_eq!(s.get(alice).unwrap().email, "a@x");
    // Autocommit statements are whole statements again (commit point included).
    assert!(matches!(
        s.insert(Handle { name: "h1".into() }),
        Err(Error::UniqueViolation { .. })
    ));
    s.check_integrity().unwrap();
}

#[test]
fn a_panic_in_a_faults_run_closure_disarms_the_fault_and_undoes_the_closure() {
    let (mut s, _) = populated();
    let before = s.fork();
    let down = Error::Unavailable { reason: "down" };
    panics(|| {
        let _ = s.faults().run(FaultPoint::NthWrite(2), down.clone(), |s| {
            s.insert(user("bob")).unwrap();
            planned()
        });
    });
    as_before(&s, &before);
    assert!(s.faults().pending().is_empty());
    s.insert(user("bob")).unwrap();
    s.insert(user("carol")).unwrap(); // the second write: the fault is gone
    s.check_integrity().unwrap();

    // Faults injected before the call are as they were.
    s.faults().inject(FaultPoint::Commit, down.clone());
    panics(|| {
        let _ = s
            .faults()
            .run(FaultPoint::NthWrite(1), down.clone(), |_| planned());
    });
    assert_eq!(s.faults().pending().len(), 1);
    assert_eq!(s.faults().pending()[0].at, FaultPoint::Commit);
}

#[test]
fn faults_run_keeps_what_its_closure_did_and_leaves_its_transactions_alone() {
    let (mut s, _) = populated();
    let down = Error::Unavailable { reason: "down" };
    let out = s
        .faults()
        .run(FaultPoint::NthWrite(2), down.clone(), |s| {
            s.insert(user("bob")).unwrap();
            s.begin().unwrap();
            s.insert(user("carol"))
        })
        .unwrap();
    assert_eq!(out, Err(down));
    assert!(
        s.in_transaction(),
        "the transaction the closure opened stays open"
    );
    s.insert(user("dave")).unwrap();
    s.rollback().unwrap();
    assert_eq!(s.count::<User>(), 2); // alice and bob
    let mark = s.mark().unwrap();
    assert_eq!(s.reset(&mark).unwrap(), 0);
}

/// A call that tries to end the scope a closure runs in.
type EndScope = fn(&mut Store, &relata::Mark) -> Result<(), Error>;

/// Issue 17 item 2: the closure ending its own transaction. Each way of doing so is refused
/// at that call, with nothing changed, and the transaction's `Err` undoes everything.
#[test]
fn a_transaction_closure_cannot_end_its_own_transaction() {
    let (mut s, _) = populated();
    let before = s.fork();
    let refused = |operation| Error::EndsEnclosingScope { operation };
    let mark = s.mark().unwrap();
    let tries: [(&str, EndScope); 3] = [
        ("commit", |s, _| s.commit()),
        ("rollback", |s, _| s.rollback()),
        ("reset", |s, m| s.reset(m).map(drop)),
    ];
    for (operation, end) in tries {
        let out: Result<(), Error> = s.transaction(|s| {
            s.insert(user("bob"))?;
            let inside = s.fork();
            assert_eq!(end(s, &mark), Err(refused(operation)));
            assert!(
                *s == inside && s.in_transaction(),
                "{operation} changed something"
            );
            s.insert(user("carol"))?;
            Err(Error::Unavailable {
                reason: "the closure fails",
            })
        });
        assert!(out.is_err());
        assert!(
            s == before,
            "Err from transaction, yet writes stayed ({operation})"
        );
        assert!(!s.in_transaction());
    }
    // The exact form of the report: `?` on the refused commit ends the closure with Err.
    let out: Result<(), Error> = s.transaction(|s| {
        s.insert(user("bob"))?;
        s.commit()?;
        s.insert(user("carol"))?;
        Ok(())
    });
    assert_eq!(out, Err(refused("commit")));
    assert!(s == before);
    s.release_mark(&mark).unwrap();
    s.check_integrity().unwrap();
}

#[test]
fn a_nested_transaction_closure_cannot_end_the_savepoints_below_it() {
    let (mut s, _) = populated();
    let before = s.fork();
    s.begin().unwrap();
    let outer = s.savepoint().unwrap();
    let sp: Result<(), Error> = s.transaction(|s| {
        s.insert(user("bob"))?;
        assert_eq!(
            s.rollback_to(&outer),
            Err(Error::EndsEnclosingScope {
                operation: "rollback_to"
            })
        );
        // A savepoint the closure opens itself is its own business.
        let own = s.savepoint()?;
        s.insert(user("carol"))?;
        s.rollback_to(&own)?;
        s.release(&own)?;
        Err(Error::Unavailable { reason: "fail" })
    });
    assert!(sp.is_err());
    let out: Result<(), Error> = s.transaction(|s| {
        s.insert(user("dave"))?;
        Ok(())
    });
    out.unwrap();
    s.release(&outer).unwrap();
    s.commit().unwrap();
    assert_eq!(s.count::<User>(), before.count::<User>() + 1);
    s.check_integrity().unwrap();
}

#[test]
fn a_fixture_scope_resets_when_dropped_and_when_a_test_panics() {
    let (mut fixture, alice) = populated();
    let before = fixture.fork();
    {
        let mut s = fixture.scope().unwrap();
        s.insert(user("bob")).unwrap();
        s.delete(alice).unwrap();
        let diff = s.changes_since(s.mark()).unwrap();
        assert_eq!(diff.table::<User>().inserted.len(), 1);
    }
    as_before(&fixture, &before);
    panics(|| {
        let mut s = fixture.scope().unwrap();
        s.insert(user("bob")).unwrap();
        s.begin().unwrap(); // an open transaction is undone too
        s.delete(alice).unwrap();
        planned();
    });
    as_before(&fixture, &before);
    // No mark left open: the journal is finalized again.
    let m = fixture.mark().unwrap();
    assert_eq!(fixture.reset(&m).unwrap(), 0);
    fixture.release_mark(&m).unwrap();
}

#[test]
fn a_fixture_scope_cannot_be_ended_from_inside() {
    let (mut fixture, _) = populated();
    let outer = fixture.mark().unwrap();
    let before = fixture.fork();
    {
        let mut s = fixture.scope().unwrap();
        s.insert(user("bob")).unwrap();
        let inside = s.fork();
        assert_eq!(
            s.reset(&outer),
            Err(Error::EndsEnclosingScope { operation: "reset" })
        );
        assert!(*s == inside);
        s.begin().unwrap();
        assert_eq!(s.scope().unwrap_err(), Error::TransactionOpen);
        s.rollback().unwrap();
        // Scopes nest.
        let mut inner = s.scope().unwrap();
        inner.insert(user("carol")).unwrap();
    }
    assert!(fixture == before);
    fixture.reset(&outer).unwrap();
}

/// The documented pattern for parallel tests: fork the fixture once per thread, open a scope
/// per test on that fork.
#[test]
fn fork_per_thread_and_scope_per_test() {
    let (fixture, alice) = populated();
    std::thread::scope(|threads| {
        for t in 0..2 {
            let mut mine = fixture.fork();
            threads.spawn(move || {
                for test in 0..5 {
                    let mut s = mine.scope().unwrap();
                    s.insert(user(&format!("t{t}-{test}"))).unwrap();
                    s.delete(alice).unwrap();
                    assert_eq!(s.count::<User>(), 1);
                }
                assert_eq!(mine.count::<User>(), 1);
                assert!(mine.contains(alice));
            });
        }
    });
}
