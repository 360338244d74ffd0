//! Deterministic synthetic organizations, for benchmarks and scale tests.
//!
//! The same [`Params`] give the same snapshot, byte for byte. Two shapes ([`Shape`]):
//!
//! - [`Shape::Classic`], the first one: group sizes are skewed (a few large groups, many small
//!   ones; at 100,000 users the largest holds about 5% of users), users sit in about five groups,
//!   roles attach to users and groups, about one statement in ten is a Deny, every wildcard form
//!   occurs, some statements are scoped to resources, a few users are suspended, and some roles
//!   are assumable through trusts. Statements name 1 to 4 synthetic actions (`svcS.resR.Op`).
//! - [`Shape::Broad`], what a large company looks like (issue 10): group sizes follow a Zipf
//!   curve whose head does not depend on the size (the largest group holds about 40% of users,
//!   the fourth about 12%), and *every* group, the largest included, carries about 3 policies and
//!   2 roles; every role holds about 5 policies; statements name 5 to 40 action patterns, about
//!   15% of them wildcards; each user sits in about 5 groups and holds one direct policy and one
//!   role. Deny statements, resource scopes, suspended users and assumable roles with trusts
//!   occur as in the classic shape. [`Params::broad`] scales the counts with the number of
//!   users.
//!
//! In numbers: policies hold 1 to 5 statements; of the patterns, 5% are `svc.*`, 10%
//! `svc.res.*` and one in 5,000 is `*`; 10% of statements are Denies and 15% are scoped to a
//! resource; group `k` (from 1) of the first four holds a share `0.4 / k^0.87` of users, and the
//! rest keep that slope, scaled (or lifted to a floor in small organizations) so that users sit
//! in 5 groups on average. Measured on [`Params::broad`] with seed 1 (actions allowed on `*`
//! under deny-wins, counted with [`Org::access_matrix`](crate::Org::access_matrix) over users
//! neither root nor suspended; the 1,000-user row is pinned by this module's tests):
//!
//! | users   | groups | largest group  | fourth group   | groups per user | allowed actions per user |
//! | ------- | ------ | -------------- | -------------- | --------------- | ------------------------ |
//! | 1,000   | 100    | 400 (40.0%)    | 120 (12.0%)    | 5.0             | 873 of 2,000             |
//! | 100,000 | 10,000 | 40,000 (40.0%) | 11,975 (12.0%) | 5.0             | 687 of 2,000             |
//!
//! Action names: the broad shape uses the bundled catalogue's names first
//! ([`Catalogue::bundled`], 141 actions), so an organization of at most that many actions loads
//! without `unknown-action` diagnostics; above it, the rest are synthetic (`svcS.resR.Op`, 20
//! resources of 5 operations per service), which the catalogue does not know: each distinct one
//! is reported once when compiling. The classic shape keeps its synthetic names in [`snapshot`], so
//! that its output does not change; [`snapshot_with_catalogue_names`] names its actions as the
//! broad shape does (what `iamsim generate` writes unless `--synthetic-names`).
//!
//! ```
//! use iamsim_core::generate::{snapshot, Params, Shape};
//! use iamsim_core::{Catalogue, Org};
//!
//! let params = Params::broad(200, 1);
//! assert_eq!(params.shape, Shape::Broad);
//! params.validate()?;
//! let org = Org::compile(&snapshot(&params), &Catalogue::bundled())?;
//! let counts = org.counts();
//! assert_eq!((counts.users, counts.groups, counts.roles, counts.policies), (200, 20, 4, 10));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use serde_json::json;

use crate::error::ParamsError;
use crate::model::{
    Group, OneOrMany, Organization, Policy, PolicyDocument, Role, RoleTrust, RoleType, Snapshot,
    Statement, User, SNAPSHOT_FORMAT,
};
use crate::Catalogue;

/// The most users [`snapshot`] generates.
pub const MAX_USERS: usize = 10_000_000;
/// The most groups, roles or policies (each) [`snapshot`] generates.
pub const MAX_ENTITIES: usize = 1_000_000;
/// The most distinct concrete actions [`snapshot`] draws from.
pub const MAX_ACTIONS: usize = 100_000;

