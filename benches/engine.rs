//! Criterion benches of the engine on generated organizations (fixed seeds).
//!
//! `cargo bench --bench engine`; `IAMSIM_BENCH_LARGE=1` adds the 100,000-user organization of
//! the classic shape, `IAMSIM_BENCH_BROAD=1` the group `broad`: 100,000 users of the broad shape
//! (issue 10; `cargo bench --bench engine -- broad` runs it alone). Figures and how to read them:
//! docs/performance.md.

use criterion::{black_box, criterion_group, BenchmarkId, Criterion};
use iamsim_core::generate::{self, Params};
use iamsim_core::policy::{ActionPattern, ResourcePattern};
use iamsim_core::{Catalogue, Change, ChangeSpec, Detail, Org, SimulateOptions, Snapshot};

fn sizes() -> Vec<(&'static str, Params)> {
    let mut sizes = vec![("small", Params::small(1)), ("medium", Params::medium(1))];
    if std::env::var_os("IAMSIM_BENCH_LARGE").is_some() {
        sizes.push(("large", Params::large(1)));
    }
    sizes
}

/// The floor to approach: a minimal hand-written kernel over the same organization. Dense
/// integer ids, Allow and Deny bitsets pre-folded per group and per role (resource `*`), then
/// one OR pass per user. Built from the snapshot with its own few lines; only `run` is timed.
struct Kernel {
    words: usize,
    /// Per group, then per role, then per policy: `words` Allow words then `words` Deny words.
    sets: Vec<u64>,
    /// Per user: indexes into `sets` (units of 2 × `words`).
    user_sets: Vec<Vec<u32>>,
    skip: Vec<bool>,
}

impl Kernel {
    fn build(snapshot: &Snapshot, org: &Org) -> Kernel {
        let universe: Vec<ActionPattern> = org.universe().cloned().collect();
        let words = universe.len().div_ceil(64);
        let unit = 2 * words;
        let index = |ids: Vec<&str>| -> std::collections::HashMap<String, usize> {
            ids.into_iter()
                .enumerate()
                .map(|(i, id)| (id.to_string(), i))
                .collect()
        };
        let policies = index(snapshot.policies.iter().map(|p| p.id.as_str()).collect());
        let role_ids = index(snapshot.roles.iter().map(|r| r.id.as_str()).collect());
        let user_ids = index(snapshot.users.iter().map(|u| u.id.as_str()).collect());
        let policy_ix = |id: &str| policies.get(id).copied();
        let mut policy_sets = vec![0u64; snapshot.policies.len() * unit];
        for (p, policy) in snapshot.policies.iter().enumerate() {
            for statement in policy.policy_document.statement.as_slice() {
                if !statement.resource.as_slice().iter().any(|r| r == "*") {
                    continue;
                }
                let deny = statement.effect == "Deny";
                for pattern in statement.action.as_slice() {
                    let pattern = ActionPattern::parse(pattern).unwrap();
                    for (i, element) in universe.iter().enumerate() {
                        if pattern.covers(element) {
                            policy_sets[p * unit + usize::from(deny) * words + i / 64] |=
                                1 << (i % 64);
                        }
                    }
                }
            }
        }
        let fold = |ids: &[String], out: &mut [u64]| {
            for id in ids {
                if let Some(p) = policy_ix(id) {
                    for (o, s) in out.iter_mut().zip(&policy_sets[p * unit..(p + 1) * unit]) {
                        *o |= s;
                    }
                }
            }
        };
        let assignable: Vec<bool> = snapshot
            .roles
            .iter()
            .map(|r| r.role_type == iamsim_core::model::RoleType::Assignable)
            .collect();
        let role_ix = |id: &str| role_ids.get(id).copied();
        let (groups, roles) = (snapshot.groups.len(), snapshot.roles.len());
        let mut sets = vec![0u64; (groups + roles + snapshot.policies.len()) * unit];
        for (r, role) in snapshot.roles.iter().enumerate() {
            fold(
                &role.policies,
                &mut sets[(groups + r) * unit..(groups + r + 1) * unit],
            );
        }
        for (g, group) in snapshot.groups.iter().enumerate() {
            let mut folded = vec![0u64; unit];
            fold(&group.policies, &mut folded);
            for role in group
                .roles
                .iter()
                .filter_map(|id| role_ix(id))
                .filter(|&r| assignable[r])
            {
                let from = (groups + role) * unit;
                for (o, s) in folded.iter_mut().zip(&sets[from..from + unit]) {
                    *o |= s;
                }
            }
            sets[g * unit..(g + 1) * unit].copy_from_slice(&folded);
        }
        sets[(groups + roles) * unit..].copy_from_slice(&policy_sets);
        let mut user_sets = vec![Vec::new(); snapshot.users.len()];
        for (g, group) in snapshot.groups.iter().enumerate() {
            for member in &group.members {
                if let Some(&u) = user_ids.get(member) {
                    user_sets[u].push(g as u32);
                }
            }
        }
        for (u, user) in snapshot.users.iter().enumerate() {
            for r in user
                .roles
                .iter()
                .filter_map(|id| role_ix(id))
                .filter(|&r| assignable[r])
            {
                user_sets[u].push((groups + r) as u32);
            }
            for p in user.policies.iter().filter_map(|id| policy_ix(id)) {
                user_sets[u].push((groups + roles + p) as u32);
            }
        }
        let root = snapshot.organization.root_user_id.as_deref();
        let skip = snapshot
            .users
            .iter()
            .map(|u| u.suspended || Some(u.id.as_str()) == root)
            .collect();
        Kernel {
            words,
            sets,
            user_sets,
            skip,
        }
    }

