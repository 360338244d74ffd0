//! Org-wide questions: who can do this, what is redundant, what changed between two
//! snapshots, and which of a user's attachments matters most.

use std::collections::{BTreeMap, BTreeSet};

use rayon::prelude::*;

use crate::batch::{each_range_on_pool, BuildImpact, EachOptions};
use crate::bulk::{element_at, element_of};
use crate::error::QueryError;
use crate::eval::{Grants, Overlay};
use crate::idx::{Arena, Idx, IdxRange, IdxVec};
use crate::impact::{FxMap, PathKey};
use crate::model::ROOT_EQUIVALENT_ACL;
use crate::org::{
    GroupIx, GroupKey, GroupNode, Org, PolicyIx, PolicyNode, Precedence, RoleIx, RoleNode,
    StatementNode, TrustIx, UserIx, UserKey,
};
use crate::policy::{ActionPattern, Effect, ResourcePattern};
use crate::report::{
    Assumable, CoveredUser, Diff, EntityChanges, EntityRef, Entry, OutsideAssumable, Path, PathId,
    ProvenanceChange, Rank, RankedRemoval, Redundancy, RedundantEdge, ScopeRef, ShadowedStatement,
    UserDiff, UserPaths, UserRef, UserSummary, WhoCan, SCHEMA_VERSION,
};
use crate::simulate::{Change, Covering, Detail, Holder, Principal};

/// The memberships and attachments [`Org::redundancy_of`] tries: those that touch one of
/// `groups` or one of `users`. Each group and each user adds its edges, so with both, an edge
/// is tried when it touches either (a union, never an intersection).
///
/// - A group's edges: its memberships (`remove_member` of any member), the policies attached
///   to it and the roles attached to it.
/// - A user's edges: their memberships (`remove_member` from any of their groups), their
///   direct policies and their roles.
///
/// The policies of a role are the role's edges, not a group's or a user's, so no scope tries
/// them. An empty scope tries nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RedundancyScope {
    /// The groups whose edges are tried.
    pub groups: BTreeSet<GroupKey>,
    /// The users whose edges are tried.
    pub users: BTreeSet<UserKey>,
}

impl RedundancyScope {
    /// Whether `change` (the removal or addition of one edge) touches a group or a user of the
    /// scope.
    pub fn touches(&self, change: &Change) -> bool {
        match change {
            Change::RemoveMember { group, user } | Change::AddMember { group, user } => {
                self.groups.contains(group) || self.users.contains(user)
            }
            Change::DetachPolicy { from: holder, .. } | Change::AttachPolicy { to: holder, .. } => {
                match holder {
                    Holder::User(user) => self.users.contains(user),
                    Holder::Group(group) => self.groups.contains(group),
                    Holder::Role(_) => false,
                }
            }
            Change::DetachRole {
                from: principal, ..
            }
            | Change::AttachRole { to: principal, .. } => match principal {
                Principal::User(user) => self.users.contains(user),
                Principal::Group(group) => self.groups.contains(group),
            },
            _ => false,
        }
    }
}

/// Whether losing (or gaining) the universe element `element` takes away (or gives) an action
/// that `pattern` matches.
///
/// A wildcard element stands only for the actions it covers that no narrower element of
/// `universe` names: losing `compute.*` does not lose `compute.instance.Read` when that action
/// is an element of its own.
pub fn pattern_reaches<'a>(
    pattern: &ActionPattern,
    element: &ActionPattern,
    universe: impl Iterator<Item = &'a ActionPattern>,
) -> bool {
    // INVARIANT: the elements covering a pattern are nested, so the longest is the narrowest,
    // the one whose meaning holds the pattern's unnamed actions.
    pattern.covers(element)
        || universe
            .filter(|e| e.covers(pattern))
            .max_by_key(|e| e.as_str().len())
            == Some(element)
}

/// Users [`Org::who_can_observed`] hands a worker at a time: most are passed over on their
/// pre-folded sets, so a chunk is large enough to outweigh handing it out.
const USERS_PER_CHUNK: usize = 256;

impl Org {
    /// [`pattern_reaches`] over this organization's universe.
    pub fn reaches(&self, pattern: &ActionPattern, element: &str) -> bool {
        ActionPattern::parse(element)
            .is_ok_and(|e| pattern_reaches(pattern, &e, self.universe_slice().iter()))
    }

    /// The trusts naming a principal outside the organization's users (an OIDC issuer, another
    /// organization) whose role has an Allow covering `element` on `key` and no Deny of its own
    /// covering it, and that the trust context does not refuse; in trust order.
    fn outsiders_allowed(&self, element: usize, key: &ResourcePattern) -> Vec<OutsideAssumable> {
        let covering = |role: RoleIx, effect: Effect| {
            self.as_is().role_policies(role).iter().any(|&p| {
                self.policy_nodes()[p].statements.clone().any(|s| {
                    let statement = &self.statement_nodes()[s];
                    statement.effect == effect
                        && statement.actions.contains(element)
                        && statement.covers_resource(key)
                })
            })
        };
        let mut out = Vec::new();
        for (t, trust) in self.trust_nodes().iter() {
            let Some(outsider) = &trust.outside else {
                continue;
            };
            if trust.refused.is_some()
                || !covering(trust.role, Effect::Allow)
                || covering(trust.role, Effect::Deny)
            {
                continue;
            }
            out.push(OutsideAssumable {
                principal_kind: outsider.kind.to_string(),
                principal_id: outsider.id.clone(),
                role: self.role_ref(trust.role),
                trust: self.trust_summary(t),
            });
        }
        out
    }

    /// Every user allowed to do `action` on `resource`, with all paths, and every user for whom
    /// an explicit Deny blocks an Allow. `action` is read as by [`Org::explain`]. Under
    /// nearest-wins, the paths are those that count, and a denied user's `overridden` holds
    /// every Allow path, the farther ones too.
    pub fn who_can(&self, action: &str, resource: &str) -> Result<WhoCan, QueryError> {
        self.who_can_observed(action, resource, &|_, _| {})
    }

