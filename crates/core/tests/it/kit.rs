//! The property-testing kit tested: its strategies hit every knob, and knobs turned off are
//! respected; its change sets name real entities; its checkers find what is wrong.

use std::collections::BTreeSet;

use iamsim_core::model::{OneOrMany, RoleType, Snapshot};
use iamsim_core::report::ChangeKind;
use iamsim_core::testing::{
    self, ChangeKnobs, DocumentKnobs, OrgKnobs, Violation, Wildcards, ALL_KINDS,
};
use iamsim_core::{ChangeSpec, Org};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;

/// `n` values of a strategy, from a fixed seed.
fn sample<S: Strategy>(strategy: S, n: usize) -> Vec<S::Value> {
    let mut runner = TestRunner::deterministic();
    (0..n)
        .map(|_| strategy.new_tree(&mut runner).unwrap().current())
        .collect()
}

/// What a set of generated organizations contains.
#[derive(Debug, Default)]
struct Seen {
    users: BTreeSet<usize>,
    groups: BTreeSet<usize>,
    roles: BTreeSet<usize>,
    policies: BTreeSet<usize>,
    trusts: BTreeSet<usize>,
    statements: BTreeSet<usize>,
    effects: BTreeSet<String>,
    actions: BTreeSet<String>,
    resources: BTreeSet<String>,
    suspended: bool,
    active: bool,
    service: bool,
    root: bool,
    assumable: bool,
    assignable: bool,
    trust_user: bool,
    trust_group: bool,
    trust_on_assumable: bool,
    system: bool,
    dangling: bool,
    repeated_member: bool,
    bare_statement: bool,
    bare_action: bool,
    array_action: bool,
}

fn survey(snapshots: &[Snapshot]) -> Seen {
    let mut seen = Seen::default();
    let catalogue = testing::catalogue();
    for s in snapshots {
        assert!(
            Org::compile(s, &catalogue).is_ok(),
            "every snapshot compiles"
        );
        seen.users.insert(s.users.len());
        seen.groups.insert(s.groups.len());
        seen.roles.insert(s.roles.len());
        seen.policies.insert(s.policies.len());
        seen.trusts.insert(s.role_trusts.len());
        seen.root |= s.organization.root_user_id.is_some();
        for u in &s.users {
            seen.suspended |= u.suspended;
            seen.active |= !u.suspended;
            seen.service |= u.service_user;
            seen.dangling |= u.policies.iter().any(|p| p == "p-gone");
        }
        for g in &s.groups {
            let distinct: BTreeSet<_> = g.members.iter().collect();
            seen.repeated_member |= distinct.len() < g.members.len();
        }
        for r in &s.roles {
            seen.assumable |= r.role_type == RoleType::Assumable;
            seen.assignable |= r.role_type == RoleType::Assignable;
        }
        for t in &s.role_trusts {
            seen.trust_user |= t.trusted_user_id.is_some();
            seen.trust_group |= t.trusted_group_id.is_some();
            seen.trust_on_assumable |= s
                .roles
                .iter()
                .any(|r| r.id == t.role_id && r.role_type == RoleType::Assumable);
        }
        for p in &s.policies {
            seen.system |= p.is_system_policy;
            let statements = &p.policy_document.statement;
            seen.bare_statement |= matches!(statements, OneOrMany::One(_));
            seen.statements.insert(statements.as_slice().len());
            for st in statements.as_slice() {
                seen.effects.insert(st.effect.clone());
                seen.bare_action |= matches!(st.action, OneOrMany::One(_));
                seen.array_action |= matches!(st.action, OneOrMany::Many(_));
                seen.actions.extend(st.action.as_slice().iter().cloned());
                seen.resources
                    .extend(st.resource.as_slice().iter().cloned());
            }
        }
    }
    seen
}

fn range(r: &std::ops::RangeInclusive<usize>) -> BTreeSet<usize> {
    r.clone().collect()
}

