//! Gates: whether a change (an [`Impact`]) or the difference between two snapshots (a
//! [`Diff`]) takes away or hands out access that a policy of the caller's forbids, and who
//! trips it.
//!
//! A [`Gate`] holds the rules; [`Gate::check_impact`] and [`Gate::check_diff`] read a report and
//! return a [`GateOutcome`]: for each rule that trips, in the gate's order, every user and entry
//! that tripped it. The CLI's `--fail-if-loses`, `--fail-if-gains` and `--fail-on` are these
//! rules; it renders the outcome and exits 1 when it is not [`GateOutcome::passed`].
//!
//! ```
//! use iamsim_core::gate::{FailOn, Gate, Side};
//! use iamsim_core::policy::ActionPattern;
//! use iamsim_core::{Catalogue, Change, Org, Snapshot};
//!
//! let snapshot = Snapshot::from_json_str(r#"{
//!     "format": "iamsim.snapshot.v1",
//!     "organization": {"id": "org", "name": "Org"},
//!     "users": [{"id": "u-ana", "email": "ana@example.com"}],
//!     "roles": [], "role_trusts": [],
//!     "groups": [{"id": "g-dev", "display_name": "DevOps", "members": ["u-ana"],
//!                 "policies": ["p-compute"]}],
//!     "policies": [{"id": "p-compute", "name": "compute", "policy_document": {
//!         "Version": "2026-03-20",
//!         "Statement": [{"Effect": "Allow", "Action": "compute.*", "Resource": "*"}]}}]
//! }"#)?;
//! let org = Org::compile(&snapshot, &Catalogue::bundled())?;
//! let impact = org.simulate(&[Change::RemoveMember {
//!     group: org.find_group("DevOps")?,
//!     user: org.find_user("ana@example.com")?,
//! }])?;
//!
//! let gate = Gate {
//!     loses: vec![ActionPattern::parse("compute.instance.Delete")?],
//!     gains: Vec::new(),
//!     fail_on: Some(FailOn::Gained),
//! };
//! let outcome = gate.check_impact(&impact, &org);
//! assert!(!outcome.passed());
//! // Only `--fail-if-loses` tripped: nobody gains anything.
//! assert_eq!(outcome.trips.len(), 1);
//! assert_eq!(outcome.trips[0].side, Side::Lost);
//! assert_eq!(&*outcome.trips[0].hits[0].user.email, "ana@example.com");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::policy::ActionPattern;
use crate::query::pattern_reaches;
use crate::report::{Diff, Entry, GroupedEntry, Impact, UserSummary};
use crate::Org;

/// The rules a report is checked against. An empty gate (no pattern, no `fail_on`) never trips.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Gate {
    /// Trip when anyone loses an action one of these patterns reaches (`--fail-if-loses`).
    pub loses: Vec<ActionPattern>,
    /// Trip when anyone gains an action one of these patterns reaches (`--fail-if-gains`).
    pub gains: Vec<ActionPattern>,
    /// Trip when anyone loses, gains, or either, anything at all (`--fail-on`).
    pub fail_on: Option<FailOn>,
}

/// What [`Gate::fail_on`] trips on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailOn {
    /// Any access lost, or any assumable role lost in an impact.
    Lost,
    /// Any access gained, or any assumable role gained in an impact.
    Gained,
    /// Either.
    Any,
}

/// Which list of a user's changes a rule reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// What the user loses.
    Lost,
    /// What the user gains.
    Gained,
}

/// The answer of a check: the rules that tripped, in the gate's order (`loses` patterns, then
/// `gains` patterns, then `fail_on` lost, then `fail_on` gained). A rule nobody trips is not
/// listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateOutcome<'a> {
    /// Each rule that tripped, with who tripped it.
    pub trips: Vec<Trip<'a>>,
}

impl GateOutcome<'_> {
    /// No rule tripped.
    pub fn passed(&self) -> bool {
        self.trips.is_empty()
    }
}

