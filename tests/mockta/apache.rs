//! Apache for the interop tests against real SPs (`interop_openidc.rs`,
//! `interop_mellon.rs`, `interop_shibboleth.rs`): Debian's `apache2` in the foreground, from a config
//! written into a temporary folder, on a free port of 127.0.0.1, in its own
//! process group, ready once its error log says it serves, and stopped (the
//! whole group) when dropped. Also what both tests do around it: starting
//! the suite and Apache on a free port (again on another port when the first
//! is taken), and running the checks, stopping Apache and making the verdict
//! table they snapshot.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use conformance::catalogue::{Protocol, checks_for};
use conformance::runner::{CheckResult, Suite, Verdict};

/// Where Debian installs Apache and its modules.
pub(crate) const APACHE: &str = "/usr/sbin/apache2";
pub(crate) const MODULES: &str = "/usr/lib/apache2/modules";

/// How long Apache may take to say it is serving.
const STARTUP: Duration = Duration::from_secs(30);

/// Apache's `ErrorLog` line once its listener is bound and it serves.
const READY: &str = "resuming normal operations";

/// The start of every test's Apache config: the folder, the error log on
/// stderr (the test reads it for readiness and shows it when a check goes
/// wrong), the listener on 127.0.0.1, the core modules (event MPM, authn and
/// authz, mod_dir) and then `modules` (name and file), one small worker
/// process, and the document root `htdocs`. The test appends what its SP
/// module needs.
pub(crate) fn base_config(dir: &Path, port: u16, modules: &[(&str, &str)]) -> String {
    let dir = dir.display();
    let extra: String = modules.iter().map(|(name, file)| format!("LoadModule {name} {MODULES}/{file}\n")).collect();
    format!(
        r#"ServerRoot "{dir}"
DefaultRuntimeDir "{dir}"
PidFile "{dir}/httpd.pid"
ErrorLog "/dev/stderr"
LogLevel warn
Listen 127.0.0.1:{port}
ServerName 127.0.0.1:{port}

LoadModule mpm_event_module {MODULES}/mod_mpm_event.so
LoadModule authn_core_module {MODULES}/mod_authn_core.so
LoadModule authz_core_module {MODULES}/mod_authz_core.so
LoadModule authz_user_module {MODULES}/mod_authz_user.so
LoadModule dir_module {MODULES}/mod_dir.so
{extra}
# One worker process. Started as root (as CI runs it), Apache serves as
# www-data; started as another user, it stays that user.
StartServers 1
ServerLimit 1
ThreadLimit 16
ThreadsPerChild 16
MaxRequestWorkers 16
MinSpareThreads 1
MaxSpareThreads 16
User www-data
Group www-data

DocumentRoot "{dir}/htdocs"
DirectoryIndex index.html

"#
    )
}

/// A temporary folder for one Apache, with an empty `htdocs`. Apache's worker
/// serves as www-data when started as root: it must reach what is inside
/// the (otherwise 0700) folder, so the folder is 0755.
pub(crate) fn workdir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::create_dir_all(dir.path().join("htdocs")).unwrap();
    dir
}

/// Asserts that Apache and the given module are installed, naming the
/// Debian package that brings the module.
pub(crate) fn require_module(file: &str, package: &str) {
    assert!(
        Path::new(APACHE).exists() && Path::new(MODULES).join(file).exists(),
        "{APACHE} or {file} is missing: run ./scripts/test (it installs apache2 and {package})"
    );
}

/// Apache in the foreground in its own process group, its error log kept.
/// Dropping it ends the whole group (the parent and its worker).
pub(crate) struct Apache {
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
    /// Disconnects when the error log ends: every process of the group,
    /// each holding the log's pipe, has exited.
    log_closed: std::sync::mpsc::Receiver<()>,
    _dir: tempfile::TempDir,
}

/// Why Apache did not start.
pub(crate) enum StartError {
    /// The port was taken between picking it and Apache binding it.
    PortTaken,
    Other(String),
}

