mod constraints;
mod deletes;
mod fuzz_corpus;
mod keys;
mod model;
mod records;
mod regressions;
mod schema_errors;
