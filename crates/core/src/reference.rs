//! A deliberately naive evaluator, straight from the snapshot: the test oracle.
//!
//! It shares no code with the engine beyond the snapshot types and the report types it fills:
//! it matches patterns as strings itself, with its own few lines. It walks the
//! snapshot's lists by id, matches every pattern against every action as strings, and judges
//! every resource key from scratch. It is slow on purpose: obviously right is its only job.
//!
//! Dangling ids, repeated ids in a list, assumable roles attached directly, and trusts on
//! assignable roles count for nothing, as in the engine (see `docs/semantics.md`).

use std::collections::{BTreeMap, BTreeSet};

use crate::catalogue::Catalogue;
use crate::model::{RoleType, Snapshot};
use crate::report::{
    Assumable, Effective, EntityRef, Entry, Path, Step, StepKind, TrustSummary, UserImpact,
    UserSummary, SCHEMA_VERSION,
};

/// Whether action pattern `pattern` covers universe element `element` (both as written).
fn action_matches(pattern: &str, element: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    match pattern.strip_suffix(".*") {
        // `compute.*` covers `compute.x.Y`, `compute.x.*` and `compute.*` itself.
        Some(prefix) => element == pattern || element.starts_with(&format!("{prefix}.")),
        None => pattern == element,
    }
}

/// Whether resource pattern `pattern` covers resource key `key`.
fn resource_covers(pattern: &str, key: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    match pattern.strip_suffix(":*") {
        Some(kind) => key.starts_with(&format!("{kind}:")),
        None => pattern == key,
    }
}

/// The universe: the catalogue, plus every action pattern any statement names.
pub fn universe(snapshot: &Snapshot, catalogue: &Catalogue) -> BTreeSet<String> {
    let mut out: BTreeSet<String> = catalogue.iter().map(|a| a.to_string()).collect();
    for policy in &snapshot.policies {
        for statement in policy.policy_document.statement.as_slice() {
            out.extend(statement.action.as_slice().iter().cloned());
        }
    }
    out
}

fn step(kind: StepKind, id: &str, name: &str) -> Step {
    Step {
        kind,
        id: Some(id.to_string()),
        name: Some(name.to_string()),
        index: None,
    }
}

/// Each distinct id of `ids` that names an existing entity, once.
fn existing(ids: &[String], exists: impl Fn(&str) -> bool) -> Vec<&str> {
    let mut seen = BTreeSet::new();
    ids.iter()
        .map(String::as_str)
        .filter(|id| exists(id) && seen.insert(*id))
        .collect()
}

/// (path up to the policy, policy id) for every way `user_id` reaches a policy.
fn policy_paths(snapshot: &Snapshot, user_id: &str) -> Vec<(Path, String)> {
    let user = snapshot
        .users
        .iter()
        .find(|u| u.id == user_id)
        .expect("user exists");
    let policy_exists = |id: &str| snapshot.policies.iter().any(|p| p.id == id);
    let assignable = |id: &str| {
        snapshot
            .roles
            .iter()
            .any(|r| r.id == id && r.role_type == RoleType::Assignable)
    };
    let policy_name = |id: &str| {
        snapshot
            .policies
            .iter()
            .find(|p| p.id == id)
            .unwrap()
            .name
            .clone()
    };
    let mut out = Vec::new();
    let start = vec![step(StepKind::User, &user.id, &user.email)];
    let through_roles = |prefix: &Path, role_ids: &[String], out: &mut Vec<(Path, String)>| {
        for role_id in existing(role_ids, assignable) {
            let role = snapshot.roles.iter().find(|r| r.id == role_id).unwrap();
            for policy_id in existing(&role.policies, policy_exists) {
                let mut path = prefix.clone();
                path.push(step(StepKind::Role, &role.id, &role.name));
                path.push(step(StepKind::Policy, policy_id, &policy_name(policy_id)));
                out.push((path, policy_id.to_string()));
            }
        }
    };
    for policy_id in existing(&user.policies, policy_exists) {
        let mut path = start.clone();
        path.push(step(StepKind::Policy, policy_id, &policy_name(policy_id)));
        out.push((path, policy_id.to_string()));
    }
    through_roles(&start, &user.roles, &mut out);
    for group in &snapshot.groups {
        if !group.members.contains(&user.id) {
            continue;
        }
        let mut at_group = start.clone();
        at_group.push(step(StepKind::Group, &group.id, &group.display_name));
        for policy_id in existing(&group.policies, policy_exists) {
            let mut path = at_group.clone();
            path.push(step(StepKind::Policy, policy_id, &policy_name(policy_id)));
            out.push((path, policy_id.to_string()));
        }
        through_roles(&at_group, &group.roles, &mut out);
    }
    out
}