    /// [`Org::who_can`], calling `progress(done, total)` with the users checked so far (for a
    /// progress bar), as [`Org::simulate_each`] does: from the pool's workers, one call at a
    /// time, `done` increasing up to every user of the organization.
    ///
    /// The users are checked on the rayon pool the call runs in (the global pool unless the
    /// caller runs it inside [`rayon::ThreadPool::install`]), 256 at a time, and the answer is
    /// the same, byte for byte, whatever the pool's size.
    pub fn who_can_observed(
        &self,
        action: &str,
        resource: &str,
        progress: &(dyn Fn(usize, usize) + Sync),
    ) -> Result<WhoCan, QueryError> {
        let asked = ActionPattern::parse(action).map_err(|source| QueryError::Action { source })?;
        let key =
            ResourcePattern::parse(resource).map_err(|source| QueryError::Resource { source })?;
        let located = self.locate(&asked);
        if asked.is_wildcard() && !matches!(located, Some((_, true))) {
            return Err(QueryError::UnnamedWildcard {
                action: action.to_string(),
            });
        }
        let mut report = WhoCan {
            schema_version: SCHEMA_VERSION,
            action: action.to_string(),
            resource: resource.to_string(),
            evaluated_as: located
                .filter(|(_, exact)| !exact)
                .map(|(i, _)| self.universe_slice()[element_at(i)].to_string()),
            allowed: Vec::new(),
            denied: Vec::new(),
            root_equivalent: Vec::new(),
            may_be_allowed: Vec::new(),
            outside: Vec::new(),
        };
        let none = Overlay::none();
        // Per user, whether it is listed and where: users are judged apart from each other,
        // and the answers kept in user order.
        let judge = |i: usize| -> Option<(bool, UserPaths)> {
            let user = UserIx::new(i);
            if self.root() == Some(user) {
                return Some((
                    true,
                    UserPaths {
                        user: self.user_summary(user),
                        via: vec![self.root_path(user)],
                        overridden: Vec::new(),
                    },
                ));
            }
            let (element, _) = located?;
            // Most users reach no statement on this element: the pre-folded sets say so
            // without walking their routes.
            if !self.reaches_element(user, element_at(element)) {
                return None;
            }
            let judgement = self
                .grants_for(user, &none, element)
                .judge(self, &none, element, &key);
            if !judgement.deny.is_empty() {
                // Every Allow the Deny blocks: those at its distance, and (under nearest-wins)
                // the farther ones.
                let mut blocked = judgement.far_allow;
                blocked.extend_from_slice(&judgement.allow);
                (!blocked.is_empty()).then(|| {
                    let denied = UserPaths {
                        user: self.user_summary(user),
                        via: self.paths(user, &judgement.deny, &none),
                        overridden: self.paths(user, &blocked, &none),
                    };
                    (false, denied)
                })
            } else if !judgement.allow.is_empty() {
                // Under nearest-wins, the farther Denies the nearer Allow overrides.
                let allowed = UserPaths {
                    user: self.user_summary(user),
                    via: self.paths(user, &judgement.allow, &none),
                    overridden: self.paths(user, &judgement.far_deny, &none),
                };
                Some((true, allowed))
            } else {
                None
            }
        };
        // Only the users listed are kept, chunk by chunk, and moved out a chunk at a time (each
        // chunk freed once moved, so that the answer is not held twice).
        let users = self.user_nodes().len();
        let chunks = each_range_on_pool(users, USERS_PER_CHUNK, progress, &|range| {
            range.filter_map(judge).collect()
        });
        let allowed = chunks
            .iter()
            .flatten()
            .filter(|(allowed, _)| *allowed)
            .count();
        let listed: usize = chunks.iter().map(Vec::len).sum();
        report.allowed.reserve_exact(allowed);
        report.denied.reserve_exact(listed - allowed);
        for (allowed, paths) in chunks.into_iter().flatten() {
            if allowed {
                report.allowed.push(paths);
            } else {
                report.denied.push(paths);
            }
        }
        report.allowed.sort_by(|a, b| a.user.id.cmp(&b.user.id));
        report.denied.sort_by(|a, b| a.user.id.cmp(&b.user.id));
        // Legacy ACLs are not IAM: a root-equivalent one lets its holder do anything.
        let allowed: BTreeSet<&str> = report.allowed.iter().map(|u| &*u.user.id).collect();
        let root_equivalent: Vec<UserSummary> = self
            .user_nodes()
            .indices()
            .filter(|&user| {
                let node = &self.user_nodes()[user];
                !node.suspended
                    && node.legacy_acls.iter().any(|a| a == ROOT_EQUIVALENT_ACL)
                    && !allowed.contains(self.user_nodes().id(user))
            })
            .map(|user| self.user_summary(user))
            .collect();
        report.root_equivalent = root_equivalent;
        report.root_equivalent.sort_by(|a, b| a.id.cmp(&b.id));
        if let Some((element, _)) = located {
            report.outside = self.outsiders_allowed(element_at(element), &key);
        }
        if !self.conditionals().is_empty() {
            self.mark_conditional(&mut report, &asked, &key);
        }
        Ok(report)
    }

    /// Narrows each listed user's `conditional` to the statements touching `asked` on `key`,
    /// and lists the users a conditional Allow alone may allow.
    fn mark_conditional(&self, report: &mut WhoCan, asked: &ActionPattern, key: &ResourcePattern) {
        let mut listed = BTreeSet::new();
        let users = report.allowed.iter_mut().chain(report.denied.iter_mut());
        for user in users
            .map(|u| &mut u.user)
            .chain(report.root_equivalent.iter_mut())
        {
            let Some(ix) = self.user_nodes().find(&user.id) else {
                continue;
            };
            user.conditional = self.conditional_for(ix, Some((asked, key)));
            listed.insert(ix);
        }
        for user in self.user_nodes().indices() {
            if listed.contains(&user) {
                continue;
            }
            let conditional = self.conditional_for(user, Some((asked, key)));
            if conditional.iter().any(|c| c.effect == "Allow") {
                let mut summary = self.user_summary(user);
                summary.conditional = conditional;
                report.may_be_allowed.push(summary);
            }
        }
    }

