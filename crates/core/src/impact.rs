//! Building an [`Impact`] from users judged one by one: pairs grouped into entries by resource
//! and paths, and paths and actions interned so that each is built and written once.
//!
//! Judging (in `simulate/judge.rs` and `simulate/sides.rs`, on the caller's rayon pool, a
//! batch of users at a time) yields a [`Judged`] per user: the changed (action, resource) pairs with the set of
//! statements behind each, by route and statement index, but no strings and no paths. The
//! [`Interner`] turns each batch into compact users on one thread, dropping what judging kept,
//! so memory follows the report, not the judging; at the end it sorts the users and renumbers
//! actions and paths by content, so the bytes depend neither on the thread count nor on the
//! order the snapshot lists entities in.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::sync::Arc;

use rayon::iter::{
    IndexedParallelIterator, IntoParallelRefIterator, IntoParallelRefMutIterator, ParallelIterator,
};
use rayon::slice::{ParallelSlice, ParallelSliceMut};

use crate::bitset::{BitSet, Element, ElementIx};
use crate::eval::{Hit, Route};
use crate::idx::{Idx, IdxVec};
use crate::org::{Org, PolicyIx, StatementNode};
use crate::overlay::Overlay;
use crate::policy::ResourcePattern;
use crate::report::{
    ActionId, ActionSummary, ActiveSession, Assumable, CoverageId, GroupedEntry, Impact,
    ImpactPath, ImpactSummary, PairCounts, Path, PathId, SharedPaths, Step, StepKind, UserImpact,
    SCHEMA_VERSION,
};
use crate::simulate::USERS_PER_JOB;

/// A small fast hasher (the rustc "Fx" mix) for the interning maps, whose keys are short runs
/// of integers. Ids never depend on it: they are given in report order.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Fx(u64);

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
    fn write_u128(&mut self, n: u128) {
        // The high word first, so that the low one reaches the hash's low bits.
        self.add((n >> 64) as u64);
        self.add(n as u64);
    }
    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

pub(crate) type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<Fx>>;

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

impl Class {
    /// Its place in a `[lost, kept, gained]` triple.
    #[inline]
    fn slot(self) -> usize {
        match self {
            Class::Lost => 0,
            Class::Kept => 1,
            Class::Gained => 2,
        }
    }
}

/// An element's place among every element of the report sorted by name (the universe, then
/// an overlay's extra elements, which sort among them). Only a marker, for [`RankIx`].
pub(crate) enum Rank {}

/// An element's rank by name: before [`Interner::finish`] numbers the reported actions, an
/// entry's [`ActionId`]s are ranks (see [`provisional`]).
pub(crate) type RankIx = Idx<Rank>;

/// The provisional id of the action at `rank`, until [`Interner::finish`] renumbers it.
#[inline]
fn provisional(rank: RankIx) -> ActionId {
    ActionId(rank.raw())
}

/// The rank a provisional action id stands for.
#[inline]
fn rank_of(action: ActionId) -> RankIx {
    RankIx::from_raw(action.0)
}

/// A resource key of one user's pairs: an index into [`Judged::keys`].
enum ResourceKey {}
type KeyIx = Idx<ResourceKey>;

/// A distinct path set of one user's pairs: an index into [`Judged::sets`].
enum PathSet {}
type SetIx = Idx<PathSet>;

/// A path of one user's whole entries: an index into [`Judged::paths`], given by
/// [`Judged::add_path`].
pub(crate) enum UserPath {}
pub(crate) type UserPathIx = Idx<UserPath>;

/// A statement as a path names it: the route to its policy and its index in the document. A
/// replaced document's statement at the same index is the same path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct PathKey {
    route: Route,
    index: u32,
}

/// Hashed as four integers (group, role, policy, index), without the fields' `Option`
/// discriminants: path keys are looked up once per path of every user. The index goes last,
/// so that it reaches the hash's low bits (a table's bucket), which tell apart the statements
/// of one policy. Equal keys hash alike, as `Eq` needs.
impl Hash for PathKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // `u32::MAX` stands for no group or role (were it an index too, two keys would only
        // share a hash, which `Eq` tells apart).
        let route = self.route;
        state.write_u32(route.group.map_or(u32::MAX, |g| g.raw()));
        state.write_u32(route.role.map_or(u32::MAX, |r| r.raw()));
        state.write_u32(route.policy.raw());
        state.write_u32(self.index);
    }
}

impl PathKey {
    pub(crate) fn new(route: Route, index: u32) -> PathKey {
        PathKey { route, index }
    }
}

/// No path set: a pair counted but not kept (the cheaper depths).
const NO_SET: SetIx = SetIx::MAX;

/// One changed pair: its list, resource key, path set and universe element. Sorted (by
/// those fields in order), consecutive pairs of one (class, key, set) form one entry. All
/// integers, so sorting compares no strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Pair {
    class: Class,
    key: KeyIx,
    set: SetIx,
    element: ElementIx,
}

/// An entry gathered whole (from word-by-word decisions): list, resource key, elements
/// (ascending) and the union of their paths as ascending indexes into [`Judged::paths`] (so in path order),
/// which tells each element's own paths exactly.
#[derive(Debug)]
struct Whole {
    class: Class,
    key: KeyIx,
    elements: Vec<ElementIx>,
    via: Vec<UserPathIx>,
}

/// How many resource keys [`Judged::key`] makes room for at first.
const KEYS: usize = 16;

/// One user's impact, judged but not yet interned.
#[derive(Debug)]
pub(crate) struct Judged<'o> {
    pub(crate) user: u32,
    pub(crate) counts: PairCounts,
    pairs: Vec<Pair>,
    /// Entries gathered whole.
    groups: Vec<Whole>,
    /// The paths the whole entries refer to, each once per side, each side's in path order
    /// ([`Org::path_order`]): the interner looks each up once per user, not once per entry.
    paths: IdxVec<UserPath, PathKey>,
    /// Per list (`[lost, kept, gained]`), the paths of `paths` its whole entries share
    /// ([`SharedPaths`]), ascending.
    shared: [Vec<UserPathIx>; 3],
    /// The resource keys of this user's pairs, each once.
    keys: IdxVec<ResourceKey, &'o ResourcePattern>,
    /// The elements changed on some key, when counted without entries
    /// ([`Judged::count_lists`]): per list (`[lost, kept, gained]`, by place), its non-empty
    /// words (word, bits), ascending; empty otherwise. One short vector a user, rather than
    /// three as wide as the universe.
    counted: Vec<(u8, u32, u64)>,
    /// The distinct path sets of this user's pairs, each sorted.
    sets: IdxVec<PathSet, Vec<PathKey>>,
    /// Sets by the hash of their content; equal hashes are told apart by comparison.
    index: FxMap<u64, Vec<SetIx>>,
    scratch: Vec<PathKey>,
    pub(crate) assumable_lost: Vec<Assumable>,
    pub(crate) assumable_gained: Vec<Assumable>,
    pub(crate) sessions_continue: Vec<ActiveSession>,
    pub(crate) unchanged_count: usize,
    pub(crate) note: Option<String>,
}

