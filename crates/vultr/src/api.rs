//! The JSON shapes of Vultr's responses, read leniently: fields iamsim does not need are
//! ignored, optional fields may be missing or `null`.
//!
//! Each type lists the fields Vultr's documentation and SDK show (`FIELDS`), so that a field
//! outside them can be reported: it is the first sign that the API changed.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// A string that may also be `null` or missing: all three read as empty.
fn lenient_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(d)?.unwrap_or_default())
}

/// An optional id where `""` means none.
fn optional_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.filter(|s| !s.is_empty()))
}

fn lenient_bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(Option::<bool>::deserialize(d)?.unwrap_or_default())
}

/// `GET /organizations` items.
#[derive(Debug, Deserialize)]
pub struct Organization {
    pub id: String,
    #[serde(default, deserialize_with = "lenient_string")]
    pub name: String,
}

impl Organization {
    pub const FIELDS: &'static [&'static str] = &["id", "name", "type", "date_created"];
}

/// `GET /users` items.
#[derive(Debug, Deserialize)]
pub struct User {
    pub id: String,
    #[serde(default, deserialize_with = "lenient_string")]
    pub email: String,
    #[serde(default, deserialize_with = "lenient_string")]
    pub name: String,
    #[serde(default, deserialize_with = "lenient_string")]
    pub first_name: String,
    #[serde(default, deserialize_with = "lenient_string")]
    pub last_name: String,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub service_user: bool,
    /// Legacy ACLs; `null` or missing read as none known.
    #[serde(default)]
    pub acls: Option<Vec<String>>,
    /// Whether API access is enabled.
    #[serde(default)]
    pub api_enabled: Option<bool>,
}

impl User {
    pub const FIELDS: &'static [&'static str] = &[
        "id",
        "name",
        "first_name",
        "last_name",
        "email",
        "api_enabled",
        "acls",
        "service_user",
        "date_created",
        "status",
    ];

    /// `name`, or the first and last names.
    pub fn display_name(&self) -> String {
        if !self.name.is_empty() {
            return self.name.clone();
        }
        format!("{} {}", self.first_name, self.last_name)
            .trim()
            .to_string()
    }
}

/// Users inside IAM lists: group members, policy users, suspended users.
pub const ORGANIZATION_USER_FIELDS: &[&str] = &[
    "id",
    "name",
    "first_name",
    "last_name",
    "email",
    "assignment_type",
    "date_created",
    "date_suspended",
    "assigned_date",
];

/// `GET /invitation` items (read only for their `org_id`).
pub const INVITATION_FIELDS: &[&str] = &[
    "id",
    "inviter_name",
    "inviter_email",
    "email_invited",
    "email_registered",
    "permissions",
    "org_id",
    "org_name",
    "status",
    "status_full",
    "invite_status",
    "date_created",
    "date_responded",
    "expiration_date",
];

/// `GET /groups` items and `GET /groups/{id}` (whose `members` the crawl does not read: it
/// pages `GET /groups/{id}/members` instead).
#[derive(Debug, Deserialize)]
pub struct Group {
    pub id: String,
    #[serde(default, deserialize_with = "lenient_string")]
    pub display_name: String,
    #[serde(default, deserialize_with = "lenient_string")]
    pub description: String,
}

impl Group {
    pub const FIELDS: &'static [&'static str] = &[
        "id",
        "display_name",
        "description",
        "members",
        "date_created",
        "assigned_date",
    ];
}

/// A group member (an organization user); only the id is needed.
#[derive(Debug, Deserialize)]
pub struct Member {
    pub id: String,
}

/// `GET /roles` items.
#[derive(Debug, Deserialize)]
pub struct Role {
    pub id: String,
    #[serde(default, deserialize_with = "lenient_string")]
    pub name: String,
    /// `assignable` or `assumable` as documented; anything else (or none) is kept as sent, for
    /// the crawl to report.
    #[serde(default)]
    pub role_type: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub description: String,
}

