//! Where NULL sorts in an ordered read, per engine profile (docs/ENGINES.md): SQLite puts it
//! first ascending and last descending, PostgreSQL last ascending and first descending (its
//! default `ASC NULLS LAST`, `DESC NULLS FIRST`). Every ordered read path of relata (the walk
//! of an ordered index, the sort of listed records, a keyset cursor's seek and its filter,
//! `offset` and `limit`), for a nullable single-column index and a composite one with a NULL
//! in either part, is compared with a naive sort by the engine's rule, and that sort with the
//! engine itself (`ORDER BY col, id`) holding the same rows in the schema relata exports:
//! SQLite always, PostgreSQL through `RELATA_POSTGRES_URL` (skipped locally without one,
//! failed in CI).

use crate::common::pg;
use relata::{Dialect, Engine, Entity, Key, Order, Query, Schema, Sorted, Store, Value};
use rusqlite::Connection;

#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "marks", index(grp, note, ordered))]
struct Mark {
    #[relata(index(ordered))]
    score: Option<i64>,
    grp: Option<i64>,
    note: Option<String>,
}

/// A mark's values: score, grp, note.
type Row = (Option<i64>, Option<i64>, Option<&'static str>);

/// NULL in each column, alone and together, among values that tie and values that do not;
/// `(1, NULL)` and `(0, 'z')` are where a composite order's NULL goes wrong if the records
/// with a NULL part are all put at one end.
const ROWS: [Row; 12] = [
    (Some(5), Some(1), Some("b")),
    (None, Some(0), Some("z")),
    (Some(3), Some(1), None),
    (Some(5), None, Some("a")),
    (None, Some(1), Some("a")),
    (Some(-2), None, None),
    (Some(3), Some(2), Some("c")),
    (None, Some(1), None),
    (Some(0), Some(0), Some("a")),
    (Some(7), Some(2), None),
    (Some(3), Some(0), None),
    (None, None, Some("b")),
];

/// Updates after the first round (row index, new values): values to NULL and back.
const CHANGES: [(usize, Row); 4] = [
    (0, (None, Some(1), None)),
    (1, (Some(4), Some(0), Some("z"))),
    (5, (Some(-2), Some(2), Some("a"))),
    (11, (Some(9), None, None)),
];

fn mark((score, grp, note): Row) -> Mark {
    Mark {
        score,
        grp,
        note: note.map(str::to_owned),
    }
}

fn schema() -> Schema {
    Schema::builder().entity::<Mark>().build().unwrap()
}

#[derive(Clone, Copy, Debug)]
enum By {
    Score,
    GrpNote,
}

impl By {
    fn sorted<'s>(self, q: Query<'s, Mark>, order: Order) -> Sorted<'s, Mark> {
        match self {
            By::Score => q.order_by(Mark::BY_SCORE, order),
            By::GrpNote => q.order_by(Mark::BY_GRP_NOTE, order),
        }
    }

    /// The row's values in the index, as the last row of a page gives them to `after`.
    fn values(self, m: &Mark) -> Vec<Value<'_>> {
        let int = |v: Option<i64>| v.map_or(Value::Null, Value::Int);
        match self {
            By::Score => vec![int(m.score)],
            By::GrpNote => vec![int(m.grp), m.note.as_deref().map_or(Value::Null, Value::Text)],
        }
    }

    fn sql(self, order: Order) -> &'static str {
        match (self, order) {
            (By::Score, Order::Asc) => "score, id",
            (By::Score, Order::Desc) => "score DESC, id DESC",
            (By::GrpNote, Order::Asc) => "grp, note, id",
            (By::GrpNote, Order::Desc) => "grp DESC, note DESC, id DESC",
        }
    }
}

