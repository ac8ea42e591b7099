//! Timing: repetitions interleaved across the three systems, medians, cross-checks.
//!
//! Each repetition runs one batch on every system in turn (the starting system rotates, so no
//! system always runs right after another's heavy work). A batch's inputs are mapped to the
//! system's keys before the timer starts; the timer covers the batch call only
//! (`std::time::Instant`); results pass through `std::hint::black_box` inside the batch. The
//! counts the batches return must agree across systems in every repetition.

use std::cell::{Cell, RefCell};
use std::time::Instant;

use relata::Store;

use crate::data::Dataset;
use crate::hand::Hand;
use crate::sqlite_sys::Sqlite;
use crate::subject::{load, Ids, Subject};

/// A loaded store and the keys it handed out.
pub struct Loaded<S: Subject> {
    /// The store.
    pub store: S,
    /// Its keys, by data-set index.
    pub ids: Ids<S>,
}

/// The three systems, loaded with the same data.
pub struct Trio {
    pub relata: Loaded<Store>,
    pub sqlite: Loaded<Sqlite>,
    pub hand: Loaded<Hand>,
}

/// Samples per system (one per repetition), in the order relata, SQLite, baseline; empty for a
/// system that lacks the operation.
pub type Samples = [Vec<f64>; 3];

/// One measured operation.
pub trait Op {
    /// The name printed in the `op` column.
    fn name(&self) -> &'static str;
    /// One repetition on one system: `(ns per operation, count for the cross-check)`, or
    /// `None` when the system lacks the operation.
    fn run<S: Subject>(&mut self, sys: &mut Loaded<S>, rep: usize) -> Option<(f64, usize)>;
    /// Lines worth printing under the table (sizes, fan-outs).
    fn notes(&self) -> &[String] {
        &[]
    }
}

thread_local! {
    /// Set by an `--instructions` child (`instructions.rs`): timed batches then run inside
    /// [`counted`], the function callgrind collects in, and their operation counts are logged.
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    /// The operation count of every batch run inside [`counted`], in order.
    static COUNTED: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
}

/// Whether the timed batches from now on run inside [`counted`].
pub fn set_counting(on: bool) {
    COUNTING.with(|c| c.set(on));
}

/// The operation counts of the batches run inside [`counted`] since the last call.
pub fn take_counted() -> Vec<usize> {
    COUNTED.with(|c| std::mem::take(&mut *c.borrow_mut()))
}

/// Nanoseconds `f` takes, divided by `ops`, with `f`'s result.
pub fn time_per_op<R>(ops: usize, f: impl FnOnce() -> R) -> (f64, R) {
    let counting = COUNTING.with(Cell::get);
    if counting {
        COUNTED.with(|c| c.borrow_mut().push(ops));
    }
    let start = Instant::now();
    let out = if counting { dumped(f) } else { f() };
    let ns = start.elapsed().as_nanos() as f64;
    (ns / ops.max(1) as f64, out)
}

/// Runs `f` through [`counted`]. Never inlined: callgrind writes one dump after each call
/// (`--dump-after`; callgrind 3.19 ignores it on the function it toggles collection in).
#[inline(never)]
pub fn dumped<R>(f: impl FnOnce() -> R) -> R {
    std::hint::black_box(counted(f))
}

/// Runs `f`. Never inlined: callgrind collects instructions only inside this function
/// (`--toggle-collect`).
#[inline(never)]
pub fn counted<R>(f: impl FnOnce() -> R) -> R {
    std::hint::black_box(f())
}

/// The median of the samples (`None` if there are none).
pub fn median(samples: &[f64]) -> Option<f64> {
    let mut samples = samples.to_vec();
    samples.sort_by(f64::total_cmp);
    let n = samples.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(samples[n / 2]),
        _ => Some((samples[n / 2 - 1] + samples[n / 2]) / 2.0),
    }
}

/// Runs `op` for `reps` repetitions on every system and returns the samples.
pub fn measure<O: Op>(trio: &mut Trio, op: &mut O, reps: usize) -> Samples {
    let mut samples = Samples::default();
    for rep in 0..reps {
        let mut counts = [None; 3];
        for turn in 0..3 {
            let sys = (rep + turn) % 3;
            let result = match sys {
                0 => op.run(&mut trio.relata, rep),
                1 => op.run(&mut trio.sqlite, rep),
                _ => op.run(&mut trio.hand, rep),
            };
            if let Some((ns, count)) = result {
                samples[sys].push(ns);
                counts[sys] = Some(count);
            }
        }
        let mut seen = counts.iter().flatten();
        if let Some(first) = seen.next() {
            assert!(
                seen.all(|c| c == first),
                "{}: counts differ: {counts:?}",
                op.name()
            );
        }
    }
    samples
}

/// Bulk-loads a copy of `data` into a new `S`: the load in ns per row, and the store.
pub fn load_once<S: Subject>(data: &Dataset) -> (f64, Loaded<S>) {
    let mut copy = data.clone();
    let mut store = S::open();
    let (ns, ids) = time_per_op(data.rows(), || {
        load(&mut store, &mut copy.groups, &mut copy.bundles)
    });
    drop(copy);
    let mut loaded = Loaded { store, ids };
    assert_eq!(loaded.store.counts(), expected_counts(data), "{} load", S::NAME);
    (ns, loaded)
}

/// The row counts of a freshly loaded data set.
pub fn expected_counts(data: &Dataset) -> [usize; 5] {
    let n = data.bundles.len();
    let (posts, members) = (crate::data::POSTS_PER_USER, crate::data::GROUPS_PER_USER);
    [n, n, n * posts, data.groups.len(), n * members]
}

/// Replaces `slot` with a fresh load, timing it; the previous store is dropped untimed.
fn reload<S: Subject>(slot: &mut Option<Loaded<S>>, data: &Dataset, samples: &mut Vec<f64>) {
    drop(slot.take());
    let (ns, loaded) = load_once(data);
    samples.push(ns);
    *slot = Some(loaded);
}

/// The `insert` operation: `reps` bulk loads per system, interleaved; returns the samples (ns
/// per row) and the loaded systems of the last repetition.
pub fn insert(data: &Dataset, reps: usize) -> (Samples, Trio) {
    let (mut relata, mut sqlite, mut hand) = (None, None, None);
    let mut samples = Samples::default();
    for rep in 0..reps {
        for turn in 0..3 {
            match (rep + turn) % 3 {
                0 => reload(&mut relata, data, &mut samples[0]),
                1 => reload(&mut sqlite, data, &mut samples[1]),
                _ => reload(&mut hand, data, &mut samples[2]),
            }
        }
    }
    let trio = Trio {
        relata: relata.expect("at least one repetition"),
        sqlite: sqlite.expect("at least one repetition"),
        hand: hand.expect("at least one repetition"),
    };
    (samples, trio)
}
