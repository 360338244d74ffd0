//! The stories the built-in demo organization tells, in both formats.

use serde_json::json;

use crate::util::{
    check_assumable, check_entries, data, entries, iamsim, Run, A, ANA_ADMIN, DEPLOY_ANA, E,
};

const NOTE_DEMO: &str = "note: no --snapshot given; using the built-in demo organization";

/// Runs a demo command in JSON: exit 0, the demo note on stderr and nothing else there.
fn demo_json(args: &[&str]) -> serde_json::Value {
    let run = iamsim(&[args, &["--format", "json"]].concat());
    let value = run.json();
    assert_eq!(run.stderr.lines().collect::<Vec<_>>().len(), 1, "{run:#?}");
    assert!(run.stderr.starts_with(NOTE_DEMO), "{run:#?}");
    assert_eq!(value["schema_version"], 5, "{run:#?}");
    value
}

fn table(args: &[&str]) -> Run {
    let run = iamsim(args);
    run.expect_code(0);
    run
}

struct EffectiveCase {
    user: &'static str,
    /// `[service_user, suspended, root]`.
    flags: [bool; 3],
    allowed: &'static [E],
    /// Whether `allowed` is the whole list.
    exact: bool,
    /// Actions that must not be allowed on any resource.
    not_allowed: &'static [&'static str],
    denied: &'static [E],
    assumable: &'static [A],
}

#[test]
fn effective_on_the_demo() {
    let cases = [
        EffectiveCase {
            user: "ana@acme.example",
            flags: [false, false, false],
            allowed: &[
                (
                    "account.billing.Read",
                    "*",
                    &[
                        "user:u-ana > group:g-billing > policy:p-billing-read > #0",
                        "user:u-ana > group:g-devops > policy:p-cost-read > #0",
                    ],
                ),
                (
                    "compute.instance.List",
                    "*",
                    &[
                        "user:u-ana > role:r-viewer > policy:p-compute-read > #0",
                        "user:u-ana > group:g-devops > policy:p-compute-admin > #0",
                    ],
                ),
                (
                    "compute.instance.Create",
                    "*",
                    &["user:u-ana > group:g-devops > policy:p-compute-admin > #0"],
                ),
                (
                    "compute.*",
                    "*",
                    &["user:u-ana > group:g-devops > policy:p-compute-admin > #0"],
                ),
                (
                    "network.firewall.Create",
                    "*",
                    &["user:u-ana > group:g-devops > role:r-net-operator > policy:p-network-ops > #0"],
                ),
                (
                    "container.registry.Push",
                    "registry:reg-7f3a",
                    &["user:u-ana > group:g-devops > policy:p-registry-push > #0"],
                ),
                (
                    "support.ticket.*",
                    "*",
                    &["user:u-ana > policy:p-support > #0"],
                ),
            ],
            exact: false,
            // Assumable only: deploy-admin gives no standing access.
            not_allowed: &["kubernetes.cluster.*"],
            denied: &[],
            assumable: &[DEPLOY_ANA],
        },
        EffectiveCase {
            user: "ci-deployer@acme.example",
            flags: [true, false, false],
            allowed: &[
                (
                    "container.registry.Pull",
                    "registry:reg-7f3a",
                    &["user:u-ci > policy:p-registry-push > #0"],
                ),
                (
                    "container.registry.Push",
                    "registry:reg-7f3a",
                    &["user:u-ci > policy:p-registry-push > #0"],
                ),
            ],
            exact: true,
            not_allowed: &[],
            denied: &[],
            assumable: &[],
        },
        EffectiveCase {
            // Suspended, in DevOps and so trusted for deploy-admin: nothing at all.
            user: "ben@acme.example",
            flags: [false, true, false],
            allowed: &[],
            exact: true,
            not_allowed: &[],
            denied: &[],
            assumable: &[],
        },
        EffectiveCase {
            user: "olivia@acme.example",
            flags: [false, false, true],
            allowed: &[("*", "*", &["user:u-olivia > organization:org-acme"])],
            exact: true,
            not_allowed: &[],
            denied: &[],
            assumable: &[],
        },
        EffectiveCase {
            // By id; the Contractors Deny wins over DevOps's compute.*.
            user: "u-dan",
            flags: [false, false, false],
            allowed: &[(
                "compute.instance.Create",
                "*",
                &["user:u-dan > group:g-devops > policy:p-compute-admin > #0"],
            )],
            exact: false,
            not_allowed: &["compute.instance.Delete"],
            denied: &[(
                "compute.instance.Delete",
                "*",
                &["user:u-dan > group:g-contractors > policy:p-no-instance-delete > #0"],
            )],
            assumable: &[(
                "r-deploy-admin",
                "t-deploy-devops",
                &["user:u-dan > group:g-devops"],
            )],
        },
    ];
    for case in cases {
        let what = case.user;
        let value = demo_json(&["effective", "--user", case.user]);
        let user = &value["user"];
        assert_eq!(
            [&user["service_user"], &user["suspended"], &user["root"]],
            case.flags.map(serde_json::Value::from).each_ref(),
            "{what}: flags"
        );
        check_entries(
            what,
            &value["allowed"],
            case.allowed,
            case.exact,
            case.not_allowed,
        );
        check_entries(what, &value["denied"], case.denied, true, &[]);
        check_assumable(what, &value["assumable"], case.assumable);
    }
}

