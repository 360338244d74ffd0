//! The compiled organization: dense integer ids, adjacency lists, and permission sets as bitsets
//! over the action universe. Built once from a [`Snapshot`]; every query takes `&self`.
//!
//! [`Org`]'s fields, [`Reverse`] and the nodes' adjacency lists are private to this module:
//! outside it, adjacency is read through a [`View`] (`view.rs`), the rest of the compiled data
//! through the accessors of `access.rs`.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicU32, Ordering as AtomicOrdering};

use crate::bitset::{BitSet, ElementIx};
use crate::catalogue::Catalogue;
use crate::error::{BuildError, Diagnostic, EntityKind, LookupError};
use crate::idx::{Arena, Idx, IdxRange, IdxVec};
use crate::model::{RoleTrust, RoleType, Snapshot};
use crate::policy::{
    parse_document_with, ActionPattern, Effect, ParsedStatement, PatternMemo, ResourcePattern,
};
use crate::report::{Step, StepKind};
use crate::trust::TrustContext;

mod access;
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
    pub(crate) email: String,
    pub(crate) name: String,
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
    /// Some resource is `*`: the statement covers every key.
    pub(crate) any_resource: bool,
    /// Some resource is not `*`: the statement names resource keys of its own.
    pub(crate) scoped: bool,
}

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

/// `id` looked up in `index`; an id that names no `kind` is a `dangling-reference` diagnostic
/// at `path`, its message ending with `consequence`.
fn lookup(
    diagnostics: &mut Vec<Diagnostic>,
    path: String,
    id: &str,
    index: &IdIndex,
    kind: &str,
    consequence: &str,
) -> Option<usize> {
    let found = index.get(id).copied();
    if found.is_none() {
        diagnostics.push(Diagnostic {
            code: "dangling-reference",
            path,
            message: format!("no {kind} has id `{id}`; {consequence}"),
        });
    }
    found
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

/// The positions of the entities that share one key, in snapshot order, by the key's hash.
///
/// Keyed by a hash rather than the key itself, so that building the index copies no string
/// (compiling 100,000 users would otherwise copy every email), and one entity per key, the
/// common case, needs no list. A hash names candidates only; the caller checks each against
/// the entity itself, so a collision costs a comparison, never a wrong answer.
#[derive(Debug, Clone)]
struct Positions<T>(HashMap<u64, Hits<T>>);

#[derive(Debug, Clone)]
enum Hits<T> {
    One(Idx<T>),
    Many(Vec<Idx<T>>),
}

impl<T> Default for Positions<T> {
    fn default() -> Positions<T> {
        Positions(HashMap::new())
    }
}

impl<T> Positions<T> {
    fn insert(&mut self, key: &str, position: Idx<T>) {
        self.0
            .entry(key_hash(key))
            .and_modify(|hits| match hits {
                Hits::One(first) => *hits = Hits::Many(vec![*first, position]),
                Hits::Many(all) => all.push(position),
            })
            .or_insert(Hits::One(position));
    }

    /// The candidates for `key`, in snapshot order.
    fn get(&self, key: &str) -> &[Idx<T>] {
        match self.0.get(&key_hash(key)) {
            None => &[],
            Some(Hits::One(one)) => std::slice::from_ref(one),
            Some(Hits::Many(all)) => all,
        }
    }
}

/// A fixed hash of a key (SipHash with zero keys): the same for the same text in one process.
fn key_hash(key: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::hash::DefaultHasher::new();
    key.hash(&mut hasher);
    hasher.finish()
}

/// `text` with ASCII letters lowercased, borrowed when it has no uppercase ASCII letter.
fn ascii_lower(text: &str) -> Cow<'_, str> {
    if text.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(text.to_ascii_lowercase())
    } else {
        Cow::Borrowed(text)
    }
}

/// Entities by name: as written, and lowercased (Unicode), for [`find_named`].
#[derive(Debug, Clone)]
pub(crate) struct NameIndex<T> {
    exact: Positions<T>,
    lower: Positions<T>,
}

impl<T> Default for NameIndex<T> {
    fn default() -> NameIndex<T> {
        NameIndex {
            exact: Positions::default(),
            lower: Positions::default(),
        }
    }
}

impl<T> NameIndex<T> {
    fn new<'a>(names: impl Iterator<Item = (Idx<T>, &'a str)>) -> NameIndex<T> {
        let mut index = NameIndex::default();
        for (i, name) in names {
            index.exact.insert(name, i);
            index.lower.insert(&name.to_lowercase(), i);
        }
        index
    }
}

/// Hash indexes that make the `find_*` lookups of an exact id, email or name O(1). Ids are
/// found through the entity maps themselves; these hold what they cannot answer.
#[derive(Debug, Clone, Default)]
pub(crate) struct Lookup {
    /// Users by email, ASCII-lowercased: emails compare ignoring ASCII case.
    emails: Positions<UserNode>,
    groups: NameIndex<GroupNode>,
    roles: NameIndex<RoleNode>,
    policies: NameIndex<PolicyNode>,
    /// Role trusts by id (a trust's name is its id).
    trusts: NameIndex<TrustNode>,
}

