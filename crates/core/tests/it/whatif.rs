//! The what-if against the reference: every change kind and random change sets, applied by the
//! engine as an overlay and by the reference as plain edits of a copy of the snapshot, then
//! judged from scratch. Also: changes that commute give the same impact in either order, and
//! `diff` against the changed snapshot says what the what-if says.

use std::collections::{BTreeMap, BTreeSet};

use iamsim_core::model::RoleType;
use iamsim_core::report::{FlatImpact, FlatUserImpact};
use iamsim_core::testing::{check_rebuild, check_what_if, in_pools, ChangePick};
use iamsim_core::{
    reference, Catalogue, ChangeError, ChangeSpec, Detail, Org, Precedence, SimulateOptions,
    Snapshot,
};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

use crate::common::{
    cases, catalogue, change_pick, change_set, compile_as, config, organization, show,
};

const ALLOW_NOOP: SimulateOptions = SimulateOptions {
    allow_noop: true,
    detail: Detail::Full,
};

/// The changes of a set that the engine can name.
fn nameable(org: &Org, specs: Vec<ChangeSpec>) -> Vec<ChangeSpec> {
    specs
        .into_iter()
        .filter(|s| org.resolve(s).is_ok())
        .collect()
}

/// The what-if in the one-entry-per-action form.
fn simulate(org: &Org, specs: &[ChangeSpec]) -> Result<FlatImpact, ChangeError> {
    let changes: Vec<_> = specs.iter().map(|s| org.resolve(s).unwrap()).collect();
    org.simulate_with(&changes, &ALLOW_NOOP)
        .map(|impact| impact.flatten())
}

fn by_user(impact: &FlatImpact) -> BTreeMap<String, &FlatUserImpact> {
    impact
        .users
        .iter()
        .map(|u| (u.user.id.to_string(), u))
        .collect()
}

/// `testing::check_what_if` and `testing::check_rebuild` on the changes of `picks` the
/// engine can name, under `precedence`.
fn what_if_agrees(
    snapshot: &Snapshot,
    picks: &[ChangePick],
    precedence: Precedence,
) -> Result<(), TestCaseError> {
    let catalogue = catalogue();
    let org = compile_as(snapshot, &catalogue, precedence);
    let specs = nameable(
        &org,
        picks.iter().filter_map(|p| p.spec(snapshot)).collect(),
    );
    let mut violations = check_what_if(&org, snapshot, &catalogue, &specs);
    violations.extend(check_rebuild(&org, snapshot, &catalogue, &specs));
    prop_assert!(
        violations.is_empty(),
        "{:#?}{}",
        violations,
        show(snapshot, &specs)
    );
    Ok(())
}

proptest! {
    #![proptest_config(cases(256))]

    /// R-SEM-04, the other rule: under nearest-wins, for 1–3 changes of any kind, the what-if
    /// equals the reference's judged under nearest-wins, and compiling the changed snapshot
    /// under nearest-wins.
    #[test]
    fn what_if_equals_reference_nearest_wins(
        snapshot in organization(),
        picks in change_set(1, 3),
    ) {
        what_if_agrees(&snapshot, &picks, Precedence::NearestWins)?;
    }
}

