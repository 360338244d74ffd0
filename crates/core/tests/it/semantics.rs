//! One test per rule of docs/semantics.md. Each test body is data: a small organization, a
//! question, and the expected answer.

use iamsim_core::policy::{ActionPattern, ResourcePattern};
use iamsim_core::report::{Decision, Entry, Explanation, Path, StepKind};
use iamsim_core::{
    BuildError, Catalogue, Change, CompileOptions, Holder, Org, Precedence, Snapshot,
};
use serde_json::{json, Value};

const CATALOGUE: &str = "compute.instance.Create\ncompute.instance.Delete\ncompute.instance.Read\n\
                         account.billing.Read\nnetwork.dns.Create\ncontainer.registry.Push\n";

/// A snapshot from a few lines of JSON: `users`, `groups`, `roles`, `policies` default to empty.
fn snapshot(parts: Value) -> Snapshot {
    let mut doc = json!({
        "format": "iamsim.snapshot.v1",
        "organization": {"id": "org", "name": "Org"},
        "users": [], "groups": [], "roles": [], "policies": []
    });
    for (k, v) in parts.as_object().unwrap() {
        doc[k] = v.clone();
    }
    Snapshot::from_json_str(&doc.to_string()).unwrap()
}

fn compile(parts: Value) -> Org {
    Org::compile(&snapshot(parts), &Catalogue::parse(CATALOGUE).unwrap()).unwrap()
}

/// A policy with one statement.
fn policy(id: &str, effect: &str, actions: Value, resources: Value) -> Value {
    json!({"id": id, "name": id, "policy_document": {"Version": "2026-03-20",
        "Statement": [{"Effect": effect, "Action": actions, "Resource": resources}]}})
}

fn compile_as(parts: Value, precedence: Precedence) -> Org {
    let options = CompileOptions {
        precedence,
        ..Default::default()
    };
    Org::compile_with(
        &snapshot(parts),
        &Catalogue::parse(CATALOGUE).unwrap(),
        &options,
    )
    .unwrap()
}

/// Path texts: each path's steps after the user, as `kind:id` joined by `/`, statements as
/// `#index`.
fn texts(paths: &[Path]) -> Vec<String> {
    paths
        .iter()
        .map(|p| {
            p.iter()
                .skip(1)
                .map(|s| match s.kind() {
                    StepKind::Statement => format!("#{}", s.index().unwrap()),
                    _ => format!("{:?}:{}", s.kind(), s.id().unwrap()).to_lowercase(),
                })
                .collect::<Vec<_>>()
                .join("/")
        })
        .collect()
}

/// (action, resource, path texts) of entries.
fn flat(entries: &[Entry]) -> Vec<(String, String, Vec<String>)> {
    entries
        .iter()
        .map(|e| (e.action.clone(), e.resource.clone(), texts(&e.via)))
        .collect()
}

fn expect(entries: &[(&str, &str, &[&str])]) -> Vec<(String, String, Vec<String>)> {
    entries
        .iter()
        .map(|(a, r, p)| {
            (
                a.to_string(),
                r.to_string(),
                p.iter().map(|s| s.to_string()).collect(),
            )
        })
        .collect()
}

/// Checks a user's allowed and denied entries, paths included.
fn check(
    org: &Org,
    user: &str,
    allowed: &[(&str, &str, &[&str])],
    denied: &[(&str, &str, &[&str])],
) {
    let report = org.effective(org.find_user(user).unwrap());
    assert_eq!(flat(&report.allowed), expect(allowed), "allowed for {user}");
    assert_eq!(flat(&report.denied), expect(denied), "denied for {user}");
}

fn user(id: &str) -> Value {
    json!({"id": id, "email": format!("{id}@x.example")})
}

