//! A table's records: a slotmap arena, addressed by relata's keys.
//!
//! slotmap gives each record a slot and a version, so a key to a deleted record stays stale
//! when its slot is reused. This wrapper adds what the store needs beside it: access by
//! [`RawKey`] (converted in `key.rs`), deletes that can be undone under the same key (slotmap's
//! `detach`/`reattach`, through a [`Detached`] token), and how far slot indexes have gone (so a
//! key to a slot never used is told from a stale one).

use serde::{Deserialize, Serialize};
use slotmap::{DefaultKey, SlotMap};

use crate::key::RawKey;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Rows<R> {
    map: SlotMap<DefaultKey, R>,
    /// One past the highest slot index ever handed out (0 for none): the length of slotmap's
    /// slot vector, which slotmap does not expose (a load checks it against the slots saved).
    slots: u32,
}

/// A record taken out by [`Rows::detach`]: its slot stays vacant and unused until the token
/// is given back to [`Rows::reattach`] (undo) or [`Rows::free`] (finalize). The token is the
/// only way to either, and each consumes it, so slotmap's `reattach` (which panics on a key that
/// is not detached) only ever sees the key it detached.
#[derive(Clone, Debug)]
pub(crate) struct Detached<R> {
    key: RawKey,
    pub(crate) row: R,
}

impl<R> Detached<R> {
    pub(crate) fn key(&self) -> RawKey {
        self.key
    }
}

impl<R> Default for Rows<R> {
    fn default() -> Self {
        Rows {
            map: SlotMap::new(),
            slots: 0,
        }
    }
}

impl<R> Rows<R> {
    /// Live records.
    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    /// Every key index is below this.
    pub(crate) fn slot_count(&self) -> usize {
        self.slots as usize
    }

    /// Whether `key`'s slot ever held a record (slot 0 never does).
    pub(crate) fn slot_was_used(&self, key: RawKey) -> bool {
        (1..self.slots).contains(&key.index())
    }

    pub(crate) fn contains_key(&self, key: RawKey) -> bool {
        key.slot().is_some_and(|k| self.map.contains_key(k))
    }

    pub(crate) fn get(&self, key: RawKey) -> Option<&R> {
        self.map.get(key.slot()?)
    }

    pub(crate) fn get_mut(&mut self, key: RawKey) -> Option<&mut R> {
        self.map.get_mut(key.slot()?)
    }

    /// Stores `row` in a free slot or a new one; returns its key. O(1).
    pub(crate) fn insert(&mut self, row: R) -> RawKey {
        let key = RawKey::from_slot(self.map.insert(row));
        self.slots = self.slots.max(key.index() + 1);
        key
    }

    /// Takes a live record out, leaving its slot vacant and not reusable.
    pub(crate) fn detach(&mut self, key: RawKey) -> Option<Detached<R>> {
        let row = self.map.detach(key.slot()?)?;
        Some(Detached { key, row })
    }

    /// Puts a detached record back under its old key.
    pub(crate) fn reattach(&mut self, detached: Detached<R>) {
        if let Some(k) = detached.key.slot() {
            self.map.reattach(k, detached.row);
        }
    }

    /// Makes a detached record's slot reusable; returns the record.
    pub(crate) fn free(&mut self, detached: Detached<R>) -> R {
        let key = detached.key;
        let row = detached.row;
        let Some(k) = key.slot() else { return row };
        self.map.reattach(k, row);
        self.map
            .remove(k)
            .unwrap_or_else(|| unreachable!("reattached just now"))
    }

    /// Removes a live record for good.
    pub(crate) fn remove(&mut self, key: RawKey) -> Option<R> {
        self.map.remove(key.slot()?)
    }

    /// Live records in slot order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (RawKey, &R)> + '_ {
        self.map.iter().map(|(k, r)| (RawKey::from_slot(k), r))
    }

    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = (RawKey, &mut R)> + '_ {
        self.map.iter_mut().map(|(k, r)| (RawKey::from_slot(k), r))
    }

    pub(crate) fn keys(&self) -> impl Iterator<Item = RawKey> + '_ {
        self.map.keys().map(RawKey::from_slot)
    }

    pub(crate) fn values_mut(&mut self) -> impl Iterator<Item = &mut R> + '_ {
        self.map.values_mut()
    }

    /// Whether the recorded slot count is the one `slots` gives, the length of slotmap's
    /// slot vector (slot 0 included, so 1 for a table that never held a record).
    pub(crate) fn counts_slots(&self, slots: u64) -> bool {
        let expected = if slots > 1 { slots } else { 0 };
        u64::from(self.slots) == expected
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reused_slot_gets_a_new_version_and_old_keys_stay_stale() {
        let mut rows: Rows<u8> = Rows::default();
        let k1 = rows.insert(1);
        assert_eq!(rows.remove(k1), Some(1));
        let k2 = rows.insert(2);
        assert_eq!(k2.index(), k1.index());
        assert_eq!(rows.get(k1), None);
        assert!(rows.slot_was_used(k1));
        assert_eq!(rows.get(k2), Some(&2));
    }

    #[test]
    fn detach_and_reattach_restore_the_same_key_and_free_makes_it_reusable() {
        let mut rows: Rows<u8> = Rows::default();
        let k = rows.insert(7);
        let d = rows.detach(k).unwrap();
        assert!(!rows.contains_key(k));
        assert_ne!(rows.insert(8).index(), k.index(), "a detached slot is not reused");
        rows.reattach(d);
        assert_eq!(rows.get(k), Some(&7));
        let d = rows.detach(k).unwrap();
        assert_eq!(rows.free(d), 7);
        assert_eq!(rows.insert(9).index(), k.index());
    }
}
