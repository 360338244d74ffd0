//! Errors. Messages follow the project's rule: lowercase, no trailing period, values in
//! backticks, context first and chained with colons; advice is a separate hint. None holds the
//! API key.

use std::path::PathBuf;
use std::time::Duration;

use crate::client::{MAX_RATE, MIN_RATE};
use crate::crawl::Event;
use crate::key::{ApiKey, KeySource};

/// Why the adapter stopped.
///
/// One variant per failure, with its fields. The message ([`Display`](std::fmt::Display)) says
/// what went wrong and leaves the cause to [`source`](std::error::Error::source): print the
/// chain (as the CLI does, joined with `: `) for the whole story. Advice on what to do next is
/// separate, in [`Error::hint`]. No message, field or hint holds the API key: text from the
/// server is redacted before it is stored.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The requests per second are out of range.
    #[error("rate must be at least {MIN_RATE} and at most {MAX_RATE} requests per second (Vultr allows 30), not {rate}")]
    Rate {
        /// The rate asked for.
        rate: f64,
    },
    /// A per-request timeout of zero.
    #[error("the request timeout must be more than 0")]
    ZeroRequestTimeout,
    /// An overall timeout of zero.
    #[error("the overall timeout must be more than 0")]
    ZeroTotalTimeout,
    /// No try allowed per request.
    #[error("max attempts must be at least 1")]
    NoAttempts,
    /// The base URL is not one the client may use.
    #[error("base URL `{url}`")]
    BaseUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        #[source]
        problem: BaseUrlProblem,
    },
    /// The page size is out of range.
    #[error("per page must be between 1 and {max}, not {per_page}")]
    PerPage {
        /// The page size asked for.
        per_page: u32,
        /// The largest page size.
        max: u32,
    },
    /// No key in the environment, and no key file.
    #[error("no API key")]
    NoKey {
        /// The variable looked at.
        var: String,
    },
    /// The key's environment variable is not UTF-8.
    #[error("{var} is not valid UTF-8; an API key is plain text")]
    KeyNotUnicode {
        /// The variable.
        var: String,
    },
    /// The key file cannot be read.
    #[error("key file `{}`", path.display())]
    KeyFile {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The key file is not UTF-8.
    #[error("key file `{}`: not valid UTF-8; an API key is plain text", path.display())]
    KeyFileNotUnicode {
        /// The file.
        path: PathBuf,
    },
    /// The key is empty.
    #[error("{origin}: the API key is empty")]
    EmptyKey {
        /// Where it came from.
        origin: KeySource,
    },
    /// The key holds characters that cannot travel in an HTTP header.
    #[error("{origin}: the API key holds characters other than printable ASCII")]
    KeyNotPrintable {
        /// Where it came from.
        origin: KeySource,
    },
    /// A request failed.
    #[error("{request}")]
    Http {
        /// Method and target, such as `GET /v2/users?per_page=100`.
        request: String,
        /// What went wrong.
        #[source]
        cause: HttpError,
    },
    /// A paged listing misbehaved.
    #[error("{endpoint}")]
    Pagination {
        /// Method and path, such as `GET /v2/users`.
        endpoint: String,
        /// What went wrong.
        #[source]
        problem: PageProblem,
    },
    /// A response has the wrong shape.
    #[error("{request}: unexpected response: {path}: {problem}")]
    Shape {
        /// Method and target, such as `GET /v2/users?per_page=100`.
        request: String,
        /// JSON path of the offending value, such as `users[3].id`.
        path: String,
        /// What is wrong with it.
        problem: ShapeProblem,
    },
    /// The key sees no organization.
    #[error("the API key sees no organization")]
    NoOrganization,
    /// The key sees several organizations and none was chosen.
    #[error("the API key sees {} organizations ({})", organizations.len(), listing(organizations))]
    SeveralOrganizations {
        /// The organizations it sees.
        organizations: Vec<ListedOrganization>,
    },
    /// The organization asked for is not among those the key sees.
    #[error("organization `{wanted}`: the API key sees no such organization; it sees {}", if organizations.is_empty() { "none".to_string() } else { listing(organizations) })]
    NoSuchOrganization {
        /// The id or name asked for.
        wanted: String,
        /// The organizations the key sees.
        organizations: Vec<ListedOrganization>,
    },
    /// Several organizations have the name asked for.
    #[error(
        "organization `{wanted}`: several organizations match ({})",
        listing(matching)
    )]
    AmbiguousOrganization {
        /// The name asked for.
        wanted: String,
        /// The organizations of that name.
        matching: Vec<ListedOrganization>,
    },
    /// The API answers for another organization than the one chosen.
    #[error("organization `{chosen}` was chosen, but the API answers for organization {} (`org_id` of `GET /invitation`): Vultr picks the organization by the API key, not by request", answering.iter().map(|o| format!("`{o}`")).collect::<Vec<_>>().join(", "))]
    OtherOrganization {
        /// The organization chosen.
        chosen: String,
        /// The organizations the answers are for (redacted).
        answering: Vec<String>,
    },
    /// `root_user` names nobody.
    #[error("root user `{query}`: no user of the organization has that id or email")]
    NoRootUser {
        /// The id or email given.
        query: String,
    },
    /// Consistency events under `strict`.
    #[error("{count} consistency event(s) and strict is set; first: {first}")]
    Strict {
        /// How many events.
        count: usize,
        /// The first one.
        first: Box<Event>,
    },
    /// The server's data holds the API key.
    #[error(
        "the organization data sent by the server contains the API key itself; refusing to keep it"
    )]
    KeyInData,
    /// The crawl's record could not be turned into JSON.
    #[error("{what}")]
    Serialize {
        /// What was being written (`crawl info`, `snapshot`, `recording`).
        what: &'static str,
        /// Why.
        source: serde_json::Error,
    },
    /// A snapshot of the change's prediction or its re-crawl does not compile.
    #[error("the {which} organization")]
    Compile {
        /// `predicted` or `re-crawled`.
        which: &'static str,
        /// Why.
        source: iamsim_core::BuildError,
    },
    /// The user of the change is not in the predicted organization.
    #[error("the predicted organization")]
    PredictedUser {
        /// Why.
        source: iamsim_core::LookupError,
    },
    /// A recording could not be written.
    #[error("recording: {}", path.display())]
    Record {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A recording could not be read.
    #[error("replay: {}", path.display())]
    Replay {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        #[source]
        problem: ReplayProblem,
    },
}

