//! `iamsim vultr ...`: crawl a Vultr organization into a snapshot, remove a group member on
//! Vultr safely, and serve a snapshot as a fake Vultr API.
//!
//! The API key comes from `VULTR_API_KEY` or `--api-key-file`, never from a command-line
//! value, and is never printed.

use std::io::{BufRead, IsTerminal, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::{ArgAction, Args, Subcommand};
use iamsim_core::{Catalogue, Change, CompileOptions, Org};
use iamsim_vultr::fake::{FakeOptions, FakeServer, Fault};
use iamsim_vultr::recording::{Emails, Replay};
use iamsim_vultr::{
    apply, crawl, legacy, verify, ApiKey, Client, ClientOptions, Crawl, CrawlOptions, Progress,
    API_KEY_VAR, DEFAULT_BASE_URL, MAX_RATE, MIN_RATE,
};

use crate::{
    compile_with, emit, input_limit, read_catalogue, read_snapshot, read_text, render,
    write_atomically, Failure, Format, GateCheck, PrecedenceArg,
};

#[derive(Subcommand)]
pub enum VultrCommand {
    /// Crawl the organization the API key sees into a snapshot (to -o FILE, or stdout).
    Fetch(FetchArgs),
    /// Take a user out of a group on Vultr: crawl, show the impact, confirm, delete the
    /// membership, check it is gone, re-crawl and compare with the prediction.
    RemoveMember(RemoveMemberArgs),
    /// Read-only checks that settle what Vultr does not document (see docs/vultr.md): a report
    /// to paste into a bug report, with no key and no personal data (counts only).
    Probe {
        /// Groups, roles and policies read in detail, at most (the first by id), 1 to 1000.
        #[arg(long, value_name = "N", default_value_t = 20,
              value_parser = clap::value_parser!(u32).range(1..=1000))]
        sample: u32,
        /// Output format of the report.
        #[arg(long, value_enum, default_value_t = ProbeFormat::Text)]
        format: ProbeFormat,
        #[command(flatten)]
        api: Api,
    },
    /// Serve a snapshot as a fake Vultr API on 127.0.0.1 (prints its base URL on stdout).
    ServeFake(ServeFakeArgs),
}

/// `vultr fetch`.
#[derive(Args)]
pub struct FetchArgs {
    /// Write the snapshot to FILE (atomically) instead of stdout.
    #[arg(short = 'o', long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Compare each user's policies and roles with Vultr's own per-user views (2 more
    /// requests per user); exit 1 if they differ.
    #[arg(long)]
    verify: bool,
    /// Fail (and write nothing) if the organization seemed to change during the crawl.
    #[arg(long)]
    strict: bool,
    /// Crawl again, up to N times, while the crawl is not consistent.
    #[arg(long, value_name = "N", default_value_t = 0)]
    recrawl: u32,
    /// Save every response body as received into DIR (created 0700), with the API key
    /// never written and emails replaced by stable pseudonyms (see docs/vultr.md).
    #[arg(long, value_name = "DIR", conflicts_with = "replay")]
    record: Option<PathBuf>,
    /// With --record: keep email addresses as received.
    #[arg(long, requires = "record")]
    record_emails: bool,
    /// Crawl from a recording made with --record, with no network and no API key.
    #[arg(long, value_name = "DIR")]
    replay: Option<PathBuf>,
    /// Also record each user's active assumed-role sessions (one more request per user),
    /// so that what-ifs can say which sessions outlive the trust they remove.
    #[arg(long)]
    sessions: bool,
    #[command(flatten)]
    api: Api,
}

/// `vultr remove-member`.
#[derive(Args)]
pub struct RemoveMemberArgs {
    /// Group id or display name.
    #[arg(long)]
    group: String,
    /// User id or email.
    #[arg(long)]
    user: String,
    /// Show the impact and stop.
    #[arg(long)]
    dry_run: bool,
    /// Apply without asking (needed when there is no terminal to ask on).
    #[arg(long)]
    yes: bool,
    /// Refuse to apply, and exit 1, if anyone loses an action matching PATTERN. Repeatable.
    #[arg(long = "fail-if-loses", value_name = "PATTERN")]
    fail_if_loses: Vec<String>,
    /// Action catalogue, one action per line; replaces the bundled one.
    #[arg(long, value_name = "FILE")]
    catalogue: Option<PathBuf>,
    /// Output format of the impact.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Go on even when the crawl saw a disagreement about this user or group that is a
    /// known fault of Vultr's API (group policies that the two views list differently; a
    /// `meta.total` that is stable but does not count the items). Each is printed.
    #[arg(long)]
    accept_api_quirks: bool,
    /// Which wins between an Allow and a Deny: `deny-wins` (a Deny on any path) or
    /// `nearest-wins` (the attachment nearest the user). See docs/semantics.md §4.
    #[arg(long, value_enum, default_value_t = PrecedenceArg::DenyWins)]
    precedence: PrecedenceArg,
    #[command(flatten)]
    api: Api,
}

