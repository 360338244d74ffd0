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
        let words = crate::util::words(&out);
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
    // Markdown shows the names as code, not as escaped backquotes.
    let markdown = text_of(&args, "markdown");
    assert!(
        markdown.contains("- keeps legacy ACLs `billing`: "),
        "{markdown}"
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

/// The `conditional` list of a user object, as `(effect, statement, index, keys)`.
fn conditional(user: &Value) -> Vec<(String, u64, Option<u64>, Vec<String>)> {
    let Some(list) = user.get("conditional") else {
        return Vec::new();
    };
    list.as_array()
        .expect("conditional")
        .iter()
        .map(|c| {
            assert_eq!(c["policy"], json!({"id": "p-cond", "name": "office-hours"}));
            (
                c["effect"].as_str().expect("effect").to_string(),
                c["statement"].as_u64().expect("statement"),
                c["index"].as_u64(),
                c["keys"]
                    .as_array()
                    .expect("keys")
                    .iter()
                    .map(|k| k.as_str().expect("key").to_string())
                    .collect(),
            )
        })
        .collect()
}

fn allow0() -> (String, u64, Option<u64>, Vec<String>) {
    ("Allow".into(), 0, None, vec!["Condition".into()])
}

fn deny1() -> (String, u64, Option<u64>, Vec<String>) {
    ("Deny".into(), 1, Some(0), vec!["Condition".into()])
}

const ALLOW_NOTE: &str = "statement 0 is an Allow with `Condition`, which iamsim does not evaluate: counted as not applying, though it may";
const DENY_NOTE: &str = "statement 1 (#0 here) is a Deny with `Condition`, which iamsim does not evaluate: counted as applying, though it may not";

/// Markdown escapes backticks: the notes without them.
fn plain(note: &str) -> String {
    note.replace('`', "")
}

fn says_note(args: &[&str], notes: &[&str]) {
    for format in FORMATS {
        let out = text_of(args, format).replace("\\`", "").replace('`', "");
        let words = crate::util::words(&out);
        for note in notes {
            assert!(
                words.contains(&plain(note)),
                "{args:?} --format {format} does not say {note:?}:\n{out}"
            );
        }
    }
}

#[test]
fn effective_marks_conditional_statements() {
    let kim = json_of(&["effective", "--user", "u-kim"]);
    assert_eq!(conditional(&kim["user"]), [allow0(), deny1()]);
    // The Deny counts as applying, the Allow as not: the answers as before.
    assert_eq!(kim["denied"][0]["action"], "compute.instance.Create");
    assert!(kim["allowed"]
        .as_array()
        .expect("allowed")
        .iter()
        .all(|e| e["action"] != "compute.instance.Delete"));
    says_note(&["effective", "--user", "u-kim"], &[ALLOW_NOTE, DENY_NOTE]);
    // Not reached by the policy: nothing conditional.
    assert!(conditional(&json_of(&["effective", "--user", "u-bea"])["user"]).is_empty());
}

#[test]
fn explain_marks_the_statements_touching_the_answer() {
    let args = [
        "explain",
        "--user",
        "u-kim",
        "--action",
        "compute.instance.Create",
    ];
    let report = json_of(&args);
    assert_eq!(report["decision"], "explicit_deny");
    assert_eq!(conditional(&report["user"]), [deny1()]);
    says_note(&args, &[DENY_NOTE]);
    let args = [
        "explain",
        "--user",
        "u-kim",
        "--action",
        "compute.instance.Delete",
    ];
    let report = json_of(&args);
    assert_eq!(report["decision"], "implicit_deny");
    assert_eq!(conditional(&report["user"]), [allow0()]);
    says_note(&args, &[ALLOW_NOTE]);
    // An answer no conditional statement touches is not marked.
    let args = [
        "explain",
        "--user",
        "u-kim",
        "--action",
        "compute.instance.Read",
    ];
    assert!(conditional(&json_of(&args)["user"]).is_empty());
    for format in FORMATS {
        assert!(!text_of(&args, format).contains("conditional"), "{format}");
    }
}

#[test]
fn who_can_marks_conditional_answers() {
    let args = ["who-can", "--action", "compute.instance.Create"];
    let report = json_of(&args);
    let kim = &report["denied"][0];
    assert_eq!(kim["user"]["id"], "u-kim");
    assert_eq!(conditional(&kim["user"]), [deny1()]);
    assert!(report.get("may_be_allowed").is_none());
    says_note(&args, &[DENY_NOTE]);
    // Allowed by nobody but a conditional Allow: listed apart.
    let args = ["who-can", "--action", "compute.instance.Delete"];
    let report = json_of(&args);
    let may = report["may_be_allowed"].as_array().expect("may_be_allowed");
    assert_eq!(may.len(), 1);
    assert_eq!(may[0]["id"], "u-kim");
    assert_eq!(conditional(&may[0]), [allow0()]);
    says(&args, &["may be allowed (1)"]);
    says_note(&args, &[ALLOW_NOTE]);
}

#[test]
fn impact_marks_users_a_conditional_statement_reaches() {
    let args = [
        "impact",
        "remove-member",
        "--group",
        "Ops",
        "--user",
        "u-kim",
    ];
    let report = json_of(&args);
    assert_eq!(report["users"][0]["user"]["id"], "u-kim");
    assert_eq!(
        conditional(&report["users"][0]["user"]),
        [allow0(), deny1()]
    );
    says_note(&args, &[ALLOW_NOTE, DENY_NOTE]);
}
