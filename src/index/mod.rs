//! Derived structures: rebuilt from ground truth (records and their foreign keys) on load and
//! by the integrity checker, mutated only by the store's primitive changes.
//!
//! **Architecture invariant:** nothing here is serialized, and nothing here is reachable
//! mutably from outside the crate.

pub(crate) mod children;
pub(crate) mod ordered;
pub(crate) mod secondary;
pub(crate) mod unique;

use std::hash::{BuildHasher, Hash, Hasher};

use crate::value::Value;

/// One fixed seed for every index: hashing is deterministic across runs and processes.
const HASHER: foldhash::fast::FixedState = foldhash::fast::FixedState::with_seed(0x7265_6c61_7461);

/// Hashes a tuple of column values; `None` when any part is NULL (SQL: NULLs never collide and
/// are not found by equality look-ups).
/// With `nocase`, text hashes with its ASCII letters lower-cased (SQLite's NOCASE).
#[inline]
pub(crate) fn hash_values<'a>(values: impl IntoIterator<Item = Value<'a>>, nocase: bool) -> Option<u64> {
    let mut h = HASHER.build_hasher();
    for v in values {
        write_value(&mut h, v, nocase)?;
    }
    Some(h.finish())
}

/// [`hash_values`] of the one-value tuple `[value]`, with no loop around it: a single-column
/// constraint's probe and row hash.
#[inline(always)]
pub(crate) fn hash_value(value: Value<'_>, nocase: bool) -> Option<u64> {
    let mut h = HASHER.build_hasher();
    write_value(&mut h, value, nocase)?;
    Some(h.finish())
}

/// [`hash_values`] of the two-value tuple `[a, b]`, with no loop around it: a pair's unique
/// constraint (a membership's `(user, group)`), hashed on every insert and removal.
#[inline(always)]
pub(crate) fn hash_pair(a: Value<'_>, b: Value<'_>, nocase: bool) -> Option<u64> {
    let mut h = HASHER.build_hasher();
    write_value(&mut h, a, nocase)?;
    write_value(&mut h, b, nocase)?;
    Some(h.finish())
}

/// Feeds one value to `h`; `None` for NULL.
#[inline(always)]
fn write_value(h: &mut impl Hasher, v: Value<'_>, nocase: bool) -> Option<()> {
    match v {
        Value::Null => return None,
        Value::Text(s) if nocase => {
            s.bytes().for_each(|b| h.write_u8(b.to_ascii_lowercase()));
            h.write_u8(0xff);
        }
        // Text as its bytes alone, with no kind tag or terminator: foldhash's `write`
        // mixes in the length, so a tuple's parts stay apart; a column holds one kind.
        Value::Text(s) => h.write(s.as_bytes()),
        // A key as its one word, no kind tag: a key equals only a key.
        Value::Key(k) => h.write_u64(k.to_u64()),
        v => v.hash(h),
    }
    Some(())
}

/// Equality as `hash_values` hashes: with `nocase`, text ignoring ASCII case. Text and keys,
/// the kinds unique look-ups compare most, compare here, inline, as bytes and words: no call
/// into `Value`'s general equality.
#[inline(always)]
pub(crate) fn same_value(a: Value<'_>, b: Value<'_>, nocase: bool) -> bool {
    match (a, b) {
        (Value::Text(x), Value::Text(y)) if nocase => x.eq_ignore_ascii_case(y),
        (Value::Text(x), Value::Text(y)) => x.as_bytes() == y.as_bytes(),
        (Value::Key(x), Value::Key(y)) => x == y,
        (a, b) => a == b,
    }
}

/// `a == b` for byte strings, with text of up to 16 bytes (a username, a short name)
/// compared inline: of 8 to 16 bytes as its first and its last 8 (two words, which overlap
/// below 16), of 4 to 7 as its first and last 4; anything else through the slices' `==`
/// (a `memcmp` call, and around it the caller's registers saved and restored: about 30
/// instructions for a username).
#[inline(always)]
pub(crate) fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    match n {
        8..=16 => word::<8>(a, 0) == word::<8>(b, 0) && word::<8>(a, n - 8) == word::<8>(b, n - 8),
        4..=7 => word::<4>(a, 0) == word::<4>(b, 0) && word::<4>(a, n - 4) == word::<4>(b, n - 4),
        _ => a == b,
    }
}

/// The `N` bytes of `s` at `at` (`None` past its end, which [`same_bytes`] never asks for).
#[inline(always)]
fn word<const N: usize>(s: &[u8], at: usize) -> Option<[u8; N]> {
    s.get(at..at + N)?.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `same_bytes` answers as `==` for every length up to past its inline words, and for
    /// strings differing at their first byte, their last, or in length only.
    #[test]
    fn same_bytes_answers_as_equality() {
        let text: Vec<u8> = (0..40u8).map(|i| b'a' + i % 26).collect();
        for n in 0..=text.len() {
            let a = &text[..n];
            assert!(same_bytes(a, a.to_vec().as_slice()), "{n} bytes");
            for at in [0, n / 2, n.saturating_sub(1)].into_iter().filter(|&at| at < n) {
                let mut b = a.to_vec();
                b[at] ^= 0x20;
                assert!(!same_bytes(a, &b), "{n} bytes, differing at {at}");
            }
            assert!(!same_bytes(a, &text[..(n + 1).min(text.len())]) || n == text.len());
        }
    }
    use crate::key::RawKey;

    /// One value of each kind a unique column holds, NULL included.
    fn sample_values() -> [Value<'static>; 8] {
        [
            Value::Null,
            Value::Text("user1"),
            Value::Text("Ab"),
            Value::Key(RawKey::from_u64(7)),
            Value::Int(-3),
            Value::UInt(3),
            Value::Bool(true),
            Value::Bytes(b"x"),
        ]
    }

    /// A single-column probe and row hash go through `hash_value`, a composite one through
    /// `hash_values`: for one value they must agree, or an index filled one way misses
    /// look-ups made the other way.
    #[test]
    fn one_value_hashes_as_a_one_value_tuple() {
        let values = sample_values();
        for v in values {
            for nocase in [false, true] {
                assert_eq!(hash_value(v, nocase), hash_values([v], nocase), "{v:?} {nocase}");
            }
        }
        assert_eq!(
            hash_value(Value::Text("AB"), true),
            hash_value(Value::Text("ab"), true)
        );
    }

    /// A pair's unique entry is hashed by `hash_pair` on insert and removal, and probed
    /// through `hash_values` by a composite look-up: for every two values (NULL in either
    /// place included) they must agree.
    #[test]
    fn a_pair_hashes_as_a_two_value_tuple() {
        let values = sample_values();
        for a in values {
            for b in values {
                for nocase in [false, true] {
                    let pair = hash_pair(a, b, nocase);
                    assert_eq!(pair, hash_values([a, b], nocase), "{a:?} {b:?} {nocase}");
                }
            }
        }
        assert_eq!(
            hash_pair(Value::Text("Ab"), Value::Text("X"), true),
            hash_pair(Value::Text("aB"), Value::Text("x"), true)
        );
    }
}
