//! Helpers for the adapter's tests: a fake Vultr server on loopback, a client on a manual
//! clock (so that waits are asked for, not slept), crawls, and checks that errors hold no key.
//!
//! The root package's end-to-end tests of `iamsim vultr` include this file too
//! (`tests/vultr_support.rs`), so that both test binaries serve the same fixtures.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use iamsim_core::Snapshot;
use iamsim_vultr::fake::{FakeOptions, FakeServer, Fault, FaultAction, PolicyUsers};
use iamsim_vultr::{crawl, ApiKey, Client, ClientOptions, Crawl, CrawlOptions, Error, ManualClock};

/// The API key of every test: it must never show anywhere.
pub const SENTINEL: &str = "SENTINEL-KEY-7c1e5b0a-never-print";

/// The demo organization (roles, trusts, a root, a suspended and a service user).
pub fn demo() -> Snapshot {
    Snapshot::from_json_str(include_str!("../../../cli/demo.json")).expect("demo loads")
}

/// A small organization, cheap to crawl at the real rate: 2 users, 2 groups, 2 policies.
pub fn small() -> Snapshot {
    Snapshot::from_json_str(include_str!("../data/vultr-small.json")).expect("fixture loads")
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

/// A fake whose `/policies/{id}/users` also lists users who hold the policy through a group
/// or a role, with these `assignment_type` values.
pub fn holders(
    snapshot: Snapshot,
    how: PolicyUsers,
    faults: Vec<Fault>,
) -> iamsim_vultr::fake::FakeServer {
    start_with(
        snapshot,
        FakeOptions {
            faults,
            policy_users: PolicyUsers {
                holders: true,
                ..how
            },
            ..FakeOptions::default()
        },
    )
}

/// A crawl of the demo (6 users) at `per_page`, with `faults` on `/users`.
pub fn users_paged(per_page: u32, faults: Vec<FaultAction>) -> (Result<Crawl, Error>, usize) {
    let server = start(
        demo(),
        faults.into_iter().map(|a| Fault::on("/users", a)).collect(),
    );
    let crawl_options = CrawlOptions {
        per_page,
        ..CrawlOptions::default()
    };
    let (result, _, _) = fetch_with(options(&server), &crawl_options);
    (result, requests_to(&server, "/users"))
}
