//! What a run exercised: outcomes of operations, counted by kind, for the property test's
//! summary and the long-run report.

use std::collections::BTreeMap;

use relata::Error;

use crate::model::{Model, TableId};

/// What an operation did, for statistics: both sides agreed on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// It succeeded; a delete reports how many records it deleted and keys it nulled.
    Ok {
        /// Records deleted (the requested one included).
        deleted: usize,
        /// Foreign keys set to NULL.
        nulled: usize,
    },
    /// It failed with this kind of error (the variant name).
    Failed(&'static str),
    /// Its closure panicked, and the driver caught it.
    Panicked,
}

pub(crate) fn error_kind(e: &Error) -> &'static str {
    match e {
        Error::UniqueViolation { .. } => "UniqueViolation",
        Error::MissingTarget { .. } => "MissingTarget",
        Error::DeletedTarget { .. } => "DeletedTarget",
        Error::NotFound { .. } => "NotFound",
        Error::Stale { .. } => "Stale",
        Error::Restricted { .. } => "Restricted",
        Error::RequiredReference { .. } => "RequiredReference",
        Error::Cycle { .. } => "Cycle",
        Error::DuplicateLink { .. } => "DuplicateLink",
        Error::NotLinked { .. } => "NotLinked",
        Error::NotAChild { .. } => "NotAChild",
        Error::NotOneToOne { .. } => "NotOneToOne",
        Error::TransactionOpen => "TransactionOpen",
        Error::NoTransaction => "NoTransaction",
        Error::UnknownSavepoint => "UnknownSavepoint",
        Error::UnknownMark => "UnknownMark",
        Error::EndsEnclosingScope { .. } => "EndsEnclosingScope",
        Error::CommitFailed { .. } => "CommitFailed",
        Error::Unavailable { .. } => "Unavailable",
        Error::FaultNotTriggered { .. } => "FaultNotTriggered",
        _ => "other",
    }
}

/// What a run (or many) exercised.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Operations applied and checked.
    pub ops: u64,
    /// Operations that succeeded.
    pub succeeded: u64,
    /// Failed operations by error kind (both sides agreeing).
    pub failed: BTreeMap<&'static str, u64>,
    /// Deletes that removed more than the requested record.
    pub cascades: u64,
    /// The most records one delete removed.
    pub largest_delete: usize,
    /// Foreign keys set to NULL by deletes.
    pub nulled: u64,
    /// The most live records seen at once.
    pub largest_store: usize,
    /// Caught panics of user closures (the store was as before each call).
    pub panics: u64,
    /// Per operation kind: (succeeded, failed, panicked).
    pub by_kind: BTreeMap<&'static str, [u64; 3]>,
}

impl Stats {
    pub(crate) fn record(&mut self, kind: &'static str, outcome: Outcome, model: &Model) {
        self.ops += 1;
        let counts = self.by_kind.entry(kind).or_default();
        match outcome {
            Outcome::Ok { .. } => counts[0] += 1,
            Outcome::Failed(_) => counts[1] += 1,
            Outcome::Panicked => counts[2] += 1,
        }
        match outcome {
            Outcome::Panicked => self.panics += 1,
            Outcome::Ok { deleted, nulled } => {
                self.succeeded += 1;
                self.cascades += u64::from(deleted > 1);
                self.largest_delete = self.largest_delete.max(deleted);
                self.nulled += nulled as u64;
            }
            Outcome::Failed(kind) => *self.failed.entry(kind).or_default() += 1,
        }
        let live = TableId::ALL.iter().map(|&t| model.live(t).len()).sum();
        self.largest_store = self.largest_store.max(live);
    }

    /// Adds another run's statistics.
    pub fn merge(&mut self, other: &Stats) {
        self.ops += other.ops;
        self.succeeded += other.succeeded;
        for (k, n) in &other.failed {
            *self.failed.entry(k).or_default() += n;
        }
        self.cascades += other.cascades;
        self.largest_delete = self.largest_delete.max(other.largest_delete);
        self.nulled += other.nulled;
        self.largest_store = self.largest_store.max(other.largest_store);
        self.panics += other.panics;
        for (k, n) in &other.by_kind {
            let mine = self.by_kind.entry(k).or_default();
            for (m, x) in mine.iter_mut().zip(n) {
                *m += x;
            }
        }
    }

    /// The per-kind counts as a table: operation, succeeded, failed, panicked.
    pub fn kind_table(&self) -> String {
        let mut out = format!(
            "{:<28} {:>10} {:>10} {:>9}\n",
            "operation", "ok", "failed", "panicked"
        );
        for (k, [ok, failed, panicked]) in &self.by_kind {
            out += &format!("{k:<28} {ok:>10} {failed:>10} {panicked:>9}\n");
        }
        out
    }
}
