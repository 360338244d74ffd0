//! Errors and diagnostics.
//!
//! Messages follow one rule: lowercase, no trailing period, user values in backticks, context
//! first and chained with colons (`policy `p-1` statement 2: unknown effect `allow``).

use std::fmt;

/// The kind of an entity of a snapshot: what a message calls it, and where the snapshot keeps it.
///
/// ```
/// use iamsim_core::EntityKind;
///
/// assert_eq!(EntityKind::Policy.noun(), "policy");
/// assert_eq!(EntityKind::Policy.array(), "policies");
/// assert_eq!(EntityKind::Trust.to_string(), "role trust");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum EntityKind {
    /// A user (`users`).
    User,
    /// A group (`groups`).
    Group,
    /// A role (`roles`).
    Role,
    /// A policy (`policies`).
    Policy,
    /// A role trust (`role_trusts`).
    Trust,
}

impl EntityKind {
    /// What a message calls one entity of this kind: `user`, `group`, `role`, `policy`,
    /// `role trust`.
    pub fn noun(self) -> &'static str {
        match self {
            EntityKind::User => "user",
            EntityKind::Group => "group",
            EntityKind::Role => "role",
            EntityKind::Policy => "policy",
            EntityKind::Trust => "role trust",
        }
    }

    /// What a message calls several entities of this kind: `users`, ..., `policies`,
    /// `role trusts`.
    pub fn plural(self) -> &'static str {
        match self {
            EntityKind::User => "users",
            EntityKind::Group => "groups",
            EntityKind::Role => "roles",
            EntityKind::Policy => "policies",
            EntityKind::Trust => "role trusts",
        }
    }

    /// The name of the snapshot's JSON array that holds entities of this kind: `users`,
    /// `groups`, `roles`, `policies`, `role_trusts`.
    pub fn array(self) -> &'static str {
        match self {
            EntityKind::User => "users",
            EntityKind::Group => "groups",
            EntityKind::Role => "roles",
            EntityKind::Policy => "policies",
            EntityKind::Trust => "role_trusts",
        }
    }
}

impl fmt::Display for EntityKind {
    /// The noun ([`EntityKind::noun`]).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.noun())
    }
}

/// A policy's effect, action pattern or resource pattern breaks the grammar of
/// [`crate::policy`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PatternError {
    /// The effect is neither `Allow` nor `Deny`.
    #[error("unknown effect `{}` (expected `Allow` or `Deny`)", text.escape_debug())]
    Effect {
        /// The effect as written.
        text: String,
    },
    /// An action pattern breaks the grammar.
    #[error("invalid action pattern `{}`: {reason}", text.escape_debug())]
    Action {
        /// The pattern as written.
        text: String,
        /// What is wrong (`empty segment`).
        reason: &'static str,
    },
    /// An action pattern is longer than [`crate::policy::MAX_PATTERN_LEN`] bytes.
    #[error("invalid action pattern {}", over_length(text))]
    ActionTooLong {
        /// The pattern as written.
        text: String,
    },
    /// A wildcard where a concrete action is needed.
    #[error("`{text}` is a wildcard, not an action")]
    NotAnAction {
        /// The pattern as written.
        text: String,
    },
    /// A resource pattern breaks the grammar.
    #[error("invalid resource `{}`: {reason}", text.escape_debug())]
    Resource {
        /// The pattern as written.
        text: String,
        /// What is wrong (`contains whitespace`).
        reason: &'static str,
    },
    /// A resource pattern is longer than [`crate::policy::MAX_PATTERN_LEN`] bytes.
    #[error("invalid resource {}", over_length(text))]
    ResourceTooLong {
        /// The pattern as written.
        text: String,
    },
}

/// How a pattern over the length cap is shown: its start and its length.
fn over_length(text: &str) -> String {
    let start: String = text.chars().take(40).collect();
    format!(
        "`{}…`: {} bytes, over the cap of {}",
        start.escape_debug(),
        text.len(),
        crate::policy::MAX_PATTERN_LEN
    )
}

