//! Crash-safe snapshot files: write a temporary file in the target's directory, flush and
//! fsync it, rename it over the target, fsync the directory. A failure before the rename
//! leaves the previous snapshot untouched; after it, the target holds the complete new one.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::snapshot::SnapshotError;
use crate::store::Store;

/// A step of [`Store::save_to_path`], for injecting a failure at it in tests of crash safety.
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

pub(crate) fn io_error(step: &'static str, e: &std::io::Error) -> SnapshotError {
    SnapshotError::Io {
        step,
        kind: e.kind(),
        message: e.to_string(),
    }
}

impl Store {
    /// Saves a snapshot to `path` crash-safely (temporary file, fsync, rename, directory
    /// fsync). If any step fails, the previous file at `path` is left intact.
    ///
    /// # Errors
    /// [`SnapshotError::Io`] naming the failed step.
    pub fn save_to_path(&self, path: impl AsRef<Path>) -> Result<(), SnapshotError> {
        self.save_to_path_failing_at(path, None)
    }

    /// [`save_to_path`](Self::save_to_path) that fails on purpose at `step` (with an
    /// `Interrupted` I/O error), cleaning up as a real failure would. For crash-safety tests.
    ///
    /// # Errors
    /// The injected failure, or a real one.
    pub fn save_to_path_failing_at(
        &self,
        path: impl AsRef<Path>,
        step: Option<SaveStep>,
    ) -> Result<(), SnapshotError> {
        let bytes = self.to_snapshot()?;
        let path = path.as_ref();
        let temp = temp_path(path);
        let result = write_atomically(path, &temp, &bytes, step);
        if result.is_err() {
            let _ = std::fs::remove_file(&temp);
        }
        result
    }
}

fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map_or_else(|| "snapshot".into(), |n| n.to_string_lossy().into_owned());
    path.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}

fn write_atomically(
    path: &Path,
    temp: &Path,
    bytes: &[u8],
    fail: Option<SaveStep>,
) -> Result<(), SnapshotError> {
    // The injected failure happens instead of the step, as a real one would.
    let step = |step: SaveStep, op: &mut dyn FnMut() -> std::io::Result<()>| -> Result<(), SnapshotError> {
        if fail == Some(step) {
            let e = std::io::Error::new(std::io::ErrorKind::Interrupted, "injected failure");
            return Err(io_error(step.name(), &e));
        }
        op().map_err(|e| io_error(step.name(), &e))
    };
    let mut file = None;
    step(SaveStep::Create, &mut || {
        File::create(temp).map(|f| file = Some(f))
    })?;
    let Some(mut file) = file else {
        return Err(io_error("create", &std::io::ErrorKind::Other.into()));
    };
    step(SaveStep::Write, &mut || file.write_all(bytes))?;
    step(SaveStep::Flush, &mut || file.flush())?;
    step(SaveStep::Sync, &mut || file.sync_all())?;
    drop(file);
    step(SaveStep::Rename, &mut || std::fs::rename(temp, path))?;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    step(SaveStep::SyncDir, &mut || {
        File::open(dir).and_then(|d| d.sync_all())
    })
}
