//! robustness.md "Pagination": `per_page` and `cursor` following `meta.links.next`, against the
//! fake's paging and its scripted misbehaviour.

use iamsim_vultr::fake::{FakeOptions, Fault, FaultAction};
use iamsim_vultr::{CrawlOptions, EventKind};

use crate::support::{
    as_crawled, demo, error_text, fetch_with, options, organization, requests_to, start,
    start_with, users_paged,
};

/// R-PAGE-01: a `next` of `""`, `null` or missing ends the listing (three cases).
#[test]
fn an_empty_null_or_missing_next_ends_the_listing() {
    for fault in [
        None,
        Some(FaultAction::PageNextNull),
        Some(FaultAction::PageNextMissing),
    ] {
        let (result, requests) = users_paged(2, fault.clone().into_iter().collect());
        let crawl = result.unwrap_or_else(|e| panic!("{fault:?}: {e}"));
        assert_eq!(crawl.snapshot.users.len(), 6, "{fault:?}");
        assert_eq!(requests, 3, "{fault:?}: three pages of two");
        assert!(crawl.info.consistent, "{fault:?}");
    }
}

/// R-PAGE-02: the same cursor twice is a pagination loop.
#[test]
fn a_repeated_cursor_is_a_loop() {
    let (result, requests) = users_paged(2, vec![FaultAction::PageRepeatCursor]);
    let text = error_text(result);
    assert!(
        text.contains("GET /v2/users: pagination loop: cursor"),
        "{text}"
    );
    assert!(requests <= 3, "{requests}");
}

/// R-PAGE-03: new cursors that bring only ids already seen are caught.
#[test]
fn new_cursors_with_the_same_items_are_caught() {
    let (result, requests) = users_paged(2, vec![FaultAction::PageRepeatItems]);
    let text = error_text(result);
    assert!(
        text.contains("page 2 holds only ids already seen"),
        "{text}"
    );
    assert_eq!(requests, 2);
}

/// R-PAGE-04: the last page served forever is caught in fewer than ceil(total/per_page)+5
/// requests.
#[test]
fn the_last_page_forever_is_caught() {
    let (result, requests) = users_paged(2, vec![FaultAction::PageLastForever]);
    let text = error_text(result);
    assert!(text.contains("holds only ids already seen"), "{text}");
    assert!(requests < 6usize.div_ceil(2) + 5, "{requests}");
}

/// R-PAGE-05: one empty page that names a next cursor is tolerated; a second is an error.
#[test]
fn one_empty_page_is_tolerated_two_are_not() {
    let server = start(
        demo(),
        vec![Fault::on("/users", FaultAction::PageEmptyWithNext).times(1)],
    );
    let per2 = CrawlOptions {
        per_page: 2,
        ..CrawlOptions::default()
    };
    let crawl = fetch_with(options(&server), &per2)
        .0
        .expect("tolerated once");
    assert_eq!(crawl.snapshot.users.len(), 6);
    assert_eq!(requests_to(&server, "/users"), 4);

    let server = start(
        demo(),
        vec![Fault::on("/users", FaultAction::PageEmptyWithNext).times(2)],
    );
    let text = error_text(fetch_with(options(&server), &per2).0);
    assert!(text.contains("second empty page"), "{text}");
}

/// R-PAGE-06: the same id on two pages with the same content is merged silently; with
/// different content it is a consistency event.
#[test]
fn duplicates_across_pages() {
    let clean = users_paged(2, vec![]).0.expect("clean");
    let (same, _) = users_paged(2, vec![FaultAction::PageDuplicate { changed: false }]);
    let same = same.expect("duplicates merge");
    assert!(same.info.consistent, "{:?}", same.info.events);
    assert_eq!(organization(&same.snapshot), organization(&clean.snapshot));

    let (changed, _) = users_paged(2, vec![FaultAction::PageDuplicate { changed: true }]);
    let changed = changed.expect("an event, not an error");
    assert!(!changed.info.consistent);
    assert!(changed
        .info
        .events
        .iter()
        .all(|e| e.kind == EventKind::DuplicateDiffers && e.endpoint == "GET /v2/users"));
    assert_eq!(changed.info.events.len(), 2, "{:?}", changed.info.events);
}

/// R-PAGE-08: page sizes 1, 2 and 7, asked by the client or forced by the server, give the same
/// snapshot as one large page.
#[test]
fn page_size_does_not_change_the_snapshot() {
    let server = start(demo(), vec![]);
    let one_page = fetch_with(options(&server), &CrawlOptions::default())
        .0
        .expect("crawl");
    assert_eq!(organization(&one_page.snapshot), as_crawled(&demo()));
    for per_page in [1, 2, 7] {
        let crawl_options = CrawlOptions {
            per_page,
            ..CrawlOptions::default()
        };
        let paged = fetch_with(options(&server), &crawl_options)
            .0
            .expect("crawl");
        assert_eq!(
            organization(&paged.snapshot),
            organization(&one_page.snapshot),
            "per_page {per_page}"
        );
        assert!(paged.info.consistent);
        assert!(
            paged.info.requests > one_page.info.requests,
            "per_page {per_page}"
        );

        let forced = start_with(
            demo(),
            FakeOptions {
                max_page_size: Some(per_page as usize),
                ..FakeOptions::default()
            },
        );
        let crawl = fetch_with(options(&forced), &CrawlOptions::default())
            .0
            .expect("crawl");
        assert_eq!(
            organization(&crawl.snapshot),
            organization(&one_page.snapshot),
            "server pages of {per_page}"
        );
    }
}

