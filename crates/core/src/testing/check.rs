//! Invariant checkers: each returns the [`Violation`]s it finds, empty when all is well.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use super::strategy::Named;
use crate::catalogue::Catalogue;
use crate::change::ChangeSpec;
use crate::model::Snapshot;
use crate::reference;
use crate::report::{
    ActionId, ChangeKind, Decision, Entry, FlatImpact, FlatUserImpact, GroupedEntry, Impact,
    ImpactSummary, PairCounts, Path, PathId, Step, StepKind, UserImpact,
};
use crate::simulate::{Holder, Principal, SimulateOptions};
use crate::{Change, ChangeError, CompileOptions, Org, Precedence, UserKey};

/// An invariant that does not hold: which check found it, and what it saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The check: `effective`, `what-if`, `rebuild`, `removal`, or a fuzz target's name.
    pub check: &'static str,
    /// What differs, naming the user, change and entry.
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.check, self.message)
    }
}

impl std::error::Error for Violation {}

pub(super) fn violation(check: &'static str, message: impl Into<String>) -> Violation {
    Violation {
        check,
        message: message.into(),
    }
}

/// The first place two lists differ, for a message.
fn first_difference<T: PartialEq + fmt::Debug>(engine: &[T], reference: &[T]) -> String {
    let at = engine
        .iter()
        .zip(reference)
        .position(|(e, r)| e != r)
        .unwrap_or(engine.len().min(reference.len()));
    format!(
        "{} vs {} items; first difference at {at}: engine {:?}, reference {:?}",
        engine.len(),
        reference.len(),
        engine.get(at),
        reference.get(at)
    )
}

/// The engine's effective permissions of `user_id` equal the reference's, paths, denials and
/// assumable roles included. `org` must be compiled from `snapshot` against `catalogue`; the
/// reference judges under the precedence `org` was compiled with (as every checker of the kit
/// does: compile with [`Org::compile_with`] to check another rule).
pub fn check_user(
    org: &Org,
    snapshot: &Snapshot,
    catalogue: &Catalogue,
    user_id: &str,
) -> Vec<Violation> {
    let mut out = Vec::new();
    let Ok(key) = org.find_user(user_id) else {
        return vec![violation(
            "effective",
            format!("user `{user_id}` is in the snapshot but not in the compiled organization"),
        )];
    };
    let engine = org.effective(key);
    let naive = reference::effective_with(snapshot, catalogue, user_id, org.precedence());
    if engine.user != naive.user {
        out.push(violation(
            "effective",
            format!(
                "user `{user_id}`: summary {:?} vs reference {:?}",
                engine.user, naive.user
            ),
        ));
    }
    for (what, e, r) in [
        ("allowed", &engine.allowed, &naive.allowed),
        ("denied", &engine.denied, &naive.denied),
    ] {
        if e != r {
            out.push(violation(
                "effective",
                format!("user `{user_id}`: {what}: {}", first_difference(e, r)),
            ));
        }
    }
    if engine.assumable != naive.assumable {
        out.push(violation(
            "effective",
            format!(
                "user `{user_id}`: assumable: {}",
                first_difference(&engine.assumable, &naive.assumable)
            ),
        ));
    }
    out
}

/// [`check_user`] for every user of the snapshot.
pub fn check_effective(org: &Org, snapshot: &Snapshot, catalogue: &Catalogue) -> Vec<Violation> {
    snapshot
        .users
        .iter()
        .flat_map(|u| check_user(org, snapshot, catalogue, &u.id))
        .collect()
}

/// The entity of a kind whose id, or failing that whose name, is `query` (as
/// [`reference::apply`] and the engine's lookups read names): its id.
fn id_of(s: &Snapshot, kind: &str, query: &str) -> Option<String> {
    fn find<T>(items: &[T], q: &str, id: fn(&T) -> &str, name: fn(&T) -> &str) -> Option<String> {
        items
            .iter()
            .find(|x| id(x) == q)
            .or_else(|| items.iter().find(|x| name(x) == q))
            .map(|x| id(x).to_string())
    }
    match kind {
        "user" => find(&s.users, query, |x| &x.id, |x| &x.email),
        "group" => find(&s.groups, query, |x| &x.id, |x| &x.display_name),
        "role" => find(&s.roles, query, |x| &x.id, |x| &x.name),
        "policy" => find(&s.policies, query, |x| &x.id, |x| &x.name),
        _ => find(&s.role_trusts, query, |x| &x.id, |x| &x.id),
    }
}

/// The entities a change names, by kind and name as given.
fn named_entities(spec: &ChangeSpec) -> Vec<Named> {
    let mut out = Vec::new();
    let mut add = |kind: &'static str, id: Option<&String>| {
        if let Some(id) = id {
            out.push(Named {
                kind,
                id: id.clone(),
            });
        }
    };
    match spec {
        ChangeSpec::RemoveMember { group, user } | ChangeSpec::AddMember { group, user } => {
            add("user", Some(user));
            add("group", Some(group));
        }
        ChangeSpec::DetachPolicy {
            policy,
            user,
            group,
            role,
        }
        | ChangeSpec::AttachPolicy {
            policy,
            user,
            group,
            role,
        } => {
            add("policy", Some(policy));
            add("user", user.as_ref());
            add("group", group.as_ref());
            add("role", role.as_ref());
        }
        ChangeSpec::DetachRole { role, user, group }
        | ChangeSpec::AttachRole { role, user, group } => {
            add("role", Some(role));
            add("user", user.as_ref());
            add("group", group.as_ref());
        }
        ChangeSpec::DeleteGroup { group } => add("group", Some(group)),
        ChangeSpec::DeleteRole { role } => add("role", Some(role)),
        ChangeSpec::DeletePolicy { policy } | ChangeSpec::ReplacePolicyDocument { policy, .. } => {
            add("policy", Some(policy))
        }
        ChangeSpec::SuspendUser { user }
        | ChangeSpec::UnsuspendUser { user }
        | ChangeSpec::RemoveUser { user } => add("user", Some(user)),
        ChangeSpec::DeleteRoleTrust { trust } => add("role trust", Some(trust)),
        ChangeSpec::CreateUser { id, .. } => add("user", Some(id)),
        ChangeSpec::CreateGroup { id, .. } => add("group", Some(id)),
        ChangeSpec::CreateRole { id, .. } => add("role", Some(id)),
        ChangeSpec::CreatePolicy { id, .. } => add("policy", Some(id)),
        // The trust itself is not there before its creation: its role and principal are.
        ChangeSpec::CreateRoleTrust {
            role, user, group, ..
        } => {
            add("role", Some(role));
            add("user", user.as_ref());
            add("group", group.as_ref());
        }
    }
    out
}

