//! The crawl: every endpoint snapshot v1 needs, paged, cross-checked, into a
//! [`Snapshot`] that is complete or an error.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use iamsim_core::model::{
    Group, Organization, Policy, PolicyDocument, Role, RoleTrust, RoleType, Session, Snapshot,
    User, SNAPSHOT_FORMAT,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::api;
use crate::client::{encode, Client};
use crate::clock::rfc3339;
use crate::{Error, JsonKind, PageProblem, ShapeProblem};

/// Vultr documents 500 as the largest page of `/users`; iamsim never asks for more anywhere.
pub(crate) const MAX_PER_PAGE: u32 = 500;

/// What to crawl and how.
#[derive(Debug, Clone)]
pub struct CrawlOptions {
    /// Items per page, 1 to 500 (the largest page Vultr documents). Default 100, Vultr's own
    /// default.
    pub per_page: u32,
    /// The organization, by id or name; needed only when the key sees several.
    pub organization: Option<String>,
    /// The organization's owner, by id or email. Vultr's API does not say who owns the
    /// organization, and the owner has unconditional access.
    pub root_user: Option<String>,
    /// Fail instead of recording consistency events.
    pub strict: bool,
    /// The name and version of the tool, recorded in the snapshot.
    pub tool: String,
    /// How much the crawl may read before it stops with an error.
    pub limits: CrawlLimits,
    /// Also read each user's active assumed-role sessions
    /// (`GET /assumed-roles/users/{id}/sessions`: one more request per user). Off by default.
    pub sessions: bool,
}

/// Ceilings that stop a crawl a server could otherwise make grow without end (new ids on
/// every page, a huge or missing `meta.total`). Far above the largest organization; Vultr
/// publishes no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CrawlLimits {
    /// Items in one listing of users (`/users`, suspended users, a policy's or a role's
    /// users). Default 1,000,000.
    pub users: u64,
    /// Items in any other listing (groups, roles, policies, trusts, attachments). Default
    /// 100,000.
    pub others: u64,
    /// Items in all listings of the crawl together. Default 10,000,000.
    pub total_items: u64,
    /// Response bytes of the crawl together. Default 1 GiB.
    pub total_bytes: u64,
}

impl Default for CrawlLimits {
    fn default() -> CrawlLimits {
        CrawlLimits {
            users: 1_000_000,
            others: 100_000,
            total_items: 10_000_000,
            total_bytes: 1 << 30,
        }
    }
}

impl CrawlLimits {
    /// The ceiling of one listing, from the last segment of its path.
    fn ceiling(&self, path: &str) -> u64 {
        let path = path.split('?').next().unwrap_or(path);
        match path.rsplit('/').next() {
            Some("users" | "suspended-users" | "members") => self.users,
            _ => self.others,
        }
    }
}

impl Default for CrawlOptions {
    fn default() -> CrawlOptions {
        CrawlOptions {
            per_page: 100,
            organization: None,
            root_user: None,
            strict: false,
            tool: concat!("iamsim-vultr ", env!("CARGO_PKG_VERSION")).to_string(),
            limits: CrawlLimits::default(),
            sessions: false,
        }
    }
}

/// Where the crawl is, for a progress display.
#[derive(Debug, Clone, Copy)]
pub struct Progress<'a> {
    /// `organization`, `users`, `groups`, `roles`, `policies`, `role trusts`, `verify`.
    pub phase: &'a str,
    /// Items of the phase done.
    pub done: usize,
    /// Items of the phase in all (0 while unknown).
    pub total: usize,
    /// Requests sent so far.
    pub requests: u64,
}

/// A finished crawl.
#[derive(Debug, Clone)]
pub struct Crawl {
    /// The organization; its `crawl` field holds [`Crawl::info`] as JSON.
    pub snapshot: Snapshot,
    /// What was recorded about the crawl.
    pub info: CrawlInfo,
    /// Fields seen in responses that Vultr's documented shapes do not have, as
    /// `GET /v2/users: status`. They are ignored.
    pub ignored_fields: Vec<String>,
}

/// What the snapshot's `crawl` object holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CrawlInfo {
    /// The tool and its version.
    pub tool: String,
    /// The API's base URL.
    pub base_url: String,
    /// When the crawl started (RFC 3339, UTC).
    pub started: String,
    /// When it ended.
    pub ended: String,
    /// How long it took, in milliseconds.
    pub duration_ms: u64,
    /// Items asked per page.
    pub per_page: u32,
    /// The client's rate limit, in requests per second.
    pub rate_per_second: f64,
    /// Requests sent, retries included.
    pub requests: u64,
    /// Requests that were retries.
    pub retries: u64,
    /// What the snapshot holds.
    pub counts: Counts,
    /// True when every event below is a note ([`EventKind::is_note`]): nothing suggests that
    /// the organization changed during the crawl or that two views disagree.
    pub consistent: bool,
    /// Anything that suggests the organization changed during the crawl, or that two of
    /// Vultr's views disagree.
    pub events: Vec<Event>,
    /// Crawls made: more than 1 when inconsistent crawls were retried.
    pub attempts: u32,
    /// Policy statements with keys iamsim does not evaluate, as Vultr sent them, and how the
    /// snapshot's documents read them instead.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unevaluated_statements: Vec<UnevaluatedStatement>,
    /// The result of `--verify`, when asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify: Option<crate::verify::Verification>,
}

/// Counts of what the snapshot holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Users, service and suspended users included.
    pub users: usize,
    /// Service users.
    pub service_users: usize,
    /// Suspended users.
    pub suspended_users: usize,
    /// Groups.
    pub groups: usize,
    /// Group memberships.
    pub memberships: usize,
    /// Roles.
    pub roles: usize,
    /// Policies.
    pub policies: usize,
    /// Role trusts.
    pub role_trusts: usize,
}

impl Counts {
    /// Counts of a snapshot.
    pub fn of(snapshot: &Snapshot) -> Counts {
        Counts {
            users: snapshot.users.len(),
            service_users: snapshot.users.iter().filter(|u| u.service_user).count(),
            suspended_users: snapshot.users.iter().filter(|u| u.suspended).count(),
            groups: snapshot.groups.len(),
            memberships: snapshot.groups.iter().map(|g| g.members.len()).sum(),
            roles: snapshot.roles.len(),
            policies: snapshot.policies.len(),
            role_trusts: snapshot.role_trusts.len(),
        }
    }
}

/// What kind of consistency event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// An item was listed, then its detail read answered 404: it was deleted meanwhile.
    Gone,
    /// `meta.total` is not the number of distinct items read.
    TotalMismatch,
    /// `meta.total` changed from one page to the next.
    TotalChanged,
    /// The same id came twice with different content.
    DuplicateDiffers,
    /// Two views of one edge disagree (`/groups/{id}/policies` and `/policies/{id}/groups`).
    ViewMismatch,
    /// A reference to an id no listing has.
    UnknownReference,
    /// A role trust whose role could not be told.
    UnresolvedTrust,
    /// A row of `/policies/{id}/users` says the user holds the policy through a group or a
    /// role that the crawl does not find: the two views disagree.
    AssignmentMismatch,
    /// A row of `/policies/{id}/users` with an `assignment_type` iamsim does not know, or
    /// none: it is not read as a direct attachment unless the user's own view
    /// (`/users/{id}/policies`, bucket `direct`) lists the policy.
    UnknownAssignmentType,
    /// The key sees several organizations and nothing showed that the endpoints that name
    /// none answer for the chosen one.
    OrganizationUnconfirmed,
    /// A policy statement with keys iamsim does not evaluate (such as `Condition`): kept as
    /// sent in `crawl.unevaluated_statements`, read conservatively in the document.
    UnevaluatedStatement,
    /// A role whose `role_type` is neither `assignable` nor `assumable` (or is missing): kept,
    /// and read as what its attachments show (assignable when Vultr lists users or groups
    /// assigned to it, else assumable). A note: it says nothing about the organization changing
    /// during the crawl, so it leaves the crawl consistent (see [`EventKind::is_note`]).
    UnknownRoleType,
}

impl EventKind {
    /// The name used in the snapshot (`total_mismatch`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Gone => "gone",
            EventKind::TotalMismatch => "total_mismatch",
            EventKind::TotalChanged => "total_changed",
            EventKind::DuplicateDiffers => "duplicate_differs",
            EventKind::ViewMismatch => "view_mismatch",
            EventKind::UnknownReference => "unknown_reference",
            EventKind::UnresolvedTrust => "unresolved_trust",
            EventKind::AssignmentMismatch => "assignment_mismatch",
            EventKind::UnknownAssignmentType => "unknown_assignment_type",
            EventKind::UnevaluatedStatement => "unevaluated_statement",
            EventKind::OrganizationUnconfirmed => "organization_unconfirmed",
            EventKind::UnknownRoleType => "unknown_role_type",
        }
    }

    /// Whether an event of this kind is a note: something the crawl read around in a way that
    /// does not depend on when it read it, so crawling again would show the same. A note is
    /// recorded and printed like any event, and `strict` refuses it, but it leaves
    /// [`CrawlInfo::consistent`] true and never blocks a remove-member.
    pub fn is_note(self) -> bool {
        matches!(self, EventKind::UnknownRoleType)
    }
}

