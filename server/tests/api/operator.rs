//! The operators' console: the development sink's page is shown only in an
//! operator session, opened with a single-use code the command line prints;
//! citizens' sessions and operators' sessions grant nothing of each other's.

use crate::helpers::{
    citizen, on_both_backends, set_cookie_header, set_cookie_value, spawn_app,
    spawn_app_with_clock, Backend, TestApp,
};
use app::domain::NoticeChannel;
use chrono::{Duration, Utc};
use postkasse::{
    clock::{ManualClock, SystemClock},
    notify::channels::{sink::SinkSender, NoticeSender, OutgoingNotice},
};
use reqwest::{header, StatusCode};
use std::sync::Arc;
use uuid::Uuid;

on_both_backends!(
    the_sink_page_needs_an_operator_session,
    a_printed_link_signs_in_once_and_shows_the_sink,
    codes_and_sessions_expire_and_other_sites_cannot_sign_in,
);

const OPERATOR_COOKIE: &str = "__Host-postkasse-drift";
const ADDRESS: &str = "kari.nordmann@example.no";
const TEXT: &str = "Du har fått et brev fra Skatteetaten i Postkasse.";

/// A notice stored by the real sink channel, as a worker stores it.
async fn notice_in_sink(app: &TestApp) -> Uuid {
    let key = Uuid::new_v4();
    let sink = SinkSender {
        notices: Arc::new(app.database.clone()),
        clock: Arc::new(SystemClock),
    };
    sink.send(&OutgoingNotice {
        key,
        channel: NoticeChannel::Email,
        address: ADDRESS.to_owned(),
        text: TEXT.to_owned(),
    })
    .await
    .expect("the sink stores the notice");
    key
}

/// A code from `postkasse operator login-link`, read off the link it prints.
pub(crate) async fn printed_code(app: &TestApp) -> String {
    let output = app.run_cli(&["operator", "login-link"]).await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let link = String::from_utf8(output.stdout).unwrap();
    let (page, code) = link
        .trim()
        .split_once("?kode=")
        .unwrap_or_else(|| panic!("a link with the code: {link}"));
    assert!(page.ends_with("/drift/logg-inn"), "{link}");
    assert!(code.len() >= 40, "an unguessable code: {code}");
    code.to_owned()
}

pub(crate) async fn sign_in(app: &TestApp, code: &str) -> reqwest::Response {
    app.client
        .post(app.url("/drift/logg-inn"))
        .form(&[("kode", code)])
        .send()
        .await
        .unwrap()
}

/// A signed-in operator's cookie header, from a printed code.
pub(crate) async fn operator_cookie(app: &TestApp) -> String {
    let code = printed_code(app).await;
    let signed_in = sign_in(app, &code).await;
    let session = set_cookie_value(&signed_in, OPERATOR_COOKIE).expect("an operator session");
    operator(&session)
}

pub(crate) async fn get(app: &TestApp, path: &str, cookies: &str) -> (StatusCode, String) {
    let response = app
        .client
        .get(app.url(path))
        .header(header::COOKIE, cookies)
        .send()
        .await
        .unwrap();
    (response.status(), response.text().await.unwrap())
}

fn operator(session: &str) -> String {
    format!("{OPERATOR_COOKIE}={session}")
}

