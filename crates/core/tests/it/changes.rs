//! One test per change kind on one tiny organization, with the exact answer: who loses, keeps
//! and gains what, through what, and which assumable roles go. Then the errors.
//!
//! The organization (catalogue: compute.instance.{Create,Delete,Read}, account.billing.Read,
//! network.dns.Create):
//!
//! ```text
//! ana   direct p-read;  member of DevOps and Billing
//! ben   direct role ops; member of DevOps; trusted directly for deployer (t-ben)
//! cy    suspended; direct p-read; member of Billing
//! DevOps  (g-dev)  p-compute, role ops; trusted for deployer (t-dev)
//! Billing (g-bill) p-billing, p-no-delete
//! ops       (r-ops, assignable)  p-dns
//! deployer  (r-deploy, assumable) p-compute
//! p-compute    Allow compute.instance.* on *
//! p-read       Allow compute.instance.Read on *   (Vultr-managed)
//! p-billing    Allow account.billing.Read on *
//! p-dns        Allow network.dns.Create on *
//! p-no-delete  Deny compute.instance.Delete on i-prod
//! ```

use iamsim_core::report::{Entry, FlatImpact, FlatUserImpact, StepKind};
use iamsim_core::{
    parse_changes, Catalogue, ChangeError, ChangeSetError, EntityKind, LookupError, Org,
    SimulateOptions, Snapshot,
};
use serde_json::{json, Value};

const CATALOGUE: &str = "compute.instance.Create\ncompute.instance.Delete\ncompute.instance.Read\n\
                         account.billing.Read\nnetwork.dns.Create\n";

fn policy(id: &str, effect: &str, action: &str, resource: &str) -> Value {
    json!({"id": id, "name": id, "policy_document": {"Version": "2026-03-20",
        "Statement": [{"Effect": effect, "Action": action, "Resource": resource}]}})
}

fn org() -> Org {
    let mut read = policy("p-read", "Allow", "compute.instance.Read", "*");
    read["is_system_policy"] = json!(true);
    let doc = json!({
        "format": "iamsim.snapshot.v1",
        "organization": {"id": "org", "name": "Org"},
        "users": [
            {"id": "u-ana", "email": "ana@x.example", "policies": ["p-read"]},
            {"id": "u-ben", "email": "ben@x.example", "roles": ["r-ops"]},
            {"id": "u-cy", "email": "cy@x.example", "suspended": true, "policies": ["p-read"]}
        ],
        "groups": [
            {"id": "g-dev", "display_name": "DevOps", "members": ["u-ana", "u-ben"],
             "policies": ["p-compute"], "roles": ["r-ops"]},
            {"id": "g-bill", "display_name": "Billing", "members": ["u-ana", "u-cy"],
             "policies": ["p-billing", "p-no-delete"]}
        ],
        "roles": [
            {"id": "r-ops", "name": "ops", "role_type": "assignable", "policies": ["p-dns"]},
            {"id": "r-deploy", "name": "deployer", "role_type": "assumable", "policies": ["p-compute"]}
        ],
        "policies": [
            policy("p-compute", "Allow", "compute.instance.*", "*"),
            read,
            policy("p-billing", "Allow", "account.billing.Read", "*"),
            policy("p-dns", "Allow", "network.dns.Create", "*"),
            policy("p-no-delete", "Deny", "compute.instance.Delete", "i-prod")
        ],
        "role_trusts": [
            {"id": "t-dev", "role_id": "r-deploy", "trust_type": "TemporaryAssumption", "trusted_group_id": "g-dev"},
            {"id": "t-ben", "role_id": "r-deploy", "trust_type": "TemporaryAssumption", "trusted_user_id": "u-ben"}
        ]
    });
    let snapshot = Snapshot::from_json_str(&doc.to_string()).unwrap();
    Org::compile(&snapshot, &Catalogue::parse(CATALOGUE).unwrap()).unwrap()
}

