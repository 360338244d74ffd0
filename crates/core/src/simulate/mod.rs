//! What-if: changes applied as an [`Overlay`] and compared with the organization as it is.
//!
//! Only the users a change can reach are evaluated: the user it names, the members of the group
//! it names, the holders of the role or policy it names. Each is judged before and after on
//! the same universe elements and resource keys.

use std::collections::BTreeSet;
use std::panic::AssertUnwindSafe;

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

/// Users judged by one job of the pool, and the fewest users any parallel loop over users
/// gives a job (the report's end, in `impact.rs`): below this many, handing them to another
/// worker costs more than it saves.
pub(crate) const USERS_PER_JOB: usize = 64;

/// Users judged before their answers are converted to the report's compact form.
const BATCH: usize = 256;

/// Jobs judged ahead of the one [`judge_pipelined`] hands next: with [`USERS_PER_JOB`], two
/// batches' worth of users, as many as judging a batch while handing the last held.
const JOBS_AHEAD: usize = 2 * BATCH / USERS_PER_JOB;

/// Judges `users` in jobs of [`USERS_PER_JOB`] (`judge`) on the caller's pool and hands each
/// job's answer to `hand` in job order on the calling thread, with the number of users it
/// judged; stops once `hand` answers `false`.
///
/// Jobs are spawned at most [`JOBS_AHEAD`] ahead of the one handed next (so that at most that
/// many jobs' answers are held at once); while the next is not done, the calling thread judges
/// a waiting job itself, or, when none waits, sleeps until a job ends. No worker waits for
/// the others between batches, and the answers reach `hand` in the same order whatever the
/// pool's size. One job's worth of users or fewer is judged on the calling thread, with
/// nothing spawned.
fn judge_pipelined<J>(
    users: &[u32],
    judge: &(dyn Fn(&[u32]) -> Vec<J> + Sync),
    hand: &mut dyn FnMut(Vec<J>, usize) -> bool,
) where
    J: Send,
{
    // A job's answer, or the panic it ended in (raised again on the calling thread, which
    // would otherwise wait for the answer forever).
    type Answer<J> = Result<Vec<J>, Box<dyn std::any::Any + Send>>;
    let jobs: Vec<&[u32]> = users.chunks(USERS_PER_JOB).collect();
    // One job (a what-if for a few users): judged here. Handing it to a worker and waiting
    // for the answer costs more than judging it (two thread wake-ups, where the caller is not
    // one of the pool's threads).
    if let [job] = jobs[..] {
        hand(judge(job), job.len());
        return;
    }
    // Per job, its answer once received and until handed.
    let mut answers: Vec<Option<Answer<J>>> = Vec::new();
    answers.resize_with(jobs.len(), || None);
    let (sender, receiver) = std::sync::mpsc::channel::<(usize, Answer<J>)>();
    rayon::in_place_scope(|scope| {
        let mut spawned = 0;
        for next in 0..jobs.len() {
            while spawned < jobs.len() && spawned < next + JOBS_AHEAD {
                let (sender, job, at) = (sender.clone(), jobs[spawned], spawned);
                // The receiver outlives the scope: a send cannot fail.
                scope.spawn(move |_| {
                    let answer = std::panic::catch_unwind(AssertUnwindSafe(|| judge(job)));
                    drop(sender.send((at, answer)));
                });
                spawned += 1;
            }
            let answer = loop {
                if let Some(answer) = answers[next].take() {
                    break answer;
                }
                match receiver.try_recv() {
                    Ok((at, answer)) => answers[at] = Some(answer),
                    // Nothing done yet: judge a waiting job here, or, with none waiting (the
                    // others are running elsewhere), wait for one to end.
                    Err(_) => {
                        if !matches!(rayon::yield_now(), Some(rayon::Yield::Executed)) {
                            let (at, answer) =
                                receiver.recv().expect("a spawned job is still running");
                            answers[at] = Some(answer);
                        }
                    }
                }
            };
            let answer = answer.unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            if !hand(answer, jobs[next].len()) {
                return;
            }
        }
    });
}

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
    /// same, byte for byte, whatever the pool's size. A change that reaches 64 users or fewer
    /// (a one-user what-if) is judged on the calling thread; the report's end uses the pool
    /// only for 1,024 paths or more.
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

    /// Judges `users` on the caller's pool, handing each judged user that `keep`s (named, or
    /// changed) to `each` in order, then `None` with the count done after each batch of
    /// [`BATCH`] users (and after the last). Judged users hold every pair's statements and the
    /// report only what it shows, so converting them soon after judging bounds memory by the
    /// report. Stops after the batch in which `each` first answers `false`.
    ///
    /// At the depths that judge every user (no early stop) the users are judged in jobs of
    /// [`USERS_PER_JOB`], at most [`JOBS_AHEAD`] ahead of the one `each` takes next, while
    /// `each` takes them in order on the calling thread ([`judge_pipelined`]), so that
    /// converting and writing users overlaps judging with no pause between batches. At the
    /// depths that may stop early, a batch is judged, then handed.
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
        // Hands judged users to `each`, with progress once `done` reaches a batch's end (or
        // the last user); answers whether to go on.
        let mut done = 0;
        let mut hand = |judged: Vec<Judged<'o>>, size: usize| {
            let mut go_on = true;
            for user in judged {
                go_on &= each(Some(user), done);
            }
            let before = done;
            done += size;
            if done / BATCH > before / BATCH || done == users.len() {
                go_on &= each(None, done);
            }
            go_on
        };
        if matches!(depth, Depth::Full | Depth::Counts | Depth::Tally) {
            judge_pipelined(users, &judge_slice, &mut hand);
            return;
        }
        for batch in users.chunks(BATCH) {
            // Each job judges a contiguous slice; the slices are collected in order, so the
            // answer does not depend on the pool's size.
            let judged = if batch.len() >= 2 * USERS_PER_JOB {
                let parts: Vec<Vec<Judged>> =
                    batch.par_chunks(USERS_PER_JOB).map(judge_slice).collect();
                parts.into_iter().flatten().collect()
            } else {
                judge_slice(batch)
            };
            if !hand(judged, batch.len()) {
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
        let mut reach = Vec::new();
        for change in applied {
            self.reach(change, &mut reach);
        }
        reach.sort_unstable();
        reach.dedup();
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

#[cfg(test)]
mod tests {
    use super::{judge_pipelined, JOBS_AHEAD, USERS_PER_JOB};
    use crate::testing::in_pools;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// What [`judge_pipelined`] hands, as (answers in hand order, sizes handed), with jobs
    /// that take longer the lower their users (so that they end out of order) and `stop`:
    /// how many jobs to hand before answering `false`.
    fn handed(users: &[u32], stop: usize) -> (Vec<u32>, Vec<usize>) {
        let judge = |job: &[u32]| -> Vec<u32> {
            // Uneven work, so that a later job often ends first.
            let spin = (1000 - job[0] % 1000) * 50;
            let mut x = 0u64;
            for i in 0..spin {
                x = std::hint::black_box(x.wrapping_add(u64::from(i)));
            }
            job.iter().map(|u| u * 2).collect()
        };
        let (mut answers, mut sizes) = (Vec::new(), Vec::new());
        judge_pipelined(users, &judge, &mut |answer, size| {
            answers.extend(answer);
            sizes.push(size);
            sizes.len() < stop
        });
        (answers, sizes)
    }

    #[test]
    fn answers_are_handed_in_job_order_whatever_the_pool() {
        let users: Vec<u32> = (0..1000).collect();
        let expected: Vec<u32> = users.iter().map(|u| u * 2).collect();
        let sizes: Vec<usize> = users.chunks(USERS_PER_JOB).map(<[u32]>::len).collect();
        for (answers, handed) in in_pools(|| handed(&users, usize::MAX)) {
            assert_eq!(answers, expected);
            assert_eq!(handed, sizes);
        }
        assert_eq!(in_pools(|| handed(&[], usize::MAX))[1], (vec![], vec![]));
    }

    #[test]
    fn one_job_is_judged_on_the_calling_thread() {
        // A job's worth of users is judged right where the call is, with no thread woken and
        // waited for: outside any pool (as a library's caller calls), and on a pool's thread.
        let judged_here = || {
            let caller = rayon::current_thread_index();
            let judge = |job: &[u32]| -> Vec<u32> {
                assert_eq!(
                    rayon::current_thread_index(),
                    caller,
                    "judged by the caller"
                );
                job.to_vec()
            };
            for len in [1, USERS_PER_JOB] {
                let users: Vec<u32> = (0..len as u32).collect();
                let mut handed = Vec::new();
                judge_pipelined(&users, &judge, &mut |answer, size| {
                    handed.push((answer, size));
                    true
                });
                assert_eq!(handed, vec![(users.clone(), len)]);
            }
        };
        judged_here();
        in_pools(judged_here);
    }

    #[test]
    fn handing_stops_once_asked() {
        let users: Vec<u32> = (0..1000).collect();
        for (answers, handed) in in_pools(|| handed(&users, 3)) {
            assert_eq!(handed, vec![USERS_PER_JOB; 3]);
            assert_eq!(answers.len(), 3 * USERS_PER_JOB);
        }
    }

    #[test]
    fn jobs_run_at_most_so_far_ahead() {
        // Every job records how many jobs have started when it starts, against how many were
        // handed: never more than `JOBS_AHEAD` past the one handed next.
        let users: Vec<u32> = (0..2000).collect();
        let (started, handed) = (AtomicUsize::new(0), AtomicUsize::new(0));
        let ahead = AtomicUsize::new(0);
        in_pools(|| {
            started.store(0, Ordering::SeqCst);
            handed.store(0, Ordering::SeqCst);
            let judge = |job: &[u32]| -> Vec<u32> {
                let now = started.fetch_add(1, Ordering::SeqCst) + 1;
                ahead.fetch_max(now - handed.load(Ordering::SeqCst), Ordering::SeqCst);
                job.to_vec()
            };
            judge_pipelined(&users, &judge, &mut |_, _| {
                handed.fetch_add(1, Ordering::SeqCst);
                true
            });
        });
        assert!(ahead.load(Ordering::SeqCst) <= JOBS_AHEAD);
    }

    #[test]
    fn a_job_that_panics_panics_the_call_instead_of_hanging() {
        let users: Vec<u32> = (0..1000).collect();
        for outcome in in_pools(|| {
            std::panic::catch_unwind(|| {
                let judge = |job: &[u32]| -> Vec<u32> {
                    assert!(!job.contains(&500), "job of user 500");
                    job.to_vec()
                };
                judge_pipelined(&users, &judge, &mut |_, _| true);
            })
        }) {
            let panic = outcome.expect_err("the job's panic reaches the caller");
            assert_eq!(panic.downcast_ref::<&str>(), Some(&"job of user 500"));
        }
    }
}
