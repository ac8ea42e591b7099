//! The reference model: a deliberately naive re-implementation of relata's contract over
//! `BTreeMap`s, written to be obviously right rather than fast. Every question (who holds a
//! unique value, who are a parent's children, what a delete removes) is answered by scanning
//! every live record.

mod delete;
mod link;
mod relate;
mod scope;
mod spec;
mod write;

use std::collections::BTreeMap;
use std::fmt;

use relata::{Key, RawKey, Value};

pub use delete::{DeleteOutcome, Expected};
pub use scope::{ClosureKind, Duplicates, ScopeKind, INJECTED};
pub use spec::{Action, FkSpec, RelationSpec, TableId, TableSpec, UniqueSpec, RELATIONS, SPECS};

/// A column value as the model keeps it.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum V {
    /// SQL NULL.
    Null,
    /// A signed integer.
    Int(i64),
    /// An unsigned integer.
    UInt(u64),
    /// Text.
    Text(String),
    /// A reference to a record.
    Key(RawKey),
}

impl V {
    /// `V::Text` of a `&str`.
    pub fn text(s: &str) -> V {
        V::Text(s.to_owned())
    }

    /// `V::Key`, or `V::Null` for `None`.
    pub fn opt_key<T>(k: Option<Key<T>>) -> V {
        k.map_or(V::Null, |k| V::Key(k.raw()))
    }

    /// The value as relata's [`Value`], for look-ups.
    pub fn as_value(&self) -> Value<'_> {
        match self {
            V::Null => Value::Null,
            V::Int(i) => Value::Int(*i),
            V::UInt(u) => Value::UInt(*u),
            V::Text(s) => Value::Text(s),
            V::Key(k) => Value::Key(*k),
        }
    }

    /// The text, `""` for anything else.
    pub fn str(&self) -> &str {
        match self {
            V::Text(s) => s,
            _ => "",
        }
    }

    /// The key, if this is one.
    pub fn key<T>(&self) -> Option<Key<T>> {
        self.raw_key().map(Key::from_raw)
    }

    /// The untyped key, if this is one.
    pub fn raw_key(&self) -> Option<RawKey> {
        match self {
            V::Key(k) => Some(*k),
            _ => None,
        }
    }

    /// How relata quotes the value in an error message: `'it''s'`, `42`, `3v1`; text over
    /// 64 bytes as its first whole chars within 64 bytes, then `...' (<length> bytes)`.
    pub fn sql_literal(&self) -> String {
        match self {
            V::Null => "NULL".to_owned(),
            V::Int(i) => i.to_string(),
            V::UInt(u) => u.to_string(),
            V::Text(s) if s.len() <= QUOTE_LIMIT => format!("'{}'", s.replace('\'', "''")),
            V::Text(s) => {
                let head: String = s
                    .chars()
                    .scan(0, |len, c| {
                        *len += c.len_utf8();
                        (*len <= QUOTE_LIMIT).then_some(c)
                    })
                    .collect();
                format!("'{}...' ({} bytes)", head.replace('\'', "''"), s.len())
            }
            V::Key(k) => k.to_string(),
        }
    }
}

/// Error messages quote at most this many bytes of a text value (whole chars only).
const QUOTE_LIMIT: usize = 64;

impl fmt::Debug for V {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            V::Null => f.write_str("NULL"),
            V::Int(i) => write!(f, "{i}"),
            V::UInt(u) => write!(f, "{u}u"),
            V::Text(s) if s.len() > 24 => write!(f, "<text of {} bytes>", s.len()),
            V::Text(s) => write!(f, "{s:?}"),
            V::Key(k) => write!(f, "#{k}"),
        }
    }
}

/// Whether a key names a live record, a deleted one, or nothing this store ever handed out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyState {
    /// A live record.
    Live,
    /// Handed out, then deleted.
    Stale,
    /// Never handed out.
    Missing,
}

/// One live record: its field values and, per foreign key, when its current link was made
/// (0 for NULL). Children are listed in ascending link time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MRecord {
    /// Field values in declaration order.
    pub values: Vec<V>,
    /// Per foreign key (in [`TableSpec::fks`] order): the link's time stamp.
    pub linked_at: Vec<u64>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct MTable {
    live: BTreeMap<RawKey, MRecord>,
    /// Every key ever handed out, oldest first.
    issued: Vec<RawKey>,
}

