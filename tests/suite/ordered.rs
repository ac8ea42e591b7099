//! Ordered indexes, range and prefix scans, and sorted queries, each checked against a naive
//! sort of the same records, through every kind of write and undo.

use std::ops::Bound::{Excluded, Included};

use crate::common::pg;
use relata::{Entity, Key, Order, Schema, Store, Value};

#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "authors")]
struct Author {
    #[relata(unique)]
    name: String,
}

/// Every article is indexed three ways: ordered by time, ordered by (author, time), and by
/// title in a hash index, which the scans answer with a sort.
#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "articles", index(author, at, ordered))]
struct Article {
    #[relata(on_delete = "cascade")]
    author: Key<Author>,
    #[relata(index(ordered))]
    at: i64,
    #[relata(index(ordered))]
    score: Option<i32>,
    #[relata(index)]
    title: String,
}

fn schema() -> Schema {
    Schema::builder()
        .entity::<Author>()
        .entity::<Article>()
        .build()
        .unwrap()
}

fn article(author: Key<Author>, at: i64, score: Option<i32>, title: &str) -> Article {
    Article {
        author,
        at,
        score,
        title: title.into(),
    }
}

/// The articles sorted by `key` then by key, as the ordered index keeps them.
fn naive<T: Ord>(s: &Store, key: impl Fn(&Article) -> Option<T>) -> Vec<Key<Article>> {
    let mut all: Vec<(T, Key<Article>)> = s
        .keys::<Article>()
        .filter_map(|k| key(&s.try_get_owned(k).unwrap()).map(|v| (v, k)))
        .collect();
    all.sort();
    all.into_iter().map(|(_, k)| k).collect()
}

/// Every scan of the fixture agrees with the naive sort, both ways, and the store checks.
fn assert_scans(s: &Store) {
    s.check_integrity().unwrap();
    let by_at = naive(s, |a| Some(a.at));
    assert_eq!(s.scan(Article::BY_AT).collect::<Vec<_>>(), by_at);
    let rev: Vec<_> = s.scan(Article::BY_AT).rev().collect();
    assert_eq!(rev, by_at.iter().rev().copied().collect::<Vec<_>>());
    let mid = naive(s, |a| (10..20).contains(&a.at).then_some(a.at));
    assert_eq!(s.range(Article::BY_AT, 10..20).collect::<Vec<_>>(), mid);
    let upto = naive(s, |a| (a.at <= 7).then_some(a.at));
    assert_eq!(s.range(Article::BY_AT, ..=7).collect::<Vec<_>>(), upto);
    let from = naive(s, |a| (a.at >= 25).then_some(a.at));
    assert_eq!(s.range(Article::BY_AT, 25..).collect::<Vec<_>>(), from);
    // NULL scores are in no range; the rest by score.
    let scored = naive(s, |a| a.score);
    assert_eq!(s.scan(Article::BY_SCORE).collect::<Vec<_>>(), scored);
    // The hash index answers by sorting: the same results.
    let titled = naive(s, |a| (a.title.as_str() >= "t1").then(|| a.title.clone()));
    assert_eq!(s.range(Article::BY_TITLE, "t1"..).collect::<Vec<_>>(), titled);
    for author in s.keys::<Author>() {
        let own = naive(s, |a| (a.author == author).then_some(a.at));
        let got: Vec<_> = s
            .prefix(Article::BY_AUTHOR_AT, &[author.into()])
            .unwrap()
            .collect();
        assert_eq!(got, own);
        let newest: Vec<_> = s
            .prefix(Article::BY_AUTHOR_AT, &[author.into()])
            .unwrap()
            .rev()
            .take(3)
            .collect();
        assert_eq!(newest, own.iter().rev().take(3).copied().collect::<Vec<_>>());
        let (lo, hi) = ([author.into(), Value::Int(5)], [author.into(), Value::Int(15)]);
        let window: Vec<_> = s
            .range_values(Article::BY_AUTHOR_AT, Excluded(&lo[..]), Included(&hi[..]))
            .unwrap()
            .collect();
        let want = naive(s, |a| {
            (a.author == author && a.at > 5 && a.at <= 15).then_some(a.at)
        });
        assert_eq!(window, want);
    }
}

