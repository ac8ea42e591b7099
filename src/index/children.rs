//! The parent -> children side of a one-to-many foreign key (and of an edge set's two
//! directions).
//!
//! One list per parent slot, holding the children in link order (ascending link sequence
//! number, which each child stores as ground truth next to its foreign key). Appending a new
//! link is O(1) amortized; removing one is O(k) in the parent's fan-out (a scan and a shift
//! that keeps the order); undo re-inserts at the position given by the sequence number, or,
//! for a child moved from another parent, at the position the journal stored (`insert_at`).
//!
//! All lists share one pool, each a contiguous run with room to grow at its end, so the index
//! is two buffers however many parents it has: a fork copies it with two `memcpy`s and a load
//! sizes it exactly from a counting pass. A full list that is not last in the pool moves to the
//! end with twice its room; the run it leaves is garbage, and the pool is compacted when
//! garbage passes an eighth of it. Compaction keeps each list's room (trimmed to twice its
//! length when it is more than half empty), so a list does not move again right after it: the
//! copying is paid by the moves that made the garbage (at most seven entries copied per
//! entry of garbage), and the pool stays within 8/7 of its lists' runs.
//!
//! A list's header is 16 bytes (two per user of a typical schema: its posts, its
//! memberships): the owner's version (the slot index is the list's position), and the run's
//! start, length and room as `u32`s. The pool therefore stays below 2^32 entries: a list
//! holds distinct records (or pairs) of one table, fewer than 2^32, so when a move would pass
//! that the runs are squeezed to their lengths and the list grows by shifting the rest of the
//! pool (O(pool), only near 2^32 entries).

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

/// The list at slot index `i` belongs to the key `(i, version)`.
#[derive(Clone, Copy, Debug)]
struct List {
    version: u32,
    start: u32,
    len: u32,
    cap: u32,
}

impl List {
    fn new(owner: RawKey) -> List {
        List {
            version: owner.version(),
            start: 0,
            len: 0,
            cap: 0,
        }
    }

    fn owned_by(&self, key: RawKey) -> bool {
        self.version == key.version()
    }

    fn range(&self) -> std::ops::Range<usize> {
        self.start as usize..self.start as usize + self.len as usize
    }

    /// One past the end of the run (its room included).
    fn end(&self) -> usize {
        self.start as usize + self.cap as usize
    }
}

/// The most entries the pool holds (starts are `u32`).
const MAX_POOL: usize = u32::MAX as usize;

/// Compaction waits until this many pool entries are garbage (small indexes never compact).
/// Only a move makes garbage, so only a move (in `grow`) checks for it.
const COMPACT_MIN: usize = 1024;

/// Entries a removal compares before it branches once (see [`rfind`]).
const BLOCK: usize = 8;

/// The position of `child` in `run`, searched from the end: the newest child (an undone
/// insert, a cascade's leaf) is found by the first comparison. A longer search (a member
/// leaving a group's list of about 50) compares a block of [`BLOCK`] entries with no branch
/// between them, then branches once: a scan that branched on every entry spent most of its
/// instructions on the loop, not the comparisons. Entries compare as one `u64` each
/// (`RawKey`'s derived equality compares its two halves one after the other). O(k).
#[inline]
fn rfind(run: &[RawKey], child: RawKey) -> Option<usize> {
    let want = child.to_u64();
    let (last, rest) = run.split_last()?;
    if last.to_u64() == want {
        return Some(rest.len());
    }
    let mut end = rest.len();
    while let Some(block) = end.checked_sub(BLOCK).and_then(|start| rest.get(start..end)) {
        if block.iter().fold(false, |hit, c| hit | (c.to_u64() == want)) {
            break;
        }
        end -= BLOCK;
    }
    rest.get(..end)?.iter().rposition(|c| c.to_u64() == want)
}