/// (action, resource, paths): a path is its steps after the user, `kind:id` joined by `/`,
/// statements as `#index`.
type Flat = (String, String, Vec<String>);

fn flat(entries: &[Entry]) -> Vec<Flat> {
    entries
        .iter()
        .map(|e| {
            let paths = e
                .via
                .iter()
                .map(|p| {
                    p.iter()
                        .skip(1)
                        .map(|s| match s.kind() {
                            StepKind::Statement => format!("#{}", s.index().unwrap()),
                            _ => format!("{:?}:{}", s.kind(), s.id().unwrap()).to_lowercase(),
                        })
                        .collect::<Vec<_>>()
                        .join("/")
                })
                .collect();
            (e.action.clone(), e.resource.clone(), paths)
        })
        .collect()
}

/// What one user should see: lost, kept, gained as (action, resource, paths), and the trusts
/// of the assumable roles lost.
#[derive(Debug, PartialEq)]
struct Seen {
    user: String,
    lost: Vec<Flat>,
    kept: Vec<Flat>,
    gained: Vec<Flat>,
    assumable_lost: Vec<String>,
    note: Option<String>,
}

fn seen(impact: &FlatUserImpact) -> Seen {
    Seen {
        user: impact.user.id.to_string(),
        lost: flat(&impact.lost),
        kept: flat(&impact.kept),
        gained: flat(&impact.gained),
        assumable_lost: impact
            .assumable_lost
            .iter()
            .map(|a| a.trust.id.clone())
            .collect(),
        note: impact.note.clone(),
    }
}

type Expected<'a> = &'a [(&'a str, &'a str, &'a [&'a str])];

/// One user's expected impact.
fn user(
    id: &str,
    lost: Expected,
    kept: Expected,
    gained: Expected,
    assumable_lost: &[&str],
) -> Seen {
    let own = |entries: Expected| {
        entries
            .iter()
            .map(|(a, r, p)| {
                (
                    a.to_string(),
                    r.to_string(),
                    p.iter().map(|s| s.to_string()).collect(),
                )
            })
            .collect()
    };
    Seen {
        user: id.to_string(),
        lost: own(lost),
        kept: own(kept),
        gained: own(gained),
        assumable_lost: assumable_lost.iter().map(|s| s.to_string()).collect(),
        note: None,
    }
}

fn noted(mut seen: Seen, note: &str) -> Seen {
    seen.note = Some(note.to_string());
    seen
}

/// The what-if, its grouped form checked, in the one-entry-per-action form.
fn simulate(
    org: &Org,
    changes: Value,
    options: SimulateOptions,
) -> Result<FlatImpact, ChangeError> {
    let specs = parse_changes(&changes.to_string()).unwrap();
    let changes = org.resolve_all(&specs).unwrap();
    let impact = org.simulate_with(&changes, &options)?;
    assert_eq!(iamsim_core::testing::grouped_shape(&impact), None);
    Ok(impact.flatten())
}

/// Simulates `changes` (a JSON array) and checks every reported user, in report order.
fn check(changes: Value, expected: &[Seen]) {
    let org = org();
    let impact = simulate(&org, changes.clone(), SimulateOptions::default())
        .unwrap_or_else(|e| panic!("{changes}: {e}"));
    let got: Vec<Seen> = impact.users.iter().map(seen).collect();
    assert_eq!(got, expected, "{changes}");
    assert_eq!(impact.changes.len(), changes.as_array().unwrap().len());
}

// Paths, by name.
const DEV_COMPUTE: &str = "group:g-dev/policy:p-compute/#0";
const DEV_OPS_DNS: &str = "group:g-dev/role:r-ops/policy:p-dns/#0";
const OPS_DNS: &str = "role:r-ops/policy:p-dns/#0";
const READ: &str = "policy:p-read/#0";
const BILL_BILLING: &str = "group:g-bill/policy:p-billing/#0";

