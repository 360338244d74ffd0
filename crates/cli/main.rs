//! `iamsim`: what will this IAM change do to people's access?
//!
//! Data goes to stdout only; notes, warnings and errors go to stderr. Exit codes follow diff(1):
//! 0 ran and no gate tripped, 1 a gate tripped, 2 an error.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use iamsim_core::gate::{self, Gate, GateOutcome, HitKind, Side};
use iamsim_core::model::PolicyDocument;
use iamsim_core::policy::ActionPattern;
use iamsim_core::report::ImpactOverview;
use iamsim_core::{
    trust::TrustContext, Catalogue, Change, ChangeSetFailure, ChangeSpec, CompileOptions, Compiled,
    Detail, Org, Precedence, SimulateOptions, Snapshot,
};

mod export;
mod graph;
mod html;
mod json;
mod progress;
mod render;
mod suggest;
mod terraform;
mod vultr;

use render::Mode;

const DEMO: &str = include_str!("demo.json");

#[derive(Parser)]
#[command(
    name = "iamsim",
    version = env!("IAMSIM_VERSION"),
    about = "What will this Vultr IAM change do to people's access? Effective permissions with every path, and what-ifs.",
    after_help = "Without --snapshot, commands run on a built-in demo organization.\nExit codes: 0 ran, 1 a gate tripped, 2 error."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// The most bytes any input file may hold (`-` is stdin), such as `4GiB` or `500MiB`.
    /// Default: 2 GiB for snapshots, 64 MiB for catalogues, change files, policy documents and
    /// key files.
    #[arg(long, value_name = "SIZE", global = true, value_parser = iamsim_vultr::files::parse_size)]
    max_input_size: Option<u64>,
    /// Colour: `auto` (on a terminal, unless `NO_COLOR` is set; `CLICOLOR_FORCE` forces it),
    /// `always` or `never`.
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorArg::Auto, global = true)]
    color: ColorArg,
}

/// `--color`.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ColorArg {
    /// On a terminal, unless `NO_COLOR` is set (non-empty); `CLICOLOR_FORCE` (non-empty, not
    /// `0`) turns it on off a terminal.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// `--color`, set once before the command runs.
static COLOR: std::sync::OnceLock<ColorArg> = std::sync::OnceLock::new();

/// `--max-input-size`, set once before the command runs.
static MAX_INPUT_SIZE: std::sync::OnceLock<u64> = std::sync::OnceLock::new();

/// The cap on a snapshot file.
fn snapshot_limit() -> u64 {
    MAX_INPUT_SIZE
        .get()
        .copied()
        .unwrap_or(iamsim_vultr::files::SNAPSHOT_LIMIT)
}

/// The cap on every other input file.
pub(crate) fn input_limit() -> u64 {
    MAX_INPUT_SIZE
        .get()
        .copied()
        .unwrap_or(iamsim_vultr::files::INPUT_LIMIT)
}

#[derive(Subcommand)]
enum Command {
    /// A user's effective permissions, with every path that grants or denies them.
    Effective {
        /// User id or email.
        #[arg(long)]
        user: String,
        #[command(flatten)]
        input: Input,
        #[command(flatten)]
        output: Output,
    },
    /// Why one action on one resource is allowed or denied for a user, with every path.
    Explain {
        /// User id or email.
        #[arg(long)]
        user: String,
        /// A concrete action, such as `compute.instance.Create`.
        #[arg(long)]
        action: String,
        /// `*` (any resource), `type:*`, or a resource id.
        #[arg(long, default_value = "*")]
        resource: String,
        #[command(flatten)]
        input: Input,
        #[command(flatten)]
        output: Output,
    },
    /// What changes would do to people's access, before anyone makes them.
    Impact(ImpactArgs),
    /// The access graph of an answer (users, groups, roles, policies, statements) as DOT,
    /// Mermaid, GraphML or JSON: `iamsim graph --user ana@acme.example | dot -Tsvg > ana.svg`.
    Graph(graph::GraphArgs),
    /// Vultr's API: fetch a snapshot, remove a member safely, serve a fake API.
    #[command(subcommand)]
    Vultr(vultr::VultrCommand),
    /// Every user allowed to do an action, with all paths; and those an explicit Deny blocks.
    WhoCan {
        /// A concrete action, such as `compute.instance.Create`.
        #[arg(long)]
        action: String,
        /// `*` (any resource), `type:*`, or a resource id.
        #[arg(long, default_value = "*")]
        resource: String,
        #[command(flatten)]
        input: Input,
        #[command(flatten)]
        output: Output,
    },
    /// Every user's effective access as rows, CSV or JSON Lines, streamed (docs/output-format.md,
    /// "export").
    Export(export::ExportArgs),
    /// Memberships and attachments whose removal loses nothing for anyone, and Allow statements
    /// shadowed by Denies everywhere they reach.
    Redundant {
        /// Narrow to the edges of GROUP (id or display name): its memberships and the policies
        /// and roles attached to it; Allow statements only of the policies attached to it.
        /// Repeatable; with --user too, the edges that touch any of them.
        #[arg(long, value_name = "GROUP")]
        group: Vec<String>,
        /// Narrow to the edges of USER (id or email): their memberships, direct policies and
        /// roles; Allow statements only of their direct policies. Repeatable; with --group too,
        /// the edges that touch any of them.
        #[arg(long, value_name = "USER")]
        user: Vec<String>,
        #[command(flatten)]
        input: Input,
        #[command(flatten)]
        output: Output,
    },
    /// What changed between two snapshots: per user, access gained and lost, with paths.
    Diff {
        /// The older snapshot.
        old: PathBuf,
        /// The newer snapshot.
        new: PathBuf,
        #[command(flatten)]
        gates: Gates,
        #[command(flatten)]
        model: Model,
        #[command(flatten)]
        output: Output,
    },
    /// Write a synthetic organization (snapshot v1) for trials and benchmarks; deterministic
    /// for a seed.
    Generate(GenerateArgs),
    /// Every membership, role and direct policy of a user, ranked by what its removal takes away.
    Rank {
        /// User id or email.
        #[arg(long)]
        user: String,
        /// Keep only removals after which the user still has PATTERN. Repeatable.
        #[arg(long, value_name = "PATTERN")]
        keep: Vec<String>,
        /// Keep only removals that take PATTERN away. Repeatable.
        #[arg(long, value_name = "PATTERN")]
        drop: Vec<String>,
        #[command(flatten)]
        input: Input,
        #[command(flatten)]
        output: Output,
    },
    /// Print a shell completion script: `iamsim completions bash > ~/.local/share/bash-completion/completions/iamsim`
    /// (README, "Shell completions and man page").
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): `iamsim man > ~/.local/share/man/man1/iamsim.1`.
    Man,
    /// Print the JSON Schema that every `--format json` report validates against
    /// (`schema/output.v5.json` in the repository).
    Schema,
    /// Print the change file a Terraform plan (`terraform show -json PLANFILE`) maps to; what
    /// cannot be mapped is listed on stderr (docs/terraform.md).
    TerraformChanges {
        /// The plan, as `terraform show -json PLANFILE` writes it.
        plan: PathBuf,
        /// The organization the changes are for: for a set unknown until apply, its current
        /// members give the worst case (without it, the plan's prior values do).
        #[arg(long, value_name = "FILE")]
        snapshot: Option<PathBuf>,
    },
}

