//! Many-to-many relations: association tables stored as edge sets.
//!
//! A relation is declared once as a typed constant and registered in the schema:
//!
//! ```
//! use relata::{Entity, ManyToMany, Schema, Store};
//!
//! #[derive(Entity, Clone, Debug, PartialEq)]
//! #[relata(table = "users")]
//! struct User { #[relata(unique)] username: String }
//! #[derive(Entity, Clone, Debug, PartialEq)]
//! #[relata(table = "groups")]
//! struct Group { #[relata(unique)] name: String }
//!
//! /// `user_groups(user_id, group_id)`: `User.groups` and `Group.users`.
//! const USER_GROUPS: ManyToMany<User, Group> = ManyToMany::new("user_groups", "groups", "users");
//!
//! let schema = Schema::builder().entity::<User>().entity::<Group>().relation(USER_GROUPS).build()?;
//! let mut store = Store::new(schema);
//! let alice = store.insert(User { username: "alice".into() })?;
//! let admin = store.insert(Group { name: "admin".into() })?;
//! store.link(USER_GROUPS, alice, admin)?;
//! assert_eq!(store.rights(USER_GROUPS, alice).collect::<Vec<_>>(), [admin]);
//! assert_eq!(store.lefts(USER_GROUPS, admin).collect::<Vec<_>>(), [alice]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub(crate) mod edges;

use std::fmt;
use std::marker::PhantomData;

/// A many-to-many relation between `L` (left) and `R` (right): the typed handle of an
/// association table with a composite primary key `(left, right)`.
pub struct ManyToMany<L, R> {
    pub(crate) name: &'static str,
    pub(crate) left_back: &'static str,
    pub(crate) right_back: &'static str,
    pub(crate) left_column: Option<&'static str>,
    pub(crate) right_column: Option<&'static str>,
    _types: PhantomData<fn() -> (L, R)>,
}

impl<L, R> ManyToMany<L, R> {
    /// A relation stored in the association table `name`. `left_back` names it on `L` (the
    /// rights of a left record, e.g. a user's `"groups"`), `right_back` on `R` (e.g. a group's
    /// `"users"`). Columns default to `<left type>_id` and `<right type>_id`. O(1).
    ///
    /// ```
    /// # use relata::ManyToMany;
    /// struct User;
    /// const FOLLOWS: ManyToMany<User, User> =
    ///     ManyToMany::new("follows", "following", "followers").columns("follower_id", "followee_id");
    /// assert_eq!(FOLLOWS.name(), "follows");
    /// ```
    pub const fn new(name: &'static str, left_back: &'static str, right_back: &'static str) -> Self {
        ManyToMany {
            name,
            left_back,
            right_back,
            left_column: None,
            right_column: None,
            _types: PhantomData,
        }
    }

    /// Names the association table's two columns (needed when both ends are the same type).
    /// O(1). Example at [`new`](Self::new).
    pub const fn columns(mut self, left: &'static str, right: &'static str) -> Self {
        self.left_column = Some(left);
        self.right_column = Some(right);
        self
    }

    /// The association table's name. O(1). Example at [`new`](Self::new).
    pub fn name(&self) -> &'static str {
        self.name
    }
}

impl<L, R> Clone for ManyToMany<L, R> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<L, R> Copy for ManyToMany<L, R> {}
impl<L, R> fmt::Debug for ManyToMany<L, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ManyToMany({})", self.name)
    }
}

/// A registered relation, resolved against the schema's tables.
#[derive(Clone, Debug)]
pub(crate) struct RelationEntry {
    pub(crate) name: &'static str,
    pub(crate) left: usize,
    pub(crate) right: usize,
    pub(crate) left_back: &'static str,
    pub(crate) right_back: &'static str,
    pub(crate) left_column: &'static str,
    pub(crate) right_column: &'static str,
}

/// Gives a generated name a `'static` lifetime. Each distinct name is leaked once (schemas
/// name a handful of columns), so errors can carry `&'static str` like every other name.
pub(crate) fn intern(name: String) -> &'static str {
    use std::collections::HashSet;
    use std::sync::{Mutex, OnceLock};
    static NAMES: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let mut names = NAMES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(&known) = names.get(name.as_str()) {
        return known;
    }
    let leaked: &'static str = Box::leak(name.into_boxed_str());
    names.insert(leaked);
    leaked
}
