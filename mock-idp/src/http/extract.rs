//! Extractors that refuse a request in its endpoint's own error format.
//!
//! axum's own extractors answer a body over [`super::MAX_BODY_BYTES`], a
//! query string that does not parse or a form with the wrong content type
//! in plain text. Okta never does: the management API answers with its
//! error envelope, OAuth endpoints with RFC 6749's error JSON, and browser
//! endpoints with an error page. Each extractor here wraps axum's and turns
//! its rejection into the matching [`HttpError`], keeping axum's status
//! (413, 400, 415) and its explanation.

use axum::Form;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::HttpError;
use crate::admin::OktaApiError;

/// A management API body: a refused body is Okta's `E0000003` envelope.
pub(super) struct ApiBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for ApiBody {
    type Rejection = HttpError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        Bytes::from_request(request, state).await.map(ApiBody).map_err(|rejection| {
            let mut error = OktaApiError::malformed_body(rejection.body_text());
            error.status = rejection.status().as_u16();
            HttpError::Api(error)
        })
    }
}

/// A management API query string: one that does not parse is Okta's
/// `E0000001` validation envelope.
pub(super) struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(value)| ApiQuery(value))
            .map_err(|rejection| HttpError::Api(OktaApiError::validation("query", rejection.body_text())))
    }
}

/// The body of a back-channel OAuth request (token, introspection,
/// revocation, userinfo): a refused body is `invalid_request` JSON.
pub(super) struct OAuthBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for OAuthBody {
    type Rejection = HttpError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        Bytes::from_request(request, state).await.map(OAuthBody).map_err(|rejection| HttpError::OAuthRequestRejected {
            status: rejection.status(),
            description: rejection.body_text(),
        })
    }
}

/// The body of a browser request: a refused body is an error page.
pub(super) async fn page_body<S: Send + Sync>(request: Request, state: &S) -> Result<Bytes, HttpError> {
    Bytes::from_request(request, state)
        .await
        .map_err(|rejection| page_rejected(rejection.status(), rejection.body_text()))
}

/// The query string of a browser request: one that does not parse is an
/// error page.
pub(super) struct PageQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for PageQuery<T> {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(value)| PageQuery(value))
            .map_err(|rejection| page_rejected(rejection.status(), rejection.body_text()))
    }
}

/// The form of a browser POST: a refused form (too large, wrong content
/// type, fields that do not parse) is an error page.
pub(super) struct PageForm<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for PageForm<T> {
    type Rejection = HttpError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        Form::<T>::from_request(request, state)
            .await
            .map(|Form(value)| PageForm(value))
            .map_err(|rejection| page_rejected(rejection.status(), rejection.body_text()))
    }
}

fn page_rejected(status: StatusCode, detail: String) -> HttpError {
    HttpError::PageRequestRejected { status, detail }
}