async fn the_sink_page_needs_an_operator_session(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    notice_in_sink(&app).await;

    let (status, page) = get(&app, "/drift/varsler", "").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(page.contains(r#"href="/drift/logg-inn""#), "{page}");
    assert!(!page.contains(ADDRESS), "{page}");

    // A citizen is not an operator, whatever their level.
    let session = app.login_as(&citizen(3)).await;
    let (status, page) = get(
        &app,
        "/drift/varsler",
        &format!("__Host-postkasse-session={session}"),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(!page.contains(ADDRESS), "{page}");

    let server_function = app
        .client
        .post(app.url("/api/sink_notices"))
        .header(
            header::COOKIE,
            format!("__Host-postkasse-session={session}"),
        )
        .header(header::ACCEPT, "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(server_function.status(), StatusCode::UNAUTHORIZED);
    assert!(!server_function.text().await.unwrap().contains(ADDRESS));

    // A made-up operator cookie is no session.
    let (status, _) = get(&app, "/drift/varsler", &operator("made-up")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

async fn a_printed_link_signs_in_once_and_shows_the_sink(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let key = notice_in_sink(&app).await;
    let code = printed_code(&app).await;

    // The link's page has the code filled in, ready to post.
    let (status, form) = get(&app, &format!("/drift/logg-inn?kode={code}"), "").await;
    assert_eq!(status, StatusCode::OK);
    assert!(form.contains(&format!(r#"value="{code}""#)), "{form}");
    assert!(form.contains(r#"action="/drift/logg-inn""#), "{form}");

    let signed_in = sign_in(&app, &code).await;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    assert_eq!(signed_in.headers()[header::LOCATION], "/drift/varsler");
    let cookie = set_cookie_header(&signed_in, OPERATOR_COOKIE).expect("an operator session");
    for attribute in [
        "Secure",
        "HttpOnly",
        "SameSite=Strict",
        "Path=/",
        "Max-Age=3600",
    ] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }
    let session = set_cookie_value(&signed_in, OPERATOR_COOKIE).unwrap();

    let (status, page) = get(&app, "/drift/varsler", &operator(&session)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Varsler i utviklingskanalen"), "{page}");
    assert!(page.contains(ADDRESS), "{page}");
    assert!(page.contains(TEXT), "{page}");
    assert!(page.contains(&key.to_string()), "{page}");
    assert!(page.contains("lagres i utviklingskanalen"), "{page}");

    // The code is used up.
    let again = sign_in(&app, &code).await;
    assert_eq!(again.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        again.headers()[header::LOCATION],
        "/drift/logg-inn?feil=kode"
    );
    assert!(set_cookie_header(&again, OPERATOR_COOKIE).is_none());
    let (_, refused) = get(&app, "/drift/logg-inn?feil=kode", "").await;
    assert!(refused.contains(r#"aria-invalid="true""#), "{refused}");
    assert!(refused.contains("ukjent, brukt eller utløpt"), "{refused}");
    for made_up in ["", "not-a-code"] {
        let refused = sign_in(&app, made_up).await;
        assert_eq!(
            refused.headers()[header::LOCATION],
            "/drift/logg-inn?feil=kode"
        );
    }

    // An operator is not a citizen.
    let (status, _) = get(&app, "/innboks", &operator(&session)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let signed_out = app
        .client
        .post(app.url("/drift/logg-ut"))
        .header(header::COOKIE, operator(&session))
        .send()
        .await
        .unwrap();
    assert_eq!(signed_out.status(), StatusCode::SEE_OTHER);
    let removal = set_cookie_header(&signed_out, OPERATOR_COOKIE).expect("the cookie is removed");
    assert!(removal.contains("Max-Age=0"), "{removal}");
    let (status, page) = get(&app, "/drift/varsler", &operator(&session)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(!page.contains(ADDRESS), "{page}");
}

async fn codes_and_sessions_expire_and_other_sites_cannot_sign_in(backend: Backend) {
    let clock = Arc::new(ManualClock::starting_at(Utc::now()));
    let Some(app) = spawn_app_with_clock(backend, |_| {}, clock.clone()).await else {
        return;
    };
    notice_in_sink(&app).await;

    let code = printed_code(&app).await;
    let cross_site = app
        .client
        .post(app.url("/drift/logg-inn"))
        .header("sec-fetch-site", "cross-site")
        .form(&[("kode", code.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), StatusCode::FORBIDDEN);
    assert!(set_cookie_header(&cross_site, OPERATOR_COOKIE).is_none());

    let not_a_form = app
        .client
        .post(app.url("/drift/logg-inn"))
        .json(&serde_json::json!({ "kode": code }))
        .send()
        .await
        .unwrap();
    assert_eq!(not_a_form.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        not_a_form.headers()[header::CONTENT_TYPE],
        "application/problem+json"
    );
    let problem: serde_json::Value = not_a_form.json().await.unwrap();
    assert_eq!(problem["invalid-params"][0]["name"], "kode", "{problem}");

    // Neither refusal used the code up; ten minutes later it has expired.
    clock.advance(Duration::minutes(11));
    let late = sign_in(&app, &code).await;
    assert_eq!(
        late.headers()[header::LOCATION],
        "/drift/logg-inn?feil=kode"
    );

    let code = printed_code(&app).await;
    clock.advance(Duration::minutes(-11));
    let signed_in = sign_in(&app, &code).await;
    let session = set_cookie_value(&signed_in, OPERATOR_COOKIE).expect("signed in");
    let (status, _) = get(&app, "/drift/varsler", &operator(&session)).await;
    assert_eq!(status, StatusCode::OK);

    // Signing in again in the same browser ends the session it had.
    let code = printed_code(&app).await;
    let again = app
        .client
        .post(app.url("/drift/logg-inn"))
        .header(header::COOKIE, operator(&session))
        .form(&[("kode", code.as_str())])
        .send()
        .await
        .unwrap();
    let replaced = session;
    let session = set_cookie_value(&again, OPERATOR_COOKIE).expect("signed in again");
    assert_ne!(session, replaced);
    let (status, _) = get(&app, "/drift/varsler", &operator(&replaced)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = get(&app, "/drift/varsler", &operator(&session)).await;
    assert_eq!(status, StatusCode::OK);
    // Use does not extend it: an hour after signing in it is over.
    clock.advance(Duration::minutes(59));
    let (status, _) = get(&app, "/drift/varsler", &operator(&session)).await;
    assert_eq!(status, StatusCode::OK);
    clock.advance(Duration::minutes(2));
    let (status, page) = get(&app, "/drift/varsler", &operator(&session)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(!page.contains(ADDRESS), "{page}");
}
