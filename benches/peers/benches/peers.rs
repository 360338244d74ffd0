//! iamsim side by side with casbin-rs and with iamsim's own naive reference evaluator, on the
//! same generated organizations (issue 5, section 3).
//!
//! `cd benches/peers && cargo bench`; `IAMSIM_BENCH_LARGE=1` adds the 100,000-user organization.
//! What is compared, how the organization is translated to casbin, and the figures: README.md.
//!
//! Before anything is timed, a sample of (user, action) pairs is decided by both engines and the
//! answers must agree; so must the whole allowed and denied sets of the sampled users.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::time::{Duration, Instant};

use casbin::prelude::*;
use criterion::{black_box, criterion_group, criterion_main, Criterion, SamplingMode};
use iamsim_core::generate::{self, Params};
use iamsim_core::model::{RoleType, Snapshot};
use iamsim_core::policy::{Effect, ParsedStatement};
use iamsim_core::report::Decision;
use iamsim_core::{reference, Catalogue, Org, UserKey};

/// RBAC with role inheritance (`g`) and deny-override. The matcher compares the action first:
/// rhai's `&&` short-circuits, so the role graph is walked only for rules on the asked action,
/// which is the cheapest order casbin allows.
const MODEL: &str = r#"
[request_definition]
r = sub, obj, act

[policy_definition]
p = sub, obj, act, eft

[role_definition]
g = _, _

[policy_effect]
e = some(where (p.eft == allow)) && !some(where (p.eft == deny))

[matchers]
m = r.act == p.act && r.obj == p.obj && g(r.sub, p.sub)
"#;

/// The only resource key both engines are asked about.
const ANY: &str = "*";

/// Users in the agreement sample, and actions asked per user: 10 × 5 = 50 pairs.
const SAMPLE_USERS: usize = 10;
const ACTIONS_PER_USER: usize = 5;

fn sizes() -> Vec<(&'static str, Params)> {
    let mut sizes = vec![("small", Params::small(1)), ("medium", Params::medium(1))];
    if std::env::var_os("IAMSIM_BENCH_LARGE").is_some() {
        sizes.push(("large", Params::large(1)));
    }
    sizes
}

/// The organization as casbin rules.
struct Translation {
    /// `p, sub, *, act, eft`.
    rules: Vec<Vec<String>>,
    /// `g, member, group-or-role`.
    links: Vec<Vec<String>>,
    statements: usize,
    /// Statements with no `*` resource: they never decide anything on `*`, so they are left out.
    scoped: usize,
}

/// Translates like for like, on the resource `*` only:
///
/// - each statement with a `*` resource becomes, for every element of the compiled universe that
///   one of its action patterns covers, the pair (element, allow|deny); a wildcard element
///   (`svc3.*`, "the svc3 actions the catalogue does not name") is an opaque action name to
///   casbin, exactly as iamsim treats it;
/// - a policy's pairs become `p` rules of each holder it is attached to (a user, a group, an
///   assignable role), deduplicated per holder;
/// - memberships and role attachments become `g` links: user→group, group→role, user→role.
///   Assumable roles give no standing access in iamsim, so they get neither links nor rules.
fn translate(snapshot: &Snapshot, org: &Org) -> Translation {
    let universe: Vec<&str> = org.universe().map(|e| e.as_str()).collect();
    let patterns: Vec<_> = org.universe().collect();
    let mut statements = 0;
    let mut scoped = 0;
    let mut per_policy: HashMap<&str, BTreeSet<(usize, Effect)>> = HashMap::new();
    for policy in &snapshot.policies {
        let pairs = per_policy.entry(policy.id.as_str()).or_default();
        for statement in policy.policy_document.statement.as_slice() {
            statements += 1;
            let parsed = ParsedStatement::parse(statement).expect("generated statements parse");
            if !parsed.resources.iter().any(|r| r.is_any()) {
                scoped += 1;
                continue;
            }
            for pattern in &parsed.actions {
                for (i, element) in patterns.iter().enumerate() {
                    if pattern.covers(element) {
                        pairs.insert((i, parsed.effect));
                    }
                }
            }
        }
    }
    let assignable: HashSet<&str> = snapshot
        .roles
        .iter()
        .filter(|r| r.role_type == RoleType::Assignable)
        .map(|r| r.id.as_str())
        .collect();

    let mut rules = Vec::new();
    let mut attach = |holder: &str, policies: &[String]| {
        let pairs: BTreeSet<(usize, Effect)> = policies
            .iter()
            .flat_map(|p| per_policy[p.as_str()].iter().copied())
            .collect();
        for (element, effect) in pairs {
            let eft = match effect {
                Effect::Allow => "allow",
                Effect::Deny => "deny",
            };
            rules.push(vec![
                holder.to_string(),
                ANY.to_string(),
                universe[element].to_string(),
                eft.to_string(),
            ]);
        }
    };
    for user in &snapshot.users {
        attach(&user.id, &user.policies);
    }
    for group in &snapshot.groups {
        attach(&group.id, &group.policies);
    }
    for role in &snapshot.roles {
        if assignable.contains(role.id.as_str()) {
            attach(&role.id, &role.policies);
        }
    }

    let mut links = BTreeSet::new();
    for user in &snapshot.users {
        for role in user
            .roles
            .iter()
            .filter(|r| assignable.contains(r.as_str()))
        {
            links.insert((user.id.clone(), role.clone()));
        }
    }
    for group in &snapshot.groups {
        for member in &group.members {
            links.insert((member.clone(), group.id.clone()));
        }
        for role in group
            .roles
            .iter()
            .filter(|r| assignable.contains(r.as_str()))
        {
            links.insert((group.id.clone(), role.clone()));
        }
    }
    Translation {
        rules,
        links: links.into_iter().map(|(a, b)| vec![a, b]).collect(),
        statements,
        scoped,
    }
}

