//! Statements with keys iamsim does not evaluate (such as `Condition`), which `iamsim vultr`
//! sets aside in `crawl.unevaluated_statements` and the snapshot's documents read
//! conservatively: an Allow may not apply, so it is left out; a Deny may apply, so it is kept
//! as if unconditional. Answers they touch say so ([`UserSummary::conditional`]).
//!
//! [`UserSummary::conditional`]: crate::report::UserSummary::conditional

use std::collections::BTreeSet;

use serde::Deserialize;
use serde_json::Value;

use crate::org::{Org, PolicyIx, UserIx};
use crate::policy::{ActionPattern, Effect, ResourcePattern};
use crate::report::{Conditional, EntityRef};

/// One set-aside statement, as the crawl recorded it.
#[derive(Deserialize)]
struct Recorded {
    policy: String,
    statement: u32,
    #[serde(default)]
    keys: Vec<String>,
    treatment: String,
    original: Value,
}

/// A set-aside statement of a policy of the organization, compiled.
#[derive(Debug, Clone)]
pub(crate) struct ConditionalNode {
    pub(crate) policy: PolicyIx,
    /// Index in the document as sent.
    statement: u32,
    /// Index in the snapshot's document (a Deny kept as if unconditional).
    index: Option<u32>,
    effect: Effect,
    keys: Vec<String>,
    actions: Vec<ActionPattern>,
    resources: Vec<ResourcePattern>,
}

/// Strings of a JSON string or array of strings, parsed; what does not parse is dropped.
fn patterns<T>(value: Option<&Value>, parse: impl Fn(&str) -> Option<T>) -> Vec<T> {
    match value {
        Some(Value::String(one)) => parse(one).into_iter().collect(),
        Some(Value::Array(many)) => many
            .iter()
            .filter_map(Value::as_str)
            .filter_map(parse)
            .collect(),
        _ => Vec::new(),
    }
}

/// The set-aside statements of `crawl.unevaluated_statements` whose policy the snapshot has,
/// sorted by policy and index. Entries of another shape, or naming no policy, are ignored:
/// `crawl` is the adapter's record, read here only for this.
pub(crate) fn read(
    crawl: Option<&Value>,
    policy: impl Fn(&str) -> Option<PolicyIx>,
) -> Vec<ConditionalNode> {
    let Some(list) = crawl
        .and_then(|c| c.get("unevaluated_statements"))
        .and_then(Value::as_array)
    else {
        return Vec::new();
    };
    let recorded: Vec<(PolicyIx, Recorded)> = list
        .iter()
        .filter_map(|v| Recorded::deserialize(v).ok())
        .filter_map(|r| Some((policy(&r.policy)?, r)))
        .collect();
    let mut nodes: Vec<ConditionalNode> = recorded
        .iter()
        .filter_map(|(ix, r)| {
            let effect = Effect::parse(r.original.get("Effect")?.as_str()?).ok()?;
            // A kept statement stands where it was, less the statements left out before it
            // (each counted once: a record may list one twice, and the count must stay below
            // the statement's own index).
            let index = (r.treatment == "kept_without_keys").then(|| {
                let before: BTreeSet<u32> = recorded
                    .iter()
                    .filter(|(other, o)| {
                        other == ix && o.treatment == "left_out" && o.statement < r.statement
                    })
                    .map(|(_, o)| o.statement)
                    .collect();
                r.statement
                    .saturating_sub(u32::try_from(before.len()).unwrap_or(u32::MAX))
            });
            let mut keys = r.keys.clone();
            keys.sort();
            keys.dedup();
            Some(ConditionalNode {
                policy: *ix,
                statement: r.statement,
                index,
                effect,
                keys,
                actions: patterns(r.original.get("Action"), |a| ActionPattern::parse(a).ok()),
                resources: patterns(r.original.get("Resource"), |a| {
                    ResourcePattern::parse(a).ok()
                }),
            })
        })
        .collect();
    nodes.sort_by_key(|n| (n.policy, n.statement));
    nodes
}