    /// Every user's allowed set on `*`, into `out` (users × words).
    fn run(&self, out: &mut [u64]) {
        let (words, unit) = (self.words, 2 * self.words);
        let mut deny = vec![0u64; words];
        for (u, sets) in self.user_sets.iter().enumerate() {
            let row = &mut out[u * words..(u + 1) * words];
            row.fill(0);
            deny.fill(0);
            if self.skip[u] {
                continue;
            }
            for &s in sets {
                let set = &self.sets[s as usize * unit..(s as usize + 1) * unit];
                for i in 0..words {
                    row[i] |= set[i];
                    deny[i] |= set[words + i];
                }
            }
            for i in 0..words {
                row[i] &= !deny[i];
            }
        }
    }
}

fn engine(c: &mut Criterion) {
    let catalogue = Catalogue::bundled();
    for (name, params) in sizes() {
        let snapshot = generate::snapshot(&params);
        let json = serde_json::to_string(&snapshot).expect("serializable");
        let org = Org::compile(&snapshot, &catalogue).expect("generated snapshots compile");
        let kernel = Kernel::build(&snapshot, &org);
        // Check the floor computes the same thing as the engine before timing either.
        let mut rows = vec![0u64; snapshot.users.len() * kernel.words];
        kernel.run(&mut rows);
        let matrix = org.access_matrix();
        for (u, user) in org.users().enumerate().step_by(97) {
            let count: u32 = rows[u * kernel.words..(u + 1) * kernel.words]
                .iter()
                .map(|w| w.count_ones())
                .sum();
            if !org.is_root(user) {
                assert_eq!(
                    count as usize,
                    matrix.allowed_count(user),
                    "kernel and engine agree"
                );
            }
        }
        // A member of the largest group, and that group: the widest single membership.
        let group = org.find_group("g-0").expect("group 0 exists");
        let user = org
            .users()
            .find(|&u| org.is_member(u, group) && !org.is_root(u))
            .expect("group 0 has members");
        // The role attached to the most groups (the first such), and its first policy without a
        // bare `*` action: a wide blast radius with a realistic change per user. (A policy
        // granting `*` would change every action for every holder; that is measured apart.)
        let held_by = |r: &iamsim_core::model::Role| {
            snapshot
                .groups
                .iter()
                .filter(|g| g.roles.contains(&r.id))
                .count()
        };
        let role = snapshot
            .roles
            .iter()
            .filter(|r| {
                r.role_type == iamsim_core::model::RoleType::Assignable && !r.policies.is_empty()
            })
            .fold(
                None,
                |best: Option<&iamsim_core::model::Role>, r| match best {
                    Some(b) if held_by(b) >= held_by(r) => Some(b),
                    _ => Some(r),
                },
            )
            .expect("roles exist");
        let grants_everything = |id: &String| {
            snapshot.policies.iter().any(|p| {
                p.id == *id
                    && p.policy_document
                        .statement
                        .as_slice()
                        .iter()
                        .any(|s| s.action.as_slice().iter().any(|a| a == "*"))
            })
        };
        let policy = role
            .policies
            .iter()
            .find(|p| !grants_everything(p))
            .unwrap_or(&role.policies[0]);
        let blast = org
            .resolve(&ChangeSpec::DetachPolicy {
                policy: policy.clone(),
                user: None,
                group: None,
                role: Some(role.id.clone()),
            })
            .unwrap();
        let impact = org.simulate(std::slice::from_ref(&blast)).unwrap();
        eprintln!(
            "{name}: blast radius: detach {policy} from {} (held by {} groups): {} users reported, {} entries",
            role.id,
            held_by(role),
            impact.users.len(),
            impact.users.iter().map(|u| u.counts.lost + u.counts.kept + u.counts.gained).sum::<usize>()
        );
        // The widest change of all: delete the largest group (skewed sizes put most users in
        // the first groups).
        let wide = Change::DeleteGroup { group };
        let wide_impact = org.simulate(std::slice::from_ref(&wide)).unwrap();
        eprintln!(
            "{name}: delete g-0: {} users reported, {} entries",
            wide_impact.users.len(),
            wide_impact
                .users
                .iter()
                .map(|u| u.counts.lost + u.counts.kept + u.counts.gained)
                .sum::<usize>()
        );
        // A change set reaching about 10,000 users at the large size, every one reported:
        // attach a small policy (literal actions only) to the eight largest groups.
        let small_policy = snapshot
            .policies
            .iter()
            .find(|p| {
                p.policy_document
                    .statement
                    .as_slice()
                    .iter()
                    .all(|s| s.action.as_slice().iter().all(|a| !a.ends_with('*')))
            })
            .expect("a policy with literal actions only");
        let mut largest: Vec<&iamsim_core::model::Group> = snapshot.groups.iter().collect();
        largest.sort_by_key(|g| std::cmp::Reverse(g.members.len()));
        let attach: Vec<Change> = largest
            .iter()
            .take(8)
            .filter(|g| !g.policies.contains(&small_policy.id))
            .map(|g| {
                org.resolve(&ChangeSpec::AttachPolicy {
                    policy: small_policy.id.clone(),
                    user: None,
                    group: Some(g.id.clone()),
                    role: None,
                })
                .unwrap()
            })
            .collect();
        let attach_impact = org.simulate(&attach).unwrap();
        eprintln!(
            "{name}: attach {} to the 8 largest groups: {} users reported, {} entries",
            small_policy.id,
            attach_impact.users.len(),
            attach_impact
                .users
                .iter()
                .map(|u| u.counts.lost + u.counts.kept + u.counts.gained)
                .sum::<usize>()
        );
        let mut changed = snapshot.clone();
        changed.groups[0].members.retain(|m| m != org.user_id(user));
        let changed = Org::compile(&changed, &catalogue).unwrap();
        let action = ActionPattern::parse("svc0.res0.Read").unwrap();
        let any = ResourcePattern::any();

        let mut g = c.benchmark_group(name);
        g.sample_size(10);
        let n = params.users;
        g.bench_function(BenchmarkId::new("load_and_compile", n), |b| {
            b.iter(|| {
                let snapshot = Snapshot::from_json_str(black_box(&json)).unwrap();
                Org::compile(&snapshot, &catalogue).unwrap()
            })
        });
        g.bench_function(BenchmarkId::new("every_user_kernel_floor", n), |b| {
            b.iter(|| kernel.run(black_box(&mut rows)))
        });
        g.bench_function(BenchmarkId::new("every_user_access_matrix", n), |b| {
            b.iter(|| org.access_matrix())
        });
        g.bench_function(BenchmarkId::new("one_decision", n), |b| {
            b.iter(|| org.decide(black_box(user), &action, &any))
        });
        g.bench_function(BenchmarkId::new("effective_one_user_with_paths", n), |b| {
            b.iter(|| org.effective(black_box(user)))
        });
        g.bench_function(BenchmarkId::new("remove_member_what_if", n), |b| {
            b.iter(|| {
                org.simulate(&[Change::RemoveMember { group, user }])
                    .unwrap()
            })
        });
        g.bench_function(
            BenchmarkId::new("blast_radius_detach_policy_from_role", n),
            |b| b.iter(|| org.simulate(std::slice::from_ref(&blast)).unwrap()),
        );
        g.bench_function(BenchmarkId::new("delete_largest_group", n), |b| {
            b.iter(|| org.simulate(std::slice::from_ref(&wide)).unwrap())
        });
        g.bench_function(
            BenchmarkId::new("attach_policy_to_8_largest_groups", n),
            |b| b.iter(|| org.simulate(&attach).unwrap()),
        );
        g.bench_function(
            BenchmarkId::new("attach_policy_to_8_largest_groups_2_threads", n),
            |b| {
                let two = pool(2);
                b.iter(|| two.install(|| org.simulate(&attach).unwrap()))
            },
        );
        g.bench_function(BenchmarkId::new("who_can_one_action", n), |b| {
            b.iter(|| org.who_can("svc0.res0.Read", "*").unwrap())
        });
        g.bench_function(BenchmarkId::new("diff_two_snapshots", n), |b| {
            b.iter(|| iamsim_core::diff(&org, &changed))
        });
        g.finish();
    }
}

