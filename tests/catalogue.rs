//! `--catalogue FILE` replaces the bundled list of known actions.

use crate::util::{data, iamsim, temp_file};

fn allowed_actions(args: &[&str]) -> Vec<String> {
    let run = iamsim(&[args, &["--format", "json"]].concat());
    run.json()["allowed"]
        .as_array()
        .expect("allowed")
        .iter()
        .map(|e| e["action"].as_str().expect("action").to_string())
        .collect()
}

#[test]
fn custom_catalogue_replaces_the_bundled_one() {
    let ana = ["effective", "--user", "ana@acme.example"];
    let bundled = allowed_actions(&ana);
    let custom_file = data("custom-catalogue.txt");
    let custom = allowed_actions(&[&ana[..], &["--catalogue", &custom_file]].concat());
    // Covered by DevOps's `compute.*`: named only by the custom file.
    assert!(
        custom.contains(&"compute.gizmo.Spin".to_string()),
        "{custom:?}"
    );
    assert!(
        !bundled.contains(&"compute.gizmo.Spin".to_string()),
        "{bundled:?}"
    );
    // Named only by the bundled list: gone, folded into the `compute.*` element.
    assert!(
        bundled.contains(&"compute.backup.List".to_string()),
        "{bundled:?}"
    );
    assert!(
        !custom.contains(&"compute.backup.List".to_string()),
        "{custom:?}"
    );
    assert!(custom.contains(&"compute.*".to_string()), "{custom:?}");
    // Actions the snapshot names literally stay in the universe.
    assert!(
        custom.contains(&"account.billing.Read".to_string()),
        "{custom:?}"
    );

    // The demo's actions the custom list lacks are now unknown, and said so.
    let run = iamsim(&[&ana[..], &["--catalogue", &custom_file]].concat());
    run.expect_warning(&["unknown action `account.billing.Read`"]);
    assert!(run.stdout.contains("compute.gizmo.Spin"), "{run:#?}");

    // Explain uses it too: a catalogue action is evaluated as itself.
    let run = iamsim(&[
        "explain",
        "--user",
        "ana@acme.example",
        "--action",
        "compute.gizmo.Spin",
        "--catalogue",
        &custom_file,
        "--format",
        "json",
    ]);
    assert_eq!(
        run.json()["evaluated_as"],
        serde_json::Value::Null,
        "{run:#?}"
    );
}

#[test]
fn bad_catalogues() {
    let bad = data("bad-catalogue.txt");
    let missing = data("no-such-catalogue.txt");
    let spaces = temp_file(
        "spaces.txt",
        "compute.instance.Create\n\n  \ncompute instance Read\n",
    );
    let bom = temp_file(
        "bom.txt",
        "\u{feff}compute.instance.Create\ncompute.instance.Read\n",
    );
    for (file, fragments) in [
        (
            &bad,
            &[&bad[..], "line 3: `compute.*` is a wildcard, not an action"][..],
        ),
        (
            &spaces,
            &[
                &spaces[..],
                "line 4:",
                "`compute instance Read`",
                "whitespace",
            ],
        ),
        (&missing, &[&missing[..]]),
    ] {
        iamsim(&[
            "effective",
            "--user",
            "ana@acme.example",
            "--catalogue",
            file,
        ])
        .expect_error(fragments);
    }
    iamsim(&[
        "effective",
        "--user",
        "ana@acme.example",
        "--catalogue",
        &bom,
    ])
    .expect_code(0);
}
