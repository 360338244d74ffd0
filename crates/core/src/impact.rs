//! Building an [`Impact`] from users judged one by one: pairs grouped into entries by resource
//! and paths, and entries, paths and actions interned so that each is built and written once.
//!
//! Judging (in `simulate.rs`, on as many threads as the caller lends) yields a [`Judged`] per
//! user: the changed (action, resource) pairs with the set of statements behind each, by route
//! and statement index, but no strings and no paths. The [`Interner`] then walks the users in
//! report order, on one thread, so that ids are given in order of first reference and the
//! bytes do not depend on the thread count.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};

use crate::eval::{Hit, Route};
use crate::org::Org;
use crate::overlay::Overlay;
use crate::policy::ResourcePattern;
use crate::report::{
    ActionId, ActionSummary, Assumable, EntryId, GroupedEntry, Impact, ImpactSummary, PairCounts,
    Path, PathId, Step, UserImpact, SCHEMA_VERSION,
};

/// A small fast hasher (the rustc "Fx" mix) for the interning maps, whose keys are short runs
/// of integers. Ids never depend on it: they are given in report order.
#[derive(Debug, Default, Clone, Copy)]
struct Fx(u64);

impl Fx {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for Fx {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
    }
    fn write_u8(&mut self, n: u8) {
        self.add(u64::from(n));
    }
    fn write_u32(&mut self, n: u32) {
        self.add(u64::from(n));
    }
    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }
    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<Fx>>;

fn fx_hash(value: &impl Hash) -> u64 {
    let mut hasher = Fx::default();
    value.hash(&mut hasher);
    hasher.finish()
}

/// Which list of a user's impact a pair goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Class {
    Lost,
    Kept,
    Gained,
}

/// A statement as a path names it: the route to its policy and its index in the document. A
/// replaced document's statement at the same index is the same path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct PathKey {
    route: Route,
    index: u32,
}

/// No path set: a pair counted but not kept (the cheaper depths).
const NO_SET: u32 = u32::MAX;

/// One changed pair: its list, resource key, path set (an index into [`Judged::sets`]) and
/// universe element. Sorted, consecutive pairs of one (class, key, set) form one entry.
type Pair<'o> = (Class, &'o ResourcePattern, u32, u32);

/// One user's impact, judged but not yet interned.
#[derive(Debug)]
pub(crate) struct Judged<'o> {
    pub(crate) user: u32,
    pub(crate) counts: PairCounts,
    pairs: Vec<Pair<'o>>,
    /// The distinct path sets of this user's pairs, each sorted.
    sets: Vec<Vec<PathKey>>,
    /// Sets by the hash of their content; equal hashes are told apart by comparison.
    index: FxMap<u64, Vec<u32>>,
    scratch: Vec<PathKey>,
    pub(crate) assumable_lost: Vec<Assumable>,
    pub(crate) assumable_gained: Vec<Assumable>,
    pub(crate) unchanged_count: usize,
    pub(crate) note: Option<String>,
}

impl<'o> Judged<'o> {
    pub(crate) fn new(user: u32) -> Judged<'o> {
        Judged {
            user,
            counts: PairCounts::default(),
            pairs: Vec::new(),
            sets: Vec::new(),
            index: FxMap::default(),
            scratch: Vec::new(),
            assumable_lost: Vec::new(),
            assumable_gained: Vec::new(),
            unchanged_count: 0,
            note: None,
        }
    }

    /// Whether the change does nothing to this user.
    pub(crate) fn is_empty(&self) -> bool {
        self.pairs.is_empty()
            && self.counts == PairCounts::default()
            && self.assumable_lost.is_empty()
            && self.assumable_gained.is_empty()
    }

    /// Records one changed pair, with the paths of `hits` when `keep` is set.
    pub(crate) fn push(
        &mut self,
        org: &Org,
        class: Class,
        key: &'o ResourcePattern,
        element: u32,
        (hits, overlay): (&[Hit], &Overlay),
        keep: bool,
    ) {
        let set = if keep {
            self.scratch.clear();
            self.scratch.extend(hits.iter().map(|hit| PathKey {
                route: hit.route,
                index: org.statement(hit.statement, overlay).index,
            }));
            self.scratch.sort_unstable();
            // Neighbouring elements are often covered by the same statements.
            match self.pairs.last() {
                Some(&(_, _, last, _))
                    if last != NO_SET && self.sets[last as usize] == self.scratch =>
                {
                    last
                }
                _ => {
                    let ids = self.index.entry(fx_hash(&self.scratch)).or_default();
                    match ids
                        .iter()
                        .find(|&&id| self.sets[id as usize] == self.scratch)
                    {
                        Some(&id) => id,
                        None => {
                            let id = self.sets.len() as u32;
                            self.sets.push(self.scratch.clone());
                            ids.push(id);
                            id
                        }
                    }
                }
            }
        } else {
            NO_SET
        };
        self.pairs.push((class, key, set, element));
    }
}