/// The kind of organization to generate. Both are deterministic for a seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Shape {
    /// The first shape: skewed group sizes with a small head (at 100,000 users the largest group
    /// holds about 5% of users), statements of 1 to 4 synthetic actions, policies and roles on
    /// some groups only. Its output never changes for given parameters: benches and tests pin it.
    #[default]
    Classic,
    /// A large company's shape: a Zipf head (the largest group about 40% of users, the fourth
    /// about 12%), about 3 policies and 2 roles on every group, about 5 policies on every role,
    /// statements of 5 to 40 patterns (about 15% wildcards), one direct policy and one role per
    /// user. See the module documentation.
    Broad,
}

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Params {
    /// Number of users.
    pub users: usize,
    /// Number of groups.
    pub groups: usize,
    /// Number of roles.
    pub roles: usize,
    /// Number of policies.
    pub policies: usize,
    /// Number of distinct concrete actions statements draw from.
    pub actions: usize,
    /// Seed of the pseudo-random sequence.
    pub seed: u64,
    /// The organization's shape.
    pub shape: Shape,
}

impl Params {
    /// 1,000 users, 100 groups; the classic shape.
    pub fn small(seed: u64) -> Params {
        Params {
            users: 1_000,
            groups: 100,
            roles: 40,
            policies: 100,
            actions: 300,
            seed,
            shape: Shape::Classic,
        }
    }

    /// 10,000 users, 1,000 groups; the classic shape.
    pub fn medium(seed: u64) -> Params {
        Params {
            users: 10_000,
            groups: 1_000,
            roles: 300,
            policies: 800,
            actions: 1_000,
            seed,
            shape: Shape::Classic,
        }
    }

    /// 100,000 users, 10,000 groups, 2,000 roles, 5,000 policies, about 2,000 actions; the
    /// classic shape.
    pub fn large(seed: u64) -> Params {
        Params {
            users: 100_000,
            groups: 10_000,
            roles: 2_000,
            policies: 5_000,
            actions: 2_000,
            seed,
            shape: Shape::Classic,
        }
    }

    /// The broad shape at `users` users, with the ratios of issue 10's organization: one group
    /// per 10 users, one role per 50, one policy per 20 (each rounded up), and 2,000 actions
    /// whatever the size, so that a user's access is as wide at 1,000 users as at 100,000.
    ///
    /// `Params::broad(100_000, seed)` has 10,000 groups, 2,000 roles and 5,000 policies.
    pub fn broad(users: usize, seed: u64) -> Params {
        Params {
            users,
            groups: users.div_ceil(10),
            roles: users.div_ceil(50),
            policies: users.div_ceil(20),
            actions: 2_000,
            seed,
            shape: Shape::Broad,
        }
    }

    /// Checks the counts against the limits [`snapshot`] supports: [`MAX_USERS`] users,
    /// [`MAX_ENTITIES`] groups, roles and policies each, [`MAX_ACTIONS`] actions. Far above any
    /// real organization, and low enough that generating cannot overflow a size computation.
    pub fn validate(&self) -> Result<(), ParamsError> {
        let checks = [
            ("users", self.users, MAX_USERS),
            ("groups", self.groups, MAX_ENTITIES),
            ("roles", self.roles, MAX_ENTITIES),
            ("policies", self.policies, MAX_ENTITIES),
            ("actions", self.actions, MAX_ACTIONS),
        ];
        match checks.into_iter().find(|&(_, value, limit)| value > limit) {
            Some((field, value, limit)) => Err(ParamsError::TooLarge {
                field,
                value,
                limit,
            }),
            None => Ok(()),
        }
    }
}

/// Generates a snapshot of the given shape and counts.
///
/// Call [`Params::validate`] first on counts that come from a person: above the limits, this
/// may exhaust memory.
pub fn snapshot(params: &Params) -> Snapshot {
    match params.shape {
        Shape::Classic => classic(params, actions(params.actions.max(1))),
        Shape::Broad => broad(params),
    }
}

