//! Factories against the model: random factory calls on the [test schema](crate::schema),
//! each call's inserts replayed on the [`Model`], which must accept exactly the records the
//! store accepted, in the same order under the same keys; a failed call must leave the store
//! as it was. After every call [`check`] compares the whole state and runs `check_integrity`.

use arbitrary::{Arbitrary, Unstructured};
use relata::{Entity, Factories, FactoryError, Key, Store};

use crate::check::check;
use crate::entities::Modeled;
use crate::model::Model;
use crate::schema::{Account, Note, Profile, Project, Task};

/// The test schema's factories. Defaults are unique by sequence; overrides draw from tiny
/// domains so that unique, one-to-one and composite-unique conflicts are frequent.
pub fn factories() -> Factories {
    Factories::new()
        .define(|c| {
            Ok(Account {
                name: format!("account{}", c.n()),
                tier: (c.n() % 3) as u8,
                mentor: None,
            })
        })
        .define(|c| {
            Ok(Profile {
                bio: format!("bio{}", c.n()),
                account: Some(c.parent(Profile::ACCOUNT)?),
            })
        })
        .define(|c| {
            Ok(Project {
                title: format!("project{}", c.n()),
                code: Some((c.n() % 4) as u8),
                slug: None,
                owner: c.parent(Project::OWNER)?,
                reviewer: None,
            })
        })
        .define(|c| {
            Ok(Task {
                rank: (c.n() % 5) as i8,
                project: c.parent(Task::PROJECT)?,
                parent: None,
                assignee: None,
            })
        })
        .define(|c| {
            Ok(Note {
                text: format!("note{}", c.n()),
                task: c.parent(Note::TASK)?,
                mention: None,
                reply_to: None,
            })
        })
}

/// One factory call: which entity, how many, a parent given by an existing record (its
/// position among the live ones), whether a batch shares its parent, and a value drawn from a
/// tiny domain for the field that most often conflicts.
#[derive(Arbitrary, Clone, Debug)]
pub struct Call {
    /// 0..5: accounts, profiles, projects, tasks, notes.
    pub table: u8,
    /// 0..=3 records.
    pub count: u8,
    /// A parent among the existing ones, for the entity's required (or one-to-one) key.
    pub parent: Option<u8>,
    /// Share one new parent across the batch.
    pub share: bool,
    /// An override from a tiny domain (a name, a slug, a title and code).
    pub value: Option<u8>,
}

/// Decodes calls from fuzz or property-test bytes.
pub fn decode_calls(data: &[u8]) -> Vec<Call> {
    let mut u = Unstructured::new(data);
    let mut calls = Vec::new();
    while !u.is_empty() {
        match Call::arbitrary(&mut u) {
            Ok(c) => calls.push(c),
            Err(_) => break,
        }
    }
    calls
}

/// Runs every call on a fresh store and model, comparing after each.
///
/// # Errors
/// The first disagreement, with the call that caused it.
pub fn run(calls: &[Call]) -> Result<(), String> {
    let mut store = crate::driver::new_store();
    let mut model = Model::default();
    let mut f = factories();
    for (i, call) in calls.iter().enumerate() {
        apply(&mut store, &mut model, &mut f, call).map_err(|e| format!("call {i} {call:?}: {e}"))?;
    }
    Ok(())
}

/// Runs one call on the store, replays its inserts on the model, and compares.
///
/// # Errors
/// What differed.
pub fn apply(store: &mut Store, model: &mut Model, f: &mut Factories, call: &Call) -> Result<(), String> {
    let before = store.clone();
    store.log().start();
    let result = match call.table % 5 {
        0 => create::<Account, Account>(store, f, call, None, |a, v| a.name = format!("x{}", v % 3)),
        1 => create(store, f, call, Some(Profile::ACCOUNT), |p, v| {
            p.bio = format!("x{v}")
        }),
        2 => create(store, f, call, Some(Project::OWNER), |p, v| {
            p.title = format!("x{}", v % 2);
            p.code = Some(v % 2);
            p.slug = Some(format!("s{}", v % 3));
        }),
        3 => create(store, f, call, Some(Task::PROJECT), |t, v| t.rank = v as i8),
        _ => create(store, f, call, Some(Note::TASK), |n, v| n.text = format!("x{v}")),
    };
    let log = store.log().stop();
    match result {
        Ok(()) => {
            for entry in log.iter().filter(|e| e.op == "insert" && e.outcome.is_ok()) {
                let key = entry.key.ok_or("a logged insert without its key")?;
                match entry.table {
                    "accounts" => replay::<Account>(store, model, key)?,
                    "profiles" => replay::<Profile>(store, model, key)?,
                    "projects" => replay::<Project>(store, model, key)?,
                    "tasks" => replay::<Task>(store, model, key)?,
                    "notes" => replay::<Note>(store, model, key)?,
                    other => return Err(format!("an insert into unknown table {other}")),
                }
            }
        }
        Err(FactoryError::Store(_)) if *store == before => {}
        Err(e) => {
            return Err(format!(
                "the call failed with {e} and left the store changed: {}",
                *store != before
            ))
        }
    }
    check(store, model)
}

/// The store's new record, inserted into the model under the same key: the model must
/// accept it.
fn replay<E: Modeled>(store: &Store, model: &mut Model, key: relata::RawKey) -> Result<(), String> {
    let record = store
        .try_get_owned(Key::<E>::from_raw(key))
        .map_err(|e| format!("an inserted record is gone: {e}"))?;
    let values = record.to_values();
    model
        .check_write(E::TABLE, None, &values)
        .map_err(|e| format!("the store accepted {record:?} but the model says {e}"))?;
    if model.issued(E::TABLE).contains(&key) {
        return Err(format!("{key:?} was handed out before"));
    }
    model.insert_as(E::TABLE, key, values);
    Ok(())
}

/// Runs the factory for `E`, with the call's parent, sharing and override.
fn create<E: Entity + Clone, P: Entity>(
    store: &mut Store,
    f: &mut Factories,
    call: &Call,
    fk: Option<relata::Fk<E, P>>,
    set: fn(&mut E, u8),
) -> Result<(), FactoryError> {
    let mut b = f.build::<E>();
    if let Some(fk) = fk {
        let live: Vec<Key<P>> = store.keys::<P>().collect();
        if let (Some(i), false) = (call.parent, live.is_empty()) {
            b = b.parent(fk, live[usize::from(i) % live.len()]);
        } else if call.share {
            b = b.share(fk);
        }
    }
    if let Some(v) = call.value {
        b = b.with(move |e| set(e, v));
    }
    b.create_many(store, usize::from(call.count % 4)).map(drop)
}
