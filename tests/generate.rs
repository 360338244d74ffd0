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