#[test]
fn default_knobs_hit_every_corner() {
    let knobs = OrgKnobs::default();
    let seen = survey(&sample(testing::organization(&knobs), 2000));
    // Every size in each range, the extremes included.
    assert_eq!(seen.users, range(&knobs.users));
    assert_eq!(seen.groups, range(&knobs.groups));
    assert_eq!(seen.roles, range(&knobs.roles));
    assert_eq!(seen.policies, range(&knobs.policies));
    assert_eq!(seen.trusts, range(&knobs.trusts));
    assert_eq!(seen.statements, range(&knobs.document.statements));
    // Both effects; every action of the vocabulary: each wildcard form, unknown actions.
    assert_eq!(
        seen.effects,
        BTreeSet::from(["Allow".into(), "Deny".into()])
    );
    let vocabulary: BTreeSet<String> = testing::action_vocabulary(&knobs.document)
        .into_iter()
        .map(String::from)
        .collect();
    assert_eq!(seen.actions, vocabulary);
    for form in [
        "*",
        "compute.*",
        "storage.*",
        "compute.instance.*",
        "compute.widget.Make",
        "compute.Instance.read",
    ] {
        assert!(seen.actions.contains(form), "{form}");
    }
    // `*`, ids, and a typed wildcard.
    let resources: BTreeSet<String> = ["*", "i-1", "i-2", "registry:*", "registry:r1"]
        .into_iter()
        .map(String::from)
        .collect();
    assert_eq!(seen.resources, resources);
    let flags = [
        ("suspended", seen.suspended),
        ("active", seen.active),
        ("service user", seen.service),
        ("root", seen.root),
        ("assumable role", seen.assumable),
        ("assignable role", seen.assignable),
        ("trust naming a user", seen.trust_user),
        ("trust naming a group", seen.trust_group),
        ("trust on an assumable role", seen.trust_on_assumable),
        ("system policy", seen.system),
        ("dangling id", seen.dangling),
        ("repeated member", seen.repeated_member),
        ("bare statement", seen.bare_statement),
        ("bare action", seen.bare_action),
        ("action array", seen.array_action),
    ];
    for (what, hit) in flags {
        assert!(hit, "no {what} in 2,000 organizations");
    }
}

#[test]
fn knobs_turned_off_are_respected() {
    let knobs = OrgKnobs {
        users: 3..=3,
        groups: 2..=2,
        roles: 1..=1,
        policies: 2..=2,
        trusts: 0..=0,
        suspended: 0.0,
        service_users: 0.0,
        root: 0.0,
        assumable: 0.0,
        system_policies: 0.0,
        dangling: 0.0,
        document: DocumentKnobs {
            statements: 1..=1,
            deny: 0.0,
            wildcards: Wildcards::NONE,
            unknown_actions: false,
            scoped_resources: 0.0,
            ..DocumentKnobs::default()
        },
        ..OrgKnobs::default()
    };
    let seen = survey(&sample(testing::organization(&knobs), 500));
    assert_eq!(seen.users, BTreeSet::from([3]));
    assert_eq!(seen.groups, BTreeSet::from([2]));
    assert_eq!(seen.roles, BTreeSet::from([1]));
    assert_eq!(seen.policies, BTreeSet::from([2]));
    assert_eq!(seen.trusts, BTreeSet::from([0]));
    assert_eq!(seen.statements, BTreeSet::from([1]));
    assert_eq!(seen.effects, BTreeSet::from(["Allow".to_string()]));
    let catalogue: BTreeSet<String> = testing::catalogue().iter().map(|a| a.to_string()).collect();
    assert_eq!(seen.actions, catalogue, "only catalogue actions, every one");
    assert_eq!(seen.resources, BTreeSet::from(["*".to_string()]));
    let flags = [
        ("suspended", seen.suspended),
        ("service user", seen.service),
        ("root", seen.root),
        ("assumable role", seen.assumable),
        ("system policy", seen.system),
        ("dangling id", seen.dangling),
    ];
    for (what, hit) in flags {
        assert!(!hit, "{what} generated though turned off");
    }
}

