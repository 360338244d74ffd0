//! The HTTP client: one request at a time, under a client-side rate limit, with retries that
//! honour `Retry-After`, per-request and overall timeouts, and bounded response bodies.

use std::io::Read;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::clock::{Clock, SystemClock};
use crate::key::ApiKey;
use crate::recording::{Emails, Recorder, Replay};
use crate::{BaseUrlProblem, Error, HttpError};

/// Vultr's API, version 2.
pub const DEFAULT_BASE_URL: &str = "https://api.vultr.com/v2";

/// Vultr answers 429 above 30 requests per second; the client never asks for more than this.
pub const MAX_RATE: f64 = 25.0;

/// The slowest rate accepted: one request every 100 seconds. Anything slower is a typo, and
/// would make even a small crawl last for days.
pub const MIN_RATE: f64 = 0.01;

/// How the client talks to the API. [`ClientOptions::default`] is what `iamsim vultr fetch`
/// uses.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Base URL, such as [`DEFAULT_BASE_URL`]. Plain `http://` only to a loopback address.
    pub base_url: String,
    /// Requests per second, from [`MIN_RATE`] to [`MAX_RATE`]. Requests are spaced evenly, 5% apart more
    /// than the rate needs, so that network jitter never makes the server count more.
    pub rate_per_second: f64,
    /// The longest one request may take, from connecting to the last byte of the body.
    pub request_timeout: Duration,
    /// The longest all requests of this client together may take; `None` for no limit.
    pub total_timeout: Option<Duration>,
    /// Tries per request, the first included, on 429, 5xx, timeouts and broken connections.
    pub max_attempts: u32,
    /// The first backoff; it doubles with each retry, with jitter.
    pub backoff_initial: Duration,
    /// The longest backoff.
    pub backoff_max: Duration,
    /// The longest `Retry-After` honoured. A longer one fails the request at once.
    pub retry_after_cap: Duration,
    /// The largest response body read.
    pub max_body_bytes: usize,
    /// Seed of the backoff jitter; `None` seeds from the clock.
    pub jitter_seed: Option<u64>,
    /// The `User-Agent` header.
    pub user_agent: String,
}

impl Default for ClientOptions {
    fn default() -> ClientOptions {
        ClientOptions {
            base_url: DEFAULT_BASE_URL.to_string(),
            rate_per_second: 10.0,
            request_timeout: Duration::from_secs(30),
            total_timeout: Some(Duration::from_secs(4 * 3600)),
            max_attempts: 5,
            backoff_initial: Duration::from_millis(500),
            backoff_max: Duration::from_secs(30),
            retry_after_cap: Duration::from_secs(60),
            max_body_bytes: 10 * 1024 * 1024,
            jitter_seed: None,
            user_agent: concat!("iamsim-vultr/", env!("CARGO_PKG_VERSION")).to_string(),
        }
    }
}

/// Counters of what the client did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// HTTP requests sent, retries included.
    pub requests: u64,
    /// Requests that were retries.
    pub retries: u64,
    /// Response body bytes received, retries included.
    pub bytes: u64,
}

/// One request as the observer sees it: no header, no body.
#[derive(Debug, Clone)]
pub struct RequestLog {
    /// `GET` or `DELETE`.
    pub method: &'static str,
    /// Path and query, such as `/v2/users?per_page=100`.
    pub target: String,
    /// 1 for the first try.
    pub attempt: u32,
    /// The status, or `None` when no response came.
    pub status: Option<u16>,
    /// How long it took.
    pub elapsed: Duration,
    /// When it was sent, on the client's clock.
    pub at: Instant,
}

/// Called after every request.
type Observer = Box<dyn FnMut(&RequestLog) + Send>;

/// The HTTP client.
pub struct Client {
    agent: ureq::Agent,
    key: ApiKey,
    options: ClientOptions,
    /// Scheme and authority (`https://api.vultr.com`), then the base path (`/v2`).
    origin: String,
    base_path: String,
    clock: Arc<dyn Clock>,
    started: Instant,
    next_slot: Option<Instant>,
    stats: Stats,
    rng: u64,
    observer: Option<Observer>,
    /// Answers being recorded (`fetch --record`).
    recorder: Option<Recorder>,
    /// A recording answering instead of the network (`fetch --replay`).
    replay: Option<Replay>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("key", &self.key)
            .field("options", &self.options)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

/// What one try came to.
enum Outcome {
    Done(u16, Vec<u8>),
    Retry {
        cause: HttpError,
        wait: Option<Duration>,
    },
    Fail(HttpError),
}

impl Client {
    /// A client on the real clock.
    pub fn new(key: ApiKey, options: ClientOptions) -> Result<Client, Error> {
        Client::with_clock(key, options, Arc::new(SystemClock))
    }

