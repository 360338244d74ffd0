//! `--format table|json|markdown|html` for every command: each runs in each format, the same
//! command gives the same bytes, and the table and Markdown of the new commands are pinned
//! with insta snapshots (under `tests/snapshots/`). `tests/html.rs` opens the HTML in a
//! browser.

use crate::util::{data, demo_and_modified, iamsim, Run};

/// `(name, arguments)` for every command, on the demo, a fixture or two snapshot files.
pub(crate) fn commands() -> Vec<(&'static str, Vec<String>)> {
    let (old, new) = demo_and_modified();
    let redundant = data("redundant.json");
    let one_step = data("one-step.json");
    let list: Vec<(&str, Vec<&str>)> = vec![
        (
            "effective",
            vec!["effective", "--user", "ci-deployer@acme.example"],
        ),
        (
            "explain",
            vec![
                "explain",
                "--user",
                "dan@acme.example",
                "--action",
                "compute.instance.Delete",
            ],
        ),
        (
            "impact_detach_compute_admin",
            vec![
                "impact",
                "detach-policy",
                "--policy",
                "compute-admin",
                "--group",
                "DevOps",
            ],
        ),
        (
            "impact_delete_trust",
            vec!["impact", "delete-role-trust", "--trust", "t-deploy-devops"],
        ),
        ("impact_one_step", vec!["impact", "--changes", &one_step]),
        (
            "who_can_delete",
            vec!["who-can", "--action", "compute.instance.Delete"],
        ),
        (
            "who_can_unnamed",
            vec!["who-can", "--action", "compute.gizmo.Spin"],
        ),
        ("redundant_demo", vec!["redundant"]),
        (
            "redundant_fixture",
            vec!["redundant", "--snapshot", &redundant],
        ),
        ("diff", vec!["diff", &old, &new]),
        ("rank_ana", vec!["rank", "--user", "ana@acme.example"]),
        ("rank_dan", vec!["rank", "--user", "dan@acme.example"]),
    ];
    list.into_iter()
        .map(|(name, args)| (name, args.iter().map(|a| a.to_string()).collect()))
        .collect()
}

fn run(args: &[String], format: &str) -> Run {
    let mut all: Vec<&str> = args.iter().map(String::as_str).collect();
    all.extend(["--format", format]);
    iamsim(&all)
}

#[test]
fn every_command_in_every_format() {
    for (name, args) in commands() {
        for format in ["table", "json", "markdown", "html"] {
            let what = format!("{name} --format {format}");
            let first = run(&args, format);
            first.expect_code(0);
            assert!(first.stdout.ends_with('\n'), "{what}: {first:#?}");
            assert!(
                first
                    .stderr
                    .lines()
                    .all(|l| l.starts_with("note: ") || l.starts_with("warning: ")),
                "{what}: {first:#?}"
            );
            // The same command, the same bytes.
            let again = run(&args, format);
            assert_eq!(again.stdout, first.stdout, "{what}: stdout");
            assert_eq!(again.stderr, first.stderr, "{what}: stderr");
            let out = &first.stdout;
            match format {
                "json" => {
                    assert_eq!(first.json()["schema_version"], 5, "{what}");
                    assert!(out.starts_with("{\n  \"schema_version\": 5,"), "{what}");
                }
                "html" => {
                    assert!(out.starts_with("<!DOCTYPE html>\n"), "{what}");
                    assert!(out.ends_with("</html>\n"), "{what}");
                    assert!(out.contains("Content-Security-Policy"), "{what}");
                    // No newline of the text shown escaped (as a name's would be).
                    assert!(!out.contains("\\n"), "{what}");
                }
                "markdown" => {
                    // The Mermaid block, if any, is code: checked apart.
                    let (out, mermaid) = split_mermaid(out);
                    if let Some(mermaid) = mermaid {
                        assert!(mermaid.starts_with("flowchart LR\n"), "{what}:\n{mermaid}");
                    }
                    let out = &out;
                    // Headings and counts in bold; names escaped, so no raw `<`, `>` or `*`
                    // outside code spans, but for the `<details>` blocks each user sits in.
                    assert!(out.contains("**"), "{what}:\n{out}");
                    let untagged = ["<details>", "</details>", "<summary>", "</summary>"]
                        .iter()
                        .fold(out.to_string(), |text, tag| text.replace(tag, ""));
                    assert!(!untagged.contains(['<', '>']), "{what}:\n{out}");
                    // Blocks apart by one blank line; patterns as code spans, not escaped.
                    assert!(!out.contains("\n\n\n"), "{what}:\n{out}");
                    assert!(!out.contains("\\`"), "{what}:\n{out}");
                    for line in out.lines() {
                        let outside: String = line.split('`').step_by(2).collect();
                        let stripped = outside.replace("\\*", "").replace("**", "");
                        assert!(!stripped.contains('*'), "{what}: unescaped `*` in {line}");
                    }
                }
                _ => {
                    assert!(!out.contains("**"), "{what}:\n{out}");
                    assert!(
                        !out.contains("&lt;") && !out.contains("\\*"),
                        "{what}:\n{out}"
                    );
                }
            }
        }
    }
}

/// Markdown without its ```mermaid block, and the block's text.
pub(crate) fn split_mermaid(markdown: &str) -> (String, Option<String>) {
    let Some(start) = markdown.find("```mermaid\n") else {
        return (markdown.to_string(), None);
    };
    let body = start + "```mermaid\n".len();
    let end = body + markdown[body..].find("```\n").expect("the block is closed");
    let rest = format!("{}{}", &markdown[..start], &markdown[end + 4..]);
    (rest, Some(markdown[body..end].to_string()))
}

/// The table and Markdown of the new commands, pinned.
#[test]
fn tables_and_markdown_snapshots() {
    for (name, args) in commands() {
        if matches!(name, "effective" | "explain") {
            continue;
        }
        for format in ["table", "markdown"] {
            let run = run(&args, format);
            run.expect_code(0);
            if format == "table" {
                assert!(
                    run.stdout.lines().all(|l| l.chars().count() <= 80),
                    "{name}: a line wider than 80 columns:\n{}",
                    run.stdout
                );
            }
            insta::assert_snapshot!(format!("{name}_{format}"), run.stdout);
        }
    }
}
