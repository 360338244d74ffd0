//! Typed dense indices: an [`Idx<T>`] is a `u32` that knows which kind of entity it points
//! at, so that a group's index cannot be passed where a user's is expected (rust-analyzer's
//! la-arena pattern, written here to keep the dependency tree as it is).
//!
//! [`Arena<T>`] holds the entities of one kind by id, in snapshot order, and hands out their
//! indices; [`IdxVec<T, V>`] is a dense side table with one `V` per entity of kind `T` (the
//! reverse adjacency lists, the path steps). Both are indexed by `Idx<T>` only. The one place
//! where a `usize` position becomes an index is [`Idx::new`].

use std::fmt;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::ops::{Index, IndexMut};

use indexmap::IndexMap;

/// The index of an entity of kind `T` in its [`Arena`].
pub(crate) struct Idx<T> {
    raw: u32,
    // `fn() -> T`: covariant, and `Send`/`Sync` whatever `T` is.
    kind: PhantomData<fn() -> T>,
}

impl<T> Idx<T> {
    /// The smallest index, and the largest one: the ends of a range over every index.
    pub(crate) const MIN: Idx<T> = Idx::from_raw(0);
    pub(crate) const MAX: Idx<T> = Idx::from_raw(u32::MAX);

    /// The index at `position`.
    ///
    /// # Panics
    ///
    /// If `position` does not fit in a `u32`: no organization has four billion entities of a
    /// kind (the generator and the snapshot reader stop far below).
    #[inline]
    pub(crate) fn new(position: usize) -> Idx<T> {
        Idx::from_raw(u32::try_from(position).expect("fewer than 2^32 entities of a kind"))
    }

    /// The index whose raw value is `raw`.
    #[inline]
    pub(crate) const fn from_raw(raw: u32) -> Idx<T> {
        Idx {
            raw,
            kind: PhantomData,
        }
    }

    /// The raw value.
    #[inline]
    pub(crate) const fn raw(self) -> u32 {
        self.raw
    }

    /// The position, to index a plain slice laid out like the arena.
    #[inline]
    pub(crate) const fn index(self) -> usize {
        // Lossless: `usize` is at least 32 bits on every target this crate builds for.
        self.raw as usize
    }

    /// Every index below `len`, in order.
    pub(crate) fn all(
        len: usize,
    ) -> impl DoubleEndedIterator<Item = Idx<T>> + ExactSizeIterator + Clone {
        (0..len).map(Idx::new)
    }
}

// Written out by hand: derives would ask the same of `T`, which is only a marker.
impl<T> Clone for Idx<T> {
    fn clone(&self) -> Idx<T> {
        *self
    }
}

impl<T> Copy for Idx<T> {}

impl<T> PartialEq for Idx<T> {
    fn eq(&self, other: &Idx<T>) -> bool {
        self.raw == other.raw
    }
}

impl<T> Eq for Idx<T> {}

impl<T> PartialOrd for Idx<T> {
    fn partial_cmp(&self, other: &Idx<T>) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl<T> Ord for Idx<T> {
    fn cmp(&self, other: &Idx<T>) -> std::cmp::Ordering {
        self.raw.cmp(&other.raw)
    }
}

impl<T> Hash for Idx<T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.raw.hash(state);
    }
}

impl<T> fmt::Debug for Idx<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = std::any::type_name::<T>();
        let kind = kind.rsplit("::").next().unwrap_or(kind);
        write!(f, "Idx::<{kind}>({})", self.raw)
    }
}

/// A run of consecutive indices, `start` included, `end` not: a policy's statements.
pub(crate) struct IdxRange<T> {
    start: u32,
    end: u32,
    kind: PhantomData<fn() -> T>,
}

impl<T> IdxRange<T> {
    /// The `len` indices from `start`.
    pub(crate) fn new(start: Idx<T>, len: usize) -> IdxRange<T> {
        IdxRange {
            start: start.raw,
            end: Idx::<T>::new(start.index() + len).raw,
            kind: PhantomData,
        }
    }
}

impl<T> Iterator for IdxRange<T> {
    type Item = Idx<T>;

    fn next(&mut self) -> Option<Idx<T>> {
        (self.start < self.end).then(|| {
            self.start += 1;
            Idx::from_raw(self.start - 1)
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let len = Idx::<T>::from_raw(self.end - self.start).index();
        (len, Some(len))
    }
}

impl<T> ExactSizeIterator for IdxRange<T> {}

impl<T> Clone for IdxRange<T> {
    fn clone(&self) -> IdxRange<T> {
        IdxRange {
            start: self.start,
            end: self.end,
            kind: PhantomData,
        }
    }
}

impl<T> PartialEq for IdxRange<T> {
    fn eq(&self, other: &IdxRange<T>) -> bool {
        (self.start, self.end) == (other.start, other.end)
    }
}

impl<T> Eq for IdxRange<T> {}

impl<T> fmt::Debug for IdxRange<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.start, self.end)
    }
}

/// The entities of one kind, by id, in snapshot order: the only owner of their indices.
#[derive(Debug, Clone)]
pub(crate) struct Arena<T> {
    items: IndexMap<String, T>,
}

impl<T> Arena<T> {
    pub(crate) fn with_capacity(capacity: usize) -> Arena<T> {
        Arena {
            items: IndexMap::with_capacity(capacity),
        }
    }

    /// Adds an entity (ids are unique: the compiler checked them before) and returns its index.
    pub(crate) fn alloc(&mut self, id: String, item: T) -> Idx<T> {
        let (position, _) = self.items.insert_full(id, item);
        Idx::new(position)
    }

    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    /// Every index, in snapshot order.
    pub(crate) fn indices(
        &self,
    ) -> impl DoubleEndedIterator<Item = Idx<T>> + ExactSizeIterator + Clone {
        Idx::all(self.items.len())
    }

