//! Record and replay: a crawl's responses saved to a directory as received, and a crawl that
//! reads them back with no network.
//!
//! A recording is a directory holding `recording.json` and one file per response body:
//!
//! ```json
//! {"format": "iamsim.vultr-recording.v1", "base_path": "/v2", "emails": "hashed",
//!  "exchanges": [{"method": "GET", "target": "/v2/users?per_page=100", "status": 200,
//!                 "content_type": "application/json", "body": "0001.json"}]}
//! ```
//!
//! Exchanges are the answers that ended a request (a 429 or 5xx that was retried is not kept),
//! in the order they came. Replay answers each request with the next recorded exchange of the
//! same method and target, through the same checks as a live answer; a request the recording
//! does not hold is an error naming it. The API key is never written: no header is recorded,
//! and a body that holds the key has it redacted, as is every assumed-role `session_token` (a
//! credential), whatever the email mode. Email addresses in bodies (`email`,
//! `email_invited`, `email_registered`, `inviter_email`) are replaced by a stable pseudonym
//! (`user-<16 hex digits>@email.invalid`, the same for the same address, ignoring case) unless
//! emails are kept. A pseudonym is not a secret: anyone who guesses an address can compute it.

use std::collections::{BTreeMap, VecDeque};
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::key::ApiKey;
use crate::{Error, ReplayProblem};

/// The format of `recording.json`.
pub(crate) const RECORDING_FORMAT: &str = "iamsim.vultr-recording.v1";

/// The keys whose string values are email addresses.
const EMAIL_KEYS: &[&str] = &[
    "email",
    "email_invited",
    "email_registered",
    "inviter_email",
];

/// How emails are recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Emails {
    /// Replaced by stable pseudonyms (the default).
    Hashed,
    /// Kept as received (`--record-emails`).
    Kept,
}

/// One recorded answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Exchange {
    /// `GET` or `DELETE`.
    pub method: String,
    /// The request target, base path and query included (`/v2/users?per_page=100`).
    pub target: String,
    /// The status.
    pub status: u16,
    /// The `Content-Type`, when there was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// The file (in the recording's directory) that holds the body.
    pub body: String,
}

/// `recording.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Index {
    format: String,
    base_path: String,
    emails: Emails,
    exchanges: Vec<Exchange>,
}

/// Responses being recorded, kept in memory until [`Recorder::write`].
#[derive(Debug, Clone)]
pub struct Recorder {
    emails: Emails,
    exchanges: Vec<(Exchange, Vec<u8>)>,
}

impl Recorder {
    /// An empty recording.
    pub fn new(emails: Emails) -> Recorder {
        Recorder {
            emails,
            exchanges: Vec::new(),
        }
    }

    /// Records one answer that ended a request.
    pub(crate) fn push(
        &mut self,
        method: &str,
        target: &str,
        status: u16,
        content_type: Option<String>,
        body: &[u8],
    ) {
        let name = format!("{:04}.json", self.exchanges.len() + 1);
        self.exchanges.push((
            Exchange {
                method: method.to_string(),
                target: target.to_string(),
                status,
                content_type,
                body: name,
            },
            body.to_vec(),
        ));
    }

    /// Answers recorded so far.
    pub fn len(&self) -> usize {
        self.exchanges.len()
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.exchanges.is_empty()
    }

