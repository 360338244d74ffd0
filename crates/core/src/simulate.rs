//! What-if: changes applied as an [`Overlay`] and compared with the organization as it is.

use std::collections::BTreeSet;

use crate::error::LookupError;
use crate::eval::{Grants, Overlay};
use crate::org::{GroupKey, Org, UserKey};
use crate::report::{ChangeSummary, Impact, UserImpact, UserRef, SCHEMA_VERSION};

/// A change to simulate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Change {
    /// Take `user` out of `group`.
    RemoveMember {
        /// The group.
        group: GroupKey,
        /// The user, who must be a member.
        user: UserKey,
    },
}

impl Org {
    /// What `changes`, applied together, would do to every user they reach: what each loses,
    /// keeps (and through what) and gains, and the assumable roles they lose.
    ///
    /// The organization is not modified. Removing a user from a group they are not in is an error.
    pub fn simulate(&self, changes: &[Change]) -> Result<Impact, LookupError> {
        let mut overlay = Overlay::none();
        let mut affected = BTreeSet::new();
        let mut summaries = Vec::new();
        for change in changes {
            match *change {
                Change::RemoveMember { group, user } => {
                    if !self.is_member(user, group) {
                        return Err(LookupError::NotAMember {
                            user: self.user_id(user).to_string(),
                            group: self.group_id(group).to_string(),
                        });
                    }
                    overlay.removed_members.insert((user.0, group.0));
                    affected.insert(user.0);
                    let summary = self.user_summary(user.0);
                    summaries.push(ChangeSummary::RemoveMember {
                        group: self.group_ref(group.0),
                        user: UserRef {
                            id: summary.id,
                            email: summary.email,
                        },
                    });
                }
            }
        }
        let users = affected
            .into_iter()
            .map(|u| self.user_impact(u, &overlay))
            .collect();
        Ok(Impact {
            schema_version: SCHEMA_VERSION,
            changes: summaries,
            users,
        })
    }

    fn user_impact(&self, user: u32, overlay: &Overlay) -> UserImpact {
        let mut impact = UserImpact {
            user: self.user_summary(user),
            lost: Vec::new(),
            kept: Vec::new(),
            gained: Vec::new(),
            assumable_lost: Vec::new(),
            unchanged_count: 0,
            note: None,
        };
        if self.root == Some(user) {
            impact.note =
                Some("root user: unconditional access; no change affects them".to_string());
            return impact;
        }
        if self.users[user as usize].suspended {
            impact.note =
                Some("suspended user: no access before or after; assignments are kept".to_string());
            return impact;
        }
        let before = self.grants(user, &Overlay::none());
        let after = self.grants(user, overlay);
        self.compare(user, &before, &after, &mut impact);
        let trusts_before = self.trusts_of(user, &Overlay::none());
        let trusts_after = self.trusts_of(user, overlay);
        let lost_trusts = trusts_before
            .into_iter()
            .filter(|(t, _)| !trusts_after.contains_key(t))
            .collect();
        impact.assumable_lost = self.assumables(user, &lost_trusts);
        impact
    }

    /// Compares two sets of grants key by key. Both sides are judged on the union of their
    /// resource keys, so a Deny on one resource that goes away is seen even when nothing
    /// after the change names that resource.
    fn compare(&self, user: u32, before: &Grants, after: &Grants, impact: &mut UserImpact) {
        let actions: BTreeSet<u32> = before
            .by_action
            .keys()
            .chain(after.by_action.keys())
            .copied()
            .collect();
        let mut keys = BTreeSet::new();
        for action in actions {
            keys.clear();
            before.keys(self, action, &mut keys);
            after.keys(self, action, &mut keys);
            for key in &keys {
                let was = before.judge(self, action, key);
                let now = after.judge(self, action, key);
                match (was.allowed(), now.allowed()) {
                    (true, false) => impact.lost.push(self.entry(user, action, key, &was.allow)),
                    (true, true) if was.allow != now.allow => {
                        impact.kept.push(self.entry(user, action, key, &now.allow))
                    }
                    (false, true) => impact
                        .gained
                        .push(self.entry(user, action, key, &now.allow)),
                    _ if !was.is_implicit() && was == now => impact.unchanged_count += 1,
                    _ => {}
                }
            }
        }
    }
}