impl<'o> Judged<'o> {
    pub(crate) fn new(user: u32) -> Judged<'o> {
        Judged {
            user,
            counts: PairCounts::default(),
            pairs: Vec::new(),
            groups: Vec::new(),
            paths: IdxVec::default(),
            shared: Default::default(),
            keys: IdxVec::default(),
            counted: Vec::new(),
            sets: IdxVec::default(),
            index: FxMap::default(),
            scratch: Vec::new(),
            assumable_lost: Vec::new(),
            assumable_gained: Vec::new(),
            sessions_continue: Vec::new(),
            unchanged_count: 0,
            note: None,
        }
    }

    /// Whether the change takes an access or an assumable role from this user, or gives them
    /// an access (as far as judged: [`Depth`](crate::simulate) may stop early).
    pub(crate) fn changes_access(&self) -> bool {
        self.counts.lost > 0 || self.counts.gained > 0 || !self.assumable_lost.is_empty()
    }

    /// When the user keeps a pair through paths that change (what a report lists under
    /// `kept`), the keys of every path of those pairs, each once, in path order: the paths of
    /// all the user's kept entries together. `None` when nothing is kept.
    pub(crate) fn kept_paths(&self, org: &Org) -> Option<Vec<PathKey>> {
        // Many pairs share a path set, and many wholes a path: each set and path once.
        let mut sets: Vec<SetIx> = Vec::new();
        let mut any = false;
        for pair in self.pairs.iter().filter(|p| p.class == Class::Kept) {
            any = true;
            if pair.set != NO_SET && sets.last() != Some(&pair.set) {
                sets.push(pair.set);
            }
        }
        let mut indexes: Vec<UserPathIx> = self.shared[Class::Kept.slot()].clone();
        for whole in self.groups.iter().filter(|w| w.class == Class::Kept) {
            any = true;
            indexes.extend_from_slice(&whole.via);
        }
        if !any {
            return None;
        }
        sets.sort_unstable();
        sets.dedup();
        indexes.sort_unstable();
        indexes.dedup();
        let mut keys: Vec<PathKey> = sets
            .iter()
            .flat_map(|&set| self.sets[set].iter().copied())
            .chain(indexes.iter().map(|&i| self.paths[i]))
            .collect();
        keys.sort_unstable();
        keys.dedup();
        let mut ordered: Vec<([u64; 4], PathKey)> =
            keys.iter().map(|&key| (org.path_order(key), key)).collect();
        ordered.sort_unstable();
        Some(ordered.into_iter().map(|(_, key)| key).collect())
    }

    /// Whether the change does nothing to this user.
    pub(crate) fn is_empty(&self) -> bool {
        self.pairs.is_empty()
            && self.groups.is_empty()
            && self.counts == PairCounts::default()
            && self.assumable_lost.is_empty()
            && self.assumable_gained.is_empty()
    }

    /// The index of a resource key in [`Judged::keys`] (a user has a few).
    fn key(&mut self, key: &'o ResourcePattern) -> KeyIx {
        // Entries of one key come one after the other: the last key first, by address.
        if let Some((last, &k)) = self.keys.iter().next_back() {
            if std::ptr::eq(k, key) {
                return last;
            }
        }
        if self.keys.is_empty() {
            // Room for a user's usual keys at once, rather than growing push by push.
            self.keys = IdxVec::from(Vec::with_capacity(KEYS));
        }
        let known = self
            .keys
            .iter()
            .find(|&(_, &k)| std::ptr::eq(k, key) || k == key)
            .map(|(i, _)| i);
        known.unwrap_or_else(|| self.keys.push(key))
    }

    /// Records the elements of each list (`[lost, kept, gained]`, over every key, as words),
    /// without keys or paths: what the per-action counts of the cheaper depths need.
    pub(crate) fn count_lists(&mut self, lists: &[Vec<u64>; 3]) {
        let held = |list: &Vec<u64>| list.iter().filter(|&&bits| bits != 0).count();
        self.counted.reserve_exact(lists.iter().map(held).sum());
        for (slot, list) in (0u8..).zip(lists) {
            for (w, &bits) in (0u32..).zip(list) {
                if bits != 0 {
                    self.counted.push((slot, w, bits));
                }
            }
        }
    }

    /// Room for `more` paths in the table whole entries refer to, at once.
    pub(crate) fn reserve_paths(&mut self, more: usize) {
        self.paths.reserve(more);
    }

    /// Adds a path to the table whole entries refer to, returning its index. The caller adds
    /// each side's paths in path order and refers to them in ascending order.
    pub(crate) fn add_path(&mut self, key: PathKey) -> UserPathIx {
        self.paths.push(key)
    }

    /// How many paths the table whole entries refer to holds: the index of the next one added.
    pub(crate) fn paths_len(&self) -> usize {
        self.paths.len()
    }

    /// Room for `more` whole entries, at once.
    pub(crate) fn reserve_groups(&mut self, more: usize) {
        self.groups.reserve_exact(more);
    }

    /// Records a whole entry: the elements of one list on `key`, and the union of their paths
    /// (ascending indexes into the paths added with [`Judged::add_path`], all of one side),
    /// each element's own paths being those that cover it.
    pub(crate) fn group(
        &mut self,
        class: Class,
        key: &'o ResourcePattern,
        elements: Vec<ElementIx>,
        via: Vec<UserPathIx>,
    ) {
        let key = self.key(key);
        self.groups.push(Whole {
            class,
            key,
            elements,
            via,
        });
    }

    /// Records the paths of `paths` (ascending) that every whole entry of `class` shares: each
    /// counts for every action of the list it covers, whatever its resource ([`SharedPaths`]).
    pub(crate) fn share(&mut self, class: Class, paths: Vec<UserPathIx>) {
        self.shared[class.slot()] = paths;
    }

    /// Records one changed pair, with the paths of `hits` when `keep` is set.
    pub(crate) fn push(
        &mut self,
        org: &Org,
        class: Class,
        key: &'o ResourcePattern,
        element: ElementIx,
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
                Some(&Pair { set: last, .. })
                    if last != NO_SET && self.sets[last] == self.scratch =>
                {
                    last
                }
                _ => {
                    let ids = self.index.entry(fx_hash(&self.scratch)).or_default();
                    match ids.iter().find(|&&id| self.sets[id] == self.scratch) {
                        Some(&id) => id,
                        None => {
                            let id = self.sets.push(self.scratch.clone());
                            ids.push(id);
                            id
                        }
                    }
                }
            }
        } else {
            NO_SET
        };
        let key = self.key(key);
        self.pairs.push(Pair {
            class,
            key,
            set,
            element,
        });
    }
}

/// An entry before its paths are numbered: its actions and the keys of its paths.
type Group = (Vec<ActionId>, Vec<PathKey>);

/// An entry's paths before they are numbered: keys, or indexes into the user's
/// [`Judged::paths`] (ascending, so in path order).
enum Via {
    Keys(Vec<PathKey>),
    Indexed(Vec<UserPathIx>),
}

/// An entry of a user before its paths are numbered: list, actions, resource, paths.
type Pending = (Class, Vec<ActionId>, Arc<str>, Via);

/// In [`PathIds`], a path not met yet; in [`Interner::met_ids`], a path met but not numbered
/// yet.
const UNSEEN: u32 = u32::MAX;

/// Per rank, the reported action's final id, as [`Interner::finish_ordered`] numbers them:
/// densely, in rank (name) order.
#[derive(Debug, Clone, Default)]
pub(crate) struct ActionIds {
    /// Per rank, its action id ([`ActionIds::NONE`]: the element is not reported), padded
    /// with [`ActionIds::NONE`] to 64 ids per word of `reported`.
    ids: Vec<u32>,
    /// The reported ranks, one bit per rank.
    reported: BitSet,
}

impl ActionIds {
    /// No id: the element is not reported.
    const NONE: u32 = u32::MAX;

    /// The id of the action at `rank`, when reported.
    #[inline]
    fn get(&self, rank: RankIx) -> Option<ActionId> {
        match self.ids.get(rank.index()) {
            Some(&id) if id != Self::NONE => Some(ActionId(id)),
            _ => None,
        }
    }

