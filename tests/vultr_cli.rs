//! `iamsim vultr fetch | remove-member | serve-fake` end to end, against the fake on loopback:
//! the output contract, `--verify`, and remove-member's plan, gates, apply, verification and
//! comparison with the prediction.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use iamsim_core::Snapshot;
use iamsim_vultr::fake::{FakeServer, Fault, FaultAction};

use crate::util::{data, iamsim, BIN};
use crate::vultr_support::{
    as_crawled, assert_no_key, demo, organization, small, small_file, start, temp_dir, vultr,
};

const ANA_LEAVES_OPS: &[&str] = &["--group", "Ops", "--user", "ana@small.example"];

fn deletes(server: &FakeServer) -> usize {
    server
        .requests()
        .iter()
        .filter(|r| r.method == "DELETE")
        .count()
}

fn is_member(server: &FakeServer, group: &str, user: &str) -> bool {
    server
        .snapshot()
        .groups
        .iter()
        .any(|g| g.id == group && g.members.iter().any(|m| m == user))
}

/// R-OUT-04: without `-o`, stdout is the snapshot alone, as one JSON document; the summary is
/// on stderr; no progress drawing off a terminal.
#[test]
fn fetch_to_stdout() {
    let server = start(small(), vec![]);
    let run = vultr("fetch", &server, &[]);
    run.expect_code(0);
    let snapshot = Snapshot::from_json_str(&run.stdout).expect("stdout is a snapshot");
    assert_eq!(organization(&snapshot), as_crawled(&small()));
    assert!(
        !run.stderr.contains('\r') && !run.stderr.contains('\x1b'),
        "{run:#?}"
    );
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{run:#?}");
    assert!(
        lines[0].starts_with(
            "fetched `Small` (org-small): 2 users, 2 groups, 0 roles, 2 policies, 0 role trusts; 17 requests, 0 retries, "
        ) && lines[0].ends_with(" s; consistent"),
        "{run:#?}"
    );
}

/// Fetch from the fake, then query: the same answers as on the snapshot the fake serves.
#[test]
fn fetch_then_query() {
    let server = start(demo(), vec![]);
    let dir = temp_dir("query");
    let out = dir.join("org.json");
    let out = out.to_str().unwrap();
    vultr(
        "fetch",
        &server,
        &["-o", out, "--root-user", "olivia@acme.example"],
    )
    .expect_code(0);
    let demo_file = data("../../crates/cli/demo.json");
    for user in [
        "ana@acme.example",
        "olivia@acme.example",
        "ben@acme.example",
        "u-ci",
    ] {
        let on = |file: &str| {
            iamsim(&[
                "effective",
                "--user",
                user,
                "--snapshot",
                file,
                "--format",
                "json",
            ])
            .json()
        };
        assert_eq!(on(out), on(&demo_file), "{user}");
    }
    for (group, user) in [
        ("DevOps", "ana@acme.example"),
        ("Contractors", "dan@acme.example"),
    ] {
        let a = iamsim(&[
            "impact",
            "remove-member",
            "--group",
            group,
            "--user",
            user,
            "--snapshot",
            out,
        ]);
        let b = iamsim(&[
            "impact",
            "remove-member",
            "--group",
            group,
            "--user",
            user,
            "--snapshot",
            &demo_file,
        ]);
        assert_eq!(a.stdout, b.stdout, "{group} {user}");
        a.expect_code(0);
    }
    iamsim(&[
        "explain",
        "--user",
        "dan@acme.example",
        "--action",
        "compute.instance.Delete",
        "--snapshot",
        out,
    ])
    .expect_code(0);
}

/// `--verify`: no difference against the fake; a difference (here, a per-user view that lists
/// a policy the snapshot does not give) is reported, recorded, and exits 1.
#[test]
fn fetch_verify() {
    let server = start(small(), vec![]);
    let dir = temp_dir("verify");
    let out = dir.join("org.json");
    let out = out.to_str().unwrap();
    let run = vultr("fetch", &server, &["--verify", "-o", out]);
    run.expect_code(0);
    assert!(
        run.stderr
            .contains("verify: 2 user(s) checked against Vultr's own views; 0 difference(s)"),
        "{run:#?}"
    );
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out).unwrap()).unwrap();
    assert_eq!(
        written["crawl"]["verify"]["differences"],
        serde_json::json!([])
    );

    let view = r#"{"policies": {"all": [{"id": "p-compute"}, {"id": "p-billing"}, {"id": "p-extra"}],
        "direct": [], "inherited": []}, "meta": {"total": 3, "links": {"next": ""}}}"#;
    let fault = Fault::on(
        "/users/u-ana/policies",
        FaultAction::Body {
            status: 200,
            content_type: "application/json".into(),
            body: view.into(),
        },
    );
    let server = start(small(), vec![fault]);
    let run = vultr("fetch", &server, &["--verify", "-o", out]);
    run.expect_code(1);
    assert!(
        run.stderr.contains(
            "verify: user `ana@small.example` (u-ana): policies.all: Vultr lists `p-extra` that the snapshot does not give"
        ),
        "{run:#?}"
    );
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out).unwrap()).unwrap();
    assert_eq!(
        written["crawl"]["verify"]["differences"][0]["only_in_vultr"],
        serde_json::json!(["p-extra"])
    );
}

