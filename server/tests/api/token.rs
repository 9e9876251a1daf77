//! Agencies and the Maskinporten-style token endpoint: registering agencies
//! with the command line, exchanging grants at `POST /token`, and using the
//! access tokens on the APIs.

use crate::helpers::{
    citizen, on_both_backends, registered_agency_key, sign_grant_with, spawn_app,
    spawn_app_with_clock, unregistered_agency_key, Backend, TestAgency, TestApp,
};
use chrono::{Duration, Utc};
use postkasse::agency::Store as _;
use postkasse::clock::{Clock, ManualClock};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::sync::Arc;

const CONTACT: &str = "krr:global/kontaktinformasjon.read";
const SEND: &str = "digitalpostinnbygger:send";
const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const BRREG: &str = "974760673";

impl TestApp {
    async fn lookup_with(&self, token: &str) -> reqwest::Response {
        self.client
            .post(self.url("/rest/v1/personer"))
            .bearer_auth(token)
            .json(&json!({ "personidentifikatorer": [citizen(1).as_str()] }))
            .send()
            .await
            .unwrap()
    }
}

/// The claims of a JWT, unverified: the tests only read what was issued.
fn claims_of(token: &str) -> Value {
    jsonwebtoken::dangerous::insecure_decode::<Value>(token)
        .unwrap()
        .claims
}

/// Status, content type and body of a refusal.
async fn refusal(response: reqwest::Response) -> (StatusCode, String, Value) {
    let status = response.status();
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (status, content_type, response.json().await.unwrap())
}

async fn a_good_grant_gives_a_token_that_looks_people_up(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let agency = app.register_agency(BRREG, "Brønnøysundregistrene").await;
    let grant = agency.sign(&agency.grant_claims(&app, &[CONTACT, SEND]));
    let response = agency.exchange(&app, &grant).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 120);
    assert_eq!(body["scope"], format!("{CONTACT} {SEND}"));
    let token = body["access_token"].as_str().unwrap();

    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::RS256);
    assert!(header.kid.is_some());
    let claims = claims_of(token);
    assert_eq!(claims["iss"], app.token_audience());
    assert_eq!(claims["client_id"], agency.client_id);
    assert_eq!(claims["client_amr"], "private_key_jwt");
    assert_eq!(
        claims["consumer"],
        json!({ "authority": "iso6523-actorid-upis", "ID": format!("0192:{}", agency.org_nr) })
    );
    assert_eq!(claims["scope"], format!("{CONTACT} {SEND}"));
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        120
    );
    assert!(claims["jti"].as_str().is_some_and(|jti| !jti.is_empty()));

    let response = app.lookup_with(token).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["personer"][0]["status"], "IKKE_REGISTRERT");

    // Without a kid, iss names the client; RS512 is as good as RS256.
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS512);
    header.kid = None;
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(agency.private_key_pem.as_bytes()).unwrap();
    let grant =
        jsonwebtoken::encode(&header, &agency.grant_claims(&app, &[CONTACT]), &key).unwrap();
    assert_eq!(agency.exchange(&app, &grant).await.status(), StatusCode::OK);
}

