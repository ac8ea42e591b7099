//! Factories: declare each entity's defaults once, then create valid records with only the
//! fields a test cares about. A record whose required foreign key is not given gets a parent
//! from the parent's factory, recursively.
//!
//! Built on the public [`Store`] API only: every record goes through [`Store::insert`], so the
//! same constraints are checked, the same errors come back, and the journal, the diff and the
//! operation log see every record. One call (a record and the parents it made, or a batch) is
//! atomic: on error the store is as it was before the call.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::Arc;

use crate::entity::{Entity, Fk};
use crate::error::Error;
use crate::key::{Key, RawKey};
use crate::store::Store;

/// Why a factory could not create a record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FactoryError {
    /// The store refused the record (a unique or one-to-one conflict, a foreign key, ...).
    #[error(transparent)]
    Store(#[from] Error),
    /// No factory is defined for this entity type (one was needed for a record or a parent).
    #[error("no factory for {entity}: define one with Factories::define::<{entity}>")]
    Undefined {
        /// The entity type.
        entity: &'static str,
    },
    /// Creating the record needs a parent of a type already being created in this call: a
    /// required self-reference, or a cycle of required keys. Give the parent with
    /// [`Build::parent`] instead.
    #[error("factory cycle: {} (a required key back to a record still being built; give it with .parent(..))", path.join(" -> "))]
    Cycle {
        /// The types being created, outermost first, ending with the repeated one.
        path: Vec<&'static str>,
    },
    /// A parent was given with [`Build::parent`] for a key the factory never asked for (its
    /// definition does not call [`Ctx::parent`] for that key), so it would be ignored.
    #[error("{entity}.{column}: a parent was given but the factory for {entity} never asks for it (call ctx.parent({entity}::..) in its definition)")]
    UnusedParent {
        /// The entity type.
        entity: &'static str,
        /// The foreign-key column.
        column: &'static str,
    },
}

type Make<E> = dyn Fn(&mut Ctx<'_, E>) -> Result<E, FactoryError> + Send + Sync;
/// Sets a computed field on the record: always with no base, or with a base only when the
/// record's field still equals the base's (no override changed it).
type Computed<E> = dyn Fn(Option<&mut E>, &mut E) + Send + Sync;
type Override<'f, E> = Box<dyn Fn(&mut E) + 'f>;

/// One entity type's definition.
struct Def<E> {
    make: Option<Box<Make<E>>>,
    computed: Vec<Box<Computed<E>>>,
}

/// The factories of a test suite: one definition per entity type, and a sequence number per
/// type that counts the records each factory made (from 1).
///
/// ```
/// use relata::{Entity, Factories, Key, Schema, Store};
///
/// #[derive(Entity, Clone, Debug, PartialEq)]
/// struct User { #[relata(unique)] username: String, #[relata(unique)] email: String }
/// #[derive(Entity, Clone, Debug, PartialEq)]
/// struct Post { title: String, #[relata(back = "posts")] author: Key<User> }
///
/// let mut f = Factories::new()
///     .define(|c| Ok(User { username: format!("user{}", c.n()), email: String::new() }))
///     .computed(|u: &mut User| &mut u.email, |u| format!("{}@example.com", u.username))
///     .define(|c| Ok(Post { title: format!("post {}", c.n()), author: c.parent(Post::AUTHOR)? }));
///
/// let mut store = Store::new(Schema::builder().entity::<User>().entity::<Post>().build()?);
/// let post = f.create::<Post>(&mut store)?;           // creates its author too
/// let author = store.get(post).unwrap().author;
/// assert_eq!(store.get(author).unwrap().email, "user1@example.com");
///
/// let bob = f.build::<User>().with(|u| u.username = "bob".into()).create(&mut store)?;
/// assert_eq!(store.get(bob).unwrap().email, "bob@example.com");   // computed from the override
/// let posts = f.build::<Post>().parent(Post::AUTHOR, bob).create_many(&mut store, 3)?;
/// assert_eq!(store.child_count(Post::AUTHOR, bob), 3);
/// # let _ = posts;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Default)]
pub struct Factories {
    /// `TypeId::of::<E>()` to an `Arc<Def<E>>`.
    defs: HashMap<TypeId, Box<dyn Any + Send + Sync>>,
    seqs: HashMap<TypeId, u64>,
    /// The types being created by the current call, outermost first.
    building: Vec<&'static str>,
}

impl std::fmt::Debug for Factories {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Factories")
            .field("defined", &self.defs.len())
            .field("created", &self.seqs.values().sum::<u64>())
            .finish()
    }
}

