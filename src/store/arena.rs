//! A generational arena: the slots of one table, each holding a record or nothing, with a
//! version that tells a record's key from the keys of the records that held the slot before.
//!
//! relata's own rather than slotmap's because a snapshot must restore every slot's version (so
//! a stale key stays stale after a load) and slotmap offers no way to set one: with our own,
//! saving reads the versions and loading hands them back ([`Arena::from_parts`]), validated.

use crate::key::RawKey;

/// One slot: `version` is odd while it holds a record, even while vacant (0 for a slot whose
/// versions are used up, never reused). A vacant slot holds `T::default()`.
#[derive(Clone, Debug)]
struct Slot<T> {
    version: u32,
    value: T,
}

/// Slots indexed by key index; slot 0 is never used, so no key has index 0 (as in slotmap,
/// whose numbering relata's keys kept).
#[derive(Clone, Debug)]
pub(crate) struct Arena<T> {
    slots: Vec<Slot<T>>,
    /// Vacant slots to reuse, the last freed first.
    free: Vec<u32>,
    len: usize,
}

impl<T: Default> Default for Arena<T> {
    fn default() -> Self {
        Arena {
            slots: vec![Slot {
                version: 0,
                value: T::default(),
            }],
            free: Vec::new(),
            len: 0,
        }
    }
}

/// Why [`Arena::from_parts`] refused its input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum BadSlots {
    /// More slots than a key index can name.
    TooMany,
    /// The number of occupied slots differs from the number of values.
    Count { occupied: usize, values: usize },
}

impl<T: Default> Arena<T> {
    /// Live records.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Every key index is below this.
    pub(crate) fn slot_count(&self) -> usize {
        self.slots.len()
    }

    /// Whether `key`'s slot ever held a record (slot 0 never does).
    pub(crate) fn slot_was_used(&self, key: RawKey) -> bool {
        (1..self.slots.len()).contains(&(key.index() as usize))
    }

    fn slot(&self, key: RawKey) -> Option<&Slot<T>> {
        let slot = self.slots.get(key.index() as usize)?;
        (slot.version == key.version() && slot.version % 2 == 1).then_some(slot)
    }

    pub(crate) fn contains_key(&self, key: RawKey) -> bool {
        self.slot(key).is_some()
    }

    pub(crate) fn get(&self, key: RawKey) -> Option<&T> {
        self.slot(key).map(|s| &s.value)
    }

    pub(crate) fn get_mut(&mut self, key: RawKey) -> Option<&mut T> {
        self.contains_key(key)
            .then(|| &mut self.slots[key.index() as usize].value)
    }

    /// Stores `value` in a free slot (the last freed) or a new one; returns its key.
    pub(crate) fn insert(&mut self, value: T) -> RawKey {
        self.len += 1;
        if let Some(index) = self.free.pop() {
            let slot = &mut self.slots[index as usize];
            slot.version += 1;
            slot.value = value;
            return RawKey::new(index, slot.version);
        }
        let index = self.slots.len() as u32;
        self.slots.push(Slot { version: 1, value });
        RawKey::new(index, 1)
    }

    /// Takes the record out, leaving the slot vacant but not free: only
    /// [`reattach`](Self::reattach) (undo) or [`free`](Self::free) (finalize) may follow.
    pub(crate) fn detach(&mut self, key: RawKey) -> Option<T> {
        self.contains_key(key).then(|| {
            self.len -= 1;
            let slot = &mut self.slots[key.index() as usize];
            slot.version = slot.version.wrapping_add(1);
            std::mem::take(&mut slot.value)
        })
    }

    /// Puts a detached record back under its old key.
    pub(crate) fn reattach(&mut self, key: RawKey, value: T) {
        if let Some(slot) = self.slots.get_mut(key.index() as usize) {
            if slot.version == key.version().wrapping_add(1) {
                self.len += 1;
                slot.version = key.version();
                slot.value = value;
            }
        }
    }

    /// Makes the detached slot of `key` reusable (unless its versions are used up).
    pub(crate) fn free(&mut self, key: RawKey) {
        if let Some(slot) = self.slots.get(key.index() as usize) {
            if slot.version == key.version().wrapping_add(1) && slot.version != 0 {
                self.free.push(key.index());
            }
        }
    }

