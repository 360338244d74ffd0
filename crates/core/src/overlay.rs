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
    pub(crate) removed: EdgeSet,
    pub(crate) added: EdgeSet,
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
    /// How many kinds of edge there are: [`Edge::kind`] is below.
    const KINDS: usize = 6;

    /// The variant, as a number below [`Edge::KINDS`].
    #[inline]
    fn kind(&self) -> usize {
        match self {
            Edge::Member { .. } => 0,
            Edge::UserPolicy { .. } => 1,
            Edge::UserRole { .. } => 2,
            Edge::GroupPolicy { .. } => 3,
            Edge::GroupRole { .. } => 4,
            Edge::RolePolicy { .. } => 5,
        }
    }

    /// The attaching end's raw index: the user, group or role.
    #[inline]
    fn source_raw(&self) -> u32 {
        match *self {
            Edge::Member { user, .. }
            | Edge::UserPolicy { user, .. }
            | Edge::UserRole { user, .. } => user.raw(),
            Edge::GroupPolicy { group, .. } | Edge::GroupRole { group, .. } => group.raw(),
            Edge::RolePolicy { role, .. } => role.raw(),
        }
    }

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
        removed: EdgeSet::new(),
        added: EdgeSet::new(),
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

/// Bits per kind in an [`EdgeSet`]'s filter of sources.
const FILTER_BITS: u32 = 256;

/// A set of edges, as a `BTreeSet` (ordered: kind, then source, then target), that also tells
/// cheaply, per kind of edge and source, when it holds no edge from that source.
///
/// Why: a what-if asks the overlay's edge sets about every edge along every route of every
/// user it reaches, and nearly every answer is "not there" (a change touches a few edges, a
/// user has hundreds); a tree search per question was a tenth of a wide what-if. The filter
/// answers most of them in a few instructions.
#[derive(Debug, Clone, Default)]
pub(crate) struct EdgeSet {
    edges: BTreeSet<Edge>,
    /// Per kind, how many edges of that kind the set holds.
    counts: [u32; Edge::KINDS],
    /// Per kind, a filter of the sources of its edges: bit `slot(source)` set for each.
    // INVARIANT: every edge of the set has its bit set (bits of edges removed since may stay:
    // a stale bit only sends a question on to the tree); a kind with no edge has no bit set.
    sources: [[u64; (FILTER_BITS / 64) as usize]; Edge::KINDS],
    /// A filter of the edges themselves, for [`EdgeSet::contains`]: bit `slot(hash(edge))`.
    // INVARIANT: as for `sources`, every edge of the set has its bit set; the filter is
    // cleared when the set empties.
    whole: [u64; (FILTER_BITS / 64) as usize],
}

impl EdgeSet {
    pub(crate) const fn new() -> EdgeSet {
        EdgeSet {
            edges: BTreeSet::new(),
            counts: [0; Edge::KINDS],
            sources: [[0; (FILTER_BITS / 64) as usize]; Edge::KINDS],
            whole: [0; (FILTER_BITS / 64) as usize],
        }
    }

    /// The filter's bit for a source: a multiplicative hash, so that sources with the same
    /// low bits (every 256th user) do not share one.
    #[inline]
    fn slot(source: u32) -> (usize, u64) {
        let bit = source.wrapping_mul(0x9E37_79B1) >> (32 - FILTER_BITS.trailing_zeros());
        ((bit / 64) as usize, 1 << (bit % 64))
    }

    /// Whether the set may hold edges of `probe`'s kind from `probe`'s source (whatever their
    /// target): `false` means it holds none.
    #[inline]
    pub(crate) fn may_hold_from(&self, probe: &Edge) -> bool {
        let kind = probe.kind();
        if self.counts[kind] == 0 {
            return false;
        }
        let (word, bit) = EdgeSet::slot(probe.source_raw());
        self.sources[kind][word] & bit != 0
    }

    /// A number mixing an edge's kind, source and target, for the filter of whole edges.
    #[inline]
    fn mix(edge: &Edge) -> u32 {
        let source = edge.source_raw().wrapping_mul(0x85EB_CA6B);
        (source ^ edge.target_raw()).wrapping_add(edge.kind() as u32) ^ (source >> 15)
    }

