//! The relying party refuses every forged, stale or mismatched login, end to
//! end through the real server: the provider is a rogue one
//! ([`RogueProvider`]) that hands out whatever ID token a test mints. Each
//! refused login must leave no session behind.
//!
//! The positive control, [`the_untampered_token_logs_in`], shows that the same
//! harness with the untampered token does log in, so a refusal below is the
//! relying party's doing and not the harness's; each ID-token case also logs
//! in with a good token on the same server after its refusal.
//!
//! A wrong PKCE verifier and a reused code are refused by the provider, not
//! the relying party: the built-in TestID is tested for both, and the relying
//! party for refusing the token endpoint's `invalid_grant`.

use crate::{
    helpers::{on_both_backends, set_cookie_value as set_cookie, spawn_app_with, Backend, TestApp},
    rogue_provider::{RogueProvider, ROGUE_KID},
};
use app::domain::Fnr;
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use chrono::{NaiveDate, Utc};
use reqwest::{header, StatusCode};
use secrecy::ExposeSecret;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

const LOGIN_COOKIE: &str = "__Host-postkasse-login";
const SESSION_COOKIE: &str = "__Host-postkasse-session";
const CODE: &str = "rogue-code";
const ACR_SUBSTANTIAL: &str = "idporten-loa-substantial";
const ACR_HIGH: &str = "idporten-loa-high";

/// A valid synthetic national id for the test citizen.
fn test_pid() -> Fnr {
    let birth_date = NaiveDate::from_ymd_opt(1985, 3, 14).expect("a date");
    (100..500)
        .find_map(|individual| Fnr::synthetic(birth_date, individual))
        .expect("a synthetic national id")
}

fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

fn random_string() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get(header::LOCATION)
        .expect("a Location header")
        .to_str()
        .expect("an ASCII Location")
        .to_owned()
}

fn query_of(url: &str) -> HashMap<String, String> {
    url::Url::parse(url)
        .expect("an absolute URL")
        .query_pairs()
        .into_owned()
        .collect()
}

/// Postkasse set up to log citizens in at the rogue provider.
struct Setup {
    rogue: RogueProvider,
    app: TestApp,
    client_id: String,
}

async fn start(backend: Backend) -> Option<Setup> {
    let rogue = RogueProvider::start().await;
    let issuer = rogue.issuer();
    let mut client_id = String::new();
    let app = spawn_app_with(backend, |settings| {
        settings.oidc.issuer_url = issuer;
        client_id = settings.oidc.client_id.clone();
    })
    .await?;
    Some(Setup {
        rogue,
        app,
        client_id,
    })
}

/// A login begun at Postkasse: the browser's login cookie and what the
/// authorization request sent to the provider.
struct Started {
    cookie: String,
    state: String,
    nonce: String,
    client_id: String,
    redirect_uri: String,
    code_challenge: String,
}

/// `GET /auth/login?level=…`, which must send the browser to the rogue provider.
async fn begin_login(setup: &Setup, level: &str) -> Started {
    let app = &setup.app;
    let response = app
        .client
        .get(app.url(&format!("/auth/login?level={level}")))
        .send()
        .await
        .expect("GET /auth/login");
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "login redirects");
    let cookie = set_cookie(&response, LOGIN_COOKIE)
        .filter(|value| !value.is_empty())
        .expect("the login cookie is set");
    let location = location(&response);
    let authorize = format!("{}/authorize?", setup.rogue.issuer());
    assert!(
        location.starts_with(&authorize),
        "login goes to the provider's authorization endpoint: {location}"
    );
    let mut query = query_of(&location);
    let expected_acr = if level == "high" {
        ACR_HIGH
    } else {
        ACR_SUBSTANTIAL
    };
    assert_eq!(
        query.get("acr_values").map(String::as_str),
        Some(expected_acr)
    );
    assert_eq!(
        query.get("code_challenge_method").map(String::as_str),
        Some("S256")
    );
    let mut take = |name: &str| {
        query
            .remove(name)
            .unwrap_or_else(|| panic!("the authorization request has {name}"))
    };
    Started {
        cookie,
        state: take("state"),
        nonce: take("nonce"),
        client_id: take("client_id"),
        redirect_uri: take("redirect_uri"),
        code_challenge: take("code_challenge"),
    }
}