/// A statement reached by a path, with what the reference needs to judge it.
struct RefHit {
    path: Path,
    allow: bool,
    actions: Vec<String>,
    resources: Vec<String>,
}

fn hits(snapshot: &Snapshot, user_id: &str) -> Vec<RefHit> {
    let user = snapshot
        .users
        .iter()
        .find(|u| u.id == user_id)
        .expect("user exists");
    if user.suspended {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (path, policy_id) in policy_paths(snapshot, user_id) {
        let policy = snapshot
            .policies
            .iter()
            .find(|p| p.id == policy_id)
            .unwrap();
        for (index, statement) in policy
            .policy_document
            .statement
            .as_slice()
            .iter()
            .enumerate()
        {
            let mut path = path.clone();
            path.push(Step {
                kind: StepKind::Statement,
                id: None,
                name: None,
                index: Some(index as u32),
            });
            out.push(RefHit {
                path,
                allow: statement.effect == "Allow",
                actions: statement.action.as_slice().to_vec(),
                resources: statement.resource.as_slice().to_vec(),
            });
        }
    }
    out
}

/// (allow paths, deny paths) for one element and resource key.
fn judge(hits: &[RefHit], element: &str, key: &str) -> (Vec<Path>, Vec<Path>) {
    let mut allow = Vec::new();
    let mut deny = Vec::new();
    for hit in hits {
        let applies = hit.actions.iter().any(|a| action_matches(a, element))
            && hit.resources.iter().any(|r| resource_covers(r, key));
        if applies {
            if hit.allow {
                allow.push(hit.path.clone());
            } else {
                deny.push(hit.path.clone());
            }
        }
    }
    allow.sort();
    deny.sort();
    (allow, deny)
}

/// `*` and every non-`*` resource of a statement covering `element`.
fn keys(hits: &[RefHit], element: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::from(["*".to_string()]);
    for hit in hits {
        if hit.actions.iter().any(|a| action_matches(a, element)) {
            out.extend(hit.resources.iter().filter(|r| *r != "*").cloned());
        }
    }
    out
}

fn summary(snapshot: &Snapshot, user_id: &str) -> UserSummary {
    let user = snapshot
        .users
        .iter()
        .find(|u| u.id == user_id)
        .expect("user exists");
    UserSummary {
        id: user.id.clone(),
        email: user.email.clone(),
        name: user.name.clone(),
        service_user: user.service_user,
        suspended: user.suspended,
        root: is_root(snapshot, user_id),
    }
}

fn is_root(snapshot: &Snapshot, user_id: &str) -> bool {
    snapshot.organization.root_user_id.as_deref() == Some(user_id)
}

fn assumables(snapshot: &Snapshot, user_id: &str) -> Vec<Assumable> {
    let user = snapshot
        .users
        .iter()
        .find(|u| u.id == user_id)
        .expect("user exists");
    let mut out = Vec::new();
    if user.suspended {
        return out;
    }
    for trust in &snapshot.role_trusts {
        let Some(role) = snapshot
            .roles
            .iter()
            .find(|r| r.id == trust.role_id && r.role_type == RoleType::Assumable)
        else {
            continue;
        };
        let mut via = Vec::new();
        let user_step = step(StepKind::User, &user.id, &user.email);
        if trust.trusted_user_id.as_deref() == Some(user_id) {
            via.push(vec![user_step.clone()]);
        }
        for group in &snapshot.groups {
            if Some(group.id.as_str()) == trust.trusted_group_id.as_deref()
                && group.members.contains(&user.id)
            {
                via.push(vec![
                    user_step.clone(),
                    step(StepKind::Group, &group.id, &group.display_name),
                ]);
            }
        }
        if via.is_empty() {
            continue;
        }
        via.sort();
        out.push(Assumable {
            role: EntityRef {
                id: role.id.clone(),
                name: role.name.clone(),
            },
            trust: TrustSummary {
                id: trust.id.clone(),
                trust_type: trust.trust_type.clone(),
                conditions: trust.conditions.clone(),
                valid_until: trust.valid_until.clone(),
            },
            via,
        });
    }
    out.sort_by(|a, b| (&a.role.id, &a.trust.id).cmp(&(&b.role.id, &b.trust.id)));
    out
}

/// The effective permissions of `user_id`, computed naively.
///
/// Panics if no user has that id.
pub fn effective(snapshot: &Snapshot, catalogue: &Catalogue, user_id: &str) -> Effective {
    let mut allowed = Vec::new();
    let mut denied = Vec::new();
    if is_root(snapshot, user_id) {
        let user = snapshot.users.iter().find(|u| u.id == user_id).unwrap();
        allowed.push(Entry {
            action: "*".into(),
            resource: "*".into(),
            via: vec![vec![
                step(StepKind::User, &user.id, &user.email),
                step(
                    StepKind::Organization,
                    &snapshot.organization.id,
                    &snapshot.organization.name,
                ),
            ]],
        });
    } else {
        let hits = hits(snapshot, user_id);
        for element in universe(snapshot, catalogue) {
            for key in keys(&hits, &element) {
                let (allow, deny) = judge(&hits, &element, &key);
                let entry = |via| Entry {
                    action: element.clone(),
                    resource: key.clone(),
                    via,
                };
                if !deny.is_empty() {
                    denied.push(entry(deny));
                } else if !allow.is_empty() {
                    allowed.push(entry(allow));
                }
            }
        }
    }
    Effective {
        schema_version: SCHEMA_VERSION,
        user: summary(snapshot, user_id),
        allowed,
        denied,
        assumable: assumables(snapshot, user_id),
    }
}

/// The snapshot with `user_id` taken out of `group_id`.
pub fn without_member(snapshot: &Snapshot, group_id: &str, user_id: &str) -> Snapshot {
    let mut after = snapshot.clone();
    for group in &mut after.groups {
        if group.id == group_id {
            group.members.retain(|m| m != user_id);
        }
    }
    after
}

/// What taking `user_id` out of `group_id` does to them, computed naively: both snapshots are
/// evaluated from scratch and compared (action, resource key) by (action, resource key).
pub fn remove_member(
    snapshot: &Snapshot,
    catalogue: &Catalogue,
    group_id: &str,
    user_id: &str,
) -> UserImpact {
    let after = without_member(snapshot, group_id, user_id);
    let mut impact = UserImpact {
        user: summary(snapshot, user_id),
        lost: Vec::new(),
        kept: Vec::new(),
        gained: Vec::new(),
        assumable_lost: Vec::new(),
        unchanged_count: 0,
        note: None,
    };
    if is_root(snapshot, user_id) {
        impact.note = Some("root user: unconditional access; no change affects them".into());
        return impact;
    }
    if impact.user.suspended {
        impact.note =
            Some("suspended user: no access before or after; assignments are kept".into());
        return impact;
    }
    let hits_before = hits(snapshot, user_id);
    let hits_after = hits(&after, user_id);
    for element in universe(snapshot, catalogue) {
        let mut all_keys = keys(&hits_before, &element);
        all_keys.extend(keys(&hits_after, &element));
        for key in all_keys {
            let (allow_b, deny_b) = judge(&hits_before, &element, &key);
            let (allow_a, deny_a) = judge(&hits_after, &element, &key);
            let was = deny_b.is_empty() && !allow_b.is_empty();
            let now = deny_a.is_empty() && !allow_a.is_empty();
            let entry = |via| Entry {
                action: element.clone(),
                resource: key.clone(),
                via,
            };
            if was && !now {
                impact.lost.push(entry(allow_b));
            } else if was && now && allow_b != allow_a {
                impact.kept.push(entry(allow_a));
            } else if !was && now {
                impact.gained.push(entry(allow_a));
            } else if (!allow_b.is_empty() || !deny_b.is_empty())
                && allow_b == allow_a
                && deny_b == deny_a
            {
                impact.unchanged_count += 1;
            }
        }
    }
    let before_trusts = assumables(snapshot, user_id);
    let after_trusts: BTreeMap<String, ()> = assumables(&after, user_id)
        .into_iter()
        .map(|a| (a.trust.id, ()))
        .collect();
    impact.assumable_lost = before_trusts
        .into_iter()
        .filter(|a| !after_trusts.contains_key(&a.trust.id))
        .collect();
    impact
}
