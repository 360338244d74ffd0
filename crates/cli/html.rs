//! `--format html`: one self-contained page per answer, to hand to someone who is not at a
//! terminal. Inline CSS, an inline SVG of the answer's graph (`iamsim_core::graph`, drawn in
//! layered columns: users, groups, roles, policies, statements) and a few lines of inline
//! script that sort and filter the tables. A Content-Security-Policy forbids every request, so
//! the page works offline and a name from the snapshot cannot fetch or run anything.
//!
//! Every name from the snapshot goes through [`esc`]: control and bidirectional characters are
//! shown escaped ([`render::clean`]) and the five HTML specials become entities, in text and
//! in attribute values alike. The script is a constant and reads no data as code.
//!
//! Big answers are bounded the way Markdown is: blocks (a user of an impact or a diff, a table
//! row) are added while the page stays within [`BUDGET`] bytes, and the page says what it left
//! out and how to get it.

use std::fmt::Write as _;

use iamsim_core::graph::{self, AccessGraph, EdgeChange, NodeKind, Relation};
use iamsim_core::policy::Effect;
use iamsim_core::report::{
    ActionId, Assumable, Decision, Diff, Effective, Entry, Explanation, GroupedEntry, Impact, Path,
    PathId, Redundancy, UserImpact, UserSummary, WhoCan,
};
use petgraph::visit::EdgeRef;

use crate::render::{self, ImpactView};

/// The most bytes a page's tables and lists take before the rest is counted instead of
/// listed (4 MiB: a browser opens it at once, a mail attachment carries it).
pub const BUDGET: usize = 4 << 20;

/// The users an impact page lists at most unless `--limit` says otherwise (each is judged in
/// full; the summary counts every user).
pub const USERS: usize = 1_000;

/// The most nodes the graph is drawn with; a larger graph is left out, with a note naming
/// `iamsim graph`, which writes it whole.
pub const GRAPH_MAX_NODES: usize = 200;

/// Text for HTML, in an element or an attribute value: [`render::clean`], then `&`, `<`, `>`,
/// `"` and `'` as entities.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in render::clean(text).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// An impact entry's actions grouped by their own paths: `(actions, paths)`
/// ([`Impact::exact_groups`], with its list's `shared` paths), the only place the HTML report
/// reads `GroupedEntry::via`.
pub(crate) fn entry_groups(
    impact: &Impact,
    shared: &[PathId],
    entry: &GroupedEntry,
) -> Vec<(Vec<ActionId>, Vec<PathId>)> {
    impact.exact_groups(shared, entry)
}

