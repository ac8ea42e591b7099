//! How each field type is stored in a record, viewed, and compared.
//!
//! `#[derive(Entity)]` stores every field through [`Column`]: `String` becomes a [`Span`] into
//! the table's [`TextHeap`], a [`Key<T>`] a [`RawKey`], plain scalars themselves. Fields whose
//! type has no `Column` impl are a compile error naming this trait.

use std::any::TypeId;
use std::fmt::Debug;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::entity::{Entity, EntityDef};
use crate::error::Error;
use crate::key::{Key, RawKey};
use crate::text::{Span, Text, TextHeap, TextRead};
use crate::value::{QueryValue, SqlType, Value};

/// A field type relata can store. Implemented for `String`, `Vec<u8>`, `bool`, the integer and
/// float types, [`Key<T>`], every [`AsColumn`] type (your own, and the built-in ones behind
/// cargo features), and `Option` of each.
///
/// Do not implement it directly: implement [`AsColumn`] (or derive it with
/// `#[derive(relata::Column)]`), which maps your type onto one of these.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a relata column type",
    label = "relata cannot store this field",
    note = "implement `relata::AsColumn` for `{Self}`, or `#[derive(relata::Column)]` on a newtype or a field-less enum"
)]
pub trait Column: Sized + 'static {
    /// The compact stored form (private to the store).
    #[doc(hidden)]
    type Stored: Clone + Debug + PartialEq + Send + Sync + Serialize + DeserializeOwned + 'static;
    /// What a read returns: [`Text`] (a lazy `&str`) for `String`, the value itself for
    /// scalars and keys.
    type Ref<'a>: Copy + Debug + PartialEq;
    /// What a look-up by this column takes: `str` for `String`, the type itself otherwise.
    type Query: ?Sized + QueryValue;
    /// The SQL column type.
    const SQL_TYPE: SqlType;
    /// Whether the column may hold NULL (`Option<_>`).
    const NULLABLE: bool;
    /// The stored form (a snapshot describes each field by it).
    #[doc(hidden)]
    const STORED: Stored;

    #[doc(hidden)]
    fn store(self, text: &mut TextHeap) -> Result<Self::Stored, Error>;
    /// Like `store`, but keeps `old`'s storage when the value did not change.
    #[doc(hidden)]
    fn store_reusing(self, _old: &Self::Stored, text: &mut TextHeap) -> Result<Self::Stored, Error> {
        self.store(text)
    }
    #[doc(hidden)]
    fn view<'a>(s: &'a Self::Stored, text: TextRead<'a>) -> Self::Ref<'a>;
    #[doc(hidden)]
    fn load(s: &Self::Stored, text: &TextHeap) -> Self;
    #[doc(hidden)]
    fn value<'a>(s: &'a Self::Stored, text: &'a TextHeap) -> Value<'a>;
    #[doc(hidden)]
    fn for_each_span(_s: &mut Self::Stored, _f: &mut dyn FnMut(&mut Span)) {}
    /// Calls `f` with the value's text span, if it has one.
    #[doc(hidden)]
    fn spans(_s: &Self::Stored, _f: &mut dyn FnMut(Span)) {}
    /// The value as people read it when that differs from its representation (a timestamp
    /// stored as microseconds): errors and diffs quote it as text, JSON writes it as a string.
    #[doc(hidden)]
    fn shown(_s: &Self::Stored, _text: &TextHeap) -> Option<String> {
        None
    }
    /// The value [`value`](Self::value) gives once stored, read from the Rust value itself
    /// (an insert probes its unique constraints before the text is copied); `None` when only
    /// the stored form has it (a type converted on the way in, or quoted differently).
    #[doc(hidden)]
    #[inline]
    fn given(&self) -> Option<Value<'_>> {
        None
    }
    /// The value's own text, moved out and leaving it empty, for a column whose
    /// [`given`](Self::given) value is that text (`String`, `Some(String)`): a refused
    /// insert's error quotes it without a copy. `None` for every other type.
    #[doc(hidden)]
    #[inline]
    fn take_text(&mut self) -> Option<String> {
        None
    }
    /// The value from a JSON fixture (see `Store::insert_json`): the form `to_json` writes.
    #[doc(hidden)]
    fn decode_json(v: &serde_json::Value, cx: &mut JsonCx<'_>) -> Result<Self, JsonBad>;
    /// `true` when [`accepts`](Self::accepts) accepts everything.
    #[doc(hidden)]
    const ACCEPTS_ALL: bool = true;
    /// `true` for an `Option` of a nullable type (`Option<Option<T>>`), which
    /// `#[derive(Entity)]` refuses: a column has one NULL, so `Some(None)` has no stored,
    /// snapshot, JSON or SQL form apart from `None`.
    #[doc(hidden)]
    const NESTED_NULL: bool = false;
    /// Whether a stored value (read from a snapshot) is one this type can hold.
    #[doc(hidden)]
    fn accepts(_s: &Self::Stored, _text: &TextHeap) -> bool {
        true
    }
    /// The borrowed form of a query's text value, for a type stored as text. Not API.
    #[doc(hidden)]
    fn text_ref(_v: Value<'_>) -> Option<Self::Ref<'_>> {
        None
    }
    /// Whether a query's value of this column's kind is one the type can hold (a text
    /// value's form, as [`accepts`](Self::accepts) checks a stored one): a UUID in lower
    /// case, canonical JSON, an enum's variant name. Every value a type is given as holds.
    #[doc(hidden)]
    fn holds(_v: Value<'_>) -> bool {
        true
    }
}

/// The stored form of a column (`Option` aside, which is `nullable`): what a snapshot
/// describes each field by, so a change of width or kind (`i32` to `i64`, `f32` to `f64`) is
/// seen. Not API.
#[doc(hidden)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Stored {
    Bool,
    I8,
    I16,
    I32,
    I64,
    U8,
    U16,
    U32,
    U64,
    F32,
    F64,
    /// A text span.
    Text,
    Bytes,
    Key,
}

