//! Many changes answered at once, each judged alone against the unchanged organization:
//! [`Org::simulate_each`], what `rank` (every edge of one user) and `redundancy` (every edge of
//! the organization) are made of.
//!
//! Two things make it cheap. The changes are shared out between the workers of the caller's
//! rayon pool, a few at a time, and the answers put back in the order of the changes, so the
//! answer depends neither on the pool's size nor on which worker judged what. And whether a change
//! takes anything from anyone is first looked for in the pre-folded `*` sets: for the removal
//! of one edge under deny-wins, a user's decisions on `*` before and after are two OR passes
//! over the folded sets the user reaches (the removed one left out, or refolded without the
//! removed edge), so most removals are found to change something in a microsecond or so, at
//! the first user they change. Only what this does not settle is judged in full
//! ([`Org::simulate`]'s first-change depth).

use std::sync::{Mutex, PoisonError};

use rayon::prelude::*;

use crate::error::{ChangeError, ChangeSetError};
use crate::org::{GroupIx, Org, PolicyIx, Precedence, RoleIx, UserIx};
use crate::report::Impact;
use crate::simulate::{Change, Covering, Detail, Holder, Principal, SimulateOptions};

/// Which of the changes [`Org::simulate_each`] builds an [`Impact`] for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BuildImpact {
    /// None: each answer is only whether the change takes or gives anything.
    #[default]
    Never,
    /// Those that take something from someone (an access or an assumable role) or give someone
    /// an access.
    IfItChanges,
    /// Those that take nothing from anyone and give nothing: removals that could be made.
    IfHarmless,
    /// Every change.
    Always,
}

/// How [`Org::simulate_each`] works.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EachOptions {
    /// Which changes get an [`Impact`].
    pub build: BuildImpact,
    /// How much the impacts built report.
    pub detail: Detail,
}

/// One change's answer from [`Org::simulate_each`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Single {
    /// Whether the change, made alone, takes anything from anyone (an access or an assumable
    /// role) or gives anyone an access.
    pub changes_access: bool,
    /// The change's impact, as [`Org::simulate_with`] gives it with the options' detail, when
    /// [`EachOptions::build`] asks for it.
    pub impact: Option<Impact>,
}

/// Whether an impact takes anything from anyone (an access or an assumable role) or gives
/// anyone an access: what the first-change judgement finds, read off the counts.
fn takes_or_gives(impact: &Impact) -> bool {
    impact
        .users
        .iter()
        .any(|u| u.counts.lost > 0 || u.counts.gained > 0 || !u.assumable_lost.is_empty())
}

/// Changes handed to a worker at a time: small, so that one costly change (a removal many
/// users share) does not leave the other workers idle while it is judged.
const CHUNK: usize = 16;

/// `work(i)` for every `i` below `n`, on the rayon pool the call runs in, [`CHUNK`] at a time;
/// the results in order of `i`, whatever the pool's size, with progress as
/// [`each_range_on_pool`] reports it.
fn each_on_pool<T: Send>(
    n: usize,
    progress: &(dyn Fn(usize, usize) + Sync),
    work: &(dyn Fn(usize) -> T + Sync),
) -> Vec<T> {
    let parts = each_range_on_pool(n, CHUNK, progress, &|range| range.map(work).collect());
    parts.into_iter().flatten().collect()
}

/// `work(range)` for ranges of `chunk` indexes covering those below `n`, on the rayon pool the
/// call runs in; what each range gives, per range in order, whatever the pool's size (the
/// caller flattens them, or moves their items out one range at a time). After each range, the
/// worker that judged it calls `progress(done, n)` (with the indexes judged so far), under a
/// lock, so that calls do not overlap and `done` only grows.
pub(crate) fn each_range_on_pool<T: Send>(
    n: usize,
    chunk: usize,
    progress: &(dyn Fn(usize, usize) + Sync),
    work: &(dyn Fn(std::ops::Range<usize>) -> Vec<T> + Sync),
) -> Vec<Vec<T>> {
    let done = Mutex::new(0);
    let size = chunk.max(1);
    (0..n.div_ceil(size))
        .into_par_iter()
        // Every chunk its own job, so that idle workers take the chunks after a costly one.
        .with_max_len(1)
        .map(|chunk| {
            let start = chunk * size;
            let end = n.min(start + size);
            let part = work(start..end);
            let mut done = done.lock().unwrap_or_else(PoisonError::into_inner);
            *done += end - start;
            progress(*done, n);
            part
        })
        .collect()
}

