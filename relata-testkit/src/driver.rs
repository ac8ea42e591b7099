//! The driver: runs each [`Op`] on a real [`Store`] and on the [`Model`], and insists they
//! agree on the outcome (the same `Ok`, or the same error) and, through [`check`], on the
//! state afterwards.
//!
//! Closures are brackets in the flat operation list: [`Op::Transaction`],
//! [`Op::WithFault`] and [`Op::FixtureScope`] open one, and the operations up to the
//! matching [`Op::EndClosure`] run inside it, on the `&mut Store` the closure is lent, each
//! checked like any other step. A closure that ends with [`Ending::Panic`] panics; the driver
//! catches it and the store must then equal its state before the call.

use std::collections::BTreeSet;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};

use relata::{DeleteReport, Error, FaultPoint, Key, Mark, RawKey, Savepoint, SnapshotError, Store, Upserted};

use crate::check::check;
use crate::entities::{Modeled, OnConflict};
use crate::model::{ClosureKind, DeleteOutcome, Expected, Model, TableId, INJECTED, V};
use crate::op::{Ending, FkRef, KeyRef, Op};
use crate::schema::{schema, WATCHES};
use crate::stats::{error_kind, Outcome, Stats};
use crate::{with_entity, with_fk};

/// A fresh, empty store over the [test schema](crate::schema).
pub fn new_store() -> Store {
    Store::new(schema())
}

/// The payload of the panics the driver raises inside closures on purpose.
#[derive(Debug)]
pub struct Planned;

/// The error a `transaction` closure ending with [`Ending::Err`] returns.
pub const CLOSURE_FAILED: Error = Error::Unavailable {
    reason: "the closure failed",
};

/// Installs (once) a panic hook that stays quiet for [`Planned`] panics and defers to the
/// previous hook for every other.
pub fn quiet_planned_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !info.payload().is::<Planned>() {
                previous(info);
            }
        }));
    });
}

/// Runs a sequence of operations, closures included, keeping the scope handles.
struct Runner<'o> {
    ops: &'o [Op],
    pos: usize,
    model: Model,
    stats: Stats,
    savepoints: Vec<(u64, Savepoint)>,
    marks: Vec<(u64, Mark)>,
    /// How many closures are running.
    depth: usize,
    /// Where [`Op::NextPage`] goes on: the last row read (tier, key) and the rows read so far.
    page: crate::ordered::Cursor,
}

/// A disagreement at operation number `.0`.
type Fail = (usize, String);

impl<'o> Runner<'o> {
    fn new(ops: &'o [Op]) -> Self {
        Runner {
            ops,
            pos: 0,
            model: Model::new(),
            stats: Stats::default(),
            savepoints: Vec::new(),
            marks: Vec::new(),
            depth: 0,
            page: crate::ordered::Cursor::default(),
        }
    }

    /// Runs operations until the list ends or (inside a closure) its `EndClosure`.
    fn block(&mut self, store: &mut Store) -> Result<Ending, Fail> {
        while let Some(op) = self.ops.get(self.pos) {
            let at = self.pos;
            self.pos += 1;
            if let (Op::EndClosure(ending), true) = (op, self.depth > 0) {
                return Ok(*ending);
            }
            let (store_before, model_before) = (store.clone(), self.model.clone());
            let outcome = self.step(store, op)?;
            let after = same_change(store, &store_before, &self.model, &model_before)
                .and_then(|()| same_scopes(store, &self.model))
                .and_then(|()| check(store, &self.model).map_err(|d| format!("after the operation: {d}")));
            after.map_err(|d| (at, d))?;
            self.stats.record(op.kind(), outcome, &self.model);
        }
        Ok(Ending::Ok)
    }

