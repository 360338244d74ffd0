//! The API key, held so that it cannot be printed by accident.

use std::fmt;
use std::path::{Path, PathBuf};

use secrecy::{ExposeSecret, SecretString};

use crate::Error;

/// The environment variable the key is read from by default.
pub const API_KEY_VAR: &str = "VULTR_API_KEY";

/// Keys at least this long are looked for anywhere in text; shorter ones only as whole tokens.
/// Vultr's keys are 36 characters.
pub(crate) const SUBSTRING_MATCH_LEN: usize = 16;

/// Where a key came from, so that a refused key can be named without showing it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// An environment variable, by name.
    Env(String),
    /// A file, by path.
    File(PathBuf),
    /// Given by a program (tests, embedding code).
    Given,
}

impl fmt::Display for KeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeySource::Env(var) => write!(f, "{var}"),
            KeySource::File(path) => write!(f, "the key file `{}`", path.display()),
            KeySource::Given => f.write_str("the API key given"),
        }
    }
}

/// A Vultr API key.
///
/// `Debug` shows `[REDACTED]`; there is no `Display`. The value leaves this type only as the
/// `Authorization` header of a request, and to redact server text that might echo it.
///
/// ```
/// use iamsim_vultr::ApiKey;
///
/// let key = ApiKey::new("SENTINEL-123").unwrap();
/// assert!(!format!("{key:?}").contains("SENTINEL"));
/// ```
#[derive(Clone)]
pub struct ApiKey {
    secret: SecretString,
    source: KeySource,
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKey")
            .field("secret", &"[REDACTED]")
            .field("source", &self.source)
            .finish()
    }
}

impl ApiKey {
    /// A key given by a program.
    pub fn new(value: &str) -> Result<ApiKey, Error> {
        ApiKey::checked(value.to_string(), KeySource::Given)
    }

    /// The key in environment variable `var`.
    ///
    /// `Ok(None)` when the variable is unset or empty.
    pub fn from_env(var: &str) -> Result<Option<ApiKey>, Error> {
        match std::env::var(var) {
            Ok(value) if value.trim().is_empty() => Ok(None),
            Ok(value) => ApiKey::checked(value, KeySource::Env(var.to_string())).map(Some),
            Err(std::env::VarError::NotPresent) => Ok(None),
            Err(std::env::VarError::NotUnicode(_)) => Err(Error::KeyNotUnicode {
                var: var.to_string(),
            }),
        }
    }

    /// The key in the file at `path`: its first line, without surrounding whitespace.
    ///
    /// At most `limit` bytes are read ([`crate::files::read_limited`]; `-` is standard input).
    /// Returns the key and, on Unix, a warning when other users may read the file.
    pub fn from_file(path: &Path, limit: u64) -> Result<(ApiKey, Option<String>), Error> {
        // The reader's errors never quote the content: only sizes, offsets and byte values.
        let bytes = crate::files::read_limited(path, limit).map_err(|source| Error::KeyFile {
            path: path.to_path_buf(),
            source,
        })?;
        // The content is secret: errors about it never quote it.
        let text = String::from_utf8(bytes).map_err(|_| Error::KeyFileNotUnicode {
            path: path.to_path_buf(),
        })?;
        let first = text.lines().next().unwrap_or_default().to_string();
        let key = ApiKey::checked(first, KeySource::File(path.to_path_buf()))?;
        Ok((key, loose_permissions(path)))
    }

    fn checked(value: String, source: KeySource) -> Result<ApiKey, Error> {
        let trimmed = value.trim();
        if trimmed.is_empty() {
            return Err(Error::EmptyKey { origin: source });
        }
        // Anything else could not travel in an HTTP header, or could split it.
        if !trimmed.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(Error::KeyNotPrintable { origin: source });
        }
        Ok(ApiKey {
            secret: SecretString::from(trimmed.to_string()),
            source,
        })
    }

    /// Where the key came from.
    pub fn source(&self) -> &KeySource {
        &self.source
    }

    /// The `Authorization` header value. Crate-private: only the client sends it.
    pub(crate) fn bearer(&self) -> String {
        format!("Bearer {}", self.secret.expose_secret())
    }

    /// `text` with every occurrence of the key replaced by `[REDACTED]`, for server text that is
    /// shown to people (error bodies, body prefixes): a server that echoes the request must not
    /// make iamsim print the key.
    ///
    /// A key of at least 16 characters is matched anywhere. A shorter one
    /// (a test key such as `k`) only as a whole token, not inside a longer word: otherwise
    /// every `k` of every message would be taken for the key.
    pub fn redact(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = 0;
        for (start, end) in self.occurrences(text) {
            out.push_str(&text[rest..start]);
            out.push_str("[REDACTED]");
            rest = end;
        }
        out.push_str(&text[rest..]);
        out
    }

    /// Whether `text` holds the key, as [`ApiKey::redact`] matches it.
    pub fn appears_in(&self, text: &str) -> bool {
        !self.occurrences(text).is_empty()
    }

    fn occurrences(&self, text: &str) -> Vec<(usize, usize)> {
        let secret = self.secret.expose_secret();
        let whole_token = secret.len() < SUBSTRING_MATCH_LEN;
        let is_word = |c: Option<char>| {
            c.is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@'))
        };
        let mut found = Vec::new();
        let mut from = 0;
        while let Some(at) = text[from..].find(secret) {
            let start = from + at;
            let end = start + secret.len();
            let bounded =
                !is_word(text[..start].chars().next_back()) && !is_word(text[end..].chars().next());
            if !whole_token || bounded {
                found.push((start, end));
                from = end;
            } else {
                from = start + secret.chars().next().map_or(1, char::len_utf8);
            }
        }
        found
    }
}

#[cfg(unix)]
fn loose_permissions(path: &Path) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).ok()?.permissions().mode();
    (mode & 0o077 != 0).then(|| {
        format!(
            "key file `{}` can be read by other users (mode {:o}); `chmod 600` it",
            path.display(),
            mode & 0o777
        )
    })
}

#[cfg(not(unix))]
fn loose_permissions(_path: &Path) -> Option<String> {
    None
}

#[cfg(test)]
mod tests {
    use super::ApiKey;

    #[test]
    fn short_keys_match_whole_tokens_only() {
        let k = ApiKey::new("k").unwrap();
        assert_eq!(
            k.redact("kind: key k, `k` and k-9"),
            "kind: key [REDACTED], `[REDACTED]` and k-9"
        );
        assert!(!k.appears_in(r#"{"kind": "keep", "name": "kk"}"#));
        assert!(k.appears_in(r#"{"name": "k"}"#));
        let long = ApiKey::new("ABCDEFGHIJKLMNOPQRST").unwrap();
        assert_eq!(long.redact("xABCDEFGHIJKLMNOPQRSTy"), "x[REDACTED]y");
    }
}
