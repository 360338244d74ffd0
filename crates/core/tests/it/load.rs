//! Bad input at the library boundary: what `Snapshot::from_json_*` and `Org::compile` say about
//! malformed files and policy documents (robustness.md, "Payloads and JSON" and "Policy documents").

use iamsim_core::{Catalogue, Org, Snapshot};

const HEAD: &str = r#"{"format": "iamsim.snapshot.v1", "organization": {"id": "o"}, "groups": [], "roles": [],
  "users": [{"id": "u", "email": "u@x", "policies": ["p"]}], "policies": [{"id": "p", "name": "p", "policy_document": "#;

/// A snapshot whose one policy document is `document`.
fn with_document(document: &str) -> String {
    format!("{HEAD}{document}}}]}}")
}

/// Loads and compiles; the error text of whichever step fails.
fn outcome(text: &[u8]) -> Result<Org, String> {
    let snapshot = Snapshot::from_json_bytes(text).map_err(|e| e.to_string())?;
    Org::compile(&snapshot, &Catalogue::bundled()).map_err(|e| e.to_string())
}

/// Each case: input, and a fragment the error must contain.
fn check_errors(cases: &[(&str, &str)]) {
    for (input, fragment) in cases {
        let err = outcome(input.as_bytes())
            .err()
            .unwrap_or_else(|| panic!("accepted: {input}"));
        assert!(
            err.contains(fragment),
            "input {input}\nerror {err}\nwanted {fragment}"
        );
        assert!(!err.contains('\n'), "one line: {err}");
    }
}

#[test]
fn malformed_json() {
    let valid = with_document(r#"{"Statement": []}"#);
    let truncated = &valid[..valid.len() - 10];
    let garbage = format!("{valid} trailing");
    check_errors(&[
        (truncated, "EOF while parsing"),
        (&garbage, "trailing characters"),
        (
            r#"{"format": "iamsim.snapshot.v2", "organization": {"id": "o"}, "users": [], "groups": [], "roles": [], "policies": []}"#,
            "format: unsupported snapshot format `iamsim.snapshot.v2`",
        ),
        (
            r#"{"format": "iamsim.snapshot.v1", "organization": {"id": "o"}, "users": [{"id": "u", "email": 3}], "groups": [], "roles": [], "policies": []}"#,
            "users[0].email: invalid type: integer `3`, expected a string",
        ),
        (
            r#"{"format": "iamsim.snapshot.v1", "organization": {"id": "o"}, "users": [], "groups": [], "roles": [{"id": "r", "name": "r", "role_type": "temporary"}], "policies": []}"#,
            "roles[0].role_type: unknown variant `temporary`",
        ),
        (
            r#"{"format": "iamsim.snapshot.v1", "organization": {"id": "o"}, "users": [], "groups": [], "roles": []}"#,
            "missing field `policies`",
        ),
    ]);
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let text = format!(
        r#"{{"format": "iamsim.snapshot.v1", "organization": {{"id": "o"}}, "users": [], "groups": [], "roles": [], "policies": [],
            "role_trusts": [{{"id": "t", "role_id": "r", "conditions": {deep}}}]}}"#
    );
    let err = outcome(text.as_bytes()).err().unwrap();
    assert!(err.contains("recursion limit exceeded"), "{err}");
}

#[test]
fn encoding() {
    let valid =
        with_document(r#"{"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}"#);
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(valid.as_bytes());
    assert!(outcome(&bom).is_ok(), "a BOM is accepted");
    let mut bad = valid.clone().into_bytes();
    bad.insert(40, 0xFF);
    assert_eq!(
        outcome(&bad).err().unwrap(),
        "invalid UTF-8 at byte offset 40"
    );
}

#[test]
fn statement_errors_name_policy_and_index() {
    let doc = |statement: &str| {
        with_document(&format!(
            r#"{{"Statement": [{{"Effect": "Allow", "Action": "*", "Resource": "*"}}, {statement}]}}"#
        ))
    };
    let cases: Vec<(String, &str)> = vec![
        (
            doc(r#"{"Effect": "allow", "Action": "*", "Resource": "*"}"#),
            "policies[0] (policy `p`) statement 1: unknown effect `allow`",
        ),
        (
            doc(r#"{"Effect": "Permit", "Action": "*", "Resource": "*"}"#),
            "unknown effect `Permit`",
        ),
        (
            doc(r#"{"Effect": "Allow ", "Action": "*", "Resource": "*"}"#),
            "unknown effect `Allow `",
        ),
        (
            doc(r#"{"Effect": null, "Action": "*", "Resource": "*"}"#),
            "Statement[1].Effect (policy `p` statement 1): invalid type: null",
        ),
        (
            doc(r#"{"Action": "*", "Resource": "*"}"#),
            "missing field `Effect`",
        ),
        (
            doc(r#"{"Effect": "Allow", "Resource": "*"}"#),
            "missing field `Action`",
        ),
        (
            doc(r#"{"Effect": "Allow", "Action": "*"}"#),
            "missing field `Resource`",
        ),
        (
            doc(r#"{"Effect": "Allow", "Effect": "Deny", "Action": "*", "Resource": "*"}"#),
            "duplicate field `Effect`",
        ),
        (
            doc(r#"{"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {}}"#),
            "unknown field `Condition`",
        ),
        (
            doc(r#"{"Effect": "Allow", "NotAction": "*", "Resource": "*"}"#),
            "unknown field `NotAction`",
        ),
        (
            doc(r#"{"Effect": "Allow", "Action": "*", "NotResource": "*"}"#),
            "unknown field `NotResource`",
        ),
        (
            doc(r#"{"Effect": "Allow", "Action": "compute.*.Create", "Resource": "*"}"#),
            "statement 1: invalid action pattern `compute.*.Create`",
        ),
        (
            doc(r#"{"Effect": "Allow", "Action": "*", "Resource": "reg*"}"#),
            "statement 1: invalid resource `reg*`",
        ),
        (
            doc(r#"{"Effect": "Allow", "Action": 7, "Resource": "*"}"#),
            "Statement[1].Action (policy `p` statement 1): invalid type: integer `7`, expected one item or an array",
        ),
    ];
    let cases: Vec<(&str, &str)> = cases.iter().map(|(i, f)| (i.as_str(), *f)).collect();
    check_errors(&cases);
}

#[test]
fn one_or_many_forms_agree() {
    let forms = [
        r#"{"Statement": {"Effect": "Allow", "Action": "compute.instance.Create", "Resource": "*"}}"#,
        r#"{"Statement": [{"Effect": "Allow", "Action": ["compute.instance.Create"], "Resource": ["*"]}]}"#,
        r#"{"Version": "2012-10-20", "Statement": [{"Sid": "x", "Effect": "Allow", "Action": "compute.instance.Create", "Resource": ["*"]}]}"#,
    ];
    let answers: Vec<_> = forms
        .iter()
        .map(|doc| {
            let org = outcome(with_document(doc).as_bytes()).unwrap();
            org.effective(org.find_user("u").unwrap())
        })
        .collect();
    assert_eq!(answers[0].allowed.len(), 1);
    assert!(answers.windows(2).all(|w| w[0] == w[1]));
}

#[test]
fn empty_lists_are_warnings() {
    let cases = [
        (
            r#"{"Statement": []}"#,
            "empty-policy",
            "policies[0].policy_document.Statement",
        ),
        (
            r#"{"Statement": [{"Effect": "Allow", "Action": [], "Resource": "*"}]}"#,
            "empty-statement",
            "policies[0].policy_document.Statement[0].Action",
        ),
        (
            r#"{"Statement": [{"Effect": "Deny", "Action": "*", "Resource": []}]}"#,
            "empty-statement",
            "policies[0].policy_document.Statement[0].Resource",
        ),
    ];
    for (doc, code, path) in cases {
        let org = outcome(with_document(doc).as_bytes()).unwrap();
        let got: Vec<_> = org
            .diagnostics()
            .iter()
            .map(|d| (d.code, d.path.as_str()))
            .collect();
        assert_eq!(got, [(code, path)], "{doc}");
        assert!(org
            .effective(org.find_user("u").unwrap())
            .allowed
            .is_empty());
    }
}

#[test]
fn duplicate_entity_id_is_an_error() {
    let text = r#"{"format": "iamsim.snapshot.v1", "organization": {"id": "o"}, "groups": [], "roles": [], "policies": [],
        "users": [{"id": "u", "email": "a@x"}, {"id": "v", "email": "b@x"}, {"id": "u", "email": "c@x"}]}"#;
    assert_eq!(
        outcome(text.as_bytes()).err().unwrap(),
        "users[2]: duplicate user id `u` (first at users[0])"
    );
}

/// The path names the snapshot's array (`policies`, `role_trusts`), not the noun plus `s`.
#[test]
fn duplicate_ids_name_the_array() {
    let policies = r#"{"format": "iamsim.snapshot.v1", "organization": {"id": "o"}, "users": [], "groups": [], "roles": [],
        "policies": [{"id": "p", "name": "a", "policy_document": {"Statement": []}},
                     {"id": "p", "name": "b", "policy_document": {"Statement": []}}]}"#;
    assert_eq!(
        outcome(policies.as_bytes()).err().unwrap(),
        "policies[1]: duplicate policy id `p` (first at policies[0])"
    );
    let trusts = r#"{"format": "iamsim.snapshot.v1", "organization": {"id": "o"}, "users": [], "groups": [], "policies": [],
        "roles": [{"id": "r", "name": "r", "role_type": "assumable"}],
        "role_trusts": [{"id": "t", "role_id": "r", "user_id": "u"}, {"id": "t", "role_id": "r", "user_id": "u"}]}"#;
    assert_eq!(
        outcome(trusts.as_bytes()).err().unwrap(),
        "role_trusts[1]: duplicate role trust id `t` (first at role_trusts[0])"
    );
}

#[test]
fn lookups_name_candidates() {
    let text = r#"{"format": "iamsim.snapshot.v1", "organization": {"id": "o"}, "roles": [], "policies": [],
        "users": [{"id": "u1", "email": "ana@x.example"}, {"id": "u2", "email": "ana@y.example"}],
        "groups": [{"id": "g1", "display_name": "DevOps"}, {"id": "g2", "display_name": "devops"}]}"#;
    let org = outcome(text.as_bytes()).unwrap();
    assert_eq!(
        org.find_user("ANA@x.example")
            .map(|u| org.user_id(u).to_string()),
        Ok("u1".into())
    );
    assert_eq!(
        org.find_user("bob").unwrap_err().to_string(),
        "no user matches `bob`"
    );
    assert_eq!(
        org.find_user("ana").unwrap_err().to_string(),
        "no user matches `ana`; candidates: `u1` (ana@x.example), `u2` (ana@y.example)"
    );
    assert_eq!(
        org.find_group("devops")
            .map(|g| org.group_id(g).to_string()),
        Ok("g2".into())
    );
    assert_eq!(
        org.find_group("DEVOPS").unwrap_err().to_string(),
        "`DEVOPS` matches several groups; candidates: `g1` (DevOps), `g2` (devops)"
    );
}

/// Several policies are `policies`, not `policys`.
#[test]
fn ambiguous_policies_use_the_plural() {
    let text = r#"{"format": "iamsim.snapshot.v1", "organization": {"id": "o"}, "users": [], "groups": [], "roles": [],
        "policies": [{"id": "p1", "name": "Ops", "policy_document": {"Statement": []}},
                     {"id": "p2", "name": "ops", "policy_document": {"Statement": []}}]}"#;
    let org = outcome(text.as_bytes()).unwrap();
    let err = org.find_policy("OPS").unwrap_err();
    assert_eq!(
        err.to_string(),
        "`OPS` matches several policies; candidates: `p1` (Ops), `p2` (ops)"
    );
    assert!(matches!(
        err,
        iamsim_core::LookupError::Ambiguous {
            kind: iamsim_core::EntityKind::Policy,
            ..
        }
    ));
}

/// An error inside a policy but outside its statements names the policy by id too.
#[test]
fn policy_errors_outside_statements_name_the_policy() {
    let text = r#"{"format": "iamsim.snapshot.v1", "organization": {"id": "o"}, "users": [], "groups": [], "roles": [],
        "policies": [{"id": "p-1", "name": 7, "policy_document": {"Statement": []}}]}"#;
    let err = outcome(text.as_bytes()).err().unwrap();
    assert!(
        err.starts_with("policies[0].name (policy `p-1`): invalid type: integer `7`"),
        "{err}"
    );
}

/// R-POL-11: a document over a cap is an error naming the policy and the statement; at the
/// cap, it compiles. The caps are `policy::{MAX_STATEMENTS, MAX_PATTERNS, MAX_PATTERN_LEN}`.
#[test]
fn documents_over_the_caps_are_errors() {
    use iamsim_core::policy::{MAX_PATTERNS, MAX_PATTERN_LEN, MAX_STATEMENTS};
    let statement = r#"{"Effect": "Allow", "Action": "compute.instance.Read", "Resource": "*"}"#;
    let statements = |n: usize| {
        with_document(&format!(
            r#"{{"Statement": [{}]}}"#,
            vec![statement; n].join(",")
        ))
    };
    assert!(outcome(statements(MAX_STATEMENTS).as_bytes()).is_ok());
    let err = outcome(statements(MAX_STATEMENTS + 1).as_bytes()).unwrap_err();
    assert_eq!(
        err,
        format!(
            "policies[0] (policy `p`) statement {MAX_STATEMENTS}: the document has {} statements, \
             over the cap of {MAX_STATEMENTS}",
            MAX_STATEMENTS + 1
        )
    );
    // Patterns: 5 statements of MAX_PATTERNS / 5 patterns each (one resource, the rest
    // actions) reach the cap; one more action in the last statement passes it.
    let actions = |n: usize| vec!["\"compute.instance.Read\""; n].join(",");
    let per = MAX_PATTERNS / 5;
    let document = |last: usize| {
        let mut list = vec![
            format!(
                r#"{{"Effect": "Allow", "Action": [{}], "Resource": "*"}}"#,
                actions(per - 1)
            );
            4
        ];
        list.push(format!(
            r#"{{"Effect": "Allow", "Action": [{}], "Resource": "*"}}"#,
            actions(last)
        ));
        with_document(&format!(r#"{{"Statement": [{}]}}"#, list.join(",")))
    };
    assert!(outcome(document(per - 1).as_bytes()).is_ok());
    let err = outcome(document(per).as_bytes()).unwrap_err();
    assert!(
        err.starts_with("policies[0] (policy `p`) statement 4: the document names more than"),
        "{err}"
    );
    // One pattern's length.
    let long = format!("compute.instance.{}", "R".repeat(MAX_PATTERN_LEN));
    let err = outcome(
        with_document(&format!(
            r#"{{"Statement": {{"Effect": "Allow", "Action": "{long}", "Resource": "*"}}}}"#
        ))
        .as_bytes(),
    )
    .unwrap_err();
    assert!(
        err.contains("statement 0: invalid action pattern `compute.instance.RRR"),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "{} bytes, over the cap of {MAX_PATTERN_LEN}",
            long.len()
        )),
        "{err}"
    );
    assert!(err.len() < 200, "the error stays one short line: {err}");
    let err = outcome(
        with_document(&format!(
            r#"{{"Statement": {{"Effect": "Allow", "Action": "*", "Resource": "{}"}}}}"#,
            "r".repeat(MAX_PATTERN_LEN + 1)
        ))
        .as_bytes(),
    )
    .unwrap_err();
    assert!(err.contains("invalid resource `rrr"), "{err}");
}