/// `vultr serve-fake`.
#[derive(Args)]
pub struct ServeFakeArgs {
    /// The organization to serve (iamsim.snapshot.v1 JSON).
    #[arg(long, value_name = "FILE")]
    snapshot: PathBuf,
    /// Port; 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Scripted faults: a JSON array (see docs/vultr.md).
    #[arg(long, value_name = "FILE")]
    faults: Option<PathBuf>,
    /// `GET /policies` leaves documents out, as Vultr's list may.
    #[arg(long)]
    omit_documents: bool,
    /// Answer the questions `vultr probe` asks the other way than iamsim assumes: policy
    /// users include holders through groups and roles, `meta.total` counts pages, member
    /// ids are membership ids, an empty group's `members` is `null`.
    #[arg(long)]
    other_shapes: bool,
}

/// `vultr probe --format`.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum ProbeFormat {
    /// For people and bug reports.
    Text,
    /// For programs (`iamsim.vultr-probe.v1`).
    Json,
}

/// How to reach the API.
#[derive(Args)]
pub struct Api {
    /// Vultr API base URL. Plain http:// is allowed only to a loopback address.
    #[arg(long, value_name = "URL", default_value = DEFAULT_BASE_URL)]
    base_url: String,
    /// Read the API key from the first line of FILE instead of VULTR_API_KEY.
    #[arg(
        long,
        value_name = "FILE",
        env = "VULTR_API_KEY_FILE",
        hide_env_values = true
    )]
    api_key_file: Option<PathBuf>,
    /// Requests per second, from 0.01 to 25 (Vultr allows 30).
    #[arg(long, value_name = "N", default_value_t = 10.0, value_parser = parse_rate)]
    rate: f64,
    /// Items per page, 1 to 500.
    #[arg(long, value_name = "N", default_value_t = 100)]
    per_page: u32,
    /// Seconds one request may take, 1 to 3600.
    #[arg(long, value_name = "SECONDS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    timeout: u64,
    /// Seconds all requests of the command may take together, waits included; 1 to 2592000
    /// (30 days).
    #[arg(long, value_name = "SECONDS", default_value_t = 4 * 3600,
          value_parser = clap::value_parser!(u64).range(1..=30 * 86_400))]
    total_timeout: u64,
    /// Tries per request on 429, 5xx, timeouts and broken connections, 1 to 100.
    #[arg(long, value_name = "N", default_value_t = 5,
          value_parser = clap::value_parser!(u32).range(1..=100))]
    attempts: u32,
    /// The organization (id or name), when the key sees several.
    #[arg(long, value_name = "ID")]
    organization: Option<String>,
    /// The organization's owner (id or email), who has unconditional access; Vultr's API does
    /// not say who it is.
    #[arg(long, value_name = "USER")]
    root_user: Option<String>,
    /// Log each request (method, path, status, time; never headers) to stderr. Twice: also
    /// the response fields iamsim ignores.
    #[arg(short, long, action = ArgAction::Count)]
    verbose: u8,
}

impl Api {
    fn client_options(&self) -> ClientOptions {
        ClientOptions {
            base_url: self.base_url.clone(),
            rate_per_second: self.rate,
            request_timeout: Duration::from_secs(self.timeout),
            total_timeout: Some(Duration::from_secs(self.total_timeout)),
            max_attempts: self.attempts,
            user_agent: concat!("iamsim/", env!("CARGO_PKG_VERSION")).to_string(),
            ..ClientOptions::default()
        }
    }