/// The kind of a change.
pub fn kind_of(spec: &ChangeSpec) -> ChangeKind {
    match spec {
        ChangeSpec::RemoveMember { .. } => ChangeKind::RemoveMember,
        ChangeSpec::AddMember { .. } => ChangeKind::AddMember,
        ChangeSpec::DetachPolicy { .. } => ChangeKind::DetachPolicy,
        ChangeSpec::AttachPolicy { .. } => ChangeKind::AttachPolicy,
        ChangeSpec::DetachRole { .. } => ChangeKind::DetachRole,
        ChangeSpec::AttachRole { .. } => ChangeKind::AttachRole,
        ChangeSpec::DeleteGroup { .. } => ChangeKind::DeleteGroup,
        ChangeSpec::DeleteRole { .. } => ChangeKind::DeleteRole,
        ChangeSpec::DeletePolicy { .. } => ChangeKind::DeletePolicy,
        ChangeSpec::SuspendUser { .. } => ChangeKind::SuspendUser,
        ChangeSpec::UnsuspendUser { .. } => ChangeKind::UnsuspendUser,
        ChangeSpec::RemoveUser { .. } => ChangeKind::RemoveUser,
        ChangeSpec::ReplacePolicyDocument { .. } => ChangeKind::ReplacePolicyDocument,
        ChangeSpec::DeleteRoleTrust { .. } => ChangeKind::DeleteRoleTrust,
        ChangeSpec::CreateUser { .. } => ChangeKind::CreateUser,
        ChangeSpec::CreateGroup { .. } => ChangeKind::CreateGroup,
        ChangeSpec::CreateRole { .. } => ChangeKind::CreateRole,
        ChangeSpec::CreatePolicy { .. } => ChangeKind::CreatePolicy,
        ChangeSpec::CreateRoleTrust { .. } => ChangeKind::CreateRoleTrust,
    }
}

/// Kinds that are a no-op when they change nothing; the others always do something.
fn can_be_noop(kind: ChangeKind) -> bool {
    !matches!(
        kind,
        ChangeKind::DeleteGroup
            | ChangeKind::DeleteRole
            | ChangeKind::DeletePolicy
            | ChangeKind::RemoveUser
            | ChangeKind::ReplacePolicyDocument
            | ChangeKind::DeleteRoleTrust
            | ChangeKind::CreateUser
            | ChangeKind::CreateGroup
            | ChangeKind::CreateRole
            | ChangeKind::CreatePolicy
            | ChangeKind::CreateRoleTrust
    )
}

/// What the engine must answer for a change set, worked out on the reference's snapshots.
enum Expected {
    /// Every change can be made.
    Applied {
        /// The snapshot after every change.
        after: Box<Snapshot>,
        /// The kinds of the changes that do something.
        kinds: Vec<ChangeKind>,
        /// The ids of the users those changes name (who are reported even when nothing happens
        /// to them).
        named: BTreeSet<String>,
    },
    /// A change names an entity an earlier change deleted: each such entity, by id.
    Deleted(Vec<Named>),
    /// A change replaces the document of a Vultr-managed policy.
    SystemPolicy(String),
}

fn expected(snapshot: &Snapshot, specs: &[ChangeSpec]) -> Expected {
    let mut current = snapshot.clone();
    // Every entity there has been so far: the snapshot's, and those created since (a created
    // entity deleted by a later change is gone for the changes after, as one of the snapshot's
    // would be).
    let mut ever = snapshot.clone();
    let mut kinds = Vec::new();
    let mut named = BTreeSet::new();
    for spec in specs {
        let gone: Vec<Named> = named_entities(spec)
            .into_iter()
            .filter(|n| id_of(&current, n.kind, &n.id).is_none())
            .filter_map(|n| {
                Some(Named {
                    kind: n.kind,
                    id: id_of(&ever, n.kind, &n.id)?,
                })
            })
            .collect();
        if !gone.is_empty() {
            return Expected::Deleted(gone);
        }
        if let ChangeSpec::ReplacePolicyDocument { policy, .. } = spec {
            let id = id_of(&current, "policy", policy);
            if let Some(p) = current
                .policies
                .iter()
                .find(|p| Some(&p.id) == id.as_ref() && p.is_system_policy)
            {
                return Expected::SystemPolicy(p.id.clone());
            }
        }
        let next = reference::apply(&current, spec);
        if let Some((kind, id)) = spec.creates() {
            if id_of(&ever, kind.noun(), id).is_none() {
                ever = reference::apply(&ever, spec);
            }
        }
        let kind = kind_of(spec);
        if !(can_be_noop(kind) && next == current) {
            kinds.push(kind);
            named.extend(
                named_entities(spec)
                    .into_iter()
                    .filter(|n| n.kind == "user")
                    .filter_map(|n| id_of(&current, "user", &n.id)),
            );
        }
        current = next;
    }
    Expected::Applied {
        after: Box::new(current),
        kinds,
        named,
    }
}

