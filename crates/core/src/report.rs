//! The results: plain serializable values, the library's answer and the CLI's `--format json`.
//!
//! Every list is sorted, so the same organization gives the same bytes. The JSON shape is
//! versioned by [`SCHEMA_VERSION`]; `docs/output-format.md` documents it.

use std::collections::HashMap;
use std::fmt;
use std::ops::Index;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::idx::Idx;

#[cfg(feature = "schema")]
mod schema;
#[cfg(feature = "schema")]
pub use schema::output_schema;

/// Version of the JSON shapes below. Bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 5;

/// The kind of a step in a path.
///
/// The variant order is the order paths sort in: direct policies first, then roles, then groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum StepKind {
    /// The user the path starts from.
    User,
    /// The organization, whose root user has unconditional access.
    Organization,
    /// A policy.
    Policy,
    /// A role.
    Role,
    /// A group.
    Group,
    /// A statement of the policy before it.
    Statement,
}

/// One step of a path: an entity, or a statement by its index.
///
/// In JSON, `{"kind": "group", "id": "g-1", "name": "DevOps"}` or
/// `{"kind": "statement", "index": 0}`. The variant order is the order paths sort in (that of
/// [`StepKind`]). Ids and names are shared (`Arc<str>`): the same entity appears in many paths,
/// and a path costs no string copies.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Step {
    /// The user the path starts from.
    User {
        /// The user's id.
        id: Arc<str>,
        /// The user's email.
        name: Arc<str>,
    },
    /// The organization, whose root user has unconditional access.
    Organization {
        /// The organization's id.
        id: Arc<str>,
        /// Its name.
        name: Arc<str>,
    },
    /// A policy.
    Policy {
        /// The policy's id.
        id: Arc<str>,
        /// Its name.
        name: Arc<str>,
    },
    /// A role.
    Role {
        /// The role's id.
        id: Arc<str>,
        /// Its name.
        name: Arc<str>,
    },
    /// A group.
    Group {
        /// The group's id.
        id: Arc<str>,
        /// Its display name.
        name: Arc<str>,
    },
    /// A statement of the policy before it.
    Statement {
        /// The statement's index in its policy document.
        index: u32,
    },
}

/// A chain of steps from a user to the statement that decides: user → (group) → (role) → policy →
/// statement.
pub type Path = Vec<Step>;

/// One step as the table names it: `group DevOps`, `policy compute-admin`, `#0`.
impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::User { name, .. } => write!(f, "user {name}"),
            Step::Organization { name, .. } => write!(f, "root of organization {name}"),
            Step::Group { name, .. } => write!(f, "group {name}"),
            Step::Role { name, .. } => write!(f, "role {name}"),
            Step::Policy { name, .. } => write!(f, "policy {name}"),
            Step::Statement { index } => write!(f, "#{index}"),
        }
    }
}

/// Steps as the table prints them, `group DevOps > policy compute-admin #0` (a statement
/// follows its policy after a space); no step at all reads `a trust naming the user`.
#[derive(Debug, Clone, Copy)]
pub struct StepsText<'a>(pub &'a [Step]);

impl fmt::Display for StepsText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("a trust naming the user");
        }
        for (i, step) in self.0.iter().enumerate() {
            match (i, step) {
                (0, _) => {}
                (_, Step::Statement { .. }) => f.write_str(" ")?,
                _ => f.write_str(" > ")?,
            }
            write!(f, "{step}")?;
        }
        Ok(())
    }
}

/// A path as the table prints it, from the step after the user:
/// `group DevOps > policy compute-admin #0`.
///
/// ```
/// use std::sync::Arc;
/// use iamsim_core::report::{path_text, Step, StepKind};
/// let step = |kind, id, name| Step::entity(kind, id, name).expect("an entity kind");
/// let path = vec![
///     Step::user("u-ana", "ana@example.com"),
///     step(StepKind::Group, "g-devops", "DevOps"),
///     step(StepKind::Policy, "p-compute", "compute-admin"),
///     Step::statement(0),
/// ];
/// assert_eq!(path_text(&path).to_string(), "group DevOps > policy compute-admin #0");
/// ```
pub fn path_text(path: &[Step]) -> StepsText<'_> {
    StepsText(path.get(1..).unwrap_or_default())
}

/// One (action, resource) with every path behind its decision.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Entry {
    /// A concrete action, or a wildcard standing for the actions it covers that the catalogue
    /// does not name.
    pub action: String,
    /// `*` (any resource not listed separately), `type:*`, or one resource id.
    pub resource: String,
    /// Every path, sorted.
    pub via: Vec<Path>,
}

/// Who a result is about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct UserSummary {
    /// Vultr's user id.
    pub id: Arc<str>,
    /// Login email.
    pub email: Arc<str>,
    /// Display name.
    pub name: Arc<str>,
    /// A service user.
    pub service_user: bool,
    /// Suspended: no access at all.
    pub suspended: bool,
    /// The organization's root user: unconditional access.
    pub root: bool,
    /// Legacy ACLs the user holds (`users[].acls` of the snapshot), sorted. Vultr enforces
    /// them alongside IAM, so they give access that no IAM change touches, and
    /// [`ROOT_EQUIVALENT_ACL`](crate::model::ROOT_EQUIVALENT_ACL) is documented as equivalent
    /// to the root user. iamsim's decisions stay IAM's own: these say what lies outside them.
    /// Left out of JSON when empty (none held, or not known).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub legacy_acls: Vec<String>,
    /// The statements with keys iamsim does not evaluate (such as `Condition`) that touch this
    /// answer: those of the policies giving the user standing access, and in `explain` and
    /// `who-can` only those covering the action and resource asked about. The answer is
    /// conditional on them: an Allow counted as not applying may apply, a Deny counted as
    /// applying may not. Sorted by policy and statement; left out of JSON when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditional: Vec<Conditional>,
}

/// A policy statement with keys iamsim does not evaluate (such as `Condition`), as
/// `iamsim vultr fetch` records it in `crawl.unevaluated_statements`, and how answers read it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Conditional {
    /// The policy holding it.
    pub policy: EntityRef,
    /// Its index in the document as Vultr sent it.
    pub statement: u32,
    /// Its index in the snapshot's document, the one paths name: a Deny, kept as if
    /// unconditional. `null` for an Allow, left out of the document.
    pub index: Option<u32>,
    /// `Allow` (counted as not applying: it may allow more) or `Deny` (counted as applying: it
    /// may deny less).
    pub effect: String,
    /// The keys iamsim does not evaluate, sorted.
    pub keys: Vec<String>,
}

