//! `vultr probe`: read-only checks against a real account that settle what Vultr does not
//! document and the crawl assumes (docs/vultr.md, "Assumptions where Vultr is silent").
//!
//! Every request is a `GET`. The report holds counts and the values of enumerations
//! (`assignment_type`, `role_type`) only, never an id, a name or an email, so that it can be
//! pasted into a bug report: a value that does not look like an enumeration is shown as a hash.
//! A failed request makes its check undetermined, naming the endpoint as a template
//! (`GET /groups/{id}/members`) and the status; only a refused key (401) stops the probe.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt::Write as _;

use serde::Serialize;
use serde_json::Value;

use crate::client::{encode, Client};
use crate::{Error, HttpError};

/// The report's format name.
pub(crate) const PROBE_FORMAT: &str = "iamsim.vultr-probe.v1";

/// What the probe reads.
#[derive(Debug, Clone)]
pub struct ProbeOptions {
    /// Items per page of the listings it follows (1 to 500).
    pub per_page: u32,
    /// At most this many groups, roles and policies are read in detail (the first by id).
    pub sample: usize,
    /// The tool and version, written into the report.
    pub tool: String,
}

impl Default for ProbeOptions {
    fn default() -> ProbeOptions {
        ProbeOptions {
            per_page: 100,
            sample: 20,
            tool: concat!("iamsim-vultr ", env!("CARGO_PKG_VERSION")).to_string(),
        }
    }
}

/// What the probe found.
#[derive(Debug, Clone, Serialize)]
pub struct ProbeReport {
    /// `iamsim.vultr-probe.v1`.
    pub format: &'static str,
    /// The tool and version.
    pub tool: String,
    /// Whether the base URL is Vultr's (`https://api.vultr.com/v2`); the URL itself is not
    /// shown.
    pub default_base_url: bool,
    /// Requests made.
    pub requests: u64,
    /// The sample size asked for.
    pub sample: usize,
    /// One per question, in a fixed order.
    pub checks: Vec<Check>,
}

/// One question and its answer.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// A stable name, such as `meta-total` (docs/vultr.md cites it).
    pub id: &'static str,
    /// The question.
    pub question: &'static str,
    /// The answer, in a few words.
    pub answer: String,
    /// What the answer rests on: counts and enumeration values only.
    pub evidence: Vec<String>,
    /// What the crawl assumes.
    pub assumption: &'static str,
    /// Whether the answer agrees with the assumption.
    pub verdict: Verdict,
}

/// Whether an answer agrees with what the crawl assumes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The assumption holds on this account.
    Holds,
    /// It does not: the report says how, and the crawl may read this account wrongly.
    Differs,
    /// The account does not show (nothing to look at, or a request failed).
    Undetermined,
}

impl Verdict {
    fn as_str(self) -> &'static str {
        match self {
            Verdict::Holds => "holds",
            Verdict::Differs => "DIFFERS",
            Verdict::Undetermined => "undetermined",
        }
    }
}

/// Runs every check. Fails only when the key is refused (or a setting is invalid); any other
/// failed request makes its check undetermined.
pub fn probe(client: &mut Client, options: &ProbeOptions) -> Result<ProbeReport, Error> {
    if !(1..=crate::crawl::MAX_PER_PAGE).contains(&options.per_page) {
        return Err(Error::PerPage {
            per_page: options.per_page,
            max: crate::crawl::MAX_PER_PAGE,
        });
    }
    let before = client.stats().requests;
    let mut p = Prober {
        client,
        per_page: options.per_page,
    };
    let sample = options.sample.max(1);
    let organizations = p.organizations()?;
    let users = p.all("/users", "/users", "users")?;
    let meta_total = p.meta_total(&users)?;
    let user_ids: HashSet<String> = match &users {
        Ok(listing) => listing.items.iter().filter_map(|u| id(u, "id")).collect(),
        Err(_) => HashSet::new(),
    };
    let groups = p.groups(sample)?;
    let roles = p.roles(sample)?;
    let holders = p.policy_users(&groups, &roles, sample)?;
    let mut checks = vec![
        holders,
        meta_total,
        member_ids(&groups, &users, &user_ids),
        p.empty_group(&groups)?,
        p.members_paged(&groups)?,
        role_types(&roles),
        organizations,
    ];
    // Belt and braces: nothing the server sent is in the report but enumeration values and
    // hashes; none may hold the key either.
    let key = p.client.key().clone();
    for check in &mut checks {
        check.answer = key.redact(&check.answer);
        for line in &mut check.evidence {
            *line = key.redact(line);
        }
    }
    Ok(ProbeReport {
        format: PROBE_FORMAT,
        tool: options.tool.clone(),
        default_base_url: p.client.options().base_url.trim_end_matches('/')
            == crate::DEFAULT_BASE_URL,
        requests: p.client.stats().requests - before,
        sample,
        checks,
    })
}

