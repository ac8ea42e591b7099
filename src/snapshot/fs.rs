//! Crash-safe snapshot files: write a temporary file in the target's directory, flush and
//! fsync it, rename it over the target, fsync the directory. A failure before the rename
//! leaves the previous snapshot untouched; after it, the target holds the complete new one.
//! Each save has a temporary file of its own (process id and a per-process count), so saves
//! to one path from several threads or processes never share one: the last rename wins, with
//! a whole file. A save that fails removes its temporary file; one whose process was killed
//! leaves it, and the next save to that path removes it (see `remove_stale_temporaries`).

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::SnapshotError;
use crate::store::{Faults, Store};

/// A step of [`Store::save_to_path`], for injecting a failure at it in tests of crash safety
/// ([`Faults::save_to_path_failing_at`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SaveStep {
    /// Creating the temporary file.
    Create,
    /// Writing the bytes.
    Write,
    /// Flushing the file.
    Flush,
    /// `fsync` of the file.
    Sync,
    /// Renaming the temporary file over the target.
    Rename,
    /// `fsync` of the directory.
    SyncDir,
}

impl SaveStep {
    /// Every step, in order.
    pub const ALL: [SaveStep; 6] = [
        SaveStep::Create,
        SaveStep::Write,
        SaveStep::Flush,
        SaveStep::Sync,
        SaveStep::Rename,
        SaveStep::SyncDir,
    ];

    fn name(self) -> &'static str {
        match self {
            SaveStep::Create => "create",
            SaveStep::Write => "write",
            SaveStep::Flush => "flush",
            SaveStep::Sync => "sync",
            SaveStep::Rename => "rename",
            SaveStep::SyncDir => "sync-dir",
        }
    }
}

pub(crate) fn io_error(step: &'static str, e: &io::Error) -> SnapshotError {
    SnapshotError::Io {
        step,
        kind: e.kind(),
        message: e.to_string(),
    }
}

impl Store {
    /// Saves a snapshot to `path` crash-safely (temporary file, fsync, rename, directory
    /// fsync). If any step fails, the previous file at `path` is left intact and the temporary
    /// file is removed. Saves to one path from several threads or processes are each atomic:
    /// every reader sees a whole snapshot, and the last save to finish wins. A save killed
    /// midway leaves its temporary file (`.<name>.tmp-<pid>-<n>` beside `path`); on Linux the
    /// next save to `path` removes those of dead processes. O(records + text) plus the I/O.
    ///
    /// ```
    /// # use relata::{Entity, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct User { name: String }
    /// let schema = Schema::builder().entity::<User>().build()?;
    /// let mut store = Store::new(schema.clone());
    /// store.insert(User { name: "alice".into() })?;
    /// let path = std::env::temp_dir().join(format!("relata-doc-{}.snap", std::process::id()));
    /// store.save_to_path(&path)?;
    /// assert!(Store::load_from_path(schema, &path)? == store);
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`SnapshotError::Io`] naming the failed step.
    pub fn save_to_path(&self, path: impl AsRef<Path>) -> Result<(), SnapshotError> {
        self.save_failing_at(path.as_ref(), None)
    }

    fn save_failing_at(&self, path: &Path, fail: Option<SaveStep>) -> Result<(), SnapshotError> {
        let bytes = self.to_snapshot()?;
        remove_stale_temporaries(path);
        let temp = temp_path(path);
        let save = || {
            let mut file = step(SaveStep::Create, fail, || File::create(&temp))?;
            step(SaveStep::Write, fail, || file.write_all(&bytes))?;
            step(SaveStep::Flush, fail, || file.flush())?;
            step(SaveStep::Sync, fail, || file.sync_all())?;
            drop(file);
            step(SaveStep::Rename, fail, || std::fs::rename(&temp, path))?;
            step(SaveStep::SyncDir, fail, || {
                File::open(directory_of(path))?.sync_all()
            })
        };
        save().inspect_err(|_| drop(std::fs::remove_file(&temp)))
    }
}

impl Faults<'_> {
    /// [`Store::save_to_path`] that fails on purpose at `step` (with an `Interrupted` I/O
    /// error), cleaning up as a real failure would. For crash-safety tests. O(records + text)
    /// plus the I/O.
    ///
    /// ```
    /// # use relata::{Entity, SaveStep, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct User { name: String }
    /// let mut store = Store::new(Schema::builder().entity::<User>().build()?);
    /// let path = std::env::temp_dir().join(format!("relata-doc-fail-{}.snap", std::process::id()));
    /// assert!(store.faults().save_to_path_failing_at(&path, SaveStep::Rename).is_err());
    /// assert!(!path.exists());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// The injected failure, or a real one.
    pub fn save_to_path_failing_at(
        self,
        path: impl AsRef<Path>,
        step: SaveStep,
    ) -> Result<(), SnapshotError> {
        self.store.save_failing_at(path.as_ref(), Some(step))
    }
}

/// Saves started by this process: with its id, the count makes each temporary name unique.
static SAVES: AtomicU64 = AtomicU64::new(0);

/// The start of every temporary file name of saves to `path`: `.<name>.tmp-`.
fn temp_prefix(path: &Path) -> String {
    let name = path
        .file_name()
        .map_or_else(|| "snapshot".into(), |n| n.to_string_lossy().into_owned());
    format!(".{name}.tmp-")
}

/// A temporary file name for one save to `path`, in its directory: `.<name>.tmp-<pid>-<n>`.
fn temp_path(path: &Path) -> PathBuf {
    let n = SAVES.fetch_add(1, Ordering::Relaxed);
    path.with_file_name(format!("{}{}-{n}", temp_prefix(path), std::process::id()))
}

/// Removes the temporary files that saves to `path` left when their process died mid-save
/// (killed, or the machine stopped). A process counts as dead when `/proc/<pid>` does not
/// exist, so this runs on Linux only; elsewhere such files stay until removed by hand. Best
/// effort: errors are ignored (a file another save removed first is fine). Temporary files of
/// living processes (saves in progress) are never touched.
fn remove_stale_temporaries(path: &Path) {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let prefix = temp_prefix(path);
    let Ok(entries) = std::fs::read_dir(directory_of(path)) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let pid = (name.to_str().and_then(|n| n.strip_prefix(&prefix)))
            .and_then(|rest| rest.split('-').next()?.parse::<u32>().ok());
        if pid.is_some_and(|pid| !Path::new(&format!("/proc/{pid}")).exists()) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// The directory `path` is in (`.` for a bare file name).
fn directory_of(path: &Path) -> &Path {
    path.parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// Save step `step`: `op`, or, when `step` is the one to fail at, an `Interrupted` error
/// instead of it, as a real failure would happen.
fn step<T>(
    step: SaveStep,
    fail: Option<SaveStep>,
    op: impl FnOnce() -> io::Result<T>,
) -> Result<T, SnapshotError> {
    let result = match fail == Some(step) {
        true => Err(io::Error::new(io::ErrorKind::Interrupted, "injected failure")),
        false => op(),
    };
    result.map_err(|e| io_error(step.name(), &e))
}