impl Conditional {
    /// What the statement means for the answer, in one sentence.
    pub fn note(&self) -> String {
        let keys = acl_list(&self.keys);
        let name = if self.policy.name == self.policy.id {
            format!("`{}`", self.policy.id)
        } else {
            format!("`{}` ({})", self.policy.name, self.policy.id)
        };
        match self.index {
            Some(index) if self.effect == "Deny" => format!(
                "conditional: policy {name} statement {} (#{index} here) is a Deny with {keys}, which iamsim does not evaluate: counted as applying, though it may not",
                self.statement
            ),
            _ => format!(
                "conditional: policy {name} statement {} is an {} with {keys}, which iamsim does not evaluate: counted as not applying, though it may",
                self.statement, self.effect
            ),
        }
    }
}

impl UserSummary {
    /// Whether a legacy ACL (`manage_users`) makes the user equivalent to the root user,
    /// whatever IAM says.
    pub fn root_by_acl(&self) -> bool {
        self.legacy_acls
            .iter()
            .any(|a| a == crate::model::ROOT_EQUIVALENT_ACL)
    }

    /// What the user's legacy ACLs mean for any answer about them, in one sentence; `None`
    /// when they hold none.
    pub fn legacy_note(&self) -> Option<String> {
        if self.legacy_acls.is_empty() {
            return None;
        }
        let list = acl_list(&self.legacy_acls);
        Some(if self.root_by_acl() {
            format!(
                "root-equivalent: the legacy ACL `{}` is documented as equivalent to the root user, so they can do everything whatever IAM says; the answer shown is IAM's alone (ACLs: {list})",
                crate::model::ROOT_EQUIVALENT_ACL
            )
        } else {
            format!(
                "legacy ACLs {list}: Vultr enforces them alongside IAM; what they give is not shown here, and no IAM change touches it"
            )
        })
    }

    /// Every note an answer about the user carries: [`UserSummary::legacy_note`] first, then
    /// [`Conditional::note`] of each statement in `conditional`.
    pub fn notes(&self) -> Vec<String> {
        self.notes_with(None)
    }

    /// [`UserSummary::notes`], with `legacy` in place of the legacy-ACL note when given.
    fn notes_with(&self, legacy: Option<String>) -> Vec<String> {
        let mut notes: Vec<String> = legacy.or_else(|| self.legacy_note()).into_iter().collect();
        notes.extend(self.conditional.iter().map(Conditional::note));
        notes
    }

    /// For a user who loses IAM access in a what-if (`lost` pairs or assumable roles) and
    /// holds legacy ACLs: that the ACLs, and what they give, stay. `None` otherwise.
    pub fn acl_kept_note(&self, loses: bool) -> Option<String> {
        if !loses || self.legacy_acls.is_empty() {
            return None;
        }
        let list = acl_list(&self.legacy_acls);
        Some(if self.root_by_acl() {
            format!(
                "keeps legacy ACLs {list}: the change does not touch them, and `{}` keeps them root-equivalent, so in fact they lose nothing",
                crate::model::ROOT_EQUIVALENT_ACL
            )
        } else {
            format!(
                "keeps legacy ACLs {list}: the change does not touch them, so what they give stays whatever IAM loses"
            )
        })
    }
}

fn acl_list(acls: &[String]) -> String {
    acls.iter()
        .map(|a| format!("`{}`", a.replace('`', "'")))
        .collect::<Vec<_>>()
        .join(", ")
}

/// An entity named in a result.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct EntityRef {
    /// Its id.
    pub id: String,
    /// Its display name.
    pub name: String,
}

/// The trust behind an assumable role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TrustSummary {
    /// The trust's id.
    pub id: String,
    /// `TemporaryAssumption`, `IAMAssumption` or `FederatedAssumption`.
    pub trust_type: String,
    /// The trust's conditions, as the snapshot has them (`null` when none).
    pub conditions: Option<serde_json::Value>,
    /// Expiry as written; judged only against an instant given to the compile
    /// ([`TrustContext`](crate::trust::TrustContext), `--at`), never against the clock.
    pub valid_until: Option<String>,
    /// The condition that fails in the trust context (`time_of_day 09–17 UTC: 18:30 is
    /// outside`): the role is then not assumable. Left out of JSON when none fails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused: Option<String>,
}

/// A role the user may assume (no standing access), with the trust that allows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Assumable {
    /// The assumable role.
    pub role: EntityRef,
    /// The trust naming the user or one of their groups.
    pub trust: TrustSummary,
    /// How the trust reaches the user: `[user]` when it names them, `[user, group]` through a group.
    pub via: Vec<Path>,
}

/// A user's effective permissions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Effective {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Whose permissions.
    pub user: UserSummary,
    /// Allowed (action, resource) pairs with their Allow paths.
    pub allowed: Vec<Entry>,
    /// Explicitly denied pairs with their Deny paths.
    pub denied: Vec<Entry>,
    /// Roles the user may assume, listed apart: they give no standing access.
    pub assumable: Vec<Assumable>,
    /// Assumed-role sessions the user held when the snapshot was taken. Left out of JSON when
    /// none (and always when the snapshot was fetched without `--sessions`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sessions: Vec<ActiveSession>,
}

/// A role that a principal outside the organization's users may assume through a trust.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct OutsideAssumable {
    /// `oidc_issuer` or `organization`.
    pub principal_kind: String,
    /// The issuer's or the organization's id.
    pub principal_id: String,
    /// The role.
    pub role: EntityRef,
    /// The trust.
    pub trust: TrustSummary,
}

/// An assumed-role session: it lasts until it expires, whatever later happens to the trust
/// that let the user assume the role. The session's token is never read into a snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ActiveSession {
    /// The assumed role.
    pub role: EntityRef,
    /// The session's name, if it has one.
    pub session_name: Option<String>,
    /// When the role was assumed (RFC 3339), as Vultr sent it.
    pub assumed_at: Option<String>,
    /// When the session ends (RFC 3339), as Vultr sent it.
    pub expires_at: Option<String>,
}

/// What one decision is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Some Allow applies and no Deny does (or the user is root).
    Allowed,
    /// A Deny applies.
    ExplicitDeny,
    /// Nothing allows it.
    ImplicitDeny,
}

