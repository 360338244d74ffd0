//! `--verify`: Vultr's own per-user views against what the snapshot gives each user.

use std::collections::{BTreeMap, BTreeSet};

use iamsim_core::model::Snapshot;
use serde::{Deserialize, Serialize};

use crate::api;
use crate::client::{encode, Client};
use crate::crawl::{Crawler, Progress};
use crate::Error;

/// The outcome of a verification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verification {
    /// Users whose views were read.
    pub users_checked: usize,
    /// Every disagreement, by user.
    pub differences: Vec<Difference>,
}

/// One view of one user that disagrees with the snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Difference {
    /// The user's id.
    pub user: String,
    /// The user's email.
    pub email: String,
    /// `policies.all`, `policies.direct`, `roles.all`, `roles.direct`, or `user` when the user
    /// is gone.
    pub view: String,
    /// Ids Vultr lists that the snapshot does not give.
    pub only_in_vultr: Vec<String>,
    /// Ids the snapshot gives that Vultr does not list.
    pub only_in_snapshot: Vec<String>,
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let list = |ids: &[String]| {
            ids.iter()
                .map(|i| format!("`{i}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        write!(f, "user `{}` ({}): {}", self.email, self.user, self.view)?;
        if self.view == "user" {
            return write!(f, ": answered 404; the user is gone");
        }
        if !self.only_in_vultr.is_empty() {
            write!(
                f,
                ": Vultr lists {} that the snapshot does not give",
                list(&self.only_in_vultr)
            )?;
        }
        if !self.only_in_snapshot.is_empty() {
            write!(
                f,
                "{} the snapshot gives {} that Vultr does not list",
                if self.only_in_vultr.is_empty() {
                    ":"
                } else {
                    ";"
                },
                list(&self.only_in_snapshot)
            )?;
        }
        Ok(())
    }
}

/// What the snapshot gives one user, as ids.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Expected {
    /// Policies attached to the user.
    pub direct_policies: BTreeSet<String>,
    /// Every policy reaching the user: direct, through groups, through roles of the user and of
    /// their groups.
    pub all_policies: BTreeSet<String>,
    /// Roles attached to the user.
    pub direct_roles: BTreeSet<String>,
    /// Roles attached to the user or to one of their groups.
    pub all_roles: BTreeSet<String>,
}

/// What the snapshot gives each user, by user id: the same graph the engine walks, as the
/// sets of policies and roles Vultr's per-user views list.
pub(crate) fn expected(snapshot: &Snapshot) -> BTreeMap<String, Expected> {
    let role_policies: BTreeMap<&str, &Vec<String>> = snapshot
        .roles
        .iter()
        .map(|r| (r.id.as_str(), &r.policies))
        .collect();
    let mut out: BTreeMap<String, Expected> = snapshot
        .users
        .iter()
        .map(|u| {
            let e = Expected {
                direct_policies: u.policies.iter().cloned().collect(),
                all_policies: u.policies.iter().cloned().collect(),
                direct_roles: u.roles.iter().cloned().collect(),
                all_roles: u.roles.iter().cloned().collect(),
            };
            (u.id.clone(), e)
        })
        .collect();
    for group in &snapshot.groups {
        for member in &group.members {
            if let Some(e) = out.get_mut(member) {
                e.all_policies.extend(group.policies.iter().cloned());
                e.all_roles.extend(group.roles.iter().cloned());
            }
        }
    }
    for e in out.values_mut() {
        for role in &e.all_roles {
            if let Some(policies) = role_policies.get(role.as_str()) {
                e.all_policies.extend(policies.iter().cloned());
            }
        }
    }
    out
}

/// Reads `/users/{id}/policies` and `/users/{id}/roles` for every user of `snapshot` and
/// compares them with what the snapshot gives.
pub fn verify(
    client: &mut Client,
    snapshot: &Snapshot,
    per_page: u32,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Verification, Error> {
    let expected = expected(snapshot);
    let mut crawler = Crawler::new(client, per_page, crate::CrawlLimits::default(), progress);
    let mut differences = Vec::new();
    let total = snapshot.users.len();
    for (i, user) in snapshot.users.iter().enumerate() {
        crawler.report("verify", i, total);
        let base = format!("/users/{}", encode(&user.id));
        let want = &expected[&user.id];
        let policies = format!("{base}/policies");
        let roles = format!("{base}/roles");
        let what = format!("user `{}`", user.id);
        let read = crawler.per_item(&base, &what, |c| {
            let p = c.buckets(
                &policies,
                "policies",
                &["all", "direct"],
                api::Policy::FIELDS,
            )?;
            let r = c.buckets(&roles, "roles", &["all", "direct"], api::GROUP_ROLE_FIELDS)?;
            Ok((p, r))
        })?;
        let Some((p, r)) = read else {
            differences.push(Difference {
                user: user.id.clone(),
                email: user.email.clone(),
                view: "user".to_string(),
                only_in_vultr: Vec::new(),
                only_in_snapshot: vec![user.id.clone()],
            });
            continue;
        };
        let views = [
            ("policies.all", &p[0], &want.all_policies),
            ("policies.direct", &p[1], &want.direct_policies),
            ("roles.all", &r[0], &want.all_roles),
            ("roles.direct", &r[1], &want.direct_roles),
        ];
        for (view, listed, want) in views {
            let listed: BTreeSet<String> = listed
                .iter()
                .filter_map(|v| v.get("id").and_then(|i| i.as_str()).map(str::to_string))
                .collect();
            if &listed != want {
                differences.push(Difference {
                    user: user.id.clone(),
                    email: user.email.clone(),
                    view: view.to_string(),
                    only_in_vultr: listed.difference(want).cloned().collect(),
                    only_in_snapshot: want.difference(&listed).cloned().collect(),
                });
            }
        }
    }
    crawler.report("verify", total, total);
    Ok(Verification {
        users_checked: total,
        differences,
    })
}
