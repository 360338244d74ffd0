//! Finding entities by id, email or name: the [`Lookup`] indexes, the `find_*` methods and
//! the nearest names suggested when nothing matches.

use std::borrow::Cow;
use std::collections::HashMap;

use super::{
    GroupKey, GroupNode, Org, PolicyKey, PolicyNode, RoleKey, RoleNode, TrustKey, TrustNode,
    UserIx, UserKey, UserNode,
};
use crate::error::{EntityKind, LookupError};
use crate::idx::Idx;

/// The positions of the entities that share one key, in snapshot order, by the key's hash.
///
/// Keyed by a hash rather than the key itself, so that building the index copies no string
/// (compiling 100,000 users would otherwise copy every email), and one entity per key, the
/// common case, needs no list. A hash names candidates only; the caller checks each against
/// the entity itself, so a collision costs a comparison, never a wrong answer.
#[derive(Debug, Clone)]
pub(super) struct Positions<T>(HashMap<u64, Hits<T>>);

#[derive(Debug, Clone)]
pub(super) enum Hits<T> {
    One(Idx<T>),
    Many(Vec<Idx<T>>),
}

impl<T> Default for Positions<T> {
    fn default() -> Positions<T> {
        Positions(HashMap::new())
    }
}

impl<T> Positions<T> {
    fn insert(&mut self, key: &str, position: Idx<T>) {
        self.0
            .entry(key_hash(key))
            .and_modify(|hits| match hits {
                Hits::One(first) => *hits = Hits::Many(vec![*first, position]),
                Hits::Many(all) => all.push(position),
            })
            .or_insert(Hits::One(position));
    }

    /// The candidates for `key`, in snapshot order.
    fn get(&self, key: &str) -> &[Idx<T>] {
        match self.0.get(&key_hash(key)) {
            None => &[],
            Some(Hits::One(one)) => std::slice::from_ref(one),
            Some(Hits::Many(all)) => all,
        }
    }
}

/// Entities by name: as written, and lowercased (Unicode), for [`find_named`].
#[derive(Debug, Clone)]
pub(crate) struct NameIndex<T> {
    exact: Positions<T>,
    lower: Positions<T>,
}

impl<T> Default for NameIndex<T> {
    fn default() -> NameIndex<T> {
        NameIndex {
            exact: Positions::default(),
            lower: Positions::default(),
        }
    }
}

impl<T> NameIndex<T> {
    fn new<'a>(names: impl Iterator<Item = (Idx<T>, &'a str)>) -> NameIndex<T> {
        let mut index = NameIndex::default();
        for (i, name) in names {
            index.exact.insert(name, i);
            index.lower.insert(&name.to_lowercase(), i);
        }
        index
    }
}

/// Hash indexes that make the `find_*` lookups of an exact id, email or name O(1). Ids are
/// found through the entity maps themselves; these hold what they cannot answer.
#[derive(Debug, Clone, Default)]
pub(crate) struct Lookup {
    /// Users by email, ASCII-lowercased: emails compare ignoring ASCII case.
    emails: Positions<UserNode>,
    groups: NameIndex<GroupNode>,
    roles: NameIndex<RoleNode>,
    policies: NameIndex<PolicyNode>,
    /// Role trusts by id (a trust's name is its id).
    trusts: NameIndex<TrustNode>,
}

impl Lookup {
    pub(super) fn new(org: &Org) -> Lookup {
        let mut emails = Positions::default();
        for (i, _, user) in org.users.iter() {
            emails.insert(&ascii_lower(&user.email), i);
        }
        Lookup {
            emails,
            groups: NameIndex::new(
                org.groups
                    .iter()
                    .map(|(i, _, g)| (i, g.display_name.as_str())),
            ),
            roles: NameIndex::new(org.roles.iter().map(|(i, _, r)| (i, r.name.as_str()))),
            policies: NameIndex::new(org.policies.iter().map(|(i, _, p)| (i, p.name.as_str()))),
            trusts: NameIndex::new(org.trusts.iter().map(|(i, t)| (i, t.id.as_str()))),
        }
    }
}

/// How many similar entities a failed lookup lists.
pub(super) const CANDIDATES: usize = 10;

/// How many suggestions a failed lookup carries.
pub(super) const SUGGESTIONS: usize = 3;

