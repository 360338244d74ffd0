//! Shared by the property tests: random organizations, random changes naming their entities,
//! and the proptest configuration.

#![allow(dead_code)] // Each test file uses its own part.

use iamsim_core::report::{ChangeKind, ChangeSummary};
use iamsim_core::{Catalogue, ChangeSpec, Snapshot};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::strategy::BoxedStrategy;
use serde_json::{json, Value};

pub const CATALOGUE: &str =
    "compute.instance.Create\ncompute.instance.Delete\ncompute.instance.Read\n\
                             compute.snapshot.List\nnetwork.dns.Create\naccount.billing.Read\n";

/// Action patterns drawn from: catalogue actions, an unknown literal, a case typo, and every
/// wildcard form, some covering nothing in the catalogue.
pub const ACTIONS: &[&str] = &[
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

pub const RESOURCES: &[&str] = &["*", "*", "*", "i-1", "i-2", "registry:*", "registry:r1"];

/// 1,000 cases, no regression files.
pub fn config() -> ProptestConfig {
    cases(1000)
}

pub fn cases(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

pub fn catalogue() -> Catalogue {
    Catalogue::parse(CATALOGUE).unwrap()
}

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

pub fn statement() -> impl Strategy<Value = Value> {
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

/// A policy document of 0–3 statements, one statement sometimes written bare.
pub fn document() -> impl Strategy<Value = Value> {
    (prop::collection::vec(statement(), 0..=3), any::<bool>()).prop_map(|(statements, single)| {
        let statement = if single && statements.len() == 1 {
            statements[0].clone()
        } else {
            json!(statements)
        };
        json!({"Version": "2026-03-20", "Statement": statement})
    })
}

fn ids(prefix: &str, picks: &[usize]) -> Vec<String> {
    picks.iter().map(|i| format!("{prefix}{i}")).collect()
}

/// A random organization: 1–5 users, 0–3 groups, 0–3 roles (some assumable), 1–5 policies
/// (some Vultr-managed), trusts, suspended users, service users, maybe a root user, and an
/// occasional dangling id.
pub fn organization() -> impl Strategy<Value = Snapshot> {
    (1..=5usize, 0..=3usize, 0..=3usize, 1..=5usize)
        .prop_flat_map(|(nu, ng, nr, np)| {
            let user = (picks(np, 2), picks(nr, 2), prop::bool::weighted(0.1), any::<bool>());
            let group = (picks(nu, 4), picks(np, 2), picks(nr, 2));
            let role = (prop::bool::weighted(0.25), picks(np, 2));
            let policy = (document(), prop::bool::weighted(0.15));
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
                .map(|(i, (document, system))| {
                    json!({"id": format!("p{i}"), "name": format!("policy {i}"),
                           "is_system_policy": system, "policy_document": document})
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

/// Every kind, in [`ChangeKind`] order.
pub const KINDS: [ChangeKind; 14] = [
    ChangeKind::RemoveMember,
    ChangeKind::AddMember,
    ChangeKind::DetachPolicy,
    ChangeKind::AttachPolicy,
    ChangeKind::DetachRole,
    ChangeKind::AttachRole,
    ChangeKind::DeleteGroup,
    ChangeKind::DeleteRole,
    ChangeKind::DeletePolicy,
    ChangeKind::SuspendUser,
    ChangeKind::UnsuspendUser,
    ChangeKind::RemoveUser,
    ChangeKind::ReplacePolicyDocument,
    ChangeKind::DeleteRoleTrust,
];

/// The choices behind one change, made before the organization is known; [`ChangePick::spec`]
/// turns them into a change naming entities of a given snapshot.
#[derive(Debug, Clone)]
pub struct ChangePick {
    pub kind: ChangeKind,
    a: Index,
    b: Index,
    document: Value,
}

/// A change of any kind, uniformly.
pub fn change_pick() -> impl Strategy<Value = ChangePick> {
    (0..KINDS.len(), any::<Index>(), any::<Index>(), document()).prop_map(
        |(kind, a, b, document)| ChangePick {
            kind: KINDS[kind],
            a,
            b,
            document,
        },
    )
}

/// `min`–`max` changes of any kind. Half the time a change makes the same choices of entities
/// as the one before it, so that changes often meet on one entity (a document replaced, then
/// its policy deleted; a role deleted, then its trust).
pub fn change_set(min: usize, max: usize) -> impl Strategy<Value = Vec<ChangePick>> {
    prop::collection::vec((change_pick(), any::<bool>()), min..=max).prop_map(|picks| {
        let mut out: Vec<ChangePick> = Vec::new();
        for (mut pick, same) in picks {
            if let Some(previous) = out.last().filter(|_| same) {
                pick.a = previous.a;
                pick.b = previous.b;
            }
            out.push(pick);
        }
        out
    })
}

/// A holder named in a change: (`user` | `group` | `role`, id).
type Named = (&'static str, String);

fn named_holder(name: &Named) -> (Option<String>, Option<String>, Option<String>) {
    let (kind, id) = name;
    let only = |k: &str| (*kind == k).then(|| id.clone());
    (only("user"), only("group"), only("role"))
}

/// Every existing (policy, holder) attachment of the snapshot.
pub fn policy_attachments(s: &Snapshot) -> Vec<(String, Named)> {
    let exists = |p: &String| s.policies.iter().any(|x| &x.id == p);
    let mut out = Vec::new();
    for u in &s.users {
        out.extend(
            u.policies
                .iter()
                .filter(|p| exists(p))
                .map(|p| (p.clone(), ("user", u.id.clone()))),
        );
    }
    for g in &s.groups {
        out.extend(
            g.policies
                .iter()
                .filter(|p| exists(p))
                .map(|p| (p.clone(), ("group", g.id.clone()))),
        );
    }
    for r in &s.roles {
        out.extend(
            r.policies
                .iter()
                .filter(|p| exists(p))
                .map(|p| (p.clone(), ("role", r.id.clone()))),
        );
    }
    out.sort();
    out.dedup();
    out
}

/// Every existing (role, holder) attachment of the snapshot.
pub fn role_attachments(s: &Snapshot) -> Vec<(String, Named)> {
    let exists = |r: &String| s.roles.iter().any(|x| &x.id == r);
    let mut out = Vec::new();
    for u in &s.users {
        out.extend(
            u.roles
                .iter()
                .filter(|r| exists(r))
                .map(|r| (r.clone(), ("user", u.id.clone()))),
        );
    }
    for g in &s.groups {
        out.extend(
            g.roles
                .iter()
                .filter(|r| exists(r))
                .map(|r| (r.clone(), ("group", g.id.clone()))),
        );
    }
    out.sort();
    out.dedup();
    out
}

/// Every existing (group, user) membership of the snapshot.
pub fn memberships(s: &Snapshot) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = s
        .groups
        .iter()
        .flat_map(|g| {
            g.members
                .iter()
                .filter(|m| s.users.iter().any(|u| &u.id == *m))
                .map(|m| (g.id.clone(), m.clone()))
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

impl ChangePick {
    /// The change, naming entities of `s` by id. A kind with nothing to name in `s` (no group,
    /// no role, no trust) becomes a suspension.
    pub fn spec(&self, s: &Snapshot) -> ChangeSpec {
        let user = |i: &Index| s.users[i.index(s.users.len())].id.clone();
        let pick = |list: Vec<String>, i: &Index| {
            (!list.is_empty()).then(|| list[i.index(list.len())].clone())
        };
        let groups = s.groups.iter().map(|g| g.id.clone()).collect::<Vec<_>>();
        let roles = s.roles.iter().map(|r| r.id.clone()).collect::<Vec<_>>();
        let policies = s.policies.iter().map(|p| p.id.clone()).collect::<Vec<_>>();
        // Trusts the engine knows: on an existing assumable role.
        let trusts = s
            .role_trusts
            .iter()
            .filter(|t| {
                s.roles.iter().any(|r| {
                    r.id == t.role_id && r.role_type == iamsim_core::model::RoleType::Assumable
                })
            })
            .map(|t| t.id.clone())
            .collect::<Vec<_>>();
        let mut holders: Vec<Named> = Vec::new();
        holders.extend(s.users.iter().map(|u| ("user", u.id.clone())));
        holders.extend(s.groups.iter().map(|g| ("group", g.id.clone())));
        let principals = holders.clone();
        holders.extend(s.roles.iter().map(|r| ("role", r.id.clone())));
        // Usually a change names what it can change (an edge that exists for a removal, a
        // missing one for an addition); one time in four, any entities (often a no-op).
        let existing = self.b.index(4) != 0;
        let fallback = ChangeSpec::SuspendUser {
            user: user(&self.a),
        };
        let spec = match self.kind {
            ChangeKind::RemoveMember => {
                let members = memberships(s);
                if existing && !members.is_empty() {
                    let (group, user) = members[self.a.index(members.len())].clone();
                    ChangeSpec::RemoveMember { group, user }
                } else {
                    pick(groups, &self.a)
                        .map(|group| ChangeSpec::RemoveMember {
                            group,
                            user: user(&self.b),
                        })
                        .unwrap_or(fallback)
                }
            }
            ChangeKind::AddMember => {
                let members = memberships(s);
                let outside: Vec<(String, String)> = s
                    .groups
                    .iter()
                    .flat_map(|g| s.users.iter().map(|u| (g.id.clone(), u.id.clone())))
                    .filter(|pair| !members.contains(pair))
                    .collect();
                if existing && !outside.is_empty() {
                    let (group, user) = outside[self.a.index(outside.len())].clone();
                    ChangeSpec::AddMember { group, user }
                } else {
                    pick(groups, &self.a)
                        .map(|group| ChangeSpec::AddMember {
                            group,
                            user: user(&self.b),
                        })
                        .unwrap_or(fallback)
                }
            }
            ChangeKind::DetachPolicy | ChangeKind::AttachPolicy => {
                let attachments = policy_attachments(s);
                let (policy, holder) =
                    if self.kind == ChangeKind::DetachPolicy && existing && !attachments.is_empty()
                    {
                        attachments[self.a.index(attachments.len())].clone()
                    } else {
                        (
                            pick(policies, &self.a).unwrap(),
                            holders[self.b.index(holders.len())].clone(),
                        )
                    };
                let (user, group, role) = named_holder(&holder);
                if self.kind == ChangeKind::DetachPolicy {
                    ChangeSpec::DetachPolicy {
                        policy,
                        user,
                        group,
                        role,
                    }
                } else {
                    ChangeSpec::AttachPolicy {
                        policy,
                        user,
                        group,
                        role,
                    }
                }
            }
            ChangeKind::DetachRole | ChangeKind::AttachRole => {
                let attachments = role_attachments(s);
                let chosen =
                    if self.kind == ChangeKind::DetachRole && existing && !attachments.is_empty() {
                        Some(attachments[self.a.index(attachments.len())].clone())
                    } else {
                        pick(roles, &self.a)
                            .map(|r| (r, principals[self.b.index(principals.len())].clone()))
                    };
                match chosen {
                    None => fallback,
                    Some((role, holder)) => {
                        let (user, group, _) = named_holder(&holder);
                        if self.kind == ChangeKind::DetachRole {
                            ChangeSpec::DetachRole { role, user, group }
                        } else {
                            ChangeSpec::AttachRole { role, user, group }
                        }
                    }
                }
            }
            ChangeKind::DeleteGroup => pick(groups, &self.a)
                .map(|group| ChangeSpec::DeleteGroup { group })
                .unwrap_or(fallback),
            ChangeKind::DeleteRole => pick(roles, &self.a)
                .map(|role| ChangeSpec::DeleteRole { role })
                .unwrap_or(fallback),
            ChangeKind::DeletePolicy => ChangeSpec::DeletePolicy {
                policy: pick(policies, &self.a).unwrap(),
            },
            ChangeKind::SuspendUser | ChangeKind::UnsuspendUser => {
                let suspend = self.kind == ChangeKind::SuspendUser;
                let candidates: Vec<String> = s
                    .users
                    .iter()
                    .filter(|u| u.suspended != suspend)
                    .map(|u| u.id.clone())
                    .collect();
                let user = match pick(candidates, &self.a) {
                    Some(u) if existing => u,
                    _ => user(&self.a),
                };
                if suspend {
                    ChangeSpec::SuspendUser { user }
                } else {
                    ChangeSpec::UnsuspendUser { user }
                }
            }
            ChangeKind::RemoveUser => ChangeSpec::RemoveUser {
                user: user(&self.a),
            },
            ChangeKind::ReplacePolicyDocument => ChangeSpec::ReplacePolicyDocument {
                policy: pick(policies, &self.a).unwrap(),
                policy_document: serde_json::from_value(self.document.clone()).unwrap(),
            },
            ChangeKind::DeleteRoleTrust => pick(trusts, &self.a)
                .map(|trust| ChangeSpec::DeleteRoleTrust { trust })
                .unwrap_or(fallback),
        };
        spec
    }
}

/// A change summary (as reports give it) back as a change naming entities by id.
pub fn spec_of(summary: &ChangeSummary) -> ChangeSpec {
    let id = |e: &Option<iamsim_core::report::EntityRef>| e.as_ref().map(|e| e.id.clone());
    let user = summary.user.as_ref().map(|u| u.id.clone());
    let (group, role, policy) = (id(&summary.group), id(&summary.role), id(&summary.policy));
    match summary.kind {
        ChangeKind::RemoveMember => ChangeSpec::RemoveMember {
            group: group.unwrap(),
            user: user.unwrap(),
        },
        ChangeKind::DetachPolicy => ChangeSpec::DetachPolicy {
            policy: policy.unwrap(),
            user,
            group,
            role,
        },
        ChangeKind::DetachRole => ChangeSpec::DetachRole {
            role: role.unwrap(),
            user,
            group,
        },
        other => panic!("not a removal of an edge: {other:?}"),
    }
}

/// The entities a change names: (kind, id) pairs.
pub fn named_entities(spec: &ChangeSpec) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    let mut add = |kind: &'static str, id: &Option<String>| {
        if let Some(id) = id {
            out.push((kind, id.clone()));
        }
    };
    match spec {
        ChangeSpec::RemoveMember { group, user } | ChangeSpec::AddMember { group, user } => {
            add("user", &Some(user.clone()));
            add("group", &Some(group.clone()));
        }
        ChangeSpec::DetachPolicy {
            policy,
            user,
            group,
            role,
        }
        | ChangeSpec::AttachPolicy {
            policy,
            user,
            group,
            role,
        } => {
            add("policy", &Some(policy.clone()));
            add("user", user);
            add("group", group);
            add("role", role);
        }
        ChangeSpec::DetachRole { role, user, group }
        | ChangeSpec::AttachRole { role, user, group } => {
            add("role", &Some(role.clone()));
            add("user", user);
            add("group", group);
        }
        ChangeSpec::DeleteGroup { group } => add("group", &Some(group.clone())),
        ChangeSpec::DeleteRole { role } => add("role", &Some(role.clone())),
        ChangeSpec::DeletePolicy { policy } | ChangeSpec::ReplacePolicyDocument { policy, .. } => {
            add("policy", &Some(policy.clone()))
        }
        ChangeSpec::SuspendUser { user }
        | ChangeSpec::UnsuspendUser { user }
        | ChangeSpec::RemoveUser { user } => add("user", &Some(user.clone())),
        ChangeSpec::DeleteRoleTrust { trust } => add("role trust", &Some(trust.clone())),
    }
    out
}

/// Whether the snapshot has an entity of that kind and id.
pub fn has_entity(s: &Snapshot, kind: &str, id: &str) -> bool {
    match kind {
        "user" => s.users.iter().any(|x| x.id == id),
        "group" => s.groups.iter().any(|x| x.id == id),
        "role" => s.roles.iter().any(|x| x.id == id),
        "policy" => s.policies.iter().any(|x| x.id == id),
        "role trust" => s.role_trusts.iter().any(|x| x.id == id),
        other => unreachable!("{other}"),
    }
}

/// The kind of a change.
pub fn kind_of(spec: &ChangeSpec) -> ChangeKind {
    let value = serde_json::to_value(spec).unwrap();
    serde_json::from_value(value["kind"].clone()).unwrap()
}

/// A failing case in a few lines of JSON: the snapshot and the changes.
pub fn show(snapshot: &Snapshot, specs: &[ChangeSpec]) -> String {
    format!(
        "\nsnapshot: {}\nchanges: {}\n",
        serde_json::to_string(snapshot).unwrap(),
        serde_json::to_string(specs).unwrap()
    )
}
