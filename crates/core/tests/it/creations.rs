//! Change sets that create entities: the snapshot with the created entities compiled once
//! (`Org::compile_changes`), the changes against it, and the reference applying the same set
//! as edits of a copy of the snapshot (`reference::with_created_entities` before,
//! `reference::apply_all` after). Then the exact answers on a tiny organization, and the
//! errors: an id that exists, a change naming what a later change creates.

use iamsim_core::report::FlatImpact;
use iamsim_core::testing::{check_rebuild, check_what_if, ChangeKnobs, OrgKnobs};
use iamsim_core::{
    parse_changes, reference, simulate_changes, testing, Catalogue, ChangeError, ChangeSetFailure,
    CompileOptions, Compiled, EntityKind, Org, SimulateOptions, Snapshot,
};
use proptest::prelude::*;
use serde_json::json;

use crate::common::{catalogue, config, show};

proptest! {
    #![proptest_config(config())]

    /// A set with creations (and later changes naming what they created) equals the reference
    /// judging the snapshot with the created entities before and the edited copy after, and
    /// equals compiling the edited copy.
    #[test]
    fn creations_agree_with_the_reference(
        testing::Case { snapshot, changes: specs } in testing::organization_and_changes(
            &OrgKnobs::default(),
            &ChangeKnobs::with_creations(),
        )
    ) {
        let catalogue = catalogue();
        let org = Org::compile_changes(&snapshot, &catalogue, &CompileOptions::default(), &specs)
            .map_err(|e| TestCaseError::fail(format!("{}: {e:?}", show(&snapshot, &specs))))?
            .org;
        let before = reference::with_created_entities(&snapshot, &specs);
        let mut violations = check_what_if(&org, &before, &catalogue, &specs);
        violations.extend(check_rebuild(&org, &before, &catalogue, &specs));
        prop_assert!(violations.is_empty(), "{}{violations:#?}", show(&snapshot, &specs));
    }
}

/// Found by the property above: a created trust deleted twice. The second delete names what
/// the first deleted, and the checker expects that error, as it does for the snapshot's own
/// entities.
#[test]
fn deleting_a_created_trust_twice_is_the_deleted_error() {
    let snapshot = Snapshot::from_json_str(
        r#"{"format": "iamsim.snapshot.v1", "organization": {"id": "org"},
            "users": [{"id": "u0", "email": "u0@x.example"}], "groups": [],
            "roles": [{"id": "r1", "name": "role 1", "role_type": "assumable"}],
            "policies": [], "role_trusts": []}"#,
    )
    .unwrap();
    let specs = parse_changes(
        r#"[{"kind": "create_role_trust", "id": "new-trust-0", "role": "r1", "user": "u0",
             "trust_type": "IAMAssumption"},
            {"kind": "delete_role_trust", "trust": "new-trust-0"},
            {"kind": "delete_role_trust", "trust": "new-trust-0"}]"#,
    )
    .unwrap();
    let catalogue = catalogue();
    let org = Org::compile_changes(&snapshot, &catalogue, &CompileOptions::default(), &specs)
        .unwrap()
        .org;
    let changes = org.resolve_all(&specs).unwrap();
    assert_eq!(
        org.simulate(&changes).unwrap_err(),
        ChangeError::Deleted {
            kind: EntityKind::Trust,
            id: "new-trust-0".to_string()
        }
    );
    let before = reference::with_created_entities(&snapshot, &specs);
    assert_eq!(check_what_if(&org, &before, &catalogue, &specs), vec![]);
}

