//! The access graph: a report's paths as a [`petgraph::Graph`], for audit tools that want to run
//! their own graph algorithms (feature `graph`).
//!
//! The graph is built from the report types alone ([`Effective`], [`Explanation`], [`Impact`]),
//! never from the engine's internals, so it shows exactly the paths the answer gives. Nodes are
//! users, the organization (root), groups, roles, policies and statements, each once per
//! (kind, id); edges are membership, role, attachment and "policy holds statement", each once per
//! (from, to, relation), marked when they lie on a Deny path and, for an impact, whether the
//! change removes, keeps or adds them. Node and edge indexes follow a sorted order (nodes by kind
//! then id, edges by their ends then relation), so the same report gives the same graph.
//!
//! ```
//! use iamsim_core::{graph, Catalogue, Org, Snapshot};
//! use petgraph::visit::EdgeRef;
//!
//! let snapshot = Snapshot::from_json_str(r#"{
//!   "format": "iamsim.snapshot.v1",
//!   "organization": {"id": "org-1", "name": "Acme"},
//!   "users": [{"id": "u-ana", "email": "ana@example.com"}],
//!   "groups": [{"id": "g-ops", "display_name": "Ops", "members": ["u-ana"], "policies": ["p-1"]}],
//!   "roles": [],
//!   "policies": [{"id": "p-1", "name": "compute", "policy_document": {"Version": "2026-03-20",
//!     "Statement": [{"Effect": "Allow", "Action": "compute.instance.Create", "Resource": "*"}]}}]
//! }"#)?;
//! let org = Org::compile(&snapshot, &Catalogue::bundled())?;
//! let effective = org.effective(org.find_user("ana@example.com")?);
//! let g = graph::of_effective(&effective);
//!
//! // user → group → policy → statement.
//! assert_eq!(g.node_count(), 4);
//! let ana = g.node_indices().find(|&n| g[n].kind == graph::NodeKind::User).unwrap();
//! let statement = g.node_indices().find(|&n| g[n].kind == graph::NodeKind::Statement).unwrap();
//! // Run a petgraph algorithm: the shortest route from Ana to the statement is three edges.
//! let hops = petgraph::algo::dijkstra(&g, ana, Some(statement), |_| 1);
//! assert_eq!(hops[&statement], 3);
//! assert!(g.edge_references().all(|e| !e.weight().deny));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::BTreeMap;

use petgraph::graph::NodeIndex;
use petgraph::Graph;
use serde::Serialize;

use crate::model::{Policy, Snapshot};
use crate::policy::Effect;
use crate::report::{
    Assumable, Diff, Effective, Explanation, Impact, Path, Redundancy, Step, StepKind, WhoCan,
};

/// The access graph of one report, or of a whole organization ([`of_snapshot`]).
pub type AccessGraph = Graph<Node, EdgeKind>;

/// What a node stands for. The variant order is the order nodes sort in: from the user towards
/// the statements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NodeKind {
    /// A user.
    User,
    /// The organization, through which the root user has access.
    Organization,
    /// A group.
    Group,
    /// A role.
    Role,
    /// A policy.
    Policy,
    /// A statement of a policy.
    Statement,
}

/// One entity of the graph.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Node {
    /// What it is.
    pub kind: NodeKind,
    /// Its id, unique within its kind: the entity's id, or `POLICY#INDEX` for a statement.
    pub id: String,
    /// What to show: a user's email, an entity's name, `statement N` for a statement. It comes
    /// from the snapshot: escape it for the format it is written in.
    pub label: String,
    /// A statement's effect (Allow or Deny); `None` on other nodes.
    pub effect: Option<Effect>,
}

/// How one node leads to the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    /// A user is a member of a group.
    Member,
    /// A role is attached to a user or a group.
    HasRole,
    /// A trust lets a user (or a group's members) assume a role.
    MayAssume,
    /// A policy is attached to a user, group or role.
    Attached,
    /// A policy holds a statement.
    Holds,
    /// The root user's unconditional access through the organization.
    Root,
}