/// What a DevOps member has from p-compute, Read apart.
const COMPUTE: Expected = &[
    ("compute.instance.*", "*", &[DEV_COMPUTE]),
    ("compute.instance.Create", "*", &[DEV_COMPUTE]),
    ("compute.instance.Delete", "*", &[DEV_COMPUTE]),
];

/// ben's everything from p-compute.
const BEN_COMPUTE: Expected = &[
    ("compute.instance.*", "*", &[DEV_COMPUTE]),
    ("compute.instance.Create", "*", &[DEV_COMPUTE]),
    ("compute.instance.Delete", "*", &[DEV_COMPUTE]),
    ("compute.instance.Read", "*", &[DEV_COMPUTE]),
];

#[test]
fn remove_member() {
    check(
        json!([{"kind": "remove_member", "group": "DevOps", "user": "ana@x.example"}]),
        &[user(
            "u-ana",
            &[
                ("compute.instance.*", "*", &[DEV_COMPUTE]),
                ("compute.instance.Create", "*", &[DEV_COMPUTE]),
                ("compute.instance.Delete", "*", &[DEV_COMPUTE]),
                ("network.dns.Create", "*", &[DEV_OPS_DNS]),
            ],
            &[("compute.instance.Read", "*", &[READ])],
            &[],
            &["t-dev"],
        )],
    );
}

#[test]
fn add_member() {
    // Billing's Deny on i-prod now reaches ben: Delete on i-prod, allowed through `*`, is lost.
    check(
        json!([{"kind": "add_member", "group": "g-bill", "user": "u-ben"}]),
        &[user(
            "u-ben",
            &[("compute.instance.Delete", "i-prod", &[DEV_COMPUTE])],
            &[],
            &[("account.billing.Read", "*", &[BILL_BILLING])],
            &[],
        )],
    );
}

#[test]
fn detach_policy_from_each_holder() {
    check(
        json!([{"kind": "detach_policy", "policy": "p-compute", "group": "DevOps"}]),
        &[
            user("u-ben", BEN_COMPUTE, &[], &[], &[]),
            user(
                "u-ana",
                COMPUTE,
                &[("compute.instance.Read", "*", &[READ])],
                &[],
                &[],
            ),
        ],
    );
    check(
        json!([{"kind": "detach_policy", "policy": "p-dns", "role": "ops"}]),
        &[
            user(
                "u-ana",
                &[("network.dns.Create", "*", &[DEV_OPS_DNS])],
                &[],
                &[],
                &[],
            ),
            user(
                "u-ben",
                &[("network.dns.Create", "*", &[OPS_DNS, DEV_OPS_DNS])],
                &[],
                &[],
                &[],
            ),
        ],
    );
    // A Vultr-managed policy can be detached; only its document is read-only.
    check(
        json!([{"kind": "detach_policy", "policy": "p-read", "user": "u-ana"}]),
        &[user(
            "u-ana",
            &[],
            &[("compute.instance.Read", "*", &[DEV_COMPUTE])],
            &[],
            &[],
        )],
    );
}

#[test]
fn attach_policy_to_each_holder() {
    check(
        json!([{"kind": "attach_policy", "policy": "p-billing", "user": "ben@x.example"}]),
        &[user(
            "u-ben",
            &[],
            &[],
            &[("account.billing.Read", "*", &["policy:p-billing/#0"])],
            &[],
        )],
    );
    // A Deny through ops reaches ana (already denied on i-prod: no change) and ben (loses).
    check(
        json!([{"kind": "attach_policy", "policy": "p-no-delete", "role": "r-ops"}]),
        &[user(
            "u-ben",
            &[("compute.instance.Delete", "i-prod", &[DEV_COMPUTE])],
            &[],
            &[],
            &[],
        )],
    );
    check(
        json!([{"kind": "attach_policy", "policy": "p-dns", "group": "Billing"}]),
        &[user(
            "u-ana",
            &[],
            &[(
                "network.dns.Create",
                "*",
                &["group:g-bill/policy:p-dns/#0", DEV_OPS_DNS],
            )],
            &[],
            &[],
        )],
    );
}