/// Gives entries and actions their ids (entries in order of first reference, actions in name
/// order) and paths theirs (in path order).
pub(crate) struct Interner<'a> {
    org: &'a Org,
    /// Per universe element (the overlay's extras included), its action id, if reported.
    action_ids: Vec<u32>,
    actions: Vec<ActionSummary>,
    /// Paths in order of first reference, renumbered in path order at the end.
    paths: Vec<Path>,
    path_ids: FxMap<PathKey, PathId>,
    entries: Vec<GroupedEntry>,
    /// Entries by the hash of their content; equal hashes are told apart by comparison.
    entry_ids: FxMap<u64, Vec<EntryId>>,
}

const UNREPORTED: u32 = u32::MAX;

impl<'a> Interner<'a> {
    /// An interner for the users of one report, in report order. The action table is built
    /// here, from every element the users' pairs name, sorted by name; `overlay` knows the
    /// extra elements a replaced document names.
    pub(crate) fn new(org: &'a Org, overlay: &'a Overlay, users: &[Judged]) -> Interner<'a> {
        let elements = org.universe.len() + overlay.extra_elements.len();
        let mut seen = vec![false; elements];
        for judged in users {
            for &(_, _, _, element) in &judged.pairs {
                seen[element as usize] = true;
            }
        }
        let mut named: Vec<u32> = (0..elements as u32).filter(|&e| seen[e as usize]).collect();
        named.sort_by(|&a, &b| org.element(a, overlay).cmp(org.element(b, overlay)));
        let mut action_ids = vec![UNREPORTED; elements];
        let mut actions = Vec::with_capacity(named.len());
        for (id, &element) in named.iter().enumerate() {
            action_ids[element as usize] = id as u32;
            actions.push(ActionSummary {
                action: org.element(element, overlay).to_string(),
                lost: 0,
                kept: 0,
                gained: 0,
            });
        }
        Interner {
            org,
            action_ids,
            actions,
            paths: Vec::new(),
            path_ids: FxMap::default(),
            entries: Vec::new(),
            entry_ids: FxMap::default(),
        }
    }

    /// The report: each user's pairs grouped into shared entries, in the order given.
    pub(crate) fn finish(mut self, users: Vec<Judged>, keep: bool) -> Impact {
        let mut summary = ImpactSummary::default();
        // Per action and list, the last user counted (plus one), so each user counts once.
        let mut last = vec![[0usize; 3]; self.actions.len()];
        let mut reported = Vec::with_capacity(users.len());
        for (n, mut judged) in users.into_iter().enumerate() {
            summary.users_affected += 1;
            let counts = judged.counts;
            summary.pairs.lost += counts.lost;
            summary.pairs.kept += counts.kept;
            summary.pairs.gained += counts.gained;
            summary.users_losing +=
                usize::from(counts.lost > 0 || !judged.assumable_lost.is_empty());
            summary.users_gaining +=
                usize::from(counts.gained > 0 || !judged.assumable_gained.is_empty());
            for &(class, _, _, element) in &judged.pairs {
                let action = self.action_ids[element as usize] as usize;
                if last[action][class as usize] != n + 1 {
                    last[action][class as usize] = n + 1;
                    let counter = match class {
                        Class::Lost => &mut self.actions[action].lost,
                        Class::Kept => &mut self.actions[action].kept,
                        Class::Gained => &mut self.actions[action].gained,
                    };
                    *counter += 1;
                }
            }
            let mut user = UserImpact {
                user: self.org.user_summary(judged.user),
                counts,
                assumable_lost: std::mem::take(&mut judged.assumable_lost),
                assumable_gained: std::mem::take(&mut judged.assumable_gained),
                unchanged_count: judged.unchanged_count,
                note: judged.note.take(),
                ..UserImpact::default()
            };
            if keep {
                self.entries_of(&mut judged, &mut user);
            }
            reported.push(user);
        }
        self.sort_paths();
        Impact {
            schema_version: SCHEMA_VERSION,
            changes: Vec::new(),
            summary,
            users: reported,
            actions: self.actions,
            entries: self.entries,
            paths: self.paths,
        }
    }

    /// Groups one user's pairs into entries and files them under lost, kept and gained.
    ///
    /// Ids follow content, never the organization's dense indexes: entries are interned in
    /// the order the user's lists sort in (first action, then resource), and an entry's paths
    /// in path order, so two snapshots that list the same organization in another order give
    /// the same bytes.
    fn entries_of(&mut self, judged: &mut Judged, user: &mut UserImpact) {
        judged.pairs.sort_unstable();
        let pairs = &judged.pairs;
        let mut runs: Vec<(Class, Vec<ActionId>, String, u32)> = Vec::new();
        let mut start = 0;
        while start < pairs.len() {
            let (class, key, set, _) = pairs[start];
            let end = start
                + pairs[start..]
                    .iter()
                    .take_while(|p| (p.0, p.1, p.2) == (class, key, set))
                    .count();
            let mut actions: Vec<ActionId> = pairs[start..end]
                .iter()
                .map(|p| ActionId(self.action_ids[p.3 as usize]))
                .collect();
            actions.sort_unstable();
            runs.push((class, actions, key.to_string(), set));
            start = end;
        }
        // As the one-entry-per-action lists sort: by (first) action, then resource.
        runs.sort_by(|a, b| (a.0, a.1[0], &a.2).cmp(&(b.0, b.1[0], &b.2)));
        for (class, actions, resource, set) in runs {
            // Sorted by first-reference id for now: a canonical form of the set, made path
            // order when the paths are renumbered (`sort_paths`).
            let mut via: Vec<PathId> = judged.sets[set as usize]
                .iter()
                .map(|&key| self.path(key))
                .collect();
            via.sort_unstable();
            let id = self.entry(GroupedEntry {
                actions,
                resource,
                via,
            });
            match class {
                Class::Lost => user.lost.push(id),
                Class::Kept => user.kept.push(id),
                Class::Gained => user.gained.push(id),
            }
        }
        judged.pairs = Vec::new();
        judged.sets = Vec::new();
    }

    /// The id of the path a key names, built on first reference.
    fn path(&mut self, key: PathKey) -> PathId {
        if let Some(&id) = self.path_ids.get(&key) {
            return id;
        }
        let org = self.org;
        let route = key.route;
        let mut path = Vec::with_capacity(4);
        if let Some(group) = route.group {
            path.push(org.steps.groups[group as usize].clone());
        }
        if let Some(role) = route.role {
            path.push(org.steps.roles[role as usize].clone());
        }
        path.push(org.steps.policies[route.policy as usize].clone());
        path.push(Step::statement(key.index));
        let id = PathId(self.paths.len() as u32);
        self.paths.push(path);
        self.path_ids.insert(key, id);
        id
    }

    /// Renumbers the paths in path order, so that the table is sorted and each entry's paths,
    /// sorted by id, are sorted by path; ids then follow content alone, not the order in which
    /// the organization's indexes happened to meet them.
    fn sort_paths(&mut self) {
        let mut order: Vec<u32> = (0..self.paths.len() as u32).collect();
        order.sort_unstable_by(|&a, &b| self.paths[a as usize].cmp(&self.paths[b as usize]));
        let mut renumbered = vec![0u32; order.len()];
        for (new, &old) in order.iter().enumerate() {
            renumbered[old as usize] = new as u32;
        }
        let mut paths: Vec<Option<Path>> = std::mem::take(&mut self.paths)
            .into_iter()
            .map(Some)
            .collect();
        self.paths = order
            .iter()
            .map(|&old| paths[old as usize].take().expect("each path once"))
            .collect();
        for entry in &mut self.entries {
            for id in &mut entry.via {
                *id = PathId(renumbered[id.0 as usize]);
            }
            entry.via.sort_unstable();
        }
    }

    fn entry(&mut self, entry: GroupedEntry) -> EntryId {
        let ids = self.entry_ids.entry(fx_hash(&entry)).or_default();
        if let Some(&id) = ids.iter().find(|id| self.entries[id.0 as usize] == entry) {
            return id;
        }
        let id = EntryId(self.entries.len() as u32);
        self.entries.push(entry);
        ids.push(id);
        id
    }
}
