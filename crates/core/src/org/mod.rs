//! The compiled organization: dense integer ids, adjacency lists, and permission sets as bitsets
//! over the action universe. Built once from a [`Snapshot`]; every query takes `&self`.
//!
//! [`Org`]'s fields, [`Reverse`] and the nodes' adjacency lists are private to this module:
//! outside it, adjacency is read through a [`View`] (`view.rs`), the rest of the compiled data
//! through the accessors of `access.rs`.
//!
//! [`Snapshot`]: crate::model::Snapshot

use std::sync::atomic::{AtomicU32, Ordering as AtomicOrdering};
use std::sync::Arc;

use crate::bitset::{BitSet, ElementIx};
use crate::error::Diagnostic;
use crate::idx::{Arena, Idx, IdxRange, IdxVec};
use crate::model::RoleTrust;
use crate::policy::{ActionPattern, Effect, ResourcePattern};
use crate::report::{Step, StepKind};
use crate::trust::TrustContext;
pub(crate) use compile::compile_statement;
pub use lookup::edit_distance;
use lookup::Lookup;

mod access;
mod compile;
mod lookup;
mod view;

pub(crate) use view::View;

/// Which compiled organization a key belongs to: a number drawn once per [`Org::compile`], from
/// a counter shared by the process. A clone of an `Org` keeps its stamp (its keys are valid for
/// the clone, which holds the same entities).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Stamp(u32);

impl Stamp {
    /// A stamp no other organization of this process has (until the counter wraps, after
    /// 2^32 compilations).
    fn fresh() -> Stamp {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        Stamp(NEXT.fetch_add(1, AtomicOrdering::Relaxed))
    }
}

macro_rules! keys {
    ($($(#[$doc:meta])* $key:ident($ix:ident);)*) => {$(
        $(#[$doc])*
        ///
        /// A key is valid only for the `Org` that made it (and its clones): it carries that
        /// organization's stamp, and every method of [`Org`] that takes a key panics when given
        /// one of another organization, rather than answering for whichever entity has the same
        /// position there.
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $key {
            org: Stamp,
            ix: $ix,
        }

        // Keys print as their kind and position (`UserKey(3)`), as they always have.
        impl std::fmt::Debug for $key {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}({})", stringify!($key), self.ix.raw())
            }
        }
    )*};
}

keys! {
    /// A user of a compiled [`Org`], found with [`Org::find_user`] or listed by [`Org::users`].
    UserKey(UserIx);
    /// A group of a compiled [`Org`], found with [`Org::find_group`] or listed by [`Org::groups`].
    GroupKey(GroupIx);
    /// A role of a compiled [`Org`], found with [`Org::find_role`] or listed by [`Org::roles`].
    RoleKey(RoleIx);
    /// A policy of a compiled [`Org`], found with [`Org::find_policy`] or listed by
    /// [`Org::policies`].
    PolicyKey(PolicyIx);
    /// A role trust of a compiled [`Org`], found with [`Org::find_trust`] or listed by
    /// [`Org::trusts`].
    TrustKey(TrustIx);
}

/// The index of a user in [`Org`]'s arena of users.
pub(crate) type UserIx = Idx<UserNode>;

/// The index of a group.
pub(crate) type GroupIx = Idx<GroupNode>;

/// The index of a role.
pub(crate) type RoleIx = Idx<RoleNode>;

/// The index of a policy.
pub(crate) type PolicyIx = Idx<PolicyNode>;

/// The index of a role trust.
pub(crate) type TrustIx = Idx<TrustNode>;

/// The index of a statement: of the organization's own, or (past them) of an overlay's
/// replacement documents.
pub(crate) type StatementIx = Idx<StatementNode>;