    /// Renumbers actions numbered by their ranks for now (reported ones) with their final ids:
    /// a plain table look-up per action, the check that each has an id left to debug builds
    /// (every action of an entry is counted, so reported).
    #[inline]
    fn renumber(&self, actions: &mut [ActionId]) {
        for action in actions {
            let id = self.ids[rank_of(*action).index()];
            debug_assert!(id != Self::NONE, "a reported action has an id");
            *action = ActionId(id);
        }
    }
}

/// The coverage sets of a report, each once, in order of first reference: found by the hash
/// of their content, equal hashes chained and told apart by comparison.
#[derive(Default)]
struct CoverageSets {
    sets: Vec<Vec<ActionId>>,
    /// Per hash, the last set with that hash.
    heads: FxMap<u64, u32>,
    /// Per set, the set before it with the same hash ([`ActionIds::NONE`]: none).
    next: Vec<u32>,
}

impl CoverageSets {
    /// Room for `more` sets (at most one per path).
    fn reserve(&mut self, more: usize) {
        self.sets.reserve(more);
        self.heads.reserve(more);
        self.next.reserve(more);
    }

    /// The id of a set of actions (ascending), copied from `actions` when it is new;
    /// `actions` is cleared, to be reused.
    fn id(&mut self, actions: &mut Vec<ActionId>) -> CoverageId {
        let hash = ids_hash(actions);
        let head = self.heads.get(&hash).copied().unwrap_or(ActionIds::NONE);
        let mut at = head;
        while at != ActionIds::NONE {
            if self.sets[at as usize] == *actions {
                actions.clear();
                return CoverageId(at);
            }
            at = self.next[at as usize];
        }
        let id = CoverageId::new(self.sets.len());
        self.sets.push(actions.clone());
        actions.clear();
        self.next.push(head);
        self.heads.insert(hash, id.0);
        id
    }
}

/// Paths' numbers among the paths met ([`Interner::met`], indexes into `met_keys`; not yet
/// their report ids) by key: per route (numbered as met), per statement index, the number, in
/// one table. A user's paths come in path order, a route's statements one after the other, so
/// many look-ups find the route met last and read the table at the statement's index.
#[derive(Default)]
struct PathIds {
    /// Route numbers by [`route_key`].
    routes: FxMap<u128, u32>,
    /// Per route (by number), where its numbers start in `ids` and how many it has room for.
    rooms: Vec<(usize, usize)>,
    /// Every route's path numbers, by statement index ([`UNSEEN`]: not met yet).
    ids: Vec<u32>,
    /// The route met last, and its number.
    last: Option<(Route, u32)>,
}

/// How many statements a route of [`PathIds`] has room for at first.
const ROUTE_ROOM: usize = 8;

impl PathIds {
    /// Room for `more` routes (at most one per path), rather than growing the map insert by
    /// insert.
    fn reserve(&mut self, more: usize) {
        self.routes.reserve(more);
        self.rooms.reserve(more);
    }

    /// The number of the path a key names, as a place to set ([`UNSEEN`] until met).
    fn slot(&mut self, key: PathKey) -> &mut u32 {
        let at = match self.last {
            Some((last, at)) if last == key.route => at,
            _ => {
                // Most routes are found: looked up, and hashed again only to be added.
                let route = route_key(key.route);
                let at = match self.routes.get(&route) {
                    Some(&at) => at,
                    None => {
                        let at = u32::try_from(self.rooms.len()).expect("fewer than 2^32 routes");
                        self.routes.insert(route, at);
                        self.rooms.push((self.ids.len(), 0));
                        at
                    }
                };
                self.last = Some((key.route, at));
                at
            }
        };
        let (start, room) = &mut self.rooms[at as usize];
        let index = key.index as usize;
        if index >= *room {
            // Room for twice as many at the end of the table (the old room is left unused).
            let more = (index + 1).max(2 * *room).max(ROUTE_ROOM);
            let moved = self.ids.len();
            self.ids.extend_from_within(*start..*start + *room);
            self.ids.resize(moved + more, UNSEEN);
            (*start, *room) = (moved, more);
        }
        &mut self.ids[*start + index]
    }
}

/// A route as [`PathIds`] looks it up: one integer, hashed in two rounds ([`Fx`]), compared at
/// once. Its group and its role, each one more than its index (0: none), and its policy.
fn route_key(route: Route) -> u128 {
    let group = route.group.map_or(0, |g| u128::from(g.raw()) + 1);
    let role = route.role.map_or(0, |r| u128::from(r.raw()) + 1);
    (group << 65) | (role << 32) | u128::from(route.policy.raw())
}

/// The hash of a set of action ids, two ids a round (then a last round, so that the last ids
/// reach the low bits too).
fn ids_hash(ids: &[ActionId]) -> u64 {
    let mut hasher = Fx::default();
    hasher.add(ids.len() as u64);
    let mut pairs = ids.chunks_exact(2);
    for pair in &mut pairs {
        hasher.add(u64::from(pair[0].0) | (u64::from(pair[1].0) << 32));
    }
    if let [last] = pairs.remainder() {
        hasher.add(u64::from(last.0));
    }
    hasher.add(0);
    hasher.finish()
}

/// Turns judged users into the report's users, batch by batch, and gives actions and paths
/// their ids: for now an action's rank among every element by name and a path's order of first
/// reference; [`Interner::finish`] renumbers both so that the tables hold only what is
/// reported, actions by name and paths sorted.
pub(crate) struct Interner<'a> {
    org: &'a Org,
    baseline: &'a Overlay,
    overlay: &'a Overlay,
    /// Per universe element (the overlay's extras included), its rank by name, and per rank
    /// its element; `None` when the overlay adds no element (the universe is sorted: the rank
    /// is the element).
    ranks: Option<(IdxVec<Element, RankIx>, IdxVec<Rank, ElementIx>)>,
    /// Per element: users who lose, keep and gain it (allocated on the first pair).
    counts: IdxVec<Element, [u32; 3]>,
    /// Per list (`[lost, kept, gained]`), the elements of the user being counted, as words
    /// (empty again once counted).
    lists: [Vec<u64>; 3],
    /// Per list, the words of `lists` the user being counted sets, each once: counting walks
    /// those alone, not every word of the universe (a user changes few of them).
    dirty: [Vec<u32>; 3],
    /// The elements some user loses, keeps or gains so far (those with a count), as words.
    touched: Vec<u64>,
    /// Users converted so far, and their dense indexes.
    users: Vec<UserImpact>,
    dense: Vec<u32>,
    summary: ImpactSummary,
    /// The keys of the paths in order of first reference in report order, by id (their steps
    /// are built for the table only: [`Interner::table`]).
    keys: Vec<PathKey>,
    /// Per path met (numbered as users' paths are looked up, by `path_ids`), its key, and its
    /// id once an entry refers to it in report order ([`UNSEEN`] before).
    met_keys: Vec<PathKey>,
    met_ids: Vec<u32>,
    path_ids: PathIds,
    /// The users' path tables, one after the other: per path of a user (its judged paths in
    /// path order, then each pair entry's), the path's number in `met_keys`. Until numbered
    /// ([`Interner::finish_ordered`], or [`Interner::number_paths`] for a user written at
    /// once), an entry's `via` holds indexes into its user's table, so that converting a user
    /// copies them, and paths are numbered once, in report order (where [`number_slots`]
    /// writes each slot's id in its place).
    tables: Vec<u32>,
    /// Per user of `users`, where its table starts in `tables` (it ends where the next starts).
    starts: Vec<usize>,
    /// [`first_references`]' buffers for [`Interner::number_paths`], reused from user to user.
    seen: (Vec<bool>, Vec<u32>),
    /// [`Interner::entries_of`]'s buffers (a user's resource keys, its entries before their
    /// paths are numbered), empty between users.
    pending: (Vec<Arc<str>>, Vec<Pending>),
    /// Per statement (policy, index in the document): the elements it covers before or after.
    covered: FxMap<(PolicyIx, u32), BitSet>,
    /// Per path of `keys` whose coverage is found so far ([`Interner::cover_paths`]), its set.
    covers: Vec<CoverageId>,
    /// The coverage sets found so far, in order of first reference.
    coverage: CoverageSets,
    /// Per statement (policy, index in the document), its coverage set.
    set_ids: FxMap<(PolicyIx, u32), CoverageId>,
    /// The elements reported, when a statement's elements must be walked and ranks are not
    /// elements (found on the first [`Interner::cover_paths`]).
    reported: Option<BitSet>,
    /// Resource keys, each allocated once (looked up by their text).
    resources: FxMap<Arc<str>, ()>,
    /// The same by the key's address: the keys of judged users live as long as the interner
    /// (`'a`), so an address names one key for the whole report.
    by_address: FxMap<usize, Arc<str>>,
}

