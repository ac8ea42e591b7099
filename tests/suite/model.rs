//! Model-based property tests: random operation sequences run on a real store and on
//! relata-testkit's naive reference model, compared after every step (outcome, the whole
//! observable state, `check_integrity`). The operations cover every public write and scope:
//! records, many-to-many links, relationship assignment, transactions, savepoints, marks,
//! and closures (`transaction`, `faults().run`, fixture scopes) that end their own scope, fail
//! or panic.
//!
//! Each operation is decoded from its own byte chunk (`arbitrary::Unstructured`), so
//! proptest shrinks by dropping whole operations and then simplifying each one's bytes: a
//! failure ends as a short, readable sequence, printed op by op.
//!
//! CI runs [`DEFAULT_CASES`] cases; `RELATA_PROPTEST_CASES=100000` runs a long campaign
//! (`-- --nocapture` prints what the run exercised, with the operation count per kind).

use std::cell::{Cell, RefCell};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestError, TestRunner};
use relata_testkit::op::Ending;
use relata_testkit::{decode_op, driver, shrink, Op, Stats};

/// Cases per CI run.
const DEFAULT_CASES: u32 = 2000;

fn cases(default: u32) -> u32 {
    std::env::var("RELATA_PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// Up to 100 operations of up to 24 bytes each.
fn op_bytes() -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop::collection::vec(prop::collection::vec(any::<u8>(), 0..24), 1..100)
}

/// Runs the property over `cases` sequences, each chunk decoded by `decode`.
fn property(name: &str, cases: u32, decode: fn(&[u8]) -> Op) {
    let config = Config {
        cases,
        max_shrink_iters: 20_000,
        failure_persistence: None,
        ..Config::default()
    };
    let ops_of = |chunks: &[Vec<u8>]| -> Vec<Op> { chunks.iter().map(|c| decode(c)).collect() };
    let totals = RefCell::new(Stats::default());
    let (cases_run, first_failure) = (Cell::new(0), Cell::new(None));
    let result = TestRunner::new(config).run(&op_bytes(), |chunks| {
        cases_run.set(cases_run.get() + 1);
        let stats = driver::run(&ops_of(&chunks)).map_err(|f| {
            first_failure.set(first_failure.get().or(Some(cases_run.get())));
            TestCaseError::fail(f.to_string())
        })?;
        totals.borrow_mut().merge(&stats);
        Ok(())
    });
    let totals = totals.borrow();
    eprintln!(
        "{name}: {} cases run (shrinking included), first failure at case {:?}; totals of passing cases: {} operations, {} caught panics, largest store {} records, failures by kind {:?}\n{}",
        cases_run.get(),
        first_failure.get(),
        totals.ops,
        totals.panics,
        totals.largest_store,
        totals.failed,
        totals.kind_table()
    );
    match result {
        Ok(()) => {}
        Err(TestError::Fail(reason, chunks)) => match shrink::minimize(&ops_of(&chunks)) {
            Some(failure) => panic!("minimal failing case ({} ops):\n{failure}", failure.ops.len()),
            None => panic!("failing case (flaky?):\n{reason}\nop bytes: {chunks:?}"),
        },
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn store_agrees_with_model() {
    property("model test", cases(DEFAULT_CASES), decode_op);
}

/// One operation, with closures and panics far more frequent than uniform decoding makes
/// them: a `transaction`, `faults().run` or fixture-scope closure opens, a closure ends by
/// panicking (or returning), an `update` closure panics; otherwise any operation.
fn closure_heavy(chunk: &[u8]) -> Op {
    let (first, rest) = chunk.split_first().unwrap_or((&0, &[]));
    let second = rest.first().copied().unwrap_or(0);
    match first {
        0..=29 => Op::Transaction,
        30..=49 => Op::EndClosure(Ending::Panic),
        50..=64 => Op::EndClosure(if second % 2 == 0 { Ending::Ok } else { Ending::Err }),
        65..=74 => Op::WithFault(second % 6),
        75..=84 => Op::FixtureScope,
        85..=99 => match decode_op(rest) {
            Op::Update(k, change) => Op::UpdatePanics(k, change),
            other => other,
        },
        _ => decode_op(rest),
    }
}

/// Issue 17's panic-safety property: user closures (`transaction`, nested, `update`,
/// `faults().run`, fixture scopes) panic at random points of random sequences; the driver
/// catches each panic, and the store must then equal its state before the call (a fork
/// taken before it), pass `check_integrity`, and go on agreeing with the model (which has
/// no notion of a panic beyond "nothing happened").
#[test]
fn user_closures_that_panic_leave_the_store_as_before() {
    property("panic-safety test", cases(DEFAULT_CASES / 2), closure_heavy);
}
