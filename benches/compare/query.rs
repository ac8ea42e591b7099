//! The query operations of issue #20 (ordered indexes, sorted pages, upsert), on a data set of
//! their own so the blog operations' schema stays as `schema.rs` has it
//! (docs/PERFORMANCE.md, "Queries").
//!
//! Data: N users (`email UNIQUE`, `name`, `visits`), 20 posts per user with a distinct
//! `created_at` (a random permutation, so a user's posts are not in time order by insertion),
//! 1,000 groups and 5 memberships per user in distinct random groups. Every system indexes
//! posts by `(user, created_at)` and by `created_at`:
//!
//! - relata: `index(author, created_at, ordered)` and `index(ordered)` on `created_at`, a
//!   many-to-many relation for the memberships; the public API only.
//! - SQLite: `ix_posts_user_created(user_id, created_at)`, `ix_posts_created(created_at)`,
//!   `user_groups(user_id, group_id, PRIMARY KEY(user_id, group_id))` and its group index.
//! - baseline: per user a `Vec<(created_at, post)>` kept sorted, a `BTreeSet<(created_at,
//!   post)>`, per group a `Vec` of members, a `HashTable` on email.
//!
//! The operations (each reads `created_at` and the title of every row it produces, and
//! returns the rows and a checksum of their times, which must agree across systems):
//!
//! - `newest_posts`: a user's 10 newest posts (of 20), newest first.
//! - `range_scan`: the 100 posts from a random `created_at` on, in time order.
//! - `feed_page`: the 20 newest posts by the members of a group (5 N / 1000 members).
//! - `keyset_page`: the 20 posts before a random time, newest first, through the whole posts
//!   table (keyset pagination deep into a long list: `WHERE created_at < ? ORDER BY
//!   created_at DESC LIMIT 20`; the time lies between two posts', so no tie).
//! - `upsert`: insert-or-update a user by email, half of them new (`ON CONFLICT (email) DO
//!   UPDATE SET name, visits`); returns the number inserted; table sizes are checked after.

mod hand_q;
mod relata_q;
mod sqlite_q;

use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};

use crate::harness::{self, median, time_per_op, Samples};
use crate::report::Line;

pub use hand_q::HandQ;
pub use sqlite_q::SqliteQ;

/// Posts per user.
pub const POSTS: usize = 20;
/// Groups.
pub const GROUPS: usize = 1_000;
/// Memberships per user.
pub const GROUPS_PER_USER: usize = 5;
/// Rows `newest_posts` returns per user.
pub const NEWEST: usize = 10;
/// Rows `range_scan` returns.
pub const RANGE: usize = 100;
/// Rows `feed_page` returns.
pub const PAGE: usize = 20;
/// Distance between two consecutive `created_at` values.
const STEP: i64 = 10;

const SEED: u64 = 0x7265_6c61_7461_0020;

/// The generated data: every post's time and every user's groups.
pub struct QData {
    /// Users.
    pub users: usize,
    /// `created_at` of user `i`'s post `j` at `POSTS * i + j`: distinct, a permutation of
    /// `0, STEP, 2 STEP, ...`.
    pub times: Vec<i64>,
    /// User `i`'s groups, distinct.
    pub groups: Vec<[u32; GROUPS_PER_USER]>,
}

impl QData {
    /// The data set of `users` users.
    pub fn generate(users: usize) -> QData {
        let mut rng = SmallRng::seed_from_u64(SEED ^ users as u64);
        let mut times: Vec<i64> = (0..(users * POSTS) as i64).map(|t| t * STEP).collect();
        for i in (1..times.len()).rev() {
            times.swap(i, rng.random_range(0..=i));
        }
        let groups = (0..users)
            .map(|_| {
                let mut gs = [0u32; GROUPS_PER_USER];
                for n in 0..GROUPS_PER_USER {
                    gs[n] = loop {
                        let g = rng.random_range(0..GROUPS as u32);
                        if !gs[..n].contains(&g) {
                            break g;
                        }
                    };
                }
                gs
            })
            .collect();
        QData { users, times, groups }
    }
}

/// User `i`'s email.
pub fn email(i: usize) -> String {
    format!("user{i}@example.com")
}

/// User `i`'s post `j`'s title.
pub fn title(i: usize, j: usize) -> String {
    format!("Post {j} by user{i}")
}

/// What a read produced: its rows, and the sum of their times and title lengths.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub rows: usize,
    pub sum: u64,
}

impl Tally {
    /// Counts one row: its time and its title (through `read_text`).
    #[inline(always)]
    pub fn row(&mut self, created_at: i64, title: &str) {
        self.rows += 1;
        self.sum = self
            .sum
            .wrapping_add(created_at as u64)
            .wrapping_add(crate::subject::read_text(title) as u64);
    }
}

