//! The org-wide queries against the per-user answers and the reference: who-can agrees with
//! every user's effective permissions both ways, everything `redundancy` reports really loses
//! nothing (and everything that loses nothing is reported), and `rank` is the what-if of each
//! single removal, sorted.

use std::collections::BTreeSet;

use iamsim_core::model::{PolicyDocument, RoleType};
use iamsim_core::report::{
    Effective, Entry, FlatUserImpact, Path, Redundancy, RedundantEdge, Step, StepKind,
};
use iamsim_core::testing::fuzz::action_covers;
use iamsim_core::{reference, ChangeSpec, Org, Precedence, Snapshot};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

use crate::common::{
    cases, catalogue, compile_as, config, edge_removals, memberships, organization,
    policy_attachments, role_attachments, show, spec_of, Named,
};

/// Concrete actions no generated policy names: decided by the narrowest wildcard covering them.
const UNNAMED: &[&str] = &[
    "compute.gadget.Use",
    "compute.instance.Frobnicate",
    "storage.bucket.Make",
    "account.billing.Write",
];

/// How one user stands on one (action, resource): allowed with the Allow paths, or denied with
/// the Deny paths and the Allow paths they override.
#[derive(Debug, Clone, PartialEq)]
enum Standing {
    /// Allow paths, and the farther Deny paths they override (nearest-wins only).
    Allowed(Vec<Path>, Vec<Path>),
    Denied(Vec<Path>, Vec<Path>),
    Neither,
}

/// The entry of an effective report that decides `resource`: its own key if the user's
/// statements name it, else `type:*`, else `*`.
fn deciding<'a>(entries: &'a [Entry], action: &str, resource: &str) -> Option<&'a Entry> {
    let typed = resource
        .split_once(':')
        .map(|(kind, _)| format!("{kind}:*"));
    let find = |key: &str| {
        entries
            .iter()
            .find(|e| e.action == action && e.resource == key)
    };
    find(resource)
        .or_else(|| typed.as_deref().and_then(find))
        .or_else(|| find("*"))
}

/// The key the user's effective report judges `resource` under, whichever list it is in.
fn standing(
    snapshot: &Snapshot,
    effective: &Effective,
    (action, resource, in_universe): (&str, &str, bool),
    precedence: Precedence,
) -> Standing {
    if effective.user.root {
        return Standing::Allowed(effective.allowed[0].via.clone(), Vec::new());
    }
    let judged = reference::decide_with(snapshot, &effective.user.id, action, resource, precedence);
    // The Allows a Deny blocks: those that count, and (nearest-wins) the farther ones.
    let mut allow: Vec<Path> = judged
        .allow
        .iter()
        .chain(&judged.overridden_allow)
        .cloned()
        .collect();
    allow.sort();
    let mut overridden_deny = judged.overridden_deny.clone();
    overridden_deny.sort();
    if !in_universe {
        return match (judged.allow.is_empty(), judged.deny.is_empty()) {
            (_, false) => Standing::Denied(judged.deny, allow),
            (false, true) => Standing::Allowed(judged.allow, overridden_deny),
            (true, true) => Standing::Neither,
        };
    }
    // Most specific key first: an entry for the resource itself, then its type, then `*`.
    let all: Vec<Entry> = effective
        .allowed
        .iter()
        .chain(&effective.denied)
        .cloned()
        .collect();
    match deciding(&all, action, resource) {
        Some(entry) if effective.denied.contains(entry) => {
            Standing::Denied(entry.via.clone(), allow)
        }
        Some(entry) => Standing::Allowed(entry.via.clone(), overridden_deny),
        None => Standing::Neither,
    }
}

fn no_loss(impact: &FlatUserImpact) -> bool {
    impact.lost.is_empty() && impact.gained.is_empty() && impact.assumable_lost.is_empty()
}

/// Whether `user` reaches policy `policy` by a path that gives standing access (directly,
/// through an assignable role, a group, or a group's assignable role).
fn reaches_policy(s: &Snapshot, user: &iamsim_core::model::User, policy: &str) -> bool {
    let via_roles = |roles: &[String]| {
        s.roles.iter().any(|r| {
            roles.contains(&r.id)
                && r.role_type == RoleType::Assignable
                && r.policies.iter().any(|p| p == policy)
        })
    };
    user.policies.iter().any(|p| p == policy)
        || via_roles(&user.roles)
        || s.groups.iter().any(|g| {
            g.members.contains(&user.id)
                && (g.policies.iter().any(|p| p == policy) || via_roles(&g.roles))
        })
}

/// A sort key for changes, which are not `Ord`.
fn text(spec: &ChangeSpec) -> String {
    serde_json::to_string(spec).unwrap()
}

