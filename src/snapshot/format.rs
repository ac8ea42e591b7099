//! The snapshot container: a fixed header we encode by hand (so it never changes with a
//! dependency), then the bincode payload.
//!
//! ```text
//! offset  size  field
//! 0       8     magic  b"RELATA\0S"
//! 8       4     format version (u32 LE): 2, or 1 (still read)
//! 12      8     schema fingerprint (u64 LE, `checksum` of the schema description)
//! 20      4     length of the description block (u32 LE)
//! 24      8     length of the payload (u64 LE)
//! 32      8     checksum of the payload (u64 LE)
//! 40      n     description block (bincode): the schema description and record counts
//! 40+n    m     payload (bincode): per table, its slots, text and counters; per relation,
//!               its pairs and counter
//! ```

use serde::{Deserialize, Serialize};

use crate::entity::{EntityDef, OnDelete};
use crate::schema::Schema;
use crate::snapshot::SnapshotError;
use crate::value::SqlType;

pub(crate) const MAGIC: [u8; 8] = *b"RELATA\0S";
/// The format this build writes.
pub(crate) const VERSION: u32 = 2;
/// The oldest format this build reads (format 1 has only the serde table form).
pub(crate) const OLDEST_READ: u32 = 1;
pub(crate) const HEADER_LEN: usize = 40;
/// The description block is small (names and counts); anything larger is corrupt.
pub(crate) const MAX_DESCRIPTION: usize = 16 << 20;

/// The bincode configuration of every snapshot part.
pub(crate) fn config() -> bincode::config::Configuration {
    bincode::config::standard()
}

/// A stable 64-bit checksum (four multiply-rotate lanes over little-endian words). Ours, so
/// that golden files keep loading whatever hash crates do; any single bit flip changes it.
pub(crate) fn checksum(bytes: &[u8]) -> u64 {
    let mut sum = Checksum::new();
    sum.update(bytes);
    sum.finish()
}

/// [`checksum`] fed in pieces: updates with consecutive slices give what it gives over their
/// concatenation, so a load can hash each piece of text while it is in the cache for copying.
#[derive(Clone, Debug)]
pub(crate) struct Checksum {
    lanes: [u64; 4],
    /// The start of a 32-byte block that the next update completes.
    pending: [u8; 32],
    pending_len: usize,
    len: u64,
}

const LANE_SEEDS: [u64; 4] = [
    0x243F_6A88_85A3_08D3,
    0x1319_8A2E_0370_7344,
    0xA409_3822_299F_31D0,
    0x082E_FA98_EC4E_6C89,
];

fn mix(lane: u64, word: u64) -> u64 {
    (lane ^ word).wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(29)
}

/// Mixes whole 32-byte blocks of `bytes` into `lanes`; returns the bytes after the last one.
fn absorb<'b>(lanes: &mut [u64; 4], bytes: &'b [u8]) -> &'b [u8] {
    let mut local = *lanes; // in registers for the loop
    let mut blocks = bytes.chunks_exact(32);
    for block in &mut blocks {
        for (lane, word) in local.iter_mut().zip(block.chunks_exact(8)) {
            *lane = mix(*lane, u64::from_le_bytes(word.try_into().unwrap_or_default()));
        }
    }
    *lanes = local;
    blocks.remainder()
}

impl Checksum {
    pub(crate) fn new() -> Checksum {
        Checksum {
            lanes: LANE_SEEDS,
            pending: [0; 32],
            pending_len: 0,
            len: 0,
        }
    }

    /// Hashes `bytes` after everything hashed so far. O(bytes).
    pub(crate) fn update(&mut self, mut bytes: &[u8]) {
        self.len += bytes.len() as u64;
        if self.pending_len > 0 {
            let take = (32 - self.pending_len).min(bytes.len());
            self.pending[self.pending_len..self.pending_len + take].copy_from_slice(&bytes[..take]);
            self.pending_len += take;
            bytes = &bytes[take..];
            if self.pending_len < 32 {
                return;
            }
            let block = self.pending;
            absorb(&mut self.lanes, &block);
            self.pending_len = 0;
        }
        let rest = absorb(&mut self.lanes, bytes);
        self.pending[..rest.len()].copy_from_slice(rest);
        self.pending_len = rest.len();
    }

    /// How many bytes were hashed.
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// The checksum of everything hashed: the last block zero-padded (an empty one too), then
    /// the lanes folded with the length.
    pub(crate) fn finish(mut self) -> u64 {
        let mut tail = [0u8; 32];
        tail[..self.pending_len].copy_from_slice(&self.pending[..self.pending_len]);
        absorb(&mut self.lanes, &tail);
        let folded = self.lanes.iter().fold(self.len, |acc, &l| mix(acc, l));
        mix(folded, folded >> 31)
    }
}

