//! The policy language: effects, action patterns and resource patterns.
//!
//! Grammar (case-sensitive; a segment is one or more of `A-Z a-z 0-9 - _`):
//!
//! ```text
//! action pattern   := "*" | seg ".*" | seg "." seg ".*" | seg "." seg "." seg
//! resource pattern := "*" | type ":*" | id
//! ```
//!
//! Anything else is rejected with a reason; nothing is normalised.

use std::fmt;
use std::sync::Arc;

use serde::Serialize;

use crate::error::{DocumentError, PatternError};

/// Whether a statement allows or denies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Effect {
    /// Grants the actions.
    Allow,
    /// Forbids the actions, overriding every Allow.
    Deny,
}

impl Effect {
    /// Parses `Allow` or `Deny`, exactly.
    pub fn parse(text: &str) -> Result<Effect, PatternError> {
        match text {
            "Allow" => Ok(Effect::Allow),
            "Deny" => Ok(Effect::Deny),
            other => Err(PatternError::Effect {
                text: other.to_string(),
            }),
        }
    }
}

impl fmt::Display for Effect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Effect::Allow => "Allow",
            Effect::Deny => "Deny",
        })
    }
}

/// An action pattern: a concrete action (`compute.instance.Create`) or a wildcard (`compute.*`,
/// `compute.instance.*`, `*`).
///
/// The same type names the elements of the action universe: a wildcard element stands for "the
/// actions this wildcard covers that the catalogue does not name".
///
/// The text is shared: a clone costs a reference count, not a copy (a large organization names
/// the same few thousand patterns hundreds of thousands of times).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ActionPattern {
    text: Arc<str>,
}

impl ActionPattern {
    /// Parses and validates a pattern.
    pub fn parse(text: &str) -> Result<ActionPattern, PatternError> {
        let reason = |reason: &'static str| {
            Err(PatternError::Action {
                text: text.to_string(),
                reason,
            })
        };
        if text.is_empty() {
            return reason("empty");
        }
        if text.len() > MAX_PATTERN_LEN {
            return Err(PatternError::ActionTooLong {
                text: text.to_string(),
            });
        }
        if text == "*" {
            return Ok(ActionPattern {
                text: Arc::from(text),
            });
        }
        if text.chars().any(char::is_control) {
            return reason("contains a control character");
        }
        if text.chars().any(char::is_whitespace) {
            return reason("contains whitespace");
        }
        let segments: Vec<&str> = text.split('.').collect();
        let (last, prefix) = segments
            .split_last()
            .expect("split yields at least one piece");
        let wildcard = *last == "*";
        for (i, segment) in segments.iter().enumerate() {
            if segment.is_empty() {
                return reason("empty segment");
            }
            if segment.contains('*') && !(wildcard && i == segments.len() - 1) {
                return reason(
                    "`*` is allowed only alone or as the whole last segment (`svc.*`, `svc.res.*`)",
                );
            }
            if !segment
                .chars()
                .all(|c| c == '*' || c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return reason("a segment may hold only letters, digits, `-` and `_`");
            }
        }
        if wildcard && !(1..=2).contains(&prefix.len()) {
            return reason("a wildcard is `*`, `service.*` or `service.resource.*`");
        }
        if !wildcard && segments.len() != 3 {
            return reason("an action has three segments: `service.resource.Operation`");
        }
        Ok(ActionPattern {
            text: Arc::from(text),
        })
    }

    /// Parses a concrete action (no wildcard).
    pub fn parse_action(text: &str) -> Result<ActionPattern, PatternError> {
        let pattern = ActionPattern::parse(text)?;
        if pattern.is_wildcard() {
            return Err(PatternError::NotAnAction {
                text: text.to_string(),
            });
        }
        Ok(pattern)
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// `*`, `svc.*` or `svc.res.*`.
    pub fn is_wildcard(&self) -> bool {
        self.text.ends_with('*')
    }

    /// For a wildcard, the text before the `*` (`compute.` for `compute.*`, empty for `*`).
    fn prefix(&self) -> &str {
        &self.text[..self.text.len() - 1]
    }

    /// Whether this pattern covers `element`: a concrete action, or the unnamed actions a
    /// wildcard element stands for (which `compute.*` covers when the element is
    /// `compute.instance.*`, and `compute.instance.*` does not when the element is `compute.*`).
    pub fn covers(&self, element: &ActionPattern) -> bool {
        if self.is_wildcard() {
            element.text.starts_with(self.prefix())
        } else {
            self.text == element.text
        }
    }

    /// The positions in `sorted` (sorted, without repeats) of the elements this pattern
    /// [covers](ActionPattern::covers): one range, since the elements a wildcard covers are those
    /// that start with its prefix, which sort together, and a concrete action covers only itself.
    pub(crate) fn cover_range(&self, sorted: &[ActionPattern]) -> std::ops::Range<usize> {
        if self.is_wildcard() {
            let prefix = self.prefix();
            let start = sorted.partition_point(|e| &*e.text < prefix);
            let len = sorted[start..].partition_point(|e| e.text.starts_with(prefix));
            start..start + len
        } else {
            match sorted.binary_search(self) {
                Ok(i) => i..i + 1,
                Err(i) => i..i,
            }
        }
    }

    /// Whether some action is matched by both patterns.
    pub fn overlaps(&self, other: &ActionPattern) -> bool {
        self.covers(other) || other.covers(self)
    }
}

