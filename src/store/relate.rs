//! Relationship assignment, SQLAlchemy-style, with whole-graph consistency: `post.author = u`
//! ([`Store::set_parent`]), `user.profile = p` ([`Store::set_child`]), `user.posts = [..]`
//! ([`Store::replace_children`]), append and remove, and tree traversal.
//!
//! A child that loses its parent follows its foreign key's policy: delete-orphan deletes it,
//! an optional key becomes NULL, a required key is a [`Error::RequiredReference`]. A nullable
//! delete-orphan child is deleted at the commit point (the end of the statement), so a child
//! re-parented in the same statement survives.

use crate::entity::{Entity, Fk};
use crate::error::Error;
use crate::key::{Key, RawKey};
use crate::store::Store;

impl Store {
    /// Sets (or clears, with `None`) the parent of `child` through `fk`: `post.author = u`.
    ///
    /// For a one-to-one key whose new parent already has a child, that child is displaced
    /// first and follows its policy (unlike a raw [`update`](Self::update) of the key, which
    /// reports the UNIQUE violation). Clearing the parent applies the child's policy.
    ///
    /// Cost: O(1) plus the displaced child's policy (a delete-orphan child is deleted, with
    /// its cascade).
    ///
    /// # Errors
    /// [`Error::RequiredReference`] when a required key would become NULL; otherwise as
    /// [`update`](Self::update). On error nothing changed.
    ///
    /// ```
    /// # use relata::{Entity, Key, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct User { name: String }
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct Profile { #[relata(unique, on_delete = "set_null")] user: Option<Key<User>> }
    /// let mut store = Store::new(Schema::builder().entity::<User>().entity::<Profile>().build()?);
    /// let u = store.insert(User { name: "u".into() })?;
    /// let p1 = store.insert(Profile { user: Some(u) })?;
    /// let p2 = store.insert(Profile { user: None })?;
    /// store.set_parent(Profile::USER, p2, Some(u))?;   // p1 is displaced (its key becomes NULL)
    /// assert_eq!(store.child(Profile::USER, u), Some(p2));
    /// assert_eq!(store.get(p1).unwrap().user, None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_parent<C: Entity, P: Entity>(
        &mut self,
        fk: Fk<C, P>,
        child: Key<C>,
        parent: Option<Key<P>>,
    ) -> Result<(), Error> {
        let result = self.set_parent_unlogged(fk, child, parent);
        self.logged("set_parent", C::DEF.table, Some(child.raw()), result, |_| None)
    }

    /// [`set_parent`](Self::set_parent), not logged (the calls built on it log themselves).
    #[inline(always)]
    fn set_parent_unlogged<C: Entity, P: Entity>(
        &mut self,
        fk: Fk<C, P>,
        child: Key<C>,
        parent: Option<Key<P>>,
    ) -> Result<(), Error> {
        let t = self.table_index::<C>()?;
        self.statement(|s| s.assign_parent::<C>(t, fk.index, child.raw(), parent.map(Key::raw)))
    }

    /// Sets (or clears) the one child of `parent` through a one-to-one key: `user.profile =
    /// p`. The previous child is displaced and follows its policy; `child` moves from its
    /// previous parent, if any. The child comes before the parent, as in `Fk<C, P>`.
    /// O(1) plus the displaced child's policy.
    ///
    /// # Errors
    /// [`Error::NotOneToOne`] for a key without `unique`; otherwise as
    /// [`set_parent`](Self::set_parent).
    ///
    /// ```
    /// # use relata::{Entity, Key, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct User { name: String }
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct Profile { #[relata(unique, on_delete = "set_null")] user: Option<Key<User>> }
    /// let mut s = Store::new(Schema::builder().entity::<User>().entity::<Profile>().build()?);
    /// let u = s.insert(User { name: "u".into() })?;
    /// let p1 = s.insert(Profile { user: Some(u) })?;
    /// let p2 = s.insert(Profile { user: None })?;
    /// s.set_child(Profile::USER, Some(p2), u)?; // user.profile = p2: p1's key becomes NULL
    /// assert_eq!(s.child(Profile::USER, u), Some(p2));
    /// assert_eq!(s.parent(Profile::USER, p1), None);
    /// s.set_child(Profile::USER, None, u)?; // user.profile = None
    /// assert_eq!(s.child(Profile::USER, u), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_child<C: Entity, P: Entity>(
        &mut self,
        fk: Fk<C, P>,
        child: Option<Key<C>>,
        parent: Key<P>,
    ) -> Result<(), Error> {
        let result = self.set_child_unlogged(fk, child, parent);
        self.logged("set_child", P::DEF.table, Some(parent.raw()), result, |_| None)
    }

