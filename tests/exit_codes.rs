//! Exit codes follow diff(1): 0 ran, 1 a `--fail-if-loses` gate tripped, 2 an error.

use crate::util::{data, iamsim, ANA_LEAVES_DEVOPS, DAN_LEAVES_CONTRACTORS};

/// Runs `base` plus a `--fail-if-loses` for each gate and checks the exit code and, on 1, that
/// stderr has a `gate tripped` line per expected fragment list, and stdout still the report.
fn check_gates(base: &[&str], gates: &[&str], code: i32, tripped: &[&[&str]]) {
    let mut args = base.to_vec();
    for gate in gates {
        args.extend(["--fail-if-loses", gate]);
    }
    let run = iamsim(&args);
    run.expect_code(code);
    assert!(run.stdout.starts_with("Change: remove "), "{run:#?}");
    let lines: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("gate tripped"))
        .collect();
    assert_eq!(lines.len(), tripped.len(), "{run:#?}");
    for (line, fragments) in lines.iter().zip(tripped) {
        crate::util::expect_fragments(line, fragments);
    }
    assert!(
        run.error_lines()
            .iter()
            .all(|l| l.starts_with("gate tripped")),
        "{run:#?}"
    );
}

/// `(command, gates, exit code, fragments of each "gate tripped" line)`.
type GateCase<'a> = (&'a [&'a str], &'a [&'a str], i32, &'a [&'a [&'a str]]);

#[test]
fn fail_if_loses() {
    let cases: &[GateCase] = &[
        (
            ANA_LEAVES_DEVOPS,
            &["compute.instance.Create"],
            1,
            &[&[
                "gate tripped: --fail-if-loses `compute.instance.Create`",
                "ana@acme.example loses compute.instance.Create on *",
            ]],
        ),
        // A wildcard gate trips on any action under it.
        (
            ANA_LEAVES_DEVOPS,
            &["network.*"],
            1,
            &[&["`network.*`", "ana@acme.example loses network.", "more)"]],
        ),
        // Kept through Billing: the gate holds.
        (ANA_LEAVES_DEVOPS, &["account.billing.Read"], 0, &[]),
        // Kept through the viewer role, though the lost `compute.*` covers it as a pattern.
        (ANA_LEAVES_DEVOPS, &["compute.instance.Read"], 0, &[]),
        // Not in the catalogue: lost with the `compute.*` element that stands for it.
        (
            ANA_LEAVES_DEVOPS,
            &["compute.gizmo.Spin"],
            1,
            &[&[
                "`compute.gizmo.Spin`",
                "ana@acme.example loses compute.* on *",
            ]],
        ),
        (
            ANA_LEAVES_DEVOPS,
            &["compute.instance.*"],
            1,
            &[&[
                "`compute.instance.*`",
                "loses compute.* on *",
                "loses compute.instance.Create on *",
            ]],
        ),
        // Only the gates that trip are reported.
        (
            ANA_LEAVES_DEVOPS,
            &["account.billing.Read", "container.registry.Push"],
            1,
            &[&["`container.registry.Push`", "on registry:reg-7f3a"]],
        ),
        // Dan loses nothing (he gains compute.instance.Delete).
        (DAN_LEAVES_CONTRACTORS, &["*"], 0, &[]),
        (DAN_LEAVES_CONTRACTORS, &["compute.instance.Delete"], 0, &[]),
    ];
    for (base, gates, code, tripped) in cases {
        check_gates(base, gates, *code, tripped);
    }
}

#[test]
fn a_tripped_gate_still_prints_valid_json() {
    let run = iamsim(
        &[
            ANA_LEAVES_DEVOPS,
            &[
                "--format",
                "json",
                "--fail-if-loses",
                "compute.instance.Create",
            ],
        ]
        .concat(),
    );
    run.expect_code(1);
    let value = run.document();
    assert_eq!(value["users"][0]["user"]["id"], "u-ana");
}

