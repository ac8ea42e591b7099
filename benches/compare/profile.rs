//! Profiling mode: one system, one operation, repeated for a while, so a sampling profiler
//! sees that operation's loop and little else (the load before it is one-off).
//!
//! ```text
//! cargo bench --bench compare --no-run
//! perf record -g -- target/release/deps/compare-<hash> --profile o2m_fields --system relata
//! ```
//!
//! Options: `--system relata|sqlite|baseline` (default relata), `--size N` (default 100000),
//! `--seconds S` (default 10). Prints the loop's mean ns per operation.

use std::time::{Duration, Instant};

use relata::Store;

use crate::cases::{CascadeDelete, Fork, FromUser, LookupUnique, Members, MoveChild, Reset100};
use crate::cases::{SnapshotLoad, SnapshotSave, Traverse, UniqueViolation};
use crate::data::{Dataset, Picks};
use crate::hand::Hand;
use crate::harness::{load_once, Loaded, Op};
use crate::sqlite_sys::Sqlite;
use crate::subject::{Restore, Subject};

/// Batches prepared per operation; the loop cycles through them.
const BATCHES: usize = 20;

/// The value following `flag` on the command line.
fn flag<'a>(args: &'a [String], flag: &str) -> Option<&'a str> {
    let at = args.iter().position(|a| a == flag)?;
    args.get(at + 1).map(String::as_str)
}

/// Entry point for `--profile OP`.
pub fn main(args: &[String]) {
    let op = flag(args, "--profile").expect("--profile OPERATION");
    let users = flag(args, "--size").map_or(100_000, |s| s.parse().expect("a size"));
    let secs: f64 = flag(args, "--seconds").map_or(10.0, |s| s.parse().expect("seconds"));
    let run = Duration::from_secs_f64(secs);
    match flag(args, "--system").unwrap_or("relata") {
        "relata" => profile::<Store>(op, users, run),
        "sqlite" => profile::<Sqlite>(op, users, run),
        "baseline" => profile::<Hand>(op, users, run),
        other => panic!("unknown system {other:?}"),
    }
}

fn profile<S: Subject>(op: &str, users: usize, run: Duration) {
    let data = Dataset::generate(users);
    if op == "insert" {
        let deadline = Instant::now() + run;
        while Instant::now() < deadline {
            let (ns, _) = load_once::<S>(&data);
            println!("{} insert: {ns:.1} ns per row", S::NAME);
        }
        return;
    }
    let (_, mut sys) = load_once::<S>(&data);
    drop(data);
    eprintln!("{} loaded with {users} users; running {op} for {run:?}", S::NAME);
    let p = &mut Picks::new(users as u64);
    let n = crate::POINT_OPS;
    match op {
        "lookup_unique" => repeat(LookupUnique::new(p, users, n, BATCHES), &mut sys, run),
        "o2m_keys" => repeat(
            Traverse::new(FromUser::PostKeys, p, users, n, BATCHES),
            &mut sys,
            run,
        ),
        "o2m_fields" => repeat(
            Traverse::new(FromUser::PostTitles, p, users, n, BATCHES),
            &mut sys,
            run,
        ),
        "m2m_forward" => repeat(
            Traverse::new(FromUser::Groups, p, users, n, BATCHES),
            &mut sys,
            run,
        ),
        "m2m_reverse" => repeat(Members::new(p, 100, BATCHES), &mut sys, run),
        "unique_violation" => repeat(UniqueViolation::new(p, users, n, BATCHES), &mut sys, run),
        "move_child" => repeat(MoveChild::new(p, users, n / 2, BATCHES), &mut sys, run),
        "snapshot_save" => repeat(SnapshotSave::default(), &mut sys, run),
        "snapshot_load" => repeat(SnapshotLoad, &mut sys, run),
        "fork" => repeat(Fork, &mut sys, run),
        "reset_100" => repeat(Reset100::new(p, users, BATCHES, Restore::Rollback), &mut sys, run),
        "reset_100_backup" => repeat(Reset100::new(p, users, BATCHES, Restore::Copy), &mut sys, run),
        "cascade_delete" => repeat(CascadeDelete::new(p, users, users / 25, BATCHES), &mut sys, run),
        other => panic!("unknown operation {other:?}"),
    }
}

/// Runs `op`'s batches in turn until `run` has passed (for `cascade_delete`, which uses up
/// its inputs, at most one round); prints the mean.
fn repeat<O: Op, S: Subject>(mut op: O, sys: &mut Loaded<S>, run: Duration) {
    let deadline = Instant::now() + run;
    let (mut total, mut batches) = (0.0, 0);
    while Instant::now() < deadline && (op.name() != "cascade_delete" || batches < BATCHES) {
        let Some((ns, _)) = op.run(sys, batches % BATCHES) else {
            panic!("{} has no {}", S::NAME, op.name());
        };
        total += ns;
        batches += 1;
    }
    let mean = total / batches.max(1) as f64;
    println!(
        "{} {}: {mean:.1} ns per operation over {batches} batches",
        S::NAME,
        op.name()
    );
}