impl<'a> Interner<'a> {
    /// An interner for one report, judged from `baseline` to `overlay` (which knows the extra
    /// elements a replaced document names).
    pub(crate) fn new(org: &'a Org, baseline: &'a Overlay, overlay: &'a Overlay) -> Interner<'a> {
        let ranks = (!overlay.extra_elements.is_empty()).then(|| {
            let elements = org.universe_slice().len() + overlay.extra_elements.len();
            let mut by_rank: Vec<ElementIx> = ElementIx::all(elements).collect();
            by_rank.sort_by(|&a, &b| org.element(a, overlay).cmp(org.element(b, overlay)));
            let by_rank: IdxVec<Rank, ElementIx> = IdxVec::from(by_rank);
            let mut rank: IdxVec<Element, RankIx> = IdxVec::filled(elements, RankIx::MIN);
            for (r, &element) in by_rank.iter() {
                rank[element] = r;
            }
            (rank, by_rank)
        });
        Interner {
            org,
            baseline,
            overlay,
            ranks,
            counts: IdxVec::default(),
            lists: Default::default(),
            dirty: Default::default(),
            touched: Vec::new(),
            users: Vec::new(),
            dense: Vec::new(),
            summary: ImpactSummary::default(),
            keys: Vec::new(),
            met_keys: Vec::new(),
            met_ids: Vec::new(),
            path_ids: PathIds::default(),
            tables: Vec::new(),
            starts: Vec::new(),
            seen: (Vec::new(), Vec::new()),
            pending: (Vec::new(), Vec::new()),
            covered: FxMap::default(),
            covers: Vec::new(),
            coverage: CoverageSets::default(),
            set_ids: FxMap::default(),
            reported: None,
            resources: FxMap::default(),
            by_address: FxMap::default(),
        }
    }

    fn elements(&self) -> usize {
        self.org.universe_slice().len() + self.overlay.extra_elements.len()
    }

    /// An element's rank. Without extra elements the universe is sorted, and the rank is
    /// the element's own number.
    fn rank(&self, element: ElementIx) -> RankIx {
        match &self.ranks {
            Some((rank, _)) => rank[element],
            None => RankIx::from_raw(element.raw()),
        }
    }

    /// The element at a rank ([`Interner::rank`] reversed).
    fn element(&self, rank: RankIx) -> ElementIx {
        match &self.ranks {
            Some((_, by_rank)) => by_rank[rank],
            None => ElementIx::from_raw(rank.raw()),
        }
    }

    /// Converts one judged user (its entries built when `keep`) into the report, and drops
    /// what judging kept.
    pub(crate) fn add(&mut self, judged: Judged<'a>, keep: bool) {
        let dense = judged.user;
        self.starts.push(self.tables.len());
        let user = self.convert(judged, keep);
        self.users.push(user);
        self.dense.push(dense);
    }

    /// Converts one judged user, counting it in the summary and the per-action counts. Its
    /// entries' paths are indexes into its table (added to `tables`) until numbered.
    fn convert(&mut self, mut judged: Judged<'a>, keep: bool) -> UserImpact {
        let counts = judged.counts;
        let summary = &mut self.summary;
        summary.users_affected += 1;
        summary.pairs.lost += counts.lost;
        summary.pairs.kept += counts.kept;
        summary.pairs.gained += counts.gained;
        summary.users_losing += usize::from(counts.lost > 0 || !judged.assumable_lost.is_empty());
        summary.users_gaining +=
            usize::from(counts.gained > 0 || !judged.assumable_gained.is_empty());
        let counted = !judged.counted.is_empty();
        if !judged.pairs.is_empty() || !judged.groups.is_empty() || counted {
            self.count(&judged);
        }
        let mut user = UserImpact {
            user: self
                .org
                .user_summary(crate::idx::Idx::from_raw(judged.user)),
            counts,
            assumable_lost: std::mem::take(&mut judged.assumable_lost),
            assumable_gained: std::mem::take(&mut judged.assumable_gained),
            sessions_continue: std::mem::take(&mut judged.sessions_continue),
            unchanged_count: judged.unchanged_count,
            note: judged.note.take(),
            ..UserImpact::default()
        };
        if keep {
            self.entries_of(&mut judged, &mut user);
        }
        user
    }

    /// Counts one user in the per-action counts: each element once per list, however many
    /// keys and entries it comes in (the lists gathered as words, then walked once, in the
    /// words the user sets alone).
    fn count(&mut self, judged: &Judged) {
        let words = self.elements().div_ceil(64);
        if self.counts.is_empty() {
            self.counts = IdxVec::filled(self.elements(), [0; 3]);
            self.lists = std::array::from_fn(|_| vec![0; words]);
            self.touched = vec![0; words];
        }
        let (lists, dirty) = (&mut self.lists, &mut self.dirty);
        for &(slot, w, more) in &judged.counted {
            let (slot, w) = (usize::from(slot), w as usize);
            mark(&mut lists[slot], &mut dirty[slot], w, more);
        }
        for pair in &judged.pairs {
            let (slot, e) = (pair.class.slot(), pair.element.index());
            mark(&mut lists[slot], &mut dirty[slot], e / 64, 1 << (e % 64));
        }
        for whole in &judged.groups {
            // Elements ascend: a word's bits gathered, then set at once.
            let slot = whole.class.slot();
            let (mut at, mut bits) = (0, 0u64);
            for &element in &whole.elements {
                let e = element.index();
                if e / 64 != at {
                    mark(&mut lists[slot], &mut dirty[slot], at, bits);
                    (at, bits) = (e / 64, 0);
                }
                bits |= 1 << (e % 64);
            }
            mark(&mut lists[slot], &mut dirty[slot], at, bits);
        }
        for (slot, (list, dirty)) in self.lists.iter_mut().zip(&mut self.dirty).enumerate() {
            for w in dirty.drain(..) {
                let w = w as usize;
                let mut bits = std::mem::take(&mut list[w]);
                self.touched[w] |= bits;
                while bits != 0 {
                    let element = ElementIx::new(w * 64 + bits.trailing_zeros() as usize);
                    bits &= bits - 1;
                    self.counts[element][slot] += 1;
                }
            }
        }
    }

    /// The report: the users most lost first (then by id), the per-action summary of every
    /// element reported, and actions and paths renumbered in name and path order.
    pub(crate) fn finish(self) -> Impact {
        self.finish_ordered().0
    }

    /// [`Interner::finish`], with the users' dense indexes in report order and, per rank, the
    /// action id (for a second pass that writes the users of this order: `ImpactStream`).
    pub(crate) fn finish_ordered(mut self) -> (Impact, Vec<u32>, ActionIds) {
        // Most lost first, then by id: sorted on the caller's pool, by keys side by side rather
        // than through the users.
        let mut keys: Vec<(std::cmp::Reverse<usize>, &str, usize)> = (self.users.iter())
            .enumerate()
            .map(|(i, user)| (std::cmp::Reverse(user.counts.lost), &*user.user.id, i))
            .collect();
        keys.par_sort_unstable();
        let order: Vec<usize> = keys.into_iter().map(|(.., i)| i).collect();
        let (actions, action_ids) = self.number_actions();
        // Actions renumbered in the order users were converted (the order their entries lie
        // in memory), users in parallel on the caller's pool: each id is looked up alone.
        self.users
            .par_iter_mut()
            .with_min_len(USERS_PER_JOB)
            .for_each(|user| {
                for entry in user.entries_mut() {
                    action_ids.renumber(&mut entry.actions);
                }
            });
        // Paths: numbered by first reference in report order (an entry's paths are in path
        // order), so that ids follow content alone, not the order in which users were judged,
        // and a report written user by user as judged numbers them the same way. Each user's
        // first references are found in parallel, numbered one user after the other in report
        // order, and written back in parallel.
        // INVARIANT: no coverage is found before the paths are numbered.
        debug_assert!(self.covers.is_empty());
        // Each user's first references in a slice of one buffer laid out as the tables (a
        // user has at most as many as its table has slots), and how many: one allocation for
        // every user. (Grown chunk by chunk instead, the vectors' moves made the system
        // allocator consolidate its free chunks again and again.)
        let mut firsts = vec![0; self.tables.len()];
        let mut tables = split_tables(&mut self.tables, &self.starts);
        let mut firsts_of = split_tables(&mut firsts, &self.starts);
        let mut counts = vec![0; self.users.len()];
        self.users
            .par_chunks(USERS_PER_JOB)
            .zip(firsts_of.par_chunks_mut(USERS_PER_JOB))
            .zip(counts.par_chunks_mut(USERS_PER_JOB))
            .for_each(|((users, firsts), counts)| {
                let mut seen = Vec::new();
                for ((user, firsts), count) in users.iter().zip(firsts).zip(counts) {
                    *count = first_references(user, &mut seen, firsts);
                }
            });
        for &i in &order {
            number_slots(
                tables[i],
                &firsts_of[i][..counts[i]],
                (&mut self.keys, &self.met_keys, &mut self.met_ids),
            );
        }
        self.users
            .par_iter_mut()
            .zip(&mut tables)
            .with_min_len(USERS_PER_JOB)
            .for_each(|(user, table)| rewrite_via(user, table));
        let mut users = std::mem::take(&mut self.users);
        permute(&mut users, &order);
        let dense: Vec<u32> = order.iter().map(|&i| self.dense[i]).collect();
        let (paths, coverage) = self.table(&action_ids);
        let impact = Impact {
            schema_version: SCHEMA_VERSION,
            changes: Vec::new(),
            summary: self.summary,
            users,
            actions,
            paths,
            coverage,
        };
        (impact, dense, action_ids)
    }

    /// Gives the paths of one user's entries their ids, by first reference, after every user
    /// numbered before (the stream's report order): each entry's `via` holds indexes into the
    /// user's table, `tables[table]`.
    fn number_paths(&mut self, user: &mut UserImpact, table: std::ops::Range<usize>) {
        let table = &mut self.tables[table];
        let (seen, firsts) = &mut self.seen;
        firsts.clear();
        firsts.resize(table.len(), 0);
        let count = first_references(user, seen, firsts);
        number_slots(
            table,
            &firsts[..count],
            (&mut self.keys, &self.met_keys, &mut self.met_ids),
        );
        rewrite_via(user, table);
    }

    /// The per-action summary of the reported elements (those some user loses, keeps or
    /// gains), in rank (name) order, and their ids.
    fn number_actions(&self) -> (Vec<ActionSummary>, ActionIds) {
        let ranks = self.counts.len();
        let words = ranks.div_ceil(64);
        let mut action_ids = ActionIds {
            ids: vec![ActionIds::NONE; words * 64],
            reported: BitSet::new(ranks),
        };
        // The reported ranks in order, with their elements.
        let count = self.touched.iter().map(|w| w.count_ones() as usize).sum();
        let mut reported: Vec<(RankIx, ElementIx)> = Vec::with_capacity(count);
        if self.ranks.is_none() {
            // Ranks are elements: the touched elements, in order, are the reported ranks.
            for (w, &word) in self.touched.iter().enumerate() {
                let mut bits = word;
                while bits != 0 {
                    let element = ElementIx::new(w * 64 + bits.trailing_zeros() as usize);
                    bits &= bits - 1;
                    reported.push((RankIx::from_raw(element.raw()), element));
                }
            }
        } else {
            for rank in RankIx::all(ranks) {
                let element = self.element(rank);
                if self.touched[element.index() / 64] & (1 << (element.index() % 64)) != 0 {
                    reported.push((rank, element));
                }
            }
        }
        let names = &self.org.report_cache().action_names;
        let mut actions = Vec::with_capacity(reported.len());
        for (rank, element) in reported {
            let [lost, kept, gained] = self.counts[element].map(|n| n as usize);
            action_ids.ids[rank.index()] = ActionId::new(actions.len()).0;
            action_ids.reported.insert(rank.index());
            let name = match names.get(element.index()) {
                Some(name) => name.clone(),
                None => Arc::from(self.org.element(element, self.overlay).to_string()),
            };
            actions.push(ActionSummary {
                action: name,
                lost,
                kept,
                gained,
            });
        }
        (actions, action_ids)
    }

    /// Converts one judged user with final ids: actions by `action_ids` (per rank, from a first
    /// pass), paths by first reference in the order users come (the caller's report order).
    pub(crate) fn convert_final(
        &mut self,
        judged: Judged<'a>,
        action_ids: &ActionIds,
    ) -> UserImpact {
        let start = self.tables.len();
        let mut user = self.convert(judged, true);
        self.number_paths(&mut user, start..self.tables.len());
        self.tables.truncate(start);
        for entry in user.entries_mut() {
            action_ids.renumber(&mut entry.actions);
        }
        user
    }

    /// The paths numbered so far, each with the set of reported actions it covers
    /// (`action_ids` per rank), and those sets, each once, in order of first reference. Takes
    /// the sets: the last call on this interner.
    pub(crate) fn table(
        &mut self,
        action_ids: &ActionIds,
    ) -> (Vec<ImpactPath>, Vec<Vec<ActionId>>) {
        self.cover_paths(action_ids);
        let org = self.org;
        // Each path built alone, in parallel on the caller's pool, collected in id order.
        let table = self
            .keys
            .par_iter()
            .zip(&self.covers)
            .with_min_len(PATHS_PER_JOB)
            .map(|(&key, &covers)| ImpactPath {
                steps: org.build_path(key),
                covers,
            })
            .collect();
        (table, std::mem::take(&mut self.coverage.sets))
    }

    /// [`Interner::table`] as a writer needs it: the paths serialized straight from their
    /// keys and the org's steps (as `Vec<ImpactPath>` serializes), without building a path
    /// each; and the coverage sets. Takes the sets: the last call on this interner.
    pub(crate) fn table_rows(
        &mut self,
        action_ids: &ActionIds,
    ) -> (PathRows<'_>, Vec<Vec<ActionId>>) {
        self.cover_paths(action_ids);
        let sets = std::mem::take(&mut self.coverage.sets);
        let rows = PathRows {
            org: self.org,
            keys: &self.keys,
            covers: &self.covers,
        };
        (rows, sets)
    }

    /// Finds the coverage set of each path numbered since the last call, in path order, so
    /// that sets are numbered in order of first reference. A writer calls it after each batch
    /// of users (while the pool judges the next), so that the table is mostly done when the
    /// last user is written.
    ///
    /// INVARIANT: `action_ids` is the same on every call to one interner (the sets found so
    /// far are kept), and no call comes before [`Interner::finish_ordered`] renumbers the paths.
    pub(crate) fn cover_paths(&mut self, action_ids: &ActionIds) {
        if self.covers.len() == self.keys.len() {
            return;
        }
        // Without replaced documents or extra elements a statement covers its own bits on both
        // sides, and an element is its rank: read them in place.
        let plain = self.overlay.documents.is_empty() && self.overlay.extra_elements.is_empty();
        // Otherwise, the elements reported, so that each statement's elements are walked only
        // there (the reported ranks themselves when ranks are elements); found once.
        if !plain && self.ranks.is_some() && self.reported.is_none() {
            let mut reported = BitSet::new(self.elements());
            for element in ElementIx::all(self.elements()) {
                if action_ids.get(self.rank(element)).is_some() {
                    reported.insert(element.index());
                }
            }
            self.reported = Some(reported);
        }
        // Room for the new paths' sets at once (at most one per path, a few thousand at a time),
        // rather than growing the maps insert by insert.
        let new = (self.keys.len() - self.covers.len()).min(1 << 12);
        self.covers.reserve(new);
        self.set_ids.reserve(new);
        self.coverage.reserve(new);
        let reported = self.reported.take();
        let mut actions: Vec<ActionId> = Vec::new();
        for i in self.covers.len()..self.keys.len() {
            let key = self.keys[i];
            let statement = (key.route.policy, key.index);
            let covers = match self.set_ids.get(&statement) {
                Some(&id) => id,
                None => {
                    let node = plain
                        .then(|| {
                            self.org
                                .statement_at(key.route.policy, key.index, self.baseline)
                        })
                        .flatten();
                    match node {
                        Some(node) => plain_cover(node, action_ids, &mut actions),
                        None => {
                            let reported = reported.as_ref().unwrap_or(&action_ids.reported);
                            self.covered(key);
                            let covered = &self.covered[&statement];
                            actions.extend(
                                covered
                                    .iter_and(reported)
                                    .filter_map(|e| action_ids.get(self.rank(ElementIx::new(e)))),
                            );
                            actions.sort_unstable();
                        }
                    }
                    let id = self.coverage.id(&mut actions);
                    self.set_ids.insert(statement, id);
                    id
                }
            };
            self.covers.push(covers);
        }
        self.reported = reported;
    }

    /// The elements a path's statement covers, before or after the change (a replaced document
    /// may cover others at the same index), universe and extra elements alike; computed once
    /// per statement.
    fn covered(&mut self, key: PathKey) -> &BitSet {
        let (org, baseline, overlay) = (self.org, self.baseline, self.overlay);
        let elements = self.elements();
        self.covered
            .entry((key.route.policy, key.index))
            .or_insert_with(|| {
                let mut covered = BitSet::new(elements);
                for ov in [baseline, overlay] {
                    if let Some(node) = org.statement_at(key.route.policy, key.index, ov) {
                        org.statement_elements(node, ov, &mut covered);
                    }
                }
                covered
            })
    }

    /// Groups one user's pairs into entries and files them under lost, kept and gained, each
    /// list sorted by first action (by name), then resource.
    ///
    /// The pairs of one list and resource key form one entry whose paths are the union of
    /// theirs, when each pair's own paths are exactly the union's paths that cover its action
    /// (always so under deny-wins with no replaced document). Pairs for which that fails (a
    /// farther path overridden under nearest-wins, a replaced document's statement) go to
    /// entries of their own exact path set, where it holds by construction.
    fn entries_of(&mut self, judged: &mut Judged<'a>, user: &mut UserImpact) {
        judged.pairs.sort_unstable();
        let pairs = std::mem::take(&mut judged.pairs);
        // In the interner's vectors, emptied and reused from user to user: each resource key of
        // the user looked up once, and (class, actions, resource, paths), one entry each, put in
        // report order before their paths are numbered, so that paths are numbered in the order
        // the report refers to them.
        let (mut resources, mut entries) = std::mem::take(&mut self.pending);
        resources.extend(judged.keys.iter().map(|(_, &key)| self.resource(key)));
        entries.reserve(judged.groups.len());
        let mut start = 0;
        while start < pairs.len() {
            let (class, key) = (pairs[start].class, pairs[start].key);
            let end = start
                + pairs[start..]
                    .iter()
                    .take_while(|p| (p.class, p.key) == (class, key))
                    .count();
            for (actions, keys) in self.group_run(&pairs[start..end], &judged.sets) {
                let resource = resources[key.index()].clone();
                entries.push((class, actions, resource, Via::Keys(keys)));
            }
            start = end;
        }
        for whole in std::mem::take(&mut judged.groups) {
            let Whole {
                class,
                key,
                elements,
                via,
            } = whole;
            // Ranks follow elements unless the overlay adds elements: then sort. (In place: an
            // element and an action id are both one `u32`; the test is made once per entry, so
            // that the common case is a plain copy.)
            let actions: Vec<ActionId> = match &self.ranks {
                None => elements.into_iter().map(|e| ActionId(e.raw())).collect(),
                Some((rank, _)) => {
                    let mut actions: Vec<ActionId> =
                        elements.into_iter().map(|e| provisional(rank[e])).collect();
                    actions.sort_unstable();
                    actions
                }
            };
            let resource = resources[key.index()].clone();
            entries.push((class, actions, resource, Via::Indexed(via)));
        }
        // Report order: by list, first action, then resource (no two entries share all three:
        // the entries of one list and key have disjoint actions).
        entries.sort_by(|a, b| (a.0, a.1[0], &a.2).cmp(&(b.0, b.1[0], &b.2)));
        // The user's table: its judged paths first (so that whole entries' indexes are
        // theirs), looked up in path order.
        let start = self.tables.len();
        // Room for them at once (most are met for the first time when users are few).
        self.tables.reserve(judged.paths.len());
        self.met_keys.reserve(judged.paths.len());
        self.met_ids.reserve(judged.paths.len());
        self.path_ids.reserve(judged.paths.len());
        for (_, &key) in judged.paths.iter() {
            let met = self.met(key);
            self.tables.push(met);
        }
        // The shared paths: from judging for whole entries; for entries of pairs, found here.
        let shared = std::mem::take(&mut judged.shared);
        let indexed = |list: Vec<UserPathIx>| list.into_iter().map(|i| PathId(i.raw())).collect();
        let [lost, kept, gained] = shared.map(indexed);
        user.shared = SharedPaths { lost, kept, gained };
        for class in [Class::Lost, Class::Kept, Class::Gained] {
            let found = self.shared_keys(class, &mut entries);
            if !found.is_empty() {
                *user.shared.of_slot_mut(class.slot()) = self.via(&found, start);
            }
        }
        let mut lists: [Vec<GroupedEntry>; 3] = [Class::Lost, Class::Kept, Class::Gained]
            .map(|class| Vec::with_capacity(entries.iter().filter(|e| e.0 == class).count()));
        for (class, actions, resource, via) in entries.drain(..) {
            let via = match via {
                Via::Keys(keys) => self.via(&keys, start),
                Via::Indexed(indexes) => indexes.into_iter().map(|i| PathId(i.raw())).collect(),
            };
            lists[class.slot()].push(GroupedEntry {
                actions,
                resource,
                via,
            });
        }
        [user.lost, user.kept, user.gained] = lists;
        resources.clear();
        self.pending = (resources, entries);
        judged.paths = IdxVec::default();
        judged.sets = IdxVec::default();
    }

    /// The paths a list of entries of pairs shares ([`SharedPaths`]), taken out of their `via`:
    /// those through a statement on every resource that are in the `via` of every entry of
    /// the list with an action they cover (as their coverage in the report tells, before or
    /// after the change). None when the list has whole entries (they come with their own).
    fn shared_keys(&mut self, class: Class, entries: &mut [Pending]) -> Vec<PathKey> {
        let ov = if class == Class::Lost {
            self.baseline
        } else {
            self.overlay
        };
        let mut candidates: Vec<PathKey> = Vec::new();
        for (c, _, _, via) in entries.iter() {
            match via {
                _ if *c != class => {}
                Via::Indexed(_) => return Vec::new(),
                Via::Keys(keys) => candidates.extend(keys.iter().copied().filter(|key| {
                    (self.org.statement_at(key.route.policy, key.index, ov))
                        .is_some_and(|node| node.any_resource)
                })),
            }
        }
        candidates.sort_unstable();
        candidates.dedup();
        for &key in &candidates {
            self.covered(key);
        }
        let mut shared = Vec::new();
        for key in candidates {
            let covered = &self.covered[&(key.route.policy, key.index)];
            let everywhere = entries.iter().all(|(c, actions, _, via)| match via {
                Via::Keys(keys) if *c == class && !keys.contains(&key) => actions
                    .iter()
                    .all(|&a| !covered.contains(self.element(rank_of(a)).index())),
                _ => true,
            });
            if everywhere {
                shared.push(key);
            }
        }
        if !shared.is_empty() {
            for (c, _, _, via) in entries.iter_mut() {
                if let (true, Via::Keys(keys)) = (*c == class, via) {
                    keys.retain(|key| shared.binary_search(key).is_err());
                }
            }
        }
        shared
    }

    /// The entries of one run of pairs (one list, one resource key; sorted by path set): the
    /// pairs whose paths the union tells exactly, as one entry, and the others by path set.
    fn group_run(&mut self, run: &[Pair], sets: &IdxVec<PathSet, Vec<PathKey>>) -> Vec<Group> {
        let set_of = |pair: &Pair| &sets[pair.set];
        let mut union: Vec<PathKey> = run.iter().flat_map(|p| set_of(p).iter().copied()).collect();
        union.sort_unstable();
        union.dedup();
        // Per element of the run, how many of the union's paths cover it.
        let mut mask = BitSet::new(self.elements());
        run.iter().for_each(|p| mask.insert(p.element.index()));
        let mut cover: IdxVec<Element, usize> = IdxVec::filled(self.elements(), 0);
        for &key in &union {
            for element in self.covered(key).iter_and(&mask) {
                cover[ElementIx::new(element)] += 1;
            }
        }
        let mut exact = Vec::new();
        let mut apart: Vec<Group> = Vec::new();
        for pair in run {
            if cover[pair.element] == set_of(pair).len() {
                exact.push(pair);
            } else {
                // Runs are sorted by set: the same set follows.
                let rank = provisional(self.rank(pair.element));
                match apart.last_mut() {
                    Some((actions, via)) if via == set_of(pair) => actions.push(rank),
                    _ => apart.push((vec![rank], set_of(pair).clone())),
                }
            }
        }
        let mut groups = Vec::with_capacity(apart.len() + 1);
        if !exact.is_empty() {
            if exact.len() < run.len() {
                union = exact
                    .iter()
                    .flat_map(|p| set_of(p).iter().copied())
                    .collect();
                union.sort_unstable();
                union.dedup();
            }
            let actions = exact
                .iter()
                .map(|p| provisional(self.rank(p.element)))
                .collect();
            groups.push((actions, union));
        }
        groups.extend(apart);
        for (actions, _) in &mut groups {
            actions.sort_unstable();
        }
        groups
    }

    /// A resource key as reports hold it, allocated once per report; looked up by the key's
    /// address (no hashing of its text) after the first time.
    fn resource(&mut self, key: &'a ResourcePattern) -> Arc<str> {
        let address = std::ptr::from_ref(key) as usize;
        if let Some(resource) = self.by_address.get(&address) {
            return resource.clone();
        }
        let resource = match self.resources.get_key_value(key.as_str()) {
            Some((resource, ())) => resource.clone(),
            None => {
                let resource: Arc<str> = Arc::from(key.as_str());
                self.resources.insert(resource.clone(), ());
                resource
            }
        };
        self.by_address.insert(address, resource.clone());
        resource
    }

    /// Adds a set's paths to the user's table (starting at `start` in `tables`) in path order,
    /// returning their indexes in it.
    fn via(&mut self, keys: &[PathKey], start: usize) -> Vec<PathId> {
        let mut keys: Vec<([u64; 4], PathKey)> = keys
            .iter()
            .map(|&key| (self.org.path_order(key), key))
            .collect();
        keys.sort_unstable();
        keys.into_iter()
            .map(|(_, key)| {
                let met = self.met(key);
                self.tables.push(met);
                PathId::new(self.tables.len() - 1 - start)
            })
            .collect()
    }

    /// A path's number among the paths met; a path met for the first time is numbered next.
    fn met(&mut self, key: PathKey) -> u32 {
        let met = self.path_ids.slot(key);
        if *met == UNSEEN {
            *met = PathId::new(self.met_keys.len()).0;
            self.met_keys.push(key);
            self.met_ids.push(UNSEEN);
        }
        *met
    }
}

/// Puts `items` in `order` in place: afterwards `items[k]` is what was `items[order[k]]`
/// (`order` is a permutation of the indexes). Each item is moved along its cycle by swaps,
/// with no second vector of items (a user's impact is a few hundred bytes, and a report may
/// hold a hundred thousand).
fn permute<T>(items: &mut [T], order: &[usize]) {
    debug_assert_eq!(items.len(), order.len());
    let mut placed = vec![false; items.len()];
    for start in 0..items.len() {
        // Along the cycle through `start`: each swap brings the item its place wants there,
        // and the last place already holds the first item.
        let mut at = start;
        while !placed[at] {
            placed[at] = true;
            let from = order[at];
            if from == start {
                break;
            }
            items.swap(at, from);
            at = from;
        }
    }
}

/// The fewest paths one job of [`Interner::table`] builds (a path is built in well under a
/// microsecond).
const PATHS_PER_JOB: usize = 512;

/// The users' tables (`tables`, user `i`'s from `starts[i]` to the next start), each its own
/// slice.
fn split_tables<'t>(mut tables: &'t mut [u32], starts: &[usize]) -> Vec<&'t mut [u32]> {
    let mut split = Vec::with_capacity(starts.len());
    for (i, &start) in starts.iter().enumerate() {
        let end = starts.get(i + 1).map_or(start + tables.len(), |&next| next);
        let (table, rest) = std::mem::take(&mut tables).split_at_mut(end - start);
        split.push(table);
        tables = rest;
    }
    split
}

