//! Every change kind of `impact` on the built-in demo organization, one subcommand each and
//! together in change files: who is affected, what each user loses, keeps and gains and
//! through what, the notes for suspended and removed users, the assumable roles lost, and the
//! per-action summary. Then what makes a change invalid: bad change files, changes that do
//! nothing (and `--allow-noop`), and Vultr-managed policies.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::util::{
    check_assumable, data, entries, iamsim, paths, temp_file, A, ANA_ADMIN, ANA_BILLING,
    ANA_SUPPORT, ANA_VIEWER, DAN_ADMIN, DEPLOY_ANA, DEPLOY_DAN,
};

/// Which list of a user's an entry is in.
#[derive(Clone, Copy, Debug)]
enum List {
    Lost,
    Kept,
    Gained,
}

impl List {
    fn key(self) -> &'static str {
        match self {
            List::Lost => "lost",
            List::Kept => "kept",
            List::Gained => "gained",
        }
    }
}

/// One check on a user's list.
enum Has {
    /// `action` on `resource` is in the list, through exactly these paths.
    Entry {
        list: List,
        action: &'static str,
        resource: &'static str,
        via: &'static [&'static str],
    },
    /// `action` is not in the list, on any resource.
    Not { list: List, action: &'static str },
}

fn lost(action: &'static str, resource: &'static str, via: &'static [&'static str]) -> Has {
    Has::Entry {
        list: List::Lost,
        action,
        resource,
        via,
    }
}

fn kept(action: &'static str, resource: &'static str, via: &'static [&'static str]) -> Has {
    Has::Entry {
        list: List::Kept,
        action,
        resource,
        via,
    }
}

fn gained(action: &'static str, resource: &'static str, via: &'static [&'static str]) -> Has {
    Has::Entry {
        list: List::Gained,
        action,
        resource,
        via,
    }
}

fn not_lost(action: &'static str) -> Has {
    Has::Not {
        list: List::Lost,
        action,
    }
}

fn not_kept(action: &'static str) -> Has {
    Has::Not {
        list: List::Kept,
        action,
    }
}

fn not_gained(action: &'static str) -> Has {
    Has::Not {
        list: List::Gained,
        action,
    }
}

/// The lengths of a user's `lost`, `kept` and `gained` lists.
#[derive(Debug, PartialEq)]
struct Counts {
    lost: usize,
    kept: usize,
    gained: usize,
}

/// One expected affected user.
struct U {
    id: &'static str,
    /// A fragment of the note, or `None` for a `null` note.
    note: Option<&'static str>,
    counts: Counts,
    checks: Vec<Has>,
    assumable_lost: &'static [A],
}

/// One row of the `actions` summary: how many users lose, keep and gain `action`.
struct Row {
    action: &'static str,
    lost: u64,
    kept: u64,
    gained: u64,
}

/// The `actions` summary: its number of rows, and some rows exactly.
struct Actions {
    rows: usize,
    some: &'static [Row],
}

/// What the report's `changes` array must be.
enum Changes {
    /// Exactly this.
    Are(Value),
    /// Exactly the insta snapshot `changes_<name>`
    /// (`tests/snapshots/integration__whatif__changes_<name>.snap`).
    Pinned(&'static str),
}

/// One `impact` run and what it must report.
struct Case {
    /// Arguments after `impact`.
    args: Vec<String>,
    changes: Changes,
    /// Every affected user, in report order.
    users: Vec<U>,
    /// A fragment every `lost` path holds (the thing the change takes away), or "".
    lost_through: &'static str,
    /// A fragment every `gained` path holds (the thing the change adds), or "".
    gained_through: &'static str,
    actions: Actions,
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn group(id: &str, name: &str) -> Value {
    json!({"id": id, "name": name})
}

fn user(id: &str, email: &str) -> Value {
    json!({"id": id, "email": email})
}

/// Runs `iamsim impact ARGS --format json` and returns the document (exit 0 asserted).
fn impact_json(args: &[String]) -> Value {
    let mut all = vec!["impact".to_string()];
    all.extend(args.iter().cloned());
    all.extend(["--format".to_string(), "json".to_string()]);
    iamsim(&all.iter().map(String::as_str).collect::<Vec<_>>()).json()
}

/// The `actions` summary recomputed from the users: per action, how many users list it in
/// `lost`, `kept`, `gained`.
fn summary_of(users: &[Value]) -> Value {
    let mut counts: BTreeMap<String, [std::collections::BTreeSet<String>; 3]> = BTreeMap::new();
    for user in users {
        let id = user["user"]["id"].as_str().expect("id").to_string();
        for (i, list) in ["lost", "kept", "gained"].iter().enumerate() {
            for (action, _, _) in entries(&user[list]) {
                counts.entry(action).or_default()[i].insert(id.clone());
            }
        }
    }
    counts
        .into_iter()
        .map(|(action, [lost, kept, gained])| {
            json!({"action": action, "lost": lost.len(), "kept": kept.len(), "gained": gained.len()})
        })
        .collect()
}

/// Asserts everything a case expects of an impact document, and the invariants of every
/// impact: users sorted by most lost then id, `actions` equal to the counts of the lists.
fn check_impact(what: &str, value: &Value, case: &Case) {
    assert_eq!(value["schema_version"], 5, "{what}");
    match &case.changes {
        Changes::Are(changes) => assert_eq!(&value["changes"], changes, "{what}: changes"),
        Changes::Pinned(name) => insta::assert_snapshot!(
            format!("changes_{name}"),
            serde_json::to_string_pretty(&value["changes"]).expect("JSON")
        ),
    }
    let users = value["users"].as_array().expect("users");
    let ids: Vec<&str> = users
        .iter()
        .map(|u| u["user"]["id"].as_str().expect("id"))
        .collect();
    let expected_ids: Vec<&str> = case.users.iter().map(|u| u.id).collect();
    assert_eq!(ids, expected_ids, "{what}: affected users, in order");
    for pair in users.windows(2) {
        let key = |u: &Value| {
            (
                std::cmp::Reverse(u["lost"].as_array().expect("lost").len()),
                u["user"]["id"].as_str().expect("id").to_string(),
            )
        };
        assert!(key(&pair[0]) < key(&pair[1]), "{what}: most lost first");
    }
    for (got, want) in users.iter().zip(&case.users) {
        let what = format!("{what}: {}", want.id);
        let len = |list: List| got[list.key()].as_array().expect("a list").len();
        let counts = Counts {
            lost: len(List::Lost),
            kept: len(List::Kept),
            gained: len(List::Gained),
        };
        assert_eq!(counts, want.counts, "{what}: lost, kept, gained");
        match want.note {
            None => assert!(got["note"].is_null(), "{what}: note {}", got["note"]),
            Some(note) => assert!(
                got["note"].as_str().expect("a note").contains(note),
                "{what}: note {}",
                got["note"]
            ),
        }
        for check in &want.checks {
            match *check {
                Has::Not { list, action } => {
                    let listed = entries(&got[list.key()]);
                    assert!(
                        listed.iter().all(|(a, _, _)| a != action),
                        "{what}: {action} must not be {list:?}: {listed:#?}"
                    );
                }
                Has::Entry {
                    list,
                    action,
                    resource,
                    via,
                } => {
                    let list = list.key();
                    let listed = entries(&got[list]);
                    let found = listed
                        .iter()
                        .find(|(a, r, _)| a == action && r == resource)
                        .unwrap_or_else(|| panic!("{what}: no {list} {action} on {resource}"));
                    assert_eq!(
                        found.2, via,
                        "{what}: paths of {list} {action} on {resource}"
                    );
                }
            }
        }
        for (list, through) in [("lost", case.lost_through), ("gained", case.gained_through)] {
            for (action, resource, via) in entries(&got[list]) {
                assert!(
                    via.iter().all(|p| p.contains(through)),
                    "{what}: {list} {action} on {resource} via {via:?}, not through `{through}`"
                );
            }
        }
        check_assumable(&what, &got["assumable_lost"], want.assumable_lost);
    }
    let actions = value["actions"].as_array().expect("actions");
    assert_eq!(actions.len(), case.actions.rows, "{what}: rows of actions");
    assert_eq!(
        value["actions"],
        summary_of(users),
        "{what}: actions = the lists' counts"
    );
    for row in case.actions.some {
        let action = row.action;
        let got = actions
            .iter()
            .find(|r| r["action"] == action)
            .unwrap_or_else(|| panic!("{what}: no actions row for {action}"));
        assert_eq!(
            got,
            &json!({"action": action, "lost": row.lost, "kept": row.kept, "gained": row.gained}),
            "{what}"
        );
    }
}

/// Writes a policy document for `replace-policy-document --document`.
fn document(statements: Value) -> String {
    temp_file(
        "document.json",
        json!({"Version": "2026-03-20", "Statement": statements}).to_string(),
    )
}

/// The policy document `replace-policy-document` narrows compute-admin to.
fn list_only() -> String {
    document(json!([
        {"Effect": "Allow", "Action": "compute.instance.List", "Resource": "*"}
    ]))
}

/// A policy document with no statement.
fn no_statement() -> String {
    document(json!([]))
}

/// One `#[test]` per case of [`cases`], named after it, and the list of every case.
macro_rules! every_subcommand_on_the_demo {
    ($($name:ident,)*) => {
        mod every_subcommand_on_the_demo {
            $(
                #[test]
                fn $name() {
                    super::check_case(super::cases::$name());
                }
            )*
        }

        const CASES: &[fn() -> Case] = &[$(cases::$name),*];
    };
}

every_subcommand_on_the_demo! {
    remove_member,
    add_member,
    detach_policy_from_a_group,
    detach_policy_from_a_user,
    detach_policy_from_a_role,
    attach_policy_to_a_group,
    attach_policy_to_a_role,
    attach_policy_to_an_assumable_role,
    detach_role_from_a_user,
    detach_role_from_a_group,
    attach_role_to_a_user,
    attach_role_to_a_group,
    delete_group,
    delete_role,
    delete_an_assumable_role,
    delete_policy,
    suspend_user,
    unsuspend_user,
    remove_user,
    remove_a_suspended_user,
    suspend_the_root_user,
    replace_policy_document_narrowing_it,
    replace_policy_document_lifting_a_deny,
    delete_role_trust,
}

/// Runs one case's `impact` in JSON and checks it.
fn check_case(case: Case) {
    check_impact(&case.args.join(" "), &impact_json(&case.args), &case);
}

#[test]
fn every_subcommand_has_a_case() {
    let kinds: std::collections::BTreeSet<String> =
        CASES.iter().map(|case| case().args[0].clone()).collect();
    assert_eq!(
        kinds.len(),
        14,
        "one case at least per subcommand: {kinds:?}"
    );
}

/// Every change kind on the demo, one case per subcommand and target (plus the rules: an
/// assumable role, a suspended user, the root user).
mod cases {
    use super::*;

