//! Differential and metamorphic properties over random organizations: the engine against the
//! naive reference evaluator, paths included, and the what-if against rebuilding the snapshot.

use std::collections::BTreeSet;

use iamsim_core::report::{Decision, Entry, StepKind};
use iamsim_core::{reference, Catalogue, Change, Org, Snapshot};
use proptest::prelude::*;
use proptest::strategy::BoxedStrategy;
use serde_json::{json, Value};

const CATALOGUE: &str = "compute.instance.Create\ncompute.instance.Delete\ncompute.instance.Read\n\
                         compute.snapshot.List\nnetwork.dns.Create\naccount.billing.Read\n";

/// Action patterns drawn from: catalogue actions, an unknown literal, a case typo, and every
/// wildcard form, some covering nothing in the catalogue.
const ACTIONS: &[&str] = &[
    "compute.instance.Create",
    "compute.instance.Delete",
    "compute.instance.Read",
    "compute.snapshot.List",
    "network.dns.Create",
    "account.billing.Read",
    "compute.widget.Make",
    "compute.Instance.read",
    "compute.instance.*",
    "compute.*",
    "network.*",
    "storage.*",
    "*",
];

const RESOURCES: &[&str] = &["*", "*", "*", "i-1", "i-2", "registry:*", "registry:r1"];

fn picks(n: usize, max: usize) -> BoxedStrategy<Vec<usize>> {
    if n == 0 {
        Just(Vec::new()).boxed()
    } else {
        // Repeats are allowed on purpose: the engine must count a repeated id once.
        prop::collection::vec(0..n, 0..=max).boxed()
    }
}

fn one_or_many(items: Vec<String>, single: bool) -> Value {
    if single && items.len() == 1 {
        json!(items[0])
    } else {
        json!(items)
    }
}

fn statement() -> impl Strategy<Value = Value> {
    (
        prop::bool::weighted(0.25),
        prop::collection::vec(0..ACTIONS.len(), 1..=3),
        prop::collection::vec(0..RESOURCES.len(), 1..=2),
        any::<bool>(),
    )
        .prop_map(|(deny, actions, resources, single)| {
            json!({
                "Effect": if deny { "Deny" } else { "Allow" },
                "Action": one_or_many(actions.iter().map(|&a| ACTIONS[a].to_string()).collect(), single),
                "Resource": one_or_many(resources.iter().map(|&r| RESOURCES[r].to_string()).collect(), single),
            })
        })
}

fn ids(prefix: &str, picks: &[usize]) -> Vec<String> {
    picks.iter().map(|i| format!("{prefix}{i}")).collect()
}

