//! `ancestors_deep`: relata's `Store::ancestors` of the deepest node of a chain, in
//! instructions per ancestor at two chain lengths (issue 17 item 10). relata only, so a
//! measurement of how its cost grows, not a comparison: the other columns read `n/a`. The
//! instruction run fails when the 8k cost per ancestor passes twice the 1k cost
//! (`instructions::LINEAR`), and `.ci/run` runs it.
//!
//! A linear walk costs the same per ancestor at both lengths; the quadratic walk it replaced
//! (each ancestor searched for in the output so far) cost about 8x more per ancestor on the
//! longer chain.

use relata::{Entity, Key, Schema, Store};

use crate::harness::{self, time_per_op};

/// The operation names, one per chain length.
pub const OPS: [&str; 2] = ["ancestors_1k", "ancestors_8k"];
/// The chain lengths, in the order of [`OPS`].
const LENGTHS: [usize; 2] = [1_000, 8_000];

/// A chain node: each the parent of the next (no `acyclic`, so `ancestors` guards cycles).
#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "nodes")]
struct Node {
    #[relata(back = "children", on_delete = "cascade")]
    parent: Option<Key<Node>>,
}

/// A store holding a chain of `len` nodes, and its deepest node.
fn chain(len: usize) -> (Store, Key<Node>) {
    let schema = Schema::builder()
        .entity::<Node>()
        .build()
        .expect("the chain schema");
    let mut store = Store::new(schema);
    let mut deepest = store.insert(Node { parent: None }).expect("the root");
    for _ in 1..len {
        let parent = Some(deepest);
        deepest = store.insert(Node { parent }).expect("a node");
    }
    (store, deepest)
}

/// For an `--instructions` child: relata's walk up each chain, run twice, the second counted
/// (printing `counted OP OPS` as `instructions.rs` expects; OPS = ancestors visited).
pub fn instructions_child(system: &str, wants: impl Fn(&str) -> bool) {
    if system != "relata" {
        return;
    }
    for (op, len) in OPS.into_iter().zip(LENGTHS).filter(|(op, _)| wants(op)) {
        let (store, deepest) = chain(len);
        for counting in [false, true] {
            harness::set_counting(counting);
            let (_, up) = time_per_op(len - 1, || store.ancestors(Node::PARENT, deepest).count());
            harness::set_counting(false);
            assert_eq!(up, len - 1, "{op}: every node above the deepest");
        }
        for ops in harness::take_counted() {
            println!("counted {op} {ops}");
        }
    }
}
