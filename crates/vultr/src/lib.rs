//! iamsim-vultr: the bridge between Vultr's API and iamsim's snapshots.
//!
//! - [`Client`]: HTTPS with rustls, the [`ApiKey`] in a redacting type, a client-side rate
//!   limit under Vultr's 30 requests per second, retries with backoff that honour
//!   `Retry-After`, per-request and overall timeouts, bounded bodies, no redirects.
//! - [`crawl()`]: every endpoint snapshot v1 needs, paged and cross-checked, into an
//!   [`iamsim_core::Snapshot`] that is complete or an error. What changed during the crawl is
//!   recorded in its `crawl` object.
//! - [`verify()`]: Vultr's own per-user views against what the snapshot gives each user.
//! - [`files`]: the one safe writer and the bounded reader of every file iamsim touches.
//! - [`apply`]: remove a group member through Vultr's own procedure, and check the result.
//! - [`probe`]: read-only checks that settle what Vultr does not document, as a report with no
//!   key and no personal data.
//! - `fake` (feature `fake`): a fake Vultr server on loopback that serves a snapshot through the
//!   same paths, shapes, pagination and status codes, with scriptable faults.
//!
//! ```
//! # #[cfg(feature = "fake")] {
//! use iamsim_vultr::fake::{FakeOptions, FakeServer};
//! use iamsim_vultr::{crawl, ApiKey, Client, ClientOptions, CrawlOptions};
//!
//! let organization = iamsim_core::generate::snapshot(&iamsim_core::generate::Params {
//!     users: 5, groups: 2, roles: 2, policies: 3, actions: 10, seed: 1,
//!     shape: iamsim_core::generate::Shape::Classic,
//! });
//! let server = FakeServer::start(organization.clone(), FakeOptions::default())?;
//! let options = ClientOptions { base_url: server.base_url(), rate_per_second: 25.0, ..ClientOptions::default() };
//! let mut client = Client::new(ApiKey::new("test-key")?, options)?;
//! let result = crawl(&mut client, &CrawlOptions::default(), &mut |_| {})?;
//! assert_eq!(result.snapshot.users.len(), 5);
//! assert!(result.info.consistent);
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Dependencies point one way: this crate uses `iamsim-core`, never the other way round, so the
//! engine stays free of I/O. The facts about the API it relies on, and what it assumes where
//! Vultr's documentation is silent, are in `docs/vultr.md`.

#![deny(missing_docs)]

mod api;
pub mod apply;
mod client;
mod clock;
mod crawl;
mod error;
#[cfg(feature = "fake")]
pub mod fake;
pub mod files;
mod key;
pub mod legacy;
pub mod probe;
pub mod recording;
mod verify;

pub use client::{
    encode, Client, ClientOptions, RequestLog, Stats, DEFAULT_BASE_URL, MAX_RATE, MIN_RATE,
};
pub use clock::{Clock, ManualClock, SystemClock};
pub use crawl::{
    crawl, normalize, Counts, Crawl, CrawlInfo, CrawlLimits, CrawlOptions, Event, EventKind,
    Progress, Treatment, UnevaluatedStatement,
};
pub use error::{
    chain, BaseUrlProblem, Error, HttpError, JsonKind, ListedOrganization, PageProblem,
    ReplayProblem, ShapeProblem,
};
pub use key::{ApiKey, KeySource, API_KEY_VAR};
pub use verify::{verify, Difference, Verification};
