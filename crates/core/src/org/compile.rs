//! Compiling a [`Snapshot`] into an [`Org`]: ids indexed and resolved, policies parsed,
//! statements compiled over the action universe, reverse edges indexed and sets folded.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use super::lookup::Lookup;
use super::{
    CompileOptions, Folded, GroupIx, GroupNode, Org, Outsider, PolicyIx, PolicyNode, ReportCache,
    Reverse, RoleIx, RoleNode, SessionNode, Stamp, StatementIx, StatementNode, Steps, TrustNode,
    UserIx, UserNode, NO_RESOURCE_ID,
};
use crate::bitset::{BitSet, ElementIx};
use crate::catalogue::Catalogue;
use crate::error::{BuildError, Diagnostic, EntityKind};
use crate::idx::{Arena, Idx, IdxRange, IdxVec};
use crate::model::{RoleTrust, RoleType, Snapshot};
use crate::policy::{
    parse_document_with, ActionPattern, Effect, ParsedStatement, PatternMemo, ResourcePattern,
};
use crate::trust::TrustContext;

/// `id` looked up in `index`; an id that names no `kind` is a `dangling-reference` diagnostic
/// at `path`, its message ending with `consequence`.
pub(super) fn lookup(
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

/// The dense indexes of a snapshot's entities by id, for resolving its references. A plain
/// hash map: compiling looks up every reference of the snapshot (750,000 at 100,000 broad
/// users), and an `IndexMap` would add an indirection to each.
pub(super) type IdIndex<'a> = HashMap<&'a str, usize, foldhash::fast::RandomState>;

/// The ids of a snapshot's entities of one kind, copied side by side into one buffer, in
/// snapshot order. An [`IdIndex`] over them compares each looked-up id with memory that stays
/// in cache, where the snapshot's own strings lie scattered among the rest of each entity: at
/// 100,000 users, that comparison was a cache miss for each of half a million memberships.
pub(super) struct IdText {
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

/// The JSON path of an attachment list, `array[index].field`, written out only for a
/// diagnostic: most lists have none, and formatting every path cost an allocation per list.
#[derive(Debug, Clone, Copy)]
pub(super) struct ListPath {
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
pub(super) struct Ids<'a> {
    users: IdIndex<'a>,
    groups: IdIndex<'a>,
    roles: IdIndex<'a>,
    policies: IdIndex<'a>,
}

/// The ids of a snapshot's users, groups, roles and policies, each kind in one buffer.
pub(super) struct IdTexts([IdText; 4]);

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
pub(super) struct ParsedPolicies {
    /// (policy index, statement index within its document, statement), in snapshot order.
    statements: Vec<(usize, usize, ParsedStatement)>,
    /// Per policy, its statements' range in `statements`.
    ranges: Vec<IdxRange<StatementNode>>,
}

/// Turns a snapshot's references (attachment lists, trusts, the root user) into typed indices,
/// reporting the ones it drops.
pub(super) struct Resolver<'a> {
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
                    email: Arc::from(user.email.as_str()),
                    name: Arc::from(user.name.as_str()),
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
pub(super) enum Trusted {
    User,
    Group,
}

impl Org {
    /// Compiles a snapshot against a catalogue of known actions.
    ///
    /// Messy data is not fatal: dangling ids, unknown actions and the like are dropped or kept
    /// as they are, and reported by [`Org::diagnostics`]. A malformed policy document or a
    /// repeated entity id is an error. An explicit Deny wins ([`Precedence::DenyWins`]).
    ///
    /// [`Precedence::DenyWins`]: super::Precedence::DenyWins
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

    pub(super) fn index_reverse(&mut self) {
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

    /// Pre-folds the `*`-resource Allow and Deny sets per policy, role and group, and the lists
    /// of their resource-scoped statements.
    pub(super) fn fold(&mut self) {
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
}

/// Maps ids to dense indexes, failing on a repeated id.
pub(super) fn index_ids<'a>(
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

/// Parses every policy document of a snapshot, reporting empty policies and statements.
pub(super) fn parse_policies(
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
pub(super) fn report_empty_statement(
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
pub(super) fn policy_nodes(
    snapshot: &Snapshot,
    ranges: Vec<IdxRange<StatementNode>>,
) -> Arena<PolicyNode> {
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
    let ids = vec![NO_RESOURCE_ID; statement.resources.len()].into_boxed_slice();
    statement_node(index, statement.clone(), actions, ids)
}

/// Compiles the statements of a snapshot, moved rather than copied, over the sorted `universe`:
/// [`compile_statement`]'s nodes, each distinct pattern's elements found once, as a range of
/// the universe ([`ActionPattern::cover_range`]) rather than by testing every element.
pub(super) fn compile_statements(
    universe: &[ActionPattern],
    parsed: Vec<(usize, usize, ParsedStatement)>,
) -> Vec<StatementNode> {
    let mut ranges: foldhash::HashMap<ActionPattern, std::ops::Range<usize>> =
        foldhash::HashMap::default();
    // The distinct non-`*` resources, sorted: a resource's id is its rank here.
    let mut resources: Vec<ResourcePattern> = parsed
        .iter()
        .flat_map(|(_, _, statement)| statement.resources.iter())
        .filter(|r| !r.is_any())
        .cloned()
        .collect();
    resources.sort_unstable();
    resources.dedup();
    let id_of = |r: &ResourcePattern| match resources.binary_search(r) {
        Ok(id) => u32::try_from(id).expect("fewer than 2^32 distinct resources"),
        Err(_) => NO_RESOURCE_ID,
    };
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
            let ids = statement.resources.iter().map(id_of).collect();
            statement_node(si, statement, actions, ids)
        })
        .collect()
}

/// The node of a parsed statement whose action patterns cover `actions`, and whose resources
/// have the ids `resource_ids`.
pub(super) fn statement_node(
    index: usize,
    statement: ParsedStatement,
    actions: BitSet,
    resource_ids: Box<[u32]>,
) -> StatementNode {
    let few = (actions.count() <= 16).then(|| actions.iter().map(ElementIx::new).collect());
    let any_resource = statement.resources.iter().any(ResourcePattern::is_any);
    let scoped = statement.resources.iter().any(|r| !r.is_any());
    let typed_resource = statement
        .resources
        .iter()
        .any(|r| r.as_str().ends_with(":*"));
    StatementNode {
        index: u32::try_from(index).expect("statements per document are capped"),
        effect: statement.effect,
        patterns: statement.actions,
        few,
        actions,
        resources: statement.resources,
        resource_ids,
        any_resource,
        scoped,
        typed_resource,
    }
}

/// The action universe: catalogue actions, literal actions named by statements, and wildcards
/// named by statements. Reports actions and wildcards the catalogue does not know.
pub(super) fn build_universe(
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