impl Org {
    /// Answers each of `changes` alone, as if it were the only change made to the organization
    /// as it is (the changes are not applied together: see [`Org::simulate`] for that), on the
    /// rayon pool the call runs in (the global pool unless the caller runs it inside
    /// [`rayon::ThreadPool::install`]). Calls `progress(done, total)` with the changes answered
    /// so far after each few changes, on whichever worker answered them: one call at a time,
    /// `done` increasing from one call to the next (for a progress bar).
    ///
    /// The answers are in the order of `changes`, and the same whatever the pool's size.
    ///
    /// # Errors
    ///
    /// The first change (by position) that cannot be made on the organization as it is, as
    /// [`Org::check_all`] would find it for that change alone.
    pub fn simulate_each(
        &self,
        changes: &[Change],
        options: &EachOptions,
        progress: &(dyn Fn(usize, usize) + Sync),
    ) -> Result<Vec<Single>, ChangeSetError<ChangeError>> {
        self.simulate_each_into(changes, options, progress, &|_, single| single)
    }

    /// [`Org::simulate_each`], handing each answer, with the change's position, to `reduce` on
    /// the worker that judged it; the answers are what `reduce` returns, in the order of
    /// `changes`. For a caller that keeps little of each answer (a line of a report), so that
    /// the impacts are neither all held at once nor converted on one thread.
    ///
    /// # Errors
    ///
    /// As [`Org::simulate_each`]; `reduce` is then called for no change.
    pub fn simulate_each_into<T: Send>(
        &self,
        changes: &[Change],
        options: &EachOptions,
        progress: &(dyn Fn(usize, usize) + Sync),
        reduce: &(dyn Fn(usize, Single) -> T + Sync),
    ) -> Result<Vec<T>, ChangeSetError<ChangeError>> {
        fn one(change: &Change) -> &[Change] {
            std::slice::from_ref(change)
        }
        self.check_each(changes)?;
        let simulate = SimulateOptions {
            allow_noop: false,
            detail: options.detail,
        };
        let simulated = |change: &Change| {
            self.simulate_with(one(change), &simulate)
                .expect("a change checked alone can be simulated alone")
        };
        let answer = |index: usize| {
            let change = &changes[index];
            let single = if self.surely_changes(change) {
                let wanted = matches!(
                    options.build,
                    BuildImpact::IfItChanges | BuildImpact::Always
                );
                Single {
                    changes_access: true,
                    impact: wanted.then(|| simulated(change)),
                }
            } else {
                match options.build {
                    // Most changes left here change nothing: the first-change judgement, and
                    // the impact only if it finds something.
                    BuildImpact::Never | BuildImpact::IfItChanges => {
                        let changes_access = self
                            .takes_or_gives(change)
                            .expect("a change checked alone can be simulated alone");
                        Single {
                            changes_access,
                            impact: (changes_access && options.build == BuildImpact::IfItChanges)
                                .then(|| simulated(change)),
                        }
                    }
                    // Wanted when nothing changes, the impact tells that too: judged once.
                    BuildImpact::Always => {
                        let impact = simulated(change);
                        Single {
                            changes_access: takes_or_gives(&impact),
                            impact: Some(impact),
                        }
                    }
                    // One pass: the full what-if, given up at the first user it changes
                    // (at that user's first change).
                    BuildImpact::IfHarmless if options.detail == Detail::Full => {
                        let impact = self
                            .simulate_if_harmless(change)
                            .expect("a change checked alone can be simulated alone");
                        Single {
                            changes_access: impact.is_none(),
                            impact,
                        }
                    }
                    BuildImpact::IfHarmless => {
                        let changes_access = self
                            .takes_or_gives(change)
                            .expect("a change checked alone can be simulated alone");
                        Single {
                            changes_access,
                            impact: (!changes_access).then(|| simulated(change)),
                        }
                    }
                }
            };
            reduce(index, single)
        };
        Ok(each_on_pool(changes.len(), progress, &answer))
    }