impl ChildIndex {
    /// Counts one more child of `parent`, with link number `seq` (a load's counting pass, in
    /// slot order, before [`lay_out`](Self::lay_out)); `false` when another version of its slot
    /// was counted (at most one version of a slot is live, so one of the two children dangles).
    /// While counting, a list's `start` holds its newest link number so far and `len` is 1 once
    /// a child came out of link order. O(1) amortized.
    #[inline]
    pub(crate) fn count(&mut self, parent: RawKey, seq: u32) -> bool {
        let at = parent.index() as usize;
        if self.lists.len() <= at {
            self.lists.resize(at + 1, List::new(parent));
        }
        let list = &mut self.lists[at];
        if list.cap == 0 {
            (list.version, list.start) = (parent.version(), seq);
        } else if list.version != parent.version() {
            return false;
        }
        list.len |= u32::from(list.cap > 0 && seq <= list.start);
        list.start = list.start.max(seq);
        // Fewer than 2^32 children in all (see MAX_POOL); a wrong count saturates, and
        // `check_layout` reports the overlap.
        list.cap = list.cap.saturating_add(1);
        true
    }

    /// The parents [`count`](Self::count) was given.
    pub(crate) fn counted(&self) -> impl Iterator<Item = RawKey> + '_ {
        (self.lists.iter().enumerate())
            .filter(|(_, l)| l.cap > 0)
            .map(|(i, l)| RawKey::new(i as u32, l.version))
    }

    /// Lays the counted runs out back to back in slot order, each as long as its count, in a
    /// pool allocated once; returns the parents whose children were counted out of link order.
    /// O(parents + children).
    pub(crate) fn lay_out(&mut self) -> Vec<RawKey> {
        let (mut start, mut unordered) = (0u32, Vec::new());
        for (i, list) in self.lists.iter_mut().enumerate() {
            if list.len > 0 {
                unordered.push(RawKey::new(i as u32, list.version));
            }
            (list.start, list.len) = (start, 0);
            start = start.saturating_add(list.cap);
        }
        self.pool = vec![RawKey::default(); start as usize];
        unordered
    }

    /// The children of `parent` in link order; empty for a key that does not own its slot's
    /// list (a stale key of a reused slot). O(1), one memory access besides the list itself.
    #[inline]
    pub(crate) fn get(&self, parent: RawKey) -> &[RawKey] {
        self.list(parent).unwrap_or_default()
    }

    /// [`get`](Self::get), or `None` when no list of `parent`'s slot was ever made for it
    /// (none is in an index nothing was inserted into). O(1).
    #[inline]
    pub(crate) fn list(&self, parent: RawKey) -> Option<&[RawKey]> {
        match self.lists.get(parent.index() as usize) {
            Some(l) if l.owned_by(parent) => Some(self.pool.get(l.range()).unwrap_or_default()),
            _ => None,
        }
    }

    /// `true` while no list was ever made (nothing was inserted or counted).
    pub(crate) fn is_unused(&self) -> bool {
        self.lists.is_empty()
    }

    /// The list of `parent`'s slot, taken over by `parent` if another key owned it.
    fn list_mut(&mut self, parent: RawKey) -> &mut List {
        let at = parent.index() as usize;
        if self.lists.len() <= at {
            self.lists.resize(at + 1, List::new(parent));
        }
        let list = &mut self.lists[at];
        if !list.owned_by(parent) {
            debug_assert!(list.len == 0, "slot {at} reused while it had children");
            list.version = parent.version();
        }
        list
    }

    /// Makes room for one more child in `parent`'s list; returns the list. Inline for a
    /// list that has room (most inserts, every undone removal), out of line otherwise.
    #[inline]
    fn grow(&mut self, parent: RawKey) -> List {
        let at = parent.index() as usize;
        let pool_len = self.pool.len();
        match self.lists.get_mut(at) {
            Some(list) if list.owned_by(parent) && list.len < list.cap => *list,
            // Last in the pool, which has spare capacity: one more entry in place (a list
            // being filled, as a load's posts are: no call, no reallocation).
            Some(list)
                if list.owned_by(parent)
                    && list.end() == pool_len
                    && pool_len < self.pool.capacity().min(MAX_POOL) =>
            {
                list.cap += 1;
                let list = *list;
                self.pool.push(RawKey::default());
                list
            }
            _ => self.grow_full(parent),
        }
    }

    /// [`grow`](Self::grow) for a list without room (or not yet owned by `parent`).
    #[inline(never)]
    fn grow_full(&mut self, parent: RawKey) -> List {
        let pool_len = self.pool.len();
        let list = *self.list_mut(parent);
        if list.len < list.cap {
            return list;
        }
        let at = parent.index() as usize;
        if list.end() == pool_len && pool_len < MAX_POOL {
            // Last in the pool: grow in place.
            self.pool.push(RawKey::default());
            self.lists[at].cap += 1;
            return self.lists[at];
        }
        if self.garbage >= COMPACT_MIN && self.garbage * 8 > pool_len {
            self.compact(|len, cap| cap.min(len.saturating_mul(2).max(4)));
            return self.grow_full(parent); // once: the pool has no garbage now
        }
        let cap = list.cap.saturating_mul(2).max(4);
        let Some(start) = u32::try_from(pool_len)
            .ok()
            .filter(|_| pool_len + cap as usize <= MAX_POOL)
        else {
            return self.grow_squeezed(at);
        };
        self.pool.extend_from_within(list.range());
        // The room is never read before it is written (a list reads its first `len`
        // entries), so it need not hold defaults: a doubled list's room is a second copy of
        // the list, one `memcpy`, where writing a default into each entry cost about 4
        // instructions an entry (40 of a 10-post list's relocation of about 220).
        if cap == list.len.saturating_mul(2) {
            self.pool.extend_from_within(list.range());
        } else {
            self.pool.resize(pool_len + cap as usize, RawKey::default());
        }
        self.garbage += list.cap as usize;
        self.lists[at].start = start;
        self.lists[at].cap = cap;
        self.lists[at]
    }

    /// Room for one more child of the list at slot `at` when a move would pass [`MAX_POOL`]:
    /// every run is cut to its length, then one entry opens at this list's end by shifting
    /// the rest of the pool. The pool then holds as many entries as children, each a distinct
    /// record or pair of one table, so fewer than 2^32. O(pool).
    #[cold]
    #[inline(never)]
    fn grow_squeezed(&mut self, at: usize) -> List {
        self.compact(|len, _| len);
        if self.lists[at].cap == 0 {
            // Empty, so not in the pool: it goes at the end (which is below MAX_POOL).
            self.lists[at].start = u32::try_from(self.pool.len()).unwrap_or(u32::MAX);
        }
        let end = self.lists[at].end();
        self.pool.insert(end, RawKey::default());
        for (i, l) in self.lists.iter_mut().enumerate() {
            if i != at && l.cap > 0 && l.start as usize >= end {
                l.start += 1; // below the pool's length, itself at most MAX_POOL
            }
        }
        self.lists[at].cap += 1;
        self.lists[at]
    }

    /// Appends `child` to `parent`'s list if it has room (a load sized it); returns whether
    /// it did. O(1).
    #[inline]
    pub(crate) fn push(&mut self, parent: RawKey, child: RawKey) -> bool {
        let list = self.lists.get_mut(parent.index() as usize);
        let Some(list) = list.filter(|l| l.owned_by(parent) && l.len < l.cap) else {
            return false;
        };
        let Some(slot) = self.pool.get_mut(list.start as usize + list.len as usize) else {
            return false;
        };
        *slot = child;
        list.len += 1;
        true
    }

    /// The children of `parent`, to reorder (a load's lists counted out of link order).
    pub(crate) fn get_mut(&mut self, parent: RawKey) -> &mut [RawKey] {
        match self.lists.get(parent.index() as usize) {
            Some(l) if l.owned_by(parent) => self.pool.get_mut(l.range()).unwrap_or_default(),
            _ => &mut [],
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
        self.insert_with(parent, child, |run| match run.last() {
            Some(&prev) if !sorts_before(prev) => run.partition_point(|&c| sorts_before(c)),
            _ => run.len(),
        })
    }

    /// Appends `child` to `parent`'s list: a new link, which sorts last. O(1) amortized.
    #[inline]
    pub(crate) fn append(&mut self, parent: RawKey, child: RawKey) {
        self.insert_with(parent, child, <[RawKey]>::len);
    }

    /// Inserts `child` at position `at` of `parent`'s list (its end if the list is shorter):
    /// an undo putting a child back where [`take`](Self::take) found it, with no comparison.
    /// O(1) amortized plus the entries after `at` shifted.
    pub(crate) fn insert_at(&mut self, parent: RawKey, child: RawKey, at: usize) {
        self.insert_with(parent, child, |_| at);
    }

    /// Makes room in `parent`'s list and puts `child` at the position `position` picks from
    /// the list as it is (its end if past it), shifting the entries after it; returns the
    /// position. The one body of [`insert_by`](Self::insert_by) and
    /// [`insert_at`](Self::insert_at).
    #[inline]
    fn insert_with(
        &mut self,
        parent: RawKey,
        child: RawKey,
        position: impl FnOnce(&[RawKey]) -> usize,
    ) -> usize {
        let list = self.grow(parent);
        let len = list.len as usize;
        let start = list.start as usize;
        let run = &mut self.pool[start..start + len + 1];
        let at = position(&run[..len]).min(len);
        if at < len {
            run.copy_within(at..len, at + 1);
        }
        run[at] = child;
        self.lists[parent.index() as usize].len += 1;
        at
    }

    /// Removes `child` from `parent`'s list; `false` if it was not there.
    #[inline]
    pub(crate) fn remove(&mut self, parent: RawKey, child: RawKey) -> bool {
        self.take(parent, child).is_some()
    }

    /// Removes `child` from `parent`'s list and returns the position it had (a list is
    /// shorter than 2^32, see [`MAX_POOL`]); `None` if it was not there. Searched from the
    /// end: the newest child is found first.
    #[inline]
    pub(crate) fn take(&mut self, parent: RawKey, child: RawKey) -> Option<u32> {
        let list = self.lists.get_mut(parent.index() as usize)?;
        let run = self.pool.get_mut(list.range())?;
        let at = rfind(run, child)?;
        // The last child (an undone insert or move) shifts nothing: no `memmove` call.
        if at + 1 < run.len() {
            run.copy_within(at + 1.., at);
        }
        list.len -= 1;
        Some(at as u32)
    }

    /// Cuts `parent`'s list to its first `len` entries (a cascade deleting its newest
    /// children, or all of them, at once: see `Table::p_delete_list`). The run keeps its room.
    /// O(1).
    pub(crate) fn truncate(&mut self, parent: RawKey, len: usize) {
        if let Some(list) = (self.lists.get_mut(parent.index() as usize)).filter(|l| l.owned_by(parent)) {
            list.len = list.len.min(u32::try_from(len).unwrap_or(u32::MAX));
        }
    }

    /// Squeezes the garbage out of the pool in place (no second buffer: the pool's memory is
    /// reused by later growth). Each non-empty list keeps the room `room(len, cap)` gives
    /// (at least its length, at most its room): growth trims it to twice its length (at
    /// least 4) when more than half of it is empty. O(pool + lists log lists).
    /// Out of line: inlined, it made [`grow_full`](Self::grow_full), which calls it once per
    /// eighth of the pool turned garbage, save and restore registers on every relocation.
    #[cold]
    #[inline(never)]
    fn compact(&mut self, room: impl Fn(u32, u32) -> u32) {
        // Each run's start beside its list's slot, sorted as pairs: no look-up per comparison.
        // Allocated once at its size: grown by `collect`, it was reallocated about 8 times per
        // compaction, each a large request that made glibc sort its freed chunks again.
        let runs = self.lists.iter().filter(|l| l.cap > 0).count();
        let mut order: Vec<(u32, u32)> = Vec::with_capacity(runs);
        order.extend(
            (self.lists.iter().zip(0u32..))
                .filter(|(l, _)| l.cap > 0)
                .map(|(l, i)| (l.start, i)),
        );
        order.sort_unstable();
        // Runs are disjoint and visited by start, so `write` never passes the run it copies;
        // it stays below the old pool's length, so it fits a `u32`.
        let mut write = 0u32;
        for (_, i) in order {
            let list = &mut self.lists[i as usize];
            let cap = match list.len {
                0 => 0,
                len => room(len, list.cap).clamp(len, list.cap),
            };
            self.pool.copy_within(list.range(), write as usize);
            (list.start, list.cap) = (write, cap);
            write += cap;
        }
        self.pool.truncate(write as usize);
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
            .map(|l| RawKey::new(index, l.version))
    }

    /// Checks that the lists' runs lie in the pool without overlapping and that the garbage
    /// count is right; for the integrity checker.
    pub(crate) fn check_layout(&self) -> Result<(), String> {
        let mut runs: Vec<(usize, usize)> = self
            .lists
            .iter()
            .filter(|l| l.cap > 0)
            .map(|l| (l.start as usize, l.end()))
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
    fn squeezed_growth_shifts_the_runs_after_the_list() {
        // The path taken near 2^32 pool entries, called directly on a small pool.
        let k = keys(40);
        let (parents, children) = k.split_at(4);
        let mut index = ChildIndex::default();
        let mut model: Vec<Vec<RawKey>> = vec![Vec::new(); parents.len()];
        for (i, &c) in children.iter().enumerate() {
            let p = i * 3 % parents.len();
            index.insert_by(parents[p], c, |_| true);
            model[p].push(c);
        }
        assert!(index.remove(parents[1], model[1][0]));
        model[1].remove(0);
        let empty = RawKey::new(500, 3); // a parent without children yet
        let parents = [parents, &[empty]].concat();
        model.push(Vec::new());
        for p in [1, 0, 4, 3, 3, 4] {
            index.list_mut(parents[p]);
            let at = parents[p].index() as usize;
            let before = index.pool.len();
            index.grow_squeezed(at);
            assert_eq!(index.pool.len(), model.iter().map(Vec::len).sum::<usize>() + 1);
            assert!(index.pool.len() <= before + 1);
            let child = RawKey::new(1000 + p as u32, 1);
            index.insert_by(parents[p], child, |_| true);
            model[p].push(child);
            index.check_layout().unwrap();
        }
        for (p, want) in model.iter().enumerate() {
            assert_eq!(index.get(parents[p]), want.as_slice());
        }
    }

    #[test]
    fn presized_lists_fill_without_moving() {
        let k = keys(8);
        let mut index = ChildIndex::default();
        for (p, seq) in [(0, 1), (2, 5), (0, 2), (2, 4), (2, 6)] {
            assert!(index.count(k[p], seq));
        }
        assert!(
            !index.count(RawKey::new(k[0].index(), 7), 3),
            "another version of a counted slot"
        );
        assert_eq!(index.lay_out(), [k[2]], "out of link order");
        assert_eq!(index.counted().collect::<Vec<_>>(), [k[0], k[2]]);
        let pool = index.pool.len();
        for (p, c) in [(0, 3), (2, 4), (0, 5), (2, 6)] {
            assert!(index.push(k[p], k[c]));
        }
        index.insert_by(k[2], k[7], |_| true);
        assert!(!index.push(k[2], k[1]), "no room left");
        assert!(!index.push(k[1], k[1]), "not counted");
        index.get_mut(k[2]).reverse();
        assert_eq!(index.get(k[2]), &[k[7], k[6], k[4]]);
        index.get_mut(k[2]).reverse();
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

    #[test]
    fn an_index_nothing_was_inserted_into_has_no_list() {
        // What `Table::children` relies on to ask a one-to-one key's probe only on a miss.
        let k = keys(3);
        let mut index = ChildIndex::default();
        assert!(index.is_unused());
        assert_eq!(index.list(k[0]), None);
        index.insert_by(k[1], k[2], |_| true);
        assert!(!index.is_unused());
        assert_eq!(index.list(k[1]), Some(&[k[2]][..]));
        let stale = RawKey::from_u64(k[1].to_u64() + (2 << 32));
        assert_eq!((index.list(stale), index.get(stale)), (None, &[][..]));
    }
}
