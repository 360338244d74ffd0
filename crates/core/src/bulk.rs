//! Every user's decisions at once, without provenance: the org-wide fast path.
//!
//! Each user's row is the union of the Allow and Deny sets pre-folded per policy, role and
//! group, written straight into one flat matrix; statements scoped to named resources are
//! judged apart, on the few cells they name.
//!
//! The folded sets forget how far each statement is from the user, so they decide only under
//! [`Precedence::DenyWins`]. Under any other precedence every answer here is judged user by
//! user from their routes, as [`Org::explain`] judges: slower, and the same answers.

use crate::bitset::{BitSet, ElementIx};
use crate::eval::{Carrier, Overlay, ANY_RESOURCE};
use crate::org::{Org, Precedence, StatementIx, UserIx, UserKey};
use crate::policy::{ActionPattern, Effect, ResourcePattern};
use crate::report::Decision;

// `query.rs` converts elements to and from universe positions through these two; they are
// `ElementIx::index` and `ElementIx::new`, and can go once its callers use those directly.

/// The slice position of universe element `element`.
#[inline]
pub(crate) fn element_at(element: ElementIx) -> usize {
    element.index()
}

/// The universe element at slice position `position`.
#[inline]
pub(crate) fn element_of(position: usize) -> ElementIx {
    ElementIx::new(position)
}

/// A universe element, as [`AccessMatrix`] and [`ScopedCell`] name it: a position in
/// [`Org::universe`] (the `n`th element it yields, from zero). [`Org::elements`] gives each
/// with its pattern. An element belongs to the organization whose universe it numbers: with
/// another one it names whatever sits at the same position, or is out of range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ElementId(ElementIx);

impl ElementId {
    /// Its position in [`Org::universe`].
    #[inline]
    pub fn index(self) -> usize {
        self.0.index()
    }
}

/// A decision on a named resource (or typed wildcard) that differs from the `*` column or is
/// granted only there.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ScopedCell {
    /// The universe element.
    pub element: ElementId,
    /// The resource key.
    pub resource: ResourcePattern,
    /// Allowed (else explicitly denied).
    pub allowed: bool,
}

/// Every user's standing decisions: per user and universe element, on resource `*`. The cells
/// of resources that statements name (the sparse side) are judged on demand, per user.
///
/// Its methods panic on a key of another organization than the one that built it, as
/// [`Org`]'s do.
#[derive(Debug, Clone)]
pub struct AccessMatrix<'a> {
    org: &'a Org,
    words: usize,
    allowed: Vec<u64>,
}

impl AccessMatrix<'_> {
    /// Whether `user` may perform universe element `element` on `*`.
    ///
    /// # Panics
    ///
    /// On an element out of the organization's universe (see [`ElementId`]).
    pub fn allowed(&self, user: UserKey, element: ElementId) -> bool {
        let (at, e) = (self.org.user_ix(user).index() * self.words, element.index());
        assert!(
            e < self.org.universe_slice().len(),
            "an element of this organization"
        );
        self.allowed[at + e / 64] & (1 << (e % 64)) != 0
    }

    /// How many universe elements `user` may perform on `*`.
    pub fn allowed_count(&self, user: UserKey) -> usize {
        let at = self.org.user_ix(user).index() * self.words;
        self.allowed[at..at + self.words]
            .iter()
            .map(|w| ones(*w))
            .sum()
    }

    /// The universe elements `user` is explicitly denied on `*`, ascending: the Denies that
    /// `allowed` is net of. Judged on demand (one more OR pass over the user's folded sets), so
    /// that the matrix keeps one bit per cell.
    pub fn denied(&self, user: UserKey) -> Vec<ElementId> {
        self.org.denied_of(self.org.user_ix(user))
    }

    /// The decisions on named resources: every (element, resource key) that a statement the
    /// user reaches names, with its decision, sorted.
    pub fn scoped(&self, user: UserKey) -> Vec<ScopedCell> {
        self.org.scoped_of(self.org.user_ix(user))
    }
}

impl Org {
    /// Every universe element with its pattern, in [`Org::universe`]'s order: the elements an
    /// [`AccessMatrix`] has a column for.
    pub fn elements(&self) -> impl Iterator<Item = (ElementId, &ActionPattern)> {
        self.universe_slice()
            .iter()
            .enumerate()
            .map(|(i, pattern)| (ElementId(ElementIx::new(i)), pattern))
    }