fn enforcer(runtime: &tokio::runtime::Runtime, translation: Translation) -> Enforcer {
    runtime.block_on(async {
        let model = DefaultModel::from_str(MODEL).await.expect("model parses");
        let mut enforcer = Enforcer::new(model, MemoryAdapter::default())
            .await
            .expect("enforcer");
        // The adapter would only keep a second copy of every rule.
        enforcer.enable_auto_save(false);
        assert!(enforcer
            .add_policies(translation.rules)
            .await
            .expect("rules"));
        assert!(enforcer
            .add_grouping_policies(translation.links)
            .await
            .expect("links"));
        enforcer
    })
}

/// Users both engines are compared on: not the root user (unconditional access in iamsim, no
/// such notion in casbin) and not suspended (no access in iamsim, no such notion in casbin).
fn comparable(snapshot: &Snapshot, org: &Org) -> Vec<UserKey> {
    let suspended: HashSet<&str> = snapshot
        .users
        .iter()
        .filter(|u| u.suspended)
        .map(|u| u.id.as_str())
        .collect();
    org.users()
        .filter(|&u| !org.is_root(u) && !suspended.contains(org.user_id(u)))
        .collect()
}

/// (allowed, explicitly denied) on `*`, as action names.
type Sets = (BTreeSet<String>, BTreeSet<String>);

fn iamsim_sets(org: &Org, user: UserKey) -> Sets {
    let effective = org.effective(user);
    let on_any = |entries: &[iamsim_core::report::Entry]| {
        entries
            .iter()
            .filter(|e| e.resource == ANY)
            .map(|e| e.action.clone())
            .collect()
    };
    (on_any(&effective.allowed), on_any(&effective.denied))
}

/// casbin's implicit permissions folded by the same deny-override effect.
fn casbin_sets(enforcer: &Enforcer, user: &str) -> Sets {
    let mut allow = BTreeSet::new();
    let mut deny = BTreeSet::new();
    for rule in enforcer.get_implicit_permissions_for_user(user, None) {
        assert_eq!(rule[1], ANY);
        match rule[3].as_str() {
            "allow" => allow.insert(rule[2].clone()),
            "deny" => deny.insert(rule[2].clone()),
            other => panic!("unexpected eft {other}"),
        };
    }
    (allow.difference(&deny).cloned().collect(), deny)
}

/// Asserts that casbin and iamsim agree on ~50 (user, action) pairs on `*`, and on the whole
/// allowed and denied sets of the sampled users. Returns how many pairs of each decision.
fn check_agreement(org: &Org, users: &[UserKey], enforcer: &Enforcer) -> BTreeMap<String, usize> {
    let universe: Vec<String> = org.universe().map(|e| e.to_string()).collect();
    let step = (users.len() / SAMPLE_USERS).max(1);
    let mut seed = 0x2545_F491_4F6C_DD1D_u64;
    let mut tally = BTreeMap::new();
    for &user in users.iter().step_by(step).take(SAMPLE_USERS) {
        let id = org.user_id(user);
        let (allowed, denied) = iamsim_sets(org, user);
        let (casbin_allowed, casbin_denied) = casbin_sets(enforcer, id);
        assert_eq!(allowed, casbin_allowed, "allowed set of {id}");
        assert_eq!(denied, casbin_denied, "denied set of {id}");

        // Some actions it has, one it is denied, the rest anywhere in the universe.
        let mut actions: Vec<String> = Vec::new();
        let allowed: Vec<&String> = allowed.iter().collect();
        if !allowed.is_empty() {
            actions.push(allowed[0].clone());
            actions.push(allowed[allowed.len() / 2].clone());
        }
        actions.extend(denied.iter().next().cloned());
        while actions.len() < ACTIONS_PER_USER {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            actions.push(universe[(seed >> 33) as usize % universe.len()].clone());
        }
        for action in &actions {
            let iamsim = org
                .explain(user, action, ANY)
                .expect("valid action")
                .decision;
            let casbin = enforcer
                .enforce((id, ANY, action.as_str()))
                .expect("enforce");
            assert_eq!(
                iamsim == Decision::Allowed,
                casbin,
                "{id} {action}: iamsim {iamsim:?}, casbin {casbin}"
            );
            *tally.entry(format!("{iamsim:?}")).or_insert(0) += 1;
        }
    }
    tally
}