/// Like [`snapshot`], but the classic shape names its actions as the broad shape does: the
/// bundled catalogue's first ([`Catalogue::bundled`], 141 actions), synthetic ones beyond.
/// With at most the catalogue's size in [`Params::actions`], the organization loads without
/// `unknown-action` diagnostics; this is what `iamsim generate` writes by default. [`snapshot`]
/// keeps the classic shape's synthetic names, so that its output, which benches and tests pin,
/// does not change.
///
/// ```
/// use iamsim_core::generate::{snapshot_with_catalogue_names, Params};
/// use iamsim_core::{Catalogue, Org};
///
/// let catalogue = Catalogue::bundled();
/// let params = Params { users: 100, actions: catalogue.len(), ..Params::small(1) };
/// let org = Org::compile(&snapshot_with_catalogue_names(&params), &catalogue)?;
/// assert!(org.diagnostics().iter().all(|d| d.code != "unknown-action"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn snapshot_with_catalogue_names(params: &Params) -> Snapshot {
    match params.shape {
        Shape::Classic => classic(params, broad_actions(params.actions.max(1))),
        Shape::Broad => broad(params),
    }
}

/// The id of the `k`-th largest group by members (`0` is the largest; of groups of one size,
/// the earlier in the snapshot comes first), or `None` when there are not that many groups. For
/// benches and scale tests that need a wide change, such as removing a member of the largest
/// group.
///
/// ```
/// use iamsim_core::generate::{kth_largest_group, snapshot, Params};
///
/// let snapshot = snapshot(&Params::broad(1_000, 1));
/// assert_eq!(kth_largest_group(&snapshot, 0), Some("g-0"));
/// assert_eq!(kth_largest_group(&snapshot, 100), None);
/// ```
pub fn kth_largest_group(snapshot: &Snapshot, k: usize) -> Option<&str> {
    let mut order: Vec<&Group> = snapshot.groups.iter().collect();
    // A stable sort: equal sizes keep snapshot order.
    order.sort_by_key(|g| std::cmp::Reverse(g.members.len()));
    order.get(k).map(|g| g.id.as_str())
}

/// SplitMix64: small, fast, and the same everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// True with probability `percent`/100.
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    /// Skewed towards small indexes: the square of a uniform variable, so index 0 is drawn far
    /// more often than the last one.
    fn skewed(&mut self, n: usize) -> usize {
        let u = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        ((u * u) * n as f64) as usize % n
    }
}

const OPERATIONS: &[&str] = &["Create", "Read", "Update", "Delete", "List"];

/// The concrete actions statements draw from: `svcS.resR.Op`, about `n` of them.
fn actions(n: usize) -> Vec<String> {
    let per_service = 10 * OPERATIONS.len();
    let services = n.div_ceil(per_service).max(1);
    let mut out = Vec::with_capacity(n);
    'outer: for s in 0..services {
        for r in 0..10 {
            for op in OPERATIONS {
                if out.len() == n {
                    break 'outer;
                }
                out.push(format!("svc{s}.res{r}.{op}"));
            }
        }
    }
    out
}

fn statement(rng: &mut Rng, actions: &[String]) -> Statement {
    let pick = |rng: &mut Rng| actions[rng.below(actions.len())].clone();
    let count = 1 + rng.below(4);
    let action: Vec<String> = (0..count)
        .map(|_| match rng.below(100) {
            0 => "*".to_string(),
            1..=4 => {
                let a = pick(rng);
                format!("{}.*", a.split('.').next().unwrap_or("svc0"))
            }
            5..=14 => {
                let a = pick(rng);
                let mut parts = a.split('.');
                format!(
                    "{}.{}.*",
                    parts.next().unwrap_or("svc0"),
                    parts.next().unwrap_or("res0")
                )
            }
            _ => pick(rng),
        })
        .collect();
    statement_over(rng, action)
}

