//! R-OUT-02: every `--format json` document validates against the committed
//! `schema/output.v5.json`, and that file is what `iamsim schema` prints.
//!
//! The validator below covers exactly the JSON Schema keywords the committed schema uses and
//! refuses any other, so a keyword it does not know can never be skipped silently. `Run::json`
//! (tests/util.rs) runs it on every `--format json` document any CLI test reads.

use std::sync::LazyLock;

use serde_json::{json, Value};

use crate::formats::commands;
use crate::util::iamsim;

const SCHEMA_FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/schema/output.v5.json");

static SCHEMA: LazyLock<Value> = LazyLock::new(|| {
    let text = std::fs::read_to_string(SCHEMA_FILE).expect("schema/output.v5.json is readable");
    serde_json::from_str(&text).expect("schema/output.v5.json is JSON")
});

/// Keywords that only annotate: they constrain nothing.
const ANNOTATIONS: &[&str] = &["$schema", "$defs", "title", "description", "format"];

/// Every way `value` breaks the committed schema, each as `JSON path: what`.
pub fn violations(value: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    check(&SCHEMA, value, "$", &mut errors);
    errors
}

fn check(schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
    let schema = match schema {
        Value::Bool(true) => return,
        Value::Bool(false) => return errors.push(format!("{at}: nothing is allowed here")),
        Value::Object(schema) => schema,
        other => panic!("a schema is an object or a boolean, not {other}"),
    };
    for (keyword, argument) in schema {
        match keyword.as_str() {
            "$ref" => {
                let target = argument.as_str().expect("$ref is a string");
                let name = target
                    .strip_prefix("#/$defs/")
                    .unwrap_or_else(|| panic!("only local $refs are used: {target}"));
                let definition = SCHEMA["$defs"]
                    .get(name)
                    .unwrap_or_else(|| panic!("$ref to a missing definition: {target}"));
                check(definition, value, at, errors);
            }
            "type" => {
                let allowed: Vec<&str> = match argument {
                    Value::String(one) => vec![one.as_str()],
                    Value::Array(many) => many.iter().map(|t| t.as_str().unwrap()).collect(),
                    other => panic!("type is a string or an array: {other}"),
                };
                if !allowed.iter().any(|t| has_type(value, t)) {
                    errors.push(format!("{at}: {value} is not of type {allowed:?}"));
                }
            }
            "const" if value != argument => {
                errors.push(format!("{at}: {value} is not {argument}"));
            }
            "enum" if !argument.as_array().unwrap().contains(value) => {
                errors.push(format!("{at}: {value} is none of {argument}"));
            }
            "minimum" => {
                if let (Some(n), Some(min)) = (value.as_f64(), argument.as_f64()) {
                    if n < min {
                        errors.push(format!("{at}: {n} is below {min}"));
                    }
                }
            }
            "properties" | "required" | "additionalProperties" => {
                if let Value::Object(object) = value {
                    check_object(schema, keyword, object, at, errors);
                }
            }
            "items" => {
                if let Value::Array(items) = value {
                    for (i, item) in items.iter().enumerate() {
                        check(argument, item, &format!("{at}[{i}]"), errors);
                    }
                }
            }
            "anyOf" | "oneOf" => {
                let branches = argument.as_array().expect("a list of schemas");
                let results: Vec<Vec<String>> = branches
                    .iter()
                    .map(|branch| {
                        let mut inner = Vec::new();
                        check(branch, value, at, &mut inner);
                        inner
                    })
                    .collect();
                let matching = results.iter().filter(|inner| inner.is_empty()).count();
                let fits = if keyword == "anyOf" {
                    matching >= 1
                } else {
                    matching == 1
                };
                if !fits {
                    errors.push(format!(
                        "{at}: {matching} of the {keyword} branches match, for {value}"
                    ));
                    // Why the nearest branch does not: the likeliest intended shape.
                    if let Some(nearest) = results.into_iter().min_by_key(Vec::len) {
                        errors.extend(nearest);
                    }
                }
            }
            "const" | "enum" => {}
            other if ANNOTATIONS.contains(&other) => {}
            other => panic!("the test validator does not know the keyword `{other}`: teach it"),
        }
    }
}

fn check_object(
    schema: &serde_json::Map<String, Value>,
    keyword: &str,
    object: &serde_json::Map<String, Value>,
    at: &str,
    errors: &mut Vec<String>,
) {
    let empty = serde_json::Map::new();
    let properties = schema
        .get("properties")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    match keyword {
        "properties" => {
            for (name, property) in properties {
                if let Some(field) = object.get(name) {
                    check(property, field, &format!("{at}.{name}"), errors);
                }
            }
        }
        "required" => {
            for name in schema["required"].as_array().unwrap() {
                let name = name.as_str().unwrap();
                if !object.contains_key(name) {
                    errors.push(format!("{at}: required property `{name}` is missing"));
                }
            }
        }
        _ => {
            for (name, field) in object {
                if !properties.contains_key(name) {
                    check(
                        &schema["additionalProperties"],
                        field,
                        &format!("{at}.{name}"),
                        errors,
                    );
                }
            }
        }
    }
}