/// A random organization: 1–5 users, 0–3 groups, 0–3 roles (some assumable), 1–5 policies,
/// trusts, suspended users, service users, maybe a root user, and an occasional dangling id.
pub fn organization() -> impl Strategy<Value = Snapshot> {
    (1..=5usize, 0..=3usize, 0..=3usize, 1..=5usize)
        .prop_flat_map(|(nu, ng, nr, np)| {
            let user = (picks(np, 2), picks(nr, 2), prop::bool::weighted(0.1), any::<bool>());
            let group = (picks(nu, 4), picks(np, 2), picks(nr, 2));
            let role = (prop::bool::weighted(0.25), picks(np, 2));
            let policy = (prop::collection::vec(statement(), 0..=3), any::<bool>());
            let trust = (0..nr.max(1), prop::option::of(0..nu), prop::option::of(0..ng.max(1)));
            (
                prop::collection::vec(user, nu),
                prop::collection::vec(group, ng),
                prop::collection::vec(role, nr),
                prop::collection::vec(policy, np),
                prop::collection::vec(trust, 0..=2),
                prop::option::weighted(0.2, 0..nu),
                prop::bool::weighted(0.1),
            )
        })
        .prop_map(|(users, groups, roles, policies, trusts, root, dangling)| {
            let mut users: Vec<Value> = users
                .into_iter()
                .enumerate()
                .map(|(i, (policies, roles, suspended, service))| {
                    json!({"id": format!("u{i}"), "email": format!("u{i}@x.example"), "name": format!("User {i}"),
                           "suspended": suspended, "service_user": service,
                           "policies": ids("p", &policies), "roles": ids("r", &roles)})
                })
                .collect();
            if dangling {
                users[0]["policies"].as_array_mut().unwrap().push(json!("p-gone"));
            }
            let groups: Vec<Value> = groups
                .into_iter()
                .enumerate()
                .map(|(i, (members, policies, roles))| {
                    json!({"id": format!("g{i}"), "display_name": format!("Group {i}"),
                           "members": ids("u", &members), "policies": ids("p", &policies), "roles": ids("r", &roles)})
                })
                .collect();
            let roles: Vec<Value> = roles
                .into_iter()
                .enumerate()
                .map(|(i, (assumable, policies))| {
                    json!({"id": format!("r{i}"), "name": format!("role {i}"),
                           "role_type": if assumable { "assumable" } else { "assignable" },
                           "policies": ids("p", &policies)})
                })
                .collect();
            let policies: Vec<Value> = policies
                .into_iter()
                .enumerate()
                .map(|(i, (statements, single))| {
                    let statement = if single && statements.len() == 1 {
                        statements[0].clone()
                    } else {
                        json!(statements)
                    };
                    json!({"id": format!("p{i}"), "name": format!("policy {i}"),
                           "policy_document": {"Version": "2026-03-20", "Statement": statement}})
                })
                .collect();
            let trusts: Vec<Value> = trusts
                .into_iter()
                .enumerate()
                .map(|(i, (role, user, group))| {
                    json!({"id": format!("t{i}"), "role_id": format!("r{role}"), "trust_type": "TemporaryAssumption",
                           "trusted_user_id": user.map(|u| format!("u{u}")),
                           "trusted_group_id": group.map(|g| format!("g{g}"))})
                })
                .collect();
            let doc = json!({
                "format": "iamsim.snapshot.v1",
                "organization": {"id": "org", "name": "Org", "root_user_id": root.map(|u| format!("u{u}"))},
                "users": users, "groups": groups, "roles": roles, "policies": policies, "role_trusts": trusts
            });
            Snapshot::from_json_str(&doc.to_string()).expect("generated snapshots are well-formed")
        })
}

fn catalogue() -> Catalogue {
    Catalogue::parse(CATALOGUE).unwrap()
}

/// Every (group, user) membership of the snapshot.
fn memberships(snapshot: &Snapshot) -> BTreeSet<(String, String)> {
    snapshot
        .groups
        .iter()
        .flat_map(|g| {
            g.members
                .iter()
                .filter(|m| snapshot.users.iter().any(|u| &u.id == *m))
                .map(|m| (g.id.clone(), m.clone()))
        })
        .collect()
}

fn key(e: &Entry) -> (&str, &str) {
    (&e.action, &e.resource)
}