    /// [`set_child`](Self::set_child), not logged.
    fn set_child_unlogged<C: Entity, P: Entity>(
        &mut self,
        fk: Fk<C, P>,
        child: Option<Key<C>>,
        parent: Key<P>,
    ) -> Result<(), Error> {
        let t = self.table_index::<C>()?;
        let fkdef = &C::DEF.fks[fk.index];
        if !fkdef.unique {
            let (table, column) = (C::DEF.table, C::DEF.fk_column(fk.index));
            return Err(Error::NotOneToOne { table, column });
        }
        self.statement(|s| {
            s.require_live::<P>(parent.raw())?;
            // Two children inside a transaction when the key's unique constraint is deferrable.
            let current = s.tables[t].children(fk.index, parent.raw()).to_vec();
            let wanted = child.map(Key::raw);
            if current.as_slice() == wanted.as_slice() {
                return Ok(());
            }
            for old in current.into_iter().filter(|&o| Some(o) != wanted) {
                s.lose_parent::<C>(t, fk.index, old)?;
            }
            match child {
                Some(c) => s.assign_parent::<C>(t, fk.index, c.raw(), Some(parent.raw())),
                None => Ok(()),
            }
        })
    }

    /// Makes `children` the children of `parent` (`user.posts = [b, c]`): current children not
    /// listed lose their parent (their policy applies); listed ones are linked, moving from
    /// other parents, appended in the order given. Children already linked keep their place.
    /// O(current children × listed) plus each change.
    ///
    /// # Errors
    /// As [`set_parent`](Self::set_parent).
    ///
    /// ```
    /// # use relata::{Entity, Error, Key, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct User { name: String }
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct Post { title: String, #[relata(on_delete = "set_null")] author: Option<Key<User>> }
    /// let mut s = Store::new(Schema::builder().entity::<User>().entity::<Post>().build()?);
    /// let ann = s.insert(User { name: "ann".into() })?;
    /// let [a, b, c] = ["a", "b", "c"].map(|t| s.insert(Post { title: t.into(), author: Some(ann) }).unwrap());
    /// let posts = |s: &Store| s.children(Post::AUTHOR, ann).collect::<Vec<_>>();
    /// // ann.posts = [c, a]: b loses its author; a and c keep their places.
    /// s.replace_children(Post::AUTHOR, &[c, a], ann)?;
    /// assert_eq!((posts(&s), s.parent(Post::AUTHOR, b)), (vec![a, c], None));
    /// // The child comes before the parent, as in `Fk<Post, User>`.
    /// assert!(s.add_child_if_absent(Post::AUTHOR, b, ann)?);
    /// assert!(!s.add_child_if_absent(Post::AUTHOR, b, ann)?);
    /// s.remove_child(Post::AUTHOR, a, ann)?;
    /// assert_eq!(posts(&s), [c, b]);
    /// assert!(matches!(s.remove_child(Post::AUTHOR, a, ann), Err(Error::NotAChild { .. })));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn replace_children<C: Entity, P: Entity>(
        &mut self,
        fk: Fk<C, P>,
        children: &[Key<C>],
        parent: Key<P>,
    ) -> Result<(), Error> {
        let result = self.table_index::<C>().and_then(|t| {
            self.statement(|s| {
                s.require_live::<P>(parent.raw())?;
                let current = s.tables[t].children(fk.index, parent.raw()).to_vec();
                for old in current
                    .iter()
                    .filter(|k| !children.iter().any(|c| c.raw() == **k))
                {
                    s.lose_parent::<C>(t, fk.index, *old)?;
                }
                for c in children {
                    s.assign_parent::<C>(t, fk.index, c.raw(), Some(parent.raw()))?;
                }
                Ok(())
            })
        });
        let (table, key) = (P::DEF.table, Some(parent.raw()));
        self.logged("replace_children", table, key, result, |_| None)
    }

