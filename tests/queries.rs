//! The org-wide questions, in JSON on the demo organization and on fixtures: who can do an
//! action, what is redundant, what changed between two snapshots, and which of a user's
//! attachments matters most. Each is also checked against `effective` and `impact`, which
//! answer the same question another way.

use serde_json::{json, Value};

use crate::util::{
    data, demo_and_modified, demo_snapshot, entries, iamsim, path_text, paths, temp_file,
    temp_json, ANA_ADMIN, ANA_SUPPORT, ANA_VIEWER, DAN_ADMIN,
};

const ROOT: &str = "user:u-olivia > organization:org-acme";

/// Runs `iamsim ARGS --format json` and returns the document (exit 0 asserted).
fn json_of(args: &[&str]) -> Value {
    let value = iamsim(&[args, &["--format", "json"]].concat()).json();
    assert_eq!(value["schema_version"], 5, "{args:?}");
    value
}

/// `(user id, paths)` of a who-can list.
fn who(list: &Value) -> Vec<(String, Vec<String>)> {
    list.as_array()
        .expect("users")
        .iter()
        .map(|u| {
            (
                u["user"]["id"].as_str().expect("id").to_string(),
                paths(&u["via"]),
            )
        })
        .collect()
}

fn owned(list: &[(&str, &[&str])]) -> Vec<(String, Vec<String>)> {
    list.iter()
        .map(|(id, via)| (id.to_string(), via.iter().map(|p| p.to_string()).collect()))
        .collect()
}

/// `(action, resource, evaluated_as, allowed: (user, paths), denied: (user, deny paths,
/// overridden allow paths))`.
type WhoCase = (
    &'static str,
    &'static str,
    Option<&'static str>,
    &'static [(&'static str, &'static [&'static str])],
    &'static [(
        &'static str,
        &'static [&'static str],
        &'static [&'static str],
    )],
);

#[test]
fn who_can_on_the_demo() {
    let cases: &[WhoCase] = &[
        (
            "compute.instance.Delete",
            "*",
            None,
            &[("u-ana", &[ANA_ADMIN]), ("u-olivia", &[ROOT])],
            &[(
                "u-dan",
                &["user:u-dan > group:g-contractors > policy:p-no-instance-delete > #0"],
                &[DAN_ADMIN],
            )],
        ),
        (
            "container.registry.Push",
            "registry:reg-7f3a",
            None,
            &[
                (
                    "u-ana",
                    &["user:u-ana > group:g-devops > policy:p-registry-push > #0"],
                ),
                ("u-ci", &["user:u-ci > policy:p-registry-push > #0"]),
                (
                    "u-dan",
                    &["user:u-dan > group:g-devops > policy:p-registry-push > #0"],
                ),
                ("u-olivia", &[ROOT]),
            ],
            &[],
        ),
        // Granted on one registry only: on any resource, only root.
        (
            "container.registry.Push",
            "*",
            None,
            &[("u-olivia", &[ROOT])],
            &[],
        ),
        (
            "compute.instance.List",
            "*",
            None,
            &[
                ("u-ana", &[ANA_VIEWER, ANA_ADMIN]),
                ("u-dan", &[DAN_ADMIN]),
                ("u-olivia", &[ROOT]),
            ],
            &[],
        ),
        // Ben is in DevOps but suspended: never listed.
        (
            "account.billing.Read",
            "*",
            None,
            &[
                (
                    "u-ana",
                    &[
                        "user:u-ana > group:g-billing > policy:p-billing-read > #0",
                        "user:u-ana > group:g-devops > policy:p-cost-read > #0",
                    ],
                ),
                (
                    "u-cara",
                    &["user:u-cara > group:g-billing > policy:p-billing-read > #0"],
                ),
                (
                    "u-dan",
                    &["user:u-dan > group:g-devops > policy:p-cost-read > #0"],
                ),
                ("u-olivia", &[ROOT]),
            ],
            &[],
        ),
        // Not in the catalogue: decided by the wildcard element that covers it.
        (
            "compute.gizmo.Spin",
            "*",
            Some("compute.*"),
            &[
                ("u-ana", &[ANA_ADMIN]),
                ("u-dan", &[DAN_ADMIN]),
                ("u-olivia", &[ROOT]),
            ],
            &[],
        ),
        // Only through the assumable deploy-admin: no standing access but root's.
        (
            "kubernetes.cluster.Create",
            "*",
            None,
            &[("u-olivia", &[ROOT])],
            &[],
        ),
    ];
    for &(action, resource, evaluated_as, allowed, denied) in cases {
        let what = format!("who-can {action} on {resource}");
        let value = json_of(&["who-can", "--action", action, "--resource", resource]);
        assert_eq!(value["action"], action, "{what}");
        assert_eq!(value["resource"], resource, "{what}");
        assert_eq!(value["evaluated_as"].as_str(), evaluated_as, "{what}");
        assert_eq!(who(&value["allowed"]), owned(allowed), "{what}: allowed");
        for user in value["allowed"].as_array().expect("allowed") {
            // The root user is flagged; only the denied carry `overridden`.
            assert_eq!(
                user["user"]["root"],
                user["user"]["id"] == "u-olivia",
                "{what}"
            );
            assert!(user.get("overridden").is_none(), "{what}: {user}");
        }
        let got: Vec<(String, Vec<String>, Vec<String>)> = value["denied"]
            .as_array()
            .expect("denied")
            .iter()
            .map(|u| {
                (
                    u["user"]["id"].as_str().expect("id").to_string(),
                    paths(&u["via"]),
                    paths(&u["overridden"]),
                )
            })
            .collect();
        let want: Vec<(String, Vec<String>, Vec<String>)> = denied
            .iter()
            .map(|(id, via, over)| {
                (
                    id.to_string(),
                    via.iter().map(|p| p.to_string()).collect(),
                    over.iter().map(|p| p.to_string()).collect(),
                )
            })
            .collect();
        assert_eq!(got, want, "{what}: denied");
    }
}

