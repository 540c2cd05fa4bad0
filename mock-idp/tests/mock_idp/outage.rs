//! An outage switched on by a test: the metadata alone, or the whole org,
//! answers 503 until it is switched off again.

use mock_idp::idp::Outage;

use crate::support::Server;

const METADATA: &str = "/app/exkrefsp000000000001/sso/saml/metadata";
const DISCOVERY: &str = "/oauth2/default/.well-known/openid-configuration";
const AUTHORIZE: &str = "/oauth2/default/v1/authorize";

async fn status(server: &Server, path: &str) -> u16 {
    server.client.get(server.url(path)).send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn an_outage_answers_503_where_it_covers_and_ends_when_switched_off() {
    let server = Server::start().await;
    assert_eq!((status(&server, METADATA).await, status(&server, DISCOVERY).await), (200, 200));

    assert_eq!(server.idp.set_outage(Some(Outage::MetadataUnavailable)), None);
    let refused = server.client.get(server.url(METADATA)).send().await.unwrap();
    assert_eq!(refused.status(), 503);
    assert_eq!(refused.headers()["retry-after"], "60");
    assert!(refused.text().await.unwrap().contains("Service Unavailable"));
    assert_eq!(status(&server, DISCOVERY).await, 503, "the discovery document is published metadata too");
    assert_ne!(status(&server, AUTHORIZE).await, 503, "sign-in still works while only the metadata fails");

    assert_eq!(server.idp.set_outage(Some(Outage::Down)), Some(Outage::MetadataUnavailable));
    assert_eq!((status(&server, METADATA).await, status(&server, DISCOVERY).await), (503, 503));
    assert_eq!(status(&server, AUTHORIZE).await, 503);
    let api = server.api(reqwest::Method::GET, "/users").send().await.unwrap();
    assert_eq!(api.status(), 503, "the whole org is down");

    assert_eq!(server.idp.set_outage(None), Some(Outage::Down));
    assert_eq!((status(&server, METADATA).await, status(&server, DISCOVERY).await), (200, 200));
}