#[derive(Debug, Clone)]
pub(crate) struct UserNode {
    /// Shared with reports (`UserSummary`, the user's path step), which copy no string.
    pub(crate) email: Arc<str>,
    pub(crate) name: Arc<str>,
    pub(crate) service_user: bool,
    pub(crate) suspended: bool,
    policies: Vec<PolicyIx>,
    /// Every attached role; assumable ones grant nothing (a diagnostic says so).
    roles: Vec<RoleIx>,
    /// Groups the user is a member of, in snapshot order.
    groups: Vec<GroupIx>,
    /// Legacy ACLs (`users[].acls`), sorted, each once; empty when none or not known.
    pub(crate) legacy_acls: Vec<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct GroupNode {
    pub(crate) display_name: String,
    policies: Vec<PolicyIx>,
    /// Every attached role; assumable ones grant nothing.
    roles: Vec<RoleIx>,
}

#[derive(Debug, Clone)]
pub(crate) struct RoleNode {
    pub(crate) name: String,
    pub(crate) assignable: bool,
    policies: Vec<PolicyIx>,
}

#[derive(Debug, Clone)]
pub(crate) struct PolicyNode {
    pub(crate) name: String,
    pub(crate) system: bool,
    pub(crate) statements: IdxRange<StatementNode>,
}

#[derive(Debug, Clone)]
pub(crate) struct StatementNode {
    /// Index of the statement inside its policy's document.
    pub(crate) index: u32,
    pub(crate) effect: Effect,
    /// The action patterns as written, for universe elements added after compiling.
    pub(crate) patterns: Vec<ActionPattern>,
    /// The universe elements the statement's action patterns cover.
    pub(crate) actions: BitSet,
    /// The same elements as a list, when they are few (most statements name a handful of
    /// actions): masked walks then skip the bitset's empty words.
    pub(crate) few: Option<Box<[ElementIx]>>,
    pub(crate) resources: Vec<ResourcePattern>,
    /// Per resource of `resources`, its id: the rank of its text among the organization's
    /// distinct non-`*` resources, so that ids sort as the patterns do. [`NO_RESOURCE_ID`] for
    /// `*`, and for every resource of a replacement document's statement (compiled into an
    /// overlay: never judged word by word, where ids are read).
    pub(crate) resource_ids: Box<[u32]>,
    /// Some resource is `*`: the statement covers every key.
    pub(crate) any_resource: bool,
    /// Some resource is not `*`: the statement names resource keys of its own.
    pub(crate) scoped: bool,
    /// Some resource is a typed wildcard (`type:*`): the statement covers keys it does not
    /// name.
    pub(crate) typed_resource: bool,
}

/// The resource id of `*`, and of an overlay statement's resources ([`StatementNode`]).
pub(crate) const NO_RESOURCE_ID: u32 = u32::MAX;

impl StatementNode {
    pub(crate) fn covers_resource(&self, key: &ResourcePattern) -> bool {
        self.any_resource || self.resources.iter().any(|r| r.covers(key))
    }
}

#[derive(Debug, Clone)]
pub(crate) struct TrustNode {
    pub(crate) id: String,
    pub(crate) role: RoleIx,
    pub(crate) trust_type: String,
    pub(crate) user: Option<UserIx>,
    pub(crate) group: Option<GroupIx>,
    /// A principal outside the organization's users (an OIDC issuer, another organization).
    pub(crate) outside: Option<Outsider>,
    pub(crate) conditions: Option<serde_json::Value>,
    pub(crate) valid_until: Option<String>,
    /// The condition that fails in [`CompileOptions::trust_context`], if one does: the trust
    /// is then not assumable.
    pub(crate) refused: Option<String>,
}

/// A trusted principal that is not one of the organization's users or groups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Outsider {
    /// `oidc_issuer` or `organization`, as reports name it.
    pub(crate) kind: &'static str,
    pub(crate) id: String,
}

impl Outsider {
    fn of(trust: &RoleTrust) -> Option<Outsider> {
        let (kind, id) = match (&trust.oidc_issuer_id, &trust.trusted_organization_id) {
            (Some(id), _) => ("oidc_issuer", id),
            (None, Some(id)) => ("organization", id),
            (None, None) => return None,
        };
        Some(Outsider {
            kind,
            id: id.clone(),
        })
    }
}

/// An assumed-role session: it lasts until it expires, whatever happens to the trust.
#[derive(Debug, Clone)]
pub(crate) struct SessionNode {
    pub(crate) user: UserIx,
    pub(crate) role: RoleIx,
    pub(crate) name: Option<String>,
    pub(crate) assumed_at: Option<String>,
    pub(crate) expires_at: Option<String>,
}

