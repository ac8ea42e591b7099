//! How format 5 writes a row's link numbers: each as its difference from the same foreign
//! key's number in the row before, zigzagged, so rows in slot order (mostly link order) take a
//! byte per number. The derived row's `Serialize` calls [`links_out`]; [`Table::from_parts`]
//! undoes it with [`absolute_links`]. The store layer owns this codec (the snapshot layer only
//! picks the format), so nothing in `store/` imports `snapshot/`.
//!
//! [`Table::from_parts`]: super::Table::from_parts

use std::cell::Cell;

use serde::ser::SerializeTuple;
use serde::Serializer;

/// How many foreign keys keep a previous link number of their own in [`links_out`]: every one
/// an entity can have (the derive refuses more than 32, the longest array serde reads). Each
/// key's numbers are relative to that key's own only, so the evolving load, which copies a
/// key's written numbers by name into whatever position the key has now, keeps them right.
pub(crate) const LANES: usize = 32;

thread_local! {
    /// Each foreign key's link number in the row [`links_out`] wrote last on this thread.
    static PREVIOUS: [Cell<u32>; LANES] = const { [const { Cell::new(0) }; LANES] };
}

/// Starts a table's rows: the link numbers before its first row count as 0.
pub(crate) fn restart_links() {
    PREVIOUS.with(|previous| previous.iter().for_each(|p| p.set(0)));
}

/// Writes a row's link numbers (the derived row's `Serialize` calls it; not API), each as its
/// difference from the same foreign key's number in the row before, zigzagged: rows in slot
/// order are mostly in link order, so one byte each, where the number itself takes up to five
/// (a NULL key's 0 after another NULL takes one; see `docs/SNAPSHOT.md` for one that
/// alternates). Wrapping arithmetic: every `u32` round-trips.
#[inline]
pub fn links_out<S: Serializer, const N: usize>(seqs: &[u32; N], s: S) -> Result<S::Ok, S::Error> {
    const { assert!(N <= LANES, "more foreign keys than LANES") };
    let mut written = *seqs;
    PREVIOUS.with(|previous| {
        for (seq, previous) in written.iter_mut().zip(previous) {
            let delta = seq.wrapping_sub(previous.replace(*seq));
            *seq = delta << 1 ^ (delta as i32 >> 31) as u32;
        }
    });
    // A tuple, as serde writes an array (no length); a slice would add one.
    let mut tuple = s.serialize_tuple(N)?;
    written.iter().try_for_each(|w| tuple.serialize_element(w))?;
    tuple.end()
}

/// Undoes [`links_out`] on a decoded row's link numbers, `previous` holding the row before's
/// (0s before the first). A corrupted difference gives some `u32`, never a panic; the checks
/// that follow (below the counter, no two siblings sharing one) refuse a wrong one.
#[inline]
pub(crate) fn absolute_links(seqs: &mut [u32], previous: &mut [u32; LANES]) {
    for (seq, previous) in seqs.iter_mut().zip(previous.iter_mut()) {
        *previous = previous.wrapping_add(*seq >> 1 ^ (*seq & 1).wrapping_neg());
        *seq = *previous;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;

    #[test]
    fn link_numbers_round_trip_through_their_differences() {
        let rows = [[0, 7], [1, 0], [u32::MAX, 1 << 31], [2, 0], [3, u32::MAX]];
        let config = super::super::parts::config();
        restart_links();
        let bytes = bincode::serde::encode_to_vec(rows.iter().map(Links).collect::<Vec<_>>(), config);
        let bytes = bytes.unwrap();
        assert_eq!(
            &bytes[..5],
            &[5, 0, 14, 2, 13],
            "small differences take a byte each"
        );
        let (mut decoded, _): (Vec<[u32; 2]>, _) = bincode::serde::decode_from_slice(&bytes, config).unwrap();
        let mut previous = [0; LANES];
        decoded
            .iter_mut()
            .for_each(|row| absolute_links(row, &mut previous));
        assert_eq!(decoded, rows);
    }

    /// A row that is its link numbers.
    struct Links<'a, const N: usize>(&'a [u32; N]);
    impl<const N: usize> Serialize for Links<'_, N> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            links_out(self.0, s)
        }
    }

    /// Each key's numbers are relative to that key's own only: written with 20 keys, then
    /// read with the first key dropped and the rest moved up one position (as the evolving
    /// load copies a key's written numbers by name), every kept key reads back its numbers.
    #[test]
    fn each_key_is_relative_to_itself_so_a_key_may_move_position() {
        const N: usize = 20;
        let rows: Vec<[u32; N]> = (0..5u32)
            .map(|r| std::array::from_fn(|fk| (fk as u32 * 70_000) + r * (fk as u32 % 3)))
            .collect();
        let config = super::super::parts::config();
        restart_links();
        let bytes = bincode::serde::encode_to_vec(rows.iter().map(Links).collect::<Vec<_>>(), config);
        let (written, _): (Vec<[u32; N]>, _) =
            bincode::serde::decode_from_slice(&bytes.unwrap(), config).unwrap();
        let mut previous = [0; LANES];
        for (row, mut moved) in rows.iter().zip(written.iter().map(|w| w[1..].to_vec())) {
            absolute_links(&mut moved, &mut previous);
            assert_eq!(moved, row[1..]);
        }
    }
}
