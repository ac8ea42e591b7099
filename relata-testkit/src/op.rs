//! The operations: one [`Op`] enum shared by the property tests and the fuzz targets.
//!
//! Keys are never generated directly: a [`KeyRef`] names a key by position among the keys
//! handed out so far (deleted ones included, so stale keys are exercised), or asks for one
//! that was never handed out.
//!
//! **Adding an operation** is one variant here, one arm in [`crate::driver::apply`] (or the
//! driver's runner, for scopes and closures), and the model's version of it in
//! [`crate::model`]. Append new variants at the end so committed
//! fuzz corpora keep decoding to the same leading operations.

use arbitrary::{Arbitrary, Unstructured};
use relata::RawKey;

use crate::domain::{Bio, Code, ContactStatus, Email, Name, NoteText, Rank, Seat, Since, Slug, Tier, Title};
use crate::model::{Model, TableId, V};

/// A key, named relative to what the store has handed out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyRef {
    /// The n-th live record in key order (modulo the live count); with none live, as
    /// `Issued`.
    Live(u8),
    /// The n-th most recently handed-out key, live or deleted (modulo the count).
    Issued(u8),
    /// A key this store never handed out.
    Unknown,
}

impl<'a> Arbitrary<'a> for KeyRef {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let b = u8::arbitrary(u)?;
        Ok(match b {
            0..=159 => KeyRef::Live(b % 32),
            160..=247 => KeyRef::Issued(b % 32),
            _ => KeyRef::Unknown,
        })
    }

    fn size_hint(_depth: usize) -> (usize, Option<usize>) {
        (1, Some(1))
    }
}

/// The key [`KeyRef::Unknown`] stands for: a slot index no test ever reaches.
pub const UNKNOWN_KEY: u64 = (1 << 32) | 0x00ff_ffff;

impl KeyRef {
    /// The key this names in table `t`. With nothing to pick from, the unknown key.
    pub fn resolve(self, model: &Model, t: TableId) -> RawKey {
        let unknown = RawKey::from_u64(UNKNOWN_KEY);
        match self {
            KeyRef::Live(n) if !model.live(t).is_empty() => {
                let live = model.live(t);
                live.keys()
                    .nth(usize::from(n) % live.len())
                    .copied()
                    .unwrap_or(unknown)
            }
            KeyRef::Live(n) => KeyRef::Issued(n).resolve(model, t),
            KeyRef::Issued(n) => {
                let issued = model.issued(t);
                let back = usize::from(n) % issued.len().max(1);
                issued.iter().rev().nth(back).copied().unwrap_or(unknown)
            }
            KeyRef::Unknown => unknown,
        }
    }

    fn v(self, model: &Model, t: TableId) -> V {
        V::Key(self.resolve(model, t))
    }
}

fn opt(k: Option<KeyRef>, model: &Model, t: TableId) -> V {
    k.map_or(V::Null, |k| k.v(model, t))
}

/// A foreign key of the test schema, for the relationship operations.
#[derive(Arbitrary, Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum FkRef {
    AccountMentor,
    ProfileAccount,
    ProjectOwner,
    ProjectReviewer,
    TaskProject,
    TaskParent,
    TaskAssignee,
    NoteTask,
    NoteMention,
    NoteReplyTo,
    MemberAccount,
    MemberProject,
}

impl FkRef {
    /// The child table and the foreign key's number in it.
    pub fn resolve(self) -> (TableId, usize) {
        use FkRef::*;
        use TableId::*;
        match self {
            AccountMentor => (Accounts, 0),
            ProfileAccount => (Profiles, 0),
            ProjectOwner => (Projects, 0),
            ProjectReviewer => (Projects, 1),
            TaskProject => (Tasks, 0),
            TaskParent => (Tasks, 1),
            TaskAssignee => (Tasks, 2),
            NoteTask => (Notes, 0),
            NoteMention => (Notes, 1),
            NoteReplyTo => (Notes, 2),
            MemberAccount => (Members, 0),
            MemberProject => (Members, 1),
        }
    }

    /// The referenced table.
    pub fn target(self) -> TableId {
        let (t, fk) = self.resolve();
        t.spec().fks[fk].target
    }
}

