//! One user's impact: their routes and hits before and after, the elements a change touches,
//! the assumable roles lost, and the comparison of the two sides.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use super::sides::{ones, spare, untouched, zeroed};
use super::spares::{give, take, Spares};
use super::Depth;
use crate::bitset::{BitSet, ElementIx};
use crate::eval::{Carrier, Grants, Hit, Judgement, Overlay, Route};
use crate::idx::Idx;
use crate::impact::{Class, Judged};
use crate::org::{
    GroupIx, Org, PolicyIx, Precedence, RoleIx, StatementIx, TrustIx, UserIx, NO_RESOURCE_ID,
};
use crate::overlay::Edge;

/// A worker's buffers for [`Org::entries_outside`]: the `*` words, the scoped statements,
/// the (resource id, statement) pairs and one key's words.
#[derive(Default)]
struct Outside {
    star: Vec<u64>,
    scoped: Vec<StatementIx>,
    keyed: Vec<(u32, StatementIx)>,
    bits: Vec<u64>,
    few: Vec<ElementIx>,
}

thread_local! {
    /// Per worker, [`Org::entries_outside`]'s buffers, reused from user to user.
    static OUTSIDE: RefCell<Outside> = RefCell::new(Outside::default());
    /// Per worker, spare route lists for [`Listed`].
    static LISTS: Spares<Route> = const { RefCell::new(Vec::new()) };
    /// Per worker, spare lists of the (policy, document) pairs [`Org::touched`] has spread.
    static SPREAD: Spares<(PolicyIx, u8)> = const { RefCell::new(Vec::new()) };
}

/// A user's routes on one side, in a list the worker reuses (handed back when dropped): every
/// user a what-if reaches has both sides listed, each filled in place, neither allocated nor
/// copied out of a buffer.
struct Listed(Vec<Route>);

impl Listed {
    /// Every route of `user` under `overlay` ([`Org::routes`]), in a reused list.
    fn routes(org: &Org, user: UserIx, overlay: &Overlay) -> Listed {
        let mut routes = LISTS.with(take);
        org.routes_into(user, overlay, |_| true, &mut routes);
        Listed(routes)
    }
}

impl std::ops::Deref for Listed {
    type Target = [Route];

    fn deref(&self) -> &[Route] {
        &self.0
    }
}

impl Drop for Listed {
    fn drop(&mut self) {
        LISTS.with(|spares| give(spares, std::mem::take(&mut self.0)));
    }
}

/// A user's touched mask ([`Org::touched`]), in a spare word vector handed back when dropped.
struct Touched(BitSet);

impl Drop for Touched {
    fn drop(&mut self) {
        spare(std::mem::take(&mut self.0).into_words());
    }
}

/// Whether two routes have the same [`Carrier`]: the same group, else (neither through a
/// group) the same role, else (neither through a role either) the same policy. Told from the
/// fields, without making the carriers: it is asked of every route a user has.
fn same_carrier(a: &Route, b: &Route) -> bool {
    a.group == b.group
        && (a.group.is_some() || a.role == b.role && (a.role.is_some() || a.policy == b.policy))
}

