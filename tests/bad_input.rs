//! Bad snapshots: malformed JSON, malformed policy documents, dangling references.
//!
//! Errors exit 2 with one line naming what and where; messy-but-usable data runs (exit 0) with
//! a warning naming the JSON path, and exits 2 under `--strict`.

use crate::util::{data, iamsim, temp_file};

enum Expect<'a> {
    /// Exit 0, no warning.
    Fine,
    /// Exit 0 with a warning line holding every fragment; exit 2 under `--strict`.
    Warning(&'a [&'a str]),
    /// Exit 2, one error line holding every fragment.
    Error(&'a [&'a str]),
}

/// Runs `effective` for `one@b.example` on `snapshot` and checks the outcome.
fn check(label: &str, snapshot: impl AsRef<[u8]>, expect: Expect) {
    let path = temp_file(&format!("{label}.json"), snapshot);
    let args = [
        "effective",
        "--user",
        "one@b.example",
        "--snapshot",
        &path,
        "--format",
        "json",
    ];
    let run = iamsim(&args);
    match expect {
        Expect::Fine => {
            run.json();
            assert_eq!(run.warnings(), Vec::<&str>::new(), "{label}: {run:#?}");
        }
        Expect::Warning(fragments) => {
            run.json();
            run.expect_warning(fragments);
            let strict = iamsim(&[&args[..], &["--strict"]].concat());
            strict.expect_error(&[&path, "--strict"]);
        }
        Expect::Error(fragments) => {
            run.expect_error(&[&[path.as_str()][..], fragments].concat());
        }
    }
}

/// A snapshot whose policy `p-1` (at `policies[1]`, so that index and id differ) has the given
/// `Statement`. `one@b.example` is in group Ops, which has `p-1`.
fn with_statement(statement: &str) -> String {
    format!(
        r#"{{
  "format": "iamsim.snapshot.v1",
  "organization": {{"id": "org-b", "name": "Bad"}},
  "users": [{{"id": "u-1", "email": "one@b.example", "name": "One"}}],
  "groups": [{{"id": "g-1", "display_name": "Ops", "members": ["u-1"], "policies": ["p-1"]}}],
  "roles": [],
  "policies": [
    {{"id": "p-0", "name": "fine", "policy_document": {{"Version": "2026-03-20",
      "Statement": [{{"Effect": "Allow", "Action": "compute.instance.List", "Resource": "*"}}]}}}},
    {{"id": "p-1", "name": "under-test", "policy_document": {{"Version": "2026-03-20",
      "Statement": {statement}}}}}
  ]
}}"#
    )
}

const GOOD: &str = r#"{"Effect": "Allow", "Action": "compute.instance.Create", "Resource": "*"}"#;

/// A statement array: a good statement 0, then `bad` as statement 1.
fn second(bad: &str) -> String {
    with_statement(&format!("[{GOOD}, {bad}]"))
}

