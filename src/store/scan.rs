//! Ordered reads: range and prefix scans over an index, in index order (values, then key).
//!
//! An `ordered` index answers them in O(log n + k); any other index by a pass over the table
//! and a sort of the hits, O(n + k log k), with the same results.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::marker::PhantomData;
use std::ops::{Bound, RangeBounds};

use crate::engine::Engine;
use crate::entity::{Entity, FieldDef, Index};
use crate::error::{Error, Part, QuotedValue};
use crate::index::ordered::Run;
use crate::key::{Key, RawKey};
use crate::store::table::{has_null, order_cmp, prefix_cmp, Nulls, Table};
use crate::store::write::check_postgres_text;
use crate::store::Store;
use crate::value::{Composite, QueryValue, SqlType, Value};

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

/// A bound's values, `None` for no bound.
fn bound_values<'b, 'v>(bound: Bound<&'b [Value<'v>]>) -> Option<&'b [Value<'v>]> {
    match bound {
        Bound::Included(values) | Bound::Excluded(values) => Some(values),
        Bound::Unbounded => None,
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
    /// NULL value are never in a range (SQL: `NULL BETWEEN a AND b` is not true). Empty if `E`
    /// is not in the schema.
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
    /// `.rev()` for descending. (A `..` range would not name its value type.) Empty if `E` is
    /// not in the schema.
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
    /// dates: `Included(&[author, t0])` to `Excluded(&[author, t1])`. Each value is of its
    /// column's kind, as the column stores it: a key for a key, a number for a number (a
    /// timestamp is its microseconds: `Value::from(t)`), text for text.
    ///
    /// Cost: as [`range`](Self::range), plus O(values) to check the bounds.
    ///
    /// # Errors
    /// [`Error::ValueType`] for a value not of its column's kind (NULL included: it is in no
    /// range), [`Error::TooManyValues`] for a bound longer than the index,
    /// [`Error::UnknownEntity`] if `E` is not in the schema; under `Engine::Postgres`,
    /// [`Error::NulInText`] / [`Error::NulInJson`] for a value PostgreSQL refuses as a
    /// parameter, and [`Error::TransactionAborted`] in an aborted transaction.
    ///
    /// ```
    /// # use std::ops::Bound::{Excluded, Included};
    /// # use relata::{Entity, Error, Key, Schema, Store, Value};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct User { #[relata(unique)] name: String }
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// #[relata(index(author, at, ordered))]
    /// struct Post { author: Key<User>, at: i64 }
    /// let mut s = Store::new(Schema::builder().entity::<User>().entity::<Post>().build()?);
    /// let ann = s.insert(User { name: "ann".into() })?;
    /// let posts: Vec<_> = (0..5).map(|at| s.insert(Post { author: ann, at })).collect::<Result<_, _>>()?;
    /// let (lo, hi) = ([ann.into(), Value::Int(1)], [ann.into(), Value::Int(3)]);
    /// let got: Vec<_> = s.range_values(Post::BY_AUTHOR_AT, Included(&lo[..]), Excluded(&hi[..]))?.collect();
    /// assert_eq!(got, posts[1..3]);
    /// // A name where the index holds a key is refused, not compared.
    /// let wrong = s.range_values(Post::BY_AUTHOR_AT, Included(&["ann".into()][..]), Excluded(&hi[..]));
    /// assert!(matches!(wrong, Err(Error::ValueType { column: "author_id", .. })));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn range_values<E: Entity>(
        &self,
        by: Index<E, Composite>,
        lower: Bound<&[Value<'_>]>,
        upper: Bound<&[Value<'_>]>,
    ) -> Result<Scan<'_, E>, Error> {
        self.refuse_if_aborted()?;
        let table = self.table::<E>()?;
        let (low, high) = (bound_values(lower), bound_values(upper));
        if let Some(low) = low {
            check_index_values::<E>(self.engine, by.index, low, Given::Bound)?;
        }
        // A prefix is both bounds, the same slice: checked once.
        if let Some(high) = high.filter(|&h| !low.is_some_and(|l| std::ptr::eq(l, h))) {
            check_index_values::<E>(self.engine, by.index, high, Given::Bound)?;
        }
        Ok(scan_table(table, by.index, lower, upper))
    }

    /// The records of a composite index whose leading columns equal `prefix`, in index order
    /// (by the remaining columns, then key); `.rev()` for descending. E.g. the newest posts of
    /// an author on `index(author, created_at, ordered)`. Each value is of its column's kind,
    /// as in [`range_values`](Self::range_values).
    ///
    /// Cost: as [`range`](Self::range), plus O(values) to check the prefix.
    ///
    /// # Errors
    /// As [`range_values`](Self::range_values).
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
    /// let newest: Vec<_> = s.prefix(Post::BY_AUTHOR_AT, &[ann.into()])?.rev().take(10).collect();
    /// assert_eq!(newest, [new, old]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn prefix<E: Entity>(
        &self,
        by: Index<E, Composite>,
        prefix: &[Value<'_>],
    ) -> Result<Scan<'_, E>, Error> {
        self.range_values(by, Bound::Included(prefix), Bound::Included(prefix))
    }

    fn scan_index<E: Entity>(
        &self,
        x: usize,
        lower: Bound<&[Value<'_>]>,
        upper: Bound<&[Value<'_>]>,
    ) -> Scan<'_, E> {
        match self.table::<E>() {
            Ok(table) => scan_table(table, x, lower, upper),
            Err(_) => Scan::empty(),
        }
    }
}

/// The records of index `x` of `table` between the bounds, in index order.
fn scan_table<'s, E: Entity>(
    table: &'s Table<E>,
    x: usize,
    lower: Bound<&[Value<'_>]>,
    upper: Bound<&[Value<'_>]>,
) -> Scan<'s, E> {
    match table.scan(x, lower, upper) {
        Some(run) => Scan::new(Keys::Index(run)),
        None => Scan::new(Keys::Sorted(sorted_hits(table, x, lower, upper).into_iter())),
    }
}

/// How a read uses its values: as range bounds, or as a whole row's values.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Given {
    /// A bound of a range or a prefix: at most one value per column, none NULL (NULL is in
    /// no range).
    Bound,
    /// One value per column, NULL allowed: an equality look-up (where a NULL part matches
    /// nothing, as in SQL) or a keyset cursor (the previous page's last row).
    Row,
}

