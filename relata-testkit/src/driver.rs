//! The driver: runs each [`Op`] on a real [`Store`] and on the [`Model`], and insists they
//! agree on the outcome (the same `Ok`, or the same error) and, through [`check`], on the
//! state afterwards.

use std::collections::BTreeSet;
use std::fmt;

use relata::{DeleteReport, Error, Key, RawKey, Store, Upserted};

use crate::check::check;
use crate::entities::{Modeled, OnConflict};
use crate::model::{DeleteOutcome, Expected, Model, TableId, V};
use crate::op::Op;
use crate::schema::schema;
use crate::stats::{error_kind, Outcome, Stats};
use crate::with_entity;

/// A fresh, empty store over the [test schema](crate::schema).
pub fn new_store() -> Store {
    Store::new(schema())
}

/// Applies one operation to both sides and compares the outcomes. A failed operation must
/// leave the store `==` to its state before; a successful one that changed the model must
/// leave it `!=`.
///
/// # Errors
/// What differed.
pub fn apply(store: &mut Store, model: &mut Model, op: &Op) -> Result<Outcome, String> {
    let (store_before, model_before) = (store.clone(), model.clone());
    let outcome = match op {
        Op::Insert(rec) => {
            let values = rec.values(model);
            with_entity!(rec.table(), E => insert::<E>(store, model, values))
        }
        Op::Update(k, change) => {
            let (t, field, v) = change.resolve(model);
            let key = k.resolve(model, t);
            with_entity!(t, E => update::<E>(store, model, key, field, v))
        }
        Op::Replace(k, rec) => {
            let (t, values) = (rec.table(), rec.values(model));
            let key = k.resolve(model, t);
            with_entity!(t, E => replace::<E>(store, model, key, values))
        }
        Op::Delete(t, k) => {
            let key = k.resolve(model, *t);
            with_entity!(*t, E => delete::<E>(store, model, key, false))
        }
        Op::ExplainThenDelete(t, k) => {
            let key = k.resolve(model, *t);
            with_entity!(*t, E => delete::<E>(store, model, key, true))
        }
        Op::CloneAndCompare => clone_and_compare(store).map(|()| OK),
        Op::SnapshotRoundTrip => snapshot_round_trip(store).map(|()| OK),
        Op::Upsert(rec) => {
            let values = rec.values(model);
            with_entity!(rec.table(), E => upsert::<E>(store, model, values))
        }
    }?;
    same_change(store, &store_before, model, &model_before)?;
    Ok(outcome)
}

/// The store changed (by its own `==`) exactly when the model did.
fn same_change(
    store: &Store,
    store_before: &Store,
    model: &Model,
    model_before: &Model,
) -> Result<(), String> {
    let changed = !model.same_state(model_before);
    if changed != (store == store_before) {
        return Ok(());
    }
    let what = match changed {
        true => "changed the model but the store is == its old self",
        false => "changed nothing in the model but the store is != its old self",
    };
    Err(format!("the operation {what}"))
}

/// Compares an outcome: both `Ok` (then `on_ok` runs), or errors the model admits.
fn agree<T: fmt::Debug, U: fmt::Debug>(
    what: &str,
    model: Result<T, Expected>,
    store: Result<U, Error>,
    on_ok: impl FnOnce(T, U) -> Result<Outcome, String>,
) -> Result<Outcome, String> {
    match (model, store) {
        (Ok(m), Ok(s)) => on_ok(m, s),
        (Err(m), Err(s)) if m.admits(&s) => Ok(Outcome::Failed(error_kind(&s))),
        (m, s) => Err(format!("{what}: model says {m:?}, store says {s:?}")),
    }
}

fn exactly<T>(r: Result<T, Error>) -> Result<T, Expected> {
    r.map_err(Expected::Exactly)
}

const OK: Outcome = Outcome::Ok {
    deleted: 0,
    nulled: 0,
};

fn insert<E: Modeled>(store: &mut Store, model: &mut Model, values: Vec<V>) -> Result<Outcome, String> {
    let expected = exactly(model.check_write(E::TABLE, None, &values));
    let actual = store.insert(E::from_values(&values));
    agree("insert", expected, actual, |(), key: Key<E>| {
        if model.issued(E::TABLE).contains(&key.raw()) {
            return Err(format!(
                "insert handed out {key:?}, a key it had handed out before"
            ));
        }
        model.insert_as(E::TABLE, key.raw(), values);
        Ok(OK)
    })
}

