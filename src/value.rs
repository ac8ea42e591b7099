//! Dynamically typed column values: what unique indexes hash, what errors quote, what the
//! DDL export and diffs read.

use std::fmt;
use std::hash::{Hash, Hasher};

use crate::key::{Key, RawKey};

/// One column value of one record, borrowed from the store.
///
/// The composite reads (`find_unique_values`, `find_by_values`, `range_values`, `prefix`,
/// `Sorted::after`) take values in this form, as the store holds them. `Value::from` (or
/// `.into()`) converts every type whose stored form the value itself gives: `bool`, every
/// integer and float width, `&str` and `&String`, a [`Key`], the timestamps and dates of
/// the `chrono` and `time` features (stored as their microseconds or days since 1970, as
/// `Value::Int`), and an enum with `#[derive(Column)]` (its name as `Value::Text`, or with
/// `integer` its discriminant as `Value::Int`). A type stored as text it does not hold (a
/// `uuid::Uuid`, a `rust_decimal::Decimal`, a `serde_json::Value`, a newtype over `String`)
/// has no `From`: give its text, `Value::Text(&id.hyphenated().to_string())` for a UUID, or
/// call [`QueryValue::with_query_value`], which converts any column type for a closure.
///
/// ```
/// # #[cfg(feature = "chrono")] {
/// use chrono::{DateTime, Utc};
/// use relata::{Column, Entity, Key, Schema, Store, Value};
///
/// #[derive(Column, Clone, Copy, Debug, PartialEq)]
/// enum Kind { Note, Task }
/// #[derive(Entity, Clone, Debug, PartialEq)]
/// #[relata(index(kind, due, ordered))]
/// struct Item { kind: Kind, due: DateTime<Utc>, done: bool }
///
/// let mut s = Store::new(Schema::builder().entity::<Item>().build()?);
/// let at = |secs| DateTime::from_timestamp(secs, 0).unwrap();
/// let first = s.insert(Item { kind: Kind::Task, due: at(100), done: false })?;
/// s.insert(Item { kind: Kind::Task, due: at(300), done: true })?;
/// s.insert(Item { kind: Kind::Note, due: at(200), done: false })?;
/// let (task, before) = ([Kind::Task.into()], [Kind::Task.into(), at(250).into()]);
/// let due: Vec<_> = s.range_values(Item::BY_KIND_DUE, std::ops::Bound::Included(&task[..]),
///     std::ops::Bound::Excluded(&before[..]))?.collect();
/// assert_eq!(due, [first]);
/// assert_eq!(Value::from(7i32), Value::Int(7));
/// # }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub enum Value<'a> {
    /// SQL NULL: an absent optional value. Never equal to anything in a unique index.
    Null,
    /// A boolean.
    Bool(bool),
    /// A signed integer (all signed widths widen to `i64`).
    Int(i64),
    /// An unsigned integer (all unsigned widths widen to `u64`).
    UInt(u64),
    /// A float, compared numerically (`-0.0 == 0.0`; all NaNs are one value).
    Float(f64),
    /// Text.
    Text(&'a str),
    /// An exact decimal number in its text form (`-12.50`: an optional `-`, digits, an
    /// optional `.` and digits), compared by value as SQL's NUMERIC is: `1.5` equals `1.50`,
    /// and `9` sorts before `10`. A `rust_decimal::Decimal` column's value.
    Numeric(&'a str),
    /// Bytes.
    Bytes(&'a [u8]),
    /// A reference to another record.
    Key(RawKey),
}

impl Value<'_> {
    /// `true` for [`Value::Null`]. O(1).
    ///
    /// ```
    /// # use relata::Value;
    /// assert!(Value::Null.is_null());
    /// assert!(!Value::Int(0).is_null());
    /// ```
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// Numbers compare by value, as in SQL: `Int(1)`, `UInt(1)` and `Float(1.0)` are one value.
    fn number(&self) -> Option<Number> {
        match *self {
            Value::Int(i) => Some(Number::Int(i128::from(i))),
            Value::UInt(u) => Some(Number::Int(i128::from(u))),
            Value::Float(f) if f.fract() == 0.0 && f.abs() < 1e38 => Some(Number::Int(f as i128)),
            Value::Float(f) => Some(Number::Float(float_bits(f))),
            _ => None,
        }
    }

    fn tag(&self) -> u8 {
        match self {
            Value::Null => 0,
            Value::Bool(_) => 1,
            Value::Int(_) | Value::UInt(_) | Value::Float(_) => 2,
            Value::Text(_) => 5,
            Value::Bytes(_) => 6,
            Value::Key(_) => 7,
            Value::Numeric(_) => 8,
        }
    }
}

impl Value<'_> {
    /// A total order in SQLite's spirit: NULL first, then numbers, decimals, text, bytes,
    /// keys. Within a kind, the natural order, consistent with `==`: numbers by exact value
    /// across integers and floats, `-0.0` equal to `0.0`, every NaN one value above every
    /// number (as PostgreSQL orders `float8`; SQLite stores a NaN as NULL).
    ///
    /// ```
    /// # use relata::Value;
    /// use std::cmp::Ordering::*;
    /// assert_eq!(Value::Float(-0.0).sql_cmp(&Value::Float(0.0)), Equal);
    /// assert_eq!(Value::Float(f64::NAN).sql_cmp(&Value::Float(f64::INFINITY)), Greater);
    /// assert_eq!(Value::Int((1 << 53) + 1).sql_cmp(&Value::Float((1u64 << 53) as f64)), Greater);
    /// assert_eq!(Value::Null.sql_cmp(&Value::Int(i64::MIN)), Less);
    /// ```
    ///
    /// O(1), or O(length) for text, bytes and decimals.
    pub fn sql_cmp(&self, other: &Value<'_>) -> std::cmp::Ordering {
        match (self, other) {
            (Value::Int(a), Value::Int(b)) => a.cmp(b),
            (Value::UInt(a), Value::UInt(b)) => a.cmp(b),
            (Value::Text(a), Value::Text(b)) => a.cmp(b),
            (Value::Numeric(a), Value::Numeric(b)) => numeric_cmp(a, b),
            (Value::Bytes(a), Value::Bytes(b)) => a.cmp(b),
            (Value::Key(a), Value::Key(b)) => a.cmp(b),
            (a, b) => mixed_cmp(a, b),
        }
    }
}

