//! `mockta explain`: the edge of `conformance::explain`. It reads the
//! message (a file or stdin), the metadata, certificate or JWKS (a file, or
//! a URL fetched here), the time to judge at, and prints the report; with
//! `--replay` it posts the message to a local SP and prints the answer.

use std::io::Read;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use conformance::explain::input::{Message, decode};
use conformance::explain::metadata::{certificate_from_pem, parse_idp_metadata, parse_jwks};
use conformance::explain::{Expectations, explain, render};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::Failure;

#[derive(Args)]
pub(crate) struct ExplainArgs {
    /// The message: a SAMLResponse (base64, XML, a form body or the whole
    /// auto-post page), a JWT, a HAR file (a browser's, or a proxy's with
    /// the back-channel requests), or an OIDC discovery document (judged
    /// against --issuer). `-` or nothing reads stdin.
    #[arg(value_name = "FILE|-")]
    input: Option<PathBuf>,
    /// The IdP's SAML metadata (a file or an http(s) URL): its entityID is
    /// the expected Issuer and its signing certificates the trusted keys.
    #[arg(long, value_name = "FILE|URL")]
    metadata: Option<String>,
    /// The IdP's signing certificate (PEM), trusted beside any metadata.
    #[arg(long, value_name = "FILE")]
    certificate: Option<PathBuf>,
    /// The OIDC issuer's JWKS (a file or an http(s) URL).
    #[arg(long, value_name = "FILE|URL")]
    jwks: Option<String>,
    /// The expected OIDC iss, and the SAML Issuer when no --metadata names one.
    #[arg(long)]
    issuer: Option<String>,
    /// The SP's entity id (SAML Audience) or the OIDC client id (aud).
    #[arg(long)]
    audience: Option<String>,
    /// The SP's ACS URL (SAML Destination and Recipient).
    #[arg(long, value_name = "URL")]
    acs_url: Option<String>,
    /// The ID of the AuthnRequest the SP sent (SAML InResponseTo).
    #[arg(long, value_name = "ID")]
    request_id: Option<String>,
    /// The nonce the relying party sent (the ID token's nonce).
    #[arg(long)]
    nonce: Option<String>,
    /// The access token issued with the ID token (its at_hash).
    #[arg(long, value_name = "TOKEN")]
    access_token: Option<String>,
    /// Judge time rules at this instant (RFC 3339, such as the time of the
    /// customer's failed sign-in); the default is now.
    #[arg(long, value_name = "TIME", value_parser = parse_instant)]
    at: Option<OffsetDateTime>,
    #[arg(long, value_enum, default_value = "text")]
    format: ExplainFormat,
    /// After explaining, post the message to this local SP endpoint (a
    /// loopback URL: the ACS for a SAMLResponse, the redirect URI as a
    /// form_post for an ID token) and print its answer.
    #[arg(long, value_name = "URL")]
    replay: Option<String>,
    /// With --replay: send a repaired SAMLResponse instead (Issuer,
    /// Audience, Destination, Recipient, InResponseTo set to what the SP
    /// expects, a fresh time window), signed again with --signing-key. If
    /// the SP then signs in, the Okta app's settings were the problem.
    #[arg(long, requires_all = ["replay", "signing_key"])]
    repair: bool,
    /// The PEM (PKCS#8 RSA) key --repair signs with: the key of the local
    /// mock the SP trusts.
    #[arg(long, value_name = "PEM", requires = "repair")]
    signing_key: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum ExplainFormat {
    Text,
    Json,
}

fn parse_instant(text: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(text, &Rfc3339).map_err(|e| format!("not an RFC 3339 time ({e})"))
}

/// Runs `mockta explain`: exit 0 when no rule is broken, 1 when one is, 2
/// for input that cannot be read.
pub(crate) fn run(args: ExplainArgs) -> Result<(), Failure> {
    // A forged message's signature is refused on purpose; libxmlsec1 would
    // print each step of that to stderr, where only explain's one line
    // belongs.
    mock_idp::saml::silence_xmlsec_default_errors();
    let text = read_input(args.input.as_deref())?;
    let message = decode(&text).map_err(Failure::usage)?;
    let mut expect = Expectations {
        idp_entity_id: None,
        issuer: args.issuer.clone(),
        audience: args.audience.clone(),
        acs_url: args.acs_url.clone(),
        request_id: args.request_id.clone(),
        nonce: args.nonce.clone(),
        certificates: Vec::new(),
        jwks: None,
        access_token: args.access_token.clone(),
    };
    if let Some(source) = &args.metadata {
        let metadata = parse_idp_metadata(&read_source("--metadata", source)?)
            .map_err(|e| Failure::usage(format!("--metadata: {e}")))?;
        expect.idp_entity_id = Some(metadata.entity_id);
        expect.certificates = metadata.certificates;
    }
    if let Some(path) = &args.certificate {
        let pem = std::fs::read_to_string(path)
            .map_err(|e| Failure::usage(format!("--certificate: cannot read {}: {e}", path.display())))?;
        expect
            .certificates
            .push(certificate_from_pem(&pem).map_err(|e| Failure::usage(format!("--certificate: {e}")))?);
    }
    if let Some(source) = &args.jwks {
        expect.jwks =
            Some(parse_jwks(&read_source("--jwks", source)?).map_err(|e| Failure::usage(format!("--jwks: {e}")))?);
    }
    let (now, source) = match args.at {
        Some(at) => (at, "--at"),
        None => (OffsetDateTime::now_utc(), "the clock"),
    };
    let explanation = explain(&message, &expect, now, source).map_err(Failure::usage)?;
    match args.format {
        ExplainFormat::Text => print!("{}", render::text(&explanation)),
        ExplainFormat::Json => println!("{:#}", render::json(&explanation)),
    }
    if let Some(url) = &args.replay {
        let sent = match (&message, &args.signing_key) {
            (Message::SamlResponse(xml), Some(key_file)) if args.repair => {
                let pem = std::fs::read_to_string(key_file)
                    .map_err(|e| Failure::usage(format!("--signing-key: cannot read {}: {e}", key_file.display())))?;
                let credential = mock_idp::keys::SigningCredential::from_key_pem(&pem, "mockta", "--signing-key")
                    .map_err(|e| Failure::usage(format!("--signing-key: {e}")))?;
                let repaired = conformance::explain::repair::repair_saml(xml, &expect, now, &credential)
                    .map_err(Failure::usage)?;
                println!();
                println!("Repaired: {}", repaired.changes.join(", "));
                Message::SamlResponse(repaired.xml)
            }
            (_, _) if args.repair => return Err(Failure::usage("--repair: only a SAMLResponse is repaired")),
            (message, _) => message.clone(),
        };
        replay(url, &sent)?;
    }
    if explanation.breaks_a_rule() {
        let count = explanation.steps.iter().flat_map(|s| &s.findings).filter(|f| f.level.as_str() != "note").count();
        return Err(Failure { message: format!("the message breaks {count} rule(s)"), code: 1 });
    }
    Ok(())
}

fn read_input(path: Option<&std::path::Path>) -> Result<String, Failure> {
    match path {
        None => read_stdin(),
        Some(path) if path.as_os_str() == "-" => read_stdin(),
        Some(path) => {
            std::fs::read_to_string(path).map_err(|e| Failure::usage(format!("cannot read {}: {e}", path.display())))
        }
    }
}

fn read_stdin() -> Result<String, Failure> {
    let mut text = String::new();
    std::io::stdin().read_to_string(&mut text).map_err(|e| Failure::usage(format!("cannot read stdin: {e}")))?;
    Ok(text)
}

/// A file, or an http(s) URL fetched once (the only network use of
/// explain, apart from `--replay`).
fn read_source(flag: &str, source: &str) -> Result<String, Failure> {
    if source.starts_with("http://") || source.starts_with("https://") {
        let runtime = tokio::runtime::Runtime::new().map_err(Failure::runtime)?;
        return runtime.block_on(fetch(source)).map_err(|e| Failure::usage(format!("{flag}: {e}")));
    }
    std::fs::read_to_string(source).map_err(|e| Failure::usage(format!("{flag}: cannot read {source}: {e}")))
}

async fn fetch(url: &str) -> Result<String, String> {
    let client =
        reqwest::Client::builder().timeout(std::time::Duration::from_secs(10)).build().map_err(|e| e.to_string())?;
    let response = client.get(url).send().await.map_err(|e| format!("cannot fetch {url}: {e}"))?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!("{url} answered {status}"));
    }
    response.text().await.map_err(|e| format!("cannot read {url}: {e}"))
}