    fn step(&mut self, store: &mut Store, op: &Op) -> Result<Outcome, Fail> {
        let at = self.pos - 1;
        let out = match op {
            Op::Transaction => return self.closure(store, Opener::Transaction),
            Op::WithFault(n) => return self.closure(store, Opener::WithFault(*n)),
            Op::FixtureScope => return self.closure(store, Opener::FixtureScope),
            Op::EndClosure(_) => Ok(OK),
            Op::NextPage(n) => self
                .page
                .next(store, &self.model, 1 + usize::from(*n % 3))
                .map(|()| OK),
            Op::Savepoint => self.savepoint(store),
            Op::RollbackTo(n) => self.rollback_to(store, *n),
            Op::Release(n) => self.release(store, *n),
            Op::Mark => self.mark(store),
            Op::Reset(n) => self.reset(store, *n),
            Op::ReleaseMark(n) => self.release_mark(store, *n),
            Op::CloneAndCompare => clone_and_compare(store, self.depth == 0).map(|()| OK),
            Op::SnapshotRoundTrip => match self.model.in_transaction() {
                true => snapshot_in_transaction(store, &self.model),
                false => {
                    let replace = self.depth == 0 && !self.model.has_scopes();
                    snapshot_round_trip(store, replace).map(|()| OK)
                }
            },
            other => refused_leaves_nothing(store, |store| apply(store, &mut self.model, other), other),
        };
        out.map_err(|d| (at, d))
    }

    fn savepoint(&mut self, store: &mut Store) -> Result<Outcome, String> {
        let expected = self.model.savepoint().map_err(Expected::Exactly);
        agree("savepoint", expected, store.savepoint(), |id, sp| {
            self.savepoints.push((id, sp));
            Ok(OK)
        })
    }

    fn rollback_to(&mut self, store: &mut Store, n: u8) -> Result<Outcome, String> {
        let Some((id, sp)) = pick(&self.savepoints, n) else {
            return Ok(OK);
        };
        let expected = self.model.rollback_to(*id).map_err(Expected::Exactly);
        agree("rollback_to", expected, store.rollback_to(sp), |(), ()| Ok(OK))
    }

    fn release(&mut self, store: &mut Store, n: u8) -> Result<Outcome, String> {
        if self.savepoints.is_empty() {
            return Ok(OK);
        }
        let (id, sp) = self.savepoints.remove(usize::from(n) % self.savepoints.len());
        let expected = self.model.release(id).map_err(Expected::Exactly);
        agree("release", expected, store.release(&sp), |(), ()| Ok(OK))
    }

    fn mark(&mut self, store: &mut Store) -> Result<Outcome, String> {
        let expected = self.model.mark().map_err(Expected::Exactly);
        agree("mark", expected, store.mark(), |id, m| {
            self.marks.push((id, m));
            Ok(OK)
        })
    }

    fn reset(&mut self, store: &mut Store, n: u8) -> Result<Outcome, String> {
        let Some((id, m)) = pick(&self.marks, n) else {
            return Ok(OK);
        };
        let expected = self.model.reset(*id).map_err(Expected::Exactly);
        agree("reset", expected, store.reset(m), |(), _| Ok(OK))
    }

    fn release_mark(&mut self, store: &mut Store, n: u8) -> Result<Outcome, String> {
        if self.marks.is_empty() {
            return Ok(OK);
        }
        let (id, m) = self.marks.remove(usize::from(n) % self.marks.len());
        let expected = self.model.release_mark(id).map_err(Expected::Exactly);
        agree("release_mark", expected, store.release_mark(&m), |(), ()| Ok(OK))
    }

    /// Runs a closure bracket: the model opens the scope the call owns, the store runs the
    /// call with the bracket's operations inside, and both end it the same way.
    fn closure(&mut self, store: &mut Store, opener: Opener) -> Result<Outcome, Fail> {
        let at = self.pos - 1;
        let kind = match opener {
            Opener::Transaction => ClosureKind::Transaction {
                nested: self.model.in_transaction(),
            },
            Opener::WithFault(_) => ClosureKind::WithFault {
                before: self.model.faults().len(),
            },
            Opener::FixtureScope => ClosureKind::FixtureScope,
        };
        let faults_before = self.model.faults().to_vec();
        let fault = match opener {
            Opener::WithFault(n) => Some(usize::from(n)),
            _ => None,
        };
        let id = match self.model.open_closure(kind, fault) {
            Ok(id) => id,
            Err(e) => return self.unopened(store, e),
        };
        quiet_planned_panics();
        self.depth += 1;
        let mut ending = Ending::Ok;
        let result = catch_unwind(AssertUnwindSafe(|| self.call(store, opener, &mut ending)));
        self.depth -= 1;
        match result {
            Err(payload) if payload.is::<Planned>() => {
                self.model.closure_panicked(id, kind, &faults_before);
                Ok(Outcome::Panicked)
            }
            Err(payload) => Err((at, format!("relata panicked: {}", panic_text(&*payload)))),
            Ok(Err(fail)) => Err(fail),
            Ok(Ok(actual)) => {
                let failed = matches!(kind, ClosureKind::Transaction { .. }) && ending == Ending::Err;
                let returned = self.model.closure_returned(id, kind, ending == Ending::Ok);
                let expected = match failed {
                    true => returned.and(Err(Expected::Exactly(CLOSURE_FAILED))),
                    false => returned,
                };
                agree("the closure's call", expected, actual, |(), ()| Ok(OK)).map_err(|d| (at, d))
            }
        }
    }

