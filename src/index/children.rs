//! The parent -> children side of a one-to-many foreign key.
//!
//! One list per parent slot, holding the children in link order (ascending link sequence
//! number, which each child stores as ground truth next to its foreign key). Appending a new
//! link is O(1); removing one is O(k) in the parent's fan-out (a scan and a shift that keeps
//! the order); undo re-inserts at the position given by the sequence number.

use crate::key::RawKey;

/// Children lists indexed by the parent's slot index.
///
/// **Invariant:** the list at slot `i` belongs to the live parent in slot `i`; it is empty when
/// that slot holds no live parent, so a reused slot never inherits children.
#[derive(Clone, Debug, Default)]
pub(crate) struct ChildIndex {
    lists: Vec<Vec<RawKey>>,
}

impl ChildIndex {
    /// The children of `parent` in link order. The caller has checked that `parent` is live.
    pub(crate) fn get(&self, parent: RawKey) -> &[RawKey] {
        self.lists.get(parent.index() as usize).map_or(&[], Vec::as_slice)
    }

    fn list_mut(&mut self, parent: RawKey) -> &mut Vec<RawKey> {
        let at = parent.index() as usize;
        if self.lists.len() <= at {
            self.lists.resize_with(at + 1, Vec::new);
        }
        &mut self.lists[at]
    }

    /// Inserts `child` keeping the list sorted by link sequence number; O(1) for the newest
    /// link.
    pub(crate) fn insert(&mut self, parent: RawKey, child: RawKey, seq: u32, seq_of: impl Fn(RawKey) -> u32) {
        self.insert_by(parent, child, |c| seq_of(c) < seq)
    }

    /// Inserts `child` after every entry `sorts_before` accepts (the list is sorted, so those
    /// form a prefix); O(1) when it sorts last.
    pub(crate) fn insert_by(&mut self, parent: RawKey, child: RawKey, sorts_before: impl Fn(RawKey) -> bool) {
        let list = self.list_mut(parent);
        match list.last() {
            Some(&last) if !sorts_before(last) => {
                let at = list.partition_point(|&c| sorts_before(c));
                list.insert(at, child);
            }
            _ => list.push(child),
        }
    }

    /// Removes `child` from `parent`'s list; `false` if it was not there.
    pub(crate) fn remove(&mut self, parent: RawKey, child: RawKey) -> bool {
        let Some(list) = self.lists.get_mut(parent.index() as usize) else {
            return false;
        };
        match list.iter().rposition(|&c| c == child) {
            Some(at) => {
                list.remove(at);
                true
            }
            None => false,
        }
    }

    /// All non-empty lists with their slot index, for the integrity checker.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (u32, &[RawKey])> {
        self.lists
            .iter()
            .enumerate()
            .filter(|(_, l)| !l.is_empty())
            .map(|(i, l)| (i as u32, l.as_slice()))
    }
}