#[test]
fn knobs_turned_fully_on_are_respected() {
    let knobs = OrgKnobs {
        suspended: 1.0,
        root: 1.0,
        assumable: 1.0,
        system_policies: 1.0,
        roles: 1..=3,
        document: DocumentKnobs {
            statements: 1..=3,
            deny: 1.0,
            scoped_resources: 1.0,
            wildcards: Wildcards {
                any: false,
                service: true,
                resource: false,
            },
            ..DocumentKnobs::default()
        },
        ..OrgKnobs::default()
    };
    let snapshots = sample(testing::organization(&knobs), 300);
    let seen = survey(&snapshots);
    assert!(!seen.active && !seen.assignable);
    assert_eq!(seen.effects, BTreeSet::from(["Deny".to_string()]));
    assert!(!seen.resources.contains("*"));
    assert!(seen.actions.contains("compute.*") && !seen.actions.contains("*"));
    assert!(!seen.actions.contains("compute.instance.*"));
    assert!(snapshots
        .iter()
        .all(|s| s.organization.root_user_id.is_some()
            && s.policies.iter().all(|p| p.is_system_policy)));
}

/// Every change of a set names entities of the snapshot it was drawn for.
fn names_real_entities(s: &Snapshot, spec: &ChangeSpec) -> bool {
    let org = Org::compile(s, &testing::catalogue()).unwrap();
    org.resolve(spec).is_ok()
}

#[test]
fn change_sets_name_real_entities_and_cover_every_kind() {
    let cases = sample(
        testing::organization_and_changes(&OrgKnobs::default(), &ChangeKnobs::default()),
        1500,
    );
    let mut kinds = BTreeSet::new();
    let mut lengths = BTreeSet::new();
    for testing::Case {
        snapshot,
        changes: specs,
    } in &cases
    {
        lengths.insert(specs.len());
        for spec in specs {
            assert!(names_real_entities(snapshot, spec), "{spec:?}");
            kinds.insert(testing::kind_of(spec));
        }
    }
    assert_eq!(kinds, ALL_KINDS.into_iter().collect());
    assert_eq!(lengths, BTreeSet::from([1, 2, 3]));
}

#[test]
fn change_kinds_turned_off_are_respected_and_effective_changes_change_something() {
    let knobs = ChangeKnobs {
        len: 4..=4,
        kinds: vec![ChangeKind::RemoveMember, ChangeKind::DetachPolicy],
        effective: 1.0,
        ..ChangeKnobs::default()
    };
    let cases = sample(
        testing::organization_and_changes(&OrgKnobs::default(), &knobs),
        500,
    );
    let mut kinds = BTreeSet::new();
    for testing::Case {
        snapshot,
        changes: specs,
    } in &cases
    {
        // Every organization has a policy and a user, so a detachment can always be named.
        assert_eq!(specs.len(), 4);
        for spec in specs {
            kinds.insert(testing::kind_of(spec));
            // Effective: a removal names an edge that exists (unless there is none to name).
            match spec {
                ChangeSpec::RemoveMember { group, user } => {
                    let members = testing::memberships(snapshot);
                    if !members.is_empty() {
                        assert!(
                            members.iter().any(|m| &m.group == group && &m.user == user),
                            "{spec:?}"
                        );
                    }
                }
                ChangeSpec::DetachPolicy { policy, .. } => {
                    let attached = testing::policy_attachments(snapshot);
                    if !attached.is_empty() {
                        assert!(attached.iter().any(|a| &a.target == policy), "{spec:?}");
                    }
                }
                other => panic!("kind turned off: {other:?}"),
            }
        }
    }
    assert_eq!(
        kinds,
        BTreeSet::from([ChangeKind::RemoveMember, ChangeKind::DetachPolicy])
    );
}

