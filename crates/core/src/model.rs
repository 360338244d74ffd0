//! The snapshot: plain serde types of the input contract (`iamsim.snapshot.v1`).
//!
//! Field names follow Vultr's API. These types carry no invariant: they are what the file says,
//! checked only for shape. Meaning (ids that resolve, patterns that parse) is checked when the
//! snapshot is compiled into an [`Org`](crate::Org).

use serde::{Deserialize, Serialize};

use crate::error::LoadError;

/// The only snapshot format this version reads.
pub const SNAPSHOT_FORMAT: &str = "iamsim.snapshot.v1";

/// A whole organization's IAM configuration at one moment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Always [`SNAPSHOT_FORMAT`].
    pub format: String,
    /// The organization the snapshot describes.
    pub organization: Organization,
    /// Every user of the organization, service users and suspended users included.
    pub users: Vec<User>,
    /// Every group, with its members and attachments.
    pub groups: Vec<Group>,
    /// Every role, with the policies it is made of.
    pub roles: Vec<Role>,
    /// Every policy, with its document.
    pub policies: Vec<Policy>,
    /// Trusts that let users or groups assume assumable roles.
    #[serde(default)]
    pub role_trusts: Vec<RoleTrust>,
    /// Assumed-role sessions active when the snapshot was taken (`iamsim vultr fetch
    /// --sessions`). Left out when none was read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sessions: Vec<Session>,
    /// What the adapter recorded about the crawl that produced this snapshot, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crawl: Option<serde_json::Value>,
}

/// The organization itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Organization {
    /// Vultr's organization id.
    pub id: String,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// The owner, who has unconditional access.
    #[serde(default)]
    pub root_user_id: Option<String>,
}

/// A user (a person or a service user).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    /// Vultr's user id.
    pub id: String,
    /// Login email; users can be named by it on the command line.
    pub email: String,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// A non-human, API-only identity.
    #[serde(default)]
    pub service_user: bool,
    /// A suspended user has no access; their assignments stay.
    #[serde(default)]
    pub suspended: bool,
    /// Ids of policies attached directly to the user.
    #[serde(default)]
    pub policies: Vec<String>,
    /// Ids of roles attached directly to the user.
    #[serde(default)]
    pub roles: Vec<String>,
    /// Legacy ACLs, Vultr's permissions from before IAM (`manage_users`, `billing`, ...), as
    /// `GET /users` lists them. Vultr still enforces them alongside IAM during the move, so
    /// they grant access IAM changes do not touch; [`ROOT_EQUIVALENT_ACL`] is documented as
    /// equivalent to the root user. `None`: not known (a snapshot not crawled from Vultr, or
    /// written before this field); `Some([])`: known to hold none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acls: Option<Vec<String>>,
    /// Whether the user may use Vultr's API, as `GET /users` says. Recorded, not evaluated:
    /// IAM decides what an API call may do. `None`: not known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_enabled: Option<bool>,
}

/// The legacy ACL Vultr documents as equivalent to the root user ("What permissions can be
/// granted to users"; "Can I continue using ACLs after IAM is enabled").
pub const ROOT_EQUIVALENT_ACL: &str = "manage_users";

impl User {
    /// The legacy ACLs the user holds (none when not known).
    pub fn legacy_acls(&self) -> &[String] {
        self.acls.as_deref().unwrap_or_default()
    }

    /// Whether a legacy ACL makes the user equivalent to the root user, whatever IAM says.
    pub fn root_by_acl(&self) -> bool {
        self.legacy_acls().iter().any(|a| a == ROOT_EQUIVALENT_ACL)
    }
}

/// A group of users.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Group {
    /// Vultr's group id.
    pub id: String,
    /// Display name; groups can be named by it on the command line.
    pub display_name: String,
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// Ids of the member users.
    #[serde(default)]
    pub members: Vec<String>,
    /// Ids of policies attached to the group.
    #[serde(default)]
    pub policies: Vec<String>,
    /// Ids of roles attached to the group.
    #[serde(default)]
    pub roles: Vec<String>,
}