/// Up to three keys (for `replace_children`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyList(pub Vec<KeyRef>);

impl<'a> Arbitrary<'a> for KeyList {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let n = u8::arbitrary(u)? % 4;
        (0..n)
            .map(|_| KeyRef::arbitrary(u))
            .collect::<arbitrary::Result<_>>()
            .map(KeyList)
    }
}

/// How a closure the driver runs ends.
#[derive(Arbitrary, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// It returns `Ok`.
    Ok,
    /// It returns `Err` (for `faults().run` and a fixture scope, the same as `Ok`).
    Err,
    /// It panics (caught by the driver).
    Panic,
}

/// A whole record of one table, with its foreign keys as [`KeyRef`]s.
#[derive(Arbitrary, Clone, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Record {
    Account {
        name: Name,
        tier: Tier,
        mentor: Option<KeyRef>,
    },
    Profile {
        bio: Bio,
        account: Option<KeyRef>,
    },
    Project {
        title: Title,
        code: Code,
        slug: Slug,
        owner: KeyRef,
        reviewer: Option<KeyRef>,
    },
    Task {
        rank: Rank,
        project: KeyRef,
        parent: Option<KeyRef>,
        assignee: Option<KeyRef>,
    },
    Note {
        text: NoteText,
        task: KeyRef,
        mention: Option<KeyRef>,
        reply_to: Option<KeyRef>,
    },
    Member {
        seat: Seat,
        account: KeyRef,
        project: KeyRef,
    },
    Contact {
        email: Email,
        status: ContactStatus,
        since: Since,
    },
}

impl Record {
    /// The table the record belongs to.
    pub fn table(&self) -> TableId {
        match self {
            Record::Account { .. } => TableId::Accounts,
            Record::Profile { .. } => TableId::Profiles,
            Record::Project { .. } => TableId::Projects,
            Record::Task { .. } => TableId::Tasks,
            Record::Note { .. } => TableId::Notes,
            Record::Member { .. } => TableId::Members,
            Record::Contact { .. } => TableId::Contacts,
        }
    }

    /// The field values, keys resolved against the model's history.
    pub fn values(&self, m: &Model) -> Vec<V> {
        use TableId::*;
        match *self {
            Record::Account { name, tier, mentor } => vec![name.v(), tier.v(), opt(mentor, m, Accounts)],
            Record::Profile { bio, account } => vec![bio.v(), opt(account, m, Accounts)],
            Record::Project {
                title,
                code,
                slug,
                owner,
                reviewer,
            } => vec![
                title.v(),
                code.v(),
                slug.v(),
                owner.v(m, Accounts),
                opt(reviewer, m, Accounts),
            ],
            Record::Task {
                rank,
                project,
                parent,
                assignee,
            } => vec![
                rank.v(),
                project.v(m, Projects),
                opt(parent, m, Tasks),
                opt(assignee, m, Accounts),
            ],
            Record::Note {
                text,
                task,
                mention,
                reply_to,
            } => vec![
                text.v(),
                task.v(m, Tasks),
                opt(mention, m, Accounts),
                opt(reply_to, m, Notes),
            ],
            Record::Member {
                seat,
                account,
                project,
            } => vec![seat.v(), account.v(m, Accounts), project.v(m, Projects)],
            Record::Contact { email, status, since } => vec![email.v(), status.v(), since.v()],
        }
    }
}

/// A change of one field, through `Store::update`.
#[derive(Arbitrary, Clone, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Change {
    AccountName(Name),
    AccountTier(Tier),
    AccountMentor(Option<KeyRef>),
    ProfileBio(Bio),
    ProfileAccount(Option<KeyRef>),
    ProjectTitle(Title),
    ProjectCode(Code),
    ProjectSlug(Slug),
    ProjectOwner(KeyRef),
    ProjectReviewer(Option<KeyRef>),
    TaskRank(Rank),
    TaskProject(KeyRef),
    TaskParent(Option<KeyRef>),
    TaskAssignee(Option<KeyRef>),
    NoteText(NoteText),
    NoteTask(KeyRef),
    NoteMention(Option<KeyRef>),
    NoteReplyTo(Option<KeyRef>),
    MemberSeat(Seat),
    MemberAccount(KeyRef),
    MemberProject(KeyRef),
    ContactEmail(Email),
    ContactStatus(ContactStatus),
    ContactSince(Since),
}

