//! An arena's slot versions out, and an arena with exactly those versions back in.
//!
//! A vacant slot's version is what keeps a stale key stale across a snapshot, but slotmap
//! shows it only through its serde form (per slot: the value or nothing, and the version).
//! [`versions`] reads it there with a serializer that records each version and skips every
//! value. [`rebuild`] gets the versions back through slotmap's public API: one insert per
//! slot, then for a slot reused `n` times, `n` remove-insert rounds (slotmap hands the slot
//! just freed to the next insert), then a remove for a vacant one. A table whose slots were
//! all filled once and never freed (every version 1, the usual case) is read without a list.

use std::fmt;

use serde::ser::{self, Impossible, Serialize, SerializeSeq, SerializeStruct};
use slotmap::{DefaultKey, Key as _, KeyData, SlotMap};

use super::SnapshotError;

/// The version of every slot after slotmap's reserved slot 0, in slot order: odd for a live
/// record, even for a vacant slot. O(slots); reads no record.
pub(crate) fn versions<R: Serialize>(rows: &SlotMap<DefaultKey, R>) -> Vec<u32> {
    let mut probe = Probe(Vec::with_capacity(rows.len() + 1));
    // The probe accepts exactly slotmap's serde form; anything else is a bug of ours.
    let shape_ok = rows.serialize(&mut probe).is_ok();
    debug_assert!(shape_ok, "slotmap's serde form changed");
    probe.0.split_off(1.min(probe.0.len()))
}

/// Whether [`rebuild`] replays these versions: at most four remove-insert rounds per slot on
/// average (plus a little slack), so the work stays proportional to the snapshot's size (a
/// version takes at least a byte). A table beyond that, a slot freed and reused thousands of
/// times, is saved in slotmap's own serde form instead.
pub(crate) fn replayable(versions: &[u32]) -> bool {
    let rounds: u64 = versions.iter().map(|&v| u64::from(v.saturating_sub(1) / 2)).sum();
    rounds <= 4 * versions.len() as u64 + 4096 && !versions.contains(&0)
}

/// A table's slot versions as read from a snapshot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Versions {
    /// This many slots, each filled once and never freed (version 1): no list needed.
    AllOnes(usize),
    /// Any versions, in slot order.
    List(Vec<u32>),
}

impl Versions {
    /// `n` versions taken from `next` (`None` if it runs out), kept as a list only from the
    /// first one that is not 1.
    pub(crate) fn read(n: usize, mut next: impl FnMut() -> Option<u32>) -> Option<Versions> {
        for i in 0..n {
            let v = next()?;
            if v != 1 {
                let mut list = Vec::with_capacity(n);
                list.resize(i, 1);
                list.push(v);
                for _ in i + 1..n {
                    list.push(next()?);
                }
                return Some(Versions::List(list));
            }
        }
        Some(Versions::AllOnes(n))
    }

    fn len(&self) -> usize {
        match self {
            Versions::AllOnes(n) => *n,
            Versions::List(list) => list.len(),
        }
    }
}

/// Builds an arena whose slot `i + 1` has version `versions[i]` and, when that is odd, the
/// record `live(i)` returns (called in slot order). Refuses versions that are not
/// [`replayable`].
pub(crate) fn rebuild<R: Default>(
    table: &'static str,
    versions: &Versions,
    mut live: impl FnMut(usize) -> Result<R, SnapshotError>,
) -> Result<SlotMap<DefaultKey, R>, SnapshotError> {
    let bad = |detail: &str| SnapshotError::Decode {
        part: table,
        detail: detail.into(),
    };
    let mut rows = SlotMap::with_capacity(versions.len());
    let list = match versions {
        Versions::AllOnes(n) => {
            for i in 0..*n {
                rows.insert(live(i)?);
            }
            return Ok(rows);
        }
        Versions::List(list) if replayable(list) => list,
        Versions::List(_) => return Err(bad("slot versions that no compact snapshot holds")),
    };
    for (i, &v) in list.iter().enumerate() {
        let row = if v % 2 == 1 { live(i)? } else { R::default() };
        rows.insert(row);
    }
    for (i, &v) in list.iter().enumerate().filter(|&(_, &v)| v != 1) {
        let mut key = DefaultKey::from(KeyData::from_ffi(1 << 32 | (i as u64 + 1)));
        for _ in 0..(v - 1) / 2 {
            let row = rows.remove(key).ok_or_else(|| bad("slot replay"))?;
            key = rows.insert(row);
        }
        debug_assert_eq!(
            key.data().as_ffi() & 0xffff_ffff,
            i as u64 + 1,
            "slot reused in place"
        );
        if v % 2 == 0 {
            rows.remove(key);
        }
    }
    Ok(rows)
}

/// Records the `version` field of each slot; accepts nothing but slotmap's serde shape.
struct Probe(Vec<u32>);

#[derive(Debug)]
struct Unexpected;

impl fmt::Display for Unexpected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not slotmap's serde form")
    }
}

impl std::error::Error for Unexpected {}

impl ser::Error for Unexpected {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Unexpected
    }
}

