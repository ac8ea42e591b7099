//! Relationship assignment in the model, step by step as the contract describes it: a child
//! that loses its parent follows its key's policy (delete-orphan deletes it, an optional key
//! becomes NULL, a required key is refused); a one-to-one slot's occupant is displaced first.
//! Each operation runs on a copy and replaces the model only if every step succeeded.

use relata::{Error, RawKey};

use super::{Expected, KeyState, Model, TableId, V};

impl Model {
    fn live_fk(&self, t: TableId, key: RawKey, fk: usize) -> Option<RawKey> {
        let field = t.spec().fks[fk].field;
        self.record(t, key).and_then(|r| r.values[field].raw_key())
    }

    pub(crate) fn require_live(&self, t: TableId, key: RawKey) -> Result<(), Expected> {
        match self.key_state(t, key) {
            KeyState::Live => Ok(()),
            _ => Err(Expected::Exactly(self.not_live_error(t, key))),
        }
    }

    /// `Store::set_parent`.
    pub fn set_parent(
        &mut self,
        t: TableId,
        fk: usize,
        child: RawKey,
        parent: Option<RawKey>,
    ) -> Result<(), Expected> {
        self.assign_parent(t, fk, child, parent)
    }

    /// `Store::set_child` (the caller has checked the key is one-to-one).
    pub fn set_child(
        &mut self,
        t: TableId,
        fk: usize,
        parent: RawKey,
        child: Option<RawKey>,
    ) -> Result<(), Expected> {
        self.require_live(t.spec().fks[fk].target, parent)?;
        let current = self.children(t, fk, parent);
        if current.first().copied() == child {
            return Ok(());
        }
        for old in current {
            self.lose_parent(t, fk, old)?;
        }
        match child {
            Some(c) => self.assign_parent(t, fk, c, Some(parent)),
            None => Ok(()),
        }
    }

    /// `Store::replace_children`.
    pub fn replace_children(
        &mut self,
        t: TableId,
        fk: usize,
        parent: RawKey,
        children: &[RawKey],
    ) -> Result<(), Expected> {
        self.require_live(t.spec().fks[fk].target, parent)?;
        for old in self.children(t, fk, parent) {
            if !children.contains(&old) {
                self.lose_parent(t, fk, old)?;
            }
        }
        for &c in children {
            self.assign_parent(t, fk, c, Some(parent))?;
        }
        Ok(())
    }

    /// `child.fk = parent`, displacing the occupant of a one-to-one slot.
    fn assign_parent(
        &mut self,
        t: TableId,
        fk: usize,
        child: RawKey,
        parent: Option<RawKey>,
    ) -> Result<(), Expected> {
        self.require_live(t, child)?;
        let current = self.live_fk(t, child, fk);
        match parent {
            _ if current == parent => Ok(()),
            None => self.lose_parent(t, fk, child),
            Some(p) => {
                if t.spec().fks[fk].unique {
                    for other in self.children(t, fk, p) {
                        if other != child {
                            self.lose_parent(t, fk, other)?;
                        }
                    }
                }
                self.write_fk(t, child, fk, Some(p))
            }
        }
    }

    /// The child's policy when it loses its parent.
    fn lose_parent(&mut self, t: TableId, fk: usize, child: RawKey) -> Result<(), Expected> {
        let def = &t.spec().fks[fk];
        if def.orphan && !def.nullable {
            return self.delete(t, child).map(drop);
        }
        self.write_fk(t, child, fk, None)
    }

    /// Points one foreign key of a live record elsewhere (or to NULL), with every check.
    fn write_fk(&mut self, t: TableId, key: RawKey, fk: usize, to: Option<RawKey>) -> Result<(), Expected> {
        self.require_live(t, key)?;
        let spec = t.spec();
        let def = &spec.fks[fk];
        if to.is_none() && !def.nullable {
            return Err(Expected::Exactly(Error::RequiredReference {
                table: spec.name,
                column: spec.columns[def.field],
                key,
            }));
        }
        let mut values = self.record(t, key).map(|r| r.values.clone()).unwrap_or_default();
        values[def.field] = to.map_or(V::Null, V::Key);
        if self.record(t, key).is_some_and(|r| r.values == values) {
            return Ok(());
        }
        self.update(t, key, values).map_err(Expected::Exactly)
    }
}