impl Org {
    /// The set-aside statements (`crawl.unevaluated_statements`) of the policies that give
    /// `user` standing access, in the snapshot as it is; with `on`, only those whose action
    /// and resource patterns touch that action and resource key. Empty for the root user and
    /// suspended users, whose answers no statement decides.
    pub(crate) fn conditional_for(
        &self,
        user: UserIx,
        on: Option<(&ActionPattern, &ResourcePattern)>,
    ) -> Vec<Conditional> {
        if self.conditionals().is_empty() || self.root() == Some(user) {
            return Vec::new();
        }
        if self.user_nodes()[user].suspended {
            return Vec::new();
        }
        let view = self.as_is();
        let mut reach: BTreeSet<PolicyIx> = view.user_policies(user).iter().copied().collect();
        let mut roles: Vec<_> = view.user_roles_raw(user).into_owned();
        for &group in view.user_groups(user).iter() {
            reach.extend(view.group_policies(group).iter().copied());
            roles.extend(view.group_roles_raw(group).iter().copied());
        }
        for role in roles {
            if self.role_nodes()[role].assignable {
                reach.extend(view.role_policies(role).iter().copied());
            }
        }
        self.conditionals()
            .iter()
            .filter(|c| reach.contains(&c.policy))
            .filter(|c| {
                on.is_none_or(|(action, key)| {
                    c.actions.iter().any(|a| a.overlaps(action))
                        && c.resources.iter().any(|r| r.covers(key))
                })
            })
            .map(|c| Conditional {
                policy: EntityRef {
                    id: self.policy_nodes().id(c.policy).to_string(),
                    name: self.policy_nodes()[c.policy].name.clone(),
                },
                statement: c.statement,
                index: c.index,
                effect: match c.effect {
                    Effect::Allow => "Allow".to_string(),
                    Effect::Deny => "Deny".to_string(),
                },
                keys: c.keys.clone(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::{Catalogue, Org, Snapshot};

    fn org(crawl: serde_json::Value) -> Org {
        let snapshot: Snapshot = serde_json::from_value(json!({
            "format": "iamsim.snapshot.v1",
            "organization": {"id": "o", "name": "O"},
            "users": [{"id": "u", "email": "u@x", "policies": ["p"]},
                      {"id": "v", "email": "v@x", "suspended": true, "policies": ["p"]}],
            "groups": [], "roles": [],
            "policies": [{"id": "p", "name": "P", "policy_document": {"Statement": [
                {"Effect": "Deny", "Action": "compute.instance.Create", "Resource": "*"}]}}],
            "crawl": crawl,
        }))
        .unwrap();
        Org::compile(&snapshot, &Catalogue::bundled()).unwrap()
    }

    fn statement(n: u32, effect: &str, action: &str, treatment: &str) -> serde_json::Value {
        json!({"policy": "p", "statement": n, "keys": ["Condition", "Condition"],
               "treatment": treatment,
               "original": {"Effect": effect, "Action": action, "Resource": "*", "Condition": {}}})
    }

    #[test]
    fn kept_deny_index_counts_the_allows_left_out_before_it() {
        let org = org(json!({"unevaluated_statements": [
            statement(1, "Deny", "compute.instance.Create", "kept_without_keys"),
            statement(0, "Allow", "compute.instance.Delete", "left_out"),
            {"policy": "p", "shape": "other"},
            // A policy the snapshot does not have.
            {"policy": "gone", "statement": 0, "keys": ["Condition"], "treatment": "left_out",
             "original": {"Effect": "Allow", "Action": "*", "Resource": "*"}},
        ]}));
        let user = org.user_nodes().find("u").unwrap();
        let all = org.conditional_for(user, None);
        let got: Vec<_> = all
            .iter()
            .map(|c| (c.effect.as_str(), c.statement, c.index, c.keys.clone()))
            .collect();
        assert_eq!(
            got,
            [
                ("Allow", 0, None, vec!["Condition".to_string()]),
                ("Deny", 1, Some(0), vec!["Condition".to_string()]),
            ]
        );
        let create = crate::policy::ActionPattern::parse("compute.instance.Create").unwrap();
        let any = crate::policy::ResourcePattern::any();
        let on = org.conditional_for(user, Some((&create, &any)));
        assert_eq!(on.len(), 1);
        assert_eq!(on[0].effect, "Deny");
        // Suspended users have no access for a statement to touch.
        assert!(org
            .conditional_for(org.user_nodes().find("v").unwrap(), None)
            .is_empty());
    }

    #[test]
    fn a_statement_left_out_twice_counts_once() {
        // A malformed record: statement 0 left out twice. The kept Deny stands at 0, and
        // reading the record does not underflow.
        let org = org(json!({"unevaluated_statements": [
            statement(0, "Allow", "compute.instance.Delete", "left_out"),
            statement(0, "Allow", "compute.instance.Delete", "left_out"),
            statement(1, "Deny", "compute.instance.Create", "kept_without_keys"),
        ]}));
        let user = org.user_nodes().find("u").unwrap();
        let indexes: Vec<_> = org
            .conditional_for(user, None)
            .iter()
            .map(|c| (c.statement, c.index))
            .collect();
        assert_eq!(indexes, [(0, None), (0, None), (1, Some(0))]);
    }

    #[test]
    fn no_crawl_record_no_conditional() {
        let org = org(serde_json::Value::Null);
        assert!(org.conditionals().is_empty());
    }
}
