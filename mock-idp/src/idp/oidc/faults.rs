//! Armed OIDC faults: what a fault waiting for its message is, how a message
//! is matched against it, and arming, listing, disarming and expiry.

use time::OffsetDateTime;

use super::lock;
use crate::idp::Idp;
use crate::idp::bounded::BoundedList;
use crate::ids::{AppId, UserId};
use crate::oidc::ServerRef;
use crate::oidc::faults::{
    ClientFacts, FaultStage, FaultTarget, OidcFault, OidcFaultPlan, OidcFaultRefusal, ServerFacts,
};

/// How long an armed OIDC fault waits for its message, on the IdP's clock.
/// A sign-in that failed before the faulty message was sent must not leave
/// the fault waiting for a later, unrelated sign-in; ten minutes is far
/// longer than any one check takes.
pub const ARMED_OIDC_FAULT_LIFETIME: time::Duration = time::Duration::minutes(10);

/// A fault waiting for the next matching OIDC message.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ArmedOidcFault {
    pub id: String,
    #[serde(serialize_with = "serialize_fault")]
    pub fault: OidcFault,
    #[serde(serialize_with = "serialize_target")]
    pub target: FaultTarget,
    pub user: Option<UserId>,
    pub client: Option<AppId>,
    /// The authorization server whose messages it changes; `None` for any.
    #[serde(serialize_with = "serialize_server")]
    pub server: Option<ServerRef>,
    /// When it is dropped if no message has used it.
    #[serde(serialize_with = "serialize_instant")]
    pub expires: OffsetDateTime,
}

impl crate::idp::bounded::Footprint for ArmedOidcFault {
    fn footprint(&self) -> usize {
        crate::idp::bounded::debug_footprint(self)
    }
}

impl ArmedOidcFault {
    pub(super) fn plan(&self) -> OidcFaultPlan {
        OidcFaultPlan { fault: self.fault, target: self.target }
    }

    /// Whether the fault is armed for a message of this scope.
    pub(super) fn matches(&self, stages: &[FaultStage], scope: &MessageScope<'_>) -> bool {
        stages.contains(&self.fault.stage())
            && self.user.as_ref().is_none_or(|u| Some(u) == scope.user)
            && self.client.as_ref().is_none_or(|c| *c == scope.client.client)
            && self.server.as_ref().is_none_or(|s| *s == scope.server.server)
            && self.plan().acts_on(&scope.server, &scope.client)
            // A token fault for the ID token alone waits for a message that has one.
            && (!matches!(self.fault.stage(), FaultStage::Token | FaultStage::RefreshToken)
                || self.target.access_token()
                || scope.id_token_issued)
    }
}

fn serialize_server<S: serde::Serializer>(value: &Option<ServerRef>, serializer: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(server) => serializer.collect_str(server),
        None => serializer.serialize_none(),
    }
}

fn serialize_instant<S: serde::Serializer>(value: &OffsetDateTime, serializer: S) -> Result<S::Ok, S::Error> {
    let text = value.format(&time::format_description::well_known::Rfc3339).map_err(serde::ser::Error::custom)?;
    serializer.serialize_str(&text)
}

/// Who and what a message is for, as armed faults are matched against it.
/// The facts are read from the org before the faults' lock is taken.
pub(super) struct MessageScope<'a> {
    pub(super) user: Option<&'a UserId>,
    pub(super) server: ServerFacts,
    pub(super) client: ClientFacts,
    /// Whether the message carries an ID token (always true outside the token endpoint).
    pub(super) id_token_issued: bool,
}

fn serialize_fault<S: serde::Serializer>(value: &OidcFault, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(value.name())
}

fn serialize_target<S: serde::Serializer>(value: &FaultTarget, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(value.as_str())
}

impl Idp {
    /// Arms an OIDC fault for the next matching message of any server. See
    /// [`Idp::arm_oidc_fault_on_server`].
    pub fn arm_oidc_fault(
        &self,
        plan: OidcFaultPlan,
        user: Option<UserId>,
        client: Option<AppId>,
    ) -> Result<ArmedOidcFault, OidcFaultRefusal> {
        self.arm_oidc_fault_on_server(plan, None, user, client)
    }

    /// Arms an OIDC fault for the next matching message: of `server`, to
    /// `client`, for `user` (`None` matches any). A fault that no matching
    /// message could carry is refused with the reason. An armed fault that
    /// no message uses within [`ARMED_OIDC_FAULT_LIFETIME`] is dropped.
    pub fn arm_oidc_fault_on_server(
        &self,
        plan: OidcFaultPlan,
        server: Option<ServerRef>,
        user: Option<UserId>,
        client: Option<AppId>,
    ) -> Result<ArmedOidcFault, OidcFaultRefusal> {
        self.read_org(|org| plan.check_arming(org, server.as_ref(), client.as_ref()))?;
        // `discovery-issuer-only` changes a document fetched before anyone
        // signs in, so it matches the next document whatever its user and client.
        let (user, client) = if plan.fault.stage() == FaultStage::Discovery { (None, None) } else { (user, client) };
        let armed = ArmedOidcFault {
            id: self.ids.opaque_token(),
            fault: plan.fault,
            target: plan.target,
            user,
            client,
            server,
            expires: self.now() + ARMED_OIDC_FAULT_LIFETIME,
        };
        lock(&self.oidc.faults).push(armed.clone());
        Ok(armed)
    }

    /// The armed faults still waiting, oldest first.
    pub fn armed_oidc_faults(&self) -> Vec<ArmedOidcFault> {
        self.live_oidc_faults().to_vec()
    }

    pub fn clear_oidc_faults(&self) {
        lock(&self.oidc.faults).clear();
    }

    /// Disarms one fault by id; false when no such fault is waiting.
    pub fn disarm_oidc_fault(&self, id: &str) -> bool {
        self.live_oidc_faults().take_first(|f| f.id == id).is_some()
    }

    /// The armed faults, with those past their lifetime dropped first.
    pub(super) fn live_oidc_faults(&self) -> std::sync::MutexGuard<'_, BoundedList<ArmedOidcFault>> {
        let now = self.now();
        let mut faults = lock(&self.oidc.faults);
        faults.retain(|f| f.expires > now);
        faults
    }

    /// The facts faults are matched on, for a message of `server` to `client`;
    /// `None` when no fault is armed, since then there is nothing to match
    /// (and every token and code would otherwise pay for reading them).
    pub(super) fn message_facts(&self, server: &ServerRef, client: &AppId) -> Option<(ServerFacts, ClientFacts)> {
        if lock(&self.oidc.faults).is_empty() {
            return None;
        }
        self.read_org(|org| {
            let server = ServerFacts::of(org, server)?;
            let client = org.apps.get(client).map(ClientFacts::of)?;
            Some((server, client))
        })
    }

    pub(super) fn take_oidc_fault(&self, stages: &[FaultStage], scope: &MessageScope<'_>) -> Option<ArmedOidcFault> {
        self.live_oidc_faults().take_first(|f| f.matches(stages, scope))
    }
}
