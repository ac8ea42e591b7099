//! A table's records: a slotmap arena, addressed by relata's keys.
//!
//! slotmap gives each record a slot and a version, so a key to a deleted record stays stale
//! when its slot is reused. This wrapper adds what the store needs beside it: access by
//! [`RawKey`] (converted in `key.rs`), deletes that can be undone under the same key (slotmap's
//! `detach`/`reattach`, through a [`Detached`] token), and how far slot indexes have gone (so a
//! key to a slot never used is told from a stale one).

use std::cell::Cell;
use std::fmt;

use serde::de::{DeserializeSeed, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use slotmap::{DefaultKey, SlotMap};

use crate::key::RawKey;
use crate::store::table::parts::put;
use bincode::error::EncodeError;

/// Saved in its serde form (slotmap's, then `slots`); loaded by [`Rows::decode`].
#[derive(Clone, Debug, Serialize)]
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

    /// Appends the rows in their serde form (slotmap's slots, then the slot count), calling
    /// `each` with every record in slot order. When every slot but slot 0 holds a record (a
    /// table that never lost one), the form is written here: the slot count, slot 0 vacant at
    /// version 0, then each record's `Some` tag, row and version. Through serde's layers over
    /// slotmap's slots that took a fifth of a save's instructions. O(slots).
    pub(crate) fn encode(&self, out: &mut Vec<u8>, mut each: impl FnMut(&R)) -> Result<(), EncodeError>
    where
        R: Serialize,
    {
        if self.map.len() + 1 != self.slot_count().max(1) {
            self.map.values().for_each(each);
            return put(self, out);
        }
        put(&(self.map.len() as u64 + 1), out)?;
        out.extend([0, 0]);
        for (key, row) in self.iter() {
            out.push(1);
            put(row, out)?;
            // bincode's varint of a number up to 250 is that one byte.
            match key.version() {
                v @ 0..=250 => out.push(v as u8),
                v => put(&v, out)?,
            }
            each(row);
        }
        put(&self.slots, out)
    }

    /// Rows in their serde form at the start of `bytes` (slotmap's slots, then the slot
    /// count), decoded with bincode's `config`; returns them and the bytes they took. O(slots).
    ///
    /// A table that never lost a record is saved as inserting its rows in slot order would
    /// leave it: slot 0 vacant at version 0, then every slot occupied at version 1. Such rows
    /// are inserted in order into a map reserved once for them all, each returned key checked
    /// (`==`) against the saved one. Any other table is decoded by slotmap's own
    /// `Deserialize`, which restores every version and rebuilds the free list, but grows its
    /// slot vector by doubling from serde's cautious 1 MiB: the rows are decoded again from
    /// the start once the first slot that inserts would not give is read.
    pub(crate) fn decode<'de, C>(
        bytes: &'de [u8],
        config: C,
    ) -> Result<(Rows<R>, usize), bincode::error::DecodeError>
    where
        R: Deserialize<'de>,
        C: bincode::config::Config,
    {
        let other = Cell::new(false);
        let seed = PlainSlots::<R> {
            room: room::<R>(bytes.len()),
            other: &other,
            row: std::marker::PhantomData,
        };
        let (map, used) = match bincode::serde::seed_decode_from_slice(seed, bytes, config) {
            Err(_) if other.get() => bincode::serde::borrow_decode_from_slice(bytes, config)?,
            decoded => decoded?,
        };
        let rest = bytes.get(used..).unwrap_or_default();
        let (slots, n) = bincode::serde::decode_from_slice(rest, config)?;
        Ok((Rows { map, slots }, used + n))
    }

    /// Whether the recorded slot count is the one `slots` gives, the length of slotmap's
    /// slot vector (slot 0 included, so 1 for a table that never held a record).
    pub(crate) fn counts_slots(&self, slots: u64) -> bool {
        let expected = if slots > 1 { slots } else { 0 };
        u64::from(self.slots) == expected
    }
}

/// How many slots a length read from `input_len` bytes of input may reserve: no more memory
/// than the input's own length, however large a row is in memory (so also no more slots than
/// the input could hold, at two bytes or more a slot on the wire; the
/// `bytes` a table decodes from run to the end of the body, so a forged count in one table
/// could otherwise reserve a slot per two bytes of every table and text after it).
fn room<R>(input_len: usize) -> usize {
    input_len / std::mem::size_of::<(Option<R>, u32)>()
}

/// Decodes slotmap's serde form of a map (a sequence of slots, each the row if occupied, then
/// the version) by inserting the rows, as long as the slots are those inserts give; at the
/// first other slot it sets `other` and stops with an error (see [`Rows::decode`]).
struct PlainSlots<'a, R> {
    room: usize,
    other: &'a Cell<bool>,
    row: std::marker::PhantomData<R>,
}