/// Resolves and simulates a change set, skipping no-ops: the checkers' one way to run it. The
/// grouped report is checked for its own shape ([`grouped_shape`]), then flattened to one entry
/// per (action, resource), the form the reference computes.
fn simulate(org: &Org, specs: &[ChangeSpec]) -> Result<Result<FlatImpact, ChangeError>, Violation> {
    let changes = org.resolve_all(specs).map_err(|e| {
        violation(
            "what-if",
            format!(
                "changes[{}] does not resolve: {}; the checkers take changes naming real entities",
                e.index, e.source
            ),
        )
    })?;
    let options = SimulateOptions {
        allow_noop: true,
        ..SimulateOptions::default()
    };
    match org.simulate_with(&changes, &options) {
        Ok(impact) => {
            let counted = org.simulate_with(
                &changes,
                &SimulateOptions {
                    detail: crate::Detail::Counts,
                    ..options
                },
            );
            let problem = grouped_shape(&impact)
                .or_else(|| counts_agree(&impact, counted))
                .or_else(|| stream_agrees(org, &changes, &options, &impact));
            match problem {
                Some(problem) => Err(violation(
                    "what-if",
                    format!("{}: grouped report: {problem}", show(specs)),
                )),
                None => Ok(Ok(impact.flatten())),
            }
        }
        Err(e) => Ok(Err(e)),
    }
}

/// What the counts-only report ([`Detail::Counts`](crate::Detail::Counts)) gets wrong against
/// the full one, if anything: the summary, the per-action counts, and each user's counts,
/// unchanged count, assumable roles and note must be the same, with no entry.
fn counts_agree(full: &Impact, counted: Result<Impact, ChangeError>) -> Option<String> {
    let counted = match counted {
        Ok(counted) => counted,
        Err(e) => return Some(format!("counts only: {e}")),
    };
    if counted.summary != full.summary || counted.actions != full.actions {
        return Some(format!(
            "counts only: summary {:?} and actions {:?}, full {:?} and {:?}",
            counted.summary, counted.actions, full.summary, full.actions
        ));
    }
    let strip = |u: &crate::report::UserImpact| crate::report::UserImpact {
        shared: crate::report::SharedPaths::default(),
        lost: Vec::new(),
        kept: Vec::new(),
        gained: Vec::new(),
        ..u.clone()
    };
    for (c, f) in counted.users.iter().zip(&full.users) {
        if *c != strip(f) {
            return Some(format!("counts only: user {c:?}, full {:?}", strip(f)));
        }
    }
    (counted.users.len() != full.users.len()).then(|| "counts only: other users".to_string())
}

/// Whether the report written user by user ([`Org::simulate_stream`]) is, byte for byte, the
/// report built in memory.
fn stream_agrees(
    org: &Org,
    changes: &[crate::Change],
    options: &SimulateOptions,
    impact: &Impact,
) -> Option<String> {
    let stream = match org.simulate_stream(changes, options, &|_, _| {}) {
        Ok(stream) => stream,
        Err(e) => return Some(format!("streamed: {e}")),
    };
    let (streamed, built) = (
        serde_json::to_string(&stream).unwrap_or_default(),
        serde_json::to_string(impact).unwrap_or_default(),
    );
    (streamed != built).then(|| format!("streamed {streamed}, built {built}"))
}

/// What is wrong with a grouped report's own shape, if anything: every index in range; each
/// path and action of the tables used, the paths distinct and numbered by first reference, each
/// path's actions sorted; an entry's actions sorted and distinct, its paths sorted, each of its
/// paths covering one of its actions and each action covered by one of its paths; a user's
/// entries sorted by first action and resource, with
/// no (action, resource) in two entries of one list; the counts the sums of the entries'
/// actions; the summary and the per-action counts those of the users.
pub fn grouped_shape(impact: &Impact) -> Option<String> {
    let actions_sorted = || {
        (!impact.actions.windows(2).all(|w| w[0].action < w[1].action))
            .then(|| "the actions are not sorted, or one is listed twice".to_string())
    };
    let tables = tables_shape(impact)
        .or_else(|| numbering_shape(impact))
        .or_else(actions_sorted);
    if tables.is_some() {
        return tables;
    }
    let mut tally = Tally {
        used_paths: vec![false; impact.paths.len()],
        per_action: vec![[0usize; 3]; impact.actions.len()],
        summary: ImpactSummary {
            users_reached: impact.summary.users_reached,
            ..Default::default()
        },
    };
    for user in &impact.users {
        if let Some(problem) = user_shape(impact, user, &mut tally) {
            return Some(problem);
        }
    }
    totals_shape(impact, &tally)
}

/// What the users of a grouped report add up to, for [`grouped_shape`].
struct Tally {
    /// Per path of the table, whether an entry refers to it.
    used_paths: Vec<bool>,
    /// Per action of the table, the users losing, keeping and gaining it.
    per_action: Vec<[usize; 3]>,
    summary: ImpactSummary,
}

/// The tables of paths and sets of actions: each path and set listed once, each path's set in
/// range, sets sorted and in range.
fn tables_shape(impact: &Impact) -> Option<String> {
    let (paths, actions) = (impact.paths.len(), impact.actions.len());
    let distinct_paths = impact
        .paths
        .iter()
        .map(|p| &p.steps)
        .collect::<BTreeSet<_>>()
        .len();
    if distinct_paths != paths {
        return Some("a path is listed twice".to_string());
    }
    if impact
        .paths
        .iter()
        .any(|p| p.covers.index() >= impact.coverage.len())
    {
        return Some("a path's set of actions is out of range".to_string());
    }
    if !impact
        .coverage
        .iter()
        .all(|set| set.windows(2).all(|w| w[0] < w[1]) && set.iter().all(|a| a.index() < actions))
    {
        return Some("a set of actions is unsorted, repeated or out of range".to_string());
    }
    if impact.coverage.iter().collect::<BTreeSet<_>>().len() != impact.coverage.len() {
        return Some("a set of actions is listed twice".to_string());
    }
    None
}

