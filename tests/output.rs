//! The output contract: deterministic bytes, JSON alone on stdout, no colour off a terminal,
//! names from the snapshot rendered inert.

use std::process::{Command, Stdio};

use crate::util::{data, iamsim, iamsim_with, ANA_LEAVES_DEVOPS, BIN};

/// Commands over every report kind, on the demo and on fixtures.
fn commands() -> Vec<Vec<String>> {
    let hostile = data("hostile-names.json");
    let dangling = data("dangling.json");
    let base: Vec<Vec<&str>> = vec![
        ANA_LEAVES_DEVOPS.to_vec(),
        vec![
            "impact",
            "remove-member",
            "--group",
            "Contractors",
            "--user",
            "u-dan",
        ],
        vec!["effective", "--user", "ana@acme.example"],
        vec!["effective", "--user", "olivia@acme.example"],
        vec!["effective", "--user", "ben@acme.example"],
        vec![
            "explain",
            "--user",
            "dan@acme.example",
            "--action",
            "compute.instance.Delete",
        ],
        vec![
            "effective",
            "--user",
            "mal@h.example",
            "--snapshot",
            &hostile,
        ],
        vec![
            "effective",
            "--user",
            "one@d.example",
            "--snapshot",
            &dangling,
        ],
    ];
    let mut all = Vec::new();
    for args in base {
        for format in ["table", "json"] {
            let mut args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
            args.extend(["--format".to_string(), format.to_string()]);
            all.push(args);
        }
    }
    all
}

fn run(args: &[String]) -> crate::util::Run {
    iamsim(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

#[test]
fn same_command_same_bytes() {
    for args in commands() {
        let first = run(&args);
        first.expect_code(0);
        assert!(!first.stdout.is_empty(), "{first:#?}");
        for _ in 0..2 {
            let again = run(&args);
            assert_eq!(again.stdout, first.stdout, "stdout of {args:?}");
            assert_eq!(again.stderr, first.stderr, "stderr of {args:?}");
        }
    }
}

#[test]
fn json_alone_on_stdout() {
    for args in commands()
        .iter()
        .filter(|a| a.ends_with(&["json".to_string()]))
    {
        let run = run(args);
        // `json()` parses all of stdout as one document.
        let value = run.json();
        assert_eq!(value["schema_version"], 5, "{args:?}");
        assert!(run.stdout.ends_with("}\n"), "{args:?}");
        // Notes and warnings go to stderr, in their own words.
        assert!(
            run.stderr
                .lines()
                .all(|l| l.starts_with("note: ") || l.starts_with("warning: ")),
            "{run:#?}"
        );
    }
}

#[test]
fn no_colour_when_piped_or_no_color() {
    for args in commands() {
        for no_color in [None, Some("1")] {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let run = iamsim_with(&args, |c| {
                if let Some(value) = no_color {
                    c.env("NO_COLOR", value);
                }
            });
            assert!(!run.stdout.contains('\u{1b}'), "{run:#?}");
            assert!(!run.stderr.contains('\u{1b}'), "{run:#?}");
        }
    }
}

/// Runs iamsim with stdout on a pseudo-terminal (through util-linux `script`) and returns what
/// the terminal received.
fn on_a_terminal(args: &[&str], no_color: Option<&str>) -> String {
    let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
    let line: Vec<String> = std::iter::once(BIN)
        .chain(args.iter().copied())
        .map(quote)
        .collect();
    let mut command = Command::new("script");
    command
        .args(["-qec", &line.join(" "), "/dev/null"])
        .env_remove("NO_COLOR")
        .stdin(Stdio::null());
    if let Some(value) = no_color {
        command.env("NO_COLOR", value);
    }
    let output = command
        .output()
        .expect("util-linux `script` runs a command on a pseudo-terminal");
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout).expect("UTF-8")
}

#[test]
fn colour_only_on_a_terminal_without_no_color() {
    let args = ["effective", "--user", "ana@acme.example"];
    let coloured = on_a_terminal(&args, None);
    assert!(
        coloured.contains("\u{1b}[32mALLOWED (49)\u{1b}[0m"),
        "{coloured:?}"
    );
    // An empty NO_COLOR does not count (no-color.org).
    assert!(on_a_terminal(&args, Some("")).contains('\u{1b}'));
    let plain = on_a_terminal(&args, Some("1"));
    assert!(!plain.contains('\u{1b}'), "{plain:?}");
    assert!(plain.contains("ALLOWED (49)"), "{plain:?}");
}

#[test]
fn hostile_names_are_inert() {
    let hostile = data("hostile-names.json");
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["effective", "--user", "mal@h.example"],
            &[
                "Mal\\u{1b}[31mlory\\nroot <admin@h.example> <mal@h.example> (u-mal)\n",
                "via group Ops\\u{1b}]0;owned\\u{7}\\r\\nDevOps > policy read \"all\" <b>\\u{1b}[0m\\ttab #0\n",
            ],
        ),
        (
            &["impact", "remove-member", "--group", "g-evil", "--user", "u-mal"],
            &["Change: remove mal@h.example from group Ops\\u{1b}]0;owned\\u{7}\\r\\nDevOps\n  (g-evil)\n"],
        ),
        (
            &["explain", "--user", "u-mal", "--action", "compute.instance.Read"],
            &["Mal\\u{1b}[31mlory\\nroot"],
        ),
    ];
    for (args, expected) in cases {
        let args = [&args[..], &["--snapshot", &hostile]].concat();
        let run = iamsim(&args);
        run.expect_code(0);
        for text in [&run.stdout, &run.stderr] {
            assert!(
                !text.chars().any(|c| c.is_control() && c != '\n'),
                "a raw control character: {run:#?}"
            );
        }
        for fragment in *expected {
            assert!(run.stdout.contains(fragment), "`{fragment}` in {run:#?}");
        }
        // The dangling member's id is escaped in the warning too.
        run.expect_warning(&["groups[0].members[1]", "`u-ghost\\u{1b}[1m`"]);

        // JSON keeps the names exactly, escaped the JSON way.
        let json = iamsim(&[&args[..], &["--format", "json"]].concat());
        assert!(!json.stdout.contains('\u{1b}'), "{json:#?}");
        let value = json.json();
        let name = value
            .pointer("/user/name")
            .or(value.pointer("/users/0/user/name"));
        assert_eq!(
            name.and_then(|n| n.as_str()),
            Some("Mal\u{1b}[31mlory\nroot <admin@h.example>"),
            "{json:#?}"
        );
    }
    let run = iamsim(&[
        "effective",
        "--user",
        "mal@h.example",
        "--snapshot",
        &hostile,
    ]);
    insta::assert_snapshot!("effective_hostile_names_table", run.stdout);
}