#[test]
fn union_of_all_paths() {
    let org = compile(json!({
        "users": [{"id": "u", "email": "u@x", "policies": ["p-direct"], "roles": ["r-user"]}],
        "groups": [{"id": "g", "display_name": "G", "members": ["u"], "policies": ["p-group"], "roles": ["r-group"]}],
        "roles": [
            {"id": "r-user", "name": "ru", "role_type": "assignable", "policies": ["p-role"]},
            {"id": "r-group", "name": "rg", "role_type": "assignable", "policies": ["p-group-role"]}
        ],
        "policies": [
            policy("p-direct", "Allow", json!("compute.instance.Read"), json!("*")),
            policy("p-role", "Allow", json!("compute.instance.Read"), json!("*")),
            policy("p-group", "Allow", json!(["compute.instance.Read", "account.billing.Read"]), json!("*")),
            policy("p-group-role", "Allow", json!("compute.instance.Read"), json!("*"))
        ]
    }));
    check(
        &org,
        "u",
        &[
            ("account.billing.Read", "*", &["group:g/policy:p-group/#0"]),
            (
                "compute.instance.Read",
                "*",
                &[
                    "policy:p-direct/#0",
                    "role:r-user/policy:p-role/#0",
                    "group:g/policy:p-group/#0",
                    "group:g/role:r-group/policy:p-group-role/#0",
                ],
            ),
        ],
        &[],
    );
}

#[test]
fn assumable_roles_give_no_standing_access() {
    let org = compile(json!({
        "users": [{"id": "u", "email": "u@x", "roles": ["r"]}],
        "roles": [{"id": "r", "name": "r", "role_type": "assumable", "policies": ["p"]}],
        "policies": [policy("p", "Allow", json!("*"), json!("*"))]
    }));
    check(&org, "u", &[], &[]);
    assert!(org
        .diagnostics()
        .iter()
        .any(|d| d.code == "assumable-role-attached" && d.path == "users[0].roles[0]"));
}

#[test]
fn default_deny() {
    let org = compile(json!({"users": [user("u")]}));
    check(&org, "u", &[], &[]);
    let u = org.find_user("u").unwrap();
    let e = org.explain(u, "compute.instance.Create", "*").unwrap();
    assert_eq!(e.decision, Decision::ImplicitDeny);
    assert!(e.allow.is_empty() && e.deny.is_empty());
}

#[test]
fn deny_overrides_allow() {
    let org = compile(json!({
        "users": [{"id": "u", "email": "u@x", "policies": ["allow"]}],
        "groups": [{"id": "g", "display_name": "G", "members": ["u"], "policies": ["deny"]}],
        "policies": [
            policy("allow", "Allow", json!("compute.instance.*"), json!("*")),
            policy("deny", "Deny", json!("compute.instance.Delete"), json!("*"))
        ]
    }));
    check(
        &org,
        "u",
        &[
            ("compute.instance.*", "*", &["policy:allow/#0"]),
            ("compute.instance.Create", "*", &["policy:allow/#0"]),
            ("compute.instance.Read", "*", &["policy:allow/#0"]),
        ],
        &[("compute.instance.Delete", "*", &["group:g/policy:deny/#0"])],
    );
    let e = org
        .explain(org.find_user("u").unwrap(), "compute.instance.Delete", "*")
        .unwrap();
    assert_eq!(e.decision, Decision::ExplicitDeny);
    assert_eq!(e.allow.len(), 1, "the overridden Allow is shown too");
}