/// `iamsim generate`.
#[derive(Args)]
struct GenerateArgs {
    /// The organization's shape: `classic` (skewed group sizes, the largest about 5% of
    /// users) or `broad` (a Zipf head: the largest group about 40% of users, policies and
    /// roles on every group, statements of 5 to 40 patterns).
    #[arg(long, value_enum, default_value_t = ShapeArg::Classic)]
    shape: ShapeArg,
    /// Number of users (at most 10,000,000).
    #[arg(long, default_value_t = 1_000)]
    users: usize,
    /// Number of groups (at most 1,000,000). Default: 100 (classic), one per 10 users (broad).
    #[arg(long)]
    groups: Option<usize>,
    /// Number of roles (at most 1,000,000). Default: 40 (classic), one per 50 users (broad).
    #[arg(long)]
    roles: Option<usize>,
    /// Number of policies (at most 1,000,000). Default: 100 (classic), one per 20 users
    /// (broad).
    #[arg(long)]
    policies: Option<usize>,
    /// Number of distinct actions statements draw from (at most 100,000): the bundled
    /// catalogue's first, synthetic ones (`svcS.resR.Op`, unknown to the catalogue) beyond.
    /// Default: the catalogue's size, 141 (classic), 2,000 (broad); 300 with
    /// --synthetic-names.
    #[arg(long)]
    actions: Option<usize>,
    /// Classic shape: synthetic action names only, as the benches use (`Params::small` and
    /// the like, byte for byte). The organization then raises an `unknown-action` warning
    /// per action unless given their catalogue (`--catalogue`).
    #[arg(long)]
    synthetic_names: bool,
    /// Seed of the pseudo-random sequence.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Output file (written atomically). Default: stdout.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
}

#[derive(Args)]
struct ImpactArgs {
    /// A change file: a JSON array of changes, applied together as one step.
    #[arg(long, value_name = "FILE")]
    changes: Option<PathBuf>,
    /// A Terraform plan (`terraform show -json PLANFILE`): its Vultr IAM changes, applied
    /// together as one step (docs/terraform.md).
    #[arg(long, value_name = "PLAN.json")]
    terraform_plan: Option<PathBuf>,
    /// With --terraform-plan: let the gates judge the mapped changes alone, even when the plan
    /// holds changes iamsim cannot simulate (values unknown until apply, incomplete plans).
    #[arg(long)]
    allow_unknown: bool,
    #[command(subcommand)]
    kind: Option<ImpactKind>,
    #[command(flatten)]
    input: Input,
    #[command(flatten)]
    output: Output,
    #[command(flatten)]
    gates: Gates,
    /// Skip a change that does nothing (detaching what is not attached) instead of failing.
    #[arg(long, global = true)]
    allow_noop: bool,
    /// The summary alone: users reached and affected, permissions lost, kept and gained, the
    /// actions most lost and the users most affected. Faster: no entry is built (unless a
    /// gate needs them).
    #[arg(long, global = true)]
    summary: bool,
    /// List at most N users in full, most lost first, and count the rest (0: every user).
    /// Default: 20 in a table, as many as fit a GitHub comment (65,536 characters) in
    /// Markdown, 1,000 in HTML, every user in JSON.
    #[arg(long, value_name = "N", global = true)]
    limit: Option<usize>,
    /// Table, Markdown and HTML: list what each user keeps in full (by default it is counted by the
    /// group, role or direct policy that carries it).
    #[arg(long, global = true)]
    show_kept: bool,
    /// JSON: one entry per (action, resource) with every path written out from the user,
    /// instead of shared entries and paths (much larger on wide changes).
    #[arg(long, global = true)]
    per_action: bool,
}

/// Users a table lists in full unless `--limit` says otherwise.
const TABLE_LIMIT: usize = 20;

/// What a Markdown report fits in unless `--limit` says otherwise: a GitHub comment.
const MARKDOWN_BUDGET: usize = 65_536;

/// One change, on the command line. Entities by id or name (users by id or email).
#[derive(Subcommand)]
pub(crate) enum ImpactKind {
    /// Take a user out of a group.
    RemoveMember {
        #[arg(long)]
        group: String,
        #[arg(long)]
        user: String,
    },
    /// Put a user in a group.
    AddMember {
        #[arg(long)]
        group: String,
        #[arg(long)]
        user: String,
    },
    /// Detach a policy from a user, a group or a role.
    DetachPolicy {
        #[arg(long)]
        policy: String,
        #[command(flatten)]
        holder: Holder,
    },
    /// Attach a policy to a user, a group or a role.
    AttachPolicy {
        #[arg(long)]
        policy: String,
        #[command(flatten)]
        holder: Holder,
    },
    /// Detach a role from a user or a group.
    DetachRole {
        #[arg(long)]
        role: String,
        #[command(flatten)]
        principal: Principal,
    },
    /// Attach a role to a user or a group.
    AttachRole {
        #[arg(long)]
        role: String,
        #[command(flatten)]
        principal: Principal,
    },
    /// Delete a group.
    DeleteGroup {
        #[arg(long)]
        group: String,
    },
    /// Delete a role (and its trusts).
    DeleteRole {
        #[arg(long)]
        role: String,
    },
    /// Delete a policy (and every attachment of it).
    DeletePolicy {
        #[arg(long)]
        policy: String,
    },
    /// Suspend a user.
    SuspendUser {
        #[arg(long)]
        user: String,
    },
    /// Lift a user's suspension.
    UnsuspendUser {
        #[arg(long)]
        user: String,
    },
    /// Remove a user from the organization.
    RemoveUser {
        #[arg(long)]
        user: String,
    },
    /// Replace a custom policy's document with the one in FILE (`{"Version", "Statement"}`).
    ReplacePolicyDocument {
        #[arg(long)]
        policy: String,
        #[arg(long, value_name = "FILE")]
        document: PathBuf,
    },
    /// Delete a role trust.
    DeleteRoleTrust {
        #[arg(long)]
        trust: String,
    },
}

#[derive(Args)]
#[group(required = true, multiple = false)]
struct Holder {
    /// The user (id or email).
    #[arg(long)]
    user: Option<String>,
    /// The group (id or display name).
    #[arg(long)]
    group: Option<String>,
    /// The role (id or name).
    #[arg(long)]
    role: Option<String>,
}

#[derive(Args)]
#[group(required = true, multiple = false)]
struct Principal {
    /// The user (id or email).
    #[arg(long)]
    user: Option<String>,
    /// The group (id or display name).
    #[arg(long)]
    group: Option<String>,
}

/// The model a command reads: the snapshot and how to read and compile it. Every command
/// that answers from a snapshot flattens it, `graph` included.
#[derive(Args)]
pub(crate) struct Input {
    /// Snapshot file (iamsim.snapshot.v1 JSON). Default: `IAMSIM_SNAPSHOT`, else the built-in
    /// demo organization.
    #[arg(
        long,
        value_name = "FILE",
        global = true,
        env = "IAMSIM_SNAPSHOT",
        hide_env_values = true
    )]
    snapshot: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) model: Model,
}