proptest! {
    #![proptest_config(config())]

    /// For 1–3 changes of any kind, the engine's what-if equals the reference's, user by user,
    /// paths, counts and notes included; a user it does not report is one the reference finds
    /// untouched; the errors are the ones the reference's snapshots predict
    /// (`testing::check_what_if`). And it equals compiling the changed snapshot
    /// (`testing::check_rebuild`).
    #[test]
    fn what_if_equals_reference(
        snapshot in organization(),
        picks in change_set(1, 3),
    ) {
        what_if_agrees(&snapshot, &picks, Precedence::DenyWins)?;
    }

    /// Two changes that commute (the reference's snapshot after both is the same in either
    /// order) give the same impact in either order.
    #[test]
    fn commuting_changes_give_the_same_impact(
        snapshot in organization(),
        picks in change_set(2, 2),
    ) {
        let catalogue = catalogue();
        let org = Org::compile(&snapshot, &catalogue).unwrap();
        let specs = nameable(&org, picks.iter().filter_map(|p| p.spec(&snapshot)).collect());
        prop_assume!(specs.len() == 2);
        let reversed = vec![specs[1].clone(), specs[0].clone()];
        let commute = normalized(&reference::apply_all(&snapshot, &specs))
            == normalized(&reference::apply_all(&snapshot, &reversed));
        let (Ok(one), Ok(other)) = (simulate(&org, &specs), simulate(&org, &reversed)) else {
            return Ok(());
        };
        if !commute {
            return Ok(());
        }
        prop_assert_eq!(by_user(&one), by_user(&other), "{}", show(&snapshot, &specs));
        prop_assert_eq!(&one.actions, &other.actions);
        let mut kinds_one: Vec<_> = one.changes.iter().map(|c| c.kind).collect();
        let mut kinds_other: Vec<_> = other.changes.iter().map(|c| c.kind).collect();
        kinds_one.sort();
        kinds_other.sort();
        prop_assert_eq!(kinds_one, kinds_other);
    }

    /// `diff` of the snapshot against the snapshot with one change made says what the what-if
    /// of that change says: per user, the same lost and gained entries (paths included), and
    /// the provenance changes are the kept entries with their new paths. A removed user is
    /// reported among the removed entities instead.
    #[test]
    fn diff_equals_what_if(snapshot in organization(), pick in change_pick()) {
        let catalogue = catalogue();
        let org = Org::compile(&snapshot, &catalogue).unwrap();
        let specs = nameable(&org, pick.spec(&snapshot).into_iter().collect());
        prop_assume!(specs.len() == 1);
        let Ok(impact) = simulate(&org, &specs) else {
            // Only a Vultr-managed policy's document cannot be replaced.
            let replace = matches!(&specs[0], ChangeSpec::ReplacePolicyDocument { .. });
            prop_assert!(replace);
            return Ok(());
        };
        let after = reference::apply(&snapshot, &specs[0]);
        let new = Org::compile(&after, &catalogue).unwrap();
        let diff = iamsim_core::diff(&org, &new);
        let diffs: BTreeMap<_, _> = diff.users.iter().map(|u| (&*u.user.id, u)).collect();
        let impacts = by_user(&impact);
        for user in &snapshot.users {
            if let ChangeSpec::RemoveUser { user: removed } = &specs[0] {
                if *removed == user.id {
                    prop_assert!(!diffs.contains_key(user.id.as_str()));
                    prop_assert_eq!(diff.removed.users.len(), 1);
                    prop_assert_eq!(&diff.removed.users[0].id, &user.id);
                    continue;
                }
            }
            let (lost, gained, kept) = match impacts.get(&user.id) {
                Some(u) => (u.lost.clone(), u.gained.clone(), u.kept.clone()),
                None => Default::default(),
            };
            let (d_lost, d_gained, provenance) = match diffs.get(user.id.as_str()) {
                Some(d) => (d.lost.clone(), d.gained.clone(), d.provenance.clone()),
                None => Default::default(),
            };
            prop_assert_eq!(d_lost, lost, "lost, user {}{}", user.id, show(&snapshot, &specs));
            prop_assert_eq!(d_gained, gained, "gained, user {}{}", user.id, show(&snapshot, &specs));
            let provenance: Vec<_> = provenance
                .into_iter()
                .map(|p| (p.action, p.resource, p.after))
                .collect();
            let kept: Vec<_> = kept.into_iter().map(|e| (e.action, e.resource, e.via)).collect();
            prop_assert_eq!(provenance, kept, "provenance, user {}{}", user.id, show(&snapshot, &specs));
            let (a_lost, a_gained) = match impacts.get(&user.id) {
                Some(u) => (u.assumable_lost.clone(), u.assumable_gained.clone()),
                None => Default::default(),
            };
            let (d_a_lost, d_a_gained) = match diffs.get(user.id.as_str()) {
                Some(d) => (d.assumable_lost.clone(), d.assumable_gained.clone()),
                None => Default::default(),
            };
            prop_assert_eq!(d_a_lost, a_lost, "assumable lost, user {}{}", user.id, show(&snapshot, &specs));
            prop_assert_eq!(d_a_gained, a_gained, "assumable gained, user {}{}", user.id, show(&snapshot, &specs));
        }
        // Entities deleted are reported as removed (a role's trusts with it); nothing is added.
        let ids = |d: &[iamsim_core::report::EntityRef]| d.iter().map(|e| e.id.clone()).collect::<Vec<_>>();
        let gone = |kind: &str| {
            let before = entity_ids(&snapshot, kind);
            let after = entity_ids(&after, kind);
            before.difference(&after).cloned().collect::<Vec<_>>()
        };
        prop_assert_eq!(ids(&diff.removed.users), gone("user"));
        prop_assert_eq!(ids(&diff.removed.groups), gone("group"));
        prop_assert_eq!(ids(&diff.removed.roles), gone("role"));
        prop_assert_eq!(ids(&diff.removed.policies), gone("policy"));
        prop_assert_eq!(ids(&diff.removed.role_trusts), gone("role trust"));
        prop_assert_eq!(&diff.added, &Default::default());
    }
}