/// One decision, explained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Explanation {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Whose decision.
    pub user: UserSummary,
    /// The action asked about.
    pub action: String,
    /// The resource asked about.
    pub resource: String,
    /// The universe element the action was evaluated as, when the catalogue does not name it
    /// (the narrowest wildcard of the snapshot covering it).
    pub evaluated_as: Option<String>,
    /// The decision.
    pub decision: Decision,
    /// Every Allow path that counts (on an explicit deny, the Allows it overrides). Under
    /// [`Precedence::NearestWins`](crate::Precedence::NearestWins), those at the nearest
    /// distance only.
    pub allow: Vec<Path>,
    /// Every Deny path that counts (under nearest-wins, those at the nearest distance only).
    pub deny: Vec<Path>,
    /// Under nearest-wins, the Allow paths farther from the user than the nearest covering
    /// statement: they do not count. Always empty under deny-wins, and then left out of JSON.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub overridden_allow: Vec<Path>,
    /// Under nearest-wins, the Deny paths farther than the nearest covering statement, which a
    /// nearer Allow overrides (or a nearer Deny makes moot). Left out of JSON when empty.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub overridden_deny: Vec<Path>,
    /// Why, in one sentence, when the paths alone do not say (root, suspended).
    pub note: Option<String>,
    /// Roles a trust would let the user assume but for a condition that fails at `--at` or
    /// from `--from` ([`TrustSummary::refused`] says which). Left out of JSON when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_assumable: Vec<Assumable>,
}

/// The kind of a change, as change files name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// Take a user out of a group.
    RemoveMember,
    /// Put a user in a group.
    AddMember,
    /// Detach a policy from a user, group or role.
    DetachPolicy,
    /// Attach a policy to a user, group or role.
    AttachPolicy,
    /// Detach a role from a user or group.
    DetachRole,
    /// Attach a role to a user or group.
    AttachRole,
    /// Delete a group.
    DeleteGroup,
    /// Delete a role.
    DeleteRole,
    /// Delete a policy.
    DeletePolicy,
    /// Suspend a user.
    SuspendUser,
    /// Lift a user's suspension.
    UnsuspendUser,
    /// Remove a user from the organization.
    RemoveUser,
    /// Replace a policy's document.
    ReplacePolicyDocument,
    /// Delete a role trust.
    DeleteRoleTrust,
    /// Create a user (who holds nothing until other changes give them something).
    CreateUser,
    /// Create a group (with no member and no attachment).
    CreateGroup,
    /// Create a role (with no policy).
    CreateRole,
    /// Create a policy (attached to nothing).
    CreatePolicy,
    /// Create a role trust: its principals may assume the role.
    CreateRoleTrust,
}

/// One change, as reported: its kind and the entities it names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ChangeSummary {
    /// What the change does.
    pub kind: ChangeKind,
    /// The group it names, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<EntityRef>,
    /// The user it names, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<UserRef>,
    /// The role it names, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<EntityRef>,
    /// The policy it names, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<EntityRef>,
    /// The role trust it names, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trust: Option<EntityRef>,
}

impl Step {
    /// A step naming an entity of `kind`; `None` for [`StepKind::Statement`], which names
    /// none (see [`Step::statement`]).
    pub fn entity(kind: StepKind, id: &str, name: &str) -> Option<Step> {
        let (id, name) = (Arc::from(id), Arc::from(name));
        Some(match kind {
            StepKind::User => Step::User { id, name },
            StepKind::Organization => Step::Organization { id, name },
            StepKind::Policy => Step::Policy { id, name },
            StepKind::Role => Step::Role { id, name },
            StepKind::Group => Step::Group { id, name },
            StepKind::Statement => return None,
        })
    }

    /// A statement step.
    pub fn statement(index: u32) -> Step {
        Step::Statement { index }
    }

    /// The step of the user a path starts from.
    pub fn user(id: &str, email: &str) -> Step {
        Step::User {
            id: Arc::from(id),
            name: Arc::from(email),
        }
    }

    /// What the step is.
    pub fn kind(&self) -> StepKind {
        match self {
            Step::User { .. } => StepKind::User,
            Step::Organization { .. } => StepKind::Organization,
            Step::Policy { .. } => StepKind::Policy,
            Step::Role { .. } => StepKind::Role,
            Step::Group { .. } => StepKind::Group,
            Step::Statement { .. } => StepKind::Statement,
        }
    }

    /// The entity's id and name; `None` on a statement step.
    fn named(&self) -> Option<(&str, &str)> {
        match self {
            Step::User { id, name }
            | Step::Organization { id, name }
            | Step::Policy { id, name }
            | Step::Role { id, name }
            | Step::Group { id, name } => Some((id, name)),
            Step::Statement { .. } => None,
        }
    }

    /// The entity's id; `None` on a statement step.
    pub fn id(&self) -> Option<&str> {
        self.named().map(|(id, _)| id)
    }

    /// The entity's display name (a user's email); `None` on a statement step.
    pub fn name(&self) -> Option<&str> {
        self.named().map(|(_, name)| name)
    }

    /// The statement's index in its policy document; `None` on an entity step.
    pub fn index(&self) -> Option<u32> {
        match self {
            Step::Statement { index } => Some(*index),
            _ => None,
        }
    }
}

impl ChangeSummary {
    /// The change in one line of English: `remove ana@example.com from group DevOps`.
    pub fn describe(&self) -> String {
        let user = || {
            self.user
                .as_ref()
                .map(|u| u.email.clone())
                .unwrap_or_default()
        };
        let named = |kind: &str, e: &Option<EntityRef>| {
            e.as_ref().map(|e| {
                if e.name == e.id {
                    format!("{kind} {}", e.id)
                } else {
                    format!("{kind} {} ({})", e.name, e.id)
                }
            })
        };
        let holder = named("group", &self.group)
            .or_else(|| named("role", &self.role).filter(|_| self.kind.is_policy_change()))
            .unwrap_or_else(user);
        let policy = named("policy", &self.policy).unwrap_or_default();
        let role = named("role", &self.role).unwrap_or_default();
        let group = named("group", &self.group).unwrap_or_default();
        let trust = named("trust", &self.trust).unwrap_or_default();
        match self.kind {
            ChangeKind::RemoveMember => format!("remove {} from {group}", user()),
            ChangeKind::AddMember => format!("add {} to {group}", user()),
            ChangeKind::DetachPolicy => format!("detach {policy} from {holder}"),
            ChangeKind::AttachPolicy => format!("attach {policy} to {holder}"),
            ChangeKind::DetachRole => format!("detach {role} from {holder}"),
            ChangeKind::AttachRole => format!("attach {role} to {holder}"),
            ChangeKind::DeleteGroup => format!("delete {group}"),
            ChangeKind::DeleteRole => format!("delete {role}"),
            ChangeKind::DeletePolicy => format!("delete {policy}"),
            ChangeKind::SuspendUser => format!("suspend {}", user()),
            ChangeKind::UnsuspendUser => format!("unsuspend {}", user()),
            ChangeKind::RemoveUser => format!("remove {} from the organization", user()),
            ChangeKind::ReplacePolicyDocument => format!("replace the document of {policy}"),
            ChangeKind::DeleteRoleTrust => format!("delete {trust}"),
            ChangeKind::CreateUser => format!("create user {}", user()),
            ChangeKind::CreateGroup => format!("create {group}"),
            ChangeKind::CreateRole => format!("create {role}"),
            ChangeKind::CreatePolicy => format!("create {policy}"),
            ChangeKind::CreateRoleTrust => format!("create {trust} for {role}"),
        }
    }
}

