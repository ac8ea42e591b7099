//! Model-based verification for relata.
//!
//! - [`schema`]: a test schema whose five entities use every feature relata has;
//! - [`op`]: one [`Op`](op::Op) enum (deriving `arbitrary::Arbitrary`) for the property tests
//!   and the fuzz targets alike, with keys named relative to the keys handed out so far;
//! - [`model`]: a naive reference model of relata's contract (`BTreeMap`s and full scans);
//! - [`driver`]: [`apply`](driver::apply) runs an op on a store and on the model and compares
//!   the outcomes; [`check`](check::check) compares the whole observable state and runs
//!   `check_integrity`; [`run`](driver::run) does both for a sequence, step by step;
//! - [`shrink`]: drops operations from a failing sequence while it still fails;
//! - [`factory`]: random factory calls, each call's inserts replayed on the model.
//!
//! ```
//! use relata_testkit::{driver, op};
//!
//! let ops = op::decode_ops(b"some fuzz input, any bytes at all");
//! driver::run(&ops).expect("relata agrees with the model");
//! ```

pub mod check;
pub mod domain;
pub mod driver;
pub mod entities;
pub mod factory;
pub mod model;
pub mod op;
pub mod ordered;
pub mod schema;
pub mod shrink;
pub mod snapshot;
pub mod stats;

pub use check::check;
pub use driver::{apply, run, Failure};
pub use model::Model;
pub use model::INJECTED;
pub use op::{arbitrary_op, decode_op, decode_ops, Op};
pub use stats::{Outcome, Stats};
