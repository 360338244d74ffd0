//! Nothing here: see `benches/peers.rs` and README.md.