/// The ids of one kind of entity the engine knows (trusts: on an existing assumable role).
fn entity_ids(s: &Snapshot, kind: &str) -> BTreeSet<String> {
    match kind {
        "user" => s.users.iter().map(|x| x.id.clone()).collect(),
        "group" => s.groups.iter().map(|x| x.id.clone()).collect(),
        "role" => s.roles.iter().map(|x| x.id.clone()).collect(),
        "policy" => s.policies.iter().map(|x| x.id.clone()).collect(),
        _ => s
            .role_trusts
            .iter()
            .filter(|t| {
                s.roles
                    .iter()
                    .any(|r| r.id == t.role_id && r.role_type == RoleType::Assumable)
            })
            .map(|t| t.id.clone())
            .collect(),
    }
}

/// A snapshot with its attachment lists sorted, so that two made in another order compare equal.
fn normalized(snapshot: &Snapshot) -> Snapshot {
    let mut s = snapshot.clone();
    for u in &mut s.users {
        u.policies.sort();
        u.roles.sort();
    }
    for g in &mut s.groups {
        g.members.sort();
        g.policies.sort();
        g.roles.sort();
    }
    for r in &mut s.roles {
        r.policies.sort();
    }
    s
}

/// A replacement naming two new wildcard elements, in a policy nobody holds: a user reached by
/// another change of the set, whose `compute.*` covers both, counts them as unchanged, as the
/// reference does. The universe has exactly 64 elements, so the new ones open a second word of
/// the bitsets (generated organizations have far fewer elements).
#[test]
fn new_elements_of_a_replacement_are_judged_for_everyone_reached() {
    let catalogue_text: String = (0..62).map(|i| format!("svc.res.A{i}\n")).collect();
    let catalogue = iamsim_core::Catalogue::parse(&catalogue_text).unwrap();
    let snapshot = Snapshot::from_json_str(
        r#"{"format": "iamsim.snapshot.v1", "organization": {"id": "o"},
            "users": [{"id": "u", "email": "u@x", "policies": ["p-all", "p-other"]}],
            "groups": [], "roles": [],
            "policies": [
              {"id": "p-all", "name": "all", "policy_document": {"Statement":
                {"Effect": "Allow", "Action": ["compute.*", "network.*"], "Resource": "*"}}},
              {"id": "p-other", "name": "other", "policy_document": {"Statement":
                {"Effect": "Allow", "Action": "svc.res.A0", "Resource": "*"}}},
              {"id": "p-free", "name": "free", "policy_document": {"Statement":
                {"Effect": "Allow", "Action": "svc.res.A1", "Resource": "*"}}}]}"#,
    )
    .unwrap();
    let org = Org::compile(&snapshot, &catalogue).unwrap();
    assert_eq!(org.universe().count(), 64);
    let specs: Vec<ChangeSpec> = iamsim_core::parse_changes(
        r#"[{"kind": "detach_policy", "policy": "p-other", "user": "u"},
            {"kind": "replace_policy_document", "policy": "p-free", "policy_document": {"Statement":
              {"Effect": "Allow", "Action": ["compute.gadget.*", "compute.widget.*"], "Resource": "*"}}}]"#,
    )
    .unwrap();
    assert_eq!(check_what_if(&org, &snapshot, &catalogue, &specs), vec![]);
    let after = reference::apply_all(&snapshot, &specs);
    let naive = reference::impact(&snapshot, &after, &catalogue, "u");
    // compute.*, network.* and the two new elements, allowed before and after alike.
    assert_eq!(naive.unchanged_count, 4, "{naive:?}");
    assert_eq!(naive.lost.len(), 1, "{naive:?}");
}

