//! A property-testing kit for your own organization and change plans (feature `proptest`).
//!
//! iamsim's own test suite is built from these pieces, and they are here so that yours can be
//! too:
//!
//! - **strategies** for [proptest](mod@proptest): random organizations ([`organization`], tuned
//!   by [`OrgKnobs`]), policy documents ([`policy_document`], [`DocumentKnobs`]), and change sets
//!   naming real entities of a snapshot ([`changes`], [`ChangeKnobs`]);
//! - **the reference evaluator** ([`reference`](mod@reference), re-exported): a deliberately
//!   naive evaluator straight from the snapshot, sharing no evaluation code with the engine;
//! - **invariant checkers** that return the [`Violation`]s they find, empty when all is well:
//!   [`check_effective`] (the engine equals the reference for every user), [`check_what_if`]
//!   (a what-if equals the reference's before-and-after comparison), [`check_rebuild`] (a
//!   what-if equals compiling the changed snapshot), [`check_removal`] (removing an edge revokes
//!   only what came through it; direct and other-group grants stay), and [`check_changes`],
//!   all of them for a change set; each judges under the [`Precedence`] the `Org` was
//!   compiled with (compile with [`Org::compile_with`] to check nearest-wins);
//! - the entry points of the fuzz targets ([`fuzz`]), so that a corpus can be replayed by
//!   `cargo test`.
//!
//! # Example: a property of your organization
//!
//! A team keeps its organization's IAM as code and has no Deny statement anywhere. Its rule: a
//! change plan that only grants (adds members, attaches policies and roles) never takes anything
//! away from anyone. With the kit, the property test is a few lines; it also checks, for each
//! generated plan, that iamsim's answer agrees with the reference and with a rebuild.
//!
//! ```
//! use iamsim_core::report::ChangeKind;
//! use iamsim_core::testing::{self, ChangeKnobs};
//! use iamsim_core::{Catalogue, Org, SimulateOptions, Snapshot};
//! use proptest::prelude::*;
//!
//! // In a real suite: `Snapshot::from_json_bytes(&std::fs::read("org.json")?)`.
//! let snapshot = Snapshot::from_json_str(r#"{
//!   "format": "iamsim.snapshot.v1",
//!   "organization": {"id": "org-1", "name": "Acme"},
//!   "users": [{"id": "u-ana", "email": "ana@example.com"}, {"id": "u-bo", "email": "bo@example.com"}],
//!   "groups": [
//!     {"id": "g-oncall", "display_name": "On-call", "members": ["u-ana"], "policies": ["p-ops"]},
//!     {"id": "g-billing", "display_name": "Billing", "members": ["u-bo"], "roles": ["r-read"]}
//!   ],
//!   "roles": [{"id": "r-read", "name": "reader", "role_type": "assignable", "policies": ["p-read"]}],
//!   "policies": [
//!     {"id": "p-ops", "name": "ops", "policy_document": {"Statement": [
//!       {"Effect": "Allow", "Action": ["compute.instance.*"], "Resource": "*"}]}},
//!     {"id": "p-read", "name": "read", "policy_document": {"Statement": [
//!       {"Effect": "Allow", "Action": "account.billing.Read", "Resource": "*"}]}}
//!   ]
//! }"#)?;
//! let catalogue = Catalogue::bundled();
//! let org = Org::compile(&snapshot, &catalogue)?;
//!
//! let grants_only = ChangeKnobs {
//!     kinds: vec![ChangeKind::AddMember, ChangeKind::AttachPolicy, ChangeKind::AttachRole],
//!     ..ChangeKnobs::default()
//! };
//! proptest!(ProptestConfig::with_cases(32), |(plan in testing::changes(&snapshot, &grants_only))| {
//!     // The kit's invariants hold for this organization and this plan.
//!     let violations = testing::check_changes(&org, &snapshot, &catalogue, &plan);
//!     prop_assert!(violations.is_empty(), "{:#?}", violations);
//!     // And the team's own rule.
//!     let changes = org.resolve_all(&plan).expect("the kit names real entities");
//!     let options = SimulateOptions { allow_noop: true, ..SimulateOptions::default() };
//!     let impact = org.simulate_with(&changes, &options).unwrap();
//!     prop_assert!(impact.users.iter().all(|u| u.lost.is_empty()), "{:#?}", impact);
//! });
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! For random organizations instead of your own, combine [`organization`] with
//! [`change_picks`] (or take both from [`organization_and_changes`]) and evaluate against
//! [`catalogue`], the small catalogue the generated policies are written around.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::RangeInclusive;

pub use crate::reference;
/// The proptest this kit is built on, for suites that want the very same version.
pub use proptest;

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::strategy::BoxedStrategy;

use crate::catalogue::Catalogue;
use crate::change::ChangeSpec;
use crate::model::{
    OneOrMany, Organization, Policy, PolicyDocument, Role, RoleTrust, RoleType, Snapshot,
    Statement, User,
};
use crate::report::{
    ChangeKind, Decision, Entry, FlatImpact, FlatUserImpact, Impact, Path, Step, StepKind,
};
use crate::simulate::{Holder, Principal, SimulateOptions};
use crate::{Change, ChangeError, CompileOptions, Org, Precedence};

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

/// Every kind of change, in [`ChangeKind`] order.
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
        .prop_flat_map(move |(nu, ng, nr, np)| {
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
        })
        .prop_map(|(users, groups, roles, policies, trusts, root, dangling)| {
            let mut users: Vec<User> = users
                .into_iter()
                .enumerate()
                .map(|(i, (policies, roles, suspended, service))| User {
                    id: format!("u{i}"),
                    email: format!("u{i}@x.example"),
                    name: format!("User {i}"),
                    service_user: service,
                    suspended,
                    policies: ids("p", &policies),
                    roles: ids("r", &roles),
                    acls: None,
                    api_enabled: None,
                })
                .collect();
            if dangling {
                if let Some(first) = users.first_mut() {
                    first.policies.push("p-gone".to_string());
                }
            }
            let root_user_id = match root {
                (true, u) if !users.is_empty() => Some(format!("u{u}")),
                _ => None,
            };
            let groups = groups
                .into_iter()
                .enumerate()
                .map(|(i, (members, policies, roles))| crate::model::Group {
                    id: format!("g{i}"),
                    display_name: format!("Group {i}"),
                    description: String::new(),
                    members: ids("u", &members),
                    policies: ids("p", &policies),
                    roles: ids("r", &roles),
                })
                .collect();
            let roles = roles
                .into_iter()
                .enumerate()
                .map(|(i, (assumable, policies))| Role {
                    id: format!("r{i}"),
                    name: format!("role {i}"),
                    role_type: if assumable {
                        RoleType::Assumable
                    } else {
                        RoleType::Assignable
                    },
                    description: String::new(),
                    policies: ids("p", &policies),
                })
                .collect();
            let policies = policies
                .into_iter()
                .enumerate()
                .map(|(i, (document, system))| Policy {
                    id: format!("p{i}"),
                    name: format!("policy {i}"),
                    description: String::new(),
                    is_system_policy: system,
                    policy_document: document,
                })
                .collect();
            let role_trusts = trusts
                .into_iter()
                .enumerate()
                .map(|(i, (role, user, group))| RoleTrust {
                    id: format!("t{i}"),
                    role_id: format!("r{role}"),
                    trust_type: "TemporaryAssumption".to_string(),
                    trusted_user_id: user.map(|u| format!("u{u}")),
                    trusted_group_id: group.map(|g| format!("g{g}")),
                    conditions: None,
                    valid_until: None,
                })
                .collect();
            Snapshot {
                format: crate::model::SNAPSHOT_FORMAT.to_string(),
                organization: Organization {
                    id: "org".to_string(),
                    name: "Org".to_string(),
                    root_user_id,
                },
                users,
                groups,
                roles,
                policies,
                role_trusts,
                crawl: None,
            }
        })
        .boxed()
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
/// [`check_what_if`] expects.
pub fn changes(snapshot: &Snapshot, knobs: &ChangeKnobs) -> BoxedStrategy<Vec<ChangeSpec>> {
    let snapshot = snapshot.clone();
    change_picks(knobs)
        .prop_map(move |picks| picks.iter().filter_map(|p| p.spec(&snapshot)).collect())
        .boxed()
}

