//! Issue 12 item 10: `iamsim vultr probe`, read-only checks that settle what Vultr does not
//! document, against the fake over loopback: answering as iamsim assumes, and configured to
//! answer the other way. The report names no id, name, email or key.

use iamsim_core::Snapshot;
use iamsim_vultr::fake::{EmptyMembers, FakeOptions, FakeServer, PolicyUsers, Shapes};
use iamsim_vultr::probe::{probe, Check, ProbeOptions, ProbeReport, Verdict};

use crate::vultr_support::{assert_no_key, client, demo, options, start_with, vultr};

/// The demo with an empty group, so that every check has something to look at.
fn organization() -> Snapshot {
    let mut org = demo();
    org.groups[2].members.clear(); // g-contractors
    org
}

fn run_probe(server: &FakeServer) -> ProbeReport {
    let (mut client, _) = client(options(server));
    probe(&mut client, &ProbeOptions::default()).expect("the probe runs")
}

fn check<'r>(report: &'r ProbeReport, id: &str) -> &'r Check {
    report
        .checks
        .iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("no check `{id}`: {report:#?}"))
}

/// Asserts the check's verdict and that its answer contains `answer`.
fn expect(report: &ProbeReport, id: &str, verdict: Verdict, answer: &str) {
    let c = check(report, id);
    assert_eq!(c.verdict, verdict, "{c:#?}");
    assert!(c.answer.contains(answer), "{c:#?}");
}

/// Every id, name and email of the organization: none may be in a report.
fn personal(org: &Snapshot) -> Vec<String> {
    let mut all = vec![org.organization.id.clone(), org.organization.name.clone()];
    for u in &org.users {
        all.extend([u.id.clone(), u.email.clone(), u.name.clone()]);
    }
    for g in &org.groups {
        all.extend([g.id.clone(), g.display_name.clone()]);
    }
    for r in &org.roles {
        all.extend([r.id.clone(), r.name.clone()]);
    }
    for p in &org.policies {
        all.extend([p.id.clone(), p.name.clone()]);
    }
    all.retain(|s| s.len() >= 3);
    all
}

/// Against a fake that answers as iamsim assumes, every check holds (the holders question is
/// answered "no": only direct attachments are listed), in text and JSON, through the binary,
/// with nothing personal in the report.
#[test]
fn the_probe_agrees_with_a_fake_that_answers_as_assumed() {
    let org = organization();
    let server = start_with(org.clone(), FakeOptions::default());
    let report = run_probe(&server);
    expect(
        &report,
        "policy-users-holders",
        Verdict::Holds,
        "no: only direct",
    );
    expect(&report, "meta-total", Verdict::Holds, "items");
    expect(&report, "member-id-is-user-id", Verdict::Holds, "yes");
    expect(
        &report,
        "empty-group-members",
        Verdict::Holds,
        "`[]` on `GET /groups/{id}/members`, `[]` on `GET /groups/{id}`",
    );
    expect(&report, "members-paged", Verdict::Holds, "yes");
    expect(
        &report,
        "role-types",
        Verdict::Holds,
        "`assignable` ×2, `assumable` ×1",
    );
    expect(&report, "organizations", Verdict::Holds, "1 organization");
    // Read-only.
    assert!(server.requests().iter().all(|r| r.method == "GET"));

    let text = vultr("probe", &server, &[]);
    text.expect_code(0);
    assert!(text
        .stdout
        .contains("[meta-total] Does `meta.total` count items or pages?"));
    assert!(text.stdout.contains("verdict:    holds"));
    let json = vultr("probe", &server, &["--format", "json"]);
    json.expect_code(0);
    let value: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON");
    assert_eq!(value["format"], "iamsim.vultr-probe.v1");
    assert_eq!(value["checks"].as_array().map(Vec::len), Some(7));
    for run in [&text, &json] {
        assert_no_key(run, &[]);
        for word in personal(&org) {
            assert!(
                !run.stdout.contains(&word) && !run.stderr.contains(&word),
                "`{word}` in the report: {run:#?}"
            );
        }
    }
}