    /// Every single removal of an attachment or membership of the organization, as a change.
    pub(crate) fn every_edge(&self) -> Vec<Change> {
        let mut out = Vec::new();
        let view = self.as_is();
        // A suspended user's attachments grant nothing today, so their removal would be
        // "redundant" only vacuously: they are left out.
        for (u, _, _) in self.user_nodes().iter().filter(|(_, _, n)| !n.suspended) {
            let user = self.user_key(u);
            for &g in view.user_groups(u).iter() {
                out.push(Change::RemoveMember {
                    group: self.group_key(g),
                    user,
                });
            }
            for &p in view.user_policies(u).iter() {
                out.push(Change::DetachPolicy {
                    policy: self.policy_key(p),
                    from: Holder::User(user),
                });
            }
            for &r in view.user_roles_raw(u).iter() {
                out.push(Change::DetachRole {
                    role: self.role_key(r),
                    from: Principal::User(user),
                });
            }
        }
        for (g, _, _) in self.group_nodes().iter() {
            let group = self.group_key(g);
            for &p in view.group_policies(g).iter() {
                out.push(Change::DetachPolicy {
                    policy: self.policy_key(p),
                    from: Holder::Group(group),
                });
            }
            for &r in view.group_roles_raw(g).iter() {
                out.push(Change::DetachRole {
                    role: self.role_key(r),
                    from: Principal::Group(group),
                });
            }
        }
        // An assumable role's policies give no standing access; what they give when assumed is
        // not judged here, so they are never called redundant.
        for (r, _, _) in self.role_nodes().iter().filter(|(_, _, n)| n.assignable) {
            for &p in view.role_policies(r).iter() {
                out.push(Change::DetachPolicy {
                    policy: self.policy_key(p),
                    from: Holder::Role(self.role_key(r)),
                });
            }
        }
        out
    }

    /// Memberships and attachments whose removal loses nothing for anyone (with what covers
    /// them), and Allow statements shadowed by Denies for every user they reach.
    ///
    /// Suspended users' attachments and assumable roles' policies are not considered: the
    /// first grant nothing today by rule, the second are not standing access.
    pub fn redundancy(&self) -> Redundancy {
        self.redundancy_observed(&|_, _| {})
    }

    /// [`Org::redundancy`], calling `progress(done, total)` with the removals tried so far (for
    /// a progress bar), as [`Org::simulate_each`] does: from the pool's workers, one call at a
    /// time, `done` increasing.
    ///
    /// The removals are tried on the rayon pool the call runs in (the global pool unless the
    /// caller runs it inside [`rayon::ThreadPool::install`]), a few at a time, and the answers
    /// put back in order, so the answer is the same, byte for byte, whatever the pool's size.
    pub fn redundancy_observed(&self, progress: &(dyn Fn(usize, usize) + Sync)) -> Redundancy {
        self.redundancy_in(None, progress)
    }

    /// [`Org::redundancy_observed`] narrowed to `scope`: only the memberships and attachments that
    /// touch one of its groups or users are tried ([`RedundancyScope::touches`]), and only the
    /// statements of policies attached directly to one of them are checked for shadowing.
    ///
    /// The answer is the whole organization's answer filtered: its `edges` are exactly those
    /// of [`Org::redundancy`] that touch the scope, in the same order, and its `shadowed`
    /// exactly the statements there whose policy is attached directly to a group or user of the
    /// scope (each still judged for every user it reaches, in the scope or not). `scope` names
    /// what it was narrowed to. The same whatever the pool's size.
    pub fn redundancy_of(
        &self,
        scope: &RedundancyScope,
        progress: &(dyn Fn(usize, usize) + Sync),
    ) -> Redundancy {
        self.redundancy_in(Some(scope), progress)
    }

    fn redundancy_in(
        &self,
        scope: Option<&RedundancyScope>,
        progress: &(dyn Fn(usize, usize) + Sync),
    ) -> Redundancy {
        self.redundancy_stream(scope, progress).collect()
    }

