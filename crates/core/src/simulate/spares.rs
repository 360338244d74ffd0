//! Per-worker spare vectors: a user's temporaries are handed back once judged and taken by
//! the worker's next user, so that a wide what-if allocates them once per worker rather than
//! once per user.

use std::cell::RefCell;

/// A worker's spare vectors of one kind (a `thread_local!`).
pub(super) type Spares<T> = RefCell<Vec<Vec<T>>>;

/// How many spare vectors of one kind a worker keeps: more than one user holds at once (the
/// most is `Gathered`'s and the mask's word vectors, ten), and a bound on what a worker holds.
const KEPT: usize = 16;

/// An empty vector: a spare one when the worker has one (`KEY.with(take)`).
#[inline]
pub(super) fn take<T>(spares: &Spares<T>) -> Vec<T> {
    spares.borrow_mut().pop().unwrap_or_default()
}

/// Keeps `vec`, emptied, for the worker's next [`take`]
/// (`KEY.with(|spares| give(spares, vec))`).
#[inline]
pub(super) fn give<T>(spares: &Spares<T>, mut vec: Vec<T>) {
    vec.clear();
    let mut kept = spares.borrow_mut();
    if kept.len() < KEPT {
        kept.push(vec);
    }
}
