//! The bridge between the typed entities of [`crate::schema`] and the model's rows of
//! [`V`]alues, plus each entity's typed read checks (its foreign-key handles and look-ups).

use relata::{Entity, Error, Key, RawKey, Store, Upserted, Value};

use crate::check::{check_fk, check_index, check_unique, Reads};
use crate::domain::{status_name, Code, ContactStatus, Email, Name, Seat, Since, Slug, Tier, Title};
use crate::model::{Model, TableId, V};
use crate::schema::{Account, Contact, Member, Note, Profile, Project, Task};

/// An entity of the test schema that the model can mirror.
pub trait Modeled: Entity + Clone + PartialEq + std::fmt::Debug {
    /// Its table in the model.
    const TABLE: TableId;
    /// Field values in declaration order.
    fn to_values(&self) -> Vec<V>;
    /// The entity with these field values.
    fn from_values(v: &[V]) -> Self;
    /// Checks the entity's relationships (children and parents through every foreign key)
    /// and its unique and index look-ups against the model.
    fn check_reads(r: &mut Reads<'_>);
    /// The unique constraint [`upsert`](Self::upsert) goes by (its position in the
    /// entity's uniques) and what a conflict does; `None`: upsert is a plain insert.
    const UPSERT_ON: Option<(usize, OnConflict)> = None;
    /// The store's upsert through [`UPSERT_ON`](Self::UPSERT_ON).
    fn upsert(store: &mut Store, value: Self) -> Result<Upserted<Self>, Error> {
        store.insert(value).map(Upserted::Inserted)
    }
}

/// What an upsert does to the record already holding the value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnConflict {
    /// `Store::upsert`: replaces it.
    Update,
    /// `Store::insert_if_absent`: leaves it.
    Nothing,
}

/// Runs `$body` with `$E` bound to the entity type of table `$t`.
#[macro_export]
macro_rules! with_entity {
    ($t:expr, $E:ident => $body:expr) => {
        match $t {
            $crate::model::TableId::Accounts => {
                type $E = $crate::schema::Account;
                $body
            }
            $crate::model::TableId::Profiles => {
                type $E = $crate::schema::Profile;
                $body
            }
            $crate::model::TableId::Projects => {
                type $E = $crate::schema::Project;
                $body
            }
            $crate::model::TableId::Tasks => {
                type $E = $crate::schema::Task;
                $body
            }
            $crate::model::TableId::Notes => {
                type $E = $crate::schema::Note;
                $body
            }
            $crate::model::TableId::Members => {
                type $E = $crate::schema::Member;
                $body
            }
            $crate::model::TableId::Contacts => {
                type $E = $crate::schema::Contact;
                $body
            }
        }
    };
}

/// Runs `$body` with `$C`, `$P` bound to the child and parent types of foreign key `$f` (an
/// [`FkRef`](crate::op::FkRef)) and `$H` to its typed handle.
#[macro_export]
macro_rules! with_fk {
    ($f:expr, $C:ident, $P:ident, $H:ident => $body:expr) => {{
        use $crate::op::FkRef as F;
        use $crate::schema as s;
        match $f {
            F::AccountMentor => $crate::with_fk!(@ s::Account, s::Account, s::Account::MENTOR, $C, $P, $H, $body),
            F::ProfileAccount => $crate::with_fk!(@ s::Profile, s::Account, s::Profile::ACCOUNT, $C, $P, $H, $body),
            F::ProjectOwner => $crate::with_fk!(@ s::Project, s::Account, s::Project::OWNER, $C, $P, $H, $body),
            F::ProjectReviewer => $crate::with_fk!(@ s::Project, s::Account, s::Project::REVIEWER, $C, $P, $H, $body),
            F::TaskProject => $crate::with_fk!(@ s::Task, s::Project, s::Task::PROJECT, $C, $P, $H, $body),
            F::TaskParent => $crate::with_fk!(@ s::Task, s::Task, s::Task::PARENT, $C, $P, $H, $body),
            F::TaskAssignee => $crate::with_fk!(@ s::Task, s::Account, s::Task::ASSIGNEE, $C, $P, $H, $body),
            F::NoteTask => $crate::with_fk!(@ s::Note, s::Task, s::Note::TASK, $C, $P, $H, $body),
            F::NoteMention => $crate::with_fk!(@ s::Note, s::Account, s::Note::MENTION, $C, $P, $H, $body),
            F::NoteReplyTo => $crate::with_fk!(@ s::Note, s::Note, s::Note::REPLY_TO, $C, $P, $H, $body),
            F::MemberAccount => $crate::with_fk!(@ s::Member, s::Account, s::Member::ACCOUNT, $C, $P, $H, $body),
            F::MemberProject => $crate::with_fk!(@ s::Member, s::Project, s::Member::PROJECT, $C, $P, $H, $body),
        }
    }};
    (@ $c:ty, $p:ty, $h:expr, $C:ident, $P:ident, $H:ident, $body:expr) => {{
        type $C = $c;
        #[allow(unused)]
        type $P = $p;
        const $H: relata::Fk<$C, $P> = $h;
        $body
    }};
}

