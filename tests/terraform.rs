//! `impact --terraform-plan` and `terraform-changes` on the plan fixtures of
//! `tests/data/terraform/` (written from the Vultr provider's schema and HashiCorp's JSON
//! plan format, on the demo organization's ids): what each plan maps to, that it gives the same
//! impact as the hand-written change file, how unknowns fail closed, and that no value of the
//! plan (a password, an API key) ever reaches the output.

use serde_json::{json, Value};

use crate::util::{data, demo_snapshot, iamsim, temp_file, temp_json};

fn plan(name: &str) -> String {
    data(&format!("terraform/{name}.json"))
}

fn read_json(path: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("JSON")
}

/// The plans mapped exactly, each beside its hand-written change file.
const EXACT: [&str; 7] = [
    "memberships",
    "attachments",
    "entities",
    "create-group",
    "create-user",
    "create-trust",
    "update-trust",
];

#[test]
fn terraform_changes_prints_the_change_file_the_plan_maps_to() {
    for name in EXACT {
        let run = iamsim(&["terraform-changes", &plan(name)]);
        run.expect_code(0);
        assert!(run.warnings().is_empty(), "{run:#?}");
        let printed: Value = serde_json::from_str(&run.stdout).expect("a change file");
        assert_eq!(
            printed,
            read_json(&plan(&format!("{name}.changes"))),
            "{name}"
        );
    }
}

#[test]
fn a_plan_gives_the_impact_of_its_change_file() {
    for name in EXACT {
        let from_plan = iamsim(&[
            "impact",
            "--terraform-plan",
            &plan(name),
            "--format",
            "json",
        ]);
        let by_hand = iamsim(&[
            "impact",
            "--changes",
            &plan(&format!("{name}.changes")),
            "--format",
            "json",
        ]);
        assert_eq!(from_plan.raw(), by_hand.raw(), "{name}");
        assert!(from_plan.warnings().is_empty(), "{from_plan:#?}");
        // Markdown and tables too: the same report, whatever read the changes.
        for format in ["markdown", "table"] {
            let a = iamsim(&[
                "impact",
                "--terraform-plan",
                &plan(name),
                "--format",
                format,
            ]);
            let b = iamsim(&[
                "impact",
                "--changes",
                &plan(&format!("{name}.changes")),
                "--format",
                format,
            ]);
            assert_eq!(a.stdout, b.stdout, "{name} {format}");
        }
    }
}