impl Change {
    /// The table, the field position and the new value.
    pub fn resolve(&self, m: &Model) -> (TableId, usize, V) {
        use Change::*;
        use TableId::*;
        match *self {
            AccountName(x) => (Accounts, 0, x.v()),
            AccountTier(x) => (Accounts, 1, x.v()),
            AccountMentor(k) => (Accounts, 2, opt(k, m, Accounts)),
            ProfileBio(x) => (Profiles, 0, x.v()),
            ProfileAccount(k) => (Profiles, 1, opt(k, m, Accounts)),
            ProjectTitle(x) => (Projects, 0, x.v()),
            ProjectCode(x) => (Projects, 1, x.v()),
            ProjectSlug(x) => (Projects, 2, x.v()),
            ProjectOwner(k) => (Projects, 3, k.v(m, Accounts)),
            ProjectReviewer(k) => (Projects, 4, opt(k, m, Accounts)),
            TaskRank(x) => (Tasks, 0, x.v()),
            TaskProject(k) => (Tasks, 1, k.v(m, Projects)),
            TaskParent(k) => (Tasks, 2, opt(k, m, Tasks)),
            TaskAssignee(k) => (Tasks, 3, opt(k, m, Accounts)),
            NoteText(x) => (Notes, 0, x.v()),
            NoteTask(k) => (Notes, 1, k.v(m, Tasks)),
            NoteMention(k) => (Notes, 2, opt(k, m, Accounts)),
            NoteReplyTo(k) => (Notes, 3, opt(k, m, Notes)),
            MemberSeat(x) => (Members, 0, x.v()),
            MemberAccount(k) => (Members, 1, k.v(m, Accounts)),
            MemberProject(k) => (Members, 2, k.v(m, Projects)),
            ContactEmail(x) => (Contacts, 0, x.v()),
            ContactStatus(x) => (Contacts, 1, x.v()),
            ContactSince(x) => (Contacts, 2, x.v()),
        }
    }
}

