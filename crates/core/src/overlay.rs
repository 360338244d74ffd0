//! Pending changes, seen through instead of applied: the organization is never copied or mutated.
//!
//! An [`Overlay`] records edges taken away and added, entities deleted, suspensions flipped and
//! policy documents replaced. A `View` (an organization and an overlay, `org/view.rs`) gives the
//! adjacency "as if" the changes were made; with an empty overlay, the organization as it is.

use std::collections::{BTreeMap, BTreeSet};

use crate::idx::IdxRange;
use crate::org::{GroupIx, Org, PolicyIx, RoleIx, StatementNode, TrustIx, UserIx};
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
        let mut policies = vec![false; org.policy_nodes().len()];
        let mut roles = vec![false; org.role_nodes().len()];
        let mut groups = vec![false; org.group_nodes().len()];
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
        for (p, _, _) in org.policy_nodes().iter() {
            if policies[p.index()] {
                for &r in org.as_is().policy_roles(p) {
                    roles[r.index()] = true;
                }
                for &g in org.as_is().policy_groups(p) {
                    groups[g.index()] = true;
                }
            }
        }
        for (r, _, _) in org.role_nodes().iter() {
            if roles[r.index()] {
                for &g in org.as_is().role_groups(r) {
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
    pub(crate) fn target_raw(&self) -> u32 {
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
    /// No change: what [`Overlay::none`] makes, as a constant (for `Org::as_is`).
    pub(crate) const EMPTY: Overlay = Overlay {
        removed: BTreeSet::new(),
        added: BTreeSet::new(),
        deleted_groups: BTreeSet::new(),
        deleted_roles: BTreeSet::new(),
        deleted_policies: BTreeSet::new(),
        deleted_trusts: BTreeSet::new(),
        created: BTreeSet::new(),
        removed_users: BTreeSet::new(),
        suspension: BTreeMap::new(),
        documents: BTreeMap::new(),
        statements: Vec::new(),
        extra_elements: Vec::new(),
        carriers: None,
    };

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
