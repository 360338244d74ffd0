//! `iamsim export`: every user's effective access as rows (CSV or JSON Lines), streamed to
//! stdout, for auditors and SIEM pipelines.
//!
//! Without `--paths` the rows come from [`Org::access_matrix`] (the `*` column, its Denies and
//! the scoped cells), at the speed of the matrix; with `--paths`, from [`Org::effective`] user by
//! user. Both give the same rows, in the same order: users in snapshot order, actions in universe
//! order, resources sorted.

use std::io::Write;

use clap::{Args, ValueEnum};
use iamsim_core::bulk::ElementId;
use iamsim_core::policy::{ActionPattern, ResourcePattern};
use iamsim_core::query::pattern_reaches;
use iamsim_core::report::Path;
use iamsim_core::{Org, UserKey};

use crate::progress::Progress;
use crate::{render, suggest, Failure};

/// `iamsim export`.
#[derive(Args)]
pub(crate) struct ExportArgs {
    /// `csv` (a header line, RFC 4180 quoting) or `jsonl` (one JSON object a line).
    #[arg(long, value_enum, default_value_t = ExportFormat::Csv)]
    format: ExportFormat,
    /// Add every path behind each decision (slower: each user is evaluated in full).
    #[arg(long)]
    paths: bool,
    /// Only these users (ids or emails), comma-separated or repeated.
    #[arg(long, value_name = "USER", value_delimiter = ',')]
    users: Vec<String>,
    /// Only actions matching these patterns (`compute.*`), comma-separated or repeated.
    #[arg(long, value_name = "PATTERN", value_delimiter = ',')]
    actions: Vec<String>,
    /// The snapshot and how it is compiled, as every query command reads them.
    #[command(flatten)]
    pub(crate) input: crate::Input,
}

/// `export --format`.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ExportFormat {
    /// Comma-separated values with a header line.
    Csv,
    /// JSON Lines: one object per row.
    Jsonl,
}

/// One row: a user's decision on one (action, resource).
struct Row<'a> {
    user_id: &'a str,
    email: &'a str,
    action: &'a str,
    resource: &'a str,
    allowed: bool,
    paths: Option<&'a [Path]>,
}

/// A row of JSON Lines: the data as it is (JSON escapes control characters itself).
#[derive(serde::Serialize)]
struct JsonRow<'a> {
    user_id: &'a str,
    email: &'a str,
    action: &'a str,
    resource: &'a str,
    decision: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    paths: Option<&'a [Path]>,
}

pub(crate) fn run(args: ExportArgs) -> Result<u8, Failure> {
    let org = crate::load(&args.input)?;
    let users = select_users(&org, &args.users)?;
    let filters = args
        .actions
        .iter()
        .map(|p| ActionPattern::parse(p).map_err(|e| Failure::new(format!("--actions: {e}"))))
        .collect::<Result<Vec<_>, _>>()?;
    let universe: Vec<&ActionPattern> = org.universe().collect();
    for pattern in &filters {
        suggest::check_pattern("actions", pattern, &universe)?;
    }
    let keep = |element: &ActionPattern| {
        filters.is_empty()
            || filters
                .iter()
                .any(|p| pattern_reaches(p, element, universe.iter().copied()))
    };
    let mut out = Out::new(args.format, args.paths);
    out.header()?;
    // On a terminal, a bar on stderr once the export has run for a second (the rows go to
    // stdout); cleared when the export ends or fails.
    let progress = Progress::new("exporting users");
    let total = users.len();
    if args.paths {
        for (done, &user) in users.iter().enumerate() {
            progress.update(done, total);
            if out.closed {
                break;
            }
            let effective = org.effective(user);
            let root = org.is_root(user);
            let mut entries: Vec<(
                ActionPattern,
                ResourcePattern,
                bool,
                &iamsim_core::report::Entry,
            )> = Vec::new();
            for (list, allowed) in [(&effective.allowed, true), (&effective.denied, false)] {
                for entry in list {
                    let action = ActionPattern::parse(&entry.action)?;
                    // The root user's one row (`*` on `*`) holds every action a filter names.
                    if root || keep(&action) {
                        let resource = ResourcePattern::parse(&entry.resource)?;
                        entries.push((action, resource, allowed, entry));
                    }
                }
            }
            entries.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
            for (_, _, allowed, entry) in entries {
                out.row(&Row {
                    user_id: &effective.user.id,
                    email: &effective.user.email,
                    action: &entry.action,
                    resource: &entry.resource,
                    allowed,
                    paths: Some(&entry.via),
                })?;
            }
        }
    } else {
        let matrix = org.access_matrix();
        let kept: Vec<bool> = universe.iter().map(|e| keep(e)).collect();
        let any = ResourcePattern::any();
        for (done, &user) in users.iter().enumerate() {
            progress.update(done, total);
            // A closed pipe (`| head`) ends the export.
            if out.closed {
                break;
            }
            let (user_id, email) = (org.user_id(user), org.user_email(user));
            if org.is_root(user) {
                // As `effective` shows the root user: one row, `*` on `*`.
                out.row(&Row {
                    user_id,
                    email,
                    action: "*",
                    resource: "*",
                    allowed: true,
                    paths: None,
                })?;
                continue;
            }
            let scoped = matrix.scoped(user);
            let mut cells: Vec<(ElementId, &ResourcePattern, bool)> = org
                .elements()
                .filter(|&(a, _)| kept[a.index()] && matrix.allowed(user, a))
                .map(|(a, _)| (a, &any, true))
                .collect();
            cells.extend(
                matrix
                    .denied(user)
                    .into_iter()
                    .filter(|a| kept[a.index()])
                    .map(|a| (a, &any, false)),
            );
            cells.extend(
                scoped
                    .iter()
                    .filter(|c| kept[c.element.index()])
                    .map(|c| (c.element, &c.resource, c.allowed)),
            );
            cells.sort_unstable();
            for (a, resource, allowed) in cells {
                out.row(&Row {
                    user_id,
                    email,
                    action: universe[a.index()].as_str(),
                    resource: resource.as_str(),
                    allowed,
                    paths: None,
                })?;
            }
        }
    }
    // Cleared before the last rows are flushed, for a terminal that shows both.
    progress.finish();
    out.finish()?;
    Ok(0)
}

