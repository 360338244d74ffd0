//! Issue 12, "Vultr fidelity": how the crawl reads what Vultr's real API may send, beyond what
//! the fake used to agree with. Every test runs over real HTTP on loopback against the fake,
//! extended to serve each case.

use iamsim_vultr::fake::{FakeOptions, Fault, FaultAction, PolicyUsers};
use iamsim_vultr::{CrawlOptions, EventKind};

use crate::support::{
    as_crawled, demo, error_text, fetch, fetch_with, holders, options, organization, small,
    start_with,
};

/// Rows through a group or a role are holdings the engine derives, not direct attachments:
/// the crawl of an organization with roles, group roles and group policies gives back exactly
/// the organization, with no event.
#[test]
fn policy_user_rows_through_groups_and_roles_are_not_direct_attachments() {
    for snapshot in [demo(), small()] {
        let server = holders(snapshot.clone(), PolicyUsers::default(), vec![]);
        let crawl = fetch(&server).expect("crawl");
        assert_eq!(crawl.info.events, vec![], "{}", snapshot.organization.id);
        assert!(crawl.info.consistent);
        assert_eq!(organization(&crawl.snapshot), as_crawled(&snapshot));
    }
}

/// An `assignment_type` iamsim does not know, or none, is never read as direct on its own:
/// the user's own view (`/users/{id}/policies`, bucket `direct`) decides, and each row is an
/// event naming the value.
#[test]
fn unknown_or_missing_assignment_type_is_direct_only_when_the_users_view_says_so() {
    let mut org = small();
    org.users[0].policies.push("p-billing".into()); // Ana: p-billing directly too.
    let how = PolicyUsers {
        holders: true,
        direct: Some("DIRECT_ASSIGNMENT".into()),
        group: None,
        role: Some("role".into()),
    };
    let server = holders(org.clone(), how, vec![]);
    let crawl = fetch(&server).expect("crawl");
    // The snapshot is right: Ana's direct p-billing is kept, no group row became direct.
    assert_eq!(organization(&crawl.snapshot), as_crawled(&org));
    let unknown: Vec<&str> = crawl
        .info
        .events
        .iter()
        .filter(|e| e.kind == EventKind::UnknownAssignmentType)
        .map(|e| e.message.as_str())
        .collect();
    assert!(
        unknown.contains(
            &"user `u-ana` is listed with `assignment_type` `DIRECT_ASSIGNMENT`, which iamsim does not know; `/users/u-ana/policies` lists it among `direct`: kept as a direct attachment"
        ),
        "{unknown:#?}"
    );
    assert!(
        unknown.contains(
            &"user `u-bo` is listed with no `assignment_type`; `/users/u-bo/policies` does not list it among `direct`: not read as a direct attachment"
        ),
        "{unknown:#?}"
    );
    // Under --strict, the unknown value is an error.
    let strict = CrawlOptions {
        strict: true,
        ..CrawlOptions::default()
    };
    let (result, _, _) = fetch_with(options(&server), &strict);
    let text = crate::support::error_text(result);
    assert!(text.contains("unknown_assignment_type"), "{text}");
}

