//! JSON fixtures: a store loaded from (or added to from) a JSON document, the inverse of
//! [`Store::to_json`].
//!
//! Shape: `{"users": [{"id": "alice", "username": "alice", ...}], "posts": [{"author_id":
//! "alice", ...}], "relations": {"follows": [["alice", "bob"]]}}`. A record's `"id"` is a
//! symbolic name, unique within its table, that other records' keys use; a key may also name a
//! live record of the target store by its key (`"3v1"`). Fields go by column name (or Rust
//! field name, except `"id"`, which is the record's name: a field `id` kept under another
//! column is read from that column only, unless it is the `#[relata(id)]`, which the record's
//! `"id"` gives); a nullable field may be left out. A float is a number or `"NaN"`,
//! `"Infinity"`, `"-Infinity"` (as `to_json` writes them); a JSON column's value is its document
//! or a string of its text; a UUID is in any form PostgreSQL reads (upper case, braces, no
//! hyphens). Records are inserted in document order (tables
//! in an order where each table follows the tables its keys reference, else schema order) as
//! soon as the records they reference exist, each through the normal write
//! path, so every constraint is checked; a nullable key to a record further down is set once
//! that record exists.

// A fixture error carries the store's error whole (it names everything); loads are rare, so its
// size does not matter.
#![allow(clippy::result_large_err)]

use std::any::TypeId;
use std::collections::HashMap;

use serde_json::{Map, Value as Json};

use crate::column::{JsonBad, JsonCx};
use crate::entity::{Entity, EntityDef};
use crate::error::Error;
use crate::key::{Key, RawKey};
use crate::schema::Schema;
use crate::store::table::KeyState;
use crate::store::Store;

/// Why a JSON fixture could not be loaded. Each names the JSON path of the offending record
/// or field (`users[3].email`); the store is as it was before the load.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum FixtureError {
    /// Not JSON, or not the fixture's shape (an object of arrays of objects).
    #[error("{path}: malformed fixture: {message}")]
    Malformed {
        /// Where (`$` for the whole document).
        path: String,
        /// What is wrong, with the line and column for a JSON syntax error.
        message: String,
    },
    /// A top-level key that is no table of the schema (nor `"relations"`).
    #[error("{path}: unknown table {table:?}")]
    UnknownTable {
        /// The JSON path.
        path: String,
        /// The key.
        table: String,
    },
    /// A relation name that is no many-to-many relation of the schema.
    #[error("{path}: unknown relation {relation:?}")]
    UnknownRelation {
        /// The JSON path.
        path: String,
        /// The name.
        relation: String,
    },
    /// A record key that is no column (nor field name) of its table.
    #[error("{path}: unknown field {field:?} of {table}")]
    UnknownField {
        /// The JSON path of the record.
        path: String,
        /// The table.
        table: &'static str,
        /// The key.
        field: String,
    },
    /// A NOT NULL field left out.
    #[error("{path}: NOT NULL constraint failed: {table}.{column} is missing")]
    MissingField {
        /// The JSON path of the field.
        path: String,
        /// The table.
        table: &'static str,
        /// The column.
        column: &'static str,
    },
    /// A NOT NULL field given as `null`.
    #[error("{path}: NOT NULL constraint failed: {table}.{column} is null")]
    NullField {
        /// The JSON path of the field.
        path: String,
        /// The table.
        table: &'static str,
        /// The column.
        column: &'static str,
    },
    /// A value that is not of its field's type.
    #[error("{path}: expected {expected}, found {found}")]
    BadValue {
        /// The JSON path of the field.
        path: String,
        /// What the field takes.
        expected: String,
        /// The JSON found (shortened).
        found: String,
    },
    /// Two records of one table with one id.
    #[error("{path}: duplicate id {id:?} (already the id of {first})")]
    DuplicateId {
        /// The JSON path of the second record.
        path: String,
        /// The id.
        id: String,
        /// The JSON path of the first.
        first: String,
    },
    /// A reference to an id no record of the target table has (and no live key of the store).
    #[error("{path}: dangling reference: no record of {table} has id {id:?}")]
    DanglingReference {
        /// The JSON path of the field.
        path: String,
        /// The referenced table.
        table: &'static str,
        /// The id.
        id: String,
    },
    /// Records whose required keys reference each other in a cycle: none can be inserted
    /// first.
    #[error(
        "{path}: reference cycle: {id:?} of {table} can only be inserted after this record, which needs it"
    )]
    ReferenceCycle {
        /// The JSON path of the field.
        path: String,
        /// The referenced table.
        table: &'static str,
        /// The id.
        id: String,
    },
    /// The store refused a record or a link: the constraint, as the write returned it.
    #[error("{path}: {error}")]
    Constraint {
        /// The JSON path of the record, and of the field when the error names one column.
        path: String,
        /// The store's error.
        error: Error,
    },
}

