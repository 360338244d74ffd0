//! Active assumed-role sessions (issue 12 item 8): read with `CrawlOptions::sessions`, one
//! request per user, kept without their token; not asked for otherwise.

use iamsim_core::model::Session;
use iamsim_vultr::fake::fake_session_token;
use iamsim_vultr::recording::Emails;
use iamsim_vultr::CrawlOptions;

use crate::support::{demo, fetch_with, options, requests_to, start_with};

fn session(user: &str, role: &str, name: &str, expires: &str) -> Session {
    Session {
        user_id: user.to_string(),
        role_id: role.to_string(),
        session_name: Some(name.to_string()),
        assumed_at: Some("2026-03-02T09:00:00Z".to_string()),
        expires_at: Some(expires.to_string()),
    }
}

fn with_sessions() -> iamsim_core::Snapshot {
    let mut snapshot = demo();
    snapshot.sessions = vec![
        session("u-ana", "r-deploy-admin", "deploy", "2026-03-02T10:00:00Z"),
        session("u-ana", "r-deploy-admin", "hotfix", "2026-03-02T11:00:00Z"),
        session("u-dan", "r-deploy-admin", "oncall", "2026-03-02T12:00:00Z"),
    ];
    snapshot
}

#[test]
fn sessions_are_read_when_asked_and_kept_without_their_token() {
    let server = start_with(with_sessions(), Default::default());
    let crawl_options = CrawlOptions {
        sessions: true,
        per_page: 1,
        ..CrawlOptions::default()
    };
    let crawl = fetch_with(options(&server), &crawl_options)
        .0
        .expect("the crawl succeeds");
    assert!(crawl.info.consistent, "{:?}", crawl.info.events);
    let mut expected = with_sessions();
    iamsim_vultr::normalize(&mut expected);
    assert_eq!(crawl.snapshot.sessions, expected.sessions);
    // Paged at one item a page: Ana's two sessions took two pages, everyone was asked.
    assert_eq!(
        requests_to(&server, "/assumed-roles/users/u-ana/sessions"),
        2
    );
    for user in &crawl.snapshot.users {
        let path = format!("/assumed-roles/users/{}/sessions", user.id);
        assert!(requests_to(&server, &path) >= 1, "{path} not asked");
    }
    let written = serde_json::to_string(&crawl.snapshot).unwrap();
    assert!(!written.contains("FAKE-SESSION-TOKEN"), "{written}");
    assert!(!written.contains("session_token"));
}

#[test]
fn sessions_are_not_asked_for_by_default() {
    let server = start_with(with_sessions(), Default::default());
    let crawl = fetch_with(options(&server), &CrawlOptions::default())
        .0
        .expect("the crawl succeeds");
    assert!(crawl.snapshot.sessions.is_empty());
    assert!(server
        .requests()
        .iter()
        .all(|r| !r.path.starts_with("/v2/assumed-roles")));
}

#[test]
fn a_recording_never_holds_a_session_token() {
    let server = start_with(with_sessions(), Default::default());
    let crawl_options = CrawlOptions {
        sessions: true,
        ..CrawlOptions::default()
    };
    for emails in [Emails::Hashed, Emails::Kept] {
        let (mut client, _clock) = crate::support::client(options(&server));
        client.start_recording(emails);
        iamsim_vultr::crawl(&mut client, &crawl_options, &mut |_| {}).expect("the crawl succeeds");
        let dir = std::env::temp_dir().join(format!(
            "iamsim-sessions-recording-{}-{emails:?}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        let recorder = client.take_recording().expect("recording");
        recorder
            .write(&dir, client.base_path(), client.key())
            .expect("the recording is written");
        let mut seen = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            assert!(
                !text.contains("FAKE-SESSION-TOKEN"),
                "{emails:?}: a token was recorded"
            );
            seen += text.matches("\"session_token\":\"[redacted]\"").count();
        }
        assert_eq!(
            seen, 3,
            "{emails:?}: every session's token redacted, none dropped"
        );
        assert!(!fake_session_token(0).is_empty());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
