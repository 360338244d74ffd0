//! Running the real `iamsim` binary and reading what it printed.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

pub const BIN: &str = env!("CARGO_BIN_EXE_iamsim");

/// What one run of the binary did.
#[derive(Debug)]
pub struct Run {
    pub args: Vec<String>,
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `iamsim ARGS` with stdout and stderr piped (so not a terminal), no stdin, and no
/// `NO_COLOR` inherited from the caller's environment.
pub fn iamsim(args: &[&str]) -> Run {
    iamsim_with(args, |_| {})
}

/// Like [`iamsim`], with a hook to adjust the command (environment, working directory).
pub fn iamsim_with(args: &[&str], adjust: impl FnOnce(&mut Command)) -> Run {
    let mut command = Command::new(BIN);
    command
        .args(args)
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("IAMSIM_SNAPSHOT")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    adjust(&mut command);
    let output = command.output().expect("the iamsim binary runs");
    Run {
        args: args.iter().map(|a| a.to_string()).collect(),
        code: output
            .status
            .code()
            .expect("iamsim exits rather than dying from a signal"),
        stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
    }
}

impl Run {
    /// Stderr lines that are neither notes, warnings nor hints: on an error, the error alone.
    pub fn error_lines(&self) -> Vec<&str> {
        self.stderr
            .lines()
            .filter(|l| {
                !(l.starts_with("note: ") || l.starts_with("warning: ") || l.starts_with("hint: "))
            })
            .collect()
    }

    /// The `warning: ` lines of stderr.
    pub fn warnings(&self) -> Vec<&str> {
        self.stderr
            .lines()
            .filter(|l| l.starts_with("warning: "))
            .collect()
    }

    /// Stdout parsed as exactly one JSON document (trailing text fails). A report (the run
    /// asked for `--format json`) must also validate against `schema/output.v5.json`.
    ///
    /// An impact, written with shared entries and paths, is returned in the one-entry-per-action
    /// form (`Impact::flatten`, what `--per-action` prints), which is what most tests read; the
    /// grouped form itself is held to the schema first, and [`Run::raw`] returns it as printed.
    pub fn json(&self) -> serde_json::Value {
        self.expect_code(0);
        flat(self.document())
    }

    /// Stdout as one JSON document, exactly as printed (exit 0).
    pub fn raw(&self) -> serde_json::Value {
        self.expect_code(0);
        self.document()
    }

    /// Like [`Run::json`], whatever the exit code (a tripped gate exits 1 with a report).
    pub fn document(&self) -> serde_json::Value {
        let document = serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("{self:?}\nstdout is not one JSON document: {e}"));
        if self
            .args
            .windows(2)
            .any(|w| w[0] == "--format" && w[1] == "json")
        {
            let violations = crate::schema::violations(&document);
            assert!(
                violations.is_empty(),
                "iamsim {:?}: the report breaks schema/output.v5.json:\n{}",
                self.args,
                violations.join("\n")
            );
        }
        document
    }

    /// Asserts the exit code.
    pub fn expect_code(&self, code: i32) -> &Run {
        assert_eq!(
            self.code, code,
            "exit code of iamsim {:?}: {self:#?}",
            self.args
        );
        self
    }

    /// Asserts the error contract: exit 2, nothing on stdout, and exactly one line on stderr
    /// besides notes, warnings and hints, starting with `error: ` and containing every fragment.
    /// A fragment may list alternatives separated by ` | `.
    pub fn expect_error(&self, fragments: &[&str]) -> &Run {
        self.expect_code(2);
        assert_eq!(
            self.stdout, "",
            "stdout must be empty on an error: {self:#?}"
        );
        let lines = self.error_lines();
        assert_eq!(lines.len(), 1, "exactly one error line: {self:#?}");
        assert!(lines[0].starts_with("error: "), "{self:#?}");
        expect_fragments(lines[0], fragments);
        self
    }

    /// Asserts that the line right after the `error:` line is a `hint:` line containing every
    /// fragment: advice follows the error, never precedes it.
    pub fn expect_hint(&self, fragments: &[&str]) -> &Run {
        let lines: Vec<&str> = self.stderr.lines().collect();
        let at = lines
            .iter()
            .position(|l| l.starts_with("error: "))
            .unwrap_or_else(|| panic!("no error line: {self:#?}"));
        let hint = lines.get(at + 1).copied().unwrap_or_default();
        assert!(
            hint.starts_with("hint: "),
            "no hint after the error: {self:#?}"
        );
        expect_fragments(hint, fragments);
        assert_eq!(
            self.stderr.matches("hint: ").count(),
            1,
            "one hint line: {self:#?}"
        );
        self
    }

    /// Asserts exit 0 with some stdout, and one warning line containing every fragment.
    pub fn expect_warning(&self, fragments: &[&str]) -> &Run {
        self.expect_code(0);
        assert!(!self.stdout.is_empty(), "{self:#?}");
        assert!(
            self.warnings().iter().any(|w| has_fragments(w, fragments)),
            "no warning line contains all of {fragments:?}: {self:#?}"
        );
        self
    }
}

