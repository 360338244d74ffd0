//! Files iamsim writes and reads, on real files: the one safe writer (R-FILE-01..03) and the
//! cap on every input (R-IN-01).

use std::io::Write;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::{iamsim, temp_file, Run, BIN};
use crate::vultr_support::{files_in, small, start, temp_dir, vultr};

const DEMO: &str = include_str!("../crates/cli/demo.json");

fn generate(output: &Path) -> Run {
    let output = output.to_str().expect("UTF-8 path");
    iamsim(&[
        "generate",
        "--users",
        "3",
        "--groups",
        "1",
        "--roles",
        "1",
        "--policies",
        "1",
        "--actions",
        "5",
        "-o",
        output,
    ])
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).expect("metadata").mode() & 0o7777
}

/// R-FILE-01: `-o` naming a character device, a FIFO, a socket or a directory is an error
/// exit naming it; the special file is still there, of its kind, and no temporary file is left.
#[test]
fn special_files_are_never_replaced() {
    let dir = temp_dir("special");
    let fifo = dir.join("fifo");
    let made = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success(), "mkfifo");
    let socket = dir.join("socket");
    let _listener = std::os::unix::net::UnixListener::bind(&socket).expect("socket");
    let directory = dir.join("directory");
    std::fs::create_dir(&directory).expect("dir");
    let mut cases = vec![
        (fifo, "a FIFO"),
        (socket, "a socket"),
        (directory, "a directory"),
    ];
    // A character device like /dev/full (1, 7) needs root to make; tests run as root in CI.
    let device = dir.join("device");
    match Command::new("mknod")
        .arg(&device)
        .args(["c", "1", "7"])
        .status()
    {
        Ok(status) if status.success() => cases.push((device, "a character device")),
        _ => eprintln!("note: mknod failed (not root?); the character-device case is skipped"),
    }
    for (path, kind) in &cases {
        let shown = path.display().to_string();
        generate(path).expect_error(&[&shown, &format!("not a regular file ({kind})")]);
        let file_type = std::fs::symlink_metadata(path)
            .expect("still there")
            .file_type();
        let same_kind = match *kind {
            "a FIFO" => file_type.is_fifo(),
            "a socket" => file_type.is_socket(),
            "a directory" => file_type.is_dir(),
            _ => file_type.is_char_device(),
        };
        assert!(same_kind, "{shown} is no longer {kind}");
    }
    let mut expected: Vec<String> = ["device", "directory", "fifo", "socket"]
        .iter()
        .filter(|n| cases.iter().any(|(p, _)| p.ends_with(n)))
        .map(|n| n.to_string())
        .collect();
    expected.sort();
    assert_eq!(files_in(&dir), expected, "no temporary file is left");
}

/// R-FILE-01: a symbolic link is followed: its target gets the new content, the link stays a
/// link, and a dangling link's target is created.
#[test]
fn a_symlink_is_followed_to_its_target() {
    let dir = temp_dir("symlink");
    let target = dir.join("target.json");
    std::fs::write(&target, "old").expect("write");
    let link = dir.join("link.json");
    std::os::unix::fs::symlink("target.json", &link).expect("symlink");
    generate(&link).expect_code(0);
    assert!(std::fs::symlink_metadata(&link)
        .expect("link")
        .file_type()
        .is_symlink());
    let written = std::fs::read_to_string(&target).expect("target");
    assert!(written.contains("iamsim.snapshot.v1"), "{written}");

    let dangling = dir.join("dangling.json");
    std::os::unix::fs::symlink("made.json", &dangling).expect("symlink");
    generate(&dangling).expect_code(0);
    assert!(std::fs::read_to_string(dir.join("made.json"))
        .expect("created")
        .contains("iamsim.snapshot.v1"));
    assert_eq!(
        files_in(&dir),
        ["dangling.json", "link.json", "made.json", "target.json"]
    );
}

/// R-FILE-02: overwriting keeps the file's mode (0600 stays 0600, 0640 stays 0640); a new file
/// is created 0600 whatever the umask, since it holds organization data.
#[test]
fn an_existing_file_keeps_its_mode_and_a_new_one_is_0600() {
    let dir = temp_dir("modes");
    for keep in [0o600, 0o640, 0o644] {
        let path = dir.join(format!("existing-{keep:o}.json"));
        std::fs::write(&path, "old").expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(keep)).expect("chmod");
        generate(&path).expect_code(0);
        assert_eq!(mode(&path), keep, "{}", path.display());
        assert_ne!(std::fs::read_to_string(&path).expect("read"), "old");
    }
    let new = dir.join("new.json");
    generate(&new).expect_code(0);
    assert_eq!(mode(&new), 0o600);
}

/// R-FILE-02: the owner and group of an overwritten file are kept (as root, where iamsim may
/// set them).
#[test]
fn an_existing_file_keeps_its_owner_when_root() {
    let dir = temp_dir("owner");
    let path = dir.join("owned.json");
    std::fs::write(&path, "old").expect("write");
    let me = std::fs::metadata(&path).expect("metadata").uid();
    if me != 0 {
        eprintln!("note: not root; the ownership case is skipped");
        return;
    }
    std::os::unix::fs::chown(&path, Some(4242), Some(4343)).expect("chown");
    generate(&path).expect_code(0);
    let after = std::fs::metadata(&path).expect("metadata");
    assert_eq!((after.uid(), after.gid()), (4242, 4343));
}

