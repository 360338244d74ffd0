//! What people expect of a command-line tool: completions, a man page, `--color` with
//! `NO_COLOR` and `CLICOLOR_FORCE`, `IAMSIM_SNAPSHOT`, `--version` with the commit, help wrapped
//! to the terminal.

use std::process::Command;

use crate::util::{iamsim, iamsim_with};

const ESC: char = '\u{1b}';

#[test]
fn completions_for_every_shell() {
    for (shell, marker) in [
        ("bash", "complete -F _iamsim"),
        ("zsh", "#compdef iamsim"),
        ("fish", "complete -c iamsim"),
        ("powershell", "Register-ArgumentCompleter"),
        ("elvish", "edit:completion:arg-completer[iamsim]"),
    ] {
        let run = iamsim(&["completions", shell]);
        run.expect_code(0);
        assert!(run.stdout.contains(marker), "{shell}: {}", run.stdout);
        assert!(run.stdout.contains("fail-if-loses"), "{shell}");
        assert_eq!(run.stderr, "", "{shell}");
    }
    iamsim(&["completions", "tcsh"]).expect_error(&["invalid value 'tcsh'"]);
}

#[test]
fn the_man_page_is_roff_naming_every_command() {
    let run = iamsim(&["man"]);
    run.expect_code(0);
    for fragment in [
        ".TH iamsim 1",
        ".SH NAME",
        ".SH SYNOPSIS",
        "who\\-can",
        "completions",
    ] {
        assert!(run.stdout.contains(fragment), "{fragment}: {}", run.stdout);
    }
}

#[test]
fn version_names_the_commit_and_its_date_in_a_git_checkout() {
    let run = iamsim(&["--version"]);
    run.expect_code(0);
    let line = run.stdout.trim_end();
    assert!(line.starts_with("iamsim 0."), "{line}");
    // Built from this repository's checkout: `iamsim X.Y.Z (abc1234 2026-11-29)`.
    let inner = line.split_once(" (").map(|(_, rest)| rest).expect(line);
    let (commit, date) = inner.trim_end_matches(')').split_once(' ').expect(line);
    assert!(
        commit.len() >= 7 && commit.chars().all(|c| c.is_ascii_hexdigit()),
        "{line}"
    );
    assert_eq!(date.len(), 10, "{line}");
    assert_eq!(date.as_bytes()[4], b'-', "{line}");
}

#[test]
fn iamsim_snapshot_is_the_default_snapshot_and_the_flag_wins() {
    let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/crates/cli/demo.json");
    let with_env = |args: &[&str], value: &str| {
        let value = value.to_string();
        iamsim_with(args, move |c| {
            c.env("IAMSIM_SNAPSHOT", value);
        })
    };
    let run = with_env(&["effective", "--user", "u-ana"], demo);
    run.expect_code(0);
    assert!(!run.stderr.contains("built-in demo"), "{}", run.stderr);
    with_env(&["effective", "--user", "u-ana"], "/nonexistent/snap.json")
        .expect_error(&["/nonexistent/snap.json: no such file"]);
    let run = with_env(
        &["effective", "--user", "u-ana", "--snapshot", demo],
        "/nonexistent/snap.json",
    );
    run.expect_code(0);
    // Empty is unset: the demo.
    let run = with_env(&["effective", "--user", "u-ana"], "");
    run.expect_code(0);
    assert!(run.stderr.contains("built-in demo"), "{}", run.stderr);
}

/// Runs ARGS with the environment given, stdout and stderr piped.
fn with(env: &[(&str, &str)], args: &[&str]) -> (bool, bool) {
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let run = iamsim_with(args, move |c| {
        c.envs(env);
    });
    (run.stdout.contains(ESC), run.stderr.contains(ESC))
}