    pub fn remove_member() -> Case {
        Case {
            changes: Changes::Pinned("remove_member"),
            args: args(&[
                "remove-member",
                "--group",
                "DevOps",
                "--user",
                "ana@acme.example",
            ]),
            users: vec![U {
                id: "u-ana",
                note: None,
                counts: Counts {
                    lost: 35,
                    kept: 3,
                    gained: 0,
                },
                checks: vec![
                    lost("compute.instance.Create", "*", &[ANA_ADMIN]),
                    kept("account.billing.Read", "*", &[ANA_BILLING]),
                    not_lost("account.billing.Read"),
                ],
                assumable_lost: &[DEPLOY_ANA],
            }],
            lost_through: "group:g-devops",
            gained_through: "",
            actions: Actions {
                rows: 38,
                some: &[
                    Row {
                        action: "account.billing.Read",
                        lost: 0,
                        kept: 1,
                        gained: 0,
                    },
                    Row {
                        action: "compute.instance.Create",
                        lost: 1,
                        kept: 0,
                        gained: 0,
                    },
                ],
            },
        }
    }

    pub fn add_member() -> Case {
        Case {
            changes: Changes::Pinned("add_member"),
            args: args(&["add-member", "--group", "DevOps", "--user", "cara@acme.example"]),
            users: vec![U {
                id: "u-cara",
                note: None,
                counts: Counts {
                    lost: 0,
                    kept: 1,
                    gained: 37,
                },
                checks: vec![
                    kept(
                        "account.billing.Read",
                        "*",
                        &[
                            "user:u-cara > group:g-billing > policy:p-billing-read > #0",
                            "user:u-cara > group:g-devops > policy:p-cost-read > #0",
                        ],
                    ),
                    gained(
                        "compute.instance.Delete",
                        "*",
                        &[
                            "user:u-cara > group:g-devops > policy:p-compute-admin > #0",
                        ],
                    ),
                    gained(
                        "network.firewall.Create",
                        "*",
                        &[
                            "user:u-cara > group:g-devops > role:r-net-operator > policy:p-network-ops > #0",
                        ],
                    ),
                    gained(
                        "container.registry.Push",
                        "registry:reg-7f3a",
                        &[
                            "user:u-cara > group:g-devops > policy:p-registry-push > #0",
                        ],
                    ),
                ],
                assumable_lost: &[],
            }],
            lost_through: "",
            gained_through: "group:g-devops",
            actions: Actions {
                rows: 38,
                some: &[
                    Row {
                        action: "account.billing.Read",
                        lost: 0,
                        kept: 1,
                        gained: 0,
                    },
                    Row {
                        action: "compute.instance.Delete",
                        lost: 0,
                        kept: 0,
                        gained: 1,
                    },
                ],
            },
        }
    }

