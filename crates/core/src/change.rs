//! Change files: the JSON form of changes, naming entities by id or name, and their resolution
//! into [`Change`]s of one organization.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::catalogue::Catalogue;
use crate::error::{
    ChangeError, ChangeSetError, ChangeSetFailure, EntityKind, LoadError, LookupError,
};
use crate::model::Snapshot;
use crate::model::{parse_json, Group, Policy, PolicyDocument, Role, RoleTrust, RoleType, User};
use crate::org::{CompileOptions, Org};
use crate::overlay::{Made, Overlay};
use crate::report::{ChangeKind, ChangeSummary, EntityRef, Impact, UserRef};
use crate::simulate::{Change, Holder, Principal, SimulateOptions};

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
    /// A new user, holding nothing: memberships and roles are later `add_member` and
    /// `attach_role` changes naming `id`.
    CreateUser {
        id: String,
        email: String,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        name: String,
    },
    /// A new group, with no member and no attachment.
    CreateGroup {
        id: String,
        name: String,
    },
    /// A new role, with no policy.
    CreateRole {
        id: String,
        name: String,
        role_type: RoleType,
    },
    /// A new policy, attached to nothing.
    CreatePolicy {
        id: String,
        name: String,
        policy_document: PolicyDocument,
    },
    /// A new trust on an assumable role; name exactly one of `user`, `group`.
    CreateRoleTrust {
        id: String,
        role: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        user: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        group: Option<String>,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        trust_type: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        conditions: Option<serde_json::Value>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        valid_until: Option<String>,
    },
}

impl ChangeSpec {
    /// The kind and id of the entity the change creates, if it creates one.
    pub fn creates(&self) -> Option<(EntityKind, &str)> {
        match self {
            ChangeSpec::CreateUser { id, .. } => Some((EntityKind::User, id)),
            ChangeSpec::CreateGroup { id, .. } => Some((EntityKind::Group, id)),
            ChangeSpec::CreateRole { id, .. } => Some((EntityKind::Role, id)),
            ChangeSpec::CreatePolicy { id, .. } => Some((EntityKind::Policy, id)),
            ChangeSpec::CreateRoleTrust { id, .. } => Some((EntityKind::Trust, id)),
            _ => None,
        }
    }
}

/// Parses a change file: a JSON array of changes. Errors carry the JSON path (`[2].group`).
pub fn parse_changes(text: &str) -> Result<Vec<ChangeSpec>, LoadError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    parse_json(text).map_err(|error| name_the_field(text, error))
}

/// A change is read whole before its kind is known, so a field of the wrong type is reported
/// at the change (`[0]`) rather than at the field: point at the field. Every field but
/// `policy_document` and `conditions` is a string.
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
            .find(|(key, value)| {
                !matches!(key.as_str(), "policy_document" | "conditions") && !value.is_string()
            })
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
            ChangeSpec::CreateUser { id, .. } => Change::CreateUser {
                user: self.find_user(id)?,
            },
            ChangeSpec::CreateGroup { id, .. } => Change::CreateGroup {
                group: self.find_group(id)?,
            },
            ChangeSpec::CreateRole { id, .. } => Change::CreateRole {
                role: self.find_role(id)?,
            },
            ChangeSpec::CreatePolicy { id, .. } => Change::CreatePolicy {
                policy: self.find_policy(id)?,
            },
            ChangeSpec::CreateRoleTrust { id, .. } => Change::CreateRoleTrust {
                trust: self.find_trust(id)?,
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

/// Where the entities a change set creates start in an organization compiled with them
/// ([`Org::compile_changes`]): each kind's created entities come after the snapshot's own, so
/// an index at or past its kind's start names a created entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CreatedFrom {
    users: usize,
    groups: usize,
    roles: usize,
    policies: usize,
    trusts: usize,
}

