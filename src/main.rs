//! The `mockta` command line. It parses arguments and calls the libraries;
//! nothing else lives here but `demo`, the one place that joins the suite
//! and the reference SP.
//!
//! Exit codes: 0 success; 1 a check failed or errored; 2 bad input (the
//! arguments, a target, org or config file); 3 the environment failed (a
//! port in use, a file that cannot be written).

mod demo;
mod demo_provisioning;
mod explain;
mod profile;
mod scim;
mod target_init;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand, ValueEnum};
use mock_idp::http::RunningServer;
use mock_idp::saml::SamlFaultPlan;
use mock_idp::saml::faults::SamlFault;
use mock_idp::setup::IdpOptions;

#[derive(Parser)]
#[command(
    name = "mockta",
    version,
    about = "A mock Okta org for testing SSO integrations without a real Okta org.",
    after_help = "Exit codes: 0 success, 1 a check failed or errored, 2 bad input, 3 the environment failed (for example a port in use)."
)]
struct Cli {
    /// How the servers log: readable lines, or one JSON object a line for a
    /// log collector.
    #[arg(long, global = true, value_enum, default_value = "text")]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Run the mock Okta org: SAML IdP, OIDC authorization servers, management API and login page.
    Idp(IdpArgs),
    /// Mint SAML responses and print IdP metadata offline.
    #[command(subcommand)]
    Saml(SamlCommand),
    /// Mint OIDC tokens offline and list the OIDC faults.
    #[command(subcommand)]
    Oidc(OidcCommand),
    /// Okta's SCIM provisioning: test credentials, push, import, and a running mock's transcript.
    #[command(subcommand)]
    Scim(scim::ScimCommand),
    /// Run the reference service provider (SAML ACS, SQLite storage, switchable flaws).
    Sp(SpArgs),
    /// Run the conformance checks against an SP described by a target file.
    Check(CheckArgs),
    /// Write target files: `init` builds an org and a target from the SP's metadata.
    #[command(subcommand)]
    Target(target_init::TargetCommand),
    /// List the conformance checks.
    Checks(ChecksArgs),
    /// Explain a customer's SAMLResponse, JWT or HAR file: every rule it breaks, by check id, with the fix and who must make it.
    Explain(explain::ExplainArgs),
    /// Run the mock IdP and the reference SP, run every check against the reference tenants, play the five vendor profiles, and print the report.
    Demo(DemoArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish or powershell).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), for `man -l -`.
    Man,
}

#[derive(Args)]
struct OrgArgs {
    /// The org file (TOML). Defaults to the built-in copy of fixtures/orgs/acme.toml.
    #[arg(long, value_name = "FILE")]
    org: Option<PathBuf>,
    /// Where generated signing keys are kept. Defaults to a folder per org file
    /// under $MOCKTA_KEY_DIR or ~/.local/share/mockta/keys.
    #[arg(long, value_name = "DIR")]
    key_dir: Option<PathBuf>,
    /// Sign every app's responses with this PEM (PKCS#8 RSA) private key.
    #[arg(long, value_name = "PEM", conflicts_with = "key_dir")]
    signing_key: Option<PathBuf>,
    /// Fixed keys, clock and ids, so output is the same on every run.
    #[arg(long)]
    deterministic: bool,
}

impl OrgArgs {
    fn options(&self, org_url: Option<String>) -> IdpOptions {
        IdpOptions {
            org_file: self.org.clone(),
            key_dir: self.key_dir.clone(),
            signing_key: self.signing_key.clone(),
            deterministic: self.deterministic,
            org_url,
            tls: false,
            ..IdpOptions::default()
        }
    }
}

#[derive(Args)]
struct IdpArgs {
    #[command(flatten)]
    org: OrgArgs,
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1:7000")]
    listen: SocketAddr,
    /// The org's base URL, if not the one in the org file (for example behind a proxy).
    #[arg(long, value_name = "URL")]
    url: Option<String>,
    /// Serve HTTPS (the org URL becomes https) with a certificate from a
    /// local CA kept in the key folder; the CA certificate's file is printed
    /// at start, for clients to trust.
    #[arg(long)]
    tls: bool,
}

