//! Schema validation at build time.

use crate::common::*;
use relata::{Entity, Key, Schema, SchemaError};

#[test]
fn foreign_key_to_an_unregistered_type() {
    let err = Schema::builder().entity::<Post>().build().unwrap_err();
    assert_eq!(
        err,
        SchemaError::UnregisteredTarget {
            table: "posts",
            column: "author_id",
            target: "User"
        }
    );
    assert!(err.to_string().contains("add `.entity::<User>()`"));
}

#[test]
fn duplicate_registration_and_table_names() {
    let err = Schema::builder()
        .entity::<User>()
        .entity::<User>()
        .build()
        .unwrap_err();
    assert_eq!(err, SchemaError::DuplicateEntity { entity: "User" });

    #[derive(Entity, Clone, Debug, PartialEq)]
    #[relata(table = "users")]
    struct Impostor {
        name: String,
    }
    let err = Schema::builder()
        .entity::<User>()
        .entity::<Impostor>()
        .build()
        .unwrap_err();
    assert_eq!(err, SchemaError::DuplicateTable { table: "users" });
}

#[test]
fn duplicate_back_reference_names() {
    #[derive(Entity, Clone, Debug, PartialEq)]
    struct Message {
        #[relata(back = "messages")]
        sender: Key<User>,
        #[relata(back = "messages")]
        recipient: Key<User>,
    }
    let err = Schema::builder()
        .entity::<User>()
        .entity::<Message>()
        .build()
        .unwrap_err();
    assert_eq!(
        err,
        SchemaError::DuplicateBackref {
            table: "users",
            name: "messages"
        }
    );
}

#[test]
fn acyclic_needs_a_self_reference() {
    #[derive(Entity, Clone, Debug, PartialEq)]
    struct Note {
        #[relata(acyclic)]
        owner: Option<Key<User>>,
    }
    let err = Schema::builder()
        .entity::<User>()
        .entity::<Note>()
        .build()
        .unwrap_err();
    assert_eq!(
        err,
        SchemaError::AcyclicNotSelfReferential {
            table: "notes",
            column: "owner_id"
        }
    );
}

#[test]
fn derived_defaults_for_names() {
    let def = <UserGroup as Entity>::DEF;
    assert_eq!(def.table, "user_groups");
    assert_eq!(def.fks[0].back, "memberships");
    assert_eq!(def.fields[0].column, "user_id");
    assert_eq!(<Profile as Entity>::DEF.uniques[0].name, "uq_profiles_user_id");
}
