//! Pending changes, seen through instead of applied: the organization is never copied or mutated.
//!
//! An [`Overlay`] records edges taken away and added, entities deleted, suspensions flipped and
//! policy documents replaced. A [`View`] (an organization and an overlay) gives the adjacency
//! "as if" the changes were made; with an empty overlay, the organization as it is.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use crate::bitset::{BitSet, ElementIx};
use crate::idx::{Idx, IdxRange};
use crate::org::{GroupIx, Org, PolicyIx, RoleIx, StatementIx, StatementNode, TrustIx, UserIx};
use crate::policy::ActionPattern;

/// An attachment between two entities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Edge {
    Member { user: UserIx, group: GroupIx },
    UserPolicy { user: UserIx, policy: PolicyIx },
    UserRole { user: UserIx, role: RoleIx },
    GroupPolicy { group: GroupIx, policy: PolicyIx },
    GroupRole { group: GroupIx, role: RoleIx },
    RolePolicy { role: RoleIx, policy: PolicyIx },
}

/// An entity of the organization that exists only once a change of the set creates it (see
/// `Org::created_from`, change.rs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Made {
    User(UserIx),
    Group(GroupIx),
    Role(RoleIx),
    Policy(PolicyIx),
    Trust(TrustIx),
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Overlay {
    pub(crate) removed: BTreeSet<Edge>,
    pub(crate) added: BTreeSet<Edge>,
    pub(crate) deleted_groups: BTreeSet<GroupIx>,
    pub(crate) deleted_roles: BTreeSet<RoleIx>,
    pub(crate) deleted_policies: BTreeSet<PolicyIx>,
    pub(crate) deleted_trusts: BTreeSet<TrustIx>,
    /// The entities the changes create: of those the organization holds as created by the set
    /// (`Org::created_from`), the ones that exist under this overlay. Empty in a baseline, so
    /// that "before" has no created trust; a created user, group, role or policy is there
    /// before too, holding nothing.
    pub(crate) created: BTreeSet<Made>,
    pub(crate) removed_users: BTreeSet<UserIx>,
    /// Users whose suspension the changes set (to `true` or `false`).
    pub(crate) suspension: BTreeMap<UserIx, bool>,
    /// Policies whose document is replaced: their new statements' ids, which start after the
    /// organization's own statements.
    pub(crate) documents: BTreeMap<PolicyIx, IdxRange<StatementNode>>,
    pub(crate) statements: Vec<StatementNode>,
    /// Universe elements named only by replacement documents; their ids start after the
    /// organization's universe.
    pub(crate) extra_elements: Vec<ActionPattern>,
    /// The groups, roles and policies the changes touch, once the overlay is complete (set by
    /// the what-if that built it, after its last change): `None` means not worked out.
    pub(crate) carriers: Option<std::sync::Arc<Carriers>>,
}

/// Which pre-folded sets (policies, roles, groups) an overlay touches: a carrier marked here
/// may have routes that change; one not marked has, for a user whose own edge to it is
/// unchanged, the same routes and statements before and after. Marks may be too many (an
/// assumable role's group), never too few.
#[derive(Debug, Clone, Default)]
pub(crate) struct Carriers {
    pub(crate) policies: Vec<bool>,
    pub(crate) roles: Vec<bool>,
    pub(crate) groups: Vec<bool>,
}

