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

/// Replays `fuzz/corpus/snapshot_load/` through the `snapshot_load` property: each input
/// loads (and passes its integrity check and a round trip) or is refused with an error.
/// `RELATA_BLESS=1` rewrites the seeds: snapshots of stores built by pseudo-random
/// operation sequences, then a few corrupted copies.
#[test]
fn snapshot_load_corpus_loads_or_errs() {
    if std::env::var_os("RELATA_BLESS").is_some() {
        write_snapshot_seeds();
    }
    let files = corpus("snapshot_load");
    assert!(!files.is_empty(), "the snapshot_load corpus is empty");
    for file in &files {
        let data = fs::read(file).expect("a readable corpus file");
        relata_testkit::snapshot::check_snapshot_bytes(&data);
    }
    eprintln!("replayed {} snapshot inputs", files.len());
}

fn write_snapshot_seeds() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/snapshot_load");
    fs::create_dir_all(&dir).unwrap();
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    for seed in 0..8 {
        let bytes: Vec<u8> = (0..600 * seed + 1)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect();
        let store = relata_testkit::snapshot::store_after(&decode_ops(&bytes));
        let snap = store.to_snapshot().unwrap();
        fs::write(dir.join(format!("seed-{seed}")), &snap).unwrap();
        let mut flipped = snap.clone();
        let at = flipped.len() / 2;
        flipped[at] ^= 0x10;
        fs::write(dir.join(format!("seed-{seed}-flipped")), &flipped).unwrap();
        fs::write(dir.join(format!("seed-{seed}-cut")), &snap[..snap.len() * 2 / 3]).unwrap();
    }
}