impl From<Error> for FixtureError {
    /// An error of the store outside any record (opening the load's undo scope).
    fn from(error: Error) -> Self {
        FixtureError::Constraint {
            path: "$".into(),
            error,
        }
    }
}

/// The records a JSON fixture created, by table and id. See [`Store::insert_json`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fixture {
    ids: HashMap<(&'static str, String), RawKey>,
}

impl Fixture {
    /// The key of the record of `E` the fixture named `id`. O(1).
    ///
    /// ```
    /// # use relata::{Entity, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// #[relata(table = "users")]
    /// struct User { name: String }
    /// let mut store = Store::new(Schema::builder().entity::<User>().build()?);
    /// let fixture = store.insert_json(r#"{"users": [{"id": "ada", "name": "Ada"}]}"#)?;
    /// let ada = fixture.key::<User>("ada").unwrap();
    /// assert_eq!(store.get(ada).unwrap().name, "Ada");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn key<E: Entity>(&self, id: &str) -> Option<Key<E>> {
        self.ids
            .get(&(E::DEF.table, id.to_owned()))
            .map(|&k| Key::from_raw(k))
    }

    /// The number of records with an id. O(1).
    ///
    /// ```
    /// # use relata::{Entity, Schema, Store};
    /// # #[derive(Entity, Clone, Debug, PartialEq)]
    /// # #[relata(table = "users")]
    /// # struct User { name: String }
    /// let mut store = Store::new(Schema::builder().entity::<User>().build()?);
    /// let fixture = store.insert_json(r#"{"users": [{"id": "a", "name": "A"}, {"name": "B"}]}"#)?;
    /// assert_eq!((fixture.len(), store.count::<User>()), (1, 2));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// `true` when no record has an id. O(1).
    ///
    /// ```
    /// assert!(relata::Fixture::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

/// One record of the document.
struct Pending<'j> {
    table: usize,
    /// Its position in its table's array.
    at: usize,
    record: &'j Map<String, Json>,
    /// Its `"id"`: a name, or an integer's decimal text (an `#[relata(id)]`).
    id: Option<String>,
}

impl Pending<'_> {
    fn path(&self, store: &Store) -> String {
        format!("{}[{}]", store.schema.inner.tables[self.table].def.table, self.at)
    }
}

/// A record written, or why it must wait.
enum Written {
    /// Its key, and whether a nullable key was left NULL for a record not created yet.
    Key(RawKey, bool),
    /// It references a record of the document not created yet: the error if it never is.
    Waiting(FixtureError),
}

/// Ids per table: each id's record, by its position in `records`.
type Declared = Vec<HashMap<String, usize>>;
/// Ids per table: each created record's key.
type Created = Vec<HashMap<String, RawKey>>;
/// One relation pair: relation, position in its array, the pair.
type LinkEntry<'j> = (usize, usize, &'j Json);

impl Store {
    /// A new store of `schema` holding a JSON fixture's records: see
    /// [`insert_json`](Self::insert_json). The store imitates `Engine::Sqlite`, as
    /// [`Store::new`]'s does: JSON holds data, not a profile (a snapshot holds both). For
    /// another engine, load the fixture into [`Store::with_engine`]'s store. The store's
    /// manual clock starts at the latest `created_at` / `updated_at` value in the fixture, if
    /// later than 2000-01-01 (see [`Clock`](crate::Clock)). O(records ×
    /// longest chain of references to records further down the document).
    ///
    /// # Errors
    /// As [`insert_json`](Self::insert_json).
    ///
    /// ```
    /// # use relata::{Engine, Entity, Schema, Store};
    /// # #[derive(Entity, Clone, Debug, PartialEq)]
    /// # #[relata(table = "users")]
    /// # struct User { name: String }
    /// let schema = Schema::builder().entity::<User>().build()?;
    /// let json = r#"{"users": [{"name": "Ada"}]}"#;
    /// let (store, _) = Store::from_json(schema.clone(), json)?;
    /// assert_eq!((store.count::<User>(), store.engine()), (1, Engine::Sqlite));
    ///
    /// let mut pg = Store::with_engine(schema, Engine::Postgres);
    /// pg.insert_json(json)?;
    /// assert_eq!((pg.count::<User>(), pg.engine()), (1, Engine::Postgres));
    /// assert!(pg == store); // `==` compares data, not profiles
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_json(schema: Schema, json: &str) -> Result<(Store, Fixture), FixtureError> {
        let mut store = Store::new(schema);
        let fixture = store.insert_json(json)?;
        store.clock_to_latest_stamp();
        Ok((store, fixture))
    }

