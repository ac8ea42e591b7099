//! Inserts and rewrites in the model: unique constraints in declaration order, then foreign
//! keys in field order (target live, then no cycle), then the write itself.

use relata::{Error, RawKey};

use super::spec::{TableSpec, UniqueSpec};
use super::{KeyState, MRecord, Model, TableId, V};

impl Model {
    /// What writing `values` into table `t` would fail with, if anything. `key` is the record
    /// being rewritten (`None` for an insert); the caller has checked it is live.
    pub fn check_write(&self, t: TableId, key: Option<RawKey>, values: &[V]) -> Result<(), Error> {
        check_lengths(t, key, values)?;
        self.check_uniques(t, key, values)?;
        self.check_fks(t, key, values)
    }

    /// Immediate unique constraints, last declared first (deferrable ones wait for the
    /// commit point).
    fn check_uniques(&self, t: TableId, key: Option<RawKey>, values: &[V]) -> Result<(), Error> {
        for u in t.spec().uniques.iter().rev().filter(|u| !u.deferrable) {
            let wanted: Vec<V> = u.fields.iter().map(|&f| values[f].clone()).collect();
            let holder = self
                .unique_holders(t, u, &wanted)
                .into_iter()
                .find(|&k| Some(k) != key);
            if let Some(existing) = holder {
                return Err(self.unique_error(t, u, &wanted, existing));
            }
        }
        Ok(())
    }

    /// The violation of unique constraint `u` by `wanted`, held by `existing`.
    pub(super) fn unique_error(&self, t: TableId, u: &UniqueSpec, wanted: &[V], existing: RawKey) -> Error {
        let spec = t.spec();
        Error::UniqueViolation {
            table: spec.name,
            columns: u.columns,
            constraint: u.name,
            value: quote_tuple(spec, u.fields, wanted).into(),
            existing,
        }
    }

    fn check_fks(&self, t: TableId, key: Option<RawKey>, values: &[V]) -> Result<(), Error> {
        let spec = t.spec();
        for (fk, def) in spec.fks.iter().enumerate() {
            let V::Key(parent) = values[def.field] else {
                continue;
            };
            let (table, column) = (spec.name, spec.columns[def.field]);
            let target = def.target.spec().name;
            match self.key_state(def.target, parent) {
                KeyState::Live => {}
                KeyState::Stale => {
                    return Err(Error::DeletedTarget {
                        table,
                        column,
                        target,
                        key: parent,
                    })
                }
                KeyState::Missing => {
                    return Err(Error::MissingTarget {
                        table,
                        column,
                        target,
                        key: parent,
                    })
                }
            }
            if let (true, Some(key)) = (def.acyclic, key) {
                if self.is_ancestor_or_self(t, fk, key, parent) {
                    return Err(Error::Cycle {
                        table,
                        column,
                        key,
                        parent,
                    });
                }
            }
        }
        Ok(())
    }

    /// `true` if walking up foreign key `fk` from `from` (inclusive) reaches `ancestor`.
    fn is_ancestor_or_self(&self, t: TableId, fk: usize, ancestor: RawKey, from: RawKey) -> bool {
        let field = t.spec().fks[fk].field;
        let mut cur = Some(from);
        for _ in 0..=self.live(t).len() {
            match cur {
                Some(k) if k == ancestor => return true,
                Some(k) => cur = self.record(t, k).and_then(|r| r.values[field].raw_key()),
                None => return false,
            }
        }
        false
    }

    /// Records a successful insert under the key the store handed out.
    pub fn insert_as(&mut self, t: TableId, key: RawKey, values: Vec<V>) {
        self.table_mut(t).issued.push(key);
        self.put(t, key, values);
    }

    /// Rewrites a live record: checks, then writes. Changing a foreign key makes a new link
    /// (the record goes to the end of its new parent's children).
    pub fn update(&mut self, t: TableId, key: RawKey, values: Vec<V>) -> Result<(), Error> {
        if self.key_state(t, key) != KeyState::Live {
            return Err(self.not_live_error(t, key));
        }
        self.check_write(t, Some(key), &values)?;
        self.put(t, key, values);
        Ok(())
    }

    /// Writes a record, stamping each foreign key whose value changed to non-NULL.
    fn put(&mut self, t: TableId, key: RawKey, values: Vec<V>) {
        let old = self.record(t, key).cloned();
        let mut linked_at = Vec::new();
        for (fk, def) in t.spec().fks.iter().enumerate() {
            let new = &values[def.field];
            let stamp = match &old {
                Some(o) if o.values[def.field] == *new => o.linked_at[fk],
                _ if *new == V::Null => 0,
                _ => {
                    self.clock += 1;
                    self.clock
                }
            };
            linked_at.push(stamp);
        }
        self.table_mut(t).live.insert(key, MRecord { values, linked_at });
    }

    /// Sets one foreign key of a live record to NULL (ON DELETE SET NULL).
    pub(super) fn null_out(&mut self, t: TableId, key: RawKey, fk: usize) {
        let field = t.spec().fks[fk].field;
        if let Some(r) = self.table_mut(t).live.get_mut(&key) {
            r.values[field] = V::Null;
            r.linked_at[fk] = 0;
        }
    }
}

/// Every `max_len` column within its limit, in characters (checked before anything else).
fn check_lengths(t: TableId, key: Option<RawKey>, values: &[V]) -> Result<(), Error> {
    let spec = t.spec();
    for &(field, limit) in spec.max_len {
        let length = values[field].str().chars().count();
        if length > limit as usize {
            return Err(Error::TooLong {
                table: spec.name,
                column: spec.columns[field],
                key,
                limit,
                length,
            });
        }
    }
    Ok(())
}

/// `'alice'` for one value, `('a', 1)` for several: how relata quotes a unique violation. A
/// foreign-key value names its table: `accounts[1v1]`.
fn quote_tuple(spec: &TableSpec, fields: &[usize], values: &[V]) -> String {
    let quote = |(&f, v): (&usize, &V)| match (v, spec.fks.iter().find(|fk| fk.field == f)) {
        (V::Key(k), Some(fk)) => format!("{}[{k}]", fk.target.spec().name),
        _ => v.sql_literal(),
    };
    let parts: Vec<String> = fields.iter().zip(values).map(quote).collect();
    match parts.as_slice() {
        [one] => one.clone(),
        _ => format!("({})", parts.join(", ")),
    }
}