    /// Whether the pre-folded sets can decide: they hold no distances, so only deny-wins.
    fn folded_decide(&self) -> bool {
        self.precedence() == Precedence::DenyWins
    }

    /// Every user's decisions, from the pre-folded sets: one OR pass per user. The root user's
    /// row allows everything; a suspended user's row is empty.
    pub fn access_matrix(&self) -> AccessMatrix<'_> {
        let words = self.set_words();
        let mut allowed = vec![0u64; self.user_nodes().len() * words];
        let mut deny = vec![0u64; words];
        let folded = self.folded_decide();
        let none = Overlay::none();
        for (u, row) in self
            .user_nodes()
            .indices()
            .zip(allowed.chunks_exact_mut(words.max(1)))
        {
            if self.root() == Some(u) {
                row.fill(u64::MAX);
                let tail = self.universe_slice().len() % 64;
                if tail != 0 {
                    row[words - 1] = (1 << tail) - 1;
                }
                continue;
            }
            if !folded {
                let grants = self.grants(u, &none);
                for a in grants.actions() {
                    if grants.judge(self, &none, a, &ANY_RESOURCE).allowed() {
                        row[a.index() / 64] |= 1 << (a.index() % 64);
                    }
                }
                continue;
            }
            deny.fill(0);
            self.each_folded(u, |set| {
                let (set_allow, set_deny) = self.folded_set(set);
                for i in 0..words {
                    row[i] |= set_allow[i];
                    deny[i] |= set_deny[i];
                }
            });
            for (a, d) in row.iter_mut().zip(&deny) {
                *a &= !d;
            }
        }
        AccessMatrix {
            org: self,
            words,
            allowed,
        }
    }

    /// Calls `visit` with the index of each pre-folded set a user with standing access
    /// reaches: their direct policies, their assignable roles, their groups. Nothing for a
    /// suspended user.
    pub(crate) fn each_folded(&self, user: UserIx, mut visit: impl FnMut(usize)) {
        if self.user_nodes()[user].suspended {
            return;
        }
        for (_, set) in self.own_carriers(user) {
            visit(set);
        }
    }

    /// A user's carriers as the organization is (their own policies, assignable roles and
    /// groups), each with the index of its pre-folded set; suspended or not.
    pub(crate) fn own_carriers(&self, user: UserIx) -> impl Iterator<Item = (Carrier, usize)> + '_ {
        let (policies, roles, groups) = self.user_carriers(user);
        policies
            .iter()
            .map(|&p| (Carrier::Policy(p), p.index()))
            .chain(
                roles
                    .iter()
                    .filter(|&&r| self.role_nodes()[r].assignable)
                    .map(|&r| (Carrier::Role(r), self.role_set(r))),
            )
            .chain(
                groups
                    .iter()
                    .map(|&g| (Carrier::Group(g), self.group_set(g))),
            )
    }

    /// Whether any statement the user reaches (with standing access) covers `element`, on any
    /// resource: a cheap filter before walking routes.
    pub(crate) fn reaches_element(&self, user: UserIx, element: usize) -> bool {
        let bit = |words: &[u64]| words[element / 64] & (1 << (element % 64)) != 0;
        let mut found = false;
        self.each_folded(user, |set| {
            if found {
                return;
            }
            let (allow, deny) = self.folded_set(set);
            found = bit(allow)
                || bit(deny)
                || self
                    .folded_scoped(set)
                    .iter()
                    .any(|&s| self.statement_nodes()[s].actions.contains(element));
        });
        found
    }

    /// The elements a user is explicitly denied on `*` (see [`AccessMatrix::denied`]).
    fn denied_of(&self, user: UserIx) -> Vec<ElementId> {
        if self.root() == Some(user) {
            return Vec::new();
        }
        let none = Overlay::none();
        if !self.folded_decide() {
            let grants = self.grants(user, &none);
            return grants
                .actions()
                .filter(|&a| !grants.judge(self, &none, a, &ANY_RESOURCE).deny.is_empty())
                .map(ElementId)
                .collect();
        }
        let mut deny = vec![0u64; self.set_words()];
        self.each_folded(user, |set| {
            for (d, s) in deny.iter_mut().zip(self.folded_set(set).1) {
                *d |= s;
            }
        });
        BitSet::from_words(deny)
            .iter()
            .map(|e| ElementId(ElementIx::new(e)))
            .collect()
    }

    /// A user's decisions on named resources (see [`AccessMatrix::scoped`]).
    fn scoped_of(&self, user: UserIx) -> Vec<ScopedCell> {
        if self.root() == Some(user) {
            return Vec::new();
        }
        if !self.folded_decide() {
            return self.scoped_judged(user);
        }
        let words = self.set_words();
        let (mut allow, mut deny) = (vec![0u64; words], vec![0u64; words]);
        let mut statements = Vec::new();
        self.each_folded(user, |set| {
            let (set_allow, set_deny) = self.folded_set(set);
            for (a, b) in allow.iter_mut().zip(set_allow) {
                *a |= b;
            }
            for (a, b) in deny.iter_mut().zip(set_deny) {
                *a |= b;
            }
            statements.extend_from_slice(self.folded_scoped(set));
        });
        if statements.is_empty() {
            return Vec::new();
        }
        statements.sort_unstable();
        statements.dedup();
        for (a, d) in allow.iter_mut().zip(&deny) {
            *a &= !d;
        }
        self.scoped_cells(&statements, &allow, &deny)
    }

    /// [`Org::scoped_of`] judged from the user's routes, key by key, under any precedence.
    fn scoped_judged(&self, user: UserIx) -> Vec<ScopedCell> {
        let none = Overlay::none();
        let grants = self.grants(user, &none);
        let mut cells = Vec::new();
        let mut keys = Vec::new();
        for a in grants.actions() {
            grants.keys(self, &none, a, &mut keys);
            for key in keys.iter().filter(|k| !k.is_any()) {
                let judgement = grants.judge(self, &none, a, key);
                if !judgement.is_implicit() {
                    cells.push(ScopedCell {
                        element: ElementId(a),
                        resource: (*key).clone(),
                        allowed: judgement.allowed(),
                    });
                }
            }
        }
        cells
    }

    /// One decision, without paths: the fast path of [`Org::explain`]. `action` is read as
    /// there (a concrete action outside the universe is decided by the narrowest wildcard
    /// covering it).
    pub fn decide(
        &self,
        user: UserKey,
        action: &ActionPattern,
        resource: &ResourcePattern,
    ) -> Decision {
        let u = self.user_ix(user);
        if self.root() == Some(u) {
            return Decision::Allowed;
        }
        let Some((a, _)) = self.locate(action) else {
            return Decision::ImplicitDeny;
        };
        if !self.folded_decide() {
            let none = Overlay::none();
            return self
                .grants_for(u, &none, a)
                .judge(self, &none, a, resource)
                .decision();
        }
        let a = a.index();
        let (mut allow, mut deny) = (false, false);
        let bit = |words: &[u64]| words[a / 64] & (1 << (a % 64)) != 0;
        self.each_folded(u, |set| {
            let (set_allow, set_deny) = self.folded_set(set);
            allow |= bit(set_allow);
            deny |= bit(set_deny);
            if !resource.is_any() {
                for &s in self.folded_scoped(set) {
                    let st = &self.statement_nodes()[s];
                    if st.actions.contains(a) && st.covers_resource(resource) {
                        match st.effect {
                            Effect::Allow => allow = true,
                            Effect::Deny => deny = true,
                        }
                    }
                }
            }
        });
        match (allow, deny) {
            (_, true) => Decision::ExplicitDeny,
            (true, false) => Decision::Allowed,
            (false, false) => Decision::ImplicitDeny,
        }
    }

    /// Judges the cells the scoped statements name. `allow_row` is already net of Denies on `*`.
    fn scoped_cells(
        &self,
        statements: &[StatementIx],
        allow_row: &[u64],
        deny_row: &[u64],
    ) -> Vec<ScopedCell> {
        let bit = |row: &[u64], a: usize| row[a / 64] & (1 << (a % 64)) != 0;
        let mut cells: Vec<(ElementIx, &ResourcePattern)> = Vec::new();
        for &s in statements {
            let statement = &self.statement_nodes()[s];
            for a in statement.actions.iter() {
                for r in statement.resources.iter().filter(|r| !r.is_any()) {
                    cells.push((ElementIx::new(a), r));
                }
            }
        }
        cells.sort_unstable();
        cells.dedup();
        cells
            .into_iter()
            .filter_map(|(a, key)| {
                let covering = statements
                    .iter()
                    .map(|&s| &self.statement_nodes()[s])
                    .filter(|st| st.actions.contains(a.index()) && st.covers_resource(key));
                let (mut allow, mut deny) = (bit(allow_row, a.index()), bit(deny_row, a.index()));
                for st in covering {
                    match st.effect {
                        Effect::Allow => allow = true,
                        Effect::Deny => deny = true,
                    }
                }
                (allow || deny).then(|| ScopedCell {
                    element: ElementId(a),
                    resource: key.clone(),
                    allowed: allow && !deny,
                })
            })
            .collect()
    }
}

