//! Entity type -> table position in O(1): every typed call (`get`, `children`, `insert`, ...)
//! finds its table here, so the look-up must cost a hash and one comparison, not a scan of the
//! schema's tables.

use std::any::TypeId;
use std::hash::{Hash, Hasher};

/// The bits a `TypeId` hashes to, taken as they are: a `TypeId` is already a hash of its type,
/// so mixing them again would only cost instructions.
#[derive(Default)]
struct Bits(u64);

impl Hasher for Bits {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = self.0.rotate_left(32) ^ n;
    }
}

/// A direct-mapped table of the schema's entity types: the slot of a type is a few bits of
/// its `TypeId` (which bits and how many chosen when the schema is built, so that every type
/// has its own slot), so a look-up is one comparison. Should no choice separate every type
/// (vanishingly unlikely), a look-up that misses its slot falls back to a scan.
#[derive(Debug, Default)]
pub(crate) struct TypeIndex {
    /// The bits of a type's hash that select its slot: `(hash >> shift) & (slots.len() - 1)`.
    shift: u32,
    /// `(type, position)`; the length is a power of two.
    slots: Vec<Option<(TypeId, usize)>>,
    /// Every type at its position, for the fallback scan.
    types: Vec<TypeId>,
}

/// A type's hash (see [`Bits`]).
fn bits(id: TypeId) -> u64 {
    let mut bits = Bits::default();
    id.hash(&mut bits);
    bits.finish()
}

impl TypeIndex {
    /// The index of `types`, each at its position in the slice (the schema has checked they
    /// are distinct). Tries table sizes from twice the number of types up to 64 times, and
    /// every shift, for a choice of bits that gives every type its own slot.
    pub(crate) fn new(types: &[TypeId]) -> TypeIndex {
        let hashes: Vec<u64> = types.iter().map(|&id| bits(id)).collect();
        let smallest = (types.len() * 2).next_power_of_two().max(2);
        let choices = (0..6).flat_map(|grow| (0..=56).map(move |shift| (smallest << grow, shift)));
        let separating = choices.into_iter().find(|&(len, shift)| {
            let mut used = vec![false; len];
            hashes
                .iter()
                .all(|h| !std::mem::replace(&mut used[(h >> shift) as usize & (len - 1)], true))
        });
        let (len, shift) = separating.unwrap_or((smallest, 0));
        let mut slots = vec![None; len];
        for (position, (&id, h)) in types.iter().zip(&hashes).enumerate() {
            slots[(h >> shift) as usize & (len - 1)].get_or_insert((id, position));
        }
        TypeIndex {
            shift,
            slots,
            types: types.to_vec(),
        }
    }

    /// The position of `id`, or `None` for a type outside the schema. O(1).
    pub(crate) fn get(&self, id: TypeId) -> Option<usize> {
        match self.slots.get(self.slot(id)) {
            Some(&Some((found, position))) if found == id => Some(position),
            _ => self.scan(id),
        }
    }

    /// The position `id` has if it is the type in its slot (every type of the schema, unless
    /// no choice of bits separated them), without comparing the type: for a caller that checks
    /// what it finds there anyway (a downcast compares the type) and falls back to
    /// [`get`](Self::get). `usize::MAX` for an empty slot. O(1).
    #[inline]
    pub(crate) fn guess(&self, id: TypeId) -> usize {
        match self.slots.get(self.slot(id)) {
            Some(&Some((_, position))) => position,
            _ => usize::MAX,
        }
    }

    #[inline]
    fn slot(&self, id: TypeId) -> usize {
        (bits(id) >> self.shift) as usize & self.slots.len().wrapping_sub(1)
    }

    /// The fallback: a type outside the schema, or one that shares its slot.
    #[cold]
    fn scan(&self, id: TypeId) -> Option<usize> {
        self.types.iter().position(|&t| t == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_every_type_and_nothing_else() {
        let types = [
            TypeId::of::<u8>(),
            TypeId::of::<u16>(),
            TypeId::of::<u32>(),
            TypeId::of::<u64>(),
            TypeId::of::<i8>(),
        ];
        let index = TypeIndex::new(&types);
        for (position, &id) in types.iter().enumerate() {
            assert_eq!(index.get(id), Some(position));
            assert_eq!(index.guess(id), position);
        }
        assert_eq!(index.get(TypeId::of::<String>()), None);
        assert_eq!(TypeIndex::new(&[]).get(TypeId::of::<u8>()), None);
        assert_eq!(TypeIndex::new(&[]).guess(TypeId::of::<u8>()), usize::MAX);
        assert_eq!(TypeIndex::default().get(TypeId::of::<u8>()), None);
    }

    #[test]
    fn shared_slots_fall_back_to_the_scan() {
        let types = [TypeId::of::<u8>(), TypeId::of::<u16>(), TypeId::of::<u32>()];
        let mut index = TypeIndex::new(&types);
        index.slots = vec![Some((types[0], 0))]; // every type now maps to the one slot
        index.shift = 0;
        for (position, &id) in types.iter().enumerate() {
            assert_eq!(index.get(id), Some(position));
        }
        assert_eq!(index.get(TypeId::of::<String>()), None);
    }
}
