//! `iamsim`: what will this IAM change do to people's access?
//!
//! Data goes to stdout only; notes, warnings and errors go to stderr. Exit codes follow diff(1):
//! 0 ran and no gate tripped, 1 a gate tripped, 2 an error.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use iamsim_core::policy::ActionPattern;
use iamsim_core::report::Impact;
use iamsim_core::{Catalogue, Change, Org, Snapshot};

mod render;
mod vultr;

const DEMO: &str = include_str!("demo.json");

#[derive(Parser)]
#[command(
    name = "iamsim",
    version,
    about = "What will this Vultr IAM change do to people's access? Effective permissions with every path, and what-ifs.",
    after_help = "Without --snapshot, commands run on a built-in demo organization.\nExit codes: 0 ran, 1 a gate tripped, 2 error."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
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
    },
    /// What a change would do to people's access, before anyone makes it.
    #[command(subcommand)]
    Impact(ImpactCommand),
    /// Vultr's API: fetch a snapshot, remove a member safely, serve a fake API.
    #[command(subcommand)]
    Vultr(vultr::VultrCommand),
}

#[derive(Subcommand)]
enum ImpactCommand {
    /// Take a user out of a group: what they lose, keep (and through what) and gain.
    RemoveMember {
        /// Group id or display name.
        #[arg(long)]
        group: String,
        /// User id or email.
        #[arg(long)]
        user: String,
        /// Exit 1 if anyone loses an action matching PATTERN (as in policies: `compute.*`). Repeatable.
        #[arg(long = "fail-if-loses", value_name = "PATTERN")]
        fail_if_loses: Vec<String>,
        #[command(flatten)]
        input: Input,
    },
}

#[derive(Args)]
struct Input {
    /// Snapshot file (iamsim.snapshot.v1 JSON). Default: the built-in demo organization.
    #[arg(long, value_name = "FILE")]
    snapshot: Option<PathBuf>,
    /// Action catalogue, one action per line; replaces the bundled one.
    #[arg(long, value_name = "FILE")]
    catalogue: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Treat every snapshot diagnostic (dangling id, unknown action, ...) as an error.
    #[arg(long)]
    strict: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// For people: grouped, readable in 80 columns.
    Table,
    /// For programs: versioned JSON (see docs/output-format.md).
    Json,
}

/// A failure that ends the command with exit code 2 and this one-line message.
struct Failure(String);

