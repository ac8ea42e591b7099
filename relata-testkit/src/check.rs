//! `check`: the store's whole observable state must equal the model's, and
//! `check_integrity` must pass.

use std::collections::BTreeSet;
use std::fmt::Debug;

use relata::{Error, Fk, Key, RawKey, Store};

use crate::entities::Modeled;
use crate::model::{Model, TableId, V};
use crate::op::UNKNOWN_KEY;
use crate::with_entity;

/// The most differences one failed check lists.
const MAX_PROBLEMS: usize = 8;

/// A read-only comparison in progress: the store, the model, and what differed so far.
#[derive(Debug)]
pub struct Reads<'a> {
    /// The store under test.
    pub store: &'a Store,
    /// The reference model.
    pub model: &'a Model,
    problems: Vec<String>,
}

impl Reads<'_> {
    /// Records a difference unless `store == model`.
    pub fn expect_eq<T: PartialEq + Debug>(&mut self, what: impl FnOnce() -> String, store: T, model: T) {
        if store != model && self.problems.len() < MAX_PROBLEMS {
            self.problems
                .push(format!("{}: store has {store:?}, model has {model:?}", what()));
        }
    }
}

/// Compares every observable part of the store with the model: each table's records (keys
/// and field values, through `try_get_owned`, `get`, `contains`, `iter` and `count`), the error
/// for every deleted or unknown key, both directions of every relationship (children in
/// order), every unique and index look-up over the value domains, and `check_integrity`.
///
/// # Errors
/// A description of up to eight differences.
pub fn check(store: &Store, model: &Model) -> Result<(), String> {
    let mut r = Reads {
        store,
        model,
        problems: Vec::new(),
    };
    if let Err(e) = store.check_integrity() {
        r.problems.push(format!("check_integrity: {e}"));
    }
    for t in TableId::ALL {
        with_entity!(t, E => check_table::<E>(&mut r));
    }
    crate::entities::check_relations(&mut r);
    match r.problems.is_empty() {
        true => Ok(()),
        false => Err(r.problems.join("\n")),
    }
}

fn check_table<E: Modeled>(r: &mut Reads<'_>) {
    let t = E::TABLE;
    let name = t.spec().name;
    let live: BTreeSet<RawKey> = r.model.live(t).keys().copied().collect();
    let listed: Vec<RawKey> = r.store.iter::<E>().map(|(k, _)| k.raw()).collect();
    r.expect_eq(|| format!("{name}: count"), r.store.count::<E>(), live.len());
    r.expect_eq(
        || format!("{name}: iter yields each key once"),
        listed.len(),
        live.len(),
    );
    let slots: Vec<u64> = listed.iter().map(|k| k.to_u64() & 0xffff_ffff).collect();
    r.expect_eq(
        || format!("{name}: iter in slot order"),
        slots.windows(2).all(|w| w[0] < w[1]),
        true,
    );
    r.expect_eq(|| format!("{name}: keys"), listed.into_iter().collect(), live);
    for (k, view) in r.store.iter::<E>() {
        let get = format!("{:?}", r.store.get(k));
        r.expect_eq(
            || format!("{name}[{k:?}]: iter's view"),
            get,
            format!("{:?}", Some(view)),
        );
    }
    for (&k, rec) in r.model.live(t) {
        let got = r
            .store
            .try_get_owned(Key::<E>::from_raw(k))
            .map(|e| e.to_values());
        r.expect_eq(|| format!("{name}[{k}]: record"), got, Ok(rec.values.clone()));
        let view = r.store.get(Key::<E>::from_raw(k)).is_some();
        r.expect_eq(|| format!("{name}[{k}]: get is Some"), view, true);
        let one = r.store.try_get(Key::<E>::from_raw(k)).err();
        r.expect_eq(|| format!("{name}[{k}]: try_get"), one, None);
        r.expect_eq(
            || format!("{name}[{k}]: contains"),
            r.store.contains(Key::<E>::from_raw(k)),
            true,
        );
    }
    for &k in r
        .model
        .issued(t)
        .iter()
        .filter(|k| r.model.record(t, **k).is_none())
    {
        check_absent::<E>(r, k, Error::Stale { table: name, key: k });
    }
    let unknown = RawKey::from_u64(UNKNOWN_KEY);
    check_absent::<E>(
        r,
        unknown,
        Error::NotFound {
            table: name,
            key: unknown,
        },
    );
    E::check_reads(r);
}

/// A key with no live record: every read says so, with the right error.
fn check_absent<E: Modeled>(r: &mut Reads<'_>, k: RawKey, error: Error) {
    let key = Key::<E>::from_raw(k);
    let name = E::TABLE.spec().name;
    r.expect_eq(
        || format!("{name}[{k}]: try_get"),
        r.store.try_get(key).err(),
        Some(error),
    );
    r.expect_eq(
        || format!("{name}[{k}]: get is None"),
        r.store.get(key).is_none(),
        true,
    );
    r.expect_eq(|| format!("{name}[{k}]: contains"), r.store.contains(key), false);
}

/// Both directions of foreign key number `fk` of `C`: every parent's children in link
/// order (and their count), and every child's parent.
pub fn check_fk<C: Modeled, P: Modeled>(r: &mut Reads<'_>, handle: Fk<C, P>, fk: usize) {
    let (ct, pt) = (C::TABLE, P::TABLE);
    let column = ct.spec().columns[ct.spec().fks[fk].field];
    let mut parents = r.model.issued(pt).to_vec();
    parents.push(RawKey::from_u64(UNKNOWN_KEY));
    let mut all_children = r.model.children_by_parent(ct, fk);
    for p in parents {
        let got: Vec<RawKey> = r.store.children(handle, Key::from_raw(p)).map(Key::raw).collect();
        let want = all_children.remove(&p).unwrap_or_default();
        let count = r.store.child_count(handle, Key::from_raw(p));
        r.expect_eq(
            || format!("children of {}[{p}] via {column}", pt.spec().name),
            got,
            want.clone(),
        );
        r.expect_eq(
            || format!("child_count of {}[{p}] via {column}", pt.spec().name),
            count,
            want.len(),
        );
    }
    for &c in r.model.issued(ct) {
        let got = r.store.parent(handle, Key::from_raw(c)).map(Key::raw);
        let want = r
            .model
            .record(ct, c)
            .and_then(|rec| rec.values[ct.spec().fks[fk].field].raw_key());
        r.expect_eq(
            || format!("parent of {}[{c}] via {column}", ct.spec().name),
            got,
            want,
        );
    }
}

/// A unique look-up: the record holding `probe` under constraint number `u`.
pub fn check_unique(r: &mut Reads<'_>, t: TableId, u: usize, probe: &[V], got: Option<RawKey>) {
    let def = &t.spec().uniques[u];
    let want = r.model.unique_holders(t, def, probe).into_iter().next();
    r.expect_eq(|| format!("{} look-up of {probe:?}", def.name), got, want);
}

/// An index look-up: every record whose `fields` equal `probe`, in key order.
pub fn check_index(r: &mut Reads<'_>, t: TableId, fields: &[usize], probe: &[V], got: Vec<RawKey>) {
    let want = r.model.matching(t, fields, probe);
    r.expect_eq(
        || format!("{} index look-up of {probe:?}", t.spec().name),
        got,
        want,
    );
}
