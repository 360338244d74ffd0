//! Shared by the property tests: random organizations, random changes naming their entities,
//! and the proptest configuration.

use iamsim_core::report::{ChangeKind, ChangeSummary};
use iamsim_core::testing::{self, ChangeKnobs, ChangePick, OrgKnobs};
use iamsim_core::{Catalogue, ChangeSpec, CompileOptions, Org, Precedence, Snapshot};
use proptest::prelude::*;
use proptest::strategy::BoxedStrategy;

pub use iamsim_core::testing::{
    cases, catalogue, edge_removals, memberships, policy_attachments, role_attachments, Named,
};

/// 1,000 cases, no regression files. `PROPTEST_CASES` overrides the count (mutation testing
/// runs the suite with fewer).
pub fn config() -> ProptestConfig {
    cases(1000)
}

/// Compiles a generated snapshot under a precedence.
pub fn compile_as(snapshot: &Snapshot, catalogue: &Catalogue, precedence: Precedence) -> Org {
    Org::compile_with(
        snapshot,
        catalogue,
        &CompileOptions {
            precedence,
            ..Default::default()
        },
    )
    .expect("generated snapshots compile")
}

/// A random organization with the kit's default knobs.
pub fn organization() -> BoxedStrategy<Snapshot> {
    testing::organization(&OrgKnobs::default())
}

/// A change of any kind, uniformly.
pub fn change_pick() -> BoxedStrategy<ChangePick> {
    testing::change_pick(&ChangeKnobs::default())
}

/// `min`–`max` changes of any kind (see [`ChangeKnobs`]).
pub fn change_set(min: usize, max: usize) -> BoxedStrategy<Vec<ChangePick>> {
    testing::change_picks(&ChangeKnobs {
        len: min..=max,
        ..ChangeKnobs::default()
    })
}

/// A change summary (as reports give it) back as a change naming entities by id.
pub fn spec_of(summary: &ChangeSummary) -> ChangeSpec {
    let id = |e: &Option<iamsim_core::report::EntityRef>| e.as_ref().map(|e| e.id.clone());
    let user = summary.user.as_ref().map(|u| u.id.clone());
    let (group, role, policy) = (id(&summary.group), id(&summary.role), id(&summary.policy));
    match summary.kind {
        ChangeKind::RemoveMember => ChangeSpec::RemoveMember {
            group: group.unwrap(),
            user: user.unwrap(),
        },
        ChangeKind::DetachPolicy => ChangeSpec::DetachPolicy {
            policy: policy.unwrap(),
            user,
            group,
            role,
        },
        ChangeKind::DetachRole => ChangeSpec::DetachRole {
            role: role.unwrap(),
            user,
            group,
        },
        other => panic!("not a removal of an edge: {other:?}"),
    }
}

/// A failing case in a few lines of JSON: the snapshot and the changes.
pub fn show(snapshot: &Snapshot, specs: &[ChangeSpec]) -> String {
    format!(
        "\nsnapshot: {}\nchanges: {}\n",
        serde_json::to_string(snapshot).unwrap(),
        serde_json::to_string(specs).unwrap()
    )
}
