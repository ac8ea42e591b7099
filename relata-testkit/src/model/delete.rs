//! Deletes in the model, by fixpoint rather than traversal: the doomed set is the record plus
//! everything that reaches it through cascade (or delete-orphan) links, repeated until nothing
//! changes; a RESTRICT link from a surviving record into the doomed set blocks; SET NULL links
//! from surviving records are nulled.

use std::collections::{BTreeMap, BTreeSet};

use relata::{Error, RawKey};

use super::{Action, KeyState, Model, TableId, V};

/// What a successful delete did: compared with relata's report as sets.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeleteOutcome {
    /// Every deleted record.
    pub deleted: BTreeSet<(TableId, RawKey)>,
    /// Every foreign key set to NULL: (child table, child, foreign key number).
    pub nulled: BTreeSet<(TableId, RawKey, usize)>,
    /// Every many-to-many pair removed with an end: (relation, left, right).
    pub unlinked: BTreeSet<(usize, RawKey, RawKey)>,
}

/// The error the model expects. A blocked delete may name any of its blocking
/// relationships: which one is "first" is relata's traversal order, not the contract.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expected {
    /// Exactly this error.
    Exactly(Error),
    /// Any one of these.
    OneOf(Vec<Error>),
    /// `CommitFailed` reporting each of these groups of duplicates (each at least once,
    /// naming any of its records).
    CommitFailed(Vec<super::scope::Duplicates>),
    /// `FaultNotTriggered` (its text is relata's `Debug` of the fault point).
    FaultNotTriggered,
}

impl Expected {
    /// `true` if relata's error is acceptable.
    pub fn admits(&self, e: &Error) -> bool {
        match self {
            Expected::Exactly(x) => x == e,
            Expected::OneOf(xs) => xs.contains(e),
            Expected::CommitFailed(groups) => match e {
                Error::CommitFailed { violations } => {
                    violations.iter().all(|v| groups.iter().any(|g| g.admits(v)))
                        && groups.iter().all(|g| violations.iter().any(|v| g.admits(v)))
                }
                _ => false,
            },
            Expected::FaultNotTriggered => matches!(e, Error::FaultNotTriggered { .. }),
        }
    }
}

/// One non-NULL link: (child table, child, foreign key number, parent table, parent).
type Link = (TableId, RawKey, usize, TableId, RawKey);

impl Model {
    /// Deletes a record with every on-delete action, or says why not (changing nothing).
    pub fn delete(&mut self, t: TableId, key: RawKey) -> Result<DeleteOutcome, Expected> {
        let outcome = self.plan_delete(t, key)?;
        for &(ct, c, fk) in &outcome.nulled {
            self.null_out(ct, c, fk);
        }
        for &(dt, d) in &outcome.deleted {
            self.table_mut(dt).live.remove(&d);
        }
        for &(r, l, rt) in &outcome.unlinked {
            self.links[r].remove(&(l, rt));
        }
        Ok(outcome)
    }

    /// What [`delete`](Self::delete) would do.
    pub fn plan_delete(&self, t: TableId, key: RawKey) -> Result<DeleteOutcome, Expected> {
        if self.key_state(t, key) != KeyState::Live {
            return Err(Expected::Exactly(self.not_live_error(t, key)));
        }
        let links = self.links();
        let deleted = doomed(&links, (t, key));
        let blocks = restrictions(&links, &deleted);
        if !blocks.is_empty() {
            return Err(Expected::OneOf(blocks));
        }
        let nulled = links
            .iter()
            .filter(|&&(ct, c, fk, pt, p)| {
                let def = &ct.spec().fks[fk];
                def.action == Action::SetNull
                    && !def.orphan
                    && deleted.contains(&(pt, p))
                    && !deleted.contains(&(ct, c))
            })
            .map(|&(ct, c, fk, _, _)| (ct, c, fk))
            .collect();
        let mut unlinked = BTreeSet::new();
        for (r, spec) in super::RELATIONS.iter().enumerate() {
            for &(l, rt) in self.links[r].keys() {
                if deleted.contains(&(spec.left.0, l)) || deleted.contains(&(spec.right.0, rt)) {
                    unlinked.insert((r, l, rt));
                }
            }
        }
        Ok(DeleteOutcome {
            deleted,
            nulled,
            unlinked,
        })
    }

    /// Every non-NULL foreign key of every live record.
    fn links(&self) -> Vec<Link> {
        let mut out = Vec::new();
        for t in TableId::ALL {
            for (k, r) in self.live(t) {
                for (fk, def) in t.spec().fks.iter().enumerate() {
                    if let V::Key(p) = r.values[def.field] {
                        out.push((t, *k, fk, def.target, p));
                    }
                }
            }
        }
        out
    }
}

/// The root plus everything that reaches the doomed set through a cascade or orphan link.
fn doomed(links: &[Link], root: (TableId, RawKey)) -> BTreeSet<(TableId, RawKey)> {
    let mut set = BTreeSet::from([root]);
    loop {
        let before = set.len();
        for &(ct, c, fk, pt, p) in links {
            let def = &ct.spec().fks[fk];
            if (def.action == Action::Cascade || def.orphan) && set.contains(&(pt, p)) {
                set.insert((ct, c));
            }
        }
        if set.len() == before {
            return set;
        }
    }
}

/// One `Restricted` error per (doomed parent, relationship) that a surviving child blocks.
fn restrictions(links: &[Link], doomed: &BTreeSet<(TableId, RawKey)>) -> Vec<Error> {
    let mut counts: BTreeMap<(TableId, RawKey, TableId, usize), usize> = BTreeMap::new();
    for &(ct, c, fk, pt, p) in links {
        let def = &ct.spec().fks[fk];
        if def.action == Action::Restrict
            && !def.orphan
            && doomed.contains(&(pt, p))
            && !doomed.contains(&(ct, c))
        {
            *counts.entry((pt, p, ct, fk)).or_default() += 1;
        }
    }
    counts
        .into_iter()
        .map(|((pt, p, ct, fk), dependents)| {
            let def = &ct.spec().fks[fk];
            Error::Restricted {
                table: pt.spec().name,
                key: p,
                child_table: ct.spec().name,
                column: ct.spec().columns[def.field],
                relationship: def.back,
                dependents,
                action: relata::OnDelete::NoAction,
            }
        })
        .collect()
}