/// The claims a faithful provider would sign for this login.
fn good_claims(setup: &Setup, login: &Started) -> Value {
    let now = Utc::now().timestamp();
    json!({
        "iss": setup.rogue.issuer(),
        "aud": login.client_id,
        "sub": "pairwise-sub",
        "pid": test_pid().as_str(),
        "acr": ACR_SUBSTANTIAL,
        "amr": ["TestID"],
        "sid": "rogue-sid",
        "nonce": login.nonce,
        "auth_time": now,
        "iat": now,
        "exp": now + 120,
        "jti": random_string(),
    })
}

/// The provider sending the browser back: `GET /auth/callback?code=…&state=…[&iss=…]`,
/// with the login cookie when given.
async fn callback(
    app: &TestApp,
    state: &str,
    iss: Option<&str>,
    login_cookie: Option<&str>,
) -> reqwest::Response {
    let mut url = url::Url::parse(&app.url("/auth/callback")).expect("callback URL");
    {
        let mut query = url.query_pairs_mut();
        query.append_pair("code", CODE).append_pair("state", state);
        if let Some(iss) = iss {
            query.append_pair("iss", iss);
        }
    }
    let mut request = app.client.get(url);
    // By hand: a cookie store would drop Secure cookies over plain http.
    if let Some(cookie) = login_cookie {
        request = request.header(header::COOKIE, format!("{LOGIN_COOKIE}={cookie}"));
    }
    request.send().await.expect("GET /auth/callback")
}

/// `GET /innboks`, with a session cookie when given.
async fn inbox_status(app: &TestApp, session: Option<&str>) -> StatusCode {
    let mut request = app.client.get(app.url("/innboks"));
    if let Some(session) = session {
        request = request.header(header::COOKIE, format!("{SESSION_COOKIE}={session}"));
    }
    request.send().await.expect("GET /innboks").status()
}

/// The login failed page, and no session.
async fn assert_refused(app: &TestApp, response: reqwest::Response) {
    assert_eq!(
        response.status(),
        StatusCode::BAD_REQUEST,
        "a refused login is a 400"
    );
    let session = set_cookie(&response, SESSION_COOKIE);
    assert!(
        session.as_deref().unwrap_or_default().is_empty(),
        "a refused login sets no session cookie: {session:?}"
    );
    let body = response.text().await.expect("the failure page");
    assert!(
        body.contains("Innloggingen mislyktes"),
        "the failure page is shown: {body}"
    );
    assert_eq!(
        inbox_status(app, None).await,
        StatusCode::UNAUTHORIZED,
        "without a session the inbox is closed"
    );
}

/// The login succeeded: back to the inbox with a session that opens it.
async fn assert_logged_in(app: &TestApp, response: reqwest::Response) -> String {
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "a good login redirects: {}",
        response.text().await.unwrap_or_default()
    );
    assert_eq!(location(&response), "/innboks");
    let session = set_cookie(&response, SESSION_COOKIE)
        .filter(|value| !value.is_empty())
        .expect("a good login sets the session cookie");
    assert_eq!(
        inbox_status(app, Some(&session)).await,
        StatusCode::OK,
        "the new session opens the inbox"
    );
    session
}

/// A complete login with the untampered token; returns it and the session.
async fn log_in(setup: &Setup) -> (Started, String) {
    let login = begin_login(setup, "substantial").await;
    let claims = good_claims(setup, &login);
    setup
        .rogue
        .set_id_token(setup.rogue.sign_rs256(&claims, ROGUE_KID));
    let response = callback(
        &setup.app,
        &login.state,
        Some(&setup.rogue.issuer()),
        Some(&login.cookie),
    )
    .await;
    let session = assert_logged_in(&setup.app, response).await;
    (login, session)
}

