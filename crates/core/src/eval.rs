//! Effective permissions with provenance, and single decisions explained.
//!
//! A user's grants are found by walking the fixed-depth attachment graph (user → (group) →
//! (role) → policy → statement) under an [`Overlay`] of pending changes, and spreading each
//! statement over the universe elements its pre-computed action bitset covers. No string
//! matching happens here: patterns were matched once, when the org was compiled.

use std::collections::BTreeMap;

use crate::bitset::{BitSet, ElementIx};
use crate::error::QueryError;
use crate::org::{
    GroupIx, Org, PolicyIx, Precedence, RoleIx, StatementIx, TrustIx, UserIx, UserKey,
};
pub(crate) use crate::overlay::Overlay;
use crate::policy::{ActionPattern, Effect, ResourcePattern};
use crate::report::{
    ActiveSession, Assumable, Decision, Effective, EntityRef, Entry, Explanation, Path, Step,
    TrustSummary, UserSummary, SCHEMA_VERSION,
};

/// How a user reaches a policy. The user is implicit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Route {
    pub(crate) group: Option<GroupIx>,
    pub(crate) role: Option<RoleIx>,
    pub(crate) policy: PolicyIx,
}

impl Route {
    /// Hops from the user to the policy: 1 attached to the user, one more through a group, one
    /// more through a role.
    pub(crate) fn distance(&self) -> u8 {
        1 + u8::from(self.group.is_some()) + u8::from(self.role.is_some())
    }
}

/// What carries a route to the user: the group it goes through, else the user's own role, else
/// the user's own policy; each has a pre-folded set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Carrier {
    Group(GroupIx),
    Role(RoleIx),
    Policy(PolicyIx),
}

impl Carrier {
    /// The carrier of `route`.
    pub(crate) fn of(route: &Route) -> Carrier {
        match (route.group, route.role) {
            (Some(group), _) => Carrier::Group(group),
            (None, Some(role)) => Carrier::Role(role),
            (None, None) => Carrier::Policy(route.policy),
        }
    }
}

/// A statement reached by a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Hit {
    pub(crate) route: Route,
    pub(crate) statement: StatementIx,
}

thread_local! {
    /// Per worker, [`Org::routes_through`]'s buffer, reused from call to call.
    static ROUTES: std::cell::RefCell<Vec<Route>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The key `*`, shared.
pub(crate) static ANY_RESOURCE: std::sync::LazyLock<ResourcePattern> =
    std::sync::LazyLock::new(ResourcePattern::any);

/// Every statement a user reaches, per universe element it covers: (element, hit) pairs sorted
/// by element, each element's hits in route order. A sorted vector rather than a map: built
/// once, read in order, and far cheaper to fill.
#[derive(Debug, Default)]
pub(crate) struct Grants {
    pairs: Vec<(ElementIx, Hit)>,
    /// Once settled, and when there are many pairs: where each element's hits start in
    /// `pairs` (one past the largest element at the end); else empty, and `hits` searches.
    starts: Vec<usize>,
    /// The elements some resource-scoped statement covers, as bits: only they have keys other
    /// than `*`.
    scoped: Vec<u64>,
}

/// The hits covering one (action, resource key), settled under the organization's
/// [`Precedence`]: `allow` and `deny` hold the hits that count, and among those a Deny wins.
/// `far_allow` and `far_deny` hold the hits that do not count because a nearer one does (only
/// under [`Precedence::NearestWins`]; always empty under [`Precedence::DenyWins`], where every
/// hit counts).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Judgement {
    pub(crate) allow: Vec<Hit>,
    pub(crate) deny: Vec<Hit>,
    pub(crate) far_allow: Vec<Hit>,
    pub(crate) far_deny: Vec<Hit>,
}

impl Judgement {
    /// Whether the hits that count allow: some Allow and no Deny.
    pub(crate) fn allowed(&self) -> bool {
        self.deny.is_empty() && !self.allow.is_empty()
    }

    /// Whether no statement covers the pair at all. (Settling never empties both `allow` and
    /// `deny` while some hit exists.)
    pub(crate) fn is_implicit(&self) -> bool {
        self.deny.is_empty() && self.allow.is_empty()
    }

