//! Pending changes, seen through instead of applied: the organization is never copied or mutated.
//!
//! An [`Overlay`] records edges taken away and added, entities deleted, suspensions flipped and
//! policy documents replaced. The accessors on [`Org`] below give the adjacency "as if" the
//! changes were made; with an empty overlay they give the organization as it is.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use crate::bitset::BitSet;
use crate::org::{Org, StatementNode};
use crate::policy::ActionPattern;

/// An attachment between two entities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Edge {
    Member { user: u32, group: u32 },
    UserPolicy { user: u32, policy: u32 },
    UserRole { user: u32, role: u32 },
    GroupPolicy { group: u32, policy: u32 },
    GroupRole { group: u32, role: u32 },
    RolePolicy { role: u32, policy: u32 },
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Overlay {
    pub(crate) removed: BTreeSet<Edge>,
    pub(crate) added: BTreeSet<Edge>,
    pub(crate) deleted_groups: BTreeSet<u32>,
    pub(crate) deleted_roles: BTreeSet<u32>,
    pub(crate) deleted_policies: BTreeSet<u32>,
    pub(crate) deleted_trusts: BTreeSet<u32>,
    pub(crate) removed_users: BTreeSet<u32>,
    /// Users whose suspension the changes set (to `true` or `false`).
    pub(crate) suspension: BTreeMap<u32, bool>,
    /// Policies whose document is replaced: their new statements' ids, which start after the
    /// organization's own statements.
    pub(crate) documents: BTreeMap<u32, Range<u32>>,
    pub(crate) statements: Vec<StatementNode>,
    /// Universe elements named only by replacement documents; their ids start after the
    /// organization's universe.
    pub(crate) extra_elements: Vec<ActionPattern>,
}

impl Edge {
    /// The attached end: the group, policy or role.
    fn target(&self) -> u32 {
        match *self {
            Edge::Member { group, .. } => group,
            Edge::UserPolicy { policy, .. }
            | Edge::GroupPolicy { policy, .. }
            | Edge::RolePolicy { policy, .. } => policy,
            Edge::UserRole { role, .. } | Edge::GroupRole { role, .. } => role,
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
fn patched<'a>(
    base: &'a [u32],
    overlay: &Overlay,
    edge: impl Fn(u32) -> Edge,
    deleted: &BTreeSet<u32>,
) -> Cow<'a, [u32]> {
    // INVARIANT: edges order by kind, then source, then target, so this range holds exactly
    // the added edges of this kind from this source.
    let mut added = overlay
        .added
        .range(edge(0)..=edge(u32::MAX))
        .map(Edge::target)
        .peekable();
    if deleted.is_empty()
        && added.peek().is_none()
        && !base.iter().any(|&t| overlay.removed.contains(&edge(t)))
    {
        return Cow::Borrowed(base);
    }
    let mut out: Vec<u32> = base
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

impl Org {
    pub(crate) fn user_exists(&self, user: u32, overlay: &Overlay) -> bool {
        !overlay.removed_users.contains(&user)
    }

    pub(crate) fn suspended(&self, user: u32, overlay: &Overlay) -> bool {
        overlay
            .suspension
            .get(&user)
            .copied()
            .unwrap_or(self.users[user as usize].suspended)
    }

    /// Not removed, not suspended: the user's attachments count. (Root is handled apart.)
    pub(crate) fn has_standing(&self, user: u32, overlay: &Overlay) -> bool {
        self.user_exists(user, overlay) && !self.suspended(user, overlay)
    }

    pub(crate) fn user_policies(&self, user: u32, overlay: &Overlay) -> Cow<'_, [u32]> {
        patched(
            &self.users[user as usize].policies,
            overlay,
            |policy| Edge::UserPolicy { user, policy },
            &overlay.deleted_policies,
        )
    }

    /// Assignable roles only: an assumable role attached grants no standing access.
    pub(crate) fn user_roles(
        &self,
        user: u32,
        overlay: &Overlay,
    ) -> impl Iterator<Item = u32> + '_ {
        let roles = self.user_roles_raw(user, overlay);
        (0..roles.len())
            .map(move |i| roles[i])
            .filter(|&r| self.roles[r as usize].assignable)
    }