/// An organization the key sees, as an error lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedOrganization {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
}

fn listing(organizations: &[ListedOrganization]) -> String {
    organizations
        .iter()
        .map(|o| format!("`{}` ({})", o.id, o.name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What is wrong with a base URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BaseUrlProblem {
    /// No `scheme://`.
    #[error("not a URL; expected `https://HOST/v2`")]
    NotUrl,
    /// Nothing after `scheme://`.
    #[error("no host")]
    NoHost,
    /// `user:password@` in the URL.
    #[error("credentials in the URL are not accepted; the key comes from VULTR_API_KEY")]
    Credentials,
    /// `?` or `#` in the URL.
    #[error("a query or fragment is not accepted")]
    QueryOrFragment,
    /// A scheme other than `https` (or `http` to loopback).
    #[error("unsupported scheme `{scheme}`")]
    Scheme {
        /// The scheme.
        scheme: String,
    },
    /// Plain `http` to a host that is not loopback.
    #[error(
        "plain http is allowed only to a loopback address (127.0.0.1, ::1, localhost); use https"
    )]
    PlainHttp,
}

/// How a paged listing misbehaved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PageProblem {
    /// A second empty page that names a next cursor.
    #[error("page {page} is the second empty page that still names a next cursor")]
    SecondEmptyPage {
        /// The page's number, from 1.
        page: usize,
    },
    /// A page of ids already seen that names another cursor.
    #[error("page {page} holds only ids already seen and names yet another cursor; the listing would not end")]
    NothingNew {
        /// The page's number, from 1.
        page: usize,
    },
    /// A cursor came back.
    #[error("pagination loop: cursor `{cursor}` came back on page {page}")]
    Loop {
        /// The cursor (redacted, at most 40 characters).
        cursor: String,
        /// The page's number, from 1.
        page: usize,
    },
    /// Far more pages than the stated total needs.
    #[error("{pages} pages read and the listing has not ended")]
    TooManyPages {
        /// Pages read.
        pages: usize,
    },
    /// More distinct items than the listing's ceiling.
    #[error("{items} distinct items read, more than the limit of {cap} for this listing ({}); the listing would not end", match total { Some(total) if total <= ceiling => format!("`meta.total` says {total}"), Some(total) => format!("`meta.total` of {total} is past the ceiling of {ceiling}"), None => format!("no `meta.total`; the ceiling is {ceiling}") })]
    TooManyItems {
        /// Distinct items read.
        items: u64,
        /// The limit for this listing.
        cap: u64,
        /// The largest `meta.total` seen.
        total: Option<u64>,
        /// The ceiling of this kind of listing.
        ceiling: u64,
    },
    /// More items in the whole crawl than its limit.
    #[error("the crawl has read {items} items, more than its limit of {limit}")]
    CrawlItems {
        /// Items read.
        items: u64,
        /// The limit.
        limit: u64,
    },
    /// More bytes in the whole crawl than its limit.
    #[error("the crawl has received {bytes} bytes, more than its limit of {}", crate::files::format_size(*limit))]
    CrawlBytes {
        /// Bytes received.
        bytes: u64,
        /// The limit.
        limit: u64,
    },
    /// A member listing that would not end.
    #[error("the member listing does not end")]
    MembersNotEnding,
}