    /// The decision the hits that count make.
    pub(crate) fn decision(&self) -> Decision {
        if !self.deny.is_empty() {
            Decision::ExplicitDeny
        } else if !self.allow.is_empty() {
            Decision::Allowed
        } else {
            Decision::ImplicitDeny
        }
    }

    /// Applies the precedence to freshly collected hits: the one place the rule lives. Under
    /// [`Precedence::NearestWins`], the hits farther from the user than the nearest covering
    /// one move to `far_allow` and `far_deny`, keeping their order.
    fn settle(&mut self, precedence: Precedence) {
        match precedence {
            Precedence::DenyWins => {}
            Precedence::NearestWins => {
                let Some(nearest) = self
                    .allow
                    .iter()
                    .chain(&self.deny)
                    .map(|hit| hit.route.distance())
                    .min()
                else {
                    return;
                };
                for (list, far) in [
                    (&mut self.allow, &mut self.far_allow),
                    (&mut self.deny, &mut self.far_deny),
                ] {
                    list.retain(|hit| {
                        let near = hit.route.distance() == nearest;
                        if !near {
                            far.push(*hit);
                        }
                        near
                    });
                }
            }
        }
    }
}

impl Grants {
    fn push(&mut self, action: ElementIx, hit: Hit, scoped: bool) {
        self.pairs.push((action, hit));
        if scoped {
            let word = action.index() / 64;
            if word >= self.scoped.len() {
                self.scoped.resize(word + 1, 0);
            }
            self.scoped[word] |= 1 << (action.index() % 64);
        }
    }

    fn is_scoped(&self, action: ElementIx) -> bool {
        self.scoped
            .get(action.index() / 64)
            .is_some_and(|word| word & (1 << (action.index() % 64)) != 0)
    }

    /// Sorts by element, keeping each element's hits in the order they were found: a counting
    /// sort, since elements are dense and a user's pairs run to tens of thousands on wide
    /// statements (a comparison sort was a third of a wide what-if's time).
    fn settle(mut self) -> Grants {
        let Some(max) = self.pairs.iter().map(|&(action, _)| action).max() else {
            return self;
        };
        if self.pairs.len() < 64 {
            self.pairs.sort_by_key(|&(action, _)| action);
            return self;
        }
        let mut starts = vec![0usize; max.index() + 2];
        for &(action, _) in &self.pairs {
            starts[action.index() + 1] += 1;
        }
        for i in 1..starts.len() {
            starts[i] += starts[i - 1];
        }
        let mut sorted = vec![self.pairs[0]; self.pairs.len()];
        for &(action, hit) in &self.pairs {
            let slot = &mut starts[action.index()];
            sorted[*slot] = (action, hit);
            *slot += 1;
        }
        // Each slot now holds where the next element starts: shift by one for the starts.
        starts.rotate_right(1);
        starts[0] = 0;
        self.starts = starts;
        self.pairs = sorted;
        self
    }

    /// The hits covering one element.
    pub(crate) fn hits(&self, action: ElementIx) -> impl Iterator<Item = &Hit> {
        let (start, end) = if self.starts.is_empty() {
            let start = self.pairs.partition_point(|&(a, _)| a < action);
            let len = self.pairs[start..]
                .iter()
                .take_while(|&&(a, _)| a == action)
                .count();
            (start, start + len)
        } else if action.index() + 1 < self.starts.len() {
            (self.starts[action.index()], self.starts[action.index() + 1])
        } else {
            (0, 0)
        };
        self.pairs[start..end].iter().map(|(_, hit)| hit)
    }