/// remove-member: the impact exactly as `iamsim impact remove-member` shows it, then the
/// DELETE, the check, and a re-crawl that matches the prediction.
#[test]
fn remove_member_applies_and_verifies() {
    let server = start(small(), vec![]);
    let mut args = ANA_LEAVES_OPS.to_vec();
    args.push("--yes");
    let run = vultr("remove-member", &server, &args);
    run.expect_code(0);
    let mut impact = vec!["impact", "remove-member", "--snapshot"];
    let small_path = small_file();
    impact.push(&small_path);
    impact.extend_from_slice(ANA_LEAVES_OPS);
    let expected = iamsim(&impact);
    assert_eq!(run.stdout, expected.stdout);
    assert!(run.stdout.contains("LOST (2)"), "{}", run.stdout);
    assert!(
        run.stderr
            .contains("note: removed `ana@small.example` from `Ops` (DELETE answered 204)"),
        "{run:#?}"
    );
    assert!(
        run.stderr
            .contains("verified: the re-crawl matches the prediction for `ana@small.example`"),
        "{run:#?}"
    );
    assert!(!is_member(&server, "g-ops", "u-ana"));
    assert_eq!(deletes(&server), 1);
    assert_no_key(&run, &[]);

    // JSON output is the impact's JSON.
    let server = start(small(), vec![]);
    let mut args = ANA_LEAVES_OPS.to_vec();
    args.extend(["--yes", "--format", "json"]);
    let run = vultr("remove-member", &server, &args);
    let mut impact_json = impact.clone();
    impact_json.extend(["--format", "json"]);
    assert_eq!(run.json(), iamsim(&impact_json).json());
}

/// `--dry-run` stops after the impact; a tripped gate refuses to apply (exit 1); without a
/// terminal and without `--yes`, nothing is applied (exit 2).
#[test]
fn remove_member_refusals() {
    let cases: &[(&[&str], i32, &str)] = &[
        (&["--dry-run"], 0, "note: --dry-run; nothing was changed"),
        (
            &["--yes", "--fail-if-loses", "compute.instance.*"],
            1,
            "gate tripped: --fail-if-loses `compute.instance.*`: ana@small.example loses compute.instance.Create",
        ),
        (&[], 2, "error: refusing to change Vultr without a terminal"),
    ];
    for (extra, code, fragment) in cases {
        let server = start(small(), vec![]);
        let mut args = ANA_LEAVES_OPS.to_vec();
        args.extend_from_slice(extra);
        let run = vultr("remove-member", &server, &args);
        assert_eq!(run.code, *code, "{extra:?}: {run:#?}");
        assert!(run.stderr.contains(fragment), "{extra:?}: {run:#?}");
        assert!(
            run.stdout.starts_with("Change: remove ana@small.example"),
            "{run:#?}"
        );
        assert_eq!(deletes(&server), 0, "{extra:?}");
        assert!(is_member(&server, "g-ops", "u-ana"));
        if *code == 2 {
            run.expect_hint(&["pass --yes"]);
        }
    }
    // A gate that nothing trips lets the change through.
    let server = start(small(), vec![]);
    let mut args = ANA_LEAVES_OPS.to_vec();
    args.extend(["--yes", "--fail-if-loses", "account.billing.Read"]);
    vultr("remove-member", &server, &args).expect_code(0);
    assert_eq!(deletes(&server), 1);
}

/// A gate pattern that covers nothing the crawled organization knows is refused before
/// anything is applied, naming the nearest known actions.
#[test]
fn remove_member_refuses_a_gate_that_covers_nothing() {
    let server = start(small(), vec![]);
    let mut args = ANA_LEAVES_OPS.to_vec();
    args.extend(["--yes", "--fail-if-loses", "Compute.*"]);
    let run = vultr("remove-member", &server, &args);
    ExpectLine::expect_error(
        &run,
        &[
            "--fail-if-loses `Compute.*`: covers no action",
            "did you mean `compute.*`",
        ],
    );
    assert_eq!(run.stdout, "");
    assert_eq!(deletes(&server), 0);
    assert!(is_member(&server, "g-ops", "u-ana"));
}