impl Role {
    pub const FIELDS: &'static [&'static str] = &[
        "id",
        "name",
        "description",
        "role_type",
        "max_session_duration",
        "policies",
        "date_created",
    ];
}

/// `GET /policies` items and `GET /policies/{id}`.
#[derive(Debug, Deserialize)]
pub struct Policy {
    pub id: String,
    #[serde(default, deserialize_with = "lenient_string")]
    pub name: String,
    #[serde(default, deserialize_with = "lenient_string")]
    pub description: String,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub is_system_policy: bool,
    /// Absent or `null` when a list leaves documents out.
    #[serde(default)]
    pub policy_document: Option<Value>,
}

impl Policy {
    pub const FIELDS: &'static [&'static str] = &[
        "id",
        "name",
        "description",
        "policy_document",
        "version",
        "is_system_policy",
        "from_role",
        "source",
        "date_created",
    ];
}

/// `GET /role-trusts` items.
#[derive(Debug, Deserialize)]
pub struct RoleTrust {
    pub id: String,
    /// Not in the SDK's struct; used when present.
    #[serde(default, deserialize_with = "optional_id")]
    pub role_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub role_name: String,
    #[serde(default, deserialize_with = "lenient_string")]
    pub trust_type: String,
    #[serde(default, deserialize_with = "optional_id")]
    pub trusted_user_id: Option<String>,
    #[serde(default, deserialize_with = "optional_id")]
    pub trusted_group_id: Option<String>,
    /// Named by Vultr's docs for trusts to OIDC issuers; not in the SDK's struct.
    #[serde(default, deserialize_with = "optional_id")]
    pub oidc_issuer_id: Option<String>,
    /// Trusts to another organization: the field name is iamsim's assumption (docs/vultr.md).
    #[serde(default, deserialize_with = "optional_id")]
    pub trusted_organization_id: Option<String>,
    #[serde(default)]
    pub conditions: Option<Value>,
    #[serde(default, deserialize_with = "optional_id")]
    pub valid_until: Option<String>,
}

impl RoleTrust {
    pub const FIELDS: &'static [&'static str] = &[
        "id",
        "role_id",
        "role_name",
        "trust_type",
        "trusted_user_id",
        "user_display",
        "trusted_group_id",
        "group_display",
        "oidc_issuer_id",
        "trusted_organization_id",
        "conditions",
        "valid_until",
        "date_created",
    ];
}

/// An assumed-role session (`GET /assumed-roles/users/{id}/sessions`; govultr
/// `OrganizationRoleSession`). Its `session_token` is a credential: it is not read.
#[derive(Debug, Deserialize)]
pub struct Session {
    #[serde(deserialize_with = "lenient_string")]
    pub role_id: String,
    #[serde(default, deserialize_with = "optional_id")]
    pub session_name: Option<String>,
    #[serde(default, deserialize_with = "optional_id")]
    pub assumed_at: Option<String>,
    #[serde(default, deserialize_with = "optional_id")]
    pub expires_at: Option<String>,
}

impl Session {
    pub const FIELDS: &'static [&'static str] = &[
        "session_token",
        "role_id",
        "user_id",
        "session_name",
        "auth_method",
        "remaining_duration",
        "conditions_met",
        "source_ip",
        "expires_at",
        "assumed_at",
    ];
}

/// Role assignment rows (`/roles/{id}/users`, `/roles/{id}/groups`).
pub const ASSIGNMENT_FIELDS: &[&str] = &[
    "user_id",
    "group_id",
    "group_name",
    "role_id",
    "role_name",
    "role_description",
    "role_type",
    "date_assigned",
    "assigned_by",
];

/// A role attached to a group, as `GET /groups/{id}/roles` lists it.
pub const GROUP_ROLE_FIELDS: &[&str] = &[
    "id",
    "display_name",
    "name",
    "description",
    "role_type",
    "date_assigned",
    "date_created",
    "max_session_duration",
];
