//! The impact report as people and programs get it on wide changes: shared entries and paths in
//! JSON, `--per-action` for the one-entry-per-action form, `--summary`, `--limit`, kept
//! permissions counted by what carries them unless `--show-kept`, and Markdown that fits a
//! GitHub comment and says what it leaves out.

use serde_json::{json, Value};

use crate::util::{flat, iamsim, temp_file};

/// Detaching compute-admin from DevOps reaches Ana and Dan (and Ben, unaffected).
const DETACH: &[&str] = &[
    "impact",
    "detach-policy",
    "--policy",
    "compute-admin",
    "--group",
    "DevOps",
];

/// The shared paths are the same whichever way the users are judged: word by word under
/// deny-wins, pair by pair under nearest-wins (where, on the demo, these changes give the same
/// answers), so the two reports are the same bytes, and each shares paths.
#[test]
fn shared_paths_are_found_alike_pair_by_pair_and_word_by_word() {
    for change in [DETACH, crate::util::ANA_LEAVES_DEVOPS] {
        let deny_wins = run(&with(change, &["--format", "json"]));
        let nearest = run(&with(
            change,
            &["--format", "json", "--precedence", "nearest-wins"],
        ));
        assert_eq!(deny_wins.stdout, nearest.stdout, "{change:?}");
        let raw = deny_wins.raw();
        let shared: usize = (raw["users"].as_array().unwrap().iter())
            .map(|u| {
                let lists = ["lost", "kept", "gained"].map(|l| &u["shared"][l]);
                lists
                    .iter()
                    .map(|l| l.as_array().unwrap().len())
                    .sum::<usize>()
            })
            .sum();
        assert!(shared > 0, "{change:?}: {raw:#}");
    }
}

fn with(base: &[&str], more: &[&str]) -> Vec<String> {
    base.iter().chain(more).map(|s| s.to_string()).collect()
}

fn run(args: &[String]) -> crate::util::Run {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    iamsim(&args)
}

