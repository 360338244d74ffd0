//! Tables for people: grouped, readable in 80 columns, colour only on a terminal.
//!
//! Entries that share a resource and the same paths are shown together, so that a wildcard
//! grant reads as one block rather than thirty lines.

use std::fmt::Write;

use iamsim_core::report::{
    Assumable, Decision, Effective, Entry, Explanation, Impact, Path, StepKind, UserSummary,
};

const WIDTH: usize = 80;

/// Makes a name from the snapshot safe to print: control characters (ANSI escapes, newlines)
/// are shown escaped instead of acting on the terminal.
pub fn clean(text: &str) -> String {
    if text.chars().any(char::is_control) {
        text.chars()
            .map(|c| {
                if c.is_control() {
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

struct Style {
    color: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

fn user_line(user: &UserSummary) -> String {
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
    let flags = if flags.is_empty() {
        String::new()
    } else {
        format!(" [{}]", flags.join(", "))
    };
    format!(
        "{} <{}> ({}){flags}",
        clean(&user.name),
        clean(&user.email),
        clean(&user.id)
    )
}

/// A path without its first step (the user, who is obvious from context).
fn path_text(path: &Path) -> String {
    let mut parts = Vec::new();
    for step in path.iter().skip(1) {
        let name = clean(step.name.as_deref().unwrap_or_default());
        parts.push(match step.kind {
            StepKind::User => format!("user {name}"),
            StepKind::Organization => format!("root of organization {name}"),
            StepKind::Group => format!("group {name}"),
            StepKind::Role => format!("role {name}"),
            StepKind::Policy => format!("policy {name}"),
            StepKind::Statement => format!("#{}", step.index.unwrap_or_default()),
        });
    }
    if parts.is_empty() {
        return "directly".to_string();
    }
    parts.join(" > ").replace(" > #", " #")
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

/// Entries grouped by (resource, paths), in first-seen order.
fn blocks(out: &mut String, indent: &str, entries: &[Entry], via_word: &str) {
    let mut groups: Vec<(&str, &Vec<Path>, Vec<String>)> = Vec::new();
    for entry in entries {
        match groups
            .iter_mut()
            .find(|(r, v, _)| *r == entry.resource && *v == &entry.via)
        {
            Some((_, _, actions)) => actions.push(clean(&entry.action)),
            None => groups.push((&entry.resource, &entry.via, vec![clean(&entry.action)])),
        }
    }
    for (resource, via, actions) in groups {
        let mut words = actions;
        if let Some(last) = words.last_mut() {
            last.push_str(&format!("  on {}", clean(resource)));
        }
        wrap(out, indent, &words, ", ");
        for path in via {
            let _ = writeln!(out, "{indent}  {via_word} {}", path_text(path));
        }
    }
}

fn assumable_lines(out: &mut String, indent: &str, items: &[Assumable]) {
    for item in items {
        let via: Vec<String> = item.via.iter().map(path_text).collect();
        let _ = writeln!(
            out,
            "{indent}role {} ({}) via {}",
            clean(&item.role.name),
            clean(&item.role.id),
            via.join("; ")
        );
        let mut trust = format!(
            "trust {} {}",
            clean(&item.trust.id),
            clean(&item.trust.trust_type)
        );
        if let Some(until) = &item.trust.valid_until {
            trust.push_str(&format!(", valid until {}", clean(until)));
        }
        let _ = writeln!(out, "{indent}  {trust}");
        // One line per condition, wrapped after commas, to stay within `WIDTH`.
        let conditions = match &item.trust.conditions {
            None => Vec::new(),
            Some(serde_json::Value::Object(map)) => map
                .iter()
                .map(|(key, value)| {
                    format!("condition {}: {}", clean(key), clean(&value.to_string()))
                })
                .collect(),
            Some(other) => vec![format!("conditions {}", clean(&other.to_string()))],
        };
        for line in conditions {
            let words: Vec<String> = line.split_inclusive(',').map(str::to_string).collect();
            wrap(out, &format!("{indent}  "), &words, "");
        }
    }
}

/// A footnote when some entry is a wildcard element, which reads like a pattern but means "the
/// other actions".
fn wildcard_note(out: &mut String, entries: &[&Entry]) {
    if let Some(entry) = entries.iter().find(|e| e.action.ends_with('*')) {
        let text = format!(
            "note: a wildcard such as `{}` in the action column stands for the actions it covers that the catalogue does not name.",
            clean(&entry.action)
        );
        let words: Vec<String> = text.split(' ').map(str::to_string).collect();
        out.push('\n');
        wrap(out, "", &words, " ");
    }
}

fn heading(out: &mut String, style: &Style, code: &str, title: &str, count: usize, gloss: &str) {
    let _ = writeln!(
        out,
        "{}{gloss}",
        style.paint(code, &format!("{title} ({count})"))
    );
}

/// `iamsim effective`.
pub fn effective(report: &Effective, color: bool) -> String {
    let style = Style { color };
    let mut out = String::new();
    let _ = writeln!(out, "{}", user_line(&report.user));
    if report.user.suspended && !report.user.root {
        let _ = writeln!(out, "suspended: no access; assignments are kept");
    }
    heading(&mut out, &style, "32", "ALLOWED", report.allowed.len(), "");
    blocks(&mut out, "  ", &report.allowed, "via");
    heading(
        &mut out,
        &style,
        "31",
        "DENIED",
        report.denied.len(),
        ": an explicit Deny wins",
    );
    blocks(&mut out, "  ", &report.denied, "via");
    heading(
        &mut out,
        &style,
        "36",
        "ASSUMABLE",
        report.assumable.len(),
        ": no standing access",
    );
    assumable_lines(&mut out, "  ", &report.assumable);
    // Root's `*` is every action, not the unnamed ones.
    if !report.user.root {
        wildcard_note(
            &mut out,
            &report
                .allowed
                .iter()
                .chain(&report.denied)
                .collect::<Vec<_>>(),
        );
    }
    out
}

/// `iamsim explain`.
pub fn explain(report: &Explanation, color: bool) -> String {
    let style = Style { color };
    let mut out = String::new();
    let (code, word) = match report.decision {
        Decision::Allowed => ("32", "ALLOWED"),
        Decision::ExplicitDeny => ("31", "EXPLICIT DENY"),
        Decision::ImplicitDeny => ("33", "IMPLICIT DENY"),
    };
    let _ = writeln!(out, "{}", user_line(&report.user));
    let _ = writeln!(
        out,
        "{} on {}: {}",
        clean(&report.action),
        clean(&report.resource),
        style.paint(code, word)
    );
    if let Some(element) = &report.evaluated_as {
        let _ = writeln!(
            out,
            "  (not in the catalogue; evaluated as `{}`)",
            clean(element)
        );
    }
    if let Some(note) = &report.note {
        let _ = writeln!(out, "  {note}");
    }
    for path in &report.deny {
        let _ = writeln!(out, "  deny via {}", path_text(path));
    }
    let allow_word = if report.decision == Decision::ExplicitDeny {
        "overridden allow via"
    } else {
        "allow via"
    };
    for path in &report.allow {
        let _ = writeln!(out, "  {allow_word} {}", path_text(path));
    }
    if report.decision == Decision::ImplicitDeny && report.note.is_none() {
        let _ = writeln!(out, "  no statement allows it");
    }
    out
}

/// `iamsim impact`.
pub fn impact(report: &Impact, color: bool) -> String {
    let style = Style { color };
    let mut out = String::new();
    for change in &report.changes {
        let _ = writeln!(out, "Change: {}", clean(&change.describe()));
    }
    for user in &report.users {
        out.push('\n');
        let _ = writeln!(out, "{}", user_line(&user.user));
        if let Some(note) = &user.note {
            let _ = writeln!(out, "  {note}");
            if user.is_empty() {
                continue;
            }
        }
        heading(&mut out, &style, "31", "  LOST", user.lost.len(), "");
        blocks(&mut out, "    ", &user.lost, "was via");
        heading(
            &mut out,
            &style,
            "32",
            "  KEPT",
            user.kept.len(),
            ": still allowed, through",
        );
        blocks(&mut out, "    ", &user.kept, "via");
        heading(
            &mut out,
            &style,
            "33",
            "  GAINED",
            user.gained.len(),
            ": a Deny goes away",
        );
        blocks(&mut out, "    ", &user.gained, "via");
        heading(
            &mut out,
            &style,
            "35",
            "  ASSUMABLE LOST",
            user.assumable_lost.len(),
            "",
        );
        assumable_lines(&mut out, "    ", &user.assumable_lost);
        let _ = writeln!(
            out,
            "  unchanged: {} permission(s) the change does not touch",
            user.unchanged_count
        );
    }
    let entries: Vec<&Entry> = report
        .users
        .iter()
        .flat_map(|u| u.lost.iter().chain(&u.kept).chain(&u.gained))
        .collect();
    wildcard_note(&mut out, &entries);
    out
}