/// One row of an upsert batch.
#[derive(Clone, Debug)]
pub struct UpsertRow {
    pub email: String,
    pub name: String,
    pub visits: i64,
}

/// A system under test for the query operations.
pub trait QSys: Sized {
    /// The name in messages.
    const NAME: &'static str;
    /// A user's key.
    type User: Copy;
    /// A group's key.
    type Group: Copy;
    /// A store holding `data`, with the users' and groups' keys by index.
    fn load(data: &QData) -> (Self, Vec<Self::User>, Vec<Self::Group>);
    /// Number of users.
    fn user_count(&mut self) -> usize;
    /// Each user's `NEWEST` newest posts, newest first.
    fn newest_posts(&mut self, users: &[Self::User]) -> Tally;
    /// From each start, the `RANGE` posts with `created_at >= start`, oldest first.
    fn range_scan(&mut self, starts: &[i64]) -> Tally;
    /// Each group's `PAGE` newest posts by its members, newest first.
    fn feed_page(&mut self, groups: &[Self::Group]) -> Tally;
    /// From each cursor, the `PAGE` posts with `created_at < cursor`, newest first.
    fn keyset_page(&mut self, cursors: &[i64]) -> Tally;
    /// Inserts or updates each row by email; returns how many were inserted.
    fn upsert(&mut self, rows: &mut [UpsertRow]) -> usize;
}

/// A loaded system.
pub struct Loaded<S: QSys> {
    store: S,
    users: Vec<S::User>,
    groups: Vec<S::Group>,
}

impl<S: QSys> Loaded<S> {
    fn new(data: &QData) -> Self {
        let (store, users, groups) = S::load(data);
        Loaded { store, users, groups }
    }
}

/// The inputs of every repetition of every operation, drawn before any timer.
pub struct Inputs {
    users: Vec<Vec<usize>>,
    starts: Vec<Vec<i64>>,
    groups: Vec<Vec<usize>>,
    upserts: Vec<Vec<UpsertRow>>,
    cursors: Vec<Vec<i64>>,
}

impl Inputs {
    /// `reps` repetitions: `points` users and starts, `feeds` groups and `upserts` rows each.
    pub fn new(users: usize, reps: usize, points: usize, feeds: usize, upserts: usize) -> Inputs {
        let mut rng = SmallRng::seed_from_u64(SEED.wrapping_add(users as u64));
        let mut pick =
            |n: usize, below: usize| -> Vec<usize> { (0..n).map(|_| rng.random_range(0..below)).collect() };
        let last_start = (users * POSTS - RANGE) as i64 * STEP;
        let upsert_batch = |rep: usize, picks: Vec<usize>| {
            let row = |(k, i): (usize, usize)| match k % 2 {
                0 => UpsertRow {
                    email: email(i),
                    name: format!("renamed{rep}x{k}"),
                    visits: k as i64,
                },
                _ => UpsertRow {
                    email: format!("new{rep}x{k}@example.com"),
                    name: format!("new{rep}x{k}"),
                    visits: k as i64,
                },
            };
            picks.into_iter().enumerate().map(row).collect()
        };
        let mut inputs = Inputs {
            users: Vec::new(),
            starts: Vec::new(),
            groups: Vec::new(),
            upserts: Vec::new(),
            cursors: Vec::new(),
        };
        // Drawn apart, so the other operations' inputs do not depend on this one.
        let mut cursor_rng = SmallRng::seed_from_u64(SEED.wrapping_sub(users as u64));
        let (first, last) = (PAGE as i64 * STEP, (users * POSTS) as i64 * STEP);
        for rep in 0..reps {
            inputs.users.push(pick(points, users));
            let starts = pick(points, last_start as usize + 1);
            inputs.starts.push(starts.into_iter().map(|s| s as i64).collect());
            inputs.groups.push(pick(feeds, GROUPS));
            inputs.upserts.push(upsert_batch(rep, pick(upserts, users)));
            let cursors = (0..feeds).map(|_| cursor_rng.random_range(first..last) / STEP * STEP + STEP / 2);
            inputs.cursors.push(cursors.collect());
        }
        inputs
    }
}

/// The operations, in run order (`upsert` last: it grows the users table).
pub const OPS: [&str; 5] = ["newest_posts", "range_scan", "feed_page", "keyset_page", "upsert"];

