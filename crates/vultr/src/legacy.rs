//! Legacy ACLs: Vultr's permissions from before IAM, which Vultr still enforces alongside IAM
//! during the move ("Can I continue using ACLs after IAM is enabled"). IAM changes do not touch
//! them, so a what-if that takes IAM access away from a user who holds an ACL must say so.

use iamsim_core::model::{Snapshot, User, ROOT_EQUIVALENT_ACL};

/// What a user's legacy ACLs mean for answers about them, in one line; `None` when they hold
/// none (or none are known).
pub fn acl_note(user: &User) -> Option<String> {
    let acls = user.legacy_acls();
    if acls.is_empty() {
        return None;
    }
    let who = if user.email.is_empty() {
        format!("user `{}`", user.id)
    } else {
        format!("user `{}` ({})", user.email, user.id)
    };
    let list: Vec<String> = acls.iter().map(|a| format!("`{a}`")).collect();
    Some(if user.root_by_acl() {
        format!(
            "{who} holds the legacy ACL `{ROOT_EQUIVALENT_ACL}`, which Vultr documents as equivalent to the root user: they can do everything whatever IAM says (ACLs: {})",
            list.join(", ")
        )
    } else {
        format!(
            "{who} holds legacy ACLs {}, which Vultr enforces alongside IAM: access they give is not shown by iamsim and no IAM change takes it away",
            list.join(", ")
        )
    })
}

/// [`acl_note`] for every user who holds legacy ACLs, root-equivalent ones first, then by id.
pub fn acl_notes(snapshot: &Snapshot) -> Vec<String> {
    let mut users: Vec<&User> = snapshot
        .users
        .iter()
        .filter(|u| !u.legacy_acls().is_empty())
        .collect();
    users.sort_by(|a, b| b.root_by_acl().cmp(&a.root_by_acl()).then(a.id.cmp(&b.id)));
    users.into_iter().filter_map(acl_note).collect()
}