#[derive(Args)]
struct SpArgs {
    /// The config file (TOML). Defaults to the built-in copy of fixtures/sp/reference.toml.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The SQLite database file, if not the one in the config.
    #[arg(long, value_name = "PATH")]
    db: Option<PathBuf>,
    /// The address to listen on, if not the one in the config (default 127.0.0.1:7100).
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// Switch on a deliberate bug (repeatable; see --list-flaws).
    #[arg(long = "flaw", value_name = "NAME")]
    flaws: Vec<String>,
    /// Print each flaw with the real bug it reproduces, and exit.
    #[arg(long)]
    list_flaws: bool,
    /// Trust the CA certificates in this PEM file (besides the built-in
    /// roots) when fetching from IdPs, such as the file `mockta idp --tls`
    /// prints; replaces the config's `extra_ca_file`.
    #[arg(long, value_name = "PATH")]
    ca_file: Option<PathBuf>,
}

#[derive(Args)]
struct DemoArgs {
    /// Keep serving the mock IdP and the reference SP after the report, until Ctrl-C.
    #[arg(long, conflicts_with = "profile")]
    serve: bool,
    /// Play one vendor profile only (moxion, …; see README): its guide's
    /// Okta set-up and SP behaviour, then the checks that apply.
    #[arg(long, value_name = "NAME")]
    profile: Option<String>,
    /// Exit 1 on a warning too (behaviour the spec allows but should not be).
    #[arg(long)]
    strict: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum ReportFormat {
    Human,
    Json,
    Junit,
}

#[derive(Args)]
struct CheckArgs {
    /// The target file describing the SP.
    #[arg(long, value_name = "FILE")]
    target: PathBuf,
    /// Run only the checks of this protocol.
    #[arg(long, value_parser = parse_protocol)]
    protocol: Option<conformance::catalogue::Protocol>,
    /// Where the mock IdP keeps its signing keys. Defaults to a folder per org
    /// file under $MOCKTA_KEY_DIR or ~/.local/share/mockta/keys, as for `mockta idp`.
    #[arg(long, value_name = "DIR")]
    key_dir: Option<PathBuf>,
    /// Run only the checks whose id matches (`*` is a wildcard), such as `saml.xsw.*`.
    #[arg(long, value_name = "PATTERN")]
    only: Option<String>,
    #[arg(long, value_enum, default_value = "human")]
    format: ReportFormat,
    /// Write the report here instead of standard output.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Exit 1 on a warning too (behaviour the spec allows but should not be).
    #[arg(long)]
    strict: bool,
    /// Fail only on checks that regressed against this earlier JSON report
    /// (`--format json` of a previous run), and print what changed.
    #[arg(long, value_name = "REPORT.json")]
    baseline: Option<PathBuf>,
    /// Also write the JSON report to this file, whatever --format says, so
    /// one run gives both a JUnit report and the next run's --baseline.
    #[arg(long, value_name = "FILE")]
    json_output: Option<PathBuf>,
    /// Replay the integration state machine (cross.state_machine.integration)
    /// from this seed, which every report that ran it names.
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
    /// Also judge the target against a profile's requirements and print its
    /// report after the checks' (oin: Okta Integration Network readiness);
    /// exit 1 when a requirement is unmet.
    #[arg(long, value_enum)]
    profile: Option<CheckProfile>,
}

/// The requirement profiles `mockta check --profile` judges a target by.
#[derive(Clone, Copy, ValueEnum)]
enum CheckProfile {
    /// What Okta's OIN submission asks of an integration.
    Oin,
}

#[derive(Clone, Copy, ValueEnum)]
enum CatalogueFormat {
    Table,
    Json,
}

#[derive(Args)]
struct ChecksArgs {
    #[arg(long, value_enum, default_value = "table")]
    format: CatalogueFormat,
    /// List only the checks of this protocol (saml, oidc, scim or cross).
    #[arg(long, value_parser = parse_protocol)]
    protocol: Option<conformance::catalogue::Protocol>,
}

fn parse_protocol(text: &str) -> Result<conformance::catalogue::Protocol, String> {
    text.parse()
}

#[derive(Subcommand)]
enum SamlCommand {
    /// Print a signed SAML response for a user of an app.
    Mint(MintArgs),
    /// Print an app's IdP metadata.
    Metadata(MetadataArgs),
    /// List the faults `--fault` accepts, with what each changes.
    Faults,
}

#[derive(Clone, Copy, ValueEnum)]
enum MintFormat {
    /// The XML document.
    Xml,
    /// Base64, as the SAMLResponse form field carries it.
    Base64,
    /// The auto-submitting HTML form that posts it to the ACS.
    Form,
}

#[derive(Args)]
struct MintArgs {
    #[command(flatten)]
    org: OrgArgs,
    /// The app, by id or name.
    #[arg(long)]
    app: String,
    /// The user, by login or id.
    #[arg(long)]
    user: String,
    /// A fault to apply (see `mockta saml faults`).
    #[arg(long, value_parser = parse_fault)]
    fault: Option<SamlFault>,
    /// The identity forging faults claim. Defaults to admin@{org email domain}.
    #[arg(long, value_name = "LOGIN")]
    impersonate: Option<String>,
    /// Answer this AuthnRequest ID (SP-initiated); otherwise IdP-initiated.
    #[arg(long, value_name = "ID")]
    in_response_to: Option<String>,
    #[arg(long, value_enum, default_value = "xml")]
    format: MintFormat,
}

#[derive(Args)]
struct MetadataArgs {
    #[command(flatten)]
    org: OrgArgs,
    /// The app, by id or name.
    #[arg(long)]
    app: String,
}

#[derive(Subcommand)]
enum OidcCommand {
    /// Print a signed ID token (or access token) for a user of an OIDC app.
    Mint(OidcMintArgs),
    /// List the faults `--fault` accepts, with what each changes.
    Faults,
}

#[derive(Clone, Copy, ValueEnum)]
enum OidcPrint {
    /// The ID token.
    IdToken,
    /// The access token (a JWT from custom servers, opaque from the org server).
    AccessToken,
    /// Both tokens and the issuer, as JSON.
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum OidcFaultToken {
    IdToken,
    AccessToken,
    Both,
}

#[derive(Args)]
struct OidcMintArgs {
    #[command(flatten)]
    org: OrgArgs,
    /// The OIDC app (the client), by id or name.
    #[arg(long)]
    app: String,
    /// The user, by login or id.
    #[arg(long)]
    user: String,
    /// The authorization server: `org`, `default`, or another custom server's id.
    #[arg(long, default_value = "org")]
    server: String,
    /// A fault to apply (see `mockta oidc faults`).
    #[arg(long, value_parser = parse_oidc_fault)]
    fault: Option<mock_idp::oidc::faults::OidcFault>,
    /// Which token the fault applies to.
    #[arg(long, value_enum, default_value = "id-token")]
    fault_token: OidcFaultToken,
    #[arg(long, value_enum, default_value = "id-token")]
    print: OidcPrint,
}

fn parse_oidc_fault(text: &str) -> Result<mock_idp::oidc::faults::OidcFault, String> {
    text.parse::<mock_idp::oidc::faults::OidcFault>().map_err(|e| e.to_string())
}

fn oidc_mint(args: OidcMintArgs) -> Result<(), Failure> {
    use mock_idp::oidc::faults::{FaultTarget, OidcFaultPlan};
    use mock_idp::oidc::{OidcError, ServerRef};
    let idp = build_idp(&args.org.options(None))?;
    let server = match args.server.as_str() {
        "org" => ServerRef::Org,
        id => ServerRef::Custom(id.to_owned()),
    };
    let target = match args.fault_token {
        OidcFaultToken::IdToken => FaultTarget::IdToken,
        OidcFaultToken::AccessToken => FaultTarget::AccessToken,
        OidcFaultToken::Both => FaultTarget::Both,
    };
    let plan = args.fault.map(|fault| OidcFaultPlan { fault, target });
    let minted = idp.mint_tokens(&server, &args.app, &args.user, plan).map_err(|e| match e {
        OidcError::UnknownClient => Failure::usage(format!("--app: no OIDC app '{}' in the org", args.app)),
        OidcError::UnknownServer(id) => Failure::usage(format!("--server: no authorization server '{id}' in the org")),
        OidcError::OAuth { description, .. } => Failure::usage(format!("--user: {description}")),
        OidcError::FaultRefused(refusal) => Failure::usage(format!("--fault: {refusal}")),
        other => Failure::runtime(other),
    })?;
    match args.print {
        OidcPrint::IdToken => println!("{}", minted.id_token),
        OidcPrint::AccessToken => println!("{}", minted.access_token),
        OidcPrint::Json => println!(
            "{}",
            serde_json::json!({"issuer": minted.issuer, "id_token": minted.id_token, "access_token": minted.access_token})
        ),
    }
    Ok(())
}

fn parse_fault(text: &str) -> Result<SamlFault, String> {
    text.parse::<SamlFault>().map_err(|e| e.to_string())
}

/// A failure to report: the one-line message and the exit code.
struct Failure {
    message: String,
    code: u8,
}

impl Failure {
    /// Bad input: arguments, or a file the user gave.
    fn usage(message: impl ToString) -> Self {
        Failure { message: message.to_string(), code: 2 }
    }
    /// The environment failed: a port in use, a file that cannot be written.
    fn runtime(message: impl ToString) -> Self {
        Failure { message: message.to_string(), code: 3 }
    }
}

/// Builds the mock IdP. A bad org file, `--url` or `--signing-key` is bad
/// input (exit 2); a key folder that cannot be written, or a key that cannot
/// be made, is the environment (exit 3).
fn build_idp(options: &IdpOptions) -> Result<mock_idp::idp::Idp, Failure> {
    options.build().map_err(|error| setup_failure(error, options.signing_key.is_some()))
}

fn setup_failure(error: mock_idp::setup::SetupError, key_file_given: bool) -> Failure {
    use mock_idp::keys::KeyError;
    use mock_idp::setup::SetupError;
    match &error {
        SetupError::Key(KeyError::Io { .. }) if !key_file_given => Failure::runtime(error),
        SetupError::Key(KeyError::Generate(_) | KeyError::Certificate(_)) => Failure::runtime(error),
        // --tls: a stored CA key that does not parse is bad input; a key
        // folder that cannot be written, or a certificate that cannot be
        // made, is the environment.
        SetupError::Tls(KeyError::BadKey { .. }) => Failure::usage(error),
        SetupError::Tls(_) => Failure::runtime(error),
        _ => Failure::usage(error),
    }
}

/// Builds the reference SP. A bad config or flaw is bad input (exit 2); a
/// database that cannot be opened is the environment (exit 3).
fn build_sp(options: &reference_sp::setup::SpOptions) -> Result<reference_sp::sp::Sp, Failure> {
    options.build().map_err(|error| match error {
        reference_sp::setup::SetupError::Database { .. } => Failure::runtime(error),
        _ => Failure::usage(error),
    })
}

/// clap's own message in the one-line `mockta: error:` form: the problem
/// and any list of possible values, without the usage block.
fn one_line_clap_error(error: &clap::Error) -> String {
    let text = error.to_string();
    let mut parts = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with("Usage:") || line.starts_with("For more information") {
            continue;
        }
        parts.push(line.strip_prefix("error: ").unwrap_or(line));
    }
    parts.join(" ")
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) if !error.use_stderr() => {
            // --help and --version: clap prints them to stdout and they succeed.
            let _ = error.print();
            return ExitCode::SUCCESS;
        }
        Err(error) => {
            eprintln!("mockta: error: {}", one_line_clap_error(&error));
            return ExitCode::from(2);
        }
    };
    // Servers log each sign-in and refusal; a report run only logs problems,
    // so its output stays readable.
    let default_level = match cli.command {
        Command::Idp(_) | Command::Sp(_) => "info",
        _ => "warn",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| default_level.into());
    match cli.log_format {
        LogFormat::Text => tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init(),
        LogFormat::Json => {
            tracing_subscriber::fmt().json().with_env_filter(filter).with_writer(std::io::stderr).init();
        }
    }
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("mockta: error: {}", failure.message.replace('\n', " "));
            ExitCode::from(failure.code)
        }
    }
}

