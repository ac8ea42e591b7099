//! Insert-or-update by a named unique constraint: SQL's `INSERT ... ON CONFLICT (cols) DO
//! UPDATE` and `DO NOTHING`. Each is one statement: it either applies whole or not at all.

use std::fmt;

use crate::entity::{Entity, Unique};
use crate::error::Error;
use crate::key::Key;
use crate::store::write::NewId;
use crate::store::Store;

/// What an upsert did, and to which record.
pub enum Upserted<E> {
    /// No record held the value: the new record was inserted under this key.
    Inserted(Key<E>),
    /// This record held the value and was updated (possibly to the same values).
    Updated(Key<E>),
    /// This record held the value and was left alone ([`Store::insert_if_absent`]).
    Existing(Key<E>),
}

impl<E> Upserted<E> {
    /// The inserted, updated or existing record. O(1). Example at [`Store::upsert`].
    pub fn key(&self) -> Key<E> {
        match *self {
            Upserted::Inserted(k) | Upserted::Updated(k) | Upserted::Existing(k) => k,
        }
    }

    /// `true` for [`Upserted::Inserted`]. O(1). Example at [`Store::upsert`].
    pub fn inserted(&self) -> bool {
        matches!(self, Upserted::Inserted(_))
    }
}

impl<E> Clone for Upserted<E> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<E> Copy for Upserted<E> {}
impl<E> PartialEq for Upserted<E> {
    fn eq(&self, other: &Self) -> bool {
        std::mem::discriminant(self) == std::mem::discriminant(other) && self.key() == other.key()
    }
}
impl<E> Eq for Upserted<E> {}
impl<E> fmt::Debug for Upserted<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self {
            Upserted::Inserted(_) => "Inserted",
            Upserted::Updated(_) => "Updated",
            Upserted::Existing(_) => "Existing",
        };
        write!(f, "{what}({:?})", self.key())
    }
}

