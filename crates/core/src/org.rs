//! The compiled organization: dense integer ids, adjacency lists, and permission sets as bitsets
//! over the action universe. Built once from a [`Snapshot`]; every query takes `&self`.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use indexmap::IndexMap;

use crate::bitset::BitSet;
use crate::catalogue::Catalogue;
use crate::error::{BuildError, Diagnostic, EntityKind, LookupError};
use crate::model::{RoleType, Snapshot};
use crate::policy::{
    parse_document_with, ActionPattern, Effect, ParsedStatement, PatternMemo, ResourcePattern,
};
use crate::report::{Step, StepKind};

/// A user of a compiled [`Org`], found with [`Org::find_user`]. Valid only for the `Org` that made it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UserKey(pub(crate) u32);

/// A group of a compiled [`Org`], found with [`Org::find_group`]. Valid only for the `Org` that made it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GroupKey(pub(crate) u32);

/// A role of a compiled [`Org`], found with [`Org::find_role`]. Valid only for the `Org` that made it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RoleKey(pub(crate) u32);

/// A policy of a compiled [`Org`], found with [`Org::find_policy`]. Valid only for the `Org` that made it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PolicyKey(pub(crate) u32);

/// A role trust of a compiled [`Org`], found with [`Org::find_trust`]. Valid only for the `Org` that made it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TrustKey(pub(crate) u32);

#[derive(Debug, Clone)]
pub(crate) struct UserNode {
    pub(crate) email: String,
    pub(crate) name: String,
    pub(crate) service_user: bool,
    pub(crate) suspended: bool,
    pub(crate) policies: Vec<u32>,
    /// Every attached role; assumable ones grant nothing (a diagnostic says so).
    pub(crate) roles: Vec<u32>,
    /// Groups the user is a member of, in snapshot order.
    pub(crate) groups: Vec<u32>,
}

#[derive(Debug, Clone)]
pub(crate) struct GroupNode {
    pub(crate) display_name: String,
    pub(crate) policies: Vec<u32>,
    /// Every attached role; assumable ones grant nothing.
    pub(crate) roles: Vec<u32>,
}

#[derive(Debug, Clone)]
pub(crate) struct RoleNode {
    pub(crate) name: String,
    pub(crate) assignable: bool,
    pub(crate) policies: Vec<u32>,
}

#[derive(Debug, Clone)]
pub(crate) struct PolicyNode {
    pub(crate) name: String,
    pub(crate) system: bool,
    pub(crate) statements: std::ops::Range<u32>,
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
    pub(crate) few: Option<Box<[u32]>>,
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
    pub(crate) role: u32,
    pub(crate) trust_type: String,
    pub(crate) user: Option<u32>,
    pub(crate) group: Option<u32>,
    pub(crate) conditions: Option<serde_json::Value>,
    pub(crate) valid_until: Option<String>,
}

/// The sparse side of a pre-folded set: the statements with a resource other than `*`,
/// sorted, without repeats. The dense side (Allow and Deny on `*`) lives in `Org::folded_bits`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Folded {
    pub(crate) scoped: Vec<u32>,
}

/// Who holds what: the attachment lists read backwards.
#[derive(Debug, Clone, Default)]
pub(crate) struct Reverse {
    pub(crate) group_members: Vec<Vec<u32>>,
    pub(crate) role_users: Vec<Vec<u32>>,
    pub(crate) role_groups: Vec<Vec<u32>>,
    pub(crate) policy_users: Vec<Vec<u32>>,
    pub(crate) policy_groups: Vec<Vec<u32>>,
    pub(crate) policy_roles: Vec<Vec<u32>>,
    /// The trusts naming each user, and each group.
    pub(crate) user_trusts: Vec<Vec<u32>>,
    pub(crate) group_trusts: Vec<Vec<u32>>,
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
}