#[test]
fn detach_role_from_each_principal() {
    check(
        json!([{"kind": "detach_role", "role": "ops", "user": "u-ben"}]),
        &[user(
            "u-ben",
            &[],
            &[("network.dns.Create", "*", &[DEV_OPS_DNS])],
            &[],
            &[],
        )],
    );
    check(
        json!([{"kind": "detach_role", "role": "r-ops", "group": "g-dev"}]),
        &[
            user(
                "u-ana",
                &[("network.dns.Create", "*", &[DEV_OPS_DNS])],
                &[],
                &[],
                &[],
            ),
            user(
                "u-ben",
                &[],
                &[("network.dns.Create", "*", &[OPS_DNS])],
                &[],
                &[],
            ),
        ],
    );
}

#[test]
fn attach_role_to_each_principal() {
    check(
        json!([{"kind": "attach_role", "role": "ops", "user": "u-ana"}]),
        &[user(
            "u-ana",
            &[],
            &[("network.dns.Create", "*", &[OPS_DNS, DEV_OPS_DNS])],
            &[],
            &[],
        )],
    );
    check(
        json!([{"kind": "attach_role", "role": "ops", "group": "Billing"}]),
        &[user(
            "u-ana",
            &[],
            &[(
                "network.dns.Create",
                "*",
                &["group:g-bill/role:r-ops/policy:p-dns/#0", DEV_OPS_DNS],
            )],
            &[],
            &[],
        )],
    );
    // An assumable role attached directly gives no standing access: the named user is
    // reported, with nothing.
    check(
        json!([{"kind": "attach_role", "role": "deployer", "user": "u-ana"}]),
        &[user("u-ana", &[], &[], &[], &[])],
    );
}

#[test]
fn delete_group() {
    check(
        json!([{"kind": "delete_group", "group": "DevOps"}]),
        &[
            user(
                "u-ana",
                &[
                    ("compute.instance.*", "*", &[DEV_COMPUTE]),
                    ("compute.instance.Create", "*", &[DEV_COMPUTE]),
                    ("compute.instance.Delete", "*", &[DEV_COMPUTE]),
                    ("network.dns.Create", "*", &[DEV_OPS_DNS]),
                ],
                &[("compute.instance.Read", "*", &[READ])],
                &[],
                &["t-dev"],
            ),
            user(
                "u-ben",
                BEN_COMPUTE,
                &[("network.dns.Create", "*", &[OPS_DNS])],
                &[],
                &["t-dev"],
            ),
        ],
    );
}

#[test]
fn delete_role() {
    check(
        json!([{"kind": "delete_role", "role": "ops"}]),
        &[
            user(
                "u-ana",
                &[("network.dns.Create", "*", &[DEV_OPS_DNS])],
                &[],
                &[],
                &[],
            ),
            user(
                "u-ben",
                &[("network.dns.Create", "*", &[OPS_DNS, DEV_OPS_DNS])],
                &[],
                &[],
                &[],
            ),
        ],
    );
    // Its trusts go with an assumable role.
    check(
        json!([{"kind": "delete_role", "role": "deployer"}]),
        &[
            user("u-ana", &[], &[], &[], &["t-dev"]),
            user("u-ben", &[], &[], &[], &["t-ben", "t-dev"]),
        ],
    );
}

#[test]
fn delete_policy() {
    // The Deny goes: ana may delete i-prod. cy, suspended, is reached but unaffected.
    check(
        json!([{"kind": "delete_policy", "policy": "p-no-delete"}]),
        &[user(
            "u-ana",
            &[],
            &[],
            &[("compute.instance.Delete", "i-prod", &[DEV_COMPUTE])],
            &[],
        )],
    );
}

