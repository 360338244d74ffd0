//! The fake's data and routes: a snapshot served through Vultr's paths and JSON shapes.

use std::collections::{BTreeSet, HashMap, HashSet};

use iamsim_core::model::{RoleType, Snapshot};
use serde_json::{json, Map, Value};

use super::faults::FaultAction;
use super::{EmptyMembers, FakeOptions};

const DATE: &str = "2026-03-20T00:00:00+00:00";

/// An answer: a status and a JSON body (none for 204).
pub(crate) struct Reply {
    pub status: u16,
    pub body: Option<Value>,
}

impl Reply {
    fn ok(body: Value) -> Reply {
        Reply {
            status: 200,
            body: Some(body),
        }
    }

    pub(crate) fn error(status: u16, message: &str) -> Reply {
        Reply {
            status,
            body: Some(json!({ "error": message })),
        }
    }
}

/// What a request asks of a listing (its query), and how the fake serves it (the modifying
/// faults that apply, the options).
pub(crate) struct Ask<'a> {
    pub(crate) query: &'a [(String, String)],
    pub(crate) mods: &'a [FaultAction],
    pub(crate) options: &'a FakeOptions,
}

impl Ask<'_> {
    fn get(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn has(&self, fault: impl Fn(&FaultAction) -> bool) -> bool {
        self.mods.iter().any(fault)
    }

    /// Items per page: `per_page` (1 to 500, default 100), capped by the options and by any
    /// `PageSize` fault; a 400 for a `per_page` out of range.
    fn page_size(&self) -> Result<usize, Reply> {
        let per_page = match self.get("per_page") {
            None => 100,
            Some(v) => match v.parse::<usize>() {
                Ok(n) if (1..=500).contains(&n) => n,
                _ => return Err(Reply::error(400, "per_page must be between 1 and 500")),
            },
        };
        let mut size = per_page.min(self.options.max_page_size.unwrap_or(usize::MAX));
        for m in self.mods {
            if let FaultAction::PageSize { size: s } = m {
                size = size.min((*s).max(1));
            }
        }
        Ok(size)
    }

    /// The position the page starts from: the `cursor`'s, or the first (always the first
    /// under `PageRepeatItems`); a 400 for a cursor the fake did not make.
    fn start(&self) -> Result<usize, Reply> {
        let start = match self.get("cursor") {
            None => 0,
            Some(c) => match decode_cursor(c) {
                Some(ord) => ord,
                None => return Err(Reply::error(400, "invalid cursor")),
            },
        };
        if self.has(|m| matches!(m, FaultAction::PageRepeatItems)) {
            return Ok(0);
        }
        Ok(start)
    }

    /// `meta.total` of a listing of `items`: the items (or the pages, when the shapes say so),
    /// unless a `PageTotal` fault gives another.
    fn total(&self, items: usize, size: usize, counts_pages: bool) -> u64 {
        let total = items as u64;
        let total = if counts_pages {
            total.div_ceil(size as u64).max(1)
        } else {
            total
        };
        self.mods
            .iter()
            .find_map(|m| match m {
                FaultAction::PageTotal { total } => Some(*total),
                _ => None,
            })
            .unwrap_or(total)
    }
}

/// A page's body: the items under `key`, and `meta` with the total and the links.
fn page_body(
    key: &str,
    page: Vec<Value>,
    next: Option<String>,
    total: Option<u64>,
    ask: &Ask,
) -> Value {
    let mut links = Map::new();
    match next {
        Some(c) => {
            links.insert("next".into(), Value::String(c));
        }
        None if ask.has(|m| matches!(m, FaultAction::PageNextNull)) => {
            links.insert("next".into(), Value::Null);
        }
        None if ask.has(|m| matches!(m, FaultAction::PageNextMissing)) => {}
        None => {
            links.insert("next".into(), Value::String(String::new()));
        }
    }
    links.insert("prev".into(), Value::String(String::new()));
    let mut body = Map::new();
    body.insert(key.to_string(), Value::Array(page));
    let mut meta = Map::new();
    if let Some(total) = total {
        meta.insert("total".into(), json!(total));
    }
    meta.insert("links".into(), Value::Object(links));
    body.insert("meta".into(), Value::Object(meta));
    Value::Object(body)
}

/// The organization as the fake holds it. Deleted entities stay in place as tombstones, so
/// that positions (and so cursors) stay stable while the data changes.
pub(crate) struct State {
    snapshot: Snapshot,
    /// Positions by id. Entities are never removed from the vectors, so these stay right.
    users_at: HashMap<String, usize>,
    groups_at: HashMap<String, usize>,
    roles_at: HashMap<String, usize>,
    policies_at: HashMap<String, usize>,
    deleted_users: HashSet<String>,
    deleted_groups: HashSet<String>,
    deleted_roles: HashSet<String>,
    deleted_policies: HashSet<String>,
    nonce: u64,
    /// Documents served verbatim instead of the snapshot's, by policy id.
    pub(crate) raw_documents: std::collections::BTreeMap<String, Value>,
    /// `role_type` served instead of the snapshot's, by role id (`null`: left out).
    pub(crate) role_types: std::collections::BTreeMap<String, Value>,
    /// Undocumented shapes, served one way or the other.
    pub(crate) shapes: super::Shapes,
}

