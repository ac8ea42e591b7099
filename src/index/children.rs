//! The parent -> children side of a one-to-many foreign key (and of an edge set's two
//! directions).
//!
//! One list per parent slot, holding the children in link order (ascending link sequence
//! number, which each child stores as ground truth next to its foreign key). Appending a new
//! link is O(1) amortized; removing one is O(k) in the parent's fan-out (a scan and a shift
//! that keeps the order); undo re-inserts at the position given by the sequence number.
//!
//! All lists share one pool, each a contiguous run with room to grow at its end, so the index
//! is two buffers however many parents it has: a fork copies it with two `memcpy`s and a load
//! sizes it exactly from a counting pass. A full list that is not last in the pool moves to the
//! end with twice its room; the run it leaves is garbage, and the pool is compacted when
//! garbage passes an eighth of it. Compaction keeps each list's room (trimmed to twice its
//! length when it is more than half empty), so a list does not move again right after it: the
//! copying is paid by the moves that made the garbage (at most seven entries copied per
//! entry of garbage), and the pool stays within 8/7 of its lists' runs.

use crate::key::RawKey;

/// Children lists indexed by the parent's slot index, each tagged with the key of the parent
/// that owns it, so a look-up by a stale key of a reused slot finds nothing without reading
/// the parent's table.
///
/// **Invariant:** the list at slot `i` holds exactly the children of its owner; it is empty
/// when that owner is no longer live (outside a transaction with deferred restrictions). Lists'
/// runs (`start..start + cap`) lie in the pool and never overlap.
#[derive(Clone, Debug, Default)]
pub(crate) struct ChildIndex {
    lists: Vec<List>,
    pool: Vec<RawKey>,
    /// Pool entries outside every list's run.
    garbage: usize,
}

#[derive(Clone, Copy, Debug)]
struct List {
    owner: RawKey,
    start: usize,
    len: u32,
    cap: u32,
}

impl List {
    fn new(owner: RawKey) -> List {
        List {
            owner,
            start: 0,
            len: 0,
            cap: 0,
        }
    }

    fn range(&self) -> std::ops::Range<usize> {
        self.start..self.start + self.len as usize
    }
}

/// Compaction waits until this many pool entries are garbage (small indexes never compact).
/// Only a move makes garbage, so only a move (in `grow`) checks for it.
const COMPACT_MIN: usize = 1024;

impl ChildIndex {
    /// An empty index with each parent's run sized exactly: `counts` gives parents (each at
    /// most once) and how many children each is about to receive (a load's counting pass;
    /// parents with none are skipped). Both buffers are allocated once. O(parents + children).
    pub(crate) fn with_counts<I>(counts: I) -> ChildIndex
    where
        I: IntoIterator<Item = (RawKey, u32)>,
        I::IntoIter: Clone,
    {
        let counts = counts.into_iter().filter(|&(_, n)| n > 0);
        let total = counts.clone().map(|(_, n)| n as usize).sum();
        let slots = counts.clone().map(|(p, _)| p.index() as usize + 1).max();
        let mut index = ChildIndex {
            lists: Vec::with_capacity(slots.unwrap_or(0)),
            pool: vec![RawKey::default(); total],
            garbage: 0,
        };
        let mut start = 0;
        for (parent, cap) in counts {
            let at = parent.index() as usize;
            if index.lists.len() <= at {
                index.lists.resize(at + 1, List::new(parent));
            }
            index.lists[at] = List {
                owner: parent,
                start,
                len: 0,
                cap,
            };
            start += cap as usize;
        }
        index
    }

    /// The children of `parent` in link order; empty for a key that does not own its slot's
    /// list (a stale key of a reused slot). O(1), one memory access besides the list itself.
    pub(crate) fn get(&self, parent: RawKey) -> &[RawKey] {
        match self.lists.get(parent.index() as usize) {
            Some(l) if l.owner == parent => self.pool.get(l.range()).unwrap_or_default(),
            _ => &[],
        }
    }

    /// The list of `parent`'s slot, taken over by `parent` if another key owned it.
    fn list_mut(&mut self, parent: RawKey) -> &mut List {
        let at = parent.index() as usize;
        if self.lists.len() <= at {
            self.lists.resize(at + 1, List::new(parent));
        }
        let list = &mut self.lists[at];
        if list.owner != parent {
            debug_assert!(list.len == 0, "slot {at} reused while it had children");
            list.owner = parent;
        }
        list
    }

