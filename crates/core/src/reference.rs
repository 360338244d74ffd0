//! A deliberately naive evaluator, straight from the snapshot: the test oracle.
//!
//! It shares no code with the engine beyond the snapshot types and the report types it fills:
//! it matches patterns as strings itself, with its own few lines. It walks the
//! snapshot's lists by id, matches every pattern against every action as strings, and judges
//! every resource key from scratch. It is slow on purpose: obviously right is its only job.
//!
//! Dangling ids, repeated ids in a list, assumable roles attached directly, and trusts on
//! assignable roles count for nothing, as in the engine (see `docs/semantics.md`).
//!
//! Changes are judged the same way: [`apply`] makes a change on a copy of the snapshot by editing
//! its lists, and [`impact`] evaluates both snapshots from scratch and compares them. Of the
//! engine it uses only the change's JSON form, [`ChangeSpec`], and the name of the precedence
//! rule, [`Precedence`], as plain data.
//!
//! The precedence between Allow and Deny is a parameter of the `_with` functions: under
//! [`Precedence::DenyWins`] every covering statement counts and a Deny wins; under
//! [`Precedence::NearestWins`] only the covering statements whose path to the user is shortest
//! count (a path's length read off its steps), and among them a Deny wins. The functions
//! without `_with` use deny-wins.

use std::collections::BTreeSet;

use crate::catalogue::Catalogue;
use crate::change::ChangeSpec;
use crate::model::{RoleType, Snapshot};
use crate::org::Precedence;
use crate::report::{
    ActiveSession, Assumable, Effective, EntityRef, Entry, FlatUserImpact, Path, Step, StepKind,
    TrustSummary, UserSummary, SCHEMA_VERSION,
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
    Step::entity(kind, id, name).expect("an entity's step")
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
            path.push(Step::statement(index as u32));
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

/// The paths behind one decision, sorted, by what they do under a precedence.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Judged {
    /// The Allow paths that count.
    pub allow: Vec<Path>,
    /// The Deny paths that count.
    pub deny: Vec<Path>,
    /// Under nearest-wins, the Allow paths longer than the shortest covering one.
    pub overridden_allow: Vec<Path>,
    /// Under nearest-wins, the Deny paths longer than the shortest covering one.
    pub overridden_deny: Vec<Path>,
}

impl Judged {
    /// Some Allow counts and no Deny does.
    pub fn allowed(&self) -> bool {
        self.deny.is_empty() && !self.allow.is_empty()
    }

    /// Whether any statement covers the pair at all.
    fn covered(&self) -> bool {
        !(self.allow.is_empty()
            && self.deny.is_empty()
            && self.overridden_allow.is_empty()
            && self.overridden_deny.is_empty())
    }
}

/// How far the policy at the end of `path` is from the user: one hop to a policy attached to
/// the user, and one more for each group or role on the way.
fn distance(path: &[Step]) -> usize {
    1 + path
        .iter()
        .filter(|s| matches!(s, Step::Group { .. } | Step::Role { .. }))
        .count()
}

/// The covering paths for one element and resource key, judged under `precedence`.
fn judge(hits: &[RefHit], element: &str, key: &str, precedence: Precedence) -> Judged {
    let covering: Vec<&RefHit> = hits
        .iter()
        .filter(|hit| {
            hit.actions.iter().any(|a| action_matches(a, element))
                && hit.resources.iter().any(|r| resource_covers(r, key))
        })
        .collect();
    let shortest = covering.iter().map(|hit| distance(&hit.path)).min();
    let mut judged = Judged::default();
    for hit in covering {
        let counts = match precedence {
            Precedence::DenyWins => true,
            Precedence::NearestWins => Some(distance(&hit.path)) == shortest,
        };
        let list = match (hit.allow, counts) {
            (true, true) => &mut judged.allow,
            (false, true) => &mut judged.deny,
            (true, false) => &mut judged.overridden_allow,
            (false, false) => &mut judged.overridden_deny,
        };
        list.push(hit.path.clone());
    }
    judged.allow.sort();
    judged.deny.sort();
    judged.overridden_allow.sort();
    judged.overridden_deny.sort();
    judged
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
        id: user.id.as_str().into(),
        email: user.email.as_str().into(),
        name: user.name.as_str().into(),
        service_user: user.service_user,
        suspended: user.suspended,
        root: is_root(snapshot, user_id),
        legacy_acls: {
            let mut acls = user.legacy_acls().to_vec();
            acls.sort();
            acls.dedup();
            acls
        },
        // The reference reads no crawl record.
        conditional: Vec::new(),
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
                refused: None,
            },
            via,
        });
    }
    out.sort_by(|a, b| (&a.role.id, &a.trust.id).cmp(&(&b.role.id, &b.trust.id)));
    out
}

