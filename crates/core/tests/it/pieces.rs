//! Small public pieces the CLI leans on, checked directly (the CLI's own tests cover them end
//! to end, but only through the binary): what a gate pattern reaches, and the text forms of
//! effects and patterns. Added for mutants that the engine's tests let through.

use iamsim_core::policy::{ActionPattern, Effect, ResourcePattern};
use iamsim_core::query::pattern_reaches;
use iamsim_core::{Catalogue, Org, Snapshot};

const UNIVERSE: &[&str] = &[
    "*",
    "compute.*",
    "compute.instance.*",
    "compute.instance.Create",
    "compute.instance.Read",
    "network.*",
];

fn p(text: &str) -> ActionPattern {
    ActionPattern::parse(text).unwrap()
}

#[test]
fn what_a_gate_pattern_reaches() {
    let universe: Vec<ActionPattern> = UNIVERSE.iter().map(|a| p(a)).collect();
    let cases = [
        // A pattern reaches what it covers...
        ("compute.instance.Create", "compute.instance.Create", true),
        ("compute.*", "compute.instance.Read", true),
        ("compute.*", "compute.instance.*", true),
        ("*", "network.*", true),
        // ...and the narrowest wildcard element standing for it, when no element names it.
        ("compute.instance.Delete", "compute.instance.*", true),
        ("compute.widget.Make", "compute.*", true),
        ("storage.bucket.Make", "*", true),
        ("network.dns.Create", "network.*", true),
        // Not a broader wildcard, nor one standing for other actions.
        ("compute.instance.Delete", "compute.*", false),
        ("compute.instance.Delete", "*", false),
        ("compute.instance.Create", "compute.instance.*", false),
        ("compute.*", "network.*", false),
        ("compute.instance.*", "compute.*", false),
        ("network.dns.Create", "compute.instance.Create", false),
    ];
    for (pattern, element, expected) in cases {
        assert_eq!(
            pattern_reaches(&p(pattern), &p(element), universe.iter()),
            expected,
            "{pattern} reaches {element}"
        );
    }
}

#[test]
fn an_organization_reaches_over_its_own_universe() {
    let snapshot = Snapshot::from_json_str(
        r#"{"format": "iamsim.snapshot.v1", "organization": {"id": "o"}, "users": [], "groups": [], "roles": [],
            "policies": [{"id": "p", "name": "p", "policy_document": {"Statement": [
              {"Effect": "Allow", "Action": ["compute.*", "compute.instance.*", "network.*"], "Resource": "*"}]}}]}"#,
    )
    .unwrap();
    let catalogue = Catalogue::parse("compute.instance.Create\ncompute.instance.Read\n").unwrap();
    let org = Org::compile(&snapshot, &catalogue).unwrap();
    assert!(org.reaches(&p("compute.instance.Delete"), "compute.instance.*"));
    assert!(!org.reaches(&p("compute.instance.Delete"), "compute.*"));
    assert!(org.reaches(&p("compute.*"), "compute.instance.Read"));
    assert!(!org.reaches(&p("network.*"), "compute.instance.Read"));
    // An element that is not a pattern reaches nothing.
    assert!(!org.reaches(&p("*"), "not a pattern"));
}

#[test]
fn text_forms() {
    assert_eq!(Effect::Allow.to_string(), "Allow");
    assert_eq!(Effect::Deny.to_string(), "Deny");
    for text in ["*", "registry:*", "i-1"] {
        assert_eq!(ResourcePattern::parse(text).unwrap().as_str(), text);
        assert_eq!(ResourcePattern::parse(text).unwrap().to_string(), text);
    }
    for text in UNIVERSE {
        assert_eq!(p(text).as_str(), *text);
        assert_eq!(p(text).to_string(), *text);
    }
    assert_eq!(ResourcePattern::any().as_str(), "*");
}

