//! Differential and metamorphic properties over random organizations: the engine against the
//! naive reference evaluator, paths included, and the what-if against rebuilding the snapshot.

use std::collections::BTreeSet;

use iamsim_core::report::{Decision, Entry, StepKind};
use iamsim_core::testing::{check_effective, check_removal};
use iamsim_core::{reference, Change, Org, Precedence, Snapshot};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

use crate::common::{
    catalogue, compile_as, config, edge_removals, memberships, organization, show,
};

fn key(e: &Entry) -> (&str, &str) {
    (&e.action, &e.resource)
}

fn through_group(path: &[iamsim_core::report::Step], group: &str) -> bool {
    path.iter()
        .any(|s| s.kind() == StepKind::Group && s.id() == Some(group))
}

/// The engine's effective permissions equal the reference's under `precedence`.
fn effective_agrees(snapshot: &Snapshot, precedence: Precedence) -> Result<(), TestCaseError> {
    let catalogue = catalogue();
    let org = compile_as(snapshot, &catalogue, precedence);
    let violations = check_effective(&org, snapshot, &catalogue);
    prop_assert!(
        violations.is_empty(),
        "{:#?}{}",
        violations,
        show(snapshot, &[])
    );
    Ok(())
}

/// `testing::check_removal` for every single edge of the snapshot, under `precedence`.
fn removals_revoke_only_through_their_edge(
    snapshot: &Snapshot,
    precedence: Precedence,
) -> Result<(), TestCaseError> {
    let catalogue = catalogue();
    let org = compile_as(snapshot, &catalogue, precedence);
    for spec in &edge_removals(snapshot) {
        let violations = check_removal(&org, spec);
        prop_assert!(
            violations.is_empty(),
            "{:#?}{}",
            violations,
            show(snapshot, std::slice::from_ref(spec))
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    /// The engine's effective permissions equal the reference's, paths included
    /// (`testing::check_effective`).
    #[test]
    fn effective_equals_reference(snapshot in organization()) {
        effective_agrees(&snapshot, Precedence::DenyWins)?;
    }

    /// Removing any one edge (a membership, a policy attachment to a user, group or role, a
    /// role attachment to a user or group) revokes only what came through it; direct and
    /// other-group grants stay (`testing::check_removal`).
    #[test]
    fn a_removal_revokes_only_through_its_edge(snapshot in organization()) {
        removals_revoke_only_through_their_edge(&snapshot, Precedence::DenyWins)?;
    }

    /// Every remove-member what-if equals the reference's, and obeys the rules of the change.
    #[test]
    fn remove_member_equals_reference(snapshot in organization()) {
        let catalogue = catalogue();
        let org = Org::compile(&snapshot, &catalogue).unwrap();
        for m in memberships(&snapshot) {
            let (group_id, user_id) = (m.group, m.user);
            let change = Change::RemoveMember {
                group: org.find_group(&group_id).unwrap(),
                user: org.find_user(&user_id).unwrap(),
            };
            let impact = org.simulate(&[change]).unwrap().flatten();
            prop_assert_eq!(impact.users.len(), 1);
            let got = &impact.users[0];
            let naive = reference::remove_member(&snapshot, &catalogue, &group_id, &user_id);
            prop_assert_eq!(got, &naive, "remove {} from {}", user_id, group_id);

            // lost, kept and gained are disjoint.
            let lost: BTreeSet<_> = got.lost.iter().map(key).collect();
            let kept: BTreeSet<_> = got.kept.iter().map(key).collect();
            let gained: BTreeSet<_> = got.gained.iter().map(key).collect();
            prop_assert!(lost.is_disjoint(&kept) && lost.is_disjoint(&gained) && kept.is_disjoint(&gained));

            // Nothing outside the group's reach changes: whatever is lost came only through it,
            // and whatever is kept had a path through it.
            let before = org.effective(change_user(&org, &user_id));
            for entry in &got.lost {
                prop_assert!(entry.via.iter().all(|p| through_group(p, &group_id)), "lost {:?}", entry);
            }
            for entry in &got.kept {
                prop_assert!(entry.via.iter().all(|p| !through_group(p, &group_id)), "kept {:?}", entry);
            }
            for entry in &before.allowed {
                if !entry.via.iter().any(|p| through_group(p, &group_id)) {
                    prop_assert!(!lost.contains(&key(entry)) && !kept.contains(&key(entry)));
                }
            }
        }
    }

    /// The what-if equals rebuilding the snapshot without the membership: every entry the
    /// what-if reports is decided that way, with those paths, by the rebuilt organization.
    #[test]
    fn remove_member_equals_rebuild(snapshot in organization()) {
        let catalogue = catalogue();
        let org = Org::compile(&snapshot, &catalogue).unwrap();
        for m in memberships(&snapshot) {
            let (group_id, user_id) = (m.group, m.user);
            let change = Change::RemoveMember {
                group: org.find_group(&group_id).unwrap(),
                user: org.find_user(&user_id).unwrap(),
            };
            let impact = org.simulate(&[change]).unwrap().flatten();
            let got = &impact.users[0];
            let rebuilt = Org::compile(&reference::without_member(&snapshot, &group_id, &user_id), &catalogue).unwrap();
            let u = rebuilt.find_user(&user_id).unwrap();
            for entry in &got.lost {
                let e = rebuilt.explain(u, &entry.action, &entry.resource).unwrap();
                prop_assert_ne!(e.decision, Decision::Allowed);
            }
            for entry in got.kept.iter().chain(&got.gained) {
                let e = rebuilt.explain(u, &entry.action, &entry.resource).unwrap();
                prop_assert_eq!(e.decision, Decision::Allowed);
                prop_assert_eq!(&e.allow, &entry.via);
            }
            // Everything allowed before and not reported stays allowed with the same paths.
            let before = org.effective(change_user(&org, &user_id));
            let reported: BTreeSet<_> = got.lost.iter().chain(&got.kept).map(key).collect();
            // (The root user's one entry, `*` on `*`, is not a universe element to explain.)
            let checked = if before.user.root { &[][..] } else { &before.allowed[..] };
            for entry in checked.iter().filter(|e| !reported.contains(&key(e))) {
                let e = rebuilt.explain(u, &entry.action, &entry.resource).unwrap();
                prop_assert_eq!(e.decision, Decision::Allowed);
                prop_assert_eq!(&e.allow, &entry.via);
            }
            // And the rebuilt organization's answers for everyone else are untouched.
            for other in snapshot.users.iter().filter(|o| o.id != user_id) {
                prop_assert_eq!(
                    rebuilt.effective(rebuilt.find_user(&other.id).unwrap()),
                    org.effective(org.find_user(&other.id).unwrap())
                );
            }
        }
    }
}

fn change_user(org: &Org, id: &str) -> iamsim_core::UserKey {
    org.find_user(id).unwrap()
}

/// Whether resource pattern `pattern` covers resource key `key`, on the text.
fn resource_covers(pattern: &str, key: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => key.starts_with(prefix),
        None => pattern == key,
    }
}

/// Whether `path` (an Allow path if `allow`, else a Deny path) exists in the snapshot for
/// `action` on `resource`: `Err` says which step does not.
fn path_exists(
    s: &iamsim_core::Snapshot,
    path: &[iamsim_core::report::Step],
    action: &str,
    resource: &str,
    allow: bool,
) -> Result<(), String> {
    use iamsim_core::model::RoleType;
    let id = |i: usize| {
        path.get(i)
            .and_then(|s| s.id().map(str::to_string))
            .unwrap_or_default()
    };
    let kind = |i: usize| path.get(i).map(|s| s.kind());
    let user = s
        .users
        .iter()
        .find(|u| kind(0) == Some(StepKind::User) && u.id == id(0))
        .ok_or("no such user")?;
    let mut policies: &Vec<String> = &user.policies;
    let mut roles: &Vec<String> = &user.roles;
    let mut at = 1;
    if kind(at) == Some(StepKind::Group) {
        let group = s
            .groups
            .iter()
            .find(|g| g.id == id(at) && g.members.contains(&user.id))
            .ok_or("no such membership")?;
        policies = &group.policies;
        roles = &group.roles;
        at += 1;
    }
    if kind(at) == Some(StepKind::Role) {
        let role = s
            .roles
            .iter()
            .find(|r| {
                r.id == id(at) && r.role_type == RoleType::Assignable && roles.contains(&r.id)
            })
            .ok_or("no such assignable role attached")?;
        policies = &role.policies;
        at += 1;
    }
    if kind(at) != Some(StepKind::Policy) || !policies.contains(&id(at)) {
        return Err(format!("no policy attachment at step {at}"));
    }
    let policy = s
        .policies
        .iter()
        .find(|p| p.id == id(at))
        .ok_or("no such policy")?;
    let index = path
        .get(at + 1)
        .filter(|s| s.kind() == StepKind::Statement)
        .and_then(|s| s.index())
        .ok_or("no statement step")? as usize;
    let statement = policy
        .policy_document
        .statement
        .as_slice()
        .get(index)
        .ok_or("no such statement")?;
    let covers = statement.effect == if allow { "Allow" } else { "Deny" }
        && statement
            .action
            .as_slice()
            .iter()
            .any(|a| iamsim_core::testing::fuzz::action_covers(a, action))
        && statement
            .resource
            .as_slice()
            .iter()
            .any(|r| resource_covers(r, resource));
    if !covers || path.len() != at + 2 {
        return Err("the statement does not match".to_string());
    }
    Ok(())
}

proptest! {
    #![proptest_config(crate::common::cases(256))]

    /// R-SEM-04, the other rule: under nearest-wins, the engine's effective permissions equal
    /// the reference's judged under nearest-wins, paths included.
    #[test]
    fn effective_equals_reference_nearest_wins(snapshot in organization()) {
        effective_agrees(&snapshot, Precedence::NearestWins)?;
    }

    /// R-SEM-04: under nearest-wins, removing one edge revokes only what came through it (and
    /// what it kept, it keeps through Allows that were overridden before).
    #[test]
    fn a_removal_revokes_only_through_its_edge_nearest_wins(snapshot in organization()) {
        removals_revoke_only_through_their_edge(&snapshot, Precedence::NearestWins)?;
    }

    /// R-SEM-03: every path of an effective report exists in the snapshot (each edge, the
    /// statement, and the statement covers the action and resource with the right effect);
    /// and detaching the policy of every reported Allow path flips an allowed answer to not
    /// allowed (no path went unreported).
    #[test]
    fn provenance_paths_exist_and_removing_them_flips(snapshot in organization()) {
        let catalogue = catalogue();
        let org = Org::compile(&snapshot, &catalogue).unwrap();
        for user in &snapshot.users {
            let u = org.find_user(&user.id).unwrap();
            let effective = org.effective(u);
            if effective.user.root {
                continue;
            }
            for (entries, allow) in [(&effective.allowed, true), (&effective.denied, false)] {
                for entry in entries.iter() {
                    for path in &entry.via {
                        let exists = path_exists(&snapshot, path, &entry.action, &entry.resource, allow);
                        prop_assert!(exists.is_ok(), "{:?}: {:?} {:?}", exists, entry, path);
                    }
                }
            }
            for entry in effective.allowed.iter().take(4) {
                let mut cut = snapshot.clone();
                for path in &entry.via {
                    let policy = path[path.len() - 2].id().unwrap().to_string();
                    let holder = &path[path.len() - 3];
                    let holder_id = holder.id().unwrap().to_string();
                    let list = match holder.kind() {
                        StepKind::User => &mut cut.users.iter_mut().find(|x| x.id == holder_id).unwrap().policies,
                        StepKind::Group => &mut cut.groups.iter_mut().find(|x| x.id == holder_id).unwrap().policies,
                        _ => &mut cut.roles.iter_mut().find(|x| x.id == holder_id).unwrap().policies,
                    };
                    list.retain(|p| *p != policy);
                }
                let rebuilt = Org::compile(&cut, &catalogue).unwrap();
                let x = rebuilt.explain(rebuilt.find_user(&user.id).unwrap(), &entry.action, &entry.resource);
                if let Ok(x) = x {
                    prop_assert_ne!(x.decision, Decision::Allowed, "{:?}{}", entry, show(&cut, &[]));
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(config())]

    /// R-POL-10: `parse(serialize(parse(d))) == parse(d)` for generated policy documents (every
    /// wildcard form, bare and array forms, scoped resources), both as documents and as parsed
    /// statements.
    #[test]
    fn policy_documents_round_trip(
        document in iamsim_core::testing::policy_document(&Default::default()),
    ) {
        use iamsim_core::model::PolicyDocument;
        use iamsim_core::policy::ParsedStatement;
        let parsed = |d: &PolicyDocument| {
            d.statement.as_slice().iter().map(ParsedStatement::parse).collect::<Vec<_>>()
        };
        let text = serde_json::to_string(&document).unwrap();
        let again: PolicyDocument = serde_json::from_str(&text).unwrap();
        prop_assert!(parsed(&document).iter().all(Result::is_ok));
        prop_assert_eq!(parsed(&again), parsed(&document));
        prop_assert_eq!(again, document);
    }
}

/// R-SEM-01 and R-SEM-09, the thread side: the engine spawns no thread of its own, and one
/// `Org` shared by several threads gives, byte for byte, the answers it gives on one; asking
/// twice gives the same answer (a what-if leaves no trace).
#[test]
fn the_same_answers_from_several_threads_and_twice() {
    use iamsim_core::generate::{snapshot, Params, Shape};
    let params = Params {
        users: 60,
        groups: 8,
        roles: 4,
        policies: 12,
        actions: 40,
        seed: 7,
        shape: Shape::Classic,
    };
    let generated = snapshot(&params);
    let org = Org::compile(&generated, &iamsim_core::Catalogue::bundled()).unwrap();
    let (group_id, member_id) = generated
        .groups
        .iter()
        .find_map(|g| Some((g.id.clone(), g.members.first()?.clone())))
        .unwrap();
    let users: Vec<_> = org.users().collect();
    let answer = |u: iamsim_core::UserKey| serde_json::to_string(&org.effective(u)).unwrap();
    let what_if = || {
        let group = org.find_group(&group_id).unwrap();
        let member = org.find_user(&member_id).unwrap();
        let impact = org
            .simulate(&[Change::RemoveMember {
                group,
                user: member,
            }])
            .unwrap();
        serde_json::to_string(&impact).unwrap()
    };
    let sequential: Vec<String> = users.iter().map(|&u| answer(u)).collect();
    let first = what_if();
    let threads = 4;
    let parallel: Vec<(Vec<(usize, String)>, String)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (users, answer, what_if) = (&users, &answer, &what_if);
                s.spawn(move || {
                    let mine = (t..users.len())
                        .step_by(threads)
                        .map(|i| (i, answer(users[i])))
                        .collect();
                    (mine, what_if())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut seen = 0;
    for (answers, impact) in parallel {
        assert_eq!(impact, first);
        for (i, text) in answers {
            assert_eq!(text, sequential[i], "user {i}");
            seen += 1;
        }
    }
    assert_eq!(seen, users.len());
    assert_eq!(what_if(), first, "asked twice");
    assert_eq!(
        users.iter().map(|&u| answer(u)).collect::<Vec<_>>(),
        sequential
    );
}