/// [`Value::sql_cmp`] of two values not of one plain kind: floats, numbers of two kinds,
/// NULL, values of two kinds. Out of line, so the common arms stay small where they are
/// inlined (an ordered index's comparisons).
#[inline(never)]
fn mixed_cmp(a: &Value<'_>, b: &Value<'_>) -> std::cmp::Ordering {
    let rank = |v: &Value<'_>| match v {
        Value::Null => 0,
        Value::Bool(_) | Value::Int(_) | Value::UInt(_) | Value::Float(_) => 1,
        Value::Numeric(_) => 2,
        Value::Text(_) => 3,
        Value::Bytes(_) => 4,
        Value::Key(_) => 5,
    };
    match (Ordinal::of(a), Ordinal::of(b)) {
        (Some(x), Some(y)) => x.cmp(y),
        _ => rank(a).cmp(&rank(b)),
    }
}

/// A number as [`Value::sql_cmp`] orders it: an integer (a bool is 0 or 1) or a float.
#[derive(Clone, Copy)]
enum Ordinal {
    Int(i128),
    Float(f64),
}

impl Ordinal {
    fn of(v: &Value<'_>) -> Option<Ordinal> {
        match *v {
            Value::Bool(b) => Some(Ordinal::Int(i128::from(b))),
            Value::Int(i) => Some(Ordinal::Int(i128::from(i))),
            Value::UInt(u) => Some(Ordinal::Int(i128::from(u))),
            Value::Float(f) => Some(Ordinal::Float(f)),
            _ => None,
        }
    }

    fn cmp(self, other: Ordinal) -> std::cmp::Ordering {
        use std::cmp::Ordering;
        match (self, other) {
            (Ordinal::Int(a), Ordinal::Int(b)) => a.cmp(&b),
            (Ordinal::Float(a), Ordinal::Float(b)) => match (a.is_nan(), b.is_nan()) {
                (false, false) => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
                (x, y) => x.cmp(&y),
            },
            (Ordinal::Int(i), Ordinal::Float(f)) => int_float_cmp(i, f),
            (Ordinal::Float(f), Ordinal::Int(i)) => int_float_cmp(i, f).reverse(),
        }
    }
}

