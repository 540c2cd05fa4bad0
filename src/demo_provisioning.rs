//! The demo's provisioning act: the mock, as Okta, provisions the reference
//! SP's acme tenant by SCIM (the app's assigned users, a deactivation, and
//! the `acme-admins` group pushed onto the SP's existing team of that name),
//! then the provisioned user signs in by SAML and must be the same account.
//!
//! It runs after the suite, with the mock on the demo's IdP address, and its
//! outcome is printed after the suite's reports. The workspace tests compile
//! this same file into their binary and run it on free ports.

use std::sync::Arc;

use mock_idp::admin::{self, Lifecycle};
use mock_idp::idp::Idp;
use mock_idp::org::provisioning::{
    PasswordChange, ProvisioningFeatures, ProvisioningLinks, RequestProfile, ScimAuthentication, ScimProvisioning,
    default_mappings,
};
use mock_idp::provisioning::{Provisioner, ProvisionerOptions};
use serde_json::{Value, json};

/// The app the act provisions, the user who signs in, the user it
/// deactivates, and the group it pushes onto the SP's existing team.
const APP: &str = "reference-sp";
const SIGNER: &str = "alice@acme.test";
const DEACTIVATED: &str = "bob@acme.test";
const PUSHED_GROUP: &str = "acme-admins";
/// The app's embed link in the built-in org, in Okta's shape.
const EMBED_LINK: &str = "/home/acme_referencesp_1/0oarefsp000000000001/alnrefsp000000000001";
/// The acme tenant's SCIM token in the built-in SP config (a development
/// default, as that file says).
const SCIM_TOKEN: &str = "mockta-dev-token";

/// One line of the act's outcome.
pub(crate) struct ActLine {
    pub(crate) passed: bool,
    pub(crate) text: String,
}

/// What the act did and whether each step held.
pub(crate) struct ProvisioningAct {
    pub(crate) lines: Vec<ActLine>,
}

impl ProvisioningAct {
    pub(crate) fn passed(&self) -> bool {
        !self.lines.is_empty() && self.lines.iter().all(|line| line.passed)
    }

    fn check(&mut self, passed: bool, text: String) {
        self.lines.push(ActLine { passed, text });
    }

    /// The act as the demo prints it, after the suite's reports.
    pub(crate) fn to_human(&self) -> String {
        let mut text = String::from("\nProvisioning act (the mock provisions the reference SP's acme tenant):\n");
        for line in &self.lines {
            text.push_str(&format!("  {} {}\n", if line.passed { "pass" } else { "FAIL" }, line.text));
        }
        text.push_str(&format!("  result: {}\n", if self.passed() { "passed" } else { "failed" }));
        text
    }
}

/// Why the act could not run at all.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ActError {
    #[error("provisioning act: {0}")]
    Setup(String),
}

fn setup(error: impl ToString) -> ActError {
    ActError::Setup(error.to_string())
}

/// Runs the act against the SP serving at `sp_url`, with the mock already
/// serving at `idp_url`, where the SP's tenants find its metadata. The SP's
/// configured base URL stays the one the org's apps point at; `sp_url` is
/// where it listens.
pub(crate) async fn run(
    idp: &Arc<Idp>,
    idp_url: &str,
    sp: &Arc<reference_sp::sp::Sp>,
    sp_url: &str,
) -> Result<ProvisioningAct, ActError> {
    let scim_base = format!("{sp_url}/scim/v2/acme");
    let pushed_group_id = idp
        .read_org(|org| org.find_group(PUSHED_GROUP).map(|g| g.id.clone()))
        .ok_or_else(|| setup(format!("the built-in org has no group '{PUSHED_GROUP}'")))?;
    let configured = idp.write_org(|org| {
        let Some(app) = org.apps.values_mut().find(|app| app.name == APP) else { return false };
        app.provisioning = Some(ScimProvisioning {
            base_url: scim_base.clone(),
            authentication: ScimAuthentication::Bearer(SCIM_TOKEN.to_owned()),
            unique_identifier: "userName".to_owned(),
            features: ProvisioningFeatures::default_set(),
            request_profile: RequestProfile::Oin,
            mappings: default_mappings(),
            pushed_groups: vec![pushed_group_id.clone()],
            links: ProvisioningLinks::default(),
            connection_active: true,
            password_change: PasswordChange::Change,
        });
        true
    });
    if !configured {
        return Err(setup(format!("the built-in org has no app '{APP}'")));
    }
    reference_sp::idp_fetch::refresh_all(sp).await;
    act(idp, &scim_base, sp_url, idp_url).await
}

