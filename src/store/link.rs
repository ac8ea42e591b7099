//! Many-to-many links: link, unlink, and navigation from both ends.

use std::any::TypeId;

use crate::entity::Entity;
use crate::error::Error;
use crate::key::{Key, RawKey};
use crate::relation::ManyToMany;
use crate::store::journal::Change;
use crate::store::table::KeyState;
use crate::store::Store;

/// The keys at the other end of a many-to-many relation, in link order.
pub type Linked<'a, T> = std::iter::Map<std::slice::Iter<'a, RawKey>, fn(&RawKey) -> Key<T>>;

fn typed<T>(k: &RawKey) -> Key<T> {
    Key::from_raw(*k)
}

impl Store {
    /// The registered relation a handle names: its name and both end types must match the
    /// registration, so a handle cannot reach another relation's pairs by sharing its name.
    fn relation_of<L: Entity, R: Entity>(&self, rel: ManyToMany<L, R>) -> Result<usize, Error> {
        let r = self
            .schema
            .relation_index(rel.name)
            .ok_or(Error::UnknownRelation { relation: rel.name })?;
        let entry = &self.schema.inner.relations[r];
        let tables = &self.schema.inner.tables;
        if tables[entry.left].type_id == TypeId::of::<L>() && tables[entry.right].type_id == TypeId::of::<R>()
        {
            return Ok(r);
        }
        Err(Error::RelationMismatch {
            relation: rel.name,
            left: tables[entry.left].def.type_name,
            right: tables[entry.right].def.type_name,
            handle_left: L::DEF.type_name,
            handle_right: R::DEF.type_name,
        })
    }

