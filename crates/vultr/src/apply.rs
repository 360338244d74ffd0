//! Applying a change through Vultr's own procedure, and checking its result: list the members,
//! delete the membership, check that it is gone, then compare a fresh crawl with the
//! prediction.

use std::collections::{BTreeMap, BTreeSet};

use iamsim_core::model::Snapshot;
use iamsim_core::{Catalogue, Org};

use crate::client::{encode, Client};
use crate::crawl::{normalize, typed};
use crate::{api, Error, Event, JsonKind, PageProblem, ShapeProblem};

/// Whether `user_id` is among the members `GET /groups/{group}/members` lists, Vultr's
/// documented way to check a membership (docs: "How to remove a user from a group"), read page
/// by page. A `members` list that is `null` or missing reads as empty: that is what a group
/// whose last member was removed may send, and the removal worked.
pub fn is_member(client: &mut Client, group_id: &str, user_id: &str) -> Result<bool, Error> {
    let path = format!("/groups/{}/members", encode(group_id));
    let mut cursor: Option<String> = None;
    let mut seen_cursors = BTreeSet::new();
    loop {
        let mut target = format!("{path}?per_page={MEMBER_PAGE}");
        if let Some(cursor) = &cursor {
            target.push_str("&cursor=");
            target.push_str(&encode(cursor));
        }
        let body = client.get_json(&target)?;
        let members: Vec<api::Member> = match body.get("members") {
            None | Some(serde_json::Value::Null) => Vec::new(),
            Some(list) => {
                typed(list, "members").map_err(|s| s.at(&client.describe("GET", &target)))?
            }
        };
        if members.iter().any(|m| m.id == user_id) {
            return Ok(true);
        }
        let next = match body
            .get("meta")
            .and_then(|m| m.get("links"))
            .and_then(|l| l.get("next"))
        {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(s)) if s.is_empty() => None,
            Some(serde_json::Value::String(s)) => Some(s.clone()),
            Some(other) => {
                return Err(Error::Shape {
                    request: client.describe("GET", &target),
                    path: "meta.links.next".to_string(),
                    problem: ShapeProblem::WrongType {
                        expected: "a string",
                        found: JsonKind::of(other),
                    },
                });
            }
        };
        let Some(next) = next else {
            return Ok(false);
        };
        // A cursor seen before, an empty page that names a next one, or more pages than any
        // group needs: the listing would not end.
        if members.is_empty()
            || !seen_cursors.insert(next.clone())
            || seen_cursors.len() > MAX_MEMBER_PAGES
        {
            return Err(Error::Pagination {
                endpoint: client.describe("GET", &path),
                problem: PageProblem::MembersNotEnding,
            });
        }
        cursor = Some(next);
    }
}

/// Members asked per page when checking a membership.
const MEMBER_PAGE: u32 = 500;
/// Pages of members read at most: 5,000,000 members.
const MAX_MEMBER_PAGES: usize = 10_000;

/// The ids whose data the prediction of taking `user_id` out of `group_id` rests on: the user,
/// the group, every group the user is in, and every role and policy that reaches the user
/// (directly, through a group, through a role). A consistency event about any of them (or
/// about nothing in particular) may make the prediction wrong; one about anything else
/// cannot.
pub fn relevant_ids(snapshot: &Snapshot, group_id: &str, user_id: &str) -> BTreeSet<String> {
    let mut ids: BTreeSet<String> = [group_id.to_string(), user_id.to_string()].into();
    let mut roles: BTreeSet<&str> = BTreeSet::new();
    if let Some(user) = snapshot.users.iter().find(|u| u.id == user_id) {
        ids.extend(user.policies.iter().cloned());
        roles.extend(user.roles.iter().map(String::as_str));
    }
    for group in &snapshot.groups {
        if group.id == group_id || group.members.iter().any(|m| m == user_id) {
            ids.insert(group.id.clone());
            ids.extend(group.policies.iter().cloned());
            roles.extend(group.roles.iter().map(String::as_str));
        }
    }
    for role in &snapshot.roles {
        if roles.contains(role.id.as_str()) {
            ids.extend(role.policies.iter().cloned());
        }
    }
    ids.extend(roles.into_iter().map(str::to_string));
    ids
}

/// The events of a crawl that touch a remove-member, split: those that are known faults of
/// Vultr's API (`known_quirk`), and the others. Notes ([`crate::EventKind::is_note`]) are neither:
/// they do not block.
pub fn touching_events<'a>(
    events: &'a [Event],
    relevant: &BTreeSet<String>,
) -> (Vec<&'a Event>, Vec<&'a Event>) {
    events
        .iter()
        .filter(|e| !e.kind.is_note() && e.touches(relevant.iter().map(String::as_str)))
        .partition(|e| e.known_quirk)
}

/// `DELETE /groups/{group}/members/{user}`: the status, 2xx or 404. A 404 says the user is not
/// (or no longer) a member: after a retry, the first try may have removed them. Either way the
/// caller checks with [`is_member`].
pub fn delete_member(client: &mut Client, group_id: &str, user_id: &str) -> Result<u16, Error> {
    let path = format!("/groups/{}/members/{}", encode(group_id), encode(user_id));
    match client.delete(&path) {
        Err(e) if matches!(e.http_cause(), Some(crate::HttpError::NotFound { .. })) => Ok(404),
        other => other,
    }
}