/// How a snapshot is read and compiled, and the threads that work on it: the flags of
/// [`Input`] but the snapshot (`diff` names its two snapshots itself).
#[derive(Args)]
pub(crate) struct Model {
    /// Action catalogue, one action per line; replaces the bundled one.
    #[arg(long, value_name = "FILE", global = true)]
    catalogue: Option<PathBuf>,
    /// Treat every snapshot diagnostic (dangling id, unknown action, ...) as an error.
    #[arg(long, global = true)]
    strict: bool,
    /// Threads for org-wide work: the command runs in a pool of N threads (default: the cores
    /// available, or `RAYON_NUM_THREADS`). The output is the same whatever the number.
    #[arg(long, value_name = "N", global = true)]
    threads: Option<usize>,
    /// Which wins between an Allow and a Deny that cover the same action and resource:
    /// `deny-wins` (a Deny on any path) or `nearest-wins` (the attachment nearest the user;
    /// at equal distance a Deny). Vultr does not document it; see docs/semantics.md §4.
    #[arg(long, value_enum, default_value_t = PrecedenceArg::DenyWins, global = true)]
    precedence: PrecedenceArg,
    /// Judge role-trust conditions (time of day, days of the week, expiry) at this instant,
    /// RFC 3339 (`2026-03-02T18:30:00Z`): a trust whose condition fails is not assumable.
    /// Default: conditions are listed, not judged (docs/semantics.md, "Role trusts").
    #[arg(long, value_name = "RFC3339", global = true, value_parser = parse_instant)]
    at: Option<jiff::Timestamp>,
    /// Judge role-trust IP ranges for an assumption from this address.
    #[arg(long, value_name = "IP", global = true)]
    from: Option<std::net::IpAddr>,
}

/// `--at`: an RFC 3339 instant with its offset.
fn parse_instant(text: &str) -> Result<jiff::Timestamp, String> {
    text.parse().map_err(|e| {
        format!("expected an RFC 3339 instant with an offset, such as 2026-03-02T18:30:00Z ({e})")
    })
}

/// The largest graph (in edges) drawn as Mermaid in Markdown unless `--mermaid-max-edges` says
/// otherwise: beyond it, a drawing in a comment is too dense to read.
pub(crate) const MERMAID_MAX_EDGES: usize = 40;

/// [`Precedence`] as the command line names it.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum PrecedenceArg {
    /// An explicit Deny on any of the user's paths overrides every Allow.
    DenyWins,
    /// The most specific attachment decides: direct policy, then role or group, then group role.
    NearestWins,
}

impl From<PrecedenceArg> for Precedence {
    fn from(arg: PrecedenceArg) -> Precedence {
        match arg {
            PrecedenceArg::DenyWins => Precedence::DenyWins,
            PrecedenceArg::NearestWins => Precedence::NearestWins,
        }
    }
}

impl Command {
    /// `--threads`, for the commands that take it.
    fn threads(&self) -> Option<usize> {
        match self {
            Command::Effective { input, .. }
            | Command::Explain { input, .. }
            | Command::WhoCan { input, .. }
            | Command::Redundant { input, .. }
            | Command::Rank { input, .. } => input.model.threads,
            Command::Export(args) => args.input.model.threads,
            Command::Impact(args) => args.input.model.threads,
            Command::Graph(args) => args.threads(),
            Command::Diff { model, .. } => model.threads,
            Command::Vultr(_)
            | Command::Generate(_)
            | Command::Completions { .. }
            | Command::Man
            | Command::Schema
            | Command::TerraformChanges { .. } => None,
        }
    }
}

/// The rayon pool a command runs in: `threads` threads (0 counts as 1), or rayon's default
/// (`RAYON_NUM_THREADS`, else the cores available). The engine does its org-wide work on it.
fn pool(threads: Option<usize>) -> Result<rayon::ThreadPool, Failure> {
    // The command runs on a worker rather than the main thread: give the workers the main
    // thread's usual stack (8 MiB on Linux) rather than a spawned thread's 2 MiB.
    let builder = rayon::ThreadPoolBuilder::new().stack_size(8 << 20);
    let builder = match threads {
        Some(n) => builder.num_threads(n.max(1)),
        None => builder,
    };
    builder
        .build()
        .map_err(|e| Failure::new(format!("cannot start the worker threads: {e}")))
}

#[derive(Args)]
struct Gates {
    /// Exit 1 if anyone loses an action matching PATTERN (as in policies: `compute.*`). Repeatable.
    #[arg(long = "fail-if-loses", value_name = "PATTERN", global = true)]
    fail_if_loses: Vec<String>,
    /// Exit 1 if anyone gains an action matching PATTERN. Repeatable.
    #[arg(long = "fail-if-gains", value_name = "PATTERN", global = true)]
    fail_if_gains: Vec<String>,
    /// Exit 1 if anyone loses anything (`lost`), gains anything (`gained`), or either (`any`).
    #[arg(long = "fail-on", value_enum, global = true)]
    fail_on: Option<FailOn>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FailOn {
    Lost,
    Gained,
    Any,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// For people: grouped, readable in 80 columns.
    Table,
    /// For programs: versioned JSON (see docs/output-format.md).
    Json,
    /// For tickets and pull-request comments.
    Markdown,
    /// One self-contained HTML page to open in a browser or send (docs/output-format.md).
    Html,
}

/// `generate --shape`: `iamsim_core::generate::Shape` as a flag value.
#[derive(Clone, Copy, ValueEnum)]
enum ShapeArg {
    /// Skewed group sizes with a small head; the first shape, unchanged.
    Classic,
    /// A large company's shape: a Zipf head, policies and roles on every group.
    Broad,
}

/// A failure that ends the command with exit code 2: a one-line message (the `error:` line)
/// and, when there is advice, a hint printed on its own line after it.
pub(crate) struct Failure {
    pub(crate) message: String,
    pub(crate) hint: Option<String>,
}

impl Failure {
    pub(crate) fn new(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            hint: None,
        }
    }

    pub(crate) fn with_hint(mut self, hint: impl Into<String>) -> Failure {
        self.hint = Some(hint.into());
        self
    }

    /// Prints the `error:` line, then the `hint:` line if any. Names from the snapshot or the
    /// command line may hold newlines or escapes: each line stays one line and inert.
    pub(crate) fn print(&self) {
        eprintln!("{} {}", label(Label::Error), render::clean(&self.message));
        if let Some(hint) = &self.hint {
            eprintln!("{} {}", label(Label::Hint), render::clean(hint));
        }
    }
}

/// Any error becomes its message; an error of the Vultr adapter becomes its whole source chain
/// (`iamsim_vultr::chain`) and brings its hint.
impl<E: std::error::Error + 'static> From<E> for Failure {
    fn from(e: E) -> Failure {
        let any: &(dyn std::error::Error + 'static) = &e;
        match any.downcast_ref::<iamsim_vultr::Error>() {
            Some(vultr) => Failure {
                message: iamsim_vultr::chain(vultr),
                hint: vultr.hint(),
            },
            None => Failure::new(e.to_string()),
        }
    }
}