/// Two authors, 30 articles with repeated times (ties broken by key) and some NULL scores.
fn fixture() -> (Store, Vec<Key<Author>>, Vec<Key<Article>>) {
    let mut s = Store::new(schema());
    let authors: Vec<_> = ["ann", "bob"]
        .iter()
        .map(|n| s.insert(Author { name: n.to_string() }).unwrap())
        .collect();
    let articles = (0..30)
        .map(|i| {
            let score = (i % 4 != 0).then_some((i * 7 % 11) as i32);
            let a = article(
                authors[i % 2],
                (i as i64 * 13) % 31,
                score,
                &format!("t{}", i % 3),
            );
            s.insert(a).unwrap()
        })
        .collect();
    (s, authors, articles)
}

#[test]
fn scans_follow_inserts_updates_and_deletes() {
    let (mut s, authors, articles) = fixture();
    assert_scans(&s);
    for (i, &k) in articles.iter().enumerate().step_by(3) {
        s.update(k, |a| {
            a.at = 40 - a.at;
            a.score = if i % 2 == 0 { None } else { Some(i as i32) };
            a.author = authors[(i + 1) % 2];
        })
        .unwrap();
        assert_scans(&s);
    }
    for &k in articles.iter().step_by(4) {
        s.delete(k).unwrap();
        assert_scans(&s);
    }
    // A cascade removes every article of an author from every index.
    s.delete(authors[0]).unwrap();
    assert_scans(&s);
    let gone = s.prefix(Article::BY_AUTHOR_AT, &[authors[0].into()]).unwrap();
    assert_eq!(gone.count(), 0);
}

#[test]
fn scans_follow_rollback_reset_fork_and_snapshot() {
    let (mut s, authors, articles) = fixture();
    let before: Vec<_> = s.scan(Article::BY_AT).collect();
    s.begin().unwrap();
    s.delete(articles[3]).unwrap();
    s.update(articles[4], |a| a.at = -1).unwrap();
    s.insert(article(authors[1], 12, Some(1), "new")).unwrap();
    assert_scans(&s);
    s.rollback().unwrap();
    assert_scans(&s);
    assert_eq!(s.scan(Article::BY_AT).collect::<Vec<_>>(), before);

    let mark = s.mark().unwrap();
    s.delete(authors[1]).unwrap();
    let fork = s.fork();
    assert_scans(&fork);
    s.reset(&mark).unwrap();
    assert_scans(&s);
    assert_eq!(s.scan(Article::BY_AT).collect::<Vec<_>>(), before);
    s.release_mark(&mark).unwrap();

    let loaded = Store::from_snapshot(schema(), &s.to_snapshot().unwrap()).unwrap();
    assert_scans(&loaded);
    assert_eq!(loaded.scan(Article::BY_AT).collect::<Vec<_>>(), before);
}

#[test]
fn a_failed_write_leaves_every_scan_unchanged() {
    let (mut s, _, articles) = fixture();
    let before: Vec<_> = s.scan(Article::BY_AT).collect();
    // The author does not exist any more: the update fails after building its row.
    let gone = s.insert(Author { name: "gone".into() }).unwrap();
    s.delete(gone).unwrap();
    s.update(articles[0], |a| {
        a.at = 99;
        a.author = gone;
    })
    .unwrap_err();
    assert_scans(&s);
    assert_eq!(s.scan(Article::BY_AT).collect::<Vec<_>>(), before);
}