fn run(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Idp(args) => serve_idp(IdpOptions { tls: args.tls, ..args.org.options(args.url) }, args.listen),
        Command::Demo(args) => demo(args),
        Command::Scim(command) => scim::run(command),
        Command::Explain(args) => explain::run(args),
        Command::Checks(args) => {
            let checks = conformance::select(None, args.protocol).map_err(Failure::usage)?;
            match args.format {
                CatalogueFormat::Json => println!("{}", conformance::catalogue::catalogue_json(&checks)),
                CatalogueFormat::Table => {
                    println!("{:<32} {:<9} {:<9} {:<12} TITLE", "ID", "PROTOCOL", "SEVERITY", "CATEGORY");
                    for check in checks {
                        println!(
                            "{:<32} {:<9} {:<9} {:<12} {}",
                            check.id,
                            check.protocol().as_str(),
                            format!("{:?}", check.severity).to_lowercase(),
                            check.category.as_str(),
                            check.title
                        );
                    }
                }
            }
            Ok(())
        }
        Command::Check(args) => check(args),
        Command::Target(command) => target_init::run(command),
        Command::Completions { shell } => {
            use clap::CommandFactory;
            clap_complete::generate(shell, &mut Cli::command(), "mockta", &mut std::io::stdout());
            Ok(())
        }
        Command::Man => {
            use clap::CommandFactory;
            clap_mangen::Man::new(Cli::command())
                .render(&mut std::io::stdout())
                .map_err(|e| Failure::runtime(format!("cannot write the manual page: {e}")))
        }
        Command::Sp(args) if args.list_flaws => {
            for flaw in reference_sp::flaws::Flaw::ALL {
                println!("{:<24} {}", flaw.name(), flaw.description());
            }
            Ok(())
        }
        Command::Sp(args) => {
            if let Some(db) = &args.db {
                ensure_parent_exists("--db", db)?;
            }
            let options = reference_sp::setup::SpOptions {
                config: args.config,
                database: args.db,
                listen: args.listen,
                flaws: args.flaws,
                extra_ca_file: args.ca_file,
            };
            serve_sp(options)
        }
        Command::Oidc(OidcCommand::Faults) => {
            for fault in mock_idp::oidc::faults::OidcFault::ALL {
                println!("{:<24} {}", fault.name(), fault.description());
            }
            Ok(())
        }
        Command::Oidc(OidcCommand::Mint(args)) => oidc_mint(args),
        Command::Saml(SamlCommand::Faults) => {
            for info in SamlFault::catalogue() {
                println!("{:<24} {}\n{:<24} ({})", info.name, info.changes, "", info.exercises);
            }
            Ok(())
        }
        Command::Saml(SamlCommand::Metadata(args)) => {
            let idp = build_idp(&args.org.options(None))?;
            let app_id = idp.read_org(|org| org.find_app(&args.app).map(|a| a.id.to_string()));
            let app_id = app_id.ok_or_else(|| Failure::usage(format!("--app: no app '{}' in the org", args.app)))?;
            println!("{}", idp.metadata(&app_id).map_err(Failure::runtime)?);
            Ok(())
        }
        Command::Saml(SamlCommand::Mint(args)) => {
            let idp = build_idp(&args.org.options(None))?;
            let plan = args.fault.map(|fault| SamlFaultPlan { fault, impersonate: args.impersonate.clone() });
            let minted = idp.mint_saml(&args.app, &args.user, plan, args.in_response_to).map_err(|e| match e {
                mock_idp::idp::IdpError::AppNotFound(app) => {
                    Failure::usage(format!("--app: no app '{app}' in the org"))
                }
                mock_idp::idp::IdpError::UnknownUser(user) => {
                    Failure::usage(format!("--user: no user '{user}' in the org"))
                }
                // The signing key could not be read or made: the environment.
                other @ mock_idp::idp::IdpError::Key(_) => Failure::runtime(other),
                other => Failure::usage(other),
            })?;
            match args.format {
                MintFormat::Xml => println!("{}", minted.xml),
                MintFormat::Base64 => println!("{}", mock_idp::saml::form::base64(&minted.xml)),
                MintFormat::Form => {
                    print!("{}", mock_idp::saml::form::render(&minted.acs_url, &minted.xml, &minted.relay_state))
                }
            }
            Ok(())
        }
    }
}