/// The snapshot with every entity that `specs` create added, holding nothing, and no trust:
/// the baseline a change set with creations is judged against (a created trust is made by its
/// change). Borrowed when nothing is created, so a set without creations costs nothing.
///
/// Errors name the change: one creating an id that exists (in the snapshot, or created by an
/// earlier change), a created policy whose document is malformed, a created trust whose role
/// or principal does not resolve or whose role is not assumable.
pub fn with_created<'s>(
    snapshot: &'s Snapshot,
    specs: &[ChangeSpec],
) -> Result<Cow<'s, Snapshot>, ChangeSetFailure> {
    if specs.iter().all(|spec| spec.creates().is_none()) {
        return Ok(Cow::Borrowed(snapshot));
    }
    let mut out = snapshot.clone();
    for (index, spec) in specs.iter().enumerate() {
        let fail = |source: ChangeError| ChangeSetError { index, source };
        if let Some((kind, id)) = spec.creates() {
            if has_id(&out, kind, id) {
                return Err(fail(ChangeError::Exists {
                    kind,
                    id: id.to_string(),
                })
                .into());
            }
        }
        add_created(&mut out, spec).map_err(fail)?;
    }
    // Trusts last: their role and principal may be created by any change of the set (the
    // engine checks the order), and they go after the snapshot's own trusts.
    for (index, spec) in specs.iter().enumerate() {
        if let Some(trust) = created_trust(&out, spec).map_err(|f| f.at(index))? {
            out.role_trusts.push(trust);
        }
    }
    Ok(Cow::Owned(out))
}

/// A failure of one change, before its position is known.
enum Fault {
    Lookup(LookupError),
    Change(ChangeError),
}

impl Fault {
    fn at(self, index: usize) -> ChangeSetFailure {
        match self {
            Fault::Lookup(source) => ChangeSetError { index, source }.into(),
            Fault::Change(source) => ChangeSetError { index, source }.into(),
        }
    }
}

/// Whether `s` has an entity of `kind` with id `id`.
fn has_id(s: &Snapshot, kind: EntityKind, id: &str) -> bool {
    match kind {
        EntityKind::User => s.users.iter().any(|u| u.id == id),
        EntityKind::Group => s.groups.iter().any(|g| g.id == id),
        EntityKind::Role => s.roles.iter().any(|r| r.id == id),
        EntityKind::Policy => s.policies.iter().any(|p| p.id == id),
        EntityKind::Trust => s.role_trusts.iter().any(|t| t.id == id),
    }
}

/// Adds the user, group, role or policy a change creates, holding nothing.
fn add_created(s: &mut Snapshot, spec: &ChangeSpec) -> Result<(), ChangeError> {
    match spec {
        ChangeSpec::CreateUser { id, email, name } => s.users.push(User {
            id: id.clone(),
            email: email.clone(),
            name: name.clone(),
            service_user: false,
            suspended: false,
            policies: Vec::new(),
            roles: Vec::new(),
            acls: None,
            api_enabled: None,
        }),
        ChangeSpec::CreateGroup { id, name } => s.groups.push(Group {
            id: id.clone(),
            display_name: name.clone(),
            description: String::new(),
            members: Vec::new(),
            policies: Vec::new(),
            roles: Vec::new(),
        }),
        ChangeSpec::CreateRole {
            id,
            name,
            role_type,
        } => s.roles.push(Role {
            id: id.clone(),
            name: name.clone(),
            role_type: *role_type,
            description: String::new(),
            policies: Vec::new(),
        }),
        ChangeSpec::CreatePolicy {
            id,
            name,
            policy_document,
        } => {
            // Checked here, so that a bad document names its change rather than failing the
            // compile of the whole snapshot.
            crate::policy::parse_document(policy_document).map_err(|error| {
                ChangeError::Document {
                    policy: id.clone(),
                    statement: error.statement(),
                    reason: error.to_string(),
                }
            })?;
            s.policies.push(Policy {
                id: id.clone(),
                name: name.clone(),
                description: String::new(),
                is_system_policy: false,
                policy_document: policy_document.clone(),
            });
        }
        _ => {}
    }
    Ok(())
}

