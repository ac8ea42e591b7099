//! The model's own description of the test schema, written out by hand from
//! [`crate::schema`] rather than read from relata's generated `EntityDef`s, so that a
//! derive bug (a wrong action, a lost `orphan`) shows up as a disagreement.

/// One of the five tables of the test schema, in registration order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, arbitrary::Arbitrary)]
pub enum TableId {
    /// [`Account`](crate::schema::Account).
    Accounts,
    /// [`Profile`](crate::schema::Profile).
    Profiles,
    /// [`Project`](crate::schema::Project).
    Projects,
    /// [`Task`](crate::schema::Task).
    Tasks,
    /// [`Note`](crate::schema::Note).
    Notes,
    /// [`Member`](crate::schema::Member).
    Members,
    /// [`Contact`](crate::schema::Contact).
    Contacts,
}

impl TableId {
    /// Every table, in registration order.
    pub const ALL: [TableId; 7] = [
        TableId::Accounts,
        TableId::Profiles,
        TableId::Projects,
        TableId::Tasks,
        TableId::Notes,
        TableId::Members,
        TableId::Contacts,
    ];

    /// The table's description.
    pub fn spec(self) -> &'static TableSpec {
        &SPECS[self as usize]
    }
}

/// What deleting a parent does to a child through one foreign key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Refuse while the child exists (unless the same delete removes the child).
    Restrict,
    /// Delete the child too.
    Cascade,
    /// Set the child's key to NULL.
    SetNull,
}

/// A table: its SQL name, columns, unique constraints and foreign keys.
#[derive(Debug)]
pub struct TableSpec {
    /// The SQL table name.
    pub name: &'static str,
    /// SQL column names in field order.
    pub columns: &'static [&'static str],
    /// Unique constraints in declaration order (single-field ones first); relata checks them
    /// last to first, as SQLite does.
    pub uniques: &'static [UniqueSpec],
    /// Foreign keys in field order.
    pub fks: &'static [FkSpec],
    /// `max_len` text columns: (field position, the most characters).
    pub max_len: &'static [(usize, u32)],
}

/// A unique constraint.
#[derive(Debug)]
pub struct UniqueSpec {
    /// The constraint name errors report.
    pub name: &'static str,
    /// Field positions.
    pub fields: &'static [usize],
    /// The fields' columns, as errors name them.
    pub columns: &'static [&'static str],
    /// Checked at the commit point (the end of an autocommit statement, or `commit`).
    pub deferrable: bool,
    /// `unique(nocase)`: text compares ignoring ASCII case.
    pub nocase: bool,
}

/// A foreign key.
#[derive(Debug)]
pub struct FkSpec {
    /// Field position of the key.
    pub field: usize,
    /// The referenced table.
    pub target: TableId,
    /// The on-delete action.
    pub action: Action,
    /// Delete-orphan: behaves like cascade when the parent is deleted.
    pub orphan: bool,
    /// A self-reference that must stay a forest.
    pub acyclic: bool,
    /// `Option<Key<_>>`: may be NULL.
    pub nullable: bool,
    /// `#[relata(unique)]`: one-to-one.
    pub unique: bool,
    /// The relationship's name on the parent side.
    pub back: &'static str,
}

const fn fk(field: usize, target: TableId, action: Action, back: &'static str) -> FkSpec {
    FkSpec {
        field,
        target,
        action,
        orphan: false,
        acyclic: false,
        nullable: false,
        unique: false,
        back,
    }
}

/// An optional foreign key.
const fn opt_fk(field: usize, target: TableId, action: Action, back: &'static str) -> FkSpec {
    FkSpec {
        nullable: true,
        ..fk(field, target, action, back)
    }
}

const fn unique(
    name: &'static str,
    fields: &'static [usize],
    columns: &'static [&'static str],
) -> UniqueSpec {
    UniqueSpec {
        name,
        fields,
        columns,
        deferrable: false,
        nocase: false,
    }
}