    /// [`Org::redundancy_observed`] (with `scope`, [`Org::redundancy_of`]) as a stream: nothing is
    /// judged until [`RedundancyStream::each`] hands over the redundant edges one by one, or
    /// the stream is serialized, which writes the same report, byte for byte, as serializing
    /// the [`Redundancy`], while holding only a block of edges and the table of paths at a
    /// time. For an organization whose answer is too large to hold.
    pub fn redundancy_stream<'o>(
        &'o self,
        scope: Option<&RedundancyScope>,
        progress: &'o (dyn Fn(usize, usize) + Sync),
    ) -> RedundancyStream<'o> {
        let mut every = self.every_edge();
        if let Some(scope) = scope {
            every.retain(|c| scope.touches(c));
        }
        RedundancyStream {
            org: self,
            scope: scope.cloned(),
            every,
            progress,
        }
    }

    /// The policies a scope checks for shadowed statements: those attached directly to one of
    /// its groups or users.
    fn scope_policies(&self, scope: &RedundancyScope) -> BTreeSet<PolicyIx> {
        let mut policies = BTreeSet::new();
        for &group in &scope.groups {
            policies.extend(self.as_is().group_policies(self.group_ix(group)).iter());
        }
        for &user in &scope.users {
            policies.extend(self.as_is().user_policies(self.user_ix(user)).iter());
        }
        policies
    }

    /// A scope as a report names it.
    fn scope_ref(&self, scope: &RedundancyScope) -> ScopeRef {
        ScopeRef {
            groups: scope
                .groups
                .iter()
                .map(|&g| self.group_ref(self.group_ix(g)))
                .collect(),
            users: scope
                .users
                .iter()
                .map(|&u| UserRef {
                    id: self.user_id(u).to_string(),
                    email: self.user_nodes()[self.user_ix(u)].email.to_string(),
                })
                .collect(),
        }
    }

    /// The shadowed Allow statements, of every policy or (`Some`) of those policies only. The
    /// policies are checked on the caller's pool, their statements put back in policy order.
    fn shadowed(&self, only: Option<&BTreeSet<PolicyIx>>) -> Vec<ShadowedStatement> {
        let policies: Vec<PolicyIx> = self
            .policy_nodes()
            .iter()
            .map(|(p, _, _)| p)
            .filter(|p| only.is_none_or(|only| only.contains(p)))
            .collect();
        let found: Vec<Vec<ShadowedStatement>> = policies
            .par_iter()
            .with_max_len(1)
            .map(|&p| self.shadowed_of(p))
            .collect();
        found.into_iter().flatten().collect()
    }

    /// The shadowed Allow statements of one policy.
    fn shadowed_of(&self, p: PolicyIx) -> Vec<ShadowedStatement> {
        let none = Overlay::none();
        let mut out = Vec::new();
        // The policy's users and their grants, found at its first candidate statement and
        // shared by the others: most statements are decided by their first user.
        let mut reached: Option<Vec<UserIx>> = None;
        let mut grants: Vec<Option<Grants>> = Vec::new();
        let statements = self.policy_nodes()[p].statements.clone();
        for s in statements.clone() {
            let statement = &self.statement_nodes()[s];
            if statement.effect != Effect::Allow
                || statement.actions.count() == 0
                || statement.resources.is_empty()
            {
                continue;
            }
            let reached = reached.get_or_insert_with(|| {
                let mut users = BTreeSet::new();
                self.holders_of_policy(p, &mut users);
                users
                    .into_iter()
                    .filter(|&u| self.root() != Some(u) && self.has_standing(u, &none))
                    .collect()
            });
            if reached.is_empty() {
                continue;
            }
            // Under deny-wins, a Deny of the policy itself reaches every user the Allow does:
            // when such Denies cover every pair, no user's grants need be asked.
            let own_denies = self.precedence() == Precedence::DenyWins
                && statement.actions.iter().all(|a| {
                    statement.resources.iter().all(|key| {
                        statements.clone().any(|d| {
                            let deny = &self.statement_nodes()[d];
                            deny.effect == Effect::Deny
                                && deny.actions.contains(a)
                                && deny.covers_resource(key)
                        })
                    })
                });
            // Only the first few users' grants are kept: a statement shadowed for many
            // users is rare, and their grants, held at once, would be large.
            grants.resize_with(reached.len().min(KEPT_GRANTS), || None);
            let all_denied = own_denies
                || reached.iter().enumerate().all(|(i, &u)| {
                    let fresh;
                    let grants = match grants.get_mut(i) {
                        Some(kept) => kept.get_or_insert_with(|| self.grants(u, &none)),
                        None => {
                            fresh = self.grants(u, &none);
                            &fresh
                        }
                    };
                    statement.actions.iter().all(|a| {
                        statement.resources.iter().all(|key| {
                            !grants
                                .judge(self, &none, element_of(a), key)
                                .deny
                                .is_empty()
                        })
                    })
                });
            if all_denied {
                out.push(ShadowedStatement {
                    policy: self.policy_ref(p),
                    index: statement.index,
                    users: reached.len(),
                });
            }
        }
        out
    }

    fn holders_of_policy(&self, policy: PolicyIx, into: &mut BTreeSet<UserIx>) {
        into.extend(self.as_is().policy_users(policy));
        let mut groups: BTreeSet<GroupIx> =
            self.as_is().policy_groups(policy).iter().copied().collect();
        for &role in self.as_is().policy_roles(policy) {
            if self.role_nodes()[role].assignable {
                into.extend(self.as_is().role_users(role));
                groups.extend(self.as_is().role_groups(role));
            }
        }
        for group in groups {
            into.extend(self.as_is().group_members(group));
        }
    }

    /// Every membership, role and direct policy of `user`, each removed alone, ranked by how
    /// much it takes away (most first).
    pub fn rank(&self, user: UserKey) -> Rank {
        self.rank_with(user, &RankFilter::default())
    }

    /// [`Org::rank`], keeping only the removals `filter` admits. The removals are judged on the
    /// rayon pool the call runs in; the same answer whatever the pool's size.
    ///
    /// Each removal reaches `user` alone; its entries (with every path) are built only when it
    /// takes or gives something.
    pub fn rank_with(&self, user: UserKey, filter: &RankFilter) -> Rank {
        let (view, u) = (self.as_is(), self.user_ix(user));
        let mut changes: Vec<Change> = Vec::new();
        changes.extend(view.user_groups(u).iter().map(|&g| Change::RemoveMember {
            group: self.group_key(g),
            user,
        }));
        changes.extend(view.user_roles_raw(u).iter().map(|&r| Change::DetachRole {
            role: self.role_key(r),
            from: Principal::User(user),
        }));
        changes.extend(view.user_policies(u).iter().map(|&p| Change::DetachPolicy {
            policy: self.policy_key(p),
            from: Holder::User(user),
        }));
        let options = EachOptions {
            build: BuildImpact::IfItChanges,
            detail: Detail::Full,
        };
        let id = self.user_id(user);
        let mut removals: Vec<RankedRemoval> = self
            .simulate_each_into(&changes, &options, &|_, _| {}, &|i, single| {
                let Some(mut impact) = single.impact else {
                    // Takes and gives nothing: the user is reported with empty lists.
                    return RankedRemoval {
                        change: self.summarize(&changes[i]),
                        lost: Vec::new(),
                        gained: Vec::new(),
                        assumable_lost: Vec::new(),
                    };
                };
                let mine = impact.users.iter().position(|u| &*u.user.id == id);
                let (lost, gained, assumable_lost) = match mine {
                    Some(i) => {
                        let u = impact.flatten_user(&impact.users[i]);
                        (u.lost, u.gained, u.assumable_lost)
                    }
                    None => Default::default(),
                };
                RankedRemoval {
                    change: impact.changes.remove(0),
                    lost,
                    gained,
                    assumable_lost,
                }
            })
            .expect("removing an existing edge is a valid change");
        removals.retain(|removal| filter.admits(self, removal));
        removals.sort_by(|a, b| {
            b.lost
                .len()
                .cmp(&a.lost.len())
                .then_with(|| a.change.describe().cmp(&b.change.describe()))
        });
        Rank {
            schema_version: SCHEMA_VERSION,
            user: self.user_summary(self.user_ix(user)),
            removals,
        }
    }
}

/// Which removals [`Org::rank_with`] keeps, by what each takes away. The default keeps all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RankFilter {
    /// Keep only removals after which the user still has each of these: none of what the
    /// removal takes away is an action the pattern matches ([`Org::reaches`]).
    pub keep: Vec<ActionPattern>,
    /// Keep only removals that take each of these away: for each, something the removal takes
    /// away is an action the pattern matches.
    pub drop: Vec<ActionPattern>,
}

impl RankFilter {
    /// Whether `removal` (of `org`'s rank) passes the filter.
    pub fn admits(&self, org: &Org, removal: &RankedRemoval) -> bool {
        let loses = |p: &ActionPattern| removal.lost.iter().any(|e| org.reaches(p, &e.action));
        self.keep.iter().all(|p| !loses(p)) && self.drop.iter().all(loses)
    }
}

