//! robustness.md "Pagination": `per_page` and `cursor` following `meta.links.next`, against the
//! fake's paging and its scripted misbehaviour.
//!
//! These run the `iamsim` binary; the adapter's own tests of the same area, through the
//! library, are in `crates/vultr/tests/it/page.rs`.

use iamsim_vultr::fake::{Fault, FaultAction};
use iamsim_vultr::{CrawlOptions, EventKind};

use crate::vultr_support::{demo, error_text, fetch_with, options, start, users_paged, vultr};

/// R-PAGE-07: `meta.total` unlike the number of distinct items is an event; under strict, an
/// error exit with no file.
#[test]
fn a_wrong_total_is_recorded() {
    let (result, _) = users_paged(100, vec![FaultAction::PageTotal { total: 99 }]);
    let crawl = result.expect("recorded, not fatal");
    assert!(!crawl.info.consistent);
    let event = &crawl.info.events[0];
    assert_eq!(event.kind, EventKind::TotalMismatch);
    assert!(event.message.contains("says 99 but 6"), "{event:?}");
    // The event is in the snapshot's `crawl` object too.
    let stored = crawl.snapshot.crawl.as_ref().unwrap();
    assert_eq!(stored["consistent"], false);
    assert_eq!(stored["events"][0]["kind"], "total_mismatch");

    let server = start(
        demo(),
        vec![Fault::on("/users", FaultAction::PageTotal { total: 99 })],
    );
    let strict = CrawlOptions {
        strict: true,
        ..CrawlOptions::default()
    };
    let text = error_text(fetch_with(options(&server), &strict).0);
    assert!(
        text.contains("1 consistency event(s) and strict is set"),
        "{text}"
    );

    let dir = crate::vultr_support::temp_dir("strict");
    let out = dir.join("org.json");
    vultr("fetch", &server, &["--strict", "-o", out.to_str().unwrap()])
        .expect_error(&["strict", "says 99 but 6"]);
    assert!(crate::vultr_support::files_in(&dir).is_empty());
}

/// R-PAGE-09: `per_page` is never sent above 500, the documented maximum.
#[test]
fn per_page_never_exceeds_the_maximum() {
    let server = start(demo(), vec![]);
    let big = CrawlOptions {
        per_page: 500,
        ..CrawlOptions::default()
    };
    fetch_with(options(&server), &big)
        .0
        .expect("500 is allowed");
    for request in server.requests() {
        if let Some(n) = request
            .query
            .split('&')
            .find_map(|p| p.strip_prefix("per_page="))
        {
            assert!(n.parse::<u32>().unwrap() <= 500, "{request:?}");
        }
    }
    let over = CrawlOptions {
        per_page: 501,
        ..CrawlOptions::default()
    };
    let text = error_text(fetch_with(options(&server), &over).0);
    assert!(text.contains("between 1 and 500"), "{text}");
    vultr("fetch", &server, &["--per-page", "501"]).expect_error(&["between 1 and 500"]);
}