const TWO_USERS: &str = r#"{"format": "iamsim.snapshot.v1",
    "organization": {"id": "org-7", "name": "Seven", "root_user_id": "u-2"},
    "users": [{"id": "u-1", "email": "ana@x.example", "roles": ["r-std", "r-break"]},
              {"id": "u-2", "email": "bo@x.example"}],
    "groups": [{"id": "g-1", "display_name": "Ops", "members": ["u-1"]}],
    "roles": [{"id": "r-std", "name": "std", "role_type": "assignable"},
              {"id": "r-break", "name": "break-glass", "role_type": "assumable"}],
    "policies": []}"#;

/// The accessors the CLI prints from: the organization's id, name and counts, membership and
/// root.
#[test]
fn organization_accessors() {
    let org = Org::compile(
        &Snapshot::from_json_str(TWO_USERS).unwrap(),
        &Catalogue::bundled(),
    )
    .unwrap();
    assert_eq!((org.id(), org.name()), ("org-7", "Seven"));
    let counts = org.counts();
    assert_eq!(
        (counts.users, counts.groups, counts.roles, counts.policies),
        (2, 1, 2, 0)
    );
    let (ana, bo) = (org.find_user("u-1").unwrap(), org.find_user("u-2").unwrap());
    let ops = org.find_group("Ops").unwrap();
    assert!(org.is_member(ana, ops) && !org.is_member(bo, ops));
    assert!(org.is_root(bo) && !org.is_root(ana));
}

/// A name that matches nothing is answered with candidates whose id or name contains it,
/// ignoring case; an assumable role attached directly is reported at its own index.
#[test]
fn lookup_candidates_and_diagnostic_paths() {
    let org = Org::compile(
        &Snapshot::from_json_str(TWO_USERS).unwrap(),
        &Catalogue::bundled(),
    )
    .unwrap();
    match org.find_user("ANA") {
        Err(iamsim_core::LookupError::NotFound { candidates, .. }) => {
            assert_eq!(candidates, vec!["`u-1` (ana@x.example)".to_string()]);
        }
        other => panic!("{other:?}"),
    }
    // A candidate may match by id alone or by name alone.
    for (query, candidate) in [("OP", "`g-1` (Ops)"), ("G-", "`g-1` (Ops)")] {
        match org.find_group(query) {
            Err(iamsim_core::LookupError::NotFound { candidates, .. }) => {
                assert_eq!(candidates, vec![candidate.to_string()], "{query}");
            }
            other => panic!("{query}: {other:?}"),
        }
    }
    let paths: Vec<&str> = org
        .diagnostics()
        .iter()
        .filter(|d| d.code == "assumable-role-attached")
        .map(|d| d.path.as_str())
        .collect();
    assert_eq!(paths, vec!["users[0].roles[1]"]);
    // A diagnostic reads as one line: where, what, and its code.
    let shown = org
        .diagnostics()
        .iter()
        .find(|d| d.code == "assumable-role-attached")
        .unwrap()
        .to_string();
    assert!(
        shown.starts_with("users[0].roles[1]: ") && shown.ends_with(" [assumable-role-attached]"),
        "{shown}"
    );
}

/// "Did you mean" is offered for a case typo of a catalogue action, not for any action that
/// merely starts like one.
#[test]
fn unknown_action_suggestions() {
    let suggestion = |action: &str| {
        let text = format!(
            r#"{{"format": "iamsim.snapshot.v1", "organization": {{"id": "o"}},
                "users": [], "groups": [], "roles": [],
                "policies": [{{"id": "p", "name": "p", "policy_document": {{"Statement":
                  {{"Effect": "Allow", "Action": "{action}", "Resource": "*"}}}}}}]}}"#
        );
        let org = Org::compile(
            &Snapshot::from_json_str(&text).unwrap(),
            &iamsim_core::testing::catalogue(),
        )
        .unwrap();
        let unknown: Vec<String> = org
            .diagnostics()
            .iter()
            .filter(|d| d.code == "unknown-action")
            .map(|d| d.message.clone())
            .collect();
        assert_eq!(unknown.len(), 1, "{action}: {unknown:?}");
        unknown[0].contains("did you mean")
    };
    assert!(suggestion("compute.instance.read"));
    assert!(!suggestion("compute.instance.Readx"));
    assert!(!suggestion("compute.gizmo.Spin"));
}