/// The users `--users` names, once each, in snapshot order; every user without it.
fn select_users(org: &Org, names: &[String]) -> Result<Vec<UserKey>, Failure> {
    if names.is_empty() {
        return Ok(org.users().collect());
    }
    let mut keys = names
        .iter()
        .filter(|n| !n.trim().is_empty())
        .map(|n| {
            org.find_user(n.trim())
                .map_err(|e| Failure::new(format!("--users: {}", suggest::lookup_message(&e))))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if keys.is_empty() {
        return Err(Failure::new("--users: no user given".to_string()));
    }
    keys.sort_unstable();
    keys.dedup();
    Ok(keys)
}

/// Rows written to stdout through a buffer. A closed pipe ends the export quietly.
struct Out {
    format: ExportFormat,
    paths: bool,
    stdout: std::io::BufWriter<std::io::StdoutLock<'static>>,
    line: String,
    closed: bool,
}

impl Out {
    fn new(format: ExportFormat, paths: bool) -> Out {
        Out {
            format,
            paths,
            stdout: std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock()),
            line: String::new(),
            closed: false,
        }
    }

    fn header(&mut self) -> Result<(), Failure> {
        if self.format == ExportFormat::Csv {
            let mut header = "user_id,email,action,resource,decision".to_string();
            if self.paths {
                header.push_str(",paths");
            }
            header.push('\n');
            let result = self.stdout.write_all(header.as_bytes());
            self.check(result)?;
        }
        Ok(())
    }

    fn row(&mut self, row: &Row) -> Result<(), Failure> {
        if self.closed {
            return Ok(());
        }
        let decision = if row.allowed {
            "allowed"
        } else {
            "explicit_deny"
        };
        let paths = row.paths.filter(|_| self.paths);
        let line = &mut self.line;
        line.clear();
        match self.format {
            ExportFormat::Csv => {
                for text in [row.user_id, row.email, row.action, row.resource] {
                    push_cell(line, text);
                    line.push(',');
                }
                line.push_str(decision);
                if let Some(paths) = paths {
                    let text: Vec<String> = paths.iter().map(render::path_text).collect();
                    line.push(',');
                    push_cell(line, &text.join(";"));
                }
            }
            ExportFormat::Jsonl => {
                let json = JsonRow {
                    user_id: row.user_id,
                    email: row.email,
                    action: row.action,
                    resource: row.resource,
                    decision,
                    paths,
                };
                line.push_str(&serde_json::to_string(&json)?);
            }
        }
        line.push('\n');
        let result = self.stdout.write_all(self.line.as_bytes());
        self.check(result)
    }

    fn finish(mut self) -> Result<(), Failure> {
        if self.closed {
            return Ok(());
        }
        let result = self.stdout.flush();
        self.check(result)
    }

    fn check(&mut self, result: std::io::Result<()>) -> Result<(), Failure> {
        match result {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(())
            }
            Err(e) => Err(Failure::new(format!("stdout: {e}"))),
            Ok(()) => Ok(()),
        }
    }
}

/// One CSV cell: control characters escaped as the table output does ([`render::clean`]); a
/// cell starting with `=`, `+`, `-` or `@` prefixed with `'`, so that a spreadsheet reads it as
/// text rather than a formula; quoted (RFC 4180) when it holds a comma, a quote or a line break.
fn push_cell(line: &mut String, text: &str) {
    // Most cells are plain printable ASCII: no copy for them.
    let plain = |c: u8| (b' '..=b'~').contains(&c) && !matches!(c, b',' | b'"');
    let formula = text.starts_with(['=', '+', '-', '@']);
    if !formula && text.bytes().all(plain) {
        line.push_str(text);
        return;
    }
    let mut text = render::clean(text);
    if text.starts_with(['=', '+', '-', '@']) {
        text.insert(0, '\'');
    }
    if text.contains([',', '"', '\n', '\r']) {
        line.push('"');
        line.push_str(&text.replace('"', "\"\""));
        line.push('"');
    } else {
        line.push_str(&text);
    }
}

#[cfg(test)]
mod tests {
    use super::push_cell;

    #[test]
    fn cells() {
        for (text, expected) in [
            ("ana@acme.example", "ana@acme.example"),
            ("a,b", "\"a,b\""),
            ("say \"hi\"", "\"say \"\"hi\"\"\""),
            ("=HYPERLINK(\"x\")", "\"'=HYPERLINK(\"\"x\"\")\""),
            ("+1", "'+1"),
            ("-1", "'-1"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("line\nbreak", "line\\nbreak"),
            ("\u{1b}[31mred", "\\u{1b}[31mred"),
        ] {
            let mut line = String::new();
            push_cell(&mut line, text);
            assert_eq!(line, expected, "{text:?}");
        }
    }
}