fn uint<T: TryFrom<u64>>(v: &V) -> T {
    match v {
        V::UInt(u) => T::try_from(*u).ok(),
        _ => None,
    }
    .expect("an unsigned value in range")
}

fn int<T: TryFrom<i64>>(v: &V) -> T {
    match v {
        V::Int(i) => T::try_from(*i).ok(),
        _ => None,
    }
    .expect("a signed value in range")
}

fn opt_text(v: &V) -> Option<String> {
    (*v != V::Null).then(|| v.str().to_owned())
}

fn key<T>(v: &V) -> Key<T> {
    v.key().expect("a non-NULL key")
}

/// The domain of a key-valued look-up in table `t`: every live key, the most recently
/// deleted one (a stale key must match nothing), and NULL (which matches nothing either).
fn key_domain(m: &Model, t: TableId) -> Vec<V> {
    let stale = m.issued(t).iter().rev().find(|k| m.record(t, **k).is_none());
    let mut all: Vec<V> = m.live(t).keys().chain(stale).map(|&k| V::Key(k)).collect();
    all.push(V::Null);
    all
}

fn values(vs: &[V]) -> Vec<Value<'_>> {
    vs.iter().map(V::as_value).collect()
}

fn raw<E>(k: Option<Key<E>>) -> Option<RawKey> {
    k.map(Key::raw)
}

impl Modeled for Account {
    const TABLE: TableId = TableId::Accounts;
    fn to_values(&self) -> Vec<V> {
        vec![
            V::text(&self.name),
            V::UInt(self.tier.into()),
            V::opt_key(self.mentor),
        ]
    }
    fn from_values(v: &[V]) -> Self {
        Account {
            name: v[0].str().to_owned(),
            tier: uint(&v[1]),
            mentor: v[2].key(),
        }
    }
    fn check_reads(r: &mut Reads<'_>) {
        check_fk(r, Account::MENTOR, 0);
        for name in Name::ALL {
            let got = raw(r.store.find_unique(Account::BY_NAME, *name));
            check_unique(r, Self::TABLE, 0, &[V::text(name)], got);
        }
        for tier in Tier::ALL {
            let got = r.store.find_by(Account::BY_TIER, tier).map(Key::raw).collect();
            check_index(r, Self::TABLE, &[1], &[V::UInt((*tier).into())], got);
        }
        crate::ordered::check_accounts(r);
    }
    const UPSERT_ON: Option<(usize, OnConflict)> = Some((0, OnConflict::Update));
    fn upsert(store: &mut Store, value: Self) -> Result<Upserted<Self>, Error> {
        store.upsert(Account::BY_NAME, value)
    }
}

impl Modeled for Profile {
    const TABLE: TableId = TableId::Profiles;
    fn to_values(&self) -> Vec<V> {
        vec![V::text(&self.bio), V::opt_key(self.account)]
    }
    fn from_values(v: &[V]) -> Self {
        Profile {
            bio: v[0].str().to_owned(),
            account: v[1].key(),
        }
    }
    fn check_reads(r: &mut Reads<'_>) {
        check_fk(r, Profile::ACCOUNT, 0);
        for account in key_domain(r.model, TableId::Accounts) {
            let Some(k) = account.key::<Account>() else {
                continue;
            };
            let got = raw(r.store.find_unique(Profile::BY_ACCOUNT, &k));
            check_unique(r, Self::TABLE, 0, &[account], got);
        }
    }
    const UPSERT_ON: Option<(usize, OnConflict)> = Some((0, OnConflict::Nothing));
    fn upsert(store: &mut Store, value: Self) -> Result<Upserted<Self>, Error> {
        store.insert_if_absent(Profile::BY_ACCOUNT, value)
    }
}

