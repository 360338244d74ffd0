//! Errors. Messages follow the project's rule: lowercase, no trailing period, values in
//! backticks, context first and chained with colons. None holds the API key.

use std::time::Duration;

use crate::key::ApiKey;

/// Why the adapter stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A bad option: base URL, rate, page size.
    #[error("{0}")]
    Config(String),
    /// The API key is missing, empty or unreadable.
    #[error("{0}")]
    Key(String),
    /// A request failed.
    #[error("{request}: {cause}")]
    Http {
        /// Method and target, such as `GET /v2/users?per_page=100`.
        request: String,
        /// What went wrong.
        cause: HttpError,
    },
    /// A paged listing misbehaved.
    #[error("{endpoint}: {reason}")]
    Pagination {
        /// Method and path, such as `GET /v2/users`.
        endpoint: String,
        /// What went wrong.
        reason: String,
    },
    /// The crawl cannot give a trustworthy snapshot: no organization to crawl, or consistency
    /// events under `strict`.
    #[error("{0}")]
    Crawl(String),
    /// A response has the wrong shape.
    #[error("{request}: unexpected response: {path}: {message}")]
    Shape {
        /// Method and target.
        request: String,
        /// JSON path of the offending value.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// Applying a change failed, or its result is not what was asked.
    #[error("{0}")]
    Apply(String),
    /// A file could not be written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
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
}

fn forbidden_advice(method: &str) -> &'static str {
    if method.eq_ignore_ascii_case("GET") {
        "the key's user may not read this; check that its IAM policies allow the `iam.*` read actions"
    } else {
        "the key's user may not make this change; check that its IAM policies allow the IAM write action it needs (reading is not enough)"
    }
}

/// Why a request failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HttpError {
    /// 401.
    #[error("401 unauthorized: the API key from {key_source} was refused; check that it is current, that API access is enabled for its user, and that its IP allowlist includes this machine{detail}")]
    Unauthorized {
        /// Where the key came from (`VULTR_API_KEY`, a file).
        key_source: String,
        /// The server's own words, if any.
        detail: String,
    },
    /// A 403. The advice depends on the method: a read needs the `iam.*` read actions, and a
    /// change needs the action that makes it.
    #[error("403 forbidden: {}{detail}", forbidden_advice(method))]
    Forbidden {
        /// The request's method (`GET`, `DELETE`).
        method: String,
        /// The server's own words, if any.
        detail: String,
    },
    /// 404.
    #[error(
        "404 not found: endpoint not found; check the base URL and the API version (`/v2`){detail}"
    )]
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
    #[error("rate limited (429) on all {attempts} attempt(s); lower --rate or try again later")]
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
    #[error(
        "redirected ({status}) to `{location}`; redirects are not followed, check the base URL"
    )]
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