/// Shows progress on stderr, so stdout stays the report: a progress bar
/// (indicatif) when stderr is a terminal, with failures printed above it; one
/// line per finished check otherwise, which reads well in CI logs.
fn progress_printer(total: usize) -> impl Fn(&conformance::runner::CheckResult) + Send + Sync + Clone + 'static {
    use std::io::IsTerminal;
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(u64::try_from(total).unwrap_or(u64::MAX));
        if let Ok(style) = indicatif::ProgressStyle::with_template("{bar:32.cyan/blue} {pos:>3}/{len} checks {msg}") {
            bar.set_style(style);
        }
        bar
    });
    let done = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    move |result| {
        let n = done.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        let verdict = format!("{:?}", result.verdict).to_lowercase();
        match &bar {
            Some(bar) => {
                use conformance::runner::Verdict;
                if matches!(result.verdict, Verdict::Fail | Verdict::Warn | Verdict::Error) {
                    bar.println(format!("{verdict:<5} {}", result.id));
                }
                bar.set_message(result.id.to_string());
                bar.inc(1);
                if n >= total {
                    bar.finish_and_clear();
                }
            }
            None => eprintln!("[{n:>2}/{total}] {verdict:<5} {}", result.id),
        }
    }
}

/// A file argument whose folder does not exist is bad input, found before
/// any work is done rather than after it (and no folder is made silently).
fn ensure_parent_exists(flag: &str, path: &std::path::Path) -> Result<(), Failure> {
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
    if parent.is_dir() {
        Ok(())
    } else {
        Err(Failure::usage(format!("{flag}: the folder {} does not exist", parent.display())))
    }
}

