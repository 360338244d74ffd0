//! Load a snapshot, compile it, and decide every user's access (no paths): the "load +
//! evaluate everything" workload of docs/performance.md, for measuring time and peak memory
//! from outside (`/usr/bin/time -v`).
//!
//! `cargo run --release --example evaluate_all -- big.json`

use std::time::Instant;

use iamsim_core::{Catalogue, Org, Snapshot};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: evaluate_all SNAPSHOT.json")?;
    let started = Instant::now();
    let bytes = std::fs::read(&path)?;
    let snapshot = Snapshot::from_json_bytes(&bytes)?;
    drop(bytes);
    let org = Org::compile(&snapshot, &Catalogue::bundled())?;
    drop(snapshot);
    let loaded = started.elapsed();
    let matrix = org.access_matrix();
    let allowed: usize = org.users().map(|u| matrix.allowed_count(u)).sum();
    let scoped: usize = org.users().map(|u| matrix.scoped(u).len()).sum();
    let evaluated = started.elapsed() - loaded;
    println!(
        "{} users, {} universe elements: {allowed} allowed (user, element) pairs on `*`, {scoped} scoped cells; load+compile {:.0} ms, evaluate everyone {:.0} ms",
        org.counts().users,
        org.universe().count(),
        loaded.as_secs_f64() * 1000.0,
        evaluated.as_secs_f64() * 1000.0,
    );
    Ok(())
}
