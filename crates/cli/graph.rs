//! `iamsim graph`: the access graph of an answer (`iamsim_core::graph`) as DOT, Mermaid,
//! GraphML or JSON.
//!
//! Node and edge order is the graph's, which is sorted by content, so the output is
//! deterministic. Every name comes from the snapshot and is escaped for the format it is
//! written in: node ids in DOT are quoted and escaped, in Mermaid and GraphML they are `nN`
//! indexes; labels never carry syntax of the format.

use std::fmt::Write as _;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use iamsim_core::graph::{self, AccessGraph, EdgeChange, NodeKind, Relation};
use iamsim_core::policy::Effect;
use iamsim_core::{Detail, SimulateOptions};
use petgraph::visit::EdgeRef;
use serde::Serialize;

use crate::{emit_json, load, read_text, Failure, Input};

/// `iamsim graph`.
#[derive(Args)]
pub(crate) struct GraphArgs {
    /// Everything behind this user's access (user id or email); with --action, one decision.
    #[arg(long)]
    user: Option<String>,
    /// With --user: the paths of one decision, Deny paths marked.
    #[arg(long, requires = "user")]
    action: Option<String>,
    /// With --action: `*` (any resource), `type:*`, or a resource id.
    #[arg(long, default_value = "*", requires = "action")]
    resource: String,
    /// A change file: the paths of every lost, kept and gained access (removed edges dashed
    /// and red, added ones green). Or one change as a subcommand, below.
    #[arg(long, value_name = "FILE", conflicts_with = "user")]
    changes: Option<PathBuf>,
    /// Skip a change that does nothing instead of failing (with --changes or a change).
    #[arg(long, global = true)]
    allow_noop: bool,
    /// One change, as `impact` takes it: `iamsim graph remove-member --group G --user U`.
    #[command(subcommand)]
    kind: Option<crate::ImpactKind>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = GraphFormat::Dot, global = true)]
    format: GraphFormat,
    /// The snapshot and how it is read, as every command takes them.
    #[command(flatten)]
    input: Input,
}

impl GraphArgs {
    /// `--threads`.
    pub(crate) fn threads(&self) -> Option<usize> {
        self.input.model.threads
    }
}

/// `iamsim graph --format`.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum GraphFormat {
    /// Graphviz: `iamsim graph --user U | dot -Tsvg > user.svg`.
    Dot,
    /// A Mermaid `flowchart LR` (GitHub renders it in a ```mermaid block).
    Mermaid,
    /// GraphML, for yEd and Gephi.
    Graphml,
    /// `{"nodes": [...], "edges": [...]}`.
    Json,
}

pub(crate) fn run(mut args: GraphArgs) -> Result<u8, Failure> {
    let input = &args.input;
    let kind = args.kind.take();
    let g = match (&args.user, &args.changes, kind) {
        (Some(_), _, Some(_)) | (_, Some(_), Some(_)) => {
            return Err(Failure::new(
                "give one of --user, --changes FILE or a change subcommand".to_string(),
            ))
        }
        (Some(user), _, None) => {
            let org = load(input)?;
            let user = org.find_user(user)?;
            match &args.action {
                None => graph::of_effective(&org.effective(user)),
                Some(action) => graph::of_explanation(
                    &org.explain(user, action, &args.resource)
                        .map_err(crate::query_failure)?,
                ),
            }
        }
        (None, None, Some(kind)) => {
            let org = load(input)?;
            let changes = org
                .resolve_all(&[crate::spec(kind)?])
                .map_err(|e| Failure::new(e.source.to_string()))?;
            let options = SimulateOptions {
                allow_noop: args.allow_noop,
                detail: Detail::Full,
            };
            graph::of_impact(&org.simulate_with(&changes, &options)?)
        }
        (None, Some(path), None) => {
            let text = read_text(path)?;
            let specs = iamsim_core::parse_changes(&text)
                .map_err(|e| Failure::new(format!("{}: {e}", path.display())))?;
            if specs.is_empty() {
                return Err(Failure::new(format!(
                    "{}: the change file holds no change",
                    path.display()
                )));
            }
            let at = |index: usize, e: &dyn std::fmt::Display| {
                Failure::new(format!("{}: [{index}]: {e}", path.display()))
            };
            let iamsim_core::Compiled { org, changes, .. } =
                crate::compile_changes(input, None, &specs)?
                    .map_err(|e| at(e.index().unwrap_or(0), &e.reason()))?;
            let options = SimulateOptions {
                allow_noop: args.allow_noop,
                detail: Detail::Full,
            };
            org.check_all(&changes, &options)
                .map_err(|e| at(e.index, &e.source))?;
            graph::of_impact(&org.simulate_with(&changes, &options)?)
        }
        (None, None, None) => {
            // The whole organization, as compiled (so that it loads or fails as every command).
            let (snapshot, _org) = crate::load_with_snapshot(input)?;
            graph::of_snapshot(&snapshot)
        }
    };
    match args.format {
        GraphFormat::Dot => crate::emit_text(&dot(&g)),
        GraphFormat::Mermaid => crate::emit_text(&mermaid(&g)),
        GraphFormat::Graphml => crate::emit_text(&graphml(&g)),
        GraphFormat::Json => emit_json(&json(&g)),
    }?;
    Ok(0)
}