#[test]
fn suspend_user() {
    check(
        json!([{"kind": "suspend_user", "user": "u-ana"}]),
        &[noted(
            user(
                "u-ana",
                &[
                    ("account.billing.Read", "*", &[BILL_BILLING]),
                    ("compute.instance.*", "*", &[DEV_COMPUTE]),
                    ("compute.instance.Create", "*", &[DEV_COMPUTE]),
                    ("compute.instance.Delete", "*", &[DEV_COMPUTE]),
                    ("compute.instance.Read", "*", &[READ, DEV_COMPUTE]),
                    ("network.dns.Create", "*", &[DEV_OPS_DNS]),
                ],
                &[],
                &[],
                &["t-dev"],
            ),
            "suspended by the change: loses all access; assignments are kept",
        )],
    );
}

#[test]
fn unsuspend_user() {
    // Billing's Deny applies to cy again too: Delete on i-prod stays out of reach (not gained).
    check(
        json!([{"kind": "unsuspend_user", "user": "cy@x.example"}]),
        &[noted(
            user(
                "u-cy",
                &[],
                &[],
                &[
                    ("account.billing.Read", "*", &[BILL_BILLING]),
                    ("compute.instance.Read", "*", &[READ]),
                ],
                &[],
            ),
            "unsuspended by the change: assignments count again",
        )],
    );
}

#[test]
fn remove_user() {
    check(
        json!([{"kind": "remove_user", "user": "u-ben"}]),
        &[noted(
            user(
                "u-ben",
                &[
                    ("compute.instance.*", "*", &[DEV_COMPUTE]),
                    ("compute.instance.Create", "*", &[DEV_COMPUTE]),
                    ("compute.instance.Delete", "*", &[DEV_COMPUTE]),
                    ("compute.instance.Read", "*", &[DEV_COMPUTE]),
                    ("network.dns.Create", "*", &[OPS_DNS, DEV_OPS_DNS]),
                ],
                &[],
                &[],
                &["t-ben", "t-dev"],
            ),
            "removed from the organization: loses all access",
        )],
    );
}

#[test]
fn replace_policy_document() {
    // Statement 0 still allows Read: the same path, so Read is neither lost nor kept.
    check(
        json!([{"kind": "replace_policy_document", "policy": "p-compute", "policy_document":
            {"Version": "2026-03-20", "Statement": {"Effect": "Allow", "Action": "compute.instance.Read", "Resource": "*"}}}]),
        &[
            user("u-ana", COMPUTE, &[], &[], &[]),
            user("u-ben", COMPUTE, &[], &[], &[]),
        ],
    );
    // A pattern the organization does not name becomes an element of its own.
    check(
        json!([{"kind": "replace_policy_document", "policy": "p-billing", "policy_document":
            {"Statement": [{"Effect": "Allow", "Action": ["storage.*"], "Resource": ["*"]}]}}]),
        &[user(
            "u-ana",
            &[("account.billing.Read", "*", &[BILL_BILLING])],
            &[],
            &[("storage.*", "*", &[BILL_BILLING])],
            &[],
        )],
    );
}

#[test]
fn a_replacement_deleted_in_the_same_set_names_nothing() {
    // The new document names compute.instance.Frob, but its policy goes too: the action is named
    // neither before nor after the set, so nobody loses it by name, though ana loses
    // compute.instance.*, which stands for it.
    check(
        json!([
            {"kind": "replace_policy_document", "policy": "p-billing", "policy_document":
                {"Statement": {"Effect": "Allow", "Action": "compute.instance.Frob", "Resource": "*"}}},
            {"kind": "delete_policy", "policy": "p-billing"},
            {"kind": "remove_member", "group": "DevOps", "user": "u-ana"}
        ]),
        &[user(
            "u-ana",
            &[
                ("account.billing.Read", "*", &[BILL_BILLING]),
                ("compute.instance.*", "*", &[DEV_COMPUTE]),
                ("compute.instance.Create", "*", &[DEV_COMPUTE]),
                ("compute.instance.Delete", "*", &[DEV_COMPUTE]),
                ("network.dns.Create", "*", &[DEV_OPS_DNS]),
            ],
            &[("compute.instance.Read", "*", &[READ])],
            &[],
            &["t-dev"],
        )],
    );
}

