//! End-to-end tests of the `iamsim` binary: the real executable, run as a person or a script
//! would, on the built-in demo organization and on small fixtures under `tests/data/`.
//!
//! Table output is pinned with insta snapshots under `tests/snapshots/`; review changes to them,
//! never rewrite them in CI.

mod bad_input;
mod catalogue;
mod conventions;
mod demo;
mod exit_codes;
mod export;
mod files;
mod formats;
mod gates;
mod generate;
mod graph;
mod grouped;
mod html;
mod legacy;
mod output;
mod precedence;
mod progress;
mod queries;
mod schema;
mod sessions;
mod terraform;
mod trust_conditions;
mod typos;
mod util;
mod vultr_cli;
mod vultr_consistency;
mod vultr_fidelity;
mod vultr_http;
mod vultr_json;
mod vultr_page;
mod vultr_probe;
mod vultr_secrets;
mod vultr_support;
mod whatif;