#[test]
fn errors_exit_2_with_one_line() {
    let small = data("small.json");
    let missing = data("no-such-file.json");
    let truncated = crate::util::temp_file(
        "truncated.json",
        r#"{"format": "iamsim.snapshot.v1", "users": ["#,
    );
    let cases: &[(&[&str], &[&str])] = &[
        // Usage errors, from clap.
        (&[], &["a command is required"]),
        (&["impact"], &["impact needs a change"]),
        (
            &["efective", "--user", "x"],
            &["unrecognized subcommand", "efective"],
        ),
        (
            &["impact", "remove-member", "--user", "ana@acme.example"],
            &["required", "--group"],
        ),
        (
            &["effective", "--user", "ana@acme.example", "--format", "xml"],
            &["invalid value 'xml'", "table, json"],
        ),
        (
            &["effective", "--user", "ana@acme.example", "--bogus"],
            &["--bogus"],
        ),
        // Unknown, ambiguous, not a member.
        (
            &["effective", "--user", "nobody@acme.example"],
            &["no user matches `nobody@acme.example`"],
        ),
        (
            &["effective", "--user", "ana"],
            &[
                "no user matches `ana`",
                "candidates: `u-ana` (ana@acme.example)",
            ],
        ),
        (
            &["effective", "--user", "acme.example"],
            &["candidates:", "`u-olivia`", "`u-dan`", "`u-ci`"],
        ),
        (
            &[
                "impact",
                "remove-member",
                "--group",
                "Ops",
                "--user",
                "ana@acme.example",
            ],
            &["no group matches `Ops`", "`g-devops` (DevOps)"],
        ),
        (
            &["effective", "--user", "lee@t.example", "--snapshot", &small],
            &[
                "`lee@t.example` matches several users",
                "`u-lee-1`",
                "`u-lee-2`",
            ],
        ),
        (
            &[
                "impact",
                "remove-member",
                "--group",
                "Team",
                "--user",
                "kim@t.example",
                "--snapshot",
                &small,
            ],
            &["`Team` matches several groups", "`g-team-1`", "`g-team-2`"],
        ),
        (
            &[
                "impact",
                "remove-member",
                "--group",
                "Billing",
                "--user",
                "dan@acme.example",
            ],
            &["user `u-dan` is not a member of group `g-billing`"],
        ),
        // Invalid gate pattern: refused before anything runs.
        (
            &[ANA_LEAVES_DEVOPS, &["--fail-if-loses", "compute.*.Create"]].concat(),
            &[
                "--fail-if-loses",
                "invalid action pattern `compute.*.Create`",
            ],
        ),
        (
            &[ANA_LEAVES_DEVOPS, &["--fail-if-loses", ""]].concat(),
            &["--fail-if-loses", "empty"],
        ),
        // Bad --action / --resource for explain.
        (
            &[
                "explain",
                "--user",
                "ana@acme.example",
                "--action",
                "compute.instance.*",
            ],
            &["--action: `compute.instance.*` is a wildcard no policy names"],
        ),
        (
            &[
                "explain",
                "--user",
                "ana@acme.example",
                "--action",
                "compute instance",
            ],
            &["--action: invalid action pattern `compute instance`: contains whitespace"],
        ),
        (
            &[
                "explain",
                "--user",
                "ana@acme.example",
                "--action",
                "compute.instance.Create",
                "--resource",
                "reg*stry:1",
            ],
            &["--resource: invalid resource `reg*stry:1`"],
        ),
        // Files.
        (
            &[
                "effective",
                "--user",
                "ana@acme.example",
                "--snapshot",
                &missing,
            ],
            &[&missing],
        ),
        (
            &[
                "effective",
                "--user",
                "ana@acme.example",
                "--snapshot",
                &truncated,
            ],
            &[&truncated, "EOF while parsing"],
        ),
        // A name with a newline and an escape stays on one line, inert.
        (
            &["effective", "--user", "x\ny\u{1b}[31m"],
            &["no user matches `x\\ny\\u{1b}[31m`"],
        ),
    ];
    for (args, fragments) in cases {
        let run = iamsim(args);
        run.expect_error(fragments);
        assert!(!run.stderr.contains('\u{1b}'), "{run:#?}");
    }
}

#[test]
fn help_and_version_exit_0() {
    for (args, fragment) in [
        (
            &["--help"][..],
            "Exit codes: 0 ran, 1 a gate tripped, 2 error.",
        ),
        (&["impact", "remove-member", "--help"], "--fail-if-loses"),
        (&["--version"], "iamsim "),
    ] {
        let run = iamsim(args);
        run.expect_code(0);
        assert!(run.stdout.contains(fragment), "{run:#?}");
        assert_eq!(run.stderr, "", "{run:#?}");
    }
}