#[test]
fn what_the_memberships_plan_does() {
    let report = iamsim(&[
        "impact",
        "--terraform-plan",
        &plan("memberships"),
        "--format",
        "json",
    ])
    .json();
    let users: Vec<&str> = report["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["user"]["id"].as_str().unwrap())
        .collect();
    // Ana leaves DevOps and gets network-operator; Cara joins DevOps. Dan's no-op, the data
    // source's read and the instance are not IAM changes.
    assert_eq!(users, ["u-ana", "u-cara"]);
    let run = iamsim(&[
        "impact",
        "--terraform-plan",
        &plan("memberships"),
        "--fail-if-loses",
        "compute.instance.Delete",
        "--fail-if-gains",
        "compute.*",
    ]);
    run.expect_code(1);
    assert!(
        run.stderr.contains(
            "gate tripped: --fail-if-loses `compute.instance.Delete`: ana@acme.example loses"
        ),
        "{run:#?}"
    );
    assert!(
        run.stderr
            .contains("gate tripped: --fail-if-gains `compute.*`: cara@acme.example gains"),
        "{run:#?}"
    );
    assert!(
        !run.stderr.contains("--terraform-plan:"),
        "no finding hides a change: {run:#?}"
    );
}

#[test]
fn unknowns_fail_closed_unless_allowed() {
    // Dan's groups come from a variable: every current membership may go.
    let run = iamsim(&[
        "impact",
        "--terraform-plan",
        &plan("unknown"),
        "--fail-if-loses",
        "account.billing.Read",
        "--format",
        "json",
    ]);
    run.expect_code(1);
    let warnings = run.warnings();
    assert!(warnings.iter().any(|w| w.ends_with("vultr_user.dan.groups: unknown until apply (from `var.dan_groups`); worst case mapped: 2 removal(s) of what is there now")), "{run:#?}");
    assert!(warnings.iter().any(|w| w.contains("vultr_user.dan: worst case, not certain: {\"kind\":\"remove_member\",\"group\":\"g-devops\",\"user\":\"u-dan\"}")), "{run:#?}");
    assert!(run.stderr.contains("gate tripped: --fail-if-loses `account.billing.Read`: dan@acme.example loses account.billing.Read on *"), "{run:#?}");
    assert!(
        run.stderr
            .contains("gate tripped: --terraform-plan: 1 finding(s) hide changes"),
        "{run:#?}"
    );
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["changes"].as_array().unwrap().len(), 2);
    // --allow-unknown: the worst case alone is judged, and it still loses billing.
    let run = iamsim(&[
        "impact",
        "--terraform-plan",
        &plan("unknown"),
        "--fail-if-loses",
        "account.billing.Read",
        "--allow-unknown",
    ]);
    run.expect_code(1);
    assert!(!run.stderr.contains("--terraform-plan:"), "{run:#?}");
    let run = iamsim(&[
        "impact",
        "--terraform-plan",
        &plan("unknown"),
        "--fail-if-gains",
        "*",
        "--allow-unknown",
    ]);
    run.expect_code(0);
    // Without a gate, the report is printed and the run succeeds.
    iamsim(&["impact", "--terraform-plan", &plan("unknown")]).expect_code(0);

    // An incomplete, errored plan with no change: nobody's access changes, and it still trips.
    let run = iamsim(&[
        "impact",
        "--terraform-plan",
        &plan("incomplete"),
        "--fail-on",
        "any",
    ]);
    run.expect_code(1);
    assert!(run.stdout.contains("Nobody's access changes"), "{run:#?}");
    assert!(run.stderr.contains("plan: `complete` is false"), "{run:#?}");
    assert!(run.stderr.contains("plan: `errored` is true"), "{run:#?}");
    iamsim(&[
        "impact",
        "--terraform-plan",
        &plan("incomplete"),
        "--fail-on",
        "any",
        "--allow-unknown",
    ])
    .expect_code(0);
}

#[test]
fn creations_resolve_references_and_unknown_types_are_named() {
    let run = iamsim(&[
        "impact",
        "--terraform-plan",
        &plan("creates"),
        "--fail-on",
        "gained",
        "--summary",
    ]);
    run.expect_code(1);
    // The created group, policy, user and trust are simulated; the attachment's unknown
    // `policy_id` is the created policy. Dan's groups are unknown as a whole: the created
    // group is added, and what he is in now may go (the worst case), which stays a finding.
    let warnings: Vec<String> = run
        .warnings()
        .iter()
        .map(|w| w.replace(&plan("creates"), "creates.json"))
        .collect();
    assert_eq!(
        warnings,
        [
            "warning: creates.json: vultr_user.dan.groups: unknown until apply: its references (`vultr_organization_group.eng`) are simulated as what this plan creates, but literal ids beside them would not show in the plan; worst case mapped: 2 removal(s) of what is there now",
            "warning: creates.json: vultr_user.dan: worst case, not certain: {\"kind\":\"remove_member\",\"group\":\"g-contractors\",\"user\":\"u-dan\"}",
            "warning: creates.json: vultr_user.dan: worst case, not certain: {\"kind\":\"remove_member\",\"group\":\"g-devops\",\"user\":\"u-dan\"}",
        ],
        "{run:#?}"
    );
    let tripped: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("gate tripped:"))
        .collect();
    assert!(
        tripped[0].starts_with("gate tripped: --fail-on gained: cara@acme.example gains 1 assumable role(s); eve@acme.example gains"),
        "{run:#?}"
    );
    assert_eq!(tripped[1], "gate tripped: --terraform-plan: 1 finding(s) hide changes iamsim cannot simulate (the warnings above); --allow-unknown judges the mapped changes alone");
    let run = iamsim(&["terraform-changes", &plan("unknown-types")]);
    run.expect_code(0);
    for line in [
        "vultr_organization_role_session.deploy: role sessions (assuming a role): not simulated",
        "vultr_organization_permission_boundary.x: resource type `vultr_organization_permission_boundary` is not known to iamsim: not simulated",
    ] {
        assert!(run.warnings().iter().any(|w| w.ends_with(line)), "{line}: {run:#?}");
    }
    // A trust updated in place: the trust as it was goes, the trust as it will be comes.
    assert_eq!(
        serde_json::from_str::<Value>(&run.stdout).unwrap(),
        json!([
            {"kind": "create_role_trust", "id": "vultr_organization_role_trust.deploy",
             "role": "r-deploy-admin", "group": "g-devops", "trust_type": "TemporaryAssumption",
             "conditions": {"time_of_day": {"start": 8, "end": 18}}},
            {"kind": "delete_role_trust", "trust": "t-deploy-devops"}
        ])
    );
}