/// What a what-if does to an edge ([`of_impact`]); [`EdgeChange::Unchanged`] outside impacts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EdgeChange {
    /// Not a what-if.
    Unchanged,
    /// Only on paths of access the change takes away.
    Removed,
    /// On a path that still grants access after the change.
    Kept,
    /// Only on paths of access the change gives (and not on a kept one).
    Added,
}

/// An edge: its relation, whether it is on a Deny path, and what a change does to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct EdgeKind {
    /// How the source leads to the target.
    pub relation: Relation,
    /// On at least one path ending at a Deny statement.
    pub deny: bool,
    /// What the change does to it, in an impact.
    pub change: EdgeChange,
}

/// The graph of everything behind a user's access: the paths of every allowed and denied entry
/// and of every assumable role.
pub fn of_effective(report: &Effective) -> AccessGraph {
    let mut b = Builder::default();
    for entry in &report.allowed {
        for path in &entry.via {
            b.path(None, path, Effect::Allow, Mark::Plain);
        }
    }
    for entry in &report.denied {
        for path in &entry.via {
            b.path(None, path, Effect::Deny, Mark::Plain);
        }
    }
    for assumable in &report.assumable {
        b.assumable(assumable, Mark::Plain);
    }
    b.finish()
}

/// The graph of one decision: its Allow and Deny paths (those that count), Deny paths marked.
pub fn of_explanation(report: &Explanation) -> AccessGraph {
    let mut b = Builder::default();
    let user = user_node(&report.user);
    b.node(user);
    for path in &report.allow {
        b.path(None, path, Effect::Allow, Mark::Plain);
    }
    for path in &report.deny {
        b.path(None, path, Effect::Deny, Mark::Plain);
    }
    b.finish()
}

/// The graph of a what-if: the paths of every user's lost, kept and gained entries. An edge
/// only on lost paths is [`EdgeChange::Removed`], one on a kept path [`EdgeChange::Kept`], one
/// only on gained paths (or gained and lost) [`EdgeChange::Added`].
pub fn of_impact(report: &Impact) -> AccessGraph {
    let mut b = Builder::default();
    for user in &report.users {
        let start = user_node(&user.user);
        let lists = [
            (&user.lost, &user.shared.lost, Mark::Lost),
            (&user.kept, &user.shared.kept, Mark::Kept),
            (&user.gained, &user.shared.gained, Mark::Gained),
        ];
        for (entries, shared, mark) in lists {
            // Entries share paths: each path once per user and list (the graph is the same).
            let mut seen = std::collections::BTreeSet::new();
            for entry in entries {
                for id in report.entry_paths(shared, entry) {
                    if seen.insert(id) {
                        b.path(Some(&start), report.path(id), Effect::Allow, mark);
                    }
                }
            }
        }
    }
    b.finish()
}

/// The graph of who may do one action: every allowed user's Allow paths and every denied
/// user's Deny paths, with the paths they override (an overridden Deny is marked as one).
pub fn of_who_can(report: &WhoCan) -> AccessGraph {
    let mut b = Builder::default();
    let lists = [
        (&report.allowed, Effect::Allow, Effect::Deny),
        (&report.denied, Effect::Deny, Effect::Allow),
    ];
    for (users, decides, overridden) in lists {
        for user in users {
            b.node(user_node(&user.user));
            for path in &user.via {
                b.path(None, path, decides, Mark::Plain);
            }
            for path in &user.overridden {
                b.path(None, path, overridden, Mark::Plain);
            }
        }
    }
    b.finish()
}

/// The graph of what changed between two snapshots: the old paths of what each user lost
/// ([`EdgeChange::Removed`] unless still used), the new paths of what they gained
/// ([`EdgeChange::Added`]), the paths before and after of what they kept through other paths
/// (after: [`EdgeChange::Kept`]), and assumable roles lost and gained.
pub fn of_diff(report: &Diff) -> AccessGraph {
    let mut b = Builder::default();
    for user in &report.users {
        b.node(user_node(&user.user));
        for (entries, mark) in [(&user.lost, Mark::Lost), (&user.gained, Mark::Gained)] {
            for entry in entries {
                for path in &entry.via {
                    b.path(None, path, Effect::Allow, mark);
                }
            }
        }
        for change in &user.provenance {
            for path in &change.before {
                b.path(None, path, Effect::Allow, Mark::Lost);
            }
            for path in &change.after {
                b.path(None, path, Effect::Allow, Mark::Kept);
            }
        }
        for assumable in &user.assumable_lost {
            b.assumable(assumable, Mark::Lost);
        }
        for assumable in &user.assumable_gained {
            b.assumable(assumable, Mark::Gained);
        }
    }
    b.finish()
}