#[test]
fn effective_table_on_the_demo() {
    let cases: &[(&str, &[&str], &[&str])] = &[
        (
            "ana@acme.example",
            &[
                "Ana <ana@acme.example> (u-ana)\n",
                "  account.billing.Read  on *\n    via group Billing > policy billing-read #0\n    via group DevOps > policy cost-read #0\n",
                "  container.registry.Pull, container.registry.Push  on registry:reg-7f3a\n",
                "DENIED (0)",
                "ASSUMABLE (1): no standing access\n  role deploy-admin (r-deploy-admin) via group DevOps\n",
            ],
            &[],
        ),
        (
            "ci-deployer@acme.example",
            &["[service user]", "ALLOWED (2)\n", "    via policy registry-push #0\n"],
            &[],
        ),
        (
            "ben@acme.example",
            &["[suspended]", "suspended: no access", "ALLOWED (0)\n", "ASSUMABLE (0)"],
            &[],
        ),
        (
            "olivia@acme.example",
            &["[root]", "ALLOWED (1)\n  *  on *\n    via root of organization Acme\n"],
            // The footnote about wildcards standing for unnamed actions is wrong for root.
            &["the catalogue does not name"],
        ),
    ];
    for (user, present, absent) in cases {
        let run = table(&["effective", "--user", user]);
        for text in *present {
            assert!(
                run.stdout.contains(text),
                "{user}: `{text}` in\n{}",
                run.stdout
            );
        }
        for text in *absent {
            assert!(
                !run.stdout.contains(text),
                "{user}: `{text}` in\n{}",
                run.stdout
            );
        }
    }
}

struct ImpactCase {
    snapshot: Option<&'static str>,
    group: &'static str,
    user: &'static str,
    user_id: &'static str,
    group_id: &'static str,
    lost: &'static [E],
    /// Whether `lost` is the whole list.
    lost_exact: bool,
    /// The first steps every lost path starts with.
    lost_through: &'static str,
    not_lost: &'static [&'static str],
    kept: &'static [E],
    gained: &'static [E],
    assumable_lost: &'static [A],
    unchanged: u64,
    note: Option<&'static str>,
}

const DEVOPS_ADMIN: &[&str] = &[ANA_ADMIN];

