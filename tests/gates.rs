//! Gates on `impact` and `diff`: `--fail-if-loses`, `--fail-if-gains` and `--fail-on
//! lost|gained|any`. Exit 1 when one trips, with one `gate tripped:` line per tripped gate on
//! stderr and the full report still on stdout; exit 0 otherwise; exit 2 on usage and input
//! errors, with nothing on stdout and one `error:` line.

use serde_json::json;

use crate::util::{
    demo_and_modified, demo_snapshot, expect_fragments, iamsim, temp_file, temp_json,
    ANA_LEAVES_DEVOPS, DAN_LEAVES_CONTRACTORS,
};

const SUPPORT_TO_BILLING: &[&str] = &[
    "impact",
    "attach-policy",
    "--policy",
    "p-support",
    "--group",
    "Billing",
];

/// Runs `base` plus `gates` and checks the exit code, the `gate tripped:` lines (one per
/// expected fragment list, in order), that stderr holds nothing else but notes and warnings,
/// and that the report is on stdout whatever the gates say.
fn check(base: &[&str], gates: &[&str], code: i32, tripped: &[&[&str]]) {
    let run = iamsim(&[base, gates].concat());
    run.expect_code(code);
    assert!(!run.stdout.is_empty(), "the report is printed: {run:#?}");
    let lines: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("gate tripped: "))
        .collect();
    assert_eq!(lines.len(), tripped.len(), "{run:#?}");
    for (line, fragments) in lines.iter().zip(tripped) {
        expect_fragments(line, fragments);
    }
    assert!(
        run.error_lines()
            .iter()
            .all(|l| l.starts_with("gate tripped: ")),
        "{run:#?}"
    );
}

/// `(gates, exit code, fragments of each "gate tripped" line)`.
type Gate<'a> = (&'a [&'a str], i32, &'a [&'a [&'a str]]);

#[test]
fn gates_on_impact() {
    let dan_gains = "dan@acme.example gains compute.instance.Delete on *";
    let cases: &[(&[&str], &[Gate])] = &[
        (
            DAN_LEAVES_CONTRACTORS,
            &[
                (&[], 0, &[]),
                (
                    &["--fail-if-gains", "compute.instance.Delete"],
                    1,
                    &[&[
                        "gate tripped: --fail-if-gains `compute.instance.Delete`: ",
                        dan_gains,
                    ]],
                ),
                (
                    &["--fail-if-gains", "compute.*"],
                    1,
                    &[&["`compute.*`", dan_gains]],
                ),
                (&["--fail-if-gains", "network.*"], 0, &[]),
                // Dan loses nothing.
                (&["--fail-if-loses", "*"], 0, &[]),
                (&["--fail-on", "lost"], 0, &[]),
                (
                    &["--fail-on", "gained"],
                    1,
                    &[&["gate tripped: --fail-on gained: ", dan_gains]],
                ),
                (
                    &["--fail-on", "any"],
                    1,
                    &[&["gate tripped: --fail-on gained: ", dan_gains]],
                ),
            ],
        ),
        (
            ANA_LEAVES_DEVOPS,
            &[
                (
                    &["--fail-on", "lost"],
                    1,
                    &[&[
                        "gate tripped: --fail-on lost: ana@acme.example loses compute.* on *; ",
                        "(and 33 more)",
                    ]],
                ),
                (&["--fail-on", "gained"], 0, &[]),
                (&["--fail-if-gains", "*"], 0, &[]),
                // Every tripped gate has its line: patterns first, then --fail-on.
                (
                    &[
                        "--fail-on",
                        "any",
                        "--fail-if-gains",
                        "*",
                        "--fail-if-loses",
                        "network.firewall.*",
                        "--fail-if-loses",
                        "container.registry.Pull",
                    ],
                    1,
                    &[
                        &[
                            "--fail-if-loses `network.firewall.*`",
                            "ana@acme.example loses network.firewall.* on *",
                            "(and 3 more)",
                        ],
                        &[
                            "--fail-if-loses `container.registry.Pull`",
                            "ana@acme.example loses container.registry.Pull on registry:reg-7f3a",
                        ],
                        &["--fail-on lost", "(and 33 more)"],
                    ],
                ),
                // Kept through Billing: no gate trips on what is kept.
                (&["--fail-if-loses", "account.billing.Read"], 0, &[]),
            ],
        ),
        (
            SUPPORT_TO_BILLING,
            &[
                // Ana keeps support (a new path), Cara gains it.
                (&["--fail-if-loses", "*", "--fail-on", "lost"], 0, &[]),
                (
                    &["--fail-if-gains", "support.ticket.Read"],
                    1,
                    &[&["cara@acme.example gains support.ticket.Read on *"]],
                ),
                (
                    &["--fail-if-gains", "support.*"],
                    1,
                    &[&[
                        "cara@acme.example gains support.ticket.* on *; cara@acme.example gains support.ticket.Close on *; ",
                        "(and 6 more)",
                    ]],
                ),
            ],
        ),
    ];
    for (base, gates) in cases {
        for (gate, code, tripped) in *gates {
            check(base, gate, *code, tripped);
        }
    }
}