#[test]
fn policy_documents() {
    let cases: Vec<(&str, String, Expect)> = vec![
        ("good", with_statement(GOOD), Expect::Fine),
        // R-POL-01, R-POL-02: empty lists are legal but suspicious.
        (
            "empty-action",
            second(r#"{"Effect": "Allow", "Action": [], "Resource": "*"}"#),
            Expect::Warning(&[
                "policies[1].policy_document.Statement[1].Action",
                "`p-1` statement 1 names no action",
            ]),
        ),
        (
            "empty-resource",
            second(r#"{"Effect": "Allow", "Action": "compute.instance.Read", "Resource": []}"#),
            Expect::Warning(&[
                "policies[1].policy_document.Statement[1].Resource",
                "no resource",
            ]),
        ),
        (
            "empty-statement",
            with_statement("[]"),
            Expect::Warning(&[
                "policies[1].policy_document.Statement",
                "policy `p-1` has no statement",
            ]),
        ),
        (
            "missing-action",
            second(r#"{"Effect": "Allow", "Resource": "*"}"#),
            Expect::Error(&["missing field `Action`", "Statement[1] | statement 1"]),
        ),
        // R-POL-04: no normalisation of Effect.
        (
            "effect-lowercase",
            second(r#"{"Effect": "allow", "Action": "compute.instance.Read", "Resource": "*"}"#),
            Expect::Error(&["`p-1`", "statement 1", "unknown effect `allow`"]),
        ),
        (
            "effect-permit",
            second(r#"{"Effect": "Permit", "Action": "compute.instance.Read", "Resource": "*"}"#),
            Expect::Error(&["`p-1`", "statement 1", "unknown effect `Permit`"]),
        ),
        (
            "effect-trailing-space",
            second(r#"{"Effect": "Allow ", "Action": "compute.instance.Read", "Resource": "*"}"#),
            Expect::Error(&["`p-1`", "statement 1", "unknown effect `Allow `"]),
        ),
        (
            "effect-missing",
            second(r#"{"Action": "compute.instance.Read", "Resource": "*"}"#),
            Expect::Error(&["missing field `Effect`", "Statement[1] | statement 1"]),
        ),
        // R-JSON-06: a wrong type, with its path.
        (
            "effect-null",
            second(r#"{"Effect": null, "Action": "compute.instance.Read", "Resource": "*"}"#),
            Expect::Error(&[
                "policies[1].policy_document.Statement[1].Effect",
                "invalid type: null",
            ]),
        ),
        (
            "action-number",
            second(
                r#"{"Effect": "Allow", "Action": ["compute.instance.Read", 7], "Resource": "*"}"#,
            ),
            Expect::Error(&[
                "policies[1].policy_document.Statement[1].Action[1]",
                "invalid type: integer `7`",
            ]),
        ),
        // R-POL-05.
        (
            "duplicate-effect",
            second(
                r#"{"Effect": "Deny", "Effect": "Allow", "Action": "compute.instance.Read", "Resource": "*"}"#,
            ),
            Expect::Error(&["duplicate field `Effect`", "Statement[1]"]),
        ),
        (
            "duplicate-effect-single-statement",
            with_statement(
                r#"{"Effect": "Deny", "Effect": "Allow", "Action": "compute.instance.Read", "Resource": "*"}"#,
            ),
            Expect::Error(&[
                "duplicate field `Effect`",
                "policies[1].policy_document.Statement",
            ]),
        ),
        // R-POL-06: elements iamsim does not model are refused, not ignored.
        (
            "condition",
            second(
                r#"{"Effect": "Allow", "Action": "compute.instance.Read", "Resource": "*", "Condition": {"IpAddress": "10.0.0.0/8"}}"#,
            ),
            Expect::Error(&["`Condition`", "Statement[1]"]),
        ),
        (
            "not-action",
            second(r#"{"Effect": "Deny", "NotAction": "compute.instance.Read", "Resource": "*"}"#),
            Expect::Error(&["`NotAction`", "Statement[1]"]),
        ),
        (
            "not-resource",
            second(r#"{"Effect": "Deny", "Action": "compute.instance.Read", "NotResource": "*"}"#),
            Expect::Error(&["`NotResource`", "Statement[1]"]),
        ),
        // R-POL-08: unknown actions run, with a warning.
        (
            "case-typo",
            second(r#"{"Effect": "Allow", "Action": "compute.instance.create", "Resource": "*"}"#),
            Expect::Warning(&[
                "policies[1].policy_document.Statement[1].Action[0]",
                "`p-1`",
                "unknown action `compute.instance.create`",
                "did you mean `compute.instance.Create`?",
            ]),
        ),
        (
            "unknown-action",
            second(
                r#"{"Effect": "Allow", "Action": ["compute.instance.Read", "compute.gizmo.Spin"], "Resource": "*"}"#,
            ),
            Expect::Warning(&[
                "policies[1].policy_document.Statement[1].Action[1]",
                "unknown action `compute.gizmo.Spin`",
            ]),
        ),
        (
            "wildcard-case-typo",
            second(r#"{"Effect": "Allow", "Action": "Compute.*", "Resource": "*"}"#),
            Expect::Warning(&["`Compute.*` covers no action", "case"]),
        ),
        (
            "bad-resource",
            second(
                r#"{"Effect": "Allow", "Action": "compute.instance.Read", "Resource": "reg*stry:1"}"#,
            ),
            Expect::Error(&["`p-1`", "statement 1", "invalid resource `reg*stry:1`"]),
        ),
    ];
    for (label, snapshot, expect) in cases {
        check(label, snapshot, expect);
    }
}

#[test]
fn missing_resource_names_the_policy() {
    // R-POL-03: no default for a missing Resource; the error names the policy by its id (here
    // `p-1`, at `policies[1]`) and the statement by its index.
    check(
        "missing-resource",
        second(r#"{"Effect": "Allow", "Action": "compute.instance.Read"}"#),
        Expect::Error(&[
            "missing field `Resource`",
            "`p-1`",
            "Statement[1] | statement 1",
        ]),
    );
}

#[test]
fn invalid_action_patterns() {
    // R-POL-07: each names the pattern, the policy id and the statement index.
    for pattern in [
        "comp*te.instance.Create",
        "compute.*.Create",
        "compute.inst*",
        "**",
        "compute..Create",
        ".compute.instance.Create",
        "compute.instance.Create.",
        "compute.instance. Create",
        " compute.instance.Create",
        "compute instance Create",
        "compute.instance",
        "",
    ] {
        let statement = format!(
            r#"{{"Effect": "Allow", "Action": ["compute.instance.Read", {}], "Resource": "*"}}"#,
            serde_json::Value::from(pattern)
        );
        let quoted = format!("invalid action pattern `{pattern}`");
        check(
            "pattern",
            second(&statement),
            Expect::Error(&["policies[1] (policy `p-1`) statement 1", &quoted]),
        );
    }
}

/// Runs `effective --format json` on each snapshot: all succeed, warn of nothing, and print the
/// same bytes, which grant `expected`.
fn same_result(label: &str, snapshots: &[String], expected: &str) {
    let outputs: Vec<String> = snapshots
        .iter()
        .map(|snapshot| {
            let path = temp_file(&format!("{label}.json"), snapshot);
            let run = iamsim(&[
                "effective",
                "--user",
                "one@b.example",
                "--snapshot",
                &path,
                "--format",
                "json",
            ]);
            let value = run.json();
            assert_eq!(run.warnings(), Vec::<&str>::new(), "{label}: {run:#?}");
            assert!(
                value["allowed"]
                    .as_array()
                    .expect("allowed")
                    .iter()
                    .any(|e| e["action"] == expected),
                "{label}: {expected} allowed in {value:#}"
            );
            run.stdout
        })
        .collect();
    for output in &outputs[1..] {
        assert_eq!(output, &outputs[0], "{label}");
    }
}

#[test]
fn one_or_many_forms_mean_the_same() {
    same_result(
        "action",
        &[
            with_statement(
                r#"{"Effect": "Allow", "Action": "compute.instance.Create", "Resource": "*"}"#,
            ),
            with_statement(
                r#"{"Effect": "Allow", "Action": ["compute.instance.Create"], "Resource": "*"}"#,
            ),
        ],
        "compute.instance.Create",
    );
    same_result(
        "statement",
        &[with_statement(GOOD), with_statement(&format!("[{GOOD}]"))],
        "compute.instance.Create",
    );
    same_result(
        "resource",
        &[
            with_statement(
                r#"{"Effect": "Allow", "Action": "compute.instance.Create", "Resource": ["*"]}"#,
            ),
            with_statement(GOOD),
        ],
        "compute.instance.Create",
    );
}

/// Line and column (both one-based, as serde_json counts) of the end of `text`.
fn end_position(text: &str) -> (usize, usize) {
    let line = text.matches('\n').count() + 1;
    let column = text.len() - text.rfind('\n').map_or(0, |i| i + 1);
    (line, column)
}

#[test]
fn malformed_json() {
    let good = with_statement(GOOD);

    // R-JSON-01: truncated in the middle of the policies.
    let cut = &good[..good.find("\"under-test\"").expect("marker") + 5];
    let (line, column) = end_position(cut);
    let at = format!("line {line} column {column}");
    check("truncated", cut, Expect::Error(&["EOF while parsing", &at]));

    // R-JSON-02: trailing garbage, or a second document.
    check(
        "trailing-garbage",
        format!("{good} garbage"),
        Expect::Error(&["trailing characters"]),
    );
    check(
        "second-document",
        format!("{good}\n{good}"),
        Expect::Error(&["trailing characters"]),
    );
    check(
        "trailing-newlines-are-fine",
        format!("{good}\n\n"),
        Expect::Fine,
    );

    // R-JSON-03: nesting 10,000 deep inside free-form trust conditions: an error, no crash.
    for (open, close) in [("[", "]"), ("{\"a\":", "}")] {
        let deep = format!("{}1{}", open.repeat(10_000), close.repeat(10_000));
        let snapshot = good.replacen(
            "\n  \"policies\": [",
            &format!(
                "\n  \"role_trusts\": [{{\"id\": \"t-1\", \"role_id\": \"r-1\", \"conditions\": {deep}}}],\n  \"policies\": ["
            ),
            1,
        );
        assert!(snapshot.contains("role_trusts"), "the nesting is in place");
        check(
            "deep",
            snapshot,
            Expect::Error(&["recursion limit exceeded", "role_trusts[0].conditions"]),
        );
    }

    // R-JSON-06: a number where a string belongs, with its path.
    check(
        "email-number",
        good.replacen("\"one@b.example\"", "42", 1),
        Expect::Error(&["users[0].email: invalid type: integer `42`, expected a string"]),
    );
    check(
        "users-object",
        good.replacen(
            "\"users\": [{\"id\": \"u-1\", \"email\": \"one@b.example\", \"name\": \"One\"}]",
            "\"users\": {}",
            1,
        ),
        Expect::Error(&["users: invalid type: map"]),
    );
    check(
        "duplicate-top-level-key",
        good.replacen("\"roles\": [],", "\"roles\": [], \"roles\": [],", 1),
        Expect::Error(&["duplicate field `roles`"]),
    );
    check("empty-file", "", Expect::Error(&["EOF while parsing"]));

    // R-JSON-05: fields outside the format (outside policy documents) are ignored.
    same_result(
        "unknown-field",
        &[
            good.replacen(
                "\"name\": \"One\"",
                "\"name\": \"One\", \"api_enabled\": true",
                1,
            ),
            good.clone(),
        ],
        "compute.instance.Create",
    );

    // Unsupported format.
    check(
        "format",
        good.replacen("iamsim.snapshot.v1", "iamsim.snapshot.v2", 1),
        Expect::Error(&["format: unsupported snapshot format `iamsim.snapshot.v2`"]),
    );
}

#[test]
fn encodings() {
    let good = with_statement(GOOD);
    // R-JSON-07: a BOM is accepted, and changes nothing.
    check("bom", format!("\u{feff}{good}"), Expect::Fine);
    same_result(
        "bom",
        &[format!("\u{feff}{good}"), good.clone()],
        "compute.instance.Create",
    );

    // Invalid UTF-8: the byte offset of the bad byte in the file.
    let mut bytes = good.clone().into_bytes();
    let offset = good.find("One\"}").expect("marker") + 1;
    bytes[offset] = 0xff;
    let message = format!("invalid UTF-8 at byte offset {offset}");
    check("latin1", &bytes, Expect::Error(&[&message]));
}

#[test]
fn invalid_utf8_offset_counts_the_bom() {
    // The offset is a position in the file, BOM included.
    let good = with_statement(GOOD);
    let offset = good.find("One\"}").expect("marker") + 1;
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend_from_slice(good.as_bytes());
    bytes[offset + 3] = 0xff;
    let message = format!("invalid UTF-8 at byte offset {}", offset + 3);
    check("bom-latin1", &bytes, Expect::Error(&[&message]));
}

#[test]
fn referential_integrity() {
    // R-CONS-02, R-CONS-03: dangling ids run with warnings naming the JSON path.
    let path = data("dangling.json");
    let args = ["effective", "--user", "one@d.example", "--snapshot", &path];
    let run = iamsim(&[&args[..], &["--format", "json"]].concat());
    let value = run.json();
    for (at, what) in [
        ("groups[0].members[1]", "no user has id `u-ghost`"),
        ("groups[0].roles[1]", "no role has id `r-ghost`"),
        ("roles[0].policies[1]", "no policy has id `p-ghost`"),
        (
            "role_trusts[0].trusted_group_id",
            "no group has id `g-ghost`",
        ),
    ] {
        run.expect_warning(&[
            &format!("warning: {path}: {at}: "),
            what,
            "[dangling-reference]",
        ]);
    }
    assert_eq!(run.warnings().len(), 4, "{run:#?}");
    // What resolves still counts; the dangling ids grant nothing.
    let allowed: Vec<&str> = value["allowed"]
        .as_array()
        .expect("allowed")
        .iter()
        .map(|e| e["action"].as_str().expect("action"))
        .collect();
    assert_eq!(
        allowed,
        ["compute.instance.Create", "compute.instance.Read"]
    );
    assert_eq!(value["assumable"], serde_json::json!([]));

    iamsim(&[&args[..], &["--strict"]].concat())
        .expect_error(&[&path, "4 diagnostic(s) and --strict is set"]);

    // A repeated id is not messy data but an ambiguity: an error.
    let path = data("duplicate-user.json");
    iamsim(&["effective", "--user", "two@d.example", "--snapshot", &path]).expect_error(&[
        &path,
        "users[2]: duplicate user id `u-1` (first at users[0])",
    ]);
    // The path names the snapshot's `policies` array (it said `policys` once).
    let path = data("duplicate-policy.json");
    iamsim(&["effective", "--user", "one@d.example", "--snapshot", &path]).expect_error(&[
        &path,
        "policies[1]: duplicate policy id `p-1` (first at policies[0])",
    ]);
}