/// One consistency event.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Event {
    /// What kind.
    pub kind: EventKind,
    /// The request that showed it, such as `GET /v2/groups/g-1`.
    pub endpoint: String,
    /// What, in one line.
    pub message: String,
    /// The ids (users, groups, roles, policies) the event is about, sorted. Empty means it
    /// may concern anything (a whole listing such as `/users`), which is also how an event of
    /// an older snapshot, recorded without them, is read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subjects: Vec<String>,
    /// The disagreement is one the reference documents as a known fault of Vultr's API (group
    /// policies, which Vultr's Terraform provider ignores "until the API is fixed"), not a sign
    /// that the organization changed. `remove-member --accept-api-quirks` may go on despite it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub known_quirk: bool,
}

impl Event {
    /// Whether the event may concern any of `ids`: it names one of them, or names nothing.
    pub fn touches<'a>(&self, mut ids: impl Iterator<Item = &'a str>) -> bool {
        self.subjects.is_empty() || ids.any(|id| self.subjects.iter().any(|s| s == id))
    }
}

impl std::fmt::Display for Event {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({}): {}",
            self.endpoint,
            self.kind.as_str(),
            self.message
        )
    }
}

/// The ids a per-item path is about (`/groups/g-1/policies` is about `g-1`); none for a
/// whole listing (`/users`), which may be about anything.
fn subjects_of(path: &str) -> Vec<String> {
    let path = path.split('?').next().unwrap_or(path);
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match segments.as_slice() {
        ["groups" | "roles" | "policies" | "users", id, ..] => vec![decode(id)],
        _ => Vec::new(),
    }
}

/// Undoes [`encode`] on a path segment.
fn decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A shape error, before it knows its request.
pub(crate) struct Shape {
    path: String,
    problem: ShapeProblem,
}

impl Shape {
    pub(crate) fn new(path: impl Into<String>, problem: ShapeProblem) -> Shape {
        Shape {
            path: path.into(),
            problem,
        }
    }

    /// `value` where `expected` belongs.
    fn wrong(path: impl Into<String>, expected: &'static str, value: &Value) -> Shape {
        Shape::new(
            path,
            ShapeProblem::WrongType {
                expected,
                found: JsonKind::of(value),
            },
        )
    }

    pub(crate) fn at(self, request: &str) -> Error {
        Error::Shape {
            request: request.to_string(),
            path: self.path,
            problem: self.problem,
        }
    }
}

/// `body[key]` as an array. `null` is a wrong type like any other: read as an empty list, it
/// would drop every item and could even give a consistent-looking snapshot.
pub(crate) fn items<'a>(body: &'a Value, key: &str) -> Result<&'a [Value], Shape> {
    match body.get(key) {
        Some(Value::Array(items)) => Ok(items),
        // A group whose last member left may list its members as `null`, or not at all (what
        // an empty group's `members` is, is not documented; `vultr probe` reports it): no
        // members, where any other `null` list is an error.
        Some(Value::Null) | None if key == "members" => Ok(&[]),
        Some(other) => Err(Shape::wrong(key, "an array", other)),
        None => Err(Shape::new(key, ShapeProblem::Missing)),
    }
}

/// `body[key][bucket]` as an array, for the `{"all": [...], "direct": [...], ...}` views.
pub(crate) fn bucket<'a>(body: &'a Value, key: &str, name: &str) -> Result<&'a [Value], Shape> {
    match body.get(key) {
        Some(Value::Object(buckets)) => match buckets.get(name) {
            Some(Value::Array(items)) => Ok(items),
            Some(other) => Err(Shape::wrong(format!("{key}.{name}"), "an array", other)),
            None => Err(Shape::new(format!("{key}.{name}"), ShapeProblem::Missing)),
        },
        Some(other) => Err(Shape::wrong(
            key,
            "an object of arrays (`all`, `direct`, ...)",
            other,
        )),
        None => Err(Shape::new(key, ShapeProblem::Missing)),
    }
}

/// The id field of an item, which must be a non-empty string.
fn id_of(item: &Value, field: &str, path: &str) -> Result<String, Shape> {
    match item.get(field) {
        Some(Value::String(id)) if !id.is_empty() => Ok(id.clone()),
        Some(Value::String(_)) => Err(Shape::new(format!("{path}.{field}"), ShapeProblem::EmptyId)),
        Some(other) => Err(Shape::wrong(
            format!("{path}.{field}"),
            "a string id",
            other,
        )),
        None => Err(Shape::new(format!("{path}.{field}"), ShapeProblem::Missing)),
    }
}

/// Deserializes one item, with the JSON path of any error.
pub(crate) fn typed<T: serde::de::DeserializeOwned>(item: &Value, path: &str) -> Result<T, Shape> {
    serde_path_to_error::deserialize(item).map_err(|e| {
        let inner = e.path().to_string();
        let full = if inner == "." || inner.is_empty() {
            path.to_string()
        } else {
            format!("{path}.{inner}")
        };
        Shape::new(
            full,
            ShapeProblem::Invalid {
                source: e.into_inner(),
            },
        )
    })
}

/// A single object, wrapped (`{"group": {...}}`) or not.
fn unwrap_one<'a>(body: &'a Value, key: &str) -> &'a Value {
    match body.get(key) {
        Some(inner @ Value::Object(_)) => inner,
        _ => body,
    }
}

struct Meta {
    total: Option<u64>,
    next: Option<String>,
}

fn meta(body: &Value) -> Result<Meta, Shape> {
    let Some(meta) = body.get("meta").filter(|m| !m.is_null()) else {
        return Ok(Meta {
            total: None,
            next: None,
        });
    };
    let total = match meta.get("total") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => Some(
            n.as_u64()
                .ok_or_else(|| Shape::new("meta.total", ShapeProblem::NotACount))?,
        ),
        Some(other) => return Err(Shape::wrong("meta.total", "a number", other)),
    };
    let next = match meta.get("links").and_then(|l| l.get("next")) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.is_empty() => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => return Err(Shape::wrong("meta.links.next", "a string", other)),
    };
    Ok(Meta { total, next })
}

/// A crawl in progress.
pub(crate) struct Crawler<'a> {
    pub(crate) client: &'a mut Client,
    per_page: u32,
    limits: CrawlLimits,
    /// Items read by every listing so far, and the client's byte count when the crawl began.
    items_read: u64,
    bytes_at_start: u64,
    events: Vec<Event>,
    unevaluated: Vec<UnevaluatedStatement>,
    ignored: BTreeSet<String>,
    progress: &'a mut dyn FnMut(&Progress),
}

/// The pages of one listing.
struct Pages {
    bodies: Vec<Value>,
    last_total: Option<u64>,
}