/// R-FILE-02, R-FILE-03: `vultr fetch -o` goes through the same writer: an existing 0600
/// snapshot stays 0600, a new one is 0600, a FIFO is refused before anything is written.
#[test]
fn fetch_output_uses_the_safe_writer() {
    let server = start(small(), vec![]);
    let dir = temp_dir("fetch-modes");
    let existing = dir.join("existing.json");
    std::fs::write(&existing, "old").expect("write");
    std::fs::set_permissions(&existing, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    vultr("fetch", &server, &["-o", existing.to_str().expect("path")]).expect_code(0);
    assert_eq!(mode(&existing), 0o600);
    let new = dir.join("new.json");
    vultr("fetch", &server, &["-o", new.to_str().expect("path")]).expect_code(0);
    assert_eq!(mode(&new), 0o600);
    let fifo = dir.join("fifo");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo")
        .success());
    let shown = fifo.display().to_string();
    vultr("fetch", &server, &["-o", &shown]).expect_error(&[&shown, "not a regular file (a FIFO)"]);
    assert_eq!(files_in(&dir), ["existing.json", "fifo", "new.json"]);
}

/// R-IN-01: `/dev/zero` as any input ends in an error exit naming it, within a second.
#[test]
fn dev_zero_is_refused_within_a_second_as_any_input() {
    let demo = temp_file("demo.json", DEMO);
    let cases: Vec<Vec<&str>> = vec![
        vec!["effective", "--user", "u-ana", "--snapshot", "/dev/zero"],
        vec!["diff", "/dev/zero", &demo],
        vec!["effective", "--user", "u-ana", "--catalogue", "/dev/zero"],
        vec!["impact", "--changes", "/dev/zero"],
        vec![
            "impact",
            "replace-policy-document",
            "--policy",
            "p-compute-admin",
            "--document",
            "/dev/zero",
        ],
        vec!["vultr", "fetch", "--api-key-file", "/dev/zero"],
    ];
    for args in cases {
        let started = Instant::now();
        let run = iamsim(&args);
        run.expect_error(&["/dev/zero", "not text: control byte 0x00 at byte offset 0"]);
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{args:?} took {:?}",
            started.elapsed()
        );
    }
}

/// R-IN-01: a file one byte over a lowered cap is refused, naming the cap and the flag; at
/// the cap it is read; a raised cap reads more than the default of another kind.
#[test]
fn a_file_one_byte_over_the_cap_is_refused() {
    let size = DEMO.len();
    let at = temp_file("at-cap.json", DEMO);
    let over = temp_file("over-cap.json", format!("{DEMO} "));
    let cap = size.to_string();
    iamsim(&[
        "effective",
        "--user",
        "u-ana",
        "--snapshot",
        &at,
        "--max-input-size",
        &cap,
    ])
    .expect_code(0);
    iamsim(&[
        "effective",
        "--user",
        "u-ana",
        "--snapshot",
        &over,
        "--max-input-size",
        &cap,
    ])
    .expect_error(&[
        &over,
        &format!("larger than the limit of {size} bytes; raise it with --max-input-size"),
    ]);
    iamsim(&[
        "effective",
        "--user",
        "u-ana",
        "--snapshot",
        &at,
        "--max-input-size",
        "1KiB",
    ])
    .expect_error(&[&at, "larger than the limit of 1 KiB"]);
    for bad in ["0", "lots", "1.5GiB", "-1"] {
        let flag = format!("--max-input-size={bad}");
        iamsim(&["effective", "--user", "u-ana", &flag]).expect_error(&["--max-input-size"]);
    }
    iamsim(&[
        "effective",
        "--user",
        "u-ana",
        "--snapshot",
        &at,
        "--max-input-size",
        "4GiB",
    ])
    .expect_code(0);
}

fn with_stdin(args: &[&str], input: &[u8]) -> (i32, String, String) {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_vec();
    // The child may stop reading early (over the cap): a broken pipe is expected then.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let output = child.wait_with_output().expect("wait");
    writer.join().expect("writer");
    (
        output.status.code().expect("exit code"),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// R-IN-01: `-` reads standard input wherever a file is read, under the same cap; it can be
/// named once.
#[test]
fn stdin_as_dash_is_read_under_the_same_cap() {
    let args = [
        "effective",
        "--user",
        "u-ana",
        "--snapshot",
        "-",
        "--format",
        "json",
    ];
    let (code, stdout, stderr) = with_stdin(&args, DEMO.as_bytes());
    assert_eq!(code, 0, "{stderr}");
    let file = temp_file("demo-stdin.json", DEMO);
    let from_file = iamsim(&[
        "effective",
        "--user",
        "u-ana",
        "--snapshot",
        &file,
        "--format",
        "json",
    ]);
    assert_eq!(stdout, from_file.stdout);

    let cap = (DEMO.len() - 1).to_string();
    let (code, stdout, stderr) = with_stdin(
        &[&args[..], &["--max-input-size", &cap]].concat(),
        DEMO.as_bytes(),
    );
    assert_eq!((code, stdout.as_str()), (2, ""), "{stderr}");
    assert!(
        stderr.contains(&format!("error: -: larger than the limit of {cap} bytes")),
        "{stderr}"
    );

    let (code, _, stderr) = with_stdin(&["diff", "-", "-"], DEMO.as_bytes());
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("can be read only once"), "{stderr}");

    // A change file from stdin too.
    let changes = br#"[{"kind": "remove_member", "group": "DevOps", "user": "u-ana"}]"#;
    let (code, _, stderr) = with_stdin(&["impact", "--changes", "-", "--format", "json"], changes);
    assert!(code == 0 || code == 1, "{stderr}");
}
