//! Snapshots saved before a schema change, loaded after it (`Store::from_snapshot_evolving`):
//! each additive change is adapted and reported, with every key kept; anything else is
//! refused naming the table, field and record.

use relata::{Adaptation, Entity, Error, Key, ManyToMany, RawKey, Schema, SnapshotError, Store};

/// Version 1 of the schema: the snapshot fixtures are saved with it.
mod v1 {
    use relata::{Entity, Key};

    #[derive(Entity, Clone, Debug, PartialEq)]
    #[relata(table = "users")]
    pub struct User {
        #[relata(unique)]
        pub name: String,
        pub karma: i32,
        pub team: String,
        pub bio: String,
    }

    #[derive(Entity, Clone, Debug, PartialEq)]
    #[relata(table = "posts")]
    pub struct Post {
        #[relata(on_delete = "cascade")]
        pub author: Key<User>,
        pub title: String,
    }

    #[derive(Entity, Clone, Debug, PartialEq)]
    #[relata(table = "audit")]
    pub struct Audit {
        pub line: String,
    }
}

/// v1's schema, with the audit table and the relation.
fn v1_schema() -> Schema {
    Schema::builder()
        .entity::<v1::User>()
        .entity::<v1::Post>()
        .entity::<v1::Audit>()
        .relation(V1_LIKES)
        .build()
        .unwrap()
}

const V1_LIKES: ManyToMany<v1::User, v1::Post> = ManyToMany::new("likes", "liked", "likers");

/// A v1 snapshot: three users (a deleted one between them, so a stale key exists), posts, an
/// audit line, two likes. Returns the bytes, the live users' keys and the stale key.
fn v1_snapshot() -> (Vec<u8>, Vec<RawKey>, RawKey) {
    let mut s = Store::new(v1_schema());
    let user = |name: &str, team: &str| v1::User {
        name: name.into(),
        karma: 7,
        team: team.into(),
        bio: format!("{name} writes"),
    };
    let ada = s.insert(user("ada", "red")).unwrap();
    let gone = s.insert(user("gone", "red")).unwrap();
    let bob = s.insert(user("bob", "red")).unwrap();
    s.delete(gone).unwrap();
    let cy = s.insert(user("cy", "blue")).unwrap();
    let post = s
        .insert(v1::Post {
            author: ada,
            title: "hello".into(),
        })
        .unwrap();
    s.insert(v1::Post {
        author: bob,
        title: "again".into(),
    })
    .unwrap();
    s.insert(v1::Audit {
        line: "created".into(),
    })
    .unwrap();
    s.link(V1_LIKES, bob, post).unwrap();
    s.link(V1_LIKES, cy, post).unwrap();
    let keys = vec![ada.raw(), bob.raw(), cy.raw()];
    (s.to_snapshot().unwrap(), keys, gone.raw())
}

/// Loads the v1 snapshot under `schema`.
fn evolve(schema: Schema) -> Result<(Store, Vec<Adaptation>), SnapshotError> {
    Store::from_snapshot_evolving(schema, &v1_snapshot().0)
}

#[test]
fn an_unchanged_schema_loads_with_nothing_adapted() {
    let (store, adapted) = evolve(v1_schema()).unwrap();
    assert!(adapted.is_empty());
    assert_eq!(store.count::<v1::User>(), 3);
}

mod option_added {
    use super::*;

    #[derive(Entity, Clone, Debug, PartialEq)]
    #[relata(table = "users")]
    pub struct User {
        #[relata(unique)]
        pub name: String,
        pub karma: i32,
        pub team: String,
        pub nickname: Option<String>,
        pub bio: String,
        pub mentor: Option<Key<User>>,
    }

    #[test]
    fn a_new_option_field_reads_as_none_and_every_key_survives() {
        let schema = Schema::builder()
            .entity::<User>()
            .entity::<v1::Audit>()
            .build()
            .unwrap();
        let (bytes, keys, stale) = v1_snapshot();
        let (mut store, adapted) = Store::from_snapshot_evolving(schema, &bytes).unwrap();
        store.check_integrity().unwrap();
        for (raw, name) in keys.iter().zip(["ada", "bob", "cy"]) {
            let user = store.get(Key::<User>::from_raw(*raw)).unwrap();
            assert_eq!((&*user.name, user.nickname, user.mentor), (name, None, None));
            assert_eq!(&*user.bio, format!("{name} writes"));
        }
        assert!(
            store.get(Key::<User>::from_raw(stale)).is_none(),
            "a stale key stays stale"
        );
        let added = |field| Adaptation::FieldAdded {
            table: "users",
            field,
        };
        assert!(adapted.contains(&added("nickname")) && adapted.contains(&added("mentor")));
        // The loaded store works as any: the unique constraint holds, new keys are fresh.
        let dup = User {
            name: "ada".into(),
            karma: 0,
            team: "x".into(),
            nickname: None,
            bio: String::new(),
            mentor: None,
        };
        assert!(matches!(
            store.insert(dup.clone()),
            Err(Error::UniqueViolation { .. })
        ));
        let new = store
            .insert(User {
                name: "dee".into(),
                ..dup
            })
            .unwrap();
        assert!(!keys.contains(&new.raw()) && new.raw() != stale);
    }
}