/// The ids (1-based positions in `rows`) in order `by`, `order`, NULL placed by `engine`'s
/// rule: ascending, SQLite's NULL before every value, PostgreSQL's after; descending, the
/// exact reverse.
fn naive(rows: &[Row], by: By, order: Order, engine: Engine) -> Vec<i64> {
    let null_rank = |is_null: bool| u8::from(is_null == (engine == Engine::Postgres));
    let mut ids: Vec<(u8, i64, u8, &str, i64)> = (rows.iter().enumerate())
        .map(|(i, &(score, grp, note))| {
            let id = i as i64 + 1;
            match by {
                By::Score => (null_rank(score.is_none()), score.unwrap_or(0), 0, "", id),
                By::GrpNote => (
                    null_rank(grp.is_none()),
                    grp.unwrap_or(0),
                    null_rank(note.is_none()),
                    note.unwrap_or(""),
                    id,
                ),
            }
        })
        .collect();
    ids.sort();
    if order == Order::Desc {
        ids.reverse();
    }
    ids.into_iter().map(|t| t.4).collect()
}

/// Every ordered read of `s` (whose records are `keys`, id `i + 1` for `keys[i]`) in order
/// `by`, `order` lists the ids `want` does.
fn assert_reads(s: &Store, keys: &[Key<Mark>], by: By, order: Order, want: &[i64]) {
    let id = |k: &Key<Mark>| keys.iter().position(|x| x == k).unwrap() as i64 + 1;
    let ids = |got: Vec<Key<Mark>>| got.iter().map(id).collect::<Vec<i64>>();
    let at = |id: i64| keys[id as usize - 1];
    let whats = [(false, "indexed walk"), (true, "sort of listed records")];
    for (listed, what) in whats {
        let q = || {
            let q = match listed {
                true => s.query_keys(keys.iter().copied()),
                false => s.query::<Mark>(),
            };
            by.sorted(q, order)
        };
        let ctx = format!("{:?} {by:?} {order:?}, {what}", s.engine());
        assert_eq!(ids(q().keys()), want, "{ctx}");
        assert_eq!(q().first().map(|k| id(&k)), want.first().copied(), "{ctx}: first");
        for (offset, limit) in [(0, 1), (0, 3), (2, 4), (5, 100), (11, 2), (3, 0), (12, 1)] {
            let page = ids(q().offset(offset).limit(limit).keys());
            let expect: Vec<i64> = want.iter().skip(offset).take(limit).copied().collect();
            assert_eq!(page, expect, "{ctx}: offset {offset} limit {limit}");
        }
        // The page after each row (a NULL row's cursor too), with an offset and a limit.
        for (pos, &row) in want.iter().enumerate() {
            let k = at(row);
            let values = s.try_get_owned(k).unwrap();
            let values = by.values(&values);
            let after = || q().after(k, &values).unwrap();
            let rest = &want[pos + 1..];
            assert_eq!(ids(after().keys()), rest, "{ctx}: after id {row}");
            for (offset, limit) in [(0, 3), (1, 2), (4, 1)] {
                let page = ids(after().offset(offset).limit(limit).keys());
                let expect: Vec<i64> = rest.iter().skip(offset).take(limit).copied().collect();
                assert_eq!(
                    page, expect,
                    "{ctx}: after id {row}, offset {offset} limit {limit}"
                );
            }
            // A second cursor, on an earlier row, keeps what the first one keeps.
            if let Some(&earlier) = want.get(pos.saturating_sub(3)).filter(|_| pos >= 3) {
                let e = at(earlier);
                let twice = after()
                    .after(e, &by.values(&s.try_get_owned(e).unwrap()))
                    .unwrap();
                assert_eq!(ids(twice.keys()), rest, "{ctx}: after id {row} then id {earlier}");
            }
        }
    }
}

/// The store under `engine` holding `rows`, and its keys in row order.
fn store(engine: Engine, rows: &[Row]) -> (Store, Vec<Key<Mark>>) {
    let mut s = Store::with_engine(schema(), engine);
    let keys: Vec<Key<Mark>> = rows.iter().map(|&r| s.insert(mark(r)).unwrap()).collect();
    (s, keys)
}

/// Every read of both indexes, both ways, under `engine`; the changes applied, again; a
/// store loaded from a snapshot of that, again.
fn check_profile(engine: Engine) -> Vec<Row> {
    let (mut s, keys) = store(engine, &ROWS);
    let mut rows = ROWS.to_vec();
    let check = |s: &Store, rows: &[Row]| {
        s.check_integrity().unwrap();
        for by in [By::Score, By::GrpNote] {
            for order in [Order::Asc, Order::Desc] {
                assert_reads(s, &keys, by, order, &naive(rows, by, order, engine));
            }
        }
    };
    check(&s, &rows);
    for (i, row) in CHANGES {
        s.update(keys[i], |m| *m = mark(row)).unwrap();
        rows[i] = row;
    }
    check(&s, &rows);
    let mut bytes = Vec::new();
    s.save_to_writer(&mut bytes).unwrap();
    let loaded = Store::load_from_reader(schema(), &bytes[..]).unwrap();
    assert_eq!(loaded.engine(), engine);
    check(&loaded, &rows);
    rows
}