/// The effective permissions of `user_id`, computed naively (deny-wins).
///
/// Panics if no user has that id.
pub fn effective(snapshot: &Snapshot, catalogue: &Catalogue, user_id: &str) -> Effective {
    effective_with(snapshot, catalogue, user_id, Precedence::DenyWins)
}

/// [`effective`] under a precedence.
pub fn effective_with(
    snapshot: &Snapshot,
    catalogue: &Catalogue,
    user_id: &str,
    precedence: Precedence,
) -> Effective {
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
                let judged = judge(&hits, &element, &key, precedence);
                let entry = |via| Entry {
                    action: element.clone(),
                    resource: key.clone(),
                    via,
                };
                if !judged.deny.is_empty() {
                    denied.push(entry(judged.deny));
                } else if !judged.allow.is_empty() {
                    allowed.push(entry(judged.allow));
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
        sessions: sessions(snapshot, user_id),
    }
}

/// The user's sessions whose role exists, in snapshot order.
fn sessions(snapshot: &Snapshot, user_id: &str) -> Vec<ActiveSession> {
    snapshot
        .sessions
        .iter()
        .filter(|s| s.user_id == user_id)
        .filter_map(|s| {
            let role = snapshot.roles.iter().find(|r| r.id == s.role_id)?;
            Some(ActiveSession {
                role: EntityRef {
                    id: role.id.clone(),
                    name: role.name.clone(),
                },
                session_name: s.session_name.clone(),
                assumed_at: s.assumed_at.clone(),
                expires_at: s.expires_at.clone(),
            })
        })
        .collect()
}

/// The allow and deny paths behind one decision: `action` (a concrete action or a universe
/// element, as written) on the resource key `resource`, for `user_id`, computed naively.
///
/// The root user gets their one path through the organization as the allow path; a suspended
/// user gets nothing. Deny-wins: every covering path counts. Panics if no user has that id.
pub fn decide(
    snapshot: &Snapshot,
    user_id: &str,
    action: &str,
    resource: &str,
) -> (Vec<Path>, Vec<Path>) {
    let judged = decide_with(snapshot, user_id, action, resource, Precedence::DenyWins);
    (judged.allow, judged.deny)
}

/// [`decide`] under a precedence, with the overridden paths.
pub fn decide_with(
    snapshot: &Snapshot,
    user_id: &str,
    action: &str,
    resource: &str,
    precedence: Precedence,
) -> Judged {
    if is_root(snapshot, user_id) {
        let user = snapshot.users.iter().find(|u| u.id == user_id).unwrap();
        let path = vec![
            step(StepKind::User, &user.id, &user.email),
            step(
                StepKind::Organization,
                &snapshot.organization.id,
                &snapshot.organization.name,
            ),
        ];
        return Judged {
            allow: vec![path],
            ..Judged::default()
        };
    }
    judge(&hits(snapshot, user_id), action, resource, precedence)
}

/// The index of the entity whose id is `query`, or failing that whose name is exactly `query`.
fn position<T>(
    items: &[T],
    query: &str,
    id: impl Fn(&T) -> &str,
    name: impl Fn(&T) -> &str,
) -> Option<usize> {
    items
        .iter()
        .position(|item| id(item) == query)
        .or_else(|| items.iter().position(|item| name(item) == query))
}

fn user_pos(snapshot: &Snapshot, query: &str) -> Option<usize> {
    position(&snapshot.users, query, |u| &u.id, |u| &u.email)
}