/// One repetition of `op` on one system: ns per operation and what it produced.
fn run_op<S: QSys>(sys: &mut Loaded<S>, inputs: &Inputs, op: &str, rep: usize) -> (f64, Tally) {
    let store = &mut sys.store;
    match op {
        "newest_posts" => {
            let users: Vec<S::User> = inputs.users[rep].iter().map(|&i| sys.users[i]).collect();
            let (ns, t) = time_per_op(users.len(), || store.newest_posts(&users));
            assert_eq!(t.rows, users.len() * NEWEST, "{}: {op}", S::NAME);
            (ns, t)
        }
        "range_scan" => {
            let starts = &inputs.starts[rep];
            let (ns, t) = time_per_op(starts.len(), || store.range_scan(starts));
            assert_eq!(t.rows, starts.len() * RANGE, "{}: {op}", S::NAME);
            (ns, t)
        }
        "feed_page" => {
            let groups: Vec<S::Group> = inputs.groups[rep].iter().map(|&g| sys.groups[g]).collect();
            let (ns, t) = time_per_op(groups.len(), || store.feed_page(&groups));
            (ns, t)
        }
        "keyset_page" => {
            let cursors = &inputs.cursors[rep];
            let (ns, t) = time_per_op(cursors.len(), || store.keyset_page(cursors));
            assert_eq!(t.rows, cursors.len() * PAGE, "{}: {op}", S::NAME);
            (ns, t)
        }
        "upsert" => {
            let mut rows = inputs.upserts[rep].clone();
            let before = store.user_count();
            let (ns, inserted) = time_per_op(rows.len(), || store.upsert(&mut rows));
            assert_eq!(inserted, rows.len() / 2, "{}: {op} inserts half", S::NAME);
            assert_eq!(store.user_count(), before + inserted, "{}: {op}", S::NAME);
            (
                ns,
                Tally {
                    rows: inserted,
                    sum: 0,
                },
            )
        }
        other => panic!("unknown query operation {other}"),
    }
}

/// The three systems, loaded with one data set.
struct Trio {
    relata: Loaded<relata::Store>,
    sqlite: Loaded<SqliteQ>,
    hand: Loaded<HandQ>,
}

/// Every query operation at `users` users, interleaved as `harness::measure` does; one line
/// per operation. `wants` filters the operations.
pub fn run_size(users: usize, reps: usize, wants: impl Fn(&str) -> bool, lines: &mut Vec<Line>) {
    if !OPS.iter().any(|op| wants(op)) {
        return;
    }
    eprintln!("== {users} users: query data set ({} posts)", users * POSTS);
    let data = QData::generate(users);
    let mut trio = Trio {
        relata: Loaded::new(&data),
        sqlite: Loaded::new(&data),
        hand: Loaded::new(&data),
    };
    drop(data);
    let inputs = Inputs::new(
        users,
        reps,
        20_000,
        2_000.min(200_000_000 / users / 10).max(50),
        10_000,
    );
    for op in OPS.into_iter().filter(|op| wants(op)) {
        let started = std::time::Instant::now();
        let mut samples = Samples::default();
        for rep in 0..reps {
            let mut tallies = [Tally::default(); 3];
            for turn in 0..3 {
                let sys = (rep + turn) % 3;
                let (ns, tally) = match sys {
                    0 => run_op(&mut trio.relata, &inputs, op, rep),
                    1 => run_op(&mut trio.sqlite, &inputs, op, rep),
                    _ => run_op(&mut trio.hand, &inputs, op, rep),
                };
                samples[sys].push(ns);
                tallies[sys] = tally;
            }
            assert!(
                tallies.iter().all(|t| *t == tallies[0]),
                "{op}: the systems produced different rows: {tallies:?}"
            );
        }
        let summary = samples
            .each_ref()
            .map(|s| median(s).map_or("n/a".into(), |m| format!("{m:.1}")));
        let took = started.elapsed().as_secs_f64();
        eprintln!("  {op:<17} {}  [{took:.1} s]", summary.join(" | "));
        lines.push(Line {
            op,
            size: users,
            samples,
        });
    }
}

/// `--instructions-child`: loads the query data set into `system` and runs each wanted
/// operation twice, counting the second run (printing `counted OP OPS` as `instructions.rs`
/// expects).
pub fn instructions_child(system: &str, users: usize, wants: impl Fn(&str) -> bool) {
    if !OPS.iter().any(|op| wants(op)) {
        return;
    }
    let data = QData::generate(users);
    let inputs = Inputs::new(users, 2, 2_000, 100, 1_000);
    match system {
        "relata" => counted(Loaded::<relata::Store>::new(&data), &inputs, wants),
        "sqlite" => counted(Loaded::<SqliteQ>::new(&data), &inputs, wants),
        _ => counted(Loaded::<HandQ>::new(&data), &inputs, wants),
    }
}

fn counted<S: QSys>(mut sys: Loaded<S>, inputs: &Inputs, wants: impl Fn(&str) -> bool) {
    for op in OPS.into_iter().filter(|op| wants(op)) {
        run_op(&mut sys, inputs, op, 0);
        harness::set_counting(true);
        run_op(&mut sys, inputs, op, 1);
        harness::set_counting(false);
        for ops in harness::take_counted() {
            println!("counted {op} {ops}");
        }
    }
}