/// What is wrong with a value of a response ([`Error::Shape`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ShapeProblem {
    /// The value is not there.
    #[error("missing")]
    Missing,
    /// A value of another JSON type than the one expected.
    #[error("expected {expected}, found {found}")]
    WrongType {
        /// What belongs there, such as `an array` or `a string id`.
        expected: &'static str,
        /// What came instead.
        found: JsonKind,
    },
    /// An id that is the empty string.
    #[error("empty id")]
    EmptyId,
    /// A `meta.total` that is a number but not a whole count.
    #[error("expected a count")]
    NotACount,
    /// A policy with no document, neither in the list nor read alone.
    #[error("missing: the policy has no document")]
    NoDocument,
    /// A policy document sent as a string that does not hold JSON.
    #[error("a string that is not a JSON document: {source}")]
    DocumentNotJson {
        /// Why it does not parse.
        source: serde_json::Error,
    },
    /// A value that does not read as the documented type (a field of the wrong type, a
    /// missing field inside an item).
    #[error("{source}")]
    Invalid {
        /// serde's account of it.
        source: serde_json::Error,
    },
}

/// The type of a JSON value, as a message names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum JsonKind {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool,
    /// A number.
    Number,
    /// A string.
    String,
    /// An array.
    Array,
    /// An object.
    Object,
}

impl JsonKind {
    /// The type of `value`.
    pub fn of(value: &serde_json::Value) -> JsonKind {
        use serde_json::Value;
        match value {
            Value::Null => JsonKind::Null,
            Value::Bool(_) => JsonKind::Bool,
            Value::Number(_) => JsonKind::Number,
            Value::String(_) => JsonKind::String,
            Value::Array(_) => JsonKind::Array,
            Value::Object(_) => JsonKind::Object,
        }
    }
}

impl std::fmt::Display for JsonKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            JsonKind::Null => "null",
            JsonKind::Bool => "a boolean",
            JsonKind::Number => "a number",
            JsonKind::String => "a string",
            JsonKind::Array => "an array",
            JsonKind::Object => "an object",
        })
    }
}

/// What is wrong with a recording.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReplayProblem {
    /// A file cannot be read.
    #[error("{0}")]
    Read(#[source] std::io::Error),
    /// The index is not a recording's.
    #[error("{0}")]
    Json(#[source] serde_json::Error),
    /// Another format.
    #[error("format `{found}`, expected `{expected}`")]
    Format {
        /// The format found.
        found: String,
        /// The format this version reads.
        expected: &'static str,
    },
    /// A body file is not a plain name in the directory.
    #[error("body file `{name}` is not a plain file name")]
    BodyName {
        /// The name.
        name: String,
    },
}

impl Error {
    /// The HTTP cause, if this is a failed request.
    pub fn http_cause(&self) -> Option<&HttpError> {
        match self {
            Error::Http { cause, .. } => Some(cause),
            _ => None,
        }
    }

    /// What to do about it, when there is something to say: one line, printed after the
    /// error. Never holds the key.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            Error::NoKey { var } => format!("set {var} or pass --api-key-file FILE"),
            Error::Http { cause, .. } => return cause.hint(),
            Error::NoOrganization => "check that IAM is enabled for the account".to_string(),
            Error::SeveralOrganizations { .. } => "choose one with --organization".to_string(),
            Error::AmbiguousOrganization { .. } => "give the id".to_string(),
            Error::OtherOrganization { chosen, .. } => {
                format!("use a key whose organization is `{chosen}`")
            }
            Error::Strict { .. } => {
                "crawl again (--recrawl N) or without --strict; the events are listed in docs/vultr.md".to_string()
            }
            _ => return None,
        })
    }
}