/// Users of a policy whose grants [`Org::shadowed`] keeps from one statement to the next.
const KEPT_GRANTS: usize = 16;

/// Removals judged at a time by [`RedundancyStream::each`]: each block is shared out between
/// the pool's workers and its redundant edges handed over in order before the next is judged, so that
/// only one block's answers are held at once.
const BLOCK: usize = 2048;

/// The redundancy report judged and handed over edge by edge: [`Org::redundancy_stream`].
pub struct RedundancyStream<'o> {
    org: &'o Org,
    scope: Option<RedundancyScope>,
    /// The removals to try, in report order.
    every: Vec<Change>,
    progress: &'o (dyn Fn(usize, usize) + Sync),
}

impl RedundancyStream<'_> {
    /// How many removals are tried.
    pub fn tried(&self) -> usize {
        self.every.len()
    }

    /// What the report is narrowed to (the report's `scope`).
    pub fn scope(&self) -> Option<ScopeRef> {
        self.scope.as_ref().map(|scope| self.org.scope_ref(scope))
    }

    /// The report's `shadowed` statements.
    pub fn shadowed(&self) -> Vec<ShadowedStatement> {
        let policies = self.scope.as_ref().map(|s| self.org.scope_policies(s));
        self.org.shadowed(policies.as_ref())
    }

    /// The whole report, held in memory.
    pub fn collect(&self) -> Redundancy {
        let mut edges = Vec::new();
        let paths = self.each(&mut |edge, _| edges.push(edge));
        Redundancy {
            schema_version: SCHEMA_VERSION,
            edges,
            shadowed: self.shadowed(),
            paths,
            scope: self.scope(),
        }
    }

    /// Judges every removal, a block at a time on the pool the call runs in, calling
    /// `sink(edge, paths)` on the calling thread for each redundant edge, in report order,
    /// and `progress` from the workers as removals are tried. `paths` is the report's table of paths so
    /// far: it holds every id the edge refers to. Returns the whole table (the report's
    /// `paths`). The same edges and ids whatever the pool's size.
    pub fn each(&self, sink: &mut dyn FnMut(RedundantEdge, &[Path])) -> Vec<Path> {
        // Each removal alone, judged in one pass that gives up at its first change; of those
        // that change nothing, the covered users with the keys of their covering paths.
        let total = self.every.len();
        let mut table = PathTable::default();
        for (block, changes) in self.every.chunks(BLOCK).enumerate() {
            let start = block * BLOCK;
            let found = self
                .org
                .covering_each(changes, &|done, _| (self.progress)(start + done, total))
                .expect("removing an existing edge is a valid change");
            for covering in found.into_iter().flatten() {
                let edge = table.edge(self.org, covering);
                sink(edge, &table.paths);
            }
        }
        table.paths
    }
}

impl serde::Serialize for RedundancyStream<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        // INVARIANT: the fields, their order and their skipping are those of the derived
        // `Serialize` of `Redundancy`, so that both write the same bytes.
        let paths = std::cell::RefCell::new(Vec::new());
        let mut report = serializer.serialize_struct("Redundancy", 5)?;
        report.serialize_field("schema_version", &SCHEMA_VERSION)?;
        report.serialize_field(
            "edges",
            &StreamedEdges {
                stream: self,
                paths: &paths,
            },
        )?;
        report.serialize_field("shadowed", &self.shadowed())?;
        report.serialize_field("paths", &*paths.borrow())?;
        match self.scope() {
            Some(scope) => report.serialize_field("scope", &Some(scope))?,
            None => report.skip_field("scope")?,
        }
        report.end()
    }
}

/// The edges of a [`RedundancyStream`], judged and written one block at a time; the table of
/// paths left in `paths` for the field after them.
struct StreamedEdges<'s, 'o> {
    stream: &'s RedundancyStream<'o>,
    paths: &'s std::cell::RefCell<Vec<Path>>,
}

impl serde::Serialize for StreamedEdges<'_, '_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{Error, SerializeSeq};
        let mut seq = serializer.serialize_seq(None)?;
        let mut failed = None;
        let paths = self.stream.each(&mut |edge, _| {
            if failed.is_none() {
                failed = seq.serialize_element(&edge).err();
            }
        });
        if let Some(e) = failed {
            return Err(S::Error::custom(e));
        }
        *self.paths.borrow_mut() = paths;
        seq.end()
    }
}

/// The covering paths of one report, each once, numbered by first reference.
#[derive(Default)]
struct PathTable {
    ids: FxMap<PathKey, PathId>,
    paths: Vec<Path>,
}

impl PathTable {
    /// A redundant edge from what covers it, its paths numbered in the table, which takes
    /// the paths it has not seen yet, in order of first reference.
    fn edge(&mut self, org: &Org, covering: Covering) -> RedundantEdge {
        let covered = covering
            .users
            .into_iter()
            .map(|(user, kept, keys)| CoveredUser {
                user: UserRef {
                    id: org.user_nodes().id(user).to_string(),
                    email: org.user_nodes()[user].email.to_string(),
                },
                kept,
                via: keys.into_iter().map(|key| self.id(org, key)).collect(),
            })
            .collect();
        RedundantEdge {
            change: covering.change,
            covered,
        }
    }

    /// A path's id; a path met for the first time is built and numbered next.
    fn id(&mut self, org: &Org, key: PathKey) -> PathId {
        *self.ids.entry(key).or_insert_with(|| {
            self.paths.push(org.build_path(key));
            PathId((self.paths.len() - 1) as u32)
        })
    }
}

/// One user's grants in one organization, answering for elements named as text, so that two
/// organizations with different universes can be compared.
struct Side<'a> {
    org: &'a Org,
    user: UserIx,
    grants: Grants,
}