#[test]
fn delete_role_trust() {
    check(
        json!([{"kind": "delete_role_trust", "trust": "t-ben"}]),
        &[user("u-ben", &[], &[], &[], &["t-ben"])],
    );
}

#[test]
fn a_change_set_is_one_step() {
    // Moving ana from DevOps to a role that gives her the same: she keeps compute through the
    // role, and loses only DNS (which DevOps gave through ops) and the trust on DevOps.
    check(
        json!([
            {"kind": "attach_policy", "policy": "p-compute", "user": "u-ana"},
            {"kind": "remove_member", "group": "DevOps", "user": "u-ana"}
        ]),
        &[user(
            "u-ana",
            &[("network.dns.Create", "*", &[DEV_OPS_DNS])],
            &[
                ("compute.instance.*", "*", &["policy:p-compute/#0"]),
                ("compute.instance.Create", "*", &["policy:p-compute/#0"]),
                ("compute.instance.Delete", "*", &["policy:p-compute/#0"]),
                ("compute.instance.Read", "*", &["policy:p-compute/#0", READ]),
            ],
            &[],
            &["t-dev"],
        )],
    );
}

/// The error of a change set that should fail.
fn error(changes: Value) -> ChangeError {
    simulate(&org(), changes, SimulateOptions::default()).unwrap_err()
}

#[test]
fn a_change_that_does_nothing_is_an_error_unless_allowed() {
    let cases = [
        (
            json!([{"kind": "detach_policy", "policy": "p-billing", "user": "u-ana"}]),
            "policy `p-billing` is not attached to user `u-ana` (the change does nothing)",
        ),
        (
            json!([{"kind": "add_member", "group": "DevOps", "user": "u-ana"}]),
            "user `u-ana` is already a member of group `g-dev` (the change does nothing)",
        ),
        (
            json!([{"kind": "suspend_user", "user": "u-cy"}]),
            "user `u-cy` is already suspended (the change does nothing)",
        ),
        (
            json!([{"kind": "detach_role", "role": "deployer", "group": "DevOps"}]),
            "role `r-deploy` is not attached to group `g-dev` (the change does nothing)",
        ),
        (
            // Undone by the change before it.
            json!([
                {"kind": "remove_member", "group": "DevOps", "user": "u-ben"},
                {"kind": "remove_member", "group": "DevOps", "user": "u-ben"}
            ]),
            "user `u-ben` is not a member of group `g-dev` (the change does nothing)",
        ),
    ];
    for (changes, message) in cases {
        let err = error(changes.clone());
        assert!(
            matches!(err, ChangeError::Noop { .. }),
            "{changes}: {err:?}"
        );
        assert_eq!(err.to_string(), message);
    }
    // Allowed, the no-op is skipped: nothing changes, nobody is reported.
    let impact = simulate(
        &org(),
        json!([{"kind": "detach_policy", "policy": "p-billing", "user": "u-ana"}]),
        SimulateOptions {
            allow_noop: true,
            ..SimulateOptions::default()
        },
    )
    .unwrap();
    assert!(
        impact.changes.is_empty() && impact.users.is_empty(),
        "{impact:?}"
    );
    // ...and the others still apply.
    let impact = simulate(
        &org(),
        json!([
            {"kind": "suspend_user", "user": "u-cy"},
            {"kind": "delete_role_trust", "trust": "t-ben"}
        ]),
        SimulateOptions {
            allow_noop: true,
            ..SimulateOptions::default()
        },
    )
    .unwrap();
    assert_eq!(impact.changes.len(), 1);
    assert_eq!(
        impact.users.iter().map(seen).collect::<Vec<_>>(),
        [user("u-ben", &[], &[], &[], &["t-ben"])]
    );
}

