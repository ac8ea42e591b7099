//! The integrity checker: recomputes every derived structure from ground truth (rows and their
//! foreign keys) and reports the first difference. One checker serves `check_integrity()`, the
//! property tests and the fuzz targets.

use std::collections::BTreeMap;

use hashbrown::{HashMap, HashSet};

use crate::entity::Entity;
use crate::error::IntegrityError;
use crate::key::RawKey;
use crate::store::table::{has_null, link_order, order_cmp, row_hash, KeyState, LinkOrder, Nulls, Table};
use crate::store::Store;

fn fail(table: &'static str, detail: String) -> IntegrityError {
    IntegrityError { table, detail }
}

/// Checks one table's derived state against its rows.
pub(crate) fn check_table<E: Entity>(t: &Table<E>, strict: bool) -> Result<(), IntegrityError> {
    check_text(t)?;
    check_ids(t)?;
    check_uniques(t, strict)?;
    check_indexes(t)?;
    check_children(t)
}

fn check_text<E: Entity>(t: &Table<E>) -> Result<(), IntegrityError> {
    match t.first_bad_span() {
        None => Ok(()),
        Some((key, span)) => Err(fail(
            E::DEF.table,
            format!("record {key} has text span {span:?} outside the heap"),
        )),
    }
}

/// With an `#[relata(id)]` field: every record has an id, and the counter is above each one
/// (the primary key's uniqueness is `check_uniques`'s).
fn check_ids<E: Entity>(t: &Table<E>) -> Result<(), IntegrityError> {
    match t.first_bad_id() {
        None => Ok(()),
        Some(detail) => Err(fail(E::DEF.table, detail)),
    }
}

fn check_uniques<E: Entity>(t: &Table<E>, strict: bool) -> Result<(), IntegrityError> {
    let table = E::DEF.table;
    for (u, def) in E::DEF.uniques.iter().enumerate() {
        let index = t.unique_index(u);
        let mut seen: HashMap<u64, Vec<RawKey>> = HashMap::new();
        for (slot, row) in t.rows.iter() {
            let key = slot;
            let Some(hash) = row_hash::<E>(row, &t.text, def) else {
                continue;
            };
            if !index.contains(hash, key) {
                return Err(fail(
                    table,
                    format!("unique index {} lacks record {key}", def.name),
                ));
            }
            let same = seen.entry(hash).or_default();
            let equal = |k: RawKey| {
                def.fields
                    .iter()
                    .all(|&f| t.value(k, f as usize) == t.value(key, f as usize))
            };
            if let Some(other) = same.iter().copied().find(|&k| equal(k)) {
                if strict || !def.deferrable {
                    return Err(fail(
                        table,
                        format!("records {other} and {key} share a value under {}", def.name),
                    ));
                }
            }
            same.push(key);
        }
        let expected: usize = seen.values().map(Vec::len).sum();
        if index.len() != expected {
            let n = index.len();
            return Err(fail(
                table,
                format!("unique index {} holds {n} keys, expected {expected}", def.name),
            ));
        }
    }
    Ok(())
}

fn check_indexes<E: Entity>(t: &Table<E>) -> Result<(), IntegrityError> {
    let table = E::DEF.table;
    for (x, def) in E::DEF.indexes.iter().enumerate() {
        let mut expected = 0;
        for (slot, row) in t.rows.iter() {
            let key = slot;
            let values: Vec<_> = def
                .fields
                .iter()
                .map(|&f| E::__value(row, &t.text, f as usize))
                .collect();
            if values.iter().any(|v| v.is_null()) {
                continue;
            }
            expected += 1;
            if t.find_index(x, &values).binary_search(&key).is_err() {
                return Err(fail(
                    table,
                    format!("index {} does not find record {key} by its values", def.name),
                ));
            }
        }
        let n = t.secondary_index(x).len();
        if n != expected {
            return Err(fail(
                table,
                format!("index {} holds {n} keys, expected {expected}", def.name),
            ));
        }
        check_ordered(t, x)?;
    }
    Ok(())
}