    /// Appends `child` to `parent`'s children (moving it from another parent); `Ok(false)` if
    /// it already was a child (collections are sets). O(1) plus a displaced child's policy.
    /// Example at [`replace_children`](Self::replace_children).
    ///
    /// # Errors
    /// As [`set_parent`](Self::set_parent).
    pub fn add_child_if_absent<C: Entity, P: Entity>(
        &mut self,
        fk: Fk<C, P>,
        child: Key<C>,
        parent: Key<P>,
    ) -> Result<bool, Error> {
        let result = match self.refuse_if_aborted() {
            Ok(()) if self.contains(child) && self.parent(fk, child) == Some(parent) => Ok(false),
            Ok(()) => self.set_parent_unlogged(fk, child, Some(parent)).map(|()| true),
            Err(e) => Err(e),
        };
        self.logged(
            "add_child_if_absent",
            C::DEF.table,
            Some(child.raw()),
            result,
            |_| None,
        )
    }

    /// Removes `child` from `parent`'s children; the child follows its policy. O(1) plus the
    /// policy (a delete-orphan child is deleted, with its cascade). Example at
    /// [`replace_children`](Self::replace_children).
    ///
    /// # Errors
    /// As [`set_parent`](Self::set_parent) for `child` itself ([`Error::UnknownEntity`],
    /// [`Error::NotFound`], [`Error::Stale`]); then [`Error::NotAChild`] if it is not a child
    /// of `parent` (nothing changes); otherwise as `set_parent`.
    pub fn remove_child<C: Entity, P: Entity>(
        &mut self,
        fk: Fk<C, P>,
        child: Key<C>,
        parent: Key<P>,
    ) -> Result<(), Error> {
        let result = self.remove_child_unlogged(fk, child, parent);
        self.logged("remove_child", C::DEF.table, Some(child.raw()), result, |_| None)
    }

    /// [`remove_child`](Self::remove_child), not logged.
    fn remove_child_unlogged<C: Entity, P: Entity>(
        &mut self,
        fk: Fk<C, P>,
        child: Key<C>,
        parent: Key<P>,
    ) -> Result<(), Error> {
        self.refuse_if_aborted()?;
        // A type outside the schema or a dead child answers as `set_parent` does.
        self.require_live::<C>(child.raw())?;
        if self.parent(fk, child) != Some(parent) {
            let (table, column) = (C::DEF.table, C::DEF.fk_column(fk.index));
            return Err(Error::NotAChild {
                table,
                column,
                key: child.raw(),
                parent_table: P::DEF.table,
                parent: parent.raw(),
            });
        }
        self.set_parent_unlogged(fk, child, None)
    }

    /// The one child of `parent` through a one-to-one key (the first child otherwise). O(1).
    /// Example at [`set_parent`](Self::set_parent).
    pub fn child<C: Entity, P: Entity>(&self, fk: Fk<C, P>, parent: Key<P>) -> Option<Key<C>> {
        self.children(fk, parent).next()
    }

