//! robustness.md "HTTP and transport", against the fake Vultr server over real HTTP on
//! loopback. Waits go through a manual clock: a `Retry-After: 2` is asked for, not slept.

use std::time::Duration;

use iamsim_vultr::fake::{Fault, FaultAction};
use iamsim_vultr::{ClientOptions, CrawlOptions, EventKind, HttpError};

use crate::support::{
    client, demo, error_text, fetch, fetch_with, options, requests_to, small, start,
};

fn status(status: u16) -> FaultAction {
    FaultAction::Status {
        status,
        retry_after: None,
        body: None,
    }
}

fn rate_limited(retry_after: &str) -> FaultAction {
    FaultAction::Status {
        status: 429,
        retry_after: Some(retry_after.to_string()),
        body: None,
    }
}

/// R-HTTP-03: 404 on a list endpoint is an error about the endpoint or API version.
#[test]
fn not_found_on_a_list_is_an_error() {
    let server = start(small(), vec![Fault::on("/groups", status(404))]);
    let (text, hint) = crate::support::error_and_hint(fetch(&server));
    assert!(text.contains("GET /v2/groups"), "{text}");
    assert!(text.contains("endpoint not found"), "{text}");
    assert!(
        hint.contains("base URL") && hint.contains("API version"),
        "{hint}"
    );
}

/// R-HTTP-04: 404 on the detail read of a just-listed item is a consistency event; the crawl
/// goes on. A 404 on a per-item endpoint whose item still exists is an error instead.
#[test]
fn not_found_on_a_detail_read_is_an_event() {
    // The group's members answer 404, and so does the group itself.
    let server = start(demo(), vec![Fault::on("/groups/g-billing*", status(404))]);
    let crawl = fetch(&server).expect("the crawl continues");
    assert!(!crawl.info.consistent);
    let event = &crawl.info.events[0];
    assert_eq!(event.kind, EventKind::Gone);
    assert!(event.endpoint.ends_with("/groups/g-billing"), "{event:?}");
    assert!(crawl.snapshot.groups.iter().all(|g| g.id != "g-billing"));
    assert_eq!(crawl.snapshot.groups.len(), 2);

    let server = start(
        demo(),
        vec![Fault::on("/groups/g-billing/roles", status(404))],
    );
    let text = error_text(fetch(&server));
    assert!(
        text.contains("GET /v2/groups/g-billing/roles") && text.contains("404"),
        "{text}"
    );
}

/// R-HTTP-05: 429 with `Retry-After: 2`, then 200: exactly one retry, after a wait of at least
/// 2 s asked of the clock.
#[test]
fn retry_after_seconds_is_honoured() {
    let server = start(
        small(),
        vec![Fault::on("/users", rate_limited("2")).times(1)],
    );
    let (result, clock, client) = fetch_with(options(&server), &CrawlOptions::default());
    result.expect("success after the retry");
    assert_eq!(client.stats().retries, 1);
    assert_eq!(requests_to(&server, "/users"), 2);
    assert!(
        clock.sleeps().contains(&Duration::from_secs(2)),
        "{:?}",
        clock.sleeps()
    );
}

/// R-HTTP-06: an HTTP-date `Retry-After` is parsed and honoured.
#[test]
fn retry_after_date_is_honoured() {
    // The manual clock starts at a known time; the date is 30 s after it.
    let start_time = std::time::UNIX_EPOCH + Duration::from_secs(1_774_000_000);
    let date = httpdate(start_time + Duration::from_secs(30));
    let server = start(
        small(),
        vec![Fault::on("/organizations", rate_limited(&date)).times(1)],
    );
    let (result, clock, client) = fetch_with(options(&server), &CrawlOptions::default());
    result.expect("success after the retry");
    assert_eq!(client.stats().retries, 1);
    // The first request is the one limited, at the clock's start: the wait is the full 30 s.
    assert_eq!(clock.sleeps()[0], Duration::from_secs(30));
}

fn httpdate(time: std::time::SystemTime) -> String {
    // Formatted by hand so that the test does not share the client's parser.
    let secs = time
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert_eq!(secs, 1_774_000_030, "the fixed instant below");
    "Fri, 20 Mar 2026 09:47:10 GMT".to_string()
}

/// R-HTTP-08: `Retry-After: 86400` is over the cap: no wait, an error naming the cap.
#[test]
fn retry_after_over_the_cap_fails_at_once() {
    let server = start(
        small(),
        vec![Fault::on("/organizations", rate_limited("86400"))],
    );
    let (result, clock, _) = fetch_with(options(&server), &CrawlOptions::default());
    let text = error_text(result);
    assert!(
        text.contains("86400 s") && text.contains("cap of 60 s"),
        "{text}"
    );
    assert_eq!(clock.sleeps(), Vec::<Duration>::new());
    assert_eq!(server.requests().len(), 1);
}