/// One rule that tripped, and every hit on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trip<'a> {
    /// The list the rule reads.
    pub side: Side,
    /// The rule's pattern; `None` for [`Gate::fail_on`], which any change trips.
    pub pattern: Option<&'a ActionPattern>,
    /// Who tripped it and with what: users in report order, each user's entries sorted by
    /// action then resource; never empty.
    pub hits: Vec<Hit<'a>>,
}

/// One user's change that trips a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit<'a> {
    /// Who.
    pub user: &'a UserSummary,
    /// What.
    pub what: HitKind<'a>,
}

/// What a [`Hit`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HitKind<'a> {
    /// An action lost or gained on a resource key.
    Entry {
        /// The action (concrete, or a wildcard element), as the report names it.
        action: &'a str,
        /// The resource key.
        resource: &'a str,
    },
    /// How many assumable roles the user loses or gains (only [`Gate::fail_on`] reads them).
    Assumable {
        /// The number of roles, above zero.
        count: usize,
    },
}

/// One user's changes, as the rules read them: (action, resource) pairs, sorted.
struct Subject<'a> {
    user: &'a UserSummary,
    lost: Vec<(&'a str, &'a str)>,
    gained: Vec<(&'a str, &'a str)>,
    assumable_lost: usize,
    assumable_gained: usize,
}

impl<'a> Subject<'a> {
    fn pairs(&self, side: Side) -> &[(&'a str, &'a str)] {
        match side {
            Side::Lost => &self.lost,
            Side::Gained => &self.gained,
        }
    }

    fn assumable(&self, side: Side) -> usize {
        match side {
            Side::Lost => self.assumable_lost,
            Side::Gained => self.assumable_gained,
        }
    }
}

impl Gate {
    /// Whether no rule is set: such a gate never trips.
    pub fn is_empty(&self) -> bool {
        self.loses.is_empty() && self.gains.is_empty() && self.fail_on.is_none()
    }

    /// Checks an impact simulated on `org`. Patterns take their meaning from `org`'s action
    /// universe (and the actions the impact names), as [`pattern_reaches`] says; assumable
    /// roles lost or gained trip [`Gate::fail_on`].
    pub fn check_impact<'a>(&'a self, impact: &'a Impact, org: &Org) -> GateOutcome<'a> {
        if self.is_empty() {
            return GateOutcome { trips: Vec::new() };
        }
        let pairs = |entries| grouped_pairs(impact, entries);
        let subjects: Vec<Subject> = impact
            .users
            .iter()
            .map(|u| Subject {
                user: &u.user,
                lost: pairs(&u.lost),
                gained: pairs(&u.gained),
                assumable_lost: u.assumable_lost.len(),
                assumable_gained: u.assumable_gained.len(),
            })
            .collect();
        self.check(&subjects, org, org)
    }

    /// Checks the difference between `old` and `new`. Lost entries take their meaning from
    /// `old`'s universe, gained ones from `new`'s. Assumable roles lost or gained trip
    /// [`Gate::fail_on`] as they do in [`Gate::check_impact`].
    pub fn check_diff<'a>(&'a self, diff: &'a Diff, old: &Org, new: &Org) -> GateOutcome<'a> {
        if self.is_empty() {
            return GateOutcome { trips: Vec::new() };
        }
        let subjects: Vec<Subject> = diff
            .users
            .iter()
            .map(|u| Subject {
                user: &u.user,
                lost: entry_pairs(&u.lost),
                gained: entry_pairs(&u.gained),
                assumable_lost: u.assumable_lost.len(),
                assumable_gained: u.assumable_gained.len(),
            })
            .collect();
        self.check(&subjects, old, new)
    }