    /// The elements with at least one hit, in increasing order.
    pub(crate) fn actions(&self) -> impl Iterator<Item = ElementIx> + '_ {
        self.pairs
            .iter()
            .enumerate()
            .filter(|&(i, &(a, _))| i == 0 || self.pairs[i - 1].0 != a)
            .map(|(_, &(a, _))| a)
    }

    /// The resource keys worth a separate answer for `action`: `*`, and every non-`*` resource
    /// pattern of a statement that covers the action; sorted, each once, added to `into` (which
    /// is cleared first). Borrowed: no key is copied.
    pub(crate) fn keys<'a>(
        &self,
        org: &'a Org,
        overlay: &'a Overlay,
        action: ElementIx,
        into: &mut Vec<&'a ResourcePattern>,
    ) {
        into.clear();
        into.push(&ANY_RESOURCE);
        self.more_keys(org, overlay, action, into);
    }

    /// [`Grants::keys`] without clearing: the union with the keys already in `into`.
    pub(crate) fn more_keys<'a>(
        &self,
        org: &'a Org,
        overlay: &'a Overlay,
        action: ElementIx,
        into: &mut Vec<&'a ResourcePattern>,
    ) {
        if !self.is_scoped(action) {
            return;
        }
        let before = into.len();
        for hit in self.hits(action) {
            let statement = org.statement(hit.statement, overlay);
            if statement.scoped {
                into.extend(statement.resources.iter().filter(|r| !r.is_any()));
            }
        }
        if into.len() > before {
            into.sort_unstable();
            into.dedup();
        }
    }

    pub(crate) fn judge(
        &self,
        org: &Org,
        overlay: &Overlay,
        action: ElementIx,
        key: &ResourcePattern,
    ) -> Judgement {
        let mut judgement = Judgement::default();
        self.judge_into(org, overlay, action, key, &mut judgement);
        judgement
    }

    /// [`Grants::judge`] into a reused judgement (cleared first).
    pub(crate) fn judge_into(
        &self,
        org: &Org,
        overlay: &Overlay,
        action: ElementIx,
        key: &ResourcePattern,
        judgement: &mut Judgement,
    ) {
        judgement.allow.clear();
        judgement.deny.clear();
        judgement.far_allow.clear();
        judgement.far_deny.clear();
        for hit in self.hits(action) {
            let statement = org.statement(hit.statement, overlay);
            if statement.covers_resource(key) {
                match statement.effect {
                    Effect::Allow => judgement.allow.push(*hit),
                    Effect::Deny => judgement.deny.push(*hit),
                }
            }
        }
        judgement.settle(org.precedence());
    }
}

impl Org {
    /// Every route from `user` to a policy under `overlay`, for a user with standing access.
    pub(crate) fn routes(&self, user: UserIx, overlay: &Overlay) -> Vec<Route> {
        self.routes_through(user, overlay, |_| true)
    }

    /// [`Org::routes`] through the carriers `through` admits only, in the same order.
    ///
    /// Listed in a worker's reused buffer, then copied out at its exact size: one allocation
    /// per call instead of a growing vector's several (a user has tens of routes, and every
    /// user a what-if reaches has their routes listed twice).
    pub(crate) fn routes_through(
        &self,
        user: UserIx,
        overlay: &Overlay,
        through: impl Fn(Carrier) -> bool,
    ) -> Vec<Route> {
        ROUTES.with_borrow_mut(|routes| {
            routes.clear();
            self.routes_into(user, overlay, through, routes);
            routes.as_slice().to_vec()
        })
    }

    /// [`Org::routes_through`] appended to `routes`.
    pub(crate) fn routes_into(
        &self,
        user: UserIx,
        overlay: &Overlay,
        through: impl Fn(Carrier) -> bool,
        routes: &mut Vec<Route>,
    ) {
        let view = self.view(overlay);
        let via_role = |group: Option<GroupIx>, role: RoleIx, routes: &mut Vec<Route>| {
            routes.extend(view.role_policies(role).iter().map(|&policy| Route {
                group,
                role: Some(role),
                policy,
            }));
        };
        for &policy in view.user_policies(user).iter() {
            if through(Carrier::Policy(policy)) {
                routes.push(Route {
                    group: None,
                    role: None,
                    policy,
                });
            }
        }
        for role in view.user_roles(user) {
            if through(Carrier::Role(role)) {
                via_role(None, role, routes);
            }
        }
        for &group in view.user_groups(user).iter() {
            if !through(Carrier::Group(group)) {
                continue;
            }
            routes.extend(view.group_policies(group).iter().map(|&policy| Route {
                group: Some(group),
                role: None,
                policy,
            }));
            for role in view.group_roles(group) {
                via_role(Some(group), role, routes);
            }
        }
    }

    /// Every statement the user reaches under `overlay`, spread over the universe elements it
    /// covers (the overlay's extra elements included). Empty without standing access.
    pub(crate) fn grants(&self, user: UserIx, overlay: &Overlay) -> Grants {
        self.grants_over(user, overlay, &self.routes(user, overlay), None)
    }