/// Whether a role gives standing access or must be assumed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RoleType {
    /// Attached to users and groups; gives standing access.
    Assignable,
    /// Assumed for a session through a role trust; gives no standing access.
    Assumable,
}

/// A named collection of policies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Role {
    /// Vultr's role id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Assignable or assumable.
    pub role_type: RoleType,
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// Ids of the policies the role is made of.
    #[serde(default)]
    pub policies: Vec<String>,
}

/// A permission policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Policy {
    /// Vultr's policy id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// A Vultr-managed policy, which cannot be edited.
    #[serde(default)]
    pub is_system_policy: bool,
    /// The statements.
    pub policy_document: PolicyDocument,
}

/// A policy document as written: `{"Version": ..., "Statement": ...}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyDocument {
    /// Free text; Vultr's docs use `2026-03-20`.
    #[serde(rename = "Version", default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// One statement or an array of them.
    #[serde(rename = "Statement")]
    pub statement: OneOrMany<Statement>,
}

/// A statement as written. Patterns are parsed when the snapshot is compiled, so that errors can
/// name the policy and the statement index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Statement {
    /// An optional label; ignored.
    #[serde(rename = "Sid", default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// `Allow` or `Deny`, exactly.
    #[serde(rename = "Effect")]
    pub effect: String,
    /// Action patterns.
    #[serde(rename = "Action")]
    pub action: OneOrMany<String>,
    /// Resource patterns.
    #[serde(rename = "Resource")]
    pub resource: OneOrMany<String>,
}

/// A JSON value written either as one item or as an array of items.
///
/// Deserialized by hand rather than as an untagged enum, so that an error inside the item keeps
/// its own message and JSON path instead of "did not match any variant".
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum OneOrMany<T> {
    /// A single item.
    One(T),
    /// An array.
    Many(Vec<T>),
}

impl<T> OneOrMany<T> {
    /// The items, whichever way they were written.
    pub fn as_slice(&self) -> &[T] {
        match self {
            OneOrMany::One(one) => std::slice::from_ref(one),
            OneOrMany::Many(many) => many,
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for OneOrMany<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::{value, Visitor};
        use std::marker::PhantomData;

        struct OneOrManyVisitor<T>(PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for OneOrManyVisitor<T> {
            type Value = OneOrMany<T>;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("one item or an array of items")
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Self::Value, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(OneOrMany::Many(items))
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<Self::Value, A::Error> {
                T::deserialize(value::MapAccessDeserializer::new(map)).map(OneOrMany::One)
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
                T::deserialize(value::StrDeserializer::<E>::new(v)).map(OneOrMany::One)
            }

            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Self::Value, E> {
                T::deserialize(value::StringDeserializer::<E>::new(v)).map(OneOrMany::One)
            }
        }

        deserializer.deserialize_any(OneOrManyVisitor(PhantomData))
    }
}

/// A trust that lets a user or the members of a group assume a role.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoleTrust {
    /// Vultr's trust id.
    pub id: String,
    /// The (assumable) role.
    pub role_id: String,
    /// `TemporaryAssumption`, `IAMAssumption` or `FederatedAssumption`.
    #[serde(default)]
    pub trust_type: String,
    /// The trusted user, if the trust names one.
    #[serde(default)]
    pub trusted_user_id: Option<String>,
    /// The trusted group, if the trust names one.
    #[serde(default)]
    pub trusted_group_id: Option<String>,
    /// An OIDC issuer whose identities may assume the role: a principal outside the
    /// organization's users.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oidc_issuer_id: Option<String>,
    /// Another organization whose users may assume the role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trusted_organization_id: Option<String>,
    /// Time-of-day and IP conditions, kept as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<serde_json::Value>,
    /// Expiry (ISO-8601), kept as written; iamsim does not read the clock.
    #[serde(default)]
    pub valid_until: Option<String>,
}

/// An assumed-role session a user holds: it lasts until it expires, whatever happens to the
/// trust that let the user assume the role. The session's token is never kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// The user holding the session.
    pub user_id: String,
    /// The assumed role.
    pub role_id: String,
    /// The name the user gave the session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_name: Option<String>,
    /// When the role was assumed (RFC 3339), as Vultr sent it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assumed_at: Option<String>,
    /// When the session ends (RFC 3339), as Vultr sent it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
}