/// `i` against `f` exactly (no rounding of `i` to a float); a NaN is above every integer.
fn int_float_cmp(i: i128, f: f64) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    if f.is_nan() {
        return Ordering::Less;
    }
    // Saturating: an infinity or a float beyond i128 lands past every i64 and u64.
    let whole = f.trunc();
    let by_fraction = match f.partial_cmp(&whole) {
        Some(Ordering::Greater) => Ordering::Less,
        Some(Ordering::Less) => Ordering::Greater,
        _ => Ordering::Equal,
    };
    i.cmp(&(whole as i128)).then(by_fraction)
}

impl PartialEq for Value<'_> {
    fn eq(&self, other: &Self) -> bool {
        // Text and keys first: the kinds unique indexes compare most.
        match (self, other) {
            (Value::Text(a), Value::Text(b)) => a == b,
            (Value::Key(a), Value::Key(b)) => a == b,
            (Value::Null, Value::Null) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Numeric(a), Value::Numeric(b)) => DecimalText::of(a) == DecimalText::of(b),
            (Value::Bytes(a), Value::Bytes(b)) => a == b,
            (a, b) => match (a.number(), b.number()) {
                (Some(x), Some(y)) => x == y,
                _ => false,
            },
        }
    }
}
impl Eq for Value<'_> {}

impl Hash for Value<'_> {
    fn hash<H: Hasher>(&self, h: &mut H) {
        h.write_u8(self.tag());
        match self {
            Value::Null => {}
            Value::Bool(b) => h.write_u8(*b as u8),
            Value::Int(_) | Value::UInt(_) | Value::Float(_) => self.number().hash(h),
            Value::Text(s) => s.hash(h),
            Value::Numeric(s) => DecimalText::of(s).hash(h),
            Value::Bytes(b) => b.hash(h),
            Value::Key(k) => k.hash(h),
        }
    }
}

/// Two decimal texts by value; out of line, so the comparisons of the other kinds, which
/// ordered indexes run in their inner loops, stay small enough to inline.
#[inline(never)]
fn numeric_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    DecimalText::of(a).cmp(&DecimalText::of(b))
}

/// A decimal text's value, for equality, hashing and order: its sign and its digits without
/// leading zeros before the point or trailing zeros after it (zero has no sign). Text that
/// is not a decimal is compared as it is, after every decimal.
#[derive(PartialEq, Eq, Hash)]
enum DecimalText<'a> {
    Negative { int: &'a str, frac: &'a str },
    Zero,
    Positive { int: &'a str, frac: &'a str },
    Other(&'a str),
}

impl<'a> DecimalText<'a> {
    fn of(s: &'a str) -> DecimalText<'a> {
        let (negative, digits) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
        let is_digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
        if int.is_empty() || !is_digits(int) || !is_digits(frac) {
            return DecimalText::Other(s);
        }
        let (int, frac) = (int.trim_start_matches('0'), frac.trim_end_matches('0'));
        match (int.is_empty() && frac.is_empty(), negative) {
            (true, _) => DecimalText::Zero,
            (false, true) => DecimalText::Negative { int, frac },
            (false, false) => DecimalText::Positive { int, frac },
        }
    }

    /// The magnitude's order: more integer digits is larger, then digit by digit.
    fn magnitude(a: (&str, &str), b: (&str, &str)) -> std::cmp::Ordering {
        (a.0.len().cmp(&b.0.len())).then(a.0.cmp(b.0)).then(a.1.cmp(b.1))
    }
}

impl Ord for DecimalText<'_> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        use DecimalText::*;
        let rank = |d: &DecimalText<'_>| match d {
            Negative { .. } => 0,
            Zero => 1,
            Positive { .. } => 2,
            Other(_) => 3,
        };
        match (self, other) {
            (Negative { int, frac }, Negative { int: i, frac: f }) => {
                DecimalText::magnitude((i, f), (int, frac))
            }
            (Positive { int, frac }, Positive { int: i, frac: f }) => {
                DecimalText::magnitude((int, frac), (i, f))
            }
            (Other(a), Other(b)) => a.cmp(b),
            (a, b) => rank(a).cmp(&rank(b)),
        }
    }
}

impl PartialOrd for DecimalText<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// A number's identity for equality and hashing.
#[derive(PartialEq, Eq, Hash)]
enum Number {
    Int(i128),
    Float(u64),
}