/// Sets of actions numbered by first reference from the paths, each used; paths numbered by
/// first reference in report order.
fn numbering_shape(impact: &Impact) -> Option<String> {
    let mut next_set = 0;
    for path in &impact.paths {
        let set = path.covers.index();
        if set > next_set {
            return Some(format!("set {set} is referred to before set {next_set}"));
        }
        next_set = next_set.max(set + 1);
    }
    if next_set != impact.coverage.len() {
        return Some("a set of actions no path covers".to_string());
    }
    let mut next = 0;
    for user in &impact.users {
        for list in user.path_lists() {
            for path in list.iter().map(|p| p.index()) {
                if path > next {
                    return Some(format!("path {path} is referred to before path {next}"));
                }
                next = next.max(path + 1);
            }
        }
    }
    None
}

/// One user's lists: each entry well formed, entries sorted, no pair in two entries of one
/// list, the counts those of the entries; adds the user to `tally`.
fn user_shape(impact: &Impact, user: &UserImpact, tally: &mut Tally) -> Option<String> {
    let who = &user.user.id;
    let mut counts = PairCounts::default();
    let lists = [
        (&user.lost, &mut counts.lost),
        (&user.kept, &mut counts.kept),
        (&user.gained, &mut counts.gained),
    ];
    for (i, (list, count)) in lists.into_iter().enumerate() {
        let mut pairs = BTreeSet::new();
        let mut named = BTreeSet::new();
        let shared = [&user.shared.lost, &user.shared.kept, &user.shared.gained][i];
        if let Some(problem) = shared_shape(impact, shared, list) {
            return Some(format!("user `{who}`: {problem}"));
        }
        shared
            .iter()
            .for_each(|p| tally.used_paths[p.index()] = true);
        for entry in list.iter() {
            if let Some(problem) = entry_shape(impact, shared, entry) {
                return Some(format!("user `{who}`: {problem}"));
            }
            entry
                .via
                .iter()
                .for_each(|p| tally.used_paths[p.index()] = true);
            for &action in &entry.actions {
                if !pairs.insert((action, &entry.resource)) {
                    return Some(format!("user `{who}`: a pair in two entries of one list"));
                }
                if named.insert(action) {
                    tally.per_action[action.index()][i] += 1;
                }
            }
        }
        let keys: Vec<_> = list.iter().map(|e| (e.actions[0], &e.resource)).collect();
        if !keys.windows(2).all(|w| w[0] < w[1]) {
            return Some(format!("user `{who}`: entries not sorted"));
        }
        *count = pairs.len();
    }
    if counts != user.counts {
        return Some(format!(
            "user `{who}`: counts {:?}, the entries make {counts:?}",
            user.counts
        ));
    }
    let summary = &mut tally.summary;
    summary.users_affected += 1;
    summary.pairs.lost += counts.lost;
    summary.pairs.kept += counts.kept;
    summary.pairs.gained += counts.gained;
    summary.users_losing += usize::from(counts.lost > 0 || !user.assumable_lost.is_empty());
    summary.users_gaining += usize::from(counts.gained > 0 || !user.assumable_gained.is_empty());
    None
}

/// A list's shared paths: in range, sorted, distinct, none also in an entry's `via`, each
/// covering an action of the list.
fn shared_shape(impact: &Impact, shared: &[PathId], list: &[GroupedEntry]) -> Option<&'static str> {
    if shared.iter().any(|p| p.index() >= impact.paths.len()) {
        return Some("an index out of range");
    }
    if !shared
        .windows(2)
        .all(|w| impact.path(w[0]) < impact.path(w[1]))
    {
        return Some("a list's shared paths are unsorted or repeated");
    }
    let covers = |p: &PathId, a: &ActionId| impact.covers(*p).binary_search(a).is_ok();
    for p in shared {
        if list.iter().any(|entry| entry.via.contains(p)) {
            return Some("a shared path in an entry's paths too");
        }
        if !list
            .iter()
            .any(|entry| entry.actions.iter().any(|a| covers(p, a)))
        {
            return Some("a shared path covers none of its list's actions");
        }
    }
    None
}

/// One entry: its actions sorted, distinct and in range; its paths sorted, distinct and in
/// range; each of its paths covering one of its actions and each action covered by one of its
/// paths or of its list's `shared` paths.
fn entry_shape(impact: &Impact, shared: &[PathId], entry: &GroupedEntry) -> Option<&'static str> {
    if entry.actions.is_empty() || !entry.actions.windows(2).all(|w| w[0] < w[1]) {
        return Some("an entry's actions are empty, unsorted or repeated");
    }
    if entry
        .actions
        .iter()
        .any(|a| a.index() >= impact.actions.len())
        || entry.via.iter().any(|p| p.index() >= impact.paths.len())
    {
        return Some("an index out of range");
    }
    if !entry
        .via
        .windows(2)
        .all(|w| impact.path(w[0]) < impact.path(w[1]))
    {
        return Some("an entry's paths are unsorted or repeated");
    }
    let covers = |p: &PathId, a: &ActionId| impact.covers(*p).binary_search(a).is_ok();
    if !entry
        .via
        .iter()
        .all(|p| entry.actions.iter().any(|a| covers(p, a)))
        || !entry
            .actions
            .iter()
            .all(|a| entry.via.iter().chain(shared).any(|p| covers(p, a)))
    {
        return Some(
            "a path of an entry covers none of its actions, or an action none of its paths",
        );
    }
    None
}

/// The summary and the per-action counts those of the users; every path and action of the
/// tables used.
fn totals_shape(impact: &Impact, tally: &Tally) -> Option<String> {
    let summary = &tally.summary;
    if *summary != impact.summary || impact.summary.users_reached < summary.users_affected {
        return Some(format!(
            "summary {:?}, the users make {summary:?}",
            impact.summary
        ));
    }
    for (action, counted) in impact.actions.iter().zip(&tally.per_action) {
        if [action.lost, action.kept, action.gained] != *counted {
            return Some(format!(
                "action `{}`: counts {:?}, the users make {counted:?}",
                action.action,
                [action.lost, action.kept, action.gained]
            ));
        }
    }
    if tally.used_paths.contains(&false) || tally.per_action.iter().any(|c| c == &[0, 0, 0]) {
        return Some("a table lists a path or action no entry refers to".to_string());
    }
    None
}

