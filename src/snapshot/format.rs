//! The snapshot container (`docs/SNAPSHOT.md`): a fixed header we encode by hand, then one
//! bincode body whose checksum the header carries.
//!
//! ```text
//! offset  size  field
//! 0       8     magic  b"RELATA\0S"
//! 8       4     format version (u32 LE): 5 (4 is read too: it wrote link numbers as they are)
//! 12      8     length n of the body (u64 LE)
//! 20      8     xxh3-64 of the body (u64 LE)
//! 28      n     body (bincode, standard config): the description (schema and counts), then
//!               each table's parts, then each relation's pairs and counter, then, for a
//!               store under a profile other than SQLite's, its engine byte (`ENGINE_TRAILER`)
//! ```
//!
//! Format 5 writes each record's link numbers relative to the ones before
//! (`store/table/links.rs`).

use serde::{Deserialize, Serialize};

use crate::column::Stored;
use crate::engine::Engine;
use crate::entity::{EntityDef, OnDelete};
use crate::error::SnapshotError;
use crate::schema::Schema;
use crate::value::SqlType;

pub(crate) const MAGIC: [u8; 8] = *b"RELATA\0S";
/// The format this build writes; it reads format 4 too.
pub(crate) const VERSION: u32 = 5;
pub(crate) const HEADER_LEN: usize = 28;

/// The byte after the relations naming the store's engine profile; no byte is
/// `Engine::Sqlite`, the default (so a SQLite store's snapshot is as formats 4 and 5 always
/// wrote it, and a format 4 file written before the byte existed loads under SQLite, as it did).
pub(crate) fn engine_trailer(engine: Engine) -> Option<u8> {
    match engine {
        Engine::Sqlite => None,
        Engine::Postgres => Some(1),
    }
}

/// The engine a body's tail names: empty is SQLite; one byte `engine_trailer` writes; anything
/// else is trailing bytes.
pub(crate) fn engine_of_trailer(tail: &[u8]) -> Result<Engine, SnapshotError> {
    match tail {
        [] => Ok(Engine::Sqlite),
        [1] => Ok(Engine::Postgres),
        _ => Err(SnapshotError::TrailingBytes { extra: tail.len() }),
    }
}

/// The checksum of a body: xxh3-64, a fast and well-tested hash, in one pass.
pub(crate) fn checksum(body: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(body)
}

/// What the header says about the body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Header {
    pub(crate) version: u32,
    pub(crate) body_len: u64,
    pub(crate) checksum: u64,
}

impl Header {
    /// The header of `body` in format `version`, encoded.
    pub(crate) fn of(body: &[u8], version: u32) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        out[0..8].copy_from_slice(&MAGIC);
        out[8..12].copy_from_slice(&version.to_le_bytes());
        out[12..20].copy_from_slice(&(body.len() as u64).to_le_bytes());
        out[20..28].copy_from_slice(&checksum(body).to_le_bytes());
        out
    }

    /// The header at the start of `bytes`: the magic, then a version this build reads, 4 or 5
    /// (formats 1 to 3 are refused: `docs/SNAPSHOT.md` says how to migrate them).
    pub(crate) fn decode(bytes: &[u8]) -> Result<Header, SnapshotError> {
        if bytes.get(..8) != Some(&MAGIC[..]) {
            return Err(SnapshotError::BadMagic);
        }
        // The little-endian number in `bytes[range]`.
        let le = |range: std::ops::Range<usize>| -> Result<u64, SnapshotError> {
            let b = bytes
                .get(range)
                .ok_or(SnapshotError::Truncated { what: "header" })?;
            Ok(b.iter().rev().fold(0, |n, &b| n << 8 | u64::from(b)))
        };
        let version = le(8..12)? as u32;
        if !(4..=VERSION).contains(&version) {
            return Err(SnapshotError::UnsupportedVersion {
                found: version,
                supported: VERSION,
            });
        }
        Ok(Header {
            version,
            body_len: le(12..20)?,
            checksum: le(20..28)?,
        })
    }
}

