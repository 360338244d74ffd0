//! `iamsim graph`: every format on the demo's effective access, one explanation and a change
//! file; DOT checked by Graphviz itself (`.ci/run` installs it); hostile names inert.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::util::{data, iamsim};

const FORMATS: [&str; 4] = ["dot", "mermaid", "graphml", "json"];

/// The three kinds of answer, as arguments.
fn answers() -> Vec<Vec<String>> {
    let changes = data("one-step.json");
    [
        vec!["--user", "ana@acme.example"],
        vec![
            "--user",
            "dan@acme.example",
            "--action",
            "compute.instance.Delete",
        ],
        vec!["--changes", changes.as_str()],
    ]
    .iter()
    .map(|a| a.iter().map(|s| s.to_string()).collect())
    .collect()
}

fn graph(args: &[String], format: &str) -> String {
    let mut all = vec!["graph", "--format", format];
    all.extend(args.iter().map(String::as_str));
    let run = iamsim(&all);
    run.expect_code(0);
    assert!(!run.stdout.is_empty(), "{run:?}");
    run.stdout
}

/// Runs `dot -Tsvg` on the text and returns the SVG; fails the test if Graphviz rejects it.
fn dot_svg(text: &str) -> String {
    let mut child = Command::new("dot")
        .arg("-Tsvg")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("Graphviz `dot` is installed (.ci/run installs it)");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("write to dot");
    let out = child.wait_with_output().expect("dot runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stderr.is_empty(),
        "dot rejects:\n{text}\n{stderr}"
    );
    String::from_utf8(out.stdout).expect("SVG is UTF-8")
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).expect("graph JSON")
}

#[test]
fn every_format_on_every_answer() {
    for args in answers() {
        for format in FORMATS {
            let text = graph(&args, format);
            // Deterministic.
            assert_eq!(text, graph(&args, format), "{args:?} {format}");
            match format {
                "dot" => {
                    assert!(text.starts_with("digraph access {\n"), "{text}");
                    assert!(dot_svg(&text).contains("<svg"));
                }
                "mermaid" => assert!(text.starts_with("flowchart LR\n"), "{text}"),
                "graphml" => {
                    assert!(text.starts_with("<?xml"), "{text}");
                    assert!(text.ends_with("</graphml>\n"), "{text}");
                }
                _ => {
                    let doc = json(&text);
                    assert!(!doc["nodes"].as_array().unwrap().is_empty(), "{text}");
                    assert!(!doc["edges"].as_array().unwrap().is_empty(), "{text}");
                }
            }
        }
    }
}

#[test]
fn effective_graph_of_ana() {
    let doc = json(&graph(&answers()[0], "json"));
    let ids: Vec<String> = doc["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            format!(
                "{}:{}",
                n["kind"].as_str().unwrap(),
                n["id"].as_str().unwrap()
            )
        })
        .collect();
    // Sorted by kind (user first, statements last), then id; every node once.
    assert_eq!(ids[0], "user:u-ana");
    for expected in [
        "group:g-devops",
        "group:g-billing",
        "role:r-viewer",
        "policy:p-compute-admin",
    ] {
        assert_eq!(ids.iter().filter(|i| *i == expected).count(), 1, "{ids:?}");
    }
    assert!(ids.last().unwrap().starts_with("statement:"), "{ids:?}");
    // Her assumable role, through DevOps's trust, dotted in DOT.
    let dot = graph(&answers()[0], "dot");
    assert!(
        dot.contains(
            r#""group:g-devops" -> "role:r-deploy-admin" [label="may_assume", style=dotted];"#
        ),
        "{dot}"
    );
}