/// The fixed-size header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Header {
    pub(crate) version: u32,
    pub(crate) fingerprint: u64,
    pub(crate) description_len: u32,
    pub(crate) payload_len: u64,
    pub(crate) payload_checksum: u64,
}

impl Header {
    pub(crate) fn encode(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        out[0..8].copy_from_slice(&MAGIC);
        out[8..12].copy_from_slice(&self.version.to_le_bytes());
        out[12..20].copy_from_slice(&self.fingerprint.to_le_bytes());
        out[20..24].copy_from_slice(&self.description_len.to_le_bytes());
        out[24..32].copy_from_slice(&self.payload_len.to_le_bytes());
        out[32..40].copy_from_slice(&self.payload_checksum.to_le_bytes());
        out
    }

    pub(crate) fn decode(bytes: &[u8]) -> Result<Header, SnapshotError> {
        if bytes.len() < 8 || bytes[0..8] != MAGIC {
            return Err(SnapshotError::BadMagic);
        }
        let field = |at: usize, n: usize| -> Result<&[u8], SnapshotError> {
            bytes
                .get(at..at + n)
                .ok_or(SnapshotError::Truncated { what: "header" })
        };
        let u32_at = |at| field(at, 4).map(|b| u32::from_le_bytes(b.try_into().unwrap_or_default()));
        let u64_at = |at| field(at, 8).map(|b| u64::from_le_bytes(b.try_into().unwrap_or_default()));
        let version = u32_at(8)?;
        if !(OLDEST_READ..=VERSION).contains(&version) {
            return Err(SnapshotError::UnsupportedVersion {
                found: version,
                supported: VERSION,
            });
        }
        Ok(Header {
            version,
            fingerprint: u64_at(12)?,
            description_len: u32_at(20)?,
            payload_len: u64_at(24)?,
            payload_checksum: u64_at(32)?,
        })
    }
}

/// The description block: what the snapshot's schema was, and how many records it holds.
/// Strings are borrowed from the input when decoding: an owned `String` would be allocated
/// at its announced length before the input is checked to hold it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Description<'a> {
    #[serde(borrow)]
    pub(crate) schema: SchemaDesc<'a>,
    pub(crate) counts: Vec<u64>,
    pub(crate) links: Vec<u64>,
}

