mod constraints;
mod deletes;
mod keys;
mod model;
mod records;
mod schema_errors;
