//! Criterion benches of the engine on generated organizations (fixed seeds).
//!
//! `cargo bench --bench engine`; `IAMSIM_BENCH_LARGE=1` adds the 100,000-user organization.
//! Figures and how to read them: docs/performance.md.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion};
use iamsim_core::generate::{self, Params};
use iamsim_core::policy::{ActionPattern, ResourcePattern};
use iamsim_core::{Catalogue, Change, ChangeSpec, Org, Snapshot};

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
                let options = iamsim_core::SimulateOptions {
                    threads: 2,
                    ..Default::default()
                };
                b.iter(|| org.simulate_with(&attach, &options).unwrap())
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

criterion_group!(benches, engine);
criterion_main!(benches);