impl Modeled for Project {
    const TABLE: TableId = TableId::Projects;
    fn to_values(&self) -> Vec<V> {
        vec![
            V::text(&self.title),
            self.code.map_or(V::Null, |c| V::UInt(c.into())),
            self.slug.as_deref().map_or(V::Null, V::text),
            V::Key(self.owner.raw()),
            V::opt_key(self.reviewer),
        ]
    }
    fn from_values(v: &[V]) -> Self {
        Project {
            title: v[0].str().to_owned(),
            code: (v[1] != V::Null).then(|| uint(&v[1])),
            slug: opt_text(&v[2]),
            owner: key(&v[3]),
            reviewer: v[4].key(),
        }
    }
    fn check_reads(r: &mut Reads<'_>) {
        check_fk(r, Project::OWNER, 0);
        check_fk(r, Project::REVIEWER, 1);
        for slug in Slug::ALL.iter().flatten() {
            let got = raw(r.store.find_unique(Project::BY_SLUG, *slug));
            check_unique(r, Self::TABLE, 0, &[V::text(slug)], got);
        }
        for title in Title::all_v() {
            for code in Code::all_v() {
                let probe = [title.clone(), code];
                let got = raw(r
                    .store
                    .find_unique_values(Project::BY_TITLE_CODE, &values(&probe))
                    .expect("the probe's values fit the constraint"));
                check_unique(r, Self::TABLE, 1, &probe, got);
            }
        }
        for owner in key_domain(r.model, TableId::Accounts) {
            for code in Code::all_v() {
                let probe = [owner.clone(), code];
                let got = (r.store.find_by_values(Project::BY_OWNER_CODE, &values(&probe)))
                    .expect("the probe's values fit the index");
                let got = got.map(Key::raw).collect();
                check_index(r, Self::TABLE, &[3, 1], &probe, got);
            }
        }
        crate::ordered::check_projects(r, &key_domain(r.model, TableId::Accounts));
    }
    const UPSERT_ON: Option<(usize, OnConflict)> = Some((1, OnConflict::Update));
    fn upsert(store: &mut Store, value: Self) -> Result<Upserted<Self>, Error> {
        store.upsert(Project::BY_TITLE_CODE, value)
    }
}

impl Modeled for Task {
    const TABLE: TableId = TableId::Tasks;
    fn to_values(&self) -> Vec<V> {
        vec![
            V::Int(self.rank.into()),
            V::Key(self.project.raw()),
            V::opt_key(self.parent),
            V::opt_key(self.assignee),
        ]
    }
    fn from_values(v: &[V]) -> Self {
        Task {
            rank: int(&v[0]),
            project: key(&v[1]),
            parent: v[2].key(),
            assignee: v[3].key(),
        }
    }
    fn check_reads(r: &mut Reads<'_>) {
        check_fk(r, Task::PROJECT, 0);
        check_fk(r, Task::PARENT, 1);
        check_fk(r, Task::ASSIGNEE, 2);
    }
}

impl Modeled for Note {
    const TABLE: TableId = TableId::Notes;
    fn to_values(&self) -> Vec<V> {
        vec![
            V::text(&self.text),
            V::Key(self.task.raw()),
            V::opt_key(self.mention),
            V::opt_key(self.reply_to),
        ]
    }
    fn from_values(v: &[V]) -> Self {
        Note {
            text: v[0].str().to_owned(),
            task: key(&v[1]),
            mention: v[2].key(),
            reply_to: v[3].key(),
        }
    }
    fn check_reads(r: &mut Reads<'_>) {
        check_fk(r, Note::TASK, 0);
        check_fk(r, Note::MENTION, 1);
        check_fk(r, Note::REPLY_TO, 2);
        for task in key_domain(r.model, TableId::Tasks) {
            for mention in key_domain(r.model, TableId::Accounts) {
                let probe = [task.clone(), mention];
                let got = raw(r
                    .store
                    .find_unique_values(Note::BY_TASK_MENTION, &values(&probe))
                    .expect("the probe's values fit the constraint"));
                check_unique(r, Self::TABLE, 0, &probe, got);
            }
        }
    }
    const UPSERT_ON: Option<(usize, OnConflict)> = Some((0, OnConflict::Update));
    fn upsert(store: &mut Store, value: Self) -> Result<Upserted<Self>, Error> {
        store.upsert(Note::BY_TASK_MENTION, value)
    }
}