async fn bad_grants_are_refused_with_the_right_error_and_spend_nothing(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let agency = app.register_agency(BRREG, "Brønnøysundregistrene").await;
    let now = Utc::now().timestamp();
    // Each case: what it is, the form it sends, the error and words of the detail.
    type Case = (
        &'static str,
        Vec<(&'static str, String)>,
        &'static str,
        String,
    );
    let mut cases: Vec<Case> = Vec::new();
    let mut jtis = Vec::new();
    let mut grant = |adjust: &dyn Fn(&mut Value), sign: &dyn Fn(&Value) -> String| {
        let mut claims = agency.grant_claims(&app, &[CONTACT]);
        adjust(&mut claims);
        jtis.push(claims["jti"].as_str().unwrap().to_owned());
        vec![
            ("grant_type", JWT_BEARER.to_owned()),
            ("assertion", sign(&claims)),
        ]
    };
    let ours = |claims: &Value| agency.sign(claims);
    let not_signed = "the grant is not signed with the key of a registered client".to_owned();
    cases.push((
        "signed by a key no agency registered",
        grant(&|_| {}, &|claims| {
            sign_grant_with(
                &unregistered_agency_key().private_key_pem,
                Some(&agency.client_id),
                claims,
            )
        }),
        "invalid_grant",
        not_signed.clone(),
    ));
    cases.push((
        "from a client id nobody registered",
        grant(&|claims| claims["iss"] = json!("nobody"), &|claims| {
            sign_grant_with(&agency.private_key_pem, Some("nobody"), claims)
        }),
        "invalid_grant",
        not_signed.clone(),
    ));
    cases.push((
        "expired",
        grant(
            &|claims| {
                claims["iat"] = json!(now - 8);
                claims["exp"] = json!(now - 2);
            },
            &ours,
        ),
        "invalid_grant",
        "expired".to_owned(),
    ));
    cases.push((
        "living longer than 120 s",
        grant(&|claims| claims["exp"] = json!(now + 180), &ours),
        "invalid_grant",
        // Not the exact age: the grant's iat is read from the clock a moment after `now`.
        "a grant may live at most 120 s".to_owned(),
    ));
    cases.push((
        "made 60 s in the future",
        grant(
            &|claims| {
                claims["iat"] = json!(now + 60);
                claims["exp"] = json!(now + 120);
            },
            &ours,
        ),
        "invalid_grant",
        "ahead of Postkasse's clock".to_owned(),
    ));
    cases.push((
        "for another audience",
        grant(
            &|claims| claims["aud"] = json!("https://maskinporten.no/"),
            &ours,
        ),
        "invalid_grant",
        format!(
            "aud must be this token endpoint's audience, {}",
            app.token_audience()
        ),
    ));
    cases.push((
        "asking for an unknown scope",
        grant(
            &|claims| claims["scope"] = json!(format!("{CONTACT} krr:global/alt.read")),
            &ours,
        ),
        "invalid_scope",
        "unknown scope \"krr:global/alt.read\"".to_owned(),
    ));
    let mut wrong_grant_type = grant(&|_| {}, &ours);
    wrong_grant_type[0].1 = "client_credentials".to_owned();
    cases.push((
        "of the wrong grant type",
        wrong_grant_type,
        "unsupported_grant_type",
        JWT_BEARER.to_owned(),
    ));
    cases.push((
        "without an assertion",
        vec![("grant_type", JWT_BEARER.to_owned())],
        "invalid_request",
        "assertion".to_owned(),
    ));
    cases.push((
        "that is not a JWT",
        vec![
            ("grant_type", JWT_BEARER.to_owned()),
            ("assertion", "not-a-jwt".to_owned()),
        ],
        "invalid_grant",
        "not a JWT".to_owned(),
    ));

    for (what, form, error, detail) in &cases {
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, content_type, body) = refusal(app.post_token(&form).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "a grant {what}: {body}");
        assert_eq!(content_type, "application/problem+json", "a grant {what}");
        assert_eq!(body["status"], 400, "a grant {what}: {body}");
        assert_eq!(body["error"], *error, "a grant {what}: {body}");
        let said = body["detail"].as_str().unwrap();
        assert!(said.contains(detail.as_str()), "a grant {what}: {said}");
        assert!(body.get("access_token").is_none());
    }

    // Nothing was stored: every refused grant's jti can still be used.
    for jti in jtis {
        let mut claims = agency.grant_claims(&app, &[CONTACT]);
        claims["jti"] = json!(jti);
        let response = agency.exchange(&app, &agency.sign(&claims)).await;
        assert_eq!(response.status(), StatusCode::OK, "jti {jti} was spent");
    }
}