/// The graph of the redundant memberships and attachments: each one as a
/// [`EdgeChange::Removed`] edge, and the other paths that cover what it grants as
/// [`EdgeChange::Kept`] ones. Shadowed statements are not drawn (they are on no path).
pub fn of_redundancy(report: &Redundancy) -> AccessGraph {
    let mut b = Builder::default();
    for edge in &report.edges {
        for user in &edge.covered {
            for path in &report.covering_paths(user) {
                b.path(None, path, Effect::Allow, Mark::Kept);
            }
        }
        let change = &edge.change;
        let entity = |kind: NodeKind, e: &Option<crate::report::EntityRef>| {
            e.as_ref().map(|e| Node {
                kind,
                id: e.id.clone(),
                label: e.name.clone(),
                effect: None,
            })
        };
        let user = change.user.as_ref().map(|u| Node {
            kind: NodeKind::User,
            id: u.id.clone(),
            label: u.email.clone(),
            effect: None,
        });
        let group = entity(NodeKind::Group, &change.group);
        let role = entity(NodeKind::Role, &change.role);
        let policy = entity(NodeKind::Policy, &change.policy);
        // The removed edge runs from the holder (user, else group, else role) to what it
        // holds (policy, else role, else group), whichever the change names.
        let (from, to, relation) = match (policy, role, group, user) {
            (Some(policy), _, Some(holder), _)
            | (Some(policy), Some(holder), None, _)
            | (Some(policy), None, None, Some(holder)) => (holder, policy, Relation::Attached),
            (None, Some(role), Some(holder), _) | (None, Some(role), None, Some(holder)) => {
                (holder, role, Relation::HasRole)
            }
            (None, None, Some(group), Some(user)) => (user, group, Relation::Member),
            _ => continue,
        };
        let (from, to) = (b.node(from), b.node(to));
        b.edge(from, to, relation, false, Mark::Lost);
    }
    b.finish()
}

fn user_node(user: &crate::report::UserSummary) -> Node {
    Node {
        kind: NodeKind::User,
        id: user.id.to_string(),
        label: user.email.to_string(),
        effect: None,
    }
}

/// Which list of an impact a path comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mark {
    Plain,
    Lost,
    Kept,
    Gained,
}

/// A node's place in the sorted order: (kind, id).
type Key = (NodeKind, String);

/// What is known of an edge while building.
#[derive(Default)]
struct EdgeSeen {
    deny: bool,
    lost: bool,
    kept: bool,
    gained: bool,
    plain: bool,
}

/// The graph of a whole organization as its snapshot describes it: every user, group, role,
/// policy and statement, even those nothing reaches, with memberships, role attachments, trusts
/// (may-assume) and policy attachments. A reference to an id the snapshot does not hold is left
/// out, as compiling drops it; only the edge from a policy to a Deny statement is marked `deny`
/// (which paths a Deny decides is a question for one user: [`of_effective`]).
pub fn of_snapshot(snapshot: &Snapshot) -> AccessGraph {
    let nodes = EntityNodes::of(snapshot);
    let mut b = Builder::default();
    for node in nodes
        .users
        .values()
        .chain(nodes.groups.values())
        .chain(nodes.roles.values())
        .chain(nodes.policies.values())
    {
        b.node(node.clone());
    }
    for policy in &snapshot.policies {
        b.statements(&nodes.policies[&policy.id], policy);
    }
    nodes.link_users(&mut b, snapshot);
    nodes.link_groups(&mut b, snapshot);
    nodes.link_roles(&mut b, snapshot);
    nodes.link_trusts(&mut b, snapshot);
    b.finish()
}

/// The nodes of a snapshot's users, groups, roles and policies, each kind by id (of a repeated
/// id, the last entity).
struct EntityNodes {
    users: BTreeMap<String, Node>,
    groups: BTreeMap<String, Node>,
    roles: BTreeMap<String, Node>,
    policies: BTreeMap<String, Node>,
}