impl Modeled for Member {
    const TABLE: TableId = TableId::Members;
    fn to_values(&self) -> Vec<V> {
        vec![
            V::UInt(self.seat.into()),
            V::Key(self.account.raw()),
            V::Key(self.project.raw()),
        ]
    }
    fn from_values(v: &[V]) -> Self {
        Member {
            seat: uint(&v[0]),
            account: key(&v[1]),
            project: key(&v[2]),
        }
    }
    fn check_reads(r: &mut Reads<'_>) {
        check_fk(r, Member::ACCOUNT, 0);
        check_fk(r, Member::PROJECT, 1);
        for seat in Seat::ALL {
            // Inside a transaction a deferrable constraint may hold duplicates; which one a
            // look-up finds is then not part of the contract.
            let probe = [V::UInt((*seat).into())];
            if r.model.matching(Self::TABLE, &[0], &probe).len() > 1 {
                continue;
            }
            let got = raw(r.store.find_unique(Member::BY_SEAT, seat));
            check_unique(r, Self::TABLE, 0, &probe, got);
        }
        for account in key_domain(r.model, TableId::Accounts) {
            for project in key_domain(r.model, TableId::Projects) {
                let probe = [account.clone(), project];
                let got = raw(r
                    .store
                    .find_unique_values(Member::BY_ACCOUNT_PROJECT, &values(&probe))
                    .expect("the probe's values fit the constraint"));
                check_unique(r, Self::TABLE, 1, &probe, got);
            }
            // The association object as a many-to-many view: an account's projects, in the
            // order its memberships were made.
            let Some(a) = account.key::<Account>() else {
                continue;
            };
            let got: Vec<RawKey> = r
                .store
                .through(Member::ACCOUNT, Member::PROJECT, a)
                .map(Key::raw)
                .collect();
            let want: Vec<RawKey> = r
                .model
                .children(Self::TABLE, 0, a.raw())
                .into_iter()
                .filter_map(|m| r.model.parent_of(Self::TABLE, 1, m))
                .collect();
            r.expect_eq(
                || format!("projects of accounts[{a:?}] through members"),
                got,
                want,
            );
        }
    }
}

impl Modeled for Contact {
    const TABLE: TableId = TableId::Contacts;
    fn to_values(&self) -> Vec<V> {
        vec![
            V::text(&self.email),
            V::text(status_name(self.status)),
            V::Int(self.since.timestamp_micros()),
        ]
    }
    fn from_values(v: &[V]) -> Self {
        let status = ContactStatus::ALL
            .iter()
            .copied()
            .find(|s| status_name(*s) == v[1].str());
        Contact {
            email: v[0].str().to_owned(),
            status: status.expect("a status name"),
            since: chrono::DateTime::from_timestamp_micros(int(&v[2])).expect("a timestamp in range"),
        }
    }
    fn check_reads(r: &mut Reads<'_>) {
        // Each email as written and with its ASCII letters upper-cased: a nocase look-up
        // finds the holder either way.
        for email in Email::ALL {
            for probe in [email.to_string(), email.to_ascii_uppercase()] {
                let got = raw(r.store.find_unique(Contact::BY_EMAIL, probe.as_str()));
                check_unique(r, Self::TABLE, 0, &[V::Text(probe)], got);
            }
        }
        for status in ContactStatus::ALL {
            let got = r
                .store
                .find_by(Contact::BY_STATUS, status)
                .map(Key::raw)
                .collect();
            check_index(r, Self::TABLE, &[1], &[V::text(status_name(*status))], got);
        }
        for micros in Since::ALL {
            let Some(at) = chrono::DateTime::from_timestamp_micros(*micros) else {
                continue;
            };
            let got = r.store.find_by(Contact::BY_SINCE, &at).map(Key::raw).collect();
            check_index(r, Self::TABLE, &[2], &[V::Int(*micros)], got);
        }
    }
    const UPSERT_ON: Option<(usize, OnConflict)> = Some((0, OnConflict::Update));
    fn upsert(store: &mut Store, value: Self) -> Result<Upserted<Self>, Error> {
        store.upsert(Contact::BY_EMAIL, value)
    }
}