async fn a_grant_is_exchanged_only_once(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let agency = app.register_agency(BRREG, "Brønnøysundregistrene").await;
    let grant = agency.sign(&agency.grant_claims(&app, &[CONTACT]));
    assert_eq!(agency.exchange(&app, &grant).await.status(), StatusCode::OK);
    let (status, _, body) = refusal(agency.exchange(&app, &grant).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");
    assert!(
        body["detail"].as_str().unwrap().contains("used before"),
        "{body}"
    );
    // Another agency may use the same jti: ids are per client.
    let other = app
        .register_agency("991825827", "Digitaliseringsdirektoratet")
        .await;
    let mut claims = other.grant_claims(&app, &[CONTACT]);
    claims["jti"] = claims_of(&grant)["jti"].clone();
    assert_eq!(
        other.exchange(&app, &other.sign(&claims)).await.status(),
        StatusCode::OK
    );
}

async fn a_token_without_the_krr_scope_is_forbidden_from_the_lookup(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let agency = app.register_agency(BRREG, "Brønnøysundregistrene").await;
    let registered = app
        .database
        .agency_by_client_id(&agency.client_id)
        .await
        .unwrap()
        .expect("registered by the helper");
    assert_eq!(registered.name, agency.name);
    let token = agency.access_token(&app, &[SEND]).await;
    let response = app.lookup_with(&token).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

async fn access_tokens_live_as_configured_by_the_app_clock(backend: Backend) {
    let clock = Arc::new(ManualClock::starting_at(Utc::now()));
    let Some(app) = spawn_app_with_clock(
        backend,
        |settings| settings.maskinporten.token_lifetime_seconds = 60,
        clock.clone(),
    )
    .await
    else {
        return;
    };
    let agency = app.register_agency(BRREG, "Brønnøysundregistrene").await;
    // The grant is judged by the app's clock, so it is made by it too.
    clock.advance(Duration::days(3));
    let grant = agency.sign(&agency.grant_claims_at(&app, &[CONTACT], clock.now()));
    let response = agency.exchange(&app, &grant).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["expires_in"], 60);
    let token = body["access_token"].as_str().unwrap();
    assert_eq!(app.lookup_with(token).await.status(), StatusCode::OK);

    // A token in the same shape, signed by someone else, is no token.
    let forged = sign_grant_with(
        &registered_agency_key().private_key_pem,
        jsonwebtoken::decode_header(token).unwrap().kid.as_deref(),
        &claims_of(token),
    );
    assert_eq!(
        app.lookup_with(&forged).await.status(),
        StatusCode::UNAUTHORIZED
    );

    clock.advance(Duration::seconds(61));
    assert_eq!(
        app.lookup_with(token).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

async fn the_agency_commands_register_list_grant_and_refuse_bad_input(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let key = registered_agency_key();
    let key_file = key.public_key_file.to_str().unwrap();
    let output = app
        .run_cli(&[
            "agency",
            "add",
            "--org-nr",
            BRREG,
            "--name",
            "Brønnøysundregistrene",
            "--client-id",
            "brreg-client",
            "--public-key",
            key_file,
            "--avsenderidentifikator",
            "brreg",
            "--avsenderidentifikator",
            "brreg-innkreving",
            "--callback-url",
            "https://brreg.example.no/kvitteringer",
        ])
        .await;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let secret = stdout
        .lines()
        .find_map(|line| line.split_once("(shown only once): "))
        .map(|(_, secret)| secret.trim().to_owned())
        .expect("the callback secret is printed");
    assert!(secret.len() >= 43, "{stdout}");

    let stored = app
        .database
        .agency_by_client_id("brreg-client")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.org_nr.as_str(), BRREG);
    assert_eq!(
        stored.avsenderidentifikatorer,
        ["brreg", "brreg-innkreving"]
    );
    let callback = stored.callback.as_ref().unwrap();
    assert_eq!(
        callback.url.as_str(),
        "https://brreg.example.no/kvitteringer"
    );
    assert_eq!(
        secrecy::ExposeSecret::expose_secret(&callback.secret),
        secret
    );
    let by_org_nr = app
        .database
        .agency_by_org_nr(&stored.org_nr)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_org_nr.client_id, "brreg-client");

    let listed = app.run_cli(&["agency", "list"]).await;
    let listed = String::from_utf8_lossy(&listed.stdout).into_owned();
    assert!(listed.contains("brreg-client"), "{listed}");
    assert!(listed.contains("brreg-innkreving"), "{listed}");
    assert!(!listed.contains(&secret), "the secret is shown only once");

    // The sender-side helper makes a grant POST /token takes.
    let directory = tempfile::tempdir().unwrap();
    let private_key_file = directory.path().join("brreg-private.pem");
    std::fs::write(&private_key_file, &key.private_key_pem).unwrap();
    let audience = app.token_audience();
    let output = app
        .run_cli(&[
            "agency",
            "grant",
            "--client-id",
            "brreg-client",
            "--key",
            private_key_file.to_str().unwrap(),
            "--scope",
            CONTACT,
            "--audience",
            &audience,
        ])
        .await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let grant = String::from_utf8(output.stdout).unwrap().trim().to_owned();
    let agency = TestAgency {
        org_nr: BRREG.into(),
        name: "Brønnøysundregistrene".into(),
        client_id: "brreg-client".into(),
        private_key_pem: key.private_key_pem.clone(),
    };
    let response = agency.exchange(&app, &grant).await;
    assert_eq!(response.status(), StatusCode::OK);

    // Bad input: a message and a non-zero exit, and nothing registered.
    let short_key = {
        use rsa::pkcs8::{EncodePublicKey, LineEnding};
        let key = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 1024).unwrap();
        let file = directory.path().join("short.pem");
        std::fs::write(
            &file,
            key.to_public_key()
                .to_public_key_pem(LineEnding::LF)
                .unwrap(),
        )
        .unwrap();
        file
    };
    let not_a_key = directory.path().join("not-a-key.pem");
    std::fs::write(&not_a_key, "hello").unwrap();
    let cases: [(&str, Vec<&str>); 4] = [
        (
            "at least 2048",
            vec![
                "--org-nr",
                "991825827",
                "--client-id",
                "short",
                "--public-key",
                short_key.to_str().unwrap(),
            ],
        ),
        (
            "PEM RSA public key",
            vec![
                "--org-nr",
                "991825827",
                "--client-id",
                "garbage",
                "--public-key",
                not_a_key.to_str().unwrap(),
            ],
        ),
        (
            "already another agency's",
            vec![
                "--org-nr",
                "991825827",
                "--client-id",
                "brreg-client",
                "--public-key",
                key_file,
            ],
        ),
        (
            "callback URL",
            vec![
                "--org-nr",
                "991825827",
                "--client-id",
                "digdir",
                "--public-key",
                key_file,
                "--callback-url",
                "not a url",
            ],
        ),
    ];
    for (expected, arguments) in cases {
        let mut args = vec!["agency", "add", "--name", "Digitaliseringsdirektoratet"];
        args.extend(arguments);
        let output = app.run_cli(&args).await;
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(!output.status.success(), "{args:?} succeeded");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
    let registered = app.database.agencies().await.unwrap();
    assert_eq!(registered.len(), 1, "{registered:?}");
}

on_both_backends!(
    a_good_grant_gives_a_token_that_looks_people_up,
    bad_grants_are_refused_with_the_right_error_and_spend_nothing,
    a_grant_is_exchanged_only_once,
    a_token_without_the_krr_scope_is_forbidden_from_the_lookup,
    access_tokens_live_as_configured_by_the_app_clock,
    the_agency_commands_register_list_grant_and_refuse_bad_input,
);