mod default_added {
    use super::*;

    #[derive(Entity, Clone, Debug, PartialEq)]
    #[relata(table = "users")]
    pub struct User {
        #[relata(unique)]
        pub name: String,
        pub karma: i32,
        pub team: String,
        pub bio: String,
        #[relata(default = "member".to_string())]
        pub role: String,
        #[relata(default = 0)]
        pub logins: u64,
        #[relata(default = Some(1.5))]
        pub score: Option<f64>,
    }

    #[test]
    fn a_new_field_with_a_declared_default_reads_as_the_default() {
        let schema = Schema::builder()
            .entity::<User>()
            .entity::<v1::Audit>()
            .build()
            .unwrap();
        let (bytes, keys, _) = v1_snapshot();
        let (store, adapted) = Store::from_snapshot_evolving(schema, &bytes).unwrap();
        store.check_integrity().unwrap();
        for raw in keys {
            let user = store.get(Key::<User>::from_raw(raw)).unwrap();
            assert_eq!((&*user.role, user.logins, user.score), ("member", 0, Some(1.5)));
        }
        for field in ["role", "logins", "score"] {
            assert!(adapted.contains(&Adaptation::FieldAdded {
                table: "users",
                field
            }));
        }
    }
}

mod dropped {
    use super::*;

    /// `team` and `bio` dropped, `karma` moved: fields are matched by name.
    #[derive(Entity, Clone, Debug, PartialEq)]
    #[relata(table = "users")]
    pub struct User {
        pub karma: i32,
        #[relata(unique)]
        pub name: String,
    }

    #[test]
    fn a_dropped_field_table_and_relation_are_left_out_and_reported() {
        let schema = Schema::builder().entity::<User>().build().unwrap();
        let (bytes, keys, _) = v1_snapshot();
        let (store, adapted) = Store::from_snapshot_evolving(schema, &bytes).unwrap();
        store.check_integrity().unwrap();
        let ada = store.get(Key::<User>::from_raw(keys[0])).unwrap();
        assert_eq!((&*ada.name, ada.karma), ("ada", 7));
        let expected = [
            Adaptation::FieldDropped {
                table: "users",
                field: "team".into(),
            },
            Adaptation::FieldDropped {
                table: "users",
                field: "bio".into(),
            },
            Adaptation::TableDropped {
                table: "posts".into(),
                records: 2,
            },
            Adaptation::TableDropped {
                table: "audit".into(),
                records: 1,
            },
            Adaptation::RelationDropped {
                relation: "likes".into(),
                links: 2,
            },
        ];
        assert_eq!(adapted, expected);
        assert_eq!(
            store.to_json().matches("writes").count(),
            0,
            "the dropped text is gone"
        );
    }
}

mod added {
    use super::*;

    #[derive(Entity, Clone, Debug, PartialEq)]
    #[relata(table = "tags")]
    pub struct Tag {
        #[relata(unique)]
        pub label: String,
    }

    const TAGGED: ManyToMany<v1::Post, Tag> = ManyToMany::new("tagged", "tags", "posts");
    const FOLLOWS: ManyToMany<v1::User, v1::User> =
        ManyToMany::new("follows", "following", "followers").columns("follower_id", "followed_id");

    #[test]
    fn a_new_table_and_new_relations_load_empty_and_the_old_links_are_kept() {
        let schema = Schema::builder()
            .entity::<Tag>()
            .entity::<v1::User>()
            .entity::<v1::Post>()
            .entity::<v1::Audit>()
            .relation(TAGGED)
            .relation(V1_LIKES)
            .relation(FOLLOWS)
            .build()
            .unwrap();
        let (bytes, keys, _) = v1_snapshot();
        let (mut store, adapted) = Store::from_snapshot_evolving(schema, &bytes).unwrap();
        store.check_integrity().unwrap();
        assert_eq!(
            adapted,
            [
                Adaptation::TableAdded { table: "tags" },
                Adaptation::RelationAdded { relation: "tagged" },
                Adaptation::RelationAdded { relation: "follows" },
            ]
        );
        assert_eq!(store.count::<Tag>(), 0);
        let (bob, cy) = (Key::<v1::User>::from_raw(keys[1]), Key::from_raw(keys[2]));
        let liked: Vec<_> = store.rights(V1_LIKES, bob).collect();
        assert_eq!(liked.len(), 1, "the kept relation's links survive");
        assert_eq!(store.rights(FOLLOWS, bob).count(), 0);
        store.link(FOLLOWS, bob, cy).unwrap();
        let tag = store.insert(Tag { label: "rust".into() }).unwrap();
        let post = liked[0];
        store.link(TAGGED, post, tag).unwrap();
        store.check_integrity().unwrap();
    }
}