impl Apache {
    /// Starts Apache from `config` (written to `dir/httpd.conf`; `dir` is
    /// kept until Apache is dropped). Returns once Apache's error log says
    /// it serves.
    pub(crate) async fn start(dir: tempfile::TempDir, config: &str) -> Result<Apache, StartError> {
        let config_file = dir.path().join("httpd.conf");
        std::fs::write(&config_file, config).unwrap();

        let mut child = Command::new(APACHE)
            .arg("-DFOREGROUND")
            .arg("-f")
            .arg(&config_file)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {APACHE}: {e}"));

        // A thread reads the error log to its end (Apache would block on a
        // full pipe otherwise) and says once whether Apache serves: at the
        // ready line, or at the end of the log (Apache exited).
        let log = Arc::new(Mutex::new(Vec::new()));
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel::<bool>();
        let (closed_tx, log_closed) = std::sync::mpsc::channel::<()>();
        let stderr = child.stderr.take().unwrap();
        let kept = log.clone();
        std::thread::spawn(move || {
            let _closed_tx = closed_tx;
            let mut ready_tx = Some(ready_tx);
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                let ready = line.contains(READY);
                kept.lock().unwrap().push(line);
                if ready && let Some(tx) = ready_tx.take() {
                    let _ = tx.send(true);
                }
            }
            if let Some(tx) = ready_tx.take() {
                let _ = tx.send(false);
            }
        });

        let apache = Apache { child, log, log_closed, _dir: dir };
        match tokio::time::timeout(STARTUP, ready_rx).await {
            Ok(Ok(true)) => Ok(apache),
            Ok(_) => {
                let log = apache.log();
                if log.contains("could not bind") || log.contains("Address already in use") {
                    Err(StartError::PortTaken)
                } else {
                    Err(StartError::Other(format!("it exited; its error log:\n{log}")))
                }
            }
            Err(_) => Err(StartError::Other(format!(
                "no '{READY}' within {} s; its error log:\n{}",
                STARTUP.as_secs(),
                apache.log()
            ))),
        }
    }

    /// Apache's error log so far.
    pub(crate) fn log(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    /// Sends `signal` to Apache's whole process group.
    fn signal_group(&self, signal: &str) {
        // std can only SIGKILL its own child, not a group; bash's kill can.
        let _ = Command::new("bash")
            .args(["-c", &format!("kill -s {signal} -- -{}", self.child.id())])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

impl Drop for Apache {
    fn drop(&mut self) {
        // SIGTERM to the group: Apache's parent stops its worker and exits.
        // The end of the error log says every process of the group is gone;
        // one still running after a bound gets SIGKILL instead.
        self.signal_group("TERM");
        if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = self.log_closed.recv_timeout(Duration::from_secs(10)) {
            self.signal_group("KILL");
        }
        let _ = self.child.wait();
    }
}

/// A port of 127.0.0.1 that was free a moment ago.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Sets up a test whose suite target names Apache's port, so the port is
/// picked first: by binding port 0 and letting it go. `start_on_port` builds
/// the suite for the port and starts Apache on it. Another process may take
/// the port before Apache binds it; Apache then exits saying so, and the
/// whole set-up starts again, three times at the most. Returns what
/// `start_on_port` made and the port.
pub(crate) async fn start_on_a_free_port<Started>(
    mut start_on_port: impl AsyncFnMut(u16) -> Result<Started, StartError>,
) -> (Started, u16) {
    for _ in 0..3 {
        let port = free_port();
        match start_on_port(port).await {
            Ok(started) => return (started, port),
            Err(StartError::PortTaken) => continue,
            Err(StartError::Other(why)) => panic!("Apache did not start: {why}"),
        }
    }
    panic!("Apache did not start: three ports in a row were taken before it bound them")
}

/// Runs the suite's checks of `protocol` against the SP module in `apache`
/// and returns the verdict table. The table and Apache's error log are
/// printed (shown only when the test fails: what the module logged for each
/// refusal); then Apache is dropped, which ends its process group, and
/// nothing may listen on its port any more.
pub(crate) async fn run_checks_and_stop(suite: &Arc<Suite>, apache: Apache, port: u16, protocol: Protocol) -> String {
    let results = suite.run(checks_for(protocol), |_| {}).await;
    let table = verdict_table(&results);
    eprintln!("verdicts:\n{table}\nApache's error log:\n{}", apache.log());
    drop(apache);
    assert_port_closed(port);
    table
}

/// Asserts that nothing listens on `port` any more (after Apache was dropped).
fn assert_port_closed(port: u16) {
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "Apache still listens on 127.0.0.1:{port} after it was dropped"
    );
}

fn verdict_name(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Pass => "pass",
        Verdict::Fail => "fail",
        Verdict::Warn => "warn",
        Verdict::Skip => "skip",
        Verdict::Error => "error",
    }
}

/// One line per check: id, verdict and reason, in columns.
fn verdict_table(results: &[CheckResult]) -> String {
    let width = results.iter().map(|r| r.id.len()).max().unwrap_or(0);
    results.iter().map(|r| format!("{:<width$} {:<5} {}\n", r.id, verdict_name(r.verdict), r.reason)).collect()
}
