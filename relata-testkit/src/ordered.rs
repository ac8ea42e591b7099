//! Ordered reads against the model: index scans both ways, ranges, prefix scans, and sorted
//! queries paged by offset and limit and by keyset, each compared with a sort of the model's
//! records by (values, key).

use std::ops::Bound;

use relata::{Key, Order, RawKey, Store, Value};

use crate::check::Reads;
use crate::domain::Tier;
use crate::model::{Model, TableId, V};
use crate::schema::{Account, Project};

/// The live records of `t` passing `keep`, sorted by their `fields` (NULL first) then key.
fn sorted(m: &Model, t: TableId, fields: &[usize], keep: impl Fn(&[V]) -> bool) -> Vec<RawKey> {
    let mut all: Vec<(Vec<V>, RawKey)> = m
        .live(t)
        .iter()
        .filter(|(_, r)| keep(&r.values))
        .map(|(k, r)| (fields.iter().map(|&f| r.values[f].clone()).collect(), *k))
        .collect();
    all.sort();
    all.into_iter().map(|(_, k)| k).collect()
}

fn raw<E>(keys: impl IntoIterator<Item = Key<E>>) -> Vec<RawKey> {
    keys.into_iter().map(Key::raw).collect()
}

fn reversed(keys: &[RawKey]) -> Vec<RawKey> {
    keys.iter().rev().copied().collect()
}

/// A reader paging through the accounts by tier across operations: the last row read and
/// how many rows it has read since it started over.
#[derive(Clone, Copy, Debug, Default)]
pub struct Cursor {
    last: Option<(u8, RawKey)>,
    read: usize,
}

impl Cursor {
    /// Reads the next `size` accounts after the last row read (an empty page starts over)
    /// by keyset, and by offset the `size` rows after the first `read`; each must equal the
    /// model's sorted records at that point.
    ///
    /// # Errors
    /// The pages that differ.
    pub fn next(&mut self, s: &Store, m: &Model, size: usize) -> Result<(), String> {
        let all = sorted(m, TableId::Accounts, &[1], |_| true);
        let tier = |k: RawKey| m.record(TableId::Accounts, k).map(|r| r.values[1].clone());
        let q = s.query::<Account>().order_by(Account::BY_TIER, Order::Asc);
        let (got, want) = match self.last {
            None => (
                raw(q.limit(size).keys()),
                all.iter().take(size).copied().collect::<Vec<_>>(),
            ),
            Some((t, key)) => {
                let page = (q.after(Key::from_raw(key), &[Value::UInt(t.into())]))
                    .map_err(|e| format!("keyset page after {:?}: {e}", self.last))?
                    .limit(size);
                let cursor = (V::UInt(t.into()), key);
                let want = all
                    .iter()
                    .filter(|&&k| tier(k).is_some_and(|v| (v, k) > cursor))
                    .take(size)
                    .copied()
                    .collect();
                (raw(page.keys()), want)
            }
        };
        if got != want {
            return Err(format!(
                "keyset page after {:?}: store has {got:?}, model has {want:?}",
                self.last
            ));
        }
        let by_offset = s
            .query::<Account>()
            .order_by(Account::BY_TIER, Order::Asc)
            .offset(self.read)
            .limit(size)
            .keys();
        let want: Vec<RawKey> = all.iter().skip(self.read).take(size).copied().collect();
        if raw(by_offset.clone()) != want {
            return Err(format!(
                "page at offset {}: store has {by_offset:?}, model has {want:?}",
                self.read
            ));
        }
        match got.last() {
            Some(&k) => {
                let t = s.get(Key::<Account>::from_raw(k)).map(|a| a.tier);
                self.last = t.map(|t| (t, k));
                self.read += got.len();
            }
            None => *self = Cursor::default(),
        }
        Ok(())
    }
}