impl<'a> Crawler<'a> {
    pub(crate) fn new(
        client: &'a mut Client,
        per_page: u32,
        limits: CrawlLimits,
        progress: &'a mut dyn FnMut(&Progress),
    ) -> Crawler<'a> {
        let bytes_at_start = client.stats().bytes;
        Crawler {
            client,
            per_page,
            limits,
            items_read: 0,
            bytes_at_start,
            events: Vec::new(),
            unevaluated: Vec::new(),
            ignored: BTreeSet::new(),
            progress,
        }
    }

    fn describe(&self, path: &str) -> String {
        let path = path.split('?').next().unwrap_or(path);
        self.client.describe("GET", path)
    }

    pub(crate) fn report(&mut self, phase: &str, done: usize, total: usize) {
        let requests = self.client.stats().requests;
        (self.progress)(&Progress {
            phase,
            done,
            total,
            requests,
        });
    }

    fn event(&mut self, kind: EventKind, path: &str, message: String) {
        self.event_on(kind, path, message, &[], false);
    }

    /// An event about the ids its path names plus `more`.
    fn event_on(
        &mut self,
        kind: EventKind,
        path: &str,
        message: String,
        more: &[&str],
        known_quirk: bool,
    ) {
        let endpoint = self.describe(path);
        let message = self.client.key().redact(&message);
        let mut subjects = subjects_of(path);
        if !subjects.is_empty() || !more.is_empty() {
            subjects.extend(more.iter().map(|s| s.to_string()));
        }
        subjects.sort();
        subjects.dedup();
        self.events.push(Event {
            kind,
            endpoint,
            message,
            subjects,
            known_quirk,
        });
    }

    /// Every page of `path`, following `meta.links.next`. `ids_of` gives the ids a page holds,
    /// to tell a page that brings nothing new.
    fn pages(
        &mut self,
        path: &str,
        ids_of: &dyn Fn(&Value) -> Result<Vec<String>, Shape>,
        check_total: bool,
    ) -> Result<Pages, Error> {
        let endpoint = self.describe(path);
        let mut bodies = Vec::new();
        let mut seen_ids: HashSet<String> = HashSet::new();
        let mut seen_cursors: HashSet<String> = HashSet::new();
        let mut cursor: Option<String> = None;
        let mut empty_with_next = 0;
        let mut totals: Vec<u64> = Vec::new();
        let pagination = |problem: PageProblem| Error::Pagination {
            endpoint: endpoint.clone(),
            problem,
        };
        loop {
            let separator = if path.contains('?') { '&' } else { '?' };
            let mut target = format!("{path}{separator}per_page={}", self.per_page);
            if let Some(cursor) = &cursor {
                target.push_str("&cursor=");
                target.push_str(&encode(cursor));
            }
            let body = self.client.get_json(&target)?;
            let request = self.client.describe("GET", &target);
            let ids = ids_of(&body).map_err(|s| s.at(&request))?;
            let meta = meta(&body).map_err(|s| s.at(&request))?;
            totals.extend(meta.total);
            let mut fresh = 0;
            for id in ids.iter() {
                if seen_ids.insert(id.clone()) {
                    fresh += 1;
                }
            }
            self.items_read += ids.len() as u64;
            bodies.push(body);
            self.check_limits(path, seen_ids.len() as u64, &totals)
                .map_err(&pagination)?;
            let Some(next) = meta.next else {
                break;
            };
            let page = bodies.len();
            if ids.is_empty() {
                empty_with_next += 1;
                if empty_with_next > 1 {
                    return Err(pagination(PageProblem::SecondEmptyPage { page }));
                }
            } else if fresh == 0 {
                return Err(pagination(PageProblem::NothingNew { page }));
            }
            if !seen_cursors.insert(next.clone()) {
                let cursor: String = self.client.key().redact(&next).chars().take(40).collect();
                return Err(pagination(PageProblem::Loop { cursor, page }));
            }
            // Beyond the id checks, a listing bringing new ids forever is stopped well after
            // what its largest stated total needs.
            let limit = match totals.iter().max() {
                Some(&total) => total.div_ceil(u64::from(self.per_page)) as usize * 2 + 10,
                None => 100_000,
            };
            if page >= limit {
                return Err(pagination(PageProblem::TooManyPages { pages: page }));
            }
            cursor = Some(next);
        }
        if check_total && totals.windows(2).any(|w| w[0] != w[1]) {
            let list: Vec<String> = totals.iter().map(u64::to_string).collect();
            self.event(
                EventKind::TotalChanged,
                path,
                format!(
                    "`meta.total` changed between pages ({}): the collection changed during the crawl",
                    list.join(", ")
                ),
            );
        }
        Ok(Pages {
            bodies,
            last_total: totals.last().copied(),
        })
    }

    /// Stops a listing (or the crawl) that has read more than its ceiling: items in this
    /// listing (from `meta.total` when it is believable, else the documented ceiling), items
    /// in all listings, and bytes received.
    fn check_limits(&self, path: &str, items: u64, totals: &[u64]) -> Result<(), PageProblem> {
        let ceiling = self.limits.ceiling(path);
        let total = totals.iter().max().copied();
        let cap = match total {
            Some(total) if total <= ceiling => {
                total.saturating_mul(2).max(total + 1_000).min(ceiling)
            }
            _ => ceiling,
        };
        if items > cap {
            return Err(PageProblem::TooManyItems {
                items,
                cap,
                total,
                ceiling,
            });
        }
        if self.items_read > self.limits.total_items {
            return Err(PageProblem::CrawlItems {
                items: self.items_read,
                limit: self.limits.total_items,
            });
        }
        let bytes = self.client.stats().bytes - self.bytes_at_start;
        if bytes > self.limits.total_bytes {
            return Err(PageProblem::CrawlBytes {
                bytes,
                limit: self.limits.total_bytes,
            });
        }
        Ok(())
    }

    /// Items of `key` across pages, each id once. The same id twice with different content is
    /// an event; the later copy is kept, as the fresher read.
    fn merge<'v>(
        &mut self,
        path: &str,
        lists: impl Iterator<Item = &'v [Value]>,
        row_key: &dyn Fn(&Value) -> Option<String>,
        fields: &[&str],
    ) -> Vec<Value> {
        let mut order: Vec<String> = Vec::new();
        let mut by_id: HashMap<String, Value> = HashMap::new();
        let mut differing = Vec::new();
        for list in lists {
            for item in list {
                // INVARIANT: `pages` already checked that every item has a string id.
                let Some(id) = row_key(item) else {
                    continue;
                };
                let id = id.as_str();
                if let Value::Object(map) = item {
                    for key in map.keys() {
                        if !fields.contains(&key.as_str()) {
                            let line = format!("{}: {key}", self.describe(path));
                            self.ignored.insert(self.client.key().redact(&line));
                        }
                    }
                }
                match by_id.get(id) {
                    None => {
                        order.push(id.to_string());
                        by_id.insert(id.to_string(), item.clone());
                    }
                    Some(previous) if previous == item => {}
                    Some(_) => {
                        differing.push(id.to_string());
                        by_id.insert(id.to_string(), item.clone());
                    }
                }
            }
        }
        for id in differing {
            self.event(
                EventKind::DuplicateDiffers,
                path,
                format!("`{id}` appears on two pages with different content; the later is kept"),
            );
        }
        order
            .into_iter()
            .filter_map(|id| by_id.remove(&id))
            .collect()
    }

    /// A whole paged listing of `body[key]`, one item per id.
    pub(crate) fn list(
        &mut self,
        path: &str,
        key: &str,
        id_field: &str,
        fields: &[&str],
    ) -> Result<Vec<Value>, Error> {
        let row_key = |item: &Value| {
            item.get(id_field)
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        self.list_rows(path, key, id_field, fields, &row_key)
    }

    /// A whole paged listing of `body[key]`, one item per `row_key` (which may hold more than
    /// the id: a user can appear in `/policies/{id}/users` once per way they hold the policy).
    pub(crate) fn list_rows(
        &mut self,
        path: &str,
        key: &str,
        id_field: &str,
        fields: &[&str],
        row_key: &dyn Fn(&Value) -> Option<String>,
    ) -> Result<Vec<Value>, Error> {
        let ids_of = |body: &Value| -> Result<Vec<String>, Shape> {
            items(body, key)?
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    let id = id_of(item, id_field, &format!("{key}[{i}]"))?;
                    Ok(row_key(item).unwrap_or(id))
                })
                .collect()
        };
        let (merged, total) = self.read_listing(path, key, fields, row_key, &ids_of)?;
        let Some(total) = total.filter(|&t| t != merged.len() as u64) else {
            return Ok(merged);
        };
        // A total unlike the items read may mean the listing changed while it was read, or
        // that `meta.total` counts something else (what it counts is not documented). Reading
        // the listing again tells them apart: the same items and the same total twice is not
        // a change, only a total that does not count items.
        let events = self.events.len();
        let (again, total_again) = self.read_listing(path, key, fields, row_key, &ids_of)?;
        // The second read's own events (duplicates, changing totals) repeat the first's.
        self.events.truncate(events);
        let read = merged.len();
        if again == merged && total_again == Some(total) {
            self.event_on(
                EventKind::TotalMismatch,
                path,
                format!(
                    "`meta.total` says {total} but {read} distinct item(s) were read, the same items and total on a second read: the listing did not change, `meta.total` does not count its items"
                ),
                &[],
                true,
            );
            Ok(merged)
        } else {
            self.event(
                EventKind::TotalMismatch,
                path,
                format!(
                    "`meta.total` says {total} but {read} distinct item(s) were read, and a second read differs ({} item(s), total {}): the listing changed during the crawl; the second read is kept",
                    again.len(),
                    total_again.map_or("absent".to_string(), |t| t.to_string())
                ),
            );
            Ok(again)
        }
    }

    /// Every page of a listing, merged; and the last `meta.total`.
    fn read_listing(
        &mut self,
        path: &str,
        key: &str,
        fields: &[&str],
        row_key: &dyn Fn(&Value) -> Option<String>,
        ids_of: &dyn Fn(&Value) -> Result<Vec<String>, Shape>,
    ) -> Result<(Vec<Value>, Option<u64>), Error> {
        let pages = self.pages(path, ids_of, true)?;
        let lists: Vec<&[Value]> = pages
            .bodies
            .iter()
            .map(|b| items(b, key).unwrap_or_default())
            .collect();
        let merged = self.merge(path, lists.into_iter(), row_key, fields);
        Ok((merged, pages.last_total))
    }

    /// The named buckets of a `{"all": [...], "direct": [...]}` view, across pages. Totals are
    /// not checked: what `meta.total` counts in these views is not documented.
    pub(crate) fn buckets(
        &mut self,
        path: &str,
        key: &str,
        names: &[&str],
        fields: &[&str],
    ) -> Result<Vec<Vec<Value>>, Error> {
        let ids_of = |body: &Value| -> Result<Vec<String>, Shape> {
            let mut ids = Vec::new();
            for name in names {
                for (i, item) in bucket(body, key, name)?.iter().enumerate() {
                    ids.push(id_of(item, "id", &format!("{key}.{name}[{i}]"))?);
                }
            }
            Ok(ids)
        };
        let pages = self.pages(path, &ids_of, false)?;
        let mut out = Vec::new();
        for name in names {
            let lists: Vec<&[Value]> = pages
                .bodies
                .iter()
                .map(|b| bucket(b, key, name).unwrap_or_default())
                .collect();
            let row_key = |item: &Value| item.get("id").and_then(Value::as_str).map(str::to_string);
            out.push(self.merge(path, lists.into_iter(), &row_key, fields));
        }
        Ok(out)
    }

    /// A single object; `Ok(None)` on 404.
    fn get_one(&mut self, path: &str, key: &str) -> Result<Option<Value>, Error> {
        match self.client.get_json(path) {
            Ok(body) => Ok(Some(unwrap_one(&body, key).clone())),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Runs a per-item read; on 404, asks for the item itself at `detail`: if it is gone, that
    /// is an event and `Ok(None)`; if it is there, the endpoint itself is missing, an error.
    pub(crate) fn per_item<T>(
        &mut self,
        detail: &str,
        what: &str,
        read: impl FnOnce(&mut Self) -> Result<T, Error>,
    ) -> Result<Option<T>, Error> {
        match read(self) {
            Ok(value) => Ok(Some(value)),
            Err(e) if is_not_found(&e) => match self.client.get_json(detail) {
                Err(again) if is_not_found(&again) => {
                    self.event(
                        EventKind::Gone,
                        detail,
                        format!("{what} was listed, then answered 404: deleted during the crawl; left out"),
                    );
                    Ok(None)
                }
                Err(other) => Err(other),
                Ok(_) => Err(e),
            },
            Err(e) => Err(e),
        }
    }

    fn typed_all<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        key: &str,
        items: &[Value],
    ) -> Result<Vec<T>, Error> {
        items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                typed(item, &format!("{key}[{i}]")).map_err(|s| s.at(&self.describe(path)))
            })
            .collect()
    }

    fn ids(items: &[Value], field: &str) -> Vec<String> {
        items
            .iter()
            .filter_map(|i| i.get(field).and_then(Value::as_str).map(str::to_string))
            .collect()
    }
}

