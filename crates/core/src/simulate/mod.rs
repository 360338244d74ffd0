//! What-if: changes applied as an [`Overlay`] and compared with the organization as it is.
//!
//! Only the users a change can reach are evaluated: the user it names, the members of the group
//! it names, the holders of the role or policy it names. Each is judged before and after on
//! the same universe elements and resource keys.

use std::collections::BTreeSet;

use rayon::iter::ParallelIterator;
use rayon::slice::ParallelSlice;

use crate::error::{ChangeError, ChangeSetError};
use crate::eval::Overlay;
use crate::idx::Idx;
use crate::impact::{Interner, Judged};
use crate::model::PolicyDocument;
use crate::org::{GroupKey, Org, PolicyKey, RoleKey, TrustKey, UserKey};
use crate::overlay::{Carriers, Edge};
use crate::report::{ChangeSummary, Impact};

pub(crate) use harmless::Covering;
pub use stream::ImpactStream;

mod apply;
mod covering;
mod entries;
mod harmless;
mod judge;
mod reach;
mod sides;
mod spares;
mod stream;

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
    ///
    /// At the depths that judge every user (no early stop), the next batch is judged on the
    /// pool while `each` takes the last one on the calling thread, so that converting and
    /// writing users overlaps judging: two batches at most are held at once, and `each` sees
    /// the same users in the same order.
    fn judge_batches<'o>(
        &'o self,
        users: &[u32],
        (baseline, overlay): (&'o Overlay, &'o Overlay),
        depth: Depth,
        named: &(dyn Fn(u32) -> bool + Sync),
        each: &mut dyn FnMut(Option<Judged<'o>>, usize) -> bool,
    ) {
        let judge_slice = |users: &[u32]| -> Vec<Judged<'o>> {
            users
                .iter()
                .map(|&u| self.user_impact(Idx::from_raw(u), baseline, overlay, depth))
                .filter(|judged| named(judged.user) || !judged.is_empty())
                .collect()
        };
        let judge = |batch: &[u32]| -> Vec<Judged<'o>> {
            if batch.len() >= 2 * USERS_PER_JOB {
                // Each job judges a contiguous slice; the slices are collected in order, so the
                // answer does not depend on the pool's size.
                let parts: Vec<Vec<Judged>> =
                    batch.par_chunks(USERS_PER_JOB).map(judge_slice).collect();
                parts.into_iter().flatten().collect()
            } else {
                judge_slice(batch)
            }
        };
        // Hands a judged batch to `each`; answers whether to go on.
        let mut done = 0;
        let mut hand = |judged: Vec<Judged<'o>>, size: usize| {
            let mut go_on = true;
            for user in judged {
                go_on &= each(Some(user), done);
            }
            done += size;
            go_on & each(None, done)
        };
        let pipelined = matches!(depth, Depth::Full | Depth::Counts | Depth::Tally);
        let mut batches = users.chunks(BATCH);
        if !pipelined {
            for batch in batches {
                if !hand(judge(batch), batch.len()) {
                    return;
                }
            }
            return;
        }
        let Some(first) = batches.next() else {
            return;
        };
        let mut last = (judge(first), first.len());
        for batch in batches {
            let mut next = None;
            let go_on = rayon::in_place_scope(|scope| {
                scope.spawn(|_| next = Some(judge(batch)));
                hand(std::mem::take(&mut last.0), last.1)
            });
            if !go_on {
                return;
            }
            last = (next.expect("the scope judged the batch"), batch.len());
        }
        hand(last.0, last.1);
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
        overlay.carriers = Some(self.carriers(&overlay));
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
}

impl Org {
    /// The carriers an overlay touches ([`Carriers::of`]). An overlay that deletes no policy,
    /// role or group, replaces no document and changes no group's or role's edges marks none:
    /// it shares the organization's unmarked carriers instead of walking every policy and role.
    fn carriers(&self, overlay: &Overlay) -> std::sync::Arc<Carriers> {
        let user_edge = |edge: &Edge| {
            matches!(
                edge,
                Edge::Member { .. } | Edge::UserPolicy { .. } | Edge::UserRole { .. }
            )
        };
        let none = &self.report_cache().no_carriers;
        // INVARIANT: these are exactly the overlay's parts that `Carriers::of` marks from, and
        // the unmarked carriers were sized for this organization's policies, roles and groups.
        let marks_none = overlay.deleted_policies.is_empty()
            && overlay.documents.is_empty()
            && overlay.deleted_roles.is_empty()
            && overlay.deleted_groups.is_empty()
            && overlay.removed.iter().chain(&overlay.added).all(user_edge)
            && none.policies.len() == self.policy_nodes().len()
            && none.roles.len() == self.role_nodes().len()
            && none.groups.len() == self.group_nodes().len();
        if marks_none {
            none.clone()
        } else {
            std::sync::Arc::new(Carriers::of(self, overlay))
        }
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