/// `snapshot` with `user_id` taken out of `group_id`: what the organization should look like
/// once the change is applied.
pub fn without_member(snapshot: &Snapshot, group_id: &str, user_id: &str) -> Snapshot {
    let mut out = snapshot.clone();
    for group in &mut out.groups {
        if group.id == group_id {
            group.members.retain(|m| m != user_id);
        }
    }
    out.crawl = None;
    out
}

/// A fresh crawl compared with the prediction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PredictionCheck {
    /// Where the user's effective permissions differ from the predicted ones; empty when they
    /// match.
    pub user_differences: Vec<String>,
    /// Differences elsewhere in the organization (someone else changed something meanwhile).
    pub other_changes: Vec<String>,
}

impl PredictionCheck {
    /// The user's access is what was predicted.
    pub fn matches(&self) -> bool {
        self.user_differences.is_empty()
    }
}

/// Compares the effective permissions of `user_id` in `predicted` and in `actual`, and the two
/// organizations as data.
pub fn check_prediction(
    predicted: &Snapshot,
    actual: &Snapshot,
    user_id: &str,
    catalogue: &Catalogue,
) -> Result<PredictionCheck, Error> {
    let compile = |s: &Snapshot, which: &'static str| {
        Org::compile(s, catalogue).map_err(|source| Error::Compile { which, source })
    };
    let before = compile(predicted, "predicted")?;
    let after = compile(actual, "re-crawled")?;
    let mut user_differences = Vec::new();
    match (before.find_user(user_id), after.find_user(user_id)) {
        (Ok(b), Ok(a)) => {
            let want = before.effective(b);
            let got = after.effective(a);
            let pairs =
                |entries: &[iamsim_core::report::Entry]| -> BTreeMap<(String, String), usize> {
                    entries
                        .iter()
                        .map(|e| ((e.action.clone(), e.resource.clone()), e.via.len()))
                        .collect()
                };
            for (kind, w, g) in [
                ("allowed", pairs(&want.allowed), pairs(&got.allowed)),
                ("denied", pairs(&want.denied), pairs(&got.denied)),
            ] {
                for (action, resource) in w.keys().filter(|k| !g.contains_key(*k)) {
                    user_differences.push(format!(
                        "predicted {kind} `{action}` on `{resource}`, but the re-crawl does not have it"
                    ));
                }
                for (action, resource) in g.keys().filter(|k| !w.contains_key(*k)) {
                    user_differences.push(format!(
                        "the re-crawl has {kind} `{action}` on `{resource}`, which was not predicted"
                    ));
                }
            }
            if user_differences.is_empty() && want != got {
                user_differences.push(
                    "the same permissions, but through different paths than predicted".to_string(),
                );
            }
        }
        (Ok(_), Err(_)) => user_differences.push(format!(
            "user `{user_id}` is not in the re-crawled organization"
        )),
        (Err(source), _) => return Err(Error::PredictedUser { source }),
    }
    Ok(PredictionCheck {
        user_differences,
        other_changes: differences(predicted, actual),
    })
}

/// Entities added, removed or changed between two snapshots, as lines.
pub fn differences(a: &Snapshot, b: &Snapshot) -> Vec<String> {
    let mut a = a.clone();
    let mut b = b.clone();
    a.crawl = None;
    b.crawl = None;
    normalize(&mut a);
    normalize(&mut b);
    let mut out = Vec::new();
    if a.organization != b.organization {
        out.push("the organization record changed".to_string());
    }
    fn compare<T: PartialEq + serde::Serialize>(
        out: &mut Vec<String>,
        kind: &str,
        a: &[T],
        b: &[T],
        id: impl Fn(&T) -> &str,
    ) {
        let index = |items: &[T]| -> BTreeMap<String, String> {
            items
                .iter()
                .map(|i| {
                    (
                        id(i).to_string(),
                        serde_json::to_string(i).unwrap_or_default(),
                    )
                })
                .collect()
        };
        let (ia, ib) = (index(a), index(b));
        for (key, value) in &ia {
            match ib.get(key) {
                None => out.push(format!("{kind} `{key}` is gone")),
                Some(other) if other != value => out.push(format!("{kind} `{key}` changed")),
                _ => {}
            }
        }
        for key in ib.keys().filter(|k| !ia.contains_key(*k)) {
            out.push(format!("{kind} `{key}` is new"));
        }
    }
    compare(&mut out, "user", &a.users, &b.users, |u| &u.id);
    compare(&mut out, "group", &a.groups, &b.groups, |g| &g.id);
    compare(&mut out, "role", &a.roles, &b.roles, |r| &r.id);
    compare(&mut out, "policy", &a.policies, &b.policies, |p| &p.id);
    compare(
        &mut out,
        "role trust",
        &a.role_trusts,
        &b.role_trusts,
        |t| &t.id,
    );
    out
}