fn check(args: CheckArgs) -> Result<(), Failure> {
    let target = conformance::target::load_target(&args.target).map_err(Failure::usage)?;
    let checks = conformance::select(args.only.as_deref(), args.protocol).map_err(Failure::usage)?;
    if let Some(output) = &args.output {
        ensure_parent_exists("--output", output)?;
    }
    if let Some(json_output) = &args.json_output {
        ensure_parent_exists("--json-output", json_output)?;
    }
    let baseline = match &args.baseline {
        None => None,
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| Failure::usage(format!("--baseline: {}: {e}", path.display())))?;
            Some(
                conformance::report::Baseline::parse(&text)
                    .map_err(|e| Failure::usage(format!("--baseline: {}: {e}", path.display())))?,
            )
        }
    };
    let progress = progress_printer(checks.len());
    let runtime = tokio::runtime::Runtime::new().map_err(Failure::runtime)?;
    let label = args.target.display().to_string();
    // A target whose org file or app is wrong is bad input (exit 2); a busy
    // address or a key folder that cannot be written is the environment (3).
    let run = async {
        match args.profile {
            None => conformance::run_seeded(target, label, checks, args.key_dir.clone(), args.seed, progress).await,
            Some(CheckProfile::Oin) => {
                conformance::run_oin(target, label, checks, args.key_dir.clone(), args.seed, progress).await
            }
        }
    };
    let report = runtime.block_on(run).map_err(|error| match error {
        conformance::runner::SuiteError::Listen { .. } => Failure::runtime(error),
        conformance::runner::SuiteError::Setup(setup) => setup_failure(setup, false),
        _ => Failure::usage(error),
    })?;
    let text = match args.format {
        ReportFormat::Human => report.to_human(),
        ReportFormat::Json => report.to_json(),
        ReportFormat::Junit => report.to_junit(),
    };
    match &args.output {
        Some(path) => std::fs::write(path, text).map_err(|e| Failure::runtime(format!("{}: {e}", path.display())))?,
        None => print!("{text}"),
    }
    if let Some(path) = &args.json_output {
        std::fs::write(path, report.to_json()).map_err(|e| Failure::runtime(format!("{}: {e}", path.display())))?;
    }
    // Under a profile an unmet requirement fails the run, even against a
    // baseline; the checks still fail it as they do without one.
    if let Some(readiness) = &report.oin
        && readiness.has_unmet()
    {
        let unmet = readiness.unmet();
        return Err(Failure {
            message: format!("{} OIN requirements unmet: {}", unmet.len(), unmet.join(", ")),
            code: 1,
        });
    }
    if let Some(baseline) = &baseline {
        let comparison = report.compare(baseline, args.strict);
        eprint!("{}", comparison.to_human());
        return if comparison.has_regressions() {
            Err(Failure { message: format!("{} checks regressed", comparison.regressed.len()), code: 1 })
        } else {
            Ok(())
        };
    }
    if report.ok(args.strict) {
        Ok(())
    } else {
        let summary = &report.summary;
        let message = if args.strict {
            format!("{} failed, {} errors, {} warnings (--strict)", summary.fail, summary.error, summary.warn)
        } else {
            format!("{} failed, {} errors", summary.fail, summary.error)
        };
        Err(Failure { message, code: 1 })
    }
}