/// An organization compiled for queries.
///
/// Build it with [`Org::compile`] (or [`Org::compile_with`]); ask it with [`Org::effective`], [`Org::explain`] and
/// [`Org::simulate`].
#[derive(Debug, Clone)]
pub struct Org {
    pub(crate) org_id: String,
    pub(crate) org_name: String,
    pub(crate) root: Option<u32>,
    pub(crate) users: IndexMap<String, UserNode>,
    pub(crate) groups: IndexMap<String, GroupNode>,
    pub(crate) roles: IndexMap<String, RoleNode>,
    pub(crate) policies: IndexMap<String, PolicyNode>,
    pub(crate) statements: Vec<StatementNode>,
    pub(crate) trusts: Vec<TrustNode>,
    /// The action universe, sorted: catalogue actions, literal actions of the snapshot, and the
    /// wildcards of the snapshot (each standing for the actions it covers that are not named).
    pub(crate) universe: Vec<ActionPattern>,
    /// Reverse adjacency, for finding the users a change can reach.
    pub(crate) reverse: Reverse,
    /// Allow and Deny sets on the `*` resource, folded once per policy, role and group (in that
    /// order: set `p`, then `policies + r`, then `policies + roles + g`), each `2 × words` long:
    /// the Allow words, then the Deny words. One flat array, so that a user's OR pass reads
    /// memory in order.
    pub(crate) folded_bits: Vec<u64>,
    /// The sparse side of each folded set, indexed like `folded_bits`.
    pub(crate) folded: Vec<Folded>,
    pub(crate) diagnostics: Vec<Diagnostic>,
    /// The path step of every entity, built once: paths share their strings.
    pub(crate) steps: Steps,
    /// The rule between Allow and Deny, for every answer.
    pub(crate) precedence: Precedence,
    /// Exact-match indexes for the `find_*` lookups.
    pub(crate) lookup: Lookup,
}

/// The positions of the entities that share one key, in snapshot order, by the key's hash.
///
/// Keyed by a hash rather than the key itself, so that building the index copies no string
/// (compiling 100,000 users would otherwise copy every email), and one entity per key, the
/// common case, needs no list. A hash names candidates only; the caller checks each against
/// the entity itself, so a collision costs a comparison, never a wrong answer.
#[derive(Debug, Clone, Default)]
struct Positions(HashMap<u64, Hits>);

#[derive(Debug, Clone)]
enum Hits {
    One(u32),
    Many(Vec<u32>),
}

impl Positions {
    fn insert(&mut self, key: &str, position: usize) {
        let position = position as u32;
        self.0
            .entry(key_hash(key))
            .and_modify(|hits| match hits {
                Hits::One(first) => *hits = Hits::Many(vec![*first, position]),
                Hits::Many(all) => all.push(position),
            })
            .or_insert(Hits::One(position));
    }