impl ProbeReport {
    /// The report as text to paste into a bug report.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{} probe ({}): {} requests, base URL {}, sample of {}",
            self.tool,
            self.format,
            self.requests,
            if self.default_base_url {
                "Vultr's"
            } else {
                "not Vultr's"
            },
            self.sample
        );
        for check in &self.checks {
            let _ = writeln!(out);
            let _ = writeln!(out, "[{}] {}", check.id, check.question);
            let _ = writeln!(out, "  answer:     {}", check.answer);
            for line in &check.evidence {
                let _ = writeln!(out, "  evidence:   {line}");
            }
            let _ = writeln!(out, "  assumption: {}", check.assumption);
            let _ = writeln!(out, "  verdict:    {}", check.verdict.as_str());
        }
        out
    }
}

/// A listing read in full.
struct Listing {
    items: Vec<Value>,
    /// `meta.total` of the first page.
    first_total: Option<u64>,
    /// Pages read.
    pages: usize,
}

/// Why a read gave nothing: the endpoint as a template, and what went wrong, with no id.
type Failed = String;

/// A read that may fail without stopping the probe: `Ok(Err(why))`.
type Soft<T> = Result<Result<T, Failed>, Error>;

/// A sampled group.
struct GroupSample {
    /// Members' `id`s, and the raw first page (to see the shape of `members`).
    members: Result<(Vec<Value>, Value), Failed>,
    /// Direct policies.
    policies: Vec<String>,
    id: String,
}

/// A sampled role.
struct RoleSample {
    policies: Vec<String>,
    users: Vec<String>,
    groups: Vec<String>,
}

/// Every role's `role_type`, and the sampled roles.
struct Roles {
    types: Result<Vec<Value>, Failed>,
    sampled: Vec<RoleSample>,
}

/// (user, policy) → the `assignment_type` of each row naming them.
type Rows = BTreeMap<(String, String), Vec<Value>>;

/// The (user, policy) pairs the sample shows to be held through a group, and through a role.
struct Holdings {
    /// The policies read (the first `sample` the groups and roles carry).
    policies: Vec<String>,
    by_group: BTreeSet<(String, String)>,
    by_role: BTreeSet<(String, String)>,
}

impl Holdings {
    fn of(groups: &[GroupSample], roles: &[RoleSample], sample: usize) -> Holdings {
        // The user a member row names: its `user_id` when it has one (`member-id-is-user-id`
        // asks whether `id` is), else its `id`.
        let members_of = |g: &GroupSample| -> Vec<String> {
            match &g.members {
                Ok((rows, _)) => rows
                    .iter()
                    .filter_map(|m| id(m, "user_id").or_else(|| id(m, "id")))
                    .collect(),
                Err(_) => Vec::new(),
            }
        };
        let carried = groups
            .iter()
            .map(|g| &g.policies)
            .chain(roles.iter().map(|r| &r.policies));
        let all: BTreeSet<&String> = carried.flatten().collect();
        let policies: Vec<String> = all.into_iter().take(sample).cloned().collect();
        let mut by_group = BTreeSet::new();
        for g in groups {
            for p in g.policies.iter().filter(|p| policies.contains(p)) {
                by_group.extend(members_of(g).into_iter().map(|u| (u, p.clone())));
            }
        }
        let mut by_role = BTreeSet::new();
        for r in roles {
            let mut holders: BTreeSet<String> = r.users.iter().cloned().collect();
            for g in groups.iter().filter(|g| r.groups.contains(&g.id)) {
                holders.extend(members_of(g));
            }
            for p in r.policies.iter().filter(|p| policies.contains(p)) {
                by_role.extend(holders.iter().map(|u| (u.clone(), p.clone())));
            }
        }
        Holdings {
            policies,
            by_group,
            by_role,
        }
    }