fn show(specs: &[ChangeSpec]) -> String {
    serde_json::to_string(specs).unwrap_or_default()
}

fn entry_key(e: &Entry) -> (&str, &str) {
    (&e.action, &e.resource)
}

/// Lost, kept and gained are disjoint and sorted; users are sorted most lost first; the
/// per-action summary counts, for each action, the users who lose, keep and gain it.
fn check_impact_shape(impact: &FlatImpact, what: &str, out: &mut Vec<Violation>) {
    let mut counts: BTreeMap<&str, [BTreeSet<&str>; 3]> = BTreeMap::new();
    for user in &impact.users {
        for (i, list) in [&user.lost, &user.kept, &user.gained]
            .into_iter()
            .enumerate()
        {
            for entry in list {
                counts.entry(&entry.action).or_default()[i].insert(&user.user.id);
            }
        }
    }
    let expected: Vec<(&str, [usize; 3])> = counts
        .iter()
        .map(|(action, sets)| (*action, [sets[0].len(), sets[1].len(), sets[2].len()]))
        .collect();
    let got: Vec<(&str, [usize; 3])> = impact
        .actions
        .iter()
        .map(|a| (&*a.action, [a.lost, a.kept, a.gained]))
        .collect();
    if got != expected {
        out.push(violation(
            "what-if",
            format!("{what}: action summary {got:?}, expected {expected:?}"),
        ));
    }
    if !impact
        .users
        .windows(2)
        .all(|w| w[0].lost.len() >= w[1].lost.len())
    {
        out.push(violation(
            "what-if",
            format!("{what}: users are not sorted most lost first"),
        ));
    }
    let mut seen = BTreeSet::new();
    for user in &impact.users {
        if !seen.insert(&user.user.id) {
            out.push(violation(
                "what-if",
                format!("{}: user `{}` reported twice", what, user.user.id),
            ));
        }
        let lists = [&user.lost, &user.kept, &user.gained];
        for list in lists {
            if !list.windows(2).all(|w| entry_key(&w[0]) < entry_key(&w[1])) {
                out.push(violation(
                    "what-if",
                    format!(
                        "{what}: user `{}`: entries not sorted or repeated",
                        user.user.id
                    ),
                ));
            }
        }
        let sets: Vec<BTreeSet<_>> = lists
            .iter()
            .map(|l| l.iter().map(entry_key).collect())
            .collect();
        if !(sets[0].is_disjoint(&sets[1])
            && sets[0].is_disjoint(&sets[2])
            && sets[1].is_disjoint(&sets[2]))
        {
            out.push(violation(
                "what-if",
                format!(
                    "{what}: user `{}`: lost, kept and gained overlap",
                    user.user.id
                ),
            ));
        }
    }
}

/// The what-if of `specs` (one step, no-ops skipped) equals the reference's: each change made
/// to a copy of the snapshot with [`reference::apply`], then every user judged before and after
/// from scratch with [`reference::impact`]; paths, counts and notes included. Also: a user the
/// engine does not report is one the reference finds untouched, the users the changes name are
/// reported, the changes that do something are listed, lost/kept/gained are disjoint and
/// sorted, and an error is the one the reference's snapshots predict (an entity deleted by an
/// earlier change, a Vultr-managed policy's document replaced).
pub fn check_what_if(
    org: &Org,
    snapshot: &Snapshot,
    catalogue: &Catalogue,
    specs: &[ChangeSpec],
) -> Vec<Violation> {
    let result = match simulate(org, specs) {
        Ok(result) => result,
        Err(v) => return vec![v],
    };
    let what = show(specs);
    let mut out = Vec::new();
    let message = match (expected(snapshot, specs), result) {
        (Expected::Deleted(gone), Err(ChangeError::Deleted { kind, id })) => {
            let deleted = Named {
                kind: kind.noun(),
                id: id.clone(),
            };
            if gone.contains(&deleted) {
                return out;
            }
            format!("error names {kind} `{id}`; deleted earlier: {gone:?}")
        }
        (Expected::SystemPolicy(policy), Err(ChangeError::SystemPolicy { policy: got }))
            if policy == got =>
        {
            return out;
        }
        (
            Expected::Applied {
                after,
                kinds,
                named,
            },
            Ok(impact),
        ) => {
            let reported: Vec<ChangeKind> = impact.changes.iter().map(|c| c.kind).collect();
            if reported != kinds {
                out.push(violation(
                    "what-if",
                    format!("{what}: changes reported {reported:?}, expected {kinds:?}"),
                ));
            }
            let sides = Sides {
                before: snapshot,
                after: after.as_ref(),
                precedence: org.precedence(),
            };
            compare_impact(&impact, sides, catalogue, &named, &what, &mut out);
            return out;
        }
        (Expected::Deleted(gone), other) => {
            format!("expected an error naming one of {gone:?}, got {other:?}")
        }
        (Expected::SystemPolicy(policy), other) => {
            format!("expected the error for system policy `{policy}`, got {other:?}")
        }
        (Expected::Applied { .. }, Err(e)) => format!("unexpected error: {e}"),
    };
    out.push(violation("what-if", format!("{what}: {message}")));
    out
}

/// The snapshots before and after a change set, and the precedence to judge them under.
struct Sides<'a> {
    before: &'a Snapshot,
    after: &'a Snapshot,
    precedence: Precedence,
}

