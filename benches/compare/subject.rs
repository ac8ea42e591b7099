//! What every system under test implements: relata, SQLite and the hand-written baseline.
//!
//! Operations take a whole batch of inputs and run their own tight loop, so that each system
//! pays only for its own work (SQLite prepares a statement once per batch and holds it across
//! the loop; no trait dispatch or closure sits inside any loop). Every batch returns a count
//! that the harness compares across systems and with the expected value, so no system can be
//! measured doing less work than the others.
//!
//! Operations a system lacks return `None` (printed `n/a`). Adding relata's snapshot or fixture
//! reset later is one method each in `relata_sys.rs`: `snapshot_save` + `snapshot_len`,
//! `snapshot_load`, and `fixture_mark` / `fixture_reset` / `fixture_release`.

use crate::data::{Bundle, UserRow};

/// How a system returns to a fixture. relata and the baseline undo a journal of the writes
/// either way; SQLite has two ways, and `reset_100` measures both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Restore {
    /// SQLite: `ROLLBACK TO` a savepoint opened at the mark (how SQLite users reset a fixture).
    Rollback,
    /// SQLite: copy every page back from a fixture copy with the backup API (O(database)).
    Copy,
}

/// Row counts per table: users, profiles, posts, groups, memberships.
pub type Counts = [usize; 5];

/// The keys a system handed out during the bulk load, by data-set index.
pub struct Ids<S: Subject> {
    /// User `i`'s key at index `i`.
    pub users: Vec<S::User>,
    /// User `i`'s post `j` at index `10 i + j`.
    pub posts: Vec<S::Post>,
    /// Group `g`'s key at index `g`.
    pub groups: Vec<S::Group>,
}

impl<S: Subject> Default for Ids<S> {
    fn default() -> Self {
        Ids {
            users: Vec::new(),
            posts: Vec::new(),
            groups: Vec::new(),
        }
    }
}

/// A system under test.
pub trait Subject: Sized {
    /// The name used on the command line and in error messages.
    const NAME: &'static str;
    /// A user's key.
    type User: Copy;
    /// A post's key.
    type Post: Copy;
    /// A group's key.
    type Group: Copy;
    /// A saved snapshot.
    type Snapshot;

    /// An empty store with the blog schema.
    fn open() -> Self;
    /// Starts a bulk load (SQLite: `BEGIN`).
    fn begin(&mut self) {}
    /// Ends a bulk load (SQLite: `COMMIT`).
    fn commit(&mut self) {}
    /// Inserts the groups. Systems that take owned text move it out of `names`.
    fn insert_groups(&mut self, names: &mut [String]) -> Vec<Self::Group>;
    /// Inserts one user with its profile, posts and memberships; pushes the user's and the
    /// posts' keys onto `ids`. Systems that take owned text move it out of `b`.
    fn insert_bundle(&mut self, b: &mut Bundle, groups: &[Self::Group], ids: &mut Ids<Self>);
    /// Row counts per table.
    fn counts(&mut self) -> Counts;

    /// Looks each username up through its unique index; returns the number found.
    fn lookup_unique(&mut self, names: &[String]) -> usize;
    /// Visits the post keys of each user; returns the number visited.
    fn o2m_keys(&mut self, users: &[Self::User]) -> usize;
    /// Reads the title of each post of each user (through [`read_text`]); returns the number
    /// read.
    fn o2m_fields(&mut self, users: &[Self::User]) -> usize;
    /// Visits the group keys of each user through its memberships; returns the number visited.
    fn m2m_forward(&mut self, users: &[Self::User]) -> usize;
    /// Visits the user keys of each group through its memberships; returns the number visited.
    fn m2m_reverse(&mut self, groups: &[Self::Group]) -> usize;
    /// Inserts each row, expecting a unique violation; returns the number of rows rejected with
    /// a unique-constraint error.
    fn insert_rejected(&mut self, rows: &mut [UserRow]) -> usize;
    /// Points each post at the paired user, in order.
    fn move_posts(&mut self, moves: &[(Self::Post, Self::User)]);
    /// Deletes each user with its profile, posts and memberships; returns the users deleted.
    fn delete_users(&mut self, users: &[Self::User]) -> usize;
    /// An independent copy of the whole store.
    fn fork(&mut self) -> Self;

    /// A snapshot of the whole store, or `None` if the system cannot take one.
    fn snapshot_save(&mut self) -> Option<Self::Snapshot> {
        None
    }
    /// A new store from a snapshot, or `None` if the system cannot load one.
    fn snapshot_load(_snapshot: &Self::Snapshot) -> Option<Self> {
        None
    }
    /// Size of a snapshot in bytes.
    fn snapshot_len(_snapshot: &Self::Snapshot) -> usize {
        0
    }
    /// Marks the current state as the fixture to reset to, to be restored `how`; `false` if
    /// unsupported.
    fn fixture_mark(&mut self, _how: Restore) -> bool {
        false
    }
    /// Returns the store to the marked fixture, undoing every write since the mark; the mark
    /// stays.
    fn fixture_reset(&mut self) {}
    /// Drops the fixture mark.
    fn fixture_release(&mut self) {}
}

/// Reaches the bytes of `text`: its length and its first and last byte go through
/// `black_box`, so each system pays for getting to the text's memory (relata's `Text` is lazy;
/// a `&str` can go unread), with no per-byte work that would hide the systems' own costs.
/// Used by every system's `o2m_fields`.
#[inline(always)]
pub fn read_text(text: &str) -> usize {
    let bytes = std::hint::black_box(text.as_bytes());
    let ends = bytes.first().zip(bytes.last());
    std::hint::black_box(ends.map_or(0, |(&a, &b)| usize::from(a) + usize::from(b)));
    bytes.len()
}

/// Bulk-loads `groups` and `bundles` in one transaction; returns the keys handed out.
pub fn load<S: Subject>(s: &mut S, groups: &mut [String], bundles: &mut [Bundle]) -> Ids<S> {
    let mut ids = Ids::default();
    s.begin();
    let group_keys = s.insert_groups(groups);
    for b in bundles {
        s.insert_bundle(b, &group_keys, &mut ids);
    }
    s.commit();
    ids.groups = group_keys;
    ids
}