    /// How many of `pairs` the rows list, and the `assignment_type` values of their rows.
    fn tally(rows: &Rows, pairs: &BTreeSet<(String, String)>) -> (usize, BTreeMap<String, usize>) {
        let mut listed = 0;
        let mut values = BTreeMap::new();
        for types in pairs.iter().filter_map(|pair| rows.get(pair)) {
            listed += 1;
            for t in types {
                *values.entry(label(t)).or_insert(0) += 1;
            }
        }
        (listed, values)
    }

    fn check(&self, rows: &Rows, failures: &[Failed]) -> Check {
        let (group_listed, group_values) = Holdings::tally(rows, &self.by_group);
        let (role_listed, role_values) = Holdings::tally(rows, &self.by_role);
        let others: BTreeSet<(String, String)> = rows
            .keys()
            .filter(|k| !self.by_group.contains(*k) && !self.by_role.contains(*k))
            .cloned()
            .collect();
        let (_, other_values) = Holdings::tally(rows, &others);
        let mut evidence = vec![
            format!(
                "held through a group: {group_listed} of {} (user, policy) pair(s) listed{}",
                self.by_group.len(),
                values_text(&group_values)
            ),
            format!(
                "held through a role: {role_listed} of {} pair(s) listed{}",
                self.by_role.len(),
                values_text(&role_values)
            ),
            format!(
                "other rows (direct, or through what the sample does not show): {}{}",
                others.len(),
                values_text(&other_values)
            ),
        ];
        evidence.extend(failures.iter().take(3).cloned());
        let expected = self.by_group.union(&self.by_role).count();
        let listed = group_listed + role_listed;
        let answer = if expected == 0 {
            "cannot tell: no policy of the sample is held through a group or a role".to_string()
        } else if listed == 0 {
            "no: only direct attachments are listed".to_string()
        } else if listed == expected {
            "yes: holders through groups and roles are listed too".to_string()
        } else {
            format!("partly: {listed} of {expected} holdings through a group or a role are listed")
        };
        let known = ["`direct`", "`group`", "`role`"];
        let unknown: BTreeSet<&str> = group_values
            .keys()
            .chain(role_values.keys())
            .chain(other_values.keys())
            .map(String::as_str)
            .filter(|v| !known.contains(v))
            .collect();
        let verdict = if !unknown.is_empty() {
            let list: Vec<&str> = unknown.into_iter().collect();
            evidence.push(format!(
                "`assignment_type` values iamsim does not know: {}",
                list.join(", ")
            ));
            Verdict::Differs
        } else if !failures.is_empty() || (expected == 0 && others.is_empty()) {
            Verdict::Undetermined
        } else {
            Verdict::Holds
        };
        Check {
            id: "policy-users-holders",
            question: "Does `GET /policies/{id}/users` list users who hold the policy through a group or a role, and with which `assignment_type`?",
            answer,
            evidence,
            assumption: "either way, with `assignment_type` `direct`, `group` or `role`: only `direct` rows are direct attachments; any other value is an `unknown_assignment_type` event",
            verdict,
        }
    }
}

struct Prober<'c> {
    client: &'c mut Client,
    per_page: u32,
}