    /// [`Org::grants`] over given routes, and only for the elements of `mask` when given.
    pub(crate) fn grants_over(
        &self,
        user: UserIx,
        overlay: &Overlay,
        routes: &[Route],
        mask: Option<&BitSet>,
    ) -> Grants {
        let mut grants = Grants::default();
        if !self.has_standing(user, overlay) {
            return grants;
        }
        let base = self.universe_slice().len();
        for &route in routes {
            for statement in self.policy_statements(route.policy, overlay) {
                let node = self.statement(statement, overlay);
                let hit = Hit { route, statement };
                let scoped = node.scoped;
                let mut add = |action: ElementIx| grants.push(action, hit, scoped);
                match (mask, &node.few) {
                    (None, _) => node.actions.iter().for_each(|a| add(ElementIx::new(a))),
                    (Some(mask), Some(few)) => few
                        .iter()
                        .filter(|&&a| mask.contains(a.index()))
                        .for_each(|&a| add(a)),
                    (Some(mask), None) => node
                        .actions
                        .iter_and(mask)
                        .for_each(|a| add(ElementIx::new(a))),
                }
                for (i, extra) in overlay.extra_elements.iter().enumerate() {
                    if node.patterns.iter().any(|p| p.covers(extra)) {
                        add(ElementIx::new(base + i));
                    }
                }
            }
        }
        grants.settle()
    }

    /// (trust, via group) pairs: the trusts that name the user or one of their groups, and
    /// whose conditions do not fail in the compile's trust context.
    pub(crate) fn trusts_of(
        &self,
        user: UserIx,
        overlay: &Overlay,
    ) -> BTreeMap<TrustIx, Vec<Option<GroupIx>>> {
        self.trusts_where(user, overlay, false)
    }

    /// The trusts naming the user or one of their groups that the trust context refuses
    /// (`refused`), or admits.
    fn trusts_where(
        &self,
        user: UserIx,
        overlay: &Overlay,
        refused: bool,
    ) -> BTreeMap<TrustIx, Vec<Option<GroupIx>>> {
        let mut found: BTreeMap<TrustIx, Vec<Option<GroupIx>>> = BTreeMap::new();
        if !self.has_standing(user, overlay) {
            return found;
        }
        let live = |t: TrustIx| {
            self.view(overlay).trust_live(t)
                && !overlay.deleted_roles.contains(&self.trust_nodes()[t].role)
                && self.trust_nodes()[t].refused.is_some() == refused
        };
        for &t in self.as_is().user_trusts(user).iter().filter(|&&t| live(t)) {
            found.entry(t).or_default().push(None);
        }
        for &group in self.view(overlay).user_groups(user).iter() {
            for &t in self
                .as_is()
                .group_trusts(group)
                .iter()
                .filter(|&&t| live(t))
            {
                found.entry(t).or_default().push(Some(group));
            }
        }
        found
    }

    /// The universe element that decides for `asked`: itself when the universe holds it
    /// (`true`), else the narrowest wildcard element covering it (`false`), else none.
    pub(crate) fn locate(&self, asked: &ActionPattern) -> Option<(ElementIx, bool)> {
        if let Ok(i) = self.universe_slice().binary_search(asked) {
            return Some((ElementIx::new(i), true));
        }
        // INVARIANT: the wildcards covering one action are nested, so the longest one is
        // covered by all the others and decides exactly as the action would.
        self.universe_slice()
            .iter()
            .enumerate()
            .filter(|(_, e)| e.is_wildcard() && e.covers(asked))
            .max_by_key(|(_, e)| e.as_str().len())
            .map(|(i, _)| (ElementIx::new(i), false))
    }

    /// The statements a user reaches that cover one universe element (no overlay extras).
    pub(crate) fn grants_for(&self, user: UserIx, overlay: &Overlay, element: ElementIx) -> Grants {
        let mut grants = Grants::default();
        if !self.has_standing(user, overlay) {
            return grants;
        }
        for route in self.routes(user, overlay) {
            for statement in self.policy_statements(route.policy, overlay) {
                if self
                    .statement(statement, overlay)
                    .actions
                    .contains(element.index())
                {
                    let scoped = self.statement(statement, overlay).scoped;
                    grants.push(element, Hit { route, statement }, scoped);
                }
            }
        }
        grants
    }