/// The trust a change creates, its role and principal named by id (or, failing that, by a
/// name that picks one) among the snapshot's entities and the created ones.
fn created_trust(s: &Snapshot, spec: &ChangeSpec) -> Result<Option<RoleTrust>, Fault> {
    let ChangeSpec::CreateRoleTrust {
        id,
        role,
        user,
        group,
        trust_type,
        conditions,
        valid_until,
    } = spec
    else {
        return Ok(None);
    };
    let role_at = pick(EntityKind::Role, role, &s.roles, |r| (&r.id, &r.name))?;
    if s.roles[role_at].role_type != RoleType::Assumable {
        return Err(Fault::Change(ChangeError::NotAssumable {
            role: s.roles[role_at].id.clone(),
        }));
    }
    let (trusted_user_id, trusted_group_id) = match (user, group) {
        (Some(user), None) => {
            let at = pick(EntityKind::User, user, &s.users, |u| (&u.id, &u.email))?;
            (Some(s.users[at].id.clone()), None)
        }
        (None, Some(group)) => {
            let at = pick(EntityKind::Group, group, &s.groups, |g| {
                (&g.id, &g.display_name)
            })?;
            (None, Some(s.groups[at].id.clone()))
        }
        _ => {
            return Err(Fault::Change(ChangeError::TrustPrincipal {
                trust: id.clone(),
            }))
        }
    };
    Ok(Some(RoleTrust {
        id: id.clone(),
        role_id: s.roles[role_at].id.clone(),
        trust_type: trust_type.clone(),
        trusted_user_id,
        trusted_group_id,
        oidc_issuer_id: None,
        trusted_organization_id: None,
        conditions: conditions.clone(),
        valid_until: valid_until.clone(),
    }))
}

/// The position of the entity whose id is `query`, or failing that the one whose name is.
fn pick<T>(
    kind: EntityKind,
    query: &str,
    items: &[T],
    id_name: impl Fn(&T) -> (&String, &String),
) -> Result<usize, Fault> {
    if let Some(at) = items.iter().position(|t| id_name(t).0 == query) {
        return Ok(at);
    }
    let named: Vec<usize> = (0..items.len())
        .filter(|&i| id_name(&items[i]).1 == query)
        .collect();
    match named[..] {
        [one] => Ok(one),
        [] => Err(Fault::Lookup(LookupError::NotFound {
            kind,
            query: query.to_string(),
            candidates: Vec::new(),
            more_candidates: 0,
            suggestions: Vec::new(),
            more_suggestions: 0,
        })),
        _ => Err(Fault::Lookup(LookupError::Ambiguous {
            kind,
            query: query.to_string(),
            candidates: named
                .iter()
                .map(|&i| id_name(&items[i]).0.clone())
                .collect(),
        })),
    }
}

/// What a change set with creations does, compiled and simulated in one call: the snapshot
/// with the created entities compiled once ([`Org::compile_changes`]), then the changes
/// simulated together as one step ([`Org::simulate_with`]). A created user is reported as
/// reached, with nothing before.
///
/// ```
/// use iamsim_core::{parse_changes, simulate_changes, Catalogue, CompileOptions, Snapshot};
/// use iamsim_core::SimulateOptions;
///
/// let snapshot = Snapshot::from_json_str(r#"{
///   "format": "iamsim.snapshot.v1", "organization": {"id": "o"},
///   "users": [{"id": "u-ana", "email": "ana@example.com"}],
///   "groups": [], "roles": [],
///   "policies": [{"id": "p-read", "name": "read", "policy_document":
///     {"Statement": {"Effect": "Allow", "Action": "compute.instance.list", "Resource": "*"}}}]
/// }"#)?;
/// let changes = parse_changes(r#"[
///   {"kind": "create_group", "id": "g-new", "name": "New"},
///   {"kind": "attach_policy", "policy": "p-read", "group": "g-new"},
///   {"kind": "add_member", "group": "g-new", "user": "u-ana"}
/// ]"#)?;
/// let impact = simulate_changes(
///     &snapshot,
///     &Catalogue::bundled(),
///     &CompileOptions::default(),
///     &changes,
///     &SimulateOptions::default(),
/// )?;
/// assert_eq!(impact.summary.users_gaining, 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn simulate_changes(
    snapshot: &Snapshot,
    catalogue: &Catalogue,
    compile: &CompileOptions,
    specs: &[ChangeSpec],
    options: &SimulateOptions,
) -> Result<Impact, ChangeSetFailure> {
    let Compiled { org, changes } = Org::compile_changes(snapshot, catalogue, compile, specs)?;
    org.check_all(&changes, options)?;
    org.simulate_with(&changes, options).map_err(|source| {
        // Unreachable after `check_all`, which makes every change the simulation makes.
        ChangeSetError { index: 0, source }.into()
    })
}