    /// A client on the given clock (tests pass a [`ManualClock`](crate::ManualClock)).
    pub fn with_clock(
        key: ApiKey,
        options: ClientOptions,
        clock: Arc<dyn Clock>,
    ) -> Result<Client, Error> {
        if !(options.rate_per_second >= MIN_RATE && options.rate_per_second <= MAX_RATE) {
            return Err(Error::Rate {
                rate: options.rate_per_second,
            });
        }
        if options.request_timeout.is_zero() {
            return Err(Error::ZeroRequestTimeout);
        }
        if options.total_timeout.is_some_and(|t| t.is_zero()) {
            return Err(Error::ZeroTotalTimeout);
        }
        if options.max_attempts == 0 {
            return Err(Error::NoAttempts);
        }
        // A key pasted into the URL must not come back in the error.
        let (origin, base_path, loopback) =
            parse_base_url(&options.base_url).map_err(|e| match e {
                Error::BaseUrl { url, problem } => Error::BaseUrl {
                    url: key.redact(&url),
                    problem,
                },
                other => other,
            })?;
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent(options.user_agent.as_str())
            .accept("application/json")
            // No compression is asked for: the body cap then bounds memory.
            .accept_encoding("identity")
            .timeout_global(Some(options.request_timeout))
            // A loopback server is never reached through a proxy.
            .proxy(if loopback {
                None
            } else {
                ureq::Proxy::try_from_env()
            })
            .build();
        let rng = options.jitter_seed.unwrap_or_else(|| {
            let t = clock
                .system_now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default();
            t.as_nanos() as u64 ^ u64::from(std::process::id()).rotate_left(32)
        });
        Ok(Client {
            agent: config.new_agent(),
            key,
            origin,
            base_path,
            started: clock.now(),
            clock,
            options,
            next_slot: None,
            stats: Stats::default(),
            rng: rng | 1,
            observer: None,
            recorder: None,
            replay: None,
        })
    }

    /// Records every answer that ends a request from now on; see [`crate::recording`].
    pub fn start_recording(&mut self, emails: Emails) {
        self.recorder = Some(Recorder::new(emails));
    }

    /// The recording made since [`Client::start_recording`], which stops it.
    pub fn take_recording(&mut self) -> Option<Recorder> {
        self.recorder.take()
    }

    /// Answers every request from `replay` instead of the network: nothing is sent, no wait is
    /// made for the rate limit, and a request the recording does not hold is an error.
    pub fn replay_from(&mut self, replay: Replay) {
        self.base_path = replay.base_path().to_string();
        self.replay = Some(replay);
    }

    /// The base path requests go under (`/v2`).
    pub fn base_path(&self) -> &str {
        &self.base_path
    }

    /// Calls `observer` after every request (for `-v` logs and progress).
    pub fn set_observer(&mut self, observer: impl FnMut(&RequestLog) + Send + 'static) {
        self.observer = Some(Box::new(observer));
    }

    /// What the client did so far.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// The options.
    pub fn options(&self) -> &ClientOptions {
        &self.options
    }

    /// The clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// The key (to redact server text).
    pub fn key(&self) -> &ApiKey {
        &self.key
    }

    /// `GET path` (relative to the base URL, such as `/users?per_page=100`), expecting JSON.
    pub fn get_json(&mut self, path: &str) -> Result<Value, Error> {
        let (_status, bytes) = self.send("GET", path)?;
        let body = parse_json_body(&bytes).map_err(|cause| {
            // A body that is not JSON at all (an HTML error page sent as JSON): say how it
            // starts, as for a wrong content type.
            let cause = match cause {
                HttpError::Json { path, message } if !starts_like_json(&bytes) => HttpError::Json {
                    path,
                    message: format!(
                        "{message}; the body starts with `{}`",
                        prefix(&bytes, &self.key)
                    ),
                },
                other => other,
            };
            Error::Http {
                request: self.describe("GET", path),
                cause: self.redact_cause(cause),
            }
        })?;
        Ok(body)
    }

