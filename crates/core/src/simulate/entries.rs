//! A full report's entries built from the word-by-word [`Sides`]: per list, the side's Allow
//! statements on every resource that cover one of its elements (its shared paths); per key and
//! list, the other Allow paths of the side that cover the key and one of the list's elements,
//! found for every key at once ([`Sides::vias`]): each element of the lists holds the mask of
//! the lists that hold it, and a statement meets the union of its elements' masks.

use std::cell::RefCell;

use super::sides::{spare, zeroed, Sides};
use super::spares::{give, recycled, take, Spares};
use crate::bitset::{bits_of, summary_of, BitSet, ElementIx};
use crate::eval::{Overlay, Route};
use crate::impact::{Class, Judged, PathKey, UserPathIx};
use crate::org::{Org, StatementIx, StatementNode};
use crate::policy::Effect;

/// A side's Allow statement as an entry's path: its key, the statement, and its word summary.
pub(super) type Allow<'o> = (PathKey, &'o StatementNode, u64);

impl Org {
    /// A full report's entries from [`Sides`]: per list, its shared paths (every Allow path of
    /// that side through a statement on every resource that covers one of the list's elements,
    /// on any key); per key and list, the elements and every other Allow path of that side
    /// whose statement covers the key and one of the elements.
    ///
    /// INVARIANT: exact as an entry's paths must be (`GroupedEntry`, `SharedPaths`): under
    /// deny-wins every Allow covering a pair counts, so a pair's own paths are the Allow
    /// statements of its side that cover it and the key, and a statement on every resource
    /// covers every key; with no replaced document a statement covers the same elements on
    /// both sides, so those are the paths of the entry and of its list's shared ones that cover
    /// the element.
    pub(super) fn entries_of_sides<'o>(
        &'o self,
        sides: &Sides<'o>,
        before: (&[Route], &'o Overlay),
        after: (&[Route], &'o Overlay),
        judged: &mut Judged<'o>,
    ) {
        // Each side's Allow statements, then room for all of them as the user's paths at once.
        let sided = [
            (before, &[Class::Lost][..]),
            (after, &[Class::Kept, Class::Gained]),
        ]
        .map(|(side, classes)| {
            // Per list, the elements of its keys (its shared paths are found against them);
            // the side's allows are found against all of them together.
            let unions: Vec<BitSet> = classes.iter().map(|&c| sides.union(&[c])).collect();
            let mut union = zeroed(sides.width);
            for words in unions.iter().map(BitSet::words) {
                union.iter_mut().zip(words).for_each(|(u, w)| *u |= w);
            }
            let union = BitSet::from_words(union);
            let allows = self.ordered_allows(side, &union);
            spare(union.into_words());
            (classes, allows, unions)
        });
        judged.reserve_paths(sided.iter().map(|(_, allows, _)| allows.len()).sum());
        // Each side's allows become the user's next paths, in order: allow `i` of a side is
        // path `first + i`. A statement on every resource covers every key: its paths are the
        // list's shared paths, found once against the union of the list's keys
        // (`SharedPaths`); the entries' own are found among the others.
        let vias = sided.map(|(classes, allows, unions)| {
            let first = judged.paths_len();
            allows.iter().for_each(|&(key, ..)| {
                judged.add_path(key);
            });
            for (&class, union) in classes.iter().zip(unions) {
                let summary = union.word_summary();
                let shared = (allows.iter().enumerate())
                    .filter(|(_, &(_, node, words))| {
                        node.any_resource && meets(node, union.words(), words & summary)
                    })
                    .map(|(i, _)| UserPathIx::new(first + i))
                    .collect();
                spare(union.into_words());
                judged.share(class, shared);
            }
            let mut scoped = recycled(ALLOWS.with(take));
            let mut places = INDEXES.with(take);
            for (i, &allow) in allows.iter().enumerate() {
                if !allow.1.any_resource {
                    scoped.push(allow);
                    places.push(i);
                }
            }
            let found = sides.vias(classes, &scoped);
            give_allows(allows);
            give_allows(scoped);
            (classes, first, found, places)
        });
        // Room for every entry at once: one per non-empty list.
        let lists = (0..sides.keys.len())
            .flat_map(|key| [Class::Lost, Class::Kept, Class::Gained].map(|c| (key, c)))
            .filter(|&(key, class)| sides.count(key, class) > 0);
        judged.reserve_groups(lists.clone().count());
        for (key, class) in lists {
            let (classes, first, found, places) = &vias[usize::from(class != Class::Lost)];
            let at = classes
                .iter()
                .position(|&c| c == class)
                .expect("a class of its side");
            let found = found.of_slot(key * classes.len() + at);
            let via = (found.iter())
                .map(|&i| UserPathIx::new(first + places[i]))
                .collect();
            let mut elements = Vec::with_capacity(sides.count(key, class));
            elements.extend(sides.elements(key, class).map(ElementIx::new));
            judged.group(class, sides.keys[key].key, elements, via);
        }
        for (.., places) in vias {
            INDEXES.with(|spares| give(spares, places));
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
        // Each route's statements that meet the mask, then only the routes with some are
        // ordered (a narrow mask meets few of a user's routes).
        let mut met: Vec<Allow<'o>> = recycled(ALLOWS.with(take));
        let mut spans = SPANS.with(take);
        for &route in routes {
            let start = met.len();
            for statement in self.policy_statements(route.policy, ov) {
                let node_words = self.allow_words(statement, ov);
                if node_words & words == 0 {
                    continue;
                }
                let node = self.statement(statement, ov);
                if meets(node, mask.words(), node_words & words) {
                    met.push((PathKey::new(route, node.index), node, node_words));
                }
            }
            if met.len() > start {
                let order = self.path_order(PathKey::new(route, 0));
                spans.push((order, start, met.len()));
            }
        }
        // Routes often come in path order already: then the statements are too.
        let allows = if spans.windows(2).all(|pair| pair[0].0 < pair[1].0) {
            met
        } else {
            spans.sort_unstable_by_key(|&(order, ..)| order);
            spans.dedup_by_key(|&mut (order, ..)| order);
            let mut allows: Vec<Allow<'o>> = recycled(ALLOWS.with(take));
            for &(_, start, end) in &spans {
                allows.extend_from_slice(&met[start..end]);
            }
            give_allows(met);
            allows
        };
        SPANS.with(|spares| give(spares, spans));
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

/// A worker's buffers for [`Sides::vias`], reused from user to user: per element, the mask of
/// the lists that hold it (all zero between uses); the non-empty lists; per list, the allows
/// found; and [`Sides::chunk_vias`]'s union of the lists, lists per word and lists per key.
#[derive(Default)]
struct ViaScratch {
    masks: Vec<u64>,
    lists: Vec<(usize, usize, Class)>,
    found: Vec<u64>,
    union: Vec<u64>,
    word_lists: Vec<u64>,
    keyed: Vec<(usize, u64)>,
}

thread_local! {
    /// Per worker, spare lists of [`Org::ordered_allows`]' allows.
    static ALLOWS: Spares<Allow<'static>> = const { RefCell::new(Vec::new()) };
    /// Per worker, [`Org::ordered_allows`]'s (path order, start, end) of each route's
    /// statements.
    static SPANS: Spares<([u64; 4], usize, usize)> = const { RefCell::new(Vec::new()) };
    /// Per worker, [`Sides::vias`]'s buffers.
    static VIA_SCRATCH: RefCell<ViaScratch> = RefCell::new(ViaScratch::default());
    /// Per worker, spare index vectors for [`Vias`].
    static INDEXES: Spares<usize> = const { RefCell::new(Vec::new()) };
}

impl Sides<'_> {
    /// Per key and each of `classes` (at `key * classes.len() + place`), the indexes into
    /// `allows` (one side's, in path order) of the statements that cover the key and some
    /// element of the key's list, ascending.
    ///
    /// The non-empty lists are taken 64 at a time. Each element of theirs holds the mask of
    /// the lists that hold it, so that a statement's lists are the union of its elements'
    /// masks, kept to those whose key its resources cover: the work follows the statements'
    /// elements within the lists, not lists × statements. A statement's walk stops once it
    /// has met every list it can, and skips the words whose elements would add no list.
    pub(super) fn vias(&self, classes: &[Class], allows: &[Allow<'_>]) -> Vias {
        let slots = self.keys.len() * classes.len();
        let (mut starts, mut items) = (INDEXES.with(take), INDEXES.with(take));
        VIA_SCRATCH.with_borrow_mut(|scratch| {
            // The non-empty lists, as (slot, key, class), in slot order.
            let lists = &mut scratch.lists;
            lists.clear();
            for key in 0..self.keys.len() {
                for (place, &class) in classes.iter().enumerate() {
                    if self.count(key, class) > 0 {
                        lists.push((key * classes.len() + place, key, class));
                    }
                }
            }
            // Per list (by place in `lists`), the allows found, as a bitset over `allows`.
            let stride = allows.len().div_ceil(64);
            let found = &mut scratch.found;
            found.clear();
            found.resize(lists.len() * stride, 0);
            if scratch.masks.len() < self.width * 64 {
                scratch.masks.resize(self.width * 64, 0);
            }
            let lists = std::mem::take(&mut scratch.lists);
            for (chunk, first) in lists.chunks(64).zip((0..).step_by(64)) {
                self.chunk_vias(chunk, allows, scratch, |found, place, i| {
                    found[(first + place) * stride + i / 64] |= 1 << (i % 64);
                });
            }
            let mut next = lists
                .iter()
                .zip(scratch.found.chunks(stride.max(1)))
                .peekable();
            starts.reserve(slots + 1);
            for slot in 0..slots {
                starts.push(items.len());
                if let Some((_, bits)) = next.next_if(|((s, ..), _)| *s == slot) {
                    for (w, &word) in bits.iter().enumerate() {
                        items.extend(bits_of(w, word));
                    }
                }
            }
            starts.push(items.len());
            scratch.lists = lists;
        });
        Vias { starts, items }
    }

    /// [`Sides::vias`] for up to 64 lists (slot, key, class): `found(found, place, i)` for
    /// each list (by place in `lists`) and allow `i` that covers the list's key and one of its
    /// elements. `scratch.masks` (a list mask per element) is all zero before and after.
    fn chunk_vias(
        &self,
        lists: &[(usize, usize, Class)],
        allows: &[Allow<'_>],
        scratch: &mut ViaScratch,
        mut found: impl FnMut(&mut [u64], usize, usize),
    ) {
        let words = self.width;
        let ViaScratch {
            masks,
            union,
            word_lists,
            keyed,
            found: found_bits,
            ..
        } = scratch;
        // The lists' elements, each with the mask of its lists, and per word the lists with
        // elements there.
        union.clear();
        union.resize(words, 0);
        word_lists.clear();
        word_lists.resize(words, 0);
        for (place, &(_, key, class)) in lists.iter().enumerate() {
            for &(w, bits) in self.list(key, class) {
                union[w] |= bits;
                word_lists[w] |= 1 << place;
                each_bit(bits, |bit| masks[w * 64 + bit] |= 1 << place);
            }
        }
        let all = u64::MAX >> (64 - lists.len());
        let union_words = summary_of((0..words).filter(|&w| union[w] != 0), words);
        // Per key, the places of its lists (lists of one key are adjacent): a scoped
        // statement's coverable lists are found once per key.
        keyed.clear();
        for (place, &(_, key, _)) in lists.iter().enumerate() {
            match keyed.last_mut() {
                Some((last, mask)) if *last == key => *mask |= 1 << place,
                _ => keyed.push((key, 1 << place)),
            }
        }
        for (i, &(_, node, node_words)) in allows.iter().enumerate() {
            if node_words & union_words == 0 {
                continue;
            }
            let coverable = if node.any_resource {
                all
            } else {
                keyed
                    .iter()
                    .filter(|(key, _)| node.covers_resource(self.keys[*key].key))
                    .fold(0, |m, (_, mask)| m | mask)
            };
            if coverable == 0 {
                continue;
            }
            // The lists met: the union of the masks of the statement's elements. A word is
            // walked only while its elements can add a list, and the walk stops once every
            // list the statement can meet is met.
            let mut met = 0u64;
            match &node.few {
                Some(few) => {
                    for e in few.iter().map(|e| e.index()) {
                        if union.get(e / 64).is_some_and(|&u| u & 1 << (e % 64) != 0) {
                            met |= masks[e];
                        }
                    }
                }
                None => {
                    let actions = node.actions.words();
                    let mut walk = |w: usize| {
                        if word_lists[w] & coverable & !met != 0 {
                            let mut bits = actions.get(w).map_or(0, |&a| a & union[w]);
                            while bits != 0 {
                                met |= masks[w * 64 + bits.trailing_zeros() as usize];
                                bits &= bits - 1;
                            }
                        }
                        met & coverable != coverable
                    };
                    if words <= 64 {
                        let mut both = node_words & union_words;
                        while both != 0 && walk(both.trailing_zeros() as usize) {
                            both &= both - 1;
                        }
                    } else {
                        let _ = (0..words).all(walk);
                    }
                }
            }
            each_bit(met & coverable, |place| found(found_bits, place, i));
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

impl Drop for Vias {
    fn drop(&mut self) {
        INDEXES.with(|spares| give(spares, std::mem::take(&mut self.starts)));
        INDEXES.with(|spares| give(spares, std::mem::take(&mut self.items)));
    }
}

impl Vias {
    /// A slot's allows, ascending.
    pub(super) fn of_slot(&self, slot: usize) -> &[usize] {
        &self.items[self.starts[slot]..self.starts[slot + 1]]
    }

    /// Every slot's allows, one slot after the other.
    pub(super) fn all(&self) -> &[usize] {
        &self.items
    }
}

/// Keeps a list of [`Org::ordered_allows`] for the worker's next.
pub(super) fn give_allows(allows: Vec<Allow<'_>>) {
    ALLOWS.with(|spares| give(spares, recycled(allows)));
}

/// Whether a statement covers an element of `dense` in the words `both` (a summary) names.
pub(super) fn meets(node: &StatementNode, dense: &[u64], both: u64) -> bool {
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

/// Calls `f` with each bit set in `bits`, ascending.
#[inline]
fn each_bit(bits: u64, f: impl FnMut(usize)) {
    bits_of(0, bits).for_each(f);
}