impl Side<'_> {
    fn new(org: &Org, user: UserIx) -> Side<'_> {
        Side {
            org,
            user,
            grants: org.grants(user, &Overlay::none()),
        }
    }

    /// Element texts with any statement, and their resource keys.
    fn keys(&self, into: &mut BTreeMap<String, BTreeSet<ResourcePattern>>) {
        let none = Overlay::none();
        for action in self.grants.actions() {
            let keys = into
                .entry(self.org.universe_slice()[element_at(action)].to_string())
                .or_default();
            let mut found = Vec::new();
            self.grants.keys(self.org, &none, action, &mut found);
            keys.extend(found.into_iter().cloned());
        }
    }

    /// The resource keys of the universe element that decides for an element given as text.
    fn located_keys(&self, element: &str, into: &mut BTreeSet<ResourcePattern>) {
        let located = ActionPattern::parse(element)
            .ok()
            .and_then(|e| self.org.locate(&e));
        if let Some((index, _)) = located {
            let none = Overlay::none();
            let mut found = Vec::new();
            self.grants.keys(self.org, &none, index, &mut found);
            into.extend(found.into_iter().cloned());
        }
    }

    /// (allowed, allow entry) for an element given as text.
    fn judge(&self, element: &str, key: &ResourcePattern) -> (bool, Entry) {
        let none = Overlay::none();
        let entry = |via| Entry {
            action: element.to_string(),
            resource: key.to_string(),
            via,
        };
        if self.org.root() == Some(self.user) {
            return (true, entry(vec![self.org.root_path(self.user)]));
        }
        let located = ActionPattern::parse(element)
            .ok()
            .and_then(|e| self.org.locate(&e));
        let Some((index, _)) = located else {
            return (false, entry(Vec::new()));
        };
        let judgement = self.grants.judge(self.org, &none, index, key);
        let allowed = judgement.allowed();
        (
            allowed,
            entry(self.org.paths(self.user, &judgement.allow, &none)),
        )
    }
}

fn entity_changes<'a>(
    old: impl Iterator<Item = (&'a str, &'a str)>,
    new: impl Iterator<Item = (&'a str, &'a str)>,
) -> (Vec<EntityRef>, Vec<EntityRef>) {
    let old: BTreeMap<&str, &str> = old.collect();
    let new: BTreeMap<&str, &str> = new.collect();
    let only = |a: &BTreeMap<&str, &str>, b: &BTreeMap<&str, &str>| {
        a.iter()
            .filter(|(id, _)| !b.contains_key(*id))
            .map(|(id, name)| EntityRef {
                id: id.to_string(),
                name: name.to_string(),
            })
            .collect()
    };
    (only(&new, &old), only(&old, &new))
}

/// Which entities of a new organization are the same, content and names, as in an old one,
/// found by id. Conservative: anything that differs, even in order, counts as changed.
struct Sameness<'a> {
    old: &'a Org,
    new: &'a Org,
    policies: IdxVec<PolicyNode, bool>,
    roles: IdxVec<RoleNode, bool>,
    groups: IdxVec<GroupNode, bool>,
    /// The two organizations have the same role trusts, naming the same roles, users and
    /// groups: then a user unchanged otherwise has the same assumable roles.
    trusts: bool,
}

impl<'a> Sameness<'a> {
    fn new(old: &'a Org, new: &'a Org) -> Sameness<'a> {
        let policies = new
            .policy_nodes()
            .iter()
            .map(|(_, id, p)| {
                old.policy_nodes().find(id).is_some_and(|o| {
                    let o = &old.policy_nodes()[o];
                    let statements = |org: &Org, range: IdxRange<StatementNode>| {
                        range
                            .map(|s| &org.statement_nodes()[s])
                            .map(|s| (s.index, s.effect, s.patterns.clone(), s.resources.clone()))
                            .collect::<Vec<_>>()
                    };
                    o.name == p.name
                        && statements(old, o.statements.clone())
                            == statements(new, p.statements.clone())
                })
            })
            .collect();
        let trust = |org: &'a Org, t: &'a crate::org::TrustNode| {
            (
                t.id.as_str(),
                org.role_nodes().id(t.role),
                org.role_nodes()[t.role].assignable,
                t.user.map(|u| org.user_nodes().id(u)),
                t.group.map(|g| org.group_nodes().id(g)),
            )
        };
        let trusts = old.trust_nodes().len() == new.trust_nodes().len()
            && old
                .trust_nodes()
                .iter()
                .zip(new.trust_nodes().iter())
                .all(|((_, o), (_, n))| trust(old, o) == trust(new, n));
        let mut same = Sameness {
            old,
            new,
            policies,
            roles: IdxVec::default(),
            groups: IdxVec::default(),
            trusts,
        };
        same.roles = new
            .role_nodes()
            .iter()
            .map(|(rn, id, r)| {
                old.role_nodes().find(id).is_some_and(|ro| {
                    let o = &old.role_nodes()[ro];
                    o.name == r.name
                        && o.assignable == r.assignable
                        && same.list(
                            &old.as_is().role_policies(ro),
                            &new.as_is().role_policies(rn),
                        )
                })
            })
            .collect();
        same.groups = new
            .group_nodes()
            .iter()
            .map(|(gn, id, g)| {
                old.group_nodes().find(id).is_some_and(|go| {
                    let (o, ov, nv) = (&old.group_nodes()[go], old.as_is(), new.as_is());
                    o.display_name == g.display_name
                        && same.list(&ov.group_policies(go), &nv.group_policies(gn))
                        && same.list(&ov.group_roles_raw(go), &nv.group_roles_raw(gn))
                })
            })
            .collect();
        same
    }

    /// Two attachment lists name the same entities, in the same order, each unchanged.
    fn list<T: Attached>(&self, old: &[Idx<T>], new: &[Idx<T>]) -> bool {
        old.len() == new.len()
            && old.iter().zip(new).all(|(&o, &n)| {
                T::arena(self.old).id(o) == T::arena(self.new).id(n) && T::unchanged(self)[n]
            })
    }

    fn user(&self, old: UserIx, new: UserIx) -> bool {
        let (o, n) = (&self.old.user_nodes()[old], &self.new.user_nodes()[new]);
        let (ov, nv) = (self.old.as_is(), self.new.as_is());
        o.email == n.email
            && o.name == n.name
            && o.service_user == n.service_user
            && o.suspended == n.suspended
            && (self.old.root() == Some(old)) == (self.new.root() == Some(new))
            // Root's one path names the organization.
            && (self.new.root() != Some(new)
                || (self.old.id() == self.new.id() && self.old.name() == self.new.name()))
            && self.list(&ov.user_policies(old), &nv.user_policies(new))
            && self.list(&ov.user_roles_raw(old), &nv.user_roles_raw(new))
            && self.list(&ov.user_groups(old), &nv.user_groups(new))
    }
}