/// A policy document cannot be parsed ([`crate::policy::parse_document`]): a cap is exceeded or
/// a statement breaks the grammar. [`DocumentError::statement`] names the statement.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DocumentError {
    /// The document has more than [`crate::policy::MAX_STATEMENTS`] statements.
    #[error(
        "the document has {count} statements, over the cap of {}",
        crate::policy::MAX_STATEMENTS
    )]
    TooManyStatements {
        /// How many statements the document has.
        count: usize,
    },
    /// The document names more than [`crate::policy::MAX_PATTERNS`] patterns.
    #[error(
        "the document names more than {} action and resource patterns (the cap)",
        crate::policy::MAX_PATTERNS
    )]
    TooManyPatterns {
        /// The statement at which the count goes over the cap.
        statement: usize,
    },
    /// A statement breaks the grammar. The message is the pattern's (the caller adds the
    /// statement), so `reason` is not repeated as a source.
    #[error("{reason}")]
    Statement {
        /// Index of the statement in the document.
        statement: usize,
        /// What is wrong.
        reason: PatternError,
    },
}

impl DocumentError {
    /// The statement the error is about: for too many statements, the first one over the cap.
    pub fn statement(&self) -> usize {
        match self {
            DocumentError::TooManyStatements { .. } => crate::policy::MAX_STATEMENTS,
            DocumentError::TooManyPatterns { statement }
            | DocumentError::Statement { statement, .. } => *statement,
        }
    }
}

/// An argument of a query ([`crate::Org::explain`], [`crate::Org::who_can`]) is not one it can
/// answer: each variant names the argument.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum QueryError {
    /// The action is not a valid action pattern.
    #[error(transparent)]
    Action {
        /// Why.
        source: PatternError,
    },
    /// The action is a wildcard that no statement of the organization names.
    #[error("`{action}` is a wildcard no policy names; give a concrete action")]
    UnnamedWildcard {
        /// The action as given.
        action: String,
    },
    /// The resource is not a valid resource pattern.
    #[error(transparent)]
    Resource {
        /// Why.
        source: PatternError,
    },
}

/// A snapshot could not be read: the bytes are not a well-formed `iamsim.snapshot.v1` document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The bytes are not UTF-8.
    #[error("invalid UTF-8 at byte offset {offset}")]
    Utf8 {
        /// Offset of the first invalid byte.
        offset: usize,
    },
    /// The JSON is malformed, or a value has the wrong shape.
    #[error("{}{message}", if path.is_empty() || path == "." { String::new() } else { format!("{path}: ") })]
    Json {
        /// JSON path of the offending value (`users[3].email`), empty at the top level.
        path: String,
        /// What is wrong, with line and column.
        message: String,
    },
    /// The `format` field names another format.
    #[error(
        "format: unsupported snapshot format `{found}` (expected `{}`)",
        crate::model::SNAPSHOT_FORMAT
    )]
    Format {
        /// The format the file declares.
        found: String,
    },
}

impl LoadError {
    pub(crate) fn json(path: String, error: serde_json::Error) -> LoadError {
        LoadError::Json {
            path,
            message: error.to_string(),
        }
    }
}

/// A snapshot is well-formed JSON but cannot be compiled: a policy document is malformed, or ids
/// are ambiguous.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// A statement is malformed.
    #[error("policies[{policy_index}] (policy `{policy_id}`) statement {statement}: {reason}")]
    Statement {
        /// Position of the policy in the snapshot's `policies` array.
        policy_index: usize,
        /// The policy's id.
        policy_id: String,
        /// Index of the statement in the document.
        statement: usize,
        /// What is wrong.
        reason: String,
    },
    /// Two entities of one kind share an id.
    #[error(
        "{array}[{index}]: duplicate {kind} id `{id}` (first at {array}[{first}])",
        array = kind.array()
    )]
    DuplicateId {
        /// The kind of the entities.
        kind: EntityKind,
        /// The repeated id.
        id: String,
        /// Position of the repeat.
        index: usize,
        /// Position of the first occurrence.
        first: usize,
    },
}

/// A name given by a person (a user id or email, a group id or display name) does not pick
/// exactly one entity.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LookupError {
    /// Nothing matches.
    #[error(
        "no {kind} matches `{query}`{}{}",
        candidates_suffix(candidates),
        more_suffix(*more_candidates)
    )]
    NotFound {
        /// The kind looked for.
        kind: EntityKind,
        /// What was asked for.
        query: String,
        /// Entities with a similar id or name, to help the person (at most ten).
        candidates: Vec<String>,
        /// How many more entities were similar than `candidates` lists.
        more_candidates: usize,
        /// The ids, names or emails nearest `query` by edit distance (a typo's likely
        /// intent), nearest first, at most three; not part of the message.
        suggestions: Vec<String>,
        /// How many more ids, names or emails were as near as those in `suggestions`.
        more_suggestions: usize,
    },
    /// A change names its target the wrong way (no holder, or two).
    #[error("{change}: {reason}")]
    Malformed {
        /// The kind of change (`detach_policy`).
        change: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// Several entities match.
    #[error(
        "`{query}` matches several {}{}",
        kind.plural(),
        candidates_suffix(candidates)
    )]
    Ambiguous {
        /// The kind looked for.
        kind: EntityKind,
        /// What was asked for.
        query: String,
        /// Every match, as `id (name)`.
        candidates: Vec<String>,
    },
}