impl Org {
    pub(super) fn user_impact<'o>(
        &'o self,
        user: UserIx,
        baseline: &'o Overlay,
        overlay: &'o Overlay,
        depth: Depth,
    ) -> Judged<'o> {
        let mut judged = Judged::new(user.raw());
        if self.root() == Some(user) {
            judged.note =
                Some("root user: unconditional access; no change affects them".to_string());
            return judged;
        }
        let (was, now) = (
            self.has_standing(user, baseline),
            self.has_standing(user, overlay),
        );
        judged.note = match (was, now) {
            (false, false) => {
                Some("suspended user: no access before or after; assignments are kept".to_string())
            }
            (true, false) if !self.user_exists(user, overlay) => {
                Some("removed from the organization: loses all access".to_string())
            }
            (true, false) => {
                Some("suspended by the change: loses all access; assignments are kept".to_string())
            }
            (false, true) => Some("unsuspended by the change: assignments count again".to_string()),
            (true, true) => None,
        };
        if !was && !now {
            return judged;
        }
        // Under deny-wins, the elements no resource-scoped statement covers are decided on `*`
        // alone, and word by word (`Sides`); only those reported, and the scoped ones, are
        // judged one by one below.
        let by_words = self.precedence() == Precedence::DenyWins && overlay.documents.is_empty();
        // Counted word by word, only the routes through carriers the change touches are read
        // (`Org::touched_routes`); else every route.
        // INVARIANT: every route `route_changed` finds changed goes through a touched carrier
        // (`Carriers` marks too many, never too few), and `gather_sides` reads no other route
        // of a side: the mask and the counts are those of every route.
        let (routes_before, routes_after) = if was && now && by_words && !depth.keeps_paths() {
            (
                Listed(self.touched_routes(user, baseline, overlay)),
                Listed(self.touched_routes(user, overlay, overlay)),
            )
        } else {
            (
                Listed::routes(self, user, baseline),
                Listed::routes(self, user, overlay),
            )
        };
        // When the user keeps standing access, only the elements that the changed routes'
        // statements cover can change: judge those, and count the rest as unchanged from the
        // pre-folded sets. (Losing or regaining standing access touches everything.)
        // INVARIANT: this holds under every precedence. Outside the mask the covering hits are
        // the same before and after, so is any judgement made of them; and "unchanged" counts
        // the pairs with at least one covering statement, which the folded sets tell without
        // deciding anything.
        let touched = (was && now)
            .then(|| Touched(self.touched(user, &routes_before, &routes_after, baseline, overlay)));
        let mask = touched.as_ref().map(|touched| &touched.0);
        let word_by_word = mask.filter(|_| by_words);
        if let Some(mask) = word_by_word {
            let (before, after) = ((&routes_before[..], baseline), (&routes_after[..], overlay));
            if self.judge_sides(user, before, after, mask, depth, &mut judged) {
                return judged;
            }
        } else {
            let before = self.grants_over(user, baseline, &routes_before, mask);
            let after = self.grants_over(user, overlay, &routes_after, mask);
            self.compare((&before, baseline), (&after, overlay), &mut judged, depth);
            let changed = judged.counts.lost > 0 || judged.counts.gained > 0;
            if matches!(depth, Depth::FirstChange | Depth::FullUnlessChanged) && changed {
                return judged;
            }
        }
        if let (Some(mask), Depth::Full | Depth::FullUnlessChanged | Depth::Counts) = (mask, depth)
        {
            judged.unchanged_count += self.entries_outside(user, mask);
        }
        self.assumable_changes(user, baseline, overlay, &mut judged);
        judged
    }

    /// The assumable roles a user loses and gains, and the sessions that outlive a lost one.
    pub(super) fn assumable_changes(
        &self,
        user: UserIx,
        baseline: &Overlay,
        overlay: &Overlay,
        judged: &mut Judged<'_>,
    ) {
        if self.same_trusts(user, baseline, overlay) {
            judged.assumable_lost = Vec::new();
            judged.assumable_gained = Vec::new();
            return;
        }
        let trusts_before = self.trusts_of(user, baseline);
        let trusts_after = self.trusts_of(user, overlay);
        // Nearly always the same trusts on both sides: nothing lost or gained, and no list or
        // sort to make for it.
        if trusts_before.keys().eq(trusts_after.keys()) {
            judged.assumable_lost = Vec::new();
            judged.assumable_gained = Vec::new();
            return;
        }
        let only = |a: &BTreeMap<TrustIx, Vec<Option<GroupIx>>>,
                    b: &BTreeMap<TrustIx, Vec<Option<GroupIx>>>| {
            a.iter()
                .filter(|(t, _)| !b.contains_key(t))
                .map(|(t, v)| (*t, v.clone()))
                .collect()
        };
        judged.assumable_lost = self.assumables(user, &only(&trusts_before, &trusts_after));
        judged.assumable_gained = self.assumables(user, &only(&trusts_after, &trusts_before));
        if !judged.assumable_lost.is_empty() {
            // A session of a role the user may no longer assume goes on until it expires.
            let role_of = |t: &TrustIx| self.trust_nodes()[*t].role;
            let after: BTreeSet<RoleIx> = trusts_after.keys().map(role_of).collect();
            let before: BTreeSet<RoleIx> = trusts_before.keys().map(role_of).collect();
            judged.sessions_continue = self.sessions_of(user, |role| {
                before.contains(&role) && !after.contains(&role)
            });
        }
    }

    /// Whether the user's trusts ([`Org::trusts_of`]) are, without listing them, the same under
    /// both overlays: `baseline` changes no edge and deletes nothing, and `overlay` creates and
    /// deletes nothing and changes none of the user's memberships, which leaves the user's
    /// groups and every trust's liveness alone (standing the same on both sides).
    fn same_trusts(&self, user: UserIx, baseline: &Overlay, overlay: &Overlay) -> bool {
        let plain = |ov: &Overlay| {
            ov.deleted_groups.is_empty()
                && ov.deleted_roles.is_empty()
                && ov.deleted_trusts.is_empty()
                && ov.created.is_empty()
        };
        let member = Edge::Member {
            user,
            group: Idx::MIN,
        };
        plain(baseline)
            && plain(overlay)
            && baseline.added.iter().next().is_none()
            && baseline.removed.iter().next().is_none()
            && !overlay.added.may_hold_from(&member)
            && !overlay.removed.may_hold_from(&member)
            && self.has_standing(user, baseline) == self.has_standing(user, overlay)
    }

    /// Compares two sets of grants key by key. Both sides are judged on the union of their
    /// resource keys, so a Deny on one resource that goes away is seen even when nothing
    /// after the change names that resource.
    pub(super) fn compare<'o>(
        &'o self,
        before: (&Grants, &'o Overlay),
        after: (&Grants, &'o Overlay),
        judged: &mut Judged<'o>,
        depth: Depth,
    ) {
        let (before, b_ov) = before;
        let (after, a_ov) = after;
        let actions: BTreeSet<ElementIx> = before.actions().chain(after.actions()).collect();
        let mut keys = Vec::new();
        let (mut was, mut now) = (Judgement::default(), Judgement::default());
        // Only a full report keeps each pair's paths; the cheaper depths count.
        let keep = depth.keeps_paths();
        for action in actions {
            before.keys(self, b_ov, action, &mut keys);
            after.more_keys(self, a_ov, action, &mut keys);
            for &key in &keys {
                before.judge_into(self, b_ov, action, key, &mut was);
                after.judge_into(self, a_ov, action, key, &mut now);
                let (allowed_before, allowed_after) = (was.allowed(), now.allowed());
                if depth == Depth::FirstChange {
                    if allowed_before != allowed_after {
                        if allowed_before {
                            judged.counts.lost += 1;
                        } else {
                            judged.counts.gained += 1;
                        }
                        return;
                    }
                    continue;
                }
                match (allowed_before, allowed_after) {
                    (true, false) => {
                        judged.counts.lost += 1;
                        judged.push(self, Class::Lost, key, action, (&was.allow, b_ov), keep);
                    }
                    (true, true) if !self.same_paths((&was.allow, b_ov), (&now.allow, a_ov)) => {
                        judged.counts.kept += 1;
                        judged.push(self, Class::Kept, key, action, (&now.allow, a_ov), keep);
                    }
                    (false, true) => {
                        judged.counts.gained += 1;
                        judged.push(self, Class::Gained, key, action, (&now.allow, a_ov), keep);
                    }
                    // Unchanged: every covering statement the same, with the same effect, and
                    // counting or overridden as before (nothing is overridden under deny-wins).
                    _ if !was.is_implicit()
                        && self.same_paths((&was.allow, b_ov), (&now.allow, a_ov))
                        && self.same_paths((&was.deny, b_ov), (&now.deny, a_ov))
                        && self.same_paths((&was.far_allow, b_ov), (&now.far_allow, a_ov))
                        && self.same_paths((&was.far_deny, b_ov), (&now.far_deny, a_ov)) =>
                    {
                        judged.unchanged_count += 1
                    }
                    _ => {}
                }
            }
        }
    }

    /// The universe elements a change can affect for a user: those covered by the statements
    /// of routes that appear or disappear, or whose policy's document is replaced; plus every
    /// extra element a replacement names.
    pub(super) fn touched(
        &self,
        user: UserIx,
        before: &[Route],
        after: &[Route],
        baseline: &Overlay,
        overlay: &Overlay,
    ) -> BitSet {
        let base = self.universe_slice().len();
        let mut mask =
            BitSet::from_words(zeroed((base + overlay.extra_elements.len()).div_ceil(64)));
        for i in 0..overlay.extra_elements.len() {
            mask.insert(base + i);
        }
        // A route appears or disappears exactly when one of its edges or entities is changed:
        // test each against the overlay instead of comparing the two lists. When the overlay's
        // carriers are known, a route through a carrier the change leaves alone is not tested
        // (asked once per carrier: a carrier's routes are adjacent, one run of `same_carrier`).
        let carriers = overlay.carriers.as_deref();
        // Each changed policy is spread once per set of statements it has: a policy that
        // several changed routes reach (a user in several touched groups) has the same
        // statements on each, and on both sides unless a side replaces its document.
        let mut spread = SPREAD.with(take);
        for (routes, ov, side) in [(before, baseline, 1), (after, overlay, 2)] {
            for run in routes.chunk_by(same_carrier) {
                let alone = |carriers| untouched(user, Carrier::of(&run[0]), overlay, carriers);
                if carriers.is_some_and(alone) {
                    continue;
                }
                for route in run.iter().filter(|r| self.route_changed(user, r, overlay)) {
                    let document = if ov.documents.contains_key(&route.policy) {
                        side
                    } else {
                        0
                    };
                    if spread.contains(&(route.policy, document)) {
                        continue;
                    }
                    spread.push((route.policy, document));
                    for s in self.policy_statements(route.policy, ov) {
                        // A statement's few elements are set one by one, not as a whole set's
                        // words.
                        match &self.statement(s, ov).few {
                            Some(few) => few.iter().for_each(|e| mask.insert(e.index())),
                            None => mask.union_with(&self.statement(s, ov).actions),
                        }
                    }
                }
            }
        }
        SPREAD.with(|spares| give(spares, spread));
        mask
    }

    /// Whether the overlay changes anything along `route` (an edge, an entity, the document).
    pub(super) fn route_changed(&self, user: UserIx, route: &Route, ov: &Overlay) -> bool {
        let edge_changed = |edge: Edge| ov.removed.contains(&edge) || ov.added.contains(&edge);
        let policy = route.policy;
        if ov.documents.contains_key(&policy) || ov.deleted_policies.contains(&policy) {
            return true;
        }
        if let Some(role) = route.role {
            if ov.deleted_roles.contains(&role) || edge_changed(Edge::RolePolicy { role, policy }) {
                return true;
            }
        }
        match (route.group, route.role) {
            (Some(group), role) => {
                ov.deleted_groups.contains(&group)
                    || edge_changed(Edge::Member { user, group })
                    || match role {
                        Some(role) => edge_changed(Edge::GroupRole { group, role }),
                        None => edge_changed(Edge::GroupPolicy { group, policy }),
                    }
            }
            (None, Some(role)) => edge_changed(Edge::UserRole { user, role }),
            (None, None) => edge_changed(Edge::UserPolicy { user, policy }),
        }
    }

    /// How many (element, resource key) pairs outside `mask` have a decision (allowed or
    /// denied) for the user as the organization is: the entries a change leaves untouched.
    /// Read off the pre-folded sets (dense side) and their scoped statements (sparse side).
    /// A pair has a decision exactly when some statement covers it, whatever the precedence:
    /// only the union of Allow and Deny is read here, never which wins.
    pub(super) fn entries_outside(&self, user: UserIx, mask: &BitSet) -> usize {
        OUTSIDE.with_borrow_mut(|scratch| self.entries_outside_in(user, mask, scratch))
    }

    /// [`Org::entries_outside`] in a worker's reused buffers.
    fn entries_outside_in(&self, user: UserIx, mask: &BitSet, scratch: &mut Outside) -> usize {
        let words = self.set_words();
        let Outside {
            star,
            scoped,
            keyed,
            bits,
            few,
        } = scratch;
        star.clear();
        star.resize(words, 0);
        scoped.clear();
        self.each_folded(user, |set| {
            let (allow, deny) = self.folded_set(set);
            for ((s, a), d) in star.iter_mut().zip(allow).zip(deny) {
                *s |= a | d;
            }
            scoped.extend_from_slice(self.folded_scoped(set));
        });
        let mut count = star
            .iter()
            .zip(mask.words())
            .map(|(b, m)| ones(b & !m))
            .sum();
        if !scoped.is_empty() {
            // Per non-`*` resource a scoped statement names (by id: the folded statements are
            // the organization's), the statement: sorted, so that each key's statements are
            // one run, whose union is counted (`Org::key_outside`).
            keyed.clear();
            for &s in scoped.iter() {
                let ids = self.statement_nodes()[s].resource_ids.iter();
                keyed.extend(ids.filter(|&&id| id != NO_RESOURCE_ID).map(|&id| (id, s)));
            }
            keyed.sort_unstable();
            keyed.dedup();
            bits.resize(words, 0);
            for run in keyed.chunk_by(|a, b| a.0 == b.0) {
                count += self.key_outside(run, mask, bits, few);
            }
        }
        count
    }

    /// How many elements outside `mask` one key's statements (`run`, of (key, statement)
    /// pairs) cover together. Scoped statements mostly name a few actions each: their lists
    /// are merged then (a handful of elements, not the universe's words); else their words
    /// are joined in `bits`.
    fn key_outside(
        &self,
        run: &[(u32, StatementIx)],
        mask: &BitSet,
        bits: &mut [u64],
        few: &mut Vec<ElementIx>,
    ) -> usize {
        let nodes = self.statement_nodes();
        if run.iter().all(|&(_, s)| nodes[s].few.is_some()) {
            few.clear();
            for &(_, s) in run {
                few.extend(nodes[s].few.iter().flatten());
            }
            // One statement's list is sorted and without repeats already.
            if run.len() > 1 {
                few.sort_unstable();
                few.dedup();
            }
            return few.iter().filter(|e| !mask.contains(e.index())).count();
        }
        bits.fill(0);
        for &(_, s) in run {
            for (b, a) in bits.iter_mut().zip(nodes[s].actions.words()) {
                *b |= a;
            }
        }
        bits.iter()
            .zip(mask.words())
            .map(|(b, m)| ones(b & !m))
            .sum()
    }

    /// Whether two lists of hits give the same paths. A replaced document's statements have new
    /// ids, so hits are compared by route and statement index, as their paths are: a statement
    /// that a replacement keeps at its index is the same path before and after.
    pub(super) fn same_paths(&self, before: (&[Hit], &Overlay), after: (&[Hit], &Overlay)) -> bool {
        if before.0 == after.0 {
            return true;
        }
        if before.0.len() != after.0.len() {
            return false;
        }
        // A few hits each: compare as sets of (route, statement index), without allocating.
        let key = |hit: &Hit, ov: &Overlay| (hit.route, self.statement(hit.statement, ov).index);
        let (b_ov, a_ov) = (before.1, after.1);
        before.0.iter().all(|b| {
            let b = key(b, b_ov);
            after.0.iter().any(|a| key(a, a_ov) == b)
        })
    }
}
