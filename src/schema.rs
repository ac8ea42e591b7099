//! The schema: which entity types a store holds, validated once when it is built.

use std::any::TypeId;
use std::sync::Arc;

use crate::entity::{Entity, EntityDef, OnDelete};
use crate::relation::{intern, ManyToMany, RelationEntry};
use crate::store::erased::{make_table, AnyTable};
use crate::type_index::TypeIndex;

/// A validated set of entity types. Build one with [`Schema::builder`], then create stores
/// from it with [`Store::new`](crate::Store::new). Cheap to clone (shared).
///
/// ```
/// use relata::{Entity, Key, Schema};
///
/// #[derive(Entity, Clone, Debug, PartialEq)]
/// struct User { #[relata(unique)] name: String }
/// #[derive(Entity, Clone, Debug, PartialEq)]
/// struct Post { title: String, #[relata(on_delete = "cascade")] author: Key<User> }
///
/// let schema = Schema::builder().entity::<User>().entity::<Post>().build()?;
/// assert_eq!(schema.tables().collect::<Vec<_>>(), ["users", "posts"]);
/// # Ok::<(), relata::SchemaError>(())
/// ```
#[derive(Clone)]
pub struct Schema {
    pub(crate) inner: Arc<SchemaInner>,
}

pub(crate) struct SchemaInner {
    pub(crate) tables: Vec<TableEntry>,
    pub(crate) relations: Vec<RelationEntry>,
    /// Whether any constraint is deferrable (commit points skip the check otherwise).
    pub(crate) has_deferred: bool,
    /// Each table's position by its entity type (`Store::table_index`).
    pub(crate) by_type: TypeIndex,
}

pub(crate) struct TableEntry {
    pub(crate) def: &'static EntityDef,
    pub(crate) type_id: TypeId,
    pub(crate) make: fn() -> Box<dyn AnyTable>,
    /// Per foreign key: the table it references.
    pub(crate) fk_targets: Vec<usize>,
    /// Foreign keys of other tables (or this one) that reference this table: (table, fk).
    pub(crate) incoming: Vec<(usize, usize)>,
    /// Many-to-many relations this table is an end of: (relation, `true` for the left end).
    pub(crate) relations: Vec<(usize, bool)>,
    /// Per table: whether a delete starting in this one can reach a record of that table
    /// twice, so its plan must look each one up (see [`rejoins`]).
    pub(crate) rejoins: Vec<bool>,
}

impl std::fmt::Debug for Schema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.tables()).finish()
    }
}

impl Schema {
    /// Starts a schema. O(1).
    ///
    /// ```
    /// # use relata::{Entity, Schema};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// #[relata(table = "users")]
    /// struct User { name: String }
    /// let schema = Schema::builder().entity::<User>().build()?;
    /// assert_eq!(schema.tables().collect::<Vec<_>>(), ["users"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn builder() -> SchemaBuilder {
        SchemaBuilder {
            entries: Vec::new(),
            relations: Vec::new(),
        }
    }

    /// Many-to-many relation (association table) names in registration order. O(1) to
    /// start, O(1) per name.
    ///
    /// ```
    /// # use relata::{Entity, ManyToMany, Schema};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// #[relata(table = "users")]
    /// struct User { name: String }
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// #[relata(table = "groups")]
    /// struct Group { name: String }
    /// const MEMBERS: ManyToMany<User, Group> = ManyToMany::new("members", "groups", "users");
    /// let schema = Schema::builder().entity::<User>().entity::<Group>().relation(MEMBERS).build()?;
    /// assert_eq!(schema.relations().collect::<Vec<_>>(), ["members"]);
    /// assert_eq!(schema.tables().collect::<Vec<_>>(), ["users", "groups"]);
    /// assert_eq!(schema.entities().map(|d| d.table).collect::<Vec<_>>(), ["users", "groups"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn relations(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.inner.relations.iter().map(|r| r.name)
    }

    /// `true` for the same schema (or an identical one built separately).
    pub(crate) fn same_as(&self, other: &Schema) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
            || crate::snapshot::format::SchemaDesc::of(self) == crate::snapshot::format::SchemaDesc::of(other)
    }

    pub(crate) fn relation_index(&self, name: &'static str) -> Option<usize> {
        self.inner
            .relations
            .iter()
            .position(|r| std::ptr::eq(r.name, name) || r.name == name)
    }

    /// Table names in registration order. O(1) to start, O(1) per name. Example at
    /// [`relations`](Self::relations).
    pub fn tables(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.inner.tables.iter().map(|t| t.def.table)
    }

    /// The schema descriptors of every entity, in registration order. O(1) to start, O(1) per
    /// entity. Example at [`relations`](Self::relations).
    pub fn entities(&self) -> impl Iterator<Item = &'static EntityDef> + '_ {
        self.inner.tables.iter().map(|t| t.def)
    }
}