/// A DELETE that answers 204 but changes nothing: the GET that follows catches it.
#[test]
fn remove_member_failed_verification() {
    let noop = FaultAction::Status {
        status: 204,
        retry_after: None,
        body: None,
    };
    let server = start(
        small(),
        vec![Fault::on("/groups/g-ops/members/u-ana", noop).method("DELETE")],
    );
    let mut args = ANA_LEAVES_OPS.to_vec();
    args.push("--yes");
    let run = vultr("remove-member", &server, &args);
    ExpectLine::expect_error(
        &run,
        &["verification failed: `ana@small.example` is still a member of `Ops` after DELETE answered 204"],
    );
    assert!(is_member(&server, "g-ops", "u-ana"));
}

/// A DELETE that answers 404 because the user was already removed (an earlier try that timed
/// out, someone else): reported, and the GET that follows finds the change made.
#[test]
fn remove_member_already_removed() {
    let path = "/groups/g-ops/members/u-ana";
    let gone = FaultAction::RemoveMember {
        group: "g-ops".into(),
        user: "u-ana".into(),
    };
    let not_found = FaultAction::Status {
        status: 404,
        retry_after: None,
        body: None,
    };
    let server = start(
        small(),
        vec![
            Fault::on(path, gone).method("DELETE"),
            Fault::on(path, not_found).method("DELETE"),
        ],
    );
    let mut args = ANA_LEAVES_OPS.to_vec();
    args.push("--yes");
    let run = vultr("remove-member", &server, &args);
    run.expect_code(0);
    assert!(run.stderr.contains("DELETE answered 404"), "{run:#?}");
    assert!(
        run.stderr.contains("verified: the re-crawl matches"),
        "{run:#?}"
    );
}

/// The stdout-empty rule of `expect_error` does not fit a command that printed its plan
/// first; this checks the error line alone.
trait ExpectLine {
    fn expect_error(&self, fragments: &[&str]) -> &Self;
}

impl ExpectLine for crate::util::Run {
    fn expect_error(&self, fragments: &[&str]) -> &Self {
        self.expect_code(2);
        let errors: Vec<&str> = self
            .stderr
            .lines()
            .filter(|l| l.starts_with("error: "))
            .collect();
        assert_eq!(errors.len(), 1, "{self:#?}");
        crate::util::expect_fragments(errors[0], fragments);
        self
    }
}

/// The re-crawl disagrees with the prediction (someone also took the user out of another
/// group meanwhile): reported, exit 2. A change elsewhere that does not touch the user is a
/// warning only.
#[test]
fn remove_member_compares_with_the_prediction() {
    let meanwhile = FaultAction::RemoveMember {
        group: "g-billing".into(),
        user: "u-ana".into(),
    };
    let server = start(
        small(),
        vec![Fault::on("/groups/g-ops/members/u-ana", meanwhile).method("DELETE")],
    );
    let mut args = ANA_LEAVES_OPS.to_vec();
    args.push("--yes");
    let run = vultr("remove-member", &server, &args);
    ExpectLine::expect_error(
        &run,
        &["the re-crawl does not match the prediction for `ana@small.example`"],
    );
    assert!(
        run.stderr.contains(
            "note: predicted allowed `account.billing.Read` on `*`, but the re-crawl does not have it"
        ),
        "{run:#?}"
    );
    assert!(
        run.stderr.contains(
            "warning: the organization also changed elsewhere: group `g-billing` changed"
        ),
        "{run:#?}"
    );

    let rename = FaultAction::RenameUser {
        id: "u-bo".into(),
        name: "Bo B.".into(),
    };
    let server = start(
        small(),
        vec![Fault::on("/groups/g-ops/members/u-ana", rename).method("DELETE")],
    );
    let run = vultr("remove-member", &server, &args);
    run.expect_code(0);
    assert!(
        run.stderr
            .contains("warning: the organization also changed elsewhere: user `u-bo` changed"),
        "{run:#?}"
    );
}