/// R-OUT-01, Markdown: control characters escaped as in the table, and `<`, `>` written as
/// entities, so that a name cannot open an HTML tag where the Markdown is rendered.
#[test]
fn hostile_names_are_inert_in_markdown() {
    let hostile = data("hostile-names.json");
    let run = iamsim(&[
        "effective",
        "--user",
        "mal@h.example",
        "--format",
        "markdown",
        "--snapshot",
        &hostile,
    ]);
    run.expect_code(0);
    assert!(
        !run.stdout.chars().any(|c| c.is_control() && c != '\n'),
        "a raw control character: {run:#?}"
    );
    assert!(!run.stdout.contains("<b>"), "{run:#?}");
    assert!(run.stdout.contains("&lt;b&gt;"), "{run:#?}");
    assert!(run.stdout.contains("\\u{1b}"), "{run:#?}");
}

/// R-IN-03: bidirectional controls and line/paragraph separators in names are escaped like
/// control characters in the table and in Markdown: nothing can reorder or split a line.
#[test]
fn bidi_and_separator_characters_are_escaped() {
    let hidden = [
        '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}',
        '\u{2068}', '\u{2069}', '\u{200E}', '\u{200F}', '\u{2028}', '\u{2029}',
    ];
    let name: String = hidden.iter().map(|c| format!("x{c}")).collect();
    let mut demo: serde_json::Value =
        serde_json::from_str(include_str!("../crates/cli/demo.json")).expect("demo");
    let users = demo["users"].as_array_mut().expect("users");
    let ana = users.iter_mut().find(|u| u["id"] == "u-ana").expect("ana");
    ana["name"] = serde_json::Value::String(name);
    let path = crate::util::temp_json("bidi.json", &demo);
    for format in ["table", "markdown"] {
        let run = iamsim(&[
            "effective",
            "--user",
            "u-ana",
            "--snapshot",
            &path,
            "--format",
            format,
        ]);
        run.expect_code(0);
        for text in [&run.stdout, &run.stderr] {
            assert!(
                !text.chars().any(|c| hidden.contains(&c)),
                "{format}: a raw bidi or separator character: {run:#?}"
            );
        }
        for c in hidden {
            let escaped = c.escape_default().to_string();
            assert!(
                run.stdout.contains(&escaped),
                "{format}: `{escaped}` in {run:#?}"
            );
        }
    }
}
