//! Role-trust conditions judged at `--at` and from `--from` (issue 12 item 7): the demo's
//! trust lets DevOps assume deploy-admin from 09 to 17 UTC, from 10.0.0.0/8.

use serde_json::{json, Value};

use crate::util::{demo_snapshot, iamsim, temp_json};

const EXPLAIN: [&str; 7] = [
    "explain",
    "--user",
    "u-ana",
    "--action",
    "compute.instance.Create",
    "--resource",
    "*",
];

fn json_of(args: &[&str]) -> Value {
    iamsim(&[args, &["--format", "json"]].concat()).json()
}

fn assumable_roles(args: &[&str]) -> Vec<String> {
    let report = json_of(&[&["effective", "--user", "u-ana"], args].concat());
    report["assumable"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["role"]["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn without_a_context_conditions_are_listed_not_judged() {
    assert_eq!(assumable_roles(&[]), ["r-deploy-admin"]);
    let x = json_of(&EXPLAIN);
    assert!(x.get("not_assumable").is_none(), "{x}");
}

#[test]
fn inside_the_window_and_the_range_the_role_is_assumable() {
    let ctx = ["--at", "2026-03-02T10:00:00Z", "--from", "10.1.2.3"];
    assert_eq!(assumable_roles(&ctx), ["r-deploy-admin"]);
    let x = json_of(&[&EXPLAIN[..], &ctx].concat());
    assert!(x.get("not_assumable").is_none(), "{x}");
}

#[test]
fn outside_the_window_explain_says_which_condition_failed() {
    let ctx = ["--at", "2026-03-02T18:30:00Z"];
    assert!(assumable_roles(&ctx).is_empty());
    let x = json_of(&[&EXPLAIN[..], &ctx].concat());
    assert_eq!(x["not_assumable"][0]["role"]["id"], "r-deploy-admin");
    assert_eq!(
        x["not_assumable"][0]["trust"]["refused"],
        "time_of_day 09–17 UTC: 18:30 is outside"
    );
    let table = iamsim(&[&EXPLAIN[..], &ctx].concat());
    table.expect_code(0);
    assert!(
        table.stdout.contains("NOT ASSUMABLE (1)"),
        "{}",
        table.stdout
    );
    assert!(table
        .stdout
        .contains("not assumable: time_of_day 09–17 UTC: 18:30 is outside"));
}

#[test]
fn from_outside_the_ranges_the_role_is_not_assumable() {
    let ctx = ["--at", "2026-03-02T10:00:00Z", "--from", "192.0.2.1"];
    assert!(assumable_roles(&ctx).is_empty());
    let x = json_of(&[&EXPLAIN[..], &ctx].concat());
    assert_eq!(
        x["not_assumable"][0]["trust"]["refused"],
        "ip_address [10.0.0.0/8]: 192.0.2.1 is outside"
    );
    // An address alone judges the range and nothing else.
    assert!(assumable_roles(&["--from", "192.0.2.1"]).is_empty());
    assert_eq!(assumable_roles(&["--from", "10.0.0.1"]), ["r-deploy-admin"]);
}

#[test]
fn an_expired_trust_is_not_assumable_after_its_expiry() {
    let mut snapshot = demo_snapshot();
    snapshot["role_trusts"][0]["valid_until"] = json!("2026-01-01T00:00:00+00:00");
    let file = temp_json("trust-expired.json", &snapshot);
    let on = |at: &str| {
        let report = json_of(&[
            "effective",
            "--user",
            "u-ana",
            "--snapshot",
            &file,
            "--at",
            at,
        ]);
        report["assumable"].as_array().unwrap().len()
    };
    assert_eq!(on("2025-12-31T10:00:00Z"), 1);
    assert_eq!(on("2026-01-05T10:00:00Z"), 0);
}

#[test]
fn a_what_if_does_not_take_away_a_role_the_context_already_refuses() {
    let remove = [
        "impact",
        "remove-member",
        "--group",
        "g-devops",
        "--user",
        "u-ana",
    ];
    let lost = |ctx: &[&str]| {
        let report = json_of(&[&remove[..], ctx].concat());
        let ana = report["users"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["user"]["id"] == "u-ana")
            .cloned()
            .unwrap();
        ana["assumable_lost"].as_array().map_or(0, Vec::len)
    };
    assert_eq!(lost(&[]), 1);
    assert_eq!(lost(&["--at", "2026-03-02T10:00:00Z"]), 1);
    assert_eq!(lost(&["--at", "2026-03-02T18:30:00Z"]), 0);
}

#[test]
fn a_bad_instant_or_address_is_one_line_naming_the_flag() {
    iamsim(&["effective", "--user", "u-ana", "--at", "yesterday"])
        .expect_code(2)
        .expect_error(&["--at", "RFC 3339"]);
    iamsim(&["effective", "--user", "u-ana", "--from", "10.0.0"])
        .expect_code(2)
        .expect_error(&["--from", "10.0.0"]);
}

/// The demo with deploy-admin also trusted to an OIDC issuer and to another organization
/// (the latter from 09 to 17 UTC).
fn with_outsiders() -> Value {
    let mut snapshot = demo_snapshot();
    let trusts = snapshot["role_trusts"].as_array_mut().unwrap();
    trusts.push(json!({"id": "t-ci-oidc", "role_id": "r-deploy-admin",
        "trust_type": "FederatedAssumption", "oidc_issuer_id": "oidc-github"}));
    trusts.push(json!({"id": "t-partner", "role_id": "r-deploy-admin",
        "trust_type": "TemporaryAssumption", "trusted_organization_id": "org-partner",
        "conditions": {"time_of_day": {"start": 9, "end": 17}}}));
    snapshot
}

#[test]
fn who_can_names_principals_outside_the_organization() {
    let file = temp_json("trust-outsiders.json", &with_outsiders());
    let ask = |action: &str, ctx: &[&str]| {
        let args = ["who-can", "--action", action, "--snapshot", &file];
        json_of(&[&args[..], ctx].concat())
    };
    let outside = |report: &Value| -> Vec<String> {
        report["outside"].as_array().map_or(Vec::new(), |list| {
            list.iter()
                .map(|o| {
                    format!(
                        "{} {} {}",
                        o["principal_kind"], o["principal_id"], o["role"]["id"]
                    )
                })
                .collect()
        })
    };
    let k8s = ask("kubernetes.cluster.Create", &[]);
    assert_eq!(
        outside(&k8s),
        [
            "\"oidc_issuer\" \"oidc-github\" \"r-deploy-admin\"",
            "\"organization\" \"org-partner\" \"r-deploy-admin\""
        ]
    );
    // Outside the partner's hours, only the issuer; an action the role does not allow: nobody.
    assert_eq!(
        outside(&ask(
            "kubernetes.cluster.Create",
            &["--at", "2026-03-02T20:00:00Z"]
        ))
        .len(),
        1
    );
    assert!(ask("billing.invoice.Read", &[]).get("outside").is_none());
    let table = iamsim(&[
        "who-can",
        "--action",
        "kubernetes.cluster.Create",
        "--snapshot",
        &file,
    ]);
    let words = crate::util::words(&table.stdout);
    assert!(
        words.contains("OIDC issuer oidc-github may assume role deploy-admin (r-deploy-admin) through trust t-ci-oidc FederatedAssumption"),
        "{}",
        table.stdout
    );
    // The trusts are kept through a load: a user's own answers do not change.
    let ana = iamsim(&[
        "effective",
        "--user",
        "u-ana",
        "--snapshot",
        &file,
        "--format",
        "json",
    ])
    .json();
    assert_eq!(ana["assumable"].as_array().unwrap().len(), 1);
}
