//! Who a change reaches (members, holders of a role or policy, trusted principals) and how
//! a report names the change.

use super::{Change, Holder, Principal};
use crate::org::{GroupIx, Org, PolicyIx, RoleIx, TrustIx, UserIx, UserKey};
use crate::report::{ChangeKind, ChangeSummary, UserRef};

impl Org {
    /// Members of a group in the base organization (removed memberships included).
    pub(super) fn members(&self, group: GroupIx, into: &mut Vec<UserIx>) {
        into.extend(self.as_is().group_members(group));
    }

    /// Users holding a role in the base organization, directly or through a group.
    pub(super) fn role_holders(&self, role: RoleIx, into: &mut Vec<UserIx>) {
        into.extend(self.as_is().role_users(role));
        for &group in self.as_is().role_groups(role) {
            self.members(group, into);
        }
    }

    /// Users reaching a policy by any route in the base organization.
    pub(super) fn policy_holders(&self, policy: PolicyIx, into: &mut Vec<UserIx>) {
        into.extend(self.as_is().policy_users(policy));
        for &group in self.as_is().policy_groups(policy) {
            self.members(group, into);
        }
        for &role in self.as_is().policy_roles(policy) {
            self.role_holders(role, into);
        }
    }

    /// The users a change can reach, over the base organization's edges only, added to
    /// `into` (in no order, maybe more than once: the caller sorts the list once, rather than
    /// keeping a set ordered member by member).
    ///
    /// Edges added by the change set need no walk of their own: a user reaches an entity
    /// through added edges only if, on that route, the added edge nearest the user hangs from
    /// something the user holds by base edges alone, and the change that adds it reaches every
    /// base holder of that thing. The union over the set's changes is therefore complete.
    pub(super) fn reach(&self, change: &Change, into: &mut Vec<UserIx>) {
        let holder = |h: Holder, into: &mut Vec<UserIx>| match h {
            Holder::User(u) => {
                into.push(self.user_ix(u));
            }
            Holder::Group(g) => self.members(self.group_ix(g), into),
            Holder::Role(r) => self.role_holders(self.role_ix(r), into),
        };
        match change {
            Change::RemoveMember { user, .. }
            | Change::AddMember { user, .. }
            | Change::SuspendUser { user }
            | Change::UnsuspendUser { user }
            | Change::RemoveUser { user } => {
                into.push(self.user_ix(*user));
            }
            Change::DetachPolicy { from: h, .. } | Change::AttachPolicy { to: h, .. } => {
                holder(*h, into)
            }
            Change::DetachRole { from: p, .. } | Change::AttachRole { to: p, .. } => match *p {
                Principal::User(u) => holder(Holder::User(u), into),
                Principal::Group(g) => holder(Holder::Group(g), into),
            },
            Change::DeleteGroup { group } => self.members(self.group_ix(*group), into),
            Change::DeleteRole { role } => {
                let role = self.role_ix(*role);
                self.role_holders(role, into);
                for (t, trust) in self.trust_nodes().iter() {
                    if trust.role == role {
                        self.trust_principals(t, into);
                    }
                }
            }
            Change::DeletePolicy { policy } | Change::ReplacePolicyDocument { policy, .. } => {
                self.policy_holders(self.policy_ix(*policy), into)
            }
            Change::DeleteRoleTrust { trust } | Change::CreateRoleTrust { trust } => {
                self.trust_principals(self.trust_ix(*trust), into)
            }
            Change::CreateUser { user } => {
                into.push(self.user_ix(*user));
            }
            // Inert: nobody's access changes until a later change attaches them.
            Change::CreateGroup { .. }
            | Change::CreateRole { .. }
            | Change::CreatePolicy { .. } => {}
        }
    }

    pub(super) fn trust_principals(&self, trust: TrustIx, into: &mut Vec<UserIx>) {
        let trust = &self.trust_nodes()[trust];
        into.extend(trust.user);
        if let Some(group) = trust.group {
            self.members(group, into);
        }
    }