const STYLE: &str = r#"
:root{--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--bg:#fff;--head:#f6f8fa;--red:#b42318;--green:#1a7f37;--amber:#9a6700;--blue:#0969da}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;color:var(--fg);background:var(--bg);margin:0 auto;padding:16px 24px 48px;max-width:1400px}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}
.sub{color:var(--muted);margin:0 0 12px}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}
.figures{display:flex;flex-wrap:wrap;gap:10px;margin:12px 0}
.fig{border:1px solid var(--line);border-radius:8px;padding:8px 14px;min-width:120px;background:var(--head)}
.fig b{display:block;font-size:22px}.fig span{color:var(--muted);font-size:12px}
.fig.lost b,.deny,.lost{color:var(--red)}.fig.gained b,.allow,.gained{color:var(--green)}.kept{color:var(--blue)}.warn{color:var(--amber)}
table{border-collapse:collapse;width:100%;margin:6px 0 10px}
th,td{border:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}
th{background:var(--head);cursor:pointer;user-select:none;white-space:nowrap}
th[aria-sort=ascending]::after{content:" \25B2"}th[aria-sort=descending]::after{content:" \25BC"}
td.n{text-align:right;font-variant-numeric:tabular-nums}
input.filter{font:inherit;padding:4px 8px;border:1px solid var(--line);border-radius:6px;width:320px;max-width:100%}
details{margin:2px 0}details>summary{cursor:pointer}
details.user{border:1px solid var(--line);border-radius:8px;padding:6px 10px;margin:8px 0}
details.user>summary{font-weight:600}
ol.paths{margin:4px 0;padding-left:22px}
.note{color:var(--muted);font-style:italic}
.left{border-left:4px solid var(--amber);padding:6px 10px;background:#fff8e6}
.graph svg{max-width:100%;height:auto}
.graph{overflow-x:auto;border:1px solid var(--line);border-radius:8px;background:#fcfcfd}
.legend{color:var(--muted);font-size:12px;margin:4px 0}
svg text{font:12px system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif}
svg .node rect{stroke:#8c959f;fill:#fff}svg .user rect{fill:#ddf4ff}svg .group rect,svg .organization rect{fill:#fff8c5}
svg .role rect{fill:#fbefff}svg .policy rect{fill:#f6f8fa}svg .allowst rect{fill:#d9ead3}svg .denyst rect{fill:#f4cccc}
svg .edge{fill:none;stroke:#8c959f;stroke-width:1.3}svg .edge.deny{stroke:#a4262c;stroke-width:2.2}
svg .edge.removed{stroke:#d1242f;stroke-dasharray:6 4}svg .edge.added{stroke:#1a7f37;stroke-width:2}
svg .edge.assume{stroke-dasharray:2 3}svg .colhead{font-weight:600;fill:#59636e}
"#;

/// Sorts a table by the clicked header (numbers as numbers; a cell's `data-v` when it has one)
/// and filters a table's rows by the text of its filter box. Reads no data as code.
const SCRIPT: &str = r#"
(function(){
function key(cell){var v=cell.hasAttribute('data-v')?cell.getAttribute('data-v'):cell.textContent.trim();var n=Number(v);return v!==''&&!isNaN(n)?n:v.toLowerCase();}
function sort(th){var table=th.closest('table');var body=table.tBodies[0];var i=th.cellIndex;
var dir=th.getAttribute('aria-sort')==='ascending'?-1:1;
table.querySelectorAll('th').forEach(function(h){h.removeAttribute('aria-sort');});
th.setAttribute('aria-sort',dir>0?'ascending':'descending');
var rows=Array.prototype.slice.call(body.rows);
rows.sort(function(a,b){var x=key(a.cells[i]),y=key(b.cells[i]);
if(typeof x==='number'&&typeof y==='number'){return (x-y)*dir;}
return String(x).localeCompare(String(y))*dir;});
rows.forEach(function(r){body.appendChild(r);});}
document.querySelectorAll('table.sortable th').forEach(function(th){th.tabIndex=0;th.title='sort';
th.addEventListener('click',function(){sort(th);});
th.addEventListener('keydown',function(e){if(e.key==='Enter'){sort(th);}});});
document.querySelectorAll('input.filter').forEach(function(input){
var table=document.getElementById(input.getAttribute('data-table'));
input.addEventListener('input',function(){var q=input.value.toLowerCase();
Array.prototype.forEach.call(table.tBodies[0].rows,function(tr){tr.hidden=q!==''&&tr.textContent.toLowerCase().indexOf(q)<0;});});});
})();
"#;

/// The page being written: its body, the tables numbered for their filter boxes, and the
/// bytes left in the budget.
struct Page {
    body: String,
    tables: usize,
    left: usize,
}

impl Page {
    fn new() -> Page {
        Page {
            body: String::new(),
            tables: 0,
            left: BUDGET,
        }
    }

    /// Raw markup (already escaped).
    fn raw(&mut self, markup: &str) {
        self.body.push_str(markup);
    }

    /// A section heading.
    fn h2(&mut self, text: &str) {
        let _ = writeln!(self.body, "<h2>{}</h2>", esc(text));
    }

    /// The figures of the summary: `(name, value, label, class)`. `name` is a stable key
    /// (`data-figure`) that tests compare with the JSON report.
    fn figures(&mut self, figures: &[(&str, String, &str, &str)]) {
        self.body.push_str("<div class=\"figures\">\n");
        for (name, value, label, class) in figures {
            let _ = writeln!(
                self.body,
                "<div class=\"fig {class}\"><b data-figure=\"{name}\">{}</b><span>{}</span></div>",
                esc(value),
                esc(label)
            );
        }
        self.body.push_str("</div>\n");
    }

    fn note(&mut self, text: &str) {
        let _ = writeln!(self.body, "<p class=\"note\">{}</p>", esc(text));
    }

    /// What the budget left out, and how to get it.
    fn left_out(&mut self, count: usize, what: &str, how: &str) {
        if count > 0 {
            let _ = writeln!(
                self.body,
                "<p class=\"left\" data-left-out=\"{count}\">... {count} more {} not listed (the page stays under {} MiB): {}</p>",
                esc(what),
                BUDGET >> 20,
                esc(how)
            );
        }
    }

    /// A sortable, filterable table: header cells and rows of ready cells (`<td>...</td>`).
    /// Rows are added while they fit the budget; returns how many were left out.
    fn table(&mut self, headers: &[&str], rows: impl ExactSizeIterator<Item = String>) -> usize {
        let total = rows.len();
        if total == 0 {
            self.note("none");
            return 0;
        }
        self.tables += 1;
        let id = format!("t{}", self.tables);
        let _ = writeln!(
            self.body,
            "<input class=\"filter\" type=\"search\" placeholder=\"Filter these {total} row(s)\" aria-label=\"filter\" data-table=\"{id}\">"
        );
        let _ = write!(
            self.body,
            "<table class=\"sortable\" id=\"{id}\"><thead><tr>"
        );
        for h in headers {
            let _ = write!(self.body, "<th>{}</th>", esc(h));
        }
        self.body.push_str("</tr></thead>\n<tbody>\n");
        let mut listed = 0;
        for row in rows {
            if !self.fits(row.len()) {
                break;
            }
            let _ = writeln!(self.body, "<tr>{row}</tr>");
            listed += 1;
        }
        self.body.push_str("</tbody></table>\n");
        total - listed
    }

    /// Takes `bytes` from the budget if they fit.
    fn fits(&mut self, bytes: usize) -> bool {
        if bytes > self.left {
            return false;
        }
        self.left -= bytes;
        true
    }

    /// The graph, drawn, or a note saying why not. `at_least` is a lower bound of its nodes
    /// known without building it (the users it holds): above [`GRAPH_MAX_NODES`], the graph is
    /// not built, since building it costs as much as the answer's paths.
    fn graph(&mut self, at_least: usize, build: impl FnOnce() -> AccessGraph, graph_command: &str) {
        self.h2("Graph");
        if at_least > GRAPH_MAX_NODES {
            let _ = writeln!(
                self.body,
                "<p class=\"left\">The graph has more than {GRAPH_MAX_NODES} nodes (at least {at_least}), too many to draw here: <code>{}</code> gives it whole.</p>",
                esc(graph_command)
            );
            return;
        }
        let g = &build();
        if g.node_count() > GRAPH_MAX_NODES {
            let _ = writeln!(
                self.body,
                "<p class=\"left\">The graph has {} nodes and {} edges, too many to draw here: <code>{}</code> gives it whole.</p>",
                g.node_count(),
                g.edge_count(),
                esc(graph_command)
            );
            return;
        }
        if g.edge_count() == 0 {
            self.note("no path to draw");
            return;
        }
        self.body.push_str(&svg(g));
        self.body.push_str(
            "<p class=\"legend\">Grey: a path of the answer; thick dark red: on a Deny path; red dashed: taken away by the change; green: added by it; dotted: may assume (no standing access). Hover a box for its full name.</p>\n",
        );
    }

    fn finish(self, title: &str) -> String {
        let mut out = String::with_capacity(self.body.len() + STYLE.len() + SCRIPT.len() + 1024);
        out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        // No request of any kind: styles and the script are inline, pictures are inline SVG.
        out.push_str("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n");
        out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        out.push_str("<meta name=\"generator\" content=\"iamsim\">\n");
        let _ = writeln!(out, "<title>{}</title>", esc(title));
        let _ = writeln!(out, "<style>{STYLE}</style>\n</head>\n<body>");
        let _ = writeln!(out, "<h1>{}</h1>", esc(title));
        out.push_str(&self.body);
        let _ = writeln!(out, "<script>{SCRIPT}</script>\n</body>\n</html>");
        out
    }
}

/// A table cell of text.
fn td(text: &str) -> String {
    format!("<td>{}</td>", esc(text))
}

/// A table cell of code.
fn td_code(text: &str) -> String {
    format!("<td><code>{}</code></td>", esc(text))
}

/// A number cell.
fn td_n(n: usize) -> String {
    format!("<td class=\"n\">{n}</td>")
}

/// A cell with a collapsible list of paths (already as text), sorted by their count.
fn td_paths(paths: &[String]) -> String {
    format!("<td data-v=\"{}\">{}</td>", paths.len(), paths_list(paths))
}

/// A collapsible list of paths (already as text).
fn paths_list(paths: &[String]) -> String {
    if paths.is_empty() {
        return "<span class=\"note\">none</span>".to_string();
    }
    let mut out = format!(
        "<details><summary>{} path(s)</summary><ol class=\"paths\">",
        paths.len()
    );
    for path in paths {
        let _ = write!(out, "<li>{}</li>", esc(path));
    }
    out.push_str("</ol></details>");
    out
}

fn texts(paths: &[Path]) -> Vec<String> {
    paths.iter().map(render::path_text).collect()
}

fn user_cell(user: &UserSummary) -> String {
    td(&render::user_line(user))
}

/// Rows of entries: `(change, action, resource, paths)`.
fn entry_rows<'a>(
    change: &'a str,
    class: &'a str,
    entries: &'a [Entry],
) -> impl Iterator<Item = String> + 'a {
    entries.iter().map(move |e| {
        format!(
            "<td class=\"{class}\">{}</td>{}{}{}",
            esc(change),
            td_code(&e.action),
            td_code(&e.resource),
            td_paths(&texts(&e.via))
        )
    })
}

/// Rows of assumable roles: `(change, role, trust, paths)`.
fn assumable_rows<'a>(
    change: &'a str,
    items: &'a [Assumable],
) -> impl Iterator<Item = String> + 'a {
    items.iter().map(move |a| {
        let mut trust = format!("{} {}", a.trust.id, a.trust.trust_type);
        if let Some(until) = &a.trust.valid_until {
            trust.push_str(&format!(", valid until {until}"));
        }
        if let Some(conditions) = &a.trust.conditions {
            trust.push_str(&format!(", conditions {conditions}"));
        }
        if let Some(refused) = &a.trust.refused {
            trust.push_str(&format!(", not assumable: {refused}"));
        }
        format!(
            "{}{}{}{}",
            td(change),
            td(&format!("{} ({})", a.role.name, a.role.id)),
            td(&trust),
            td_paths(&texts(&a.via))
        )
    })
}

/// Collects rows into a vector, so that a table knows how many it was given.
fn rows(rows: impl Iterator<Item = String>) -> std::vec::IntoIter<String> {
    rows.collect::<Vec<_>>().into_iter()
}

const JSON_HINT: &str = "--format json gives every entry";

/// `iamsim effective --format html`.
pub fn effective(report: &Effective) -> String {
    let mut page = Page::new();
    let title = format!("Effective access of {}", render::user_line(&report.user));
    page.figures(&[
        (
            "allowed",
            report.allowed.len().to_string(),
            "allowed (action, resource)",
            "gained",
        ),
        (
            "denied",
            report.denied.len().to_string(),
            "denied by an explicit Deny",
            "lost",
        ),
        (
            "assumable",
            report.assumable.len().to_string(),
            "assumable role(s): no standing access",
            "",
        ),
    ]);
    for note in report.user.notes() {
        page.note(&note);
    }
    if report.user.suspended && !report.user.root {
        page.note("suspended: no access; assignments are kept");
    }
    page.graph(
        1,
        || graph::of_effective(report),
        &format!("iamsim graph --user {}", report.user.id),
    );
    page.h2("Access");
    let left = page.table(
        &["Decision", "Action", "Resource", "Paths"],
        rows(
            entry_rows("allowed", "allow", &report.allowed).chain(entry_rows(
                "denied",
                "deny",
                &report.denied,
            )),
        ),
    );
    page.left_out(left, "entries", JSON_HINT);
    if !report.assumable.is_empty() {
        page.h2("Assumable roles");
        let left = page.table(
            &["", "Role", "Trust", "Paths"],
            rows(assumable_rows("assumable", &report.assumable)),
        );
        page.left_out(left, "roles", JSON_HINT);
    }
    if !report.sessions.is_empty() {
        page.h2("Active sessions");
        let left = page.table(
            &["Role", "Session", "Assumed", "Expires"],
            rows(report.sessions.iter().map(|s| {
                let text = |v: &Option<String>| v.clone().unwrap_or_default();
                format!(
                    "{}{}{}{}",
                    td(&format!("{} ({})", s.role.name, s.role.id)),
                    td(&text(&s.session_name)),
                    td(&text(&s.assumed_at)),
                    td(&text(&s.expires_at))
                )
            })),
        );
        page.left_out(left, "sessions", JSON_HINT);
    }
    wildcard_note(
        &mut page,
        report
            .allowed
            .iter()
            .chain(&report.denied)
            .map(|e| e.action.as_str()),
        report.user.root,
    );
    page.finish(&title)
}

fn wildcard_note<'a>(page: &mut Page, mut actions: impl Iterator<Item = &'a str>, root: bool) {
    if root {
        return;
    }
    if let Some(action) = actions.find(|a| a.ends_with('*')) {
        page.note(&format!(
            "note: a wildcard such as `{action}` in the action column stands for the actions it covers that the catalogue does not name."
        ));
    }
}

/// `iamsim explain --format html`.
pub fn explain(report: &Explanation) -> String {
    let mut page = Page::new();
    let title = format!(
        "{} on {}: {}",
        report.action,
        report.resource,
        render::user_line(&report.user)
    );
    let (word, class) = match report.decision {
        Decision::Allowed => ("allowed", "gained"),
        Decision::ExplicitDeny => ("explicit_deny", "lost"),
        Decision::ImplicitDeny => ("implicit_deny", ""),
    };
    page.figures(&[
        ("decision", word.to_string(), "decision", class),
        ("allow", report.allow.len().to_string(), "Allow path(s)", ""),
        ("deny", report.deny.len().to_string(), "Deny path(s)", ""),
    ]);
    if let Some(element) = &report.evaluated_as {
        page.note(&format!("(not in the catalogue; evaluated as `{element}`)"));
    }
    if let Some(note) = &report.note {
        page.note(note);
    }
    for note in report.user.notes() {
        page.note(&note);
    }
    for item in &report.not_assumable {
        page.note(&format!(
            "role {} ({}) not assumable through trust {}: {}",
            item.role.name,
            item.role.id,
            item.trust.id,
            item.trust.refused.as_deref().unwrap_or("")
        ));
    }
    page.graph(
        1,
        || graph::of_explanation(report),
        &format!(
            "iamsim graph --user {} --action {}",
            report.user.id, report.action
        ),
    );
    let allow_word = if report.decision == Decision::ExplicitDeny {
        "overridden allow"
    } else {
        "allow"
    };
    let lists = [
        ("deny", "deny", &report.deny),
        (allow_word, "allow", &report.allow),
        ("overridden deny", "deny", &report.overridden_deny),
        ("overridden allow", "allow", &report.overridden_allow),
    ];
    let all: Vec<String> = lists
        .iter()
        .flat_map(|(word, class, paths)| {
            paths.iter().map(move |p| {
                format!(
                    "<td class=\"{class}\">{}</td>{}",
                    esc(word),
                    td(&render::path_text(p))
                )
            })
        })
        .collect();
    page.h2("Paths");
    if all.is_empty() {
        page.note("no statement allows it");
    } else {
        let left = page.table(&["Kind", "Path"], all.into_iter());
        page.left_out(left, "paths", JSON_HINT);
    }
    page.finish(&title)
}

/// `iamsim who-can --format html`.
pub fn who_can(report: &WhoCan) -> String {
    let mut page = Page::new();
    let title = format!("Who can {} on {}", report.action, report.resource);
    page.figures(&[
        (
            "allowed",
            report.allowed.len().to_string(),
            "user(s) allowed",
            "gained",
        ),
        (
            "denied",
            report.denied.len().to_string(),
            "user(s) an explicit Deny blocks",
            "lost",
        ),
    ]);
    if let Some(element) = &report.evaluated_as {
        page.note(&format!("(not in the catalogue; evaluated as `{element}`)"));
    }
    page.graph(
        report.allowed.len() + report.denied.len(),
        || graph::of_who_can(report),
        "iamsim who-can --format json",
    );
    let lists = [
        ("allowed", "allow", &report.allowed, "overridden deny"),
        ("denied", "deny", &report.denied, "overridden allow"),
    ];
    let all = lists.iter().flat_map(|(word, class, users, other)| {
        users.iter().map(move |u| {
            let mut paths = texts(&u.via);
            paths.extend(
                u.overridden
                    .iter()
                    .map(|p| format!("{other}: {}", render::path_text(p))),
            );
            format!(
                "{}<td class=\"{class}\">{}</td>{}",
                user_cell(&u.user),
                esc(word),
                td_paths(&paths)
            )
        })
    });
    page.h2("Users");
    let left = page.table(&["User", "Decision", "Paths"], rows(all));
    page.left_out(left, "users", "--format json gives every user");
    for u in report.allowed.iter().chain(&report.denied) {
        for note in u.user.notes() {
            page.note(&format!("{}: {note}", render::user_line(&u.user)));
        }
    }
    if !report.root_equivalent.is_empty() {
        page.h2(&format!(
            "Root-equivalent by legacy ACL ({}): not allowed by IAM, allowed anyway",
            report.root_equivalent.len()
        ));
        for user in &report.root_equivalent {
            for note in user.notes() {
                page.note(&format!("{}: {note}", render::user_line(user)));
            }
        }
    }
    if !report.may_be_allowed.is_empty() {
        page.h2(&format!(
            "May be allowed ({}): by an Allow with a condition iamsim does not evaluate",
            report.may_be_allowed.len()
        ));
        for user in &report.may_be_allowed {
            for note in user.notes() {
                page.note(&format!("{}: {note}", render::user_line(user)));
            }
        }
    }
    if !report.outside.is_empty() {
        page.h2(&format!(
            "Assumable from outside ({}): principals outside the organization's users",
            report.outside.len()
        ));
        for item in &report.outside {
            page.note(&render::outside_line(item));
        }
    }
    page.finish(&title)
}

/// `iamsim redundant --format html`.
pub fn redundancy(report: &Redundancy) -> String {
    let mut page = Page::new();
    if let Some(scope) = &report.scope {
        page.note(&render::scope_text(scope));
    }
    page.figures(&[
        (
            "edges",
            report.edges.len().to_string(),
            "membership(s) and attachment(s) that could go",
            "warn",
        ),
        (
            "shadowed",
            report.shadowed.len().to_string(),
            "Allow statement(s) denied everywhere",
            "warn",
        ),
    ]);
    page.graph(
        report.edges.len(),
        || graph::of_redundancy(report),
        "iamsim redundant --format json",
    );
    if !report.edges.is_empty() {
        page.note("Here red dashed is a membership or attachment whose removal loses nothing for anyone; grey, the paths that cover what it grants.");
    }
    page.h2("Redundant: removing any one of these loses nothing for anyone");
    let edges = report.edges.iter().map(|edge| {
        let paths: Vec<String> = edge
            .covered
            .iter()
            .flat_map(|u| {
                report.covering_paths(u).into_iter().map(move |p| {
                    format!(
                        "{} ({} kept): {}",
                        u.user.email,
                        u.kept,
                        render::path_text(&p)
                    )
                })
            })
            .collect();
        format!(
            "{}{}{}",
            td(&edge.change.describe()),
            td_n(edge.covered.len()),
            td_paths(&paths)
        )
    });
    let left = page.table(&["Removal", "Users covered", "Still via"], rows(edges));
    page.left_out(left, "removals", "--format json gives every one");
    page.h2("Shadowed: Allow statements denied for every user they reach");
    let shadowed = report.shadowed.iter().map(|s| {
        format!(
            "{}{}{}",
            td(&format!("{} ({})", s.policy.name, s.policy.id)),
            td_n(s.index as usize),
            td_n(s.users)
        )
    });
    let left = page.table(&["Policy", "Statement", "Users"], rows(shadowed));
    page.left_out(left, "statements", "--format json gives every one");
    page.finish("Redundant memberships, attachments and statements")
}

/// `iamsim diff --format html`.
pub fn diff(report: &Diff) -> String {
    let mut page = Page::new();
    diff_figures(&mut page, report);
    page.graph(
        report.users.len(),
        || graph::of_diff(report),
        "iamsim diff OLD NEW --format json",
    );
    diff_entities(&mut page, report);
    page.h2("Users");
    if report.users.is_empty() {
        page.note("Nobody's access changed.");
    }
    diff_overview(&mut page, report);
    let mut listed = 0;
    for user in &report.users {
        let block = diff_user_block(user);
        if !page.fits(block.len()) {
            break;
        }
        page.raw(&block);
        listed += 1;
    }
    page.left_out(report.users.len() - listed, "user(s)", JSON_HINT);
    page.finish("What changed between the two snapshots")
}

/// A diff's figures: users changed, losing and gaining; permissions lost and gained.
fn diff_figures(page: &mut Page, report: &Diff) {
    let count = |list: fn(&iamsim_core::report::UserDiff) -> usize| {
        report.users.iter().filter(|u| list(u) > 0).count()
    };
    page.figures(&[
        (
            "users",
            report.users.len().to_string(),
            "user(s) whose access changed",
            "",
        ),
        (
            "losing",
            count(|u| u.lost.len()).to_string(),
            "lose access",
            "lost",
        ),
        (
            "gaining",
            count(|u| u.gained.len()).to_string(),
            "gain access",
            "gained",
        ),
        (
            "lost",
            report
                .users
                .iter()
                .map(|u| u.lost.len())
                .sum::<usize>()
                .to_string(),
            "permissions lost",
            "lost",
        ),
        (
            "gained",
            report
                .users
                .iter()
                .map(|u| u.gained.len())
                .sum::<usize>()
                .to_string(),
            "permissions gained",
            "gained",
        ),
    ]);
}

/// The entities the newer snapshot adds and removes, if any.
fn diff_entities(page: &mut Page, report: &Diff) {
    let kinds = render::diff_kinds(report);
    let entities: Vec<String> = kinds
        .iter()
        .flat_map(|(kind, added, removed)| {
            let row = |word: &'static str, e: &iamsim_core::report::EntityRef| {
                format!(
                    "{}{}{}",
                    td(word),
                    td(kind),
                    td(&format!("{} ({})", e.name, e.id))
                )
            };
            added
                .iter()
                .map(move |e| row("added", e))
                .chain(removed.iter().map(move |e| row("removed", e)))
        })
        .collect();
    if !entities.is_empty() {
        page.h2("Entities added and removed");
        let left = page.table(&["", "Kind", "Entity"], entities.into_iter());
        page.left_out(left, "entities", "--format json gives every one");
    }
}

/// The users table of a diff: each changed user's counts.
fn diff_overview(page: &mut Page, report: &Diff) {
    let overview = report.users.iter().map(|u| {
        format!(
            "{}{}{}{}{}{}",
            user_cell(&u.user),
            td_n(u.lost.len()),
            td_n(u.gained.len()),
            td_n(u.provenance.len()),
            td_n(u.assumable_lost.len()),
            td_n(u.assumable_gained.len())
        )
    });
    if !report.users.is_empty() {
        page.table(
            &[
                "User",
                "Lost",
                "Gained",
                "Other paths",
                "Assumable lost",
                "Assumable gained",
            ],
            rows(overview),
        );
    }
}

/// One user's block of a diff: what they lost and gained, and the access reached another way.
fn diff_user_block(user: &iamsim_core::report::UserDiff) -> String {
    let mut block = String::new();
    let _ = writeln!(
        block,
        "<details class=\"user\"><summary>{}: lost {}, gained {}, other paths {}</summary>",
        esc(&render::user_line(&user.user)),
        user.lost.len(),
        user.gained.len(),
        user.provenance.len()
    );
    let provenance = user.provenance.iter().map(|c| {
        let mut paths: Vec<String> = c
            .before
            .iter()
            .map(|p| format!("was via {}", render::path_text(p)))
            .collect();
        paths.extend(
            c.after
                .iter()
                .map(|p| format!("now via {}", render::path_text(p))),
        );
        format!(
            "<td class=\"kept\">other paths</td>{}{}{}",
            td_code(&c.action),
            td_code(&c.resource),
            td_paths(&paths)
        )
    });
    let entries: Vec<String> = entry_rows("lost", "lost", &user.lost)
        .chain(entry_rows("gained", "gained", &user.gained))
        .chain(provenance)
        .chain(assumable_rows("assumable lost", &user.assumable_lost))
        .chain(assumable_rows("assumable gained", &user.assumable_gained))
        .collect();
    block.push_str(&inner_table(&entries));
    block.push_str("</details>\n");
    block
}

/// A plain table inside a user's block (sortable, not filtered: the users are).
fn inner_table(rows: &[String]) -> String {
    let mut out = String::from(
        "<table class=\"sortable\"><thead><tr><th>Change</th><th>Action(s)</th><th>Resource</th><th>Paths</th></tr></thead><tbody>\n",
    );
    for row in rows {
        let _ = writeln!(out, "<tr>{row}</tr>");
    }
    out.push_str("</tbody></table>\n");
    out
}

/// `iamsim impact --format html`: the changes, the summary, the actions most lost or gained,
/// the users table, then each user's entries (as many as the view and the budget let
/// through, saying how many it leaves out) and the graph.
pub fn impact(report: &Impact, view: &ImpactView) -> String {
    let mut page = Page::new();
    let summary = &report.summary;
    let title = format!("Impact of {} change(s)", report.changes.len());
    impact_figures(&mut page, report);
    if summary.users_affected == 0 {
        page.note("Nobody's access changes.");
        return page.finish(&title);
    }
    page.graph(
        users_with_paths(report),
        || graph::of_impact(report),
        "iamsim graph --changes FILE (or: iamsim graph <change> ...)",
    );
    let listed = if view.summary_only {
        0
    } else {
        view.limit.unwrap_or(usize::MAX).min(report.users.len())
    };
    let shown = &report.users[..listed];
    impact_users(&mut page, report, shown);
    impact_actions(&mut page, report);
    if !shown.is_empty() {
        page.h2("Each user's paths");
    }
    let mut written = 0;
    for user in shown {
        let block = user_block(report, user, view);
        if !page.fits(block.len()) {
            break;
        }
        page.raw(&block);
        written += 1;
    }
    page.left_out(
        shown.len() - written,
        "user(s)' paths",
        "the users table above counts them; --format json gives every entry",
    );
    if !view.show_kept && shown.iter().any(|u| !u.kept.is_empty()) {
        page.note("note: what users keep is counted, not listed; --show-kept lists it.");
    }
    page.finish(&title)
}

/// An impact's changes, then its summary's figures.
fn impact_figures(page: &mut Page, report: &Impact) {
    let summary = &report.summary;
    page.h2("Changes");
    page.raw("<ul>\n");
    for change in &report.changes {
        let _ = writeln!(page.body, "<li>{}</li>", esc(&change.describe()));
    }
    page.raw("</ul>\n");
    page.h2("Summary");
    page.figures(&[
        (
            "users_affected",
            summary.users_affected.to_string(),
            "user(s) affected",
            "",
        ),
        (
            "users_losing",
            summary.users_losing.to_string(),
            "lose access",
            "lost",
        ),
        (
            "users_gaining",
            summary.users_gaining.to_string(),
            "gain access",
            "gained",
        ),
        (
            "users_reached",
            summary.users_reached.to_string(),
            "user(s) reached",
            "",
        ),
        (
            "lost",
            summary.pairs.lost.to_string(),
            "permissions lost",
            "lost",
        ),
        (
            "kept",
            summary.pairs.kept.to_string(),
            "permissions kept",
            "kept",
        ),
        (
            "gained",
            summary.pairs.gained.to_string(),
            "permissions gained",
            "gained",
        ),
    ]);
}

/// The users table of an impact: each listed user's counts, and how many are left out.
fn impact_users(page: &mut Page, report: &Impact, shown: &[iamsim_core::report::UserImpact]) {
    let summary = &report.summary;
    if !shown.is_empty() {
        page.h2("Users");
        let overview = shown.iter().map(|u| {
            format!(
                "{}{}{}{}{}{}{}",
                user_cell(&u.user),
                td_n(u.counts.lost),
                td_n(u.counts.kept),
                td_n(u.counts.gained),
                td_n(u.assumable_lost.len()),
                td_n(u.assumable_gained.len()),
                td_n(u.unchanged_count)
            )
        });
        let left = page.table(
            &[
                "User",
                "Lost",
                "Kept",
                "Gained",
                "Assumable lost",
                "Assumable gained",
                "Unchanged",
            ],
            rows(overview),
        );
        // The report may hold only the first users (`ImpactStream::first`): the summary
        // counts all.
        page.left_out(
            summary.users_affected - (shown.len() - left),
            "user(s)",
            "--limit 0 lists every user, --format json gives every entry",
        );
    }
}

/// The actions an impact loses or gains, with how many users lose, keep and gain each.
fn impact_actions(page: &mut Page, report: &Impact) {
    let actions: Vec<String> = report
        .actions
        .iter()
        .filter(|a| a.lost > 0 || a.gained > 0)
        .map(|a| {
            format!(
                "{}{}{}{}",
                td_code(&a.action),
                td_n(a.lost),
                td_n(a.kept),
                td_n(a.gained)
            )
        })
        .collect();
    if !actions.is_empty() {
        page.h2("Actions lost or gained");
        let left = page.table(
            &["Action", "Users losing", "Users keeping", "Users gaining"],
            actions.into_iter(),
        );
        page.left_out(left, "actions", "--format json gives every one");
    }
}

/// How many users of an impact have a path in its graph: a lower bound of its nodes and edges.
pub(crate) fn users_with_paths(report: &Impact) -> usize {
    report
        .users
        .iter()
        .filter(|u| {
            !(u.lost.is_empty()
                && u.kept.is_empty()
                && u.gained.is_empty()
                && u.assumable_lost.is_empty()
                && u.assumable_gained.is_empty())
        })
        .count()
}

/// One user of an impact: a collapsible block with a table of what they lose, keep (with
/// `--show-kept`) and gain.
fn user_block(report: &Impact, user: &UserImpact, view: &ImpactView) -> String {
    let mut block = String::new();
    let _ = writeln!(
        block,
        "<details class=\"user\"><summary>{}: lost {}, kept {}, gained {}</summary>",
        esc(&render::user_line(&user.user)),
        user.counts.lost,
        user.counts.kept,
        user.counts.gained
    );
    if let Some(note) = &user.note {
        let _ = writeln!(block, "<p class=\"note\">{}</p>", esc(note));
    }
    for note in user.notes() {
        let _ = writeln!(block, "<p class=\"note\">{}</p>", esc(&note));
    }
    let kept: &[GroupedEntry] = if view.show_kept { &user.kept } else { &[] };
    let lists = [
        ("lost", "lost", &user.lost[..], &user.shared.lost, "was via"),
        ("kept", "kept", kept, &user.shared.kept, "via"),
        (
            "gained",
            "gained",
            &user.gained[..],
            &user.shared.gained,
            "via",
        ),
    ];
    let mut rows = Vec::new();
    for (word, class, entries, shared, via_word) in lists {
        for entry in entries {
            for (actions, paths) in entry_groups(report, shared, entry) {
                let names: Vec<String> = actions.iter().map(|&a| esc(report.action(a))).collect();
                let paths: Vec<String> = paths
                    .iter()
                    .map(|&p| format!("{via_word} {}", render::steps_text(report.path(p))))
                    .collect();
                rows.push(format!(
                    "<td class=\"{class}\">{word}</td><td data-v=\"{}\"><code>{}</code></td>{}{}",
                    names.len(),
                    names.join("</code>, <code>"),
                    td_code(&entry.resource),
                    td_paths(&paths)
                ));
            }
        }
    }
    rows.extend(assumable_rows("assumable lost", &user.assumable_lost));
    rows.extend(assumable_rows("assumable gained", &user.assumable_gained));
    if !rows.is_empty() {
        block.push_str(&inner_table(&rows));
    }
    for s in &user.sessions_continue {
        let _ = writeln!(
            block,
            "<p class=\"note\">{}</p>",
            esc(&render::session_continues(s))
        );
    }
    if !view.show_kept && user.counts.kept > 0 {
        let _ = writeln!(
            block,
            "<p class=\"note\">kept: {} permission(s), still allowed through other paths (--show-kept lists them)</p>",
            user.counts.kept
        );
    }
    let _ = writeln!(
        block,
        "<p class=\"note\">unchanged: {} permission(s) the change does not touch</p></details>",
        user.unchanged_count
    );
    block
}

/// The column of a node kind: users, groups (and the organization), roles, policies,
/// statements.
fn column(kind: NodeKind) -> usize {
    match kind {
        NodeKind::User => 0,
        NodeKind::Organization | NodeKind::Group => 1,
        NodeKind::Role => 2,
        NodeKind::Policy => 3,
        NodeKind::Statement => 4,
    }
}

const BOX_W: usize = 180;
const BOX_H: usize = 26;
const GAP_X: usize = 56;
const GAP_Y: usize = 10;
const TOP: usize = 34;
const LEFT: usize = 12;

/// The longest label drawn in a box; the full name is in the box's tooltip.
const LABEL_CHARS: usize = 25;

/// The graph as an inline SVG in five columns. Within a column, nodes are ordered by the mean
/// row of the nodes that lead to them (one barycentre pass, left to right), which keeps most
/// edges short; ties keep the graph's sorted order, so the picture is deterministic.
fn svg(g: &AccessGraph) -> String {
    let layout = Layout::of(g);
    let tallest = layout.columns.iter().map(Vec::len).max().unwrap_or(0);
    let width = LEFT * 2 + 5 * BOX_W + 4 * GAP_X;
    let height = TOP + tallest * (BOX_H + GAP_Y) + 10;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<div class=\"graph\"><svg width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"access graph: {} nodes, {} edges\" data-nodes=\"{}\" data-edges=\"{}\">",
        g.node_count(),
        g.edge_count(),
        g.node_count(),
        g.edge_count()
    );
    out.push_str("<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"8\" markerHeight=\"8\" markerUnits=\"userSpaceOnUse\" orient=\"auto-start-reverse\"><path d=\"M 0 0 L 10 5 L 0 10 z\" fill=\"#6e7781\"/></marker></defs>\n");
    for (c, head) in ["Users", "Groups", "Roles", "Policies", "Statements"]
        .iter()
        .enumerate()
    {
        if !layout.columns[c].is_empty() {
            let _ = writeln!(
                out,
                "<text class=\"colhead\" x=\"{}\" y=\"20\">{head}</text>",
                Layout::x(c)
            );
        }
    }
    for e in g.edge_references() {
        svg_edge(&mut out, g, &layout, e);
    }
    for (c, nodes) in layout.columns.iter().enumerate() {
        for &n in nodes {
            svg_node(&mut out, &g[n], Layout::x(c), layout.y(n));
        }
    }
    out.push_str("</svg></div>\n");
    out
}

