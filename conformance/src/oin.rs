//! OIN readiness (`mockta check --profile oin`): what Okta's submission to
//! the Okta Integration Network asks of an integration, judged from what the
//! target and its org declare and from the results of the catalogue checks
//! that already test the behaviour.
//!
//! The module is pure: [`Facts::gather`] reads the parsed target and the
//! mock org, [`judge`] turns facts and check results into a [`Readiness`],
//! and [`Readiness::to_human`] renders it. Nothing here runs a check; a
//! requirement with no check behind it is judged on its declaration alone.
//!
//! Okta's manual SCIM test plan (`okta-scim-test-plan`, 61 cases, ids C9289
//! to C9361 and C21902) does not say in any source available to this project
//! which id is which case, so the cases are named by the plan's area and
//! title, never by an id that could be wrong.

use std::fmt::Write;

use mock_idp::org::oidc::GrantType;
use mock_idp::org::{Org, SignatureAlgorithm};
use serde::Serialize;

use crate::catalogue::Protocol;
use crate::runner::{CheckResult, Verdict};
use crate::target::{ScimAuth, Target};

/// The profile's name on the command line.
pub const PROFILE: &str = "oin";

/// The words `oidc.sso.sign_in` uses in its reason when the relying party
/// signed in through the org authorization server (runner/oidc.rs,
/// `describe_server`). The requirement reads the server the sign-in was seen
/// to use rather than what a file says it uses.
const ORG_SERVER_WORDS: &str = "through the org authorization server";
const CUSTOM_SERVER_WORDS: &str = "through the custom authorization server";

/// The scopes Okta's org authorization server defines for OpenID Connect;
/// any other scope is a custom one, which the OIN refuses.
const STANDARD_SCOPES: [&str; 6] = ["openid", "profile", "email", "address", "phone", "offline_access"];

/// How a requirement stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    Met,
    /// Allowed, but weak or only partly shown (a loopback `http` SCIM URL in
    /// a local run, a plan case the checks only partly cover).
    Warn,
    Unmet,
    /// The target does not use the requirement's protocol.
    NotApplicable,
}

impl Standing {
    pub fn as_str(self) -> &'static str {
        match self {
            Standing::Met => "met",
            Standing::Warn => "warn",
            Standing::Unmet => "unmet",
            Standing::NotApplicable => "n.a.",
        }
    }

    /// The worse of two standings of one applicable requirement.
    fn worst(self, other: Standing) -> Standing {
        self.max(other)
    }
}

/// A case of Okta's manual SCIM test plan, by its area and title.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ManualCase {
    pub area: &'static str,
    pub title: &'static str,
}

const fn case(area: &'static str, title: &'static str) -> ManualCase {
    ManualCase { area, title }
}

/// The plan's cases no check of the suite runs: they need Okta's own console
/// (OAuth allow-lists, group rules, bulk edits, profile sourcing) or
/// behaviour the mock does not play (password sync, group attributes).
pub const MANUAL_CASES_NOT_RUN: [ManualCase; 12] = [
    case("Preconditions", "OAuth with a redirect URI that is not allow-listed fails"),
    case("Create", "Group assignment"),
    case("Update", "Group attributes"),
    case("Deprovision", "Group unassignment"),
    case("Sync password", "Both password cases"),
    case("Import", "Update on import"),
    case("Import", "Group import"),
    case("Group push", "Empty group"),
    case("Group push", "Deactivate and activate a push"),
    case("Group push", "Group rules"),
    case("Group push", "Bulk edit"),
    case("Profile sourcing", "All three cases"),
];

/// What a requirement reads from the target and org besides check results.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Declared {
    Nothing,
    SamlSha256,
    SamlForceAuthn,
    SamlNoSlo,
    OidcOrgServer,
    OidcNoRefresh,
    OidcNoCustomScopes,
    ScimNotBasic,
    ScimTlsUrl,
}

/// One thing Okta's OIN submission asks of an integration.
#[derive(Clone, Copy, Debug)]
pub struct Requirement {
    /// Stable id, `oin.{protocol}.{name}`.
    pub id: &'static str,
    pub protocol: Protocol,
    pub title: &'static str,
    /// Where Okta asks it.
    pub source: &'static str,
    /// The catalogue checks whose results evidence it.
    pub checks: &'static [&'static str],
    /// The manual plan's cases it covers.
    pub manual_cases: &'static [ManualCase],
    /// Why the checks show only part of it; the requirement is then at best
    /// a warning.
    pub partial: Option<&'static str>,
    declared: Declared,
}

const SUBMIT_PREREQ: &str = "Okta: guides/submit-app-prereq (OIN submission requirements)";
const SCIM_TEST: &str = "Okta: guides/submit-oin-app/scim/test-scim (SPEC and CRUD tests, manual test plan)";
const SCIM_PREPARE: &str = "Okta: guides/scim-provisioning-integration-prepare (TLS, authentication, SCIM 2.0)";

const fn requirement(
    id: &'static str,
    protocol: Protocol,
    title: &'static str,
    source: &'static str,
    checks: &'static [&'static str],
    declared: Declared,
) -> Requirement {
    Requirement { id, protocol, title, source, checks, manual_cases: &[], partial: None, declared }
}

const fn plan_case(
    id: &'static str,
    title: &'static str,
    checks: &'static [&'static str],
    manual_cases: &'static [ManualCase],
    partial: Option<&'static str>,
) -> Requirement {
    Requirement {
        id,
        protocol: Protocol::Scim,
        title,
        source: SCIM_TEST,
        checks,
        manual_cases,
        partial,
        declared: Declared::Nothing,
    }
}

/// Every requirement, in report order.
pub fn requirements() -> Vec<Requirement> {
    REQUIREMENTS.to_vec()
}