fn role_type(t: RoleType) -> &'static str {
    match t {
        RoleType::Assignable => "assignable",
        RoleType::Assumable => "assumable",
    }
}

impl State {
    pub(crate) fn new(snapshot: Snapshot) -> State {
        fn index<'a>(ids: impl Iterator<Item = &'a String>) -> HashMap<String, usize> {
            let mut map = HashMap::new();
            for (i, id) in ids.enumerate() {
                // The first of a repeated id wins, as a server would hold one.
                map.entry(id.clone()).or_insert(i);
            }
            map
        }
        State {
            users_at: index(snapshot.users.iter().map(|u| &u.id)),
            groups_at: index(snapshot.groups.iter().map(|g| &g.id)),
            roles_at: index(snapshot.roles.iter().map(|r| &r.id)),
            policies_at: index(snapshot.policies.iter().map(|p| &p.id)),
            snapshot,
            deleted_users: HashSet::new(),
            deleted_groups: HashSet::new(),
            deleted_roles: HashSet::new(),
            deleted_policies: HashSet::new(),
            nonce: 0,
            raw_documents: std::collections::BTreeMap::new(),
            role_types: std::collections::BTreeMap::new(),
            shapes: super::Shapes::default(),
        }
    }

    /// The organization now, without the deleted entities.
    pub(crate) fn current(&self) -> Snapshot {
        let mut s = self.snapshot.clone();
        s.users.retain(|u| !self.deleted_users.contains(&u.id));
        s.groups.retain(|g| !self.deleted_groups.contains(&g.id));
        s.roles.retain(|r| !self.deleted_roles.contains(&r.id));
        s.policies
            .retain(|p| !self.deleted_policies.contains(&p.id));
        s.role_trusts
            .retain(|t| !self.deleted_roles.contains(&t.role_id));
        s
    }

    /// Applies a data-changing fault.
    pub(crate) fn mutate(&mut self, action: &FaultAction) {
        let s = &mut self.snapshot;
        match action {
            FaultAction::DeleteUser { id } => {
                self.deleted_users.insert(id.clone());
                for g in &mut s.groups {
                    g.members.retain(|m| m != id);
                }
            }
            FaultAction::DeleteGroup { id } => {
                self.deleted_groups.insert(id.clone());
            }
            FaultAction::DeleteRole { id } => {
                self.deleted_roles.insert(id.clone());
                for u in &mut s.users {
                    u.roles.retain(|r| r != id);
                }
                for g in &mut s.groups {
                    g.roles.retain(|r| r != id);
                }
            }
            FaultAction::DeletePolicy { id } => {
                self.deleted_policies.insert(id.clone());
                for u in &mut s.users {
                    u.policies.retain(|p| p != id);
                }
                for g in &mut s.groups {
                    g.policies.retain(|p| p != id);
                }
                for r in &mut s.roles {
                    r.policies.retain(|p| p != id);
                }
            }
            FaultAction::RemoveMember { group, user } => {
                for g in s.groups.iter_mut().filter(|g| &g.id == group) {
                    g.members.retain(|m| m != user);
                }
            }
            FaultAction::AddMember { group, user } => {
                for g in s.groups.iter_mut().filter(|g| &g.id == group) {
                    if !g.members.contains(user) {
                        g.members.push(user.clone());
                    }
                }
            }
            FaultAction::RenameUser { id, name } => {
                for u in s.users.iter_mut().filter(|u| &u.id == id) {
                    u.name = name.clone();
                }
            }
            _ => {}
        }
    }

    fn user_json(&self, i: usize) -> Value {
        let u = &self.snapshot.users[i];
        json!({
            "id": u.id, "name": u.name, "email": u.email,
            "api_enabled": u.api_enabled.unwrap_or(true), "acls": u.legacy_acls(),
            "service_user": u.service_user, "date_created": DATE,
        })
    }

    /// The rows of `GET /policies/{id}/users`: one per user and way of holding the policy,
    /// numbered so that pages keep their order.
    fn policy_user_rows(&self, pid: &str, how: &super::PolicyUsers) -> Vec<(usize, Value)> {
        let s = &self.snapshot;
        let role_has = |r: &String| {
            !self.deleted_roles.contains(r)
                && s.roles
                    .iter()
                    .any(|role| &role.id == r && role.policies.iter().any(|p| p == pid))
        };
        let mut rows = Vec::new();
        for (i, u) in self.live_users() {
            // A user's groups are needed only for holders; finding them scans every group, too
            // slow for each user of a large organization.
            let groups: Vec<_> = if how.holders {
                self.live_groups()
                    .filter(|(_, g)| g.members.contains(&u.id))
                    .map(|(_, g)| g)
                    .collect()
            } else {
                Vec::new()
            };
            let kinds = [
                (u.policies.iter().any(|p| p == pid), &how.direct),
                (
                    how.holders && groups.iter().any(|g| g.policies.iter().any(|p| p == pid)),
                    &how.group,
                ),
                (
                    how.holders
                        && (u.roles.iter().any(role_has)
                            || groups.iter().any(|g| g.roles.iter().any(role_has))),
                    &how.role,
                ),
            ];
            for (k, (holds, kind)) in kinds.into_iter().enumerate() {
                if !holds {
                    continue;
                }
                let mut row = self.org_user_json(&u.id, "");
                match kind {
                    Some(kind) => row["assignment_type"] = Value::String(kind.clone()),
                    None => {
                        if let Value::Object(map) = &mut row {
                            map.remove("assignment_type");
                        }
                    }
                }
                rows.push((i * 3 + k, row));
            }
        }
        rows
    }

    fn org_user_json(&self, id: &str, assignment: &str) -> Value {
        let found = self.users_at.get(id).map(|&i| &self.snapshot.users[i]);
        let (name, email, suspended) = found
            .map(|u| (u.name.as_str(), u.email.as_str(), u.suspended))
            .unwrap_or(("", "", false));
        json!({
            "id": id, "name": name, "first_name": "", "last_name": "", "email": email,
            "assignment_type": assignment, "date_created": DATE,
            "date_suspended": if suspended { DATE } else { "" }, "assigned_date": DATE,
        })
    }

    fn group_json(&self, i: usize, members: bool) -> Value {
        let g = &self.snapshot.groups[i];
        let mut v = json!({
            "id": g.id, "display_name": g.display_name, "description": g.description,
            "date_created": DATE,
        });
        if members {
            let list: Vec<Value> = g.members.iter().map(|m| self.member_json(m)).collect();
            match (list.is_empty(), self.shapes.empty_members) {
                (true, EmptyMembers::Null) => v["members"] = Value::Null,
                (true, EmptyMembers::Missing) => {}
                _ => v["members"] = Value::Array(list),
            }
        }
        v
    }

    /// A group member, as `GET /groups/{id}` and `GET /groups/{id}/members` list them.
    fn member_json(&self, user: &str) -> Value {
        let mut v = self.org_user_json(user, "member");
        if self.shapes.member_ids_are_memberships {
            v["id"] = json!(format!("m-{user}"));
            v["user_id"] = json!(user);
        }
        v
    }

    fn role_json(&self, i: usize, policies: bool) -> Value {
        let r = &self.snapshot.roles[i];
        let mut v = json!({
            "id": r.id, "name": r.name, "description": r.description,
            "role_type": role_type(r.role_type), "max_session_duration": 3600,
            "date_created": DATE,
        });
        self.served_role_type(&r.id, &mut v);
        if policies {
            let list: Vec<Value> = self
                .live_policies()
                .filter(|(_, p)| r.policies.contains(&p.id))
                .map(|(i, _)| self.policy_json(i, true))
                .collect();
            v["policies"] = Value::Array(list);
        }
        v
    }

    /// A role as `/groups/{id}/roles` and `/users/{id}/roles` list it.
    fn attached_role_json(&self, id: &str) -> Option<Value> {
        let r = self.role(id)?.1;
        let mut v = json!({
            "id": r.id, "display_name": r.name, "description": r.description,
            "role_type": role_type(r.role_type), "date_assigned": DATE,
        });
        self.served_role_type(&r.id, &mut v);
        Some(v)
    }

    /// Replaces `role_type` in `v` as [`FakeOptions::role_types`](super::FakeOptions) asks.
    fn served_role_type(&self, id: &str, v: &mut Value) {
        match self.role_types.get(id) {
            None => {}
            Some(Value::Null) => {
                if let Some(map) = v.as_object_mut() {
                    map.remove("role_type");
                }
            }
            Some(value) => v["role_type"] = value.clone(),
        }
    }

    fn policy_json(&self, i: usize, document: bool) -> Value {
        let p = &self.snapshot.policies[i];
        let mut v = json!({
            "id": p.id, "name": p.name, "description": p.description, "version": "1",
            "is_system_policy": p.is_system_policy, "date_created": DATE,
        });
        if document {
            v["policy_document"] = match self.raw_documents.get(&p.id) {
                Some(raw) => raw.clone(),
                None => serde_json::to_value(&p.policy_document).unwrap_or_default(),
            };
        }
        v
    }

    fn policy_by_id(&self, id: &str) -> Option<Value> {
        let (i, _) = self.policy(id)?;
        Some(self.policy_json(i, true))
    }

    fn trust_json(&self, i: usize, with_role_id: bool) -> Value {
        let t = &self.snapshot.role_trusts[i];
        let role_name = self
            .snapshot
            .roles
            .iter()
            .find(|r| r.id == t.role_id)
            .map(|r| r.name.clone())
            .unwrap_or_default();
        let user_display = t
            .trusted_user_id
            .as_ref()
            .and_then(|id| self.users_at.get(id).map(|&i| &self.snapshot.users[i]))
            .map(|u| u.email.clone())
            .unwrap_or_default();
        let group_display = t
            .trusted_group_id
            .as_ref()
            .and_then(|id| self.groups_at.get(id).map(|&i| &self.snapshot.groups[i]))
            .map(|g| g.display_name.clone())
            .unwrap_or_default();
        let mut v = json!({
            "id": t.id, "role_name": role_name, "trust_type": t.trust_type,
            "trusted_user_id": t.trusted_user_id.clone().unwrap_or_default(),
            "user_display": user_display,
            "trusted_group_id": t.trusted_group_id.clone().unwrap_or_default(),
            "group_display": group_display,
            "conditions": t.conditions, "valid_until": t.valid_until.clone().unwrap_or_default(),
            "date_created": DATE,
        });
        if with_role_id {
            v["role_id"] = json!(t.role_id);
        }
        // Trusts to principals outside the organization's users, as Vultr's docs name them.
        if let Some(issuer) = &t.oidc_issuer_id {
            v["oidc_issuer_id"] = json!(issuer);
        }
        if let Some(org) = &t.trusted_organization_id {
            v["trusted_organization_id"] = json!(org);
        }
        v
    }

    fn user(&self, id: &str) -> Option<(usize, &iamsim_core::model::User)> {
        let i = *self.users_at.get(id)?;
        (!self.deleted_users.contains(id)).then(|| (i, &self.snapshot.users[i]))
    }

    fn group(&self, id: &str) -> Option<(usize, &iamsim_core::model::Group)> {
        let i = *self.groups_at.get(id)?;
        (!self.deleted_groups.contains(id)).then(|| (i, &self.snapshot.groups[i]))
    }

    fn role(&self, id: &str) -> Option<(usize, &iamsim_core::model::Role)> {
        let i = *self.roles_at.get(id)?;
        (!self.deleted_roles.contains(id)).then(|| (i, &self.snapshot.roles[i]))
    }

    fn policy(&self, id: &str) -> Option<(usize, &iamsim_core::model::Policy)> {
        let i = *self.policies_at.get(id)?;
        (!self.deleted_policies.contains(id)).then(|| (i, &self.snapshot.policies[i]))
    }

    fn live_users(&self) -> impl Iterator<Item = (usize, &iamsim_core::model::User)> {
        self.snapshot
            .users
            .iter()
            .enumerate()
            .filter(|(_, u)| !self.deleted_users.contains(&u.id))
    }

    fn live_groups(&self) -> impl Iterator<Item = (usize, &iamsim_core::model::Group)> {
        self.snapshot
            .groups
            .iter()
            .enumerate()
            .filter(|(_, g)| !self.deleted_groups.contains(&g.id))
    }

    fn live_roles(&self) -> impl Iterator<Item = (usize, &iamsim_core::model::Role)> {
        self.snapshot
            .roles
            .iter()
            .enumerate()
            .filter(|(_, r)| !self.deleted_roles.contains(&r.id))
    }

    fn live_policies(&self) -> impl Iterator<Item = (usize, &iamsim_core::model::Policy)> {
        self.snapshot
            .policies
            .iter()
            .enumerate()
            .filter(|(_, p)| !self.deleted_policies.contains(&p.id))
    }

    fn next_nonce(&mut self) -> u64 {
        self.nonce += 1;
        self.nonce
    }

    /// One page of `items` (each with a stable position), as Vultr pages: `per_page` and
    /// `cursor` in, `meta.total` and `meta.links.next` out.
    fn page(&mut self, key: &str, items: Vec<(usize, Value)>, ask: &Ask) -> Reply {
        let size = match ask.page_size() {
            Ok(size) => size,
            Err(reply) => return reply,
        };
        let start = match ask.start() {
            Ok(start) => start,
            Err(reply) => return reply,
        };
        let at = items
            .iter()
            .position(|(ord, _)| *ord >= start)
            .unwrap_or(items.len());
        let end = (at + size).min(items.len());
        let mut page: Vec<Value> = items[at..end].iter().map(|(_, v)| v.clone()).collect();
        let mut next = items.get(end).map(|(ord, _)| encode_cursor(*ord, 0));
        if ask.has(|m| matches!(m, FaultAction::PageEmptyWithNext)) {
            page.clear();
            let nonce = self.next_nonce();
            next = Some(encode_cursor(start, nonce));
        } else {
            self.page_faults(&items, at, size, ask, &mut page, &mut next);
        }
        let mut total = Some(ask.total(items.len(), size, self.shapes.total_counts_pages));
        if let Some(announced) = ask.mods.iter().find_map(|m| match m {
            FaultAction::PageEndless { total } => Some(*total),
            _ => None,
        }) {
            page = self.endless_page(&items, size);
            let nonce = self.next_nonce();
            next = Some(encode_cursor(start, nonce));
            total = announced;
        }
        Reply::ok(page_body(key, page, next, total, ask))
    }

    /// The page faults that change a page's items or its next cursor: a repeated item, a
    /// cursor that comes back, the same items forever, the last page forever.
    fn page_faults(
        &mut self,
        items: &[(usize, Value)],
        at: usize,
        size: usize,
        ask: &Ask,
        page: &mut Vec<Value>,
        next: &mut Option<String>,
    ) {
        for m in ask.mods {
            if let FaultAction::PageDuplicate { changed } = m {
                if at > 0 && at < items.len() {
                    let mut repeat = items[at - 1].1.clone();
                    if *changed {
                        for field in ["name", "display_name"] {
                            if let Some(Value::String(s)) = repeat.get_mut(field) {
                                s.push_str(" (changed)");
                            }
                        }
                    }
                    page.insert(0, repeat);
                }
            }
        }
        if ask.has(|m| matches!(m, FaultAction::PageRepeatCursor)) && next.is_some() {
            *next = items.get(size).map(|(ord, _)| encode_cursor(*ord, 0));
        }
        if ask.has(|m| matches!(m, FaultAction::PageRepeatItems)) {
            let nonce = self.next_nonce();
            *next = Some(encode_cursor(0, nonce));
        }
        if ask.has(|m| matches!(m, FaultAction::PageLastForever))
            && next.is_none()
            && !page.is_empty()
        {
            let nonce = self.next_nonce();
            *next = Some(encode_cursor(items[at].0, nonce));
        }
    }

    /// A page of new items, shaped as the listing's first, each with a fresh id.
    fn endless_page(&mut self, items: &[(usize, Value)], size: usize) -> Vec<Value> {
        let template = items
            .first()
            .map_or_else(|| json!({}), |(_, item)| item.clone());
        (0..size)
            .map(|_| {
                let mut item = template.clone();
                let id = format!("endless-{}", self.next_nonce());
                if let Value::Object(map) = &mut item {
                    map.insert("id".into(), Value::String(id));
                }
                item
            })
            .collect()
    }

    /// A `{"all": [...], "direct": [...], ...}` view, in one page.
    fn buckets(key: &str, buckets: Vec<(&str, Vec<Value>)>) -> Reply {
        let total = buckets
            .iter()
            .find(|(name, _)| *name == "all")
            .map_or(0, |(_, items)| items.len());
        let mut inner = Map::new();
        for (name, items) in buckets {
            inner.insert(name.to_string(), Value::Array(items));
        }
        Reply::ok(json!({
            key: Value::Object(inner),
            "meta": { "total": total, "links": { "next": "", "prev": "" } },
        }))
    }

    /// Answers one request. `segments` are the decoded path segments after `/v2`; each
    /// endpoint has its handler.
    pub(crate) fn route(&mut self, method: &str, segments: &[String], ask: &Ask) -> Reply {
        let seg: Vec<&str> = segments.iter().map(String::as_str).collect();
        match (method, seg.as_slice()) {
            ("DELETE", ["groups", g, "members", u]) => self.delete_member(g, u),
            ("GET", path) => self.get(path, ask),
            _ => Reply::error(405, "Method not allowed"),
        }
    }

    /// Answers a `GET`.
    fn get(&mut self, path: &[&str], ask: &Ask) -> Reply {
        match path {
            ["organizations"] => self.organizations(ask),
            ["invitation"] => self.invitations(ask),
            ["organizations", org, "suspended-users"] => self.suspended_users(org, ask),
            ["users"] => {
                let items = self
                    .live_users()
                    .map(|(i, _)| (i, self.user_json(i)))
                    .collect();
                self.page("users", items, ask)
            }
            ["users", id] => match self.user(id) {
                Some((i, _)) => Reply::ok(json!({ "user": self.user_json(i) })),
                None => Reply::error(404, "User not found"),
            },
            ["users", id, view] => self.user_view(id, view, ask),
            ["groups"] => {
                let items = self
                    .live_groups()
                    .map(|(i, _)| (i, self.group_json(i, false)))
                    .collect();
                self.page("groups", items, ask)
            }
            ["groups", id, rest @ ..] => self.group_routes(id, rest, ask),
            ["roles"] => {
                let items = self
                    .live_roles()
                    .map(|(i, _)| (i, self.role_json(i, false)))
                    .collect();
                self.page("roles", items, ask)
            }
            ["roles", id, rest @ ..] => self.role_routes(id, rest, ask),
            ["policies"] => {
                let document = !ask.options.list_omits_documents;
                let items = self
                    .live_policies()
                    .map(|(i, _)| (i, self.policy_json(i, document)))
                    .collect();
                self.page("policies", items, ask)
            }
            ["policies", id, rest @ ..] => self.policy_routes(id, rest, ask),
            ["role-trusts"] => {
                let items = self.live_trusts(None, ask.options.trusts_name_role_id);
                self.page("role_trusts", items, ask)
            }
            ["role-trusts", "by-role", role] => self.trusts_of_role(role, ask),
            ["role-trusts", id] => self.role_trust(id),
            ["assumed-roles", "users", id, "sessions"] => self.sessions_of(id, ask),
            _ => Reply::error(404, "Not found"),
        }
    }

    /// `GET /organizations`: the snapshot's, then any others the options name.
    fn organizations(&mut self, ask: &Ask) -> Reply {
        let o = &self.snapshot.organization;
        let mut items = vec![(
            0,
            json!({"id": o.id, "name": o.name, "type": "standard", "date_created": DATE}),
        )];
        for (k, (id, name)) in ask.options.other_organizations.iter().enumerate() {
            items.push((
                k + 1,
                json!({"id": id, "name": name, "type": "standard", "date_created": DATE}),
            ));
        }
        self.page("orgs", items, ask)
    }

    /// `GET /invitation`: one pending invitation when the options name its `org_id`.
    fn invitations(&mut self, ask: &Ask) -> Reply {
        let items = match &ask.options.invitation_org {
            None => Vec::new(),
            Some(org) => vec![(
                0,
                json!({"id": "inv-1", "inviter_name": "", "inviter_email": "",
                       "email_invited": "new@example.com", "email_registered": "",
                       "permissions": {"api_enabled": false}, "org_id": org,
                       "org_name": "", "status": "pending", "status_full": "",
                       "invite_status": "pending", "date_created": DATE,
                       "date_responded": "", "expiration_date": DATE}),
            )],
        };
        self.page("invites", items, ask)
    }

    /// `GET /organizations/{id}/suspended-users`.
    fn suspended_users(&mut self, org: &str, ask: &Ask) -> Reply {
        if ask
            .options
            .other_organizations
            .iter()
            .any(|(id, _)| id == org)
        {
            return self.page("users", Vec::new(), ask);
        }
        if org != self.snapshot.organization.id {
            return Reply::error(404, "Organization not found.");
        }
        let items = self
            .live_users()
            .filter(|(_, u)| u.suspended)
            .map(|(i, u)| (i, self.org_user_json(&u.id, "member")))
            .collect();
        self.page("users", items, ask)
    }

    /// `GET /groups/{id}` and its sub-resources.
    fn group_routes(&mut self, id: &str, rest: &[&str], ask: &Ask) -> Reply {
        let Some((i, g)) = self.group(id) else {
            return Reply::error(404, "Group not found");
        };
        let g = g.clone();
        match rest {
            [] => Reply::ok(json!({ "group": self.group_json(i, true) })),
            ["members"] => self.group_members(&g, ask),
            ["roles"] => {
                let direct: Vec<Value> = g
                    .roles
                    .iter()
                    .filter_map(|r| self.attached_role_json(r))
                    .collect();
                State::buckets(
                    "roles",
                    vec![
                        ("all", direct.clone()),
                        ("inherited", vec![]),
                        ("direct", direct),
                    ],
                )
            }
            ["policies"] => self.group_policies(&g),
            _ => Reply::error(404, "Not found"),
        }
    }

    /// `GET /groups/{id}/members`, paged.
    fn group_members(&mut self, g: &iamsim_core::model::Group, ask: &Ask) -> Reply {
        if g.members.is_empty() && self.shapes.empty_members != EmptyMembers::EmptyList {
            let meta = json!({"total": 0, "links": {"next": "", "prev": ""}});
            return Reply::ok(match self.shapes.empty_members {
                EmptyMembers::Null => json!({"members": null, "meta": meta}),
                _ => json!({ "meta": meta }),
            });
        }
        // Ordered by the user's place in the organization, so that a cursor stays valid while
        // members come and go; members no user has last.
        let unknown = self.snapshot.users.len();
        let mut items: Vec<(usize, Value)> = g
            .members
            .iter()
            .enumerate()
            .map(|(k, m)| {
                let ord = self.users_at.get(m).copied().unwrap_or(unknown + k);
                (ord, self.member_json(m))
            })
            .collect();
        items.sort_by_key(|(ord, _)| *ord);
        self.page("members", items, ask)
    }

    /// `GET /groups/{id}/policies`: direct, from its roles, and all.
    fn group_policies(&self, g: &iamsim_core::model::Group) -> Reply {
        let direct: Vec<Value> = g
            .policies
            .iter()
            .filter_map(|p| self.policy_by_id(p))
            .collect();
        let from_roles = self.policies_of_roles(&g.roles, &BTreeSet::new());
        let mut all = direct.clone();
        for p in &from_roles {
            if !all.iter().any(|a| a["id"] == p["id"]) {
                all.push(p.clone());
            }
        }
        State::buckets(
            "policies",
            vec![("direct", direct), ("from_roles", from_roles), ("all", all)],
        )
    }

    /// `GET /roles/{id}` and its sub-resources.
    fn role_routes(&mut self, id: &str, rest: &[&str], ask: &Ask) -> Reply {
        let Some((i, r)) = self.role(id) else {
            return Reply::error(404, "Role not found");
        };
        let r = r.clone();
        match rest {
            [] => Reply::ok(json!({ "role": self.role_json(i, true) })),
            ["policies"] => {
                let items = self
                    .live_policies()
                    .filter(|(_, p)| r.policies.contains(&p.id))
                    .map(|(k, _)| (k, self.policy_json(k, true)))
                    .collect();
                self.page("policies", items, ask)
            }
            ["users"] => {
                let items = self
                    .live_users()
                    .filter(|(_, u)| u.roles.contains(&r.id))
                    .map(|(k, u)| (k, self.assignment_json(&r, ("user_id", &u.id), None)))
                    .collect();
                self.page("assignments", items, ask)
            }
            ["groups"] => {
                let items = self
                    .live_groups()
                    .filter(|(_, g)| g.roles.contains(&r.id))
                    .map(|(k, g)| {
                        let v =
                            self.assignment_json(&r, ("group_id", &g.id), Some(&g.display_name));
                        (k, v)
                    })
                    .collect();
                self.page("assignments", items, ask)
            }
            _ => Reply::error(404, "Not found"),
        }
    }

    /// A row of `/roles/{id}/users` (`who` is `("user_id", id)`) or `/roles/{id}/groups`.
    fn assignment_json(
        &self,
        r: &iamsim_core::model::Role,
        who: (&str, &str),
        group_name: Option<&str>,
    ) -> Value {
        let mut v = json!({
            who.0: who.1, "role_id": r.id, "role_name": r.name,
            "role_description": r.description, "role_type": role_type(r.role_type),
            "date_assigned": DATE,
        });
        self.served_role_type(&r.id, &mut v);
        if let Some(name) = group_name {
            v["group_name"] = json!(name);
        }
        v
    }

    /// `GET /policies/{id}` and its sub-resources.
    fn policy_routes(&mut self, id: &str, rest: &[&str], ask: &Ask) -> Reply {
        let Some((i, p)) = self.policy(id) else {
            return Reply::error(404, "Policy not found");
        };
        let pid = p.id.clone();
        match rest {
            [] => Reply::ok(json!({ "policy": self.policy_json(i, true) })),
            ["users"] => {
                let items = self.policy_user_rows(&pid, &ask.options.policy_users);
                self.page("users", items, ask)
            }
            ["groups"] => {
                let items = self
                    .live_groups()
                    .filter(|(_, g)| g.policies.contains(&pid))
                    .map(|(k, _)| (k, self.group_json(k, false)))
                    .collect();
                self.page("groups", items, ask)
            }
            _ => Reply::error(404, "Not found"),
        }
    }

    /// `GET /role-trusts/by-role/{id}`.
    fn trusts_of_role(&mut self, role: &str, ask: &Ask) -> Reply {
        if !self.live_roles().any(|(_, r)| r.id == role) {
            return Reply::error(404, "Role not found");
        }
        let items = self.live_trusts(Some(role), ask.options.trusts_name_role_id);
        self.page("role_trusts", items, ask)
    }

    /// `GET /assumed-roles/users/{id}/sessions`: the snapshot's sessions of the user, each with
    /// a session token as Vultr sends one (a credential the crawl must never keep).
    fn sessions_of(&mut self, user: &str, ask: &Ask) -> Reply {
        if self.user(user).is_none() {
            return Reply::error(404, "User not found");
        }
        let items = self
            .snapshot
            .sessions
            .iter()
            .enumerate()
            .filter(|(_, s)| s.user_id == user)
            .map(|(i, s)| {
                (
                    i,
                    json!({
                        "session_token": fake_session_token(i),
                        "role_id": s.role_id,
                        "user_id": s.user_id,
                        "session_name": s.session_name,
                        "auth_method": "api_key",
                        "source_ip": "192.0.2.10",
                        "assumed_at": s.assumed_at,
                        "expires_at": s.expires_at,
                    }),
                )
            })
            .collect();
        self.page("sessions", items, ask)
    }

    /// `GET /role-trusts/{id}`.
    fn role_trust(&self, id: &str) -> Reply {
        match self
            .live_trusts(None, true)
            .into_iter()
            .find(|(_, t)| t["id"] == *id)
        {
            Some((_, t)) => Reply::ok(json!({ "role_trust": t })),
            None => Reply::error(404, "Role trust not found"),
        }
    }

    fn live_trusts(&self, role: Option<&str>, with_role_id: bool) -> Vec<(usize, Value)> {
        self.snapshot
            .role_trusts
            .iter()
            .enumerate()
            .filter(|(_, t)| !self.deleted_roles.contains(&t.role_id))
            .filter(|(_, t)| role.is_none_or(|r| t.role_id == r))
            .map(|(i, _)| (i, self.trust_json(i, with_role_id)))
            .collect()
    }

    /// The policies of `roles`, each once, skipping `except`.
    fn policies_of_roles(&self, roles: &[String], except: &BTreeSet<String>) -> Vec<Value> {
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for role in roles {
            let Some((_, r)) = self.role(role) else {
                continue;
            };
            for p in &r.policies {
                if !except.contains(p) && seen.insert(p.clone()) {
                    if let Some(mut v) = self.policy_by_id(p) {
                        v["from_role"] = json!(r.id);
                        out.push(v);
                    }
                }
            }
        }
        out
    }

    /// `/users/{id}/policies`, `/roles`, `/groups`: Vultr's own per-user views.
    fn user_view(&mut self, id: &str, view: &str, ask: &Ask) -> Reply {
        let Some((_, user)) = self.user(id) else {
            return Reply::error(404, "User not found");
        };
        let user = user.clone();
        let groups: Vec<(usize, iamsim_core::model::Group)> = self
            .live_groups()
            .filter(|(_, g)| g.members.contains(&user.id))
            .map(|(i, g)| (i, g.clone()))
            .collect();
        let mut group_roles: Vec<String> = Vec::new();
        for (_, g) in &groups {
            for r in &g.roles {
                if !user.roles.contains(r) && !group_roles.contains(r) {
                    group_roles.push(r.clone());
                }
            }
        }
        match view {
            "groups" => {
                let items = groups
                    .iter()
                    .map(|(i, _)| {
                        let mut v = self.group_json(*i, false);
                        v["assigned_date"] = json!(DATE);
                        (*i, v)
                    })
                    .collect();
                self.page("groups", items, ask)
            }
            "roles" => {
                let direct: Vec<Value> = user
                    .roles
                    .iter()
                    .filter_map(|r| self.attached_role_json(r))
                    .collect();
                let inherited: Vec<Value> = group_roles
                    .iter()
                    .filter_map(|r| self.attached_role_json(r))
                    .collect();
                let all = direct.iter().chain(&inherited).cloned().collect();
                State::buckets(
                    "roles",
                    vec![("all", all), ("direct", direct), ("inherited", inherited)],
                )
            }
            "policies" => {
                let direct: Vec<Value> = user
                    .policies
                    .iter()
                    .filter_map(|p| self.policy_by_id(p))
                    .collect();
                let mut seen: BTreeSet<String> = user.policies.iter().cloned().collect();
                let mut inherited = Vec::new();
                for (_, g) in &groups {
                    for p in &g.policies {
                        if seen.insert(p.clone()) {
                            if let Some(mut v) = self.policy_by_id(p) {
                                v["source"] = json!("group");
                                inherited.push(v);
                            }
                        }
                    }
                }
                let roles: Vec<String> = user.roles.iter().chain(&group_roles).cloned().collect();
                for v in self.policies_of_roles(&roles, &seen) {
                    inherited.push(v);
                }
                let all = direct.iter().chain(&inherited).cloned().collect();
                State::buckets(
                    "policies",
                    vec![("all", all), ("direct", direct), ("inherited", inherited)],
                )
            }
            _ => Reply::error(404, "Not found"),
        }
    }

    fn delete_member(&mut self, group: &str, member: &str) -> Reply {
        // With membership ids, `{member-id}` is the membership's, as the members list shows.
        let user = match member.strip_prefix("m-") {
            Some(user) if self.shapes.member_ids_are_memberships => user,
            _ => member,
        };
        let Some(g) = self
            .snapshot
            .groups
            .iter_mut()
            .find(|g| g.id == group && !self.deleted_groups.contains(&g.id))
        else {
            return Reply::error(404, "Group not found");
        };
        if !g.members.iter().any(|m| m == user) {
            return Reply::error(404, "Member not found");
        }
        g.members.retain(|m| m != user);
        Reply {
            status: 204,
            body: None,
        }
    }
}

