//! The teaching guide's charts (`docs/read-path.md`) are committed under `docs/guide/`: a
//! folder per experiment the guide runs, with its `results.csv`, its `run.toml` and its SVG
//! charts. This test fails when they are stale:
//!
//! - the committed rows must still belong to the experiment and model files as they are now
//!   (`merge` verifies every row's `config_hash`, point, replication and seed);
//! - the charts drawn again from those rows must be the committed files, byte for byte (so a
//!   change to the chart code shows here);
//! - one cheap experiment (`factor-rtt`) is simulated again and must give the committed rows,
//!   a canary for changes to the model's code, which no hash of the files can see.
//!
//! Regenerate them all (about five minutes on two cores) with
//! `ETCDSIM_UPDATE_GUIDE=1 cargo test --release --test it guide`; with
//! `ETCDSIM_UPDATE_GUIDE=charts` it only draws the charts again from the committed rows.

use std::path::{Path, PathBuf};

use etcdsim::config::limits::Limits;
use etcdsim::runner::{merge, sweep};

use crate::support::{ROOT, etcdsim, scratch};

/// The experiments the guide quotes, as it says to run them.
fn experiments() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(Path::new(ROOT).join("experiments/factors"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    v.sort();
    v.push(Path::new(ROOT).join("experiments/read-vs-write-load.toml"));
    v
}

/// The files of an output folder the guide keeps.
fn kept(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n == "results.csv" || n == "run.toml" || n.ends_with(".svg"))
        .collect();
    names.sort();
    names
}

/// The experiment's file as the guide names it (relative to the repository), and its name.
fn named(path: &Path) -> (String, String) {
    let rel = path
        .strip_prefix(ROOT)
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let name = sweep::prepare(Path::new(&rel), &Limits::default())
        .unwrap()
        .name;
    (rel, name)
}

/// Runs `rel` (relative to the repository, as the guide's command does) into `out`.
fn run(rel: &str, out: &Path) {
    let o = etcdsim()
        .args(["run", rel, "--out"])
        .arg(out)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{rel}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

const REGENERATE: &str =
    "regenerate with: ETCDSIM_UPDATE_GUIDE=1 cargo test --release --test it guide";

#[test]
fn the_guides_charts_are_current() {
    // Paths are relative to the repository, as the guide's commands are: cargo runs the tests
    // there.
    let tmp = scratch("guide");
    let docs = Path::new(ROOT).join("docs/guide");
    let update = std::env::var_os("ETCDSIM_UPDATE_GUIDE");
    // `=charts` draws the charts again from the committed rows, simulating nothing.
    let redraw = update.as_deref() == Some(std::ffi::OsStr::new("charts"));
    let update = update.is_some();
    for path in experiments() {
        let (rel, name) = named(&path);
        let committed = docs.join(&name);
        if update {
            let out = tmp.join(&name);
            if redraw {
                merge::merge_shards(
                    Path::new(&rel),
                    std::slice::from_ref(&committed),
                    Some(&out),
                    false,
                )
                .unwrap();
            } else {
                run(&rel, &out);
            }
            let _ = std::fs::remove_dir_all(&committed);
            std::fs::create_dir_all(&committed).unwrap();
            for f in kept(&out) {
                std::fs::copy(out.join(&f), committed.join(&f)).unwrap();
            }
            continue;
        }
        assert!(
            committed.is_dir(),
            "{} is missing; {REGENERATE}",
            committed.display()
        );
        let again = tmp.join(format!("{name}-charts"));
        merge::merge_shards(
            Path::new(&rel),
            std::slice::from_ref(&committed),
            Some(&again),
            false,
        )
        .unwrap_or_else(|e| panic!("{name}: the committed rows are stale ({e}); {REGENERATE}"));
        let svgs = |d: &Path| -> Vec<String> {
            kept(d)
                .into_iter()
                .filter(|n| n.ends_with(".svg"))
                .collect()
        };
        assert_eq!(svgs(&committed), svgs(&again), "{name}: {REGENERATE}");
        for f in svgs(&again) {
            assert!(
                std::fs::read(committed.join(&f)).unwrap()
                    == std::fs::read(again.join(&f)).unwrap(),
                "docs/guide/{name}/{f} is not what the chart code draws from its rows; {REGENERATE}"
            );
        }
        if name == "factor-rtt" {
            let out = tmp.join(&name);
            run(&rel, &out);
            assert!(
                std::fs::read(committed.join("results.csv")).unwrap()
                    == std::fs::read(out.join("results.csv")).unwrap(),
                "{name}: the model now simulates other rows; {REGENERATE}"
            );
        }
    }
    let _ = std::fs::remove_dir_all(&tmp);
}