/// The requirements as a constant, so the manual cases they list are
/// promoted to statics.
const REQUIREMENTS: &[Requirement] = &[
    requirement(
        "oin.saml.sha256_only",
        Protocol::Saml,
        "SAML responses are signed with SHA-256, and SHA-1 is refused",
        SUBMIT_PREREQ,
        &["saml.sig.sha1"],
        Declared::SamlSha256,
    ),
    requirement(
        "oin.saml.force_authn",
        Protocol::Saml,
        "Okta's ForceAuthn (on for instances from the OIN Wizard) is honoured and SP-initiated sign-in works with it",
        SUBMIT_PREREQ,
        &["saml.sso.sp_initiated"],
        Declared::SamlForceAuthn,
    ),
    requirement(
        "oin.saml.sp_initiated",
        Protocol::Saml,
        "SP-initiated sign-in works",
        SUBMIT_PREREQ,
        &["saml.sso.sp_initiated"],
        Declared::Nothing,
    ),
    requirement(
        "oin.saml.idp_initiated",
        Protocol::Saml,
        "IdP-initiated sign-in (from the Okta dashboard) works",
        SUBMIT_PREREQ,
        &["saml.sso.idp_initiated"],
        Declared::Nothing,
    ),
    requirement(
        "oin.saml.no_slo_reliance",
        Protocol::Saml,
        "The SP does not rely on Single Logout (OIN SAML integrations do not support SP-initiated SLO)",
        SUBMIT_PREREQ,
        &["saml.session.expired"],
        Declared::SamlNoSlo,
    ),
    requirement(
        "oin.saml.big_bang_warning",
        Protocol::Saml,
        "An SSO-only (\"big bang\") SP keeps a way in for its admins, which its setup guide must name",
        SUBMIT_PREREQ,
        &[
            "cross.lockout_safety.break_glass_survives_idp_outage",
            "cross.lockout_safety.sso_enforcement_needs_admin_sign_in",
            "cross.lockout_safety.last_admin_kept",
            "cross.lockout_safety.failed_sso_never_locks",
        ],
        Declared::Nothing,
    ),
    requirement(
        "oin.oidc.org_authorization_server",
        Protocol::Oidc,
        "The relying party signs in through the org authorization server only",
        SUBMIT_PREREQ,
        &["oidc.sso.sign_in"],
        Declared::OidcOrgServer,
    ),
    requirement(
        "oin.oidc.no_refresh_tokens",
        Protocol::Oidc,
        "No refresh tokens and no offline_access",
        SUBMIT_PREREQ,
        &[],
        Declared::OidcNoRefresh,
    ),
    requirement(
        "oin.oidc.no_custom_scopes",
        Protocol::Oidc,
        "No custom scopes (such as groups): only openid, profile, email, address and phone",
        SUBMIT_PREREQ,
        &[],
        Declared::OidcNoCustomScopes,
    ),
    requirement(
        "oin.oidc.email_verified_not_relied_on",
        Protocol::Oidc,
        "Accounts are not found or linked by an email whatever email_verified says",
        SUBMIT_PREREQ,
        &["oidc.account.email_not_identity", "cross.email_matching.unverified_email_never_links"],
        Declared::Nothing,
    ),
    requirement(
        "oin.oidc.multi_tenant_issuer",
        Protocol::Oidc,
        "Each customer's own issuer is used and any other refused (multi-tenant)",
        SUBMIT_PREREQ,
        &["oidc.sso.sign_in", "oidc.claims.iss", "oidc.discovery.issuer_mismatch"],
        Declared::Nothing,
    ),
    requirement(
        "oin.scim.version_2",
        Protocol::Scim,
        "The SCIM server speaks SCIM 2.0 as Okta's SPEC test reads it",
        SCIM_PREPARE,
        &["scim.spec.list_and_get", "scim.spec.create_user", "scim.spec.unknown_user"],
        Declared::Nothing,
    ),
    requirement(
        "oin.scim.credentials_not_basic",
        Protocol::Scim,
        "Okta authenticates with a header token, Bearer or OAuth 2.0, not HTTP Basic (refused by the OIN Wizard)",
        SCIM_PREPARE,
        &["scim.spec.unauthorized"],
        Declared::ScimNotBasic,
    ),
    requirement(
        "oin.scim.tls_base_url_without_underscore",
        Protocol::Scim,
        "The SCIM base URL is https and has no underscore",
        SCIM_PREPARE,
        &[],
        Declared::ScimTlsUrl,
    ),
    requirement(
        "oin.scim.required_attributes",
        Protocol::Scim,
        "Users carry the attributes Okta's SPEC test asserts (userName, name, emails, active) and creates with them succeed",
        SCIM_TEST,
        &["scim.spec.list_and_get", "scim.spec.create_user", "scim.crud.assign"],
        Declared::Nothing,
    ),
    requirement(
        "oin.scim.spec_and_crud_tests",
        Protocol::Scim,
        "Okta's SPEC and CRUD tests pass",
        SCIM_TEST,
        &[
            "scim.spec.list_and_get",
            "scim.spec.filter_no_match",
            "scim.spec.unknown_user",
            "scim.spec.create_user",
            "scim.spec.duplicate",
            "scim.spec.list_groups",
            "scim.spec.unauthorized",
            "scim.crud.assign",
            "scim.crud.update_profile",
            "scim.crud.deactivate",
            "scim.crud.reactivate",
        ],
        Declared::Nothing,
    ),
    plan_case(
        "oin.scim.plan.bad_credentials",
        "A request with bad credentials is refused",
        &["scim.spec.unauthorized"],
        &[case("Preconditions", "Bad credentials")],
        None,
    ),
    plan_case(
        "oin.scim.plan.create",
        "Okta's assignment creates the user",
        &["scim.crud.assign", "scim.spec.create_user"],
        &[case("Create", "New user")],
        None,
    ),
    plan_case(
        "oin.scim.plan.reactivate",
        "Okta's re-activation gives the same account back",
        &["scim.crud.reactivate", "cross.deactivation.reactivation_restores"],
        &[case("Create", "Re-activation")],
        None,
    ),
    plan_case(
        "oin.scim.plan.link_existing_user",
        "A user already in the app is found by Okta's lookup and linked, not created twice",
        &["cross.email_matching.one_account", "scim.spec.duplicate"],
        &[case("Create", "User Already Created In App (link and update)")],
        None,
    ),
    plan_case(
        "oin.scim.plan.unique_user",
        "userName is unique (a duplicate create is 409)",
        &["scim.spec.duplicate", "scim.users.duplicate_uniqueness", "scim.users.duplicate_case_variant"],
        &[case("Create", "Unique userName and email")],
        None,
    ),
    plan_case(
        "oin.scim.plan.update_attributes",
        "Okta's profile update changes the user",
        &["scim.crud.update_profile", "cross.email_matching.changed_at_okta"],
        &[case("Update", "Attributes")],
        None,
    ),
    plan_case(
        "oin.scim.plan.push_empty_values",
        "An update that empties attributes is taken without errors",
        &["scim.users.put_replaces"],
        &[case("Update", "Push empty values with no errors")],
        Some(
            "the checks show a PUT that leaves attributes out clearing them, not Okta's empty strings for unset mappings; run that case by hand",
        ),
    ),
    plan_case(
        "oin.scim.plan.deactivate",
        "Okta's deactivation leaves the user readable, inactive and unable to sign in",
        &[
            "scim.crud.deactivate",
            "scim.users.pathless_patch",
            "cross.deactivation.stays_readable",
            "cross.deactivation.saml_refused",
            "cross.deactivation.oidc_refused",
        ],
        &[case("Deprovision", "Deactivate")],
        None,
    ),
    plan_case(
        "oin.scim.plan.unassign",
        "Okta's unassignment refuses sign-in and makes no new account",
        &["cross.deactivation.unassignment_refused"],
        &[case("Deprovision", "Unassign")],
        None,
    ),
    plan_case(
        "oin.scim.plan.suspend",
        "Okta's suspension refuses sign-in, and unsuspension gives it back",
        &["cross.deactivation.suspension_refused"],
        &[case("Deprovision", "Suspend"), case("Create", "Un-suspend")],
        None,
    ),
    plan_case(
        "oin.scim.plan.import",
        "Okta's import reads every user once, page after page",
        &[
            "scim.spec.list_and_get",
            "scim.lists.stable_pages",
            "scim.lists.items_per_page",
            "scim.lists.count_respected",
        ],
        &[case("Import", "Users, with the summary \"1 users scanned / 1 new user imported\"")],
        Some(
            "the checks show the listing Okta's import pages through, not the summary Okta's console prints; compare it by hand",
        ),
    ),
    plan_case(
        "oin.scim.plan.group_push",
        "Okta's group push creates, links, renames, replaces, changes members and unlinks as Okta sends it",
        &[
            "scim.groups.create_and_find",
            "scim.groups.add_member",
            "scim.groups.rename_keeps_members",
            "scim.groups.remove_filtered_member",
            "scim.groups.push_now_replaces",
            "scim.groups.delete_keeps_users",
            "cross.push_groups.membership_exact",
            "cross.push_groups.large_push",
            "cross.push_groups.deleted_group_member_signs_in",
        ],
        &[
            case("Group push", "Create"),
            case("Group push", "Link, with and without rename"),
            case("Group push", "Push Now (the membership overwritten)"),
            case("Group push", "Unlink, deleting or leaving the group"),
            case("Group push", "Add and remove members"),
        ],
        None,
    ),
];

