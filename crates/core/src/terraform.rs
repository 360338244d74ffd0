//! Terraform plans as change sets: `terraform show -json PLANFILE` read into [`ChangeSpec`]s.
//!
//! The input is the JSON plan of HashiCorp's "JSON Output Format" (`format_version` 1.x) for the
//! Vultr provider (`vultr/terraform-provider-vultr`). Every change of a Vultr IAM resource is
//! mapped to the change kinds iamsim simulates. An entity the plan creates is a creation change
//! whose placeholder id is its Terraform address (`vultr_organization_group.eng`), and a value
//! unknown until apply that the configuration refers to such an entity is that placeholder.
//! Everything that cannot be mapped exactly is a [`Finding`]: values unknown until apply that
//! do not resolve to one created entity, an incomplete or errored plan, resource types iamsim
//! does not know. A finding [hides a change](Finding::hides_change): the mapped changes may
//! not be all the plan does; the caller decides whether that fails (the CLI's gates trip
//! unless `--allow-unknown`).
//!
//! ```
//! use iamsim_core::terraform::{plan_changes, FindingKind};
//! use iamsim_core::ChangeSpec;
//!
//! let plan = br#"{
//!   "format_version": "1.2",
//!   "resource_changes": [{
//!     "address": "vultr_user.ana", "mode": "managed", "type": "vultr_user", "name": "ana",
//!     "provider_name": "registry.terraform.io/vultr/vultr",
//!     "change": {
//!       "actions": ["update"],
//!       "before": {"id": "u-ana", "password": "hunter2", "groups": ["g-devops", "g-billing"]},
//!       "after": {"id": "u-ana", "password": "hunter2", "groups": ["g-billing"]},
//!       "after_unknown": {}
//!     }
//!   }]
//! }"#;
//! let mapped = plan_changes(plan, None)?;
//! assert_eq!(
//!     mapped.specs(),
//!     [ChangeSpec::RemoveMember { group: "g-devops".into(), user: "u-ana".into() }]
//! );
//! assert!(mapped.findings.is_empty());
//! # Ok::<(), iamsim_core::terraform::PlanError>(())
//! ```
//!
//! **Values of the plan are never echoed.** `before` and `after` hold every attribute in plain
//! text, the user's password and API key included. This module reads only ids, id sets and
//! policy documents of the resources it knows, skips any of those that the plan marks
//! sensitive (with a [`FindingKind::Sensitive`]), and its errors and findings name JSON paths,
//! addresses, attributes and JSON types, never a value.

use std::collections::BTreeSet;
use std::fmt;

use serde_json::{Map, Value};

use crate::change::ChangeSpec;
use crate::error::EntityKind;
use crate::model::{OneOrMany, PolicyDocument, RoleType, Snapshot, Statement};

/// The major version of `format_version` this module reads.
pub const PLAN_FORMAT_MAJOR: &str = "1";

/// What a plan maps to: the changes iamsim can simulate, and what it cannot.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PlanChanges {
    /// The changes, in an order the engine accepts (creations of users, groups, roles and
    /// policies, then of trusts, then removals and detachments, then additions and
    /// attachments, then document replacements, then deletions of trusts, policies, roles,
    /// groups and users), each with the resource it comes from.
    pub changes: Vec<MappedChange>,
    /// Everything that could not be mapped exactly, in plan order (plan-level findings first).
    pub findings: Vec<Finding>,
}

impl PlanChanges {
    /// The changes alone, as a change file holds them.
    pub fn specs(&self) -> Vec<ChangeSpec> {
        self.changes.iter().map(|c| c.change.clone()).collect()
    }

    /// Whether some finding hides a change, so that the mapped changes may not be all the plan
    /// does to people's access.
    pub fn hides_changes(&self) -> bool {
        self.findings.iter().any(Finding::hides_change)
    }
}

/// One change, with where in the plan it comes from.
#[derive(Debug, Clone, PartialEq)]
pub struct MappedChange {
    /// The Terraform address of the resource (`module.iam.vultr_user.ana["x"]`).
    pub address: String,
    /// The change.
    pub change: ChangeSpec,
    /// The change is a worst case standing for a value unknown until apply (every current
    /// membership removed, for an unknown `groups` set), not what the plan says for sure.
    pub worst_case: bool,
}

/// Something in the plan that iamsim cannot simulate exactly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The resource's address; `None` for the plan as a whole.
    pub address: Option<String>,
    /// The attribute concerned (`groups`, `policy_id`), if one.
    pub attribute: Option<String>,
    /// What it is.
    pub kind: FindingKind,
}

/// The kinds of [`Finding`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FindingKind {
    /// `complete: false`: applying the plan will not reach the desired state; more changes
    /// follow in a later plan.
    Incomplete,
    /// `errored: true`: planning failed, and the plan may be partial.
    Errored,
    /// The attribute names entities the same plan creates, but not as one created instance
    /// each (a reference through `count`, `for_each` or a variable), so that no placeholder
    /// stands for them.
    CreatedReference {
        /// The configuration's references to them (`vultr_organization_group.eng`).
        references: Vec<String>,
    },
    /// The attribute's value is unknown until apply.
    Unknown {
        /// How many worst-case changes were mapped in its place (0: no bound is known).
        worst_case: usize,
        /// The configuration's references for the attribute, if any (`var.groups`).
        references: Vec<String>,
    },
    /// The plan marks the attribute sensitive: iamsim does not read it.
    Sensitive,
    /// A change of a known resource that no change kind expresses.
    NotSimulated {
        /// What is not simulated, in a few words.
        what: &'static str,
    },
    /// The attribute's value is unknown until apply, and its references all resolve to
    /// entities the plan creates: those are simulated (added as placeholders), but literal ids
    /// beside them would not show in the plan, so the set is not known whole.
    UnknownBesideCreated {
        /// How many worst-case removals were mapped beside them (0 for a user the plan
        /// creates: nothing is there to lose).
        worst_case: usize,
        /// The configuration's references, each resolved to a created entity.
        references: Vec<String>,
    },
    /// A resource type of the Vultr provider's IAM that iamsim does not know.
    UnknownType {
        /// The type.
        resource_type: String,
    },
    /// An `actions` list iamsim does not know.
    UnknownActions {
        /// The actions, as the plan lists them.
        actions: Vec<String>,
    },
}

impl Finding {
    /// Whether the finding stands for a change of access that the mapped changes may not
    /// show. Every finding does: each is something of the plan iamsim did not simulate.
    pub fn hides_change(&self) -> bool {
        true
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.address, &self.attribute) {
            (Some(address), Some(attribute)) => write!(f, "{address}.{attribute}: ")?,
            (Some(address), None) => write!(f, "{address}: ")?,
            (None, _) => write!(f, "plan: ")?,
        }
        let refs = |references: &[String]| {
            let quoted: Vec<String> = references.iter().map(|r| format!("`{r}`")).collect();
            quoted.join(", ")
        };
        match &self.kind {
            FindingKind::Incomplete => write!(
                f,
                "`complete` is false: applying this plan does not finish the change, so later \
                 plans may change more"
            ),
            FindingKind::Errored => write!(
                f,
                "`errored` is true: planning failed and the plan may be partial"
            ),
            FindingKind::CreatedReference { references } => write!(
                f,
                "refers to what this plan creates ({}), but not to one created instance: \
                 unknown until apply",
                refs(references)
            ),
            FindingKind::Unknown {
                worst_case,
                references,
            } => {
                write!(f, "unknown until apply")?;
                if !references.is_empty() {
                    write!(f, " (from {})", refs(references))?;
                }
                if *worst_case > 0 {
                    worst_case_mapped(f, *worst_case)
                } else {
                    write!(f, "; not simulated")
                }
            }
            FindingKind::UnknownBesideCreated {
                worst_case,
                references,
            } => {
                write!(
                    f,
                    "unknown until apply: its references ({}) are simulated as what this plan \
                     creates, but literal ids beside them would not show in the plan",
                    refs(references)
                )?;
                if *worst_case > 0 {
                    worst_case_mapped(f, *worst_case)?;
                }
                Ok(())
            }
            FindingKind::Sensitive => write!(f, "marked sensitive: not read, not simulated"),
            FindingKind::NotSimulated { what } => write!(f, "{what}: not simulated"),
            FindingKind::UnknownType { resource_type } => write!(
                f,
                "resource type `{resource_type}` is not known to iamsim: not simulated"
            ),
            FindingKind::UnknownActions { actions } => {
                write!(f, "unknown actions `{}`: not simulated", actions.join(","))
            }
        }
    }
}

/// A plan that cannot be read. Messages name the JSON path and the JSON type found, never a
/// value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PlanError {
    /// The bytes are not UTF-8.
    #[error("invalid UTF-8 at byte offset {offset}")]
    Utf8 {
        /// Offset of the first invalid byte.
        offset: usize,
    },
    /// The bytes are not JSON.
    #[error("{message}")]
    Syntax {
        /// serde_json's message, with line and column.
        message: String,
    },
    /// Not a plan of a version this module reads.
    #[error("format_version: unsupported plan format version `{found}` (expected {PLAN_FORMAT_MAJOR}.x)")]
    Version {
        /// The version the plan declares.
        found: String,
    },
    /// A value has the wrong JSON type, or a required one is missing.
    #[error("{path}: expected {expected}, found {found}")]
    Shape {
        /// JSON path (`resource_changes[2].change.actions`).
        path: String,
        /// What was expected (`an array of strings`).
        expected: &'static str,
        /// The JSON type found (`a number`, `nothing`).
        found: &'static str,
    },
    /// The document is JSON but not a plan (the output of `terraform show -json` on a state).
    #[error("not a plan: no `resource_changes` or `planned_values` (give the output of `terraform show -json PLANFILE`)")]
    NotAPlan,
}

