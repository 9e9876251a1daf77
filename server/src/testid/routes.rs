//! TestID's endpoints, mounted under `/testid`.

use super::{pages, IssuedCode, RegisteredClient, TestIdProvider, ACR_HIGH, ACR_SUBSTANTIAL};
use crate::{
    http::extract::{Form, Query},
    tokens::random_token,
};
use app::domain::{Fnr, SyntheticIds};
use axum::{
    extract::State,
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{Html, IntoResponse, Redirect, Response},
    routing::get,
    Json, Router,
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use chrono::Duration;
use jsonwebtoken::{Algorithm, Header, Validation};
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use subtle::ConstantTimeEq;
use url::Url;

const CODE_LIFETIME: Duration = Duration::seconds(60);
const ID_TOKEN_LIFETIME: Duration = Duration::seconds(120);

/// The largest body TestID reads.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

pub fn router<S>(provider: Arc<TestIdProvider>) -> Router<S> {
    Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/jwks", get(jwks))
        .route("/authorize", get(authorize_page).post(authorize_submit))
        .route("/token", axum::routing::post(token))
        .route("/endsession", get(end_session))
        // Its forms and token requests are a few fields.
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(provider)
}

async fn discovery(State(provider): State<Arc<TestIdProvider>>) -> Json<Value> {
    let issuer = provider.issuer();
    Json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
        "end_session_endpoint": format!("{issuer}/endsession"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": ["openid", "profile"],
        "acr_values_supported": [ACR_SUBSTANTIAL, ACR_HIGH],
        "claims_supported": ["iss", "sub", "aud", "pid", "acr", "amr", "sid", "nonce", "auth_time", "iat", "exp", "jti"],
        "ui_locales_supported": ["nb", "en"],
        "authorization_response_iss_parameter_supported": true,
        "frontchannel_logout_supported": true,
        "frontchannel_logout_session_supported": true
    }))
}

async fn jwks(State(provider): State<Arc<TestIdProvider>>) -> Json<Value> {
    Json(json!({ "keys": [provider.key.jwk] }))
}

/// The authorization request's parameters, all optional so that missing ones
/// are reported rather than rejected by the extractor.
#[derive(Debug, Default, Deserialize)]
pub struct AuthorizeParams {
    client_id: Option<String>,
    redirect_uri: Option<String>,
    response_type: Option<String>,
    scope: Option<String>,
    state: Option<String>,
    nonce: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    acr_values: Option<String>,
    ui_locales: Option<String>,
    prompt: Option<String>,
}

/// A request that passed every check.
struct ValidAuthorization<'a> {
    client: &'a RegisteredClient,
    redirect_uri: &'a str,
    state: &'a str,
    nonce: &'a str,
    code_challenge: &'a str,
    requested_acr: &'static str,
}