/// The CLI's allocator: a what-if on a large organization builds and frees millions of small
/// vectors on several threads, where glibc's allocator spent about a sixth of the run
/// (docs/performance-history.md, session 22). The library leaves the choice to its callers.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // An empty `IAMSIM_SNAPSHOT` is unset (as an empty `NO_COLOR` is), not an empty path.
    // Removed before any thread starts.
    if std::env::var_os("IAMSIM_SNAPSHOT").is_some_and(|v| v.is_empty()) {
        std::env::remove_var("IAMSIM_SNAPSHOT");
    }
    let cli = match parse() {
        Ok(cli) => cli,
        // `--help` and `--version`.
        Err(e) if !e.use_stderr() => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            usage_error(&e);
            return ExitCode::from(2);
        }
    };
    if let Some(size) = cli.max_input_size {
        let _ = MAX_INPUT_SIZE.set(size);
    }
    let _ = COLOR.set(cli.color);
    let outcome = pool(cli.command.threads()).and_then(|pool| pool.install(|| run(cli.command)));
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(failure) => {
            failure.print();
            ExitCode::from(2)
        }
    }
}

/// Parses the command line, with clap's own colours (help, `--version`) following `--color`
/// too: clap alone would follow `NO_COLOR` and `CLICOLOR_FORCE` but not the flag.
fn parse() -> Result<Cli, clap::Error> {
    use clap::{ColorChoice, CommandFactory, FromArgMatches};
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let mut when = None;
    for (i, arg) in args.iter().enumerate() {
        let Some(arg) = arg.to_str() else { continue };
        if arg == "--" {
            break;
        }
        if let Some(value) = arg.strip_prefix("--color=") {
            when = Some(value.to_string());
        } else if arg == "--color" {
            when = args.get(i + 1).and_then(|v| v.to_str()).map(str::to_string);
        }
    }
    let (choice, ours) = match when.as_deref() {
        Some("always") => (ColorChoice::Always, ColorArg::Always),
        Some("never") => (ColorChoice::Never, ColorArg::Never),
        _ => (ColorChoice::Auto, ColorArg::Auto),
    };
    // Set now, so that a usage error's `error:` follows the flag too.
    let _ = COLOR.set(ours);
    let matches = Cli::command().color(choice).try_get_matches_from(args)?;
    Cli::from_arg_matches(&matches)
}

/// Prints a usage error as one `error:` line, like every other error, and clap's tips and usage
/// as `hint:` lines.
fn usage_error(e: &clap::Error) {
    let text = e.render().to_string();
    let paragraphs: Vec<String> = text
        .split("\n\n")
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|p| !p.is_empty())
        .collect();
    let (message, hints) =
        if e.kind() == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
            // clap would print the whole help: keep only its usage line.
            let usage = paragraphs.iter().filter(|p| p.starts_with("Usage:"));
            (
                "a command is required".to_string(),
                usage.collect::<Vec<_>>(),
            )
        } else {
            let first = paragraphs.first().map_or("invalid usage", String::as_str);
            let first = first.strip_prefix("error: ").unwrap_or(first).to_string();
            (first, paragraphs.iter().skip(1).collect())
        };
    eprintln!("{} {}", label(Label::Error), render::clean(&message));
    for hint in hints {
        eprintln!(
            "{} {}",
            label(Label::Hint),
            render::clean(hint.strip_prefix("tip: ").unwrap_or(hint))
        );
    }
}

fn run(command: Command) -> Result<u8, Failure> {
    match command {
        Command::Vultr(command) => vultr::run(command),
        Command::Effective {
            user,
            input,
            output,
        } => effective(&user, &input, output),
        Command::Explain {
            user,
            action,
            resource,
            input,
            output,
        } => explain(&user, &action, &resource, &input, output),
        Command::Impact(args) => impact(args),
        Command::Graph(args) => graph::run(args),
        Command::Export(args) => export::run(args),
        Command::WhoCan {
            action,
            resource,
            input,
            output,
        } => who_can(&action, &resource, &input, output),
        Command::Redundant {
            group,
            user,
            input,
            output,
        } => redundant(&group, &user, &input, output),
        Command::Diff {
            old,
            new,
            gates,
            model,
            output,
        } => diff(&old, &new, &gates, &model, output),
        Command::Generate(args) => generate(args),
        Command::TerraformChanges { plan, snapshot } => {
            terraform::changes(&plan, snapshot.as_deref())
        }
        Command::Completions { shell } => completions(shell),
        Command::Man => man(),
        Command::Schema => schema(),
        Command::Rank {
            user,
            keep,
            drop,
            input,
            output,
        } => rank(&user, &keep, &drop, &input, output),
    }
}

/// `iamsim effective`.
fn effective(user: &str, input: &Input, output: Output) -> Result<u8, Failure> {
    let org = load(input)?;
    let report = org.effective(org.find_user(user).map_err(suggest::lookup)?);
    emit(output, &report, |m| render::effective(&report, m))?;
    Ok(0)
}

/// `iamsim explain`.
fn explain(
    user: &str,
    action: &str,
    resource: &str,
    input: &Input,
    output: Output,
) -> Result<u8, Failure> {
    let org = load(input)?;
    let user = org.find_user(user).map_err(suggest::lookup)?;
    if let Ok(asked) = ActionPattern::parse(action) {
        suggest::check_action("action", &asked, &universe_of(&[&org]))?;
    }
    let report = org.explain(user, action, resource).map_err(query_failure)?;
    emit(output, &report, |m| render::explain(&report, m))?;
    Ok(0)
}

/// `iamsim who-can`.
fn who_can(action: &str, resource: &str, input: &Input, output: Output) -> Result<u8, Failure> {
    let org = load(input)?;
    if let Ok(asked) = ActionPattern::parse(action) {
        suggest::check_action("action", &asked, &universe_of(&[&org]))?;
    }
    let progress = progress::Progress::new("checking users");
    let report = org.who_can_observed(action, resource, &|done, total| {
        progress.update(done, total)
    });
    progress.finish();
    let report = report.map_err(query_failure)?;
    emit(output, &report, |m| render::who_can(&report, m))?;
    Ok(0)
}

/// `iamsim redundant`.
fn redundant(
    group: &[String],
    user: &[String],
    input: &Input,
    output: Output,
) -> Result<u8, Failure> {
    let org = load(input)?;
    let mut scope = iamsim_core::RedundancyScope::default();
    for name in group {
        scope
            .groups
            .insert(org.find_group(name).map_err(suggest::lookup)?);
    }
    for name in user {
        scope
            .users
            .insert(org.find_user(name).map_err(suggest::lookup)?);
    }
    let progress = progress::Progress::new("trying removals");
    let observe = |done, total| progress.update(done, total);
    let narrowed = !(group.is_empty() && user.is_empty());
    let stream = org.redundancy_stream(narrowed.then_some(&scope), &observe);
    if output.format == Format::Json {
        // Written edge by edge as the blocks are judged: the report is never held.
        let written = emit_json(&stream);
        progress.finish();
        return written.map(|()| 0);
    }
    let report = stream.collect();
    progress.finish();
    emit(output, &report, |m| render::redundancy(&report, m))?;
    Ok(0)
}

/// `iamsim diff`.
fn diff(
    old: &Path,
    new: &Path,
    gates: &Gates,
    model: &Model,
    output: Output,
) -> Result<u8, Failure> {
    let checks = GateCheck::parse(gates)?;
    let catalogue = catalogue(model)?;
    let old = compile(
        &read_snapshot(old)?,
        &old.display().to_string(),
        &catalogue,
        model,
    )?;
    let new = compile(
        &read_snapshot(new)?,
        &new.display().to_string(),
        &catalogue,
        model,
    )?;
    checks.validate(&[&old, &new])?;
    let report = iamsim_core::diff(&old, &new);
    emit(output, &report, |m| render::diff(&report, m))?;
    Ok(checks.check_diff(&report, &old, &new))
}