    /// The candidates for `key`, in snapshot order.
    fn get(&self, key: &str) -> &[u32] {
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
#[derive(Debug, Clone, Default)]
pub(crate) struct NameIndex {
    exact: Positions,
    lower: Positions,
}

impl NameIndex {
    fn new<'a>(names: impl Iterator<Item = &'a str>) -> NameIndex {
        let mut index = NameIndex::default();
        for (i, name) in names.enumerate() {
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
    emails: Positions,
    groups: NameIndex,
    roles: NameIndex,
    policies: NameIndex,
    /// Role trusts by id (a trust's name is its id).
    trusts: NameIndex,
}

impl Lookup {
    fn new(org: &Org) -> Lookup {
        let mut emails = Positions::default();
        for (i, user) in org.users.values().enumerate() {
            emails.insert(&ascii_lower(&user.email), i);
        }
        Lookup {
            emails,
            groups: NameIndex::new(org.groups.values().map(|g| g.display_name.as_str())),
            roles: NameIndex::new(org.roles.values().map(|r| r.name.as_str())),
            policies: NameIndex::new(org.policies.values().map(|p| p.name.as_str())),
            trusts: NameIndex::new(org.trusts.iter().map(|t| t.id.as_str())),
        }
    }
}

/// Path steps per entity, indexed like the entities.
#[derive(Debug, Clone)]
pub(crate) struct Steps {
    pub(crate) users: Vec<Step>,
    pub(crate) groups: Vec<Step>,
    pub(crate) roles: Vec<Step>,
    pub(crate) policies: Vec<Step>,
    pub(crate) organization: Step,
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

struct Resolver<'a> {
    diagnostics: &'a mut Vec<Diagnostic>,
}

impl Resolver<'_> {
    /// Resolves a list of ids against `index`, dropping (with a diagnostic) the ones that do not
    /// resolve and the repeats.
    fn resolve(
        &mut self,
        path: ListPath,
        target: &str,
        ids: &[String],
        index: &IdIndex,
    ) -> Vec<u32> {
        let mut out: Vec<u32> = Vec::with_capacity(ids.len());
        // Repeats are found by a scan of what is kept, or, in a long list (a large group's
        // members), by a set: the scan would make the list quadratic.
        let mut kept = (ids.len() > 64).then(|| BitSet::new(index.len()));
        let mut repeated = |out: &[u32], ix: usize| match &mut kept {
            Some(kept) if kept.contains(ix) => true,
            Some(kept) => {
                kept.insert(ix);
                false
            }
            None => out.contains(&(ix as u32)),
        };
        for (i, id) in ids.iter().enumerate() {
            match index.get(id.as_str()) {
                Some(&ix) if repeated(&out, ix) => self.diagnostics.push(Diagnostic {
                    code: "duplicate-reference",
                    path: format!("{path}[{i}]"),
                    message: format!("{target} `{id}` is listed more than once; counted once"),
                }),
                Some(&ix) => out.push(ix as u32),
                None => self.diagnostics.push(Diagnostic {
                    code: "dangling-reference",
                    path: format!("{path}[{i}]"),
                    message: format!("no {target} has id `{id}`; the reference grants nothing"),
                }),
            }
        }
        out
    }
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

    /// [`Org::compile`] with options: the precedence between Allow and Deny.
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
    /// let nearest = CompileOptions { precedence: Precedence::NearestWins };
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
        let ids = [
            IdText::new(snapshot.users.iter().map(|u| u.id.as_str())),
            IdText::new(snapshot.groups.iter().map(|g| g.id.as_str())),
            IdText::new(snapshot.roles.iter().map(|r| r.id.as_str())),
            IdText::new(snapshot.policies.iter().map(|p| p.id.as_str())),
        ];
        let user_ix = index_ids(EntityKind::User, ids[0].iter())?;
        let group_ix = index_ids(EntityKind::Group, ids[1].iter())?;
        let role_ix = index_ids(EntityKind::Role, ids[2].iter())?;
        let policy_ix = index_ids(EntityKind::Policy, ids[3].iter())?;
        index_ids(
            EntityKind::Trust,
            snapshot.role_trusts.iter().map(|t| t.id.as_str()),
        )?;

        // Parse every statement first: the universe depends on the patterns they name.
        // INVARIANT: statements are stored in the order parsed, so each policy's statements form
        // one contiguous range.
        let mut parsed: Vec<(usize, usize, ParsedStatement)> = Vec::new();
        let mut policy_ranges = Vec::with_capacity(snapshot.policies.len());
        let mut memo = PatternMemo::default();
        for (pi, policy) in snapshot.policies.iter().enumerate() {
            let start = parsed.len() as u32;
            let statements = policy.policy_document.statement.as_slice();
            if statements.is_empty() {
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
                let path = || format!("policies[{pi}].policy_document.Statement[{si}]");
                if statement.actions.is_empty() {
                    diagnostics.push(Diagnostic {
                        code: "empty-statement",
                        path: format!("{}.Action", path()),
                        message: format!(
                            "policy `{}` statement {si} names no action; it has no effect",
                            policy.id
                        ),
                    });
                }
                if statement.resources.is_empty() {
                    diagnostics.push(Diagnostic {
                        code: "empty-statement",
                        path: format!("{}.Resource", path()),
                        message: format!(
                            "policy `{}` statement {si} names no resource; it has no effect",
                            policy.id
                        ),
                    });
                }
                parsed.push((pi, si, statement));
            }
            policy_ranges.push(start..parsed.len() as u32);
        }

        let universe = build_universe(catalogue, &parsed, snapshot, &mut diagnostics);
        let statements = compile_statements(&universe, parsed);

        let mut resolver = Resolver {
            diagnostics: &mut diagnostics,
        };
        let mut users: IndexMap<String, UserNode> = IndexMap::with_capacity(snapshot.users.len());
        for (i, user) in snapshot.users.iter().enumerate() {
            let policies = resolver.resolve(
                ListPath::new("users", i, "policies"),
                "policy",
                &user.policies,
                &policy_ix,
            );
            let roles = resolver.resolve(
                ListPath::new("users", i, "roles"),
                "role",
                &user.roles,
                &role_ix,
            );
            let roles = standing_roles(
                snapshot,
                ListPath::new("users", i, "roles"),
                &user.roles,
                roles,
                resolver.diagnostics,
            );
            users.insert(
                user.id.clone(),
                UserNode {
                    email: user.email.clone(),
                    name: user.name.clone(),
                    service_user: user.service_user,
                    suspended: user.suspended,
                    policies,
                    roles,
                    groups: Vec::new(),
                },
            );
        }
        let mut groups: IndexMap<String, GroupNode> =
            IndexMap::with_capacity(snapshot.groups.len());
        for (i, group) in snapshot.groups.iter().enumerate() {
            let members = resolver.resolve(
                ListPath::new("groups", i, "members"),
                "user",
                &group.members,
                &user_ix,
            );
            let policies = resolver.resolve(
                ListPath::new("groups", i, "policies"),
                "policy",
                &group.policies,
                &policy_ix,
            );
            let roles = resolver.resolve(
                ListPath::new("groups", i, "roles"),
                "role",
                &group.roles,
                &role_ix,
            );
            let roles = standing_roles(
                snapshot,
                ListPath::new("groups", i, "roles"),
                &group.roles,
                roles,
                resolver.diagnostics,
            );
            for &member in &members {
                users[member as usize].groups.push(i as u32);
            }
            groups.insert(
                group.id.clone(),
                GroupNode {
                    display_name: group.display_name.clone(),
                    policies,
                    roles,
                },
            );
        }
        let mut roles: IndexMap<String, RoleNode> = IndexMap::with_capacity(snapshot.roles.len());
        for (i, role) in snapshot.roles.iter().enumerate() {
            let policies = resolver.resolve(
                ListPath::new("roles", i, "policies"),
                "policy",
                &role.policies,
                &policy_ix,
            );
            roles.insert(
                role.id.clone(),
                RoleNode {
                    name: role.name.clone(),
                    assignable: role.role_type == RoleType::Assignable,
                    policies,
                },
            );
        }
        let mut trusts = Vec::new();
        for (i, trust) in snapshot.role_trusts.iter().enumerate() {
            let path = format!("role_trusts[{i}]");
            let Some(&role) = role_ix.get(trust.role_id.as_str()) else {
                resolver.diagnostics.push(Diagnostic {
                    code: "dangling-reference",
                    path: format!("{path}.role_id"),
                    message: format!(
                        "no role has id `{}`; trust `{}` grants nothing",
                        trust.role_id, trust.id
                    ),
                });
                continue;
            };
            if snapshot.roles[role].role_type != RoleType::Assumable {
                resolver.diagnostics.push(Diagnostic {
                    code: "trust-on-assignable-role",
                    path: format!("{path}.role_id"),
                    message: format!(
                        "trust `{}` names role `{}`, which is not assumable; the trust is ignored",
                        trust.id, trust.role_id
                    ),
                });
                continue;
            }
            let mut principal = |field: &str, id: &Option<String>, index: &IdIndex, kind: &str| {
                let id = id.as_ref()?;
                let found = index.get(id.as_str()).map(|&ix| ix as u32);
                if found.is_none() {
                    resolver.diagnostics.push(Diagnostic {
                        code: "dangling-reference",
                        path: format!("{path}.{field}"),
                        message: format!(
                            "no {kind} has id `{id}`; trust `{}` grants it nothing",
                            trust.id
                        ),
                    });
                }
                found
            };
            let user = principal("trusted_user_id", &trust.trusted_user_id, &user_ix, "user");
            let group = principal(
                "trusted_group_id",
                &trust.trusted_group_id,
                &group_ix,
                "group",
            );
            trusts.push(TrustNode {
                id: trust.id.clone(),
                role: role as u32,
                trust_type: trust.trust_type.clone(),
                user,
                group,
                conditions: trust.conditions.clone(),
                valid_until: trust.valid_until.clone(),
            });
        }

        let root = match &snapshot.organization.root_user_id {
            None => None,
            Some(id) => {
                let found = user_ix.get(id.as_str()).map(|&ix| ix as u32);
                if found.is_none() {
                    diagnostics.push(Diagnostic {
                        code: "dangling-reference",
                        path: "organization.root_user_id".to_string(),
                        message: format!("no user has id `{id}`; nobody is treated as root"),
                    });
                }
                found
            }
        };

        let mut policies: IndexMap<String, PolicyNode> =
            IndexMap::with_capacity(snapshot.policies.len());
        for (i, policy) in snapshot.policies.iter().enumerate() {
            policies.insert(
                policy.id.clone(),
                PolicyNode {
                    name: policy.name.clone(),
                    system: policy.is_system_policy,
                    statements: policy_ranges[i].clone(),
                },
            );
        }

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
            universe,
            reverse: Reverse::default(),
            folded_bits: Vec::new(),
            folded: Vec::new(),
            steps: Steps {
                users: Vec::new(),
                groups: Vec::new(),
                roles: Vec::new(),
                policies: Vec::new(),
                organization: Step::statement(0),
            },
            diagnostics,
            precedence: options.precedence,
            lookup: Lookup::default(),
        };
        org.lookup = Lookup::new(&org);
        org.fold();
        org.index_reverse();
        org.steps = Steps {
            users: org
                .users
                .iter()
                .map(|(id, u)| Step::entity(StepKind::User, id, &u.email))
                .collect(),
            groups: org
                .groups
                .iter()
                .map(|(id, g)| Step::entity(StepKind::Group, id, &g.display_name))
                .collect(),
            roles: org
                .roles
                .iter()
                .map(|(id, r)| Step::entity(StepKind::Role, id, &r.name))
                .collect(),
            policies: org
                .policies
                .iter()
                .map(|(id, p)| Step::entity(StepKind::Policy, id, &p.name))
                .collect(),
            organization: Step::entity(StepKind::Organization, &org.org_id, &org.org_name),
        };
        org.diagnostics.sort();
        Ok(org)
    }

