//! What-if: changes applied as an [`Overlay`] and compared with the organization as it is.
//!
//! Only the users a change can reach are evaluated: the user it names, the members of the group
//! it names, the holders of the role or policy it names. Each is judged before and after on
//! the same universe elements and resource keys.

use std::collections::{BTreeMap, BTreeSet};

use rayon::iter::ParallelIterator;
use rayon::slice::ParallelSlice;

use crate::bitset::{BitSet, ElementIx};
use crate::error::{ChangeError, ChangeSetError, EntityKind};
use crate::eval::{Grants, Hit, Judgement, Overlay, Route, ANY_RESOURCE};
use crate::idx::{Idx, IdxRange};
use crate::impact::{ActionIds, Class, Interner, Judged, PathKey, UserPathIx};
use crate::model::PolicyDocument;
use crate::org::{
    compile_statement, GroupIx, GroupKey, Org, PolicyIx, PolicyKey, Precedence, RoleIx, RoleKey,
    StatementIx, StatementNode, TrustIx, TrustKey, UserIx, UserKey,
};
use crate::overlay::{Carriers, Edge, Made};
use crate::policy::parse_document;
use crate::policy::{Effect, ResourcePattern};
use crate::report::{ChangeKind, ChangeSummary, Impact, UserRef};

mod covering;

/// What a policy attaches to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Holder {
    /// A user, directly.
    User(UserKey),
    /// A group, for all its members.
    Group(GroupKey),
    /// A role, for all who hold it.
    Role(RoleKey),
}

/// What a role attaches to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Principal {
    /// A user, directly.
    User(UserKey),
    /// A group, for all its members.
    Group(GroupKey),
}

/// A change to simulate.
///
/// Its keys name entities of one organization: simulating or checking it with another panics
/// (see [`Org`]).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Change {
    /// Take `user` out of `group`.
    RemoveMember {
        /// The group.
        group: GroupKey,
        /// The user, who must be a member.
        user: UserKey,
    },
    /// Put `user` in `group`.
    AddMember {
        /// The group.
        group: GroupKey,
        /// The user, who must not be a member yet.
        user: UserKey,
    },
    /// Detach `policy` from a user, group or role.
    DetachPolicy {
        /// The policy.
        policy: PolicyKey,
        /// Where it is attached.
        from: Holder,
    },
    /// Attach `policy` to a user, group or role.
    AttachPolicy {
        /// The policy.
        policy: PolicyKey,
        /// Where to attach it.
        to: Holder,
    },
    /// Detach `role` from a user or group.
    DetachRole {
        /// The role.
        role: RoleKey,
        /// Where it is attached.
        from: Principal,
    },
    /// Attach `role` to a user or group.
    AttachRole {
        /// The role.
        role: RoleKey,
        /// Where to attach it.
        to: Principal,
    },
    /// Delete a group: its members lose what came through it.
    DeleteGroup {
        /// The group.
        group: GroupKey,
    },
    /// Delete a role: its holders lose what came through it, and its trusts go.
    DeleteRole {
        /// The role.
        role: RoleKey,
    },
    /// Delete a policy: every attachment of it goes.
    DeletePolicy {
        /// The policy.
        policy: PolicyKey,
    },
    /// Suspend a user: no access, assignments kept.
    SuspendUser {
        /// The user.
        user: UserKey,
    },
    /// Lift a user's suspension.
    UnsuspendUser {
        /// The user.
        user: UserKey,
    },
    /// Remove a user from the organization.
    RemoveUser {
        /// The user.
        user: UserKey,
    },
    /// Replace a (custom) policy's document.
    ReplacePolicyDocument {
        /// The policy; Vultr-managed policies cannot be edited.
        policy: PolicyKey,
        /// The new document.
        document: PolicyDocument,
    },
    /// Delete a role trust: its principals can no longer assume the role.
    DeleteRoleTrust {
        /// The trust.
        trust: TrustKey,
    },
    /// Create a user: one of the entities an organization compiled with a change set's
    /// creations ([`Org::compile_changes`]) holds, absent until this change. A created user
    /// holds nothing until later changes give them memberships, roles or policies.
    CreateUser {
        /// The user.
        user: UserKey,
    },
    /// Create a group, with no member and no attachment (see [`Change::CreateUser`]).
    CreateGroup {
        /// The group.
        group: GroupKey,
    },
    /// Create a role, with no policy (see [`Change::CreateUser`]).
    CreateRole {
        /// The role.
        role: RoleKey,
    },
    /// Create a policy, attached to nothing (see [`Change::CreateUser`]).
    CreatePolicy {
        /// The policy.
        policy: PolicyKey,
    },
    /// Create a role trust: its principals may assume the role (see [`Change::CreateUser`]).
    CreateRoleTrust {
        /// The trust.
        trust: TrustKey,
    },
}

/// Users judged by one job of the pool: below this many, handing them to another worker costs
/// more than it saves.
const USERS_PER_JOB: usize = 64;

/// Users judged before their answers are converted to the report's compact form.
const BATCH: usize = 256;

/// How to simulate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SimulateOptions {
    /// Skip a change that does nothing (detaching what is not attached) instead of failing.
    pub allow_noop: bool,
    /// How much to report.
    pub detail: Detail,
}

/// How much of an impact [`Org::simulate_with`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Detail {
    /// Every entry with its paths.
    #[default]
    Full,
    /// The counts only: the summary, each user's [`PairCounts`](crate::report::PairCounts),
    /// the per-action summary, assumable roles and notes, with no entry and no path. The same
    /// judging, without building the answer.
    Counts,
}

/// How much of a user's impact to work out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Depth {
    /// Everything: lost, kept, gained with their paths, the unchanged count, assumable roles.
    Full,
    /// [`Depth::Full`] for a user who loses and gains no access; for one who does, it stops
    /// as soon as that is known, as [`Depth::FirstChange`] does, keeping no pair. For a caller
    /// that wants the impact of a change only when it takes and gives nothing.
    FullUnlessChanged,
    /// The same, counting pairs without keeping their paths.
    Counts,
    /// [`Depth::Counts`] without the unchanged count (read off the pre-folded sets outside the
    /// touched elements): the stream's ordering pass, whose users are dropped once counted
    /// and judged again when written.
    Tally,
    /// Only whether anything is lost or gained: stops at the first such pair, keeps no pair
    /// and counts nothing unchanged.
    FirstChange,
}

impl Depth {
    /// Whether the pairs judged are kept with their paths.
    fn keeps_paths(self) -> bool {
        matches!(self, Depth::Full | Depth::FullUnlessChanged)
    }
}

/// A what-if that writes itself user by user when serialized: [`Org::simulate_stream`].
pub struct ImpactStream<'o> {
    org: &'o Org,
    overlay: Overlay,
    baseline: Overlay,
    /// The users to report, in report order (dense indexes).
    order: Vec<u32>,
    /// The report without its users and paths: version, changes, summary, actions.
    head: Impact,
    /// Per rank of an element, its action id.
    action_ids: ActionIds,
    progress: &'o dyn Fn(usize, usize),
}

impl ImpactStream<'_> {
    /// The counts of the whole report (known before any user is written).
    pub fn summary(&self) -> &crate::report::ImpactSummary {
        &self.head.summary
    }

    /// The changes applied (those that do something).
    pub fn changes(&self) -> &[ChangeSummary] {
        &self.head.changes
    }

    /// The report with its first `n` users only (the most affected), judged now; the summary
    /// and the per-action counts still describe every user, as after
    /// [`Impact::retain_users`]. What a table of the first users needs, without judging the
    /// others in full.
    pub fn first(&self, n: usize) -> Impact {
        let order = &self.order[..n.min(self.order.len())];
        let mut interner = Interner::new(self.org, &self.baseline, &self.overlay);
        let mut users = Vec::with_capacity(order.len());
        self.org.judge_batches(
            order,
            (&self.baseline, &self.overlay),
            Depth::Full,
            &|_| true,
            &mut |judged, done| match judged {
                Some(judged) => {
                    users.push(interner.convert_final(judged, &self.action_ids));
                    true
                }
                None => {
                    (self.progress)(done, order.len());
                    true
                }
            },
        );
        let (paths, coverage) = interner.table(&self.action_ids);
        Impact {
            users,
            paths,
            coverage,
            ..self.head.clone()
        }
    }
}

impl serde::Serialize for ImpactStream<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let interner =
            std::cell::RefCell::new(Interner::new(self.org, &self.baseline, &self.overlay));
        let mut report = serializer.serialize_struct("Impact", 7)?;
        report.serialize_field("schema_version", &self.head.schema_version)?;
        report.serialize_field("changes", &self.head.changes)?;
        report.serialize_field("summary", &self.head.summary)?;
        report.serialize_field(
            "users",
            &StreamedUsers {
                stream: self,
                interner: &interner,
            },
        )?;
        report.serialize_field("actions", &self.head.actions)?;
        let (paths, coverage) = interner.borrow_mut().table(&self.action_ids);
        report.serialize_field("paths", &paths)?;
        report.serialize_field("coverage", &coverage)?;
        report.end()
    }
}

/// The users of an [`ImpactStream`], judged and written one batch at a time.
struct StreamedUsers<'s, 'o> {
    stream: &'s ImpactStream<'o>,
    interner: &'s std::cell::RefCell<Interner<'s>>,
}

impl serde::Serialize for StreamedUsers<'_, '_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{Error, SerializeSeq};
        let stream = self.stream;
        let mut seq = serializer.serialize_seq(Some(stream.order.len()))?;
        let mut failed = None;
        let mut interner = self.interner.borrow_mut();
        stream.org.judge_batches(
            &stream.order,
            (&stream.baseline, &stream.overlay),
            Depth::Full,
            // Every user of the order was reported by the first pass.
            &|_| true,
            &mut |judged, done| match judged {
                Some(judged) if failed.is_none() => {
                    let user = interner.convert_final(judged, &stream.action_ids);
                    if let Err(e) = seq.serialize_element(&user) {
                        failed = Some(e.to_string());
                    }
                    true
                }
                Some(_) => true,
                None => {
                    (stream.progress)(done, stream.order.len());
                    true
                }
            },
        );
        if let Some(e) = failed {
            return Err(S::Error::custom(e));
        }
        seq.end()
    }
}