impl Factories {
    /// No factories yet. O(1).
    ///
    /// ```
    /// let f = relata::Factories::new();
    /// # let _ = f;
    /// ```
    pub fn new() -> Factories {
        Factories::default()
    }

    /// Defines (or redefines) `E`'s factory: `make` builds a record with every field set,
    /// from the sequence number [`Ctx::n`] (unique values: `format!("user{}", c.n())`), fixed
    /// values, and parents from [`Ctx::parent`]. O(1).
    ///
    /// ```
    /// # use relata::{Entity, Factories, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct Tag { #[relata(unique)] name: String, hidden: bool }
    /// let mut f = Factories::new().define(|c| Ok(Tag { name: format!("tag{}", c.n()), hidden: false }));
    /// let mut store = Store::new(Schema::builder().entity::<Tag>().build()?);
    /// let t = f.create::<Tag>(&mut store)?;
    /// assert_eq!(store.get(t).unwrap().name, "tag1");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn define<E: Entity + Clone>(
        mut self,
        make: impl Fn(&mut Ctx<'_, E>) -> Result<E, FactoryError> + Send + Sync + 'static,
    ) -> Factories {
        if let Some(def) = self.def_mut::<E>() {
            def.make = Some(Box::new(make));
        }
        self
    }

    /// Declares a field of `E` computed from the others: after the defaults and again after a
    /// call's overrides, unless an override set the field itself (it then differs from the
    /// default). `field` names the field (`|u: &mut User| &mut u.email`), so a misspelt field
    /// is a compile error. Computed fields are set in declaration order. O(1).
    ///
    /// ```
    /// # use relata::{Entity, Factories, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct User { #[relata(unique)] username: String, email: String }
    /// let mut f = Factories::new()
    ///     .define(|c| Ok(User { username: format!("user{}", c.n()), email: String::new() }))
    ///     .computed(|u: &mut User| &mut u.email, |u| format!("{}@example.com", u.username));
    /// let mut store = Store::new(Schema::builder().entity::<User>().build()?);
    /// let a = f.build::<User>().with(|u| u.username = "ada".into()).create(&mut store)?;
    /// let b = f.build::<User>().with(|u| u.email = "b@b.org".into()).create(&mut store)?;
    /// assert_eq!(store.get(a).unwrap().email, "ada@example.com");
    /// assert_eq!(store.get(b).unwrap().email, "b@b.org");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn computed<E: Entity + Clone, T: PartialEq + 'static>(
        mut self,
        field: fn(&mut E) -> &mut T,
        value: impl Fn(&E) -> T + Send + Sync + 'static,
    ) -> Factories {
        let set = move |base: Option<&mut E>, record: &mut E| {
            let untouched = match base {
                Some(base) => *field(base) == *field(record),
                None => true,
            };
            if untouched {
                let v = value(record);
                *field(record) = v;
            }
        };
        if let Some(def) = self.def_mut::<E>() {
            def.computed.push(Box::new(set));
        }
        self
    }

    /// `E`'s definition, created empty if missing. `None` only while a call holds it (never
    /// through the public API, which takes `self` by value).
    fn def_mut<E: Entity + Clone>(&mut self) -> Option<&mut Def<E>> {
        let slot = self.defs.entry(TypeId::of::<E>()).or_insert_with(|| {
            Box::new(Arc::new(Def::<E> {
                make: None,
                computed: Vec::new(),
            }))
        });
        slot.downcast_mut::<Arc<Def<E>>>().and_then(Arc::get_mut)
    }

    fn def<E: Entity + Clone>(&self) -> Result<Arc<Def<E>>, FactoryError> {
        self.defs
            .get(&TypeId::of::<E>())
            .and_then(|d| d.downcast_ref::<Arc<Def<E>>>())
            .filter(|d| d.make.is_some())
            .cloned()
            .ok_or(FactoryError::Undefined {
                entity: E::DEF.type_name,
            })
    }

    /// The next sequence number of `E` (1 for its first record).
    fn next_seq<E: 'static>(&mut self) -> u64 {
        let n = self.seqs.entry(TypeId::of::<E>()).or_insert(0);
        *n += 1;
        *n
    }

    /// How many records of `E` this set of factories has built (attempts included: a sequence
    /// number is never reused). O(1).
    ///
    /// ```
    /// # use relata::{Entity, Factories, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct Tag { name: String }
    /// let mut f = Factories::new().define(|c| Ok(Tag { name: format!("tag{}", c.n()) }));
    /// let mut store = Store::new(Schema::builder().entity::<Tag>().build()?);
    /// f.create_many::<Tag>(&mut store, 2)?;
    /// assert_eq!(f.sequence::<Tag>(), 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn sequence<E: 'static>(&self) -> u64 {
        self.seqs.get(&TypeId::of::<E>()).copied().unwrap_or(0)
    }

    /// A record of `E` with its defaults; parents it needs are created by their factories.
    /// O(records created) inserts.
    ///
    /// # Errors
    /// [`FactoryError::Undefined`] for a type with no factory, [`FactoryError::Cycle`] for a
    /// required key back to a type being built, [`FactoryError::Store`] for a constraint the
    /// store refused. On error nothing changed.
    ///
    /// ```
    /// # use relata::{Entity, Factories, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct Tag { name: String }
    /// let mut f = Factories::new().define(|c| Ok(Tag { name: format!("tag{}", c.n()) }));
    /// let mut store = Store::new(Schema::builder().entity::<Tag>().build()?);
    /// let t = f.create::<Tag>(&mut store)?;
    /// assert!(store.contains(t));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn create<E: Entity + Clone>(&mut self, store: &mut Store) -> Result<Key<E>, FactoryError> {
        self.build::<E>().create(store)
    }

    /// `n` records of `E` with their defaults (each with its own new parents; to share one,
    /// see [`Build::parent`] and [`Build::share`]). Atomic. O(records created) inserts.
    ///
    /// # Errors
    /// As [`create`](Self::create).
    ///
    /// ```
    /// # use relata::{Entity, Factories, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct Tag { #[relata(unique)] name: String }
    /// let mut f = Factories::new().define(|c| Ok(Tag { name: format!("tag{}", c.n()) }));
    /// let mut store = Store::new(Schema::builder().entity::<Tag>().build()?);
    /// assert_eq!(f.create_many::<Tag>(&mut store, 10)?.len(), 10);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn create_many<E: Entity + Clone>(
        &mut self,
        store: &mut Store,
        n: usize,
    ) -> Result<Vec<Key<E>>, FactoryError> {
        self.build::<E>().create_many(store, n)
    }

    /// Starts a record of `E` with per-call parents and overrides. O(1).
    ///
    /// ```
    /// # use relata::{Entity, Factories, Key, Schema, Store};
    /// # #[derive(Entity, Clone, Debug, PartialEq)]
    /// # struct User { name: String }
    /// # #[derive(Entity, Clone, Debug, PartialEq)]
    /// # struct Post { title: String, #[relata(back = "posts")] author: Key<User> }
    /// let mut f = Factories::new()
    ///     .define(|c| Ok(User { name: format!("user{}", c.n()) }))
    ///     .define(|c| Ok(Post { title: "untitled".into(), author: c.parent(Post::AUTHOR)? }));
    /// let mut store = Store::new(Schema::builder().entity::<User>().entity::<Post>().build()?);
    /// let alice = f.create::<User>(&mut store)?;
    /// let p = f.build::<Post>().parent(Post::AUTHOR, alice).with(|p| p.title = "Hi".into()).create(&mut store)?;
    /// assert_eq!(store.count::<User>(), 1);     // no throwaway author was made
    /// assert_eq!(store.get(p).unwrap().title, "Hi");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn build<E: Entity + Clone>(&mut self) -> Build<'_, E> {
        Build {
            factories: self,
            parents: Vec::new(),
            overrides: Vec::new(),
            shared: Vec::new(),
        }
    }

    /// Creates one record: defaults, computed fields, overrides, computed fields again, insert.
    fn create_one<E: Entity + Clone>(
        &mut self,
        store: &mut Store,
        parents: &[(usize, RawKey)],
        overrides: &[Override<'_, E>],
    ) -> Result<Key<E>, FactoryError> {
        let def = self.def::<E>()?;
        let name = E::DEF.type_name;
        if self.building.contains(&name) {
            let mut path = self.building.clone();
            path.push(name);
            return Err(FactoryError::Cycle { path });
        }
        let n = self.next_seq::<E>();
        self.building.push(name);
        let mut ctx = Ctx {
            factories: self,
            store: &mut *store,
            n,
            parents,
            used: vec![false; parents.len()],
            _type: PhantomData,
        };
        let made = def.make.as_ref().map(|make| make(&mut ctx));
        let used = std::mem::take(&mut ctx.used);
        self.building.pop();
        let mut base = made.unwrap_or(Err(FactoryError::Undefined { entity: name }))?;
        if let Some(unused) = used.iter().position(|u| !u) {
            return Err(FactoryError::UnusedParent {
                entity: name,
                column: E::DEF.fk_column(parents[unused].0),
            });
        }
        for set in &def.computed {
            set(None, &mut base);
        }
        let mut record = base.clone();
        for o in overrides {
            o(&mut record);
        }
        for set in &def.computed {
            set(Some(&mut base), &mut record);
        }
        Ok(store.insert(record)?)
    }
}