    /// Links `left` and `right`. Both must be live.
    ///
    /// Cost: O(1) average.
    ///
    /// # Errors
    /// [`Error::DuplicateLink`] if the pair is already linked (SQL's primary-key violation on
    /// the association table; see [`link_if_absent`](Self::link_if_absent) for the idempotent
    /// form), [`Error::MissingTarget`] / [`Error::DeletedTarget`] for an endpoint,
    /// [`Error::UnknownRelation`], [`Error::RelationMismatch`] for a handle whose types are
    /// not the registered relation's. On error nothing changed.
    ///
    /// ```
    /// # use relata::{Entity, Error, ManyToMany, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct User { name: String }
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct Group { name: String }
    /// const MEMBERS: ManyToMany<User, Group> = ManyToMany::new("user_groups", "groups", "members");
    /// let mut s = Store::new(Schema::builder().entity::<User>().entity::<Group>().relation(MEMBERS).build()?);
    /// let ann = s.insert(User { name: "ann".into() })?;
    /// let ops = s.insert(Group { name: "ops".into() })?;
    /// s.link(MEMBERS, ann, ops)?;
    /// assert!(matches!(s.link(MEMBERS, ann, ops), Err(Error::DuplicateLink { .. })));
    /// assert!(!s.link_if_absent(MEMBERS, ann, ops)?);
    /// s.unlink(MEMBERS, ann, ops)?;
    /// assert!(matches!(s.unlink(MEMBERS, ann, ops), Err(Error::NotLinked { .. })));
    /// assert!(s.link_if_absent(MEMBERS, ann, ops)?);
    /// assert!(s.is_linked(MEMBERS, ann, ops));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn link<L: Entity, R: Entity>(
        &mut self,
        rel: ManyToMany<L, R>,
        left: Key<L>,
        right: Key<R>,
    ) -> Result<(), Error> {
        let result = match self.link_new(rel, left, right) {
            Ok(false) => Err(self.duplicate_link(self.relation_of(rel)?, left.raw(), right.raw())),
            other => other.map(drop),
        };
        self.logged("link", rel.name, Some(left.raw()), result, |_| None)
    }

    /// Links the pair unless it is already linked; returns whether it added the link.
    ///
    /// Cost: as [`link`](Self::link), O(1) average. Example at [`link`](Self::link).
    ///
    /// # Errors
    /// As [`link`](Self::link), except that an existing pair is `Ok(false)`.
    pub fn link_if_absent<L: Entity, R: Entity>(
        &mut self,
        rel: ManyToMany<L, R>,
        left: Key<L>,
        right: Key<R>,
    ) -> Result<bool, Error> {
        let result = self.link_new(rel, left, right);
        self.logged("link_if_absent", rel.name, Some(left.raw()), result, |_| None)
    }

    /// Adds the pair in one statement unless it is linked already (`Ok(false)`): the path
    /// shared by [`link`](Self::link) and [`link_if_absent`](Self::link_if_absent).
    fn link_new<L: Entity, R: Entity>(
        &mut self,
        rel: ManyToMany<L, R>,
        left: Key<L>,
        right: Key<R>,
    ) -> Result<bool, Error> {
        let r = self.relation_of(rel)?;
        self.statement(|s| {
            if s.relations[r].contains(left.raw(), right.raw()) {
                return Ok(false);
            }
            s.add_link(r, left.raw(), right.raw()).map(|()| true)
        })
    }

    /// Links two records of relation `r` by raw key, in one statement (JSON fixtures).
    pub(crate) fn link_in(&mut self, r: usize, left: RawKey, right: RawKey) -> Result<(), Error> {
        let result = self.statement(|s| {
            if s.relations[r].contains(left, right) {
                return Err(s.duplicate_link(r, left, right));
            }
            s.add_link(r, left, right)
        });
        let name = self.schema.inner.relations[r].name;
        self.logged("link", name, Some(left), result, |_| None)
    }

    /// Removes the link between `left` and `right`; both records stay.
    ///
    /// Cost: O(fan-out of the two endpoints). Example at [`link`](Self::link).
    ///
    /// # Errors
    /// [`Error::NotLinked`] if the pair is not linked (nothing changes),
    /// [`Error::UnknownRelation`], [`Error::RelationMismatch`].
    pub fn unlink<L: Entity, R: Entity>(
        &mut self,
        rel: ManyToMany<L, R>,
        left: Key<L>,
        right: Key<R>,
    ) -> Result<(), Error> {
        let result = self
            .relation_of(rel)
            .and_then(|r| self.unlink_at(r, left.raw(), right.raw()));
        self.logged("unlink", rel.name, Some(left.raw()), result, |_| None)
    }

    /// [`unlink`](Self::unlink) in relation `r`, found.
    fn unlink_at(&mut self, r: usize, left: RawKey, right: RawKey) -> Result<(), Error> {
        self.statement(|s| {
            if !s.remove_link(r, left, right)? {
                let entry = &s.schema.inner.relations[r];
                return Err(Error::NotLinked {
                    relation: entry.name,
                    left_table: s.tables[entry.left].def().table,
                    right_table: s.tables[entry.right].def().table,
                    left,
                    right,
                });
            }
            Ok(())
        })
    }

    /// Removes the link unless the pair is not linked; returns whether it removed one (the
    /// counterpart of [`link_if_absent`](Self::link_if_absent)).
    ///
    /// Cost: as [`unlink`](Self::unlink).
    ///
    /// # Errors
    /// [`Error::UnknownRelation`]; an absent pair is `Ok(false)`.
    ///
    /// ```
    /// # use relata::{Entity, ManyToMany, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct User { #[relata(unique)] name: String }
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct Group { #[relata(unique)] name: String }
    /// const MEMBERS: ManyToMany<User, Group> = ManyToMany::new("members", "groups", "users");
    /// let mut s = Store::new(Schema::builder().entity::<User>().entity::<Group>().relation(MEMBERS).build()?);
    /// let ann = s.insert(User { name: "ann".into() })?;
    /// let ops = s.insert(Group { name: "ops".into() })?;
    /// s.link(MEMBERS, ann, ops)?;
    /// assert!(s.unlink_if_present(MEMBERS, ann, ops)?);
    /// assert!(!s.unlink_if_present(MEMBERS, ann, ops)?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn unlink_if_present<L: Entity, R: Entity>(
        &mut self,
        rel: ManyToMany<L, R>,
        left: Key<L>,
        right: Key<R>,
    ) -> Result<bool, Error> {
        let result = (self.relation_of(rel))
            .and_then(|r| self.statement(|s| s.remove_link(r, left.raw(), right.raw())));
        self.logged("unlink_if_present", rel.name, Some(left.raw()), result, |_| None)
    }

    /// `true` if the pair is linked. O(1) average. Example at [`rights`](Self::rights).
    pub fn is_linked<L: Entity, R: Entity>(
        &self,
        rel: ManyToMany<L, R>,
        left: Key<L>,
        right: Key<R>,
    ) -> bool {
        self.relation_of(rel)
            .is_ok_and(|r| self.relations[r].contains(left.raw(), right.raw()))
    }

    /// The right ends linked to `left`, in link order (e.g. the groups of a user). O(1) to
    /// start, O(1) per item.
    ///
    /// ```
    /// # use relata::{Entity, ManyToMany, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct User { name: String }
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct Group { name: String }
    /// const MEMBERS: ManyToMany<User, Group> = ManyToMany::new("user_groups", "groups", "members");
    /// let mut s = Store::new(Schema::builder().entity::<User>().entity::<Group>().relation(MEMBERS).build()?);
    /// let ada = s.insert(User { name: "ada".into() })?;
    /// let (admin, ops) = (s.insert(Group { name: "admin".into() })?, s.insert(Group { name: "ops".into() })?);
    /// s.link(MEMBERS, ada, ops)?;
    /// s.link(MEMBERS, ada, admin)?;
    /// assert_eq!(s.rights(MEMBERS, ada).collect::<Vec<_>>(), [ops, admin]);
    /// assert_eq!(s.lefts(MEMBERS, admin).collect::<Vec<_>>(), [ada]);
    /// assert!(s.is_linked(MEMBERS, ada, ops));
    /// assert_eq!(s.link_count(MEMBERS), 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn rights<L: Entity, R: Entity>(&self, rel: ManyToMany<L, R>, left: Key<L>) -> Linked<'_, R> {
        let keys = match self.relation_of(rel) {
            Ok(r) if self.contains(left) => self.relations[r].rights(left.raw()),
            _ => &[],
        };
        keys.iter().map(typed::<R> as fn(&RawKey) -> Key<R>)
    }

    /// The left ends linked to `right`, in link order (e.g. the members of a group). O(1) to
    /// start, O(1) per item. Example at [`rights`](Self::rights).
    pub fn lefts<L: Entity, R: Entity>(&self, rel: ManyToMany<L, R>, right: Key<R>) -> Linked<'_, L> {
        let keys = match self.relation_of(rel) {
            Ok(r) if self.contains(right) => self.relations[r].lefts(right.raw()),
            _ => &[],
        };
        keys.iter().map(typed::<L> as fn(&RawKey) -> Key<L>)
    }

    /// The number of links in a relation. O(1). Example at [`rights`](Self::rights).
    pub fn link_count<L: Entity, R: Entity>(&self, rel: ManyToMany<L, R>) -> usize {
        self.relation_of(rel).map_or(0, |r| self.relations[r].len())
    }

    fn duplicate_link(&self, r: usize, left: RawKey, right: RawKey) -> Error {
        let entry = &self.schema.inner.relations[r];
        Error::DuplicateLink {
            relation: entry.name,
            left_column: entry.left_column,
            right_column: entry.right_column,
            left_table: self.tables[entry.left].def().table,
            right_table: self.tables[entry.right].def().table,
            left,
            right,
        }
    }

    fn check_end(&self, r: usize, left_end: bool, key: RawKey) -> Result<(), Error> {
        let entry = &self.schema.inner.relations[r];
        let (t, column) = if left_end {
            (entry.left, entry.left_column)
        } else {
            (entry.right, entry.right_column)
        };
        let (table, target) = (entry.name, self.tables[t].def().table);
        match self.tables[t].state(key) {
            KeyState::Live => Ok(()),
            KeyState::Stale => Err(Error::DeletedTarget {
                table,
                column,
                target,
                key,
            }),
            KeyState::Missing => Err(Error::MissingTarget {
                table,
                column,
                target,
                key,
            }),
        }
    }

    /// Primitive: add a link (endpoints checked), journalled.
    fn add_link(&mut self, r: usize, left: RawKey, right: RawKey) -> Result<(), Error> {
        self.check_end(r, true, left)?;
        self.check_end(r, false, right)?;
        let Some(seq) = self.relations[r].next_seq() else {
            return Err(Error::CapacityExceeded {
                what: "link sequence numbers of one relation (2^32 links)",
            });
        };
        self.relations[r].insert(left, right, seq);
        self.record(Change::Linked {
            relation: r,
            left,
            right,
        })
    }

    /// Primitive: remove a link if present, journalled.
    pub(crate) fn remove_link(&mut self, r: usize, left: RawKey, right: RawKey) -> Result<bool, Error> {
        match self.relations[r].remove(left, right) {
            Some(seq) => {
                self.record(Change::Unlinked {
                    relation: r,
                    left,
                    right,
                    seq,
                })?;
                Ok(true)
            }
            None => Ok(false),
        }
    }
}