/// Compares the engine's impact with the reference's, user by user.
fn compare_impact(
    impact: &FlatImpact,
    Sides {
        before,
        after,
        precedence,
    }: Sides,
    catalogue: &Catalogue,
    named: &BTreeSet<String>,
    what: &str,
    out: &mut Vec<Violation>,
) {
    check_impact_shape(impact, what, out);
    let reported: BTreeMap<&str, &FlatUserImpact> =
        impact.users.iter().map(|u| (&*u.user.id, u)).collect();
    for id in named {
        if !reported.contains_key(id.as_str()) {
            out.push(violation(
                "what-if",
                format!("{what}: user `{id}` is named by a change but not reported"),
            ));
        }
    }
    for user in &before.users {
        let naive = reference::impact_with(before, after, catalogue, &user.id, precedence);
        match reported.get(user.id.as_str()) {
            Some(got) if **got != naive => out.push(violation(
                "what-if",
                format!(
                    "{what}: user `{}`: {}",
                    user.id,
                    impact_difference(got, &naive)
                ),
            )),
            Some(_) => {}
            None if !naive.is_empty() => out.push(violation(
                "what-if",
                format!(
                    "{what}: user `{}` not reported, but the reference says {naive:?}",
                    user.id
                ),
            )),
            None => {}
        }
    }
}

fn impact_difference(engine: &FlatUserImpact, naive: &FlatUserImpact) -> String {
    let lists = [
        ("lost", &engine.lost, &naive.lost),
        ("kept", &engine.kept, &naive.kept),
        ("gained", &engine.gained, &naive.gained),
    ];
    for (what, e, r) in lists {
        if e != r {
            return format!("{what}: {}", first_difference(e, r));
        }
    }
    if engine.assumable_lost != naive.assumable_lost {
        return format!(
            "assumable_lost: {}",
            first_difference(&engine.assumable_lost, &naive.assumable_lost)
        );
    }
    if engine.assumable_gained != naive.assumable_gained {
        return format!(
            "assumable_gained: {}",
            first_difference(&engine.assumable_gained, &naive.assumable_gained)
        );
    }
    format!(
        "engine {:?} / {:?} / {:?}, reference {:?} / {:?} / {:?} (user, unchanged_count, note)",
        engine.user,
        engine.unchanged_count,
        engine.note,
        naive.user,
        naive.unchanged_count,
        naive.note
    )
}

/// The entries of `list` by (action, resource), limited to `actions`.
fn by_key<'a>(
    list: &'a [Entry],
    actions: &BTreeSet<String>,
) -> BTreeMap<(&'a str, &'a str), &'a [Path]> {
    list.iter()
        .filter(|e| actions.contains(&e.action))
        .map(|e| (entry_key(e), e.via.as_slice()))
        .collect()
}

/// The what-if of `specs` equals compiling the changed snapshot: with every change made by
/// [`reference::apply`], the snapshot still compiles (under `org`'s precedence), and the
/// compiled organization decides
/// every lost entry as not allowed, every kept and gained entry as allowed with the reported
/// paths, and every other allowed entry of every user as before, paths included (on the
/// action elements both organizations share). A change set the engine refuses is left to
/// [`check_what_if`].
pub fn check_rebuild(
    org: &Org,
    snapshot: &Snapshot,
    catalogue: &Catalogue,
    specs: &[ChangeSpec],
) -> Vec<Violation> {
    let impact = match simulate(org, specs) {
        Ok(Ok(impact)) => impact,
        Ok(Err(_)) => return Vec::new(),
        Err(v) => return vec![v],
    };
    let what = show(specs);
    let after = reference::apply_all(snapshot, specs);
    let options = CompileOptions {
        precedence: org.precedence(),
        ..Default::default()
    };
    let rebuilt = match Org::compile_with(&after, catalogue, &options) {
        Ok(rebuilt) => rebuilt,
        Err(e) => {
            return vec![violation(
                "rebuild",
                format!("{what}: the changed snapshot does not compile: {e}"),
            )]
        }
    };
    let shared: BTreeSet<String> = {
        let new: BTreeSet<String> = rebuilt.universe().map(|a| a.to_string()).collect();
        org.universe()
            .map(|a| a.to_string())
            .filter(|a| new.contains(a))
            .collect()
    };
    let reported: BTreeMap<&str, &FlatUserImpact> =
        impact.users.iter().map(|u| (&*u.user.id, u)).collect();
    let rebuild = Rebuild {
        org,
        rebuilt: &rebuilt,
        shared: &shared,
        what: &what,
    };
    let mut out = Vec::new();
    for user in &snapshot.users {
        let got = reported.get(user.id.as_str()).copied();
        out.extend(rebuild.check_user(&user.id, got));
    }
    out
}

/// An organization and its rebuild after a change set, for [`check_rebuild`].
struct Rebuild<'a> {
    org: &'a Org,
    rebuilt: &'a Org,
    /// The action elements both organizations have.
    shared: &'a BTreeSet<String>,
    /// The change set, for messages.
    what: &'a str,
}