impl fmt::Display for ActionPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// A resource pattern: `*`, a typed wildcard such as `registry:*`, or one resource id.
///
/// The same type names resource keys in results: `*` stands for "any resource not named
/// separately", `registry:*` for "any registry not named separately".
///
/// The text is shared, as an [`ActionPattern`]'s is.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ResourcePattern {
    text: Arc<str>,
}

impl ResourcePattern {
    /// The pattern that covers every resource.
    pub fn any() -> ResourcePattern {
        ResourcePattern {
            text: Arc::from("*"),
        }
    }

    /// Parses and validates a pattern.
    pub fn parse(text: &str) -> Result<ResourcePattern, PatternError> {
        let reason = |reason: &'static str| {
            Err(PatternError::Resource {
                text: text.to_string(),
                reason,
            })
        };
        if text.is_empty() {
            return reason("empty");
        }
        if text.len() > MAX_PATTERN_LEN {
            return Err(PatternError::ResourceTooLong {
                text: text.to_string(),
            });
        }
        if text.chars().any(char::is_control) {
            return reason("contains a control character");
        }
        if text.chars().any(char::is_whitespace) {
            return reason("contains whitespace");
        }
        if text != "*" {
            let body = text.strip_suffix(":*").unwrap_or(text);
            if body.is_empty() || body.contains('*') {
                return reason("`*` is allowed only alone or as `type:*`");
            }
        }
        Ok(ResourcePattern {
            text: Arc::from(text),
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// `*`.
    pub fn is_any(&self) -> bool {
        &*self.text == "*"
    }

    /// Whether this pattern covers the resource key `key` (itself a pattern: `*`, `type:*` or an id).
    pub fn covers(&self, key: &ResourcePattern) -> bool {
        if self.is_any() {
            return true;
        }
        match self.text.strip_suffix('*') {
            Some(typed_prefix) => key.text.starts_with(typed_prefix),
            None => self.text == key.text,
        }
    }
}

impl fmt::Display for ResourcePattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// At most this many statements in one policy document.
///
/// The caps on a document are defences, not Vultr's limits (which Vultr does not publish): far
/// above any real policy, they keep a broken or hostile document from costing unbounded time
/// and memory. A document over a cap is an error, like any malformed document.
pub const MAX_STATEMENTS: usize = 1_000;
/// At most this many action and resource patterns in one policy document, all statements
/// together.
pub const MAX_PATTERNS: usize = 10_000;
/// At most this many bytes in one action or resource pattern.
pub const MAX_PATTERN_LEN: usize = 1_024;

/// The start of a pattern over [`MAX_PATTERN_LEN`] and what is wrong with it, or `None`.
/// Parses every statement of a document, within the caps ([`MAX_STATEMENTS`],
/// [`MAX_PATTERNS`], [`MAX_PATTERN_LEN`]). An error names the statement it is about
/// ([`DocumentError::statement`]) and what is wrong.
pub fn parse_document(
    document: &crate::model::PolicyDocument,
) -> Result<Vec<ParsedStatement>, DocumentError> {
    parse_document_with(document, &mut PatternMemo::default())
}

/// Patterns already parsed, by their text: a large organization names the same few thousand
/// patterns hundreds of thousands of times, and each is parsed (and its text allocated) once.
/// Only valid patterns are kept: an invalid one is parsed again, to the same error.
#[derive(Debug, Default)]
pub(crate) struct PatternMemo<'a> {
    actions: foldhash::HashMap<&'a str, ActionPattern>,
    resources: foldhash::HashMap<&'a str, ResourcePattern>,
}

impl<'a> PatternMemo<'a> {
    /// [`ActionPattern::parse`], once per text.
    fn action(&mut self, text: &'a str) -> Result<ActionPattern, PatternError> {
        if let Some(pattern) = self.actions.get(text) {
            return Ok(pattern.clone());
        }
        let pattern = ActionPattern::parse(text)?;
        self.actions.insert(text, pattern.clone());
        Ok(pattern)
    }

