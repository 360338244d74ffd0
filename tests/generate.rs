//! `iamsim generate`: the shapes, determinism for a seed, and the limits on its counts.

use crate::util::{iamsim, temp_file};

/// `--shape broad` writes the same bytes for a seed, another organization for another seed,
/// and a snapshot the engine loads and answers on.
#[test]
fn broad_shape_is_deterministic_and_loads() {
    let args = [
        "generate", "--shape", "broad", "--users", "300", "--seed", "5",
    ];
    let first = iamsim(&args);
    first.expect_code(0);
    assert_eq!(first.stdout, iamsim(&args).expect_code(0).stdout);
    let other = iamsim(&[
        "generate", "--shape", "broad", "--users", "300", "--seed", "6",
    ]);
    assert_ne!(first.stdout, other.stdout);

    let snapshot = iamsim_core::Snapshot::from_json_str(&first.stdout).expect("a valid snapshot");
    // One group per 10 users, one role per 50, one policy per 20; 2,000 actions.
    assert_eq!(
        (
            snapshot.users.len(),
            snapshot.groups.len(),
            snapshot.roles.len(),
            snapshot.policies.len()
        ),
        (300, 30, 6, 15)
    );
    let largest = snapshot.groups.iter().map(|g| g.members.len()).max();
    assert_eq!(largest, Some(120), "the largest group holds 40% of users");
    let file = temp_file("broad.json", &first.stdout);
    let effective = iamsim(&["effective", "--snapshot", &file, "--user", "u-1"]);
    effective.expect_code(0);
    assert!(!effective.stdout.is_empty());
}

/// Counts given as flags override the shape's defaults; the classic shape stays the default.
#[test]
fn flags_override_the_shape_defaults() {
    let broad = iamsim(&[
        "generate",
        "--shape",
        "broad",
        "--users",
        "50",
        "--groups",
        "3",
        "--actions",
        "20",
    ]);
    let snapshot = iamsim_core::Snapshot::from_json_str(&broad.expect_code(0).stdout).unwrap();
    assert_eq!((snapshot.groups.len(), snapshot.roles.len()), (3, 1));
    let classic = iamsim(&["generate", "--users", "50"]);
    assert_eq!(
        classic.stdout,
        iamsim(&["generate", "--users", "50", "--shape", "classic"]).stdout
    );
    let snapshot = iamsim_core::Snapshot::from_json_str(&classic.stdout).unwrap();
    assert_eq!((snapshot.groups.len(), snapshot.roles.len()), (100, 40));
}

/// A count above its limit exits 2 with one `error:` line naming the flag and the limit,
/// before allocating anything (it used to panic with "capacity overflow" or abort).
#[test]
fn counts_above_their_limits_are_refused() {
    let cases: [(&[&str], &str); 5] = [
        (
            &["--users", "18446744073709551615"],
            "--users: 18446744073709551615 is above the limit of 10000000",
        ),
        (
            &["--actions", "4000000000"],
            "--actions: 4000000000 is above the limit of 100000",
        ),
        (
            &["--groups", "1000001"],
            "--groups: 1000001 is above the limit of 1000000",
        ),
        (
            &["--shape", "broad", "--roles", "99999999"],
            "--roles: 99999999 is above the limit of 1000000",
        ),
        (
            &["--shape", "broad", "--users", "10000001"],
            "--users: 10000001 is above the limit of 10000000",
        ),
    ];
    for (flags, message) in cases {
        let mut args = vec!["generate"];
        args.extend_from_slice(flags);
        iamsim(&args).expect_error(&[message]);
    }
}

/// By default `generate` names the bundled catalogue's actions (as many as it has), so its
/// organizations load without `unknown-action` warnings; `--synthetic-names` writes what
/// `iamsim_core::generate::snapshot` does, byte for byte (the benches' organizations).
#[test]
fn default_organizations_load_without_warnings() {
    let generated = iamsim(&["generate", "--users", "100"]);
    generated.expect_code(0);
    let file = temp_file("catalogue-names.json", &generated.stdout);
    for args in [
        &["effective", "--snapshot", &file, "--user", "u-1"][..],
        &["redundant", "--snapshot", &file],
    ] {
        let run = iamsim(args);
        run.expect_code(0);
        assert_eq!(run.stderr, "", "{args:?}");
    }
    // Beyond the catalogue's size, the rest are synthetic and reported.
    let wide = iamsim(&["generate", "--users", "100", "--actions", "300"]);
    let file = temp_file("wide-names.json", &wide.expect_code(0).stdout);
    let run = iamsim(&["effective", "--snapshot", &file, "--user", "u-1"]);
    assert!(run.stderr.contains("unknown action `svc"), "{}", run.stderr);

    use iamsim_core::generate::{snapshot, Params};
    let synthetic = iamsim(&[
        "generate",
        "--users",
        "50",
        "--seed",
        "3",
        "--synthetic-names",
    ]);
    let mut expected = serde_json::to_string(&snapshot(&Params {
        users: 50,
        ..Params::small(3)
    }))
    .unwrap();
    expected.push('\n');
    assert_eq!(synthetic.expect_code(0).stdout, expected);
    iamsim(&["generate", "--shape", "broad", "--synthetic-names"])
        .expect_error(&["--synthetic-names is for the classic shape"]);
}
