//! Legacy ACLs (issue 12 item 3) and statements with keys iamsim does not evaluate (item 4),
//! as the engine's commands say them, on `tests/data/legacy-conditional.json`: Max holds
//! `manage_users` (root-equivalent), Bea holds `billing`, and Kim's direct policy
//! `office-hours` had two statements with a `Condition` (an Allow left out of the document and
//! a Deny kept as if unconditional, recorded in `crawl.unevaluated_statements`).

use serde_json::{json, Value};

use crate::util::{data, iamsim};

const FORMATS: [&str; 3] = ["table", "markdown", "html"];

fn snapshot() -> String {
    data("legacy-conditional.json")
}

/// `iamsim ARGS --snapshot FIXTURE --format json`, as printed (impacts in the grouped form).
fn json_of(args: &[&str]) -> Value {
    let s = snapshot();
    iamsim(&[args, &["--snapshot", &s, "--format", "json"]].concat()).json()
}

/// `iamsim ARGS --snapshot FIXTURE --format FORMAT`, stdout.
fn text_of(args: &[&str], format: &str) -> String {
    let s = snapshot();
    let run = iamsim(&[args, &["--snapshot", &s, "--format", format]].concat());
    run.expect_code(0);
    run.stdout
}

/// Every format for people says each fragment, whitespace read as one space and case
/// ignored (tables wrap long lines and shout headings; HTML escapes nothing in the fragments).
fn says(args: &[&str], fragments: &[&str]) {
    for format in FORMATS {
        let out = text_of(args, format);
        let words = out.split_whitespace().collect::<Vec<_>>().join(" ");
        for fragment in fragments {
            assert!(
                words.to_lowercase().contains(&fragment.to_lowercase()),
                "{args:?} --format {format} does not say {fragment:?}:\n{out}"
            );
        }
    }
}

const ROOT_EQUIVALENT: &str = "root-equivalent by legacy ACL";
const MAX_NOTE: &str = "is documented as equivalent to the root user";
const BEA_NOTE: &str = "Vultr enforces them alongside IAM";

#[test]
fn effective_says_legacy_acls() {
    let max = json_of(&["effective", "--user", "max@l.example"]);
    assert_eq!(
        max["user"]["legacy_acls"],
        json!(["billing", "manage_users"])
    );
    assert_eq!(max["user"]["root"], false, "the IAM answer stays IAM's");
    let bea = json_of(&["effective", "--user", "u-bea"]);
    assert_eq!(bea["user"]["legacy_acls"], json!(["billing"]));
    let kim = json_of(&["effective", "--user", "u-kim"]);
    assert!(
        kim["user"].get("legacy_acls").is_none(),
        "none held: left out"
    );
    says(
        &["effective", "--user", "u-max"],
        &[ROOT_EQUIVALENT, MAX_NOTE],
    );
    says(
        &["effective", "--user", "u-bea"],
        &["legacy ACLs", BEA_NOTE],
    );
}

#[test]
fn explain_says_legacy_acls() {
    let args = [
        "explain",
        "--user",
        "u-max",
        "--action",
        "compute.instance.Delete",
    ];
    let max = json_of(&args);
    assert_eq!(max["decision"], "implicit_deny");
    assert_eq!(
        max["user"]["legacy_acls"],
        json!(["billing", "manage_users"])
    );
    says(&args, &[ROOT_EQUIVALENT, MAX_NOTE]);
    let args = [
        "explain",
        "--user",
        "u-bea",
        "--action",
        "compute.instance.Read",
    ];
    assert_eq!(json_of(&args)["user"]["legacy_acls"], json!(["billing"]));
    says(&args, &[BEA_NOTE]);
}

#[test]
fn who_can_lists_root_equivalent_users_iam_does_not_allow() {
    let args = ["who-can", "--action", "compute.instance.Delete"];
    let report = json_of(&args);
    let ids = |list: &Value| -> Vec<String> {
        list.as_array()
            .expect("list")
            .iter()
            .map(|u| u["id"].as_str().expect("id").to_string())
            .collect()
    };
    assert_eq!(ids(&report["root_equivalent"]), ["u-max"]);
    says(
        &args,
        &[
            "by legacy ACL (1)",
            "not allowed by IAM, allowed anyway",
            MAX_NOTE,
        ],
    );
    // Allowed by IAM: listed there, with its flag, and not again.
    let args = ["who-can", "--action", "compute.instance.Read"];
    let report = json_of(&args);
    assert!(report.get("root_equivalent").is_none(), "{report:#}");
    let max = report["allowed"]
        .as_array()
        .expect("allowed")
        .iter()
        .find(|u| u["user"]["id"] == "u-max")
        .expect("Max is allowed");
    assert_eq!(
        max["user"]["legacy_acls"],
        json!(["billing", "manage_users"])
    );
    says(&args, &[ROOT_EQUIVALENT, BEA_NOTE]);
}

#[test]
fn what_if_removing_iam_access_says_the_acl_stays() {
    let args = [
        "impact",
        "remove-member",
        "--group",
        "Ops",
        "--user",
        "bea@l.example",
    ];
    let report = json_of(&args);
    let bea = &report["users"][0];
    assert_eq!(bea["user"]["id"], "u-bea");
    assert_eq!(bea["user"]["legacy_acls"], json!(["billing"]));
    assert!(!bea["lost"].as_array().expect("lost").is_empty());
    says(
        &args,
        &[
            "keeps legacy ACLs",
            "the change does not touch them, so what they give stays",
        ],
    );
    let args = [
        "impact",
        "remove-member",
        "--group",
        "Ops",
        "--user",
        "u-max",
    ];
    assert_eq!(
        json_of(&args)["users"][0]["user"]["legacy_acls"],
        json!(["billing", "manage_users"])
    );
    says(&args, &[ROOT_EQUIVALENT, "in fact they lose nothing"]);
}
