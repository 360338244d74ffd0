//! [`ImpactStream`]: a what-if that writes itself user by user when serialized.

use super::Depth;
use crate::eval::Overlay;
use crate::impact::{ActionIds, Interner};
use crate::org::Org;
use crate::report::{ChangeSummary, Impact};

/// A what-if that writes itself user by user when serialized: [`Org::simulate_stream`].
pub struct ImpactStream<'o> {
    pub(super) org: &'o Org,
    pub(super) overlay: Overlay,
    pub(super) baseline: Overlay,
    /// The users to report, in report order (dense indexes).
    pub(super) order: Vec<u32>,
    /// The report without its users and paths: version, changes, summary, actions.
    pub(super) head: Impact,
    /// Per rank of an element, its action id.
    pub(super) action_ids: ActionIds,
    pub(super) progress: &'o dyn Fn(usize, usize),
}

impl ImpactStream<'_> {
    /// The counts of the whole report (known before any user is written).
    pub fn summary(&self) -> &crate::report::ImpactSummary {
        &self.head.summary
    }

    /// The changes applied (those that do something).
    pub fn changes(&self) -> &[ChangeSummary] {
        &self.head.changes
    }

    /// The report with its first `n` users only (the most affected), judged now; the summary
    /// and the per-action counts still describe every user, as after
    /// [`Impact::retain_users`]. What a table of the first users needs, without judging the
    /// others in full.
    pub fn first(&self, n: usize) -> Impact {
        let order = &self.order[..n.min(self.order.len())];
        let mut interner = Interner::new(self.org, &self.baseline, &self.overlay);
        let mut users = Vec::with_capacity(order.len());
        self.org.judge_batches(
            order,
            (&self.baseline, &self.overlay),
            Depth::Full,
            &|_| true,
            &mut |judged, done| match judged {
                Some(judged) => {
                    users.push(interner.convert_final(judged, &self.action_ids));
                    true
                }
                None => {
                    (self.progress)(done, order.len());
                    true
                }
            },
        );
        let (paths, coverage) = interner.table(&self.action_ids);
        Impact {
            users,
            paths,
            coverage,
            ..self.head.clone()
        }
    }
}

impl serde::Serialize for ImpactStream<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let interner =
            std::cell::RefCell::new(Interner::new(self.org, &self.baseline, &self.overlay));
        let mut report = serializer.serialize_struct("Impact", 7)?;
        report.serialize_field("schema_version", &self.head.schema_version)?;
        report.serialize_field("changes", &self.head.changes)?;
        report.serialize_field("summary", &self.head.summary)?;
        report.serialize_field(
            "users",
            &StreamedUsers {
                stream: self,
                interner: &interner,
            },
        )?;
        report.serialize_field("actions", &self.head.actions)?;
        let mut interner = interner.borrow_mut();
        let (paths, coverage) = interner.table_rows(&self.action_ids);
        report.serialize_field("paths", &paths)?;
        report.serialize_field("coverage", &Coverage(&coverage))?;
        report.end()
    }
}

/// The coverage table of an [`ImpactStream`], serialized as [`Impact::coverage`] is.
struct Coverage<'a>(&'a [Vec<crate::report::ActionId>]);

impl serde::Serialize for Coverage<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        crate::report::coverage(self.0, serializer)
    }
}

/// The users of an [`ImpactStream`], judged and written one batch at a time.
pub(super) struct StreamedUsers<'s, 'o> {
    stream: &'s ImpactStream<'o>,
    interner: &'s std::cell::RefCell<Interner<'s>>,
}

impl serde::Serialize for StreamedUsers<'_, '_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{Error, SerializeSeq};
        let stream = self.stream;
        let mut seq = serializer.serialize_seq(Some(stream.order.len()))?;
        let mut failed = None;
        let mut interner = self.interner.borrow_mut();
        stream.org.judge_batches(
            &stream.order,
            (&stream.baseline, &stream.overlay),
            Depth::Full,
            // Every user of the order was reported by the first pass.
            &|_| true,
            &mut |judged, done| match judged {
                Some(judged) if failed.is_none() => {
                    let user = interner.convert_final(judged, &stream.action_ids);
                    if let Err(e) = seq.serialize_element(&user) {
                        failed = Some(e.to_string());
                    }
                    true
                }
                Some(_) => true,
                None => {
                    // The coverage of the paths this batch numbered, while the pool judges
                    // the next batch: the table is mostly done when the last user is written.
                    interner.cover_paths(&stream.action_ids);
                    (stream.progress)(done, stream.order.len());
                    true
                }
            },
        );
        if let Some(e) = failed {
            return Err(S::Error::custom(e));
        }
        seq.end()
    }
}
