//! Progress bars: drawn on stderr when it is a terminal (here a pseudo-terminal from
//! util-linux's `script`), never when stderr is a pipe or a file.

use std::process::Command;

use crate::util::{iamsim, temp_file};

/// A generated organization large enough for a few progress updates.
fn organization() -> String {
    let generated = iamsim(&["generate", "--users", "300", "--seed", "4"]);
    generated.expect_code(0);
    temp_file("progress.json", &generated.stdout)
}

/// What a terminal shows while `iamsim ARGS > /dev/null` runs (the report goes to /dev/null;
/// the terminal gets stderr).
fn on_a_terminal(args: &str) -> String {
    let binary = env!("CARGO_BIN_EXE_iamsim");
    let output = Command::new("script")
        .args([
            "-qec",
            &format!("IAMSIM_PROGRESS_DELAY_MS=0 {binary} {args} > /dev/null"),
            "/dev/null",
        ])
        .output()
        .expect("util-linux `script` runs (it gives the command a terminal)");
    assert!(output.status.success(), "{output:?}");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn a_terminal_shows_progress_and_a_pipe_does_not() {
    let snapshot = organization();
    for (args, what) in [
        (
            format!("redundant --snapshot {snapshot}"),
            "trying removals",
        ),
        (
            format!("impact delete-group --group g-0 --snapshot {snapshot}"),
            "judging users",
        ),
        (
            format!("who-can --action compute.instance.Create --snapshot {snapshot}"),
            "checking users",
        ),
        (format!("export --snapshot {snapshot}"), "exporting users"),
        (
            format!("export --paths --format jsonl --snapshot {snapshot}"),
            "exporting users",
        ),
    ] {
        let terminal = on_a_terminal(&args);
        assert!(terminal.contains(what), "{args}: {terminal}");
        // The bar counts up to the total and is cleared before the report.
        assert!(terminal.contains("/"), "{args}: {terminal}");
        let piped: Vec<&str> = args.split(' ').collect();
        let run = iamsim(&piped);
        run.expect_code(0);
        assert!(!run.stderr.contains(what), "{args}: {}", run.stderr);
    }
}