/// Why an authorization request failed, and whether the client may be told.
enum AuthorizeError {
    /// Unknown client or unregistered redirect: never redirect there.
    Untrusted(&'static str),
    /// Sent back to the client as `error=invalid_request`.
    Invalid {
        redirect_uri: String,
        state: Option<String>,
        description: &'static str,
    },
}

impl TestIdProvider {
    fn check_authorization<'a>(
        &'a self,
        params: &'a AuthorizeParams,
    ) -> Result<ValidAuthorization<'a>, AuthorizeError> {
        let client = params
            .client_id
            .as_deref()
            .and_then(|client_id| self.client(client_id))
            .ok_or(AuthorizeError::Untrusted(
                "Tjenesten som sendte deg hit er ikke registrert hos TestID.",
            ))?;
        let redirect_uri = params
            .redirect_uri
            .as_deref()
            .filter(|uri| {
                client
                    .redirect_uris
                    .iter()
                    .any(|registered| registered == uri)
            })
            .ok_or(AuthorizeError::Untrusted(
                "Adressen du skulle sendes tilbake til er ikke registrert hos TestID.",
            ))?;
        let invalid = |description| AuthorizeError::Invalid {
            redirect_uri: redirect_uri.to_owned(),
            state: params.state.clone(),
            description,
        };
        if params.response_type.as_deref() != Some("code") {
            return Err(invalid("response_type must be code"));
        }
        if !params
            .scope
            .as_deref()
            .unwrap_or_default()
            .split(' ')
            .any(|scope| scope == "openid")
        {
            return Err(invalid("scope must include openid"));
        }
        let state = params
            .state
            .as_deref()
            .filter(|state| !state.is_empty())
            .ok_or_else(|| invalid("state is required"))?;
        let nonce = params
            .nonce
            .as_deref()
            .filter(|nonce| !nonce.is_empty())
            .ok_or_else(|| invalid("nonce is required"))?;
        if params.code_challenge_method.as_deref() != Some("S256") {
            return Err(invalid("PKCE with code_challenge_method S256 is required"));
        }
        let code_challenge = params
            .code_challenge
            .as_deref()
            .filter(|challenge| challenge.len() == 43)
            .ok_or_else(|| invalid("code_challenge must be a base64url SHA-256 digest"))?;
        let requested_acr = match params.acr_values.as_deref() {
            None | Some("") => ACR_SUBSTANTIAL,
            Some(values) if values.split(' ').any(|value| value == ACR_HIGH) => ACR_HIGH,
            Some(values) if values.split(' ').any(|value| value == ACR_SUBSTANTIAL) => {
                ACR_SUBSTANTIAL
            }
            Some(_) => {
                return Err(invalid(
                    "acr_values must be idporten-loa-substantial or idporten-loa-high",
                ))
            }
        };
        Ok(ValidAuthorization {
            client,
            redirect_uri,
            state,
            nonce,
            code_challenge,
            requested_acr,
        })
    }

    fn authorization_error(&self, error: AuthorizeError) -> Response {
        match error {
            AuthorizeError::Untrusted(message) => {
                (StatusCode::BAD_REQUEST, Html(pages::error_page(message))).into_response()
            }
            AuthorizeError::Invalid {
                redirect_uri,
                state,
                description,
            } => {
                let mut url = Url::parse(&redirect_uri).expect("registered redirect URIs are URLs");
                {
                    let mut query = url.query_pairs_mut();
                    query.append_pair("error", "invalid_request");
                    query.append_pair("error_description", description);
                    if let Some(state) = state {
                        query.append_pair("state", &state);
                    }
                    query.append_pair("iss", self.issuer());
                }
                Redirect::to(url.as_str()).into_response()
            }
        }
    }
}

fn hidden_fields(params: &AuthorizeParams) -> Vec<(&'static str, &str)> {
    [
        ("client_id", &params.client_id),
        ("redirect_uri", &params.redirect_uri),
        ("response_type", &params.response_type),
        ("scope", &params.scope),
        ("state", &params.state),
        ("nonce", &params.nonce),
        ("code_challenge", &params.code_challenge),
        ("code_challenge_method", &params.code_challenge_method),
        ("acr_values", &params.acr_values),
        ("ui_locales", &params.ui_locales),
        ("prompt", &params.prompt),
    ]
    .into_iter()
    .filter_map(|(name, value)| value.as_deref().map(|value| (name, value)))
    .collect()
}

async fn authorize_page(
    State(provider): State<Arc<TestIdProvider>>,
    Query(params): Query<AuthorizeParams>,
) -> Response {
    match provider.check_authorization(&params) {
        Ok(valid) => {
            let pending = pages::PendingAuthorization {
                hidden_fields: hidden_fields(&params),
                requested_acr: valid.requested_acr,
            };
            Html(pages::authorize_form(&pending, "", None)).into_response()
        }
        Err(error) => provider.authorization_error(error),
    }
}

#[derive(Debug, Deserialize)]
pub struct AuthorizeSubmission {
    #[serde(flatten)]
    params: AuthorizeParams,
    pid: Option<String>,
    acr: Option<String>,
}