impl ChangeKind {
    fn is_policy_change(self) -> bool {
        matches!(self, ChangeKind::DetachPolicy | ChangeKind::AttachPolicy)
    }
}

/// How many users lose, keep and gain one action (any resource) in an impact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ActionSummary {
    /// The action (or wildcard element).
    // Shared: the organization keeps each name once, and a report copies none. (A plain
    // comment: a doc comment would change the JSON schema's description.)
    pub action: Arc<str>,
    /// Users who lose it on some resource.
    pub lost: usize,
    /// Users who keep it through other paths.
    pub kept: usize,
    /// Users who gain it.
    pub gained: usize,
}

/// A user named in a change.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct UserRef {
    /// Vultr's user id.
    pub id: String,
    /// Login email.
    pub email: String,
}

/// Index of a path in [`Impact::paths`] (or, in a redundancy report, [`Redundancy::paths`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(transparent)]
pub struct PathId(pub u32);

/// Index of an action in [`Impact::actions`] (which is sorted by action, so ids sort as names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(transparent)]
pub struct ActionId(pub u32);

/// Index of a set of actions in [`Impact::coverage`]: what an [`ImpactPath`] covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Deserialize)]
#[serde(transparent)]
pub struct CoverageId(pub u32);

/// The name a list of table indexes (an entry's `actions` and `via`, a set of `coverage`)
/// serializes under: a newtype struct around the list. Serializers pass a newtype struct
/// through (serde_json writes the list as it is); one may recognise the name to write the
/// whole list its own way, as the CLI's JSON writer does (on one line, in one piece).
pub const INDEXES: &str = "$iamsim::Indexes";

/// A list of table indexes, serialized as [`INDEXES`].
pub(crate) struct Indexes<'a, I>(pub(crate) &'a [I]);

impl<I: Serialize> Serialize for Indexes<'_, I> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_newtype_struct(INDEXES, self.0)
    }
}

/// Serializes a list of indexes as [`INDEXES`] (`serialize_with`).
fn indexes<S: serde::Serializer, I: Serialize>(
    list: &[I],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    Indexes(list).serialize(serializer)
}

/// Serializes [`Impact::coverage`], each set as [`INDEXES`] (`serialize_with`).
pub(crate) fn coverage<S: serde::Serializer>(
    sets: &[Vec<ActionId>],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(sets.iter().map(|set| Indexes(set)))
}

// The ids serialize as their numbers, as `#[serde(transparent)]` would derive it, but inlined:
// a report is mostly ids, and a call for each would cost as much as writing it.
macro_rules! serialize_as_number {
    ($($id:ident),*) => {
        $(impl Serialize for $id {
            #[inline]
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_u32(self.0)
            }
        })*
    };
}

serialize_as_number!(PathId, ActionId, CoverageId);

// The ids of an impact's tables convert to and from positions through `Idx`, the crate's one
// place where a `usize` becomes a 32-bit index; each table is indexed by its own id type, so
// a path's id cannot index the actions.
macro_rules! table_id {
    ($id:ident, $row:ty) => {
        impl $id {
            /// The id of the row at `position` of its table.
            ///
            /// # Panics
            ///
            /// If `position` does not fit in a `u32` (no impact has four billion rows).
            #[inline]
            pub(crate) fn new(position: usize) -> $id {
                $id(Idx::<$row>::new(position).raw())
            }

            /// The row's position in its table.
            #[inline]
            pub(crate) fn index(self) -> usize {
                Idx::<$row>::from_raw(self.0).index()
            }
        }

        impl Index<$id> for Vec<$row> {
            type Output = $row;

            #[inline]
            fn index(&self, id: $id) -> &$row {
                &self[id.index()]
            }
        }
    };
}

table_id!(PathId, ImpactPath);
table_id!(ActionId, ActionSummary);
table_id!(CoverageId, Vec<ActionId>);

/// Actions of one user on one resource key, with the paths behind them, as one entry.
///
/// Actions and paths are indexes into the [`Impact`]'s tables: [`Impact::actions`] and
/// [`Impact::paths`], where each is written once. `via`, with its list's shared paths
/// ([`UserImpact::shared`]), is the union of the actions' paths; the paths of one action are
/// those of both that cover it ([`ImpactPath::covers`], [`Impact::paths_of`]), exactly: an
/// entry only groups actions for which that holds.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct GroupedEntry {
    /// The actions (concrete, or wildcard elements), sorted; each an index into
    /// [`Impact::actions`].
    #[serde(serialize_with = "indexes")]
    pub actions: Vec<ActionId>,
    /// `*` (any resource not listed separately), `type:*`, or one resource id.
    pub resource: Arc<str>,
    /// Every path behind some of the actions but those its list shares
    /// ([`UserImpact::shared`]), in path order; each an index into [`Impact::paths`]. An
    /// action's own paths are those of both that cover it ([`ImpactPath::covers`]).
    #[serde(serialize_with = "indexes")]
    pub via: Vec<PathId>,
}

/// A path of an [`Impact`]'s table: its steps, and which reported actions its statement covers.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ImpactPath {
    /// From the first step after the user (a group, a role or a policy) to a statement: the
    /// user is the one whose entry refers to the path.
    pub steps: Path,
    /// The actions of [`Impact::actions`] the statement covers (before or after the change,
    /// when the change replaces its document), as an index into [`Impact::coverage`]: an
    /// entry's action is granted through this path exactly when the path is in the entry's
    /// `via` and covers the action.
    #[cfg_attr(feature = "schema", schemars(with = "u32"))]
    pub covers: CoverageId,
}