/// `T` to `Option<T>` (SQL's DROP NOT NULL) and back (SET NOT NULL, when no record holds NULL).
mod nullability {
    use super::*;

    /// v1's `users` with `karma` and `bio` now optional.
    #[derive(Entity, Clone, Debug, PartialEq)]
    #[relata(table = "users")]
    pub struct User {
        #[relata(unique)]
        pub name: String,
        pub karma: Option<i32>,
        pub team: String,
        pub bio: Option<String>,
    }

    /// The same table, required again.
    mod required {
        #[derive(relata::Entity, Clone, Debug, PartialEq)]
        #[relata(table = "users")]
        pub struct User {
            #[relata(unique)]
            pub name: String,
            pub karma: i32,
            pub team: String,
            pub bio: String,
        }
    }
    use required::User as Required;

    fn made_optional() -> (Store, Vec<Adaptation>, Vec<RawKey>) {
        let schema = Schema::builder()
            .entity::<User>()
            .entity::<v1::Audit>()
            .build()
            .unwrap();
        let (bytes, keys, _) = v1_snapshot();
        let (store, adapted) = Store::from_snapshot_evolving(schema, &bytes).unwrap();
        (store, adapted, keys)
    }

    #[test]
    fn a_required_field_made_optional_loads_each_value_as_some() {
        let (mut store, adapted, keys) = made_optional();
        store.check_integrity().unwrap();
        for (raw, name) in keys.iter().zip(["ada", "bob", "cy"]) {
            let user = store.get(Key::<User>::from_raw(*raw)).unwrap();
            assert_eq!(
                (user.karma, user.bio.as_deref()),
                (Some(7), Some(&*format!("{name} writes")))
            );
        }
        let optional = |field| Adaptation::NullabilityChanged {
            table: "users",
            field,
            nullable: true,
        };
        assert_eq!(adapted[..2], [optional("karma"), optional("bio")]);
        assert_eq!(
            adapted[0].to_string(),
            "field users.karma now nullable (DROP NOT NULL)"
        );
        let ada = Key::<User>::from_raw(keys[0]);
        store.update(ada, |u| u.bio = None).unwrap();
        store.check_integrity().unwrap();
    }

    #[test]
    fn an_optional_field_made_required_loads_when_no_record_holds_null() {
        let (store, ..) = made_optional();
        let bytes = store.to_snapshot().unwrap();
        let schema = || Schema::builder().entity::<Required>().build().unwrap();
        let (back, adapted) = Store::from_snapshot_evolving(schema(), &bytes).unwrap();
        back.check_integrity().unwrap();
        let required = |field| Adaptation::NullabilityChanged {
            table: "users",
            field,
            nullable: false,
        };
        assert_eq!(adapted[..2], [required("karma"), required("bio")]);
        assert_eq!(
            adapted[1].to_string(),
            "field users.bio now required (SET NOT NULL)"
        );
        assert_eq!(back.count::<Required>(), 3);
        assert!(back
            .iter::<Required>()
            .all(|(_, u)| u.karma == 7 && u.bio.ends_with(" writes")));
    }

    #[test]
    fn an_optional_field_made_required_is_refused_naming_the_first_record_holding_null() {
        let (mut store, _, keys) = made_optional();
        for raw in [keys[2], keys[1]] {
            store
                .update(Key::<User>::from_raw(raw), |u| u.bio = None)
                .unwrap();
        }
        let bytes = store.to_snapshot().unwrap();
        let schema = Schema::builder().entity::<Required>().build().unwrap();
        let err = Store::from_snapshot_evolving(schema, &bytes).unwrap_err();
        assert_eq!(
            err,
            SnapshotError::NullInRequiredField {
                table: "users",
                field: "bio",
                key: keys[2], // cy took the deleted user's slot, before bob's
            }
        );
        assert!(err.to_string().contains(&format!("users[{}]", keys[2])), "{err}");
    }

    /// An option tag byte other than 0 (`None`) or 1 (`Some`) on a field made required is a
    /// corrupt snapshot ([`SnapshotError::Decode`]), not a record holding `None`.
    #[test]
    fn a_corrupt_option_tag_on_a_field_made_required_is_a_decode_error() {
        let (mut store, _, keys) = made_optional();
        // karma 123 (zigzag 246, one varint byte) behind its `Some` tag: a pair found once.
        let ada = Key::<User>::from_raw(keys[0]);
        store.update(ada, |u| u.karma = Some(123)).unwrap();
        let mut bytes = store.to_snapshot().unwrap();
        let at: Vec<usize> = (0..bytes.len() - 1)
            .filter(|&i| bytes[i..i + 2] == [1, 246])
            .collect();
        assert_eq!(at.len(), 1, "{at:?}");
        let schema = || Schema::builder().entity::<Required>().build().unwrap();
        for tag in [2u8, 255] {
            bytes[at[0]] = tag;
            relata::__private::reseal(&mut bytes);
            let err = Store::from_snapshot_evolving(schema(), &bytes).unwrap_err();
            assert!(matches!(err, SnapshotError::Decode { .. }), "tag {tag}: {err:?}");
        }
    }
}