    /// Checks each of `changes` alone, all of them before any is judged, so that an error
    /// leaves nothing half answered.
    fn check_each(&self, changes: &[Change]) -> Result<(), ChangeSetError<ChangeError>> {
        for (index, change) in changes.iter().enumerate() {
            self.check_all(std::slice::from_ref(change), &SimulateOptions::default())
                .map_err(|e| ChangeSetError {
                    index,
                    source: e.source,
                })?;
        }
        Ok(())
    }

    /// What covers each of `changes` that takes nothing from anyone and gives nothing
    /// ([`Org::covering_if_harmless`]), `None` for the others: the changes that
    /// [`Org::simulate_each`] with [`BuildImpact::IfHarmless`] gives an impact, with what that
    /// impact's kept entries hold, without building it. On the rayon pool the call runs in,
    /// in the order of `changes`, calling `progress` as [`Org::simulate_each`] does.
    ///
    /// # Errors
    ///
    /// As [`Org::simulate_each`].
    pub(crate) fn covering_each(
        &self,
        changes: &[Change],
        progress: &(dyn Fn(usize, usize) + Sync),
    ) -> Result<Vec<Option<Covering>>, ChangeSetError<ChangeError>> {
        self.check_each(changes)?;
        let answer = |index: usize| {
            let change = &changes[index];
            if self.surely_changes(change) {
                return None;
            }
            self.covering_if_harmless(change)
                .expect("a change checked alone can be simulated alone")
        };
        Ok(each_on_pool(changes.len(), progress, &answer))
    }

    /// Whether the folded `*` sets show that a valid change takes an access from someone or
    /// gives someone one. `false` means "not shown": it may still, on another resource key or
    /// by an assumable role, which only judging tells.
    ///
    /// INVARIANT (soundness): for the removal of one edge under deny-wins, a user with standing
    /// access (not root) reached by the change has the same standing after it, so
    /// [`Org::simulate`] decides them on `*` word by word from the statements with a `*`
    /// resource of their routes before and after: exactly the union of the folded sets they
    /// reach, with the removed edge left out. Any element whose decision on `*` differs is
    /// covered by a statement of a changed route, so it is one the simulation judges, and
    /// there it is lost or gained.
    pub(crate) fn surely_changes(&self, change: &Change) -> bool {
        if self.precedence() != Precedence::DenyWins {
            return false;
        }
        let Some((cut, (one, lists))) = self.cut_of(change) else {
            return false;
        };
        let mut rows = vec![0u64; 4 * self.set_words()];
        one.into_iter()
            .chain(lists.iter().flat_map(|list| list.iter().copied()))
            .any(|user| self.cut_changes(user, &cut, &mut rows))
    }