    /// `DELETE path`; returns the (2xx) status.
    pub fn delete(&mut self, path: &str) -> Result<u16, Error> {
        self.send("DELETE", path).map(|(status, _)| status)
    }

    /// The request target of `path`: the base path prepended, such as `/v2/users`.
    fn target(&self, path: &str) -> String {
        format!("{}{path}", self.base_path)
    }

    /// `METHOD target` of a request to `path`, for messages, such as `GET /v2/users`. Should
    /// the key have been put in the base URL, it is redacted here too.
    pub fn describe(&self, method: &str, path: &str) -> String {
        self.key.redact(&format!("{method} {}", self.target(path)))
    }

    fn redact_cause(&self, cause: HttpError) -> HttpError {
        cause.redacted(&self.key)
    }

    /// Sends with retries; returns the 2xx status and body.
    fn send(&mut self, method: &'static str, path: &str) -> Result<(u16, Vec<u8>), Error> {
        let target = self.target(path);
        let request = self.describe(method, path);
        let fail = |client: &Client, cause: HttpError| Error::Http {
            request: request.clone(),
            cause: client.redact_cause(cause),
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            let remaining = self.remaining().ok_or_else(|| {
                fail(
                    self,
                    HttpError::Deadline {
                        total: self.options.total_timeout.unwrap_or_default(),
                    },
                )
            })?;
            if self.replay.is_none() {
                self.wait_for_slot(remaining)
                    .map_err(|cause| fail(self, cause))?;
            }
            let at = self.clock.now();
            self.stats.requests += 1;
            if attempt > 1 {
                self.stats.retries += 1;
            }
            let timeout = self.options.request_timeout.min(remaining);
            let (status, outcome) = self.try_once(method, &target, timeout, attempt);
            if let Some(observer) = &mut self.observer {
                observer(&RequestLog {
                    method,
                    target: self.key.redact(&target),
                    attempt,
                    status,
                    elapsed: self.clock.now().saturating_duration_since(at),
                    at,
                });
            }
            match outcome {
                Outcome::Done(status, body) => return Ok((status, body)),
                Outcome::Fail(cause) => return Err(fail(self, cause)),
                Outcome::Retry { cause, wait } => {
                    if attempt >= self.options.max_attempts {
                        return Err(fail(self, cause.exhausted(attempt)));
                    }
                    let wait = match wait {
                        Some(wait) if wait > self.options.retry_after_cap => {
                            return Err(fail(
                                self,
                                HttpError::RetryAfterTooLong {
                                    status: cause.retry_status(),
                                    wait,
                                    cap: self.options.retry_after_cap,
                                },
                            ));
                        }
                        Some(wait) => wait,
                        None => self.backoff(attempt),
                    };
                    if self.remaining().is_none_or(|left| wait >= left) {
                        return Err(fail(
                            self,
                            HttpError::Deadline {
                                total: self.options.total_timeout.unwrap_or_default(),
                            },
                        ));
                    }
                    self.clock.sleep(wait);
                }
            }
        }
    }

    /// Time left under the overall timeout; `None` when it is spent.
    fn remaining(&self) -> Option<Duration> {
        match self.options.total_timeout {
            None => Some(Duration::MAX),
            Some(total) => {
                let used = self.clock.now().saturating_duration_since(self.started);
                total.checked_sub(used).filter(|left| !left.is_zero())
            }
        }
    }

    /// Sleeps until the next request may go: requests are spaced `1.05 / rate` seconds apart.
    /// A wait that would use up the `remaining` time fails at once instead: the overall
    /// timeout bounds every wait.
    fn wait_for_slot(&mut self, remaining: Duration) -> Result<(), HttpError> {
        let interval = Duration::from_secs_f64(1.05 / self.options.rate_per_second);
        let now = self.clock.now();
        let slot = match self.next_slot {
            Some(slot) if slot > now => {
                let wait = slot - now;
                if wait >= remaining {
                    return Err(HttpError::RateWait {
                        wait,
                        total: self.options.total_timeout.unwrap_or_default(),
                    });
                }
                self.clock.sleep(wait);
                slot
            }
            _ => now,
        };
        self.next_slot = Some(slot + interval);
        Ok(())
    }