impl EntityNodes {
    fn of(snapshot: &Snapshot) -> EntityNodes {
        fn index<'a, T: 'a>(
            kind: NodeKind,
            items: &'a [T],
            id_label: impl Fn(&'a T) -> (&'a str, &'a str),
        ) -> BTreeMap<String, Node> {
            items
                .iter()
                .map(|item| {
                    let (id, label) = id_label(item);
                    let node = Node {
                        kind,
                        id: id.to_string(),
                        label: label.to_string(),
                        effect: None,
                    };
                    (node.id.clone(), node)
                })
                .collect()
        }
        EntityNodes {
            users: index(NodeKind::User, &snapshot.users, |u| (&u.id, &u.email)),
            groups: index(NodeKind::Group, &snapshot.groups, |g| {
                (&g.id, &g.display_name)
            }),
            roles: index(NodeKind::Role, &snapshot.roles, |r| (&r.id, &r.name)),
            policies: index(NodeKind::Policy, &snapshot.policies, |p| (&p.id, &p.name)),
        }
    }

    /// Users' policy and role attachments.
    fn link_users(&self, b: &mut Builder, snapshot: &Snapshot) {
        for user in &snapshot.users {
            let from = &self.users[&user.id];
            for id in &user.policies {
                b.link(from, self.policies.get(id), Relation::Attached);
            }
            for id in &user.roles {
                b.link(from, self.roles.get(id), Relation::HasRole);
            }
        }
    }

    /// Memberships, and groups' policy and role attachments.
    fn link_groups(&self, b: &mut Builder, snapshot: &Snapshot) {
        for group in &snapshot.groups {
            let node = &self.groups[&group.id];
            for id in &group.members {
                if let Some(user) = self.users.get(id) {
                    b.link(user, Some(node), Relation::Member);
                }
            }
            for id in &group.policies {
                b.link(node, self.policies.get(id), Relation::Attached);
            }
            for id in &group.roles {
                b.link(node, self.roles.get(id), Relation::HasRole);
            }
        }
    }

    /// Roles' policy attachments.
    fn link_roles(&self, b: &mut Builder, snapshot: &Snapshot) {
        for role in &snapshot.roles {
            for id in &role.policies {
                b.link(
                    &self.roles[&role.id],
                    self.policies.get(id),
                    Relation::Attached,
                );
            }
        }
    }

    /// Trusts: the trusted user and group may assume the role.
    fn link_trusts(&self, b: &mut Builder, snapshot: &Snapshot) {
        for trust in &snapshot.role_trusts {
            let Some(role) = self.roles.get(&trust.role_id) else {
                continue;
            };
            let trusted = [
                trust
                    .trusted_user_id
                    .as_ref()
                    .and_then(|id| self.users.get(id)),
                trust
                    .trusted_group_id
                    .as_ref()
                    .and_then(|id| self.groups.get(id)),
            ];
            for from in trusted.into_iter().flatten() {
                b.link(from, Some(role), Relation::MayAssume);
            }
        }
    }
}

/// Collects nodes and edges in sorted maps, so that the finished graph's indexes follow content.
#[derive(Default)]
struct Builder {
    nodes: BTreeMap<Key, Node>,
    edges: BTreeMap<(Key, Key, Relation), EdgeSeen>,
}

impl Builder {
    /// A plain edge from `from` to `to`, if there is a `to`.
    fn link(&mut self, from: &Node, to: Option<&Node>, relation: Relation) {
        if let Some(to) = to {
            let (from, to) = (self.node(from.clone()), self.node(to.clone()));
            self.edge(from, to, relation, false, Mark::Plain);
        }
    }

    /// A policy's statements, each held by the policy (`from`, its node).
    fn statements(&mut self, from: &Node, policy: &Policy) {
        let from = self.node(from.clone());
        for (i, statement) in policy
            .policy_document
            .statement
            .as_slice()
            .iter()
            .enumerate()
        {
            let effect = match statement.effect.as_str() {
                "Deny" => Effect::Deny,
                _ => Effect::Allow,
            };
            let to = self.node(Node {
                kind: NodeKind::Statement,
                id: format!("{}#{i}", policy.id),
                label: format!("statement {i}"),
                effect: Some(effect),
            });
            self.edge(
                from.clone(),
                to,
                Relation::Holds,
                effect == Effect::Deny,
                Mark::Plain,
            );
        }
    }