/// A column that references another entity: `Key<T>` (required, NOT NULL) or
/// `Option<Key<T>>` (optional). Every such field of an entity is a foreign key.
pub trait KeyColumn: Column {
    /// The referenced (parent) entity type.
    type Target: Entity;
    #[doc(hidden)]
    fn raw(s: &Self::Stored) -> Option<RawKey>;
    /// Writes the key; returns `false` (and changes nothing) for `None` on a required key.
    #[doc(hidden)]
    fn set_raw(s: &mut Self::Stored, to: Option<RawKey>) -> bool;
    #[doc(hidden)]
    fn target_def() -> &'static EntityDef {
        Self::Target::DEF
    }
    #[doc(hidden)]
    fn target_type() -> TypeId {
        TypeId::of::<Self::Target>()
    }
}

impl Column for String {
    type Stored = Span;
    type Ref<'a> = Text<'a>;
    type Query = str;
    const SQL_TYPE: SqlType = SqlType::Text;
    const NULLABLE: bool = false;
    const STORED: Stored = Stored::Text;

    fn store(self, text: &mut TextHeap) -> Result<Span, Error> {
        text.push_str(&self)
    }
    #[inline]
    fn given(&self) -> Option<Value<'_>> {
        Some(Value::Text(self))
    }
    #[inline]
    fn take_text(&mut self) -> Option<String> {
        Some(std::mem::take(self))
    }
    fn store_reusing(self, old: &Span, text: &mut TextHeap) -> Result<Span, Error> {
        if text.str(*old) == self {
            Ok(*old)
        } else {
            text.push_str(&self)
        }
    }
    fn view<'a>(s: &'a Span, text: TextRead<'a>) -> Text<'a> {
        text.text(*s)
    }
    fn load(s: &Span, text: &TextHeap) -> String {
        text.str(*s).to_owned()
    }
    fn value<'a>(s: &'a Span, text: &'a TextHeap) -> Value<'a> {
        Value::Text(text.str(*s))
    }
    fn decode_json(v: &serde_json::Value, _: &mut JsonCx<'_>) -> Result<String, JsonBad> {
        v.as_str().map(str::to_owned).ok_or(JsonBad::Expected("a string"))
    }
    fn text_ref(v: Value<'_>) -> Option<Text<'_>> {
        match v {
            Value::Text(s) | Value::Numeric(s) => {
                let len = u32::try_from(s.len()).ok()?;
                Some(TextRead::One(s).text(Span::new(0, len)))
            }
            _ => None,
        }
    }
    fn for_each_span(s: &mut Span, f: &mut dyn FnMut(&mut Span)) {
        f(s)
    }
    fn spans(s: &Span, f: &mut dyn FnMut(Span)) {
        f(*s)
    }
}

impl<T: Column> Column for Option<T> {
    type Stored = Option<T::Stored>;
    type Ref<'a> = Option<T::Ref<'a>>;
    type Query = T::Query;
    const SQL_TYPE: SqlType = T::SQL_TYPE;
    const NULLABLE: bool = true;
    const STORED: Stored = T::STORED;
    const ACCEPTS_ALL: bool = T::ACCEPTS_ALL;
    const NESTED_NULL: bool = T::NULLABLE;

