//! Deterministic synthetic organizations, for benchmarks and scale tests.
//!
//! The shape follows what large organizations look like: group sizes are skewed (a few large
//! groups, many small ones), users sit in about five groups, roles attach to users and groups,
//! about one statement in ten is a Deny, every wildcard form occurs, some statements are scoped
//! to resources, a few users are suspended, and some roles are assumable through trusts. The
//! same parameters give the same snapshot, byte for byte.

use serde_json::json;

use crate::model::{
    Group, OneOrMany, Organization, Policy, PolicyDocument, Role, RoleTrust, RoleType, Snapshot,
    Statement, User, SNAPSHOT_FORMAT,
};

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
}

impl Params {
    /// 1,000 users, 100 groups.
    pub fn small(seed: u64) -> Params {
        Params {
            users: 1_000,
            groups: 100,
            roles: 40,
            policies: 100,
            actions: 300,
            seed,
        }
    }

    /// 10,000 users, 1,000 groups.
    pub fn medium(seed: u64) -> Params {
        Params {
            users: 10_000,
            groups: 1_000,
            roles: 300,
            policies: 800,
            actions: 1_000,
            seed,
        }
    }

    /// 100,000 users, 10,000 groups, 2,000 roles, 5,000 policies, about 2,000 actions.
    pub fn large(seed: u64) -> Params {
        Params {
            users: 100_000,
            groups: 10_000,
            roles: 2_000,
            policies: 5_000,
            actions: 2_000,
            seed,
        }
    }
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

/// Generates a snapshot.
pub fn snapshot(params: &Params) -> Snapshot {
    let mut rng = Rng(params.seed);
    let actions = actions(params.actions.max(1));
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
    let role_trusts: Vec<RoleTrust> = roles
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
                conditions: Some(json!({"time_of_day": {"start": 9, "end": 17}})),
                valid_until: None,
            }
        })
        .collect();
    Snapshot {
        format: SNAPSHOT_FORMAT.to_string(),
        organization: Organization {
            id: "org-generated".to_string(),
            name: format!("Generated (seed {})", params.seed),
            root_user_id: (params.users > 0).then(|| "u-0".to_string()),
        },
        users,
        groups,
        roles,
        policies,
        role_trusts,
        crawl: None,
    }
}

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