/// A record being built by its factory's definition: its sequence number, the store, and its
/// parents. See [`Factories::define`].
pub struct Ctx<'c, E> {
    factories: &'c mut Factories,
    store: &'c mut Store,
    n: u64,
    parents: &'c [(usize, RawKey)],
    used: Vec<bool>,
    _type: PhantomData<fn() -> E>,
}

impl<E> std::fmt::Debug for Ctx<'_, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ctx").field("n", &self.n).finish()
    }
}

impl<E: Entity> Ctx<'_, E> {
    /// This record's sequence number: 1 for the first record of `E` these factories build,
    /// then 2, 3, ... (for unique values: `format!("user{}", c.n())`). O(1).
    ///
    /// ```
    /// # use relata::{Entity, Factories, Schema, Store};
    /// # #[derive(Entity, Clone, Debug, PartialEq)]
    /// # struct Tag { name: String }
    /// let mut f = Factories::new().define(|c| Ok(Tag { name: format!("tag{}", c.n()) }));
    /// # let mut store = Store::new(Schema::builder().entity::<Tag>().build()?);
    /// let keys = f.create_many::<Tag>(&mut store, 2)?;
    /// assert_eq!(store.get(keys[1]).unwrap().name, "tag2");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn n(&self) -> u64 {
        self.n
    }

    /// The store, to read (e.g. to pick an existing record). O(1).
    ///
    /// ```
    /// # use relata::{Entity, Factories, Schema, Store};
    /// # #[derive(Entity, Clone, Debug, PartialEq)]
    /// # struct Tag { name: String }
    /// let mut f = Factories::new().define(|c| Ok(Tag { name: format!("tag of {}", c.store().count::<Tag>()) }));
    /// # let mut store = Store::new(Schema::builder().entity::<Tag>().build()?);
    /// let t = f.create::<Tag>(&mut store)?;
    /// assert_eq!(store.get(t).unwrap().name, "tag of 0");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn store(&self) -> &Store {
        self.store
    }

    /// The parent for foreign key `fk`: the one the call gave with [`Build::parent`], or else
    /// a new one from `P`'s factory (which may create its own parents). O(records created).
    ///
    /// # Errors
    /// As [`Factories::create`] for the new parent; [`FactoryError::Cycle`] when `P` is a type
    /// still being built (a required self-reference).
    ///
    /// ```
    /// # use relata::{Entity, Factories, Key, Schema, Store};
    /// # #[derive(Entity, Clone, Debug, PartialEq)]
    /// # struct User { name: String }
    /// # #[derive(Entity, Clone, Debug, PartialEq)]
    /// # struct Post { #[relata(back = "posts")] author: Key<User> }
    /// let mut f = Factories::new()
    ///     .define(|c| Ok(User { name: format!("user{}", c.n()) }))
    ///     .define(|c| Ok(Post { author: c.parent(Post::AUTHOR)? }));
    /// # let mut store = Store::new(Schema::builder().entity::<User>().entity::<Post>().build()?);
    /// f.create::<Post>(&mut store)?;
    /// assert_eq!(store.count::<User>(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn parent<P: Entity + Clone>(&mut self, fk: Fk<E, P>) -> Result<Key<P>, FactoryError> {
        if let Some(i) = self.parents.iter().position(|&(f, _)| f == fk.index) {
            self.used[i] = true;
            return Ok(Key::from_raw(self.parents[i].1));
        }
        self.create::<P>()
    }

    /// A new record of `T` from its factory, for a record this one needs that is not a parent
    /// through a key of its own (or to make one explicitly). O(records created).
    ///
    /// # Errors
    /// As [`Factories::create`].
    ///
    /// ```
    /// # use relata::{Entity, Factories, Key, Schema, Store};
    /// # #[derive(Entity, Clone, Debug, PartialEq)]
    /// # struct User { name: String }
    /// # #[derive(Entity, Clone, Debug, PartialEq)]
    /// # struct Post { #[relata(back = "posts")] author: Key<User>, #[relata(back = "edited")] editor: Key<User> }
    /// let mut f = Factories::new()
    ///     .define(|c| Ok(User { name: format!("user{}", c.n()) }))
    ///     .define(|c| {
    ///         let author = c.parent(Post::AUTHOR)?;
    ///         let editor = c.create::<User>()?;
    ///         Ok(Post { author, editor })
    ///     });
    /// # let mut store = Store::new(Schema::builder().entity::<User>().entity::<Post>().build()?);
    /// f.create::<Post>(&mut store)?;
    /// assert_eq!(store.count::<User>(), 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn create<T: Entity + Clone>(&mut self) -> Result<Key<T>, FactoryError> {
        self.factories.create_one::<T>(self.store, &[], &[])
    }
}