/// `order_by` sorts by the index's values then key, both ways; `Desc` is the exact reverse.
#[test]
fn order_by_limit_offset_and_after_agree_with_a_sort() {
    let (mut s, authors, articles) = fixture();
    s.delete(articles[5]).unwrap();
    let by_score = {
        // NULL first, as SQLite sorts ascending.
        let mut all: Vec<(Option<i32>, Key<Article>)> =
            s.iter::<Article>().map(|(k, a)| (a.score, k)).collect();
        all.sort();
        all.into_iter().map(|(_, k)| k).collect::<Vec<_>>()
    };
    for whole in [true, false] {
        let q = || match whole {
            true => s.query::<Article>(),
            false => s.query_keys(s.keys::<Article>()),
        };
        assert_eq!(q().order_by(Article::BY_SCORE, Order::Asc).keys(), by_score);
        let desc: Vec<_> = by_score.iter().rev().copied().collect();
        assert_eq!(q().order_by(Article::BY_SCORE, Order::Desc).keys(), desc);
        // A page of a few of many (a bounded buffer), a selection, a sort, nothing.
        for (offset, limit) in [(0, 1), (0, 2), (1, 2), (0, 5), (3, 4), (27, 10), (40, 2), (2, 0)] {
            let page = q()
                .order_by(Article::BY_SCORE, Order::Desc)
                .offset(offset)
                .limit(limit)
                .keys();
            let want: Vec<_> = desc.iter().skip(offset).take(limit).copied().collect();
            assert_eq!(page, want, "offset {offset} limit {limit}");
        }
        assert_eq!(
            q().order_by(Article::BY_SCORE, Order::Asc).first(),
            by_score.first().copied()
        );
    }
    // Keyset pagination over the children of one author, newest first, three per page,
    // with the last row of each page deleted before the next page is read.
    let own: Vec<_> = naive(&s, |a| (a.author == authors[1]).then_some(a.at));
    let mut seen = Vec::new();
    let mut cursor: Option<(i64, Key<Article>)> = None;
    loop {
        let q = s
            .query_keys([authors[1]])
            .children(Article::AUTHOR)
            .order_by(Article::BY_AT, Order::Desc);
        let q = match cursor {
            Some((at, k)) => q.after(k, &[at.into()]).unwrap(),
            None => q,
        };
        let page = q.limit(3).keys();
        let Some(&last) = page.last() else { break };
        seen.extend(page.iter().copied());
        cursor = Some((s.get(last).unwrap().at, last));
        s.delete(last).unwrap();
        s.check_integrity().unwrap();
    }
    assert_eq!(seen, own.iter().rev().copied().collect::<Vec<_>>());
}

#[test]
fn range_filter_first_and_exists() {
    let (s, authors, _) = fixture();
    let want = naive(&s, |a| {
        (a.author == authors[0] && (3..9).contains(&a.at)).then_some(a.at)
    });
    let got = s
        .query_keys([authors[0]])
        .children(Article::AUTHOR)
        .range(Article::BY_AT, 3..9)
        .order_by(Article::BY_AT, Order::Asc)
        .keys();
    assert_eq!(got, want);
    assert!(!s.query::<Article>().range(Article::BY_AT, 0..=0).is_empty());
    assert!(s.query::<Article>().range(Article::BY_AT, 100..).is_empty());
    assert_eq!(s.query::<Article>().count(), 30);
}