/// The slots of a user's table that its entries' `via` refer to, each once, in order of first
/// reference (entries in report order, each entry's paths in order), written at the start of
/// `firsts` (as long as the table: a slot is referred to at most once here); answers how many.
/// `seen` is a reused buffer.
fn first_references(user: &UserImpact, seen: &mut Vec<bool>, firsts: &mut [u32]) -> usize {
    seen.clear();
    seen.resize(firsts.len(), false);
    let mut count = 0;
    for path in user.path_lists().flatten() {
        let slot = &mut seen[path.index()];
        if !*slot {
            *slot = true;
            firsts[count] = path.0;
            count += 1;
        }
    }
    count
}

/// Numbers the paths a user's table `firsts` slots name (in that order) that no user before
/// referred to, and writes each slot's path id in its place in `table` (a slot held the path's
/// number among the paths met, [`Interner::met`]).
fn number_slots(
    table: &mut [u32],
    firsts: &[u32],
    (keys, met_keys, met_ids): (&mut Vec<PathKey>, &[PathKey], &mut [u32]),
) {
    for &slot in firsts {
        let met = table[slot as usize] as usize;
        let mut id = met_ids[met];
        if id == UNSEEN {
            id = PathId::new(keys.len()).0;
            met_ids[met] = id;
            keys.push(met_keys[met]);
        }
        table[slot as usize] = id;
    }
}

