//! Strategies: the vocabulary and knobs of generated organizations, policy documents and
//! change sets, and the proptest strategies that draw them.

use std::ops::RangeInclusive;

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::strategy::BoxedStrategy;

use crate::catalogue::Catalogue;
use crate::change::ChangeSpec;
use crate::model::{
    OneOrMany, Organization, Policy, PolicyDocument, Role, RoleTrust, RoleType, Snapshot,
    Statement, User,
};
use crate::report::ChangeKind;

// ---------------------------------------------------------------------------------------------
// Vocabulary
// ---------------------------------------------------------------------------------------------

/// The catalogue that generated policies are written around: six actions over three services.
pub const CATALOGUE: &str = "compute.instance.Create\ncompute.instance.Delete\n\
                             compute.instance.Read\ncompute.snapshot.List\n\
                             network.dns.Create\naccount.billing.Read\n";

/// [`CATALOGUE`], parsed.
pub fn catalogue() -> Catalogue {
    Catalogue::parse(CATALOGUE).expect("the kit's catalogue is well-formed")
}

/// Concrete actions of [`CATALOGUE`].
const KNOWN_ACTIONS: &[&str] = &[
    "compute.instance.Create",
    "compute.instance.Delete",
    "compute.instance.Read",
    "compute.snapshot.List",
    "network.dns.Create",
    "account.billing.Read",
];

/// Actions the catalogue does not name: an unknown literal and a case typo.
const UNKNOWN_ACTIONS: &[&str] = &["compute.widget.Make", "compute.Instance.read"];

/// `*`.
const ANY_WILDCARDS: &[&str] = &["*"];
/// `service.*`, one of them covering nothing in the catalogue.
const SERVICE_WILDCARDS: &[&str] = &["compute.*", "network.*", "storage.*"];
/// `service.resource.*`.
const RESOURCE_WILDCARDS: &[&str] = &["compute.instance.*"];

/// Resource patterns other than `*`: two ids, a typed wildcard and an id of that type.
const SCOPED_RESOURCES: &[&str] = &["i-1", "i-2", "registry:*", "registry:r1"];

// ---------------------------------------------------------------------------------------------
// Knobs
// ---------------------------------------------------------------------------------------------

/// Which wildcard forms generated action patterns use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wildcards {
    /// `*`.
    pub any: bool,
    /// `service.*` (`compute.*`, `network.*`, and `storage.*`, which covers no catalogue action).
    pub service: bool,
    /// `service.resource.*` (`compute.instance.*`).
    pub resource: bool,
}

impl Wildcards {
    /// Every form.
    pub const ALL: Wildcards = Wildcards {
        any: true,
        service: true,
        resource: true,
    };
    /// No wildcard at all: only concrete actions.
    pub const NONE: Wildcards = Wildcards {
        any: false,
        service: false,
        resource: false,
    };
}

/// How [`policy_document`] and [`statement`] write policies.
///
/// Shares are probabilities between 0 and 1.
#[derive(Debug, Clone, PartialEq)]
pub struct DocumentKnobs {
    /// Statements per document (0 makes `Statement: []`, which grants nothing).
    pub statements: RangeInclusive<usize>,
    /// Action patterns per statement.
    pub actions: RangeInclusive<usize>,
    /// Resource patterns per statement.
    pub resources: RangeInclusive<usize>,
    /// Share of Deny statements.
    pub deny: f64,
    /// Which wildcard forms action patterns use besides concrete actions.
    pub wildcards: Wildcards,
    /// Also name actions the catalogue does not (an unknown one and a case typo).
    pub unknown_actions: bool,
    /// Share of resource patterns other than `*` (`i-1`, `i-2`, `registry:*`, `registry:r1`).
    pub scoped_resources: f64,
}

impl Default for DocumentKnobs {
    /// Up to three statements of up to three actions on up to two resources; a quarter Deny;
    /// every wildcard form; unknown actions; four resource patterns in seven scoped.
    fn default() -> Self {
        DocumentKnobs {
            statements: 0..=3,
            actions: 1..=3,
            resources: 1..=2,
            deny: 0.25,
            wildcards: Wildcards::ALL,
            unknown_actions: true,
            scoped_resources: 4.0 / 7.0,
        }
    }
}

