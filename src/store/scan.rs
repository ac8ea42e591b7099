//! Ordered reads: range and prefix scans over an index, in index order (values, then key).
//!
//! An `ordered` index answers them in O(log n + k); any other index by a pass over the table
//! and a sort of the hits, O(n + k log k), with the same results.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::marker::PhantomData;
use std::ops::{Bound, RangeBounds};

use crate::entity::{Entity, Index};
use crate::index::ordered::Run;
use crate::key::{Key, RawKey};
use crate::store::table::{has_null, order_cmp, prefix_cmp, Table};
use crate::store::Store;
use crate::value::{Composite, QueryValue, Value};

/// Records in index order, from either end: see [`Store::range`]. Ties (equal values) are in
/// key order; [`rev`](Iterator::rev) reverses the whole order.
#[derive(Clone, Debug)]
pub struct Scan<'s, E> {
    keys: Keys<'s>,
    _entity: PhantomData<fn() -> E>,
}

#[derive(Clone, Debug)]
enum Keys<'s> {
    /// Straight from an ordered index.
    Index(Run<'s>),
    /// Collected and sorted (an index that is not ordered).
    Sorted(std::vec::IntoIter<RawKey>),
}

impl<E> Iterator for Scan<'_, E> {
    type Item = Key<E>;

    fn next(&mut self) -> Option<Key<E>> {
        let raw = match &mut self.keys {
            Keys::Index(run) => run.next(),
            Keys::Sorted(keys) => keys.next(),
        };
        raw.map(Key::from_raw)
    }
}

impl<E> DoubleEndedIterator for Scan<'_, E> {
    fn next_back(&mut self) -> Option<Key<E>> {
        let raw = match &mut self.keys {
            Keys::Index(run) => run.next_back(),
            Keys::Sorted(keys) => keys.next_back(),
        };
        raw.map(Key::from_raw)
    }
}

impl<'s, E> Scan<'s, E> {
    fn new(keys: Keys<'s>) -> Self {
        Scan {
            keys,
            _entity: PhantomData,
        }
    }

    fn empty() -> Self {
        Scan::new(Keys::Sorted(Vec::new().into_iter()))
    }
}

