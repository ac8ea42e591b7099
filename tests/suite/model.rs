//! Model-based property test: random operation sequences run on a real store and on
//! relata-testkit's naive reference model, compared after every step (outcome, the whole
//! observable state, `check_integrity`).
//!
//! Each operation is decoded from its own byte chunk (`arbitrary::Unstructured`), so
//! proptest shrinks by dropping whole operations and then simplifying each one's bytes: a
//! failure ends as a short, readable sequence, printed op by op.
//!
//! CI runs [`DEFAULT_CASES`] cases; `RELATA_PROPTEST_CASES=100000` runs a long campaign
//! (`-- --nocapture` prints what the run exercised).

use std::cell::{Cell, RefCell};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestError, TestRunner};
use relata_testkit::{decode_op, driver, shrink, Op, Stats};

/// Cases per CI run.
const DEFAULT_CASES: u32 = 2000;

fn cases() -> u32 {
    std::env::var("RELATA_PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_CASES)
}

/// Up to 100 operations of up to 24 bytes each.
fn op_bytes() -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop::collection::vec(prop::collection::vec(any::<u8>(), 0..24), 1..100)
}

fn ops_of(chunks: &[Vec<u8>]) -> Vec<Op> {
    chunks.iter().map(|c| decode_op(c)).collect()
}

#[test]
fn store_agrees_with_model() {
    let config = Config {
        cases: cases(),
        max_shrink_iters: 20_000,
        failure_persistence: None,
        ..Config::default()
    };
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
    eprintln!(
        "model test: {} cases run (shrinking included), first failure at case {:?}; totals of passing cases: {:#?}",
        cases_run.get(),
        first_failure.get(),
        totals.borrow()
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