    /// How removing one edge changes the folded sets, and the users it reaches: one user, or
    /// lists that may repeat a user. `None` when the change is no single removal, or changes no
    /// folded set (an assumable role's edge).
    fn cut_of(&self, change: &Change) -> Option<(Cut, Reached<'_>)> {
        let mut cut = Cut::default();
        let users: Vec<&[UserIx]> = match *change {
            Change::RemoveMember { group, user } => {
                cut.dropped = Some(self.group_set(self.group_ix(group)));
                return Some((cut, (Some(self.user_ix(user)), Vec::new())));
            }
            Change::DetachPolicy {
                policy,
                from: Holder::User(user),
            } => {
                cut.dropped = Some(self.policy_ix(policy).index());
                return Some((cut, (Some(self.user_ix(user)), Vec::new())));
            }
            Change::DetachRole {
                role,
                from: Principal::User(user),
            } => {
                let role = self.role_ix(role);
                if !self.role_nodes()[role].assignable {
                    return None;
                }
                cut.dropped = Some(self.role_set(role));
                return Some((cut, (Some(self.user_ix(user)), Vec::new())));
            }
            Change::DetachPolicy {
                policy,
                from: Holder::Group(group),
            } => {
                let (group, policy) = (self.group_ix(group), self.policy_ix(policy));
                cut.replace(
                    self.group_set(group),
                    self.refold_group(group, Some(policy), None, &[]),
                );
                vec![self.as_is().group_members(group)]
            }
            Change::DetachRole {
                role,
                from: Principal::Group(group),
            } => {
                let (group, role) = (self.group_ix(group), self.role_ix(role));
                if !self.role_nodes()[role].assignable {
                    return None;
                }
                cut.replace(
                    self.group_set(group),
                    self.refold_group(group, None, Some(role), &[]),
                );
                vec![self.as_is().group_members(group)]
            }
            Change::DetachPolicy {
                policy,
                from: Holder::Role(role),
            } => {
                let (role, policy) = (self.role_ix(role), self.policy_ix(policy));
                if !self.role_nodes()[role].assignable {
                    return None;
                }
                let mut bits = vec![0u64; 2 * self.set_words()];
                for &p in self
                    .as_is()
                    .role_policies(role)
                    .iter()
                    .filter(|&&p| p != policy)
                {
                    or_set(&mut bits, self.folded_set(p.index()));
                }
                cut.replace(self.role_set(role), bits);
                let groups = self.as_is().role_groups(role);
                for &group in groups {
                    let bits = self.refold_group(group, None, None, &cut.replaced);
                    cut.replace(self.group_set(group), bits);
                }
                let mut users = vec![self.as_is().role_users(role)];
                users.extend(groups.iter().map(|&g| self.as_is().group_members(g)));
                users
            }
            _ => return None,
        };
        Some((cut, (None, users)))
    }

    /// A group's folded set (Allow then Deny words) without one of its policies or roles, with
    /// the roles' sets `replaced` holds in place of theirs.
    fn refold_group(
        &self,
        group: GroupIx,
        without_policy: Option<PolicyIx>,
        without_role: Option<RoleIx>,
        replaced: &[(usize, Vec<u64>)],
    ) -> Vec<u64> {
        let view = self.as_is();
        let mut bits = vec![0u64; 2 * self.set_words()];
        for &p in view
            .group_policies(group)
            .iter()
            .filter(|&&p| Some(p) != without_policy)
        {
            or_set(&mut bits, self.folded_set(p.index()));
        }
        for &r in view
            .group_roles_raw(group)
            .iter()
            .filter(|&&r| Some(r) != without_role)
        {
            if !self.role_nodes()[r].assignable {
                continue;
            }
            let set = self.role_set(r);
            match replaced.iter().find(|(s, _)| *s == set) {
                Some((_, own)) => {
                    let (allow, deny) = own.split_at(self.set_words());
                    or_set(&mut bits, (allow, deny));
                }
                None => or_set(&mut bits, self.folded_set(set)),
            }
        }
        bits
    }

    /// Whether a user's decisions on `*` differ before and after `cut`. `rows` is scratch of
    /// four set halves.
    fn cut_changes(&self, user: UserIx, cut: &Cut, rows: &mut [u64]) -> bool {
        if self.root() == Some(user) {
            return false;
        }
        let words = self.set_words();
        rows.fill(0);
        let (before, after) = rows.split_at_mut(2 * words);
        // Nothing for a suspended user, who has no standing access before or after.
        self.each_folded(user, |set| {
            let bits = self.folded_set(set);
            or_set(before, bits);
            if cut.dropped == Some(set) {
                return;
            }
            match cut.replaced.iter().find(|(s, _)| *s == set) {
                Some((_, own)) => or_set(after, own.split_at(words)),
                None => or_set(after, bits),
            }
        });
        let (allow, deny) = before.split_at(words);
        let (allow_after, deny_after) = after.split_at(words);
        (0..words).any(|w| allow[w] & !deny[w] != allow_after[w] & !deny_after[w])
    }
}