    /// [`ResourcePattern::parse`], once per text.
    fn resource(&mut self, text: &'a str) -> Result<ResourcePattern, PatternError> {
        if let Some(pattern) = self.resources.get(text) {
            return Ok(pattern.clone());
        }
        let pattern = ResourcePattern::parse(text)?;
        self.resources.insert(text, pattern.clone());
        Ok(pattern)
    }
}

/// [`parse_document`], parsing each distinct pattern text once through `memo`, which can be
/// shared by every document of a snapshot. The same statements and the same errors.
pub(crate) fn parse_document_with<'a>(
    document: &'a crate::model::PolicyDocument,
    memo: &mut PatternMemo<'a>,
) -> Result<Vec<ParsedStatement>, DocumentError> {
    let statements = document.statement.as_slice();
    if statements.len() > MAX_STATEMENTS {
        return Err(DocumentError::TooManyStatements {
            count: statements.len(),
        });
    }
    let mut patterns = 0;
    statements
        .iter()
        .enumerate()
        .map(|(statement_index, statement)| {
            patterns += statement.action.as_slice().len() + statement.resource.as_slice().len();
            if patterns > MAX_PATTERNS {
                return Err(DocumentError::TooManyPatterns {
                    statement: statement_index,
                });
            }
            ParsedStatement::parse_with(statement, memo).map_err(|reason| {
                DocumentError::Statement {
                    statement: statement_index,
                    reason,
                }
            })
        })
        .collect()
}

/// A statement with its patterns parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedStatement {
    /// Allow or Deny.
    pub effect: Effect,
    /// The action patterns, in document order.
    pub actions: Vec<ActionPattern>,
    /// The resource patterns, in document order.
    pub resources: Vec<ResourcePattern>,
}

impl ParsedStatement {
    /// Parses a statement as written in a snapshot.
    pub fn parse(statement: &crate::model::Statement) -> Result<ParsedStatement, PatternError> {
        ParsedStatement::parse_with(statement, &mut PatternMemo::default())
    }

    /// [`ParsedStatement::parse`], each distinct pattern text parsed once through `memo`.
    fn parse_with<'a>(
        statement: &'a crate::model::Statement,
        memo: &mut PatternMemo<'a>,
    ) -> Result<ParsedStatement, PatternError> {
        let effect = Effect::parse(&statement.effect)?;
        let actions = statement
            .action
            .as_slice()
            .iter()
            .map(|a| memo.action(a))
            .collect::<Result<Vec<_>, _>>()?;
        let resources = statement
            .resource
            .as_slice()
            .iter()
            .map(|r| memo.resource(r))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ParsedStatement {
            effect,
            actions,
            resources,
        })
    }
}

impl std::str::FromStr for Effect {
    type Err = PatternError;

    /// [`Effect::parse`].
    fn from_str(text: &str) -> Result<Effect, PatternError> {
        Effect::parse(text)
    }
}

impl std::str::FromStr for ActionPattern {
    type Err = PatternError;

    /// [`ActionPattern::parse`]: `compute.instance.Create`, `compute.*`, `*`.
    fn from_str(text: &str) -> Result<ActionPattern, PatternError> {
        ActionPattern::parse(text)
    }
}

impl std::str::FromStr for ResourcePattern {
    type Err = PatternError;

