//! Logging in through the built-in TestID provider, sessions, logout, step-up,
//! and the inbox seen by two citizens.

use crate::helpers::{
    citizen, on_both_backends, set_cookie_header, set_cookie_value, spawn_app,
    spawn_app_with_clock, Backend, TestApp,
};
use app::domain::Fnr;
use chrono::{Duration, Utc};
use postkasse::auth::Store as _;
use postkasse::clock::ManualClock;
use reqwest::{header, StatusCode};
use sha2::{Digest, Sha256};
use std::sync::Arc;

const SUBSTANTIAL: &str = "idporten-loa-substantial";
const HIGH: &str = "idporten-loa-high";

/// `name="…" value="…"` pairs of the hidden inputs of a TestID form.
fn hidden_fields(html: &str) -> Vec<(String, String)> {
    html.split("<input type=\"hidden\" ")
        .skip(1)
        .filter_map(|input| {
            let name = input.split("name=\"").nth(1)?.split('"').next()?;
            let value = input.split("value=\"").nth(1)?.split('"').next()?;
            Some((
                name.to_owned(),
                html_escape::decode_html_entities(value).into_owned(),
            ))
        })
        .collect()
}

/// What came back to the browser at the end of a login.
struct LoginOutcome {
    status: StatusCode,
    location: Option<String>,
    session: Option<String>,
    session_set_cookie: Option<String>,
}

