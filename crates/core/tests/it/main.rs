//! iamsim-core's integration tests, one binary with a module per area (as ripgrep's `tests/`):
//! the rules of `docs/semantics.md`, each change kind, the library boundary, the properties
//! against the reference evaluator, the state machine, the kit and the fuzz corpus replayed.
//!
//! `common` holds what the property tests share: the proptest configuration and the strategies
//! with the kit's default knobs.

mod changes;
mod common;
mod creations;
mod fuzz_corpus;
mod kit;
mod load;
mod pieces;
mod properties;
mod queries;
mod semantics;
mod state_machine;
mod terraform_plans;
mod whatif;
