//! robustness.md "Secrets": the API key shows in no output, file, error or `Debug`, in
//! success and in every failure path, at the highest verbosity.
//!
//! These run the `iamsim` binary; the adapter's own tests of the same area, through the
//! library, are in `crates/vultr/tests/it/secrets.rs`.

use iamsim_vultr::fake::{Fault, FaultAction};
use iamsim_vultr::{ApiKey, Client, ClientOptions};

use crate::util::iamsim_with;
use crate::vultr_support::{
    assert_no_key, files_in, iamsim_key, options, small, start, temp_dir, vultr, SENTINEL,
};

fn status(status: u16, retry_after: Option<&str>) -> FaultAction {
    FaultAction::Status {
        status,
        retry_after: retry_after.map(str::to_string),
        body: None,
    }
}

/// R-SEC-01, R-SEC-05: the sentinel key never shows, at `-vv`, in success and failure; the
/// logs never show a header. Servers that echo the key back do not make iamsim print it.
#[test]
fn the_key_never_shows() {
    let echo = |status: u16| FaultAction::Body {
        status,
        content_type: "application/json".into(),
        body: format!(r#"{{"error": "bad token Bearer {SENTINEL}"}}"#),
    };
    let cases: Vec<(&str, Vec<Fault>, &[&str], i32)> = vec![
        ("success", vec![], &[], 0),
        ("401", vec![Fault::on("/users", status(401, None))], &[], 2),
        (
            "401 echoing the key",
            vec![Fault::on("*", echo(401))],
            &[],
            2,
        ),
        (
            "403 echoing the key",
            vec![Fault::on("/groups", echo(403))],
            &[],
            2,
        ),
        (
            "429",
            vec![Fault::on("/users", status(429, Some("0")))],
            &["--attempts", "2"],
            2,
        ),
        (
            "429 over the cap",
            vec![Fault::on("/users", status(429, Some("86400")))],
            &[],
            2,
        ),
        (
            "5xx",
            vec![Fault::on("/users", status(503, None))],
            &["--attempts", "2"],
            2,
        ),
        (
            "html echoing the key",
            vec![Fault::on(
                "/users",
                FaultAction::Body {
                    status: 200,
                    content_type: "text/html".into(),
                    body: format!("<p>your key: {SENTINEL}</p>"),
                },
            )],
            &[],
            2,
        ),
        (
            "json error path naming the key",
            vec![Fault::on(
                "/users",
                FaultAction::Body {
                    status: 200,
                    content_type: "application/json".into(),
                    body: format!(r#"{{"users": [{{"id": "u-1", "{SENTINEL}": "#),
                },
            )],
            &[],
            2,
        ),
        (
            "redirect to the key",
            vec![Fault::on(
                "/users",
                FaultAction::Redirect {
                    status: 302,
                    location: format!("http://127.0.0.1:1/?k={SENTINEL}"),
                },
            )],
            &[],
            2,
        ),
        (
            "the key in the data",
            vec![Fault::on(
                "/users",
                FaultAction::RenameUser {
                    id: "u-ana".into(),
                    name: format!("Ana {SENTINEL}"),
                },
            )],
            &[],
            2,
        ),
        (
            "timeout",
            vec![Fault::on("/users", FaultAction::Hang)],
            &["--timeout", "1", "--attempts", "1"],
            2,
        ),
        ("verify", vec![], &["--verify"], 0),
    ];
    for (name, faults, extra, code) in cases {
        let server = start(small(), faults);
        let dir = temp_dir("secret");
        let out = dir.join("org.json");
        let mut args = vec!["-vv", "-o", out.to_str().unwrap()];
        args.extend_from_slice(extra);
        let run = vultr("fetch", &server, &args);
        assert_eq!(run.code, code, "{name}: {run:#?}");
        let files: Vec<String> = files_in(&dir)
            .iter()
            .map(|f| dir.join(f).to_str().unwrap().to_string())
            .collect();
        let files: Vec<&str> = files.iter().map(String::as_str).collect();
        assert_no_key(&run, &files);
        assert_eq!(files.len(), usize::from(code == 0), "{name}: {files:?}");
        let lower = run.stderr.to_ascii_lowercase();
        for header in [
            "authorization",
            "user-agent",
            "content-length",
            "retry-after:",
        ] {
            assert!(
                !lower.contains(header),
                "{name}: a header in the log: {run:#?}"
            );
        }
        if name != "success" {
            assert!(
                run.stderr.contains("note: GET /v2/"),
                "{name}: -v logs requests"
            );
        }
    }
}

/// A key pasted into the base URL by mistake is redacted from messages and logs too.
#[test]
fn a_key_in_the_base_url_is_redacted() {
    let server = start(small(), vec![]);
    let url = format!("{}/{SENTINEL}", server.base_url());
    let run = iamsim_key(&["vultr", "fetch", "--base-url", &url, "-vv"]);
    run.expect_error(&["404", "[REDACTED]"]);
    assert_no_key(&run, &[]);
    assert!(
        run.stderr
            .contains("note: GET /v2/[REDACTED]/organizations"),
        "{run:#?}"
    );
}

/// R-SEC-01 on remove-member: the sentinel shows nowhere when it succeeds or fails.
#[test]
fn the_key_never_shows_in_remove_member() {
    let remove = ["--group", "Ops", "--user", "ana@small.example", "-vv"];
    for (faults, yes, code) in [
        (vec![], true, 0),
        (
            vec![Fault::on("/groups/g-ops/members/u-ana", status(401, None))],
            true,
            2,
        ),
        (vec![], false, 2),
    ] {
        let server = start(small(), faults);
        let mut args = remove.to_vec();
        if yes {
            args.push("--yes");
        }
        let run = vultr("remove-member", &server, &args);
        assert_eq!(run.code, code, "{run:#?}");
        assert_no_key(&run, &[]);
    }
}

/// R-SEC-02: `--help` with the key in the environment shows neither the key nor the key
/// file's path. (The structural test that every env-backed argument hides its value is a unit
/// test of the binary.)
#[test]
fn help_hides_the_environment() {
    for args in [
        &["vultr", "fetch", "--help"][..],
        &["vultr", "remove-member", "--help"],
        &["vultr", "--help"],
        &["--help"],
    ] {
        let run = iamsim_with(args, |c| {
            c.env("VULTR_API_KEY", SENTINEL)
                .env("VULTR_API_KEY_FILE", "/secret/path/SENTINEL-FILE");
        });
        run.expect_code(0);
        assert!(!run.stdout.contains(SENTINEL), "{run:#?}");
        assert!(!run.stdout.contains("SENTINEL-FILE"), "{run:#?}");
    }
    let run = iamsim_key(&["vultr", "fetch", "--help"]);
    assert!(run.stdout.contains("--api-key-file"), "{run:#?}");
    assert!(run.stdout.contains("VULTR_API_KEY_FILE"), "{run:#?}");
}

/// R-SEC-04: the key comes from the environment or a key file, never a command-line value;
/// a key file others can read is warned about.
#[test]
fn key_sources() {
    let server = start(small(), vec![]);
    let url = server.base_url();
    // No key at all.
    iamsim_with(&["vultr", "fetch", "--base-url", &url], |c| {
        c.env_remove("VULTR_API_KEY")
            .env_remove("VULTR_API_KEY_FILE");
    })
    .expect_error(&["no API key"])
    .expect_hint(&["VULTR_API_KEY", "--api-key-file"]);
    // No option takes the key itself.
    let run = iamsim_key(&[
        "vultr",
        "fetch",
        "--api-key",
        "SENTINEL-ON-THE-COMMAND-LINE",
    ]);
    run.expect_code(2);
    assert!(
        !run.stderr.contains("SENTINEL-ON-THE-COMMAND-LINE"),
        "{run:#?}"
    );

    let dir = temp_dir("keyfile");
    let file = dir.join("key");
    std::fs::write(&file, format!("{SENTINEL}\n")).unwrap();
    let file = file.to_str().unwrap();
    for (mode, warned) in [(0o600, false), (0o644, true)] {
        set_mode(file, mode);
        let run = iamsim_with(
            &[
                "vultr",
                "fetch",
                "--base-url",
                &url,
                "--rate",
                "25",
                "--api-key-file",
                file,
            ],
            |c| {
                c.env_remove("VULTR_API_KEY");
            },
        );
        run.expect_code(0);
        assert_no_key(&run, &[]);
        assert_eq!(
            run.warnings()
                .iter()
                .any(|w| w.contains("can be read by other users")),
            warned,
            "mode {mode:o}: {run:#?}"
        );
    }
    // The key file's key is the one sent: a fake that wants another refuses it, naming the file.
    let strict = crate::vultr_support::start_with(
        small(),
        iamsim_vultr::fake::FakeOptions {
            api_key: Some(ApiKey::new("another").unwrap()),
            ..Default::default()
        },
    );
    let url = strict.base_url();
    let run = iamsim_with(
        &["vultr", "fetch", "--base-url", &url, "--api-key-file", file],
        |c| {
            c.env_remove("VULTR_API_KEY");
        },
    );
    run.expect_error(&["401", "the key file"]);
    assert_no_key(&run, &[]);
}

#[cfg(unix)]
fn set_mode(path: &str, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[cfg(not(unix))]
fn set_mode(_path: &str, _mode: u32) {}

/// A short key (`VULTR_API_KEY=k`) is looked for as a whole token only: a fetch whose data
/// holds the key's letters inside words (`ana@small.example`, `u-ana`) succeeds, and nothing
/// is redacted by mistake.
#[test]
fn a_short_key_raises_no_false_alarm() {
    let server = start(small(), vec![]);
    let url = server.base_url();
    for key in ["k", "a", "ana", "small"] {
        let run = crate::util::iamsim_with(
            &["vultr", "fetch", "--base-url", &url, "--rate", "25"],
            |c| {
                c.env("VULTR_API_KEY", key).env_remove("VULTR_API_KEY_FILE");
            },
        );
        run.expect_code(0);
        assert!(!run.stdout.contains("[REDACTED]"), "{key}: {run:#?}");
        assert!(run.stdout.contains("ana@small.example"), "{key}: {run:#?}");
    }
}

/// The errors that list what the server sent (organizations, the ids an invitation names) and
/// the base URL's error hold no key, in their message, their chain or their hint, even when
/// the server (or the user, in the URL) puts the key there.
#[test]
fn errors_naming_server_data_never_show_the_key() {
    use iamsim_vultr::fake::FakeOptions;
    use iamsim_vultr::CrawlOptions;

    use crate::vultr_support::{error_and_hint, fetch_with, start_with};

    let server = start_with(
        small(),
        FakeOptions {
            other_organizations: vec![(format!("org-{SENTINEL}"), format!("Name {SENTINEL}"))],
            invitation_org: Some(format!("org-{SENTINEL}")),
            ..FakeOptions::default()
        },
    );
    for organization in [None, Some("nope"), Some("org-small")] {
        let crawl_options = CrawlOptions {
            organization: organization.map(str::to_string),
            ..CrawlOptions::default()
        };
        // `error_and_hint` fails on a key in the chain or the hint.
        let (text, _) = error_and_hint(fetch_with(options(&server), &crawl_options).0);
        assert!(text.contains("[REDACTED]"), "{organization:?}: {text}");
    }
    for args in [
        &[][..],
        &["--organization", "nope"],
        &["--organization", "org-small"],
    ] {
        let run = vultr("fetch", &server, args);
        run.expect_code(2);
        assert_no_key(&run, &[]);
    }

    let url = format!("http://user:{SENTINEL}@127.0.0.1:1/v2");
    let e = Client::new(
        ApiKey::new(SENTINEL).unwrap(),
        ClientOptions {
            base_url: url.clone(),
            ..ClientOptions::default()
        },
    )
    .unwrap_err();
    let text = iamsim_vultr::chain(&e);
    assert!(text.contains("credentials in the URL"), "{text}");
    assert!(
        !text.contains(SENTINEL) && !format!("{e:?}").contains(SENTINEL),
        "{text}"
    );
    let run = iamsim_key(&["vultr", "fetch", "--base-url", &url]);
    run.expect_error(&["credentials in the URL"]);
    assert_no_key(&run, &[]);
}