/// PostgreSQL's float input and output spelling of the floats JSON has no number for:
/// `"NaN"`, `"Infinity"`, `"-Infinity"`; `None` for a finite float. `to_json` writes them,
/// the fixture loader reads them back ([`float_of_word`]).
pub(crate) fn float_word(f: f64) -> Option<&'static str> {
    match f {
        _ if f.is_nan() => Some("NaN"),
        f64::INFINITY => Some("Infinity"),
        f64::NEG_INFINITY => Some("-Infinity"),
        _ => None,
    }
}

/// The float [`float_word`] spells `word`, if it spells one (exactly: no other case).
pub(crate) fn float_of_word(word: &str) -> Option<f64> {
    [f64::NAN, f64::INFINITY, f64::NEG_INFINITY]
        .into_iter()
        .find(|&f| float_word(f) == Some(word))
}

/// The bits a float is compared and hashed by: SQL compares REAL values numerically, so `-0.0`
/// equals `0.0`; every NaN is one value (PostgreSQL's rule; SQLite stores NaN as NULL).
fn float_bits(f: f64) -> u64 {
    if f == 0.0 {
        0.0f64.to_bits()
    } else if f.is_nan() {
        f64::NAN.to_bits()
    } else {
        f.to_bits()
    }
}

/// The longest text an error message quotes in full; longer values are cut with their length.
const QUOTE_LIMIT: usize = 64;

impl fmt::Display for Value<'_> {
    /// SQL-literal style: `'alice'`, `42`, `NULL`; long text is shortened with its byte length.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("NULL"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::UInt(u) => write!(f, "{u}"),
            Value::Float(x) => write!(f, "{x}"),
            Value::Text(s) | Value::Numeric(s) => quote_text(f, s, s.len()),
            Value::Bytes(b) => quote_bytes(f, b, b.len()),
            Value::Key(k) => write!(f, "{k}"),
        }
    }
}

/// The prefix of `s` a message quotes: all of it up to [`QUOTE_LIMIT`] bytes, else the
/// longest prefix within the limit that ends on a char boundary.
pub(crate) fn quoted_prefix(s: &str) -> &str {
    if s.len() <= QUOTE_LIMIT {
        return s;
    }
    let mut cut = QUOTE_LIMIT;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    &s[..cut]
}

/// The prefix of `b` a message quotes (as hex).
pub(crate) fn quoted_bytes_prefix(b: &[u8]) -> &[u8] {
    &b[..b.len().min(QUOTE_LIMIT / 2)]
}

/// Text of `len` bytes as a message quotes it, from `s`: the text itself or at least its
/// [`quoted_prefix`]. `'alice'`; beyond the limit `'ab...' (200 bytes)`.
pub(crate) fn quote_text(f: &mut fmt::Formatter<'_>, s: &str, len: usize) -> fmt::Result {
    if len <= QUOTE_LIMIT {
        return quoted(f, s, "'");
    }
    quoted(f, quoted_prefix(s), "...'")?;
    write!(f, " ({len} bytes)")
}

/// Bytes, `len` of them, as a message quotes them, from `b`: the bytes themselves or at least
/// their [`quoted_bytes_prefix`]. `x'0aff'`; beyond the limit `x'0aff...' (200 bytes)`.
pub(crate) fn quote_bytes(f: &mut fmt::Formatter<'_>, b: &[u8], len: usize) -> fmt::Result {
    f.write_str("x'")?;
    for byte in quoted_bytes_prefix(b) {
        write!(f, "{byte:02x}")?;
    }
    if len > QUOTE_LIMIT / 2 {
        write!(f, "...' ({len} bytes)")
    } else {
        f.write_str("'")
    }
}

/// `s` as an SQL literal's body, each `'` doubled, between `'` and `end`; written in pieces,
/// with no copy of `s` (an error message is built on every refused write).
fn quoted(f: &mut fmt::Formatter<'_>, s: &str, end: &str) -> fmt::Result {
    f.write_str("'")?;
    let mut pieces = s.split('\'');
    if let Some(first) = pieces.next() {
        f.write_str(first)?;
    }
    for piece in pieces {
        f.write_str("''")?;
        f.write_str(piece)?;
    }
    f.write_str(end)
}