#[test]
fn json_writes_each_path_once_for_every_user() {
    let raw = run(&with(DETACH, &["--format", "json"])).raw();
    let paths = raw["paths"].as_array().expect("paths");
    // Both users lost compute-admin through the same path: it is written once, from the first
    // step after the user.
    let shared: Vec<usize> = paths
        .iter()
        .enumerate()
        .filter(|(_, p)| {
            p["steps"][0]["id"] == "g-devops" && p["steps"][1]["id"] == "p-compute-admin"
        })
        .map(|(i, _)| i)
        .collect();
    assert_eq!(shared.len(), 1, "{raw:#}");
    let users = raw["users"].as_array().expect("users");
    assert_eq!(users.len(), 2);
    for user in users {
        // A statement on every resource: the path is the lost list's shared one, in no entry.
        let via: Vec<u64> = user["lost"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|e| e["via"].as_array().cloned().unwrap())
            .map(|p| p.as_u64().unwrap())
            .collect();
        assert_eq!(via, [0u64; 0], "{}", user["user"]["id"]);
        assert_eq!(
            user["shared"]["lost"],
            json!([shared[0]]),
            "{}",
            user["user"]["id"]
        );
    }
    // An entry lists its actions as indexes of the per-action summary, sorted.
    let entry = &raw["users"][0]["lost"][0];
    let actions: Vec<u64> = entry["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_u64().unwrap())
        .collect();
    assert!(actions.windows(2).all(|w| w[0] < w[1]), "{entry}");
    assert!(raw["actions"][actions[0] as usize]["action"].is_string());
    assert_eq!(raw["summary"]["users_affected"], 2);
    assert_eq!(raw["summary"]["users_reached"], 3);
    assert_eq!(raw["summary"]["pairs"]["lost"], 43);
}

#[test]
fn per_action_is_the_flattened_report() {
    let grouped = run(&with(DETACH, &["--format", "json"])).raw();
    let per_action = run(&with(DETACH, &["--format", "json", "--per-action"])).raw();
    assert_eq!(per_action, flat(grouped));
    assert!(per_action.get("paths").is_none());
    assert_eq!(
        per_action["users"][0]["lost"][0]["via"][0][0]["kind"],
        "user"
    );
    run(&with(DETACH, &["--per-action"])).expect_error(&["--per-action", "--format json"]);
}

#[test]
fn summary_counts_what_the_full_report_lists() {
    let full = run(&with(DETACH, &["--format", "json"])).raw();
    let summary = run(&with(DETACH, &["--format", "json", "--summary"])).raw();
    assert_eq!(summary["summary"], full["summary"]);
    assert_eq!(summary["actions"], full["actions"]);
    assert!(summary.get("users").is_none() && summary.get("paths").is_none());
    let top = summary["top_users"].as_array().expect("top_users");
    let ids: Vec<&Value> = top.iter().map(|u| &u["user"]["id"]).collect();
    let expected: Vec<&Value> = full["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| &u["user"]["id"])
        .collect();
    assert_eq!(ids, expected);
    assert_eq!(top[0]["counts"], full["users"][0]["counts"]);
    let table = run(&with(DETACH, &["--summary"]));
    table.expect_code(0);
    assert!(
        table
            .stdout
            .contains("2 user(s) affected: 2 lose access, 0 gain access"),
        "{}",
        table.stdout
    );
    assert!(
        table.stdout.contains("MOST AFFECTED (2)"),
        "{}",
        table.stdout
    );
    assert!(!table.stdout.contains("LOST ("), "{}", table.stdout);
}

#[test]
fn limit_lists_the_first_users_and_counts_the_rest() {
    let table = run(&with(DETACH, &["--limit", "1"]));
    table.expect_code(0);
    assert!(
        table.stdout.contains("Dan <dan@acme.example>"),
        "{}",
        table.stdout
    );
    assert!(
        !table.stdout.contains("\nAna <ana@acme.example>"),
        "{}",
        table.stdout
    );
    assert!(
        table.stdout.contains("1 more user(s) not listed"),
        "{}",
        table.stdout
    );
    let json = run(&with(DETACH, &["--limit", "1", "--format", "json"]));
    let raw = json.raw();
    assert_eq!(raw["users"].as_array().unwrap().len(), 1);
    assert_eq!(raw["summary"]["users_affected"], 2);
    assert!(
        json.stderr.contains("1 more user(s) not listed"),
        "{}",
        json.stderr
    );
    // `--limit 0` lists everyone.
    let all = run(&with(DETACH, &["--limit", "0", "--format", "json"])).raw();
    assert_eq!(all["users"].as_array().unwrap().len(), 2);
}

#[test]
fn kept_is_counted_by_carrier_unless_show_kept() {
    let args = [
        "impact",
        "remove-member",
        "--group",
        "DevOps",
        "--user",
        "ana@acme.example",
    ];
    let counted = run(&with(&args, &[]));
    counted.expect_code(0);
    assert!(
        counted.stdout.contains(
            "KEPT (3): still allowed; carried by\n    role viewer (2), group Billing (1)\n"
        ),
        "{}",
        counted.stdout
    );
    assert!(counted.stdout.contains("`--show-kept` lists it"));
    let listed = run(&with(&args, &["--show-kept"]));
    assert!(
        listed.stdout.contains(
            "account.billing.Read  on *\n      via group Billing > policy billing-read #0"
        ),
        "{}",
        listed.stdout
    );
    assert!(!listed.stdout.contains("--show-kept"));
}

/// On a generated organization, deleting the largest group reaches hundreds of users: the
/// Markdown stops before a GitHub comment's 65,536 characters and says how many users it left
/// out; a table lists 20.
#[test]
fn markdown_fits_a_comment_and_says_what_it_leaves_out() {
    let generated = iamsim(&["generate", "--users", "400", "--seed", "3"]);
    generated.expect_code(0);
    let snapshot = temp_file("generated.json", &generated.stdout);
    let args = [
        "impact",
        "delete-group",
        "--group",
        "g-0",
        "--snapshot",
        &snapshot,
    ];
    let markdown = run(&with(&args, &["--format", "markdown"]));
    markdown.expect_code(0);
    let total = run(&with(&args, &["--format", "json", "--summary"])).raw()["summary"]
        ["users_affected"]
        .as_u64()
        .unwrap() as usize;
    let listed = markdown.stdout.matches("<details>").count();
    assert!(
        markdown.stdout.len() <= 65_536,
        "{} bytes",
        markdown.stdout.len()
    );
    assert!(listed > 0 && listed < total, "{listed} of {total}");
    assert!(
        markdown
            .stdout
            .contains(&format!("_... {} more user(s) not listed", total - listed)),
        "{}",
        &markdown.stdout[markdown.stdout.len() - 400..]
    );
    let table = run(&with(&args, &[]));
    assert_eq!(table.stdout.matches("\n  LOST (").count(), 20);
    assert!(table
        .stdout
        .contains(&format!("... {} more user(s) not listed", total - 20)));
}

/// The full JSON report is written user by user as it is judged; with a gate (which needs the
/// whole report first) it is built in memory: the bytes are the same.
#[test]
fn the_streamed_json_is_the_report_built_in_memory() {
    let generated = iamsim(&[
        "generate", "--shape", "broad", "--users", "200", "--seed", "2",
    ]);
    generated.expect_code(0);
    let snapshot = temp_file("broad.json", &generated.stdout);
    let args = [
        "impact",
        "delete-group",
        "--group",
        "g-0",
        "--snapshot",
        &snapshot,
        "--format",
        "json",
    ];
    let streamed = run(&with(&args, &[]));
    streamed.expect_code(0);
    let built = run(&with(&args, &["--fail-if-gains", "account.billing.Read"]));
    assert!(built.code == 0 || built.code == 1, "{built:?}");
    assert_eq!(streamed.stdout, built.stdout);
    assert!(streamed.raw()["users"].as_array().unwrap().len() > 50);
}

/// A table or Markdown judges in full only the users it lists (the rest are counted): the
/// same text as the report built whole in memory (as with a gate).
#[test]
fn a_table_of_the_first_users_is_the_table_of_the_whole_report() {
    let generated = iamsim(&[
        "generate", "--shape", "broad", "--users", "200", "--seed", "2",
    ]);
    generated.expect_code(0);
    let snapshot = temp_file("broad.json", &generated.stdout);
    let args = [
        "impact",
        "delete-group",
        "--group",
        "g-0",
        "--snapshot",
        &snapshot,
    ];
    for format in ["table", "markdown"] {
        let listed = run(&with(&args, &["--format", format]));
        listed.expect_code(0);
        let whole = run(&with(
            &args,
            &[
                "--format",
                format,
                "--fail-if-gains",
                "account.billing.Read",
            ],
        ));
        assert!(whole.code == 0 || whole.code == 1, "{whole:?}");
        assert_eq!(listed.stdout, whole.stdout, "{format}");
        assert!(
            listed.stdout.contains("more user(s) not listed"),
            "{format}"
        );
    }
}

/// When not even the first user's block fits a comment (here: a broad organization, with what
/// users keep listed in full), Markdown shows the start of it, cut before an entry, closed, and
/// says so; `--limit 1` prints it whole, and the cut part is its beginning.
#[test]
fn markdown_cuts_a_first_user_too_large_for_a_comment_and_says_so() {
    let generated = iamsim(&[
        "generate", "--shape", "broad", "--users", "500", "--seed", "1",
    ]);
    generated.expect_code(0);
    let snapshot = temp_file("broad500.json", &generated.stdout);
    let base = [
        "impact",
        "delete-group",
        "--group",
        "g-0",
        "--snapshot",
        snapshot.as_str(),
        "--format",
        "markdown",
        "--show-kept",
    ];
    let cut = run(&with(&base, &[]));
    cut.expect_code(0);
    let whole = run(&with(&base, &["--limit", "1"]));
    whole.expect_code(0);
    assert!(
        whole.stdout.len() > 65_536,
        "the block must be too large for the test"
    );
    assert!(cut.stdout.len() <= 65_536, "{}", cut.stdout.len());
    assert_eq!(cut.stdout.matches("<details>").count(), 1);
    assert_eq!(cut.stdout.matches("</details>").count(), 1);
    let note = "this user's lists are cut here to fit a comment: `--limit 1` prints them whole";
    assert!(cut.stdout.contains(note), "{}", cut.stdout);
    // What is shown is the start of the whole block, up to an entry.
    let start = cut.stdout.find("<details>").unwrap();
    let shown = &cut.stdout[start..cut.stdout.find("\n_... this user's").unwrap()];
    let from = whole.stdout.find("<details>").unwrap();
    assert!(whole.stdout[from..].starts_with(shown));
    assert!(
        whole.stdout[from + shown.len()..].starts_with("- ")
            || whole.stdout[from + shown.len()..].starts_with("**")
    );
}
