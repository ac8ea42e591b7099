//! The test schema: five entity types that between them use every feature relata offers.
//!
//! | entity | features |
//! |---|---|
//! | [`Account`] | single-column unique (`name`), ordered secondary index (`tier`), a self-reference that may form cycles and cascades (`mentor`) |
//! | [`Profile`] | one-to-one: a UNIQUE optional foreign key with SET NULL (`account`) |
//! | [`Project`] | two unique constraints (a nullable single one, `slug`, and a composite one with a nullable part, `(title, code)`), a composite ordered index over a nullable part, a required cascading foreign key (`owner`), an optional SET NULL one (`reviewer`) |
//! | [`Task`] | a RESTRICT foreign key (`project`), an `acyclic` cascading self-reference (`parent`), an optional cascading key (`assignee`) |
//! | [`Note`] | a delete-orphan key (`task`), two SET NULL keys on one record (`mention`, and the self-reference `reply_to`), a composite unique over two foreign keys whose nullable part a delete can set to NULL (`(task, mention)`) |
//!
//! Value domains are tiny (see [`crate::op`]) so that unique collisions, restrictions and
//! cycles are frequent.

use relata::{Entity, Key, Schema};

/// A user account.
#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "accounts")]
pub struct Account {
    /// Unique, compared byte for byte (`"ann"`, `"Ann"` and `"ann "` all coexist).
    #[relata(unique)]
    pub name: String,
    /// Indexed, not unique, ordered (range scans and sorted queries).
    #[relata(index(ordered))]
    pub tier: u8,
    /// Self-reference where cycles are allowed; deleting a mentor deletes the mentees.
    #[relata(back = "mentees", on_delete = "cascade")]
    pub mentor: Option<Key<Account>>,
}

/// At most one profile per account; the profile survives its account.
#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "profiles")]
pub struct Profile {
    /// Free text.
    pub bio: String,
    /// One-to-one, SET NULL.
    #[relata(unique, back = "profile", on_delete = "set_null")]
    pub account: Option<Key<Account>>,
}

/// A project owned by an account.
#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(
    table = "projects",
    unique(title, code, name = "uq_projects_title_code"),
    index(owner, code, ordered)
)]
pub struct Project {
    /// First part of the composite unique constraint.
    pub title: String,
    /// Nullable second part: a NULL code never collides.
    pub code: Option<u8>,
    /// Nullable single-column unique constraint.
    #[relata(unique)]
    pub slug: Option<String>,
    /// Required, ON DELETE CASCADE.
    #[relata(back = "projects", on_delete = "cascade")]
    pub owner: Key<Account>,
    /// Optional, ON DELETE SET NULL.
    #[relata(back = "reviewing", on_delete = "set_null")]
    pub reviewer: Option<Key<Account>>,
}

/// A task in a project, possibly under a parent task.
#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "tasks")]
pub struct Task {
    /// A small signed integer.
    pub rank: i8,
    /// Required, ON DELETE RESTRICT (the default): a project with tasks cannot be deleted
    /// unless the same cascade deletes the tasks.
    #[relata(back = "tasks")]
    pub project: Key<Project>,
    /// Acyclic self-reference, ON DELETE CASCADE.
    #[relata(back = "subtasks", on_delete = "cascade", acyclic)]
    pub parent: Option<Key<Task>>,
    /// Optional, ON DELETE CASCADE.
    #[relata(back = "assignments", on_delete = "cascade")]
    pub assignee: Option<Key<Account>>,
}

/// A note on a task.
#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "notes", unique(task, mention, name = "uq_notes_task_mention"))]
pub struct Note {
    /// Free text; one value of the domain is long, so the text heap gets compacted.
    pub text: String,
    /// Delete-orphan: the note goes with its task.
    #[relata(back = "notes", orphan)]
    pub task: Key<Task>,
    /// Optional, ON DELETE SET NULL.
    #[relata(back = "mentions", on_delete = "set_null")]
    pub mention: Option<Key<Account>>,
    /// Self-reference where cycles are allowed, ON DELETE SET NULL.
    #[relata(back = "replies", on_delete = "set_null")]
    pub reply_to: Option<Key<Note>>,
}

/// The schema over all five entity types, in [`TableId`](crate::model::TableId) order.
pub fn schema() -> Schema {
    Schema::builder()
        .entity::<Account>()
        .entity::<Profile>()
        .entity::<Project>()
        .entity::<Task>()
        .entity::<Note>()
        .build()
        .expect("the testkit schema is valid")
}