impl<E: std::fmt::Display> From<E> for Failure {
    fn from(e: E) -> Failure {
        Failure(e.to_string())
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
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
    match run(cli.command) {
        Ok(code) => ExitCode::from(code),
        Err(Failure(message)) => {
            // Names from the snapshot or the command line may hold newlines or escapes: the
            // error stays one line and inert.
            eprintln!("error: {}", render::clean(&message));
            ExitCode::from(2)
        }
    }
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
    eprintln!("error: {}", render::clean(&message));
    for hint in hints {
        eprintln!(
            "hint: {}",
            render::clean(hint.strip_prefix("tip: ").unwrap_or(hint))
        );
    }
}

fn run(command: Command) -> Result<u8, Failure> {
    match command {
        Command::Vultr(command) => vultr::run(command),
        Command::Effective { user, input } => {
            let org = load(&input)?;
            let user = org.find_user(&user)?;
            let report = org.effective(user);
            emit(input.format, &report, || {
                render::effective(&report, color())
            })?;
            Ok(0)
        }
        Command::Explain {
            user,
            action,
            resource,
            input,
        } => {
            let org = load(&input)?;
            let user = org.find_user(&user)?;
            let report = org
                .explain(user, &action, &resource)
                .map_err(|e| Failure(format!("--action/--resource: {e}")))?;
            emit(input.format, &report, || render::explain(&report, color()))?;
            Ok(0)
        }
        Command::Impact(ImpactCommand::RemoveMember {
            group,
            user,
            fail_if_loses,
            input,
        }) => {
            let gates = fail_if_loses
                .iter()
                .map(|p| {
                    ActionPattern::parse(p).map_err(|e| Failure(format!("--fail-if-loses: {e}")))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let org = load(&input)?;
            let user = org.find_user(&user)?;
            let group = org.find_group(&group)?;
            let impact = org.simulate(&[Change::RemoveMember { group, user }])?;
            emit(input.format, &impact, || render::impact(&impact, color()))?;
            let universe: Vec<ActionPattern> = org.universe().cloned().collect();
            Ok(check_gates(&impact, &gates, &universe))
        }
    }
}

/// Reads the snapshot (or the demo) and the catalogue, compiles, and reports diagnostics.
fn load(input: &Input) -> Result<Org, Failure> {
    let catalogue = match &input.catalogue {
        None => Catalogue::bundled(),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| Failure(format!("{}: {e}", path.display())))?;
            Catalogue::parse(&text).map_err(|e| Failure(format!("{}: {e}", path.display())))?
        }
    };
    let (snapshot, origin) = match &input.snapshot {
        None => {
            eprintln!("note: no --snapshot given; using the built-in demo organization (Acme)");
            (Snapshot::from_json_str(DEMO)?, "demo".to_string())
        }
        Some(path) => {
            let bytes =
                std::fs::read(path).map_err(|e| Failure(format!("{}: {e}", path.display())))?;
            let origin = path.display().to_string();
            let snapshot =
                Snapshot::from_json_bytes(&bytes).map_err(|e| Failure(format!("{origin}: {e}")))?;
            (snapshot, origin)
        }
    };
    let org = Org::compile(&snapshot, &catalogue).map_err(|e| Failure(format!("{origin}: {e}")))?;
    for diagnostic in org.diagnostics() {
        eprintln!(
            "warning: {origin}: {}",
            render::clean(&diagnostic.to_string())
        );
    }
    if input.strict && !org.diagnostics().is_empty() {
        return Err(Failure(format!(
            "{origin}: {} diagnostic(s) and --strict is set",
            org.diagnostics().len()
        )));
    }
    Ok(org)
}

fn color() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Writes the report to stdout in the chosen format. A closed pipe is not an error.
fn emit<T: serde::Serialize>(
    format: Format,
    report: &T,
    table: impl FnOnce() -> String,
) -> Result<(), Failure> {
    let text = match format {
        Format::Json => {
            let mut json = serde_json::to_string_pretty(report)?;
            json.push('\n');
            json
        }
        Format::Table => table(),
    };
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Failure(format!("stdout: {e}")))
        }
        _ => Ok(()),
    }
}

/// Whether losing the universe element `element` loses an action that `gate` matches.
///
/// A wildcard element stands only for the actions it covers that no narrower element of the
/// universe names: losing `compute.*` does not lose `compute.instance.Read` when that action is
/// an element of its own (and may be kept).
fn gate_hits(gate: &ActionPattern, element: &ActionPattern, universe: &[ActionPattern]) -> bool {
    // INVARIANT: the universe elements covering a pattern are nested, so the longest is the
    // narrowest, the one whose meaning holds the pattern's unnamed actions.
    gate.covers(element)
        || universe
            .iter()
            .filter(|e| e.covers(gate))
            .max_by_key(|e| e.as_str().len())
            == Some(element)
}

/// Exit code 1, with the reasons on stderr, if any user loses an action a gate names.
fn check_gates(impact: &Impact, gates: &[ActionPattern], universe: &[ActionPattern]) -> u8 {
    let mut tripped = false;
    for gate in gates {
        let hits: Vec<String> = impact
            .users
            .iter()
            .flat_map(|u| {
                u.lost.iter().filter_map(move |e| {
                    let action = ActionPattern::parse(&e.action).ok()?;
                    gate_hits(gate, &action, universe)
                        .then(|| format!("{} loses {} on {}", u.user.email, e.action, e.resource))
                })
            })
            .collect();
        if !hits.is_empty() {
            tripped = true;
            let shown: Vec<&str> = hits.iter().take(3).map(String::as_str).collect();
            let more = if hits.len() > 3 {
                format!(" (and {} more)", hits.len() - 3)
            } else {
                String::new()
            };
            eprintln!(
                "gate tripped: --fail-if-loses `{gate}`: {}{more}",
                render::clean(&shown.join("; "))
            );
        }
    }
    u8::from(tripped)
}