    /// Writes the recording into `dir` (created if missing; files created readable by their
    /// owner only), with the key redacted and emails pseudonymised as asked.
    pub fn write(&self, dir: &Path, base_path: &str, key: &ApiKey) -> Result<(), Error> {
        let io = |what: &Path, source: std::io::Error| Error::Record {
            path: what.to_path_buf(),
            source,
        };
        create_private_dir(dir).map_err(|e| io(dir, e))?;
        for (exchange, body) in &self.exchanges {
            let body = scrub(body, self.emails, key);
            let path = dir.join(&exchange.body);
            crate::files::write_atomic(&path, &body).map_err(|e| io(&path, e))?;
        }
        let index = Index {
            format: RECORDING_FORMAT.to_string(),
            base_path: base_path.to_string(),
            emails: self.emails,
            exchanges: self
                .exchanges
                .iter()
                .map(|(e, _)| Exchange {
                    target: key.redact(&e.target),
                    ..e.clone()
                })
                .collect(),
        };
        let mut text = serde_json::to_string_pretty(&index).map_err(|source| Error::Serialize {
            what: "recording",
            source,
        })?;
        text.push('\n');
        let path = dir.join("recording.json");
        crate::files::write_atomic(&path, text.as_bytes()).map_err(|e| io(&path, e))
    }
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    match std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
    {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

/// The body as it is written: as received, unless it holds the key (redacted) or, with
/// hashed emails, an email address (the JSON re-serialized with pseudonyms).
fn scrub(body: &[u8], emails: Emails, key: &ApiKey) -> Vec<u8> {
    let mut bytes = body.to_vec();
    if let Ok(mut value) = serde_json::from_slice::<Value>(body) {
        let mut changed = redact_tokens(&mut value);
        if emails == Emails::Hashed {
            changed |= pseudonymise(&mut value);
        }
        if changed {
            bytes = serde_json::to_vec(&value).unwrap_or(bytes);
        }
    }
    match std::str::from_utf8(&bytes) {
        Ok(text) if key.appears_in(text) => key.redact(text).into_bytes(),
        _ => bytes,
    }
}

/// Replaces every assumed-role session token (a credential, `session_token`) by
/// `[redacted]`; whether any was.
fn redact_tokens(value: &mut Value) -> bool {
    match value {
        Value::Object(map) => {
            let mut changed = false;
            for (k, v) in map.iter_mut() {
                match v {
                    Value::String(s) if k == "session_token" => {
                        *s = "[redacted]".to_string();
                        changed = true;
                    }
                    other => changed |= redact_tokens(other),
                }
            }
            changed
        }
        Value::Array(items) => items.iter_mut().fold(false, |c, i| redact_tokens(i) | c),
        _ => false,
    }
}

/// Replaces every email address under [`EMAIL_KEYS`]; whether any was.
fn pseudonymise(value: &mut Value) -> bool {
    let mut changed = false;
    match value {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                match v {
                    Value::String(s) if EMAIL_KEYS.contains(&k.as_str()) && !s.is_empty() => {
                        *s = pseudonym(s);
                        changed = true;
                    }
                    other => changed |= pseudonymise(other),
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                changed |= pseudonymise(item);
            }
        }
        _ => {}
    }
    changed
}

/// A stable pseudonym of an email address (FNV-1a, 64 bits, of the lowercased address).
pub fn pseudonym(email: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in email.trim().to_lowercase().bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("user-{hash:016x}@email.invalid")
}

/// A recorded answer: status, content type, body.
pub(crate) type Answer = (u16, Option<String>, Vec<u8>);

/// A recording read back, answering requests in order.
#[derive(Debug, Clone)]
pub struct Replay {
    base_path: String,
    answers: BTreeMap<(String, String), VecDeque<Answer>>,
}

impl Replay {
    /// Reads the recording in `dir`. Each file is read under `limit` bytes.
    pub fn open(dir: &Path, limit: u64) -> Result<Replay, Error> {
        let fail = |what: &Path, problem: ReplayProblem| Error::Replay {
            path: what.to_path_buf(),
            problem,
        };
        let index_path = dir.join("recording.json");
        let text = crate::files::read_limited(&index_path, limit)
            .map_err(|e| fail(&index_path, ReplayProblem::Read(e)))?;
        let index: Index =
            serde_json::from_slice(&text).map_err(|e| fail(&index_path, ReplayProblem::Json(e)))?;
        if index.format != RECORDING_FORMAT {
            return Err(fail(
                &index_path,
                ReplayProblem::Format {
                    found: index.format,
                    expected: RECORDING_FORMAT,
                },
            ));
        }
        let mut answers: BTreeMap<_, VecDeque<_>> = BTreeMap::new();
        for exchange in index.exchanges {
            // A body file is a plain name in the directory, never a path out of it.
            if exchange.body.contains(['/', '\\']) || exchange.body.starts_with('.') {
                return Err(fail(
                    &index_path,
                    ReplayProblem::BodyName {
                        name: exchange.body,
                    },
                ));
            }
            let path = dir.join(&exchange.body);
            let body = crate::files::read_limited(&path, limit)
                .map_err(|e| fail(&path, ReplayProblem::Read(e)))?;
            answers
                .entry((exchange.method, exchange.target))
                .or_default()
                .push_back((exchange.status, exchange.content_type, body));
        }
        Ok(Replay {
            base_path: index.base_path,
            answers,
        })
    }

    /// The base path the recording was made under (`/v2`).
    pub fn base_path(&self) -> &str {
        &self.base_path
    }

    /// The next recorded answer to `method target`.
    pub(crate) fn next(&mut self, method: &str, target: &str) -> Option<Answer> {
        self.answers
            .get_mut(&(method.to_string(), target.to_string()))?
            .pop_front()
    }
}