/// Whether `values` fit index `x` of `E` used as `given` says ([`check_values`]).
/// Inlined with `check_values` (its error built out of line): where the index is a constant
/// (`Post::BY_AUTHOR_CREATED_AT`) and the values a literal slice, the index's definition
/// folds in and the check is a compare or two (out of line, newest_posts paid about 110
/// instructions more: docs/PERFORMANCE.md, "Reads given Values: the check once, inlined").
#[inline(always)]
pub(crate) fn check_index_values<E: Entity>(
    engine: Engine,
    x: usize,
    values: &[Value<'_>],
    given: Given,
) -> Result<(), Error> {
    match E::DEF.indexes.get(x) {
        Some(index) => check_values::<E>(engine, index.name, index.fields, values, given),
        None => Ok(()),
    }
}

/// Whether `values` are one per column of `E`'s unique constraint `u`, each of its kind
/// ([`check_values`], NULL allowed).
pub(crate) fn check_unique_values<E: Entity>(
    engine: Engine,
    u: usize,
    values: &[Value<'_>],
) -> Result<(), Error> {
    match E::DEF.uniques.get(u) {
        Some(unique) => check_values::<E>(engine, unique.name, unique.fields, values, Given::Row),
        None => Ok(()),
    }
}

/// Whether `values` fit the columns `fields` of `E`'s index or unique constraint `name`:
/// no more than its columns (exactly as many for [`Given::Row`]), each of its column's kind
/// ([`fits`]); under `Engine::Postgres` no text PostgreSQL refuses as a parameter too (a NUL
/// byte, 22021; the escape `\u0000` in a `JSONB` column, 22P05: [`check_postgres_text`]).
/// The one check of every read given [`Value`]s. O(values).
#[inline(always)]
fn check_values<E: Entity>(
    engine: Engine,
    name: &'static str,
    fields: &[u16],
    values: &[Value<'_>],
    given: Given,
) -> Result<(), Error> {
    let def = E::DEF;
    if values.len() > fields.len() {
        return Err(Error::TooManyValues {
            table: def.table,
            index: name,
            columns: fields.len(),
            given: values.len(),
        });
    }
    if given == Given::Row && values.len() < fields.len() {
        return Err(Error::TooFewValues {
            table: def.table,
            index: name,
            columns: fields.len(),
            given: values.len(),
        });
    }
    for (&f, value) in fields.iter().zip(values) {
        let Some(field) = def.fields.get(usize::from(f)) else {
            continue;
        };
        let null_allowed = given == Given::Row && value.is_null();
        if !null_allowed && !fits(field, value) {
            return Err(value_type::<E>(name, field, value));
        }
        if let (Engine::Postgres, Value::Text(s)) = (engine, value) {
            check_postgres_text(def.table, field, None, s)?;
        }
    }
    Ok(())
}

/// [`Error::ValueType`]: `value` given for `field` of `E`'s index or constraint `name`.
#[cold]
#[inline(never)]
fn value_type<E: Entity>(name: &'static str, field: &FieldDef, value: &Value<'_>) -> Error {
    Error::ValueType {
        table: E::DEF.table,
        index: name,
        column: field.column,
        expected: match (field.sql_type, value) {
            (SqlType::Text | SqlType::Custom { .. }, Value::Text(_)) => {
                "text its column's type holds (Value::Text: the form the type stores, e.g. a variant's name)"
            }
            _ => expected(field),
        },
        given: kind(value),
        value: Box::new(QuotedValue::one(Part::of(*value))),
    }
}

/// Whether `v` compares with `field`'s values by value: of the kind the field stores (any
/// number with a number), and text in a form its type holds (a UUID in lower case,
/// canonical JSON, a decimal as it prints, an enum's variant name: another would match
/// nothing). NULL fits nothing: SQL's `x >= NULL` is never true.
#[inline(always)]
fn fits(field: &FieldDef, v: &Value<'_>) -> bool {
    use crate::column::Stored as S;
    let of_kind = match (field.stored, v) {
        (S::Bool, Value::Bool(_)) => true,
        (
            S::I8 | S::I16 | S::I32 | S::I64 | S::U8 | S::U16 | S::U32 | S::U64 | S::F32 | S::F64,
            Value::Int(_) | Value::UInt(_) | Value::Float(_),
        ) => true,
        (S::Text, Value::Numeric(_)) => field.sql_type == SqlType::Numeric,
        (S::Text, Value::Text(_)) => field.sql_type != SqlType::Numeric,
        (S::Bytes, Value::Bytes(_)) | (S::Key, Value::Key(_)) => true,
        _ => false,
    };
    of_kind && (!matches!(v, Value::Text(_) | Value::Numeric(_)) || (field.holds)(*v))
}

/// What `field` holds, as [`Error::ValueType`] names it.
fn expected(field: &FieldDef) -> &'static str {
    use crate::column::Stored as S;
    match (field.stored, field.sql_type) {
        (S::Bool, _) => "booleans (Value::Bool)",
        (_, SqlType::TimestampTz | SqlType::Timestamp) => {
            "timestamps as microseconds since 1970-01-01 (Value::Int: Value::from(time))"
        }
        (_, SqlType::Date) => "dates as days since 1970-01-01 (Value::Int: Value::from(date))",
        (S::Text, SqlType::Numeric) => "decimals (Value::Numeric)",
        (S::Text, SqlType::Uuid) => "UUIDs as hyphenated lower-case text (Value::Text)",
        (S::Text, SqlType::Json) => "JSON as canonical text (Value::Text)",
        (S::Text, _) => "text (Value::Text)",
        (S::Bytes, _) => "bytes (Value::Bytes)",
        (S::Key, _) => "keys (Value::Key)",
        _ => "numbers (Value::Int, Value::UInt or Value::Float)",
    }
}

/// The kind of `v`, as [`Error::ValueType`] names it.
fn kind(v: &Value<'_>) -> &'static str {
    match v {
        Value::Null => "NULL (Value::Null), which is in no range",
        Value::Bool(_) => "a boolean (Value::Bool)",
        Value::Int(_) => "an integer (Value::Int)",
        Value::UInt(_) => "an integer (Value::UInt)",
        Value::Float(_) => "a float (Value::Float)",
        Value::Text(_) => "text (Value::Text)",
        Value::Numeric(_) => "a decimal (Value::Numeric)",
        Value::Bytes(_) => "bytes (Value::Bytes)",
        Value::Key(_) => "a key (Value::Key)",
    }
}

/// Without an ordered index: every record in the bounds (none with a NULL value, so either
/// [`Nulls`] rule), sorted. O(n + k log k).
fn sorted_hits<E: Entity>(
    t: &Table<E>,
    x: usize,
    lower: Bound<&[Value<'_>]>,
    upper: Bound<&[Value<'_>]>,
) -> Vec<RawKey> {
    let Some(def) = E::DEF.indexes.get(x) else {
        return Vec::new();
    };
    let within = |row: &E::Row| {
        within(
            |b| prefix_cmp::<E>(Nulls::First, row, &t.text, def.fields, b),
            lower,
            upper,
        )
    };
    let mut hits: Vec<(RawKey, &E::Row)> = t
        .rows
        .iter()
        .filter(|(_, row)| !has_null::<E>(row, &t.text, def.fields) && within(row))
        .collect();
    hits.sort_unstable_by(|a, b| order_cmp::<E>(Nulls::First, &t.text, def.fields, *a, *b));
    hits.into_iter().map(|(k, _)| k).collect()
}