async fn act(idp: &Arc<Idp>, scim_base: &str, sp_url: &str, idp_url: &str) -> Result<ProvisioningAct, ActError> {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(setup)?;
    let mut outcome = ProvisioningAct { lines: Vec::new() };

    // The SP's existing team, made by its admin before Okta pushes the group
    // (the act creates it by SCIM when an earlier run has not).
    let team_id = match find_team(&client, scim_base).await? {
        Some(id) => id,
        None => {
            let created: Value = client
                .post(format!("{scim_base}/Groups"))
                .bearer_auth(SCIM_TOKEN)
                .json(&json!({"schemas": [mock_idp::scim::GROUP_SCHEMA], "displayName": PUSHED_GROUP}))
                .send()
                .await
                .map_err(setup)?
                .json()
                .await
                .map_err(setup)?;
            created["id"].as_str().map(str::to_owned).ok_or_else(|| setup("the SP did not create the team"))?
        }
    };

    let provisioner = Provisioner::start(idp, ProvisionerOptions::default()).map_err(setup)?;
    let summary = provisioner.push_now(APP).await.map_err(setup)?;
    outcome.check(
        summary.failed_tasks.is_empty(),
        format!("Push now: {} operations, {} failed tasks", summary.operations, summary.failed_tasks.len()),
    );
    let deactivated_status = {
        let now = idp.now();
        idp.apply(|org| admin::lifecycle(org, DEACTIVATED, Lifecycle::Deactivate, now)).map_err(setup)?;
        provisioner.wait_idle().await;
        let link = user_link(idp, DEACTIVATED);
        match link {
            Some(scim_id) => scim_user(&client, scim_base, &scim_id).await?["active"].clone(),
            None => Value::Null,
        }
    };
    outcome.check(
        deactivated_status == Value::Bool(false),
        format!("{DEACTIVATED} deactivated in Okta: the SP's account reads active = {deactivated_status}"),
    );
    let linked_group = idp.read_org(|org| {
        org.apps
            .values()
            .find(|app| app.name == APP)
            .and_then(|app| app.provisioning.as_ref())
            .and_then(|settings| settings.links.groups.values().next().cloned())
    });
    outcome.check(
        linked_group.as_deref() == Some(team_id.as_str()),
        format!(
            "group {PUSHED_GROUP} pushed onto the SP's existing team {team_id} (linked to {})",
            linked_group.as_deref().unwrap_or("nothing")
        ),
    );

    // The provisioned user signs in by SAML (IdP-initiated) and must be the
    // account SCIM made or linked.
    let scim_id = user_link(idp, SIGNER).unwrap_or_default();
    let signed_in = sign_in(&client, idp_url, sp_url).await?;
    outcome.check(
        !scim_id.is_empty() && signed_in == scim_id,
        format!("{SIGNER} signed in by SAML as account {signed_in}; the SCIM id is {scim_id}"),
    );

    let transcript = provisioner.transcript();
    let mut shapes: Vec<(String, usize)> = Vec::new();
    for exchange in &transcript {
        let path = exchange.request.url.trim_start_matches(scim_base);
        let resource = path.split(['/', '?']).nth(1).unwrap_or_default();
        let status = exchange.response.as_ref().map(|r| r.status.to_string()).unwrap_or_else(|| "no reply".into());
        let shape = format!("{} /{resource} → {status}", exchange.request.method);
        match shapes.iter_mut().find(|(known, _)| *known == shape) {
            Some((_, count)) => *count += 1,
            None => shapes.push((shape, 1)),
        }
    }
    let failed = provisioner.failed_tasks();
    let summary: Vec<String> = shapes.iter().map(|(shape, count)| format!("{count} × {shape}")).collect();
    outcome.check(
        failed.is_empty(),
        format!("transcript: {} exchanges ({}); {} failed tasks", transcript.len(), summary.join(", "), failed.len()),
    );
    Ok(outcome)
}

fn user_link(idp: &Idp, login: &str) -> Option<String> {
    idp.read_org(|org| {
        let user = org.find_user(login)?;
        let app = org.apps.values().find(|app| app.name == APP)?;
        app.provisioning.as_ref()?.links.users.get(&user.id).map(|link| link.scim_id.clone())
    })
}

async fn find_team(client: &reqwest::Client, scim_base: &str) -> Result<Option<String>, ActError> {
    let page: Value = client
        .get(format!("{scim_base}/Groups?filter=displayName%20eq%20%22{PUSHED_GROUP}%22"))
        .bearer_auth(SCIM_TOKEN)
        .send()
        .await
        .map_err(setup)?
        .json()
        .await
        .map_err(setup)?;
    Ok(page["Resources"].get(0).and_then(|team| team["id"].as_str()).map(str::to_owned))
}

async fn scim_user(client: &reqwest::Client, scim_base: &str, id: &str) -> Result<Value, ActError> {
    client
        .get(format!("{scim_base}/Users/{id}"))
        .bearer_auth(SCIM_TOKEN)
        .send()
        .await
        .map_err(setup)?
        .json()
        .await
        .map_err(setup)
}

/// An IdP-initiated SAML sign-in of the signer at the acme tenant, by the
/// mock's embed link; the SP account's id from `/whoami`.
async fn sign_in(client: &reqwest::Client, idp_url: &str, sp_url: &str) -> Result<String, ActError> {
    let html = client
        .get(format!("{idp_url}{EMBED_LINK}?login_hint={SIGNER}"))
        .send()
        .await
        .map_err(setup)?
        .text()
        .await
        .map_err(setup)?;
    let form = mock_idp::saml::form::parse(&html).ok_or_else(|| setup("the mock did not answer with a SAML form"))?;
    let path = reqwest::Url::parse(&form.action).map_err(setup)?.path().to_owned();
    client
        .post(format!("{sp_url}{path}"))
        .form(&[("SAMLResponse", form.saml_response), ("RelayState", form.relay_state)])
        .send()
        .await
        .map_err(setup)?;
    let who: Value = client.get(format!("{sp_url}/whoami")).send().await.map_err(setup)?.json().await.map_err(setup)?;
    Ok(who["user_id"].as_str().unwrap_or("(no session)").to_owned())
}