fn through_group(path: &[iamsim_core::report::Step], group: &str) -> bool {
    path.iter()
        .any(|s| s.kind == StepKind::Group && s.id.as_deref() == Some(group))
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 1000,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    /// The engine's effective permissions equal the reference's, paths included.
    #[test]
    fn effective_equals_reference(snapshot in organization()) {
        let catalogue = catalogue();
        let org = Org::compile(&snapshot, &catalogue).unwrap();
        for user in &snapshot.users {
            let engine = org.effective(org.find_user(&user.id).unwrap());
            let naive = reference::effective(&snapshot, &catalogue, &user.id);
            prop_assert_eq!(engine, naive, "user {}", user.id);
        }
    }

    /// Every remove-member what-if equals the reference's, and obeys the rules of the change.
    #[test]
    fn remove_member_equals_reference(snapshot in organization()) {
        let catalogue = catalogue();
        let org = Org::compile(&snapshot, &catalogue).unwrap();
        for (group_id, user_id) in memberships(&snapshot) {
            let change = Change::RemoveMember {
                group: org.find_group(&group_id).unwrap(),
                user: org.find_user(&user_id).unwrap(),
            };
            let impact = org.simulate(&[change]).unwrap();
            prop_assert_eq!(impact.users.len(), 1);
            let got = &impact.users[0];
            let naive = reference::remove_member(&snapshot, &catalogue, &group_id, &user_id);
            prop_assert_eq!(got, &naive, "remove {} from {}", user_id, group_id);

            // lost, kept and gained are disjoint.
            let lost: BTreeSet<_> = got.lost.iter().map(key).collect();
            let kept: BTreeSet<_> = got.kept.iter().map(key).collect();
            let gained: BTreeSet<_> = got.gained.iter().map(key).collect();
            prop_assert!(lost.is_disjoint(&kept) && lost.is_disjoint(&gained) && kept.is_disjoint(&gained));

            // Nothing outside the group's reach changes: whatever is lost came only through it,
            // and whatever is kept had a path through it.
            let before = org.effective(change_user(&org, &user_id));
            for entry in &got.lost {
                prop_assert!(entry.via.iter().all(|p| through_group(p, &group_id)), "lost {:?}", entry);
            }
            for entry in &got.kept {
                prop_assert!(entry.via.iter().all(|p| !through_group(p, &group_id)), "kept {:?}", entry);
            }
            for entry in &before.allowed {
                if !entry.via.iter().any(|p| through_group(p, &group_id)) {
                    prop_assert!(!lost.contains(&key(entry)) && !kept.contains(&key(entry)));
                }
            }
        }
    }

    /// The what-if equals rebuilding the snapshot without the membership: every entry the
    /// what-if reports is decided that way, with those paths, by the rebuilt organization.
    #[test]
    fn remove_member_equals_rebuild(snapshot in organization()) {
        let catalogue = catalogue();
        let org = Org::compile(&snapshot, &catalogue).unwrap();
        for (group_id, user_id) in memberships(&snapshot) {
            let change = Change::RemoveMember {
                group: org.find_group(&group_id).unwrap(),
                user: org.find_user(&user_id).unwrap(),
            };
            let impact = org.simulate(&[change]).unwrap();
            let got = &impact.users[0];
            let rebuilt = Org::compile(&reference::without_member(&snapshot, &group_id, &user_id), &catalogue).unwrap();
            let u = rebuilt.find_user(&user_id).unwrap();
            for entry in &got.lost {
                let e = rebuilt.explain(u, &entry.action, &entry.resource).unwrap();
                prop_assert_ne!(e.decision, Decision::Allowed);
            }
            for entry in got.kept.iter().chain(&got.gained) {
                let e = rebuilt.explain(u, &entry.action, &entry.resource).unwrap();
                prop_assert_eq!(e.decision, Decision::Allowed);
                prop_assert_eq!(&e.allow, &entry.via);
            }
            // Everything allowed before and not reported stays allowed with the same paths.
            let before = org.effective(change_user(&org, &user_id));
            let reported: BTreeSet<_> = got.lost.iter().chain(&got.kept).map(key).collect();
            // (The root user's one entry, `*` on `*`, is not a universe element to explain.)
            let checked = if before.user.root { &[][..] } else { &before.allowed[..] };
            for entry in checked.iter().filter(|e| !reported.contains(&key(e))) {
                let e = rebuilt.explain(u, &entry.action, &entry.resource).unwrap();
                prop_assert_eq!(e.decision, Decision::Allowed);
                prop_assert_eq!(&e.allow, &entry.via);
            }
            // And the rebuilt organization's answers for everyone else are untouched.
            for other in snapshot.users.iter().filter(|o| o.id != user_id) {
                prop_assert_eq!(
                    rebuilt.effective(rebuilt.find_user(&other.id).unwrap()),
                    org.effective(org.find_user(&other.id).unwrap())
                );
            }
        }
    }
}

fn change_user(org: &Org, id: &str) -> iamsim_core::UserKey {
    org.find_user(id).unwrap()
}