/// An ordered index holds exactly the records with no NULL indexed value, in (values, key)
/// order, recomputed here by sorting them.
fn check_ordered<E: Entity>(t: &Table<E>, x: usize) -> Result<(), IntegrityError> {
    let Some(sorted) = t.ordered_index(x) else {
        return Ok(());
    };
    let def = &E::DEF.indexes[x];
    sorted
        .check_layout()
        .map_err(|detail| fail(E::DEF.table, format!("index {}: {detail}", def.name)))?;
    let mut want: Vec<(RawKey, &E::Row)> = t
        .rows
        .iter()
        .filter(|(_, row)| !has_null::<E>(row, &t.text, def.fields))
        .collect();
    want.sort_by(|a, b| order_cmp::<E>(Nulls::First, &t.text, def.fields, *a, *b));
    let mismatch = sorted
        .iter()
        .map(Some)
        .chain(std::iter::repeat(None))
        .zip(want.iter().map(|(k, _)| Some(*k)).chain([None]))
        .position(|(got, want)| got != want);
    match mismatch {
        None => Ok(()),
        Some(at) => Err(fail(
            E::DEF.table,
            format!(
                "ordered index {} at position {at}: expected {:?}, found {:?}",
                def.name,
                want.get(at).map(|w| w.0),
                sorted.iter().nth(at)
            ),
        )),
    }
}

