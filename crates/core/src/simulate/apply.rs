//! Recording changes into an [`Overlay`] and checking them: that each names what exists and
//! is still alive, and does something.

use std::collections::BTreeMap;

use super::{Change, Holder, Principal};
use crate::error::{ChangeError, ChangeSetError, EntityKind};
use crate::eval::Overlay;
use crate::idx::{Idx, IdxRange};
use crate::model::PolicyDocument;
use crate::org::{compile_statement, GroupIx, Org, PolicyIx, RoleIx, UserIx};
use crate::overlay::{Edge, Made};
use crate::policy::parse_document;

impl Org {
    /// The overlay of a change set, and the changes that do something (all of them, unless
    /// `allow_noop` lets no-ops through); or the first change that cannot be made.
    pub(super) fn overlay_of<'c>(
        &self,
        changes: &'c [Change],
        allow_noop: bool,
    ) -> Result<(Overlay, Vec<&'c Change>), ChangeSetError<ChangeError>> {
        let mut overlay = Overlay::none();
        let mut applied = Vec::with_capacity(changes.len());
        for (i, change) in changes.iter().enumerate() {
            match self.apply(change, &mut overlay) {
                Ok(()) => applied.push(change),
                Err(ChangeError::Noop { .. }) if allow_noop => {}
                Err(source) => return Err(ChangeSetError { index: i, source }),
            }
        }
        Ok((overlay, applied))
    }

    /// Records one change in the overlay, checking it against the changes before it.
    pub(super) fn apply(&self, change: &Change, ov: &mut Overlay) -> Result<(), ChangeError> {
        let noop = |reason: String| Err(ChangeError::Noop { reason });
        if let Some((edge, attach)) = edge_of(self, change) {
            self.alive_ends(edge, ov)?;
            if self.edge_present(edge, ov) == attach {
                return noop(self.edge_state(edge, attach));
            }
            toggle(ov, edge, attach);
            return Ok(());
        }
        match change {
            Change::RemoveMember { .. }
            | Change::AddMember { .. }
            | Change::DetachPolicy { .. }
            | Change::AttachPolicy { .. }
            | Change::DetachRole { .. }
            | Change::AttachRole { .. } => unreachable!("edge changes are handled above"),
            Change::DeleteGroup { group } => {
                let group = self.group_ix(*group);
                self.alive_group(group, ov)?;
                ov.deleted_groups.insert(group);
            }
            Change::DeleteRole { role } => {
                let role = self.role_ix(*role);
                self.alive_role(role, ov)?;
                ov.deleted_roles.insert(role);
            }
            Change::DeletePolicy { policy } => {
                let policy = self.policy_ix(*policy);
                self.alive_policy(policy, ov)?;
                ov.deleted_policies.insert(policy);
            }
            Change::SuspendUser { user } | Change::UnsuspendUser { user } => {
                let key = *user;
                let user = self.user_ix(key);
                self.alive_user(user, ov)?;
                let suspend = matches!(change, Change::SuspendUser { .. });
                if self.suspended(user, ov) == suspend {
                    let state = if suspend {
                        "already suspended"
                    } else {
                        "not suspended"
                    };
                    return noop(format!("user `{}` is {state}", self.user_id(key)));
                }
                ov.suspension.insert(user, suspend);
            }
            Change::RemoveUser { user } => {
                let user = self.user_ix(*user);
                self.alive_user(user, ov)?;
                ov.removed_users.insert(user);
            }
            Change::ReplacePolicyDocument { policy, document } => {
                let policy = self.policy_ix(*policy);
                self.alive_policy(policy, ov)?;
                if self.policy_nodes()[policy].system {
                    return Err(ChangeError::SystemPolicy {
                        policy: self.policy_nodes().id(policy).to_string(),
                    });
                }
                self.replace_document(policy, document, ov)?;
            }
            Change::DeleteRoleTrust { trust } => {
                let trust = self.trust_ix(*trust);
                self.created_yet(Made::Trust(trust), ov)?;
                if ov.deleted_trusts.contains(&trust)
                    || ov.deleted_roles.contains(&self.trust_nodes()[trust].role)
                {
                    return Err(ChangeError::Deleted {
                        kind: EntityKind::Trust,
                        id: self.trust_nodes()[trust].id.clone(),
                    });
                }
                ov.deleted_trusts.insert(trust);
            }
            Change::CreateUser { .. }
            | Change::CreateGroup { .. }
            | Change::CreateRole { .. }
            | Change::CreatePolicy { .. }
            | Change::CreateRoleTrust { .. } => self.apply_create(change, ov)?,
        }
        Ok(())
    }

    /// Compiles a replacement document into the overlay, adding the universe elements it names
    /// that the organization lacks.
    pub(super) fn replace_document(
        &self,
        policy: PolicyIx,
        document: &PolicyDocument,
        ov: &mut Overlay,
    ) -> Result<(), ChangeError> {
        let id = self.policy_nodes().id(policy);
        let parsed = parse_document(document).map_err(|error| ChangeError::Document {
            policy: id.to_string(),
            statement: error.statement(),
            reason: error.to_string(),
        })?;
        for pattern in parsed.iter().flat_map(|statement| &statement.actions) {
            if self.universe_slice().binary_search(pattern).is_err()
                && !ov.extra_elements.contains(pattern)
            {
                ov.extra_elements.push(pattern.clone());
            }
        }
        let start = Idx::new(self.statement_nodes().len() + ov.statements.len());
        let mut cache = BTreeMap::new();
        for (si, statement) in parsed.iter().enumerate() {
            ov.statements.push(compile_statement(
                self.universe_slice(),
                &mut cache,
                si,
                statement,
            ));
        }
        ov.documents
            .insert(policy, IdxRange::new(start, parsed.len()));
        Ok(())
    }

    /// Both ends of an edge exist under the overlay (the attached thing is checked first).
    pub(super) fn alive_ends(&self, edge: Edge, ov: &Overlay) -> Result<(), ChangeError> {
        match edge {
            Edge::Member { user, group } => {
                self.alive_user(user, ov)?;
                self.alive_group(group, ov)
            }
            Edge::UserPolicy { user, policy } => {
                self.alive_policy(policy, ov)?;
                self.alive_user(user, ov)
            }
            Edge::GroupPolicy { group, policy } => {
                self.alive_policy(policy, ov)?;
                self.alive_group(group, ov)
            }
            Edge::RolePolicy { role, policy } => {
                self.alive_policy(policy, ov)?;
                self.alive_role(role, ov)
            }
            Edge::UserRole { user, role } => {
                self.alive_role(role, ov)?;
                self.alive_user(user, ov)
            }
            Edge::GroupRole { group, role } => {
                self.alive_role(role, ov)?;
                self.alive_group(group, ov)
            }
        }
    }

    /// What a change that would do nothing finds: the edge already there, or already absent.
    pub(super) fn edge_state(&self, edge: Edge, attach: bool) -> String {
        let user = |u: UserIx| format!("user `{}`", self.user_nodes().id(u));
        let group = |g: GroupIx| format!("group `{}`", self.group_nodes().id(g));
        let role = |r: RoleIx| format!("role `{}`", self.role_nodes().id(r));
        let policy = |p: PolicyIx| format!("policy `{}`", self.policy_nodes().id(p));
        let state = if attach {
            "already attached"
        } else {
            "not attached"
        };
        match edge {
            Edge::Member { user: u, group: g } if attach => {
                format!("{} is already a member of {}", user(u), group(g))
            }
            Edge::Member { user: u, group: g } => {
                format!("{} is not a member of {}", user(u), group(g))
            }
            Edge::UserPolicy { user: u, policy: p } => {
                format!("{} is {state} to {}", policy(p), user(u))
            }
            Edge::GroupPolicy {
                group: g,
                policy: p,
            } => format!("{} is {state} to {}", policy(p), group(g)),
            Edge::RolePolicy { role: r, policy: p } => {
                format!("{} is {state} to {}", policy(p), role(r))
            }
            Edge::UserRole { user: u, role: r } => format!("{} is {state} to {}", role(r), user(u)),
            Edge::GroupRole { group: g, role: r } => {
                format!("{} is {state} to {}", role(r), group(g))
            }
        }
    }

    pub(crate) fn alive_user(&self, user: UserIx, ov: &Overlay) -> Result<(), ChangeError> {
        self.created_yet(Made::User(user), ov)?;
        deleted_check(
            ov.removed_users.contains(&user),
            EntityKind::User,
            self.user_nodes().id(user),
        )
    }

    pub(crate) fn alive_group(&self, group: GroupIx, ov: &Overlay) -> Result<(), ChangeError> {
        self.created_yet(Made::Group(group), ov)?;
        deleted_check(
            ov.deleted_groups.contains(&group),
            EntityKind::Group,
            self.group_nodes().id(group),
        )
    }

    pub(crate) fn alive_role(&self, role: RoleIx, ov: &Overlay) -> Result<(), ChangeError> {
        self.created_yet(Made::Role(role), ov)?;
        deleted_check(
            ov.deleted_roles.contains(&role),
            EntityKind::Role,
            self.role_nodes().id(role),
        )
    }

    pub(crate) fn alive_policy(&self, policy: PolicyIx, ov: &Overlay) -> Result<(), ChangeError> {
        self.created_yet(Made::Policy(policy), ov)?;
        deleted_check(
            ov.deleted_policies.contains(&policy),
            EntityKind::Policy,
            self.policy_nodes().id(policy),
        )
    }
}