/// What the target and its org declare that the requirements read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Facts {
    pub saml: Option<SamlFacts>,
    pub oidc: Option<OidcFacts>,
    pub scim: Option<ScimFacts>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SamlFacts {
    pub app: String,
    pub signature_algorithm: SignatureAlgorithm,
    pub honor_force_authn: bool,
    /// Whether the target names a Single Logout URL (`[saml] slo_url`).
    pub slo_declared: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OidcFacts {
    pub app: String,
    /// The grant types the org's OIDC app allows.
    pub grant_types: Vec<GrantType>,
    /// The scopes the target says the relying party asks for.
    pub scopes: Option<Vec<String>>,
    /// The scopes the relying party was seen to ask for at the mock's
    /// `/authorize` during the run; `None` when it signed in no one.
    pub requested_scopes: Option<Vec<String>>,
    /// Whether the target names a refresh hook (`[oidc] refresh_url`).
    pub refresh_declared: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScimFacts {
    pub base_url: String,
    pub basic_auth: bool,
}

impl Facts {
    /// Reads the facts from the parsed target and the org it names. An app
    /// the org lacks leaves its protocol's facts out (the suite refuses such
    /// a target before any check runs).
    pub fn gather(target: &Target, org: &Org) -> Facts {
        let saml = target.saml.as_ref().and_then(|saml| {
            let settings = org.find_app(&saml.app)?.saml()?;
            Some(SamlFacts {
                app: saml.app.clone(),
                signature_algorithm: settings.signature_algorithm,
                honor_force_authn: settings.honor_force_authn,
                slo_declared: saml.slo_url.is_some(),
            })
        });
        let oidc = target.oidc.as_ref().and_then(|oidc| {
            let settings = org.find_app(&oidc.app)?.oidc()?;
            Some(OidcFacts {
                app: oidc.app.clone(),
                grant_types: settings.grant_types.clone(),
                scopes: oidc.scopes.clone(),
                requested_scopes: None,
                refresh_declared: oidc.refresh_url.is_some(),
            })
        });
        let scim = target.scim.as_ref().map(|scim| ScimFacts {
            base_url: scim.base_url.clone(),
            basic_auth: matches!(scim.auth, ScimAuth::Basic { .. }),
        });
        Facts { saml, oidc, scim }
    }

    /// Notes the scopes the relying party was seen to ask for during the
    /// run (none seen leaves the facts as they are).
    pub fn note_requested_scopes(&mut self, scopes: impl IntoIterator<Item = String>) {
        let seen: Vec<String> = scopes.into_iter().collect();
        if let Some(oidc) = self.oidc.as_mut()
            && !seen.is_empty()
        {
            oidc.requested_scopes = Some(seen);
        }
    }

    fn declares(&self, protocol: Protocol) -> bool {
        match protocol {
            Protocol::Saml => self.saml.is_some(),
            Protocol::Oidc => self.oidc.is_some(),
            Protocol::Scim => self.scim.is_some(),
            Protocol::Cross => true,
        }
    }
}

/// How one requirement stands, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Judgement {
    pub id: &'static str,
    pub protocol: &'static str,
    pub title: &'static str,
    pub source: &'static str,
    pub standing: Standing,
    /// One line per declaration or check result the standing rests on.
    pub evidence: Vec<String>,
    pub manual_cases: Vec<ManualCase>,
}

/// The readiness report: every requirement's judgement, in order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Readiness {
    pub profile: &'static str,
    pub requirements: Vec<Judgement>,
    /// The manual plan's cases no check runs.
    pub manual_cases_not_run: Vec<ManualCase>,
    /// Why the cases have no ids.
    pub manual_case_ids: &'static str,
}

