//! The snapshot container: a fixed header we encode by hand (so it never changes with a
//! dependency), then the bincode payload.
//!
//! ```text
//! offset  size  field
//! 0       8     magic  b"RELATA\0S"
//! 8       4     format version (u32 LE): 3, or 2 or 1 (still read)
//! 12      8     schema fingerprint (u64 LE, `checksum` of the schema description)
//! 20      4     length of the description block (u32 LE)
//! 24      8     length of the payload (u64 LE)
//! 32      8     checksum of the payload (u64 LE; format 3: of its 64 KiB chunks, see
//!               `checksum_of`)
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
pub(crate) const VERSION: u32 = 3;
/// The oldest format this build reads (format 1 has only the serde table form).
pub(crate) const OLDEST_READ: u32 = 3;
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

/// Format 3 checksums its body in chunks of this many bytes (the last one shorter), so that
/// two threads can each hash the part they copy while it is in the cache.
pub(crate) const CHUNK: usize = 64 << 10;

/// The chunk length of format `version`'s body checksum: [`CHUNK`] from format 3 on; before,
/// the whole body was one sequence (`usize::MAX` stands for it).
pub(crate) fn chunk_len(version: u32) -> usize {
    if version >= 3 {
        CHUNK
    } else {
        usize::MAX
    }
}

/// The checksum of a body in format `version`: before format 3 [`checksum`] of the whole;
/// from format 3 on, the chunks' checksums folded with the length ([`ChunkSums`]).
pub(crate) fn checksum_of(version: u32, body: &[u8]) -> u64 {
    checksum_in_chunks(body, chunk_len(version))
}

/// The checksum of `body` cut every `chunk` bytes (`usize::MAX`: [`checksum`] of the whole).
pub(crate) fn checksum_in_chunks(body: &[u8], chunk: usize) -> u64 {
    ChunkSums::new(body.len(), chunk).finish(body) // hashes every chunk nobody recorded
}

/// The checksums of a body's chunks, set in any order by whoever hashed each, then folded in
/// chunk order with the body's length into the format-3 checksum (or, for one chunk of
/// `usize::MAX` bytes, the earlier formats' checksum of the whole).
#[derive(Clone, Debug)]
pub(crate) struct ChunkSums {
    len: usize,
    chunk: usize,
    sums: Vec<Option<u64>>,
}

impl ChunkSums {
    /// Room for the chunks of a `len`-byte body cut every `chunk` bytes (bounded by the
    /// input's size).
    pub(crate) fn new(len: usize, chunk: usize) -> ChunkSums {
        let chunk = chunk.max(1);
        ChunkSums {
            len,
            chunk,
            sums: vec![None; len.div_ceil(chunk)],
        }
    }

    /// Records chunk `i`'s checksum (ignored past the last chunk).
    pub(crate) fn set(&mut self, i: usize, sum: u64) {
        if let Some(slot) = self.sums.get_mut(i) {
            *slot = Some(sum);
        }
    }

    /// Whether chunk `i`'s checksum is recorded.
    #[cfg(test)]
    pub(crate) fn has(&self, i: usize) -> bool {
        self.sums.get(i).is_some_and(Option::is_some)
    }

    /// How many chunks have no checksum recorded.
    #[cfg(test)]
    pub(crate) fn missing(&self) -> usize {
        self.sums.iter().filter(|s| s.is_none()).count()
    }

    /// The checksum of the body, hashing from `body` any chunk nobody recorded (none, unless
    /// a thread stopped early).
    pub(crate) fn finish(mut self, body: &[u8]) -> u64 {
        for (i, sum) in self.sums.iter_mut().enumerate().filter(|(_, s)| s.is_none()) {
            let from = i.saturating_mul(self.chunk);
            let to = from.saturating_add(self.chunk).min(body.len());
            *sum = Some(checksum(body.get(from..to).unwrap_or_default()));
        }
        let mut sums = self.sums.into_iter().flatten();
        if self.chunk == usize::MAX {
            return sums.next().unwrap_or_else(|| checksum(&[]));
        }
        let folded = sums.fold(mix(self.len as u64, LANE_SEEDS[0]), mix);
        mix(folded, folded >> 31)
    }
}

/// Hashes, fed in order from body offset `at`, the whole chunks of a run of the body: a chunk
/// the run starts inside is left to whoever hashes the bytes before it.
#[derive(Clone, Debug)]
pub(crate) struct RunHasher {
    chunk: usize,
    body_len: usize,
    /// The body offset of the next byte.
    at: usize,
    /// The chunk in progress, unless the run started inside it.
    sum: Option<Checksum>,
    /// The whole chunks hashed: number and checksum.
    pub(crate) done: Vec<(usize, u64)>,
}

impl RunHasher {
    pub(crate) fn new(at: usize, chunk: usize, body_len: usize) -> RunHasher {
        let chunk = chunk.max(1);
        RunHasher {
            chunk,
            body_len,
            at,
            sum: (at % chunk == 0).then(Checksum::new),
            done: Vec::new(),
        }
    }

    /// The body offset of the next byte.
    pub(crate) fn at(&self) -> usize {
        self.at
    }

    /// The number of the chunk the next byte is in, if it is that chunk's first byte.
    pub(crate) fn at_chunk_start(&self) -> Option<usize> {
        (self.at % self.chunk == 0).then_some(self.at / self.chunk)
    }