fn is_not_found(e: &Error) -> bool {
    matches!(e.http_cause(), Some(crate::HttpError::NotFound { .. }))
}

/// Crawls the organization the client's key sees.
///
/// Fails on any error; returns a snapshot with `crawl.consistent == false` and the events
/// listed when the organization seemed to change during the crawl (or fails, under
/// `strict`).
pub fn crawl(
    client: &mut Client,
    options: &CrawlOptions,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Crawl, Error> {
    if !(1..=MAX_PER_PAGE).contains(&options.per_page) {
        return Err(Error::PerPage {
            per_page: options.per_page,
            max: MAX_PER_PAGE,
        });
    }
    let started = client.clock().system_now();
    let started_at = client.clock().now();
    let before = client.stats();
    let mut crawler = Crawler::new(client, options.per_page, options.limits, progress);
    let snapshot = crawl_inner(&mut crawler, options)?;
    let events = std::mem::take(&mut crawler.events);
    let unevaluated_statements = std::mem::take(&mut crawler.unevaluated);
    let ignored_fields: Vec<String> = std::mem::take(&mut crawler.ignored).into_iter().collect();
    let stats = client.stats();
    let ended = client.clock().system_now();
    if options.strict && !events.is_empty() {
        return Err(Error::Strict {
            count: events.len(),
            first: Box::new(events[0].clone()),
        });
    }
    let info = CrawlInfo {
        tool: options.tool.clone(),
        base_url: client.options().base_url.clone(),
        started: rfc3339(started),
        ended: rfc3339(ended),
        duration_ms: client
            .clock()
            .now()
            .saturating_duration_since(started_at)
            .as_millis() as u64,
        per_page: options.per_page,
        rate_per_second: client.options().rate_per_second,
        requests: stats.requests - before.requests,
        retries: stats.retries - before.retries,
        counts: Counts::of(&snapshot),
        consistent: events.iter().all(|e| e.kind.is_note()),
        events,
        attempts: 1,
        unevaluated_statements,
        verify: None,
    };
    let mut crawl = Crawl {
        snapshot,
        info,
        ignored_fields,
    };
    crawl.store_info()?;
    Ok(crawl)
}

impl Crawl {
    /// Writes [`Crawl::info`] into the snapshot's `crawl` field, after checking that nothing
    /// in the snapshot holds the API key.
    pub fn store_info(&mut self) -> Result<(), Error> {
        self.snapshot.crawl =
            Some(
                serde_json::to_value(&self.info).map_err(|source| Error::Serialize {
                    what: "crawl info",
                    source,
                })?,
            );
        Ok(())
    }

    /// Fails if the snapshot's JSON holds the key: a server echoing it into a name must not
    /// make iamsim write it to a file.
    pub fn check_no_secret(&self, key: &crate::ApiKey) -> Result<(), Error> {
        let text = serde_json::to_string(&self.snapshot).map_err(|source| Error::Serialize {
            what: "snapshot",
            source,
        })?;
        if key.appears_in(&text) {
            return Err(Error::KeyInData);
        }
        Ok(())
    }
}

/// The crawl as a sequence of steps, each reading one part of the organization in the order
/// Vultr's endpoints are asked; the last steps tie the parts together.
fn crawl_inner(c: &mut Crawler, options: &CrawlOptions) -> Result<Snapshot, Error> {
    let (org, bound) = read_organization(c, options)?;
    let mut users = read_users(c)?;
    read_suspended_users(c, &org, bound, &mut users)?;
    let mut groups = read_groups(c)?;
    let mut roles = read_roles(c)?;
    let policies = read_policies(c)?;
    let role_trusts = read_role_trusts(c, &roles)?;
    link(c, &mut users, &mut groups, &mut roles, policies.found)?;
    let root_user_id = find_root_user(&users, options.root_user.as_deref())?;
    let sessions = if options.sessions {
        read_sessions(c, users.keys())?
    } else {
        Vec::new()
    };
    let mut snapshot = Snapshot {
        format: SNAPSHOT_FORMAT.to_string(),
        organization: Organization {
            id: org.id,
            name: org.name,
            root_user_id,
        },
        users: users.into_values().collect(),
        groups: groups.found.into_values().collect(),
        roles: roles.found.into_values().collect(),
        policies: policies.kept.into_values().collect(),
        role_trusts,
        sessions,
        crawl: None,
    };
    normalize(&mut snapshot);
    Ok(snapshot)
}

/// Entities of one kind as the crawl read them, by id, and the ids that were listed but gone
/// (404) by the time their details were read.
struct Read<T> {
    found: BTreeMap<String, T>,
    gone: BTreeSet<String>,
}

impl<T> Default for Read<T> {
    fn default() -> Read<T> {
        Read {
            found: BTreeMap::new(),
            gone: BTreeSet::new(),
        }
    }
}

/// The roles and who `/roles/{id}/users` and `/roles/{id}/groups` say they are assigned to.
#[derive(Default)]
struct RolesRead {
    found: BTreeMap<String, Role>,
    gone: BTreeSet<String>,
    /// (role, group) pairs, to cross-check `/groups/{id}/roles`.
    groups: BTreeSet<(String, String)>,
    /// (user, role) pairs.
    users: Vec<(String, String)>,
}

/// The policies and who `/policies/{id}/users` and `/policies/{id}/groups` say holds them.
struct PoliciesRead {
    /// The policies, moved into the snapshot.
    kept: BTreeMap<String, Policy>,
    /// What the edges step needs.
    found: PolicyHolders,
}

/// Who holds each policy, as the policies' own views list them.
#[derive(Default)]
struct PolicyHolders {
    gone: BTreeSet<String>,
    /// (policy, group) pairs, to cross-check `/groups/{id}/policies`.
    groups: BTreeSet<(String, String)>,
    /// (user, policy, `assignment_type`) as `/policies/{id}/users` lists them.
    rows: Vec<(String, String, Option<String>)>,
}

/// Step 1: the organization, and whether the endpoints that name none are shown to answer for
/// it.
fn read_organization(
    c: &mut Crawler,
    options: &CrawlOptions,
) -> Result<(api::Organization, bool), Error> {
    c.report("organization", 0, 0);
    let orgs_raw = c.list("/organizations", "orgs", "id", api::Organization::FIELDS)?;
    let orgs: Vec<api::Organization> = c.typed_all("/organizations", "orgs", &orgs_raw)?;
    let visible = orgs.len();
    let org = choose_organization(orgs, options.organization.as_deref(), c.client.key())?;
    // INVARIANT: with one organization visible, every endpoint answers for it. With several,
    // only the suspended-users path names one; the others answer for the key's organization,
    // which `bind_organization` must show to be the chosen one before anything is mixed.
    let bound = visible == 1 || bind_organization(c, &org)?;
    Ok((org, bound))
}

/// Step 2: the users `/users` lists.
fn read_users(c: &mut Crawler) -> Result<BTreeMap<String, User>, Error> {
    c.report("users", 0, 0);
    let users_raw = c.list("/users", "users", "id", api::User::FIELDS)?;
    let api_users: Vec<api::User> = c.typed_all("/users", "users", &users_raw)?;
    let mut users: BTreeMap<String, User> = BTreeMap::new();
    for u in api_users {
        users.insert(
            u.id.clone(),
            User {
                name: u.display_name(),
                id: u.id,
                email: u.email,
                service_user: u.service_user,
                suspended: false,
                policies: Vec::new(),
                roles: Vec::new(),
                acls: u.acls.map(|mut acls| {
                    acls.sort();
                    acls.dedup();
                    acls
                }),
                api_enabled: u.api_enabled,
            },
        );
    }
    Ok(users)
}

/// Step 3: the organization's suspended users, marked as such (and added when `/users` leaves
/// them out).
fn read_suspended_users(
    c: &mut Crawler,
    org: &api::Organization,
    bound: bool,
    users: &mut BTreeMap<String, User>,
) -> Result<(), Error> {
    let suspended_path = format!("/organizations/{}/suspended-users", encode(&org.id));
    let suspended_raw = c.list(
        &suspended_path,
        "users",
        "id",
        api::ORGANIZATION_USER_FIELDS,
    )?;
    let suspended: Vec<api::User> = c.typed_all(&suspended_path, "users", &suspended_raw)?;
    for s in suspended {
        if !bound && !users.contains_key(&s.id) {
            // Unbound, a suspended user of the chosen organization that the key's views do not
            // list may belong to another organization than theirs: not mixed in.
            c.event_on(
                EventKind::OrganizationUnconfirmed,
                &suspended_path,
                format!(
                    "suspended user `{}` of organization `{}` is not among the users the other endpoints list; left out rather than mixing organizations",
                    s.id, org.id
                ),
                &[&s.id],
                false,
            );
            continue;
        }
        // `/users` may leave suspended users out: they are users of the organization all the
        // same, with their assignments kept.
        let name = s.display_name();
        let user = users.entry(s.id.clone()).or_insert_with(|| User {
            id: s.id.clone(),
            email: s.email.clone(),
            name,
            service_user: false,
            suspended: false,
            policies: Vec::new(),
            roles: Vec::new(),
            // The suspended-users list does not carry them: not known.
            acls: None,
            api_enabled: None,
        });
        user.suspended = true;
    }
    c.report("users", users.len(), users.len());
    Ok(())
}

/// Step 4: the groups, each with its members and the roles and policies attached directly.
fn read_groups(c: &mut Crawler) -> Result<Read<Group>, Error> {
    let groups_raw = c.list("/groups", "groups", "id", api::Group::FIELDS)?;
    let api_groups: Vec<api::Group> = c.typed_all("/groups", "groups", &groups_raw)?;
    let mut read = Read::default();
    let group_count = api_groups.len();
    for (i, g) in api_groups.into_iter().enumerate() {
        c.report("groups", i, group_count);
        match read_group(c, &g)? {
            Some(group) => {
                read.found.insert(g.id, group);
            }
            None => {
                read.gone.insert(g.id);
            }
        }
    }
    c.report("groups", group_count, group_count);
    Ok(read)
}

/// One group's members, roles and policies; `None` when it was deleted during the crawl.
fn read_group(c: &mut Crawler, g: &api::Group) -> Result<Option<Group>, Error> {
    let base = format!("/groups/{}", encode(&g.id));
    let what = format!("group `{}`", g.id);
    // Members from the documented, paged `GET /groups/{id}/members`, not the `members` of
    // `GET /groups/{id}` (what govultr reads), which cannot be paged: a long member list there
    // might be cut short, and a member left out would seem to keep nothing.
    let members_path = format!("{base}/members");
    let Some(members) = c.per_item(&base, &what, |c| {
        c.list(
            &members_path,
            "members",
            "id",
            api::ORGANIZATION_USER_FIELDS,
        )
    })?
    else {
        return Ok(None);
    };
    let roles_path = format!("{base}/roles");
    let Some(roles) = c.per_item(&base, &what, |c| {
        c.buckets(&roles_path, "roles", &["direct"], api::GROUP_ROLE_FIELDS)
    })?
    else {
        return Ok(None);
    };
    let policies_path = format!("{base}/policies");
    let Some(policies) = c.per_item(&base, &what, |c| {
        c.buckets(&policies_path, "policies", &["direct"], api::Policy::FIELDS)
    })?
    else {
        return Ok(None);
    };
    Ok(Some(Group {
        id: g.id.clone(),
        display_name: g.display_name.clone(),
        description: g.description.clone(),
        members: Crawler::ids(&members, "id"),
        policies: Crawler::ids(&policies[0], "id"),
        roles: Crawler::ids(&roles[0], "id"),
    }))
}

/// Step 5: the roles, each with its policies and who it is assigned to.
fn read_roles(c: &mut Crawler) -> Result<RolesRead, Error> {
    let roles_raw = c.list("/roles", "roles", "id", api::Role::FIELDS)?;
    let api_roles: Vec<api::Role> = c.typed_all("/roles", "roles", &roles_raw)?;
    let mut read = RolesRead::default();
    let role_count = api_roles.len();
    for (i, r) in api_roles.into_iter().enumerate() {
        c.report("roles", i, role_count);
        read_role(c, r, &mut read)?;
    }
    c.report("roles", role_count, role_count);
    Ok(read)
}

/// One role's policies, users and groups, into `read`.
fn read_role(c: &mut Crawler, r: api::Role, read: &mut RolesRead) -> Result<(), Error> {
    let base = format!("/roles/{}", encode(&r.id));
    let what = format!("role `{}`", r.id);
    let policies_path = format!("{base}/policies");
    let users_path = format!("{base}/users");
    let groups_path = format!("{base}/groups");
    let listed = c.per_item(&base, &what, |c| {
        let policies = c.list(&policies_path, "policies", "id", api::Policy::FIELDS)?;
        let users = c.list(
            &users_path,
            "assignments",
            "user_id",
            api::ASSIGNMENT_FIELDS,
        )?;
        let groups = c.list(
            &groups_path,
            "assignments",
            "group_id",
            api::ASSIGNMENT_FIELDS,
        )?;
        Ok((policies, users, groups))
    })?;
    let Some((policies, users_of, groups_of)) = listed else {
        read.gone.insert(r.id);
        return Ok(());
    };
    let user_ids = Crawler::ids(&users_of, "user_id");
    let group_ids = Crawler::ids(&groups_of, "group_id");
    let role_type = read_role_type(c, &r, user_ids.len(), group_ids.len());
    for user in user_ids {
        read.users.push((user, r.id.clone()));
    }
    for group in group_ids {
        read.groups.insert((r.id.clone(), group));
    }
    read.found.insert(
        r.id.clone(),
        Role {
            id: r.id,
            name: r.name,
            role_type,
            description: r.description,
            policies: Crawler::ids(&policies, "id"),
        },
    );
    Ok(())
}

/// Step 6: the policies, each with its document and who holds it.
fn read_policies(c: &mut Crawler) -> Result<PoliciesRead, Error> {
    let policies_raw = c.list("/policies", "policies", "id", api::Policy::FIELDS)?;
    let api_policies: Vec<api::Policy> = c.typed_all("/policies", "policies", &policies_raw)?;
    let mut read = PoliciesRead {
        kept: BTreeMap::new(),
        found: PolicyHolders::default(),
    };
    let policy_count = api_policies.len();
    for (i, p) in api_policies.into_iter().enumerate() {
        c.report("policies", i, policy_count);
        read_policy(c, p, &mut read)?;
    }
    c.report("policies", policy_count, policy_count);
    Ok(read)
}

/// One policy's document, users and groups, into `read`.
fn read_policy(c: &mut Crawler, p: api::Policy, read: &mut PoliciesRead) -> Result<(), Error> {
    let base = format!("/policies/{}", encode(&p.id));
    let what = format!("policy `{}`", p.id);
    let Some(document) = policy_document(c, &p, &base, &what)? else {
        read.found.gone.insert(p.id);
        return Ok(());
    };
    let document = parse_document(c, &p.id, document)
        .map_err(|s| s.at(&format!("{} (policy `{}`)", c.describe("/policies"), p.id)))?;
    let users_path = format!("{base}/users");
    let groups_path = format!("{base}/groups");
    let listed = c.per_item(&base, &what, |c| {
        // A user may be listed once per way they hold the policy.
        let row_key = |item: &Value| {
            let id = item.get("id").and_then(Value::as_str)?;
            let kind = item.get("assignment_type").and_then(Value::as_str);
            Some(format!("{id}\u{1f}{}", kind.unwrap_or("\u{0}")))
        };
        let users = c.list_rows(
            &users_path,
            "users",
            "id",
            api::ORGANIZATION_USER_FIELDS,
            &row_key,
        )?;
        let groups = c.list(&groups_path, "groups", "id", api::Group::FIELDS)?;
        Ok((users, groups))
    })?;
    let Some((users_of, groups_of)) = listed else {
        read.found.gone.insert(p.id);
        return Ok(());
    };
    for row in &users_of {
        // INVARIANT: `list_rows` checked that every row has a string id.
        let Some(user) = row.get("id").and_then(Value::as_str) else {
            continue;
        };
        let kind = match row.get("assignment_type") {
            Some(Value::String(kind)) => Some(kind.clone()),
            None | Some(Value::Null) => None,
            Some(other) => Some(other.to_string()),
        };
        read.found.rows.push((user.to_string(), p.id.clone(), kind));
    }
    for group in Crawler::ids(&groups_of, "id") {
        read.found.groups.insert((p.id.clone(), group));
    }
    read.kept.insert(
        p.id.clone(),
        Policy {
            id: p.id,
            name: p.name,
            description: p.description,
            is_system_policy: p.is_system_policy,
            policy_document: document,
        },
    );
    Ok(())
}

/// A policy's document as the list gave it, or else as `GET /policies/{id}` gives it; `None`
/// (and a `gone` event) when the policy was deleted meanwhile.
fn policy_document(
    c: &mut Crawler,
    p: &api::Policy,
    base: &str,
    what: &str,
) -> Result<Option<Value>, Error> {
    let mut document = p.policy_document.clone().filter(|d| !d.is_null());
    if document.is_none() {
        // The list left the document out: read the policy itself.
        match c.get_one(base, "policy")? {
            None => {
                c.event(
                    EventKind::Gone,
                    base,
                    format!(
                        "{what} was listed, then answered 404: deleted during the crawl; left out"
                    ),
                );
                return Ok(None);
            }
            Some(one) => {
                let one: api::Policy =
                    typed(&one, "policy").map_err(|s| s.at(&c.describe(base)))?;
                document = one.policy_document.filter(|d| !d.is_null());
            }
        }
    }
    match document {
        Some(document) => Ok(Some(document)),
        None => Err(
            Shape::new("policy.policy_document", ShapeProblem::NoDocument).at(&c.describe(base)),
        ),
    }
}

/// Step 7: the role trusts, each tied to its role.
fn read_role_trusts(c: &mut Crawler, roles: &RolesRead) -> Result<Vec<RoleTrust>, Error> {
    c.report("role trusts", 0, 0);
    let trusts_raw = c.list("/role-trusts", "role_trusts", "id", api::RoleTrust::FIELDS)?;
    let api_trusts: Vec<api::RoleTrust> =
        c.typed_all("/role-trusts", "role_trusts", &trusts_raw)?;
    let trust_roles = resolve_trust_roles(c, &api_trusts, &roles.found)?;
    let mut role_trusts = Vec::new();
    for t in api_trusts {
        let role_id = t
            .role_id
            .clone()
            .or_else(|| trust_roles.get(&t.id).cloned());
        let Some(role_id) = role_id else {
            c.event(
                EventKind::UnresolvedTrust,
                "/role-trusts",
                format!(
                    "role trust `{}` names role `{}`, which no role's trust list claims; left out",
                    t.id, t.role_name
                ),
            );
            continue;
        };
        if roles.gone.contains(&role_id) {
            continue;
        }
        role_trusts.push(RoleTrust {
            id: t.id,
            role_id,
            trust_type: t.trust_type,
            trusted_user_id: t.trusted_user_id,
            trusted_group_id: t.trusted_group_id,
            oidc_issuer_id: t.oidc_issuer_id,
            trusted_organization_id: t.trusted_organization_id,
            conditions: t.conditions.filter(|v| !v.is_null()),
            valid_until: t.valid_until,
        });
    }
    Ok(role_trusts)
}

/// Step 10 (with [`CrawlOptions::sessions`]): each user's active assumed-role sessions, in
/// user order. A session's token is never kept: only its user, role, name and times.
fn read_sessions<'a>(
    c: &mut Crawler,
    users: impl Iterator<Item = &'a String>,
) -> Result<Vec<Session>, Error> {
    let users: Vec<&String> = users.collect();
    let mut sessions = Vec::new();
    for (done, user) in users.iter().enumerate() {
        c.report("sessions", done, users.len());
        let path = format!("/assumed-roles/users/{}/sessions", encode(user));
        // One row per session: a user may hold one role in several sessions.
        let row_key = |item: &Value| {
            let text = |key: &str| item.get(key).and_then(Value::as_str).unwrap_or("");
            Some(format!(
                "{}\u{0}{}\u{0}{}",
                text("role_id"),
                text("assumed_at"),
                text("session_name")
            ))
        };
        let detail = format!("/users/{}", encode(user));
        let what = format!("user `{user}`");
        let Some(rows) = c.per_item(&detail, &what, |c| {
            c.list_rows(&path, "sessions", "role_id", api::Session::FIELDS, &row_key)
        })?
        else {
            continue;
        };
        let read: Vec<api::Session> = c.typed_all(&path, "sessions", &rows)?;
        sessions.extend(read.into_iter().map(|s| Session {
            user_id: (*user).clone(),
            role_id: s.role_id,
            session_name: s.session_name,
            assumed_at: s.assumed_at,
            expires_at: s.expires_at,
        }));
    }
    c.report("sessions", users.len(), users.len());
    Ok(sessions)
}