/// Both directions of [`WATCHES`](crate::schema::WATCHES) for every key ever handed out (and
/// an unknown one), `is_linked` for every pair, and the pair count.
pub fn check_relations(r: &mut Reads<'_>) {
    use crate::schema::WATCHES;
    let mut accounts = r.model.issued(TableId::Accounts).to_vec();
    accounts.push(RawKey::from_u64(crate::op::UNKNOWN_KEY));
    for a in accounts {
        let got: Vec<RawKey> = r
            .store
            .rights(WATCHES, Key::<Account>::from_raw(a))
            .map(Key::raw)
            .collect();
        r.expect_eq(
            || format!("rights of accounts[{a}] in watches"),
            got,
            r.model.rights(0, a),
        );
    }
    let mut projects = r.model.issued(TableId::Projects).to_vec();
    projects.push(RawKey::from_u64(crate::op::UNKNOWN_KEY));
    for p in projects {
        let got: Vec<RawKey> = r
            .store
            .lefts(WATCHES, Key::<Project>::from_raw(p))
            .map(Key::raw)
            .collect();
        r.expect_eq(
            || format!("lefts of projects[{p}] in watches"),
            got,
            r.model.lefts(0, p),
        );
    }
    for &(a, p) in r.model.pairs(0).keys() {
        let linked = r
            .store
            .is_linked(WATCHES, Key::<Account>::from_raw(a), Key::<Project>::from_raw(p));
        r.expect_eq(|| format!("is_linked({a}, {p})"), linked, true);
    }
    check_navigation(r);
    r.expect_eq(
        || "link_count of watches".to_owned(),
        r.store.link_count(WATCHES),
        r.model.pairs(0).len(),
    );
}

/// The query forms over `WATCHES`: `with_rights` / `without_rights`, `with_lefts` /
/// `without_lefts`, `count_rights` / `count_lefts`, and `is_empty` / `count` / `first` of each
/// record's partners, against the model's pairs.
fn check_navigation(r: &mut Reads<'_>) {
    use crate::schema::WATCHES;
    let (s, m) = (r.store, r.model);
    let accounts: Vec<RawKey> = m.live(TableId::Accounts).keys().copied().collect();
    let projects: Vec<RawKey> = m.live(TableId::Projects).keys().copied().collect();
    let raw = |keys: Vec<Key<Account>>| keys.into_iter().map(Key::raw).collect::<Vec<_>>();
    let linked: Vec<RawKey> = accounts
        .iter()
        .copied()
        .filter(|&a| !m.rights(0, a).is_empty())
        .collect();
    let unlinked: Vec<RawKey> = accounts
        .iter()
        .copied()
        .filter(|&a| m.rights(0, a).is_empty())
        .collect();
    r.expect_eq(
        || "accounts with_rights".into(),
        raw(s.query::<Account>().with_rights(WATCHES).keys()),
        linked,
    );
    r.expect_eq(
        || "accounts without_rights".into(),
        raw(s.query::<Account>().without_rights(WATCHES).keys()),
        unlinked,
    );
    let counts: Vec<(RawKey, usize)> = s
        .query::<Account>()
        .count_rights(WATCHES)
        .into_iter()
        .map(|(k, n)| (k.raw(), n))
        .collect();
    let want: Vec<(RawKey, usize)> = accounts.iter().map(|&a| (a, m.rights(0, a).len())).collect();
    r.expect_eq(|| "accounts count_rights".into(), counts, want);
    let watched: Vec<RawKey> = projects
        .iter()
        .copied()
        .filter(|&p| !m.lefts(0, p).is_empty())
        .collect();
    let got: Vec<RawKey> = s
        .query::<Project>()
        .with_lefts(WATCHES)
        .keys()
        .into_iter()
        .map(Key::raw)
        .collect();
    r.expect_eq(|| "projects with_lefts".into(), got, watched);
    let counts: Vec<(RawKey, usize)> = s
        .query::<Project>()
        .count_lefts(WATCHES)
        .into_iter()
        .map(|(k, n)| (k.raw(), n))
        .collect();
    let want: Vec<(RawKey, usize)> = projects.iter().map(|&p| (p, m.lefts(0, p).len())).collect();
    r.expect_eq(|| "projects count_lefts".into(), counts, want);
    for &a in &accounts {
        let q = s.query_keys([Key::<Account>::from_raw(a)]).rights(WATCHES);
        let want = m.rights(0, a);
        let got = (!q.is_empty(), q.count(), q.first().map(Key::raw));
        r.expect_eq(
            || format!("is_empty, count, first of the rights of accounts[{a}]"),
            got,
            (!want.is_empty(), want.len(), want.first().copied()),
        );
    }
}