fn group_pos(snapshot: &Snapshot, query: &str) -> Option<usize> {
    position(&snapshot.groups, query, |g| &g.id, |g| &g.display_name)
}

fn role_pos(snapshot: &Snapshot, query: &str) -> Option<usize> {
    position(&snapshot.roles, query, |r| &r.id, |r| &r.name)
}

fn policy_pos(snapshot: &Snapshot, query: &str) -> Option<usize> {
    position(&snapshot.policies, query, |p| &p.id, |p| &p.name)
}

/// Removes every occurrence of `id` from `list`.
fn drop_id(list: &mut Vec<String>, id: &str) {
    list.retain(|x| x != id);
}

/// Appends `id` to `list` unless it is there already.
fn add_id(list: &mut Vec<String>, id: &str) {
    if !list.iter().any(|x| x == id) {
        list.push(id.to_string());
    }
}

/// The attachment list of `kind` (`"policies"` or `"roles"`) of each holder a change names.
fn holder_lists<'a>(
    s: &'a mut Snapshot,
    kind: &str,
    user: &Option<String>,
    group: &Option<String>,
    role: &Option<String>,
) -> Vec<&'a mut Vec<String>> {
    let u = user.as_deref().and_then(|q| user_pos(s, q));
    let g = group.as_deref().and_then(|q| group_pos(s, q));
    let r = role.as_deref().and_then(|q| role_pos(s, q));
    let mut out = Vec::new();
    for (i, user) in s.users.iter_mut().enumerate() {
        if Some(i) == u {
            out.push(if kind == "policies" {
                &mut user.policies
            } else {
                &mut user.roles
            });
        }
    }
    for (i, group) in s.groups.iter_mut().enumerate() {
        if Some(i) == g {
            out.push(if kind == "policies" {
                &mut group.policies
            } else {
                &mut group.roles
            });
        }
    }
    for (i, role) in s.roles.iter_mut().enumerate() {
        if Some(i) == r && kind == "policies" {
            out.push(&mut role.policies);
        }
    }
    out
}

/// The snapshot with one change made, the obvious way, on a copy.
///
/// Entities are named by id or, failing that, by exact name (a user by email). A change naming
/// an entity the snapshot does not have changes nothing, as does one that has nothing to do
/// (detaching what is not attached): the engine's errors for those are not this function's job.
/// A change naming several holders acts on each.
pub fn apply(snapshot: &Snapshot, change: &ChangeSpec) -> Snapshot {
    let mut s = snapshot.clone();
    make(&mut s, change);
    s
}

/// Makes one change to `s`, in place.
fn make(s: &mut Snapshot, change: &ChangeSpec) {
    match change {
        ChangeSpec::RemoveMember { group, user } => edit_members(s, group, user, drop_id),
        ChangeSpec::AddMember { group, user } => edit_members(s, group, user, add_id),
        ChangeSpec::DetachPolicy {
            policy,
            user,
            group,
            role,
        } => edit_policy_lists(s, policy, [user, group, role], drop_id),
        ChangeSpec::AttachPolicy {
            policy,
            user,
            group,
            role,
        } => edit_policy_lists(s, policy, [user, group, role], add_id),
        ChangeSpec::DetachRole { role, user, group } => {
            edit_role_lists(s, role, [user, group], drop_id)
        }
        ChangeSpec::AttachRole { role, user, group } => {
            edit_role_lists(s, role, [user, group], add_id)
        }
        ChangeSpec::DeleteGroup { group } => delete_group(s, group),
        ChangeSpec::DeleteRole { role } => delete_role(s, role),
        ChangeSpec::DeletePolicy { policy } => delete_policy(s, policy),
        ChangeSpec::SuspendUser { user } | ChangeSpec::UnsuspendUser { user } => {
            if let Some(u) = user_pos(s, user) {
                s.users[u].suspended = matches!(change, ChangeSpec::SuspendUser { .. });
            }
        }
        ChangeSpec::RemoveUser { user } => remove_user(s, user),
        ChangeSpec::ReplacePolicyDocument {
            policy,
            policy_document,
        } => {
            if let Some(p) = policy_pos(s, policy) {
                s.policies[p].policy_document = policy_document.clone();
            }
        }
        ChangeSpec::DeleteRoleTrust { trust } => s.role_trusts.retain(|t| t.id != *trust),
        ChangeSpec::CreateUser { .. }
        | ChangeSpec::CreateGroup { .. }
        | ChangeSpec::CreateRole { .. }
        | ChangeSpec::CreatePolicy { .. } => create_entity(s, change),
        ChangeSpec::CreateRoleTrust { .. } => create_trust(s, change),
    }
}

