//! Loading a snapshot saved under an earlier schema ([`Store::from_snapshot_evolving`]): the
//! snapshot is rewritten into the form today's schema saves, then loaded by
//! [`Store::from_snapshot`], so every constraint is checked as on any load. Each table of the
//! snapshot is walked once with the snapshot's own description, its fields planned first, and
//! written one record at a time, through one reused buffer, into a buffer of its own; these are
//! joined in the schema's order. Beside the output, what is held is O(fields) a table and the
//! runs of old text the new text keeps (one, unless a text field was dropped or moved or a
//! default has text).

use std::collections::HashSet;
use std::fmt;
use std::ops::Range;

use serde::Deserialize;

use super::format::{
    self, engine_of_trailer, engine_trailer, Description, EntityDesc, FieldDesc, SchemaDesc, HEADER_LEN,
};
use super::load::{checked_body, decode_description};
use super::{encode, seal, RelationParts, SnapshotError};
use crate::column::Stored;
use crate::key::RawKey;
use crate::schema::Schema;
use crate::store::erased::AnyTable;
use crate::store::table::parts::take;
use crate::store::Store;

/// One change an evolving load adapted a snapshot to (see
/// [`Store::from_snapshot_evolving`]). Names from the snapshot that the schema no longer has
/// are owned strings.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Adaptation {
    /// A table of the schema the snapshot lacks: loaded empty.
    TableAdded {
        /// The table.
        table: &'static str,
    },
    /// A table of the snapshot the schema lacks: its records were left out.
    TableDropped {
        /// The table.
        table: String,
        /// How many records were left out.
        records: u64,
    },
    /// A field the snapshot lacks: `None` in every record, or the field's declared
    /// `#[relata(default = ...)]`.
    FieldAdded {
        /// The table.
        table: &'static str,
        /// The field (its Rust name).
        field: &'static str,
    },
    /// A field of the snapshot the schema lacks: its values were left out.
    FieldDropped {
        /// The table.
        table: &'static str,
        /// The field (its Rust name).
        field: String,
    },
    /// A field made `Option<T>` from `T` (each value loaded as `Some`), or `T` from
    /// `Option<T>` (loaded because no record holds `None`): SQL's DROP / SET NOT NULL.
    NullabilityChanged {
        /// The table.
        table: &'static str,
        /// The field (its Rust name).
        field: &'static str,
        /// Whether the field is nullable now.
        nullable: bool,
    },
    /// The Rust type of a table renamed (matched by its table's name).
    TypeRenamed {
        /// The table.
        table: &'static str,
        /// The type's name in the snapshot.
        from: String,
        /// The type's name in the schema.
        to: &'static str,
    },
    /// A many-to-many relation the snapshot lacks: loaded with no links.
    RelationAdded {
        /// The relation.
        relation: &'static str,
    },
    /// A many-to-many relation of the snapshot the schema lacks: its links were left out.
    RelationDropped {
        /// The relation.
        relation: String,
        /// How many links were left out.
        links: u64,
    },
}

impl fmt::Display for Adaptation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Adaptation::TableAdded { table } => write!(f, "table {table} added (empty)"),
            Adaptation::TableDropped { table, records } => {
                write!(f, "table {table} dropped ({records} records left out)")
            }
            Adaptation::FieldAdded { table, field } => {
                write!(f, "field {table}.{field} added (None or its default)")
            }
            Adaptation::FieldDropped { table, field } => write!(f, "field {table}.{field} dropped"),
            Adaptation::NullabilityChanged {
                table,
                field,
                nullable,
            } => {
                let now = [("required", "SET"), ("nullable", "DROP")][usize::from(*nullable)];
                write!(f, "field {table}.{field} now {} ({} NOT NULL)", now.0, now.1)
            }
            Adaptation::TypeRenamed { table, from, to } => {
                write!(f, "table {table}: type {from} renamed {to}")
            }
            Adaptation::RelationAdded { relation } => write!(f, "relation {relation} added (no links)"),
            Adaptation::RelationDropped { relation, links } => {
                write!(f, "relation {relation} dropped ({links} links left out)")
            }
        }
    }
}

