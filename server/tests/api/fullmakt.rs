//! Powers of attorney: Kari gives Ola a power over her letters from one
//! sender; Ola opens her mailbox as himself and reads only those, each read
//! in Kari's log under his name; Kari is told and sees it in "Min
//! aktivitet"; outside the power's senders, after its end date and once
//! either of them ends it, Ola gets 404; a level-4 letter needs Ola at level
//! 4; and what a power does not give (settings, moving letters, search)
//! refuses him. Bad forms are refused by field and store nothing.

use crate::helpers::{
    citizen, on_both_backends, spawn_app, spawn_app_with_clock, test_letter, Backend, TestApp,
    OWN_PROVIDER,
};
use app::domain::{Fnr, LetterId, OrgNr, SecurityLevel};
use chrono::Duration;
use postkasse::clock::{Clock, ManualClock};
use postkasse::notify::Store as _;
use reqwest::{header, StatusCode};
use serde_json::Value;
use std::sync::Arc;

const NAV: (&str, &str) = ("889640782", "NAV");
const SKATTEETATEN: (&str, &str) = ("974761076", "Skatteetaten");

impl TestApp {
    /// A letter to `recipient` from `sender` (org nr, name) through the DPI API.
    async fn letter_from(
        &self,
        sender: (&str, &str),
        recipient: &Fnr,
        title: &str,
        level: SecurityLevel,
    ) -> LetterId {
        self.make_reachable(recipient, OWN_PROVIDER).await;
        let mut letter = test_letter(&OrgNr::parse(sender.0).unwrap(), recipient, title);
        letter.security_level = level;
        letter.nonsensitive_title = format!("Brev fra {}", sender.1);
        let agency = self.sender(sender.0, sender.1).await;
        let response = agency.send(self, &letter).await;
        assert_eq!(
            response.status(),
            StatusCode::CREATED,
            "{}",
            response.text().await.unwrap()
        );
        self.letters(recipient)
            .await
            .into_iter()
            .find(|summary| summary.title.as_str() == title)
            .expect("the letter is in the mailbox")
            .id
    }

    /// Gives a power through the page's server function; its answer.
    async fn give(&self, session: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let form: Vec<(&str, String)> = form
            .iter()
            .map(|(name, value)| (*name, (*value).to_owned()))
            .collect();
        self.server_fn_as("give_fullmakt", &form, session).await
    }

    async fn overview(&self, session: &str) -> Value {
        let response = self.server_fn_as("load_fullmakter", &[], session).await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.unwrap()
    }

    /// Posts a plain form to a server route in a session.
    async fn post_as(
        &self,
        path: &str,
        form: &[(&str, String)],
        session: &str,
    ) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .header(
                header::COOKIE,
                format!("__Host-postkasse-session={session}"),
            )
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// The delegate opens the principal's mailbox under power `id`.
    async fn use_power(&self, session: &str, id: &str) -> reqwest::Response {
        self.post_as("/fullmakter/bruk", &[("id", id.to_owned())], session)
            .await
    }

    async fn inbox_titles(&self, session: &str) -> Vec<String> {
        let response = self.server_fn_as("list_inbox", &[], session).await;
        assert_eq!(response.status(), StatusCode::OK);
        let page: Value = response.json().await.unwrap();
        page["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|entry| entry["title"].as_str().unwrap().to_owned())
            .collect()
    }

    async fn open(&self, session: &str, letter: LetterId) -> reqwest::Response {
        self.server_fn_as("open_letter", &[("id", letter.to_string())], session)
            .await
    }
}

fn days_ahead(clock: &dyn Clock, days: i64) -> String {
    postkasse::clock::norwegian_date(clock.now() + Duration::days(days)).to_string()
}

/// Kari's power to Ola over NAV's letters, read only, until `until`; its id.
async fn power_over_nav(app: &TestApp, kari_session: &str, until: &str) -> String {
    give_ola(
        app,
        kari_session,
        &[
            ("tilgang", "lese"),
            ("avsendere", "valgte"),
            ("avsender[1]", NAV.0),
            ("til", until),
        ],
    )
    .await
}

/// A power to Ola on `terms`; its id.
async fn give_ola(app: &TestApp, kari_session: &str, terms: &[(&str, &str)]) -> String {
    let ola = citizen(12);
    let mut form = vec![("fnr", ola.as_str()), ("navn", "Ola Nordmann")];
    form.extend_from_slice(terms);
    let response = app.give(kari_session, &form).await;
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "{}",
        response.text().await.unwrap()
    );
    // The one in force (the tests give a new one only when the last has ended).
    let overview = app.overview(kari_session).await;
    let in_force: Vec<&Value> = overview["given"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|given| given["in_force"] == true)
        .collect();
    assert_eq!(in_force.len(), 1, "{overview}");
    in_force[0]["id"].as_str().unwrap().to_owned()
}