#[test]
fn impact_on_the_demo_and_by_rule() {
    let cases = [
        ImpactCase {
            // Vultr's own story: Ana leaves DevOps and keeps billing through Billing.
            snapshot: None,
            group: "DevOps",
            user: "ana@acme.example",
            user_id: "u-ana",
            group_id: "g-devops",
            lost: &[
                ("compute.instance.Create", "*", DEVOPS_ADMIN),
                ("compute.instance.Delete", "*", DEVOPS_ADMIN),
                ("compute.*", "*", DEVOPS_ADMIN),
                (
                    "network.dns.*",
                    "*",
                    &["user:u-ana > group:g-devops > role:r-net-operator > policy:p-network-ops > #0"],
                ),
                (
                    "container.registry.Push",
                    "registry:reg-7f3a",
                    &["user:u-ana > group:g-devops > policy:p-registry-push > #0"],
                ),
            ],
            lost_exact: false,
            lost_through: "user:u-ana > group:g-devops > ",
            not_lost: &[
                "compute.instance.List",
                "compute.instance.Read",
                "account.billing.Read",
                "account.bandwidth.Read",
                "support.ticket.*",
            ],
            kept: &[
                (
                    "account.billing.Read",
                    "*",
                    &["user:u-ana > group:g-billing > policy:p-billing-read > #0"],
                ),
                (
                    "compute.instance.List",
                    "*",
                    &["user:u-ana > role:r-viewer > policy:p-compute-read > #0"],
                ),
                (
                    "compute.instance.Read",
                    "*",
                    &["user:u-ana > role:r-viewer > policy:p-compute-read > #0"],
                ),
            ],
            gained: &[],
            assumable_lost: &[DEPLOY_ANA],
            // account.bandwidth.Read, user.acl.Billing, support.ticket.* and its 8 actions.
            unchanged: 11,
            note: None,
        },
        ImpactCase {
            // The Deny that only Contractors carried goes away.
            snapshot: None,
            group: "Contractors",
            user: "dan@acme.example",
            user_id: "u-dan",
            group_id: "g-contractors",
            lost: &[],
            lost_exact: true,
            lost_through: "",
            not_lost: &[],
            kept: &[],
            gained: &[(
                "compute.instance.Delete",
                "*",
                &["user:u-dan > group:g-devops > policy:p-compute-admin > #0"],
            )],
            assumable_lost: &[],
            unchanged: 37,
            note: None,
        },
        ImpactCase {
            snapshot: None,
            group: "g-devops",
            user: "u-ben",
            user_id: "u-ben",
            group_id: "g-devops",
            lost: &[],
            lost_exact: true,
            lost_through: "",
            not_lost: &[],
            kept: &[],
            gained: &[],
            assumable_lost: &[],
            unchanged: 0,
            note: Some("suspended user"),
        },
        ImpactCase {
            snapshot: Some("small.json"),
            group: "Ops",
            user: "root@t.example",
            user_id: "u-root",
            group_id: "g-ops",
            lost: &[],
            lost_exact: true,
            lost_through: "",
            not_lost: &[],
            kept: &[],
            gained: &[],
            assumable_lost: &[],
            unchanged: 0,
            note: Some("root user: unconditional access; no change affects them"),
        },
    ];
    for case in cases {
        let what = format!("remove {} from {}", case.user, case.group);
        let path;
        let mut args = vec![
            "impact",
            "remove-member",
            "--group",
            case.group,
            "--user",
            case.user,
        ];
        if let Some(snapshot) = case.snapshot {
            path = data(snapshot);
            args.extend(["--snapshot", &path]);
        }
        let run = iamsim(&[&args[..], &["--format", "json"]].concat());
        let value = run.json();
        assert_eq!(value["schema_version"], 5, "{what}");
        let changes = value["changes"].as_array().expect("changes");
        assert_eq!(changes.len(), 1, "{what}");
        assert_eq!(changes[0]["kind"], "remove_member", "{what}");
        assert_eq!(changes[0]["group"]["id"], case.group_id, "{what}");
        assert_eq!(changes[0]["user"]["id"], case.user_id, "{what}");
        let users = value["users"].as_array().expect("users");
        assert_eq!(users.len(), 1, "{what}: only the removed user is affected");
        let user = &users[0];
        assert_eq!(user["user"]["id"], case.user_id, "{what}");
        check_entries(
            &what,
            &user["lost"],
            case.lost,
            case.lost_exact,
            case.not_lost,
        );
        for (action, resource, via) in entries(&user["lost"]) {
            assert!(
                via.iter().all(|p| p.starts_with(case.lost_through)),
                "{what}: {action} on {resource} lost but granted {via:?}"
            );
        }
        check_entries(&what, &user["kept"], case.kept, true, &[]);
        check_entries(&what, &user["gained"], case.gained, true, &[]);
        check_assumable(&what, &user["assumable_lost"], case.assumable_lost);
        assert_eq!(user["unchanged_count"], case.unchanged, "{what}");
        match case.note {
            None => assert!(user["note"].is_null(), "{what}"),
            Some(note) => {
                let got = user["note"].as_str().expect("a note");
                assert!(got.contains(note), "{what}: note {got}");
                // The table says it too, in place of the groups.
                let table = table(&args);
                assert!(table.stdout.contains(got), "{what}: {}", table.stdout);
                assert!(!table.stdout.contains("LOST"), "{what}: {}", table.stdout);
            }
        }
    }
}