/// User `u`, with role `r-u`, in group `g`, which has role `r-g`; policy `allow` (Allow
/// `compute.instance.Delete` on `*`) attached at `allow_at` and policy `deny` (the Deny) at
/// `deny_at`: `user` (distance 1), `role` or `group` (2), `group-role` (3).
fn allow_and_deny_at(allow_at: &str, deny_at: &str) -> Value {
    let mut parts = json!({
        "users": [{"id": "u", "email": "u@x", "roles": ["r-u"], "policies": []}],
        "groups": [{"id": "g", "display_name": "G", "members": ["u"], "roles": ["r-g"], "policies": []}],
        "roles": [
            {"id": "r-u", "name": "r-u", "role_type": "assignable", "policies": []},
            {"id": "r-g", "name": "r-g", "role_type": "assignable", "policies": []}
        ],
        "policies": [
            policy("allow", "Allow", json!("compute.instance.Delete"), json!("*")),
            policy("deny", "Deny", json!("compute.instance.Delete"), json!("*"))
        ]
    });
    for (policy, at) in [("allow", allow_at), ("deny", deny_at)] {
        let list = match at {
            "user" => &mut parts["users"][0]["policies"],
            "role" => &mut parts["roles"][0]["policies"],
            "group" => &mut parts["groups"][0]["policies"],
            "group-role" => &mut parts["roles"][1]["policies"],
            other => panic!("no attachment point `{other}`"),
        };
        list.as_array_mut().unwrap().push(json!(policy));
    }
    parts
}

/// One explanation in a line: the decision (`allowed`, `denied`), then each non-empty list of
/// paths (`allow`, `deny`, `overridden allow`, `overridden deny`), a path as the ids after the
/// user joined by `/` (every policy here has one statement).
fn summary(x: &Explanation) -> String {
    let mut parts = vec![match x.decision {
        Decision::Allowed => "allowed",
        Decision::ExplicitDeny => "denied",
        Decision::ImplicitDeny => "implicit",
    }
    .to_string()];
    let lists = [
        ("allow", &x.allow),
        ("deny", &x.deny),
        ("overridden allow", &x.overridden_allow),
        ("overridden deny", &x.overridden_deny),
    ];
    for (label, paths) in lists.into_iter().filter(|(_, p)| !p.is_empty()) {
        let ids: Vec<String> = paths
            .iter()
            .map(|p| {
                let ids: Vec<&str> = p[1..].iter().filter_map(|s| s.id()).collect();
                ids.join("/")
            })
            .collect();
        parts.push(format!("{label} {}", ids.join(" ")));
    }
    parts.join("; ")
}

/// Deny-wins and nearest-wins on an Allow and a Deny of `compute.instance.Delete` at two
/// attachment points (see `allow_and_deny_at`): `ALLOW-AT DENY-AT RULE => explanation`.
const PRECEDENCE_CASES: &[&str] = &[
    // A Deny on a direct policy against an Allow in a role (Q12), and vice versa.
    "role user deny-wins => denied; allow r-u/allow; deny deny",
    "role user nearest-wins => denied; deny deny; overridden allow r-u/allow",
    "user role deny-wins => denied; allow allow; deny r-u/deny",
    "user role nearest-wins => allowed; allow allow; overridden deny r-u/deny",
    // At the same distance a Deny still wins.
    "group role nearest-wins => denied; allow g/allow; deny r-u/deny",
    "group group nearest-wins => denied; allow g/allow; deny g/deny",
    // A group's own policy is nearer than its role's.
    "group group-role deny-wins => denied; allow g/allow; deny g/r-g/deny",
    "group group-role nearest-wins => allowed; allow g/allow; overridden deny g/r-g/deny",
    "group-role group nearest-wins => denied; deny g/deny; overridden allow g/r-g/allow",
    "group-role user nearest-wins => denied; deny deny; overridden allow g/r-g/allow",
];

