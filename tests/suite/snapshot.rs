//! Snapshots: round trips, every class of bad input (each with its exact error), crash-safe
//! files, and the golden file every later version must keep loading.

use crate::common::*;
use relata::{Key, SaveStep, Schema, SnapshotError, Store};

/// A store with every kind of record, link and a deleted record (a stale key).
fn populated() -> (Store, Key<User>, Key<User>) {
    let mut s = store();
    let alice = s.insert(user("alice")).unwrap();
    let bobby = s.insert(user("bobby")).unwrap();
    let gone = s.insert(user("gone")).unwrap();
    s.delete(gone).unwrap();
    s.insert(Profile {
        bio: "héllo wörld".into(),
        user: alice,
    })
    .unwrap();
    for t in ["one", "two", "three"] {
        s.insert(post(alice, t)).unwrap();
    }
    let p = s.insert(post(bobby, "mine")).unwrap();
    s.insert(Comment {
        body: "nice".into(),
        post: p,
    })
    .unwrap();
    let admin = s.insert(Group { name: "admin".into() }).unwrap();
    s.insert(UserGroup {
        user: alice,
        group: admin,
        joined_on: 20240101,
    })
    .unwrap();
    let root = s
        .insert(Node {
            name: "root".into(),
            parent: None,
        })
        .unwrap();
    s.insert(Node {
        name: "leaf".into(),
        parent: Some(root),
    })
    .unwrap();
    s.insert(Tag {
        name: None,
        scope: "x".into(),
        weight: -3,
    })
    .unwrap();
    s.insert(Address {
        email_address: "a@x".into(),
        user: None,
    })
    .unwrap();
    (s, alice, gone)
}

/// Rewrites the header checksum so a deliberate edit reaches the validation behind it.
fn reseal(bytes: &mut [u8]) {
    relata::__private::reseal(bytes);
}

/// `value` as a snapshot's body encodes it (bincode's serde path, standard config).
fn enc(value: &impl serde::Serialize) -> Vec<u8> {
    bincode::serde::encode_to_vec(value, bincode::config::standard()).unwrap()
}

/// A key as a snapshot writes it: its slot index, then its version (varints).
fn key_pattern(k: relata::RawKey) -> Vec<u8> {
    enc(&k)
}

fn replace_all(bytes: &mut [u8], from: &[u8], to: &[u8]) -> usize {
    assert_eq!(from.len(), to.len());
    let mut n = 0;
    let mut i = 0;
    while i + from.len() <= bytes.len() {
        if &bytes[i..i + from.len()] == from {
            bytes[i..i + from.len()].copy_from_slice(to);
            n += 1;
            i += from.len();
        } else {
            i += 1;
        }
    }
    n
}

#[test]
fn round_trip_keeps_records_keys_order_and_staleness() {
    let (s, alice, gone) = populated();
    let bytes = s.to_snapshot().unwrap();
    let mut loaded = Store::from_snapshot(schema(), &bytes).unwrap();
    loaded.check_integrity().unwrap();
    assert!(loaded == s);
    assert_eq!(loaded.get(alice).unwrap().username, "alice");
    assert!(matches!(loaded.try_get(gone), Err(relata::Error::Stale { .. })));
    // The loaded store carries on: new links go to the end, new keys are fresh.
    let more = loaded.insert(post(alice, "four")).unwrap();
    assert_eq!(loaded.children(Post::AUTHOR, alice).last(), Some(more));
    assert_ne!(loaded.insert(user("gone")).unwrap(), gone);
    loaded.check_integrity().unwrap();
}