    /// Hashes `bytes`, the next ones of the body.
    pub(crate) fn feed(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            let take = bytes.len().min(self.chunk_end().saturating_sub(self.at));
            if take == 0 {
                return; // past the body's end: not part of it
            }
            if let Some(sum) = &mut self.sum {
                sum.update(&bytes[..take]);
            }
            (self.at, bytes) = (self.at + take, &bytes[take..]);
            self.end_chunk_if_done();
        }
    }

    /// Skips the chunk starting at the next byte (someone else hashes it).
    pub(crate) fn skip_chunk(&mut self) {
        self.at = self.chunk_end();
        self.sum = Some(Checksum::new());
    }

    /// Where the chunk of the next byte ends.
    pub(crate) fn chunk_end(&self) -> usize {
        (self.at / self.chunk + 1)
            .saturating_mul(self.chunk)
            .min(self.body_len)
    }

    fn end_chunk_if_done(&mut self) {
        if self.at % self.chunk == 0 || self.at == self.body_len {
            if let Some(sum) = self.sum.replace(Checksum::new()) {
                self.done.push(((self.at - 1) / self.chunk, sum.finish()));
            }
        }
    }
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
        SqlType::TimestampTz => 5,
        SqlType::Timestamp => 6,
        SqlType::Date => 7,
        SqlType::Uuid => 8,
        SqlType::Numeric => 9,
        SqlType::Json => 10,
        SqlType::Custom { .. } => 11,
    }
}

fn delete_code(d: OnDelete) -> u8 {
    match d {
        OnDelete::NoAction => 1,
        OnDelete::Cascade => 2,
        OnDelete::SetNull => 3,
        OnDelete::Restrict => 4,
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

    #[test]
    fn the_chunked_checksum_is_pinned_and_sees_every_chunk() {
        let bytes: Vec<u8> = (0..3 * CHUNK as u32 + 5).map(|i| (i * 37 % 251) as u8).collect();
        assert_eq!(checksum_of(2, &bytes), checksum(&bytes));
        let v3 = checksum_of(3, &bytes);
        assert_ne!(v3, checksum(&bytes));
        assert_eq!(checksum_of(3, b"relata snapshot checksum, pinned"), PINNED_V3);
        assert_ne!(checksum_of(3, b""), checksum_of(3, b"\0"), "the length counts");
        for at in [0, CHUNK - 1, CHUNK, 3 * CHUNK + 4] {
            let mut flipped = bytes.clone();
            flipped[at] ^= 1;
            assert_ne!(checksum_of(3, &flipped), v3, "a flip at {at}");
        }
        let mut swapped = bytes.clone();
        swapped[..CHUNK].copy_from_slice(&bytes[CHUNK..2 * CHUNK]);
        swapped[CHUNK..2 * CHUNK].copy_from_slice(&bytes[..CHUNK]);
        assert_ne!(checksum_of(3, &swapped), v3, "chunks in order");
    }

    #[test]
    fn chunk_sums_hash_what_nobody_recorded() {
        let body: Vec<u8> = (0..2 * CHUNK as u32 + 1).map(|i| (i % 253) as u8).collect();
        let mut sums = ChunkSums::new(body.len(), CHUNK);
        sums.set(2, checksum(&body[2 * CHUNK..]));
        sums.set(7, 8); // past the end: ignored
        assert_eq!(sums.finish(&body), checksum_of(3, &body));
        assert_eq!(ChunkSums::new(0, CHUNK).finish(&[]), checksum_of(3, b""));
        assert_eq!(ChunkSums::new(0, usize::MAX).finish(&[]), checksum(b""));
    }

    #[test]
    fn runs_fed_in_any_pieces_hash_their_whole_chunks() {
        let body: Vec<u8> = (0..4 * CHUNK as u32 + 9).map(|i| (i * 7 % 249) as u8).collect();
        let whole = |i: usize| checksum(&body[i * CHUNK..((i + 1) * CHUNK).min(body.len())]);
        for (from, to) in [
            (0, body.len()),
            (CHUNK + 3, body.len()),
            (5, 3 * CHUNK),
            (CHUNK, CHUNK + 1),
        ] {
            for step in [1000, CHUNK, 3 * CHUNK - 1] {
                let mut run = RunHasher::new(from, CHUNK, body.len());
                for piece in body[from..to].chunks(step) {
                    run.feed(piece);
                }
                let expected: Vec<(usize, u64)> = (from.div_ceil(CHUNK)..=4)
                    .filter(|&i| ((i + 1) * CHUNK).min(body.len()) <= to)
                    .map(|i| (i, whole(i)))
                    .collect();
                assert_eq!(run.done, expected, "run {from}..{to} fed by {step}");
            }
        }
        let mut skipping = RunHasher::new(0, CHUNK, body.len());
        skipping.skip_chunk();
        assert_eq!((skipping.at(), skipping.at_chunk_start()), (CHUNK, Some(1)));
        skipping.feed(&body[CHUNK..]);
        let skipped: Vec<usize> = skipping.done.iter().map(|&(i, _)| i).collect();
        assert_eq!(skipped, [1, 2, 3, 4]);
        let mut one = RunHasher::new(0, usize::MAX, body.len());
        one.feed(&body[..10]);
        one.feed(&body[10..]);
        assert_eq!(one.done, [(0, checksum(&body))], "one chunk before format 3");
    }

    /// The format-3 checksum of the pinned text, computed when format 3 was introduced.
    const PINNED_V3: u64 = 0x0c6b_62ee_0754_c9f9;
}