/// Where the nodes of a graph are drawn: each column's nodes in order, and each node's row.
struct Layout {
    columns: Vec<Vec<petgraph::graph::NodeIndex>>,
    row: Vec<f64>,
}

impl Layout {
    /// The columns by node kind, each ordered by the barycentre of its incoming neighbours.
    fn of(g: &AccessGraph) -> Layout {
        let mut columns: Vec<Vec<petgraph::graph::NodeIndex>> = vec![Vec::new(); 5];
        for n in g.node_indices() {
            columns[column(g[n].kind)].push(n);
        }
        let mut row = vec![0f64; g.node_count()];
        for (c, nodes) in columns.iter_mut().enumerate() {
            if c > 0 {
                let mean = |n: petgraph::graph::NodeIndex| {
                    let rows: Vec<f64> = g
                        .neighbors_directed(n, petgraph::Direction::Incoming)
                        .map(|m| row[m.index()])
                        .collect();
                    if rows.is_empty() {
                        f64::MAX
                    } else {
                        rows.iter().sum::<f64>() / rows.len() as f64
                    }
                };
                let mut keyed: Vec<(f64, petgraph::graph::NodeIndex)> =
                    nodes.iter().map(|&n| (mean(n), n)).collect();
                keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                *nodes = keyed.into_iter().map(|(_, n)| n).collect();
            }
            for (i, n) in nodes.iter().enumerate() {
                row[n.index()] = i as f64;
            }
        }
        Layout { columns, row }
    }