impl Prober<'_> {
    /// One GET; a refused key stops the probe, any other failure is soft.
    fn get(&mut self, target: &str, template: &str) -> Soft<Value> {
        match self.client.get_json(target) {
            Ok(body) => Ok(Ok(body)),
            Err(e) => match e.http_cause() {
                Some(HttpError::Unauthorized { .. }) => Err(e),
                Some(cause) => Ok(Err(format!("GET {template} failed: {}", short(cause)))),
                None => Ok(Err(format!("GET {template} failed"))),
            },
        }
    }

    /// Every page of `path` (at most 2,000 pages).
    fn all(&mut self, path: &str, template: &str, key: &str) -> Soft<Listing> {
        let mut items = Vec::new();
        let mut first_total = None;
        let mut cursor: Option<String> = None;
        let mut seen = BTreeSet::new();
        for pages in 1..=2_000 {
            let mut target = format!("{path}?per_page={}", self.per_page);
            if let Some(c) = &cursor {
                target.push_str("&cursor=");
                target.push_str(&encode(c));
            }
            let body = match self.get(&target, template)? {
                Ok(body) => body,
                Err(why) => return Ok(Err(why)),
            };
            if pages == 1 {
                first_total = total(&body);
            }
            if let Some(list) = body.get(key).and_then(Value::as_array) {
                items.extend(list.iter().cloned());
            }
            match next(&body) {
                Some(n) if seen.insert(n.clone()) => cursor = Some(n),
                _ => {
                    return Ok(Ok(Listing {
                        items,
                        first_total,
                        pages,
                    }))
                }
            }
        }
        Ok(Err(format!("GET {template}: more than 2000 pages")))
    }

    fn organizations(&mut self) -> Result<Check, Error> {
        let listing = self.all("/organizations", "/organizations", "orgs")?;
        let (answer, evidence, verdict) = match listing {
            Err(why) => (
                "could not be read".to_string(),
                vec![why],
                Verdict::Undetermined,
            ),
            Ok(l) => {
                let n = l.items.len();
                (
                    format!("{n} organization(s)"),
                    vec![format!("`GET /organizations` lists {n}")],
                    if n == 1 {
                        Verdict::Holds
                    } else {
                        Verdict::Undetermined
                    },
                )
            }
        };
        Ok(Check {
            id: "organizations",
            question: "How many organizations does the key see?",
            answer,
            evidence,
            assumption: "one: the crawl is bound to it; with several, `--organization` and `GET /invitation` bind it (docs/vultr.md, \"Which organization\")",
            verdict,
        })
    }

    /// `meta.total` of `/users` at two page sizes: a count of items is the same at both; a
    /// count of pages is not.
    fn meta_total(&mut self, users: &Result<Listing, Failed>) -> Result<Check, Error> {
        let check = |answer: String, evidence: Vec<String>, verdict| Check {
            id: "meta-total",
            question: "Does `meta.total` count items or pages?",
            answer,
            evidence,
            assumption: "items: a total unlike the items read is a `total_mismatch` event",
            verdict,
        };
        let users = match users {
            Ok(users) => users,
            Err(why) => {
                return Ok(check(
                    "could not be read".into(),
                    vec![why.clone()],
                    Verdict::Undetermined,
                ))
            }
        };
        let n = users.items.len() as u64;
        let p = u64::from(self.per_page);
        let small = match self.get("/users?per_page=2", "/users?per_page=2")? {
            Ok(body) => total(&body),
            Err(why) => {
                return Ok(check(
                    "could not be read".into(),
                    vec![why],
                    Verdict::Undetermined,
                ))
            }
        };
        let shown = |t: Option<u64>| t.map_or("absent".to_string(), |t| t.to_string());
        let evidence = vec![format!(
            "`GET /users`: {n} user(s) in {} page(s) of {p}; `meta.total` {} at per_page={p}, {} at per_page=2",
            users.pages,
            shown(users.first_total),
            shown(small)
        )];
        let (answer, verdict) = match (users.first_total, small) {
            (None, _) | (_, None) => ("`meta.total` is absent".to_string(), Verdict::Undetermined),
            // With 3 users or more, pages of 2 are fewer than items: the two readings differ.
            (Some(a), Some(b)) if a == n && b == n && n >= 3 => {
                ("items".to_string(), Verdict::Holds)
            }
            (Some(a), Some(b)) if a == n && b == n => (
                "cannot tell with fewer than 3 users (items and pages count the same)".to_string(),
                Verdict::Undetermined,
            ),
            (Some(a), Some(b)) if a == n.div_ceil(p).max(1) && b == n.div_ceil(2).max(1) => {
                ("pages".to_string(), Verdict::Differs)
            }
            (Some(_), Some(_)) => ("neither items nor pages".to_string(), Verdict::Differs),
        };
        Ok(check(answer, evidence, verdict))
    }

    /// The first `sample` groups by id: members, direct policies.
    fn groups(&mut self, sample: usize) -> Soft<Vec<GroupSample>> {
        let listing = match self.all("/groups", "/groups", "groups")? {
            Ok(l) => l,
            Err(why) => return Ok(Err(why)),
        };
        let mut ids: Vec<String> = listing.items.iter().filter_map(|g| id(g, "id")).collect();
        ids.sort();
        ids.dedup();
        let mut out = Vec::new();
        for gid in ids.into_iter().take(sample) {
            let base = format!("/groups/{}", encode(&gid));
            let members = self.members(&base)?;
            let policies = match self.get(&format!("{base}/policies"), "/groups/{id}/policies")? {
                Ok(body) => bucket_ids(&body, "policies", "direct"),
                Err(_) => Vec::new(),
            };
            out.push(GroupSample {
                members,
                policies,
                id: gid,
            });
        }
        Ok(Ok(out))
    }

    /// Every member row of a group, and its first page as sent.
    fn members(&mut self, base: &str) -> Soft<(Vec<Value>, Value)> {
        let path = format!("{base}/members");
        let first = match self.get(
            &format!("{path}?per_page={}", self.per_page),
            "/groups/{id}/members",
        )? {
            Ok(body) => body,
            Err(why) => return Ok(Err(why)),
        };
        let mut rows: Vec<Value> = first
            .get("members")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if next(&first).is_some() {
            match self.all(&path, "/groups/{id}/members", "members")? {
                Ok(all) => rows = all.items,
                Err(why) => return Ok(Err(why)),
            }
        }
        Ok(Ok((rows, first)))
    }

    /// Every role's type; the first `sample` roles by id: policies, users, groups.
    fn roles(&mut self, sample: usize) -> Result<Roles, Error> {
        let listing = match self.all("/roles", "/roles", "roles")? {
            Ok(l) => l,
            Err(why) => {
                return Ok(Roles {
                    types: Err(why),
                    sampled: Vec::new(),
                })
            }
        };
        let types = listing
            .items
            .iter()
            .map(|r| r.get("role_type").cloned().unwrap_or(Value::Null))
            .collect();
        let mut ids: Vec<String> = listing.items.iter().filter_map(|r| id(r, "id")).collect();
        ids.sort();
        ids.dedup();
        let mut sampled = Vec::new();
        for rid in ids.into_iter().take(sample) {
            let base = format!("/roles/{}", encode(&rid));
            let read = |p: &mut Self, what: &str, key: &str, field: &str| -> Soft<Vec<String>> {
                let template = format!("/roles/{{id}}/{what}");
                Ok(p.all(&format!("{base}/{what}"), &template, key)?
                    .map(|l| l.items.iter().filter_map(|v| id(v, field)).collect()))
            };
            let policies = read(self, "policies", "policies", "id")?.unwrap_or_default();
            let users = read(self, "users", "assignments", "user_id")?.unwrap_or_default();
            let groups = read(self, "groups", "assignments", "group_id")?.unwrap_or_default();
            sampled.push(RoleSample {
                policies,
                users,
                groups,
            });
        }
        Ok(Roles {
            types: Ok(types),
            sampled,
        })
    }

    /// Whether `/policies/{id}/users` lists the users who hold a policy through a group or a
    /// role, and with which `assignment_type`: for the policies the sampled groups and roles
    /// carry, every (user, policy) pair they give is looked for among the rows.
    fn policy_users(
        &mut self,
        groups: &Result<Vec<GroupSample>, Failed>,
        roles: &Roles,
        sample: usize,
    ) -> Result<Check, Error> {
        let empty = Vec::new();
        let groups = groups.as_ref().unwrap_or(&empty);
        let holdings = Holdings::of(groups, &roles.sampled, sample);
        // Rows of each policy: (user, policy) → assignment_type values.
        let mut rows: Rows = BTreeMap::new();
        let mut failures: Vec<Failed> = group_failure(groups).into_iter().collect();
        for p in &holdings.policies {
            let path = format!("/policies/{}/users", encode(p));
            match self.all(&path, "/policies/{id}/users", "users")? {
                Ok(listing) => {
                    for row in &listing.items {
                        if let Some(u) = id(row, "id") {
                            rows.entry((u, p.clone()))
                                .or_default()
                                .push(row.get("assignment_type").cloned().unwrap_or(Value::Null));
                        }
                    }
                }
                Err(why) => failures.push(why),
            }
        }
        let mut check = holdings.check(&rows, &failures);
        check.evidence.insert(
            0,
            format!(
                "{} policy(ies) read, carried by {} group(s) and {} role(s) of the sample",
                holdings.policies.len(),
                groups.len(),
                roles.sampled.len()
            ),
        );
        Ok(check)
    }

    /// What an empty group's `members` is, on both endpoints that show it.
    fn empty_group(&mut self, groups: &Result<Vec<GroupSample>, Failed>) -> Result<Check, Error> {
        let check = |answer: String, evidence: Vec<String>, verdict| Check {
            id: "empty-group-members",
            question: "What is an empty group's `members`?",
            answer,
            evidence,
            assumption: "`[]`, `null` or absent, each read as no members",
            verdict,
        };
        let groups = match groups {
            Ok(g) => g,
            Err(why) => {
                return Ok(check(
                    "could not be read".into(),
                    vec![why.clone()],
                    Verdict::Undetermined,
                ))
            }
        };
        let empty = groups.iter().find_map(|g| match &g.members {
            Ok((rows, first)) if rows.is_empty() => Some((g.id.clone(), first.clone())),
            _ => None,
        });
        let Some((gid, first)) = empty else {
            if let Some(why) = group_failure(groups) {
                return Ok(check(
                    "could not be read".into(),
                    vec![why],
                    Verdict::Undetermined,
                ));
            }
            return Ok(check(
                "cannot tell: no group of the sample is empty (an empty group made for the purpose settles it)".into(),
                vec![format!("{} group(s) read, none empty", groups.len())],
                Verdict::Undetermined,
            ));
        };
        let listing = shape(first.get("members"));
        let detail = match self.get(&format!("/groups/{}", encode(&gid)), "/groups/{id}")? {
            Ok(body) => {
                let group = body.get("group").unwrap_or(&body);
                shape(group.get("members"))
            }
            Err(why) => why,
        };
        let readable = |s: &str| matches!(s, "`[]`" | "`null`" | "absent");
        let verdict = if readable(&listing) {
            Verdict::Holds
        } else {
            Verdict::Differs
        };
        Ok(check(
            format!("{listing} on `GET /groups/{{id}}/members`, {detail} on `GET /groups/{{id}}`"),
            vec!["one empty group read on both endpoints".to_string()],
            verdict,
        ))
    }

    /// Whether `GET /groups/{id}/members` honours `per_page` and names a next cursor.
    fn members_paged(&mut self, groups: &Result<Vec<GroupSample>, Failed>) -> Result<Check, Error> {
        let check = |answer: String, evidence: Vec<String>, verdict| {
            Check {
            id: "members-paged",
            question: "Is `GET /groups/{id}/members` paged like other lists (`per_page`, `cursor`, `meta.links.next`)?",
            answer,
            evidence,
            assumption: "yes: the crawl follows every page",
            verdict,
        }
        };
        let candidate = groups.as_ref().ok().and_then(|groups| {
            groups
                .iter()
                .find(|g| matches!(&g.members, Ok((rows, _)) if rows.len() >= 2))
        });
        let Some(group) = candidate else {
            let evidence = groups
                .as_ref()
                .map_or_else(|why| Some(why.clone()), |g| group_failure(g))
                .into_iter()
                .collect();
            return Ok(check(
                "cannot tell: no group of the sample has two members".into(),
                evidence,
                Verdict::Undetermined,
            ));
        };
        let count = match &group.members {
            Ok((rows, _)) => rows.len(),
            Err(_) => 0,
        };
        let target = format!("/groups/{}/members?per_page=1", encode(&group.id));
        let body = match self.get(&target, "/groups/{id}/members?per_page=1")? {
            Ok(body) => body,
            Err(why) => {
                return Ok(check(
                    "could not be read".into(),
                    vec![why],
                    Verdict::Undetermined,
                ))
            }
        };
        let on_page = body
            .get("members")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        let has_next = next(&body).is_some();
        let evidence = vec![format!(
            "a group of {count} member(s) at per_page=1: {on_page} on the first page, {} next cursor",
            if has_next { "a" } else { "no" }
        )];
        Ok(if on_page == 1 && has_next {
            check("yes".into(), evidence, Verdict::Holds)
        } else {
            check(
                "no: `per_page` is not honoured".into(),
                evidence,
                Verdict::Differs,
            )
        })
    }
}