/// `a ∈ effective(u)` ⇔ `u ∈ who_can(a)`: for every universe element (and a few actions no
/// policy names) on every resource key any user's report names (and two no statement
/// names), who-can lists exactly the users allowed, with their Allow paths, and exactly the
/// users for whom a Deny overrides an Allow, with both sets of paths; under nearest-wins, an
/// allowed user's farther Denies too.
fn who_can_agrees_with_effective_under(
    snapshot: Snapshot,
    precedence: Precedence,
) -> Result<(), TestCaseError> {
    let catalogue = catalogue();
    let org = compile_as(&snapshot, &catalogue, precedence);
    let effectives: Vec<Effective> = org.users().map(|u| org.effective(u)).collect();
    let mut resources: BTreeSet<String> = ["*", "i-9", "registry:zz"]
        .into_iter()
        .map(String::from)
        .collect();
    for e in &effectives {
        resources.extend(
            e.allowed
                .iter()
                .chain(&e.denied)
                .map(|entry| entry.resource.clone()),
        );
    }
    let mut actions: Vec<(String, bool)> = org.universe().map(|a| (a.to_string(), true)).collect();
    actions.extend(UNNAMED.iter().map(|a| (a.to_string(), false)));
    for (action, in_universe) in &actions {
        // Every entry of every report is asked about.
        for resource in &resources {
            let who = org.who_can(action, resource).unwrap();
            let mut allowed = Vec::new();
            let mut denied = Vec::new();
            for e in &effectives {
                match standing(&snapshot, e, (action, resource, *in_universe), precedence) {
                    Standing::Allowed(via, overridden) => {
                        allowed.push((e.user.id.clone(), via, overridden))
                    }
                    Standing::Denied(via, overridden) if !overridden.is_empty() => {
                        denied.push((e.user.id.clone(), via, overridden))
                    }
                    _ => {}
                }
            }
            allowed.sort();
            denied.sort();
            let flat = |list: &[iamsim_core::report::UserPaths]| {
                list.iter()
                    .map(|u| (u.user.id.clone(), u.via.clone(), u.overridden.clone()))
                    .collect::<Vec<_>>()
            };
            prop_assert_eq!(
                flat(&who.allowed),
                allowed,
                "allowed: {} on {}",
                action,
                resource
            );
            prop_assert_eq!(
                flat(&who.denied),
                denied,
                "denied: {} on {}",
                action,
                resource
            );
        }
    }
    // And the entries themselves: each one's user is where who-can says.
    for e in effectives.iter().filter(|e| !e.user.root) {
        for entry in &e.allowed {
            let who = org.who_can(&entry.action, &entry.resource).unwrap();
            let listed = who.allowed.iter().find(|u| u.user.id == e.user.id);
            prop_assert_eq!(listed.map(|u| &u.via), Some(&entry.via));
        }
        for entry in &e.denied {
            let who = org.who_can(&entry.action, &entry.resource).unwrap();
            prop_assert!(who.allowed.iter().all(|u| u.user.id != e.user.id));
            if let Some(listed) = who.denied.iter().find(|u| u.user.id == e.user.id) {
                prop_assert_eq!(&listed.via, &entry.via);
            }
        }
    }
    Ok(())
}

/// Every membership or attachment `redundancy` lists loses nothing for anyone when removed
/// (by the reference), its `covered` users are the ones who keep something through other
/// paths, and every removal that loses nothing for anyone is listed (but for those left
/// out by rule). Every shadowed Allow
/// statement, taken out of its document, changes nobody's allowed set.
fn redundancy_is_real_under(
    snapshot: Snapshot,
    precedence: Precedence,
) -> Result<(), TestCaseError> {
    let catalogue = catalogue();
    let org = compile_as(&snapshot, &catalogue, precedence);
    let redundancy = org.redundancy();
    let impacts = |spec: &ChangeSpec| {
        let after = reference::apply(&snapshot, spec);
        snapshot
            .users
            .iter()
            .map(|u| reference::impact_with(&snapshot, &after, &catalogue, &u.id, precedence))
            .collect::<Vec<_>>()
    };
    let mut listed = Vec::new();
    for edge in &redundancy.edges {
        let spec = spec_of(&edge.change);
        let impacts = impacts(&spec);
        prop_assert!(
            impacts.iter().all(no_loss),
            "{} loses something: {:?}",
            text(&spec),
            impacts
        );
        // Per user who keeps something: how much, and every other path, once.
        let covered: Vec<(String, usize, Vec<Path>)> = impacts
            .iter()
            .filter(|u| !u.kept.is_empty())
            .map(|u| {
                let mut via: Vec<Path> = u.kept.iter().flat_map(|e| e.via.clone()).collect();
                via.sort();
                via.dedup();
                (u.user.id.to_string(), u.kept.len(), via)
            })
            .collect();
        let mut reported: Vec<(String, usize, Vec<Path>)> = edge
            .covered
            .iter()
            .map(|c| (c.user.id.clone(), c.kept, redundancy.covering_paths(c)))
            .collect();
        reported.sort();
        prop_assert_eq!(reported, covered, "{}", text(&spec));
        listed.push(text(&spec));
    }
    listed.sort();
    let mut harmless = Vec::new();
    let edges = edge_removals(&snapshot).into_iter();
    // Left out by rule: a suspended user's own edges (they grant nothing today) and an
    // assumable role's policies (not standing access).
    let suspended = |id: &Option<String>| {
        snapshot
            .users
            .iter()
            .any(|u| Some(&u.id) == id.as_ref() && u.suspended)
    };
    let assumable = |id: &Option<String>| {
        snapshot
            .roles
            .iter()
            .any(|r| Some(&r.id) == id.as_ref() && r.role_type == RoleType::Assumable)
    };
    let considered = |spec: &ChangeSpec| match spec {
        ChangeSpec::RemoveMember { user, .. } => !suspended(&Some(user.clone())),
        ChangeSpec::DetachPolicy { user, role, .. } => !suspended(user) && !assumable(role),
        ChangeSpec::DetachRole { user, .. } => !suspended(user),
        _ => unreachable!(),
    };
    for spec in edges.filter(considered) {
        if impacts(&spec).iter().all(no_loss) {
            harmless.push(text(&spec));
        }
    }
    harmless.sort();
    prop_assert_eq!(listed, harmless, "{}", show(&snapshot, &[]));

    for shadowed in &redundancy.shadowed {
        let policy = snapshot
            .policies
            .iter()
            .find(|p| p.id == shadowed.policy.id)
            .unwrap();
        let mut statements = policy.policy_document.statement.as_slice().to_vec();
        statements.remove(shadowed.index as usize);
        let spec = ChangeSpec::ReplacePolicyDocument {
            policy: policy.id.clone(),
            policy_document: PolicyDocument {
                version: policy.policy_document.version.clone(),
                statement: iamsim_core::model::OneOrMany::Many(statements),
            },
        };
        for impact in impacts(&spec) {
            prop_assert!(
                impact.lost.is_empty() && impact.gained.is_empty(),
                "without {} statement {}: {:?}",
                policy.id,
                shadowed.index,
                impact
            );
        }
    }
    // And every Allow statement that is denied, on every element and resource it names,
    // for every user with standing access it reaches (root aside) is listed, with the
    // number of those users; worked out with the reference's decisions.
    let universe: Vec<String> = org.universe().map(|a| a.to_string()).collect();
    let mut expected = Vec::new();
    for policy in &snapshot.policies {
        let reached: Vec<&str> = snapshot
            .users
            .iter()
            .filter(|u| !u.suspended && snapshot.organization.root_user_id.as_ref() != Some(&u.id))
            .filter(|u| reaches_policy(&snapshot, u, &policy.id))
            .map(|u| u.id.as_str())
            .collect();
        for (i, st) in policy
            .policy_document
            .statement
            .as_slice()
            .iter()
            .enumerate()
        {
            let elements: Vec<&String> = universe
                .iter()
                .filter(|e| st.action.as_slice().iter().any(|a| action_covers(a, e)))
                .collect();
            let resources = st.resource.as_slice();
            if st.effect != "Allow"
                || elements.is_empty()
                || resources.is_empty()
                || reached.is_empty()
            {
                continue;
            }
            let denied = |u: &str, e: &str, r: &str| {
                !reference::decide_with(&snapshot, u, e, r, precedence)
                    .deny
                    .is_empty()
            };
            if reached.iter().all(|u| {
                elements
                    .iter()
                    .all(|e| resources.iter().all(|r| denied(u, e, r)))
            }) {
                expected.push((policy.id.clone(), i as u32, reached.len()));
            }
        }
    }
    let got: Vec<(String, u32, usize)> = redundancy
        .shadowed
        .iter()
        .map(|s| (s.policy.id.clone(), s.index, s.users))
        .collect();
    prop_assert_eq!(got, expected, "shadowed statements{}", show(&snapshot, &[]));
    Ok(())
}