    pub fn detach_policy_from_a_group() -> Case {
        Case {
            changes: Changes::Pinned("detach_policy_from_a_group"),
            args: args(&[
                "detach-policy",
                "--policy",
                "compute-admin",
                "--group",
                "DevOps",
            ]),
            users: vec![
                U {
                    id: "u-dan",
                    note: None,
                    counts: Counts {
                        lost: 22,
                        kept: 0,
                        gained: 0,
                    },
                    checks: vec![
                        lost("compute.instance.Create", "*", &[DAN_ADMIN]),
                        // Denied through Contractors before and after: not lost.
                        not_lost("compute.instance.Delete"),
                    ],
                    assumable_lost: &[],
                },
                U {
                    id: "u-ana",
                    note: None,
                    counts: Counts {
                        lost: 21,
                        kept: 2,
                        gained: 0,
                    },
                    checks: vec![
                        lost("compute.instance.Delete", "*", &[ANA_ADMIN]),
                        kept("compute.instance.List", "*", &[ANA_VIEWER]),
                    ],
                    assumable_lost: &[],
                },
            ],
            lost_through: "policy:p-compute-admin",
            gained_through: "",
            actions: Actions {
                rows: 23,
                some: &[
                    Row {
                        action: "compute.instance.Delete",
                        lost: 1,
                        kept: 0,
                        gained: 0,
                    },
                    Row {
                        action: "compute.instance.List",
                        lost: 1,
                        kept: 1,
                        gained: 0,
                    },
                ],
            },
        }
    }

    pub fn detach_policy_from_a_user() -> Case {
        Case {
            changes: Changes::Pinned("detach_policy_from_a_user"),
            args: args(&[
                "detach-policy",
                "--policy",
                "p-support",
                "--user",
                "ana@acme.example",
            ]),
            users: vec![U {
                id: "u-ana",
                note: None,
                counts: Counts {
                    lost: 9,
                    kept: 0,
                    gained: 0,
                },
                checks: vec![lost("support.ticket.*", "*", &[ANA_SUPPORT])],
                assumable_lost: &[],
            }],
            lost_through: "policy:p-support",
            gained_through: "",
            actions: Actions {
                rows: 9,
                some: &[Row {
                    action: "support.ticket.Read",
                    lost: 1,
                    kept: 0,
                    gained: 0,
                }],
            },
        }
    }

    pub fn detach_policy_from_a_role() -> Case {
        Case {
            changes: Changes::Pinned("detach_policy_from_a_role"),
            args: args(&["detach-policy", "--policy", "network-ops", "--role", "network-operator"]),
            users: vec![
                U {
                    id: "u-ana",
                    note: None,
                    counts: Counts {
                        lost: 12,
                        kept: 0,
                        gained: 0,
                    },
                    checks: vec![lost(
                        "network.dns.*",
                        "*",
                        &["user:u-ana > group:g-devops > role:r-net-operator > policy:p-network-ops > #0"],
                    )],
                    assumable_lost: &[],
                },
                U {
                    id: "u-dan",
                    note: None,
                    counts: Counts {
                        lost: 12,
                        kept: 0,
                        gained: 0,
                    },
                    checks: vec![],
                    assumable_lost: &[],
                },
            ],
            lost_through: "role:r-net-operator > policy:p-network-ops",
            gained_through: "",
            actions: Actions {
                rows: 12,
                some: &[
                    Row {
                        action: "network.firewall.*",
                        lost: 2,
                        kept: 0,
                        gained: 0,
                    },
                ],
            },
        }
    }

    pub fn attach_policy_to_a_group() -> Case {
        Case {
            changes: Changes::Pinned("attach_policy_to_a_group"),
            args: args(&[
                "attach-policy",
                "--policy",
                "p-support",
                "--group",
                "Billing",
            ]),
            users: vec![
                U {
                    id: "u-ana",
                    note: None,
                    counts: Counts {
                        lost: 0,
                        kept: 9,
                        gained: 0,
                    },
                    checks: vec![kept(
                        "support.ticket.Read",
                        "*",
                        &[
                            ANA_SUPPORT,
                            "user:u-ana > group:g-billing > policy:p-support > #0",
                        ],
                    )],
                    assumable_lost: &[],
                },
                U {
                    id: "u-cara",
                    note: None,
                    counts: Counts {
                        lost: 0,
                        kept: 0,
                        gained: 9,
                    },
                    checks: vec![gained(
                        "support.ticket.Create",
                        "*",
                        &["user:u-cara > group:g-billing > policy:p-support > #0"],
                    )],
                    assumable_lost: &[],
                },
            ],
            lost_through: "",
            gained_through: "group:g-billing > policy:p-support",
            actions: Actions {
                rows: 9,
                some: &[Row {
                    action: "support.ticket.*",
                    lost: 0,
                    kept: 1,
                    gained: 1,
                }],
            },
        }
    }

    pub fn attach_policy_to_a_role() -> Case {
        Case {
            changes: Changes::Pinned("attach_policy_to_a_role"),
            // Ben holds the role through DevOps too, but is suspended: not affected.
            args: args(&[
                "attach-policy",
                "--policy",
                "support-tickets",
                "--role",
                "network-operator",
            ]),
            users: vec![
                U {
                    id: "u-ana",
                    note: None,
                    counts: Counts {
                        lost: 0,
                        kept: 9,
                        gained: 0,
                    },
                    checks: vec![],
                    assumable_lost: &[],
                },
                U {
                    id: "u-dan",
                    note: None,
                    counts: Counts {
                        lost: 0,
                        kept: 0,
                        gained: 9,
                    },
                    checks: vec![gained(
                        "support.ticket.List",
                        "*",
                        &["user:u-dan > group:g-devops > role:r-net-operator > policy:p-support > #0"],
                    )],
                    assumable_lost: &[],
                },
            ],
            lost_through: "",
            gained_through: "role:r-net-operator > policy:p-support",
            actions: Actions {
                rows: 9,
                some: &[
                    Row {
                        action: "support.ticket.List",
                        lost: 0,
                        kept: 1,
                        gained: 1,
                    },
                ],
            },
        }
    }

    pub fn attach_policy_to_an_assumable_role() -> Case {
        Case {
            changes: Changes::Pinned("attach_policy_to_an_assumable_role"),
            // An assumable role's policies are no standing access: nobody is affected.
            args: args(&[
                "attach-policy",
                "--policy",
                "p-support",
                "--role",
                "deploy-admin",
            ]),
            users: vec![],
            lost_through: "",
            gained_through: "",
            actions: Actions { rows: 0, some: &[] },
        }
    }

    pub fn detach_role_from_a_user() -> Case {
        Case {
            changes: Changes::Pinned("detach_role_from_a_user"),
            args: args(&[
                "detach-role",
                "--role",
                "viewer",
                "--user",
                "ana@acme.example",
            ]),
            users: vec![U {
                id: "u-ana",
                note: None,
                counts: Counts {
                    lost: 0,
                    kept: 2,
                    gained: 0,
                },
                checks: vec![kept("compute.instance.Read", "*", &[ANA_ADMIN])],
                assumable_lost: &[],
            }],
            lost_through: "",
            gained_through: "",
            actions: Actions {
                rows: 2,
                some: &[Row {
                    action: "compute.instance.Read",
                    lost: 0,
                    kept: 1,
                    gained: 0,
                }],
            },
        }
    }

