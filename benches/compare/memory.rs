//! `memory_per_user`: resident memory per user with its relations, one fresh child process per
//! (system, size).
//!
//! The child (this same bench binary, run with `--memory-child SYSTEM USERS`) opens an empty
//! store, reads its RSS from `/proc/self/statm`, streams the generated rows straight into the
//! store (no pre-generated copy of the data set sits in the heap, and the keys handed out are
//! not kept), reads RSS again and prints the delta divided by the number of users. RSS counts
//! pages touched, so it includes allocator overhead and touched spare capacity.

use std::hint::black_box;
use std::process::Command;

use relata::Store;

use crate::data::{bundle, group_name, GROUPS};
use crate::hand::Hand;
use crate::sqlite_sys::Sqlite;
use crate::subject::{Ids, Subject};

/// The systems, in table order, by their command-line names.
pub const SYSTEMS: [&str; 3] = [<Store as Subject>::NAME, Sqlite::NAME, Hand::NAME];

/// The page size, from the auxiliary vector (`AT_PAGESZ`).
fn page_size() -> u64 {
    const AT_PAGESZ: u64 = 6;
    let auxv = std::fs::read("/proc/self/auxv").expect("read /proc/self/auxv");
    let words: Vec<u64> = auxv
        .chunks_exact(8)
        .map(|w| u64::from_ne_bytes(w.try_into().expect("8 bytes")))
        .collect();
    let pairs = words.chunks_exact(2);
    pairs
        .filter(|kv| kv[0] == AT_PAGESZ)
        .map(|kv| kv[1])
        .next()
        .unwrap_or(4096)
}

/// Resident set size in bytes (`/proc/self/statm`, second field, in pages).
fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("read /proc/self/statm");
    let resident = statm.split_whitespace().nth(1).expect("statm resident field");
    resident.parse::<u64>().expect("statm is numeric") * page_size()
}

/// Streams `users` users into a new `S`; returns the RSS growth per user.
fn probe<S: Subject>(users: usize) -> f64 {
    let mut store = S::open();
    let before = rss_bytes();
    let mut names: Vec<String> = (0..GROUPS).map(group_name).collect();
    let mut ids = Ids::<S>::default();
    store.begin();
    let groups = store.insert_groups(&mut names);
    drop(names);
    for i in 0..users {
        store.insert_bundle(&mut bundle(i), &groups, &mut ids);
        ids.users.clear();
        ids.posts.clear();
    }
    store.commit();
    let after = rss_bytes();
    assert_eq!(store.counts()[0], users, "{}: memory probe loaded", S::NAME);
    black_box(&store);
    after.saturating_sub(before) as f64 / users as f64
}

/// The child's entry point: prints `bytes_per_user <value>`.
pub fn child_main(system: &str, users: usize) {
    let per_user = match system {
        "relata" => probe::<Store>(users),
        "sqlite" => probe::<Sqlite>(users),
        "baseline" => probe::<Hand>(users),
        other => panic!("unknown system {other:?}; expected one of {SYSTEMS:?}"),
    };
    println!("bytes_per_user {per_user}");
}

/// Runs one child per system for `users` users; bytes per user in table order.
pub fn measure(users: usize) -> [Option<f64>; 3] {
    let exe = std::env::current_exe().expect("path of this bench binary");
    SYSTEMS.map(|system| {
        let out = Command::new(&exe)
            .args(["--memory-child", system, &users.to_string()])
            .output()
            .expect("spawn the memory child");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "memory child {system} failed: {text}");
        let value = text.lines().find_map(|l| l.strip_prefix("bytes_per_user "));
        value.and_then(|v| v.trim().parse().ok())
    })
}
