//! "Did you mean": names a few edits from a user, group, role or policy of the organization,
//! and actions a typo away from a known one.

use crate::util::{iamsim, temp_json};

/// A name that matches nothing names the nearest ids, names or emails.
#[test]
fn names_get_suggestions() {
    for (args, fragments) in [
        (
            &["effective", "--user", "ana@acme.exmaple"][..],
            &["no user matches `ana@acme.exmaple`; did you mean `ana@acme.example`?"][..],
        ),
        (
            &[
                "explain",
                "--user",
                "u-anna",
                "--action",
                "compute.instance.Read",
            ],
            &["did you mean `u-ana`?"],
        ),
        (
            &[
                "impact",
                "remove-member",
                "--group",
                "DevOsp",
                "--user",
                "u-ana",
            ],
            &["no group matches `DevOsp`; did you mean `DevOps`?"],
        ),
        (
            &[
                "impact",
                "detach-policy",
                "--policy",
                "compute-admn",
                "--group",
                "DevOps",
            ],
            &["no policy matches `compute-admn`; did you mean `compute-admin`?"],
        ),
        (
            &["impact", "delete-role", "--role", "deploy-admn"],
            &["no role matches `deploy-admn`; did you mean `deploy-admin`?"],
        ),
        (
            &["rank", "--user", "dan@acme.exampl"],
            &["did you mean `dan@acme.example`?"],
        ),
        (
            &["export", "--users", "u-ana,u-bne"],
            &["--users: no user matches `u-bne`; did you mean `u-ben`?"],
        ),
    ] {
        iamsim(args).expect_error(fragments);
    }
    // Nothing near: the message as before, no suggestion.
    let run = iamsim(&["effective", "--user", "zzzzzzzz"]);
    run.expect_error(&["no user matches `zzzzzzzz`"]);
    assert!(!run.stderr.contains("did you mean"), "{}", run.stderr);
}

/// At most three suggestions, and how many as near were left out.
#[test]
fn long_lists_say_how_many_are_left_out() {
    let users: Vec<serde_json::Value> = (1..=12)
        .map(|i| serde_json::json!({"id": format!("u-{i}"), "email": format!("dev{i}@x.example"), "name": format!("Dev {i}")}))
        .collect();
    let snapshot = serde_json::json!({
        "format": "iamsim.snapshot.v1",
        "organization": {"id": "org-x", "name": "X"},
        "users": users, "groups": [], "roles": [], "policies": []
    });
    let path = temp_json("many-devs.json", &snapshot);
    iamsim(&["effective", "--snapshot", &path, "--user", "dev@x.example"]).expect_error(&[
        "did you mean `dev1@x.example`, `dev2@x.example` or `dev3@x.example`? (6 more as near not shown)",
    ]);
    // The similar entities (by substring) are listed up to ten, and the rest counted.
    iamsim(&["effective", "--snapshot", &path, "--user", "dev"]).expect_error(&[
        "candidates: `u-1` (dev1@x.example)",
        "`u-10` (dev10@x.example) (and 2 more)",
    ]);
}

/// An action outside the catalogue one or two edits from a known action is an error; other
/// unknown actions are evaluated as the narrowest wildcard, as before.
#[test]
fn action_typos() {
    iamsim(&["who-can", "--action", "compute.instance.Delet"]).expect_error(&[
        "--action `compute.instance.Delet`: not an action of the organization",
        "did you mean `compute.instance.Delete`",
    ]);
    iamsim(&["who-can", "--action", "Compute.instance.Delete"])
        .expect_error(&["did you mean `compute.instance.Delete`"]);
    iamsim(&[
        "explain",
        "--user",
        "u-ana",
        "--action",
        "compute.instance.Craete",
    ])
    .expect_error(&["did you mean `compute.instance.Create`"]);
    let run = iamsim(&["who-can", "--action", "compute.sshkey.Create"]);
    run.expect_code(0);
    assert!(
        run.stdout.contains("evaluated as `compute.*`"),
        "{}",
        run.stdout
    );
}