    pub fn detach_role_from_a_group() -> Case {
        Case {
            changes: Changes::Pinned("detach_role_from_a_group"),
            args: args(&[
                "detach-role",
                "--role",
                "r-net-operator",
                "--group",
                "g-devops",
            ]),
            users: vec![
                U {
                    id: "u-ana",
                    note: None,
                    counts: Counts {
                        lost: 12,
                        kept: 0,
                        gained: 0,
                    },
                    checks: vec![],
                    assumable_lost: &[],
                },
                U {
                    id: "u-dan",
                    note: None,
                    counts: Counts {
                        lost: 12,
                        kept: 0,
                        gained: 0,
                    },
                    checks: vec![],
                    assumable_lost: &[],
                },
            ],
            lost_through: "group:g-devops > role:r-net-operator",
            gained_through: "",
            actions: Actions {
                rows: 12,
                some: &[Row {
                    action: "network.dns.Read",
                    lost: 2,
                    kept: 0,
                    gained: 0,
                }],
            },
        }
    }

    pub fn attach_role_to_a_user() -> Case {
        Case {
            changes: Changes::Pinned("attach_role_to_a_user"),
            args: args(&[
                "attach-role",
                "--role",
                "network-operator",
                "--user",
                "cara@acme.example",
            ]),
            users: vec![U {
                id: "u-cara",
                note: None,
                counts: Counts {
                    lost: 0,
                    kept: 0,
                    gained: 12,
                },
                checks: vec![gained(
                    "network.dns.Read",
                    "*",
                    &["user:u-cara > role:r-net-operator > policy:p-network-ops > #0"],
                )],
                assumable_lost: &[],
            }],
            lost_through: "",
            gained_through: "user:u-cara > role:r-net-operator",
            actions: Actions {
                rows: 12,
                some: &[Row {
                    action: "network.dns.Read",
                    lost: 0,
                    kept: 0,
                    gained: 1,
                }],
            },
        }
    }

    pub fn attach_role_to_a_group() -> Case {
        Case {
            changes: Changes::Pinned("attach_role_to_a_group"),
            args: args(&["attach-role", "--role", "viewer", "--group", "Billing"]),
            users: vec![
                U {
                    id: "u-ana",
                    note: None,
                    counts: Counts {
                        lost: 0,
                        kept: 2,
                        gained: 0,
                    },
                    checks: vec![kept(
                        "compute.instance.List",
                        "*",
                        &[
                            ANA_VIEWER,
                            "user:u-ana > group:g-billing > role:r-viewer > policy:p-compute-read > #0",
                            ANA_ADMIN,
                        ],
                    )],
                    assumable_lost: &[],
                },
                U {
                    id: "u-cara",
                    note: None,
                    counts: Counts {
                        lost: 0,
                        kept: 0,
                        gained: 2,
                    },
                    checks: vec![gained(
                        "compute.instance.Read",
                        "*",
                        &["user:u-cara > group:g-billing > role:r-viewer > policy:p-compute-read > #0"],
                    )],
                    assumable_lost: &[],
                },
            ],
            lost_through: "",
            gained_through: "group:g-billing > role:r-viewer",
            actions: Actions {
                rows: 2,
                some: &[
                    Row {
                        action: "compute.instance.List",
                        lost: 0,
                        kept: 1,
                        gained: 1,
                    },
                ],
            },
        }
    }

    pub fn delete_group() -> Case {
        Case {
            changes: Changes::Pinned("delete_group"),
            args: args(&["delete-group", "--group", "DevOps"]),
            users: vec![
                U {
                    id: "u-dan",
                    note: None,
                    counts: Counts {
                        lost: 37,
                        kept: 0,
                        gained: 0,
                    },
                    checks: vec![
                        lost(
                            "account.billing.Read",
                            "*",
                            &["user:u-dan > group:g-devops > policy:p-cost-read > #0"],
                        ),
                        not_lost("compute.instance.Delete"),
                    ],
                    assumable_lost: &[DEPLOY_DAN],
                },
                U {
                    id: "u-ana",
                    note: None,
                    counts: Counts {
                        lost: 35,
                        kept: 3,
                        gained: 0,
                    },
                    checks: vec![kept("account.billing.Read", "*", &[ANA_BILLING])],
                    assumable_lost: &[DEPLOY_ANA],
                },
            ],
            lost_through: "group:g-devops",
            gained_through: "",
            actions: Actions {
                rows: 38,
                some: &[
                    Row {
                        action: "account.billing.Read",
                        lost: 1,
                        kept: 1,
                        gained: 0,
                    },
                    Row {
                        action: "compute.instance.Delete",
                        lost: 1,
                        kept: 0,
                        gained: 0,
                    },
                ],
            },
        }
    }

    pub fn delete_role() -> Case {
        Case {
            changes: Changes::Pinned("delete_role"),
            args: args(&["delete-role", "--role", "network-operator"]),
            users: vec![
                U {
                    id: "u-ana",
                    note: None,
                    counts: Counts {
                        lost: 12,
                        kept: 0,
                        gained: 0,
                    },
                    checks: vec![],
                    assumable_lost: &[],
                },
                U {
                    id: "u-dan",
                    note: None,
                    counts: Counts {
                        lost: 12,
                        kept: 0,
                        gained: 0,
                    },
                    checks: vec![],
                    assumable_lost: &[],
                },
            ],
            lost_through: "role:r-net-operator",
            gained_through: "",
            actions: Actions {
                rows: 12,
                some: &[Row {
                    action: "network.dns.*",
                    lost: 2,
                    kept: 0,
                    gained: 0,
                }],
            },
        }
    }

    pub fn delete_an_assumable_role() -> Case {
        Case {
            changes: Changes::Pinned("delete_an_assumable_role"),
            // An assumable role: only the trusts to assume it go.
            args: args(&["delete-role", "--role", "r-deploy-admin"]),
            users: vec![
                U {
                    id: "u-ana",
                    note: None,
                    counts: Counts {
                        lost: 0,
                        kept: 0,
                        gained: 0,
                    },
                    checks: vec![],
                    assumable_lost: &[DEPLOY_ANA],
                },
                U {
                    id: "u-dan",
                    note: None,
                    counts: Counts {
                        lost: 0,
                        kept: 0,
                        gained: 0,
                    },
                    checks: vec![],
                    assumable_lost: &[DEPLOY_DAN],
                },
            ],
            lost_through: "",
            gained_through: "",
            actions: Actions { rows: 0, some: &[] },
        }
    }

    pub fn delete_policy() -> Case {
        Case {
            changes: Changes::Pinned("delete_policy"),
            args: args(&["delete-policy", "--policy", "registry-push"]),
            users: ["u-ana", "u-ci", "u-dan"]
                .into_iter()
                .map(|id| U {
                    id,
                    note: None,
                    counts: Counts {
                        lost: 2,
                        kept: 0,
                        gained: 0,
                    },
                    checks: vec![],
                    assumable_lost: &[],
                })
                .collect(),
            lost_through: "policy:p-registry-push",
            gained_through: "",
            actions: Actions {
                rows: 2,
                some: &[
                    Row {
                        action: "container.registry.Pull",
                        lost: 3,
                        kept: 0,
                        gained: 0,
                    },
                    Row {
                        action: "container.registry.Push",
                        lost: 3,
                        kept: 0,
                        gained: 0,
                    },
                ],
            },
        }
    }

