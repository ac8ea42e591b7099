//! The summary: one line per (operation, size), printed as a table and written as CSV to
//! `target/compare/summary.csv`; every sample goes to `target/compare/samples.csv`.

use std::fmt::Write as _;
use std::path::PathBuf;

use crate::harness::{median, Samples};
use crate::memory::SYSTEMS;

/// The column names, shared by the table and the CSV.
pub const HEADER: [&str; 7] = [
    "op",
    "size",
    "relata_ns",
    "sqlite_ns",
    "baseline_ns",
    "sqlite_over_relata",
    "relata_over_baseline",
];

/// One line of the summary. For `memory_per_user` the values are bytes per user.
pub struct Line {
    pub op: &'static str,
    pub size: usize,
    /// relata, SQLite, baseline: one sample per repetition.
    pub samples: Samples,
}

impl Line {
    fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
        Some(a? / b?).filter(|r| r.is_finite())
    }

    /// The seven cells, formatted.
    fn cells(&self) -> [String; 7] {
        let [relata, sqlite, baseline] = self.samples.each_ref().map(|s| median(s));
        [
            self.op.to_string(),
            self.size.to_string(),
            value(relata),
            value(sqlite),
            value(baseline),
            ratio(Self::ratio(sqlite, relata)),
            ratio(Self::ratio(relata, baseline)),
        ]
    }
}

/// A measurement with about four significant digits, or `n/a`.
fn value(v: Option<f64>) -> String {
    match v {
        None => "n/a".into(),
        Some(v) if v < 10.0 => format!("{v:.2}"),
        Some(v) if v < 1000.0 => format!("{v:.1}"),
        Some(v) => format!("{v:.0}"),
    }
}

/// A ratio with three significant digits, or `n/a`.
fn ratio(r: Option<f64>) -> String {
    match r {
        None => "n/a".into(),
        Some(r) if r < 10.0 => format!("{r:.2}"),
        Some(r) if r < 100.0 => format!("{r:.1}"),
        Some(r) => format!("{r:.0}"),
    }
}

/// Prints the table (aligned columns) to stdout.
pub fn print_table(lines: &[Line]) {
    let rows: Vec<[String; 7]> = lines.iter().map(Line::cells).collect();
    let mut widths = HEADER.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.len());
        }
    }
    let mut out = String::new();
    let header = HEADER.map(String::from);
    for row in std::iter::once(&header).chain(&rows) {
        for (i, (cell, w)) in row.iter().zip(widths).enumerate() {
            let _ = match i {
                0 => write!(out, "{cell:<w$}"),
                _ => write!(out, " {cell:>w$}"),
            };
        }
        out.push('\n');
    }
    print!("{out}");
}

/// Where the CSV goes: `$CARGO_TARGET_DIR/compare/summary.csv`, else `target/` of this crate.
pub fn csv_path() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join("compare").join("summary.csv")
}

/// Every sample: `op,size,system,samples` (space-separated, in repetition order).
fn samples_csv(lines: &[Line]) -> String {
    let mut csv = String::from("op,size,system,samples\n");
    for line in lines {
        for (system, samples) in SYSTEMS.iter().zip(&line.samples) {
            let list: Vec<String> = samples.iter().map(|v| format!("{v:.1}")).collect();
            let _ = writeln!(csv, "{},{},{system},{}", line.op, line.size, list.join(" "));
        }
    }
    csv
}

/// Writes the summary and samples CSVs; returns the summary's path.
pub fn write_csv(lines: &[Line]) -> std::io::Result<PathBuf> {
    let mut csv = HEADER.join(",") + "\n";
    for line in lines {
        csv += &line.cells().join(",");
        csv.push('\n');
    }
    let path = csv_path();
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&path, csv)?;
    std::fs::write(path.with_file_name("samples.csv"), samples_csv(lines))?;
    Ok(path)
}
