//! Pictures: the object graph and the schema as Graphviz DOT.
//!
//! Render with `dot -Tsvg store.dot -o store.svg` (Graphviz).

use std::collections::{BTreeSet, VecDeque};
use std::fmt::Write;

use crate::entity::OnDelete;
use crate::key::{Key, RawKey};
use crate::schema::Schema;
use crate::store::Store;
use crate::Entity;

/// What [`Store::to_dot`] draws.
#[derive(Clone, Debug, Default)]
pub struct DotOptions {
    tables: Option<Vec<&'static str>>,
    around: Option<(&'static str, RawKey, usize)>,
    max_fields: Option<usize>,
}

impl DotOptions {
    /// Everything (every record of every table). O(1).
    ///
    /// ```
    /// # use relata::{DotOptions, Entity, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct User { name: String, email: String }
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct Tag { label: String }
    /// let mut store = Store::new(Schema::builder().entity::<User>().entity::<Tag>().build()?);
    /// store.insert(User { name: "ada".into(), email: "ada@example.com".into() })?;
    /// store.insert(Tag { label: "rust".into() })?;
    /// assert!(store.to_dot(&DotOptions::new()).contains("rust"));
    /// let dot = store.to_dot(&DotOptions::new().tables(&["users"]).max_fields(1));
    /// assert!(dot.contains("ada") && !dot.contains("ada@example.com") && !dot.contains("rust"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new() -> DotOptions {
        DotOptions::default()
    }

    /// Only records of these tables. O(tables given). Example at [`new`](Self::new).
    pub fn tables(mut self, tables: &[&'static str]) -> DotOptions {
        self.tables = Some(tables.to_vec());
        self
    }

    /// Only records within `depth` links (foreign keys either way, many-to-many pairs) of
    /// `key`, in whichever store is drawn: a stale key, or a key of a type outside that store's
    /// schema, draws no record. O(1) here.
    ///
    /// ```
    /// # use relata::{DotOptions, Entity, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct User { name: String }
    /// let mut store = Store::new(Schema::builder().entity::<User>().build()?);
    /// let ada = store.insert(User { name: "ada".into() })?;
    /// store.insert(User { name: "bob".into() })?;
    /// let dot = store.to_dot(&DotOptions::new().around(ada, 0));
    /// assert!(dot.contains("ada") && !dot.contains("bob"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn around<E: Entity>(mut self, key: Key<E>, depth: usize) -> DotOptions {
        self.around = Some((E::DEF.table, key.raw(), depth));
        self
    }

    /// At most this many fields in each record's label (default 4). O(1). Example at
    /// [`new`](Self::new).
    pub fn max_fields(mut self, n: usize) -> DotOptions {
        self.max_fields = Some(n);
        self
    }
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

fn node_id(t: usize, k: RawKey) -> String {
    format!("t{t}_{}", k.to_u64())
}

impl Store {
    /// The object graph as DOT: records as nodes (labelled with their first fields), foreign
    /// keys as arrows from child to parent (labelled with the column), many-to-many pairs as
    /// dashed arrows. O(records drawn + their links).
    ///
    /// ```
    /// # use relata::{DotOptions, Entity, Key, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct User { name: String }
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct Post { title: String, #[relata(on_delete = "cascade")] author: Key<User> }
    /// let mut store = Store::new(Schema::builder().entity::<User>().entity::<Post>().build()?);
    /// let u = store.insert(User { name: "ada".into() })?;
    /// store.insert(Post { title: "hi".into(), author: u })?;
    /// let dot = store.to_dot(&DotOptions::new().around(u, 1));
    /// assert!(dot.starts_with("digraph relata {"));
    /// assert!(dot.contains("author_id"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn to_dot(&self, options: &DotOptions) -> String {
        let nodes = self.dot_nodes(options);
        let mut out = String::from("digraph relata {\n  rankdir=LR;\n  node [shape=box, fontname=\"Helvetica\", fontsize=10];\n  edge [fontname=\"Helvetica\", fontsize=9];\n");
        let max_fields = options.max_fields.unwrap_or(4);
        for &(t, k) in &nodes {
            let def = self.tables[t].def();
            let values = self.tables[t].render(k).unwrap_or_default();
            let fields: Vec<String> = def
                .fields
                .iter()
                .zip(values)
                .filter(|(f, _)| {
                    !def.fks
                        .iter()
                        .any(|fk| def.fields[fk.field as usize].name == f.name)
                })
                .take(max_fields)
                .map(|(f, v)| format!("{}: {}", f.name, v))
                .collect();
            let label = format!(
                "{}[{k}]\\n{}",
                def.table,
                fields.iter().map(|f| escape(f)).collect::<Vec<_>>().join("\\n")
            );
            let _ = writeln!(out, "  {} [label=\"{label}\"];", node_id(t, k));
        }
        self.dot_edges(&nodes, &mut out);
        out.push_str("}\n");
        out
    }

    fn dot_nodes(&self, options: &DotOptions) -> BTreeSet<(usize, RawKey)> {
        let allowed = |t: usize| {
            options
                .tables
                .as_ref()
                .is_none_or(|ts| ts.contains(&self.tables[t].def().table))
        };
        let Some((table, k0, depth)) = options.around else {
            return (0..self.tables.len())
                .filter(|&t| allowed(t))
                .flat_map(|t| self.tables[t].keys().into_iter().map(move |k| (t, k)))
                .collect();
        };
        let tables = &self.schema.inner.tables;
        let Some(t0) = tables.iter().position(|t| t.def.table == table) else {
            return BTreeSet::new();
        };
        let mut seen = BTreeSet::new();
        let mut queue = VecDeque::from([(t0, k0, 0)]);
        while let Some((t, k, d)) = queue.pop_front() {
            if !seen.insert((t, k)) || d >= depth {
                continue;
            }
            for (nt, nk) in self.neighbours(t, k) {
                queue.push_back((nt, nk, d + 1));
            }
        }
        seen.into_iter()
            .filter(|&(t, k)| allowed(t) && self.tables[t].render(k).is_some())
            .collect()
    }