/// What covers a removal that takes and gives nothing: [`Org::covering_if_harmless`].
pub(crate) struct Covering {
    /// The removal, as a report names it.
    pub(crate) change: ChangeSummary,
    /// Per user who keeps pairs through other paths, in the impact's order (by id): the user,
    /// the pairs kept, and the keys of the paths of those pairs, each once, in path order.
    pub(crate) users: Vec<(UserIx, usize, Vec<PathKey>)>,
}

/// Changes applied to an overlay, ready to be judged user by user.
struct Prepared {
    overlay: Overlay,
    baseline: Overlay,
    /// The users the changes reach, in id order.
    reach: Vec<u32>,
    summaries: Vec<ChangeSummary>,
    /// Users a change names: reported even when nothing changes for them.
    named: BTreeSet<u32>,
}

impl Org {
    /// What `changes`, applied together as one step, would do to every user they reach: what
    /// each loses, keeps (and through what) and gains, and the assumable roles they lose.
    ///
    /// The organization is not modified. A change that does nothing is an error.
    pub fn simulate(&self, changes: &[Change]) -> Result<Impact, ChangeError> {
        self.simulate_with(changes, &SimulateOptions::default())
    }

    /// [`Org::simulate`] with options.
    pub fn simulate_with(
        &self,
        changes: &[Change],
        options: &SimulateOptions,
    ) -> Result<Impact, ChangeError> {
        self.simulate_observed(changes, options, &|_, _| {})
    }

    /// [`Org::simulate_with`], calling `progress(done, total)` with the users judged so far, on
    /// the calling thread, after each batch (for a progress bar).
    ///
    /// The users a change reaches are judged on the rayon pool the call runs in (the global
    /// pool unless the caller runs it inside [`rayon::ThreadPool::install`]); the result is the
    /// same, byte for byte, whatever the pool's size.
    pub fn simulate_observed(
        &self,
        changes: &[Change],
        options: &SimulateOptions,
        progress: &dyn Fn(usize, usize),
    ) -> Result<Impact, ChangeError> {
        let Prepared {
            overlay,
            baseline,
            reach,
            summaries,
            named,
        } = self.prepare(changes, options.allow_noop)?;
        let depth = match options.detail {
            Detail::Full => Depth::Full,
            Detail::Counts => Depth::Counts,
        };
        let interner = self.intern_reached(&reach, (&baseline, &overlay), depth, &named, progress);
        let mut impact = interner.finish();
        impact.changes = summaries;
        impact.summary.users_reached = reach.len();
        Ok(impact)
    }