const CASE_IDS_NOTE: &str = "Okta's manual plan numbers its 61 cases C9289 to C9361 and C21902, but which id is which case is not public in the sources available; cases are named by area and title";

/// Judges every requirement.
pub fn judge(facts: &Facts, results: &[CheckResult]) -> Readiness {
    Readiness {
        profile: PROFILE,
        requirements: requirements().iter().map(|r| judge_one(r, facts, results)).collect(),
        manual_cases_not_run: MANUAL_CASES_NOT_RUN.to_vec(),
        manual_case_ids: CASE_IDS_NOTE,
    }
}

/// Judges one requirement: its declaration and its checks, the worse of the
/// two, or not applicable when the target does not use its protocol.
pub fn judge_one(requirement: &Requirement, facts: &Facts, results: &[CheckResult]) -> Judgement {
    let mut judgement = Judgement {
        id: requirement.id,
        protocol: requirement.protocol.as_str(),
        title: requirement.title,
        source: requirement.source,
        standing: Standing::NotApplicable,
        evidence: Vec::new(),
        manual_cases: requirement.manual_cases.to_vec(),
    };
    if !facts.declares(requirement.protocol) {
        judgement.evidence.push(format!("the target has no [{}] section", requirement.protocol.as_str()));
        return judgement;
    }
    let (declared, mut evidence) = judge_declaration(requirement.declared, facts, results);
    let (checked, check_evidence) = judge_checks(requirement.checks, results);
    evidence.extend(check_evidence);
    let mut standing = declared.worst(checked);
    if let Some(partial) = requirement.partial
        && standing == Standing::Met
    {
        standing = Standing::Warn;
        evidence.push(format!("partly shown: {partial}"));
    }
    judgement.standing = standing;
    judgement.evidence = evidence;
    judgement
}

/// The standing the checks give: unmet when one failed or errored, a
/// warning when one warned or none ran, met otherwise. No checks, met.
fn judge_checks(ids: &[&str], results: &[CheckResult]) -> (Standing, Vec<String>) {
    let mut standing = Standing::Met;
    let mut evidence = Vec::new();
    let mut judged = 0;
    for id in ids {
        match results.iter().find(|r| r.id == *id) {
            None => evidence.push(format!("{id} was not run")),
            Some(result) => match result.verdict {
                Verdict::Pass => {
                    judged += 1;
                    evidence.push(format!("{id} passed"));
                }
                Verdict::Fail => {
                    judged += 1;
                    standing = standing.worst(Standing::Unmet);
                    evidence.push(format!("{id} failed: {}", short(&result.reason)));
                }
                Verdict::Error => {
                    judged += 1;
                    standing = standing.worst(Standing::Unmet);
                    evidence.push(format!("{id} could not be judged (error): {}", short(&result.reason)));
                }
                Verdict::Warn => {
                    judged += 1;
                    standing = standing.worst(Standing::Warn);
                    evidence.push(format!("{id} warned: {}", short(&result.reason)));
                }
                Verdict::Skip => evidence.push(format!("{id} skipped: {}", short(&result.reason))),
            },
        }
    }
    if !ids.is_empty() && judged == 0 {
        standing = standing.worst(Standing::Warn);
        evidence.push("no check judged it in this run".to_owned());
    }
    (standing, evidence)
}

/// A reason cut to one readable line.
fn short(reason: &str) -> String {
    const LIMIT: usize = 240;
    let line = reason.replace('\n', " ");
    if line.chars().count() <= LIMIT {
        return line;
    }
    let cut: String = line.chars().take(LIMIT).collect();
    format!("{cut}…")
}

fn judge_declaration(declared: Declared, facts: &Facts, results: &[CheckResult]) -> (Standing, Vec<String>) {
    match declared {
        Declared::Nothing => (Standing::Met, Vec::new()),
        Declared::SamlSha256 => match &facts.saml {
            None => (Standing::NotApplicable, Vec::new()),
            Some(saml) => judge_sha256(saml, results),
        },
        Declared::SamlForceAuthn => match &facts.saml {
            None => (Standing::NotApplicable, Vec::new()),
            Some(saml) if saml.honor_force_authn => (
                Standing::Met,
                vec![format!(
                    "the org's SAML app '{}' honours ForceAuthn, as OIN Wizard instances do; the catalogue has no check that sends ForceAuthn itself",
                    saml.app
                )],
            ),
            Some(saml) => (
                Standing::Warn,
                vec![format!(
                    "the org's SAML app '{}' ignores ForceAuthn (honor_force_authn = false), unlike OIN Wizard instances, so this run did not sign in the way the OIN instance will",
                    saml.app
                )],
            ),
        },
        Declared::SamlNoSlo => match &facts.saml {
            None => (Standing::NotApplicable, Vec::new()),
            Some(saml) if saml.slo_declared => (
                Standing::Warn,
                vec![
                    "the target declares Single Logout ([saml] slo_url): an OIN instance has no SP-initiated SLO, so the SP's sessions must end on their own".to_owned(),
                ],
            ),
            Some(_) => (Standing::Met, vec!["the target declares no Single Logout".to_owned()]),
        },
        Declared::OidcOrgServer => judge_org_server(results),
        Declared::OidcNoRefresh => match &facts.oidc {
            None => (Standing::NotApplicable, Vec::new()),
            Some(oidc) => judge_no_refresh(oidc),
        },
        Declared::OidcNoCustomScopes => match &facts.oidc {
            None => (Standing::NotApplicable, Vec::new()),
            Some(oidc) => judge_scopes(oidc),
        },
        Declared::ScimNotBasic => match &facts.scim {
            None => (Standing::NotApplicable, Vec::new()),
            Some(scim) if scim.basic_auth => (
                Standing::Unmet,
                vec![
                    "the target's SCIM credential is HTTP Basic ([scim] basic_auth); the OIN Wizard accepts a header token, Bearer or OAuth 2.0 only".to_owned(),
                ],
            ),
            Some(_) => (Standing::Met, vec!["the target's SCIM credential is a Bearer token".to_owned()]),
        },
        Declared::ScimTlsUrl => match &facts.scim {
            None => (Standing::NotApplicable, Vec::new()),
            Some(scim) => judge_base_url(&scim.base_url),
        },
    }
}