impl Lookup {
    fn new(org: &Org) -> Lookup {
        let mut emails = Positions::default();
        for (i, _, user) in org.users.iter() {
            emails.insert(&ascii_lower(&user.email), i);
        }
        Lookup {
            emails,
            groups: NameIndex::new(
                org.groups
                    .iter()
                    .map(|(i, _, g)| (i, g.display_name.as_str())),
            ),
            roles: NameIndex::new(org.roles.iter().map(|(i, _, r)| (i, r.name.as_str()))),
            policies: NameIndex::new(org.policies.iter().map(|(i, _, p)| (i, p.name.as_str()))),
            trusts: NameIndex::new(org.trusts.iter().map(|(i, t)| (i, t.id.as_str()))),
        }
    }
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
                .map(|(_, id, u)| entity_step(StepKind::User, id, &u.email))
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

/// The dense indexes of a snapshot's entities by id, for resolving its references. A plain
/// hash map: compiling looks up every reference of the snapshot (750,000 at 100,000 broad
/// users), and an `IndexMap` would add an indirection to each.
type IdIndex<'a> = HashMap<&'a str, usize, foldhash::fast::RandomState>;

/// The ids of a snapshot's entities of one kind, copied side by side into one buffer, in
/// snapshot order. An [`IdIndex`] over them compares each looked-up id with memory that stays
/// in cache, where the snapshot's own strings lie scattered among the rest of each entity: at
/// 100,000 users, that comparison was a cache miss for each of half a million memberships.
struct IdText {
    text: String,
    ends: Vec<usize>,
}

impl IdText {
    fn new<'s>(ids: impl ExactSizeIterator<Item = &'s str>) -> IdText {
        let mut ends = Vec::with_capacity(ids.len());
        let mut text = String::new();
        for id in ids {
            text.push_str(id);
            ends.push(text.len());
        }
        IdText { text, ends }
    }

    /// The ids, in snapshot order.
    fn iter(&self) -> impl ExactSizeIterator<Item = &str> {
        (0..self.ends.len()).map(|i| {
            let start = if i == 0 { 0 } else { self.ends[i - 1] };
            &self.text[start..self.ends[i]]
        })
    }
}

/// Maps ids to dense indexes, failing on a repeated id.
fn index_ids<'a>(
    kind: EntityKind,
    ids: impl ExactSizeIterator<Item = &'a str>,
) -> Result<IdIndex<'a>, BuildError> {
    let mut map = IdIndex::with_capacity_and_hasher(ids.len(), Default::default());
    for (index, id) in ids.enumerate() {
        match map.entry(id) {
            std::collections::hash_map::Entry::Occupied(first) => {
                return Err(BuildError::DuplicateId {
                    kind,
                    id: id.to_string(),
                    index,
                    first: *first.get(),
                });
            }
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(index);
            }
        }
    }
    Ok(map)
}

/// The JSON path of an attachment list, `array[index].field`, written out only for a
/// diagnostic: most lists have none, and formatting every path cost an allocation per list.
#[derive(Debug, Clone, Copy)]
struct ListPath {
    array: &'static str,
    index: usize,
    field: &'static str,
}

impl ListPath {
    fn new(array: &'static str, index: usize, field: &'static str) -> ListPath {
        ListPath {
            array,
            index,
            field,
        }
    }
}

impl std::fmt::Display for ListPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}[{}].{}", self.array, self.index, self.field)
    }
}

/// The dense indexes of a snapshot's users, groups, roles and policies by id, over the
/// [`IdText`]s that hold the ids.
struct Ids<'a> {
    users: IdIndex<'a>,
    groups: IdIndex<'a>,
    roles: IdIndex<'a>,
    policies: IdIndex<'a>,
}

/// The ids of a snapshot's users, groups, roles and policies, each kind in one buffer.
struct IdTexts([IdText; 4]);

impl IdTexts {
    fn new(snapshot: &Snapshot) -> IdTexts {
        IdTexts([
            IdText::new(snapshot.users.iter().map(|u| u.id.as_str())),
            IdText::new(snapshot.groups.iter().map(|g| g.id.as_str())),
            IdText::new(snapshot.roles.iter().map(|r| r.id.as_str())),
            IdText::new(snapshot.policies.iter().map(|p| p.id.as_str())),
        ])
    }

    /// Indexes the ids of every kind, failing on the first repeated one (trusts' ids included,
    /// though nothing refers to a trust by id).
    fn index<'a>(&'a self, snapshot: &Snapshot) -> Result<Ids<'a>, BuildError> {
        let [users, groups, roles, policies] = &self.0;
        let ids = Ids {
            users: index_ids(EntityKind::User, users.iter())?,
            groups: index_ids(EntityKind::Group, groups.iter())?,
            roles: index_ids(EntityKind::Role, roles.iter())?,
            policies: index_ids(EntityKind::Policy, policies.iter())?,
        };
        index_ids(
            EntityKind::Trust,
            snapshot.role_trusts.iter().map(|t| t.id.as_str()),
        )?;
        Ok(ids)
    }
}

/// Every statement of a snapshot, parsed, with the range each policy's statements take.
struct ParsedPolicies {
    /// (policy index, statement index within its document, statement), in snapshot order.
    statements: Vec<(usize, usize, ParsedStatement)>,
    /// Per policy, its statements' range in `statements`.
    ranges: Vec<IdxRange<StatementNode>>,
}