    /// Judges the users a change set reaches into an [`Interner`] (entries built at
    /// [`Depth::Full`]), reporting progress after each batch: the in-memory report's one pass,
    /// and the stream's counting pass.
    fn intern_reached<'o>(
        &'o self,
        reach: &[u32],
        sides: (&'o Overlay, &'o Overlay),
        depth: Depth,
        named: &BTreeSet<u32>,
        progress: &dyn Fn(usize, usize),
    ) -> Interner<'o> {
        let mut interner = Interner::new(self, sides.0, sides.1);
        let keep = depth == Depth::Full;
        self.judge_batches(
            reach,
            sides,
            depth,
            &|u| named.contains(&u),
            &mut |judged, done| match judged {
                Some(judged) => {
                    interner.add(judged, keep);
                    true
                }
                None => {
                    progress(done, reach.len());
                    true
                }
            },
        );
        interner
    }

    /// Judges `users` a batch at a time (on the caller's pool), handing each judged user that `keep`s
    /// (named, or changed) to `each` in order, then `None` with the count done after each
    /// batch. Judged users hold every pair's statements and the report only what it shows, so
    /// converting each batch before judging the next bounds memory by the report. Stops after
    /// the batch in which `each` first answers `false`.
    fn judge_batches<'o>(
        &'o self,
        users: &[u32],
        (baseline, overlay): (&'o Overlay, &'o Overlay),
        depth: Depth,
        named: &(dyn Fn(u32) -> bool + Sync),
        each: &mut dyn FnMut(Option<Judged<'o>>, usize) -> bool,
    ) {
        let judge = |users: &[u32]| -> Vec<Judged<'o>> {
            users
                .iter()
                .map(|&u| self.user_impact(Idx::from_raw(u), baseline, overlay, depth))
                .filter(|judged| named(judged.user) || !judged.is_empty())
                .collect()
        };
        let mut done = 0;
        for batch in users.chunks(BATCH) {
            let judged: Vec<Judged> = if batch.len() >= 2 * USERS_PER_JOB {
                // Each job judges a contiguous slice; the slices are collected in order, so the
                // answer does not depend on the pool's size.
                let parts: Vec<Vec<Judged>> = batch.par_chunks(USERS_PER_JOB).map(judge).collect();
                parts.into_iter().flatten().collect()
            } else {
                judge(batch)
            };
            let mut go_on = true;
            for user in judged {
                go_on &= each(Some(user), done);
            }
            done += batch.len();
            go_on &= each(None, done);
            if !go_on {
                return;
            }
        }
    }

    /// The what-if of [`Org::simulate_observed`] as a value that writes itself user by user
    /// when serialized, judging each batch of users as it goes: serializing it gives the same
    /// bytes as serializing the [`Impact`], but memory does not grow with the users reported.
    ///
    /// It takes two passes: the first counts (as [`Detail::Counts`]) to order the users, most
    /// lost first, and to build the per-action table; the second, during serialization, judges
    /// the users again in that order and writes each as soon as it is judged. `options.detail`
    /// is ignored: the stream is the full report. Call `progress` is called after each batch
    /// of each pass. The first pass runs on the rayon pool this call runs in, the second on
    /// the pool the serialization (or [`ImpactStream::first`]) runs in.
    pub fn simulate_stream<'o>(
        &'o self,
        changes: &[Change],
        options: &SimulateOptions,
        progress: &'o dyn Fn(usize, usize),
    ) -> Result<ImpactStream<'o>, ChangeError> {
        let Prepared {
            overlay,
            baseline,
            reach,
            summaries,
            named,
        } = self.prepare(changes, options.allow_noop)?;
        let (mut head, order, action_ids) = self
            .intern_reached(
                &reach,
                (&baseline, &overlay),
                Depth::Tally,
                &named,
                progress,
            )
            .finish_ordered();
        head.changes = summaries;
        head.summary.users_reached = reach.len();
        head.users = Vec::new();
        Ok(ImpactStream {
            org: self,
            overlay,
            baseline,
            order,
            head,
            action_ids,
            progress,
        })
    }

    /// Checks that each change of a set can be made after the ones before it (what
    /// [`Org::simulate_with`] refuses under the same `options`: a change that does nothing,
    /// unless [`SimulateOptions::allow_noop`]), naming the first that cannot by its index (the
    /// error's source says why). Cheap: no user is judged.
    pub fn check_all(
        &self,
        changes: &[Change],
        options: &SimulateOptions,
    ) -> Result<(), ChangeSetError<ChangeError>> {
        self.overlay_of(changes, options.allow_noop).map(|_| ())
    }

    /// The overlay of a change set, and the changes that do something (all of them, unless
    /// `allow_noop` lets no-ops through); or the first change that cannot be made.
    fn overlay_of<'c>(
        &self,
        changes: &'c [Change],
        allow_noop: bool,
    ) -> Result<(Overlay, Vec<&'c Change>), ChangeSetError<ChangeError>> {
        let mut overlay = Overlay::none();
        let mut applied = Vec::with_capacity(changes.len());
        for (i, change) in changes.iter().enumerate() {
            match self.apply(change, &mut overlay) {
                Ok(()) => applied.push(change),
                Err(ChangeError::Noop { .. }) if allow_noop => {}
                Err(source) => return Err(ChangeSetError { index: i, source }),
            }
        }
        Ok((overlay, applied))
    }

    /// Applies the changes to an overlay and finds the users they reach.
    fn prepare(&self, changes: &[Change], allow_noop: bool) -> Result<Prepared, ChangeError> {
        let (mut overlay, applied) = self.overlay_of(changes, allow_noop).map_err(|e| e.source)?;
        let summaries = applied.iter().map(|c| self.summarize(c)).collect();
        let named = applied
            .iter()
            .filter_map(|c| named_user(c))
            .map(|u| self.user_ix(u).raw())
            .chain(applied.iter().filter_map(|c| self.trusted_user(c)))
            .collect();
        // Judge on the elements the final documents name: a replacement that a later change
        // replaces again, or whose policy it deletes, names nothing before or after.
        let named_now: BTreeSet<_> = overlay
            .documents
            .iter()
            .filter(|(policy, _)| !overlay.deleted_policies.contains(policy))
            .flat_map(|(_, statements)| statements.clone())
            .flat_map(|s| self.statement(s, &overlay).patterns.clone())
            .collect();
        overlay.extra_elements.retain(|e| named_now.contains(e));
        overlay.carriers = Some(std::sync::Arc::new(Carriers::of(self, &overlay)));
        let baseline = overlay.baseline();
        let mut reach = BTreeSet::new();
        for change in applied {
            self.reach(change, &mut reach);
        }
        Ok(Prepared {
            overlay,
            baseline,
            reach: reach.into_iter().map(Idx::raw).collect(),
            summaries,
            named,
        })
    }

    /// Whether a change takes anything from anyone (an access or an assumable role) or gives
    /// anyone an access: [`Org::simulate`]'s answer reduced to one bit, found without building
    /// entries and stopping at the first user it changes.
    pub(crate) fn takes_or_gives(&self, change: &Change) -> Result<bool, ChangeError> {
        let prepared = self.prepare(std::slice::from_ref(change), false)?;
        Ok(prepared.reach.iter().any(|&u| {
            let judged = self.user_impact(
                Idx::from_raw(u),
                &prepared.baseline,
                &prepared.overlay,
                Depth::FirstChange,
            );
            judged.changes_access()
        }))
    }

    /// The full impact of one change ([`Org::simulate_with`] at [`Detail::Full`], the same
    /// value) when it takes nothing from anyone and gives nothing; `None` when it takes or
    /// gives something. One pass over the users it reaches ([`Org::harmless_pass`]): what the
    /// first-change judgement followed by the full what-if would answer, without judging
    /// every user twice.
    pub(crate) fn simulate_if_harmless(
        &self,
        change: &Change,
    ) -> Result<Option<Impact>, ChangeError> {
        let prepared = self.prepare(std::slice::from_ref(change), false)?;
        let mut interner = Interner::new(self, &prepared.baseline, &prepared.overlay);
        if !self.harmless_pass(&prepared, &mut |judged| interner.add(judged, true)) {
            return Ok(None);
        }
        let mut impact = interner.finish();
        impact.changes = prepared.summaries;
        impact.summary.users_reached = prepared.reach.len();
        Ok(Some(impact))
    }

    /// What covers one change that takes nothing from anyone and gives nothing: the users of
    /// its full impact who keep pairs through paths it changes, with the paths of those kept
    /// pairs, found user by user without building the impact ([`Org::covering_pass`]). `None`
    /// when the change takes or gives something.
    pub(crate) fn covering_if_harmless(
        &self,
        change: &Change,
    ) -> Result<Option<Covering>, ChangeError> {
        let prepared = self.prepare(std::slice::from_ref(change), false)?;
        let Some(mut users) = self.covering_pass(&prepared) else {
            return Ok(None);
        };
        // The impact's order: most lost first (none is lost), then by id.
        users.sort_by(|a, b| self.user_nodes().id(a.0).cmp(self.user_nodes().id(b.0)));
        let change = prepared
            .summaries
            .into_iter()
            .next()
            .expect("one change, one summary");
        Ok(Some(Covering { change, users }))
    }

    /// Judges the users a prepared change reaches at [`Depth::FullUnlessChanged`], handing
    /// each reported user to `each` in order, until one loses or gains an access or an
    /// assumable role: then stops after that batch and answers `false`.
    fn harmless_pass<'o>(
        &'o self,
        prepared: &'o Prepared,
        each: &mut dyn FnMut(Judged<'o>),
    ) -> bool {
        let mut harmless = true;
        self.judge_batches(
            &prepared.reach,
            (&prepared.baseline, &prepared.overlay),
            Depth::FullUnlessChanged,
            &|u| prepared.named.contains(&u),
            &mut |judged, _| match judged {
                Some(judged) if harmless => {
                    harmless = !judged.changes_access();
                    if harmless {
                        each(judged);
                    }
                    harmless
                }
                Some(_) => false,
                None => harmless,
            },
        );
        harmless
    }

    /// Records one change in the overlay, checking it against the changes before it.
    fn apply(&self, change: &Change, ov: &mut Overlay) -> Result<(), ChangeError> {
        let noop = |reason: String| Err(ChangeError::Noop { reason });
        if let Some((edge, attach)) = edge_of(self, change) {
            self.alive_ends(edge, ov)?;
            if self.edge_present(edge, ov) == attach {
                return noop(self.edge_state(edge, attach));
            }
            toggle(ov, edge, attach);
            return Ok(());
        }
        match change {
            Change::RemoveMember { .. }
            | Change::AddMember { .. }
            | Change::DetachPolicy { .. }
            | Change::AttachPolicy { .. }
            | Change::DetachRole { .. }
            | Change::AttachRole { .. } => unreachable!("edge changes are handled above"),
            Change::DeleteGroup { group } => {
                let group = self.group_ix(*group);
                self.alive_group(group, ov)?;
                ov.deleted_groups.insert(group);
            }
            Change::DeleteRole { role } => {
                let role = self.role_ix(*role);
                self.alive_role(role, ov)?;
                ov.deleted_roles.insert(role);
            }
            Change::DeletePolicy { policy } => {
                let policy = self.policy_ix(*policy);
                self.alive_policy(policy, ov)?;
                ov.deleted_policies.insert(policy);
            }
            Change::SuspendUser { user } | Change::UnsuspendUser { user } => {
                let key = *user;
                let user = self.user_ix(key);
                self.alive_user(user, ov)?;
                let suspend = matches!(change, Change::SuspendUser { .. });
                if self.suspended(user, ov) == suspend {
                    let state = if suspend {
                        "already suspended"
                    } else {
                        "not suspended"
                    };
                    return noop(format!("user `{}` is {state}", self.user_id(key)));
                }
                ov.suspension.insert(user, suspend);
            }
            Change::RemoveUser { user } => {
                let user = self.user_ix(*user);
                self.alive_user(user, ov)?;
                ov.removed_users.insert(user);
            }
            Change::ReplacePolicyDocument { policy, document } => {
                let policy = self.policy_ix(*policy);
                self.alive_policy(policy, ov)?;
                if self.policy_nodes()[policy].system {
                    return Err(ChangeError::SystemPolicy {
                        policy: self.policy_nodes().id(policy).to_string(),
                    });
                }
                self.replace_document(policy, document, ov)?;
            }
            Change::DeleteRoleTrust { trust } => {
                let trust = self.trust_ix(*trust);
                self.created_yet(Made::Trust(trust), ov)?;
                if ov.deleted_trusts.contains(&trust)
                    || ov.deleted_roles.contains(&self.trust_nodes()[trust].role)
                {
                    return Err(ChangeError::Deleted {
                        kind: EntityKind::Trust,
                        id: self.trust_nodes()[trust].id.clone(),
                    });
                }
                ov.deleted_trusts.insert(trust);
            }
            Change::CreateUser { .. }
            | Change::CreateGroup { .. }
            | Change::CreateRole { .. }
            | Change::CreatePolicy { .. }
            | Change::CreateRoleTrust { .. } => self.apply_create(change, ov)?,
        }
        Ok(())
    }

    /// Compiles a replacement document into the overlay, adding the universe elements it names
    /// that the organization lacks.
    fn replace_document(
        &self,
        policy: PolicyIx,
        document: &PolicyDocument,
        ov: &mut Overlay,
    ) -> Result<(), ChangeError> {
        let id = self.policy_nodes().id(policy);
        let parsed = parse_document(document).map_err(|error| ChangeError::Document {
            policy: id.to_string(),
            statement: error.statement(),
            reason: error.to_string(),
        })?;
        for pattern in parsed.iter().flat_map(|statement| &statement.actions) {
            if self.universe_slice().binary_search(pattern).is_err()
                && !ov.extra_elements.contains(pattern)
            {
                ov.extra_elements.push(pattern.clone());
            }
        }
        let start = Idx::new(self.statement_nodes().len() + ov.statements.len());
        let mut cache = BTreeMap::new();
        for (si, statement) in parsed.iter().enumerate() {
            ov.statements.push(compile_statement(
                self.universe_slice(),
                &mut cache,
                si,
                statement,
            ));
        }
        ov.documents
            .insert(policy, IdxRange::new(start, parsed.len()));
        Ok(())
    }

    /// Both ends of an edge exist under the overlay (the attached thing is checked first).
    fn alive_ends(&self, edge: Edge, ov: &Overlay) -> Result<(), ChangeError> {
        match edge {
            Edge::Member { user, group } => {
                self.alive_user(user, ov)?;
                self.alive_group(group, ov)
            }
            Edge::UserPolicy { user, policy } => {
                self.alive_policy(policy, ov)?;
                self.alive_user(user, ov)
            }
            Edge::GroupPolicy { group, policy } => {
                self.alive_policy(policy, ov)?;
                self.alive_group(group, ov)
            }
            Edge::RolePolicy { role, policy } => {
                self.alive_policy(policy, ov)?;
                self.alive_role(role, ov)
            }
            Edge::UserRole { user, role } => {
                self.alive_role(role, ov)?;
                self.alive_user(user, ov)
            }
            Edge::GroupRole { group, role } => {
                self.alive_role(role, ov)?;
                self.alive_group(group, ov)
            }
        }
    }

    /// What a change that would do nothing finds: the edge already there, or already absent.
    fn edge_state(&self, edge: Edge, attach: bool) -> String {
        let user = |u: UserIx| format!("user `{}`", self.user_nodes().id(u));
        let group = |g: GroupIx| format!("group `{}`", self.group_nodes().id(g));
        let role = |r: RoleIx| format!("role `{}`", self.role_nodes().id(r));
        let policy = |p: PolicyIx| format!("policy `{}`", self.policy_nodes().id(p));
        let state = if attach {
            "already attached"
        } else {
            "not attached"
        };
        match edge {
            Edge::Member { user: u, group: g } if attach => {
                format!("{} is already a member of {}", user(u), group(g))
            }
            Edge::Member { user: u, group: g } => {
                format!("{} is not a member of {}", user(u), group(g))
            }
            Edge::UserPolicy { user: u, policy: p } => {
                format!("{} is {state} to {}", policy(p), user(u))
            }
            Edge::GroupPolicy {
                group: g,
                policy: p,
            } => format!("{} is {state} to {}", policy(p), group(g)),
            Edge::RolePolicy { role: r, policy: p } => {
                format!("{} is {state} to {}", policy(p), role(r))
            }
            Edge::UserRole { user: u, role: r } => format!("{} is {state} to {}", role(r), user(u)),
            Edge::GroupRole { group: g, role: r } => {
                format!("{} is {state} to {}", role(r), group(g))
            }
        }
    }

    pub(crate) fn alive_user(&self, user: UserIx, ov: &Overlay) -> Result<(), ChangeError> {
        self.created_yet(Made::User(user), ov)?;
        deleted_check(
            ov.removed_users.contains(&user),
            EntityKind::User,
            self.user_nodes().id(user),
        )
    }

    pub(crate) fn alive_group(&self, group: GroupIx, ov: &Overlay) -> Result<(), ChangeError> {
        self.created_yet(Made::Group(group), ov)?;
        deleted_check(
            ov.deleted_groups.contains(&group),
            EntityKind::Group,
            self.group_nodes().id(group),
        )
    }

    pub(crate) fn alive_role(&self, role: RoleIx, ov: &Overlay) -> Result<(), ChangeError> {
        self.created_yet(Made::Role(role), ov)?;
        deleted_check(
            ov.deleted_roles.contains(&role),
            EntityKind::Role,
            self.role_nodes().id(role),
        )
    }

    pub(crate) fn alive_policy(&self, policy: PolicyIx, ov: &Overlay) -> Result<(), ChangeError> {
        self.created_yet(Made::Policy(policy), ov)?;
        deleted_check(
            ov.deleted_policies.contains(&policy),
            EntityKind::Policy,
            self.policy_nodes().id(policy),
        )
    }

    /// Members of a group in the base organization (removed memberships included).
    fn members(&self, group: GroupIx, into: &mut BTreeSet<UserIx>) {
        into.extend(self.as_is().group_members(group));
    }

    /// Users holding a role in the base organization, directly or through a group.
    fn role_holders(&self, role: RoleIx, into: &mut BTreeSet<UserIx>) {
        into.extend(self.as_is().role_users(role));
        for &group in self.as_is().role_groups(role) {
            self.members(group, into);
        }
    }

    /// Users reaching a policy by any route in the base organization.
    fn policy_holders(&self, policy: PolicyIx, into: &mut BTreeSet<UserIx>) {
        into.extend(self.as_is().policy_users(policy));
        for &group in self.as_is().policy_groups(policy) {
            self.members(group, into);
        }
        for &role in self.as_is().policy_roles(policy) {
            self.role_holders(role, into);
        }
    }

    /// The users a change can reach, over the base organization's edges only.
    ///
    /// Edges added by the change set need no walk of their own: a user reaches an entity
    /// through added edges only if, on that route, the added edge nearest the user hangs from
    /// something the user holds by base edges alone, and the change that adds it reaches every
    /// base holder of that thing. The union over the set's changes is therefore complete.
    fn reach(&self, change: &Change, into: &mut BTreeSet<UserIx>) {
        let holder = |h: Holder, into: &mut BTreeSet<UserIx>| match h {
            Holder::User(u) => {
                into.insert(self.user_ix(u));
            }
            Holder::Group(g) => self.members(self.group_ix(g), into),
            Holder::Role(r) => self.role_holders(self.role_ix(r), into),
        };
        match change {
            Change::RemoveMember { user, .. }
            | Change::AddMember { user, .. }
            | Change::SuspendUser { user }
            | Change::UnsuspendUser { user }
            | Change::RemoveUser { user } => {
                into.insert(self.user_ix(*user));
            }
            Change::DetachPolicy { from: h, .. } | Change::AttachPolicy { to: h, .. } => {
                holder(*h, into)
            }
            Change::DetachRole { from: p, .. } | Change::AttachRole { to: p, .. } => match *p {
                Principal::User(u) => holder(Holder::User(u), into),
                Principal::Group(g) => holder(Holder::Group(g), into),
            },
            Change::DeleteGroup { group } => self.members(self.group_ix(*group), into),
            Change::DeleteRole { role } => {
                let role = self.role_ix(*role);
                self.role_holders(role, into);
                for (t, trust) in self.trust_nodes().iter() {
                    if trust.role == role {
                        self.trust_principals(t, into);
                    }
                }
            }
            Change::DeletePolicy { policy } | Change::ReplacePolicyDocument { policy, .. } => {
                self.policy_holders(self.policy_ix(*policy), into)
            }
            Change::DeleteRoleTrust { trust } | Change::CreateRoleTrust { trust } => {
                self.trust_principals(self.trust_ix(*trust), into)
            }
            Change::CreateUser { user } => {
                into.insert(self.user_ix(*user));
            }
            // Inert: nobody's access changes until a later change attaches them.
            Change::CreateGroup { .. }
            | Change::CreateRole { .. }
            | Change::CreatePolicy { .. } => {}
        }
    }

    fn trust_principals(&self, trust: TrustIx, into: &mut BTreeSet<UserIx>) {
        let trust = &self.trust_nodes()[trust];
        into.extend(trust.user);
        if let Some(group) = trust.group {
            self.members(group, into);
        }
    }

    pub(crate) fn summarize(&self, change: &Change) -> ChangeSummary {
        let mut s = ChangeSummary {
            kind: ChangeKind::RemoveMember,
            group: None,
            user: None,
            role: None,
            policy: None,
            trust: None,
        };
        let user_ref = |u: UserKey| {
            let summary = self.user_summary(self.user_ix(u));
            UserRef {
                id: summary.id,
                email: summary.email,
            }
        };
        let holder = |s: &mut ChangeSummary, h: Holder| match h {
            Holder::User(u) => s.user = Some(user_ref(u)),
            Holder::Group(g) => s.group = Some(self.group_ref(self.group_ix(g))),
            Holder::Role(r) => s.role = Some(self.role_ref(self.role_ix(r))),
        };
        let principal = |p: Principal| match p {
            Principal::User(u) => Holder::User(u),
            Principal::Group(g) => Holder::Group(g),
        };
        match change {
            Change::RemoveMember { group, user } | Change::AddMember { group, user } => {
                s.kind = if matches!(change, Change::RemoveMember { .. }) {
                    ChangeKind::RemoveMember
                } else {
                    ChangeKind::AddMember
                };
                s.group = Some(self.group_ref(self.group_ix(*group)));
                s.user = Some(user_ref(*user));
            }
            Change::DetachPolicy { policy, from: h } | Change::AttachPolicy { policy, to: h } => {
                s.kind = if matches!(change, Change::DetachPolicy { .. }) {
                    ChangeKind::DetachPolicy
                } else {
                    ChangeKind::AttachPolicy
                };
                s.policy = Some(self.policy_ref(self.policy_ix(*policy)));
                holder(&mut s, *h);
            }
            Change::DetachRole { role, from: p } | Change::AttachRole { role, to: p } => {
                s.kind = if matches!(change, Change::DetachRole { .. }) {
                    ChangeKind::DetachRole
                } else {
                    ChangeKind::AttachRole
                };
                s.role = Some(self.role_ref(self.role_ix(*role)));
                holder(&mut s, principal(*p));
            }
            Change::DeleteGroup { group } => {
                s.kind = ChangeKind::DeleteGroup;
                s.group = Some(self.group_ref(self.group_ix(*group)));
            }
            Change::DeleteRole { role } => {
                s.kind = ChangeKind::DeleteRole;
                s.role = Some(self.role_ref(self.role_ix(*role)));
            }
            Change::DeletePolicy { policy } => {
                s.kind = ChangeKind::DeletePolicy;
                s.policy = Some(self.policy_ref(self.policy_ix(*policy)));
            }
            Change::SuspendUser { user } => {
                s.kind = ChangeKind::SuspendUser;
                s.user = Some(user_ref(*user));
            }
            Change::UnsuspendUser { user } => {
                s.kind = ChangeKind::UnsuspendUser;
                s.user = Some(user_ref(*user));
            }
            Change::RemoveUser { user } => {
                s.kind = ChangeKind::RemoveUser;
                s.user = Some(user_ref(*user));
            }
            Change::ReplacePolicyDocument { policy, .. } => {
                s.kind = ChangeKind::ReplacePolicyDocument;
                s.policy = Some(self.policy_ref(self.policy_ix(*policy)));
            }
            Change::DeleteRoleTrust { trust } => {
                s.kind = ChangeKind::DeleteRoleTrust;
                let node = &self.trust_nodes()[self.trust_ix(*trust)];
                s.trust = Some(crate::report::EntityRef {
                    id: node.id.clone(),
                    name: node.id.clone(),
                });
                s.role = Some(self.role_ref(node.role));
            }
            Change::CreateUser { .. }
            | Change::CreateGroup { .. }
            | Change::CreateRole { .. }
            | Change::CreatePolicy { .. }
            | Change::CreateRoleTrust { .. } => self.summarize_create(change, &mut s),
        }
        s
    }

    fn user_impact<'o>(
        &'o self,
        user: UserIx,
        baseline: &'o Overlay,
        overlay: &'o Overlay,
        depth: Depth,
    ) -> Judged<'o> {
        let mut judged = Judged::new(user.raw());
        if self.root() == Some(user) {
            judged.note =
                Some("root user: unconditional access; no change affects them".to_string());
            return judged;
        }
        let (was, now) = (
            self.has_standing(user, baseline),
            self.has_standing(user, overlay),
        );
        judged.note = match (was, now) {
            (false, false) => {
                Some("suspended user: no access before or after; assignments are kept".to_string())
            }
            (true, false) if !self.user_exists(user, overlay) => {
                Some("removed from the organization: loses all access".to_string())
            }
            (true, false) => {
                Some("suspended by the change: loses all access; assignments are kept".to_string())
            }
            (false, true) => Some("unsuspended by the change: assignments count again".to_string()),
            (true, true) => None,
        };
        if !was && !now {
            return judged;
        }
        let routes_before = self.routes(user, baseline);
        let routes_after = self.routes(user, overlay);
        // When the user keeps standing access, only the elements that the changed routes'
        // statements cover can change: judge those, and count the rest as unchanged from the
        // pre-folded sets. (Losing or regaining standing access touches everything.)
        // INVARIANT: this holds under every precedence. Outside the mask the covering hits are
        // the same before and after, so is any judgement made of them; and "unchanged" counts
        // the pairs with at least one covering statement, which the folded sets tell without
        // deciding anything.
        let mask = (was && now)
            .then(|| self.touched(user, &routes_before, &routes_after, baseline, overlay));
        // Under deny-wins, the elements no resource-scoped statement covers are decided on `*`
        // alone, and word by word (`Sides`); only those reported, and the scoped ones, are
        // judged one by one below.
        let word_by_word = mask
            .as_ref()
            .filter(|_| self.precedence() == Precedence::DenyWins && overlay.documents.is_empty());
        if let Some(mask) = word_by_word {
            let (before, after) = ((&routes_before[..], baseline), (&routes_after[..], overlay));
            if self.judge_sides(user, before, after, mask, depth, &mut judged) {
                return judged;
            }
        } else {
            let before = self.grants_over(user, baseline, &routes_before, mask.as_ref());
            let after = self.grants_over(user, overlay, &routes_after, mask.as_ref());
            self.compare((&before, baseline), (&after, overlay), &mut judged, depth);
            let changed = judged.counts.lost > 0 || judged.counts.gained > 0;
            if matches!(depth, Depth::FirstChange | Depth::FullUnlessChanged) && changed {
                return judged;
            }
        }
        if let (Some(mask), Depth::Full | Depth::FullUnlessChanged | Depth::Counts) = (&mask, depth)
        {
            judged.unchanged_count += self.entries_outside(user, mask);
        }
        self.assumable_changes(user, baseline, overlay, &mut judged);
        judged
    }

    /// Judges a user's touched elements word by word ([`Sides`], under deny-wins with no
    /// replaced document): counts, and for a full report gathers each list's paths per key
    /// from the statements, with no pair judged one by one. Answers whether `depth` stops
    /// here (the user changes, and only that was asked).
    fn judge_sides<'o>(
        &'o self,
        user: UserIx,
        before: (&[Route], &'o Overlay),
        after: (&[Route], &'o Overlay),
        mask: &BitSet,
        depth: Depth,
        judged: &mut Judged<'o>,
    ) -> bool {
        if depth.keeps_paths() {
            let sides = self.sides(user, before, after, mask);
            for decision in &sides.keys {
                judged.counts.lost += decision.lost.count();
                judged.counts.gained += decision.gained.count();
                judged.counts.kept += decision.kept.count();
            }
            if depth == Depth::FullUnlessChanged && judged.changes_access() {
                return true;
            }
            self.entries_of_sides(&sides, before, after, judged);
            judged.unchanged_count += sides.unchanged();
        } else {
            let (lists, unchanged) = self.side_counts(user, before, after, mask, judged);
            let changed = judged.counts.lost > 0 || judged.counts.gained > 0;
            if depth == Depth::FirstChange && changed {
                return true;
            }
            judged.count_lists(lists);
            judged.unchanged_count += unchanged;
        }
        false
    }

    /// The assumable roles a user loses and gains, and the sessions that outlive a lost one.
    fn assumable_changes(
        &self,
        user: UserIx,
        baseline: &Overlay,
        overlay: &Overlay,
        judged: &mut Judged<'_>,
    ) {
        let trusts_before = self.trusts_of(user, baseline);
        let trusts_after = self.trusts_of(user, overlay);
        let only = |a: &BTreeMap<TrustIx, Vec<Option<GroupIx>>>,
                    b: &BTreeMap<TrustIx, Vec<Option<GroupIx>>>| {
            a.iter()
                .filter(|(t, _)| !b.contains_key(t))
                .map(|(t, v)| (*t, v.clone()))
                .collect()
        };
        judged.assumable_lost = self.assumables(user, &only(&trusts_before, &trusts_after));
        judged.assumable_gained = self.assumables(user, &only(&trusts_after, &trusts_before));
        if !judged.assumable_lost.is_empty() {
            // A session of a role the user may no longer assume goes on until it expires.
            let role_of = |t: &TrustIx| self.trust_nodes()[*t].role;
            let after: BTreeSet<RoleIx> = trusts_after.keys().map(role_of).collect();
            let before: BTreeSet<RoleIx> = trusts_before.keys().map(role_of).collect();
            judged.sessions_continue = self.sessions_of(user, |role| {
                before.contains(&role) && !after.contains(&role)
            });
        }
    }

    /// Compares two sets of grants key by key. Both sides are judged on the union of their
    /// resource keys, so a Deny on one resource that goes away is seen even when nothing
    /// after the change names that resource.
    fn compare<'o>(
        &'o self,
        before: (&Grants, &'o Overlay),
        after: (&Grants, &'o Overlay),
        judged: &mut Judged<'o>,
        depth: Depth,
    ) {
        let (before, b_ov) = before;
        let (after, a_ov) = after;
        let actions: BTreeSet<ElementIx> = before.actions().chain(after.actions()).collect();
        let mut keys = Vec::new();
        let (mut was, mut now) = (Judgement::default(), Judgement::default());
        // Only a full report keeps each pair's paths; the cheaper depths count.
        let keep = depth.keeps_paths();
        for action in actions {
            before.keys(self, b_ov, action, &mut keys);
            after.more_keys(self, a_ov, action, &mut keys);
            for &key in &keys {
                before.judge_into(self, b_ov, action, key, &mut was);
                after.judge_into(self, a_ov, action, key, &mut now);
                let (allowed_before, allowed_after) = (was.allowed(), now.allowed());
                if depth == Depth::FirstChange {
                    if allowed_before != allowed_after {
                        if allowed_before {
                            judged.counts.lost += 1;
                        } else {
                            judged.counts.gained += 1;
                        }
                        return;
                    }
                    continue;
                }
                match (allowed_before, allowed_after) {
                    (true, false) => {
                        judged.counts.lost += 1;
                        judged.push(self, Class::Lost, key, action, (&was.allow, b_ov), keep);
                    }
                    (true, true) if !self.same_paths((&was.allow, b_ov), (&now.allow, a_ov)) => {
                        judged.counts.kept += 1;
                        judged.push(self, Class::Kept, key, action, (&now.allow, a_ov), keep);
                    }
                    (false, true) => {
                        judged.counts.gained += 1;
                        judged.push(self, Class::Gained, key, action, (&now.allow, a_ov), keep);
                    }
                    // Unchanged: every covering statement the same, with the same effect, and
                    // counting or overridden as before (nothing is overridden under deny-wins).
                    _ if !was.is_implicit()
                        && self.same_paths((&was.allow, b_ov), (&now.allow, a_ov))
                        && self.same_paths((&was.deny, b_ov), (&now.deny, a_ov))
                        && self.same_paths((&was.far_allow, b_ov), (&now.far_allow, a_ov))
                        && self.same_paths((&was.far_deny, b_ov), (&now.far_deny, a_ov)) =>
                    {
                        judged.unchanged_count += 1
                    }
                    _ => {}
                }
            }
        }
    }
}

/// What carries a route to the user: the group it goes through, else the user's own role, else
/// the user's own policy; each has a pre-folded set.
#[derive(Debug, Clone, Copy)]
enum Carrier {
    Group(GroupIx),
    Role(RoleIx),
    Policy(PolicyIx),
}

impl Carrier {
    fn of(route: &Route) -> Carrier {
        match (route.group, route.role) {
            (Some(group), _) => Carrier::Group(group),
            (None, Some(role)) => Carrier::Role(role),
            (None, None) => Carrier::Policy(route.policy),
        }
    }
}

/// One resource key of a user's touched elements, decided word by word under deny-wins: the
/// elements lost, gained, kept (allowed on both sides through other paths) and unchanged on
/// that key.
struct KeyDecision<'o> {
    key: &'o ResourcePattern,
    lost: BitSet,
    gained: BitSet,
    kept: BitSet,
    unchanged: BitSet,
}