/// A many-to-many relation.
#[derive(Debug)]
pub struct RelationSpec {
    /// The association table's name.
    pub name: &'static str,
    /// The left end's table and column.
    pub left: (TableId, &'static str),
    /// The right end's table and column.
    pub right: (TableId, &'static str),
}

/// The relations, in registration order.
pub static RELATIONS: [RelationSpec; 1] = [RelationSpec {
    name: "watches",
    left: (TableId::Accounts, "account_id"),
    right: (TableId::Projects, "project_id"),
}];

use Action::{Cascade, Restrict, SetNull};
use TableId::{Accounts, Notes, Projects, Tasks};

/// No `max_len` column.
const NO_MAX_LEN: &[(usize, u32)] = &[];

/// The tables, indexed by [`TableId`].
pub static SPECS: [TableSpec; 7] = [
    TableSpec {
        name: "accounts",
        columns: &["name", "tier", "mentor_id"],
        uniques: &[unique("uq_accounts_name", &[0], &["name"])],
        fks: &[opt_fk(2, Accounts, Cascade, "mentees")],
        max_len: NO_MAX_LEN,
    },
    TableSpec {
        name: "profiles",
        columns: &["bio", "account_id"],
        uniques: &[unique("uq_profiles_account_id", &[1], &["account_id"])],
        fks: &[FkSpec {
            unique: true,
            ..opt_fk(1, Accounts, SetNull, "profile")
        }],
        max_len: NO_MAX_LEN,
    },
    TableSpec {
        name: "projects",
        columns: &["title", "code", "slug", "owner_id", "reviewer_id"],
        uniques: &[
            unique("uq_projects_slug", &[2], &["slug"]),
            unique("uq_projects_title_code", &[0, 1], &["title", "code"]),
        ],
        fks: &[
            fk(3, Accounts, Cascade, "projects"),
            opt_fk(4, Accounts, SetNull, "reviewing"),
        ],
        max_len: NO_MAX_LEN,
    },
    TableSpec {
        name: "tasks",
        columns: &["rank", "project_id", "parent_id", "assignee_id"],
        uniques: &[],
        fks: &[
            fk(1, Projects, Restrict, "tasks"),
            FkSpec {
                acyclic: true,
                ..opt_fk(2, Tasks, Cascade, "subtasks")
            },
            opt_fk(3, Accounts, Cascade, "assignments"),
        ],
        max_len: NO_MAX_LEN,
    },
    TableSpec {
        name: "notes",
        columns: &["text", "task_id", "mention_id", "reply_to_id"],
        uniques: &[unique(
            "uq_notes_task_mention",
            &[1, 2],
            &["task_id", "mention_id"],
        )],
        fks: &[
            FkSpec {
                orphan: true,
                ..fk(1, Tasks, Restrict, "notes")
            },
            opt_fk(2, Accounts, SetNull, "mentions"),
            opt_fk(3, Notes, SetNull, "replies"),
        ],
        max_len: NO_MAX_LEN,
    },
    TableSpec {
        name: "members",
        columns: &["seat", "account_id", "project_id"],
        uniques: &[
            // Declared `unique(deferrable)`, but the driver's store runs under the default
            // SQLite profile, where (as in SQLite) no unique constraint is deferred.
            unique("uq_members_seat", &[0], &["seat"]),
            unique(
                "uq_members_account_project",
                &[1, 2],
                &["account_id", "project_id"],
            ),
        ],
        fks: &[
            fk(1, Accounts, Cascade, "memberships"),
            fk(2, Projects, Cascade, "members"),
        ],
        max_len: NO_MAX_LEN,
    },
    TableSpec {
        name: "contacts",
        columns: &["email", "status", "since"],
        uniques: &[UniqueSpec {
            nocase: true,
            ..unique("uq_contacts_email", &[0], &["email"])
        }],
        fks: &[],
        max_len: &[(0, 6)],
    },
];