impl Carriers {
    /// The carriers `overlay` touches in `org`: deleted or replaced policies; deleted roles,
    /// roles with a changed policy edge or a touched policy; deleted groups, groups with a
    /// changed policy or role edge, a touched policy or a touched role.
    pub(crate) fn of(org: &Org, overlay: &Overlay) -> Carriers {
        let mut policies = vec![false; org.policies.len()];
        let mut roles = vec![false; org.roles.len()];
        let mut groups = vec![false; org.groups.len()];
        for &p in overlay
            .deleted_policies
            .iter()
            .chain(overlay.documents.keys())
        {
            policies[p.index()] = true;
        }
        for &r in &overlay.deleted_roles {
            roles[r.index()] = true;
        }
        for &g in &overlay.deleted_groups {
            groups[g.index()] = true;
        }
        for edge in overlay.removed.iter().chain(&overlay.added) {
            match *edge {
                Edge::GroupPolicy { group, .. } | Edge::GroupRole { group, .. } => {
                    groups[group.index()] = true
                }
                Edge::RolePolicy { role, .. } => roles[role.index()] = true,
                // A user's own edges are checked user by user.
                Edge::Member { .. } | Edge::UserPolicy { .. } | Edge::UserRole { .. } => {}
            }
        }
        for (p, _, _) in org.policies.iter() {
            if policies[p.index()] {
                for &r in &org.reverse.policy_roles[p] {
                    roles[r.index()] = true;
                }
                for &g in &org.reverse.policy_groups[p] {
                    groups[g.index()] = true;
                }
            }
        }
        for (r, _, _) in org.roles.iter() {
            if roles[r.index()] {
                for &g in &org.reverse.role_groups[r] {
                    groups[g.index()] = true;
                }
            }
        }
        Carriers {
            policies,
            roles,
            groups,
        }
    }
}

impl Edge {
    /// The attached end's raw index: the group, policy or role (the kind follows from the
    /// variant, which the caller knows).
    fn target_raw(&self) -> u32 {
        match *self {
            Edge::Member { group, .. } => group.raw(),
            Edge::UserPolicy { policy, .. }
            | Edge::GroupPolicy { policy, .. }
            | Edge::RolePolicy { policy, .. } => policy.raw(),
            Edge::UserRole { role, .. } | Edge::GroupRole { role, .. } => role.raw(),
        }
    }
}

impl Overlay {
    pub(crate) fn none() -> Overlay {
        Overlay::default()
    }

    /// The organization as it is, but knowing the same extra universe elements as `self`, so
    /// that before and after are judged over the same elements.
    pub(crate) fn baseline(&self) -> Overlay {
        Overlay {
            extra_elements: self.extra_elements.clone(),
            ..Overlay::default()
        }
    }
}

/// `base` less removed edges and deleted targets, plus added edges, without repeats.
///
/// Borrows `base` when nothing in the overlay can touch it: the common case, and the whole of
/// "before".
fn patched<'a, T>(
    base: &'a [Idx<T>],
    overlay: &Overlay,
    edge: impl Fn(Idx<T>) -> Edge,
    deleted: &BTreeSet<Idx<T>>,
) -> Cow<'a, [Idx<T>]> {
    // INVARIANT: edges order by kind, then source, then target, so this range holds exactly
    // the added edges of this kind from this source, and their targets are of kind `T`.
    let mut added = overlay
        .added
        .range(edge(Idx::MIN)..=edge(Idx::MAX))
        .map(|e| Idx::from_raw(e.target_raw()))
        .peekable();
    if deleted.is_empty()
        && added.peek().is_none()
        && !base.iter().any(|&t| overlay.removed.contains(&edge(t)))
    {
        return Cow::Borrowed(base);
    }
    let mut out: Vec<Idx<T>> = base
        .iter()
        .copied()
        .filter(|&t| {
            !deleted.contains(&t)
                && (overlay.removed.is_empty() || !overlay.removed.contains(&edge(t)))
        })
        .collect();
    for t in added {
        if !deleted.contains(&t) && !out.contains(&t) {
            out.push(t);
        }
    }
    Cow::Owned(out)
}

/// The organization seen through an overlay: the one reader of adjacency. Every walk of the
/// graph (routes, trusts, whether an edge is there) asks a view, so that "as it is" and "as if
/// the changes were made" are the same code; with [`Overlay::none`] a view is the organization
/// as compiled.
#[derive(Debug, Clone, Copy)]
pub(crate) struct View<'a> {
    org: &'a Org,
    overlay: &'a Overlay,
}