/// A change cannot be simulated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChangeError {
    /// The change would do nothing (detaching what is not attached, ...).
    #[error("{reason} (the change does nothing)")]
    Noop {
        /// What is already so.
        reason: String,
    },
    /// The change names an entity an earlier change of the set deletes.
    #[error("{kind} `{id}` is deleted by an earlier change")]
    Deleted {
        /// The kind of the entity.
        kind: EntityKind,
        /// Its id.
        id: String,
    },
    /// Vultr-managed policies cannot be edited.
    #[error(
        "policy `{policy}` is managed by Vultr (is_system_policy): its document cannot be replaced"
    )]
    SystemPolicy {
        /// The policy's id.
        policy: String,
    },
    /// The change creates an entity whose id the organization already has (or an earlier
    /// change of the set created).
    #[error("{kind} `{id}` already exists")]
    Exists {
        /// The kind of the entity.
        kind: EntityKind,
        /// Its id.
        id: String,
    },
    /// The change names an entity that a later change of the set creates.
    #[error("{kind} `{id}` does not exist yet: a later change creates it")]
    NotCreated {
        /// The kind of the entity.
        kind: EntityKind,
        /// Its id.
        id: String,
    },
    /// A created role trust names a role that is not assumable.
    #[error("role `{role}` is assignable: only an assumable role can be trusted")]
    NotAssumable {
        /// The role's id.
        role: String,
    },
    /// A created role trust names no principal, or both a user and a group.
    #[error("role trust `{trust}`: name exactly one of `user`, `group`")]
    TrustPrincipal {
        /// The trust's id.
        trust: String,
    },
    /// A replacement policy document is malformed.
    #[error("policy `{policy}` new document statement {statement}: {reason}")]
    Document {
        /// The policy's id.
        policy: String,
        /// Index of the statement in the new document.
        statement: usize,
        /// What is wrong.
        reason: String,
    },
}

/// One change of a set could not be resolved ([`crate::Org::resolve_all`]) or made
/// ([`crate::Org::check_all`]): its position in the set, and why.
///
/// The message is the position (`changes[1]`); the reason is the [`source`](std::error::Error::source),
/// so `?` carries both into a `Box<dyn Error>`:
///
/// ```
/// use iamsim_core::{
///     parse_changes, Catalogue, ChangeError, ChangeSetError, Org, SimulateOptions, Snapshot,
/// };
///
/// fn check(org: &Org, text: &str) -> Result<(), Box<dyn std::error::Error>> {
///     let changes = org.resolve_all(&parse_changes(text)?)?;
///     org.check_all(&changes, &SimulateOptions::default())?;
///     Ok(())
/// }
///
/// let snapshot = Snapshot::from_json_str(r#"{
///   "format": "iamsim.snapshot.v1", "organization": {"id": "o"},
///   "users": [{"id": "u-ana", "email": "ana@example.com"}],
///   "groups": [{"id": "g-ops", "display_name": "Ops", "members": ["u-ana"]}],
///   "roles": [], "policies": []
/// }"#)?;
/// let org = Org::compile(&snapshot, &Catalogue::bundled())?;
/// let twice = r#"[
///   {"kind": "remove_member", "group": "Ops", "user": "u-ana"},
///   {"kind": "remove_member", "group": "Ops", "user": "u-ana"}
/// ]"#;
/// let error = check(&org, twice).unwrap_err();
/// assert_eq!(error.to_string(), "changes[1]");
/// let error = error.downcast::<ChangeSetError<ChangeError>>()?;
/// assert_eq!(error.index, 1);
/// assert!(matches!(error.source, ChangeError::Noop { .. }));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("changes[{index}]")]
pub struct ChangeSetError<E: std::error::Error + 'static> {
    /// Position of the change in the set, from zero.
    pub index: usize,
    /// Why the change cannot be resolved or made.
    #[source]
    pub source: E,
}

