//! The word-by-word decision under deny-wins: a user's sets gathered per side, each key
//! decided into lost, gained, kept and unchanged elements.

use std::cell::RefCell;
use std::ops::Range;

use super::entries::meets;
use super::spares::{give, recycled, take, Spares};
use super::Depth;
use crate::bitset::{bits_of, BitSet};
use crate::eval::{Carrier, Overlay, Route, ANY_RESOURCE};
use crate::impact::{Class, Judged};
use crate::org::{Org, StatementNode, UserIx, NO_RESOURCE_ID};
use crate::overlay::{Carriers, Edge};
use crate::policy::{Effect, ResourcePattern};

/// One resource key of a user's touched elements, decided word by word under deny-wins: the
/// elements lost, kept (allowed on both sides through other paths) and gained on that key, as
/// ranges of [`Sides::words`].
pub(super) struct KeyDecision<'o> {
    pub(super) key: &'o ResourcePattern,
    /// Per list (`[lost, kept, gained]`), its words in [`Sides::words`].
    lists: [Range<usize>; 3],
    /// Per list, how many elements it holds.
    counts: [usize; 3],
}

/// A user's `*` sets ([allow, deny] per side, changed [allow, deny]) and the scoped
/// statements (side, or `None` for both; statement; on a changed route) kept for the other
/// keys: what [`Org::sides`] decides every key from.
pub(super) struct Gathered<'o> {
    /// Per word, the `*` sets side by side (one cache line a word), in `Decided::base`'s order
    /// (allow before and after, deny before and after, changed allow and deny), then the
    /// allow and deny of the routes both sides share, which gathering adds to each side.
    sets: Vec<[u64; SETS]>,
    scoped: Vec<(Option<usize>, &'o StatementNode, bool)>,
    /// The words where the mask holds a bit, ascending: the only words any set is read at
    /// (every element asked is in the mask), so the only ones gathered and decided. When
    /// they are most words ([`is_sparse`]), loops run over every word instead, which the
    /// compiler vectorizes.
    held: Vec<usize>,
}

impl<'o> Gathered<'o> {
    /// The `*` sets at word `w`, in `Decided::base`'s order.
    #[inline(always)]
    fn sets_at(&self, w: usize) -> [u64; 6] {
        let s = &self.sets[w];
        [s[0], s[1], s[2], s[3], s[4], s[5]]
    }

