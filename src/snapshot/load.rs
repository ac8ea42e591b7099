//! Loading a snapshot, one step per function, in the order `from_snapshot` calls them: the
//! header and body, the checksum, the description against the schema, each table from its
//! parts (validated, indexes rebuilt), the foreign keys and children lists, the relations,
//! and the `acyclic` relationships. Each step's failure is a typed [`SnapshotError`].

use std::io::Read;
use std::path::Path;

use super::format::{self, Description, Header, SchemaDesc, HEADER_LEN};
use super::{fs, RelationParts, SnapshotError};
use crate::schema::Schema;
use crate::store::table::parts::take;
use crate::store::table::KeyState;
use crate::store::Store;

impl Store {
    /// Loads a store from snapshot bytes saved with the same schema, under the
    /// [`Engine`](crate::Engine) profile the saved store had (a snapshot written before
    /// snapshots carried it loads under `Engine::Sqlite`). Its manual clock starts at the
    /// latest `created_at` / `updated_at` value in the data, if later than 2000-01-01 (see
    /// [`Clock`](crate::Clock)).
    ///
    /// Safe on untrusted input: any bytes give `Ok` or a typed error, never a panic, and
    /// allocations stay proportional to the input's size. Cost: O(bytes + records), with every
    /// index rebuilt and every invariant validated (`docs/SNAPSHOT.md`).
    ///
    /// # Errors
    /// A [`SnapshotError`] naming what is wrong: the magic, version, checksum, schema (which
    /// table and field differ), a truncated or undecodable part, or a violated constraint.
    ///
    /// ```
    /// # use relata::{Entity, Schema, SnapshotError, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct User { name: String }
    /// let schema = Schema::builder().entity::<User>().build()?;
    /// let err = Store::from_snapshot(schema, b"not a snapshot").unwrap_err();
    /// assert_eq!(err, SnapshotError::BadMagic);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_snapshot(schema: Schema, bytes: &[u8]) -> Result<Store, SnapshotError> {
        let (version, body) = checked_body(bytes)?;
        let (description, mut at) = decode_description(body)?;
        if let Some(detail) = description.schema.difference(&SchemaDesc::of(&schema)) {
            return Err(SnapshotError::SchemaMismatch { detail });
        }
        let mut store = Store::new(schema);
        at += store.decode_tables(&body[at..], &description.counts, version)?;
        store.link_children()?;
        at += store.decode_relations(&body[at..], &description.links)?;
        store.engine = format::engine_of_trailer(body.get(at..).unwrap_or_default())?;
        for table in &store.tables {
            table.check_values(store.engine)?;
        }
        store.check_acyclic().map_err(SnapshotError::Integrity)?;
        store.clock_to_latest_stamp();
        Ok(store)
    }

    /// Loads a store from a reader (read to its end). O(bytes + records) plus the reads, as
    /// [`from_snapshot`](Self::from_snapshot).
    ///
    /// ```
    /// # use relata::{Entity, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct User { name: String }
    /// let schema = Schema::builder().entity::<User>().build()?;
    /// let mut store = Store::new(schema.clone());
    /// let ada = store.insert(User { name: "ada".into() })?;
    /// let mut bytes = Vec::new();
    /// store.save_to_writer(&mut bytes)?;
    /// let loaded = Store::load_from_reader(schema, bytes.as_slice())?;
    /// assert_eq!(loaded.get(ada).unwrap().name, "ada");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`SnapshotError::Io`] from the reader, or as [`from_snapshot`](Self::from_snapshot).
    pub fn load_from_reader(schema: Schema, mut reader: impl Read) -> Result<Store, SnapshotError> {
        let mut bytes = Vec::new();
        reader
            .read_to_end(&mut bytes)
            .map_err(|e| fs::io_error("read", &e))?;
        Store::from_snapshot(schema, &bytes)
    }

    /// Loads a store from a file written by [`save_to_path`](Self::save_to_path).
    /// O(bytes + records) plus the read, as [`from_snapshot`](Self::from_snapshot). Example at
    /// [`save_to_path`](Self::save_to_path).
    ///
    /// # Errors
    /// [`SnapshotError::Io`], or as [`from_snapshot`](Self::from_snapshot).
    pub fn load_from_path(schema: Schema, path: impl AsRef<Path>) -> Result<Store, SnapshotError> {
        let bytes = std::fs::read(path).map_err(|e| fs::io_error("read", &e))?;
        Store::from_snapshot(schema, &bytes)
    }

    /// Each table from its parts in format `version`, in schema order, checked against the
    /// description's record counts; returns the bytes they took.
    fn decode_tables(&mut self, bytes: &[u8], counts: &[u64], version: u32) -> Result<usize, SnapshotError> {
        if counts.len() != self.tables.len() {
            return Err(bad("description", "wrong number of tables".into()));
        }
        let mut at = 0;
        for (table, &expected) in self.tables.iter_mut().zip(counts) {
            at += table.decode_parts(bytes.get(at..).unwrap_or_default(), version)?;
            counted(table.def().table, expected, table.len())?;
        }
        Ok(at)
    }

    /// Validates every foreign key (the first dangling record in table and slot order is
    /// reported), then fills every children list.
    fn link_children(&mut self) -> Result<(), SnapshotError> {
        let targets = &self.schema.inner.tables;
        let counts = (self.tables.iter().zip(targets))
            .map(|(table, entry)| table.count_children(&entry.fk_targets, &self.tables))
            .collect::<Result<Vec<_>, _>>()?;
        for (table, counts) in self.tables.iter_mut().zip(counts) {
            table.fill_children(counts)?;
        }
        Ok(())
    }

    /// Each relation's pairs, checked against the description's link counts; returns the bytes
    /// they took.
    fn decode_relations(&mut self, bytes: &[u8], links: &[u64]) -> Result<usize, SnapshotError> {
        if links.len() != self.relations.len() {
            return Err(bad("description", "wrong number of relations".into()));
        }
        let mut at = 0;
        for (r, &expected) in links.iter().enumerate() {
            let name = self.schema.inner.relations[r].name;
            let part = take(bytes, &mut at).map_err(|e| bad(name, e.to_string()))?;
            self.load_pairs(r, part)?;
            counted(name, expected, self.relations[r].len())?;
        }
        Ok(at)
    }

    /// Inserts relation `r`'s pairs: each joins two live records, once, with a link number
    /// below the counter and above the pair before (saved in link order, each number used
    /// once: anything else would order the adjacency lists ambiguously).
    fn load_pairs(&mut self, r: usize, part: RelationParts) -> Result<(), SnapshotError> {
        let entry = &self.schema.inner.relations[r];
        let (name, left_t, right_t) = (entry.name, entry.left, entry.right);
        self.relations[r].set_counter(part.next_seq);
        let mut previous = None;
        for (seq, left, right) in part.pairs {
            let bad = |problem| SnapshotError::BadLink {
                relation: name,
                left,
                right,
                problem,
            };
            let live = |t: usize, k| self.tables[t].state(k) == KeyState::Live;
            if !live(left_t, left) || !live(right_t, right) {
                return Err(bad("missing end"));
            }
            if self.relations[r].contains(left, right) {
                return Err(bad("duplicate"));
            }
            if seq >= part.next_seq {
                return Err(bad("link number beyond its counter"));
            }
            if previous.is_some_and(|p| p >= seq) {
                return Err(bad("link number repeated or out of order"));
            }
            previous = Some(seq);
            self.relations[r].insert(left, right, seq);
        }
        Ok(())
    }
}