    /// Exponential backoff with equal jitter: half the step fixed, half random.
    fn backoff(&mut self, attempt: u32) -> Duration {
        let step = self
            .options
            .backoff_initial
            .saturating_mul(1 << (attempt - 1).min(20))
            .min(self.options.backoff_max);
        // xorshift64
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        let fraction = (self.rng >> 11) as f64 / (1u64 << 53) as f64;
        step / 2 + step.mul_f64(fraction / 2.0)
    }

    fn try_once(
        &mut self,
        method: &'static str,
        target: &str,
        timeout: Duration,
        attempt: u32,
    ) -> (Option<u16>, Outcome) {
        if let Some(replay) = &mut self.replay {
            return match replay.next(method, target) {
                Some((status, content_type, body)) => {
                    self.stats.bytes += body.len() as u64;
                    let outcome =
                        self.judge(method, status, content_type, None, None, Ok(body), attempt);
                    (Some(status), outcome)
                }
                None => (None, Outcome::Fail(HttpError::NotRecorded)),
            };
        }
        let url = format!("{}{target}", self.origin);
        let builder = match method {
            "DELETE" => self.agent.delete(&url),
            _ => self.agent.get(&url),
        };
        let result = builder
            .header("Authorization", self.key.bearer())
            .config()
            .timeout_global(Some(timeout))
            .build()
            .call();
        let response = match result {
            Ok(response) => response,
            Err(e) => return (None, classify(e, timeout)),
        };
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let content_type = header("content-type");
        let retry_after = header("retry-after");
        let location = header("location");
        let body = read_body(response.into_body(), self.options.max_body_bytes, timeout);
        if let Ok(body) = &body {
            self.stats.bytes += body.len() as u64;
            // Only answers that end a request are kept: a retried 429 or 5xx is not replayed.
            if let Some(recorder) = &mut self.recorder {
                if !matches!(status, 429 | 500..=599) {
                    recorder.push(method, target, status, content_type.clone(), body);
                }
            }
        }
        let outcome = self.judge(
            method,
            status,
            content_type,
            retry_after,
            location,
            body,
            attempt,
        );
        (Some(status), outcome)
    }

    /// What an answer comes to: done, retry (after how long), or fail.
    #[allow(clippy::too_many_arguments)]
    fn judge(
        &self,
        method: &str,
        status: u16,
        content_type: Option<String>,
        retry_after: Option<String>,
        location: Option<String>,
        body: Result<Vec<u8>, Outcome>,
        attempt: u32,
    ) -> Outcome {
        match status {
            200..=299 => match body {
                Err(outcome) => outcome,
                Ok(body) if method == "DELETE" => Outcome::Done(status, body),
                Ok(body) => match check_json_type(content_type.as_deref(), &body, &self.key) {
                    Ok(()) => Outcome::Done(status, body),
                    Err(cause) => Outcome::Fail(cause),
                },
            },
            429 => Outcome::Retry {
                cause: HttpError::RateLimited { attempts: attempt },
                wait: retry_after
                    .as_deref()
                    .and_then(|v| parse_retry_after(v, self.clock.system_now())),
            },
            // go-retryablehttp, which govultr uses, honours `Retry-After` on 503 as on 429.
            503 => Outcome::Retry {
                cause: HttpError::Server {
                    status,
                    attempts: attempt,
                },
                wait: retry_after
                    .as_deref()
                    .and_then(|v| parse_retry_after(v, self.clock.system_now())),
            },
            500 | 502 | 504 => Outcome::Retry {
                cause: HttpError::Server {
                    status,
                    attempts: attempt,
                },
                wait: None,
            },
            300..=399 => Outcome::Fail(HttpError::Redirect {
                status,
                location: location.unwrap_or_default(),
            }),
            _ => {
                let detail = body
                    .ok()
                    .map(|b| error_detail(&b, &self.key))
                    .unwrap_or_default();
                Outcome::Fail(match status {
                    401 => HttpError::Unauthorized {
                        key_source: self.key.source().to_string(),
                        detail,
                    },
                    403 => HttpError::Forbidden {
                        method: method.to_string(),
                        detail,
                    },
                    404 => HttpError::NotFound { detail },
                    _ => HttpError::Status { status, detail },
                })
            }
        }
    }
}

/// Splits and checks the base URL: `(origin, base path, is loopback)`.
fn parse_base_url(url: &str) -> Result<(String, String, bool), Error> {
    let bad = |problem: BaseUrlProblem| Error::BaseUrl {
        url: url.to_string(),
        problem,
    };
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| bad(BaseUrlProblem::NotUrl))?;
    let (authority, path) = match rest.find('/') {
        Some(at) => (&rest[..at], &rest[at..]),
        None => (rest, ""),
    };
    if authority.is_empty() {
        return Err(bad(BaseUrlProblem::NoHost));
    }
    if authority.contains('@') {
        return Err(bad(BaseUrlProblem::Credentials));
    }
    if path.contains(['?', '#']) {
        return Err(bad(BaseUrlProblem::QueryOrFragment));
    }
    let host = if let Some(bracketed) = authority.strip_prefix('[') {
        bracketed.split(']').next().unwrap_or_default()
    } else {
        authority.split(':').next().unwrap_or_default()
    };
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match scheme.to_ascii_lowercase().as_str() {
        "https" => {}
        "http" if loopback => {}
        "http" => return Err(bad(BaseUrlProblem::PlainHttp)),
        other => {
            return Err(bad(BaseUrlProblem::Scheme {
                scheme: other.to_string(),
            }))
        }
    }
    let origin = format!("{}://{authority}", scheme.to_ascii_lowercase());
    Ok((origin, path.trim_end_matches('/').to_string(), loopback))
}

