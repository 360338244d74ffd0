//! What covers a removal that takes and gives nothing, user by user, without building the
//! user's kept entries: [`Org::covering_if_harmless`]'s pass.
//!
//! For a user who keeps standing access, under deny-wins and with no replaced document (every
//! removal), a user's decisions are the word-by-word [`Sides`]: the removal is harmless for
//! them when no key loses or gains an element (and no assumable role is lost), and the paths of
//! their kept pairs are, per key, the Allow statements of their routes after the removal that
//! cover the key and one of its kept elements. Those paths are gathered straight from the
//! statements; the entries [`Org::entries_of_sides`] would build from them, and the table of
//! paths they number, are never made. Any other user (root, suspended, nearest-wins) is judged
//! as before, at [`Depth::FullUnlessChanged`].

use rayon::prelude::*;

use super::sides::Sides;
use super::{Depth, Prepared, USERS_PER_JOB};
use crate::eval::{Overlay, Route};
use crate::impact::{Class, Judged, PathKey};
use crate::org::{Org, Precedence, UserIx};

/// What a removal leaves one user: `None` when it takes or gives them something; else
/// `Some(None)` when they keep no pair through a changed path, or the pairs they keep that
/// way and the keys of those pairs' paths, each once, in path order.
pub(super) type UserCover = Option<Option<(usize, Vec<PathKey>)>>;

impl Org {
    /// The users of a prepared removal who keep pairs through the paths it changes, with
    /// those pairs' count and paths, in reach order; `None` as soon as one user loses or gains
    /// an access or an assumable role. On the caller's pool; the same whatever its size.
    pub(super) fn covering_pass(
        &self,
        prepared: &Prepared,
    ) -> Option<Vec<(UserIx, usize, Vec<PathKey>)>> {
        let one = |&u: &u32| {
            let user = UserIx::from_raw(u);
            self.user_cover(user, prepared)
                .map(|kept| kept.map(|(count, via)| (user, count, via)))
        };
        let reach = &prepared.reach;
        let covered: Vec<Option<(UserIx, usize, Vec<PathKey>)>> =
            if reach.len() >= 2 * USERS_PER_JOB {
                // Contiguous slices, collected in order; the first change found stops them all
                // (whichever it is, the answer is `None`).
                let parts: Option<Vec<Vec<_>>> = reach
                    .par_chunks(USERS_PER_JOB)
                    .map(|users| users.iter().map(one).collect::<Option<Vec<_>>>())
                    .collect();
                parts?.into_iter().flatten().collect()
            } else {
                reach.iter().map(one).collect::<Option<Vec<_>>>()?
            };
        Some(covered.into_iter().flatten().collect())
    }

    /// What a prepared removal leaves `user` ([`UserCover`]): what judging them at
    /// [`Depth::FullUnlessChanged`] and reading [`Judged::kept_paths`] off them gives.
    pub(super) fn user_cover(&self, user: UserIx, prepared: &Prepared) -> UserCover {
        let (baseline, overlay) = (&prepared.baseline, &prepared.overlay);
        let word_by_word = self.precedence() == Precedence::DenyWins
            && overlay.documents.is_empty()
            && self.root() != Some(user)
            && self.has_standing(user, baseline)
            && self.has_standing(user, overlay);
        if !word_by_word {
            return self.user_cover_judged(user, prepared);
        }
        // INVARIANT: what `user_impact` does for such a user: the same mask and `Sides`.
        let before = self.routes(user, baseline);
        let after = self.routes(user, overlay);
        let mask = self.touched(user, &before, &after, baseline, overlay);
        let sides = self.sides(user, (&before, baseline), (&after, overlay), &mask);
        if sides.total(Class::Lost) > 0 || sides.total(Class::Gained) > 0 {
            return None;
        }
        let kept = sides.total(Class::Kept);
        let mut judged = Judged::new(user.raw());
        self.assumable_changes(user, baseline, overlay, &mut judged);
        if judged.changes_access() {
            return None;
        }
        if kept == 0 {
            return Some(None);
        }
        Some(Some((kept, self.kept_paths_of(&sides, &after, overlay))))
    }