/// Parses every policy document of a snapshot, reporting empty policies and statements.
fn parse_policies(
    snapshot: &Snapshot,
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<ParsedPolicies, BuildError> {
    // INVARIANT: statements are stored in the order parsed, so each policy's statements form
    // one contiguous range.
    let mut parsed = ParsedPolicies {
        statements: Vec::new(),
        ranges: Vec::with_capacity(snapshot.policies.len()),
    };
    let mut memo = PatternMemo::default();
    for (pi, policy) in snapshot.policies.iter().enumerate() {
        let start = parsed.statements.len();
        if policy.policy_document.statement.as_slice().is_empty() {
            diagnostics.push(Diagnostic {
                code: "empty-policy",
                path: format!("policies[{pi}].policy_document.Statement"),
                message: format!("policy `{}` has no statement; it grants nothing", policy.id),
            });
        }
        let statements =
            parse_document_with(&policy.policy_document, &mut memo).map_err(|error| {
                BuildError::Statement {
                    policy_index: pi,
                    policy_id: policy.id.clone(),
                    statement: error.statement(),
                    reason: error.to_string(),
                }
            })?;
        for (si, statement) in statements.into_iter().enumerate() {
            report_empty_statement(&policy.id, pi, si, &statement, diagnostics);
            parsed.statements.push((pi, si, statement));
        }
        parsed.ranges.push(IdxRange::new(
            Idx::new(start),
            parsed.statements.len() - start,
        ));
    }
    Ok(parsed)
}

/// Reports a statement that names no action or no resource: it has no effect.
fn report_empty_statement(
    policy_id: &str,
    pi: usize,
    si: usize,
    statement: &ParsedStatement,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let path = format!("policies[{pi}].policy_document.Statement[{si}]");
    for (empty, field, noun) in [
        (statement.actions.is_empty(), "Action", "action"),
        (statement.resources.is_empty(), "Resource", "resource"),
    ] {
        if empty {
            diagnostics.push(Diagnostic {
                code: "empty-statement",
                path: format!("{path}.{field}"),
                message: format!(
                    "policy `{policy_id}` statement {si} names no {noun}; it has no effect"
                ),
            });
        }
    }
}

/// The policy nodes of a snapshot, each with its statements' range.
fn policy_nodes(snapshot: &Snapshot, ranges: Vec<IdxRange<StatementNode>>) -> Arena<PolicyNode> {
    let mut policies: Arena<PolicyNode> = Arena::with_capacity(snapshot.policies.len());
    for (policy, statements) in snapshot.policies.iter().zip(ranges) {
        policies.alloc(
            policy.id.clone(),
            PolicyNode {
                name: policy.name.clone(),
                system: policy.is_system_policy,
                statements,
            },
        );
    }
    policies
}

/// Turns a snapshot's references (attachment lists, trusts, the root user) into typed indices,
/// reporting the ones it drops.
struct Resolver<'a> {
    snapshot: &'a Snapshot,
    ids: &'a Ids<'a>,
    diagnostics: &'a mut Vec<Diagnostic>,
}