/// Logs in at `level` with the token `mint` makes from the good claims (which
/// it may change), and expects a refusal after the token exchange. Then, on
/// the same server, a login with an untampered token must succeed.
async fn refuses_id_token(
    backend: Backend,
    level: &str,
    mint: impl FnOnce(&RogueProvider, &mut Value) -> String,
) -> Option<Setup> {
    let setup = start(backend).await?;
    let login = begin_login(&setup, level).await;
    let mut claims = good_claims(&setup, &login);
    let id_token = mint(&setup.rogue, &mut claims);
    setup.rogue.set_id_token(id_token);
    let response = callback(
        &setup.app,
        &login.state,
        Some(&setup.rogue.issuer()),
        Some(&login.cookie),
    )
    .await;
    assert_eq!(
        setup.rogue.token_requests(),
        1,
        "the code was exchanged before the refusal"
    );
    assert_refused(&setup.app, response).await;

    log_in(&setup).await;
    Some(setup)
}

fn remove_claim(claims: &mut Value, name: &str) {
    claims
        .as_object_mut()
        .expect("claims are an object")
        .remove(name)
        .unwrap_or_else(|| panic!("the good claims have {name}"));
}

async fn the_untampered_token_logs_in(backend: Backend) {
    let Some(setup) = start(backend).await else {
        return;
    };
    assert_eq!(
        inbox_status(&setup.app, None).await,
        StatusCode::UNAUTHORIZED,
        "before logging in the inbox is closed"
    );
    let (login, _session) = log_in(&setup).await;
    assert_eq!(login.client_id, setup.client_id);
    assert_eq!(setup.rogue.token_requests(), 1);
}

async fn a_bad_signature_is_refused(backend: Backend) {
    let Some(setup) = refuses_id_token(backend, "substantial", |rogue, claims| {
        rogue.sign_with_other_key(claims, ROGUE_KID)
    })
    .await
    else {
        return;
    };
    assert_eq!(
        setup.rogue.discovery_requests(),
        1,
        "a bad signature under a known kid is no reason to fetch the keys anew"
    );
}

async fn an_unsigned_alg_none_token_is_refused(backend: Backend) {
    refuses_id_token(backend, "substantial", |rogue, claims| {
        rogue.unsigned_alg_none(claims)
    })
    .await;
}

async fn an_hs256_token_keyed_with_the_public_key_is_refused(backend: Backend) {
    refuses_id_token(backend, "substantial", |rogue, claims| {
        rogue.sign_hs256_with_public_key(claims)
    })
    .await;
}

async fn a_wrong_issuer_claim_is_refused(backend: Backend) {
    refuses_id_token(backend, "substantial", |rogue, claims| {
        claims["iss"] = json!("https://evil.example");
        rogue.sign_rs256(claims, ROGUE_KID)
    })
    .await;
}

async fn a_wrong_audience_is_refused(backend: Backend) {
    refuses_id_token(backend, "substantial", |rogue, claims| {
        claims["aud"] = json!("another-client");
        rogue.sign_rs256(claims, ROGUE_KID)
    })
    .await;
}

async fn an_expired_token_is_refused(backend: Backend) {
    refuses_id_token(backend, "substantial", |rogue, claims| {
        let now = Utc::now().timestamp();
        claims["auth_time"] = json!(now - 600);
        claims["iat"] = json!(now - 600);
        claims["exp"] = json!(now - 300);
        rogue.sign_rs256(claims, ROGUE_KID)
    })
    .await;
}

async fn a_wrong_nonce_is_refused(backend: Backend) {
    refuses_id_token(backend, "substantial", |rogue, claims| {
        claims["nonce"] = json!(random_string());
        rogue.sign_rs256(claims, ROGUE_KID)
    })
    .await;
}