    /// Each rule in turn over every subject. Lost entries take their meaning from `before`'s
    /// universe, gained ones from `after`'s, each widened with the elements the entries
    /// themselves name (a replaced document can add some).
    fn check<'a>(&'a self, subjects: &[Subject<'a>], before: &Org, after: &Org) -> GateOutcome<'a> {
        let lost_universe = universe(before, subjects, Side::Lost);
        let gained_universe = universe(after, subjects, Side::Gained);
        let rules = self
            .loses
            .iter()
            .map(|p| (Side::Lost, Some(p)))
            .chain(self.gains.iter().map(|p| (Side::Gained, Some(p))))
            .chain(
                matches!(self.fail_on, Some(FailOn::Lost | FailOn::Any))
                    .then_some((Side::Lost, None)),
            )
            .chain(
                matches!(self.fail_on, Some(FailOn::Gained | FailOn::Any))
                    .then_some((Side::Gained, None)),
            );
        let trips = rules
            .map(|(side, pattern)| {
                let universe = match side {
                    Side::Lost => &lost_universe,
                    Side::Gained => &gained_universe,
                };
                Trip {
                    side,
                    pattern,
                    hits: hits(subjects, side, pattern, universe),
                }
            })
            .filter(|trip| !trip.hits.is_empty())
            .collect();
        GateOutcome { trips }
    }
}

/// Every hit of one rule: each subject's entries on `side` the pattern reaches (all of them,
/// and the assumable roles, when there is no pattern).
fn hits<'a>(
    subjects: &[Subject<'a>],
    side: Side,
    pattern: Option<&ActionPattern>,
    universe: &[ActionPattern],
) -> Vec<Hit<'a>> {
    let mut out = Vec::new();
    for subject in subjects {
        for &(action, resource) in subject.pairs(side) {
            let reached = match (pattern, ActionPattern::parse(action)) {
                (None, _) => true,
                (Some(p), Ok(element)) => pattern_reaches(p, &element, universe.iter()),
                (Some(_), Err(_)) => false,
            };
            if reached {
                out.push(Hit {
                    user: subject.user,
                    what: HitKind::Entry { action, resource },
                });
            }
        }
        let count = subject.assumable(side);
        if pattern.is_none() && count > 0 {
            out.push(Hit {
                user: subject.user,
                what: HitKind::Assumable { count },
            });
        }
    }
    out
}

/// `org`'s universe and the actions the subjects name on `side`, once each, sorted.
fn universe(org: &Org, subjects: &[Subject], side: Side) -> Vec<ActionPattern> {
    let mut all: Vec<ActionPattern> = org.universe().cloned().collect();
    all.extend(
        subjects
            .iter()
            .flat_map(|s| s.pairs(side))
            .filter_map(|(action, _)| ActionPattern::parse(action).ok()),
    );
    all.sort();
    all.dedup();
    all
}

/// An impact's grouped entries as (action, resource) pairs, sorted.
fn grouped_pairs<'a>(impact: &'a Impact, entries: &'a [GroupedEntry]) -> Vec<(&'a str, &'a str)> {
    let mut out: Vec<(&str, &str)> = entries
        .iter()
        .flat_map(|entry| {
            entry
                .actions
                .iter()
                .map(move |&a| (impact.action(a), &*entry.resource))
        })
        .collect();
    out.sort_unstable();
    out
}