/// The message of `error` followed by each of its causes, joined with `: `. A cause whose text
/// the message before it already ends with (an error that repeats its source) is not repeated.
pub fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut next = error.source();
    while let Some(cause) = next {
        let more = cause.to_string();
        if !more.is_empty() && !text.ends_with(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        next = cause.source();
    }
    text
}

fn forbidden_statement(method: &str) -> &'static str {
    if method.eq_ignore_ascii_case("GET") {
        "the key's user may not read this"
    } else {
        "the key's user may not make this change"
    }
}

/// Why a request failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HttpError {
    /// 401.
    #[error("401 unauthorized: the API key from {key_source} was refused{detail}")]
    Unauthorized {
        /// Where the key came from (`VULTR_API_KEY`, a file).
        key_source: String,
        /// The server's own words, if any.
        detail: String,
    },
    /// A 403. The advice depends on the method: a read needs the `iam.*` read actions, and a
    /// change needs the action that makes it.
    #[error("403 forbidden: {}{detail}", forbidden_statement(method))]
    Forbidden {
        /// The request's method (`GET`, `DELETE`).
        method: String,
        /// The server's own words, if any.
        detail: String,
    },
    /// 404.
    #[error("404 not found: endpoint not found{detail}")]
    NotFound {
        /// The server's own words, if any.
        detail: String,
    },
    /// Another 4xx, or an unexpected status.
    #[error("unexpected status {status}{detail}")]
    Status {
        /// The status.
        status: u16,
        /// The server's own words, if any.
        detail: String,
    },
    /// 429 on every try.
    #[error("rate limited (429) on all {attempts} attempt(s)")]
    RateLimited {
        /// Tries made.
        attempts: u32,
    },
    /// 429 or 503 asking for a wait longer than the cap.
    #[error("{}: the server asks to wait {} s, over the cap of {} s; not waiting", if *status == 429 { "rate limited (429)".to_string() } else { format!("server error {status}") }, wait.as_secs(), cap.as_secs())]
    RetryAfterTooLong {
        /// The status that asked (429 or 503).
        status: u16,
        /// What the server asked.
        wait: Duration,
        /// The cap.
        cap: Duration,
    },
    /// 5xx on every try.
    #[error("server error {status} on all {attempts} attempt(s)")]
    Server {
        /// The last status.
        status: u16,
        /// Tries made.
        attempts: u32,
    },
    /// No complete response in time, on every try.
    #[error("timed out: no complete response within {} ms, on all {attempts} attempt(s)", timeout.as_millis())]
    Timeout {
        /// Tries made.
        attempts: u32,
        /// The per-request timeout.
        timeout: Duration,
    },
    /// Replaying a recording that holds no (more) answer to this request.
    #[error("the recording holds no answer to this request (it was recorded with other options, or from another organization)")]
    NotRecorded,
    /// A broken connection or truncated body, on every try.
    #[error("connection failed on all {attempts} attempt(s): {message}")]
    Transport {
        /// Tries made.
        attempts: u32,
        /// The last failure.
        message: String,
    },
    /// The host cannot be reached (not retried).
    #[error("cannot connect: {message}")]
    Connect {
        /// Why.
        message: String,
    },
    /// TLS failed; there is no insecure fallback.
    #[error("TLS error: {message}; iamsim never falls back to an unverified connection")]
    Tls {
        /// rustls's words.
        message: String,
    },
    /// A 3xx; redirects are never followed.
    #[error("redirected ({status}) to `{location}`; redirects are not followed")]
    Redirect {
        /// The status.
        status: u16,
        /// Where to.
        location: String,
    },
    /// A 2xx that is not JSON.
    #[error("unexpected content type `{found}`, expected JSON; the body starts with `{prefix}`")]
    ContentType {
        /// The content type.
        found: String,
        /// The start of the body, printable.
        prefix: String,
    },
    /// The body is over the cap.
    #[error("response body over the limit of {limit} bytes")]
    TooLarge {
        /// The cap.
        limit: usize,
    },
    /// The body is not one well-formed JSON document.
    #[error("invalid JSON{}: {message}", if path.is_empty() || path == "." { String::new() } else { format!(" at `{path}`") })]
    Json {
        /// Where.
        path: String,
        /// What.
        message: String,
    },
    /// Waiting for the next request slot of the rate limit would pass the overall timeout.
    #[error("waiting {:.1} s for the rate limit would pass the overall timeout of {} s", wait.as_secs_f64(), total.as_secs())]
    RateWait {
        /// The wait the rate limit needs.
        wait: Duration,
        /// The overall timeout.
        total: Duration,
    },
    /// The overall timeout is spent.
    #[error("overall timeout of {} s reached", total.as_secs())]
    Deadline {
        /// The overall timeout.
        total: Duration,
    },
}