/// The sparse side of a pre-folded set: the statements with a resource other than `*`,
/// sorted, without repeats. The dense side (Allow and Deny on `*`) lives in `Org::folded_bits`.
#[derive(Debug, Clone, Default)]
struct Folded {
    scoped: Vec<StatementIx>,
}

/// Who holds what: the attachment lists read backwards.
#[derive(Debug, Clone, Default)]
struct Reverse {
    group_members: IdxVec<GroupNode, Vec<UserIx>>,
    role_users: IdxVec<RoleNode, Vec<UserIx>>,
    role_groups: IdxVec<RoleNode, Vec<GroupIx>>,
    policy_users: IdxVec<PolicyNode, Vec<UserIx>>,
    policy_groups: IdxVec<PolicyNode, Vec<GroupIx>>,
    policy_roles: IdxVec<PolicyNode, Vec<RoleIx>>,
    /// The trusts naming each user, and each group.
    user_trusts: IdxVec<UserNode, Vec<TrustIx>>,
    group_trusts: IdxVec<GroupNode, Vec<TrustIx>>,
}

/// Which statement wins when an Allow and a Deny both cover an (action, resource key) of a user.
///
/// Vultr does not document the precedence (open question Q12 of the reference; see
/// `docs/semantics.md` §4), so it is one setting, chosen when the organization is compiled, and
/// every answer (effective, explain, who-can, decide, the access matrix, what-if, diff) follows
/// it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Precedence {
    /// An explicit Deny on any of the user's paths overrides every Allow (the AWS rule). The
    /// default.
    #[default]
    DenyWins,
    /// The most specific attachment decides: only the statements at the smallest distance from
    /// the user count, and among them a Deny overrides an Allow. The distance is the number of
    /// hops from the user to the policy: 1 for a policy attached to the user, 2 through a role of
    /// the user or a group of the user, 3 through a role of one of the user's groups.
    NearestWins,
}

/// How to compile an organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CompileOptions {
    /// The rule between Allow and Deny.
    pub precedence: Precedence,
    /// When and from where roles would be assumed: a trust whose conditions fail in this
    /// context is not assumable. Empty by default: no condition is judged.
    pub trust_context: TrustContext,
}

/// How many entities of each kind an organization has: [`Org::counts`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EntityCounts {
    /// Users.
    pub users: usize,
    /// Groups.
    pub groups: usize,
    /// Roles.
    pub roles: usize,
    /// Policies.
    pub policies: usize,
}

/// An organization compiled for queries.
///
/// Build it with [`Org::compile`] (or [`Org::compile_with`]); ask it with [`Org::effective`], [`Org::explain`] and
/// [`Org::simulate`].
///
/// # Panics
///
/// Entities are named by keys ([`UserKey`], [`GroupKey`], [`RoleKey`], [`PolicyKey`],
/// [`TrustKey`]), which belong to the organization that made them. Every method that takes a
/// key, directly or inside a [`Change`](crate::Change), panics when given a key of another
/// organization (even one compiled from the same snapshot): that is a bug in the caller, and
/// answering would silently name whichever entity sits at the same position.
#[derive(Debug, Clone)]
pub struct Org {
    org_id: String,
    org_name: String,
    root: Option<UserIx>,
    users: Arena<UserNode>,
    groups: Arena<GroupNode>,
    roles: Arena<RoleNode>,
    policies: Arena<PolicyNode>,
    statements: IdxVec<StatementNode, StatementNode>,
    trusts: IdxVec<TrustNode, TrustNode>,
    /// Assumed-role sessions held when the snapshot was taken, in snapshot order.
    sessions: Vec<SessionNode>,
    /// The action universe, sorted: catalogue actions, literal actions of the snapshot, and the
    /// wildcards of the snapshot (each standing for the actions it covers that are not named).
    universe: Vec<ActionPattern>,
    /// Reverse adjacency, for finding the users a change can reach.
    reverse: Reverse,
    /// Allow and Deny sets on the `*` resource, folded once per policy, role and group (in that
    /// order: set `p`, then `policies + r`, then `policies + roles + g`), each `2 × words` long:
    /// the Allow words, then the Deny words. One flat array, so that a user's OR pass reads
    /// memory in order.
    folded_bits: Vec<u64>,
    /// The sparse side of each folded set, indexed like `folded_bits`.
    folded: Vec<Folded>,
    diagnostics: Vec<Diagnostic>,
    /// The path step of every entity, built once: paths share their strings.
    steps: Steps,
    /// What reports read of statements and elements, built once.
    report_cache: ReportCache,
    /// The rule between Allow and Deny, for every answer.
    precedence: Precedence,
    /// Exact-match indexes for the `find_*` lookups.
    lookup: Lookup,
    /// The stamp of this organization's keys.
    stamp: Stamp,
    /// Statements with keys iamsim does not evaluate, from `crawl.unevaluated_statements`.
    conditionals: Vec<crate::conditional::ConditionalNode>,
    /// For an organization compiled with the entities a change set creates
    /// (`Org::compile_changes`): where each kind's created entities start. `None` otherwise.
    created_from: Option<crate::change::CreatedFrom>,
}

