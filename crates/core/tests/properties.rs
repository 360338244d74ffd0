//! Differential and metamorphic properties over random organizations: the engine against the
//! naive reference evaluator, paths included, and the what-if against rebuilding the snapshot.

use std::collections::BTreeSet;

use iamsim_core::report::{Decision, Entry, StepKind};
use iamsim_core::testing::{check_effective, check_removal};
use iamsim_core::{reference, Change, ChangeSpec, Org};
use proptest::prelude::*;

mod common;
use common::{
    catalogue, config, memberships, organization, policy_attachments, role_attachments, show,
};

fn key(e: &Entry) -> (&str, &str) {
    (&e.action, &e.resource)
}

fn through_group(path: &[iamsim_core::report::Step], group: &str) -> bool {
    path.iter()
        .any(|s| s.kind == StepKind::Group && s.id.as_deref() == Some(group))
}

proptest! {
    #![proptest_config(config())]

    /// The engine's effective permissions equal the reference's, paths included
    /// (`testing::check_effective`).
    #[test]
    fn effective_equals_reference(snapshot in organization()) {
        let catalogue = catalogue();
        let org = Org::compile(&snapshot, &catalogue).unwrap();
        let violations = check_effective(&org, &snapshot, &catalogue);
        prop_assert!(violations.is_empty(), "{:#?}{}", violations, show(&snapshot, &[]));
    }

    /// Removing any one edge (a membership, a policy attachment to a user, group or role, a
    /// role attachment to a user or group) revokes only what came through it; direct and
    /// other-group grants stay (`testing::check_removal`).
    #[test]
    fn a_removal_revokes_only_through_its_edge(snapshot in organization()) {
        let catalogue = catalogue();
        let org = Org::compile(&snapshot, &catalogue).unwrap();
        let holder = |(kind, id): &(&str, String)| {
            let only = |k: &str| (*kind == k).then(|| id.clone());
            (only("user"), only("group"), only("role"))
        };
        let mut removals: Vec<ChangeSpec> = memberships(&snapshot)
            .into_iter()
            .map(|(group, user)| ChangeSpec::RemoveMember { group, user })
            .collect();
        for (policy, h) in policy_attachments(&snapshot) {
            let (user, group, role) = holder(&h);
            removals.push(ChangeSpec::DetachPolicy { policy, user, group, role });
        }
        for (role, h) in role_attachments(&snapshot) {
            let (user, group, _) = holder(&h);
            removals.push(ChangeSpec::DetachRole { role, user, group });
        }
        for spec in &removals {
            let violations = check_removal(&org, spec);
            prop_assert!(violations.is_empty(), "{:#?}{}", violations, show(&snapshot, std::slice::from_ref(spec)));
        }
    }

    /// Every remove-member what-if equals the reference's, and obeys the rules of the change.
    #[test]
    fn remove_member_equals_reference(snapshot in organization()) {
        let catalogue = catalogue();
        let org = Org::compile(&snapshot, &catalogue).unwrap();
        for (group_id, user_id) in memberships(&snapshot) {
            let change = Change::RemoveMember {
                group: org.find_group(&group_id).unwrap(),
                user: org.find_user(&user_id).unwrap(),
            };
            let impact = org.simulate(&[change]).unwrap();
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
        for (group_id, user_id) in memberships(&snapshot) {
            let change = Change::RemoveMember {
                group: org.find_group(&group_id).unwrap(),
                user: org.find_user(&user_id).unwrap(),
            };
            let impact = org.simulate(&[change]).unwrap();
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