    fn store(self, text: &mut TextHeap) -> Result<Self::Stored, Error> {
        self.map(|v| v.store(text)).transpose()
    }
    #[inline]
    fn given(&self) -> Option<Value<'_>> {
        match self {
            Some(v) => v.given(),
            None => Some(Value::Null),
        }
    }
    #[inline]
    fn take_text(&mut self) -> Option<String> {
        self.as_mut().and_then(T::take_text)
    }
    fn store_reusing(self, old: &Self::Stored, text: &mut TextHeap) -> Result<Self::Stored, Error> {
        match (self, old) {
            (Some(v), Some(o)) => v.store_reusing(o, text).map(Some),
            (v, _) => v.store(text),
        }
    }
    fn view<'a>(s: &'a Self::Stored, text: TextRead<'a>) -> Self::Ref<'a> {
        s.as_ref().map(|v| T::view(v, text))
    }
    fn load(s: &Self::Stored, text: &TextHeap) -> Self {
        s.as_ref().map(|v| T::load(v, text))
    }
    fn value<'a>(s: &'a Self::Stored, text: &'a TextHeap) -> Value<'a> {
        s.as_ref().map_or(Value::Null, |v| T::value(v, text))
    }
    /// `null` is `None`; a reference to a record not loaded yet is `None` for now.
    fn decode_json(v: &serde_json::Value, cx: &mut JsonCx<'_>) -> Result<Self, JsonBad> {
        if v.is_null() {
            return Ok(None);
        }
        match T::decode_json(v, cx) {
            Err(JsonBad::Later) => Ok(None),
            other => other.map(Some),
        }
    }
    fn for_each_span(s: &mut Self::Stored, f: &mut dyn FnMut(&mut Span)) {
        if let Some(v) = s {
            T::for_each_span(v, f)
        }
    }
    fn spans(s: &Self::Stored, f: &mut dyn FnMut(Span)) {
        if let Some(v) = s {
            T::spans(v, f)
        }
    }
    fn shown(s: &Self::Stored, text: &TextHeap) -> Option<String> {
        s.as_ref().and_then(|v| T::shown(v, text))
    }
    fn accepts(s: &Self::Stored, text: &TextHeap) -> bool {
        s.as_ref().is_none_or(|v| T::accepts(v, text))
    }
    fn holds(v: Value<'_>) -> bool {
        T::holds(v)
    }
}

impl<T: 'static> Column for Key<T> {
    type Stored = RawKey;
    type Ref<'a> = Key<T>;
    type Query = Key<T>;
    const SQL_TYPE: SqlType = SqlType::Integer;
    const NULLABLE: bool = false;
    const STORED: Stored = Stored::Key;

    fn store(self, _: &mut TextHeap) -> Result<RawKey, Error> {
        Ok(self.raw())
    }
    #[inline]
    fn given(&self) -> Option<Value<'_>> {
        Some(Value::Key(self.raw()))
    }
    fn view<'a>(s: &'a RawKey, _: TextRead<'a>) -> Key<T> {
        Key::from_raw(*s)
    }
    fn load(s: &RawKey, _: &TextHeap) -> Self {
        Key::from_raw(*s)
    }
    fn value<'a>(s: &'a RawKey, _: &'a TextHeap) -> Value<'a> {
        Value::Key(*s)
    }
    /// A record's id in the fixture (a string, or the integer of an `#[relata(id)]`), or a
    /// live key of the store (`"3v1"`).
    fn decode_json(v: &serde_json::Value, cx: &mut JsonCx<'_>) -> Result<Self, JsonBad> {
        let id =
            crate::fixture::json_id(v).ok_or(JsonBad::Expected("a record id (a string or an integer)"))?;
        (cx.resolve)(TypeId::of::<T>(), &id).map(Key::from_raw)
    }
}

impl<T: Entity> KeyColumn for Key<T> {
    type Target = T;
    fn raw(s: &RawKey) -> Option<RawKey> {
        Some(*s)
    }
    fn set_raw(s: &mut RawKey, to: Option<RawKey>) -> bool {
        match to {
            Some(k) => {
                *s = k;
                true
            }
            None => false,
        }
    }
}

impl<T: Entity> KeyColumn for Option<Key<T>> {
    type Target = T;
    fn raw(s: &Option<RawKey>) -> Option<RawKey> {
        *s
    }
    fn set_raw(s: &mut Option<RawKey>, to: Option<RawKey>) -> bool {
        *s = to;
        true
    }
}