/// Deny-wins and nearest-wins on each pair of attachment points: the decision and every path
/// from `explain`; `effective` and `decide` agree.
#[test]
fn precedence_deny_wins_or_nearest_wins() {
    for case in PRECEDENCE_CASES {
        let (setup, expected) = case.split_once(" => ").unwrap();
        let [allow_at, deny_at, rule] = setup.split(' ').collect::<Vec<_>>()[..] else {
            panic!("bad case `{case}`");
        };
        let rule = match rule {
            "deny-wins" => Precedence::DenyWins,
            "nearest-wins" => Precedence::NearestWins,
            other => panic!("no rule `{other}`"),
        };
        let org = compile_as(allow_and_deny_at(allow_at, deny_at), rule);
        assert_eq!(org.precedence(), rule);
        let u = org.find_user("u").unwrap();
        let x = org.explain(u, "compute.instance.Delete", "*").unwrap();
        assert_eq!(summary(&x), expected, "{setup}");
        let effective = org.effective(u);
        let (listed, via) = match x.decision {
            Decision::Allowed => (&effective.allowed, &x.allow),
            _ => (&effective.denied, &x.deny),
        };
        assert_eq!(listed.len(), 1, "{setup}");
        assert_eq!(&listed[0].via, via, "{setup}");
        let decided = org.decide(
            u,
            &ActionPattern::parse("compute.instance.Delete").unwrap(),
            &ResourcePattern::parse("*").unwrap(),
        );
        assert_eq!(decided, x.decision, "{setup}: decide");
    }
    // Without a switch, deny-wins.
    let org = compile(allow_and_deny_at("user", "role"));
    assert_eq!(org.precedence(), Precedence::DenyWins);
}

/// Under nearest-wins, a what-if follows the rule too: detaching the direct Allow that
/// overrode a role's Deny loses the action; under deny-wins it was denied all along.
#[test]
fn precedence_in_what_if() {
    for (rule, lost) in [
        (Precedence::DenyWins, vec![]),
        (
            Precedence::NearestWins,
            expect(&[("compute.instance.Delete", "*", &["policy:allow/#0"])]),
        ),
    ] {
        let org = compile_as(allow_and_deny_at("user", "role"), rule);
        let impact = org
            .simulate(&[Change::DetachPolicy {
                policy: org.find_policy("allow").unwrap(),
                from: Holder::User(org.find_user("u").unwrap()),
            }])
            .unwrap()
            .flatten();
        assert_eq!(flat(&impact.users[0].lost), lost, "{rule:?}");
        assert!(impact.users[0].gained.is_empty(), "{rule:?}");
    }
}

/// The root user and suspended users are the same under nearest-wins: root is allowed whatever
/// the policies say, a suspended user has no access.
#[test]
fn precedence_leaves_root_and_suspended_alone() {
    let mut parts = allow_and_deny_at("role", "user");
    parts["users"]
        .as_array_mut()
        .unwrap()
        .push(json!({"id": "s", "email": "s@x", "suspended": true, "policies": ["allow"]}));
    let mut doc = snapshot(parts);
    doc.organization.root_user_id = Some("u".into());
    let options = CompileOptions {
        precedence: Precedence::NearestWins,
        ..Default::default()
    };
    let org = Org::compile_with(&doc, &Catalogue::parse(CATALOGUE).unwrap(), &options).unwrap();
    check(&org, "u", &[("*", "*", &["organization:org"])], &[]);
    let root = org.explain(org.find_user("u").unwrap(), "compute.instance.Delete", "*");
    assert_eq!(root.unwrap().decision, Decision::Allowed);
    check(&org, "s", &[], &[]);
    let suspended = org.explain(org.find_user("s").unwrap(), "compute.instance.Delete", "*");
    assert_eq!(suspended.unwrap().decision, Decision::ImplicitDeny);
}

#[test]
fn wildcard_forms() {
    // Each form against the catalogue's compute.instance.{Create,Delete,Read}, network.dns.Create, ...
    let cases: &[(&str, &[&str])] = &[
        ("compute.instance.Create", &["compute.instance.Create"]),
        (
            "compute.instance.*",
            &[
                "compute.instance.*",
                "compute.instance.Create",
                "compute.instance.Delete",
                "compute.instance.Read",
            ],
        ),
        (
            "compute.*",
            &[
                "compute.*",
                "compute.instance.Create",
                "compute.instance.Delete",
                "compute.instance.Read",
            ],
        ),
        (
            "*",
            &[
                "*",
                "account.billing.Read",
                "compute.instance.Create",
                "compute.instance.Delete",
                "compute.instance.Read",
                "container.registry.Push",
                "network.dns.Create",
            ],
        ),
    ];
    for (pattern, expected) in cases {
        let org = compile(json!({
            "users": [{"id": "u", "email": "u@x", "policies": ["p"]}],
            "policies": [policy("p", "Allow", json!(pattern), json!("*"))]
        }));
        let got: Vec<String> = org
            .effective(org.find_user("u").unwrap())
            .allowed
            .into_iter()
            .map(|e| e.action)
            .collect();
        assert_eq!(got, *expected, "pattern {pattern}");
    }
}