/// SHA-256 only: the org's app signs with it, and the SP refuses SHA-1.
/// `saml.sig.sha1` only warns where a tenant opted into SHA-1 (the spec
/// allows it), but the OIN does not, so here its warning is unmet.
fn judge_sha256(saml: &SamlFacts, results: &[CheckResult]) -> (Standing, Vec<String>) {
    let (mut standing, mut evidence) = match saml.signature_algorithm {
        SignatureAlgorithm::RsaSha256 => {
            (Standing::Met, vec![format!("the org's SAML app '{}' signs with RSA-SHA256", saml.app)])
        }
        SignatureAlgorithm::RsaSha1 => (
            Standing::Unmet,
            vec![format!(
                "the org's SAML app '{}' signs with RSA-SHA1 (signature_algorithm = \"RSA_SHA1\"); the OIN requires SHA-256",
                saml.app
            )],
        ),
    };
    if results.iter().any(|r| r.id == "saml.sig.sha1" && r.verdict == Verdict::Warn) {
        standing = Standing::Unmet;
        evidence
            .push("the SP accepts RSA-SHA1 responses (saml.sig.sha1 warned), which the OIN does not allow".to_owned());
    }
    (standing, evidence)
}

/// The server the relying party was seen to sign in through.
fn judge_org_server(results: &[CheckResult]) -> (Standing, Vec<String>) {
    let Some(sign_in) = results.iter().find(|r| r.id == "oidc.sso.sign_in" && r.verdict == Verdict::Pass) else {
        return (Standing::Met, Vec::new());
    };
    if sign_in.reason.contains(ORG_SERVER_WORDS) {
        (Standing::Met, vec!["the relying party signed in through the org authorization server".to_owned()])
    } else if sign_in.reason.contains(CUSTOM_SERVER_WORDS) {
        (
            Standing::Unmet,
            vec![format!(
                "the relying party signed in through a custom authorization server ({}); the OIN allows only the org authorization server",
                short(&sign_in.reason)
            )],
        )
    } else {
        (Standing::Warn, vec![format!("the sign-in did not say which server it used: {}", short(&sign_in.reason))])
    }
}

fn judge_no_refresh(oidc: &OidcFacts) -> (Standing, Vec<String>) {
    let mut problems = Vec::new();
    if oidc.grant_types.contains(&GrantType::RefreshToken) {
        problems.push(format!("the org's OIDC app '{}' allows the refresh_token grant", oidc.app));
    }
    if oidc.scopes.as_ref().is_some_and(|scopes| scopes.iter().any(|s| s == "offline_access")) {
        problems.push("the target says the relying party asks for offline_access ([oidc] scopes)".to_owned());
    }
    if oidc.requested_scopes.as_ref().is_some_and(|scopes| scopes.iter().any(|s| s == "offline_access")) {
        problems.push("the relying party was seen asking for offline_access at the mock's /authorize".to_owned());
    }
    if oidc.refresh_declared {
        problems.push(
            "the target names a refresh hook ([oidc] refresh_url): the relying party redeems refresh tokens".to_owned(),
        );
    }
    if !problems.is_empty() {
        return (Standing::Unmet, problems);
    }
    let mut evidence = vec![format!("the org's OIDC app '{}' allows no refresh_token grant", oidc.app)];
    if oidc.scopes.is_none() && oidc.requested_scopes.is_none() {
        evidence.push(NO_SCOPES_SHOWN.to_owned());
        return (Standing::Warn, evidence);
    }
    evidence.push("the relying party asks for no offline_access".to_owned());
    (Standing::Met, evidence)
}

const NO_SCOPES_SHOWN: &str =
    "neither the target ([oidc] scopes) nor a sign-in of the run shows which scopes the relying party asks for";

fn judge_scopes(oidc: &OidcFacts) -> (Standing, Vec<String>) {
    let sources = [
        ("the target says the relying party asks for", "([oidc] scopes)", &oidc.scopes),
        ("the relying party was seen asking for", "at the mock's /authorize", &oidc.requested_scopes),
    ];
    let mut standing = Standing::Met;
    let mut evidence = Vec::new();
    for (said, place, scopes) in sources {
        let Some(scopes) = scopes else { continue };
        let custom: Vec<&str> =
            scopes.iter().map(String::as_str).filter(|scope| !STANDARD_SCOPES.contains(scope)).collect();
        if custom.is_empty() {
            evidence.push(format!("{said} {} {place}", scopes.join(" ")));
        } else {
            standing = Standing::Unmet;
            evidence.push(format!(
                "{said} the custom scope{} {} {place}, of {}; the OIN allows only Okta's OpenID Connect scopes",
                if custom.len() == 1 { "" } else { "s" },
                custom.join(", "),
                scopes.join(" ")
            ));
        }
    }
    if evidence.is_empty() {
        return (Standing::Warn, vec![NO_SCOPES_SHOWN.to_owned()]);
    }
    (standing, evidence)
}