impl Org {
    /// Finds a user by id or email (emails compare case-insensitively).
    pub fn find_user(&self, query: &str) -> Result<UserKey, LookupError> {
        // An exact id or email is a hash lookup; the scan for similar users runs only when
        // nothing matches.
        let by_email = self.lookup.emails.get(&ascii_lower(query));
        let by_email = by_email
            .iter()
            .filter(|&&i| self.users[i].email.eq_ignore_ascii_case(query));
        let matches = positions(self.users.find(query), by_email);
        let describe = |i: UserIx| format!("`{}` ({})", self.users.id(i), self.users[i].email);
        pick(
            EntityKind::User,
            query,
            matches,
            describe,
            || {
                self.users
                    .iter()
                    .filter(|(_, id, u)| {
                        contains_ci(id, query)
                            || contains_ci(&u.email, query)
                            || contains_ci(&u.name, query)
                    })
                    .map(|(i, _, _)| i)
                    .collect()
            },
            || {
                nearest_names(
                    query,
                    self.users.iter().flat_map(|(_, id, u)| [id, &*u.email]),
                )
            },
        )
        .map(|i| self.user_key(i))
    }

    /// Finds a group by id or display name (an exact name first, then ignoring case).
    pub fn find_group(&self, query: &str) -> Result<GroupKey, LookupError> {
        find_named(
            EntityKind::Group,
            query,
            self.groups.find(query),
            &self.lookup.groups,
            self.groups.indices(),
            |i| (self.groups.id(i), self.groups[i].display_name.as_str()),
        )
        .map(|i| self.group_key(i))
    }

    /// Finds a role by id or name (an exact name first, then ignoring case).
    pub fn find_role(&self, query: &str) -> Result<RoleKey, LookupError> {
        find_named(
            EntityKind::Role,
            query,
            self.roles.find(query),
            &self.lookup.roles,
            self.roles.indices(),
            |i| (self.roles.id(i), self.roles[i].name.as_str()),
        )
        .map(|i| self.role_key(i))
    }

    /// Finds a policy by id or name (an exact name first, then ignoring case).
    pub fn find_policy(&self, query: &str) -> Result<PolicyKey, LookupError> {
        find_named(
            EntityKind::Policy,
            query,
            self.policies.find(query),
            &self.lookup.policies,
            self.policies.indices(),
            |i| (self.policies.id(i), self.policies[i].name.as_str()),
        )
        .map(|i| self.policy_key(i))
    }

    /// Finds a role trust by id.
    pub fn find_trust(&self, query: &str) -> Result<TrustKey, LookupError> {
        // A trust's name is its id: the name index finds the id.
        find_named(
            EntityKind::Trust,
            query,
            None,
            &self.lookup.trusts,
            Idx::all(self.trusts.len()),
            |i| (self.trusts[i].id.as_str(), self.trusts[i].id.as_str()),
        )
        .map(|i| self.trust_key(i))
    }
}

/// A fixed hash of a key (SipHash with zero keys): the same for the same text in one process.
pub(super) fn key_hash(key: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::hash::DefaultHasher::new();
    key.hash(&mut hasher);
    hasher.finish()
}

/// `text` with ASCII letters lowercased, borrowed when it has no uppercase ASCII letter.
pub(super) fn ascii_lower(text: &str) -> Cow<'_, str> {
    if text.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(text.to_ascii_lowercase())
    } else {
        Cow::Borrowed(text)
    }
}

pub(super) fn contains_ci(haystack: &str, needle: &str) -> bool {
    !needle.is_empty() && haystack.to_lowercase().contains(&needle.to_lowercase())
}

/// The positions of an id match and of key matches together, in snapshot order, once each.
pub(super) fn positions<'a, T: 'a>(
    id: Option<Idx<T>>,
    keyed: impl Iterator<Item = &'a Idx<T>>,
) -> Vec<Idx<T>> {
    let mut all: Vec<Idx<T>> = keyed.copied().chain(id).collect();
    if all.len() > 1 {
        all.sort_unstable();
        all.dedup();
    }
    all
}

/// Finds an entity by id or name: exact matches first (`id`, the position of the entity with
/// that id, and `names`), then names ignoring case. `entity` gives the id and name at a
/// position, for messages and the scan for similar entities when nothing matches.
pub(super) fn find_named<'a, T: 'a>(
    kind: EntityKind,
    query: &str,
    id: Option<Idx<T>>,
    names: &NameIndex<T>,
    all: impl Iterator<Item = Idx<T>> + Clone,
    entity: impl Fn(Idx<T>) -> (&'a str, &'a str),
) -> Result<Idx<T>, LookupError> {
    // The hashes name candidates; each is checked against its name.
    let exact = names.exact.get(query);
    let exact = positions(id, exact.iter().filter(|&&i| entity(i).1 == query));
    let matches = if exact.is_empty() {
        let lower = query.to_lowercase();
        let candidates = names.lower.get(&lower).iter();
        positions(
            None,
            candidates.filter(|&&i| entity(i).1.to_lowercase() == lower),
        )
    } else {
        exact
    };
    pick(
        kind,
        query,
        matches,
        |i| {
            let (id, name) = entity(i);
            format!("`{id}` ({name})")
        },
        || {
            all.clone()
                .filter(|&i| {
                    let (id, name) = entity(i);
                    contains_ci(id, query) || contains_ci(name, query)
                })
                .collect()
        },
        || {
            nearest_names(
                query,
                all.clone().flat_map(|i| {
                    let (id, name) = entity(i);
                    [id, name]
                }),
            )
        },
    )
}