fn classify(error: ureq::Error, timeout: Duration) -> Outcome {
    let transient = |message: String| Outcome::Retry {
        cause: HttpError::Transport {
            attempts: 0,
            message,
        },
        wait: None,
    };
    match error {
        ureq::Error::Timeout(_) | ureq::Error::BodyStalled => Outcome::Retry {
            cause: HttpError::Timeout {
                attempts: 0,
                timeout,
            },
            wait: None,
        },
        ureq::Error::Io(e) => {
            if let Some(tls) = e
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<rustls::Error>())
            {
                return Outcome::Fail(HttpError::Tls {
                    message: tls.to_string(),
                });
            }
            match e.kind() {
                std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => Outcome::Retry {
                    cause: HttpError::Timeout {
                        attempts: 0,
                        timeout,
                    },
                    wait: None,
                },
                _ => transient(e.to_string()),
            }
        }
        ureq::Error::Rustls(e) => Outcome::Fail(HttpError::Tls {
            message: e.to_string(),
        }),
        ureq::Error::Tls(message) => Outcome::Fail(HttpError::Tls {
            message: message.to_string(),
        }),
        ureq::Error::ConnectionFailed | ureq::Error::Protocol(_) => transient(error.to_string()),
        ureq::Error::HostNotFound => Outcome::Fail(HttpError::Connect {
            message: "host not found".to_string(),
        }),
        ureq::Error::BodyExceedsLimit(limit) => Outcome::Fail(HttpError::TooLarge {
            limit: limit as usize,
        }),
        other => Outcome::Fail(HttpError::Connect {
            message: other.to_string(),
        }),
    }
}

/// Reads at most `limit` bytes; one more is an error.
fn read_body(body: ureq::Body, limit: usize, timeout: Duration) -> Result<Vec<u8>, Outcome> {
    let mut out = Vec::new();
    let reader = body.into_reader();
    match reader.take(limit as u64 + 1).read_to_end(&mut out) {
        Ok(_) if out.len() > limit => Err(Outcome::Fail(HttpError::TooLarge { limit })),
        Ok(_) => Ok(out),
        Err(e) => Err(classify(ureq::Error::from(e), timeout)),
    }
}

fn check_json_type(content_type: Option<&str>, body: &[u8], key: &ApiKey) -> Result<(), HttpError> {
    let essence = content_type
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if essence == "application/json" || essence.ends_with("+json") {
        return Ok(());
    }
    Err(HttpError::ContentType {
        found: if essence.is_empty() {
            "(none)".to_string()
        } else {
            essence
        },
        prefix: prefix(body, key),
    })
}