    /// The store's side of a closure: `Ok(result of the call)`, or a disagreement inside.
    /// `ending` is set to how the bracket ended.
    fn call(
        &mut self,
        store: &mut Store,
        opener: Opener,
        ending: &mut Ending,
    ) -> Result<Result<(), Error>, Fail> {
        let at = self.pos - 1;
        let mut body = |s: &mut Store| -> Result<Ending, Fail> {
            let e = self.block(s)?;
            if e == Ending::Panic {
                std::panic::panic_any(Planned);
            }
            Ok(e)
        };
        match opener {
            Opener::Transaction => {
                let mut inside: Option<Fail> = None;
                let r = store.transaction(|s| match body(s) {
                    Ok(e) => {
                        *ending = e;
                        match e {
                            Ending::Err => Err(CLOSURE_FAILED),
                            _ => Ok(()),
                        }
                    }
                    Err(fail) => {
                        inside = Some(fail);
                        Err(CLOSURE_FAILED)
                    }
                });
                match inside {
                    Some(fail) => Err(fail),
                    None => Ok(r),
                }
            }
            Opener::WithFault(n) => {
                let r = store
                    .faults()
                    .run(FaultPoint::NthWrite(usize::from(n)), INJECTED, |s| body(s));
                match r {
                    Ok(Ok(e)) => {
                        *ending = e;
                        Ok(Ok(()))
                    }
                    Ok(Err(fail)) => Err(fail),
                    Err(e) => Ok(Err(e)),
                }
            }
            Opener::FixtureScope => {
                let mut scope = store.scope().map_err(|e| (at, format!("scope: {e}")))?;
                *ending = body(&mut scope)?;
                drop(scope);
                Ok(Ok(()))
            }
        }
    }

    /// A closure the store refuses to open (a fixture scope inside a transaction): the
    /// bracket's operations run here, and its `EndClosure` only ends the bracket.
    fn unopened(&mut self, store: &mut Store, error: Error) -> Result<Outcome, Fail> {
        let at = self.pos - 1;
        let actual = store.scope().map(drop);
        let outcome = agree("scope", Err(Expected::Exactly(error)), actual, |(), ()| Ok(OK));
        let outcome = outcome.map_err(|d| (at, d))?;
        self.depth += 1;
        let ended = self.block(store);
        self.depth -= 1;
        ended.map(|_| outcome)
    }
}

/// The closure kinds, as the operations name them.
#[derive(Clone, Copy, Debug)]
enum Opener {
    Transaction,
    WithFault(u8),
    FixtureScope,
}

fn pick<T>(handles: &[(u64, T)], n: u8) -> Option<&(u64, T)> {
    match handles.len() {
        0 => None,
        len => handles.get(usize::from(n) % len),
    }
}

fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    match (payload.downcast_ref::<&str>(), payload.downcast_ref::<String>()) {
        (Some(s), _) => (*s).to_owned(),
        (_, Some(s)) => s.clone(),
        _ => "a non-text payload".to_owned(),
    }
}