/// The snapshot with every user, group, role and policy that `changes` create, each holding
/// nothing (no trust): what a change set with creations is judged against, "before". Creating
/// one of those changes nobody's access, so it can be there before as well as after.
pub fn with_created_entities(snapshot: &Snapshot, changes: &[ChangeSpec]) -> Snapshot {
    let mut s = snapshot.clone();
    for change in changes {
        create_entity(&mut s, change);
    }
    s
}

/// Adds the user, group, role or policy a change creates, holding nothing, unless the
/// snapshot has its id already.
fn create_entity(s: &mut Snapshot, change: &ChangeSpec) {
    match change {
        ChangeSpec::CreateUser { id, email, name } if !s.users.iter().any(|u| u.id == *id) => {
            s.users.push(crate::model::User {
                id: id.clone(),
                email: email.clone(),
                name: name.clone(),
                service_user: false,
                suspended: false,
                policies: vec![],
                roles: vec![],
                acls: None,
                api_enabled: None,
            })
        }
        ChangeSpec::CreateGroup { id, name } if !s.groups.iter().any(|g| g.id == *id) => {
            s.groups.push(crate::model::Group {
                id: id.clone(),
                display_name: name.clone(),
                description: String::new(),
                members: vec![],
                policies: vec![],
                roles: vec![],
            })
        }
        ChangeSpec::CreateRole {
            id,
            name,
            role_type,
        } if !s.roles.iter().any(|r| r.id == *id) => s.roles.push(crate::model::Role {
            id: id.clone(),
            name: name.clone(),
            role_type: *role_type,
            description: String::new(),
            policies: vec![],
        }),
        ChangeSpec::CreatePolicy {
            id,
            name,
            policy_document,
        } if !s.policies.iter().any(|p| p.id == *id) => s.policies.push(crate::model::Policy {
            id: id.clone(),
            name: name.clone(),
            description: String::new(),
            is_system_policy: false,
            policy_document: policy_document.clone(),
        }),
        _ => {}
    }
}

/// Adds the trust a change creates, its role and principal named by id or name; nothing when
/// one of them is not found.
fn create_trust(s: &mut Snapshot, change: &ChangeSpec) {
    let ChangeSpec::CreateRoleTrust {
        id,
        role,
        user,
        group,
        trust_type,
        conditions,
        valid_until,
    } = change
    else {
        return;
    };
    let Some(r) = role_pos(s, role) else {
        return;
    };
    let user_id = match user {
        Some(u) => match user_pos(s, u) {
            Some(u) => Some(s.users[u].id.clone()),
            None => return,
        },
        None => None,
    };
    let group_id = match group {
        Some(g) => match group_pos(s, g) {
            Some(g) => Some(s.groups[g].id.clone()),
            None => return,
        },
        None => None,
    };
    s.role_trusts.push(crate::model::RoleTrust {
        id: id.clone(),
        role_id: s.roles[r].id.clone(),
        trust_type: trust_type.clone(),
        trusted_user_id: user_id,
        trusted_group_id: group_id,
        oidc_issuer_id: None,
        trusted_organization_id: None,
        conditions: conditions.clone(),
        valid_until: valid_until.clone(),
    });
}

/// An edit of a list of ids: [`add_id`] or [`drop_id`].
type EditIds = fn(&mut Vec<String>, &str);

/// Edits the members of the named group with the named user's id.
fn edit_members(s: &mut Snapshot, group: &str, user: &str, edit: EditIds) {
    let (Some(g), Some(u)) = (group_pos(s, group), user_pos(s, user)) else {
        return;
    };
    let user_id = s.users[u].id.clone();
    edit(&mut s.groups[g].members, &user_id);
}

