//! A vendor profile: what one vendor's guide tells an Okta admin to do, as a
//! play the suite can run against that vendor's SP, and the flaws that make
//! its "flawed twin".
//!
//! A profile file (`profile.toml`) names the guide, lists the play's steps
//! in the guide's order (make the vendor's account, sign in the way the
//! guide signs in, "Push now" where it provisions, deactivate), and keeps
//! the table the tests read: which checks fail against the twin. The org,
//! the target and the SP's config sit beside it as ordinary files; the
//! suite never reads the SP's config (the CLI starts the reference SP).

use serde::Deserialize;

/// A parsed `profile.toml`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// The name `mockta demo --profile` takes, such as `moxion`.
    pub name: String,
    /// The vendor and product, such as "Moxion".
    pub title: String,
    /// The guide this profile plays (a file of `../shared/seeds/`).
    pub guide: String,
    /// One sentence: what the guide sets up in Okta.
    pub summary: String,
    /// The play, in the guide's order.
    #[serde(default)]
    pub play: Vec<PlayStep>,
    /// The flawed twin: the SP bugs the guide warns about or such SPs have.
    pub twin: Twin,
}

/// The flawed twin of a profile and what it must fail.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Twin {
    /// Reference-SP flaw names (`mockta sp --list-flaws`).
    pub flaws: Vec<String>,
    /// Why these flaws: what the guide warns about, or the real bug.
    pub why: String,
    /// The checks that fail against the twin and pass against the tenant.
    pub fails: Vec<String>,
    /// The numbers (from 1) of the play's steps that fail against the twin.
    #[serde(default)]
    pub play_fails: Vec<usize>,
}

/// How a play signs a user in.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SignInWay {
    /// From the Okta dashboard: the app's embed link, with the app's default
    /// RelayState.
    SamlIdpInitiated,
    /// At the SP's login URL (the target's `saml.login_url`).
    SamlSpInitiated,
    /// At the relying party's login URL (the target's `oidc.login_url`).
    Oidc,
}

impl SignInWay {
    pub fn describe(self) -> &'static str {
        match self {
            SignInWay::SamlIdpInitiated => "by SAML from the Okta dashboard (IdP-initiated)",
            SignInWay::SamlSpInitiated => "by SAML at the SP's login page (SP-initiated)",
            SignInWay::Oidc => "by OpenID Connect at the SP's login page",
        }
    }
}

/// What a sign-in must give.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Expect {
    /// A session for the user.
    Session,
    /// No session.
    Refused,
}

/// One step of a play. Each says which sentence of the guide it plays.
#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "do", rename_all = "snake_case", deny_unknown_fields)]
pub enum PlayStep {
    /// The vendor makes the user's account in the SP (the target's
    /// `create_user` hook), as vendors whose SP takes existing accounts only
    /// do for the customer's first admin.
    CreateAccount { user: String, guide_says: String },
    /// The SP's admin makes a team (the target's `create_group` hook), for
    /// a pushed group to link to.
    CreateTeam { name: String, guide_says: String },
    /// The user signs in; `refusal_text` is what the SP's refusal page must
    /// say when the guide names it.
    SignIn {
        user: String,
        via: SignInWay,
        expect: Expect,
        #[serde(default)]
        refusal_text: Option<String>,
        guide_says: String,
    },
    /// Okta's "Push now" for the app: its assigned users, then its pushed
    /// groups, by its provisioning settings in the org.
    PushNow { app: String, guide_says: String },
    /// An Okta admin pushes one more group from the app's Push Groups tab;
    /// with `expect = "refused"` (an SP that never makes teams from Okta
    /// groups) the SP must refuse it and make no team of that name.
    PushGroup {
        group: String,
        app: String,
        #[serde(default)]
        expect: ScimExpect,
        guide_says: String,
    },
    /// An Okta admin deactivates the user; Okta sends the deactivation to
    /// the app's SCIM server, which must then read the user inactive (or,
    /// with `expect = "refused"`, still active: the SP's API user).
    Deactivate {
        user: String,
        app: String,
        #[serde(default)]
        expect: ScimExpect,
        guide_says: String,
    },
}

/// What Okta's SCIM request must do at the SP.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ScimExpect {
    /// The SP applies it.
    #[default]
    Applied,
    /// The SP refuses it and keeps what it had.
    Refused,
}

impl PlayStep {
    /// The sentence of the guide the step plays.
    pub fn guide_says(&self) -> &str {
        match self {
            PlayStep::CreateAccount { guide_says, .. }
            | PlayStep::CreateTeam { guide_says, .. }
            | PlayStep::SignIn { guide_says, .. }
            | PlayStep::PushNow { guide_says, .. }
            | PlayStep::PushGroup { guide_says, .. }
            | PlayStep::Deactivate { guide_says, .. } => guide_says,
        }
    }
}

/// Why a profile file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("{file}: {message}")]
    Unreadable { file: String, message: String },
}

/// Parses a profile file; `file` names it in errors.
pub fn parse_profile(file: &str, text: &str) -> Result<Profile, ProfileError> {
    let profile: Profile =
        toml::from_str(text).map_err(|e| ProfileError::Unreadable { file: file.to_owned(), message: e.to_string() })?;
    if profile.twin.flaws.is_empty() {
        return Err(ProfileError::Unreadable { file: file.to_owned(), message: "twin.flaws is empty".into() });
    }
    if let Some(step) = profile.twin.play_fails.iter().find(|n| **n == 0 || **n > profile.play.len()) {
        return Err(ProfileError::Unreadable {
            file: file.to_owned(),
            message: format!("twin.play_fails names step {step}, but the play has {} steps", profile.play.len()),
        });
    }
    Ok(profile)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
name = "demo"
title = "Demo"
guide = "000.txt"
summary = "An app."
[[play]]
do = "sign_in"
user = "ada@example.test"
via = "oidc"
expect = "session"
guide_says = "Users sign in."
[twin]
flaws = ["no-nonce-check"]
why = "A bug."
fails = ["oidc.nonce.replayed"]
play_fails = [1]
"#;

    #[test]
    fn a_profile_file_parses_into_its_play_and_twin() {
        let profile = parse_profile("demo.toml", MINIMAL).unwrap();
        assert_eq!(profile.play.len(), 1);
        assert!(matches!(&profile.play[0], PlayStep::SignIn { via: SignInWay::Oidc, expect: Expect::Session, .. }));
        assert_eq!(profile.twin.fails, ["oidc.nonce.replayed"]);
    }

    #[test]
    fn a_play_step_with_an_unknown_field_is_refused_with_the_file_name() {
        let text = MINIMAL.replace("expect = \"session\"", "expect = \"session\"\nwho = 1");
        let error = parse_profile("demo.toml", &text).unwrap_err().to_string();
        assert!(error.starts_with("demo.toml: "), "{error}");
        assert!(error.contains("who"), "{error}");
    }

    #[test]
    fn a_twin_that_names_a_step_the_play_lacks_is_refused() {
        let text = MINIMAL.replace("play_fails = [1]", "play_fails = [2]");
        let error = parse_profile("demo.toml", &text).unwrap_err().to_string();
        assert!(error.contains("names step 2, but the play has 1 steps"), "{error}");
    }
}
