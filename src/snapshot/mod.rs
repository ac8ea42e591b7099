//! Snapshots: save a store's ground truth to bytes, a writer or a file; load it back, possibly
//! from untrusted bytes, into a store of the same schema.
//!
//! Only ground truth is written: each table's slots (with their versions, so every key a user
//! kept, live or stale, means the same after a load), its text heap and link counters, and each
//! relation's pairs. Derived state is rebuilt on load while every invariant is validated; a
//! load returns a store that passes [`Store::check_integrity`], or a typed [`SnapshotError`].
//! The layout is documented in `docs/SNAPSHOT.md`.

pub(crate) mod codec;
mod error;
pub(crate) mod format;
mod fs;
mod load;
pub(crate) mod text_copy;

use std::io::Write;

use serde::Serialize;

pub use error::SnapshotError;
pub use fs::SaveStep;

use crate::key::RawKey;
use crate::store::Store;
use format::{checksum, Description, Header, SchemaDesc, HEADER_LEN};

#[derive(Serialize)]
struct RelationOut<'a> {
    pairs: &'a [(u32, RawKey, RawKey)],
    next_seq: u32,
}

impl Store {
    /// The store's ground truth as snapshot bytes. Saves the current state, including the
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
        let fingerprint = fingerprint(&description.schema)?;
        let mut out = vec![0u8; HEADER_LEN];
        bincode::serde::encode_into_std_write(&description, &mut out, format::config()).map_err(|e| {
            SnapshotError::Encode {
                detail: e.to_string(),
            }
        })?;
        let description_len = out.len() - HEADER_LEN;
        for table in &self.tables {
            table.save(&mut out)?;
        }
        for edges in &self.relations {
            let part = RelationOut {
                pairs: &edges.pairs(),
                next_seq: edges.counter(),
            };
            bincode::serde::encode_into_std_write(&part, &mut out, format::config()).map_err(|e| {
                SnapshotError::Encode {
                    detail: e.to_string(),
                }
            })?;
        }
        let header = Header {
            version: format::VERSION,
            fingerprint,
            description_len: u32::try_from(description_len).map_err(|_| SnapshotError::Encode {
                detail: "schema description too large".into(),
            })?,
            payload_len: (out.len() - HEADER_LEN - description_len) as u64,
            payload_checksum: format::checksum_of(format::VERSION, &out[HEADER_LEN..]),
        };
        out[..HEADER_LEN].copy_from_slice(&header.encode());
        Ok(out)
    }

    /// Writes a snapshot to `writer`.
    ///
    /// # Errors
    /// [`SnapshotError::Io`] from the writer, or as [`to_snapshot`](Self::to_snapshot).
    pub fn save_to_writer(&self, mut writer: impl Write) -> Result<(), SnapshotError> {
        let bytes = self.to_snapshot()?;
        writer.write_all(&bytes).map_err(|e| fs::io_error("write", &e))?;
        writer.flush().map_err(|e| fs::io_error("flush", &e))
    }
}

/// Rewrites a snapshot's checksum to match its content, so fuzzers and tests can reach the
/// validation behind it with edited bytes. Not API.
#[doc(hidden)]
pub fn reseal(bytes: &mut [u8]) {
    if bytes.len() >= HEADER_LEN {
        let version = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
        let sum = format::checksum_of(version, &bytes[HEADER_LEN..]);
        bytes[32..40].copy_from_slice(&sum.to_le_bytes());
    }
}

fn fingerprint(schema: &SchemaDesc<'_>) -> Result<u64, SnapshotError> {
    bincode::serde::encode_to_vec(schema, format::config())
        .map(|bytes| checksum(&bytes))
        .map_err(|e| SnapshotError::Encode {
            detail: e.to_string(),
        })
}