    /// Decides `*` and then each non-`*` key a scoped statement names, in key order, handing
    /// each key's decision to `each` (in `decided`, reused from key to key).
    fn decide_keys(
        &self,
        mask: &BitSet,
        decided: &mut Decided,
        each: &mut dyn FnMut(&'o ResourcePattern, &Decided),
    ) {
        decided.clear();
        decided.ask_all(mask.words(), &self.held);
        decided.start(self);
        decided.decide(self, &[]);
        each(&ANY_RESOURCE, decided);
        self.scoped_keys(mask, decided, each);
    }

    /// The decision on each non-`*` key a scoped statement names, in key order. `decided`
    /// starts from the `*` sets ([`Decided::start`]).
    fn scoped_keys(
        &self,
        mask: &BitSet,
        decided: &mut Decided,
        each: &mut dyn FnMut(&'o ResourcePattern, &Decided),
    ) {
        let scoped = &self.scoped;
        // Per non-`*` resource a scoped statement names, (its id, the statement, where it
        // names it): sorted, so that each key's naming statements are one run, in key order
        // (ids sort as the patterns do). Every statement here is the organization's: with a
        // replaced document nothing is judged word by word.
        let mut naming = std::mem::take(&mut decided.naming);
        naming.clear();
        for (i, (_, statement, _)) in scoped.iter().enumerate() {
            for (at, &id) in statement.resource_ids.iter().enumerate() {
                if id != NO_RESOURCE_ID {
                    naming.push((id, index(i), index(at)));
                }
            }
        }
        naming.sort_unstable();
        naming.dedup_by_key(|&mut (id, i, _)| (id, i));
        // A statement covers a key when it names it, or through a `type:*` resource of its
        // own: those are found per distinct `type:*` resource, and added to the sets the
        // key's words start from (`Decided::base`), rebuilt only when they change from key
        // to key (keys of one type are adjacent).
        let mut typed = std::mem::take(&mut decided.typed);
        typed.clear();
        for (i, (_, statement, _)) in scoped.iter().enumerate() {
            if statement.any_resource || !statement.typed_resource {
                continue;
            }
            let ids = statement.resources.iter().zip(&statement.resource_ids);
            for (at, (r, &id)) in ids.enumerate() {
                if r.as_str().ends_with(":*") {
                    typed.push((id, index(i), index(at)));
                }
            }
        }
        typed.sort_unstable();
        let mut covered = std::mem::take(&mut decided.covered);
        covered.clear();
        covered.resize(typed.len(), false);
        let mut covering: Vec<usize> = std::mem::take(&mut decided.covering);
        let mut start = 0;
        while start < naming.len() {
            let (id, first, at) = naming[start];
            let key = &scoped[first as usize].1.resources[at as usize];
            let end = start + naming[start..].iter().take_while(|n| n.0 == id).count();
            // The typed statements covering the key: when they differ from the last key's,
            // the sets are rebuilt from `*`'s.
            let (mut same, mut last) = (true, None);
            for (c, &(id, i, at)) in covered.iter_mut().zip(&typed) {
                let covers = match last {
                    Some((last, covers)) if last == id => covers,
                    _ => scoped[i as usize].1.resources[at as usize].covers(key),
                };
                last = Some((id, covers));
                same &= *c == covers;
                *c = covers;
            }
            if !same {
                decided.start(self);
                let mut last = None;
                for ((_, i, _), _) in typed.iter().zip(&covered).filter(|(_, &c)| c) {
                    if last != Some(*i) {
                        decided.add_to_base(self, *i as usize, mask.words());
                        last = Some(*i);
                    }
                }
            }
            // Asked where a statement naming the key covers the element; decided by the sets
            // of `*` and the typed statements covering the key, and the scoped statements
            // naming it (those with `*` already count in `*`'s).
            decided.clear();
            covering.clear();
            for &(_, i, _) in &naming[start..end] {
                let statement = scoped[i as usize].1;
                decided.ask(statement, mask.words(), &self.held);
                if !statement.any_resource {
                    covering.push(i as usize);
                }
            }
            decided.settle(&self.held);
            decided.decide(self, &covering);
            each(key, decided);
            start = end;
        }
        decided.naming = naming;
        decided.typed = typed;
        decided.covered = covered;
        decided.covering = covering;
    }
}

/// `i` as a `u32`: a statement's resources, and a user's scoped statements, are far fewer.
fn index(i: usize) -> u32 {
    u32::try_from(i).expect("fewer than 2^32 statements and resources")
}

/// How the scoped statement `i` of `gathered` adds bits to a word's sets: to its effect's
/// set on its side (or both), and to the changed one when on a changed route.
fn scoped_adder(gathered: &Gathered<'_>, i: usize) -> impl Fn(&mut [u64; 6], u64) {
    let (sides, statement, on_changed) = gathered.scoped[i];
    let effect = usize::from(statement.effect == Effect::Deny);
    move |set: &mut [u64; 6], bits: u64| {
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
    }
}

/// One key's decision under deny-wins, word by word over the elements asked on it: the
/// elements lost, gained, kept (allowed on both sides through other paths) and unchanged.
/// Scratch reused from key to key, so that deciding a key allocates nothing; only the words
/// where `asked` holds a bit are computed (every list is within `asked`).
pub(super) struct Decided {
    asked: Vec<u64>,
    /// Per list (`[lost, kept, gained]`), its non-empty words (word, bits), ascending, in the
    /// first `listed` entries: written in place as each word is decided (as many entries as
    /// the sets have words, so that a word is written without a branch or a bound to grow).
    lists: [Vec<(usize, u64)>; 3],
    listed: [usize; 3],
    /// The unchanged pairs of the key.
    unchanged: usize,
    /// Per word, the sets a key starts from: those of `*`, with the typed statements that
    /// cover the key added: allow before and after, deny before and after, changed allow and
    /// deny (`2 * effect + side`, then `4 + effect`).
    base: Vec<[u64; 6]>,
    /// Per word asked, the key's sets (`base`'s, with the statements naming the key added).
    sets: Vec<[u64; 6]>,
    /// The words where `asked` holds a bit: the only ones the lists hold bits in.
    words: Vec<usize>,
    /// Scratch of [`Gathered::scoped_keys`]: the (resource id, scoped statement, resource)
    /// naming pairs, the typed (resource id, scoped statement, resource) triples, whether each
    /// typed one covers the current key, and the statements counting on a key.
    naming: Vec<(u32, u32, u32)>,
    typed: Vec<(u32, u32, u32)>,
    covered: Vec<bool>,
    covering: Vec<usize>,
}

/// Keys' decisions counted: the pairs lost, kept, gained and unchanged, and the elements of
/// the lost, kept and gained lists, over every key.
struct Tally {
    counts: [usize; 4],
    lists: [Vec<u64>; 3],
}

impl Tally {
    /// Counts and unites a key's decision.
    fn add(&mut self, decided: &Decided) {
        for (slot, list) in self.lists.iter_mut().enumerate() {
            for &(w, bits) in decided.list(slot) {
                list[w] |= bits;
                self.counts[slot] += ones(bits);
            }
        }
        self.counts[3] += decided.unchanged;
    }
}

impl Decided {
    fn new(words: usize) -> Decided {
        let list = || vec![(0, 0); words];
        Decided {
            asked: vec![0; words],
            lists: [list(), list(), list()],
            listed: [0; 3],
            unchanged: 0,
            base: vec![[0; 6]; words],
            sets: vec![[0; 6]; words],
            words: Vec::new(),
            naming: Vec::new(),
            typed: Vec::new(),
            covered: Vec::new(),
            covering: Vec::new(),
        }
    }

    /// A list (`[lost, kept, gained]`'s `slot`) of the key last decided: (word, bits),
    /// ascending, non-empty.
    fn list(&self, slot: usize) -> &[(usize, u64)] {
        &self.lists[slot][..self.listed[slot]]
    }

    /// Asks nothing (clears the words the last key asked).
    fn clear(&mut self) {
        for &w in &self.words {
            self.asked[w] = 0;
        }
        self.words.clear();
    }

    /// Asks every element of `mask` (the `*` key), whose non-empty words are `held`.
    fn ask_all(&mut self, mask: &[u64], held: &[usize]) {
        self.asked.copy_from_slice(mask);
        self.words.extend_from_slice(held);
    }

    /// Asks the elements of `mask` (non-empty in the words `held`) that `statement` covers:
    /// its few elements one by one, or its words. [`Decided::settle`] then lists the words
    /// asked.
    fn ask(&mut self, statement: &StatementNode, mask: &[u64], held: &[usize]) {
        match &statement.few {
            Some(few) => {
                for e in few.iter().map(|e| e.index()) {
                    if let (Some(a), Some(&m)) = (self.asked.get_mut(e / 64), mask.get(e / 64)) {
                        *a |= m & 1 << (e % 64);
                    }
                }
            }
            None => or_held(&mut self.asked, statement.actions.words(), mask, held),
        }
    }

    /// Lists the words asked (after [`Decided::clear`] and the keys' [`Decided::ask`]), among
    /// the mask's non-empty words `held` (every word asked is one).
    fn settle(&mut self, held: &[usize]) {
        // Without a branch per word: about half the words are asked, unpredictably.
        self.words.clear();
        let mut listed = 0;
        if is_sparse(held, self.asked.len()) {
            self.words.resize(held.len(), 0);
            for &w in held {
                self.words[listed] = w;
                listed += usize::from(self.asked[w] != 0);
            }
        } else {
            self.words.resize(self.asked.len(), 0);
            for (w, &asked) in self.asked.iter().enumerate() {
                self.words[listed] = w;
                listed += usize::from(asked != 0);
            }
        }
        self.words.truncate(listed);
    }

    /// Starts `base` from the `*` sets of `gathered`, in the words it holds (the only ones
    /// read: every word asked is one).
    fn start(&mut self, gathered: &Gathered<'_>) {
        if is_sparse(&gathered.held, self.base.len()) {
            for &w in &gathered.held {
                self.base[w] = gathered.sets_at(w);
            }
        } else {
            for (w, base) in self.base.iter_mut().enumerate() {
                *base = gathered.sets_at(w);
            }
        }
    }

    /// Adds the scoped statement `i` of `gathered` to `base`, within `mask`.
    fn add_to_base(&mut self, gathered: &Gathered<'_>, i: usize, mask: &[u64]) {
        let base = &mut self.base;
        let add = scoped_adder(gathered, i);
        match &gathered.scoped[i].1.few {
            Some(few) => {
                for e in few.iter().map(|e| e.index()) {
                    if let (Some(set), Some(&m)) = (base.get_mut(e / 64), mask.get(e / 64)) {
                        add(set, m & 1 << (e % 64));
                    }
                }
            }
            None => {
                let bits = gathered.scoped[i].1.actions.words();
                if is_sparse(&gathered.held, mask.len()) {
                    for &w in &gathered.held {
                        add(&mut base[w], bits.get(w).map_or(0, |b| b & mask[w]));
                    }
                } else {
                    for ((set, &b), &m) in base.iter_mut().zip(bits).zip(mask) {
                        add(set, b & m);
                    }
                }
            }
        }
    }

    /// Decides the words asked, from `base` and the `covering` scoped statements of
    /// `gathered` (indexes into its `scoped`). Their bits are added whole: every list is
    /// within `asked`, itself within the mask, so that bits outside it count nowhere.
    fn decide(&mut self, gathered: &Gathered<'_>, covering: &[usize]) {
        for &w in &self.words {
            self.sets[w] = self.base[w];
        }
        for &i in covering {
            let add = scoped_adder(gathered, i);
            let (sets, asked) = (&mut self.sets, &self.asked);
            // Bits outside the words asked would be dropped: only the words asked are added.
            match &gathered.scoped[i].1.few {
                Some(few) => {
                    for e in few.iter().map(|e| e.index()) {
                        let w = e / 64;
                        if asked.get(w).is_some_and(|&a| a != 0) {
                            add(&mut sets[w], 1 << (e % 64));
                        }
                    }
                }
                None => {
                    let bits = gathered.scoped[i].1.actions.words();
                    for &w in &self.words {
                        add(&mut sets[w], bits.get(w).copied().unwrap_or(0));
                    }
                }
            }
        }
        // Each word's lists are written at their next entry, which moves on only when the
        // word holds bits: `self.words` ascend ([`Decided::ask_all`], [`Decided::settle`]), so
        // do the lists'.
        let (sets, asked) = (&self.sets, &self.asked);
        let mut listed = [0; 3];
        let mut unchanged_pairs = 0;
        for &w in &self.words {
            let [allow_before, allow_after, deny_before, deny_after, changed_allow, changed_deny] =
                sets[w];
            let asked = asked[w];
            let was = allow_before & !deny_before;
            let now = allow_after & !deny_after;
            let covered = allow_before | deny_before;
            let lost = was & !now & asked;
            let gained = now & !was & asked;
            let kept = was & now & changed_allow & asked;
            let unchanged =
                covered & asked & !lost & !gained & !kept & !changed_allow & !changed_deny;
            for ((list, at), bits) in self
                .lists
                .iter_mut()
                .zip(&mut listed)
                .zip([lost, kept, gained])
            {
                list[*at] = (w, bits);
                *at += usize::from(bits != 0);
            }
            unchanged_pairs += ones(unchanged);
        }
        self.listed = listed;
        self.unchanged = unchanged_pairs;
    }

    /// Records the decision on `key` in `sides` (for a full report's entries): each list's
    /// non-empty words, ascending, and the unchanged count.
    fn record<'o>(&self, key: &'o ResourcePattern, sides: &mut Sides<'o>) {
        let mut lists: [Range<usize>; 3] = Default::default();
        let mut counts = [0; 3];
        for (slot, range) in lists.iter_mut().enumerate() {
            let start = sides.words.len();
            sides.words.extend_from_slice(self.list(slot));
            *range = start..sides.words.len();
            counts[slot] = self.list(slot).iter().map(|&(_, bits)| ones(bits)).sum();
        }
        sides.unchanged += self.unchanged;
        sides.keys.push(KeyDecision { key, lists, counts });
    }
}

/// Every resource key a user's touched elements are asked on, decided word by word; `*`
/// first, then the others sorted.
pub(super) struct Sides<'o> {
    pub(super) keys: Vec<KeyDecision<'o>>,
    /// The keys' lists: (word, bits), each list's words ascending and non-empty.
    words: Vec<(usize, u64)>,
    /// The unchanged pairs, over every key.
    unchanged: usize,
    /// How many words the sets of the user's mask have.
    pub(super) width: usize,
}