fn peers(c: &mut Criterion) {
    let catalogue = Catalogue::bundled();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("current-thread runtime");
    for (name, params) in sizes() {
        let snapshot = generate::snapshot(&params);
        let org = Org::compile(&snapshot, &catalogue).expect("generated snapshots compile");
        let translation = translate(&snapshot, &org);
        let (rules, links) = (translation.rules.len(), translation.links.len());
        eprintln!(
            "{name}: {} users, universe of {} elements; casbin: {rules} p rules, {links} g links; \
             {} of {} statements scoped to resources other than `*`, left out",
            params.users,
            org.universe().count(),
            translation.scoped,
            translation.statements,
        );
        let started = Instant::now();
        let enforcer = enforcer(&runtime, translation);
        eprintln!("{name}: casbin enforcer built in {:.2?}", started.elapsed());

        let users = comparable(&snapshot, &org);
        let tally = check_agreement(&org, &users, &enforcer);
        eprintln!("{name}: casbin agrees with iamsim on {tally:?} and on the sampled users' sets");

        // A member of the largest group, as in the engine bench, and an action it is allowed.
        let group = org.find_group("g-0").expect("group 0 exists");
        let user = *users
            .iter()
            .find(|&&u| org.is_member(u, group))
            .expect("group 0 has a comparable member");
        let user_id = org.user_id(user).to_string();
        let (allowed, _) = iamsim_sets(&org, user);
        let action = allowed
            .iter()
            .filter(|a| !a.ends_with('*'))
            .nth(allowed.len() / 2)
            .or_else(|| allowed.iter().next())
            .expect("the bench user is allowed something")
            .clone();
        assert_eq!(
            org.explain(user, &action, ANY).unwrap().decision,
            Decision::Allowed
        );
        assert!(enforcer.enforce((&user_id, ANY, &action)).unwrap());
        let effective = org.effective(user);
        let paths: usize = (effective.allowed.iter().chain(&effective.denied))
            .map(|e| e.via.len())
            .sum();
        eprintln!(
            "{name}: bench user {user_id}: iamsim {} allowed and {} denied entries ({} on `*`), \
             {paths} paths; casbin {} implicit rules; check action {action}",
            effective.allowed.len(),
            effective.denied.len(),
            allowed.len(),
            enforcer
                .get_implicit_permissions_for_user(&user_id, None)
                .len()
        );

        let mut g = c.benchmark_group(format!("{name}/effective_one_user"));
        g.sampling_mode(SamplingMode::Flat)
            .sample_size(10)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(3));
        g.bench_function("iamsim", |b| b.iter(|| org.effective(black_box(user))));
        g.bench_function("casbin_implicit_permissions", |b| {
            b.iter(|| enforcer.get_implicit_permissions_for_user(black_box(&user_id), None))
        });
        if name == "small" {
            assert_eq!(
                reference::effective(&snapshot, &catalogue, &user_id),
                org.effective(user),
                "reference and engine agree on the bench user"
            );
            g.bench_function("reference", |b| {
                b.iter(|| reference::effective(&snapshot, &catalogue, black_box(&user_id)))
            });
        }
        g.finish();

        let mut g = c.benchmark_group(format!("{name}/check"));
        g.sampling_mode(SamplingMode::Flat)
            .sample_size(10)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(3));
        g.bench_function("iamsim_explain", |b| {
            b.iter(|| org.explain(black_box(user), black_box(&action), ANY))
        });
        g.bench_function("casbin_enforce", |b| {
            b.iter(|| enforcer.enforce((black_box(&user_id), ANY, black_box(&action))))
        });
        g.finish();
    }
}

criterion_group!(benches, peers);
criterion_main!(benches);