fn kind_name(kind: NodeKind) -> &'static str {
    match kind {
        NodeKind::User => "user",
        NodeKind::Organization => "organization",
        NodeKind::Group => "group",
        NodeKind::Role => "role",
        NodeKind::Policy => "policy",
        NodeKind::Statement => "statement",
    }
}

fn relation_name(relation: Relation) -> &'static str {
    match relation {
        Relation::Member => "member",
        Relation::HasRole => "has_role",
        Relation::MayAssume => "may_assume",
        Relation::Attached => "attached",
        Relation::Holds => "holds",
        Relation::Root => "root",
    }
}

fn change_name(change: EdgeChange) -> &'static str {
    match change {
        EdgeChange::Unchanged => "unchanged",
        EdgeChange::Removed => "removed",
        EdgeChange::Kept => "kept",
        EdgeChange::Added => "added",
    }
}

/// A node's text: its label, with its id when the two differ, and a statement's effect.
fn caption(node: &graph::Node) -> String {
    match (node.kind, node.effect) {
        (NodeKind::Statement, Some(effect)) => {
            let effect = if effect == Effect::Deny {
                "Deny"
            } else {
                "Allow"
            };
            format!("{} ({effect})", node.label)
        }
        _ if node.label.is_empty() || node.label == node.id => {
            format!("{}: {}", kind_name(node.kind), node.id)
        }
        _ => format!("{}: {} ({})", kind_name(node.kind), node.label, node.id),
    }
}

/// Control characters (newlines included) become spaces: a label is one line in every format.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// A DOT quoted string: only `"` and `\` are special inside one (a `\` would start an escape
/// such as `\N`, so it is doubled).
fn dot_quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in one_line(text).chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

fn dot_id(node: &graph::Node) -> String {
    dot_quote(&format!("{}:{}", kind_name(node.kind), node.id))
}

pub(crate) fn dot(g: &AccessGraph) -> String {
    let mut out = String::from(
        "digraph access {\n  rankdir=LR;\n  node [shape=box, style=rounded, fontname=\"Helvetica\"];\n",
    );
    for n in g.node_indices() {
        let node = &g[n];
        let style = match (node.kind, node.effect) {
            (NodeKind::Statement, Some(Effect::Deny)) => {
                ", shape=note, style=filled, fillcolor=\"#f4cccc\""
            }
            (NodeKind::Statement, _) => ", shape=note, style=filled, fillcolor=\"#d9ead3\"",
            (NodeKind::User, _) => ", shape=ellipse, style=solid",
            _ => "",
        };
        let _ = writeln!(
            out,
            "  {} [label={}{style}];",
            dot_id(node),
            dot_quote(&caption(node))
        );
    }
    for e in g.edge_references() {
        let w = e.weight();
        let mut attrs = vec![format!("label={}", dot_quote(relation_name(w.relation)))];
        if w.relation == Relation::MayAssume {
            // No standing access: the role is only assumable.
            attrs.push("style=dotted".into());
        }
        match w.change {
            EdgeChange::Removed => attrs.push("style=dashed, color=red, fontcolor=red".into()),
            EdgeChange::Added => attrs.push("color=green, fontcolor=green".into()),
            EdgeChange::Kept | EdgeChange::Unchanged => {}
        }
        if w.deny {
            attrs.push("penwidth=2".into());
            if w.change == EdgeChange::Unchanged {
                attrs.push("color=firebrick".into());
            }
        }
        let _ = writeln!(
            out,
            "  {} -> {} [{}];",
            dot_id(&g[e.source()]),
            dot_id(&g[e.target()]),
            attrs.join(", ")
        );
    }
    out.push_str("}\n");
    out
}

/// Mermaid label text: anything but letters, digits and a few plain signs is written as an
/// entity code (`#35;`), so no name can close the label or start Markdown, HTML or a link.
fn mermaid_text(text: &str) -> String {
    let mut out = String::new();
    for c in one_line(text).chars() {
        if c.is_alphanumeric() || " .-_@:/*,()".contains(c) {
            out.push(c);
        } else {
            let _ = write!(out, "#{};", c as u32);
        }
    }
    out
}

