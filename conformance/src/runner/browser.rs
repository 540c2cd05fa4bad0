//! The suite's browser, shared by every protocol's driver: a cookie jar,
//! redirects followed only on request and at most a few times, bodies read
//! up to a cap, and the target's timeout on every request. Transport
//! failures say what went wrong (a timeout, a refused connection, a reset),
//! because "error sending request" tells a reader nothing.

use std::time::Duration;

use super::{Step, StepError};

/// The most of a response body kept (and read) from the SP.
pub(super) const MAX_BODY: usize = 64 * 1024;
/// The most of a page from the mock IdP kept: its auto-post form carries the
/// whole SAMLResponse, which the oversized fault pads to several MB
/// (attacks.md S-31), and a cut form could not be posted at all.
pub(super) const MAX_IDP_PAGE: usize = 8 * 1024 * 1024;
/// The most redirects [`Browser::follow`] takes before it gives up.
pub(super) const MAX_REDIRECTS: usize = 5;

/// The SP's answer to one request.
#[derive(Clone, Debug)]
pub(super) struct SpAnswer {
    pub(super) status: u16,
    pub(super) location: Option<String>,
    /// The SP's `x-error-code` header, where it sends one.
    pub(super) error_code: Option<String>,
    pub(super) body: String,
}

/// One browser: its own cookies, the target's timeout.
pub(super) struct Browser {
    client: reqwest::Client,
    timeout: Duration,
    /// The cookie jar, kept so that a check can read which cookies the
    /// browser holds for a URL and give a fresh browser some of them.
    jar: std::sync::Arc<reqwest::cookie::Jar>,
}

impl Browser {
    #[cfg(test)]
    pub(super) fn new(timeout: Duration) -> Step<Browser> {
        Self::trusting(timeout, None)
    }

    /// A browser that also trusts `extra_root`: the mock's local CA when the
    /// suite serves it over TLS, as a user's browser would after they
    /// trusted it.
    pub(super) fn trusting(timeout: Duration, extra_root: Option<&reqwest::Certificate>) -> Step<Browser> {
        let mut builder = reqwest::Client::builder();
        if let Some(root) = extra_root {
            builder = builder.add_root_certificate(root.clone());
        }
        let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
        let client = builder
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .build()
            .map_err(|e| StepError(format!("cannot make a browser: {e}")))?;
        Ok(Browser { client, timeout, jar })
    }

    /// The cookies (name and value) this browser would send to `url`.
    pub(super) fn cookies_for(&self, url: &str) -> Vec<(String, String)> {
        use reqwest::cookie::CookieStore;
        let Ok(parsed) = url::Url::parse(url) else { return Vec::new() };
        let header = self.jar.cookies(&parsed);
        let text = header.as_ref().and_then(|h| h.to_str().ok()).unwrap_or_default();
        text.split("; ")
            .filter_map(|pair| pair.split_once('='))
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect()
    }

    /// Gives this browser `cookies` for `url`'s site (path `/`).
    pub(super) fn add_cookies(&self, url: &str, cookies: &[(String, String)]) -> Step<()> {
        let parsed = url::Url::parse(url).map_err(|e| StepError(format!("'{url}' is not a URL: {e}")))?;
        for (name, value) in cookies {
            self.jar.add_cookie_str(&format!("{name}={value}; Path=/"), &parsed);
        }
        Ok(())
    }

    pub(super) async fn get(&self, url: &str) -> Step<SpAnswer> {
        let response = self.client.get(url).send().await.map_err(|e| transport_error("GET", url, self.timeout, &e))?;
        Ok(answer(response, self.timeout).await)
    }

    pub(super) async fn post_form(&self, url: &str, form: &[(&str, &str)]) -> Step<SpAnswer> {
        self.post_form_up_to(url, form, MAX_BODY).await
    }

    /// As [`Browser::get`], for a page of the mock IdP, read up to
    /// [`MAX_IDP_PAGE`].
    pub(super) async fn get_idp_page(&self, url: &str) -> Step<SpAnswer> {
        let response = self.client.get(url).send().await.map_err(|e| transport_error("GET", url, self.timeout, &e))?;
        Ok(answer_up_to(response, MAX_IDP_PAGE, self.timeout).await)
    }

    /// As [`Browser::post_form`], for a page of the mock IdP, read up to
    /// [`MAX_IDP_PAGE`].
    pub(super) async fn post_form_idp_page(&self, url: &str, form: &[(&str, &str)]) -> Step<SpAnswer> {
        self.post_form_up_to(url, form, MAX_IDP_PAGE).await
    }