/// The size of the rayon pool `simulate` runs in changes nothing in the answer, byte for byte.
#[test]
fn threads_do_not_change_the_answer() {
    use iamsim_core::generate::{snapshot, Params, Shape};
    let params = Params {
        users: 3_000,
        groups: 60,
        roles: 20,
        policies: 60,
        actions: 200,
        seed: 11,
        shape: Shape::Classic,
    };
    let org = Org::compile(&snapshot(&params), &Catalogue::bundled()).unwrap();
    // Attach a policy to the largest group: well over the threading threshold.
    let change = org
        .resolve(&iamsim_core::ChangeSpec::AttachPolicy {
            policy: "p-1".into(),
            user: None,
            group: Some("g-0".into()),
            role: None,
        })
        .unwrap();
    let [one, two, four] = in_pools(|| {
        serde_json::to_string(&org.simulate(std::slice::from_ref(&change)).unwrap()).unwrap()
    });
    assert!(
        one.matches("\"user\":").count() > 600,
        "the change reaches many users"
    );
    assert_eq!(two, one);
    assert_eq!(four, one);
}

/// The grouped report's bytes follow its content alone: on a broad organization, deleting the
/// largest group gives the same JSON whatever order the snapshot lists its users, groups,
/// roles and policies in, and whatever the size of the rayon pool it runs in.
#[test]
fn snapshot_order_and_threads_do_not_change_the_grouped_report() {
    use iamsim_core::generate::{snapshot, Params};
    let original = snapshot(&Params::broad(150, 5));
    let mut reordered = original.clone();
    reordered.users.reverse();
    reordered.groups.reverse();
    reordered.roles.reverse();
    reordered.policies.reverse();
    let answer = |snapshot: &Snapshot| {
        let org = Org::compile(snapshot, &Catalogue::bundled()).unwrap();
        let change = org
            .resolve(&ChangeSpec::DeleteGroup {
                group: "g-0".into(),
            })
            .unwrap();
        let impact = org.simulate(std::slice::from_ref(&change)).unwrap();
        assert_eq!(iamsim_core::testing::grouped_shape(&impact), None);
        serde_json::to_string(&impact).unwrap()
    };
    let [one, two, four] = in_pools(|| answer(&original));
    assert!(
        one.matches("\"kept\":[{").count() > 50,
        "many users keep something"
    );
    assert_eq!(answer(&reordered), one);
    assert_eq!(two, one);
    assert_eq!(four, one);
}