/// How many (action, resource) pairs a user loses, keeps and gains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PairCounts {
    /// Allowed before, not after.
    pub lost: usize,
    /// Allowed before and after, through other paths.
    pub kept: usize,
    /// Allowed after, not before.
    pub gained: usize,
}

/// What a change does to one user, its entries grouped (actions and paths by index into the
/// [`Impact`]'s tables).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct UserImpact {
    /// Who.
    pub user: UserSummary,
    /// How many pairs the user loses, keeps and gains (the actions of the entries below,
    /// counted once per resource).
    pub counts: PairCounts,
    /// Per list, the paths written once for all of its entries: each belongs to every entry of
    /// the list whose actions it covers, as if listed in the entry's `via`.
    pub shared: SharedPaths,
    /// Allowed before, not after: with the paths that granted it before. Sorted by first
    /// action, then resource.
    pub lost: Vec<GroupedEntry>,
    /// Allowed before through something the change touches, still allowed after: with the
    /// surviving paths.
    pub kept: Vec<GroupedEntry>,
    /// Not allowed before, allowed after (a Deny that went away): with the allowing paths.
    pub gained: Vec<GroupedEntry>,
    /// Assumable roles reachable before and not after, with the paths they had.
    pub assumable_lost: Vec<Assumable>,
    /// Assumable roles reachable after and not before (a new membership in a trusted group, an
    /// unsuspension), with their paths after.
    pub assumable_gained: Vec<Assumable>,
    /// Sessions of a role the user loses the trust path to, which go on until they expire:
    /// losing a trust does not end a session. Left out of JSON when none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sessions_continue: Vec<ActiveSession>,
    /// Allowed or denied pairs the change does not touch at all.
    pub unchanged_count: usize,
    /// Why nothing changes, when that is so by rule (root, suspended).
    pub note: Option<String>,
}

/// Per list of a [`UserImpact`], the paths through a statement on every resource (`*`) that
/// count for every action of the list they cover, whatever its resource: written once for the
/// list rather than in the `via` of each of its entries (on a wide change, a user's entries on
/// many resources would each repeat them). Each in path order, as indexes into
/// [`Impact::paths`].
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SharedPaths {
    /// The shared paths of `lost`: those that granted its actions before.
    #[serde(serialize_with = "indexes")]
    pub lost: Vec<PathId>,
    /// The shared paths of `kept`: those that still grant its actions.
    #[serde(serialize_with = "indexes")]
    pub kept: Vec<PathId>,
    /// The shared paths of `gained`: those that now grant its actions.
    #[serde(serialize_with = "indexes")]
    pub gained: Vec<PathId>,
}

impl SharedPaths {
    /// The shared paths of one list (`[lost, kept, gained]`'s `slot`), to set.
    pub(crate) fn of_slot_mut(&mut self, slot: usize) -> &mut Vec<PathId> {
        [&mut self.lost, &mut self.kept, &mut self.gained][slot]
    }
}

/// The whole of an impact in numbers: what `iamsim impact --summary` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ImpactSummary {
    /// Users the changes can reach (members of the groups, holders of the roles and policies
    /// they name), all judged.
    pub users_reached: usize,
    /// Users reported: those whose access or its paths change, and those a change names.
    pub users_affected: usize,
    /// Users who lose an access or an assumable role.
    pub users_losing: usize,
    /// Users who gain an access or an assumable role.
    pub users_gaining: usize,
    /// Pairs lost, kept and gained, summed over users.
    pub pairs: PairCounts,
}

/// What a set of changes does, user by user.
///
/// Entries are grouped: each entry of a user's `lost`, `kept` and `gained` lists actions on one
/// resource and the union of their paths, but for the paths its list shares
/// ([`UserImpact::shared`]: statements on every resource, written once per list); actions are
/// indexes into `actions` and paths into `paths`. Each path names the set of actions it covers
/// (in `coverage`), which tells each action's own paths ([`Impact::paths_of`]).
/// [`Impact::flatten`] gives the one-entry-per-action form with every path written out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Impact {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The changes, applied as one step.
    pub changes: Vec<ChangeSummary>,
    /// The counts.
    pub summary: ImpactSummary,
    /// Every affected user, most lost first (by pairs lost, then id).
    pub users: Vec<UserImpact>,
    /// Per action, how many users lose, keep and gain it; sorted by action. Entries name
    /// actions by their index here.
    pub actions: Vec<ActionSummary>,
    /// The paths entries refer to, each once, numbered by first reference in report order (an
    /// entry's paths in path order), so ids follow content; each with the actions it covers.
    pub paths: Vec<ImpactPath>,
    /// Sets of actions (indexes into `actions`, sorted), each once, in order of first
    /// reference by `paths`: what each path covers. Paths through one statement share one set.
    #[serde(serialize_with = "coverage")]
    pub coverage: Vec<Vec<ActionId>>,
}

/// One user's counts in an [`ImpactOverview`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct UserCounts {
    /// Who.
    pub user: UserRef,
    /// Pairs lost, kept and gained.
    pub counts: PairCounts,
    /// Assumable roles lost.
    pub assumable_lost: usize,
    /// Assumable roles gained.
    pub assumable_gained: usize,
}

/// An impact in numbers, without entries: what `iamsim impact --summary --format json` prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ImpactOverview {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The changes, applied as one step.
    pub changes: Vec<ChangeSummary>,
    /// The counts.
    pub summary: ImpactSummary,
    /// The most affected users (most lost first), at most as many as asked for.
    pub top_users: Vec<UserCounts>,
    /// Per action, how many users lose, keep and gain it; sorted by action.
    pub actions: Vec<ActionSummary>,
}

impl ImpactOverview {
    /// The overview of an impact, listing its first `top` users.
    pub fn of(impact: &Impact, top: usize) -> ImpactOverview {
        ImpactOverview {
            schema_version: impact.schema_version,
            changes: impact.changes.clone(),
            summary: impact.summary,
            top_users: impact
                .users
                .iter()
                .take(top)
                .map(|u| UserCounts {
                    user: UserRef {
                        id: u.user.id.to_string(),
                        email: u.user.email.to_string(),
                    },
                    counts: u.counts,
                    assumable_lost: u.assumable_lost.len(),
                    assumable_gained: u.assumable_gained.len(),
                })
                .collect(),
            actions: impact.actions.clone(),
        }
    }
}

