//! Loading a snapshot: the header and lengths checked, the tables' parts decoded on the main
//! thread while a second thread copies the large text blocks and computes the checksum
//! (`text_copy.rs`), then the derived state rebuilt by jobs on both threads, and the
//! relations' parts decoded. Every failure is a typed [`SnapshotError`], reported in a fixed
//! order (`docs/SNAPSHOT.md`).

use std::io::Read;
use std::path::Path;

use serde::Deserialize;

use super::format::{self, Description, Header, SchemaDesc, HEADER_LEN, MAX_DESCRIPTION};
use super::text_copy::{Heap, TextCopies};
use super::{fingerprint, fs, SnapshotError};
use crate::key::RawKey;
use crate::par;
use crate::schema::Schema;
use crate::store::erased::AnyTable;
use crate::store::table::io::LiveKeys;
use crate::store::table::tally::{ParentSlots, Tallies};
use crate::store::Store;

#[derive(Deserialize)]
struct RelationIn {
    pairs: Vec<(u32, RawKey, RawKey)>,
    next_seq: u32,
}

impl Store {
    /// Loads a store from snapshot bytes saved with the same schema.
    ///
    /// Safe on untrusted input: any bytes give `Ok` or a typed error, never a panic, and
    /// allocations stay proportional to the input's size. Cost: O(bytes + records), with every
    /// index rebuilt and every invariant validated; from 1 MiB on, a second thread computes
    /// the checksum and shares the text copying and the index rebuild (see `docs/SNAPSHOT.md`).
    ///
    /// # Errors
    /// A [`SnapshotError`] naming what is wrong: the magic, version, checksum, schema (which
    /// table and field differ), a truncated or undecodable part, or a violated constraint.
    pub fn from_snapshot(schema: Schema, bytes: &[u8]) -> Result<Store, SnapshotError> {
        let header = Header::decode(bytes)?;
        let body = body_of(&header, bytes)?;
        let description_len = header.description_len as usize;
        // The checksum runs beside the decoding (on a second thread for a large snapshot, which
        // also copies text blocks, hashing them on the way; see `text_copy.rs`); decoding is
        // safe on damaged bytes, and a mismatch wins over whatever it found.
        let parallel = body.len() >= par::PARALLEL_BYTES;
        let copies = TextCopies::new(parallel, body, format::chunk_len(header.version));
        let ((sums, fronts), (decoded, backs)) = par::join(
            parallel,
            || copies.copy_front(),
            || {
                let _close = copies.closer();
                let decoded = Store::decode_body(schema, &header, body, description_len, &copies);
                let backs = decoded
                    .as_ref()
                    .ok()
                    .map(|d| copies.copy_back(|block, goal| d.field_start(block, goal)));
                (decoded, backs)
            },
        );
        let backs = backs.unwrap_or_default();
        let found = backs.checksum(sums, body);
        if found != header.payload_checksum {
            return Err(SnapshotError::ChecksumMismatch {
                expected: header.payload_checksum,
                found,
            });
        }
        let heaps = copies.heaps(fronts, backs);
        let (mut store, parts, links) = Decoded::with_text(decoded, heaps)?;
        store.finish_load(&body[description_len..], parts, &links)?;
        debug_assert_eq!(store.check_integrity(), Ok(()));
        Ok(store)
    }

