//! `mockta target init`: the edge of `conformance::init`. It reads the SP's
//! metadata (a file, or a URL fetched here), asks on a terminal for what it
//! was not given and cannot find, checks the session URL once, and writes
//! `org.toml` and `target.toml`.
//!
//! An answer typed on the terminal is checked as soon as it is typed (a URL's
//! shape, a JSON pointer's shape, and the session URL's one GET), and a wrong
//! one is said in a line and asked again, so a typo does not throw away the
//! answers before it. A value given as an option is checked after all of
//! them and fails in one line (exit 2), as a script needs.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use conformance::init::{
    InitError, InitInput, ORG_FILE_NAME, OidcClientType, OidcOptions, ScimCredentials, ScimOptions, SessionUrlAnswer,
    TARGET_FILE_NAME, check_absolute_url, check_json_pointer, generate,
};

use crate::Failure;

#[derive(Subcommand)]
pub(crate) enum TargetCommand {
    /// Write an org file and a target file from the SP's SAML metadata, its OIDC redirect URI and its SCIM server.
    Init(InitArgs),
}

#[derive(Clone, Copy, ValueEnum)]
enum ClientType {
    /// A browser or native app: no secret, PKCE.
    Public,
    /// A web app that keeps a client secret.
    Confidential,
}

#[derive(Args)]
pub(crate) struct InitArgs {
    /// The SP's SAML metadata: a file or an http(s) URL.
    #[arg(long, value_name = "FILE|URL")]
    saml_metadata: String,
    /// Where SP-initiated SAML sign-in starts (SAML metadata does not say).
    #[arg(long, value_name = "URL")]
    login_url: Option<String>,
    /// The relying party's OIDC redirect URI; adds an OIDC app.
    #[arg(long, value_name = "URI", requires = "oidc_client_type")]
    oidc_redirect_uri: Option<String>,
    /// Whether the relying party keeps a client secret (confidential) or not (public).
    #[arg(long, value_enum, requires = "oidc_redirect_uri")]
    oidc_client_type: Option<ClientType>,
    /// client_secret_basic (default) or client_secret_post, for a confidential client.
    #[arg(long, value_name = "METHOD", requires = "oidc_redirect_uri")]
    oidc_auth_method: Option<String>,
    /// Where the relying party starts an OIDC sign-in.
    #[arg(long, value_name = "URL", requires = "oidc_redirect_uri")]
    oidc_login_url: Option<String>,
    /// The login URL's parameter that names where to go after sign-in (for the open redirect check).
    #[arg(long, value_name = "NAME", requires = "oidc_redirect_uri")]
    oidc_return_parameter: Option<String>,
    /// The relying party's hook that redeems its refresh token now, POSTed with the browser's cookies (for the refresh checks).
    #[arg(long, value_name = "URL", requires = "oidc_redirect_uri")]
    oidc_refresh_url: Option<String>,
    /// The SP's SCIM 2.0 base URL; adds provisioning.
    #[arg(long, value_name = "URL")]
    scim_base_url: Option<String>,
    /// The bearer token Okta sends to the SCIM server.
    #[arg(long, value_name = "T", requires = "scim_base_url", conflicts_with = "scim_basic")]
    scim_token: Option<String>,
    /// Basic credentials Okta sends to the SCIM server.
    #[arg(long, value_name = "USER:PASS", requires = "scim_base_url")]
    scim_basic: Option<String>,
    /// Okta's request profile the SCIM server expects: oin (default), oin_patch or wizard.
    #[arg(long, value_name = "PROFILE", requires = "scim_base_url")]
    scim_profile: Option<String>,
    /// Where the SP shows a browser's session (checked once with a GET).
    #[arg(long, value_name = "URL")]
    session_url: Option<String>,
    /// JSON pointer to the signed-in user's email in the session's answer.
    #[arg(long, value_name = "/PTR")]
    identity_pointer: Option<String>,
    /// JSON pointer to the user's display name in the session's answer.
    #[arg(long, value_name = "/PTR")]
    name_pointer: Option<String>,
    /// JSON pointer to the user's groups (an array) in the session's answer.
    #[arg(long, value_name = "/PTR")]
    groups_pointer: Option<String>,
    /// The SP creates accounts at first sign-in.
    #[arg(long)]
    jit: bool,
    /// An email domain the SP accepts (repeatable).
    #[arg(long = "email-domain", value_name = "DOMAIN")]
    email_domains: Vec<String>,
    /// Where the SP expects the mock IdP.
    #[arg(long, default_value = "127.0.0.1:7000", value_name = "ADDR:PORT")]
    idp_listen: String,
    /// The folder to write org.toml and target.toml in.
    #[arg(long, default_value = ".", value_name = "DIR")]
    out_dir: PathBuf,
    /// Overwrite org.toml and target.toml if they exist.
    #[arg(long)]
    force: bool,
}