/// Whether a member's `id` is the user's id, counted over the sampled groups.
fn member_ids(
    groups: &Result<Vec<GroupSample>, Failed>,
    users: &Result<Listing, Failed>,
    user_ids: &HashSet<String>,
) -> Check {
    let check = |answer: String, evidence: Vec<String>, verdict| {
        Check {
        id: "member-id-is-user-id",
        question: "Is a member's `id` (the `{member-id}` of `DELETE /groups/{id}/members/{member-id}`) the user's id?",
        answer,
        evidence,
        assumption: "yes: a member `id` is a user id, and the membership DELETE takes it",
        verdict,
    }
    };
    let (groups, _) = match (groups, users) {
        (Ok(g), Ok(u)) => (g, u),
        (Err(why), _) | (_, Err(why)) => {
            return check(
                "could not be read".into(),
                vec![why.clone()],
                Verdict::Undetermined,
            )
        }
    };
    let rows: Vec<&Value> = groups
        .iter()
        .filter_map(|g| g.members.as_ref().ok())
        .flat_map(|(rows, _)| rows.iter())
        .collect();
    if rows.is_empty() {
        return check(
            "cannot tell: no member in the sampled groups".into(),
            group_failure(groups).into_iter().collect(),
            Verdict::Undetermined,
        );
    }
    let users_ids = rows
        .iter()
        .filter(|r| id(r, "id").is_some_and(|i| user_ids.contains(&i)))
        .count();
    let with_user_id = rows.iter().filter(|r| r.get("user_id").is_some()).count();
    let user_id_is_user = rows
        .iter()
        .filter(|r| id(r, "user_id").is_some_and(|i| user_ids.contains(&i)))
        .count();
    let mut evidence = vec![format!(
        "{} member row(s) in {} group(s): {users_ids} have an `id` that `GET /users` lists",
        rows.len(),
        groups.len()
    )];
    if with_user_id > 0 {
        evidence.push(format!(
            "{with_user_id} row(s) also carry `user_id`, {user_id_is_user} of them a listed user's"
        ));
    }
    if users_ids == rows.len() {
        check("yes".into(), evidence, Verdict::Holds)
    } else if users_ids == 0 {
        check(
            if user_id_is_user > 0 {
                "no: the member `id` is the membership's; `user_id` names the user".into()
            } else {
                "no: member ids are not user ids".into()
            },
            evidence,
            Verdict::Differs,
        )
    } else {
        check(
            format!("partly: {users_ids} of {}", rows.len()),
            evidence,
            Verdict::Differs,
        )
    }
}