    /// Adds a JSON fixture's records and links to the store, all or none, and returns the keys
    /// of the records that have an id.
    ///
    /// The document has [`to_json`](Self::to_json)'s shape, with records named by `"id"` and
    /// referenced by it (a key may also name a live record of this store: `"3v1"`); fields go
    /// by column or Rust name, and a nullable one may be left out. A float field takes a number
    /// or, for the values JSON has no number for, exactly the strings `to_json` writes and
    /// PostgreSQL's float input reads, `"NaN"`, `"Infinity"` and `"-Infinity"`; `null` is
    /// NULL, never NaN. A store's `to_json` loads
    /// into an empty store as an equal store when its records were only inserted and linked
    /// (keys are handed out anew, in document order). A record of a table with an
    /// `#[relata(id)]` field may be named by an integer, which it keeps as its id (as
    /// `to_json` writes it: ids survive the round trip; the counter ends above the largest). Every record goes through
    /// [`insert`](Self::insert) and every pair through [`link`](Self::link), so each constraint
    /// is checked and the journal, diff and log see them. Tables load in schema order, records
    /// in document order, except that a record waits for the records its keys reference (a
    /// nullable key to a record further down is set once that record exists).
    /// O(records × longest chain of references to records further down the document).
    ///
    /// # Errors
    /// A [`FixtureError`] naming the JSON path: [`Malformed`](FixtureError::Malformed),
    /// [`UnknownTable`](FixtureError::UnknownTable),
    /// [`UnknownRelation`](FixtureError::UnknownRelation),
    /// [`UnknownField`](FixtureError::UnknownField),
    /// [`MissingField`](FixtureError::MissingField), [`NullField`](FixtureError::NullField),
    /// [`BadValue`](FixtureError::BadValue),
    /// [`DuplicateId`](FixtureError::DuplicateId),
    /// [`DanglingReference`](FixtureError::DanglingReference),
    /// [`ReferenceCycle`](FixtureError::ReferenceCycle), and
    /// [`Constraint`](FixtureError::Constraint) with the store's error. On error nothing
    /// changed.
    ///
    /// ```
    /// # use relata::{Entity, Key, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// #[relata(table = "users")]
    /// struct User { #[relata(unique)] name: String }
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct Post { title: String, #[relata(back = "posts")] author: Key<User> }
    ///
    /// let mut store = Store::new(Schema::builder().entity::<User>().entity::<Post>().build()?);
    /// let fixture = store.insert_json(r#"{
    ///     "users": [{"id": "alice", "name": "alice"}],
    ///     "posts": [{"title": "Hello", "author_id": "alice"}]
    /// }"#)?;
    /// let alice = fixture.key::<User>("alice").unwrap();
    /// assert_eq!(store.child_count(Post::AUTHOR, alice), 1);
    ///
    /// let err = store.insert_json(r#"{"users": [{"name": "bob"}, {"name": "alice"}]}"#).unwrap_err();
    /// assert!(err.to_string().starts_with("users[1].name: UNIQUE constraint failed: users.name"));
    /// assert_eq!(store.count::<User>(), 1);     // bob was undone
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn insert_json(&mut self, json: &str) -> Result<Fixture, FixtureError> {
        let doc: Json = serde_json::from_str(json).map_err(|e| malformed("$", &e.to_string()))?;
        let (records, links) = self.read_document(&doc)?;
        let declared = self.declared_ids(&records)?;
        crate::factory::atomically(self, |store| {
            let created = store.insert_records(&records, &declared)?;
            store.insert_links(&links, &created)?;
            let mut fixture = Fixture::default();
            for (t, ids) in created.into_iter().enumerate() {
                let table = store.schema.inner.tables[t].def.table;
                let named = ids.into_iter().map(|(id, k)| ((table, id), k));
                fixture.ids.extend(named);
            }
            Ok(fixture)
        })
    }

    /// The document's records (tables in schema order) and relation pairs, shape-checked.
    fn read_document<'j>(
        &self,
        doc: &'j Json,
    ) -> Result<(Vec<Pending<'j>>, Vec<LinkEntry<'j>>), FixtureError> {
        let top = doc
            .as_object()
            .ok_or_else(|| malformed("$", "expected an object of tables"))?;
        let tables = &self.schema.inner.tables;
        if let Some(name) = top
            .keys()
            .find(|name| *name != "relations" && !tables.iter().any(|t| t.def.table == *name))
        {
            return Err(FixtureError::UnknownTable {
                path: name.clone(),
                table: name.clone(),
            });
        }
        let mut records = Vec::new();
        for (t, entry) in tables.iter().enumerate() {
            let name = entry.def.table;
            let Some(rows) = top.get(name) else {
                continue;
            };
            let rows = rows
                .as_array()
                .ok_or_else(|| malformed(name, "expected an array of records"))?;
            for (at, row) in rows.iter().enumerate() {
                let path = format!("{name}[{at}]");
                let record = row
                    .as_object()
                    .ok_or_else(|| malformed(&path, "expected a record (an object)"))?;
                check_fields(entry.def, record, &path)?;
                let id = match record.get("id").map(json_id) {
                    None => None,
                    Some(Some(id)) => Some(id),
                    Some(None) => {
                        return Err(malformed(
                            &format!("{path}.id"),
                            "expected a string or integer id",
                        ))
                    }
                };
                records.push(Pending {
                    table: t,
                    at,
                    record,
                    id,
                });
            }
        }
        Ok((records, self.read_links(top)?))
    }