/// A change set compiled against its organization ([`Org::compile_changes`]): what to
/// check, simulate, stream or gate it with.
#[derive(Debug)]
#[non_exhaustive]
pub struct Compiled {
    /// The snapshot compiled with the entities the change set creates (each absent until its
    /// change).
    pub org: Org,
    /// The change set resolved against [`Compiled::org`], in the order given.
    pub changes: Vec<Change>,
}

impl Org {
    /// Compiles `snapshot` with the entities `specs` create ([`with_created`]) and resolves
    /// the changes against it: the organization to simulate a change set with creations on.
    /// In it a created user, group, role or policy exists and holds nothing before its change
    /// (nobody's access depends on it), and a created trust exists only once its change is
    /// made; a change naming a created entity before the change that creates it is an error.
    /// Without creations, this is [`Org::compile_with`] and [`Org::resolve_all`].
    pub fn compile_changes(
        snapshot: &Snapshot,
        catalogue: &Catalogue,
        options: &CompileOptions,
        specs: &[ChangeSpec],
    ) -> Result<Compiled, ChangeSetFailure> {
        let extended = with_created(snapshot, specs)?;
        let mut org = Org::compile_with(&extended, catalogue, options)?;
        if let Cow::Owned(extended) = &extended {
            let trusts = extended.role_trusts.len() - snapshot.role_trusts.len();
            // INVARIANT: created trusts come last and always compile (their role exists and
            // is assumable, their principal exists: `created_trust`), so they are the last
            // trust nodes.
            org.set_created_from(CreatedFrom {
                users: snapshot.users.len(),
                groups: snapshot.groups.len(),
                roles: snapshot.roles.len(),
                policies: snapshot.policies.len(),
                trusts: org.trust_nodes().len() - trusts,
            });
        }
        let changes = org.resolve_all(specs)?;
        Ok(Compiled { org, changes })
    }

    /// Whether a change of the set creates the entity (it is absent until then).
    pub(crate) fn pending(&self, made: Made) -> bool {
        let Some(from) = self.created_from() else {
            return false;
        };
        match made {
            Made::User(u) => u.index() >= from.users,
            Made::Group(g) => g.index() >= from.groups,
            Made::Role(r) => r.index() >= from.roles,
            Made::Policy(p) => p.index() >= from.policies,
            Made::Trust(t) => t.index() >= from.trusts,
        }
    }

    /// The entity and its kind and id, for messages.
    fn made_id(&self, made: Made) -> (EntityKind, String) {
        match made {
            Made::User(u) => (EntityKind::User, self.user_nodes().id(u).to_string()),
            Made::Group(g) => (EntityKind::Group, self.group_nodes().id(g).to_string()),
            Made::Role(r) => (EntityKind::Role, self.role_nodes().id(r).to_string()),
            Made::Policy(p) => (EntityKind::Policy, self.policy_nodes().id(p).to_string()),
            Made::Trust(t) => (EntityKind::Trust, self.trust_nodes()[t].id.clone()),
        }
    }

    /// An error when a later change of the set creates the entity.
    pub(crate) fn created_yet(&self, made: Made, ov: &Overlay) -> Result<(), ChangeError> {
        if self.view(ov).created(made) {
            return Ok(());
        }
        let (kind, id) = self.made_id(made);
        Err(ChangeError::NotCreated { kind, id })
    }