/// Per group, role and policy, its step's rank among the steps of its kind.
pub(crate) type Ranks = (
    IdxVec<GroupNode, u32>,
    IdxVec<RoleNode, u32>,
    IdxVec<PolicyNode, u32>,
);

/// What a report reads of the organization's own statements and elements, over and over:
/// computed once when compiling.
#[derive(Debug, Clone, Default)]
pub(crate) struct ReportCache {
    /// Per statement, for an Allow, which 64-element words of the universe its actions touch
    /// (one bit per word, every bit past 64 words); 0 for a Deny.
    pub(crate) allow_words: IdxVec<StatementNode, u64>,
    /// Per universe element, its name as reports write it.
    pub(crate) action_names: Vec<std::sync::Arc<str>>,
    /// No policy, role or group marked: the carriers of every overlay that changes only
    /// users' own edges and states, shared rather than worked out per what-if.
    pub(crate) no_carriers: std::sync::Arc<crate::overlay::Carriers>,
}

impl ReportCache {
    fn new(org: &Org) -> ReportCache {
        ReportCache {
            allow_words: org
                .statements
                .iter()
                .map(|(_, node)| match node.effect {
                    Effect::Allow => node.actions.word_summary(),
                    Effect::Deny => 0,
                })
                .collect(),
            action_names: org.universe.iter().map(|e| e.to_string().into()).collect(),
            no_carriers: std::sync::Arc::new(crate::overlay::Carriers {
                policies: vec![false; org.policy_nodes().len()],
                roles: vec![false; org.role_nodes().len()],
                groups: vec![false; org.group_nodes().len()],
            }),
        }
    }
}

/// Path steps per entity, indexed like the entities.
#[derive(Debug, Clone)]
pub(crate) struct Steps {
    users: IdxVec<UserNode, Step>,
    groups: IdxVec<GroupNode, Step>,
    roles: IdxVec<RoleNode, Step>,
    policies: IdxVec<PolicyNode, Step>,
    organization: Step,
    /// Per group, role and policy, its step's rank among the steps of its kind, in `Step`'s
    /// order: paths compare as their steps do, by integers (`impact.rs` sorts paths by them).
    ranks: Ranks,
}

/// The step of an entity of an entity kind.
fn entity_step(kind: StepKind, id: &str, name: &str) -> Step {
    Step::entity(kind, id, name).expect("an entity kind")
}

impl Steps {
    /// A user's step.
    #[inline]
    pub(crate) fn user(&self, user: UserIx) -> &Step {
        &self.users[user]
    }

    /// A user's id, as its step holds it.
    pub(crate) fn user_id(&self, user: UserIx) -> &Arc<str> {
        match &self.users[user] {
            Step::User { id, .. } => id,
            _ => unreachable!("a user's step is a user step"),
        }
    }

    /// A group's step.
    #[inline]
    pub(crate) fn group(&self, group: GroupIx) -> &Step {
        &self.groups[group]
    }