/// Collects entity types; [`build`](Self::build) validates them together.
#[must_use]
#[derive(Debug)]
pub struct SchemaBuilder {
    entries: Vec<Registration>,
    relations: Vec<RelationRegistration>,
}

/// One registered many-to-many relation, before resolution.
#[derive(Debug)]
struct RelationRegistration {
    name: &'static str,
    ends: [(TypeId, &'static EntityDef); 2],
    backs: [&'static str; 2],
    columns: [Option<&'static str>; 2],
}

/// One registered type: its id, its schema, and how to make its empty table.
type Registration = (TypeId, &'static EntityDef, fn() -> Box<dyn AnyTable>);

impl SchemaBuilder {
    /// Registers an entity type. O(1) (amortized); checked at [`build`](Self::build).
    /// Example at [`Schema::builder`].
    pub fn entity<E: Entity>(mut self) -> Self {
        self.entries.push((TypeId::of::<E>(), E::DEF, make_table::<E>));
        self
    }

    /// Registers a many-to-many relation between two registered entity types. O(1)
    /// (amortized); checked at [`build`](Self::build). Example at [`Schema::relations`].
    pub fn relation<L: Entity, R: Entity>(mut self, rel: ManyToMany<L, R>) -> Self {
        self.relations.push(RelationRegistration {
            name: rel.name,
            ends: [(TypeId::of::<L>(), L::DEF), (TypeId::of::<R>(), R::DEF)],
            backs: [rel.left_back, rel.right_back],
            columns: [rel.left_column, rel.right_column],
        });
        self
    }

    /// Validates the schema.
    ///
    /// # Errors
    /// A [`SchemaError`] naming the first problem: a type registered twice, two types with one
    /// table name, a foreign key to an unregistered type, a duplicate back-reference name on
    /// one parent, `set_null` on a required key, `acyclic` on a key that is not a
    /// self-reference.
    ///
    /// O(t·(t + k) + r·(r + t)) for t tables, k foreign keys and r relations: the schema's
    /// size, never the data's.
    ///
    /// ```
    /// # use relata::{Entity, Schema};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct User { name: String }
    /// assert!(Schema::builder().entity::<User>().build().is_ok());
    /// assert!(Schema::builder().entity::<User>().entity::<User>().build().is_err());
    /// ```
    pub fn build(self) -> Result<Schema, SchemaError> {
        let mut tables: Vec<TableEntry> = Vec::with_capacity(self.entries.len());
        for (i, &(type_id, def, make)) in self.entries.iter().enumerate() {
            if let Some(prev) = self.entries[..i]
                .iter()
                .find(|e| e.0 == type_id || e.1.table == def.table)
            {
                return Err(if prev.0 == type_id {
                    SchemaError::DuplicateEntity {
                        entity: def.type_name,
                    }
                } else {
                    SchemaError::DuplicateTable { table: def.table }
                });
            }
            tables.push(TableEntry {
                def,
                type_id,
                make,
                fk_targets: Vec::new(),
                incoming: Vec::new(),
                relations: Vec::new(),
                rejoins: Vec::new(),
            });
        }
        for t in 0..tables.len() {
            let def = tables[t].def;
            for (fk, fkdef) in def.fks.iter().enumerate() {
                let column = def.fk_column(fk);
                let target = tables
                    .iter()
                    .position(|e| e.type_id == (fkdef.target_type)())
                    .ok_or(SchemaError::UnregisteredTarget {
                        table: def.table,
                        column,
                        target: (fkdef.target)().type_name,
                    })?;
                check_fk(def, fk, t == target)?;
                tables[t].fk_targets.push(target);
                tables[target].incoming.push((t, fk));
            }
        }
        let all_rejoins: Vec<Vec<bool>> = (0..tables.len()).map(|t| rejoins(&tables, t)).collect();
        for (entry, r) in tables.iter_mut().zip(all_rejoins) {
            entry.rejoins = r;
        }
        let relations = resolve_relations(&self.relations, &mut tables)?;
        for parent in &tables {
            check_backrefs(parent, &tables, &relations)?;
        }
        Ok(Schema {
            inner: Arc::new(SchemaInner {
                has_deferred: tables.iter().any(|t| {
                    t.def.uniques.iter().any(|u| u.deferrable) || t.def.fks.iter().any(|f| f.deferrable)
                }),
                by_type: TypeIndex::new(&tables.iter().map(|t| t.type_id).collect::<Vec<_>>()),
                tables,
                relations,
            }),
        })
    }
}

/// Per table, for a delete starting in table `root`: whether the cascade can reach one of its
/// records twice. A record is reached only through a cascading key whose parent the cascade
/// reaches, so one of a table with at most one such key (counting the root itself as a path
/// into the root's table) has one parent that can reach it, itself reached once, and is
/// reached once. Two such keys (a membership whose user and group both go) or a cycle back
/// to the root's table can reach a record twice. O(tables + keys).
fn rejoins(tables: &[TableEntry], root: usize) -> Vec<bool> {
    let mut reached = vec![false; tables.len()];
    reached[root] = true;
    let mut todo = vec![root];
    while let Some(t) = todo.pop() {
        for &(ct, fk) in &tables[t].incoming {
            if tables[ct].def.fks[fk].cascades() && !reached[ct] {
                reached[ct] = true;
                todo.push(ct);
            }
        }
    }
    (0..tables.len())
        .map(|ct| {
            let keys = tables[ct].def.fks.iter().zip(&tables[ct].fk_targets);
            let paths = keys.filter(|&(fk, &p)| fk.cascades() && reached[p]).count();
            paths + usize::from(ct == root) >= 2
        })
        .collect()
}

fn resolve_relations(
    regs: &[RelationRegistration],
    tables: &mut [TableEntry],
) -> Result<Vec<RelationEntry>, SchemaError> {
    let mut out: Vec<RelationEntry> = Vec::with_capacity(regs.len());
    for (r, reg) in regs.iter().enumerate() {
        if out.iter().any(|o| o.name == reg.name) || tables.iter().any(|t| t.def.table == reg.name) {
            return Err(SchemaError::DuplicateTable { table: reg.name });
        }
        let mut ends = [0; 2];
        let mut columns = [""; 2];
        for side in 0..2 {
            let (type_id, def) = reg.ends[side];
            columns[side] =
                reg.columns[side].unwrap_or_else(|| intern(format!("{}_id", snake_case(def.type_name))));
            ends[side] =
                tables
                    .iter()
                    .position(|t| t.type_id == type_id)
                    .ok_or(SchemaError::UnregisteredTarget {
                        table: reg.name,
                        column: if side == 0 { "left" } else { "right" },
                        target: def.type_name,
                    })?;
        }
        if columns[0] == columns[1] {
            return Err(SchemaError::AmbiguousColumns { relation: reg.name });
        }
        tables[ends[0]].relations.push((r, true));
        tables[ends[1]].relations.push((r, false));
        let [left_column, right_column] = columns;
        out.push(RelationEntry {
            name: reg.name,
            left: ends[0],
            right: ends[1],
            left_back: reg.backs[0],
            right_back: reg.backs[1],
            left_column,
            right_column,
        });
    }
    Ok(out)
}

/// `UserGroup` -> `user_group`.
fn snake_case(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push('_');
        }
        out.extend(c.to_lowercase());
    }
    out
}

fn check_fk(def: &'static EntityDef, fk: usize, self_ref: bool) -> Result<(), SchemaError> {
    let fkdef = &def.fks[fk];
    let column = def.fk_column(fk);
    if fkdef.on_delete == OnDelete::SetNull && !fkdef.nullable {
        return Err(SchemaError::SetNullOnRequired {
            table: def.table,
            column,
        });
    }
    if fkdef.deferrable && fkdef.on_delete == OnDelete::Restrict {
        return Err(SchemaError::DeferredRestrict {
            table: def.table,
            column,
        });
    }
    if fkdef.acyclic && !self_ref {
        return Err(SchemaError::AcyclicNotSelfReferential {
            table: def.table,
            column,
        });
    }
    Ok(())
}

fn check_backrefs(
    parent: &TableEntry,
    tables: &[TableEntry],
    relations: &[RelationEntry],
) -> Result<(), SchemaError> {
    let fk_names = parent.incoming.iter().map(|&(t, fk)| tables[t].def.fks[fk].back);
    let rel_names = parent.relations.iter().map(|&(r, left)| {
        let rel = &relations[r];
        if left {
            rel.left_back
        } else {
            rel.right_back
        }
    });
    let names: Vec<&'static str> = fk_names.chain(rel_names).collect();
    for (i, name) in names.iter().enumerate() {
        if names[..i].contains(name) {
            return Err(SchemaError::DuplicateBackref {
                table: parent.def.table,
                name,
            });
        }
    }
    Ok(())
}

/// Why a schema was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SchemaError {
    /// The same Rust type was registered twice.
    #[error("entity type {entity} is registered twice")]
    DuplicateEntity {
        /// The type name.
        entity: &'static str,
    },
    /// Two entity types use the same table name.
    #[error("two entity types use the table name `{table}`; give one a `#[relata(table = \"...\")]`")]
    DuplicateTable {
        /// The table name.
        table: &'static str,
    },
    /// A foreign key references a type that is not in the schema.
    #[error("{table}.{column} references {target}, which is not registered in the schema (add `.entity::<{target}>()`)")]
    UnregisteredTarget {
        /// The child table.
        table: &'static str,
        /// The foreign-key column.
        column: &'static str,
        /// The referenced type name.
        target: &'static str,
    },
    /// Two relationships into one parent share a back-reference name.
    #[error(
        "two relationships into `{table}` are both named `{name}`; name one with `#[relata(back = \"...\")]`"
    )]
    DuplicateBackref {
        /// The parent table.
        table: &'static str,
        /// The duplicated name.
        name: &'static str,
    },
    /// `deferrable` on an `on_delete = "restrict"` key: SQL never defers RESTRICT.
    #[error("{table}.{column}: ON DELETE RESTRICT is never deferred; use NO ACTION (`on_delete = \"no_action\"`) with `deferrable`")]
    DeferredRestrict {
        /// The child table.
        table: &'static str,
        /// The foreign-key column.
        column: &'static str,
    },
    /// `on_delete = "set_null"` on a required (`Key<T>`) foreign key.
    #[error("{table}.{column}: ON DELETE SET NULL needs an optional key (`Option<Key<_>>`)")]
    SetNullOnRequired {
        /// The child table.
        table: &'static str,
        /// The foreign-key column.
        column: &'static str,
    },
    /// A many-to-many relation whose two columns would have the same name.
    #[error(
        "relation {relation} joins a type to itself; name its columns with `.columns(\"a_id\", \"b_id\")`"
    )]
    AmbiguousColumns {
        /// The relation (association table) name.
        relation: &'static str,
    },
    /// `acyclic` on a foreign key that does not reference its own table.
    #[error("{table}.{column}: `acyclic` only applies to a self-referential key")]
    AcyclicNotSelfReferential {
        /// The table.
        table: &'static str,
        /// The foreign-key column.
        column: &'static str,
    },
}