/// One call's record(s) of `E`: parents given by key, overrides, then
/// [`create`](Self::create) or [`create_many`](Self::create_many). See [`Factories::build`].
pub struct Build<'f, E> {
    factories: &'f mut Factories,
    parents: Vec<(usize, RawKey)>,
    overrides: Vec<Override<'f, E>>,
    shared: Vec<usize>,
}

impl<E> std::fmt::Debug for Build<'_, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Build")
            .field("parents", &self.parents)
            .field("overrides", &self.overrides.len())
            .finish()
    }
}

impl<'f, E: Entity + Clone> Build<'f, E> {
    /// Uses `parent` for foreign key `fk` (for every record of a batch): the factory's
    /// [`Ctx::parent`] returns it, so no throwaway parent is created. O(1).
    ///
    /// ```
    /// # use relata::{Entity, Factories, Key, Schema, Store};
    /// # #[derive(Entity, Clone, Debug, PartialEq)]
    /// # struct User { name: String }
    /// # #[derive(Entity, Clone, Debug, PartialEq)]
    /// # struct Post { #[relata(back = "posts")] author: Key<User> }
    /// # let mut f = Factories::new()
    /// #     .define(|c| Ok(User { name: format!("user{}", c.n()) }))
    /// #     .define(|c| Ok(Post { author: c.parent(Post::AUTHOR)? }));
    /// # let mut store = Store::new(Schema::builder().entity::<User>().entity::<Post>().build()?);
    /// let alice = f.create::<User>(&mut store)?;
    /// f.build::<Post>().parent(Post::AUTHOR, alice).create_many(&mut store, 3)?;
    /// assert_eq!((store.count::<User>(), store.child_count(Post::AUTHOR, alice)), (1, 3));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn parent<P: Entity>(mut self, fk: Fk<E, P>, parent: Key<P>) -> Self {
        self.parents.retain(|&(f, _)| f != fk.index);
        self.parents.push((fk.index, parent.raw()));
        self
    }

    /// In a batch, creates the parent for `fk` once (with the first record) and gives it to
    /// every record. O(1).
    ///
    /// ```
    /// # use relata::{Entity, Factories, Key, Schema, Store};
    /// # #[derive(Entity, Clone, Debug, PartialEq)]
    /// # struct User { name: String }
    /// # #[derive(Entity, Clone, Debug, PartialEq)]
    /// # struct Post { #[relata(back = "posts")] author: Key<User> }
    /// # let mut f = Factories::new()
    /// #     .define(|c| Ok(User { name: format!("user{}", c.n()) }))
    /// #     .define(|c| Ok(Post { author: c.parent(Post::AUTHOR)? }));
    /// # let mut store = Store::new(Schema::builder().entity::<User>().entity::<Post>().build()?);
    /// let posts = f.build::<Post>().share(Post::AUTHOR).create_many(&mut store, 5)?;
    /// assert_eq!(store.count::<User>(), 1);
    /// # let _ = posts;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn share<P: Entity>(mut self, fk: Fk<E, P>) -> Self {
        self.shared.push(fk.index);
        self
    }

    /// Changes the record after its defaults (for every record of a batch). Overrides run in
    /// order; computed fields the overrides did not set are computed again after them. O(1).
    ///
    /// ```
    /// # use relata::{Entity, Factories, Schema, Store};
    /// # #[derive(Entity, Clone, Debug, PartialEq)]
    /// # struct Tag { name: String, hidden: bool }
    /// # let mut f = Factories::new().define(|c| Ok(Tag { name: format!("tag{}", c.n()), hidden: false }));
    /// # let mut store = Store::new(Schema::builder().entity::<Tag>().build()?);
    /// let t = f.build::<Tag>().with(|t| t.hidden = true).create(&mut store)?;
    /// assert!(store.get(t).unwrap().hidden);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with(mut self, change: impl Fn(&mut E) + 'f) -> Self {
        self.overrides.push(Box::new(change));
        self
    }

    /// Creates the record (and the parents it needs). Atomic. O(records created) inserts.
    ///
    /// # Errors
    /// As [`Factories::create`], and [`FactoryError::UnusedParent`] for a parent given for a
    /// key the factory never asks for.
    ///
    /// ```
    /// # use relata::{Entity, Factories, Schema, Store};
    /// # #[derive(Entity, Clone, Debug, PartialEq)]
    /// # struct Tag { name: String }
    /// # let mut f = Factories::new().define(|c| Ok(Tag { name: format!("tag{}", c.n()) }));
    /// # let mut store = Store::new(Schema::builder().entity::<Tag>().build()?);
    /// let t = f.build::<Tag>().create(&mut store)?;
    /// assert!(store.contains(t));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn create(self, store: &mut Store) -> Result<Key<E>, FactoryError> {
        let mut keys = self.create_many(store, 1)?;
        keys.pop().ok_or(FactoryError::Undefined {
            entity: E::DEF.type_name,
        })
    }

    /// Creates `n` records, in order, all or none. O(records created) inserts.
    ///
    /// # Errors
    /// As [`create`](Self::create).
    ///
    /// ```
    /// # use relata::{Entity, Factories, Schema, Store};
    /// # #[derive(Entity, Clone, Debug, PartialEq)]
    /// # struct Tag { #[relata(unique)] name: String }
    /// # let mut f = Factories::new().define(|c| Ok(Tag { name: format!("tag{}", c.n()) }));
    /// # let mut store = Store::new(Schema::builder().entity::<Tag>().build()?);
    /// // Every record gets the same name: the second insert fails and the first is undone.
    /// let err = f.build::<Tag>().with(|t| t.name = "same".into()).create_many(&mut store, 2);
    /// assert!(err.is_err());
    /// assert_eq!(store.count::<Tag>(), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn create_many(self, store: &mut Store, n: usize) -> Result<Vec<Key<E>>, FactoryError> {
        let Build {
            factories,
            mut parents,
            overrides,
            shared,
        } = self;
        atomically(store, |store| {
            // Not reserved for `n`: an absurd count fails in the store, not in the allocator.
            let mut keys = Vec::new();
            for _ in 0..n {
                let key = factories.create_one::<E>(store, &parents, &overrides)?;
                if keys.is_empty() {
                    share_parents(store, key, &shared, &mut parents);
                }
                keys.push(key);
            }
            Ok(keys)
        })
    }
}

