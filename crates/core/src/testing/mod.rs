//! A property-testing kit for your own organization and change plans (feature `proptest`).
//!
//! iamsim's own test suite is built from these pieces, and they are here so that yours can be
//! too:
//!
//! - **strategies** for [proptest](mod@proptest): random organizations ([`organization`], tuned
//!   by [`OrgKnobs`]), policy documents ([`policy_document`], [`DocumentKnobs`]), and change sets
//!   naming real entities of a snapshot ([`changes`], [`ChangeKnobs`]);
//! - **the reference evaluator** ([`reference`](mod@reference), re-exported): a deliberately
//!   naive evaluator straight from the snapshot, sharing no evaluation code with the engine;
//! - **invariant checkers** that return the [`Violation`]s they find, empty when all is well:
//!   [`check_effective`] (the engine equals the reference for every user), [`check_what_if`]
//!   (a what-if equals the reference's before-and-after comparison), [`check_rebuild`] (a
//!   what-if equals compiling the changed snapshot), [`check_removal`] (removing an edge revokes
//!   only what came through it; direct and other-group grants stay), and [`check_changes`],
//!   all of them for a change set; each judges under the [`Precedence`](crate::Precedence)
//!   the `Org` was compiled with (compile with [`Org::compile_with`](crate::Org::compile_with)
//!   to check nearest-wins);
//! - the entry points of the fuzz targets ([`fuzz`]), so that a corpus can be replayed by
//!   `cargo test`;
//! - [`in_pools`], which runs a call inside rayon pools of 1, 2 and 4 threads, to check that
//!   its answer does not depend on the pool's size.
//!
//! # Example: a property of your organization
//!
//! A team keeps its organization's IAM as code and has no Deny statement anywhere. Its rule: a
//! change plan that only grants (adds members, attaches policies and roles) never takes anything
//! away from anyone. With the kit, the property test is a few lines; it also checks, for each
//! generated plan, that iamsim's answer agrees with the reference and with a rebuild.
//!
//! ```
//! use iamsim_core::report::ChangeKind;
//! use iamsim_core::testing::{self, ChangeKnobs};
//! use iamsim_core::{Catalogue, Org, SimulateOptions, Snapshot};
//! use proptest::prelude::*;
//!
//! // In a real suite: `Snapshot::from_json_bytes(&std::fs::read("org.json")?)`.
//! let snapshot = Snapshot::from_json_str(r#"{
//!   "format": "iamsim.snapshot.v1",
//!   "organization": {"id": "org-1", "name": "Acme"},
//!   "users": [{"id": "u-ana", "email": "ana@example.com"}, {"id": "u-bo", "email": "bo@example.com"}],
//!   "groups": [
//!     {"id": "g-oncall", "display_name": "On-call", "members": ["u-ana"], "policies": ["p-ops"]},
//!     {"id": "g-billing", "display_name": "Billing", "members": ["u-bo"], "roles": ["r-read"]}
//!   ],
//!   "roles": [{"id": "r-read", "name": "reader", "role_type": "assignable", "policies": ["p-read"]}],
//!   "policies": [
//!     {"id": "p-ops", "name": "ops", "policy_document": {"Statement": [
//!       {"Effect": "Allow", "Action": ["compute.instance.*"], "Resource": "*"}]}},
//!     {"id": "p-read", "name": "read", "policy_document": {"Statement": [
//!       {"Effect": "Allow", "Action": "account.billing.Read", "Resource": "*"}]}}
//!   ]
//! }"#)?;
//! let catalogue = Catalogue::bundled();
//! let org = Org::compile(&snapshot, &catalogue)?;
//!
//! let grants_only = ChangeKnobs {
//!     kinds: vec![ChangeKind::AddMember, ChangeKind::AttachPolicy, ChangeKind::AttachRole],
//!     ..ChangeKnobs::default()
//! };
//! proptest!(ProptestConfig::with_cases(32), |(plan in testing::changes(&snapshot, &grants_only))| {
//!     // The kit's invariants hold for this organization and this plan.
//!     let violations = testing::check_changes(&org, &snapshot, &catalogue, &plan);
//!     prop_assert!(violations.is_empty(), "{:#?}", violations);
//!     // And the team's own rule.
//!     let changes = org.resolve_all(&plan).expect("the kit names real entities");
//!     let options = SimulateOptions { allow_noop: true, ..SimulateOptions::default() };
//!     let impact = org.simulate_with(&changes, &options).unwrap();
//!     prop_assert!(impact.users.iter().all(|u| u.lost.is_empty()), "{:#?}", impact);
//! });
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! For random organizations instead of your own, combine [`organization`] with
//! [`change_picks`] (or take both from [`organization_and_changes`]) and evaluate against
//! [`catalogue`], the small catalogue the generated policies are written around.

/// The proptest this kit is built on, for suites that want the very same version.
pub use proptest;

pub use crate::reference;

mod check;
pub mod fuzz;
mod strategy;

pub use check::{
    check_changes, check_effective, check_rebuild, check_removal, check_user, check_what_if,
    grouped_shape, kind_of, Violation,
};
pub use strategy::{
    action_vocabulary, catalogue, change_pick, change_picks, changes, edge_removals, memberships,
    organization, organization_and_changes, policy_attachments, policy_document, role_attachments,
    specs_of, statement, Attachment, Case, ChangeKnobs, ChangePick, DocumentKnobs, Membership,
    Named, OrgKnobs, Wildcards, ALL_KINDS, CATALOGUE, CREATE_KINDS,
};

/// A proptest configuration of `cases` cases, unless the `PROPTEST_CASES` variable says how
/// many (mutation testing runs the suites with fewer), and no regression files: a failing case
/// is printed, minimized, for the test that found it.
pub fn cases(cases: u32) -> proptest::test_runner::Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(cases);
    proptest::test_runner::Config {
        cases,
        failure_persistence: None,
        ..proptest::test_runner::Config::default()
    }
}

/// The sizes of the pools [`in_pools`] runs a call in.
pub const POOL_SIZES: [usize; 3] = [1, 2, 4];

/// `f`'s answers inside rayon pools of 1, 2 and 4 threads ([`POOL_SIZES`], built on the first
/// call and kept), in that order: what the engine works out on "the caller's pool" must be the
/// same in each, byte for byte.
///
/// # Panics
///
/// If a pool cannot be built (the system refuses the threads): a test harness's failure.
pub fn in_pools<T: Send>(f: impl Fn() -> T + Sync) -> [T; 3] {
    static POOLS: std::sync::OnceLock<Vec<rayon::ThreadPool>> = std::sync::OnceLock::new();
    let pools = POOLS.get_or_init(|| {
        POOL_SIZES
            .iter()
            .map(|&n| {
                rayon::ThreadPoolBuilder::new()
                    .num_threads(n)
                    .build()
                    .expect("a test's rayon pool")
            })
            .collect()
    });
    [
        pools[0].install(&f),
        pools[1].install(&f),
        pools[2].install(&f),
    ]
}
