//! robustness.md "Snapshot consistency and referential integrity": what the crawl records
//! about itself, and what it does when the organization changes under it.
//!
//! These run the `iamsim` binary; the adapter's own tests of the same area, through the
//! library, are in `crates/vultr/tests/it/consistency.rs`.

use iamsim_vultr::fake::{Fault, FaultAction};
use iamsim_vultr::{CrawlOptions, EventKind};

use crate::vultr_support::{assert_no_key, demo, fetch, fetch_with, options, start, vultr};

/// R-CONS-04, and the fault "an item deleted mid-crawl": data changing between page fetches
/// leaves a finished crawl marked inconsistent, with its events; a re-crawl converges.
#[test]
fn changes_during_the_crawl() {
    // A user deleted between the first and second page of `/users`.
    let delete = FaultAction::DeleteUser { id: "u-ana".into() };
    let fault = Fault::on("/users", delete).skip(1).times(1);
    let server = start(demo(), vec![fault.clone()]);
    let per2 = CrawlOptions {
        per_page: 2,
        ..CrawlOptions::default()
    };
    let crawl = fetch_with(options(&server), &per2)
        .0
        .expect("the crawl finishes");
    assert!(!crawl.info.consistent);
    let kinds: Vec<EventKind> = crawl.info.events.iter().map(|e| e.kind).collect();
    assert!(kinds.contains(&EventKind::TotalChanged), "{kinds:?}");
    assert!(kinds.contains(&EventKind::TotalMismatch), "{kinds:?}");

    // A group deleted after `/groups` listed it, just before its own read.
    let delete = FaultAction::DeleteGroup {
        id: "g-devops".into(),
    };
    let server = start(
        demo(),
        vec![Fault::on("/groups/g-devops/members", delete).times(1)],
    );
    let crawl = fetch(&server).expect("the crawl finishes");
    assert_eq!(crawl.info.events.len(), 1, "{:?}", crawl.info.events);
    assert_eq!(crawl.info.events[0].kind, EventKind::Gone);
    assert!(crawl.snapshot.groups.iter().all(|g| g.id != "g-devops"));

    // Through the binary: --recrawl 1 crawls again, and the second crawl is consistent.
    let server = start(demo(), vec![fault]);
    let dir = crate::vultr_support::temp_dir("recrawl");
    let out = dir.join("org.json");
    let out = out.to_str().unwrap();
    let run = vultr(
        "fetch",
        &server,
        &["--per-page", "2", "--recrawl", "1", "-o", out],
    );
    run.expect_code(0);
    assert!(run.stderr.contains("crawling again (1 of 1)"), "{run:#?}");
    assert!(run.stderr.contains("; consistent"), "{run:#?}");
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out).unwrap()).unwrap();
    assert_eq!(written["crawl"]["attempts"], 2);
    assert_eq!(written["crawl"]["consistent"], true);
    assert!(written["users"]
        .as_array()
        .unwrap()
        .iter()
        .all(|u| u["id"] != "u-ana"));
    assert_no_key(&run, &[out]);

    // Without --recrawl: written, with the events as warnings.
    let server = start(
        demo(),
        vec![Fault::on("/users", FaultAction::PageTotal { total: 7 })],
    );
    let run = vultr("fetch", &server, &["-o", out]);
    run.expect_code(0);
    assert!(
        run.warnings().iter().any(|w| w.contains("says 7 but 6")),
        "{run:#?}"
    );
    assert!(
        run.stderr.contains("NOT consistent (1 event(s))"),
        "{run:#?}"
    );
}