/// `iamsim generate`.
fn generate(args: GenerateArgs) -> Result<u8, Failure> {
    use iamsim_core::generate::{Params, Shape};
    let GenerateArgs {
        shape,
        users,
        groups,
        roles,
        policies,
        actions,
        seed,
        synthetic_names,
        output,
    } = args;
    let defaults = match shape {
        ShapeArg::Classic => Params {
            users,
            seed,
            ..Params::small(seed)
        },
        ShapeArg::Broad => Params::broad(users, seed),
    };
    let params = Params {
        groups: groups.unwrap_or(defaults.groups),
        roles: roles.unwrap_or(defaults.roles),
        policies: policies.unwrap_or(defaults.policies),
        actions: match (actions, shape, synthetic_names) {
            (Some(n), _, _) => n,
            (None, ShapeArg::Classic, false) => Catalogue::bundled().len(),
            (None, _, _) => defaults.actions,
        },
        shape: match shape {
            ShapeArg::Classic => Shape::Classic,
            ShapeArg::Broad => Shape::Broad,
        },
        ..defaults
    };
    params.validate().map_err(|e| match e {
        iamsim_core::ParamsError::TooLarge {
            field,
            value,
            limit,
        } => Failure::new(format!("--{field}: {value} is above the limit of {limit}")),
        other => Failure::new(other.to_string()),
    })?;
    if synthetic_names && matches!(shape, ShapeArg::Broad) {
        return Err(Failure::new(
            "--synthetic-names is for the classic shape; the broad shape always names the catalogue's actions first".to_string(),
        ));
    }
    let snapshot = if synthetic_names {
        iamsim_core::generate::snapshot(&params)
    } else {
        iamsim_core::generate::snapshot_with_catalogue_names(&params)
    };
    let mut json = serde_json::to_string(&snapshot)?;
    json.push('\n');
    match output {
        None => emit_text(&json)?,
        Some(path) => write_atomically(&path, json.as_bytes())?,
    }
    Ok(0)
}

/// `iamsim completions`.
fn completions(shell: clap_complete::Shell) -> Result<u8, Failure> {
    let mut out = Vec::new();
    clap_complete::generate(
        shell,
        &mut <Cli as clap::CommandFactory>::command(),
        "iamsim",
        &mut out,
    );
    emit_text(&String::from_utf8(out)?)?;
    Ok(0)
}

/// `iamsim man`.
fn man() -> Result<u8, Failure> {
    let mut out = Vec::new();
    clap_mangen::Man::new(<Cli as clap::CommandFactory>::command()).render(&mut out)?;
    emit_text(&String::from_utf8(out)?)?;
    Ok(0)
}

/// `iamsim schema`.
fn schema() -> Result<u8, Failure> {
    let mut json = serde_json::to_string_pretty(&iamsim_core::report::output_schema())?;
    json.push('\n');
    emit_text(&json)?;
    Ok(0)
}

/// `iamsim rank`.
fn rank(
    user: &str,
    keep: &[String],
    drop: &[String],
    input: &Input,
    output: Output,
) -> Result<u8, Failure> {
    let patterns = |flag: &str, list: &[String]| {
        list.iter()
            .map(|p| ActionPattern::parse(p).map_err(|e| Failure::new(format!("--{flag}: {e}"))))
            .collect::<Result<Vec<_>, _>>()
    };
    let (keep, drop) = (patterns("keep", keep)?, patterns("drop", drop)?);
    let org = load(input)?;
    let universe = universe_of(&[&org]);
    for pattern in &keep {
        suggest::check_pattern("keep", pattern, &universe)?;
    }
    for pattern in &drop {
        suggest::check_pattern("drop", pattern, &universe)?;
    }
    let user = org.find_user(user).map_err(suggest::lookup)?;
    let filter = iamsim_core::RankFilter { keep, drop };
    let report = org.rank_with(user, &filter);
    emit(output, &report, |m| render::rank(&report, m))?;
    Ok(0)
}

fn impact(mut args: ImpactArgs) -> Result<u8, Failure> {
    let view = impact_view(&args, args.output.format);
    let checks = GateCheck::parse(&args.gates)?;
    let planned = terraform::impact_input(&args)?;
    let kind = args.kind.take();
    let specs = impact_specs(&args, kind, planned.as_ref().map(|(_, plan)| plan))?;
    let (source, planned) = match planned {
        Some((source, plan)) => (Some(source), Some(plan)),
        None => (None, None),
    };
    let Compiled { org, changes, .. } =
        impact_changes(&args, source, planned.as_ref(), &specs, &checks)?;
    let format = args.output.format;
    if args.per_action && (format != Format::Json || args.summary) {
        return Err(Failure::new(
            "--per-action is a JSON form of the full report: give it with --format json and without --summary".to_string(),
        ));
    }
    let detail = if args.summary && checks.is_empty() {
        Detail::Counts
    } else {
        Detail::Full
    };
    let options = SimulateOptions {
        allow_noop: args.allow_noop,
        detail,
    };
    let listed = listed_users(format, args.limit);
    let streamed = !args.summary && !args.per_action && checks.is_empty();
    let whole_json = format == Format::Json && args.limit.unwrap_or(0) == 0;
    if streamed && (whole_json || listed.is_some()) {
        impact_streamed(&org, &changes, &options, listed, &args, &view)?;
        return Ok(planned
            .as_ref()
            .map_or(0, |plan| plan.gate(false, args.allow_unknown)));
    }
    let progress = progress::Progress::new("judging users");
    let result = org.simulate_observed(&changes, &options, &|done, total| {
        progress.update(done, total)
    });
    progress.finish();
    let mut report = result?;
    note_skipped(changes.len() - report.changes.len());
    let tripped = checks.check_impact(&report, &org).max(
        planned
            .as_ref()
            .map_or(0, |plan| plan.gate(!checks.is_empty(), args.allow_unknown)),
    );
    emit_impact(&mut report, &args, &view)?;
    Ok(tripped)
}

/// The changes `impact` is asked about: a change file's, a subcommand's, or the plan's.
fn impact_specs(
    args: &ImpactArgs,
    kind: Option<ImpactKind>,
    planned: Option<&terraform::Planned>,
) -> Result<Vec<ChangeSpec>, Failure> {
    let specs = match (&args.changes, kind) {
        (Some(_), Some(_)) => {
            return Err(Failure::new(
                "give either --changes FILE or one change subcommand, not both".to_string(),
            ))
        }
        (Some(path), None) => {
            let text = read_text(path)?;
            iamsim_core::parse_changes(&text).map_err(|e| Failure::new(format!("{}: {e}", path.display())))?
        }
        (None, Some(kind)) => vec![spec(kind)?],
        (None, None) => match planned {
            Some(plan) => plan.specs(),
            None => return Err(Failure::new(
                "impact needs a change: a subcommand (`iamsim impact remove-member ...`), --changes FILE or --terraform-plan PLAN.json".to_string(),
            )),
        },
    };
    if specs.is_empty() && planned.is_none() {
        let path = args.changes.as_deref().unwrap_or(Path::new("-"));
        return Err(Failure::new(format!(
            "{}: the change file holds no change",
            path.display()
        )));
    }
    Ok(specs)
}