/// Lookups and inconsistent crawls stop before any change.
#[test]
fn remove_member_preconditions() {
    let server = start(small(), vec![]);
    let run = vultr(
        "remove-member",
        &server,
        &["--group", "Billing", "--user", "bo@small.example", "--yes"],
    );
    ExpectLine::expect_error(&run, &["not a member"]);
    let run = vultr(
        "remove-member",
        &server,
        &["--group", "Nope", "--user", "ana@small.example", "--yes"],
    );
    ExpectLine::expect_error(&run, &["no group matches `Nope`"]);

    let server = start(
        small(),
        vec![Fault::on("/users", FaultAction::PageTotal { total: 5 })],
    );
    let mut args = ANA_LEAVES_OPS.to_vec();
    args.push("--yes");
    let run = vultr("remove-member", &server, &args);
    ExpectLine::expect_error(&run, &["known API quirk(s) concern", "nothing was changed"]);
    run.expect_hint(&["--accept-api-quirks"]);
    assert_eq!(deletes(&server), 0);
}

/// R-OUT-01: names holding escapes and newlines are shown inert in the summary, the warnings
/// and the impact.
#[test]
fn hostile_names_are_inert() {
    let hostile = Snapshot::from_json_str(include_str!("data/hostile-names.json")).unwrap();
    let server = start(hostile, vec![]);
    let run = vultr("fetch", &server, &[]);
    run.expect_code(0);
    assert!(!run.stderr.contains('\x1b'), "{run:#?}");
    assert!(
        run.stderr.contains("fetched `Hostile\\u{1b}[2J`"),
        "{run:#?}"
    );
    assert!(
        run.warnings()
            .iter()
            .any(|w| w.contains("member `u-ghost\\u{1b}[1m`")),
        "{run:#?}"
    );
    let run = vultr(
        "remove-member",
        &server,
        &["--group", "g-evil", "--user", "u-mal", "--dry-run"],
    );
    run.expect_code(0);
    assert!(
        !run.stdout.contains('\x1b') && !run.stderr.contains('\x1b'),
        "{run:#?}"
    );
}

/// `iamsim vultr serve-fake`: prints its URL, serves the snapshot; `fetch` gets it back.
#[test]
fn serve_fake_binary() {
    let mut child = Command::new(BIN)
        .args(["vultr", "serve-fake", "--snapshot", &small_file()])
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
    let run =
        crate::vultr_support::iamsim_key(&["vultr", "fetch", "--base-url", &url, "--rate", "25"]);
    child.kill().expect("stop serve-fake");
    let _ = child.wait();
    assert!(
        url.starts_with("http://127.0.0.1:") && url.ends_with("/v2"),
        "{url}"
    );
    run.expect_code(0);
    let snapshot = Snapshot::from_json_str(&run.stdout).unwrap();
    assert_eq!(organization(&snapshot), as_crawled(&small()));

    iamsim(&["vultr", "serve-fake", "--snapshot", "/nonexistent/org.json"])
        .expect_error(&["/nonexistent/org.json"]);
    let faults = crate::util::temp_file(
        "faults.json",
        r#"[{"path": "/x", "action": {"kind": "nope"}}]"#,
    );
    iamsim(&[
        "vultr",
        "serve-fake",
        "--snapshot",
        &small_file(),
        "--faults",
        &faults,
    ])
    .expect_error(&["unknown variant `nope`"]);
}

/// `--precedence` reaches the live command: its impact is the offline impact under the same
/// rule. Frank holds a direct Allow and a Deny through Contractors; leaving Contractors gains him
/// the action under deny-wins, and neither gains nor loses anything under nearest-wins (his
/// direct Allow already decided).
#[test]
fn remove_member_under_each_precedence() {
    let fixture = data("precedence.json");
    let snapshot = Snapshot::from_json_str(&std::fs::read_to_string(&fixture).unwrap()).unwrap();
    let change = ["--group", "Contractors", "--user", "frank@example.com"];
    let mut outputs = Vec::new();
    for rule in ["deny-wins", "nearest-wins"] {
        let server = start(snapshot.clone(), vec![]);
        let mut args = change.to_vec();
        args.extend(["--dry-run", "--precedence", rule]);
        let live = vultr("remove-member", &server, &args);
        live.expect_code(0);
        let mut offline = vec!["impact", "remove-member", "--snapshot", &fixture];
        offline.extend(change);
        offline.extend(["--precedence", rule]);
        assert_eq!(live.stdout, iamsim(&offline).stdout, "{rule}");
        assert_eq!(deletes(&server), 0);
        outputs.push(live.stdout);
    }
    assert!(outputs[0].contains("GAINED (1)"), "{}", outputs[0]);
    assert!(
        outputs[1].contains("LOST (0)") && outputs[1].contains("GAINED (0)"),
        "{}",
        outputs[1]
    );
}

