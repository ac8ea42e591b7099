//! The schema: which entity types a store holds, validated once when it is built.

use std::any::TypeId;
use std::sync::Arc;

use crate::entity::{Entity, EntityDef, OnDelete};
use crate::store::erased::{make_table, AnyTable};

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
}

pub(crate) struct TableEntry {
    pub(crate) def: &'static EntityDef,
    pub(crate) type_id: TypeId,
    pub(crate) make: fn() -> Box<dyn AnyTable>,
    /// Per foreign key: the table it references.
    pub(crate) fk_targets: Vec<usize>,
    /// Foreign keys of other tables (or this one) that reference this table: (table, fk).
    pub(crate) incoming: Vec<(usize, usize)>,
}

impl std::fmt::Debug for Schema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.tables()).finish()
    }
}

impl Schema {
    /// Starts a schema.
    pub fn builder() -> SchemaBuilder {
        SchemaBuilder { entries: Vec::new() }
    }

    /// Table names in registration order.
    pub fn tables(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.inner.tables.iter().map(|t| t.def.table)
    }

    /// The schema descriptors of every entity, in registration order.
    pub fn entities(&self) -> impl Iterator<Item = &'static EntityDef> + '_ {
        self.inner.tables.iter().map(|t| t.def)
    }
}

/// Collects entity types; [`build`](Self::build) validates them together.
#[must_use]
#[derive(Debug)]
pub struct SchemaBuilder {
    entries: Vec<Registration>,
}

/// One registered type: its id, its schema, and how to make its empty table.
type Registration = (TypeId, &'static EntityDef, fn() -> Box<dyn AnyTable>);

impl SchemaBuilder {
    /// Registers an entity type.
    pub fn entity<E: Entity>(mut self) -> Self {
        self.entries.push((TypeId::of::<E>(), E::DEF, make_table::<E>));
        self
    }

    /// Validates the schema.
    ///
    /// # Errors
    /// A [`SchemaError`] naming the first problem: a type registered twice, two types with one
    /// table name, a foreign key to an unregistered type, a duplicate back-reference name on
    /// one parent, `set_null` on a required key, `acyclic` on a key that is not a
    /// self-reference.
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
        for parent in &tables {
            check_backrefs(parent, &tables)?;
        }
        Ok(Schema {
            inner: Arc::new(SchemaInner { tables }),
        })
    }
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
    if fkdef.acyclic && !self_ref {
        return Err(SchemaError::AcyclicNotSelfReferential {
            table: def.table,
            column,
        });
    }
    Ok(())
}

fn check_backrefs(parent: &TableEntry, tables: &[TableEntry]) -> Result<(), SchemaError> {
    let names: Vec<&'static str> = parent
        .incoming
        .iter()
        .map(|&(t, fk)| tables[t].def.fks[fk].back)
        .collect();
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
    /// `on_delete = "set_null"` on a required (`Key<T>`) foreign key.
    #[error("{table}.{column}: ON DELETE SET NULL needs an optional key (`Option<Key<_>>`)")]
    SetNullOnRequired {
        /// The child table.
        table: &'static str,
        /// The foreign-key column.
        column: &'static str,
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