    fn client(&self) -> Result<Client, Failure> {
        let key = match &self.api_key_file {
            Some(path) => {
                let (key, warning) = ApiKey::from_file(path, input_limit())?;
                if let Some(warning) = warning {
                    eprintln!(
                        "{} {}",
                        crate::label(crate::Label::Warning),
                        render::clean(&warning)
                    );
                }
                key
            }
            None => ApiKey::from_env(API_KEY_VAR)?.ok_or_else(|| iamsim_vultr::Error::NoKey {
                var: API_KEY_VAR.to_string(),
            })?,
        };
        let mut client = Client::new(key, self.client_options())?;
        if self.verbose > 0 {
            client.set_observer(|log| {
                let status = log
                    .status
                    .map_or("no response".to_string(), |s| s.to_string());
                eprintln!(
                    "note: {} {} -> {status} in {} ms (attempt {})",
                    log.method,
                    render::clean(&log.target),
                    log.elapsed.as_millis(),
                    log.attempt
                );
            });
        }
        Ok(client)
    }

    fn crawl_options(&self, strict: bool) -> CrawlOptions {
        CrawlOptions {
            per_page: self.per_page,
            organization: self.organization.clone(),
            root_user: self.root_user.clone(),
            strict,
            tool: concat!("iamsim ", env!("CARGO_PKG_VERSION")).to_string(),
            ..CrawlOptions::default()
        }
    }
}

/// `--rate`: a finite number of requests per second within the client's bounds; never
/// rounded into range.
fn parse_rate(text: &str) -> Result<f64, String> {
    let rate: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a number"))?;
    if !(rate.is_finite() && (MIN_RATE..=MAX_RATE).contains(&rate)) {
        return Err(format!(
            "`{text}` is out of range: at least {MIN_RATE} and at most {MAX_RATE} requests per second"
        ));
    }
    Ok(rate)
}

/// A one-line progress display on stderr, drawn only when stderr is a terminal.
struct ProgressLine {
    enabled: bool,
    last: Option<Instant>,
    drawn: bool,
}

impl ProgressLine {
    fn new() -> ProgressLine {
        ProgressLine {
            enabled: std::io::stderr().is_terminal(),
            last: None,
            drawn: false,
        }
    }

    fn update(&mut self, p: &Progress) {
        if !self.enabled
            || self
                .last
                .is_some_and(|t| t.elapsed() < Duration::from_millis(100))
        {
            return;
        }
        self.last = Some(Instant::now());
        let count = if p.total > 0 {
            format!(" {}/{}", p.done, p.total)
        } else {
            String::new()
        };
        let width = 30;
        let bar = if p.total > 0 {
            let filled = p.done * width / p.total.max(1);
            format!(" [{}{}]", "#".repeat(filled), "-".repeat(width - filled))
        } else {
            String::new()
        };
        eprint!(
            "\r\x1b[2Kcrawling {}{count}{bar} · {} requests",
            p.phase, p.requests
        );
        let _ = std::io::stderr().flush();
        self.drawn = true;
    }

    fn clear(&mut self) {
        if self.drawn {
            eprint!("\r\x1b[2K");
            let _ = std::io::stderr().flush();
            self.drawn = false;
        }
    }
}

/// Crawls, again up to `recrawl` times while inconsistent; prints the events as warnings.
fn crawl_reporting(
    client: &mut Client,
    options: &CrawlOptions,
    recrawl: u32,
    verbose: u8,
) -> Result<Crawl, Failure> {
    let mut progress = ProgressLine::new();
    let mut attempts = 0;
    let before = client.stats();
    let result = loop {
        attempts += 1;
        let result = crawl(client, options, &mut |p| progress.update(p));
        match result {
            Ok(c) if !c.info.consistent && attempts <= recrawl => {
                progress.clear();
                eprintln!(
                    "note: the crawl saw {} consistency event(s); crawling again ({attempts} of {recrawl})",
                    c.info.events.len()
                );
            }
            other => break other,
        }
    };
    progress.clear();
    let mut result = result?;
    // Every attempt's requests count: they all went into this snapshot.
    result.info.attempts = attempts;
    result.info.requests = client.stats().requests - before.requests;
    result.info.retries = client.stats().retries - before.retries;
    result.store_info()?;
    for event in &result.info.events {
        eprintln!(
            "{} {}",
            crate::label(crate::Label::Warning),
            render::clean(&event.to_string())
        );
    }
    if verbose > 1 {
        for field in &result.ignored_fields {
            eprintln!(
                "note: ignored a field Vultr does not document: {}",
                render::clean(field)
            );
        }
    }
    Ok(result)
}