#[test]
fn explain_graph_marks_the_deny_path() {
    let args = &answers()[1];
    let doc = json(&graph(args, "json"));
    let nodes = doc["nodes"].as_array().unwrap();
    let deny: Vec<&serde_json::Value> = nodes.iter().filter(|n| n["effect"] == "Deny").collect();
    assert_eq!(deny.len(), 1, "{doc}");
    let deny_index = &deny[0]["index"];
    let edge = doc["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| &e["to"] == deny_index)
        .expect("an edge into the Deny statement");
    assert_eq!(edge["deny"], true);
    let dot = graph(args, "dot");
    assert!(dot.contains("statement 0 (Deny)"), "{dot}");
    assert!(dot.contains("penwidth=2"), "{dot}");
}

#[test]
fn change_graph_marks_removed_edges() {
    let args = &answers()[2];
    let dot = graph(args, "dot");
    assert!(dot.contains("style=dashed, color=red"), "{dot}");
    let doc = json(&graph(args, "json"));
    assert!(
        doc["edges"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["change"] == "removed"),
        "{doc}"
    );
    let mermaid = graph(args, "mermaid");
    assert!(mermaid.contains("-.->"), "{mermaid}");
    assert!(mermaid.contains("stroke:red"), "{mermaid}");
}

#[test]
fn added_edges_are_green() {
    let changes = crate::util::temp_file(
        "add.json",
        r#"[{"kind": "add_member", "group": "g-devops", "user": "u-cara"}]"#,
    );
    let args = vec!["--changes".to_string(), changes];
    let dot = graph(&args, "dot");
    assert!(dot.contains("color=green"), "{dot}");
    dot_svg(&dot);
}

#[test]
fn one_change_as_a_subcommand() {
    let run = iamsim(&[
        "graph",
        "remove-member",
        "--group",
        "DevOps",
        "--user",
        "ana@acme.example",
        "--format",
        "json",
    ]);
    run.expect_code(0);
    let doc = json(&run.stdout);
    assert!(
        doc["edges"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["change"] == "removed"),
        "{doc}"
    );
    iamsim(&[
        "graph",
        "--user",
        "ana@acme.example",
        "delete-group",
        "--group",
        "DevOps",
    ])
    .expect_error(&["--user", "subcommand"]);
    iamsim(&[
        "graph",
        "remove-member",
        "--group",
        "Billing",
        "--user",
        "ben@acme.example",
    ])
    .expect_error(&["not a member"]);
}

#[test]
fn hostile_names_are_inert_in_every_format() {
    let args = vec![
        "--snapshot".to_string(),
        data("hostile-graph.json"),
        "--user".to_string(),
        "mal@h.example".to_string(),
    ];
    let dot = graph(&args, "dot");
    // Graphviz reads exactly the five nodes and five edges the graph has: no name added any.
    let svg = dot_svg(&dot);
    assert_eq!(svg.matches("class=\"node\"").count(), 5, "{svg}");
    assert_eq!(svg.matches("class=\"edge\"").count(), 5, "{svg}");
    assert!(!svg.contains("<script"), "{svg}");
    assert!(!svg.contains("javascript:alert(1)\" "), "{svg}");

    let mermaid = graph(&args, "mermaid");
    // One line per node and edge, nothing a name could open or close.
    for line in mermaid.lines().skip(1) {
        let label = line.split('"').nth(1).unwrap_or_default();
        assert!(
            !label.contains(['<', '>', '[', ']', '{', '}', '|', ';', '`', '\\'])
                || label.contains('#'),
            "{line}"
        );
        assert_eq!(line.matches('"').count() % 2, 0, "{line}");
    }
    assert!(!mermaid.contains("<script"), "{mermaid}");
    assert!(!mermaid.contains("\nclick"), "{mermaid}");
    assert_eq!(
        mermaid
            .lines()
            .filter(|l| l.contains("-->") || l.contains("==>"))
            .count(),
        5
    );

    let graphml = graph(&args, "graphml");
    assert!(
        !graphml.contains("<script") && !graphml.contains("<b>"),
        "{graphml}"
    );
    assert_eq!(graphml.matches("<node ").count(), 5);
    assert!(
        !graphml.chars().any(|c| c.is_control() && c != '\n'),
        "{graphml}"
    );

    let doc = json(&graph(&args, "json"));
    let group = &doc["nodes"][1];
    assert_eq!(group["kind"], "group");
    assert!(
        group["label"].as_str().unwrap().contains("<script>"),
        "JSON keeps names as they are"
    );
}

#[test]
fn errors_are_one_line() {
    iamsim(&["graph", "--user", "nobody@acme.example"]).expect_error(&["nobody@acme.example"]);
    iamsim(&["graph", "--user", "ana@acme.example", "--action", "nope"])
        .expect_error(&["--action"]);
    iamsim(&["graph", "--changes", "/nonexistent/changes.json"])
        .expect_error(&["/nonexistent/changes.json"]);
    iamsim(&["graph", "--user", "ana@acme.example", "--format", "svg"]).expect_code(2);
}

/// The Mermaid block of a Markdown report, if any.
fn mermaid_in(args: &[&str]) -> Option<String> {
    let mut all = args.to_vec();
    all.extend(["--format", "markdown"]);
    let run = iamsim(&all);
    run.expect_code(0);
    crate::formats::split_mermaid(&run.stdout).1
}

#[test]
fn markdown_draws_small_answers_in_mermaid() {
    let explain = [
        "explain",
        "--user",
        "dan@acme.example",
        "--action",
        "compute.instance.Delete",
    ];
    // The same graph `iamsim graph --format mermaid` writes.
    let block = mermaid_in(&explain).expect("a small answer is drawn");
    let args: Vec<String> = answers()[1].clone();
    assert_eq!(block, graph(&args, "mermaid"));
    let edges = block
        .lines()
        .filter(|l| l.contains("-->") || l.contains("==>"))
        .count();

    // At most --mermaid-max-edges edges; 0 never draws.
    let max = |n: usize| {
        let n = n.to_string();
        let mut all = explain.to_vec();
        all.extend(["--mermaid-max-edges", n.as_str()]);
        mermaid_in(&all)
    };
    assert!(max(edges).is_some());
    assert!(max(edges - 1).is_none());
    assert!(max(0).is_none());
    // Tables and JSON never carry it; nor does a Markdown answer without a path.
    let table = iamsim(&explain);
    assert!(!table.stdout.contains("mermaid"), "{}", table.stdout);
    assert!(mermaid_in(&[
        "explain",
        "--user",
        "ben@acme.example",
        "--action",
        "compute.instance.Delete"
    ])
    .is_none());
}

#[test]
fn hostile_names_are_inert_in_markdown_mermaid() {
    let snapshot = data("hostile-graph.json");
    let block = mermaid_in(&[
        "effective",
        "--user",
        "mal@h.example",
        "--snapshot",
        &snapshot,
    ])
    .expect("drawn");
    for line in block.lines().skip(1) {
        let label = line.split('"').nth(1).unwrap_or_default();
        assert!(!label.contains(['<', '>', '[', ']', '`', '\n']), "{line}");
        assert_eq!(line.matches('"').count() % 2, 0, "{line}");
    }
    assert!(
        !block.contains("\nclick") && !block.contains("```"),
        "{block}"
    );
}

/// With no --user, --changes or change, the whole organization: every entity of the snapshot
/// once, every membership, attachment and trust of it as an edge; valid for Graphviz.
#[test]
fn the_whole_organization() {
    let demo: serde_json::Value =
        serde_json::from_str(include_str!("../crates/cli/demo.json")).expect("demo JSON");
    let list = |key: &str| demo[key].as_array().cloned().unwrap_or_default();
    let ids = |key: &str, field: &str| -> Vec<String> {
        list(key)
            .iter()
            .flat_map(|e| e[field].as_array().cloned().unwrap_or_default())
            .map(|v| v.as_str().unwrap().to_string())
            .collect()
    };
    let statements: usize = list("policies")
        .iter()
        .map(|p| match &p["policy_document"]["Statement"] {
            serde_json::Value::Array(a) => a.len(),
            _ => 1,
        })
        .sum();
    let g = json(&graph(&[], "json"));
    let nodes = g["nodes"].as_array().unwrap();
    let edges = g["edges"].as_array().unwrap();
    let entities =
        list("users").len() + list("groups").len() + list("roles").len() + list("policies").len();
    assert_eq!(nodes.len(), entities + statements, "{g:#}");
    let count = |relation: &str| edges.iter().filter(|e| e["relation"] == relation).count();
    assert_eq!(count("member"), ids("groups", "members").len());
    assert_eq!(count("holds"), statements);
    assert_eq!(
        count("attached"),
        ids("users", "policies").len()
            + ids("groups", "policies").len()
            + ids("roles", "policies").len()
    );
    assert_eq!(
        count("has_role"),
        ids("users", "roles").len() + ids("groups", "roles").len()
    );
    assert_eq!(count("may_assume"), list("role_trusts").len());
    let svg = dot_svg(&graph(&[], "dot"));
    assert!(svg.contains("<svg"), "{svg}");
}

/// The roles a user's graph shows them able to assume (`may_assume` edges), by id.
fn assumable_in_graph(context: &[&str]) -> Vec<String> {
    let args: Vec<String> = ["--user", "u-ana"]
        .iter()
        .chain(context)
        .map(|s| s.to_string())
        .collect();
    let g = json(&graph(&args, "json"));
    let nodes = g["nodes"].as_array().expect("nodes");
    g["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .filter(|e| e["relation"] == "may_assume")
        .map(|e| {
            let to = e["to"].as_u64().expect("edge target") as usize;
            nodes[to]["id"].as_str().expect("node id").to_string()
        })
        .collect()
}

/// `graph` takes the model's flags as every command does: the demo's trust lets DevOps assume
/// deploy-admin from 09 to 17 UTC from 10.0.0.0/8, and the graph follows `--at` and `--from`.
#[test]
fn trust_conditions_are_judged_at_the_instant_given() {
    assert_eq!(assumable_in_graph(&[]), ["r-deploy-admin"]);
    let inside = ["--at", "2026-03-02T10:00:00Z", "--from", "10.0.0.1"];
    assert_eq!(assumable_in_graph(&inside), ["r-deploy-admin"]);
    assert!(assumable_in_graph(&["--at", "2026-03-02T18:30:00Z"]).is_empty());
    assert!(
        assumable_in_graph(&["--at", "2026-03-02T10:00:00Z", "--from", "192.0.2.1"]).is_empty()
    );
    // The output is the same whatever the number of threads.
    let threads = ["--at", "2026-03-02T18:30:00Z", "--threads", "1"];
    assert!(assumable_in_graph(&threads).is_empty());
}