    /// Every attached role, assumable ones included.
    pub(crate) fn user_roles_raw(&self, user: u32, overlay: &Overlay) -> Cow<'_, [u32]> {
        patched(
            &self.users[user as usize].roles,
            overlay,
            |role| Edge::UserRole { user, role },
            &overlay.deleted_roles,
        )
    }

    pub(crate) fn user_groups(&self, user: u32, overlay: &Overlay) -> Cow<'_, [u32]> {
        patched(
            &self.users[user as usize].groups,
            overlay,
            |group| Edge::Member { user, group },
            &overlay.deleted_groups,
        )
    }

    pub(crate) fn group_policies(&self, group: u32, overlay: &Overlay) -> Cow<'_, [u32]> {
        patched(
            &self.groups[group as usize].policies,
            overlay,
            |policy| Edge::GroupPolicy { group, policy },
            &overlay.deleted_policies,
        )
    }

    /// Assignable roles only.
    pub(crate) fn group_roles(
        &self,
        group: u32,
        overlay: &Overlay,
    ) -> impl Iterator<Item = u32> + '_ {
        let roles = self.group_roles_raw(group, overlay);
        (0..roles.len())
            .map(move |i| roles[i])
            .filter(|&r| self.roles[r as usize].assignable)
    }

    /// Every attached role, assumable ones included.
    pub(crate) fn group_roles_raw(&self, group: u32, overlay: &Overlay) -> Cow<'_, [u32]> {
        patched(
            &self.groups[group as usize].roles,
            overlay,
            |role| Edge::GroupRole { group, role },
            &overlay.deleted_roles,
        )
    }

    pub(crate) fn role_policies(&self, role: u32, overlay: &Overlay) -> Cow<'_, [u32]> {
        patched(
            &self.roles[role as usize].policies,
            overlay,
            |policy| Edge::RolePolicy { role, policy },
            &overlay.deleted_policies,
        )
    }

    /// The ids of a policy's statements under the overlay.
    pub(crate) fn policy_statements(&self, policy: u32, overlay: &Overlay) -> Range<u32> {
        overlay
            .documents
            .get(&policy)
            .cloned()
            .unwrap_or_else(|| self.policies[policy as usize].statements.clone())
    }

    pub(crate) fn statement<'a>(&'a self, id: u32, overlay: &'a Overlay) -> &'a StatementNode {
        let base = self.statements.len() as u32;
        if id < base {
            &self.statements[id as usize]
        } else {
            &overlay.statements[(id - base) as usize]
        }
    }

    /// The statement at `index` of a policy's document under the overlay, if there is one.
    pub(crate) fn statement_at<'a>(
        &'a self,
        policy: u32,
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
    pub(crate) fn element<'a>(&'a self, id: u32, overlay: &'a Overlay) -> &'a ActionPattern {
        let base = self.universe.len() as u32;
        if id < base {
            &self.universe[id as usize]
        } else {
            &overlay.extra_elements[(id - base) as usize]
        }
    }

    /// Whether an edge exists under the overlay (assumable roles count as attached).
    pub(crate) fn edge_present(&self, edge: Edge, overlay: &Overlay) -> bool {
        match edge {
            Edge::Member { user, group } => self.user_groups(user, overlay).contains(&group),
            Edge::UserPolicy { user, policy } => {
                self.user_policies(user, overlay).contains(&policy)
            }
            Edge::UserRole { user, role } => self.user_roles_raw(user, overlay).contains(&role),
            Edge::GroupPolicy { group, policy } => {
                self.group_policies(group, overlay).contains(&policy)
            }
            Edge::GroupRole { group, role } => self.group_roles_raw(group, overlay).contains(&role),
            Edge::RolePolicy { role, policy } => {
                self.role_policies(role, overlay).contains(&policy)
            }
        }
    }
}