async fn a_missing_nonce_is_refused(backend: Backend) {
    refuses_id_token(backend, "substantial", |rogue, claims| {
        remove_claim(claims, "nonce");
        rogue.sign_rs256(claims, ROGUE_KID)
    })
    .await;
}

async fn an_acr_lower_than_requested_is_refused(backend: Backend) {
    refuses_id_token(backend, "high", |rogue, claims| {
        claims["acr"] = json!(ACR_SUBSTANTIAL);
        rogue.sign_rs256(claims, ROGUE_KID)
    })
    .await;
}

async fn a_missing_pid_is_refused(backend: Backend) {
    refuses_id_token(backend, "substantial", |rogue, claims| {
        remove_claim(claims, "pid");
        rogue.sign_rs256(claims, ROGUE_KID)
    })
    .await;
}

async fn an_invalid_pid_is_refused(backend: Backend) {
    refuses_id_token(backend, "substantial", |rogue, claims| {
        // Eleven digits, but the control digits are wrong.
        let valid = test_pid();
        let mut digits = valid.as_str().as_bytes().to_vec();
        digits[10] = if digits[10] == b'9' {
            b'0'
        } else {
            digits[10] + 1
        };
        let invalid = String::from_utf8(digits).expect("digits");
        claims["pid"] = json!(invalid);
        rogue.sign_rs256(claims, ROGUE_KID)
    })
    .await;
}

async fn an_unknown_kid_is_refused(backend: Backend) {
    let Some(setup) = refuses_id_token(backend, "substantial", |rogue, claims| {
        rogue.sign_rs256(claims, "unknown-key")
    })
    .await
    else {
        return;
    };
    // Refused for want of a key, not for a bad signature: the relying party
    // forgets the cached keys, in case the provider rotated them.
    assert_eq!(
        setup.rogue.discovery_requests(),
        2,
        "an unknown kid makes the relying party fetch the keys anew"
    );
}

/// The `iss` parameter of the authorization response (RFC 9207).
#[derive(Clone, Copy)]
enum IssParameter {
    TheIssuer,
    Wrong,
    Missing,
}

/// Refusals of the authorization response itself: the code is never exchanged.
/// Returns the setup and the refused login for further checks.
async fn refuses_response(
    backend: Backend,
    iss: IssParameter,
    send_cookie: bool,
) -> Option<(Setup, Started)> {
    let setup = start(backend).await?;
    let login = begin_login(&setup, "substantial").await;
    let claims = good_claims(&setup, &login);
    setup
        .rogue
        .set_id_token(setup.rogue.sign_rs256(&claims, ROGUE_KID));
    let issuer = setup.rogue.issuer();
    let iss = match iss {
        IssParameter::TheIssuer => Some(issuer.as_str()),
        IssParameter::Wrong => Some("https://evil.example"),
        IssParameter::Missing => None,
    };
    let cookie = send_cookie.then_some(login.cookie.as_str());
    let response = callback(&setup.app, &login.state, iss, cookie).await;
    assert_refused(&setup.app, response).await;
    assert_eq!(
        setup.rogue.token_requests(),
        0,
        "the code is not exchanged for a refused response"
    );

    log_in(&setup).await;
    Some((setup, login))
}

async fn a_wrong_iss_parameter_in_the_callback_is_refused(backend: Backend) {
    refuses_response(backend, IssParameter::Wrong, true).await;
}

async fn a_missing_iss_parameter_is_refused(backend: Backend) {
    refuses_response(backend, IssParameter::Missing, true).await;
}

async fn a_callback_without_the_login_cookie_is_refused(backend: Backend) {
    let Some((setup, login)) = refuses_response(backend, IssParameter::TheIssuer, false).await
    else {
        return;
    };
    // The attempt used the login up: the same callback with the cookie fails too.
    let requests_before = setup.rogue.token_requests();
    let retry = callback(
        &setup.app,
        &login.state,
        Some(&setup.rogue.issuer()),
        Some(&login.cookie),
    )
    .await;
    assert_refused(&setup.app, retry).await;
    assert_eq!(setup.rogue.token_requests(), requests_before);
}

