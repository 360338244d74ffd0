//! robustness.md "HTTP and transport", against the fake Vultr server over real HTTP on
//! loopback. Waits go through a manual clock: a `Retry-After: 2` is asked for, not slept.
//!
//! These run the `iamsim` binary; the adapter's own tests of the same area, through the
//! library, are in `crates/vultr/tests/it/http.rs`.

use std::io::Read;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use iamsim_vultr::fake::{FakeOptions, Fault, FaultAction};
use iamsim_vultr::{ApiKey, Client, ClientOptions, CrawlOptions};

use crate::vultr_support::{
    client, demo, error_text, fetch, fetch_with, files_in, options, requests_to, small, start,
    start_with, temp_dir, vultr, SENTINEL,
};

fn status(status: u16) -> FaultAction {
    FaultAction::Status {
        status,
        retry_after: None,
        body: None,
    }
}

/// R-HTTP-01: 401 is not retried; the message names `VULTR_API_KEY`; the key shows nowhere.
#[test]
fn unauthorized_fails_at_once_naming_the_variable() {
    let server = start(small(), vec![Fault::on("/organizations", status(401))]);
    let run = vultr("fetch", &server, &["-vv"]);
    run.expect_error(&["401 unauthorized", "VULTR_API_KEY", "GET /v2/organizations"])
        .expect_hint(&["current", "API access is enabled", "IP allowlist"]);
    crate::vultr_support::assert_no_key(&run, &[]);
    assert_eq!(requests_to(&server, "/organizations"), 1, "no retry");

    // The real check of a wrong key, by the fake itself.
    let strict = start_with(
        small(),
        FakeOptions {
            api_key: Some(ApiKey::new("another-key").unwrap()),
            ..FakeOptions::default()
        },
    );
    let text = error_text(fetch(&strict));
    assert!(
        text.contains("401") && text.contains("the API key given"),
        "{text}"
    );
    assert_eq!(strict.requests().len(), 1);
}

/// R-HTTP-02: a 403 on `/policies` after users succeeded fails the crawl; no file is written.
#[test]
fn forbidden_midway_writes_nothing() {
    let server = start(small(), vec![Fault::on("/policies", status(403))]);
    let dir = temp_dir("forbidden");
    let out = dir.join("org.json");
    let run = vultr("fetch", &server, &["-o", out.to_str().unwrap()]);
    run.expect_error(&["GET /v2/policies", "403 forbidden"])
        .expect_hint(&["`iam.*` read actions"]);
    assert!(requests_to(&server, "/users") >= 1, "users were read first");
    assert_eq!(
        files_in(&dir),
        Vec::<String>::new(),
        "no file, no temp file"
    );
}

/// R-HTTP-07: 429 without `Retry-After`: exponential backoff with jitter, then "rate
/// limited" after the last attempt.
#[test]
fn rate_limited_without_retry_after_backs_off_then_fails() {
    let server = start(small(), vec![Fault::on("/organizations", status(429))]);
    let (result, clock, _) = fetch_with(options(&server), &CrawlOptions::default());
    let text = error_text(result);
    assert!(
        text.contains("rate limited (429) on all 5 attempt(s)"),
        "{text}"
    );
    assert_eq!(requests_to(&server, "/organizations"), 5);
    let sleeps = clock.sleeps();
    assert_eq!(sleeps.len(), 4, "{sleeps:?}");
    for (i, sleep) in sleeps.iter().enumerate() {
        let step = Duration::from_millis(500) * (1 << i);
        assert!(
            *sleep >= step / 2 && *sleep <= step,
            "backoff {i}: {sleep:?}"
        );
    }
    // Jitter: not simply the lower bound each time.
    assert!(sleeps
        .iter()
        .enumerate()
        .any(|(i, s)| *s != Duration::from_millis(250) * (1 << i)));

    // Through the binary, with fewer attempts.
    let run = vultr("fetch", &server, &["--attempts", "2"]);
    run.expect_error(&["rate limited (429) on all 2 attempt(s)"])
        .expect_hint(&["lower --rate"]);
}

