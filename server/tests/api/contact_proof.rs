//! Proven contact details: a new e-mail address or mobile number gets a
//! six-digit code through the notice channel (here the sink), and only that
//! code, within 15 minutes and five tries, puts it in the register.

use crate::helpers::{citizen, on_both_backends, spawn_app_with_clock, Backend, TestApp};
use app::domain::Fnr;
use chrono::{Duration, Utc};
use postkasse::{clock::ManualClock, notify::Store as _};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::sync::Arc;

const CONTACT: &str = "krr:global/kontaktinformasjon.read";

impl TestApp {
    /// The six digits in the newest message the sink holds for `address`.
    pub(crate) async fn code_sent_to(&self, address: &str) -> String {
        let notices = self.database.sink_notices(1000).await.unwrap();
        let message = notices
            .iter()
            .find(|notice| notice.address == address)
            .unwrap_or_else(|| panic!("no message to {address}"));
        message
            .text
            .split(|c: char| !c.is_ascii_digit())
            .find(|word| word.len() == 6)
            .unwrap_or_else(|| panic!("no code in {:?}", message.text))
            .to_owned()
    }

    /// Saves a new address (`field` is `email` or `mobile`) and returns the
    /// code that was sent for it; `stored` is the address as the channel
    /// writes it.
    pub(crate) async fn code_for(
        &self,
        session: &str,
        field: &str,
        typed: &str,
        stored: &str,
    ) -> String {
        let change = format!("change_{field}");
        let sent = self
            .server_fn_as(&change, &[(field, typed.into())], session)
            .await;
        assert_eq!(sent.status(), StatusCode::OK, "{change}");
        assert_eq!(sent.json::<Value>().await.unwrap(), json!("CodeSent"));
        self.code_sent_to(stored).await
    }

    /// Proves a new address as a citizen does: saves it, then types back
    /// the code it got.
    pub(crate) async fn prove_address(
        &self,
        session: &str,
        field: &str,
        typed: &str,
        stored: &str,
    ) {
        let code = self.code_for(session, field, typed, stored).await;
        let prove = format!("prove_{field}");
        let proven = self.server_fn_as(&prove, &[("code", code)], session).await;
        assert_eq!(proven.status(), StatusCode::OK, "{prove}");
    }

    /// The problem a typed code is refused with (`function`: `prove_email`
    /// or `prove_mobile`).
    async fn refused_code(&self, session: &str, function: &str, code: &str) -> Value {
        let (field, problem) = refusal(
            self.server_fn_as(function, &[("code", code.into())], session)
                .await,
        )
        .await;
        assert_eq!(field, "code");
        problem
    }

    async fn settings_of(&self, session: &str) -> Value {
        self.server_fn_as("load_contact_settings", &[], session)
            .await
            .json()
            .await
            .unwrap()
    }

