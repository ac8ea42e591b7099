//! Why a snapshot could not be saved or loaded: one variant per kind of failure, each naming
//! the part, table, key or value concerned.

use crate::error::IntegrityError;
use crate::key::RawKey;

/// Why a snapshot could not be saved or loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SnapshotError {
    /// A file operation failed.
    #[error("snapshot I/O failed at step {step}: {message}")]
    Io {
        /// The step (create, write, flush, sync, rename, sync-dir, read).
        step: &'static str,
        /// The I/O error kind.
        kind: std::io::ErrorKind,
        /// The I/O error text.
        message: String,
    },
    /// The bytes do not start with relata's magic number.
    #[error("not a relata snapshot (bad magic bytes)")]
    BadMagic,
    /// The format version is not one this build reads.
    #[error("snapshot format version {found} is not supported (this build reads version {supported})")]
    UnsupportedVersion {
        /// The version in the file.
        found: u32,
        /// The version this build reads.
        supported: u32,
    },
    /// The bytes end before a part they announce.
    #[error("snapshot truncated: {what} is incomplete")]
    Truncated {
        /// Which part.
        what: &'static str,
    },
    /// The bytes go on after the announced end.
    #[error("snapshot has {extra} trailing bytes after its end")]
    TrailingBytes {
        /// How many.
        extra: usize,
    },
    /// The checksum does not match: the bytes were damaged.
    #[error("snapshot checksum mismatch (header says {expected:#018x}, content gives {found:#018x})")]
    ChecksumMismatch {
        /// The header's checksum.
        expected: u64,
        /// The checksum of the content.
        found: u64,
    },
    /// The snapshot was saved with another schema.
    #[error("snapshot schema differs from the store's: {detail}")]
    SchemaMismatch {
        /// The first difference, naming the table and field.
        detail: String,
    },
    /// A part could not be decoded.
    #[error("snapshot part {part} could not be decoded: {detail}")]
    Decode {
        /// The table or relation.
        part: &'static str,
        /// What went wrong.
        detail: String,
    },
    /// The store is inside a transaction whose changes violate a deferred constraint (a
    /// deferrable duplicate mid-swap, a restricted parent deleted before its children moved):
    /// that state could never be loaded, so it is not saved. Commit or fix it first.
    #[error("cannot snapshot a state that violates a deferred constraint: {}", violations.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    DeferredViolation {
        /// Every violation, as a commit would report them.
        violations: Vec<crate::Error>,
    },
    /// Encoding failed.
    #[error("snapshot encoding failed: {detail}")]
    Encode {
        /// What went wrong.
        detail: String,
    },
    /// A record's text lies outside its table's heap.
    #[error("record {table}[{key}] has text outside the heap")]
    TextOutOfBounds {
        /// The table.
        table: &'static str,
        /// The record.
        key: RawKey,
    },
    /// Two records share a value under a unique constraint.
    #[error("UNIQUE constraint failed in snapshot: {table} {constraint} held by both {} and {}", keys[0], keys[1])]
    DuplicateUnique {
        /// The table.
        table: &'static str,
        /// The constraint.
        constraint: &'static str,
        /// The two records.
        keys: [RawKey; 2],
    },
    /// A foreign key references a record that is not in the snapshot.
    #[error("FOREIGN KEY constraint failed in snapshot: {table}[{key}].{column} references missing {target}[{target_key}]")]
    DanglingReference {
        /// The child table.
        table: &'static str,
        /// The foreign-key column.
        column: &'static str,
        /// The child record.
        key: RawKey,
        /// The referenced table.
        target: &'static str,
        /// The missing key.
        target_key: RawKey,
    },
    /// A many-to-many pair names a record that is not in the snapshot, or appears twice.
    #[error("bad link in snapshot relation {relation}: {left}-{right} ({problem})")]
    BadLink {
        /// The relation.
        relation: &'static str,
        /// The left end.
        left: RawKey,
        /// The right end.
        right: RawKey,
        /// "missing end", "duplicate", "link number beyond its counter" or "link number
        /// repeated or out of order".
        problem: &'static str,
    },
    /// The description's record count differs from the records found.
    #[error("snapshot table {table} announces {expected} records but holds {found}")]
    CountMismatch {
        /// The table.
        table: &'static str,
        /// The count in the description.
        expected: u64,
        /// The records decoded.
        found: u64,
    },
    /// Another invariant does not hold (for example a cycle in an `acyclic` relationship).
    #[error("snapshot violates an invariant: {0}")]
    Integrity(IntegrityError),
}
