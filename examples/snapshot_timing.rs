//! Times whole-store operations on the benchmark's blog schema in a loop, for profiling
//! (`perf record`) without the comparison harness around them:
//!
//! ```text
//! cargo run --release --example snapshot_timing -- 100000 load   # or saveload, fork, save
//! ```
//!
//! Builds N users (each with a profile, 10 posts and 5 memberships), then repeats the
//! operation six times; every repetition here gets fresh memory, as a test process's first
//! load would (the bench's loop, which saves before each load, gets much of the previous
//! repetition's memory back from the allocator, and loads faster). Each load prints its CPU
//! time on all threads and how much the resident memory grew. The numbers of record come
//! from `cargo bench --bench compare` (docs/PERFORMANCE.md).

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
            let (cpu, resident) = (cpu_ms(), resident_mb());
            let t = Instant::now();
            let l = Store::from_snapshot(s.schema().clone(), &bytes).unwrap();
            let e = t.elapsed();
            let cpu = cpu_ms().zip(cpu).map(|(b, a)| b - a);
            let grown = resident_mb().zip(resident).map(|(b, a)| b - a);
            println!("load {e:?} after a save (cpu {cpu:?} ms on all threads, resident +{grown:?} MB)");
            drop(l);
        } else if what == "load" {
            let (cpu, resident) = (cpu_ms(), resident_mb());
            let l = Store::from_snapshot(s.schema().clone(), &bytes).unwrap();
            let e = t.elapsed();
            let cpu = cpu_ms().zip(cpu).map(|(b, a)| b - a);
            let grown = resident_mb().zip(resident).map(|(b, a)| b - a);
            println!("load {e:?} (cpu {cpu:?} ms on all threads, resident +{grown:?} MB)");
            drop(l);
        } else if what == "fork" {
            let l = s.fork();
            let e = t.elapsed();
            println!("fork {e:?}");
            drop(l);
        } else {
            let cpu = cpu_ms();
            let b = s.to_snapshot().unwrap();
            let e = t.elapsed();
            let cpu = cpu_ms().zip(cpu).map(|(b, a)| b - a);
            println!("save {e:?} (cpu {cpu:?} ms on all threads)");
            drop(b);
        }
    }
}

/// CPU time of this process so far, all threads, user and system, in ms (Linux only; the
/// kernel counts it in ticks of 10 ms, so a difference is accurate to about 10 ms).
fn cpu_ms() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which ends with the last ')'): utime and stime are
    // fields 14 and 15.
    let mut after = stat.rsplit_once(')')?.1.split_whitespace().skip(11);
    let user: u64 = after.next()?.parse().ok()?;
    let system: u64 = after.next()?.parse().ok()?;
    Some((user + system) * 10)
}

/// Resident memory of this process in MB (Linux only): its growth over a load is the fresh
/// memory the load touched and kept.
fn resident_mb() -> Option<i64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: i64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096 / 1_000_000)
}
