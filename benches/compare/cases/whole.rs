//! The measured whole-store operations: snapshot save and load, fork, fixture reset. One
//! operation per repetition; the result is checked (table sizes) and dropped outside the timer.

use crate::data::{bundle, user_row, Picks, POSTS_PER_USER};
use crate::harness::{time_per_op, Loaded, Op};
use crate::subject::{Ids, Restore, Subject};

/// `snapshot_save`: the whole store to a byte image (SQLite: `sqlite3_serialize` copy;
/// baseline: bincode of the ground truth). ns per snapshot.
#[derive(Default)]
pub struct SnapshotSave {
    /// Snapshot sizes, one line per system.
    pub notes: Vec<String>,
}

impl Op for SnapshotSave {
    fn name(&self) -> &'static str {
        "snapshot_save"
    }
    fn run<S: Subject>(&mut self, sys: &mut Loaded<S>, rep: usize) -> Option<(f64, usize)> {
        let (ns, snapshot) = time_per_op(1, || sys.store.snapshot_save());
        let snapshot = snapshot?;
        if rep == 0 {
            let users = sys.ids.users.len() as f64;
            let len = S::snapshot_len(&snapshot);
            let per_user = len as f64 / users;
            self.notes
                .push(format!("{}: {len} bytes ({per_user:.0} per user)", S::NAME));
        }
        Some((ns, 1))
    }
    fn notes(&self) -> &[String] {
        &self.notes
    }
}

/// `snapshot_load`: a new store from a snapshot (SQLite: `sqlite3_deserialize` of a copy,
/// lazy: pages are parsed on first use, which the size check after the timer pays; baseline:
/// bincode decode plus index rebuild). ns per load.
pub struct SnapshotLoad;

impl Op for SnapshotLoad {
    fn name(&self) -> &'static str {
        "snapshot_load"
    }
    fn run<S: Subject>(&mut self, sys: &mut Loaded<S>, _rep: usize) -> Option<(f64, usize)> {
        let snapshot = sys.store.snapshot_save()?;
        let (ns, loaded) = time_per_op(1, || S::snapshot_load(&snapshot));
        let mut loaded = loaded?;
        assert_eq!(
            loaded.counts(),
            sys.store.counts(),
            "{}: loaded snapshot",
            S::NAME
        );
        Some((ns, 1))
    }
}

/// `fork`: an independent copy of the whole store (relata: `Store::clone`; SQLite: backup API
/// into a new `:memory:` connection; baseline: `Clone`). ns per fork.
pub struct Fork;

impl Op for Fork {
    fn name(&self) -> &'static str {
        "fork"
    }
    fn run<S: Subject>(&mut self, sys: &mut Loaded<S>, _rep: usize) -> Option<(f64, usize)> {
        let (ns, mut copy) = time_per_op(1, || sys.store.fork());
        assert_eq!(copy.counts(), sys.store.counts(), "{}: fork", S::NAME);
        Some((ns, 1))
    }
}

/// New users the fixture script inserts (with profile, posts, memberships): 5 x 17 rows.
const NEW_USERS: usize = 5;
/// Posts the fixture script moves to the new users: together with the rows, 100 writes.
const MOVES: usize = 15;

/// `reset_100`: return the store to a fixture after a test made 100 writes (85 inserted rows:
/// 5 users with profile, posts and memberships; 15 existing posts moved to the new users).
/// relata and the baseline undo a journal; SQLite rolls back to a savepoint opened at the mark
/// (`reset_100`) or copies the fixture back with the backup API (`reset_100_backup`). ns per
/// reset (the writes and the mark are not timed).
pub struct Reset100 {
    users: usize,
    moved: Vec<Vec<usize>>,
    how: Restore,
}

impl Reset100 {
    pub fn new(picks: &mut Picks, users: usize, reps: usize, how: Restore) -> Self {
        let moved = (0..reps)
            .map(|_| picks.indexes(MOVES, users * POSTS_PER_USER))
            .collect();
        Reset100 { users, moved, how }
    }

    /// The test's 100 writes.
    fn write<S: Subject>(&self, sys: &mut Loaded<S>, rep: usize) {
        let mut new = Ids::<S>::default();
        sys.store.begin();
        for i in self.users..self.users + NEW_USERS {
            sys.store.insert_bundle(&mut bundle(i), &sys.ids.groups, &mut new);
        }
        sys.store.commit();
        let moves: Vec<_> = self.moved[rep]
            .iter()
            .enumerate()
            .map(|(k, &p)| (sys.ids.posts[p], new.users[k % NEW_USERS]))
            .collect();
        sys.store.move_posts(&moves);
    }
}

impl Op for Reset100 {
    fn name(&self) -> &'static str {
        match self.how {
            Restore::Rollback => "reset_100",
            Restore::Copy => "reset_100_backup",
        }
    }
    fn run<S: Subject>(&mut self, sys: &mut Loaded<S>, rep: usize) -> Option<(f64, usize)> {
        if !sys.store.fixture_mark(self.how) {
            return None;
        }
        let before = sys.store.counts();
        self.write(sys, rep);
        assert_ne!(sys.store.counts(), before, "{}: the script wrote", S::NAME);
        let (ns, ()) = time_per_op(1, || sys.store.fixture_reset());
        sys.store.fixture_release();
        assert_eq!(sys.store.counts(), before, "{}: reset", S::NAME);
        let new_name = [user_row(self.users).username];
        assert_eq!(
            sys.store.lookup_unique(&new_name),
            0,
            "{}: reset user gone",
            S::NAME
        );
        let owners: Vec<S::User> = self.moved[rep]
            .iter()
            .map(|&p| sys.ids.users[p / POSTS_PER_USER])
            .collect();
        let posts = sys.store.o2m_keys(&owners);
        assert_eq!(
            posts,
            owners.len() * POSTS_PER_USER,
            "{}: moved posts back",
            S::NAME
        );
        Some((ns, 1))
    }
}
