//! A full report's entries built from the word-by-word [`Sides`]: per key and list, the Allow
//! paths of the side that cover the key and one of the list's elements, found for every key
//! at once ([`Sides::vias`]): long lists word by word against each statement, short ones
//! through a mask of keys per element.

use std::cell::RefCell;

use super::sides::Sides;
use crate::bitset::{bits_of, summary_of, BitSet, ElementIx};
use crate::eval::{Overlay, Route};
use crate::impact::{Class, Judged, PathKey, UserPathIx};
use crate::org::{Org, StatementIx, StatementNode};
use crate::policy::Effect;

/// A side's Allow statement as an entry's path: its key, the statement, and its word summary.
pub(super) type Allow<'o> = (PathKey, &'o StatementNode, u64);

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
        let mut vias = Vec::new();
        for (side, classes) in [
            (before, &[Class::Lost][..]),
            (after, &[Class::Kept, Class::Gained]),
        ] {
            let allows = self.ordered_allows(side, &sides.union(classes));
            let paths: Vec<UserPathIx> = allows
                .iter()
                .map(|&(key, ..)| judged.add_path(key))
                .collect();
            let found = sides.vias(classes, &allows);
            vias.push((classes, paths, found));
        }
        for key in 0..sides.keys.len() {
            for class in [Class::Lost, Class::Kept, Class::Gained] {
                if sides.count(key, class) == 0 {
                    continue;
                }
                let (classes, paths, found) = &vias[usize::from(class != Class::Lost)];
                let at = classes
                    .iter()
                    .position(|&c| c == class)
                    .expect("a class of its side");
                let found = found.of_slot(key * classes.len() + at);
                let via = found.iter().map(|&i| paths[i]).collect();
                let mut elements = Vec::with_capacity(sides.count(key, class));
                elements.extend(sides.elements(key, class).map(ElementIx::new));
                judged.group(class, sides.keys[key].key, elements, via);
            }
        }
    }

    /// A side's Allow statements that cover some element of `mask`, once, in path order (a
    /// route reaches a statement once, so each path once), each with its word summary: an
    /// entry's paths, taken from them in order, are then in path order too.
    ///
    /// INVARIANT: two routes differ in a step before their statements (a route ends with its
    /// policy, then the statement), so routes sorted by path order, each route's statements in
    /// document order, are the paths in path order.
    pub(super) fn ordered_allows<'o>(
        &'o self,
        (routes, ov): (&[Route], &'o Overlay),
        mask: &BitSet,
    ) -> Vec<Allow<'o>> {
        let words = mask.word_summary();
        if words == 0 {
            return Vec::new();
        }
        let mut ordered: Vec<([u64; 4], Route)> = routes
            .iter()
            .map(|&route| (self.path_order(PathKey::new(route, 0)), route))
            .collect();
        ordered.sort_unstable_by_key(|&(order, _)| order);
        ordered.dedup_by_key(|&mut (order, _)| order);
        let mut allows = Vec::new();
        for (_, route) in ordered {
            for statement in self.policy_statements(route.policy, ov) {
                let node_words = self.allow_words(statement, ov);
                if node_words & words == 0 {
                    continue;
                }
                let node = self.statement(statement, ov);
                if meets(node, mask.words(), node_words & words) {
                    allows.push((PathKey::new(route, node.index), node, node_words));
                }
            }
        }
        allows
    }

    /// An Allow statement's word summary ([`BitSet::word_summary`]), 0 for a Deny: cached for
    /// the organization's own statements.
    pub(super) fn allow_words(&self, id: StatementIx, ov: &Overlay) -> u64 {
        match self.report_cache().allow_words.get(id) {
            Some(&words) => words,
            None => {
                let node = self.statement(id, ov);
                match node.effect {
                    Effect::Allow => node.actions.word_summary(),
                    Effect::Deny => 0,
                }
            }
        }
    }
}