/// A change set whose later changes work through edges its earlier changes add: a user joins
/// a group, the group gets a role, the role gets a policy, and a policy attached through the
/// new edges has its document replaced. Every user who gains must be reached, in every order.
#[test]
fn changes_through_edges_the_same_set_adds() {
    let catalogue = catalogue();
    let snapshot = Snapshot::from_json_str(
        r#"{"format": "iamsim.snapshot.v1", "organization": {"id": "o"},
            "users": [{"id": "u-new", "email": "new@x"}, {"id": "u-old", "email": "old@x"},
                      {"id": "u-far", "email": "far@x"}],
            "groups": [{"id": "g", "display_name": "G", "members": ["u-old"]},
                       {"id": "g2", "display_name": "G2", "members": ["u-far"]}],
            "roles": [{"id": "r", "name": "R", "role_type": "assignable"}],
            "policies": [
              {"id": "p", "name": "P", "policy_document": {"Statement":
                {"Effect": "Allow", "Action": "compute.instance.Create", "Resource": "*"}}},
              {"id": "q", "name": "Q", "policy_document": {"Statement":
                {"Effect": "Allow", "Action": "billing.invoice.List", "Resource": "*"}}}]}"#,
    )
    .unwrap();
    let org = Org::compile(&snapshot, &catalogue).unwrap();
    let specs: Vec<ChangeSpec> = iamsim_core::parse_changes(
        r#"[{"kind": "add_member", "group": "g", "user": "u-new"},
            {"kind": "attach_role", "role": "r", "group": "g"},
            {"kind": "attach_policy", "policy": "p", "role": "r"},
            {"kind": "attach_policy", "policy": "q", "group": "g2"},
            {"kind": "attach_role", "role": "r", "group": "g2"},
            {"kind": "replace_policy_document", "policy": "q", "policy_document": {"Statement":
              {"Effect": "Allow", "Action": "billing.*", "Resource": "*"}}}]"#,
    )
    .unwrap();
    // Each order of the six changes that keeps each one after what it builds on.
    let orders: [[usize; 6]; 4] = [
        [0, 1, 2, 3, 4, 5],
        [2, 1, 0, 5, 4, 3],
        [1, 2, 0, 4, 3, 5],
        [3, 5, 4, 2, 1, 0],
    ];
    for order in orders {
        let specs: Vec<ChangeSpec> = order.iter().map(|&i| specs[i].clone()).collect();
        assert_eq!(
            check_what_if(&org, &snapshot, &catalogue, &specs),
            vec![],
            "{order:?}"
        );
        let impact = simulate(&org, &specs).unwrap();
        let gained: BTreeMap<String, BTreeSet<&str>> = by_user(&impact)
            .into_iter()
            .map(|(id, user)| (id, user.gained.iter().map(|e| e.action.as_str()).collect()))
            .collect();
        let create = "compute.instance.Create";
        let expected: BTreeMap<String, BTreeSet<&str>> = [
            ("u-far", vec![create, "billing.invoice.List", "billing.*"]),
            ("u-new", vec![create]),
            ("u-old", vec![create]),
        ]
        .into_iter()
        .map(|(id, actions)| (id.to_string(), actions.into_iter().collect()))
        .collect();
        assert_eq!(gained, expected, "{order:?}");
    }
}

/// A user whose removal touches more than 64 resource keys, some with more than 64 elements:
/// the word-by-word report finds each entry's paths 64 keys at a time, and tests long lists
/// word by word (`Sides::vias`); the answer is the reference's, and every key is reported.
#[test]
fn many_resource_keys_and_long_lists_agree_with_the_reference() {
    let catalogue_text: String = (0..100).map(|i| format!("svc.res.A{i}\n")).collect();
    let catalogue = iamsim_core::Catalogue::parse(&catalogue_text).unwrap();
    let quoted = |prefix: &str| -> String {
        (0..70)
            .map(|k| format!("\"svc:{prefix}{k}\""))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let json = format!(
        r#"{{"format": "iamsim.snapshot.v1", "organization": {{"id": "o"}},
            "users": [{{"id": "u", "email": "u@x"}}],
            "groups": [{{"id": "g1", "display_name": "one", "members": ["u"], "policies": ["p1"]}},
                       {{"id": "g2", "display_name": "two", "members": ["u"], "policies": ["p2"]}}],
            "roles": [],
            "policies": [
              {{"id": "p1", "name": "wide", "policy_document": {{"Statement": [
                {{"Effect": "Allow", "Action": "svc.*", "Resource": [{long}]}},
                {{"Effect": "Allow", "Action": ["svc.res.A0", "svc.res.A1", "svc.res.A2"],
                  "Resource": [{short}]}},
                {{"Effect": "Deny", "Action": "svc.res.A9", "Resource": "*"}}]}}}},
              {{"id": "p2", "name": "narrow", "policy_document": {{"Statement": [
                {{"Effect": "Allow", "Action": ["svc.res.A1", "svc.res.A9"],
                  "Resource": ["svc:s3", "svc:r5"]}},
                {{"Effect": "Allow", "Action": "svc.res.*", "Resource": "svc:r7"}}]}}}}]}}"#,
        long = quoted("r"),
        short = quoted("s"),
    );
    let snapshot = Snapshot::from_json_str(&json).unwrap();
    let org = Org::compile(&snapshot, &catalogue).unwrap();
    let specs = vec![ChangeSpec::RemoveMember {
        group: "g1".into(),
        user: "u".into(),
    }];
    assert_eq!(check_what_if(&org, &snapshot, &catalogue, &specs), vec![]);
    let impact = org.simulate(&[org.resolve(&specs[0]).unwrap()]).unwrap();
    let user = &impact.users[0];
    let keys: BTreeSet<&str> = user
        .lost
        .iter()
        .chain(&user.kept)
        .chain(&user.gained)
        .map(|e| &*e.resource)
        .collect();
    assert!(keys.len() > 128, "{} keys", keys.len());
    let long = user
        .lost
        .iter()
        .filter(|e| e.resource.starts_with("svc:r") && e.actions.len() > 64)
        .count();
    assert!(long >= 60, "{long} long lists");
    assert!(!user.kept.is_empty() && !user.gained.is_empty(), "{user:?}");
}