/// The reference SP on 127.0.0.1:7100, the mock IdP on 127.0.0.1:7000, and
/// every check against the four reference tenants.
fn demo(args: DemoArgs) -> Result<(), Failure> {
    if let Some(name) = &args.profile {
        let builtin = profile::find_profile(name).map_err(Failure::usage)?;
        let runtime = tokio::runtime::Runtime::new().map_err(Failure::runtime)?;
        let runs = runtime.block_on(play_profiles(vec![builtin])).map_err(Failure::runtime)?;
        println!("\nSummary:");
        for run in &runs {
            println!("{}", run.summary_line(args.strict));
        }
        return judge_profiles(&runs, args.strict);
    }
    let dir = tempfile::tempdir().map_err(Failure::runtime)?;
    let total: usize = demo::builtin_targets()
        .map_err(Failure::runtime)?
        .iter()
        .map(|(_, target)| conformance::checks_for_target(target).len())
        .sum();
    let runtime = tokio::runtime::Runtime::new().map_err(Failure::runtime)?;
    let (reports, act) = runtime.block_on(demo::run(dir.path(), progress_printer(total))).map_err(Failure::runtime)?;
    for report in &reports {
        print!("{}", report.to_human());
    }
    print!("{}", act.to_human());
    let runs = runtime.block_on(play_profiles(profile::builtin_profiles())).map_err(Failure::runtime)?;
    println!("\nSummary:");
    for report in &reports {
        let name = report.target.trim_end_matches(".toml");
        println!("{}", profile::summary_line(name, report.ok(args.strict), report));
    }
    println!("{:<26} {:<6} provisioning act", "acme", if act.passed() { "ok" } else { "FAILED" });
    for run in &runs {
        println!("{}", run.summary_line(args.strict));
    }
    if args.serve {
        let idp = Arc::new(build_idp(&IdpOptions::default())?);
        serve_idp_and_sp(idp, dir.path())?;
    }
    if !act.passed() {
        return Err(Failure { message: "the provisioning act failed against the reference SP".into(), code: 1 });
    }
    if !reports.iter().all(|r| r.ok(args.strict)) {
        return Err(Failure { message: "some checks failed against the reference SP".into(), code: 1 });
    }
    judge_profiles(&runs, args.strict)
}