    async fn post_form_up_to(&self, url: &str, form: &[(&str, &str)], cap: usize) -> Step<SpAnswer> {
        let mut request = self.client.post(url).form(form);
        // A server may answer a large body early (a 413) while hyper is still
        // writing it; the connection is then half-written, and if the pool
        // kept it the next request (the session oracle's) would fail with
        // the old body's broken pipe. Closing it after this one exchange
        // keeps every later request on a clean connection.
        if form_is_large(form) {
            request = request.header(reqwest::header::CONNECTION, "close");
        }
        let response = match request.send().await {
            Ok(response) => response,
            // A server that refuses a body by its size may answer and close
            // the connection before the client has written it all (the
            // reference SP's 413 does); that is a refusal, not a transport
            // failure.
            Err(error) if closed_while_sending_the_body(&error, form_is_large(form)) => {
                return Ok(SpAnswer {
                    status: CLOSED_WHILE_SENDING,
                    location: None,
                    error_code: None,
                    body: String::new(),
                });
            }
            Err(error) => return Err(transport_error("POST", url, self.timeout, &error)),
        };
        Ok(answer_up_to(response, cap, self.timeout).await)
    }

    /// GETs `url` and follows redirects until `stop` says a location is
    /// where the caller wants to be, or a page answers without a redirect.
    /// Returns every answer in order, the last one first reached by `stop` or
    /// without a redirect. More than [`MAX_REDIRECTS`] hops is an error.
    pub(super) async fn follow(&self, url: &str, stop: impl Fn(&str) -> bool) -> Step<Vec<SpAnswer>> {
        let mut chain = Vec::new();
        let mut next = url.to_owned();
        for _ in 0..=MAX_REDIRECTS {
            let answer = self.get(&next).await?;
            let location = answer.location.clone().filter(|_| (300..400).contains(&answer.status));
            chain.push(answer);
            let Some(location) = location else { return Ok(chain) };
            let absolute = url::Url::parse(&next)
                .and_then(|base| base.join(&location))
                .map(String::from)
                .map_err(|e| StepError(format!("{next} redirected to '{location}', which is not a URL: {e}")))?;
            if stop(&absolute) {
                return Ok(chain);
            }
            next = absolute;
        }
        Err(StepError(format!("{url} redirected more than {MAX_REDIRECTS} times")))
    }

    /// Sends a request built on this browser's client (with its cookies),
    /// with the same error reporting as `get`.
    pub(super) async fn send(&self, what: &str, request: reqwest::RequestBuilder) -> Step<reqwest::Response> {
        request.send().await.map_err(|e| transport_error(what, "", self.timeout, &e))
    }

    /// Sends one SCIM request. A body cut short is an error: a verdict on
    /// a SCIM answer reads all of it.
    pub(super) async fn scim(&self, call: ScimCall<'_>) -> Step<ScimAnswer> {
        let method = reqwest::Method::from_bytes(call.method.as_bytes())
            .map_err(|_| StepError(format!("'{}' is not an HTTP method", call.method)))?;
        let mut request = self.client.request(method, call.url).header(reqwest::header::ACCEPT, call.accept);
        if let Some(user_agent) = call.user_agent {
            request = request.header(reqwest::header::USER_AGENT, user_agent);
        }
        if let Some(authorization) = call.authorization {
            request = request.header(reqwest::header::AUTHORIZATION, authorization);
        }
        if let Some(if_match) = call.if_match {
            request = request.header(reqwest::header::IF_MATCH, if_match);
        }
        if let Some(body) = call.body {
            request = request.header(reqwest::header::CONTENT_TYPE, call.content_type).body(body);
        }
        let response = request.send().await.map_err(|e| transport_error(call.method, call.url, self.timeout, &e))?;
        let status = response.status().as_u16();
        let etag = response.headers().get(reqwest::header::ETAG).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let body = read_body(response, MAX_SCIM_BODY, self.timeout)
            .await
            .whole(&format!("the answer to {} {}", call.method, call.url))?;
        Ok(ScimAnswer { status, etag, body })
    }

    pub(super) fn client(&self) -> &reqwest::Client {
        &self.client
    }

    pub(super) fn timeout(&self) -> Duration {
        self.timeout
    }

    /// A client for the target's hooks: no cookies, at most three
    /// redirects, the target's timeout.
    pub(super) fn for_hooks(timeout: Duration) -> Step<Browser> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::limited(3))
            .timeout(timeout)
            .build()
            .map_err(|e| StepError(format!("cannot make a hook client: {e}")))?;
        // Hooks send no cookies: the jar is never given to the client.
        Ok(Browser { client, timeout, jar: std::sync::Arc::default() })
    }
}

/// The most of a SCIM response body read: a page of a hundred users is
/// larger than a sign-in page.
pub(super) const MAX_SCIM_BODY: usize = 1024 * 1024;

