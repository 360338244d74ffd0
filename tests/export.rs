//! `iamsim export`: every user's access as CSV or JSON Lines rows.

use crate::util::{iamsim, temp_json};

/// The rows of a JSON Lines export, each parsed.
fn jsonl(stdout: &str) -> Vec<serde_json::Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

/// `(action, resource, decision)` of rows.
fn triples(rows: &[serde_json::Value]) -> Vec<(String, String, String)> {
    rows.iter()
        .map(|r| {
            let s = |k: &str| r[k].as_str().unwrap().to_string();
            (s("action"), s("resource"), s("decision"))
        })
        .collect()
}

/// Ana's rows (and Dan's, who has a Deny) are `effective`'s allowed and denied entries, with
/// and without `--paths`, and in CSV too; the paths are `effective`'s.
#[test]
fn rows_equal_effective() {
    check_user("ana@acme.example", "u-ana", false);
    check_user("dan@acme.example", "u-dan", true);
}

fn check_user(email: &str, id: &str, has_deny: bool) {
    let effective = iamsim(&["effective", "--user", email, "--format", "json"]).json();
    let mut expected = Vec::new();
    for (list, decision) in [("allowed", "allowed"), ("denied", "explicit_deny")] {
        for entry in effective[list].as_array().unwrap() {
            let s = |k: &str| entry[k].as_str().unwrap().to_string();
            expected.push((
                s("action"),
                s("resource"),
                decision.to_string(),
                entry["via"].clone(),
            ));
        }
    }
    expected.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    assert_eq!(expected.iter().any(|e| e.2 == "explicit_deny"), has_deny);
    assert!(
        expected.iter().any(|e| e.1 != "*"),
        "{email} has a scoped entry"
    );
    let without_paths: Vec<_> = expected
        .iter()
        .map(|e| (e.0.clone(), e.1.clone(), e.2.clone()))
        .collect();

    let fast = iamsim(&["export", "--format", "jsonl", "--users", email]);
    fast.expect_code(0);
    let rows = jsonl(&fast.stdout);
    assert!(rows
        .iter()
        .all(|r| r["user_id"] == id && r.get("paths").is_none()));
    assert_eq!(triples(&rows), without_paths);

    let slow = iamsim(&["export", "--format", "jsonl", "--paths", "--users", id]);
    slow.expect_code(0);
    let rows = jsonl(&slow.stdout);
    assert_eq!(triples(&rows), without_paths);
    let paths: Vec<_> = rows.iter().map(|r| r["paths"].clone()).collect();
    let expected_paths: Vec<_> = expected.iter().map(|e| e.3.clone()).collect();
    assert_eq!(paths, expected_paths);

    let csv = iamsim(&["export", "--users", email]);
    csv.expect_code(0);
    let mut lines = csv.stdout.lines();
    assert_eq!(lines.next(), Some("user_id,email,action,resource,decision"));
    let csv_rows: Vec<_> = lines
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            assert_eq!(&cells[..2], [id, email], "{l}");
            (
                cells[2].to_string(),
                cells[3].to_string(),
                cells[4].to_string(),
            )
        })
        .collect();
    assert_eq!(csv_rows, without_paths);
}