#[test]
fn impact_json_shape() {
    let value = demo_json(&[
        "impact",
        "remove-member",
        "--group",
        "DevOps",
        "--user",
        "ana@acme.example",
    ]);
    assert_eq!(
        value["changes"],
        json!([{
            "kind": "remove_member",
            "group": {"id": "g-devops", "name": "DevOps"},
            "user": {"id": "u-ana", "email": "ana@acme.example"}
        }])
    );
    assert_eq!(
        value["users"][0]["user"],
        json!({
            "id": "u-ana", "email": "ana@acme.example", "name": "Ana",
            "service_user": false, "suspended": false, "root": false
        })
    );
    assert_eq!(
        value["users"][0]["assumable_lost"],
        json!([{
            "role": {"id": "r-deploy-admin", "name": "deploy-admin"},
            "trust": {
                "id": "t-deploy-devops",
                "trust_type": "TemporaryAssumption",
                "conditions": {"time_of_day": {"start": 9, "end": 17}, "ip_address": ["10.0.0.0/8"]},
                "valid_until": null
            },
            "via": [[
                {"kind": "user", "id": "u-ana", "name": "ana@acme.example"},
                {"kind": "group", "id": "g-devops", "name": "DevOps"}
            ]]
        }])
    );
    // A full path, steps and all.
    let kept = &value["users"][0]["kept"][0];
    assert_eq!(
        kept,
        &json!({
            "action": "account.billing.Read",
            "resource": "*",
            "via": [[
                {"kind": "user", "id": "u-ana", "name": "ana@acme.example"},
                {"kind": "group", "id": "g-billing", "name": "Billing"},
                {"kind": "policy", "id": "p-billing-read", "name": "billing-read"},
                {"kind": "statement", "index": 0}
            ]]
        })
    );
}

#[test]
fn impact_tables_snapshot() {
    for (name, group, user) in [
        ("impact_devops_ana_table", "DevOps", "ana@acme.example"),
        (
            "impact_contractors_dan_table",
            "Contractors",
            "dan@acme.example",
        ),
    ] {
        let run = table(&["impact", "remove-member", "--group", group, "--user", user]);
        assert!(
            run.stdout.lines().all(|l| l.chars().count() <= 80),
            "{name}: a line wider than 80 columns:\n{}",
            run.stdout
        );
        insta::assert_snapshot!(name, run.stdout);
    }
}

#[test]
fn impact_json_snapshot() {
    let run = iamsim(&[
        "impact",
        "remove-member",
        "--group",
        "DevOps",
        "--user",
        "ana@acme.example",
        "--format",
        "json",
    ]);
    run.json();
    insta::assert_snapshot!("impact_devops_ana_json", run.stdout);
}

