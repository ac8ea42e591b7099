//! An ordered index: the keys of the indexed records, sorted by their values, ties by key.
//!
//! The keys sit in *blocks*: sorted runs of at most [`BLOCK`] keys, in order, none empty. A
//! position is found by binary search over the blocks' last keys, then inside one block;
//! inserting moves at most one block's tail, and a full block splits in two. Like the unique
//! index, no value is stored: comparisons go through the records (the caller's closure), so an
//! entry is one 8-byte key (about 11 bytes with the blocks' average slack).

use crate::key::RawKey;

/// Most keys in one block. A split leaves two half-full blocks.
const BLOCK: usize = 512;

/// Keys in (values, key) order, in blocks of at most [`BLOCK`].
#[derive(Clone, Debug, Default)]
pub(crate) struct OrderedIndex {
    blocks: Vec<Vec<RawKey>>,
    len: usize,
}

/// Keys from one place to another, in order, from either end (see [`OrderedIndex::range`]).
pub(crate) type Run<'a> = std::iter::Copied<
    std::iter::Chain<
        std::iter::Chain<std::slice::Iter<'a, RawKey>, std::iter::Flatten<std::slice::Iter<'a, Vec<RawKey>>>>,
        std::slice::Iter<'a, RawKey>,
    >,
>;

/// A place between two keys: a block and an offset in it (`(blocks, 0)` is the end).
type Pos = (usize, usize);

impl OrderedIndex {
    /// An index of keys already in order (for rebuilding). O(n).
    pub(crate) fn from_sorted(keys: Vec<RawKey>) -> Self {
        let len = keys.len();
        let blocks = keys.chunks(BLOCK / 2).map(<[RawKey]>::to_vec).collect();
        OrderedIndex { blocks, len }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The first place whose key `before` rejects (`before` must hold for a prefix of the
    /// order). O(log n) calls of `before`.
    fn partition(&self, mut before: impl FnMut(RawKey) -> bool) -> Pos {
        let b = self
            .blocks
            .partition_point(|blk| blk.last().is_some_and(|&k| before(k)));
        match self.blocks.get(b) {
            Some(blk) => (b, blk.partition_point(|&k| before(k))),
            None => (b, 0),
        }
    }

    /// Adds `key` where `before` (the keys that sort before it) ends. O(log n + BLOCK).
    pub(crate) fn insert(&mut self, key: RawKey, before: impl FnMut(RawKey) -> bool) {
        self.len += 1;
        let (b, at) = match self.partition(before) {
            // After every key: the end of the last block.
            (b, _) if b == self.blocks.len() && b > 0 => (b - 1, self.blocks[b - 1].len()),
            place => place,
        };
        let Some(blk) = self.blocks.get_mut(b) else {
            self.blocks.push(vec![key]);
            return;
        };
        blk.insert(at, key);
        if blk.len() > BLOCK {
            let tail = blk.split_off(BLOCK / 2);
            self.blocks.insert(b + 1, tail);
        }
    }

    /// Removes `key`, found where `before` ends; `false` if it is not there. O(log n + BLOCK).
    pub(crate) fn remove(&mut self, key: RawKey, before: impl FnMut(RawKey) -> bool) -> bool {
        let (b, at) = self.partition(before);
        let Some(blk) = self.blocks.get_mut(b) else {
            return false;
        };
        if blk.get(at) != Some(&key) {
            return false;
        }
        blk.remove(at);
        if blk.is_empty() {
            self.blocks.remove(b);
        }
        self.len -= 1;
        true
    }

    /// The keys from where `lower` ends to where `upper` ends, in order (both must hold for
    /// a prefix of the order). O(log n) to start, O(1) per key, from either end.
    pub(crate) fn range(
        &self,
        lower: impl FnMut(RawKey) -> bool,
        upper: impl FnMut(RawKey) -> bool,
    ) -> Run<'_> {
        let from = self.partition(lower);
        let to = self.partition_from(from, upper);
        self.between(from, to)
    }

    /// As [`partition`](Self::partition), for a `before` that holds up to `from` (not
    /// checked; the result is never before `from`): when the place is in `from`'s block, a
    /// galloping search from `from` finds it in O(log k) calls for a place k keys on, so a
    /// short range costs little more than its start.
    fn partition_from(&self, (b, o): Pos, mut before: impl FnMut(RawKey) -> bool) -> Pos {
        let Some(blk) = self.blocks.get(b) else {
            return (b, o);
        };
        let rest = &blk[o..];
        if rest.last().is_none_or(|&k| before(k)) {
            return self.partition(before).max((b, o));
        }
        // Every key of `rest` before `lo` is before; the place lies below `bound`.
        let (mut lo, mut bound) = (0, 1);
        while bound < rest.len() && before(rest[bound - 1]) {
            lo = bound;
            bound = (bound * 2).min(rest.len());
        }
        (b, o + lo + rest[lo..bound].partition_point(|&k| before(k)))
    }

    /// The keys from place `from` up to place `to` (not before `from`).
    fn between(&self, (b0, o0): Pos, (b1, o1): Pos) -> Run<'_> {
        let empty: &[RawKey] = &[];
        let (first, middle, last): (&[RawKey], &[Vec<RawKey>], &[RawKey]) = if b0 == b1 {
            let blk = self.blocks.get(b0).map_or(empty, |b| &b[o0..o1]);
            (blk, &[], empty)
        } else {
            let first = self.blocks.get(b0).map_or(empty, |b| &b[o0..]);
            let last = self.blocks.get(b1).map_or(empty, |b| &b[..o1]);
            (first, &self.blocks[b0 + 1..b1], last)
        };
        first
            .iter()
            .chain(middle.iter().flatten())
            .chain(last.iter())
            .copied()
    }