/// The classic shape (see [`Shape::Classic`]).
fn classic(params: &Params, actions: Vec<String>) -> Snapshot {
    let mut rng = Rng(params.seed);
    let policies: Vec<Policy> = (0..params.policies)
        .map(|i| Policy {
            id: format!("p-{i}"),
            name: format!("policy-{i}"),
            description: String::new(),
            is_system_policy: rng.chance(5),
            policy_document: PolicyDocument {
                version: Some("2026-03-20".to_string()),
                statement: OneOrMany::Many(
                    (0..1 + rng.below(3))
                        .map(|_| statement(&mut rng, &actions))
                        .collect(),
                ),
            },
        })
        .collect();
    let some = |rng: &mut Rng, n: usize, max: usize, prefix: &str| -> Vec<String> {
        if n == 0 {
            return Vec::new();
        }
        let mut ids: Vec<usize> = (0..rng.below(max + 1)).map(|_| rng.below(n)).collect();
        ids.sort_unstable();
        ids.dedup();
        ids.into_iter().map(|i| format!("{prefix}{i}")).collect()
    };
    let roles: Vec<Role> = (0..params.roles)
        .map(|i| Role {
            id: format!("r-{i}"),
            name: format!("role-{i}"),
            role_type: if rng.chance(10) {
                RoleType::Assumable
            } else {
                RoleType::Assignable
            },
            description: String::new(),
            policies: some(&mut rng, params.policies, 4, "p-"),
        })
        .collect();
    // Only assignable roles are attached: an assumable one is reached through its trust.
    let assignable: Vec<usize> = (0..roles.len())
        .filter(|&r| roles[r].role_type == RoleType::Assignable)
        .collect();
    let some_roles = |rng: &mut Rng, max: usize| -> Vec<String> {
        if assignable.is_empty() {
            return Vec::new();
        }
        let mut ids: Vec<usize> = (0..rng.below(max + 1))
            .map(|_| assignable[rng.below(assignable.len())])
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids.into_iter().map(|i| format!("r-{i}")).collect()
    };
    let mut members: Vec<Vec<String>> = vec![Vec::new(); params.groups];
    let users: Vec<User> = (0..params.users)
        .map(|i| {
            if params.groups > 0 {
                let mut groups: Vec<usize> = (0..3 + rng.below(5))
                    .map(|_| rng.skewed(params.groups))
                    .collect();
                groups.sort_unstable();
                groups.dedup();
                for g in groups {
                    members[g].push(format!("u-{i}"));
                }
            }
            User {
                id: format!("u-{i}"),
                email: format!("user{i}@example.com"),
                name: format!("User {i}"),
                service_user: rng.chance(3),
                suspended: rng.chance(1),
                policies: if rng.chance(20) {
                    some(&mut rng, params.policies, 2, "p-")
                } else {
                    Vec::new()
                },
                roles: if rng.chance(20) {
                    some_roles(&mut rng, 2)
                } else {
                    Vec::new()
                },
                acls: None,
                api_enabled: None,
            }
        })
        .collect();
    let groups: Vec<Group> = members
        .into_iter()
        .enumerate()
        .map(|(i, members)| Group {
            id: format!("g-{i}"),
            display_name: format!("group-{i}"),
            description: String::new(),
            members,
            policies: some(&mut rng, params.policies, 3, "p-"),
            roles: some_roles(&mut rng, 2),
        })
        .collect();
    let role_trusts = trusts(&mut rng, params, &roles);
    let name = format!("Generated (seed {})", params.seed);
    assemble(params, name, (users, groups, roles, policies, role_trusts))
}

/// A trust for every assumable role, naming a group (70%) or a user.
fn trusts(rng: &mut Rng, params: &Params, roles: &[Role]) -> Vec<RoleTrust> {
    roles
        .iter()
        .filter(|r| r.role_type == RoleType::Assumable)
        .enumerate()
        .map(|(i, role)| {
            let by_group = params.groups > 0 && rng.chance(70);
            RoleTrust {
                id: format!("t-{i}"),
                role_id: role.id.clone(),
                trust_type: "TemporaryAssumption".to_string(),
                trusted_user_id: (!by_group && params.users > 0)
                    .then(|| format!("u-{}", rng.below(params.users))),
                trusted_group_id: by_group.then(|| format!("g-{}", rng.below(params.groups))),
                oidc_issuer_id: None,
                trusted_organization_id: None,
                conditions: Some(json!({"time_of_day": {"start": 9, "end": 17}})),
                valid_until: None,
            }
        })
        .collect()
}

/// The broad shape's membership curve: the share of users in the largest group, the exponent of
/// the Zipf head, how many groups a user sits in on average, and how many groups keep the exact
/// Zipf figures whatever the size.
const HEAD_SHARE: f64 = 0.4;
const HEAD_EXPONENT: f64 = 0.87;
const GROUPS_PER_USER: f64 = 5.0;
const HEAD_GROUPS: usize = 4;