/// `rank` lists each membership, role and direct policy of the user once; each removal's
/// lost, gained and assumable-lost are the what-if of that single change (and the
/// reference's); most lost first.
fn rank_is_each_single_what_if_under(
    snapshot: Snapshot,
    precedence: Precedence,
) -> Result<(), TestCaseError> {
    let catalogue = catalogue();
    let org = compile_as(&snapshot, &catalogue, precedence);
    for user in org.users() {
        let id = org.user_id(user).to_string();
        let rank = org.rank(user);
        prop_assert_eq!(&*rank.user.id, id.as_str());
        prop_assert!(rank
            .removals
            .windows(2)
            .all(|w| w[0].lost.len() >= w[1].lost.len()));
        let mut got: Vec<String> = Vec::new();
        for removal in &rank.removals {
            let spec = spec_of(&removal.change);
            got.push(text(&spec));
            let impact = org
                .simulate(&[org.resolve(&spec).unwrap()])
                .unwrap()
                .flatten();
            let mine = impact.users.iter().find(|u| *u.user.id == *id);
            let (lost, gained, assumable_lost) = match mine {
                Some(u) => (u.lost.clone(), u.gained.clone(), u.assumable_lost.clone()),
                None => Default::default(),
            };
            prop_assert_eq!(&removal.lost, &lost, "{}", text(&spec));
            prop_assert_eq!(&removal.gained, &gained);
            prop_assert_eq!(&removal.assumable_lost, &assumable_lost);
            let after = reference::apply(&snapshot, &spec);
            let naive = reference::impact_with(&snapshot, &after, &catalogue, &id, precedence);
            prop_assert_eq!(&removal.lost, &naive.lost);
            prop_assert_eq!(&removal.gained, &naive.gained);
            prop_assert_eq!(&removal.assumable_lost, &naive.assumable_lost);
        }
        got.sort();
        let mine = |h: &Named| h.kind == "user" && h.id == id;
        let mut expected: Vec<String> = memberships(&snapshot)
            .into_iter()
            .filter(|m| m.user == id)
            .map(|m| text(&m.removal()))
            .chain(
                policy_attachments(&snapshot)
                    .into_iter()
                    .filter(|a| mine(&a.holder))
                    .map(|a| text(&a.policy_detachment())),
            )
            .chain(
                role_attachments(&snapshot)
                    .into_iter()
                    .filter(|a| mine(&a.holder))
                    .map(|a| text(&a.role_detachment())),
            )
            .collect();
        expected.sort();
        prop_assert_eq!(got, expected, "removals of {}", id);
    }
    Ok(())
}

/// A covered user of a redundant edge with their paths written out.
type CoveredPaths = (String, usize, Vec<Path>);

/// A redundancy report's edges with every covered user's paths written out from the user.
fn written_out(report: &Redundancy) -> Vec<(RedundantEdge, Vec<CoveredPaths>)> {
    report
        .edges
        .iter()
        .map(|edge| {
            let covered = edge
                .covered
                .iter()
                .map(|c| (c.user.id.clone(), c.kept, report.covering_paths(c)))
                .collect();
            let mut edge = edge.clone();
            // What remains of the users is compared above, with their paths.
            edge.covered.iter_mut().for_each(|c| c.via.clear());
            (edge, covered)
        })
        .collect()
}