#[test]
fn a_system_policy_document_cannot_be_replaced() {
    let err = error(
        json!([{"kind": "replace_policy_document", "policy": "p-read",
        "policy_document": {"Statement": []}}]),
    );
    assert_eq!(
        err,
        ChangeError::SystemPolicy {
            policy: "p-read".into()
        }
    );
    assert!(err.to_string().contains("is_system_policy"), "{err}");
}

#[test]
fn a_change_after_a_delete_of_the_same_entity_is_an_error() {
    let cases = [
        (
            json!([
                {"kind": "delete_group", "group": "DevOps"},
                {"kind": "remove_member", "group": "DevOps", "user": "u-ben"}
            ]),
            (EntityKind::Group, "g-dev"),
        ),
        (
            json!([
                {"kind": "delete_role", "role": "deployer"},
                {"kind": "delete_role_trust", "trust": "t-ben"}
            ]),
            (EntityKind::Trust, "t-ben"),
        ),
        (
            json!([
                {"kind": "remove_user", "user": "u-ana"},
                {"kind": "suspend_user", "user": "u-ana"}
            ]),
            (EntityKind::User, "u-ana"),
        ),
        (
            json!([
                {"kind": "delete_policy", "policy": "p-dns"},
                {"kind": "attach_policy", "policy": "p-dns", "user": "u-ben"}
            ]),
            (EntityKind::Policy, "p-dns"),
        ),
        (
            json!([
                {"kind": "delete_role", "role": "ops"},
                {"kind": "delete_role", "role": "ops"}
            ]),
            (EntityKind::Role, "r-ops"),
        ),
        (
            json!([
                {"kind": "delete_role_trust", "trust": "t-dev"},
                {"kind": "delete_role_trust", "trust": "t-dev"}
            ]),
            (EntityKind::Trust, "t-dev"),
        ),
    ];
    for (changes, (kind, id)) in cases {
        let expected = ChangeError::Deleted {
            kind,
            id: id.into(),
        };
        assert_eq!(error(changes.clone()), expected, "{changes}");
        // `check_all` finds the same error without judging anyone, and names the change.
        let org = org();
        let specs = parse_changes(&changes.to_string()).unwrap();
        let resolved = org.resolve_all(&specs).unwrap();
        assert_eq!(
            org.check_all(&resolved, &SimulateOptions::default()),
            Err(ChangeSetError {
                index: 1,
                source: expected
            }),
            "{changes}"
        );
        assert_eq!(
            org.check_all(&resolved[..1], &SimulateOptions::default()),
            Ok(()),
            "{changes}"
        );
    }
    // A delete after a change of the same entity is fine.
    check(
        json!([
            {"kind": "remove_member", "group": "DevOps", "user": "u-ben"},
            {"kind": "delete_group", "group": "DevOps"}
        ]),
        &[
            user(
                "u-ana",
                &[
                    ("compute.instance.*", "*", &[DEV_COMPUTE]),
                    ("compute.instance.Create", "*", &[DEV_COMPUTE]),
                    ("compute.instance.Delete", "*", &[DEV_COMPUTE]),
                    ("network.dns.Create", "*", &[DEV_OPS_DNS]),
                ],
                &[("compute.instance.Read", "*", &[READ])],
                &[],
                &["t-dev"],
            ),
            user(
                "u-ben",
                BEN_COMPUTE,
                &[("network.dns.Create", "*", &[OPS_DNS])],
                &[],
                &["t-dev"],
            ),
        ],
    );
}