    /// A role's step.
    #[inline]
    pub(crate) fn role(&self, role: RoleIx) -> &Step {
        &self.roles[role]
    }

    /// A policy's step.
    #[inline]
    pub(crate) fn policy(&self, policy: PolicyIx) -> &Step {
        &self.policies[policy]
    }

    /// The organization's step (the root user's one path).
    #[inline]
    pub(crate) fn organization(&self) -> &Step {
        &self.organization
    }

    /// The ranks of the group, role and policy steps.
    #[inline]
    pub(crate) fn ranks(&self) -> &Ranks {
        &self.ranks
    }

    /// Placeholder steps, for an organization being compiled.
    fn empty() -> Steps {
        Steps {
            users: IdxVec::default(),
            groups: IdxVec::default(),
            roles: IdxVec::default(),
            policies: IdxVec::default(),
            organization: Step::statement(0),
            ranks: Default::default(),
        }
    }

    /// The step of every entity of `org`, and their ranks.
    fn new(org: &Org) -> Steps {
        let mut steps = Steps {
            users: org
                .users
                .iter()
                .map(|(_, id, u)| Step::User {
                    id: Arc::from(id),
                    name: u.email.clone(),
                })
                .collect(),
            groups: org
                .groups
                .iter()
                .map(|(_, id, g)| entity_step(StepKind::Group, id, &g.display_name))
                .collect(),
            roles: org
                .roles
                .iter()
                .map(|(_, id, r)| entity_step(StepKind::Role, id, &r.name))
                .collect(),
            policies: org
                .policies
                .iter()
                .map(|(_, id, p)| entity_step(StepKind::Policy, id, &p.name))
                .collect(),
            organization: entity_step(StepKind::Organization, &org.org_id, &org.org_name),
            ranks: Default::default(),
        };
        steps.ranks = (
            step_ranks(&steps.groups),
            step_ranks(&steps.roles),
            step_ranks(&steps.policies),
        );
        steps
    }
}

/// The rank of each step among `steps` in `Step`'s order.
fn step_ranks<T>(steps: &IdxVec<T, Step>) -> IdxVec<T, u32> {
    let all: Vec<&Step> = steps.iter().map(|(_, step)| step).collect();
    let mut order: Vec<usize> = (0..all.len()).collect();
    order.sort_by(|&a, &b| all[a].cmp(all[b]));
    let mut ranks = vec![0u32; all.len()];
    for (rank, &i) in order.iter().enumerate() {
        ranks[i] = u32::try_from(rank).expect("fewer than 2^32 entities of a kind");
    }
    IdxVec::from(ranks)
}

impl Org {
    /// Words in one half (Allow or Deny) of a folded set.
    pub(crate) fn set_words(&self) -> usize {
        self.universe.len().div_ceil(64)
    }

    /// The folded set of a policy, role or group: `(allow, deny)` words.
    pub(crate) fn folded_set(&self, set: usize) -> (&[u64], &[u64]) {
        let words = self.set_words();
        self.folded_bits[set * 2 * words..(set + 1) * 2 * words].split_at(words)
    }

    /// The set index of a role's folded set.
    pub(crate) fn role_set(&self, role: RoleIx) -> usize {
        self.policies.len() + role.index()
    }

    /// The set index of a group's folded set.
    pub(crate) fn group_set(&self, group: GroupIx) -> usize {
        self.policies.len() + self.roles.len() + group.index()
    }

    /// What compiling found worth a look, sorted by code, then path.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }

    /// The rule between Allow and Deny it was compiled with.
    pub fn precedence(&self) -> Precedence {
        self.precedence
    }

    /// The organization's id.
    pub fn id(&self) -> &str {
        &self.org_id
    }

    /// The organization's name.
    pub fn name(&self) -> &str {
        &self.org_name
    }

    /// How many users, groups, roles and policies the organization has.
    pub fn counts(&self) -> EntityCounts {
        EntityCounts {
            users: self.users.len(),
            groups: self.groups.len(),
            roles: self.roles.len(),
            policies: self.policies.len(),
        }
    }