/// The probability that a user belongs to each group, largest first: `HEAD_SHARE / k^HEAD_EXPONENT`
/// for the first [`HEAD_GROUPS`] groups (so the largest holds about 40% and the fourth about
/// 12% at every size), and a tail that keeps the Zipf slope but is scaled down, or lifted to a
/// floor, so that a user sits in about [`GROUPS_PER_USER`] groups. (A pure Zipf curve with that
/// head gives 2.8 groups per user at 100 groups and 7.4 at 10,000.)
fn membership_curve(groups: usize) -> Vec<f64> {
    let zipf: Vec<f64> = (1..=groups)
        .map(|k| HEAD_SHARE / (k as f64).powf(HEAD_EXPONENT))
        .collect();
    let split = HEAD_GROUPS.min(groups);
    let (head, tail) = zipf.split_at(split);
    let want = (GROUPS_PER_USER - head.iter().sum::<f64>()).max(0.0);
    let have: f64 = tail.iter().sum();
    let tail: Vec<f64> = if have >= want {
        tail.iter().map(|p| p * want / have).collect()
    } else {
        // Lift the smallest groups to a floor, found by bisection, no higher than the smallest
        // head group: a small organization cannot have both the head and five groups per user.
        let ceiling = head.last().copied().unwrap_or(HEAD_SHARE);
        let lifted = |floor: f64| tail.iter().map(|p| p.max(floor)).sum::<f64>();
        let (mut low, mut high) = (0.0, ceiling);
        for _ in 0..60 {
            let mid = (low + high) / 2.0;
            if lifted(mid) < want {
                low = mid;
            } else {
                high = mid;
            }
        }
        tail.iter().map(|p| p.max(high)).collect()
    };
    head.iter().copied().chain(tail).collect()
}

/// The broad shape's concrete actions: the bundled catalogue's first, then synthetic ones.
fn broad_actions(n: usize) -> Vec<String> {
    let catalogue = Catalogue::bundled();
    let mut out: Vec<String> = catalogue.iter().take(n).map(|a| a.to_string()).collect();
    let synthetic = n - out.len();
    let per_service = SERVICE_RESOURCES * OPERATIONS.len();
    'services: for s in 0..synthetic.div_ceil(per_service) {
        for r in 0..SERVICE_RESOURCES {
            for op in OPERATIONS {
                if out.len() == n {
                    break 'services;
                }
                out.push(format!("svc{s}.res{r}.{op}"));
            }
        }
    }
    out
}

/// Resources per synthetic service of the broad shape, each with the five operations.
const SERVICE_RESOURCES: usize = 20;

/// A broad statement: 5 to 40 action patterns, about 15% of them wildcards.
fn broad_statement(rng: &mut Rng, actions: &[String]) -> Statement {
    let pick = |rng: &mut Rng| actions[rng.below(actions.len())].as_str();
    let count = 5 + rng.below(36);
    // Distinct patterns, drawn again on a repeat; a small universe may run out of them.
    let mut action: Vec<String> = Vec::with_capacity(count);
    for _ in 0..4 * count {
        let pattern = match rng.below(10_000) {
            // `*` is rare: one pattern in 5,000.
            0..=1 => "*".to_string(),
            2..=499 => {
                let service = pick(rng).split('.').next().unwrap_or("svc0");
                format!("{service}.*")
            }
            500..=1_499 => {
                let a = pick(rng);
                let end = a.rfind('.').unwrap_or(a.len());
                format!("{}.*", &a[..end])
            }
            _ => pick(rng).to_string(),
        };
        if !action.contains(&pattern) {
            action.push(pattern);
        }
        if action.len() == count {
            break;
        }
    }
    statement_over(rng, action)
}

