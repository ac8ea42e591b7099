//! The PostgreSQL server the tests compare against: the one named by `RELATA_POSTGRES_URL`
//! (a libpq connection string, `host=/tmp/dir user=postgres dbname=postgres`, or a
//! `postgresql://` URL; `.ci/run` starts a server and sets it). Each test works in a schema of
//! its own, dropped when the test ends, so tests run in parallel on one database.
//!
//! Without the variable a PostgreSQL test is skipped with one message; under `CI=true` it
//! fails instead, as does every test when the variable is set but no server answers.

use std::sync::atomic::{AtomicU32, Ordering};

use postgres::{Client, NoTls};

/// The environment variable naming the server.
pub const URL_VAR: &str = "RELATA_POSTGRES_URL";

/// A connection whose `search_path` is a fresh schema, dropped with it.
pub struct Pg {
    pub client: Client,
    schema: String,
}

/// Connects for the test `test`; `None` (after saying why) when no server is configured and
/// this is not CI.
pub fn connect(test: &str) -> Option<Pg> {
    let url = match std::env::var(URL_VAR) {
        Ok(url) if !url.is_empty() => url,
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => panic!(
            "{test}: {URL_VAR} is not set, and under CI=true the PostgreSQL tests must run \
             (.ci/run starts a server and sets it)"
        ),
        _ => {
            eprintln!(
                "skipped {test}: no PostgreSQL configured (set {URL_VAR}, e.g. \
                 \"host=/path/to/socket/dir user=postgres dbname=postgres\"; see README.md)"
            );
            return None;
        }
    };
    let mut client = Client::connect(&url, NoTls)
        .unwrap_or_else(|e| panic!("{test}: cannot connect to PostgreSQL at {URL_VAR}={url:?}: {e}"));
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let schema = format!(
        "relata_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    client
        .batch_execute(&format!("CREATE SCHEMA {schema}; SET search_path TO {schema};"))
        .unwrap_or_else(|e| panic!("{test}: cannot create schema {schema}: {e}"));
    Some(Pg { client, schema })
}

impl Drop for Pg {
    fn drop(&mut self) {
        let _ = self
            .client
            .batch_execute(&format!("DROP SCHEMA {} CASCADE", self.schema));
    }
}