fn has_type(value: &Value, name: &str) -> bool {
    match name {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "string" => value.is_string(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        "number" => value.is_number(),
        "integer" => value.is_i64() || value.is_u64(),
        other => panic!("unknown type name `{other}`"),
    }
}

#[test]
fn the_committed_schema_is_what_iamsim_prints() {
    let printed = iamsim(&["schema"]);
    printed.expect_code(0);
    if std::env::var_os("IAMSIM_UPDATE_SCHEMA").is_some() {
        std::fs::write(SCHEMA_FILE, &printed.stdout).expect("write schema/output.v5.json");
    }
    let committed = std::fs::read_to_string(SCHEMA_FILE).expect("schema/output.v5.json");
    assert!(
        printed.stdout == committed,
        "schema/output.v5.json differs from `iamsim schema`: the report types changed. Review, \
         bump SCHEMA_VERSION if the change is incompatible, then regenerate with \
         IAMSIM_UPDATE_SCHEMA=1 cargo test --test integration schema::"
    );
}

/// Every command of `formats::commands` (the demo and fixtures: root, assumable roles, notes,
/// shadowed statements, entities added and removed) prints a valid report, and together they
/// print all seven.
#[test]
fn every_report_validates() {
    let mut kinds = std::collections::BTreeSet::new();
    for (name, args) in commands() {
        let mut all: Vec<&str> = args.iter().map(String::as_str).collect();
        all.extend(["--format", "json"]);
        // As printed: the form `json()` reads back (impacts and redundancy reports with their
        // paths written out) is the tests' convenience, not output.
        let document = iamsim(&all).raw();
        assert_eq!(violations(&document), Vec::<String>::new(), "{name}");
        kinds.insert(report_kind(&document));
    }
    assert_eq!(kinds.len(), 7, "{kinds:?}");
}

/// Which `$defs` report a document is: the one branch of the root's `anyOf` it satisfies.
fn report_kind(document: &Value) -> String {
    let fitting: Vec<String> = SCHEMA["anyOf"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|branch| {
            let mut errors = Vec::new();
            check(branch, document, "$", &mut errors);
            errors.is_empty()
        })
        .map(|branch| branch["$ref"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        fitting.len(),
        1,
        "exactly one report shape fits: {fitting:?}"
    );
    fitting[0].clone()
}

/// What is wrong, a way to make it so, and what the validator must say.
type Breach = (&'static str, fn(&mut Value), &'static str);

/// The validator finds what is wrong, and where: it could fail.
#[test]
fn the_validator_finds_each_kind_of_breach() {
    let good = iamsim(&[
        "explain",
        "--user",
        "dan@acme.example",
        "--action",
        "compute.instance.Delete",
        "--format",
        "json",
    ])
    .json();
    assert_eq!(violations(&good), Vec::<String>::new());
    let breaches: &[Breach] = &[
        (
            "an extra field",
            |d| d["extra"] = json!(1),
            "$.extra: nothing is allowed",
        ),
        (
            "a missing field",
            |d| drop(d.as_object_mut().unwrap().remove("decision")),
            "required property `decision`",
        ),
        (
            "a wrong type",
            |d| d["action"] = json!(7),
            "$.action: 7 is not of type",
        ),
        (
            "another version",
            |d| d["schema_version"] = json!(1),
            "$.schema_version: 1 is not 5",
        ),
        (
            "an unknown decision",
            |d| d["decision"] = json!("maybe"),
            "$.decision: 0 of the oneOf",
        ),
        (
            "a step of no kind",
            |d| d["deny"][0][0]["kind"] = json!("team"),
            "$.deny[0][0].kind",
        ),
        (
            "an extra step field",
            |d| d["deny"][0][1]["x"] = json!(null),
            "$.deny[0][1].x",
        ),
        (
            "a negative index",
            |d| d["deny"][0][3]["index"] = json!(-1),
            "$.deny[0][3].index: -1 is below 0",
        ),
        (
            "null for a list",
            |d| d["allow"] = json!(null),
            "$.allow: null is not of type",
        ),
    ];
    for (what, breach, expected) in breaches {
        let mut document = good.clone();
        breach(&mut document);
        let found = violations(&document);
        assert!(
            found.iter().any(|e| e.contains(expected)),
            "{what}: expected `{expected}` in {found:#?}"
        );
    }
}

/// `iamsim schema` is data on stdout, and is JSON.
#[test]
fn schema_prints_json_alone() {
    let run = iamsim(&["schema"]);
    run.expect_code(0);
    assert_eq!(run.stderr, "");
    let schema: Value = serde_json::from_str(&run.stdout).expect("the schema is JSON");
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    // A document that is none of the reports fails at the root.
    assert!(violations(&json!({}))[0].contains("$: 0 of the anyOf branches"));
}