/// One step of a test: applied to the store and the model alike by
/// [`apply`](crate::driver::apply).
#[derive(Arbitrary, Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// `Store::insert`.
    Insert(Record),
    /// `Store::update` of one field of the record `KeyRef` names (in the change's table).
    Update(KeyRef, Change),
    /// `Store::replace` of the record `KeyRef` names (in the record's table).
    Replace(KeyRef, Record),
    /// `Store::delete`.
    Delete(TableId, KeyRef),
    /// `Store::explain_delete`, which must change nothing, then `Store::delete`, which must
    /// report exactly what the explanation said.
    ExplainThenDelete(TableId, KeyRef),
    /// Clone the store, compare the clone with the original, and carry on with the clone.
    CloneAndCompare,
    /// Save a snapshot, load it, compare the loaded store with the original, and carry on
    /// with the loaded one (so later operations run on rebuilt indexes). Inside a
    /// transaction the snapshot holds the uncommitted state, or is refused exactly when the
    /// commit would be; with any scope open (or inside a closure) the store carries on.
    SnapshotRoundTrip,
    /// An upsert of the record by its table's upsert constraint (see
    /// [`Modeled::UPSERT_ON`](crate::entities::Modeled::UPSERT_ON)): `Store::upsert`, or
    /// `Store::insert_if_absent` for profiles.
    Upsert(Record),
    /// `Store::link` on [`WATCHES`](crate::schema::WATCHES): (account, project).
    Link(KeyRef, KeyRef),
    /// `Store::link_if_absent` on `WATCHES`.
    LinkIfAbsent(KeyRef, KeyRef),
    /// `Store::unlink` on `WATCHES`.
    Unlink(KeyRef, KeyRef),
    /// `Store::unlink_if_present` on `WATCHES`.
    UnlinkIfPresent(KeyRef, KeyRef),
    /// The next page of accounts by tier, after the last row the previous `NextPage` read
    /// (keyset pagination, `1 + n % 3` rows; an empty page starts over), and the page at the
    /// same position by offset, both against the model: the writes between pages
    /// (inserts, deletes, tier changes, undo) are what the pages must follow.
    NextPage(u8),
    /// `Store::set_parent` (child, parent).
    SetParent(FkRef, KeyRef, Option<KeyRef>),
    /// `Store::set_child` (the op holds the parent, then the child; the call takes the child
    /// first); a one-to-many key is `NotOneToOne`.
    SetChild(FkRef, KeyRef, Option<KeyRef>),
    /// `Store::replace_children` (the op holds the parent, then the children).
    ReplaceChildren(FkRef, KeyRef, KeyList),
    /// `Store::add_child_if_absent` (the op holds the parent, then the child).
    AddChild(FkRef, KeyRef, KeyRef),
    /// `Store::remove_child` (the op holds the parent, then the child).
    RemoveChild(FkRef, KeyRef, KeyRef),
    /// `Store::begin`.
    Begin,
    /// `Store::commit`.
    Commit,
    /// `Store::rollback`.
    Rollback,
    /// `Store::savepoint` (the driver keeps the handle).
    Savepoint,
    /// `Store::rollback_to` the n-th savepoint handle the driver holds.
    RollbackTo(u8),
    /// `Store::release` of the n-th savepoint handle (consumed).
    Release(u8),
    /// `Store::mark` (the driver keeps the handle).
    Mark,
    /// `Store::reset` to the n-th mark handle.
    Reset(u8),
    /// `Store::release_mark` of the n-th mark handle (consumed).
    ReleaseMark(u8),
    /// Opens a `Store::transaction` closure: the operations up to the matching
    /// [`EndClosure`](Op::EndClosure) run inside it (closures nest).
    Transaction,
    /// Opens a `store.faults().run(FaultPoint::NthWrite(n), ..)` closure.
    WithFault(u8),
    /// Opens a `Store::scope` fixture scope (dropped at its end).
    FixtureScope,
    /// Ends the innermost open closure (at the top level: nothing).
    EndClosure(Ending),
    /// `Store::update` whose closure panics (caught by the driver).
    UpdatePanics(KeyRef, Change),
}

impl Op {
    /// The operation's name, for the per-kind counts of a run.
    pub fn kind(&self) -> &'static str {
        match self {
            Op::Insert(_) => "insert",
            Op::Update(..) => "update",
            Op::Replace(..) => "replace",
            Op::Delete(..) => "delete",
            Op::ExplainThenDelete(..) => "explain_then_delete",
            Op::CloneAndCompare => "clone_and_compare",
            Op::SnapshotRoundTrip => "snapshot_round_trip",
            Op::Upsert(_) => "upsert",
            Op::Link(..) => "link",
            Op::LinkIfAbsent(..) => "link_if_absent",
            Op::Unlink(..) => "unlink",
            Op::UnlinkIfPresent(..) => "unlink_if_present",
            Op::NextPage(_) => "next_page",
            Op::SetParent(..) => "set_parent",
            Op::SetChild(..) => "set_child",
            Op::ReplaceChildren(..) => "replace_children",
            Op::AddChild(..) => "add_child",
            Op::RemoveChild(..) => "remove_child",
            Op::Begin => "begin",
            Op::Commit => "commit",
            Op::Rollback => "rollback",
            Op::Savepoint => "savepoint",
            Op::RollbackTo(_) => "rollback_to",
            Op::Release(_) => "release",
            Op::Mark => "mark",
            Op::Reset(_) => "reset",
            Op::ReleaseMark(_) => "release_mark",
            Op::Transaction => "transaction closure",
            Op::WithFault(_) => "faults().run closure",
            Op::FixtureScope => "fixture scope",
            Op::EndClosure(_) => "end of closure (top level)",
            Op::UpdatePanics(..) => "update (closure panics)",
        }
    }
}

/// The most operations one input decodes to (keeps fuzz iterations short).
pub const MAX_OPS: usize = 256;

/// Of 256 values of an operation's leading byte, how many force an insert; the rest defer to
/// the derived (uniform) choice among all variants. Without this bias deletes outpace
/// inserts and stores stay too small for deep cascades.
const INSERT_BIAS: u8 = 96;

