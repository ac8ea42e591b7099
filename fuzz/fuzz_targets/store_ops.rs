//! Random operation sequences on a real store and on relata-testkit's reference model,
//! compared after every step. Any disagreement, failed integrity check or panic is a crash.
//!
//! `RELATA_OP_COUNTS=N` prints the operations run so far, per kind (succeeded, failed,
//! panicked), every N inputs.

#![no_main]

use std::sync::Mutex;

use libfuzzer_sys::fuzz_target;
use relata_testkit::{decode_ops, driver, Stats};

/// The counts so far and the number of inputs, when `RELATA_OP_COUNTS` is set.
static TOTALS: Mutex<Option<(Stats, u64)>> = Mutex::new(None);

fuzz_target!(|data: &[u8]| {
    let ops = decode_ops(data);
    match driver::run(&ops) {
        Ok(stats) => count(&stats),
        Err(failure) => panic!("{failure}"),
    }
});

fn count(stats: &Stats) {
    let Some(every) = std::env::var("RELATA_OP_COUNTS").ok().and_then(|n| n.parse::<u64>().ok()) else {
        return;
    };
    let mut guard = TOTALS.lock().unwrap_or_else(|e| e.into_inner());
    let totals = guard.get_or_insert_with(Default::default);
    totals.0.merge(stats);
    totals.1 += 1;
    if totals.1 % every.max(1) == 0 {
        eprintln!(
            "after {} inputs: {} operations, largest store {} records\n{}",
            totals.1,
            totals.0.ops,
            totals.0.largest_store,
            totals.0.kind_table()
        );
    }
}
