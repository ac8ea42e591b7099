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

use std::cell::RefCell;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestError, TestRunner};
use relata_testkit::{decode_op, driver, Op, Stats};

/// Cases per CI run.
const DEFAULT_CASES: u32 = 1000;

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
    let result = TestRunner::new(config).run(&op_bytes(), |chunks| {
        let stats = driver::run(&ops_of(&chunks)).map_err(|f| TestCaseError::fail(f.to_string()))?;
        totals.borrow_mut().merge(&stats);
        Ok(())
    });
    eprintln!("model test totals (passing cases): {:#?}", totals.borrow());
    match result {
        Ok(()) => {}
        Err(TestError::Fail(reason, chunks)) => {
            panic!(
                "minimal failing case ({} ops):\n{reason}\nop bytes: {chunks:?}",
                chunks.len()
            )
        }
        Err(e) => panic!("{e}"),
    }
}