/// What is wrong with a redundancy report's table of paths: each path listed once, each
/// referred to, numbered by first reference in report order, each user's ids in path order
/// and once.
fn table_problems(report: &Redundancy) -> Vec<String> {
    let mut problems = Vec::new();
    let mut next = 0u32;
    for (e, edge) in report.edges.iter().enumerate() {
        for c in &edge.covered {
            for &id in &c.via {
                if id.0 > next {
                    problems.push(format!("edge {e}: path {} before path {next}", id.0));
                }
                next = next.max(id.0 + 1);
            }
            let paths: Vec<&Path> = c.via.iter().map(|&p| report.path(p)).collect();
            if !paths.windows(2).all(|w| w[0] < w[1]) {
                problems.push(format!("edge {e}: {}'s paths not in order", c.user.id));
            }
        }
    }
    if next as usize != report.paths.len() {
        problems.push(format!(
            "{next} paths referred to, {} listed",
            report.paths.len()
        ));
    }
    let distinct: BTreeSet<&Path> = report.paths.iter().collect();
    if distinct.len() != report.paths.len() {
        problems.push("a path listed twice".to_string());
    }
    problems
}

/// The report written edge by edge ([`Org::redundancy_stream`]) is the report held whole,
/// byte for byte, in pools of 1, 2 and 4 threads, whole or narrowed; and its table is well formed.
fn redundancy_stream_is_the_report_under(
    snapshot: Snapshot,
    pick: u64,
) -> Result<(), TestCaseError> {
    use iamsim_core::RedundancyScope;
    let org = compile_as(&snapshot, &catalogue(), Precedence::DenyWins);
    let mut scope = RedundancyScope::default();
    scope.groups.extend(
        org.groups()
            .enumerate()
            .filter(|&(i, _)| pick >> (i % 64) & 1 == 1)
            .map(|(_, g)| g),
    );
    for scope in [None, Some(&scope)] {
        let held = org.redundancy_stream(scope, &|_, _| {}).collect();
        prop_assert_eq!(table_problems(&held), Vec::<String>::new());
        let held = serde_json::to_string(&held).unwrap();
        let streamed = iamsim_core::testing::in_pools(|| {
            serde_json::to_string(&org.redundancy_stream(scope, &|_, _| {})).unwrap()
        });
        for text in streamed {
            prop_assert_eq!(&text, &held);
        }
    }
    Ok(())
}

/// `redundancy_of` a scope (the groups and users `pick`'s bits choose) is the whole report
/// filtered: the edges that touch one of them, in the same order, and the shadowed statements of
/// the policies attached directly to one of them; in pools of 1, 2 and 4 threads.
fn redundancy_of_is_the_whole_filtered_under(
    snapshot: Snapshot,
    pick: u64,
) -> Result<(), TestCaseError> {
    use iamsim_core::RedundancyScope;
    let org = compile_as(&snapshot, &catalogue(), Precedence::DenyWins);
    let whole = org.redundancy();
    let chosen = |i: usize| pick >> (i % 64) & 1 == 1;
    let mut scope = RedundancyScope::default();
    scope.groups.extend(
        org.groups()
            .enumerate()
            .filter(|&(i, _)| chosen(i))
            .map(|(_, g)| g),
    );
    scope.users.extend(
        org.users()
            .enumerate()
            .filter(|&(i, _)| chosen(i + 7))
            .map(|(_, u)| u),
    );
    let groups: BTreeSet<&str> = scope.groups.iter().map(|&g| org.group_id(g)).collect();
    let users: BTreeSet<&str> = scope.users.iter().map(|&u| org.user_id(u)).collect();
    let [narrowed, two, four] =
        iamsim_core::testing::in_pools(|| org.redundancy_of(&scope, &|_, _| {}));
    prop_assert_eq!(&two, &narrowed);
    prop_assert_eq!(&four, &narrowed);
    let edges: Vec<_> = written_out(&whole)
        .into_iter()
        .filter(|(e, _)| {
            // A role's policy names neither a group nor a user: it touches no scope.
            let c = &e.change;
            let by_group = c
                .group
                .as_ref()
                .is_some_and(|g| groups.contains(g.id.as_str()));
            let by_user = c
                .user
                .as_ref()
                .is_some_and(|u| users.contains(u.id.as_str()));
            by_group || by_user
        })
        .collect();
    // The ids differ (each report numbers its own paths); the paths they name do not.
    prop_assert_eq!(&written_out(&narrowed), &edges);
    prop_assert_eq!(table_problems(&narrowed), Vec::<String>::new());
    let policies: BTreeSet<&str> = snapshot
        .groups
        .iter()
        .filter(|g| groups.contains(g.id.as_str()))
        .flat_map(|g| &g.policies)
        .chain(
            snapshot
                .users
                .iter()
                .filter(|u| users.contains(u.id.as_str()))
                .flat_map(|u| &u.policies),
        )
        .map(String::as_str)
        .collect();
    let shadowed: Vec<_> = whole
        .shadowed
        .iter()
        .filter(|s| policies.contains(s.policy.id.as_str()))
        .cloned()
        .collect();
    prop_assert_eq!(&narrowed.shadowed, &shadowed);
    let scope = narrowed.scope.expect("a narrowed report names its scope");
    let named: BTreeSet<&str> = scope.groups.iter().map(|g| g.id.as_str()).collect();
    prop_assert_eq!(named, groups);
    let named: BTreeSet<&str> = scope.users.iter().map(|u| u.id.as_str()).collect();
    prop_assert_eq!(named, users);
    prop_assert!(whole.scope.is_none());
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    /// Deny-wins: see `who_can_agrees_with_effective_under`.
    #[test]
    fn who_can_agrees_with_effective(snapshot in organization()) {
        who_can_agrees_with_effective_under(snapshot, Precedence::DenyWins)?;
    }

    /// Deny-wins: see `redundancy_is_real_under`.
    #[test]
    fn redundancy_is_real(snapshot in organization()) {
        redundancy_is_real_under(snapshot, Precedence::DenyWins)?;
    }

    /// Deny-wins: see `rank_is_each_single_what_if_under`.
    #[test]
    fn rank_is_each_single_what_if(snapshot in organization()) {
        rank_is_each_single_what_if_under(snapshot, Precedence::DenyWins)?;
    }

    /// See `redundancy_stream_is_the_report_under`.
    #[test]
    fn redundancy_stream_is_the_report(snapshot in organization(), pick in any::<u64>()) {
        redundancy_stream_is_the_report_under(snapshot, pick)?;
    }

    /// See `redundancy_of_is_the_whole_filtered_under`.
    #[test]
    fn redundancy_of_is_the_whole_filtered(snapshot in organization(), pick in any::<u64>()) {
        redundancy_of_is_the_whole_filtered_under(snapshot, pick)?;
    }
}