#[test]
fn round_trip_through_writer_reader_and_file() {
    let (s, ..) = populated();
    let mut buf = Vec::new();
    s.save_to_writer(&mut buf).unwrap();
    assert!(Store::load_from_reader(schema(), buf.as_slice()).unwrap() == s);
    let dir = std::env::temp_dir().join(format!("relata-snap-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("fixture.snap");
    s.save_to_path(&path).unwrap();
    assert!(Store::load_from_path(schema(), &path).unwrap() == s);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_snapshot_inside_a_transaction_saves_the_current_state() {
    let (mut s, alice, _) = populated();
    s.begin().unwrap();
    s.delete(alice).unwrap();
    let bytes = s.to_snapshot().unwrap();
    // The deleted record's slot is detached (kept for undo): saved as vacant, i.e. deleted.
    let mut loaded = Store::from_snapshot(schema(), &bytes).unwrap();
    loaded.check_integrity().unwrap();
    assert!(!loaded.contains(alice));
    assert!(matches!(loaded.try_get(alice), Err(relata::Error::Stale { .. })));
    assert!(!loaded.in_transaction());
    let next = loaded.insert(user("next")).unwrap();
    assert_ne!(next, alice, "a reused slot gets a new version");
    loaded.check_integrity().unwrap();
    s.rollback().unwrap();
    assert!(s.contains(alice));
}

/// A state that breaks a deferred constraint mid-transaction could never be loaded: the
/// snapshot is refused with every violation listed, and the store is left as it was; once the
/// transaction repairs it, the snapshot is taken and loads.
#[test]
fn a_snapshot_inside_a_transaction_with_a_deferred_violation_is_refused() {
    // Deferrable uniques are PostgreSQL's (SQLite checks UNIQUE per statement).
    let mut s = postgres_store();
    let a = s.insert(Handle { name: "a".into() }).unwrap();
    let b = s.insert(Handle { name: "b".into() }).unwrap();
    let folder = s.insert(Folder { name: "f".into() }).unwrap();
    let file = s
        .insert(File {
            name: "x".into(),
            folder,
        })
        .unwrap();
    let other = s.insert(Folder { name: "g".into() }).unwrap();
    s.begin().unwrap();
    s.update(a, |h| h.name = "b".into()).unwrap(); // a duplicate mid-swap
    s.delete(folder).unwrap(); // a restricted parent gone before its file moved
    let before = s.fork();
    let Err(SnapshotError::DeferredViolation { violations }) = s.to_snapshot() else {
        panic!("a state violating deferred constraints was saved");
    };
    assert_eq!(violations.len(), 2, "{violations:?}");
    assert!(matches!(violations[0], relata::Error::UniqueViolation { .. }));
    assert!(matches!(violations[1], relata::Error::Restricted { .. }));
    assert!(s == before && s.in_transaction());
    s.update(b, |h| h.name = "a".into()).unwrap();
    s.update(file, |f| f.folder = other).unwrap();
    let loaded = Store::from_snapshot(schema(), &s.to_snapshot().unwrap()).unwrap();
    loaded.check_integrity().unwrap();
    s.commit().unwrap();
    assert!(loaded == s);
}

#[test]
fn empty_and_foreign_bytes_are_bad_magic() {
    assert_eq!(
        Store::from_snapshot(schema(), &[]).unwrap_err(),
        SnapshotError::BadMagic
    );
    assert_eq!(
        Store::from_snapshot(schema(), b"SQLite format 3\0").unwrap_err(),
        SnapshotError::BadMagic
    );
}

#[test]
fn future_versions_are_refused_by_name() {
    let (s, ..) = populated();
    let mut bytes = s.to_snapshot().unwrap();
    bytes[8..12].copy_from_slice(&6u32.to_le_bytes());
    assert_eq!(
        Store::from_snapshot(schema(), &bytes).unwrap_err(),
        SnapshotError::UnsupportedVersion {
            found: 6,
            supported: 5
        }
    );
}

#[test]
fn truncation_anywhere_is_reported() {
    let (s, ..) = populated();
    let bytes = s.to_snapshot().unwrap();
    assert_eq!(
        Store::from_snapshot(schema(), &bytes[..20]).unwrap_err(),
        SnapshotError::Truncated { what: "header" }
    );
    assert_eq!(
        Store::from_snapshot(schema(), &bytes[..41]).unwrap_err(),
        SnapshotError::Truncated { what: "body" }
    );
    let cut = &bytes[..bytes.len() - 1];
    assert_eq!(
        Store::from_snapshot(schema(), cut).unwrap_err(),
        SnapshotError::Truncated { what: "body" }
    );
    let mut long = bytes.clone();
    long.push(0);
    assert_eq!(
        Store::from_snapshot(schema(), &long).unwrap_err(),
        SnapshotError::TrailingBytes { extra: 1 }
    );
    for len in 0..bytes.len() {
        assert!(Store::from_snapshot(schema(), &bytes[..len]).is_err());
    }
}

/// Every bit of a small snapshot, flipped one at a time: the checksum catches each; resealed,
/// each either is refused or loads a store that passes `check_integrity`.
#[test]
fn every_single_bit_flip_is_caught() {
    let (s, ..) = populated();
    let bytes = s.to_snapshot().unwrap();
    for byte in 0..bytes.len() {
        for bit in 0..8 {
            let mut bad = bytes.clone();
            bad[byte] ^= 1 << bit;
            assert!(
                Store::from_snapshot(schema(), &bad).is_err(),
                "flip at {byte}:{bit} accepted"
            );
            // With the checksum recomputed the flip reaches the decoder: whatever loads must
            // pass the integrity check (load refuses everything the checker would).
            reseal(&mut bad);
            if let Ok(loaded) = Store::from_snapshot(schema(), &bad) {
                if let Err(e) = loaded.check_integrity() {
                    panic!("flip at {byte}:{bit} loads but fails its integrity check: {e}");
                }
            }
        }
    }
    let mut bad = bytes.clone();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    assert!(matches!(
        Store::from_snapshot(schema(), &bad),
        Err(SnapshotError::ChecksumMismatch { .. })
    ));
}

#[test]
fn lengths_that_claim_gigabytes_fail_without_allocating() {
    let (s, ..) = populated();
    let bytes = s.to_snapshot().unwrap();
    let mut huge = bytes.clone();
    huge[12..20].copy_from_slice(&(1u64 << 40).to_le_bytes());
    assert_eq!(
        Store::from_snapshot(schema(), &huge).unwrap_err(),
        SnapshotError::Truncated { what: "body" }
    );
    // The description's first length (its tables) claims 2^60: the decoder stops at the
    // end of the input.
    let mut huge = bytes.clone();
    huge.splice(28..29, [0xFD].into_iter().chain((1u64 << 60).to_le_bytes()));
    reseal(&mut huge);
    assert!(matches!(
        Store::from_snapshot(schema(), &huge),
        Err(SnapshotError::Decode {
            part: "description",
            ..
        })
    ));
    // The users' text claims 2^60 bytes.
    let mut huge = bytes;
    let text = huge.windows(5).position(|w| w == b"alice").unwrap();
    let len_at = text - 1;
    assert!(huge[len_at] < 251, "a one-byte length");
    huge.splice(len_at..text, [0xFD].into_iter().chain((1u64 << 60).to_le_bytes()));
    reseal(&mut huge);
    assert!(matches!(
        Store::from_snapshot(schema(), &huge),
        Err(SnapshotError::Decode { part: "users", .. })
    ));
}

#[test]
fn another_schema_is_refused_with_what_differs() {
    #[derive(relata::Entity, Clone, Debug, PartialEq)]
    #[relata(table = "users")]
    struct User2 {
        #[relata(unique)]
        username: String,
        #[relata(unique)]
        email: String,
        age: i32,
    }
    let mut s = Store::new(Schema::builder().entity::<User>().build().unwrap());
    s.insert(user("alice")).unwrap();
    let bytes = s.to_snapshot().unwrap();
    let other = Schema::builder().entity::<User2>().build().unwrap();
    let err = Store::from_snapshot(other, &bytes).unwrap_err();
    assert_eq!(
        err,
        SnapshotError::SchemaMismatch {
            detail: "table users: field age is in the schema but not in the snapshot".into()
        }
    );
    let err = Store::from_snapshot(schema(), &bytes).unwrap_err();
    assert!(
        err.to_string()
            .contains("is in the schema but not in the snapshot"),
        "{err}"
    );
}

/// A field's width or kind is part of the schema a snapshot describes: a snapshot saved with
/// `karma: i64` is refused under `karma: i32` (and the reverse, and `f32` against `f64`),
/// naming the table and field, instead of loading into a store that cannot use it (#17).
#[test]
fn a_change_of_field_width_is_a_schema_mismatch() {
    mod wide {
        #[derive(relata::Entity, Clone, Debug, PartialEq)]
        #[relata(table = "scores")]
        pub struct Score {
            pub karma: i64,
            pub ratio: f64,
        }
    }
    mod narrow {
        #[derive(relata::Entity, Clone, Debug, PartialEq)]
        #[relata(table = "scores")]
        pub struct Score {
            pub karma: i32,
            pub ratio: f64,
        }
    }
    mod single {
        #[derive(relata::Entity, Clone, Debug, PartialEq)]
        #[relata(table = "scores")]
        pub struct Score {
            pub karma: i64,
            pub ratio: f32,
        }
    }
    let schema_of = |b: relata::SchemaBuilder| b.build().unwrap();
    let wide_schema = || schema_of(Schema::builder().entity::<wide::Score>());
    let narrow_schema = || schema_of(Schema::builder().entity::<narrow::Score>());
    let single_schema = || schema_of(Schema::builder().entity::<single::Score>());
    let mut s = Store::new(wide_schema());
    s.insert(wide::Score { karma: 7, ratio: 0.5 }).unwrap();
    let wide_bytes = s.to_snapshot().unwrap();
    let mut n = Store::new(narrow_schema());
    n.insert(narrow::Score { karma: 7, ratio: 0.5 }).unwrap();
    let narrow_bytes = n.to_snapshot().unwrap();
    for (schema, bytes, field) in [
        (narrow_schema(), &wide_bytes, "karma"),
        (wide_schema(), &narrow_bytes, "karma"),
        (single_schema(), &wide_bytes, "ratio"),
    ] {
        match Store::from_snapshot(schema, bytes) {
            Err(SnapshotError::SchemaMismatch { detail }) => {
                assert!(
                    detail.starts_with(&format!("table scores: field {field}")),
                    "{detail}"
                )
            }
            other => panic!("{field}: {other:?}"),
        }
    }
}

#[test]
fn duplicate_unique_values_are_refused() {
    let (s, ..) = populated();
    let mut bytes = s.to_snapshot().unwrap();
    // "bobby" becomes a second "alice" (same length, so every span stays valid).
    assert!(replace_all(&mut bytes, b"bobby", b"alice") > 0);
    reseal(&mut bytes);
    let err = Store::from_snapshot(schema(), &bytes).unwrap_err();
    assert!(
        matches!(
            err,
            SnapshotError::DuplicateUnique {
                table: "users",
                constraint: "uq_users_username",
                ..
            }
        ),
        "{err:?}"
    );
}

/// A key as a snapshot writes it: the slot index, then the version (varints; an index from
/// 251 on takes three bytes, which no other byte run of these small snapshots matches).
fn compact_key(k: relata::RawKey) -> Vec<u8> {
    key_pattern(k)
}

/// Where the link numbers of the last `n` children of `parent` lie in `bytes`: each child's
/// key to its parent is followed by its link number, and the children's table comes last (an
/// earlier part may hold the same bytes by chance).
fn last_link_numbers(bytes: &[u8], parent: relata::RawKey, n: usize) -> Vec<usize> {
    let key = compact_key(parent);
    let at: Vec<usize> = (0..bytes.len() - key.len())
        .filter(|&i| bytes[i..].starts_with(&key))
        .map(|i| i + key.len())
        .collect();
    at[at.len() - n..].to_vec()
}

/// Loads `s`'s snapshot with every reference to `from` (`hits` of them) made to name `to`,
/// checksum resealed; the load must fail.
fn load_redirected(s: &Store, from: Key<User>, to: Key<User>, hits: usize) -> SnapshotError {
    let mut bad = s.to_snapshot().unwrap();
    assert_eq!(
        replace_all(&mut bad, &compact_key(from.raw()), &compact_key(to.raw())),
        hits
    );
    reseal(&mut bad);
    Store::from_snapshot(schema(), &bad).unwrap_err()
}

/// The record a load of `bad` (checksum resealed) reports as dangling, and the key it names.
fn dangling_in(schema: Schema, mut bad: Vec<u8>) -> (relata::RawKey, relata::RawKey) {
    reseal(&mut bad);
    match Store::from_snapshot(schema, &bad).err() {
        Some(SnapshotError::DanglingReference { key, target_key, .. }) => (key, target_key),
        other => panic!("expected a dangling reference, got {other:?}"),
    }
}

#[test]
fn dangling_foreign_keys_are_refused() {
    let mut s = store();
    // Slots from 251 on give keys three-byte indexes that no other bytes of this snapshot match.
    for i in 0..300 {
        s.insert(user(&format!("filler{i}"))).unwrap();
    }
    let alice = s.insert(user("alice")).unwrap();
    let gone = s.insert(user("gone")).unwrap();
    s.delete(gone).unwrap();
    s.insert(post(alice, "one")).unwrap();
    // The post now names the deleted user.
    let err = load_redirected(&s, alice, gone, 1);
    assert!(
        matches!(
            err,
            SnapshotError::DanglingReference {
                table: "posts",
                target: "users",
                ..
            }
        ),
        "{err:?}"
    );
}

/// The rebuild checks each parent slot once, not each child: a slot named with two versions,
/// or a slot index past the parent table, must still be found, and the report must name the
/// first dangling child in slot order.
#[test]
fn a_stale_version_beside_a_live_one_and_a_slot_past_the_table_are_refused() {
    let mut s = store();
    for i in 0..300 {
        s.insert(user(&format!("filler{i}"))).unwrap();
    }
    let old = s.insert(user("old")).unwrap();
    s.delete(old).unwrap();
    let alice = s.insert(user("alice")).unwrap(); // the same slot, a newer version
    assert_eq!(
        alice.raw().to_u64() & 0xffff_ffff,
        old.raw().to_u64() & 0xffff_ffff
    );
    let bob = s.insert(user("bob")).unwrap();
    s.insert(user("dave")).unwrap(); // so the slot count's bytes are not bob's key's
    let first = s.insert(post(bob, "one")).unwrap();
    s.insert(post(alice, "two")).unwrap();
    // The first post names the stale version of alice's slot, the second the live one.
    let err = load_redirected(&s, bob, old, 1);
    let SnapshotError::DanglingReference {
        table: "posts",
        key,
        target_key,
        ..
    } = err
    else {
        panic!("{err:?}")
    };
    assert_eq!((key, target_key), (first.raw(), old.raw()));
    // A child naming a deleted user, then one naming a slot far past the users' slots: the
    // count pass stops at the far one, and still reports the earlier child.
    let mut t = store();
    for i in 0..300 {
        t.insert(user(&format!("filler{i}"))).unwrap();
    }
    let carol = t.insert(user("carol")).unwrap();
    let bob = t.insert(user("bob")).unwrap();
    let gone = t.insert(user("gone")).unwrap();
    t.delete(gone).unwrap();
    let early = t.insert(post(carol, "early")).unwrap();
    t.insert(post(bob, "late")).unwrap();
    let far = relata::RawKey::from_u64(1 << 32 | 16_000); // a three-byte index, as bob's
    let mut bad = t.to_snapshot().unwrap();
    assert_eq!(
        replace_all(&mut bad, &compact_key(carol.raw()), &compact_key(gone.raw())),
        1
    );
    assert_eq!(
        replace_all(&mut bad, &compact_key(bob.raw()), &compact_key(far)),
        1
    );
    assert_eq!(dangling_in(schema(), bad), (early.raw(), gone.raw()));
}

/// Children are counted while a part decodes only when the parent table decoded first; with
/// the posts registered before their users, the children job counts them itself, and a
/// dangling author is still refused, naming the first dangling post.
#[test]
fn children_of_a_parent_table_registered_later_are_counted_by_the_rebuild() {
    let schema = || {
        Schema::builder()
            .entity::<Post>()
            .entity::<User>()
            .build()
            .unwrap()
    };
    let mut s = Store::new(schema());
    for i in 0..300 {
        s.insert(user(&format!("filler{i}"))).unwrap();
    }
    let alice = s.insert(user("alice")).unwrap();
    let bob = s.insert(user("bob")).unwrap();
    let gone = s.insert(user("gone")).unwrap();
    s.delete(gone).unwrap();
    for t in ["one", "two", "three"] {
        s.insert(post(alice, t)).unwrap();
    }
    let first_of_bob = s.insert(post(bob, "four")).unwrap();
    s.insert(post(bob, "five")).unwrap();
    let loaded = Store::from_snapshot(schema(), &s.to_snapshot().unwrap()).unwrap();
    assert!(loaded == s);
    let titles = |st: &Store, u| -> Vec<String> {
        st.children(Post::AUTHOR, u)
            .map(|p| st.get(p).unwrap().title.to_string())
            .collect()
    };
    assert_eq!(titles(&loaded, alice), ["one", "two", "three"]);
    let mut bad = s.to_snapshot().unwrap();
    assert_eq!(
        replace_all(&mut bad, &compact_key(bob.raw()), &compact_key(gone.raw())),
        2
    );
    assert_eq!(dangling_in(schema(), bad), (first_of_bob.raw(), gone.raw()));
}

/// Validation and rebuild run table by table on two threads for a large store (debug builds
/// do so from 64 records on); the error reported is still the first in table order.
#[test]
fn with_two_bad_tables_the_first_in_schema_order_is_reported() {
    let mut s = store();
    for i in 0..300 {
        let u = s.insert(user(&format!("filler{i}"))).unwrap();
        if i % 3 == 0 {
            s.insert(post(u, &format!("filler post {i}"))).unwrap();
        }
    }
    let alice = s.insert(user("alice")).unwrap();
    let gone = s.insert(user("gone")).unwrap();
    s.delete(gone).unwrap();
    s.insert(user("zed")).unwrap(); // so the users' count is not alice's index
    s.insert(post(alice, "one")).unwrap();
    s.insert(Profile {
        bio: "bio".into(),
        user: alice,
    })
    .unwrap();
    assert!(Store::from_snapshot(schema(), &s.to_snapshot().unwrap()).unwrap() == s);
    // Both the profile and the post now name the deleted user.
    let err = load_redirected(&s, alice, gone, 2);
    assert!(
        matches!(
            err,
            SnapshotError::DanglingReference {
                table: "profiles",
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn link_numbers_that_repeat_or_pass_their_counter_are_refused() {
    let mut s = store();
    for i in 0..300 {
        s.insert(user(&format!("filler{i}"))).unwrap();
    }
    let alice = s.insert(user("alice")).unwrap();
    for t in ["a", "b", "c"] {
        s.insert(post(alice, t)).unwrap(); // link numbers 0, 1, 2; the counter is at 3
    }
    let bytes = s.to_snapshot().unwrap();
    let at = &last_link_numbers(&bytes, alice.raw(), 3);
    // Each link number is written as its difference from the one before, zigzagged.
    let write = |bad: &mut Vec<u8>, seqs: [i32; 3]| {
        for (i, &at) in at.iter().enumerate() {
            let delta = seqs[i] - if i == 0 { 0 } else { seqs[i - 1] };
            bad[at] = ((delta << 1) ^ (delta >> 31)) as u8;
        }
        reseal(bad);
    };
    assert_eq!(
        at.iter().map(|&i| bytes[i]).collect::<Vec<_>>(),
        [0, 2, 2],
        "0, 1, 2"
    );
    for (seqs, expected) in [
        ([0, 0, 2], "share link number 0"), // a repeat in slot order
        ([2, 1, 2], "share link number 2"), // a repeat of the newest after one out of order
        ([2, 0, 0], "share link number 0"), // a repeat among those out of order
        ([0, 1, 9], "link number beyond its counter"),
        ([0, 1, -100], "link number beyond its counter"), // a difference below 0: wraps
    ] {
        let mut bad = bytes.clone();
        write(&mut bad, seqs);
        let err = Store::from_snapshot(schema(), &bad).unwrap_err();
        assert!(
            matches!(&err, SnapshotError::Decode { part: "posts", detail } if detail.contains(expected)),
            "{seqs:?}: {err:?}"
        );
    }
    let mut shuffled = bytes.clone();
    write(&mut shuffled, [2, 0, 1]);
    let loaded = Store::from_snapshot(schema(), &shuffled).unwrap();
    let titles: Vec<_> = loaded
        .children(Post::AUTHOR, alice)
        .map(|p| loaded.get(p).unwrap().title.to_string())
        .collect();
    assert_eq!(titles, ["b", "c", "a"], "children follow link numbers, not slots");
}

/// Two many-to-many links sharing a link number (a bit flipped in one, the checksum
/// recomputed) would load and then fail `check_integrity` (their order is ambiguous): load
/// refuses them, as it refuses everything the checker would.
#[test]
fn two_links_sharing_a_link_number_are_refused() {
    const FOLLOWS: relata::ManyToMany<User, Group> =
        relata::ManyToMany::new("follows", "followed", "followers");
    let schema = || {
        Schema::builder()
            .entity::<User>()
            .entity::<Group>()
            .relation(FOLLOWS)
            .build()
            .unwrap()
    };
    let mut s = Store::new(schema());
    for i in 0..300 {
        s.insert(user(&format!("filler{i}"))).unwrap();
    }
    let (u, v) = (s.insert(user("u")).unwrap(), s.insert(user("v")).unwrap());
    let g = s.insert(Group { name: "g".into() }).unwrap();
    s.link(FOLLOWS, u, g).unwrap();
    s.link(FOLLOWS, v, g).unwrap();
    let mut bad = s.to_snapshot().unwrap();
    // The second pair, link number 1, gets the first one's number 0.
    let second: Vec<u8> = [1].into_iter().chain(key_pattern(v.raw())).collect();
    let first: Vec<u8> = [0].into_iter().chain(key_pattern(v.raw())).collect();
    assert_eq!(replace_all(&mut bad, &second, &first), 1);
    reseal(&mut bad);
    let err = Store::from_snapshot(schema(), &bad).unwrap_err();
    assert!(
        matches!(
            err,
            SnapshotError::BadLink {
                problem: "link number repeated or out of order",
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn edges_to_missing_records_and_duplicate_edges_are_refused() {
    const FOLLOWS: relata::ManyToMany<User, Group> =
        relata::ManyToMany::new("follows", "followed", "followers");
    let schema = || {
        Schema::builder()
            .entity::<User>()
            .entity::<Group>()
            .relation(FOLLOWS)
            .build()
            .unwrap()
    };
    let mut s = Store::new(schema());
    for i in 0..300 {
        s.insert(user(&format!("filler{i}"))).unwrap();
    }
    let (u, v) = (s.insert(user("u")).unwrap(), s.insert(user("v")).unwrap());
    let gone = s.insert(user("gone")).unwrap();
    s.delete(gone).unwrap();
    let g = s.insert(Group { name: "g".into() }).unwrap();
    s.link(FOLLOWS, u, g).unwrap();
    s.link(FOLLOWS, v, g).unwrap();
    let bytes = s.to_snapshot().unwrap();
    let pair = |seq: u32, left: Key<User>| enc(&(seq, left.raw(), g.raw()));
    let mut bad = bytes.clone();
    assert_eq!(replace_all(&mut bad, &pair(1, v), &pair(1, gone)), 1);
    reseal(&mut bad);
    let err = Store::from_snapshot(schema(), &bad).unwrap_err();
    assert!(
        matches!(
            err,
            SnapshotError::BadLink {
                problem: "missing end",
                ..
            }
        ),
        "{err:?}"
    );
    let mut dup = bytes;
    assert_eq!(replace_all(&mut dup, &pair(1, v), &pair(1, u)), 1);
    reseal(&mut dup);
    let err = Store::from_snapshot(schema(), &dup).unwrap_err();
    assert!(
        matches!(
            err,
            SnapshotError::BadLink {
                problem: "duplicate",
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn a_failure_at_any_save_step_leaves_a_loadable_snapshot() {
    let (old, alice, _) = populated();
    let mut new = old.fork();
    new.delete(alice).unwrap();
    let dir = std::env::temp_dir().join(format!("relata-crash-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("fixture.snap");
    for step in SaveStep::ALL {
        old.save_to_path(&path).unwrap();
        let err = new.faults().save_to_path_failing_at(&path, step).unwrap_err();
        assert!(
            matches!(
                err,
                SnapshotError::Io {
                    kind: std::io::ErrorKind::Interrupted,
                    ..
                }
            ),
            "{err:?}"
        );
        let on_disk = Store::load_from_path(schema(), &path).unwrap();
        // Before the rename the old file is untouched; after it, the new one is complete.
        let expected = if step == SaveStep::SyncDir { &new } else { &old };
        assert!(on_disk == *expected, "after a failure at {step:?}");
        let leftovers: Vec<_> = std::fs::read_dir(&dir).unwrap().filter_map(Result::ok).collect();
        assert_eq!(leftovers.len(), 1, "temporary file left behind at {step:?}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Eight threads save eight different stores to one path, over and over, while two readers
/// load it: every load sees one of the eight stores whole, every save returns `Ok`, the file
/// ends as one of them, and no temporary file is left.
#[test]
fn saves_to_one_path_from_eight_threads_are_each_atomic() {
    let dir = std::env::temp_dir().join(format!("relata-threads-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("shared.snap");
    let stores: Vec<Store> = (0..8)
        .map(|i| {
            let mut s = store();
            for u in 0..=i {
                s.insert(user(&format!("user{u}"))).unwrap();
            }
            s
        })
        .collect();
    stores[0].save_to_path(&path).unwrap();
    let writing = std::sync::atomic::AtomicUsize::new(stores.len());
    std::thread::scope(|scope| {
        for s in &stores {
            let (path, writing) = (&path, &writing);
            scope.spawn(move || {
                for _ in 0..25 {
                    s.save_to_path(path).unwrap();
                }
                writing.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
            });
        }
        for _ in 0..2 {
            scope.spawn(|| {
                // Bounded, so a writer that panics cannot leave the readers spinning.
                for _ in 0..400 {
                    if writing.load(std::sync::atomic::Ordering::SeqCst) == 0 {
                        break;
                    }
                    let loaded = Store::load_from_path(schema(), &path).unwrap();
                    let n = loaded.count::<User>();
                    assert!(n >= 1 && loaded == stores[n - 1], "a torn or mixed file");
                }
            });
        }
    });
    let last = Store::load_from_path(schema(), &path).unwrap();
    assert!(stores.contains(&last));
    let files: Vec<_> = std::fs::read_dir(&dir).unwrap().filter_map(Result::ok).collect();
    assert_eq!(files.len(), 1, "temporary files left: {files:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A save killed midway leaves its temporary file; the next save to that path removes those of
/// dead processes, and leaves a living process's (a save in progress) alone.
#[cfg(target_os = "linux")]
#[test]
fn the_next_save_removes_temporary_files_of_dead_processes() {
    let dir = std::env::temp_dir().join(format!("relata-stale-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("fixture.snap");
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let dead = child.id();
    child.wait().unwrap();
    let alive = std::process::id();
    let stale = [
        format!(".fixture.snap.tmp-{dead}"),
        format!(".fixture.snap.tmp-{dead}-7"),
    ];
    let kept = [
        format!(".fixture.snap.tmp-{alive}-999999"),
        format!(".other.snap.tmp-{dead}-1"),
    ];
    for name in stale.iter().chain(&kept) {
        std::fs::write(dir.join(name), b"partial").unwrap();
    }
    let (s, ..) = populated();
    s.save_to_path(&path).unwrap();
    let mut left: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    left.sort();
    let mut expected = vec![kept[0].clone(), kept[1].clone(), "fixture.snap".to_string()];
    expected.sort();
    assert_eq!(left, expected);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The schema of `tests/data/golden-v*.snap`. Frozen: never edit these types; a new format or
/// schema gets a new golden file, and the old one keeps its test.
mod golden {
    use relata::{Entity, Key, ManyToMany, Schema, Store};

    #[derive(Entity, Clone, Debug, PartialEq)]
    #[relata(table = "users")]
    pub struct GUser {
        #[relata(unique)]
        pub username: String,
        pub karma: i64,
    }

    #[derive(Entity, Clone, Debug, PartialEq)]
    #[relata(table = "posts", unique(author, title))]
    pub struct GPost {
        #[relata(index)]
        pub title: String,
        pub body: Option<String>,
        #[relata(back = "posts", on_delete = "cascade", order_by = "title")]
        pub author: Key<GUser>,
    }

    #[derive(Entity, Clone, Debug, PartialEq)]
    #[relata(table = "nodes")]
    pub struct GNode {
        pub name: String,
        #[relata(back = "children", on_delete = "cascade", acyclic)]
        pub parent: Option<Key<GNode>>,
    }

    pub const FOLLOWS: ManyToMany<GUser, GUser> =
        ManyToMany::new("follows", "following", "followers").columns("follower_id", "followed_id");

    pub fn schema() -> Schema {
        Schema::builder()
            .entity::<GUser>()
            .entity::<GPost>()
            .entity::<GNode>()
            .relation(FOLLOWS)
            .build()
            .unwrap()
    }

    /// `schema()` with a table added: what the evolving load adapts the golden files to.
    #[derive(Entity, Clone, Debug, PartialEq)]
    #[relata(table = "extras")]
    pub struct GExtra {
        pub name: String,
    }

    pub fn evolved_schema() -> Schema {
        let b = Schema::builder()
            .entity::<GUser>()
            .entity::<GPost>()
            .entity::<GNode>();
        b.entity::<GExtra>().relation(FOLLOWS).build().unwrap()
    }

    pub fn store() -> Store {
        let mut s = Store::new(schema());
        let ada = s
            .insert(GUser {
                username: "ada".into(),
                karma: 42,
            })
            .unwrap();
        let bob = s
            .insert(GUser {
                username: "bob".into(),
                karma: -1,
            })
            .unwrap();
        let gone = s
            .insert(GUser {
                username: "gone".into(),
                karma: 0,
            })
            .unwrap();
        s.delete(gone).unwrap();
        for (title, body) in [("zeta", Some("last")), ("alpha", None), ("mu", Some("ünïcode"))] {
            s.insert(GPost {
                title: title.into(),
                body: body.map(Into::into),
                author: ada,
            })
            .unwrap();
        }
        s.insert(GPost {
            title: "alpha".into(),
            body: None,
            author: bob,
        })
        .unwrap();
        let root = s
            .insert(GNode {
                name: "root".into(),
                parent: None,
            })
            .unwrap();
        let mid = s
            .insert(GNode {
                name: "mid".into(),
                parent: Some(root),
            })
            .unwrap();
        s.insert(GNode {
            name: "leaf".into(),
            parent: Some(mid),
        })
        .unwrap();
        s.link(FOLLOWS, bob, ada).unwrap();
        s.link(FOLLOWS, ada, bob).unwrap();
        s
    }
}

/// Every format this build reads has a golden file; `RELATA_BLESS=1` rewrites the current
/// one (never an older one: those are what old builds wrote).
#[test]
fn the_golden_snapshots_still_load() {
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    if std::env::var_os("RELATA_BLESS").is_some() {
        golden::store().save_to_path(data.join("golden-v5.snap")).unwrap();
    }
    for file in ["golden-v4.snap", "golden-v5.snap"] {
        let loaded = Store::load_from_path(golden::schema(), data.join(file))
            .unwrap_or_else(|e| panic!("{file} must keep loading: {e}"));
        loaded.check_integrity().unwrap();
        assert!(loaded == golden::store(), "{file}: content changed");
        let ada = loaded.find_unique(golden::GUser::BY_USERNAME, "ada").unwrap();
        let titles: Vec<_> = loaded
            .children(golden::GPost::AUTHOR, ada)
            .map(|p| loaded.get(p).unwrap().title.to_string())
            .collect();
        assert_eq!(titles, ["alpha", "mu", "zeta"], "{file}");
        // The evolving load keeps each format's link numbers: adapted to a new table and back.
        let bytes = std::fs::read(data.join(file)).unwrap();
        let (evolved, _) = Store::from_snapshot_evolving(golden::evolved_schema(), &bytes).unwrap();
        let (back, _) =
            Store::from_snapshot_evolving(golden::schema(), &evolved.to_snapshot().unwrap()).unwrap();
        assert!(
            back == golden::store(),
            "{file}: content changed through the evolving load"
        );
    }
    let v5 = std::fs::read(data.join("golden-v5.snap")).unwrap();
    assert_eq!(
        v5,
        golden::store().to_snapshot().unwrap(),
        "format 5 output changed"
    );
    // Formats 1 to 3 are refused by name; docs/SNAPSHOT.md says how to migrate.
    for (file, found) in [
        ("golden-v1.snap", 1),
        ("golden-v2.snap", 2),
        ("golden-v3.snap", 3),
    ] {
        let err = Store::load_from_path(golden::schema(), data.join(file)).unwrap_err();
        assert_eq!(
            err,
            SnapshotError::UnsupportedVersion { found, supported: 5 },
            "{file}"
        );
    }
}

/// Slots freed and reused a few times or thousands of times: the versions are saved and
/// restored as they are, so stale keys stay stale and the next insert behaves as it would
/// have.
#[test]
fn reused_slots_keep_their_versions() {
    for reuses in [3, 10_000] {
        let mut s = store();
        let keep = s.insert(user("keep")).unwrap();
        let mut stale = Vec::new();
        for i in 0..reuses {
            let k = s.insert(user(&format!("temp{i}"))).unwrap();
            s.delete(k).unwrap();
            stale.push(k);
        }
        let vacant = s.insert(user("vacant")).unwrap();
        s.delete(vacant).unwrap();
        let bytes = s.to_snapshot().unwrap();
        let mut loaded = Store::from_snapshot(schema(), &bytes).unwrap();
        loaded.check_integrity().unwrap();
        assert!(loaded == s, "reuses {reuses}");
        assert_eq!(loaded.get(keep).unwrap().username, "keep");
        for k in stale.iter().chain([&vacant]) {
            assert!(
                loaded.get(*k).is_none(),
                "reuses {reuses}: stale key {k:?} found a record"
            );
        }
        let (a, b) = (
            s.insert(user("next")).unwrap(),
            loaded.insert(user("next")).unwrap(),
        );
        assert_eq!(
            a, b,
            "reuses {reuses}: the next insert takes the same slot and version"
        );
    }
}

/// A table's parts that do not decode: a slot whose version says occupied but holds no
/// record (slotmap's own validation), and text that is not UTF-8.
#[test]
fn malformed_parts_are_refused_by_table() {
    let (s, ..) = populated();
    let bytes = s.to_snapshot().unwrap();
    // The users' slots: 4 of them (the sentinel, none, version 0; then alice's: some, ...).
    let at = bytes.windows(5).position(|w| w == [4, 0, 0, 1, 5]).unwrap();
    let text = bytes.windows(5).position(|w| w == b"alice").unwrap();
    // The sentinel's version made odd: occupied, yet holding nothing.
    for (edit, expected) in [((at + 2, 1u8), "inconsistent occupation"), ((text, 0xff), "Utf8")] {
        let mut bad = bytes.clone();
        bad[edit.0] = edit.1;
        reseal(&mut bad);
        let err = Store::from_snapshot(schema(), &bad).unwrap_err();
        assert!(
            matches!(&err, SnapshotError::Decode { part: "users", detail } if detail.contains(expected)),
            "{err:?}"
        );
    }
}

/// Text that is not UTF-8 is refused wherever it lies in the table's text.
#[test]
fn text_that_is_not_utf8_is_refused() {
    let mut s = store();
    let author = s.insert(user("writer")).unwrap();
    for i in 0..300 {
        s.insert(Post {
            title: format!("é{i}ü"),
            content: "ключ ".repeat(i % 7 + 1),
            author,
        })
        .unwrap();
    }
    let good = s.to_snapshot().unwrap();
    let loaded = Store::from_snapshot(schema(), &good).unwrap();
    assert!(loaded == s);
    loaded.check_integrity().unwrap();
    let needle = "ключ".as_bytes();
    let hits: Vec<usize> = (0..good.len() - needle.len())
        .filter(|&i| good[i..].starts_with(needle))
        .collect();
    for at in [hits[0], hits[hits.len() / 2], hits[hits.len() - 1]] {
        let mut bad = good.clone();
        bad[at + 1] = 0xFF;
        reseal(&mut bad);
        match Store::from_snapshot(schema(), &bad) {
            Err(SnapshotError::Decode {
                part: "posts",
                detail,
            }) => assert!(detail.contains("Utf8"), "{detail}"),
            other => panic!("byte {at}: {other:?}"),
        }
    }
}

/// A field may not end inside a char, though the whole text is valid UTF-8.
#[test]
fn a_text_field_ending_inside_a_char_is_refused() {
    let mut s = store();
    let author = s.insert(user("writer")).unwrap();
    // First in the posts' text: "é" (2 bytes) then "ab".
    s.insert(Post {
        title: "é".into(),
        content: "ab".into(),
        author,
    })
    .unwrap();
    let good = s.to_snapshot().unwrap();
    assert!(Store::from_snapshot(schema(), &good).unwrap() == s);
    // The post's slot: some, then the title's and the content's lengths, then its author.
    let row: Vec<u8> = [1, 2, 2].into_iter().chain(key_pattern(author.raw())).collect();
    let at = good.windows(row.len()).position(|w| w == row).unwrap();
    let mut bad = good.clone();
    bad[at + 1..at + 3].copy_from_slice(&[1, 3]); // "\xC3" and "\xA9ab"
    reseal(&mut bad);
    match Store::from_snapshot(schema(), &bad) {
        Err(SnapshotError::Decode {
            part: "posts",
            detail,
        }) => assert!(detail.contains("ends inside a char"), "{detail}"),
        other => panic!("{other:?}"),
    }
}

/// A damaged slot count (`u32::MAX`) on a parent table and a child whose key points at a
/// parent slot index just below it: the load refuses it without sizing anything by that index
/// (before 422dd3d the per-parent child counts grew to the index first: a 50 GB allocation;
/// now the slot count itself is checked against the slots saved, so it is refused first).
#[test]
fn a_child_pointing_near_a_damaged_slot_count_is_refused_without_a_huge_allocation() {
    #[derive(relata::Entity, Clone, Debug, PartialEq)]
    #[relata(table = "parents")]
    struct Parent {
        name: String,
    }
    #[derive(relata::Entity, Clone, Debug, PartialEq)]
    #[relata(table = "kids")]
    struct Kid {
        parent: Key<Parent>,
        tag: u8,
    }
    let schema = || {
        Schema::builder()
            .entity::<Parent>()
            .entity::<Kid>()
            .build()
            .unwrap()
    };
    let mut s = Store::new(schema());
    let p = s.insert(Parent { name: "p".into() }).unwrap();
    s.insert(Kid { parent: p, tag: 0x77 }).unwrap();
    let mut bytes = s.to_snapshot().unwrap();
    // The parents' slot count (2), then no link counters and the text "p".
    let count: Vec<u8> = [enc(&2u32), vec![0, 1, b'p']].concat();
    let huge: Vec<u8> = [enc(&u32::MAX), vec![0, 1, b'p']].concat();
    bytes = replace_grown(&bytes, &count, &huge);
    // The kid's key to slot 1 version 1, then its tag.
    let key: Vec<u8> = [key_pattern(p.raw()), vec![0x77]].concat();
    let far: Vec<u8> = [enc(&(u32::MAX - 1, 1u32)), vec![0x77]].concat();
    bytes = replace_grown(&bytes, &key, &far);
    reseal(&mut bytes);
    let err = Store::from_snapshot(schema(), &bytes).unwrap_err();
    assert!(
        matches!(err, SnapshotError::Decode { part: "parents", .. }),
        "{err:?}"
    );
}

/// A slot count that disagrees with the slots saved (checksum resealed) is refused, larger or
/// smaller: it is derived from the slots, not trusted. Before, a larger count loaded (slots
/// never used then looked used, so a key to one read as stale rather than missing, and every
/// later save wrote the damage again), and so did a smaller one that still covered every live
/// key (a key to the deleted record in the last slot then read as missing, not stale).
#[test]
fn a_slot_count_that_disagrees_with_the_slots_saved_is_refused() {
    #[derive(relata::Entity, Clone, Debug, PartialEq)]
    #[relata(table = "notes")]
    struct Note {
        body: String,
    }
    let schema = || Schema::builder().entity::<Note>().build().unwrap();
    let mut s = Store::new(schema());
    s.insert(Note { body: "a".into() }).unwrap();
    let b = s.insert(Note { body: "b".into() }).unwrap();
    s.delete(b).unwrap();
    let bytes = s.to_snapshot().unwrap();
    assert!(Store::from_snapshot(schema(), &bytes).is_ok());
    // Three slots (0, a's, b's); then no link counters and the text "a".
    let count: Vec<u8> = [enc(&3u32), vec![0, 1, b'a']].concat();
    for damaged in [2u32, 4, 9] {
        let mut bad = replace_grown(&bytes, &count, &[enc(&damaged), vec![0, 1, b'a']].concat());
        reseal(&mut bad);
        let err = Store::from_snapshot(schema(), &bad).unwrap_err();
        assert!(
            matches!(err, SnapshotError::Decode { part: "notes", .. }),
            "count {damaged}: {err:?}"
        );
    }
}

/// `bytes` with the one occurrence of `from` replaced by `to` (of any length).
fn replace_grown(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let at: Vec<usize> = (0..bytes.len())
        .filter(|&i| bytes[i..].starts_with(from))
        .collect();
    assert_eq!(at.len(), 1, "{from:?} occurs once");
    [&bytes[..at[0]], to, &bytes[at[0] + from.len()..]].concat()
}

/// A loaded id counter far above the ids (here 2^62 over one record with id 1, as a damaged
/// or hostile snapshot can hold: a counter only has to be above every id): the next insert
/// under the SQLite profile, which hands out the largest id plus one, answers at once. Before,
/// it walked down from the counter one id at a time, about 2^62 look-ups: it never returned.
#[test]
fn an_id_counter_far_above_the_ids_does_not_stall_the_next_insert() {
    #[derive(relata::Entity, Clone, Debug, PartialEq)]
    #[relata(table = "tagged")]
    struct Tagged {
        #[relata(id)]
        id: i64,
        name: String,
    }
    let schema = || Schema::builder().entity::<Tagged>().build().unwrap();
    let mut s = Store::new(schema());
    s.insert(Tagged {
        id: 0,
        name: "zq".into(),
    })
    .unwrap();
    let mut bytes = s.to_snapshot().unwrap();
    // No link counters, the text "zq", then the id counter (2).
    bytes = replace_grown(
        &bytes,
        &[0, 2, b'z', b'q', 2],
        &[&[0, 2, b'z', b'q'][..], &enc(&(1u64 << 62))].concat(),
    );
    reseal(&mut bytes);
    let mut loaded = Store::from_snapshot(schema(), &bytes).unwrap();
    loaded.check_integrity().unwrap();
    let k = loaded
        .insert(Tagged {
            id: 0,
            name: "n".into(),
        })
        .unwrap();
    assert_eq!(
        loaded.get(k).unwrap().id,
        2,
        "SQLite's next id: the largest plus one"
    );
}

/// A post in a list ordered by its title, not by link number.
#[derive(relata::Entity, Clone, Debug, PartialEq)]
#[relata(table = "ranked_posts")]
struct Ranked {
    title: String,
    #[relata(back = "ranked", on_delete = "cascade", order_by = "title")]
    author: Key<User>,
}

/// A list ordered by a field is still a list of distinct link numbers: two children sharing
/// one would load and then fail `check_integrity`, so the load refuses them (review finding).
#[test]
fn repeated_link_numbers_under_an_ordered_key_are_refused() {
    let schema = || {
        Schema::builder()
            .entity::<User>()
            .entity::<Ranked>()
            .build()
            .unwrap()
    };
    let mut s = Store::new(schema());
    for i in 0..300 {
        s.insert(user(&format!("filler{i}"))).unwrap();
    }
    let alice = s.insert(user("alice")).unwrap();
    for t in ["c", "a", "b"] {
        let title = t.into();
        s.insert(Ranked { title, author: alice }).unwrap(); // link numbers 0, 1, 2
    }
    let mut bad = s.to_snapshot().unwrap();
    let at = &last_link_numbers(&bad, alice.raw(), 3);
    assert_eq!(
        at.iter().map(|&i| bad[i]).collect::<Vec<_>>(),
        [0, 2, 2],
        "0, 1, 2"
    );
    bad[at[1]] = 0; // the second post repeats the first's number
    reseal(&mut bad);
    let err = Store::from_snapshot(schema(), &bad).unwrap_err();
    assert!(
        matches!(&err, SnapshotError::Decode { part: "ranked_posts", detail } if detail.contains("share link number 0")),
        "{err:?}"
    );
}
