//! Instruction counts per operation under `valgrind --tool=callgrind`, which, unlike wall
//! time, do not move with the machine's load (docs/PERFORMANCE.md, "Instruction counts").
//!
//! ```text
//! cargo bench --bench compare -- --instructions                  # 10k users, about 2 minutes
//! cargo bench --bench compare -- --instructions --size 2000 --only lookup_unique,o2m_fields
//! ```
//!
//! The bench binary re-runs itself once per system under callgrind (`--instructions-child
//! SYSTEM USERS`). The child bulk-loads the data set, then runs every point, traversal and
//! write operation twice: once to warm up, once counted. Each timed batch (`time_per_op`)
//! runs inside `harness::counted`; callgrind collects only inside that function
//! (`--toggle-collect`) and writes one dump after each call of its caller `harness::dumped`
//! (`--dump-after`), so setup, input
//! mapping and the checks after a batch are not counted. The child prints the operation count
//! of each counted batch; the parent pairs those with the dumps, in order, and prints
//! instructions per operation for relata, SQLite and the baseline, with the ratios, as a table
//! and as `target/compare/instructions.csv`.

use std::path::{Path, PathBuf};
use std::process::Command;

use relata::Store;

use crate::cases::{CascadeDelete, FromUser, LookupUnique, Members, MoveChild, Reset100};
use crate::cases::{Traverse, UniqueViolation};
use crate::data::{Dataset, Picks};
use crate::hand::Hand;
use crate::harness::{self, load_once, Loaded, Op};
use crate::sqlite_sys::Sqlite;
use crate::subject::{Restore, Subject};

/// The systems, in column order.
const SYSTEMS: [&str; 3] = ["relata", "sqlite", "baseline"];
/// Operations per counted batch of point lookups and traversals. Instruction counts do not
/// depend on cache state, so a small batch is as good as a large one.
const POINT_OPS: usize = 2_000;
/// Rejected inserts per counted batch.
const VIOLATIONS: usize = 1_000;
/// Round trips per counted batch of `move_child` (two moves each).
const MOVE_PAIRS: usize = 500;
/// Groups per counted batch of `m2m_reverse`.
const GROUPS: usize = 100;
/// Users deleted per counted batch of `cascade_delete`.
const DELETES: usize = 100;

/// The value following `flag` on the command line.
fn flag<'a>(args: &'a [String], flag: &str) -> Option<&'a str> {
    let at = args.iter().position(|a| a == flag)?;
    args.get(at + 1).map(String::as_str)
}

/// Entry point for `--instructions`: one callgrind run per system, then the table.
pub fn main(args: &[String]) {
    let users = flag(args, "--size").map_or(10_000, |s| s.parse().expect("--size N"));
    let only = flag(args, "--only");
    let dir = PathBuf::from("target/compare/callgrind");
    let exe = std::env::current_exe().expect("the bench binary's path");
    let mut columns = Vec::new();
    for system in SYSTEMS {
        eprintln!("== {system}: {users} users under callgrind");
        columns.push(run_child(&exe, &dir, system, users, only));
    }
    let table = table(&columns);
    print!("{table}");
    if let Err(failure) = check_growth(&columns) {
        eprintln!("{failure}");
        std::process::exit(1);
    }
    let csv = dir.with_file_name("instructions.csv");
    match std::fs::write(&csv, table.replace(' ', "").replace('|', ",")) {
        Ok(()) => eprintln!("wrote {}", csv.display()),
        Err(e) => eprintln!("could not write {}: {e}", csv.display()),
    }
}

/// Operations whose cost per element must not grow with the input: `(small, large, limit)`,
/// where the large input is 8x the small one and `limit` bounds the ratio of their costs per
/// element. A linear walk keeps the ratio near 1; a quadratic one multiplies it by about 8.
/// `.ci/run` runs these rows, so a regression to a quadratic walk fails CI by instruction
/// count (load-independent), not by a timed test.
const LINEAR: [(&str, &str, f64); 1] = [("ancestors_1k", "ancestors_8k", 2.0)];