#[test]
fn a_malformed_replacement_document_is_an_error() {
    let cases = [
        (
            json!({"Effect": "allow", "Action": "*", "Resource": "*"}),
            "unknown effect `allow`",
        ),
        (
            json!({"Effect": "Allow", "Action": "compute.*.Read", "Resource": "*"}),
            "invalid action pattern `compute.*.Read`",
        ),
        (
            json!({"Effect": "Deny", "Action": "*", "Resource": "reg*stry:1"}),
            "invalid resource `reg*stry:1`",
        ),
    ];
    for (bad, reason) in cases {
        let document =
            json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}, bad]});
        let err = error(
            json!([{"kind": "replace_policy_document", "policy": "p-billing", "policy_document": document}]),
        );
        match &err {
            ChangeError::Document {
                policy,
                statement,
                reason: got,
            } => {
                assert_eq!((policy.as_str(), *statement), ("p-billing", 1));
                assert!(got.contains(reason), "{got}");
            }
            other => panic!("{bad}: {other:?}"),
        }
        assert!(
            err.to_string()
                .starts_with("policy `p-billing` new document statement 1: "),
            "{err}"
        );
    }
    // Over the statement cap (R-POL-11): named at the first statement over it.
    let many = iamsim_core::policy::MAX_STATEMENTS + 1;
    let document = json!({"Statement": vec![json!({"Effect": "Allow", "Action": "*", "Resource": "*"}); many]});
    let err = error(
        json!([{"kind": "replace_policy_document", "policy": "p-billing", "policy_document": document}]),
    );
    assert_eq!(
        err.to_string(),
        format!(
            "policy `p-billing` new document statement {}: the document has {many} statements, \
             over the cap of {}",
            many - 1,
            many - 1
        )
    );
}

#[test]
fn a_change_naming_two_holders_or_none_is_malformed() {
    let org = org();
    let cases = [
        (
            r#"[{"kind": "detach_policy", "policy": "p-read", "user": "u-ana", "group": "DevOps"}]"#,
            "detach_policy",
            "name exactly one of `user`, `group`, `role`",
        ),
        (
            r#"[{"kind": "attach_policy", "policy": "p-read"}]"#,
            "attach_policy",
            "name exactly one of `user`, `group`, `role`",
        ),
        (
            r#"[{"kind": "attach_role", "role": "ops", "user": "u-ana", "group": "Billing"}]"#,
            "attach_role",
            "name exactly one of `user`, `group`",
        ),
        (
            r#"[{"kind": "detach_role", "role": "ops"}]"#,
            "detach_role",
            "name exactly one of `user`, `group`",
        ),
    ];
    for (text, kind, reason) in cases {
        let specs = parse_changes(text).unwrap();
        let err = org.resolve(&specs[0]).unwrap_err();
        assert_eq!(
            err,
            LookupError::Malformed {
                change: kind,
                reason: reason.into()
            },
            "{text}"
        );
        assert_eq!(org.resolve_all(&specs).unwrap_err().index, 0);
    }
}

/// `ChangeSummary::describe`, the one line the CLI prints per change: an entity whose name is
/// its id is named once; a policy change names a role holder, a role change its user.
#[test]
fn changes_describe_themselves() {
    let cases = [
        (
            json!({"kind": "remove_member", "group": "DevOps", "user": "u-ben"}),
            "remove ben@x.example from group DevOps (g-dev)",
        ),
        (
            json!({"kind": "detach_policy", "policy": "p-dns", "role": "ops"}),
            "detach policy p-dns from role ops (r-ops)",
        ),
        (
            json!({"kind": "detach_role", "role": "ops", "user": "u-ben"}),
            "detach role ops (r-ops) from ben@x.example",
        ),
        (
            json!({"kind": "attach_role", "role": "ops", "group": "Billing"}),
            "attach role ops (r-ops) to group Billing (g-bill)",
        ),
        (
            json!({"kind": "delete_role_trust", "trust": "t-ben"}),
            "delete trust t-ben",
        ),
    ];
    for (change, expected) in cases {
        let impact = simulate(&org(), json!([change]), SimulateOptions::default()).unwrap();
        assert_eq!(impact.changes[0].describe(), expected, "{change}");
    }
}