/// The reference oracle's own corners, which the differential properties reach rarely: the
/// root user's path names the root user, and a change may name entities by name as well as id.
#[test]
fn reference_root_path_and_names() {
    use iamsim_core::reference;
    let snapshot = Snapshot::from_json_str(TWO_USERS).unwrap();
    // u-2 is root, and second: a lookup that took the first other user would name u-1.
    let (allow, deny) = reference::decide(&snapshot, "u-2", "compute.instance.Create", "*");
    assert!(deny.is_empty());
    let first_steps: Vec<_> = allow.iter().map(|p| p[0].id()).collect();
    assert_eq!(first_steps, vec![Some("u-2")]);
    // Named by display name and by email; `Ops` is not the first group, so a lookup that
    // took the first non-matching name would pick the wrong one.
    let text = TWO_USERS.replace(
        r#""groups": [{"id": "g-1", "display_name": "Ops", "members": ["u-1"]}]"#,
        r#""groups": [{"id": "g-0", "display_name": "Dev", "members": []},
                      {"id": "g-1", "display_name": "Ops", "members": ["u-1"]}]"#,
    );
    let snapshot = Snapshot::from_json_str(&text).unwrap();
    let after = reference::apply(
        &snapshot,
        &iamsim_core::ChangeSpec::AddMember {
            group: "Ops".into(),
            user: "bo@x.example".into(),
        },
    );
    let members = |s: &Snapshot, id: &str| {
        s.groups
            .iter()
            .find(|g| g.id == id)
            .map(|g| g.members.clone())
            .unwrap()
    };
    assert_eq!(members(&after, "g-1"), vec!["u-1", "u-2"]);
    assert!(members(&after, "g-0").is_empty());
}

/// Exact ids, emails and names are hash lookups (issue 10 §5): on a generated organization,
/// each finds its own entity, emails ignoring ASCII case and names ignoring case.
#[test]
fn exact_lookups_find_the_right_key() {
    use iamsim_core::generate::{snapshot, Params};
    let snapshot = snapshot(&Params::broad(2_000, 9));
    let org = Org::compile(&snapshot, &Catalogue::bundled()).unwrap();
    for (i, user) in snapshot.users.iter().enumerate() {
        for query in [
            user.id.clone(),
            user.email.clone(),
            user.email.to_uppercase(),
        ] {
            let key = org.find_user(&query).unwrap();
            assert_eq!(org.user_id(key), user.id, "{query}");
            assert_eq!(org.users().nth(i), Some(key));
        }
    }
    for group in &snapshot.groups {
        for query in [
            &group.id,
            &group.display_name,
            &group.display_name.to_uppercase(),
        ] {
            let key = org.find_group(query).unwrap();
            assert_eq!(org.group_id(key), group.id, "{query}");
        }
    }
    for role in &snapshot.roles {
        for query in [&role.id, &role.name, &role.name.to_uppercase()] {
            assert_eq!(
                org.role_id(org.find_role(query).unwrap()),
                role.id,
                "{query}"
            );
        }
    }
    for policy in &snapshot.policies {
        for query in [&policy.id, &policy.name, &policy.name.to_uppercase()] {
            let key = org.find_policy(query).unwrap();
            assert_eq!(org.policy_id(key), policy.id, "{query}");
        }
    }
    assert!(!snapshot.role_trusts.is_empty());
    for (i, trust) in snapshot.role_trusts.iter().enumerate() {
        let key = org.find_trust(&trust.id).unwrap();
        assert_eq!(org.find_trust(&trust.id.to_uppercase()).unwrap(), key);
        assert_eq!(format!("{key:?}"), format!("TrustKey({i})"));
    }
}