/// Reads a JSON plan and maps every Vultr IAM resource change to [`ChangeSpec`]s.
///
/// `baseline` is the organization the changes will be simulated on: for a set that is unknown
/// until apply, its current members give the worst case. Without it (or if it does not know
/// the user), the plan's prior value (`before`) does.
pub fn plan_changes(bytes: &[u8], baseline: Option<&Snapshot>) -> Result<PlanChanges, PlanError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|e| PlanError::Utf8 {
        offset: e.valid_up_to(),
    })?;
    let plan: Value = serde_json::from_str(text).map_err(|e| PlanError::Syntax {
        message: e.to_string(),
    })?;
    let plan = object(&plan, "the plan")?;
    match plan.get("format_version") {
        Some(Value::String(v)) if v.split('.').next() == Some(PLAN_FORMAT_MAJOR) => {}
        Some(Value::String(v)) => return Err(PlanError::Version { found: v.clone() }),
        other => return Err(shape("format_version", "a string", other)),
    }
    if !plan.contains_key("resource_changes") && !plan.contains_key("planned_values") {
        return Err(PlanError::NotAPlan);
    }
    let mut out = Mapper::default();
    for (flag, value, kind) in [
        ("complete", false, FindingKind::Incomplete),
        ("errored", true, FindingKind::Errored),
    ] {
        match plan.get(flag) {
            None | Some(Value::Null) => {}
            Some(Value::Bool(b)) if *b == value => out.plan_finding(kind),
            Some(Value::Bool(_)) => {}
            other => return Err(shape(flag, "a boolean", other)),
        }
    }
    let resources = match plan.get("resource_changes") {
        None | Some(Value::Null) => &[][..],
        Some(Value::Array(list)) => list.as_slice(),
        other => return Err(shape("resource_changes", "an array", other)),
    };
    let resources: Vec<Resource> = resources
        .iter()
        .enumerate()
        .map(|(i, r)| Resource::read(r, format!("resource_changes[{i}]")))
        .collect::<Result<_, _>>()?;
    let created: BTreeSet<String> = resources
        .iter()
        .filter(|r| r.managed && r.actions.creates() && creatable(&r.resource_type).is_some())
        .map(|r| r.address.clone())
        .collect();
    let context = Context {
        configuration: plan.get("configuration"),
        created: &created,
        baseline,
    };
    for resource in &resources {
        out.map(resource, &context)?;
    }
    Ok(out.finish())
}

/// What the mapping of one resource can consult besides the resource.
struct Context<'a> {
    configuration: Option<&'a Value>,
    /// The addresses of the users, groups, roles, policies and trusts the plan creates: the
    /// placeholders that stand for their ids.
    created: &'a BTreeSet<String>,
    baseline: Option<&'a Snapshot>,
}

/// `change.actions`, as one of the lists HashiCorp documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Actions {
    NoOp,
    Create,
    Read,
    Update,
    /// `["delete", "create"]` or `["create", "delete"]`.
    Replace,
    Delete,
    Forget,
    Unknown,
}

impl Actions {
    fn parse(list: &[&str]) -> Actions {
        match list {
            ["no-op"] => Actions::NoOp,
            ["create"] => Actions::Create,
            ["read"] => Actions::Read,
            ["update"] => Actions::Update,
            ["delete", "create"] | ["create", "delete"] => Actions::Replace,
            ["delete"] => Actions::Delete,
            ["forget"] => Actions::Forget,
            _ => Actions::Unknown,
        }
    }

    fn creates(self) -> bool {
        matches!(self, Actions::Create | Actions::Replace)
    }
}

/// One entry of `resource_changes`, the parts this module reads.
struct Resource<'a> {
    address: String,
    module: String,
    managed: bool,
    resource_type: String,
    name: String,
    actions: Actions,
    action_list: Vec<String>,
    before: Side<'a>,
    after: Side<'a>,
}

/// `before` or `after`, with its sensitivity (and, for `after`, unknown) markers.
struct Side<'a> {
    path: String,
    values: Option<&'a Map<String, Value>>,
    sensitive: Option<&'a Value>,
    unknown: Option<&'a Value>,
}

impl<'a> Resource<'a> {
    fn read(value: &'a Value, path: String) -> Result<Resource<'a>, PlanError> {
        let fields = object(value, &path)?;
        let string = |key: &str| -> Result<String, PlanError> {
            match fields.get(key) {
                Some(Value::String(s)) => Ok(s.clone()),
                other => Err(shape(&format!("{path}.{key}"), "a string", other)),
            }
        };
        let optional = |key: &str| -> Result<String, PlanError> {
            match fields.get(key) {
                None | Some(Value::Null) => Ok(String::new()),
                Some(Value::String(s)) => Ok(s.clone()),
                other => Err(shape(&format!("{path}.{key}"), "a string", other)),
            }
        };
        let change_path = format!("{path}.change");
        let change = object(fields.get("change").unwrap_or(&Value::Null), &change_path)?;
        let actions_path = format!("{change_path}.actions");
        let action_list: Vec<String> = match change.get("actions") {
            Some(Value::Array(list)) => list
                .iter()
                .enumerate()
                .map(|(i, a)| match a {
                    Value::String(s) => Ok(s.clone()),
                    other => Err(shape(
                        &format!("{actions_path}[{i}]"),
                        "a string",
                        Some(other),
                    )),
                })
                .collect::<Result<_, _>>()?,
            other => return Err(shape(&actions_path, "an array of strings", other)),
        };
        let refs: Vec<&str> = action_list.iter().map(String::as_str).collect();
        let side = |key: &str, sensitive: &str, unknown: Option<&str>| -> Result<Side, PlanError> {
            let side_path = format!("{change_path}.{key}");
            let values = match change.get(key) {
                None | Some(Value::Null) => None,
                Some(Value::Object(map)) => Some(map),
                other => return Err(shape(&side_path, "an object or null", other)),
            };
            Ok(Side {
                path: side_path,
                values,
                sensitive: change.get(sensitive),
                unknown: unknown.and_then(|u| change.get(u)),
            })
        };
        Ok(Resource {
            address: string("address")?,
            module: optional("module_address")?,
            managed: optional("mode")? != "data",
            resource_type: string("type")?,
            name: string("name")?,
            actions: Actions::parse(&refs),
            action_list,
            before: side("before", "before_sensitive", None)?,
            after: side("after", "after_sensitive", Some("after_unknown"))?,
        })
    }

    /// `type.name`, as the configuration names the resource inside its module.
    fn type_name(&self) -> String {
        format!("{}.{}", self.resource_type, self.name)
    }
}

/// What an attribute of one side holds, as far as this module may read it.
enum Read<T> {
    /// Absent or null.
    Absent,
    Known(T),
    /// Marked sensitive: not read.
    Sensitive,
    /// Unknown until apply, wholly.
    Unknown,
}

impl Side<'_> {
    fn sensitive(&self, attribute: &str) -> bool {
        match self.sensitive {
            Some(Value::Bool(b)) => *b,
            Some(Value::Object(map)) => map.get(attribute).is_some_and(marked),
            _ => false,
        }
    }

    fn unknown(&self, attribute: &str) -> Option<&Value> {
        match self.unknown {
            Some(Value::Object(map)) => map.get(attribute).filter(|v| marked(v)),
            _ => None,
        }
    }

    fn raw(&self, attribute: &str) -> Read<&Value> {
        if self.sensitive(attribute) {
            return Read::Sensitive;
        }
        if let Some(Value::Bool(true)) = self.unknown(attribute) {
            return Read::Unknown;
        }
        match self.values.and_then(|v| v.get(attribute)) {
            None | Some(Value::Null) => Read::Absent,
            Some(value) => Read::Known(value),
        }
    }

    /// A string attribute (an id).
    fn id(&self, attribute: &str) -> Result<Read<String>, PlanError> {
        Ok(match self.raw(attribute) {
            Read::Known(Value::String(s)) => Read::Known(s.clone()),
            Read::Known(other) => {
                return Err(shape(
                    &format!("{}.{attribute}", self.path),
                    "a string",
                    Some(other),
                ))
            }
            Read::Absent => Read::Absent,
            Read::Sensitive => Read::Sensitive,
            Read::Unknown => Read::Unknown,
        })
    }

    /// A set of strings; unknown elements (`null` with `true` at their index in
    /// `after_unknown`) are counted, not read.
    fn set(&self, attribute: &str) -> Result<Read<(BTreeSet<String>, usize)>, PlanError> {
        let list = match self.raw(attribute) {
            Read::Known(Value::Array(list)) => list,
            Read::Known(other) => {
                return Err(shape(
                    &format!("{}.{attribute}", self.path),
                    "an array of strings",
                    Some(other),
                ))
            }
            Read::Absent => return Ok(Read::Known((BTreeSet::new(), 0))),
            Read::Sensitive => return Ok(Read::Sensitive),
            Read::Unknown => return Ok(Read::Unknown),
        };
        let unknown_at = |i: usize| match self.unknown(attribute) {
            Some(Value::Array(flags)) => flags.get(i).is_some_and(marked),
            _ => false,
        };
        let (mut known, mut unknown) = (BTreeSet::new(), 0);
        for (i, item) in list.iter().enumerate() {
            match item {
                Value::String(s) => {
                    known.insert(s.clone());
                }
                Value::Null if unknown_at(i) => unknown += 1,
                other => {
                    return Err(shape(
                        &format!("{}.{attribute}[{i}]", self.path),
                        "a string",
                        Some(other),
                    ))
                }
            }
        }
        Ok(Read::Known((known, unknown)))
    }
}