async fn a_replayed_state_is_refused(backend: Backend) {
    let Some(setup) = start(backend).await else {
        return;
    };
    let (login, _session) = log_in(&setup).await;
    let replay = callback(
        &setup.app,
        &login.state,
        Some(&setup.rogue.issuer()),
        Some(&login.cookie),
    )
    .await;
    assert_refused(&setup.app, replay).await;
    assert_eq!(
        setup.rogue.token_requests(),
        1,
        "a replayed state is refused before any token exchange"
    );
}

async fn a_token_endpoint_error_is_refused(backend: Backend) {
    let Some(setup) = start(backend).await else {
        return;
    };
    let login = begin_login(&setup, "substantial").await;
    // What a real provider answers a wrong PKCE verifier or a reused code.
    setup.rogue.set_token_error(
        400,
        json!({ "error": "invalid_grant", "error_description": "PKCE verification failed" }),
    );
    let response = callback(
        &setup.app,
        &login.state,
        Some(&setup.rogue.issuer()),
        Some(&login.cookie),
    )
    .await;
    assert_eq!(setup.rogue.token_requests(), 1);
    assert_refused(&setup.app, response).await;

    log_in(&setup).await;
}

async fn the_rp_sends_its_pkce_verifier(backend: Backend) {
    let Some(setup) = start(backend).await else {
        return;
    };
    let (login, _session) = log_in(&setup).await;
    let request = setup
        .rogue
        .last_token_request()
        .expect("the token endpoint was called");
    let field = |name: &str| request.get(name).map(String::as_str);
    assert_eq!(field("grant_type"), Some("authorization_code"));
    assert_eq!(field("code"), Some(CODE));
    let verifier = field("code_verifier").expect("the token request has a code_verifier");
    assert!(
        (43..=128).contains(&verifier.len()),
        "RFC 7636 verifier length: {}",
        verifier.len()
    );
    assert_eq!(pkce_challenge(verifier), login.code_challenge);
    let callback_url = setup.app.url("/auth/callback");
    assert_eq!(login.redirect_uri, callback_url);
    assert_eq!(field("redirect_uri"), Some(callback_url.as_str()));
    assert!(
        field("authorization").is_some_and(|value| value.starts_with("Basic "))
            || field("client_id") == Some(setup.client_id.as_str()),
        "the client authenticates: {request:?}"
    );
}

/// Postkasse with its built-in TestID, and the client registered there.
struct TestIdSetup {
    app: TestApp,
    client_id: String,
    client_secret: String,
}

async fn start_with_testid(backend: Backend) -> Option<TestIdSetup> {
    let mut client = None;
    let app = spawn_app_with(backend, |settings| {
        assert!(settings.testid.enabled, "TestID is on by default");
        assert!(
            settings.oidc.issuer_url.is_empty(),
            "TestID is the provider"
        );
        client = Some((
            settings.oidc.client_id.clone(),
            settings.oidc.client_secret.expose_secret().to_owned(),
        ));
    })
    .await?;
    let (client_id, client_secret) = client.expect("the client's settings");
    Some(TestIdSetup {
        app,
        client_id,
        client_secret,
    })
}