async fn authorize_submit(
    State(provider): State<Arc<TestIdProvider>>,
    Form(form): Form<AuthorizeSubmission>,
) -> Response {
    let valid = match provider.check_authorization(&form.params) {
        Ok(valid) => valid,
        Err(error) => return provider.authorization_error(error),
    };
    let pid_text = form.pid.as_deref().unwrap_or_default();
    let today = crate::clock::norwegian_date(provider.clock.now());
    let pid = match Fnr::parse_on(pid_text, SyntheticIds::Accepted, today) {
        Ok(pid) => pid,
        Err(error) => {
            let pending = pages::PendingAuthorization {
                hidden_fields: hidden_fields(&form.params),
                requested_acr: valid.requested_acr,
            };
            let message = format!("Fødselsnummeret {}.", norwegian_reason(&error));
            return (
                StatusCode::UNPROCESSABLE_ENTITY,
                Html(pages::authorize_form(&pending, pid_text, Some(&message))),
            )
                .into_response();
        }
    };
    // The tester may choose a lower level than asked for: that is how a
    // relying party's acr check gets tested.
    let acr = match form.acr.as_deref() {
        Some(ACR_HIGH) => ACR_HIGH,
        _ => ACR_SUBSTANTIAL,
    };
    let now = provider.clock.now();
    let code = random_token();
    provider.codes.keep(
        code.clone(),
        IssuedCode {
            client_id: valid.client.client_id.clone(),
            redirect_uri: valid.redirect_uri.to_owned(),
            code_challenge: valid.code_challenge.to_owned(),
            nonce: valid.nonce.to_owned(),
            acr: acr.to_owned(),
            pid,
            sid: random_token(),
            auth_time: now,
            expires_at: now + CODE_LIFETIME,
        },
        now,
    );
    let mut url = Url::parse(valid.redirect_uri).expect("registered redirect URIs are URLs");
    url.query_pairs_mut()
        .append_pair("code", &code)
        .append_pair("state", valid.state)
        .append_pair("iss", provider.issuer());
    Redirect::to(url.as_str()).into_response()
}

#[derive(Debug, Deserialize)]
pub struct TokenRequest {
    grant_type: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

fn token_error(status: StatusCode, error: &str, description: &str) -> Response {
    let mut response = (
        status,
        Json(json!({ "error": error, "error_description": description })),
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// client_secret_basic or client_secret_post.
fn client_credentials(headers: &HeaderMap, request: &TokenRequest) -> Option<(String, String)> {
    if let Some(basic) = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Basic "))
    {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(basic)
            .ok()?;
        let decoded = String::from_utf8(decoded).ok()?;
        let (id, secret) = decoded.split_once(':')?;
        // RFC 6749 §2.3.1: both parts are form-urlencoded inside Basic.
        let decode = |part: &str| {
            url::form_urlencoded::parse(format!("x={part}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
        };
        return Some((decode(id)?, decode(secret)?));
    }
    Some((request.client_id.clone()?, request.client_secret.clone()?))
}

/// PKCE (RFC 7636): the verifier is 43–128 unreserved characters whose
/// SHA-256, base64url without padding, is the challenge.
fn pkce_matches(verifier: &str, challenge: &str) -> bool {
    let well_formed = (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b"-._~".contains(&byte));
    well_formed
        && URL_SAFE_NO_PAD
            .encode(Sha256::digest(verifier.as_bytes()))
            .as_bytes()
            .ct_eq(challenge.as_bytes())
            .into()
}

async fn token(
    State(provider): State<Arc<TestIdProvider>>,
    headers: HeaderMap,
    Form(request): Form<TokenRequest>,
) -> Response {
    let Some((client_id, client_secret)) = client_credentials(&headers, &request) else {
        return token_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client authentication is required",
        );
    };
    let authenticated = provider.client(&client_id).filter(|client| {
        bool::from(
            client
                .client_secret
                .expose_secret()
                .as_bytes()
                .ct_eq(client_secret.as_bytes()),
        )
    });
    let Some(client) = authenticated else {
        return token_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "unknown client or wrong secret",
        );
    };
    if request.grant_type.as_deref() != Some("authorization_code") {
        return token_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "only authorization_code",
        );
    }
    // Removed before any other check: a code is spent by its first use, good or bad.
    let issued = request
        .code
        .as_deref()
        .and_then(|code| provider.codes.take(code));
    let Some(issued) = issued else {
        return token_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "unknown or used code",
        );
    };
    let now = provider.clock.now();
    if issued.client_id != client.client_id
        || request.redirect_uri.as_deref() != Some(issued.redirect_uri.as_str())
        || now > issued.expires_at
    {
        return token_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "code does not match this request",
        );
    }
    if !pkce_matches(
        request.code_verifier.as_deref().unwrap_or_default(),
        &issued.code_challenge,
    ) {
        return token_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "PKCE verification failed",
        );
    }
    let claims = json!({
        "iss": provider.issuer(),
        "aud": client.client_id,
        "sub": pairwise_subject(&client.client_id, &issued.pid),
        "pid": issued.pid.as_str(),
        "acr": issued.acr,
        "amr": ["TestID"],
        "sid": issued.sid,
        "nonce": issued.nonce,
        "auth_time": issued.auth_time.timestamp(),
        "iat": now.timestamp(),
        "exp": (now + ID_TOKEN_LIFETIME).timestamp(),
        "jti": random_token(),
        "locale": "nb",
    });
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(provider.key.kid.clone());
    let id_token = match jsonwebtoken::encode(&header, &claims, &provider.key.encoding) {
        Ok(token) => token,
        Err(error) => {
            tracing::error!(error = %error, "testid could not sign an id token");
            return token_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "signing failed",
            );
        }
    };
    let mut response = Json(json!({
        "access_token": random_token(),
        "token_type": "Bearer",
        "expires_in": ID_TOKEN_LIFETIME.num_seconds(),
        "id_token": id_token,
        "scope": "openid",
    }))
    .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The page is in Norwegian; the domain error's own text is English.