proptest! {
    #![proptest_config(cases(256))]

    /// R-SEM-04, the other rule: `who_can_agrees_with_effective_under` under nearest-wins.
    #[test]
    fn who_can_agrees_with_effective_nearest_wins(snapshot in organization()) {
        who_can_agrees_with_effective_under(snapshot, Precedence::NearestWins)?;
    }

    /// R-SEM-04, the other rule: `redundancy_is_real_under` under nearest-wins.
    #[test]
    fn redundancy_is_real_nearest_wins(snapshot in organization()) {
        redundancy_is_real_under(snapshot, Precedence::NearestWins)?;
    }

    /// R-SEM-04, the other rule: `rank_is_each_single_what_if_under` under nearest-wins.
    #[test]
    fn rank_is_each_single_what_if_nearest_wins(snapshot in organization()) {
        rank_is_each_single_what_if_under(snapshot, Precedence::NearestWins)?;
    }
}

/// An action only the old snapshot names is decided in the new one by the wildcard covering it,
/// whose statements name other resources: `diff` judges it on those too, as the what-if does.
#[test]
fn diff_judges_an_element_on_both_snapshots_resources() {
    let old = Snapshot::from_json_str(
        r#"{"format": "iamsim.snapshot.v1", "organization": {"id": "org"},
            "users": [{"id": "u", "email": "u@x", "policies": ["p"]}], "groups": [], "roles": [],
            "policies": [{"id": "p", "name": "p", "policy_document": {"Statement":
                {"Effect": "Allow", "Action": "compute.widget.Make", "Resource": "*"}}}]}"#,
    )
    .unwrap();
    let change = ChangeSpec::ReplacePolicyDocument {
        policy: "p".into(),
        policy_document: serde_json::from_str(
            r#"{"Statement": {"Effect": "Deny", "Action": "compute.*", "Resource": "i-1"}}"#,
        )
        .unwrap(),
    };
    let catalogue = catalogue();
    let org = Org::compile(&old, &catalogue).unwrap();
    let new = Org::compile(&reference::apply(&old, &change), &catalogue).unwrap();
    let diff = iamsim_core::diff(&org, &new);
    let lost: Vec<(&str, &str)> = diff.users[0]
        .lost
        .iter()
        .map(|e| (e.action.as_str(), e.resource.as_str()))
        .collect();
    assert_eq!(
        lost,
        [("compute.widget.Make", "*"), ("compute.widget.Make", "i-1")]
    );
    let impact = org
        .simulate(&[org.resolve(&change).unwrap()])
        .unwrap()
        .flatten();
    assert_eq!(impact.users[0].lost, diff.users[0].lost);
}