/// The keyset pages of a whole table (a seek in the ordered index when the cursor is exact)
/// equal those of the same records listed (a filter then a sort), for a single-column index,
/// a nullable one (a cursor on a NULL row filters) and a composite one, both ways, with an
/// offset, and with a second cursor on top of a first.
#[test]
fn keyset_pages_of_a_whole_table_equal_those_of_its_listed_records() {
    let (mut s, _, articles) = fixture();
    for k in articles.iter().step_by(5) {
        s.delete(*k).unwrap();
    }
    type Cursor = fn(&Article) -> Vec<Value<'static>>;
    let at: Cursor = |a| vec![a.at.into()];
    let score: Cursor = |a| vec![a.score.map_or(Value::Null, |v| i64::from(v).into())];
    let author_at: Cursor = |a| vec![a.author.into(), a.at.into()];
    let indexes = [
        (Which::At, at),
        (Which::Score, score),
        (Which::AuthorAt, author_at),
    ];
    for (which, cursor) in indexes {
        for order in [Order::Asc, Order::Desc] {
            for (size, offset) in [(1, 0), (3, 0), (4, 1)] {
                let page = |listed: bool, after: Option<Key<Article>>| {
                    let q = match listed {
                        true => s.query_keys(s.keys::<Article>()),
                        false => s.query::<Article>(),
                    };
                    let q = which.order(q, order);
                    let q = match after {
                        Some(k) => q.after(k, &cursor(&s.try_get_owned(k).unwrap())).unwrap(),
                        None => q,
                    };
                    q.offset(offset).limit(size).keys()
                };
                let (mut last, mut pages) = (None, 0);
                loop {
                    let (seek, filter) = (page(false, last), page(true, last));
                    assert_eq!(
                        seek, filter,
                        "{which:?} {order:?} size {size} offset {offset} after {last:?}"
                    );
                    let Some(&k) = seek.last() else { break };
                    last = Some(k);
                    pages += 1;
                    assert!(pages <= articles.len(), "the pages never end");
                }
            }
        }
        // A second cursor on top of the first keeps what both keep.
        let all = which.order(s.query::<Article>(), Order::Asc).keys();
        let (a, b) = (all[2], all[5]);
        let twice = which
            .order(s.query::<Article>(), Order::Asc)
            .after(b, &cursor(&s.try_get_owned(b).unwrap()))
            .unwrap()
            .after(a, &cursor(&s.try_get_owned(a).unwrap()))
            .unwrap()
            .keys();
        assert_eq!(twice, all[6..], "{which:?}");
    }
}

/// One of the article indexes, by name, so a test can loop over them.
#[derive(Clone, Copy, Debug)]
enum Which {
    At,
    Score,
    AuthorAt,
}

impl Which {
    fn order<'s>(self, q: relata::Query<'s, Article>, order: Order) -> relata::Sorted<'s, Article> {
        match self {
            Which::At => q.order_by(Article::BY_AT, order),
            Which::Score => q.order_by(Article::BY_SCORE, order),
            Which::AuthorAt => q.order_by(Article::BY_AUTHOR_AT, order),
        }
    }
}

/// A bound of the wrong kind for its column (text or NULL where the index holds a key, text
/// where it holds an integer) was compared by kind and returned every record (30 of 30); it
/// is refused, naming the index, the column and both kinds, and so is a bound longer than the
/// index.
#[test]
fn a_bound_of_the_wrong_kind_is_refused_not_compared() {
    use relata::Error;
    use std::ops::Bound::Unbounded;
    let (s, authors, _) = fixture();
    let text = s.range_values(Article::BY_AUTHOR_AT, Included(&["x".into()][..]), Unbounded);
    let Err(Error::ValueType {
        table,
        index,
        column,
        expected,
        given,
        value,
    }) = text
    else {
        panic!("text for a key column: {:?}", text.map(Iterator::count))
    };
    assert_eq!((table, column), ("articles", "author_id"));
    assert_eq!(index, "ix_articles_author_id_at");
    assert_eq!((expected, given), ("keys (Value::Key)", "text (Value::Text)"));
    assert_eq!(*value, "'x'", "the error names the value given");
    let null = s.range_values(Article::BY_AUTHOR_AT, Included(&[Value::Null][..]), Unbounded);
    assert!(matches!(
        null,
        Err(Error::ValueType {
            column: "author_id",
            ..
        })
    ));
    let at = [authors[0].into(), "5".into()];
    let text_at = s.range_values(Article::BY_AUTHOR_AT, Unbounded, Excluded(&at[..]));
    assert!(matches!(text_at, Err(Error::ValueType { column: "at", .. })));
    let e = s
        .prefix(Article::BY_AUTHOR_AT, &[Value::Null])
        .map(Iterator::count)
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "index ix_articles_author_id_at on articles: column author_id holds keys (Value::Key), \
         but the value given, NULL, is NULL (Value::Null), which is in no range"
    );
    let long = [authors[0].into(), 1i64.into(), 2i64.into()];
    let e = s.prefix(Article::BY_AUTHOR_AT, &long).map(Iterator::count);
    assert!(
        matches!(
            e,
            Err(Error::TooManyValues {
                columns: 2,
                given: 3,
                ..
            })
        ),
        "{e:?}"
    );
    // Any number compares with a number column, as in SQL.
    for n in [Value::Int(5), Value::UInt(5), Value::Float(5.0)] {
        let lo = [authors[0].into(), n];
        let got = s.range_values(Article::BY_AUTHOR_AT, Included(&lo[..]), Unbounded);
        assert!(got.is_ok(), "{n:?}");
    }
}