    /// Everything after the header up to the records' end: the description, the schema
    /// check, every table's part (large text blocks posted to `copies`). An error comes with
    /// the table it was found in.
    fn decode_body<'a>(
        schema: Schema,
        header: &Header,
        body: &'a [u8],
        description_len: usize,
        copies: &TextCopies<'a>,
    ) -> Result<Decoded, InTable> {
        let before_tables = |e| (0, e);
        let description = decode_description(&body[..description_len]).map_err(before_tables)?;
        let current = SchemaDesc::of(&schema);
        if let Some(detail) = description.schema.difference(&current) {
            return Err((0, SnapshotError::SchemaMismatch { detail }));
        }
        if header.fingerprint != fingerprint(&current).map_err(before_tables)? {
            let detail = "schema fingerprint differs".into();
            return Err((0, SnapshotError::SchemaMismatch { detail }));
        }
        let mut store = Store::new(schema);
        let payload = &body[description_len..];
        let parts = store.decode_tables(payload, &description, copies)?;
        Ok(Decoded {
            store,
            parts,
            links: description.links,
        })
    }

    /// Loads a store from a reader (read to its end).
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
    ///
    /// # Errors
    /// [`SnapshotError::Io`], or as [`from_snapshot`](Self::from_snapshot).
    pub fn load_from_path(schema: Schema, path: impl AsRef<Path>) -> Result<Store, SnapshotError> {
        let bytes = std::fs::read(path).map_err(|e| fs::io_error("read", &e))?;
        Store::from_snapshot(schema, &bytes)
    }

    /// Decodes every table's part; returns where the relations' parts start, per posted text
    /// block the field starts the decoder recorded, and the children it counted.
    fn decode_tables<'a>(
        &mut self,
        payload: &'a [u8],
        description: &Description<'_>,
        copies: &TextCopies<'a>,
    ) -> Result<Parts, InTable> {
        if description.counts.len() != self.tables.len() || description.links.len() != self.relations.len() {
            let detail = "wrong number of tables".into();
            return Err((
                0,
                SnapshotError::Decode {
                    part: "description",
                    detail,
                },
            ));
        }
        let mut at = 0;
        let (mut field_starts, mut tallies) = (Vec::new(), Vec::new());
        for t in 0..self.tables.len() {
            let parents = self.parent_slots(t);
            let part = payload.get(at..).unwrap_or_default();
            let table = &mut self.tables[t];
            let loaded = table.load(part, copies, (t, &parents)).map_err(|e| (t, e))?;
            at += loaded.used;
            field_starts.extend(loaded.text.map(|(_, starts)| starts));
            tallies.push(loaded.tallies);
            let (expected, found) = (description.counts[t], table.len() as u64);
            if expected != found {
                let table = table.def().table;
                return Err((
                    t,
                    SnapshotError::CountMismatch {
                        table,
                        expected,
                        found,
                    },
                ));
            }
        }
        Ok(Parts {
            at,
            field_starts,
            tallies,
        })
    }

    /// How far the parent slot indexes of each foreign key of table `t` go, as known while
    /// the tables decode in order.
    fn parent_slots(&self, t: usize) -> Vec<ParentSlots> {
        let targets = &self.schema.inner.tables[t].fk_targets;
        let known = |target: usize| match target.cmp(&t) {
            std::cmp::Ordering::Less => ParentSlots::Below(self.tables[target].slot_bound()),
            std::cmp::Ordering::Equal => ParentSlots::Own,
            std::cmp::Ordering::Greater => ParentSlots::Unknown,
        };
        targets.iter().map(|&target| known(target)).collect()
    }

    /// The rest of a load once every table holds its records and text: references validated,
    /// derived state rebuilt (from what the decoder counted), the relations' parts (from
    /// `parts.at` in `payload`) decoded.
    fn finish_load(&mut self, payload: &[u8], parts: Parts, links: &[u64]) -> Result<(), SnapshotError> {
        for table in &self.tables {
            table.check_values()?;
        }
        self.rebuild_derived(parts.tallies)?;
        let mut at = parts.at;
        for (r, &expected) in links.iter().enumerate() {
            at += self.load_relation(r, payload.get(at..).unwrap_or_default(), expected)?;
        }
        if at != payload.len() {
            return Err(SnapshotError::TrailingBytes {
                extra: payload.len() - at,
            });
        }
        self.check_acyclic().map_err(SnapshotError::Integrity)
    }

    /// Checks that the text fields of each table marked in `unchecked` end on char boundaries
    /// (text blocks copied while their records decoded, and not all ASCII), on two threads
    /// for large tables; the first error in table order wins.
    fn check_field_ends(&self, unchecked: &[bool]) -> Result<(), SnapshotError> {
        let mut tables: Vec<&dyn AnyTable> = (self.tables.iter().zip(unchecked))
            .filter(|(_, &unchecked)| unchecked)
            .map(|(t, _)| &**t)
            .collect();
        let results = par::for_each_split(
            &mut tables,
            par::PARALLEL_RECORDS,
            |t| t.len(),
            |t| t.check_field_ends(),
        );
        results.into_iter().collect()
    }

    /// Validates every foreign key and rebuilds every index from the records.
    ///
    /// Each foreign key is validated before anything is sized by it, by the job that builds
    /// its children index; the jobs run on two threads for a large store. Of several errors, a
    /// dangling reference wins, then the first in table and job order, so the report does not
    /// depend on the threads.
    fn rebuild_derived(&mut self, counted: Vec<Vec<Option<Tallies>>>) -> Result<(), SnapshotError> {
        let (mut keys, mut jobs) = (Vec::new(), Vec::new());
        let mut counted = counted.into_iter();
        for (t, table) in self.tables.iter_mut().enumerate() {
            let fk_targets = &self.schema.inner.tables[t].fk_targets;
            let (live, table_jobs) = table.rebuild_jobs(fk_targets, counted.next().unwrap_or_default());
            keys.push(live);
            jobs.extend(table_jobs);
        }
        let live: Vec<&dyn LiveKeys> = keys.iter().map(|k| &**k).collect();
        let results = par::for_each_split(&mut jobs, par::PARALLEL_RECORDS, |j| j.weight, |j| j.run(&live));
        let first = results
            .into_iter()
            .filter_map(Result::err)
            .min_by_key(|e| !matches!(e, SnapshotError::DanglingReference { .. }));
        first.map_or(Ok(()), Err)
    }

    fn load_relation(&mut self, r: usize, bytes: &[u8], expected: u64) -> Result<usize, SnapshotError> {
        let name = self.schema.inner.relations[r].name;
        let (part, used): (RelationIn, usize) = bincode::serde::decode_from_slice(bytes, format::config())
            .map_err(|e| SnapshotError::Decode {
                part: name,
                detail: e.to_string(),
            })?;
        let (left_t, right_t) = (
            self.schema.inner.relations[r].left,
            self.schema.inner.relations[r].right,
        );
        self.relations[r].set_counter(part.next_seq);
        // Saved in link order, each number used once: anything else would order the
        // adjacency lists ambiguously (found by an adversarial run, issue 17).
        let mut previous = None;
        for (seq, left, right) in part.pairs {
            let bad = |problem| SnapshotError::BadLink {
                relation: name,
                left,
                right,
                problem,
            };
            let live = |t: usize, k| self.tables[t].state(k) == crate::store::table::KeyState::Live;
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
        let found = self.relations[r].len() as u64;
        if found != expected {
            return Err(SnapshotError::CountMismatch {
                table: name,
                expected,
                found,
            });
        }
        Ok(used)
    }
}