/// `a ∈ effective(u)` ⇔ `u ∈ who-can(a)`, with the same paths, for every demo user.
#[test]
fn who_can_agrees_with_effective() {
    let users = ["u-olivia", "u-ana", "u-dan", "u-ben", "u-cara", "u-ci"];
    type Listed = Vec<(String, String, Vec<String>)>;
    let effective: Vec<(String, Listed, bool)> = users
        .iter()
        .map(|u| {
            let value = json_of(&["effective", "--user", u]);
            let root = value["user"]["root"].as_bool().expect("root");
            (u.to_string(), entries(&value["allowed"]), root)
        })
        .collect();
    for (action, resource) in [
        ("compute.instance.Delete", "*"),
        ("compute.instance.List", "*"),
        ("compute.*", "*"),
        ("network.dns.*", "*"),
        ("account.billing.Read", "*"),
        ("user.acl.Billing", "*"),
        ("support.ticket.Read", "*"),
        ("container.registry.Pull", "registry:reg-7f3a"),
        ("kubernetes.cluster.Create", "*"),
    ] {
        let value = json_of(&["who-can", "--action", action, "--resource", resource]);
        let allowed = who(&value["allowed"]);
        for (user, list, root) in &effective {
            let in_who = allowed.iter().find(|(id, _)| id == user);
            let in_effective = if *root {
                Some(vec![ROOT.to_string()])
            } else {
                crate::util::find(list, action, resource).cloned()
            };
            assert_eq!(
                in_who.map(|(_, via)| via.clone()),
                in_effective,
                "{user} and {action} on {resource}"
            );
        }
    }
}

/// A redundant edge's change, as a change file entry naming every entity by id.
fn change_spec(summary: &Value) -> Value {
    let mut spec = json!({"kind": summary["kind"]});
    for key in ["group", "user", "role", "policy", "trust"] {
        if let Some(entity) = summary.get(key) {
            spec[key] = entity["id"].clone();
        }
    }
    spec
}

