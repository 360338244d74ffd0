//! A full report's entries built from the word-by-word [`Sides`]: the Allow paths of each
//! side covering a key and its elements, through an index by element for short lists.

use super::sides::{KeyDecision, Sides};
use crate::bitset::{BitSet, ElementIx};
use crate::eval::{Overlay, Route};
use crate::impact::{Class, Judged, PathKey, UserPathIx};
use crate::org::{Org, StatementIx, StatementNode};
use crate::policy::Effect;

/// For each element of a mask, the side's Allow statements covering it, as ascending indexes
/// into `allows` ([`Org::entries_of_sides`]' index for short lists): bucketed by the element's
/// place in the mask, no sorting.
#[derive(Default)]
pub(super) struct ElementIndex {
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

/// Elements in a list few enough to take its paths from an index by element.
pub(super) const FEW: usize = 16;

impl Org {
    /// A full report's entries from [`Sides`]: per key and list, the elements and every Allow
    /// path of that side whose statement covers the key and one of the elements.
    ///
    /// INVARIANT: exact as an entry's paths must be (`GroupedEntry`): under deny-wins every
    /// Allow covering a pair counts, so a pair's own paths are the Allow statements of its side
    /// that cover it and the key; with no replaced document a statement covers the same
    /// elements on both sides, so those are the entry's paths that cover the element.
    pub(super) fn entries_of_sides<'o>(
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
    pub(super) fn side_allows<'o>(
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
    pub(super) fn allow_words(&self, id: StatementIx, ov: &Overlay) -> u64 {
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
}

/// Which words of a bitset hold a bit, one bit per word (every bit set past 64 words): two sets
/// with no word in common share no element.
pub(super) fn summary(set: &BitSet) -> u64 {
    set.word_summary()
}
