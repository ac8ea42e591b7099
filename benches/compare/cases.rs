//! The measured operations. Inputs are data-set indexes drawn before any timer starts (seeded,
//! the same for every system) and mapped to each system's keys outside the timer. Each run
//! checks its own result (counts, errors, table sizes) so no system does less work.

mod whole;
mod write;

pub use whole::{Fork, Reset100, SnapshotLoad, SnapshotSave};
pub use write::{CascadeDelete, MoveChild};

use crate::data::{user_row, Picks, UserRow, POSTS_PER_USER};
use crate::harness::{time_per_op, Loaded, Op};
use crate::subject::Subject;

/// Maps data-set indexes to a system's keys.
fn keys<K: Copy>(ids: &[K], indexes: &[usize]) -> Vec<K> {
    indexes.iter().map(|&i| ids[i]).collect()
}

/// `lookup_unique`: find a user by username (a unique index). ns per lookup.
pub struct LookupUnique(Vec<Vec<String>>);

impl LookupUnique {
    pub fn new(picks: &mut Picks, users: usize, ops: usize, reps: usize) -> Self {
        let names = |_| {
            picks
                .indexes(ops, users)
                .into_iter()
                .map(|i| user_row(i).username)
                .collect()
        };
        LookupUnique((0..reps).map(names).collect())
    }
}

impl Op for LookupUnique {
    fn name(&self) -> &'static str {
        "lookup_unique"
    }
    fn run<S: Subject>(&mut self, sys: &mut Loaded<S>, rep: usize) -> Option<(f64, usize)> {
        let names = &self.0[rep];
        let (ns, found) = time_per_op(names.len(), || sys.store.lookup_unique(names));
        assert_eq!(found, names.len(), "{}: every username exists", S::NAME);
        Some((ns, found))
    }
}

/// The traversals that start from a user.
#[derive(Clone, Copy, Debug)]
pub enum FromUser {
    /// `o2m_keys`: the post keys of a user.
    PostKeys,
    /// `o2m_fields`: the title of each post of a user.
    PostTitles,
    /// `m2m_forward`: the group keys of a user, through its memberships.
    Groups,
}

/// A traversal from random users. ns per user visited (all of its children).
pub struct Traverse {
    kind: FromUser,
    users: Vec<Vec<usize>>,
}

impl Traverse {
    pub fn new(kind: FromUser, picks: &mut Picks, users: usize, ops: usize, reps: usize) -> Self {
        let users = (0..reps).map(|_| picks.indexes(ops, users)).collect();
        Traverse { kind, users }
    }
}

impl Op for Traverse {
    fn name(&self) -> &'static str {
        match self.kind {
            FromUser::PostKeys => "o2m_keys",
            FromUser::PostTitles => "o2m_fields",
            FromUser::Groups => "m2m_forward",
        }
    }
    fn run<S: Subject>(&mut self, sys: &mut Loaded<S>, rep: usize) -> Option<(f64, usize)> {
        let users = keys(&sys.ids.users, &self.users[rep]);
        let store = &mut sys.store;
        let (ns, n) = match self.kind {
            FromUser::PostKeys => time_per_op(users.len(), || store.o2m_keys(&users)),
            FromUser::PostTitles => time_per_op(users.len(), || store.o2m_fields(&users)),
            FromUser::Groups => time_per_op(users.len(), || store.m2m_forward(&users)),
        };
        let per_user = match self.kind {
            FromUser::Groups => crate::data::GROUPS_PER_USER,
            _ => POSTS_PER_USER,
        };
        assert_eq!(n, users.len() * per_user, "{}: {}", S::NAME, self.name());
        Some((ns, n))
    }
}

/// `m2m_reverse`: the user keys of a random group, through its memberships (fan-out about
/// 5 N / 1000). ns per group visited.
pub struct Members(Vec<Vec<usize>>);

impl Members {
    pub fn new(picks: &mut Picks, ops: usize, reps: usize) -> Self {
        Members(
            (0..reps)
                .map(|_| picks.indexes(ops, crate::data::GROUPS))
                .collect(),
        )
    }
}

impl Op for Members {
    fn name(&self) -> &'static str {
        "m2m_reverse"
    }
    fn run<S: Subject>(&mut self, sys: &mut Loaded<S>, rep: usize) -> Option<(f64, usize)> {
        let groups = keys(&sys.ids.groups, &self.0[rep]);
        let (ns, n) = time_per_op(groups.len(), || sys.store.m2m_reverse(&groups));
        Some((ns, n))
    }
}

/// `unique_violation`: insert a user whose username is taken (the email is fresh). Every
/// insert must fail with a unique-constraint error and leave every table unchanged. ns per
/// rejected insert (the rejected row's text is prepared before the timer).
pub struct UniqueViolation(Vec<Vec<UserRow>>);

impl UniqueViolation {
    pub fn new(picks: &mut Picks, users: usize, ops: usize, reps: usize) -> Self {
        let row = |rep: usize, k: usize, i: usize| UserRow {
            username: user_row(i).username,
            email: format!("fresh{rep}x{k}@example.com"),
        };
        let batch = |rep| {
            let picked = picks.indexes(ops, users).into_iter().enumerate();
            picked.map(|(k, i)| row(rep, k, i)).collect()
        };
        UniqueViolation((0..reps).map(batch).collect())
    }
}

impl Op for UniqueViolation {
    fn name(&self) -> &'static str {
        "unique_violation"
    }
    fn run<S: Subject>(&mut self, sys: &mut Loaded<S>, rep: usize) -> Option<(f64, usize)> {
        let mut rows = self.0[rep].clone();
        let before = sys.store.counts();
        let (ns, rejected) = time_per_op(rows.len(), || sys.store.insert_rejected(&mut rows));
        assert_eq!(
            rejected,
            rows.len(),
            "{}: every insert is a unique violation",
            S::NAME
        );
        assert_eq!(
            sys.store.counts(),
            before,
            "{}: a rejected insert changed a table",
            S::NAME
        );
        Some((ns, rejected))
    }
}
