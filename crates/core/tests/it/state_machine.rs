//! A state-machine test (robustness.md R-SEM-07): a random organization goes through a long
//! sequence of changes of every kind, one at a time. At each step the change is named against
//! the organization as it is then, simulated by the engine on that organization, and made by
//! the reference (`reference::apply`) to get the next snapshot, which is compiled afresh. After
//! every step: the what-if equals the reference's and a rebuild, a removal revoked only through
//! its edge (`testing::check_changes`), and the engine equals the reference for every user of
//! the new organization (`testing::check_effective`). At the end, the whole sequence simulated
//! as one change set on the first organization equals the reference from first to last.
//!
//! 256 cases of 8–32 steps: fewer cases than the 1,000 of the other properties, but each runs
//! a dozen or more what-ifs on organizations that drift far from where they started (groups
//! emptied and refilled, policies replaced then deleted, users suspended then removed).

use iamsim_core::testing::{
    self, check_changes, check_effective, check_what_if, ChangeKnobs, OrgKnobs,
};
use iamsim_core::{reference, ChangeError, Org, SimulateOptions};
use proptest::prelude::*;

use crate::common::{cases, catalogue, show};

fn steps() -> ChangeKnobs {
    ChangeKnobs {
        len: 8..=32,
        // Most steps do something; the rest are no-ops the engine must skip.
        effective: 0.9,
        ..ChangeKnobs::default()
    }
}

proptest! {
    #![proptest_config(cases(256))]

    #[test]
    fn a_sequence_of_changes_stays_with_the_reference(
        snapshot in testing::organization(&OrgKnobs::default()),
        picks in testing::change_picks(&steps()),
    ) {
        let catalogue = catalogue();
        let first = Org::compile(&snapshot, &catalogue).unwrap();
        let mut current = snapshot.clone();
        let mut org = Org::compile(&current, &catalogue).unwrap();
        let mut applied = Vec::new();
        for pick in &picks {
            let Some(spec) = pick.spec(&current) else { continue };
            let step = std::slice::from_ref(&spec);
            let violations = check_changes(&org, &current, &catalogue, step);
            prop_assert!(violations.is_empty(), "step {}: {:#?}{}", applied.len(), violations, show(&current, step));
            let change = org.resolve(&spec).unwrap();
            match org.simulate_with(&[change], &SimulateOptions { allow_noop: true, ..SimulateOptions::default() }) {
                Ok(_) => {}
                // A Vultr-managed policy's document cannot be replaced: the step is refused.
                Err(ChangeError::SystemPolicy { .. }) => continue,
                Err(e) => prop_assert!(false, "step {}: {}{}", applied.len(), e, show(&current, step)),
            }
            current = reference::apply(&current, &spec);
            org = Org::compile(&current, &catalogue).unwrap();
            let violations = check_effective(&org, &current, &catalogue);
            prop_assert!(violations.is_empty(), "after step {}: {:#?}{}", applied.len(), violations, show(&current, &[]));
            applied.push(spec);
        }
        // The whole sequence as one change set, on the organization as it first was.
        let violations = check_what_if(&first, &snapshot, &catalogue, &applied);
        prop_assert!(violations.is_empty(), "the whole sequence: {:#?}{}", violations, show(&snapshot, &applied));
    }
}