fn check_children<E: Entity>(t: &Table<E>) -> Result<(), IntegrityError> {
    let table = E::DEF.table;
    if let Some(key) = t.first_link_beyond_counter() {
        return Err(fail(
            table,
            format!("record {key}: a link number at or above its key's counter"),
        ));
    }
    for fk in 0..E::DEF.fks.len() {
        if t.stray_lists(fk) {
            let column = E::DEF.fk_column(fk);
            return Err(fail(table, format!("one-to-one key {column} has children lists")));
        }
        let Some(index) = t.child_index(fk) else { continue };
        index.check_layout().map_err(|detail| fail(table, detail))?;
        let mut expected: BTreeMap<u32, Vec<(LinkOrder<'_>, RawKey)>> = BTreeMap::new();
        for (slot, row) in t.rows.iter() {
            if let Some(parent) = E::__fk(row, fk) {
                let order = link_order::<E>(row, &t.text, fk);
                expected.entry(parent.index()).or_default().push((order, slot));
            }
        }
        let mut actual = index.iter();
        for (parent, mut list) in expected {
            list.sort_by(|a, b| a.0.cmp_with(&b.0));
            let mut seqs: Vec<u32> = list.iter().map(|(o, _)| o.seq()).collect();
            seqs.sort_unstable();
            if seqs.windows(2).any(|w| w[0] == w[1]) {
                return Err(fail(
                    table,
                    format!("two children of parent slot {parent} share a link sequence number"),
                ));
            }
            let want: Vec<RawKey> = list.into_iter().map(|(_, k)| k).collect();
            let owner_ok =
                want.first().and_then(|&c| t.row(c)).and_then(|r| E::__fk(r, fk)) == index.owner(parent);
            match actual.next() {
                Some((slot, got)) if slot == parent && got == want.as_slice() && owner_ok => {}
                other => {
                    let column = E::DEF.fk_column(fk);
                    return Err(fail(
                        table,
                        format!("children of parent slot {parent} via {column}: expected {want:?}, found {other:?}"),
                    ));
                }
            }
        }
        if let Some((slot, got)) = actual.next() {
            let column = E::DEF.fk_column(fk);
            return Err(fail(
                table,
                format!("stray children {got:?} under parent slot {slot} via {column}"),
            ));
        }
    }
    Ok(())
}

impl Store {
    /// Recomputes every derived structure (unique and secondary indexes, children lists) from
    /// ground truth (records and foreign keys) and checks every foreign key's target and every
    /// `acyclic` relationship. Reports the first difference.
    ///
    /// Cost: O(records + links) with allocation; meant for tests, not hot paths.
    ///
    /// # Errors
    /// An [`IntegrityError`] naming the table, record and structure that disagree. A store
    /// changed only through its API never returns one; tests call this after every mutation.
    ///
    /// ```
    /// # use relata::{Entity, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct Tag { #[relata(unique)] name: String }
    /// let mut store = Store::new(Schema::builder().entity::<Tag>().build()?);
    /// store.insert(Tag { name: "a".into() })?;
    /// store.check_integrity()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn check_integrity(&self) -> Result<(), IntegrityError> {
        for table in &self.tables {
            table.check_local(!self.in_transaction())?;
        }
        self.check_references()?;
        self.check_links()?;
        self.check_acyclic()
    }

    fn check_links(&self) -> Result<(), IntegrityError> {
        for (r, edges) in self.relations.iter().enumerate() {
            let entry = &self.schema.inner.relations[r];
            edges.check().map_err(|detail| fail(entry.name, detail))?;
            for (_, left, right) in edges.pairs() {
                let dead = [(entry.left, left), (entry.right, right)]
                    .into_iter()
                    .find(|&(t, k)| self.tables[t].state(k) != KeyState::Live);
                if let Some((t, k)) = dead {
                    let table = self.tables[t].def().table;
                    return Err(fail(
                        entry.name,
                        format!("link {left}-{right} has a missing end {table}[{k}]"),
                    ));
                }
            }
        }
        Ok(())
    }

    fn check_references(&self) -> Result<(), IntegrityError> {
        let mut problem = None;
        for (t, table) in self.tables.iter().enumerate() {
            let entry = &self.schema.inner.tables[t];
            table.for_each_fk(&mut |child, fk, parent| {
                let target = &self.tables[entry.fk_targets[fk]];
                if problem.is_none()
                    && target.state(parent) != KeyState::Live
                    && (!entry.def.fks[fk].deferrable || !self.in_transaction())
                {
                    problem = Some((child, fk, parent));
                }
            });
            if let Some((child, fk, parent)) = problem {
                let column = entry.def.fk_column(fk);
                let target = self.tables[entry.fk_targets[fk]].def().table;
                return Err(fail(
                    entry.def.table,
                    format!("{child}.{column} references missing {target}[{parent}]"),
                ));
            }
        }
        Ok(())
    }

    /// No `acyclic` relationship has a cycle. Linear: each record's walk up stops at a record
    /// already cleared.
    pub(crate) fn check_acyclic(&self) -> Result<(), IntegrityError> {
        for table in &self.tables {
            let def = table.def();
            for (fk, _) in def.fks.iter().enumerate().filter(|(_, f)| f.acyclic) {
                let mut parent_of: HashMap<RawKey, RawKey> = HashMap::new();
                table.for_each_fk(&mut |child, f, parent| {
                    if f == fk {
                        parent_of.insert(child, parent);
                    }
                });
                if let Some(start) = find_cycle(&parent_of) {
                    let column = def.fk_column(fk);
                    return Err(fail(
                        def.table,
                        format!("{start} is its own ancestor through {column}"),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// A record on a cycle of the parent map, if there is one.
fn find_cycle(parent_of: &HashMap<RawKey, RawKey>) -> Option<RawKey> {
    let mut cleared: HashSet<RawKey> = HashSet::new();
    for &start in parent_of.keys() {
        let mut path: HashSet<RawKey> = HashSet::new();
        let mut cur = Some(start);
        while let Some(k) = cur {
            if cleared.contains(&k) {
                break;
            }
            if !path.insert(k) {
                return Some(k);
            }
            cur = parent_of.get(&k).copied();
        }
        cleared.extend(path);
    }
    None
}