    fn index_reverse(&mut self) {
        let mut r = Reverse {
            group_members: vec![Vec::new(); self.groups.len()],
            role_users: vec![Vec::new(); self.roles.len()],
            role_groups: vec![Vec::new(); self.roles.len()],
            policy_users: vec![Vec::new(); self.policies.len()],
            policy_groups: vec![Vec::new(); self.policies.len()],
            policy_roles: vec![Vec::new(); self.policies.len()],
            user_trusts: vec![Vec::new(); self.users.len()],
            group_trusts: vec![Vec::new(); self.groups.len()],
        };
        for (t, trust) in self.trusts.iter().enumerate() {
            if let Some(user) = trust.user {
                r.user_trusts[user as usize].push(t as u32);
            }
            if let Some(group) = trust.group {
                r.group_trusts[group as usize].push(t as u32);
            }
        }
        for (u, user) in self.users.values().enumerate() {
            for &g in &user.groups {
                r.group_members[g as usize].push(u as u32);
            }
            for &role in &user.roles {
                r.role_users[role as usize].push(u as u32);
            }
            for &p in &user.policies {
                r.policy_users[p as usize].push(u as u32);
            }
        }
        for (g, group) in self.groups.values().enumerate() {
            for &role in &group.roles {
                r.role_groups[role as usize].push(g as u32);
            }
            for &p in &group.policies {
                r.policy_groups[p as usize].push(g as u32);
            }
        }
        for (role, node) in self.roles.values().enumerate() {
            for &p in &node.policies {
                r.policy_roles[p as usize].push(role as u32);
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
    pub(crate) fn role_set(&self, role: u32) -> usize {
        self.policies.len() + role as usize
    }

    /// The set index of a group's folded set.
    pub(crate) fn group_set(&self, group: u32) -> usize {
        self.policies.len() + self.roles.len() + group as usize
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
                let statement = &self.statements[s as usize];
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
        let settle = |mut scoped: Vec<u32>| {
            scoped.sort_unstable();
            scoped.dedup();
            Folded { scoped }
        };
        for (r, role) in self.roles.values().enumerate() {
            let at = self.policies.len() + r;
            let (sources, rest) = bits.split_at_mut(at * unit);
            let mut scoped = Vec::new();
            for &p in &role.policies {
                or_into(
                    &mut rest[..unit],
                    &sources[p as usize * unit..(p as usize + 1) * unit],
                );
                scoped.extend_from_slice(&folded[p as usize].scoped);
            }
            folded.push(settle(scoped));
        }
        for (g, group) in self.groups.values().enumerate() {
            let at = self.policies.len() + self.roles.len() + g;
            let (sources, rest) = bits.split_at_mut(at * unit);
            let mut scoped = Vec::new();
            for &p in &group.policies {
                or_into(
                    &mut rest[..unit],
                    &sources[p as usize * unit..(p as usize + 1) * unit],
                );
                scoped.extend_from_slice(&folded[p as usize].scoped);
            }
            for &r in group
                .roles
                .iter()
                .filter(|&&r| self.roles[r as usize].assignable)
            {
                let set = self.policies.len() + r as usize;
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
    pub fn counts(&self) -> [usize; 4] {
        [
            self.users.len(),
            self.groups.len(),
            self.roles.len(),
            self.policies.len(),
        ]
    }

    /// The action universe, sorted: concrete actions, and wildcards standing for the actions they
    /// cover that the catalogue does not name.
    pub fn universe(&self) -> impl Iterator<Item = &ActionPattern> {
        self.universe.iter()
    }

    /// Every user, in snapshot order.
    pub fn users(&self) -> impl Iterator<Item = UserKey> {
        (0..self.users.len() as u32).map(UserKey)
    }

    /// A user's id.
    pub fn user_id(&self, user: UserKey) -> &str {
        self.users
            .get_index(user.0 as usize)
            .expect("key of this org")
            .0
    }

    /// A user's email.
    pub fn user_email(&self, user: UserKey) -> &str {
        &self.users[user.0 as usize].email
    }

    /// A group's id.
    pub fn group_id(&self, group: GroupKey) -> &str {
        self.groups
            .get_index(group.0 as usize)
            .expect("key of this org")
            .0
    }

    /// Finds a user by id or email (emails compare case-insensitively).
    pub fn find_user(&self, query: &str) -> Result<UserKey, LookupError> {
        // An exact id or email is a hash lookup; the scan for similar users runs only when
        // nothing matches.
        let by_email = self.lookup.emails.get(&ascii_lower(query));
        let by_email = by_email
            .iter()
            .filter(|&&i| self.users[i as usize].email.eq_ignore_ascii_case(query));
        let matches = positions(self.users.get_index_of(query), by_email);
        let describe = |i: usize| {
            let (id, u) = self.users.get_index(i).expect("index in range");
            format!("`{id}` ({})", u.email)
        };
        pick(
            EntityKind::User,
            query,
            matches,
            describe,
            || {
                self.users
                    .iter()
                    .enumerate()
                    .filter(|(_, (id, u))| {
                        contains_ci(id, query)
                            || contains_ci(&u.email, query)
                            || contains_ci(&u.name, query)
                    })
                    .map(|(i, _)| i)
                    .collect()
            },
            || {
                nearest_names(
                    query,
                    self.users
                        .iter()
                        .flat_map(|(id, u)| [id.as_str(), u.email.as_str()]),
                )
            },
        )
        .map(|i| UserKey(i as u32))
    }

    /// Finds a group by id or display name (an exact name first, then ignoring case).
    pub fn find_group(&self, query: &str) -> Result<GroupKey, LookupError> {
        find_named(
            EntityKind::Group,
            query,
            self.groups.get_index_of(query),
            &self.lookup.groups,
            self.groups.len(),
            |i| {
                let (id, g) = self.groups.get_index(i).expect("index in range");
                (id.as_str(), g.display_name.as_str())
            },
        )
        .map(|i| GroupKey(i as u32))
    }

    /// A role's id.
    pub fn role_id(&self, role: RoleKey) -> &str {
        self.roles
            .get_index(role.0 as usize)
            .expect("key of this org")
            .0
    }

    /// A policy's id.
    pub fn policy_id(&self, policy: PolicyKey) -> &str {
        self.policies
            .get_index(policy.0 as usize)
            .expect("key of this org")
            .0
    }

    pub(crate) fn role_ref(&self, role: u32) -> crate::report::EntityRef {
        let (id, node) = self
            .roles
            .get_index(role as usize)
            .expect("role of this org");
        crate::report::EntityRef {
            id: id.clone(),
            name: node.name.clone(),
        }
    }

    pub(crate) fn policy_ref(&self, policy: u32) -> crate::report::EntityRef {
        let (id, node) = self
            .policies
            .get_index(policy as usize)
            .expect("policy of this org");
        crate::report::EntityRef {
            id: id.clone(),
            name: node.name.clone(),
        }
    }

    /// Finds a role by id or name (an exact name first, then ignoring case).
    pub fn find_role(&self, query: &str) -> Result<RoleKey, LookupError> {
        find_named(
            EntityKind::Role,
            query,
            self.roles.get_index_of(query),
            &self.lookup.roles,
            self.roles.len(),
            |i| {
                let (id, r) = self.roles.get_index(i).expect("index in range");
                (id.as_str(), r.name.as_str())
            },
        )
        .map(|i| RoleKey(i as u32))
    }

    /// Finds a policy by id or name (an exact name first, then ignoring case).
    pub fn find_policy(&self, query: &str) -> Result<PolicyKey, LookupError> {
        find_named(
            EntityKind::Policy,
            query,
            self.policies.get_index_of(query),
            &self.lookup.policies,
            self.policies.len(),
            |i| {
                let (id, p) = self.policies.get_index(i).expect("index in range");
                (id.as_str(), p.name.as_str())
            },
        )
        .map(|i| PolicyKey(i as u32))
    }

    /// Finds a role trust by id.
    pub fn find_trust(&self, query: &str) -> Result<TrustKey, LookupError> {
        // A trust's name is its id: the name index finds the id.
        find_named(
            EntityKind::Trust,
            query,
            None,
            &self.lookup.trusts,
            self.trusts.len(),
            |i| (self.trusts[i].id.as_str(), self.trusts[i].id.as_str()),
        )
        .map(|i| TrustKey(i as u32))
    }

    /// Whether `user` is a member of `group`.
    pub fn is_member(&self, user: UserKey, group: GroupKey) -> bool {
        self.users[user.0 as usize].groups.contains(&group.0)
    }

    /// Whether `user` is the organization's root user.
    pub fn is_root(&self, user: UserKey) -> bool {
        self.root == Some(user.0)
    }
}

fn contains_ci(haystack: &str, needle: &str) -> bool {
    !needle.is_empty() && haystack.to_lowercase().contains(&needle.to_lowercase())
}

/// The positions of an id match and of key matches together, in snapshot order, once each.
fn positions<'a>(id: Option<usize>, keyed: impl Iterator<Item = &'a u32>) -> Vec<usize> {
    let mut all: Vec<usize> = keyed.map(|&i| i as usize).chain(id).collect();
    if all.len() > 1 {
        all.sort_unstable();
        all.dedup();
    }
    all
}

/// Finds an entity by id or name: exact matches first (`id`, the position of the entity with
/// that id, and `names`), then names ignoring case. `entity` gives the id and name at a
/// position, for messages and the scan for similar entities when nothing matches.
fn find_named<'a>(
    kind: EntityKind,
    query: &str,
    id: Option<usize>,
    names: &NameIndex,
    count: usize,
    entity: impl Fn(usize) -> (&'a str, &'a str),
) -> Result<usize, LookupError> {
    // The hashes name candidates; each is checked against its name.
    let exact = names.exact.get(query);
    let exact = positions(id, exact.iter().filter(|&&i| entity(i as usize).1 == query));
    let matches = if exact.is_empty() {
        let lower = query.to_lowercase();
        let candidates = names.lower.get(&lower).iter();
        positions(
            None,
            candidates.filter(|&&i| entity(i as usize).1.to_lowercase() == lower),
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
            (0..count)
                .filter(|&i| {
                    let (id, name) = entity(i);
                    contains_ci(id, query) || contains_ci(name, query)
                })
                .collect()
        },
        || {
            nearest_names(
                query,
                (0..count).flat_map(|i| {
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

fn pick(
    kind: EntityKind,
    query: &str,
    matches: Vec<usize>,
    describe: impl Fn(usize) -> String,
    similar: impl Fn() -> Vec<usize>,
    nearest: impl Fn() -> (Vec<String>, usize),
) -> Result<usize, LookupError> {
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
    index: u32,
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
            statement_node(si as u32, statement, actions)
        })
        .collect()
}

/// The node of a parsed statement whose action patterns cover `actions`.
fn statement_node(index: u32, statement: ParsedStatement, actions: BitSet) -> StatementNode {
    let few = (actions.count() <= 16).then(|| actions.iter().map(|a| a as u32).collect());
    let any_resource = statement.resources.iter().any(ResourcePattern::is_any);
    let scoped = statement.resources.iter().any(|r| !r.is_any());
    StatementNode {
        index,
        effect: statement.effect,
        patterns: statement.actions,
        few,
        actions,
        resources: statement.resources,
        any_resource,
        scoped,
    }
}

/// Reports the assumable roles of an attachment list, which grant no standing access.
fn standing_roles(
    snapshot: &Snapshot,
    path: ListPath,
    ids: &[String],
    resolved: Vec<u32>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<u32> {
    for &r in &resolved {
        {
            let role = &snapshot.roles[r as usize];
            if role.role_type == RoleType::Assumable {
                let i = ids.iter().position(|id| *id == role.id).unwrap_or(0);
                diagnostics.push(Diagnostic {
                    code: "assumable-role-attached",
                    path: format!("{path}[{i}]"),
                    message: format!(
                        "role `{}` is assumable; attached directly it grants no standing access",
                        role.id
                    ),
                });
            }
        }
    }
    resolved
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