/// R-HTTP-10: 500, 502, 503 and 504 twice then 200 succeed; always 503 fails after the cap.
#[test]
fn server_errors_are_retried() {
    for code in [500, 502, 503, 504] {
        let server = start(small(), vec![Fault::on("/groups", status(code)).times(2)]);
        let (result, _, client) = fetch_with(options(&server), &CrawlOptions::default());
        result.unwrap_or_else(|e| panic!("{code}: {e}"));
        assert_eq!(client.stats().retries, 2, "{code}");
    }
    let server = start(small(), vec![Fault::on("/groups", status(503))]);
    let text = error_text(fetch(&server));
    assert!(
        text.contains("server error 503 on all 5 attempt(s)"),
        "{text}"
    );
    assert_eq!(requests_to(&server, "/groups"), 5);
}

fn quick(server: &iamsim_vultr::fake::FakeServer) -> ClientOptions {
    ClientOptions {
        request_timeout: Duration::from_millis(400),
        max_attempts: 2,
        ..options(server)
    }
}

/// R-HTTP-11: a server that accepts and never answers: the per-request timeout fires on each
/// try, and the overall timeout bounds the whole.
#[test]
fn a_silent_server_times_out() {
    let server = start(
        small(),
        vec![Fault::on("/organizations", FaultAction::Hang)],
    );
    let (result, _, _) = fetch_with(quick(&server), &CrawlOptions::default());
    let text = error_text(result);
    assert!(
        text.contains("timed out") && text.contains("400 ms") && text.contains("2 attempt"),
        "{text}"
    );
    assert_eq!(requests_to(&server, "/organizations"), 2);

    // The overall timeout: spent on the (manual) clock, no new request goes out.
    let server = start(small(), vec![]);
    let (mut client, clock) = client(ClientOptions {
        total_timeout: Some(Duration::from_secs(60)),
        ..options(&server)
    });
    client.get_json("/users").expect("first request");
    clock.advance(Duration::from_secs(61));
    let e = iamsim_vultr::chain(&client.get_json("/users").unwrap_err());
    assert!(e.contains("overall timeout of 60 s"), "{e}");
    assert_eq!(server.requests().len(), 1);
}

/// R-HTTP-12: a body trickling in one byte at a time ends in a timeout, not a hang.
#[test]
fn a_trickling_body_times_out() {
    let action = FaultAction::Trickle {
        millis_per_byte: 50,
    };
    let server = start(small(), vec![Fault::on("/users", action)]);
    let (result, _, _) = fetch_with(quick(&server), &CrawlOptions::default());
    let text = error_text(result);
    assert!(
        text.contains("GET /v2/users") && text.contains("timed out"),
        "{text}"
    );
}

/// R-HTTP-13: a body shorter than its `Content-Length`, or a chunked body cut off, is
/// transient: retried, then fine.
#[test]
fn broken_bodies_are_retried() {
    for action in [FaultAction::Truncate { keep_bytes: 10 }, FaultAction::Reset] {
        let server = start(small(), vec![Fault::on("/users", action.clone()).times(1)]);
        let (result, _, client) = fetch_with(options(&server), &CrawlOptions::default());
        result.unwrap_or_else(|e| panic!("{action:?}: {e}"));
        assert_eq!(client.stats().retries, 1, "{action:?}");
        assert_eq!(requests_to(&server, "/users"), 2, "{action:?}");
    }
}

/// R-HTTP-14: a 200 with `text/html` is "unexpected content type" with a clean body prefix,
/// not JSON-parse noise.
#[test]
fn html_is_not_json() {
    let body = "<html>\n<body>Maintenance \x1b[31m window</body></html>".to_string();
    let action = FaultAction::Body {
        status: 200,
        content_type: "text/html; charset=utf-8".into(),
        body,
    };
    let server = start(small(), vec![Fault::on("/users", action)]);
    let text = error_text(fetch(&server));
    assert!(
        text.contains("unexpected content type `text/html`, expected JSON"),
        "{text}"
    );
    assert!(text.contains("<html> <body>Maintenance"), "{text}");
    assert!(!text.contains('\x1b') && !text.contains("line 1"), "{text}");
}

/// R-HTTP-15: a redirect to another host is not followed; that host receives nothing.
#[test]
fn redirects_are_not_followed() {
    let elsewhere = start(small(), vec![]);
    let location = format!("{}/users", elsewhere.base_url());
    let action = FaultAction::Redirect {
        status: 302,
        location: location.clone(),
    };
    let server = start(small(), vec![Fault::on("/users", action)]);
    let text = error_text(fetch(&server));
    assert!(
        text.contains("redirected (302)") && text.contains(&location),
        "{text}"
    );
    assert_eq!(elsewhere.requests().len(), 0);
}

/// The error for each failing status class, as the library reports it.
#[test]
fn error_kinds() {
    type Check = fn(&HttpError) -> bool;
    let cases: &[(u16, Check)] = &[
        (401, |e| matches!(e, HttpError::Unauthorized { .. })),
        (403, |e| matches!(e, HttpError::Forbidden { .. })),
        (404, |e| matches!(e, HttpError::NotFound { .. })),
        (400, |e| matches!(e, HttpError::Status { status: 400, .. })),
    ];
    for (code, check) in cases {
        let server = start(small(), vec![Fault::on("/organizations", status(*code))]);
        let e = fetch(&server).unwrap_err();
        assert!(e.http_cause().is_some_and(check), "{code}: {e:?}");
        assert_eq!(server.requests().len(), 1, "{code}: not retried");
    }
}
