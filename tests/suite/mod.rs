mod constraints;
mod deletes;
mod keys;
mod records;
mod schema_errors;
mod semantics;
mod snapshot;
mod transactions;