    pub fn suspend_user() -> Case {
        Case {
            changes: Changes::Pinned("suspend_user"),
            args: args(&["suspend-user", "--user", "dan@acme.example"]),
            users: vec![U {
                id: "u-dan",
                note: Some("suspended by the change: loses all access; assignments are kept"),
                counts: Counts {
                    lost: 37,
                    kept: 0,
                    gained: 0,
                },
                checks: vec![lost(
                    "container.registry.Pull",
                    "registry:reg-7f3a",
                    &["user:u-dan > group:g-devops > policy:p-registry-push > #0"],
                )],
                assumable_lost: &[DEPLOY_DAN],
            }],
            lost_through: "user:u-dan > group:g-devops",
            gained_through: "",
            actions: Actions {
                rows: 37,
                some: &[Row {
                    action: "compute.instance.Create",
                    lost: 1,
                    kept: 0,
                    gained: 0,
                }],
            },
        }
    }

    pub fn unsuspend_user() -> Case {
        Case {
            changes: Changes::Pinned("unsuspend_user"),
            args: args(&["unsuspend-user", "--user", "u-ben"]),
            users: vec![U {
                id: "u-ben",
                note: Some("unsuspended by the change: assignments count again"),
                counts: Counts {
                    lost: 0,
                    kept: 0,
                    gained: 38,
                },
                checks: vec![gained(
                    "compute.instance.Delete",
                    "*",
                    &["user:u-ben > group:g-devops > policy:p-compute-admin > #0"],
                )],
                assumable_lost: &[],
            }],
            lost_through: "",
            gained_through: "user:u-ben > group:g-devops",
            actions: Actions {
                rows: 38,
                some: &[Row {
                    action: "compute.instance.Delete",
                    lost: 0,
                    kept: 0,
                    gained: 1,
                }],
            },
        }
    }

    pub fn remove_user() -> Case {
        Case {
            changes: Changes::Pinned("remove_user"),
            args: args(&["remove-user", "--user", "ci-deployer@acme.example"]),
            users: vec![U {
                id: "u-ci",
                note: Some("removed from the organization: loses all access"),
                counts: Counts {
                    lost: 2,
                    kept: 0,
                    gained: 0,
                },
                checks: vec![lost(
                    "container.registry.Push",
                    "registry:reg-7f3a",
                    &["user:u-ci > policy:p-registry-push > #0"],
                )],
                assumable_lost: &[],
            }],
            lost_through: "user:u-ci > policy:p-registry-push",
            gained_through: "",
            actions: Actions {
                rows: 2,
                some: &[Row {
                    action: "container.registry.Push",
                    lost: 1,
                    kept: 0,
                    gained: 0,
                }],
            },
        }
    }

    pub fn remove_a_suspended_user() -> Case {
        Case {
            changes: Changes::Pinned("remove_a_suspended_user"),
            // Suspended already: nothing to lose.
            args: args(&["remove-user", "--user", "ben@acme.example"]),
            users: vec![U {
                id: "u-ben",
                note: Some("suspended user: no access before or after; assignments are kept"),
                counts: Counts {
                    lost: 0,
                    kept: 0,
                    gained: 0,
                },
                checks: vec![],
                assumable_lost: &[],
            }],
            lost_through: "",
            gained_through: "",
            actions: Actions { rows: 0, some: &[] },
        }
    }

    pub fn suspend_the_root_user() -> Case {
        Case {
            changes: Changes::Pinned("suspend_the_root_user"),
            args: args(&["suspend-user", "--user", "olivia@acme.example"]),
            users: vec![U {
                id: "u-olivia",
                note: Some("root user: unconditional access; no change affects them"),
                counts: Counts {
                    lost: 0,
                    kept: 0,
                    gained: 0,
                },
                checks: vec![],
                assumable_lost: &[],
            }],
            lost_through: "",
            gained_through: "",
            actions: Actions { rows: 0, some: &[] },
        }
    }

    pub fn replace_policy_document_narrowing_it() -> Case {
        Case {
            changes: Changes::Pinned("replace_policy_document_narrowing_it"),
            // compute-admin keeps one action. List stays allowed through the same path (the
            // policy's statement 0): unchanged, in no list. Read is kept by Ana's viewer role.
            args: args(&[
                "replace-policy-document",
                "--policy",
                "compute-admin",
                "--document",
                &list_only(),
            ]),
            users: vec![
                U {
                    id: "u-ana",
                    note: None,
                    counts: Counts {
                        lost: 21,
                        kept: 1,
                        gained: 0,
                    },
                    checks: vec![
                        kept("compute.instance.Read", "*", &[ANA_VIEWER]),
                        not_kept("compute.instance.List"),
                        not_lost("compute.instance.List"),
                    ],
                    assumable_lost: &[],
                },
                U {
                    id: "u-dan",
                    note: None,
                    counts: Counts {
                        lost: 21,
                        kept: 0,
                        gained: 0,
                    },
                    checks: vec![
                        lost("compute.instance.Read", "*", &[DAN_ADMIN]),
                        not_lost("compute.instance.List"),
                    ],
                    assumable_lost: &[],
                },
            ],
            lost_through: "policy:p-compute-admin",
            gained_through: "",
            actions: Actions {
                rows: 22,
                some: &[Row {
                    action: "compute.instance.Read",
                    lost: 1,
                    kept: 1,
                    gained: 0,
                }],
            },
        }
    }

    pub fn replace_policy_document_lifting_a_deny() -> Case {
        Case {
            changes: Changes::Pinned("replace_policy_document_lifting_a_deny"),
            // The Deny goes: Dan gains what DevOps allowed.
            args: args(&[
                "replace-policy-document",
                "--policy",
                "p-no-instance-delete",
                "--document",
                &no_statement(),
            ]),
            users: vec![U {
                id: "u-dan",
                note: None,
                counts: Counts {
                    lost: 0,
                    kept: 0,
                    gained: 1,
                },
                checks: vec![gained("compute.instance.Delete", "*", &[DAN_ADMIN])],
                assumable_lost: &[],
            }],
            lost_through: "",
            gained_through: "",
            actions: Actions {
                rows: 1,
                some: &[Row {
                    action: "compute.instance.Delete",
                    lost: 0,
                    kept: 0,
                    gained: 1,
                }],
            },
        }
    }