thread_local! {
    /// Per worker, a mask of keys per element for [`Sides::short_vias`]: all zero between
    /// uses, reused from user to user.
    static MASKS: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
}

/// Elements in a key's list above which its statements are found by testing each statement's
/// words against the list, rather than element by element.
const LONG: usize = 64;

impl Sides<'_> {
    /// Per key and each of `classes` (at `key * classes.len() + place`), the indexes into
    /// `allows` (one side's, in path order) of the statements that cover the key and some
    /// element of the key's list, ascending.
    ///
    /// A long list (most of `*`'s) is tested against each statement word by word. The short
    /// ones are found all at once: each element of a short list holds the mask of the keys
    /// whose list holds it (64 keys at a time), so a statement's keys are the union of its
    /// elements' masks, then those its resources cover; the work follows the statements'
    /// elements in the lists, not keys × statements.
    pub(super) fn vias(&self, classes: &[Class], allows: &[Allow<'_>]) -> Vias {
        // (slot, allow) as found: each slot's allows ascending, slots in any order.
        let mut pairs: Vec<(usize, usize)> = Vec::new();
        let width = self.width;
        // The long lists of every class, each with its slot, key and summary, and their
        // words one list after the other: tested in one pass over the statements, so that
        // each statement's words are read once.
        let mut longs: Vec<(usize, usize, u64)> = Vec::new();
        let mut dense: Vec<u64> = Vec::new();
        for (place, &class) in classes.iter().enumerate() {
            for key in (0..self.keys.len()).filter(|&key| self.count(key, class) > LONG) {
                let list = self.list(key, class);
                let start = dense.len();
                dense.resize(start + width, 0);
                list.iter().for_each(|&(w, bits)| dense[start + w] = bits);
                let list_words = summary_of(list.iter().map(|&(w, _)| w), width);
                longs.push((key * classes.len() + place, key, list_words));
            }
        }
        if !longs.is_empty() {
            for (i, &(_, node, node_words)) in allows.iter().enumerate() {
                for (j, &(slot, key, list_words)) in longs.iter().enumerate() {
                    if node_words & list_words != 0
                        && node.covers_resource(self.keys[key].key)
                        && meets(
                            node,
                            &dense[j * width..(j + 1) * width],
                            node_words & list_words,
                        )
                    {
                        pairs.push((slot, i));
                    }
                }
            }
        }
        for (place, &class) in classes.iter().enumerate() {
            let short: Vec<usize> = (0..self.keys.len())
                .filter(|&key| (1..=LONG).contains(&self.count(key, class)))
                .collect();
            if short.is_empty() {
                continue;
            }
            MASKS.with_borrow_mut(|masks| {
                if masks.len() < self.width * 64 {
                    masks.resize(self.width * 64, 0);
                }
                for chunk in short.chunks(64) {
                    self.short_vias(chunk, class, allows, masks, |key, i| {
                        pairs.push((key * classes.len() + place, i))
                    });
                }
            });
        }
        Vias::of(self.keys.len() * classes.len(), &pairs)
    }

    /// [`Sides::vias`] for up to 64 keys with short lists of one class: `found(key, i)` for
    /// each key and allow `i` that covers it and one of its elements, `i` ascending per key.
    /// `masks` (a key mask per element) is all zero before and after.
    fn short_vias(
        &self,
        keys: &[usize],
        class: Class,
        allows: &[Allow<'_>],
        masks: &mut [u64],
        mut found: impl FnMut(usize, usize),
    ) {
        let words = self.width;
        // The elements of the keys' lists and each one's keys (by place in `keys`, in `masks`,
        // zeroed again at the end); per word, the keys of its elements.
        let mut union = vec![0u64; words];
        let mut word_keys = vec![0u64; words];
        for (place, &key) in keys.iter().enumerate() {
            for &(w, bits) in self.list(key, class) {
                union[w] |= bits;
                word_keys[w] |= 1 << place;
                each_bit(bits, |bit| masks[w * 64 + bit] |= 1 << place);
            }
        }
        let union_words = summary_of((0..words).filter(|&w| union[w] != 0), words);
        for (i, &(_, node, node_words)) in allows.iter().enumerate() {
            if node_words & union_words == 0 {
                continue;
            }
            let mut places = 0u64;
            match &node.few {
                Some(few) => {
                    for e in few.iter().map(|e| e.index()) {
                        if union.get(e / 64).is_some_and(|&u| u & 1 << (e % 64) != 0) {
                            places |= masks[e];
                        }
                    }
                }
                None => {
                    let actions = node.actions.words();
                    let walk = |w: usize| {
                        // A word whose elements add no key is not walked.
                        if word_keys[w] & !places != 0 {
                            let bits = actions.get(w).map_or(0, |&a| a & union[w]);
                            each_bit(bits, |bit| places |= masks[w * 64 + bit]);
                        }
                    };
                    each_word(node_words & union_words, words, walk);
                }
            }
            each_bit(places, |place| {
                if node.covers_resource(self.keys[keys[place]].key) {
                    found(keys[place], i);
                }
            });
        }
        for (w, &bits) in union.iter().enumerate() {
            each_bit(bits, |bit| masks[w * 64 + bit] = 0);
        }
    }
}

/// Per slot (key and class, as [`Sides::vias`] numbers them), the indexes of its allows,
/// ascending: one list after the other.
pub(super) struct Vias {
    /// Where each slot's allows start in `items`; one more at the end.
    starts: Vec<usize>,
    items: Vec<usize>,
}

impl Vias {
    /// From `(slot, allow)` pairs, each slot's in ascending order: bucketed by slot, a stable
    /// pass.
    fn of(slots: usize, pairs: &[(usize, usize)]) -> Vias {
        let mut starts = vec![0usize; slots + 1];
        for &(slot, _) in pairs {
            starts[slot + 1] += 1;
        }
        for slot in 1..starts.len() {
            starts[slot] += starts[slot - 1];
        }
        let mut next = starts.clone();
        let mut items = vec![0usize; pairs.len()];
        for &(slot, i) in pairs {
            items[next[slot]] = i;
            next[slot] += 1;
        }
        Vias { starts, items }
    }

    /// A slot's allows, ascending.
    pub(super) fn of_slot(&self, slot: usize) -> &[usize] {
        &self.items[self.starts[slot]..self.starts[slot + 1]]
    }

    /// Every slot's allows, one slot after the other.
    pub(super) fn all(&self) -> &[usize] {
        &self.items
    }
}

/// Whether a statement covers an element of `dense` in the words `both` (a summary) names.
fn meets(node: &StatementNode, dense: &[u64], both: u64) -> bool {
    match &node.few {
        Some(few) => few.iter().any(|e| {
            let e = e.index();
            dense.get(e / 64).is_some_and(|&d| d & 1 << (e % 64) != 0)
        }),
        None => {
            let actions = node.actions.words();
            let meets_at = |w: usize| actions.get(w).is_some_and(|&a| a & dense[w] != 0);
            if dense.len() > 64 {
                return (0..dense.len()).any(meets_at);
            }
            let mut words = both;
            while words != 0 {
                if meets_at(words.trailing_zeros() as usize) {
                    return true;
                }
                words &= words - 1;
            }
            false
        }
    }
}

/// Calls `f` with each word a summary names: every word past 64 words.
#[inline]
fn each_word(summary: u64, words: usize, f: impl FnMut(usize)) {
    if words <= 64 {
        each_bit(summary, f);
    } else {
        (0..words).for_each(f);
    }
}

/// Calls `f` with each bit set in `bits`, ascending.
#[inline]
fn each_bit(bits: u64, f: impl FnMut(usize)) {
    bits_of(0, bits).for_each(f);
}
