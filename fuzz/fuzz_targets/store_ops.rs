//! Random operation sequences on a real store and on relata-testkit's reference model,
//! compared after every step. Any disagreement, failed integrity check or panic is a crash.

#![no_main]

use libfuzzer_sys::fuzz_target;
use relata_testkit::{decode_ops, driver};

fuzz_target!(|data: &[u8]| {
    let ops = decode_ops(data);
    if let Err(failure) = driver::run(&ops) {
        panic!("{failure}");
    }
});
