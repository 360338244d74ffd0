//! robustness.md "Payloads and JSON", for API responses: malformed, hostile and unexpected
//! bodies are errors with a JSON path, never a panic; unknown fields are ignored.
//!
//! These run the `iamsim` binary; the adapter's own tests of the same area, through the
//! library, are in `crates/vultr/tests/it/json.rs`.

use iamsim_vultr::fake::{Fault, FaultAction};

use crate::vultr_support::{demo, fetch, organization, start};

/// R-JSON-05: fields Vultr does not document are ignored: the same snapshot; they are
/// reported (at `-vv`).
#[test]
fn unknown_fields_are_ignored() {
    let clean = fetch(&start(demo(), vec![])).expect("clean crawl");
    let server = start(demo(), vec![Fault::on("*", FaultAction::ExtraFields)]);
    let noisy = fetch(&server).expect("crawl with extra fields");
    assert_eq!(organization(&noisy.snapshot), organization(&clean.snapshot));
    assert!(noisy.info.consistent);
    assert!(
        noisy
            .ignored_fields
            .contains(&"GET /v2/users: x_undocumented".to_string()),
        "{:?}",
        noisy.ignored_fields
    );
    assert!(
        clean.ignored_fields.is_empty(),
        "{:?}",
        clean.ignored_fields
    );

    let run = crate::vultr_support::vultr("fetch", &server, &["-vv"]);
    run.expect_code(0);
    assert!(
        run.stderr.contains(
            "note: ignored a field Vultr does not document: GET /v2/groups: x_undocumented"
        ),
        "{run:#?}"
    );
}