fn has_fragments(text: &str, fragments: &[&str]) -> bool {
    fragments
        .iter()
        .all(|f| f.split(" | ").any(|alternative| text.contains(alternative)))
}

/// Asserts that `text` contains every fragment (or one of its ` | ` alternatives).
pub fn expect_fragments(text: &str, fragments: &[&str]) {
    for fragment in fragments {
        assert!(
            has_fragments(text, &[fragment]),
            "`{fragment}` not in: {text}"
        );
    }
}

/// `text` with every run of whitespace one space: wrapped table and Markdown lines read as one.
pub fn words(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The path of a fixture under `tests/data/`.
pub fn data(name: &str) -> String {
    format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// Writes `bytes` to a fresh file under the target's temp directory and returns its path.
pub fn temp_file(name: &str, bytes: impl AsRef<[u8]>) -> String {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("iamsim-tests");
    std::fs::create_dir_all(&dir).expect("temp dir");
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let path = dir.join(format!("{}-{n}-{name}", std::process::id()));
    std::fs::write(&path, bytes).expect("write temp file");
    path.to_str().expect("UTF-8 temp path").to_string()
}

/// A path as compact text: `user:u-ana > group:g-devops > policy:p-compute-admin > #0`.
pub fn path_text(path: &serde_json::Value) -> String {
    path.as_array()
        .expect("a path is an array of steps")
        .iter()
        .map(|step| {
            let kind = step["kind"].as_str().expect("step kind");
            if kind == "statement" {
                assert!(step.get("id").is_none(), "a statement step has no id");
                format!("#{}", step["index"].as_u64().expect("statement index"))
            } else {
                assert!(step.get("index").is_none(), "only statements have an index");
                format!("{kind}:{}", step["id"].as_str().expect("step id"))
            }
        })
        .collect::<Vec<_>>()
        .join(" > ")
}

/// Entries (`{action, resource, via}`) as `(action, resource, [path text])`.
pub fn entries(list: &serde_json::Value) -> Vec<(String, String, Vec<String>)> {
    list.as_array()
        .expect("an array of entries")
        .iter()
        .map(|e| {
            (
                e["action"].as_str().expect("action").to_string(),
                e["resource"].as_str().expect("resource").to_string(),
                e["via"]
                    .as_array()
                    .expect("via")
                    .iter()
                    .map(path_text)
                    .collect(),
            )
        })
        .collect()
}

/// The entry for one (action, resource), if present.
pub fn find<'a>(
    list: &'a [(String, String, Vec<String>)],
    action: &str,
    resource: &str,
) -> Option<&'a Vec<String>> {
    list.iter()
        .find(|(a, r, _)| a == action && r == resource)
        .map(|(_, _, via)| via)
}

/// An expected entry: action, resource, and every path (as [`path_text`] writes them).
pub type E = (&'static str, &'static str, &'static [&'static str]);

/// An expected assumable role: role id, trust id, paths.
pub type A = (&'static str, &'static str, &'static [&'static str]);

/// Asserts `list` holds every expected entry with exactly these paths, none of `absent`
/// (actions, on any resource), and, when `exact`, nothing else.
pub fn check_entries(
    what: &str,
    list: &serde_json::Value,
    expected: &[E],
    exact: bool,
    absent: &[&str],
) {
    let got = entries(list);
    for (action, resource, via) in expected {
        let found = find(&got, action, resource)
            .unwrap_or_else(|| panic!("{what}: no entry {action} on {resource} in {got:#?}"));
        assert_eq!(found, via, "{what}: paths of {action} on {resource}");
    }
    if exact {
        assert_eq!(got.len(), expected.len(), "{what}: {got:#?}");
    }
    for action in absent {
        assert!(
            got.iter().all(|(a, _, _)| a != action),
            "{what}: {action} must not be listed: {got:#?}"
        );
    }
}

/// Asserts a list of assumable roles is exactly `expected`, in order.
pub fn check_assumable(what: &str, list: &serde_json::Value, expected: &[A]) {
    let got: Vec<(String, String, Vec<String>)> = list
        .as_array()
        .expect("array")
        .iter()
        .map(|a| {
            (
                a["role"]["id"].as_str().expect("role id").to_string(),
                a["trust"]["id"].as_str().expect("trust id").to_string(),
                paths(&a["via"]),
            )
        })
        .collect();
    let expected: Vec<(String, String, Vec<String>)> = expected
        .iter()
        .map(|(r, t, via)| {
            (
                r.to_string(),
                t.to_string(),
                via.iter().map(|p| p.to_string()).collect(),
            )
        })
        .collect();
    assert_eq!(got, expected, "{what}");
}

/// An array of paths as [`path_text`]s.
pub fn paths(list: &serde_json::Value) -> Vec<String> {
    list.as_array()
        .expect("an array of paths")
        .iter()
        .map(path_text)
        .collect()
}