/// The `role_type` values the account's roles carry.
fn role_types(roles: &Roles) -> Check {
    let check = |answer: String, evidence: Vec<String>, verdict| Check {
        id: "role-types",
        question: "Which `role_type` values do the roles carry?",
        answer,
        evidence,
        assumption:
            "`assignable` or `assumable`; another value (or none) is an `unknown_role_type` event",
        verdict,
    };
    let types = match &roles.types {
        Ok(t) => t,
        Err(why) => {
            return check(
                "could not be read".into(),
                vec![why.clone()],
                Verdict::Undetermined,
            )
        }
    };
    let mut values: BTreeMap<String, usize> = BTreeMap::new();
    for t in types {
        *values.entry(label(t)).or_insert(0) += 1;
    }
    let known = ["`assignable`", "`assumable`"];
    let verdict = if types.is_empty() {
        Verdict::Undetermined
    } else if values.keys().all(|v| known.contains(&v.as_str())) {
        Verdict::Holds
    } else {
        Verdict::Differs
    };
    check(
        format!("{} role(s){}", types.len(), values_text(&values)),
        Vec::new(),
        verdict,
    )
}

/// The first failed member listing of the sample.
fn group_failure(groups: &[GroupSample]) -> Option<Failed> {
    groups
        .iter()
        .find_map(|g| g.members.as_ref().err().cloned())
}