/// Posts the message as a browser would (the SAMLResponse to the ACS, an ID
/// token as a `form_post` answer) to a loopback URL only: a customer's
/// message is replayed against a local copy of the SP, never a live one.
fn replay(url: &str, message: &Message) -> Result<(), Failure> {
    let parsed = url::Url::parse(url).map_err(|e| Failure::usage(format!("--replay: {e}")))?;
    let local = match parsed.host() {
        Some(url::Host::Domain(name)) => name == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    if !local {
        return Err(Failure::usage("--replay: only a loopback URL (localhost, 127.0.0.1, ::1) is replayed to"));
    }
    let form: Vec<(&str, String)> = match message {
        Message::SamlResponse(xml) => vec![("SAMLResponse", mock_idp::saml::form::base64(xml))],
        Message::Jwt(token) => vec![("id_token", token.clone())],
        Message::Har(_) => return Err(Failure::usage("--replay: give the one message to replay, not a HAR file")),
        Message::Discovery(_) => {
            return Err(Failure::usage(
                "--replay: a discovery document is fetched by the relying party, not posted to it",
            ));
        }
    };
    let runtime = tokio::runtime::Runtime::new().map_err(Failure::runtime)?;
    let answer = runtime.block_on(async {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(|e| e.to_string())?;
        let response = client.post(url).form(&form).send().await.map_err(|e| format!("cannot post to {url}: {e}"))?;
        let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        Ok::<_, String>((response.status(), header("x-error-code"), header("location")))
    });
    let (status, error_code, location) = answer.map_err(|e| Failure::runtime(format!("--replay: {e}")))?;
    println!();
    println!(
        "Replayed to {url}: {status}{}{}",
        error_code.map(|code| format!(", x-error-code {code}")).unwrap_or_default(),
        location.map(|to| format!(", Location {to}")).unwrap_or_default()
    );
    Ok(())
}