/// Whether a sensitivity or unknown marker is set anywhere in `value` (`true`, or an object or
/// array holding one).
fn marked(value: &Value) -> bool {
    match value {
        Value::Bool(b) => *b,
        Value::Array(items) => items.iter().any(marked),
        Value::Object(map) => map.values().any(marked),
        _ => false,
    }
}

/// The order in which mapped changes are applied: what an earlier change deletes cannot be
/// named by a later one, so deletions come last, and a trust before its role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Phase {
    Create,
    CreateTrust,
    Remove,
    Add,
    Document,
    DeleteTrust,
    DeletePolicy,
    DeleteRole,
    DeleteGroup,
    DeleteUser,
}

fn phase(change: &ChangeSpec) -> Phase {
    match change {
        ChangeSpec::RemoveMember { .. }
        | ChangeSpec::DetachPolicy { .. }
        | ChangeSpec::DetachRole { .. } => Phase::Remove,
        ChangeSpec::ReplacePolicyDocument { .. } => Phase::Document,
        ChangeSpec::DeleteRoleTrust { .. } => Phase::DeleteTrust,
        ChangeSpec::DeletePolicy { .. } => Phase::DeletePolicy,
        ChangeSpec::DeleteRole { .. } => Phase::DeleteRole,
        ChangeSpec::DeleteGroup { .. } => Phase::DeleteGroup,
        ChangeSpec::RemoveUser { .. } | ChangeSpec::SuspendUser { .. } => Phase::DeleteUser,
        ChangeSpec::CreateRoleTrust { .. } => Phase::CreateTrust,
        ChangeSpec::CreateUser { .. }
        | ChangeSpec::CreateGroup { .. }
        | ChangeSpec::CreateRole { .. }
        | ChangeSpec::CreatePolicy { .. } => Phase::Create,
        _ => Phase::Add,
    }
}

/// The two sides of an attachment resource.
struct Attachment {
    /// The attribute naming what is attached (`policy_id`).
    attached: &'static str,
    /// The attribute naming what holds it (`group_id`).
    holder: &'static str,
    /// The change attaching (`true`) or detaching `attached` to or from `holder`.
    make: fn(String, String, bool) -> ChangeSpec,
}

fn attachment(resource_type: &str) -> Option<Attachment> {
    let pair = |attached, holder, make| {
        Some(Attachment {
            attached,
            holder,
            make,
        })
    };
    match resource_type {
        "vultr_organization_policy_group_attachment" => {
            pair("policy_id", "group_id", |policy, group, attach| {
                let group = Some(group);
                if attach {
                    ChangeSpec::AttachPolicy {
                        policy,
                        user: None,
                        group,
                        role: None,
                    }
                } else {
                    ChangeSpec::DetachPolicy {
                        policy,
                        user: None,
                        group,
                        role: None,
                    }
                }
            })
        }
        "vultr_organization_policy_user_attachment" => {
            pair("policy_id", "user_id", |policy, user, attach| {
                let user = Some(user);
                if attach {
                    ChangeSpec::AttachPolicy {
                        policy,
                        user,
                        group: None,
                        role: None,
                    }
                } else {
                    ChangeSpec::DetachPolicy {
                        policy,
                        user,
                        group: None,
                        role: None,
                    }
                }
            })
        }
        "vultr_organization_role_policy_attachment" => {
            pair("policy_id", "role_id", |policy, role, attach| {
                let role = Some(role);
                if attach {
                    ChangeSpec::AttachPolicy {
                        policy,
                        user: None,
                        group: None,
                        role,
                    }
                } else {
                    ChangeSpec::DetachPolicy {
                        policy,
                        user: None,
                        group: None,
                        role,
                    }
                }
            })
        }
        "vultr_organization_role_group_attachment" => {
            pair("role_id", "group_id", |role, group, attach| {
                let group = Some(group);
                if attach {
                    ChangeSpec::AttachRole {
                        role,
                        user: None,
                        group,
                    }
                } else {
                    ChangeSpec::DetachRole {
                        role,
                        user: None,
                        group,
                    }
                }
            })
        }
        _ => None,
    }
}

/// IAM resource types of the provider that no change kind expresses yet.
const NOT_SIMULATED_TYPES: [(&str, &str); 3] = [
    ("vultr_organization", "changes to the organization itself"),
    (
        "vultr_organization_invitation",
        "invitations of users to the organization",
    ),
    (
        "vultr_organization_role_session",
        "role sessions (assuming a role)",
    ),
];

#[derive(Default)]
struct Mapper {
    changes: Vec<(Phase, usize, MappedChange)>,
    findings: Vec<Finding>,
}

impl Mapper {
    fn plan_finding(&mut self, kind: FindingKind) {
        self.findings.push(Finding {
            address: None,
            attribute: None,
            kind,
        });
    }

    fn finding(&mut self, resource: &Resource, attribute: Option<&str>, kind: FindingKind) {
        self.findings.push(Finding {
            address: Some(resource.address.clone()),
            attribute: attribute.map(str::to_string),
            kind,
        });
    }

    fn change(&mut self, resource: &Resource, change: ChangeSpec, worst_case: bool) {
        let order = self.changes.len();
        self.changes.push((
            phase(&change),
            order,
            MappedChange {
                address: resource.address.clone(),
                change,
                worst_case,
            },
        ));
    }

    fn finish(mut self) -> PlanChanges {
        self.changes
            .sort_by_key(|(phase, order, _)| (*phase, *order));
        let mut changes: Vec<MappedChange> = Vec::with_capacity(self.changes.len());
        for (_, _, mapped) in self.changes {
            // Two resources can stand for one change (a deposed object and its successor):
            // the engine would call the second a no-op.
            if !changes.iter().any(|c| c.change == mapped.change) {
                changes.push(mapped);
            }
        }
        PlanChanges {
            changes,
            findings: self.findings,
        }
    }

    fn map(&mut self, resource: &Resource, context: &Context) -> Result<(), PlanError> {
        let kind = resource.resource_type.as_str();
        let iam = kind == "vultr_user" || kind.starts_with("vultr_organization");
        if !resource.managed || !iam {
            return Ok(());
        }
        match resource.actions {
            Actions::NoOp | Actions::Read | Actions::Forget => return Ok(()),
            Actions::Unknown => {
                self.finding(
                    resource,
                    None,
                    FindingKind::UnknownActions {
                        actions: resource.action_list.clone(),
                    },
                );
                return Ok(());
            }
            _ => {}
        }
        if let Some(attachment) = attachment(kind) {
            return self.attachment(resource, &attachment, context);
        }
        let entity = match creatable(kind) {
            Some(entity) => entity,
            None => {
                let finding = match NOT_SIMULATED_TYPES.iter().find(|(t, _)| *t == kind) {
                    Some((_, what)) => FindingKind::NotSimulated { what },
                    None => FindingKind::UnknownType {
                        resource_type: kind.to_string(),
                    },
                };
                self.finding(resource, None, finding);
                return Ok(());
            }
        };
        let actions = resource.actions;
        if matches!(actions, Actions::Delete | Actions::Replace) {
            self.delete(resource, entity, false)?;
        }
        if actions.creates() {
            self.create(resource, entity, context)?;
        }
        if actions == Actions::Update {
            match entity {
                EntityKind::User => self.user_update(resource, context)?,
                EntityKind::Role => self.role_update(resource)?,
                EntityKind::Policy => self.policy_update(resource)?,
                EntityKind::Trust => {
                    // The trust keeps its role and principal (those force a replacement); its
                    // type or conditions change: the trust as it was goes, the trust as it
                    // will be comes, under its address.
                    self.delete(resource, entity, false)?;
                    self.create_trust(resource, context)?;
                }
                // Name and description: no access changes.
                _ => {}
            }
        }
        Ok(())
    }

    /// The creation of the entity `after` describes, its id the resource's address; a
    /// user's groups and roles as memberships and attached roles of that id.
    fn create(
        &mut self,
        resource: &Resource,
        entity: EntityKind,
        context: &Context,
    ) -> Result<(), PlanError> {
        let id = resource.address.clone();
        let text = |attribute: &str| match resource.after.id(attribute) {
            Ok(Read::Known(value)) => Some(value),
            _ => None,
        };
        let name = text("name").unwrap_or_else(|| id.clone());
        let change = match entity {
            EntityKind::User => ChangeSpec::CreateUser {
                email: text("email").unwrap_or_default(),
                name: text("name").unwrap_or_default(),
                id: id.clone(),
            },
            EntityKind::Group => ChangeSpec::CreateGroup { id, name },
            EntityKind::Role => ChangeSpec::CreateRole {
                role_type: self.role_type(resource)?,
                id,
                name,
            },
            EntityKind::Policy => ChangeSpec::CreatePolicy {
                policy_document: self.created_document(resource)?,
                id,
                name,
            },
            EntityKind::Trust => return self.create_trust(resource, context),
        };
        self.change(resource, change, false);
        if entity == EntityKind::User {
            for attribute in ["groups", "roles"] {
                self.user_set(resource, context, &resource.address, attribute, true)?;
            }
        }
        Ok(())
    }

