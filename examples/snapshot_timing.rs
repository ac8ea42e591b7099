//! Times whole-store operations on the benchmark's blog schema in a loop, for profiling
//! (`perf record`) without the comparison harness around them:
//!
//! ```text
//! cargo run --release --example snapshot_timing -- 100000 load   # or fork, or save
//! ```
//!
//! Builds N users (each with a profile, 10 posts and 5 memberships), then repeats the
//! operation six times; every repetition gets fresh memory, as a test process would.
//! The numbers of record come from `cargo bench --bench compare` (docs/PERFORMANCE.md).

#[path = "../benches/compare/schema.rs"]
mod schema;
use relata::Store;
use schema::*;
use std::time::Instant;
fn main() {
    let n: usize = std::env::args().nth(1).map_or(100_000, |s| s.parse().unwrap());
    let what = std::env::args().nth(2).unwrap_or("load".into());
    let mut s = schema::store();
    let groups: Vec<_> = (0..1000)
        .map(|g| {
            s.insert(Group {
                name: format!("group{g}"),
            })
            .unwrap()
        })
        .collect();
    let mut x: u64 = 1;
    for i in 0..n {
        let user = s
            .insert(User {
                username: format!("user{i}"),
                email: format!("user{i}@example.com"),
            })
            .unwrap();
        s.insert(Profile {
            bio: format!("I am user{i}; and I write things about stuff"),
            user,
        })
        .unwrap();
        for j in 0..10 {
            s.insert(Post { title: format!("Post {j} by user{i}"), content: format!("Post {j} by user{i} says: lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod"), author: user }).unwrap();
        }
        let mut seen = vec![];
        while seen.len() < 5 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let g = (x % 1000) as usize;
            if seen.contains(&g) {
                continue;
            }
            seen.push(g);
            s.insert(UserGroup {
                user,
                group: groups[g],
                joined_on: 20200101 + (x % 5000) as i64,
            })
            .unwrap();
        }
    }
    let bytes = s.to_snapshot().unwrap();
    eprintln!("snapshot {} bytes", bytes.len());
    for _ in 0..6 {
        let t = Instant::now();
        if what == "saveload" {
            let bytes = s.to_snapshot().unwrap();
            let t = Instant::now();
            let l = Store::from_snapshot(s.schema().clone(), &bytes).unwrap();
            println!("load after save {:?}", t.elapsed());
            drop(l);
        } else if what == "load" {
            let faults = minor_faults();
            let l = Store::from_snapshot(s.schema().clone(), &bytes).unwrap();
            let e = t.elapsed();
            let faulted = minor_faults()
                .zip(faults)
                .map(|(b, a)| (b - a) * 4096 / 1_000_000);
            println!("load {e:?} (about {faulted:?} MB of fresh pages)");
            drop(l);
        } else if what == "fork" {
            let l = s.fork();
            let e = t.elapsed();
            println!("fork {e:?}");
            drop(l);
        } else {
            let b = s.to_snapshot().unwrap();
            println!("save {:?}", t.elapsed());
            drop(b);
        }
    }
}

/// Minor page faults of this process so far (Linux only): each is a 4 KiB page touched for
/// the first time, so a difference estimates how much fresh memory an operation wrote.
fn minor_faults() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which ends with the last ')'); minflt is field 10.
    let after = stat.rsplit_once(')')?.1;
    after.split_whitespace().nth(7)?.parse().ok()
}