/// The start of the body: what the snapshot's schema was, and how many records and links it
/// holds. Strings are borrowed from the input when decoding (an owned `String` would be
/// allocated at its announced length before the input is checked to hold it).
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

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct EntityDesc<'a> {
    pub(crate) type_name: &'a str,
    pub(crate) table: &'a str,
    #[serde(borrow)]
    pub(crate) fields: Vec<FieldDesc<'a>>,
    /// (name, field positions, deferrable)
    #[serde(borrow)]
    pub(crate) uniques: Vec<(&'a str, Vec<u16>, bool)>,
    #[serde(borrow)]
    pub(crate) indexes: Vec<(&'a str, Vec<u16>)>,
    #[serde(borrow)]
    pub(crate) fks: Vec<FkDesc<'a>>,
}

/// A field: its names, SQL type, nullability and exact stored form (so `i32` and `i64`,
/// `f32` and `f64` differ).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct FieldDesc<'a> {
    pub(crate) name: &'a str,
    pub(crate) column: &'a str,
    pub(crate) sql_type: u8,
    pub(crate) nullable: bool,
    pub(crate) stored: Stored,
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

/// A column's SQL type in the description. The integer widths and booleans share code 1, and
/// both floats code 2, as before they had types of their own: the stored kind tells them apart,
/// and snapshots written then load.
fn sql_code(t: SqlType) -> u8 {
    match t {
        SqlType::Boolean | SqlType::Integer16 | SqlType::Integer32 | SqlType::Integer => 1,
        SqlType::Real32 | SqlType::Real => 2,
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

/// The SQL type code of an `#[relata(id)]` field: a table with one saves its id counter after
/// its parts, so it is described apart from a plain integer.
pub(crate) const ID_CODE: u8 = 12;

impl FieldDesc<'_> {
    /// The store assigns this field (`#[relata(id)]`).
    pub(crate) fn is_id(&self) -> bool {
        self.sql_type == ID_CODE
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

pub(crate) fn describe_entity(def: &'static EntityDef) -> EntityDesc<'static> {
    let field = |f: &'static crate::entity::FieldDef| FieldDesc {
        name: f.name,
        column: f.column,
        sql_type: match def.id.and_then(|id| def.fields.get(id as usize)) {
            Some(id) if id.name == f.name => ID_CODE,
            _ => sql_code(f.sql_type),
        },
        nullable: f.nullable,
        stored: f.stored,
    };
    let fk = |fk: &'static crate::entity::FkDef| FkDesc {
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
    };
    EntityDesc {
        type_name: def.type_name,
        table: def.table,
        fields: def.fields.iter().map(field).collect(),
        uniques: (def.uniques.iter())
            .map(|u| (u.name, u.fields.to_vec(), u.deferrable))
            .collect(),
        indexes: def.indexes.iter().map(|x| (x.name, x.fields.to_vec())).collect(),
        fks: def.fks.iter().map(fk).collect(),
    }
}

impl SchemaDesc<'_> {
    pub(crate) fn of(schema: &Schema) -> SchemaDesc<'static> {
        let tables = &schema.inner.tables;
        let relation = |r: &crate::relation::RelationEntry| RelationDesc {
            name: r.name,
            left: tables[r.left].def.table,
            right: tables[r.right].def.table,
            backs: (r.left_back, r.right_back),
            columns: (r.left_column, r.right_column),
        };
        SchemaDesc {
            entities: tables.iter().map(|t| describe_entity(t.def)).collect(),
            relations: schema.inner.relations.iter().map(relation).collect(),
        }
    }

    /// The first difference between the snapshot's schema (`self`) and the store's, in words.
    pub(crate) fn difference(&self, current: &SchemaDesc<'_>) -> Option<String> {
        for (i, theirs) in self.entities.iter().enumerate() {
            let detail = match current.entities.iter().position(|e| e.table == theirs.table) {
                None => " is in the snapshot but not in the schema".into(),
                Some(p) if p != i => " is registered in a different position".into(),
                Some(p) => match entity_difference(theirs, &current.entities[p]) {
                    Some(d) => format!(": {d}"),
                    None => continue,
                },
            };
            return Some(format!("table {}{detail}", theirs.table));
        }
        if let Some(extra) =
            (current.entities.iter()).find(|e| !self.entities.iter().any(|t| t.table == e.table))
        {
            return Some(format!(
                "table {} is in the schema but not in the snapshot",
                extra.table
            ));
        }
        (self.relations != current.relations).then(|| {
            format!(
                "many-to-many relations differ: snapshot {:?}, schema {:?}",
                self.relations.iter().map(|r| &r.name).collect::<Vec<_>>(),
                current.relations.iter().map(|r| &r.name).collect::<Vec<_>>()
            )
        })
    }
}

fn entity_difference(theirs: &EntityDesc<'_>, ours: &EntityDesc<'_>) -> Option<String> {
    for i in 0..theirs.fields.len().max(ours.fields.len()) {
        let (name, is_in, not_in) = match (theirs.fields.get(i), ours.fields.get(i)) {
            (Some(f), Some(o)) if f != o => return Some(format!("field {}: {}", f.name, field_change(f, o))),
            (Some(f), None) => (f.name, "snapshot", "schema"),
            (None, Some(o)) => (o.name, "schema", "snapshot"),
            _ => continue,
        };
        return Some(format!("field {name} is in the {is_in} but not in the {not_in}"));
    }
    let differing = [
        (theirs.uniques != ours.uniques, "unique constraints differ"),
        (theirs.indexes != ours.indexes, "indexes differ"),
        (theirs.fks != ours.fks, "foreign keys differ"),
    ];
    if let Some((_, what)) = differing.into_iter().find(|d| d.0) {
        return Some(what.into());
    }
    (theirs.type_name != ours.type_name).then(|| {
        format!(
            "type name {} in the snapshot, {} in the schema",
            theirs.type_name, ours.type_name
        )
    })
}

/// How a field differs, in words: its name, column, stored type or nullability.
pub(crate) fn field_change(theirs: &FieldDesc<'_>, ours: &FieldDesc<'_>) -> String {
    let shown = |f: &FieldDesc<'_>| {
        let null = if f.nullable { "nullable " } else { "" };
        format!("{} (column {}, {null}{:?})", f.name, f.column, f.stored)
    };
    format!("{} in the snapshot, {} in the schema", shown(theirs), shown(ours))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_round_trips_and_refuses_other_versions() {
        let bytes = Header::of(b"body!", VERSION);
        let header = Header {
            version: VERSION,
            body_len: 5,
            checksum: checksum(b"body!"),
        };
        assert_eq!(Header::decode(&bytes), Ok(header));
        let mut old = bytes;
        old[8] = 3;
        assert_eq!(
            Header::decode(&old),
            Err(SnapshotError::UnsupportedVersion {
                found: 3,
                supported: 5
            })
        );
        assert_eq!(
            Header::decode(&bytes[..20]),
            Err(SnapshotError::Truncated { what: "header" })
        );
    }
}