/// A universe of more than 4,096 elements (64 words of 64 bits), where word summaries name
/// every word: `Sides::vias` and `ordered_allows` then walk every word. Kept, lost and gained
/// pairs on `*` and on a resource key, with elements in the last words (some met only there
/// by a statement of many elements), agree with the reference.
#[test]
fn a_universe_past_64_words_agrees_with_the_reference() {
    // `zzz.res.*`'s 40 elements sort last: past word 64, met by a statement of many elements.
    let catalogue_text: String = (0..4200)
        .map(|i| format!("svc.res.A{i:04}\n"))
        .chain((0..40).map(|i| format!("zzz.res.B{i:02}\n")))
        .collect();
    let catalogue = iamsim_core::Catalogue::parse(&catalogue_text).unwrap();
    let json = r#"{"format": "iamsim.snapshot.v1", "organization": {"id": "o"},
        "users": [{"id": "u", "email": "u@x"}],
        "groups": [{"id": "g1", "display_name": "one", "members": ["u"], "policies": ["p1"]},
                   {"id": "g2", "display_name": "two", "members": ["u"], "policies": ["p2"]}],
        "roles": [],
        "policies": [
          {"id": "p1", "name": "wide", "policy_document": {"Statement": [
            {"Effect": "Allow", "Action": ["svc.res.*", "zzz.res.*"], "Resource": "*"},
            {"Effect": "Allow", "Action": ["svc.res.A4199", "svc.res.A0007"], "Resource": "svc:r1"},
            {"Effect": "Deny", "Action": ["svc.res.A4150", "svc.res.A0003"], "Resource": "*"}]}},
          {"id": "p2", "name": "narrow", "policy_document": {"Statement": [
            {"Effect": "Allow", "Action": ["svc.res.A4100", "svc.res.A4150", "svc.res.A0001"], "Resource": "*"},
            {"Effect": "Allow", "Action": "svc.res.A4198", "Resource": "svc:r1"},
            {"Effect": "Allow", "Action": "zzz.res.*", "Resource": "*"}]}}]}"#;
    let snapshot = Snapshot::from_json_str(json).unwrap();
    let org = Org::compile(&snapshot, &catalogue).unwrap();
    assert!(org.universe().count() > 4096, "{}", org.universe().count());
    let specs = vec![ChangeSpec::RemoveMember {
        group: "g1".into(),
        user: "u".into(),
    }];
    assert_eq!(check_what_if(&org, &snapshot, &catalogue, &specs), vec![]);
    let impact = org.simulate(&[org.resolve(&specs[0]).unwrap()]).unwrap();
    let user = &impact.users[0];
    assert!(!user.lost.is_empty(), "{user:?}");
    assert!(!user.kept.is_empty(), "{user:?}");
    assert!(!user.gained.is_empty(), "{user:?}");
}