#[test]
fn invalid_pattern_is_an_error() {
    for bad in [
        "comp*te.instance.Create",
        "compute.*.Create",
        "compute.inst*",
        "**",
        "compute..Create",
        " compute.*",
    ] {
        let snap = snapshot(json!({
            "policies": [
                policy("ok", "Allow", json!("*"), json!("*")),
                {"id": "bad", "name": "bad", "policy_document": {"Statement": [
                    {"Effect": "Allow", "Action": "*", "Resource": "*"},
                    {"Effect": "Allow", "Action": ["compute.instance.Read", bad], "Resource": "*"}
                ]}}
            ]
        }));
        let err = Org::compile(&snap, &Catalogue::bundled()).unwrap_err();
        assert!(
            matches!(err, BuildError::Statement { statement: 1, .. }),
            "{bad}: {err:?}"
        );
        let text = err.to_string();
        assert!(
            text.starts_with("policies[1] (policy `bad`) statement 1: invalid action pattern `"),
            "{text}"
        );
        assert!(text.contains(bad.trim()), "{text}");
    }
}

#[test]
fn matching_is_case_sensitive() {
    let org = compile(json!({
        "users": [{"id": "u", "email": "u@x", "policies": ["p"]}],
        "policies": [policy("p", "Allow", json!(["compute.Instance.create", "Compute.*"]), json!("*"))]
    }));
    // The typo is its own action; it grants nothing the catalogue calls compute.instance.Create.
    check(
        &org,
        "u",
        &[
            ("Compute.*", "*", &["policy:p/#0"]),
            ("compute.Instance.create", "*", &["policy:p/#0"]),
        ],
        &[],
    );
    let messages: Vec<&str> = org
        .diagnostics()
        .iter()
        .map(|d| d.message.as_str())
        .collect();
    assert!(
        messages.iter().any(|m| m.contains(
            "unknown action `compute.Instance.create` (did you mean `compute.instance.Create`?"
        )),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.contains("`Compute.*` covers no action") && m.contains("case")),
        "{messages:?}"
    );
}

#[test]
fn resource_scoping() {
    let org = compile(json!({
        "users": [{"id": "u", "email": "u@x", "policies": ["all", "one", "not-x"]}],
        "policies": [
            policy("all", "Allow", json!("compute.instance.Read"), json!("*")),
            policy("one", "Allow", json!("compute.instance.Create"), json!(["i-1"])),
            policy("not-x", "Deny", json!("compute.instance.Read"), json!("i-x"))
        ]
    }));
    check(
        &org,
        "u",
        &[
            ("compute.instance.Create", "i-1", &["policy:one/#0"]),
            ("compute.instance.Read", "*", &["policy:all/#0"]),
        ],
        &[("compute.instance.Read", "i-x", &["policy:not-x/#0"])],
    );
    let u = org.find_user("u").unwrap();
    assert_eq!(
        org.explain(u, "compute.instance.Create", "*")
            .unwrap()
            .decision,
        Decision::ImplicitDeny
    );
    assert_eq!(
        org.explain(u, "compute.instance.Create", "i-2")
            .unwrap()
            .decision,
        Decision::ImplicitDeny
    );
    assert_eq!(
        org.explain(u, "compute.instance.Read", "i-2")
            .unwrap()
            .decision,
        Decision::Allowed
    );
}