    /// Records a creation in the overlay: the entity must be one the set creates, not created
    /// yet; a trust's role and principal must exist by then.
    pub(crate) fn apply_create(
        &self,
        change: &Change,
        ov: &mut Overlay,
    ) -> Result<(), ChangeError> {
        let made = match *change {
            Change::CreateUser { user } => Made::User(self.user_ix(user)),
            Change::CreateGroup { group } => Made::Group(self.group_ix(group)),
            Change::CreateRole { role } => Made::Role(self.role_ix(role)),
            Change::CreatePolicy { policy } => Made::Policy(self.policy_ix(policy)),
            Change::CreateRoleTrust { trust } => Made::Trust(self.trust_ix(trust)),
            _ => unreachable!("only creations are applied here"),
        };
        if !self.pending(made) || ov.created.contains(&made) {
            let (kind, id) = self.made_id(made);
            return Err(ChangeError::Exists { kind, id });
        }
        if let Made::Trust(t) = made {
            let node = &self.trust_nodes()[t];
            self.alive_role(node.role, ov)?;
            if let Some(user) = node.user {
                self.alive_user(user, ov)?;
            }
            if let Some(group) = node.group {
                self.alive_group(group, ov)?;
            }
        }
        ov.created.insert(made);
        Ok(())
    }

    /// The user a created trust names (named by the change, so reported even when nothing
    /// changes for them), as a raw index.
    pub(crate) fn trusted_user(&self, change: &Change) -> Option<u32> {
        match *change {
            Change::CreateRoleTrust { trust } => self.trust_nodes()[self.trust_ix(trust)]
                .user
                .map(|u| u.raw()),
            _ => None,
        }
    }

    /// The summary of a creation: its kind and the entity (a trust with its role).
    pub(crate) fn summarize_create(&self, change: &Change, s: &mut ChangeSummary) {
        match *change {
            Change::CreateUser { user } => {
                s.kind = ChangeKind::CreateUser;
                let summary = self.user_summary(self.user_ix(user));
                s.user = Some(UserRef {
                    id: summary.id.to_string(),
                    email: summary.email.to_string(),
                });
            }
            Change::CreateGroup { group } => {
                s.kind = ChangeKind::CreateGroup;
                s.group = Some(self.group_ref(self.group_ix(group)));
            }
            Change::CreateRole { role } => {
                s.kind = ChangeKind::CreateRole;
                s.role = Some(self.role_ref(self.role_ix(role)));
            }
            Change::CreatePolicy { policy } => {
                s.kind = ChangeKind::CreatePolicy;
                s.policy = Some(self.policy_ref(self.policy_ix(policy)));
            }
            Change::CreateRoleTrust { trust } => {
                s.kind = ChangeKind::CreateRoleTrust;
                let node = &self.trust_nodes()[self.trust_ix(trust)];
                s.trust = Some(EntityRef {
                    id: node.id.clone(),
                    name: node.id.clone(),
                });
                s.role = Some(self.role_ref(node.role));
            }
            _ => unreachable!("only creations are summarized here"),
        }
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
        // The creation kinds: a trust's conditions are an object, kept as written.
        let specs = parse_changes(
            r#"[{"kind": "create_group", "id": "tf.g", "name": "G"},
            {"kind": "create_role_trust", "id": "tf.t", "role": "R", "group": "tf.g",
             "conditions": {"ip_address": ["10.0.0.0/8"]}}]"#,
        )
        .unwrap();
        assert_eq!(specs[0].creates(), Some((EntityKind::Group, "tf.g")));
        assert!(matches!(
            &specs[1],
            ChangeSpec::CreateRoleTrust { conditions: Some(c), trust_type, .. }
                if c["ip_address"][0] == "10.0.0.0/8" && trust_type.is_empty()
        ));
        let err = parse_changes(
            r#"[{"kind": "create_role", "id": "r", "name": "n", "role_type": "admin"}]"#,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("unknown variant `admin`"), "{err}");
        let err = parse_changes(
            r#"[{"kind": "create_role_trust", "id": "t", "role": 5, "user": "u", "conditions": {}}]"#,
        )
        .unwrap_err()
        .to_string();
        assert!(err.starts_with("[0].role: invalid type"), "{err}");
        // A missing field stays at the change.
        let err = parse_changes(r#"[{"kind": "remove_member", "group": "G"}]"#)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("[0]: missing field `user`"), "{err}");
    }
}
