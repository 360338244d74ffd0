//! The bodies of the fuzz targets in `fuzz/`, here so that `cargo test` can replay their corpus
//! without the fuzzer (`crates/core/tests/fuzz_corpus.rs`). Each takes the fuzzer's bytes and
//! returns the violations it finds; a panic inside is a finding too.

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

use super::check::violation;
use super::{
    catalogue, check_changes, check_effective, check_user, ChangeKnobs, OrgKnobs, Violation,
};
use crate::error::BuildError;
use crate::model::{PolicyDocument, Snapshot};
use crate::policy::{
    ActionPattern, ParsedStatement, ResourcePattern, MAX_PATTERNS, MAX_PATTERN_LEN, MAX_STATEMENTS,
};
use crate::{CompileOptions, Org, Precedence};

/// Above this many users or statements, a loaded snapshot is checked for loading only: the
/// reference is quadratic and a fuzzer wants thousands of runs a second.
const SMALL: usize = 16;

/// Bytes of pseudo-random tail after a fuzz input; see [`engine_case`]. 16 KiB proved too
/// short: an input found by the fuzzer ran a sub-strategy's share dry.
const TAIL: usize = 1024 * 1024;

/// A snapshot without the values it keeps as written and never reads (`crawl`, trust
/// `conditions`): JSON numbers in them need not survive a round trip bit for bit.
fn without_opaque(mut s: Snapshot) -> Snapshot {
    s.crawl = None;
    for t in &mut s.role_trusts {
        t.conditions = None;
    }
    s
}

/// Bytes as a snapshot file (robustness.md R-JSON-08): loading returns `Ok` or `Err`,
/// never panics; what loads survives a round trip through its JSON form; what compiles
/// answers as the reference does, for every user of a small snapshot.
pub fn snapshot(bytes: &[u8]) -> Vec<Violation> {
    let Ok(snapshot) = Snapshot::from_json_bytes(bytes) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let text = serde_json::to_string(&snapshot).expect("a snapshot serializes");
    match Snapshot::from_json_str(&text) {
        Ok(again) if without_opaque(again.clone()) == without_opaque(snapshot.clone()) => {}
        other => out.push(violation(
            "fuzz-snapshot",
            format!("round trip changed the snapshot: {other:?}"),
        )),
    }
    let catalogue = catalogue();
    let Ok(org) = Org::compile(&snapshot, &catalogue) else {
        return out;
    };
    let statements: usize = snapshot
        .policies
        .iter()
        .map(|p| p.policy_document.statement.as_slice().len())
        .sum();
    if snapshot.users.len() <= SMALL && statements <= SMALL {
        out.extend(check_effective(&org, &snapshot, &catalogue));
    }
    out
}

/// Whether `text` is an action pattern by the grammar of `docs/snapshot-format.md`, decided
/// independently of `policy.rs`: `*`, `seg.*`, `seg.seg.*` or `seg.seg.seg`, a segment
/// being one or more of `A-Z a-z 0-9 - _`; at most [`MAX_PATTERN_LEN`] bytes.
pub fn action_grammar(text: &str) -> bool {
    if text.len() > MAX_PATTERN_LEN {
        return false;
    }
    let seg = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    if text == "*" {
        return true;
    }
    let parts: Vec<&str> = text.split('.').collect();
    match parts.as_slice() {
        [a, "*"] => seg(a),
        [a, b, "*"] => seg(a) && seg(b),
        [a, b, c] => seg(a) && seg(b) && seg(c),
        _ => false,
    }
}

/// Whether action pattern `pattern` covers universe element `element`, decided on the
/// text: `*` covers all; `svc.*` covers what starts with `svc.`; a concrete action itself.
pub fn action_covers(pattern: &str, element: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => element.starts_with(prefix),
        None => pattern == element,
    }
}