    /// [`ResourcePattern::parse`]: `*`, `type:*` or an id.
    fn from_str(text: &str) -> Result<ResourcePattern, PatternError> {
        ResourcePattern::parse(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_action(text: &str, expected: Result<(), &str>) {
        let got = ActionPattern::parse(text).map(|_| ());
        match expected {
            Ok(()) => assert_eq!(got, Ok(()), "{text}"),
            Err(fragment) => {
                let err = got.expect_err(text).to_string();
                assert!(err.contains(fragment), "{text}: {err}");
                assert!(err.contains(&format!("`{}`", text.escape_debug())), "{err}");
            }
        }
    }

    #[test]
    fn pattern_length_cap() {
        let at_cap = format!("svc.res.{}", "A".repeat(MAX_PATTERN_LEN - "svc.res.".len()));
        assert!(ActionPattern::parse(&at_cap).is_ok());
        let err = ActionPattern::parse(&format!("{at_cap}A")).unwrap_err();
        assert!(matches!(err, PatternError::ActionTooLong { .. }), "{err}");
        let err = err.to_string();
        assert!(err.contains("over the cap of 1024"), "{err}");
        let resource = "r".repeat(MAX_PATTERN_LEN);
        assert!(ResourcePattern::parse(&resource).is_ok());
        assert!(ResourcePattern::parse(&format!("{resource}r")).is_err());
    }

    #[test]
    fn action_grammar() {
        for ok in [
            "*",
            "compute.*",
            "compute.instance.*",
            "compute.instance.Create",
            "object-storage.x_y.List",
        ] {
            check_action(ok, Ok(()));
        }
        for (bad, why) in [
            ("", "empty"),
            ("comp*te.instance.Create", "`*` is allowed"),
            ("compute.*.Create", "`*` is allowed"),
            ("compute.inst*", "`*` is allowed"),
            ("**", "`*` is allowed"),
            ("compute..Create", "empty segment"),
            (".compute.instance.Create", "empty segment"),
            ("compute.instance.Create.", "empty segment"),
            ("compute.instance. Create", "whitespace"),
            ("compute instance", "whitespace"),
            ("compute.instance.\u{1b}Create", "control character"),
            ("compute.instance", "three segments"),
            ("a.b.c.d", "three segments"),
            ("a.b.c.*", "wildcard is"),
            ("compute.instance.Cre@te", "letters, digits"),
        ] {
            check_action(bad, Err(why));
        }
    }

    #[test]
    fn action_covers() {
        let p = |s| ActionPattern::parse(s).unwrap();
        let cases = [
            ("*", "compute.instance.Create", true),
            ("*", "*", true),
            ("compute.*", "compute.instance.Create", true),
            ("compute.*", "compute.instance.*", true),
            ("compute.*", "compute.*", true),
            ("compute.*", "*", false),
            ("compute.*", "computer.instance.Create", false),
            ("compute.instance.*", "compute.*", false),
            ("compute.instance.*", "compute.instance.Read", true),
            ("compute.instance.*", "compute.instances.Read", false),
            ("compute.instance.Create", "compute.instance.Create", true),
            ("compute.instance.Create", "compute.instance.create", false),
            ("compute.instance.Create", "compute.instance.*", false),
        ];
        for (pattern, element, expected) in cases {
            assert_eq!(
                p(pattern).covers(&p(element)),
                expected,
                "{pattern} covers {element}"
            );
        }
        assert!(p("compute.instance.Create").overlaps(&p("compute.*")));
        // The range of a pattern over a sorted list holds exactly the elements it covers.
        let mut sorted: Vec<ActionPattern> = [
            "*",
            "a.*",
            "a.b.*",
            "a.b.C",
            "a.b.D",
            "a.bc.C",
            "a-b.c.D",
            "ab.c.D",
            "b.c.D",
            "compute.*",
            "compute.instance.Create",
            "computer.instance.Create",
        ]
        .into_iter()
        .map(p)
        .collect();
        sorted.sort();
        for pattern in sorted.iter().chain(&[p("a.b.E"), p("z.*"), p("0.*")]) {
            let range = pattern.cover_range(&sorted);
            for (i, element) in sorted.iter().enumerate() {
                assert_eq!(
                    range.contains(&i),
                    pattern.covers(element),
                    "{pattern} over {element}"
                );
            }
        }
        assert!(!p("network.*").overlaps(&p("compute.*")));
    }

    #[test]
    fn resource_grammar_and_cover() {
        let r = |s| ResourcePattern::parse(s).unwrap();
        for bad in ["", "reg*stry:1", "*:*", ":*", "a b", "registry:*x"] {
            assert!(ResourcePattern::parse(bad).is_err(), "{bad}");
        }
        // An escape or a tab is named for what it is, not as whitespace.
        for (bad, why) in [
            ("reg\u{1b}[31m", "control character"),
            ("reg\tistry", "control character"),
            ("reg istry", "whitespace"),
        ] {
            let err = ResourcePattern::parse(bad).unwrap_err().to_string();
            assert!(err.contains(why), "{bad:?}: {err}");
        }
        let cases = [
            ("*", "*", true),
            ("*", "registry:1", true),
            ("registry:*", "registry:1", true),
            ("registry:*", "registry:*", true),
            ("registry:*", "*", false),
            ("registry:*", "registryx:1", false),
            ("registry:1", "registry:1", true),
            ("registry:1", "registry:*", false),
            ("9f3c", "*", false),
        ];
        for (pattern, key, expected) in cases {
            assert_eq!(
                r(pattern).covers(&r(key)),
                expected,
                "{pattern} covers {key}"
            );
        }
    }

    #[test]
    fn effect_is_exact() {
        assert_eq!(Effect::parse("Allow"), Ok(Effect::Allow));
        assert_eq!(Effect::parse("Deny"), Ok(Effect::Deny));
        for bad in ["allow", "Permit", "Allow ", "DENY", ""] {
            assert!(
                Effect::parse(bad)
                    .unwrap_err()
                    .to_string()
                    .contains("unknown effect"),
                "{bad}"
            );
        }
    }

    /// The typed errors keep the messages the tests, docs and fuzz corpus quote.
    #[test]
    fn pattern_errors_are_typed_and_keep_their_messages() {
        let cases: [(Result<(), PatternError>, PatternError, &str); 5] = [
            (
                Effect::parse("allow").map(drop),
                PatternError::Effect {
                    text: "allow".into(),
                },
                "unknown effect `allow` (expected `Allow` or `Deny`)",
            ),
            (
                ActionPattern::parse("compute..Create").map(drop),
                PatternError::Action {
                    text: "compute..Create".into(),
                    reason: "empty segment",
                },
                "invalid action pattern `compute..Create`: empty segment",
            ),
            (
                ActionPattern::parse_action("compute.*").map(drop),
                PatternError::NotAnAction {
                    text: "compute.*".into(),
                },
                "`compute.*` is a wildcard, not an action",
            ),
            (
                ResourcePattern::parse("a b").map(drop),
                PatternError::Resource {
                    text: "a b".into(),
                    reason: "contains whitespace",
                },
                "invalid resource `a b`: contains whitespace",
            ),
            (
                ResourcePattern::parse(&"r".repeat(MAX_PATTERN_LEN + 1)).map(drop),
                PatternError::ResourceTooLong {
                    text: "r".repeat(MAX_PATTERN_LEN + 1),
                },
                "invalid resource `rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr…`: 1025 bytes, over the cap of 1024",
            ),
        ];
        for (got, expected, message) in cases {
            let err = got.unwrap_err();
            assert_eq!(err, expected);
            assert_eq!(err.to_string(), message);
            let _: &dyn std::error::Error = &err;
        }
    }

    /// A document's error names the statement and keeps the message the callers quote.
    #[test]
    fn document_errors_name_the_statement() {
        let document = |statements: serde_json::Value| -> crate::model::PolicyDocument {
            serde_json::from_value(serde_json::json!({ "Statement": statements })).unwrap()
        };
        let bad = document(serde_json::json!([
            {"Effect": "Allow", "Action": "compute.instance.Read", "Resource": "*"},
            {"Effect": "Permit", "Action": "compute.instance.Read", "Resource": "*"}
        ]));
        let err = parse_document(&bad).unwrap_err();
        assert_eq!(err.statement(), 1);
        assert_eq!(
            err,
            DocumentError::Statement {
                statement: 1,
                reason: PatternError::Effect {
                    text: "Permit".into()
                }
            }
        );
        assert_eq!(
            err.to_string(),
            "unknown effect `Permit` (expected `Allow` or `Deny`)"
        );
        let one = serde_json::json!({"Effect": "Allow", "Action": "a.b.C", "Resource": "*"});
        let many = document(serde_json::Value::Array(vec![one; MAX_STATEMENTS + 1]));
        let err = parse_document(&many).unwrap_err();
        assert_eq!(err.statement(), MAX_STATEMENTS);
        assert_eq!(
            err.to_string(),
            format!(
                "the document has {} statements, over the cap of {MAX_STATEMENTS}",
                MAX_STATEMENTS + 1
            )
        );
    }
}