/// An enumeration value for the report: the value itself when it looks like one (ASCII
/// letters, digits, `_`, `-`, at most 32), else a hash, so that no personal data gets in.
fn label(value: &Value) -> String {
    match value {
        Value::Null => "none".to_string(),
        Value::String(s)
            if !s.is_empty()
                && s.len() <= 32
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-')) =>
        {
            format!("`{s}`")
        }
        other => format!("another value (hash {:08x})", fnv(&other.to_string())),
    }
}

/// 32-bit FNV-1a: a stable, short fingerprint (not a secret).
fn fnv(text: &str) -> u32 {
    text.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

/// ` (`a` ×2, `b` ×1)`, or nothing.
fn values_text(values: &BTreeMap<String, usize>) -> String {
    if values.is_empty() {
        return String::new();
    }
    let list: Vec<String> = values.iter().map(|(v, n)| format!("{v} ×{n}")).collect();
    format!(" ({})", list.join(", "))
}

/// How a `members` value looks: `[]`, `null`, absent, a non-empty array, or another type.
fn shape(value: Option<&Value>) -> String {
    match value {
        None => "absent".to_string(),
        Some(Value::Null) => "`null`".to_string(),
        Some(Value::Array(a)) if a.is_empty() => "`[]`".to_string(),
        Some(Value::Array(a)) => format!("an array of {}", a.len()),
        Some(Value::Object(_)) => "an object".to_string(),
        Some(_) => "a scalar".to_string(),
    }
}

fn id(item: &Value, field: &str) -> Option<String> {
    item.get(field).and_then(Value::as_str).map(str::to_string)
}

fn total(body: &Value) -> Option<u64> {
    body.get("meta")?.get("total")?.as_u64()
}

fn next(body: &Value) -> Option<String> {
    match body.get("meta")?.get("links")?.get("next")? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

fn bucket_ids(body: &Value, key: &str, bucket: &str) -> Vec<String> {
    body.get(key)
        .and_then(|b| b.get(bucket))
        .and_then(Value::as_array)
        .map(|items| items.iter().filter_map(|i| id(i, "id")).collect())
        .unwrap_or_default()
}

/// What went wrong, without the server's words (which may name ids).
fn short(cause: &HttpError) -> String {
    match cause {
        HttpError::Unauthorized { .. } => "401 unauthorized".into(),
        HttpError::Forbidden { .. } => "403 forbidden".into(),
        HttpError::NotFound { .. } => "404 not found".into(),
        HttpError::Status { status, .. } => format!("status {status}"),
        HttpError::RateLimited { attempts } => format!("rate limited on {attempts} attempt(s)"),
        HttpError::RetryAfterTooLong { status, .. } => format!("{status} with a long Retry-After"),
        HttpError::Server { status, .. } => format!("server error {status}"),
        HttpError::Timeout { .. } => "timed out".into(),
        HttpError::Transport { .. } | HttpError::Connect { .. } => "connection failed".into(),
        HttpError::Tls { .. } => "TLS error".into(),
        HttpError::Redirect { status, .. } => format!("redirect {status}"),
        HttpError::ContentType { .. } => "not JSON".into(),
        HttpError::TooLarge { .. } => "body over the limit".into(),
        HttpError::Json { .. } => "invalid JSON".into(),
        HttpError::RateWait { .. } | HttpError::Deadline { .. } => "overall timeout".into(),
        _ => "failed".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_show_enumerations_and_hash_the_rest() {
        assert_eq!(label(&Value::String("direct".into())), "`direct`");
        assert_eq!(label(&Value::Null), "none");
        let email = label(&Value::String("ana@example.com".into()));
        assert!(
            email.starts_with("another value (hash ") && !email.contains("ana"),
            "{email}"
        );
        assert_eq!(email, label(&Value::String("ana@example.com".into())));
    }
}