/// Implements [`Column`] for a `Copy` scalar stored as `$s` (itself, or its [`Split64`]
/// form for a 64-bit one).
macro_rules! scalar_column {
    ($variant:ident, $wide:ty, $json:expr, $what:literal; $($t:ty => $kind:ident as $s:ty, $sql:ident),*) => {$(
        impl Column for $t {
            type Stored = $s;
            type Ref<'a> = $t;
            type Query = $t;
            const SQL_TYPE: SqlType = SqlType::$sql;
            const NULLABLE: bool = false;
            const STORED: Stored = Stored::$kind;

            fn store(self, _: &mut TextHeap) -> Result<$s, Error> {
                Ok(<$s>::from(self))
            }
            fn view<'a>(s: &'a $s, _: TextRead<'a>) -> $t {
                <$t>::from(*s)
            }
            fn load(s: &$s, _: &TextHeap) -> $t {
                <$t>::from(*s)
            }
            fn value<'a>(s: &'a $s, _: &'a TextHeap) -> Value<'a> {
                Value::$variant(<$wide>::from(<$t>::from(*s)))
            }
            #[inline]
            fn given(&self) -> Option<Value<'_>> {
                Some(Value::$variant(<$wide>::from(*self)))
            }
            fn decode_json(v: &serde_json::Value, _: &mut JsonCx<'_>) -> Result<$t, JsonBad> {
                $json(v).ok_or(JsonBad::Expected(concat!($what, " (", stringify!($t), ")")))
            }
        }
    )*};
}
// Each width's SQL type is the smallest PostgreSQL type that holds it (an unsigned one needs
// the next signed width; `u64` gets BIGINT, which holds it up to `i64::MAX`).
scalar_column!(Int, i64, json_int, "an integer";
    i8 => I8 as i8, Integer16, i16 => I16 as i16, Integer16,
    i32 => I32 as i32, Integer32, i64 => I64 as Split64<i64>, Integer);
scalar_column!(UInt, u64, json_uint, "a non-negative integer";
    u8 => U8 as u8, Integer16, u16 => U16 as u16, Integer32,
    u32 => U32 as u32, Integer, u64 => U64 as Split64<u64>, Integer);
scalar_column!(Bool, bool, serde_json::Value::as_bool, "true or false"; bool => Bool as bool, Boolean);
scalar_column!(Float, f64, json_f64, "a number or \"NaN\", \"Infinity\", \"-Infinity\""; f64 => F64 as Split64<f64>, Real);
scalar_column!(Float, f64, json_f32, "a number or \"NaN\", \"Infinity\", \"-Infinity\""; f32 => F32 as f32, Real32);

/// A 64-bit scalar (`i64`, `u64`, `f64`) stored as two 32-bit words, so a row holding one
/// stays 4-byte aligned and its slot's 4-byte version packs beside it: a row of two keys, two
/// link numbers and an `i64` takes a 36-byte slot, not 40. Compares, prints and serializes
/// (snapshots) as the scalar itself.
#[doc(hidden)]
#[derive(Clone, Copy)]
pub struct Split64<T>([u32; 2], std::marker::PhantomData<T>);

/// The 64-bit scalars [`Split64`] holds, by their bits.
#[doc(hidden)]
pub trait Bits64: Copy + PartialEq + Debug + Serialize + DeserializeOwned + Send + Sync + 'static {
    fn to_bits64(self) -> u64;
    fn from_bits64(bits: u64) -> Self;
}
impl Bits64 for i64 {
    fn to_bits64(self) -> u64 {
        self as u64
    }
    fn from_bits64(bits: u64) -> i64 {
        bits as i64
    }
}
impl Bits64 for u64 {
    fn to_bits64(self) -> u64 {
        self
    }
    fn from_bits64(bits: u64) -> u64 {
        bits
    }
}
impl Bits64 for f64 {
    fn to_bits64(self) -> u64 {
        self.to_bits()
    }
    fn from_bits64(bits: u64) -> f64 {
        f64::from_bits(bits)
    }
}

impl<T: Bits64> Split64<T> {
    fn get(self) -> T {
        let [lo, hi] = self.0;
        T::from_bits64(u64::from(lo) | u64::from(hi) << 32)
    }
}
impl<T: Bits64> From<T> for Split64<T> {
    fn from(v: T) -> Self {
        let bits = v.to_bits64();
        Split64([bits as u32, (bits >> 32) as u32], std::marker::PhantomData)
    }
}
macro_rules! from_split {
    ($($t:ty),*) => {$(
        impl From<Split64<$t>> for $t {
            fn from(s: Split64<$t>) -> $t {
                s.get()
            }
        }
    )*};
}
from_split!(i64, u64, f64);
impl<T: Bits64 + Default> Default for Split64<T> {
    fn default() -> Self {
        Self::from(T::default())
    }
}
impl<T: Bits64> PartialEq for Split64<T> {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}
impl<T: Bits64> Debug for Split64<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.get().fmt(f)
    }
}
impl<T: Bits64> Serialize for Split64<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.get().serialize(s)
    }
}
impl<'de, T: Bits64> serde::Deserialize<'de> for Split64<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::deserialize(d).map(Self::from)
    }
}