    /// Every key, in order.
    pub(crate) fn iter(&self) -> Run<'_> {
        self.between((0, 0), (self.blocks.len(), 0))
    }

    /// The blocks' shape: none empty or over [`BLOCK`], and `len` their total.
    pub(crate) fn check_layout(&self) -> Result<(), String> {
        if let Some(b) = self.blocks.iter().position(|b| b.is_empty() || b.len() > BLOCK) {
            return Err(format!("ordered block {b} holds {} keys", self.blocks[b].len()));
        }
        let total: usize = self.blocks.iter().map(Vec::len).sum();
        match total == self.len {
            true => Ok(()),
            false => Err(format!("ordered index counts {} keys, holds {total}", self.len)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(i: u64) -> RawKey {
        RawKey::from_u64((1 << 32) | i)
    }

    #[test]
    fn inserts_and_removes_keep_order_across_splits() {
        let mut ix = OrderedIndex::default();
        // Keys ordered by their index; inserted out of order.
        let order: Vec<u64> = (0..3000).map(|i| (i * 7919) % 3001).collect();
        for &i in &order {
            ix.insert(key(i), |k| k < key(i));
            ix.check_layout().unwrap();
        }
        let all: Vec<RawKey> = ix.iter().collect();
        let mut want: Vec<RawKey> = order.iter().map(|&i| key(i)).collect();
        want.sort();
        assert_eq!(all, want);
        let within = |lo: u64, hi: u64| -> Vec<RawKey> {
            want.iter()
                .copied()
                .filter(|&k| key(lo) <= k && k < key(hi))
                .collect()
        };
        let mid: Vec<RawKey> = ix.range(|k| k < key(100), |k| k < key(110)).collect();
        assert_eq!(mid, within(100, 110));
        for lo in (0..3001).step_by(37) {
            for len in [0, 1, 2, 3, 5, 20, 300, 700] {
                let got: Vec<RawKey> = ix.range(|k| k < key(lo), |k| k < key(lo + len)).collect();
                assert_eq!(got, within(lo, lo + len), "range {lo}..{}", lo + len);
            }
        }
        let back: Vec<RawKey> = ix.range(|k| k < key(600), |k| k < key(1600)).rev().collect();
        assert_eq!(back, within(600, 1600).into_iter().rev().collect::<Vec<_>>());
        for &i in order.iter().step_by(2) {
            assert!(ix.remove(key(i), |k| k < key(i)));
            assert!(!ix.remove(key(i), |k| k < key(i)));
            ix.check_layout().unwrap();
        }
        assert_eq!(ix.len(), 1500);
        assert_eq!(ix.iter().count(), 1500);
    }
}