/// R-SEM-02, the `can(u, a)` side: `Org::decide` (no paths) and `Org::explain` give the
/// decision the effective report implies, for every user, universe element and resource key
/// any report names (and two no statement names); and the access matrix holds exactly the
/// effective report's `*` entries and, as scoped cells, its other entries (root: every
/// element; suspended: nothing).
fn decide_and_the_matrix_agree_with_effective_under(
    snapshot: Snapshot,
    precedence: Precedence,
) -> Result<(), TestCaseError> {
    use iamsim_core::policy::{ActionPattern, ResourcePattern};
    use iamsim_core::report::Decision;
    let catalogue = catalogue();
    let org = compile_as(&snapshot, &catalogue, precedence);
    let universe: Vec<String> = org.universe().map(|a| a.to_string()).collect();
    let effectives: Vec<Effective> = org.users().map(|u| org.effective(u)).collect();
    let mut resources: BTreeSet<String> = ["*", "i-9", "registry:zz"]
        .into_iter()
        .map(String::from)
        .collect();
    for e in &effectives {
        resources.extend(
            e.allowed
                .iter()
                .chain(&e.denied)
                .map(|entry| entry.resource.clone()),
        );
    }
    let matrix = org.access_matrix();
    for (user, effective) in org.users().zip(&effectives) {
        for action in &universe {
            for resource in &resources {
                let decided = org.decide(
                    user,
                    &ActionPattern::parse(action).unwrap(),
                    &ResourcePattern::parse(resource).unwrap(),
                );
                let explained = org.explain(user, action, resource).unwrap().decision;
                let expected = if effective.user.root {
                    Decision::Allowed
                } else {
                    let all: Vec<Entry> = effective
                        .allowed
                        .iter()
                        .chain(&effective.denied)
                        .cloned()
                        .collect();
                    match deciding(&all, action, resource) {
                        Some(entry) if effective.denied.contains(entry) => Decision::ExplicitDeny,
                        Some(_) => Decision::Allowed,
                        None => Decision::ImplicitDeny,
                    }
                };
                prop_assert_eq!(
                    decided,
                    expected,
                    "decide {} {} {}{}",
                    effective.user.id,
                    action,
                    resource,
                    show(&snapshot, &[])
                );
                prop_assert_eq!(
                    explained,
                    expected,
                    "explain {} {} {}",
                    effective.user.id,
                    action,
                    resource
                );
            }
        }
        if effective.user.root {
            prop_assert_eq!(matrix.allowed_count(user), universe.len());
            continue;
        }
        let star: Vec<&str> = effective
            .allowed
            .iter()
            .filter(|e| e.resource == "*")
            .map(|e| e.action.as_str())
            .collect();
        let row: Vec<&str> = org
            .elements()
            .filter(|&(a, _)| matrix.allowed(user, a))
            .map(|(a, _)| universe[a.index()].as_str())
            .collect();
        prop_assert_eq!(&row, &star, "matrix row of {}", effective.user.id);
        prop_assert_eq!(matrix.allowed_count(user), star.len());
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
        prop_assert_eq!(
            cells,
            scoped,
            "scoped cells of {}{}",
            effective.user.id,
            show(&snapshot, &[])
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    /// Deny-wins: see `decide_and_the_matrix_agree_with_effective_under`.
    #[test]
    fn decide_and_the_matrix_agree_with_effective(snapshot in organization()) {
        decide_and_the_matrix_agree_with_effective_under(snapshot, Precedence::DenyWins)?;
    }
}

proptest! {
    #![proptest_config(cases(256))]

    /// R-SEM-04, the other rule: `decide_and_the_matrix_agree_with_effective_under` under nearest-wins.
    #[test]
    fn decide_and_the_matrix_agree_with_effective_nearest_wins(snapshot in organization()) {
        decide_and_the_matrix_agree_with_effective_under(snapshot, Precedence::NearestWins)?;
    }
}

/// `diff` when the root user changes: the old root loses `*` on `*` (their unconditional
/// access), the new one gains it, through the organization.
#[test]
fn diff_sees_the_root_user_change() {
    let text = |root: &str| {
        format!(
            r#"{{"format": "iamsim.snapshot.v1", "organization": {{"id": "o", "name": "O", "root_user_id": "{root}"}},
                "users": [{{"id": "u1", "email": "u1@x"}}, {{"id": "u2", "email": "u2@x", "policies": ["p"]}}],
                "groups": [], "roles": [],
                "policies": [{{"id": "p", "name": "p", "policy_document": {{"Statement":
                  {{"Effect": "Allow", "Action": "compute.instance.Read", "Resource": "*"}}}}}}]}}"#
        )
    };
    let catalogue = catalogue();
    let old = Org::compile(&Snapshot::from_json_str(&text("u1")).unwrap(), &catalogue).unwrap();
    let new = Org::compile(&Snapshot::from_json_str(&text("u2")).unwrap(), &catalogue).unwrap();
    let diff = iamsim_core::diff(&old, &new);
    let of = |id: &str| diff.users.iter().find(|u| &*u.user.id == id).unwrap();
    let star = |entries: &[Entry]| {
        entries
            .iter()
            .find(|e| e.action == "*" && e.resource == "*")
            .map(|e| e.via.clone())
    };
    let org_path = |user: &str| {
        vec![vec![
            Step::user(user, &format!("{user}@x")),
            Step::entity(StepKind::Organization, "o", "O").unwrap(),
        ]]
    };
    assert_eq!(star(&of("u1").lost), Some(org_path("u1")), "{diff:#?}");
    assert_eq!(star(&of("u2").gained), Some(org_path("u2")), "{diff:#?}");
    assert!(
        of("u1").gained.is_empty() && of("u2").lost.is_empty(),
        "{diff:#?}"
    );
}

/// An Allow statement naming no action or no resource grants nothing and is not reported as
/// shadowed, even where a Deny covers everything the user does.
#[test]
fn empty_statements_are_not_shadowed() {
    let snapshot = Snapshot::from_json_str(
        r#"{"format": "iamsim.snapshot.v1", "organization": {"id": "o"},
            "users": [{"id": "u", "email": "u@x", "policies": ["p"]}], "groups": [], "roles": [],
            "policies": [{"id": "p", "name": "p", "policy_document": {"Statement": [
              {"Effect": "Deny", "Action": "*", "Resource": "*"},
              {"Effect": "Allow", "Action": [], "Resource": "*"},
              {"Effect": "Allow", "Action": "compute.instance.Read", "Resource": []},
              {"Effect": "Allow", "Action": "compute.instance.Read", "Resource": "*"}]}}]}"#,
    )
    .unwrap();
    let org = Org::compile(&snapshot, &catalogue()).unwrap();
    let shadowed: Vec<u32> = org.redundancy().shadowed.iter().map(|s| s.index).collect();
    assert_eq!(shadowed, vec![3]);
}

/// A user whose one policy both allows and denies an action on `*` is listed by who-can among
/// the denied (the filter that skips users reaching nothing of the action must see them).
#[test]
fn who_can_lists_a_user_denied_by_the_policy_that_allows() {
    let snapshot = Snapshot::from_json_str(
        r#"{"format": "iamsim.snapshot.v1", "organization": {"id": "o"},
            "users": [{"id": "u", "email": "u@x", "policies": ["p"]}], "groups": [], "roles": [],
            "policies": [{"id": "p", "name": "p", "policy_document": {"Statement": [
              {"Effect": "Allow", "Action": "compute.instance.Read", "Resource": "*"},
              {"Effect": "Deny", "Action": "compute.instance.Read", "Resource": "*"}]}}]}"#,
    )
    .unwrap();
    let org = Org::compile(&snapshot, &catalogue()).unwrap();
    let who = org.who_can("compute.instance.Read", "*").unwrap();
    assert!(who.allowed.is_empty(), "{who:?}");
    assert_eq!(who.denied.len(), 1, "{who:?}");
}