/// The organization compiled with what `specs` create, its gates' patterns checked against
/// it, and the changes resolved against it; a change from a file or a plan is also checked
/// (`Org::check_all`). A change that cannot be
/// made is named by where it comes from: the plan's resource, or its place in the change file.
fn impact_changes(
    args: &ImpactArgs,
    source: Option<terraform::Baseline>,
    planned: Option<&terraform::Planned>,
    specs: &[ChangeSpec],
    checks: &GateCheck,
) -> Result<Compiled, Failure> {
    let at = |index: usize, reason: String| match (planned, &args.changes) {
        (Some(plan), _) => plan.failure(index, reason),
        (None, Some(path)) => Failure::new(format!("{}: [{index}]: {reason}", path.display())),
        (None, None) => Failure::new(reason),
    };
    let compiled =
        compile_changes(&args.input, source, specs)?.map_err(|failure| match failure {
            ChangeSetFailure::Lookup(e) if planned.is_none() && args.changes.is_none() => {
                suggest::lookup(e.source)
            }
            ChangeSetFailure::Lookup(e) => at(e.index, suggest::lookup_message(&e.source)),
            other => at(other.index().unwrap_or(0), other.reason()),
        })?;
    checks.validate(&[&compiled.org])?;
    if planned.is_some() || args.changes.is_some() {
        compiled
            .org
            .check_all(
                &compiled.changes,
                &SimulateOptions {
                    allow_noop: args.allow_noop,
                    ..SimulateOptions::default()
                },
            )
            .map_err(|e| at(e.index, e.source.to_string()))?;
    }
    Ok(compiled)
}

/// How many users a report for people lists in full (`None`: JSON, every user).
fn listed_users(format: Format, limit: Option<usize>) -> Option<usize> {
    let or_every = |n: usize| if n == 0 { usize::MAX } else { n };
    match format {
        Format::Json => None,
        Format::Table => Some(limit.map_or(TABLE_LIMIT, or_every)),
        // A page lists the users most affected, as many as fit its budget (`html::BUDGET`).
        Format::Html => Some(limit.map_or(html::USERS, or_every)),
        // Within a comment's budget no user's block is shorter than 128 bytes.
        Format::Markdown => Some(limit.map_or(MARKDOWN_BUDGET / 128, or_every)),
    }
}

/// The report streamed: the whole of it in JSON, written user by user as judged, so memory
/// does not grow with the users reported; or, for `listed` users, every user ordered by
/// counts and just those listed judged in full.
fn impact_streamed(
    org: &Org,
    changes: &[Change],
    options: &SimulateOptions,
    listed: Option<usize>,
    args: &ImpactArgs,
    view: &render::ImpactView,
) -> Result<(), Failure> {
    let progress = progress::Progress::new("judging users");
    let report_progress = |done, total| progress.update(done, total);
    let stream = org.simulate_stream(changes, options, &report_progress)?;
    note_skipped(changes.len() - stream.changes().len());
    let written = match listed {
        None => emit_json(&stream),
        Some(n) => {
            let report = stream.first(n);
            emit(args.output, &report, |m| render::impact(&report, m, view))
        }
    };
    progress.finish();
    written
}

/// Notes the changes `--allow-noop` skipped.
fn note_skipped(skipped: usize) {
    if skipped > 0 {
        eprintln!("note: {skipped} change(s) skipped: they do nothing (--allow-noop)");
    }
}

/// Writes a whole impact report: its overview (`--summary`), its first users (`--limit`),
/// one entry per action (`--per-action`), or as it is.
fn emit_impact(
    report: &mut iamsim_core::report::Impact,
    args: &ImpactArgs,
    view: &render::ImpactView,
) -> Result<(), Failure> {
    let limit = args.limit.filter(|&n| n > 0);
    match args.output.format {
        Format::Json if args.summary => emit_json(&ImpactOverview::of(report, TOP_USERS)),
        Format::Json => {
            if let Some(n) = limit {
                let left = report.retain_users(n);
                if left > 0 {
                    eprintln!(
                        "note: {left} more user(s) not listed (--limit {n}); without --limit, every user"
                    );
                }
            }
            if args.per_action {
                emit_json(&report.flatten())
            } else {
                emit_json(report)
            }
        }
        _ => emit(args.output, report, |m| render::impact(report, m, view)),
    }
}

/// How `impact` shows a report to people, from its flags.
fn impact_view(args: &ImpactArgs, format: Format) -> render::ImpactView {
    render::ImpactView {
        show_kept: args.show_kept,
        limit: match (args.limit, format) {
            (Some(_), _) => args.limit.filter(|&n| n > 0),
            (None, Format::Table) => Some(TABLE_LIMIT),
            (None, _) => None,
        },
        budget: (args.limit.is_none() && format == Format::Markdown).then_some(MARKDOWN_BUDGET),
        summary_only: args.summary,
    }
}

/// How many of the most affected users `--summary --format json` lists.
const TOP_USERS: usize = 10;

/// The change a subcommand describes.
pub(crate) fn spec(kind: ImpactKind) -> Result<ChangeSpec, Failure> {
    Ok(match kind {
        ImpactKind::RemoveMember { group, user } => ChangeSpec::RemoveMember { group, user },
        ImpactKind::AddMember { group, user } => ChangeSpec::AddMember { group, user },
        ImpactKind::DetachPolicy { policy, holder } => ChangeSpec::DetachPolicy {
            policy,
            user: holder.user,
            group: holder.group,
            role: holder.role,
        },
        ImpactKind::AttachPolicy { policy, holder } => ChangeSpec::AttachPolicy {
            policy,
            user: holder.user,
            group: holder.group,
            role: holder.role,
        },
        ImpactKind::DetachRole { role, principal } => ChangeSpec::DetachRole {
            role,
            user: principal.user,
            group: principal.group,
        },
        ImpactKind::AttachRole { role, principal } => ChangeSpec::AttachRole {
            role,
            user: principal.user,
            group: principal.group,
        },
        ImpactKind::DeleteGroup { group } => ChangeSpec::DeleteGroup { group },
        ImpactKind::DeleteRole { role } => ChangeSpec::DeleteRole { role },
        ImpactKind::DeletePolicy { policy } => ChangeSpec::DeletePolicy { policy },
        ImpactKind::SuspendUser { user } => ChangeSpec::SuspendUser { user },
        ImpactKind::UnsuspendUser { user } => ChangeSpec::UnsuspendUser { user },
        ImpactKind::RemoveUser { user } => ChangeSpec::RemoveUser { user },
        ImpactKind::ReplacePolicyDocument { policy, document } => {
            let text = read_text(&document)?;
            let policy_document: PolicyDocument = serde_json::from_str(&text)
                .map_err(|e| Failure::new(format!("{}: {e}", document.display())))?;
            ChangeSpec::ReplacePolicyDocument {
                policy,
                policy_document,
            }
        }
        ImpactKind::DeleteRoleTrust { trust } => ChangeSpec::DeleteRoleTrust { trust },
    })
}

/// An I/O error in one line, lowercase, naming the file.
pub(crate) fn io_failure(path: &Path, e: std::io::Error) -> Failure {
    let reason = match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        std::io::ErrorKind::IsADirectory => "is a directory".to_string(),
        std::io::ErrorKind::FileTooLarge => format!("{e}; raise it with --max-input-size SIZE"),
        _ => {
            let text = e.to_string();
            let mut chars = text.chars();
            match chars.next() {
                Some(first) => first.to_lowercase().chain(chars).collect(),
                None => text,
            }
        }
    };
    Failure::new(format!("{}: {reason}", path.display()))
}