/// Covered users of a redundant edge: `(user, actions still allowed, through what)`.
type Covered<'a> = &'a [(&'a str, &'a [&'a str], &'a [&'a str])];

/// Asserts the redundancy report's edges and shadowed statements, and that removing each edge
/// really changes nothing for anyone (by running `impact` on it).
fn check_redundant(snapshot: &[&str], edges: &[(Value, Covered)], shadowed: Value) {
    let value = json_of(&[&["redundant"][..], snapshot].concat());
    let got = value["edges"].as_array().expect("edges");
    assert_eq!(got.len(), edges.len(), "{value:#}");
    for (edge, (change, covered)) in got.iter().zip(edges) {
        assert_eq!(&edge["change"], change);
        // Per covered user: how many permissions stay allowed, and through what.
        let users: Vec<(String, usize, Vec<String>)> = edge["covered"]
            .as_array()
            .expect("covered")
            .iter()
            .map(|u| {
                (
                    u["user"]["id"].as_str().expect("id").to_string(),
                    u["kept"].as_u64().expect("kept") as usize,
                    u["via"]
                        .as_array()
                        .expect("via")
                        .iter()
                        .map(path_text)
                        .collect(),
                )
            })
            .collect();
        let want: Vec<(String, usize, Vec<String>)> = covered
            .iter()
            .map(|(id, actions, via)| {
                (
                    id.to_string(),
                    actions.len(),
                    via.iter().map(|p| p.to_string()).collect(),
                )
            })
            .collect();
        assert_eq!(users, want, "{change}: covered");

        let file = temp_json("redundant-edge.json", &json!([change_spec(change)]));
        let impact = json_of(&[&["impact", "--changes", &file][..], snapshot].concat());
        for user in impact["users"].as_array().expect("users") {
            for list in ["lost", "gained", "assumable_lost"] {
                assert_eq!(user[list], json!([]), "{change}: {user:#}");
            }
        }
    }
    assert_eq!(value["shadowed"], shadowed);
}

#[test]
fn redundant_on_the_demo() {
    let viewer = json!({"id": "r-viewer", "name": "viewer"});
    let covered: Covered = &[(
        "u-ana",
        &["compute.instance.List", "compute.instance.Read"],
        &[ANA_ADMIN],
    )];
    check_redundant(
        &[],
        &[
            (
                json!({"kind": "detach_role", "user": {"id": "u-ana", "email": "ana@acme.example"},
                       "role": viewer}),
                covered,
            ),
            (
                json!({"kind": "detach_policy", "role": viewer,
                       "policy": {"id": "p-compute-read", "name": "compute-read"}}),
                covered,
            ),
        ],
        json!([]),
    );
}

/// `redundant --group G` and `--user U` on a snapshot are the whole report filtered: the edges
/// that touch one of the groups or users named (a membership of G or of U, an attachment to G
/// or to U), in the same order, and the shadowed statements of the policies attached directly
/// to one of them; and `scope` names them. Checked per group, per user and for a group and a
/// user together (the union). Returns how many edges the narrowed reports listed in all.
fn check_narrowed(snapshot_args: &[&str], snapshot: &Value, picks: &[(&[&str], &[&str])]) -> usize {
    let full = json_of(&[&["redundant"][..], snapshot_args].concat());
    assert!(full.get("scope").is_none(), "the whole report has no scope");
    let entities = |kind: &str| snapshot[kind].as_array().cloned().unwrap_or_default();
    let direct_policies = |kind: &str, id: &str| -> Vec<Value> {
        entities(kind)
            .iter()
            .find(|e| e["id"] == id)
            .and_then(|e| e["policies"].as_array().cloned())
            .unwrap_or_default()
    };
    let mut listed = 0;
    for (groups, users) in picks {
        let mut args = vec!["redundant"];
        for g in *groups {
            args.extend(["--group", g]);
        }
        for u in *users {
            args.extend(["--user", u]);
        }
        args.extend_from_slice(snapshot_args);
        let narrowed = json_of(&args);
        let touches = |change: &Value| {
            groups.iter().any(|g| change["group"]["id"] == *g)
                || users.iter().any(|u| change["user"]["id"] == *u)
        };
        let edges: Vec<&Value> = full["edges"]
            .as_array()
            .expect("edges")
            .iter()
            .filter(|e| touches(&e["change"]))
            .collect();
        let got: Vec<&Value> = narrowed["edges"]
            .as_array()
            .expect("edges")
            .iter()
            .collect();
        assert_eq!(got, edges, "{args:?}: edges");
        let mut policies: Vec<Value> = Vec::new();
        for g in *groups {
            policies.extend(direct_policies("groups", g));
        }
        for u in *users {
            policies.extend(direct_policies("users", u));
        }
        let shadowed: Vec<&Value> = full["shadowed"]
            .as_array()
            .expect("shadowed")
            .iter()
            .filter(|s| policies.contains(&s["policy"]["id"]))
            .collect();
        let got: Vec<&Value> = narrowed["shadowed"]
            .as_array()
            .expect("shadowed")
            .iter()
            .collect();
        assert_eq!(got, shadowed, "{args:?}: shadowed");
        let ids = |list: &Value| -> Vec<String> {
            list.as_array()
                .expect("scope list")
                .iter()
                .map(|e| e["id"].as_str().expect("id").to_string())
                .collect()
        };
        let mut want_groups: Vec<String> = groups.iter().map(|g| g.to_string()).collect();
        let mut want_users: Vec<String> = users.iter().map(|u| u.to_string()).collect();
        let mut got_groups = ids(&narrowed["scope"]["groups"]);
        let mut got_users = ids(&narrowed["scope"]["users"]);
        for list in [
            &mut want_groups,
            &mut want_users,
            &mut got_groups,
            &mut got_users,
        ] {
            list.sort();
        }
        assert_eq!(
            (got_groups, got_users),
            (want_groups, want_users),
            "{args:?}: scope"
        );
        listed += edges.len();
    }
    listed
}

#[test]
fn redundant_narrowed_to_groups_and_users_is_the_whole_report_filtered() {
    // The demo: Ana's role is redundant (through DevOps), and so is the viewer role's policy,
    // which touches no group and no user.
    let demo = demo_snapshot();
    let listed = check_narrowed(
        &[],
        &demo,
        &[
            (&[], &["u-ana"]),
            (&[], &["u-dan"]),
            (&["g-devops"], &[]),
            (&["g-devops"], &["u-ana"]),
        ],
    );
    assert_eq!(listed, 2, "Ana's role, alone and with DevOps");

    // The fixture: redundant memberships of One in A and B, and policies on A and B; One's own
    // policy holds a shadowed statement.
    let fixture = data("redundant.json");
    let snapshot: Value =
        serde_json::from_str(&std::fs::read_to_string(&fixture).expect("fixture")).expect("json");
    let mut picks: Vec<(Vec<&str>, Vec<&str>)> = Vec::new();
    let ids = |kind: &str| -> Vec<String> {
        snapshot[kind]
            .as_array()
            .expect("entities")
            .iter()
            .map(|e| e["id"].as_str().expect("id").to_string())
            .collect()
    };
    let (groups, users) = (ids("groups"), ids("users"));
    for g in &groups {
        picks.push((vec![g], vec![]));
    }
    for u in &users {
        picks.push((vec![], vec![u]));
    }
    picks.push((vec!["g-a"], vec!["u-1"]));
    picks.push((vec!["g-a", "g-b"], vec![]));
    let picks: Vec<(&[&str], &[&str])> = picks
        .iter()
        .map(|(g, u)| (g.as_slice(), u.as_slice()))
        .collect();
    let listed = check_narrowed(&["--snapshot", &fixture], &snapshot, &picks);
    assert!(listed > 0);
    // One's shadowed statement (in One's own policy) is in One's narrowed report.
    let one = json_of(&["redundant", "--snapshot", &fixture, "--user", "u-1"]);
    assert_eq!(one["shadowed"].as_array().map(Vec::len), Some(1), "{one:#}");

    // A generated organization of the broad shape: every kind of edge is redundant somewhere.
    let generated = iamsim(&[
        "generate",
        "--shape",
        "broad",
        "--users",
        "40",
        "--seed",
        "2",
        "--actions",
        "141",
    ]);
    let file = temp_file("redundant-broad-40.json", &generated.expect_code(0).stdout);
    let snapshot: Value = serde_json::from_str(&generated.stdout).expect("json");
    let listed = check_narrowed(
        &["--snapshot", &file],
        &snapshot,
        &[
            (&["g-0"], &[]),
            (&["g-1"], &[]),
            (&["g-3"], &[]),
            (&[], &["u-1"]),
            (&[], &["u-7"]),
            (&["g-1"], &["u-1", "u-7"]),
        ],
    );
    assert!(listed > 4, "{listed} edges listed in all");
}

/// Naming a group or user by name or email narrows the same as by id, and the table says what
/// it was narrowed to.
#[test]
fn redundant_narrowed_by_name_says_so() {
    let by_id = json_of(&["redundant", "--user", "u-ana", "--group", "g-devops"]);
    let by_name = json_of(&[
        "redundant",
        "--user",
        "ana@acme.example",
        "--group",
        "DevOps",
    ]);
    assert_eq!(by_id, by_name);
    let table = iamsim(&[
        "redundant",
        "--user",
        "ana@acme.example",
        "--group",
        "DevOps",
    ]);
    let out = &table.expect_code(0).stdout;
    assert!(
        out.starts_with(
            "Narrowed to the memberships and attachments of group DevOps (g-devops), user ana@acme.example (u-ana)\n"
        ),
        "{out}"
    );
    let whole = iamsim(&["redundant"]);
    assert!(!whole.expect_code(0).stdout.contains("Narrowed"));
}

#[test]
fn redundant_memberships_attachments_and_shadowed_statements() {
    // One is in A and B, which both allow Read and deny Delete; Two is in A only; Sus is
    // suspended (never considered); Empty has no members. One's own policy allows List (not
    // redundant) and Delete (denied by both groups: shadowed).
    let snapshot = data("redundant.json");
    let one = json!({"id": "u-1", "email": "one@r.example"});
    let (a, b) = (
        json!({"id": "g-a", "name": "A"}),
        json!({"id": "g-b", "name": "B"}),
    );
    let read = json!({"id": "p-read", "name": "read"});
    let deny = json!({"id": "p-deny", "name": "no-delete"});
    let via_a = "user:u-1 > group:g-a > policy:p-read > #0";
    let via_b = "user:u-1 > group:g-b > policy:p-read > #0";
    check_redundant(
        &["--snapshot", &snapshot],
        &[
            (
                json!({"kind": "remove_member", "group": a, "user": one}),
                &[("u-1", &["compute.instance.Read"], &[via_b])],
            ),
            (
                json!({"kind": "remove_member", "group": b, "user": one}),
                &[("u-1", &["compute.instance.Read"], &[via_a])],
            ),
            // A Deny another Deny covers: nobody's decision changes, so no user is listed.
            (
                json!({"kind": "detach_policy", "group": a, "policy": deny}),
                &[],
            ),
            (
                json!({"kind": "detach_policy", "group": b, "policy": read}),
                &[("u-1", &["compute.instance.Read"], &[via_a])],
            ),
            (
                json!({"kind": "detach_policy", "group": b, "policy": deny}),
                &[],
            ),
            (
                json!({"kind": "detach_policy", "group": {"id": "g-empty", "name": "Empty"},
                       "policy": read}),
                &[],
            ),
        ],
        json!([{"policy": {"id": "p-del", "name": "delete"}, "index": 1, "users": 1}]),
    );
}

#[test]
fn diff_of_two_snapshots() {
    let (old, new) = demo_and_modified();
    let value = json_of(&["diff", &old, &new]);
    let entity = |id: &str, name: &str| json!({"id": id, "name": name});
    assert_eq!(
        value["added"],
        json!({"users": [entity("u-eve", "eve@acme.example")], "groups": [entity("g-new", "New")],
               "roles": [], "policies": [], "role_trusts": []})
    );
    assert_eq!(
        value["removed"],
        json!({"users": [entity("u-ci", "ci-deployer@acme.example")], "groups": [], "roles": [],
               "policies": [entity("p-support", "support-tickets")],
               "role_trusts": [entity("t-deploy-devops", "t-deploy-devops")]})
    );
    let users = value["users"].as_array().expect("users");
    // Most lost first, then by id; Eve (new) and ci-deployer (removed) are in no user list.
    let summary: Vec<(&str, [usize; 5])> = users
        .iter()
        .map(|u| {
            (
                u["user"]["id"].as_str().expect("id"),
                [
                    "lost",
                    "gained",
                    "provenance",
                    "assumable_lost",
                    "assumable_gained",
                ]
                .map(|l| u[l].as_array().expect(l).len()),
            )
        })
        .collect();
    // The trust of deploy-admin on DevOps is gone: DevOps's members lose the assumable role.
    assert_eq!(
        summary,
        [
            ("u-ana", [44, 0, 3, 1, 0]),
            ("u-cara", [0, 0, 1, 0, 0]),
            ("u-dan", [0, 1, 0, 1, 0])
        ]
    );
    assert_eq!(
        users[0]["assumable_lost"][0]["role"]["id"],
        "r-deploy-admin"
    );
    assert_eq!(
        users[0]["assumable_lost"][0]["trust"]["id"],
        "t-deploy-devops"
    );
    assert_eq!(
        paths(&users[0]["assumable_lost"][0]["via"]),
        ["user:u-ana > group:g-devops"]
    );
    let ana = &users[0];
    let lost = entries(&ana["lost"]);
    // With the old paths, including through the policy that no longer exists.
    for (action, via) in [
        ("support.ticket.Read", ANA_SUPPORT),
        ("compute.instance.Create", ANA_ADMIN),
    ] {
        assert_eq!(
            crate::util::find(&lost, action, "*"),
            Some(&vec![via.to_string()]),
            "{action}"
        );
    }
    assert_eq!(
        ana["provenance"][0],
        json!({
            "action": "account.billing.Read",
            "resource": "*",
            "before": ana["provenance"][0]["before"],
            "after": ana["provenance"][0]["after"],
        })
    );
    assert_eq!(
        paths(&ana["provenance"][0]["before"]),
        [
            "user:u-ana > group:g-billing > policy:p-billing-read > #0",
            "user:u-ana > group:g-devops > policy:p-cost-read > #0"
        ]
    );
    assert_eq!(
        paths(&ana["provenance"][0]["after"]),
        [
            "user:u-ana > group:g-billing > policy:p-billing-read > #0",
            "user:u-ana > group:g-billing > policy:p-cost-read > #0"
        ]
    );
    assert_eq!(
        entries(&users[2]["gained"]),
        vec![(
            "compute.instance.Delete".to_string(),
            "*".to_string(),
            vec![DAN_ADMIN.to_string()]
        )]
    );

    // A snapshot against itself: nothing.
    let same = json_of(&["diff", &old, &old]);
    let nothing =
        json!({"users": [], "groups": [], "roles": [], "policies": [], "role_trusts": []});
    assert_eq!(
        same,
        json!({"schema_version": 5, "users": [], "added": nothing, "removed": nothing})
    );
    let table = iamsim(&["diff", &old, &old]);
    table.expect_code(0);
    assert_eq!(table.stdout, "Nobody's access changed.\n");
    // No demo note: diff reads two files.
    assert_eq!(table.stderr, "");

    // Diagnostics of either snapshot are warnings naming its file; --strict refuses them.
    let dangling = data("dangling.json");
    let run = iamsim(&["diff", &dangling, &old]);
    run.expect_warning(&[&dangling, "groups[0].members[1]", "`u-ghost`"]);
    iamsim(&["diff", &old, &dangling, "--strict"]).expect_error(&[&dangling, "--strict"]);
}

/// Diff of a snapshot against the snapshot with a change applied = the what-if of the change:
/// same users, same lost and gained entries with the same paths, and `kept` = the provenance
/// changes with their `after` paths.
#[test]
fn diff_equals_the_what_if() {
    type Edit = fn(&mut Value);
    fn in_group(s: &mut Value, id: &str) -> usize {
        s["groups"]
            .as_array()
            .expect("groups")
            .iter()
            .position(|g| g["id"] == id)
            .expect("group")
    }
    let cases: &[(&[&str], Edit)] = &[
        (
            &[
                "remove-member",
                "--group",
                "DevOps",
                "--user",
                "ana@acme.example",
            ],
            |s| {
                let g = in_group(s, "g-devops");
                s["groups"][g]["members"] = json!(["u-dan", "u-ben"]);
            },
        ),
        (
            &[
                "remove-member",
                "--group",
                "Contractors",
                "--user",
                "dan@acme.example",
            ],
            |s| {
                let g = in_group(s, "g-contractors");
                s["groups"][g]["members"] = json!([]);
            },
        ),
        (
            &[
                "detach-policy",
                "--policy",
                "p-compute-admin",
                "--group",
                "DevOps",
            ],
            |s| {
                let g = in_group(s, "g-devops");
                s["groups"][g]["policies"] = json!(["p-registry-push", "p-cost-read"]);
            },
        ),
        (
            &[
                "attach-policy",
                "--policy",
                "p-support",
                "--group",
                "Billing",
            ],
            |s| {
                let g = in_group(s, "g-billing");
                s["groups"][g]["policies"] =
                    json!(["p-billing-read", "p-acl-billing", "p-support"]);
            },
        ),
        (&["suspend-user", "--user", "dan@acme.example"], |s| {
            s["users"][2]["suspended"] = json!(true);
        }),
        (&["unsuspend-user", "--user", "ben@acme.example"], |s| {
            s["users"][3]["suspended"] = json!(false);
        }),
    ];
    let old = temp_json("old.json", &demo_snapshot());
    for (change, edit) in cases {
        let mut snapshot = demo_snapshot();
        edit(&mut snapshot);
        let new = temp_json("new.json", &snapshot);
        let impact = json_of(&[&["impact"][..], change].concat());
        let diff = json_of(&["diff", &old, &new]);
        let key = |u: &Value, lists: [&str; 3]| {
            (
                u["user"]["id"].clone(),
                lists.map(|l| {
                    u[l].as_array()
                        .expect(l)
                        .iter()
                        .map(|e| {
                            (
                                e["action"].clone(),
                                e["resource"].clone(),
                                e.get("via").or(e.get("after")).cloned(),
                            )
                        })
                        .collect::<Vec<_>>()
                }),
            )
        };
        let from_impact: Vec<_> = impact["users"]
            .as_array()
            .expect("users")
            .iter()
            .map(|u| key(u, ["lost", "gained", "kept"]))
            .collect();
        let from_diff: Vec<_> = diff["users"]
            .as_array()
            .expect("users")
            .iter()
            .map(|u| key(u, ["lost", "gained", "provenance"]))
            .collect();
        assert_eq!(from_diff, from_impact, "{change:?}");
    }
}

/// `(kind, the entity removed, lost, gained, assumable roles lost)`.
type Removal = (&'static str, &'static str, usize, usize, usize);

const ANA_DEVOPS: Removal = ("remove_member", "g-devops", 35, 0, 1);
const ANA_SUPPORT_POLICY: Removal = ("detach_policy", "p-support", 9, 0, 0);
const ANA_BILLING: Removal = ("remove_member", "g-billing", 2, 0, 0);
const ANA_VIEWER_ROLE: Removal = ("detach_role", "r-viewer", 0, 0, 0);

#[test]
fn rank_with_keep_and_drop() {
    let all_of_ana = &[ANA_DEVOPS, ANA_SUPPORT_POLICY, ANA_BILLING, ANA_VIEWER_ROLE][..];
    // (user, --keep patterns, --drop patterns, removals in order)
    type RankCase<'a> = (&'a str, &'a [&'a str], &'a [&'a str], &'a [Removal]);
    let cases: &[RankCase] = &[
        ("ana@acme.example", &[], &[], all_of_ana),
        // How to take instance creation from Ana and leave her billing: leave DevOps.
        (
            "ana@acme.example",
            &["account.billing.Read"],
            &["compute.instance.Create"],
            &[ANA_DEVOPS],
        ),
        // Kept through her viewer role whatever goes.
        (
            "ana@acme.example",
            &["compute.instance.Read"],
            &[],
            all_of_ana,
        ),
        ("ana@acme.example", &[], &["network.*"], &[ANA_DEVOPS]),
        (
            "ana@acme.example",
            &["compute.*"],
            &["support.ticket.Read"],
            &[ANA_SUPPORT_POLICY],
        ),
        // Keep everything: only what takes nothing away.
        ("ana@acme.example", &["*"], &[], &[ANA_VIEWER_ROLE]),
        // Two keeps must both hold.
        (
            "ana@acme.example",
            &["support.*", "user.acl.Billing"],
            &[],
            &[ANA_DEVOPS, ANA_VIEWER_ROLE],
        ),
        // Billing comes through two groups: no single removal takes it.
        ("ana@acme.example", &[], &["account.billing.Read"], &[]),
        // An action the catalogue does not name lives in the `compute.*` element.
        (
            "ana@acme.example",
            &["compute.gizmo.Spin"],
            &[],
            &[ANA_SUPPORT_POLICY, ANA_BILLING, ANA_VIEWER_ROLE],
        ),
        (
            "u-dan",
            &[],
            &[],
            &[
                ("remove_member", "g-devops", 37, 0, 1),
                ("remove_member", "g-contractors", 0, 1, 0),
            ],
        ),
        // Dan cannot delete instances: nothing takes it away.
        ("u-dan", &[], &["compute.instance.Delete"], &[]),
        (
            "ci-deployer@acme.example",
            &[],
            &[],
            &[("detach_policy", "p-registry-push", 2, 0, 0)],
        ),
        (
            "ben@acme.example",
            &[],
            &[],
            &[("remove_member", "g-devops", 0, 0, 0)],
        ),
        ("olivia@acme.example", &[], &[], &[]),
    ];
    for (user, keep, drop, expected) in cases {
        let mut args = vec!["rank", "--user", user];
        for pattern in *keep {
            args.extend(["--keep", pattern]);
        }
        for pattern in *drop {
            args.extend(["--drop", pattern]);
        }
        let value = json_of(&args);
        let got: Vec<(String, String, usize, usize, usize)> = value["removals"]
            .as_array()
            .expect("removals")
            .iter()
            .map(|r| {
                let change = &r["change"];
                let kind = change["kind"].as_str().expect("kind");
                let target = match kind {
                    "remove_member" => &change["group"],
                    "detach_role" => &change["role"],
                    _ => &change["policy"],
                };
                assert_eq!(
                    change["user"]["id"], value["user"]["id"],
                    "every removal is from the user"
                );
                let len = |l: &str| r[l].as_array().expect(l).len();
                (
                    kind.to_string(),
                    target["id"].as_str().expect("id").to_string(),
                    len("lost"),
                    len("gained"),
                    len("assumable_lost"),
                )
            })
            .collect();
        let want: Vec<(String, String, usize, usize, usize)> = expected
            .iter()
            .map(|&(k, t, l, g, a)| (k.to_string(), t.to_string(), l, g, a))
            .collect();
        assert_eq!(got, want, "{args:?}");
    }

    // What leaving Billing takes from Ana, with the paths it took.
    let value = json_of(&["rank", "--user", "ana@acme.example", "--drop", "user.acl.*"]);
    assert_eq!(
        entries(&value["removals"][0]["lost"]),
        vec![
            (
                "account.bandwidth.Read".to_string(),
                "*".to_string(),
                vec!["user:u-ana > group:g-billing > policy:p-billing-read > #0".to_string()]
            ),
            (
                "user.acl.Billing".to_string(),
                "*".to_string(),
                vec!["user:u-ana > group:g-billing > policy:p-acl-billing > #0".to_string()]
            ),
        ]
    );
}

#[test]
fn query_errors() {
    let old = temp_json("old.json", &demo_snapshot());
    let missing = data("no-such-snapshot.json");
    let truncated = temp_file(
        "truncated.json",
        r#"{"format": "iamsim.snapshot.v1", "users": ["#,
    );
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["who-can", "--action", "compute.instance.*"],
            &["--action: `compute.instance.*` is a wildcard no policy names"],
        ),
        (
            &["who-can", "--action", "compute..Read"],
            &["--action: invalid action pattern `compute..Read`: empty segment"],
        ),
        (
            &[
                "who-can",
                "--action",
                "compute.instance.Read",
                "--resource",
                "a*b",
            ],
            &["--resource: invalid resource `a*b`"],
        ),
        (&["who-can"], &["required", "--action"]),
        (&["rank"], &["required", "--user"]),
        (&["rank", "--user", "nobody"], &["no user matches `nobody`"]),
        (
            &["rank", "--user", "u-ana", "--keep", "x.*.y"],
            &["--keep: invalid action pattern `x.*.y`"],
        ),
        (
            &["rank", "--user", "u-ana", "--drop", ""],
            &["--drop", "empty"],
        ),
        (&["diff", &old], &["required", "<NEW>"]),
        (&["diff", &old, &missing], &[&missing, "no such file"]),
        (&["diff", &missing, &old], &[&missing, "no such file"]),
        (
            &["diff", &old, &truncated],
            &[&truncated, "EOF while parsing"],
        ),
        (
            &["redundant", "--snapshot", &missing],
            &[&missing, "no such file"],
        ),
        (
            &["redundant", "--user", "nobody"],
            &["no user matches `nobody`"],
        ),
        (
            &["redundant", "--group", "nobody"],
            &["no group matches `nobody`"],
        ),
        (
            &["redundant", "--user", "u-ana", "--group", "devop"],
            &["no group matches `devop`", "did you mean `DevOps`?"],
        ),
    ];
    for (args, fragments) in cases {
        iamsim(args).expect_error(fragments);
    }
}