/// Calls `f` with a bound on a single value as a bound on a one-value prefix.
pub(crate) fn with_bound<Q: QueryValue + ?Sized, R>(
    b: Bound<&Q>,
    f: impl FnOnce(Bound<&[Value<'_>]>) -> R,
) -> R {
    match b {
        Bound::Included(q) => q.with_query_value(|v| f(Bound::Included(&[v]))),
        Bound::Excluded(q) => q.with_query_value(|v| f(Bound::Excluded(&[v]))),
        Bound::Unbounded => f(Bound::Unbounded),
    }
}

/// Whether something between `lower` and `upper` (prefixes): `cmp` compares it with one.
pub(crate) fn within(
    cmp: impl Fn(&[Value<'_>]) -> Ordering,
    lower: Bound<&[Value<'_>]>,
    upper: Bound<&[Value<'_>]>,
) -> bool {
    let low = match lower {
        Bound::Included(b) => cmp(b).is_ge(),
        Bound::Excluded(b) => cmp(b).is_gt(),
        Bound::Unbounded => true,
    };
    low && match upper {
        Bound::Included(b) => cmp(b).is_le(),
        Bound::Excluded(b) => cmp(b).is_lt(),
        Bound::Unbounded => true,
    }
}

impl Store {
    /// The records whose value under the single-column index `by` lies in `range`, in index
    /// order: ascending values, ties in key order; `.rev()` for descending. Records with a
    /// NULL value are never in a range (SQL: `NULL BETWEEN a AND b` is not true).
    ///
    /// Cost: O(log n) to start and O(1) per record for an `index(ordered)`; O(n + k log k)
    /// for another index (every record is tested, the hits sorted).
    ///
    /// ```
    /// # use relata::{Entity, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct Order { #[relata(index(ordered))] placed_on: i64 }
    /// let mut s = Store::new(Schema::builder().entity::<Order>().build()?);
    /// let keys: Vec<_> = (0..10).map(|d| s.insert(Order { placed_on: d * 10 })).collect::<Result<_, _>>()?;
    /// assert_eq!(s.range(Order::BY_PLACED_ON, 20..50).collect::<Vec<_>>(), keys[2..5]);
    /// assert_eq!(s.range(Order::BY_PLACED_ON, ..=10).count(), 2);
    /// assert_eq!(s.range(Order::BY_PLACED_ON, 75..).rev().next(), Some(keys[9]));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn range<E: Entity, Q: QueryValue + ?Sized, B: Borrow<Q>>(
        &self,
        by: Index<E, Q>,
        range: impl RangeBounds<B>,
    ) -> Scan<'_, E> {
        let (lower, upper) = (
            range.start_bound().map(Borrow::borrow),
            range.end_bound().map(Borrow::borrow),
        );
        with_bound(lower, |lo| {
            with_bound(upper, |hi| self.scan_index(by.index, lo, hi))
        })
    }

    /// Every record with no NULL value under index `by`, in index order (values, then key);
    /// `.rev()` for descending. (A `..` range would not name its value type.)
    ///
    /// Cost: as [`range`](Self::range).
    ///
    /// ```
    /// # use relata::{Entity, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct Tag { #[relata(index(ordered))] name: String }
    /// let mut s = Store::new(Schema::builder().entity::<Tag>().build()?);
    /// let b = s.insert(Tag { name: "b".into() })?;
    /// let a = s.insert(Tag { name: "a".into() })?;
    /// assert_eq!(s.scan(Tag::BY_NAME).collect::<Vec<_>>(), [a, b]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn scan<E: Entity, Q: ?Sized>(&self, by: Index<E, Q>) -> Scan<'_, E> {
        self.scan_index(by.index, Bound::Unbounded, Bound::Unbounded)
    }

    /// The records of a composite index between two bounds, each a prefix of the index's
    /// columns (a shorter bound compares only the columns it has), in index order.
    /// E.g. on `index(author, created_at, ordered)`, the posts of one author between two
    /// dates: `Included(&[author, t0])` to `Excluded(&[author, t1])`.
    ///
    /// Cost: as [`range`](Self::range).
    ///
    /// ```
    /// # use std::ops::Bound::{Excluded, Included};
    /// # use relata::{Entity, Key, Schema, Store, Value};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct User { #[relata(unique)] name: String }
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// #[relata(index(author, at, ordered))]
    /// struct Post { author: Key<User>, at: i64 }
    /// let mut s = Store::new(Schema::builder().entity::<User>().entity::<Post>().build()?);
    /// let ann = s.insert(User { name: "ann".into() })?;
    /// let posts: Vec<_> = (0..5).map(|at| s.insert(Post { author: ann, at })).collect::<Result<_, _>>()?;
    /// let (lo, hi) = ([ann.into(), Value::Int(1)], [ann.into(), Value::Int(3)]);
    /// let got: Vec<_> = s.range_values(Post::BY_AUTHOR_AT, Included(&lo[..]), Excluded(&hi[..])).collect();
    /// assert_eq!(got, posts[1..3]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn range_values<E: Entity>(
        &self,
        by: Index<E, Composite>,
        lower: Bound<&[Value<'_>]>,
        upper: Bound<&[Value<'_>]>,
    ) -> Scan<'_, E> {
        self.scan_index(by.index, lower, upper)
    }

    /// The records of a composite index whose leading columns equal `prefix`, in index order
    /// (by the remaining columns, then key); `.rev()` for descending. E.g. the newest posts of
    /// an author on `index(author, created_at, ordered)`.
    ///
    /// Cost: as [`range`](Self::range).
    ///
    /// ```
    /// # use relata::{Entity, Key, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct User { #[relata(unique)] name: String }
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// #[relata(index(author, at, ordered))]
    /// struct Post { author: Key<User>, at: i64 }
    /// let mut s = Store::new(Schema::builder().entity::<User>().entity::<Post>().build()?);
    /// let (ann, bob) = (s.insert(User { name: "ann".into() })?, s.insert(User { name: "bob".into() })?);
    /// let old = s.insert(Post { author: ann, at: 1 })?;
    /// s.insert(Post { author: bob, at: 2 })?;
    /// let new = s.insert(Post { author: ann, at: 3 })?;
    /// let newest: Vec<_> = s.prefix(Post::BY_AUTHOR_AT, &[ann.into()]).rev().take(10).collect();
    /// assert_eq!(newest, [new, old]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn prefix<E: Entity>(&self, by: Index<E, Composite>, prefix: &[Value<'_>]) -> Scan<'_, E> {
        self.scan_index(by.index, Bound::Included(prefix), Bound::Included(prefix))
    }

    fn scan_index<E: Entity>(
        &self,
        x: usize,
        lower: Bound<&[Value<'_>]>,
        upper: Bound<&[Value<'_>]>,
    ) -> Scan<'_, E> {
        let Ok(table) = self.table::<E>() else {
            return Scan::empty();
        };
        match table.scan(x, lower, upper) {
            Some(run) => Scan::new(Keys::Index(run)),
            None => Scan::new(Keys::Sorted(sorted_hits(table, x, lower, upper).into_iter())),
        }
    }
}

/// Without an ordered index: every record in the bounds, sorted. O(n + k log k).
fn sorted_hits<E: Entity>(
    t: &Table<E>,
    x: usize,
    lower: Bound<&[Value<'_>]>,
    upper: Bound<&[Value<'_>]>,
) -> Vec<RawKey> {
    let Some(def) = E::DEF.indexes.get(x) else {
        return Vec::new();
    };
    let within = |row: &E::Row| within(|b| prefix_cmp::<E>(row, &t.text, def.fields, b), lower, upper);
    let mut hits: Vec<(RawKey, &E::Row)> = t
        .rows
        .iter()
        .filter(|(_, row)| !has_null::<E>(row, &t.text, def.fields) && within(row))
        .collect();
    hits.sort_unstable_by(|a, b| order_cmp::<E>(&t.text, def.fields, *a, *b));
    hits.into_iter().map(|(k, _)| k).collect()
}
