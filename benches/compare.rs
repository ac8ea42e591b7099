//! relata against SQLite `:memory:` and a hand-written slotmap + hashbrown store, on the same
//! generated blog data, in one process run (see docs/PERFORMANCE.md).
//!
//! ```text
//! cargo bench --bench compare -- --quick     # 10k and 100k users, a few minutes at most
//! cargo bench --bench compare                # adds 1M users
//! cargo bench --bench compare -- --sizes 20000,50000
//! cargo bench --bench compare -- --sizes 100000 --only snapshot_load,fork --bulk-reps 15
//! target/release/deps/compare-<hash> --profile o2m_fields --system relata   # see profile.rs
//! cargo bench --bench compare -- --instructions   # callgrind counts per op, see instructions.rs
//! cargo bench --bench compare -- --quick --only newest_posts,range_scan,feed_page,keyset_page,upsert  # query.rs
//! cargo bench --bench compare -- --instructions --only ancestors_1k,ancestors_8k  # tree.rs
//! ```
//!
//! Prints `op size relata_ns sqlite_ns baseline_ns sqlite_over_relata relata_over_baseline`,
//! one line per operation and size (medians of several repetitions, ns per operation;
//! `memory_per_user` in bytes), and writes the same as `target/compare/summary.csv`.

/// The parts live in `benches/compare/`; re-exported below so they name each other as
/// `crate::data`, `crate::hand`, ...
#[path = "compare"]
mod parts {
    pub mod cases;
    pub mod data;
    pub mod hand;
    pub mod hand_sys;
    pub mod harness;
    pub mod instructions;
    pub mod memory;
    pub mod profile;
    pub mod query;
    pub mod relata_sys;
    pub mod report;
    pub mod schema;
    pub mod sqlite_sys;
    pub mod subject;
    pub mod tree;
}

use parts::{
    cases, data, hand, harness, instructions, memory, profile, query, report, schema, sqlite_sys, subject,
    tree,
};

use cases::{CascadeDelete, Fork, FromUser, LookupUnique, Members, MoveChild, Reset100, SnapshotLoad};
use cases::{SnapshotSave, Traverse, UniqueViolation};
use data::{Dataset, Picks};
use harness::{Op, Samples, Trio};
use report::Line;
use subject::Restore;

/// Point lookups and traversals per repetition.
const POINT_OPS: usize = 20_000;
/// Rejected inserts per repetition.
const VIOLATIONS: usize = 10_000;
/// Round trips per repetition for `move_child` (two moves each).
const MOVE_PAIRS: usize = 5_000;

/// How many repetitions and operations one size gets.
struct Plan {
    users: usize,
    /// Repetitions of cheap batched operations.
    reps: usize,
    /// Repetitions of whole-store operations (bulk load, snapshot, fork, reset).
    bulk_reps: usize,
    /// `--only a,b`: run just these operations (the bulk load always runs: it builds the
    /// stores). For iterating on one operation; the numbers of record come from full runs.
    only: Option<Vec<String>>,
}

impl Plan {
    /// `bulk_reps` overrides the repetitions of whole-store operations (`--bulk-reps N`): on
    /// a noisy machine their medians need more than the default.
    fn new(users: usize, only: Option<Vec<String>>, bulk_reps: Option<usize>) -> Plan {
        let bulk_reps = bulk_reps.unwrap_or(if users > 100_000 { 3 } else { 5 });
        Plan {
            users,
            reps: 7,
            bulk_reps,
            only,
        }
    }

    fn wants(&self, op: &str) -> bool {
        self.only.as_ref().is_none_or(|ops| ops.iter().any(|o| o == op))
    }

    /// Groups visited per repetition of `m2m_reverse` (fan-out grows with N).
    fn reverse_ops(&self) -> usize {
        (100_000_000 / self.users).clamp(20, 10_000)
    }

    /// Users deleted per repetition of `cascade_delete`.
    fn deletes(&self) -> usize {
        (self.users / 200).max(10)
    }
}

/// Progress on stderr: each system's median and range.
fn progress(op: &str, samples: &Samples, took: f64) {
    let summary = samples.each_ref().map(|s| match harness::median(s) {
        None => "n/a".to_string(),
        Some(m) => {
            let (lo, hi) = (
                s.iter().copied().fold(f64::MAX, f64::min),
                s.iter().copied().fold(0.0, f64::max),
            );
            format!("{m:.1} ({lo:.1}-{hi:.1})")
        }
    });
    eprintln!("  {op:<17} {}  [{took:.1} s]", summary.join(" | "));
}