impl Org {
    /// The organization seen through `overlay`.
    pub(crate) fn view<'a>(&'a self, overlay: &'a Overlay) -> View<'a> {
        View { org: self, overlay }
    }

    // The forms below take the overlay apart, for the callers that thread one: each is its
    // view's answer.

    pub(crate) fn user_exists(&self, user: UserIx, overlay: &Overlay) -> bool {
        self.view(overlay).user_exists(user)
    }

    pub(crate) fn suspended(&self, user: UserIx, overlay: &Overlay) -> bool {
        self.view(overlay).suspended(user)
    }

    /// Not removed, not suspended: the user's attachments count. (Root is handled apart.)
    pub(crate) fn has_standing(&self, user: UserIx, overlay: &Overlay) -> bool {
        self.view(overlay).has_standing(user)
    }

    /// The ids of a policy's statements under the overlay.
    pub(crate) fn policy_statements(
        &self,
        policy: PolicyIx,
        overlay: &Overlay,
    ) -> IdxRange<StatementNode> {
        self.view(overlay).policy_statements(policy)
    }

    pub(crate) fn statement<'a>(
        &'a self,
        id: StatementIx,
        overlay: &'a Overlay,
    ) -> &'a StatementNode {
        self.view(overlay).statement(id)
    }

    /// The statement at `index` of a policy's document under the overlay, if there is one.
    pub(crate) fn statement_at<'a>(
        &'a self,
        policy: PolicyIx,
        index: u32,
        overlay: &'a Overlay,
    ) -> Option<&'a StatementNode> {
        self.policy_statements(policy, overlay)
            .map(|id| self.statement(id, overlay))
            .find(|node| node.index == index)
    }

    /// Adds to `into` the elements a statement covers under the overlay: its universe elements
    /// and the overlay's extra elements its patterns cover (as [`Org::grants_over`] spreads it).
    pub(crate) fn statement_elements(
        &self,
        node: &StatementNode,
        overlay: &Overlay,
        into: &mut BitSet,
    ) {
        into.union_with(&node.actions);
        let base = self.universe.len();
        for (i, extra) in overlay.extra_elements.iter().enumerate() {
            if node.patterns.iter().any(|p| p.covers(extra)) {
                into.insert(base + i);
            }
        }
    }

    /// A universe element by id, the overlay's extra elements included.
    pub(crate) fn element<'a>(&'a self, id: ElementIx, overlay: &'a Overlay) -> &'a ActionPattern {
        self.view(overlay).element(id)
    }

    /// Whether an edge exists under the overlay (assumable roles count as attached).
    pub(crate) fn edge_present(&self, edge: Edge, overlay: &Overlay) -> bool {
        self.view(overlay).edge_present(edge)
    }
}

impl<'a> View<'a> {
    /// Whether an entity exists: always, unless a change of the set creates it and no change
    /// so far has. (Deletions are asked apart.)
    pub(crate) fn created(self, made: Made) -> bool {
        !self.org.pending(made) || self.overlay.created.contains(&made)
    }

    /// Whether a trust is there: created (if the set creates it) and not deleted.
    pub(crate) fn trust_live(self, trust: TrustIx) -> bool {
        !self.overlay.deleted_trusts.contains(&trust) && self.created(Made::Trust(trust))
    }

    pub(crate) fn user_exists(self, user: UserIx) -> bool {
        !self.overlay.removed_users.contains(&user)
    }

    pub(crate) fn suspended(self, user: UserIx) -> bool {
        self.overlay
            .suspension
            .get(&user)
            .copied()
            .unwrap_or(self.org.users[user].suspended)
    }

    /// Not removed, not suspended: the user's attachments count. (Root is handled apart.)
    pub(crate) fn has_standing(self, user: UserIx) -> bool {
        self.user_exists(user) && !self.suspended(user)
    }

