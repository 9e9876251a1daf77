//! "Min aktivitet": a citizen's logins (level, browser), exports of the
//! archive, and the agencies that looked up their contact details, newest
//! first, each citizen's own and nobody else's.

use crate::helpers::{
    citizen, on_both_backends, spawn_app, test_letter, Backend, TestApp, TEST_SENDER,
};
use app::domain::Fnr;
use reqwest::StatusCode;
use serde_json::{json, Value};

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";

impl TestApp {
    async fn activity_of(&self, session: &str) -> Vec<Value> {
        let response = self.server_fn_as("load_activity", &[], session).await;
        assert_eq!(response.status(), StatusCode::OK);
        let entries: Vec<Value> = response.json().await.unwrap();
        entries
            .into_iter()
            .map(|entry| entry["kind"].clone())
            .collect()
    }

    async fn look_up(&self, scope: &str, persons: &[&Fnr]) {
        let token = self.issue_token(&[scope]).await;
        let ids: Vec<&str> = persons.iter().map(|fnr| fnr.as_str()).collect();
        let response = self
            .client
            .post(self.url("/rest/v1/personer"))
            .bearer_auth(token)
            .json(&json!({ "personidentifikatorer": ids }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }
}

async fn a_citizen_sees_their_logins_exports_and_lookups_and_nobody_elses(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (kari, ola) = (citizen(7), citizen(8));
    let firefox = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(FIREFOX)
        .build()
        .unwrap();
    let session = crate::login::login_as_at(&firefox, &app.address, &kari).await;
    let high = app.login_at_high(&kari).await;
    let export = app.get_as("/eksport/postkasse.zip", &session).await;
    assert_eq!(export.status(), StatusCode::OK);
    app.look_up("krr:global/kontaktinformasjon.read", &[&kari, &ola])
        .await;
    // A lookup of digital post alone reads no contact details: not listed.
    app.look_up("krr:global/digitalpost.read", &[&kari]).await;

    let agency = json!({ "Lookup": { "agency": "test agency (974760673)" } });
    assert_eq!(
        app.activity_of(&high).await,
        [
            agency.clone(),
            json!("Export"),
            json!({ "Login": { "level": 4, "browser": null } }),
            json!({ "Login": { "level": 3, "browser": "Firefox (Linux)" } }),
        ]
    );

    // Ola sees the lookup of him and his own login, none of Kari's.
    let ola_session = app.login_as(&ola).await;
    assert_eq!(
        app.activity_of(&ola_session).await,
        [json!({ "Login": { "level": 3, "browser": null } }), agency,]
    );

    // The page is the citizen's: without a login, 401.
    let anonymous = app
        .client
        .post(app.url("/api/load_activity"))
        .form(&[("x", "y")])
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let page = app.get_as("/aktivitet", &session).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("Min aktivitet"), "{html}");
    assert!(html.contains("Firefox (Linux)"), "{html}");
    assert!(html.contains("test agency (974760673)"), "{html}");
}

async fn operators_downloads_of_a_letter_for_paper_are_in_its_citizens_activity(backend: Backend) {
    use postkasse::print::Store as _;
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (kari, ola) = (citizen(20), citizen(21));
    // Reserved against digital post: her letter goes to paper.
    app.reserve_with_address(&kari, "Kari Nordmann", chrono::Utc::now())
        .await;
    let sender = app.sender(TEST_SENDER, "Brønnøysundregistrene").await;
    let letter = test_letter(&sender.org_nr(), &kari, "Vedtak på papir");
    assert_eq!(
        sender.send(&app, &letter).await.status(),
        StatusCode::CREATED
    );
    let row = app.database.print_jobs(false).await.unwrap()[0].message_row;
    assert!(app.run_cli(&["print", "batch"]).await.status.success());
    let (_, manifest) = crate::print_chain::batches_in(&app.print_drop).remove(0);

    let operator = crate::operator::operator_cookie(&app).await;
    for path in [
        format!("/drift/utskrift/brev/{row}/last-ned"),
        format!("/drift/utskrift/bunke/{}/last-ned", manifest.batch),
    ] {
        let response = app
            .client
            .get(app.url(&path))
            .header(reqwest::header::COOKIE, &operator)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
    }

    let kari_session = app.login_as(&kari).await;
    let kinds = app.activity_of(&kari_session).await;
    assert!(
        kinds.contains(&json!({"PrintDownload": {"batch": false}})),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&json!({"PrintDownload": {"batch": true}})),
        "{kinds:?}"
    );
    let ola_session = app.login_as(&ola).await;
    assert!(!app
        .activity_of(&ola_session)
        .await
        .iter()
        .any(|kind| kind.get("PrintDownload").is_some()));
}

on_both_backends!(
    operators_downloads_of_a_letter_for_paper_are_in_its_citizens_activity,
    a_citizen_sees_their_logins_exports_and_lookups_and_nobody_elses
);