/// For each element of a mask, the side's Allow statements covering it, as ascending indexes
/// into `allows` ([`Org::entries_of_sides`]' index for short lists): bucketed by the element's
/// place in the mask, no sorting.
#[derive(Default)]
struct ElementIndex {
    mask: BitSet,
    /// Per word of `mask`, how many of its bits the words before it hold.
    ranks: Vec<usize>,
    /// Per element of `mask` (by its place in it), where its statements start in `items`; one
    /// more at the end.
    starts: Vec<usize>,
    items: Vec<usize>,
}

impl ElementIndex {
    fn new(allows: &[(UserPathIx, &StatementNode, u64)], mask: Option<BitSet>) -> ElementIndex {
        let Some(mask) = mask else {
            return ElementIndex::default();
        };
        let ranks = mask.word_ranks();
        let words = summary(&mask);
        // (place in the mask, statement), in statement order; then bucketed, a stable pass.
        let mut pairs: Vec<(usize, usize)> = Vec::new();
        for (i, &(_, node, node_words)) in allows.iter().enumerate() {
            if node_words & words == 0 {
                continue;
            }
            let place = |e: usize| mask.rank(&ranks, e);
            match &node.few {
                Some(few) => pairs.extend(
                    few.iter()
                        .filter(|&&e| mask.contains(e.index()))
                        .map(|&e| (place(e.index()), i)),
                ),
                None => pairs.extend(node.actions.iter_and(&mask).map(|e| (place(e), i))),
            }
        }
        let mut starts = vec![0usize; mask.count() + 1];
        for &(place, _) in &pairs {
            starts[place + 1] += 1;
        }
        for place in 1..starts.len() {
            starts[place] += starts[place - 1];
        }
        let mut next = starts.clone();
        let mut items = vec![0usize; pairs.len()];
        for (place, i) in pairs {
            items[next[place]] = i;
            next[place] += 1;
        }
        ElementIndex {
            mask,
            ranks,
            starts,
            items,
        }
    }