/// The Rust type of a table renamed, the table kept: loaded and reported.
mod renamed_type {
    use super::*;

    #[derive(Entity, Clone, Debug, PartialEq)]
    #[relata(table = "users")]
    pub struct Member {
        #[relata(unique)]
        pub name: String,
        pub karma: i32,
        pub team: String,
        pub bio: String,
    }

    #[test]
    fn a_renamed_type_is_reported() {
        let schema = Schema::builder().entity::<Member>().build().unwrap();
        let (bytes, keys, _) = v1_snapshot();
        assert!(matches!(
            Store::from_snapshot(schema.clone(), &bytes),
            Err(SnapshotError::SchemaMismatch { .. })
        ));
        let (store, adapted) = Store::from_snapshot_evolving(schema, &bytes).unwrap();
        let renamed = Adaptation::TypeRenamed {
            table: "users",
            from: "User".into(),
            to: "Member",
        };
        assert_eq!(adapted[0], renamed);
        assert_eq!(renamed.to_string(), "table users: type User renamed Member");
        assert_eq!(&*store.get(Key::<Member>::from_raw(keys[0])).unwrap().name, "ada");
    }
}

/// Refused changes: each names the table and field, and the record when the data is at fault.
mod refused {
    use super::*;

    mod wider {
        use relata::Entity;
        #[derive(Entity, Clone, Debug, PartialEq)]
        #[relata(table = "users")]
        pub struct User {
            #[relata(unique)]
            pub name: String,
            pub karma: i64,
            pub team: String,
            pub bio: String,
        }
    }

    #[test]
    fn a_type_change_is_refused_naming_table_and_field() {
        let schema = Schema::builder().entity::<wider::User>().build().unwrap();
        let err = evolve(schema).unwrap_err();
        let SnapshotError::FieldTypeChanged { table, field, detail } = &err else {
            panic!("{err:?}")
        };
        assert_eq!((*table, *field), ("users", "karma"));
        assert!(detail.contains("I32") && detail.contains("I64"), "{detail}");
    }

    mod nullable_wider {
        use relata::Entity;
        #[derive(Entity, Clone, Debug, PartialEq)]
        #[relata(table = "users")]
        pub struct User {
            #[relata(unique)]
            pub name: String,
            pub karma: Option<i64>,
        }
    }

    #[test]
    fn a_type_change_made_with_a_nullability_change_is_refused() {
        let schema = Schema::builder()
            .entity::<nullable_wider::User>()
            .build()
            .unwrap();
        let err = evolve(schema).unwrap_err();
        assert!(
            matches!(
                err,
                SnapshotError::FieldTypeChanged {
                    table: "users",
                    field: "karma",
                    ..
                }
            ),
            "{err:?}"
        );
    }

    mod required {
        use relata::Entity;
        #[derive(Entity, Clone, Debug, PartialEq)]
        #[relata(table = "users")]
        pub struct User {
            #[relata(unique)]
            pub name: String,
            pub level: u8,
        }
    }

    #[test]
    fn a_new_required_field_without_a_default_is_refused_naming_a_record() {
        let schema = Schema::builder().entity::<required::User>().build().unwrap();
        let (bytes, keys, _) = v1_snapshot();
        let err = Store::from_snapshot_evolving(schema, &bytes).unwrap_err();
        assert_eq!(
            err,
            SnapshotError::MissingDefault {
                table: "users",
                field: "level",
                key: keys[0],
            }
        );
        assert!(err.to_string().contains("users.level"), "{err}");
    }

    mod two_faults {
        use relata::{Entity, Key};
        #[derive(Entity, Clone, Debug, PartialEq)]
        #[relata(table = "users")]
        pub struct User {
            #[relata(unique)]
            pub name: String,
            pub level: u8,
        }
        #[derive(Entity, Clone, Debug, PartialEq)]
        #[relata(table = "posts")]
        pub struct Post {
            #[relata(on_delete = "cascade")]
            pub author: Key<User>,
            pub title: i64,
        }
    }

    /// With two refused changes, the first in table (and field) order is reported, whichever
    /// kind it is: here the users' missing default, before the posts' type change.
    #[test]
    fn of_two_refused_changes_the_first_table_s_is_reported() {
        let schema = Schema::builder()
            .entity::<two_faults::User>()
            .entity::<two_faults::Post>()
            .build()
            .unwrap();
        let (bytes, keys, _) = v1_snapshot();
        let err = Store::from_snapshot_evolving(schema, &bytes).unwrap_err();
        assert_eq!(
            err,
            SnapshotError::MissingDefault {
                table: "users",
                field: "level",
                key: keys[0],
            }
        );
    }