/// Runs one operation, reports progress on stderr, and records its line.
fn run<O: Op>(trio: &mut Trio, mut op: O, reps: usize, users: usize, lines: &mut Vec<Line>) {
    let started = std::time::Instant::now();
    let samples = harness::measure(trio, &mut op, reps);
    progress(op.name(), &samples, started.elapsed().as_secs_f64());
    for note in op.notes() {
        eprintln!("    {note}");
    }
    lines.push(Line {
        op: op.name(),
        size: users,
        samples,
    });
}

/// Every operation at one size, in an order that keeps the data set intact until the end.
fn run_size(plan: &Plan, lines: &mut Vec<Line>) {
    let n = plan.users;
    eprintln!("== {n} users: generating");
    let data = Dataset::generate(n);
    eprintln!("== {n} users: insert ({} rows)", data.rows());
    let started = std::time::Instant::now();
    let (samples, mut trio) = harness::insert(&data, plan.bulk_reps);
    drop(data);
    progress("insert", &samples, started.elapsed().as_secs_f64());
    lines.push(Line {
        op: "insert",
        size: n,
        samples,
    });
    let p = &mut Picks::new(n as u64);
    let (t, reps, bulk) = (&mut trio, plan.reps, plan.bulk_reps);
    macro_rules! measure {
        ($op:expr, $reps:expr) => {{
            let op = $op;
            if plan.wants(op.name()) {
                run(t, op, $reps, n, lines);
            }
        }};
    }
    measure!(LookupUnique::new(p, n, POINT_OPS, reps), reps);
    for kind in [FromUser::PostKeys, FromUser::PostTitles, FromUser::Groups] {
        measure!(Traverse::new(kind, p, n, POINT_OPS, reps), reps);
    }
    measure!(Members::new(p, plan.reverse_ops(), reps), reps);
    measure!(UniqueViolation::new(p, n, VIOLATIONS, reps), reps);
    measure!(MoveChild::new(p, n, MOVE_PAIRS, reps), reps);
    measure!(SnapshotSave::default(), bulk);
    measure!(SnapshotLoad, bulk);
    measure!(Fork, bulk);
    for how in [Restore::Rollback, Restore::Copy] {
        measure!(Reset100::new(p, n, bulk, how), bulk);
    }
    measure!(CascadeDelete::new(p, n, plan.deletes(), reps), reps);
    drop(trio);
    query::run_size(n, reps, |op| plan.wants(op), lines);
    if !plan.wants("memory_per_user") {
        return;
    }
    eprintln!("== {n} users: memory (one child process per system)");
    let samples = memory::measure(n).map(|v| v.into_iter().collect());
    progress("memory_per_user", &samples, 0.0);
    lines.push(Line {
        op: "memory_per_user",
        size: n,
        samples,
    });
}

/// The sizes to run: `--sizes a,b,c`, else 10k and 100k (`--quick`), else also 1M.
fn sizes(args: &[String]) -> Vec<usize> {
    if let Some(at) = args.iter().position(|a| a == "--sizes") {
        let list = args.get(at + 1).expect("--sizes needs a comma-separated list");
        return list
            .split(',')
            .map(|s| s.parse().expect("a size is a number"))
            .collect();
    }
    match args.iter().any(|a| a == "--quick") {
        true => vec![10_000, 100_000],
        false => vec![10_000, 100_000, 1_000_000],
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(at) = args.iter().position(|a| a == "--memory-child") {
        let system = args.get(at + 1).expect("--memory-child SYSTEM USERS");
        let users = args
            .get(at + 2)
            .and_then(|u| u.parse().ok())
            .expect("a user count");
        memory::child_main(system, users);
        return;
    }
    if args.iter().any(|a| a == "--instructions-child") {
        instructions::child_main(&args);
        return;
    }
    if args.iter().any(|a| a == "--instructions") {
        instructions::main(&args);
        return;
    }
    if args.iter().any(|a| a == "--profile") {
        profile::main(&args);
        return;
    }
    let mut lines = Vec::new();
    let only = args
        .iter()
        .position(|a| a == "--only")
        .map(|at| args.get(at + 1).expect("--only needs a comma-separated list"))
        .map(|list| list.split(',').map(str::to_owned).collect());
    let bulk_reps = args.iter().position(|a| a == "--bulk-reps").map(|at| {
        args.get(at + 1)
            .and_then(|n| n.parse().ok())
            .expect("--bulk-reps needs a count")
    });
    for users in sizes(&args) {
        run_size(&Plan::new(users, only.clone(), bulk_reps), &mut lines);
    }
    report::print_table(&lines);
    match report::write_csv(&lines) {
        Ok(path) => eprintln!("wrote {}", path.display()),
        Err(e) => eprintln!("could not write {}: {e}", report::csv_path().display()),
    }
}
