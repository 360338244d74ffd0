//! Change files: the JSON form of changes, naming entities by id or name, and their resolution
//! into [`Change`]s of one organization.

use serde::{Deserialize, Serialize};

use crate::error::{ChangeSetError, LoadError, LookupError};
use crate::model::{parse_json, PolicyDocument};
use crate::org::Org;
use crate::simulate::{Change, Holder, Principal};

/// One change as a change file writes it. Entities are named by id or name, as on the
/// command line (users by id or email, groups by id or display name).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
#[allow(missing_docs)] // The fields are the names a change file uses; docs/output-format.md lists them.
pub enum ChangeSpec {
    RemoveMember {
        group: String,
        user: String,
    },
    AddMember {
        group: String,
        user: String,
    },
    /// Name exactly one of `user`, `group`, `role`.
    DetachPolicy {
        policy: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        user: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        group: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        role: Option<String>,
    },
    /// Name exactly one of `user`, `group`, `role`.
    AttachPolicy {
        policy: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        user: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        group: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        role: Option<String>,
    },
    /// Name exactly one of `user`, `group`.
    DetachRole {
        role: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        user: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        group: Option<String>,
    },
    /// Name exactly one of `user`, `group`.
    AttachRole {
        role: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        user: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        group: Option<String>,
    },
    DeleteGroup {
        group: String,
    },
    DeleteRole {
        role: String,
    },
    DeletePolicy {
        policy: String,
    },
    SuspendUser {
        user: String,
    },
    UnsuspendUser {
        user: String,
    },
    RemoveUser {
        user: String,
    },
    ReplacePolicyDocument {
        policy: String,
        policy_document: PolicyDocument,
    },
    DeleteRoleTrust {
        trust: String,
    },
}

/// Parses a change file: a JSON array of changes. Errors carry the JSON path (`[2].group`).
pub fn parse_changes(text: &str) -> Result<Vec<ChangeSpec>, LoadError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    parse_json(text).map_err(|error| name_the_field(text, error))
}

/// A change is read whole before its kind is known, so a field of the wrong type is reported
/// at the change (`[0]`) rather than at the field: point at the field. Every field but
/// `policy_document` is a string.
fn name_the_field(text: &str, error: LoadError) -> LoadError {
    let LoadError::Json { path, message } = &error else {
        return error;
    };
    if !message.starts_with("invalid type") {
        return error;
    }
    let Some(index) = path
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .and_then(|i| i.parse::<usize>().ok())
    else {
        return error;
    };
    let changes: Result<Vec<serde_json::Map<String, serde_json::Value>>, _> =
        serde_json::from_str(text);
    // The first field that should be a string and is not; failing that, the error is inside
    // the one field that is not a string, the replacement document.
    let field = changes.ok().and_then(|changes| {
        let fields = changes.get(index)?;
        fields
            .iter()
            .find(|(key, value)| *key != "policy_document" && !value.is_string())
            .map(|(key, _)| key.clone())
            .or_else(|| {
                fields
                    .contains_key("policy_document")
                    .then(|| "policy_document".to_string())
            })
    });
    match field {
        Some(field) => LoadError::Json {
            path: format!("{path}.{field}"),
            message: message.clone(),
        },
        None => error,
    }
}

