//! The suite's own behaviour, whatever the SP: the catalogue pinned, the
//! oracle's outages reported as errors, and checks skipped for what the
//! target does not declare.

use std::collections::BTreeSet;

use conformance::catalogue::{Protocol, all_checks, catalogue_json, checks_for};
use conformance::runner::Verdict;
use reference_sp::flaws::Flaw;

use crate::support::{Tenant, run_against_tenant, run_with_sp_config_edit, run_with_target_edit};

#[test]
fn the_whole_catalogue_is_pinned() {
    // Ids, titles, protocols, categories, severities, references and needs:
    // any change to the catalogue shows up here for review.
    insta::assert_snapshot!("catalogue", catalogue_json(&all_checks()));
}

#[test]
fn the_saml_catalogue_keeps_its_66_checks() {
    assert_eq!(checks_for(Protocol::Saml).len(), 66);
    assert_eq!(all_checks().iter().filter(|c| c.protocol() == Protocol::Saml).count(), 66);
}

/// A session URL that always answers 503, on a port of its own.
async fn unavailable_session_url() -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/whoami", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buffer = [0u8; 4096];
                let _ = stream.read(&mut buffer).await;
                let _ = stream
                    .write_all(
                        b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 4\r\nconnection: close\r\n\r\nbusy",
                    )
                    .await;
            });
        }
    });
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_url_answering_503_makes_checks_errors_never_passes() {
    let session_url = unavailable_session_url().await;
    // The SP accepts unsigned responses: were a 503 read as "no session",
    // saml.sig.unsigned would pass against an SP that accepts forgeries.
    let checks = conformance::select(Some("saml.sig.*"), None).unwrap();
    let run = run_with_target_edit(Tenant::Jit, &[Flaw::AcceptUnsigned], checks, None, |text| {
        let start = text.find("\nurl = \"http://127.0.0.1:").unwrap() + 1;
        let end = start + text[start..].find('\n').unwrap();
        format!("{}url = \"{session_url}\"{}", &text[..start], &text[end..])
    })
    .await;
    assert!(!run.results.is_empty());
    // saml.sig.assertion_wanted is skipped before any request is sent: the
    // reference tenant does not declare WantAssertionsSigned.
    for result in run.results.iter().filter(|r| r.id != "saml.sig.assertion_wanted") {
        assert_eq!(result.verdict, Verdict::Error, "{}: {}", result.id, result.reason);
        assert!(result.reason.contains("answered 503"), "{}: {}", result.id, result.reason);
    }
}

/// How the oracle proxy answers after its first (forwarded) request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum AfterFirst {
    /// Forward every request: the SP's own answers.
    Forward,
    /// 503 Service Unavailable.
    Unavailable,
    /// A 200 whose body stops part-way and the connection is reset.
    CutBody,
}

/// A session URL in front of the SP's: it forwards the first request (the
/// positive control) with its cookies, then answers as `after` says, so the
/// oracle's answer after the forged message is the one that goes wrong.
async fn oracle_proxy(upstream: String, after: AfterFirst) -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/whoami", listener.local_addr().unwrap());
    let seen = std::sync::Arc::new(AtomicUsize::new(0));
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let upstream = upstream.clone();
            let number = seen.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buffer = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    let Ok(read) = stream.read(&mut buffer).await else { return };
                    if read == 0 {
                        return;
                    }
                    head.extend_from_slice(&buffer[..read]);
                }
                let head = String::from_utf8_lossy(&head).into_owned();
                let cookie = head
                    .lines()
                    .find_map(|line| line.split_once(':').filter(|(name, _)| name.eq_ignore_ascii_case("cookie")))
                    .map(|(_, value)| value.trim().to_owned());
                if number == 0 || after == AfterFirst::Forward {
                    let mut request = reqwest::Client::new().get(&upstream);
                    if let Some(cookie) = cookie {
                        request = request.header("cookie", cookie);
                    }
                    let answer = request.send().await.unwrap();
                    let status = answer.status().as_u16();
                    let body = answer.text().await.unwrap();
                    let reply = format!(
                        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = stream.write_all(reply.as_bytes()).await;
                } else if after == AfterFirst::Unavailable {
                    let _ = stream
                        .write_all(
                            b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                        )
                        .await;
                } else {
                    let _ = stream
                        .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n{\"email\": ")
                        .await;
                    let _ = stream.flush().await;
                    let _ = stream.set_zero_linger();
                }
            });
        }
    });
    url
}

