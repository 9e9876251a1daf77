//! The page language: bokmål by default whatever the browser asks for,
//! English after the switch, which is a plain form post guarded like every
//! other, and which never sends the browser to another site.

use crate::helpers::{
    citizen, on_both_backends, set_cookie_header, set_cookie_value, spawn_app, Backend, TestApp,
};
use reqwest::{header, StatusCode};

on_both_backends!(
    pages_are_in_bokmaal_until_nynorsk_or_english_is_chosen,
    the_switch_refuses_bad_input_and_other_sites,
    a_citizens_pages_and_refusals_follow_the_choice,
);

const LANGUAGE_COOKIE: &str = "__Host-postkasse-sprak";

async fn switch(app: &TestApp, form: &[(&str, &str)]) -> reqwest::Response {
    app.client
        .post(app.url("/sprak"))
        .form(form)
        .send()
        .await
        .unwrap()
}

async fn page(app: &TestApp, path: &str, cookies: &str) -> (StatusCode, String) {
    let response = app
        .client
        .get(app.url(path))
        .header(header::COOKIE, cookies)
        // The browser's wish is not the citizen's choice.
        .header(header::ACCEPT_LANGUAGE, "en-GB,en;q=0.9")
        .send()
        .await
        .unwrap();
    assert!(
        set_cookie_header(&response, LANGUAGE_COOKIE).is_none(),
        "rendering a page never sets the language"
    );
    (response.status(), response.text().await.unwrap())
}

async fn pages_are_in_bokmaal_until_nynorsk_or_english_is_chosen(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (status, front) = page(&app, "/", "").await;
    assert_eq!(status, StatusCode::OK);
    assert!(front.contains(r#"<html lang="nb""#), "{front}");
    assert!(front.contains("Din digitale postkasse"), "{front}");
    assert!(
        front.contains(r#"name="sprak" value="en" lang="en""#),
        "the switch offers English, named in English: {front}"
    );

    let chosen = switch(&app, &[("sprak", "en"), ("tilbake", "/?side=2")]).await;
    assert_eq!(chosen.status(), StatusCode::SEE_OTHER);
    assert_eq!(chosen.headers()[header::LOCATION], "/?side=2");
    let cookie = set_cookie_header(&chosen, LANGUAGE_COOKIE).expect("the choice is remembered");
    for attribute in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/", "Max-Age="] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }
    let value = set_cookie_value(&chosen, LANGUAGE_COOKIE).unwrap();
    assert_eq!(value, "en");

    let (_, english) = page(&app, "/", &format!("{LANGUAGE_COOKIE}=en")).await;
    assert!(english.contains(r#"<html lang="en""#), "{english}");
    assert!(english.contains("Your digital mailbox"), "{english}");
    assert!(!english.contains("Din digitale postkasse"), "{english}");
    assert!(
        english.contains(r#"name="sprak" value="nb" lang="nb""#),
        "the switch offers bokmål back: {english}"
    );

    // Nynorsk, the third language: offered on every page, named in itself.
    assert!(
        front.contains(r#"name="sprak" value="nn" lang="nn""#),
        "the switch offers nynorsk: {front}"
    );
    let chosen = switch(&app, &[("sprak", "nn"), ("tilbake", "/")]).await;
    assert_eq!(chosen.status(), StatusCode::SEE_OTHER);
    assert_eq!(set_cookie_value(&chosen, LANGUAGE_COOKIE).unwrap(), "nn");
    let (_, nynorsk) = page(&app, "/", &format!("{LANGUAGE_COOKIE}=nn")).await;
    assert!(nynorsk.contains(r#"<html lang="nn""#), "{nynorsk}");
    assert!(nynorsk.contains("Den digitale postkassa di"), "{nynorsk}");
    for other in ["nb", "en"] {
        assert!(
            nynorsk.contains(&format!(r#"name="sprak" value="{other}" lang="{other}""#)),
            "the switch offers {other}: {nynorsk}"
        );
    }
    let (_, missing) = page(&app, "/finnes-ikke", &format!("{LANGUAGE_COOKIE}=nn")).await;
    assert!(missing.contains(r#"<html lang="nn""#), "{missing}");

    let (status, missing) = page(&app, "/finnes-ikke", &format!("{LANGUAGE_COOKIE}=en")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(missing.contains("Page not found"), "{missing}");

    // An unknown value in the cookie is no choice at all.
    let (_, unknown) = page(&app, "/", &format!("{LANGUAGE_COOKIE}=fr")).await;
    assert!(unknown.contains(r#"<html lang="nb""#), "{unknown}");
}

async fn the_switch_refuses_bad_input_and_other_sites(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    for language in ["fr", "", "EN"] {
        let refused = switch(&app, &[("sprak", language)]).await;
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
        assert!(set_cookie_header(&refused, LANGUAGE_COOKIE).is_none());
        assert_eq!(
            refused.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
        let problem: serde_json::Value = refused.json().await.unwrap();
        assert_eq!(problem["invalid-params"][0]["name"], "sprak", "{problem}");
    }

    for elsewhere in [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
    ] {
        let sent = switch(&app, &[("sprak", "en"), ("tilbake", elsewhere)]).await;
        assert_eq!(sent.status(), StatusCode::SEE_OTHER);
        assert_eq!(sent.headers()[header::LOCATION], "/", "{elsewhere}");
    }

    let cross_site = app
        .client
        .post(app.url("/sprak"))
        .header("sec-fetch-site", "cross-site")
        .form(&[("sprak", "en")])
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), StatusCode::FORBIDDEN);
    assert!(set_cookie_header(&cross_site, LANGUAGE_COOKIE).is_none());
}

async fn a_citizens_pages_and_refusals_follow_the_choice(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let kari = citizen(3);
    let session = app.login_as(&kari).await;
    let english = format!("__Host-postkasse-session={session}; {LANGUAGE_COOKIE}=en");

    let (status, inbox) = page(&app, "/innboks", &english).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        inbox.contains("<title>Inbox – Postkasse</title>"),
        "{inbox}"
    );
    assert!(inbox.contains("You have no letters here."), "{inbox}");
    assert!(inbox.contains("Log out"), "{inbox}");

    let (status, refused) = page(&app, "/sok?fra=tjue", &english).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.contains("From year: must be a year"), "{refused}");

    let bokmaal = format!("__Host-postkasse-session={session}");
    let (_, refused) = page(&app, "/sok?fra=tjue", &bokmaal).await;
    assert!(refused.contains("Fra år: må være et årstall"), "{refused}");
    let (_, settings) = page(&app, "/innstillinger", &bokmaal).await;
    assert!(settings.contains("Kontaktinformasjon"), "{settings}");
    let (_, settings) = page(&app, "/innstillinger", &english).await;
    assert!(settings.contains("Contact information"), "{settings}");
}
