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
use crate::snapshot::codec::Compact;
use crate::text::{Span, Text, TextHeap};
use crate::value::{QueryValue, SqlType, Value};

/// A field type relata can store. Implemented for `String`, `bool`, the integer and float
/// types, [`Key<T>`], and `Option` of each.
pub trait Column: Sized + 'static {
    /// The compact stored form (private to the store).
    #[doc(hidden)]
    type Stored: Clone + Debug + PartialEq + Send + Sync + Serialize + DeserializeOwned + Compact + 'static;
    /// What a read returns: [`Text`] (a lazy `&str`) for `String`, the value itself for
    /// scalars and keys.
    type Ref<'a>: Copy + Debug + PartialEq;
    /// What a look-up by this column takes: `str` for `String`, the type itself otherwise.
    type Query: ?Sized + QueryValue;
    /// The SQL column type.
    const SQL_TYPE: SqlType;
    /// Whether the column may hold NULL (`Option<_>`).
    const NULLABLE: bool;

    #[doc(hidden)]
    fn store(self, text: &mut TextHeap) -> Result<Self::Stored, Error>;
    /// Like `store`, but keeps `old`'s storage when the value did not change.
    #[doc(hidden)]
    fn store_reusing(self, _old: &Self::Stored, text: &mut TextHeap) -> Result<Self::Stored, Error> {
        self.store(text)
    }
    #[doc(hidden)]
    fn view<'a>(s: &'a Self::Stored, text: &'a TextHeap) -> Self::Ref<'a>;
    #[doc(hidden)]
    fn load(s: &Self::Stored, text: &TextHeap) -> Self;
    #[doc(hidden)]
    fn value<'a>(s: &'a Self::Stored, text: &'a TextHeap) -> Value<'a>;
    #[doc(hidden)]
    fn for_each_span(_s: &mut Self::Stored, _f: &mut dyn FnMut(&mut Span)) {}
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

    fn store(self, text: &mut TextHeap) -> Result<Span, Error> {
        text.push_str(&self)
    }
    fn store_reusing(self, old: &Span, text: &mut TextHeap) -> Result<Span, Error> {
        if text.str(*old) == self {
            Ok(*old)
        } else {
            text.push_str(&self)
        }
    }
    fn view<'a>(s: &'a Span, text: &'a TextHeap) -> Text<'a> {
        text.text(*s)
    }
    fn load(s: &Span, text: &TextHeap) -> String {
        text.str(*s).to_owned()
    }
    fn value<'a>(s: &'a Span, text: &'a TextHeap) -> Value<'a> {
        Value::Text(text.str(*s))
    }
    fn for_each_span(s: &mut Span, f: &mut dyn FnMut(&mut Span)) {
        f(s)
    }
}

impl<T: Column> Column for Option<T> {
    type Stored = Option<T::Stored>;
    type Ref<'a> = Option<T::Ref<'a>>;
    type Query = T::Query;
    const SQL_TYPE: SqlType = T::SQL_TYPE;
    const NULLABLE: bool = true;

    fn store(self, text: &mut TextHeap) -> Result<Self::Stored, Error> {
        self.map(|v| v.store(text)).transpose()
    }
    fn store_reusing(self, old: &Self::Stored, text: &mut TextHeap) -> Result<Self::Stored, Error> {
        match (self, old) {
            (Some(v), Some(o)) => v.store_reusing(o, text).map(Some),
            (v, _) => v.store(text),
        }
    }
    fn view<'a>(s: &'a Self::Stored, text: &'a TextHeap) -> Self::Ref<'a> {
        s.as_ref().map(|v| T::view(v, text))
    }
    fn load(s: &Self::Stored, text: &TextHeap) -> Self {
        s.as_ref().map(|v| T::load(v, text))
    }
    fn value<'a>(s: &'a Self::Stored, text: &'a TextHeap) -> Value<'a> {
        s.as_ref().map_or(Value::Null, |v| T::value(v, text))
    }
    fn for_each_span(s: &mut Self::Stored, f: &mut dyn FnMut(&mut Span)) {
        if let Some(v) = s {
            T::for_each_span(v, f)
        }
    }
}

impl<T: 'static> Column for Key<T> {
    type Stored = RawKey;
    type Ref<'a> = Key<T>;
    type Query = Key<T>;
    const SQL_TYPE: SqlType = SqlType::Integer;
    const NULLABLE: bool = false;

    fn store(self, _: &mut TextHeap) -> Result<RawKey, Error> {
        Ok(self.raw())
    }
    fn view<'a>(s: &'a RawKey, _: &'a TextHeap) -> Key<T> {
        Key::from_raw(*s)
    }
    fn load(s: &RawKey, _: &TextHeap) -> Self {
        Key::from_raw(*s)
    }
    fn value<'a>(s: &'a RawKey, _: &'a TextHeap) -> Value<'a> {
        Value::Key(*s)
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

/// Implements [`Column`] for a `Copy` scalar stored as itself.
macro_rules! scalar_column {
    ($sql:ident, $variant:ident, $wide:ty: $($t:ty),*) => {$(
        impl Column for $t {
            type Stored = $t;
            type Ref<'a> = $t;
            type Query = $t;
            const SQL_TYPE: SqlType = SqlType::$sql;
            const NULLABLE: bool = false;

            fn store(self, _: &mut TextHeap) -> Result<$t, Error> {
                Ok(self)
            }
            fn view<'a>(s: &'a $t, _: &'a TextHeap) -> $t {
                *s
            }
            fn load(s: &$t, _: &TextHeap) -> $t {
                *s
            }
            fn value<'a>(s: &'a $t, _: &'a TextHeap) -> Value<'a> {
                Value::$variant(<$wide>::from(*s))
            }
        }
    )*};
}
scalar_column!(Integer, Int, i64: i8, i16, i32, i64);
scalar_column!(Integer, UInt, u64: u8, u16, u32, u64);
scalar_column!(Integer, Bool, bool: bool);
scalar_column!(Real, Float, f64: f32, f64);