/// The edge a membership or attachment change adds (`true`) or takes away (`false`), in `org`
/// (whose keys the change must hold).
pub(super) fn edge_of(org: &Org, change: &Change) -> Option<(Edge, bool)> {
    Some(match *change {
        Change::RemoveMember { group, user } | Change::AddMember { group, user } => (
            Edge::Member {
                user: org.user_ix(user),
                group: org.group_ix(group),
            },
            matches!(change, Change::AddMember { .. }),
        ),
        Change::DetachPolicy {
            policy,
            from: holder,
        }
        | Change::AttachPolicy { policy, to: holder } => {
            let policy = org.policy_ix(policy);
            let edge = match holder {
                Holder::User(u) => Edge::UserPolicy {
                    user: org.user_ix(u),
                    policy,
                },
                Holder::Group(g) => Edge::GroupPolicy {
                    group: org.group_ix(g),
                    policy,
                },
                Holder::Role(r) => Edge::RolePolicy {
                    role: org.role_ix(r),
                    policy,
                },
            };
            (edge, matches!(change, Change::AttachPolicy { .. }))
        }
        Change::DetachRole {
            role,
            from: principal,
        }
        | Change::AttachRole {
            role,
            to: principal,
        } => {
            let role = org.role_ix(role);
            let edge = match principal {
                Principal::User(u) => Edge::UserRole {
                    user: org.user_ix(u),
                    role,
                },
                Principal::Group(g) => Edge::GroupRole {
                    group: org.group_ix(g),
                    role,
                },
            };
            (edge, matches!(change, Change::AttachRole { .. }))
        }
        _ => return None,
    })
}

pub(super) fn toggle(ov: &mut Overlay, edge: Edge, attach: bool) {
    // Undo an opposite change in the same set rather than stacking both.
    if attach {
        if !ov.removed.remove(&edge) {
            ov.added.insert(edge);
        }
    } else if !ov.added.remove(&edge) {
        ov.removed.insert(edge);
    }
}

pub(super) fn deleted_check(deleted: bool, kind: EntityKind, id: &str) -> Result<(), ChangeError> {
    if deleted {
        Err(ChangeError::Deleted {
            kind,
            id: id.to_string(),
        })
    } else {
        Ok(())
    }
}