/// Checks [`LINEAR`] on every column that holds both rows of a pair.
fn check_growth(columns: &[Column]) -> Result<(), String> {
    let per_op = |column: &Column, op: &str| column.iter().find(|(o, _)| o == op).map(|&(_, n)| n);
    for column in columns {
        for (small, large, limit) in LINEAR {
            let (Some(a), Some(b)) = (per_op(column, small), per_op(column, large)) else {
                continue;
            };
            let ratio = b / a.max(1.0);
            eprintln!(
                "{small} -> {large}: {a:.0} -> {b:.0} instructions per element (x{ratio:.2}, limit x{limit})"
            );
            if ratio > limit {
                return Err(format!(
                    "{large} costs x{ratio:.2} per element of {small}: the walk is no longer linear"
                ));
            }
        }
    }
    Ok(())
}

/// One system's counts: `(operation, instructions per operation)` in run order.
type Column = Vec<(String, f64)>;

/// Runs the child for `system` under callgrind and reads its dumps.
fn run_child(exe: &Path, dir: &Path, system: &str, users: usize, only: Option<&str>) -> Column {
    let out_dir = dir.join(system);
    let _ = std::fs::remove_dir_all(&out_dir);
    std::fs::create_dir_all(&out_dir).expect("create target/compare/callgrind");
    let mut cmd = Command::new("valgrind");
    cmd.args([
        "--tool=callgrind",
        "--toggle-collect=*harness::counted*",
        "--dump-after=*harness::dumped*",
        "--dump-instr=no",
    ]);
    cmd.arg(format!("--callgrind-out-file={}/cg.out", out_dir.display()));
    cmd.arg(exe)
        .args(["--instructions-child", system, &users.to_string()]);
    if let Some(only) = only {
        cmd.args(["--only", only]);
    }
    let output = cmd
        .output()
        .unwrap_or_else(|e| panic!("could not run valgrind ({e}); install it (apt-get install valgrind)"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{system} under callgrind failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let batches: Vec<(String, usize)> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("counted "))
        .map(|l| {
            let (op, n) = l.split_once(' ').expect("counted OP OPS");
            (op.to_string(), n.parse().expect("an operation count"))
        })
        .collect();
    let totals = dump_totals(&out_dir);
    assert!(
        totals.len() >= batches.len(),
        "{system}: {} dumps for {} counted batches",
        totals.len(),
        batches.len()
    );
    let column: Column = batches
        .into_iter()
        .zip(totals)
        .map(|((op, n), instructions)| (op, instructions as f64 / n.max(1) as f64))
        .collect();
    for (op, per_op) in &column {
        eprintln!("  {op:<17} {per_op:>12.0}");
    }
    column
}

/// The instruction totals of the callgrind dumps in `dir`, in dump order.
fn dump_totals(dir: &Path) -> Vec<u64> {
    let mut parts: Vec<(u64, u64)> = Vec::new();
    for entry in std::fs::read_dir(dir).expect("the callgrind directory") {
        let text = std::fs::read_to_string(entry.expect("a dump").path()).expect("a dump");
        let field = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().split(' ').next()?.parse().ok())
        };
        let total = field("totals:").or_else(|| field("summary:"));
        if let (Some(part), Some(total)) = (field("part:"), total) {
            parts.push((part, total));
        }
    }
    parts.sort_unstable();
    parts.into_iter().map(|(_, total)| total).collect()
}

