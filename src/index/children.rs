//! The parent -> children side of a one-to-many foreign key.
//!
//! One list per parent slot, holding the children in link order (ascending link sequence
//! number, which each child stores as ground truth next to its foreign key). Appending a new
//! link is O(1); removing one is O(k) in the parent's fan-out (a scan and a shift that keeps
//! the order); undo re-inserts at the position given by the sequence number.

use crate::key::RawKey;

/// Children lists indexed by the parent's slot index, each tagged with the key of the parent
/// that owns it, so a look-up by a stale key of a reused slot finds nothing without reading
/// the parent's table.
///
/// **Invariant:** the list at slot `i` holds exactly the children of its owner; it is empty
/// when that owner is no longer live (outside a transaction with deferred restrictions).
#[derive(Clone, Debug, Default)]
pub(crate) struct ChildIndex {
    lists: Vec<Owned>,
}

#[derive(Clone, Debug)]
struct Owned {
    owner: RawKey,
    children: Vec<RawKey>,
}

impl ChildIndex {
    /// The children of `parent` in link order; empty for a key that does not own its slot's
    /// list (a stale key of a reused slot). O(1), one memory access besides the list itself.
    pub(crate) fn get(&self, parent: RawKey) -> &[RawKey] {
        match self.lists.get(parent.index() as usize) {
            Some(l) if l.owner == parent => &l.children,
            _ => &[],
        }
    }

    fn list_mut(&mut self, parent: RawKey) -> &mut Vec<RawKey> {
        let at = parent.index() as usize;
        if self.lists.len() <= at {
            self.lists.resize_with(at + 1, || Owned {
                owner: parent,
                children: Vec::new(),
            });
        }
        let list = &mut self.lists[at];
        if list.owner != parent {
            debug_assert!(list.children.is_empty(), "slot {at} reused while it had children");
            list.owner = parent;
        }
        &mut list.children
    }

    /// Inserts `child` keeping the list sorted by link sequence number; O(1) for the newest
    /// link.
    pub(crate) fn insert(&mut self, parent: RawKey, child: RawKey, seq: u32, seq_of: impl Fn(RawKey) -> u32) {
        self.insert_by(parent, child, |c| seq_of(c) < seq);
    }

    /// Inserts `child` after every entry `sorts_before` accepts (the list is sorted, so those
    /// form a prefix) and returns its position; O(1) when it sorts last.
    pub(crate) fn insert_by(
        &mut self,
        parent: RawKey,
        child: RawKey,
        sorts_before: impl Fn(RawKey) -> bool,
    ) -> usize {
        let list = self.list_mut(parent);
        match list.last() {
            Some(&last) if !sorts_before(last) => {
                let at = list.partition_point(|&c| sorts_before(c));
                list.insert(at, child);
                at
            }
            _ => {
                list.push(child);
                list.len() - 1
            }
        }
    }

    /// Removes `child` from `parent`'s list; `false` if it was not there.
    pub(crate) fn remove(&mut self, parent: RawKey, child: RawKey) -> bool {
        let Some(list) = self
            .lists
            .get_mut(parent.index() as usize)
            .map(|l| &mut l.children)
        else {
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
            .filter(|(_, l)| !l.children.is_empty())
            .map(|(i, l)| (i as u32, l.children.as_slice()))
    }

    /// The owner of the non-empty list at slot `index`.
    pub(crate) fn owner(&self, index: u32) -> Option<RawKey> {
        self.lists
            .get(index as usize)
            .filter(|l| !l.children.is_empty())
            .map(|l| l.owner)
    }
}