/// An error, with the number of the table it was found in (0 before the tables).
type InTable = (usize, SnapshotError);

/// What the main thread's decoding leaves for the rest of a load.
struct Decoded {
    store: Store,
    parts: Parts,
    /// Each relation's link count, from the description.
    links: Vec<u64>,
}

/// What decoding the tables' parts found besides the records.
struct Parts {
    /// Where the relations' parts start in the payload.
    at: usize,
    /// Per posted text block, the start of the field crossing each of its goals.
    field_starts: Vec<Vec<usize>>,
    /// Per table and foreign key, the children counted per parent while decoding, if they
    /// were (see `store/table/tally.rs`).
    tallies: Vec<Vec<Option<Tallies>>>,
}

impl Decoded {
    /// Where block `block`'s second chunk starts if cut at its goal number `goal`; 0 (the
    /// whole block in one chunk) if the decoder did not record it.
    fn field_start(&self, block: usize, goal: usize) -> usize {
        self.parts
            .field_starts
            .get(block)
            .and_then(|starts| starts.get(goal))
            .copied()
            .unwrap_or(0)
    }

    /// The decoded store with its copied text installed and field ends checked, what else
    /// the decoding found, and the relations' link counts. The first table with an error reports
    /// it, its text before its records.
    fn with_text(
        decoded: Result<Decoded, InTable>,
        heaps: Vec<(usize, Result<Heap, SnapshotError>)>,
    ) -> Result<(Store, Parts, Vec<u64>), SnapshotError> {
        let failed_at = decoded.as_ref().err().map_or(usize::MAX, |(t, _)| *t);
        if let Some((_, Err(e))) = heaps.iter().find(|(t, heap)| heap.is_err() && *t <= failed_at) {
            return Err(e.clone());
        }
        let Decoded {
            mut store,
            parts,
            links,
        } = decoded.map_err(|(_, e)| e)?;
        let mut unchecked = vec![false; store.tables.len()];
        for (t, heap) in heaps {
            let (heap, ascii) = heap?;
            store.tables[t].set_text(heap);
            unchecked[t] = !ascii;
        }
        store.check_field_ends(&unchecked)?;
        Ok((store, parts, links))
    }
}

/// The body (description and payload) behind `header`, once its announced lengths are
/// checked against the input.
fn body_of<'a>(header: &Header, bytes: &'a [u8]) -> Result<&'a [u8], SnapshotError> {
    let description_len = header.description_len as usize;
    if description_len > MAX_DESCRIPTION {
        return Err(SnapshotError::Decode {
            part: "description",
            detail: "announced length too large".into(),
        });
    }
    let body = bytes.get(HEADER_LEN..).unwrap_or_default();
    let truncated = |what| SnapshotError::Truncated { what };
    let payload_len = usize::try_from(header.payload_len).map_err(|_| truncated("payload"))?;
    let end = description_len
        .checked_add(payload_len)
        .ok_or(truncated("payload"))?;
    if body.len() < end {
        let what = if body.len() < description_len {
            "description"
        } else {
            "payload"
        };
        return Err(truncated(what));
    }
    if body.len() > end {
        return Err(SnapshotError::TrailingBytes {
            extra: body.len() - end,
        });
    }
    Ok(body)
}

fn decode_description(bytes: &[u8]) -> Result<Description<'_>, SnapshotError> {
    let (description, used): (Description<'_>, usize) =
        bincode::serde::borrow_decode_from_slice(bytes, format::config()).map_err(|e| {
            SnapshotError::Decode {
                part: "description",
                detail: e.to_string(),
            }
        })?;
    if used != bytes.len() {
        return Err(SnapshotError::Decode {
            part: "description",
            detail: "unexpected bytes after it".into(),
        });
    }
    Ok(description)
}