    /// [`Org::user_cover`] by judging the user in full.
    pub(super) fn user_cover_judged(&self, user: UserIx, prepared: &Prepared) -> UserCover {
        let judged = self.user_impact(
            user,
            &prepared.baseline,
            &prepared.overlay,
            Depth::FullUnlessChanged,
        );
        if judged.changes_access() {
            return None;
        }
        Some(judged.kept_paths(self).map(|via| (judged.counts.kept, via)))
    }

    /// The paths of a user's kept pairs: per key with kept elements, the Allow statements of
    /// the routes `after` that cover the key and one of those elements; each once, in path
    /// order.
    ///
    /// INVARIANT: what [`Judged::kept_paths`] reads off the entries [`Org::entries_of_sides`]
    /// builds: a kept entry's paths are exactly those statements of its key and elements.
    fn kept_paths_of(&self, sides: &Sides<'_>, after: &[Route], overlay: &Overlay) -> Vec<PathKey> {
        let kept = [Class::Kept];
        let union = sides.union(&kept);
        let allows = self.ordered_allows((after, overlay), &union);
        super::sides::spare(union.into_words());
        // Allows are in path order: their indexes, sorted, are too.
        let mut indexes: Vec<usize> = sides.vias(&kept, &allows).all().to_vec();
        indexes.sort_unstable();
        indexes.dedup();
        indexes.into_iter().map(|i| allows[i].0).collect()
    }
}

#[cfg(all(test, feature = "proptest"))]
mod tests {
    use proptest::prelude::*;

    use crate::testing::{catalogue, in_pools, organization, OrgKnobs};
    use crate::{CompileOptions, Org, Precedence};

    fn config() -> ProptestConfig {
        crate::testing::cases(300)
    }

    proptest! {
        #![proptest_config(config())]

        /// Every removal's cover user by user, word by word where it may be, is what judging
        /// each user in full and reading the kept paths off them gives; and the pass is the
        /// same in pools of 1, 2 and 4 threads. Under both precedences.
        #[test]
        fn the_cover_is_the_judged_cover(
            snapshot in organization(&OrgKnobs::default()),
            nearest in any::<bool>(),
        ) {
            let precedence = if nearest { Precedence::NearestWins } else { Precedence::DenyWins };
            let options = CompileOptions { precedence, ..Default::default() };
            let org = Org::compile_with(&snapshot, &catalogue(), &options).unwrap();
            for change in org.every_edge() {
                let prepared = org.prepare(std::slice::from_ref(&change), false).unwrap();
                let mut judged = Some(Vec::new());
                for &u in &prepared.reach {
                    let user = crate::org::UserIx::from_raw(u);
                    let fast = org.user_cover(user, &prepared);
                    let slow = org.user_cover_judged(user, &prepared);
                    prop_assert_eq!(&fast, &slow, "{:?}", org.summarize(&change));
                    match (&mut judged, slow) {
                        (Some(all), Some(Some((kept, via)))) => all.push((user, kept, via)),
                        (_, None) => judged = None,
                        _ => {}
                    }
                }
                for pass in in_pools(|| org.covering_pass(&prepared)) {
                    prop_assert_eq!(&pass, &judged);
                }
            }
        }
    }

    /// On a generated organization of the broad shape, the word-by-word cover is the judged
    /// one for every reached user of every edge, and many users keep pairs through a removed
    /// path (so the comparison is not empty).
    #[test]
    fn the_cover_is_the_judged_cover_on_the_broad_shape() {
        use crate::generate::{snapshot, Params};
        let org = Org::compile(&snapshot(&Params::broad(120, 5)), &catalogue()).unwrap();
        let mut covered = 0;
        for change in org.every_edge() {
            let prepared = org.prepare(std::slice::from_ref(&change), false).unwrap();
            for &u in &prepared.reach {
                let user = crate::org::UserIx::from_raw(u);
                let fast = org.user_cover(user, &prepared);
                assert_eq!(fast, org.user_cover_judged(user, &prepared));
                covered += usize::from(matches!(fast, Some(Some(_))));
            }
        }
        assert!(covered > 100, "{covered} users covered");
    }
}
