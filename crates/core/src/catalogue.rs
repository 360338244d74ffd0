//! The action universe's known part: Vultr's action names.
//!
//! The bundled list comes from Vultr's published actions map and is known to be partial, so the
//! engine adds every literal action a snapshot names, and keeps wildcards visible in results (see
//! `docs/semantics.md`).

use std::collections::BTreeSet;

use crate::error::CatalogueError;
use crate::policy::ActionPattern;

const BUNDLED: &str = include_str!("../data/actions.txt");

/// A set of known concrete actions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catalogue {
    actions: BTreeSet<ActionPattern>,
}

impl Catalogue {
    /// The catalogue bundled with iamsim.
    pub fn bundled() -> Catalogue {
        Catalogue::parse(BUNDLED).expect("the bundled catalogue is valid")
    }

    /// Parses a catalogue: one action per line; blank lines and lines starting with `#` are skipped.
    pub fn parse(text: &str) -> Result<Catalogue, CatalogueError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut actions = BTreeSet::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let action = ActionPattern::parse_action(line).map_err(|reason| CatalogueError {
                line: i + 1,
                reason,
            })?;
            actions.insert(action);
        }
        Ok(Catalogue { actions })
    }

    /// Whether `action` is known.
    pub fn contains(&self, action: &ActionPattern) -> bool {
        self.actions.contains(action)
    }

    /// The known actions, sorted.
    pub fn iter(&self) -> impl Iterator<Item = &ActionPattern> {
        self.actions.iter()
    }

    /// How many actions are known.
    pub fn len(&self) -> usize {
        self.actions.len()
    }

    /// Whether no action is known.
    pub fn is_empty(&self) -> bool {
        self.actions.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_is_the_shared_list() {
        let catalogue = Catalogue::bundled();
        assert!(catalogue.len() > 100 && !catalogue.is_empty());
        let empty = Catalogue::parse("# nothing but a comment\n\n").unwrap();
        assert!(empty.is_empty());
        assert_eq!(empty.len(), 0);
        assert!(catalogue.contains(&ActionPattern::parse("compute.instance.Create").unwrap()));
    }

    #[test]
    fn parse_reports_the_line() {
        let err =
            Catalogue::parse("# comment\n\ncompute.instance.Create\ncompute.*\n").unwrap_err();
        assert_eq!(err.line, 4);
        assert_eq!(
            err.reason,
            crate::PatternError::NotAnAction {
                text: "compute.*".into()
            }
        );
        assert!(
            err.to_string()
                .starts_with("line 4: `compute.*` is a wildcard"),
            "{err}"
        );
        let err = Catalogue::parse("compute instance").unwrap_err();
        assert!(err.to_string().contains("whitespace"), "{err}");
    }
}
