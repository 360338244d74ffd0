//! Helpers for the end-to-end tests of `iamsim vultr`: runs of the binary with a sentinel API
//! key, and the adapter's own test helpers (a fake Vultr server, a client on a manual clock),
//! shared with `crates/vultr/tests/it`.

// This binary uses only part of the shared helpers; the adapter's tests use the rest.
#[allow(dead_code)]
#[path = "../crates/vultr/tests/it/support.rs"]
mod shared;

use iamsim_vultr::fake::FakeServer;

pub use shared::*;

use crate::util::{iamsim_with, Run};

/// The path of the small organization's file, for `--snapshot`.
pub fn small_file() -> String {
    format!(
        "{}/crates/vultr/tests/data/vultr-small.json",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// Runs `iamsim ARGS` with `VULTR_API_KEY` set to the sentinel.
pub fn iamsim_key(args: &[&str]) -> Run {
    iamsim_with(args, |c| {
        c.env("VULTR_API_KEY", SENTINEL)
            .env_remove("VULTR_API_KEY_FILE");
    })
}

/// `iamsim vultr SUBCOMMAND --base-url URL --rate 25 ARGS...` with the sentinel key.
pub fn vultr(subcommand: &str, server: &FakeServer, args: &[&str]) -> Run {
    let url = server.base_url();
    let mut all = vec!["vultr", subcommand, "--base-url", &url, "--rate", "25"];
    all.extend_from_slice(args);
    iamsim_key(&all)
}

/// Asserts that the sentinel key is in none of the run's output nor in any of `files`.
pub fn assert_no_key(run: &Run, files: &[&str]) {
    assert!(!run.stdout.contains(SENTINEL), "key on stdout: {run:#?}");
    assert!(!run.stderr.contains(SENTINEL), "key on stderr: {run:#?}");
    for file in files {
        if let Ok(bytes) = std::fs::read(file) {
            let text = String::from_utf8_lossy(&bytes);
            assert!(!text.contains(SENTINEL), "key in {file}");
        }
    }
}

/// A fresh empty directory under the target's temp directory.
pub fn temp_dir(name: &str) -> std::path::PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("iamsim-vultr-tests")
        .join(format!("{}-{n}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// The names of the files in `dir`.
pub fn files_in(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}