    mod scored {
        use relata::{Entity, Key};
        #[derive(Entity, Clone, Debug, PartialEq)]
        #[relata(table = "posts")]
        pub struct Post {
            #[relata(on_delete = "cascade")]
            pub author: Key<super::super::v1::User>,
            pub title: String,
            pub score: u8,
        }
    }

    /// A new required field with no default needs no value in a table with no records.
    #[test]
    fn a_new_required_field_of_an_empty_table_loads() {
        let mut old = Store::new(v1_schema());
        old.insert(v1::User {
            name: "ada".into(),
            karma: 1,
            team: "red".into(),
            bio: String::new(),
        })
        .unwrap();
        let bytes = old.to_snapshot().unwrap();
        let schema = Schema::builder()
            .entity::<v1::User>()
            .entity::<scored::Post>()
            .build()
            .unwrap();
        let (store, adapted) = Store::from_snapshot_evolving(schema, &bytes).unwrap();
        assert!(adapted.contains(&Adaptation::FieldAdded {
            table: "posts",
            field: "score"
        }));
        assert_eq!(store.count::<scored::Post>(), 0);
        store.check_integrity().unwrap();
    }

    mod unique_team {
        use relata::Entity;
        #[derive(Entity, Clone, Debug, PartialEq)]
        #[relata(table = "users")]
        pub struct User {
            #[relata(unique)]
            pub name: String,
            pub karma: i32,
            #[relata(unique)]
            pub team: String,
            pub bio: String,
        }
    }

    #[test]
    fn a_new_unique_constraint_the_data_violates_is_refused_naming_both_records() {
        let schema = Schema::builder().entity::<unique_team::User>().build().unwrap();
        let (bytes, keys, _) = v1_snapshot();
        let err = Store::from_snapshot_evolving(schema, &bytes).unwrap_err();
        assert_eq!(
            err,
            SnapshotError::DuplicateUnique {
                table: "users",
                constraint: "uq_users_team",
                keys: [keys[0], keys[1]],
            }
        );
    }

    mod other_parent {
        use relata::{Entity, Key};
        #[derive(Entity, Clone, Debug, PartialEq)]
        #[relata(table = "audit")]
        pub struct Audit {
            pub line: String,
        }
        /// `author` now references the audit table: a new foreign key the data breaks.
        #[derive(Entity, Clone, Debug, PartialEq)]
        #[relata(table = "posts")]
        pub struct Post {
            #[relata(on_delete = "cascade")]
            pub author: Key<Audit>,
            pub title: String,
        }
    }

    /// A key moved to another table is a type change, refused whatever the data: the saved
    /// keys name slots of the old target, which may hold live, unrelated records of the new
    /// one. (Before, only a key that happened to dangle there was refused.)
    #[test]
    fn a_key_moved_to_another_table_is_refused_as_a_type_change() {
        let schema = Schema::builder()
            .entity::<v1::User>()
            .entity::<other_parent::Post>()
            .entity::<other_parent::Audit>()
            .build()
            .unwrap();
        let (bytes, _, _) = v1_snapshot();
        let err = Store::from_snapshot_evolving(schema, &bytes).unwrap_err();
        let SnapshotError::FieldTypeChanged { table, field, detail } = err else {
            panic!("{err:?}")
        };
        assert_eq!((table, field), ("posts", "author"));
        assert_eq!(detail, "a key to users in the snapshot, to audit in the schema");
    }

    fn short_team(u: &checked::User) -> bool {
        u.team.len() <= 3
    }

    mod checked {
        use relata::Entity;
        #[derive(Entity, Clone, Debug, PartialEq)]
        #[relata(table = "users", check(super::short_team))]
        pub struct User {
            #[relata(unique, max_len = 3)]
            pub name: String,
            pub karma: i32,
            pub team: String,
            pub bio: String,
        }
    }

    #[test]
    fn a_new_check_the_data_violates_is_refused_naming_the_record() {
        let schema = Schema::builder().entity::<checked::User>().build().unwrap();
        let (bytes, keys, _) = v1_snapshot();
        let err = Store::from_snapshot_evolving(schema, &bytes).unwrap_err();
        let SnapshotError::Rejected { table, key, error } = &err else {
            panic!("{err:?}")
        };
        assert_eq!((*table, *key), ("users", keys[2]), "cy's team is blue");
        assert!(matches!(**error, Error::CheckViolation { .. }), "{error:?}");
    }