#[test]
fn the_generator_creates_and_names_what_it_created() {
    use proptest::strategy::ValueTree;
    let strategy =
        testing::organization_and_changes(&OrgKnobs::default(), &ChangeKnobs::with_creations());
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let (mut creating, mut naming) = (0, 0);
    for _ in 0..400 {
        let specs = strategy.new_tree(&mut runner).unwrap().current().changes;
        let created: Vec<String> = specs
            .iter()
            .filter_map(|s| s.creates().map(|(_, id)| id.to_string()))
            .collect();
        creating += usize::from(!created.is_empty());
        naming += usize::from(specs.iter().any(|s| {
            s.creates().is_none() && {
                let text = serde_json::to_string(s).unwrap();
                created.iter().any(|id| text.contains(&format!("\"{id}\"")))
            }
        }));
    }
    assert!(creating > 100, "{creating} sets of 400 create something");
    assert!(naming > 20, "{naming} sets of 400 name what they created");
}

fn snapshot() -> Snapshot {
    Snapshot::from_json_str(
        &json!({
            "format": "iamsim.snapshot.v1",
            "organization": {"id": "org"},
            "users": [
                {"id": "u-ana", "email": "ana@x.example"},
                {"id": "u-ben", "email": "ben@x.example"}
            ],
            "groups": [{"id": "g-ops", "display_name": "Ops", "members": ["u-ben"]}],
            "roles": [{"id": "r-deploy", "name": "deployer", "role_type": "assumable",
                       "policies": ["p-compute"]}],
            "policies": [{"id": "p-compute", "name": "compute", "policy_document":
                {"Statement": {"Effect": "Allow", "Action": "compute.instance.*", "Resource": "*"}}}]
        })
        .to_string(),
    )
    .unwrap()
}

fn run(changes: serde_json::Value) -> Result<FlatImpact, ChangeSetFailure> {
    let specs = parse_changes(&changes.to_string()).unwrap();
    simulate_changes(
        &snapshot(),
        &Catalogue::bundled(),
        &CompileOptions::default(),
        &specs,
        &SimulateOptions::default(),
    )
    .map(|impact| impact.flatten())
}

/// Each reported user: id, number gained, assumable roles gained (by trust).
fn gains(impact: &FlatImpact) -> Vec<(String, usize, Vec<String>)> {
    impact
        .users
        .iter()
        .map(|u| {
            let trusts = u
                .assumable_gained
                .iter()
                .map(|a| a.trust.id.clone())
                .collect();
            (u.user.id.to_string(), u.gained.len(), trusts)
        })
        .collect()
}

#[test]
fn a_created_group_with_a_policy_and_a_member() {
    let impact = run(json!([
        {"kind": "create_group", "id": "tf.eng", "name": "Engineering"},
        {"kind": "attach_policy", "policy": "p-compute", "group": "tf.eng"},
        {"kind": "add_member", "group": "Engineering", "user": "u-ana"}
    ]))
    .unwrap();
    let kinds: Vec<String> = impact.changes.iter().map(|c| c.describe()).collect();
    assert_eq!(
        kinds,
        [
            "create group Engineering (tf.eng)",
            "attach policy compute (p-compute) to group Engineering (tf.eng)",
            "add ana@x.example to group Engineering (tf.eng)"
        ]
    );
    let gained = &impact.users[0].gained;
    assert_eq!(impact.users.len(), 1);
    assert!(gained
        .iter()
        .all(|e| e.action.starts_with("compute.instance.")));
    assert!(!gained.is_empty());
}

#[test]
fn a_created_user_is_reached_with_nothing_before() {
    let impact = run(json!([
        {"kind": "create_user", "id": "tf.cy", "email": "cy@x.example"},
        {"kind": "add_member", "group": "g-ops", "user": "tf.cy"}
    ]))
    .unwrap();
    // Ops grants nothing: the created user is reported (named), with nothing gained.
    assert_eq!(gains(&impact), [("tf.cy".to_string(), 0, vec![])]);
    let impact = run(json!([
        {"kind": "create_user", "id": "tf.cy", "email": "cy@x.example"},
        {"kind": "attach_policy", "policy": "p-compute", "user": "tf.cy"}
    ]))
    .unwrap();
    assert_eq!(&*impact.users[0].user.id, "tf.cy");
    assert!(impact.users[0].lost.is_empty() && !impact.users[0].gained.is_empty());
}