    pub fn delete_role_trust() -> Case {
        Case {
            changes: Changes::Pinned("delete_role_trust"),
            args: args(&["delete-role-trust", "--trust", "t-deploy-devops"]),
            users: vec![
                U {
                    id: "u-ana",
                    note: None,
                    counts: Counts {
                        lost: 0,
                        kept: 0,
                        gained: 0,
                    },
                    checks: vec![],
                    assumable_lost: &[DEPLOY_ANA],
                },
                U {
                    id: "u-dan",
                    note: None,
                    counts: Counts {
                        lost: 0,
                        kept: 0,
                        gained: 0,
                    },
                    checks: vec![],
                    assumable_lost: &[DEPLOY_DAN],
                },
            ],
            lost_through: "",
            gained_through: "",
            actions: Actions { rows: 0, some: &[] },
        }
    }
}

#[test]
fn a_change_file_is_applied_as_one_step() {
    // Alone, taking Dan out of Contractors lifts the Deny on compute.instance.Delete...
    let alone = impact_json(&args(&[
        "remove-member",
        "--group",
        "Contractors",
        "--user",
        "dan@acme.example",
    ]));
    assert_eq!(
        entries(&alone["users"][0]["gained"]),
        vec![(
            "compute.instance.Delete".to_string(),
            "*".to_string(),
            vec![DAN_ADMIN.to_string()]
        )]
    );
    // ...but with the same Deny attached to DevOps in the same step, Dan gains nothing and Ana
    // loses it. Entities by id and by name.
    let case = Case {
        args: args(&["--changes", &data("one-step.json")]),
        changes: Changes::Are(json!([
            {"kind": "remove_member", "group": group("g-contractors", "Contractors"),
             "user": user("u-dan", "dan@acme.example")},
            {"kind": "attach_policy", "group": group("g-devops", "DevOps"),
             "policy": {"id": "p-no-instance-delete", "name": "no-instance-delete"}}
        ])),
        users: vec![
            U {
                id: "u-ana",
                note: None,
                counts: Counts {
                    lost: 1,
                    kept: 0,
                    gained: 0,
                },
                checks: vec![lost("compute.instance.Delete", "*", &[ANA_ADMIN])],
                assumable_lost: &[],
            },
            // Named by a change, so listed even though nothing changes for him.
            U {
                id: "u-dan",
                note: None,
                counts: Counts {
                    lost: 0,
                    kept: 0,
                    gained: 0,
                },
                checks: vec![],
                assumable_lost: &[],
            },
        ],
        lost_through: "",
        gained_through: "",
        actions: Actions {
            rows: 1,
            some: &[Row {
                action: "compute.instance.Delete",
                lost: 1,
                kept: 0,
                gained: 0,
            }],
        },
    };
    check_impact("one-step.json", &impact_json(&case.args), &case);

    // Ana leaves both groups and drops her role: account.billing.Read, kept by either removal
    // alone, is lost with both its paths.
    let file = temp_file(
        "ana-leaves.json",
        json!([
            {"kind": "remove_member", "group": "DevOps", "user": "ana@acme.example"},
            {"kind": "remove_member", "group": "Billing", "user": "ana@acme.example"},
            {"kind": "detach_role", "role": "viewer", "user": "u-ana"}
        ])
        .to_string(),
    );
    let value = impact_json(&args(&["--changes", &file]));
    let ana = &value["users"][0];
    assert_eq!(ana["user"]["id"], "u-ana");
    assert_eq!(value["changes"].as_array().expect("changes").len(), 3);
    let lost = entries(&ana["lost"]);
    // Everything but her direct support-tickets policy (9 entries, untouched).
    assert_eq!(lost.len(), 40, "{lost:#?}");
    assert_eq!(ana["kept"], json!([]));
    assert_eq!(ana["unchanged_count"], 9);
    assert_eq!(
        crate::util::find(&lost, "account.billing.Read", "*").expect("lost"),
        &vec![
            ANA_BILLING.to_string(),
            "user:u-ana > group:g-devops > policy:p-cost-read > #0".to_string()
        ]
    );
}

#[test]
fn a_change_file_with_every_kind() {
    let case = Case {
        args: args(&["--changes", &data("every-kind.json")]),
        changes: Changes::Are(Value::Null), // checked below, kind by kind
        users: vec![
            U {
                id: "u-ana",
                note: None,
                counts: Counts {
                    lost: 37,
                    kept: 10,
                    gained: 0,
                },
                checks: vec![
                    lost("compute.instance.Read", "*", &[ANA_VIEWER, ANA_ADMIN]),
                    kept("account.billing.Read", "*", &[ANA_BILLING]),
                    kept(
                        "support.ticket.Read",
                        "*",
                        &[
                            "user:u-ana > group:g-billing > policy:p-support > #0",
                        ],
                    ),
                ],
                assumable_lost: &[DEPLOY_ANA],
            },
            U {
                id: "u-dan",
                note: Some("suspended by the change"),
                counts: Counts {
                    lost: 37,
                    kept: 0,
                    gained: 0,
                },
                checks: vec![],
                assumable_lost: &[DEPLOY_DAN],
            },
            U {
                id: "u-ci",
                note: Some("removed from the organization"),
                counts: Counts {
                    lost: 2,
                    kept: 0,
                    gained: 0,
                },
                checks: vec![],
                assumable_lost: &[],
            },
            U {
                // Into DevOps, whose cost-read now denies billing.
                id: "u-cara",
                note: None,
                counts: Counts {
                    lost: 1,
                    kept: 0,
                    gained: 44,
                },
                checks: vec![
                    lost(
                        "account.billing.Read",
                        "*",
                        &[
                            "user:u-cara > group:g-billing > policy:p-billing-read > #0",
                        ],
                    ),
                    gained(
                        "network.dns.Read",
                        "*",
                        &[
                            "user:u-cara > role:r-net-operator > policy:p-network-ops > #0",
                            "user:u-cara > group:g-devops > role:r-net-operator > policy:p-network-ops > #0",
                        ],
                    ),
                    // Contractors is deleted: no Deny for Cara.
                    gained(
                        "compute.instance.Delete",
                        "*",
                        &[
                            "user:u-cara > group:g-devops > policy:p-compute-admin > #0",
                        ],
                    ),
                    // The registry policy is deleted in the same step.
                    not_gained("container.registry.Push"),
                ],
                assumable_lost: &[],
            },
            U {
                id: "u-ben",
                note: Some("unsuspended by the change"),
                counts: Counts {
                    lost: 0,
                    kept: 0,
                    gained: 35,
                },
                checks: vec![not_gained("account.billing.Read")],
                assumable_lost: &[],
            },
        ],
        lost_through: "",
        gained_through: "",
        actions: Actions {
            rows: 47,
            some: &[
                Row {
                    action: "compute.instance.Delete",
                    lost: 1,
                    kept: 0,
                    gained: 2,
                },
            ],
        },
    };
    let value = impact_json(&case.args);
    let kinds: Vec<&str> = value["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| c["kind"].as_str().expect("kind"))
        .collect();
    assert_eq!(
        kinds,
        [
            "remove_member",
            "add_member",
            "detach_policy",
            "attach_policy",
            "detach_role",
            "attach_role",
            "delete_group",
            "delete_role_trust",
            "delete_role",
            "delete_policy",
            "suspend_user",
            "unsuspend_user",
            "remove_user",
            "replace_policy_document"
        ]
    );
    let case = Case {
        changes: Changes::Are(value["changes"].clone()),
        ..case
    };
    check_impact("every-kind.json", &value, &case);
}

#[test]
fn invalid_change_files() {
    let small = data("small.json");
    let on_small = ["--snapshot", small.as_str()];
    let remove_ana = r#"{"kind": "remove_member", "group": "DevOps", "user": "ana@acme.example"}"#;
    let doc = |statement: &str| {
        format!(
            r#"[{{"kind": "replace_policy_document", "policy": "p-support",
                 "policy_document": {{"Version": "1", "Statement": [{statement}]}}}}]"#
        )
    };
    // (label, file content, extra arguments, fragments of the one error line besides the path)
    let cases: Vec<(&str, String, &[&str], &[&str])> = vec![
        (
            "not-json",
            "not json".into(),
            &[],
            &["expected ident at line 1"],
        ),
        (
            "not-an-array",
            "{}".into(),
            &[],
            &["invalid type: map, expected a sequence"],
        ),
        (
            "unknown-kind",
            format!(
                r#"[{remove_ana}, {{"kind": "remove_membr", "group": "Billing", "user": "u-ana"}}]"#
            ),
            &[],
            &[
                "[1].kind: unknown variant `remove_membr`",
                "expected one of `remove_member`",
            ],
        ),
        (
            "no-kind",
            r#"[{"group": "DevOps"}]"#.into(),
            &[],
            &["[0]: missing field `kind`"],
        ),
        (
            "missing-field",
            r#"[{"kind": "remove_member", "group": "DevOps"}]"#.into(),
            &[],
            &["[0]: missing field `user`"],
        ),
        (
            "unknown-field",
            r#"[{"kind": "delete_group", "group": "DevOps", "force": true}]"#.into(),
            &[],
            &["[0]: unknown field `force`"],
        ),
        (
            "wrong-type",
            r#"[{"kind": "delete_group", "group": 3}]"#.into(),
            &[],
            &["[0].group: invalid type: integer `3`, expected a string"],
        ),
        (
            "two-holders",
            format!(
                r#"[{remove_ana}, {{"kind": "detach_policy", "policy": "p-support", "user": "ana@acme.example", "group": "DevOps"}}]"#
            ),
            &[],
            &["[1]: detach_policy: name exactly one of `user`, `group`, `role`"],
        ),
        (
            "no-holder",
            r#"[{"kind": "attach_role", "role": "viewer"}]"#.into(),
            &[],
            &["[0]: attach_role: name exactly one of `user`, `group`"],
        ),
        (
            // A role holds policies, not roles.
            "role-holding-a-role",
            r#"[{"kind": "attach_role", "role": "viewer", "role_": "x"}]"#.into(),
            &[],
            &[
                "[0]: unknown field `role_`",
                "expected one of `role`, `user`, `group`",
            ],
        ),
        (
            "unknown-group",
            format!(r#"[{remove_ana}, {{"kind": "delete_group", "group": "Ops"}}]"#),
            &[],
            &["[1]: no group matches `Ops`", "`g-devops` (DevOps)"],
        ),
        (
            "unknown-user",
            r#"[{"kind": "suspend_user", "user": "zed@acme.example"}]"#.into(),
            &[],
            &["[0]: no user matches `zed@acme.example`"],
        ),
        (
            "unknown-policy",
            r#"[{"kind": "delete_policy", "policy": "p-nope"}]"#.into(),
            &[],
            &["[0]: no policy matches `p-nope`"],
        ),
        (
            "unknown-role",
            r#"[{"kind": "delete_role", "role": "admin"}]"#.into(),
            &[],
            &["[0]: no role matches `admin`"],
        ),
        (
            "unknown-trust",
            r#"[{"kind": "delete_role_trust", "trust": "t-nope"}]"#.into(),
            &[],
            &["[0]: no role trust matches `t-nope`"],
        ),
        (
            "ambiguous-group",
            r#"[{"kind": "delete_group", "group": "Team"}]"#.into(),
            &on_small,
            &[
                "[0]: `Team` matches several groups",
                "`g-team-1`",
                "`g-team-2`",
            ],
        ),
        (
            "bad-document-field",
            doc(r#"{"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {}}"#),
            &[],
            &["[0]: unknown field `Condition`"],
        ),
    ];
    for (label, content, extra, fragments) in cases {
        let path = temp_file(&format!("{label}.json"), content);
        let run = iamsim(&[&["impact", "--changes", &path][..], extra].concat());
        let with_path = [&[path.as_str()][..], fragments].concat();
        run.expect_error(&with_path);
    }
    // Errors found while applying the changes name the file and the change's place in it.
    let cases: &[(&str, &str, &str)] = &[
        (
            "deleted-earlier",
            r#"[{"kind": "delete_group", "group": "DevOps"},
                {"kind": "remove_member", "group": "DevOps", "user": "ana@acme.example"}]"#,
            "[1]: group `g-devops` is deleted by an earlier change",
        ),
        (
            "trust-of-deleted-role",
            r#"[{"kind": "delete_role", "role": "deploy-admin"},
                {"kind": "delete_role_trust", "trust": "t-deploy-devops"}]"#,
            "[1]: role trust `t-deploy-devops` is deleted by an earlier change",
        ),
        (
            "twice",
            r#"[{"kind": "remove_member", "group": "DevOps", "user": "ana@acme.example"},
                {"kind": "remove_member", "group": "DevOps", "user": "ana@acme.example"}]"#,
            "[1]: user `u-ana` is not a member of group `g-devops` (the change does nothing)",
        ),
        (
            "system-policy",
            r#"[{"kind": "replace_policy_document", "policy": "Vultr managed: Billing ACL",
                 "policy_document": {"Version": "1", "Statement": []}}]"#,
            "[0]: policy `p-acl-billing` is managed by Vultr (is_system_policy)",
        ),
    ];
    for (label, content, fragment) in cases {
        let path = temp_file(&format!("{label}.json"), content);
        iamsim(&["impact", "--changes", &path]).expect_error(&[&format!("{path}: {fragment}")]);
    }
    let empty = temp_file("empty.json", "[]");
    iamsim(&["impact", "--changes", &empty])
        .expect_error(&[&format!("{empty}: the change file holds no change")]);
    // Likewise a malformed replacement document, also named by its policy.
    for (label, statement, fragment) in [
        (
            "bad-document-effect",
            r#"{"Effect": "allow", "Action": "*", "Resource": "*"}"#,
            "[0]: policy `p-support` new document statement 0: unknown effect `allow`",
        ),
        (
            "bad-document-pattern",
            r#"{"Effect": "Allow", "Action": "compute.*.Create", "Resource": "*"}"#,
            "[0]: policy `p-support` new document statement 0: invalid action pattern `compute.*.Create`",
        ),
    ] {
        let path = temp_file(&format!("{label}.json"), doc(statement));
        iamsim(&["impact", "--changes", &path]).expect_error(&[&format!("{path}: {fragment}")]);
    }
    let missing = data("no-such-changes.json");
    iamsim(&["impact", "--changes", &missing]).expect_error(&[&missing, "no such file"]);
}

