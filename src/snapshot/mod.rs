//! Snapshots: save a store's ground truth to bytes, a writer or a file; load it back, possibly
//! from untrusted bytes, into a store of the same schema.
//!
//! Only ground truth is written: each table's parts (its slots with their versions, so every
//! key a user kept, live or stale, means the same after a load; its link counters; its text),
//! and each relation's pairs. Derived state is rebuilt on load while every invariant is
//! validated; a load returns a store that passes [`Store::check_integrity`], or a typed
//! [`SnapshotError`]. The layout is in `format.rs` and `docs/SNAPSHOT.md`.

mod evolve;
pub(crate) mod format;
mod fs;
mod load;

use std::io::Write;

use serde::{Deserialize, Serialize};

pub use crate::error::SnapshotError;
pub use evolve::Adaptation;
pub use fs::SaveStep;

use crate::key::RawKey;
use crate::store::table::parts::put;
use crate::store::Store;
use format::{Description, Header, SchemaDesc, HEADER_LEN};

/// A relation's ground truth: its pairs in link order, with their link numbers, and its
/// link counter. Saved by `to_snapshot`, read back by the load and the evolving load.
#[derive(Default, Serialize, Deserialize)]
struct RelationParts {
    pairs: Vec<(u32, RawKey, RawKey)>,
    next_seq: u32,
}

impl Store {
    /// The store's ground truth as snapshot bytes, and its [`Engine`](crate::Engine) profile
    /// (a loaded store imitates the engine the saved one did). Saves the current state, including the
    /// uncommitted changes of an open transaction (open scopes themselves are not saved), as
    /// long as that state satisfies every constraint: a snapshot always loads. O(records +
    /// text), plus O(changes since `begin`) inside a transaction.
    ///
    /// # Errors
    /// [`SnapshotError::DeferredViolation`] inside a transaction whose changes violate a
    /// deferred constraint right now (what its commit would refuse); nothing is saved and the
    /// store is unchanged. [`SnapshotError::Encode`] only if a value cannot be encoded.
    ///
    /// ```
    /// # use relata::{Entity, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct User { #[relata(unique)] name: String }
    /// let schema = Schema::builder().entity::<User>().build()?;
    /// let mut store = Store::new(schema.clone());
    /// let alice = store.insert(User { name: "alice".into() })?;
    /// let bytes = store.to_snapshot()?;
    /// let loaded = Store::from_snapshot(schema, &bytes)?;
    /// assert_eq!(loaded.get(alice).unwrap().name, "alice");    // keys survive
    /// assert!(loaded == store);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn to_snapshot(&self) -> Result<Vec<u8>, SnapshotError> {
        let violations = self.uncommitted_violations();
        if !violations.is_empty() {
            return Err(SnapshotError::DeferredViolation { violations });
        }
        let description = Description {
            schema: SchemaDesc::of(&self.schema),
            counts: self.tables.iter().map(|t| t.len() as u64).collect(),
            links: self.relations.iter().map(|r| r.len() as u64).collect(),
        };
        // Room for the text and some bytes a record and link: `out` is not copied as it grows.
        let records = self.tables.iter().map(|t| t.text_len() + 16 * t.len());
        let room = records
            .chain(self.relations.iter().map(|r| 16 * r.len()))
            .sum::<usize>();
        let mut out = Vec::with_capacity(HEADER_LEN + room);
        out.resize(HEADER_LEN, 0);
        encode(&description, &mut out)?;
        for table in &self.tables {
            table.encode_parts(&mut out)?;
        }
        for edges in &self.relations {
            let part = RelationParts {
                pairs: edges.pairs(),
                next_seq: edges.counter(),
            };
            encode(&part, &mut out)?;
        }
        out.extend(format::engine_trailer(self.engine));
        seal(&mut out, format::VERSION);
        Ok(out)
    }

    /// Writes a snapshot to `writer`. O(records + text) plus the writes, as
    /// [`to_snapshot`](Self::to_snapshot). Example at
    /// [`load_from_reader`](Self::load_from_reader).
    ///
    /// # Errors
    /// [`SnapshotError::Io`] from the writer, or as [`to_snapshot`](Self::to_snapshot).
    pub fn save_to_writer(&self, mut writer: impl Write) -> Result<(), SnapshotError> {
        let bytes = self.to_snapshot()?;
        writer.write_all(&bytes).map_err(|e| fs::io_error("write", &e))?;
        writer.flush().map_err(|e| fs::io_error("flush", &e))
    }
}

/// Writes the header of the body (in format `version`) behind the first `HEADER_LEN` bytes of `out`.
fn seal(out: &mut [u8], version: u32) {
    let header = Header::of(&out[HEADER_LEN..], version);
    out[..HEADER_LEN].copy_from_slice(&header);
}

fn encode(value: &impl Serialize, out: &mut Vec<u8>) -> Result<(), SnapshotError> {
    put(value, out).map_err(|e| SnapshotError::Encode {
        detail: e.to_string(),
    })
}

/// Rewrites a snapshot's body length and checksum to match its content, so fuzzers and tests can reach the
/// validation behind it with edited bytes. Not API.
#[doc(hidden)]
pub fn reseal(bytes: &mut [u8]) {
    if let Some(body) = bytes.get(HEADER_LEN..) {
        let header = Header::of(body, 0);
        bytes[12..HEADER_LEN].copy_from_slice(&header[12..]);
    }
}