/// An upsert: the model finds the holder of the values under the entity's upsert
/// constraint and updates it (or leaves it), or inserts; the store must do the same.
fn upsert<E: Modeled>(store: &mut Store, model: &mut Model, values: Vec<V>) -> Result<Outcome, String> {
    let Some((u, on_conflict)) = E::UPSERT_ON else {
        return insert::<E>(store, model, values);
    };
    let fields = E::TABLE.spec().uniques[u].fields;
    let probe: Vec<V> = fields.iter().map(|&f| values[f].clone()).collect();
    let Some(holder) = model.holder(E::TABLE, fields, &probe) else {
        let expected = exactly(model.check_write(E::TABLE, None, &values));
        let actual = E::upsert(store, E::from_values(&values));
        return agree("upsert (insert)", expected, actual, |(), got| match got {
            Upserted::Inserted(key) if !model.issued(E::TABLE).contains(&key.raw()) => {
                model.insert_as(E::TABLE, key.raw(), values);
                Ok(OK)
            }
            other => Err(format!("upsert should have inserted a new key, did {other:?}")),
        });
    };
    let expected = match on_conflict {
        OnConflict::Update => exactly(model.update(E::TABLE, holder, values.clone())),
        OnConflict::Nothing => Ok(()),
    };
    let want = match on_conflict {
        OnConflict::Update => Upserted::Updated(Key::from_raw(holder)),
        OnConflict::Nothing => Upserted::Existing(Key::from_raw(holder)),
    };
    let actual = E::upsert(store, E::from_values(&values));
    agree("upsert (conflict)", expected, actual, |(), got| {
        match got == want {
            true => Ok(OK),
            false => Err(format!("upsert did {got:?}, the model expected {want:?}")),
        }
    })
}

fn update<E: Modeled>(
    store: &mut Store,
    model: &mut Model,
    key: RawKey,
    field: usize,
    v: V,
) -> Result<Outcome, String> {
    let mut values = model.record(E::TABLE, key).map(|r| r.values.clone());
    if let Some(vals) = values.as_mut() {
        vals[field] = v.clone();
    }
    let expected = match values {
        Some(vals) => exactly(model.update(E::TABLE, key, vals)),
        None => Err(Expected::Exactly(model.not_live_error(E::TABLE, key))),
    };
    let actual = store.update(Key::<E>::from_raw(key), |e| {
        let mut vals = e.to_values();
        vals[field] = v;
        *e = E::from_values(&vals);
    });
    agree("update", expected, actual, |(), ()| Ok(OK))
}

fn replace<E: Modeled>(
    store: &mut Store,
    model: &mut Model,
    key: RawKey,
    values: Vec<V>,
) -> Result<Outcome, String> {
    let old = model.record(E::TABLE, key).map(|r| r.values.clone());
    let expected = exactly(model.update(E::TABLE, key, values.clone()).map(|()| old));
    let actual = store.replace(Key::<E>::from_raw(key), E::from_values(&values));
    agree("replace", expected, actual, |old, got: E| {
        match Some(got.to_values()) == old {
            true => Ok(OK),
            false => Err(format!(
                "replace returned {got:?}, the model's old record was {old:?}"
            )),
        }
    })
}

fn delete<E: Modeled>(
    store: &mut Store,
    model: &mut Model,
    key: RawKey,
    explain: bool,
) -> Result<Outcome, String> {
    let k = Key::<E>::from_raw(key);
    let explained = explain.then(|| explain_delete(store, k)).transpose()?;
    let expected = model.delete(E::TABLE, key);
    let actual = store.delete(k);
    if let Some(explained) = explained {
        if explained != actual {
            return Err(format!(
                "explain_delete said {explained:?}, delete did {actual:?}"
            ));
        }
    }
    agree("delete", expected, actual, |m, s| {
        compare_report(E::TABLE, key, &m, &s)
    })
}

