//! A last shrinking pass over a failing operation sequence: drop single operations while the
//! run still fails. Proptest stops removing elements once it starts simplifying them, and an
//! operation simplified into a no-op (a failing insert, say) then stays behind; because keys
//! are named relative to the run's history, dropping it is usually harmless.

use crate::driver::{run, Failure};
use crate::op::Op;

/// The shortest sequence this pass finds that still fails, with its failure; `None` if
/// `ops` does not fail at all.
pub fn minimize(ops: &[Op]) -> Option<Failure> {
    let mut best = run(ops).err()?;
    let mut i = 0;
    while i < best.ops.len() {
        let mut fewer = best.ops.clone();
        fewer.remove(i);
        match run(&fewer) {
            Err(failure) => best = failure,
            Ok(_) => i += 1,
        }
    }
    Some(best)
}