    /// A created role's type; an unknown or unread one is a finding, and the role is taken as
    /// assignable (the type that grants standing access).
    fn role_type(&mut self, resource: &Resource) -> Result<RoleType, PlanError> {
        let read = resource.after.id("type")?;
        if let Read::Known(text) = &read {
            match text.to_ascii_lowercase().as_str() {
                "assignable" => return Ok(RoleType::Assignable),
                "assumable" => return Ok(RoleType::Assumable),
                _ => {}
            }
        }
        let kind = match read {
            Read::Sensitive => FindingKind::Sensitive,
            Read::Unknown => FindingKind::Unknown {
                worst_case: 0,
                references: Vec::new(),
            },
            _ => FindingKind::NotSimulated {
                what: "a role type other than assignable or assumable (taken as assignable)",
            },
        };
        self.finding(resource, Some("type"), kind);
        Ok(RoleType::Assignable)
    }

    /// A created policy's document; an unknown or unread one is a finding, and the policy is
    /// created with no statement.
    fn created_document(&mut self, resource: &Resource) -> Result<PolicyDocument, PlanError> {
        let empty = PolicyDocument {
            version: None,
            statement: OneOrMany::Many(Vec::new()),
        };
        let kind = match resource.after.raw("document") {
            Read::Known(value) if resource.after.unknown("document").is_none() => {
                return document(value, &format!("{}.document", resource.after.path));
            }
            Read::Sensitive => FindingKind::Sensitive,
            _ => FindingKind::Unknown {
                worst_case: 0,
                references: Vec::new(),
            },
        };
        self.finding(resource, Some("document"), kind);
        Ok(empty)
    }

    /// The trust `after` describes, created under the resource's address: its role and its
    /// user or group (ids, or placeholders of what the plan creates), its type and its
    /// conditions (`ip_range`, `hour_start`, `hour_end`, `date_expires`, as iamsim reads
    /// them). A role or principal that is not known is a finding, and no trust is created.
    fn create_trust(&mut self, resource: &Resource, context: &Context) -> Result<(), PlanError> {
        let mut ids = Vec::new();
        for attribute in ["role", "user", "group"] {
            let read = resource.after.id(attribute)?;
            ids.push(match self.resolved(resource, attribute, read, context) {
                Some(read) => read,
                None => return Ok(()),
            });
        }
        let [role, user, group] = <[Option<String>; 3]>::try_from(ids).expect("three attributes");
        let Some(role) = role else {
            return Err(shape(
                &format!("{}.role", resource.after.path),
                "a string",
                None,
            ));
        };
        let trust_type = match resource.after.id("type") {
            Ok(Read::Known(t)) => t,
            _ => String::new(),
        };
        if user.is_some() == group.is_some() {
            self.finding(
                resource,
                None,
                FindingKind::NotSimulated {
                    what: "a trust naming no user or group, or both",
                },
            );
            return Ok(());
        }
        let conditions = self.trust_conditions(resource)?;
        let change = ChangeSpec::CreateRoleTrust {
            id: resource.address.clone(),
            role,
            user,
            group,
            trust_type,
            conditions,
            valid_until: None,
        };
        self.change(resource, change, false);
        Ok(())
    }

    /// An id attribute of `after`: its value, the placeholder of the created entity the
    /// configuration refers to when unknown, `Some(None)` when absent; `None` (with a
    /// finding) when neither.
    fn resolved(
        &mut self,
        resource: &Resource,
        attribute: &str,
        read: Read<String>,
        context: &Context,
    ) -> Option<Option<String>> {
        match read {
            Read::Known(id) => Some(Some(id)),
            Read::Absent => Some(None),
            Read::Sensitive => {
                self.finding(resource, Some(attribute), FindingKind::Sensitive);
                None
            }
            Read::Unknown => match placeholders(resource, attribute, context) {
                Some(found) if found.len() == 1 => Some(found.into_iter().next()),
                _ => {
                    let kind = unknown_kind(resource, attribute, context, 0);
                    self.finding(resource, Some(attribute), kind);
                    None
                }
            },
        }
    }

    /// A trust's conditions in the shapes iamsim reads: `ip_range` as `ip_address`,
    /// `hour_start` and `hour_end` as `time_of_day`, `date_expires` as is. An unknown or
    /// sensitive one is a finding, and left out.
    fn trust_conditions(&mut self, resource: &Resource) -> Result<Option<Value>, PlanError> {
        let mut conditions = Map::new();
        let mut hours = Map::new();
        for attribute in ["ip_range", "hour_start", "hour_end", "date_expires"] {
            let value = match resource.after.raw(attribute) {
                Read::Known(value) => value.clone(),
                Read::Absent => continue,
                Read::Sensitive => {
                    self.finding(resource, Some(attribute), FindingKind::Sensitive);
                    continue;
                }
                Read::Unknown => {
                    let kind = FindingKind::Unknown {
                        worst_case: 0,
                        references: Vec::new(),
                    };
                    self.finding(resource, Some(attribute), kind);
                    continue;
                }
            };
            match (attribute, value) {
                ("ip_range", Value::String(s)) if s.is_empty() => {}
                ("ip_range", Value::String(s)) => {
                    conditions.insert("ip_address".into(), Value::Array(vec![Value::String(s)]));
                }
                ("ip_range", list @ Value::Array(_)) => {
                    conditions.insert("ip_address".into(), list);
                }
                ("hour_start" | "hour_end", Value::Number(n)) => {
                    let key = if attribute == "hour_start" {
                        "start"
                    } else {
                        "end"
                    };
                    hours.insert(key.into(), Value::Number(n));
                }
                ("date_expires", Value::String(s)) if s.is_empty() => {}
                ("date_expires", Value::String(s)) => {
                    conditions.insert("date_expires".into(), Value::String(s));
                }
                (_, other) => {
                    let expected = match attribute {
                        "hour_start" | "hour_end" => "a number",
                        _ => "a string",
                    };
                    return Err(shape(
                        &format!("{}.{attribute}", resource.after.path),
                        expected,
                        Some(&other),
                    ));
                }
            }
        }
        if !hours.is_empty() {
            conditions.insert("time_of_day".into(), Value::Object(hours));
        }
        Ok((!conditions.is_empty()).then_some(Value::Object(conditions)))
    }

    /// Deletes the entity `before` describes (a finding instead if its id is sensitive).
    fn delete(
        &mut self,
        resource: &Resource,
        entity: EntityKind,
        worst_case: bool,
    ) -> Result<(), PlanError> {
        let id = match resource.before.id("id")? {
            Read::Known(id) => id,
            Read::Sensitive => {
                self.finding(resource, Some("id"), FindingKind::Sensitive);
                return Ok(());
            }
            Read::Absent | Read::Unknown => {
                return Err(shape(
                    &format!("{}.id", resource.before.path),
                    "a string",
                    None,
                ))
            }
        };
        let change = match entity {
            EntityKind::User => ChangeSpec::RemoveUser { user: id },
            EntityKind::Group => ChangeSpec::DeleteGroup { group: id },
            EntityKind::Role => ChangeSpec::DeleteRole { role: id },
            EntityKind::Policy => ChangeSpec::DeletePolicy { policy: id },
            EntityKind::Trust => ChangeSpec::DeleteRoleTrust { trust: id },
        };
        self.change(resource, change, worst_case);
        Ok(())
    }