/// Okta's submission needs an https base URL with no underscore. A local
/// run against a loopback `http` address cannot have the production URL, so
/// that is a warning, not a failure.
fn judge_base_url(base_url: &str) -> (Standing, Vec<String>) {
    let parsed = url::Url::parse(base_url);
    let host = parsed.as_ref().ok().and_then(|u| u.host_str().map(str::to_owned)).unwrap_or_default();
    let mut standing = Standing::Met;
    let mut evidence = Vec::new();
    if base_url.contains('_') {
        standing = Standing::Unmet;
        evidence.push(format!("the SCIM base URL {base_url} has an underscore, which Okta's submission refuses"));
    }
    match parsed.as_ref().map(url::Url::scheme) {
        Ok("https") => evidence.push(format!("the SCIM base URL {base_url} is https")),
        Ok("http") if is_loopback(&host) => {
            standing = standing.worst(Standing::Warn);
            evidence.push(format!(
                "the SCIM base URL {base_url} is plain http on a loopback address: fine for a local run, but the submission needs the production https URL"
            ));
        }
        _ => {
            standing = Standing::Unmet;
            evidence.push(format!("the SCIM base URL {base_url} is not https; Okta requires TLS"));
        }
    }
    (standing, evidence)
}

fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare == "localhost" || bare.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

impl Readiness {
    /// Whether any requirement is unmet.
    pub fn has_unmet(&self) -> bool {
        self.requirements.iter().any(|r| r.standing == Standing::Unmet)
    }