/// Step 8: the edges, cross-checked between the two views that show them, then cleared of
/// entities deleted during the crawl.
fn link(
    c: &mut Crawler,
    users: &mut BTreeMap<String, User>,
    groups: &mut Read<Group>,
    roles: &mut RolesRead,
    policies: PolicyHolders,
) -> Result<(), Error> {
    link_role_users(c, users, &roles.users);
    let (policy_users, held_through) = classify_policy_rows(c, policies.rows)?;
    link_policy_users(c, users, policy_users);
    cross_check(
        c,
        &mut groups.found,
        &roles.groups,
        &groups.gone,
        &roles.gone,
        "role",
        |g| &mut g.roles,
    );
    cross_check(
        c,
        &mut groups.found,
        &policies.groups,
        &groups.gone,
        &policies.gone,
        "policy",
        |g| &mut g.policies,
    );
    check_held_through(c, &held_through, users, &groups.found, &roles.found);
    check_members(c, users, &mut groups.found, &roles.gone, &policies.gone);
    for role in roles.found.values_mut() {
        role.policies.retain(|p| !policies.gone.contains(p));
    }
    for user in users.values_mut() {
        user.roles.retain(|r| !roles.gone.contains(r));
    }
    Ok(())
}

/// The roles `/roles/{id}/users` assigns, onto their users.
fn link_role_users(
    c: &mut Crawler,
    users: &mut BTreeMap<String, User>,
    role_users: &[(String, String)],
) {
    for (user, role) in role_users {
        match users.get_mut(user) {
            Some(u) => u.roles.push(role.clone()),
            None => c.event_on(
                EventKind::UnknownReference,
                &format!("/roles/{}/users", encode(role)),
                format!("role `{role}` is assigned to user `{user}`, whom `/users` does not list"),
                &[user],
                false,
            ),
        }
    }
}