/// Edits the policies of each named holder (user, group, role) with the named policy's id.
fn edit_policy_lists(
    s: &mut Snapshot,
    policy: &str,
    [user, group, role]: [&Option<String>; 3],
    edit: EditIds,
) {
    let Some(p) = policy_pos(s, policy) else {
        return;
    };
    let policy_id = s.policies[p].id.clone();
    for list in holder_lists(s, "policies", user, group, role) {
        edit(list, &policy_id);
    }
}

/// Edits the roles of each named holder (user, group) with the named role's id.
fn edit_role_lists(
    s: &mut Snapshot,
    role: &str,
    [user, group]: [&Option<String>; 2],
    edit: EditIds,
) {
    let Some(r) = role_pos(s, role) else {
        return;
    };
    let role_id = s.roles[r].id.clone();
    for list in holder_lists(s, "roles", user, group, &None) {
        edit(list, &role_id);
    }
}

/// Deletes the named group; trusts naming it trust no group.
fn delete_group(s: &mut Snapshot, group: &str) {
    let Some(g) = group_pos(s, group) else {
        return;
    };
    let group_id = s.groups.remove(g).id;
    for trust in &mut s.role_trusts {
        if trust.trusted_group_id.as_deref() == Some(group_id.as_str()) {
            trust.trusted_group_id = None;
        }
    }
}

/// Deletes the named role, its attachments and its trusts.
fn delete_role(s: &mut Snapshot, role: &str) {
    let Some(r) = role_pos(s, role) else {
        return;
    };
    let role_id = s.roles.remove(r).id;
    for user in &mut s.users {
        drop_id(&mut user.roles, &role_id);
    }
    for group in &mut s.groups {
        drop_id(&mut group.roles, &role_id);
    }
    s.role_trusts.retain(|t| t.role_id != role_id);
}

/// Deletes the named policy and its attachments.
fn delete_policy(s: &mut Snapshot, policy: &str) {
    let Some(p) = policy_pos(s, policy) else {
        return;
    };
    let policy_id = s.policies.remove(p).id;
    for user in &mut s.users {
        drop_id(&mut user.policies, &policy_id);
    }
    for group in &mut s.groups {
        drop_id(&mut group.policies, &policy_id);
    }
    for role in &mut s.roles {
        drop_id(&mut role.policies, &policy_id);
    }
}

/// Removes the named user and their memberships; trusts naming them trust no user.
fn remove_user(s: &mut Snapshot, user: &str) {
    let Some(u) = user_pos(s, user) else {
        return;
    };
    let user_id = s.users.remove(u).id;
    for group in &mut s.groups {
        drop_id(&mut group.members, &user_id);
    }
    for trust in &mut s.role_trusts {
        if trust.trusted_user_id.as_deref() == Some(user_id.as_str()) {
            trust.trusted_user_id = None;
        }
    }
}

/// [`apply`] each change in turn.
pub fn apply_all(snapshot: &Snapshot, changes: &[ChangeSpec]) -> Snapshot {
    changes
        .iter()
        .fold(snapshot.clone(), |s, change| apply(&s, change))
}

/// The snapshot with `user_id` taken out of `group_id`.
pub fn without_member(snapshot: &Snapshot, group_id: &str, user_id: &str) -> Snapshot {
    apply(
        snapshot,
        &ChangeSpec::RemoveMember {
            group: group_id.to_string(),
            user: user_id.to_string(),
        },
    )
}

/// What going from `before` to `after` does to `user_id`, computed naively: both snapshots are
/// evaluated from scratch and compared (action, resource key) by (action, resource key), over
/// the union of both snapshots' universes and of the resource keys either side names.
///
/// - Root (in `before`): a note, and nothing changes.
/// - No standing access before or after (suspended, or suspended before and removed): a note,
///   and nothing changes.
/// - Removed from the organization (absent from `after`): no access after, with a note; so too
///   for a suspension or an unsuspension.
///
/// An (action, resource key) is unchanged when some statement covers it before and the same
/// paths cover it after, each counting or overridden as before.
///
/// Deny-wins. Panics if `before` has no user with that id.
pub fn impact(
    before: &Snapshot,
    after: &Snapshot,
    catalogue: &Catalogue,
    user_id: &str,
) -> FlatUserImpact {
    impact_with(before, after, catalogue, user_id, Precedence::DenyWins)
}