    /// The ids of the unmet requirements, in order.
    pub fn unmet(&self) -> Vec<&'static str> {
        self.requirements.iter().filter(|r| r.standing == Standing::Unmet).map(|r| r.id).collect()
    }

    fn count(&self, standing: Standing) -> usize {
        self.requirements.iter().filter(|r| r.standing == standing).count()
    }

    /// The report as text: a summary line, then each requirement with its
    /// evidence and the manual plan's cases it covers, then the cases left to
    /// a person.
    pub fn to_human(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "\nOIN readiness (profile {}): {} met, {} unmet, {} warn, {} not applicable\n",
            self.profile,
            self.count(Standing::Met),
            self.count(Standing::Unmet),
            self.count(Standing::Warn),
            self.count(Standing::NotApplicable)
        );
        for requirement in &self.requirements {
            let _ = writeln!(out, "  {:<6} {}  {}", requirement.standing.as_str(), requirement.id, requirement.title);
            for line in &requirement.evidence {
                let _ = writeln!(out, "           - {line}");
            }
            for case in &requirement.manual_cases {
                let _ = writeln!(out, "           manual plan: {}: {}", case.area, case.title);
            }
        }
        let _ = writeln!(out, "\nManual plan cases no check runs (run them by hand before submitting):");
        for case in &self.manual_cases_not_run {
            let _ = writeln!(out, "  - {}: {}", case.area, case.title);
        }
        let _ = writeln!(out, "({})", self.manual_case_ids);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::{Category, Severity, all_checks};

    fn result(id: &'static str, verdict: Verdict, reason: &str) -> CheckResult {
        CheckResult {
            id,
            title: "",
            protocol: Protocol::Saml,
            category: Category::SignIn,
            severity: Severity::High,
            reference: "",
            verdict,
            reason: reason.to_owned(),
            evidence: None,
            fix: None,
            duration_ms: 0,
        }
    }

    fn facts() -> Facts {
        Facts {
            saml: Some(SamlFacts {
                app: "oin-saml".into(),
                signature_algorithm: SignatureAlgorithm::RsaSha256,
                honor_force_authn: true,
                slo_declared: false,
            }),
            oidc: Some(OidcFacts {
                app: "oin-oidc".into(),
                grant_types: vec![GrantType::AuthorizationCode],
                scopes: Some(vec!["openid".into(), "email".into(), "profile".into()]),
                requested_scopes: None,
                refresh_declared: false,
            }),
            scim: Some(ScimFacts { base_url: "https://sp.example/scim/v2".into(), basic_auth: false }),
        }
    }

    fn by_id(id: &str) -> Requirement {
        requirements().into_iter().find(|r| r.id == id).unwrap()
    }

    fn standing(id: &str, facts: &Facts, results: &[CheckResult]) -> Standing {
        judge_one(&by_id(id), facts, results).standing
    }

    /// Every check a requirement names is in the catalogue, so a renamed
    /// check cannot silently leave a requirement without evidence.
    #[test]
    fn every_evidence_check_is_in_the_catalogue() {
        let ids: Vec<&str> = all_checks().iter().map(|c| c.id).collect();
        for requirement in requirements() {
            for check in requirement.checks {
                assert!(ids.contains(check), "{} names {check}, which is no check", requirement.id);
            }
        }
    }

    #[test]
    fn requirement_ids_are_unique_and_named_by_protocol() {
        let all = requirements();
        let mut ids: Vec<&str> = all.iter().map(|r| r.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), all.len());
        for requirement in &all {
            assert!(
                requirement.id.starts_with(&format!("oin.{}.", requirement.protocol.as_str())),
                "{}",
                requirement.id
            );
        }
    }

    #[test]
    fn sha1_signing_is_unmet_and_names_the_app() {
        let mut facts = facts();
        if let Some(saml) = facts.saml.as_mut() {
            saml.signature_algorithm = SignatureAlgorithm::RsaSha1;
        }
        let judgement =
            judge_one(&by_id("oin.saml.sha256_only"), &facts, &[result("saml.sig.sha1", Verdict::Pass, "")]);
        assert_eq!(judgement.standing, Standing::Unmet);
        assert!(judgement.evidence[0].contains("'oin-saml' signs with RSA-SHA1"), "{:?}", judgement.evidence);
    }

    #[test]
    fn sha1_accepted_by_a_tenant_that_opted_in_is_unmet_though_the_check_only_warns() {
        let results = [result("saml.sig.sha1", Verdict::Warn, "the sha1 response gave a session")];
        let judgement = judge_one(&by_id("oin.saml.sha256_only"), &facts(), &results);
        assert_eq!(judgement.standing, Standing::Unmet);
        assert!(judgement.evidence.iter().any(|e| e.contains("accepts RSA-SHA1")), "{:?}", judgement.evidence);
    }

    #[test]
    fn sha256_signing_with_sha1_refused_is_met() {
        let results = [result("saml.sig.sha1", Verdict::Pass, "refused")];
        assert_eq!(standing("oin.saml.sha256_only", &facts(), &results), Standing::Met);
    }

    #[test]
    fn a_failed_evidence_check_makes_a_requirement_unmet_with_its_reason() {
        let results = [result("saml.sig.sha1", Verdict::Fail, "the SP accepted an RSA-SHA1 response")];
        let judgement = judge_one(&by_id("oin.saml.sha256_only"), &facts(), &results);
        assert_eq!(judgement.standing, Standing::Unmet);
        assert!(judgement.evidence.iter().any(|e| e == "saml.sig.sha1 failed: the SP accepted an RSA-SHA1 response"));
    }

    #[test]
    fn an_errored_check_is_unmet_and_a_skipped_one_alone_is_a_warning() {
        let errored = [result("saml.sso.idp_initiated", Verdict::Error, "timeout")];
        assert_eq!(standing("oin.saml.idp_initiated", &facts(), &errored), Standing::Unmet);
        let skipped = [result("saml.sso.idp_initiated", Verdict::Skip, "no hook")];
        let judgement = judge_one(&by_id("oin.saml.idp_initiated"), &facts(), &skipped);
        assert_eq!(judgement.standing, Standing::Warn);
        assert!(judgement.evidence.contains(&"no check judged it in this run".to_owned()));
    }

    #[test]
    fn force_authn_is_met_when_honoured_and_a_warning_when_ignored() {
        let results = [result("saml.sso.sp_initiated", Verdict::Pass, "")];
        assert_eq!(standing("oin.saml.force_authn", &facts(), &results), Standing::Met);
        let mut ignoring = facts();
        if let Some(saml) = ignoring.saml.as_mut() {
            saml.honor_force_authn = false;
        }
        assert_eq!(standing("oin.saml.force_authn", &ignoring, &results), Standing::Warn);
    }

    #[test]
    fn declared_single_logout_is_a_warning() {
        let results = [result("saml.session.expired", Verdict::Pass, "")];
        assert_eq!(standing("oin.saml.no_slo_reliance", &facts(), &results), Standing::Met);
        let mut with_slo = facts();
        if let Some(saml) = with_slo.saml.as_mut() {
            saml.slo_declared = true;
        }
        assert_eq!(standing("oin.saml.no_slo_reliance", &with_slo, &results), Standing::Warn);
    }

    #[test]
    fn the_big_bang_warning_is_met_by_lockout_safety_and_unmet_when_break_glass_fails() {
        let passing = [result("cross.lockout_safety.break_glass_survives_idp_outage", Verdict::Pass, "")];
        assert_eq!(standing("oin.saml.big_bang_warning", &facts(), &passing), Standing::Met);
        let failing = [result("cross.lockout_safety.break_glass_survives_idp_outage", Verdict::Fail, "locked out")];
        assert_eq!(standing("oin.saml.big_bang_warning", &facts(), &failing), Standing::Unmet);
    }

    #[test]
    fn a_custom_authorization_server_is_unmet() {
        let org = [result(
            "oidc.sso.sign_in",
            Verdict::Pass,
            "canary@acme.test signed in by authorization code with PKCE through the org authorization server",
        )];
        assert_eq!(standing("oin.oidc.org_authorization_server", &facts(), &org), Standing::Met);
        let custom = [result(
            "oidc.sso.sign_in",
            Verdict::Pass,
            "canary@acme.test signed in by authorization code with PKCE through the custom authorization server 'default'",
        )];
        let judgement = judge_one(&by_id("oin.oidc.org_authorization_server"), &facts(), &custom);
        assert_eq!(judgement.standing, Standing::Unmet);
        assert!(judgement.evidence[0].contains("'default'"), "{:?}", judgement.evidence);
    }

    #[test]
    fn refresh_tokens_are_unmet_by_grant_scope_or_hook() {
        assert_eq!(standing("oin.oidc.no_refresh_tokens", &facts(), &[]), Standing::Met);
        let mut grant = facts();
        if let Some(oidc) = grant.oidc.as_mut() {
            oidc.grant_types.push(GrantType::RefreshToken);
        }
        assert_eq!(standing("oin.oidc.no_refresh_tokens", &grant, &[]), Standing::Unmet);
        let mut offline = facts();
        if let Some(oidc) = offline.oidc.as_mut() {
            oidc.scopes = Some(vec!["openid".into(), "offline_access".into()]);
        }
        assert_eq!(standing("oin.oidc.no_refresh_tokens", &offline, &[]), Standing::Unmet);
        let mut hook = facts();
        if let Some(oidc) = hook.oidc.as_mut() {
            oidc.refresh_declared = true;
        }
        assert_eq!(standing("oin.oidc.no_refresh_tokens", &hook, &[]), Standing::Unmet);
    }

    #[test]
    fn custom_scopes_are_unmet_and_named() {
        assert_eq!(standing("oin.oidc.no_custom_scopes", &facts(), &[]), Standing::Met);
        let mut custom = facts();
        if let Some(oidc) = custom.oidc.as_mut() {
            oidc.scopes = Some(vec!["openid".into(), "email".into(), "groups".into(), "mockta.read".into()]);
        }
        let judgement = judge_one(&by_id("oin.oidc.no_custom_scopes"), &custom, &[]);
        assert_eq!(judgement.standing, Standing::Unmet);
        assert!(judgement.evidence[0].contains("the custom scopes groups, mockta.read"), "{:?}", judgement.evidence);
        let mut unsaid = facts();
        if let Some(oidc) = unsaid.oidc.as_mut() {
            oidc.scopes = None;
        }
        assert_eq!(standing("oin.oidc.no_custom_scopes", &unsaid, &[]), Standing::Warn);
    }

    #[test]
    fn scopes_seen_at_the_mock_are_judged_whatever_the_target_says() {
        let mut seen = facts();
        if let Some(oidc) = seen.oidc.as_mut() {
            oidc.scopes = None;
        }
        seen.note_requested_scopes(["openid".to_owned(), "email".to_owned()]);
        assert_eq!(standing("oin.oidc.no_custom_scopes", &seen, &[]), Standing::Met);
        assert_eq!(standing("oin.oidc.no_refresh_tokens", &seen, &[]), Standing::Met);
        // The target declares the standard scopes, but the relying party
        // was seen asking for more.
        let mut hidden = facts();
        hidden.note_requested_scopes(["openid".to_owned(), "groups".to_owned(), "offline_access".to_owned()]);
        let judgement = judge_one(&by_id("oin.oidc.no_custom_scopes"), &hidden, &[]);
        assert_eq!(judgement.standing, Standing::Unmet);
        assert!(
            judgement.evidence.iter().any(|e| e.contains("seen asking for the custom scope groups")),
            "{:?}",
            judgement.evidence
        );
        assert_eq!(standing("oin.oidc.no_refresh_tokens", &hidden, &[]), Standing::Unmet);
        // Nothing seen leaves the declaration alone.
        let mut nothing = facts();
        nothing.note_requested_scopes(Vec::new());
        assert_eq!(nothing, facts());
    }

    #[test]
    fn email_verified_and_issuer_follow_their_checks() {
        let passing = [
            result("oidc.account.email_not_identity", Verdict::Pass, ""),
            result("cross.email_matching.unverified_email_never_links", Verdict::Fail, "linked by email"),
        ];
        assert_eq!(standing("oin.oidc.email_verified_not_relied_on", &facts(), &passing), Standing::Unmet);
        let issuer = [
            result("oidc.sso.sign_in", Verdict::Pass, ""),
            result("oidc.claims.iss", Verdict::Pass, ""),
            result("oidc.discovery.issuer_mismatch", Verdict::Pass, ""),
        ];
        assert_eq!(standing("oin.oidc.multi_tenant_issuer", &facts(), &issuer), Standing::Met);
    }

    #[test]
    fn basic_scim_credentials_are_unmet() {
        let results = [result("scim.spec.unauthorized", Verdict::Pass, "")];
        assert_eq!(standing("oin.scim.credentials_not_basic", &facts(), &results), Standing::Met);
        let mut basic = facts();
        if let Some(scim) = basic.scim.as_mut() {
            scim.basic_auth = true;
        }
        let judgement = judge_one(&by_id("oin.scim.credentials_not_basic"), &basic, &results);
        assert_eq!(judgement.standing, Standing::Unmet);
        assert!(judgement.evidence[0].contains("HTTP Basic"));
    }

    #[test]
    fn the_base_url_needs_tls_and_no_underscore_but_loopback_http_is_a_warning() {
        let judged = |url: &str| judge_base_url(url).0;
        assert_eq!(judged("https://sp.example/scim/v2"), Standing::Met);
        assert_eq!(judged("http://127.0.0.1:7100/scim/v2/oin"), Standing::Warn);
        assert_eq!(judged("http://localhost:7100/scim/v2/oin"), Standing::Warn);
        assert_eq!(judged("http://[::1]:7100/scim/v2/oin"), Standing::Warn);
        assert_eq!(judged("http://sp.example/scim/v2"), Standing::Unmet);
        assert_eq!(judged("https://sp.example/scim_v2"), Standing::Unmet);
        assert_eq!(judged("https://my_sp.example/scim/v2"), Standing::Unmet);
        let (_, evidence) = judge_base_url("http://127.0.0.1:7100/scim/v2/oin");
        assert!(evidence[0].contains("production https URL"), "{evidence:?}");
    }

    #[test]
    fn a_partly_covered_plan_case_is_at_best_a_warning() {
        let results = [result("scim.users.put_replaces", Verdict::Pass, "")];
        let judgement = judge_one(&by_id("oin.scim.plan.push_empty_values"), &facts(), &results);
        assert_eq!(judgement.standing, Standing::Warn);
        assert_eq!(judgement.manual_cases, vec![case("Update", "Push empty values with no errors")]);
        let failing = [result("scim.users.put_replaces", Verdict::Fail, "kept")];
        assert_eq!(standing("oin.scim.plan.push_empty_values", &facts(), &failing), Standing::Unmet);
    }

    #[test]
    fn scim_plan_cases_follow_their_checks() {
        let results = [result("cross.deactivation.suspension_refused", Verdict::Pass, "")];
        let judgement = judge_one(&by_id("oin.scim.plan.suspend"), &facts(), &results);
        assert_eq!(judgement.standing, Standing::Met);
        assert_eq!(judgement.manual_cases.len(), 2);
        let failing = [result("cross.deactivation.unassignment_refused", Verdict::Fail, "signed in")];
        assert_eq!(standing("oin.scim.plan.unassign", &facts(), &failing), Standing::Unmet);
    }

    #[test]
    fn a_protocol_the_target_lacks_is_not_applicable() {
        let saml_only = Facts { saml: facts().saml, oidc: None, scim: None };
        let readiness = judge(&saml_only, &[]);
        for judgement in &readiness.requirements {
            let expected_na = judgement.protocol != "saml";
            assert_eq!(judgement.standing == Standing::NotApplicable, expected_na, "{}", judgement.id);
        }
        assert!(!readiness.has_unmet());
    }

    #[test]
    fn the_unmet_list_is_in_report_order() {
        let mut broken = facts();
        if let Some(scim) = broken.scim.as_mut() {
            scim.basic_auth = true;
        }
        if let Some(saml) = broken.saml.as_mut() {
            saml.signature_algorithm = SignatureAlgorithm::RsaSha1;
        }
        let readiness = judge(&broken, &[]);
        assert_eq!(readiness.unmet(), vec!["oin.saml.sha256_only", "oin.scim.credentials_not_basic"]);
    }

    #[test]
    fn the_human_report_lists_the_cases_left_to_a_person() {
        let text = judge(&facts(), &[]).to_human();
        assert!(text.contains("Manual plan cases no check runs"));
        assert!(text.contains("- Sync password: Both password cases"));
        assert!(text.contains("not public in the sources available"));
    }
}