#[test]
fn a_created_trust_makes_the_role_assumable_and_a_deleted_one_undoes_it() {
    let created = run(json!([
        {"kind": "create_role_trust", "id": "tf.t", "role": "r-deploy", "group": "Ops",
         "trust_type": "IAMAssumption", "conditions": {"ip_address": ["10.0.0.0/8"]}}
    ]))
    .unwrap();
    assert_eq!(
        gains(&created),
        [("u-ben".to_string(), 0, vec!["tf.t".to_string()])]
    );
    assert_eq!(
        created.changes[0].describe(),
        "create trust tf.t for role deployer (r-deploy)"
    );
    // A trust on a created role for a created user, both named by placeholder.
    let on_created = run(json!([
        {"kind": "create_role", "id": "tf.r", "name": "r", "role_type": "assumable"},
        {"kind": "attach_policy", "policy": "p-compute", "role": "tf.r"},
        {"kind": "create_user", "id": "tf.u", "email": "u@x.example"},
        {"kind": "create_role_trust", "id": "tf.t", "role": "tf.r", "user": "tf.u"}
    ]))
    .unwrap();
    assert_eq!(
        gains(&on_created),
        [("tf.u".to_string(), 0, vec!["tf.t".to_string()])]
    );
    // Created, then deleted in the same set: nobody gains.
    let undone = run(json!([
        {"kind": "create_role_trust", "id": "tf.t", "role": "r-deploy", "user": "u-ana"},
        {"kind": "delete_role_trust", "trust": "tf.t"}
    ]))
    .unwrap();
    assert!(undone.users.iter().all(|u| u.gained.is_empty()));
    assert!(undone.users.iter().all(|u| u.assumable_gained.is_empty()));
}