/// [`impact`] under a precedence.
pub fn impact_with(
    before: &Snapshot,
    after: &Snapshot,
    catalogue: &Catalogue,
    user_id: &str,
    precedence: Precedence,
) -> FlatUserImpact {
    let mut impact = FlatUserImpact {
        user: summary(before, user_id),
        lost: Vec::new(),
        kept: Vec::new(),
        gained: Vec::new(),
        assumable_lost: Vec::new(),
        assumable_gained: Vec::new(),
        sessions_continue: Vec::new(),
        unchanged_count: 0,
        note: None,
    };
    if is_root(before, user_id) {
        impact.note = Some("root user: unconditional access; no change affects them".into());
        return impact;
    }
    let user_after = after.users.iter().find(|u| u.id == user_id);
    let was = !impact.user.suspended;
    let now = user_after.is_some_and(|u| !u.suspended);
    impact.note = match (was, now) {
        (false, false) => {
            Some("suspended user: no access before or after; assignments are kept".into())
        }
        (true, false) if user_after.is_none() => {
            Some("removed from the organization: loses all access".into())
        }
        (true, false) => {
            Some("suspended by the change: loses all access; assignments are kept".into())
        }
        (false, true) => Some("unsuspended by the change: assignments count again".into()),
        (true, true) => None,
    };
    if !was && !now {
        return impact;
    }
    let hits_before = hits(before, user_id);
    let hits_after = if user_after.is_some() {
        hits(after, user_id)
    } else {
        Vec::new()
    };
    let mut elements = universe(before, catalogue);
    elements.extend(universe(after, catalogue));
    for element in elements {
        let mut all_keys = keys(&hits_before, &element);
        all_keys.extend(keys(&hits_after, &element));
        for key in all_keys {
            let judged_b = judge(&hits_before, &element, &key, precedence);
            let judged_a = judge(&hits_after, &element, &key, precedence);
            let was = judged_b.allowed();
            let now = judged_a.allowed();
            let entry = |via| Entry {
                action: element.clone(),
                resource: key.clone(),
                via,
            };
            if was && !now {
                impact.lost.push(entry(judged_b.allow));
            } else if was && now && judged_b.allow != judged_a.allow {
                impact.kept.push(entry(judged_a.allow));
            } else if !was && now {
                impact.gained.push(entry(judged_a.allow));
            } else if judged_b.covered() && judged_b == judged_a {
                impact.unchanged_count += 1;
            }
        }
    }
    let after_all = if user_after.is_some() {
        assumables(after, user_id)
    } else {
        Vec::new()
    };
    let trusts_after: BTreeSet<String> = after_all.iter().map(|a| a.trust.id.clone()).collect();
    let roles_after: BTreeSet<&str> = after_all.iter().map(|a| a.role.id.as_str()).collect();
    let before_all = assumables(before, user_id);
    let trusts_before: BTreeSet<String> = before_all.iter().map(|a| a.trust.id.clone()).collect();
    if user_after.is_some() {
        impact.assumable_gained = assumables(after, user_id)
            .into_iter()
            .filter(|a| !trusts_before.contains(&a.trust.id))
            .collect();
    }
    let roles_before: BTreeSet<&str> = before_all.iter().map(|a| a.role.id.as_str()).collect();
    impact.sessions_continue = sessions(before, user_id)
        .into_iter()
        .filter(|s| {
            roles_before.contains(s.role.id.as_str()) && !roles_after.contains(s.role.id.as_str())
        })
        .collect();
    impact.assumable_lost = before_all
        .into_iter()
        .filter(|a| !trusts_after.contains(&a.trust.id))
        .collect();
    impact
}

/// What taking `user_id` out of `group_id` does to them: [`impact`] of [`without_member`].
pub fn remove_member(
    snapshot: &Snapshot,
    catalogue: &Catalogue,
    group_id: &str,
    user_id: &str,
) -> FlatUserImpact {
    impact(
        snapshot,
        &without_member(snapshot, group_id, user_id),
        catalogue,
        user_id,
    )
}