/// What a change does to one user, one entry per (action, resource), every path written out
/// from the user: the form of [`Impact::flatten`] and of `iamsim impact --per-action`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct FlatUserImpact {
    /// Who.
    pub user: UserSummary,
    /// Allowed before, not after: with the paths that granted it before.
    pub lost: Vec<Entry>,
    /// Allowed before through something the change touches, still allowed after: with the
    /// surviving paths.
    pub kept: Vec<Entry>,
    /// Not allowed before, allowed after (a Deny that went away): with the allowing paths.
    pub gained: Vec<Entry>,
    /// Assumable roles reachable before and not after, with the paths they had.
    pub assumable_lost: Vec<Assumable>,
    /// Assumable roles reachable after and not before, with their paths after.
    pub assumable_gained: Vec<Assumable>,
    /// Sessions of a role the user loses the trust path to, which go on until they expire:
    /// losing a trust does not end a session. Left out of JSON when none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sessions_continue: Vec<ActiveSession>,
    /// Allowed or denied pairs the change does not touch at all.
    pub unchanged_count: usize,
    /// Why nothing changes, when that is so by rule (root, suspended).
    pub note: Option<String>,
}

/// What a set of changes does, one entry per (action, resource): [`Impact::flatten`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct FlatImpact {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The changes, applied as one step.
    pub changes: Vec<ChangeSummary>,
    /// Every affected user, most lost first.
    pub users: Vec<FlatUserImpact>,
    /// Per action, how many users lose, keep and gain it; sorted by action.
    pub actions: Vec<ActionSummary>,
}

impl UserImpact {
    /// [`UserSummary::acl_kept_note`]: the user loses IAM access but keeps legacy ACLs.
    pub fn acl_kept_note(&self) -> Option<String> {
        self.user
            .acl_kept_note(self.counts.lost > 0 || !self.assumable_lost.is_empty())
    }

    /// The notes this user's block carries: [`UserSummary::notes`], with
    /// [`UserImpact::acl_kept_note`] in place of the legacy-ACL note when the user loses
    /// IAM access.
    pub fn notes(&self) -> Vec<String> {
        self.user.notes_with(self.acl_kept_note())
    }

    /// Whether the change does nothing to this user.
    pub fn is_empty(&self) -> bool {
        self.counts == PairCounts::default()
            && self.assumable_lost.is_empty()
            && self.assumable_gained.is_empty()
    }

    /// Every entry, lost, kept, then gained.
    pub(crate) fn entries(&self) -> impl Iterator<Item = &GroupedEntry> {
        self.lost.iter().chain(&self.kept).chain(&self.gained)
    }

    /// Every entry, lost, kept, then gained: for renumbering their actions and paths.
    pub(crate) fn entries_mut(&mut self) -> impl Iterator<Item = &mut GroupedEntry> {
        self.lost
            .iter_mut()
            .chain(&mut self.kept)
            .chain(&mut self.gained)
    }

    /// Every list of paths the user refers to, in report order: the shared paths of lost, kept
    /// and gained, then each entry's `via`, lost, kept, then gained.
    pub(crate) fn path_lists(&self) -> impl Iterator<Item = &[PathId]> {
        let shared = &self.shared;
        [&shared.lost[..], &shared.kept, &shared.gained]
            .into_iter()
            .chain(self.entries().map(|entry| &entry.via[..]))
    }

    /// [`UserImpact::path_lists`], to renumber.
    pub(crate) fn path_lists_mut(&mut self) -> impl Iterator<Item = &mut Vec<PathId>> {
        let shared = &mut self.shared;
        [&mut shared.lost, &mut shared.kept, &mut shared.gained]
            .into_iter()
            .chain(
                self.lost
                    .iter_mut()
                    .chain(&mut self.kept)
                    .chain(&mut self.gained)
                    .map(|entry| &mut entry.via),
            )
    }
}

impl FlatUserImpact {
    /// [`UserSummary::acl_kept_note`]: the user loses IAM access but keeps legacy ACLs.
    pub fn acl_kept_note(&self) -> Option<String> {
        self.user
            .acl_kept_note(!self.lost.is_empty() || !self.assumable_lost.is_empty())
    }

    /// As [`UserImpact::notes`].
    pub fn notes(&self) -> Vec<String> {
        self.user.notes_with(self.acl_kept_note())
    }

    /// Whether the change does nothing to this user.
    pub fn is_empty(&self) -> bool {
        self.lost.is_empty()
            && self.kept.is_empty()
            && self.gained.is_empty()
            && self.assumable_lost.is_empty()
            && self.assumable_gained.is_empty()
    }
}

impl Impact {
    /// The name of an action an id names.
    ///
    /// # Panics
    ///
    /// If `id` is not an index of [`Impact::actions`].
    pub fn action(&self, id: ActionId) -> &str {
        &self.actions[id].action
    }

    /// The path an id names, from the first step after the user.
    ///
    /// # Panics
    ///
    /// If `id` is not an index of [`Impact::paths`].
    pub fn path(&self, id: PathId) -> &Path {
        &self.paths[id].steps
    }

