//! Typed, generational record keys.
//!
//! A [`Key<T>`] names one record of entity type `T`: a slot index in its table and the slot's
//! version (generation) when the record was stored, so a key to a deleted record is detected
//! as stale and never refers to a newer record that reuses the slot. [`RawKey`] is the untyped
//! form the store uses internally and in type-erased reports. Records live in slotmap arenas;
//! this file is the only place that converts between relata's keys and slotmap's (through
//! `KeyData::as_ffi` / `from_ffi`), and so the only one that knows how a key is laid out in a
//! `u64` (pinned against slotmap by a test below).

use std::fmt;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use slotmap::{DefaultKey, Key as _, KeyData};

/// An untyped record key: a slot index and a generation.
///
/// Displayed as `<index>v<version>`. Ordered by slot index, then generation; the order has no
/// meaning beyond determinism.
///
/// A key does not record its table: like an integer id in SQL, an id of one table turned
/// into a key of another names whatever record sits in that slot, if any.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct RawKey {
    index: u32,
    version: u32,
}

impl RawKey {
    pub(crate) fn new(index: u32, version: u32) -> Self {
        RawKey { index, version }
    }

    /// The key as a stable `u64` (the version in the high 32 bits, the slot index in the low
    /// ones), for users who store ids outside the store. O(1).
    ///
    /// ```
    /// # use relata::RawKey;
    /// let k = RawKey::from_u64(0x0000_0001_0000_0005);
    /// assert_eq!(RawKey::from_u64(k.to_u64()), k);
    /// ```
    pub fn to_u64(self) -> u64 {
        u64::from(self.version) << 32 | u64::from(self.index)
    }

    /// Rebuilds a key from [`to_u64`](Self::to_u64). Any `u64` gives a key; one this table
    /// never handed out is reported as missing (an unused slot) or stale (a used slot, another
    /// generation), never confused with a live record. Ids are canonical: each `u64` is its
    /// own key, so a forged or mistyped id names no record rather than another one's. O(1).
    ///
    /// ```
    /// # use relata::RawKey;
    /// let k = RawKey::from_u64(0x0000_0001_0000_0005);
    /// assert_ne!(RawKey::from_u64(5), k); // not the same id, so not the same key
    /// ```
    pub fn from_u64(bits: u64) -> Self {
        RawKey::new(bits as u32, (bits >> 32) as u32)
    }

    /// The slot index part of the key.
    pub(crate) fn index(self) -> u32 {
        self.index
    }

    /// The version part of the key.
    pub(crate) fn version(self) -> u32 {
        self.version
    }

    /// slotmap's key for this id, or `None` if no slot map could have handed it out (an even
    /// version, the null key): `from_ffi` alone would turn such an id into a live key's, so
    /// the round trip is checked. O(1).
    pub(crate) fn slot(self) -> Option<DefaultKey> {
        let bits = self.to_u64();
        let data = KeyData::from_ffi(bits);
        (data.as_ffi() == bits).then(|| data.into())
    }

    /// The key slotmap handed out. O(1).
    pub(crate) fn from_slot(key: DefaultKey) -> RawKey {
        RawKey::from_u64(key.data().as_ffi())
    }
}

/// The null key: no table ever hands it out, so it names no record.
///
/// ```
/// # use relata::RawKey;
/// assert_ne!(RawKey::default(), RawKey::from_u64(0x0000_0001_0000_0001));
/// ```
impl Default for RawKey {
    fn default() -> Self {
        RawKey::new(u32::MAX, 0)
    }
}

impl Hash for RawKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.to_u64());
    }
}

impl fmt::Debug for RawKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}v{}", self.index, self.version)
    }
}

impl fmt::Display for RawKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// A key serializes as its `u64` in human-readable formats (JSON), and as the pair (slot
/// index, version) in binary ones, where two small varints take less room than one `u64`
/// whose high half is the version (a snapshot holds one per foreign key).
impl Serialize for RawKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match s.is_human_readable() {
            true => s.serialize_u64(self.to_u64()),
            false => (self.index, self.version).serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for RawKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match d.is_human_readable() {
            true => u64::deserialize(d).map(RawKey::from_u64),
            false => <(u32, u32)>::deserialize(d).map(|(index, version)| RawKey::new(index, version)),
        }
    }
}