    /// CHECK and `max_len` are not in a snapshot's description, so the strict load (same
    /// fields, nothing to adapt) checks every record against them too.
    #[test]
    fn the_strict_load_checks_a_new_check_as_well() {
        let mut old = Store::new(Schema::builder().entity::<v1::User>().build().unwrap());
        let user = v1::User {
            name: "ada".into(),
            karma: 1,
            team: "blue".into(),
            bio: String::new(),
        };
        let ada = old.insert(user).unwrap();
        let schema = Schema::builder().entity::<checked::User>().build().unwrap();
        let err = Store::from_snapshot(schema, &old.to_snapshot().unwrap()).unwrap_err();
        assert!(
            matches!(&err, SnapshotError::Rejected { table: "users", key, .. } if *key == ada.raw()),
            "{err:?}"
        );
    }
}

mod lengths {
    use super::*;

    #[derive(Entity, Clone, Debug, PartialEq)]
    #[relata(table = "users")]
    pub struct User {
        #[relata(unique, max_len = 2)]
        pub name: String,
        pub karma: i32,
        pub team: String,
        pub bio: String,
    }

    #[test]
    fn a_new_max_len_the_data_exceeds_is_refused_naming_the_record() {
        let schema = Schema::builder().entity::<User>().build().unwrap();
        let (bytes, keys, _) = v1_snapshot();
        let err = Store::from_snapshot_evolving(schema, &bytes).unwrap_err();
        let SnapshotError::Rejected { table, key, error } = &err else {
            panic!("{err:?}")
        };
        assert_eq!((*table, *key), ("users", keys[0]), "ada has 3 characters");
        assert!(
            matches!(
                **error,
                Error::TooLong {
                    limit: 2,
                    length: 3,
                    ..
                }
            ),
            "{error:?}"
        );
    }
}

mod relation_moved {
    use super::*;

    const LIKES: ManyToMany<v1::User, v1::Audit> = ManyToMany::new("likes", "liked", "likers");

    #[test]
    fn a_relation_joining_other_tables_is_refused() {
        let schema = Schema::builder()
            .entity::<v1::User>()
            .entity::<v1::Audit>()
            .relation(LIKES)
            .build()
            .unwrap();
        let err = evolve(schema).unwrap_err();
        assert!(
            matches!(
                err,
                SnapshotError::RelationChanged {
                    relation: "likes",
                    ..
                }
            ),
            "{err:?}"
        );
    }
}

/// Every bit of a v1 snapshot flipped (checksum recomputed, so the damage reaches the walk
/// over the old rows): an evolving load never panics, and what loads passes the integrity
/// check.
#[test]
fn every_bit_flip_of_an_evolving_load_errs_or_loads_whole() {
    let schema = || {
        Schema::builder()
            .entity::<default_added::User>()
            .entity::<added::Tag>()
            .build()
            .unwrap()
    };
    let (bytes, ..) = v1_snapshot();
    assert!(Store::from_snapshot_evolving(schema(), &bytes).is_ok());
    let mut loaded = 0;
    for byte in 0..bytes.len() {
        for bit in 0..8 {
            let mut bad = bytes.clone();
            bad[byte] ^= 1 << bit;
            relata::__private::reseal(&mut bad);
            if let Ok((store, _)) = Store::from_snapshot_evolving(schema(), &bad) {
                loaded += 1;
                if let Err(e) = store.check_integrity() {
                    panic!("flip at {byte}:{bit} loads but fails its integrity check: {e}");
                }
            }
        }
    }
    assert!(loaded > 0, "some flips (in text, say) still load");
}

/// `bytes` with every occurrence of `from` replaced by `to` (of the same length), resealed.
fn replaced(mut bytes: Vec<u8>, from: &[u8], to: &[u8]) -> Vec<u8> {
    assert_eq!(from.len(), to.len());
    let mut found = false;
    for at in 0..=bytes.len() - from.len() {
        if &bytes[at..at + from.len()] == from {
            bytes[at..at + from.len()].copy_from_slice(to);
            found = true;
        }
    }
    assert!(found, "{from:?} is in the snapshot");
    relata::__private::reseal(&mut bytes);
    bytes
}

/// Damaged or hostile descriptions an evolving load must refuse: matched by name, a name the
/// snapshot holds twice, or a count it misstates, would lose or misreport records.
mod malformed {
    use super::*;

    mod old {
        use relata::Entity;
        #[derive(Entity, Clone, Debug, PartialEq)]
        #[relata(table = "notes")]
        pub struct Note {
            pub line: String,
        }
        #[derive(Entity, Clone, Debug, PartialEq)]
        #[relata(table = "notez")]
        pub struct Other {
            pub line: String,
        }
        #[derive(Entity, Clone, Debug, PartialEq)]
        #[relata(table = "notes")]
        pub struct Twin {
            pub line: String,
            pub linz: String,
        }
    }

    /// `notes` with a new field: loading any of the snapshots below is an evolving load.
    #[derive(Entity, Clone, Debug, PartialEq)]
    #[relata(table = "notes")]
    pub struct Note {
        pub line: String,
        pub extra: Option<i32>,
    }