/// Changes that do nothing, each as a subcommand: exit 2 naming what is already so; with
/// `--allow-noop`, skipped, and then nobody is affected.
#[test]
fn changes_that_do_nothing() {
    let cases: &[(&[&str], &str)] = &[
        (
            &[
                "remove-member",
                "--group",
                "Billing",
                "--user",
                "dan@acme.example",
            ],
            "user `u-dan` is not a member of group `g-billing`",
        ),
        (
            &[
                "add-member",
                "--group",
                "DevOps",
                "--user",
                "ana@acme.example",
            ],
            "user `u-ana` is already a member of group `g-devops`",
        ),
        (
            &[
                "detach-policy",
                "--policy",
                "p-support",
                "--group",
                "DevOps",
            ],
            "policy `p-support` is not attached to group `g-devops`",
        ),
        (
            &[
                "attach-policy",
                "--policy",
                "p-support",
                "--user",
                "ana@acme.example",
            ],
            "policy `p-support` is already attached to user `u-ana`",
        ),
        (
            &["detach-policy", "--policy", "p-support", "--role", "viewer"],
            "policy `p-support` is not attached to role `r-viewer`",
        ),
        (
            &["detach-role", "--role", "viewer", "--group", "DevOps"],
            "role `r-viewer` is not attached to group `g-devops`",
        ),
        (
            &[
                "attach-role",
                "--role",
                "viewer",
                "--user",
                "ana@acme.example",
            ],
            "role `r-viewer` is already attached to user `u-ana`",
        ),
        (
            &["suspend-user", "--user", "ben@acme.example"],
            "user `u-ben` is already suspended",
        ),
        (
            &["unsuspend-user", "--user", "ana@acme.example"],
            "user `u-ana` is not suspended",
        ),
    ];
    for (change, reason) in cases {
        let run = iamsim(&[&["impact"][..], change].concat());
        run.expect_error(&[reason, "(the change does nothing)"]);

        let skipped = impact_json(&args(&[change, &["--allow-noop"][..]].concat()));
        assert_eq!(
            skipped,
            json!({"schema_version": 5, "changes": [], "users": [], "actions": []}),
            "{change:?}"
        );
        let table = iamsim(&[&["impact"][..], change, &["--allow-noop"]].concat());
        table.expect_code(0);
        assert_eq!(table.stdout, "Nobody's access changes.\n", "{change:?}");
        assert!(
            table
                .stderr
                .contains("note: 1 change(s) skipped: they do nothing (--allow-noop)"),
            "{change:?}: {}",
            table.stderr
        );
    }

    // In a change file, only the change that does nothing is skipped.
    let file = temp_file(
        "twice.json",
        json!([
            {"kind": "remove_member", "group": "DevOps", "user": "ana@acme.example"},
            {"kind": "remove_member", "group": "DevOps", "user": "ana@acme.example"}
        ])
        .to_string(),
    );
    let twice = impact_json(&args(&["--changes", &file, "--allow-noop"]));
    let once = impact_json(&args(&[
        "remove-member",
        "--group",
        "DevOps",
        "--user",
        "ana@acme.example",
    ]));
    assert_eq!(twice, once);

    // `--allow-noop` does not skip errors of another kind.
    let file = temp_file(
        "deleted.json",
        json!([{"kind": "delete_group", "group": "DevOps"},
               {"kind": "delete_group", "group": "DevOps"}])
        .to_string(),
    );
    iamsim(&["impact", "--changes", &file, "--allow-noop"])
        .expect_error(&["group `g-devops` is deleted by an earlier change"]);
}