impl Store {
    /// Loads a snapshot saved under an earlier version of the schema, adapting it to additive
    /// changes, and reports each adaptation. Tables, fields and relations are matched by name:
    /// a new `Option` field reads as `None`, a new field with `#[relata(default = ...)]` as
    /// that default, a new table or relation loads empty, and a dropped field, table or
    /// relation is left out; a field made `Option<T>` from `T` reads each value as `Some`, and
    /// one made `T` from `Option<T>` loads if no record holds `None`; a renamed Rust type
    /// (same table) is reported. Keys survive: a key to a record of the snapshot still finds it.
    /// Indexes and constraints are today's, checked on every record as any load checks them.
    /// The report covers what a snapshot holds: an empty one means every table, field and
    /// relation loaded as saved, under the same type names (a changed constraint, index,
    /// `max_len` or column name is checked or applied, not reported). With an unchanged schema
    /// this is [`from_snapshot`](Self::from_snapshot) with an empty report.
    ///
    /// Cost: as `from_snapshot` when the schema is unchanged; otherwise the snapshot is first
    /// rewritten for the new schema: O(bytes) time, and a second copy of the snapshot in memory
    /// (briefly a third of its tables while they are joined in the schema's order).
    ///
    /// # Errors
    /// As [`from_snapshot`](Self::from_snapshot), and for a change it does not adapt:
    /// [`SnapshotError::FieldTypeChanged`] (a stored type changed),
    /// [`SnapshotError::NullInRequiredField`] (a field made required, naming a record holding
    /// `None`),
    /// [`SnapshotError::MissingDefault`] (a new required field with no default, naming a
    /// record that needs it), [`SnapshotError::RelationChanged`] (a relation joins other
    /// tables); data that breaks a new constraint fails as on any load
    /// ([`SnapshotError::DuplicateUnique`], [`SnapshotError::DanglingReference`],
    /// [`SnapshotError::Rejected`] for CHECK and `max_len`), naming the table and record.
    ///
    /// ```
    /// # use relata::{Adaptation, Entity, Schema, Store};
    /// mod v1 {
    ///     #[derive(relata::Entity, Clone, Debug, PartialEq)]
    ///     #[relata(table = "users")]
    ///     pub struct User { pub name: String }
    /// }
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// #[relata(table = "users")]
    /// struct User {
    ///     name: String,
    ///     nickname: Option<String>,
    ///     #[relata(default = 100)]
    ///     credits: i64,
    /// }
    /// let mut old = Store::new(Schema::builder().entity::<v1::User>().build()?);
    /// let ada = old.insert(v1::User { name: "ada".into() })?;
    /// let bytes = old.to_snapshot()?;
    ///
    /// let schema = Schema::builder().entity::<User>().build()?;
    /// let (store, adapted) = Store::from_snapshot_evolving(schema, &bytes)?;
    /// let user = store.get(relata::Key::<User>::from_raw(ada.raw())).unwrap();
    /// assert_eq!((user.nickname, user.credits), (None, 100));
    /// assert_eq!(adapted[0], Adaptation::FieldAdded { table: "users", field: "nickname" });
    /// assert_eq!(adapted.len(), 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_snapshot_evolving(
        schema: Schema,
        bytes: &[u8],
    ) -> Result<(Store, Vec<Adaptation>), SnapshotError> {
        let (version, body) = checked_body(bytes)?;
        let (old, at) = decode_description(body)?;
        if old.schema == SchemaDesc::of(&schema) {
            return Ok((Store::from_snapshot(schema, bytes)?, Vec::new()));
        }
        let mut adapted = Vec::new();
        let rewritten = rewrite(&old, (version, &body[at..]), &schema, &mut adapted)?;
        Ok((Store::from_snapshot(schema, &rewritten)?, adapted))
    }
}

