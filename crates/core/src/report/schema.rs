//! The JSON Schema of the reports (feature `schema`), derived from the types with schemars.

use schemars::generate::SchemaSettings;
use schemars::transform::RecursiveTransform;
use schemars::Schema;
use serde_json::{json, Value};

use super::{
    Diff, Effective, Explanation, FlatImpact, Impact, ImpactOverview, Rank, Redundancy, WhoCan,
    SCHEMA_VERSION,
};

/// The JSON Schema (draft 2020-12) that every report validates against, as the CLI's
/// `--format json` prints them: one of [`Effective`], [`Explanation`], [`Impact`] (with
/// `--summary`, [`ImpactOverview`]; with `--per-action`, [`FlatImpact`]), [`WhoCan`],
/// [`Redundancy`], [`Diff`] and [`Rank`], each under `$defs` by its type name.
///
/// The schema describes what iamsim *writes*: every object is closed (no property beyond those
/// listed), a property is required unless it may be left out, and `schema_version` is the
/// constant [`SCHEMA_VERSION`]. `iamsim schema` prints it; the repository commits it as
/// `schema/output.v5.json`, and the CLI tests check every JSON document they read against it.
pub fn output_schema() -> Value {
    let mut generator = SchemaSettings::draft2020_12()
        .for_serialize()
        .with_transform(RecursiveTransform(close_objects))
        .into_generator();
    let reports = [
        generator.subschema_for::<Effective>(),
        generator.subschema_for::<Explanation>(),
        generator.subschema_for::<Impact>(),
        generator.subschema_for::<ImpactOverview>(),
        generator.subschema_for::<FlatImpact>(),
        generator.subschema_for::<WhoCan>(),
        generator.subschema_for::<Redundancy>(),
        generator.subschema_for::<Diff>(),
        generator.subschema_for::<Rank>(),
    ];
    let definitions = generator.take_definitions(true);
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": format!("iamsim JSON output, schema_version {SCHEMA_VERSION}"),
        "description": "What `iamsim ... --format json` prints: one of the reports under $defs. \
            Generated from the report types by `iamsim schema`; docs/output-format.md explains \
            each field.",
        "anyOf": reports,
        "$defs": definitions,
    })
}

/// Closes every object schema and pins `schema_version`.
fn close_objects(schema: &mut Schema) {
    let Some(object) = schema.as_object_mut() else {
        return;
    };
    let Some(properties) = object.get_mut("properties").and_then(Value::as_object_mut) else {
        return;
    };
    if let Some(version) = properties.get_mut("schema_version") {
        *version = json!({
            "description": "The version of these shapes; bumped on any incompatible change.",
            "const": SCHEMA_VERSION,
        });
    }
    object
        .entry("additionalProperties")
        .or_insert(Value::Bool(false));
}