    /// Makes room for one more child in `parent`'s list; returns the list.
    fn grow(&mut self, parent: RawKey) -> List {
        let pool_len = self.pool.len();
        let list = *self.list_mut(parent);
        if list.len < list.cap {
            return list;
        }
        let at = parent.index() as usize;
        if list.start + list.cap as usize == pool_len {
            // Last in the pool: grow in place.
            self.pool.push(RawKey::default());
            self.lists[at].cap += 1;
            return self.lists[at];
        }
        if self.garbage >= COMPACT_MIN && self.garbage * 8 > pool_len {
            self.compact();
            return self.grow(parent); // once: the pool has no garbage now
        }
        let cap = list.cap.saturating_mul(2).max(4);
        self.pool.extend_from_within(list.range());
        self.pool.resize(pool_len + cap as usize, RawKey::default());
        self.garbage += list.cap as usize;
        self.lists[at].start = pool_len;
        self.lists[at].cap = cap;
        self.lists[at]
    }

    /// Appends `child` to `parent`'s list, which must have room: a load sized it with
    /// [`with_counts`](Self::with_counts). Falls back to [`insert_by`](Self::insert_by) if not.
    #[inline]
    pub(crate) fn push_in_room(&mut self, parent: RawKey, child: RawKey) {
        match self.lists.get_mut(parent.index() as usize) {
            Some(list) if list.owner == parent && list.len < list.cap => {
                self.pool[list.start + list.len as usize] = child;
                list.len += 1;
            }
            _ => {
                debug_assert!(false, "no room for a child of {parent}");
                self.insert_by(parent, child, |_| true);
            }
        }
    }

    /// Inserts `child` keeping the list sorted by link sequence number; O(1) amortized for
    /// the newest link.
    pub(crate) fn insert(&mut self, parent: RawKey, child: RawKey, seq: u32, seq_of: impl Fn(RawKey) -> u32) {
        self.insert_by(parent, child, |c| seq_of(c) < seq);
    }

    /// Inserts `child` after every entry `sorts_before` accepts (the list is sorted, so those
    /// form a prefix) and returns its position; O(1) amortized when it sorts last.
    pub(crate) fn insert_by(
        &mut self,
        parent: RawKey,
        child: RawKey,
        sorts_before: impl Fn(RawKey) -> bool,
    ) -> usize {
        let list = self.grow(parent);
        let len = list.len as usize;
        let run = &mut self.pool[list.start..list.start + len + 1];
        let at = match run[..len].last() {
            Some(&prev) if !sorts_before(prev) => run[..len].partition_point(|&c| sorts_before(c)),
            _ => len,
        };
        run.copy_within(at..len, at + 1);
        run[at] = child;
        self.lists[parent.index() as usize].len += 1;
        at
    }

    /// Removes `child` from `parent`'s list; `false` if it was not there.
    pub(crate) fn remove(&mut self, parent: RawKey, child: RawKey) -> bool {
        let Some(list) = self.lists.get_mut(parent.index() as usize) else {
            return false;
        };
        let run = &mut self.pool[list.start..list.start + list.len as usize];
        let Some(at) = run.iter().rposition(|&c| c == child) else {
            return false;
        };
        run.copy_within(at + 1.., at);
        list.len -= 1;
        true
    }

    /// Squeezes the garbage out of the pool in place (no second buffer: the pool's memory is
    /// reused by later growth). Each list keeps its room, trimmed to twice its length (at
    /// least 4) when more than half of it is empty. O(pool + lists log lists).
    fn compact(&mut self) {
        let mut order: Vec<usize> = (0..self.lists.len()).filter(|&i| self.lists[i].cap > 0).collect();
        order.sort_unstable_by_key(|&i| self.lists[i].start);
        // Runs are disjoint and visited by start, so `write` never passes the run it copies.
        let mut write = 0;
        for i in order {
            let list = &mut self.lists[i];
            let cap = match list.len {
                0 => 0,
                len => list.cap.min(len.saturating_mul(2).max(4)),
            };
            self.pool.copy_within(list.range(), write);
            (list.start, list.cap) = (write, cap);
            write += cap as usize;
        }
        self.pool.truncate(write);
        self.garbage = 0;
    }