/// A typed key to a record of entity type `T`.
///
/// `Key<Post>` is not accepted where `Key<User>` is expected: the compiler rejects it. Keys are
/// `Copy`, hash and compare cheaply, and convert to and from a stable `u64`.
///
/// ```
/// use relata::{Entity, Key, Schema, Store};
///
/// #[derive(Entity, Clone, Debug, PartialEq)]
/// struct Tag { #[relata(unique)] name: String }
///
/// let mut store = Store::new(Schema::builder().entity::<Tag>().build()?);
/// let rust: Key<Tag> = store.insert(Tag { name: "rust".into() })?;
/// let id = rust.to_u64();
/// assert_eq!(Key::<Tag>::from_u64(id), rust);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Key<T> {
    raw: RawKey,
    _type: PhantomData<fn() -> T>,
}

impl<T> Key<T> {
    /// Wraps an untyped key. The store checks liveness on every use, so a key that was never
    /// handed out, or was deleted, yields a typed error or `None`. Keys do not record their
    /// table: a key taken from another table's record names whatever record of `T` sits in
    /// that slot, as an integer id of the wrong table would in SQL. O(1).
    ///
    /// ```
    /// # use relata::{Key, RawKey};
    /// struct Tag;
    /// let raw = RawKey::from_u64(7);
    /// let key: Key<Tag> = Key::from_raw(raw);
    /// assert_eq!(key.raw(), raw);
    /// assert_eq!(key.to_u64(), 7);
    /// assert_eq!(Key::<Tag>::from_u64(7), key);
    /// ```
    pub fn from_raw(raw: RawKey) -> Self {
        Key {
            raw,
            _type: PhantomData,
        }
    }

    /// The untyped key. O(1). Example at [`from_raw`](Self::from_raw).
    pub fn raw(self) -> RawKey {
        self.raw
    }

    /// The key as a stable `u64` (see [`RawKey::to_u64`]). O(1). Example at
    /// [`from_raw`](Self::from_raw).
    pub fn to_u64(self) -> u64 {
        self.raw.to_u64()
    }

    /// Rebuilds a key from [`to_u64`](Self::to_u64) (see [`RawKey::from_u64`]). O(1).
    /// Example at [`from_raw`](Self::from_raw).
    pub fn from_u64(bits: u64) -> Self {
        Self::from_raw(RawKey::from_u64(bits))
    }
}

impl<T> Clone for Key<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Key<T> {}
impl<T> PartialEq for Key<T> {
    fn eq(&self, other: &Self) -> bool {
        self.raw == other.raw
    }
}
impl<T> Eq for Key<T> {}
impl<T> PartialOrd for Key<T> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl<T> Ord for Key<T> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.raw.cmp(&other.raw)
    }
}
impl<T> Hash for Key<T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.raw.hash(state)
    }
}

impl<T> fmt::Debug for Key<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let full = std::any::type_name::<T>();
        let short = full.rsplit("::").next().unwrap_or(full);
        write!(f, "Key<{short}>({:?})", self.raw)
    }
}

impl<T> Serialize for Key<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.raw.serialize(s)
    }
}

impl<'de, T> Deserialize<'de> for Key<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        RawKey::deserialize(d).map(Key::from_raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use slotmap::SlotMap;

    /// The layout `index` and `version` read is slotmap's: its keys print as `<index>v<version>`.
    #[test]
    fn keys_convert_to_and_from_slotmap_keys_with_its_layout() {
        let mut map: SlotMap<DefaultKey, u8> = SlotMap::new();
        let mut keys: Vec<DefaultKey> = (0..300).map(|i| map.insert(i as u8)).collect();
        for k in keys.drain(..100) {
            map.remove(k);
        }
        keys.extend((0..50).map(|_| map.insert(0)));
        for k in keys {
            let raw = RawKey::from_slot(k);
            assert_eq!(format!("{:?}", k.data()), format!("{raw:?}"));
            assert_eq!(raw.slot(), Some(k));
        }
        assert_eq!(RawKey::new(1, 2).slot(), None, "an even version names no record");
        assert_eq!(RawKey::default().slot(), None);
    }
}