    /// The statements covering `element`, ascending.
    fn of(&self, element: ElementIx) -> &[usize] {
        if !self.mask.contains(element.index()) {
            return &[];
        }
        let place = self.mask.rank(&self.ranks, element.index());
        &self.items[self.starts[place]..self.starts[place + 1]]
    }
}

/// A user's `*` sets ([allow, deny] per side, changed [allow, deny]) and the scoped
/// statements (side, or `None` for both; statement; on a changed route) kept for the other
/// keys: what [`Org::sides`] decides every key from.
struct Gathered<'o> {
    allow: [Vec<u64>; 2],
    deny: [Vec<u64>; 2],
    changed: [Vec<u64>; 2],
    scoped: Vec<(Option<usize>, &'o StatementNode, bool)>,
}

impl<'o> Gathered<'o> {
    /// Decides `*` and then each non-`*` key a scoped statement names, in key order, handing
    /// each key's decision to `each` (in `decided`, reused from key to key).
    fn decide_keys(
        &self,
        mask: &BitSet,
        decided: &mut Decided,
        each: &mut dyn FnMut(&'o ResourcePattern, &Decided),
    ) {
        decided.clear();
        decided.ask_all(mask.words());
        decided.decide(self, &[], mask.words());
        each(&ANY_RESOURCE, decided);
        self.scoped_keys(mask, decided, each);
    }

    /// The decision on each non-`*` key a scoped statement names, in key order.
    fn scoped_keys(
        &self,
        mask: &BitSet,
        decided: &mut Decided,
        each: &mut dyn FnMut(&'o ResourcePattern, &Decided),
    ) {
        let scoped = &self.scoped;
        // Per non-`*` resource a scoped statement names, the statement: sorted, so that each
        // key's naming statements are one run. A statement covers a key when it names it, or
        // through a `type:*` resource of its own: only those are matched one by one.
        let mut naming: Vec<(&'o ResourcePattern, usize)> = scoped
            .iter()
            .enumerate()
            .flat_map(|(i, (_, statement, _))| {
                statement
                    .resources
                    .iter()
                    .filter(|r| !r.is_any())
                    .map(move |r| (r, i))
            })
            .collect();
        naming.sort_unstable();
        naming.dedup();
        let typed: Vec<usize> = (0..scoped.len())
            .filter(|&i| {
                let statement = scoped[i].1;
                !statement.any_resource
                    && statement
                        .resources
                        .iter()
                        .any(|r| r.as_str().ends_with(":*"))
            })
            .collect();
        let mut covering: Vec<usize> = Vec::new();
        let mut start = 0;
        while start < naming.len() {
            let key = naming[start].0;
            let end = start
                + naming[start..]
                    .iter()
                    .take_while(|(r, _)| *r == key)
                    .count();
            // Asked where a statement naming the key covers the element; decided by the
            // statements covering the key: those with `*`, and the scoped ones that match.
            decided.clear();
            covering.clear();
            for &(_, i) in &naming[start..end] {
                decided.ask(scoped[i].1, mask.words());
                if !scoped[i].1.any_resource {
                    covering.push(i);
                }
            }
            covering.extend(
                typed
                    .iter()
                    .copied()
                    .filter(|&i| scoped[i].1.covers_resource(key)),
            );
            covering.sort_unstable();
            covering.dedup();
            decided.decide(self, &covering, mask.words());
            each(key, decided);
            start = end;
        }
    }
}

/// The bits set in a word.
fn ones(word: u64) -> usize {
    // At most 64: the conversion cannot fail.
    usize::try_from(word.count_ones()).unwrap_or(64)
}

/// `into |= bits & mask`, word by word.
fn or_masked(into: &mut [u64], bits: &[u64], mask: &[u64]) {
    for ((word, bit), m) in into.iter_mut().zip(bits).zip(mask) {
        *word |= bit & m;
    }
}

/// One key's decision under deny-wins, word by word over the elements asked on it: the
/// elements lost, gained, kept (allowed on both sides through other paths) and unchanged.
/// Scratch reused from key to key, so that deciding a key allocates nothing; only the words
/// where `asked` holds a bit are computed (every list is within `asked`).
struct Decided {
    asked: Vec<u64>,
    lost: Vec<u64>,
    gained: Vec<u64>,
    kept: Vec<u64>,
    unchanged: Vec<u64>,
    /// Per word asked, the key's sets: allow before and after, deny before and after,
    /// changed allow and deny (`2 * effect + side`, then `4 + effect`).
    sets: Vec<[u64; 6]>,
    /// The words where `asked` holds a bit: the only ones the lists hold bits in.
    words: Vec<usize>,
}

impl Decided {
    fn new(words: usize) -> Decided {
        let zero = || vec![0u64; words];
        Decided {
            asked: zero(),
            lost: zero(),
            gained: zero(),
            kept: zero(),
            unchanged: zero(),
            sets: vec![[0; 6]; words],
            words: Vec::new(),
        }
    }

    /// Empties every list (the words the last key wrote).
    fn clear(&mut self) {
        for &w in &self.words {
            self.asked[w] = 0;
            self.lost[w] = 0;
            self.gained[w] = 0;
            self.kept[w] = 0;
            self.unchanged[w] = 0;
        }
        self.words.clear();
    }

    /// Asks every element of `mask` (the `*` key).
    fn ask_all(&mut self, mask: &[u64]) {
        self.asked.copy_from_slice(mask);
        self.words.extend((0..mask.len()).filter(|&w| mask[w] != 0));
    }

    /// Asks the elements of `mask` that `statement` covers: its few elements one by one, or
    /// its words.
    fn ask(&mut self, statement: &StatementNode, mask: &[u64]) {
        let (asked, words) = (&mut self.asked, &mut self.words);
        let mut add = |w: usize, bits: u64| {
            if bits != 0 {
                if asked[w] == 0 {
                    words.push(w);
                }
                asked[w] |= bits;
            }
        };
        match &statement.few {
            Some(few) => {
                for e in few.iter().map(|e| e.index()) {
                    if let Some(&m) = mask.get(e / 64) {
                        add(e / 64, m & 1 << (e % 64));
                    }
                }
            }
            None => {
                let bits = statement.actions.words().iter().zip(mask);
                for (w, (&b, &m)) in bits.enumerate() {
                    add(w, b & m);
                }
            }
        }
    }

    /// Decides the words asked, from the `*` sets of `gathered` and its `covering` scoped
    /// statements (indexes into its `scoped`), within `mask`.
    fn decide(&mut self, gathered: &Gathered<'_>, covering: &[usize], mask: &[u64]) {
        let (allow, deny, changed) = (&gathered.allow, &gathered.deny, &gathered.changed);
        for &w in &self.words {
            self.sets[w] = [
                allow[0][w],
                allow[1][w],
                deny[0][w],
                deny[1][w],
                changed[0][w],
                changed[1][w],
            ];
        }
        for &i in covering {
            let (sides, statement, on_changed) = gathered.scoped[i];
            let effect = usize::from(statement.effect == Effect::Deny);
            let (sets, asked) = (&mut self.sets, &self.asked);
            // Bits outside the words asked would be dropped: only the words asked are added.
            let mut add = |w: usize, bits: u64| {
                let set = &mut sets[w];
                match sides {
                    Some(side) => set[2 * effect + side] |= bits,
                    None => {
                        set[2 * effect] |= bits;
                        set[2 * effect + 1] |= bits;
                    }
                }
                if on_changed {
                    set[4 + effect] |= bits;
                }
            };
            match &statement.few {
                Some(few) => {
                    for e in few.iter().map(|e| e.index()) {
                        let w = e / 64;
                        if asked.get(w).is_some_and(|&a| a != 0) {
                            add(w, mask[w] & 1 << (e % 64));
                        }
                    }
                }
                None => {
                    let bits = statement.actions.words();
                    for &w in &self.words {
                        add(w, bits.get(w).map_or(0, |b| b & mask[w]));
                    }
                }
            }
        }
        for &w in &self.words {
            let [allow_before, allow_after, deny_before, deny_after, changed_allow, changed_deny] =
                self.sets[w];
            let asked = self.asked[w];
            let was = allow_before & !deny_before;
            let now = allow_after & !deny_after;
            let covered = allow_before | deny_before;
            let lost = was & !now & asked;
            let gained = now & !was & asked;
            let kept = was & now & changed_allow & asked;
            self.lost[w] = lost;
            self.gained[w] = gained;
            self.kept[w] = kept;
            self.unchanged[w] =
                covered & asked & !lost & !gained & !kept & !changed_allow & !changed_deny;
        }
    }

    /// The decision as a [`KeyDecision`] on `key` (for a full report's entries).
    fn decision<'o>(&self, key: &'o ResourcePattern) -> KeyDecision<'o> {
        KeyDecision {
            key,
            lost: BitSet::from_words(self.lost.clone()),
            gained: BitSet::from_words(self.gained.clone()),
            kept: BitSet::from_words(self.kept.clone()),
            unchanged: BitSet::from_words(self.unchanged.clone()),
        }
    }
}

/// Every resource key a user's touched elements are asked on, decided word by word; `*`
/// first, then the others sorted.
struct Sides<'o> {
    keys: Vec<KeyDecision<'o>>,
}