#[test]
fn gates_on_diff() {
    let (old, new) = demo_and_modified();
    // Dan leaves Contractors and nothing else: only gains.
    let mut snapshot = demo_snapshot();
    snapshot["groups"][2]["members"] = json!([]);
    assert_eq!(snapshot["groups"][2]["id"], "g-contractors");
    let gains_only = temp_json("gains-only.json", &snapshot);

    let to_new = ["diff", old.as_str(), new.as_str()];
    let to_gains_only = ["diff", old.as_str(), gains_only.as_str()];
    let to_itself = ["diff", old.as_str(), old.as_str()];
    let ana_loses = "ana@acme.example loses compute.* on *";
    let dan_gains = "dan@acme.example gains compute.instance.Delete on *";
    let cases: &[(&[&str], &[Gate])] = &[
        (
            &to_new,
            &[
                (&[], 0, &[]),
                (
                    &["--fail-if-loses", "support.*"],
                    1,
                    &[&[
                        "gate tripped: --fail-if-loses `support.*`: ana@acme.example loses support.ticket.* on *",
                        "(and 6 more)",
                    ]],
                ),
                (&["--fail-if-loses", "kubernetes.*"], 0, &[]),
                (
                    &["--fail-if-gains", "compute.instance.Delete"],
                    1,
                    &[&["--fail-if-gains `compute.instance.Delete`", dan_gains]],
                ),
                (
                    &["--fail-on", "lost"],
                    1,
                    &[&["--fail-on lost", ana_loses, "(and 43 more)"]],
                ),
                (
                    &["--fail-on", "gained"],
                    1,
                    &[&["--fail-on gained", dan_gains]],
                ),
                (
                    &["--fail-on", "any"],
                    1,
                    &[&["--fail-on lost", ana_loses], &["--fail-on gained", dan_gains]],
                ),
            ],
        ),
        (
            &to_gains_only,
            &[
                (&["--fail-on", "lost"], 0, &[]),
                (&["--fail-if-loses", "*"], 0, &[]),
                (&["--fail-on", "gained"], 1, &[&[dan_gains]]),
                (&["--fail-on", "any"], 1, &[&["--fail-on gained", dan_gains]]),
            ],
        ),
        (
            &to_itself,
            &[
                (&["--fail-on", "any"], 0, &[]),
                (&["--fail-if-loses", "*", "--fail-if-gains", "*"], 0, &[]),
            ],
        ),
    ];
    for (base, gates) in cases {
        for (gate, code, tripped) in *gates {
            check(base, gate, *code, tripped);
        }
    }

    // A tripped gate still prints the whole JSON report.
    let run = iamsim(&["diff", &old, &new, "--format", "json", "--fail-on", "any"]);
    run.expect_code(1);
    let value = run.document();
    assert_eq!(value["users"][0]["user"]["id"], "u-ana");
}

// Two gates that should trip and do not: silent passes in CI.

#[test]
fn fail_on_lost_counts_assumable_roles_lost() {
    // Deleting the trust takes away Ana's and Dan's way to assume deploy-admin: they lose
    // something (`assumable_lost`, which `redundant` and `rank` count as a loss too), so
    // `--fail-on lost` must trip.
    check(
        &["impact", "delete-role-trust", "--trust", "t-deploy-devops"],
        &["--fail-on", "lost"],
        1,
        &[&["gate tripped: --fail-on lost", "ana@acme.example"]],
    );
}