#[test]
fn changes_for_one_organization_and_same_entities() {
    let snapshot = sample(testing::organization(&OrgKnobs::default()), 1).remove(0);
    let knobs = ChangeKnobs {
        len: 5..=5,
        kinds: vec![ChangeKind::DeletePolicy],
        same_entities: 1.0,
        ..ChangeKnobs::default()
    };
    for specs in sample(testing::changes(&snapshot, &knobs), 50) {
        assert_eq!(specs.len(), 5);
        assert!(specs.windows(2).all(|w| w[0] == w[1]), "{specs:?}");
    }
}

#[test]
fn checkers_find_what_is_wrong() {
    // A snapshot and a doctored "after": the engine is right, so the checkers hold; they must
    // report a violation when handed something that is not the organization they check.
    let snapshot = Snapshot::from_json_str(
        r#"{"format": "iamsim.snapshot.v1", "organization": {"id": "o"},
            "users": [{"id": "u", "email": "u@x", "policies": ["p"]}],
            "groups": [{"id": "g", "display_name": "G", "members": ["u"], "policies": ["p"]}],
            "roles": [],
            "policies": [{"id": "p", "name": "p", "policy_document": {"Statement":
              {"Effect": "Allow", "Action": "compute.instance.Read", "Resource": "*"}}}]}"#,
    )
    .unwrap();
    let catalogue = testing::catalogue();
    let org = Org::compile(&snapshot, &catalogue).unwrap();
    assert_eq!(
        testing::check_effective(&org, &snapshot, &catalogue),
        Vec::<Violation>::new()
    );
    let remove = ChangeSpec::RemoveMember {
        group: "g".into(),
        user: "u".into(),
    };
    assert!(
        testing::check_changes(&org, &snapshot, &catalogue, std::slice::from_ref(&remove))
            .is_empty()
    );

    // The same organization checked against a snapshot where the user's direct policy is gone.
    let mut other = snapshot.clone();
    other.users[0].policies.clear();
    let found = testing::check_effective(&org, &other, &catalogue);
    assert!(
        found.len() == 1 && found[0].check == "effective" && found[0].message.contains("allowed"),
        "{found:?}"
    );
    assert!(found[0]
        .to_string()
        .starts_with("effective: user `u`: allowed"));
    // ...and its what-if: the reference now says the removal loses the grant; the engine keeps it.
    let found = testing::check_what_if(&org, &other, &catalogue, std::slice::from_ref(&remove));
    assert!(
        !found.is_empty() && found.iter().all(|v| v.check == "what-if"),
        "{found:?}"
    );
    // A change that is not the removal of an edge is not for `check_removal`.
    let found = testing::check_removal(&org, &ChangeSpec::DeleteGroup { group: "g".into() });
    assert_eq!(found.len(), 1);
    assert!(found[0].message.contains("not the removal of one edge"));
    // A change naming nothing real is reported, not a panic.
    let found = testing::check_what_if(
        &org,
        &snapshot,
        &catalogue,
        &[ChangeSpec::DeleteGroup {
            group: "nope".into(),
        }],
    );
    assert!(found.len() == 1 && found[0].message.contains("does not resolve"));
}

#[test]
fn fuzz_engine_cases_are_deterministic_and_varied() {
    let a =
        testing::fuzz::engine_case(b"some bytes from a fuzzer, long enough to matter 0123456789");
    let b =
        testing::fuzz::engine_case(b"some bytes from a fuzzer, long enough to matter 0123456789");
    assert_eq!(a, b);
    let sizes: BTreeSet<(usize, usize, usize)> = (0u8..=255)
        .map(|i| {
            let bytes: Vec<u8> = (0..256)
                .map(|j| (j as u8).wrapping_mul(i).wrapping_add(i))
                .collect();
            let case = testing::fuzz::engine_case(&bytes).unwrap();
            (
                case.snapshot.users.len(),
                case.snapshot.policies.len(),
                case.changes.len(),
            )
        })
        .collect();
    assert!(sizes.len() > 10, "{sizes:?}");
    // No bytes at all: the smallest case, still checked.
    assert!(testing::fuzz::engine(&[]).is_empty());
}