    #[inline]
    pub(crate) fn contains(&self, edge: &Edge) -> bool {
        if self.counts[edge.kind()] == 0 {
            return false;
        }
        let (word, bit) = EdgeSet::slot(EdgeSet::mix(edge));
        self.whole[word] & bit != 0 && self.edges.contains(edge)
    }

    /// Adds an edge: whether it was not there.
    pub(crate) fn insert(&mut self, edge: Edge) -> bool {
        let new = self.edges.insert(edge);
        if new {
            let kind = edge.kind();
            self.counts[kind] += 1;
            let (word, bit) = EdgeSet::slot(edge.source_raw());
            self.sources[kind][word] |= bit;
            let (word, bit) = EdgeSet::slot(EdgeSet::mix(&edge));
            self.whole[word] |= bit;
        }
        new
    }

    /// Takes an edge away: whether it was there.
    pub(crate) fn remove(&mut self, edge: &Edge) -> bool {
        let was = self.edges.remove(edge);
        if was {
            let kind = edge.kind();
            self.counts[kind] -= 1;
            if self.counts[kind] == 0 {
                self.sources[kind] = [0; (FILTER_BITS / 64) as usize];
            }
            if self.edges.is_empty() {
                self.whole = [0; (FILTER_BITS / 64) as usize];
            }
        }
        was
    }

    /// The edges, in order.
    pub(crate) fn iter(&self) -> std::collections::btree_set::Iter<'_, Edge> {
        self.edges.iter()
    }

    /// The edges within `range`, in order.
    pub(crate) fn range(
        &self,
        range: std::ops::RangeInclusive<Edge>,
    ) -> std::collections::btree_set::Range<'_, Edge> {
        self.edges.range(range)
    }
}

impl<'a> IntoIterator for &'a EdgeSet {
    type Item = &'a Edge;
    type IntoIter = std::collections::btree_set::Iter<'a, Edge>;

    fn into_iter(self) -> Self::IntoIter {
        self.edges.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::idx::Idx;
    use proptest::prelude::*;

    /// An edge of any kind between small indexes (so that sources collide in the filters).
    fn edge(kind: u8, source: u32, target: u32) -> Edge {
        let (s, t) = (source, target);
        match kind % 6 {
            0 => Edge::Member {
                user: Idx::from_raw(s),
                group: Idx::from_raw(t),
            },
            1 => Edge::UserPolicy {
                user: Idx::from_raw(s),
                policy: Idx::from_raw(t),
            },
            2 => Edge::UserRole {
                user: Idx::from_raw(s),
                role: Idx::from_raw(t),
            },
            3 => Edge::GroupPolicy {
                group: Idx::from_raw(s),
                policy: Idx::from_raw(t),
            },
            4 => Edge::GroupRole {
                group: Idx::from_raw(s),
                role: Idx::from_raw(t),
            },
            _ => Edge::RolePolicy {
                role: Idx::from_raw(s),
                policy: Idx::from_raw(t),
            },
        }
    }

    proptest! {
        /// Inserts and removes in any order: `EdgeSet` answers as a plain `BTreeSet` does,
        /// and `may_hold_from` is never "no" for a source whose edge is held.
        #[test]
        fn edge_set_answers_as_a_tree_set(
            steps in prop::collection::vec((any::<bool>(), 0u8..6, 0u32..600, 0u32..4), 0..200),
            probes in prop::collection::vec((0u8..6, 0u32..600, 0u32..4), 0..50),
        ) {
            let (mut set, mut model) = (EdgeSet::new(), BTreeSet::new());
            for (insert, kind, source, target) in steps {
                let e = edge(kind, source, target);
                if insert {
                    prop_assert_eq!(set.insert(e), model.insert(e));
                } else {
                    prop_assert_eq!(set.remove(&e), model.remove(&e));
                }
                prop_assert!(set.iter().eq(model.iter()));
            }
            for (kind, source, target) in probes {
                let e = edge(kind, source, target);
                prop_assert_eq!(set.contains(&e), model.contains(&e));
                let from = model.iter().any(|m| m.kind() == e.kind() && m.source_raw() == source);
                prop_assert!(!from || set.may_hold_from(&e));
            }
            for e in &model {
                prop_assert!(set.contains(e) && set.may_hold_from(e));
            }
        }
    }
}