impl Rebuild<'_> {
    /// The violations of one user, whose impact is `got` (`None`: not reported).
    fn check_user(&self, id: &str, got: Option<&FlatUserImpact>) -> Vec<Violation> {
        let (Ok(old_key), Ok(new_key)) = (self.org.find_user(id), self.rebuilt.find_user(id))
        else {
            return Vec::new(); // Removed by the change.
        };
        if self.org.is_root(old_key) {
            return Vec::new();
        }
        let before = self.org.effective(old_key);
        let empty = FlatUserImpact {
            user: before.user.clone(),
            ..FlatUserImpact::default()
        };
        let got = got.unwrap_or(&empty);
        let mut messages = self.reported(new_key, got);
        messages.extend(self.unreported(old_key, new_key, &before.allowed, got));
        messages
            .into_iter()
            .map(|message| violation("rebuild", format!("{}: user `{id}`: {message}", self.what)))
            .collect()
    }

    /// The rebuilt organization decides every lost entry as not allowed, every kept and
    /// gained entry as allowed with the reported paths.
    fn reported(&self, new_key: UserKey, got: &FlatUserImpact) -> Vec<String> {
        let mut out = Vec::new();
        let decide = |e: &Entry| self.rebuilt.explain(new_key, &e.action, &e.resource).ok();
        for entry in &got.lost {
            if let Some(x) = decide(entry) {
                if x.decision == Decision::Allowed {
                    out.push(format!(
                        "lost {} on {}, but the rebuilt organization allows it via {:?}",
                        entry.action, entry.resource, x.allow
                    ));
                }
            }
        }
        for entry in got.kept.iter().chain(&got.gained) {
            if let Some(x) = decide(entry) {
                if x.decision != Decision::Allowed || x.allow != entry.via {
                    out.push(format!(
                        "{} on {} reported allowed via {:?}; rebuilt: {:?} via {:?}",
                        entry.action, entry.resource, entry.via, x.decision, x.allow
                    ));
                }
            }
        }
        out
    }

    /// Every allowed entry the impact does not report is allowed as before, paths included,
    /// both ways (on the shared action elements).
    fn unreported(
        &self,
        old_key: UserKey,
        new_key: UserKey,
        before: &[Entry],
        got: &FlatUserImpact,
    ) -> Vec<String> {
        let mut out = Vec::new();
        let now = self.rebuilt.effective(new_key);
        let old = by_key(before, self.shared);
        let new = by_key(&now.allowed, self.shared);
        let touched_before: BTreeSet<_> = got.lost.iter().chain(&got.kept).map(entry_key).collect();
        let touched_after: BTreeSet<_> =
            got.gained.iter().chain(&got.kept).map(entry_key).collect();
        // An entry one side lists under a key the other does not name is decided there by a
        // broader key: ask for the decision rather than look for the entry.
        let allowed_via = |o: &Org, u, (action, resource): (&str, &str)| {
            o.explain(u, action, resource)
                .ok()
                .map(|x| (x.decision == Decision::Allowed).then_some(x.allow))
        };
        for (key, via) in &old {
            if touched_before.contains(key) {
                continue;
            }
            if let Some(now) = allowed_via(self.rebuilt, new_key, *key) {
                if now.as_deref() != Some(*via) {
                    out.push(format!(
                        "{} on {} not reported, but rebuilt it is allowed via {now:?}, before via {via:?}",
                        key.0, key.1
                    ));
                }
            }
        }
        for (key, via) in &new {
            if touched_after.contains(key) {
                continue;
            }
            if let Some(was) = allowed_via(self.org, old_key, *key) {
                if was.as_deref() != Some(*via) {
                    out.push(format!(
                        "{} on {} not reported, but rebuilt it is allowed via {via:?}, before via {was:?}",
                        key.0, key.1
                    ));
                }
            }
        }
        out
    }
}

/// A step of a path, by kind and id.
#[derive(Debug, PartialEq, Eq)]
struct StepRef {
    kind: StepKind,
    id: String,
}

impl StepRef {
    fn new(kind: StepKind, id: &str) -> StepRef {
        StepRef {
            kind,
            id: id.to_string(),
        }
    }

    fn is(&self, step: &Step) -> bool {
        step.kind() == self.kind && step.id() == Some(self.id.as_str())
    }
}

/// The edge a removal takes away, by ids: a holder's step followed by the step of what it
/// held, as paths spell it.
struct RemovedEdge {
    from: StepRef,
    to: StepRef,
}

impl RemovedEdge {
    fn of(org: &Org, change: &Change) -> Option<RemovedEdge> {
        let holder = |h: Holder| match h {
            Holder::User(u) => StepRef::new(StepKind::User, org.user_id(u)),
            Holder::Group(g) => StepRef::new(StepKind::Group, org.group_id(g)),
            Holder::Role(r) => StepRef::new(StepKind::Role, org.role_id(r)),
        };
        Some(match *change {
            Change::RemoveMember { group, user } => RemovedEdge {
                from: StepRef::new(StepKind::User, org.user_id(user)),
                to: StepRef::new(StepKind::Group, org.group_id(group)),
            },
            Change::DetachPolicy { policy, from } => RemovedEdge {
                from: holder(from),
                to: StepRef::new(StepKind::Policy, org.policy_id(policy)),
            },
            Change::DetachRole { role, from } => RemovedEdge {
                from: holder(match from {
                    Principal::User(u) => Holder::User(u),
                    Principal::Group(g) => Holder::Group(g),
                }),
                to: StepRef::new(StepKind::Role, org.role_id(role)),
            },
            _ => return None,
        })
    }

    /// Whether a path goes through this edge.
    fn in_path(&self, path: &[Step]) -> bool {
        path.windows(2)
            .any(|w| self.from.is(&w[0]) && self.to.is(&w[1]))
    }
}

/// Removing one edge (`remove_member`, `detach_policy` or `detach_role`) revokes only what came
/// through it: every lost entry had all its paths through the edge; every kept entry keeps
/// exactly its paths that avoid the edge (under nearest-wins, when all its paths went through
/// the edge, it is kept through Allows that were farther, and overridden, before); an allowed entry with no path through the edge is
/// neither lost nor kept; a gained entry was denied before only through the edge (a Deny that
/// went away); and an assumable role is lost only through a membership removed, and none is gained. A removal of
/// what is not there changes nothing. Other kinds of change are not the removal of one edge:
/// the check reports a violation saying so.
pub fn check_removal(org: &Org, spec: &ChangeSpec) -> Vec<Violation> {
    let change = match org.resolve(spec) {
        Ok(change) => change,
        Err(e) => {
            return vec![violation(
                "removal",
                format!("{spec:?} does not resolve: {e}"),
            )]
        }
    };
    let Some(edge) = RemovedEdge::of(org, &change) else {
        return vec![violation(
            "removal",
            format!("{spec:?} is not the removal of one edge"),
        )];
    };
    let what = show(std::slice::from_ref(spec));
    let impact = match org.simulate_with(
        &[change],
        &SimulateOptions {
            allow_noop: true,
            ..SimulateOptions::default()
        },
    ) {
        Ok(impact) => impact.flatten(),
        Err(e) => return vec![violation("removal", format!("{what}: {e}"))],
    };
    let mut out = Vec::new();
    if impact.changes.is_empty() && !impact.users.is_empty() {
        out.push(violation(
            "removal",
            format!("{what}: a removal of what is not there reports users"),
        ));
    }
    for got in &impact.users {
        out.extend(edge.check_user(org, got).into_iter().map(|message| {
            violation(
                "removal",
                format!("{what}: user `{}`: {message}", got.user.id),
            )
        }));
    }
    out
}

