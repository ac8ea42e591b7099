//! The snapshot-load property shared by the `snapshot_load` fuzz target and the corpus
//! replay: any bytes give `Ok` or `Err`, never a panic, and a store that loads passes its
//! integrity check and survives a save-and-load round trip unchanged. The same bytes loaded
//! under an evolved schema (`Store::from_snapshot_evolving`) give `Ok` or `Err` too, and what
//! loads passes its integrity check.

use relata::{Entity, Key, Schema, Store};

use crate::op::Op;
use crate::schema::schema;

/// Loads `bytes` as a snapshot of the test schema and checks what loads.
///
/// # Panics
/// When a loaded store fails its integrity check or its round trip: the property is broken.
pub fn check_snapshot_bytes(bytes: &[u8]) {
    check_one(bytes);
    // The same bytes with a valid checksum, so edits reach decoding and validation.
    let mut resealed = bytes.to_vec();
    relata::__private::reseal(&mut resealed);
    check_one(&resealed);
}

fn check_one(bytes: &[u8]) {
    if let Ok((store, _)) = Store::from_snapshot_evolving(evolved_schema(), bytes) {
        if let Err(e) = store.check_integrity() {
            panic!("an evolved snapshot fails its integrity check: {e}");
        }
    }
    let Ok(store) = Store::from_snapshot(schema(), bytes) else {
        return;
    };
    if let Err(e) = store.check_integrity() {
        panic!("a loaded snapshot fails its integrity check: {e}");
    }
    let again = store.to_snapshot().expect("a loaded store saves");
    let reloaded = Store::from_snapshot(schema(), &again).expect("a saved store loads");
    assert!(reloaded == store, "a snapshot round trip changed the store");
}

/// A store built by running `ops` (failed operations change nothing; disagreements with
/// the model are ignored), for seeding corpora.
pub fn store_after(ops: &[Op]) -> Store {
    crate::driver::store_after(ops)
}

/// The test schema after a change: accounts gain an `Option` field and a defaulted one, lose
/// `tier`, and make `name` (unique) an `Option` (DROP NOT NULL); projects keep `title` and
/// `owner`, make `code` required (SET NOT NULL: loads only when no project holds `None`) and
/// lose the rest; contacts are kept as they are; the other tables and the relation are
/// dropped, and a new table appears. Walks every table of a test-schema snapshot.
fn evolved_schema() -> Schema {
    #[derive(Entity, Clone, Debug, PartialEq)]
    #[relata(table = "accounts")]
    struct Account {
        nickname: Option<String>,
        #[relata(unique)]
        name: Option<String>,
        #[relata(back = "mentees", on_delete = "cascade")]
        mentor: Option<Key<Account>>,
        #[relata(default = "none".to_string())]
        plan: String,
    }
    #[derive(Entity, Clone, Debug, PartialEq)]
    #[relata(table = "projects")]
    struct Project {
        title: String,
        code: u8,
        #[relata(back = "projects", on_delete = "cascade")]
        owner: Key<Account>,
    }
    #[derive(Entity, Clone, Debug, PartialEq)]
    #[relata(table = "badges")]
    struct Badge {
        account: Key<Account>,
    }
    Schema::builder()
        .entity::<Account>()
        .entity::<Project>()
        .entity::<crate::schema::Contact>()
        .entity::<Badge>()
        .build()
        .expect("the evolved schema is valid")
}

#[cfg(test)]
mod tests {
    use relata::{Adaptation, SnapshotError, Store};

    use crate::schema::{schema, Account, Project};

    /// The evolved schema changes nullability both ways, so the fuzz target reaches both
    /// rewrites: `accounts.name` made optional, `projects.code` made required (refused while a
    /// project holds `None`).
    #[test]
    fn the_evolved_schema_changes_nullability_both_ways() {
        let mut store = Store::new(schema());
        let (name, tier, mentor) = ("ann".to_string(), 1, None);
        let owner = store.insert(Account { name, tier, mentor }).unwrap();
        let project = |code| Project {
            title: "p".into(),
            code,
            slug: None,
            owner,
            reviewer: None,
        };
        let p = store.insert(project(Some(3))).unwrap();
        let (_, adapted) =
            Store::from_snapshot_evolving(super::evolved_schema(), &store.to_snapshot().unwrap()).unwrap();
        let changed = |table, field, nullable| Adaptation::NullabilityChanged {
            table,
            field,
            nullable,
        };
        assert!(
            adapted.contains(&changed("accounts", "name", true)),
            "{adapted:?}"
        );
        assert!(
            adapted.contains(&changed("projects", "code", false)),
            "{adapted:?}"
        );
        store.replace(p, project(None)).unwrap();
        let err = Store::from_snapshot_evolving(super::evolved_schema(), &store.to_snapshot().unwrap());
        assert!(
            matches!(err, Err(SnapshotError::NullInRequiredField { .. })),
            "{err:?}"
        );
    }
}