    fn attachment(
        &mut self,
        resource: &Resource,
        attachment: &Attachment,
        context: &Context,
    ) -> Result<(), PlanError> {
        let pair = |side: &Side| -> Result<[Read<String>; 2], PlanError> {
            Ok([side.id(attachment.attached)?, side.id(attachment.holder)?])
        };
        let before = match resource.actions {
            Actions::Delete | Actions::Replace | Actions::Update => Some(pair(&resource.before)?),
            _ => None,
        };
        let after = match resource.actions {
            Actions::Create | Actions::Replace | Actions::Update => {
                // An id unknown until apply that refers to an entity the plan creates is its
                // placeholder.
                let [a, h] = pair(&resource.after)?;
                let resolve = |read: Read<String>, attribute: &str| match read {
                    Read::Unknown => match placeholders(resource, attribute, context) {
                        Some(found) if found.len() == 1 => {
                            Read::Known(found.into_iter().next().expect("one"))
                        }
                        _ => Read::Unknown,
                    },
                    read => read,
                };
                Some([
                    resolve(a, attachment.attached),
                    resolve(h, attachment.holder),
                ])
            }
            _ => None,
        };
        let known = |read: &Option<[Read<String>; 2]>| match read {
            Some([Read::Known(a), Read::Known(h)]) => Some((a.clone(), h.clone())),
            _ => None,
        };
        if let (Some(b), Some(a)) = (known(&before), known(&after)) {
            if b == a {
                return Ok(());
            }
        }
        for (read, side, attach) in [
            (before, &resource.before, false),
            (after, &resource.after, true),
        ] {
            let Some([attached, holder]) = read else {
                continue;
            };
            match (attached, holder) {
                (Read::Known(a), Read::Known(h)) => {
                    self.change(resource, (attachment.make)(a, h, attach), false)
                }
                (a, h) => {
                    for (read, attribute) in [(a, attachment.attached), (h, attachment.holder)] {
                        self.unreadable(resource, side, attribute, read, context)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// A finding for an attribute that is not known: sensitive, unknown (from what the plan
    /// creates, or not), or missing (an error).
    fn unreadable<T>(
        &mut self,
        resource: &Resource,
        side: &Side,
        attribute: &str,
        read: Read<T>,
        context: &Context,
    ) -> Result<(), PlanError> {
        let kind = match read {
            Read::Known(_) => return Ok(()),
            Read::Sensitive => FindingKind::Sensitive,
            Read::Unknown => unknown_kind(resource, attribute, context, 0),
            Read::Absent => {
                return Err(shape(
                    &format!("{}.{attribute}", side.path),
                    "a string",
                    None,
                ))
            }
        };
        self.finding(resource, Some(attribute), kind);
        Ok(())
    }

    fn user_update(&mut self, resource: &Resource, context: &Context) -> Result<(), PlanError> {
        let user = match resource.before.id("id")? {
            Read::Known(id) => id,
            _ => {
                return Err(shape(
                    &format!("{}.id", resource.before.path),
                    "a string",
                    None,
                ))
            }
        };
        for attribute in ["groups", "roles"] {
            self.user_set(resource, context, &user, attribute, false)?;
        }
        // Legacy per-user permissions: not modelled by any change kind.
        let acl = (resource.before.raw("acl"), resource.after.raw("acl"));
        let changed = match acl {
            (Read::Known(b), Read::Known(a)) => !same_set(b, a),
            (Read::Absent, Read::Absent) => false,
            (Read::Absent, Read::Known(v)) | (Read::Known(v), Read::Absent) => {
                v.as_array().is_none_or(|a| !a.is_empty())
            }
            _ => true,
        };
        if changed {
            self.finding(
                resource,
                Some("acl"),
                FindingKind::NotSimulated {
                    what: "changes to the user's legacy ACL permissions",
                },
            );
        }
        Ok(())
    }

    /// The set difference of `groups` or `roles` on a user, as changes; for a user the plan
    /// creates (`fresh`), from nothing. Elements unknown until apply that the configuration
    /// refers to as entities the plan creates are their placeholders.
    fn user_set(
        &mut self,
        resource: &Resource,
        context: &Context,
        user: &str,
        attribute: &'static str,
        fresh: bool,
    ) -> Result<(), PlanError> {
        let make = |id: String, add: bool| -> ChangeSpec {
            let user = user.to_string();
            match (attribute, add) {
                ("groups", false) => ChangeSpec::RemoveMember { group: id, user },
                ("groups", true) => ChangeSpec::AddMember { group: id, user },
                (_, false) => ChangeSpec::DetachRole {
                    role: id,
                    user: Some(user),
                    group: None,
                },
                (_, true) => ChangeSpec::AttachRole {
                    role: id,
                    user: Some(user),
                    group: None,
                },
            }
        };
        let before = match resource.before.set(attribute)? {
            _ if fresh => BTreeSet::new(),
            Read::Known((set, _)) => set,
            Read::Sensitive => {
                self.finding(resource, Some(attribute), FindingKind::Sensitive);
                return Ok(());
            }
            Read::Unknown | Read::Absent => BTreeSet::new(),
        };
        let (mut after, mut unknown) = match resource.after.set(attribute)? {
            Read::Known(known) => known,
            Read::Sensitive => {
                self.finding(resource, Some(attribute), FindingKind::Sensitive);
                return Ok(());
            }
            Read::Unknown => (BTreeSet::new(), usize::MAX),
            Read::Absent => (BTreeSet::new(), 0),
        };
        let resolved = (unknown > 0)
            .then(|| placeholders(resource, attribute, context))
            .flatten();
        let was_resolved = resolved.is_some();
        if let Some(found) = resolved {
            // Each unknown element is one created entity the configuration refers to: exact.
            // A wholly unknown set (SDKv2 makes the whole set unknown for one computed
            // element) may also keep literal ids the plan does not show: below, any current
            // member may be gone, as for any unknown set.
            if unknown == found.len() {
                unknown = 0;
            }
            after.extend(found);
        }
        if unknown == 0 {
            for id in before.difference(&after) {
                self.change(resource, make(id.clone(), false), false);
            }
            for id in after.difference(&before) {
                self.change(resource, make(id.clone(), true), false);
            }
            return Ok(());
        }
        // Some of the set is unknown until apply: any current member may be gone. The worst
        // case removes every member the baseline (or else the plan's prior value) shows that
        // the known part of the new set does not keep.
        let current = context
            .baseline
            .and_then(|snapshot| current_members(snapshot, user, attribute))
            .unwrap_or(before);
        let mut worst = 0;
        for id in current.difference(&after) {
            self.change(resource, make(id.clone(), false), true);
            worst += 1;
        }
        for id in after.difference(&current) {
            self.change(resource, make(id.clone(), true), false);
        }
        // Even when every reference resolved (and, for a user the plan creates, nothing now
        // there can go), a wholly unknown set may hold literal ids the plan does not show: a
        // gain nobody can see, so a finding (fail closed).
        let kind = if was_resolved {
            FindingKind::UnknownBesideCreated {
                worst_case: worst,
                references: configured_references(context.configuration, resource, attribute),
            }
        } else {
            unknown_kind(resource, attribute, context, worst)
        };
        self.finding(resource, Some(attribute), kind);
        Ok(())
    }

    fn role_update(&mut self, resource: &Resource) -> Result<(), PlanError> {
        let (before, after) = (resource.before.raw("type"), resource.after.raw("type"));
        let same = matches!((&before, &after), (Read::Known(b), Read::Known(a)) if b == a)
            || matches!((&before, &after), (Read::Absent, Read::Absent));
        if !same {
            self.finding(
                resource,
                Some("type"),
                FindingKind::NotSimulated {
                    what: "a change of the role's type (assignable or assumable)",
                },
            );
        }
        Ok(())
    }

    fn policy_update(&mut self, resource: &Resource) -> Result<(), PlanError> {
        let policy = match resource.before.id("id")? {
            Read::Known(id) => id,
            _ => {
                return Err(shape(
                    &format!("{}.id", resource.before.path),
                    "a string",
                    None,
                ))
            }
        };
        let before = resource.before.raw("document");
        let after = match resource.after.raw("document") {
            Read::Known(after) => after,
            Read::Sensitive => {
                self.finding(resource, Some("document"), FindingKind::Sensitive);
                return Ok(());
            }
            Read::Unknown | Read::Absent => {
                self.finding(
                    resource,
                    Some("document"),
                    FindingKind::Unknown {
                        worst_case: 0,
                        references: Vec::new(),
                    },
                );
                return Ok(());
            }
        };
        if resource.after.unknown("document").is_some() {
            self.finding(
                resource,
                Some("document"),
                FindingKind::Unknown {
                    worst_case: 0,
                    references: Vec::new(),
                },
            );
            return Ok(());
        }
        if let Read::Known(before) = before {
            if before == after {
                return Ok(());
            }
        }
        let document = document(after, &format!("{}.document", resource.after.path))?;
        self.change(
            resource,
            ChangeSpec::ReplacePolicyDocument {
                policy,
                policy_document: document,
            },
            false,
        );
        Ok(())
    }
}

/// Whether two JSON arrays hold the same strings, in any order.
fn same_set(a: &Value, b: &Value) -> bool {
    let set = |v: &Value| -> Option<BTreeSet<String>> {
        v.as_array()?
            .iter()
            .map(|s| s.as_str().map(str::to_string))
            .collect()
    };
    set(a).is_some() && set(a) == set(b)
}

/// The groups a user is in, or the roles attached to them, in the baseline; `None` if the
/// baseline does not know the user.
fn current_members(snapshot: &Snapshot, user: &str, attribute: &str) -> Option<BTreeSet<String>> {
    let found = snapshot.users.iter().find(|u| u.id == user)?;
    Some(if attribute == "groups" {
        snapshot
            .groups
            .iter()
            .filter(|g| g.members.iter().any(|m| m == user))
            .map(|g| g.id.clone())
            .collect()
    } else {
        found.roles.iter().cloned().collect()
    })
}

/// What an unknown attribute is: a reference to something the plan creates, or an unknown
/// value with its references.
fn unknown_kind(
    resource: &Resource,
    attribute: &str,
    context: &Context,
    worst_case: usize,
) -> FindingKind {
    let references = configured_references(context.configuration, resource, attribute);
    let module = module_path(&resource.module);
    // Any instance of the target in any instance of the module.
    let created_in_module = |target: &str| {
        context.created.iter().any(|address| {
            let (path, rest) = split_module(address);
            module_path(path) == module
                && (rest == target || rest.starts_with(&format!("{target}[")))
        })
    };
    let created: Vec<String> = references
        .iter()
        .filter_map(|r| reference_target(r))
        .filter(|target| created_in_module(target))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if created.is_empty() {
        FindingKind::Unknown {
            worst_case,
            references,
        }
    } else {
        FindingKind::CreatedReference {
            references: created,
        }
    }
}

/// The placeholders (addresses) of the entities the plan creates that the configuration gives
/// for a resource's attribute, when every reference is one created instance in the resource's
/// own module instance; `None` otherwise (a variable, `count.index`, a resource not created).
fn placeholders(resource: &Resource, attribute: &str, context: &Context) -> Option<Vec<String>> {
    let references = configured_references(context.configuration, resource, attribute);
    // `x.eng` is listed beside `x.eng["k"]`: the instance says more.
    let narrowest: Vec<&String> = references
        .iter()
        .filter(|r| {
            !references
                .iter()
                .any(|s| s != *r && s.starts_with(r.as_str()) && s[r.len()..].starts_with('['))
        })
        .collect();
    if narrowest.is_empty() {
        return None;
    }
    let mut out = BTreeSet::new();
    for reference in narrowest {
        let target = reference_instance(reference)?;
        let address = if resource.module.is_empty() {
            target
        } else {
            format!("{}.{target}", resource.module)
        };
        if !context.created.contains(&address) {
            return None;
        }
        out.insert(address);
    }
    Some(out.into_iter().collect())
}

/// `type.name` with its instance key, if any, of a reference to a managed resource
/// (`vultr_organization_group.eng["x"].id` is `vultr_organization_group.eng["x"]`).
fn reference_instance(reference: &str) -> Option<String> {
    let target = reference_target(reference)?;
    let rest = &reference[target.len()..];
    if !rest.starts_with('[') {
        return Some(target);
    }
    let mut quoted = false;
    for (i, c) in rest.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ']' if !quoted => return Some(format!("{target}{}", &rest[..=i])),
            _ => {}
        }
    }
    None
}

/// The entity kind of a resource type that creates one, if it does.
fn creatable(resource_type: &str) -> Option<EntityKind> {
    Some(match resource_type {
        "vultr_user" => EntityKind::User,
        "vultr_organization_group" => EntityKind::Group,
        "vultr_organization_role" => EntityKind::Role,
        "vultr_organization_policy" => EntityKind::Policy,
        "vultr_organization_role_trust" => EntityKind::Trust,
        _ => return None,
    })
}

/// `type.name` of a reference to a managed resource (`vultr_organization_group.eng.id`,
/// `vultr_organization_group.eng["x"]`), or `None` for others (`var.x`, `module.m.out`,
/// `data.x.y`).
fn reference_target(reference: &str) -> Option<String> {
    let (kind, rest) = reference.split_once('.')?;
    if matches!(
        kind,
        "var" | "local" | "module" | "data" | "each" | "count" | "path" | "terraform" | "self"
    ) {
        return None;
    }
    let name: String = rest
        .chars()
        .take_while(|c| *c != '.' && *c != '[')
        .collect();
    (!name.is_empty()).then(|| format!("{kind}.{name}"))
}

/// An address split into its module address and the rest (`type.name[key]`).
fn split_module(address: &str) -> (&str, &str) {
    let mut rest = address;
    let mut at = 0;
    while let Some(after) = rest.strip_prefix("module.") {
        let mut quoted = false;
        let mut end = after.len();
        for (i, c) in after.char_indices() {
            match c {
                '"' => quoted = !quoted,
                '.' if !quoted => {
                    end = i;
                    break;
                }
                _ => {}
            }
        }
        let step = "module.".len() + end + 1;
        if step > rest.len() {
            break;
        }
        at += step;
        rest = &address[at..];
    }
    if at == 0 {
        ("", address)
    } else {
        (&address[..at - 1], rest)
    }
}

/// The module path of a `module_address` without instance keys: `module.a[0].module.b["x"]`
/// is `a.b`.
fn module_path(module_address: &str) -> String {
    let mut names = Vec::new();
    let mut rest = module_address;
    while let Some(after) = rest.strip_prefix("module.") {
        let name: String = after
            .chars()
            .take_while(|c| *c != '.' && *c != '[')
            .collect();
        rest = &after[name.len()..];
        // Skip an instance key, which may hold dots inside its quotes.
        if rest.starts_with('[') {
            let mut quoted = false;
            let mut end = rest.len();
            for (i, c) in rest.char_indices() {
                match c {
                    '"' => quoted = !quoted,
                    ']' if !quoted => {
                        end = i + 1;
                        break;
                    }
                    _ => {}
                }
            }
            rest = &rest[end..];
        }
        rest = rest.strip_prefix('.').unwrap_or(rest);
        names.push(name);
    }
    names.join(".")
}

/// The references the configuration gives for a resource's attribute (`configuration`, down
/// `module_calls` to the resource's module, the resource by `type.name`, its `expressions`).
fn configured_references(
    configuration: Option<&Value>,
    resource: &Resource,
    attribute: &str,
) -> Vec<String> {
    let mut module = configuration.and_then(|c| c.get("root_module"));
    let path = module_path(&resource.module);
    for name in path.split('.').filter(|n| !n.is_empty()) {
        module = module
            .and_then(|m| m.get("module_calls"))
            .and_then(|calls| calls.get(name))
            .and_then(|call| call.get("module"));
    }
    let address = resource.type_name();
    let references = module
        .and_then(|m| m.get("resources"))
        .and_then(Value::as_array)
        .and_then(|list| {
            list.iter()
                .find(|r| r.get("address").and_then(Value::as_str) == Some(&address))
        })
        .and_then(|r| r.get("expressions"))
        .and_then(|e| e.get(attribute))
        .and_then(|e| e.get("references"))
        .and_then(Value::as_array);
    let mut out: Vec<String> = references
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect();
    // Terraform lists `x.eng.id` and `x.eng`: the shorter says it all.
    let all = out.clone();
    out.retain(|r| {
        !all.iter()
            .any(|s| s != r && r.starts_with(&format!("{s}.")))
    });
    out.sort();
    out.dedup();
    out
}

/// A policy document as the provider writes it (`document`: a one-item set of `{version,
/// statement: [{effect, actions, resources}]}`), as a snapshot writes it.
fn document(value: &Value, path: &str) -> Result<PolicyDocument, PlanError> {
    let items = match value {
        Value::Array(items) if items.len() == 1 => items,
        other => return Err(shape(path, "an array of one document", Some(other))),
    };
    let path = format!("{path}[0]");
    let fields = object(&items[0], &path)?;
    let version = match fields.get("version") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        other => return Err(shape(&format!("{path}.version"), "a string", other)),
    };
    let statements = match fields.get("statement") {
        Some(Value::Array(list)) => list,
        other => return Err(shape(&format!("{path}.statement"), "an array", other)),
    };
    let statements = statements
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let path = format!("{path}.statement[{i}]");
            let fields = object(s, &path)?;
            let strings = |key: &str| -> Result<Vec<String>, PlanError> {
                let path = format!("{path}.{key}");
                match fields.get(key) {
                    Some(Value::Array(list)) => list
                        .iter()
                        .enumerate()
                        .map(|(j, v)| match v {
                            Value::String(s) => Ok(s.clone()),
                            other => Err(shape(&format!("{path}[{j}]"), "a string", Some(other))),
                        })
                        .collect(),
                    other => Err(shape(&path, "an array of strings", other)),
                }
            };
            let effect = match fields.get("effect") {
                Some(Value::String(s)) => s.clone(),
                other => return Err(shape(&format!("{path}.effect"), "a string", other)),
            };
            Ok(Statement {
                sid: None,
                effect,
                action: OneOrMany::Many(strings("actions")?),
                resource: OneOrMany::Many(strings("resources")?),
            })
        })
        .collect::<Result<Vec<_>, PlanError>>()?;
    Ok(PolicyDocument {
        version,
        statement: OneOrMany::Many(statements),
    })
}