#[test]
fn typed_resource_wildcard() {
    let org = compile(json!({
        "users": [{"id": "u", "email": "u@x", "policies": ["push", "deny-one"]}],
        "policies": [
            policy("push", "Allow", json!("container.registry.Push"), json!("registry:*")),
            policy("deny-one", "Deny", json!("container.registry.Push"), json!("registry:prod"))
        ]
    }));
    check(
        &org,
        "u",
        &[("container.registry.Push", "registry:*", &["policy:push/#0"])],
        &[(
            "container.registry.Push",
            "registry:prod",
            &["policy:deny-one/#0"],
        )],
    );
    let u = org.find_user("u").unwrap();
    assert_eq!(
        org.explain(u, "container.registry.Push", "registry:dev")
            .unwrap()
            .decision,
        Decision::Allowed
    );
    assert_eq!(
        org.explain(u, "container.registry.Push", "*")
            .unwrap()
            .decision,
        Decision::ImplicitDeny
    );
}

#[test]
fn root_has_unconditional_access() {
    let mut parts = json!({
        "users": [{"id": "root", "email": "root@x", "policies": ["deny-all"]}],
        "policies": [policy("deny-all", "Deny", json!("*"), json!("*"))]
    });
    let mut doc = snapshot(parts.take());
    doc.organization.root_user_id = Some("root".into());
    let org = Org::compile(&doc, &Catalogue::parse(CATALOGUE).unwrap()).unwrap();
    check(&org, "root", &[("*", "*", &["organization:org"])], &[]);
    let root = org.find_user("root").unwrap();
    assert_eq!(
        org.explain(root, "compute.instance.Delete", "i-1")
            .unwrap()
            .decision,
        Decision::Allowed
    );
}

#[test]
fn suspended_user_has_no_access() {
    let org = compile(json!({
        "users": [{"id": "u", "email": "u@x", "suspended": true, "policies": ["p"]}],
        "groups": [{"id": "g", "display_name": "G", "members": ["u"]}],
        "roles": [{"id": "r", "name": "r", "role_type": "assumable", "policies": ["p"]}],
        "policies": [policy("p", "Allow", json!("*"), json!("*"))],
        "role_trusts": [{"id": "t", "role_id": "r", "trusted_group_id": "g"}]
    }));
    check(&org, "u", &[], &[]);
    let u = org.find_user("u").unwrap();
    assert!(org.effective(u).assumable.is_empty());
    let e = org.explain(u, "compute.instance.Read", "*").unwrap();
    assert_eq!(e.decision, Decision::ImplicitDeny);
    assert!(e.note.unwrap().contains("suspended"));
}

#[test]
fn assumable_through_trust() {
    let org = compile(json!({
        "users": [user("u"), user("v")],
        "groups": [{"id": "g", "display_name": "G", "members": ["u"]}],
        "roles": [{"id": "r", "name": "deployer", "role_type": "assumable", "policies": ["p"]}],
        "policies": [policy("p", "Allow", json!("*"), json!("*"))],
        "role_trusts": [
            {"id": "t-group", "role_id": "r", "trust_type": "TemporaryAssumption", "trusted_group_id": "g",
             "conditions": {"time_of_day": {"start": 9, "end": 17}}},
            {"id": "t-user", "role_id": "r", "trust_type": "TemporaryAssumption", "trusted_user_id": "v"}
        ]
    }));
    check(&org, "u", &[], &[]);
    let u = org.effective(org.find_user("u").unwrap());
    assert_eq!(u.assumable.len(), 1);
    assert_eq!(u.assumable[0].role.name, "deployer");
    assert_eq!(u.assumable[0].trust.id, "t-group");
    assert_eq!(
        u.assumable[0].trust.conditions,
        Some(json!({"time_of_day": {"start": 9, "end": 17}}))
    );
    assert_eq!(u.assumable[0].via[0].len(), 2, "user then group");
    let v = org.effective(org.find_user("v").unwrap());
    assert_eq!(
        (v.assumable.len(), v.assumable[0].via[0].len()),
        (1, 1),
        "named directly"
    );

    // Leaving the trusted group loses the role.
    let impact = org
        .simulate(&[Change::RemoveMember {
            group: org.find_group("G").unwrap(),
            user: org.find_user("u").unwrap(),
        }])
        .unwrap();
    assert_eq!(impact.users[0].assumable_lost.len(), 1);
    assert_eq!(impact.users[0].assumable_lost[0].trust.id, "t-group");
}

