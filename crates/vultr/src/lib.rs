//! iamsim-vultr: the bridge between Vultr's API and iamsim's snapshots.
//!
//! Not built yet. This crate will hold the Vultr API client (HTTPS with rustls, the API key in a
//! redacting type, a client-side rate limit under Vultr's 30 requests per second, retries that
//! honour `Retry-After`), the crawl that fills an [`iamsim_core::Snapshot`] completely or fails
//! loudly, a fake Vultr server on loopback for tests and downstream users, and the safe,
//! verified apply of a remove-member change. Its plan is in the project's issues; the facts
//! about the API it relies on are in `shared/vultr/iam-reference.md` (sections 1, 4 and 9).
//!
//! Dependencies point one way: this crate uses `iamsim-core`, never the other way round, so the
//! engine stays free of I/O.

#![deny(missing_docs)]

/// The snapshot format this adapter writes.
pub const SNAPSHOT_FORMAT: &str = iamsim_core::model::SNAPSHOT_FORMAT;