impl<'de, R: Deserialize<'de>> DeserializeSeed<'de> for PlainSlots<'_, R> {
    type Value = SlotMap<DefaultKey, R>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, R: Deserialize<'de>> Visitor<'de> for PlainSlots<'_, R> {
    type Value = SlotMap<DefaultKey, R>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a sequence of slots")
    }

    #[inline]
    fn visit_seq<A: SeqAccess<'de>>(self, mut slots: A) -> Result<Self::Value, A::Error> {
        let n = slots.size_hint().unwrap_or(0).min(self.room);
        let mut map = SlotMap::with_capacity_and_key(n.saturating_sub(1));
        let mut index = 0u32;
        while let Some((row, version)) = slots.next_element::<(Option<R>, u32)>()? {
            let inserted = match row {
                None => index == 0 && version == 0,
                // (slotmap refuses to insert into slot index `u32::MAX`.)
                Some(row) => {
                    (1..u32::MAX).contains(&index)
                        && Some(map.insert(row)) == RawKey::new(index, version).slot()
                }
            };
            if !inserted {
                self.other.set(true);
                return Err(serde::de::Error::custom("a slot inserts would not give"));
            }
            index += 1;
        }
        Ok(map)
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

    fn decoded(rows: &Rows<u8>) -> (Rows<u8>, bool) {
        let config = bincode::config::standard();
        let bytes = bincode::serde::encode_to_vec(rows, config).unwrap();
        let other = Cell::new(false);
        let seed = PlainSlots::<u8> {
            room: bytes.len(),
            other: &other,
            row: std::marker::PhantomData,
        };
        let inserted = bincode::serde::seed_decode_from_slice(seed, &bytes, config).is_ok();
        assert_eq!(inserted, !other.get());
        let (decoded, used) = Rows::decode(&bytes, config).unwrap();
        assert_eq!(used, bytes.len());
        (decoded, inserted)
    }

    fn same(a: &Rows<u8>, b: &Rows<u8>) {
        let all = |r: &Rows<u8>| r.iter().map(|(k, v)| (k, *v)).collect::<Vec<_>>();
        assert_eq!(all(a), all(b));
        assert_eq!(a.slots, b.slots);
    }

    #[test]
    fn rows_that_inserts_give_are_inserted_and_others_decoded_by_slotmap() {
        let mut rows: Rows<u8> = Rows::default();
        let (empty, inserted) = decoded(&rows);
        assert!(inserted);
        same(&empty, &rows);
        let keys: Vec<_> = (0..50).map(|i| rows.insert(i)).collect();
        let (plain, inserted) = decoded(&rows);
        assert!(inserted, "slots in insert order take the inserting path");
        same(&plain, &rows);

        // A vacant slot, then a reused one (version 3): slotmap's own form.
        rows.remove(keys[10]);
        let (holed, inserted) = decoded(&rows);
        assert!(!inserted);
        same(&holed, &rows);
        let mut reloaded = holed;
        let reused = reloaded.insert(99);
        assert_eq!(reused.index(), keys[10].index(), "the free list is rebuilt");
        assert!(reloaded.get(keys[10]).is_none(), "a stale key stays stale");
        let (bumped, inserted) = decoded(&reloaded);
        assert!(!inserted);
        same(&bumped, &reloaded);
        assert_eq!(bumped.get(reused), Some(&99));

        // A record detached by an open transaction is saved as vacant.
        let detached = rows.detach(keys[49]).unwrap();
        let (without, inserted) = decoded(&rows);
        assert!(!inserted);
        same(&without, &rows);
        rows.reattach(detached);
    }

    #[test]
    fn rows_are_encoded_in_slotmaps_serde_form() {
        let mut rows: Rows<u8> = Rows::default();
        let encoded = |rows: &Rows<u8>| {
            let (mut out, mut seen) = (Vec::new(), Vec::new());
            rows.encode(&mut out, |r| seen.push(*r)).unwrap();
            assert_eq!(seen, rows.iter().map(|(_, r)| *r).collect::<Vec<_>>());
            assert_eq!(
                out,
                bincode::serde::encode_to_vec(rows, bincode::config::standard()).unwrap()
            );
        };
        encoded(&rows);
        let keys: Vec<_> = (0..=255).map(|i| rows.insert(i)).collect();
        encoded(&rows);
        rows.remove(keys[3]);
        encoded(&rows); // a vacant slot
        for _ in 0..130 {
            let k = rows.insert(1);
            rows.remove(k);
        }
        // keys[3]'s slot: 1 inserted, 2 removed, then 130 insert-remove pairs (+260).
        let reused = rows.insert(2);
        assert_eq!(reused.version(), 263);
        encoded(&rows); // every slot occupied, one at version 263
        rows.detach(keys[9]).unwrap();
        encoded(&rows);
    }

    #[test]
    fn a_reservation_takes_no_more_memory_than_the_input_length() {
        type Wide = [u64; 16];
        let slot = std::mem::size_of::<(Option<Wide>, u32)>();
        assert!(room::<Wide>(1 << 20) * slot <= 1 << 20);
    }

    #[test]
    fn a_slot_count_beyond_the_bytes_reserves_only_what_they_could_hold() {
        let config = bincode::config::standard();
        // A sequence claiming 2^60 slots (reserving them would overflow and panic), then the
        // sentinel and one row.
        let mut bytes = bincode::encode_to_vec(1u64 << 60, config).unwrap();
        bytes.extend([0, 0, 1, 7, 1]);
        assert!(Rows::<u8>::decode(&bytes, config).is_err());
    }
}