/// Rewrites a user's entries' `via` from slots of its table to the ids [`number_slots`] wrote
/// there.
fn rewrite_via(user: &mut UserImpact, table: &[u32]) {
    for list in user.path_lists_mut() {
        for path in list {
            *path = PathId(table[path.index()]);
        }
    }
}

/// Sets `bits` in word `w` of a list of [`Interner::count`], noting the word in `dirty` when
/// it was empty (so each word once).
#[inline]
fn mark(list: &mut [u64], dirty: &mut Vec<u32>, w: usize, bits: u64) {
    let word = &mut list[w];
    if *word == 0 && bits != 0 {
        dirty.push(w as u32);
    }
    *word |= bits;
}

/// Adds to `into` the reported actions a statement covers (ascending), when ranks are elements
/// and no document is replaced: its own elements, those of `action_ids`' reported ranks.
fn plain_cover(node: &StatementNode, action_ids: &ActionIds, into: &mut Vec<ActionId>) {
    match &node.few {
        Some(few) => {
            into.extend(
                few.iter()
                    .filter_map(|&e| action_ids.get(RankIx::from_raw(e.raw()))),
            );
        }
        None => {
            let words = node.actions.words().iter().zip(action_ids.reported.words());
            // INVARIANT: `ids` holds 64 ids per word of `reported` ([`ActionIds`]).
            for ((a, r), ids) in words.zip(action_ids.ids.chunks_exact(64)) {
                let mut bits = a & r;
                while bits != 0 {
                    into.push(ActionId(ids[(bits.trailing_zeros() & 63) as usize]));
                    bits &= bits - 1;
                }
            }
        }
    }
}