impl Sides<'_> {
    /// A key's list (`keys[key]`): (word, bits), ascending.
    pub(super) fn list(&self, key: usize, class: Class) -> &[(usize, u64)] {
        &self.words[self.keys[key].lists[slot(class)].clone()]
    }

    /// How many elements a key's list holds.
    pub(super) fn count(&self, key: usize, class: Class) -> usize {
        self.keys[key].counts[slot(class)]
    }

    /// How many elements a list holds over every key (pairs).
    pub(super) fn total(&self, class: Class) -> usize {
        self.keys.iter().map(|d| d.counts[slot(class)]).sum()
    }

    /// The elements of a key's list, ascending.
    pub(super) fn elements(&self, key: usize, class: Class) -> impl Iterator<Item = usize> + '_ {
        self.list(key, class)
            .iter()
            .flat_map(|&(w, bits)| bits_of(w, bits))
    }

    /// The elements of `classes`' lists over every key, as one set (in a spare word vector:
    /// hand it back with [`spare`] once done).
    pub(super) fn union(&self, classes: &[Class]) -> BitSet {
        let mut union = zeroed(self.width);
        for key in 0..self.keys.len() {
            for &class in classes {
                for &(w, bits) in self.list(key, class) {
                    union[w] |= bits;
                }
            }
        }
        BitSet::from_words(union)
    }
}

