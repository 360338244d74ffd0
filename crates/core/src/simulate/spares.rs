//! Per-worker spare vectors: a user's temporaries are handed back once judged and taken by
//! the worker's next user, so that a wide what-if allocates them once per worker rather than
//! once per user.

use std::cell::RefCell;

/// A worker's spare vectors of one kind (a `thread_local!`).
pub(super) type Spares<T> = RefCell<Vec<Vec<T>>>;

/// How many spare vectors of one kind a worker keeps: more than one user holds at once (the
/// most is a counted user's word vectors: its mask and three lists), and a bound on what a
/// worker holds.
const KEPT: usize = 16;

/// An empty vector: a spare one when the worker has one (`KEY.with(take)`).
#[inline]
pub(super) fn take<T>(spares: &Spares<T>) -> Vec<T> {
    spares.borrow_mut().pop().unwrap_or_default()
}

/// Keeps `vec`, emptied, for the worker's next [`take`]
/// (`KEY.with(|spares| give(spares, vec))`); not when it has no room to lend.
#[inline]
pub(super) fn give<T>(spares: &Spares<T>, mut vec: Vec<T>) {
    if vec.capacity() == 0 {
        return;
    }
    vec.clear();
    let mut kept = spares.borrow_mut();
    if kept.len() < KEPT {
        kept.push(vec);
    }
}

/// An empty vector with `vec`'s room, for elements of another lifetime (or any type of the same
/// size and alignment): how a spare is kept across users whose elements borrow from each call
/// (`'static` while kept, the call's lifetime while used). The standard library collects a
/// vector's own iterator into elements of the same layout in place, reusing its allocation.
pub(super) fn recycled<T, U>(vec: Vec<T>) -> Vec<U> {
    vec.into_iter().filter_map(|_| None).collect()
}

#[cfg(test)]
mod tests {
    use super::{give, recycled, take, Spares};
    use std::cell::RefCell;

    #[test]
    fn a_recycled_vector_keeps_its_room_for_another_lifetime() {
        let text = String::from("borrowed");
        let mut used: Vec<(u32, &str)> = Vec::with_capacity(40);
        used.push((1, &text));
        let kept: Vec<(u32, &'static str)> = recycled(used);
        assert!(kept.is_empty());
        assert!(kept.capacity() >= 40, "room lost: {}", kept.capacity());
        let again: Vec<(u32, &str)> = recycled(kept);
        assert!(again.capacity() >= 40);
    }

    #[test]
    fn only_vectors_with_room_are_kept() {
        let spares: Spares<u64> = RefCell::new(Vec::new());
        give(&spares, Vec::new());
        assert!(spares.borrow().is_empty());
        give(&spares, vec![1, 2, 3]);
        let lent = take(&spares);
        assert!(lent.is_empty() && lent.capacity() >= 3);
        assert!(spares.borrow().is_empty());
    }
}