/// Logs in at TestID as a tester would, for a PKCE challenge of `verifier`;
/// returns the authorization code.
async fn testid_code(setup: &TestIdSetup, verifier: &str) -> String {
    let app = &setup.app;
    let redirect_uri = app.url("/auth/callback");
    let state = random_string();
    let challenge = pkce_challenge(verifier);
    let nonce = random_string();
    let params = [
        ("client_id", setup.client_id.as_str()),
        ("redirect_uri", redirect_uri.as_str()),
        ("response_type", "code"),
        ("scope", "openid"),
        ("state", state.as_str()),
        ("nonce", nonce.as_str()),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
        ("acr_values", ACR_SUBSTANTIAL),
    ];
    let page = app
        .client
        .get(app.url("/testid/authorize"))
        .query(&params)
        .send()
        .await
        .expect("GET /testid/authorize");
    assert_eq!(page.status(), StatusCode::OK, "TestID shows its login form");

    let pid = test_pid();
    let mut form = params.to_vec();
    form.push(("pid", pid.as_str()));
    form.push(("acr", ACR_SUBSTANTIAL));
    let response = app
        .client
        .post(app.url("/testid/authorize"))
        .form(&form)
        .send()
        .await
        .expect("POST /testid/authorize");
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = location(&response);
    assert!(
        location.starts_with(&redirect_uri),
        "TestID sends the browser back: {location}"
    );
    let mut query = query_of(&location);
    assert_eq!(query.get("state"), Some(&state));
    assert_eq!(query.get("iss"), Some(&app.url("/testid")));
    query.remove("code").expect("TestID hands out a code")
}

/// `POST /testid/token` with client_secret_post.
async fn testid_exchange(setup: &TestIdSetup, code: &str, verifier: &str) -> (StatusCode, Value) {
    let app = &setup.app;
    let redirect_uri = app.url("/auth/callback");
    let response = app
        .client
        .post(app.url("/testid/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri.as_str()),
            ("code_verifier", verifier),
            ("client_id", setup.client_id.as_str()),
            ("client_secret", setup.client_secret.as_str()),
        ])
        .send()
        .await
        .expect("POST /testid/token");
    let status = response.status();
    let body = response.json().await.expect("a JSON token response");
    (status, body)
}

async fn testid_refuses_a_wrong_pkce_verifier(backend: Backend) {
    let Some(setup) = start_with_testid(backend).await else {
        return;
    };
    let verifier = random_string();
    let code = testid_code(&setup, &verifier).await;
    let wrong_verifier = random_string();
    assert_ne!(wrong_verifier, verifier);

    let (status, body) = testid_exchange(&setup, &code, &wrong_verifier).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], "invalid_grant", "{body}");
    assert!(body.get("id_token").is_none(), "{body}");

    // The failed attempt spent the code: the right verifier is too late now.
    let (status, body) = testid_exchange(&setup, &code, &verifier).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], "invalid_grant", "{body}");
}

async fn testid_refuses_a_reused_code(backend: Backend) {
    let Some(setup) = start_with_testid(backend).await else {
        return;
    };
    let verifier = random_string();
    let code = testid_code(&setup, &verifier).await;

    let (status, body) = testid_exchange(&setup, &code, &verifier).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body["id_token"]
            .as_str()
            .is_some_and(|token| !token.is_empty()),
        "the first exchange yields an ID token: {body}"
    );

    let (status, body) = testid_exchange(&setup, &code, &verifier).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], "invalid_grant", "{body}");
    assert!(body.get("id_token").is_none(), "{body}");
}

on_both_backends!(
    the_untampered_token_logs_in,
    a_bad_signature_is_refused,
    an_unsigned_alg_none_token_is_refused,
    an_hs256_token_keyed_with_the_public_key_is_refused,
    a_wrong_issuer_claim_is_refused,
    a_wrong_audience_is_refused,
    an_expired_token_is_refused,
    a_wrong_nonce_is_refused,
    a_missing_nonce_is_refused,
    an_acr_lower_than_requested_is_refused,
    a_missing_pid_is_refused,
    an_invalid_pid_is_refused,
    an_unknown_kid_is_refused,
    a_wrong_iss_parameter_in_the_callback_is_refused,
    a_missing_iss_parameter_is_refused,
    a_replayed_state_is_refused,
    a_callback_without_the_login_cookie_is_refused,
    a_token_endpoint_error_is_refused,
    the_rp_sends_its_pkce_verifier,
    testid_refuses_a_wrong_pkce_verifier,
    testid_refuses_a_reused_code,
);
