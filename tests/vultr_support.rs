//! Helpers for the Vultr adapter's tests: a fake Vultr server on loopback, a client on a
//! manual clock (so that waits are asked for, not slept), and runs of the binary with a
//! sentinel API key.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use iamsim_core::Snapshot;
use iamsim_vultr::fake::{FakeOptions, FakeServer, Fault};
use iamsim_vultr::{crawl, ApiKey, Client, ClientOptions, Crawl, CrawlOptions, Error, ManualClock};

use crate::util::{iamsim_with, Run};

/// The API key of every test: it must never show anywhere.
pub const SENTINEL: &str = "SENTINEL-KEY-7c1e5b0a-never-print";

/// The demo organization (roles, trusts, a root, a suspended and a service user).
pub fn demo() -> Snapshot {
    Snapshot::from_json_str(include_str!("../crates/cli/demo.json")).expect("demo loads")
}

/// A small organization, cheap to crawl at the real rate: 2 users, 2 groups, 2 policies.
pub fn small() -> Snapshot {
    Snapshot::from_json_str(include_str!("data/vultr-small.json")).expect("fixture loads")
}

/// A fake serving `snapshot` with `faults`.
pub fn start(snapshot: Snapshot, faults: Vec<Fault>) -> FakeServer {
    start_with(
        snapshot,
        FakeOptions {
            faults,
            ..FakeOptions::default()
        },
    )
}

/// A fake with options.
pub fn start_with(snapshot: Snapshot, options: FakeOptions) -> FakeServer {
    FakeServer::start(snapshot, options).expect("the fake starts on loopback")
}

/// Client options for `server`: the defaults, a short request timeout, a fixed jitter seed.
pub fn options(server: &FakeServer) -> ClientOptions {
    ClientOptions {
        base_url: server.base_url(),
        request_timeout: Duration::from_secs(5),
        jitter_seed: Some(7),
        ..ClientOptions::default()
    }
}

/// A client of `server` on a manual clock.
pub fn client(options: ClientOptions) -> (Client, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_774_000_000),
    ));
    let key = ApiKey::new(SENTINEL).expect("key");
    let client = Client::with_clock(key, options, clock.clone()).expect("client");
    (client, clock)
}

/// A crawl of `server` at the default rate on a manual clock.
pub fn fetch(server: &FakeServer) -> Result<Crawl, Error> {
    fetch_with(options(server), &CrawlOptions::default()).0
}

/// A crawl with the given options; also the clock and the client, to look at afterwards.
pub fn fetch_with(
    options: ClientOptions,
    crawl_options: &CrawlOptions,
) -> (Result<Crawl, Error>, Arc<ManualClock>, Client) {
    let (mut client, clock) = client(options);
    let result = crawl(&mut client, crawl_options, &mut |_| {});
    (result, clock, client)
}

/// The snapshot without its `crawl` object: the organization alone.
pub fn organization(snapshot: &Snapshot) -> Snapshot {
    let mut s = snapshot.clone();
    s.crawl = None;
    s
}

/// `original` as a crawl gives it back: sorted, and without an owner unless one is named.
pub fn as_crawled(original: &Snapshot) -> Snapshot {
    let mut s = organization(original);
    s.organization.root_user_id = None;
    // The fake serves unknown ACLs as none and API access as enabled; the crawl records what
    // it was sent (a suspended user `/users` leaves out stays unknown).
    for user in &mut s.users {
        user.acls.get_or_insert_with(Vec::new);
        user.api_enabled.get_or_insert(true);
    }
    iamsim_vultr::normalize(&mut s);
    s
}

/// Requests the fake received for `path` (after `/v2`, without the query).
pub fn requests_to(server: &FakeServer, path: &str) -> usize {
    server
        .requests()
        .iter()
        .filter(|r| r.path == format!("/v2{path}"))
        .count()
}

/// The error's text (its whole chain) and its hint, neither of which may hold the key.
pub fn error_and_hint(result: Result<Crawl, Error>) -> (String, String) {
    let Err(e) = result else {
        panic!("the crawl succeeded")
    };
    let hint = e.hint().unwrap_or_default();
    assert!(!hint.contains('\n'), "one line: {hint}");
    assert!(!hint.contains(SENTINEL), "the key leaked: {hint}");
    (error_text(Err(e)), hint)
}

/// The error's text, which must be one line and hold no key.
pub fn error_text(result: Result<Crawl, Error>) -> String {
    let text = match result {
        Ok(_) => panic!("the crawl succeeded"),
        Err(e) => iamsim_vultr::chain(&e),
    };
    assert!(!text.contains('\n'), "one line: {text}");
    assert!(!text.contains(SENTINEL), "the key leaked: {text}");
    text
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