/// A text input (catalogue, change file, document, fault script; `-` is stdin), under
/// [`input_limit`].
pub(crate) fn read_text(path: &Path) -> Result<String, Failure> {
    let bytes =
        iamsim_vultr::files::read_limited(path, input_limit()).map_err(|e| io_failure(path, e))?;
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    String::from_utf8(bytes.to_vec()).map_err(|e| {
        Failure::new(format!(
            "{}: invalid UTF-8 at byte offset {}",
            path.display(),
            e.utf8_error().valid_up_to()
        ))
    })
}

fn catalogue(model: &Model) -> Result<Catalogue, Failure> {
    read_catalogue(model.catalogue.as_deref())
}

/// The bundled catalogue, or the one in `path`.
pub(crate) fn read_catalogue(path: Option<&Path>) -> Result<Catalogue, Failure> {
    match path {
        None => Ok(Catalogue::bundled()),
        Some(path) => Catalogue::parse(&read_text(path)?)
            .map_err(|e| Failure::new(format!("{}: {e}", path.display()))),
    }
}

/// A snapshot file (`-` is stdin), under [`snapshot_limit`].
pub(crate) fn read_snapshot(path: &Path) -> Result<Snapshot, Failure> {
    let bytes = iamsim_vultr::files::read_limited(path, snapshot_limit())
        .map_err(|e| io_failure(path, e))?;
    Snapshot::from_json_bytes(&bytes).map_err(|e| Failure::new(format!("{}: {e}", path.display())))
}

/// Compiles under the chosen precedence, printing diagnostics as warnings; under `--strict`, any
/// diagnostic is an error.
fn compile(
    snapshot: &Snapshot,
    origin: &str,
    catalogue: &Catalogue,
    model: &Model,
) -> Result<Org, Failure> {
    compile_with(
        snapshot,
        origin,
        catalogue,
        model.strict,
        compile_options(model),
    )
}

fn compile_options(model: &Model) -> CompileOptions {
    CompileOptions {
        precedence: model.precedence.into(),
        trust_context: TrustContext {
            at: model.at,
            from: model.from,
        },
    }
}

/// The snapshot of `input` (or `source`, already read) compiled with the entities `specs`
/// create, and the changes resolved against it (`Org::compile_changes`), diagnostics printed
/// as [`compile`] prints them. The outer error stops the command; the inner one names the
/// change at fault, for the caller to say where it comes from.
pub(crate) fn compile_changes(
    input: &Input,
    source: Option<(Snapshot, String)>,
    specs: &[ChangeSpec],
) -> Result<Result<Compiled, ChangeSetFailure>, Failure> {
    let catalogue = catalogue(&input.model)?;
    let (snapshot, origin) = match source {
        Some(source) => source,
        None => read_input(input)?,
    };
    let options = compile_options(&input.model);
    note_precedence(options.precedence);
    match Org::compile_changes(&snapshot, &catalogue, &options, specs) {
        Ok(compiled) => {
            report_diagnostics(&compiled.org, &origin, input.model.strict)?;
            Ok(Ok(compiled))
        }
        Err(ChangeSetFailure::Build(e)) => Err(Failure::new(format!("{origin}: {e}"))),
        Err(e) => Ok(Err(e)),
    }
}

/// [`compile`] with the settings given one by one (commands without the model's flags).
pub(crate) fn compile_with(
    snapshot: &Snapshot,
    origin: &str,
    catalogue: &Catalogue,
    strict: bool,
    options: CompileOptions,
) -> Result<Org, Failure> {
    note_precedence(options.precedence);
    let org = Org::compile_with(snapshot, catalogue, &options)
        .map_err(|e| Failure::new(format!("{origin}: {e}")))?;
    report_diagnostics(&org, origin, strict)?;
    Ok(org)
}

/// Says once (diff compiles two organizations) that the answers follow the other rule.
fn note_precedence(precedence: Precedence) {
    static NOTED: std::sync::Once = std::sync::Once::new();
    if precedence == Precedence::NearestWins {
        NOTED.call_once(|| {
            eprintln!(
                "note: precedence nearest-wins: the attachment nearest the user decides \
                 (docs/semantics.md §4)"
            )
        });
    }
}

/// Prints an organization's diagnostics as warnings; under `--strict`, any is an error.
fn report_diagnostics(org: &Org, origin: &str, strict: bool) -> Result<(), Failure> {
    // A large organization can have thousands: show the first few and count the rest.
    const SHOWN: usize = 20;
    for diagnostic in org.diagnostics().iter().take(SHOWN) {
        eprintln!(
            "{} {origin}: {}",
            label(Label::Warning),
            render::clean(&diagnostic.to_string())
        );
    }
    if org.diagnostics().len() > SHOWN {
        eprintln!(
            "{} {origin}: and {} more diagnostic(s) not shown",
            label(Label::Warning),
            org.diagnostics().len() - SHOWN
        );
    }
    if strict && !org.diagnostics().is_empty() {
        return Err(Failure::new(format!(
            "{origin}: {} diagnostic(s) and --strict is set",
            org.diagnostics().len()
        )));
    }
    Ok(())
}

/// A query's error, naming the flag that holds the bad argument.
fn query_failure(error: iamsim_core::QueryError) -> Failure {
    let flag = match error {
        iamsim_core::QueryError::Resource { .. } => "--resource",
        _ => "--action",
    };
    Failure::new(format!("{flag}: {error}"))
}

/// Reads the snapshot (or the demo) and the catalogue, and compiles.
pub(crate) fn load(input: &Input) -> Result<Org, Failure> {
    load_with_snapshot(input).map(|(_, org)| org)
}

/// [`load`], keeping the snapshot it compiled.
pub(crate) fn load_with_snapshot(input: &Input) -> Result<(Snapshot, Org), Failure> {
    let catalogue = catalogue(&input.model)?;
    let (snapshot, origin) = read_input(input)?;
    let org = compile(&snapshot, &origin, &catalogue, &input.model)?;
    Ok((snapshot, org))
}

/// The snapshot of `input` (the demo without `--snapshot`), and where it comes from.
pub(crate) fn read_input(input: &Input) -> Result<(Snapshot, String), Failure> {
    Ok(match &input.snapshot {
        None => {
            eprintln!("note: no --snapshot given; using the built-in demo organization (Acme)");
            (Snapshot::from_json_str(DEMO)?, "demo".to_string())
        }
        Some(path) => (read_snapshot(path)?, path.display().to_string()),
    })
}

/// Whether to colour what goes to stdout (tables).
pub(crate) fn color() -> bool {
    colored(std::io::stdout().is_terminal())
}

/// Whether to colour what goes to stderr (`error:`, `warning:` and `hint:`).
fn color_stderr() -> bool {
    colored(std::io::stderr().is_terminal())
}

/// `--color`, then (for `auto`) `NO_COLOR` over `CLICOLOR_FORCE` over whether the stream is a
/// terminal; the order anstream follows.
fn colored(terminal: bool) -> bool {
    let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
    match COLOR.get().copied().unwrap_or(ColorArg::Auto) {
        ColorArg::Always => true,
        ColorArg::Never => false,
        ColorArg::Auto if set("NO_COLOR") => false,
        ColorArg::Auto
            if set("CLICOLOR_FORCE")
                && std::env::var_os("CLICOLOR_FORCE").is_some_and(|v| v != "0") =>
        {
            true
        }
        ColorArg::Auto => terminal,
    }
}