#[test]
fn wildcard_beyond_catalogue_is_shown() {
    // storage.* covers nothing in the test catalogue; it must not vanish from the answer.
    let org = compile(json!({
        "users": [{"id": "u", "email": "u@x", "policies": ["p"]}],
        "policies": [policy("p", "Allow", json!(["storage.*", "network.*"]), json!("*"))]
    }));
    check(
        &org,
        "u",
        &[
            ("network.*", "*", &["policy:p/#0"]),
            ("network.dns.Create", "*", &["policy:p/#0"]),
            ("storage.*", "*", &["policy:p/#0"]),
        ],
        &[],
    );
    assert!(org
        .diagnostics()
        .iter()
        .any(|d| d.message.contains("`storage.*` covers no action")));
    // An action outside the universe is evaluated as the narrowest wildcard covering it.
    let e = org
        .explain(org.find_user("u").unwrap(), "storage.object.Create", "*")
        .unwrap();
    assert_eq!(
        (e.decision, e.evaluated_as.as_deref()),
        (Decision::Allowed, Some("storage.*"))
    );
}

#[test]
fn catalogue_replaces_bundled() {
    let snap = snapshot(json!({
        "users": [{"id": "u", "email": "u@x", "policies": ["p"]}],
        "policies": [policy("p", "Allow", json!("compute.*"), json!("*"))]
    }));
    let custom = Catalogue::parse("compute.sshkey.Create\n").unwrap();
    let org = Org::compile(&snap, &custom).unwrap();
    let actions: Vec<String> = org
        .effective(org.find_user("u").unwrap())
        .allowed
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(actions, ["compute.*", "compute.sshkey.Create"]);
    let bundled = Org::compile(&snap, &Catalogue::bundled()).unwrap();
    assert!(
        bundled
            .effective(bundled.find_user("u").unwrap())
            .allowed
            .len()
            > 20
    );
}

#[test]
fn dangling_reference_is_a_diagnostic() {
    let org = compile(json!({
        "users": [{"id": "u", "email": "u@x", "policies": ["p", "p-gone", "p"]}],
        "groups": [{"id": "g", "display_name": "G", "members": ["u", "u-gone"], "roles": ["r-gone"]}],
        "roles": [{"id": "r", "name": "r", "role_type": "assignable", "policies": ["p-deleted"]}],
        "policies": [policy("p", "Allow", json!("compute.instance.Read"), json!("*"))],
        "role_trusts": [{"id": "t", "role_id": "r-missing", "trusted_user_id": "u"}]
    }));
    check(
        &org,
        "u",
        &[("compute.instance.Read", "*", &["policy:p/#0"])],
        &[],
    );
    let got: Vec<(&str, &str)> = org
        .diagnostics()
        .iter()
        .map(|d| (d.code, d.path.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("dangling-reference", "groups[0].members[1]"),
            ("dangling-reference", "groups[0].roles[0]"),
            ("dangling-reference", "role_trusts[0].role_id"),
            ("dangling-reference", "roles[0].policies[0]"),
            ("dangling-reference", "users[0].policies[1]"),
            ("duplicate-reference", "users[0].policies[2]"),
        ]
    );
}

