//! Many-to-many relations in the model: a map of pairs to link times per relation.

use relata::{Error, RawKey};

use super::{KeyState, Model, RELATIONS};

impl Model {
    /// The pairs of relation `r`.
    pub fn pairs(&self, r: usize) -> &super::Pairs {
        &self.links[r]
    }

    /// The right ends linked to `left`, in link order.
    pub fn rights(&self, r: usize, left: RawKey) -> Vec<RawKey> {
        let mut v: Vec<(u64, RawKey)> = self.links[r]
            .iter()
            .filter(|((l, _), _)| *l == left)
            .map(|(&(_, rt), &at)| (at, rt))
            .collect();
        v.sort();
        v.into_iter().map(|(_, k)| k).collect()
    }

    /// The left ends linked to `right`, in link order.
    pub fn lefts(&self, r: usize, right: RawKey) -> Vec<RawKey> {
        let mut v: Vec<(u64, RawKey)> = self.links[r]
            .iter()
            .filter(|((_, rt), _)| *rt == right)
            .map(|(&(l, _), &at)| (at, l))
            .collect();
        v.sort();
        v.into_iter().map(|(_, k)| k).collect()
    }

    /// `Store::link_if_absent`'s effect: `Ok(false)` for a linked pair, else both ends must
    /// be live (left first).
    pub fn link(&mut self, r: usize, left: RawKey, right: RawKey) -> Result<bool, Error> {
        if self.links[r].contains_key(&(left, right)) {
            return Ok(false);
        }
        let spec = &RELATIONS[r];
        for ((t, column), key) in [(spec.left, left), (spec.right, right)] {
            let (table, target) = (spec.name, t.spec().name);
            match self.key_state(t, key) {
                KeyState::Live => {}
                KeyState::Stale => {
                    return Err(Error::DeletedTarget {
                        table,
                        column,
                        target,
                        key,
                    })
                }
                KeyState::Missing => {
                    return Err(Error::MissingTarget {
                        table,
                        column,
                        target,
                        key,
                    })
                }
            }
        }
        self.clock += 1;
        self.links[r].insert((left, right), self.clock);
        Ok(true)
    }

    /// The error `Store::link` reports for a pair already linked.
    pub fn duplicate_link(&self, r: usize, left: RawKey, right: RawKey) -> Error {
        let spec = &RELATIONS[r];
        Error::DuplicateLink {
            relation: spec.name,
            left_column: spec.left.1,
            right_column: spec.right.1,
            left_table: spec.left.0.spec().name,
            right_table: spec.right.0.spec().name,
            left,
            right,
        }
    }

    /// `Store::unlink`.
    pub fn unlink(&mut self, r: usize, left: RawKey, right: RawKey) -> Result<(), Error> {
        if self.links[r].remove(&(left, right)).is_some() {
            return Ok(());
        }
        let spec = &RELATIONS[r];
        Err(Error::NotLinked {
            relation: spec.name,
            left_table: spec.left.0.spec().name,
            right_table: spec.right.0.spec().name,
            left,
            right,
        })
    }
}