/// Plays each profile on the demo's addresses, printing its report and play.
async fn play_profiles(profiles: Vec<profile::BuiltinProfile>) -> Result<Vec<profile::ProfileRun>, demo::DemoError> {
    let dir = tempfile::tempdir().map_err(|e| demo::DemoError::Sp(e.to_string()))?;
    let place = profile::ProfilePlace {
        sp: SocketAddr::from(([127, 0, 0, 1], 7100)),
        idp: SocketAddr::from(([127, 0, 0, 1], 7000)),
        dir: dir.path(),
    };
    let mut runs = Vec::new();
    for builtin in &profiles {
        let run = profile::run_profile(builtin, &[], &place, progress_printer(builtin.check_count()?)).await?;
        print!("{}", run.report.to_human());
        print!("{}", run.play.to_human(&run.profile.title));
        runs.push(run);
    }
    Ok(runs)
}

/// Exit 1 when a profile's checks or play failed.
fn judge_profiles(runs: &[profile::ProfileRun], strict: bool) -> Result<(), Failure> {
    let failed: Vec<&str> = runs.iter().filter(|r| !r.passed(strict)).map(|r| r.profile.name.as_str()).collect();
    if failed.is_empty() {
        return Ok(());
    }
    Err(Failure { message: format!("profile {} failed against the reference SP", failed.join(", ")), code: 1 })
}

/// Serves the mock IdP and the reference SP until Ctrl-C.
fn serve_idp_and_sp(idp: Arc<mock_idp::idp::Idp>, dir: &std::path::Path) -> Result<(), Failure> {
    let sp = Arc::new(build_sp(&demo::sp_options(dir))?);
    let runtime = tokio::runtime::Runtime::new().map_err(Failure::runtime)?;
    runtime.block_on(async move {
        let idp_listen: SocketAddr = "127.0.0.1:7000".parse().map_err(Failure::runtime)?;
        let idp_server = RunningServer::start(idp_listen, idp.clone())
            .await
            .map_err(|e| Failure::runtime(format!("cannot listen on {idp_listen}: {e}")))?;
        let sp_listen = sp.config().listen;
        let sp_server = reference_sp::http::RunningSp::start(sp_listen, sp.clone())
            .await
            .map_err(|e| Failure::runtime(format!("cannot listen on {sp_listen}: {e}")))?;
        reference_sp::idp_fetch::refresh_all(&sp).await;
        print_urls(&idp, &idp_server, None);
        println!(
            "mockta: reference SP listening on {}; try {}/login?tenant=acme",
            sp_server.url(),
            sp.config().base_url
        );
        println!("Press Ctrl-C to stop.");
        tokio::signal::ctrl_c().await.map_err(Failure::runtime)?;
        sp_server.stop().await.map_err(Failure::runtime)?;
        idp_server.stop().await.map_err(Failure::runtime)
    })
}

