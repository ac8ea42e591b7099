//! One relation's edge set: the pairs are ground truth; both adjacency directions are derived.

use hashbrown::HashMap;

use crate::index::children::ChildIndex;
use crate::key::RawKey;

/// The pairs `(left, right)` with their link sequence numbers (ground truth), plus the lists
/// of rights per left and lefts per right, in link order (derived).
#[derive(Clone, Debug, Default)]
pub(crate) struct EdgeSet {
    edges: HashMap<(RawKey, RawKey), u32>,
    rights: ChildIndex,
    lefts: ChildIndex,
    next_seq: u32,
}

impl EdgeSet {
    pub(crate) fn contains(&self, left: RawKey, right: RawKey) -> bool {
        self.edges.contains_key(&(left, right))
    }

    pub(crate) fn rights(&self, left: RawKey) -> &[RawKey] {
        self.rights.get(left)
    }

    pub(crate) fn lefts(&self, right: RawKey) -> &[RawKey] {
        self.lefts.get(right)
    }

    pub(crate) fn len(&self) -> usize {
        self.edges.len()
    }

    /// The link counter (for snapshots).
    pub(crate) fn counter(&self) -> u32 {
        self.next_seq
    }

    pub(crate) fn set_counter(&mut self, next: u32) {
        self.next_seq = next;
    }

    /// The next link sequence number; `None` when 2^32 links were made.
    pub(crate) fn next_seq(&mut self) -> Option<u32> {
        let seq = self.next_seq;
        self.next_seq = seq.checked_add(1)?;
        Some(seq)
    }

    /// Adds a pair that is not present. O(1) for a new link, O(k) when undo re-inserts.
    pub(crate) fn insert(&mut self, left: RawKey, right: RawKey, seq: u32) {
        let EdgeSet {
            edges, rights, lefts, ..
        } = self;
        let prev = edges.insert((left, right), seq);
        debug_assert!(prev.is_none(), "edge {left}->{right} inserted twice");
        rights.insert(left, right, seq, |r| edges.get(&(left, r)).copied().unwrap_or(0));
        lefts.insert(right, left, seq, |l| edges.get(&(l, right)).copied().unwrap_or(0));
    }

    /// Removes a pair, returning its sequence number. O(k) in the two endpoints' fan-out.
    pub(crate) fn remove(&mut self, left: RawKey, right: RawKey) -> Option<u32> {
        let seq = self.edges.remove(&(left, right))?;
        self.rights.remove(left, right);
        self.lefts.remove(right, left);
        Some(seq)
    }

    /// Every pair in sequence order (deterministic; for snapshots and checks).
    pub(crate) fn pairs(&self) -> Vec<(u32, RawKey, RawKey)> {
        let mut all: Vec<_> = self.edges.iter().map(|(&(l, r), &s)| (s, l, r)).collect();
        all.sort_unstable();
        all
    }

    /// Recomputes both adjacency directions from the pairs and compares.
    pub(crate) fn check(&self) -> Result<(), String> {
        let mut fresh = EdgeSet::default();
        for (seq, l, r) in self.pairs() {
            fresh.insert(l, r, seq);
        }
        self.rights.check_layout()?;
        self.lefts.check_layout()?;
        let lists = |c: &ChildIndex| c.iter().map(|(i, l)| (i, l.to_vec())).collect::<Vec<_>>();
        if lists(&fresh.rights) != lists(&self.rights) {
            return Err("the rights-per-left lists disagree with the pairs".into());
        }
        if lists(&fresh.lefts) != lists(&self.lefts) {
            return Err("the lefts-per-right lists disagree with the pairs".into());
        }
        if self.edges.values().any(|&s| s >= self.next_seq) {
            return Err("a link sequence number is not below the counter".into());
        }
        Ok(())
    }

    /// Logical equality: the same pairs, in the same order from both ends.
    pub(crate) fn same_content(&self, other: &EdgeSet) -> bool {
        let lists = |c: &ChildIndex| c.iter().map(|(i, l)| (i, l.to_vec())).collect::<Vec<_>>();
        self.edges.len() == other.edges.len()
            && self.edges.keys().all(|k| other.edges.contains_key(k))
            && lists(&self.rights) == lists(&other.rights)
            && lists(&self.lefts) == lists(&other.lefts)
    }
}