/// Between `low` and `high` (inclusive) distinct ids out of `0..n`, sorted, each `prefix` then
/// the index; `among` (when given) restricts the draw to its members.
fn distinct(
    rng: &mut Rng,
    (low, high): (usize, usize),
    among: &[usize],
    prefix: &str,
) -> Vec<String> {
    if among.is_empty() {
        return Vec::new();
    }
    let count = (low + rng.below(high - low + 1)).min(among.len());
    let mut ids: Vec<usize> = Vec::with_capacity(count);
    while ids.len() < count {
        let id = among[rng.below(among.len())];
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    ids.sort_unstable();
    ids.into_iter().map(|i| format!("{prefix}{i}")).collect()
}

/// The broad shape (see [`Shape::Broad`]).
fn broad(params: &Params) -> Snapshot {
    let mut rng = Rng(params.seed);
    let actions = broad_actions(params.actions.max(1));
    let policies: Vec<Policy> = (0..params.policies)
        .map(|i| Policy {
            id: format!("p-{i}"),
            name: format!("policy-{i}"),
            description: String::new(),
            is_system_policy: rng.chance(5),
            policy_document: PolicyDocument {
                version: Some("2026-03-20".to_string()),
                statement: OneOrMany::Many(
                    (0..1 + rng.below(BROAD_STATEMENTS))
                        .map(|_| broad_statement(&mut rng, &actions))
                        .collect(),
                ),
            },
        })
        .collect();
    let all_policies: Vec<usize> = (0..params.policies).collect();
    let roles: Vec<Role> = (0..params.roles)
        .map(|i| Role {
            id: format!("r-{i}"),
            name: format!("role-{i}"),
            role_type: if rng.chance(10) {
                RoleType::Assumable
            } else {
                RoleType::Assignable
            },
            description: String::new(),
            policies: distinct(&mut rng, (3, 7), &all_policies, "p-"),
        })
        .collect();
    // Only assignable roles are attached: an assumable one is reached through its trust.
    let assignable: Vec<usize> = (0..roles.len())
        .filter(|&r| roles[r].role_type == RoleType::Assignable)
        .collect();
    let users: Vec<User> = (0..params.users)
        .map(|i| User {
            id: format!("u-{i}"),
            email: format!("user{i}@example.com"),
            name: format!("User {i}"),
            service_user: rng.chance(3),
            suspended: rng.chance(1),
            policies: distinct(&mut rng, (1, 1), &all_policies, "p-"),
            roles: distinct(&mut rng, (1, 1), &assignable, "r-"),
            acls: None,
            api_enabled: None,
        })
        .collect();
    // Members of each group: a partial Fisher-Yates shuffle of one permutation of the users
    // draws each group's members without repeats, in time proportional to its size.
    let mut permutation: Vec<usize> = (0..params.users).collect();
    let groups: Vec<Group> = membership_curve(params.groups)
        .into_iter()
        .enumerate()
        .map(|(i, share)| {
            let size = ((share * params.users as f64).round() as usize).min(params.users);
            for at in 0..size {
                let other = at + rng.below(params.users - at);
                permutation.swap(at, other);
            }
            let mut members = permutation[..size].to_vec();
            members.sort_unstable();
            Group {
                id: format!("g-{i}"),
                display_name: format!("group-{i}"),
                description: String::new(),
                members: members.into_iter().map(|u| format!("u-{u}")).collect(),
                policies: distinct(&mut rng, (2, 4), &all_policies, "p-"),
                roles: distinct(&mut rng, (1, 3), &assignable, "r-"),
            }
        })
        .collect();
    let role_trusts = trusts(&mut rng, params, &roles);
    let name = format!("Generated broad (seed {})", params.seed);
    assemble(params, name, (users, groups, roles, policies, role_trusts))
}

/// A generated organization's users, groups, roles, policies and role trusts.
type Entities = (
    Vec<User>,
    Vec<Group>,
    Vec<Role>,
    Vec<Policy>,
    Vec<RoleTrust>,
);

/// The entities of a generated organization, as a snapshot named `name` whose root is `u-0`.
fn assemble(
    params: &Params,
    name: String,
    (users, groups, roles, policies, role_trusts): Entities,
) -> Snapshot {
    Snapshot {
        format: SNAPSHOT_FORMAT.to_string(),
        organization: Organization {
            id: "org-generated".to_string(),
            name,
            root_user_id: (params.users > 0).then(|| "u-0".to_string()),
        },
        users,
        groups,
        roles,
        policies,
        role_trusts,
        sessions: Vec::new(),
        crawl: None,
    }
}

/// Statements per broad policy: 1 to this many.
const BROAD_STATEMENTS: usize = 5;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Catalogue, Org};

    #[test]
    fn deterministic_and_compilable() {
        let params = Params {
            users: 300,
            groups: 30,
            roles: 12,
            policies: 40,
            actions: 120,
            seed: 7,
            shape: Shape::Classic,
        };
        let a = snapshot(&params);
        assert_eq!(a, snapshot(&params));
        assert_ne!(a, snapshot(&Params { seed: 8, ..params }));
        let org = Org::compile(&a, &Catalogue::bundled()).unwrap();
        assert!(org
            .diagnostics()
            .iter()
            .all(|d| d.code == "unknown-action" || d.code == "assumable-role-attached"));
        // Skewed: the first group is much larger than the last.
        assert!(a.groups[0].members.len() > 4 * a.groups[29].members.len().max(1));
        let denies = a
            .policies
            .iter()
            .flat_map(|p| p.policy_document.statement.as_slice())
            .filter(|s| s.effect == "Deny")
            .count();
        assert!(denies > 0);
    }
}

