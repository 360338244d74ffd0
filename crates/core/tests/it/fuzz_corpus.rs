//! The fuzz targets' seed corpus (`fuzz/corpus/<target>/`), replayed without the fuzzer: each
//! file goes through the same function its target calls (`testing::fuzz::*`), so CI keeps the
//! corpus green with the stable toolchain alone (robustness.md R-JSON-08, R-POL-11, R-SEM-01).
//! Inputs the fuzzer found a bug with are in the corpus too, and have a test of their own below.

use std::path::PathBuf;

use iamsim_core::testing::{fuzz, Violation};

fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).unwrap())
        })
        .collect();
    files.sort();
    files
}

fn replay(target: &str, check: fn(&[u8]) -> Vec<Violation>) {
    let files = corpus(target);
    assert!(files.len() >= 8, "{target}: the seed corpus is missing");
    for (name, bytes) in files {
        let violations = check(&bytes);
        assert!(violations.is_empty(), "{target}/{name}: {violations:#?}");
    }
}

#[test]
fn snapshot_corpus() {
    replay("snapshot", fuzz::snapshot);
}

#[test]
fn policy_corpus() {
    replay("policy", fuzz::policy);
}

#[test]
fn engine_corpus() {
    replay("engine", fuzz::engine);
}

/// The grammar oracle the policy target compares the parser with, on the cases of
/// robustness.md R-POL-07 and R-SEM-08.
#[test]
fn action_grammar_oracle() {
    // The length cap, at the edge.
    let cap = iamsim_core::policy::MAX_PATTERN_LEN;
    let at_cap = format!(
        "compute.instance.{}",
        "R".repeat(cap - "compute.instance.".len())
    );
    assert!(fuzz::action_grammar(&at_cap));
    assert!(!fuzz::action_grammar(&format!("{at_cap}R")));
    for ok in [
        "*",
        "compute.*",
        "compute.instance.*",
        "compute.instance.Create",
        "a-b.c_d.E-f",
    ] {
        assert!(fuzz::action_grammar(ok), "{ok}");
    }
    for bad in [
        "",
        "comp*te.instance.Create",
        "compute.*.Create",
        "compute.inst*",
        "**",
        "compute..Create",
        ".compute.instance.Create",
        "compute.instance.Create.",
        "compute.instance. Create",
        "compute.instance",
        "a.b.c.d",
        "a.b.c.*",
        "compute.instance.Créate",
    ] {
        assert!(!fuzz::action_grammar(bad), "{bad}");
    }
    assert!(fuzz::action_covers("compute.*", "compute.instance.*"));
    assert!(!fuzz::action_covers("compute.instance.*", "compute.*"));
    assert!(!fuzz::action_covers("compute.*", "computer.x.Y"));
}

/// Finding of the engine target: this input made the case generator loop forever, proptest's
/// pass-through source having run dry inside a sub-strategy (a stream of zeros is rejected for
/// ever by integer-range sampling). The bytes now run into a long pseudo-random tail.
#[test]
fn engine_case_generation_terminates() {
    let bytes = corpus("engine")
        .into_iter()
        .find(|(name, _)| name == "regression-exhausted-rng")
        .expect("the regression input is in the corpus")
        .1;
    let (done, wait) = std::sync::mpsc::channel();
    std::thread::spawn(move || done.send(fuzz::engine_case(&bytes).is_some()));
    let generated = wait.recv_timeout(std::time::Duration::from_secs(60));
    assert_eq!(generated, Ok(true), "no case within a minute");
}