/// A JSON integer that fits `T`.
fn json_int<T: TryFrom<i64>>(v: &serde_json::Value) -> Option<T> {
    v.as_i64().and_then(|i| T::try_from(i).ok())
}

/// A JSON non-negative integer that fits `T`.
fn json_uint<T: TryFrom<u64>>(v: &serde_json::Value) -> Option<T> {
    v.as_u64().and_then(|i| T::try_from(i).ok())
}

/// A JSON number as `f64`, or NaN or an infinity spelt as `to_json` writes them, as
/// PostgreSQL's float input takes them: exactly `"NaN"`, `"Infinity"`, `"-Infinity"` (JSON
/// has no number for them).
fn json_f64(v: &serde_json::Value) -> Option<f64> {
    match v {
        serde_json::Value::String(s) => crate::value::float_of_word(s),
        _ => v.as_f64(),
    }
}

/// A JSON number that `f32` holds (or NaN or an infinity, spelt), as PostgreSQL's `REAL`
/// input takes it: a finite number beyond `f32`'s range, or too small to be anything but 0,
/// is refused ("out of range for type real"), not stored as an infinity or 0.
fn json_f32(v: &serde_json::Value) -> Option<f32> {
    let f = json_f64(v)?;
    let narrowed = f as f32;
    let lost = f.is_finite() && (narrowed.is_infinite() || (narrowed == 0.0 && f != 0.0));
    (!lost).then_some(narrowed)
}

impl Column for Vec<u8> {
    type Stored = Box<[u8]>;
    type Ref<'a> = &'a [u8];
    type Query = [u8];
    const SQL_TYPE: SqlType = SqlType::Blob;
    const NULLABLE: bool = false;
    const STORED: Stored = Stored::Bytes;

    fn store(self, _: &mut TextHeap) -> Result<Box<[u8]>, Error> {
        Ok(self.into_boxed_slice())
    }
    fn view<'a>(s: &'a Box<[u8]>, _: TextRead<'a>) -> &'a [u8] {
        s
    }
    fn load(s: &Box<[u8]>, _: &TextHeap) -> Vec<u8> {
        s.to_vec()
    }
    fn value<'a>(s: &'a Box<[u8]>, _: &'a TextHeap) -> Value<'a> {
        Value::Bytes(s)
    }
    /// An array of byte values, as `to_json` writes bytes.
    fn decode_json(v: &serde_json::Value, _: &mut JsonCx<'_>) -> Result<Vec<u8>, JsonBad> {
        let bad = JsonBad::Expected("an array of bytes (0 to 255)");
        let items = v.as_array().ok_or(bad.clone())?;
        items
            .iter()
            .map(|b| b.as_u64().and_then(|b| u8::try_from(b).ok()).ok_or(bad.clone()))
            .collect()
    }
}

/// A column type another type can be stored as: `String`, `Vec<u8>`, `bool`, the integer and
/// float types, and every [`AsColumn`] type (never `Option` or `Key`). Implemented by relata
/// only; make a type a representation by implementing [`AsColumn`] for it.
#[doc(hidden)]
pub trait Repr: Column + QueryValue {}

impl Repr for String {}
impl Repr for Vec<u8> {}
impl<T: AsColumn> Repr for T {}
macro_rules! scalar_repr {
    ($($t:ty),*) => {$( impl Repr for $t {} )*};
}
scalar_repr!(i8, i16, i32, i64, u8, u16, u32, u64, bool, f32, f64);