/// Each reported user of a JSON impact (flattened, one entry per action): id, actions
/// gained, roles newly assumable.
fn gains(report: &Value) -> Vec<(String, Vec<String>, Vec<String>)> {
    report["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            let gained = u["gained"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|g| g["action"].as_str().unwrap().to_string())
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            let roles = u["assumable_gained"]
                .as_array()
                .map(|l| {
                    l.iter()
                        .map(|a| a["role"]["id"].as_str().unwrap().to_string())
                        .collect()
                })
                .unwrap_or_default();
            (u["user"]["id"].as_str().unwrap().to_string(), gained, roles)
        })
        .collect()
}

fn impact_json(name: &str, more: &[&str]) -> Value {
    let path = plan(name);
    let mut args = vec!["impact", "--terraform-plan", &path, "--format", "json"];
    args.extend_from_slice(more);
    let run = iamsim(&args);
    run.expect_code(0);
    assert!(run.warnings().is_empty(), "{run:#?}");
    run.json()
}

#[test]
fn a_created_group_gives_its_members_what_is_attached_to_it() {
    let report = impact_json("create-group", &[]);
    // Cara joins the created group, which holds the created policy and the viewer role.
    assert_eq!(
        gains(&report),
        [(
            "u-cara".to_string(),
            vec![
                "compute.instance.List".to_string(),
                "compute.instance.Read".to_string(),
                "kubernetes.cluster.*".to_string(),
                "kubernetes.cluster.Create".to_string(),
                "kubernetes.cluster.Delete".to_string(),
                "kubernetes.cluster.List".to_string(),
                "kubernetes.cluster.Read".to_string(),
                "kubernetes.cluster.Update".to_string(),
            ],
            vec![]
        )]
    );
    let run = iamsim(&[
        "impact",
        "--terraform-plan",
        &plan("create-group"),
        "--fail-if-gains",
        "kubernetes.*",
    ]);
    run.expect_code(1);
    assert!(
        run.stderr.contains("gate tripped: --fail-if-gains `kubernetes.*`: cara@acme.example gains kubernetes.cluster"),
        "{run:#?}"
    );
}

#[test]
fn created_users_are_reported_with_what_they_gain() {
    let report = impact_json("create-user", &[]);
    let users: Vec<(&str, &str)> = report["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["user"]["id"].as_str().unwrap(),
                u["user"]["email"].as_str().unwrap(),
            )
        })
        .collect();
    // The service user replaced: the old one is removed (and loses its registry access), the
    // new one is created in Contractors (which only denies). Eve and Fay are new.
    assert_eq!(
        users,
        [
            ("u-ci", "ci-deployer@acme.example"),
            ("vultr_user.ci", "ci@acme.example"),
            ("vultr_user.eve", "eve@acme.example"),
            ("vultr_user.fay", "fay@acme.example"),
        ]
    );
    let gained: Vec<(String, usize)> = gains(&report)
        .into_iter()
        .map(|(id, actions, _)| (id, actions.len()))
        .collect();
    assert_eq!(
        gained,
        [
            ("u-ci".to_string(), 0),
            ("vultr_user.ci".to_string(), 0),
            ("vultr_user.eve".to_string(), 5),
            ("vultr_user.fay".to_string(), 9),
        ]
    );
}