#[test]
fn creation_errors_name_the_change() {
    let error = |changes: serde_json::Value| -> (Option<usize>, String) {
        let e = run(changes).unwrap_err();
        (e.index(), e.reason())
    };
    assert_eq!(
        error(json!([{"kind": "create_group", "id": "g-ops", "name": "Ops again"}])),
        (Some(0), "group `g-ops` already exists".to_string())
    );
    assert_eq!(
        error(json!([
            {"kind": "create_policy", "id": "tf.p", "name": "p", "policy_document":
                {"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}},
            {"kind": "create_policy", "id": "tf.p", "name": "p", "policy_document":
                {"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}}
        ])),
        (Some(1), "policy `tf.p` already exists".to_string())
    );
    assert_eq!(
        error(json!([
            {"kind": "add_member", "group": "tf.g", "user": "u-ana"},
            {"kind": "create_group", "id": "tf.g", "name": "G"}
        ])),
        (
            Some(0),
            "group `tf.g` does not exist yet: a later change creates it".to_string()
        )
    );
    assert_eq!(
        error(json!([
            {"kind": "create_role_trust", "id": "tf.t", "role": "tf.r", "user": "u-ana"},
            {"kind": "create_role", "id": "tf.r", "name": "r", "role_type": "assumable"}
        ])),
        (
            Some(0),
            "role `tf.r` does not exist yet: a later change creates it".to_string()
        )
    );
    assert_eq!(
        error(json!([
            {"kind": "create_role", "id": "tf.r", "name": "r", "role_type": "assignable"},
            {"kind": "create_role_trust", "id": "tf.t", "role": "tf.r", "user": "u-ana"}
        ])),
        (
            Some(1),
            "role `tf.r` is assignable: only an assumable role can be trusted".to_string()
        )
    );
    assert_eq!(
        error(json!([{"kind": "create_role_trust", "id": "tf.t", "role": "r-deploy"}])),
        (
            Some(0),
            "role trust `tf.t`: name exactly one of `user`, `group`".to_string()
        )
    );
    assert_eq!(
        error(json!([{"kind": "create_role_trust", "id": "tf.t", "role": "r-deploy", "user": "nobody"}])).0,
        Some(0)
    );
    let (index, reason) = error(json!([
        {"kind": "create_policy", "id": "tf.p", "name": "p", "policy_document":
            {"Statement": {"Effect": "Maybe", "Action": "*", "Resource": "*"}}}
    ]));
    assert_eq!(index, Some(0));
    assert!(
        reason.starts_with("policy `tf.p` new document statement 0"),
        "{reason}"
    );
}

#[test]
fn creating_on_an_organization_without_the_entity_is_refused() {
    // A creation resolved against an organization compiled without it names an existing
    // entity (an error) or nothing (a lookup error).
    let org = Org::compile(&snapshot(), &Catalogue::bundled()).unwrap();
    let specs =
        parse_changes(r#"[{"kind": "create_user", "id": "u-ana", "email": "a@b"}]"#).unwrap();
    let changes = org.resolve_all(&specs).unwrap();
    assert_eq!(
        org.check_all(&changes, &iamsim_core::SimulateOptions::default())
            .unwrap_err()
            .source,
        ChangeError::Exists {
            kind: EntityKind::User,
            id: "u-ana".to_string()
        }
    );
}

#[test]
fn without_creations_nothing_is_copied() {
    let snapshot = snapshot();
    let specs =
        parse_changes(r#"[{"kind": "remove_member", "group": "g-ops", "user": "u-ben"}]"#).unwrap();
    assert!(matches!(
        iamsim_core::with_created(&snapshot, &specs).unwrap(),
        std::borrow::Cow::Borrowed(_)
    ));
    let Compiled { org, changes, .. } = Org::compile_changes(
        &snapshot,
        &Catalogue::bundled(),
        &CompileOptions::default(),
        &specs,
    )
    .unwrap();
    let plain = Org::compile(&snapshot, &Catalogue::bundled()).unwrap();
    assert_eq!(
        org.simulate(&changes).unwrap(),
        plain.simulate(&plain.resolve_all(&specs).unwrap()).unwrap()
    );
}

/// Every Terraform plan fixture of the CLI's tests, mapped against the demo organization: the
/// impact of the changes it maps to equals the reference applying the same edits to a copy of
/// the snapshot, and equals compiling the edited snapshot.
#[test]
fn terraform_fixtures_give_the_impact_of_the_edited_snapshot() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let demo = std::fs::read(format!("{root}/crates/cli/demo.json")).unwrap();
    let demo = Snapshot::from_json_bytes(&demo).unwrap();
    let catalogue = Catalogue::bundled();
    let mut names: Vec<String> = std::fs::read_dir(format!("{root}/tests/data/terraform"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".json") && !n.ends_with(".changes.json"))
        .collect();
    names.sort();
    let mut checked = Vec::new();
    for name in &names {
        let bytes = std::fs::read(format!("{root}/tests/data/terraform/{name}")).unwrap();
        let Ok(mapped) = iamsim_core::terraform::plan_changes(&bytes, Some(&demo)) else {
            continue; // A fixture of a plan that cannot be read.
        };
        let specs = mapped.specs();
        if specs.is_empty() {
            continue;
        }
        let org = Org::compile_changes(&demo, &catalogue, &CompileOptions::default(), &specs)
            .unwrap()
            .org;
        let before = reference::with_created_entities(&demo, &specs);
        let mut violations = check_what_if(&org, &before, &catalogue, &specs);
        violations.extend(check_rebuild(&org, &before, &catalogue, &specs));
        assert!(violations.is_empty(), "{name}: {violations:#?}");
        checked.push(name.as_str());
    }
    for expected in [
        "create-group.json",
        "create-trust.json",
        "create-user.json",
        "creates.json",
        "update-trust.json",
    ] {
        assert!(
            checked.contains(&expected),
            "{expected} not checked: {checked:?}"
        );
    }
}
