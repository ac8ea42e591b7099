#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

extern crate self as relata;

mod builtin;
mod clock;
mod column;
mod ddl;
mod diff;
mod dot;
mod engine;
mod entity;
mod error;
mod factory;
mod fixture;
mod index;
mod json;
mod key;
mod relation;
mod schema;
mod snapshot;
mod store;
mod text;
mod type_index;
mod value;

pub use clock::{Clock, Timestamp};
#[doc(hidden)]
pub use column::Stored;
pub use column::{AsColumn, Column, KeyColumn, Repr};
pub use ddl::Dialect;
pub use diff::{Diff, Record, RelationDiff, TableDiff, Update};
pub use dot::DotOptions;
pub use engine::{Engine, SqlState};
pub use entity::{
    CheckDef, Entity, EntityDef, FieldDef, Fk, FkDef, Identity, Index, IndexDef, OnDelete, Stamp, Unique,
    UniqueDef,
};
pub use error::{Error, IntegrityError, QuotedValue};
pub use factory::{Build, Ctx, Factories, FactoryError};
pub use fixture::{Fixture, FixtureError};
pub use key::{Key, RawKey};
pub use relata_derive::{Column, Entity};
pub use relation::ManyToMany;
pub use schema::{Schema, SchemaBuilder, SchemaError};
pub use snapshot::{Adaptation, SaveStep, SnapshotError};
pub use store::write::JSON_DEPTH_LIMIT;
pub use store::{
    Children, DeleteReport, DeletedRecord, FaultPoint, Faults, FixtureScope, Linked, LogEntry, Mark,
    NulledReference, OpLog, Order, PendingFault, Query, Records, Savepoint, Scan, Sorted, Store,
    UnlinkedPair, Upserted,
};
pub use text::{Span, Text, TextHeap, TextRead, TEXT_HEAP_LIMIT};
pub use value::{Composite, QueryValue, SqlType, Value};

/// The Rust examples of `docs/*.md`, compiled and run as doctests so they keep up with the
/// API (the README's are the crate docs above). Only for `cargo test --doc`.
#[cfg(doctest)]
#[doc = include_str!("../docs/ENGINES.md")]
pub struct EnginesDoc;

/// Re-exports used by `#[derive(Entity)]`'s generated code. Not API.
#[doc(hidden)]
pub mod __private {
    pub use crate::column::{field_from_json, field_from_json_or, id_from_json, JsonBad, JsonCx};
    pub use crate::snapshot::reseal;
    pub use crate::store::table::links::links_out;
    pub use serde;
    pub use serde_json;

    /// A declared default (`FieldDef::default`): calls its argument with the value as stored
    /// and as shown.
    pub type DefaultFn = fn(&mut dyn FnMut(crate::Value<'_>, Option<String>));
}