/// A type stored as another column type, its *representation*: the way to make any type a
/// column.
///
/// Each value is converted to its representation (`String`, `Vec<u8>`, `i64`, `f64`, `bool`,
/// ... or another `AsColumn` type) when it is written and back when it is read, so it gets the
/// representation's storage (text in the table's compact text heap, numbers inline), its
/// equality, hashing and ordering in unique and secondary indexes, its snapshot form, and its
/// SQL type unless [`SQL_TYPE`](Self::SQL_TYPE) names another. Look-ups through a
/// `BY_<FIELD>` handle take the type itself.
///
/// Newtypes and field-less enums need no hand-written impl: `#[derive(relata::Column)]`. A
/// newtype is stored as its field and takes no options; an enum is stored as its variant
/// names (`text`, the default; `rename_all = "snake_case" | "lowercase" | "UPPERCASE" |
/// "SCREAMING_SNAKE_CASE"`, and `rename = "..."` on a variant) or, with `integer`, as its
/// discriminants:
///
/// ```
/// use relata::{Column, Entity, Schema, Store};
///
/// #[derive(Column, Clone, Debug, PartialEq)]
/// struct Email(String);
///
/// #[derive(Column, Clone, Copy, Debug, PartialEq)]
/// #[relata(text, rename_all = "snake_case")]
/// enum Status { Active, OnHold, #[relata(rename = "gone")] Closed }
///
/// #[derive(Column, Clone, Copy, Debug, PartialEq)]
/// #[relata(integer)]
/// enum Level { Low = 1, High = 10 }
///
/// #[derive(Entity, Clone, Debug, PartialEq)]
/// struct Account {
///     #[relata(unique(nocase))]
///     email: Email,
///     #[relata(index)]
///     status: Status,
///     level: Level,
/// }
///
/// let mut store = Store::new(Schema::builder().entity::<Account>().build()?);
/// let k = store.insert(Account { email: Email("A@x".into()), status: Status::OnHold, level: Level::High })?;
/// assert_eq!(store.find_unique(Account::BY_EMAIL, &Email("a@X".into())), Some(k));
/// assert_eq!(store.find_by(Account::BY_STATUS, &Status::OnHold).collect::<Vec<_>>(), [k]);
/// store.update(k, |a| a.status = Status::Closed)?;
/// let json = store.to_json();
/// assert!(json.contains(r#""status": "gone""#) && json.contains(r#""level": 10"#), "{json}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Behind cargo features relata implements it for `chrono`, `time`, `uuid`, `rust_decimal`
/// and `serde_json` types.
///
/// ```
/// use relata::{AsColumn, Column, Entity, Schema, SqlType, Store};
///
/// /// Cents, stored as an integer.
/// #[derive(Clone, Copy, Debug, PartialEq)]
/// struct Money { cents: i64 }
///
/// impl AsColumn for Money {
///     type Repr = i64;
///     type Ref<'a> = Money;
///     const SQL_TYPE: SqlType = SqlType::Integer;
///     fn into_repr(self) -> i64 { self.cents }
///     fn from_repr(cents: i64) -> Money { Money { cents } }
///     // Both types spelled as projections (they are `i64` and `Money`), so lifetimes match.
///     fn view(cents: <i64 as Column>::Ref<'_>) -> <Self as AsColumn>::Ref<'_> {
///         Money { cents }
///     }
///     fn shown(m: Money) -> Option<String> { Some(format!("{}.{:02}", m.cents / 100, m.cents % 100)) }
/// }
///
/// #[derive(Entity, Clone, Debug, PartialEq)]
/// struct Order { #[relata(index)] total: Money }
///
/// let mut store = Store::new(Schema::builder().entity::<Order>().build()?);
/// let k = store.insert(Order { total: Money { cents: 1250 } })?;
/// assert_eq!(store.get(k).unwrap().total, Money { cents: 1250 });
/// assert_eq!(store.find_by(Order::BY_TOTAL, &Money { cents: 1250 }).collect::<Vec<_>>(), [k]);
/// assert!(store.to_json().contains(r#""total": "12.50""#));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a relata column type",
    label = "relata cannot store this field",
    note = "implement `relata::AsColumn` for `{Self}`, or `#[derive(relata::Column)]` on a newtype or a field-less enum"
)]
pub trait AsColumn: Clone + Sized + 'static {
    /// The column type values are stored as.
    type Repr: Repr;
    /// What a read hands out: usually `Self` for a `Copy` type, or the representation's
    /// borrowed form (`relata::Text<'a>` for text) to read without allocating.
    type Ref<'a>: Copy + Debug + PartialEq;
    /// The SQL column type (DDL export). Usually the representation's, or a more precise one
    /// such as [`SqlType::TimestampTz`].
    const SQL_TYPE: SqlType;
    /// The value as its representation.
    fn into_repr(self) -> Self::Repr;
    /// The value back from its representation. Total: relata passes only representations
    /// [`into_repr`](Self::into_repr) produced or [`accepts`](Self::accepts) accepted, so for
    /// anything else any value will do.
    fn from_repr(repr: Self::Repr) -> Self;
    /// The borrowed form a read hands out, from the representation's. Spell both types as
    /// projections, as in this declaration (`<i64 as Column>::Ref<'_>`, which is `i64`;
    /// `<String as Column>::Ref<'_>`, which is [`Text<'_>`](crate::Text);
    /// `<Self as AsColumn>::Ref<'_>`), so the lifetime matches the trait's.
    fn view(repr: <Self::Repr as Column>::Ref<'_>) -> Self::Ref<'_>;
    /// Whether a representation read from a snapshot is a value of this type (an enum's
    /// variant name, an in-range timestamp). Default: every one is.
    fn accepts(_repr: <Self::Repr as Column>::Ref<'_>) -> bool {
        true
    }
    /// The value as people read it, when that is not its representation (a timestamp stored as
    /// microseconds): errors and diffs quote it as text, JSON writes it as a string. Default
    /// `None`: shown as the representation.
    fn shown(_value: Self::Ref<'_>) -> Option<String> {
        None
    }
    /// The value from a JSON fixture, for the forms the representation does not read: at
    /// least the text [`shown`](Self::shown) writes, so that a store's `to_json` loads back.
    /// Default `None`: the fixture holds the representation.
    fn from_json(_json: &serde_json::Value) -> Option<Self> {
        None
    }
    /// The representation is decimal text compared by value ([`Value::Numeric`]), not as
    /// text. Set by relata's `rust_decimal::Decimal`. Not API.
    #[doc(hidden)]
    const NUMERIC_TEXT: bool = false;
}