/// The policies attached directly, onto their users.
fn link_policy_users(
    c: &mut Crawler,
    users: &mut BTreeMap<String, User>,
    policy_users: Vec<(String, String)>,
) {
    for (user, policy) in policy_users {
        match users.get_mut(&user) {
            Some(u) => u.policies.push(policy),
            None => c.event_on(
                EventKind::UnknownReference,
                &format!("/policies/{}/users", encode(&policy)),
                format!(
                    "policy `{policy}` is attached to user `{user}`, whom `/users` does not list"
                ),
                &[&user],
                false,
            ),
        }
    }
}

/// Clears the groups of roles and policies deleted during the crawl, and reports members no
/// listing of users has.
fn check_members(
    c: &mut Crawler,
    users: &BTreeMap<String, User>,
    groups: &mut BTreeMap<String, Group>,
    gone_roles: &BTreeSet<String>,
    gone_policies: &BTreeSet<String>,
) {
    for group in groups.values_mut() {
        group.roles.retain(|r| !gone_roles.contains(r));
        group.policies.retain(|p| !gone_policies.contains(p));
        for member in &group.members {
            if !users.contains_key(member) {
                c.event_on(
                    EventKind::UnknownReference,
                    &format!("/groups/{}", encode(&group.id)),
                    format!(
                        "group `{}` lists member `{member}`, whom `/users` does not list",
                        group.id
                    ),
                    &[member],
                    false,
                );
            }
        }
    }
}

/// Step 9: the owner `root_user` names, by id or else by email.
fn find_root_user(
    users: &BTreeMap<String, User>,
    query: Option<&str>,
) -> Result<Option<String>, Error> {
    let Some(query) = query else {
        return Ok(None);
    };
    users
        .values()
        .find(|u| u.id == query)
        .or_else(|| users.values().find(|u| u.email.eq_ignore_ascii_case(query)))
        .map(|u| Some(u.id.clone()))
        .ok_or_else(|| Error::NoRootUser {
            query: query.to_string(),
        })
}

/// How a row of `/policies/{id}/users` says the user holds the policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Through {
    Group,
    Role,
}

/// The `assignment_type` values iamsim reads. Vultr documents none of them (reference §9
/// Q5); `vultr probe` shows which a real account sends. Any other value, or none, is never
/// read as direct on its own.
const DIRECT: &str = "direct";
const THROUGH_GROUP: &str = "group";
const THROUGH_ROLE: &str = "role";