/// `explain` and `who_can` say which argument is wrong, with the pattern's own error inside.
#[test]
fn query_errors_name_the_argument() {
    use iamsim_core::{PatternError, QueryError};
    let snapshot = Snapshot::from_json_str(
        r#"{"format": "iamsim.snapshot.v1", "organization": {"id": "o"},
            "users": [{"id": "u", "email": "u@x", "policies": ["p"]}], "groups": [], "roles": [],
            "policies": [{"id": "p", "name": "p", "policy_document": {"Statement": [
              {"Effect": "Allow", "Action": "compute.instance.Read", "Resource": "*"}]}}]}"#,
    )
    .unwrap();
    let org = Org::compile(&snapshot, &catalogue()).unwrap();
    let u = org.find_user("u").unwrap();
    let cases = [
        (
            "compute..Read",
            "*",
            QueryError::Action {
                source: PatternError::Action {
                    text: "compute..Read".into(),
                    reason: "empty segment",
                },
            },
            "invalid action pattern `compute..Read`: empty segment",
        ),
        (
            "dns.*",
            "*",
            QueryError::UnnamedWildcard {
                action: "dns.*".into(),
            },
            "`dns.*` is a wildcard no policy names; give a concrete action",
        ),
        (
            "compute.instance.Read",
            "a b",
            QueryError::Resource {
                source: PatternError::Resource {
                    text: "a b".into(),
                    reason: "contains whitespace",
                },
            },
            "invalid resource `a b`: contains whitespace",
        ),
    ];
    for (action, resource, expected, message) in cases {
        let explained = org.explain(u, action, resource).unwrap_err();
        let who = org.who_can(action, resource).unwrap_err();
        assert_eq!(explained, expected, "{action} {resource}");
        assert_eq!(who, expected, "{action} {resource}");
        assert_eq!(explained.to_string(), message);
        // Transparent: the message is the pattern's, and the chain does not repeat it.
        let error: &dyn std::error::Error = &explained;
        assert!(error.source().is_none());
    }
}

/// The access matrix on a universe wider than one 64-bit word, for many users: each row's count
/// is the user's allowed elements on `*`.
#[test]
fn matrix_rows_on_a_wide_universe() {
    use iamsim_core::generate::{snapshot, Params, Shape};
    let params = Params {
        users: 40,
        groups: 6,
        roles: 4,
        policies: 10,
        actions: 150,
        seed: 2,
        shape: Shape::Classic,
    };
    let org = Org::compile(&snapshot(&params), &iamsim_core::Catalogue::bundled()).unwrap();
    let universe = org.universe().count();
    assert!(universe > 128, "{universe}");
    let matrix = org.access_matrix();
    let mut nonzero = 0;
    for user in org.users() {
        let effective = org.effective(user);
        let star = if effective.user.root {
            universe
        } else {
            effective
                .allowed
                .iter()
                .filter(|e| e.resource == "*")
                .count()
        };
        assert_eq!(matrix.allowed_count(user), star, "{}", effective.user.id);
        let row = org
            .elements()
            .filter(|&(a, _)| matrix.allowed(user, a))
            .count();
        assert_eq!(row, star, "{}", effective.user.id);
        nonzero += usize::from(star > 0);
    }
    assert!(nonzero > 5, "the generated users are allowed things");
}

/// `diff` notices every kind of edit of a user's attachments and of the names its paths show,
/// compared with the organization as it was (it skips users whose attachments are all the
/// same: these edits must not look the same). Each case: an edit of the base snapshot, and
/// what user `u` gains, loses, or sees change paths for.
#[test]
fn diff_sees_each_kind_of_edit() {
    let base = serde_json::json!({
        "format": "iamsim.snapshot.v1", "organization": {"id": "o", "name": "O"},
        "users": [{"id": "u", "email": "u@x", "policies": ["p-read"], "roles": [], "name": "U"}],
        "groups": [{"id": "g", "display_name": "G", "members": [], "policies": ["p-create"], "roles": []}],
        "roles": [{"id": "r", "name": "r", "role_type": "assignable", "policies": ["p-delete"]}],
        "policies": [
            {"id": "p-read", "name": "read", "policy_document": {"Statement":
              {"Effect": "Allow", "Action": "compute.instance.Read", "Resource": "*"}}},
            {"id": "p-create", "name": "create", "policy_document": {"Statement":
              {"Effect": "Allow", "Action": "compute.instance.Create", "Resource": "*"}}},
            {"id": "p-delete", "name": "delete", "policy_document": {"Statement":
              {"Effect": "Allow", "Action": "compute.instance.Delete", "Resource": "*"}}}]
    });
    type Edit = fn(&mut serde_json::Value);
    /// What an edit is, the edit, and what `u` gains, loses, and whether paths change.
    type Case = (
        &'static str,
        Edit,
        &'static [&'static str],
        &'static [&'static str],
        bool,
    );
    let cases: [Case; 8] = [
        (
            "a policy, a role and a group added at once",
            |s| {
                s["users"][0]["policies"] = serde_json::json!(["p-read", "p-create"]);
                s["users"][0]["roles"] = serde_json::json!(["r"]);
                s["groups"][0]["members"] = serde_json::json!(["u"]);
            },
            &["compute.instance.Create", "compute.instance.Delete"],
            &[],
            false,
        ),
        (
            "a policy appended",
            |s| s["users"][0]["policies"] = serde_json::json!(["p-read", "p-create"]),
            &["compute.instance.Create"],
            &[],
            false,
        ),
        (
            "a policy replaced by another",
            |s| s["users"][0]["policies"] = serde_json::json!(["p-create"]),
            &["compute.instance.Create"],
            &["compute.instance.Read"],
            false,
        ),
        (
            "a role appended",
            |s| s["users"][0]["roles"] = serde_json::json!(["r"]),
            &["compute.instance.Delete"],
            &[],
            false,
        ),
        (
            "a group joined",
            |s| s["groups"][0]["members"] = serde_json::json!(["u"]),
            &["compute.instance.Create"],
            &[],
            false,
        ),
        (
            "the email changed",
            |s| s["users"][0]["email"] = serde_json::json!("new@x"),
            &[],
            &[],
            true,
        ),
        (
            "the policy renamed",
            |s| s["policies"][0]["name"] = serde_json::json!("reader"),
            &[],
            &[],
            true,
        ),
        (
            "made root (its Read now comes through the organization)",
            |s| {
                s["organization"]["root_user_id"] = serde_json::json!("u");
            },
            &["*"],
            &[],
            true,
        ),
    ];
    let catalogue = catalogue();
    let compile = |v: &serde_json::Value| {
        Org::compile(
            &Snapshot::from_json_str(&v.to_string()).unwrap(),
            &catalogue,
        )
        .unwrap()
    };
    let actions = |entries: &[Entry]| entries.iter().map(|e| e.action.clone()).collect::<Vec<_>>();
    for (what, edit, gained, lost, provenance) in cases {
        let mut new = base.clone();
        edit(&mut new);
        let diff = iamsim_core::diff(&compile(&base), &compile(&new));
        let u = diff.users.iter().find(|d| &*d.user.id == "u");
        let (g, l, p) = u.map_or((vec![], vec![], false), |u| {
            (
                actions(&u.gained),
                actions(&u.lost),
                !u.provenance.is_empty(),
            )
        });
        assert_eq!(
            (g.as_slice(), l.as_slice(), p),
            (
                gained
                    .iter()
                    .map(|s| s.to_string())
                    .collect::<Vec<_>>()
                    .as_slice(),
                lost.iter()
                    .map(|s| s.to_string())
                    .collect::<Vec<_>>()
                    .as_slice(),
                provenance
            ),
            "{what}: {diff:#?}"
        );
    }
    // A root user whose organization is renamed: the one path names the organization anew.
    let mut old = base.clone();
    old["organization"]["root_user_id"] = serde_json::json!("u");
    let mut new = old.clone();
    new["organization"]["name"] = serde_json::json!("O renamed");
    let diff = iamsim_core::diff(&compile(&old), &compile(&new));
    let u = diff
        .users
        .iter()
        .find(|d| &*d.user.id == "u")
        .expect("root's path changed");
    assert!(!u.provenance.is_empty(), "{diff:#?}");
    // And when the organization's id changes.
    let mut new = old.clone();
    new["organization"]["id"] = serde_json::json!("o-2");
    let diff = iamsim_core::diff(&compile(&old), &compile(&new));
    let u = diff.users.iter().find(|d| &*d.user.id == "u");
    assert!(u.is_some_and(|u| !u.provenance.is_empty()), "{diff:#?}");
}