/// R-PAGE-10: a server that keeps sending pages of fresh ids is stopped at a ceiling naming the
/// endpoint: the listing's documented ceiling when `meta.total` is missing or past it, the
/// stated total (doubled, with room) when it is believable, and the crawl's byte budget.
#[test]
fn an_endless_listing_stops_at_its_ceiling() {
    use iamsim_vultr::CrawlLimits;
    assert_eq!(
        CrawlLimits::default(),
        CrawlLimits {
            users: 1_000_000,
            others: 100_000,
            total_items: 10_000_000,
            total_bytes: 1 << 30,
        }
    );
    let low = CrawlLimits {
        users: 1_000,
        ..CrawlLimits::default()
    };
    for (total, expected, max_requests) in [
        (
            None,
            "more than the limit of 1000 for this listing (no `meta.total`; the ceiling is 1000)",
            11,
        ),
        (Some(1_000_000_000_000), "past the ceiling of 1000", 11),
        (
            Some(20),
            "more than the limit of 1000 for this listing (`meta.total` says 20)",
            11,
        ),
    ] {
        let server = start(
            demo(),
            vec![Fault::on("/users", FaultAction::PageEndless { total })],
        );
        let crawl_options = CrawlOptions {
            limits: low,
            ..CrawlOptions::default()
        };
        let text = error_text(fetch_with(options(&server), &crawl_options).0);
        assert!(
            text.contains("GET /v2/users: 1100 distinct items read"),
            "{text}"
        );
        assert!(text.contains(expected), "{text}");
        assert!(requests_to(&server, "/users") <= max_requests);
    }

    let server = start(
        demo(),
        vec![Fault::on(
            "/users",
            FaultAction::PageEndless { total: None },
        )],
    );
    let crawl_options = CrawlOptions {
        limits: CrawlLimits {
            total_bytes: 100_000,
            ..CrawlLimits::default()
        },
        ..CrawlOptions::default()
    };
    let text = error_text(fetch_with(options(&server), &crawl_options).0);
    assert!(
        text.contains("GET /v2/users: the crawl has received"),
        "{text}"
    );
    assert!(
        text.contains("more than its limit of 100000 bytes"),
        "{text}"
    );

    let server = start(
        demo(),
        vec![Fault::on(
            "/users",
            FaultAction::PageEndless { total: None },
        )],
    );
    let crawl_options = CrawlOptions {
        limits: CrawlLimits {
            total_items: 500,
            ..CrawlLimits::default()
        },
        ..CrawlOptions::default()
    };
    let text = error_text(fetch_with(options(&server), &crawl_options).0);
    assert!(text.contains("more than its limit of 500"), "{text}");
}

/// Issue 12 item 6: a group's members come from the paged `GET /groups/{id}/members`, every
/// page followed, whether the client asks for small pages or the server caps them: the
/// snapshot is the organization, page after page; a member listing that loops is an error
/// naming it, as any other listing.
#[test]
fn long_member_lists_are_paged() {
    let mut org = demo();
    let everyone: Vec<String> = org.users.iter().map(|u| u.id.clone()).collect();
    org.groups[0].members = everyone; // g-devops: all 6 users
    for (per_page, cap, pages) in [
        (2, None, 3),
        (100, Some(4), 2),
        (1, None, 6),
        (100, None, 1),
    ] {
        let server = start_with(
            org.clone(),
            FakeOptions {
                max_page_size: cap,
                ..FakeOptions::default()
            },
        );
        let crawl_options = CrawlOptions {
            per_page,
            ..CrawlOptions::default()
        };
        let crawl = fetch_with(options(&server), &crawl_options)
            .0
            .unwrap_or_else(|e| panic!("{per_page}, {cap:?}: {e}"));
        assert_eq!(
            organization(&crawl.snapshot),
            as_crawled(&org),
            "{per_page}, {cap:?}"
        );
        assert!(crawl.info.consistent, "{:#?}", crawl.info.events);
        assert_eq!(
            requests_to(&server, "/groups/g-devops/members"),
            pages,
            "{per_page}, {cap:?}"
        );
        // The group's own object, whose `members` cannot be paged, is not read.
        assert_eq!(requests_to(&server, "/groups/g-devops"), 0);
    }

    let server = start(
        org,
        vec![Fault::on(
            "/groups/g-devops/members",
            FaultAction::PageRepeatCursor,
        )],
    );
    let crawl_options = CrawlOptions {
        per_page: 2,
        ..CrawlOptions::default()
    };
    let text = error_text(fetch_with(options(&server), &crawl_options).0);
    assert!(
        text.contains("GET /v2/groups/g-devops/members") && text.contains("pagination loop"),
        "{text}"
    );
}

/// An empty group's `members` may be `[]`, `null` or absent (not documented): each reads as
/// no members, on the crawl's paged listing, where any other `null` list is an error.
#[test]
fn an_empty_groups_members_may_be_null_or_missing() {
    use iamsim_vultr::fake::{EmptyMembers, Shapes};
    let mut org = demo();
    org.groups[2].members.clear(); // g-contractors
    for empty_members in [
        EmptyMembers::EmptyList,
        EmptyMembers::Null,
        EmptyMembers::Missing,
    ] {
        let server = start_with(
            org.clone(),
            FakeOptions {
                shapes: Shapes {
                    empty_members,
                    ..Shapes::default()
                },
                ..FakeOptions::default()
            },
        );
        let crawl =
            crate::support::fetch(&server).unwrap_or_else(|e| panic!("{empty_members:?}: {e}"));
        assert_eq!(
            organization(&crawl.snapshot),
            as_crawled(&org),
            "{empty_members:?}"
        );
        assert!(crawl.info.consistent, "{:#?}", crawl.info.events);
    }
}