impl<'a> From<&'a str> for Value<'a> {
    fn from(s: &'a str) -> Self {
        Value::Text(s)
    }
}
impl<'a> From<&'a String> for Value<'a> {
    fn from(s: &'a String) -> Self {
        Value::Text(s)
    }
}
impl<T> From<Key<T>> for Value<'_> {
    fn from(k: Key<T>) -> Self {
        Value::Key(k.raw())
    }
}
/// Each number as the store compares it: every signed width as [`Value::Int`], every
/// unsigned width as [`Value::UInt`], both float widths as [`Value::Float`].
macro_rules! value_from_number {
    ($variant:ident, $wide:ty: $($t:ty),*) => {$(
        impl From<$t> for Value<'_> {
            fn from(n: $t) -> Self {
                Value::$variant(<$wide>::from(n))
            }
        }
    )*};
}
value_from_number!(Int, i64: i8, i16, i32, i64);
value_from_number!(UInt, u64: u8, u16, u32, u64);
value_from_number!(Float, f64: f32, f64);
impl From<bool> for Value<'_> {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

/// The SQL type a column maps to in DDL and differential tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SqlType {
    /// A boolean: PostgreSQL BOOLEAN (SQLite: INTEGER, 0 or 1).
    Boolean,
    /// A 16-bit integer (`i8`, `i16`, `u8`): PostgreSQL SMALLINT (SQLite: INTEGER).
    Integer16,
    /// A 32-bit integer (`i32`, `u16`): PostgreSQL INTEGER (SQLite: INTEGER).
    Integer32,
    /// A 64-bit integer (`i64`, `u32`, `u64`, and keys): PostgreSQL BIGINT (SQLite: INTEGER).
    /// A `u64` above `i64::MAX` fits neither.
    Integer,
    /// A 32-bit float (`f32`): PostgreSQL REAL (SQLite: REAL).
    Real32,
    /// A 64-bit float (`f64`): PostgreSQL DOUBLE PRECISION (SQLite: REAL).
    Real,
    /// TEXT.
    Text,
    /// BLOB (PostgreSQL BYTEA).
    Blob,
    /// A point in time, time zone aware: PostgreSQL TIMESTAMPTZ (SQLite: INTEGER, relata's
    /// microseconds since 1970-01-01 UTC).
    TimestampTz,
    /// A date and time without time zone: PostgreSQL TIMESTAMP (SQLite: INTEGER microseconds).
    Timestamp,
    /// A calendar date: DATE (SQLite: INTEGER days since 1970-01-01).
    Date,
    /// A UUID: PostgreSQL UUID (SQLite: TEXT, hyphenated lower case).
    Uuid,
    /// An exact decimal number: PostgreSQL NUMERIC (SQLite: TEXT, as SQLite's NUMERIC would
    /// round it to a float).
    Numeric,
    /// A JSON document: PostgreSQL JSONB (SQLite: TEXT, canonical JSON).
    Json,
    /// Any other type, named per dialect (a PostgreSQL enum type, `INET`, ...).
    Custom {
        /// The SQLite type name.
        sqlite: &'static str,
        /// The PostgreSQL type name.
        postgres: &'static str,
    },
}

/// Marker query type of composite (multi-column) unique constraints and indexes: look them up
/// with a slice of [`Value`]s, one per column, in declaration order.
#[derive(Debug)]
pub enum Composite {}