    const PINS: ManyToMany<old::Note, old::Note> =
        ManyToMany::new("pins", "pinned", "pinners").columns("pinner_id", "pinned_id");
    const PINZ: ManyToMany<old::Note, old::Note> =
        ManyToMany::new("pinz", "pinnez", "pinnerz").columns("pinnex_id", "pinnez_id");
    const NEW_PINS: ManyToMany<Note, Note> =
        ManyToMany::new("pins", "pinned", "pinners").columns("pinner_id", "pinned_id");

    fn note(line: &str) -> old::Note {
        old::Note { line: line.into() }
    }

    #[test]
    fn a_table_named_twice_is_refused_naming_it() {
        let mut s = Store::new(
            Schema::builder()
                .entity::<old::Note>()
                .entity::<old::Other>()
                .build()
                .unwrap(),
        );
        s.insert(note("kept?")).unwrap();
        s.insert(old::Other {
            line: "or this?".into(),
        })
        .unwrap();
        let bytes = replaced(s.to_snapshot().unwrap(), b"notez", b"notes");
        let schema = Schema::builder().entity::<Note>().build().unwrap();
        let err = Store::from_snapshot_evolving(schema, &bytes).unwrap_err();
        assert_eq!(
            err,
            SnapshotError::NamedTwice {
                what: "table",
                name: "notes".into()
            }
        );
    }

    #[test]
    fn a_relation_named_twice_is_refused_naming_it() {
        let old_schema = Schema::builder()
            .entity::<old::Note>()
            .relation(PINS)
            .relation(PINZ)
            .build()
            .unwrap();
        let mut s = Store::new(old_schema);
        let (a, b) = (s.insert(note("a")).unwrap(), s.insert(note("b")).unwrap());
        s.link(PINS, a, b).unwrap();
        s.link(PINZ, b, a).unwrap();
        let bytes = replaced(s.to_snapshot().unwrap(), b"pinz", b"pins");
        let schema = Schema::builder()
            .entity::<Note>()
            .relation(NEW_PINS)
            .build()
            .unwrap();
        let err = Store::from_snapshot_evolving(schema, &bytes).unwrap_err();
        assert_eq!(
            err,
            SnapshotError::NamedTwice {
                what: "relation",
                name: "pins".into()
            }
        );
    }

    #[test]
    fn a_field_named_twice_is_refused_naming_it() {
        let mut s = Store::new(Schema::builder().entity::<old::Twin>().build().unwrap());
        s.insert(old::Twin {
            line: "first".into(),
            linz: "second".into(),
        })
        .unwrap();
        let bytes = replaced(s.to_snapshot().unwrap(), b"linz", b"line");
        let schema = Schema::builder().entity::<Note>().build().unwrap();
        let err = Store::from_snapshot_evolving(schema, &bytes).unwrap_err();
        assert_eq!(
            err,
            SnapshotError::NamedTwice {
                what: "field",
                name: "notes.line".into()
            }
        );
    }

    /// The audit table's text block gains a byte no record's field holds.
    #[test]
    fn text_left_over_after_the_last_field_is_refused() {
        let mut bytes = v1_snapshot().0;
        let at = bytes.windows(8).position(|w| w == b"\x07created").unwrap();
        bytes[at] = 8;
        bytes.insert(at + 8, b'!');
        relata::__private::reseal(&mut bytes);
        let schema = Schema::builder()
            .entity::<option_added::User>()
            .entity::<v1::Audit>()
            .build()
            .unwrap();
        let err = Store::from_snapshot_evolving(schema, &bytes).unwrap_err();
        assert!(
            matches!(&err, SnapshotError::Decode { detail, .. } if detail.contains("audit")),
            "{err:?}"
        );
    }

    /// The description claims 5 posts (there are 2) and 3 likes (there are 2): a dropped
    /// table's or relation's report gives what the snapshot holds, so a misstated count is
    /// refused as a strict load refuses it.
    #[test]
    fn a_misstated_count_of_a_dropped_table_or_relation_is_refused() {
        let (bytes, ..) = v1_snapshot();
        let counts = [3u8, 3, 2, 1, 1, 2];
        assert_eq!(bytes.windows(6).filter(|w| *w == counts).count(), 1);
        let schema = || Schema::builder().entity::<dropped::User>().build().unwrap();
        for (wrong, named) in [([3u8, 3, 5, 1, 1, 2], "posts"), ([3, 3, 2, 1, 1, 3], "likes")] {
            let bad = replaced(bytes.clone(), &counts, &wrong);
            let err = Store::from_snapshot_evolving(schema(), &bad).unwrap_err();
            assert!(
                matches!(&err, SnapshotError::Decode { detail, .. } if detail.contains(named)),
                "{err:?}"
            );
        }
    }
}