impl Resolver<'_> {
    /// Resolves a list of ids against `index`, dropping (with a diagnostic) the ones that do not
    /// resolve and the repeats.
    fn resolve<T>(
        &mut self,
        path: ListPath,
        target: &str,
        ids: &[String],
        index: &IdIndex,
    ) -> Vec<Idx<T>> {
        let mut out: Vec<Idx<T>> = Vec::with_capacity(ids.len());
        // Repeats are found by a scan of what is kept, or, in a long list (a large group's
        // members), by a set: the scan would make the list quadratic.
        let mut kept = (ids.len() > 64).then(|| BitSet::new(index.len()));
        let mut repeated = |out: &[Idx<T>], ix: usize| match &mut kept {
            Some(kept) if kept.contains(ix) => true,
            Some(kept) => {
                kept.insert(ix);
                false
            }
            None => out.contains(&Idx::new(ix)),
        };
        for (i, id) in ids.iter().enumerate() {
            match index.get(id.as_str()).copied() {
                Some(ix) if repeated(&out, ix) => self.diagnostics.push(Diagnostic {
                    code: "duplicate-reference",
                    path: format!("{path}[{i}]"),
                    message: format!("{target} `{id}` is listed more than once; counted once"),
                }),
                Some(ix) => out.push(Idx::new(ix)),
                None => self.diagnostics.push(Diagnostic {
                    code: "dangling-reference",
                    path: format!("{path}[{i}]"),
                    message: format!("no {target} has id `{id}`; the reference grants nothing"),
                }),
            }
        }
        out
    }

    /// Resolves a list of policy ids.
    fn policies(&mut self, path: ListPath, ids: &[String]) -> Vec<PolicyIx> {
        let index = &self.ids.policies;
        self.resolve(path, "policy", ids, index)
    }

    /// Resolves a list of role ids attached to a user or group, reporting the assumable roles
    /// among them, which grant no standing access.
    fn standing_roles(&mut self, path: ListPath, ids: &[String]) -> Vec<RoleIx> {
        let index = &self.ids.roles;
        let resolved: Vec<RoleIx> = self.resolve(path, "role", ids, index);
        for &r in &resolved {
            let role = &self.snapshot.roles[r.index()];
            if role.role_type == RoleType::Assumable {
                let i = ids.iter().position(|id| *id == role.id).unwrap_or(0);
                self.diagnostics.push(Diagnostic {
                    code: "assumable-role-attached",
                    path: format!("{path}[{i}]"),
                    message: format!(
                        "role `{}` is assumable; attached directly it grants no standing access",
                        role.id
                    ),
                });
            }
        }
        resolved
    }

    /// The user nodes, their groups still empty (filled by [`Resolver::groups`]).
    fn users(&mut self) -> Arena<UserNode> {
        let snapshot = self.snapshot;
        let mut users: Arena<UserNode> = Arena::with_capacity(snapshot.users.len());
        for (i, user) in snapshot.users.iter().enumerate() {
            let policies = self.policies(ListPath::new("users", i, "policies"), &user.policies);
            let roles = self.standing_roles(ListPath::new("users", i, "roles"), &user.roles);
            let mut legacy_acls = user.legacy_acls().to_vec();
            legacy_acls.sort();
            legacy_acls.dedup();
            users.alloc(
                user.id.clone(),
                UserNode {
                    email: user.email.clone(),
                    name: user.name.clone(),
                    service_user: user.service_user,
                    suspended: user.suspended,
                    policies,
                    roles,
                    groups: Vec::new(),
                    legacy_acls,
                },
            );
        }
        users
    }

    /// The group nodes; each group's members get it in their list of groups.
    fn groups(&mut self, users: &mut Arena<UserNode>) -> Arena<GroupNode> {
        let snapshot = self.snapshot;
        let mut groups: Arena<GroupNode> = Arena::with_capacity(snapshot.groups.len());
        for (i, group) in snapshot.groups.iter().enumerate() {
            let index = &self.ids.users;
            let members: Vec<UserIx> = self.resolve(
                ListPath::new("groups", i, "members"),
                "user",
                &group.members,
                index,
            );
            let policies = self.policies(ListPath::new("groups", i, "policies"), &group.policies);
            let roles = self.standing_roles(ListPath::new("groups", i, "roles"), &group.roles);
            let group_ix: GroupIx = Idx::new(i);
            for &member in &members {
                users[member].groups.push(group_ix);
            }
            groups.alloc(
                group.id.clone(),
                GroupNode {
                    display_name: group.display_name.clone(),
                    policies,
                    roles,
                },
            );
        }
        groups
    }

    /// The role nodes.
    fn roles(&mut self) -> Arena<RoleNode> {
        let snapshot = self.snapshot;
        let mut roles: Arena<RoleNode> = Arena::with_capacity(snapshot.roles.len());
        for (i, role) in snapshot.roles.iter().enumerate() {
            let policies = self.policies(ListPath::new("roles", i, "policies"), &role.policies);
            roles.alloc(
                role.id.clone(),
                RoleNode {
                    name: role.name.clone(),
                    assignable: role.role_type == RoleType::Assignable,
                    policies,
                },
            );
        }
        roles
    }

    /// The trust nodes: the role trusts whose role exists and is assumable (the others
    /// dropped with a diagnostic), each principal that does not resolve reported and left out,
    /// each judged in `context`.
    fn trusts(&mut self, context: &TrustContext) -> IdxVec<TrustNode, TrustNode> {
        let snapshot = self.snapshot;
        let mut trusts = Vec::new();
        for (i, trust) in snapshot.role_trusts.iter().enumerate() {
            let path = format!("role_trusts[{i}]");
            let Some(role) = self.trusted_role(&path, trust) else {
                continue;
            };
            let user = self.principal(&path, trust, Trusted::User).map(Idx::new);
            let group = self.principal(&path, trust, Trusted::Group).map(Idx::new);
            trusts.push(TrustNode {
                id: trust.id.clone(),
                role,
                trust_type: trust.trust_type.clone(),
                user,
                group,
                outside: Outsider::of(trust),
                conditions: trust.conditions.clone(),
                valid_until: trust.valid_until.clone(),
                refused: context.refuses(trust.conditions.as_ref(), trust.valid_until.as_deref()),
            });
        }
        IdxVec::from(trusts)
    }

    /// The role a trust names, if it exists and is assumable; otherwise reported.
    fn trusted_role(&mut self, path: &str, trust: &RoleTrust) -> Option<RoleIx> {
        let Some(&role) = self.ids.roles.get(trust.role_id.as_str()) else {
            self.diagnostics.push(Diagnostic {
                code: "dangling-reference",
                path: format!("{path}.role_id"),
                message: format!(
                    "no role has id `{}`; trust `{}` grants nothing",
                    trust.role_id, trust.id
                ),
            });
            return None;
        };
        if self.snapshot.roles[role].role_type != RoleType::Assumable {
            self.diagnostics.push(Diagnostic {
                code: "trust-on-assignable-role",
                path: format!("{path}.role_id"),
                message: format!(
                    "trust `{}` names role `{}`, which is not assumable; the trust is ignored",
                    trust.id, trust.role_id
                ),
            });
            return None;
        }
        Some(Idx::new(role))
    }

    /// The position of a trust's trusted user or group, if it names one that exists; one it
    /// names that does not exist is reported.
    fn principal(&mut self, path: &str, trust: &RoleTrust, which: Trusted) -> Option<usize> {
        let (field, id, index, kind) = match which {
            Trusted::User => (
                "trusted_user_id",
                &trust.trusted_user_id,
                &self.ids.users,
                "user",
            ),
            Trusted::Group => (
                "trusted_group_id",
                &trust.trusted_group_id,
                &self.ids.groups,
                "group",
            ),
        };
        let id = id.as_ref()?;
        let consequence = format!("trust `{}` grants it nothing", trust.id);
        let path = format!("{path}.{field}");
        lookup(self.diagnostics, path, id, index, kind, &consequence)
    }

    /// The sessions whose user and role exist; the others reported and left out.
    fn sessions(&mut self) -> Vec<SessionNode> {
        let mut out = Vec::new();
        for (i, session) in self.snapshot.sessions.iter().enumerate() {
            let mut find = |field: &str, id: &str, index: &IdIndex, kind: &str| {
                let path = format!("sessions[{i}].{field}");
                lookup(
                    self.diagnostics,
                    path,
                    id,
                    index,
                    kind,
                    "the session is left out",
                )
            };
            let user = find("user_id", &session.user_id, &self.ids.users, "user").map(Idx::new);
            let role = find("role_id", &session.role_id, &self.ids.roles, "role").map(Idx::new);
            if let (Some(user), Some(role)) = (user, role) {
                out.push(SessionNode {
                    user,
                    role,
                    name: session.session_name.clone(),
                    assumed_at: session.assumed_at.clone(),
                    expires_at: session.expires_at.clone(),
                });
            }
        }
        out
    }

    /// The organization's root user, if it names one that exists; one it names that does not
    /// exist is reported.
    fn root(&mut self) -> Option<UserIx> {
        let id = self.snapshot.organization.root_user_id.as_ref()?;
        let found = self.ids.users.get(id.as_str()).map(|&ix| Idx::new(ix));
        if found.is_none() {
            self.diagnostics.push(Diagnostic {
                code: "dangling-reference",
                path: "organization.root_user_id".to_string(),
                message: format!("no user has id `{id}`; nobody is treated as root"),
            });
        }
        found
    }
}