    /// The action universe, sorted: concrete actions, and wildcards standing for the actions they
    /// cover that the catalogue does not name.
    pub fn universe(&self) -> impl Iterator<Item = &ActionPattern> {
        self.universe.iter()
    }

    /// Every user, in snapshot order.
    pub fn users(&self) -> impl Iterator<Item = UserKey> + '_ {
        self.users.indices().map(|u| self.user_key(u))
    }

    /// Every group, in snapshot order.
    pub fn groups(&self) -> impl Iterator<Item = GroupKey> + '_ {
        self.groups.indices().map(|g| self.group_key(g))
    }

    /// Every role, in snapshot order.
    pub fn roles(&self) -> impl Iterator<Item = RoleKey> + '_ {
        self.roles.indices().map(|r| self.role_key(r))
    }

    /// Every policy, in snapshot order.
    pub fn policies(&self) -> impl Iterator<Item = PolicyKey> + '_ {
        self.policies.indices().map(|p| self.policy_key(p))
    }

    /// Every role trust that compiled (naming an assumable role that exists), in snapshot order.
    pub fn trusts(&self) -> impl Iterator<Item = TrustKey> + '_ {
        Idx::all(self.trusts.len()).map(|t| self.trust_key(t))
    }

    /// A user's id.
    pub fn user_id(&self, user: UserKey) -> &str {
        self.users.id(self.user_ix(user))
    }

    /// A user's email.
    pub fn user_email(&self, user: UserKey) -> &str {
        &self.users[self.user_ix(user)].email
    }

    /// A group's id.
    pub fn group_id(&self, group: GroupKey) -> &str {
        self.groups.id(self.group_ix(group))
    }

    /// A role's id.
    pub fn role_id(&self, role: RoleKey) -> &str {
        self.roles.id(self.role_ix(role))
    }

    /// A policy's id.
    pub fn policy_id(&self, policy: PolicyKey) -> &str {
        self.policies.id(self.policy_ix(policy))
    }

    pub(crate) fn role_ref(&self, role: RoleIx) -> crate::report::EntityRef {
        crate::report::EntityRef {
            id: self.roles.id(role).to_string(),
            name: self.roles[role].name.clone(),
        }
    }

    pub(crate) fn policy_ref(&self, policy: PolicyIx) -> crate::report::EntityRef {
        crate::report::EntityRef {
            id: self.policies.id(policy).to_string(),
            name: self.policies[policy].name.clone(),
        }
    }

    /// Whether `user` is a member of `group`.
    pub fn is_member(&self, user: UserKey, group: GroupKey) -> bool {
        self.users[self.user_ix(user)]
            .groups
            .contains(&self.group_ix(group))
    }

    /// Whether `user` is the organization's root user.
    pub fn is_root(&self, user: UserKey) -> bool {
        self.root == Some(self.user_ix(user))
    }

    /// A group's display name.
    pub fn group_name(&self, group: GroupKey) -> &str {
        &self.groups[self.group_ix(group)].display_name
    }

    /// A role's name.
    pub fn role_name(&self, role: RoleKey) -> &str {
        &self.roles[self.role_ix(role)].name
    }

    /// Whether a role is assignable (attached, it grants standing access) rather than
    /// assumable (it grants access only to whom a trust lets assume it).
    pub fn role_assignable(&self, role: RoleKey) -> bool {
        self.roles[self.role_ix(role)].assignable
    }

    /// A policy's name.
    pub fn policy_name(&self, policy: PolicyKey) -> &str {
        &self.policies[self.policy_ix(policy)].name
    }

    /// A role trust's id.
    pub fn trust_id(&self, trust: TrustKey) -> &str {
        &self.trusts[self.trust_ix(trust)].id
    }

    /// The role a trust lets its principal assume.
    pub fn trust_role(&self, trust: TrustKey) -> RoleKey {
        self.role_key(self.trusts[self.trust_ix(trust)].role)
    }

    // The attachments of the organization as compiled (no what-if): each list as the snapshot
    // gives it, less the ids that name nothing and the repeats (both reported by
    // `diagnostics`).

    /// The groups `user` is a member of, in the order of the snapshot's groups.
    ///
    /// ```
    /// use iamsim_core::{Catalogue, Org, Snapshot};
    ///
    /// let snapshot = Snapshot::from_json_str(r#"{
    ///   "format": "iamsim.snapshot.v1", "organization": {"id": "org-1", "name": "Acme"},
    ///   "users": [{"id": "u-ana", "email": "ana@example.com"}, {"id": "u-ben", "email": "ben@example.com"}],
    ///   "groups": [
    ///     {"id": "g-ops", "display_name": "Ops", "members": ["u-ben", "u-ana"], "roles": ["r-deploy"]},
    ///     {"id": "g-dev", "display_name": "Dev", "members": ["u-ana"]}
    ///   ],
    ///   "roles": [{"id": "r-deploy", "name": "deploy", "role_type": "assignable"}],
    ///   "policies": []
    /// }"#)?;
    /// let org = Org::compile(&snapshot, &Catalogue::bundled())?;
    /// let ana = org.find_user("ana@example.com")?;
    /// let ops = org.find_group("Ops")?;
    ///
    /// let groups: Vec<&str> = org.user_groups(ana).map(|g| org.group_name(g)).collect();
    /// assert_eq!(groups, ["Ops", "Dev"]);
    /// // Members in the order of the snapshot's users.
    /// let members: Vec<&str> = org.group_members(ops).map(|u| org.user_id(u)).collect();
    /// assert_eq!(members, ["u-ana", "u-ben"]);
    /// let deploy = org.find_role("deploy")?;
    /// assert_eq!(org.group_roles(ops).collect::<Vec<_>>(), [deploy]);
    /// assert_eq!(org.role_groups(deploy).collect::<Vec<_>>(), [ops]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn user_groups(&self, user: UserKey) -> impl Iterator<Item = GroupKey> + '_ {
        let groups = &self.users[self.user_ix(user)].groups;
        groups.iter().map(|&g| self.group_key(g))
    }

    /// The members of `group`, in the order of the snapshot's users.
    pub fn group_members(&self, group: GroupKey) -> impl Iterator<Item = UserKey> + '_ {
        let members = &self.reverse.group_members[self.group_ix(group)];
        members.iter().map(|&u| self.user_key(u))
    }

    /// The roles attached to `user` directly, in the user's order. Assumable ones are listed
    /// too, though attached they grant nothing (see [`Org::role_assignable`]).
    pub fn user_roles(&self, user: UserKey) -> impl Iterator<Item = RoleKey> + '_ {
        let roles = &self.users[self.user_ix(user)].roles;
        roles.iter().map(|&r| self.role_key(r))
    }

    /// The roles attached to `group`, in the group's order, assumable ones included.
    pub fn group_roles(&self, group: GroupKey) -> impl Iterator<Item = RoleKey> + '_ {
        let roles = &self.groups[self.group_ix(group)].roles;
        roles.iter().map(|&r| self.role_key(r))
    }

    /// The policies attached to `user` directly, in the user's order.
    pub fn user_policies(&self, user: UserKey) -> impl Iterator<Item = PolicyKey> + '_ {
        let policies = &self.users[self.user_ix(user)].policies;
        policies.iter().map(|&p| self.policy_key(p))
    }

    /// The policies attached to `group`, in the group's order.
    pub fn group_policies(&self, group: GroupKey) -> impl Iterator<Item = PolicyKey> + '_ {
        let policies = &self.groups[self.group_ix(group)].policies;
        policies.iter().map(|&p| self.policy_key(p))
    }

    /// The policies attached to `role`, in the role's order.
    pub fn role_policies(&self, role: RoleKey) -> impl Iterator<Item = PolicyKey> + '_ {
        let policies = &self.roles[self.role_ix(role)].policies;
        policies.iter().map(|&p| self.policy_key(p))
    }

    /// The users `role` is attached to directly, in the order of the snapshot's users.
    pub fn role_users(&self, role: RoleKey) -> impl Iterator<Item = UserKey> + '_ {
        let users = &self.reverse.role_users[self.role_ix(role)];
        users.iter().map(|&u| self.user_key(u))
    }

    /// The groups `role` is attached to, in the order of the snapshot's groups.
    pub fn role_groups(&self, role: RoleKey) -> impl Iterator<Item = GroupKey> + '_ {
        let groups = &self.reverse.role_groups[self.role_ix(role)];
        groups.iter().map(|&g| self.group_key(g))
    }

    /// The users `policy` is attached to directly, in the order of the snapshot's users.
    pub fn policy_users(&self, policy: PolicyKey) -> impl Iterator<Item = UserKey> + '_ {
        let users = &self.reverse.policy_users[self.policy_ix(policy)];
        users.iter().map(|&u| self.user_key(u))
    }

    /// The groups `policy` is attached to, in the order of the snapshot's groups.
    pub fn policy_groups(&self, policy: PolicyKey) -> impl Iterator<Item = GroupKey> + '_ {
        let groups = &self.reverse.policy_groups[self.policy_ix(policy)];
        groups.iter().map(|&g| self.group_key(g))
    }

    /// The roles `policy` is attached to, in the order of the snapshot's roles.
    pub fn policy_roles(&self, policy: PolicyKey) -> impl Iterator<Item = RoleKey> + '_ {
        let roles = &self.reverse.policy_roles[self.policy_ix(policy)];
        roles.iter().map(|&r| self.role_key(r))
    }

    /// The role trusts naming `user` as their principal, in snapshot order.
    pub fn user_trusts(&self, user: UserKey) -> impl Iterator<Item = TrustKey> + '_ {
        let trusts = &self.reverse.user_trusts[self.user_ix(user)];
        trusts.iter().map(|&t| self.trust_key(t))
    }

    /// The role trusts naming `group` as their principal, in snapshot order.
    pub fn group_trusts(&self, group: GroupKey) -> impl Iterator<Item = TrustKey> + '_ {
        let trusts = &self.reverse.group_trusts[self.group_ix(group)];
        trusts.iter().map(|&t| self.trust_key(t))
    }

    // INVARIANT: keys belong to one organization. The methods below are the one place where
    // keys become indices and back: a key from another organization is refused here, never
    // read as a position of this one.

    /// Panics unless `stamp` is this organization's.
    #[track_caller]
    fn check(&self, stamp: Stamp, kind: &str) {
        assert!(
            stamp == self.stamp,
            "a {kind} of another organization: keys are valid only for the `Org` that made them"
        );
    }

    #[track_caller]
    pub(crate) fn user_ix(&self, key: UserKey) -> UserIx {
        self.check(key.org, "`UserKey`");
        key.ix
    }

    #[track_caller]
    pub(crate) fn group_ix(&self, key: GroupKey) -> GroupIx {
        self.check(key.org, "`GroupKey`");
        key.ix
    }

    #[track_caller]
    pub(crate) fn role_ix(&self, key: RoleKey) -> RoleIx {
        self.check(key.org, "`RoleKey`");
        key.ix
    }

    #[track_caller]
    pub(crate) fn policy_ix(&self, key: PolicyKey) -> PolicyIx {
        self.check(key.org, "`PolicyKey`");
        key.ix
    }

    #[track_caller]
    pub(crate) fn trust_ix(&self, key: TrustKey) -> TrustIx {
        self.check(key.org, "`TrustKey`");
        key.ix
    }

    pub(crate) fn user_key(&self, ix: UserIx) -> UserKey {
        UserKey {
            org: self.stamp,
            ix,
        }
    }

    pub(crate) fn group_key(&self, ix: GroupIx) -> GroupKey {
        GroupKey {
            org: self.stamp,
            ix,
        }
    }

    pub(crate) fn role_key(&self, ix: RoleIx) -> RoleKey {
        RoleKey {
            org: self.stamp,
            ix,
        }
    }

    pub(crate) fn policy_key(&self, ix: PolicyIx) -> PolicyKey {
        PolicyKey {
            org: self.stamp,
            ix,
        }
    }

    pub(crate) fn trust_key(&self, ix: TrustIx) -> TrustKey {
        TrustKey {
            org: self.stamp,
            ix,
        }
    }
}
