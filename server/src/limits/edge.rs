//! The limits at the edge: which request counts against which limit, and for
//! whom. One middleware in front of every route, after the layers that know
//! the peer's address and the citizen's session, so each domain's handlers
//! stay as they are.
//!
//! | Request | Limit | Counted per |
//! |---|---|---|
//! | `POST /token` | `token` | client id the grant names, at an address |
//! | `POST /drift/logg-inn` | `operator_sign_in` | address |
//! | `GET /auth/login`, `GET /auth/callback` | `login` | address |
//! | `POST /testid/authorize` | `testid` | address |
//! | `POST /rest/v1/personer` | `contact_lookup` | agency |
//! | `POST /messages/out` | `send` | agency |
//! | `POST /mine-dokumenter/last-opp` | `upload` | citizen |
//! | `GET /sok?q=…`, the `search_archive` server function | `search` | citizen |
//! | `GET /eksport/postkasse.zip` | `export` | citizen |
//!
//! A refused request gets 429, `Retry-After` and a problem body. Requests
//! that name no agency or citizen (no token, no session) pass on, to be
//! refused with 401 by the route itself.

use super::{Kind, Limited, Limiter, Subject};
use crate::{
    agency::{maskinporten::named_client, AgencyAccess},
    http::ApiError,
};
use app::api::{
    check::ssr::ClientAddress,
    session::{ActingFor, SignedIn},
};
use axum::{
    body::Body,
    extract::{FromRef, FromRequestParts, Request, State},
    http::Method,
    middleware::Next,
    response::{IntoResponse, Response},
};
use std::sync::Arc;

/// Whom a limited request is counted for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CountedPer {
    Address,
    ClientAtAddress,
    Agency,
    Citizen,
}

/// The limit a request counts against, if any.
fn limit_for(method: &Method, path: &str, query: Option<&str>) -> Option<(Kind, CountedPer)> {
    use CountedPer::*;
    let searches = |query: Option<&str>| {
        query.is_some_and(|query| {
            url::form_urlencoded::parse(query.as_bytes())
                .any(|(name, value)| name == "q" && !value.trim().is_empty())
        })
    };
    Some(match (method, path) {
        (&Method::POST, "/token") => (Kind::Token, ClientAtAddress),
        (&Method::POST, app::api::operator::SIGN_IN_PATH) => (Kind::OperatorSignIn, Address),
        (&Method::GET, "/auth/login" | "/auth/callback") => (Kind::Login, Address),
        (&Method::POST, "/testid/authorize") => (Kind::TestId, Address),
        (&Method::POST, "/rest/v1/personer") => (Kind::ContactLookup, Agency),
        (&Method::POST, "/messages/out") => (Kind::Send, Agency),
        (&Method::POST, "/mine-dokumenter/last-opp") => (Kind::Upload, Citizen),
        (&Method::GET, "/eksport/postkasse.zip") => (Kind::Export, Citizen),
        (&Method::GET, "/sok") if searches(query) => (Kind::Search, Citizen),
        (&Method::GET, path) if path.ends_with("/search_archive") => (Kind::Search, Citizen),
        _ => return None,
    })
}

/// The middleware. The state holds the [`Limiter`] and what checks agencies' tokens.
pub async fn guard<S>(State(state): State<S>, request: Request, next: Next) -> Response
where
    Arc<Limiter>: FromRef<S>,
    Arc<crate::agency::maskinporten::Maskinporten>: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    let Some((kind, per)) = limit_for(
        request.method(),
        request.uri().path(),
        request.uri().query(),
    ) else {
        return next.run(request).await;
    };
    let limiter = Arc::<Limiter>::from_ref(&state);
    let address = request
        .extensions()
        .get::<ClientAddress>()
        .map(|ClientAddress(address)| *address);
    let (request, admitted) = match per {
        CountedPer::Address => {
            let admitted = limiter.admit(kind, &Subject::Address(address)).await;
            (request, admitted)
        }
        CountedPer::ClientAtAddress => {
            let (request, client) = match client_named_in(request).await {
                Ok(read) => read,
                Err(refusal) => return refusal.into_response(),
            };
            let client = client.unwrap_or_default();
            let admitted = limiter
                .admit(kind, &Subject::ClientAt(&client, address))
                .await;
            (request, admitted)
        }
        CountedPer::Agency => {
            let (mut parts, body) = request.into_parts();
            match AgencyAccess::from_request_parts(&mut parts, &state).await {
                Ok(access) => {
                    let org_nr = access.org_nr.to_string();
                    parts.extensions.insert(access);
                    let admitted = limiter.admit(kind, &Subject::Agency(&org_nr)).await;
                    (Request::from_parts(parts, body), admitted)
                }
                // No valid token: the route answers 401 itself.
                Err(_) => (Request::from_parts(parts, body), Ok(())),
            }
        }
        CountedPer::Citizen => {
            let admitted = match citizen_of(&request) {
                Some(fnr) => limiter.admit(kind, &Subject::Citizen(&fnr)).await,
                None => Ok(()),
            };
            (request, admitted)
        }
    };
    match admitted {
        Ok(()) => next.run(request).await,
        Err(limited) => refusal(limited).into_response(),
    }
}