    /// Every entity with its index and id, in snapshot order.
    pub(crate) fn iter(&self) -> impl DoubleEndedIterator<Item = (Idx<T>, &str, &T)> {
        self.items
            .iter()
            .enumerate()
            .map(|(i, (id, item))| (Idx::new(i), id.as_str(), item))
    }

    /// Every entity, in snapshot order.
    pub(crate) fn values(&self) -> impl DoubleEndedIterator<Item = &T> + ExactSizeIterator {
        self.items.values()
    }

    /// The index of the entity with this id.
    pub(crate) fn find(&self, id: &str) -> Option<Idx<T>> {
        self.items.get_index_of(id).map(Idx::new)
    }

    /// An entity's id.
    pub(crate) fn id(&self, idx: Idx<T>) -> &str {
        self.items
            .get_index(idx.index())
            .expect("index of this arena")
            .0
    }
}

impl<T> Index<Idx<T>> for Arena<T> {
    type Output = T;

    #[inline]
    fn index(&self, idx: Idx<T>) -> &T {
        &self.items[idx.index()]
    }
}

impl<T> IndexMut<Idx<T>> for Arena<T> {
    #[inline]
    fn index_mut(&mut self, idx: Idx<T>) -> &mut T {
        &mut self.items[idx.index()]
    }
}

/// A dense side table: one `V` per entity of kind `T`, laid out like the entities' arena.
#[derive(Clone)]
pub(crate) struct IdxVec<T, V> {
    items: Vec<V>,
    kind: PhantomData<fn() -> T>,
}

impl<T, V> IdxVec<T, V> {
    /// `len` copies of `value`.
    pub(crate) fn filled(len: usize, value: V) -> IdxVec<T, V>
    where
        V: Clone,
    {
        IdxVec::from(vec![value; len])
    }

    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Room for `more` values at once, rather than growing push by push.
    pub(crate) fn reserve(&mut self, more: usize) {
        self.items.reserve(more);
    }

    /// Adds a value at the end and returns its index.
    pub(crate) fn push(&mut self, value: V) -> Idx<T> {
        self.items.push(value);
        Idx::new(self.items.len() - 1)
    }

    /// The value at an index, if there is one.
    #[inline]
    pub(crate) fn get(&self, idx: Idx<T>) -> Option<&V> {
        self.items.get(idx.index())
    }

    /// Every value with its index, in order.
    pub(crate) fn iter(&self) -> impl DoubleEndedIterator<Item = (Idx<T>, &V)> {
        self.items.iter().enumerate().map(|(i, v)| (Idx::new(i), v))
    }
}

impl<T, V> Default for IdxVec<T, V> {
    fn default() -> IdxVec<T, V> {
        IdxVec::from(Vec::new())
    }
}

impl<T, V: fmt::Debug> fmt::Debug for IdxVec<T, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.items.fmt(f)
    }
}

impl<T, V> From<Vec<V>> for IdxVec<T, V> {
    fn from(items: Vec<V>) -> IdxVec<T, V> {
        IdxVec {
            items,
            kind: PhantomData,
        }
    }
}

impl<T, V> FromIterator<V> for IdxVec<T, V> {
    fn from_iter<I: IntoIterator<Item = V>>(iter: I) -> IdxVec<T, V> {
        IdxVec::from(iter.into_iter().collect::<Vec<V>>())
    }
}

impl<T, V> Index<Idx<T>> for IdxVec<T, V> {
    type Output = V;

    #[inline]
    fn index(&self, idx: Idx<T>) -> &V {
        &self.items[idx.index()]
    }
}

impl<T, V> IndexMut<Idx<T>> for IdxVec<T, V> {
    #[inline]
    fn index_mut(&mut self, idx: Idx<T>) -> &mut V {
        &mut self.items[idx.index()]
    }
}

#[cfg(test)]
mod tests {
    use super::{Arena, Idx, IdxRange, IdxVec};

    struct User;

    #[test]
    fn arena_hands_out_indices_in_order() {
        let mut arena: Arena<&str> = Arena::with_capacity(2);
        let ana = arena.alloc("u-ana".into(), "ana");
        let ben = arena.alloc("u-ben".into(), "ben");
        assert_eq!((ana.raw(), ben.index()), (0, 1));
        assert_eq!(arena[ben], "ben");
        assert_eq!(arena.id(ana), "u-ana");
        assert_eq!(arena.find("u-ben"), Some(ben));
        assert_eq!(arena.find("u-cy"), None);
        assert_eq!(arena.indices().collect::<Vec<_>>(), [ana, ben]);
    }

    #[test]
    fn side_tables_are_indexed_by_their_kind() {
        let mut counts: IdxVec<User, u8> = IdxVec::filled(3, 0);
        counts[Idx::new(2)] += 5;
        let seen: Vec<(u32, u8)> = counts.iter().map(|(i, &n)| (i.raw(), n)).collect();
        assert_eq!(seen, [(0, 0), (1, 0), (2, 5)]);
        assert_eq!(format!("{:?}", Idx::<User>::new(7)), "Idx::<User>(7)");
        let run: Vec<u32> = IdxRange::<User>::new(Idx::new(3), 2)
            .map(Idx::raw)
            .collect();
        assert_eq!(run, [3, 4]);
        assert_eq!(IdxRange::<User>::new(Idx::new(3), 0).count(), 0);
    }
}