    /// Records one link away: parents, children, many-to-many partners.
    fn neighbours(&self, t: usize, k: RawKey) -> Vec<(usize, RawKey)> {
        let entry = &self.schema.inner.tables[t];
        let mut out = Vec::new();
        for fk in 0..entry.def.fks.len() {
            out.extend(self.tables[t].fk(k, fk).map(|p| (entry.fk_targets[fk], p)));
        }
        for &(ct, fk) in &entry.incoming {
            out.extend(
                self.tables[ct]
                    .children(fk, k)
                    .to_vec()
                    .into_iter()
                    .map(|c| (ct, c)),
            );
        }
        for &(r, left) in &entry.relations {
            let rel = &self.schema.inner.relations[r];
            let (others, ot) = if left {
                (self.relations[r].rights(k), rel.right)
            } else {
                (self.relations[r].lefts(k), rel.left)
            };
            out.extend(others.iter().map(|&o| (ot, o)));
        }
        out
    }

    fn dot_edges(&self, nodes: &BTreeSet<(usize, RawKey)>, out: &mut String) {
        for &(t, k) in nodes {
            let entry = &self.schema.inner.tables[t];
            for fk in 0..entry.def.fks.len() {
                let Some(p) = self.tables[t].fk(k, fk) else {
                    continue;
                };
                let target = entry.fk_targets[fk];
                if nodes.contains(&(target, p)) {
                    let column = entry.def.fk_column(fk);
                    let _ = writeln!(
                        out,
                        "  {} -> {} [label=\"{column}\"];",
                        node_id(t, k),
                        node_id(target, p)
                    );
                }
            }
            for &(r, _) in entry.relations.iter().filter(|(_, left)| *left) {
                let rel = &self.schema.inner.relations[r];
                for &right in self.relations[r].rights(k) {
                    if nodes.contains(&(rel.right, right)) {
                        let _ = writeln!(
                            out,
                            "  {} -> {} [style=dashed, label=\"{}\"];",
                            node_id(t, k),
                            node_id(rel.right, right),
                            rel.name
                        );
                    }
                }
            }
        }
    }
}

impl Schema {
    /// The schema as DOT: each entity with its columns (`PK`, `UQ`, `FK`, `NULL`) and
    /// indexes; each foreign key an arrow to its parent labelled with its cardinality (`N:1`
    /// or `1:1`), ON DELETE action and parent-side name; each many-to-many relation a
    /// double-headed `N:M` arrow. O(columns × (uniques + keys) + relations): the schema's
    /// size, never the data's.
    ///
    /// ```
    /// # use relata::{Entity, Key, Schema};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct User { name: String }
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct Post { title: String, #[relata(on_delete = "cascade")] author: Key<User> }
    /// let dot = Schema::builder().entity::<User>().entity::<Post>().build()?.to_dot();
    /// assert!(dot.starts_with("digraph schema {"));
    /// assert!(dot.contains("N:1"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn to_dot(&self) -> String {
        let mut out = String::from("digraph schema {\n  rankdir=LR;\n  node [shape=record, fontname=\"Helvetica\", fontsize=10];\n  edge [fontname=\"Helvetica\", fontsize=9];\n");
        for t in &self.inner.tables {
            let def = t.def;
            let mut rows = vec![format!("{}|id PK", def.table)];
            for (i, f) in def.fields.iter().enumerate() {
                let mut tags = Vec::new();
                if def.uniques.iter().any(|u| u.fields == [i as u16]) {
                    tags.push("UQ");
                }
                if def.fks.iter().any(|fk| fk.field as usize == i) {
                    tags.push("FK");
                }
                if f.nullable {
                    tags.push("NULL");
                }
                rows.push(format!("{} {}", f.column, tags.join(" ")).trim_end().to_string());
            }
            for u in def.uniques.iter().filter(|u| u.fields.len() > 1) {
                rows.push(format!("UNIQUE({})", def.columns(u.fields).join(", ")));
            }
            let label = rows.iter().map(|r| escape(r)).collect::<Vec<_>>().join("\\l|");
            let _ = writeln!(out, "  {} [label=\"{label}\\l\"];", def.table);
        }
        for t in &self.inner.tables {
            for (fk, fkdef) in t.def.fks.iter().enumerate() {
                let target = self.inner.tables[t.fk_targets[fk]].def.table;
                let card = if fkdef.unique { "1:1" } else { "N:1" };
                let action = match (fkdef.orphan, fkdef.on_delete) {
                    (true, _) => "delete-orphan",
                    (_, OnDelete::Cascade) => "cascade",
                    (_, OnDelete::SetNull) => "set null",
                    (_, OnDelete::Restrict) => "restrict",
                    (_, OnDelete::NoAction) => "no action",
                };
                let acyclic = if fkdef.acyclic { ", acyclic" } else { "" };
                let _ = writeln!(
                    out,
                    "  {} -> {target} [label=\"{} {card}\\n{action}{acyclic}\\n{target}.{}\"];",
                    t.def.table,
                    t.def.fk_column(fk),
                    fkdef.back
                );
            }
        }
        for r in &self.inner.relations {
            let (l, rt) = (
                self.inner.tables[r.left].def.table,
                self.inner.tables[r.right].def.table,
            );
            let _ = writeln!(
                out,
                "  {l} -> {rt} [dir=both, style=dashed, label=\"{} N:M\"];",
                r.name
            );
        }
        out.push_str("}\n");
        out
    }
}