/// Which principal of a role trust.
#[derive(Clone, Copy)]
enum Trusted {
    User,
    Group,
}

impl Org {
    /// Compiles a snapshot against a catalogue of known actions.
    ///
    /// Messy data is not fatal: dangling ids, unknown actions and the like are dropped or kept
    /// as they are, and reported by [`Org::diagnostics`]. A malformed policy document or a
    /// repeated entity id is an error. An explicit Deny wins ([`Precedence::DenyWins`]).
    pub fn compile(snapshot: &Snapshot, catalogue: &Catalogue) -> Result<Org, BuildError> {
        Org::compile_with(snapshot, catalogue, &CompileOptions::default())
    }

    /// [`Org::compile`] with options: the precedence between Allow and Deny, and the context
    /// trust conditions are judged in.
    ///
    /// ```
    /// use iamsim_core::{Catalogue, CompileOptions, Org, Precedence, Snapshot};
    /// use iamsim_core::report::Decision;
    ///
    /// // A Deny attached to Ana herself, an Allow through her role.
    /// let snapshot = Snapshot::from_json_str(r#"{
    ///   "format": "iamsim.snapshot.v1", "organization": {"id": "org-1", "name": "Acme"},
    ///   "users": [{"id": "u-ana", "email": "ana@example.com", "policies": ["p-deny"], "roles": ["r-ops"]}],
    ///   "groups": [],
    ///   "roles": [{"id": "r-ops", "name": "ops", "role_type": "assignable", "policies": ["p-allow"]}],
    ///   "policies": [
    ///     {"id": "p-deny", "name": "deny", "policy_document": {"Statement":
    ///       {"Effect": "Deny", "Action": "compute.instance.Delete", "Resource": "*"}}},
    ///     {"id": "p-allow", "name": "allow", "policy_document": {"Statement":
    ///       {"Effect": "Allow", "Action": "compute.instance.*", "Resource": "*"}}}
    ///   ]
    /// }"#)?;
    /// let nearest = CompileOptions { precedence: Precedence::NearestWins, ..Default::default() };
    /// let org = Org::compile_with(&snapshot, &Catalogue::bundled(), &nearest)?;
    /// let ana = org.find_user("ana@example.com")?;
    /// // The direct Deny (distance 1) is nearer than the role's Allow (distance 2).
    /// let x = org.explain(ana, "compute.instance.Delete", "*")?;
    /// assert_eq!(x.decision, Decision::ExplicitDeny);
    /// assert_eq!(x.overridden_allow.len(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn compile_with(
        snapshot: &Snapshot,
        catalogue: &Catalogue,
        options: &CompileOptions,
    ) -> Result<Org, BuildError> {
        let mut diagnostics = Vec::new();
        let id_texts = IdTexts::new(snapshot);
        let ids = id_texts.index(snapshot)?;
        // Every statement is parsed first: the universe depends on the patterns they name.
        let parsed = parse_policies(snapshot, &mut diagnostics)?;
        let universe = build_universe(catalogue, &parsed.statements, snapshot, &mut diagnostics);
        let statements = IdxVec::from(compile_statements(&universe, parsed.statements));
        let mut resolver = Resolver {
            snapshot,
            ids: &ids,
            diagnostics: &mut diagnostics,
        };
        let mut users = resolver.users();
        let groups = resolver.groups(&mut users);
        let roles = resolver.roles();
        let trusts = resolver.trusts(&options.trust_context);
        let sessions = resolver.sessions();
        let root = resolver.root();
        let policies = policy_nodes(snapshot, parsed.ranges);
        let conditionals = crate::conditional::read(snapshot.crawl.as_ref(), |id| {
            ids.policies.get(id).map(|&ix| Idx::new(ix))
        });
        let mut org = Org {
            org_id: snapshot.organization.id.clone(),
            org_name: snapshot.organization.name.clone(),
            root,
            users,
            groups,
            roles,
            policies,
            statements,
            trusts,
            sessions,
            universe,
            reverse: Reverse::default(),
            folded_bits: Vec::new(),
            folded: Vec::new(),
            steps: Steps::empty(),
            report_cache: ReportCache::default(),
            diagnostics,
            precedence: options.precedence,
            lookup: Lookup::default(),
            stamp: Stamp::fresh(),
            conditionals,
            created_from: None,
        };
        org.lookup = Lookup::new(&org);
        org.fold();
        org.index_reverse();
        org.steps = Steps::new(&org);
        org.report_cache = ReportCache::new(&org);
        org.diagnostics.sort();
        Ok(org)
    }

    fn index_reverse(&mut self) {
        let mut r = Reverse {
            group_members: IdxVec::filled(self.groups.len(), Vec::new()),
            role_users: IdxVec::filled(self.roles.len(), Vec::new()),
            role_groups: IdxVec::filled(self.roles.len(), Vec::new()),
            policy_users: IdxVec::filled(self.policies.len(), Vec::new()),
            policy_groups: IdxVec::filled(self.policies.len(), Vec::new()),
            policy_roles: IdxVec::filled(self.policies.len(), Vec::new()),
            user_trusts: IdxVec::filled(self.users.len(), Vec::new()),
            group_trusts: IdxVec::filled(self.groups.len(), Vec::new()),
        };
        for (t, trust) in self.trusts.iter() {
            if let Some(user) = trust.user {
                r.user_trusts[user].push(t);
            }
            if let Some(group) = trust.group {
                r.group_trusts[group].push(t);
            }
        }
        for (u, _, user) in self.users.iter() {
            for &g in &user.groups {
                r.group_members[g].push(u);
            }
            for &role in &user.roles {
                r.role_users[role].push(u);
            }
            for &p in &user.policies {
                r.policy_users[p].push(u);
            }
        }
        for (g, _, group) in self.groups.iter() {
            for &role in &group.roles {
                r.role_groups[role].push(g);
            }
            for &p in &group.policies {
                r.policy_groups[p].push(g);
            }
        }
        for (role, _, node) in self.roles.iter() {
            for &p in &node.policies {
                r.policy_roles[p].push(role);
            }
        }
        self.reverse = r;
    }

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

    /// Pre-folds the `*`-resource Allow and Deny sets per policy, role and group, and the lists
    /// of their resource-scoped statements.
    fn fold(&mut self) {
        let words = self.set_words();
        let unit = 2 * words;
        let sets = self.policies.len() + self.roles.len() + self.groups.len();
        let mut bits = vec![0u64; sets * unit];
        let mut folded = Vec::with_capacity(sets);
        let or_into = |dst: &mut [u64], src: &[u64]| {
            for (d, s) in dst.iter_mut().zip(src) {
                *d |= s;
            }
        };
        for (p, policy) in self.policies.values().enumerate() {
            let set = &mut bits[p * unit..(p + 1) * unit];
            let mut scoped = Vec::new();
            for s in policy.statements.clone() {
                let statement = &self.statements[s];
                if statement.resources.iter().any(ResourcePattern::is_any) {
                    let half = match statement.effect {
                        Effect::Allow => &mut set[..words],
                        Effect::Deny => &mut set[words..],
                    };
                    or_into(half, statement.actions.words());
                }
                if statement.resources.iter().any(|r| !r.is_any()) {
                    scoped.push(s);
                }
            }
            folded.push(Folded { scoped });
        }
        let settle = |mut scoped: Vec<StatementIx>| {
            scoped.sort_unstable();
            scoped.dedup();
            Folded { scoped }
        };
        for (r, role) in self.roles.values().enumerate() {
            let at = self.policies.len() + r;
            let (sources, rest) = bits.split_at_mut(at * unit);
            let mut scoped = Vec::new();
            for &p in &role.policies {
                let set = p.index();
                or_into(&mut rest[..unit], &sources[set * unit..(set + 1) * unit]);
                scoped.extend_from_slice(&folded[set].scoped);
            }
            folded.push(settle(scoped));
        }
        for (g, group) in self.groups.values().enumerate() {
            let at = self.policies.len() + self.roles.len() + g;
            let (sources, rest) = bits.split_at_mut(at * unit);
            let mut scoped = Vec::new();
            for &p in &group.policies {
                let set = p.index();
                or_into(&mut rest[..unit], &sources[set * unit..(set + 1) * unit]);
                scoped.extend_from_slice(&folded[set].scoped);
            }
            for &r in group.roles.iter().filter(|&&r| self.roles[r].assignable) {
                let set = self.role_set(r);
                or_into(&mut rest[..unit], &sources[set * unit..(set + 1) * unit]);
                scoped.extend_from_slice(&folded[set].scoped);
            }
            folded.push(settle(scoped));
        }
        self.folded_bits = bits;
        self.folded = folded;
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

    /// Finds a user by id or email (emails compare case-insensitively).
    pub fn find_user(&self, query: &str) -> Result<UserKey, LookupError> {
        // An exact id or email is a hash lookup; the scan for similar users runs only when
        // nothing matches.
        let by_email = self.lookup.emails.get(&ascii_lower(query));
        let by_email = by_email
            .iter()
            .filter(|&&i| self.users[i].email.eq_ignore_ascii_case(query));
        let matches = positions(self.users.find(query), by_email);
        let describe = |i: UserIx| format!("`{}` ({})", self.users.id(i), self.users[i].email);
        pick(
            EntityKind::User,
            query,
            matches,
            describe,
            || {
                self.users
                    .iter()
                    .filter(|(_, id, u)| {
                        contains_ci(id, query)
                            || contains_ci(&u.email, query)
                            || contains_ci(&u.name, query)
                    })
                    .map(|(i, _, _)| i)
                    .collect()
            },
            || {
                nearest_names(
                    query,
                    self.users
                        .iter()
                        .flat_map(|(_, id, u)| [id, u.email.as_str()]),
                )
            },
        )
        .map(|i| self.user_key(i))
    }

    /// Finds a group by id or display name (an exact name first, then ignoring case).
    pub fn find_group(&self, query: &str) -> Result<GroupKey, LookupError> {
        find_named(
            EntityKind::Group,
            query,
            self.groups.find(query),
            &self.lookup.groups,
            self.groups.indices(),
            |i| (self.groups.id(i), self.groups[i].display_name.as_str()),
        )
        .map(|i| self.group_key(i))
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

    /// Finds a role by id or name (an exact name first, then ignoring case).
    pub fn find_role(&self, query: &str) -> Result<RoleKey, LookupError> {
        find_named(
            EntityKind::Role,
            query,
            self.roles.find(query),
            &self.lookup.roles,
            self.roles.indices(),
            |i| (self.roles.id(i), self.roles[i].name.as_str()),
        )
        .map(|i| self.role_key(i))
    }

    /// Finds a policy by id or name (an exact name first, then ignoring case).
    pub fn find_policy(&self, query: &str) -> Result<PolicyKey, LookupError> {
        find_named(
            EntityKind::Policy,
            query,
            self.policies.find(query),
            &self.lookup.policies,
            self.policies.indices(),
            |i| (self.policies.id(i), self.policies[i].name.as_str()),
        )
        .map(|i| self.policy_key(i))
    }

    /// Finds a role trust by id.
    pub fn find_trust(&self, query: &str) -> Result<TrustKey, LookupError> {
        // A trust's name is its id: the name index finds the id.
        find_named(
            EntityKind::Trust,
            query,
            None,
            &self.lookup.trusts,
            Idx::all(self.trusts.len()),
            |i| (self.trusts[i].id.as_str(), self.trusts[i].id.as_str()),
        )
        .map(|i| self.trust_key(i))
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

fn contains_ci(haystack: &str, needle: &str) -> bool {
    !needle.is_empty() && haystack.to_lowercase().contains(&needle.to_lowercase())
}

/// The positions of an id match and of key matches together, in snapshot order, once each.
fn positions<'a, T: 'a>(
    id: Option<Idx<T>>,
    keyed: impl Iterator<Item = &'a Idx<T>>,
) -> Vec<Idx<T>> {
    let mut all: Vec<Idx<T>> = keyed.copied().chain(id).collect();
    if all.len() > 1 {
        all.sort_unstable();
        all.dedup();
    }
    all
}

/// Finds an entity by id or name: exact matches first (`id`, the position of the entity with
/// that id, and `names`), then names ignoring case. `entity` gives the id and name at a
/// position, for messages and the scan for similar entities when nothing matches.
fn find_named<'a, T: 'a>(
    kind: EntityKind,
    query: &str,
    id: Option<Idx<T>>,
    names: &NameIndex<T>,
    all: impl Iterator<Item = Idx<T>> + Clone,
    entity: impl Fn(Idx<T>) -> (&'a str, &'a str),
) -> Result<Idx<T>, LookupError> {
    // The hashes name candidates; each is checked against its name.
    let exact = names.exact.get(query);
    let exact = positions(id, exact.iter().filter(|&&i| entity(i).1 == query));
    let matches = if exact.is_empty() {
        let lower = query.to_lowercase();
        let candidates = names.lower.get(&lower).iter();
        positions(
            None,
            candidates.filter(|&&i| entity(i).1.to_lowercase() == lower),
        )
    } else {
        exact
    };
    pick(
        kind,
        query,
        matches,
        |i| {
            let (id, name) = entity(i);
            format!("`{id}` ({name})")
        },
        || {
            all.clone()
                .filter(|&i| {
                    let (id, name) = entity(i);
                    contains_ci(id, query) || contains_ci(name, query)
                })
                .collect()
        },
        || {
            nearest_names(
                query,
                all.clone().flat_map(|i| {
                    let (id, name) = entity(i);
                    [id, name]
                }),
            )
        },
    )
}

/// How many similar entities a failed lookup lists.
const CANDIDATES: usize = 10;

/// How many suggestions a failed lookup carries.
const SUGGESTIONS: usize = 3;

/// The names nearest `query` by edit distance (case aside), alphabetically, each once: those at
/// the smallest distance within reach, at most [`SUGGESTIONS`], and how many more there were.
/// Within reach is two edits, or one in five characters of a longer query: a typo, not another
/// name.
fn nearest_names<'a>(query: &str, names: impl Iterator<Item = &'a str>) -> (Vec<String>, usize) {
    let lower = query.to_lowercase();
    let reach = (lower.chars().count() / 5).max(2);
    // A name equal but for case counts as nearest (ids compare exactly).
    let mut near: Vec<(usize, &str)> = names
        .filter(|&name| name != query)
        .filter_map(|name| {
            let d = edit_distance(&lower, &name.to_lowercase());
            (d <= reach).then_some((d, name))
        })
        .collect();
    near.sort_unstable();
    near.dedup_by(|a, b| a.1 == b.1);
    // Only the nearest: a farther name is another person's, not the one meant.
    if let Some(&(best, _)) = near.first() {
        near.retain(|&(d, _)| d == best);
    }
    let more = near.len().saturating_sub(SUGGESTIONS);
    let shown = near
        .into_iter()
        .take(SUGGESTIONS)
        .map(|(_, name)| name.to_string())
        .collect();
    (shown, more)
}

/// Edit distance over characters, a swap of two neighbours counting as one edit (optimal string
/// alignment): `exmaple` is one edit from `example`. What "did you mean" suggestions are
/// ranked by, here and in the CLI.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let width = b.len() + 1;
    // Three rows: the one before the previous (for swaps), the previous, the current.
    let mut rows = vec![0usize; 3 * width];
    for (j, cell) in rows[width..2 * width].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        let (older, rest) = rows.split_at_mut(width);
        let (previous, current) = rest.split_at_mut(width);
        current[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (previous[j] + 1)
                .min(current[j - 1] + 1)
                .min(previous[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(older[j - 2] + 1);
            }
            current[j] = d;
        }
        rows.rotate_left(width);
    }
    rows[width + b.len()]
}

fn pick<T>(
    kind: EntityKind,
    query: &str,
    matches: Vec<Idx<T>>,
    describe: impl Fn(Idx<T>) -> String,
    similar: impl Fn() -> Vec<Idx<T>>,
    nearest: impl Fn() -> (Vec<String>, usize),
) -> Result<Idx<T>, LookupError> {
    match matches.as_slice() {
        [one] => Ok(*one),
        [] => {
            let (suggestions, more_suggestions) = nearest();
            let similar = similar();
            Err(LookupError::NotFound {
                kind,
                query: query.to_string(),
                more_candidates: similar.len().saturating_sub(CANDIDATES),
                candidates: similar.into_iter().take(CANDIDATES).map(describe).collect(),
                suggestions,
                more_suggestions,
            })
        }
        many => Err(LookupError::Ambiguous {
            kind,
            query: query.to_string(),
            candidates: many.iter().map(|&i| describe(i)).collect(),
        }),
    }
}

/// A parsed statement with its action bitset over `universe`, sharing the bitset of each
/// distinct pattern through `cache`.
pub(crate) fn compile_statement(
    universe: &[ActionPattern],
    cache: &mut BTreeMap<ActionPattern, BitSet>,
    index: usize,
    statement: &ParsedStatement,
) -> StatementNode {
    let mut actions = BitSet::new(universe.len());
    for pattern in &statement.actions {
        let set = cache.entry(pattern.clone()).or_insert_with(|| {
            let mut set = BitSet::new(universe.len());
            for (i, element) in universe.iter().enumerate() {
                if pattern.covers(element) {
                    set.insert(i);
                }
            }
            set
        });
        actions.union_with(set);
    }
    statement_node(index, statement.clone(), actions)
}

/// Compiles the statements of a snapshot, moved rather than copied, over the sorted `universe`:
/// [`compile_statement`]'s nodes, each distinct pattern's elements found once, as a range of
/// the universe ([`ActionPattern::cover_range`]) rather than by testing every element.
fn compile_statements(
    universe: &[ActionPattern],
    parsed: Vec<(usize, usize, ParsedStatement)>,
) -> Vec<StatementNode> {
    let mut ranges: foldhash::HashMap<ActionPattern, std::ops::Range<usize>> =
        foldhash::HashMap::default();
    parsed
        .into_iter()
        .map(|(_, si, statement)| {
            let mut actions = BitSet::new(universe.len());
            for pattern in &statement.actions {
                let range = match ranges.get(pattern) {
                    Some(range) => range.clone(),
                    None => {
                        let range = pattern.cover_range(universe);
                        ranges.insert(pattern.clone(), range.clone());
                        range
                    }
                };
                actions.insert_range(range);
            }
            statement_node(si, statement, actions)
        })
        .collect()
}

/// The node of a parsed statement whose action patterns cover `actions`.
fn statement_node(index: usize, statement: ParsedStatement, actions: BitSet) -> StatementNode {
    let few = (actions.count() <= 16).then(|| actions.iter().map(ElementIx::new).collect());
    let any_resource = statement.resources.iter().any(ResourcePattern::is_any);
    let scoped = statement.resources.iter().any(|r| !r.is_any());
    StatementNode {
        index: u32::try_from(index).expect("statements per document are capped"),
        effect: statement.effect,
        patterns: statement.actions,
        few,
        actions,
        resources: statement.resources,
        any_resource,
        scoped,
    }
}

/// The action universe: catalogue actions, literal actions named by statements, and wildcards
/// named by statements. Reports actions and wildcards the catalogue does not know.
fn build_universe(
    catalogue: &Catalogue,
    parsed: &[(usize, usize, ParsedStatement)],
    snapshot: &Snapshot,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<ActionPattern> {
    let mut universe: BTreeSet<ActionPattern> = catalogue.iter().cloned().collect();
    // Each pattern is looked at where it first occurs: that is where it is reported.
    let mut seen: foldhash::HashSet<&ActionPattern> = foldhash::HashSet::default();
    // The catalogue lowercased, for the hints, once.
    let mut lowered: Option<Vec<(String, &ActionPattern)>> = None;
    for (pi, si, statement) in parsed {
        for (ai, pattern) in statement.actions.iter().enumerate() {
            if !seen.insert(pattern) {
                continue;
            }
            let known = if pattern.is_wildcard() {
                catalogue.iter().any(|a| pattern.covers(a))
            } else {
                catalogue.contains(pattern)
            };
            if !known {
                let lower = pattern.as_str().to_lowercase();
                let lowered = lowered.get_or_insert_with(|| {
                    catalogue
                        .iter()
                        .map(|a| (a.as_str().to_lowercase(), a))
                        .collect::<Vec<_>>()
                });
                let hint = lowered
                    .iter()
                    .find(|(a, _)| {
                        *a == lower
                            || (pattern.is_wildcard() && a.starts_with(&lower[..lower.len() - 1]))
                    })
                    .map(|(_, a)| {
                        if pattern.is_wildcard() {
                            " (patterns are case-sensitive: check the case)".to_string()
                        } else {
                            format!(" (did you mean `{a}`? actions are case-sensitive)")
                        }
                    })
                    .unwrap_or_default();
                let what = if pattern.is_wildcard() {
                    format!("wildcard `{pattern}` covers no action of the catalogue")
                } else {
                    format!("unknown action `{pattern}`")
                };
                diagnostics.push(Diagnostic {
                    code: "unknown-action",
                    path: format!("policies[{pi}].policy_document.Statement[{si}].Action[{ai}]"),
                    message: format!("policy `{}`: {what}{hint}", snapshot.policies[*pi].id),
                });
            }
            universe.insert(pattern.clone());
        }
    }
    universe.into_iter().collect()
}

#[cfg(test)]
mod lookup_tests {
    use super::{edit_distance, nearest_names};

    #[test]
    fn distances() {
        for (a, b, d) in [
            ("", "", 0),
            ("abc", "abc", 0),
            ("", "abc", 3),
            ("kitten", "sitting", 3),
            ("exmaple", "example", 1),
            ("u-bne", "u-ben", 1),
            ("u-bne", "u-ana", 2),
            ("ca", "abc", 3),
            ("Compute.*", "compute.*", 1),
        ] {
            assert_eq!(edit_distance(a, b), d, "{a} {b}");
        }
    }

    #[test]
    fn nearest() {
        let names = ["dev1@x", "dev2@x", "dev3@x", "dev4@x", "ops@x", "dev1@x"];
        assert_eq!(
            nearest_names("dev@x", names.into_iter()),
            (vec!["dev1@x".into(), "dev2@x".into(), "dev3@x".into()], 1)
        );
        assert_eq!(nearest_names("zzzzzz", names.into_iter()), (vec![], 0));
        assert_eq!(
            nearest_names("DEV1@X", names.into_iter()),
            (vec!["dev1@x".into()], 0)
        );
        assert_eq!(nearest_names("dev1@x", names.into_iter()).0[0], "dev2@x");
    }
}
