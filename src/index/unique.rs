//! A unique index: value tuple -> the one record holding it.

use hashbrown::HashTable;

use crate::key::RawKey;

/// Holds the keys of every record whose constrained columns are all non-NULL. Hashing and
/// equality go through the records themselves (the caller passes closures), so no value is
/// stored twice.
#[derive(Clone, Debug, Default)]
pub(crate) struct UniqueIndex {
    keys: HashTable<RawKey>,
}

impl UniqueIndex {
    /// The first record whose values satisfy `eq`. O(1) average.
    #[inline(always)]
    pub(crate) fn find(&self, hash: u64, eq: impl FnMut(RawKey) -> bool) -> Option<RawKey> {
        self.find_ref(hash, eq).copied()
    }

    /// [`find`](Self::find), borrowing the key where the index holds it (a one-to-one key's
    /// children are this one key, as a slice of one). O(1) average.
    #[inline(always)]
    pub(crate) fn find_ref(&self, hash: u64, mut eq: impl FnMut(RawKey) -> bool) -> Option<&RawKey> {
        self.keys.find(hash, |k| eq(*k))
    }

    /// [`find_ref`](Self::find_ref) with `eq` inlined into the probe's loop (hashbrown's
    /// `find` calls it out of line, through a type-erased closure): for a comparison small
    /// enough to inline, a look-up by one text value. Every probe through it was measured
    /// slower (callgrind: lookup_unique 206 -> 248 with a general comparison, insert probes
    /// slower too), so the general probes keep `find_ref`.
    #[inline(always)]
    pub(crate) fn find_inlined(&self, hash: u64, mut eq: impl FnMut(RawKey) -> bool) -> Option<&RawKey> {
        self.keys.iter_hash(hash).find(|k| eq(**k))
    }

    /// Adds a key. The caller has checked uniqueness (or deferred the check).
    pub(crate) fn insert(&mut self, hash: u64, key: RawKey, rehash: impl Fn(RawKey) -> u64) {
        self.keys.insert_unique(hash, key, |k| rehash(*k));
    }

    /// Adds `key` unless a key that `eq` accepts is there already, which is returned instead:
    /// the check and the insert in one probe (for rebuilding from a snapshot).
    #[inline]
    pub(crate) fn insert_new(
        &mut self,
        hash: u64,
        key: RawKey,
        mut eq: impl FnMut(RawKey) -> bool,
        rehash: impl Fn(RawKey) -> u64,
    ) -> Result<(), RawKey> {
        match self.keys.entry(hash, |k| eq(*k), |k| rehash(*k)) {
            hashbrown::hash_table::Entry::Occupied(e) => Err(*e.get()),
            hashbrown::hash_table::Entry::Vacant(e) => {
                e.insert(key);
                Ok(())
            }
        }
    }

    /// Makes room for `additional` more keys.
    pub(crate) fn reserve(&mut self, additional: usize, rehash: impl Fn(RawKey) -> u64) {
        self.keys.reserve(additional, |k| rehash(*k));
    }

    /// Removes a key; `false` if it was not there.
    pub(crate) fn remove(&mut self, hash: u64, key: RawKey) -> bool {
        match self.keys.find_entry(hash, |k| *k == key) {
            Ok(entry) => {
                entry.remove();
                true
            }
            Err(_) => false,
        }
    }

    /// Every key stored under `hash` (equal values or a hash collision).
    pub(crate) fn find_all(&self, hash: u64) -> impl Iterator<Item = RawKey> + '_ {
        self.keys.iter_hash(hash).copied()
    }

    /// The mask hashbrown applies to a hash to find its first bucket, as implied by the
    /// capacity (a guess used only to order bulk inserts; any value is correct).
    pub(crate) fn bucket_mask_hint(&self) -> u64 {
        let capacity = self.keys.capacity() as u64;
        (capacity + capacity / 7).next_power_of_two() - 1
    }

    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    pub(crate) fn contains(&self, hash: u64, key: RawKey) -> bool {
        self.keys.find(hash, |k| *k == key).is_some()
    }
}
