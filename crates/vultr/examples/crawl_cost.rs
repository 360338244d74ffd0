//! How many requests a crawl of a generated organization takes, and how long at the default
//! rate: the figures of `docs/vultr.md`.
//!
//! ```sh
//! cargo run --release -p iamsim-vultr --features fake --example crawl_cost -- small [--verify] [--real-clock]
//! ```
//!
//! The organization (`small`, `medium` or `large`, as `iamsim_core::generate::Params`) is served
//! by the fake on loopback. On the manual clock (the default) the rate limit's waits are counted
//! but not slept, so the time printed is what the crawl would take against a server that
//! answers at once; `--real-clock` waits for real.

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use iamsim_core::generate::{snapshot, Params};
use iamsim_vultr::fake::{FakeOptions, FakeServer};
use iamsim_vultr::{
    crawl, verify, ApiKey, Client, ClientOptions, Clock, CrawlOptions, ManualClock, SystemClock,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let size = args.first().map_or("small", String::as_str);
    let params = match size {
        "small" => Params::small(1),
        "medium" => Params::medium(1),
        "large" => Params::large(1),
        other => return Err(format!("unknown size `{other}`: small, medium or large").into()),
    };
    let clock: Arc<dyn Clock> = if args.iter().any(|a| a == "--real-clock") {
        Arc::new(SystemClock)
    } else {
        Arc::new(ManualClock::new(SystemTime::now()))
    };
    let server = FakeServer::start(snapshot(&params), FakeOptions::default())?;
    let options = ClientOptions {
        base_url: server.base_url(),
        ..ClientOptions::default()
    };
    let mut client = Client::with_clock(ApiKey::new("measure")?, options, clock)?;
    let wall = Instant::now();
    let result = crawl(&mut client, &CrawlOptions::default(), &mut |_| {})?;
    let c = &result.info.counts;
    println!(
        "{size}: {} users, {} groups, {} roles, {} policies, {} role trusts",
        c.users, c.groups, c.roles, c.policies, c.role_trusts
    );
    println!(
        "crawl: {} requests, {:.1} s at {} requests/s ({:.1} s of wall time here)",
        result.info.requests,
        result.info.duration_ms as f64 / 1000.0,
        result.info.rate_per_second,
        wall.elapsed().as_secs_f64()
    );
    if args.iter().any(|a| a == "--verify") {
        let before = client.stats().requests;
        let verification = verify(&mut client, &result.snapshot, 100, &mut |_| {})?;
        println!(
            "verify: {} more requests, {} difference(s)",
            client.stats().requests - before,
            verification.differences.len()
        );
    }
    Ok(())
}