/// A row "through a group" that no group the crawl found explains (the membership was added
/// after the groups were read) is an `assignment_mismatch` about that user, not a direct
/// attachment.
#[test]
fn a_group_row_the_crawl_cannot_explain_is_an_assignment_mismatch() {
    let mut org = small();
    org.users.push(iamsim_core::model::User {
        id: "u-cy".into(),
        email: "cy@small.example".into(),
        name: "Cy".into(),
        service_user: false,
        suspended: false,
        policies: vec![],
        roles: vec![],
        acls: None,
        api_enabled: None,
    });
    org.groups.push(iamsim_core::model::Group {
        id: "g-x".into(),
        display_name: "X".into(),
        description: String::new(),
        members: vec![],
        policies: vec!["p-compute".into()],
        roles: vec![],
    });
    let join = FaultAction::AddMember {
        group: "g-x".into(),
        user: "u-cy".into(),
    };
    let server = holders(
        org.clone(),
        PolicyUsers::default(),
        vec![Fault::on("/policies", join).method("GET").times(1)],
    );
    let crawl = fetch(&server).expect("crawl");
    let cy = crawl
        .snapshot
        .users
        .iter()
        .find(|u| u.id == "u-cy")
        .unwrap();
    assert!(cy.policies.is_empty(), "{cy:?}");
    let mismatch: Vec<_> = crawl
        .info
        .events
        .iter()
        .filter(|e| e.kind == EventKind::AssignmentMismatch)
        .collect();
    assert_eq!(mismatch.len(), 1, "{:#?}", crawl.info.events);
    assert_eq!(mismatch[0].endpoint, "GET /v2/policies/p-compute/users");
    assert_eq!(mismatch[0].subjects, vec!["p-compute", "u-cy"]);
    assert!(mismatch[0].message.contains(
        "user `u-cy` is listed with `assignment_type` `group`, but no group the crawl found has both the user as a member and the policy"
    ));
}

/// A `meta.total` unlike the items read, and a second read that brings other items, is a
/// change during the crawl: not a quirk; the second read is kept.
#[test]
fn a_total_mismatch_that_changes_on_a_second_read_is_not_a_quirk() {
    let leave = FaultAction::DeleteUser { id: "u-bo".into() };
    let server = start_with(
        small(),
        FakeOptions {
            faults: vec![
                Fault::on("/users", FaultAction::PageTotal { total: 5 }),
                Fault::on("/users", leave).skip(1).times(1),
            ],
            ..FakeOptions::default()
        },
    );
    let crawl = fetch(&server).expect("crawl");
    let event = crawl
        .info
        .events
        .iter()
        .find(|e| e.kind == EventKind::TotalMismatch)
        .expect("total mismatch");
    assert!(!event.known_quirk, "{event:?}");
    assert!(event.message.contains("a second read differs"), "{event:?}");
}

/// A 503 with `Retry-After` waits that long before the retry, as go-retryablehttp (which
/// govultr uses) does; over the cap it fails at once, naming it.
#[test]
fn retry_after_on_503_is_honoured() {
    let unavailable = |after: &str| FaultAction::Status {
        status: 503,
        retry_after: Some(after.into()),
        body: None,
    };
    let server = start_with(
        small(),
        FakeOptions {
            faults: vec![Fault::on("/groups", unavailable("3")).times(1)],
            ..FakeOptions::default()
        },
    );
    let (result, clock, client) = fetch_with(options(&server), &CrawlOptions::default());
    result.expect("success after the retry");
    assert_eq!(client.stats().retries, 1);
    assert!(
        clock.sleeps().contains(&std::time::Duration::from_secs(3)),
        "{:?}",
        clock.sleeps()
    );

    let server = start_with(
        small(),
        FakeOptions {
            faults: vec![Fault::on("/groups", unavailable("86400")).times(1)],
            ..FakeOptions::default()
        },
    );
    let (result, clock, _) = fetch_with(options(&server), &CrawlOptions::default());
    let text = crate::support::error_text(result);
    assert!(
        text.contains("server error 503: the server asks to wait 86400 s, over the cap of 60 s"),
        "{text}"
    );
    // Only the rate limit's spacing, no wait for the 503.
    assert!(
        clock.sleeps().iter().all(|s| s.as_secs() < 1),
        "{:?}",
        clock.sleeps()
    );
}