/// The shape of the organizations [`organization`] generates.
///
/// Entities are named `u0`, `g0`, `r0`, `p0`, `t0`... (users' emails `u0@x.example`), so that a
/// failing case reads easily. Shares are probabilities between 0 and 1.
#[derive(Debug, Clone, PartialEq)]
pub struct OrgKnobs {
    /// Number of users.
    pub users: RangeInclusive<usize>,
    /// Number of groups.
    pub groups: RangeInclusive<usize>,
    /// Number of roles.
    pub roles: RangeInclusive<usize>,
    /// Number of policies.
    pub policies: RangeInclusive<usize>,
    /// Number of role trusts. A trust names a role and, each half the time, a user and a
    /// group; without roles, its role is dangling.
    pub trusts: RangeInclusive<usize>,
    /// Most members picked per group (repeats allowed: the engine counts an id once).
    pub max_members: usize,
    /// Most policies, and most roles, picked per holder (repeats allowed).
    pub max_attachments: usize,
    /// Share of suspended users.
    pub suspended: f64,
    /// Share of service users.
    pub service_users: f64,
    /// Chance that the organization has a root user.
    pub root: f64,
    /// Share of assumable roles (the rest are assignable).
    pub assumable: f64,
    /// Share of Vultr-managed policies (`is_system_policy`).
    pub system_policies: f64,
    /// Chance that the first user names a policy that does not exist (`p-gone`).
    pub dangling: f64,
    /// How policy documents are written.
    pub document: DocumentKnobs,
}

impl Default for OrgKnobs {
    /// 1–5 users, 0–3 groups, 0–3 roles, 1–5 policies, 0–2 trusts; some suspended users,
    /// service users, assumable roles, system policies; sometimes a root user and a dangling
    /// id: every corner the engine has, in organizations small enough to shrink well.
    fn default() -> Self {
        OrgKnobs {
            users: 1..=5,
            groups: 0..=3,
            roles: 0..=3,
            policies: 1..=5,
            trusts: 0..=2,
            max_members: 4,
            max_attachments: 2,
            suspended: 0.1,
            service_users: 0.5,
            root: 0.2,
            assumable: 0.25,
            system_policies: 0.15,
            dangling: 0.1,
            document: DocumentKnobs::default(),
        }
    }
}

/// Every kind of change that edits what exists, in [`ChangeKind`] order (the creations are
/// [`CREATE_KINDS`]).
pub const ALL_KINDS: [ChangeKind; 14] = [
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

/// The kinds of change that create an entity, in [`ChangeKind`] order. A set that holds them
/// is simulated with [`Org::compile_changes`](crate::Org::compile_changes) and judged by the
/// reference from [`reference::with_created_entities`](crate::reference::with_created_entities).
pub const CREATE_KINDS: [ChangeKind; 5] = [
    ChangeKind::CreateUser,
    ChangeKind::CreateGroup,
    ChangeKind::CreateRole,
    ChangeKind::CreatePolicy,
    ChangeKind::CreateRoleTrust,
];

/// The shape of generated change sets.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeKnobs {
    /// Changes per set.
    pub len: RangeInclusive<usize>,
    /// The kinds to draw from, uniformly. A kind with nothing to name in the snapshot (no
    /// group to delete, ...) gives way to the next kind of this list that has. Must not be
    /// empty.
    pub kinds: Vec<ChangeKind>,
    /// Share of changes that name what they can change: an edge that exists for a removal, a
    /// missing one for an addition, a user not suspended for a suspension. The rest name any
    /// entities, and are often no-ops.
    pub effective: f64,
    /// Share of changes that make the same choice of entities as the change before, so that
    /// changes meet on one entity (a document replaced, then its policy deleted).
    pub same_entities: f64,
    /// How replacement documents are written.
    pub document: DocumentKnobs,
}

impl ChangeKnobs {
    /// The default knobs over every kind, the creations included, and 1–5 changes per set
    /// (room for a creation and the changes that name what it created).
    pub fn with_creations() -> ChangeKnobs {
        ChangeKnobs {
            len: 1..=5,
            kinds: ALL_KINDS.iter().chain(&CREATE_KINDS).copied().collect(),
            ..ChangeKnobs::default()
        }
    }
}