#[cfg(test)]
mod broad_tests {
    use super::*;
    use crate::{Catalogue, Org};

    /// The sizes of the largest and the fourth largest group as shares of users, and the
    /// average number of concrete actions an active user (not root, not suspended) may perform
    /// on `*`.
    fn figures(snapshot: &Snapshot) -> (f64, f64, f64) {
        let mut sizes: Vec<usize> = snapshot.groups.iter().map(|g| g.members.len()).collect();
        sizes.sort_unstable_by(|a, b| b.cmp(a));
        let users = snapshot.users.len() as f64;
        let org = Org::compile(snapshot, &Catalogue::bundled()).unwrap();
        let matrix = org.access_matrix();
        let concrete: Vec<_> = org
            .elements()
            .filter(|(_, a)| !a.is_wildcard())
            .map(|(e, _)| e)
            .collect();
        let active: Vec<_> = org
            .users()
            .zip(&snapshot.users)
            .filter(|&(u, user)| !org.is_root(u) && !user.suspended)
            .map(|(u, _)| u)
            .collect();
        let allowed: usize = active
            .iter()
            .map(|&u| concrete.iter().filter(|&&a| matrix.allowed(u, a)).count())
            .sum();
        (
            sizes[0] as f64 / users,
            sizes[3] as f64 / users,
            allowed as f64 / active.len() as f64,
        )
    }

    /// Same bytes for a seed; another seed, another organization; compiles with only the
    /// synthetic actions reported.
    #[test]
    fn broad_is_deterministic_and_compiles() {
        let params = Params::broad(1_000, 1);
        let a = serde_json::to_string(&snapshot(&params)).unwrap();
        assert_eq!(a, serde_json::to_string(&snapshot(&params)).unwrap());
        assert_ne!(
            a,
            serde_json::to_string(&snapshot(&Params::broad(1_000, 2))).unwrap()
        );
        let org = Org::compile(&snapshot(&params), &Catalogue::bundled()).unwrap();
        let counts = org.counts();
        assert_eq!(
            (counts.users, counts.groups, counts.roles, counts.policies),
            (1_000, 100, 20, 50)
        );
        assert!(org.diagnostics().iter().all(|d| d.code == "unknown-action"));
    }

    /// At most the catalogue's size, every action is the catalogue's: no diagnostics at all.
    #[test]
    fn broad_within_the_catalogue_loads_without_warnings() {
        let actions = Catalogue::bundled().len();
        let params = Params {
            actions,
            ..Params::broad(300, 4)
        };
        let org = Org::compile(&snapshot(&params), &Catalogue::bundled()).unwrap();
        assert_eq!(org.diagnostics(), &[]);
    }

    #[test]
    fn broad_group_sizes_have_a_zipf_head() {
        for users in [1_000, 5_000, 20_000] {
            let snapshot = snapshot(&Params::broad(users, 1));
            let mut sizes: Vec<usize> = snapshot.groups.iter().map(|g| g.members.len()).collect();
            sizes.sort_unstable_by(|a, b| b.cmp(a));
            let share = |size: usize| size as f64 / users as f64;
            assert!(
                (0.35..=0.45).contains(&share(sizes[0])),
                "{users}: {sizes:?}"
            );
            assert!(
                (0.09..=0.15).contains(&share(sizes[3])),
                "{users}: {sizes:?}"
            );
            let per_user = sizes.iter().sum::<usize>() as f64 / users as f64;
            assert!((4.0..=6.0).contains(&per_user), "{users}: {per_user}");
            let fourth = kth_largest_group(&snapshot, 3).unwrap();
            let fourth = snapshot.groups.iter().find(|g| g.id == fourth).unwrap();
            assert_eq!(fourth.members.len(), sizes[3]);
        }
    }

