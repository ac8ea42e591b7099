//! Typed, generational keys.

use crate::common::*;
use relata::{Error, Key, RawKey};

#[test]
fn deleted_keys_are_stale_forever() {
    let mut s = store();
    let alice = s.insert(user("alice")).unwrap();
    s.delete(alice).unwrap();
    assert!(s.get(alice).is_none());
    assert_eq!(
        s.try_get(alice).unwrap_err(),
        Error::Stale {
            table: "users",
            key: alice.raw()
        }
    );
    // New records may reuse the slot but never the key.
    for i in 0..10 {
        let k = s.insert(user(&format!("u{i}"))).unwrap();
        assert_ne!(k, alice);
    }
    assert!(s.get(alice).is_none());
}

#[test]
fn keys_round_trip_through_u64() {
    let mut s = store();
    let alice = s.insert(user("alice")).unwrap();
    let id = alice.to_u64();
    assert_eq!(Key::<User>::from_u64(id), alice);
    assert_eq!(RawKey::from_u64(id), alice.raw());
    assert_eq!(s.get(Key::<User>::from_u64(id)).unwrap().username, "alice");
}

/// Every id names at most one key: an id the store never issued (here 1, and the issued id
/// with its generation made even) is not found, rather than aliasing a live record.
#[test]
fn ids_are_canonical_so_a_forged_id_finds_nothing() {
    let mut s = store();
    let alice = s.insert(user("alice")).unwrap();
    let id = alice.to_u64();
    for forged in [id & 0xffff_ffff, id + (1 << 32), id & !(1 << 32), id | (1 << 33)] {
        assert_ne!(forged, id);
        let k = Key::<User>::from_u64(forged);
        assert_ne!(k, alice, "{forged:#x} aliases {id:#x}");
        assert!(
            s.get(k).is_none(),
            "{forged:#x} finds the record issued as {id:#x}"
        );
    }
}

#[test]
fn arbitrary_u64_keys_never_panic() {
    let s = store();
    for bits in [0, 1, u64::MAX, 1 << 32, (1 << 32) | 5, 0xdead_beef_dead_beef] {
        let k = Key::<User>::from_u64(bits);
        assert!(s.get(k).is_none());
        assert!(matches!(s.try_get(k), Err(Error::NotFound { .. })));
        assert_eq!(s.children(Post::AUTHOR, k).count(), 0);
    }
}

#[test]
fn debug_names_the_type() {
    let mut s = store();
    let alice = s.insert(user("alice")).unwrap();
    assert!(format!("{alice:?}").starts_with("Key<User>("));
}