#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "samples")]
struct Sample {
    #[relata(index(ordered))]
    x: f64,
    #[relata(index)]
    y: f64,
}

/// Floats sort as they compare equal, as PostgreSQL orders `float8`: `-0.0` is `0.0`, and
/// every NaN (a computed `0.0 / 0.0` has its sign bit set) is one value, above every number.
/// Sorted reads used `total_cmp`, so a range `0.0..=0.0` missed `-0.0`, a negative NaN sorted
/// below `-inf` (and `..2.0` returned it), while `find_by` and UNIQUE treated them as one.
#[test]
fn floats_sort_with_negative_zero_equal_to_zero_and_every_nan_last_as_postgres_does() {
    let nan = std::hint::black_box(0.0f64) / std::hint::black_box(0.0);
    let xs = [
        1.0,
        -0.0,
        f64::NAN,
        nan,
        0.0,
        f64::NEG_INFINITY,
        f64::INFINITY,
        -2.5,
    ];
    let mut s = Store::new(Schema::builder().entity::<Sample>().build().unwrap());
    let keys: Vec<Key<Sample>> = xs
        .iter()
        .map(|&x| s.insert(Sample { x, y: x }).unwrap())
        .collect();
    let at = |is: &[usize]| is.iter().map(|&i| keys[i]).collect::<Vec<_>>();
    let (ascending, zeros, below_two) = ([5, 7, 1, 4, 0, 6, 2, 3], [1, 4], [5, 7, 1, 4, 0]);
    let sorted = s.query::<Sample>().order_by(Sample::BY_X, Order::Asc).keys();
    assert_eq!(sorted, at(&ascending));
    assert_eq!(s.range(Sample::BY_X, 0.0..=0.0).collect::<Vec<_>>(), at(&zeros));
    assert_eq!(s.range(Sample::BY_Y, 0.0..=0.0).collect::<Vec<_>>(), at(&zeros));
    assert_eq!(s.range(Sample::BY_X, ..2.0).collect::<Vec<_>>(), at(&below_two));
    assert_eq!(s.range(Sample::BY_X, 2.0..).collect::<Vec<_>>(), at(&[6, 2, 3]));
    let bound = [Value::Float(-0.0)];
    let q = s.query::<Sample>().order_by(Sample::BY_X, Order::Asc);
    assert_eq!(q.after(keys[1], &bound).unwrap().keys(), at(&[4, 0, 6, 2, 3]));
    s.check_integrity().unwrap();

    let Some(mut pg) =
        pg::connect("floats_sort_with_negative_zero_equal_to_zero_and_every_nan_last_as_postgres_does")
    else {
        return;
    };
    pg.client
        .batch_execute("CREATE TABLE samples (id INTEGER PRIMARY KEY, x DOUBLE PRECISION NOT NULL)")
        .unwrap();
    for (i, x) in xs.iter().enumerate() {
        (pg.client)
            .execute("INSERT INTO samples VALUES ($1, $2)", &[&(i as i32), x])
            .unwrap();
    }
    let ids = |pg: &mut pg::Pg, filter: &str| -> Vec<usize> {
        let sql = format!("SELECT id FROM samples {filter} ORDER BY x, id");
        let rows = pg.client.query(sql.as_str(), &[]).unwrap();
        rows.iter().map(|r| r.get::<_, i32>(0) as usize).collect()
    };
    assert_eq!(ids(&mut pg, ""), ascending);
    assert_eq!(ids(&mut pg, "WHERE x >= 0.0 AND x <= 0.0"), zeros);
    assert_eq!(ids(&mut pg, "WHERE x < 2.0"), below_two);
}