/// R-HTTP-09: a burst of 100 requests at the default rate never has more than 10 in any
/// second (on the manual clock); at 20/s on the real clock, measured at the fake, never more
/// than 20 in any second. Rates at or above Vultr's 30/s are refused.
#[test]
fn rate_limit_holds() {
    let server = start(small(), vec![]);
    let (mut client, _) = client(options(&server));
    let times = Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = times.clone();
    client.set_observer(move |r| log.lock().unwrap().push(r.at));
    for _ in 0..100 {
        client.get_json("/users?per_page=1").expect("request");
    }
    let times = times.lock().unwrap().clone();
    assert_eq!(times.len(), 100);
    for pair in times.windows(11) {
        assert!(
            pair[10] - pair[0] >= Duration::from_secs(1),
            "11 requests within 1 s"
        );
    }

    // The real clock, seen from the server.
    let server = start(demo(), vec![]);
    let options20 = ClientOptions {
        rate_per_second: 20.0,
        ..options(&server)
    };
    let mut real = Client::new(ApiKey::new(SENTINEL).unwrap(), options20).unwrap();
    iamsim_vultr::crawl(&mut real, &CrawlOptions::default(), &mut |_| {}).expect("crawl");
    let arrivals: Vec<_> = server.requests().iter().map(|r| r.at).collect();
    assert!(arrivals.len() > 40, "{}", arrivals.len());
    for pair in arrivals.windows(21) {
        assert!(
            pair[20] - pair[0] >= Duration::from_secs(1),
            "21 requests within 1 s at the fake"
        );
    }

    for rate in [0.0, 25.5, 30.0, 100.0] {
        let options = ClientOptions {
            rate_per_second: rate,
            ..options(&server)
        };
        let e = Client::new(ApiKey::new(SENTINEL).unwrap(), options).unwrap_err();
        assert!(e.to_string().contains("at most 25"), "{e}");
    }
    let url = server.base_url();
    crate::vultr_support::iamsim_key(&["vultr", "fetch", "--base-url", &url, "--rate", "30"])
        .expect_error(&["at most 25"]);
}

/// R-HTTP-16: a TLS server with a self-signed certificate: a TLS error, no insecure fallback,
/// no request sent.
#[test]
fn self_signed_tls_is_refused() {
    let (url, served) = self_signed_server();
    let run = crate::vultr_support::iamsim_key(&[
        "vultr",
        "fetch",
        "--base-url",
        &url,
        "--rate",
        "25",
        "-vv",
    ]);
    run.expect_error(&["TLS error", "never falls back"]);
    crate::vultr_support::assert_no_key(&run, &[]);
    let received = served.join().expect("the TLS server thread");
    assert!(
        !String::from_utf8_lossy(&received).contains("GET"),
        "no request may reach a server that failed TLS"
    );
}

/// A one-connection TLS server with the self-signed certificate of `tests/data/vultr-tls`;
/// its thread returns the plaintext bytes it received.
fn self_signed_server() -> (String, std::thread::JoinHandle<Vec<u8>>) {
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
    let cert = CertificateDer::from(include_bytes!("data/vultr-tls/cert.der").to_vec());
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        include_bytes!("data/vultr-tls/key.der").to_vec(),
    ));
    let config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .expect("server config");
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!(
        "https://127.0.0.1:{}/v2",
        listener.local_addr().unwrap().port()
    );
    let thread = std::thread::spawn(move || {
        let (tcp, _) = listener.accept().expect("accept");
        tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let conn = rustls::ServerConnection::new(Arc::new(config)).expect("connection");
        let mut tls = rustls::StreamOwned::new(conn, tcp);
        let mut received = Vec::new();
        let mut buf = [0u8; 1024];
        while let Ok(n) = tls.read(&mut buf) {
            if n == 0 {
                break;
            }
            received.extend_from_slice(&buf[..n]);
        }
        received
    });
    (url, thread)
}