    /// The `"relations"` object's pairs.
    fn read_links<'j>(&self, top: &'j Map<String, Json>) -> Result<Vec<LinkEntry<'j>>, FixtureError> {
        let Some(rels) = top.get("relations") else {
            return Ok(Vec::new());
        };
        let rels = rels
            .as_object()
            .ok_or_else(|| malformed("relations", "expected an object of relations"))?;
        let mut links = Vec::new();
        for (name, pairs) in rels {
            let path = format!("relations.{name}");
            let r = self
                .schema
                .inner
                .relations
                .iter()
                .position(|r| r.name == name)
                .ok_or_else(|| FixtureError::UnknownRelation {
                    path: path.clone(),
                    relation: name.clone(),
                })?;
            let pairs = pairs
                .as_array()
                .ok_or_else(|| malformed(&path, "expected an array of pairs"))?;
            links.extend(pairs.iter().enumerate().map(|(i, p)| (r, i, p)));
        }
        Ok(links)
    }

    /// Every id per table, refusing duplicates.
    fn declared_ids(&self, records: &[Pending<'_>]) -> Result<Declared, FixtureError> {
        let mut declared: Declared = vec![HashMap::new(); self.schema.inner.tables.len()];
        for (i, p) in records.iter().enumerate() {
            let Some(id) = &p.id else {
                continue;
            };
            if let Some(&first) = declared[p.table].get(id) {
                return Err(FixtureError::DuplicateId {
                    path: p.path(self),
                    id: id.clone(),
                    first: records[first].path(self),
                });
            }
            declared[p.table].insert(id.clone(), i);
        }
        Ok(declared)
    }

    /// Inserts every record, each once the records its keys need exist; then sets the
    /// nullable keys that were left NULL for a record further down. Returns the ids per table.
    fn insert_records<'j>(
        &mut self,
        records: &[Pending<'j>],
        declared: &Declared,
    ) -> Result<Created, FixtureError> {
        let mut created: Created = vec![HashMap::new(); declared.len()];
        let mut waiting: Vec<usize> = (0..records.len()).collect();
        let rank = self.table_ranks();
        waiting.sort_by_key(|&i| rank[records[i].table]); // stable: document order per table
        let mut patch: Vec<(usize, RawKey)> = Vec::new();
        let mut lenient = false;
        while !waiting.is_empty() {
            let mut still = Vec::new();
            let mut blocked = None;
            for &i in &waiting {
                let p = &records[i];
                match self.write_record(p, None, declared, &created, lenient)? {
                    Written::Key(key, deferred) => {
                        if let Some(id) = &p.id {
                            created[p.table].insert(id.clone(), key);
                        }
                        if deferred {
                            patch.push((i, key));
                        }
                    }
                    Written::Waiting(why) => {
                        blocked.get_or_insert(why);
                        still.push(i);
                    }
                }
            }
            let progressed = still.len() < waiting.len();
            waiting = still;
            if progressed {
                lenient = false;
            } else if !lenient {
                lenient = true; // only nullable keys to records further down block: leave them NULL
            } else if let Some(why) = blocked {
                return Err(why);
            }
        }
        for (i, key) in patch {
            if let Written::Waiting(why) =
                self.write_record(&records[i], Some(key), declared, &created, false)?
            {
                return Err(why);
            }
        }
        Ok(created)
    }

    /// Each table's place in the order a fixture's records are inserted: after every table
    /// its keys reference (itself aside), so that a store's `to_json` loads back with the
    /// same keys whatever order the schema lists its tables in; where keys form a cycle, the
    /// first table (in schema order) whose required keys are placed, else the first table.
    /// O(tables² × keys).
    fn table_ranks(&self) -> Vec<usize> {
        let tables = &self.schema.inner.tables;
        let targets = |t: usize, required: bool| {
            let keys = tables[t].def.fks.iter().zip(&tables[t].fk_targets);
            keys.filter(move |(fk, &target)| target != t && (!required || !fk.nullable))
                .map(|(_, &target)| target)
        };
        let mut rank = vec![usize::MAX; tables.len()];
        for next in 0..tables.len() {
            let placed = |rank: &[usize], t: usize, required: bool| {
                targets(t, required).all(|n| rank[n] != usize::MAX)
            };
            let unplaced = || (0..tables.len()).filter(|&t| rank[t] == usize::MAX);
            let pick = (unplaced().find(|&t| placed(&rank, t, false)))
                .or_else(|| unplaced().find(|&t| placed(&rank, t, true)))
                .or_else(|| unplaced().next());
            if let Some(t) = pick {
                rank[t] = next;
            }
        }
        rank
    }

    /// Decodes and writes one record (replacing `key` when given). `lenient`: a nullable key
    /// to a record of the document not created yet is NULL for now.
    fn write_record(
        &mut self,
        p: &Pending<'_>,
        key: Option<RawKey>,
        declared: &Declared,
        created: &Created,
        lenient: bool,
    ) -> Result<Written, FixtureError> {
        let (decode, write) = self.tables[p.table].json_fns();
        let now = self.clock.unix_micros();
        let mut unresolved: Option<(usize, String)> = None;
        let mut deferred = false;
        let decoded = {
            let tables = &self.tables;
            let entries = &self.schema.inner.tables;
            let mut resolve = |target: TypeId, id: &str| -> Result<RawKey, JsonBad> {
                let t = entries
                    .iter()
                    .position(|e| e.type_id == target)
                    .ok_or(JsonBad::Expected("a key of an entity of the schema"))?;
                if let Some(&k) = created[t].get(id) {
                    return Ok(k);
                }
                if declared[t].contains_key(id) && lenient {
                    deferred = true;
                    unresolved = Some((t, id.to_owned()));
                    return Err(JsonBad::Later);
                }
                if !declared[t].contains_key(id) {
                    if let Some(k) = parse_key(id).filter(|&k| tables[t].state(k) == KeyState::Live) {
                        return Ok(k);
                    }
                }
                unresolved = Some((t, id.to_owned()));
                Err(JsonBad::Reference)
            };
            decode(
                p.record,
                &mut JsonCx {
                    resolve: &mut resolve,
                    now,
                },
            )
        };
        let def = self.schema.inner.tables[p.table].def;
        let path = p.path(self);
        let value = match decoded {
            Ok(value) => value,
            Err((f, bad)) => {
                let field = &def.fields[f];
                let at = format!("{path}.{}", field.column);
                return match (bad, unresolved) {
                    (JsonBad::Reference | JsonBad::Later, Some((t, id))) => {
                        let table = self.schema.inner.tables[t].def.table;
                        Ok(match declared[t].contains_key(id.as_str()) {
                            true => Written::Waiting(FixtureError::ReferenceCycle { path: at, table, id }),
                            false => return Err(FixtureError::DanglingReference { path: at, table, id }),
                        })
                    }
                    (bad, _) => Err(bad_value(def, f, bad, p.record, at)),
                };
            }
        };
        match write(self, key, value) {
            Ok(k) => Ok(Written::Key(k, deferred)),
            Err(error) => Err(FixtureError::Constraint {
                path: match error_column(&error, def) {
                    Some(column) => format!("{path}.{column}"),
                    None => path,
                },
                error,
            }),
        }
    }

    /// Links every pair of the `"relations"` object.
    fn insert_links(&mut self, links: &[LinkEntry<'_>], created: &Created) -> Result<(), FixtureError> {
        for &(r, i, pair) in links {
            let entry = &self.schema.inner.relations[r];
            let path = format!("relations.{}[{i}]", entry.name);
            let ends = [entry.left, entry.right];
            let ids = match pair.as_array().map(Vec::as_slice) {
                Some([l, rt]) => json_id(l).zip(json_id(rt)),
                _ => None,
            };
            let Some((l, rt)) = ids else {
                return Err(malformed(&path, "expected a pair of record ids"));
            };
            let mut keys = [RawKey::default(); 2];
            for (n, id) in [l, rt].into_iter().enumerate() {
                let t = ends[n];
                keys[n] = match created[t].get(id.as_str()) {
                    Some(&k) => k,
                    None => parse_key(&id)
                        .filter(|&k| self.tables[t].state(k) == KeyState::Live)
                        .ok_or_else(|| FixtureError::DanglingReference {
                            path: format!("{path}[{n}]"),
                            table: self.tables[t].def().table,
                            id,
                        })?,
                };
            }
            self.link_in(r, keys[0], keys[1])
                .map_err(|error| FixtureError::Constraint { path, error })?;
        }
        Ok(())
    }
}

fn malformed(path: &str, message: &str) -> FixtureError {
    FixtureError::Malformed {
        path: path.to_owned(),
        message: message.to_owned(),
    }
}

/// Every key of `record` is `"id"`, a column or a field name of `def`.
fn check_fields(def: &'static EntityDef, record: &Map<String, Json>, path: &str) -> Result<(), FixtureError> {
    let known = |k: &str| k == "id" || def.fields.iter().any(|f| f.column == k || f.name == k);
    match record.keys().find(|k| !known(k)) {
        Some(field) => Err(FixtureError::UnknownField {
            path: format!("{path}.{field}"),
            table: def.table,
            field: field.clone(),
        }),
        None => Ok(()),
    }
}

/// The error for field `f`'s value.
fn bad_value(
    def: &'static EntityDef,
    f: usize,
    bad: JsonBad,
    record: &Map<String, Json>,
    path: String,
) -> FixtureError {
    let field = &def.fields[f];
    let found = crate::column::json_field(record, field).map_or_else(|| "nothing".to_owned(), shorten);
    let expected = match bad {
        JsonBad::Missing => {
            return FixtureError::MissingField {
                path,
                table: def.table,
                column: field.column,
            }
        }
        JsonBad::Null => {
            return FixtureError::NullField {
                path,
                table: def.table,
                column: field.column,
            }
        }
        JsonBad::Expected(what) => what.to_owned(),
        JsonBad::NotAccepted(ty) => format!("a value of {ty}"),
        JsonBad::Reference | JsonBad::Later => "a record id".to_owned(),
    };
    FixtureError::BadValue {
        path,
        expected,
        found,
    }
}

/// A JSON value for a message, at most 60 characters.
fn shorten(v: &Json) -> String {
    let text = v.to_string();
    match text.char_indices().nth(60) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text,
    }
}

