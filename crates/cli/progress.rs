//! A progress bar on stderr for org-wide work, shown only when stderr is a terminal and the
//! work has run for more than a second; nothing otherwise (pipes, files and CI logs stay clean).

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How long work runs before its bar appears, unless `IAMSIM_PROGRESS_DELAY_MS` says otherwise
/// (the tests set it to 0).
fn quiet_for() -> Duration {
    std::env::var("IAMSIM_PROGRESS_DELAY_MS")
        .ok()
        .and_then(|ms| ms.parse().ok())
        .map_or(Duration::from_secs(1), Duration::from_millis)
}

/// A bar that appears once the work is slow, if stderr is a terminal.
pub struct Progress {
    bar: Option<ProgressBar>,
    started: Instant,
    quiet_for: Duration,
    /// Whether the bar is drawn yet. Atomic: `redundant` reports from the pool's workers (one
    /// call at a time).
    shown: AtomicBool,
}

impl Progress {
    /// A bar for `what` (`judging users`, `trying removals`), drawn only on a terminal.
    pub fn new(what: &str) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::hidden());
            let style = ProgressStyle::with_template(&format!(
                "{what} {{bar:30}} {{pos}}/{{len}} ({{elapsed}}, about {{eta}} left)"
            ))
            .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar
        });
        Progress {
            bar,
            started: Instant::now(),
            quiet_for: quiet_for(),
            shown: AtomicBool::new(false),
        }
    }

    /// Records `done` of `total`.
    pub fn update(&self, done: usize, total: usize) {
        let Some(bar) = &self.bar else {
            return;
        };
        if !self.shown.load(Ordering::Relaxed) && self.started.elapsed() >= self.quiet_for {
            bar.set_draw_target(ProgressDrawTarget::stderr());
            self.shown.store(true, Ordering::Relaxed);
        }
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    }

    /// Removes the bar before the report is written.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// A bar left behind by an early return (an error while writing) is cleared too, so that the
/// error's line does not follow a half-drawn bar.
impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}
