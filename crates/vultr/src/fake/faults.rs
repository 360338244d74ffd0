//! Scriptable faults: what the fake does instead of (or on top of) answering normally.

use serde::{Deserialize, Serialize};

/// One scripted fault: a request matcher, how many matching requests to let through first,
/// how many to affect, and what to do.
///
/// In JSON (for `iamsim vultr serve-fake --faults FILE`, an array of these):
///
/// ```json
/// {"path": "/users", "times": 1, "action": {"kind": "status", "status": 429, "retry_after": "2"}}
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    /// `GET`, `DELETE`, ...; any method when absent.
    #[serde(default)]
    pub method: Option<String>,
    /// The path after `/v2`, without the query: exact (`/users`), or a prefix ending in `*`
    /// (`/groups/*`, `*`).
    pub path: String,
    /// Matching requests to answer normally before the fault starts.
    #[serde(default)]
    pub skip: usize,
    /// Matching requests the fault affects; every one after `skip` when absent.
    #[serde(default)]
    pub times: Option<usize>,
    /// What to do.
    pub action: FaultAction,
}

impl Fault {
    /// A fault on every request matching `path` (any method), from the first.
    pub fn on(path: &str, action: FaultAction) -> Fault {
        Fault {
            method: None,
            path: path.to_string(),
            skip: 0,
            times: None,
            action,
        }
    }

    /// Only for this method.
    pub fn method(mut self, method: &str) -> Fault {
        self.method = Some(method.to_string());
        self
    }

    /// Let `n` matching requests through first.
    pub fn skip(mut self, n: usize) -> Fault {
        self.skip = n;
        self
    }

    /// Affect `n` matching requests, then stop.
    pub fn times(mut self, n: usize) -> Fault {
        self.times = Some(n);
        self
    }

    pub(crate) fn matches(&self, method: &str, path: &str) -> bool {
        if let Some(m) = &self.method {
            if !m.eq_ignore_ascii_case(method) {
                return false;
            }
        }
        match self.path.strip_suffix('*') {
            Some(prefix) => path.starts_with(prefix),
            None => path == self.path,
        }
    }
}

/// What a fault does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum FaultAction {
    /// Answers with this status, an optional `Retry-After` and a JSON error body (or `body`).
    Status {
        /// The status.
        status: u16,
        /// The `Retry-After` header, as sent (seconds or an HTTP date).
        #[serde(default)]
        retry_after: Option<String>,
        /// The body; `{"error": "..."}` when absent (nothing for 204).
        #[serde(default)]
        body: Option<String>,
    },
    /// Waits, then answers normally.
    Delay {
        /// How long.
        millis: u64,
    },
    /// Handles the request as usual (a DELETE takes effect), then never answers (until the
    /// client gives up).
    Hang,
    /// Answers normally, one body byte at a time.
    Trickle {
        /// The pause before each byte.
        millis_per_byte: u64,
    },
    /// Announces the whole body in `Content-Length`, sends part of it, and closes.
    Truncate {
        /// Bytes of the body sent.
        keep_bytes: usize,
    },
    /// Sends a chunked body and closes the connection in the middle of a chunk.
    Reset,
    /// Answers with any status, content type and body (HTML, garbage, ...).
    Body {
        /// The status.
        status: u16,
        /// The `Content-Type`.
        content_type: String,
        /// The body.
        body: String,
    },
    /// Answers with a redirect.
    Redirect {
        /// 301, 302, 307, 308.
        status: u16,
        /// The `Location`.
        location: String,
    },
    /// A well-formed JSON body of about this many bytes (a padding field).
    Large {
        /// The size.
        bytes: usize,
    },
    /// The normal body with an array nested this deep in it.
    Deep {
        /// The depth.
        depth: usize,
    },
    /// The normal body followed by this text.
    Trailing {
        /// What follows the JSON.
        text: String,
    },
    /// Adds fields Vultr does not document to every object of the normal body.
    ExtraFields,
    /// Deletes a user (and their memberships and attachments), then answers normally.
    DeleteUser {
        /// The user.
        id: String,
    },
    /// Deletes a group, then answers normally.
    DeleteGroup {
        /// The group.
        id: String,
    },
    /// Deletes a role (and its attachments), then answers normally.
    DeleteRole {
        /// The role.
        id: String,
    },
    /// Deletes a policy (and its attachments), then answers normally.
    DeletePolicy {
        /// The policy.
        id: String,
    },
    /// Takes a user out of a group, then answers normally.
    RemoveMember {
        /// The group.
        group: String,
        /// The user.
        user: String,
    },
    /// Puts a user in a group, then answers normally.
    AddMember {
        /// The group.
        group: String,
        /// The user.
        user: String,
    },
    /// Renames a user, then answers normally.
    RenameUser {
        /// The user.
        id: String,
        /// The new name.
        name: String,
    },
    /// Pagination: the `next` cursor is always the same one, so the client goes round.
    PageRepeatCursor,
    /// Pagination: always the first page's items, each time with a new cursor.
    PageRepeatItems,
    /// Pagination: the last page names itself as next, with a new cursor each time.
    PageLastForever,
    /// Pagination: an empty page whose `next` leads on to the real page.
    PageEmptyWithNext,
    /// Pagination: the last page's `next` is `null` instead of `""`.
    PageNextNull,
    /// Pagination: the last page's `links` has no `next` at all.
    PageNextMissing,
    /// Pagination: each page after the first repeats the previous page's last item.
    PageDuplicate {
        /// The repeated item comes with a changed name.
        #[serde(default)]
        changed: bool,
    },
    /// Pagination: pages of fresh items forever (copies of the first item with new ids), each
    /// with a new cursor: a listing that never ends.
    PageEndless {
        /// The `meta.total` announced; none at all when absent.
        #[serde(default)]
        total: Option<u64>,
    },
    /// Pagination: `meta.total` says this.
    PageTotal {
        /// The total announced.
        total: u64,
    },
    /// Pagination: pages hold at most this many items, whatever `per_page` asks.
    PageSize {
        /// The largest page.
        size: usize,
    },
}

impl FaultAction {
    /// Faults that change the data, then let the request be answered.
    pub(crate) fn is_mutation(&self) -> bool {
        matches!(
            self,
            FaultAction::DeleteUser { .. }
                | FaultAction::DeleteGroup { .. }
                | FaultAction::DeleteRole { .. }
                | FaultAction::DeletePolicy { .. }
                | FaultAction::RemoveMember { .. }
                | FaultAction::AddMember { .. }
                | FaultAction::RenameUser { .. }
        )
    }

    /// Faults that shape the normal answer rather than replace it.
    pub(crate) fn is_modifier(&self) -> bool {
        matches!(
            self,
            FaultAction::Delay { .. }
                | FaultAction::ExtraFields
                | FaultAction::PageRepeatCursor
                | FaultAction::PageRepeatItems
                | FaultAction::PageLastForever
                | FaultAction::PageEmptyWithNext
                | FaultAction::PageNextNull
                | FaultAction::PageNextMissing
                | FaultAction::PageDuplicate { .. }
                | FaultAction::PageTotal { .. }
                | FaultAction::PageSize { .. }
                | FaultAction::PageEndless { .. }
        )
    }
}