fn serve_sp(options: reference_sp::setup::SpOptions) -> Result<(), Failure> {
    let sp = Arc::new(build_sp(&options)?);
    let runtime = tokio::runtime::Runtime::new().map_err(Failure::runtime)?;
    runtime.block_on(async move {
        let listen = sp.config().listen;
        let server = reference_sp::http::RunningSp::start(listen, sp.clone())
            .await
            .map_err(|e| Failure::runtime(format!("cannot listen on {listen}: {e}")))?;
        {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            let _ =
                writeln!(out, "mockta: reference SP listening on {} (base URL {})", server.url(), sp.config().base_url);
            let _ = writeln!(out, "  database: {}", sp.config().database.display());
            for flaw in sp.flaws() {
                let _ = writeln!(out, "  FLAW ON: {} ({})", flaw.name(), flaw.description());
            }
            for tenant in &sp.config().tenants {
                let _ = writeln!(
                    out,
                    "  tenant {}: sign in at {}/login?tenant={}, ACS {}",
                    tenant.id,
                    sp.config().base_url,
                    tenant.id,
                    sp.config().acs_url(&tenant.id)
                );
                if tenant.scim.is_some() {
                    let _ = writeln!(out, "    SCIM base URL: {}/scim/v2/{}", sp.config().base_url, tenant.id);
                }
            }
            let _ = out.flush();
        }
        reference_sp::idp_fetch::refresh_all(&sp).await;
        tokio::signal::ctrl_c().await.map_err(Failure::runtime)?;
        server.stop().await.map_err(Failure::runtime)
    })
}

fn serve_idp(options: IdpOptions, listen: SocketAddr) -> Result<(), Failure> {
    let idp = Arc::new(build_idp(&options)?);
    let tls = match options.tls {
        true => Some(options.tls_identity(&idp.read_org(|org| org.url.clone())).map_err(|e| setup_failure(e, false))?),
        false => None,
    };
    let tls_ca = tls.as_ref().map(|identity| identity.ca_cert_path.clone());
    let runtime = tokio::runtime::Runtime::new().map_err(Failure::runtime)?;
    runtime.block_on(async move {
        let started = match tls {
            Some(identity) => RunningServer::start_tls(listen, idp.clone(), identity).await,
            None => RunningServer::start(listen, idp.clone()).await,
        };
        let server = started.map_err(|e| Failure::runtime(format!("cannot listen on {listen}: {e}")))?;
        // Okta's SCIM client: org changes made through the management API
        // are provisioned to every app with provisioning settings.
        mock_idp::provisioning::Provisioner::start(&idp, Default::default()).map_err(Failure::runtime)?;
        print_urls(&idp, &server, tls_ca.as_deref());
        println!("Press Ctrl-C to stop.");
        tokio::signal::ctrl_c().await.map_err(Failure::runtime)?;
        server.stop().await.map_err(Failure::runtime)
    })
}

/// Prints where everything is. Write errors are ignored: a closed stdout
/// (for example a parent that read only the first line) must not stop the server.
fn print_urls(idp: &mock_idp::idp::Idp, server: &RunningServer, tls_ca: Option<&std::path::Path>) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    idp.read_org(|org| {
        let _ =
            writeln!(out, "mockta: mock Okta org '{}' listening on {} (org URL {})", org.name, server.url(), org.url);
        if let Some(dir) = idp.key_dir() {
            let _ = writeln!(out, "  signing keys: {}", dir.display());
        }
        if let Some(ca) = tls_ca {
            let _ = writeln!(out, "  TLS CA certificate: {} (trust it to reach {} over https)", ca.display(), org.url);
        }
        let _ =
            writeln!(out, "  management API: {}/api/v1/ (Authorization: SSWS <api_token from the org file>)", org.url);
        let _ = writeln!(
            out,
            "  web console:    {0}/app/UserHome (end-user dashboard; sign in at {0}/login/login.htm)",
            org.url
        );
        let _ =
            writeln!(out, "                  {}/admin/dashboard (admin console; sign in with the API token)", org.url);
        let _ = writeln!(out, "  OIDC issuers:   {} (org server)", org.url);
        for server in &org.authorization_servers {
            let _ = writeln!(out, "                  {}/oauth2/{} ({})", org.url, server.id, server.name);
        }
        for app in org.apps.values() {
            let _ = writeln!(out, "  app {} ({}, {})", app.name, app.id, app.label);
            if let Some(oidc) = app.oidc() {
                let _ = writeln!(out, "    OIDC client:   {} {}", oidc.application_type.as_str(), app.id);
                continue;
            }
            let Some(saml) = app.saml() else { continue };
            let _ = writeln!(out, "    metadata:      {}", mock_idp::saml::metadata::metadata_url(&org.url, saml));
            let _ = writeln!(out, "    SSO URL:       {}", mock_idp::saml::metadata::sso_url(&org.url, saml));
            let _ = writeln!(
                out,
                "    IdP-initiated: {}?login_hint=LOGIN",
                mock_idp::saml::metadata::embed_link(&org.url, app, saml)
            );
        }
        let _ = out.flush();
    });
}
