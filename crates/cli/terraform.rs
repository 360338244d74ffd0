//! Terraform plans: `impact --terraform-plan PLAN.json` and `terraform-changes PLAN.json`.
//!
//! The mapping itself is `iamsim_core::terraform`; here the plan is read from a file, its
//! findings are printed as `warning:` lines, and a finding that hides a change trips the gates
//! unless `--allow-unknown`.

use std::path::{Path, PathBuf};

use iamsim_core::terraform::{plan_changes, PlanChanges};
use iamsim_core::Snapshot;

use crate::{Failure, ImpactArgs};

/// A baseline snapshot, with where it comes from (a path, or `demo`).
pub(crate) type Baseline = (Snapshot, String);

/// A plan read and mapped, for `impact`.
pub(crate) struct Planned {
    path: PathBuf,
    mapped: PlanChanges,
}

impl Planned {
    /// The change specs, in the order the engine applies them.
    pub(crate) fn specs(&self) -> Vec<iamsim_core::ChangeSpec> {
        self.mapped.specs()
    }

    /// A change that cannot be made, named by the resource it comes from.
    pub(crate) fn failure(&self, index: usize, error: impl std::fmt::Display) -> Failure {
        let address = self
            .mapped
            .changes
            .get(index)
            .map_or("?", |c| c.address.as_str());
        Failure::new(format!(
            "{}: {address} (change {index} of the mapped changes): {error}",
            self.path.display()
        ))
    }

    /// With gates set, exit code 1 (and a `gate tripped:` line) when a finding hides a change,
    /// unless `--allow-unknown`.
    pub(crate) fn gate(&self, gates_set: bool, allow_unknown: bool) -> u8 {
        let hidden = self
            .mapped
            .findings
            .iter()
            .filter(|f| f.hides_change())
            .count();
        if !gates_set || allow_unknown || hidden == 0 {
            return 0;
        }
        eprintln!(
            "gate tripped: --terraform-plan: {hidden} finding(s) hide changes iamsim cannot \
             simulate (the warnings above); --allow-unknown judges the mapped changes alone"
        );
        1
    }
}

/// For `impact`: with `--terraform-plan`, the baseline read (with where it comes from) and the
/// plan mapped against it; `None` without the option. The caller compiles the baseline with
/// the entities the plan creates.
pub(crate) fn impact_input(args: &ImpactArgs) -> Result<Option<(Baseline, Planned)>, Failure> {
    let Some(path) = &args.terraform_plan else {
        if args.allow_unknown {
            return Err(Failure::new(
                "--allow-unknown is for --terraform-plan PLAN.json".to_string(),
            ));
        }
        return Ok(None);
    };
    if args.changes.is_some() || args.kind.is_some() {
        return Err(Failure::new(
            "give one of --terraform-plan PLAN.json, --changes FILE or a change subcommand"
                .to_string(),
        ));
    }
    let (snapshot, origin) = crate::read_input(&args.input)?;
    let mapped = read(path, Some(&snapshot))?;
    if mapped.changes.is_empty() {
        eprintln!(
            "note: {}: no change of the plan maps to a change iamsim simulates",
            path.display()
        );
    }
    Ok(Some((
        (snapshot, origin),
        Planned {
            path: path.clone(),
            mapped,
        },
    )))
}

/// `iamsim terraform-changes PLAN.json [--snapshot FILE]`: the change file the plan maps to, on
/// stdout; findings on stderr.
pub(crate) fn changes(plan: &Path, snapshot: Option<&Path>) -> Result<u8, Failure> {
    let snapshot = snapshot.map(crate::read_snapshot).transpose()?;
    let mapped = read(plan, snapshot.as_ref())?;
    crate::emit_json(&mapped.specs())?;
    Ok(0)
}

/// Reads and maps a plan file, printing its findings as warnings.
fn read(path: &Path, baseline: Option<&Snapshot>) -> Result<PlanChanges, Failure> {
    let bytes = iamsim_vultr::files::read_limited(path, crate::input_limit())
        .map_err(|e| crate::io_failure(path, e))?;
    let mapped = plan_changes(&bytes, baseline)
        .map_err(|e| Failure::new(format!("{}: {e}", path.display())))?;
    for finding in &mapped.findings {
        eprintln!(
            "{} {}: {}",
            crate::label(crate::Label::Warning),
            path.display(),
            crate::render::clean(&finding.to_string())
        );
    }
    for change in mapped.changes.iter().filter(|c| c.worst_case) {
        let spec = serde_json::to_string(&change.change).unwrap_or_default();
        eprintln!(
            "{} {}: {}: worst case, not certain: {}",
            crate::label(crate::Label::Warning),
            path.display(),
            change.address,
            crate::render::clean(&spec)
        );
    }
    Ok(mapped)
}
