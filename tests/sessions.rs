//! Active assumed-role sessions (issue 12 item 8) through the binary: `vultr fetch --sessions`
//! records them without their token, `effective` lists them, a dangling one is a warning.

use serde_json::{json, Value};

use crate::util::{demo_snapshot, iamsim, temp_json};
use crate::vultr_support::{start, temp_dir, vultr};

/// The demo with Ana holding two sessions of deploy-admin (one of them already expired by
/// its own clock: iamsim lists what the snapshot recorded).
fn with_sessions() -> Value {
    let mut snapshot = demo_snapshot();
    snapshot["sessions"] = json!([
        {"user_id": "u-ana", "role_id": "r-deploy-admin", "session_name": "deploy",
         "assumed_at": "2026-03-02T09:00:00Z", "expires_at": "2026-03-02T10:00:00Z"},
        {"user_id": "u-ana", "role_id": "r-deploy-admin", "session_name": "hotfix",
         "expires_at": "2026-03-02T11:00:00Z"}
    ]);
    snapshot
}

#[test]
fn effective_lists_a_users_sessions() {
    let file = temp_json("sessions.json", &with_sessions());
    let args = ["effective", "--user", "u-ana", "--snapshot", &file];
    let report = iamsim(&[&args[..], &["--format", "json"]].concat()).json();
    assert_eq!(report["sessions"].as_array().unwrap().len(), 2);
    assert_eq!(report["sessions"][0]["role"]["id"], "r-deploy-admin");
    assert_eq!(report["sessions"][0]["session_name"], "deploy");
    assert_eq!(report["sessions"][1]["assumed_at"], Value::Null);
    let table = iamsim(&args);
    table.expect_code(0);
    assert!(
        table.stdout.contains("ACTIVE SESSIONS (2)"),
        "{}",
        table.stdout
    );
    assert!(
        table.stdout.contains(
            "  role deploy-admin (r-deploy-admin), session deploy\n    expires 2026-03-02T10:00:00Z, assumed 2026-03-02T09:00:00Z\n"
        ),
        "{}",
        table.stdout
    );
    // Someone without sessions: no key in JSON, no section.
    let dan = iamsim(&[
        "effective",
        "--user",
        "u-dan",
        "--snapshot",
        &file,
        "--format",
        "json",
    ])
    .json();
    assert!(dan.get("sessions").is_none());
}

#[test]
fn a_session_naming_nobody_is_a_warning_with_its_path() {
    let mut snapshot = with_sessions();
    snapshot["sessions"][1]["role_id"] = json!("r-gone");
    let file = temp_json("sessions-dangling.json", &snapshot);
    let run = iamsim(&[
        "effective",
        "--user",
        "u-ana",
        "--snapshot",
        &file,
        "--format",
        "json",
    ]);
    run.expect_warning(&["sessions[1].role_id", "r-gone"]);
    assert_eq!(run.json()["sessions"].as_array().unwrap().len(), 1);
}

#[test]
fn fetch_with_sessions_keeps_them_without_their_token() {
    let served: iamsim_core::Snapshot =
        serde_json::from_value(with_sessions()).expect("the fixture is a snapshot");
    let server = start(served, vec![]);
    let dir = temp_dir("sessions-fetch");
    let out = dir.join("org.json");
    let out = out.to_str().unwrap();
    vultr("fetch", &server, &["-o", out, "--sessions"]).expect_code(0);
    let text = std::fs::read_to_string(out).unwrap();
    assert!(
        !text.contains("FAKE-SESSION-TOKEN"),
        "a session token was written"
    );
    let snapshot: Value = serde_json::from_str(&text).unwrap();
    // In the crawl's order (by user, role, then start: an unknown start first).
    let mut want = with_sessions()["sessions"].as_array().unwrap().clone();
    want.reverse();
    assert_eq!(snapshot["sessions"], Value::Array(want));
    // Without --sessions, nothing is asked and nothing recorded.
    let plain = dir.join("plain.json");
    vultr("fetch", &server, &["-o", plain.to_str().unwrap()]).expect_code(0);
    let snapshot: Value = serde_json::from_str(&std::fs::read_to_string(&plain).unwrap()).unwrap();
    assert!(snapshot.get("sessions").is_none());
}

#[test]
fn a_what_if_says_which_sessions_outlive_the_trust_it_removes() {
    let file = temp_json("sessions-impact.json", &with_sessions());
    let remove = [
        "impact",
        "--snapshot",
        &file,
        "remove-member",
        "--group",
        "g-devops",
        "--user",
        "u-ana",
    ];
    let report = iamsim(&[&remove[..], &["--format", "json"]].concat()).json();
    let ana = report["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["user"]["id"] == "u-ana")
        .cloned()
        .expect("Ana is affected");
    let names: Vec<&str> = ana["sessions_continue"]
        .as_array()
        .expect("sessions_continue")
        .iter()
        .map(|s| s["session_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["deploy", "hotfix"]);
    let flat = iamsim(&[&remove[..], &["--format", "json", "--per-action"]].concat()).json();
    let flat_ana = flat["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["user"]["id"] == "u-ana")
        .cloned()
        .unwrap();
    assert_eq!(flat_ana["sessions_continue"], ana["sessions_continue"]);
    for format in ["table", "markdown", "html"] {
        let run = iamsim(&[&remove[..], &["--format", format]].concat());
        run.expect_code(0);
        let words = crate::util::words(&run.stdout);
        assert!(
            words.contains("of role deploy-admin (r-deploy-admin) continues until 2026-03-02T10:00:00Z: losing the trust does not end it"),
            "{format}: {}",
            run.stdout
        );
    }
    // Taking Ana out of a group that is not trusted ends no trust: no session is named.
    let other = iamsim(&[
        "impact",
        "--snapshot",
        &file,
        "remove-member",
        "--group",
        "g-billing",
        "--user",
        "u-ana",
        "--format",
        "json",
    ])
    .json();
    assert!(other["users"]
        .as_array()
        .unwrap()
        .iter()
        .all(|u| u.get("sessions_continue").is_none()));
}
