//! Typos on the command line. An action pattern (`--fail-if-loses`, `--fail-if-gains`,
//! `rank --keep`/`--drop`, `export --actions`) that stands for nothing the organization knows is
//! an error naming the nearest known actions, since a gate on it could never trip; so is an
//! action a typo away from a known one (`who-can --action`). A user, group, role or policy that
//! matches nothing gets "did you mean" with the nearest ids, names or emails.

use std::collections::BTreeSet;

use iamsim_core::policy::ActionPattern;
use iamsim_core::{edit_distance, LookupError};

use crate::Failure;

/// How many suggestions an error names.
const SUGGESTIONS: usize = 3;

/// Fails when `pattern` covers no element of `universe` (the catalogue's actions and the
/// patterns of the snapshot's policies) and either is an action one or two edits from a known
/// one (`compute.instance.Delet`), or is held by no element narrower than `*` and names a
/// service no known action has (`Compute.*`, `billing.*`).
///
/// Another action of a known service that the catalogue does not name (`compute.sshkey.Create`)
/// is accepted: the catalogue is partial, and a wildcard element (`compute.*`) or `*` holds it.
pub(crate) fn check_pattern(
    flag: &str,
    pattern: &ActionPattern,
    universe: &[&ActionPattern],
) -> Result<(), Failure> {
    if universe.iter().any(|e| pattern.covers(e)) {
        return Ok(());
    }
    let text = pattern.as_str();
    let close = !pattern.is_wildcard()
        && universe
            .iter()
            .any(|e| edit_distance(text, e.as_str()) <= 2);
    let held = universe
        .iter()
        .any(|e| e.as_str() != "*" && e.covers(pattern));
    let service = |p: &str| p.split('.').next().unwrap_or_default().to_string();
    let known_service = universe
        .iter()
        .any(|e| service(e.as_str()) == service(text));
    if !close && (held || known_service) {
        return Ok(());
    }
    let mut message = if close {
        format!(
            "--{flag} `{text}`: not an action of the organization (the catalogue and the \
             snapshot's policies)"
        )
    } else {
        format!(
            "--{flag} `{text}`: covers no action of the organization (the catalogue and the \
             snapshot's policies), so it can never match"
        )
    };
    let nearest = nearest(text, universe);
    if !nearest.is_empty() {
        let quoted: Vec<String> = nearest.iter().map(|c| format!("`{c}`")).collect();
        message.push_str(&format!("; did you mean {}?", or_list(&quoted)));
    }
    Err(Failure::new(message))
}

/// A failed lookup of a name given on the command line, with "did you mean" when known ids,
/// names or emails are a few edits away (see [`lookup_message`]).
pub(crate) fn lookup(error: LookupError) -> Failure {
    Failure::new(lookup_message(&error))
}

/// The lookup error's message, then `; did you mean `a` or `b`?` with the nearest names the
/// error carries (at most three), and how many as near were left out.
pub(crate) fn lookup_message(error: &LookupError) -> String {
    let mut message = error.to_string();
    if let LookupError::NotFound {
        suggestions,
        more_suggestions,
        ..
    } = error
    {
        if !suggestions.is_empty() {
            let quoted: Vec<String> = suggestions.iter().map(|c| format!("`{c}`")).collect();
            message.push_str(&format!("; did you mean {}?", or_list(&quoted)));
            if *more_suggestions > 0 {
                message.push_str(&format!(" ({more_suggestions} more as near not shown)"));
            }
        }
    }
    message
}

/// An action given to a query (`who-can --action`) that is not an element of the universe and
/// is one or two edits from a known concrete action (`compute.instance.Delet`): an error naming
/// the nearest ones. Other unknown actions pass, to be evaluated as the narrowest wildcard
/// covering them, as before.
pub(crate) fn check_action(
    flag: &str,
    action: &ActionPattern,
    universe: &[&ActionPattern],
) -> Result<(), Failure> {
    if action.is_wildcard() || universe.contains(&action) {
        return Ok(());
    }
    let text = action.as_str();
    let close: Vec<&str> = universe
        .iter()
        .filter(|e| !e.is_wildcard())
        .map(|e| e.as_str())
        .filter(|e| edit_distance(text, e) <= 2)
        .collect();
    if close.is_empty() {
        return Ok(());
    }
    let nearest = nearest(text, universe);
    let quoted: Vec<String> = nearest.iter().map(|c| format!("`{c}`")).collect();
    let mut message = format!(
        "--{flag} `{text}`: not an action of the organization (the catalogue and the snapshot's \
         policies)"
    );
    if !quoted.is_empty() {
        message.push_str(&format!("; did you mean {}?", or_list(&quoted)));
    }
    Err(Failure::new(message))
}

/// `a`, `a or b`, `a, b or c`.
fn or_list(items: &[String]) -> String {
    match items.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

/// The known patterns nearest `text`: the universe's elements and the wildcards above them
/// (`compute.*`, `compute.instance.*`), those sharing a segment with `text` (case aside)
/// first, then by edit distance (case aside), then alphabetically.
fn nearest(text: &str, universe: &[&ActionPattern]) -> Vec<String> {
    let mut candidates = BTreeSet::new();
    for element in universe {
        let element = element.as_str();
        candidates.insert(element.to_string());
        let segments: Vec<&str> = element.trim_end_matches(".*").split('.').collect();
        for n in 1..segments.len().min(3) {
            candidates.insert(format!("{}.*", segments[..n].join(".")));
        }
    }
    candidates.remove("*");
    let lower = text.to_lowercase();
    let words: Vec<&str> = lower.split('.').filter(|s| *s != "*").collect();
    let mut ranked: Vec<(bool, usize, String)> = candidates
        .into_iter()
        .map(|c| {
            let c_lower = c.to_lowercase();
            let shares = c_lower.split('.').any(|s| words.contains(&s));
            (!shares, edit_distance(&lower, &c_lower), c)
        })
        // Far and unrelated names are noise, not suggestions.
        .filter(|(unrelated, d, _)| !unrelated || *d <= 2 + lower.len() / 4)
        .collect();
    ranked.sort();
    ranked
        .into_iter()
        .take(SUGGESTIONS)
        .map(|(_, _, c)| c)
        .collect()
}
