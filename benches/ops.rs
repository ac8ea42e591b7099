//! Criterion benches of single relata operations on a 10k-user blog store (the data set and
//! schema of `benches/compare.rs`). For relata-only profiling and regression tracking:
//!
//! ```text
//! cargo bench --bench ops                          # all
//! cargo bench --bench ops -- lookup_unique         # one
//! cargo bench --bench ops -- --profile-time 10 move_child   # run under a profiler
//! ```

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use relata::{Key, Store};

// Shared with the comparison bench; not every item is used here.
#[allow(dead_code)]
#[path = "compare/data.rs"]
mod data;
#[allow(dead_code)]
#[path = "compare/relata_sys.rs"]
mod relata_sys;
#[allow(dead_code)]
#[path = "compare/schema.rs"]
mod schema;
#[allow(dead_code)]
#[path = "compare/subject.rs"]
mod subject;

use data::{bundle, user_row, Dataset, Picks, POSTS_PER_USER};
use schema::{Post, User, UserGroup};
use subject::{load, Ids, Subject};

const USERS: usize = 10_000;

/// A loaded store with its keys.
fn loaded() -> (Store, Ids<Store>) {
    let mut data = Dataset::generate(USERS);
    let mut store = schema::store();
    let ids = load(&mut store, &mut data.groups, &mut data.bundles);
    (store, ids)
}

/// Reads: unique lookup, one-to-many and many-to-many traversals.
fn reads(c: &mut Criterion) {
    let (store, ids) = loaded();
    let picks = Picks::new(1).indexes(4096, USERS);
    let names: Vec<String> = picks.iter().map(|&i| user_row(i).username).collect();
    let users: Vec<Key<User>> = picks.iter().map(|&i| ids.users[i]).collect();
    let mut k = 0;
    let mut next = move || {
        k = (k + 1) % picks.len();
        k
    };
    c.bench_function("lookup_unique", |b| {
        b.iter(|| store.find_unique(User::BY_USERNAME, names[next()].as_str()))
    });
    c.bench_function("o2m_fields", |b| {
        b.iter(|| {
            let posts = store.children(Post::AUTHOR, users[next()]);
            posts
                .filter_map(|p| store.get(p))
                .map(|p| black_box(p.title).len())
                .sum::<usize>()
        })
    });
    c.bench_function("m2m_forward", |b| {
        b.iter(|| {
            let memberships = store.children(UserGroup::USER, users[next()]);
            memberships
                .filter_map(|m| store.get(m))
                .inspect(|m| {
                    black_box(m.group);
                })
                .count()
        })
    });
}

/// A cycling index into `0..len`.
fn cycle(len: usize) -> impl FnMut() -> usize {
    let mut k = 0;
    move || {
        k = (k + 1) % len;
        k
    }
}

/// Writes that keep the store's size: a rejected insert, a move there and back, a fork.
fn writes(c: &mut Criterion) {
    let (mut store, ids) = loaded();
    let picks = Picks::new(2).indexes(4096, USERS);
    let mut next = cycle(picks.len());
    c.bench_function("unique_violation", |b| {
        let row = |i: usize| User {
            username: user_row(i).username,
            email: format!("fresh{i}@example.com"),
        };
        let setup = || row(picks[next()]);
        b.iter_batched(setup, |u| store.insert(u).unwrap_err(), BatchSize::SmallInput)
    });
    let mut next = cycle(picks.len());
    c.bench_function("move_child_there_and_back", |b| {
        b.iter(|| {
            let i = picks[next()];
            let (post, home) = (ids.posts[i * POSTS_PER_USER], ids.users[i]);
            let other = ids.users[(i + 1) % USERS];
            store.update(post, |p| p.author = other).expect("move");
            store.update(post, |p| p.author = home).expect("move back");
        })
    });
    c.bench_function("fork_10k_users", |b| b.iter_with_large_drop(|| store.clone()));
}

/// Inserts and cascade deletes: each delete of a random user is followed (untimed) by
/// inserting the same user's 17 rows again, so the store keeps its size.
fn churn(c: &mut Criterion) {
    let (mut store, mut ids) = loaded();
    let picks = Picks::new(3).indexes(4096, USERS);
    let mut next = cycle(picks.len());
    let groups = ids.groups.clone();
    let mut scratch = Ids::default();
    c.bench_function("cascade_delete_17_rows", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let i = picks[next()];
                let start = Instant::now();
                black_box(store.delete(ids.users[i]).expect("delete"));
                total += start.elapsed();
                store.insert_bundle(&mut bundle(i), &groups, &mut scratch);
                ids.users[i] = scratch.users.pop().expect("re-inserted user");
                scratch.posts.clear();
            }
            total
        })
    });
    let mut fresh = 2 * USERS;
    c.bench_function("insert_17_rows", |b| {
        let setup = || {
            fresh += 1;
            bundle(fresh)
        };
        let routine = |mut rows| {
            store.insert_bundle(&mut rows, &groups, &mut scratch);
            scratch.users.clear();
            scratch.posts.clear();
        };
        b.iter_batched(setup, routine, BatchSize::SmallInput)
    });
}

/// A chain of nodes, each the parent of the next (cycles allowed: no `acyclic`).
#[derive(relata::Entity, Clone, Debug, PartialEq)]
#[relata(table = "nodes")]
struct Node {
    #[relata(back = "children", on_delete = "cascade")]
    parent: Option<Key<Node>>,
}

/// Tree walks on a 100,000-node chain: `ancestors` of the deepest node (quadratic before
/// issue 17 item 10: 2 s; linear now) and `descendants` of the root.
fn trees(c: &mut Criterion) {
    let mut store = Store::new(relata::Schema::builder().entity::<Node>().build().unwrap());
    let root = store.insert(Node { parent: None }).unwrap();
    let mut deepest = root;
    for _ in 1..100_000 {
        deepest = store
            .insert(Node {
                parent: Some(deepest),
            })
            .unwrap();
    }
    c.bench_function("ancestors_100k_chain", |b| {
        b.iter(|| black_box(store.ancestors(Node::PARENT, deepest).count()))
    });
    c.bench_function("descendants_100k_chain", |b| {
        b.iter(|| black_box(store.descendants(Node::PARENT, root).count()))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = reads, writes, churn, trees
}
criterion_main!(benches);