/// Everything about a schema a snapshot depends on, by name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SchemaDesc<'a> {
    #[serde(borrow)]
    pub(crate) entities: Vec<EntityDesc<'a>>,
    #[serde(borrow)]
    pub(crate) relations: Vec<RelationDesc<'a>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct EntityDesc<'a> {
    pub(crate) type_name: &'a str,
    pub(crate) table: &'a str,
    /// (name, column, SQL type, nullable)
    #[serde(borrow)]
    pub(crate) fields: Vec<(&'a str, &'a str, u8, bool)>,
    /// (name, field positions, deferrable)
    #[serde(borrow)]
    pub(crate) uniques: Vec<(&'a str, Vec<u16>, bool)>,
    #[serde(borrow)]
    pub(crate) indexes: Vec<(&'a str, Vec<u16>)>,
    #[serde(borrow)]
    pub(crate) fks: Vec<FkDesc<'a>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct FkDesc<'a> {
    pub(crate) field: u16,
    pub(crate) target: &'a str,
    pub(crate) back: &'a str,
    /// on_delete, orphan, acyclic, deferrable, unique, nullable
    pub(crate) flags: (u8, bool, bool, bool, bool, bool),
    pub(crate) order_by: Option<u16>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RelationDesc<'a> {
    pub(crate) name: &'a str,
    pub(crate) left: &'a str,
    pub(crate) right: &'a str,
    #[serde(borrow)]
    pub(crate) backs: (&'a str, &'a str),
    #[serde(borrow)]
    pub(crate) columns: (&'a str, &'a str),
}

fn sql_code(t: SqlType) -> u8 {
    match t {
        SqlType::Integer => 1,
        SqlType::Real => 2,
        SqlType::Text => 3,
        SqlType::Blob => 4,
    }
}

fn delete_code(d: OnDelete) -> u8 {
    match d {
        OnDelete::Restrict => 1,
        OnDelete::Cascade => 2,
        OnDelete::SetNull => 3,
    }
}

fn describe_entity(def: &'static EntityDef) -> EntityDesc<'static> {
    EntityDesc {
        type_name: def.type_name,
        table: def.table,
        fields: def
            .fields
            .iter()
            .map(|f| (f.name, f.column, sql_code(f.sql_type), f.nullable))
            .collect(),
        uniques: def
            .uniques
            .iter()
            .map(|u| (u.name, u.fields.to_vec(), u.deferrable))
            .collect(),
        indexes: def.indexes.iter().map(|x| (x.name, x.fields.to_vec())).collect(),
        fks: def
            .fks
            .iter()
            .map(|fk| FkDesc {
                field: fk.field,
                target: (fk.target)().table,
                back: fk.back,
                flags: (
                    delete_code(fk.on_delete),
                    fk.orphan,
                    fk.acyclic,
                    fk.deferrable,
                    fk.unique,
                    fk.nullable,
                ),
                order_by: fk.order_by,
            })
            .collect(),
    }
}

impl SchemaDesc<'_> {
    pub(crate) fn of(schema: &Schema) -> SchemaDesc<'static> {
        let tables = &schema.inner.tables;
        SchemaDesc {
            entities: tables.iter().map(|t| describe_entity(t.def)).collect(),
            relations: schema
                .inner
                .relations
                .iter()
                .map(|r| RelationDesc {
                    name: r.name,
                    left: tables[r.left].def.table,
                    right: tables[r.right].def.table,
                    backs: (r.left_back, r.right_back),
                    columns: (r.left_column, r.right_column),
                })
                .collect(),
        }
    }

    /// The first difference between the snapshot's schema (`self`) and the store's, in words.
    pub(crate) fn difference(&self, current: &SchemaDesc<'_>) -> Option<String> {
        for (i, theirs) in self.entities.iter().enumerate() {
            let Some(ours) = current.entities.iter().find(|e| e.table == theirs.table) else {
                return Some(format!(
                    "table {} is in the snapshot but not in the schema",
                    theirs.table
                ));
            };
            if current.entities.iter().position(|e| e.table == theirs.table) != Some(i) {
                return Some(format!(
                    "table {} is registered in a different position",
                    theirs.table
                ));
            }
            if let Some(d) = entity_difference(theirs, ours) {
                return Some(format!("table {}: {d}", theirs.table));
            }
        }
        if let Some(extra) = current
            .entities
            .iter()
            .find(|e| !self.entities.iter().any(|t| t.table == e.table))
        {
            return Some(format!(
                "table {} is in the schema but not in the snapshot",
                extra.table
            ));
        }
        if self.relations != current.relations {
            return Some(format!(
                "many-to-many relations differ: snapshot {:?}, schema {:?}",
                self.relations.iter().map(|r| &r.name).collect::<Vec<_>>(),
                current.relations.iter().map(|r| &r.name).collect::<Vec<_>>()
            ));
        }
        None
    }
}

fn entity_difference(theirs: &EntityDesc<'_>, ours: &EntityDesc<'_>) -> Option<String> {
    for (i, f) in theirs.fields.iter().enumerate() {
        match ours.fields.get(i) {
            None => return Some(format!("field {} is in the snapshot but not in the schema", f.0)),
            Some(o) if o != f => {
                return Some(format!(
                    "field {} is {:?} in the snapshot, {:?} in the schema",
                    f.0, f, o
                ))
            }
            _ => {}
        }
    }
    if let Some(extra) = ours.fields.get(theirs.fields.len()) {
        return Some(format!(
            "field {} is in the schema but not in the snapshot",
            extra.0
        ));
    }
    if theirs.uniques != ours.uniques {
        return Some("unique constraints differ".into());
    }
    if theirs.indexes != ours.indexes {
        return Some("indexes differ".into());
    }
    if theirs.fks != ours.fks {
        return Some("foreign keys differ".into());
    }
    (theirs.type_name != ours.type_name).then(|| {
        format!(
            "type name {} in the snapshot, {} in the schema",
            theirs.type_name, ours.type_name
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checksum_fed_in_pieces_equals_the_one_shot_checksum() {
        let bytes: Vec<u8> = (0..300u32).map(|i| (i * 37 % 251) as u8).collect();
        for len in [0, 1, 31, 32, 33, 64, 95, 300] {
            let whole = checksum(&bytes[..len]);
            for cut in 0..=len {
                for cut2 in cut..=len.min(cut + 40) {
                    let mut sum = Checksum::new();
                    sum.update(&bytes[..cut]);
                    sum.update(&bytes[cut..cut2]);
                    sum.update(&bytes[cut2..len]);
                    assert_eq!(sum.len(), len as u64);
                    assert_eq!(sum.finish(), whole, "len {len}, cuts {cut} {cut2}");
                }
            }
        }
    }

    #[test]
    fn the_checksum_is_pinned() {
        // Golden files depend on it: this value must never change within a format version.
        assert_eq!(checksum(b""), checksum(&[]));
        assert_ne!(checksum(b"a"), checksum(b"b"));
        assert_eq!(checksum(b"relata snapshot checksum, pinned"), PINNED);
    }

    /// Computed with the one-shot implementation of format 2 (before `Checksum` existed).
    const PINNED: u64 = 0xfead_25af_0d2c_7eeb;
}