/// Adds the first record's parents through the `shared` keys to `parents`.
fn share_parents<E: Entity>(
    store: &Store,
    first: Key<E>,
    shared: &[usize],
    parents: &mut Vec<(usize, RawKey)>,
) {
    for &fk in shared {
        if parents.iter().any(|&(f, _)| f == fk) {
            continue;
        }
        if let Some(p) = store.parent(Fk::<E, E>::__new(fk), first) {
            parents.push((fk, p.raw()));
        }
    }
}

/// Runs `f`; on error or panic undoes everything it did (a savepoint inside a transaction, a
/// fixture mark outside one), so a failing call, or a definition or override that panics in a
/// test, leaves no record and no open scope behind.
pub(crate) fn atomically<R, X: From<Error>>(
    store: &mut Store,
    f: impl FnOnce(&mut Store) -> Result<R, X>,
) -> Result<R, X> {
    let run = |store: &mut Store| std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(store)));
    let result = if store.in_transaction() {
        let sp = store.savepoint()?;
        let result = run(store);
        if !matches!(result, Ok(Ok(_))) {
            store.rollback_to(&sp)?;
        }
        store.release(&sp)?;
        result
    } else {
        let mark = store.mark()?;
        let result = run(store);
        if !matches!(result, Ok(Ok(_))) {
            store.reset(&mark)?;
        }
        store.release_mark(&mark)?;
        result
    };
    result.unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}
