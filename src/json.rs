//! JSON export through serde: a whole store or one entity type, for debugging and for
//! comparing with a real database's dump.
//!
//! Shape: `{"users": [{"id": "1v1", "username": "alice", ...}], "user_groups": [...],
//! "relations": {"follows": [["1v1", "2v1"], ...]}}`. Keys are written as strings
//! (`"<index>v<generation>"`), NULL as `null`, numbers and text as themselves (a float NaN or
//! infinity, which JSON has no number for, as the string PostgreSQL's float input takes:
//! `"NaN"`, `"Infinity"`, `"-Infinity"`); tables and
//! records come in schema and slot order, so the output is deterministic. A record of a table
//! with an `#[relata(id)]` field is named by that id instead, a number (`"id": 17`), in its
//! own `"id"` and wherever a key or a relation pair names it, as a database dump names it.

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

use crate::entity::Entity;
use crate::key::RawKey;
use crate::store::table::KeyState;
use crate::store::Store;
use crate::value::{float_word, Value};

impl Serialize for Value<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match *self {
            Value::Null => s.serialize_none(),
            Value::Bool(b) => s.serialize_bool(b),
            Value::Int(i) => s.serialize_i64(i),
            Value::UInt(u) => s.serialize_u64(u),
            // JSON has no number for NaN and the infinities: PostgreSQL's spelling, which the
            // fixture loader reads back.
            Value::Float(f) => match float_word(f) {
                Some(word) => s.serialize_str(word),
                None => s.serialize_f64(f),
            },
            Value::Text(t) | Value::Numeric(t) => s.serialize_str(t),
            Value::Bytes(b) => s.serialize_bytes(b),
            Value::Key(k) => s.collect_str(&k),
        }
    }
}

/// One record: its key, then its columns.
struct RecordJson<'a> {
    store: &'a Store,
    table: usize,
    key: RawKey,
}

impl Serialize for RecordJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let table = &self.store.tables[self.table];
        let def = table.def();
        let mut map = s.serialize_map(Some(def.fields.len() + 1))?;
        map.serialize_entry("id", &self.store.json_key(self.table, self.key))?;
        let targets = &self.store.schema.inner.tables[self.table].fk_targets;
        for (f, field) in def.fields.iter().enumerate() {
            if def.id == Some(f as u16) && field.column == "id" {
                continue; // the record's "id" above
            }
            if let Some(shown) = table.shown_of(self.key, f) {
                map.serialize_entry(field.column, &shown)?;
                continue;
            }
            match table.value_of(self.key, f) {
                Value::Key(k) => match def.fks.iter().position(|fk| fk.field as usize == f) {
                    Some(fk) => map.serialize_entry(field.column, &self.store.json_key(targets[fk], k))?,
                    None => map.serialize_entry(field.column, &Value::Key(k))?,
                },
                value => map.serialize_entry(field.column, &value)?,
            }
        }
        map.end()
    }
}

/// Every record of one table, in slot order.
struct TableJson<'a> {
    store: &'a Store,
    table: usize,
}

impl Serialize for TableJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let keys = self.store.tables[self.table].keys();
        let mut seq = s.serialize_seq(Some(keys.len()))?;
        for key in keys {
            seq.serialize_element(&RecordJson {
                store: self.store,
                table: self.table,
                key,
            })?;
        }
        seq.end()
    }
}

/// Every relation's pairs, in link order.
struct RelationsJson<'a>(&'a Store);

impl Serialize for RelationsJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let store = self.0;
        let mut map = s.serialize_map(Some(store.relations.len()))?;
        for (r, edges) in store.relations.iter().enumerate() {
            let entry = &store.schema.inner.relations[r];
            let pairs: Vec<[Value<'_>; 2]> = edges
                .pairs()
                .into_iter()
                .map(|(_, l, rt)| [store.json_key(entry.left, l), store.json_key(entry.right, rt)])
                .collect();
            map.serialize_entry(store.schema.inner.relations[r].name, &pairs)?;
        }
        map.end()
    }
}

impl Serialize for Store {
    /// The whole store: one array of records per table, then `"relations"` when the schema
    /// has many-to-many relations.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        for t in 0..self.tables.len() {
            map.serialize_entry(
                self.tables[t].def().table,
                &TableJson {
                    store: self,
                    table: t,
                },
            )?;
        }
        if !self.relations.is_empty() {
            map.serialize_entry("relations", &RelationsJson(self))?;
        }
        map.end()
    }
}

impl Store {
    /// How the JSON names record `key` of table `t`: its `#[relata(id)]` (a number) when the
    /// table has one, so ids survive a round trip through [`insert_json`](Self::insert_json);
    /// else its key (`"1v1"`).
    fn json_key(&self, t: usize, key: RawKey) -> Value<'_> {
        let table = &self.tables[t];
        match table.def().id {
            // A deferred foreign key may name a record deleted in the open transaction: it
            // has no id to show, so it is written as its key rather than lost as `null`.
            Some(f) if table.state(key) == KeyState::Live => table.value_of(key, f as usize),
            _ => Value::Key(key),
        }
    }

    /// The whole store as pretty-printed JSON. O(records).
    ///
    /// ```
    /// # use relata::{Entity, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// #[relata(table = "users")]
    /// struct User { name: String, age: Option<i32> }
    /// let mut store = Store::new(Schema::builder().entity::<User>().build()?);
    /// store.insert(User { name: "ada".into(), age: None })?;
    /// let json = store.to_json();
    /// assert!(json.contains(r#""name": "ada""#) && json.contains(r#""age": null"#));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }

    /// One entity type's records as a pretty-printed JSON array (`[]` if `E` is not in the
    /// schema). O(records of `E`).
    ///
    /// ```
    /// # use relata::{Entity, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct User { name: String }
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct Tag { label: String }
    /// let mut store = Store::new(Schema::builder().entity::<User>().build()?);
    /// store.insert(User { name: "ada".into() })?;
    /// assert!(store.table_to_json::<User>().contains(r#""name": "ada""#));
    /// assert_eq!(store.table_to_json::<Tag>(), "[]"); // not in the schema
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn table_to_json<E: Entity>(&self) -> String {
        let Ok(table) = self.table_index::<E>() else {
            return "[]".into();
        };
        serde_json::to_string_pretty(&TableJson { store: self, table }).unwrap_or_else(|e| format!("\"{e}\""))
    }
}