/// The fast path answers what the scan answered: an id and another entity's email or name
/// match together (ambiguous, candidates in snapshot order); an exact name wins over a name
/// that matches ignoring case; names ignore Unicode case, emails only ASCII case.
#[test]
fn lookups_keep_their_ambiguities() {
    let org = Org::compile(
        &Snapshot::from_json_str(
            r#"{"format": "iamsim.snapshot.v1", "organization": {"id": "o"},
            "users": [{"id": "u1", "email": "ana@x.example"}, {"id": "ana@x.example", "email": "b@x.example"},
                      {"id": "u3", "email": "Élan@x.example"}],
            "groups": [{"id": "g1", "display_name": "g2"}, {"id": "g2", "display_name": "Ops"},
                       {"id": "g3", "display_name": "ops"}, {"id": "g4", "display_name": "ÉQUIPE"}],
            "roles": [], "policies": []}"#,
        )
        .unwrap(),
        &Catalogue::bundled(),
    )
    .unwrap();
    let user = |query: &str| {
        org.find_user(query)
            .map(|k| org.user_id(k).to_string())
            .map_err(|e| e.to_string())
    };
    let group = |query: &str| {
        org.find_group(query)
            .map(|k| org.group_id(k).to_string())
            .map_err(|e| e.to_string())
    };
    let cases: [(&str, Result<String, String>); 5] = [
        (
            "ana@x.example",
            Err("`ana@x.example` matches several users; candidates: `u1` (ana@x.example), `ana@x.example` (b@x.example)".into()),
        ),
        ("B@X.EXAMPLE", Ok("ana@x.example".into())),
        ("Élan@X.example", Ok("u3".into())),
        (
            "élan@x.example",
            Err("no user matches `élan@x.example`; candidates: `u3` (Élan@x.example)".into()),
        ),
        ("u1", Ok("u1".into())),
    ];
    for (query, expected) in cases {
        assert_eq!(user(query), expected, "{query}");
    }
    let cases: [(&str, Result<String, String>); 5] = [
        (
            "g2",
            Err("`g2` matches several groups; candidates: `g1` (g2), `g2` (Ops)".into()),
        ),
        ("Ops", Ok("g2".into())),
        ("ops", Ok("g3".into())),
        (
            "OPS",
            Err("`OPS` matches several groups; candidates: `g2` (Ops), `g3` (ops)".into()),
        ),
        ("équipe", Ok("g4".into())),
    ];
    for (query, expected) in cases {
        assert_eq!(group(query), expected, "{query}");
    }
}

/// Keys belong to the organization that made them: another organization, even one compiled
/// from the same snapshot (where the same position is the same entity), refuses them with a
/// panic naming the mistake, rather than answering for whatever sits at that position. A clone
/// keeps its organization's keys.
#[test]
fn a_key_of_another_organization_is_refused() {
    use iamsim_core::Change;
    use std::panic::{catch_unwind, AssertUnwindSafe};

    let snapshot = Snapshot::from_json_str(
        r#"{
          "format": "iamsim.snapshot.v1", "organization": {"id": "org-1", "name": "Acme"},
          "users": [{"id": "u-ana", "email": "ana@example.com"}],
          "groups": [{"id": "g-ops", "display_name": "Ops", "members": ["u-ana"],
                      "policies": ["p-read"]}],
          "roles": [{"id": "r-ops", "name": "ops", "role_type": "assignable"}],
          "policies": [{"id": "p-read", "name": "read", "policy_document": {"Statement":
            {"Effect": "Allow", "Action": "compute.instance.Read", "Resource": "*"}}}]
        }"#,
    )
    .unwrap();
    let org = Org::compile(&snapshot, &Catalogue::bundled()).unwrap();
    let other = Org::compile(&snapshot, &Catalogue::bundled()).unwrap();
    let ana = org.find_user("u-ana").unwrap();
    let ops = org.find_group("Ops").unwrap();
    let role = org.find_role("ops").unwrap();
    let policy = org.find_policy("read").unwrap();
    let remove = [Change::RemoveMember {
        group: ops,
        user: ana,
    }];

    // Its own organization, and a clone of it, answer.
    let clone = org.clone();
    for org in [&org, &clone] {
        assert_eq!(org.user_id(ana), "u-ana");
        assert!(org.is_member(ana, ops));
        assert_eq!(org.simulate(&remove).unwrap().users.len(), 1);
    }
    assert_eq!(
        other.users().next(),
        Some(other.find_user("u-ana").unwrap())
    );
    assert_ne!(other.users().next(), Some(ana));

    // Another one refuses, whatever the method.
    type Call<'a> = Box<dyn Fn() + 'a>;
    let refusals: Vec<(&str, Call)> = vec![
        (
            "UserKey",
            Box::new(|| {
                let _ = other.user_id(ana);
            }),
        ),
        (
            "UserKey",
            Box::new(|| {
                let _ = other.effective(ana);
            }),
        ),
        (
            "UserKey",
            Box::new(|| {
                let _ = other.explain(ana, "*", "*");
            }),
        ),
        (
            "UserKey",
            Box::new(|| {
                let first = other.elements().next().expect("a universe").0;
                let _ = other.access_matrix().allowed(ana, first);
            }),
        ),
        (
            "GroupKey",
            Box::new(|| {
                let _ = other.group_id(ops);
            }),
        ),
        (
            "RoleKey",
            Box::new(|| {
                let _ = other.role_id(role);
            }),
        ),
        (
            "PolicyKey",
            Box::new(|| {
                let _ = other.policy_id(policy);
            }),
        ),
        (
            "UserKey",
            Box::new(|| {
                let _ = other.simulate(&remove);
            }),
        ),
        (
            "UserKey",
            Box::new(|| {
                let _ = other.check_all(&remove, &iamsim_core::SimulateOptions::default());
            }),
        ),
    ];
    for (i, (kind, call)) in refusals.iter().enumerate() {
        let panic = catch_unwind(AssertUnwindSafe(call))
            .err()
            .unwrap_or_else(|| panic!("call {i} answered for a foreign key"));
        let message = panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .unwrap_or_default();
        assert_eq!(
            message,
            format!(
                "a `{kind}` of another organization: keys are valid only for the `Org` that made them"
            ),
            "call {i}"
        );
    }
}

