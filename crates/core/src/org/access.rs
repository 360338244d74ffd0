//! What the rest of the crate reads of a compiled [`Org`] besides adjacency: the entities'
//! arenas (ids, names, flags; their adjacency lists stay private to this module), statements,
//! the universe, path steps, folded sets, sessions and the like. Adjacency is read through a
//! [`View`] ([`Org::view`], or [`Org::as_is`] for the organization as compiled).

use crate::change::CreatedFrom;
use crate::conditional::ConditionalNode;
use crate::idx::{Arena, IdxVec};
use crate::org::{
    GroupIx, GroupNode, Org, PolicyIx, PolicyNode, ReportCache, RoleIx, RoleNode, SessionNode,
    StatementIx, StatementNode, Steps, TrustNode, UserIx, UserNode, View,
};
use crate::overlay::Overlay;
use crate::policy::ActionPattern;

/// The empty overlay: a [`View`] through it is the organization as compiled.
static AS_IS: Overlay = Overlay::EMPTY;

impl Org {
    /// The organization as compiled: its view through the empty overlay.
    #[inline]
    pub(crate) fn as_is(&self) -> View<'_> {
        self.view(&AS_IS)
    }

    /// The users: ids, emails, names, flags (by [`UserIx`]).
    #[inline]
    pub(crate) fn user_nodes(&self) -> &Arena<UserNode> {
        &self.users
    }

    /// The groups: ids and display names.
    #[inline]
    pub(crate) fn group_nodes(&self) -> &Arena<GroupNode> {
        &self.groups
    }

    /// The roles: ids, names, whether assignable.
    #[inline]
    pub(crate) fn role_nodes(&self) -> &Arena<RoleNode> {
        &self.roles
    }

    /// The policies: ids, names, whether system, their statements' ids.
    #[inline]
    pub(crate) fn policy_nodes(&self) -> &Arena<PolicyNode> {
        &self.policies
    }

    /// The role trusts, in snapshot order.
    #[inline]
    pub(crate) fn trust_nodes(&self) -> &IdxVec<TrustNode, TrustNode> {
        &self.trusts
    }

    /// The organization's own statements (an overlay's replacement documents are numbered
    /// after them: see [`View::statement`]).
    #[inline]
    pub(crate) fn statement_nodes(&self) -> &IdxVec<StatementNode, StatementNode> {
        &self.statements
    }

    /// The action universe, sorted (an overlay's extra elements are numbered after it: see
    /// [`View::element`]).
    #[inline]
    pub(crate) fn universe_slice(&self) -> &[ActionPattern] {
        &self.universe
    }

    /// The root user, if the snapshot names one.
    #[inline]
    pub(crate) fn root(&self) -> Option<UserIx> {
        self.root
    }

    /// The path step of every entity, and their ranks.
    #[inline]
    pub(crate) fn steps(&self) -> &Steps {
        &self.steps
    }

    /// What reports read of statements and elements, computed once when compiling.
    #[inline]
    pub(crate) fn report_cache(&self) -> &ReportCache {
        &self.report_cache
    }

    /// A user's own policies, roles and groups as the organization is (what [`Org::as_is`]
    /// reads, without asking an empty overlay).
    #[inline]
    pub(crate) fn user_carriers(&self, user: UserIx) -> (&[PolicyIx], &[RoleIx], &[GroupIx]) {
        let node = &self.users[user];
        (&node.policies, &node.roles, &node.groups)
    }

    /// The resource-scoped statements of a folded set (its `*` side is
    /// [`Org::folded_set`]), sorted, without repeats.
    #[inline]
    pub(crate) fn folded_scoped(&self, set: usize) -> &[StatementIx] {
        &self.folded[set].scoped
    }

    /// Assumed-role sessions held when the snapshot was taken, in snapshot order.
    #[inline]
    pub(crate) fn sessions(&self) -> &[SessionNode] {
        &self.sessions
    }

    /// Statements with keys iamsim does not evaluate.
    #[inline]
    pub(crate) fn conditionals(&self) -> &[ConditionalNode] {
        &self.conditionals
    }

    /// Where the entities a change set creates start, for an organization compiled with them
    /// (`Org::compile_changes`); `None` otherwise.
    #[inline]
    pub(crate) fn created_from(&self) -> Option<&CreatedFrom> {
        self.created_from.as_ref()
    }

    /// Marks the entities from `from` on as created by a change set.
    pub(crate) fn set_created_from(&mut self, from: CreatedFrom) {
        self.created_from = Some(from);
    }
}