pub(crate) fn mermaid(g: &AccessGraph) -> String {
    let mut out = String::from("flowchart LR\n");
    for n in g.node_indices() {
        let node = &g[n];
        let text = mermaid_text(&caption(node));
        let _ = match node.kind {
            NodeKind::User => writeln!(out, "  n{}([\"{text}\"])", n.index()),
            _ => writeln!(out, "  n{}[\"{text}\"]", n.index()),
        };
    }
    let mut styles = String::new();
    for (i, e) in g.edge_references().enumerate() {
        let w = e.weight();
        let label = relation_name(w.relation);
        let (arrow, style) = match w.change {
            EdgeChange::Removed => ("-.->", Some("stroke:red,stroke-dasharray:5 5")),
            EdgeChange::Added => ("-->", Some("stroke:green")),
            _ if w.deny => ("==>", Some("stroke:firebrick")),
            _ => ("-->", None),
        };
        let _ = writeln!(
            out,
            "  n{} {arrow}|{label}| n{}",
            e.source().index(),
            e.target().index()
        );
        if let Some(style) = style {
            let _ = writeln!(styles, "  linkStyle {i} {style}");
        }
    }
    out.push_str(&styles);
    out.push_str("  classDef deny fill:#f4cccc\n  classDef allow fill:#d9ead3\n");
    for n in g.node_indices() {
        match g[n].effect {
            Some(Effect::Deny) => {
                let _ = writeln!(out, "  class n{} deny", n.index());
            }
            Some(_) => {
                let _ = writeln!(out, "  class n{} allow", n.index());
            }
            None => {}
        }
    }
    out
}

/// XML character data and attribute values: the five specials as entities; control characters
/// and the noncharacters U+FFFE and U+FFFF, which XML 1.0 does not allow, as spaces.
fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in one_line(text).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\u{FFFE}' | '\u{FFFF}' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

pub(crate) fn graphml(g: &AccessGraph) -> String {
    let mut out = String::from(concat!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n",
        "<graphml xmlns=\"http://graphml.graphdrawing.org/xmlns\">\n",
        "  <key id=\"kind\" for=\"node\" attr.name=\"kind\" attr.type=\"string\"/>\n",
        "  <key id=\"id\" for=\"node\" attr.name=\"id\" attr.type=\"string\"/>\n",
        "  <key id=\"label\" for=\"node\" attr.name=\"label\" attr.type=\"string\"/>\n",
        "  <key id=\"effect\" for=\"node\" attr.name=\"effect\" attr.type=\"string\"/>\n",
        "  <key id=\"relation\" for=\"edge\" attr.name=\"relation\" attr.type=\"string\"/>\n",
        "  <key id=\"deny\" for=\"edge\" attr.name=\"deny\" attr.type=\"boolean\"/>\n",
        "  <key id=\"change\" for=\"edge\" attr.name=\"change\" attr.type=\"string\"/>\n",
        "  <graph id=\"access\" edgedefault=\"directed\">\n",
    ));
    for n in g.node_indices() {
        let node = &g[n];
        let _ = writeln!(out, "    <node id=\"n{}\">", n.index());
        let _ = writeln!(
            out,
            "      <data key=\"kind\">{}</data>",
            kind_name(node.kind)
        );
        let _ = writeln!(out, "      <data key=\"id\">{}</data>", xml(&node.id));
        let _ = writeln!(
            out,
            "      <data key=\"label\">{}</data>",
            xml(&caption(node))
        );
        if let Some(effect) = node.effect {
            let effect = if effect == Effect::Deny {
                "Deny"
            } else {
                "Allow"
            };
            let _ = writeln!(out, "      <data key=\"effect\">{effect}</data>");
        }
        out.push_str("    </node>\n");
    }
    for (i, e) in g.edge_references().enumerate() {
        let w = e.weight();
        let _ = writeln!(
            out,
            "    <edge id=\"e{i}\" source=\"n{}\" target=\"n{}\">",
            e.source().index(),
            e.target().index()
        );
        let _ = writeln!(
            out,
            "      <data key=\"relation\">{}</data>\n      <data key=\"deny\">{}</data>\n      <data key=\"change\">{}</data>\n    </edge>",
            relation_name(w.relation),
            w.deny,
            change_name(w.change)
        );
    }
    out.push_str("  </graph>\n</graphml>\n");
    out
}

/// The JSON form: nodes by index, edges naming their ends by index (not a report of
/// `schema/output.v5.json`; `schema_version` says which report shapes it was built from).
#[derive(Serialize)]
struct JsonGraph<'a> {
    schema_version: u32,
    nodes: Vec<JsonNode<'a>>,
    edges: Vec<JsonEdge>,
}

#[derive(Serialize)]
struct JsonNode<'a> {
    index: usize,
    #[serde(flatten)]
    node: &'a graph::Node,
}

#[derive(Serialize)]
struct JsonEdge {
    from: usize,
    to: usize,
    #[serde(flatten)]
    kind: graph::EdgeKind,
}

fn json(g: &AccessGraph) -> JsonGraph<'_> {
    JsonGraph {
        schema_version: iamsim_core::report::SCHEMA_VERSION,
        nodes: g
            .node_indices()
            .map(|n| JsonNode {
                index: n.index(),
                node: &g[n],
            })
            .collect(),
        edges: g
            .edge_references()
            .map(|e| JsonEdge {
                from: e.source().index(),
                to: e.target().index(),
                kind: *e.weight(),
            })
            .collect(),
    }
}