/// Configured to answer the other way on each question, the probe says so: holders listed
/// (`yes`), `meta.total` counting pages, member ids that are memberships, an empty group's
/// `null` members, a `role_type` iamsim does not know.
#[test]
fn the_probe_sees_a_fake_that_answers_the_other_way() {
    let org = organization();
    let server = start_with(
        org.clone(),
        FakeOptions {
            policy_users: PolicyUsers {
                holders: true,
                ..PolicyUsers::default()
            },
            shapes: Shapes {
                empty_members: EmptyMembers::Null,
                total_counts_pages: true,
                member_ids_are_memberships: true,
            },
            role_types: [("r-viewer".to_string(), serde_json::json!("standard"))].into(),
            ..FakeOptions::default()
        },
    );
    let report = run_probe(&server);
    expect(
        &report,
        "policy-users-holders",
        Verdict::Holds,
        "yes: holders",
    );
    expect(&report, "meta-total", Verdict::Differs, "pages");
    expect(
        &report,
        "member-id-is-user-id",
        Verdict::Differs,
        "no: the member `id` is the membership's; `user_id` names the user",
    );
    expect(
        &report,
        "empty-group-members",
        Verdict::Holds,
        "`null` on `GET /groups/{id}/members`, `null` on `GET /groups/{id}`",
    );
    expect(&report, "role-types", Verdict::Differs, "`standard` ×1");
    let text = vultr("probe", &server, &[]);
    text.expect_code(0);
    assert!(text.stdout.contains("verdict:    DIFFERS"), "{text:#?}");
    for word in personal(&org) {
        assert!(!text.stdout.contains(&word), "`{word}`: {text:#?}");
    }

    // Holders listed, with the assumed values.
    let server = start_with(
        org.clone(),
        FakeOptions {
            policy_users: PolicyUsers {
                holders: true,
                ..PolicyUsers::default()
            },
            shapes: Shapes {
                empty_members: EmptyMembers::Missing,
                ..Shapes::default()
            },
            ..FakeOptions::default()
        },
    );
    let report = run_probe(&server);
    expect(
        &report,
        "policy-users-holders",
        Verdict::Holds,
        "yes: holders",
    );
    let evidence = check(&report, "policy-users-holders").evidence.join("\n");
    assert!(
        evidence.contains("held through a group: 13 of 13"),
        "{evidence}"
    );
    assert!(evidence.contains("`group` ×"), "{evidence}");
    assert!(evidence.contains("`role` ×"), "{evidence}");
    expect(
        &report,
        "empty-group-members",
        Verdict::Holds,
        "absent on `GET /groups/{id}/members`, absent on `GET /groups/{id}`",
    );

    // Holders listed with values iamsim does not know: named (or hashed), and it differs.
    let server = start_with(
        org,
        FakeOptions {
            policy_users: PolicyUsers {
                holders: true,
                direct: Some("direct".into()),
                group: Some("inherited".into()),
                role: None,
            },
            ..FakeOptions::default()
        },
    );
    let report = run_probe(&server);
    expect(
        &report,
        "policy-users-holders",
        Verdict::Differs,
        "yes: holders",
    );
    let evidence = check(&report, "policy-users-holders").evidence.join("\n");
    assert!(
        evidence.contains("values iamsim does not know: `inherited`, none"),
        "{evidence}"
    );
}

/// A refused key stops the probe with the usual error; a check whose endpoint fails is
/// undetermined, naming the endpoint as a template and the status, never an id.
#[test]
fn failures_are_undetermined_or_stop() {
    use iamsim_vultr::fake::{Fault, FaultAction};
    let forbidden = FaultAction::Status {
        status: 403,
        retry_after: None,
        body: Some(r#"{"error": "no access to g-devops"}"#.into()),
    };
    let server =
        crate::vultr_support::start(organization(), vec![Fault::on("/groups/*", forbidden)]);
    let report = run_probe(&server);
    for id in [
        "empty-group-members",
        "policy-users-holders",
        "member-id-is-user-id",
    ] {
        let c = check(&report, id);
        assert_eq!(c.verdict, Verdict::Undetermined, "{c:#?}");
    }
    let text = report.to_text();
    assert!(
        text.contains("GET /groups/{id}/members failed: 403 forbidden"),
        "{text}"
    );
    assert!(!text.contains("g-devops"), "{text}");

    let unauthorized = FaultAction::Status {
        status: 401,
        retry_after: None,
        body: None,
    };
    let server =
        crate::vultr_support::start(organization(), vec![Fault::on("/users", unauthorized)]);
    vultr("probe", &server, &[])
        .expect_error(&["401 unauthorized"])
        .expect_hint(&["API access is enabled"]);
}

/// `serve-fake --other-shapes` answers the other way, for trying the probe by hand: the
/// probe through the binary says where it differs.
#[test]
fn serve_fake_other_shapes_makes_the_probe_differ() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let mut child = Command::new(crate::util::BIN)
        .args([
            "vultr",
            "serve-fake",
            "--snapshot",
            &crate::vultr_support::small_file(),
            "--other-shapes",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve-fake starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .expect("the URL line");
    let url = line.trim().to_string();
    let run = crate::vultr_support::iamsim_key(&[
        "vultr",
        "probe",
        "--base-url",
        &url,
        "--rate",
        "25",
        "--format",
        "json",
    ]);
    child.kill().expect("stop serve-fake");
    let _ = child.wait();
    run.expect_code(0);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    let verdict = |id: &str| {
        report["checks"]
            .as_array()
            .and_then(|checks| checks.iter().find(|c| c["id"] == id))
            .map(|c| c["verdict"].clone())
    };
    assert_eq!(verdict("meta-total"), Some("differs".into()), "{report:#}");
    assert_eq!(verdict("member-id-is-user-id"), Some("differs".into()));
    assert!(
        run.stderr.contains("2 where this account differs"),
        "{run:#?}"
    );
}