/// One SCIM request as the suite sends it, with the headers Okta's client
/// sends (or, for a check about them, others).
pub(super) struct ScimCall<'a> {
    pub(super) method: &'a str,
    pub(super) url: &'a str,
    /// The whole `Authorization` value; `None` sends none.
    pub(super) authorization: Option<&'a str>,
    /// `None` sends none, as Okta's SPEC test's POSTs do.
    pub(super) user_agent: Option<&'a str>,
    pub(super) accept: &'a str,
    /// The body's media type, sent only with a body.
    pub(super) content_type: &'a str,
    pub(super) if_match: Option<&'a str>,
    pub(super) body: Option<String>,
}

/// The SP's answer to a SCIM request.
#[derive(Clone, Debug)]
pub(super) struct ScimAnswer {
    pub(super) status: u16,
    pub(super) etag: Option<String>,
    pub(super) body: String,
}

/// A body as far as it was read.
pub(super) struct Body {
    pub(super) text: String,
    /// Why the body is not whole: larger than the cap, or the read failed.
    /// A verdict must never rest on such a body.
    pub(super) cut_short: Option<String>,
}

impl Body {
    /// The whole body, or why there is none to judge by.
    pub(super) fn whole(self, what: &str) -> Step<String> {
        match self.cut_short {
            None => Ok(self.text),
            Some(why) => Err(StepError(format!("{what}: {why}, so it cannot be judged"))),
        }
    }
}

/// Says why a request got no answer.
pub(super) fn transport_error(method: &str, url: &str, timeout: Duration, error: &reqwest::Error) -> StepError {
    let target = if url.is_empty() { method.to_owned() } else { format!("{method} {url}") };
    StepError(format!("{target}: {}", describe_transport_error(timeout, error)))
}

/// The status of an [`SpAnswer`] whose server closed the connection while
/// the request body was still being sent: no HTTP status was read.
pub(super) const CLOSED_WHILE_SENDING: u16 = 0;

impl SpAnswer {
    /// "SP answered 413", or that the SP closed the connection before it
    /// had the whole body.
    pub(super) fn answered(&self) -> String {
        if self.status == CLOSED_WHILE_SENDING {
            "the SP closed the connection before taking the whole body".to_owned()
        } else {
            format!("SP answered {}", self.status)
        }
    }
}

/// A form body this large is past any SP's limit for a SAMLResponse, so a
/// connection closed while sending it is the SP refusing it by its size.
const LARGE_FORM: usize = 1024 * 1024;

/// Whether the form's fields (before encoding, so a lower bound of the
/// body) come to [`LARGE_FORM`] or more.
fn form_is_large(form: &[(&str, &str)]) -> bool {
    form.iter().map(|(name, value)| name.len() + value.len()).sum::<usize>() >= LARGE_FORM
}

/// Whether the send failed because the peer closed the connection (a broken
/// pipe or a reset) while hyper was writing the request body. hyper names
/// the body write in its error when the close comes after the headers went
/// out; when the headers and the first part of a large body share a write,
/// the same close has no such name, so for a large body the broken pipe or
/// reset alone is enough.
fn closed_while_sending_the_body(error: &reqwest::Error, large_body: bool) -> bool {
    let mut closed = false;
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(error);
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            closed |= matches!(io.kind(), std::io::ErrorKind::BrokenPipe | std::io::ErrorKind::ConnectionReset);
        }
        source = cause.source();
    }
    closed && (large_body || error_chain(error).contains("writing a body"))
}

/// A timeout, a refused or reset connection, or the error's own chain.
pub(super) fn describe_transport_error(timeout: Duration, error: &reqwest::Error) -> String {
    if error.is_timeout() {
        return format!("timed out after {} s (the target's limits.timeout_seconds)", timeout.as_secs());
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(error);
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            match io.kind() {
                std::io::ErrorKind::ConnectionRefused => return "connection refused (is the SP running?)".into(),
                std::io::ErrorKind::ConnectionReset => return "the connection was reset by the SP".into(),
                std::io::ErrorKind::ConnectionAborted => return "the connection was aborted".into(),
                std::io::ErrorKind::UnexpectedEof => return "the SP closed the connection without answering".into(),
                _ => {}
            }
        }
        source = cause.source();
    }
    // hyper reports a peer that hangs up before answering as an incomplete
    // message, with no io::Error underneath.
    let chain = error_chain(error);
    if chain.contains("connection closed before message completed") || chain.contains("IncompleteMessage") {
        return "the SP closed the connection without answering".into();
    }
    if error.is_connect() {
        return format!("cannot connect: {chain}");
    }
    chain
}