async fn a_delegate_reads_what_the_power_reaches_and_the_principal_sees_it(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (kari, ola) = (citizen(11), citizen(12));
    let nav_letter = app
        .letter_from(
            NAV,
            &kari,
            "Vedtak om dagpenger",
            SecurityLevel::Substantial,
        )
        .await;
    let tax_letter = app
        .letter_from(
            SKATTEETATEN,
            &kari,
            "Skatteoppgjøret",
            SecurityLevel::Substantial,
        )
        .await;
    let kari_session = app.login_as(&kari).await;
    let until = days_ahead(&postkasse::clock::SystemClock, 30);
    let power = power_over_nav(&app, &kari_session, &until).await;

    // Kari sees what she gave, and was told through her notice channel.
    let overview = app.overview(&kari_session).await;
    let given = &overview["given"][0];
    assert_eq!(given["other_name"], "Ola Nordmann");
    assert_eq!(given["reach"], "Read");
    assert_eq!(given["senders"][0]["name"], NAV.1);
    assert_eq!(given["in_force"], true);
    let told = app.database.sink_notices(100).await.unwrap();
    assert!(
        told.iter()
            .any(|notice| notice.address == "innbygger@example.no"
                && notice.text.contains("fullmakt")
                && !notice.text.contains("Ola")),
        "{told:?}"
    );

    // Ola sees it from his side, and opens her mailbox as himself.
    let ola_session = app.login_as(&ola).await;
    let received = app.overview(&ola_session).await;
    assert_eq!(received["received"][0]["id"], power.as_str());
    assert_eq!(received["given"], serde_json::json!([]));
    let switched = app.use_power(&ola_session, &power).await;
    assert_eq!(switched.status(), StatusCode::SEE_OTHER);
    assert_eq!(switched.headers()[header::LOCATION], "/innboks");

    // Only NAV's letter: listed, opened, its document and page read.
    assert_eq!(
        app.inbox_titles(&ola_session).await,
        ["Vedtak om dagpenger"]
    );
    let opened = app.open(&ola_session, nav_letter).await;
    assert_eq!(opened.status(), StatusCode::OK);
    let opened: Value = opened.json().await.unwrap();
    assert_eq!(opened["delegated"], true);
    assert_eq!(opened["may_reply"], false);
    for path in [
        format!("/dokumenter/{nav_letter}/0"),
        format!("/dokumenter/{nav_letter}/0/sider/1?bredde=480"),
    ] {
        assert_eq!(
            app.get_as(&path, &ola_session).await.status(),
            StatusCode::OK,
            "{path}"
        );
    }
    // Outside the power: not found, anywhere.
    assert_eq!(
        app.open(&ola_session, tax_letter).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get_as(&format!("/dokumenter/{tax_letter}/0"), &ola_session)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let page = app
        .get_as(&format!("/brev/{tax_letter}"), &ola_session)
        .await;
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
    assert!(!page.text().await.unwrap().contains("Skatteoppgjøret"));
    // What the power does not give refuses him, and changes nothing.
    for (function, form) in [
        ("load_contact_settings", vec![]),
        ("change_email", vec![("email", "ola@example.no".to_owned())]),
        ("list_folders", vec![]),
        ("load_fullmakter", vec![]),
        ("load_activity", vec![]),
        (
            "mark_letter",
            vec![("id", nav_letter.to_string()), ("ulest", "true".to_owned())],
        ),
    ] {
        let response = app.server_fn_as(function, &form, &ola_session).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{function}");
    }
    assert_eq!(
        app.get_as("/api/search_archive?q=dagpenger", &ola_session)
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get_as("/eksport/postkasse.zip", &ola_session)
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );

    // Kari's log names Ola for each thing he opened; her letter stays new.
    let kari_view: Value = app
        .open(&kari_session, nav_letter)
        .await
        .json()
        .await
        .unwrap();
    let by_ola: Vec<&Value> = kari_view["access_log"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|entry| entry["delegate"] == "Ola Nordmann")
        .collect();
    let kinds: Vec<&str> = by_ola
        .iter()
        .map(|entry| entry["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"View") && kinds.contains(&"Download") && kinds.contains(&"Read"),
        "{kinds:?}"
    );
    let kari_letters = app.letters(&kari).await;
    let tax_summary = kari_letters
        .iter()
        .find(|letter| letter.id == tax_letter)
        .unwrap();
    assert!(tax_summary.unread);
    let activity: Vec<Value> = app
        .server_fn_as("load_activity", &[], &kari_session)
        .await
        .json()
        .await
        .unwrap();
    let kinds: Vec<&Value> = activity.iter().map(|entry| &entry["kind"]).collect();
    assert!(
        kinds.contains(&&serde_json::json!({"FullmaktGiven": {"delegate": "Ola Nordmann"}})),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&&serde_json::json!({"FullmaktUsed": {"delegate": "Ola Nordmann"}})),
        "{kinds:?}"
    );

    // Back to his own mailbox: his own (empty) inbox.
    let back = app.post_as("/fullmakter/tilbake", &[], &ola_session).await;
    assert_eq!(back.status(), StatusCode::SEE_OTHER);
    assert!(app.inbox_titles(&ola_session).await.is_empty());
    // Another citizen can neither use nor end Kari's power.
    let someone = app.login_as(&citizen(13)).await;
    assert_eq!(
        app.use_power(&someone, &power).await.headers()[header::LOCATION],
        "/fullmakter?feil=ikke-gyldig"
    );
    assert_eq!(
        app.server_fn_as("end_fullmakt", &[("id", power.clone())], &someone)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}

async fn a_power_ends_at_its_date_and_when_either_side_ends_it(backend: Backend) {
    let clock = Arc::new(ManualClock::starting_at(chrono::Utc::now()));
    let Some(app) = spawn_app_with_clock(backend, |_| {}, clock.clone()).await else {
        return;
    };
    let (kari, ola) = (citizen(14), citizen(12));
    let letter = app
        .letter_from(
            NAV,
            &kari,
            "Vedtak om sykepenger",
            SecurityLevel::Substantial,
        )
        .await;
    let kari_session = app.login_as(&kari).await;
    let ola_session = app.login_as(&ola).await;

    // After the end date: Ola's open mailbox closes under him.
    let power = power_over_nav(&app, &kari_session, &days_ahead(clock.as_ref(), 2)).await;
    app.use_power(&ola_session, &power).await;
    assert_eq!(
        app.open(&ola_session, letter).await.status(),
        StatusCode::OK
    );
    clock.advance(Duration::days(3));
    let ola_session = app.login_as(&ola).await;
    let kari_session = app.login_as(&kari).await;
    assert_eq!(
        app.use_power(&ola_session, &power).await.headers()[header::LOCATION],
        "/fullmakter?feil=ikke-gyldig"
    );
    assert_eq!(
        app.open(&ola_session, letter).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.overview(&kari_session).await["given"][0]["in_force"],
        false
    );

    // Kari ends a new one while Ola is in her mailbox: his next request is his own again.
    let power = power_over_nav(&app, &kari_session, &days_ahead(clock.as_ref(), 10)).await;
    app.use_power(&ola_session, &power).await;
    assert_eq!(
        app.open(&ola_session, letter).await.status(),
        StatusCode::OK
    );
    let ended = app
        .server_fn_as("end_fullmakt", &[("id", power.clone())], &kari_session)
        .await;
    assert_eq!(ended.status(), StatusCode::OK);
    assert_eq!(
        app.open(&ola_session, letter).await.status(),
        StatusCode::NOT_FOUND
    );
    assert!(app.inbox_titles(&ola_session).await.is_empty());
    // An ended power cannot be ended again.
    assert_eq!(
        app.server_fn_as("end_fullmakt", &[("id", power)], &kari_session)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );

    // Ola ends one himself, from inside her mailbox.
    let power = power_over_nav(&app, &kari_session, &days_ahead(clock.as_ref(), 10)).await;
    app.use_power(&ola_session, &power).await;
    let ended = app
        .server_fn_as("end_fullmakt", &[("id", power.clone())], &ola_session)
        .await;
    assert_eq!(ended.status(), StatusCode::OK);
    assert_eq!(
        app.open(&ola_session, letter).await.status(),
        StatusCode::NOT_FOUND
    );
    let overview = app.overview(&kari_session).await;
    let mine = overview["given"]
        .as_array()
        .unwrap()
        .iter()
        .find(|given| given["id"] == power.as_str())
        .unwrap();
    assert_eq!(mine["ended"][1], "Delegate");
    let activity: Vec<Value> = app
        .server_fn_as("load_activity", &[], &kari_session)
        .await
        .json()
        .await
        .unwrap();
    // The clock stands still in this test: look for the line, not its place.
    assert!(
        activity.iter().any(|entry| entry["kind"]
            == serde_json::json!({"FullmaktEnded": {"delegate": "Ola Nordmann", "by_delegate": true}})),
        "{activity:?}"
    );
}

async fn a_level_four_letter_needs_the_delegate_at_level_four(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (kari, ola) = (citizen(15), citizen(12));
    let letter = app
        .letter_from(NAV, &kari, "Helseopplysninger", SecurityLevel::High)
        .await;
    let kari_session = app.login_as(&kari).await;
    let power = power_over_nav(
        &app,
        &kari_session,
        &days_ahead(&postkasse::clock::SystemClock, 5),
    )
    .await;

    let substantial = app.login_as(&ola).await;
    app.use_power(&substantial, &power).await;
    let view: Value = app.open(&substantial, letter).await.json().await.unwrap();
    assert_eq!(view["locked"], true);
    assert_eq!(view["title"], "Brev fra NAV");
    assert_eq!(
        app.get_as(&format!("/dokumenter/{letter}/0"), &substantial)
            .await
            .status(),
        StatusCode::FORBIDDEN
    );

    let high = app.login_at_high(&ola).await;
    app.use_power(&high, &power).await;
    let view: Value = app.open(&high, letter).await.json().await.unwrap();
    assert_eq!(view["locked"], false);
    assert_eq!(view["title"], "Helseopplysninger");
    assert_eq!(
        app.get_as(&format!("/dokumenter/{letter}/0"), &high)
            .await
            .status(),
        StatusCode::OK
    );
}

async fn a_bad_power_is_refused_by_field_and_stores_nothing(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let kari = citizen(16);
    app.letter_from(NAV, &kari, "Brev", SecurityLevel::Substantial)
        .await;
    let session = app.login_as(&kari).await;
    let tomorrow = days_ahead(&postkasse::clock::SystemClock, 1);
    let today = days_ahead(&postkasse::clock::SystemClock, 0);
    let too_far = days_ahead(&postkasse::clock::SystemClock, 400);
    let ola = citizen(12);
    let good = [
        ("fnr", ola.as_str()),
        ("navn", "Ola"),
        ("tilgang", "lese"),
        ("avsendere", "alle"),
        ("til", tomorrow.as_str()),
    ];
    let with = |name: &str, value: &str| -> Vec<(&'static str, String)> {
        good.iter()
            .map(|(field, current)| {
                let value = if *field == name { value } else { current };
                (*field, value.to_owned())
            })
            .collect()
    };
    let cases = [
        (with("fnr", "12345678901"), "fnr"),
        (with("fnr", "01013500000"), "fnr"),
        (with("fnr", kari.as_str()), "fnr"),
        (with("navn", "  "), "navn"),
        (with("tilgang", "alt"), "tilgang"),
        (with("avsendere", "valgte"), "avsendere"),
        (with("til", "i morgen"), "til"),
        (with("til", &today), "til"),
        (with("til", &too_far), "til"),
    ];
    for (form, field) in cases {
        let response = app.server_fn_as("give_fullmakt", &form, &session).await;
        let status = response.status();
        let body = response.text().await.unwrap();
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{form:?}: {body}");
        assert!(
            body.contains(&format!("\"{field}\"")),
            "{form:?} names {field}: {body}"
        );
    }
    // A sender she has no letters from.
    let mut unknown = with("avsendere", "valgte");
    unknown.push(("avsender[0]", SKATTEETATEN.0.to_owned()));
    let response = app.server_fn_as("give_fullmakt", &unknown, &session).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.overview(&session).await["given"], serde_json::json!([]));
    assert_eq!(
        crate::helpers::count_in(&app.database_url, "SELECT COUNT(*) FROM fullmakt").await,
        0
    );
}

async fn a_delegate_answers_only_under_a_power_to_reply(backend: Backend) {
    use crate::replies::{course_form, draft_in, form_letter, post_answers, PAGE};
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (kari, ola) = (citizen(17), citizen(12));
    let deadline = chrono::Utc::now() + Duration::days(7);
    let letter = app
        .send_letter(&form_letter(&kari, "Påmelding", &course_form(deadline)))
        .await;
    let kari_session = app.login_as(&kari).await;
    let ola_session = app.login_as(&ola).await;
    let until = days_ahead(&postkasse::clock::SystemClock, 5);
    let answer = || async {
        post_answers(
            &app,
            letter,
            &ola_session,
            None,
            &[("deltar", "nei"), ("grunn", "Syk")],
            &[],
            PAGE,
        )
        .await
    };

    // Read only: he sees the letter, not the form.
    let read_only = give_ola(
        &app,
        &kari_session,
        &[("tilgang", "lese"), ("avsendere", "alle"), ("til", &until)],
    )
    .await;
    app.use_power(&ola_session, &read_only).await;
    let view: Value = app.open(&ola_session, letter).await.json().await.unwrap();
    assert_eq!(view["may_reply"], false);
    assert_eq!(answer().await.status(), StatusCode::FORBIDDEN);
    let area = app
        .server_fn_as(
            "load_reply_area",
            &[("id", letter.to_string())],
            &ola_session,
        )
        .await;
    assert_eq!(area.status(), StatusCode::FORBIDDEN);
    app.server_fn_as("end_fullmakt", &[("id", read_only)], &kari_session)
        .await;

    // Read and reply: he answers for her, and her log says so.
    let may_reply = give_ola(
        &app,
        &kari_session,
        &[
            ("tilgang", "lese-og-svare"),
            ("avsendere", "alle"),
            ("til", &until),
        ],
    )
    .await;
    app.use_power(&ola_session, &may_reply).await;
    let draft = draft_in(&answer().await);
    let sent = app
        .server_fn_as(
            "send_reply",
            &[("id", letter.to_string()), ("utkast", draft)],
            &ola_session,
        )
        .await;
    assert_eq!(
        sent.status(),
        StatusCode::OK,
        "{}",
        sent.text().await.unwrap()
    );
    let view: Value = app.open(&kari_session, letter).await.json().await.unwrap();
    let replies: Vec<&Value> = view["access_log"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|entry| entry["kind"] == "Reply")
        .collect();
    assert_eq!(replies.len(), 1, "{}", view["access_log"]);
    assert_eq!(replies[0]["delegate"], "Ola Nordmann");
}

on_both_backends!(
    a_delegate_answers_only_under_a_power_to_reply,
    a_delegate_reads_what_the_power_reaches_and_the_principal_sees_it,
    a_power_ends_at_its_date_and_when_either_side_ends_it,
    a_level_four_letter_needs_the_delegate_at_level_four,
    a_bad_power_is_refused_by_field_and_stores_nothing,
);