    pub(crate) fn summarize(&self, change: &Change) -> ChangeSummary {
        let mut s = ChangeSummary {
            kind: ChangeKind::RemoveMember,
            group: None,
            user: None,
            role: None,
            policy: None,
            trust: None,
        };
        let user_ref = |u: UserKey| {
            let summary = self.user_summary(self.user_ix(u));
            UserRef {
                id: summary.id.to_string(),
                email: summary.email.to_string(),
            }
        };
        let holder = |s: &mut ChangeSummary, h: Holder| match h {
            Holder::User(u) => s.user = Some(user_ref(u)),
            Holder::Group(g) => s.group = Some(self.group_ref(self.group_ix(g))),
            Holder::Role(r) => s.role = Some(self.role_ref(self.role_ix(r))),
        };
        let principal = |p: Principal| match p {
            Principal::User(u) => Holder::User(u),
            Principal::Group(g) => Holder::Group(g),
        };
        match change {
            Change::RemoveMember { group, user } | Change::AddMember { group, user } => {
                s.kind = if matches!(change, Change::RemoveMember { .. }) {
                    ChangeKind::RemoveMember
                } else {
                    ChangeKind::AddMember
                };
                s.group = Some(self.group_ref(self.group_ix(*group)));
                s.user = Some(user_ref(*user));
            }
            Change::DetachPolicy { policy, from: h } | Change::AttachPolicy { policy, to: h } => {
                s.kind = if matches!(change, Change::DetachPolicy { .. }) {
                    ChangeKind::DetachPolicy
                } else {
                    ChangeKind::AttachPolicy
                };
                s.policy = Some(self.policy_ref(self.policy_ix(*policy)));
                holder(&mut s, *h);
            }
            Change::DetachRole { role, from: p } | Change::AttachRole { role, to: p } => {
                s.kind = if matches!(change, Change::DetachRole { .. }) {
                    ChangeKind::DetachRole
                } else {
                    ChangeKind::AttachRole
                };
                s.role = Some(self.role_ref(self.role_ix(*role)));
                holder(&mut s, principal(*p));
            }
            Change::DeleteGroup { group } => {
                s.kind = ChangeKind::DeleteGroup;
                s.group = Some(self.group_ref(self.group_ix(*group)));
            }
            Change::DeleteRole { role } => {
                s.kind = ChangeKind::DeleteRole;
                s.role = Some(self.role_ref(self.role_ix(*role)));
            }
            Change::DeletePolicy { policy } => {
                s.kind = ChangeKind::DeletePolicy;
                s.policy = Some(self.policy_ref(self.policy_ix(*policy)));
            }
            Change::SuspendUser { user } => {
                s.kind = ChangeKind::SuspendUser;
                s.user = Some(user_ref(*user));
            }
            Change::UnsuspendUser { user } => {
                s.kind = ChangeKind::UnsuspendUser;
                s.user = Some(user_ref(*user));
            }
            Change::RemoveUser { user } => {
                s.kind = ChangeKind::RemoveUser;
                s.user = Some(user_ref(*user));
            }
            Change::ReplacePolicyDocument { policy, .. } => {
                s.kind = ChangeKind::ReplacePolicyDocument;
                s.policy = Some(self.policy_ref(self.policy_ix(*policy)));
            }
            Change::DeleteRoleTrust { trust } => {
                s.kind = ChangeKind::DeleteRoleTrust;
                let node = &self.trust_nodes()[self.trust_ix(*trust)];
                s.trust = Some(crate::report::EntityRef {
                    id: node.id.clone(),
                    name: node.id.clone(),
                });
                s.role = Some(self.role_ref(node.role));
            }
            Change::CreateUser { .. }
            | Change::CreateGroup { .. }
            | Change::CreateRole { .. }
            | Change::CreatePolicy { .. }
            | Change::CreateRoleTrust { .. } => self.summarize_create(change, &mut s),
        }
        s
    }
}
