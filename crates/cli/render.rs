//! Output for people: tables readable in 80 columns (colour only on a terminal), and Markdown for
//! tickets and pull-request comments. Each report is written once, against [`Doc`], which knows
//! how each format spells a title, a section, a list of entries and a line.
//!
//! Entries that share a resource and the same paths are shown together, so that a wildcard
//! grant reads as one block rather than thirty lines.

use std::fmt::Write;

use iamsim_core::graph::{self, AccessGraph};

use iamsim_core::report::{
    ActiveSession, Assumable, CoveredUser, Decision, Diff, Effective, EntityRef, Entry,
    Explanation, GroupedEntry, Impact, OutsideAssumable, Path, PathId, Rank, Redundancy, ScopeRef,
    Step, UserImpact, UserSummary, WhoCan,
};

const WIDTH: usize = 80;

/// Makes a name from the snapshot safe to print: control characters (ANSI escapes, newlines)
/// and the characters that reorder or break text without being seen (bidirectional controls
/// U+202A–U+202E, U+2066–U+2069, U+200E, U+200F; line and paragraph separators U+2028,
/// U+2029) are shown escaped instead of acting on the terminal or spoofing a table.
pub fn clean(text: &str) -> String {
    fn unsafe_char(c: char) -> bool {
        c.is_control()
            || matches!(
                c,
                '\u{202A}'..='\u{202E}'
                    | '\u{2066}'..='\u{2069}'
                    | '\u{200E}'
                    | '\u{200F}'
                    | '\u{2028}'
                    | '\u{2029}'
            )
    }
    if text.chars().any(unsafe_char) {
        text.chars()
            .map(|c| {
                if unsafe_char(c) {
                    c.escape_default().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect()
    } else {
        text.to_string()
    }
}

/// Escapes what Markdown would read as markup (after [`clean`]).
fn md(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in clean(text).chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\\' | '`' | '*' | '[' | ']' | '|' | '~' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// A Markdown code span holding `text` (backticks inside are replaced, so the span stays one).
fn code(text: &str) -> String {
    format!("`{}`", clean(text).replace('`', "'"))
}

/// A piece of a line: words, or a name or pattern that Markdown shows as code.
enum Span<'a> {
    /// Words.
    Text(&'a str),
    /// A pattern in backticks, in both formats.
    Code(&'a str),
    /// An action or resource: plain in a table, code in Markdown.
    Action(&'a str),
}

/// The output format for people.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A plain-text table; ANSI colour when `color`.
    Table {
        /// Whether to colour headings.
        color: bool,
    },
    /// Markdown.
    Markdown {
        /// Add a ```mermaid block of the answer's graph when it has at most this many edges
        /// (and the output stays within its budget); 0 never adds one.
        mermaid_max_edges: usize,
    },
    /// One self-contained HTML page (`html.rs`).
    Html,
}

/// A document being written in one [`Mode`].
pub struct Doc {
    mode: Mode,
    out: String,
}

impl Doc {
    fn new(mode: Mode) -> Doc {
        Doc {
            mode,
            out: String::new(),
        }
    }

    fn finish(self) -> String {
        self.out
    }

    fn markdown(&self) -> bool {
        matches!(self.mode, Mode::Markdown { .. })
    }

    fn paint(&self, code: &str, text: &str) -> String {
        match self.mode {
            Mode::Table { color: true } => format!("\x1b[{code}m{text}\x1b[0m"),
            _ => text.to_string(),
        }
    }

    /// A top-level line (a title): plain in a table, a heading in Markdown. `text` is raw.
    fn title(&mut self, text: &str) {
        if self.markdown() {
            let _ = writeln!(self.out, "### {}\n", md(text));
        } else {
            let _ = writeln!(self.out, "{}", clean(text));
        }
    }

    /// A line of prose at a nesting depth. `text` is raw.
    fn line(&mut self, depth: usize, text: &str) {
        if self.markdown() {
            self.item(depth, &md(text));
        } else {
            // Long lines wrap at word boundaries, continuing two columns further in.
            let indent = "  ".repeat(depth);
            let first = format!("{indent}{}", clean(text));
            if first.len() <= WIDTH {
                let _ = writeln!(self.out, "{first}");
                return;
            }
            let words: Vec<String> = clean(text).split(' ').map(str::to_string).collect();
            let mut wrapped = String::new();
            wrap(&mut wrapped, &format!("{indent}  "), &words, " ");
            let _ = write!(self.out, "{indent}{}", wrapped.trim_start());
        }
    }

    /// A note from the library (`UserSummary::notes`): prose whose backquoted parts Markdown
    /// shows as code. `text` is raw.
    fn note(&mut self, depth: usize, text: &str) {
        if self.markdown() {
            let markup: String = text
                .split('`')
                .enumerate()
                .map(|(i, part)| if i % 2 == 1 { code(part) } else { md(part) })
                .collect();
            self.item(depth, &markup);
        } else {
            self.line(depth, text);
        }
    }

    /// A line of prose made of spans, for text that mixes words with names or patterns.
    fn spans(&mut self, depth: usize, spans: &[Span]) {
        if self.markdown() {
            let text: String = spans
                .iter()
                .map(|span| match *span {
                    Span::Text(text) => md(text),
                    Span::Code(text) | Span::Action(text) => code(text),
                })
                .collect();
            self.item(depth, &text);
        } else {
            let text: String = spans
                .iter()
                .map(|span| match *span {
                    Span::Text(text) | Span::Action(text) => text.to_string(),
                    Span::Code(text) => format!("`{text}`"),
                })
                .collect();
            self.line(depth, &text);
        }
    }

    /// A Markdown list item at a nesting depth; `markup` is written as it is.
    fn item(&mut self, depth: usize, markup: &str) {
        let _ = writeln!(
            self.out,
            "{}- {markup}",
            "  ".repeat(depth.saturating_sub(1))
        );
    }

    /// In Markdown, a ```mermaid block of the answer's graph when it is small enough (see
    /// [`Mode::Markdown`]) and, with a `budget`, fits in it. GitHub draws it in comments.
    /// `at_least` is a lower bound of the graph's edges known without building it (the users
    /// it holds): above the setting, the graph is not built, since building it costs as much as
    /// the answer's paths.
    fn mermaid(
        &mut self,
        at_least: usize,
        graph: impl FnOnce() -> AccessGraph,
        budget: Option<usize>,
    ) {
        let Mode::Markdown { mermaid_max_edges } = self.mode else {
            return;
        };
        if mermaid_max_edges == 0 || at_least > mermaid_max_edges {
            return;
        }
        let g = graph();
        if g.edge_count() == 0 || g.edge_count() > mermaid_max_edges {
            return;
        }
        let block = format!(
            "**Graph** ({} edges)\n\n```mermaid\n{}```\n",
            g.edge_count(),
            crate::graph::mermaid(&g)
        );
        if budget.is_some_and(|b| self.out.len() + block.len() + 1 > b) {
            return;
        }
        self.separate();
        self.out.push_str(&block);
    }

    fn blank(&mut self) {
        self.out.push('\n');
    }

    /// A blank line unless the output is empty or already ends with one (Markdown blocks are
    /// separated by exactly one).
    fn separate(&mut self) {
        if !self.out.is_empty() && !self.out.ends_with("\n\n") {
            self.out.push('\n');
        }
    }

    /// A section heading with a count, at a nesting depth.
    fn section(&mut self, depth: usize, color: &str, title: &str, count: usize, gloss: &str) {
        if self.markdown() {
            self.separate();
            let _ = writeln!(self.out, "**{title} ({count})**{}\n", md(gloss));
        } else {
            let heading = self.paint(color, &format!("{title} ({count})"));
            let _ = writeln!(self.out, "{}{heading}{gloss}", "  ".repeat(depth));
        }
    }

    /// Entries grouped by (resource, paths), in first-seen order, at a nesting depth.
    fn entries(&mut self, depth: usize, entries: &[Entry], via_word: &str) {
        let mut groups: Vec<(&str, &Vec<Path>, Vec<&str>)> = Vec::new();
        for entry in entries {
            match groups
                .iter_mut()
                .find(|(r, v, _)| *r == entry.resource && *v == &entry.via)
            {
                Some((_, _, actions)) => actions.push(&entry.action),
                None => groups.push((&entry.resource, &entry.via, vec![&entry.action])),
            }
        }
        for (resource, via, actions) in groups {
            let via: Vec<String> = via.iter().map(path_text).collect();
            self.group(depth, &actions, resource, &via, via_word);
        }
    }

    /// An impact's shared entries, in the order given, at a nesting depth: each entry's actions
    /// grouped by their own paths.
    fn shared(
        &mut self,
        depth: usize,
        report: &Impact,
        (entries, shared): (&[GroupedEntry], &[PathId]),
        via_word: &str,
    ) {
        let mut groups: Vec<_> = entries
            .iter()
            .flat_map(|entry| {
                report
                    .exact_groups(shared, entry)
                    .into_iter()
                    .map(move |(actions, via)| (actions, &entry.resource, via))
            })
            .collect();
        groups.sort_by(|a, b| (a.0[0], a.1).cmp(&(b.0[0], b.1)));
        for (actions, resource, via) in groups {
            let actions: Vec<&str> = actions.iter().map(|&a| report.action(a)).collect();
            let via: Vec<String> = via.iter().map(|&p| steps_text(report.path(p))).collect();
            self.group(depth, &actions, resource, &via, via_word);
        }
    }

    /// Actions sharing a resource and paths (the paths as text).
    fn group(
        &mut self,
        depth: usize,
        actions: &[&str],
        resource: &str,
        via: &[String],
        via_word: &str,
    ) {
        if self.markdown() {
            let list: Vec<String> = actions.iter().map(|a| code(a)).collect();
            let _ = writeln!(self.out, "- {} on {}", list.join(", "), code(resource));
            for path in via {
                let _ = writeln!(self.out, "  - {via_word} {}", md(path));
            }
        } else {
            let indent = "  ".repeat(depth);
            let mut words: Vec<String> = actions.iter().map(|a| clean(a)).collect();
            if let Some(last) = words.last_mut() {
                last.push_str(&format!("  on {}", clean(resource)));
            }
            wrap(&mut self.out, &indent, &words, ", ");
            for path in via {
                let _ = writeln!(self.out, "{indent}  {via_word} {path}");
            }
        }
    }

    fn sessions(&mut self, depth: usize, items: &[ActiveSession]) {
        for session in items {
            let mut line = format!("role {} ({})", session.role.name, session.role.id);
            if let Some(name) = &session.session_name {
                line.push_str(&format!(", session {name}"));
            }
            self.line(depth, &line);
            let mut times = match &session.expires_at {
                Some(until) => format!("expires {until}"),
                None => "expiry unknown".to_string(),
            };
            if let Some(at) = &session.assumed_at {
                times.push_str(&format!(", assumed {at}"));
            }
            self.line(depth + 1, &times);
        }
    }

    fn assumables(&mut self, depth: usize, items: &[Assumable]) {
        for item in items {
            let via: Vec<String> = item.via.iter().map(path_text).collect();
            self.line(
                depth,
                &format!(
                    "role {} ({}) via {}",
                    item.role.name,
                    item.role.id,
                    via.join("; ")
                ),
            );
            let mut trust = format!("trust {} {}", item.trust.id, item.trust.trust_type);
            if let Some(until) = &item.trust.valid_until {
                trust.push_str(&format!(", valid until {until}"));
            }
            self.line(depth + 1, &trust);
            if let Some(refused) = &item.trust.refused {
                self.line(depth + 1, &format!("not assumable: {refused}"));
            }
            // One line per condition, wrapped after commas, to stay within `WIDTH`.
            let conditions = match &item.trust.conditions {
                None => Vec::new(),
                Some(serde_json::Value::Object(map)) => map
                    .iter()
                    .map(|(key, value)| format!("condition {key}: {value}"))
                    .collect(),
                Some(other) => vec![format!("conditions {other}")],
            };
            for line in conditions {
                if self.markdown() {
                    self.line(depth + 1, &line);
                } else {
                    let words: Vec<String> = clean(&line)
                        .split_inclusive(',')
                        .map(str::to_string)
                        .collect();
                    wrap(&mut self.out, &"  ".repeat(depth + 1), &words, "");
                }
            }
        }
    }

    /// A footnote when some entry is a wildcard element, which reads like a pattern but means
    /// "the other actions".
    fn wildcard_note<'a>(&mut self, entries: impl Iterator<Item = &'a Entry>) {
        self.wildcard_note_for(entries.map(|e| e.action.as_str()));
    }

    /// [`Doc::wildcard_note`] over action names.
    fn wildcard_note_for<'a>(&mut self, mut actions: impl Iterator<Item = &'a str>) {
        if let Some(action) = actions.find(|a| a.ends_with('*')) {
            let (before, after) = (
                "note: a wildcard such as ",
                " in the action column stands for the actions it covers that the catalogue does not name.",
            );
            self.footnote(&format!("{before}`{}`{after}", clean(action)), || {
                format!("_{before}{}{after}_", code(action))
            });
        }
    }

    /// A closing note: wrapped text after a blank line, or one Markdown line in italics.
    fn footnote(&mut self, text: &str, markdown: impl FnOnce() -> String) {
        if self.markdown() {
            self.separate();
            let _ = writeln!(self.out, "{}", markdown());
        } else {
            self.blank();
            let words: Vec<String> = text.split(' ').map(str::to_string).collect();
            wrap(&mut self.out, "", &words, " ");
        }
    }
}

pub(crate) fn user_line(user: &UserSummary) -> String {
    let mut flags = Vec::new();
    if user.root {
        flags.push("root");
    }
    if user.service_user {
        flags.push("service user");
    }
    if user.suspended {
        flags.push("suspended");
    }
    if user.root_by_acl() {
        flags.push("root-equivalent by legacy ACL");
    } else if !user.legacy_acls.is_empty() {
        flags.push("legacy ACLs");
    }
    if !user.conditional.is_empty() {
        flags.push("conditional");
    }
    let flags = if flags.is_empty() {
        String::new()
    } else {
        format!(" [{}]", flags.join(", "))
    };
    let name = if user.name.is_empty() {
        String::new()
    } else {
        format!("{} ", user.name)
    };
    format!("{name}<{}> ({}){flags}", user.email, user.id)
}

fn entity(e: &EntityRef) -> String {
    if e.name == e.id {
        e.id.clone()
    } else {
        format!("{} ({})", e.name, e.id)
    }
}

/// A path without its first step (the user, who is obvious from context).
pub(crate) fn path_text(path: &Path) -> String {
    clean(&iamsim_core::report::path_text(path).to_string())
}

/// The steps of a path after the user: `group DevOps > policy compute-admin #0`
/// ([`StepsText`](iamsim_core::report::StepsText), made safe for a terminal).
pub(crate) fn steps_text(steps: &[Step]) -> String {
    clean(&iamsim_core::report::StepsText(steps).to_string())
}

/// Words wrapped to `WIDTH`, each line starting with `indent`.
fn wrap(out: &mut String, indent: &str, words: &[String], separator: &str) {
    let mut line = String::from(indent);
    for (i, word) in words.iter().enumerate() {
        let piece = if i + 1 < words.len() {
            format!("{word}{separator}")
        } else {
            word.clone()
        };
        if line.len() > indent.len() && line.len() + piece.trim_end().len() > WIDTH {
            out.push_str(line.trim_end());
            out.push('\n');
            line = String::from(indent);
        }
        line.push_str(&piece);
    }
    out.push_str(line.trim_end());
    out.push('\n');
}

/// `iamsim effective`.
pub fn effective(report: &Effective, mode: Mode) -> String {
    if mode == Mode::Html {
        return crate::html::effective(report);
    }
    let mut doc = Doc::new(mode);
    doc.title(&user_line(&report.user));
    for note in report.user.notes() {
        doc.note(0, &note);
    }
    if report.user.suspended && !report.user.root {
        doc.line(0, "suspended: no access; assignments are kept");
    }
    doc.section(0, "32", "ALLOWED", report.allowed.len(), "");
    doc.entries(1, &report.allowed, "via");
    doc.section(
        0,
        "31",
        "DENIED",
        report.denied.len(),
        ": an explicit Deny wins",
    );
    doc.entries(1, &report.denied, "via");
    doc.section(
        0,
        "36",
        "ASSUMABLE",
        report.assumable.len(),
        ": no standing access",
    );
    doc.assumables(1, &report.assumable);
    if !report.sessions.is_empty() {
        doc.section(
            0,
            "35",
            "ACTIVE SESSIONS",
            report.sessions.len(),
            ": held when the snapshot was taken; each lasts until it expires",
        );
        doc.sessions(1, &report.sessions);
    }
    // Root's `*` is every action, not the unnamed ones.
    if !report.user.root {
        doc.wildcard_note(report.allowed.iter().chain(&report.denied));
    }
    doc.mermaid(0, || graph::of_effective(report), None);
    doc.finish()
}

/// `iamsim explain`.
pub fn explain(report: &Explanation, mode: Mode) -> String {
    if mode == Mode::Html {
        return crate::html::explain(report);
    }
    let mut doc = Doc::new(mode);
    let (color, word) = match report.decision {
        Decision::Allowed => ("32", "ALLOWED"),
        Decision::ExplicitDeny => ("31", "EXPLICIT DENY"),
        Decision::ImplicitDeny => ("33", "IMPLICIT DENY"),
    };
    doc.title(&user_line(&report.user));
    let verdict = doc.paint(color, word);
    if doc.markdown() {
        let _ = writeln!(
            doc.out,
            "{} on {}: **{word}**\n",
            code(&report.action),
            code(&report.resource)
        );
    } else {
        let _ = writeln!(
            doc.out,
            "{} on {}: {verdict}",
            clean(&report.action),
            clean(&report.resource)
        );
    }
    if let Some(element) = &report.evaluated_as {
        doc.spans(
            1,
            &[
                Span::Text("(not in the catalogue; evaluated as "),
                Span::Code(element),
                Span::Text(")"),
            ],
        );
    }
    if let Some(note) = &report.note {
        doc.line(1, note);
    }
    for note in report.user.notes() {
        doc.note(1, &note);
    }
    for path in &report.deny {
        doc.line(1, &format!("deny via {}", path_text(path)));
    }
    let allow_word = if report.decision == Decision::ExplicitDeny {
        "overridden allow via"
    } else {
        "allow via"
    };
    for path in &report.allow {
        doc.line(1, &format!("{allow_word} {}", path_text(path)));
    }
    // Under nearest-wins: the statements a nearer attachment overrides.
    for path in &report.overridden_deny {
        doc.line(1, &format!("overridden deny via {}", path_text(path)));
    }
    for path in &report.overridden_allow {
        doc.line(1, &format!("overridden allow via {}", path_text(path)));
    }
    if report.decision == Decision::ImplicitDeny && report.note.is_none() {
        doc.line(1, "no statement allows it");
    }
    if !report.not_assumable.is_empty() {
        doc.section(
            0,
            "35",
            "NOT ASSUMABLE",
            report.not_assumable.len(),
            ": a trust condition fails (--at, --from)",
        );
        doc.assumables(1, &report.not_assumable);
    }
    doc.mermaid(0, || graph::of_explanation(report), None);
    doc.finish()
}

/// One role a principal outside the organization may assume, in words.
pub(crate) fn outside_line(item: &OutsideAssumable) -> String {
    let kind = match item.principal_kind.as_str() {
        "oidc_issuer" => "OIDC issuer",
        other => other,
    };
    format!(
        "{kind} {} may assume role {} ({}) through trust {} {}",
        item.principal_id, item.role.name, item.role.id, item.trust.id, item.trust.trust_type
    )
}

/// What a what-if says of a session that outlives the trust it removes.
pub(crate) fn session_continues(session: &ActiveSession) -> String {
    let name = session
        .session_name
        .as_ref()
        .map_or(String::new(), |n| format!(" `{n}`"));
    let until = session
        .expires_at
        .as_ref()
        .map_or("it expires (expiry unknown)".to_string(), |e| e.clone());
    format!(
        "the session{name} of role {} ({}) continues until {until}: losing the trust does not end it",
        session.role.name, session.role.id
    )
}

/// How `iamsim impact` shows a report to people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ImpactView {
    /// List what each user keeps in full, instead of counting it by what carries it.
    pub show_kept: bool,
    /// List at most this many users in full (the rest are counted); `None` lists all.
    pub limit: Option<usize>,
    /// Stop listing users before the output would pass this many bytes (Markdown for a
    /// comment box); the rest are counted.
    pub budget: Option<usize>,
    /// The summary alone, no user listed.
    pub summary_only: bool,
}

/// How many of the most-lost actions and most-affected users a summary lists.
const TOP: usize = 10;

fn user_impact(doc: &mut Doc, report: &Impact, user: &UserImpact, view: &ImpactView) {
    if doc.markdown() {
        doc.separate();
        let _ = writeln!(
            doc.out,
            "<details>\n<summary>{}: lost {}, kept {}, gained {}</summary>\n",
            html(&user_line(&user.user)),
            user.counts.lost,
            user.counts.kept,
            user.counts.gained
        );
    } else {
        doc.blank();
        doc.title(&user_line(&user.user));
    }
    user_details(doc, report, user, view);
    if doc.markdown() {
        doc.separate();
        let _ = writeln!(doc.out, "</details>");
    }
}

fn user_details(doc: &mut Doc, report: &Impact, user: &UserImpact, view: &ImpactView) {
    for note in user.notes() {
        doc.note(1, &note);
    }
    if let Some(note) = &user.note {
        doc.line(1, note);
        if user.is_empty() {
            return;
        }
    }
    doc.section(1, "31", "LOST", user.counts.lost, "");
    doc.shared(2, report, (&user.lost, &user.shared.lost), "was via");
    if view.show_kept || user.kept.is_empty() {
        doc.section(
            1,
            "32",
            "KEPT",
            user.counts.kept,
            ": still allowed, through",
        );
        doc.shared(2, report, (&user.kept, &user.shared.kept), "via");
    } else {
        doc.section(
            1,
            "32",
            "KEPT",
            user.counts.kept,
            ": still allowed; carried by",
        );
        doc.line(2, &carriers(report, (&user.kept, &user.shared.kept)));
    }
    doc.section(1, "33", "GAINED", user.counts.gained, ": newly allowed");
    doc.shared(2, report, (&user.gained, &user.shared.gained), "via");
    doc.section(1, "35", "ASSUMABLE LOST", user.assumable_lost.len(), "");
    doc.assumables(2, &user.assumable_lost);
    for session in &user.sessions_continue {
        doc.note(2, &session_continues(session));
    }
    if !user.assumable_gained.is_empty() {
        doc.section(1, "35", "ASSUMABLE GAINED", user.assumable_gained.len(), "");
        doc.assumables(2, &user.assumable_gained);
    }
    if doc.markdown() {
        doc.separate();
    }
    doc.line(
        1,
        &format!(
            "unchanged: {} permission(s) the change does not touch",
            user.unchanged_count
        ),
    );
}

/// What carries a user's kept permissions: the first step of each path (a group, a role or a
/// direct policy) with the number of (action, resource) pairs it carries, most first.
fn carriers(report: &Impact, (kept, shared): (&[GroupedEntry], &[PathId])) -> String {
    let mut counts: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
    for entry in kept {
        for (actions, via) in report.exact_groups(shared, entry) {
            let mut firsts: Vec<String> = via
                .iter()
                .filter_map(|&p| report.path(p).first())
                .map(|step| steps_text(std::slice::from_ref(step)))
                .collect();
            firsts.sort();
            firsts.dedup();
            for first in firsts {
                *counts.entry(first).or_default() += actions.len();
            }
        }
    }
    let mut counts: Vec<(String, usize)> = counts.into_iter().collect();
    counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let parts: Vec<String> = counts
        .iter()
        .map(|(carrier, n)| format!("{carrier} ({n})"))
        .collect();
    parts.join(", ")
}

/// The summary: who is reached and affected, pairs by list, and (for a report larger than
/// what it lists, or `--summary`) the actions most lost and the users most affected.
fn impact_summary(doc: &mut Doc, report: &Impact, listed: usize, view: &ImpactView) {
    let summary = &report.summary;
    doc.line(
        0,
        &format!(
            "{} user(s) affected: {} lose access, {} gain access",
            summary.users_affected, summary.users_losing, summary.users_gaining
        ),
    );
    doc.line(
        1,
        &format!(
            "{} user(s) reached; permissions lost {}, kept {}, gained {}",
            summary.users_reached, summary.pairs.lost, summary.pairs.kept, summary.pairs.gained
        ),
    );
    if !view.summary_only && listed >= summary.users_affected {
        return;
    }
    let mut actions: Vec<_> = report
        .actions
        .iter()
        .filter(|a| a.lost > 0 || a.gained > 0)
        .collect();
    actions.sort_by(|a, b| {
        (b.lost + b.gained)
            .cmp(&(a.lost + a.gained))
            .then_with(|| a.action.cmp(&b.action))
    });
    if !actions.is_empty() {
        doc.section(1, "31", "MOST LOST OR GAINED", actions.len(), " action(s)");
        for action in actions.iter().take(TOP) {
            doc.spans(
                2,
                &[
                    Span::Action(&action.action),
                    Span::Text(&format!(
                        ": {} user(s) lose it, {} gain it",
                        action.lost, action.gained
                    )),
                ],
            );
        }
        if actions.len() > TOP {
            doc.line(
                2,
                &format!("... and {} more action(s)", actions.len() - TOP),
            );
        }
    }
    if !report.users.is_empty() {
        doc.section(1, "31", "MOST AFFECTED", summary.users_affected, " user(s)");
        for user in report.users.iter().take(TOP) {
            doc.line(
                2,
                &format!(
                    "{}: lost {}, kept {}, gained {}",
                    user_line(&user.user),
                    user.counts.lost,
                    user.counts.kept,
                    user.counts.gained
                ),
            );
        }
    }
}

/// `iamsim impact`: the changes, the summary, then each user (as many as the view lets
/// through, saying how many it leaves out).
pub fn impact(report: &Impact, mode: Mode, view: &ImpactView) -> String {
    if mode == Mode::Html {
        return crate::html::impact(report, view);
    }
    let mut doc = Doc::new(mode);
    for change in &report.changes {
        doc.line(0, &format!("Change: {}", change.describe()));
    }
    // The report may hold only the first users (`ImpactStream::first`): the summary counts all.
    let total = report.summary.users_affected;
    if total == 0 {
        doc.separate();
        doc.line(0, "Nobody's access changes.");
        return doc.finish();
    }
    let mut listed = if view.summary_only {
        0
    } else {
        view.limit.unwrap_or(usize::MAX).min(report.users.len())
    };
    // Markdown for a comment box: render each user apart and stop before the budget.
    let mut blocks = Vec::new();
    if let Some(budget) = view.budget.filter(|_| listed > 0) {
        let mut used = 0;
        for user in &report.users[..listed] {
            let mut block = Doc::new(mode);
            user_impact(&mut block, report, user, view);
            let block = block.finish();
            // Room for the summary and the closing notes.
            if used + block.len() + 4_096 > budget {
                if blocks.is_empty() {
                    // Not even the first user fits: the start of their block, said as cut.
                    blocks.push(cut_block(&block, budget.saturating_sub(4_096 + 512)));
                }
                break;
            }
            used += block.len();
            blocks.push(block);
        }
        listed = blocks.len();
    }
    if total > 1 || view.summary_only {
        impact_summary(&mut doc, report, listed, view);
    }
    if view.budget.is_some() {
        for block in blocks {
            doc.separate();
            doc.out.push_str(&block);
        }
    } else {
        for user in &report.users[..listed] {
            user_impact(&mut doc, report, user, view);
        }
    }
    let left = total - listed;
    if left > 0 && !view.summary_only {
        let (all, json) = ("--limit 0", "--format json");
        let text = format!(
            "... {left} more user(s) not listed: `{all}` lists every user, `{json}` gives every entry."
        );
        doc.footnote(&text, || {
            format!(
                "_... {left} more user(s) not listed: {} lists every user, {} gives every entry._",
                code(all),
                code(json)
            )
        });
    }
    let shown = &report.users[..listed];
    let kept_hidden = !view.show_kept && shown.iter().any(|u| !u.kept.is_empty());
    if kept_hidden {
        let text = "note: what users keep is counted by what carries it; `--show-kept` lists it.";
        doc.footnote(text, || {
            format!(
                "_note: what users keep is counted by what carries it; {} lists it._",
                code("--show-kept")
            )
        });
    }
    let entries = shown
        .iter()
        .flat_map(|u| {
            let kept: &[GroupedEntry] = if view.show_kept { &u.kept } else { &[] };
            u.lost.iter().chain(kept).chain(&u.gained)
        })
        .flat_map(|entry| entry.actions.iter())
        .map(|&a| report.action(a));
    doc.wildcard_note_for(entries);
    // The graph of what the report lists, when it lists every user it holds.
    if listed == report.users.len() && !view.summary_only {
        doc.mermaid(
            crate::html::users_with_paths(report),
            || graph::of_impact(report),
            view.budget,
        );
    }
    doc.finish()
}

/// The start of a user's Markdown block that fits in `room`, cut before an entry or a list
/// (never between an entry and its paths), saying so and closing the `<details>`.
fn cut_block(block: &str, room: usize) -> String {
    let cut = block
        .match_indices('\n')
        .map(|(i, _)| i + 1)
        .take_while(|&i| i <= room)
        .filter(|&i| block[i..].starts_with("- ") || block[i..].starts_with("**"))
        .last()
        .unwrap_or(0);
    format!(
        "{}\n_... this user's lists are cut here to fit a comment: {} prints them whole._\n\n</details>\n",
        &block[..cut],
        code("--limit 1")
    )
}

/// Escapes text for HTML (inside a Markdown `<summary>`), after [`clean`].
fn html(text: &str) -> String {
    clean(text)
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// `iamsim who-can`.
pub fn who_can(report: &WhoCan, mode: Mode) -> String {
    if mode == Mode::Html {
        return crate::html::who_can(report);
    }
    let mut doc = Doc::new(mode);
    doc.title(&format!("Who can {} on {}", report.action, report.resource));
    if let Some(element) = &report.evaluated_as {
        doc.spans(
            1,
            &[
                Span::Text("(not in the catalogue; evaluated as "),
                Span::Code(element),
                Span::Text(")"),
            ],
        );
    }
    doc.section(0, "32", "ALLOWED", report.allowed.len(), "");
    for entry in &report.allowed {
        doc.line(1, &user_line(&entry.user));
        for note in entry.user.notes() {
            doc.note(2, &note);
        }
        for path in &entry.via {
            doc.line(2, &format!("via {}", path_text(path)));
        }
        for path in &entry.overridden {
            doc.line(2, &format!("overridden deny via {}", path_text(path)));
        }
    }
    doc.section(
        0,
        "31",
        "DENIED",
        report.denied.len(),
        ": an explicit Deny blocks an Allow",
    );
    for entry in &report.denied {
        doc.line(1, &user_line(&entry.user));
        for note in entry.user.notes() {
            doc.note(2, &note);
        }
        for path in &entry.via {
            doc.line(2, &format!("deny via {}", path_text(path)));
        }
        for path in &entry.overridden {
            doc.line(2, &format!("overridden allow via {}", path_text(path)));
        }
    }
    let outside = [
        (
            &report.root_equivalent,
            "35",
            "ROOT-EQUIVALENT BY LEGACY ACL",
            ": not allowed by IAM, allowed anyway",
        ),
        (
            &report.may_be_allowed,
            "33",
            "MAY BE ALLOWED",
            ": by an Allow with a condition iamsim does not evaluate",
        ),
    ];
    for (users, color, title, gloss) in outside {
        if users.is_empty() {
            continue;
        }
        doc.section(0, color, title, users.len(), gloss);
        for user in users {
            doc.line(1, &user_line(user));
            for note in user.notes() {
                doc.note(2, &note);
            }
        }
    }
    if !report.outside.is_empty() {
        doc.section(
            0,
            "35",
            "ASSUMABLE FROM OUTSIDE",
            report.outside.len(),
            ": a trust lets a principal outside the organization's users assume a role that allows it",
        );
        for item in &report.outside {
            doc.line(1, &outside_line(item));
        }
    }
    doc.mermaid(
        report.allowed.len() + report.denied.len(),
        || graph::of_who_can(report),
        None,
    );
    doc.finish()
}

/// `iamsim redundant`.
pub fn redundancy(report: &Redundancy, mode: Mode) -> String {
    if mode == Mode::Html {
        return crate::html::redundancy(report);
    }
    let mut doc = Doc::new(mode);
    if let Some(scope) = &report.scope {
        doc.title(&scope_text(scope));
    }
    doc.section(
        0,
        "33",
        "REDUNDANT",
        report.edges.len(),
        ": removing any one of these loses nothing for anyone",
    );
    for edge in &report.edges {
        doc.line(1, &edge.change.describe());
        if edge.covered.is_empty() {
            doc.line(2, "nobody's access depends on it");
        }
        for user in &edge.covered {
            doc.line(2, &covered_line(report, user));
        }
    }
    doc.section(
        0,
        "33",
        "SHADOWED",
        report.shadowed.len(),
        ": Allow statements denied for every user they reach",
    );
    for s in &report.shadowed {
        doc.line(
            1,
            &format!(
                "policy {} statement {} ({} user(s))",
                entity(&s.policy),
                s.index,
                s.users
            ),
        );
    }
    doc.mermaid(report.edges.len(), || graph::of_redundancy(report), None);
    doc.finish()
}

/// Covering paths a table line lists in full; beyond, it names what carries them.
const COVERING_PATHS: usize = 4;

/// One covered user of a redundant edge: its paths in full when they are few, else how many
/// and the groups, roles or direct policies they start from (JSON lists every one).
fn covered_line(report: &Redundancy, user: &CoveredUser) -> String {
    let head = format!("{}: {} permission(s) still via", user.user.email, user.kept);
    if user.via.len() <= COVERING_PATHS {
        let via: Vec<String> = user
            .via
            .iter()
            .map(|&p| steps_text(report.path(p)))
            .collect();
        return format!("{head} {}", via.join("; "));
    }
    let mut carriers: Vec<&Step> = user
        .via
        .iter()
        .filter_map(|&p| report.path(p).first())
        .collect();
    carriers.sort();
    carriers.dedup();
    let carriers: Vec<String> = carriers.iter().map(|s| clean(&s.to_string())).collect();
    format!(
        "{head} {} other paths, through {} (--format json lists every one)",
        user.via.len(),
        carriers.join(", ")
    )
}

/// What a narrowed redundancy report tried: "Narrowed to the edges of group X (g-x), user
/// ana@... (u-ana)".
pub(crate) fn scope_text(scope: &ScopeRef) -> String {
    let names: Vec<String> = scope
        .groups
        .iter()
        .map(|g| format!("group {}", entity(g)))
        .chain(
            scope
                .users
                .iter()
                .map(|u| format!("user {} ({})", u.email, u.id)),
        )
        .collect();
    format!(
        "Narrowed to the memberships and attachments of {}",
        names.join(", ")
    )
}

/// A list of actions, shortened past a few.
fn shorten(actions: &[&str]) -> String {
    let mut unique: Vec<&str> = actions.to_vec();
    unique.dedup();
    if unique.len() <= 4 {
        unique.join(", ")
    } else {
        format!("{} and {} more", unique[..3].join(", "), unique.len() - 3)
    }
}

/// A diff's entities added and removed, per kind (the plural noun first), in the order every
/// format lists them.
pub(crate) fn diff_kinds(report: &Diff) -> [(&'static str, &[EntityRef], &[EntityRef]); 5] {
    let (a, r) = (&report.added, &report.removed);
    [
        ("users", &a.users, &r.users),
        ("groups", &a.groups, &r.groups),
        ("roles", &a.roles, &r.roles),
        ("policies", &a.policies, &r.policies),
        ("role trusts", &a.role_trusts, &r.role_trusts),
    ]
}

/// `iamsim diff`.
pub fn diff(report: &Diff, mode: Mode) -> String {
    if mode == Mode::Html {
        return crate::html::diff(report);
    }
    let mut doc = Doc::new(mode);
    let kinds = diff_kinds(report);
    for (kind, added, removed) in kinds {
        if !added.is_empty() {
            let names: Vec<String> = added.iter().map(entity).collect();
            doc.line(0, &format!("{kind} added: {}", names.join(", ")));
        }
        if !removed.is_empty() {
            let names: Vec<String> = removed.iter().map(entity).collect();
            doc.line(0, &format!("{kind} removed: {}", names.join(", ")));
        }
    }
    if report.users.is_empty() {
        doc.line(0, "Nobody's access changed.");
    }
    for user in &report.users {
        doc.blank();
        doc.title(&user_line(&user.user));
        doc.section(1, "31", "LOST", user.lost.len(), "");
        doc.entries(2, &user.lost, "was via");
        doc.section(1, "32", "GAINED", user.gained.len(), "");
        doc.entries(2, &user.gained, "via");
        doc.section(
            1,
            "36",
            "OTHER PATHS",
            user.provenance.len(),
            ": still allowed, through other paths",
        );
        for change in &user.provenance {
            doc.spans(
                2,
                &[
                    Span::Action(&change.action),
                    Span::Text(" on "),
                    Span::Action(&change.resource),
                ],
            );
            for path in &change.before {
                doc.line(3, &format!("was via {}", path_text(path)));
            }
            for path in &change.after {
                doc.line(3, &format!("now via {}", path_text(path)));
            }
        }
        if !user.assumable_lost.is_empty() {
            doc.section(1, "35", "ASSUMABLE LOST", user.assumable_lost.len(), "");
            doc.assumables(2, &user.assumable_lost);
        }
        if !user.assumable_gained.is_empty() {
            doc.section(1, "35", "ASSUMABLE GAINED", user.assumable_gained.len(), "");
            doc.assumables(2, &user.assumable_gained);
        }
    }
    doc.wildcard_note(
        report
            .users
            .iter()
            .flat_map(|u| u.lost.iter().chain(&u.gained)),
    );
    doc.mermaid(report.users.len(), || graph::of_diff(report), None);
    doc.finish()
}

/// `iamsim rank`.
pub fn rank(report: &Rank, mode: Mode) -> String {
    if mode == Mode::Html {
        return crate::html::text("Rank", &rank(report, Mode::Table { color: false }));
    }
    let mut doc = Doc::new(mode);
    doc.title(&user_line(&report.user));
    doc.section(
        0,
        "33",
        "REMOVALS",
        report.removals.len(),
        ": most access taken away first",
    );
    for removal in &report.removals {
        let mut counts = format!("loses {}", removal.lost.len());
        if !removal.gained.is_empty() {
            counts.push_str(&format!(", gains {}", removal.gained.len()));
        }
        if !removal.assumable_lost.is_empty() {
            counts.push_str(&format!(
                ", {} assumable role(s)",
                removal.assumable_lost.len()
            ));
        }
        doc.line(1, &format!("{}: {counts}", removal.change.describe()));
        if !removal.lost.is_empty() {
            let actions: Vec<&str> = removal.lost.iter().map(|e| e.action.as_str()).collect();
            doc.line(2, &shorten(&actions));
        }
    }
    doc.finish()
}