impl Default for ChangeKnobs {
    /// 1–3 changes of every kind, three in four effective, half on the entities of the change
    /// before.
    fn default() -> Self {
        ChangeKnobs {
            len: 1..=3,
            kinds: ALL_KINDS.to_vec(),
            effective: 0.75,
            same_entities: 0.5,
            document: DocumentKnobs::default(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Strategies: policies and organizations
// ---------------------------------------------------------------------------------------------

fn share(p: f64) -> proptest::bool::Weighted {
    assert!(
        (0.0..=1.0).contains(&p),
        "a share is between 0 and 1, got {p}"
    );
    prop::bool::weighted(p)
}

fn one_or_many<T>(mut items: Vec<T>, bare: bool) -> OneOrMany<T> {
    if bare && items.len() == 1 {
        OneOrMany::One(items.remove(0))
    } else {
        OneOrMany::Many(items)
    }
}

/// The action patterns a statement may name under `knobs`.
pub fn action_vocabulary(knobs: &DocumentKnobs) -> Vec<&'static str> {
    let mut out = KNOWN_ACTIONS.to_vec();
    if knobs.unknown_actions {
        out.extend(UNKNOWN_ACTIONS);
    }
    if knobs.wildcards.resource {
        out.extend(RESOURCE_WILDCARDS);
    }
    if knobs.wildcards.service {
        out.extend(SERVICE_WILDCARDS);
    }
    if knobs.wildcards.any {
        out.extend(ANY_WILDCARDS);
    }
    out
}

fn resource(knobs: &DocumentKnobs) -> BoxedStrategy<String> {
    (
        share(knobs.scoped_resources),
        prop::sample::select(SCOPED_RESOURCES),
    )
        .prop_map(|(scoped, r)| if scoped { r } else { "*" }.to_string())
        .boxed()
}

/// One statement: Allow or Deny, actions from [`action_vocabulary`], resources `*` or scoped;
/// a single action or resource is written bare half the time.
pub fn statement(knobs: &DocumentKnobs) -> BoxedStrategy<Statement> {
    let actions = prop::collection::vec(
        prop::sample::select(action_vocabulary(knobs)),
        knobs.actions.clone(),
    );
    let resources = prop::collection::vec(resource(knobs), knobs.resources.clone());
    (share(knobs.deny), actions, resources, any::<bool>())
        .prop_map(|(deny, actions, resources, bare)| Statement {
            sid: None,
            effect: if deny { "Deny" } else { "Allow" }.to_string(),
            action: one_or_many(actions.into_iter().map(String::from).collect(), bare),
            resource: one_or_many(resources, bare),
        })
        .boxed()
}

/// A policy document; a single statement is written bare (not in an array) half the time.
pub fn policy_document(knobs: &DocumentKnobs) -> BoxedStrategy<PolicyDocument> {
    (
        prop::collection::vec(statement(knobs), knobs.statements.clone()),
        any::<bool>(),
    )
        .prop_map(|(statements, bare)| PolicyDocument {
            version: Some("2026-03-20".to_string()),
            statement: one_or_many(statements, bare),
        })
        .boxed()
}

/// Random picks among `n` entities, repeats allowed on purpose.
fn picks(n: usize, max: usize) -> BoxedStrategy<Vec<usize>> {
    if n == 0 {
        Just(Vec::new()).boxed()
    } else {
        prop::collection::vec(0..n, 0..=max).boxed()
    }
}

fn ids(prefix: &str, picks: &[usize]) -> Vec<String> {
    picks.iter().map(|i| format!("{prefix}{i}")).collect()
}

/// A random organization shaped by `knobs`. See [`OrgKnobs`] for what varies.
///
/// Snapshots are well-formed and compile (with diagnostics for the dangling ids, repeated ids
/// and misplaced roles they may hold), against any catalogue.
pub fn organization(knobs: &OrgKnobs) -> BoxedStrategy<Snapshot> {
    let k = knobs.clone();
    (
        k.users.clone(),
        k.groups.clone(),
        k.roles.clone(),
        k.policies.clone(),
    )
        .prop_flat_map(move |counts| draws(&k, counts))
        .prop_map(assemble)
        .boxed()
}

/// A user's draws: policy and role picks, suspended, service user.
type UserDraw = (Vec<usize>, Vec<usize>, bool, bool);
/// A group's draws: member, policy and role picks.
type GroupDraw = (Vec<usize>, Vec<usize>, Vec<usize>);
/// A role's draws: assumable, policy picks.
type RoleDraw = (bool, Vec<usize>);
/// A policy's draws: its document, Vultr-managed.
type PolicyDraw = (PolicyDocument, bool);
/// A trust's draws: its role, and maybe a user and a group.
type TrustDraw = (usize, Option<usize>, Option<usize>);
/// Everything an organization is made of: users, groups, roles, policies, trusts, (has a
/// root, which user), the first user names a dangling policy.
type Draws = (
    Vec<UserDraw>,
    Vec<GroupDraw>,
    Vec<RoleDraw>,
    Vec<PolicyDraw>,
    Vec<TrustDraw>,
    (bool, usize),
    bool,
);

/// The draws of an organization with `nu` users, `ng` groups, `nr` roles and `np` policies.
fn draws(
    k: &OrgKnobs,
    (nu, ng, nr, np): (usize, usize, usize, usize),
) -> impl Strategy<Value = Draws> {
    let user = (
        picks(np, k.max_attachments),
        picks(nr, k.max_attachments),
        share(k.suspended),
        share(k.service_users),
    );
    let group = (
        picks(nu, k.max_members),
        picks(np, k.max_attachments),
        picks(nr, k.max_attachments),
    );
    let role = (share(k.assumable), picks(np, k.max_attachments));
    let policy = (policy_document(&k.document), share(k.system_policies));
    let trust = (
        0..nr.max(1),
        prop::option::of(0..nu.max(1)),
        prop::option::of(0..ng.max(1)),
    );
    let root = (share(k.root), 0..nu.max(1));
    (
        prop::collection::vec(user, nu),
        prop::collection::vec(group, ng),
        prop::collection::vec(role, nr),
        prop::collection::vec(policy, np),
        prop::collection::vec(trust, k.trusts.clone()),
        root,
        share(k.dangling),
    )
}

/// The snapshot the draws make.
fn assemble((users, groups, roles, policies, trusts, root, dangling): Draws) -> Snapshot {
    let mut users: Vec<User> = users.into_iter().enumerate().map(user).collect();
    if dangling {
        if let Some(first) = users.first_mut() {
            first.policies.push("p-gone".to_string());
        }
    }
    let root_user_id = match root {
        (true, u) if !users.is_empty() => Some(format!("u{u}")),
        _ => None,
    };
    Snapshot {
        format: crate::model::SNAPSHOT_FORMAT.to_string(),
        organization: Organization {
            id: "org".to_string(),
            name: "Org".to_string(),
            root_user_id,
        },
        users,
        groups: groups.into_iter().enumerate().map(group).collect(),
        roles: roles.into_iter().enumerate().map(role).collect(),
        policies: policies.into_iter().enumerate().map(policy).collect(),
        role_trusts: trusts.into_iter().enumerate().map(trust).collect(),
        sessions: Vec::new(),
        crawl: None,
    }
}

fn user((i, (policies, roles, suspended, service)): (usize, UserDraw)) -> User {
    User {
        id: format!("u{i}"),
        email: format!("u{i}@x.example"),
        name: format!("User {i}"),
        service_user: service,
        suspended,
        policies: ids("p", &policies),
        roles: ids("r", &roles),
        acls: None,
        api_enabled: None,
    }
}

fn group((i, (members, policies, roles)): (usize, GroupDraw)) -> crate::model::Group {
    crate::model::Group {
        id: format!("g{i}"),
        display_name: format!("Group {i}"),
        description: String::new(),
        members: ids("u", &members),
        policies: ids("p", &policies),
        roles: ids("r", &roles),
    }
}

fn role((i, (assumable, policies)): (usize, RoleDraw)) -> Role {
    Role {
        id: format!("r{i}"),
        name: format!("role {i}"),
        role_type: if assumable {
            RoleType::Assumable
        } else {
            RoleType::Assignable
        },
        description: String::new(),
        policies: ids("p", &policies),
    }
}

fn policy((i, (document, system)): (usize, PolicyDraw)) -> Policy {
    Policy {
        id: format!("p{i}"),
        name: format!("policy {i}"),
        description: String::new(),
        is_system_policy: system,
        policy_document: document,
    }
}

fn trust((i, (role, user, group)): (usize, TrustDraw)) -> RoleTrust {
    RoleTrust {
        id: format!("t{i}"),
        role_id: format!("r{role}"),
        trust_type: "TemporaryAssumption".to_string(),
        trusted_user_id: user.map(|u| format!("u{u}")),
        trusted_group_id: group.map(|g| format!("g{g}")),
        oidc_issuer_id: None,
        trusted_organization_id: None,
        conditions: None,
        valid_until: None,
    }
}

// ---------------------------------------------------------------------------------------------
// Strategies: changes
// ---------------------------------------------------------------------------------------------

/// The choices behind one change, made before the organization is known: its kind and which
/// entities, as positions to be taken modulo what the snapshot has. [`ChangePick::spec`] turns
/// them into a change naming entities of a given snapshot.
#[derive(Debug, Clone)]
pub struct ChangePick {
    /// The kind drawn.
    pub kind: ChangeKind,
    /// The kinds to fall back on, in order, when `kind` has nothing to name.
    fallbacks: Vec<ChangeKind>,
    a: Index,
    b: Index,
    effective: bool,
    document: PolicyDocument,
}

/// One change pick; see [`ChangeKnobs`].
pub fn change_pick(knobs: &ChangeKnobs) -> BoxedStrategy<ChangePick> {
    assert!(!knobs.kinds.is_empty(), "ChangeKnobs::kinds is empty");
    let kinds = knobs.kinds.clone();
    (
        0..kinds.len(),
        any::<Index>(),
        any::<Index>(),
        share(knobs.effective),
        policy_document(&knobs.document),
    )
        .prop_map(move |(k, a, b, effective, document)| {
            let mut fallbacks = kinds[k + 1..].to_vec();
            fallbacks.extend_from_slice(&kinds[..k]);
            ChangePick {
                kind: kinds[k],
                fallbacks,
                a,
                b,
                effective,
                document,
            }
        })
        .boxed()
}

/// A set of change picks; see [`ChangeKnobs`].
pub fn change_picks(knobs: &ChangeKnobs) -> BoxedStrategy<Vec<ChangePick>> {
    prop::collection::vec(
        (change_pick(knobs), share(knobs.same_entities)),
        knobs.len.clone(),
    )
    .prop_map(|picks| {
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
    .boxed()
}

/// Change sets naming entities of `snapshot` (by id), for a property test of your own
/// organization. Each change names entities as they are in `snapshot`, so a later change of a
/// set may name what an earlier one deleted: the engine then answers with an error, which
/// [`check_what_if`](super::check_what_if) expects.
pub fn changes(snapshot: &Snapshot, knobs: &ChangeKnobs) -> BoxedStrategy<Vec<ChangeSpec>> {
    let snapshot = snapshot.clone();
    change_picks(knobs)
        .prop_map(move |picks| specs_of(&picks, &snapshot))
        .boxed()
}

/// An organization and a change set naming its entities: what [`organization_and_changes`]
/// generates.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    /// The organization.
    pub snapshot: Snapshot,
    /// The changes, naming entities of `snapshot`, or created by an earlier change, by id.
    pub changes: Vec<ChangeSpec>,
}

/// The changes of `picks` on `snapshot`. A change after a creation may name what it created:
/// each pick names entities of the snapshot with the creations before it made.
pub fn specs_of(picks: &[ChangePick], snapshot: &Snapshot) -> Vec<ChangeSpec> {
    let mut current = std::borrow::Cow::Borrowed(snapshot);
    let mut out = Vec::with_capacity(picks.len());
    for pick in picks {
        let Some(spec) = pick.spec(&current) else {
            continue;
        };
        if spec.creates().is_some() {
            let next = crate::reference::apply(&current, &spec);
            current = std::borrow::Cow::Owned(next);
        }
        out.push(spec);
    }
    out
}

/// A random organization and a change set naming its entities.
pub fn organization_and_changes(org: &OrgKnobs, changes: &ChangeKnobs) -> BoxedStrategy<Case> {
    (organization(org), change_picks(changes))
        .prop_map(|(snapshot, picks)| {
            let changes = specs_of(&picks, &snapshot);
            Case { snapshot, changes }
        })
        .boxed()
}

/// An entity named by id, with its kind: `user`, `group` or `role` for a holder of a policy
/// or role, or `policy` or `role trust` for what a change names.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Named {
    /// `user`, `group`, `role`, `policy` or `role trust`.
    pub kind: &'static str,
    /// The entity's id.
    pub id: String,
}

impl Named {
    fn new(kind: &'static str, id: &str) -> Named {
        Named {
            kind,
            id: id.to_string(),
        }
    }

    /// The id, if the entity is of kind `kind`: a change's `user`, `group` or `role` field.
    fn only(&self, kind: &str) -> Option<String> {
        (self.kind == kind).then(|| self.id.clone())
    }
}

/// A group membership, by ids.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Membership {
    /// The group.
    pub group: String,
    /// The member.
    pub user: String,
}

impl Membership {
    /// Its removal, as a change file names it.
    pub fn removal(&self) -> ChangeSpec {
        ChangeSpec::RemoveMember {
            group: self.group.clone(),
            user: self.user.clone(),
        }
    }
}

/// A policy or role (`target`, by id) attached to a holder.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Attachment {
    /// The policy or role.
    pub target: String,
    /// Who holds it: a `user`, `group` or (for a policy) `role`.
    pub holder: Named,
}

impl Attachment {
    /// Detaching the policy `target` from its holder, as a change file names it.
    pub fn policy_detachment(&self) -> ChangeSpec {
        ChangeSpec::DetachPolicy {
            policy: self.target.clone(),
            user: self.holder.only("user"),
            group: self.holder.only("group"),
            role: self.holder.only("role"),
        }
    }