    /// The left edge of column `c`.
    fn x(c: usize) -> usize {
        LEFT + c * (BOX_W + GAP_X)
    }

    /// The top edge of node `n`'s box.
    fn y(&self, n: petgraph::graph::NodeIndex) -> usize {
        TOP + self.row[n.index()] as usize * (BOX_H + GAP_Y)
    }
}

/// One edge: a curve from its source's box to its target's, classed by its change.
fn svg_edge(
    out: &mut String,
    g: &AccessGraph,
    layout: &Layout,
    e: petgraph::graph::EdgeReference<'_, graph::EdgeKind>,
) {
    let (s, t) = (e.source(), e.target());
    let (x1, y1) = (
        Layout::x(column(g[s].kind)) + BOX_W,
        layout.y(s) + BOX_H / 2,
    );
    let (x2, y2) = (Layout::x(column(g[t].kind)), layout.y(t) + BOX_H / 2);
    let w = e.weight();
    let mut class = String::from("edge");
    if w.deny {
        class.push_str(" deny");
    }
    match w.change {
        EdgeChange::Removed => class.push_str(" removed"),
        EdgeChange::Added => class.push_str(" added"),
        EdgeChange::Kept | EdgeChange::Unchanged => {}
    }
    if w.relation == Relation::MayAssume {
        class.push_str(" assume");
    }
    let d = if x2 - x1 <= GAP_X {
        // Next column: one curve.
        let mid = (x1 + x2) / 2;
        format!("M {x1} {y1} C {mid} {y1}, {mid} {y2}, {x2} {y2}")
    } else {
        // Past a column: along the gap above the target's row, so that the line does not
        // run through a box it does not touch.
        let lane = layout.y(t) - GAP_Y / 2;
        let (a, b) = (x1 + GAP_X, x2 - GAP_X);
        let (ma, mb) = (x1 + GAP_X / 2, x2 - GAP_X / 2);
        format!(
            "M {x1} {y1} C {ma} {y1}, {ma} {lane}, {a} {lane} L {b} {lane} C {mb} {lane}, {mb} {y2}, {x2} {y2}"
        )
    };
    let _ = writeln!(
        out,
        "<path class=\"{class}\" d=\"{d}\" marker-end=\"url(#arrow)\"><title>{}</title></path>",
        relation_word(w.relation)
    );
}

