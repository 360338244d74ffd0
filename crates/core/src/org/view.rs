//! [`View`]: the organization seen through an [`Overlay`], and the one reader of adjacency
//! outside the compiling code of this module.

use std::borrow::Cow;
use std::collections::BTreeSet;

use crate::bitset::{BitSet, ElementIx};
use crate::idx::{Idx, IdxRange};
use crate::org::{GroupIx, Org, PolicyIx, RoleIx, StatementIx, StatementNode, TrustIx, UserIx};
use crate::overlay::{Edge, Made, Overlay};
use crate::policy::ActionPattern;

/// `base` less removed edges and deleted targets, plus added edges, without repeats.
///
/// Borrows `base` when nothing in the overlay can touch it: the common case, and the whole of
/// "before". That case is told here, inlined into each caller (a user's routes ask tens of
/// lists, and a call for each cost more than the answer); the rest is [`patched_list`].
#[inline(always)]
fn patched<'a, T>(
    base: &'a [Idx<T>],
    overlay: &Overlay,
    edge: impl Fn(Idx<T>) -> Edge,
    deleted: &BTreeSet<Idx<T>>,
) -> Cow<'a, [Idx<T>]> {
    // Most lists are left alone: tell so from the edge sets' filters, without a tree search.
    let probe = edge(Idx::MIN);
    if deleted.is_empty()
        && !overlay.added.may_hold_from(&probe)
        && !overlay.removed.may_hold_from(&probe)
    {
        return Cow::Borrowed(base);
    }
    patched_list(base, overlay, edge, deleted)
}

/// [`patched`] when the overlay may touch the list (a target is deleted, or an edge set's
/// filter cannot rule out an edge from this source). The filters are asked again here rather
/// than passed in: the inline test stops at the first that answers.
fn patched_list<'a, T>(
    base: &'a [Idx<T>],
    overlay: &Overlay,
    edge: impl Fn(Idx<T>) -> Edge,
    deleted: &BTreeSet<Idx<T>>,
) -> Cow<'a, [Idx<T>]> {
    let probe = edge(Idx::MIN);
    let (any_added, any_removed) = (
        overlay.added.may_hold_from(&probe),
        overlay.removed.may_hold_from(&probe),
    );
    let hit =
        |t: &Idx<T>| deleted.contains(t) || (any_removed && overlay.removed.contains(&edge(*t)));
    if !any_added && !base.iter().any(hit) {
        return Cow::Borrowed(base);
    }
    // INVARIANT: edges order by kind, then source, then target, so this range holds exactly
    // the added edges of this kind from this source, and their targets are of kind `T`.
    let mut added = overlay
        .added
        .range(probe..=edge(Idx::MAX))
        .map(|e| Idx::from_raw(e.target_raw()))
        .peekable();
    if added.peek().is_none() && !base.iter().any(hit) {
        return Cow::Borrowed(base);
    }
    // Sized up front: a filtered iterator would start small and grow.
    let mut out: Vec<Idx<T>> = Vec::with_capacity(base.len() + added.clone().count());
    out.extend(base.iter().copied().filter(|&t| !hit(&t)));
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

    #[inline]
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
    #[inline]
    pub(crate) fn user_roles_raw(self, user: UserIx) -> Cow<'a, [RoleIx]> {
        patched(
            &self.org.users[user].roles,
            self.overlay,
            |role| Edge::UserRole { user, role },
            &self.overlay.deleted_roles,
        )
    }

    #[inline]
    pub(crate) fn user_groups(self, user: UserIx) -> Cow<'a, [GroupIx]> {
        patched(
            &self.org.users[user].groups,
            self.overlay,
            |group| Edge::Member { user, group },
            &self.overlay.deleted_groups,
        )
    }

    #[inline]
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
    #[inline]
    pub(crate) fn group_roles_raw(self, group: GroupIx) -> Cow<'a, [RoleIx]> {
        patched(
            &self.org.groups[group].roles,
            self.overlay,
            |role| Edge::GroupRole { group, role },
            &self.overlay.deleted_roles,
        )
    }

    #[inline]
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

/// Who holds what, as compiled: the reverse index of the organization, read past the overlay
/// (its added edges are not in these lists; its removed edges and deleted entities still are).
/// For finding whom a change can reach, and for questions about the organization as it is.
impl<'a> View<'a> {
    /// The group's members.
    #[inline]
    pub(crate) fn group_members(self, group: GroupIx) -> &'a [UserIx] {
        &self.org.reverse.group_members[group]
    }

    /// The users the role is attached to.
    #[inline]
    pub(crate) fn role_users(self, role: RoleIx) -> &'a [UserIx] {
        &self.org.reverse.role_users[role]
    }

    /// The groups the role is attached to.
    #[inline]
    pub(crate) fn role_groups(self, role: RoleIx) -> &'a [GroupIx] {
        &self.org.reverse.role_groups[role]
    }

    /// The users the policy is attached to.
    #[inline]
    pub(crate) fn policy_users(self, policy: PolicyIx) -> &'a [UserIx] {
        &self.org.reverse.policy_users[policy]
    }

    /// The groups the policy is attached to.
    #[inline]
    pub(crate) fn policy_groups(self, policy: PolicyIx) -> &'a [GroupIx] {
        &self.org.reverse.policy_groups[policy]
    }

    /// The roles the policy is attached to.
    #[inline]
    pub(crate) fn policy_roles(self, policy: PolicyIx) -> &'a [RoleIx] {
        &self.org.reverse.policy_roles[policy]
    }

    /// The trusts naming the user, live or not (ask [`View::trust_live`]).
    #[inline]
    pub(crate) fn user_trusts(self, user: UserIx) -> &'a [TrustIx] {
        &self.org.reverse.user_trusts[user]
    }

    /// The trusts naming the group, live or not (ask [`View::trust_live`]).
    #[inline]
    pub(crate) fn group_trusts(self, group: GroupIx) -> &'a [TrustIx] {
        &self.org.reverse.group_trusts[group]
    }
}