/// A Rust value that can be looked up in a single-column unique constraint or index.
pub trait QueryValue {
    /// Calls `f` with the value as the store compares it (a value converted to its
    /// representation for the call, for an [`AsColumn`](crate::AsColumn) type).
    fn with_query_value<R>(&self, f: impl FnOnce(Value<'_>) -> R) -> R;
}

impl QueryValue for str {
    fn with_query_value<R>(&self, f: impl FnOnce(Value<'_>) -> R) -> R {
        f(Value::Text(self))
    }
}
impl QueryValue for [u8] {
    fn with_query_value<R>(&self, f: impl FnOnce(Value<'_>) -> R) -> R {
        f(Value::Bytes(self))
    }
}
impl QueryValue for bool {
    fn with_query_value<R>(&self, f: impl FnOnce(Value<'_>) -> R) -> R {
        f(Value::Bool(*self))
    }
}
impl<T> QueryValue for Key<T> {
    fn with_query_value<R>(&self, f: impl FnOnce(Value<'_>) -> R) -> R {
        f(Value::Key(self.raw()))
    }
}
impl QueryValue for f64 {
    fn with_query_value<R>(&self, f: impl FnOnce(Value<'_>) -> R) -> R {
        f(Value::Float(*self))
    }
}
impl QueryValue for f32 {
    fn with_query_value<R>(&self, f: impl FnOnce(Value<'_>) -> R) -> R {
        f(Value::Float(f64::from(*self)))
    }
}

macro_rules! query_ints {
    ($variant:ident, $wide:ty: $($t:ty),*) => {$(
        impl QueryValue for $t {
            fn with_query_value<R>(&self, f: impl FnOnce(Value<'_>) -> R) -> R {
                f(Value::$variant(<$wide>::from(*self)))
            }
        }
    )*};
}
query_ints!(Int, i64: i8, i16, i32, i64);
query_ints!(UInt, u64: u8, u16, u32, u64);
impl QueryValue for String {
    fn with_query_value<R>(&self, f: impl FnOnce(Value<'_>) -> R) -> R {
        f(Value::Text(self))
    }
}
impl QueryValue for Vec<u8> {
    fn with_query_value<R>(&self, f: impl FnOnce(Value<'_>) -> R) -> R {
        f(Value::Bytes(self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_text_compares_by_value() {
        use std::cmp::Ordering::*;
        let n = Value::Numeric;
        let hash = |v: &Value<'_>| {
            let mut h = std::hash::DefaultHasher::new();
            v.hash(&mut h);
            h.finish()
        };
        for (a, b) in [("1.5", "1.50"), ("0", "-0.00"), ("007", "7.0"), ("-2.10", "-2.1")] {
            assert!(n(a) == n(b) && n(a).sql_cmp(&n(b)) == Equal, "{a} {b}");
            assert_eq!(hash(&n(a)), hash(&n(b)), "{a} {b}");
        }
        let sorted = [
            "-10", "-9.5", "-9.25", "-0.5", "0", "0.05", "0.5", "0.51", "9", "10", "10.01",
        ];
        for pair in sorted.windows(2) {
            assert_eq!(n(pair[0]).sql_cmp(&n(pair[1])), Less, "{pair:?}");
            assert_eq!(n(pair[1]).sql_cmp(&n(pair[0])), Greater, "{pair:?}");
            assert!(n(pair[0]) != n(pair[1]));
        }
        assert_eq!(n("1.5").to_string(), "'1.5'");
    }

    #[test]
    fn signed_and_unsigned_integers_compare_exactly() {
        // 2^53 + 1 and 2^53 are one f64: through floats they would compare equal.
        let (big, below) = ((1i64 << 53) + 1, 1u64 << 53);
        assert_eq!(
            Value::Int(big).sql_cmp(&Value::UInt(below)),
            std::cmp::Ordering::Greater
        );
        assert_eq!(
            Value::UInt(below).sql_cmp(&Value::Int(big)),
            std::cmp::Ordering::Less
        );
        assert_eq!(
            Value::Int(-1).sql_cmp(&Value::UInt(u64::MAX)),
            std::cmp::Ordering::Less
        );
    }

    #[test]
    fn floats_order_as_they_compare_equal() {
        use std::cmp::Ordering::*;
        let f = Value::Float;
        // Equal under `==` (so in a unique index) is equal in order too.
        for (a, b) in [(0.0, -0.0), (f64::NAN, -f64::NAN)] {
            assert!(f(a) == f(b) && f(a).sql_cmp(&f(b)) == Equal, "{a} {b}");
        }
        let sorted = [f64::NEG_INFINITY, -1.0, -0.0, 1.0, f64::INFINITY, -f64::NAN];
        for pair in sorted.windows(2) {
            assert_eq!(f(pair[0]).sql_cmp(&f(pair[1])), Less, "{pair:?}");
            assert_eq!(f(pair[1]).sql_cmp(&f(pair[0])), Greater, "{pair:?}");
        }
        assert_eq!(f(-0.0).sql_cmp(&Value::Int(0)), Equal);
    }

    #[test]
    fn text_is_shown_as_an_sql_literal_with_quotes_doubled() {
        assert_eq!(Value::Text("").to_string(), "''");
        assert_eq!(Value::Text("it's").to_string(), "'it''s'");
        assert_eq!(Value::Text("''").to_string(), "''''''");
        let long = "a'".repeat(QUOTE_LIMIT);
        let shown = Value::Text(&long).to_string();
        let body = "a''".repeat(QUOTE_LIMIT / 2);
        assert_eq!(shown, format!("'{body}...' ({} bytes)", long.len()));
    }
}