#[test]
fn color_follows_the_flag_then_no_color_then_clicolor_force() {
    let table = ["effective", "--user", "u-ana"];
    let error = ["effective", "--user", "nobody"];
    let flag = |when: &'static str, args: &[&'static str]| -> Vec<&'static str> {
        [&["--color", when][..], args].concat()
    };
    // Piped: no colour unless asked for.
    assert_eq!(with(&[], &table), (false, false));
    assert_eq!(with(&[], &flag("always", &table)), (true, false));
    assert!(with(&[], &flag("always", &error)).1);
    assert_eq!(with(&[("CLICOLOR_FORCE", "1")], &table), (true, false));
    assert!(with(&[("CLICOLOR_FORCE", "1")], &error).1);
    assert_eq!(with(&[("CLICOLOR_FORCE", "0")], &table), (false, false));
    // NO_COLOR beats CLICOLOR_FORCE; the flag beats both.
    let both = [("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")];
    assert_eq!(with(&both, &table), (false, false));
    assert_eq!(with(&both, &flag("always", &table)), (true, false));
    assert_eq!(
        with(&[("CLICOLOR_FORCE", "1")], &flag("never", &error)),
        (false, false)
    );
    // Usage errors and clap's help follow the flag too.
    assert_eq!(with(&[], &["--color", "always", "nonsense"]), (false, true));
    assert_eq!(with(&[], &["--color=always", "--help"]), (true, false));
    assert_eq!(
        with(&[("CLICOLOR_FORCE", "1")], &["--color", "never", "--help"]),
        (false, false)
    );
    iamsim(&["--color", "sometimes", "schema"]).expect_error(&["invalid value 'sometimes'"]);
}

/// What a terminal shows of `iamsim ARGS` (util-linux `script` gives it one).
fn on_a_terminal(prefix: &str, args: &str) -> String {
    let binary = env!("CARGO_BIN_EXE_iamsim");
    let output = Command::new("script")
        .args(["-qec", &format!("{prefix} {binary} {args}"), "/dev/null"])
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .output()
        .expect("util-linux `script` runs");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn a_terminal_gets_coloured_prefixes_unless_told_not_to() {
    let error = "effective --user nobody";
    let shown = on_a_terminal("", error);
    assert!(
        shown.contains("\u{1b}[1m\u{1b}[31merror:\u{1b}[0m no user matches"),
        "{shown:?}"
    );
    for (prefix, args) in [
        ("NO_COLOR=1", error.to_string()),
        ("", format!("--color never {error}")),
    ] {
        let shown = on_a_terminal(prefix, &args);
        assert!(shown.contains("error: no user matches"), "{shown:?}");
        assert!(!shown.contains(ESC), "{prefix} {args}: {shown:?}");
    }
    let shown = on_a_terminal("", "--color never effective --user u-ana");
    assert!(shown.contains("ALLOWED"), "{shown:?}");
    assert!(!shown.contains(ESC), "{shown:?}");
}

#[test]
fn help_wraps_to_the_terminal_width() {
    for width in [60, 100] {
        let run = iamsim_with(&["impact", "--help"], move |c| {
            c.env("COLUMNS", width.to_string());
        });
        run.expect_code(0);
        let widest = run.stdout.lines().map(|l| l.chars().count()).max();
        assert!(
            widest.is_some_and(|w| w <= width),
            "{width}: {}",
            run.stdout
        );
    }
}

/// Every command that reads one snapshot takes the same input flags, `graph` and `export`
/// included (they once had their own copies, without `--at`, `--from` and `--threads`).
#[test]
fn help_lists_the_model_flags_every_command_takes() {
    for command in [
        "effective",
        "explain",
        "who-can",
        "redundant",
        "rank",
        "impact",
        "graph",
        "export",
    ] {
        let run = iamsim(&[command, "--help"]);
        run.expect_code(0);
        for flag in [
            "--snapshot <FILE>",
            "--catalogue <FILE>",
            "--strict",
            "--precedence <PRECEDENCE>",
            "--threads <N>",
            "--at <RFC3339>",
            "--from <IP>",
        ] {
            assert!(
                run.stdout.contains(flag),
                "{command} {flag}: {}",
                run.stdout
            );
        }
    }
}