/// An entity kind that attachment lists name: where its arena is, and which of its entities
/// [`Sameness`] found unchanged.
trait Attached: Sized {
    fn arena(org: &Org) -> &Arena<Self>;
    fn unchanged<'s>(same: &'s Sameness<'_>) -> &'s IdxVec<Self, bool>;
}

impl Attached for PolicyNode {
    fn arena(org: &Org) -> &Arena<PolicyNode> {
        org.policy_nodes()
    }
    fn unchanged<'s>(same: &'s Sameness<'_>) -> &'s IdxVec<PolicyNode, bool> {
        &same.policies
    }
}

impl Attached for RoleNode {
    fn arena(org: &Org) -> &Arena<RoleNode> {
        org.role_nodes()
    }
    fn unchanged<'s>(same: &'s Sameness<'_>) -> &'s IdxVec<RoleNode, bool> {
        &same.roles
    }
}

impl Attached for GroupNode {
    fn arena(org: &Org) -> &Arena<GroupNode> {
        org.group_nodes()
    }
    fn unchanged<'s>(same: &'s Sameness<'_>) -> &'s IdxVec<GroupNode, bool> {
        &same.groups
    }
}

/// What changed between two organizations (an old and a new snapshot of one organization),
/// user by user, paths included, plus the entities added and removed.
pub fn diff(old: &Org, new: &Org) -> Diff {
    let (added, removed) = entity_diff(old, new);
    let mut users = Vec::new();
    let same = Sameness::new(old, new);
    for (u_new, id, _) in new.user_nodes().iter() {
        let Some(u_old) = old.user_nodes().find(id) else {
            continue;
        };
        let unchanged = same.user(u_old, u_new);
        // Assumable roles come from trusts as well as the user's groups: compared by role and
        // trust id, unless neither changed; never for the root user, whom no change affects.
        let root = old.root() == Some(u_old) && new.root() == Some(u_new);
        let (assumable_lost, assumable_gained) = if root || (unchanged && same.trusts) {
            Default::default()
        } else {
            assumable_changes(old, u_old, new, u_new)
        };
        let mut change = UserDiff {
            user: new.user_summary(u_new),
            lost: Vec::new(),
            gained: Vec::new(),
            provenance: Vec::new(),
            assumable_lost,
            assumable_gained,
        };
        // A user whose every attachment, down to the statements, is the same in both
        // organizations has the same answers and paths: skip the evaluation.
        if unchanged {
            if !change.is_empty() {
                users.push(change);
            }
            continue;
        }
        let before = Side::new(old, u_old);
        let after = Side::new(new, u_new);
        let mut keys = BTreeMap::new();
        before.keys(&mut keys);
        after.keys(&mut keys);
        // An element one universe lacks is decided there by the wildcard covering it, whose
        // statements may name other resources: judge on those too.
        for (element, keys) in keys.iter_mut() {
            before.located_keys(element, keys);
            after.located_keys(element, keys);
        }
        if old.root() == Some(u_old) || new.root() == Some(u_new) {
            keys.entry("*".to_string())
                .or_default()
                .insert(ResourcePattern::any());
        }
        for (element, keys) in &keys {
            for key in keys {
                let (was, then) = before.judge(element, key);
                let (is, now) = after.judge(element, key);
                match (was, is) {
                    (true, false) => change.lost.push(then),
                    (false, true) => change.gained.push(now),
                    (true, true) if then.via != now.via => {
                        change.provenance.push(ProvenanceChange {
                            action: element.clone(),
                            resource: key.to_string(),
                            before: then.via,
                            after: now.via,
                        })
                    }
                    _ => {}
                }
            }
        }
        if !change.is_empty() {
            users.push(change);
        }
    }
    users.sort_by(|a, b| {
        b.lost
            .len()
            .cmp(&a.lost.len())
            .then_with(|| a.user.id.cmp(&b.user.id))
    });
    Diff {
        schema_version: SCHEMA_VERSION,
        users,
        added,
        removed,
    }
}

/// The entities (users, groups, roles, policies, role trusts) in `new` only, and in `old` only.
fn entity_diff(old: &Org, new: &Org) -> (EntityChanges, EntityChanges) {
    let mut added = EntityChanges::default();
    let mut removed = EntityChanges::default();
    (added.users, removed.users) = entity_changes(
        old.user_nodes().iter().map(|(_, id, u)| (id, &*u.email)),
        new.user_nodes().iter().map(|(_, id, u)| (id, &*u.email)),
    );
    (added.groups, removed.groups) = entity_changes(
        old.group_nodes()
            .iter()
            .map(|(_, id, g)| (id, g.display_name.as_str())),
        new.group_nodes()
            .iter()
            .map(|(_, id, g)| (id, g.display_name.as_str())),
    );
    (added.roles, removed.roles) = entity_changes(
        old.role_nodes()
            .iter()
            .map(|(_, id, r)| (id, r.name.as_str())),
        new.role_nodes()
            .iter()
            .map(|(_, id, r)| (id, r.name.as_str())),
    );
    (added.policies, removed.policies) = entity_changes(
        old.policy_nodes()
            .iter()
            .map(|(_, id, p)| (id, p.name.as_str())),
        new.policy_nodes()
            .iter()
            .map(|(_, id, p)| (id, p.name.as_str())),
    );
    (added.role_trusts, removed.role_trusts) = entity_changes(
        old.trust_nodes()
            .iter()
            .map(|(_, t)| (t.id.as_str(), t.id.as_str())),
        new.trust_nodes()
            .iter()
            .map(|(_, t)| (t.id.as_str(), t.id.as_str())),
    );
    (added, removed)
}