fn object<'a>(value: &'a Value, path: &str) -> Result<&'a Map<String, Value>, PlanError> {
    match value {
        Value::Object(map) => Ok(map),
        other => Err(shape(path, "an object", Some(other))),
    }
}

fn shape(path: &str, expected: &'static str, found: Option<&Value>) -> PlanError {
    PlanError::Shape {
        path: path.to_string(),
        expected,
        found: match found {
            None => "nothing",
            Some(Value::Null) => "null",
            Some(Value::Bool(_)) => "a boolean",
            Some(Value::Number(_)) => "a number",
            Some(Value::String(_)) => "a string",
            Some(Value::Array(_)) => "an array",
            Some(Value::Object(_)) => "an object",
        },
    }
}

/// A finding's note of the worst case mapped in an unknown value's place.
fn worst_case_mapped(f: &mut fmt::Formatter<'_>, removals: usize) -> fmt::Result {
    write!(
        f,
        "; worst case mapped: {removals} removal(s) of what is there now"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A plan holding these resource changes (and configuration, if given).
    fn plan(resources: Value, configuration: Value) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "format_version": "1.2",
            "terraform_version": "1.9.5",
            "resource_changes": resources,
            "configuration": configuration,
            "some_future_key": {"ignored": true},
        }))
        .unwrap()
    }

    /// One resource change.
    fn rc(address: &str, actions: &[&str], before: Value, after: Value, unknown: Value) -> Value {
        let (path, name) = address.rsplit_once('.').unwrap();
        let kind = path.rsplit('.').next().unwrap();
        let module = path.rsplit_once('.').map(|(m, _)| m);
        let mut value = json!({
            "address": address, "mode": "managed", "type": kind,
            "name": name.split('[').next().unwrap(),
            "provider_name": "registry.terraform.io/vultr/vultr",
            "change": {"actions": actions, "before": before, "after": after,
                       "after_unknown": unknown, "before_sensitive": false, "after_sensitive": {}}
        });
        if let Some(module) = module {
            value["module_address"] = json!(module);
        }
        value
    }

    /// Maps `resources` and compares the change file (as JSON) and the findings (as text).
    fn check(resources: Value, expected: Value, findings: &[&str]) {
        check_with(resources, json!(null), None, expected, findings);
    }

    fn check_with(
        resources: Value,
        configuration: Value,
        baseline: Option<&Snapshot>,
        expected: Value,
        findings: &[&str],
    ) {
        let mapped = plan_changes(&plan(resources, configuration), baseline).unwrap();
        assert_eq!(serde_json::to_value(mapped.specs()).unwrap(), expected);
        let text: Vec<String> = mapped.findings.iter().map(|f| f.to_string()).collect();
        assert_eq!(text, findings);
    }

    #[test]
    fn user_sets_map_to_memberships_and_roles() {
        check(
            json!([rc(
                "vultr_user.ana",
                &["update"],
                json!({"id": "u-ana", "password": "s3cret", "groups": ["g-devops", "g-billing"], "roles": ["r-viewer"]}),
                json!({"id": "u-ana", "password": "s3cret", "groups": ["g-billing", "g-contractors"], "roles": []}),
                json!({"groups": [false, false], "roles": []}),
            )]),
            json!([
                {"kind": "remove_member", "group": "g-devops", "user": "u-ana"},
                {"kind": "detach_role", "role": "r-viewer", "user": "u-ana"},
                {"kind": "add_member", "group": "g-contractors", "user": "u-ana"},
            ]),
            &[],
        );
    }

    #[test]
    fn attachments_create_delete_and_replace() {
        let policy_group = |a: &[&str], b: Value, c: Value| {
            rc(
                "vultr_organization_policy_group_attachment.x",
                a,
                b,
                c,
                json!({}),
            )
        };
        let pg =
            |p: &str, g: &str| json!({"id": format!("{p}_{g}"), "policy_id": p, "group_id": g});
        for replace in [["delete", "create"], ["create", "delete"]] {
            check(
                json!([policy_group(&replace, pg("p-a", "g-1"), pg("p-b", "g-1"))]),
                json!([
                    {"kind": "detach_policy", "policy": "p-a", "group": "g-1"},
                    {"kind": "attach_policy", "policy": "p-b", "group": "g-1"},
                ]),
                &[],
            );
        }
        check(
            json!([
                policy_group(&["create"], json!(null), pg("p-a", "g-1")),
                rc(
                    "vultr_organization_policy_user_attachment.u",
                    &["delete"],
                    json!({"policy_id": "p-a", "user_id": "u-1"}),
                    json!(null),
                    json!(null)
                ),
                rc(
                    "vultr_organization_role_group_attachment.r",
                    &["create"],
                    json!(null),
                    json!({"role_id": "r-1", "group_id": "g-1"}),
                    json!({"id": true})
                ),
                rc(
                    "vultr_organization_role_policy_attachment.r",
                    &["delete"],
                    json!({"role_id": "r-1", "policy_id": "p-a"}),
                    json!(null),
                    json!(null)
                ),
                policy_group(&["no-op"], pg("p-z", "g-z"), pg("p-z", "g-z")),
                policy_group(&["read"], json!(null), pg("p-z", "g-z")),
                policy_group(&["forget"], pg("p-z", "g-z"), json!(null)),
            ]),
            json!([
                {"kind": "detach_policy", "policy": "p-a", "user": "u-1"},
                {"kind": "detach_policy", "policy": "p-a", "role": "r-1"},
                {"kind": "attach_policy", "policy": "p-a", "group": "g-1"},
                {"kind": "attach_role", "role": "r-1", "group": "g-1"},
            ]),
            &[],
        );
    }

    #[test]
    fn entities_deleted_created_and_updated() {
        let doc = |effect: &str| {
            json!([{"version": "2026-03-20", "statement": [
                {"effect": effect, "actions": ["compute.*"], "resources": ["*"]}]}])
        };
        check(
            json!([
                rc("vultr_organization_group.old", &["delete"], json!({"id": "g-1", "name": "Old"}), json!(null), json!(null)),
                rc("vultr_organization_group.new", &["create"], json!(null), json!({"name": "New"}), json!({"id": true})),
                rc("vultr_organization_group.renamed", &["update"], json!({"id": "g-2", "name": "A"}), json!({"id": "g-2", "name": "B"}), json!({})),
                rc("vultr_organization_role.r", &["delete", "create"], json!({"id": "r-1", "type": "assignable"}), json!({"type": "assignable"}), json!({"id": true})),
                rc("vultr_organization_role.t", &["update"], json!({"id": "r-2", "type": "assignable"}), json!({"id": "r-2", "type": "assumable"}), json!({})),
                rc("vultr_organization_policy.p", &["update"],
                   json!({"id": "p-1", "name": "a", "document": doc("Allow")}),
                   json!({"id": "p-1", "name": "a", "document": doc("Deny")}), json!({})),
                rc("vultr_organization_policy.q", &["update"],
                   json!({"id": "p-2", "name": "a", "document": doc("Allow")}),
                   json!({"id": "p-2", "name": "b", "document": doc("Allow")}), json!({})),
                rc("vultr_organization_policy.gone", &["delete"], json!({"id": "p-3"}), json!(null), json!(null)),
                rc("vultr_organization_role_trust.t", &["update"],
                   json!({"id": "t-1", "role": "r-2", "user": "u-1", "hour_start": 9, "hour_end": 17}),
                   json!({"id": "t-1", "role": "r-2", "user": "u-1", "hour_start": 8, "hour_end": 17, "ip_range": "10.0.0.0/8"}), json!({})),
                rc("vultr_organization_role_trust.n", &["create"], json!(null),
                   json!({"role": "r-1", "group": "g-1", "type": "TemporaryAssumption", "date_expires": "2027-01-01T00:00:00Z"}),
                   json!({"id": true})),
                rc("vultr_organization_role_trust.o", &["create"], json!(null), json!({"role": "r-1"}), json!({"id": true})),
                rc("vultr_user.gone", &["delete"], json!({"id": "u-9", "password": "x"}), json!(null), json!(null)),
                rc("vultr_user.svc", &["delete", "create"], json!({"id": "u-8"}), json!({"service_user": true}), json!({"id": true})),
                rc("vultr_organization_invitation.i", &["create"], json!(null), json!({"email": "x"}), json!({})),
                rc("vultr_organization_frobnicator.f", &["create"], json!(null), json!({}), json!({})),
                rc("vultr_instance.web", &["delete"], json!({"id": "i-1"}), json!(null), json!(null)),
            ]),
            json!([
                {"kind": "create_group", "id": "vultr_organization_group.new", "name": "New"},
                {"kind": "create_role", "id": "vultr_organization_role.r",
                 "name": "vultr_organization_role.r", "role_type": "assignable"},
                {"kind": "create_user", "id": "vultr_user.svc", "email": ""},
                {"kind": "create_role_trust", "id": "vultr_organization_role_trust.t", "role": "r-2",
                 "user": "u-1", "conditions": {"ip_address": ["10.0.0.0/8"], "time_of_day": {"start": 8, "end": 17}}},
                {"kind": "create_role_trust", "id": "vultr_organization_role_trust.n", "role": "r-1",
                 "group": "g-1", "trust_type": "TemporaryAssumption",
                 "conditions": {"date_expires": "2027-01-01T00:00:00Z"}},
                {"kind": "replace_policy_document", "policy": "p-1", "policy_document":
                    {"Version": "2026-03-20", "Statement": [{"Effect": "Deny", "Action": ["compute.*"], "Resource": ["*"]}]}},
                {"kind": "delete_role_trust", "trust": "t-1"},
                {"kind": "delete_policy", "policy": "p-3"},
                {"kind": "delete_role", "role": "r-1"},
                {"kind": "delete_group", "group": "g-1"},
                {"kind": "remove_user", "user": "u-9"},
                {"kind": "remove_user", "user": "u-8"},
            ]),
            &[
                "vultr_organization_role.t.type: a change of the role's type (assignable or assumable): not simulated",
                "vultr_organization_role_trust.o: a trust naming no user or group, or both: not simulated",
                "vultr_organization_invitation.i: invitations of users to the organization: not simulated",
                "vultr_organization_frobnicator.f: resource type `vultr_organization_frobnicator` is not known to iamsim: not simulated",
            ],
        );
    }

    #[test]
    fn unknown_sets_give_the_worst_case_and_name_created_references() {
        let configuration = json!({"root_module": {}, "module_calls": {}});
        let configuration = json!({"root_module": {"module_calls": {"iam": {"module": {"resources": [
            {"address": "vultr_user.ana", "expressions": {"groups": {"references": [
                "vultr_organization_group.eng.id", "vultr_organization_group.eng", "var.extra"]}}}
        ]}}}}, "unused": configuration});
        let user = rc(
            "module.iam[0].vultr_user.ana",
            &["update"],
            json!({"id": "u-ana", "groups": ["g-devops", "g-billing"]}),
            json!({"id": "u-ana"}),
            json!({"groups": true}),
        );
        let created = rc(
            "module.iam[0].vultr_organization_group.eng",
            &["create"],
            json!(null),
            json!({"name": "Eng"}),
            json!({"id": true}),
        );
        // Without a baseline, the plan's prior value gives the worst case.
        check_with(
            json!([user.clone(), created.clone()]),
            configuration.clone(),
            None,
            json!([
                {"kind": "create_group", "id": "module.iam[0].vultr_organization_group.eng", "name": "Eng"},
                {"kind": "remove_member", "group": "g-billing", "user": "u-ana"},
                {"kind": "remove_member", "group": "g-devops", "user": "u-ana"},
            ]),
            &[
                "module.iam[0].vultr_user.ana.groups: refers to what this plan creates (`vultr_organization_group.eng`), but not to one created instance: unknown until apply",
            ],
        );
        // With one, its memberships do; and without the creation, the finding is an unknown.
        let snapshot = Snapshot::from_json_str(
            r#"{"format": "iamsim.snapshot.v1", "organization": {"id": "o"},
                "users": [{"id": "u-ana", "email": "a@x"}],
                "groups": [{"id": "g-ops", "display_name": "Ops", "members": ["u-ana"]}],
                "roles": [], "policies": []}"#,
        )
        .unwrap();
        let mapped = plan_changes(&plan(json!([user]), configuration), Some(&snapshot)).unwrap();
        assert_eq!(
            mapped.changes,
            [MappedChange {
                address: "module.iam[0].vultr_user.ana".into(),
                change: ChangeSpec::RemoveMember {
                    group: "g-ops".into(),
                    user: "u-ana".into()
                },
                worst_case: true,
            }]
        );
        assert_eq!(
            mapped.findings[0].to_string(),
            "module.iam[0].vultr_user.ana.groups: unknown until apply (from `var.extra`, `vultr_organization_group.eng`); worst case mapped: 1 removal(s) of what is there now"
        );
        assert!(mapped.hides_changes());
    }

    #[test]
    fn unknown_elements_and_attachments_to_created_entities() {
        check(
            json!([
                rc("vultr_user.ana", &["update"],
                   json!({"id": "u-ana", "groups": ["g-1", "g-2"]}),
                   json!({"id": "u-ana", "groups": ["g-1", null]}),
                   json!({"groups": [false, true]})),
                rc("vultr_organization_policy_group_attachment.x", &["create"],
                   json!(null), json!({"group_id": "g-1"}), json!({"policy_id": true})),
            ]),
            json!([{"kind": "remove_member", "group": "g-2", "user": "u-ana"}]),
            &[
                "vultr_user.ana.groups: unknown until apply; worst case mapped: 1 removal(s) of what is there now",
                "vultr_organization_policy_group_attachment.x.policy_id: unknown until apply; not simulated",
            ],
        );
    }

    #[test]
    fn references_to_created_entities_are_their_placeholders() {
        let refs = |attr: &str, to: &[&str]| json!({attr: {"references": to}});
        let configuration = json!({"root_module": {"resources": [
            {"address": "vultr_user.eve", "expressions":
                refs("groups", &["vultr_organization_group.eng.id", "vultr_organization_group.eng"])},
            {"address": "vultr_user.ana", "expressions":
                refs("groups", &["vultr_organization_group.eng.id", "vultr_organization_group.eng"])},
            {"address": "vultr_organization_policy_group_attachment.eng", "expressions":
                refs("policy_id", &["vultr_organization_policy.eng.id", "vultr_organization_policy.eng"])},
            {"address": "vultr_organization_role_trust.eve", "expressions":
                refs("user", &["vultr_user.eve.id", "vultr_user.eve"])},
            {"address": "vultr_organization_policy_group_attachment.each", "expressions":
                refs("group_id", &["vultr_organization_group.many", "each.key"])},
            {"address": "vultr_organization_policy_group_attachment.one", "expressions":
                refs("group_id", &["vultr_organization_group.many[\"a\"].id",
                                   "vultr_organization_group.many[\"a\"]", "vultr_organization_group.many"])},
        ]}});
        let doc = json!([{"version": "1", "statement": [
            {"effect": "Allow", "actions": ["compute.*"], "resources": ["*"]}]}]);
        check_with(
            json!([
                rc("vultr_organization_group.eng", &["create"], json!(null), json!({"name": "Eng"}), json!({"id": true})),
                rc("vultr_organization_group.many[\"a\"]", &["create"], json!(null), json!({"name": "A"}), json!({"id": true})),
                rc("vultr_organization_policy.eng", &["create"], json!(null),
                   json!({"name": "eng", "document": doc}), json!({"id": true})),
                rc("vultr_organization_policy_group_attachment.eng", &["create"], json!(null),
                   json!({"group_id": "g-1"}), json!({"id": true, "policy_id": true})),
                rc("vultr_organization_policy_group_attachment.each", &["create"], json!(null),
                   json!({"policy_id": "p-1"}), json!({"id": true, "group_id": true})),
                rc("vultr_organization_policy_group_attachment.one", &["create"], json!(null),
                   json!({"policy_id": "p-1"}), json!({"id": true, "group_id": true})),
                rc("vultr_user.eve", &["create"], json!(null),
                   json!({"email": "eve@x", "password": "hunter2", "roles": ["r-1"]}),
                   json!({"id": true, "groups": true, "api_key": true})),
                rc("vultr_user.ana", &["update"], json!({"id": "u-ana", "groups": []}),
                   json!({"id": "u-ana"}), json!({"groups": true})),
                rc("vultr_organization_role_trust.eve", &["create"], json!(null),
                   json!({"role": "r-deploy", "type": "IAMAssumption"}), json!({"id": true, "user": true})),
            ]),
            configuration,
            None,
            json!([
                {"kind": "create_group", "id": "vultr_organization_group.eng", "name": "Eng"},
                {"kind": "create_group", "id": "vultr_organization_group.many[\"a\"]", "name": "A"},
                {"kind": "create_policy", "id": "vultr_organization_policy.eng", "name": "eng",
                 "policy_document": {"Version": "1", "Statement": [
                    {"Effect": "Allow", "Action": ["compute.*"], "Resource": ["*"]}]}},
                {"kind": "create_user", "id": "vultr_user.eve", "email": "eve@x"},
                {"kind": "create_role_trust", "id": "vultr_organization_role_trust.eve",
                 "role": "r-deploy", "user": "vultr_user.eve", "trust_type": "IAMAssumption"},
                {"kind": "attach_policy", "policy": "vultr_organization_policy.eng", "group": "g-1"},
                {"kind": "attach_policy", "policy": "p-1", "group": "vultr_organization_group.many[\"a\"]"},
                {"kind": "add_member", "group": "vultr_organization_group.eng", "user": "vultr_user.eve"},
                {"kind": "attach_role", "role": "r-1", "user": "vultr_user.eve"},
                {"kind": "add_member", "group": "vultr_organization_group.eng", "user": "u-ana"},
            ]),
            &[
                "vultr_organization_policy_group_attachment.each.group_id: refers to what this plan creates (`vultr_organization_group.many`), but not to one created instance: unknown until apply",
                // Wholly unknown sets: literal ids beside the references would not show, so
                // each fails closed even with nothing there now to lose.
                "vultr_user.eve.groups: unknown until apply: its references (`vultr_organization_group.eng`) are simulated as what this plan creates, but literal ids beside them would not show in the plan",
                "vultr_user.ana.groups: unknown until apply: its references (`vultr_organization_group.eng`) are simulated as what this plan creates, but literal ids beside them would not show in the plan",
            ],
        );
    }

    #[test]
    fn sensitive_and_plan_level_findings() {
        let mut resource = rc(
            "vultr_user.ana",
            &["update"],
            json!({"id": "u-ana", "groups": ["g-1"]}),
            json!({"id": "u-ana", "groups": []}),
            json!({}),
        );
        resource["change"]["after_sensitive"] = json!({"groups": [], "password": true});
        resource["change"]["before_sensitive"] = json!({"groups": true});
        let mut bytes: Value =
            serde_json::from_slice(&plan(json!([resource]), json!(null))).unwrap();
        bytes["complete"] = json!(false);
        bytes["errored"] = json!(true);
        let mapped = plan_changes(&serde_json::to_vec(&bytes).unwrap(), None).unwrap();
        assert!(mapped.changes.is_empty());
        let text: Vec<String> = mapped.findings.iter().map(|f| f.to_string()).collect();
        assert_eq!(
            text,
            [
                "plan: `complete` is false: applying this plan does not finish the change, so later plans may change more",
                "plan: `errored` is true: planning failed and the plan may be partial",
                "vultr_user.ana.groups: marked sensitive: not read, not simulated",
            ]
        );
    }

    #[test]
    fn malformed_plans_name_the_path_and_never_a_value() {
        let secret = "hunter2-SECRET";
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (b"\xff".to_vec(), "invalid UTF-8 at byte offset 0"),
            (b"{".to_vec(), "EOF while parsing an object at line 1 column 1"),
            (br#"{"format_version": "2.0", "resource_changes": []}"#.to_vec(),
             "format_version: unsupported plan format version `2.0` (expected 1.x)"),
            (br#"{"format_version": 1}"#.to_vec(), "format_version: expected a string, found a number"),
            (br#"{"format_version": "1.0", "values": {}}"#.to_vec(),
             "not a plan: no `resource_changes` or `planned_values` (give the output of `terraform show -json PLANFILE`)"),
            (plan(json!([rc("vultr_user.a", &["update"],
                json!({"id": "u", "password": secret, "groups": [secret, 5]}),
                json!({"id": "u", "groups": []}), json!({}))]), json!(null)),
             "resource_changes[0].change.before.groups[1]: expected a string, found a number"),
            (plan(json!([rc("vultr_user.a", &["update"],
                json!({"id": "u", "groups": secret}), json!({"id": "u"}), json!({}))]), json!(null)),
             "resource_changes[0].change.before.groups: expected an array of strings, found a string"),
            (plan(json!([{"address": "x.y", "type": "x", "name": "y", "change": {"actions": "update"}}]), json!(null)),
             "resource_changes[0].change.actions: expected an array of strings, found a string"),
            (plan(json!([rc("vultr_organization_policy.p", &["update"],
                json!({"id": "p"}), json!({"id": "p", "document": [{"statement": [{"effect": secret, "actions": [secret], "resources": 1}]}]}), json!({}))]), json!(null)),
             "resource_changes[0].change.after.document[0].statement[0].resources: expected an array of strings, found a number"),
            (plan(json!([rc("vultr_organization_group.g", &["delete"], json!({"name": secret}), json!(null), json!(null))]), json!(null)),
             "resource_changes[0].change.before.id: expected a string, found nothing"),
        ];
        for (bytes, expected) in cases {
            let err = plan_changes(&bytes, None).unwrap_err().to_string();
            assert_eq!(err, expected);
            assert!(!err.contains(secret));
        }
    }

    #[test]
    fn module_paths_and_references() {
        for (address, path) in [
            ("", ""),
            ("module.iam", "iam"),
            ("module.iam[0].module.users[\"a.b]\"]", "iam.users"),
        ] {
            assert_eq!(module_path(address), path);
        }
        for (reference, target) in [
            (
                "vultr_organization_group.eng.id",
                Some("vultr_organization_group.eng"),
            ),
            (
                "vultr_organization_group.eng[\"x\"].id",
                Some("vultr_organization_group.eng"),
            ),
            ("var.groups", None),
            ("module.m.out", None),
            ("data.vultr_organization_group.g.id", None),
        ] {
            assert_eq!(reference_target(reference).as_deref(), target);
        }
    }
}
