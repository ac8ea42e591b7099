//! Two-way parallelism for whole-store work on large stores (snapshot load, fork).
//!
//! The machine a test suite runs on has a few cores and the suite's own threads, so relata
//! never spreads one operation wider than two threads, and only when the work is large enough
//! (about a millisecond or more) that a thread's start-up cost (tens of microseconds) is noise.
//! Small stores, the common case in a test, never leave the calling thread.

use std::sync::Mutex;

/// Work over at least this many bytes is worth a second thread. Debug builds use small
/// thresholds, so the tests and fuzz targets run the two-thread paths on their small stores.
pub(crate) const PARALLEL_BYTES: usize = if cfg!(debug_assertions) { 4 << 10 } else { 1 << 20 };

/// Work over at least this many records (or record-index pairs) is worth a second thread.
pub(crate) const PARALLEL_RECORDS: usize = if cfg!(debug_assertions) { 64 } else { 1 << 16 };

/// Runs `side` and `main` at the same time when `parallel` (on a scoped thread and the calling
/// thread), else one after the other on the calling thread. If the thread cannot be started,
/// `side` runs on the calling thread; a panic in `side` is resumed on the calling thread.
pub(crate) fn join<A: Send, B>(
    parallel: bool,
    side: impl FnOnce() -> A + Send,
    main: impl FnOnce() -> B,
) -> (A, B) {
    if !parallel {
        let b = main();
        return (side(), b);
    }
    let work = Mutex::new(Some(side));
    // Nothing panics while the lock is held, so it is never poisoned.
    let take = || work.lock().ok().and_then(|mut w| w.take());
    let (on_thread, b) = std::thread::scope(|scope| {
        let handle = std::thread::Builder::new()
            .spawn_scoped(scope, || take().map(|f| f()))
            .ok();
        let b = main();
        let a = handle.and_then(|h| h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)));
        (a, b)
    });
    // `side` ran on the thread, or it is still here (no thread, or the thread never started).
    let a = on_thread.or_else(|| take().map(|f| f()));
    (a.expect("`side` runs exactly once, on the thread or here"), b)
}

/// Runs `each` over every item, on two threads at the same time when the total `weight`
/// reaches `threshold`; returns the results in the items' order.
///
/// The two threads take the items one at a time, heaviest first, each taking the next as soon
/// as it is done: weights only order the items, so an item that takes longer than its weight
/// said does not leave the other thread idle (a static split by weight did, by up to a fifth
/// of a load's rebuild).
pub(crate) fn for_each_split<T: Send, R: Send>(
    items: &mut [T],
    threshold: usize,
    weight: impl Fn(&T) -> usize,
    each: impl Fn(&mut T) -> R + Sync,
) -> Vec<R> {
    let weights: Vec<usize> = items.iter().map(&weight).collect();
    if items.len() < 2 || weights.iter().sum::<usize>() < threshold {
        return items.iter_mut().map(each).collect();
    }
    let mut queue: Vec<(usize, &mut T)> = items.iter_mut().enumerate().collect();
    queue.sort_by_key(|&(i, _)| std::cmp::Reverse(weights[i]));
    // Nothing panics while the lock is held, so it is never poisoned.
    let queue = Mutex::new(queue.into_iter());
    let take = || queue.lock().ok().and_then(|mut q| q.next());
    let run = || {
        std::iter::from_fn(take)
            .map(|(i, t)| (i, each(t)))
            .collect::<Vec<_>>()
    };
    let (mut a, b) = join(true, run, run);
    a.extend(b);
    a.sort_unstable_by_key(|&(i, _)| i);
    a.into_iter().map(|(_, r)| r).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_returns_both_results_either_way() {
        for parallel in [false, true] {
            let data = [1, 2, 3];
            let (a, b) = join(parallel, || data.iter().sum::<i32>(), || data.len());
            assert_eq!((a, b), (6, 3));
        }
    }

    #[test]
    fn a_split_keeps_order_and_visits_everything_once() {
        for threshold in [0, usize::MAX] {
            let mut items: Vec<usize> = (0..7).collect();
            let out = for_each_split(
                &mut items,
                threshold,
                |&x| x * x,
                |x| {
                    *x += 10;
                    *x
                },
            );
            assert_eq!(out, (10..17).collect::<Vec<_>>());
            assert_eq!(items, out);
        }
    }

    #[test]
    #[should_panic(expected = "boom")]
    fn a_panic_on_the_thread_reaches_the_caller() {
        join(true, || panic!("boom"), || ());
    }
}