/// The one-line summary: counts, then requests, retries and time of `elapsed` (the crawl
/// alone when `None`).
fn summary(crawl: &Crawl, elapsed: Option<Duration>) -> String {
    let c = &crawl.info.counts;
    let s = &crawl.snapshot.organization;
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    format!(
        "fetched `{}` ({}): {}, {}, {}, {}, {}; {} requests, {} retries, {:.1} s; {}",
        s.name,
        s.id,
        plural(c.users, "user", "users"),
        plural(c.groups, "group", "groups"),
        plural(c.roles, "role", "roles"),
        plural(c.policies, "policy", "policies"),
        plural(c.role_trusts, "role trust", "role trusts"),
        crawl.info.requests,
        crawl.info.retries,
        elapsed.map_or(crawl.info.duration_ms as f64 / 1000.0, |e| e.as_secs_f64()),
        if crawl.info.consistent {
            "consistent".to_string()
        } else {
            format!("NOT consistent ({} event(s))", crawl.info.events.len())
        }
    )
}

/// Fails early, before a long crawl, if the output's directory is missing.
fn check_output_dir(path: &Path) -> Result<(), Failure> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        return Err(Failure::new(format!(
            "{}: directory `{}` does not exist",
            path.display(),
            dir.display()
        )));
    }
    Ok(())
}

pub fn run(command: VultrCommand) -> Result<u8, Failure> {
    match command {
        VultrCommand::Fetch(args) => fetch(args),
        VultrCommand::RemoveMember(args) => remove_member(args),
        VultrCommand::Probe {
            sample,
            format,
            api,
        } => probe(sample, format, &api),
        VultrCommand::ServeFake(args) => serve_fake(args),
    }
}

/// `vultr fetch`: crawl (or replay), record, verify, write the snapshot; exit 1 if
/// `--verify` found differences.
fn fetch(args: FetchArgs) -> Result<u8, Failure> {
    let FetchArgs {
        output,
        verify: check,
        strict,
        recrawl,
        record,
        record_emails,
        replay,
        sessions,
        api,
    } = args;
    let started = Instant::now();
    if let Some(path) = &output {
        check_output_dir(path)?;
    }
    let mut client = fetch_client(replay.as_deref(), &api)?;
    if record.is_some() {
        client.start_recording(if record_emails {
            Emails::Kept
        } else {
            Emails::Hashed
        });
    }
    let options = CrawlOptions {
        sessions,
        ..api.crawl_options(strict)
    };
    let crawled = crawl_reporting(&mut client, &options, recrawl, api.verbose);
    // A recording is written even when the crawl failed: it shows what failed.
    if let (Some(dir), Some(recorder)) = (&record, client.take_recording()) {
        recorder.write(dir, client.base_path(), client.key())?;
        eprintln!(
            "note: recorded {} response(s) in {}",
            recorder.len(),
            render::clean(&dir.display().to_string())
        );
    }
    let mut result = crawled?;
    let code = if check {
        verify_crawl(&mut client, &mut result, api.per_page)?
    } else {
        0
    };
    result.check_no_secret(client.key())?;
    print_acl_notes(&result.snapshot);
    if let Err(e) = Org::compile(&result.snapshot, &Catalogue::bundled()) {
        eprintln!(
            "{} the crawled organization does not compile, so queries on it will fail: {}",
            crate::label(crate::Label::Warning),
            render::clean(&e.to_string())
        );
    }
    write_snapshot(&result.snapshot, output.as_deref())?;
    eprintln!(
        "{}",
        render::clean(&summary(&result, Some(started.elapsed())))
    );
    Ok(code)
}

/// The client `fetch` crawls with: the API's, or one that replays a recording.
fn fetch_client(replay: Option<&Path>, api: &Api) -> Result<Client, Failure> {
    match replay {
        None => api.client(),
        Some(dir) => {
            let recording = Replay::open(dir, input_limit())?;
            // Nothing is sent: no key is needed, and none is read.
            let key = ApiKey::new("iamsim-replay-no-key")?;
            let mut client = Client::new(key, api.client_options())?;
            client.replay_from(recording);
            Ok(client)
        }
    }
}

