//! iamsim-core: the engine behind `iamsim`.
//!
//! It reads a snapshot of a Vultr IAM organization, compiles it once into dense ids and bitsets,
//! and answers: what may this user do, and through what; why is this one action allowed or
//! denied; and what would a change do to people's access, before anyone makes it.
//!
//! ```
//! use iamsim_core::{Catalogue, Change, Org, Snapshot};
//!
//! let snapshot = Snapshot::from_json_str(r#"{
//!   "format": "iamsim.snapshot.v1",
//!   "organization": {"id": "org-1", "name": "Acme"},
//!   "users": [{"id": "u-ana", "email": "ana@example.com"}],
//!   "groups": [
//!     {"id": "g-devops", "display_name": "DevOps", "members": ["u-ana"], "policies": ["p-compute", "p-billing"]},
//!     {"id": "g-billing", "display_name": "Billing", "members": ["u-ana"], "policies": ["p-billing"]}
//!   ],
//!   "roles": [],
//!   "policies": [
//!     {"id": "p-compute", "name": "compute-admin", "policy_document": {"Version": "2026-03-20",
//!       "Statement": [{"Effect": "Allow", "Action": "compute.instance.Create", "Resource": "*"}]}},
//!     {"id": "p-billing", "name": "billing-read", "policy_document": {"Version": "2026-03-20",
//!       "Statement": {"Effect": "Allow", "Action": ["account.billing.Read"], "Resource": "*"}}}
//!   ]
//! }"#)?;
//! let org = Org::compile(&snapshot, &Catalogue::bundled())?;
//! let ana = org.find_user("ana@example.com")?;
//! let devops = org.find_group("DevOps")?;
//!
//! let impact = org.simulate(&[Change::RemoveMember { group: devops, user: ana }])?;
//! let ana_impact = &impact.users[0];
//! // She loses what only DevOps gave her...
//! let lost = &ana_impact.lost[0];
//! assert_eq!(impact.action(lost.actions[0]), "compute.instance.Create");
//! // ...and keeps billing, now through Billing alone. Actions and paths are indexes into the
//! // impact's tables, written once; a path there starts after the user. An action's paths are
//! // those of its entry and of its list's shared paths (statements on every resource) that
//! // cover it.
//! let kept = &ana_impact.kept[0];
//! assert_eq!(impact.action(kept.actions[0]), "account.billing.Read");
//! let via: Vec<_> = impact.paths_of(&ana_impact.shared.kept, kept, kept.actions[0]).collect();
//! assert_eq!(impact.path(via[0])[0].name(), Some("Billing"));
//! // The one-entry-per-action form writes every path out from the user.
//! let flat = impact.flatten();
//! assert_eq!(flat.users[0].kept[0].via[0][1].name(), Some("Billing"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The semantics (deny wins, or the nearest attachment under [`Precedence::NearestWins`];
//! wildcards, resource keys, root, suspension, assumable roles) are in `docs/semantics.md`; the
//! JSON shapes of [`report`] in `docs/output-format.md`.
//!
//! # Features
//!
//! None is on by default: the default build is the engine alone. Each feature adds a module
//! around it.
//!
//! - `graph`: the module `graph` turns a report into a petgraph `Graph` of users, groups,
//!   roles, policies and statements, for your own graph algorithms.
//! - `schema`: `report::output_schema`, the JSON Schema of the reports (schemars).
//! - `reference`: the module `reference`, a deliberately naive evaluator straight from the
//!   snapshot; the oracle the engine is tested against, not an engine to use.
//! - `generate`: the module `generate` (and `ParamsError`), deterministic synthetic
//!   organizations for benches and scale tests (`iamsim generate`).
//! - `proptest`: the module `testing`, a property-testing kit for your own organization and
//!   change plans: proptest strategies for organizations, policy documents and change sets,
//!   the reference evaluator (it turns `reference` on), and invariant checkers (see
//!   `docs/testing.md`).

#![deny(missing_docs)]

mod batch;
mod bitset;
pub mod bulk;
pub mod catalogue;
pub mod change;
mod conditional;
pub mod error;
mod eval;
pub mod gate;
#[cfg(feature = "generate")]
pub mod generate;
#[cfg(feature = "graph")]
pub mod graph;
mod idx;
mod impact;
pub mod model;
mod org;
mod overlay;
pub mod policy;
pub mod query;
#[cfg(feature = "reference")]
pub mod reference;
pub mod report;
mod simulate;
pub mod terraform;
#[cfg(feature = "proptest")]
pub mod testing;
pub mod trust;

pub use batch::{BuildImpact, EachOptions, Single};
pub use catalogue::Catalogue;
pub use change::{parse_changes, simulate_changes, with_created, ChangeSpec, Compiled};
#[cfg(feature = "generate")]
pub use error::ParamsError;
pub use error::{
    BuildError, CatalogueError, ChangeError, ChangeSetError, ChangeSetFailure, Diagnostic,
    DocumentError, EntityKind, LoadError, LookupError, PatternError, QueryError,
};
pub use model::Snapshot;
pub use org::{
    edit_distance, CompileOptions, EntityCounts, GroupKey, Org, PolicyKey, Precedence, RoleKey,
    TrustKey, UserKey,
};
pub use query::{diff, RankFilter, RedundancyScope};
pub use simulate::{Change, Detail, Holder, ImpactStream, Principal, SimulateOptions};