/// Every serializer method the slot shape does not use.
macro_rules! unexpected {
    ($($name:ident($($arg:ty),*);)*) => {$(
        fn $name(self, $(_: $arg),*) -> Result<(), Unexpected> {
            Err(Unexpected)
        }
    )*};
}

impl ser::Serializer for &mut Probe {
    type Ok = ();
    type Error = Unexpected;
    type SerializeSeq = Self;
    type SerializeTuple = Impossible<(), Unexpected>;
    type SerializeTupleStruct = Impossible<(), Unexpected>;
    type SerializeTupleVariant = Impossible<(), Unexpected>;
    type SerializeMap = Impossible<(), Unexpected>;
    type SerializeStruct = Self;
    type SerializeStructVariant = Impossible<(), Unexpected>;

    fn serialize_u32(self, v: u32) -> Result<(), Unexpected> {
        self.0.push(v);
        Ok(())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self, Unexpected> {
        Ok(self)
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self, Unexpected> {
        Ok(self)
    }
    unexpected! {
        serialize_bool(bool); serialize_i8(i8); serialize_i16(i16); serialize_i32(i32);
        serialize_i64(i64); serialize_u8(u8); serialize_u16(u16); serialize_u64(u64);
        serialize_f32(f32); serialize_f64(f64); serialize_char(char); serialize_str(&str);
        serialize_bytes(&[u8]); serialize_none(); serialize_unit();
        serialize_unit_struct(&'static str);
        serialize_unit_variant(&'static str, u32, &'static str);
    }
    fn serialize_some<T: ?Sized + Serialize>(self, _: &T) -> Result<(), Unexpected> {
        Err(Unexpected)
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: &T,
    ) -> Result<(), Unexpected> {
        Err(Unexpected)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), Unexpected> {
        Err(Unexpected)
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Unexpected> {
        Err(Unexpected)
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, Unexpected> {
        Err(Unexpected)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Unexpected> {
        Err(Unexpected)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Unexpected> {
        Err(Unexpected)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Unexpected> {
        Err(Unexpected)
    }
}

impl SerializeSeq for &mut Probe {
    type Ok = ();
    type Error = Unexpected;
    fn serialize_element<T: ?Sized + Serialize>(&mut self, slot: &T) -> Result<(), Unexpected> {
        slot.serialize(&mut **self)
    }
    fn end(self) -> Result<(), Unexpected> {
        Ok(())
    }
}

impl SerializeStruct for &mut Probe {
    type Ok = ();
    type Error = Unexpected;
    /// The slot's `version` is recorded; its `value` (the record) is never serialized.
    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        name: &'static str,
        value: &T,
    ) -> Result<(), Unexpected> {
        match name {
            "version" => value.serialize(&mut **self),
            "value" => Ok(()),
            _ => Err(Unexpected),
        }
    }
    fn end(self) -> Result<(), Unexpected> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_survive_a_rebuild() {
        let mut rows: SlotMap<DefaultKey, u8> = SlotMap::new();
        let keys: Vec<_> = (0..5u8).map(|i| rows.insert(i)).collect();
        rows.remove(keys[1]);
        rows.remove(keys[3]);
        let again = rows.insert(9); // reuses slot 4 at version 3
        let found = versions(&rows);
        assert_eq!(found, [1, 2, 1, 3, 1]);
        let live: Vec<_> = rows.iter().map(|(_, v)| *v).collect();
        let mut next = live.into_iter();
        let copy = rebuild("t", &Versions::List(found.clone()), |_| Ok(next.next().unwrap())).unwrap();
        assert_eq!(versions(&copy), found);
        assert_eq!(copy.get(again), Some(&9));
        assert_eq!(copy.get(keys[3]), None, "a stale key stays stale");
        assert_eq!(copy.get(keys[4]), Some(&4));
    }

    #[test]
    fn versions_beyond_the_replay_budget_or_zero_are_refused() {
        let zero = |_| Ok(0u8);
        let list = |v: &[u32]| Versions::List(v.to_vec());
        assert!(rebuild("t", &list(&[u32::MAX]), zero).is_err());
        assert!(rebuild("t", &list(&[0]), zero).is_err());
        assert!(rebuild("t", &list(&[8193]), zero).is_ok());
        assert!(!replayable(&[8211]));
    }

    #[test]
    fn versions_are_listed_only_from_the_first_that_is_not_one() {
        let read = |v: &[u32]| {
            let mut it = v.iter().copied();
            Versions::read(v.len(), || it.next())
        };
        assert_eq!(read(&[1, 1, 1]), Some(Versions::AllOnes(3)));
        assert_eq!(read(&[]), Some(Versions::AllOnes(0)));
        assert_eq!(read(&[1, 1, 4, 1]), Some(Versions::List(vec![1, 1, 4, 1])));
        let mut short = [1, 1].into_iter();
        assert_eq!(Versions::read(3, || short.next()), None);
        let mut short = [3].into_iter();
        assert_eq!(Versions::read(2, || short.next()), None);
        let mut next = 0..;
        let rows = rebuild("t", &read(&[1, 1, 1]).unwrap(), |_| Ok(next.next().unwrap())).unwrap();
        assert_eq!(versions(&rows), [1, 1, 1]);
        assert_eq!(rows.values().copied().collect::<Vec<u32>>(), [0, 1, 2]);
    }
}
