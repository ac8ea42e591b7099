//! The snapshot-load property shared by the `snapshot_load` fuzz target and the corpus
//! replay: any bytes give `Ok` or `Err`, never a panic, and a store that loads passes its
//! integrity check and survives a save-and-load round trip unchanged.

use relata::Store;

use crate::op::Op;
use crate::schema::schema;

/// Loads `bytes` as a snapshot of the test schema and checks what loads.
///
/// # Panics
/// When a loaded store fails its integrity check or its round trip: the property is broken.
pub fn check_snapshot_bytes(bytes: &[u8]) {
    check_one(bytes);
    // The same bytes with a valid checksum, so edits reach decoding and validation.
    let mut resealed = bytes.to_vec();
    relata::__private::reseal(&mut resealed);
    check_one(&resealed);
}

fn check_one(bytes: &[u8]) {
    let Ok(store) = Store::from_snapshot(schema(), bytes) else {
        return;
    };
    if let Err(e) = store.check_integrity() {
        panic!("a loaded snapshot fails its integrity check: {e}");
    }
    let again = store.to_snapshot().expect("a loaded store saves");
    let reloaded = Store::from_snapshot(schema(), &again).expect("a saved store loads");
    assert!(reloaded == store, "a snapshot round trip changed the store");
}

/// A store built by running `ops` (failed operations change nothing; disagreements with
/// the model are ignored), for seeding corpora.
pub fn store_after(ops: &[Op]) -> Store {
    crate::driver::store_after(ops)
}