/// The names nearest `query` by edit distance (case aside), alphabetically, each once: those at
/// the smallest distance within reach, at most [`SUGGESTIONS`], and how many more there were.
/// Within reach is two edits, or one in five characters of a longer query: a typo, not another
/// name.
pub(super) fn nearest_names<'a>(
    query: &str,
    names: impl Iterator<Item = &'a str>,
) -> (Vec<String>, usize) {
    let lower = query.to_lowercase();
    let reach = (lower.chars().count() / 5).max(2);
    // A name equal but for case counts as nearest (ids compare exactly).
    let mut near: Vec<(usize, &str)> = names
        .filter(|&name| name != query)
        .filter_map(|name| {
            let d = edit_distance(&lower, &name.to_lowercase());
            (d <= reach).then_some((d, name))
        })
        .collect();
    near.sort_unstable();
    near.dedup_by(|a, b| a.1 == b.1);
    // Only the nearest: a farther name is another person's, not the one meant.
    if let Some(&(best, _)) = near.first() {
        near.retain(|&(d, _)| d == best);
    }
    let more = near.len().saturating_sub(SUGGESTIONS);
    let shown = near
        .into_iter()
        .take(SUGGESTIONS)
        .map(|(_, name)| name.to_string())
        .collect();
    (shown, more)
}

/// Edit distance over characters, a swap of two neighbours counting as one edit (optimal string
/// alignment): `exmaple` is one edit from `example`. What "did you mean" suggestions are
/// ranked by, here and in the CLI.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let width = b.len() + 1;
    // Three rows: the one before the previous (for swaps), the previous, the current.
    let mut rows = vec![0usize; 3 * width];
    for (j, cell) in rows[width..2 * width].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        let (older, rest) = rows.split_at_mut(width);
        let (previous, current) = rest.split_at_mut(width);
        current[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (previous[j] + 1)
                .min(current[j - 1] + 1)
                .min(previous[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(older[j - 2] + 1);
            }
            current[j] = d;
        }
        rows.rotate_left(width);
    }
    rows[width + b.len()]
}

pub(super) fn pick<T>(
    kind: EntityKind,
    query: &str,
    matches: Vec<Idx<T>>,
    describe: impl Fn(Idx<T>) -> String,
    similar: impl Fn() -> Vec<Idx<T>>,
    nearest: impl Fn() -> (Vec<String>, usize),
) -> Result<Idx<T>, LookupError> {
    match matches.as_slice() {
        [one] => Ok(*one),
        [] => {
            let (suggestions, more_suggestions) = nearest();
            let similar = similar();
            Err(LookupError::NotFound {
                kind,
                query: query.to_string(),
                more_candidates: similar.len().saturating_sub(CANDIDATES),
                candidates: similar.into_iter().take(CANDIDATES).map(describe).collect(),
                suggestions,
                more_suggestions,
            })
        }
        many => Err(LookupError::Ambiguous {
            kind,
            query: query.to_string(),
            candidates: many.iter().map(|&i| describe(i)).collect(),
        }),
    }
}

#[cfg(test)]
mod lookup_tests {
    use super::{edit_distance, nearest_names};

    #[test]
    fn distances() {
        for (a, b, d) in [
            ("", "", 0),
            ("abc", "abc", 0),
            ("", "abc", 3),
            ("kitten", "sitting", 3),
            ("exmaple", "example", 1),
            ("u-bne", "u-ben", 1),
            ("u-bne", "u-ana", 2),
            ("ca", "abc", 3),
            ("Compute.*", "compute.*", 1),
        ] {
            assert_eq!(edit_distance(a, b), d, "{a} {b}");
        }
    }

    #[test]
    fn nearest() {
        let names = ["dev1@x", "dev2@x", "dev3@x", "dev4@x", "ops@x", "dev1@x"];
        assert_eq!(
            nearest_names("dev@x", names.into_iter()),
            (vec!["dev1@x".into(), "dev2@x".into(), "dev3@x".into()], 1)
        );
        assert_eq!(nearest_names("zzzzzz", names.into_iter()), (vec![], 0));
        assert_eq!(
            nearest_names("DEV1@X", names.into_iter()),
            (vec!["dev1@x".into()], 0)
        );
        assert_eq!(nearest_names("dev1@x", names.into_iter()).0[0], "dev2@x");
    }
}