fn norwegian_reason(error: &app::domain::FnrError) -> &'static str {
    use app::domain::FnrError;
    match error {
        FnrError::WrongLength => "må ha nøyaktig 11 siffer",
        FnrError::NotDigits => "kan bare inneholde siffer",
        FnrError::InvalidDate => "inneholder ikke en gyldig fødselsdato",
        FnrError::InvalidControlDigits => "har feil kontrollsiffer",
        FnrError::SyntheticNotAllowed => "er et syntetisk testnummer, og de godtas ikke her",
        FnrError::BornInTheFuture => "har en fødselsdato som ikke er kommet ennå",
    }
}

/// ID-porten's `sub` differs per client, so clients cannot join on it.
fn pairwise_subject(client_id: &str, pid: &Fnr) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(
        format!("{client_id}:{}", pid.as_str()).as_bytes(),
    ))
}

#[derive(Debug, Deserialize)]
pub struct EndSessionParams {
    id_token_hint: Option<String>,
    post_logout_redirect_uri: Option<String>,
    state: Option<String>,
}

async fn end_session(
    State(provider): State<Arc<TestIdProvider>>,
    Query(params): Query<EndSessionParams>,
) -> Response {
    // The hint says which client and session; an expired one still counts.
    let hinted = params.id_token_hint.as_deref().and_then(|hint| {
        let mut validation = Validation::new(Algorithm::RS256);
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.set_issuer(&[provider.issuer()]);
        validation.required_spec_claims.clear();
        jsonwebtoken::decode::<Value>(hint, &provider.key.decoding, &validation).ok()
    });
    let client = hinted
        .as_ref()
        .and_then(|token| token.claims["aud"].as_str())
        .and_then(|client_id| provider.client(client_id));
    let sid = hinted
        .as_ref()
        .and_then(|token| token.claims["sid"].as_str());
    let frontchannel = match (
        client.and_then(|client| client.frontchannel_logout_uri.as_deref()),
        sid,
    ) {
        (Some(uri), Some(sid)) => Url::parse(uri).ok().map(|mut url| {
            url.query_pairs_mut()
                .append_pair("iss", provider.issuer())
                .append_pair("sid", sid);
            url.to_string()
        }),
        _ => None,
    };
    let continue_url = params
        .post_logout_redirect_uri
        .as_deref()
        .filter(|uri| {
            client.is_some_and(|client| {
                client
                    .post_logout_redirect_uris
                    .iter()
                    .any(|registered| registered == uri)
            })
        })
        .and_then(|uri| Url::parse(uri).ok())
        .map(|mut url| {
            if let Some(state) = &params.state {
                url.query_pairs_mut().append_pair("state", state);
            }
            url.to_string()
        });
    let mut response = Html(pages::logged_out(
        frontchannel.as_deref(),
        continue_url.as_deref(),
    ))
    .into_response();
    // This page frames the client's front-channel logout endpoint.
    if let Some(origin) = frontchannel
        .as_deref()
        .and_then(|url| Url::parse(url).ok())
        .map(|url| url.origin().ascii_serialization())
    {
        if let Ok(policy) = HeaderValue::from_str(&format!(
            "default-src 'self'; frame-src {origin}; style-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
        )) {
            response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, policy);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_accepts_the_rfc_7636_example_and_nothing_else() {
        // RFC 7636, appendix B.
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(pkce_matches(verifier, challenge));
        assert!(!pkce_matches(
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXj",
            challenge
        ));
        assert!(
            !pkce_matches("short", challenge),
            "verifiers under 43 characters are refused"
        );
        assert!(!pkce_matches(challenge, challenge));
    }
}