#[test]
fn fail_if_gains_sees_new_wildcard_elements() {
    // A new document allowing `support.*` gives Ana the element `support.*`, which stands for
    // every support action the catalogue does not name, `support.widget.Open` among them:
    // like `--fail-if-loses compute.gizmo.Spin` on a lost `compute.*`, the gate must trip.
    let document = temp_file(
        "support-all.json",
        r#"{"Version": "2026-03-20", "Statement": {"Effect": "Allow", "Action": "support.*", "Resource": "*"}}"#,
    );
    let replace = [
        "impact",
        "replace-policy-document",
        "--policy",
        "p-support",
        "--document",
        &document,
    ];
    check(
        &replace,
        &["--fail-if-gains", "support.*"],
        1,
        &[&["ana@acme.example gains support.* on *"]],
    );
    check(
        &replace,
        &["--fail-if-gains", "support.widget.Open"],
        1,
        &[&[
            "--fail-if-gains `support.widget.Open`",
            "ana@acme.example gains support.* on *",
        ]],
    );
}

#[test]
fn usage_and_input_errors_exit_2() {
    let (old, new) = demo_and_modified();
    let changes = temp_file(
        "changes.json",
        r#"[{"kind": "delete_group", "group": "DevOps"}]"#,
    );
    let cases: &[(&[&str], &[&str])] = &[
        (&["impact"], &["impact needs a change"]),
        (
            &["impact", "rename-group"],
            &["unrecognized subcommand 'rename-group'"],
        ),
        (
            &[
                "impact",
                "--changes",
                &changes,
                "remove-member",
                "--group",
                "DevOps",
                "--user",
                "u-ana",
            ],
            &["give either --changes FILE or one change subcommand, not both"],
        ),
        (
            &["impact", "detach-policy", "--policy", "p-support"],
            &["required", "--user <USER>|--group <GROUP>|--role <ROLE>"],
        ),
        (
            &[
                "impact",
                "detach-policy",
                "--policy",
                "p-support",
                "--user",
                "u-ana",
                "--group",
                "DevOps",
            ],
            &["cannot be used with"],
        ),
        (
            &["impact", "attach-role", "--role", "viewer", "--role", "x"],
            &["cannot be used multiple times | required"],
        ),
        (
            &["impact", "attach-role", "--role", "viewer", "--policy", "x"],
            &["unexpected argument '--policy'"],
        ),
        (
            &["impact", "replace-policy-document", "--policy", "p-support"],
            &["required", "--document"],
        ),
        (
            &[ANA_LEAVES_DEVOPS, &["--fail-on", "lots"]].concat(),
            &[
                "invalid value 'lots' for '--fail-on <FAIL_ON>'",
                "lost, gained, any",
            ],
        ),
        (
            &[ANA_LEAVES_DEVOPS, &["--fail-if-gains", "compute.*.Create"]].concat(),
            &["--fail-if-gains: invalid action pattern `compute.*.Create`"],
        ),
        (
            &["diff", &old, &new, "--fail-if-loses", "a b"],
            &["--fail-if-loses: invalid action pattern `a b`"],
        ),
        (
            &["diff", &old, &new, "--snapshot", &old],
            &["unexpected argument '--snapshot'"],
        ),
        // Gates belong to impact and diff only.
        (
            &[
                "who-can",
                "--action",
                "compute.instance.Read",
                "--fail-on",
                "any",
            ],
            &["unexpected argument '--fail-on'"],
        ),
        (
            &["redundant", "--fail-if-loses", "*"],
            &["unexpected argument '--fail-if-loses'"],
        ),
        (
            &["rank", "--user", "u-ana", "--fail-if-gains", "*"],
            &["unexpected argument '--fail-if-gains'"],
        ),
        (
            &[
                "who-can",
                "--action",
                "compute.instance.Read",
                "--format",
                "yaml",
            ],
            &["invalid value 'yaml'", "table, json, markdown"],
        ),
    ];
    for (args, fragments) in cases {
        iamsim(args).expect_error(fragments);
    }
}