/// The first 60 characters of a body, printable: for messages. The key is redacted from the
/// whole body before it is cut, so that no part of it can show.
fn prefix(body: &[u8], key: &ApiKey) -> String {
    let text = key.redact(&String::from_utf8_lossy(body));
    let mut out: String = text
        .chars()
        .take(60)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if text.chars().count() > 60 {
        out.push('…');
    }
    out
}

/// `: "Group not found"` from a 4xx JSON body `{"error": "Group not found"}`, else a prefix.
fn error_detail(body: &[u8], key: &ApiKey) -> String {
    if body.is_empty() {
        return String::new();
    }
    let message = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v.get("error")?.as_str().map(|m| key.redact(m)))
        .unwrap_or_else(|| prefix(body, key));
    let message: String = message
        .chars()
        .take(120)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    format!(" (server says: {message})")
}

/// `Retry-After` as seconds or as an HTTP date.
pub(crate) fn parse_retry_after(value: &str, now: std::time::SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or_default())
}

/// Whether a body begins as a JSON object or array would (after white space).
fn starts_like_json(body: &[u8]) -> bool {
    matches!(
        body.iter().find(|b| !b.is_ascii_whitespace()),
        Some(b'{' | b'[')
    )
}

/// Parses a body as exactly one JSON document, with the JSON path of any error.
pub(crate) fn parse_json_body(body: &[u8]) -> Result<Value, HttpError> {
    let text = std::str::from_utf8(body).map_err(|e| HttpError::Json {
        path: String::new(),
        message: format!("invalid UTF-8 at byte offset {}", e.valid_up_to()),
    })?;
    let mut de = serde_json::Deserializer::from_str(text);
    let value: Value = serde_path_to_error::deserialize(&mut de).map_err(|e| HttpError::Json {
        path: e.path().to_string(),
        message: e.into_inner().to_string(),
    })?;
    de.end().map_err(|e| HttpError::Json {
        path: String::new(),
        message: e.to_string(),
    })?;
    Ok(value)
}

/// Percent-encodes one path segment or query value: ids come from the server and must not
/// be able to change which endpoint is asked.
pub fn encode(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    // `.` and `..` alone would still walk the path.
    match out.as_str() {
        "." => "%2E".to_string(),
        ".." => "%2E%2E".to_string(),
        _ => out,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls() {
        let ok = [
            ("https://api.vultr.com/v2", "https://api.vultr.com", "/v2"),
            ("http://127.0.0.1:8080/v2/", "http://127.0.0.1:8080", "/v2"),
            ("http://localhost:1/v2", "http://localhost:1", "/v2"),
            ("http://[::1]:9/v2", "http://[::1]:9", "/v2"),
            ("http://127.8.9.10/v2", "http://127.8.9.10", "/v2"),
        ];
        for (url, origin, path) in ok {
            let (o, p, _) = parse_base_url(url).unwrap();
            assert_eq!((o.as_str(), p.as_str()), (origin, path), "{url}");
        }
        let bad = [
            ("http://api.vultr.com/v2", "loopback"),
            ("http://10.0.0.1/v2", "loopback"),
            ("http://127.0.0.1.example.com/v2", "loopback"),
            ("ftp://127.0.0.1/v2", "scheme"),
            ("https://user:pw@api.vultr.com/v2", "credentials"),
            ("api.vultr.com", "not a URL"),
            ("https:///v2", "no host"),
        ];
        for (url, fragment) in bad {
            let e = crate::chain(&parse_base_url(url).unwrap_err());
            assert!(e.contains(fragment), "{url}: {e}");
        }
    }

    #[test]
    fn encodes_segments() {
        assert_eq!(encode("g-1"), "g-1");
        assert_eq!(encode("../users"), "..%2Fusers");
        assert_eq!(encode(".."), "%2E%2E");
        assert_eq!(encode("a b?c#d"), "a%20b%3Fc%23d");
    }

    #[test]
    fn retry_after_forms() {
        let now = std::time::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
        assert_eq!(parse_retry_after("2", now), Some(Duration::from_secs(2)));
        let date = httpdate::fmt_http_date(now + Duration::from_secs(7));
        assert_eq!(parse_retry_after(&date, now), Some(Duration::from_secs(7)));
        let past = httpdate::fmt_http_date(now - Duration::from_secs(7));
        assert_eq!(parse_retry_after(&past, now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-1", now), None);
    }
}