pub(crate) fn run(command: TargetCommand) -> Result<(), Failure> {
    match command {
        TargetCommand::Init(args) => init(args),
    }
}

fn is_url(text: &str) -> bool {
    text.starts_with("http://") || text.starts_with("https://")
}

/// Where a value came from: an option is checked with the others after the
/// questions, an answer was checked when it was typed.
enum Source {
    Option,
    Terminal,
}

/// The value given, else an answer typed on the terminal that passes
/// `check` (a wrong answer is said on one line and the question asked
/// again), else one line naming the option (exit 2): a script must say
/// everything. The end of input (Ctrl-D) ends init the same way, since there
/// is no one left to ask.
fn given_or_asked(
    given: Option<String>,
    option: &str,
    question: &str,
    mut check: impl FnMut(&str) -> Result<(), String>,
) -> Result<(String, Source), Failure> {
    if let Some(value) = given {
        return Ok((value, Source::Option));
    }
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return Err(Failure::usage(format!("{option}: required ({question}); stdin is not a terminal to ask on")));
    }
    loop {
        eprint!("{question}: ");
        std::io::stderr().flush().map_err(Failure::runtime)?;
        let mut line = String::new();
        if stdin.lock().read_line(&mut line).map_err(Failure::runtime)? == 0 {
            eprintln!();
            return Err(Failure::usage(format!("{option}: required ({question}); the input ended before an answer")));
        }
        let answer = line.trim();
        if answer.is_empty() {
            eprintln!("an answer is required (or give {option})");
            continue;
        }
        match check(answer) {
            Ok(()) => return Ok((answer.to_owned(), Source::Terminal)),
            Err(problem) => eprintln!("{problem}"),
        }
    }
}

/// The problem alone, without the option's name, for an answer typed on the
/// terminal, where no option was written.
fn problem_of(error: InitError) -> String {
    match error {
        InitError::Input { problem, .. } => problem,
        InitError::Metadata(problem) => problem,
    }
}

/// The one GET of the session URL, without a session: what the SP answered,
/// or why it could not be reached.
fn session_url_answer(
    runtime: &tokio::runtime::Runtime,
    client: &reqwest::Client,
    url: &str,
) -> Result<reqwest::StatusCode, String> {
    runtime
        .block_on(async { client.get(url).send().await.map(|response| response.status()) })
        .map_err(|e| format!("cannot reach {url}: {}", innermost_cause(&e)))
}

/// The error's deepest cause, such as "Connection refused (os error 111)":
/// reqwest's own message only repeats the URL it could not send to.
fn innermost_cause(error: &dyn std::error::Error) -> String {
    let mut cause = error;
    while let Some(source) = cause.source() {
        cause = source;
    }
    cause.to_string()
}

/// The line init says about the session URL's answer.
fn session_url_report(url: &str, status: reqwest::StatusCode) -> String {
    format!("session URL {url} answered {status}: {}", SessionUrlAnswer::from_status(status.as_u16()).meaning())
}