impl Org {
    /// Where the path a key names sorts among paths, as integers: per step, its kind and its
    /// rank among the steps of that kind. Paths compare step by step, a step by kind first,
    /// and every path ends at a statement, so the first steps that differ decide, as they do
    /// between the paths themselves.
    pub(crate) fn path_order(&self, key: PathKey) -> [u64; 4] {
        let (groups, roles, policies) = self.steps().ranks();
        let step = |kind: StepKind, rank: u32| ((kind as u64) << 32) | u64::from(rank);
        let mut order = [0u64; 4];
        let mut steps = order.iter_mut();
        let mut push = |value| *steps.next().expect("at most four steps") = value;
        if let Some(group) = key.route.group {
            push(step(StepKind::Group, groups[group]));
        }
        if let Some(role) = key.route.role {
            push(step(StepKind::Role, roles[role]));
        }
        push(step(StepKind::Policy, policies[key.route.policy]));
        push(step(StepKind::Statement, key.index));
        order
    }
}

/// The paths of a report's table, serialized as `Vec<ImpactPath>` is (each a struct of its
/// steps and its coverage id), from their keys: no path is built.
pub(crate) struct PathRows<'a> {
    org: &'a Org,
    keys: &'a [PathKey],
    /// Per key, its coverage set.
    covers: &'a [CoverageId],
}