/// Entries as (action, resource) pairs, sorted.
fn entry_pairs(entries: &[Entry]) -> Vec<(&str, &str)> {
    let mut out: Vec<(&str, &str)> = entries
        .iter()
        .map(|e| (e.action.as_str(), e.resource.as_str()))
        .collect();
    out.sort_unstable();
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::{Catalogue, Change, Snapshot};

    const CATALOGUE: &str =
        "compute.instance.Create\ncompute.instance.Delete\naccount.billing.Read\n";

    /// Ana and Ben in DevOps (`compute.*`, and trusted with the assumable role `deployer`);
    /// Ben also in NoDelete (Deny `compute.instance.Delete`). `without` leaves out memberships,
    /// as `(group, user)`.
    fn org(without: &[(&str, &str)]) -> Org {
        let members = |group: &str, users: &[&str]| -> Vec<String> {
            users
                .iter()
                .filter(|u| !without.contains(&(group, **u)))
                .map(|u| u.to_string())
                .collect()
        };
        let policy = |id: &str, effect: &str, action: &str| {
            json!({"id": id, "name": id, "policy_document": {"Version": "2026-03-20",
                "Statement": [{"Effect": effect, "Action": action, "Resource": "*"}]}})
        };
        let doc = json!({
            "format": "iamsim.snapshot.v1",
            "organization": {"id": "org", "name": "Org"},
            "users": [
                {"id": "u-ana", "email": "ana@x.example"},
                {"id": "u-ben", "email": "ben@x.example"}
            ],
            "groups": [
                {"id": "g-dev", "display_name": "DevOps", "members": members("g-dev", &["u-ana", "u-ben"]),
                 "policies": ["p-compute"]},
                {"id": "g-nodel", "display_name": "NoDelete", "members": members("g-nodel", &["u-ben"]),
                 "policies": ["p-no-delete"]}
            ],
            "roles": [{"id": "r-deploy", "name": "deployer", "role_type": "assumable", "policies": []}],
            "policies": [
                policy("p-compute", "Allow", "compute.*"),
                policy("p-no-delete", "Deny", "compute.instance.Delete")
            ],
            "role_trusts": [{"id": "t-dev", "role_id": "r-deploy",
                "trust_type": "TemporaryAssumption", "trusted_group_id": "g-dev"}]
        });
        let snapshot = Snapshot::from_json_str(&doc.to_string()).unwrap();
        Org::compile(&snapshot, &Catalogue::parse(CATALOGUE).unwrap()).unwrap()
    }

    /// Ana leaves DevOps (she loses three entries and the role), Ben leaves NoDelete (he gains
    /// `compute.instance.Delete`).
    const CHANGES: &[(&str, &str)] = &[("g-dev", "u-ana"), ("g-nodel", "u-ben")];

    fn gate(loses: &[&str], gains: &[&str], fail_on: Option<FailOn>) -> Gate {
        let parse = |list: &[&str]| {
            list.iter()
                .map(|p| ActionPattern::parse(p).unwrap())
                .collect()
        };
        Gate {
            loses: parse(loses),
            gains: parse(gains),
            fail_on,
        }
    }

    /// One line per trip: side, pattern (`-` for `fail_on`), then the hits.
    fn lines(outcome: &GateOutcome) -> Vec<String> {
        outcome
            .trips
            .iter()
            .map(|trip| {
                let pattern = trip.pattern.map_or("-".to_string(), |p| p.to_string());
                let hits: Vec<String> = trip
                    .hits
                    .iter()
                    .map(|hit| match hit.what {
                        HitKind::Entry { action, resource } => {
                            format!("{} {action} on {resource}", hit.user.id)
                        }
                        HitKind::Assumable { count } => format!("{} {count} role(s)", hit.user.id),
                    })
                    .collect();
                format!("{:?} {pattern}: {}", trip.side, hits.join("; "))
            })
            .collect()
    }

    /// The gate's outcome on the impact of [`CHANGES`].
    fn check(gate: Gate, expected: &[&str]) {
        let org = org(&[]);
        let changes: Vec<Change> = CHANGES
            .iter()
            .map(|(group, user)| Change::RemoveMember {
                group: org.find_group(group).unwrap(),
                user: org.find_user(user).unwrap(),
            })
            .collect();
        let impact = org.simulate(&changes).unwrap();
        let outcome = gate.check_impact(&impact, &org);
        assert_eq!(lines(&outcome), expected);
        assert_eq!(outcome.passed(), expected.is_empty());
    }

    #[test]
    fn an_empty_gate_never_trips() {
        check(Gate::default(), &[]);
    }

    #[test]
    fn a_pattern_nobody_loses_passes() {
        check(gate(&["account.*"], &["account.billing.Read"], None), &[]);
    }

    #[test]
    fn a_lost_action_trips_its_pattern() {
        check(
            gate(&["compute.instance.Delete"], &[], None),
            &["Lost compute.instance.Delete: u-ana compute.instance.Delete on *"],
        );
    }

    /// The actions it covers, and `compute.*`, which stands for the unnamed actions it covers
    /// (`compute.instance.Reboot`, say).
    #[test]
    fn a_wildcard_pattern_reaches_every_action_it_covers() {
        check(
            gate(&["compute.instance.*"], &[], None),
            &["Lost compute.instance.*: u-ana compute.* on *; \
               u-ana compute.instance.Create on *; u-ana compute.instance.Delete on *"],
        );
    }

    /// `compute.instance.Reboot` is no element of the universe: the narrowest element covering
    /// it, `compute.*`, stands for it.
    #[test]
    fn an_unnamed_action_is_reached_through_the_wildcard_standing_for_it() {
        check(
            gate(&["compute.instance.Reboot"], &[], None),
            &["Lost compute.instance.Reboot: u-ana compute.* on *"],
        );
    }

    #[test]
    fn a_gained_action_trips_a_gains_pattern_only() {
        check(
            gate(
                &["compute.instance.Delete"],
                &["compute.instance.Delete"],
                None,
            ),
            &[
                "Lost compute.instance.Delete: u-ana compute.instance.Delete on *",
                "Gained compute.instance.Delete: u-ben compute.instance.Delete on *",
            ],
        );
    }

    #[test]
    fn fail_on_lost_counts_every_entry_and_the_assumable_roles() {
        check(
            gate(&[], &[], Some(FailOn::Lost)),
            &[
                "Lost -: u-ana compute.* on *; u-ana compute.instance.Create on *; \
               u-ana compute.instance.Delete on *; u-ana 1 role(s)",
            ],
        );
    }

    #[test]
    fn fail_on_gained() {
        check(
            gate(&[], &[], Some(FailOn::Gained)),
            &["Gained -: u-ben compute.instance.Delete on *"],
        );
    }

    /// Patterns first (loses, then gains), then `fail_on`'s lost and gained.
    #[test]
    fn trips_come_in_the_gates_order() {
        check(
            gate(
                &["compute.instance.Create", "compute.instance.Delete"],
                &["compute.*"],
                Some(FailOn::Any),
            ),
            &[
                "Lost compute.instance.Create: u-ana compute.instance.Create on *",
                "Lost compute.instance.Delete: u-ana compute.instance.Delete on *",
                "Gained compute.*: u-ben compute.instance.Delete on *",
                "Lost -: u-ana compute.* on *; u-ana compute.instance.Create on *; \
                 u-ana compute.instance.Delete on *; u-ana 1 role(s)",
                "Gained -: u-ben compute.instance.Delete on *",
            ],
        );
    }

    /// A diff trips on its entries and on assumable roles, as an impact does (Ana loses
    /// `deployer` here).
    #[test]
    fn a_diff_trips_on_entries_and_on_assumable_roles() {
        let (old, new) = (org(&[]), org(CHANGES));
        let diff = crate::diff(&old, &new);
        assert_eq!(diff.users[0].assumable_lost.len(), 1);
        let any = gate(&["compute.instance.Delete"], &[], Some(FailOn::Any));
        let outcome = any.check_diff(&diff, &old, &new);
        assert_eq!(
            lines(&outcome),
            [
                "Lost compute.instance.Delete: u-ana compute.instance.Delete on *",
                "Lost -: u-ana compute.* on *; u-ana compute.instance.Create on *; \
                 u-ana compute.instance.Delete on *; u-ana 1 role(s)",
                "Gained -: u-ben compute.instance.Delete on *",
            ]
        );
        assert!(Gate::default().check_diff(&diff, &old, &new).passed());
    }
}