/// `v` as an `AsColumn` type `T` compares it: decimal text by value.
#[inline]
fn as_compared<T: AsColumn>(v: Value<'_>) -> Value<'_> {
    match (T::NUMERIC_TEXT, v) {
        (true, Value::Text(s)) => Value::Numeric(s),
        (_, v) => v,
    }
}

impl<T: AsColumn> Column for T {
    type Stored = <T::Repr as Column>::Stored;
    type Ref<'a> = T::Ref<'a>;
    type Query = T;
    const SQL_TYPE: SqlType = T::SQL_TYPE;
    const NULLABLE: bool = false;
    const STORED: Stored = T::Repr::STORED;
    const ACCEPTS_ALL: bool = false;

    #[inline]
    fn store(self, text: &mut TextHeap) -> Result<Self::Stored, Error> {
        self.into_repr().store(text)
    }
    #[inline]
    fn store_reusing(self, old: &Self::Stored, text: &mut TextHeap) -> Result<Self::Stored, Error> {
        self.into_repr().store_reusing(old, text)
    }
    #[inline]
    fn view<'a>(s: &'a Self::Stored, text: TextRead<'a>) -> T::Ref<'a> {
        <T as AsColumn>::view(T::Repr::view(s, text))
    }
    fn load(s: &Self::Stored, text: &TextHeap) -> Self {
        T::from_repr(T::Repr::load(s, text))
    }
    #[inline]
    fn value<'a>(s: &'a Self::Stored, text: &'a TextHeap) -> Value<'a> {
        as_compared::<T>(T::Repr::value(s, text))
    }
    fn for_each_span(s: &mut Self::Stored, f: &mut dyn FnMut(&mut Span)) {
        T::Repr::for_each_span(s, f)
    }
    fn spans(s: &Self::Stored, f: &mut dyn FnMut(Span)) {
        T::Repr::spans(s, f)
    }
    fn shown(s: &Self::Stored, text: &TextHeap) -> Option<String> {
        <T as AsColumn>::shown(<T as Column>::view(s, text.read())).or_else(|| T::Repr::shown(s, text))
    }
    fn accepts(s: &Self::Stored, text: &TextHeap) -> bool {
        T::Repr::accepts(s, text) && <T as AsColumn>::accepts(T::Repr::view(s, text.read()))
    }
    fn holds(v: Value<'_>) -> bool {
        T::Repr::text_ref(v).is_none_or(<T as AsColumn>::accepts)
    }
    /// The type's own JSON form, else its representation's if the type accepts it.
    fn decode_json(v: &serde_json::Value, cx: &mut JsonCx<'_>) -> Result<Self, JsonBad> {
        if let Some(value) = <T as AsColumn>::from_json(v) {
            return Ok(value);
        }
        let repr = T::Repr::decode_json(v, cx).map_err(|bad| match (bad, json_form(T::SQL_TYPE)) {
            (JsonBad::Expected(_), Some(form)) => JsonBad::Expected(form),
            (bad, _) => bad,
        })?;
        let mut text = TextHeap::default();
        let bad = JsonBad::NotAccepted(std::any::type_name::<T>());
        let stored = repr.store(&mut text).map_err(|_| bad.clone())?;
        if !<T as Column>::accepts(&stored, &text) {
            return Err(bad);
        }
        Ok(T::from_repr(T::Repr::load(&stored, &text)))
    }
}

impl<T: AsColumn> QueryValue for T {
    fn with_query_value<R>(&self, f: impl FnOnce(Value<'_>) -> R) -> R {
        self.clone()
            .into_repr()
            .with_query_value(|v| f(as_compared::<T>(v)))
    }
}

/// The text a JSON export writes for a value of SQL type `t`, when it is not the
/// representation's form (a timestamp's, not its microseconds).
fn json_form(t: SqlType) -> Option<&'static str> {
    Some(match t {
        SqlType::TimestampTz => "an RFC 3339 timestamp such as \"2024-01-02T03:04:05Z\"",
        SqlType::Timestamp => "a date and time such as \"2024-01-02T03:04:05\"",
        SqlType::Date => "a date such as \"2024-01-02\"",
        SqlType::Uuid => "a UUID such as \"67e55044-10b1-426f-9247-bb680e5fe0c8\"",
        SqlType::Numeric => "a decimal number such as \"12.50\"",
        _ => return None,
    })
}

/// Why a JSON value is not a field's value. Hidden plumbing of `Store::insert_json`.
#[doc(hidden)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JsonBad {
    /// The field is absent and not nullable.
    Missing,
    /// The field is `null` and not nullable.
    Null,
    /// The JSON is not of the field's type: what was expected.
    Expected(&'static str),
    /// The representation is not a value of this type (an enum's unknown variant name).
    NotAccepted(&'static str),
    /// A reference the loader could not resolve (it keeps the details).
    Reference,
    /// A reference to a record of the fixture not loaded yet, in a nullable key: `None` for
    /// now, set once the record is loaded.
    Later,
}

/// What decoding a field needs from the loader: resolving a record id to a key of the
/// referenced table (`TypeId` of the entity). Hidden plumbing of `Store::insert_json`.
#[doc(hidden)]
pub struct JsonCx<'a> {
    pub(crate) resolve: &'a mut dyn FnMut(TypeId, &str) -> Result<RawKey, JsonBad>,
    /// The store's clock reading, for a `created_at` / `updated_at` field left out.
    pub(crate) now: i64,
}

impl JsonCx<'_> {
    /// The store's clock reading (microseconds since 1970) when the load started.
    pub fn now(&self) -> i64 {
        self.now
    }
}