/// The pairs of one many-to-many relation, each with its link time.
pub type Pairs = BTreeMap<(RawKey, RawKey), u64>;

/// The reference model of a store over the [test schema](crate::schema): records, links,
/// open scopes (each with a copy of the state to return to) and pending faults.
#[derive(Clone, Debug)]
pub struct Model {
    tables: Vec<MTable>,
    /// The link clock: bumped for every link made (foreign keys and pairs alike).
    clock: u64,
    /// Per relation (in [`RELATIONS`] order): its pairs.
    links: Vec<Pairs>,
    /// Open transactions, savepoints and marks, outermost first.
    scopes: Vec<scope::MScope>,
    /// The next scope id.
    next_scope: u64,
    /// Pending `NthWrite` faults, in injection order: writes left until each fires.
    faults: Vec<usize>,
}

impl Default for Model {
    fn default() -> Self {
        Model::new()
    }
}

impl Model {
    /// An empty model.
    pub fn new() -> Model {
        Model {
            tables: vec![MTable::default(); TableId::ALL.len()],
            clock: 0,
            links: vec![Pairs::new(); RELATIONS.len()],
            scopes: Vec::new(),
            next_scope: 1,
            faults: Vec::new(),
        }
    }

    fn table(&self, t: TableId) -> &MTable {
        &self.tables[t as usize]
    }

    fn table_mut(&mut self, t: TableId) -> &mut MTable {
        &mut self.tables[t as usize]
    }

    /// `true` when both models hold the same live records with the same links (the
    /// observable state: what `Store`'s `==` compares).
    pub fn same_state(&self, other: &Model) -> bool {
        self.observable() == other.observable()
    }

    /// What `Store`'s `==` sees: each record's values, each parent's children in order, and
    /// each end's linked records in order (not the link times themselves).
    #[allow(clippy::type_complexity)]
    fn observable(
        &self,
    ) -> (
        Vec<Vec<(RawKey, &[V])>>,
        Vec<BTreeMap<RawKey, Vec<RawKey>>>,
        Vec<Vec<Vec<RawKey>>>,
    ) {
        let values = TableId::ALL
            .iter()
            .map(|&t| {
                self.live(t)
                    .iter()
                    .map(|(k, r)| (*k, r.values.as_slice()))
                    .collect()
            })
            .collect();
        let children = TableId::ALL
            .iter()
            .flat_map(|&t| (0..t.spec().fks.len()).map(move |fk| (t, fk)))
            .map(|(t, fk)| self.children_by_parent(t, fk))
            .collect();
        let links = (0..self.links.len())
            .map(|r| {
                let lefts: std::collections::BTreeSet<RawKey> = self.links[r].keys().map(|p| p.0).collect();
                let rights: std::collections::BTreeSet<RawKey> = self.links[r].keys().map(|p| p.1).collect();
                let mut out: Vec<Vec<RawKey>> = lefts.iter().map(|&l| self.rights(r, l)).collect();
                out.extend(rights.iter().map(|&rt| self.lefts(r, rt)));
                out.push(self.links[r].keys().flat_map(|p| [p.0, p.1]).collect());
                out
            })
            .collect();
        (values, children, links)
    }

    /// The ground truth a scope returns to: every table's live records, and every relation's
    /// pairs (keys handed out and the clock never go back).
    fn state(&self) -> (Vec<BTreeMap<RawKey, MRecord>>, Vec<Pairs>) {
        let live = self.tables.iter().map(|t| t.live.clone()).collect();
        (live, self.links.clone())
    }

    fn restore(&mut self, (live, links): (Vec<BTreeMap<RawKey, MRecord>>, Vec<Pairs>)) {
        for (t, l) in self.tables.iter_mut().zip(live) {
            t.live = l;
        }
        self.links = links;
    }

    /// The live records of a table, in key order.
    pub fn live(&self, t: TableId) -> &BTreeMap<RawKey, MRecord> {
        &self.table(t).live
    }