/// The snapshot's body (`parts`, behind its description `old`) rewritten for `schema`: the new
/// description, each table of the schema (from the snapshot's, or empty), each relation
/// (copied, or empty), the engine byte. Each table and relation of the snapshot must hold what
/// its description announces. Link numbers are copied as written, so the new body keeps the
/// snapshot's format `version`. Reports the tables, relations and fields added and dropped.
fn rewrite(
    old: &Description<'_>,
    (version, parts): (u32, &[u8]),
    schema: &Schema,
    adapted: &mut Vec<Adaptation>,
) -> Result<Vec<u8>, SnapshotError> {
    let (new, empty) = (SchemaDesc::of(schema), Store::new(schema.clone()));
    let (old_tables, old_relations) = (&old.schema.entities, &old.schema.relations);
    if old.counts.len() != old_tables.len() || old.links.len() != old_relations.len() {
        return Err(bad("the counts do not match the tables and relations".into()));
    }
    named_once("table", old_tables.iter().map(|e| e.table.to_owned()))?;
    named_once("relation", old_relations.iter().map(|r| r.name.to_owned()))?;
    let mut reader = Reader::new(parts);
    // Per table and relation of the schema: its count and parts, if the snapshot has it. A
    // dropped table is walked as one with no fields, into a buffer thrown away.
    let (mut tables, dropped) = (vec![None; new.entities.len()], EntityDesc::default());
    for (desc, &announced) in old_tables.iter().zip(&old.counts) {
        let n = new.entities.iter().position(|e| e.table == desc.table);
        let (ours, sources) = match n {
            Some(n) => (
                &new.entities[n],
                plan_fields(desc, &*empty.tables[n], announced, adapted)?,
            ),
            None => (&dropped, Vec::new()),
        };
        let mut part = Vec::new();
        counted(
            "table",
            desc.table,
            announced,
            reader.table(desc, (ours, &sources), &mut part)?,
        )?;
        match n {
            Some(n) => tables[n] = Some((announced, part)),
            None => adapted.push(Adaptation::TableDropped {
                table: desc.table.to_owned(),
                records: announced,
            }),
        }
    }
    let mut relations = vec![None; new.relations.len()];
    for (desc, &announced) in old_relations.iter().zip(&old.links) {
        let start = reader.at;
        let links = reader.take::<RelationParts>()?.pairs.len();
        counted("relation", desc.name, announced, links as u64)?;
        match new.relations.iter().position(|r| r.name == desc.name) {
            Some(n) if (new.relations[n].left, new.relations[n].right) != (desc.left, desc.right) => {
                return Err(SnapshotError::RelationChanged {
                    relation: schema.inner.relations[n].name,
                    detail: format!(
                        "joins {} and {} in the snapshot, {} and {} in the schema",
                        desc.left, desc.right, new.relations[n].left, new.relations[n].right
                    ),
                })
            }
            Some(n) => relations[n] = Some((announced, &parts[start..reader.at])),
            None => adapted.push(Adaptation::RelationDropped {
                relation: desc.name.to_owned(),
                links: announced,
            }),
        }
    }
    let engine = engine_of_trailer(parts.get(reader.at..).unwrap_or_default())?;
    let description = Description {
        counts: tables.iter().map(|t| t.as_ref().map_or(0, |t| t.0)).collect(),
        links: relations.iter().map(|r| r.map_or(0, |r| r.0)).collect(),
        schema: new,
    };
    let mut out = vec![0u8; HEADER_LEN];
    encode(&description, &mut out)?;
    for (table, empty) in tables.into_iter().zip(&empty.tables) {
        match table {
            Some((_, part)) => out.extend_from_slice(&part),
            None => {
                empty.encode_parts(&mut out)?;
                adapted.push(Adaptation::TableAdded {
                    table: empty.def().table,
                });
            }
        }
    }
    for (relation, entry) in relations.into_iter().zip(&schema.inner.relations) {
        match relation {
            Some((_, bytes)) => out.extend_from_slice(bytes),
            None => {
                encode(&RelationParts::default(), &mut out)?;
                adapted.push(Adaptation::RelationAdded { relation: entry.name });
            }
        }
    }
    out.extend(engine_trailer(engine));
    seal(&mut out, version);
    Ok(out)
}

/// Refuses a snapshot naming a table, field or relation twice: matched by name, all but one
/// would be lost.
fn named_once(what: &'static str, names: impl Iterator<Item = String>) -> Result<(), SnapshotError> {
    let mut seen = HashSet::new();
    match names.into_iter().find(|name| !seen.insert(name.clone())) {
        Some(name) => Err(SnapshotError::NamedTwice { what, name }),
        None => Ok(()),
    }
}