    /// Detaching the role `target` from its holder, as a change file names it.
    pub fn role_detachment(&self) -> ChangeSpec {
        ChangeSpec::DetachRole {
            role: self.target.clone(),
            user: self.holder.only("user"),
            group: self.holder.only("group"),
        }
    }
}

/// Every existing membership of the snapshot, sorted.
fn existing_memberships(s: &Snapshot) -> Vec<Membership> {
    let mut out: Vec<Membership> = s
        .groups
        .iter()
        .flat_map(|g| {
            g.members
                .iter()
                .filter(|m| s.users.iter().any(|u| &u.id == *m))
                .map(|m| Membership {
                    group: g.id.clone(),
                    user: m.clone(),
                })
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Every existing attachment of a policy (or role) of `targets` to a holder, sorted: each
/// holder's list of such ids is given by `lists`.
fn existing_attachments<'s>(
    targets: &[&str],
    lists: impl Iterator<Item = (Named, &'s [String])>,
) -> Vec<Attachment> {
    let mut out: Vec<Attachment> = lists
        .flat_map(|(holder, ids)| {
            ids.iter()
                .filter(|id| targets.contains(&id.as_str()))
                .map(move |id| Attachment {
                    target: id.clone(),
                    holder: holder.clone(),
                })
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Every existing policy attachment of the snapshot, to users, groups and roles.
fn existing_policy_attachments(s: &Snapshot) -> Vec<Attachment> {
    let policies: Vec<&str> = s.policies.iter().map(|p| p.id.as_str()).collect();
    let users = s
        .users
        .iter()
        .map(|u| (Named::new("user", &u.id), &u.policies[..]));
    let groups = s
        .groups
        .iter()
        .map(|g| (Named::new("group", &g.id), &g.policies[..]));
    let roles = s
        .roles
        .iter()
        .map(|r| (Named::new("role", &r.id), &r.policies[..]));
    existing_attachments(&policies, users.chain(groups).chain(roles))
}

/// Every existing role attachment of the snapshot, to users and groups.
fn existing_role_attachments(s: &Snapshot) -> Vec<Attachment> {
    let roles: Vec<&str> = s.roles.iter().map(|r| r.id.as_str()).collect();
    let users = s
        .users
        .iter()
        .map(|u| (Named::new("user", &u.id), &u.roles[..]));
    let groups = s
        .groups
        .iter()
        .map(|g| (Named::new("group", &g.id), &g.roles[..]));
    existing_attachments(&roles, users.chain(groups))
}

/// Every existing membership of the snapshot, sorted.
pub fn memberships(s: &Snapshot) -> Vec<Membership> {
    existing_memberships(s)
}

/// The removal of every edge of the snapshot, each alone: memberships, then policy
/// attachments, then role attachments, each sorted.
pub fn edge_removals(s: &Snapshot) -> Vec<ChangeSpec> {
    let members = existing_memberships(s).into_iter().map(|m| m.removal());
    let policies = existing_policy_attachments(s)
        .into_iter()
        .map(|a| a.policy_detachment());
    let roles = existing_role_attachments(s)
        .into_iter()
        .map(|a| a.role_detachment());
    members.chain(policies).chain(roles).collect()
}

/// Every existing policy attachment of the snapshot (to users, groups and roles), sorted.
pub fn policy_attachments(s: &Snapshot) -> Vec<Attachment> {
    existing_policy_attachments(s)
}

/// Every existing role attachment of the snapshot (to users and groups), sorted.
pub fn role_attachments(s: &Snapshot) -> Vec<Attachment> {
    existing_role_attachments(s)
}

/// The trusts the engine knows: those on an existing assumable role.
fn known_trusts(s: &Snapshot) -> Vec<String> {
    s.role_trusts
        .iter()
        .filter(|t| {
            s.roles
                .iter()
                .any(|r| r.id == t.role_id && r.role_type == RoleType::Assumable)
        })
        .map(|t| t.id.clone())
        .collect()
}

/// A snapshot's entities by id, for naming them in a change.
struct Entities {
    users: Vec<String>,
    groups: Vec<String>,
    roles: Vec<String>,
    policies: Vec<String>,
    /// Users, then groups: what a role is attached to.
    principals: Vec<Named>,
    /// Users, groups, then roles: what a policy is attached to.
    holders: Vec<Named>,
}

impl Entities {
    fn of(s: &Snapshot) -> Entities {
        let principals: Vec<Named> = s
            .users
            .iter()
            .map(|u| Named::new("user", &u.id))
            .chain(s.groups.iter().map(|g| Named::new("group", &g.id)))
            .collect();
        let mut holders = principals.clone();
        holders.extend(s.roles.iter().map(|r| Named::new("role", &r.id)));
        Entities {
            users: s.users.iter().map(|u| u.id.clone()).collect(),
            groups: s.groups.iter().map(|g| g.id.clone()).collect(),
            roles: s.roles.iter().map(|r| r.id.clone()).collect(),
            policies: s.policies.iter().map(|p| p.id.clone()).collect(),
            principals,
            holders,
        }
    }
}

/// The item of `list` at the position `i` picks, if the list is not empty.
fn pick<T: Clone>(list: &[T], i: &Index) -> Option<T> {
    (!list.is_empty()).then(|| list[i.index(list.len())].clone())
}

/// Attachments of each of `targets` to each of `holders` not in `attached`.
fn missing_attachments(
    targets: &[String],
    holders: &[Named],
    attached: &[Attachment],
) -> Vec<Attachment> {
    targets
        .iter()
        .flat_map(|target| {
            holders.iter().map(move |holder| Attachment {
                target: target.clone(),
                holder: holder.clone(),
            })
        })
        .filter(|pair| !attached.contains(pair))
        .collect()
}

impl ChangePick {
    /// The change, naming entities of `s` by id; `None` if neither its kind nor any fallback
    /// kind has anything to name in `s`.
    pub fn spec(&self, s: &Snapshot) -> Option<ChangeSpec> {
        std::iter::once(self.kind)
            .chain(self.fallbacks.iter().copied())
            .find_map(|kind| self.spec_of_kind(kind, s))
    }

    fn spec_of_kind(&self, kind: ChangeKind, s: &Snapshot) -> Option<ChangeSpec> {
        let e = Entities::of(s);
        let a = &self.a;
        Some(match kind {
            ChangeKind::RemoveMember | ChangeKind::AddMember => self.membership(kind, s, &e)?,
            ChangeKind::DetachPolicy | ChangeKind::AttachPolicy => {
                self.policy_attachment(kind, s, &e)?
            }
            ChangeKind::DetachRole | ChangeKind::AttachRole => self.role_attachment(kind, s, &e)?,
            ChangeKind::DeleteGroup => ChangeSpec::DeleteGroup {
                group: pick(&e.groups, a)?,
            },
            ChangeKind::DeleteRole => ChangeSpec::DeleteRole {
                role: pick(&e.roles, a)?,
            },
            ChangeKind::DeletePolicy => ChangeSpec::DeletePolicy {
                policy: pick(&e.policies, a)?,
            },
            ChangeKind::SuspendUser | ChangeKind::UnsuspendUser => self.suspension(kind, s, &e)?,
            ChangeKind::RemoveUser => ChangeSpec::RemoveUser {
                user: pick(&e.users, a)?,
            },
            ChangeKind::ReplacePolicyDocument => ChangeSpec::ReplacePolicyDocument {
                policy: pick(&e.policies, a)?,
                policy_document: self.document.clone(),
            },
            ChangeKind::DeleteRoleTrust => ChangeSpec::DeleteRoleTrust {
                trust: pick(&known_trusts(s), a)?,
            },
            ChangeKind::CreateUser
            | ChangeKind::CreateGroup
            | ChangeKind::CreateRole
            | ChangeKind::CreatePolicy
            | ChangeKind::CreateRoleTrust => self.creation(kind, s, &e)?,
        })
    }

    /// A creation with an id `s` does not have (`new-group-2`); a trust on one of the
    /// assumable roles of `s`, for one of its users or groups.
    fn creation(&self, kind: ChangeKind, s: &Snapshot, e: &Entities) -> Option<ChangeSpec> {
        let fresh = |noun: &str, taken: &[String]| {
            (taken.len()..)
                .map(|n| format!("new-{noun}-{n}"))
                .find(|id| !taken.contains(id))
                .expect("an unbounded range has a free id")
        };
        Some(match kind {
            ChangeKind::CreateUser => {
                let id = fresh("user", &e.users);
                ChangeSpec::CreateUser {
                    email: format!("{id}@example.com"),
                    name: String::new(),
                    id,
                }
            }
            ChangeKind::CreateGroup => {
                let id = fresh("group", &e.groups);
                ChangeSpec::CreateGroup {
                    name: format!("{id} name"),
                    id,
                }
            }
            ChangeKind::CreateRole => {
                let id = fresh("role", &e.roles);
                ChangeSpec::CreateRole {
                    name: format!("{id} name"),
                    role_type: if self.effective {
                        RoleType::Assignable
                    } else {
                        RoleType::Assumable
                    },
                    id,
                }
            }
            ChangeKind::CreatePolicy => {
                let id = fresh("policy", &e.policies);
                ChangeSpec::CreatePolicy {
                    name: format!("{id} name"),
                    policy_document: self.document.clone(),
                    id,
                }
            }
            _ => {
                let assumable: Vec<String> = s
                    .roles
                    .iter()
                    .filter(|r| r.role_type == RoleType::Assumable)
                    .map(|r| r.id.clone())
                    .collect();
                let trusts: Vec<String> = s.role_trusts.iter().map(|t| t.id.clone()).collect();
                let principal = pick(&e.principals, &self.b)?;
                ChangeSpec::CreateRoleTrust {
                    role: pick(&assumable, &self.a)?,
                    user: principal.only("user"),
                    group: principal.only("group"),
                    trust_type: "IAMAssumption".to_string(),
                    conditions: None,
                    valid_until: None,
                    id: fresh("trust", &trusts),
                }
            }
        })
    }

    /// One of `candidates` if the pick is effective and there is one, else `fallback`.
    fn effective_or<T: Clone>(
        &self,
        candidates: &[T],
        fallback: impl FnOnce() -> Option<T>,
    ) -> Option<T> {
        match pick(candidates, &self.a).filter(|_| self.effective) {
            Some(candidate) => Some(candidate),
            None => fallback(),
        }
    }

    /// A removed membership that exists, or an added one that does not (when effective).
    fn membership(&self, kind: ChangeKind, s: &Snapshot, e: &Entities) -> Option<ChangeSpec> {
        let members = existing_memberships(s);
        let candidates: Vec<Membership> = if kind == ChangeKind::RemoveMember {
            members
        } else {
            e.groups
                .iter()
                .flat_map(|g| {
                    e.users.iter().map(move |u| Membership {
                        group: g.clone(),
                        user: u.clone(),
                    })
                })
                .filter(|pair| !members.contains(pair))
                .collect()
        };
        let Membership { group, user } = self.effective_or(&candidates, || {
            Some(Membership {
                group: pick(&e.groups, &self.a)?,
                user: pick(&e.users, &self.b)?,
            })
        })?;
        Some(if kind == ChangeKind::RemoveMember {
            ChangeSpec::RemoveMember { group, user }
        } else {
            ChangeSpec::AddMember { group, user }
        })
    }

    /// Any attachment of one of `targets` to one of `holders`.
    fn any_attachment(&self, targets: &[String], holders: &[Named]) -> Option<Attachment> {
        Some(Attachment {
            target: pick(targets, &self.a)?,
            holder: pick(holders, &self.b)?,
        })
    }

    /// A detached policy that is attached, or an attached one that is not (when effective).
    fn policy_attachment(
        &self,
        kind: ChangeKind,
        s: &Snapshot,
        e: &Entities,
    ) -> Option<ChangeSpec> {
        let detach = kind == ChangeKind::DetachPolicy;
        let attached = existing_policy_attachments(s);
        let candidates = if detach {
            attached
        } else {
            missing_attachments(&e.policies, &e.holders, &attached)
        };
        let Attachment { target, holder } =
            self.effective_or(&candidates, || self.any_attachment(&e.policies, &e.holders))?;
        let (policy, user, group, role) = (
            target,
            holder.only("user"),
            holder.only("group"),
            holder.only("role"),
        );
        Some(if detach {
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
        })
    }

    /// A detached role that is attached, or an attached one that is not (when effective).
    fn role_attachment(&self, kind: ChangeKind, s: &Snapshot, e: &Entities) -> Option<ChangeSpec> {
        let detach = kind == ChangeKind::DetachRole;
        let attached = existing_role_attachments(s);
        let candidates = if detach {
            attached
        } else {
            missing_attachments(&e.roles, &e.principals, &attached)
        };
        let Attachment { target, holder } =
            self.effective_or(&candidates, || self.any_attachment(&e.roles, &e.principals))?;
        let (role, user, group) = (target, holder.only("user"), holder.only("group"));
        Some(if detach {
            ChangeSpec::DetachRole { role, user, group }
        } else {
            ChangeSpec::AttachRole { role, user, group }
        })
    }

    /// A user suspended who is not, or unsuspended who is (when effective).
    fn suspension(&self, kind: ChangeKind, s: &Snapshot, e: &Entities) -> Option<ChangeSpec> {
        let suspend = kind == ChangeKind::SuspendUser;
        let candidates: Vec<String> = s
            .users
            .iter()
            .filter(|u| u.suspended != suspend)
            .map(|u| u.id.clone())
            .collect();
        let user = self.effective_or(&candidates, || pick(&e.users, &self.a))?;
        Some(if suspend {
            ChangeSpec::SuspendUser { user }
        } else {
            ChangeSpec::UnsuspendUser { user }
        })
    }
}
