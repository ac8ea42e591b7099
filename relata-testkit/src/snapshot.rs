//! The snapshot-load property shared by the `snapshot_load` fuzz target and the corpus
//! replay: any bytes give `Ok` or `Err`, never a panic, and a store that loads passes its
//! integrity check and survives a save-and-load round trip unchanged.

use relata::Store;

use crate::driver::{apply, new_store};
use crate::model::Model;
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

/// A store built by applying `ops` (failed operations change nothing), for seeding corpora.
pub fn store_after(ops: &[Op]) -> Store {
    let mut store = new_store();
    let mut model = Model::default();
    for op in ops {
        let _ = apply(&mut store, &mut model, op);
    }
    store
}