/// Splits the rows of `/policies/{id}/users` into direct attachments (the only ones the
/// snapshot records) and holdings through a group or a role (checked against the crawl by
/// [`check_held_through`]). A row whose `assignment_type` is unknown or missing is asked
/// about in the user's own view, `GET /users/{id}/policies`: only its `direct` bucket makes
/// it direct. Either way it is an event naming the value.
#[allow(clippy::type_complexity)]
fn classify_policy_rows(
    c: &mut Crawler,
    rows: Vec<(String, String, Option<String>)>,
) -> Result<(Vec<(String, String)>, Vec<(String, String, Through)>), Error> {
    let mut direct = Vec::new();
    let mut through = Vec::new();
    let mut user_direct: HashMap<String, Option<BTreeSet<String>>> = HashMap::new();
    for (user, policy, kind) in rows {
        match kind.as_deref() {
            Some(DIRECT) => direct.push((user, policy)),
            Some(THROUGH_GROUP) => through.push((user, policy, Through::Group)),
            Some(THROUGH_ROLE) => through.push((user, policy, Through::Role)),
            other => {
                let shown = match other {
                    Some(value) => {
                        format!("`assignment_type` `{value}`, which iamsim does not know")
                    }
                    None => "no `assignment_type`".to_string(),
                };
                if !user_direct.contains_key(&user) {
                    let view = format!("/users/{}/policies", encode(&user));
                    let listed =
                        match c.buckets(&view, "policies", &["direct"], api::Policy::FIELDS) {
                            Ok(mut buckets) => {
                                Some(Crawler::ids(&buckets.remove(0), "id").into_iter().collect())
                            }
                            Err(e) if is_not_found(&e) => None,
                            Err(e) => return Err(e),
                        };
                    user_direct.insert(user.clone(), listed);
                }
                let confirmed = user_direct
                    .get(&user)
                    .and_then(Option::as_ref)
                    .is_some_and(|set| set.contains(&policy));
                let outcome = if confirmed {
                    format!("`/users/{user}/policies` lists it among `direct`: kept as a direct attachment")
                } else {
                    format!("`/users/{user}/policies` does not list it among `direct`: not read as a direct attachment")
                };
                c.event_on(
                    EventKind::UnknownAssignmentType,
                    &format!("/policies/{}/users", encode(&policy)),
                    format!("user `{user}` is listed with {shown}; {outcome}"),
                    &[&user],
                    false,
                );
                if confirmed {
                    direct.push((user, policy));
                }
            }
        }
    }
    Ok((direct, through))
}

/// Checks each "through a group" or "through a role" row of `/policies/{id}/users` against
/// the memberships and attachments the crawl found: a row the crawl cannot explain is an
/// `assignment_mismatch` event (never a direct attachment).
fn check_held_through(
    c: &mut Crawler,
    rows: &[(String, String, Through)],
    users: &BTreeMap<String, User>,
    groups: &BTreeMap<String, Group>,
    roles: &BTreeMap<String, Role>,
) {
    for (user, policy, through) in rows {
        let member_of: Vec<&Group> = groups
            .values()
            .filter(|g| g.members.iter().any(|m| m == user))
            .collect();
        let role_has = |r: &String| roles.get(r).is_some_and(|r| r.policies.contains(policy));
        let explained = match through {
            Through::Group => member_of.iter().any(|g| g.policies.contains(policy)),
            Through::Role => {
                users
                    .get(user)
                    .is_some_and(|u| u.roles.iter().any(role_has))
                    || member_of.iter().any(|g| g.roles.iter().any(role_has))
            }
        };
        if explained {
            continue;
        }
        let (kind, what) = match through {
            Through::Group => (
                THROUGH_GROUP,
                "no group the crawl found has both the user as a member and the policy",
            ),
            Through::Role => (
                THROUGH_ROLE,
                "no role the crawl found for the user (directly or through a group) has the policy",
            ),
        };
        c.event_on(
            EventKind::AssignmentMismatch,
            &format!("/policies/{}/users", encode(policy)),
            format!(
                "user `{user}` is listed with `assignment_type` `{kind}`, but {what}; not read as a direct attachment"
            ),
            &[user],
            false,
        );
    }
}

/// Adds the edges only the second view shows, with an event for each disagreement.
fn cross_check(
    c: &mut Crawler,
    groups: &mut BTreeMap<String, Group>,
    pairs: &BTreeSet<(String, String)>,
    gone_groups: &BTreeSet<String>,
    gone_targets: &BTreeSet<String>,
    kind: &str,
    edges: impl Fn(&mut Group) -> &mut Vec<String>,
) {
    let plural = if kind == "policy" {
        "policies"
    } else {
        "roles"
    };
    for (target, group_id) in pairs {
        if gone_groups.contains(group_id) {
            continue;
        }
        match groups.get_mut(group_id) {
            None => c.event(
                EventKind::UnknownReference,
                &format!("/{plural}/{}/groups", encode(target)),
                format!("{kind} `{target}` is attached to group `{group_id}`, which `/groups` does not list"),
            ),
            Some(group) => {
                let list = edges(group);
                if !list.contains(target) {
                    list.push(target.clone());
                    c.event_on(
                        EventKind::ViewMismatch,
                        &format!("/groups/{}/{plural}", encode(group_id)),
                        format!(
                            "`/{plural}/{target}/groups` lists group `{group_id}` but the group's `direct` {plural} do not include `{target}`; the attachment is kept"
                        ),
                        &[target],
                        kind == "policy",
                    );
                }
            }
        }
    }
    let listed: Vec<(String, Vec<String>)> = groups
        .values_mut()
        .map(|g| (g.id.clone(), edges(g).clone()))
        .collect();
    for (group_id, targets) in listed {
        for target in targets {
            if gone_targets.contains(&target) || pairs.contains(&(target.clone(), group_id.clone()))
            {
                continue;
            }
            c.event_on(
                EventKind::ViewMismatch,
                &format!("/{plural}/{}/groups", encode(&target)),
                format!(
                    "group `{group_id}` has {kind} `{target}` among its `direct` {plural}, but `/{plural}/{target}/groups` does not list the group; the attachment is kept"
                ),
                &[&group_id],
                kind == "policy",
            );
        }
    }
}

/// Finds the role of each trust that does not name its role id, through
/// `/role-trusts/by-role/{role}` for the roles whose name the trusts give.
fn resolve_trust_roles(
    c: &mut Crawler,
    trusts: &[api::RoleTrust],
    roles: &BTreeMap<String, Role>,
) -> Result<HashMap<String, String>, Error> {
    let mut out = HashMap::new();
    let names: BTreeSet<&str> = trusts
        .iter()
        .filter(|t| t.role_id.is_none())
        .map(|t| t.role_name.as_str())
        .collect();
    if names.is_empty() {
        return Ok(out);
    }
    // By name when one matches; every role otherwise (a trust without role name).
    let candidates: Vec<&Role> = roles
        .values()
        .filter(|r| names.contains(r.name.as_str()) || names.contains(""))
        .collect();
    for role in candidates {
        let path = format!("/role-trusts/by-role/{}", encode(&role.id));
        let listed = match c.list(&path, "role_trusts", "id", api::RoleTrust::FIELDS) {
            Ok(listed) => listed,
            Err(e) if is_not_found(&e) => continue,
            Err(e) => return Err(e),
        };
        for id in Crawler::ids(&listed, "id") {
            out.insert(id, role.id.clone());
        }
    }
    Ok(out)
}

/// A policy document as the API gives it: an object, or (defensively) a JSON string holding
/// one. Statements with keys iamsim does not evaluate are set aside by [`set_aside`].
fn parse_document(c: &mut Crawler, policy: &str, document: Value) -> Result<PolicyDocument, Shape> {
    let mut document = match document {
        Value::String(text) => serde_json::from_str::<Value>(&text).map_err(|source| {
            Shape::new("policy_document", ShapeProblem::DocumentNotJson { source })
        })?,
        other => other,
    };
    for found in set_aside(policy, &mut document) {
        let keys: Vec<String> = found.keys.iter().map(|k| format!("`{k}`")).collect();
        c.event_on(
            EventKind::UnevaluatedStatement,
            "/policies",
            format!(
                "policy `{policy}` statement {} has {}, which iamsim does not evaluate: {}; the statement is kept as sent in `crawl.unevaluated_statements`",
                found.statement,
                keys.join(", "),
                found.treatment.describe()
            ),
            &[policy],
            false,
        );
        c.unevaluated.push(found);
    }
    typed(&document, "policy_document")
}

/// The statement keys the engine evaluates. Vultr documents no other (reference §1.5: no
/// `Condition`, `NotAction`, `NotResource` or `Principal`, and govultr's statement has only
/// these), but a Vultr-managed policy could carry one, and govultr would ignore it.
const STATEMENT_KEYS: &[&str] = &["Sid", "Effect", "Action", "Resource"];