    /// Removes a record for good: [`detach`](Self::detach) then [`free`](Self::free).
    pub(crate) fn remove(&mut self, key: RawKey) -> Option<T> {
        let value = self.detach(key)?;
        self.free(key);
        Some(value)
    }

    /// Live records in slot order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (RawKey, &T)> + '_ {
        (self.slots.iter().enumerate())
            .filter(|(_, s)| s.version % 2 == 1)
            .map(|(i, s)| (RawKey::new(i as u32, s.version), &s.value))
    }

    pub(crate) fn keys(&self) -> impl Iterator<Item = RawKey> + '_ {
        self.iter().map(|(k, _)| k)
    }

    pub(crate) fn values_mut(&mut self) -> impl Iterator<Item = &mut T> + '_ {
        (self.slots.iter_mut())
            .filter(|s| s.version % 2 == 1)
            .map(|s| &mut s.value)
    }

    /// The ground truth of the arena: each slot's version (from slot 1; a detached slot counts
    /// as vacant).
    pub(crate) fn versions(&self) -> impl Iterator<Item = u32> + '_ {
        self.slots.iter().skip(1).map(|s| s.version)
    }

    /// The arena whose slots from 1 on have `versions` (odd: occupied, taking the next of
    /// `values` in order), with every vacant slot free except those whose versions are used
    /// up (version 0), lowest index reused first. O(slots).
    pub(crate) fn from_parts(versions: Vec<u32>, values: Vec<T>) -> Result<Self, BadSlots> {
        if versions.len() >= u32::MAX as usize {
            return Err(BadSlots::TooMany);
        }
        let occupied = versions.iter().filter(|v| *v % 2 == 1).count();
        if occupied != values.len() {
            return Err(BadSlots::Count {
                occupied,
                values: values.len(),
            });
        }
        let mut arena = Arena::default();
        arena.slots.reserve_exact(versions.len());
        let mut values = values.into_iter();
        for version in versions {
            let value = match version % 2 {
                1 => values.next().unwrap_or_default(),
                _ => T::default(),
            };
            arena.slots.push(Slot { version, value });
        }
        arena.free = (arena.slots.iter().enumerate().rev())
            .filter(|(i, s)| *i > 0 && s.version % 2 == 0 && s.version != 0)
            .map(|(i, _)| i as u32)
            .collect();
        arena.len = occupied;
        Ok(arena)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reused_slot_gets_a_new_version_and_old_keys_stay_stale() {
        let mut a: Arena<u8> = Arena::default();
        let k1 = a.insert(1);
        assert_eq!(a.remove(k1), Some(1));
        let k2 = a.insert(2);
        assert_eq!((k2.index(), k2.version()), (k1.index(), 3));
        assert_eq!(a.get(k1), None);
        assert_eq!(a.get(k2), Some(&2));
    }

    #[test]
    fn detach_and_reattach_restore_the_same_key_and_free_makes_it_reusable() {
        let mut a: Arena<u8> = Arena::default();
        let k = a.insert(7);
        assert_eq!(a.detach(k), Some(7));
        assert!(!a.contains_key(k));
        let other = a.insert(8);
        assert_ne!(other.index(), k.index(), "a detached slot is not reused");
        a.reattach(k, 7);
        assert_eq!(a.get(k), Some(&7));
        a.detach(k);
        a.free(k);
        assert_eq!(a.insert(9).index(), k.index());
    }

    #[test]
    fn from_parts_restores_versions_and_refuses_bad_counts() {
        let a = Arena::from_parts(vec![3, 2, 1, 0], vec!['a', 'b']).unwrap();
        let keys: Vec<_> = a.keys().map(|k| (k.index(), k.version())).collect();
        assert_eq!(keys, [(1, 3), (3, 1)]);
        let mut a = a;
        assert_eq!(
            a.insert('c'),
            RawKey::new(2, 3),
            "the vacant slot, not the used-up one"
        );
        assert_eq!(a.insert('d').index(), 5);
        assert_eq!(
            Arena::from_parts(vec![1, 1], vec!['a']).unwrap_err(),
            BadSlots::Count {
                occupied: 2,
                values: 1
            }
        );
    }
}