impl serde::Serialize for PathRows<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let org = self.org;
        serializer.collect_seq(
            self.keys
                .iter()
                .zip(self.covers)
                .map(|(&key, &covers)| PathRow { org, key, covers }),
        )
    }
}

/// One path of [`PathRows`], serialized as its [`ImpactPath`] would be.
struct PathRow<'a> {
    org: &'a Org,
    key: PathKey,
    covers: CoverageId,
}

impl serde::Serialize for PathRow<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        // As `ImpactPath`'s derived `Serialize` writes it: the fields in declaration order.
        let mut row = serializer.serialize_struct("ImpactPath", 2)?;
        row.serialize_field(
            "steps",
            &PathSteps {
                org: self.org,
                key: self.key,
            },
        )?;
        row.serialize_field("covers", &self.covers)?;
        row.end()
    }
}

/// A path's steps, serialized as the [`Path`] [`Org::build_path`] builds (a sequence of
/// steps), from the org's own steps.
struct PathSteps<'a> {
    org: &'a Org,
    key: PathKey,
}

impl serde::Serialize for PathSteps<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let entities = self.org.entity_steps(self.key.route);
        let mut seq = serializer.serialize_seq(Some(entities.len() + 1))?;
        for step in entities.iter() {
            seq.serialize_element(step)?;
        }
        seq.serialize_element(&Step::statement(self.key.index))?;
        seq.end()
    }
}

impl Org {
    /// The path a key names: its steps from the first after the user.
    pub(crate) fn build_path(&self, key: PathKey) -> Path {
        let mut path = Vec::with_capacity(4);
        for step in self.entity_steps(key.route).iter() {
            path.push(step.clone());
        }
        path.push(Step::statement(key.index));
        path
    }

    /// The entity steps of a route's paths, in order: its group, its role, its policy (the
    /// statement follows). One definition for the paths built ([`Org::build_path`]) and those
    /// written straight from their keys (`PathSteps`).
    pub(crate) fn entity_steps(&self, route: Route) -> EntitySteps<'_> {
        let steps = self.steps();
        EntitySteps([
            route.group.map(|group| steps.group(group)),
            route.role.map(|role| steps.role(role)),
            Some(steps.policy(route.policy)),
        ])
    }
}

/// A route's entity steps ([`Org::entity_steps`]): its group and role when it has them, and its
/// policy.
pub(crate) struct EntitySteps<'a>([Option<&'a Step>; 3]);

impl<'a> EntitySteps<'a> {
    /// How many steps.
    pub(crate) fn len(&self) -> usize {
        self.0.iter().flatten().count()
    }

    /// The steps, in path order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &'a Step> + '_ {
        self.0.iter().flatten().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::permute;

    #[test]
    fn permute_puts_each_item_where_the_order_says() {
        // Cycles of several lengths, fixed points, and the identity.
        for order in [
            vec![],
            vec![0],
            vec![1, 0],
            vec![0, 1, 2],
            vec![2, 0, 1],
            vec![3, 0, 4, 1, 2, 5],
            vec![6, 5, 4, 3, 2, 1, 0],
        ] {
            let items: Vec<String> = (0..order.len()).map(|i| format!("item {i}")).collect();
            let mut permuted = items.clone();
            permute(&mut permuted, &order);
            let expected: Vec<String> = order.iter().map(|&i| items[i].clone()).collect();
            assert_eq!(permuted, expected, "order {order:?}");
        }
    }
}