    fn node(&mut self, node: Node) -> Key {
        let key = (node.kind, node.id.clone());
        self.nodes.entry(key.clone()).or_insert(node);
        key
    }

    fn edge(&mut self, from: Key, to: Key, relation: Relation, deny: bool, mark: Mark) {
        let seen = self.edges.entry((from, to, relation)).or_default();
        seen.deny |= deny;
        match mark {
            Mark::Plain => seen.plain = true,
            Mark::Lost => seen.lost = true,
            Mark::Kept => seen.kept = true,
            Mark::Gained => seen.gained = true,
        }
    }

    /// Adds one path (from `start` when the path leaves the user out, as an impact's do) and
    /// returns its last node.
    fn path(
        &mut self,
        start: Option<&Node>,
        path: &Path,
        effect: Effect,
        mark: Mark,
    ) -> Option<Key> {
        let deny = effect == Effect::Deny;
        let mut previous: Option<(Key, StepKind)> =
            start.map(|n| (self.node(n.clone()), n_kind(n)));
        let mut policy: Option<String> = None;
        for step in path {
            let node = self.step_node(step, policy.as_deref(), effect);
            if step.kind() == StepKind::Policy {
                policy = Some(node.id.clone());
            }
            let key = self.node(node);
            if let Some((from, from_kind)) = previous.take() {
                let relation = relation(from_kind, step.kind());
                self.edge(from, key.clone(), relation, deny, mark);
            }
            previous = Some((key, step.kind()));
        }
        previous.map(|(key, _)| key)
    }

    /// Adds the paths by which a trust reaches a user, each ending in a may-assume edge to the
    /// role.
    fn assumable(&mut self, assumable: &Assumable, mark: Mark) {
        let role = Node {
            kind: NodeKind::Role,
            id: assumable.role.id.clone(),
            label: assumable.role.name.clone(),
            effect: None,
        };
        for path in &assumable.via {
            let from = self.path(None, path, Effect::Allow, mark);
            let to = self.node(role.clone());
            if let Some(from) = from {
                self.edge(from, to, Relation::MayAssume, false, mark);
            }
        }
    }

    fn step_node(&self, step: &Step, policy: Option<&str>, effect: Effect) -> Node {
        match step {
            Step::Statement { index } => Node {
                kind: NodeKind::Statement,
                id: format!("{}#{index}", policy.unwrap_or_default()),
                label: format!("statement {index}"),
                effect: Some(effect),
            },
            named => Node {
                kind: node_kind(named.kind()),
                id: named.id().unwrap_or_default().to_string(),
                label: named.name().unwrap_or_default().to_string(),
                effect: None,
            },
        }
    }

