//! robustness.md "Snapshot consistency and referential integrity": what the crawl records
//! about itself, and what it does when the organization changes under it.

use iamsim_core::{Catalogue, Org};
use iamsim_vultr::fake::{Fault, FaultAction};
use iamsim_vultr::{CrawlOptions, EventKind};

use crate::support::{demo, fetch, fetch_with, options, organization, small, start, SENTINEL};

fn is_rfc3339_utc(text: &str) -> bool {
    let b = text.as_bytes();
    text.len() == 24
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && b[19] == b'.'
        && text.ends_with('Z')
}

/// R-CONS-01: the snapshot records the crawl's start and end, counts, `per_page`, the tool's
/// version, requests and a `consistent` flag, and no secret.
#[test]
fn the_crawl_object() {
    let server = start(demo(), vec![]);
    let crawl = fetch(&server).expect("crawl");
    let info = crawl.snapshot.crawl.as_ref().expect("crawl object");
    for field in ["started", "ended"] {
        let text = info[field].as_str().unwrap();
        assert!(is_rfc3339_utc(text), "{field}: {text}");
    }
    assert!(info["started"].as_str() <= info["ended"].as_str());
    assert_eq!(info["per_page"], 100);
    assert_eq!(info["rate_per_second"], 10.0);
    assert_eq!(info["consistent"], true);
    assert_eq!(info["events"], serde_json::json!([]));
    assert_eq!(info["attempts"], 1);
    assert!(info["tool"]
        .as_str()
        .unwrap()
        .ends_with(env!("CARGO_PKG_VERSION")));
    assert_eq!(info["requests"], server.requests().len() as u64);
    let counts = &info["counts"];
    let expected = serde_json::json!({
        "users": 6, "service_users": 1, "suspended_users": 1, "groups": 3, "memberships": 6,
        "roles": 3, "policies": 10, "role_trusts": 1
    });
    assert_eq!(counts, &expected);
    let text = serde_json::to_string(&crawl.snapshot).unwrap();
    assert!(!text.contains(SENTINEL));
    // The written snapshot reads back and compiles.
    let back = iamsim_core::Snapshot::from_json_str(&text).expect("reads back");
    Org::compile(&back, &Catalogue::bundled()).expect("compiles");
}

/// R-CONS-02: a membership naming a user no listing has: an event; the engine turns it into a
/// dangling-reference diagnostic that grants nothing; under strict, an error.
#[test]
fn a_member_nobody_lists() {
    let mut org = small();
    org.groups[0].members.push("u-ghost".into());
    let server = start(org, vec![]);
    let crawl = fetch(&server).expect("crawl");
    assert!(!crawl.info.consistent);
    let event = &crawl.info.events[0];
    assert_eq!(event.kind, EventKind::UnknownReference);
    assert!(event.message.contains("member `u-ghost`"), "{event:?}");
    let compiled = Org::compile(&crawl.snapshot, &Catalogue::bundled()).expect("compiles");
    assert!(compiled
        .diagnostics()
        .iter()
        .any(|d| d.code == "dangling-reference" && d.message.contains("u-ghost")));

    let strict = CrawlOptions {
        strict: true,
        ..CrawlOptions::default()
    };
    let e = fetch_with(options(&server), &strict).0.unwrap_err();
    assert!(e.to_string().contains("strict"), "{e}");
}

/// R-CONS-03: a role attached to a group through one view only, a role deleted during the
/// crawl: events, and no edge to what is gone.
#[test]
fn attachments_to_missing_or_deleted_entities() {
    // The group's own view names a role `/roles` does not have.
    let body = r#"{"roles": {"all": [{"id": "r-net-operator"}, {"id": "r-ghost"}], "inherited": [],
        "direct": [{"id": "r-net-operator"}, {"id": "r-ghost"}]}, "meta": {"total": 2}}"#;
    let view = FaultAction::Body {
        status: 200,
        content_type: "application/json".into(),
        body: body.into(),
    };
    let crawl = fetch(&start(
        demo(),
        vec![Fault::on("/groups/g-devops/roles", view)],
    ))
    .expect("crawl");
    assert!(crawl
        .info
        .events
        .iter()
        .any(|e| e.kind == EventKind::ViewMismatch && e.message.contains("`r-ghost`")));
    assert!(crawl.info.events.len() == 1, "{:?}", crawl.info.events);

    // A role deleted after `/roles` listed it, before its policies were read.
    let delete = FaultAction::DeleteRole {
        id: "r-net-operator".into(),
    };
    // The first per-role read (of `r-viewer`) deletes `r-net-operator`, read next.
    let server = start(demo(), vec![Fault::on("/roles/*", delete).times(1)]);
    let crawl = fetch(&server).expect("crawl");
    let gone: Vec<_> = crawl
        .info
        .events
        .iter()
        .filter(|e| e.kind == EventKind::Gone)
        .collect();
    assert_eq!(gone.len(), 1, "{:?}", crawl.info.events);
    assert!(
        gone[0].endpoint.ends_with("/roles/r-net-operator"),
        "{gone:?}"
    );
    assert!(crawl
        .snapshot
        .roles
        .iter()
        .all(|r| r.id != "r-net-operator"));
    assert!(crawl
        .snapshot
        .groups
        .iter()
        .all(|g| !g.roles.contains(&"r-net-operator".to_string())));
}

/// Role trusts without a role id (as Vultr's SDK shows them) are resolved through
/// `/role-trusts/by-role/{id}`; with a role id, they are not.
#[test]
fn role_trusts_are_resolved() {
    let server = start(demo(), vec![]);
    let crawl = fetch(&server).expect("crawl");
    assert_eq!(
        organization(&crawl.snapshot).role_trusts,
        demo().role_trusts
    );
    assert_eq!(
        crate::support::requests_to(&server, "/role-trusts/by-role/r-deploy-admin"),
        1
    );

    let server = crate::support::start_with(
        demo(),
        iamsim_vultr::fake::FakeOptions {
            trusts_name_role_id: true,
            list_omits_documents: true,
            ..Default::default()
        },
    );
    let crawl2 = fetch(&server).expect("crawl");
    assert_eq!(
        organization(&crawl2.snapshot),
        organization(&crawl.snapshot)
    );
    assert!(server
        .requests()
        .iter()
        .all(|r| !r.path.contains("by-role")));
    // Documents left out of the list are read one policy at a time.
    assert_eq!(
        crate::support::requests_to(&server, "/policies/p-deploy"),
        1
    );
}