/// Refuses a table or relation holding other than the records or links its description
/// announces (as a strict load does), so a report of what was left out gives counted numbers.
fn counted(what: &str, name: &str, announced: u64, found: u64) -> Result<(), SnapshotError> {
    let detail = || bad(format!("{what} {name} announces {announced} but holds {found}"));
    (announced == found).then_some(()).ok_or_else(detail)
}

/// One record: each field's bytes and the range of the table's text it holds, in field order,
/// then each foreign key's link number. One is reused for every record of a table.
#[derive(Default)]
struct Record<'a> {
    fields: Vec<(&'a [u8], Range<usize>)>,
    seqs: Vec<u32>,
}

/// Where a new field's value comes from.
enum Source {
    /// The snapshot's field at this position, given or stripped its `Some` if its nullability
    /// changed.
    Old(usize),
    /// `None`.
    Null,
    /// The declared default: its bytes as the parts store it, and its text.
    Default(Vec<u8>, String),
    /// None: a new required field with no default, which a record refuses (the last source).
    Missing,
}

/// A run of a table's new text: of the snapshot's text (which follows the records), or a
/// default's text.
enum Run<'s> {
    Old(Range<usize>),
    Default(&'s str),
}

/// The table field `field` of `d` is a key to, if it is one.
fn key_target<'a>(d: &EntityDesc<'a>, field: usize) -> Option<&'a str> {
    d.fks.iter().find(|k| k.field as usize == field).map(|k| k.target)
}

/// The name of foreign key `fk`'s field.
fn fk_name<'a>(d: &EntityDesc<'a>, fk: usize) -> Option<&'a str> {
    let field = d.fks.get(fk)?.field;
    d.fields.get(field as usize).map(|f| f.name)
}

/// Where each field of `table` comes from, refusing, in field order, a changed stored type and
/// a new required field with no default in a table with records (`announced`; planned
/// [`Source::Missing`], the walk names the first record); reports a renamed type and added and
/// dropped fields.
fn plan_fields(
    desc: &EntityDesc<'_>,
    table: &dyn AnyTable,
    announced: u64,
    adapted: &mut Vec<Adaptation>,
) -> Result<Vec<Source>, SnapshotError> {
    let (def, ours) = (table.def(), &format::describe_entity(table.def()));
    named_once(
        "field",
        desc.fields.iter().map(|f| format!("{}.{}", desc.table, f.name)),
    )?;
    if desc.type_name != def.type_name {
        let (table, from, to) = (def.table, desc.type_name.to_owned(), def.type_name);
        adapted.push(Adaptation::TypeRenamed { table, from, to });
    }
    let mut sources = Vec::with_capacity(ours.fields.len());
    for ((f, field), default) in ours.fields.iter().enumerate().zip(defaults(table, ours)?) {
        let name = def.fields[f].name;
        let Some(i) = desc.fields.iter().position(|o| o.name == field.name) else {
            adapted.push(Adaptation::FieldAdded {
                table: def.table,
                field: name,
            });
            sources.push(match (default, field.nullable) {
                (Some(default), _) => default,
                (None, false) if announced > 0 => Source::Missing,
                // No record needs a value for a required field of an empty table.
                (None, _) => Source::Null,
            });
            if let Some(Source::Missing) = sources.last() {
                return Ok(sources);
            }
            continue;
        };
        let theirs = &desc.fields[i];
        let form = |f: &FieldDesc<'_>| (f.stored, f.sql_type);
        // A key to another table is another type: its saved keys would name records there.
        let changed = match (key_target(desc, i), key_target(ours, f)) {
            _ if form(theirs) != form(field) => Some(format::field_change(theirs, field)),
            (Some(was), Some(now)) if was != now => {
                Some(format!("a key to {was} in the snapshot, to {now} in the schema"))
            }
            _ => None,
        };
        if let Some(detail) = changed {
            return Err(SnapshotError::FieldTypeChanged {
                table: def.table,
                field: name,
                detail,
            });
        }
        sources.push(Source::Old(i));
        if theirs.nullable != field.nullable {
            let (table, field, nullable) = (def.table, name, field.nullable);
            adapted.push(Adaptation::NullabilityChanged {
                table,
                field,
                nullable,
            });
        }
    }
    for old in &desc.fields {
        if !ours.fields.iter().any(|f| f.name == old.name) {
            adapted.push(Adaptation::FieldDropped {
                table: def.table,
                field: old.name.to_owned(),
            });
        }
    }
    Ok(sources)
}