impl Store {
    /// Inserts `value`, or, if a record already holds its values under the unique constraint
    /// `on`, replaces that record with `value` (SQL `INSERT ... ON CONFLICT (cols) DO UPDATE
    /// SET` every column `= excluded.col`). A NULL part of `on` never conflicts, as in SQL.
    ///
    /// On an `#[relata(id)]` field's constraint (`Type::BY_ID`) the look-up is by the id
    /// `value` gives, and a value no record holds is inserted under that id (SQL's `INSERT
    /// (id, ..) .. ON CONFLICT (id)`; the id counter goes past it); an id below 1 names no
    /// record and gets the next id, as [`insert`](Self::insert) gives it.
    ///
    /// Checks and errors: those of [`insert`](Self::insert) or
    /// [`replace`](Self::replace), whichever happens (another unique constraint may still be
    /// violated). Atomic: on error nothing changed. Cost: O(1) average for the conflict
    /// look-up, plus the insert or update.
    ///
    /// ```
    /// # use relata::{Entity, Schema, Store, Upserted};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct User { #[relata(unique)] email: String, name: String }
    /// let mut s = Store::new(Schema::builder().entity::<User>().build()?);
    /// let user = |name: &str| User { email: "a@example.com".into(), name: name.into() };
    /// let first = s.upsert(User::BY_EMAIL, user("Ann"))?;
    /// assert!(first.inserted());
    /// assert_eq!(s.upsert(User::BY_EMAIL, user("Anna"))?, Upserted::Updated(first.key()));
    /// assert_eq!(s.get(first.key()).unwrap().name, "Anna");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn upsert<E: Entity, Q: ?Sized>(&mut self, on: Unique<E, Q>, value: E) -> Result<Upserted<E>, Error> {
        self.upsert_by(on.index, value, OnConflict::<fn(&mut E)>::Replace)
    }

    /// Inserts `value`, or, if a record already holds its values under `on`, changes that
    /// record through `f` instead (SQL `ON CONFLICT (cols) DO UPDATE SET ...` with
    /// expressions, e.g. a counter incremented); `value` is then dropped.
    ///
    /// Checks, errors and cost: as [`upsert`](Self::upsert), with
    /// [`update`](Self::update)'s for the change.
    ///
    /// ```
    /// # use relata::{Entity, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct Hit { #[relata(unique)] path: String, count: i64 }
    /// let mut s = Store::new(Schema::builder().entity::<Hit>().build()?);
    /// for _ in 0..3 {
    ///     s.upsert_with(Hit::BY_PATH, Hit { path: "/".into(), count: 1 }, |h| h.count += 1)?;
    /// }
    /// let home = s.find_unique(Hit::BY_PATH, "/").unwrap();
    /// assert_eq!(s.get(home).unwrap().count, 3);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn upsert_with<E: Entity, Q: ?Sized>(
        &mut self,
        on: Unique<E, Q>,
        value: E,
        f: impl FnOnce(&mut E),
    ) -> Result<Upserted<E>, Error> {
        self.upsert_by(on.index, value, OnConflict::Change(f))
    }

    /// Inserts `value` unless a record already holds its values under `on`, which is then
    /// returned as [`Upserted::Existing`] (SQL `ON CONFLICT (cols) DO NOTHING`; compare
    /// [`link_if_absent`](Self::link_if_absent)).
    ///
    /// Checks, errors and cost: as [`insert`](Self::insert) when it inserts; otherwise
    /// `value`'s own CHECK predicates and `max_len` limits only (SQL checks the proposed row
    /// before it looks for a conflict), and O(1) average.
    ///
    /// ```
    /// # use relata::{Entity, Schema, Store, Upserted};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct Tag { #[relata(unique)] name: String }
    /// let mut s = Store::new(Schema::builder().entity::<Tag>().build()?);
    /// let rust = s.insert_if_absent(Tag::BY_NAME, Tag { name: "rust".into() })?.key();
    /// assert_eq!(s.insert_if_absent(Tag::BY_NAME, Tag { name: "rust".into() })?, Upserted::Existing(rust));
    /// assert_eq!(s.count::<Tag>(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn insert_if_absent<E: Entity, Q: ?Sized>(
        &mut self,
        on: Unique<E, Q>,
        value: E,
    ) -> Result<Upserted<E>, Error> {
        self.upsert_by(on.index, value, OnConflict::<fn(&mut E)>::Keep)
    }

    /// One statement: builds `value`'s row once, looks for the record holding its values
    /// under unique constraint `u` by that row, then inserts the row or does `on_conflict`.
    /// The proposed row's own checks (`max_len`, CHECK predicates) come first, whatever the
    /// conflict does next, as SQLite and PostgreSQL check the proposed row before looking for
    /// one.
    fn upsert_by<E: Entity, F: FnOnce(&mut E)>(
        &mut self,
        u: usize,
        value: E,
        on_conflict: OnConflict<F>,
    ) -> Result<Upserted<E>, Error> {
        let t = self.table_index::<E>()?;
        if u >= E::DEF.uniques.len() {
            return Err(Error::UnknownEntity {
                type_name: E::DEF.type_name,
            });
        }
        let result = self.statement(|s| {
            // Stamped as the insert writes it, so a unique `created_at` finds its holder too.
            // On the id's own constraint the caller's id is the one looked for (and kept by
            // the insert): `INSERT .. ON CONFLICT (id)` with the id column given.
            let new_id = match E::DEF.id.is_some() && u == 0 {
                true => NewId::Given,
                false => NewId::Next,
            };
            // On error the row's text is cut off already; `mark` is where it starts.
            let (row, counter, mark) = s.proposed_row(t, None, value, true, new_id)?;
            let table = s.table_mut::<E>(t)?;
            let Some(key) = table.unique_holder(u, &row, None).map(Key::from_raw) else {
                return s
                    .insert_row::<E>(t, row, counter, mark)
                    .map(|k| Upserted::Inserted(Key::from_raw(k)));
            };
            // The row's text is the heap's tail: read what the update needs, then cut it off.
            let new = match on_conflict {
                OnConflict::Keep => {
                    table.text.truncate(mark);
                    return Ok(Upserted::Existing(key));
                }
                OnConflict::Replace => {
                    let new = E::__from_row(&row, &table.text);
                    table.text.truncate(mark);
                    new
                }
                OnConflict::Change(f) => {
                    table.text.truncate(mark);
                    let mut current = s.owned(key)?;
                    f(&mut current);
                    current
                }
            };
            s.rewrite_in(t, key.raw(), new).map(|()| Upserted::Updated(key))
        });
        self.logged("upsert", E::DEF.table, None, result, |r| Some(r.key().raw()))
    }
}

/// What an upsert does to the record already holding the proposed values.
enum OnConflict<F> {
    /// `DO UPDATE SET` every column to the proposed record's.
    Replace,
    /// `DO UPDATE SET` through a closure over the current record.
    Change(F),
    /// `DO NOTHING`.
    Keep,
}