/// Issue 12 item 9: a `role_type` Vultr does not document (or none) is an `unknown_role_type`
/// note naming it, never an abort and never silently one of the two: the role is read as what
/// its attachments show (assigned to a user or a group: assignable; else assumable, as trusts
/// reach it), so the snapshot of the demo is the demo's. A note does not make the crawl
/// inconsistent (it would be the same on every crawl), but strict refuses it.
#[test]
fn an_unknown_role_type_is_a_note_naming_it() {
    let served = [
        ("r-viewer", serde_json::json!("standard")),
        ("r-net-operator", serde_json::Value::Null),
        ("r-deploy-admin", serde_json::json!("temporary")),
    ];
    let server = start_with(
        demo(),
        FakeOptions {
            role_types: served
                .iter()
                .map(|(id, v)| (id.to_string(), v.clone()))
                .collect(),
            ..FakeOptions::default()
        },
    );
    let crawl = fetch(&server).expect("an unknown role type does not abort the crawl");
    assert_eq!(organization(&crawl.snapshot), as_crawled(&demo()));
    assert!(crawl.info.consistent, "{:#?}", crawl.info.events);
    let events = &crawl.info.events;
    assert_eq!(events.len(), 3, "{events:#?}");
    assert!(events
        .iter()
        .all(|e| e.kind == EventKind::UnknownRoleType && e.kind.is_note()));
    let about = |role: &str| {
        events
            .iter()
            .find(|e| e.subjects == [role.to_string()])
            .unwrap_or_else(|| panic!("no event about {role}: {events:#?}"))
    };
    assert!(about("r-viewer")
        .message
        .contains("role `r-viewer` has `role_type` `standard`, which iamsim does not know"));
    assert!(about("r-viewer").message.contains("read as assignable"));
    assert!(about("r-net-operator")
        .message
        .contains("has no `role_type`"));
    assert!(about("r-net-operator")
        .message
        .contains("read as assignable, since Vultr lists 0 user(s) and 1 group(s)"));
    assert!(about("r-deploy-admin")
        .message
        .contains("`role_type` `temporary`"));
    assert!(about("r-deploy-admin")
        .message
        .contains("read as assumable"));
    // In the snapshot's `crawl` object too.
    let info = crawl.snapshot.crawl.as_ref().expect("crawl object");
    assert_eq!(info["consistent"], true);
    assert_eq!(info["events"][0]["kind"], "unknown_role_type");

    // A note with a real event beside it: inconsistent, because of the event alone.
    let server = start_with(
        demo(),
        FakeOptions {
            role_types: [("r-viewer".to_string(), serde_json::json!("standard"))].into(),
            faults: vec![Fault::on("/users", FaultAction::PageTotal { total: 99 })],
            ..FakeOptions::default()
        },
    );
    let crawl = fetch(&server).expect("crawl");
    assert!(!crawl.info.consistent);
    assert!(crawl
        .info
        .events
        .iter()
        .any(|e| e.kind == EventKind::TotalMismatch));

    let strict = CrawlOptions {
        strict: true,
        ..CrawlOptions::default()
    };
    let server = start_with(
        demo(),
        FakeOptions {
            role_types: [("r-viewer".to_string(), serde_json::json!("standard"))].into(),
            ..FakeOptions::default()
        },
    );
    let result = fetch_with(options(&server), &strict).0;
    let text = error_text(result);
    assert!(
        text.contains("strict is set") && text.contains("(unknown_role_type)"),
        "{text}"
    );
}

/// Item 7: trusts to an OIDC issuer or to another organization are kept, not dropped for
/// naming no user or group.
#[test]
fn trusts_to_outside_principals_are_kept() {
    let mut original = crate::support::demo();
    let mut oidc = original.role_trusts[0].clone();
    oidc.id = "t-ci-oidc".into();
    oidc.trusted_group_id = None;
    oidc.oidc_issuer_id = Some("oidc-github".into());
    let mut partner = original.role_trusts[0].clone();
    partner.id = "t-partner".into();
    partner.trusted_group_id = None;
    partner.trusted_organization_id = Some("org-partner".into());
    original.role_trusts.extend([oidc, partner]);
    let server = crate::support::start(original.clone(), vec![]);
    let crawl = crate::support::fetch(&server).expect("the crawl succeeds");
    let kept: Vec<(&str, Option<&str>, Option<&str>)> = crawl
        .snapshot
        .role_trusts
        .iter()
        .map(|t| {
            (
                t.id.as_str(),
                t.oidc_issuer_id.as_deref(),
                t.trusted_organization_id.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        kept,
        [
            ("t-ci-oidc", Some("oidc-github"), None),
            ("t-deploy-devops", None, None),
            ("t-partner", None, Some("org-partner")),
        ]
    );
}