    pub(crate) fn user_summary(&self, user: UserIx) -> UserSummary {
        let node = &self.user_nodes()[user];
        UserSummary {
            id: self.steps().user_id(user).clone(),
            email: node.email.clone(),
            name: node.name.clone(),
            service_user: node.service_user,
            suspended: node.suspended,
            root: self.root() == Some(user),
            legacy_acls: node.legacy_acls.clone(),
            conditional: self.conditional_for(user, None),
        }
    }

    fn user_step(&self, user: UserIx) -> Step {
        self.steps().user(user).clone()
    }

    fn group_step(&self, group: GroupIx) -> Step {
        self.steps().group(group).clone()
    }

    pub(crate) fn group_ref(&self, group: GroupIx) -> EntityRef {
        let node = &self.group_nodes()[group];
        EntityRef {
            id: self.group_nodes().id(group).to_string(),
            name: node.display_name.clone(),
        }
    }

    pub(crate) fn root_path(&self, user: UserIx) -> Path {
        vec![self.user_step(user), self.steps().organization().clone()]
    }

    pub(crate) fn path(&self, user: UserIx, hit: &Hit, overlay: &Overlay) -> Path {
        let mut path = Vec::with_capacity(5);
        path.push(self.user_step(user));
        if let Some(group) = hit.route.group {
            path.push(self.group_step(group));
        }
        if let Some(role) = hit.route.role {
            path.push(self.steps().role(role).clone());
        }
        path.push(self.steps().policy(hit.route.policy).clone());
        path.push(Step::statement(
            self.statement(hit.statement, overlay).index,
        ));
        path
    }

    pub(crate) fn paths(&self, user: UserIx, hits: &[Hit], overlay: &Overlay) -> Vec<Path> {
        let mut paths: Vec<Path> = hits
            .iter()
            .map(|hit| self.path(user, hit, overlay))
            .collect();
        paths.sort();
        paths
    }

    pub(crate) fn entry(
        &self,
        user: UserIx,
        action: ElementIx,
        key: &ResourcePattern,
        hits: &[Hit],
        overlay: &Overlay,
    ) -> Entry {
        Entry {
            action: self.element(action, overlay).to_string(),
            resource: key.to_string(),
            via: self.paths(user, hits, overlay),
        }
    }

    /// A trust as reports show it.
    pub(crate) fn trust_summary(&self, t: TrustIx) -> TrustSummary {
        let trust = &self.trust_nodes()[t];
        TrustSummary {
            id: trust.id.clone(),
            trust_type: trust.trust_type.clone(),
            conditions: trust.conditions.clone(),
            valid_until: trust.valid_until.clone(),
            refused: trust.refused.clone(),
        }
    }

    pub(crate) fn assumables(
        &self,
        user: UserIx,
        trusts: &BTreeMap<TrustIx, Vec<Option<GroupIx>>>,
    ) -> Vec<Assumable> {
        let mut out: Vec<Assumable> = trusts
            .iter()
            .map(|(&t, vias)| {
                let mut via: Vec<Path> = vias
                    .iter()
                    .map(|group| {
                        let mut path = vec![self.user_step(user)];
                        path.extend(group.map(|g| self.group_step(g)));
                        path
                    })
                    .collect();
                via.sort();
                Assumable {
                    role: self.role_ref(self.trust_nodes()[t].role),
                    trust: self.trust_summary(t),
                    via,
                }
            })
            .collect();
        out.sort_by(|a, b| (&a.role.id, &a.trust.id).cmp(&(&b.role.id, &b.trust.id)));
        out
    }

    pub(crate) fn effective_under(&self, user: UserIx, overlay: &Overlay) -> Effective {
        let mut allowed = Vec::new();
        let mut denied = Vec::new();
        if self.root() == Some(user) {
            allowed.push(Entry {
                action: "*".to_string(),
                resource: "*".to_string(),
                via: vec![self.root_path(user)],
            });
        } else {
            let grants = self.grants(user, overlay);
            let mut keys = Vec::new();
            for action in grants.actions() {
                grants.keys(self, overlay, action, &mut keys);
                for &key in &keys {
                    let judgement = grants.judge(self, overlay, action, key);
                    if !judgement.deny.is_empty() {
                        denied.push(self.entry(user, action, key, &judgement.deny, overlay));
                    } else if !judgement.allow.is_empty() {
                        allowed.push(self.entry(user, action, key, &judgement.allow, overlay));
                    }
                }
            }
        }
        Effective {
            schema_version: SCHEMA_VERSION,
            user: self.user_summary(user),
            allowed,
            denied,
            assumable: self.assumables(user, &self.trusts_of(user, overlay)),
            sessions: self.sessions_of(user, |_| true),
        }
    }