    /// All non-empty lists with their slot index, for the integrity checker.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (u32, &[RawKey])> {
        self.lists
            .iter()
            .enumerate()
            .filter(|(_, l)| l.len > 0)
            .map(|(i, l)| (i as u32, self.pool.get(l.range()).unwrap_or_default()))
    }

    /// The owner of the non-empty list at slot `index`.
    pub(crate) fn owner(&self, index: u32) -> Option<RawKey> {
        self.lists
            .get(index as usize)
            .filter(|l| l.len > 0)
            .map(|l| l.owner)
    }

    /// Checks that the lists' runs lie in the pool without overlapping and that the garbage
    /// count is right; for the integrity checker.
    pub(crate) fn check_layout(&self) -> Result<(), String> {
        let mut runs: Vec<(usize, usize)> = self
            .lists
            .iter()
            .filter(|l| l.cap > 0)
            .map(|l| (l.start, l.start + l.cap as usize))
            .collect();
        runs.sort_unstable();
        let mut end = 0;
        let mut used = 0;
        for (i, l) in self.lists.iter().enumerate() {
            if l.len > l.cap {
                return Err(format!("list of slot {i} is longer than its run"));
            }
        }
        for (start, stop) in runs {
            if start < end || stop > self.pool.len() {
                return Err(format!("run {start}..{stop} overlaps another or leaves the pool"));
            }
            (end, used) = (stop, used + stop - start);
        }
        match self.pool.len() - used == self.garbage {
            true => Ok(()),
            false => Err(format!(
                "garbage {} but {} pool entries unused",
                self.garbage,
                self.pool.len() - used
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(n: usize) -> Vec<RawKey> {
        (1..=n as u32).map(|i| RawKey::new(i, 1)).collect()
    }

    #[test]
    fn lists_keep_link_order_while_they_move_and_compact() {
        let k = keys(3000);
        let (parents, children) = k.split_at(100);
        let mut index = ChildIndex::default();
        let mut model: Vec<Vec<RawKey>> = vec![Vec::new(); parents.len()];
        // Round-robin appends make every list move many times (garbage, then compaction).
        for (i, &c) in children.iter().enumerate() {
            let p = i % parents.len();
            index.insert_by(parents[p], c, |_| true);
            model[p].push(c);
            index.check_layout().unwrap();
        }
        // Remove every third child, then re-insert one in the middle by order.
        for (i, &c) in children.iter().enumerate().step_by(3) {
            let p = i % parents.len();
            assert!(index.remove(parents[p], c));
            model[p].retain(|&x| x != c);
            index.check_layout().unwrap();
        }
        let again = children[parents.len() * 3];
        let p = 0;
        let at = index.insert_by(parents[p], again, |c| c.to_u64() < again.to_u64());
        model[p].insert(at, again);
        assert!(model[p].windows(2).all(|w| w[0].to_u64() < w[1].to_u64()));
        for (p, want) in model.iter().enumerate() {
            assert_eq!(index.get(parents[p]), want.as_slice());
        }
        assert!(index.pool.len() <= 4 * children.len(), "garbage is bounded");
        index.check_layout().unwrap();
    }

    #[test]
    fn round_robin_growth_leaves_little_garbage() {
        // Many lists growing in turn (a group's members): every list moves again and again.
        let k = keys(101_000);
        let (parents, children) = k.split_at(1000);
        let mut index = ChildIndex::default();
        for (i, &c) in children.iter().enumerate() {
            index.insert_by(parents[i * 7 % parents.len()], c, |_| true);
        }
        index.check_layout().unwrap();
        let runs: usize = index.lists.iter().map(|l| l.cap as usize).sum();
        assert!(runs <= 2 * children.len(), "room is at most twice the lists");
        assert!(
            index.pool.len() <= runs + runs / 7 + COMPACT_MIN,
            "pool {} for runs of {runs}: garbage is at most an eighth",
            index.pool.len()
        );
    }

    #[test]
    fn presized_lists_fill_without_moving() {
        let k = keys(8);
        let mut index = ChildIndex::with_counts([(k[0], 2), (k[1], 0), (k[2], 3)]);
        let pool = index.pool.len();
        for (p, c) in [(0, 3), (2, 4), (0, 5), (2, 6), (2, 7)] {
            index.insert_by(k[p], k[c], |_| true);
        }
        assert_eq!((index.pool.len(), index.garbage), (pool, 0));
        assert_eq!(index.get(k[0]), &[k[3], k[5]]);
        assert_eq!(index.get(k[2]), &[k[4], k[6], k[7]]);
        index.check_layout().unwrap();
    }

    #[test]
    fn a_stale_parent_key_sees_nothing() {
        let k = keys(2);
        let mut index = ChildIndex::default();
        index.insert_by(k[0], k[1], |_| true);
        let stale = RawKey::from_u64(k[0].to_u64() + (2 << 32)); // same slot, later generation
        assert!(index.get(stale).is_empty());
        assert_eq!(index.get(k[0]), &[k[1]]);
        assert_eq!(index.owner(k[0].index()), Some(k[0]));
    }
}