/// A random organization and a change set naming its entities.
pub fn organization_and_changes(
    org: &OrgKnobs,
    changes: &ChangeKnobs,
) -> BoxedStrategy<(Snapshot, Vec<ChangeSpec>)> {
    (organization(org), change_picks(changes))
        .prop_map(|(snapshot, picks)| {
            let specs = picks.iter().filter_map(|p| p.spec(&snapshot)).collect();
            (snapshot, specs)
        })
        .boxed()
}

/// A holder named in a change: (`user` | `group` | `role`, id).
type Named = (&'static str, String);

fn named_holder(name: &Named) -> (Option<String>, Option<String>, Option<String>) {
    let (kind, id) = name;
    let only = |k: &str| (*kind == k).then(|| id.clone());
    (only("user"), only("group"), only("role"))
}

/// Every existing (group, user) membership of the snapshot, sorted.
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

/// Every existing (policy, holder) attachment of the snapshot, sorted; a holder is
/// (`user` | `group` | `role`, id).
pub fn policy_attachments(s: &Snapshot) -> Vec<(String, (&'static str, String))> {
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

/// Every existing (role, holder) attachment of the snapshot, sorted; a holder is
/// (`user` | `group`, id).
pub fn role_attachments(s: &Snapshot) -> Vec<(String, (&'static str, String))> {
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

impl ChangePick {
    /// The change, naming entities of `s` by id; `None` if neither its kind nor any fallback
    /// kind has anything to name in `s`.
    pub fn spec(&self, s: &Snapshot) -> Option<ChangeSpec> {
        std::iter::once(self.kind)
            .chain(self.fallbacks.iter().copied())
            .find_map(|kind| self.spec_of_kind(kind, s))
    }

    fn spec_of_kind(&self, kind: ChangeKind, s: &Snapshot) -> Option<ChangeSpec> {
        fn pick<T: Clone>(list: &[T], i: &Index) -> Option<T> {
            (!list.is_empty()).then(|| list[i.index(list.len())].clone())
        }
        let (a, b) = (&self.a, &self.b);
        let users: Vec<String> = s.users.iter().map(|u| u.id.clone()).collect();
        let groups: Vec<String> = s.groups.iter().map(|g| g.id.clone()).collect();
        let roles: Vec<String> = s.roles.iter().map(|r| r.id.clone()).collect();
        let policies: Vec<String> = s.policies.iter().map(|p| p.id.clone()).collect();
        let principals: Vec<Named> = s
            .users
            .iter()
            .map(|u| ("user", u.id.clone()))
            .chain(s.groups.iter().map(|g| ("group", g.id.clone())))
            .collect();
        let mut holders = principals.clone();
        holders.extend(s.roles.iter().map(|r| ("role", r.id.clone())));
        let any_pair = |firsts: &[String], seconds: &[Named]| -> Option<(String, Named)> {
            Some((pick(firsts, a)?, pick(seconds, b)?))
        };
        Some(match kind {
            ChangeKind::RemoveMember | ChangeKind::AddMember => {
                let members = memberships(s);
                let candidates: Vec<(String, String)> = if kind == ChangeKind::RemoveMember {
                    members
                } else {
                    groups
                        .iter()
                        .flat_map(|g| users.iter().map(move |u| (g.clone(), u.clone())))
                        .filter(|pair| !members.contains(pair))
                        .collect()
                };
                let (group, user) = match pick(&candidates, a).filter(|_| self.effective) {
                    Some(pair) => pair,
                    None => (pick(&groups, a)?, pick(&users, b)?),
                };
                if kind == ChangeKind::RemoveMember {
                    ChangeSpec::RemoveMember { group, user }
                } else {
                    ChangeSpec::AddMember { group, user }
                }
            }
            ChangeKind::DetachPolicy | ChangeKind::AttachPolicy => {
                let detach = kind == ChangeKind::DetachPolicy;
                let attached = policy_attachments(s);
                let candidates: Vec<(String, Named)> = if detach {
                    attached
                } else {
                    policies
                        .iter()
                        .flat_map(|p| holders.iter().map(move |h| (p.clone(), h.clone())))
                        .filter(|pair| !attached.contains(pair))
                        .collect()
                };
                let (policy, holder) = match pick(&candidates, a).filter(|_| self.effective) {
                    Some(pair) => pair,
                    None => any_pair(&policies, &holders)?,
                };
                let (user, group, role) = named_holder(&holder);
                if detach {
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
                let detach = kind == ChangeKind::DetachRole;
                let attached = role_attachments(s);
                let candidates: Vec<(String, Named)> = if detach {
                    attached
                } else {
                    roles
                        .iter()
                        .flat_map(|r| principals.iter().map(move |h| (r.clone(), h.clone())))
                        .filter(|pair| !attached.contains(pair))
                        .collect()
                };
                let (role, holder) = match pick(&candidates, a).filter(|_| self.effective) {
                    Some(pair) => pair,
                    None => any_pair(&roles, &principals)?,
                };
                let (user, group, _) = named_holder(&holder);
                if detach {
                    ChangeSpec::DetachRole { role, user, group }
                } else {
                    ChangeSpec::AttachRole { role, user, group }
                }
            }
            ChangeKind::DeleteGroup => ChangeSpec::DeleteGroup {
                group: pick(&groups, a)?,
            },
            ChangeKind::DeleteRole => ChangeSpec::DeleteRole {
                role: pick(&roles, a)?,
            },
            ChangeKind::DeletePolicy => ChangeSpec::DeletePolicy {
                policy: pick(&policies, a)?,
            },
            ChangeKind::SuspendUser | ChangeKind::UnsuspendUser => {
                let suspend = kind == ChangeKind::SuspendUser;
                let candidates: Vec<String> = s
                    .users
                    .iter()
                    .filter(|u| u.suspended != suspend)
                    .map(|u| u.id.clone())
                    .collect();
                let user = match pick(&candidates, a).filter(|_| self.effective) {
                    Some(user) => user,
                    None => pick(&users, a)?,
                };
                if suspend {
                    ChangeSpec::SuspendUser { user }
                } else {
                    ChangeSpec::UnsuspendUser { user }
                }
            }
            ChangeKind::RemoveUser => ChangeSpec::RemoveUser {
                user: pick(&users, a)?,
            },
            ChangeKind::ReplacePolicyDocument => ChangeSpec::ReplacePolicyDocument {
                policy: pick(&policies, a)?,
                policy_document: self.document.clone(),
            },
            ChangeKind::DeleteRoleTrust => ChangeSpec::DeleteRoleTrust {
                trust: pick(&known_trusts(s), a)?,
            },
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Invariant checkers
// ---------------------------------------------------------------------------------------------

/// An invariant that does not hold: which check found it, and what it saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The check: `effective`, `what-if`, `rebuild`, `removal`, or a fuzz target's name.
    pub check: &'static str,
    /// What differs, naming the user, change and entry.
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.check, self.message)
    }
}

fn violation(check: &'static str, message: impl Into<String>) -> Violation {
    Violation {
        check,
        message: message.into(),
    }
}

/// The first place two lists differ, for a message.
fn first_difference<T: PartialEq + fmt::Debug>(engine: &[T], reference: &[T]) -> String {
    let at = engine
        .iter()
        .zip(reference)
        .position(|(e, r)| e != r)
        .unwrap_or(engine.len().min(reference.len()));
    format!(
        "{} vs {} items; first difference at {at}: engine {:?}, reference {:?}",
        engine.len(),
        reference.len(),
        engine.get(at),
        reference.get(at)
    )
}

/// The engine's effective permissions of `user_id` equal the reference's, paths, denials and
/// assumable roles included. `org` must be compiled from `snapshot` against `catalogue`; the
/// reference judges under the precedence `org` was compiled with (as every checker of the kit
/// does: compile with [`Org::compile_with`] to check another rule).
pub fn check_user(
    org: &Org,
    snapshot: &Snapshot,
    catalogue: &Catalogue,
    user_id: &str,
) -> Vec<Violation> {
    let mut out = Vec::new();
    let Ok(key) = org.find_user(user_id) else {
        return vec![violation(
            "effective",
            format!("user `{user_id}` is in the snapshot but not in the compiled organization"),
        )];
    };
    let engine = org.effective(key);
    let naive = reference::effective_with(snapshot, catalogue, user_id, org.precedence());
    if engine.user != naive.user {
        out.push(violation(
            "effective",
            format!(
                "user `{user_id}`: summary {:?} vs reference {:?}",
                engine.user, naive.user
            ),
        ));
    }
    for (what, e, r) in [
        ("allowed", &engine.allowed, &naive.allowed),
        ("denied", &engine.denied, &naive.denied),
    ] {
        if e != r {
            out.push(violation(
                "effective",
                format!("user `{user_id}`: {what}: {}", first_difference(e, r)),
            ));
        }
    }
    if engine.assumable != naive.assumable {
        out.push(violation(
            "effective",
            format!(
                "user `{user_id}`: assumable: {}",
                first_difference(&engine.assumable, &naive.assumable)
            ),
        ));
    }
    out
}

/// [`check_user`] for every user of the snapshot.
pub fn check_effective(org: &Org, snapshot: &Snapshot, catalogue: &Catalogue) -> Vec<Violation> {
    snapshot
        .users
        .iter()
        .flat_map(|u| check_user(org, snapshot, catalogue, &u.id))
        .collect()
}

/// The entity of a kind whose id, or failing that whose name, is `query` (as
/// [`reference::apply`] and the engine's lookups read names): its id.
fn id_of(s: &Snapshot, kind: &str, query: &str) -> Option<String> {
    fn find<T>(items: &[T], q: &str, id: fn(&T) -> &str, name: fn(&T) -> &str) -> Option<String> {
        items
            .iter()
            .find(|x| id(x) == q)
            .or_else(|| items.iter().find(|x| name(x) == q))
            .map(|x| id(x).to_string())
    }
    match kind {
        "user" => find(&s.users, query, |x| &x.id, |x| &x.email),
        "group" => find(&s.groups, query, |x| &x.id, |x| &x.display_name),
        "role" => find(&s.roles, query, |x| &x.id, |x| &x.name),
        "policy" => find(&s.policies, query, |x| &x.id, |x| &x.name),
        _ => find(&s.role_trusts, query, |x| &x.id, |x| &x.id),
    }
}

/// The entities a change names: (kind, name as given).
fn named_entities(spec: &ChangeSpec) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    let mut add = |kind: &'static str, id: Option<&String>| {
        if let Some(id) = id {
            out.push((kind, id.clone()));
        }
    };
    match spec {
        ChangeSpec::RemoveMember { group, user } | ChangeSpec::AddMember { group, user } => {
            add("user", Some(user));
            add("group", Some(group));
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
            add("policy", Some(policy));
            add("user", user.as_ref());
            add("group", group.as_ref());
            add("role", role.as_ref());
        }
        ChangeSpec::DetachRole { role, user, group }
        | ChangeSpec::AttachRole { role, user, group } => {
            add("role", Some(role));
            add("user", user.as_ref());
            add("group", group.as_ref());
        }
        ChangeSpec::DeleteGroup { group } => add("group", Some(group)),
        ChangeSpec::DeleteRole { role } => add("role", Some(role)),
        ChangeSpec::DeletePolicy { policy } | ChangeSpec::ReplacePolicyDocument { policy, .. } => {
            add("policy", Some(policy))
        }
        ChangeSpec::SuspendUser { user }
        | ChangeSpec::UnsuspendUser { user }
        | ChangeSpec::RemoveUser { user } => add("user", Some(user)),
        ChangeSpec::DeleteRoleTrust { trust } => add("role trust", Some(trust)),
    }
    out
}

/// The kind of a change.
pub fn kind_of(spec: &ChangeSpec) -> ChangeKind {
    match spec {
        ChangeSpec::RemoveMember { .. } => ChangeKind::RemoveMember,
        ChangeSpec::AddMember { .. } => ChangeKind::AddMember,
        ChangeSpec::DetachPolicy { .. } => ChangeKind::DetachPolicy,
        ChangeSpec::AttachPolicy { .. } => ChangeKind::AttachPolicy,
        ChangeSpec::DetachRole { .. } => ChangeKind::DetachRole,
        ChangeSpec::AttachRole { .. } => ChangeKind::AttachRole,
        ChangeSpec::DeleteGroup { .. } => ChangeKind::DeleteGroup,
        ChangeSpec::DeleteRole { .. } => ChangeKind::DeleteRole,
        ChangeSpec::DeletePolicy { .. } => ChangeKind::DeletePolicy,
        ChangeSpec::SuspendUser { .. } => ChangeKind::SuspendUser,
        ChangeSpec::UnsuspendUser { .. } => ChangeKind::UnsuspendUser,
        ChangeSpec::RemoveUser { .. } => ChangeKind::RemoveUser,
        ChangeSpec::ReplacePolicyDocument { .. } => ChangeKind::ReplacePolicyDocument,
        ChangeSpec::DeleteRoleTrust { .. } => ChangeKind::DeleteRoleTrust,
    }
}

/// Kinds that are a no-op when they change nothing; the others always do something.
fn can_be_noop(kind: ChangeKind) -> bool {
    !matches!(
        kind,
        ChangeKind::DeleteGroup
            | ChangeKind::DeleteRole
            | ChangeKind::DeletePolicy
            | ChangeKind::RemoveUser
            | ChangeKind::ReplacePolicyDocument
            | ChangeKind::DeleteRoleTrust
    )
}

/// What the engine must answer for a change set, worked out on the reference's snapshots.
enum Expected {
    /// The snapshot after every change, the kinds of the changes that do something, and the
    /// ids of the users those changes name (who are reported even when nothing happens to them).
    Applied(Box<Snapshot>, Vec<ChangeKind>, BTreeSet<String>),
    /// A change names an entity an earlier change deleted: `(kind, id)` of each such entity.
    Deleted(Vec<(&'static str, String)>),
    /// A change replaces the document of a Vultr-managed policy.
    SystemPolicy(String),
}

fn expected(snapshot: &Snapshot, specs: &[ChangeSpec]) -> Expected {
    let mut current = snapshot.clone();
    let mut kinds = Vec::new();
    let mut named = BTreeSet::new();
    for spec in specs {
        let gone: Vec<_> = named_entities(spec)
            .into_iter()
            .filter(|(kind, name)| id_of(&current, kind, name).is_none())
            .filter_map(|(kind, name)| Some((kind, id_of(snapshot, kind, &name)?)))
            .collect();
        if !gone.is_empty() {
            return Expected::Deleted(gone);
        }
        if let ChangeSpec::ReplacePolicyDocument { policy, .. } = spec {
            let id = id_of(&current, "policy", policy);
            if let Some(p) = current
                .policies
                .iter()
                .find(|p| Some(&p.id) == id.as_ref() && p.is_system_policy)
            {
                return Expected::SystemPolicy(p.id.clone());
            }
        }
        let next = reference::apply(&current, spec);
        let kind = kind_of(spec);
        if !(can_be_noop(kind) && next == current) {
            kinds.push(kind);
            named.extend(
                named_entities(spec)
                    .into_iter()
                    .filter(|(kind, _)| *kind == "user")
                    .filter_map(|(_, name)| id_of(&current, "user", &name)),
            );
        }
        current = next;
    }
    Expected::Applied(Box::new(current), kinds, named)
}

/// Resolves and simulates a change set, skipping no-ops: the checkers' one way to run it. The
/// grouped report is checked for its own shape ([`grouped_shape`]), then flattened to one entry
/// per (action, resource), the form the reference computes.
fn simulate(org: &Org, specs: &[ChangeSpec]) -> Result<Result<FlatImpact, ChangeError>, Violation> {
    let changes = org.resolve_all(specs).map_err(|e| {
        violation(
            "what-if",
            format!(
                "changes[{}] does not resolve: {}; the checkers take changes naming real entities",
                e.index, e.source
            ),
        )
    })?;
    let options = SimulateOptions {
        allow_noop: true,
        ..SimulateOptions::default()
    };
    match org.simulate_with(&changes, &options) {
        Ok(impact) => {
            let counted = org.simulate_with(
                &changes,
                &SimulateOptions {
                    detail: crate::Detail::Counts,
                    ..options
                },
            );
            let problem = grouped_shape(&impact)
                .or_else(|| counts_agree(&impact, counted))
                .or_else(|| stream_agrees(org, &changes, &options, &impact));
            match problem {
                Some(problem) => Err(violation(
                    "what-if",
                    format!("{}: grouped report: {problem}", show(specs)),
                )),
                None => Ok(Ok(impact.flatten())),
            }
        }
        Err(e) => Ok(Err(e)),
    }
}

/// What the counts-only report ([`Detail::Counts`](crate::Detail::Counts)) gets wrong against
/// the full one, if anything: the summary, the per-action counts, and each user's counts,
/// unchanged count, assumable roles and note must be the same, with no entry.
fn counts_agree(full: &Impact, counted: Result<Impact, ChangeError>) -> Option<String> {
    let counted = match counted {
        Ok(counted) => counted,
        Err(e) => return Some(format!("counts only: {e}")),
    };
    if counted.summary != full.summary || counted.actions != full.actions {
        return Some(format!(
            "counts only: summary {:?} and actions {:?}, full {:?} and {:?}",
            counted.summary, counted.actions, full.summary, full.actions
        ));
    }
    let strip = |u: &crate::report::UserImpact| crate::report::UserImpact {
        lost: Vec::new(),
        kept: Vec::new(),
        gained: Vec::new(),
        ..u.clone()
    };
    for (c, f) in counted.users.iter().zip(&full.users) {
        if *c != strip(f) {
            return Some(format!("counts only: user {c:?}, full {:?}", strip(f)));
        }
    }
    (counted.users.len() != full.users.len()).then(|| "counts only: other users".to_string())
}

/// Whether the report written user by user ([`Org::simulate_stream`]) is, byte for byte, the
/// report built in memory.
fn stream_agrees(
    org: &Org,
    changes: &[crate::Change],
    options: &SimulateOptions,
    impact: &Impact,
) -> Option<String> {
    let stream = match org.simulate_stream(changes, options, &|_, _| {}) {
        Ok(stream) => stream,
        Err(e) => return Some(format!("streamed: {e}")),
    };
    let (streamed, built) = (
        serde_json::to_string(&stream).unwrap_or_default(),
        serde_json::to_string(impact).unwrap_or_default(),
    );
    (streamed != built).then(|| format!("streamed {streamed}, built {built}"))
}

/// What is wrong with a grouped report's own shape, if anything: every index in range; each
/// path and action of the tables used, the paths distinct and numbered by first reference, each
/// path's actions sorted; an entry's actions sorted and distinct, its paths sorted, each of its
/// paths covering one of its actions and each action covered by one of its paths; a user's
/// entries sorted by first action and resource, with
/// no (action, resource) in two entries of one list; the counts the sums of the entries'
/// actions; the summary and the per-action counts those of the users.
pub fn grouped_shape(impact: &Impact) -> Option<String> {
    let (paths, actions) = (impact.paths.len(), impact.actions.len());
    if impact
        .paths
        .iter()
        .map(|p| &p.steps)
        .collect::<BTreeSet<_>>()
        .len()
        != paths
    {
        return Some("a path is listed twice".to_string());
    }
    if impact
        .paths
        .iter()
        .any(|p| p.covers as usize >= impact.coverage.len())
    {
        return Some("a path's set of actions is out of range".to_string());
    }
    if !impact.coverage.iter().all(|set| {
        set.windows(2).all(|w| w[0] < w[1]) && set.iter().all(|a| (a.0 as usize) < actions)
    }) {
        return Some("a set of actions is unsorted, repeated or out of range".to_string());
    }
    if impact.coverage.iter().collect::<BTreeSet<_>>().len() != impact.coverage.len() {
        return Some("a set of actions is listed twice".to_string());
    }
    // Sets are numbered by first reference from the paths, and each is used.
    let mut next_set = 0u32;
    for path in &impact.paths {
        if path.covers > next_set {
            return Some(format!(
                "set {} is referred to before set {next_set}",
                path.covers
            ));
        }
        next_set = next_set.max(path.covers + 1);
    }
    if next_set as usize != impact.coverage.len() {
        return Some("a set of actions no path covers".to_string());
    }
    // Paths are numbered by first reference in report order.
    let mut next = 0u32;
    for user in &impact.users {
        for entry in user.lost.iter().chain(&user.kept).chain(&user.gained) {
            for path in &entry.via {
                if path.0 > next {
                    return Some(format!("path {} is referred to before path {next}", path.0));
                }
                next = next.max(path.0 + 1);
            }
        }
    }
    if !impact.actions.windows(2).all(|w| w[0].action < w[1].action) {
        return Some("the actions are not sorted, or one is listed twice".to_string());
    }
    let mut used_paths = vec![false; paths];
    let mut per_action = vec![[0usize; 3]; actions];
    let mut summary = crate::report::ImpactSummary {
        users_reached: impact.summary.users_reached,
        ..Default::default()
    };
    for user in &impact.users {
        let who = &user.user.id;
        let mut counts = crate::report::PairCounts::default();
        let lists = [
            (&user.lost, &mut counts.lost),
            (&user.kept, &mut counts.kept),
            (&user.gained, &mut counts.gained),
        ];
        for (i, (list, count)) in lists.into_iter().enumerate() {
            let mut pairs = BTreeSet::new();
            let mut named = BTreeSet::new();
            for entry in list.iter() {
                if entry.actions.is_empty() || !entry.actions.windows(2).all(|w| w[0] < w[1]) {
                    return Some(format!(
                        "user `{who}`: an entry's actions are empty, unsorted or repeated"
                    ));
                }
                if entry.actions.iter().any(|a| a.0 as usize >= actions)
                    || entry.via.iter().any(|p| p.0 as usize >= paths)
                {
                    return Some(format!("user `{who}`: an index out of range"));
                }
                if entry.via.is_empty()
                    || !entry
                        .via
                        .windows(2)
                        .all(|w| impact.path(w[0]) < impact.path(w[1]))
                {
                    return Some(format!(
                        "user `{who}`: an entry's paths are empty, unsorted or repeated"
                    ));
                }
                let covers = |p: &crate::report::PathId, a: &crate::report::ActionId| {
                    impact.covers(*p).binary_search(a).is_ok()
                };
                if !entry
                    .via
                    .iter()
                    .all(|p| entry.actions.iter().any(|a| covers(p, a)))
                    || !entry
                        .actions
                        .iter()
                        .all(|a| entry.via.iter().any(|p| covers(p, a)))
                {
                    return Some(format!(
                        "user `{who}`: a path of an entry covers none of its actions, or an \
                         action none of its paths"
                    ));
                }
                entry
                    .via
                    .iter()
                    .for_each(|p| used_paths[p.0 as usize] = true);
                for &action in &entry.actions {
                    if !pairs.insert((action, &entry.resource)) {
                        return Some(format!("user `{who}`: a pair in two entries of one list"));
                    }
                    if named.insert(action) {
                        per_action[action.0 as usize][i] += 1;
                    }
                }
            }
            let keys: Vec<_> = list.iter().map(|e| (e.actions[0], &e.resource)).collect();
            if !keys.windows(2).all(|w| w[0] < w[1]) {
                return Some(format!("user `{who}`: entries not sorted"));
            }
            *count = pairs.len();
        }
        if counts != user.counts {
            return Some(format!(
                "user `{who}`: counts {:?}, the entries make {counts:?}",
                user.counts
            ));
        }
        summary.users_affected += 1;
        summary.pairs.lost += counts.lost;
        summary.pairs.kept += counts.kept;
        summary.pairs.gained += counts.gained;
        summary.users_losing += usize::from(counts.lost > 0 || !user.assumable_lost.is_empty());
        summary.users_gaining +=
            usize::from(counts.gained > 0 || !user.assumable_gained.is_empty());
    }
    if summary != impact.summary || impact.summary.users_reached < summary.users_affected {
        return Some(format!(
            "summary {:?}, the users make {summary:?}",
            impact.summary
        ));
    }
    for (action, counted) in impact.actions.iter().zip(&per_action) {
        if [action.lost, action.kept, action.gained] != *counted {
            return Some(format!(
                "action `{}`: counts {:?}, the users make {counted:?}",
                action.action,
                [action.lost, action.kept, action.gained]
            ));
        }
    }
    if used_paths.contains(&false) || per_action.iter().any(|c| c == &[0, 0, 0]) {
        return Some("a table lists a path or action no entry refers to".to_string());
    }
    None
}

fn show(specs: &[ChangeSpec]) -> String {
    serde_json::to_string(specs).unwrap_or_default()
}

fn entry_key(e: &Entry) -> (&str, &str) {
    (&e.action, &e.resource)
}

/// Lost, kept and gained are disjoint and sorted; users are sorted most lost first; the
/// per-action summary counts, for each action, the users who lose, keep and gain it.
fn check_impact_shape(impact: &FlatImpact, what: &str, out: &mut Vec<Violation>) {
    let mut counts: BTreeMap<&str, [BTreeSet<&str>; 3]> = BTreeMap::new();
    for user in &impact.users {
        for (i, list) in [&user.lost, &user.kept, &user.gained]
            .into_iter()
            .enumerate()
        {
            for entry in list {
                counts.entry(&entry.action).or_default()[i].insert(&user.user.id);
            }
        }
    }
    let expected: Vec<(&str, [usize; 3])> = counts
        .iter()
        .map(|(action, sets)| (*action, [sets[0].len(), sets[1].len(), sets[2].len()]))
        .collect();
    let got: Vec<(&str, [usize; 3])> = impact
        .actions
        .iter()
        .map(|a| (a.action.as_str(), [a.lost, a.kept, a.gained]))
        .collect();
    if got != expected {
        out.push(violation(
            "what-if",
            format!("{what}: action summary {got:?}, expected {expected:?}"),
        ));
    }
    if !impact
        .users
        .windows(2)
        .all(|w| w[0].lost.len() >= w[1].lost.len())
    {
        out.push(violation(
            "what-if",
            format!("{what}: users are not sorted most lost first"),
        ));
    }
    let mut seen = BTreeSet::new();
    for user in &impact.users {
        if !seen.insert(&user.user.id) {
            out.push(violation(
                "what-if",
                format!("{}: user `{}` reported twice", what, user.user.id),
            ));
        }
        let lists = [&user.lost, &user.kept, &user.gained];
        for list in lists {
            if !list.windows(2).all(|w| entry_key(&w[0]) < entry_key(&w[1])) {
                out.push(violation(
                    "what-if",
                    format!(
                        "{what}: user `{}`: entries not sorted or repeated",
                        user.user.id
                    ),
                ));
            }
        }
        let sets: Vec<BTreeSet<_>> = lists
            .iter()
            .map(|l| l.iter().map(entry_key).collect())
            .collect();
        if !(sets[0].is_disjoint(&sets[1])
            && sets[0].is_disjoint(&sets[2])
            && sets[1].is_disjoint(&sets[2]))
        {
            out.push(violation(
                "what-if",
                format!(
                    "{what}: user `{}`: lost, kept and gained overlap",
                    user.user.id
                ),
            ));
        }
    }
}

/// The what-if of `specs` (one step, no-ops skipped) equals the reference's: each change made
/// to a copy of the snapshot with [`reference::apply`], then every user judged before and after
/// from scratch with [`reference::impact`]; paths, counts and notes included. Also: a user the
/// engine does not report is one the reference finds untouched, the users the changes name are
/// reported, the changes that do something are listed, lost/kept/gained are disjoint and
/// sorted, and an error is the one the reference's snapshots predict (an entity deleted by an
/// earlier change, a Vultr-managed policy's document replaced).
pub fn check_what_if(
    org: &Org,
    snapshot: &Snapshot,
    catalogue: &Catalogue,
    specs: &[ChangeSpec],
) -> Vec<Violation> {
    let result = match simulate(org, specs) {
        Ok(result) => result,
        Err(v) => return vec![v],
    };
    let what = show(specs);
    let mut out = Vec::new();
    let message = match (expected(snapshot, specs), result) {
        (Expected::Deleted(gone), Err(ChangeError::Deleted { kind, id })) => {
            if gone.contains(&(kind.noun(), id.clone())) {
                return out;
            }
            format!("error names {kind} `{id}`; deleted earlier: {gone:?}")
        }
        (Expected::SystemPolicy(policy), Err(ChangeError::SystemPolicy { policy: got }))
            if policy == got =>
        {
            return out;
        }
        (Expected::Applied(after, kinds, named), Ok(impact)) => {
            let reported: Vec<ChangeKind> = impact.changes.iter().map(|c| c.kind).collect();
            if reported != kinds {
                out.push(violation(
                    "what-if",
                    format!("{what}: changes reported {reported:?}, expected {kinds:?}"),
                ));
            }
            let sides = (snapshot, after.as_ref(), org.precedence());
            compare_impact(&impact, sides, catalogue, &named, &what, &mut out);
            return out;
        }
        (Expected::Deleted(gone), other) => {
            format!("expected an error naming one of {gone:?}, got {other:?}")
        }
        (Expected::SystemPolicy(policy), other) => {
            format!("expected the error for system policy `{policy}`, got {other:?}")
        }
        (Expected::Applied(..), Err(e)) => format!("unexpected error: {e}"),
    };
    out.push(violation("what-if", format!("{what}: {message}")));
    out
}

/// Compares the engine's impact with the reference's, user by user.
fn compare_impact(
    impact: &FlatImpact,
    (before, after, precedence): (&Snapshot, &Snapshot, Precedence),
    catalogue: &Catalogue,
    named: &BTreeSet<String>,
    what: &str,
    out: &mut Vec<Violation>,
) {
    check_impact_shape(impact, what, out);
    let reported: BTreeMap<&str, &FlatUserImpact> = impact
        .users
        .iter()
        .map(|u| (u.user.id.as_str(), u))
        .collect();
    for id in named {
        if !reported.contains_key(id.as_str()) {
            out.push(violation(
                "what-if",
                format!("{what}: user `{id}` is named by a change but not reported"),
            ));
        }
    }
    for user in &before.users {
        let naive = reference::impact_with(before, after, catalogue, &user.id, precedence);
        match reported.get(user.id.as_str()) {
            Some(got) if **got != naive => out.push(violation(
                "what-if",
                format!(
                    "{what}: user `{}`: {}",
                    user.id,
                    impact_difference(got, &naive)
                ),
            )),
            Some(_) => {}
            None if !naive.is_empty() => out.push(violation(
                "what-if",
                format!(
                    "{what}: user `{}` not reported, but the reference says {naive:?}",
                    user.id
                ),
            )),
            None => {}
        }
    }
}

fn impact_difference(engine: &FlatUserImpact, naive: &FlatUserImpact) -> String {
    let lists = [
        ("lost", &engine.lost, &naive.lost),
        ("kept", &engine.kept, &naive.kept),
        ("gained", &engine.gained, &naive.gained),
    ];
    for (what, e, r) in lists {
        if e != r {
            return format!("{what}: {}", first_difference(e, r));
        }
    }
    if engine.assumable_lost != naive.assumable_lost {
        return format!(
            "assumable_lost: {}",
            first_difference(&engine.assumable_lost, &naive.assumable_lost)
        );
    }
    if engine.assumable_gained != naive.assumable_gained {
        return format!(
            "assumable_gained: {}",
            first_difference(&engine.assumable_gained, &naive.assumable_gained)
        );
    }
    format!(
        "engine {:?} / {:?} / {:?}, reference {:?} / {:?} / {:?} (user, unchanged_count, note)",
        engine.user,
        engine.unchanged_count,
        engine.note,
        naive.user,
        naive.unchanged_count,
        naive.note
    )
}

/// The entries of `list` by (action, resource), limited to `actions`.
fn by_key<'a>(
    list: &'a [Entry],
    actions: &BTreeSet<String>,
) -> BTreeMap<(&'a str, &'a str), &'a [Path]> {
    list.iter()
        .filter(|e| actions.contains(&e.action))
        .map(|e| (entry_key(e), e.via.as_slice()))
        .collect()
}

/// The what-if of `specs` equals compiling the changed snapshot: with every change made by
/// [`reference::apply`], the snapshot still compiles (under `org`'s precedence), and the
/// compiled organization decides
/// every lost entry as not allowed, every kept and gained entry as allowed with the reported
/// paths, and every other allowed entry of every user as before, paths included (on the
/// action elements both organizations share). A change set the engine refuses is left to
/// [`check_what_if`].
pub fn check_rebuild(
    org: &Org,
    snapshot: &Snapshot,
    catalogue: &Catalogue,
    specs: &[ChangeSpec],
) -> Vec<Violation> {
    let impact = match simulate(org, specs) {
        Ok(Ok(impact)) => impact,
        Ok(Err(_)) => return Vec::new(),
        Err(v) => return vec![v],
    };
    let what = show(specs);
    let after = reference::apply_all(snapshot, specs);
    let options = CompileOptions {
        precedence: org.precedence(),
        ..Default::default()
    };
    let rebuilt = match Org::compile_with(&after, catalogue, &options) {
        Ok(rebuilt) => rebuilt,
        Err(e) => {
            return vec![violation(
                "rebuild",
                format!("{what}: the changed snapshot does not compile: {e}"),
            )]
        }
    };
    let shared: BTreeSet<String> = {
        let new: BTreeSet<String> = rebuilt.universe().map(|a| a.to_string()).collect();
        org.universe()
            .map(|a| a.to_string())
            .filter(|a| new.contains(a))
            .collect()
    };
    let reported: BTreeMap<&str, &FlatUserImpact> = impact
        .users
        .iter()
        .map(|u| (u.user.id.as_str(), u))
        .collect();
    let mut out = Vec::new();
    for user in &snapshot.users {
        let (Ok(old_key), Ok(new_key)) = (org.find_user(&user.id), rebuilt.find_user(&user.id))
        else {
            continue; // Removed by the change.
        };
        if org.is_root(old_key) {
            continue;
        }
        let before = org.effective(old_key);
        let now = rebuilt.effective(new_key);
        let empty = FlatUserImpact {
            user: before.user.clone(),
            ..FlatUserImpact::default()
        };
        let got = reported.get(user.id.as_str()).copied().unwrap_or(&empty);
        let mut fail = |message: String| {
            out.push(violation(
                "rebuild",
                format!("{what}: user `{}`: {message}", user.id),
            ))
        };
        let decide = |e: &Entry| rebuilt.explain(new_key, &e.action, &e.resource).ok();
        for entry in &got.lost {
            if let Some(x) = decide(entry) {
                if x.decision == Decision::Allowed {
                    fail(format!(
                        "lost {} on {}, but the rebuilt organization allows it via {:?}",
                        entry.action, entry.resource, x.allow
                    ));
                }
            }
        }
        for entry in got.kept.iter().chain(&got.gained) {
            if let Some(x) = decide(entry) {
                if x.decision != Decision::Allowed || x.allow != entry.via {
                    fail(format!(
                        "{} on {} reported allowed via {:?}; rebuilt: {:?} via {:?}",
                        entry.action, entry.resource, entry.via, x.decision, x.allow
                    ));
                }
            }
        }
        let old = by_key(&before.allowed, &shared);
        let new = by_key(&now.allowed, &shared);
        let touched_before: BTreeSet<_> = got.lost.iter().chain(&got.kept).map(entry_key).collect();
        let touched_after: BTreeSet<_> =
            got.gained.iter().chain(&got.kept).map(entry_key).collect();
        // An entry one side lists under a key the other does not name is decided there by a
        // broader key: ask for the decision rather than look for the entry.
        let allowed_via = |o: &Org, u, (action, resource): (&str, &str)| {
            o.explain(u, action, resource)
                .ok()
                .map(|x| (x.decision == Decision::Allowed).then_some(x.allow))
        };
        for (key, via) in &old {
            if touched_before.contains(key) {
                continue;
            }
            if let Some(now) = allowed_via(&rebuilt, new_key, *key) {
                if now.as_deref() != Some(*via) {
                    fail(format!(
                        "{} on {} not reported, but rebuilt it is allowed via {now:?}, before via {via:?}",
                        key.0, key.1
                    ));
                }
            }
        }
        for (key, via) in &new {
            if touched_after.contains(key) {
                continue;
            }
            if let Some(was) = allowed_via(org, old_key, *key) {
                if was.as_deref() != Some(*via) {
                    fail(format!(
                        "{} on {} not reported, but rebuilt it is allowed via {via:?}, before via {was:?}",
                        key.0, key.1
                    ));
                }
            }
        }
    }
    out
}

/// The edge a removal takes away, by ids: a (holder kind, holder id) step followed by a
/// (kind, id) step, as paths spell it.
struct RemovedEdge {
    from: (StepKind, String),
    to: (StepKind, String),
}

impl RemovedEdge {
    fn of(org: &Org, change: &Change) -> Option<RemovedEdge> {
        let holder = |h: Holder| match h {
            Holder::User(u) => (StepKind::User, org.user_id(u).to_string()),
            Holder::Group(g) => (StepKind::Group, org.group_id(g).to_string()),
            Holder::Role(r) => (StepKind::Role, org.role_id(r).to_string()),
        };
        Some(match *change {
            Change::RemoveMember { group, user } => RemovedEdge {
                from: (StepKind::User, org.user_id(user).to_string()),
                to: (StepKind::Group, org.group_id(group).to_string()),
            },
            Change::DetachPolicy { policy, from } => RemovedEdge {
                from: holder(from),
                to: (StepKind::Policy, org.policy_id(policy).to_string()),
            },
            Change::DetachRole { role, from } => RemovedEdge {
                from: holder(match from {
                    Principal::User(u) => Holder::User(u),
                    Principal::Group(g) => Holder::Group(g),
                }),
                to: (StepKind::Role, org.role_id(role).to_string()),
            },
            _ => return None,
        })
    }

    /// Whether a path goes through this edge.
    fn in_path(&self, path: &[Step]) -> bool {
        let is = |step: &Step, (kind, id): &(StepKind, String)| {
            step.kind == *kind && step.id.as_deref() == Some(id.as_str())
        };
        path.windows(2)
            .any(|w| is(&w[0], &self.from) && is(&w[1], &self.to))
    }
}

/// Removing one edge (`remove_member`, `detach_policy` or `detach_role`) revokes only what came
/// through it: every lost entry had all its paths through the edge; every kept entry keeps
/// exactly its paths that avoid the edge (under nearest-wins, when all its paths went through
/// the edge, it is kept through Allows that were farther, and overridden, before); an allowed entry with no path through the edge is
/// neither lost nor kept; a gained entry was denied before only through the edge (a Deny that
/// went away); and an assumable role is lost only through a membership removed, and none is gained. A removal of
/// what is not there changes nothing. Other kinds of change are not the removal of one edge:
/// the check reports a violation saying so.
pub fn check_removal(org: &Org, spec: &ChangeSpec) -> Vec<Violation> {
    let change = match org.resolve(spec) {
        Ok(change) => change,
        Err(e) => {
            return vec![violation(
                "removal",
                format!("{spec:?} does not resolve: {e}"),
            )]
        }
    };
    let Some(edge) = RemovedEdge::of(org, &change) else {
        return vec![violation(
            "removal",
            format!("{spec:?} is not the removal of one edge"),
        )];
    };
    let what = show(std::slice::from_ref(spec));
    let impact = match org.simulate_with(
        &[change],
        &SimulateOptions {
            allow_noop: true,
            ..SimulateOptions::default()
        },
    ) {
        Ok(impact) => impact.flatten(),
        Err(e) => return vec![violation("removal", format!("{what}: {e}"))],
    };
    let mut out = Vec::new();
    if impact.changes.is_empty() && !impact.users.is_empty() {
        out.push(violation(
            "removal",
            format!("{what}: a removal of what is not there reports users"),
        ));
    }
    for got in &impact.users {
        let mut fail = |message: String| {
            out.push(violation(
                "removal",
                format!("{what}: user `{}`: {message}", got.user.id),
            ))
        };
        let Ok(key) = org.find_user(&got.user.id) else {
            fail("reported, but not a user of the organization".to_string());
            continue;
        };
        let before = org.effective(key);
        let allowed: BTreeMap<_, _> = before.allowed.iter().map(|e| (entry_key(e), e)).collect();
        let denied: BTreeMap<_, _> = before.denied.iter().map(|e| (entry_key(e), e)).collect();
        for entry in &got.lost {
            if !entry.via.iter().all(|p| edge.in_path(p)) {
                fail(format!(
                    "lost {} on {} though it had a path avoiding the edge: {:?}",
                    entry.action, entry.resource, entry.via
                ));
            }
        }
        for entry in &got.kept {
            let expected: Option<Vec<Path>> = allowed
                .get(&entry_key(entry))
                .map(|e| e.via.iter().filter(|p| !edge.in_path(p)).cloned().collect());
            let nearest_gone = expected.as_ref().is_some_and(Vec::is_empty)
                && org.precedence() == Precedence::NearestWins;
            if nearest_gone {
                // Every path that counted went through the edge: farther Allows, overridden
                // before, count now. Each must be one of those and avoid the edge.
                let farther = org
                    .explain(key, &entry.action, &entry.resource)
                    .map(|x| x.overridden_allow)
                    .unwrap_or_default();
                if !entry
                    .via
                    .iter()
                    .all(|p| farther.contains(p) && !edge.in_path(p))
                {
                    fail(format!(
                        "kept {} on {} via {:?}; the farther Allows before were {farther:?}",
                        entry.action, entry.resource, entry.via
                    ));
                }
            } else if expected.as_ref() != Some(&entry.via) {
                fail(format!(
                    "kept {} on {} via {:?}; its paths avoiding the edge were {expected:?}",
                    entry.action, entry.resource, entry.via
                ));
            }
        }
        let lost_or_kept: BTreeSet<_> = got.lost.iter().chain(&got.kept).map(entry_key).collect();
        for entry in &before.allowed {
            let through = entry.via.iter().filter(|p| edge.in_path(p)).count();
            if through == 0 && lost_or_kept.contains(&entry_key(entry)) {
                fail(format!(
                    "{} on {} had no path through the edge, yet is reported lost or kept",
                    entry.action, entry.resource
                ));
            }
            if through < entry.via.len()
                && got.lost.iter().any(|e| entry_key(e) == entry_key(entry))
            {
                fail(format!(
                    "{} on {} had a path avoiding the edge, yet is lost",
                    entry.action, entry.resource
                ));
            }
        }
        for entry in &got.gained {
            match denied.get(&entry_key(entry)) {
                Some(d) if d.via.iter().all(|p| edge.in_path(p)) => {}
                other => fail(format!(
                    "gained {} on {}, but its denial before was {:?}",
                    entry.action,
                    entry.resource,
                    other.map(|d| &d.via)
                )),
            }
        }
        if !got.assumable_gained.is_empty() {
            fail(format!(
                "a removal gains assumable roles: {:?}",
                got.assumable_gained
            ));
        }
        for role in &got.assumable_lost {
            if !role.via.iter().all(|p| edge.in_path(p)) {
                fail(format!(
                    "lost assumable role `{}` though it was reachable avoiding the edge: {:?}",
                    role.role.id, role.via
                ));
            }
        }
    }
    out
}

/// Every check of a change set: [`check_what_if`] and [`check_rebuild`] on the whole set, and
/// [`check_removal`] on each change that removes one edge, alone.
pub fn check_changes(
    org: &Org,
    snapshot: &Snapshot,
    catalogue: &Catalogue,
    specs: &[ChangeSpec],
) -> Vec<Violation> {
    let mut out = check_what_if(org, snapshot, catalogue, specs);
    out.extend(check_rebuild(org, snapshot, catalogue, specs));
    for spec in specs {
        if matches!(
            spec,
            ChangeSpec::RemoveMember { .. }
                | ChangeSpec::DetachPolicy { .. }
                | ChangeSpec::DetachRole { .. }
        ) {
            out.extend(check_removal(org, spec));
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Fuzz entry points
// ---------------------------------------------------------------------------------------------

/// The bodies of the fuzz targets in `fuzz/`, here so that `cargo test` can replay their corpus
/// without the fuzzer (`crates/core/tests/fuzz_corpus.rs`). Each takes the fuzzer's bytes and
/// returns the violations it finds; a panic inside is a finding too.
pub mod fuzz {
    use proptest::strategy::{Strategy, ValueTree};
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

    use super::{
        catalogue, check_changes, check_effective, check_user, violation, ChangeKnobs, OrgKnobs,
        Violation,
    };
    use crate::error::BuildError;
    use crate::model::{PolicyDocument, Snapshot};
    use crate::policy::{
        ActionPattern, ParsedStatement, ResourcePattern, MAX_PATTERNS, MAX_PATTERN_LEN,
        MAX_STATEMENTS,
    };
    use crate::{CompileOptions, Org, Precedence};

    /// Above this many users or statements, a loaded snapshot is checked for loading only: the
    /// reference is quadratic and a fuzzer wants thousands of runs a second.
    const SMALL: usize = 16;

    /// Bytes of pseudo-random tail after a fuzz input; see [`engine_case`]. 16 KiB proved too
    /// short: an input found by the fuzzer ran a sub-strategy's share dry.
    const TAIL: usize = 1024 * 1024;

    /// A snapshot without the values it keeps as written and never reads (`crawl`, trust
    /// `conditions`): JSON numbers in them need not survive a round trip bit for bit.
    fn without_opaque(mut s: Snapshot) -> Snapshot {
        s.crawl = None;
        for t in &mut s.role_trusts {
            t.conditions = None;
        }
        s
    }

    /// Bytes as a snapshot file (robustness.md R-JSON-08): loading returns `Ok` or `Err`,
    /// never panics; what loads survives a round trip through its JSON form; what compiles
    /// answers as the reference does, for every user of a small snapshot.
    pub fn snapshot(bytes: &[u8]) -> Vec<Violation> {
        let Ok(snapshot) = Snapshot::from_json_bytes(bytes) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let text = serde_json::to_string(&snapshot).expect("a snapshot serializes");
        match Snapshot::from_json_str(&text) {
            Ok(again) if without_opaque(again.clone()) == without_opaque(snapshot.clone()) => {}
            other => out.push(violation(
                "fuzz-snapshot",
                format!("round trip changed the snapshot: {other:?}"),
            )),
        }
        let catalogue = catalogue();
        let Ok(org) = Org::compile(&snapshot, &catalogue) else {
            return out;
        };
        let statements: usize = snapshot
            .policies
            .iter()
            .map(|p| p.policy_document.statement.as_slice().len())
            .sum();
        if snapshot.users.len() <= SMALL && statements <= SMALL {
            out.extend(check_effective(&org, &snapshot, &catalogue));
        }
        out
    }

    /// Whether `text` is an action pattern by the grammar of `docs/snapshot-format.md`, decided
    /// independently of `policy.rs`: `*`, `seg.*`, `seg.seg.*` or `seg.seg.seg`, a segment
    /// being one or more of `A-Z a-z 0-9 - _`; at most [`MAX_PATTERN_LEN`] bytes.
    pub fn action_grammar(text: &str) -> bool {
        if text.len() > MAX_PATTERN_LEN {
            return false;
        }
        let seg = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        if text == "*" {
            return true;
        }
        let parts: Vec<&str> = text.split('.').collect();
        match parts.as_slice() {
            [a, "*"] => seg(a),
            [a, b, "*"] => seg(a) && seg(b),
            [a, b, c] => seg(a) && seg(b) && seg(c),
            _ => false,
        }
    }

    /// Whether action pattern `pattern` covers universe element `element`, decided on the
    /// text: `*` covers all; `svc.*` covers what starts with `svc.`; a concrete action itself.
    pub fn action_covers(pattern: &str, element: &str) -> bool {
        match pattern.strip_suffix('*') {
            Some(prefix) => element.starts_with(prefix),
            None => pattern == element,
        }
    }

    /// Bytes as a policy document (R-POL-11, R-POL-10, R-SEM-08): parsing never panics; a
    /// document that parses survives a round trip; each action pattern is accepted exactly
    /// when the grammar says so, and covers exactly what the text rule says; the document
    /// compiles exactly when all its statements parse (the error naming the first bad one);
    /// and, attached to a user directly and through a group, it grants what the reference
    /// says.
    pub fn policy(bytes: &[u8]) -> Vec<Violation> {
        let Ok(document) = serde_json::from_slice::<PolicyDocument>(bytes) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let mut fail = |message: String| out.push(violation("fuzz-policy", message));
        let text = serde_json::to_string(&document).expect("a document serializes");
        match serde_json::from_str::<PolicyDocument>(&text) {
            Ok(again) if again == document => {}
            other => fail(format!("round trip changed the document: {other:?}")),
        }
        let statements = document.statement.as_slice();
        let count = statements.len();
        // Too many statements is the first fault; then the first statement that does not
        // parse or takes the document's patterns over the cap.
        let mut first_bad = (count > MAX_STATEMENTS).then_some(MAX_STATEMENTS);
        let mut patterns = 0;
        let mut valid = Vec::new();
        for (i, statement) in statements.iter().enumerate() {
            patterns += statement.action.as_slice().len() + statement.resource.as_slice().len();
            if patterns > MAX_PATTERNS && first_bad.is_none() {
                first_bad = Some(i);
            }
            for action in statement.action.as_slice() {
                let parsed = ActionPattern::parse(action);
                if parsed.is_ok() != action_grammar(action) {
                    fail(format!(
                        "action pattern `{}`: parser says {parsed:?}, grammar says {}",
                        action.escape_debug(),
                        action_grammar(action)
                    ));
                }
                if let Ok(p) = parsed {
                    valid.push(p);
                }
            }
            for resource in statement.resource.as_slice() {
                let _ = ResourcePattern::parse(resource);
            }
            if ParsedStatement::parse(statement).is_err() && first_bad.is_none() {
                first_bad = Some(i);
            }
        }
        for p in &valid {
            for e in &valid {
                if p.covers(e) != action_covers(p.as_str(), e.as_str()) {
                    fail(format!(
                        "`{p}` covers `{e}`: matcher and text rule disagree"
                    ));
                }
            }
        }
        let snapshot = Snapshot {
            format: crate::model::SNAPSHOT_FORMAT.to_string(),
            organization: crate::model::Organization {
                id: "org".into(),
                name: "Org".into(),
                root_user_id: None,
            },
            users: vec![crate::model::User {
                id: "u".into(),
                email: "u@x.example".into(),
                name: String::new(),
                service_user: false,
                suspended: false,
                policies: vec!["p".into()],
                roles: Vec::new(),
                acls: None,
                api_enabled: None,
            }],
            groups: vec![crate::model::Group {
                id: "g".into(),
                display_name: "G".into(),
                description: String::new(),
                members: vec!["u".into()],
                policies: vec!["p".into()],
                roles: Vec::new(),
            }],
            roles: Vec::new(),
            policies: vec![crate::model::Policy {
                id: "p".into(),
                name: "p".into(),
                description: String::new(),
                is_system_policy: false,
                policy_document: document,
            }],
            role_trusts: Vec::new(),
            crawl: None,
        };
        let catalogue = catalogue();
        match (Org::compile(&snapshot, &catalogue), first_bad) {
            (Ok(org), None) => {
                if count <= SMALL {
                    out.extend(check_user(&org, &snapshot, &catalogue, "u"));
                }
            }
            (Err(BuildError::Statement { statement, .. }), Some(bad)) if statement == bad => {}
            (result, bad) => out.push(violation(
                "fuzz-policy",
                format!(
                    "first bad statement {bad:?}, but compiling gives {:?}",
                    result.map(|_| ())
                ),
            )),
        }
        out
    }

    /// The organization and change set that `engine` derives from `bytes`: the kit's
    /// strategies with the default knobs, driven by the bytes as their source of randomness.
    pub fn engine_case(bytes: &[u8]) -> Option<(Snapshot, Vec<crate::ChangeSpec>)> {
        // The strategies read the bytes as they are, so that a small change of the input is a
        // small change of the case. Past their end comes a fixed pseudo-random tail: a stream
        // of zeros (what proptest gives once the bytes run out, in a sub-strategy's share of
        // them too) makes the rejection sampling of an integer range loop forever.
        static TAIL_BYTES: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
        let tail = TAIL_BYTES.get_or_init(|| {
            let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
            (0..TAIL / 8)
                .flat_map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x.to_le_bytes()
                })
                .collect()
        });
        let mut data = Vec::with_capacity(bytes.len() + tail.len());
        data.extend_from_slice(bytes);
        data.extend_from_slice(tail);
        let rng = TestRng::from_seed(RngAlgorithm::PassThrough, &data);
        let mut runner = TestRunner::new_with_rng(Config::default(), rng);
        let strategy =
            super::organization_and_changes(&OrgKnobs::default(), &ChangeKnobs::default());
        let tree = strategy.new_tree(&mut runner).ok()?;
        Some(tree.current())
    }

    /// Bytes as a random organization and change set ([`engine_case`]) (R-SEM-01, R-SEM-04,
    /// R-SEM-06): under each precedence, the engine equals the reference for every user, and
    /// the what-if of the change set passes [`check_changes`].
    pub fn engine(bytes: &[u8]) -> Vec<Violation> {
        let Some((snapshot, specs)) = engine_case(bytes) else {
            return Vec::new();
        };
        let catalogue = catalogue();
        let mut out = Vec::new();
        for precedence in [Precedence::DenyWins, Precedence::NearestWins] {
            let options = CompileOptions {
                precedence,
                ..Default::default()
            };
            let org = match Org::compile_with(&snapshot, &catalogue, &options) {
                Ok(org) => org,
                Err(e) => {
                    return vec![violation(
                        "fuzz-engine",
                        format!("a generated snapshot does not compile: {e}"),
                    )]
                }
            };
            out.extend(check_effective(&org, &snapshot, &catalogue));
            out.extend(check_changes(&org, &snapshot, &catalogue, &specs));
        }
        out
    }
}