/// The parse and compile side of the floor: the same file read by serde into minimal structs,
/// then the kernel's sets built with plain prefix matching. What `Org::compile` is measured
/// against (issue 10 §7: load and compile within 1.3× of this).
mod mini {
    use std::collections::{BTreeSet, HashMap};

    use serde::Deserialize;

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }

    impl OneOrMany {
        fn as_slice(&self) -> &[String] {
            match self {
                OneOrMany::One(one) => std::slice::from_ref(one),
                OneOrMany::Many(many) => many,
            }
        }
    }

    #[derive(Deserialize)]
    struct Snapshot {
        organization: Organization,
        users: Vec<User>,
        groups: Vec<Group>,
        roles: Vec<Role>,
        policies: Vec<Policy>,
    }

    #[derive(Deserialize)]
    struct Organization {
        root_user_id: Option<String>,
    }

    #[derive(Deserialize)]
    struct User {
        id: String,
        #[serde(default)]
        suspended: bool,
        #[serde(default)]
        policies: Vec<String>,
        #[serde(default)]
        roles: Vec<String>,
    }

    #[derive(Deserialize)]
    struct Group {
        #[serde(default)]
        members: Vec<String>,
        #[serde(default)]
        policies: Vec<String>,
        #[serde(default)]
        roles: Vec<String>,
    }

    #[derive(Deserialize)]
    struct Role {
        id: String,
        role_type: String,
        #[serde(default)]
        policies: Vec<String>,
    }

    #[derive(Deserialize)]
    struct Policy {
        id: String,
        policy_document: Document,
    }

    #[derive(Deserialize)]
    struct Document {
        #[serde(rename = "Statement")]
        statement: Vec<Statement>,
    }

    #[derive(Deserialize)]
    struct Statement {
        #[serde(rename = "Effect")]
        effect: String,
        #[serde(rename = "Action")]
        action: OneOrMany,
        #[serde(rename = "Resource")]
        resource: OneOrMany,
    }

    /// `pattern` covers `element` (both action patterns): `*`, a `prefix.*`, or equal.
    fn covers(pattern: &str, element: &str) -> bool {
        match pattern.strip_suffix('*') {
            Some(prefix) => element.starts_with(prefix),
            None => pattern == element,
        }
    }

    /// Parses `json` and builds the kernel over the universe of `catalogue` and the patterns
    /// the file names (as the engine does).
    pub(super) fn parse_and_compile(json: &str, catalogue: &[String]) -> super::Kernel {
        let snapshot: Snapshot = serde_json::from_str(json).expect("a snapshot");
        let mut universe: BTreeSet<&str> = catalogue.iter().map(String::as_str).collect();
        for policy in &snapshot.policies {
            for statement in &policy.policy_document.statement {
                universe.extend(statement.action.as_slice().iter().map(String::as_str));
            }
        }
        let universe: Vec<&str> = universe.into_iter().collect();
        let words = universe.len().div_ceil(64);
        let unit = 2 * words;
        let index = |ids: Vec<&str>| -> HashMap<String, usize> {
            ids.into_iter()
                .enumerate()
                .map(|(i, id)| (id.to_string(), i))
                .collect()
        };
        let policy_ix = index(snapshot.policies.iter().map(|p| p.id.as_str()).collect());
        let role_ix = index(snapshot.roles.iter().map(|r| r.id.as_str()).collect());
        let user_ix = index(snapshot.users.iter().map(|u| u.id.as_str()).collect());
        let (groups, roles, policies) = (
            snapshot.groups.len(),
            snapshot.roles.len(),
            snapshot.policies.len(),
        );
        // Sets in the kernel's order: groups, roles, policies.
        let mut sets = vec![0u64; (groups + roles + policies) * unit];
        let mut cache: HashMap<&str, Vec<u64>> = HashMap::new();
        for (p, policy) in snapshot.policies.iter().enumerate() {
            let at = (groups + roles + p) * unit;
            for statement in &policy.policy_document.statement {
                if !statement.resource.as_slice().iter().any(|r| r == "*") {
                    continue;
                }
                let half = at + usize::from(statement.effect == "Deny") * words;
                for pattern in statement.action.as_slice() {
                    let bits = cache.entry(pattern.as_str()).or_insert_with(|| {
                        let mut bits = vec![0u64; words];
                        for (i, element) in universe.iter().enumerate() {
                            if covers(pattern, element) {
                                bits[i / 64] |= 1 << (i % 64);
                            }
                        }
                        bits
                    });
                    for (o, b) in sets[half..half + words].iter_mut().zip(bits.iter()) {
                        *o |= b;
                    }
                }
            }
        }
        let or_set = |sets: &mut Vec<u64>, into: usize, from: usize| {
            for i in 0..unit {
                sets[into * unit + i] |= sets[from * unit + i];
            }
        };
        let assignable: Vec<bool> = snapshot
            .roles
            .iter()
            .map(|r| r.role_type == "assignable")
            .collect();
        for (r, role) in snapshot.roles.iter().enumerate() {
            for p in role.policies.iter().filter_map(|id| policy_ix.get(id)) {
                or_set(&mut sets, groups + r, groups + roles + p);
            }
        }
        let mut user_sets = vec![Vec::new(); snapshot.users.len()];
        for (g, group) in snapshot.groups.iter().enumerate() {
            for p in group.policies.iter().filter_map(|id| policy_ix.get(id)) {
                or_set(&mut sets, g, groups + roles + p);
            }
            for &r in group.roles.iter().filter_map(|id| role_ix.get(id)) {
                if assignable[r] {
                    or_set(&mut sets, g, groups + r);
                }
            }
            for &u in group.members.iter().filter_map(|id| user_ix.get(id)) {
                user_sets[u].push(g as u32);
            }
        }
        for (u, user) in snapshot.users.iter().enumerate() {
            for &r in user.roles.iter().filter_map(|id| role_ix.get(id)) {
                if assignable[r] {
                    user_sets[u].push((groups + r) as u32);
                }
            }
            for &p in user.policies.iter().filter_map(|id| policy_ix.get(id)) {
                user_sets[u].push((groups + roles + p) as u32);
            }
        }
        let root = snapshot.organization.root_user_id.as_deref();
        let skip = snapshot
            .users
            .iter()
            .map(|u| u.suspended || Some(u.id.as_str()) == root)
            .collect();
        super::Kernel {
            words,
            sets,
            user_sets,
            skip,
        }
    }
}

