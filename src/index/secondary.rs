//! A secondary (non-unique) index: value tuple -> the records holding it, in key order.

use hashbrown::HashTable;

use crate::key::RawKey;

/// One bucket per distinct non-NULL value tuple; each bucket's keys are sorted, so look-up
/// results are deterministic and derivable from ground truth.
#[derive(Clone, Debug, Default)]
pub(crate) struct SecondaryIndex {
    buckets: HashTable<Vec<RawKey>>,
}

impl SecondaryIndex {
    /// The records with the probed value: O(1) average plus the result.
    pub(crate) fn find(&self, hash: u64, mut eq: impl FnMut(RawKey) -> bool) -> &[RawKey] {
        self.buckets
            .find(hash, |b| b.first().is_some_and(|&k| eq(k)))
            .map_or(&[], |b| b.as_slice())
    }

    /// Adds `key`; `eq` tells whether a bucket's representative has the same values.
    pub(crate) fn insert(
        &mut self,
        hash: u64,
        key: RawKey,
        mut eq: impl FnMut(RawKey) -> bool,
        rehash: impl Fn(RawKey) -> u64,
    ) {
        match self.buckets.find_mut(hash, |b| b.first().is_some_and(|&k| eq(k))) {
            Some(bucket) => {
                let at = bucket.binary_search(&key).unwrap_or_else(|at| at);
                bucket.insert(at, key);
            }
            None => {
                self.buckets
                    .insert_unique(hash, vec![key], |b| b.first().map_or(0, |&k| rehash(k)));
            }
        }
    }

    /// Removes `key` from the bucket `eq` selects; `false` if it was not there.
    pub(crate) fn remove(&mut self, hash: u64, key: RawKey, mut eq: impl FnMut(RawKey) -> bool) -> bool {
        let Ok(entry) = self
            .buckets
            .find_entry(hash, |b| b.first().is_some_and(|&k| eq(k)))
        else {
            return false;
        };
        let (found, empty) = {
            let bucket = entry.into_mut();
            match bucket.binary_search(&key) {
                Ok(at) => {
                    bucket.remove(at);
                    (true, bucket.is_empty())
                }
                Err(_) => (false, false),
            }
        };
        if empty {
            // The representative is gone: find the (now empty) bucket by shape, not by value.
            if let Ok(entry) = self.buckets.find_entry(hash, |b| b.is_empty()) {
                entry.remove();
            }
        }
        found
    }

    /// Total number of indexed keys.
    pub(crate) fn len(&self) -> usize {
        self.buckets.iter().map(Vec::len).sum()
    }
}
