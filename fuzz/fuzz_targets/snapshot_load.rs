//! Arbitrary bytes as a snapshot: loading must return `Ok` or `Err`, never panic, hang or
//! allocate far beyond the input; a store that loads must pass its integrity check and
//! survive a round trip.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    relata_testkit::snapshot::check_snapshot_bytes(data);
});