    /// The user's sessions whose role passes `keep`, in snapshot order.
    pub(crate) fn sessions_of(
        &self,
        user: UserIx,
        keep: impl Fn(RoleIx) -> bool,
    ) -> Vec<ActiveSession> {
        self.sessions()
            .iter()
            .filter(|s| s.user == user && keep(s.role))
            .map(|s| ActiveSession {
                role: self.role_ref(s.role),
                session_name: s.name.clone(),
                assumed_at: s.assumed_at.clone(),
                expires_at: s.expires_at.clone(),
            })
            .collect()
    }

    /// A user's effective permissions: every allowed (action, resource) with all the paths that
    /// grant it, every explicitly denied one with its Deny paths, and the roles they may assume.
    ///
    /// Entries are sorted by action, then resource; paths are sorted. The root user gets one
    /// entry, `*` on `*`, through the organization; a suspended user gets none.
    pub fn effective(&self, user: UserKey) -> Effective {
        self.effective_under(self.user_ix(user), &Overlay::none())
    }

    /// The decision for one action on one resource, with every path behind it.
    ///
    /// `action` is a concrete action (`compute.instance.Create`), or a wildcard element of the
    /// universe as results show it (`compute.*`: the actions it covers that the catalogue does
    /// not name). A concrete action the universe does not hold is evaluated as the narrowest
    /// wildcard of the snapshot that covers it, if any.
    /// `resource` is `*` (any resource not named separately), `type:*` or an id.
    pub fn explain(
        &self,
        user: UserKey,
        action: &str,
        resource: &str,
    ) -> Result<Explanation, QueryError> {
        // The key first: a key of another organization panics whatever the other arguments.
        let user = self.user_ix(user);
        let asked = ActionPattern::parse(action).map_err(|source| QueryError::Action { source })?;
        if asked.is_wildcard() && self.universe_slice().binary_search(&asked).is_err() {
            return Err(QueryError::UnnamedWildcard {
                action: action.to_string(),
            });
        }
        let key =
            ResourcePattern::parse(resource).map_err(|source| QueryError::Resource { source })?;
        let (element, evaluated_as) = match self.locate(&asked) {
            Some((i, true)) => (Some(i), None),
            Some((i, false)) => (Some(i), Some(self.universe_slice()[i.index()].to_string())),
            None => (None, None),
        };
        let mut summary = self.user_summary(user);
        summary.conditional = self.conditional_for(user, Some((&asked, &key)));
        let mut explanation = Explanation {
            schema_version: SCHEMA_VERSION,
            user: summary,
            action: action.to_string(),
            resource: resource.to_string(),
            evaluated_as,
            decision: Decision::ImplicitDeny,
            allow: Vec::new(),
            deny: Vec::new(),
            overridden_allow: Vec::new(),
            overridden_deny: Vec::new(),
            note: None,
            not_assumable: self.assumables(user, &self.trusts_where(user, &Overlay::none(), true)),
        };
        if self.root() == Some(user) {
            explanation.decision = Decision::Allowed;
            explanation.allow = vec![self.root_path(user)];
            explanation.note =
                Some("root user: unconditional access, whatever the policies say".to_string());
            return Ok(explanation);
        }
        if !self.has_standing(user, &Overlay::none()) {
            explanation.note = Some("suspended user: no access; assignments are kept".to_string());
            return Ok(explanation);
        }
        let Some(element) = element else {
            explanation.note =
                Some("no statement of the organization names or covers this action".to_string());
            return Ok(explanation);
        };
        let none = Overlay::none();
        let judgement = self
            .grants_for(user, &none, element)
            .judge(self, &none, element, &key);
        explanation.decision = judgement.decision();
        explanation.allow = self.paths(user, &judgement.allow, &none);
        explanation.deny = self.paths(user, &judgement.deny, &none);
        explanation.overridden_allow = self.paths(user, &judgement.far_allow, &none);
        explanation.overridden_deny = self.paths(user, &judgement.far_deny, &none);
        Ok(explanation)
    }
}
