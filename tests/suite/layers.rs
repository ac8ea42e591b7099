//! The layering rules `docs/ARCHITECTURE.md` states, checked on the source: the store layer
//! never imports the persistence layer above it, slotmap's key layout is read in `key.rs`
//! only, and no build profile picks a code path.

use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`, with its text.
fn sources(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read a source directory") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("read a source file");
                out.push((path, text));
            }
        }
    }
    out
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The files under `src/` whose text holds `needle`, as paths relative to `src/`.
fn holding(needle: &str) -> Vec<String> {
    let root = src();
    let mut found: Vec<String> = sources(&root)
        .into_iter()
        .filter(|(_, text)| text.contains(needle))
        .map(|(path, _)| path.strip_prefix(&root).expect("under src").display().to_string())
        .collect();
    found.sort();
    found
}

#[test]
fn nothing_below_the_snapshot_layer_imports_it() {
    let below = ["store", "index", "relation"];
    let offending: Vec<String> = holding("snapshot::")
        .into_iter()
        .filter(|path| below.iter().any(|dir| path.starts_with(dir)))
        .collect();
    assert!(
        offending.is_empty(),
        "store-layer files naming snapshot/: {offending:?}"
    );
}

#[test]
fn slotmap_key_layout_is_read_in_key_rs_only() {
    for needle in ["as_ffi", "from_ffi"] {
        assert_eq!(holding(needle), ["key.rs"], "{needle}");
    }
}

#[test]
fn no_build_profile_chooses_a_code_path() {
    assert_eq!(holding("cfg!(debug_assertions)"), Vec::<String>::new());
}