#[test]
fn created_and_updated_trusts() {
    let report = impact_json("create-trust", &[]);
    // Cara is trusted for deploy-admin; Dan, in Contractors, for the created oncall role.
    assert_eq!(
        gains(&report),
        [
            (
                "u-cara".to_string(),
                vec![],
                vec!["r-deploy-admin".to_string()]
            ),
            (
                "u-dan".to_string(),
                vec![],
                vec!["vultr_organization_role.oncall".to_string()]
            ),
        ]
    );
    // At 08:30 from inside the range, the trust as it was (09–17) refuses and the trust as it
    // will be (08–18) admits: DevOps gains deploy-admin and loses nothing.
    let at = impact_json(
        "update-trust",
        &["--at", "2026-07-22T08:30:00Z", "--from", "10.1.2.3"],
    );
    for user in at["users"].as_array().unwrap() {
        assert_eq!(user["assumable_lost"], json!([]), "{user:#}");
        assert_eq!(user["assumable_gained"][0]["role"]["id"], "r-deploy-admin");
    }
    assert_eq!(at["users"].as_array().unwrap().len(), 2);
    // At noon both admit: the old trust goes and the new one comes, both shown.
    let noon = impact_json(
        "update-trust",
        &["--at", "2026-07-22T12:00:00Z", "--from", "10.1.2.3"],
    );
    for user in noon["users"].as_array().unwrap() {
        assert_eq!(user["assumable_lost"][0]["trust"]["id"], "t-deploy-devops");
        assert_eq!(
            user["assumable_gained"][0]["trust"]["id"],
            "vultr_organization_role_trust.deploy"
        );
    }
}

#[test]
fn the_snapshot_gives_the_worst_case() {
    // In this snapshot Dan is in Billing alone: that is what an unknown set may take.
    let mut snapshot = demo_snapshot();
    for group in snapshot["groups"].as_array_mut().unwrap() {
        let billing = group["id"] == "g-billing";
        let members = group["members"].as_array_mut().unwrap();
        members.retain(|m| m != "u-dan");
        if billing {
            members.push(json!("u-dan"));
        }
    }
    let path = temp_json("dan-in-billing.json", &snapshot);
    let run = iamsim(&["terraform-changes", &plan("unknown"), "--snapshot", &path]);
    assert_eq!(
        serde_json::from_str::<Value>(&run.stdout).unwrap(),
        json!([{"kind": "remove_member", "group": "g-billing", "user": "u-dan"}])
    );
    let run = iamsim(&[
        "impact",
        "--terraform-plan",
        &plan("unknown"),
        "--snapshot",
        &path,
        "--format",
        "json",
    ]);
    assert_eq!(run.raw()["changes"].as_array().unwrap().len(), 1);
}