/// The prefix of a line on stderr.
#[derive(Clone, Copy)]
pub(crate) enum Label {
    Error,
    Warning,
    Hint,
}

/// `error:`, `warning:` or `hint:`, in bold red, yellow or cyan when stderr is coloured.
pub(crate) fn label(kind: Label) -> String {
    use anstyle::{AnsiColor, Style};
    let (text, color) = match kind {
        Label::Error => ("error:", AnsiColor::Red),
        Label::Warning => ("warning:", AnsiColor::Yellow),
        Label::Hint => ("hint:", AnsiColor::Cyan),
    };
    if !color_stderr() {
        return text.to_string();
    }
    let style = Style::new().bold().fg_color(Some(color.into()));
    format!("{style}{text}{style:#}")
}

/// How a report is written: the format, and the settings of the formats for people. The
/// reports' flags (`graph` has formats of its own).
#[derive(Clone, Copy, Args)]
pub(crate) struct Output {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table, global = true)]
    pub format: Format,
    /// Markdown: add a ```mermaid block of the answer's graph (GitHub draws it) when the graph
    /// has at most N edges; 0: never.
    #[arg(long, value_name = "N", default_value_t = MERMAID_MAX_EDGES, global = true)]
    pub mermaid_max_edges: usize,
}

/// Writes the report to stdout in the chosen format. A closed pipe is not an error.
pub(crate) fn emit<T: serde::Serialize>(
    output: Output,
    report: &T,
    text: impl FnOnce(Mode) -> String,
) -> Result<(), Failure> {
    let text = match output.format {
        Format::Json => return emit_json(report),
        Format::Table => text(Mode::Table { color: color() }),
        Format::Markdown => text(Mode::Markdown {
            mermaid_max_edges: output.mermaid_max_edges,
        }),
        Format::Html => text(Mode::Html),
    };
    emit_text(&text)
}

/// Writes a report to stdout as pretty JSON (arrays of numbers on one line, see `json.rs`), as
/// it is serialized (no copy of the whole text in memory). A closed pipe is not an error.
pub(crate) fn emit_json<T: serde::Serialize>(report: &T) -> Result<(), Failure> {
    let mut stdout = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let result = json::to_writer(&mut stdout, report)
        .and_then(|()| stdout.write_all(b"\n"))
        .and_then(|()| stdout.flush());
    match result {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Failure::new(format!("stdout: {e}")))
        }
        _ => Ok(()),
    }
}

/// Writes text to stdout. A closed pipe is not an error.
pub(crate) fn emit_text(text: &str) -> Result<(), Failure> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Failure::new(format!("stdout: {e}")))
        }
        _ => Ok(()),
    }
}

/// Writes a file whole or not at all, through the one safe writer
/// ([`iamsim_vultr::files::write_atomic`]: regular files only, symlinks followed, mode and
/// owner kept, new files 0600, fsync then rename).
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    iamsim_vultr::files::write_atomic(path, bytes).map_err(|e| io_failure(path, e))
}

/// The gates of one command, parsed: the library's [`Gate`], and its rendering.
pub(crate) struct GateCheck {
    gate: Gate,
}

impl GateCheck {
    /// `--fail-if-loses` patterns alone.
    pub(crate) fn loses(patterns: &[String]) -> Result<GateCheck, Failure> {
        GateCheck::parse(&Gates {
            fail_if_loses: patterns.to_vec(),
            fail_if_gains: Vec::new(),
            fail_on: None,
        })
    }

    /// Fails on a pattern that covers nothing in the organizations' universes (their union:
    /// `diff` passes both), naming the nearest known actions.
    pub(crate) fn validate(&self, orgs: &[&Org]) -> Result<(), Failure> {
        let universe = universe_of(orgs);
        for pattern in &self.gate.loses {
            suggest::check_pattern("fail-if-loses", pattern, &universe)?;
        }
        for pattern in &self.gate.gains {
            suggest::check_pattern("fail-if-gains", pattern, &universe)?;
        }
        Ok(())
    }

    /// Whether no gate is set.
    pub(crate) fn is_empty(&self) -> bool {
        self.gate.is_empty()
    }

    /// Checks an impact's users against the gates (see [`report_trips`]).
    pub(crate) fn check_impact(&self, report: &iamsim_core::report::Impact, org: &Org) -> u8 {
        report_trips(&self.gate.check_impact(report, org))
    }

    /// Checks a diff's users against the gates (see [`report_trips`]).
    fn check_diff(&self, report: &iamsim_core::report::Diff, old: &Org, new: &Org) -> u8 {
        report_trips(&self.gate.check_diff(report, old, new))
    }

    fn parse(gates: &Gates) -> Result<GateCheck, Failure> {
        let patterns = |flag: &str, list: &[String]| {
            list.iter()
                .map(|p| {
                    ActionPattern::parse(p).map_err(|e| Failure::new(format!("--{flag}: {e}")))
                })
                .collect::<Result<Vec<_>, _>>()
        };
        Ok(GateCheck {
            gate: Gate {
                loses: patterns("fail-if-loses", &gates.fail_if_loses)?,
                gains: patterns("fail-if-gains", &gates.fail_if_gains)?,
                fail_on: gates.fail_on.map(|f| match f {
                    FailOn::Lost => gate::FailOn::Lost,
                    FailOn::Gained => gate::FailOn::Gained,
                    FailOn::Any => gate::FailOn::Any,
                }),
            },
        })
    }
}

/// Exit code 1, with one line per tripped gate on stderr (its first three hits and how many
/// more), if a gate tripped; otherwise 0.
fn report_trips(outcome: &GateOutcome) -> u8 {
    for trip in &outcome.trips {
        let verb = match trip.side {
            Side::Lost => "loses",
            Side::Gained => "gains",
        };
        let gate = match (trip.pattern, trip.side) {
            (Some(p), Side::Lost) => format!("--fail-if-loses `{p}`"),
            (Some(p), Side::Gained) => format!("--fail-if-gains `{p}`"),
            (None, Side::Lost) => "--fail-on lost".to_string(),
            (None, Side::Gained) => "--fail-on gained".to_string(),
        };
        let shown: Vec<String> = trip
            .hits
            .iter()
            .take(3)
            .map(|hit| {
                let email = &hit.user.email;
                match hit.what {
                    HitKind::Entry { action, resource } => {
                        format!("{email} {verb} {action} on {resource}")
                    }
                    HitKind::Assumable { count } => {
                        format!("{email} {verb} {count} assumable role(s)")
                    }
                }
            })
            .collect();
        let more = if trip.hits.len() > 3 {
            format!(" (and {} more)", trip.hits.len() - 3)
        } else {
            String::new()
        };
        eprintln!(
            "gate tripped: {gate}: {}{more}",
            render::clean(&shown.join("; "))
        );
    }
    u8::from(!outcome.passed())
}

/// The elements of the organizations' universes, once each, sorted.
fn universe_of<'a>(orgs: &[&'a Org]) -> Vec<&'a ActionPattern> {
    let mut all: Vec<&ActionPattern> = orgs.iter().flat_map(|org| org.universe()).collect();
    all.sort();
    all.dedup();
    all
}