    /// The paths behind one action of `entry`, in path order: those of the entry's `via` and
    /// of its list's shared paths (`shared`, [`UserImpact::shared`]) that cover it.
    pub fn paths_of<'a>(
        &'a self,
        shared: &'a [PathId],
        entry: &'a GroupedEntry,
        action: ActionId,
    ) -> impl Iterator<Item = PathId> + 'a {
        let covering = move |p: &PathId| self.covers(*p).binary_search(&action).is_ok();
        self.merged(
            entry.via.iter().copied().filter(covering),
            shared.iter().copied().filter(covering),
        )
    }

    /// Every path behind some action of `entry`, in path order: its `via`, and those of its
    /// list's shared paths (`shared`, [`UserImpact::shared`]) that cover one of its actions.
    pub fn entry_paths<'a>(
        &'a self,
        shared: &'a [PathId],
        entry: &'a GroupedEntry,
    ) -> impl Iterator<Item = PathId> + 'a {
        let covering = |p: &PathId| {
            let covers = self.covers(*p);
            (entry.actions.iter()).any(|a| covers.binary_search(a).is_ok())
        };
        self.merged(
            entry.via.iter().copied(),
            shared.iter().copied().filter(covering),
        )
    }

    /// Two lists of paths, each in path order (the order of their steps) and without a path
    /// in common, merged in path order.
    fn merged<'a>(
        &'a self,
        one: impl Iterator<Item = PathId> + 'a,
        other: impl Iterator<Item = PathId> + 'a,
    ) -> impl Iterator<Item = PathId> + 'a {
        let (mut one, mut other) = (one.peekable(), other.peekable());
        std::iter::from_fn(move || match (one.peek(), other.peek()) {
            (Some(&a), Some(&b)) if self.path(b) < self.path(a) => other.next(),
            (Some(_), _) => one.next(),
            (None, _) => other.next(),
        })
    }

    /// The actions a path covers, sorted.
    ///
    /// # Panics
    ///
    /// If `id` is not an index of [`Impact::paths`].
    pub fn covers(&self, id: PathId) -> &[ActionId] {
        &self.coverage[self.paths[id].covers]
    }

    /// An entry's actions grouped by their own paths: each group's actions share exactly the
    /// paths listed with them (what the table and Markdown outputs print). Groups are in order of
    /// first action.
    pub fn exact_groups(
        &self,
        shared: &[PathId],
        entry: &GroupedEntry,
    ) -> Vec<(Vec<ActionId>, Vec<PathId>)> {
        let mut groups: Vec<(Vec<ActionId>, Vec<PathId>)> = Vec::new();
        let mut index: HashMap<Vec<PathId>, usize> = HashMap::new();
        for &action in &entry.actions {
            let via: Vec<PathId> = self.paths_of(shared, entry, action).collect();
            match index.get(&via) {
                Some(&i) => groups[i].0.push(action),
                None => {
                    index.insert(via.clone(), groups.len());
                    groups.push((vec![action], via));
                }
            }
        }
        groups
    }

    /// A path written out from the user: the user's step, then the shared path.
    pub fn full_path(&self, user: &UserSummary, id: PathId) -> Path {
        let mut path = Vec::with_capacity(self.path(id).len() + 1);
        path.push(Step::user(&user.id, &user.email));
        path.extend(self.path(id).iter().cloned());
        path
    }

    /// One user's entries of one list (with the list's shared paths), one per (action,
    /// resource), sorted by action then resource.
    pub fn flat_entries(
        &self,
        user: &UserSummary,
        shared: &[PathId],
        entries: &[GroupedEntry],
    ) -> Vec<Entry> {
        let mut out = Vec::new();
        for entry in entries {
            for (actions, via) in self.exact_groups(shared, entry) {
                let via: Vec<Path> = via.iter().map(|&p| self.full_path(user, p)).collect();
                for action in actions {
                    out.push(Entry {
                        action: self.action(action).to_string(),
                        resource: entry.resource.to_string(),
                        via: via.clone(),
                    });
                }
            }
        }
        out.sort_by(|a, b| (&a.action, &a.resource).cmp(&(&b.action, &b.resource)));
        out
    }

    /// One user's impact in the one-entry-per-action form.
    pub fn flatten_user(&self, user: &UserImpact) -> FlatUserImpact {
        FlatUserImpact {
            user: user.user.clone(),
            lost: self.flat_entries(&user.user, &user.shared.lost, &user.lost),
            kept: self.flat_entries(&user.user, &user.shared.kept, &user.kept),
            gained: self.flat_entries(&user.user, &user.shared.gained, &user.gained),
            assumable_lost: user.assumable_lost.clone(),
            assumable_gained: user.assumable_gained.clone(),
            sessions_continue: user.sessions_continue.clone(),
            unchanged_count: user.unchanged_count,
            note: user.note.clone(),
        }
    }

    /// Keeps the first `n` users (the most affected) and the paths they refer to, renumbered
    /// (still by first reference); returns how many users it dropped. The summary
    /// and the per-action counts still describe every user.
    pub fn retain_users(&mut self, n: usize) -> usize {
        let dropped = self.users.len().saturating_sub(n);
        if dropped == 0 {
            return 0;
        }
        self.users.truncate(n);
        // Paths keep their order: the retained users are the first, so it is still the order
        // of first reference.
        let mut used = vec![false; self.paths.len()];
        for user in &self.users {
            for list in user.path_lists() {
                list.iter().for_each(|p| used[p.index()] = true);
            }
        }
        let mut path_map: Vec<Option<PathId>> = vec![None; self.paths.len()];
        let mut paths = Vec::new();
        for (old, path) in std::mem::take(&mut self.paths).into_iter().enumerate() {
            if used[old] {
                path_map[old] = Some(PathId::new(paths.len()));
                paths.push(path);
            }
        }
        for user in &mut self.users {
            for list in user.path_lists_mut() {
                for id in list {
                    *id = path_map[id.index()].expect("a retained user's path is kept");
                }
            }
        }
        self.paths = paths;
        // Sets of actions: those the retained paths cover, still by first reference.
        let mut set_map: Vec<Option<CoverageId>> = vec![None; self.coverage.len()];
        let mut old_sets: Vec<Option<Vec<ActionId>>> = std::mem::take(&mut self.coverage)
            .into_iter()
            .map(Some)
            .collect();
        for path in &mut self.paths {
            let old = path.covers.index();
            let new = *set_map[old].get_or_insert_with(|| {
                self.coverage
                    .push(old_sets[old].take().expect("each set once"));
                CoverageId::new(self.coverage.len() - 1)
            });
            path.covers = new;
        }
        dropped
    }

    /// The whole impact in the one-entry-per-action form, every path written out. As large as
    /// the pairs it reports times their paths: prefer the grouped form for wide changes.
    pub fn flatten(&self) -> FlatImpact {
        FlatImpact {
            schema_version: self.schema_version,
            changes: self.changes.clone(),
            users: self.users.iter().map(|u| self.flatten_user(u)).collect(),
            actions: self.actions.clone(),
        }
    }
}

/// A user and the paths behind one decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct UserPaths {
    /// Who.
    pub user: UserSummary,
    /// The paths that decide (Allow paths for the allowed, Deny paths for the denied).
    pub via: Vec<Path>,
    /// For the denied: the Allow paths the Deny overrides. For the allowed, under
    /// nearest-wins: the farther Deny paths the Allow overrides.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub overridden: Vec<Path>,
}