/// Vacant slots cost an evolving load what they cost a strict load: each is held as 8 bytes
/// (its version and a flag) from 2 bytes of input (each was once held as a 56-byte slot). Peak memory is
/// measured in a child process running only `vacant_slots_child` (Linux: `/proc/self`).
#[test]
fn vacant_slots_are_held_in_a_few_bytes_each() {
    in_a_process_of_its_own(concat!(module_path!(), "::vacant_slots_child"));
}

/// Live records cost an evolving load a few bytes each beyond a strict load: each slot's
/// version and each record's start are held, its fields re-read from the input as it is written
/// (each record was once held as about 104 bytes, its fields' bytes and text ranges, from 3
/// bytes of input). Measured as `vacant_slots_are_held_in_a_few_bytes_each` measures.
#[test]
fn live_records_are_held_in_a_few_bytes_each() {
    in_a_process_of_its_own(concat!(module_path!(), "::live_records_child"));
}

/// Runs the ignored test `test` (a path from the crate root) in a child process, where it is
/// the only thing running, and asserts that it passed (Linux only: `/proc/self`).
fn in_a_process_of_its_own(test: &str) {
    if !std::path::Path::new("/proc/self/clear_refs").exists() {
        return;
    }
    let test = test.split_once("::").map_or(test, |(_, name)| name);
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([test, "--exact", "--ignored", "--nocapture", "--test-threads=1"])
        .env("RELATA_PEAK_CHILD", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("1 passed"),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

mod vacant {
    use relata::Entity;
    #[derive(Entity, Clone, Debug, PartialEq)]
    #[relata(table = "marks")]
    pub struct Mark {
        pub on: bool,
    }
    #[derive(Entity, Clone, Debug, PartialEq)]
    #[relata(table = "marks")]
    pub struct Mark2 {
        pub on: bool,
        pub note: Option<u8>,
    }
}

/// The peak resident memory `f` adds, in bytes (the peak is reset first).
fn peak_growth<T>(f: impl FnOnce() -> T) -> (T, u64) {
    let status = |field: &str| -> u64 {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let line = status.lines().find(|l| l.starts_with(field)).unwrap();
        line.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap() * 1024
    };
    std::fs::write("/proc/self/clear_refs", "5").unwrap();
    let before = status("VmRSS:");
    let out = f();
    (out, status("VmHWM:").saturating_sub(before))
}

#[test]
#[ignore = "run by vacant_slots_are_held_in_a_few_bytes_each in a process of its own"]
fn vacant_slots_child() {
    if std::env::var_os("RELATA_PEAK_CHILD").is_none() {
        return;
    }
    let old = || Schema::builder().entity::<vacant::Mark>().build().unwrap();
    let mut s = Store::new(old());
    let keys: Vec<_> = (0..1_000_000)
        .map(|_| s.insert(vacant::Mark { on: true }).unwrap())
        .collect();
    for key in keys {
        s.delete(key).unwrap();
    }
    let evolved = assert_evolving_peak(s);
    assert_eq!(evolved.1.len(), 2, "the new field, and Mark renamed Mark2");
}

#[test]
#[ignore = "run by live_records_are_held_in_a_few_bytes_each in a process of its own"]
fn live_records_child() {
    if std::env::var_os("RELATA_PEAK_CHILD").is_none() {
        return;
    }
    let old = || Schema::builder().entity::<vacant::Mark>().build().unwrap();
    let mut s = Store::new(old());
    for _ in 0..1_000_000 {
        s.insert(vacant::Mark { on: true }).unwrap();
    }
    let evolved = assert_evolving_peak(s);
    assert_eq!(
        (evolved.0.count::<vacant::Mark2>(), evolved.1.len()),
        (1_000_000, 2) // the new field, and Mark renamed Mark2
    );
}

/// Saves `s` (of `vacant::Mark`), loads it strictly and then evolving into `vacant::Mark2`,
/// each measured, and asserts the evolving load's peak is at most the strict one's plus 8
/// bytes per input byte. Returns the evolving load's result.
fn assert_evolving_peak(s: Store) -> (Store, Vec<Adaptation>) {
    let bytes = s.to_snapshot().unwrap();
    drop(s);
    let old = Schema::builder().entity::<vacant::Mark>().build().unwrap();
    let (strict, strict_peak) = peak_growth(|| Store::from_snapshot(old, &bytes).unwrap());
    drop(strict);
    let new = Schema::builder().entity::<vacant::Mark2>().build().unwrap();
    let (evolved, peak) = peak_growth(|| Store::from_snapshot_evolving(new, &bytes).unwrap());
    let input = bytes.len() as u64;
    println!("input {input} bytes, strict load peak {strict_peak}, evolving load peak {peak}");
    assert!(
        peak <= strict_peak + 8 * input,
        "an evolving load holds {peak} bytes at its peak, a strict one {strict_peak}, for {input} bytes"
    );
    evolved
}