/// A list's place in a `[lost, kept, gained]` triple.
pub(super) fn slot(class: Class) -> usize {
    match class {
        Class::Lost => 0,
        Class::Kept => 1,
        Class::Gained => 2,
    }
}

impl Org {
    /// Judges a user's touched elements word by word ([`Sides`], under deny-wins with no
    /// replaced document): counts, and for a full report gathers each list's paths per key
    /// from the statements, with no pair judged one by one. Answers whether `depth` stops
    /// here (the user changes, and only that was asked).
    pub(super) fn judge_sides<'o>(
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
            judged.counts.lost += sides.total(Class::Lost);
            judged.counts.gained += sides.total(Class::Gained);
            judged.counts.kept += sides.total(Class::Kept);
            if depth == Depth::FullUnlessChanged && judged.changes_access() {
                return true;
            }
            self.entries_of_sides(&sides, before, after, judged);
            judged.unchanged_count += sides.unchanged;
        } else {
            let (lists, unchanged) = self.side_counts(user, before, after, mask, judged);
            let changed = judged.counts.lost > 0 || judged.counts.gained > 0;
            let stop = depth == Depth::FirstChange && changed;
            if !stop {
                judged.count_lists(&lists);
                judged.unchanged_count += unchanged;
            }
            lists.into_iter().for_each(spare);
            if stop {
                return true;
            }
        }
        false
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
    pub(super) fn sides<'o>(
        &'o self,
        user: UserIx,
        before: (&[Route], &'o Overlay),
        after: (&[Route], &'o Overlay),
        mask: &BitSet,
    ) -> Sides<'o> {
        let gathered = self.gather_sides(user, before, after, mask);
        let words = mask.words().len();
        let mut sides = Sides {
            keys: recycled(KEYS.with(take)),
            words: SIDE_WORDS.with(take),
            unchanged: 0,
            width: words,
        };
        DECIDED.with_borrow_mut(|decided| {
            if decided.asked.len() != words {
                *decided = Decided::new(words);
            }
            gathered.decide_keys(mask, decided, &mut |key, decided| {
                decided.record(key, &mut sides);
            });
        });
        sides
    }

    /// [`Org::sides`] counted, not kept (the cheaper depths): adds the pairs lost, kept and
    /// gained over every key to `judged`'s counts, and answers the elements of each list
    /// over every key (`[lost, kept, gained]`, as words, in spare word vectors: hand them
    /// back with [`spare`] once read) and the unchanged pairs.
    pub(super) fn side_counts<'o>(
        &'o self,
        user: UserIx,
        before: (&[Route], &'o Overlay),
        after: (&[Route], &'o Overlay),
        mask: &BitSet,
        judged: &mut Judged<'o>,
    ) -> ([Vec<u64>; 3], usize) {
        let gathered = self.gather_sides(user, before, after, mask);
        let words = mask.words().len();
        let mut tally = Tally {
            counts: [0; 4],
            lists: [zeroed(words), zeroed(words), zeroed(words)],
        };
        DECIDED.with_borrow_mut(|decided| {
            if decided.asked.len() != words {
                *decided = Decided::new(words);
            }
            gathered.decide_keys(mask, decided, &mut |_, decided| tally.add(decided));
        });
        let Tally { counts, lists } = tally;
        judged.counts.lost += counts[0];
        judged.counts.kept += counts[1];
        judged.counts.gained += counts[2];
        (lists, counts[3])
    }

    /// The routes of `user` under `ov` ([`Org::routes`]) through the carriers `overlay`
    /// touches (all of them when `overlay` has no carriers marked): every route
    /// `route_changed` finds changed is among them, and they are all [`Org::gather_sides`]
    /// reads of a side, so that [`Org::touched`] and [`Org::side_counts`] answer from them as
    /// from every route.
    pub(super) fn touched_routes(
        &self,
        user: UserIx,
        ov: &Overlay,
        overlay: &Overlay,
    ) -> Vec<Route> {
        match overlay.carriers.as_deref() {
            Some(carriers) => self.routes_through(user, ov, |carrier| {
                !untouched(user, carrier, overlay, carriers)
            }),
            None => self.routes(user, ov),
        }
    }

    /// The `*` sets of a user's routes on both sides and the scoped statements the other
    /// keys need: [`Org::sides`]'s first step.
    pub(super) fn gather_sides<'o>(
        &'o self,
        user: UserIx,
        (before, baseline): (&[Route], &'o Overlay),
        (after, overlay): (&[Route], &'o Overlay),
        mask: &BitSet,
    ) -> Gathered<'o> {
        let words = mask.words().len();
        // Only the mask's elements are ever asked: the sets are gathered in its words alone,
        // and, when the mask is sparse, a scoped statement that covers none of them is left
        // out (the keys it alone names would ask nothing, and on any other key it adds
        // nothing within the mask). A dense mask meets nearly every statement: not tested.
        let held = held_words(mask.words());
        let sparse = is_sparse(&held, words);
        let summary = if sparse { mask.word_summary() } else { 0 };
        let in_mask =
            |statement: &StatementNode| !sparse || meets(statement, mask.words(), summary);
        // On `*`, per word: [allow, deny] per side, changed [allow, deny] and, for a route the
        // change leaves alone (on both sides with the same statements, no document being
        // replaced here: walked once, from the side before, for both), common [allow, deny].
        // The scoped statements (side, or `None` for both, statement, on a changed route) are
        // kept for the other keys.
        let mut sets = SETS_SPARES.with(take);
        sets.resize(words, [0; SETS]);
        let mut or =
            |slot: usize, bits: &[u64]| or_slot(&mut sets, slot, bits, mask.words(), &held);
        // A spare list of the worker's, with room for as many as the last user's
        // (`SCOPED_HINT`), rather than grown push by push.
        let mut scoped: Vec<(Option<usize>, &'o StatementNode, bool)> = recycled(SCOPED.with(take));
        scoped.reserve(SCOPED_HINT.get());
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
        let untouched = |carrier: Carrier| untouched(user, carrier, overlay, carriers);
        // The user's carriers the change leaves alone: a route through one is the same on both
        // sides (`untouched`), so that it need not be checked route by route.
        let mut alone = ALONE.with(take);
        for (carrier, set) in self.own_carriers(user) {
            if !untouched(carrier) {
                continue;
            }
            alone.push(carrier);
            let (set_allow, set_deny) = self.folded_set(set);
            or(COMMON, set_allow);
            or(COMMON + 1, set_deny);
            scoped.extend(
                self.folded_scoped(set)
                    .iter()
                    .map(|&s| (None, &self.statement_nodes()[s], false))
                    .filter(|&(_, statement, _)| in_mask(statement)),
            );
        }
        for (side, routes, ov) in [(0, before, baseline), (1, after, overlay)] {
            // A carrier's routes are adjacent: each asked once.
            let mut last: Option<(Carrier, bool)> = None;
            for route in routes {
                // A route through a carrier left alone is read from its pre-folded set above.
                // (A carrier the user has only after the change is not among them.)
                let carrier = Carrier::of(route);
                let left_alone = match last {
                    Some((c, left_alone)) if c == carrier => left_alone,
                    _ => alone.contains(&carrier),
                };
                last = Some((carrier, left_alone));
                if left_alone {
                    continue;
                }
                let on_changed = self.route_changed(user, route, overlay);
                if side == 1 && !on_changed {
                    continue;
                }
                let sides = on_changed.then_some(side);
                for s in self.policy_statements(route.policy, ov) {
                    let statement = self.statement(s, ov);
                    if statement.scoped && in_mask(statement) {
                        scoped.push((sides, statement, on_changed));
                    }
                    if statement.any_resource {
                        let effect = usize::from(statement.effect == Effect::Deny);
                        let slot = if on_changed {
                            2 * effect + side
                        } else {
                            COMMON + effect
                        };
                        or(slot, statement.actions.words());
                        if on_changed {
                            or(4 + effect, statement.actions.words());
                        }
                    }
                }
            }
        }
        // The common sets added to both sides (each already within the mask).
        let add_common = |set: &mut [u64; SETS]| {
            let [allow, deny] = [set[COMMON], set[COMMON + 1]];
            set[0] |= allow;
            set[1] |= allow;
            set[2] |= deny;
            set[3] |= deny;
        };
        if is_sparse(&held, words) {
            held.iter().for_each(|&w| add_common(&mut sets[w]));
        } else {
            sets.iter_mut().for_each(add_common);
        }
        ALONE.with(|spares| give(spares, alone));
        SCOPED_HINT.set(scoped.len());
        Gathered { sets, scoped, held }
    }
}

thread_local! {
    /// Per worker, spare lists of the carriers [`Org::gather_sides`] finds left alone.
    static ALONE: Spares<Carrier> = const { RefCell::new(Vec::new()) };
    /// Per worker, spare lists of [`Gathered`]'s scoped statements.
    static SCOPED: Spares<(Option<usize>, &'static StatementNode, bool)> =
        const { RefCell::new(Vec::new()) };
    /// Per worker, spare per-word sets of [`Gathered`].
    static SETS_SPARES: Spares<[u64; SETS]> = const { RefCell::new(Vec::new()) };
    /// Per worker, spare lists of a mask's non-empty words ([`Gathered`]'s).
    static HELD: Spares<usize> = const { RefCell::new(Vec::new()) };
    /// Per worker, how many scoped statements the last user gathered: the next user's room.
    static SCOPED_HINT: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    /// Per worker, spare word vectors (a touched mask, a lists' union, counted lists):
    /// zeroed, they cost a memset instead of an allocation.
    static WORDS: Spares<u64> = const { RefCell::new(Vec::new()) };
}

/// A vector of `words` zero words: a spare one when the worker has one.
pub(super) fn zeroed(words: usize) -> Vec<u64> {
    let mut zeroed = WORDS.with(take);
    zeroed.resize(words, 0);
    zeroed
}

/// Keeps a word vector for the worker's next [`zeroed`].
pub(super) fn spare(words: Vec<u64>) {
    WORDS.with(|spares| give(spares, words));
}

impl Drop for Gathered<'_> {
    fn drop(&mut self) {
        SETS_SPARES.with(|spares| give(spares, std::mem::take(&mut self.sets)));
        HELD.with(|spares| give(spares, std::mem::take(&mut self.held)));
        let scoped = recycled(std::mem::take(&mut self.scoped));
        SCOPED.with(|spares| give(spares, scoped));
    }
}

thread_local! {
    /// Per worker, spare word lists of [`Sides`]: reused, they grow once per worker rather
    /// than push by push for every user.
    static SIDE_WORDS: Spares<(usize, u64)> = const { RefCell::new(Vec::new()) };
    /// Per worker, spare lists of [`Sides`]' keys.
    static KEYS: Spares<KeyDecision<'static>> = const { RefCell::new(Vec::new()) };
}

impl Drop for Sides<'_> {
    fn drop(&mut self) {
        SIDE_WORDS.with(|spares| give(spares, std::mem::take(&mut self.words)));
        KEYS.with(|spares| give(spares, recycled(std::mem::take(&mut self.keys))));
    }
}