/// The table: one line per operation, instructions per operation and the two ratios.
fn table(columns: &[Column]) -> String {
    let mut out = format!(
        "{:<17} | {:>12} | {:>12} | {:>12} | {:>18} | {:>20}\n",
        "op", "relata", "sqlite", "baseline", "sqlite_over_relata", "relata_over_baseline"
    );
    let ops: Vec<&String> = columns
        .first()
        .map_or(Vec::new(), |c| c.iter().map(|(op, _)| op).collect());
    for op in ops {
        let get = |c: &Column| c.iter().find(|(o, _)| o == op).map(|&(_, v)| v);
        let [relata, sqlite, baseline] = [0, 1, 2].map(|i| columns.get(i).and_then(get));
        let ratio = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) if b > 0.0 => format!("{:.2}", a / b),
            _ => "n/a".into(),
        };
        let count = |v: Option<f64>| v.map_or("n/a".into(), |v| format!("{v:.0}"));
        out += &format!(
            "{:<17} | {:>12} | {:>12} | {:>12} | {:>18} | {:>20}\n",
            op,
            count(relata),
            count(sqlite),
            count(baseline),
            ratio(sqlite, relata),
            ratio(relata, baseline)
        );
    }
    out
}

/// Entry point for `--instructions-child SYSTEM USERS` (run under callgrind by `main`).
pub fn child_main(args: &[String]) {
    let system = flag(args, "--instructions-child").expect("--instructions-child SYSTEM USERS");
    let at = args
        .iter()
        .position(|a| a == "--instructions-child")
        .expect("the flag");
    let users: usize = args
        .get(at + 2)
        .and_then(|u| u.parse().ok())
        .expect("a user count");
    let only: Option<Vec<&str>> = flag(args, "--only").map(|l| l.split(',').collect());
    match system {
        "relata" => child::<Store>(users, only),
        "sqlite" => child::<Sqlite>(users, only),
        "baseline" => child::<Hand>(users, only),
        other => panic!("unknown system {other:?}"),
    }
}

/// Loads the data set (counted: `insert`, per row), then runs each operation twice, counting
/// the second run.
fn child<S: Subject>(users: usize, only: Option<Vec<&str>>) {
    let wants = |op: &str| only.as_ref().is_none_or(|o| o.contains(&op));
    let own_data = |op: &&str| crate::query::OPS.contains(op) || crate::tree::OPS.contains(op);
    if only.as_ref().is_some_and(|o| o.iter().all(own_data)) {
        // Only operations with their own data sets, not the blog's.
        crate::query::instructions_child(S::NAME, users, wants);
        crate::tree::instructions_child(S::NAME, wants);
        return;
    }
    let data = Dataset::generate(users);
    harness::set_counting(wants("insert"));
    let (_, mut sys) = load_once::<S>(&data);
    harness::set_counting(false);
    report("insert");
    drop(data);
    let p = &mut Picks::new(users as u64);
    let s = &mut sys;
    let n = POINT_OPS;
    if wants("lookup_unique") {
        twice(LookupUnique::new(p, users, n, 2), s);
    }
    for kind in [FromUser::PostKeys, FromUser::PostTitles, FromUser::Groups] {
        let op = Traverse::new(kind, p, users, n, 2);
        if wants(op.name()) {
            twice(op, s);
        }
    }
    if wants("m2m_reverse") {
        twice(Members::new(p, GROUPS, 2), s);
    }
    if wants("unique_violation") {
        twice(UniqueViolation::new(p, users, VIOLATIONS, 2), s);
    }
    if wants("move_child") {
        twice(MoveChild::new(p, users, MOVE_PAIRS, 2), s);
    }
    for how in [Restore::Rollback, Restore::Copy] {
        let op = Reset100::new(p, users, 2, how);
        if wants(op.name()) {
            twice(op, s);
        }
    }
    if wants("cascade_delete") {
        twice(CascadeDelete::new(p, users, DELETES, 2), s);
    }
    drop(sys);
    crate::query::instructions_child(S::NAME, users, wants);
    crate::tree::instructions_child(S::NAME, wants);
}

/// Runs `op`'s first batch uncounted (warm-up) and its second counted.
fn twice<O: Op, S: Subject>(mut op: O, sys: &mut Loaded<S>) {
    if op.run(sys, 0).is_none() {
        return;
    }
    harness::set_counting(true);
    op.run(sys, 1);
    harness::set_counting(false);
    report(op.name());
}

/// Prints one `counted OP OPS` line per batch counted since the last report.
fn report(op: &str) {
    for ops in harness::take_counted() {
        println!("counted {op} {ops}");
    }
}