fn init(args: InitArgs) -> Result<(), Failure> {
    let org_path = args.out_dir.join(ORG_FILE_NAME);
    let target_path = args.out_dir.join(TARGET_FILE_NAME);
    if !args.force {
        for path in [&org_path, &target_path] {
            if path.exists() {
                return Err(Failure::usage(format!("{} exists; give --force to overwrite it", path.display())));
            }
        }
    }
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(Failure::runtime)?;
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .map_err(|e| Failure::runtime(format!("cannot make an HTTP client: {e}")))?;
    let (saml_metadata, saml_metadata_url) = if is_url(&args.saml_metadata) {
        let text = runtime
            .block_on(fetch(&client, &args.saml_metadata))
            .map_err(|e| Failure::usage(format!("--saml-metadata: {e}")))?;
        (text, Some(args.saml_metadata.clone()))
    } else {
        let text = std::fs::read_to_string(&args.saml_metadata)
            .map_err(|e| Failure::usage(format!("--saml-metadata: cannot read {}: {e}", args.saml_metadata)))?;
        (text, None)
    };
    let absolute_url =
        |option: &'static str| move |answer: &str| check_absolute_url(option, answer).map_err(problem_of);
    let (saml_login_url, _) = given_or_asked(
        args.login_url,
        "--login-url",
        "Where does SP-initiated SAML sign-in start (URL)",
        absolute_url("--login-url"),
    )?;
    let oidc = match (args.oidc_redirect_uri, args.oidc_client_type) {
        (Some(redirect_uri), Some(client_type)) => Some(OidcOptions {
            redirect_uri,
            client_type: match client_type {
                ClientType::Public => OidcClientType::Public,
                ClientType::Confidential => OidcClientType::Confidential,
            },
            auth_method: args.oidc_auth_method,
            login_url: given_or_asked(
                args.oidc_login_url,
                "--oidc-login-url",
                "Where does the relying party start an OIDC sign-in (URL)",
                absolute_url("--oidc-login-url"),
            )?
            .0,
            return_parameter: args.oidc_return_parameter,
            refresh_url: args.oidc_refresh_url,
        }),
        _ => None,
    };
    let scim = match args.scim_base_url {
        None => None,
        Some(base_url) => {
            let credentials = match (args.scim_token, args.scim_basic) {
                (Some(token), None) => ScimCredentials::Bearer(token),
                (None, Some(pair)) => match pair.split_once(':') {
                    Some((user_name, password)) => {
                        ScimCredentials::Basic { user_name: user_name.to_owned(), password: password.to_owned() }
                    }
                    None => return Err(Failure::usage("--scim-basic: must be USER:PASS")),
                },
                _ => return Err(Failure::usage("--scim-base-url: give --scim-token or --scim-basic")),
            };
            Some(ScimOptions { base_url, credentials, profile: args.scim_profile })
        }
    };
    // A typed session URL gets its one GET at once: unreachable, or a page
    // the SP does not have, is a typo to be asked again; any other answer is
    // reported and kept, as an option's would be.
    let (session_url, session_url_source) = given_or_asked(
        args.session_url,
        "--session-url",
        "Which URL of the SP shows the signed-in user (it answers 401 or no identity without a session)",
        |answer| {
            check_absolute_url("--session-url", answer).map_err(problem_of)?;
            let status = session_url_answer(&runtime, &client, answer)?;
            let report = session_url_report(answer, status);
            if SessionUrlAnswer::from_status(status.as_u16()) == SessionUrlAnswer::NoSuchPage {
                return Err(format!("{report} (give --session-url to keep it)"));
            }
            eprintln!("{report}");
            Ok(())
        },
    )?;
    let (identity_pointer, _) = given_or_asked(
        args.identity_pointer,
        "--identity-pointer",
        "The JSON pointer to the user's email in that answer (such as /email)",
        |answer| check_json_pointer("--identity-pointer", answer).map_err(problem_of),
    )?;
    let input = InitInput {
        saml_metadata,
        saml_metadata_url,
        saml_login_url,
        oidc,
        scim,
        session_url,
        identity_pointer,
        name_pointer: args.name_pointer,
        groups_pointer: args.groups_pointer,
        jit: args.jit,
        email_domains: args.email_domains,
        idp_listen: args.idp_listen,
    };
    let files = generate(&input).map_err(Failure::usage)?;
    // The session URL is checked once: no session is expected yet, so a 401
    // is what a correct SP answers; only an unreachable URL given as an
    // option is refused (a typed one was checked when it was typed).
    if let Source::Option = session_url_source {
        let status = session_url_answer(&runtime, &client, &input.session_url)
            .map_err(|problem| Failure::usage(format!("--session-url: {problem}")))?;
        eprintln!("{}", session_url_report(&input.session_url, status));
    }
    // The files are checked where they are read before they are written.
    let now = time::OffsetDateTime::now_utc();
    let org = mock_idp::org::parse_org(ORG_FILE_NAME, &files.org_toml, now).map_err(Failure::usage)?;
    std::fs::create_dir_all(&args.out_dir)
        .map_err(|e| Failure::runtime(format!("cannot make {}: {e}", args.out_dir.display())))?;
    std::fs::write(&org_path, &files.org_toml)
        .map_err(|e| Failure::runtime(format!("cannot write {}: {e}", org_path.display())))?;
    std::fs::write(&target_path, &files.target_toml)
        .map_err(|e| Failure::runtime(format!("cannot write {}: {e}", target_path.display())))?;
    println!("wrote {} and {}", org_path.display(), target_path.display());
    for app in org.apps.values() {
        if let Some(saml) = app.saml()
            && app.name == files.saml_app
        {
            println!(
                "configure the SP's IdP metadata URL: {}/app/{}/sso/saml/metadata",
                org.url.trim_end_matches('/'),
                saml.external_key.as_str()
            );
        }
        if files.oidc_app.as_deref() == Some(app.name.as_str()) {
            println!(
                "configure the relying party: issuer {}, client id {}",
                org.url.trim_end_matches('/'),
                app.id.as_str()
            );
            if let Some(secret) = &files.oidc_client_secret {
                println!("  client secret {secret}");
            }
        }
    }
    println!("then run: mockta check --target {}", target_path.display());
    Ok(())
}

async fn fetch(client: &reqwest::Client, url: &str) -> Result<String, String> {
    let response = client.get(url).send().await.map_err(|e| format!("cannot fetch {url}: {e}"))?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!("{url} answered {status}"));
    }
    response.text().await.map_err(|e| format!("cannot read {url}: {e}"))
}