/// A pattern that covers nothing in the organization's universe can never trip a gate or
/// select a removal: an error naming the nearest known actions. An action one or two edits
/// from a known one is a typo even where a wildcard element would hold it. Another action of
/// a known service is accepted (the catalogue is partial).
#[test]
fn patterns_covering_nothing_are_errors_with_suggestions() {
    let (old, new) = demo_and_modified();
    let never = "covers no action of the organization (the catalogue and the snapshot's policies), so it can never match";
    let cases: &[(&[&str], &[&str])] = &[
        (
            &[ANA_LEAVES_DEVOPS, &["--fail-if-loses", "Compute.*"]].concat(),
            &[
                "--fail-if-loses `Compute.*`: ",
                never,
                "; did you mean `compute.*`, ",
            ],
        ),
        (
            &[ANA_LEAVES_DEVOPS, &["--fail-if-loses", "billing.*"]].concat(),
            &[
                "--fail-if-loses `billing.*`: ",
                never,
                "; did you mean `account.billing.*`, ",
            ],
        ),
        (
            &[
                ANA_LEAVES_DEVOPS,
                &["--fail-if-gains", "compute.instance.Delet"],
            ]
            .concat(),
            &[
                "--fail-if-gains `compute.instance.Delet`: not an action of the organization",
                "did you mean `compute.instance.Delete`, ",
            ],
        ),
        (
            &[ANA_LEAVES_DEVOPS, &["--fail-if-loses", "nope.x.Y"]].concat(),
            &["--fail-if-loses `nope.x.Y`: ", never],
        ),
        (
            &["diff", &old, &new, "--fail-if-gains", "Network.*"],
            &["--fail-if-gains `Network.*`: ", "did you mean `network.*`"],
        ),
        (
            &["rank", "--user", "u-ana", "--keep", "comptue.*"],
            &["--keep `comptue.*`: ", never, "; did you mean `compute.*`?"],
        ),
        (
            &["rank", "--user", "u-ana", "--drop", "compute.instance.Lst"],
            &[
                "--drop `compute.instance.Lst`: ",
                "did you mean `compute.instance.List`",
            ],
        ),
    ];
    for (args, fragments) in cases {
        let run = iamsim(args);
        run.expect_error(fragments);
        assert_eq!(run.stdout, "", "{args:?}");
    }
    // Known services, or a wildcard element holding the action: accepted.
    let run = iamsim(
        &[
            ANA_LEAVES_DEVOPS,
            &["--fail-if-loses", "compute.sshkey.Create"],
        ]
        .concat(),
    );
    run.expect_code(1);
    assert!(run.stderr.contains("loses compute.* on *"), "{run:#?}");
    iamsim(&[ANA_LEAVES_DEVOPS, &["--fail-if-loses", "account.*"]].concat()).expect_code(0);
}

/// Options may come before or after the change subcommand.
#[test]
fn options_before_the_subcommand() {
    let run = iamsim(&[
        "impact",
        "--format",
        "json",
        "--fail-if-loses",
        "compute.instance.Create",
        "remove-member",
        "--group",
        "DevOps",
        "--user",
        "u-ana",
    ]);
    run.expect_code(1);
    let value = run.document();
    assert_eq!(value["users"][0]["user"]["id"], "u-ana");
}

/// What a tripped gate prints, byte for byte: the exit code and the whole of stderr (the notes,
/// each `gate tripped:` line with its first three hits and how many more), pinned as insta
/// snapshots `gate_stderr_<name>`.
fn check_stderr(name: &str, args: &[&str]) {
    let run = iamsim(args);
    insta::assert_snapshot!(
        format!("gate_stderr_{name}"),
        format!(
            "iamsim {}\nexit {}\n{}",
            args.join(" "),
            run.code,
            run.stderr
        )
    );
}

#[test]
fn every_gate_tripped_on_impact_byte_for_byte() {
    let args = [
        ANA_LEAVES_DEVOPS,
        &[
            "--fail-on",
            "any",
            "--fail-if-loses",
            "compute.instance.Reboot",
            "--fail-if-loses",
            "container.*",
            "--fail-if-gains",
            "*",
        ],
    ]
    .concat();
    check_stderr("impact", &args);
}

#[test]
fn gains_byte_for_byte() {
    let args = [
        DAN_LEAVES_CONTRACTORS,
        &["--fail-on", "gained", "--fail-if-gains", "compute.*"],
    ]
    .concat();
    check_stderr("impact_gains", &args);
}

/// The diff's file names are temporary: only the gate lines are pinned.
#[test]
fn every_gate_tripped_on_diff_byte_for_byte() {
    let (old, new) = demo_and_modified();
    let run = iamsim(&[
        "diff",
        &old,
        &new,
        "--fail-on",
        "any",
        "--fail-if-loses",
        "support.*",
        "--fail-if-gains",
        "account.billing.*",
    ]);
    insta::assert_snapshot!(
        "gate_stderr_diff",
        format!("exit {}\n{}", run.code, run.stderr)
    );
}