/// Each field's declared default ([`Source::Default`]), if it declares one, cut out of the
/// table's record of defaults (`Table::default_row`) by reading it as a record of `ours`.
fn defaults(table: &dyn AnyTable, ours: &EntityDesc<'_>) -> Result<Vec<Option<Source>>, SnapshotError> {
    let row = table.default_row()?;
    let mut record = Record::default();
    Reader::new(&row.bytes).record(ours, &mut record)?;
    let value = |(bytes, text): &(&[u8], Range<usize>)| {
        Source::Default(
            bytes.to_vec(),
            row.text.get(text.clone()).unwrap_or_default().to_owned(),
        )
    };
    Ok((record.fields.iter().zip(&row.declared))
        .map(|(field, &declared)| declared.then(|| value(field)))
        .collect())
}

/// A walk over the parts of a snapshot, one bincode value at a time.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
    /// Where the next text field starts in its table's text.
    text_at: usize,
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader {
            bytes,
            at: 0,
            text_at: 0,
        }
    }

    /// The next value (a string borrowed from the parts).
    fn take<T: Deserialize<'a>>(&mut self) -> Result<T, SnapshotError> {
        take(self.bytes, &mut self.at).map_err(|e| bad(e.to_string()))
    }

    /// Table `desc` of the snapshot, walked once and written to `out` in the form today's table
    /// (described as `ours`) saves, each field from its `sources`; returns how many records it
    /// holds. Read: slotmap's slots (a tag, the record if occupied, the version), then the slot
    /// count, the link counters, the text (exactly its records' text fields), and the id counter
    /// of a table with an `#[relata(id)]` field. Written: every slot with its version (so keys
    /// survive), the kept fields' bytes, new fields' `None` or default, each foreign key's link
    /// numbers and counter by field name, the kept text (held as runs until it is read).
    fn table(
        &mut self,
        desc: &EntityDesc<'_>,
        (ours, sources): (&EntityDesc<'static>, &[Source]),
        out: &mut Vec<u8>,
    ) -> Result<u64, SnapshotError> {
        let old_fk: Vec<Option<usize>> = (0..ours.fks.len())
            .map(|j| (0..desc.fks.len()).find(|&i| fk_name(desc, i) == fk_name(ours, j)))
            .collect();
        let (mut records, mut record, mut runs) = (0, Record::default(), Vec::new());
        self.text_at = 0;
        let slots = self.take::<u64>()?;
        encode(&slots, out)?;
        for index in 0..slots {
            let tag = self.take::<u8>()?;
            match tag {
                0 => {}
                1 => self.record(desc, &mut record)?,
                tag => return Err(bad(format!("table {}: slot tag {tag}", desc.table))),
            }
            let version = self.take::<u32>()?;
            encode(&tag, out)?;
            if tag == 1 {
                records += 1;
                let key = RawKey::new(index as u32, version);
                for (source, field) in sources.iter().zip(&ours.fields) {
                    match source {
                        Source::Old(i) => {
                            let (bytes, span) = &record.fields[*i];
                            // bincode writes `Some(v)` as a 1 byte, then `v`.
                            let value = match (desc.fields[*i].nullable, field.nullable, bytes.split_first())
                            {
                                (true, false, Some((1, value))) => value,
                                // The walk passed only tags 0 and 1.
                                (true, false, _) => {
                                    let (table, field) = (ours.table, field.name);
                                    return Err(SnapshotError::NullInRequiredField { table, field, key });
                                }
                                (false, true, _) => {
                                    out.push(1);
                                    bytes
                                }
                                _ => bytes,
                            };
                            out.extend_from_slice(value);
                            match runs.last_mut() {
                                _ if span.is_empty() => {}
                                Some(Run::Old(run)) if run.end == span.start => run.end = span.end,
                                _ => runs.push(Run::Old(span.clone())),
                            }
                        }
                        Source::Null => out.push(0),
                        Source::Default(bytes, value) => {
                            out.extend_from_slice(bytes);
                            runs.push(Run::Default(value));
                        }
                        Source::Missing => {
                            let (table, field) = (ours.table, field.name);
                            return Err(SnapshotError::MissingDefault { table, field, key });
                        }
                    }
                }
                for i in &old_fk {
                    encode(&i.and_then(|i| record.seqs.get(i).copied()).unwrap_or(0), out)?;
                }
            }
            encode(&version, out)?;
        }
        let (slot_count, next_seq, text): (u32, Vec<u32>, &'a str) = self.take()?;
        if text.len() != self.text_at {
            let (table, held, len) = (desc.table, self.text_at, text.len());
            return Err(bad(format!(
                "table {table}: {len} bytes of text, {held} in its records"
            )));
        }
        let mut kept = String::new();
        for run in runs {
            let split = || bad(format!("table {}: a text field ends inside a char", desc.table));
            kept.push_str(match run {
                Run::Old(span) => text.get(span).ok_or_else(split)?,
                Run::Default(value) => value,
            });
        }
        let next_seq: Vec<u32> = (old_fk.iter())
            .map(|i| i.and_then(|i| next_seq.get(i).copied()).unwrap_or(0))
            .collect();
        encode(&(slot_count, next_seq, kept), out)?;
        let next_id = match desc.fields.iter().any(FieldDesc::is_id) {
            true => self.take()?,
            false => 1u64,
        };
        if ours.fields.iter().any(FieldDesc::is_id) {
            encode(&next_id, out)?;
        }
        Ok(records)
    }

    /// One record as `desc` wrote it, into `record`: each field (see [`field`](Self::field)),
    /// then each link number.
    fn record(&mut self, desc: &EntityDesc<'_>, record: &mut Record<'a>) -> Result<(), SnapshotError> {
        record.fields.clear();
        record.seqs.clear();
        for f in &desc.fields {
            let (bytes, len) = self.field(f)?;
            let start = self.text_at;
            self.text_at = start.saturating_add(len as usize);
            record.fields.push((bytes, start..self.text_at));
        }
        for _ in &desc.fks {
            record.seqs.push(self.take()?);
        }
        Ok(())
    }

    /// One field's bytes, and the length of its text. Only where the field ends is checked
    /// here: the load that follows decodes the rewritten rows as today's types.
    fn field(&mut self, f: &FieldDesc<'_>) -> Result<(&'a [u8], u32), SnapshotError> {
        let start = self.at;
        // bincode's option tag: 0 `None`, 1 `Some` then the value; any other is corrupt (not
        // a `None` that a field made required would refuse as `NullInRequiredField`).
        let null = match f.nullable {
            true => match self.take::<u8>()? {
                0 => true,
                1 => false,
                tag => return Err(bad(format!("field {}: option tag {tag}", f.name))),
            },
            false => false,
        };
        let text_len = match f.stored {
            _ if null => 0,
            Stored::Text => self.take::<u32>()?,
            Stored::Bool | Stored::I8 | Stored::U8 => self.take::<u8>().map(|_| 0)?,
            Stored::F32 => self.take::<f32>().map(|_| 0)?,
            Stored::F64 => self.take::<f64>().map(|_| 0)?,
            Stored::Bytes => self.take::<Vec<u8>>().map(|_| 0)?,
            Stored::Key => self.take::<RawKey>().map(|_| 0)?,
            // Signed ones zigzagged, integers are varints of one layout.
            Stored::I16 | Stored::I32 | Stored::I64 | Stored::U16 | Stored::U32 | Stored::U64 => {
                self.take::<u64>().map(|_| 0)?
            }
        };
        Ok((self.bytes.get(start..self.at).unwrap_or_default(), text_len))
    }
}

fn bad(detail: String) -> SnapshotError {
    SnapshotError::Decode {
        part: "evolving load",
        detail,
    }
}