/// The organization's adjacency, both ways, as the snapshot lists it: dangling ids and repeats
/// dropped, assumable roles listed, members and holders in snapshot order.
#[test]
fn adjacency_both_ways() {
    let snapshot = Snapshot::from_json_str(
        r#"{
          "format": "iamsim.snapshot.v1", "organization": {"id": "org-1", "name": "Acme"},
          "users": [
            {"id": "u-ana", "email": "ana@example.com", "policies": ["p-b", "p-a"], "roles": ["r-admin"]},
            {"id": "u-ben", "email": "ben@example.com", "policies": ["p-a", "p-gone", "p-a"]},
            {"id": "u-cy", "email": "cy@example.com"}
          ],
          "groups": [
            {"id": "g-ops", "display_name": "Ops", "members": ["u-ben", "u-ana", "u-nobody"],
             "policies": ["p-a"], "roles": ["r-admin", "r-break-glass"]},
            {"id": "g-dev", "display_name": "Dev", "members": ["u-ana"]}
          ],
          "roles": [
            {"id": "r-admin", "name": "admin", "role_type": "assignable", "policies": ["p-b"]},
            {"id": "r-break-glass", "name": "break glass", "role_type": "assumable", "policies": ["p-a"]}
          ],
          "policies": [
            {"id": "p-a", "name": "a", "policy_document": {"Statement":
              {"Effect": "Allow", "Action": "compute.instance.Read", "Resource": "*"}}},
            {"id": "p-b", "name": "b", "policy_document": {"Statement":
              {"Effect": "Allow", "Action": "compute.instance.Create", "Resource": "*"}}}
          ],
          "role_trusts": [
            {"id": "t-1", "role_id": "r-break-glass", "trust_type": "user", "trusted_user_id": "u-cy"},
            {"id": "t-2", "role_id": "r-break-glass", "trust_type": "group", "trusted_group_id": "g-dev"}
          ]
        }"#,
    )
    .unwrap();
    use iamsim_core::{GroupKey, PolicyKey, RoleKey, TrustKey, UserKey};

    let org = Org::compile(&snapshot, &Catalogue::bundled()).unwrap();
    let ids = |keys: Vec<&str>| keys.join(" ");
    let users = |keys: Vec<UserKey>| ids(keys.into_iter().map(|k| org.user_id(k)).collect());
    let groups = |keys: Vec<GroupKey>| ids(keys.into_iter().map(|k| org.group_id(k)).collect());
    let roles = |keys: Vec<RoleKey>| ids(keys.into_iter().map(|k| org.role_id(k)).collect());
    let policies = |keys: Vec<PolicyKey>| ids(keys.into_iter().map(|k| org.policy_id(k)).collect());
    let trusts = |keys: Vec<TrustKey>| ids(keys.into_iter().map(|k| org.trust_id(k)).collect());

    assert_eq!(users(org.users().collect()), "u-ana u-ben u-cy");
    assert_eq!(groups(org.groups().collect()), "g-ops g-dev");
    assert_eq!(roles(org.roles().collect()), "r-admin r-break-glass");
    assert_eq!(policies(org.policies().collect()), "p-a p-b");
    assert_eq!(trusts(org.trusts().collect()), "t-1 t-2");

    let user = |id| org.find_user(id).unwrap();
    for (id, in_groups, with_roles, with_policies, named_by) in [
        ("u-ana", "g-ops g-dev", "r-admin", "p-b p-a", ""),
        ("u-ben", "g-ops", "", "p-a", ""),
        ("u-cy", "", "", "", "t-1"),
    ] {
        assert_eq!(
            groups(org.user_groups(user(id)).collect()),
            in_groups,
            "{id}"
        );
        assert_eq!(
            roles(org.user_roles(user(id)).collect()),
            with_roles,
            "{id}"
        );
        assert_eq!(
            policies(org.user_policies(user(id)).collect()),
            with_policies,
            "{id}"
        );
        assert_eq!(
            trusts(org.user_trusts(user(id)).collect()),
            named_by,
            "{id}"
        );
    }
    let group = |id| org.find_group(id).unwrap();
    for (id, members, with_roles, with_policies, named_by, name) in [
        (
            "g-ops",
            "u-ana u-ben",
            "r-admin r-break-glass",
            "p-a",
            "",
            "Ops",
        ),
        ("g-dev", "u-ana", "", "", "t-2", "Dev"),
    ] {
        assert_eq!(
            users(org.group_members(group(id)).collect()),
            members,
            "{id}"
        );
        assert_eq!(
            roles(org.group_roles(group(id)).collect()),
            with_roles,
            "{id}"
        );
        assert_eq!(
            policies(org.group_policies(group(id)).collect()),
            with_policies,
            "{id}"
        );
        assert_eq!(
            trusts(org.group_trusts(group(id)).collect()),
            named_by,
            "{id}"
        );
        assert_eq!(org.group_name(group(id)), name);
    }
    let role = |id| org.find_role(id).unwrap();
    for (id, holders, in_groups, with_policies, assignable) in [
        ("r-admin", "u-ana", "g-ops", "p-b", true),
        ("r-break-glass", "", "g-ops", "p-a", false),
    ] {
        assert_eq!(users(org.role_users(role(id)).collect()), holders, "{id}");
        assert_eq!(
            groups(org.role_groups(role(id)).collect()),
            in_groups,
            "{id}"
        );
        assert_eq!(
            policies(org.role_policies(role(id)).collect()),
            with_policies,
            "{id}"
        );
        assert_eq!(org.role_assignable(role(id)), assignable, "{id}");
    }
    let policy = |id| org.find_policy(id).unwrap();
    for (id, holders, in_groups, in_roles) in [
        ("p-a", "u-ana u-ben", "g-ops", "r-break-glass"),
        ("p-b", "u-ana", "", "r-admin"),
    ] {
        assert_eq!(
            users(org.policy_users(policy(id)).collect()),
            holders,
            "{id}"
        );
        assert_eq!(
            groups(org.policy_groups(policy(id)).collect()),
            in_groups,
            "{id}"
        );
        assert_eq!(
            roles(org.policy_roles(policy(id)).collect()),
            in_roles,
            "{id}"
        );
    }
    assert_eq!(org.policy_name(policy("p-b")), "b");
    assert_eq!(org.role_name(role("r-break-glass")), "break glass");
    let t2 = org.find_trust("t-2").unwrap();
    assert_eq!(org.trust_role(t2), role("r-break-glass"));
}
