//! `--precedence deny-wins|nearest-wins` (docs/semantics.md §4): one setting, and every answer
//! follows it. On `tests/data/precedence.json`, Frank has a direct Allow of
//! `compute.instance.Delete` and a Deny of it through group Contractors; Erin has the direct
//! Deny and an Allow through her role (open question Q12).

use crate::util::{data, iamsim, path_text};

/// `explain --action compute.instance.Delete`: (user, rule, stdout).
const EXPLAIN: &[(&str, &str, &str)] = &[
    (
        "frank@example.com",
        "deny-wins",
        "Frank <frank@example.com> (u-frank)\n\
         compute.instance.Delete on *: EXPLICIT DENY\n  \
         deny via group Contractors > policy no-delete #0\n  \
         overridden allow via policy delete-ok #0\n",
    ),
    (
        "frank@example.com",
        "nearest-wins",
        "Frank <frank@example.com> (u-frank)\n\
         compute.instance.Delete on *: ALLOWED\n  \
         allow via policy delete-ok #0\n  \
         overridden deny via group Contractors > policy no-delete #0\n",
    ),
    // The direct Deny is the nearest: the same decision under both rules.
    (
        "erin@example.com",
        "deny-wins",
        "Erin <erin@example.com> (u-erin)\n\
         compute.instance.Delete on *: EXPLICIT DENY\n  \
         deny via policy no-delete #0\n  \
         overridden allow via role operator > policy compute-admin #0\n",
    ),
    (
        "erin@example.com",
        "nearest-wins",
        "Erin <erin@example.com> (u-erin)\n\
         compute.instance.Delete on *: EXPLICIT DENY\n  \
         deny via policy no-delete #0\n  \
         overridden allow via role operator > policy compute-admin #0\n",
    ),
];

fn explain(user: &str, extra: &[&str]) -> crate::util::Run {
    let snapshot = data("precedence.json");
    let mut args = vec![
        "explain",
        "--snapshot",
        &snapshot,
        "--user",
        user,
        "--action",
        "compute.instance.Delete",
    ];
    args.extend(extra);
    iamsim(&args)
}

#[test]
fn explain_under_each_precedence() {
    for (user, rule, expected) in EXPLAIN {
        let run = explain(user, &["--precedence", rule]);
        run.expect_code(0);
        assert_eq!(run.stdout, *expected, "{user} under {rule}");
        // The other rule is said once, on stderr.
        let note = match *rule {
            "nearest-wins" => {
                "note: precedence nearest-wins: the attachment nearest the user decides \
                 (docs/semantics.md §4)\n"
            }
            _ => "",
        };
        assert_eq!(run.stderr, note, "{user} under {rule}");
    }
}

/// Without `--precedence`, deny-wins, byte for byte; and the JSON of deny-wins has no
/// `overridden_*` field, as before the switch existed.
#[test]
fn deny_wins_is_the_default() {
    for user in ["frank@example.com", "erin@example.com"] {
        let default = explain(user, &["--format", "json"]);
        let deny_wins = explain(user, &["--format", "json", "--precedence", "deny-wins"]);
        assert_eq!(default.stdout, deny_wins.stdout, "{user}");
        let json = default.json();
        assert!(json.get("overridden_allow").is_none(), "{json}");
        assert!(json.get("overridden_deny").is_none(), "{json}");
    }
}

/// Under nearest-wins, JSON lists the farther paths apart, by effect.
#[test]
fn json_lists_the_overridden_paths() {
    let paths = |v: &serde_json::Value| -> Vec<String> {
        v.as_array().unwrap().iter().map(path_text).collect()
    };
    let frank = explain(
        "frank@example.com",
        &["--format", "json", "--precedence", "nearest-wins"],
    )
    .json();
    assert_eq!(frank["decision"], "allowed");
    assert_eq!(
        paths(&frank["allow"]),
        ["user:u-frank > policy:p-delete-ok > #0"]
    );
    assert_eq!(paths(&frank["deny"]), Vec::<String>::new());
    assert_eq!(
        paths(&frank["overridden_deny"]),
        ["user:u-frank > group:g-contractors > policy:p-no-delete > #0"]
    );
    assert!(frank.get("overridden_allow").is_none(), "{frank}");
    let erin = explain(
        "erin@example.com",
        &["--format", "json", "--precedence", "nearest-wins"],
    )
    .json();
    assert_eq!(erin["decision"], "explicit_deny");
    assert_eq!(paths(&erin["allow"]), Vec::<String>::new());
    assert_eq!(
        paths(&erin["overridden_allow"]),
        ["user:u-erin > role:r-operator > policy:p-compute-admin > #0"]
    );
}

/// The option is common to the commands: who-can and a what-if follow it too.
#[test]
fn other_commands_follow_the_rule() {
    let snapshot = data("precedence.json");
    let who_can = |rule: &str| {
        let run = iamsim(&[
            "who-can",
            "--snapshot",
            &snapshot,
            "--action",
            "compute.instance.Delete",
            "--format",
            "json",
            "--precedence",
            rule,
        ]);
        let json = run.json();
        let ids = |list: &serde_json::Value| -> Vec<String> {
            let users = list.as_array().unwrap().iter();
            users
                .map(|u| u["user"]["id"].as_str().unwrap().to_string())
                .collect()
        };
        (ids(&json["allowed"]), ids(&json["denied"]))
    };
    assert_eq!(
        who_can("deny-wins"),
        (vec![], vec!["u-erin".to_string(), "u-frank".to_string()])
    );
    assert_eq!(
        who_can("nearest-wins"),
        (vec!["u-frank".to_string()], vec!["u-erin".to_string()])
    );
    // The table shows what each decision overrides: Frank's nearer Allow overrides the group's
    // Deny; Erin's direct Deny overrides her role's Allow.
    let table = iamsim(&[
        "who-can",
        "--snapshot",
        &snapshot,
        "--action",
        "compute.instance.Delete",
        "--precedence",
        "nearest-wins",
    ]);
    table.expect_code(0);
    assert_eq!(
        table.stdout,
        "Who can compute.instance.Delete on *\n\
         ALLOWED (1)\n  \
         Frank <frank@example.com> (u-frank)\n    \
         via policy delete-ok #0\n    \
         overridden deny via group Contractors > policy no-delete #0\n\
         DENIED (1): an explicit Deny blocks an Allow\n  \
         Erin <erin@example.com> (u-erin)\n    \
         deny via policy no-delete #0\n    \
         overridden allow via role operator > policy compute-admin #0\n"
    );
    // Detaching Frank's direct Allow: under nearest-wins the group's Deny now decides.
    let lost = |rule: &str| {
        let run = iamsim(&[
            "impact",
            "detach-policy",
            "--policy",
            "delete-ok",
            "--user",
            "frank@example.com",
            "--snapshot",
            &snapshot,
            "--format",
            "json",
            "--precedence",
            rule,
        ]);
        run.json()["users"][0]["lost"].as_array().unwrap().len()
    };
    assert_eq!(lost("deny-wins"), 0);
    assert_eq!(lost("nearest-wins"), 1);
}

#[test]
fn an_unknown_rule_is_an_error() {
    explain("frank@example.com", &["--precedence", "allow-wins"])
        .expect_error(&["invalid value 'allow-wins'", "deny-wins, nearest-wins"]);
}
