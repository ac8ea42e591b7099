//! Tiny value domains. Each type is one byte of fuzz input reduced modulo the domain size, so
//! collisions under unique constraints and indexes are frequent and every value is reachable
//! from a single byte.

use std::fmt;

use arbitrary::{Arbitrary, Unstructured};

use crate::model::V;

/// Declares a one-byte domain type over a fixed list of values.
macro_rules! domain {
    ($(#[$doc:meta])* $name:ident: $ty:ty = [$($v:expr),+ $(,)?], $to_v:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq)]
        pub struct $name(u8);

        impl $name {
            /// Every value of the domain.
            pub const ALL: &'static [$ty] = &[$($v),+];

            /// The value.
            pub fn get(self) -> $ty {
                Self::ALL[usize::from(self.0)]
            }

            /// The value as the model keeps it.
            pub fn v(self) -> V {
                value_of(self.get())
            }

            /// Every value of the domain as the model keeps it (for look-ups).
            pub fn all_v() -> Vec<V> {
                Self::ALL.iter().map(|&x| value_of(x)).collect()
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&self.get(), f)
            }
        }

        impl<'a> Arbitrary<'a> for $name {
            fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
                Ok($name(u8::arbitrary(u)? % Self::ALL.len() as u8))
            }

            fn size_hint(_depth: usize) -> (usize, Option<usize>) {
                (1, Some(1))
            }
        }

        #[allow(clippy::redundant_closure_call)]
        fn value_of(x: $ty) -> V {
            ($to_v)(x)
        }
    };
}

/// Exact comparison matters: `"ann"`, `"Ann"` and `"ann "` are three names.
mod name {
    use super::*;
    domain!(
        /// An account name (unique).
        Name: &'static str = ["ann", "Ann", "ann ", "zo\u{eb}", "o'k"], V::text
    );
}
pub use name::Name;

mod tier {
    use super::*;
    domain!(
        /// An account tier (indexed).
        Tier: u8 = [0, 1, 2], |x: u8| V::UInt(x.into())
    );
}
pub use tier::Tier;

mod bio {
    use super::*;
    domain!(
        /// A profile's bio (empty, ASCII, multi-byte, long).
        Bio: &'static str = ["", "hi", "h\u{e9}llo", LONG], long_or
    );
}
pub use bio::Bio;

mod title {
    use super::*;
    domain!(
        /// A project title (first part of the composite unique).
        Title: &'static str = ["alpha", "Alpha", "beta"], V::text
    );
}
pub use title::Title;

mod code {
    use super::*;
    domain!(
        /// A project code (nullable second part of the composite unique).
        Code: Option<u8> = [None, Some(1), Some(2)], |x: Option<u8>| x.map_or(V::Null, |c| V::UInt(c.into()))
    );
}
pub use code::Code;

mod slug {
    use super::*;
    domain!(
        /// A project slug (nullable, unique).
        Slug: Option<&'static str> = [None, Some("x"), Some("y"), Some(LONG_SLUG)],
        |x: Option<&str>| x.map_or(V::Null, V::text)
    );
}
pub use slug::Slug;

mod rank {
    use super::*;
    domain!(
        /// A task rank.
        Rank: i8 = [-1, 0, 1], |x: i8| V::Int(x.into())
    );
}
pub use rank::Rank;

mod note_text {
    use super::*;
    domain!(
        /// A note's text (empty, short, long).
        NoteText: &'static str = ["", "n", LONG], long_or
    );
}
pub use note_text::NoteText;

mod seat {
    use super::*;
    domain!(
        /// A member's seat (deferrable unique).
        Seat: u8 = [0, 1, 2], |x: u8| V::UInt(x.into())
    );
}
pub use seat::Seat;

mod email {
    use super::*;
    domain!(
        /// A contact's email (unique ignoring ASCII case, at most 6 characters): two that
        /// differ in ASCII case only, two that differ in the case of a non-ASCII letter (not
        /// folded, as in SQLite), six two-byte characters (within the limit: characters are
        /// counted, not bytes), and one too long.
        Email: &'static str = [
            "ann@x",
            "ANN@x",
            "bo@x",
            "\u{e9}d@x",
            "\u{c9}d@x",
            "\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}",
            "toolong@x",
        ],
        V::text
    );
}
pub use email::Email;

mod contact_status {
    use super::*;
    use crate::schema::Status;
    domain!(
        /// A contact's status (a text enum, indexed): the model keeps the stored name.
        ContactStatus: Status = [Status::Active, Status::OnHold],
        |s: Status| V::text(status_name(s))
    );
}
pub use contact_status::ContactStatus;

/// The name a [`Status`](crate::schema::Status) is stored as.
pub fn status_name(s: crate::schema::Status) -> &'static str {
    match s {
        crate::schema::Status::Active => "active",
        crate::schema::Status::OnHold => "on_hold",
    }
}

mod since {
    use super::*;
    domain!(
        /// A contact's `since` timestamp (indexed), as microseconds since 1970 UTC, which
        /// is how the model keeps it: before 1970, the epoch, and one with microseconds.
        Since: i64 = [-86_400_000_001, 0, 1_704_067_200_000_007],
        V::Int
    );
}
pub use since::Since;

/// A slug longer than error messages quote (83 bytes; byte 64 falls inside an `é`).
const LONG_SLUG: &str = "a\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}'s";

/// Stands for 2,100 copies of `é` (4,200 bytes): rewriting or deleting one such value leaves
/// enough garbage in the table's text heap (over 4 KiB) for compaction to run.
const LONG: &str = "<2100 x \u{e9}>";

fn long_or(x: &str) -> V {
    if x == LONG {
        V::Text("\u{e9}".repeat(2100))
    } else {
        V::text(x)
    }
}