#[test]
fn bad_plans_are_one_line_errors() {
    let types = r#"{"format_version": "1.2", "resource_changes": [{"address": "vultr_user.a", "type": "vultr_user", "name": "a", "change": {"actions": ["update"], "before": {"id": "u-ana", "password": "hunter2-BAD-PLAN", "groups": "hunter2-BAD-PLAN"}, "after": {"id": "u-ana"}}}]}"#;
    let noop = r#"{"format_version": "1.2", "resource_changes": [{"address": "vultr_organization_policy_user_attachment.a", "type": "vultr_organization_policy_user_attachment", "name": "a", "change": {"actions": ["delete"], "before": {"policy_id": "p-support", "user_id": "u-dan"}, "after": null}}]}"#;
    let cases: Vec<(String, Vec<&str>)> = vec![
        (plan("format-2"), vec!["format-2.json: format_version: unsupported plan format version `2.0` (expected 1.x)"]),
        (plan("missing"), vec!["missing.json: no such file"]),
        (temp_file("state.json", r#"{"format_version": "1.0", "values": {}}"#),
         vec!["not a plan: no `resource_changes` or `planned_values`"]),
        (temp_file("bad.json", "{\"format_version\": \"1.2\","),
         vec!["bad.json: EOF while parsing a value at line 1 column 25"]),
        (temp_file("types.json", types),
         vec!["resource_changes[0].change.before.groups: expected an array of strings, found a string"]),
        (temp_file("noop.json", noop),
         vec!["noop.json: vultr_organization_policy_user_attachment.a (change 0 of the mapped changes): ", "the change does nothing"]),
    ];
    for (path, fragments) in &cases {
        for args in [
            vec!["terraform-changes", path],
            vec!["impact", "--terraform-plan", path],
        ] {
            if fragments.iter().any(|f| f.contains("does nothing"))
                && args[0] == "terraform-changes"
            {
                // Mapping alone does not know the organization: the change file is printed.
                iamsim(&args).expect_code(0);
                continue;
            }
            let run = iamsim(&args);
            run.expect_error(fragments);
            assert!(!run.stderr.contains("hunter2"), "{run:#?}");
        }
    }
    // Usage: one source of changes; --allow-unknown only with a plan.
    iamsim(&[
        "impact",
        "--terraform-plan",
        &plan("memberships"),
        "--changes",
        &plan("memberships.changes"),
    ])
    .expect_error(&[
        "give one of --terraform-plan PLAN.json, --changes FILE or a change subcommand",
    ]);
    iamsim(&[
        "impact",
        "--changes",
        &plan("memberships.changes"),
        "--allow-unknown",
    ])
    .expect_error(&["--allow-unknown is for --terraform-plan PLAN.json"]);
}

#[test]
fn no_value_of_a_plan_reaches_the_output() {
    // Every fixture holds users with a password and an API key in plain text.
    const SECRETS: [&str; 2] = ["hunter2-PLAN-PASSWORD", "VULTRKEY-PLAN-API-KEY"];
    let text = std::fs::read_to_string(plan("memberships")).unwrap();
    assert!(
        SECRETS.iter().all(|s| text.contains(s)),
        "the fixture holds the secrets"
    );
    for name in [
        "memberships",
        "attachments",
        "entities",
        "create-group",
        "create-user",
        "create-trust",
        "update-trust",
        "creates",
        "unknown",
        "incomplete",
        "unknown-types",
    ] {
        let mut runs = vec![iamsim(&["terraform-changes", &plan(name)])];
        for format in ["table", "json", "markdown"] {
            runs.push(iamsim(&[
                "impact",
                "--terraform-plan",
                &plan(name),
                "--format",
                format,
                "--fail-on",
                "any",
                "--show-kept",
            ]));
        }
        runs.push(iamsim(&[
            "impact",
            "--terraform-plan",
            &plan(name),
            "--summary",
            "--format",
            "json",
        ]));
        for run in runs {
            for secret in SECRETS {
                assert!(
                    !run.stdout.contains(secret) && !run.stderr.contains(secret),
                    "{secret} in {run:#?}"
                );
            }
        }
    }
}

#[test]
fn change_files_with_creations_name_the_change_at_fault() {
    let file = |name: &str, changes: Value| temp_json(name, &changes);
    let made = file(
        "made.json",
        json!([
            {"kind": "create_group", "id": "g-new", "name": "Platform"},
            {"kind": "attach_role", "role": "viewer", "group": "Platform"},
            {"kind": "add_member", "group": "g-new", "user": "cara@acme.example"}
        ]),
    );
    let report = iamsim(&["impact", "--changes", &made, "--format", "json"]).json();
    assert_eq!(report["users"][0]["user"]["id"], "u-cara");
    assert_eq!(report["changes"][0]["kind"], "create_group");
    for (name, changes, error) in [
        (
            "early.json",
            json!([
                {"kind": "add_member", "group": "g-new", "user": "u-cara"},
                {"kind": "create_group", "id": "g-new", "name": "Platform"}
            ]),
            "early.json: [0]: group `g-new` does not exist yet: a later change creates it",
        ),
        (
            "exists.json",
            json!([
                {"kind": "remove_member", "group": "g-devops", "user": "u-ana"},
                {"kind": "create_user", "id": "u-ana", "email": "x@acme.example"}
            ]),
            "exists.json: [1]: user `u-ana` already exists",
        ),
        (
            "assignable.json",
            json!([{"kind": "create_role_trust", "id": "t", "role": "viewer", "user": "u-cara"}]),
            "assignable.json: [0]: role `r-viewer` is assignable: only an assumable role can be trusted",
        ),
    ] {
        let path = file(name, changes);
        iamsim(&["impact", "--changes", &path]).expect_error(&[error]);
    }
}