/// The broad shape at 100,000 users (issue 10 §1 and §7), seed 1; only with
/// `IAMSIM_BENCH_BROAD` set. The wide what-ifs on it (detach everything from a large group,
/// delete a group) are added with the grouped report; `generate::kth_largest_group` picks their
/// groups.
fn broad(c: &mut Criterion) {
    if std::env::var_os("IAMSIM_BENCH_BROAD").is_none() {
        return;
    }
    let catalogue = Catalogue::bundled();
    let params = Params::broad(100_000, 1);
    let snapshot = generate::snapshot(&params);
    let json = serde_json::to_string(&snapshot).expect("serializable");
    let org = Org::compile(&snapshot, &catalogue).expect("generated snapshots compile");
    let names: Vec<String> = catalogue.iter().map(|a| a.to_string()).collect();

    // The floor computes what the engine computes, for every user, before either is timed.
    let kernel = mini::parse_and_compile(&json, &names);
    let mut rows = vec![0u64; snapshot.users.len() * kernel.words];
    kernel.run(&mut rows);
    let matrix = org.access_matrix();
    for (u, user) in org.users().enumerate() {
        let count: u32 = rows[u * kernel.words..(u + 1) * kernel.words]
            .iter()
            .map(|w| w.count_ones())
            .sum();
        if !org.is_root(user) {
            assert_eq!(
                count as usize,
                matrix.allowed_count(user),
                "kernel and engine agree"
            );
        }
    }

    // A member of the largest group (40% of users): every path of each of their actions.
    let largest = generate::kth_largest_group(&snapshot, 0).expect("groups exist");
    let group = org.find_group(largest).expect("the group exists");
    let user = org
        .users()
        .find(|&u| org.is_member(u, group) && !org.is_root(u))
        .expect("the largest group has members");
    let remove = [Change::RemoveMember { group, user }];
    let impact = org.simulate(&remove).unwrap();
    eprintln!(
        "broad: remove {} from {largest} ({} members): {} users reported, {} entries",
        org.user_id(user),
        snapshot
            .groups
            .iter()
            .find(|g| g.id == largest)
            .map_or(0, |g| g.members.len()),
        impact.users.len(),
        impact
            .users
            .iter()
            .map(|u| u.counts.lost + u.counts.kept + u.counts.gained)
            .sum::<usize>()
    );
    // 50,000 exact ids, spread over the organization (a prime stride).
    let ids: Vec<&str> = (0..50_000)
        .map(|i| {
            snapshot.users[(i * 7_919) % snapshot.users.len()]
                .id
                .as_str()
        })
        .collect();

    let mut g = c.benchmark_group("broad");
    g.sample_size(10);
    let n = params.users;
    g.bench_function(BenchmarkId::new("load_and_compile", n), |b| {
        b.iter(|| {
            let snapshot = Snapshot::from_json_str(black_box(&json)).unwrap();
            Org::compile(&snapshot, &catalogue).unwrap()
        })
    });
    g.bench_function(BenchmarkId::new("kernel_parse_and_compile", n), |b| {
        b.iter(|| mini::parse_and_compile(black_box(&json), &names))
    });
    g.bench_function(BenchmarkId::new("every_user_kernel_floor", n), |b| {
        b.iter(|| kernel.run(black_box(&mut rows)))
    });
    g.bench_function(BenchmarkId::new("every_user_access_matrix", n), |b| {
        b.iter(|| org.access_matrix())
    });
    g.bench_function(BenchmarkId::new("find_user_50000_ids", n), |b| {
        b.iter(|| {
            for id in &ids {
                black_box(org.find_user(black_box(id)).unwrap());
            }
        })
    });
    // The floor for lookups: the same ids in a plain `HashMap`.
    let plain: std::collections::HashMap<&str, usize> = snapshot
        .users
        .iter()
        .enumerate()
        .map(|(i, u)| (u.id.as_str(), i))
        .collect();
    g.bench_function(BenchmarkId::new("hashmap_floor_50000_ids", n), |b| {
        b.iter(|| {
            for id in &ids {
                black_box(plain.get(black_box(id)));
            }
        })
    });
    g.bench_function(BenchmarkId::new("remove_member_of_largest_group", n), |b| {
        b.iter(|| org.simulate(black_box(&remove)).unwrap())
    });
    // The same, called from a thread outside any pool, as a library's caller would (the
    // engine then runs on rayon's global pool): a one-user what-if should not pay for waking
    // the pool's threads.
    g.bench_function(
        BenchmarkId::new("remove_member_of_largest_group_from_plain_thread", n),
        |b| {
            std::thread::scope(|s| {
                s.spawn(|| b.iter(|| org.simulate(black_box(&remove)).unwrap()));
            })
        },
    );
    // Everything attached to the fourth largest group (about 12% of users) detached: the wide
    // what-if of issue 10, in full and in counts (`--summary`), in a pool of two threads.
    let fourth = generate::kth_largest_group(&snapshot, 3).expect("groups exist");
    let detach_all = detach_everything(&org, &snapshot, fourth);
    for (name, detail) in [
        ("detach_all_from_4th_group_full", Detail::Full),
        ("detach_all_from_4th_group_counts", Detail::Counts),
    ] {
        let options = SimulateOptions {
            detail,
            ..SimulateOptions::default()
        };
        let two = pool(2);
        g.bench_function(BenchmarkId::new(name, n), |b| {
            b.iter(|| two.install(|| org.simulate_with(black_box(&detach_all), &options).unwrap()))
        });
    }
    // Baselines for the two what-ifs in full: the report's shape alone, its clone made and
    // dropped on the calling thread (every vector of the report allocated, filled and freed,
    // every shared name counted and released), with no judging.
    let report = pool(2).install(|| org.simulate(&detach_all).unwrap());
    g.bench_function(
        BenchmarkId::new("detach_all_from_4th_group_report_clone_and_drop", n),
        |b| b.iter(|| black_box(&report).clone()),
    );
    drop(report);
    g.bench_function(
        BenchmarkId::new("remove_member_of_largest_group_report_clone_and_drop", n),
        |b| b.iter(|| black_box(&impact).clone()),
    );
    g.finish();

    // The same shape at 1,000 users: the largest group (40%) deleted, the full grouped report.
    let small = generate::snapshot(&Params::broad(1_000, 1));
    let small_org = Org::compile(&small, &catalogue).expect("generated snapshots compile");
    let largest = generate::kth_largest_group(&small, 0).expect("groups exist");
    let delete = [Change::DeleteGroup {
        group: small_org.find_group(largest).expect("the group exists"),
    }];
    let mut g = c.benchmark_group("broad_1000");
    g.sample_size(10);
    for (name, detail) in [
        ("delete_largest_group_full", Detail::Full),
        ("delete_largest_group_counts", Detail::Counts),
    ] {
        let options = SimulateOptions {
            detail,
            ..SimulateOptions::default()
        };
        let two = pool(2);
        g.bench_function(BenchmarkId::new(name, 1_000), |b| {
            b.iter(|| {
                two.install(|| {
                    small_org
                        .simulate_with(black_box(&delete), &options)
                        .unwrap()
                })
            })
        });
    }
    g.finish();
}