/// The one column a store error names, if it names exactly one of `def`'s.
fn error_column(error: &Error, def: &'static EntityDef) -> Option<&'static str> {
    let column = match error {
        Error::UniqueViolation { columns, .. } if columns.len() == 1 => columns[0],
        Error::MissingTarget { column, .. }
        | Error::DeletedTarget { column, .. }
        | Error::Cycle { column, .. }
        | Error::RequiredReference { column, .. } => column,
        _ => return None,
    };
    def.fields.iter().any(|f| f.column == column).then_some(column)
}

/// A record id of the document: a string, or an integer (an `#[relata(id)]`, as `to_json`
/// writes it) as its decimal text.
pub(crate) fn json_id(v: &Json) -> Option<String> {
    match v {
        Json::String(s) => Some(s.clone()),
        Json::Number(n) if n.is_i64() || n.is_u64() => Some(n.to_string()),
        _ => None,
    }
}

/// A store key as `to_json` writes it: `"<index>v<version>"`.
fn parse_key(id: &str) -> Option<RawKey> {
    let (index, version) = id.split_once('v')?;
    let (index, version) = (index.parse::<u32>().ok()?, version.parse::<u32>().ok()?);
    Some(RawKey::from_u64((u64::from(version) << 32) | u64::from(index)))
}