/// The bits set in a word.
fn ones(word: u64) -> usize {
    // At most 64: the conversion cannot fail.
    usize::try_from(word.count_ones()).unwrap_or(64)
}

#[cfg(test)]
mod tests {
    use crate::generate::{snapshot, Params, Shape};
    use crate::{Catalogue, Org};

    /// The matrix agrees with `effective`, entry by entry, on a generated organization.
    #[test]
    fn matrix_equals_effective() {
        let params = Params {
            users: 200,
            groups: 20,
            roles: 10,
            policies: 40,
            actions: 150,
            seed: 3,
            shape: Shape::Classic,
        };
        let org = Org::compile(&snapshot(&params), &Catalogue::bundled()).unwrap();
        let matrix = org.access_matrix();
        let universe: Vec<String> = org.universe().map(|a| a.to_string()).collect();
        let mut scoped_seen = 0;
        let mut denied_seen = 0;
        for user in org.users() {
            let effective = org.effective(user);
            if effective.user.root {
                assert_eq!(matrix.allowed_count(user), universe.len());
                continue;
            }
            let mut star: Vec<&str> = effective
                .allowed
                .iter()
                .filter(|e| e.resource == "*")
                .map(|e| e.action.as_str())
                .collect();
            star.sort();
            let mut from_matrix: Vec<&str> = org
                .elements()
                .filter(|&(a, _)| matrix.allowed(user, a))
                .map(|(_, a)| a.as_str())
                .collect();
            from_matrix.sort();
            assert_eq!(from_matrix, star, "user {}", effective.user.id);
            let mut star_denied: Vec<&str> = effective
                .denied
                .iter()
                .filter(|e| e.resource == "*")
                .map(|e| e.action.as_str())
                .collect();
            star_denied.sort();
            let mut denied: Vec<&str> = matrix
                .denied(user)
                .into_iter()
                .map(|a| universe[a.index()].as_str())
                .collect();
            denied.sort();
            assert_eq!(denied, star_denied, "user {}", effective.user.id);
            denied_seen += denied.len();
            let mut scoped: Vec<(String, String, bool)> = effective
                .allowed
                .iter()
                .map(|e| (e, true))
                .chain(effective.denied.iter().map(|e| (e, false)))
                .filter(|(e, _)| e.resource != "*")
                .map(|(e, allowed)| (e.action.clone(), e.resource.clone(), allowed))
                .collect();
            scoped.sort();
            let mut cells: Vec<(String, String, bool)> = matrix
                .scoped(user)
                .into_iter()
                .map(|c| {
                    (
                        universe[c.element.index()].clone(),
                        c.resource.to_string(),
                        c.allowed,
                    )
                })
                .collect();
            cells.sort();
            assert_eq!(cells, scoped, "user {}", effective.user.id);
            scoped_seen += cells.len();
        }
        assert!(
            scoped_seen > 0,
            "the generated organization has scoped statements"
        );
        assert!(
            denied_seen > 0,
            "the generated organization has Denies on `*`"
        );
    }

    /// `decide` agrees with `explain` on every user, for a sample of actions and resources.
    #[test]
    fn decide_equals_explain() {
        use crate::policy::{ActionPattern, ResourcePattern};
        let params = Params {
            users: 150,
            groups: 15,
            roles: 8,
            policies: 30,
            actions: 120,
            seed: 5,
            shape: Shape::Classic,
        };
        let org = Org::compile(&snapshot(&params), &Catalogue::bundled()).unwrap();
        let actions = [
            "svc0.res0.Create",
            "svc1.res2.Read",
            "svc9.res9.List",
            "compute.instance.Create",
        ];
        let resources = ["*", "registry:*", "registry:reg-3", "res-0042", "other"];
        for user in org.users() {
            for action in actions {
                for resource in resources {
                    let explained = org.explain(user, action, resource).unwrap().decision;
                    let decided = org.decide(
                        user,
                        &ActionPattern::parse(action).unwrap(),
                        &ResourcePattern::parse(resource).unwrap(),
                    );
                    assert_eq!(
                        decided,
                        explained,
                        "{} {action} {resource}",
                        org.user_id(user)
                    );
                }
            }
        }
    }
}