/// `fetch --verify`: compares each user with Vultr's own views, prints the differences and
/// stores the verification in the crawl's info; 1 if anything differs, else 0.
fn verify_crawl(client: &mut Client, result: &mut Crawl, per_page: u32) -> Result<u8, Failure> {
    let mut progress = ProgressLine::new();
    let verification = verify(client, &result.snapshot, per_page, &mut |p| {
        progress.update(p)
    });
    progress.clear();
    let verification = verification?;
    for difference in &verification.differences {
        eprintln!("verify: {}", render::clean(&difference.to_string()));
    }
    eprintln!(
        "verify: {} user(s) checked against Vultr's own views; {} difference(s)",
        verification.users_checked,
        verification.differences.len()
    );
    let code = u8::from(!verification.differences.is_empty());
    result.info.verify = Some(verification);
    // The client is this command's own: its counters are the crawl's and the
    // verification's requests together.
    result.info.requests = client.stats().requests;
    result.info.retries = client.stats().retries;
    result.store_info()?;
    Ok(code)
}

/// Writes the crawled snapshot to `output` (atomically), or to stdout, where a closed pipe is
/// not an error.
fn write_snapshot(snapshot: &iamsim_core::Snapshot, output: Option<&Path>) -> Result<(), Failure> {
    let mut json = serde_json::to_string_pretty(snapshot)?;
    json.push('\n');
    match output {
        Some(path) => write_atomically(path, json.as_bytes())?,
        None => {
            let mut stdout = std::io::stdout().lock();
            match stdout
                .write_all(json.as_bytes())
                .and_then(|()| stdout.flush())
            {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                    return Err(Failure::new(format!("stdout: {e}")))
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// The membership `vultr remove-member` removes, by id and by the names people know.
struct Membership {
    group_id: String,
    user_id: String,
    email: String,
    group_name: String,
}

/// `vultr remove-member`: crawl, show the impact, stop at a gate or `--dry-run`; otherwise
/// confirm, delete the membership, check it is gone, re-crawl and compare with the prediction.
fn remove_member(args: RemoveMemberArgs) -> Result<u8, Failure> {
    let gates = GateCheck::loses(&args.fail_if_loses)?;
    let catalogue = read_catalogue(args.catalogue.as_deref())?;
    let api = &args.api;
    let mut client = api.client()?;
    let options = api.crawl_options(false);
    let before = crawl_reporting(&mut client, &options, 0, api.verbose)?;
    eprintln!("{}", render::clean(&summary(&before, None)));
    let Some(membership) = predict_removal(&args, &before, &client, &gates, &catalogue)? else {
        eprintln!("note: a gate tripped; nothing was changed on Vultr");
        return Ok(1);
    };
    if args.dry_run {
        eprintln!("note: --dry-run; nothing was changed on Vultr");
        return Ok(0);
    }
    let Membership {
        group_id,
        user_id,
        email,
        group_name,
    } = &membership;
    check_events(
        &before,
        group_id,
        user_id,
        &format!("`{email}` or `{group_name}`"),
        args.accept_api_quirks,
    )?;
    if !args.yes {
        confirm(email, group_name)?;
    }
    // Vultr's procedure: list the members, delete the membership, check it is gone.
    if !apply::is_member(&mut client, group_id, user_id)? {
        return Err(Failure::new(format!(
            "`{email}` is no longer a member of `{group_name}` on Vultr; nothing was changed"
        )));
    }
    if let Some(code) = delete_membership(&mut client, api, &membership)? {
        return Ok(code);
    }
    eprintln!("note: checked: Vultr no longer lists them as a member; crawling again to compare with the prediction");
    let after = crawl_reporting(&mut client, &options, 0, api.verbose)?;
    compare_recrawl(&before, &after, &membership, &catalogue)?;
    Ok(0)
}

/// The impact of the removal on the crawled organization, on stdout, with a warning when a
/// legacy ACL keeps the user's access within reach; the membership, or `None` if a gate
/// tripped.
fn predict_removal(
    args: &RemoveMemberArgs,
    before: &Crawl,
    client: &Client,
    gates: &GateCheck,
    catalogue: &Catalogue,
) -> Result<Option<Membership>, Failure> {
    let org = compile_with(
        &before.snapshot,
        "the crawled organization",
        catalogue,
        false,
        CompileOptions {
            precedence: args.precedence.into(),
            ..Default::default()
        },
    )?;
    gates.validate(&[&org])?;
    let user_key = org.find_user(&args.user).map_err(crate::suggest::lookup)?;
    let group_key = org
        .find_group(&args.group)
        .map_err(crate::suggest::lookup)?;
    let user_id = org.user_id(user_key).to_string();
    let group_id = org.group_id(group_key).to_string();
    let impact = org.simulate(&[Change::RemoveMember {
        group: group_key,
        user: user_key,
    }])?;
    let view = render::ImpactView::default();
    let output = crate::Output {
        format: args.format,
        mermaid_max_edges: crate::MERMAID_MAX_EDGES,
    };
    emit(output, &impact, |m| render::impact(&impact, m, &view))?;
    let user = before.snapshot.users.iter().find(|u| u.id == user_id);
    if let Some(note) = user.and_then(legacy::acl_note) {
        eprintln!(
            "{} {}; what the impact says they lose may stay within their reach through it",
            crate::label(crate::Label::Warning),
            render::clean(&client.key().redact(&note))
        );
    }
    if gates.check_impact(&impact, &org) != 0 {
        return Ok(None);
    }
    let email = user.map(|u| u.email.clone()).unwrap_or_default();
    let group_name = before
        .snapshot
        .groups
        .iter()
        .find(|g| g.id == group_id)
        .map(|g| g.display_name.clone())
        .unwrap_or_default();
    Ok(Some(Membership {
        group_id,
        user_id,
        email,
        group_name,
    }))
}

/// Deletes the membership and checks it is gone. `Some(code)` ends the command (the failure
/// printed): the DELETE failed and Vultr still lists the member (2), or could not be asked
/// (3); `None` when the membership is gone.
fn delete_membership(
    client: &mut Client,
    api: &Api,
    membership: &Membership,
) -> Result<Option<u8>, Failure> {
    let Membership {
        group_id,
        user_id,
        email,
        group_name,
    } = membership;
    let status = match apply::delete_member(client, group_id, user_id) {
        Ok(status) => status,
        Err(e) => return Ok(settle_failed_delete(&e, client, api, membership)),
    };
    if status == 404 {
        eprintln!(
            "note: DELETE answered 404: `{}` was no longer a member of `{}` (removed by an earlier try, or by someone else)",
            render::clean(email),
            render::clean(group_name)
        );
    } else if status != 0 {
        eprintln!(
            "note: removed `{}` from `{}` (DELETE answered {status})",
            render::clean(email),
            render::clean(group_name)
        );
    }
    if status == 0 {
        return Ok(None);
    }
    if apply::is_member(client, group_id, user_id)? {
        report_outcome("not_removed", group_id, user_id, None);
        return Err(Failure::new(format!(
            "verification failed: `{email}` is still a member of `{group_name}` after DELETE answered {status}"
        )));
    }
    report_outcome("removed", group_id, user_id, None);
    Ok(None)
}

/// A DELETE with no definite answer (a timeout, a reset, a 5xx; or a refusal after an earlier
/// try that may have gone through): asks Vultr what happened, on a fresh client so that a
/// spent overall timeout does not stop the check. `None` if the membership is gone, else the
/// exit code, the failure printed.
fn settle_failed_delete(
    e: &iamsim_vultr::Error,
    client: &Client,
    api: &Api,
    membership: &Membership,
) -> Option<u8> {
    let Membership {
        group_id,
        user_id,
        email,
        group_name,
    } = membership;
    let check = api
        .client()
        .and_then(|mut c| apply::is_member(&mut c, group_id, user_id).map_err(Failure::from));
    let failed = render::clean(&iamsim_vultr::chain(e));
    let hint = e.hint();
    let (code, failure) = match check {
        Ok(false) => {
            report_outcome("removed", group_id, user_id, None);
            eprintln!(
                "note: the DELETE failed ({failed}), but Vultr no longer lists `{}` as a member of `{}`: removed (verified)",
                render::clean(email),
                render::clean(group_name)
            );
            return None;
        }
        Ok(true) => {
            report_outcome("not_removed", group_id, user_id, None);
            (
                2,
                Failure {
                    message: format!(
                        "{failed}; Vultr still lists `{email}` as a member of `{group_name}`: not removed"
                    ),
                    hint,
                },
            )
        }
        Err(why) => {
            let command = check_command(client, group_id);
            report_outcome("unknown", group_id, user_id, Some(&command));
            (
                3,
                Failure::new(format!(
                    "{failed}; the membership could not be checked ({}): `{email}` may or may not have been removed from `{group_name}` (outcome unknown)",
                    why.message
                ))
                .with_hint(format!("check with: {command}")),
            )
        }
    };
    failure.print();
    Some(code)
}

/// Compares the re-crawl with the crawl less the membership: other changes are warnings, a
/// difference for the user fails the command.
fn compare_recrawl(
    before: &Crawl,
    after: &Crawl,
    membership: &Membership,
    catalogue: &Catalogue,
) -> Result<(), Failure> {
    let Membership {
        group_id,
        user_id,
        email,
        ..
    } = membership;
    let predicted = apply::without_member(&before.snapshot, group_id, user_id);
    let check = apply::check_prediction(&predicted, &after.snapshot, user_id, catalogue)?;
    for change in &check.other_changes {
        eprintln!(
            "{} the organization also changed elsewhere: {}",
            crate::label(crate::Label::Warning),
            render::clean(change)
        );
    }
    if !check.matches() {
        for difference in &check.user_differences {
            eprintln!("note: {}", render::clean(difference));
        }
        return Err(Failure::new(format!(
            "the re-crawl does not match the prediction for `{email}`: {} difference(s), listed above",
            check.user_differences.len()
        )));
    }
    eprintln!(
        "verified: the re-crawl matches the prediction for `{}`",
        render::clean(email)
    );
    Ok(())
}

/// `vultr serve-fake`: serves until killed.
fn serve_fake(args: ServeFakeArgs) -> Result<u8, Failure> {
    let ServeFakeArgs {
        snapshot,
        port,
        faults,
        omit_documents,
        other_shapes,
    } = args;
    let organization = read_snapshot(&snapshot)?;
    let faults: Vec<Fault> = match &faults {
        None => Vec::new(),
        Some(path) => read_faults(path)?,
    };
    let name = organization.organization.name.clone();
    let mut options = FakeOptions {
        faults,
        list_omits_documents: omit_documents,
        ..FakeOptions::default()
    };
    if other_shapes {
        options.policy_users.holders = true;
        options.shapes = iamsim_vultr::fake::Shapes {
            empty_members: iamsim_vultr::fake::EmptyMembers::Null,
            total_counts_pages: true,
            member_ids_are_memberships: true,
        };
    }
    let server = FakeServer::start_on(
        organization,
        options,
        SocketAddr::from(([127, 0, 0, 1], port)),
    )
    .map_err(|e| Failure::new(format!("cannot serve on 127.0.0.1:{port}: {e}")))?;
    println!("{}", server.base_url());
    let _ = std::io::stdout().flush();
    eprintln!(
        "note: serving `{}` as a fake Vultr API at {}; stop with Ctrl-C",
        render::clean(&name),
        server.base_url()
    );
    server.join();
    Ok(0)
}

/// `serve-fake --faults`: a JSON array of scripted faults.
fn read_faults(path: &Path) -> Result<Vec<Fault>, Failure> {
    let text = read_text(path)?;
    let mut de = serde_json::Deserializer::from_str(&text);
    let faults = serde_path_to_error::deserialize(&mut de)
        .map_err(|e| Failure::new(format!("{}: {e}", path.display())))?;
    de.end()
        .map_err(|e| Failure::new(format!("{}: {e}", path.display())))?;
    Ok(faults)
}

/// `vultr probe`: the report on stdout, a count of what differs on stderr; exit 0 whatever
/// it found.
fn probe(sample: u32, format: ProbeFormat, api: &Api) -> Result<u8, Failure> {
    let mut client = api.client()?;
    let options = iamsim_vultr::probe::ProbeOptions {
        per_page: api.per_page,
        sample: sample as usize,
        tool: concat!("iamsim ", env!("CARGO_PKG_VERSION")).to_string(),
    };
    let report = iamsim_vultr::probe::probe(&mut client, &options)?;
    match format {
        ProbeFormat::Text => crate::emit_text(&report.to_text())?,
        ProbeFormat::Json => crate::emit_json(&report)?,
    }
    let differs = report
        .checks
        .iter()
        .filter(|c| c.verdict == iamsim_vultr::probe::Verdict::Differs)
        .count();
    eprintln!(
        "note: {} check(s), {differs} where this account differs from what iamsim assumes; {} requests",
        report.checks.len(),
        report.requests
    );
    Ok(0)
}

/// Warns about users whose legacy ACLs give access outside IAM: at most 20 lines, then a count.
fn print_acl_notes(snapshot: &iamsim_core::Snapshot) {
    const SHOWN: usize = 20;
    let notes = legacy::acl_notes(snapshot);
    for note in notes.iter().take(SHOWN) {
        eprintln!(
            "{} {}",
            crate::label(crate::Label::Warning),
            render::clean(note)
        );
    }
    if notes.len() > SHOWN {
        eprintln!(
            "{} and {} more user(s) with legacy ACLs (the snapshot's `users[].acls`)",
            crate::label(crate::Label::Warning),
            notes.len() - SHOWN
        );
    }
}

/// Refuses to change Vultr when a consistency event of the crawl touches the change (names the
/// user, the group, or anything that reaches the user, or names nothing in particular); events
/// about other parts of the organization were already printed as warnings and do not block.
/// A known fault of Vultr's API blocks too, unless `accept` (`--accept-api-quirks`).
fn check_events(
    crawl: &Crawl,
    group_id: &str,
    user_id: &str,
    who: &str,
    accept: bool,
) -> Result<(), Failure> {
    let relevant = apply::relevant_ids(&crawl.snapshot, group_id, user_id);
    let (quirks, others) = apply::touching_events(&crawl.info.events, &relevant);
    if let Some(first) = others.first() {
        return Err(Failure::new(format!(
            "{} consistency event(s) concern {who}, so the prediction may be wrong; nothing was changed; first: {first}",
            others.len()
        ))
        .with_hint("re-check with `iamsim vultr fetch --recrawl 3`; if the disagreement stays, compare the endpoints it names by hand"));
    }
    if let Some(first) = quirks.first() {
        if !accept {
            return Err(Failure::new(format!(
                "{} known API quirk(s) concern {who}; nothing was changed; first: {first}",
                quirks.len()
            ))
            .with_hint("these are known faults of Vultr's API (docs/vultr.md, remove-member); to go on despite them, add --accept-api-quirks"));
        }
        for quirk in &quirks {
            eprintln!(
                "{} going on despite a known API quirk (--accept-api-quirks): {}",
                crate::label(crate::Label::Warning),
                render::clean(&quirk.to_string())
            );
        }
    }
    Ok(())
}

/// The outcome of a DELETE, as one machine-readable stderr line: `outcome: ` and a JSON object
/// with `outcome` (`removed`, verified by a GET; `not_removed`; `unknown`), the group and user
/// ids and, when unknown, the command that checks.
fn report_outcome(outcome: &str, group_id: &str, user_id: &str, check: Option<&str>) {
    let mut value = serde_json::json!({
        "outcome": outcome,
        "group_id": group_id,
        "user_id": user_id,
    });
    if let Some(check) = check {
        value["check"] = serde_json::Value::String(check.to_string());
    }
    eprintln!("outcome: {value}");
}

/// The exact command that shows whether the membership is still there: the group's members
/// as Vultr lists them. The key is named by its variable, never written out.
fn check_command(client: &Client, group_id: &str) -> String {
    let url = format!(
        "{}/groups/{}/members",
        client.options().base_url.trim_end_matches('/'),
        iamsim_vultr::encode(group_id)
    );
    client.key().redact(&format!(
        "curl -sS -H \"Authorization: Bearer ${API_KEY_VAR}\" '{url}'"
    ))
}

/// Asks on the terminal; refuses without one.
fn confirm(email: &str, group: &str) -> Result<(), Failure> {
    if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        return Err(
            Failure::new("refusing to change Vultr without a terminal to confirm on")
                .with_hint("pass --yes to apply without asking"),
        );
    }
    eprint!(
        "Remove `{}` from group `{}` on Vultr? Type `yes` to apply: ",
        render::clean(email),
        render::clean(group)
    );
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| Failure::new(format!("stdin: {e}")))?;
    if answer.trim().eq_ignore_ascii_case("yes") {
        Ok(())
    } else {
        Err(Failure::new(
            "not confirmed; nothing was changed".to_string(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// Every argument backed by an environment variable hides its value in `--help`, so that
    /// a secret in the environment is never printed.
    #[test]
    fn env_backed_arguments_hide_their_values() {
        fn walk(command: &clap::Command, found: &mut Vec<String>) {
            for arg in command.get_arguments() {
                if let Some(env) = arg.get_env() {
                    assert!(
                        arg.is_hide_env_values_set(),
                        "`{}` of `{}` reads {env:?} but shows its value",
                        arg.get_id(),
                        command.get_name()
                    );
                    found.push(arg.get_id().to_string());
                }
            }
            for sub in command.get_subcommands() {
                walk(sub, found);
            }
        }
        let mut found = Vec::new();
        walk(&crate::Cli::command(), &mut found);
        // The walk must have seen the env-backed arguments it guards.
        assert!(found.iter().any(|id| id == "api_key_file"), "{found:?}");
    }
}
