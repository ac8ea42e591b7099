//! Replays the committed fuzz corpus (`fuzz/corpus/store_ops/`) through the same driver as
//! the `store_ops` fuzz target, so CI checks every input the fuzzer kept without running
//! a fuzzer (which needs nightly).

use std::fs;
use std::path::PathBuf;

use relata_testkit::{decode_ops, driver};

fn corpus(target: &str) -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

#[test]
fn store_ops_corpus_agrees_with_model() {
    let files = corpus("store_ops");
    assert!(!files.is_empty(), "the store_ops corpus is empty");
    let mut ops = 0;
    for file in &files {
        let data = fs::read(file).expect("a readable corpus file");
        match driver::run(&decode_ops(&data)) {
            Ok(stats) => ops += stats.ops,
            Err(failure) => panic!("{}:\n{failure}", file.display()),
        }
    }
    eprintln!("replayed {} corpus inputs, {ops} operations", files.len());
}
