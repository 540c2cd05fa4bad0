//! `mockta scim …`: Okta's SCIM provisioning operations, run in-process with
//! the mock's own HTTP client against an app's SCIM server, and a running
//! mock's transcript.

use std::sync::Arc;

use clap::{Args, Subcommand};
use mock_idp::provisioning::{Provisioner, ProvisionerOptions};
use serde_json::{Value, json};

use crate::{Failure, OrgArgs, build_idp};

#[derive(Subcommand)]
pub(crate) enum ScimCommand {
    /// "Test API Credentials": GET /Users?startIndex=1&count=2 to an app's SCIM server.
    TestCredentials(AppArgs),
    /// "Push now": provision every assigned user and push every pushed group of an app.
    Push(AppArgs),
    /// Import an app's SCIM users and groups page by page, matched to the org.
    Import(AppArgs),
    /// Print a running mock's provisioning transcript (JSON).
    Transcript(TranscriptArgs),
    /// "Authenticate with {app}": start an OAuth 2.0 authorization of a running
    /// mock's provisioning connection and print the URL to open in a browser.
    Authorize(AuthorizeArgs),
}

#[derive(Args)]
pub(crate) struct AuthorizeArgs {
    /// The app, by id or name; its provisioning `auth` must be `oauth2`.
    #[arg(long)]
    app: String,
    /// The running mock's base URL.
    #[arg(long, default_value = "http://127.0.0.1:7000")]
    url: String,
    /// The mock's management API token (`SSWS`).
    #[arg(long, default_value = "mockta-dev-ssws-token")]
    token: String,
}

#[derive(Args)]
pub(crate) struct AppArgs {
    #[command(flatten)]
    org: OrgArgs,
    /// The app, by id or name; it needs `[apps.provisioning]` in the org file.
    #[arg(long)]
    app: String,
    /// A SCIM fault to arm for the app while the command runs (repeatable):
    /// username-case, duplicate-create, empty-strings, put-omits-optional,
    /// rename-with-membership, large-group-push.
    #[arg(long = "fault")]
    faults: Vec<String>,
}

#[derive(Args)]
pub(crate) struct TranscriptArgs {
    /// The running mock's base URL.
    #[arg(long, default_value = "http://127.0.0.1:7000")]
    url: String,
    /// The mock's management API token (`SSWS`).
    #[arg(long, default_value = "mockta-dev-ssws-token")]
    token: String,
}

/// Runs a `mockta scim` command. The output is one JSON document: the
/// operation's result and every exchange it made.
pub(crate) fn run(command: ScimCommand) -> Result<(), Failure> {
    let runtime = tokio::runtime::Runtime::new().map_err(Failure::runtime)?;
    let (args, operation) = match command {
        ScimCommand::Transcript(args) => {
            let transcript = runtime
                .block_on(mock_idp::provisioning::transport::fetch_transcript(&args.url, &args.token))
                .map_err(Failure::runtime)?;
            println!("{}", pretty(&transcript));
            return Ok(());
        }
        ScimCommand::Authorize(args) => {
            use mock_idp::provisioning::transport::{RemoteError, start_remote_authorization};
            let started =
                runtime.block_on(start_remote_authorization(&args.url, &args.token, &args.app)).map_err(|error| {
                    match error {
                        RemoteError::Refused(message) => Failure::usage(message),
                        RemoteError::Unreachable(message) => Failure::runtime(message),
                    }
                })?;
            let url = started
                .get("authorizeUrl")
                .and_then(Value::as_str)
                .ok_or_else(|| Failure::runtime(format!("{} answered without an authorizeUrl", args.url)))?;
            // The URL alone on stdout, so a script can open it.
            println!("{url}");
            return Ok(());
        }
        ScimCommand::TestCredentials(args) => (args, Operation::TestCredentials),
        ScimCommand::Push(args) => (args, Operation::Push),
        ScimCommand::Import(args) => (args, Operation::Import),
    };
    // An unknown fault name is a usage error, found before anything runs.
    let faults = args
        .faults
        .iter()
        .map(|name| name.parse::<mock_idp::scim::ScimFault>().map_err(Failure::usage))
        .collect::<Result<Vec<_>, _>>()?;
    let idp = Arc::new(build_idp(&args.org.options(None))?);
    runtime.block_on(async move {
        let provisioner = Provisioner::start(&idp, ProvisionerOptions::default()).map_err(Failure::runtime)?;
        for fault in faults {
            provisioner.arm_fault(fault, Some(&args.app)).map_err(Failure::usage)?;
        }
        let outcome = match operation {
            Operation::TestCredentials => provisioner.test_credentials(&args.app).await.map(|r| json!(r)),
            Operation::Push => provisioner.push_now(&args.app).await.map(|r| json!(r)),
            Operation::Import => provisioner.import(&args.app).await.map(|r| json!(r)),
        };
        let transcript = json!(provisioner.transcript());
        let failed_tasks = provisioner.failed_tasks();
        match outcome {
            Ok(result) => {
                println!(
                    "{}",
                    pretty(&json!({"result": result, "failed_tasks": failed_tasks, "transcript": transcript}))
                );
                if failed_tasks.is_empty() {
                    Ok(())
                } else {
                    Err(Failure { message: format!("{} provisioning task(s) failed", failed_tasks.len()), code: 1 })
                }
            }
            Err(error) => {
                use mock_idp::provisioning::ProvisioningError;
                println!(
                    "{}",
                    pretty(&json!({"error": error.to_string(), "code": error.code(), "transcript": transcript}))
                );
                match error {
                    ProvisioningError::UnknownApp(_)
                    | ProvisioningError::NotProvisioned(_)
                    | ProvisioningError::FeatureOff { .. } => Err(Failure::usage(error)),
                    ProvisioningError::Failed(_) => Err(Failure { message: error.to_string(), code: 1 }),
                    _ => Err(Failure::runtime(error)),
                }
            }
        }
    })
}

enum Operation {
    TestCredentials,
    Push,
    Import,
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}