/// The format version and the body behind the header, once its length and checksum are checked.
pub(super) fn checked_body(bytes: &[u8]) -> Result<(u32, &[u8]), SnapshotError> {
    let header = Header::decode(bytes)?;
    let body = bytes.get(HEADER_LEN..).unwrap_or_default();
    let extra = (body.len() as u64).checked_sub(header.body_len);
    let extra = extra.ok_or(SnapshotError::Truncated { what: "body" })? as usize;
    if extra != 0 {
        return Err(SnapshotError::TrailingBytes { extra });
    }
    let found = format::checksum(body);
    if found != header.checksum {
        return Err(SnapshotError::ChecksumMismatch {
            expected: header.checksum,
            found,
        });
    }
    Ok((header.version, body))
}

/// The description at the start of the body, and its length.
pub(super) fn decode_description(body: &[u8]) -> Result<(Description<'_>, usize), SnapshotError> {
    let mut at = 0;
    let description = take(body, &mut at).map_err(|e| bad("description", e.to_string()))?;
    Ok((description, at))
}

/// Refuses a table or relation holding other than the records or links its description
/// announces.
fn counted(table: &'static str, expected: u64, found: usize) -> Result<(), SnapshotError> {
    let found = found as u64;
    (found == expected)
        .then_some(())
        .ok_or(SnapshotError::CountMismatch {
            table,
            expected,
            found,
        })
}

fn bad(part: &'static str, detail: String) -> SnapshotError {
    SnapshotError::Decode { part, detail }
}