    /// Every group, the largest included, holds policies and roles; every role about 5
    /// policies; every user one direct policy and one role; statements of 5 to 40 patterns,
    /// about 15% wildcards; Denies, scopes, suspended users and trusts occur.
    #[test]
    fn broad_attachments_are_everywhere() {
        let snapshot = snapshot(&Params::broad(2_000, 3));
        for group in &snapshot.groups {
            assert!((2..=4).contains(&group.policies.len()), "{}", group.id);
            assert!((1..=3).contains(&group.roles.len()), "{}", group.id);
        }
        for role in &snapshot.roles {
            assert!((3..=7).contains(&role.policies.len()), "{}", role.id);
        }
        for user in &snapshot.users {
            assert_eq!(
                (user.policies.len(), user.roles.len()),
                (1, 1),
                "{}",
                user.id
            );
        }
        let statements: Vec<&Statement> = snapshot
            .policies
            .iter()
            .flat_map(|p| p.policy_document.statement.as_slice())
            .collect();
        let patterns: Vec<&String> = statements
            .iter()
            .flat_map(|s| s.action.as_slice())
            .collect();
        assert!(statements
            .iter()
            .all(|s| (5..=40).contains(&s.action.as_slice().len())));
        let wildcards = patterns.iter().filter(|p| p.ends_with('*')).count();
        let share = wildcards as f64 / patterns.len() as f64;
        assert!((0.12..=0.18).contains(&share), "{share}");
        let denies = statements.iter().filter(|s| s.effect == "Deny").count();
        let share = denies as f64 / statements.len() as f64;
        assert!((0.07..=0.13).contains(&share), "{share}");
        assert!(statements
            .iter()
            .any(|s| s.resource.as_slice() != ["*".to_string()]));
        assert!(snapshot.users.iter().any(|u| u.suspended));
        assert!(!snapshot.role_trusts.is_empty());
    }

    /// A user may do about a third to a half of the actions: wide access through many paths,
    /// cut by Denies. (Measured: 873 of 2,000 at 1,000 users, where users share most of the 50
    /// policies; 687 at 100,000.)
    #[test]
    fn broad_access_is_wide() {
        let (largest, fourth, allowed) = figures(&snapshot(&Params::broad(1_000, 1)));
        assert_eq!((largest, fourth), (0.4, 0.12));
        assert!((500.0..=1_100.0).contains(&allowed), "{allowed}");
    }

    #[test]
    fn validate_names_the_count_and_its_limit() {
        assert_eq!(Params::large(1).validate(), Ok(()));
        let at_limits = Params {
            users: MAX_USERS,
            groups: MAX_ENTITIES,
            roles: MAX_ENTITIES,
            policies: MAX_ENTITIES,
            actions: MAX_ACTIONS,
            ..Params::small(1)
        };
        assert_eq!(at_limits.validate(), Ok(()));
        let too_many = |params: Params| params.validate().unwrap_err().to_string();
        assert_eq!(
            too_many(Params {
                users: usize::MAX,
                ..Params::small(1)
            }),
            format!("users: {} is above the limit of 10000000", usize::MAX)
        );
        assert_eq!(
            too_many(Params {
                actions: 4_000_000_000,
                ..Params::broad(10, 1)
            }),
            "actions: 4000000000 is above the limit of 100000"
        );
        assert_eq!(
            too_many(Params {
                policies: MAX_ENTITIES + 1,
                ..Params::small(1)
            }),
            "policies: 1000001 is above the limit of 1000000"
        );
    }
}

/// A statement over `action`: 15% scoped to a resource, one in ten a Deny (both shapes; the
/// draws in this order, so that the same seed gives the same bytes).
fn statement_over(rng: &mut Rng, action: Vec<String>) -> Statement {
    let resource = if rng.chance(15) {
        match rng.below(3) {
            0 => "registry:*".to_string(),
            1 => format!("registry:reg-{}", rng.below(50)),
            _ => format!("res-{:04}", rng.below(200)),
        }
    } else {
        "*".to_string()
    };
    Statement {
        sid: None,
        effect: if rng.chance(10) { "Deny" } else { "Allow" }.to_string(),
        action: OneOrMany::Many(action),
        resource: OneOrMany::One(resource),
    }
}
