//! Building an [`Impact`] from users judged one by one: pairs grouped into entries by resource
//! and paths, and entries, paths and actions interned so that each is built and written once.
//!
//! Judging (in `simulate.rs`, on as many threads as the caller lends) yields a [`Judged`] per
//! user: the changed (action, resource) pairs with the set of statements behind each, by route
//! and statement index, but no strings and no paths. The [`Interner`] then walks the users in
//! report order, on one thread, so that ids are given in order of first reference and the
//! bytes do not depend on the thread count.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

use crate::eval::{Hit, Route};
use crate::org::Org;
use crate::overlay::Overlay;
use crate::policy::ResourcePattern;
use crate::report::{
    ActionId, ActionSummary, Assumable, EntryId, GroupedEntry, Impact, ImpactSummary, PairCounts,
    Path, PathId, Step, UserImpact, SCHEMA_VERSION,
};

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
    index: HashMap<Vec<PathKey>, u32>,
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
            index: HashMap::new(),
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
            match self.index.get(self.scratch.as_slice()) {
                Some(&set) => set,
                None => {
                    let set = self.sets.len() as u32;
                    self.sets.push(self.scratch.clone());
                    self.index.insert(self.scratch.clone(), set);
                    set
                }
            }
        } else {
            NO_SET
        };
        self.pairs.push((class, key, set, element));
    }
}

/// Gives entries, paths and actions their ids, in order of first reference.
pub(crate) struct Interner<'a> {
    org: &'a Org,
    /// Per universe element (the overlay's extras included), its action id, if reported.
    action_ids: Vec<u32>,
    actions: Vec<ActionSummary>,
    paths: Vec<Path>,
    path_ids: HashMap<PathKey, PathId>,
    entries: Vec<GroupedEntry>,
    /// Entries by the hash of their content; equal hashes are told apart by comparison.
    entry_ids: HashMap<u64, Vec<EntryId>>,
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
            path_ids: HashMap::new(),
            entries: Vec::new(),
            entry_ids: HashMap::new(),
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
            let mut paths: Vec<(PathKey, Path)> = judged.sets[set as usize]
                .iter()
                .map(|&key| (key, self.path_of(key)))
                .collect();
            paths.sort_by(|a, b| a.1.cmp(&b.1));
            let via = paths
                .into_iter()
                .map(|(key, path)| self.intern_path(key, path))
                .collect();
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

    /// The path a key names (from the table when it is there).
    fn path_of(&self, key: PathKey) -> Path {
        if let Some(&id) = self.path_ids.get(&key) {
            return self.paths[id.0 as usize].clone();
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
        path
    }

    fn intern_path(&mut self, key: PathKey, path: Path) -> PathId {
        if let Some(&id) = self.path_ids.get(&key) {
            return id;
        }
        let id = PathId(self.paths.len() as u32);
        self.paths.push(path);
        self.path_ids.insert(key, id);
        id
    }

    fn entry(&mut self, entry: GroupedEntry) -> EntryId {
        let mut hasher = DefaultHasher::new();
        entry.hash(&mut hasher);
        let ids = self.entry_ids.entry(hasher.finish()).or_default();
        if let Some(&id) = ids.iter().find(|id| self.entries[id.0 as usize] == entry) {
            return id;
        }
        let id = EntryId(self.entries.len() as u32);
        self.entries.push(entry);
        ids.push(id);
        id
    }
}