    /// The ancestors of `key` through a self-referential key, nearest first. Stops before
    /// repeating a record, so cycles (allowed without `acyclic`) end the walk. O(1) per
    /// ancestor (O(depth) for all).
    ///
    /// ```
    /// # use relata::{Entity, Key, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct Dir { name: String, #[relata(on_delete = "cascade")] parent: Option<Key<Dir>> }
    /// let mut s = Store::new(Schema::builder().entity::<Dir>().build()?);
    /// let root = s.insert(Dir { name: "/".into(), parent: None })?;
    /// let usr = s.insert(Dir { name: "usr".into(), parent: Some(root) })?;
    /// let bin = s.insert(Dir { name: "bin".into(), parent: Some(usr) })?;
    /// assert_eq!(s.ancestors(Dir::PARENT, bin).collect::<Vec<_>>(), [usr, root]);
    /// assert_eq!(s.descendants(Dir::PARENT, root).collect::<Vec<_>>(), [usr, bin]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn ancestors<C: Entity>(&self, fk: Fk<C, C>, key: Key<C>) -> impl Iterator<Item = Key<C>> + '_ {
        let mut seen = hashbrown::HashSet::new();
        seen.insert(key);
        std::iter::successors(self.parent(fk, key), move |&k| self.parent(fk, k))
            .take_while(move |k| seen.insert(*k))
    }

    /// The descendants of `key` through a self-referential key, depth first, children in link
    /// order, each once (cycles included). O(1) per descendant (O(size of the subtree) for
    /// all); example at [`ancestors`](Self::ancestors).
    pub fn descendants<C: Entity>(&self, fk: Fk<C, C>, key: Key<C>) -> impl Iterator<Item = Key<C>> + '_ {
        let mut seen = hashbrown::HashSet::new();
        seen.insert(key);
        let mut stack: Vec<Key<C>> = self.children(fk, key).collect();
        stack.reverse();
        std::iter::from_fn(move || {
            while let Some(k) = stack.pop() {
                if !seen.insert(k) {
                    continue;
                }
                let first = stack.len();
                stack.extend(self.children(fk, k));
                stack[first..].reverse();
                return Some(k);
            }
            None
        })
    }

    fn require_live<P: Entity>(&self, key: RawKey) -> Result<(), Error> {
        let t = self.table_index::<P>()?;
        if self.contains(Key::<P>::from_raw(key)) {
            Ok(())
        } else {
            Err(self.missing_or_stale(t, key))
        }
    }

    /// `child.fk = parent`, displacing the occupant of a one-to-one slot.
    fn assign_parent<C: Entity>(
        &mut self,
        t: usize,
        fk: usize,
        child: RawKey,
        parent: Option<RawKey>,
    ) -> Result<(), Error> {
        if let (Some(p), false) = (parent, C::DEF.fks[fk].unique) {
            // A move: no child is displaced, and `write_fk` checks the child is live.
            return self.write_fk::<C>(t, child, fk, Some(p));
        }
        if self.tables[t].state(child) != super::KeyState::Live {
            return Err(self.missing_or_stale(t, child));
        }
        let current = self.tables[t].fk(child, fk);
        match parent {
            _ if current == parent => Ok(()),
            None => self.lose_parent::<C>(t, fk, child),
            Some(p) => {
                if C::DEF.fks[fk].unique {
                    let occupant = self.tables[t].children(fk, p).to_vec();
                    for other in occupant.into_iter().filter(|&o| o != child) {
                        self.lose_parent::<C>(t, fk, other)?;
                    }
                }
                self.write_fk::<C>(t, child, fk, Some(p))
            }
        }
    }

    /// The child's policy when it loses its parent.
    fn lose_parent<C: Entity>(&mut self, t: usize, fk: usize, child: RawKey) -> Result<(), Error> {
        let fkdef = &C::DEF.fks[fk];
        if fkdef.orphan && !fkdef.nullable {
            return self.delete_in(t, child).map(drop);
        }
        self.write_fk::<C>(t, child, fk, None)
    }

    /// Deletes the orphans queued in this statement that still have no parent.
    pub(crate) fn sweep_orphans(&mut self) -> Result<(), Error> {
        while let Some((t, key, fk)) = self.orphans.pop() {
            let table = &self.tables[t];
            if table.state(key) == super::KeyState::Live && table.fk(key, fk).is_none() {
                self.delete_in(t, key)?;
            }
        }
        Ok(())
    }
}