/// Assumable roles in a diff: a trust deleted loses the role for the users it named, except the
/// root user (no change affects root, as in the what-if); a user who becomes root in the new
/// snapshot is compared like anyone.
#[test]
fn diff_compares_assumable_roles_root_aside() {
    let text = |root: &str, trusts: &str| {
        format!(
            r#"{{"format": "iamsim.snapshot.v1", "organization": {{"id": "o", "name": "O", "root_user_id": "{root}"}},
                "users": [{{"id": "u1", "email": "u1@x"}}, {{"id": "u2", "email": "u2@x"}}, {{"id": "u3", "email": "u3@x"}}],
                "groups": [], "policies": [],
                "roles": [{{"id": "r", "name": "R", "role_type": "assumable"}}],
                "role_trusts": [{trusts}]}}"#
        )
    };
    let trust = |id: &str, user: &str| {
        format!(
            r#"{{"id": "{id}", "role_id": "r", "trust_type": "TemporaryAssumption", "trusted_user_id": "{user}"}}"#
        )
    };
    let all = [trust("t1", "u1"), trust("t2", "u2"), trust("t3", "u3")].join(",");
    let catalogue = catalogue();
    let org =
        |text: String| Org::compile(&Snapshot::from_json_str(&text).unwrap(), &catalogue).unwrap();
    let lost = |diff: &iamsim_core::report::Diff| -> Vec<(String, String)> {
        diff.users
            .iter()
            .flat_map(|u| {
                u.assumable_lost
                    .iter()
                    .map(|a| (u.user.id.to_string(), a.trust.id.clone()))
            })
            .collect()
    };
    let pairs = |list: &[(&str, &str)]| -> Vec<(String, String)> {
        list.iter().map(|&(u, t)| (u.into(), t.into())).collect()
    };
    // Every trust goes. u1 is root in both: nothing changes for root.
    let diff = iamsim_core::diff(&org(text("u1", &all)), &org(text("u1", "")));
    assert_eq!(
        lost(&diff),
        pairs(&[("u2", "t2"), ("u3", "t3")]),
        "{diff:#?}"
    );
    assert!(diff.users.iter().all(|u| u.assumable_gained.is_empty()));
    // Root moves from u1 to u2: neither is root in both, so both are compared.
    let diff = iamsim_core::diff(&org(text("u1", &all)), &org(text("u2", "")));
    assert_eq!(
        lost(&diff),
        pairs(&[("u1", "t1"), ("u2", "t2"), ("u3", "t3")]),
        "{diff:#?}"
    );
    assert!(diff.users.iter().all(|u| u.assumable_gained.is_empty()));
}

/// The size of the rayon pool `redundancy` runs in changes nothing in the answer, byte for byte.
#[test]
fn redundancy_is_the_same_on_several_threads() {
    use iamsim_core::generate::{snapshot, Params};
    let catalogue = iamsim_core::Catalogue::bundled();
    let org = Org::compile(&snapshot(&Params::broad(60, 9)), &catalogue).unwrap();
    let [one, two, four] =
        iamsim_core::testing::in_pools(|| serde_json::to_string(&org.redundancy()).unwrap());
    assert!(one.contains("\"edges\":[{"), "some edge is redundant");
    assert_eq!(two, one);
    assert_eq!(four, one);
}