/// Bytes as a policy document (R-POL-11, R-POL-10, R-SEM-08): parsing never panics; a
/// document that parses survives a round trip; each action pattern is accepted exactly
/// when the grammar says so, and covers exactly what the text rule says; the document
/// compiles exactly when all its statements parse (the error naming the first bad one);
/// and, attached to a user directly and through a group, it grants what the reference
/// says.
pub fn policy(bytes: &[u8]) -> Vec<Violation> {
    let Ok(document) = serde_json::from_slice::<PolicyDocument>(bytes) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut fail = |message: String| out.push(violation("fuzz-policy", message));
    let text = serde_json::to_string(&document).expect("a document serializes");
    match serde_json::from_str::<PolicyDocument>(&text) {
        Ok(again) if again == document => {}
        other => fail(format!("round trip changed the document: {other:?}")),
    }
    let statements = document.statement.as_slice();
    let count = statements.len();
    // Too many statements is the first fault; then the first statement that does not
    // parse or takes the document's patterns over the cap.
    let mut first_bad = (count > MAX_STATEMENTS).then_some(MAX_STATEMENTS);
    let mut patterns = 0;
    let mut valid = Vec::new();
    for (i, statement) in statements.iter().enumerate() {
        patterns += statement.action.as_slice().len() + statement.resource.as_slice().len();
        if patterns > MAX_PATTERNS && first_bad.is_none() {
            first_bad = Some(i);
        }
        for action in statement.action.as_slice() {
            let parsed = ActionPattern::parse(action);
            if parsed.is_ok() != action_grammar(action) {
                fail(format!(
                    "action pattern `{}`: parser says {parsed:?}, grammar says {}",
                    action.escape_debug(),
                    action_grammar(action)
                ));
            }
            if let Ok(p) = parsed {
                valid.push(p);
            }
        }
        for resource in statement.resource.as_slice() {
            let _ = ResourcePattern::parse(resource);
        }
        if ParsedStatement::parse(statement).is_err() && first_bad.is_none() {
            first_bad = Some(i);
        }
    }
    for p in &valid {
        for e in &valid {
            if p.covers(e) != action_covers(p.as_str(), e.as_str()) {
                fail(format!(
                    "`{p}` covers `{e}`: matcher and text rule disagree"
                ));
            }
        }
    }
    let snapshot = one_user(document);
    let catalogue = catalogue();
    match (Org::compile(&snapshot, &catalogue), first_bad) {
        (Ok(org), None) => {
            if count <= SMALL {
                out.extend(check_user(&org, &snapshot, &catalogue, "u"));
            }
        }
        (Err(BuildError::Statement { statement, .. }), Some(bad)) if statement == bad => {}
        (result, bad) => out.push(violation(
            "fuzz-policy",
            format!(
                "first bad statement {bad:?}, but compiling gives {:?}",
                result.map(|_| ())
            ),
        )),
    }
    out
}

/// An organization of one user, `u`, holding `document` (policy `p`) directly and through
/// their one group, `g`.
fn one_user(document: PolicyDocument) -> Snapshot {
    Snapshot {
        format: crate::model::SNAPSHOT_FORMAT.to_string(),
        organization: crate::model::Organization {
            id: "org".into(),
            name: "Org".into(),
            root_user_id: None,
        },
        users: vec![crate::model::User {
            id: "u".into(),
            email: "u@x.example".into(),
            name: String::new(),
            service_user: false,
            suspended: false,
            policies: vec!["p".into()],
            roles: Vec::new(),
            acls: None,
            api_enabled: None,
        }],
        groups: vec![crate::model::Group {
            id: "g".into(),
            display_name: "G".into(),
            description: String::new(),
            members: vec!["u".into()],
            policies: vec!["p".into()],
            roles: Vec::new(),
        }],
        roles: Vec::new(),
        policies: vec![crate::model::Policy {
            id: "p".into(),
            name: "p".into(),
            description: String::new(),
            is_system_policy: false,
            policy_document: document,
        }],
        role_trusts: Vec::new(),
        sessions: Vec::new(),
        crawl: None,
    }
}

/// The organization and change set that `engine` derives from `bytes`: the kit's
/// strategies with the default knobs, driven by the bytes as their source of randomness.
pub fn engine_case(bytes: &[u8]) -> Option<super::Case> {
    // The strategies read the bytes as they are, so that a small change of the input is a
    // small change of the case. Past their end comes a fixed pseudo-random tail: a stream
    // of zeros (what proptest gives once the bytes run out, in a sub-strategy's share of
    // them too) makes the rejection sampling of an integer range loop forever.
    static TAIL_BYTES: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    let tail = TAIL_BYTES.get_or_init(|| {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        (0..TAIL / 8)
            .flat_map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x.to_le_bytes()
            })
            .collect()
    });
    let mut data = Vec::with_capacity(bytes.len() + tail.len());
    data.extend_from_slice(bytes);
    data.extend_from_slice(tail);
    let rng = TestRng::from_seed(RngAlgorithm::PassThrough, &data);
    let mut runner = TestRunner::new_with_rng(Config::default(), rng);
    let strategy = super::organization_and_changes(&OrgKnobs::default(), &ChangeKnobs::default());
    let tree = strategy.new_tree(&mut runner).ok()?;
    Some(tree.current())
}

/// Bytes as a random organization and change set ([`engine_case`]) (R-SEM-01, R-SEM-04,
/// R-SEM-06): under each precedence, the engine equals the reference for every user, and
/// the what-if of the change set passes [`check_changes`].
pub fn engine(bytes: &[u8]) -> Vec<Violation> {
    let Some(super::Case {
        snapshot,
        changes: specs,
    }) = engine_case(bytes)
    else {
        return Vec::new();
    };
    let catalogue = catalogue();
    let mut out = Vec::new();
    for precedence in [Precedence::DenyWins, Precedence::NearestWins] {
        let options = CompileOptions {
            precedence,
            ..Default::default()
        };
        let org = match Org::compile_with(&snapshot, &catalogue, &options) {
            Ok(org) => org,
            Err(e) => {
                return vec![violation(
                    "fuzz-engine",
                    format!("a generated snapshot does not compile: {e}"),
                )]
            }
        };
        out.extend(check_effective(&org, &snapshot, &catalogue));
        out.extend(check_changes(&org, &snapshot, &catalogue, &specs));
    }
    out
}