/// One node: a box at (`bx`, `by`) with its label, shortened, and its full name as tooltip.
fn svg_node(out: &mut String, node: &graph::Node, bx: usize, by: usize) {
    let class = match (node.kind, node.effect) {
        (NodeKind::Statement, Some(Effect::Deny)) => "denyst",
        (NodeKind::Statement, _) => "allowst",
        (NodeKind::User, _) => "user",
        (NodeKind::Organization, _) => "organization",
        (NodeKind::Group, _) => "group",
        (NodeKind::Role, _) => "role",
        (NodeKind::Policy, _) => "policy",
    };
    let (shown, full) = caption(node);
    let shown = render::clean(&shown);
    let shown: String = if shown.chars().count() > LABEL_CHARS {
        let mut s: String = shown.chars().take(LABEL_CHARS - 1).collect();
        s.push('…');
        s
    } else {
        shown
    };
    let _ = writeln!(
        out,
        "<g class=\"node {class}\"><title>{}</title><rect x=\"{bx}\" y=\"{by}\" width=\"{BOX_W}\" height=\"{BOX_H}\" rx=\"6\"/><text x=\"{}\" y=\"{}\">{}</text></g>",
        esc(&full),
        bx + 8,
        by + BOX_H / 2 + 4,
        esc(&shown)
    );
}