/// Account's `index(ordered)` on `tier`: scans, ranges, pages and keyset pages.
pub fn check_accounts(r: &mut Reads<'_>) {
    let (s, m, t) = (r.store, r.model, TableId::Accounts);
    let all = sorted(m, t, &[1], |_| true);
    r.expect_eq(
        || "accounts by tier".into(),
        raw(s.scan(Account::BY_TIER)),
        all.clone(),
    );
    r.expect_eq(
        || "accounts by tier, reversed".into(),
        raw(s.scan(Account::BY_TIER).rev()),
        reversed(&all),
    );
    for &tier in Tier::ALL {
        let v = V::UInt(tier.into());
        let from = sorted(m, t, &[1], |r| r[1] >= v);
        r.expect_eq(
            || format!("tiers {tier}.."),
            raw(s.range(Account::BY_TIER, tier..)),
            from,
        );
        let below = sorted(m, t, &[1], |r| r[1] < v);
        r.expect_eq(
            || format!("tiers ..{tier}"),
            raw(s.range(Account::BY_TIER, ..tier)),
            below,
        );
    }
    for (offset, limit) in [(0, 2), (1, 3), (4, 1), (0, 0)] {
        let page = s
            .query::<Account>()
            .order_by(Account::BY_TIER, Order::Desc)
            .offset(offset)
            .limit(limit)
            .keys();
        let want: Vec<RawKey> = all.iter().rev().skip(offset).take(limit).copied().collect();
        r.expect_eq(
            || format!("accounts by tier desc, offset {offset} limit {limit}"),
            raw(page),
            want,
        );
    }
    let mut pages = Vec::new();
    let mut cursor: Option<Key<Account>> = None;
    while pages.len() <= all.len() {
        let q = s.query::<Account>().order_by(Account::BY_TIER, Order::Asc);
        let q = match cursor.and_then(|k| Some((k, s.get(k)?.tier))) {
            Some((k, tier)) => match q.after(k, &[Value::UInt(tier.into())]) {
                Ok(q) => q,
                Err(e) => {
                    r.expect_eq(|| format!("a keyset cursor on accounts by tier: {e}"), 0, 1);
                    break;
                }
            },
            None => q,
        };
        let page = q.limit(2).keys();
        let Some(&last) = page.last() else { break };
        pages.extend(raw(page));
        cursor = Some(last);
    }
    r.expect_eq(|| "accounts by tier, keyset pages of 2".into(), pages, all);
}

/// Project's `index(owner, code, ordered)` (code nullable): prefix scans per owner, a
/// window of codes, and each owner's children sorted through the index (NULL codes first).
pub fn check_projects(r: &mut Reads<'_>, owners: &[V]) {
    let (s, m, t) = (r.store, r.model, TableId::Projects);
    let indexed = sorted(m, t, &[3, 1], |r| r[1] != V::Null);
    r.expect_eq(
        || "projects by (owner, code)".into(),
        raw(s.scan(Project::BY_OWNER_CODE)),
        indexed,
    );
    for owner in owners {
        let Some(key) = owner.key::<Account>() else {
            continue;
        };
        let own = sorted(m, t, &[1], |r| r[3] == *owner && r[1] != V::Null);
        let got = s
            .prefix(Project::BY_OWNER_CODE, &[key.into()])
            .map(|k| raw(k.rev()));
        r.expect_eq(
            || format!("projects of {key:?} by code, reversed"),
            got,
            Ok(reversed(&own)),
        );
        let (lo, hi) = ([key.into(), Value::UInt(1)], [key.into(), Value::UInt(2)]);
        let window = s
            .range_values(
                Project::BY_OWNER_CODE,
                Bound::Included(&lo[..]),
                Bound::Included(&hi[..]),
            )
            .map(raw);
        let want = sorted(m, t, &[1], |r| {
            r[3] == *owner && (V::UInt(1)..=V::UInt(2)).contains(&r[1])
        });
        r.expect_eq(|| format!("projects of {key:?}, codes 1..=2"), window, Ok(want));
        let children = s
            .query_keys([key])
            .children(Project::OWNER)
            .order_by(Project::BY_OWNER_CODE, Order::Asc)
            .keys();
        let want = sorted(m, t, &[1], |r| r[3] == *owner);
        r.expect_eq(
            || format!("children of {key:?} ordered by code"),
            raw(children),
            want,
        );
    }
}