thread_local! {
    /// Per worker, the scratch [`Org::sides`] and [`Org::side_counts`] decide keys in, reused
    /// from user to user (a user's decision leaves only the words of its last key set, which
    /// the next clears).
    static DECIDED: RefCell<Decided> = RefCell::new(Decided::new(0));
}

/// Whether `overlay` leaves `carrier` of `user` alone: it is not marked in `carriers`, and
/// the user's own edge to it is unchanged. Its routes are then the same on both sides, with
/// the same statements (no document is replaced where sides are judged word by word).
pub(super) fn untouched(
    user: UserIx,
    carrier: Carrier,
    overlay: &Overlay,
    carriers: &Carriers,
) -> bool {
    let edge_changed =
        |edge: Edge| overlay.removed.contains(&edge) || overlay.added.contains(&edge);
    match carrier {
        Carrier::Group(group) => {
            !carriers.groups[group.index()] && !edge_changed(Edge::Member { user, group })
        }
        Carrier::Role(role) => {
            !carriers.roles[role.index()] && !edge_changed(Edge::UserRole { user, role })
        }
        Carrier::Policy(policy) => {
            !carriers.policies[policy.index()] && !edge_changed(Edge::UserPolicy { user, policy })
        }
    }
}

/// The bits set in a word.
pub(super) fn ones(word: u64) -> usize {
    // At most 64: the conversion cannot fail.
    usize::try_from(word.count_ones()).unwrap_or(64)
}