/// Logs in at the Postkasse at `address` through its TestID: asks for
/// `level` ("substantial"/"high"), the tester then picks `acr` and types
/// `pid`. `session` is a session cookie the browser already has.
#[allow(clippy::too_many_arguments)]
async fn login_at(
    client: &reqwest::Client,
    address: &str,
    pid: &Fnr,
    level: &str,
    acr: &str,
    return_to: &str,
    session: Option<&str>,
) -> LoginOutcome {
    let start = client
        .get(format!(
            "{address}/auth/login?level={level}&return_to={return_to}"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(start.status(), StatusCode::SEE_OTHER);
    let binding = set_cookie_value(&start, "__Host-postkasse-login").expect("login cookie");
    let authorize = start.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned();
    let page = client.get(&authorize).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let mut form = hidden_fields(&page.text().await.unwrap());
    form.push(("pid".into(), pid.as_str().into()));
    form.push(("acr".into(), acr.into()));
    let submitted = client
        .post(format!("{address}/testid/authorize"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(submitted.status(), StatusCode::SEE_OTHER);
    let callback = submitted.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned();
    let mut cookies = format!("__Host-postkasse-login={binding}");
    if let Some(session) = session {
        cookies.push_str(&format!("; __Host-postkasse-session={session}"));
    }
    let finished = client
        .get(&callback)
        .header(header::COOKIE, cookies)
        .send()
        .await
        .unwrap();
    let session_set_cookie = set_cookie_header(&finished, "__Host-postkasse-session");
    LoginOutcome {
        status: finished.status(),
        location: finished
            .headers()
            .get(header::LOCATION)
            .map(|value| value.to_str().unwrap().to_owned()),
        session: set_cookie_value(&finished, "__Host-postkasse-session")
            .filter(|value| !value.is_empty()),
        session_set_cookie,
    }
}

/// Logs `pid` in at the Postkasse at `address`; the session cookie's value.
pub(crate) async fn login_as_at(client: &reqwest::Client, address: &str, pid: &Fnr) -> String {
    let outcome = login_at(
        client,
        address,
        pid,
        "substantial",
        SUBSTANTIAL,
        "/innboks",
        None,
    )
    .await;
    assert_eq!(outcome.status, StatusCode::SEE_OTHER);
    outcome.session.expect("session cookie")
}

/// A page at the Postkasse at `address`, in a session.
pub(crate) async fn get_at(
    client: &reqwest::Client,
    address: &str,
    path: &str,
    session: &str,
) -> reqwest::Response {
    client
        .get(format!("{address}{path}"))
        .header(
            header::COOKIE,
            format!("__Host-postkasse-session={session}"),
        )
        .send()
        .await
        .unwrap()
}

/// Calls a server function at the Postkasse at `address` in a session.
pub(crate) async fn server_fn_at(
    client: &reqwest::Client,
    address: &str,
    name: &str,
    form: &[(&str, String)],
    session: &str,
) -> reqwest::Response {
    client
        .post(format!("{address}/api/{name}"))
        .header(
            header::COOKIE,
            format!("__Host-postkasse-session={session}"),
        )
        .form(form)
        .send()
        .await
        .unwrap()
}

impl TestApp {
    async fn login(
        &self,
        pid: &Fnr,
        level: &str,
        acr: &str,
        return_to: &str,
        session: Option<&str>,
    ) -> LoginOutcome {
        login_at(
            &self.client,
            &self.address,
            pid,
            level,
            acr,
            return_to,
            session,
        )
        .await
    }

    pub(crate) async fn login_as(&self, pid: &Fnr) -> String {
        login_as_at(&self.client, &self.address, pid).await
    }

    /// A session at level high, logged in afresh.
    pub(crate) async fn login_at_high(&self, pid: &Fnr) -> String {
        let outcome = self.login(pid, "high", HIGH, "/innboks", None).await;
        assert_eq!(outcome.status, StatusCode::SEE_OTHER);
        outcome.session.expect("session cookie")
    }

    pub(crate) async fn get_as(&self, path: &str, session: &str) -> reqwest::Response {
        get_at(&self.client, &self.address, path, session).await
    }

    pub(crate) async fn server_fn_as(
        &self,
        name: &str,
        form: &[(&str, String)],
        session: &str,
    ) -> reqwest::Response {
        server_fn_at(&self.client, &self.address, name, form, session).await
    }

    /// The provider session id recorded for a session cookie.
    async fn provider_sid(&self, session: &str) -> Option<String> {
        let id_hash = hex::encode(Sha256::digest(session.as_bytes()));
        self.database
            .session(&id_hash)
            .await
            .unwrap()
            .and_then(|stored| stored.provider_sid)
    }
}

async fn a_citizen_logs_in_and_sees_their_own_inbox(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (kari, ola) = (citizen(1), citizen(2));
    app.deliver_letter(&kari, 3, "Karis vedtak").await;
    app.deliver_letter(&ola, 3, "Olas vedtak").await;

    let outcome = app
        .login(&kari, "substantial", SUBSTANTIAL, "/innboks", None)
        .await;
    assert_eq!(outcome.status, StatusCode::SEE_OTHER);
    assert_eq!(outcome.location.as_deref(), Some("/innboks"));
    let attributes = outcome.session_set_cookie.clone().unwrap();
    for attribute in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(
            attributes.contains(attribute),
            "{attributes} lacks {attribute}"
        );
    }
    assert!(
        !attributes.to_ascii_lowercase().contains("domain="),
        "__Host- cookies have no Domain"
    );

    let inbox = app.get_as("/innboks", &outcome.session.unwrap()).await;
    assert_eq!(inbox.status(), StatusCode::OK);
    let html = inbox.text().await.unwrap();
    assert!(html.contains("Karis vedtak"));
    assert!(!html.contains("Olas vedtak"));
    assert!(html.contains("Logg ut"));
}

async fn another_citizens_letter_is_not_found_anywhere(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (kari, ola) = (citizen(3), citizen(4));
    let karis_letter = app.deliver_letter(&kari, 3, "Karis vedtak").await;
    let kari_session = app.login_as(&kari).await;
    let ola_session = app.login_as(&ola).await;

    // Kari herself can reach all of it, so the 404s below are about ownership.
    assert_eq!(
        app.get_as(&format!("/brev/{karis_letter}"), &kari_session)
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        app.get_as(&format!("/dokumenter/{karis_letter}/0"), &kari_session)
            .await
            .status(),
        StatusCode::OK
    );
    let own = app
        .server_fn_as(
            "open_letter",
            &[("id", karis_letter.to_string())],
            &kari_session,
        )
        .await;
    assert_eq!(own.status(), StatusCode::OK);

    let page = app
        .get_as(&format!("/brev/{karis_letter}"), &ola_session)
        .await;
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
    assert!(!page.text().await.unwrap().contains("Karis vedtak"));
    let document = app
        .get_as(&format!("/dokumenter/{karis_letter}/0"), &ola_session)
        .await;
    assert_eq!(document.status(), StatusCode::NOT_FOUND);
    let server_fn = app
        .server_fn_as(
            "open_letter",
            &[("id", karis_letter.to_string())],
            &ola_session,
        )
        .await;
    assert_eq!(server_fn.status(), StatusCode::NOT_FOUND);
    assert!(!server_fn.text().await.unwrap().contains("Karis vedtak"));
    let inbox = app.server_fn_as("list_inbox", &[], &ola_session).await;
    assert_eq!(inbox.status(), StatusCode::OK);
    let inbox: serde_json::Value = inbox.json().await.unwrap();
    assert_eq!(inbox["entries"], serde_json::json!([]));
    assert_eq!(inbox["total"], 0);
}

async fn nothing_is_served_without_a_session(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let letter = app.deliver_letter(&citizen(5), 3, "Vedtak").await;
    for path in [
        "/innboks".to_owned(),
        format!("/brev/{letter}"),
        format!("/dokumenter/{letter}/0"),
    ] {
        let response = app.client.get(app.url(&path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{path}");
        assert!(!response.text().await.unwrap().contains("Vedtak"), "{path}");
    }
    let forged = app.get_as("/innboks", "not-a-real-session").await;
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
}

async fn the_session_id_changes_at_every_login(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let kari = citizen(6);
    let first = app.login_as(&kari).await;
    let second = app
        .login(&kari, "substantial", SUBSTANTIAL, "/innboks", Some(&first))
        .await
        .session
        .unwrap();
    assert_ne!(first, second);
    assert_eq!(
        app.get_as("/innboks", &first).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get_as("/innboks", &second).await.status(),
        StatusCode::OK
    );
}

async fn logout_ends_the_session_and_visits_the_providers_end_session(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let session = app.login_as(&citizen(7)).await;
    let logout = app
        .client
        .post(app.url("/auth/logout"))
        .header(
            header::COOKIE,
            format!("__Host-postkasse-session={session}"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), StatusCode::SEE_OTHER);
    let location = logout.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        location.starts_with(&app.url("/testid/endsession?id_token_hint=")),
        "{location}"
    );
    let removal = set_cookie_header(&logout, "__Host-postkasse-session").unwrap();
    assert!(removal.contains("Max-Age=0"), "{removal}");
    assert_eq!(
        app.get_as("/innboks", &session).await.status(),
        StatusCode::UNAUTHORIZED
    );

    // The provider's logout page frames our front-channel endpoint with the session's sid.
    let page = app
        .client
        .get(&location)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("/auth/frontchannel-logout?iss="), "{page}");
}

async fn a_cross_site_logout_is_refused(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let session = app.login_as(&citizen(13)).await;
    for (name, value) in [
        ("sec-fetch-site", "cross-site"),
        ("origin", "https://evil.example"),
    ] {
        let response = app
            .client
            .post(app.url("/auth/logout"))
            .header(
                header::COOKIE,
                format!("__Host-postkasse-session={session}"),
            )
            .header(name, value)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{name}: {value}");
    }
    let server_fn = app
        .client
        .post(app.url("/api/list_inbox"))
        .header(
            header::COOKIE,
            format!("__Host-postkasse-session={session}"),
        )
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(server_fn.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        app.get_as("/innboks", &session).await.status(),
        StatusCode::OK,
        "the session survived"
    );
    let same_origin = app
        .client
        .post(app.url("/auth/logout"))
        .header(
            header::COOKIE,
            format!("__Host-postkasse-session={session}"),
        )
        .header("origin", app.address.as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(same_origin.status(), StatusCode::SEE_OTHER);
}

async fn front_channel_logout_ends_the_session_with_that_sid(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let session = app.login_as(&citizen(8)).await;
    let sid = app
        .provider_sid(&session)
        .await
        .expect("TestID sends a sid");
    let issuer = app.url("/testid");

    let wrong_issuer = app
        .client
        .get(app.url("/auth/frontchannel-logout"))
        .query(&[("iss", "https://evil.example"), ("sid", sid.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_issuer.status(), StatusCode::OK);
    assert_eq!(
        app.get_as("/innboks", &session).await.status(),
        StatusCode::OK,
        "another issuer cannot end it"
    );

    let response = app
        .client
        .get(app.url("/auth/frontchannel-logout"))
        .query(&[("iss", issuer.as_str()), ("sid", sid.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let policy = response.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        policy.contains(&format!("frame-ancestors 'self' {}", app.address)),
        "{policy}"
    );
    assert_eq!(
        app.get_as("/innboks", &session).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

async fn a_level_4_letter_needs_a_step_up_to_high(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let kari = citizen(9);
    let letter = app
        .deliver_letter(&kari, 4, "Vedtak om foreldrepenger")
        .await;
    let substantial = app.login_as(&kari).await;

    let page = app
        .get_as(&format!("/brev/{letter}"), &substantial)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        !page.contains("Vedtak om foreldrepenger"),
        "the sensitive title stays hidden"
    );
    assert!(page.contains("Brev fra Brønnøysundregistrene"));
    let step_up = format!("/auth/login?level=high&amp;return_to=/brev/{letter}");
    assert!(page.contains(&step_up), "{page}");
    let inbox = app
        .get_as("/innboks", &substantial)
        .await
        .text()
        .await
        .unwrap();
    assert!(!inbox.contains("Vedtak om foreldrepenger"));
    let document = app
        .get_as(&format!("/dokumenter/{letter}/0"), &substantial)
        .await;
    assert_eq!(document.status(), StatusCode::FORBIDDEN);

    let return_to = format!("/brev/{letter}");
    let outcome = app
        .login(&kari, "high", HIGH, &return_to, Some(&substantial))
        .await;
    assert_eq!(
        outcome.location.as_deref(),
        Some(return_to.as_str()),
        "back where the citizen was"
    );
    let high = outcome.session.unwrap();
    let page = app.get_as(&return_to, &high).await.text().await.unwrap();
    assert!(page.contains("Vedtak om foreldrepenger"));
    let document = app.get_as(&format!("/dokumenter/{letter}/0"), &high).await;
    assert_eq!(document.status(), StatusCode::OK);
    assert_eq!(document.headers()[header::CONTENT_TYPE], "application/pdf");
    assert_eq!(document.headers()[header::CACHE_CONTROL], "no-store");
    assert!(document.headers()[header::CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .starts_with("inline; filename="));
}

async fn a_login_below_the_requested_level_is_refused(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let outcome = app
        .login(&citizen(10), "high", SUBSTANTIAL, "/innboks", None)
        .await;
    assert_eq!(outcome.status, StatusCode::BAD_REQUEST);
    assert_eq!(outcome.session, None);
}

async fn sessions_end_after_30_idle_minutes(backend: Backend) {
    let clock = Arc::new(ManualClock::starting_at(Utc::now()));
    let Some(app) = spawn_app_with_clock(backend, |_| {}, clock.clone()).await else {
        return;
    };
    let session = app.login_as(&citizen(11)).await;
    clock.advance(Duration::minutes(29));
    assert_eq!(
        app.get_as("/innboks", &session).await.status(),
        StatusCode::OK,
        "29 idle minutes are fine"
    );
    clock.advance(Duration::minutes(29));
    assert_eq!(
        app.get_as("/innboks", &session).await.status(),
        StatusCode::OK,
        "the last visit reset the idle time"
    );
    clock.advance(Duration::minutes(31));
    assert_eq!(
        app.get_as("/innboks", &session).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

async fn sessions_end_after_120_minutes_however_busy(backend: Backend) {
    let clock = Arc::new(ManualClock::starting_at(Utc::now()));
    let Some(app) = spawn_app_with_clock(backend, |_| {}, clock.clone()).await else {
        return;
    };
    let session = app.login_as(&citizen(12)).await;
    for _ in 0..5 {
        clock.advance(Duration::minutes(20));
        assert_eq!(
            app.get_as("/innboks", &session).await.status(),
            StatusCode::OK
        );
    }
    clock.advance(Duration::minutes(21));
    assert_eq!(
        app.get_as("/innboks", &session).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

/// TestID refuses a number whose birth date has not come, saying why, and
/// keeps the tester on its form.
async fn testid_refuses_an_id_born_in_the_future(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let start = app.client.get(app.url("/auth/login")).send().await.unwrap();
    let authorize = start.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned();
    let page = app.client.get(&authorize).send().await.unwrap();
    let mut form = hidden_fields(&page.text().await.unwrap());
    form.push(("pid".into(), crate::krr::born_in_2035().as_str().into()));
    form.push(("acr".into(), SUBSTANTIAL.into()));
    let refused = app
        .client
        .post(app.url("/testid/authorize"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let text = refused.text().await.unwrap();
    assert!(
        text.contains("har en fødselsdato som ikke er kommet ennå"),
        "{text}"
    );
}

/// Logins started and never finished are swept once they are stale, when
/// the next login starts: they do not pile up in the database.
async fn logins_never_finished_are_swept(backend: Backend) {
    let clock = Arc::new(ManualClock::starting_at(Utc::now()));
    let Some(app) = spawn_app_with_clock(backend, |_| {}, clock.clone()).await else {
        return;
    };
    let start = || async {
        let response = app.client.get(app.url("/auth/login")).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
    };
    let attempts =
        || crate::helpers::count_in(&app.database_url, "SELECT COUNT(*) FROM login_attempt");
    for _ in 0..3 {
        start().await;
    }
    assert_eq!(attempts().await, 3);
    clock.advance(postkasse::auth::LOGIN_LIFETIME + Duration::seconds(1));
    start().await;
    assert_eq!(attempts().await, 1, "only the new one is left");
}

on_both_backends!(
    logins_never_finished_are_swept,
    testid_refuses_an_id_born_in_the_future,
    a_citizen_logs_in_and_sees_their_own_inbox,
    another_citizens_letter_is_not_found_anywhere,
    nothing_is_served_without_a_session,
    the_session_id_changes_at_every_login,
    logout_ends_the_session_and_visits_the_providers_end_session,
    a_cross_site_logout_is_refused,
    front_channel_logout_ends_the_session_with_that_sid,
    a_level_4_letter_needs_a_step_up_to_high,
    a_login_below_the_requested_level_is_refused,
    sessions_end_after_30_idle_minutes,
    sessions_end_after_120_minutes_however_busy,
);