#[test]
fn replace_policy_document() {
    let doc =
        document(json!({"Effect": "Allow", "Action": "support.ticket.Read", "Resource": "*"}));
    // Vultr-managed policies cannot be edited: by id or by name, with or without --allow-noop.
    for policy in ["p-acl-billing", "Vultr managed: Billing ACL"] {
        for extra in [&[][..], &["--allow-noop"]] {
            let run = iamsim(
                &[
                    &[
                        "impact",
                        "replace-policy-document",
                        "--policy",
                        policy,
                        "--document",
                        &doc,
                    ][..],
                    extra,
                ]
                .concat(),
            );
            run.expect_error(&[
                "policy `p-acl-billing` is managed by Vultr (is_system_policy): its document cannot be replaced",
            ]);
        }
    }
    // A custom policy: Ana keeps Read through the new document and loses the rest of it.
    let value = impact_json(&args(&[
        "replace-policy-document",
        "--policy",
        "support-tickets",
        "--document",
        &doc,
    ]));
    let ana = &value["users"][0];
    assert_eq!(ana["user"]["id"], "u-ana");
    // Read stays allowed through the same path, the policy's statement 0: unchanged.
    assert_eq!(ana["kept"], json!([]));
    let lost = entries(&ana["lost"]);
    assert_eq!(lost.len(), 8, "{lost:#?}");
    assert!(
        lost.iter().all(|e| e.0 != "support.ticket.Read"),
        "{lost:#?}"
    );

    // A document naming an action no policy names: a new element of the universe, gained.
    let wider = document(json!([
        {"Effect": "Allow", "Action": ["support.*", "compute.gizmo.Spin"], "Resource": "*"},
        {"Effect": "Deny", "Action": "compute.instance.Create", "Resource": "*"}
    ]));
    let value = impact_json(&args(&[
        "replace-policy-document",
        "--policy",
        "p-support",
        "--document",
        &wider,
    ]));
    let ana = &value["users"][0];
    let gained: Vec<String> = entries(&ana["gained"]).into_iter().map(|e| e.0).collect();
    assert_eq!(gained, ["support.*"]);
    let lost = entries(&ana["lost"]);
    assert_eq!(
        lost.iter().map(|e| e.0.as_str()).collect::<Vec<_>>(),
        ["compute.instance.Create"],
        "the new Deny"
    );
    assert_eq!(paths(&ana["lost"][0]["via"]), [ANA_ADMIN]);
    // compute.gizmo.Spin was allowed before through compute.*: kept, now through two paths.
    assert_eq!(
        crate::util::find(&entries(&ana["kept"]), "compute.gizmo.Spin", "*").expect("kept"),
        &vec![ANA_SUPPORT.to_string(), ANA_ADMIN.to_string()]
    );

    // Unreadable documents.
    let missing = data("no-such-document.json");
    let not_json = temp_file("not-a-document.json", "{\"Version\": ");
    let no_statement = temp_file("no-statement.json", r#"{"Version": "1"}"#);
    for (file, fragments) in [
        (&missing, &[missing.as_str(), "no such file"][..]),
        (&not_json, &[not_json.as_str(), "EOF while parsing"]),
        (
            &no_statement,
            &[no_statement.as_str(), "missing field `Statement`"],
        ),
    ] {
        iamsim(&[
            "impact",
            "replace-policy-document",
            "--policy",
            "p-support",
            "--document",
            file,
        ])
        .expect_error(fragments);
    }
}

/// Joining a trusted group makes its assumable roles reachable: reported as gained, and a
/// `--fail-on gained` gate trips on it.
#[test]
fn add_member_gains_an_assumable_role() {
    let run = crate::util::iamsim(&[
        "impact",
        "add-member",
        "--group",
        "DevOps",
        "--user",
        "cara@acme.example",
        "--format",
        "json",
    ]);
    let value = run.json();
    let cara = &value["users"][0];
    assert_eq!(cara["user"]["id"], "u-cara");
    assert_eq!(cara["assumable_gained"][0]["role"]["id"], "r-deploy-admin");
    assert_eq!(cara["assumable_gained"][0]["via"][0][1]["id"], "g-devops");
    assert_eq!(cara["assumable_lost"], serde_json::json!([]));

    let gate = crate::util::iamsim(&[
        "impact",
        "add-member",
        "--group",
        "Contractors",
        "--user",
        "cara@acme.example",
        "--fail-on",
        "gained",
    ]);
    // Contractors only denies: Cara gains nothing, and the gate stays quiet.
    gate.expect_code(0);
    let gate = crate::util::iamsim(&[
        "impact",
        "delete-role-trust",
        "--trust",
        "t-deploy-devops",
        "--fail-on",
        "gained",
    ]);
    gate.expect_code(0);
}