/// Every policy and role attached to a group, detached in one change set.
fn detach_everything(org: &Org, snapshot: &Snapshot, group_id: &str) -> Vec<Change> {
    let group = snapshot
        .groups
        .iter()
        .find(|g| g.id == group_id)
        .expect("the group exists");
    let mut changes: Vec<serde_json::Value> = Vec::new();
    for policy in &group.policies {
        changes.push(
            serde_json::json!({"kind": "detach_policy", "policy": policy, "group": group_id}),
        );
    }
    for role in &group.roles {
        changes.push(serde_json::json!({"kind": "detach_role", "role": role, "group": group_id}));
    }
    let specs = iamsim_core::parse_changes(&serde_json::Value::from(changes).to_string())
        .expect("a valid change file");
    org.resolve_all(&specs)
        .expect("the changes name real entities")
}

/// The batch of single removals (`Org::simulate_each`, what `rank` and `redundant` are made of)
/// on the broad shape: every user's every membership judged alone, only whether it takes or
/// gives anything, in pools of one thread and of two. Also `Org::rank` of a member of the largest
/// group, and the whole organization's `redundant` at 200 users.
fn batch(c: &mut Criterion) {
    use iamsim_core::{BuildImpact, EachOptions, RankFilter};
    let catalogue = Catalogue::bundled();
    let mut g = c.benchmark_group("batch");
    g.sample_size(10);
    for users in [1_000, 10_000] {
        let snapshot = generate::snapshot(&Params::broad(users, 1));
        let org = Org::compile(&snapshot, &catalogue).expect("generated snapshots compile");
        let memberships: Vec<Change> = org
            .users()
            .flat_map(|user| {
                org.user_groups(user)
                    .map(move |group| Change::RemoveMember { group, user })
            })
            .collect();
        for threads in [1, 2] {
            let options = EachOptions {
                build: BuildImpact::Never,
                ..EachOptions::default()
            };
            let name = format!("broad_memberships_{}_threads_{threads}", memberships.len());
            let pool = pool(threads);
            g.bench_function(BenchmarkId::new(name, users), |b| {
                b.iter(|| {
                    pool.install(|| {
                        org.simulate_each(black_box(&memberships), &options, &|_, _| {})
                            .unwrap()
                    })
                })
            });
        }
        let largest = generate::kth_largest_group(&snapshot, 0).expect("groups exist");
        let group = org.find_group(largest).expect("the group exists");
        let user = org
            .users()
            .find(|&u| org.is_member(u, group) && !org.is_root(u))
            .expect("the largest group has members");
        g.bench_function(
            BenchmarkId::new("broad_rank_member_of_largest_group", users),
            |b| b.iter(|| org.rank_with(black_box(user), &RankFilter::default())),
        );
    }
    // The whole organization's redundancy report, written as `iamsim redundant --format json`
    // writes it (streamed, the paths in one table), to nowhere; small, for the suite's time.
    let org = Org::compile(&generate::snapshot(&Params::broad(200, 1)), &catalogue)
        .expect("generated snapshots compile");
    let two = pool(2);
    g.bench_function(
        BenchmarkId::new("broad_redundant_whole_org_json_threads_2", 200),
        |b| {
            b.iter(|| {
                two.install(|| {
                    let stream = org.redundancy_stream(None, &|_, _| {});
                    serde_json::to_writer(std::io::sink(), &stream).expect("written to nowhere")
                })
            })
        },
    );
    g.finish();
}

/// A rayon pool of `threads` threads, for the engine to run on.
fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a rayon pool")
}

criterion_group!(benches, engine, broad, batch);

/// `criterion_main!` inside a pool of one thread: the engine runs on the caller's pool, and a
/// bench that names no pool measures one thread (those named `2_threads` install their own).
fn main() {
    pool(1).install(|| {
        benches();
        Criterion::default().configure_from_args().final_summary();
    });
}