/// Applies one operation that runs no closure to both sides and compares the outcomes.
///
/// # Errors
/// What differed.
pub fn apply(store: &mut Store, model: &mut Model, op: &Op) -> Result<Outcome, String> {
    match op {
        Op::Insert(rec) => {
            let values = rec.values(model);
            with_entity!(rec.table(), E => insert::<E>(store, model, values))
        }
        Op::Update(k, change) => {
            let (t, field, v) = change.resolve(model);
            let key = k.resolve(model, t);
            with_entity!(t, E => update::<E>(store, model, key, field, v))
        }
        Op::UpdatePanics(k, change) => {
            let (t, _, _) = change.resolve(model);
            let key = k.resolve(model, t);
            with_entity!(t, E => update_panics::<E>(store, model, key))
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
        Op::Link(a, p) | Op::LinkIfAbsent(a, p) | Op::Unlink(a, p) | Op::UnlinkIfPresent(a, p) => {
            let (left, right) = (
                a.resolve(model, TableId::Accounts),
                p.resolve(model, TableId::Projects),
            );
            link(store, model, op, left, right)
        }
        Op::SetParent(f, child, parent) => {
            let child = child.resolve(model, f.resolve().0);
            let parent = parent.map(|p| p.resolve(model, f.target()));
            let expected = model.statement(|m| m.set_parent(f.resolve().0, f.resolve().1, child, parent));
            let actual = with_fk!(*f, C, P, H => store.set_parent(H, Key::<C>::from_raw(child), parent.map(Key::<P>::from_raw)));
            agree("set_parent", expected, actual, |(), ()| Ok(OK))
        }
        Op::SetChild(f, parent, child) => set_child(store, model, *f, *parent, *child),
        Op::ReplaceChildren(f, parent, children) => {
            let (t, fk) = f.resolve();
            let parent = parent.resolve(model, f.target());
            let children: Vec<RawKey> = children.0.iter().map(|c| c.resolve(model, t)).collect();
            let expected = model.statement(|m| m.replace_children(t, fk, parent, &children));
            let actual = with_fk!(*f, C, P, H => {
                let keys: Vec<Key<C>> = children.iter().map(|&c| Key::from_raw(c)).collect();
                store.replace_children(H, &keys, Key::<P>::from_raw(parent))
            });
            agree("replace_children", expected, actual, |(), ()| Ok(OK))
        }
        Op::AddChild(f, parent, child) => add_child(store, model, *f, *parent, *child),
        Op::RemoveChild(f, parent, child) => remove_child(store, model, *f, *parent, *child),
        Op::Begin => agree(
            "begin",
            model.begin().map_err(Expected::Exactly),
            store.begin(),
            |(), ()| Ok(OK),
        ),
        Op::Commit => agree("commit", model.commit(), store.commit(), |(), ()| Ok(OK)),
        Op::Rollback => agree(
            "rollback",
            model.rollback().map_err(Expected::Exactly),
            store.rollback(),
            |(), ()| Ok(OK),
        ),
        Op::CloneAndCompare => clone_and_compare(store, true).map(|()| OK),
        Op::SnapshotRoundTrip if model.in_transaction() => snapshot_in_transaction(store, model),
        Op::SnapshotRoundTrip => snapshot_round_trip(store, !model.has_scopes()).map(|()| OK),
        Op::Upsert(rec) => {
            let values = rec.values(model);
            with_entity!(rec.table(), E => upsert::<E>(store, model, values))
        }
        // Scopes with handles and closures need a run's state: see `run`.
        _ => Ok(OK),
    }
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

/// A transaction is open in the store exactly when the model has one.
fn same_scopes(store: &Store, model: &Model) -> Result<(), String> {
    match store.in_transaction() == model.in_transaction() {
        true => Ok(()),
        false => Err(format!(
            "in_transaction: store says {}, model says {}",
            store.in_transaction(),
            model.in_transaction()
        )),
    }
}

/// Runs one statement `op` through `run`; if the store refused it, what `==` does not see must
/// be as before too: each table's text heap and the journal (`Store::hidden_state`).
fn refused_leaves_nothing(
    store: &mut Store,
    run: impl FnOnce(&mut Store) -> Result<Outcome, String>,
    op: &Op,
) -> Result<Outcome, String> {
    let before = store.hidden_state();
    let out = run(store)?;
    let after = store.hidden_state();
    match (&out, after == before) {
        (Outcome::Failed(_), false) => Err(format!(
            "a refused {} left text in a heap or entries in the journal: (heaps, journal) {before:?} -> {after:?}",
            op.kind()
        )),
        _ => Ok(out),
    }
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

const OK: Outcome = Outcome::Ok {
    deleted: 0,
    nulled: 0,
};

/// The key the model records for an insert the store refused (it is never read).
const NO_KEY: u64 = u64::MAX;

fn insert<E: Modeled>(store: &mut Store, model: &mut Model, values: Vec<V>) -> Result<Outcome, String> {
    let actual = store.insert(E::from_values(&values));
    let key = actual.as_ref().map_or(RawKey::from_u64(NO_KEY), |k| k.raw());
    if actual.is_ok() && model.issued(E::TABLE).contains(&key) {
        return Err(format!(
            "insert handed out {key:?}, a key it had handed out before"
        ));
    }
    let expected = model.statement(|m| {
        m.check_write(E::TABLE, None, &values)
            .map_err(Expected::Exactly)?;
        m.insert_as(E::TABLE, key, values);
        Ok(())
    });
    if expected.is_err() {
        model.forget_last_issued(E::TABLE, key);
    }
    agree("insert", expected, actual, |(), _| Ok(OK))
}

/// An upsert, one statement: the model finds the holder of the values under the entity's
/// upsert constraint and updates it (or leaves it), or inserts; the store must do the same.
fn upsert<E: Modeled>(store: &mut Store, model: &mut Model, values: Vec<V>) -> Result<Outcome, String> {
    let Some((u, on_conflict)) = E::UPSERT_ON else {
        return insert::<E>(store, model, values);
    };
    let on = &E::TABLE.spec().uniques[u];
    let probe: Vec<V> = on.fields.iter().map(|&f| values[f].clone()).collect();
    let actual = E::upsert(store, E::from_values(&values));
    let key = match &actual {
        Ok(Upserted::Inserted(k)) => k.raw(),
        _ => RawKey::from_u64(NO_KEY),
    };
    if actual.is_ok() && key != RawKey::from_u64(NO_KEY) && model.issued(E::TABLE).contains(&key) {
        return Err(format!(
            "upsert handed out {key:?}, a key it had handed out before"
        ));
    }
    let expected = model.statement(
        |m| match m.unique_holders(E::TABLE, on, &probe).first().copied() {
            None => {
                m.check_write(E::TABLE, None, &values)
                    .map_err(Expected::Exactly)?;
                m.insert_as(E::TABLE, key, values.clone());
                Ok(Upserted::Inserted(Key::from_raw(key)))
            }
            Some(holder) => match on_conflict {
                OnConflict::Update => {
                    m.update(E::TABLE, holder, values.clone())
                        .map_err(Expected::Exactly)?;
                    Ok(Upserted::Updated(Key::from_raw(holder)))
                }
                OnConflict::Nothing => Ok(Upserted::Existing(Key::from_raw(holder))),
            },
        },
    );
    if expected.is_err() {
        model.forget_last_issued(E::TABLE, key);
    }
    agree("upsert", expected, actual, |want, got| match got == want {
        true => Ok(OK),
        false => Err(format!("upsert did {got:?}, the model expected {want:?}")),
    })
}

fn update<E: Modeled>(
    store: &mut Store,
    model: &mut Model,
    key: RawKey,
    field: usize,
    v: V,
) -> Result<Outcome, String> {
    let expected = model.statement(|m| {
        let Some(mut vals) = m.record(E::TABLE, key).map(|r| r.values.clone()) else {
            return Err(Expected::Exactly(m.not_live_error(E::TABLE, key)));
        };
        vals[field] = v.clone();
        m.update(E::TABLE, key, vals).map_err(Expected::Exactly)
    });
    let actual = store.update(Key::<E>::from_raw(key), |e| {
        let mut vals = e.to_values();
        vals[field] = v;
        *e = E::from_values(&vals);
    });
    agree("update", expected, actual, |(), ()| Ok(OK))
}

/// An update whose closure panics: the panic must leave the store as it was. A due fault or
/// a dead key fails the update before its closure runs.
fn update_panics<E: Modeled>(store: &mut Store, model: &mut Model, key: RawKey) -> Result<Outcome, String> {
    quiet_planned_panics();
    let expected = model.statement(|m| match m.record(E::TABLE, key) {
        Some(_) => Ok(()),
        None => Err(Expected::Exactly(m.not_live_error(E::TABLE, key))),
    });
    let before = store.clone();
    let actual = catch_unwind(AssertUnwindSafe(|| {
        store.update(Key::<E>::from_raw(key), |_| std::panic::panic_any(Planned))
    }));
    match (expected, actual) {
        (Ok(()), Err(payload)) if payload.is::<Planned>() => match *store == before {
            true => Ok(Outcome::Panicked),
            false => Err("a panicking update closure left changes behind".to_owned()),
        },
        (_, Err(payload)) if !payload.is::<Planned>() => {
            Err(format!("relata panicked: {}", panic_text(&*payload)))
        }
        (expected, Ok(actual)) => agree("update (closure panics)", expected, actual, |(), ()| {
            Err("the update returned Ok without running its closure".to_owned())
        }),
        (expected, Err(_)) => Err(format!(
            "update (closure panics): model says {expected:?}, the closure ran"
        )),
    }
}

fn replace<E: Modeled>(
    store: &mut Store,
    model: &mut Model,
    key: RawKey,
    values: Vec<V>,
) -> Result<Outcome, String> {
    let old = model.record(E::TABLE, key).map(|r| r.values.clone());
    let expected = model.statement(|m| m.update(E::TABLE, key, values.clone()).map_err(Expected::Exactly));
    let expected = expected.map(|()| old);
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
    let expected = model.statement(|m| m.delete(E::TABLE, key));
    let actual = store.delete(k);
    if let Some(explained) = explained.filter(|_| actual != Err(INJECTED)) {
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
/// model deleted, nulled and unlinked.
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
    let unlinked: BTreeSet<(&str, RawKey, RawKey)> =
        s.unlinked.iter().map(|u| (u.relation, u.left, u.right)).collect();
    let want_unlinked: BTreeSet<(&str, RawKey, RawKey)> = m
        .unlinked
        .iter()
        .map(|&(r, l, rt)| (crate::model::RELATIONS[r].name, l, rt))
        .collect();
    if unlinked != want_unlinked || unlinked.len() != s.unlinked.len() {
        return Err(format!(
            "delete report unlinked {:?}; the model unlinked {want_unlinked:?}",
            s.unlinked
        ));
    }
    Ok(Outcome::Ok {
        deleted: deleted.len(),
        nulled: nulled.len(),
    })
}

fn link(
    store: &mut Store,
    model: &mut Model,
    op: &Op,
    left: RawKey,
    right: RawKey,
) -> Result<Outcome, String> {
    let (l, r) = (Key::from_raw(left), Key::from_raw(right));
    match op {
        Op::Link(..) => {
            let added = model.statement(|m| m.link(0, left, right).map_err(Expected::Exactly));
            let dup = model.duplicate_link(0, left, right);
            let expected = added.and_then(|added| {
                if added {
                    Ok(())
                } else {
                    Err(Expected::Exactly(dup))
                }
            });
            agree("link", expected, store.link(WATCHES, l, r), |(), ()| Ok(OK))
        }
        Op::LinkIfAbsent(..) => {
            let expected = model.statement(|m| m.link(0, left, right).map_err(Expected::Exactly));
            agree(
                "link_if_absent",
                expected,
                store.link_if_absent(WATCHES, l, r),
                |m, s| match m == s {
                    true => Ok(OK),
                    false => Err(format!("link_if_absent: model says {m}, store says {s}")),
                },
            )
        }
        Op::UnlinkIfPresent(..) => {
            let expected = model.statement(|m| Ok(m.unlink(0, left, right).is_ok()));
            agree(
                "unlink_if_present",
                expected,
                store.unlink_if_present(WATCHES, l, r),
                |m, s| match m == s {
                    true => Ok(OK),
                    false => Err(format!("unlink_if_present: model says {m}, store says {s}")),
                },
            )
        }
        _ => {
            let expected = model.statement(|m| m.unlink(0, left, right).map_err(Expected::Exactly));
            agree("unlink", expected, store.unlink(WATCHES, l, r), |(), ()| Ok(OK))
        }
    }
}

fn set_child(
    store: &mut Store,
    model: &mut Model,
    f: FkRef,
    parent: KeyRef,
    child: Option<KeyRef>,
) -> Result<Outcome, String> {
    let (t, fk) = f.resolve();
    let parent = parent.resolve(model, f.target());
    let child = child.map(|c| c.resolve(model, t));
    let spec = t.spec();
    let expected = match spec.fks[fk].unique {
        true => model.statement(|m| m.set_child(t, fk, parent, child)),
        false => Err(Expected::Exactly(Error::NotOneToOne {
            table: spec.name,
            column: spec.columns[spec.fks[fk].field],
        })),
    };
    let actual =
        with_fk!(f, C, P, H => store.set_child(H, child.map(Key::<C>::from_raw), Key::<P>::from_raw(parent)));
    agree("set_child", expected, actual, |(), ()| Ok(OK))
}

fn add_child(
    store: &mut Store,
    model: &mut Model,
    f: FkRef,
    parent: KeyRef,
    child: KeyRef,
) -> Result<Outcome, String> {
    let (t, fk) = f.resolve();
    let parent = parent.resolve(model, f.target());
    let child = child.resolve(model, t);
    let expected = match model.parent_of(t, fk, child) == Some(parent) {
        true => Ok(false),
        false => model
            .statement(|m| m.set_parent(t, fk, child, Some(parent)))
            .map(|()| true),
    };
    let actual = with_fk!(f, C, P, H => store.add_child_if_absent(H, Key::<C>::from_raw(child), Key::<P>::from_raw(parent)));
    agree("add_child", expected, actual, |m, s| match m == s {
        true => Ok(OK),
        false => Err(format!("add_child: model says {m}, store says {s}")),
    })
}

fn remove_child(
    store: &mut Store,
    model: &mut Model,
    f: FkRef,
    parent: KeyRef,
    child: KeyRef,
) -> Result<Outcome, String> {
    let (t, fk) = f.resolve();
    let parent = parent.resolve(model, f.target());
    let child = child.resolve(model, t);
    let spec = t.spec();
    let expected = match model.parent_of(t, fk, child) == Some(parent) {
        true => model.statement(|m| m.set_parent(t, fk, child, None)),
        // A dead child answers as `set_parent` says of it, before it is found no child.
        false => model
            .require_live(t, child)
            .and(Err(Expected::Exactly(Error::NotAChild {
                table: spec.name,
                column: spec.columns[spec.fks[fk].field],
                key: child,
                parent_table: f.target().spec().name,
                parent,
            }))),
    };
    let actual =
        with_fk!(f, C, P, H => store.remove_child(H, Key::<C>::from_raw(child), Key::<P>::from_raw(parent)));
    agree("remove_child", expected, actual, |(), ()| Ok(OK))
}

/// Clones the store and compares; carries on with the clone when `replace` (no closure is
/// running: a clone's scopes belong to no call).
fn clone_and_compare(store: &mut Store, replace: bool) -> Result<(), String> {
    let copy = store.clone();
    if copy != *store {
        return Err("a clone is != its original".to_owned());
    }
    if let Err(e) = copy.check_integrity() {
        return Err(format!("a clone fails check_integrity: {e}"));
    }
    if replace {
        *store = copy;
    }
    Ok(())
}

/// Saves and loads; carries on with the loaded store when `replace` (no scope open: a loaded
/// store has none).
fn snapshot_round_trip(store: &mut Store, replace: bool) -> Result<(), String> {
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
    if replace {
        *store = loaded;
    }
    Ok(())
}

/// A snapshot taken inside a transaction: it holds the uncommitted state and loads into a
/// store equal to it, or it is refused with `DeferredViolation` exactly when the model's
/// commit would be refused. The run carries on in its transaction either way.
fn snapshot_in_transaction(store: &Store, model: &Model) -> Result<Outcome, String> {
    let refused = model.commit_would_refuse();
    match (store.to_snapshot(), refused) {
        (Err(SnapshotError::DeferredViolation { .. }), true) => Ok(Outcome::Failed("DeferredViolation")),
        (Ok(bytes), false) => {
            let loaded = Store::from_snapshot(store.schema().clone(), &bytes)
                .map_err(|e| format!("a snapshot taken inside a transaction fails to load: {e}"))?;
            if loaded != *store {
                return Err("a snapshot taken inside a transaction loads != the store's state".to_owned());
            }
            loaded
                .check_integrity()
                .map_err(|e| format!("a snapshot taken inside a transaction fails check_integrity: {e}"))?;
            Ok(OK)
        }
        (Ok(_), true) => {
            Err("a snapshot was saved inside a transaction whose commit the model refuses".to_owned())
        }
        (Err(e), _) => Err(format!("a snapshot inside a transaction was refused: {e}")),
    }
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

/// Runs `ops` from an empty store, applying and checking after every step (closures
/// included: see the module docs).
///
/// # Errors
/// The first step where the store and the model disagree.
pub fn run(ops: &[Op]) -> Result<Stats, Failure> {
    let mut store = new_store();
    let mut runner = Runner::new(ops);
    match runner.block(&mut store) {
        Ok(_) => Ok(runner.stats),
        Err((step, detail)) => {
            let step = step.min(ops.len().saturating_sub(1));
            Err(Failure {
                step,
                ops: ops[..=step].to_vec(),
                detail,
            })
        }
    }
}

/// The store `ops` leave behind, disagreements ignored (for seeding corpora).
pub fn store_after(ops: &[Op]) -> Store {
    let mut store = new_store();
    let mut runner = Runner::new(ops);
    while runner.pos < ops.len() {
        if runner.block(&mut store).is_err() {
            continue;
        }
    }
    store
}