    fn finish(self) -> AccessGraph {
        let mut graph = Graph::with_capacity(self.nodes.len(), self.edges.len());
        let mut index: BTreeMap<Key, NodeIndex> = BTreeMap::new();
        for (key, node) in self.nodes {
            index.insert(key, graph.add_node(node));
        }
        for ((from, to, relation), seen) in self.edges {
            let change = if seen.kept {
                EdgeChange::Kept
            } else if seen.gained {
                EdgeChange::Added
            } else if seen.lost {
                EdgeChange::Removed
            } else {
                EdgeChange::Unchanged
            };
            let kind = EdgeKind {
                relation,
                deny: seen.deny,
                change,
            };
            // INVARIANT: every edge's ends were added as nodes by `path` before the edge.
            graph.add_edge(index[&from], index[&to], kind);
        }
        graph
    }
}

fn n_kind(node: &Node) -> StepKind {
    match node.kind {
        NodeKind::User => StepKind::User,
        NodeKind::Organization => StepKind::Organization,
        NodeKind::Group => StepKind::Group,
        NodeKind::Role => StepKind::Role,
        NodeKind::Policy => StepKind::Policy,
        NodeKind::Statement => StepKind::Statement,
    }
}

fn node_kind(kind: StepKind) -> NodeKind {
    match kind {
        StepKind::User => NodeKind::User,
        StepKind::Organization => NodeKind::Organization,
        StepKind::Group => NodeKind::Group,
        StepKind::Role => NodeKind::Role,
        StepKind::Policy => NodeKind::Policy,
        StepKind::Statement => NodeKind::Statement,
    }
}

/// The relation of an edge, from the kinds of its ends.
fn relation(from: StepKind, to: StepKind) -> Relation {
    match (from, to) {
        (_, StepKind::Group) => Relation::Member,
        (_, StepKind::Role) => Relation::HasRole,
        (_, StepKind::Policy) => Relation::Attached,
        (_, StepKind::Statement) => Relation::Holds,
        (_, StepKind::Organization) | (_, StepKind::User) => Relation::Root,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Entry, GroupedEntry, PathId, UserImpact, UserSummary};
    use petgraph::visit::EdgeRef;

    fn user() -> UserSummary {
        UserSummary {
            id: "u-ana".into(),
            email: "ana@x".into(),
            ..UserSummary::default()
        }
    }

    fn path(steps: &[(StepKind, &str)], statement: u32) -> Path {
        let mut path: Path = steps
            .iter()
            .filter_map(|&(kind, id)| Step::entity(kind, id, &id.to_uppercase()))
            .collect();
        path.push(Step::statement(statement));
        path
    }

    /// The graph as lines `from -relation[flags]-> to`, in edge order, and its node count.
    fn shape(g: &AccessGraph) -> (usize, Vec<String>) {
        let edges = g
            .edge_references()
            .map(|e| {
                let w = e.weight();
                let mut flags = String::new();
                if w.deny {
                    flags.push_str(" deny");
                }
                if w.change != EdgeChange::Unchanged {
                    flags.push_str(&format!(" {:?}", w.change).to_lowercase());
                }
                format!(
                    "{} -{:?}{flags}-> {}",
                    g[e.source()].id,
                    w.relation,
                    g[e.target()].id
                )
            })
            .collect();
        (g.node_count(), edges)
    }

    fn check(g: &AccessGraph, nodes: usize, edges: &[&str]) {
        assert_eq!(
            shape(g),
            (nodes, edges.iter().map(|s| s.to_string()).collect())
        );
    }

    fn entry(via: Vec<Path>) -> Entry {
        Entry {
            action: "a.b.C".into(),
            resource: "*".into(),
            via,
        }
    }

    #[test]
    fn effective_shares_nodes_and_marks_deny() {
        let report = Effective {
            schema_version: 2,
            user: user(),
            allowed: vec![
                entry(vec![path(
                    &[
                        (StepKind::User, "u-ana"),
                        (StepKind::Group, "g-1"),
                        (StepKind::Policy, "p-1"),
                    ],
                    0,
                )]),
                entry(vec![path(
                    &[
                        (StepKind::User, "u-ana"),
                        (StepKind::Group, "g-1"),
                        (StepKind::Policy, "p-1"),
                    ],
                    0,
                )]),
            ],
            denied: vec![entry(vec![path(
                &[
                    (StepKind::User, "u-ana"),
                    (StepKind::Role, "r-1"),
                    (StepKind::Policy, "p-1"),
                ],
                1,
            )])],
            assumable: vec![],
            sessions: vec![],
        };
        let g = of_effective(&report);
        check(
            &g,
            6,
            &[
                "u-ana -Member-> g-1",
                "u-ana -HasRole deny-> r-1",
                "g-1 -Attached-> p-1",
                "r-1 -Attached deny-> p-1",
                "p-1 -Holds-> p-1#0",
                "p-1 -Holds deny-> p-1#1",
            ],
        );
        let deny = g.node_indices().find(|&n| g[n].id == "p-1#1").unwrap();
        assert_eq!(g[deny].effect, Some(Effect::Deny));
        assert_eq!(g[deny].label, "statement 1");
    }

    #[test]
    fn assumable_roles_hang_off_the_trusted_principal() {
        let trust = crate::report::TrustSummary {
            id: "t-1".into(),
            trust_type: "TemporaryAssumption".into(),
            conditions: None,
            valid_until: None,
            refused: None,
        };
        let report = Effective {
            schema_version: 2,
            user: user(),
            allowed: vec![],
            denied: vec![],
            assumable: vec![crate::report::Assumable {
                role: crate::report::EntityRef {
                    id: "r-1".into(),
                    name: "R".into(),
                },
                trust,
                via: vec![
                    vec![Step::user("u-ana", "ana@x")],
                    vec![
                        Step::user("u-ana", "ana@x"),
                        Step::entity(StepKind::Group, "g-1", "G").unwrap(),
                    ],
                ],
            }],
            sessions: vec![],
        };
        check(
            &of_effective(&report),
            3,
            &[
                "u-ana -Member-> g-1",
                "u-ana -MayAssume-> r-1",
                "g-1 -MayAssume-> r-1",
            ],
        );
    }

    #[test]
    fn explanation_keeps_the_user_without_paths() {
        let report = Explanation {
            schema_version: 2,
            user: user(),
            action: "a.b.C".into(),
            resource: "*".into(),
            evaluated_as: None,
            decision: crate::report::Decision::ImplicitDeny,
            allow: vec![],
            deny: vec![],
            overridden_allow: vec![],
            overridden_deny: vec![],
            note: None,
            not_assumable: vec![],
        };
        check(&of_explanation(&report), 1, &[]);
    }

    #[test]
    fn impact_marks_removed_kept_and_added() {
        let paths = vec![
            path(&[(StepKind::Group, "g-1"), (StepKind::Policy, "p-1")], 0),
            path(&[(StepKind::Group, "g-2"), (StepKind::Policy, "p-1")], 0),
            path(&[(StepKind::Policy, "p-2")], 0),
        ];
        let grouped = |ids: &[u32]| GroupedEntry {
            actions: vec![],
            resource: "*".into(),
            via: ids.iter().map(|&i| PathId(i)).collect(),
        };
        let report = Impact {
            schema_version: crate::report::SCHEMA_VERSION,
            changes: vec![],
            summary: Default::default(),
            users: vec![UserImpact {
                user: user(),
                lost: vec![grouped(&[0])],
                kept: vec![grouped(&[1])],
                gained: vec![grouped(&[2])],
                ..UserImpact::default()
            }],
            actions: vec![],
            paths: paths
                .into_iter()
                .map(|steps| crate::report::ImpactPath {
                    steps,
                    covers: crate::report::CoverageId(0),
                })
                .collect(),
            coverage: vec![vec![]],
        };
        check(
            &of_impact(&report),
            7,
            &[
                "u-ana -Member removed-> g-1",
                "u-ana -Member kept-> g-2",
                "u-ana -Attached added-> p-2",
                "g-1 -Attached removed-> p-1",
                "g-2 -Attached kept-> p-1",
                "p-1 -Holds kept-> p-1#0",
                "p-2 -Holds added-> p-2#0",
            ],
        );
    }

    #[test]
    fn redundancy_draws_the_removable_edge_and_what_covers_it() {
        use crate::report::{ChangeKind, ChangeSummary, CoveredUser, EntityRef, RedundantEdge};
        let group = EntityRef {
            id: "g-1".into(),
            name: "G-1".into(),
        };
        let policy = EntityRef {
            id: "p-1".into(),
            name: "P-1".into(),
        };
        let report = Redundancy {
            schema_version: 2,
            edges: vec![RedundantEdge {
                change: ChangeSummary {
                    kind: ChangeKind::DetachPolicy,
                    group: Some(group),
                    user: None,
                    role: None,
                    policy: Some(policy),
                    trust: None,
                },
                covered: vec![CoveredUser {
                    user: crate::report::UserRef {
                        id: "u-ana".into(),
                        email: "ana@x".into(),
                    },
                    kept: 1,
                    via: vec![crate::report::PathId(0)],
                }],
            }],
            shadowed: vec![],
            // From the first step after the user.
            paths: vec![path(&[(StepKind::Policy, "p-1")], 0)],
            scope: None,
        };
        check(
            &of_redundancy(&report),
            4,
            &[
                "u-ana -Attached kept-> p-1",
                "g-1 -Attached removed-> p-1",
                "p-1 -Holds kept-> p-1#0",
            ],
        );
    }
}