    /// Every key of a table ever handed out, oldest first.
    pub fn issued(&self, t: TableId) -> &[RawKey] {
        &self.table(t).issued
    }

    /// The parent of a live record through foreign key `fk` (`None` for NULL or a dead key).
    pub fn parent_of(&self, t: TableId, fk: usize, key: RawKey) -> Option<RawKey> {
        let field = t.spec().fks[fk].field;
        self.record(t, key).and_then(|r| r.values[field].raw_key())
    }

    /// Takes back a key recorded by an insert that failed after all (at its commit point).
    pub fn forget_last_issued(&mut self, t: TableId, key: RawKey) {
        if self.table(t).issued.last() == Some(&key) {
            self.table_mut(t).issued.pop();
        }
    }

    /// The record under `key`, if live.
    pub fn record(&self, t: TableId, key: RawKey) -> Option<&MRecord> {
        self.table(t).live.get(&key)
    }

    /// Live, stale (handed out, then deleted) or missing (never handed out).
    pub fn key_state(&self, t: TableId, key: RawKey) -> KeyState {
        if self.table(t).live.contains_key(&key) {
            KeyState::Live
        } else if self.table(t).issued.contains(&key) {
            KeyState::Stale
        } else {
            KeyState::Missing
        }
    }

    /// The error relata reports for a key that is not live.
    pub fn not_live_error(&self, t: TableId, key: RawKey) -> relata::Error {
        let table = t.spec().name;
        match self.key_state(t, key) {
            KeyState::Missing => relata::Error::NotFound { table, key },
            _ => relata::Error::Stale { table, key },
        }
    }

    /// The live children of `parent` through foreign key `fk` of table `t`, in link order.
    pub fn children(&self, t: TableId, fk: usize, parent: RawKey) -> Vec<RawKey> {
        self.children_by_parent(t, fk).remove(&parent).unwrap_or_default()
    }

    /// Every parent's live children through foreign key `fk` of table `t`, in link order
    /// (one pass; parents without children are absent).
    pub fn children_by_parent(&self, t: TableId, fk: usize) -> BTreeMap<RawKey, Vec<RawKey>> {
        let field = t.spec().fks[fk].field;
        let mut links: Vec<(RawKey, u64, RawKey)> = self
            .live(t)
            .iter()
            .filter_map(|(k, r)| Some((r.values[field].raw_key()?, r.linked_at[fk], *k)))
            .collect();
        links.sort();
        let mut map: BTreeMap<RawKey, Vec<RawKey>> = BTreeMap::new();
        for (parent, _, child) in links {
            map.entry(parent).or_default().push(child);
        }
        map
    }

    /// The live record whose `fields` equal `values`, none of them NULL (SQL semantics: a
    /// NULL never matches).
    pub fn holder(&self, t: TableId, fields: &[usize], values: &[V]) -> Option<RawKey> {
        self.matching(t, fields, values).into_iter().next()
    }

    /// Every live record whose `fields` equal `values` (none NULL), in key order.
    pub fn matching(&self, t: TableId, fields: &[usize], values: &[V]) -> Vec<RawKey> {
        self.matching_as(t, fields, values, false)
    }

    /// Every live record holding `values` under unique constraint `u` of table `t` (none
    /// NULL; with `nocase`, text equal ignoring ASCII case), in key order.
    pub fn unique_holders(&self, t: TableId, u: &UniqueSpec, values: &[V]) -> Vec<RawKey> {
        self.matching_as(t, u.fields, values, u.nocase)
    }

    fn matching_as(&self, t: TableId, fields: &[usize], values: &[V], nocase: bool) -> Vec<RawKey> {
        if values.contains(&V::Null) || fields.len() != values.len() {
            return Vec::new();
        }
        let same = |a: &V, b: &V| match (a, b) {
            (V::Text(a), V::Text(b)) if nocase => a.eq_ignore_ascii_case(b),
            _ => a == b,
        };
        self.live(t)
            .iter()
            .filter(|(_, r)| fields.iter().zip(values).all(|(&f, v)| same(&r.values[f], v)))
            .map(|(k, _)| *k)
            .collect()
    }
}