/// R-HTTP-17: plain `http://` is refused unless the host is a loopback address. Checked
/// before any connection is made.
#[test]
fn plain_http_only_to_loopback() {
    let make = |url: &str| {
        Client::new(
            ApiKey::new(SENTINEL).unwrap(),
            ClientOptions {
                base_url: url.to_string(),
                ..ClientOptions::default()
            },
        )
    };
    for url in [
        "http://api.vultr.com/v2",
        "http://10.1.2.3/v2",
        "http://127.0.0.1.nip.io/v2",
    ] {
        let e = iamsim_vultr::chain(&make(url).unwrap_err());
        assert!(
            e.contains("plain http is allowed only to a loopback address"),
            "{url}: {e}"
        );
    }
    for url in [
        "http://127.0.0.1:1/v2",
        "http://localhost:1/v2",
        "http://[::1]:1/v2",
        "https://api.vultr.com/v2",
    ] {
        assert!(make(url).is_ok(), "{url}");
    }
    // And through the binary, against the fake.
    let server = start(small(), vec![]);
    vultr("fetch", &server, &[]).expect_code(0);
}

/// R-HTTP-18: a rate-limit wait counts against the overall timeout: a wait that would pass it
/// fails at once, naming both, on the manual clock and in real time through the binary.
#[test]
fn rate_limit_waits_count_against_the_total_timeout() {
    let server = start(small(), vec![]);
    let (mut client, clock) = client(ClientOptions {
        rate_per_second: 0.05,
        total_timeout: Some(Duration::from_secs(5)),
        ..options(&server)
    });
    client
        .get_json("/users")
        .expect("the first request goes at once");
    let e = iamsim_vultr::chain(&client.get_json("/users").unwrap_err());
    assert!(
        e.contains("waiting 21.0 s for the rate limit would pass the overall timeout of 5 s"),
        "{e}"
    );
    assert!(clock.sleeps().is_empty(), "{:?}", clock.sleeps());
    assert_eq!(server.requests().len(), 1);

    let url = server.base_url();
    let started = std::time::Instant::now();
    crate::vultr_support::iamsim_key(&[
        "vultr",
        "fetch",
        "--base-url",
        &url,
        "--rate",
        "0.05",
        "--total-timeout",
        "5",
    ])
    .expect_error(&["rate limit would pass the overall timeout of 5 s"]);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

/// R-IN-02: `--rate`, `--timeout`, `--total-timeout` and `--attempts` out of range are usage
/// errors naming the flag, before any request; never rounded into range.
#[test]
fn flag_values_are_validated_not_rewritten() {
    let server = start(small(), vec![]);
    let url = server.base_url();
    for (flag, value, expected) in [
        ("--rate", "0", "at least 0.01"),
        ("--rate", "-1", "at least 0.01"),
        ("--rate", "NaN", "at least 0.01"),
        ("--rate", "inf", "at most 25"),
        ("--rate", "0.0000001", "at least 0.01"),
        ("--rate", "ten", "not a number"),
        ("--timeout", "0", "0 is not in 1..=3600"),
        ("--timeout", "99999999", "not in 1..=3600"),
        ("--total-timeout", "0", "0 is not in 1..=2592000"),
        ("--attempts", "0", "0 is not in 1..=100"),
    ] {
        let arg = format!("{flag}={value}");
        crate::vultr_support::iamsim_key(&["vultr", "fetch", "--base-url", &url, &arg])
            .expect_error(&[flag, expected]);
    }
    assert!(server.requests().is_empty());
    let e = Client::new(
        ApiKey::new(SENTINEL).unwrap(),
        ClientOptions {
            request_timeout: Duration::ZERO,
            ..options(&server)
        },
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("request timeout must be more than 0"),
        "{e}"
    );
}