impl RemovedEdge {
    /// What is wrong with one user's impact of removing the edge, if anything.
    fn check_user(&self, org: &Org, got: &FlatUserImpact) -> Vec<String> {
        let Ok(key) = org.find_user(&got.user.id) else {
            return vec!["reported, but not a user of the organization".to_string()];
        };
        let before = org.effective(key);
        let mut out = self.lost_only_through(got);
        out.extend(self.kept_avoiding(org, key, &before.allowed, got));
        out.extend(self.untouched_unless_through(&before.allowed, got));
        out.extend(self.gained_only_through(&before.denied, got));
        out.extend(self.assumable_only_through(got));
        out
    }

    /// Every lost entry had all its paths through the edge.
    fn lost_only_through(&self, got: &FlatUserImpact) -> Vec<String> {
        got.lost
            .iter()
            .filter(|entry| !entry.via.iter().all(|p| self.in_path(p)))
            .map(|entry| {
                format!(
                    "lost {} on {} though it had a path avoiding the edge: {:?}",
                    entry.action, entry.resource, entry.via
                )
            })
            .collect()
    }

    /// Every kept entry keeps exactly its paths that avoid the edge, or (under nearest-wins,
    /// when all its paths went through the edge) is kept through Allows that were farther, and
    /// overridden, before.
    fn kept_avoiding(
        &self,
        org: &Org,
        key: UserKey,
        allowed_before: &[Entry],
        got: &FlatUserImpact,
    ) -> Vec<String> {
        let allowed: BTreeMap<_, _> = allowed_before.iter().map(|e| (entry_key(e), e)).collect();
        let mut out = Vec::new();
        for entry in &got.kept {
            let expected: Option<Vec<Path>> = allowed
                .get(&entry_key(entry))
                .map(|e| e.via.iter().filter(|p| !self.in_path(p)).cloned().collect());
            let nearest_gone = expected.as_ref().is_some_and(Vec::is_empty)
                && org.precedence() == Precedence::NearestWins;
            if nearest_gone {
                // Every path that counted went through the edge: farther Allows, overridden
                // before, count now. Each must be one of those and avoid the edge.
                let farther = org
                    .explain(key, &entry.action, &entry.resource)
                    .map(|x| x.overridden_allow)
                    .unwrap_or_default();
                if !entry
                    .via
                    .iter()
                    .all(|p| farther.contains(p) && !self.in_path(p))
                {
                    out.push(format!(
                        "kept {} on {} via {:?}; the farther Allows before were {farther:?}",
                        entry.action, entry.resource, entry.via
                    ));
                }
            } else if expected.as_ref() != Some(&entry.via) {
                out.push(format!(
                    "kept {} on {} via {:?}; its paths avoiding the edge were {expected:?}",
                    entry.action, entry.resource, entry.via
                ));
            }
        }
        out
    }

    /// An allowed entry with no path through the edge is neither lost nor kept; one with a
    /// path avoiding it is not lost.
    fn untouched_unless_through(
        &self,
        allowed_before: &[Entry],
        got: &FlatUserImpact,
    ) -> Vec<String> {
        let lost_or_kept: BTreeSet<_> = got.lost.iter().chain(&got.kept).map(entry_key).collect();
        let mut out = Vec::new();
        for entry in allowed_before {
            let through = entry.via.iter().filter(|p| self.in_path(p)).count();
            if through == 0 && lost_or_kept.contains(&entry_key(entry)) {
                out.push(format!(
                    "{} on {} had no path through the edge, yet is reported lost or kept",
                    entry.action, entry.resource
                ));
            }
            if through < entry.via.len()
                && got.lost.iter().any(|e| entry_key(e) == entry_key(entry))
            {
                out.push(format!(
                    "{} on {} had a path avoiding the edge, yet is lost",
                    entry.action, entry.resource
                ));
            }
        }
        out
    }

    /// A gained entry was denied before only through the edge (a Deny that went away).
    fn gained_only_through(&self, denied_before: &[Entry], got: &FlatUserImpact) -> Vec<String> {
        let denied: BTreeMap<_, _> = denied_before.iter().map(|e| (entry_key(e), e)).collect();
        let mut out = Vec::new();
        for entry in &got.gained {
            match denied.get(&entry_key(entry)) {
                Some(d) if d.via.iter().all(|p| self.in_path(p)) => {}
                other => out.push(format!(
                    "gained {} on {}, but its denial before was {:?}",
                    entry.action,
                    entry.resource,
                    other.map(|d| &d.via)
                )),
            }
        }
        out
    }

    /// An assumable role is lost only through the edge, and none is gained.
    fn assumable_only_through(&self, got: &FlatUserImpact) -> Vec<String> {
        let mut out = Vec::new();
        if !got.assumable_gained.is_empty() {
            out.push(format!(
                "a removal gains assumable roles: {:?}",
                got.assumable_gained
            ));
        }
        for role in &got.assumable_lost {
            if !role.via.iter().all(|p| self.in_path(p)) {
                out.push(format!(
                    "lost assumable role `{}` though it was reachable avoiding the edge: {:?}",
                    role.role.id, role.via
                ));
            }
        }
        out
    }
}

/// Every check of a change set: [`check_what_if`] and [`check_rebuild`] on the whole set, and
/// [`check_removal`] on each change that removes one edge, alone.
pub fn check_changes(
    org: &Org,
    snapshot: &Snapshot,
    catalogue: &Catalogue,
    specs: &[ChangeSpec],
) -> Vec<Violation> {
    let mut out = check_what_if(org, snapshot, catalogue, specs);
    out.extend(check_rebuild(org, snapshot, catalogue, specs));
    for spec in specs {
        if matches!(
            spec,
            ChangeSpec::RemoveMember { .. }
                | ChangeSpec::DetachPolicy { .. }
                | ChangeSpec::DetachRole { .. }
        ) {
            out.extend(check_removal(org, spec));
        }
    }
    out
}