/// The fast path and `--paths` give the same rows for the whole organization, users in
/// snapshot order.
#[test]
fn whole_org_fast_equals_paths() {
    let fast = iamsim(&["export", "--format", "jsonl"]);
    let slow = iamsim(&["export", "--format", "jsonl", "--paths"]);
    fast.expect_code(0);
    slow.expect_code(0);
    let key = |rows: Vec<serde_json::Value>| {
        rows.iter()
            .map(|r| {
                (
                    r["user_id"].as_str().unwrap().to_string(),
                    triples(std::slice::from_ref(r)),
                )
            })
            .collect::<Vec<_>>()
    };
    let fast = key(jsonl(&fast.stdout));
    assert_eq!(fast, key(jsonl(&slow.stdout)));
    let mut users: Vec<&str> = fast.iter().map(|(u, _)| u.as_str()).collect();
    users.dedup();
    let snapshot = crate::util::demo_snapshot();
    let order: Vec<&str> = snapshot["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap())
        .filter(|id| users.contains(id))
        .collect();
    assert_eq!(users, order);
    // The root user: one row, as `effective` shows it.
    assert!(fast
        .iter()
        .any(|(u, t)| u == "u-olivia" && t[0] == ("*".into(), "*".into(), "allowed".into())));
}

#[test]
fn filters() {
    let run = iamsim(&[
        "export",
        "--format",
        "jsonl",
        "--users",
        "u-dan,ana@acme.example",
        "--users",
        "u-ana",
        "--actions",
        "compute.instance.*",
    ]);
    run.expect_code(0);
    let rows = jsonl(&run.stdout);
    assert!(!rows.is_empty());
    let users: Vec<&str> = rows
        .iter()
        .map(|r| r["user_id"].as_str().unwrap())
        .collect();
    // Snapshot order (Ana before Dan), each once.
    let first_dan = users
        .iter()
        .position(|u| *u == "u-dan")
        .expect("Dan has rows");
    assert!(users[..first_dan].iter().all(|u| *u == "u-ana"));
    assert!(users[first_dan..].iter().all(|u| *u == "u-dan"));
    for row in &rows {
        let action = row["action"].as_str().unwrap();
        assert!(
            action.starts_with("compute.instance.") || action == "compute.*",
            "{row}"
        );
    }

    iamsim(&["export", "--users", "ana@acme.exmaple"]).expect_error(&[
        "--users",
        "no user matches `ana@acme.exmaple`",
        "did you mean `ana@acme.example`?",
    ]);
    iamsim(&["export", "--actions", "Compute.*"])
        .expect_error(&["--actions `Compute.*`", "did you mean `compute.*`"]);
    iamsim(&["export", "--format", "table"]).expect_code(2);
    iamsim(&["export", "--users", " , "]).expect_error(&["--users: no user given"]);
}

/// Names from the snapshot cannot start a spreadsheet formula or carry control characters into
/// the CSV; JSON Lines carry them escaped by JSON.
#[test]
fn hostile_names_are_inert() {
    let snapshot = serde_json::json!({
        "format": "iamsim.snapshot.v1",
        "organization": {"id": "org-h", "name": "H"},
        "users": [
            {"id": "=HYPERLINK(\"http://evil.example\",\"x\")", "email": "@evil,\"q\"@h.example",
             "name": "M"},
            {"id": "-2+3", "email": "+1@h.example", "name": "N"}
        ],
        "groups": [
            {"id": "g-evil", "display_name": "Ops\u{1b}[31m\r\nDevOps", "members": ["=HYPERLINK(\"http://evil.example\",\"x\")", "-2+3"],
             "policies": ["p-evil"]}
        ],
        "roles": [],
        "policies": [
            {"id": "p-evil", "name": "=cmd|' /C calc'!A0", "policy_document": {"Version": "2026-03-20",
              "Statement": [{"Effect": "Allow", "Action": "compute.instance.Read", "Resource": "*"}]}}
        ]
    });
    let path = temp_json("hostile-export.json", &snapshot);
    let csv = iamsim(&["export", "--snapshot", &path, "--paths"]);
    csv.expect_code(0);
    assert!(
        !csv.stdout.chars().any(|c| c.is_control() && c != '\n'),
        "{:?}",
        csv.stdout
    );
    let lines: Vec<&str> = csv.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{:?}", csv.stdout);
    assert_eq!(
        lines[1],
        "\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\")\",\"'@evil,\"\"q\"\"@h.example\",\
         compute.instance.Read,*,allowed,group Ops\\u{1b}[31m\\r\\nDevOps > policy =cmd|' /C calc'!A0 #0"
    );
    assert!(lines[2].starts_with("'-2+3,'+1@h.example,"), "{}", lines[2]);
    for cell_start in lines.iter().flat_map(|l| l.split(',')) {
        assert!(
            !cell_start.starts_with(['=', '+', '-', '@']),
            "{cell_start}"
        );
    }

    let json = iamsim(&[
        "export",
        "--snapshot",
        &path,
        "--paths",
        "--format",
        "jsonl",
    ]);
    json.expect_code(0);
    assert!(!json.stdout.chars().any(|c| c.is_control() && c != '\n'));
    let rows = jsonl(&json.stdout);
    assert_eq!(
        rows[0]["user_id"],
        "=HYPERLINK(\"http://evil.example\",\"x\")"
    );
}

/// Under either precedence, the fast path and `--paths` give `effective`'s decisions, user by
/// user.
#[test]
fn both_precedences_agree_with_effective() {
    let path = crate::util::data("precedence.json");
    for precedence in ["deny-wins", "nearest-wins"] {
        let base = ["export", "--snapshot", &path, "--precedence", precedence];
        let fast = iamsim(&[&base[..], &["--format", "jsonl"]].concat());
        let slow = iamsim(&[&base[..], &["--format", "jsonl", "--paths"]].concat());
        fast.expect_code(0);
        slow.expect_code(0);
        let fast = jsonl(&fast.stdout);
        assert_eq!(
            triples(&fast),
            triples(&jsonl(&slow.stdout)),
            "{precedence}"
        );
        for user in ["u-erin", "u-frank"] {
            let effective = iamsim(&[
                "effective",
                "--snapshot",
                &path,
                "--precedence",
                precedence,
                "--user",
                user,
                "--format",
                "json",
            ])
            .json();
            let mut expected = Vec::new();
            for (list, decision) in [("allowed", "allowed"), ("denied", "explicit_deny")] {
                for entry in effective[list].as_array().unwrap() {
                    let s = |k: &str| entry[k].as_str().unwrap().to_string();
                    expected.push((s("action"), s("resource"), decision.to_string()));
                }
            }
            expected.sort();
            let rows: Vec<_> = fast
                .iter()
                .filter(|r| r["user_id"] == user)
                .cloned()
                .collect();
            let mut got = triples(&rows);
            got.sort();
            assert_eq!(got, expected, "{precedence} {user}");
        }
    }
    // Frank's direct Allow is nearer than his group's Deny.
    let run = iamsim(&[
        "export",
        "--snapshot",
        &path,
        "--precedence",
        "nearest-wins",
        "--users",
        "u-frank",
        "--actions",
        "compute.instance.Delete",
    ]);
    run.expect_code(0);
    assert!(
        run.stdout
            .contains("u-frank,frank@example.com,compute.instance.Delete,*,allowed"),
        "{}",
        run.stdout
    );
}