/// The person at the keyboard's own mailbox, or the one they act in.
fn citizen_of(request: &Request) -> Option<String> {
    let extensions = request.extensions();
    extensions
        .get::<SignedIn>()
        .or_else(|| {
            extensions
                .get::<ActingFor>()
                .map(|ActingFor(viewer)| viewer)
        })
        .map(|viewer| viewer.fnr.as_str().to_owned())
}

/// The client id a token request's grant names (not yet verified), and the
/// request with its body put back. The body is a small form; one larger than
/// the token route takes is refused here as it would be there.
async fn client_named_in(request: Request) -> Result<(Request, Option<String>), ApiError> {
    let limit = crate::agency::http::MAX_BODY_BYTES;
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| ApiError::PayloadTooLarge { limit: Some(limit) })?;
    let client = url::form_urlencoded::parse(&bytes)
        .find(|(name, _)| name == "assertion")
        .and_then(|(_, assertion)| named_client(assertion.trim()));
    Ok((Request::from_parts(parts, Body::from(bytes)), client))
}

fn refusal(limited: Limited) -> ApiError {
    ApiError::TooManyRequests {
        limit: limited.kind.name(),
        // Whole seconds, rounded up: a client that waits as long is admitted.
        retry_after_seconds: limited
            .retry_after
            .as_secs()
            .saturating_add(u64::from(limited.retry_after.subsec_nanos() > 0))
            .max(1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_costly_endpoint_has_its_limit_and_others_none() {
        let post = Method::POST;
        let get = Method::GET;
        assert_eq!(
            limit_for(&post, "/token", None),
            Some((Kind::Token, CountedPer::ClientAtAddress))
        );
        assert_eq!(
            limit_for(&post, "/messages/out", None),
            Some((Kind::Send, CountedPer::Agency))
        );
        assert_eq!(
            limit_for(&get, "/sok", Some("q=skatt")),
            Some((Kind::Search, CountedPer::Citizen))
        );
        assert_eq!(limit_for(&get, "/sok", Some("q=+")), None, "the empty form");
        assert_eq!(limit_for(&get, "/sok", None), None);
        assert_eq!(
            limit_for(&get, "/api/search_archive", Some("q=a")),
            Some((Kind::Search, CountedPer::Citizen))
        );
        assert_eq!(limit_for(&get, "/token", None), None);
        assert_eq!(limit_for(&get, "/innboks", None), None);
        assert_eq!(limit_for(&get, "/messages/out/1/statuses", None), None);
    }

    #[test]
    fn retry_after_is_rounded_up_to_whole_seconds() {
        let seconds = |retry_after| match refusal(Limited {
            kind: Kind::Token,
            retry_after,
        }) {
            ApiError::TooManyRequests {
                retry_after_seconds,
                ..
            } => retry_after_seconds,
            other => panic!("{other:?}"),
        };
        assert_eq!(seconds(std::time::Duration::from_millis(1)), 1);
        assert_eq!(seconds(std::time::Duration::from_millis(1500)), 2);
        assert_eq!(seconds(std::time::Duration::from_secs(3)), 3);
        assert_eq!(seconds(std::time::Duration::ZERO), 1);
    }
}