/// The assumable roles a user has only in the old organization, and only in the new one,
/// matched by role and trust id.
fn assumable_changes(
    old: &Org,
    u_old: UserIx,
    new: &Org,
    u_new: UserIx,
) -> (Vec<Assumable>, Vec<Assumable>) {
    let none = Overlay::none();
    let before = old.trusts_of(u_old, &none);
    let after = new.trusts_of(u_new, &none);
    // Compared by (role id, trust id) before anything is built: most users keep their trusts.
    fn key(org: &Org, t: TrustIx) -> (&str, &str) {
        let trust = &org.trust_nodes()[t];
        (org.role_nodes().id(trust.role), trust.id.as_str())
    }
    fn keys<'a>(
        org: &'a Org,
        trusts: &BTreeMap<TrustIx, Vec<Option<GroupIx>>>,
    ) -> BTreeSet<(&'a str, &'a str)> {
        trusts.keys().map(|&t| key(org, t)).collect()
    }
    let (had, has) = (keys(old, &before), keys(new, &after));
    if had == has {
        return Default::default();
    }
    let only = |org: &Org,
                trusts: BTreeMap<TrustIx, Vec<Option<GroupIx>>>,
                other: &BTreeSet<(&str, &str)>| {
        trusts
            .into_iter()
            .filter(|&(t, _)| !other.contains(&key(org, t)))
            .collect::<BTreeMap<_, _>>()
    };
    (
        old.assumables(u_old, &only(old, before, &has)),
        new.assumables(u_new, &only(new, after, &had)),
    )
}

#[cfg(all(test, feature = "proptest"))]
mod tests {
    use std::collections::HashMap;

    use proptest::prelude::*;

    use crate::report::{CoveredUser, Impact, Path, PathId, RedundantEdge, UserRef};
    use crate::testing::{catalogue, in_pools, organization, OrgKnobs};
    use crate::{CompileOptions, Org, Precedence};

    fn config() -> ProptestConfig {
        crate::testing::cases(300)
    }

    /// The slow path the report was made of before: the full impact of each removal that
    /// changes nothing, its kept entries' paths per covered user (each once, sorted by the
    /// paths themselves), and the paths numbered by content in order of first reference.
    fn slow_edges(org: &Org) -> (Vec<RedundantEdge>, Vec<Path>) {
        let mut ids: HashMap<Path, PathId> = HashMap::new();
        let mut table: Vec<Path> = Vec::new();
        let mut edges = Vec::new();
        for change in org.every_edge() {
            let mut impact: Impact = org.simulate(std::slice::from_ref(&change)).unwrap();
            let changes = impact
                .users
                .iter()
                .any(|u| u.counts.lost > 0 || u.counts.gained > 0 || !u.assumable_lost.is_empty());
            if changes {
                continue;
            }
            let paths: Vec<Path> = impact.paths.iter().map(|p| p.steps.clone()).collect();
            let covered = impact
                .users
                .iter()
                .filter(|u| !u.kept.is_empty())
                .map(|u| {
                    let mut local: Vec<usize> = (u.kept.iter())
                        .flat_map(|e| &e.via)
                        .chain(&u.shared.kept)
                        .map(|id| id.0 as usize)
                        .collect();
                    local.sort_unstable_by(|&a, &b| paths[a].cmp(&paths[b]).then(a.cmp(&b)));
                    local.dedup();
                    let via = local
                        .into_iter()
                        .map(|i| {
                            *ids.entry(paths[i].clone()).or_insert_with(|| {
                                table.push(paths[i].clone());
                                PathId((table.len() - 1) as u32)
                            })
                        })
                        .collect();
                    CoveredUser {
                        user: UserRef {
                            id: u.user.id.to_string(),
                            email: u.user.email.to_string(),
                        },
                        kept: u.counts.kept,
                        via,
                    }
                })
                .collect();
            edges.push(RedundantEdge {
                change: impact.changes.remove(0),
                covered,
            });
        }
        (edges, table)
    }

    proptest! {
        #![proptest_config(config())]

        /// The report's edges and paths, read off the judged users in one pass per removal,
        /// are those of the full impact of every removal that changes nothing, in pools of 1,
        /// 2 and 4 threads; under both precedences.
        #[test]
        fn redundancy_is_the_full_impacts_reduced(
            snapshot in organization(&OrgKnobs::default()),
            nearest in any::<bool>(),
        ) {
            let precedence = if nearest { Precedence::NearestWins } else { Precedence::DenyWins };
            let options = CompileOptions { precedence, ..Default::default() };
            let org = Org::compile_with(&snapshot, &catalogue(), &options).unwrap();
            let (edges, paths) = slow_edges(&org);
            for report in in_pools(|| org.redundancy()) {
                prop_assert_eq!(&report.edges, &edges);
                prop_assert_eq!(&report.paths, &paths);
            }
        }
    }

    /// `who_can` checks users on the pool in chunks: the same answer in pools of 1, 2 and 4
    /// threads, and progress from the workers, one call per chunk, `done` increasing up to
    /// every user.
    #[test]
    fn who_can_is_the_same_from_any_pool_with_progress_to_the_total() {
        use crate::generate::{snapshot, Params};
        let org = Org::compile(&snapshot(&Params::broad(600, 3)), &catalogue()).unwrap();
        let users = org.users().count();
        assert!(users > 2 * super::USERS_PER_CHUNK, "{users} users");
        // The concrete action most users are listed for, so that every chunk lists some.
        let action = org
            .universe()
            .filter(|a| !a.is_wildcard())
            .take(40)
            .map(|a| a.to_string())
            .max_by_key(|a| {
                let who = org.who_can(a, "*").unwrap();
                who.allowed.len() + who.denied.len()
            })
            .unwrap();
        let answers = in_pools(|| {
            let calls = std::sync::Mutex::new(Vec::new());
            let who = org
                .who_can_observed(&action, "*", &|done, total| {
                    calls.lock().unwrap().push((done, total));
                })
                .unwrap();
            (
                serde_json::to_string(&who).unwrap(),
                calls.into_inner().unwrap(),
            )
        });
        let [(one, _), ..] = &answers;
        assert!(one.matches("\"via\"").count() > 100, "{action}: {one:.300}");
        for (answer, calls) in &answers {
            assert_eq!(answer, one);
            assert_eq!(calls.len(), users.div_ceil(super::USERS_PER_CHUNK));
            assert!(calls.windows(2).all(|w| w[0].0 < w[1].0), "{calls:?}");
            assert!(calls.iter().all(|&(_, total)| total == users));
            assert_eq!(calls.last().map(|c| c.0), Some(users));
        }
        assert_eq!(
            &serde_json::to_string(&org.who_can(&action, "*").unwrap()).unwrap(),
            one
        );
    }
}