impl HttpError {
    /// What to do about it, when there is something to say: one line, printed after the
    /// error.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            HttpError::Unauthorized { .. } => "check that the key is current, that API access is enabled for its user, and that its IP allowlist includes this machine".to_string(),
            HttpError::Forbidden { method, .. } if method.eq_ignore_ascii_case("GET") => {
                "check that the key's IAM policies allow the `iam.*` read actions".to_string()
            }
            HttpError::Forbidden { .. } => "check that the key's IAM policies allow the IAM write action this change needs (reading is not enough)".to_string(),
            HttpError::NotFound { .. } => {
                "check the base URL and the API version (`/v2`)".to_string()
            }
            HttpError::RateLimited { .. } => "lower --rate or try again later".to_string(),
            HttpError::Redirect { .. } => "check the base URL".to_string(),
            _ => return None,
        })
    }

    /// The same failure, naming the number of tries made.
    /// The HTTP status behind a retryable cause: 429, the 5xx, or 0 for transport faults.
    pub(crate) fn retry_status(&self) -> u16 {
        match self {
            HttpError::RateLimited { .. } => 429,
            HttpError::Server { status, .. } => *status,
            _ => 0,
        }
    }

    pub(crate) fn exhausted(self, tries: u32) -> HttpError {
        match self {
            HttpError::RateLimited { .. } => HttpError::RateLimited { attempts: tries },
            HttpError::Server { status, .. } => HttpError::Server {
                status,
                attempts: tries,
            },
            HttpError::Timeout { timeout, .. } => HttpError::Timeout {
                attempts: tries,
                timeout,
            },
            HttpError::Transport { message, .. } => HttpError::Transport {
                attempts: tries,
                message,
            },
            other => other,
        }
    }

    /// The same failure with any occurrence of the key in server-provided text replaced.
    pub(crate) fn redacted(self, key: &ApiKey) -> HttpError {
        match self {
            HttpError::Unauthorized { key_source, detail } => HttpError::Unauthorized {
                key_source,
                detail: key.redact(&detail),
            },
            HttpError::Forbidden { method, detail } => HttpError::Forbidden {
                method,
                detail: key.redact(&detail),
            },
            HttpError::NotFound { detail } => HttpError::NotFound {
                detail: key.redact(&detail),
            },
            HttpError::Status { status, detail } => HttpError::Status {
                status,
                detail: key.redact(&detail),
            },
            HttpError::Transport { attempts, message } => HttpError::Transport {
                attempts,
                message: key.redact(&message),
            },
            HttpError::Connect { message } => HttpError::Connect {
                message: key.redact(&message),
            },
            HttpError::Tls { message } => HttpError::Tls {
                message: key.redact(&message),
            },
            HttpError::Redirect { status, location } => HttpError::Redirect {
                status,
                location: key.redact(&location),
            },
            HttpError::ContentType { found, prefix } => HttpError::ContentType {
                found: key.redact(&found),
                prefix: key.redact(&prefix),
            },
            HttpError::Json { path, message } => HttpError::Json {
                path: key.redact(&path),
                message: key.redact(&message),
            },
            other => other,
        }
    }
}