    pub(crate) fn user_policies(self, user: UserIx) -> Cow<'a, [PolicyIx]> {
        patched(
            &self.org.users[user].policies,
            self.overlay,
            |policy| Edge::UserPolicy { user, policy },
            &self.overlay.deleted_policies,
        )
    }

    /// Assignable roles only: an assumable role attached grants no standing access.
    pub(crate) fn user_roles(self, user: UserIx) -> impl Iterator<Item = RoleIx> + 'a {
        self.assignable(self.user_roles_raw(user))
    }

    /// Every attached role, assumable ones included.
    pub(crate) fn user_roles_raw(self, user: UserIx) -> Cow<'a, [RoleIx]> {
        patched(
            &self.org.users[user].roles,
            self.overlay,
            |role| Edge::UserRole { user, role },
            &self.overlay.deleted_roles,
        )
    }

    pub(crate) fn user_groups(self, user: UserIx) -> Cow<'a, [GroupIx]> {
        patched(
            &self.org.users[user].groups,
            self.overlay,
            |group| Edge::Member { user, group },
            &self.overlay.deleted_groups,
        )
    }

    pub(crate) fn group_policies(self, group: GroupIx) -> Cow<'a, [PolicyIx]> {
        patched(
            &self.org.groups[group].policies,
            self.overlay,
            |policy| Edge::GroupPolicy { group, policy },
            &self.overlay.deleted_policies,
        )
    }

    /// Assignable roles only.
    pub(crate) fn group_roles(self, group: GroupIx) -> impl Iterator<Item = RoleIx> + 'a {
        self.assignable(self.group_roles_raw(group))
    }

    /// Every attached role, assumable ones included.
    pub(crate) fn group_roles_raw(self, group: GroupIx) -> Cow<'a, [RoleIx]> {
        patched(
            &self.org.groups[group].roles,
            self.overlay,
            |role| Edge::GroupRole { group, role },
            &self.overlay.deleted_roles,
        )
    }

    pub(crate) fn role_policies(self, role: RoleIx) -> Cow<'a, [PolicyIx]> {
        patched(
            &self.org.roles[role].policies,
            self.overlay,
            |policy| Edge::RolePolicy { role, policy },
            &self.overlay.deleted_policies,
        )
    }

    /// The ids of a policy's statements.
    pub(crate) fn policy_statements(self, policy: PolicyIx) -> IdxRange<StatementNode> {
        self.overlay
            .documents
            .get(&policy)
            .cloned()
            .unwrap_or_else(|| self.org.policies[policy].statements.clone())
    }

    pub(crate) fn statement(self, id: StatementIx) -> &'a StatementNode {
        // INVARIANT: an overlay's statements are numbered after the organization's own.
        let base = self.org.statements.len();
        if id.index() < base {
            &self.org.statements[id]
        } else {
            &self.overlay.statements[id.index() - base]
        }
    }

    /// A universe element by id, the overlay's extra elements included.
    pub(crate) fn element(self, id: ElementIx) -> &'a ActionPattern {
        let base = self.org.universe.len();
        match id.index() {
            id if id < base => &self.org.universe[id],
            id => &self.overlay.extra_elements[id - base],
        }
    }

    /// Whether an edge exists (assumable roles count as attached).
    pub(crate) fn edge_present(self, edge: Edge) -> bool {
        match edge {
            Edge::Member { user, group } => self.user_groups(user).contains(&group),
            Edge::UserPolicy { user, policy } => self.user_policies(user).contains(&policy),
            Edge::UserRole { user, role } => self.user_roles_raw(user).contains(&role),
            Edge::GroupPolicy { group, policy } => self.group_policies(group).contains(&policy),
            Edge::GroupRole { group, role } => self.group_roles_raw(group).contains(&role),
            Edge::RolePolicy { role, policy } => self.role_policies(role).contains(&policy),
        }
    }

    /// The assignable roles of a list.
    fn assignable(self, roles: Cow<'a, [RoleIx]>) -> impl Iterator<Item = RoleIx> + 'a {
        let org = self.org;
        (0..roles.len())
            .map(move |i| roles[i])
            .filter(move |&r| org.roles[r].assignable)
    }
}
