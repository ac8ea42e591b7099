//! relata as a test double: a blog service written against a repository trait, one
//! implementation over SQLite `:memory:` (rusqlite), one over PostgreSQL (the `postgres`
//! crate), one over relata, and one test suite run against each, relata under both engine
//! profiles (`cargo test --example service`; PostgreSQL when `RELATA_POSTGRES_URL` names a
//! server). Running the example times the suite on SQLite and relata in one process:
//! `cargo run --release --example service`.

mod fixture;
#[cfg(test)]
#[path = "../../tests/common/pg.rs"]
mod pg;
#[cfg(test)]
mod pg_repo;
mod relata_repo;
mod repo;
mod service;
mod sqlite_repo;
mod suite;

use relata_repo::RelataRepo;
use sqlite_repo::SqliteRepo;

fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(2000);
    let cases = suite::cases::<RelataRepo>().len();
    // Warm both up once, then measure each several times and keep the fastest run.
    suite::run(SqliteRepo::new, 10);
    suite::run(RelataRepo::new, 10);
    let best = |f: &dyn Fn() -> std::time::Duration| (0..5).map(|_| f()).min().unwrap_or_default();
    let sqlite = best(&|| suite::run(SqliteRepo::new, rounds));
    let relata = best(&|| suite::run(RelataRepo::new, rounds));
    let per = |d: std::time::Duration| d.as_secs_f64() * 1e6 / (rounds * cases) as f64;
    println!("the same {cases}-case suite, {rounds} rounds, each case on a fresh repository (best of 5):");
    println!(
        "  SQLite :memory: (rusqlite)  {:>8.1} ms  ({:.1} µs per case)",
        sqlite.as_secs_f64() * 1e3,
        per(sqlite)
    );
    println!(
        "  relata                      {:>8.1} ms  ({:.1} µs per case)",
        relata.as_secs_f64() * 1e3,
        per(relata)
    );
    println!(
        "  relata is {:.1}x faster",
        sqlite.as_secs_f64() / relata.as_secs_f64()
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every case of the suite against one backend, reporting each failing case by name.
    fn run_all<R: repo::Repo>(make: fn() -> R) {
        for (name, case) in suite::cases::<R>() {
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                case(&mut service::Blog::new(make(), suite::epoch()))
            }));
            assert!(outcome.is_ok(), "case {name} failed");
        }
    }

    #[test]
    fn the_suite_passes_on_sqlite() {
        run_all(SqliteRepo::new);
    }

    #[test]
    fn the_suite_passes_on_postgres() {
        const NAME: &str = "the_suite_passes_on_postgres";
        if pg_repo::PgRepo::connect(NAME).is_none() {
            return; // no server configured, and not CI: skipped (pg.rs said so)
        }
        run_all(|| pg_repo::PgRepo::connect(NAME).expect("connected before"));
    }

    #[test]
    fn the_suite_passes_on_relata() {
        run_all(RelataRepo::new);
    }

    #[test]
    fn the_suite_passes_on_relata_under_the_pg_profile() {
        run_all(|| RelataRepo::with_engine(relata::Engine::Postgres));
    }
}