/// Decodes one operation: a bias byte, then the derived `Arbitrary` encoding.
///
/// # Errors
/// Only if `arbitrary` does (it fills missing bytes with zeros).
pub fn arbitrary_op(u: &mut Unstructured<'_>) -> arbitrary::Result<Op> {
    if u8::arbitrary(u)? < INSERT_BIAS {
        Ok(Op::Insert(Record::arbitrary(u)?))
    } else {
        Op::arbitrary(u)
    }
}

/// Decodes a byte string into operations until the bytes (or [`MAX_OPS`]) run out.
///
/// A scope's opener is usually paired with its end. Drawn uniformly, a `rollback` rarely
/// came while its transaction was open and no closure opened after it was still open (a
/// long run saw no successful plain `rollback`), and closures opened three times as often
/// as they ended, so most operations ran deep inside closures where `begin` is refused. So
/// the byte after a `begin`, `transaction` or fixture scope may schedule its end
/// (`rollback` or `commit`; the closure's end) a few operations later. (`with_fault` stays
/// unpaired: a short closure seldom reaches its fault.)
pub fn decode_ops(data: &[u8]) -> Vec<Op> {
    let mut u = Unstructured::new(data);
    let mut ops = Vec::new();
    let mut pairing = Pairing::default();
    while !u.is_empty() && ops.len() < MAX_OPS {
        let Ok(op) = arbitrary_op(&mut u) else { break };
        pairing.track(&op);
        pairing.schedule(&op, &mut u);
        ops.push(op);
        while let Some(end) = pairing.due() {
            pairing.track(&end);
            ops.push(end);
        }
    }
    ops.truncate(MAX_OPS);
    ops
}

/// The ends [`decode_ops`] scheduled for open scopes, innermost last.
#[derive(Default)]
struct Pairing {
    /// Closures open ([`Op::Transaction`], [`Op::WithFault`], [`Op::FixtureScope`] minus
    /// [`Op::EndClosure`]).
    depth: usize,
    /// `(operations still to wait, the end, the closure depth it runs at)`.
    pending: Vec<(u8, Op, usize)>,
}

impl Pairing {
    /// After an opener, reads one byte: of 256 values, 192 schedule its end after 0 to 7
    /// operations (a transaction's end is a `rollback` two times in three, else a
    /// `commit`; a closure ends `Ok` two times in four); the rest leave it unpaired.
    fn schedule(&mut self, op: &Op, u: &mut Unstructured<'_>) {
        let opens = matches!(op, Op::Begin | Op::Transaction | Op::FixtureScope);
        let b = if opens { u8::arbitrary(u).unwrap_or(0) } else { 255 };
        if b >= 192 {
            return;
        }
        let end = match op {
            Op::Begin if b % 3 == 2 => Op::Commit,
            Op::Begin => Op::Rollback,
            _ => Op::EndClosure([Ending::Ok, Ending::Ok, Ending::Err, Ending::Panic][usize::from(b % 4)]),
        };
        self.pending.push((b % 8, end, self.depth));
    }

    /// Follows the closure depth, and counts the waits down.
    fn track(&mut self, op: &Op) {
        match op {
            Op::Transaction | Op::WithFault(_) | Op::FixtureScope => self.depth += 1,
            Op::EndClosure(_) => self.depth = self.depth.saturating_sub(1),
            _ => {}
        }
        for (wait, ..) in &mut self.pending {
            *wait = wait.saturating_sub(1);
        }
    }

    /// The innermost scheduled end once its wait is over at its depth; ends whose closure
    /// already ended are dropped.
    fn due(&mut self) -> Option<Op> {
        while let Some(&(wait, ref end, depth)) = self.pending.last() {
            if depth > self.depth {
                self.pending.pop();
            } else if wait == 0 && depth == self.depth {
                let end = end.clone();
                self.pending.pop();
                return Some(end);
            } else {
                return None;
            }
        }
        None
    }
}

/// Decodes one operation from its own bytes (missing bytes read as zeros, so the empty
/// chunk is the simplest insert).
pub fn decode_op(data: &[u8]) -> Op {
    let mut u = Unstructured::new(data);
    arbitrary_op(&mut u).unwrap_or(Op::CloneAndCompare)
}