fn explain_delete<E: Modeled>(store: &Store, key: Key<E>) -> Result<Result<DeleteReport, Error>, String> {
    let before = store.clone();
    let explained = store.explain_delete(key);
    match *store == before {
        true => Ok(explained),
        false => Err("explain_delete changed the store".to_owned()),
    }
}

/// The report names the requested record first, every record once, and exactly what the
/// model deleted and nulled.
fn compare_report(t: TableId, key: RawKey, m: &DeleteOutcome, s: &DeleteReport) -> Result<Outcome, String> {
    let name_of = |t: TableId| t.spec().name;
    let deleted: Vec<(&str, RawKey)> = s.deleted.iter().map(|d| (d.table, d.key)).collect();
    let unique: BTreeSet<(&str, RawKey)> = deleted.iter().copied().collect();
    let want: BTreeSet<(&str, RawKey)> = m.deleted.iter().map(|&(t, k)| (name_of(t), k)).collect();
    let nulled: Vec<(&str, &str, RawKey)> = s.nulled.iter().map(|n| (n.table, n.column, n.key)).collect();
    let mut want_nulled: Vec<(&str, &str, RawKey)> = m
        .nulled
        .iter()
        .map(|&(t, k, fk)| (name_of(t), t.spec().columns[t.spec().fks[fk].field], k))
        .collect();
    let mut got_nulled = nulled.clone();
    got_nulled.sort();
    want_nulled.sort();
    if deleted.first() != Some(&(name_of(t), key)) || unique.len() != deleted.len() || unique != want {
        return Err(format!(
            "delete report lists {deleted:?}; the model deleted {want:?}"
        ));
    }
    if got_nulled != want_nulled {
        return Err(format!(
            "delete report nulled {nulled:?}; the model nulled {want_nulled:?}"
        ));
    }
    Ok(Outcome::Ok {
        deleted: deleted.len(),
        nulled: nulled.len(),
    })
}

fn clone_and_compare(store: &mut Store) -> Result<(), String> {
    let copy = store.clone();
    if copy != *store {
        return Err("a clone is != its original".to_owned());
    }
    if let Err(e) = copy.check_integrity() {
        return Err(format!("a clone fails check_integrity: {e}"));
    }
    *store = copy;
    Ok(())
}

fn snapshot_round_trip(store: &mut Store) -> Result<(), String> {
    let bytes = store
        .to_snapshot()
        .map_err(|e| format!("a store fails to save: {e}"))?;
    let loaded = Store::from_snapshot(store.schema().clone(), &bytes)
        .map_err(|e| format!("a saved store fails to load: {e}"))?;
    if loaded != *store {
        return Err("a loaded snapshot is != the store it was saved from".to_owned());
    }
    if let Err(e) = loaded.check_integrity() {
        return Err(format!("a loaded snapshot fails check_integrity: {e}"));
    }
    *store = loaded;
    Ok(())
}

/// Where a run went wrong: the step, the operations up to it, and what differed.
#[derive(Clone, Debug)]
pub struct Failure {
    /// The index of the failing operation.
    pub step: usize,
    /// Every operation of the run up to and including the failing one.
    pub ops: Vec<Op>,
    /// What differed.
    pub detail: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "op #{} ({:?}) disagreed with the model:",
            self.step, self.ops[self.step]
        )?;
        writeln!(f, "{}", self.detail)?;
        writeln!(f, "operations:")?;
        for (i, op) in self.ops.iter().enumerate() {
            writeln!(f, "  {i:>3}: {op:?}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Failure {}

/// Runs `ops` from an empty store, applying and checking after every step.
///
/// # Errors
/// The first step where the store and the model disagree.
pub fn run(ops: &[Op]) -> Result<Stats, Failure> {
    let mut store = new_store();
    let mut model = Model::new();
    let mut stats = Stats::default();
    for (step, op) in ops.iter().enumerate() {
        let fail = |detail: String| Failure {
            step,
            ops: ops[..=step].to_vec(),
            detail,
        };
        let outcome = apply(&mut store, &mut model, op).map_err(fail)?;
        check(&store, &model).map_err(|d| fail(format!("after the operation: {d}")))?;
        stats.record(outcome, &model);
    }
    Ok(stats)
}