/// `(user, action, resource, decision, allow paths, deny paths, note, evaluated_as)`.
type Why = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
    Option<&'static str>,
    Option<&'static str>,
);

#[test]
fn explain_on_the_demo() {
    let cases: &[Why] = &[
        (
            "ana@acme.example",
            "compute.instance.Create",
            "*",
            "allowed",
            DEVOPS_ADMIN,
            &[],
            None,
            None,
        ),
        (
            "dan@acme.example",
            "compute.instance.Delete",
            "*",
            "explicit_deny",
            &["user:u-dan > group:g-devops > policy:p-compute-admin > #0"],
            &["user:u-dan > group:g-contractors > policy:p-no-instance-delete > #0"],
            None,
            None,
        ),
        (
            "cara@acme.example",
            "compute.instance.Create",
            "*",
            "implicit_deny",
            &[],
            &[],
            None,
            None,
        ),
        (
            "ci-deployer@acme.example",
            "container.registry.Push",
            "registry:reg-7f3a",
            "allowed",
            &["user:u-ci > policy:p-registry-push > #0"],
            &[],
            None,
            None,
        ),
        (
            // Granted on one registry, not on every resource.
            "ci-deployer@acme.example",
            "container.registry.Push",
            "*",
            "implicit_deny",
            &[],
            &[],
            None,
            None,
        ),
        (
            "ben@acme.example",
            "compute.instance.Create",
            "*",
            "implicit_deny",
            &[],
            &[],
            Some("suspended"),
            None,
        ),
        (
            "olivia@acme.example",
            "compute.instance.Delete",
            "*",
            "allowed",
            &["user:u-olivia > organization:org-acme"],
            &[],
            Some("root"),
            None,
        ),
        (
            // A wildcard element, as results show it.
            "ana@acme.example",
            "compute.*",
            "*",
            "allowed",
            DEVOPS_ADMIN,
            &[],
            None,
            None,
        ),
        (
            // Not in the catalogue: decided by the wildcard that covers it.
            "ana@acme.example",
            "compute.gizmo.Spin",
            "*",
            "allowed",
            DEVOPS_ADMIN,
            &[],
            None,
            Some("compute.*"),
        ),
    ];
    for &(user, action, resource, decision, allow, deny, note, evaluated_as) in cases {
        let what = format!("{user} {action} on {resource}");
        let args = [
            "explain",
            "--user",
            user,
            "--action",
            action,
            "--resource",
            resource,
        ];
        let value = demo_json(&args);
        assert_eq!(value["action"], action, "{what}");
        assert_eq!(value["resource"], resource, "{what}");
        assert_eq!(value["decision"], decision, "{what}");
        let paths = |key: &str| -> Vec<String> {
            value[key]
                .as_array()
                .expect("paths")
                .iter()
                .map(crate::util::path_text)
                .collect()
        };
        assert_eq!(paths("allow"), allow, "{what}: allow");
        assert_eq!(paths("deny"), deny, "{what}: deny");
        match note {
            None => assert!(value["note"].is_null(), "{what}"),
            Some(fragment) => assert!(
                value["note"].as_str().expect("note").contains(fragment),
                "{what}: {}",
                value["note"]
            ),
        }
        assert_eq!(value["evaluated_as"].as_str(), evaluated_as, "{what}");

        let word = match decision {
            "allowed" => "ALLOWED",
            "explicit_deny" => "EXPLICIT DENY",
            _ => "IMPLICIT DENY",
        };
        let run = table(&args);
        let headline = format!("{action} on {resource}: {word}\n");
        assert!(run.stdout.contains(&headline), "{what}:\n{}", run.stdout);
        let deny_lines = run
            .stdout
            .lines()
            .filter(|l| l.starts_with("  deny via "))
            .count();
        assert_eq!(deny_lines, deny.len(), "{what}:\n{}", run.stdout);
    }
}
