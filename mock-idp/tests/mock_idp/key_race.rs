//! Keys made on first use are made once: concurrent first requests to a
//! fresh key directory all get the same certificate and the same key ring,
//! whether they race inside one IdP or between two IdPs (as two processes
//! sharing a key directory would). A key whose certificate file was lost gets
//! its certificate made once again in the same way.

use std::collections::BTreeSet;
use std::sync::{Arc, Barrier};

use mock_idp::http::RunningServer;
use mock_idp::idp::{Idp, IdpConfig, KeySource};
use mock_idp::ids::AppId;
use mock_idp::keys::{KeyStore, pem_body};
use mock_idp::oidc::ServerRef;
use serde_json::Value;

use crate::support::{client, org};

const CONCURRENT_REQUESTS: usize = 16;
const SAML_APP: &str = "0oarefsp000000000001";
const SAML_APP_KEY: &str = "exkrefsp000000000001";

fn idp_over(dir: &std::path::Path) -> Arc<Idp> {
    let config = IdpConfig::serving(org(), KeySource::Directory(KeyStore::new(dir))).unwrap();
    Arc::new(Idp::new(config))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_first_requests_to_a_fresh_key_directory_see_one_certificate_and_one_key_ring() {
    let dir = tempfile::tempdir().unwrap();
    let idp = idp_over(dir.path());
    let server = RunningServer::start("127.0.0.1:0".parse().unwrap(), idp).await.unwrap();
    let client = client();
    let metadata_url = format!("{}/app/{SAML_APP_KEY}/sso/saml/metadata", server.url());
    let jwks_url = format!("{}/oauth2/default/v1/keys", server.url());
    let mut requests = tokio::task::JoinSet::new();
    for index in 0..CONCURRENT_REQUESTS * 2 {
        let client = client.clone();
        let (url, is_metadata) = if index % 2 == 0 { (metadata_url.clone(), true) } else { (jwks_url.clone(), false) };
        requests.spawn(async move {
            let response = client.get(url).send().await.unwrap();
            assert!(response.status().is_success(), "{}", response.status());
            let text = response.text().await.unwrap();
            if is_metadata {
                let start = text.find("<ds:X509Certificate>").unwrap();
                let end = text.find("</ds:X509Certificate>").unwrap();
                (true, text[start..end].to_owned())
            } else {
                let jwks: Value = serde_json::from_str(&text).unwrap();
                let mut kids: Vec<String> =
                    jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap().to_owned()).collect();
                kids.sort();
                (false, kids.join(","))
            }
        });
    }
    let mut certificates = BTreeSet::new();
    let mut key_rings = BTreeSet::new();
    while let Some(result) = requests.join_next().await {
        let (is_metadata, seen) = result.unwrap();
        if is_metadata {
            certificates.insert(seen);
        } else {
            key_rings.insert(seen);
        }
    }
    assert_eq!(certificates.len(), 1, "every first request saw the same certificate: {certificates:?}");
    assert_eq!(key_rings.len(), 1, "every first request saw the same key ring: {key_rings:?}");
    server.stop().await.unwrap();
}

#[test]
fn two_idps_sharing_a_fresh_key_directory_make_each_key_once() {
    let dir = tempfile::tempdir().unwrap();
    let app = AppId::parse(SAML_APP).unwrap();
    let server = ServerRef::Custom("default".into());
    let results: Vec<(Vec<u8>, Value)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..CONCURRENT_REQUESTS)
            .map(|_| {
                let idp = idp_over(dir.path());
                let (app, server) = (app.clone(), server.clone());
                scope.spawn(move || {
                    let certificate = idp.saml_credential(&app).unwrap().cert_der.to_vec();
                    let (jwks, _) = idp.jwks(&server).unwrap();
                    (certificate, jwks)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let certificates: BTreeSet<&Vec<u8>> = results.iter().map(|(c, _)| c).collect();
    let key_rings: BTreeSet<String> = results.iter().map(|(_, jwks)| jwks.to_string()).collect();
    assert_eq!(certificates.len(), 1, "one certificate for the app");
    assert_eq!(key_rings.len(), 1, "one key ring for the server");
}

/// The certificate made again from a stored key names the org, so IdPs of
/// differently named orgs that share a key directory would each make their
/// own. All of them must use the one certificate that was stored first.
#[test]
fn concurrent_callers_that_find_a_certificate_missing_all_use_the_one_stored() {
    let dir = tempfile::tempdir().unwrap();
    let app = AppId::parse(SAML_APP).unwrap();
    idp_over(dir.path()).saml_credential(&app).unwrap();
    let certificate_path = dir.path().join(format!("saml-{SAML_APP}.cert.pem"));
    std::fs::remove_file(&certificate_path).unwrap();
    let idps: Vec<Arc<Idp>> = (0..CONCURRENT_REQUESTS)
        .map(|index| {
            let idp = idp_over(dir.path());
            idp.write_org(|org| org.name = format!("org number {index}"));
            idp
        })
        .collect();
    let everyone_ready = Barrier::new(CONCURRENT_REQUESTS);
    let certificates: BTreeSet<Vec<u8>> = std::thread::scope(|scope| {
        let handles: Vec<_> = idps
            .iter()
            .map(|idp| {
                let (app, everyone_ready) = (&app, &everyone_ready);
                scope.spawn(move || {
                    everyone_ready.wait();
                    idp.saml_credential(app).unwrap().cert_der.to_vec()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(certificates.len(), 1, "every caller uses one certificate, not {}", certificates.len());
    let stored = pem_body(&std::fs::read_to_string(&certificate_path).unwrap()).unwrap();
    assert!(certificates.contains(&stored), "the certificate in use is the one stored");
}
