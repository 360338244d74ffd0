//! Changes that take and give nothing: whether a change does, and the impact or the covering
//! paths of a removal only when it is harmless.

use super::{Change, Depth, Prepared};
use crate::error::ChangeError;
use crate::idx::Idx;
use crate::impact::{Interner, Judged, PathKey};
use crate::org::{Org, UserIx};
use crate::report::{ChangeSummary, Impact};

/// What covers a removal that takes and gives nothing: [`Org::covering_if_harmless`].
pub(crate) struct Covering {
    /// The removal, as a report names it.
    pub(crate) change: ChangeSummary,
    /// Per user who keeps pairs through other paths, in the impact's order (by id): the user,
    /// the pairs kept, and the keys of the paths of those pairs, each once, in path order.
    pub(crate) users: Vec<(UserIx, usize, Vec<PathKey>)>,
}

impl Org {
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
    ///
    /// [`Detail::Full`]: super::Detail::Full
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
    pub(super) fn harmless_pass<'o>(
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
}
