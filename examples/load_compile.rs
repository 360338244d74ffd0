//! Times loading and compiling a snapshot, phase by phase, for profiling.
//!
//! `cargo run --release --example load_compile -- big.json [rounds]`

use std::time::Duration;

use iamsim_core::{Catalogue, Org, Snapshot};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .ok_or("usage: load_compile SNAPSHOT.json [ROUNDS]")?;
    let rounds: usize = args.next().map_or(Ok(3), |r| r.parse())?;
    let text = std::fs::read_to_string(&path)?;
    let catalogue = Catalogue::bundled();
    let mut best = [f64::MAX; 3];
    for _ in 0..rounds {
        let started = cpu();
        let snapshot = Snapshot::from_json_str(&text)?;
        let parsed = cpu() - started;
        let org = Org::compile(&snapshot, &catalogue)?;
        let compiled = cpu() - started - parsed;
        drop(org);
        drop(snapshot);
        let dropped = cpu() - started - parsed - compiled;
        let times = [parsed, compiled, dropped].map(|t| t.as_secs_f64() * 1e3);
        println!("total {:.0} ms", times.iter().sum::<f64>());
        for (b, t) in best.iter_mut().zip(times) {
            *b = b.min(t);
        }
        println!(
            "parse {:.0} ms, compile {:.0} ms, drop {:.0} ms",
            times[0], times[1], times[2]
        );
    }
    println!(
        "best: parse {:.0} ms, compile {:.0} ms, drop {:.0} ms",
        best[0], best[1], best[2]
    );
    Ok(())
}

/// CPU time of this thread (Linux), so that other processes' load counts less.
fn cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    Duration::from_nanos(
        stat.split_whitespace()
            .next()
            .and_then(|ns| ns.parse().ok())
            .unwrap_or(0),
    )
}