#[test]
fn remove_member_lost_kept_gained() {
    let org = compile(json!({
        "users": [{"id": "u", "email": "u@x", "policies": ["read"]}],
        "groups": [
            {"id": "g", "display_name": "G", "members": ["u"], "policies": ["admin", "no-delete-x"]},
            {"id": "h", "display_name": "H", "members": ["u"], "policies": ["billing"]}
        ],
        "policies": [
            policy("read", "Allow", json!("compute.instance.Read"), json!("*")),
            policy("admin", "Allow", json!(["compute.instance.*", "account.billing.Read"]), json!("*")),
            policy("no-delete-x", "Deny", json!("compute.instance.Delete"), json!("i-x")),
            policy("billing", "Allow", json!(["account.billing.Read", "compute.instance.Delete"]), json!("*"))
        ]
    }));
    let impact = org
        .simulate(&[Change::RemoveMember {
            group: org.find_group("g").unwrap(),
            user: org.find_user("u").unwrap(),
        }])
        .unwrap()
        .flatten();
    let u = &impact.users[0];
    assert_eq!(
        flat(&u.lost),
        expect(&[
            ("compute.instance.*", "*", &["group:g/policy:admin/#0"]),
            ("compute.instance.Create", "*", &["group:g/policy:admin/#0"]),
        ])
    );
    assert_eq!(
        flat(&u.kept),
        expect(&[
            ("account.billing.Read", "*", &["group:h/policy:billing/#0"]),
            (
                "compute.instance.Delete",
                "*",
                &["group:h/policy:billing/#0"]
            ),
            ("compute.instance.Read", "*", &["policy:read/#0"]),
        ])
    );
    // The Deny on i-x came only through g: Delete on i-x becomes allowed, through h.
    assert_eq!(
        flat(&u.gained),
        expect(&[(
            "compute.instance.Delete",
            "i-x",
            &["group:h/policy:billing/#0"]
        )])
    );
    assert_eq!(u.unchanged_count, 0);

    let outsider =
        compile(json!({"users": [user("v")], "groups": [{"id": "g", "display_name": "G"}]}));
    let err = outsider
        .simulate(&[Change::RemoveMember {
            group: outsider.find_group("G").unwrap(),
            user: outsider.find_user("v").unwrap(),
        }])
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "user `v` is not a member of group `g` (the change does nothing)"
    );
}

/// A grouped entry lists the union of its actions' paths, and each action's own paths are the
/// ones that cover it. Under nearest-wins a farther Allow that covers an action does not count
/// for it, so that action gets an entry of its own rather than a path it does not have.
#[test]
fn grouped_entries_tell_each_action_its_own_paths() {
    let parts = json!({
        "users": [{"id": "u", "email": "u@x", "policies": ["near"]}],
        "groups": [{"id": "g", "display_name": "g", "members": ["u"], "policies": ["far"]}],
        "policies": [
            policy("near", "Allow", json!("compute.instance.Read"), json!("*")),
            policy("far", "Allow", json!(["compute.instance.Read", "compute.instance.Delete"]), json!("*"))
        ]
    });
    for (rule, entries, read_via) in [
        (
            Precedence::DenyWins,
            1,
            vec!["policy:near/#0", "group:g/policy:far/#0"],
        ),
        (Precedence::NearestWins, 2, vec!["policy:near/#0"]),
    ] {
        let org = compile_as(parts.clone(), rule);
        let impact = org
            .simulate(&[
                Change::DetachPolicy {
                    policy: org.find_policy("near").unwrap(),
                    from: Holder::User(org.find_user("u").unwrap()),
                },
                Change::RemoveMember {
                    group: org.find_group("g").unwrap(),
                    user: org.find_user("u").unwrap(),
                },
            ])
            .unwrap();
        let lost = &impact.users[0].lost;
        assert_eq!(lost.len(), entries, "{rule:?}: {lost:?}");
        assert_eq!(
            iamsim_core::testing::grouped_shape(&impact),
            None,
            "{rule:?}"
        );
        assert_eq!(
            flat(&impact.flatten().users[0].lost),
            expect(&[
                ("compute.instance.Delete", "*", &["group:g/policy:far/#0"]),
                ("compute.instance.Read", "*", &read_via),
            ]),
            "{rule:?}"
        );
    }
}