fn error_chain(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Reads at most `limit` bytes of a body, and says whether it was cut short.
pub(super) async fn read_body(mut response: reqwest::Response, limit: usize, timeout: Duration) -> Body {
    let mut body = Vec::new();
    let cut_short = loop {
        match response.chunk().await {
            Ok(None) => break None,
            Ok(Some(chunk)) => {
                body.extend_from_slice(&chunk);
                if body.len() > limit {
                    body.truncate(limit);
                    break Some(format!("the body is larger than {} KiB", limit / 1024));
                }
            }
            Err(error) => {
                break Some(format!("reading the body failed: {}", describe_transport_error(timeout, &error)));
            }
        }
    };
    Body { text: String::from_utf8_lossy(&body).into_owned(), cut_short }
}

async fn answer(response: reqwest::Response, timeout: Duration) -> SpAnswer {
    answer_up_to(response, MAX_BODY, timeout).await
}

async fn answer_up_to(response: reqwest::Response, cap: usize, timeout: Duration) -> SpAnswer {
    let status = response.status().as_u16();
    let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let location = header("location");
    let error_code = header("x-error-code");
    // The client's timeout covers the body too, so a slow body ends there.
    // An SP answer is evidence, not a verdict, so a cut body is kept as it is.
    let body = read_body(response, cap, timeout).await.text;
    SpAnswer { status, location, error_code, body }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    /// A server that accepts, reads the request, and then does `then` with
    /// each connection.
    async fn server(then: fn(tokio::net::TcpStream)) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let mut buffer = [0u8; 1024];
                let _ = stream.read(&mut buffer).await;
                then(stream);
            }
        });
        url
    }

    #[tokio::test]
    async fn a_silent_sp_is_reported_as_a_timeout() {
        // The connection is kept open and never answered.
        let url = server(|stream| {
            tokio::spawn(async move {
                let _keep = stream;
                std::future::pending::<()>().await;
            });
        })
        .await;
        let browser = Browser::new(Duration::from_secs(1)).unwrap();
        let StepError(message) = browser.get(&url).await.unwrap_err();
        assert!(message.contains("timed out after 1 s"), "{message}");
    }

    #[tokio::test]
    async fn a_reset_connection_is_reported_as_reset() {
        let url = server(|stream| {
            // Linger zero makes the close a TCP reset rather than a clean FIN.
            let _ = stream.set_zero_linger();
            drop(stream);
        })
        .await;
        let browser = Browser::new(Duration::from_secs(5)).unwrap();
        let StepError(message) = browser.get(&url).await.unwrap_err();
        assert!(
            message.contains("reset by the SP") || message.contains("closed the connection without answering"),
            "{message}"
        );
        assert!(!message.contains("error sending request"), "{message}");
    }

    #[tokio::test]
    async fn a_body_cut_short_says_so() {
        use tokio::io::AsyncWriteExt;
        let url = server(|mut stream| {
            tokio::spawn(async move {
                let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 500\r\n\r\n{\"email\": ").await;
                let _ = stream.flush().await;
                let _ = stream.set_zero_linger();
            });
        })
        .await;
        let browser = Browser::new(Duration::from_secs(5)).unwrap();
        let response = browser.send("GET", browser.client().get(&url)).await.unwrap();
        let body = read_body(response, MAX_BODY, browser.timeout()).await;
        assert_eq!(body.text, "{\"email\": ");
        let StepError(message) = body.whole("the answer").unwrap_err();
        assert!(message.contains("reading the body failed") && message.contains("cannot be judged"), "{message}");
    }

    #[tokio::test]
    async fn a_body_over_the_cap_is_not_whole() {
        use tokio::io::AsyncWriteExt;
        let url = server(|mut stream| {
            tokio::spawn(async move {
                let body = "x".repeat(MAX_BODY + 10);
                let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n", body.len());
                let _ = stream.write_all(head.as_bytes()).await;
                let _ = stream.write_all(body.as_bytes()).await;
            });
        })
        .await;
        let browser = Browser::new(Duration::from_secs(5)).unwrap();
        let response = browser.send("GET", browser.client().get(&url)).await.unwrap();
        let body = read_body(response, MAX_BODY, browser.timeout()).await;
        assert_eq!(body.text.len(), MAX_BODY);
        assert!(body.cut_short.is_some_and(|why| why.contains("larger than 64 KiB")));
    }

    #[tokio::test]
    async fn a_closed_port_is_reported_as_refused() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        drop(listener);
        let browser = Browser::new(Duration::from_secs(5)).unwrap();
        let StepError(message) = browser.get(&url).await.unwrap_err();
        assert!(message.contains("connection refused"), "{message}");
    }
}