/// Who may do one action on one resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct WhoCan {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The action asked about.
    pub action: String,
    /// The resource asked about.
    pub resource: String,
    /// The universe element the action was evaluated as, when the catalogue does not name it.
    pub evaluated_as: Option<String>,
    /// Every user allowed, with every Allow path (the root user through the organization).
    pub allowed: Vec<UserPaths>,
    /// Every user for whom an explicit Deny blocks an Allow, with the Deny paths.
    pub denied: Vec<UserPaths>,
    /// Users whom IAM does not allow here (denied ones included) but who hold the legacy ACL
    /// [`ROOT_EQUIVALENT_ACL`](crate::model::ROOT_EQUIVALENT_ACL), documented as equivalent to
    /// the root user: they can do it anyway. Suspended users are left out. Sorted by id; left
    /// out of JSON when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub root_equivalent: Vec<UserSummary>,
    /// Users in neither list whom an Allow with keys iamsim does not evaluate (such as
    /// `Condition`) covering this action and resource reaches: counted as not applying, it may,
    /// and then they are allowed (their `conditional` names it). Sorted by id; left out of JSON
    /// when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub may_be_allowed: Vec<UserSummary>,
    /// Roles a principal outside the organization's users (an OIDC issuer, another
    /// organization) may assume through a trust, whose own policies allow the action on the
    /// resource. Left out of JSON when none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outside: Vec<OutsideAssumable>,
}

/// An attachment or membership whose removal loses nothing for anyone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RedundantEdge {
    /// The removal that changes nothing.
    pub change: ChangeSummary,
    /// What covers it: per reached user who keeps something, how much, and through which
    /// other paths. Empty when the edge grants nothing anyone keeps.
    pub covered: Vec<CoveredUser>,
}

/// A user for whom other paths cover everything a removal would take.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CoveredUser {
    /// Who.
    pub user: UserRef,
    /// How many (action, resource) pairs stay allowed through other paths.
    pub kept: usize,
    /// The other paths, each once, in path order (as [`Redundancy::covering_paths`] writes
    /// them out); each an index into [`Redundancy::paths`], a path from the first step after
    /// the user.
    pub via: Vec<PathId>,
}

/// An Allow statement denied everywhere it reaches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ShadowedStatement {
    /// The policy.
    pub policy: EntityRef,
    /// The statement's index in the document.
    pub index: u32,
    /// How many users (with standing access) it reaches; for each, every action and resource
    /// it allows is explicitly denied.
    pub users: usize,
}

/// Memberships, attachments and statements that could go without anyone losing anything.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Redundancy {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Removable memberships and attachments.
    pub edges: Vec<RedundantEdge>,
    /// Allow statements shadowed by Denies for every user they reach.
    pub shadowed: Vec<ShadowedStatement>,
    /// The covering paths the edges' users refer to (`via`), each once, from the first step
    /// after the user (a group, a role or a policy) to a statement; numbered by first
    /// reference in report order, so that ids follow content.
    pub paths: Vec<Path>,
    /// What the report was narrowed to ([`crate::RedundancyScope`]); absent for the whole
    /// organization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<ScopeRef>,
}

impl Redundancy {
    /// The path an id names, from the first step after the user.
    ///
    /// # Panics
    ///
    /// If `id` is not an index of [`Redundancy::paths`].
    pub fn path(&self, id: PathId) -> &Path {
        &self.paths[id.0 as usize]
    }

    /// A covered user's other paths written out from the user (the user's step, then the
    /// shared path), in path order.
    ///
    /// # Panics
    ///
    /// If one of its ids is not an index of [`Redundancy::paths`].
    pub fn covering_paths(&self, covered: &CoveredUser) -> Vec<Path> {
        covered
            .via
            .iter()
            .map(|&id| {
                let mut path = Vec::with_capacity(self.path(id).len() + 1);
                path.push(Step::user(&covered.user.id, &covered.user.email));
                path.extend(self.path(id).iter().cloned());
                path
            })
            .collect()
    }
}

/// The groups and users a redundancy report was narrowed to: it tried only the memberships and
/// attachments that touch one of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ScopeRef {
    /// The groups: their memberships and the policies and roles attached to them.
    pub groups: Vec<EntityRef>,
    /// The users: their memberships, direct policies and roles.
    pub users: Vec<UserRef>,
}

/// Same decision, other paths.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ProvenanceChange {
    /// The action (or wildcard element).
    pub action: String,
    /// The resource key.
    pub resource: String,
    /// The Allow paths before.
    pub before: Vec<Path>,
    /// The Allow paths after.
    pub after: Vec<Path>,
}

/// One user's access between two snapshots.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct UserDiff {
    /// Who (as in the new snapshot).
    pub user: UserSummary,
    /// Allowed before, not now: with the old paths.
    pub lost: Vec<Entry>,
    /// Allowed now, not before: with the new paths.
    pub gained: Vec<Entry>,
    /// Allowed in both, through other paths.
    pub provenance: Vec<ProvenanceChange>,
    /// Assumable roles before, not now (by role and trust id): with the old paths.
    pub assumable_lost: Vec<Assumable>,
    /// Assumable roles now, not before: with the new paths.
    pub assumable_gained: Vec<Assumable>,
}

impl UserDiff {
    /// Nothing changed for this user.
    pub fn is_empty(&self) -> bool {
        self.lost.is_empty()
            && self.gained.is_empty()
            && self.provenance.is_empty()
            && self.assumable_lost.is_empty()
            && self.assumable_gained.is_empty()
    }
}

/// Entities present in only one snapshot, by kind.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct EntityChanges {
    /// Users (by id, with their email).
    pub users: Vec<EntityRef>,
    /// Groups.
    pub groups: Vec<EntityRef>,
    /// Roles.
    pub roles: Vec<EntityRef>,
    /// Policies.
    pub policies: Vec<EntityRef>,
    /// Role trusts.
    pub role_trusts: Vec<EntityRef>,
}

/// What changed between two snapshots.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Diff {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Every user present in both whose access or its paths changed, most lost first.
    pub users: Vec<UserDiff>,
    /// Entities only in the new snapshot.
    pub added: EntityChanges,
    /// Entities only in the old snapshot.
    pub removed: EntityChanges,
}

/// One single removal from a user, and what it takes away.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RankedRemoval {
    /// The removal.
    pub change: ChangeSummary,
    /// What the user loses.
    pub lost: Vec<Entry>,
    /// What the user gains (a Deny that came through it).
    pub gained: Vec<Entry>,
    /// Assumable roles lost.
    pub assumable_lost: Vec<Assumable>,
}

/// Every membership, role and direct policy of a user, by how much its removal takes away.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Rank {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Whose.
    pub user: UserSummary,
    /// Most lost first.
    pub removals: Vec<RankedRemoval>,
}