impl Sides<'_> {
    /// The unchanged pairs, over every key.
    fn unchanged(&self) -> usize {
        self.keys.iter().map(|d| d.unchanged.count()).sum()
    }
}

/// Elements in a list few enough to take its paths from an index by element.
const FEW: usize = 16;

/// Which words of a bitset hold a bit, one bit per word (every bit set past 64 words): two sets
/// with no word in common share no element.
fn summary(set: &BitSet) -> u64 {
    set.word_summary()
}

impl Org {
    /// A full report's entries from [`Sides`]: per key and list, the elements and every Allow
    /// path of that side whose statement covers the key and one of the elements.
    ///
    /// INVARIANT: exact as an entry's paths must be (`GroupedEntry`): under deny-wins every
    /// Allow covering a pair counts, so a pair's own paths are the Allow statements of its side
    /// that cover it and the key; with no replaced document a statement covers the same
    /// elements on both sides, so those are the entry's paths that cover the element.
    fn entries_of_sides<'o>(
        &'o self,
        sides: &Sides<'o>,
        before: (&[Route], &'o Overlay),
        after: (&[Route], &'o Overlay),
        judged: &mut Judged<'o>,
    ) {
        // The elements of each side's lists: a statement that covers none is on no entry. A
        // list of a few elements (most keys other than `*`) takes its paths from an index of
        // the side's Allow statements by element, built once for the elements of every such
        // list; a longer one scans the statements.
        let union = |lists: &[for<'d> fn(&'d KeyDecision<'o>) -> &'d BitSet], most: usize| {
            let mut mask: Option<BitSet> = None;
            for decision in &sides.keys {
                for list in lists {
                    let elements = list(decision);
                    let count = elements.count();
                    if count > 0 && count <= most {
                        mask.get_or_insert_with(|| BitSet::new(elements.words().len() * 64))
                            .union_with(elements);
                    }
                }
            }
            mask
        };
        let before_lists: &[for<'d> fn(&'d KeyDecision<'o>) -> &'d BitSet] = &[|d| &d.lost];
        let after_lists: &[for<'d> fn(&'d KeyDecision<'o>) -> &'d BitSet] =
            &[|d| &d.kept, |d| &d.gained];
        let before = self.side_allows(before, union(before_lists, usize::MAX), judged);
        let after = self.side_allows(after, union(after_lists, usize::MAX), judged);
        let before_index = ElementIndex::new(&before, union(before_lists, FEW));
        let after_index = ElementIndex::new(&after, union(after_lists, FEW));
        let mut found: Vec<usize> = Vec::new();
        for decision in &sides.keys {
            let lists = [
                (Class::Lost, &decision.lost, &before, &before_index),
                (Class::Kept, &decision.kept, &after, &after_index),
                (Class::Gained, &decision.gained, &after, &after_index),
            ];
            for (class, elements, allows, index) in lists {
                let count = elements.count();
                if count == 0 {
                    continue;
                }
                let via: Vec<UserPathIx> = if count <= FEW {
                    found.clear();
                    for e in elements.iter() {
                        found.extend_from_slice(index.of(ElementIx::new(e)));
                    }
                    found.sort_unstable();
                    found.dedup();
                    found
                        .iter()
                        .map(|&i| &allows[i])
                        .filter(|&&(_, node, _)| node.covers_resource(decision.key))
                        .map(|&(path, _, _)| path)
                        .collect()
                } else {
                    // Words in common first (most statements name a few actions), then the
                    // common words.
                    let words = summary(elements);
                    allows
                        .iter()
                        .filter(|&&(_, node, node_words)| {
                            node_words & words != 0
                                && node.actions.intersects(elements)
                                && node.covers_resource(decision.key)
                        })
                        .map(|&(path, _, _)| path)
                        .collect()
                };
                judged.group(class, decision.key, elements, via);
            }
        }
    }

    /// A side's Allow statements that cover some element of `mask` (the elements of its
    /// lists), once, in path order (a route reaches a statement once, so each path once), each
    /// with its word summary: an entry's paths, filtered from them, are then in path order too,
    /// and are numbered in the user's table of paths.
    fn side_allows<'o>(
        &'o self,
        (routes, ov): (&[Route], &'o Overlay),
        mask: Option<BitSet>,
        judged: &mut Judged<'o>,
    ) -> Vec<(UserPathIx, &'o StatementNode, u64)> {
        let Some(mask) = mask else {
            return Vec::new();
        };
        let words = summary(&mask);
        let mut allows = Vec::new();
        for &route in routes {
            for statement in self.policy_statements(route.policy, ov) {
                let node_words = self.allow_words(statement, ov);
                if node_words & words == 0 {
                    continue;
                }
                let node = self.statement(statement, ov);
                if node.actions.intersects(&mask) {
                    let key = PathKey::new(route, node.index);
                    allows.push((self.path_order(key), key, node, node_words));
                }
            }
        }
        allows.sort_unstable_by_key(|&(order, ..)| order);
        allows.dedup_by_key(|&mut (order, ..)| order);
        allows
            .into_iter()
            .map(|(_, key, node, words)| (judged.add_path(key), node, words))
            .collect()
    }

    /// An Allow statement's word summary ([`BitSet::word_summary`]), 0 for a Deny: cached for
    /// the organization's own statements.
    fn allow_words(&self, id: StatementIx, ov: &Overlay) -> u64 {
        match self.report_cache().allow_words.get(id) {
            Some(&words) => words,
            None => {
                let node = self.statement(id, ov);
                match node.effect {
                    Effect::Allow => summary(&node.actions),
                    Effect::Deny => 0,
                }
            }
        }
    }

    /// [`Sides`] of a user with standing access before and after, over `mask`. Only without
    /// replaced documents (a statement is then the same on both sides) and under deny-wins.
    ///
    /// INVARIANT: the keys asked for an element are `*` and the non-`*` resources of the
    /// statements covering it (as `Grants::keys` finds them); on a key, the statements that
    /// count are those whose resources cover it; an element is allowed when such an Allow
    /// covers it and no such Deny does, and its Allow (or Deny) paths differ between the sides
    /// exactly when such a statement of a route present on one side only (`route_changed`)
    /// covers it.
    fn sides<'o>(
        &'o self,
        user: UserIx,
        before: (&[Route], &'o Overlay),
        after: (&[Route], &'o Overlay),
        mask: &BitSet,
    ) -> Sides<'o> {
        let gathered = self.gather_sides(user, before, after, mask);
        let mut decided = Decided::new(mask.words().len());
        let mut keys = Vec::new();
        gathered.decide_keys(mask, &mut decided, &mut |key, decided| {
            keys.push(decided.decision(key));
        });
        Sides { keys }
    }

    /// [`Org::sides`] counted, not kept (the cheaper depths): adds the pairs lost, kept and
    /// gained over every key to `judged`'s counts, and answers the elements of each list
    /// over every key (`[lost, kept, gained]`) and the unchanged pairs.
    fn side_counts<'o>(
        &'o self,
        user: UserIx,
        before: (&[Route], &'o Overlay),
        after: (&[Route], &'o Overlay),
        mask: &BitSet,
        judged: &mut Judged<'o>,
    ) -> ([BitSet; 3], usize) {
        let gathered = self.gather_sides(user, before, after, mask);
        let words = mask.words().len();
        let mut decided = Decided::new(words);
        let mut lists = [vec![0u64; words], vec![0u64; words], vec![0u64; words]];
        let mut unchanged = 0;
        let counts = &mut judged.counts;
        gathered.decide_keys(mask, &mut decided, &mut |_, decided| {
            for &w in &decided.words {
                let (lost, kept, gained) = (decided.lost[w], decided.kept[w], decided.gained[w]);
                counts.lost += ones(lost);
                counts.kept += ones(kept);
                counts.gained += ones(gained);
                unchanged += ones(decided.unchanged[w]);
                lists[0][w] |= lost;
                lists[1][w] |= kept;
                lists[2][w] |= gained;
            }
        });
        (lists.map(BitSet::from_words), unchanged)
    }

    /// The `*` sets of a user's routes on both sides and the scoped statements the other
    /// keys need: [`Org::sides`]'s first step.
    fn gather_sides<'o>(
        &'o self,
        user: UserIx,
        (before, baseline): (&[Route], &'o Overlay),
        (after, overlay): (&[Route], &'o Overlay),
        mask: &BitSet,
    ) -> Gathered<'o> {
        let words = mask.words().len();
        let zero = || vec![0u64; words];
        let or = |into: &mut Vec<u64>, bits: &[u64]| or_masked(into, bits, mask.words());
        // On `*`: [allow, deny] per side, and changed [allow, deny]. The scoped statements
        // (side, or `None` for both, statement, on a changed route) are kept for the other keys.
        let (mut allow, mut deny) = ([zero(), zero()], [zero(), zero()]);
        let mut changed = [zero(), zero()];
        // A route the change leaves alone is on both sides with the same statements (no
        // document is replaced here): it is walked once, from the side before, for both.
        let mut common = [zero(), zero()];
        let mut scoped: Vec<(Option<usize>, &'o StatementNode, bool)> = Vec::new();
        // Better still, a carrier (a policy or role of the user's own, or a group) whose routes
        // all stay is read from its pre-folded set, not walked statement by statement.
        let computed;
        let carriers = match overlay.carriers.as_deref() {
            Some(carriers) => carriers,
            None => {
                computed = Carriers::of(self, overlay);
                &computed
            }
        };
        let edge_changed =
            |edge: Edge| overlay.removed.contains(&edge) || overlay.added.contains(&edge);
        let untouched = |carrier: Carrier| match carrier {
            Carrier::Group(group) => {
                !carriers.groups[group.index()] && !edge_changed(Edge::Member { user, group })
            }
            Carrier::Role(role) => {
                !carriers.roles[role.index()] && !edge_changed(Edge::UserRole { user, role })
            }
            Carrier::Policy(policy) => {
                !carriers.policies[policy.index()]
                    && !edge_changed(Edge::UserPolicy { user, policy })
            }
        };
        let compiled = self.as_is();
        let (policies, roles, groups) = (
            compiled.user_policies(user),
            compiled.user_roles_raw(user),
            compiled.user_groups(user),
        );
        let own = policies
            .iter()
            .map(|&p| (Carrier::Policy(p), p.index()))
            .chain(
                roles
                    .iter()
                    .filter(|&&r| self.role_nodes()[r].assignable)
                    .map(|&r| (Carrier::Role(r), self.role_set(r))),
            )
            .chain(
                groups
                    .iter()
                    .map(|&g| (Carrier::Group(g), self.group_set(g))),
            );
        for (carrier, set) in own {
            if !untouched(carrier) {
                continue;
            }
            let (set_allow, set_deny) = self.folded_set(set);
            or(&mut common[0], set_allow);
            or(&mut common[1], set_deny);
            scoped.extend(
                self.folded_scoped(set)
                    .iter()
                    .map(|&s| (None, &self.statement_nodes()[s], false)),
            );
        }
        for (side, routes, ov) in [(0, before, baseline), (1, after, overlay)] {
            for route in routes {
                if side == 0 && untouched(Carrier::of(route)) {
                    continue;
                }
                let on_changed = self.route_changed(user, route, overlay);
                if side == 1 && !on_changed {
                    continue;
                }
                let sides = on_changed.then_some(side);
                for s in self.policy_statements(route.policy, ov) {
                    let statement = self.statement(s, ov);
                    if statement.scoped {
                        scoped.push((sides, statement, on_changed));
                    }
                    if statement.any_resource {
                        let effect = usize::from(statement.effect == Effect::Deny);
                        let into = match (on_changed, effect) {
                            (false, _) => &mut common[effect],
                            (true, 0) => &mut allow[side],
                            (true, _) => &mut deny[side],
                        };
                        or(into, statement.actions.words());
                        if on_changed {
                            or(&mut changed[effect], statement.actions.words());
                        }
                    }
                }
            }
        }
        for side in 0..2 {
            or(&mut allow[side], &common[0]);
            or(&mut deny[side], &common[1]);
        }
        Gathered {
            allow,
            deny,
            changed,
            scoped,
        }
    }
}

impl Org {
    /// The universe elements a change can affect for a user: those covered by the statements
    /// of routes that appear or disappear, or whose policy's document is replaced; plus every
    /// extra element a replacement names.
    fn touched(
        &self,
        user: UserIx,
        before: &[Route],
        after: &[Route],
        baseline: &Overlay,
        overlay: &Overlay,
    ) -> BitSet {
        let base = self.universe_slice().len();
        let mut mask = BitSet::new(base + overlay.extra_elements.len());
        for i in 0..overlay.extra_elements.len() {
            mask.insert(base + i);
        }
        // A route appears or disappears exactly when one of its edges or entities is changed:
        // test each against the overlay instead of comparing the two lists.
        for (routes, ov) in [(before, baseline), (after, overlay)] {
            for route in routes
                .iter()
                .filter(|r| self.route_changed(user, r, overlay))
            {
                for s in self.policy_statements(route.policy, ov) {
                    mask.union_with(&self.statement(s, ov).actions);
                }
            }
        }
        mask
    }

    /// Whether the overlay changes anything along `route` (an edge, an entity, the document).
    fn route_changed(&self, user: UserIx, route: &Route, ov: &Overlay) -> bool {
        let edge_changed = |edge: Edge| ov.removed.contains(&edge) || ov.added.contains(&edge);
        let policy = route.policy;
        if ov.documents.contains_key(&policy) || ov.deleted_policies.contains(&policy) {
            return true;
        }
        if let Some(role) = route.role {
            if ov.deleted_roles.contains(&role) || edge_changed(Edge::RolePolicy { role, policy }) {
                return true;
            }
        }
        match (route.group, route.role) {
            (Some(group), role) => {
                ov.deleted_groups.contains(&group)
                    || edge_changed(Edge::Member { user, group })
                    || match role {
                        Some(role) => edge_changed(Edge::GroupRole { group, role }),
                        None => edge_changed(Edge::GroupPolicy { group, policy }),
                    }
            }
            (None, Some(role)) => edge_changed(Edge::UserRole { user, role }),
            (None, None) => edge_changed(Edge::UserPolicy { user, policy }),
        }
    }

    /// How many (element, resource key) pairs outside `mask` have a decision (allowed or
    /// denied) for the user as the organization is: the entries a change leaves untouched.
    /// Read off the pre-folded sets (dense side) and their scoped statements (sparse side).
    /// A pair has a decision exactly when some statement covers it, whatever the precedence:
    /// only the union of Allow and Deny is read here, never which wins.
    fn entries_outside(&self, user: UserIx, mask: &BitSet) -> usize {
        let words = self.set_words();
        let mut star = vec![0u64; words];
        let mut scoped: Vec<StatementIx> = Vec::new();
        self.each_folded(user, |set| {
            let (allow, deny) = self.folded_set(set);
            for ((s, a), d) in star.iter_mut().zip(allow).zip(deny) {
                *s |= a | d;
            }
            scoped.extend_from_slice(self.folded_scoped(set));
        });
        let outside = |bits: &[u64]| -> usize {
            bits.iter()
                .zip(mask.words())
                .map(|(b, m)| ones(b & !m))
                .sum()
        };
        let mut count = outside(&star);
        if !scoped.is_empty() {
            // Per non-`*` resource a scoped statement names, the statement: sorted, so that each
            // key's statements are one run, whose union is counted in one reused buffer.
            let mut keyed: Vec<(&ResourcePattern, StatementIx)> = scoped
                .iter()
                .flat_map(|&s| {
                    self.statement_nodes()[s]
                        .resources
                        .iter()
                        .filter(|r| !r.is_any())
                        .map(move |r| (r, s))
                })
                .collect();
            keyed.sort_unstable();
            keyed.dedup();
            let mut bits = vec![0u64; words];
            for run in keyed.chunk_by(|a, b| a.0 == b.0) {
                bits.fill(0);
                for &(_, s) in run {
                    for (b, a) in bits
                        .iter_mut()
                        .zip(self.statement_nodes()[s].actions.words())
                    {
                        *b |= a;
                    }
                }
                count += outside(&bits);
            }
        }
        count
    }

    /// Whether two lists of hits give the same paths. A replaced document's statements have new
    /// ids, so hits are compared by route and statement index, as their paths are: a statement
    /// that a replacement keeps at its index is the same path before and after.
    fn same_paths(&self, before: (&[Hit], &Overlay), after: (&[Hit], &Overlay)) -> bool {
        if before.0 == after.0 {
            return true;
        }
        if before.0.len() != after.0.len() {
            return false;
        }
        // A few hits each: compare as sets of (route, statement index), without allocating.
        let key = |hit: &Hit, ov: &Overlay| (hit.route, self.statement(hit.statement, ov).index);
        let (b_ov, a_ov) = (before.1, after.1);
        before.0.iter().all(|b| {
            let b = key(b, b_ov);
            after.0.iter().any(|a| key(a, a_ov) == b)
        })
    }
}

/// The edge a membership or attachment change adds (`true`) or takes away (`false`), in `org`
/// (whose keys the change must hold).
fn edge_of(org: &Org, change: &Change) -> Option<(Edge, bool)> {
    Some(match *change {
        Change::RemoveMember { group, user } | Change::AddMember { group, user } => (
            Edge::Member {
                user: org.user_ix(user),
                group: org.group_ix(group),
            },
            matches!(change, Change::AddMember { .. }),
        ),
        Change::DetachPolicy {
            policy,
            from: holder,
        }
        | Change::AttachPolicy { policy, to: holder } => {
            let policy = org.policy_ix(policy);
            let edge = match holder {
                Holder::User(u) => Edge::UserPolicy {
                    user: org.user_ix(u),
                    policy,
                },
                Holder::Group(g) => Edge::GroupPolicy {
                    group: org.group_ix(g),
                    policy,
                },
                Holder::Role(r) => Edge::RolePolicy {
                    role: org.role_ix(r),
                    policy,
                },
            };
            (edge, matches!(change, Change::AttachPolicy { .. }))
        }
        Change::DetachRole {
            role,
            from: principal,
        }
        | Change::AttachRole {
            role,
            to: principal,
        } => {
            let role = org.role_ix(role);
            let edge = match principal {
                Principal::User(u) => Edge::UserRole {
                    user: org.user_ix(u),
                    role,
                },
                Principal::Group(g) => Edge::GroupRole {
                    group: org.group_ix(g),
                    role,
                },
            };
            (edge, matches!(change, Change::AttachRole { .. }))
        }
        _ => return None,
    })
}

fn toggle(ov: &mut Overlay, edge: Edge, attach: bool) {
    // Undo an opposite change in the same set rather than stacking both.
    if attach {
        if !ov.removed.remove(&edge) {
            ov.added.insert(edge);
        }
    } else if !ov.added.remove(&edge) {
        ov.removed.insert(edge);
    }
}

fn deleted_check(deleted: bool, kind: EntityKind, id: &str) -> Result<(), ChangeError> {
    if deleted {
        Err(ChangeError::Deleted {
            kind,
            id: id.to_string(),
        })
    } else {
        Ok(())
    }
}

fn named_user(change: &Change) -> Option<UserKey> {
    match change {
        Change::RemoveMember { user, .. }
        | Change::AddMember { user, .. }
        | Change::SuspendUser { user }
        | Change::UnsuspendUser { user }
        | Change::RemoveUser { user }
        | Change::CreateUser { user } => Some(*user),
        Change::DetachPolicy {
            from: Holder::User(user),
            ..
        }
        | Change::AttachPolicy {
            to: Holder::User(user),
            ..
        }
        | Change::DetachRole {
            from: Principal::User(user),
            ..
        }
        | Change::AttachRole {
            to: Principal::User(user),
            ..
        } => Some(*user),
        _ => None,
    }
}
