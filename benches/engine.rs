//! Criterion benches of the engine on generated organizations (fixed seeds).
//!
//! `cargo bench --bench engine`; `IAMSIM_BENCH_LARGE=1` adds the 100,000-user organization.
//! Figures and how to read them: docs/performance.md.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion};
use iamsim_core::generate::{self, Params};
use iamsim_core::{Catalogue, Change, Org};

fn sizes() -> Vec<(&'static str, Params)> {
    let mut sizes = vec![("small", Params::small(1)), ("medium", Params::medium(1))];
    if std::env::var_os("IAMSIM_BENCH_LARGE").is_some() {
        sizes.push(("large", Params::large(1)));
    }
    sizes
}

fn engine(c: &mut Criterion) {
    let catalogue = Catalogue::bundled();
    for (name, params) in sizes() {
        let snapshot = generate::snapshot(&params);
        let json = serde_json::to_string(&snapshot).expect("serializable");
        let org = Org::compile(&snapshot, &catalogue).expect("generated snapshots compile");
        // A member of the largest group, and that group: the widest single what-if.
        let group = org.find_group("g-0").expect("group 0 exists");
        let user = org
            .users()
            .find(|&u| org.is_member(u, group) && !org.is_root(u))
            .expect("group 0 has members");

        let mut g = c.benchmark_group(name);
        g.sample_size(10);
        g.bench_function(BenchmarkId::new("load_and_compile", params.users), |b| {
            b.iter(|| {
                let snapshot = iamsim_core::Snapshot::from_json_str(black_box(&json)).unwrap();
                Org::compile(&snapshot, &catalogue).unwrap()
            })
        });
        g.bench_function(BenchmarkId::new("effective_one_user", params.users), |b| {
            b.iter(|| org.effective(black_box(user)))
        });
        g.bench_function(
            BenchmarkId::new("allowed_counts_every_user", params.users),
            |b| b.iter(|| org.allowed_counts()),
        );
        g.bench_function(
            BenchmarkId::new("remove_member_what_if", params.users),
            |b| {
                b.iter(|| {
                    org.simulate(&[Change::RemoveMember { group, user }])
                        .unwrap()
                })
            },
        );
        g.finish();
    }
}

criterion_group!(benches, engine);
criterion_main!(benches);
