//! The generated blog data set, identical for every system.
//!
//! 1,000 groups; per user one profile, 10 posts and 5 memberships in distinct random groups:
//! 17 rows per user. Strings: `username = "user{i}"`, `email = "user{i}@example.com"`, a bio
//! of 45 bytes, `title = "Post {j} by user{i}"` and a content of 90 bytes.
//!
//! Everything is a pure function of the user index (each user has its own seeded RNG), so the
//! memory probe can stream users one by one and get exactly the rows the timing run loads.

use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};

/// Number of groups.
pub const GROUPS: usize = 1_000;
/// Posts per user.
pub const POSTS_PER_USER: usize = 10;
/// Memberships per user, in distinct groups.
pub const GROUPS_PER_USER: usize = 5;
/// Rows per user: the user, its profile, its posts and its memberships.
pub const ROWS_PER_USER: usize = 2 + POSTS_PER_USER + GROUPS_PER_USER;

const SEED: u64 = 0x7265_6c61_7461_0007;
const BIO_LEN: usize = 45;
const CONTENT_LEN: usize = 90;
const FILLER: &str = "lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor \
                      incididunt ut labore et dolore magna aliqua; ut enim ad minim veniam, quis nostrud";

/// A user's own columns.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct UserRow {
    /// `user{i}`, unique.
    pub username: String,
    /// `user{i}@example.com`, unique.
    pub email: String,
}

/// A post's own columns (its author is the bundle's user).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PostRow {
    /// `Post {j} by user{i}`.
    pub title: String,
    /// 90 bytes of text.
    pub content: String,
}

/// One user with everything that hangs off it, in insertion order.
#[derive(Clone, Debug, PartialEq)]
pub struct Bundle {
    /// The user.
    pub user: UserRow,
    /// The profile's bio (the profile references the user).
    pub bio: String,
    /// The user's posts.
    pub posts: Vec<PostRow>,
    /// Group indexes of the memberships, distinct.
    pub groups: [u32; GROUPS_PER_USER],
    /// `joined_on` of each membership.
    pub joined_on: [i64; GROUPS_PER_USER],
}

/// A whole generated data set: the groups, then one bundle per user.
#[derive(Clone, Debug)]
pub struct Dataset {
    /// Group names, `group{g}`.
    pub groups: Vec<String>,
    /// One bundle per user, user `i` at index `i`.
    pub bundles: Vec<Bundle>,
}

impl Dataset {
    /// The data set of `users` users.
    pub fn generate(users: usize) -> Dataset {
        Dataset {
            groups: (0..GROUPS).map(group_name).collect(),
            bundles: (0..users).map(bundle).collect(),
        }
    }

    /// Total rows a bulk load inserts.
    pub fn rows(&self) -> usize {
        self.groups.len() + self.bundles.len() * ROWS_PER_USER
    }
}

/// The name of group `g`.
pub fn group_name(g: usize) -> String {
    format!("group{g}")
}

/// User `i`'s own row.
pub fn user_row(i: usize) -> UserRow {
    UserRow {
        username: format!("user{i}"),
        email: format!("user{i}@example.com"),
    }
}

/// `prefix` followed by filler text, exactly `len` bytes (ASCII).
fn padded(mut prefix: String, len: usize) -> String {
    let need = len.saturating_sub(prefix.len());
    prefix.push_str(&FILLER[..need.min(FILLER.len())]);
    prefix.truncate(len);
    prefix
}

/// User `i` with its profile, posts and memberships.
pub fn bundle(i: usize) -> Bundle {
    let mut rng = SmallRng::seed_from_u64(SEED ^ (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    let posts = (0..POSTS_PER_USER)
        .map(|j| PostRow {
            title: format!("Post {j} by user{i}"),
            content: padded(format!("Post {j} by user{i} says: "), CONTENT_LEN),
        })
        .collect();
    let mut groups = [0u32; GROUPS_PER_USER];
    for n in 0..GROUPS_PER_USER {
        groups[n] = loop {
            let g = rng.random_range(0..GROUPS as u32);
            if !groups[..n].contains(&g) {
                break g;
            }
        };
    }
    Bundle {
        user: user_row(i),
        bio: padded(format!("I am user{i}; "), BIO_LEN),
        posts,
        groups,
        joined_on: std::array::from_fn(|_| 20_200_101 + rng.random_range(0..50_000)),
    }
}

/// Seeded random picks for the operations' inputs, drawn before any timer starts.
pub struct Picks(SmallRng);

impl Picks {
    /// A stream of picks for one (operation, size).
    pub fn new(stream: u64) -> Picks {
        Picks(SmallRng::seed_from_u64(SEED.wrapping_add(stream)))
    }

    /// `count` indexes in `0..below`, with replacement.
    pub fn indexes(&mut self, count: usize, below: usize) -> Vec<usize> {
        (0..count).map(|_| self.0.random_range(0..below)).collect()
    }

    /// `0..n` in random order.
    pub fn permutation(&mut self, n: usize) -> Vec<usize> {
        let mut v: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            v.swap(i, self.0.random_range(0..=i));
        }
        v
    }
}
