//! robustness.md "Payloads and JSON", for API responses: malformed, hostile and unexpected
//! bodies are errors with a JSON path, never a panic; unknown fields are ignored.

use iamsim_vultr::fake::{Fault, FaultAction};

use crate::support::{error_text, fetch, organization, small, start};

fn json_body(body: &str) -> FaultAction {
    FaultAction::Body {
        status: 200,
        content_type: "application/json".into(),
        body: body.into(),
    }
}

/// `(path faulted, fault, fragments the error must hold)`.
fn check(cases: &[(&str, FaultAction, &[&str])]) {
    for (path, action, fragments) in cases {
        let server = start(small(), vec![Fault::on(path, action.clone())]);
        let text = error_text(fetch(&server));
        for fragment in *fragments {
            assert!(
                text.contains(fragment),
                "{action:?}: `{fragment}` not in: {text}"
            );
        }
        assert!(text.contains(&format!("GET /v2{path}")), "{text}");
    }
}

/// R-JSON-01: a truncated JSON body is an error with its JSON path.
#[test]
fn truncated_json() {
    check(&[
        (
            "/users",
            json_body(r#"{"users": [{"id": "u-1", "email": "a@"#),
            &["invalid JSON at `users[0].email`", "EOF while parsing"],
        ),
        (
            "/groups",
            json_body(r#"{"groups": ["#),
            &["invalid JSON", "EOF"],
        ),
    ]);
}

/// An HTML page sent as `application/json` is an error that shows how the body starts.
#[test]
fn html_sent_as_json_shows_the_start_of_the_body() {
    check(&[(
        "/users",
        json_body("<html><body>502 Bad Gateway</body></html>"),
        &[
            "invalid JSON",
            "the body starts with `<html><body>502 Bad Gateway",
        ],
    )]);
}

/// R-JSON-02: trailing garbage after valid JSON is rejected.
#[test]
fn trailing_garbage() {
    check(&[
        (
            "/users",
            FaultAction::Trailing {
                text: " garbage".into(),
            },
            &["invalid JSON", "trailing characters"],
        ),
        (
            "/roles",
            FaultAction::Trailing { text: "{}".into() },
            &["trailing characters"],
        ),
    ]);
}

/// R-JSON-03: nesting 10,000 deep is a recursion-limit error, not a stack overflow.
#[test]
fn deep_nesting() {
    check(&[(
        "/users",
        FaultAction::Deep { depth: 10_000 },
        &["recursion limit exceeded"],
    )]);
}

/// R-JSON-04: a body over the cap (11 MB against 10 MiB) is an error naming the limit.
#[test]
fn oversized_body() {
    check(&[(
        "/users",
        FaultAction::Large { bytes: 11_000_000 },
        &["over the limit of 10485760 bytes"],
    )]);
}

/// R-JSON-06: a wrong type (a number for a string, a `null` Effect) is an error with its path.
#[test]
fn wrong_types() {
    let page = |items: &str| {
        format!(r#"{{"users": {items}, "meta": {{"total": 1, "links": {{"next": ""}}}}}}"#)
    };
    let policies = |document: &str| {
        format!(
            r#"{{"policies": [{{"id": "p-1", "name": "p", "policy_document": {document}}}], "meta": {{"total": 1, "links": {{"next": ""}}}}}}"#
        )
    };
    check(&[
        (
            "/users",
            json_body(&page(r#"[{"id": 5, "email": "a@x"}]"#)),
            &["users[0].id", "expected a string id, found a number"],
        ),
        (
            "/users",
            json_body(&page(r#"[{"id": "u-1", "email": 7}]"#)),
            &[
                "users[0].email",
                "invalid type: integer `7`, expected a string",
            ],
        ),
        (
            "/users",
            json_body(&page(r#"[{"id": "u-1", "service_user": "yes"}]"#)),
            &["users[0].service_user", "expected a boolean"],
        ),
        (
            "/users",
            json_body(&page(r#"{"id": "u-1"}"#)),
            &["users", "expected an array"],
        ),
        (
            "/users",
            json_body(r#"{"users": [], "meta": {"total": "1"}}"#),
            &["meta.total", "expected a number, found a string"],
        ),
        (
            "/policies",
            json_body(&policies(
                r#"{"Version": "2026-03-20", "Statement": [{"Effect": null, "Action": "a.b.C", "Resource": "*"}]}"#,
            )),
            &[
                "policy `p-1`",
                "policy_document.Statement[0].Effect",
                "invalid type: null, expected a string",
            ],
        ),
        (
            "/roles",
            json_body(r#"{"roles": [{"id": "r-1", "name": "r", "role_type": 5}], "meta": {}}"#),
            // An unknown value is an event (`vultr_fidelity`); a wrong type stays an error.
            &[
                "roles[0].role_type",
                "invalid type: integer `5`, expected a string",
            ],
        ),
    ]);
}

/// Single objects come wrapped (`{"group": {...}}`) or not; both are read.
#[test]
fn wrapped_and_unwrapped_objects() {
    let clean = fetch(&start(small(), vec![])).expect("clean");
    let unwrapped = json_body(
        r#"{"id": "p-compute", "name": "compute-admin", "policy_document": {"Version": "2026-03-20", "Statement": [{"Effect": "Allow", "Action": ["compute.instance.Create", "compute.instance.Read"], "Resource": "*"}]}}"#,
    );
    // The list leaves documents out, so that each policy is read on its own.
    let server = crate::support::start_with(
        small(),
        iamsim_vultr::fake::FakeOptions {
            faults: vec![Fault::on("/policies/p-compute", unwrapped)],
            list_omits_documents: true,
            ..iamsim_vultr::fake::FakeOptions::default()
        },
    );
    let crawl = fetch(&server).expect("unwrapped policy");
    assert_eq!(
        crate::support::requests_to(&server, "/policies/p-compute"),
        1
    );
    assert_eq!(organization(&crawl.snapshot), organization(&clean.snapshot));
}

/// A policy document given as a JSON string (a shape some APIs use) is read as the document.
#[test]
fn string_encoded_documents() {
    let body = r#"{"policies": [
        {"id": "p-billing", "name": "billing-read", "policy_document": "{\"Version\": \"2026-03-20\", \"Statement\": {\"Effect\": \"Allow\", \"Action\": \"account.billing.Read\", \"Resource\": \"*\"}}"},
        {"id": "p-compute", "name": "compute-admin", "policy_document": {"Version": "2026-03-20", "Statement": [{"Effect": "Allow", "Action": ["compute.instance.Create", "compute.instance.Read"], "Resource": "*"}]}}
      ], "meta": {"total": 2, "links": {"next": ""}}}"#;
    let clean = fetch(&start(small(), vec![])).expect("clean");
    let server = start(small(), vec![Fault::on("/policies", json_body(body))]);
    let crawl = fetch(&server).expect("string document");
    assert_eq!(organization(&crawl.snapshot), organization(&clean.snapshot));
}

/// R-JSON-06: `null` where a list belongs (`"users": null`) is an error naming the endpoint
/// and the field, never an empty list (which could even pass for a consistent snapshot).
#[test]
fn null_lists_are_errors() {
    for (path, body) in [
        (
            "/users",
            r#"{"users": null, "meta": {"total": 0, "links": {"next": ""}}}"#,
        ),
        (
            "/policies",
            r#"{"policies": null, "meta": {"total": 0, "links": {"next": ""}}}"#,
        ),
    ] {
        let action = FaultAction::Body {
            status: 200,
            content_type: "application/json".into(),
            body: body.into(),
        };
        let server = start(small(), vec![Fault::on(path, action)]);
        let text = error_text(fetch(&server));
        let field = &path[1..];
        assert!(
            text.contains(&format!("GET /v2{path}?per_page=100: unexpected response: {field}: expected an array, found null")),
            "{text}"
        );
    }
}
