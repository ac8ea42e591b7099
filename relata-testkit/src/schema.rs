//! The test schema: five entity types that between them use every feature relata offers.
//!
//! | entity | features |
//! |---|---|
//! | [`Account`] | single-column unique (`name`), ordered secondary index (`tier`), a self-reference that may form cycles and cascades (`mentor`) |
//! | [`Profile`] | one-to-one: a UNIQUE optional foreign key with SET NULL (`account`) |
//! | [`Project`] | two unique constraints (a nullable single one, `slug`, and a composite one with a nullable part, `(title, code)`), a composite ordered index over a nullable part, a required cascading foreign key (`owner`), an optional SET NULL one (`reviewer`) |
//! | [`Task`] | a RESTRICT foreign key (`project`), an `acyclic` cascading self-reference (`parent`), an optional cascading key (`assignee`) |
//! | [`Note`] | a delete-orphan key (`task`), two SET NULL keys on one record (`mention`, and the self-reference `reply_to`), a composite unique over two foreign keys whose nullable part a delete can set to NULL (`(task, mention)`) |
//! | [`Member`] | an association object between accounts and projects (two cascading keys under a composite unique), with a `deferrable` unique column (`seat`) |
//! | [`Contact`] | the field types services store: a case-insensitive unique `VARCHAR(6)` (`email`), an indexed text enum (`status`, [`Status`]), an indexed timestamp (`since`) |
//! | [`WATCHES`] | a many-to-many relation between accounts and projects |
//!
//! **The schema in one place.** A column or table is declared here, described for the model
//! in `model/spec.rs` (by hand, on purpose), given a value domain in `domain.rs`, and bridged
//! in `entities.rs` (`to_values`, `from_values`, its look-ups) and `op.rs` (`Record`,
//! `Change`, and `FkRef` for a foreign key). Append new tables, columns and variants at the
//! end so committed fuzz corpora keep decoding to similar operations.
//!
//! Value domains are tiny (see [`crate::op`]) so that unique collisions, restrictions and
//! cycles are frequent.

use chrono::{DateTime, Utc};
use relata::{Column, Entity, Key, ManyToMany, Schema};

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

/// An account's membership in a project: the association object, with its own data.
#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(
    table = "members",
    unique(account, project, name = "uq_members_account_project")
)]
pub struct Member {
    /// Deferrable unique: two members may swap seats inside a transaction.
    #[relata(unique(deferrable))]
    pub seat: u8,
    /// Cascading.
    #[relata(back = "memberships", on_delete = "cascade")]
    pub account: Key<Account>,
    /// Cascading.
    #[relata(back = "members", on_delete = "cascade")]
    pub project: Key<Project>,
}

/// A contact's status: a field-less enum stored as its variant names (`"active"`,
/// `"on_hold"`).
#[derive(Column, Clone, Copy, Debug, PartialEq, Eq)]
#[relata(rename_all = "snake_case")]
pub enum Status {
    /// `"active"`.
    Active,
    /// `"on_hold"`.
    OnHold,
}

/// A contact: the field types a service's entities hold, under the constraints databases put
/// on them.
#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "contacts")]
pub struct Contact {
    /// Unique ignoring ASCII case (`"ann@x"` and `"ANN@x"` collide, `"\u{e9}d@x"` and
    /// `"\u{c9}d@x"` do not), at most 6 characters (`VARCHAR(6)`).
    #[relata(unique(nocase), max_len = 6)]
    pub email: String,
    /// A text enum, indexed.
    #[relata(index)]
    pub status: Status,
    /// A timestamp (stored as microseconds), indexed.
    #[relata(index)]
    pub since: DateTime<Utc>,
}

/// `watches(account_id, project_id)`: the projects an account watches.
pub const WATCHES: ManyToMany<Account, Project> = ManyToMany::new("watches", "watching", "watchers");

/// The schema over every entity type, in [`TableId`](crate::model::TableId) order, and the
/// relation [`WATCHES`].
pub fn schema() -> Schema {
    Schema::builder()
        .entity::<Account>()
        .entity::<Profile>()
        .entity::<Project>()
        .entity::<Task>()
        .entity::<Note>()
        .entity::<Member>()
        .entity::<Contact>()
        .relation(WATCHES)
        .build()
        .expect("the testkit schema is valid")
}