/// The users a removal reaches: one user, or lists of users (a user may be in several).
type Reached<'o> = (Option<UserIx>, Vec<&'o [UserIx]>);

/// What removing one edge does to the folded sets.
#[derive(Debug, Default)]
struct Cut {
    /// The set a user reached through the edge and no longer reaches (their group, direct
    /// policy or role).
    dropped: Option<usize>,
    /// Sets whose content changes (a group's or role's, refolded without the edge): the set
    /// and its new Allow then Deny words.
    replaced: Vec<(usize, Vec<u64>)>,
}

impl Cut {
    fn replace(&mut self, set: usize, bits: Vec<u64>) {
        self.replaced.push((set, bits));
    }
}

/// ORs a folded set's `(allow, deny)` halves into Allow then Deny words.
fn or_set(into: &mut [u64], (allow, deny): (&[u64], &[u64])) {
    let (into_allow, into_deny) = into.split_at_mut(allow.len());
    for (a, b) in into_allow.iter_mut().zip(allow) {
        *a |= b;
    }
    for (a, b) in into_deny.iter_mut().zip(deny) {
        *a |= b;
    }
}

#[cfg(all(test, feature = "proptest"))]
mod tests {
    use proptest::prelude::*;

    use super::{BuildImpact, EachOptions};
    use crate::testing::{catalogue, in_pools, organization, OrgKnobs};
    use crate::{CompileOptions, Detail, Org, Precedence};

    fn config() -> ProptestConfig {
        crate::testing::cases(300)
    }

    proptest! {
        #![proptest_config(config())]

        /// The folded-set fast path never says that a removal changes something the full
        /// first-change judgement says it does not (and, when the judgement says it changes
        /// something on `*`, it mostly finds it: checked over the run below).
        #[test]
        fn the_fast_path_is_sound(snapshot in organization(&OrgKnobs::default())) {
            let org = Org::compile(&snapshot, &catalogue()).unwrap();
            for change in org.every_edge() {
                let slow = org.takes_or_gives(&change).unwrap();
                if org.surely_changes(&change) {
                    prop_assert!(slow, "{:?}", org.summarize(&change));
                }
            }
        }

        /// `simulate_each` answers each change as `simulate` does alone, and the same in
        /// pools of 1, 2 and 4 threads; under both precedences.
        #[test]
        fn each_is_each_simulated_alone(
            snapshot in organization(&OrgKnobs::default()),
            nearest in any::<bool>(),
        ) {
            let precedence = if nearest { Precedence::NearestWins } else { Precedence::DenyWins };
            let org = Org::compile_with(&snapshot, &catalogue(), &CompileOptions { precedence, ..Default::default() })
                .unwrap();
            let changes = org.every_edge();
            let options = EachOptions {
                build: BuildImpact::Always,
                detail: Detail::Full,
            };
            let [one, two, four] = in_pools(|| org.simulate_each(&changes, &options, &|_, _| {}).unwrap());
            prop_assert_eq!(&one, &two);
            prop_assert_eq!(&one, &four);
            // Without impacts, the bit comes from the first-change judgement: the same.
            let bits = org
                .simulate_each(&changes, &EachOptions { build: BuildImpact::Never, ..options }, &|_, _| {})
                .unwrap();
            for (bit, single) in bits.iter().zip(&one) {
                prop_assert_eq!(bit.changes_access, single.changes_access);
                prop_assert!(bit.impact.is_none());
            }
            // Only the harmless ones' impacts, in one pass each: the same impacts and bits,
            // in pools of 1, 2 and 4 threads.
            let harmless = EachOptions { build: BuildImpact::IfHarmless, ..options };
            for each in in_pools(|| org.simulate_each(&changes, &harmless, &|_, _| {}).unwrap()) {
                for (single, all) in each.iter().zip(&one) {
                    prop_assert_eq!(single.changes_access, all.changes_access);
                    let expected = all.impact.as_ref().filter(|_| !all.changes_access);
                    prop_assert_eq!(single.impact.as_ref(), expected);
                }
            }
            for (change, single) in changes.iter().zip(&one) {
                let impact = org.simulate(std::slice::from_ref(change)).unwrap();
                let changes_access = impact.users.iter().any(|u| {
                    u.counts.lost > 0 || u.counts.gained > 0 || !u.assumable_lost.is_empty()
                });
                prop_assert_eq!(single.changes_access, changes_access);
                prop_assert_eq!(single.impact.as_ref(), Some(&impact));
            }
        }
    }