impl Snapshot {
    /// Parses a snapshot from the bytes of a JSON file.
    ///
    /// A leading UTF-8 byte-order mark is accepted. Errors carry the JSON path of the offending
    /// value, or the byte offset of invalid UTF-8.
    pub fn from_json_bytes(bytes: &[u8]) -> Result<Snapshot, LoadError> {
        // Offsets count from the start of the file, BOM included.
        let (skipped, bytes) = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
            Some(rest) => (3, rest),
            None => (0, bytes),
        };
        let text = std::str::from_utf8(bytes).map_err(|e| LoadError::Utf8 {
            offset: skipped + e.valid_up_to(),
        })?;
        Snapshot::from_json_str(text)
    }

    /// Parses a snapshot from JSON text. See [`Snapshot::from_json_bytes`].
    pub fn from_json_str(text: &str) -> Result<Snapshot, LoadError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        // serde would also read a struct from a positional array: only an object is a snapshot.
        if text.trim_start().chars().next().is_some_and(|c| c != '{') {
            return Err(LoadError::Json {
                path: String::new(),
                message: "a snapshot is a JSON object".to_string(),
            });
        }
        let snapshot: Snapshot = parse_json(text).map_err(|e| name_policy(e, text))?;
        if snapshot.format != SNAPSHOT_FORMAT {
            return Err(LoadError::Format {
                found: snapshot.format,
            });
        }
        Ok(snapshot)
    }
}

/// Adds the policy id and statement index to an error inside a policy document, so that the
/// message names them as the other policy errors do. Only runs on the error path: the text is
/// parsed again, loosely, to find the id.
fn name_policy(error: LoadError, text: &str) -> LoadError {
    let LoadError::Json { path, message } = error else {
        return error;
    };
    let index = |prefix: &str, from: &str| -> Option<usize> {
        let rest = from.strip_prefix(prefix)?;
        rest[..rest.find(']')?].parse().ok()
    };
    let Some(policy) = index("policies[", &path) else {
        return LoadError::Json { path, message };
    };
    let id = serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| {
            v.get("policies")?
                .get(policy)?
                .get("id")?
                .as_str()
                .map(str::to_string)
        });
    let statement = path
        .find(".Statement[")
        .and_then(|at| index(".Statement[", &path[at..]));
    let context = match (id, statement) {
        (Some(id), Some(s)) => format!(" (policy `{id}` statement {s})"),
        (Some(id), None) => format!(" (policy `{id}`)"),
        _ => String::new(),
    };
    LoadError::Json {
        path: format!("{path}{context}"),
        message,
    }
}

/// Deserializes one JSON document, rejecting trailing data and reporting the path of any error.
///
/// A valid document is read once, without tracking paths (tracking costs about a third of
/// reading a large snapshot); only an invalid one is read again, with paths, for its error.
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, LoadError> {
    match serde_json::from_str(text) {
        Ok(value) => Ok(value),
        Err(_) => parse_json_tracked(text),
    }
}

/// [`parse_json`], tracking the path of every value read, for the error.
fn parse_json_tracked<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, LoadError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        LoadError::json(path, e.into_inner())
    })?;
    // Without this, `{...} garbage` would be accepted.
    de.end().map_err(|e| LoadError::json(String::new(), e))?;
    Ok(value)
}
