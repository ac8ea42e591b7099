//! How many children each parent slot has through one foreign key: the counting pass that
//! sizes a children index on load. A table's part counts while its records decode (each
//! record is in the cache then), when its parent table is already decoded; otherwise the
//! children job counts with a pass of its own.
//!
//! Counting validates nothing: a parent slot index past the parent table is only flagged
//! (nothing is sized by it), and [`Tallies::check`] then checks each distinct parent once.
//! Only if something is wrong does it go over the children one by one, so the report names the
//! first dangling child in slot order.

use crate::key::RawKey;
use crate::snapshot::SnapshotError;

/// How far a foreign key's parent slot indexes may go, as known when a part decodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ParentSlots {
    /// The parent table is decoded and has fewer slots than this.
    Below(usize),
    /// The key refers to its own table (whose slot count its part gives).
    Own,
    /// The parent table decodes later: the children job counts.
    Unknown,
}

/// One parent slot's share of a children index being filled.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Tally {
    pub(crate) parent: RawKey,
    pub(crate) count: u32,
    /// The highest link number placed so far; `u32::MAX` before the first.
    pub(crate) newest: u32,
}

/// The tally of every parent slot of one foreign key, from counting its children in slot
/// order.
#[derive(Debug)]
pub(crate) struct Tallies {
    per_slot: Vec<Tally>,
    /// Parent slot indexes are below this (an index past it is flagged, not counted).
    bound: usize,
    /// Some slot was named with two versions: at most one of them is live.
    mixed: bool,
    /// Some parent slot index was past `bound`: that child dangles.
    beyond: bool,
}

impl Tally {
    fn empty() -> Tally {
        Tally {
            parent: RawKey::default(),
            count: 0,
            newest: u32::MAX,
        }
    }
}

impl Tallies {
    /// Empty tallies for parents whose slot indexes are below `bound`.
    pub(crate) fn new(bound: usize) -> Tallies {
        Tallies {
            per_slot: Vec::new(),
            bound,
            mixed: false,
            beyond: false,
        }
    }

    /// Counts one child of `parent`. O(1) amortized; memory grows with the highest slot
    /// index counted, never past `bound`.
    #[inline]
    pub(crate) fn add(&mut self, parent: RawKey) {
        let at = parent.index() as usize;
        if at >= self.bound {
            self.beyond = true;
            return;
        }
        if self.per_slot.len() <= at {
            self.per_slot.resize(at + 1, Tally::empty());
        }
        let t = &mut self.per_slot[at];
        self.mixed |= t.count > 0 && t.parent != parent;
        t.parent = parent;
        t.count += 1;
    }

    /// The tallies, once every counted parent is known to be live (`is_live`); otherwise the
    /// error `children_one_by_one` reports going over the children in slot order (it must
    /// find one, since something dangles).
    pub(crate) fn check(
        self,
        is_live: impl Fn(RawKey) -> bool,
        children_one_by_one: impl FnOnce() -> Result<(), SnapshotError>,
        table: &'static str,
    ) -> Result<Vec<Tally>, SnapshotError> {
        let dead = || self.per_slot.iter().any(|t| t.count > 0 && !is_live(t.parent));
        if self.beyond || self.mixed || dead() {
            children_one_by_one()?;
            return Err(SnapshotError::Decode {
                part: table,
                detail: "a foreign key names a missing record".into(),
            });
        }
        Ok(self.per_slot)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(index: u64, version: u64) -> RawKey {
        RawKey::from_u64(version << 32 | index)
    }

    #[test]
    fn counts_per_slot_and_flags_what_needs_a_closer_look() {
        let mut t = Tallies::new(10);
        for k in [key(3, 1), key(1, 1), key(3, 1)] {
            t.add(k);
        }
        let live = |_| true;
        let tallies = t.check(live, || Ok(()), "t").unwrap();
        assert_eq!(tallies.len(), 4);
        assert_eq!((tallies[3].count, tallies[1].count, tallies[2].count), (2, 1, 0));

        let reported = || {
            Err(SnapshotError::Decode {
                part: "t",
                detail: "first".into(),
            })
        };
        let mut beyond = Tallies::new(10);
        beyond.add(key(10, 1));
        assert!(
            beyond.per_slot.is_empty(),
            "nothing sized by an index past the bound"
        );
        assert!(
            matches!(beyond.check(live, reported, "t"), Err(SnapshotError::Decode { detail, .. }) if detail == "first")
        );

        let mut mixed = Tallies::new(10);
        mixed.add(key(2, 3));
        mixed.add(key(2, 1));
        assert!(mixed.check(live, reported, "t").is_err());

        let mut dead = Tallies::new(10);
        dead.add(key(2, 1));
        assert!(dead.check(|_| false, reported, "t").is_err());
        // Something dangles but the one-by-one pass finds nothing: still an error.
        let mut dead = Tallies::new(10);
        dead.add(key(2, 1));
        assert!(dead.check(|_| false, || Ok(()), "t").is_err());
    }
}