/// The non-empty words of `mask`, ascending (in a spare vector of the worker's, handed back
/// when the [`Gathered`] holding it is dropped).
fn held_words(mask: &[u64]) -> Vec<usize> {
    let mut held = HELD.with(take);
    held.extend((0..mask.len()).filter(|&w| mask[w] != 0));
    held
}

/// Whether a mask whose non-empty words are `held`, of `words` words, holds few enough of them
/// that walking those alone beats a (vectorized) pass over every word.
fn is_sparse(held: &[usize], words: usize) -> bool {
    2 * held.len() < words
}

/// How many sets [`Gathered`] keeps per word: `Decided::base`'s six, then the common allow and
/// deny (at [`COMMON`] and after).
const SETS: usize = 8;

/// Where [`Gathered`]'s common allow set is in a word's sets (its deny follows).
const COMMON: usize = 6;

/// `sets[w][slot] |= bits[w] & mask[w]` in the words `held` (the mask's non-empty ones): over
/// every word when the mask holds most of them, else only those held ([`or_held`] for one of
/// a word's side-by-side sets).
fn or_slot(sets: &mut [[u64; SETS]], slot: usize, bits: &[u64], mask: &[u64], held: &[usize]) {
    if !is_sparse(held, mask.len()) {
        for ((set, bit), m) in sets.iter_mut().zip(bits).zip(mask) {
            set[slot] |= bit & m;
        }
        return;
    }
    for &w in held {
        if let Some(&b) = bits.get(w) {
            sets[w][slot] |= b & mask[w];
        }
    }
}

/// `into |= bits & mask` in the words `held` (the mask's non-empty ones): word by word over
/// all of them when the mask holds most words (a loop the compiler vectorizes), else only
/// those held.
fn or_held(into: &mut [u64], bits: &[u64], mask: &[u64], held: &[usize]) {
    if !is_sparse(held, mask.len()) {
        for ((word, bit), m) in into.iter_mut().zip(bits).zip(mask) {
            *word |= bit & m;
        }
        return;
    }
    for &w in held {
        if let Some(&b) = bits.get(w) {
            into[w] |= b & mask[w];
        }
    }
}