/// The built-in demo organization's snapshot, as JSON to copy and modify.
pub fn demo_snapshot() -> serde_json::Value {
    let path = format!("{}/crates/cli/demo.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(path).expect("the demo snapshot");
    serde_json::from_str(&text).expect("the demo snapshot is JSON")
}

/// Writes `value` as JSON to a fresh temp file and returns its path.
pub fn temp_json(name: &str, value: &serde_json::Value) -> String {
    temp_file(name, serde_json::to_string_pretty(value).expect("JSON"))
}

/// A grouped impact document (one with a `paths` table) in the one-entry-per-action form, a
/// redundancy report (`edges` and a `paths` table) with each covered user's paths written out
/// from the user and no table; any other document as it is.
pub fn flat(mut document: serde_json::Value) -> serde_json::Value {
    if document.get("paths").is_none() {
        return document;
    }
    if document.get("edges").is_some() {
        let report: iamsim_core::report::Redundancy = serde_json::from_value(document.clone())
            .expect("a redundancy document reads back as a Redundancy");
        for (e, edge) in report.edges.iter().enumerate() {
            for (c, covered) in edge.covered.iter().enumerate() {
                document["edges"][e]["covered"][c]["via"] =
                    serde_json::to_value(report.covering_paths(covered)).expect("paths");
            }
        }
        document
            .as_object_mut()
            .expect("a report is an object")
            .remove("paths");
        return document;
    }
    let impact: iamsim_core::report::Impact =
        serde_json::from_value(document).expect("an impact document reads back as an Impact");
    serde_json::to_value(impact.flatten()).expect("a flat impact serializes")
}

// Shared argv and fixtures: what several test modules run and expect on the demo.

/// `impact remove-member`: Ana leaves DevOps (she loses 35 pairs and the deploy-admin role).
pub const ANA_LEAVES_DEVOPS: &[&str] = &[
    "impact",
    "remove-member",
    "--group",
    "DevOps",
    "--user",
    "ana@acme.example",
];

/// `impact remove-member`: Dan leaves Contractors (its Deny goes: he gains
/// `compute.instance.Delete`).
pub const DAN_LEAVES_CONTRACTORS: &[&str] = &[
    "impact",
    "remove-member",
    "--group",
    "Contractors",
    "--user",
    "dan@acme.example",
];

/// Paths of the demo, as [`path_text`] writes them.
pub const ANA_ADMIN: &str = "user:u-ana > group:g-devops > policy:p-compute-admin > #0";
pub const DAN_ADMIN: &str = "user:u-dan > group:g-devops > policy:p-compute-admin > #0";
pub const ANA_VIEWER: &str = "user:u-ana > role:r-viewer > policy:p-compute-read > #0";
pub const ANA_BILLING: &str = "user:u-ana > group:g-billing > policy:p-billing-read > #0";
pub const ANA_SUPPORT: &str = "user:u-ana > policy:p-support > #0";

/// The demo's assumable role deploy-admin, through DevOps's trust, for Ana and for Dan.
pub const DEPLOY_ANA: A = (
    "r-deploy-admin",
    "t-deploy-devops",
    &["user:u-ana > group:g-devops"],
);
pub const DEPLOY_DAN: A = (
    "r-deploy-admin",
    "t-deploy-devops",
    &["user:u-dan > group:g-devops"],
);

/// The demo with a week of changes: Ana left DevOps and lost her support policy (deleted), Dan
/// left Contractors, Billing got cost-read, ci-deployer was removed, Eve and group New arrived,
/// and the deploy-admin trust went.
pub fn modified_demo() -> serde_json::Value {
    let mut new = demo_snapshot();
    let group = |new: &mut serde_json::Value, id: &str| -> usize {
        new["groups"]
            .as_array()
            .expect("groups")
            .iter()
            .position(|g| g["id"] == id)
            .expect("group")
    };
    let devops = group(&mut new, "g-devops");
    new["groups"][devops]["members"] = serde_json::json!(["u-dan", "u-ben"]);
    let contractors = group(&mut new, "g-contractors");
    new["groups"][contractors]["members"] = serde_json::json!([]);
    let billing = group(&mut new, "g-billing");
    new["groups"][billing]["policies"] =
        serde_json::json!(["p-billing-read", "p-acl-billing", "p-cost-read"]);
    let users = new["users"].as_array_mut().expect("users");
    users.retain(|u| u["id"] != "u-ci");
    users.push(serde_json::json!({"id": "u-eve", "email": "eve@acme.example", "name": "Eve"}));
    for user in users.iter_mut().filter(|u| u["id"] == "u-ana") {
        user["policies"] = serde_json::json!([]);
    }
    new["groups"].as_array_mut().expect("groups").push(serde_json::json!(
        {"id": "g-new", "display_name": "New", "members": ["u-eve"], "policies": ["p-compute-read"]}
    ));
    new["policies"]
        .as_array_mut()
        .expect("policies")
        .retain(|p| p["id"] != "p-support");
    new["role_trusts"] = serde_json::json!([]);
    new
}

/// The demo and its modified copy, written as snapshot files.
pub fn demo_and_modified() -> (String, String) {
    (
        temp_json("old.json", &demo_snapshot()),
        temp_json("new.json", &modified_demo()),
    )
}