impl std::fmt::Debug for JsonCx<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JsonCx")
    }
}

/// Field `field`'s value in a fixture record: under its column name, else its Rust name,
/// except that a record's `"id"` is its name in the fixture, never the value of a field named
/// `id` kept under another column (`#[relata(column = "public_id")] id: Uuid`); an
/// `#[relata(id)]` field is read by [`id_from_json`].
pub(crate) fn json_field<'a>(
    record: &'a serde_json::Map<String, serde_json::Value>,
    field: &crate::entity::FieldDef,
) -> Option<&'a serde_json::Value> {
    record.get(field.column).or_else(|| match field.name {
        "id" => None,
        name => record.get(name),
    })
}

/// Field `field` of a fixture record ([`json_field`]), else `null` when it is nullable.
#[doc(hidden)]
pub fn field_from_json<T: Column>(
    record: &serde_json::Map<String, serde_json::Value>,
    field: &crate::entity::FieldDef,
    cx: &mut JsonCx<'_>,
) -> Result<T, JsonBad> {
    match json_field(record, field) {
        Some(serde_json::Value::Null) if !T::NULLABLE => Err(JsonBad::Null),
        Some(v) => T::decode_json(v, cx),
        None if T::NULLABLE => T::decode_json(&serde_json::Value::Null, cx),
        None => Err(JsonBad::Missing),
    }
}

/// An `#[relata(id)]` field of a JSON fixture record: the integer under its column or name,
/// else the record's `"id"` (which names such a record by its id, whatever the field is
/// called), which the insert keeps; anything else (left out, a string name) is 0, for which
/// the insert assigns the next id.
#[doc(hidden)]
pub fn id_from_json<T: Column + Default>(
    record: &serde_json::Map<String, serde_json::Value>,
    field: &crate::entity::FieldDef,
    cx: &mut JsonCx<'_>,
) -> Result<T, JsonBad> {
    let given = (record.get(field.column).or_else(|| record.get(field.name))).or_else(|| record.get("id"));
    match given {
        Some(v @ serde_json::Value::Number(_)) => T::decode_json(v, cx),
        _ => Ok(T::default()),
    }
}

/// Like [`field_from_json`], with `or()` for a field left out (its declared default, or the
/// clock's time for `created_at` / `updated_at`).
#[doc(hidden)]
pub fn field_from_json_or<T: Column>(
    record: &serde_json::Map<String, serde_json::Value>,
    field: &crate::entity::FieldDef,
    cx: &mut JsonCx<'_>,
    or: impl FnOnce() -> T,
) -> Result<T, JsonBad> {
    match json_field(record, field) {
        Some(serde_json::Value::Null) if !T::NULLABLE => Err(JsonBad::Null),
        Some(v) => T::decode_json(v, cx),
        None => Ok(or()),
    }
}