/// The ids a server lists for `SELECT id FROM marks ORDER BY … LIMIT … OFFSET …`, for every
/// order and page [`assert_reads`] reads without a cursor, equal `naive`'s under `engine`.
fn assert_server(engine: Engine, rows: &[Row], mut ask: impl FnMut(&str) -> Vec<i64>) {
    for by in [By::Score, By::GrpNote] {
        for order in [Order::Asc, Order::Desc] {
            let want = naive(rows, by, order, engine);
            let sql = format!("SELECT id FROM marks ORDER BY {}", by.sql(order));
            assert_eq!(ask(&sql), want, "{engine:?}: {sql}");
            for (offset, limit) in [(0, 3), (2, 4), (11, 2)] {
                let page = ask(&format!("{sql} LIMIT {limit} OFFSET {offset}"));
                let expect: Vec<i64> = want.iter().skip(offset).take(limit).copied().collect();
                assert_eq!(page, expect, "{engine:?}: {sql} LIMIT {limit} OFFSET {offset}");
            }
        }
    }
}

#[test]
fn sqlite_profile_sorts_null_first_ascending_as_sqlite_does() {
    let changed = check_profile(Engine::Sqlite);
    let db = Connection::open_in_memory().unwrap();
    db.execute_batch(&schema().to_sql(Dialect::Sqlite)).unwrap();
    let ask = |db: &Connection, sql: &str| -> Vec<i64> {
        let mut stmt = db.prepare(sql).unwrap();
        let ids = stmt.query_map([], |r| r.get(0)).unwrap();
        ids.map(Result::unwrap).collect()
    };
    for (i, &(score, grp, note)) in ROWS.iter().enumerate() {
        db.execute(
            "INSERT INTO marks (id, score, grp, note) VALUES (?1, ?2, ?3, ?4)",
            rusqlite::params![i as i64 + 1, score, grp, note],
        )
        .unwrap();
    }
    assert_server(Engine::Sqlite, &ROWS, |sql| ask(&db, sql));
    for (i, (score, grp, note)) in CHANGES {
        db.execute(
            "UPDATE marks SET score = ?2, grp = ?3, note = ?4 WHERE id = ?1",
            rusqlite::params![i as i64 + 1, score, grp, note],
        )
        .unwrap();
    }
    assert_server(Engine::Sqlite, &changed, |sql| ask(&db, sql));
}

#[test]
fn postgres_profile_sorts_null_last_ascending_as_postgres_does() {
    let changed = check_profile(Engine::Postgres);
    let Some(mut pg) = pg::connect("postgres_profile_sorts_null_last_ascending_as_postgres_does") else {
        return;
    };
    pg.client
        .batch_execute(&schema().to_sql(Dialect::Postgres))
        .unwrap();
    for (i, &(score, grp, note)) in ROWS.iter().enumerate() {
        (pg.client)
            .execute(
                "INSERT INTO marks (id, score, grp, note) VALUES ($1, $2, $3, $4)",
                &[&(i as i64 + 1), &score, &grp, &note],
            )
            .unwrap();
    }
    let ask = |pg: &mut pg::Pg, sql: &str| -> Vec<i64> {
        (pg.client.query(sql, &[]).unwrap().iter())
            .map(|r| r.get(0))
            .collect()
    };
    assert_server(Engine::Postgres, &ROWS, |sql| ask(&mut pg, sql));
    for (i, (score, grp, note)) in CHANGES {
        (pg.client)
            .execute(
                "UPDATE marks SET score = $2, grp = $3, note = $4 WHERE id = $1",
                &[&(i as i64 + 1), &score, &grp, &note],
            )
            .unwrap();
    }
    assert_server(Engine::Postgres, &changed, |sql| ask(&mut pg, sql));
}