/// A change set with creations could not be compiled, resolved or made
/// ([`crate::Org::compile_changes`], [`crate::simulate_changes`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChangeSetFailure {
    /// The snapshot (with the created entities) does not compile.
    #[error(transparent)]
    Build(#[from] BuildError),
    /// A change names an entity that does not resolve.
    #[error(transparent)]
    Lookup(#[from] ChangeSetError<LookupError>),
    /// A change cannot be made after the ones before it.
    #[error(transparent)]
    Change(#[from] ChangeSetError<ChangeError>),
}

impl ChangeSetFailure {
    /// The position of the change at fault, if one is.
    pub fn index(&self) -> Option<usize> {
        match self {
            ChangeSetFailure::Build(_) => None,
            ChangeSetFailure::Lookup(e) => Some(e.index),
            ChangeSetFailure::Change(e) => Some(e.index),
        }
    }

    /// The reason, without the position: the build error, or the change's own error.
    pub fn reason(&self) -> String {
        match self {
            ChangeSetFailure::Build(e) => e.to_string(),
            ChangeSetFailure::Lookup(e) => e.source.to_string(),
            ChangeSetFailure::Change(e) => e.source.to_string(),
        }
    }
}

fn more_suffix(more: usize) -> String {
    if more == 0 {
        String::new()
    } else {
        format!(" (and {more} more)")
    }
}

fn candidates_suffix(candidates: &[String]) -> String {
    if candidates.is_empty() {
        String::new()
    } else {
        format!("; candidates: {}", candidates.join(", "))
    }
}

/// A catalogue file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct CatalogueError {
    /// One-based line number.
    pub line: usize,
    /// What is wrong with the line's action.
    pub reason: PatternError,
}

/// Something in the snapshot that does not stop the engine but deserves a look: a dangling id,
/// an unknown action, a statement that grants nothing.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct Diagnostic {
    /// A stable, kebab-case name for the kind of problem (`dangling-reference`, `unknown-action`, ...).
    pub code: &'static str,
    /// Where, as a JSON path into the snapshot (`groups[2].members[0]`).
    pub path: String,
    /// What, in one line.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} [{}]", self.path, self.message, self.code)
    }
}

/// Parameters of [`crate::generate::snapshot`] outside what it supports (feature `generate`).
#[cfg(feature = "generate")]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParamsError {
    /// A count is above its limit.
    #[error("{field}: {value} is above the limit of {limit}")]
    TooLarge {
        /// The field of [`crate::generate::Params`]: `users`, `groups`, `roles`, `policies` or
        /// `actions`.
        field: &'static str,
        /// The count asked for.
        value: usize,
        /// The largest count supported.
        limit: usize,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entity_kinds_know_their_noun_and_array() {
        let kinds = [
            (EntityKind::User, "user", "users", "users"),
            (EntityKind::Group, "group", "groups", "groups"),
            (EntityKind::Role, "role", "roles", "roles"),
            (EntityKind::Policy, "policy", "policies", "policies"),
            (
                EntityKind::Trust,
                "role trust",
                "role trusts",
                "role_trusts",
            ),
        ];
        for (kind, noun, plural, array) in kinds {
            assert_eq!(
                (kind.noun(), kind.plural(), kind.array()),
                (noun, plural, array)
            );
            assert_eq!(kind.to_string(), noun);
        }
    }

    #[test]
    fn change_set_errors_keep_the_inner_error_as_source() {
        use std::error::Error as _;
        let error = ChangeSetError {
            index: 2,
            source: ChangeError::Deleted {
                kind: EntityKind::Group,
                id: "g-1".into(),
            },
        };
        assert_eq!(error.to_string(), "changes[2]");
        let source = error.source().expect("a source");
        assert_eq!(
            source.to_string(),
            "group `g-1` is deleted by an earlier change"
        );
        let boxed: Box<dyn std::error::Error> = Box::new(error.clone());
        assert_eq!(
            boxed.downcast_ref::<ChangeSetError<ChangeError>>(),
            Some(&error)
        );
    }

    #[test]
    fn duplicate_policy_id_names_the_policies_array() {
        let error = BuildError::DuplicateId {
            kind: EntityKind::Policy,
            id: "p-1".into(),
            index: 1,
            first: 0,
        };
        assert_eq!(
            error.to_string(),
            "policies[1]: duplicate policy id `p-1` (first at policies[0])"
        );
    }
}