/// Runs `saml.sig.unsigned` against an SP that accepts unsigned responses,
/// with the oracle behind the proxy.
async fn unsigned_check_through_proxy(after: AfterFirst) -> conformance::runner::CheckResult {
    let checks = conformance::select(Some("saml.sig.unsigned"), None).unwrap();
    let run = crate::support::run_with_oracle_proxy(Flaw::AcceptUnsigned, checks, move |upstream| {
        Box::pin(oracle_proxy(upstream, after))
    })
    .await;
    run.results.into_iter().next().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oracle_that_fails_after_the_forged_message_makes_an_error_not_a_pass() {
    // Forwarding throughout, the flaw is caught: the proxy itself is sound.
    let forwarded = unsigned_check_through_proxy(AfterFirst::Forward).await;
    assert_eq!(forwarded.verdict, Verdict::Fail, "{}", forwarded.reason);
    let unavailable = unsigned_check_through_proxy(AfterFirst::Unavailable).await;
    assert_eq!(unavailable.verdict, Verdict::Error, "{}", unavailable.reason);
    assert!(unavailable.reason.contains("answered 503"), "{}", unavailable.reason);
    let cut = unsigned_check_through_proxy(AfterFirst::CutBody).await;
    assert_eq!(cut.verdict, Verdict::Error, "{}", cut.reason);
    assert!(cut.reason.contains("cannot be judged"), "{}", cut.reason);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sp_that_keeps_no_accounts_skips_the_account_checks_with_reasons() {
    let run = run_with_target_edit(Tenant::Jit, &[], checks_for(Protocol::Saml), None, |text| {
        text.replace("jit = true\n", "jit = true\nkeeps_accounts = false\n")
    })
    .await;
    let account_checks: BTreeSet<&str> =
        ["saml.account.unknown_user", "saml.account.email_case", "saml.account.outside_domain"].into();
    // The encrypted-assertion checks skip too: the reference tenant has no
    // encryption key.
    // So does saml.sig.assertion_wanted: the tenant does not declare
    // WantAssertionsSigned; the Single Logout checks: the target
    // declares no SLO endpoints; and saml.authn_request.signed: nothing
    // says the SP signs its AuthnRequests.
    let encryption_checks: BTreeSet<&str> = [
        "saml.authn_request.signed",
        "saml.enc.signed",
        "saml.enc.unsigned_encrypted",
        "saml.enc.legacy_algorithms",
        "saml.sig.assertion_wanted",
        "saml.slo.sp_initiated",
        "saml.slo.wrapped_signature",
    ]
    .into();
    assert_eq!(run.skipped(), &account_checks | &encryption_checks);
    for result in run.results.iter().filter(|r| r.verdict == Verdict::Skip && account_checks.contains(r.id)) {
        assert!(result.reason.contains("keeps no accounts"), "{}: {}", result.id, result.reason);
    }
    let bad = run.described(|r| !matches!(r.verdict, Verdict::Pass | Verdict::Skip));
    assert!(bad.is_empty(), "{bad:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_and_family_name_pointers_judge_the_attributes() {
    // The reference SP's session shows only the whole name, so pointers to
    // given and family names it lacks must fail the check, with the reason.
    let checks = conformance::select(Some("saml.attr.session"), None).unwrap();
    let run = run_with_target_edit(Tenant::Jit, &[], checks, None, |text| {
        text.replace(
            "name_pointer = \"/name\"",
            "given_name_pointer = \"/given_name\"\nfamily_name_pointer = \"/family_name\"",
        )
    })
    .await;
    let result = &run.results[0];
    assert_eq!(result.verdict, Verdict::Fail, "{}", result.reason);
    assert!(result.reason.contains("the given name is ''"), "{}", result.reason);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_url_without_the_identity_says_which_keys_it_has() {
    let checks = conformance::select(Some("saml.sso.idp_initiated"), None).unwrap();
    let run = run_with_target_edit(Tenant::Jit, &[], checks, None, |text| {
        text.replace("json_pointer = \"/email\"", "json_pointer = \"/mail\"")
    })
    .await;
    let result = &run.results[0];
    assert_eq!(result.verdict, Verdict::Error);
    assert!(result.reason.contains("without /mail; the keys it has are"), "{}", result.reason);
    assert!(result.reason.contains("/email"), "{}", result.reason);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oidc_only_target_needs_no_saml_app_and_skips_the_saml_checks() {
    let idp = std::sync::Arc::new(mock_idp::setup::IdpOptions::default().build().unwrap());
    idp.write_org(|org| org.apps.retain(|_, app| app.saml().is_none()));
    let text = "[idp]\nlisten = \"127.0.0.1:0\"\n[oidc]\napp = \"reference-sp-oidc\"\n\
                [session]\nurl = \"http://127.0.0.1:9/whoami\"\njson_pointer = \"/email\"\n";
    let target = conformance::target::parse_target("oidc-only.toml", text, std::path::Path::new(".")).unwrap();
    let suite = std::sync::Arc::new(conformance::runner::Suite::with_idp(target, idp).await.unwrap());
    let results = suite.run(checks_for(Protocol::Saml), |_| {}).await;
    assert_eq!(results.len(), checks_for(Protocol::Saml).len());
    for result in &results {
        assert_eq!(result.verdict, Verdict::Skip, "{}", result.id);
        assert_eq!(result.reason, "the target declares no [saml] section", "{}", result.id);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_naming_an_app_of_the_wrong_kind_lists_the_right_kind() {
    let idp = std::sync::Arc::new(mock_idp::setup::IdpOptions::default().build().unwrap());
    let text = "[idp]\nlisten = \"127.0.0.1:0\"\n[oidc]\napp = \"reference-sp\"\n\
                [session]\nurl = \"http://127.0.0.1:9/whoami\"\njson_pointer = \"/email\"\n";
    let target = conformance::target::parse_target("wrong-kind.toml", text, std::path::Path::new(".")).unwrap();
    let Err(error) = conformance::runner::Suite::with_idp(target, idp).await else {
        panic!("a SAML app accepted as the OIDC client")
    };
    let message = error.to_string();
    assert!(message.starts_with("wrong-kind.toml: oidc.app: no OIDC app 'reference-sp' in the org"), "{message}");
    assert!(message.contains("reference-sp-oidc"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canaries_reach_the_org_change_feed_like_any_user() {
    // The provisioning engine will learn of users from the IdP's change
    // feed, so the suite's canaries must go through it too.
    let idp = std::sync::Arc::new(mock_idp::setup::IdpOptions::default().build().unwrap());
    let mut feed = idp.subscribe_changes();
    let checks = conformance::select(Some("saml.sso.idp_initiated"), None).unwrap();
    let run = crate::support::run_with_idp(Tenant::Jit, idp, checks).await;
    assert_eq!(run.results[0].verdict, Verdict::Pass, "{}", run.results[0].reason);
    let mut kinds = Vec::new();
    while let Ok(change) = feed.try_recv() {
        kinds.push(format!("{change:?}").split([' ', '{']).next().unwrap_or_default().to_owned());
    }
    for expected in ["UserCreated", "AssignedToApp", "GroupMembershipChanged"] {
        assert!(kinds.iter().any(|k| k == expected), "{expected} missing from {kinds:?}");
    }
}

/// The target with `line` added to its `[saml]` section, after the SP's
/// address is in it (`{sp}` stands for the SP's base URL).
fn with_saml_line(text: String, line: &str) -> String {
    let login = text.lines().find(|l| l.starts_with("login_url = \"")).unwrap().to_owned();
    let sp = login.trim_start_matches("login_url = \"").split("/login").next().unwrap().to_owned();
    text.replacen(&login, &format!("{login}\n{}", line.replace("{sp}", &sp)), 1)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sp_that_declares_want_assertions_signed_is_not_failed_for_refusing_a_response_only_signature() {
    let checks = conformance::select(Some("saml.sig.response_only"), None).unwrap();
    let flaw = [Flaw::RequireSignedAssertion];
    // Declared in the target.
    let run = run_with_target_edit(Tenant::Jit, &flaw, checks.clone(), None, |text| {
        with_saml_line(text, "want_assertions_signed = true")
    })
    .await;
    assert_eq!(run.results[0].verdict, Verdict::Skip, "{}", run.results[0].reason);
    assert!(run.results[0].reason.contains("WantAssertionsSigned (in the target)"), "{}", run.results[0].reason);
    // Read from the SP's metadata, which declares it when the tenant wants
    // signed Assertions.
    let run = crate::support::run_configured_with(
        Tenant::Jit,
        &flaw,
        checks.clone(),
        |text| with_saml_line(text, "metadata_url = \"{sp}/sso/metadata/acme\""),
        crate::flaws::acme_wants_assertions_signed,
    )
    .await;
    assert_eq!(run.results[0].verdict, Verdict::Skip, "{}", run.results[0].reason);
    assert!(run.results[0].reason.contains("in its metadata"), "{}", run.results[0].reason);
    // The target's word wins over the metadata, and undeclared the refusal fails.
    let run = run_with_target_edit(Tenant::Jit, &flaw, checks.clone(), None, |text| {
        with_saml_line(text, "metadata_url = \"{sp}/sso/metadata/acme\"\nwant_assertions_signed = false")
    })
    .await;
    assert_eq!(run.results[0].verdict, Verdict::Fail, "{}", run.results[0].reason);
    // Metadata that cannot be read makes the check an error, not a guess.
    let run = run_with_target_edit(Tenant::Jit, &flaw, checks, None, |text| {
        with_saml_line(text, "metadata_url = \"{sp}/no-such-metadata\"")
    })
    .await;
    assert_eq!(run.results[0].verdict, Verdict::Error, "{}", run.results[0].reason);
    assert!(run.results[0].reason.contains("metadata could not be read"), "{}", run.results[0].reason);
}

/// The rotation checks rotate the keys of the suite's in-process IdP; the
/// key folder the user gave must stay as it was, and discovery is served
/// no-cache so that a relying party refetches it during a check.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_suite_rotates_keys_in_memory_and_leaves_the_key_folder_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let text = "[idp]\nlisten = \"127.0.0.1:0\"\n[oidc]\napp = \"reference-sp-oidc\"\n\
                [session]\nurl = \"http://127.0.0.1:9/whoami\"\njson_pointer = \"/email\"\n";
    let target = conformance::target::parse_target("oidc-only.toml", text, std::path::Path::new(".")).unwrap();
    let suite = conformance::runner::Suite::start(target, Some(dir.path().to_path_buf())).await.unwrap();
    let server = mock_idp::oidc::ServerRef::Org;
    let first = suite.idp().signing_keys(&server).unwrap();
    let contents = || {
        let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_file())
            .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&p).unwrap()))
            .collect();
        files.sort();
        files
    };
    let before = contents();
    assert!(before.iter().any(|(name, _)| name.ends_with(".ring.json")), "{:?}", before.iter().map(|f| &f.0));
    suite.idp().rotate_keys(&server, false).unwrap();
    suite.idp().rotate_keys(&server, true).unwrap();
    assert_ne!(suite.idp().signing_keys(&server).unwrap()[0].jwk, first[0].jwk, "the keys did rotate");
    assert_eq!(contents(), before, "a rotation by the suite changed the key folder");
    assert_eq!(suite.idp().discovery_cache_control().as_deref(), Some("no-cache"));
    suite.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sp_sending_its_authn_request_by_http_post_gets_the_same_saml_verdicts_as_by_redirect() {
    // Spring Security posts its AuthnRequest when the IdP's metadata lists
    // the POST binding first, as Okta's does; the suite must follow the
    // SP's auto-submitting form rather than call it a refusal.
    let by_redirect = run_against_tenant(Tenant::Jit, &[], checks_for(Protocol::Saml)).await;
    let by_post = run_with_sp_config_edit(Tenant::Jit, &[], checks_for(Protocol::Saml), |config| {
        config.replacen(
            "allow_idp_initiated = true\n",
            "allow_idp_initiated = true\nauthn_request_binding = \"post\"\n",
            1,
        )
    })
    .await;
    let verdicts = |run: &crate::support::Run| -> Vec<(&'static str, Verdict)> {
        run.results.iter().map(|r| (r.id, r.verdict)).collect()
    };
    assert_eq!(verdicts(&by_post), verdicts(&by_redirect), "{}", by_post.explain());
    let sp_initiated = by_post.results.iter().find(|r| r.id == "saml.sso.sp_initiated").unwrap();
    assert_eq!(sp_initiated.verdict, Verdict::Pass, "{}", sp_initiated.reason);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sp_that_refuses_unsolicited_responses_by_declaration_is_checked_for_the_refusal() {
    let declared_off = |target: String| target.replacen("[saml]\n", "[saml]\nidp_initiated = false\n", 1);
    let only_idp_initiated =
        || checks_for(Protocol::Saml).into_iter().filter(|c| c.id == "saml.sso.idp_initiated").collect::<Vec<_>>();
    // The SP really refuses them: the check passes, where it would fail an
    // SP that is meant to take them.
    let refusing = |config: String| config.replacen("allow_idp_initiated = true\n", "allow_idp_initiated = false\n", 1);
    let run = crate::support::run_configured_with(Tenant::Jit, &[], only_idp_initiated(), declared_off, refusing).await;
    assert_eq!(run.results[0].verdict, Verdict::Pass, "{}", run.results[0].reason);
    assert!(run.results[0].reason.contains("as the target declares"), "{}", run.results[0].reason);
    let undeclared = run_with_sp_config_edit(Tenant::Jit, &[], only_idp_initiated(), refusing).await;
    assert_eq!(undeclared.results[0].verdict, Verdict::Fail, "{}", undeclared.results[0].reason);
    // The SP takes them after all: the declaration is not what it does.
    let run = run_with_target_edit(Tenant::Jit, &[], only_idp_initiated(), None, declared_off).await;
    assert_eq!(run.results[0].verdict, Verdict::Fail, "{}", run.results[0].reason);
    assert!(run.results[0].reason.contains("saml.idp_initiated = false"), "{}", run.results[0].reason);
}