impl Org {
    /// Resolves the names of a change against this organization.
    pub fn resolve(&self, spec: &ChangeSpec) -> Result<Change, LookupError> {
        let holder = |kind: &'static str,
                      user: &Option<String>,
                      group: &Option<String>,
                      role: Option<&Option<String>>|
         -> Result<Holder, LookupError> {
            let named = [
                user.is_some(),
                group.is_some(),
                role.is_some_and(Option::is_some),
            ];
            let expected = if role.is_some() {
                "exactly one of `user`, `group`, `role`"
            } else {
                "exactly one of `user`, `group`"
            };
            if named.iter().filter(|&&n| n).count() != 1 {
                return Err(LookupError::Malformed {
                    change: kind,
                    reason: format!("name {expected}"),
                });
            }
            Ok(match (user, group, role.and_then(Option::as_ref)) {
                (Some(u), _, _) => Holder::User(self.find_user(u)?),
                (_, Some(g), _) => Holder::Group(self.find_group(g)?),
                (_, _, Some(r)) => Holder::Role(self.find_role(r)?),
                _ => unreachable!("exactly one is named"),
            })
        };
        let principal = |h: Holder| match h {
            Holder::User(u) => Principal::User(u),
            Holder::Group(g) => Principal::Group(g),
            Holder::Role(_) => unreachable!("roles attach to users and groups only"),
        };
        Ok(match spec {
            ChangeSpec::RemoveMember { group, user } => Change::RemoveMember {
                group: self.find_group(group)?,
                user: self.find_user(user)?,
            },
            ChangeSpec::AddMember { group, user } => Change::AddMember {
                group: self.find_group(group)?,
                user: self.find_user(user)?,
            },
            ChangeSpec::DetachPolicy {
                policy,
                user,
                group,
                role,
            } => Change::DetachPolicy {
                policy: self.find_policy(policy)?,
                from: holder("detach_policy", user, group, Some(role))?,
            },
            ChangeSpec::AttachPolicy {
                policy,
                user,
                group,
                role,
            } => Change::AttachPolicy {
                policy: self.find_policy(policy)?,
                to: holder("attach_policy", user, group, Some(role))?,
            },
            ChangeSpec::DetachRole { role, user, group } => Change::DetachRole {
                role: self.find_role(role)?,
                from: principal(holder("detach_role", user, group, None)?),
            },
            ChangeSpec::AttachRole { role, user, group } => Change::AttachRole {
                role: self.find_role(role)?,
                to: principal(holder("attach_role", user, group, None)?),
            },
            ChangeSpec::DeleteGroup { group } => Change::DeleteGroup {
                group: self.find_group(group)?,
            },
            ChangeSpec::DeleteRole { role } => Change::DeleteRole {
                role: self.find_role(role)?,
            },
            ChangeSpec::DeletePolicy { policy } => Change::DeletePolicy {
                policy: self.find_policy(policy)?,
            },
            ChangeSpec::SuspendUser { user } => Change::SuspendUser {
                user: self.find_user(user)?,
            },
            ChangeSpec::UnsuspendUser { user } => Change::UnsuspendUser {
                user: self.find_user(user)?,
            },
            ChangeSpec::RemoveUser { user } => Change::RemoveUser {
                user: self.find_user(user)?,
            },
            ChangeSpec::ReplacePolicyDocument {
                policy,
                policy_document,
            } => Change::ReplacePolicyDocument {
                policy: self.find_policy(policy)?,
                document: policy_document.clone(),
            },
            ChangeSpec::DeleteRoleTrust { trust } => Change::DeleteRoleTrust {
                trust: self.find_trust(trust)?,
            },
        })
    }

    /// Resolves every change of a file; an error names the change's position and holds the
    /// lookup's error as its source.
    pub fn resolve_all(
        &self,
        specs: &[ChangeSpec],
    ) -> Result<Vec<Change>, ChangeSetError<LookupError>> {
        specs
            .iter()
            .enumerate()
            .map(|(index, spec)| {
                self.resolve(spec)
                    .map_err(|source| ChangeSetError { index, source })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_every_kind_and_reject_unknown_fields() {
        let text = r#"[
          {"kind": "remove_member", "group": "G", "user": "U"},
          {"kind": "detach_policy", "policy": "P", "role": "R"},
          {"kind": "attach_role", "role": "R", "group": "G"},
          {"kind": "replace_policy_document", "policy": "P",
           "policy_document": {"Version": "1", "Statement": {"Effect": "Deny", "Action": "*", "Resource": "*"}}},
          {"kind": "delete_role_trust", "trust": "T"}
        ]"#;
        let specs = parse_changes(text).unwrap();
        assert_eq!(specs.len(), 5);
        assert_eq!(
            specs[1],
            ChangeSpec::DetachPolicy {
                policy: "P".into(),
                user: None,
                group: None,
                role: Some("R".into())
            }
        );
        let err = parse_changes(
            r#"[{"kind": "remove_member", "group": "G", "user": "U"}, {"kind": "remove_membr"}]"#,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with("[1]") && err.contains("unknown variant `remove_membr`"),
            "{err}"
        );
        let err = parse_changes(r#"[{"kind": "delete_group", "group": "G", "extra": 1}]"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown field `extra`"), "{err}");
        // A field of the wrong type is named, though serde reads a change whole.
        let err = parse_changes(
            r#"[{"kind": "delete_group", "group": "G"},
            {"kind": "remove_member", "group": 5, "user": "U"}]"#,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with("[1].group: invalid type: integer `5`"),
            "{err}"
        );
        // Inside a replacement document, the document is named; `kind` too.
        for (text, path) in [
            (
                r#"[{"kind": "replace_policy_document", "policy_document": {"Statement": 5}, "policy": "P"}]"#,
                "[0].policy_document: invalid type",
            ),
            (
                r#"[{"kind": "replace_policy_document", "policy_document": {"Statement": []}, "policy": 5}]"#,
                "[0].policy: invalid type",
            ),
        ] {
            let err = parse_changes(text).unwrap_err().to_string();
            assert!(err.starts_with(path), "{err}");
        }
        // A missing field stays at the change.
        let err = parse_changes(r#"[{"kind": "remove_member", "group": "G"}]"#)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("[0]: missing field `user`"), "{err}");
    }
}