/// A statement with keys iamsim does not evaluate (such as `Condition`), as Vultr sent it, and
/// what the snapshot's document holds in its place.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnevaluatedStatement {
    /// The policy id.
    pub policy: String,
    /// The statement's index in the document as sent.
    pub statement: usize,
    /// The keys iamsim does not evaluate, sorted.
    pub keys: Vec<String>,
    /// What the snapshot's document holds instead.
    pub treatment: Treatment,
    /// The statement as sent.
    pub original: Value,
}

/// How a statement with unevaluated keys is read: conservatively, since its condition may or
/// may not hold. An Allow may not apply, so it grants nothing; a Deny may apply, so it denies
/// as if unconditional.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Treatment {
    /// An Allow: left out of the document.
    LeftOut,
    /// A Deny (or an effect the engine will judge): kept without the unevaluated keys.
    KeptWithoutKeys,
}

impl Treatment {
    fn describe(self) -> &'static str {
        match self {
            Treatment::LeftOut => {
                "an Allow that may not apply, left out of the snapshot's document (it grants nothing there)"
            }
            Treatment::KeptWithoutKeys => {
                "a Deny that may apply, kept in the snapshot's document as if unconditional"
            }
        }
    }
}

/// Takes the statements with unevaluated keys out of `document` (or strips those keys), and
/// returns them as sent.
fn set_aside(policy: &str, document: &mut Value) -> Vec<UnevaluatedStatement> {
    let Some(statements) = document.get_mut("Statement") else {
        return Vec::new();
    };
    let was_one = statements.is_object();
    let mut list = match statements.take() {
        Value::Array(list) => list,
        one @ Value::Object(_) => vec![one],
        other => {
            // Not a statement list: leave it for the typed parse to report.
            *statements = other;
            return Vec::new();
        }
    };
    let mut found = Vec::new();
    let mut kept = Vec::with_capacity(list.len());
    for (index, statement) in list.drain(..).enumerate() {
        let Value::Object(map) = &statement else {
            kept.push(statement);
            continue;
        };
        let mut keys: Vec<String> = map
            .keys()
            .filter(|k| !STATEMENT_KEYS.contains(&k.as_str()))
            .cloned()
            .collect();
        if keys.is_empty() {
            kept.push(statement);
            continue;
        }
        keys.sort();
        let original = statement.clone();
        let mut statement = statement;
        let Value::Object(map) = &mut statement else {
            continue;
        };
        let allow = map.get("Effect").and_then(Value::as_str) == Some("Allow");
        let treatment = if allow {
            Treatment::LeftOut
        } else {
            for key in &keys {
                map.remove(key);
            }
            kept.push(statement);
            Treatment::KeptWithoutKeys
        };
        found.push(UnevaluatedStatement {
            policy: policy.to_string(),
            statement: index,
            keys,
            treatment,
            original,
        });
    }
    *statements = if was_one && kept.len() == 1 {
        kept.remove(0)
    } else {
        Value::Array(kept)
    };
    found
}

/// Shows that the endpoints that name no organization answer for `org`, when the key sees
/// several. Vultr's API carries no organization on them (govultr sends none; reference §9
/// Q1): they answer for the key's organization. The one listing that names its organization
/// is `GET /invitation` (`org_id` on each invitation, reference §4.1): an `org_id` other than
/// `org` means the key answers for another organization, an error (nothing would be right);
/// `org` confirms the binding (`Ok(true)`); no invitation leaves it unconfirmed (`Ok(false)`),
/// which is an `organization_unconfirmed` event that names no subject (so remove-member
/// refuses) and an error under strict.
fn bind_organization(c: &mut Crawler, org: &api::Organization) -> Result<bool, Error> {
    let listed = match c.list("/invitation", "invites", "id", api::INVITATION_FIELDS) {
        Ok(listed) => listed,
        Err(e)
            if matches!(
                e.http_cause(),
                Some(crate::HttpError::NotFound { .. } | crate::HttpError::Forbidden { .. })
            ) =>
        {
            Vec::new()
        }
        Err(e) => return Err(e),
    };
    let mut others: BTreeSet<&str> = BTreeSet::new();
    let mut confirmed = false;
    for invite in &listed {
        match invite.get("org_id").and_then(Value::as_str) {
            Some(id) if id == org.id => confirmed = true,
            Some(id) if !id.is_empty() => {
                others.insert(id);
            }
            _ => {}
        }
    }
    if !others.is_empty() {
        let key = c.client.key();
        return Err(Error::OtherOrganization {
            chosen: key.redact(&org.id),
            answering: others.iter().map(|o| key.redact(o)).collect(),
        });
    }
    if !confirmed {
        c.event(
            EventKind::OrganizationUnconfirmed,
            "/organizations",
            format!(
                "the key sees several organizations and Vultr's API names none on its requests; nothing showed that the answers are for `{}` (no invitation carries an `org_id`): the snapshot may describe the key's own organization instead",
                org.id
            ),
        );
    }
    Ok(confirmed)
}

/// The role's type as Vultr documents it. Any other value, or none, is an `unknown_role_type`
/// event naming it, never an abort and never silently one of the two: the role is read as what
/// its attachments show. Assignments exist only for assignable roles, so a role Vultr lists
/// `users` or `groups` of gives them standing access; a role with none is read as assumable,
/// reached only through its trusts (as assignable it would give nobody anything, so the choice
/// changes no answer but keeps its trusts meaningful).
fn read_role_type(c: &mut Crawler, role: &api::Role, users: usize, groups: usize) -> RoleType {
    match role.role_type.as_deref() {
        Some("assignable") => return RoleType::Assignable,
        Some("assumable") => return RoleType::Assumable,
        _ => {}
    }
    let named = match &role.role_type {
        Some(value) => format!("`role_type` `{value}`"),
        None => "no `role_type`".to_string(),
    };
    let (read, why) = if users + groups > 0 {
        (
            RoleType::Assignable,
            format!("Vultr lists {users} user(s) and {groups} group(s) assigned to it"),
        )
    } else {
        (
            RoleType::Assumable,
            "Vultr lists no user or group assigned to it".to_string(),
        )
    };
    let read_as = match read {
        RoleType::Assignable => "assignable",
        RoleType::Assumable => "assumable",
    };
    c.event_on(
        EventKind::UnknownRoleType,
        "/roles",
        format!(
            "role `{}` has {named}, which iamsim does not know (Vultr documents `assignable` and `assumable`); read as {read_as}, since {why}",
            role.id
        ),
        &[&role.id],
        false,
    );
    read
}

fn choose_organization(
    orgs: Vec<api::Organization>,
    wanted: Option<&str>,
    key: &crate::ApiKey,
) -> Result<api::Organization, Error> {
    // Names come from the server: redacted before they go into an error.
    let listing = |orgs: &[api::Organization]| -> Vec<crate::ListedOrganization> {
        orgs.iter()
            .map(|o| crate::ListedOrganization {
                id: key.redact(&o.id),
                name: key.redact(&o.name),
            })
            .collect()
    };
    match wanted {
        Some(wanted) => {
            let organizations = listing(&orgs);
            let mut found: Vec<api::Organization> = orgs
                .into_iter()
                .filter(|o| o.id == wanted || o.name == wanted)
                .collect();
            match found.len() {
                1 => Ok(found.remove(0)),
                0 => Err(Error::NoSuchOrganization {
                    wanted: key.redact(wanted),
                    organizations,
                }),
                _ => Err(Error::AmbiguousOrganization {
                    wanted: key.redact(wanted),
                    matching: listing(&found),
                }),
            }
        }
        None => match orgs.len() {
            0 => Err(Error::NoOrganization),
            1 => Ok(orgs.into_iter().next().expect("one organization")),
            _ => Err(Error::SeveralOrganizations {
                organizations: listing(&orgs),
            }),
        },
    }
}

/// Sorts entities by id and each list of ids, removing repeats: the same organization gives
/// the same bytes, whatever the page size or the API's order.
pub fn normalize(snapshot: &mut Snapshot) {
    fn tidy(ids: &mut Vec<String>) {
        ids.sort();
        ids.dedup();
    }
    snapshot.users.sort_by(|a, b| a.id.cmp(&b.id));
    for user in &mut snapshot.users {
        tidy(&mut user.policies);
        tidy(&mut user.roles);
    }
    snapshot.groups.sort_by(|a, b| a.id.cmp(&b.id));
    for group in &mut snapshot.groups {
        tidy(&mut group.members);
        tidy(&mut group.policies);
        tidy(&mut group.roles);
    }
    snapshot.roles.sort_by(|a, b| a.id.cmp(&b.id));
    for role in &mut snapshot.roles {
        tidy(&mut role.policies);
    }
    snapshot.policies.sort_by(|a, b| a.id.cmp(&b.id));
    snapshot.role_trusts.sort_by(|a, b| a.id.cmp(&b.id));
    snapshot.sessions.sort_by(|a, b| {
        let key = |s: &Session| {
            (
                s.user_id.clone(),
                s.role_id.clone(),
                s.assumed_at.clone(),
                s.session_name.clone(),
                s.expires_at.clone(),
            )
        };
        key(a).cmp(&key(b))
    });
}