/// The `outcome: {...}` line of a remove-member run, parsed.
fn outcome(run: &crate::util::Run) -> serde_json::Value {
    let line = run
        .stderr
        .lines()
        .find_map(|l| l.strip_prefix("outcome: "))
        .unwrap_or_else(|| panic!("no outcome line: {run:#?}"));
    serde_json::from_str(line).expect("the outcome is JSON")
}

/// R-APPLY-01: a DELETE that hangs after the server applied it is followed by a GET of the
/// membership: removed (verified), exit 0, the outcome line says `removed`.
#[test]
fn a_hanging_delete_that_was_applied_is_verified_removed() {
    // `Hang` applies the request, then never answers.
    let server = start(
        small(),
        vec![Fault::on("/groups/g-ops/members/u-ana", FaultAction::Hang).method("DELETE")],
    );
    let mut args = ANA_LEAVES_OPS.to_vec();
    args.extend(["--yes", "--timeout", "1", "--attempts", "2"]);
    let run = vultr("remove-member", &server, &args);
    run.expect_code(0);
    assert!(run.stderr.contains("timed out"), "{run:#?}");
    assert!(run.stderr.contains("removed (verified)"), "{run:#?}");
    assert_eq!(outcome(&run)["outcome"], "removed");
    assert!(!is_member(&server, "g-ops", "u-ana"));
    assert_no_key(&run, &[]);
}

/// R-APPLY-01: a DELETE that fails with 5xx on every try and was not applied: the GET finds
/// the member still there; exit 2, `not_removed`.
#[test]
fn a_failing_delete_that_was_not_applied_is_not_removed() {
    let unavailable = FaultAction::Status {
        status: 503,
        retry_after: None,
        body: None,
    };
    let server = start(
        small(),
        vec![Fault::on("/groups/g-ops/members/u-ana", unavailable).method("DELETE")],
    );
    let mut args = ANA_LEAVES_OPS.to_vec();
    args.extend(["--yes", "--attempts", "2"]);
    let run = vultr("remove-member", &server, &args);
    ExpectLine::expect_error(
        &run,
        &[
            "server error 503 on all 2 attempt(s)",
            "Vultr still lists `ana@small.example` as a member of `Ops`: not removed",
        ],
    );
    assert_eq!(outcome(&run)["outcome"], "not_removed");
    assert!(is_member(&server, "g-ops", "u-ana"));
}

/// R-APPLY-01: when the check cannot be made either (the group's GET hangs too), the outcome
/// is unknown: exit 3, and the exact command to check, without the key.
#[test]
fn a_hanging_delete_that_cannot_be_checked_is_unknown() {
    let server = start(
        small(),
        vec![
            Fault::on("/groups/g-ops/members/u-ana", FaultAction::Hang).method("DELETE"),
            // The crawl's read and the check before the DELETE go through.
            Fault::on("/groups/g-ops/members", FaultAction::Hang)
                .method("GET")
                .skip(2),
        ],
    );
    let mut args = ANA_LEAVES_OPS.to_vec();
    args.extend(["--yes", "--timeout", "1", "--attempts", "1"]);
    let run = vultr("remove-member", &server, &args);
    run.expect_code(3);
    let errors: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    assert_eq!(errors.len(), 1, "{run:#?}");
    assert!(errors[0].contains("(outcome unknown)"), "{run:#?}");
    let outcome = outcome(&run);
    assert_eq!(outcome["outcome"], "unknown");
    let check = outcome["check"].as_str().expect("a check command");
    let url = format!("{}/groups/g-ops/members", server.base_url());
    assert_eq!(
        check,
        format!("curl -sS -H \"Authorization: Bearer $VULTR_API_KEY\" '{url}'")
    );
    run.expect_hint(&[&format!("check with: {check}")]);
    assert_no_key(&run, &[]);
}

/// A 403 on the DELETE speaks of a change, not of reading.
#[test]
fn a_forbidden_delete_is_not_called_a_read() {
    let forbidden = FaultAction::Status {
        status: 403,
        retry_after: None,
        body: None,
    };
    let server = start(
        small(),
        vec![Fault::on("/groups/g-ops/members/u-ana", forbidden).method("DELETE")],
    );
    let mut args = ANA_LEAVES_OPS.to_vec();
    args.push("--yes");
    let run = vultr("remove-member", &server, &args);
    ExpectLine::expect_error(
        &run,
        &["DELETE /v2/groups/g-ops/members/u-ana: 403 forbidden: the key's user may not make this change", "not removed"],
    );
    run.expect_hint(&["write action", "reading is not enough"]);
    assert!(!run.stderr.contains("may not read"), "{run:#?}");
    assert_eq!(outcome(&run)["outcome"], "not_removed");
}