fn relation_word(relation: Relation) -> &'static str {
    match relation {
        Relation::Member => "member of",
        Relation::HasRole => "has role",
        Relation::MayAssume => "may assume",
        Relation::Attached => "attached",
        Relation::Holds => "holds",
        Relation::Root => "root",
    }
}

/// A node's text in its box and in its tooltip: a statement's `statement N (Allow)` and
/// `POLICY#N (Allow)`; otherwise its name, and its kind, name and id.
fn caption(node: &graph::Node) -> (String, String) {
    let effect = match node.effect {
        Some(Effect::Deny) => "Deny",
        _ => "Allow",
    };
    let kind = match node.kind {
        NodeKind::User => "user",
        NodeKind::Organization => "organization",
        NodeKind::Group => "group",
        NodeKind::Role => "role",
        NodeKind::Policy => "policy",
        NodeKind::Statement => {
            return (
                format!("{} ({effect})", node.label),
                format!("{} ({effect})", node.id),
            )
        }
    };
    if node.label.is_empty() || node.label == node.id {
        (node.id.clone(), format!("{kind} {}", node.id))
    } else {
        (
            node.label.clone(),
            format!("{kind} {} ({})", node.label, node.id),
        )
    }
}

/// A page holding text written for a terminal (`rank`, which has no HTML report of its own).
pub fn text(title: &str, text: &str) -> String {
    let mut page = Page::new();
    // Line by line: a newline is the text's own, not a name's.
    let lines: Vec<String> = text.lines().map(esc).collect();
    let _ = writeln!(page.body, "<pre>{}</pre>", lines.join("\n"));
    page.finish(title)
}

#[cfg(test)]
mod tests {
    use super::{esc, Page};

    #[test]
    fn a_table_stops_at_the_budget_and_counts_the_rest() {
        let mut page = Page::new();
        page.left = 100;
        let rows = (0..10).map(|i| format!("<td>row {i} of ten, padded</td>"));
        let left = page.table(&["Row"], rows.collect::<Vec<_>>().into_iter());
        assert_eq!(left, 7);
        assert_eq!(page.body.matches("<tr><td>").count(), 3);
        page.left_out(left, "rows", "--format json gives every row");
        assert!(
            page.body.contains("... 7 more rows not listed"),
            "{}",
            page.body
        );
    }

    #[test]
    fn escapes_markup_quotes_and_controls() {
        assert_eq!(
            esc("<script>\"a\" & 'b'</script>\u{1b}[31m\u{202e}"),
            "&lt;script&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/script&gt;\\u{1b}[31m\\u{202e}"
        );
    }
}