    /// What an agency's lookup says of the person's e-mail and status.
    async fn agency_view(&self, fnr: &Fnr) -> (Value, Value) {
        let token = self.issue_token(&[CONTACT]).await;
        let body: Value = self
            .client
            .post(self.url("/rest/v1/personer"))
            .bearer_auth(token)
            .json(&json!({ "personidentifikatorer": [fnr.as_str()] }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let person = &body["personer"][0];
        (
            person["kontaktinformasjon"]["epostadresse"].clone(),
            person["varslingsstatus"].clone(),
        )
    }
}

/// A refusal's field and problem, from a server function's 422.
async fn refusal(response: reqwest::Response) -> (String, Value) {
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().await.unwrap();
    (
        body["Invalid"]["field"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        body["Invalid"]["problem"].clone(),
    )
}

/// A code that is not `code`.
fn other_than(code: &str) -> String {
    if code == "000000" { "000001" } else { "000000" }.to_owned()
}

async fn spawn(backend: Backend) -> Option<(TestApp, Arc<ManualClock>)> {
    let clock = Arc::new(ManualClock::starting_at(Utc::now()));
    let app = spawn_app_with_clock(backend, |_| {}, clock.clone()).await?;
    Some((app, clock))
}

async fn a_new_address_enters_the_register_only_with_its_code(backend: Backend) {
    let Some((app, _clock)) = spawn(backend).await else {
        return;
    };
    let kari = citizen(11);
    let session = app.login_as(&kari).await;

    let code = app
        .code_for(&session, "email", "kari@example.no", "kari@example.no")
        .await;
    assert_eq!(code.len(), 6);
    let message = &app.database.sink_notices(1).await.unwrap()[0];
    assert!(message.text.contains("15 minutter"), "{}", message.text);

    // Sent, not stored: the page asks for the code, the register is as before.
    let settings = app.settings_of(&session).await;
    assert_eq!(settings["email"], Value::Null);
    assert_eq!(settings["pending_email"]["address"], "kari@example.no");
    assert_eq!(settings["pending_email"]["tries_left"], 5);
    assert_eq!(settings["pending_mobile"], Value::Null);
    assert_eq!(app.agency_view(&kari).await.0, Value::Null);

    // Not a code, then a code for the other channel: neither uses a try.
    let problem = app.refused_code(&session, "prove_email", "12345").await;
    assert_eq!(problem, json!("NotACode"));
    let problem = app.refused_code(&session, "prove_mobile", &code).await;
    assert_eq!(problem, json!("NoCodeSent"));

    // Another citizen cannot use Kari's code.
    let ola = citizen(12);
    let ola_session = app.login_as(&ola).await;
    let problem = app.refused_code(&ola_session, "prove_email", &code).await;
    assert_eq!(problem, json!("NoCodeSent"));

    // The code, typed with a space as people do, proves the address.
    let spaced = format!("{} {}", &code[..3], &code[3..]);
    let proven = app
        .server_fn_as("prove_email", &[("code", spaced)], &session)
        .await;
    assert_eq!(proven.status(), StatusCode::OK);
    let settings = app.settings_of(&session).await;
    assert_eq!(settings["email"]["value"], "kari@example.no");
    assert!(settings["email"]["verified_at"].is_string());
    assert_eq!(settings["email"]["current"], true);
    assert_eq!(settings["pending_email"], Value::Null);
    assert_eq!(settings["changes"][0]["what"], "Email");
    assert_eq!(
        app.agency_view(&kari).await,
        (json!("kari@example.no"), json!("KAN_VARSLES"))
    );

    // The same code again proves nothing more.
    let problem = app.refused_code(&session, "prove_email", &code).await;
    assert_eq!(problem, json!("NoCodeSent"));

    // A mobile number takes the same path; removing needs no code.
    app.prove_address(&session, "mobile", "912 34 567", "+4791234567")
        .await;
    let removed = app
        .server_fn_as("change_email", &[("email", " ".into())], &session)
        .await;
    assert_eq!(removed.json::<Value>().await.unwrap(), json!("Removed"));
    let settings = app.settings_of(&session).await;
    assert_eq!(settings["email"], Value::Null);
    assert_eq!(settings["mobile"]["value"], "+4791234567");
    assert_eq!(settings["changes"][0]["what"], "Email");
    assert_eq!(settings["changes"][0]["value"], Value::Null);
}

async fn five_wrong_codes_and_even_the_right_one_is_refused(backend: Backend) {
    let Some((app, clock)) = spawn(backend).await else {
        return;
    };
    let kari = citizen(13);
    let session = app.login_as(&kari).await;
    let code = app
        .code_for(&session, "mobile", "41234567", "+4741234567")
        .await;
    let wrong = other_than(&code);
    for tries_left in (1..=4).rev() {
        let problem = app.refused_code(&session, "prove_mobile", &wrong).await;
        assert_eq!(
            problem,
            json!({ "WrongCode": { "tries_left": tries_left } })
        );
    }
    let problem = app.refused_code(&session, "prove_mobile", &wrong).await;
    assert_eq!(problem, json!("NoTriesLeft"));
    let problem = app.refused_code(&session, "prove_mobile", &code).await;
    assert_eq!(
        problem,
        json!("NoTriesLeft"),
        "the right code after five wrong ones"
    );
    let settings = app.settings_of(&session).await;
    assert_eq!(settings["mobile"], Value::Null);
    assert_eq!(
        settings["pending_mobile"],
        Value::Null,
        "a void code is not offered"
    );

    // A new code works (a second later, so the sink lists it first).
    clock.advance(Duration::seconds(1));
    app.prove_address(&session, "mobile", "41234567", "+4741234567")
        .await;
    assert_eq!(
        app.settings_of(&session).await["mobile"]["value"],
        "+4741234567"
    );
}

/// Guesses sent at once each take a try before they are compared, so twenty
/// of them still get only five comparisons.
async fn guesses_at_once_cannot_pass_the_limit(backend: Backend) {
    let Some((app, _clock)) = spawn(backend).await else {
        return;
    };
    let kari = citizen(14);
    let session = app.login_as(&kari).await;
    let code = app
        .code_for(&session, "email", "kari@example.no", "kari@example.no")
        .await;
    let wrong = other_than(&code);
    let form = [("code", wrong)];
    let guesses = (0..20).map(|_| app.server_fn_as("prove_email", &form, &session));
    let answers = futures::future::join_all(guesses).await;
    let mut compared = 0;
    for answer in answers {
        let (_, problem) = refusal(answer).await;
        if problem != json!("NoTriesLeft") {
            compared += 1;
        }
    }
    assert_eq!(
        compared, 4,
        "four wrong codes with tries left, the fifth ends them"
    );
    let problem = app.refused_code(&session, "prove_email", &code).await;
    assert_eq!(problem, json!("NoTriesLeft"));
}

async fn a_code_works_for_15_minutes(backend: Backend) {
    let Some((app, clock)) = spawn(backend).await else {
        return;
    };
    let kari = citizen(15);
    let session = app.login_as(&kari).await;
    let code = app
        .code_for(&session, "email", "kari@example.no", "kari@example.no")
        .await;
    clock.advance(Duration::minutes(15));
    let problem = app.refused_code(&session, "prove_email", &code).await;
    assert_eq!(problem, json!("CodeExpired"));
    let settings = app.settings_of(&session).await;
    assert_eq!(settings["email"], Value::Null);
    assert_eq!(settings["pending_email"], Value::Null);

    // Just inside the 15 minutes, a new code still works.
    let code = app
        .code_for(&session, "email", "kari@example.no", "kari@example.no")
        .await;
    clock.advance(Duration::minutes(14) + Duration::seconds(59));
    let proven = app
        .server_fn_as("prove_email", &[("code", code)], &session)
        .await;
    assert_eq!(proven.status(), StatusCode::OK);
}

/// Five codes an hour per person: the form cannot flood a phone.
async fn a_person_gets_five_codes_an_hour(backend: Backend) {
    let Some((app, clock)) = spawn(backend).await else {
        return;
    };
    let kari = citizen(16);
    let session = app.login_as(&kari).await;
    for n in 0..5 {
        let sent = app
            .server_fn_as(
                "change_mobile",
                &[("mobile", format!("9123456{n}"))],
                &session,
            )
            .await;
        assert_eq!(sent.status(), StatusCode::OK, "code {n}");
    }
    let (field, problem) = refusal(
        app.server_fn_as("change_mobile", &[("mobile", "91234569".into())], &session)
            .await,
    )
    .await;
    assert_eq!((field.as_str(), problem), ("mobile", json!("TooManyCodes")));
    let (field, problem) = refusal(
        app.server_fn_as(
            "change_email",
            &[("email", "kari@example.no".into())],
            &session,
        )
        .await,
    )
    .await;
    assert_eq!((field.as_str(), problem), ("email", json!("TooManyCodes")));
    assert_eq!(app.database.sink_notices(100).await.unwrap().len(), 5);

    // Only the newest code counts, and an hour later codes come again.
    let settings = app.settings_of(&session).await;
    assert_eq!(settings["pending_mobile"]["address"], "+4791234564");
    clock.advance(Duration::minutes(61));
    let session = app.login_as(&kari).await;
    app.prove_address(&session, "email", "kari@example.no", "kari@example.no")
        .await;
}

/// Renewing with a click keeps a proven address usable for 18 more
/// months; an address that was never proven is not renewed by it.
async fn confirming_renews_only_proven_addresses(backend: Backend) {
    let Some((app, clock)) = spawn(backend).await else {
        return;
    };
    let kari = citizen(17);
    let session = app.login_as(&kari).await;
    app.prove_address(&session, "email", "kari@example.no", "kari@example.no")
        .await;
    assert_eq!(app.agency_view(&kari).await.1, "KAN_VARSLES");
    clock.advance(Duration::days(18 * 31));
    assert_eq!(app.agency_view(&kari).await.1, "KAN_IKKE_VARSLES");
    let session = app.login_as(&kari).await;
    app.server_fn_as("confirm_contact", &[], &session).await;
    assert_eq!(app.agency_view(&kari).await.1, "KAN_VARSLES");

    // Imported unproven: the click does not make it current.
    let ola = citizen(18);
    let long_ago = (Utc::now() - Duration::days(3 * 365)).to_rfc3339();
    let (clean, _, stderr) = app
        .import_csv(
            &["krr", "import"],
            &format!(
                "personidentifikator,epostadresse,epostadresse_oppdatert\n{},ola@example.no,{long_ago}\n",
                ola.as_str()
            ),
        )
        .await;
    assert!(clean, "{stderr}");
    let ola_session = app.login_as(&ola).await;
    app.server_fn_as("confirm_contact", &[], &ola_session).await;
    assert_eq!(app.agency_view(&ola).await.1, "KAN_IKKE_VARSLES");
}

async fn codes_asked_for_at_once_stay_within_the_hours_five(backend: Backend) {
    let Some((app, _clock)) = spawn(backend).await else {
        return;
    };
    let kari = citizen(18);
    let session = app.login_as(&kari).await;
    // Twelve requests at once: the count and the insert are one step, so
    // no two can both see room for a sixth.
    let forms: Vec<[(&str, String); 1]> = (0..12)
        .map(|n| [("mobile", format!("912345{n:02}"))])
        .collect();
    let asked = futures::future::join_all(
        forms
            .iter()
            .map(|form| app.server_fn_as("change_mobile", form, &session)),
    )
    .await;
    let sent = asked
        .iter()
        .filter(|response| response.status() == StatusCode::OK)
        .count();
    assert_eq!(
        sent,
        5,
        "{:?}",
        asked
            .iter()
            .map(reqwest::Response::status)
            .collect::<Vec<_>>()
    );
    assert_eq!(app.database.sink_notices(100).await.unwrap().len(), 5);
}

on_both_backends!(
    codes_asked_for_at_once_stay_within_the_hours_five,
    a_new_address_enters_the_register_only_with_its_code,
    five_wrong_codes_and_even_the_right_one_is_refused,
    guesses_at_once_cannot_pass_the_limit,
    a_code_works_for_15_minutes,
    a_person_gets_five_codes_an_hour,
    confirming_renews_only_proven_addresses,
);