    proptest! {
        #![proptest_config(config())]

        /// `rank_with` is `rank` with the removals the filter does not admit left out, in
        /// pools of 1, 2 and 4 threads.
        #[test]
        fn rank_with_filters_rank(
            snapshot in organization(&OrgKnobs::default()),
            keep in any::<bool>(),
            drop in any::<bool>(),
        ) {
            use crate::policy::ActionPattern;
            use crate::RankFilter;
            let org = Org::compile(&snapshot, &catalogue()).unwrap();
            let pattern = |p: &str| vec![ActionPattern::parse(p).unwrap()];
            let filter = RankFilter {
                keep: if keep { pattern("compute.*") } else { Vec::new() },
                drop: if drop { pattern("*") } else { Vec::new() },
            };
            for user in org.users() {
                let mut expected = org.rank(user);
                expected.removals.retain(|r| filter.admits(&org, r));
                for ranked in in_pools(|| org.rank_with(user, &filter)) {
                    prop_assert_eq!(&ranked, &expected);
                }
            }
        }
    }

    /// On a generated organization of the broad shape, the fast path settles most removals
    /// that change something, and agrees with the full judgement on every edge.
    #[test]
    fn the_fast_path_settles_most_removals() {
        use crate::generate::{snapshot, Params};
        let mut params = Params::broad(300, 7);
        params.actions = 300;
        let org = Org::compile(&snapshot(&params), &catalogue()).unwrap();
        let (mut changing, mut settled) = (0, 0);
        for change in org.every_edge() {
            let fast = org.surely_changes(&change);
            let slow = org.takes_or_gives(&change).unwrap();
            assert!(!fast || slow, "{:?}", org.summarize(&change));
            changing += usize::from(slow);
            settled += usize::from(fast);
        }
        assert!(changing > 100, "{changing} removals change something");
        assert!(
            settled * 10 >= changing * 9,
            "{settled} of {changing} settled"
        );
    }

    /// Progress from the pool's workers: one call per chunk of changes, `done` increasing
    /// from call to call up to the total, in pools of 1, 2 and 4 threads.
    #[test]
    fn progress_grows_to_the_total_from_any_pool() {
        use crate::generate::{snapshot, Params};
        let org = Org::compile(&snapshot(&Params::broad(60, 3)), &catalogue()).unwrap();
        let changes = org.every_edge();
        assert!(
            changes.len() > 3 * super::CHUNK,
            "{} changes",
            changes.len()
        );
        let calls = in_pools(|| {
            let calls = std::sync::Mutex::new(Vec::new());
            org.simulate_each(&changes, &EachOptions::default(), &|done, total| {
                calls.lock().unwrap().push((done, total));
            })
            .unwrap();
            calls.into_inner().unwrap()
        });
        for calls in calls {
            assert_eq!(calls.len(), changes.len().div_ceil(super::CHUNK));
            assert!(calls.windows(2).all(|w| w[0].0 < w[1].0), "{calls:?}");
            assert!(calls.iter().all(|&(_, total)| total == changes.len()));
            assert_eq!(calls.last().map(|c| c.0), Some(changes.len()));
        }
    }
}
