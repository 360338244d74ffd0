//! A fixed-size bitset over the action universe, and the type of the universe's elements.

use crate::idx::Idx;

/// The kind of a universe element: the action patterns of `Org::universe` (sorted), then an
/// overlay's extra elements numbered after them. Only a marker, for [`ElementIx`].
pub(crate) enum Element {}

/// A universe element's index: the bit that stands for it in every [`BitSet`] over the
/// universe. A path's or a rank's number cannot be passed where an element is expected.
pub(crate) type ElementIx = Idx<Element>;

/// Bits over `0..len`, stored in 64-bit words.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub(crate) struct BitSet {
    words: Vec<u64>,
}

impl BitSet {
    pub(crate) fn new(len: usize) -> BitSet {
        BitSet {
            words: vec![0; len.div_ceil(64)],
        }
    }

    pub(crate) fn insert(&mut self, bit: usize) {
        self.words[bit / 64] |= 1 << (bit % 64);
    }

    /// Sets every bit of `range`, a word at a time.
    pub(crate) fn insert_range(&mut self, range: std::ops::Range<usize>) {
        let (start, end) = (range.start, range.end);
        if start >= end {
            return;
        }
        let (first, last) = (start / 64, (end - 1) / 64);
        let head = !0u64 << (start % 64);
        let tail = !0u64 >> (63 - (end - 1) % 64);
        if first == last {
            self.words[first] |= head & tail;
            return;
        }
        self.words[first] |= head;
        for word in &mut self.words[first + 1..last] {
            *word = !0;
        }
        self.words[last] |= tail;
    }

    pub(crate) fn words(&self) -> &[u64] {
        &self.words
    }

    pub(crate) fn from_words(words: Vec<u64>) -> BitSet {
        BitSet { words }
    }

    /// The set's words, for reuse.
    pub(crate) fn into_words(self) -> Vec<u64> {
        self.words
    }

    pub(crate) fn contains(&self, bit: usize) -> bool {
        self.words
            .get(bit / 64)
            .is_some_and(|w| w & (1 << (bit % 64)) != 0)
    }

    pub(crate) fn union_with(&mut self, other: &BitSet) {
        for (a, b) in self.words.iter_mut().zip(&other.words) {
            *a |= b;
        }
    }

    /// Which words hold a bit, one bit per word (every bit set past 64 words): two sets whose
    /// summaries share no bit share no element.
    pub(crate) fn word_summary(&self) -> u64 {
        let held = (0..self.words.len()).filter(|&w| self.words[w] != 0);
        summary_of(held, self.words.len())
    }

    pub(crate) fn count(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// The bits set in both `self` and `other`, in increasing order.
    pub(crate) fn iter_and<'a>(&'a self, other: &'a BitSet) -> impl Iterator<Item = usize> + 'a {
        self.words
            .iter()
            .zip(&other.words)
            .enumerate()
            .flat_map(|(i, (&a, &b))| bits_of(i, a & b))
    }

    /// The set bits, in increasing order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.words
            .iter()
            .enumerate()
            .flat_map(|(i, &word)| bits_of(i, word))
    }
}

/// [`BitSet::word_summary`] of a set `width` words wide whose non-zero words are `held`.
pub(crate) fn summary_of(held: impl Iterator<Item = usize>, width: usize) -> u64 {
    if width > 64 {
        return u64::MAX;
    }
    held.fold(0, |acc, w| acc | 1 << w)
}

/// The set bits of word `i`, as bit indexes, ascending.
pub(crate) fn bits_of(i: usize, word: u64) -> impl Iterator<Item = usize> {
    let mut w = word;
    std::iter::from_fn(move || {
        if w == 0 {
            return None;
        }
        let bit = w.trailing_zeros() as usize;
        w &= w - 1;
        Some(i * 64 + bit)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_operations() {
        let mut a = BitSet::new(130);
        for bit in [0, 63, 64, 129] {
            a.insert(bit);
        }
        assert_eq!(a.iter().collect::<Vec<_>>(), vec![0, 63, 64, 129]);
        assert_eq!(a.count(), 4);
        let mut b = BitSet::new(130);
        b.insert(64);
        b.insert(5);
        let mut u = a.clone();
        u.union_with(&b);
        assert_eq!(u.iter().collect::<Vec<_>>(), vec![0, 5, 63, 64, 129]);
        assert_eq!(u.words().len(), 3);
        assert_eq!(BitSet::new(10).count(), 0);
        assert!(a.contains(129) && !a.contains(1) && !a.contains(500));
        assert_eq!(a.iter_and(&b).collect::<Vec<_>>(), vec![64]);
    }

    #[test]
    fn insert_range_sets_the_same_bits_as_one_by_one() {
        for len in [1, 63, 64, 65, 130, 200] {
            for start in 0..=len {
                for end in start..=len {
                    let mut by_range = BitSet::new(len);
                    by_range.insert(0);
                    let mut one_by_one = by_range.clone();
                    by_range.insert_range(start..end);
                    for bit in start..end {
                        one_by_one.insert(bit);
                    }
                    assert_eq!(by_range, one_by_one, "{len}: {start}..{end}");
                }
            }
        }
    }
}