/// Adds undocumented fields to every object, except inside documents and conditions, which
/// are data rather than the API's envelope.
pub(crate) fn add_extra_fields(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map.iter_mut() {
                if key != "policy_document" && key != "conditions" {
                    add_extra_fields(inner);
                }
            }
            map.insert(
                "x_undocumented".into(),
                json!({"added": "by the fake", "nested": [1, 2, {"deep": null}]}),
            );
        }
        Value::Array(items) => items.iter_mut().for_each(add_extra_fields),
        _ => {}
    }
}

/// Cursors are opaque to clients: hex of `position.nonce`.
fn encode_cursor(position: usize, nonce: u64) -> String {
    format!("{position}.{nonce}")
        .bytes()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn decode_cursor(cursor: &str) -> Option<usize> {
    if cursor.len() % 2 != 0 || !cursor.is_ascii() {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..cursor.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&cursor[i..i + 2], 16).ok())
        .collect();
    let text = String::from_utf8(bytes?).ok()?;
    text.split('.').next()?.parse().ok()
}

/// The session token the fake sends for its `index`th session: recognisable in any output it
/// leaks into (`FAKE-SESSION-TOKEN-...`).
pub fn fake_session_token(index: usize) -> String {
    format!("FAKE-SESSION-TOKEN-{index:04}-do-not-store")
}
