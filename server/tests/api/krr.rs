//! The contact and reservation register: the agencies' lookup, access tokens
//! and their scopes, the bulk import command, and the citizen's self-service.

use crate::helpers::{
    citizen, on_both_backends, spawn_app, spawn_app_with_clock, Backend, TestApp,
};
use app::domain::{Fnr, OrgNr};
use chrono::{Duration, Utc};
use postkasse::krr::Store as _;
use postkasse::{clock::ManualClock, demo::population_csv};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::sync::Arc;

const CONTACT: &str = "krr:global/kontaktinformasjon.read";
const DIGITAL_POST: &str = "krr:global/digitalpost.read";

fn own_provider() -> OrgNr {
    OrgNr::parse("999900003").unwrap()
}

impl TestApp {
    async fn lookup(&self, token: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url("/rest/v1/personer"))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// Imports `csv` with the command line; returns its exit success, stdout and stderr.
    async fn import(&self, csv: &str) -> (bool, String, String) {
        self.import_csv(&["krr", "import"], csv).await
    }

    async fn register_size(&self) -> u64 {
        self.database.statistics().await.unwrap().register_entries
    }
}

/// The national ids in a population file, in file order.
fn ids_in(csv: &str) -> Vec<String> {
    csv.lines()
        .skip(1)
        .map(|line| line.split(',').next().unwrap().to_owned())
        .collect()
}

async fn a_lookup_of_1000_ids_answers_1000_persons_in_request_order(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let csv = population_csv(&own_provider(), 1500, &[], Utc::now());
    // The demo's other provider is not registered in a bare test app: keep
    // only rows whose mailbox is here or absent.
    let csv: String = csv
        .lines()
        .filter(|line| !line.contains(postkasse::demo::DEMO_PROVIDER_ORG_NR))
        .map(|line| format!("{line}\n"))
        .collect();
    let (clean, stdout, stderr) = app.import(&csv).await;
    assert!(clean, "{stdout}\n{stderr}");
    let mut ids = ids_in(&csv);
    // Reverse the order and mix in persons the register does not know.
    ids.reverse();
    ids.truncate(990);
    let unknown: Vec<String> = (1..=10)
        .map(|day| citizen(day).as_str().to_owned())
        .collect();
    ids.extend(unknown.iter().cloned());
    assert_eq!(ids.len(), 1000);

    let token = app.issue_token(&[CONTACT, DIGITAL_POST]).await;
    let response = app
        .lookup(&token, &json!({ "personidentifikatorer": ids }))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    let persons = body["personer"].as_array().unwrap();
    assert_eq!(persons.len(), 1000);
    let answered: Vec<&str> = persons
        .iter()
        .map(|person| person["personidentifikator"].as_str().unwrap())
        .collect();
    assert_eq!(answered, ids.iter().map(String::as_str).collect::<Vec<_>>());
    for person in &persons[990..] {
        assert_eq!(person["status"], "IKKE_REGISTRERT");
        assert_eq!(person["varslingsstatus"], "KAN_IKKE_VARSLES");
    }
    let with_mailbox = persons
        .iter()
        .filter(|person| person.get("digital_post").is_some())
        .collect::<Vec<_>>();
    assert!(!with_mailbox.is_empty());
    for person in with_mailbox {
        assert_eq!(
            person["digital_post"]["postkasseleverandoeradresse"],
            "999900003"
        );
        assert!(person["sertifikat"]
            .as_str()
            .is_some_and(|text| text.len() > 500));
    }
    assert!(persons.iter().any(|person| person["reservasjon"] == "JA"));
    assert!(persons
        .iter()
        .any(|person| person["varslingsstatus"] == "KAN_VARSLES"));
}

async fn bad_lookups_get_a_problem_naming_the_field(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let token = app.issue_token(&[CONTACT]).await;
    let many: Vec<String> = std::iter::repeat_n(citizen(1).as_str().to_owned(), 1001).collect();
    let cases = [
        (
            json!({ "personidentifikatorer": many }),
            "personidentifikatorer",
        ),
        (
            json!({ "personidentifikatorer": [] }),
            "personidentifikatorer",
        ),
        (
            json!({ "personidentifikatorer": [citizen(1).as_str(), "12345678901", "abc"] }),
            "personidentifikatorer[1]",
        ),
        (json!({ "ids": [citizen(1).as_str()] }), "body"),
    ];
    for (body, field) in cases {
        let response = app.lookup(&token, &body).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{field}");
        assert_eq!(
            response.headers()[reqwest::header::CONTENT_TYPE],
            "application/problem+json"
        );
        let problem: Value = response.json().await.unwrap();
        let names: Vec<&str> = problem["invalid-params"]
            .as_array()
            .unwrap()
            .iter()
            .map(|param| param["name"].as_str().unwrap())
            .collect();
        assert_eq!(names[0], field, "{problem}");
        if field == "personidentifikatorer[1]" {
            assert_eq!(
                names,
                ["personidentifikatorer[1]", "personidentifikatorer[2]"]
            );
        }
    }
}

async fn scopes_decide_the_fields_and_tokens_must_be_valid(backend: Backend) {
    let clock = Arc::new(ManualClock::starting_at(Utc::now()));
    let Some(app) = spawn_app_with_clock(backend, |_| {}, clock.clone()).await else {
        return;
    };
    let kari = citizen(3);
    let csv = format!(
        "personidentifikator,epostadresse,epostadresse_oppdatert,postkasseadresse,postkasseleverandoeradresse\n\
         {},kari@example.no,{},kari#TEST,999900003\n",
        kari.as_str(),
        Utc::now().to_rfc3339()
    );
    let (clean, stdout, stderr) = app.import(&csv).await;
    assert!(clean, "{stdout}\n{stderr}");
    let body = json!({ "personidentifikatorer": [kari.as_str()] });

    let contact_only = app.issue_token_for_days(&[CONTACT], 30).await;
    let person = &app
        .lookup(&contact_only, &body)
        .await
        .json::<Value>()
        .await
        .unwrap()["personer"][0];
    assert_eq!(
        person["kontaktinformasjon"]["epostadresse"],
        "kari@example.no"
    );
    assert_eq!(person["reservasjon"], "NEI");
    assert!(person.get("digital_post").is_none(), "{person}");
    assert!(person.get("sertifikat").is_none(), "{person}");

    let digital_post_only = app.issue_token(&[DIGITAL_POST]).await;
    let person = &app
        .lookup(&digital_post_only, &body)
        .await
        .json::<Value>()
        .await
        .unwrap()["personer"][0];
    assert_eq!(person["digital_post"]["postkasseadresse"], "kari#TEST");
    assert!(person["sertifikat"].is_string());
    assert!(person.get("kontaktinformasjon").is_none(), "{person}");
    assert_eq!(person["reservasjon"], "NEI");

    let no_token = app
        .client
        .post(app.url("/rest/v1/personer"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(no_token.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.lookup("not-a-token", &body).await.status(),
        StatusCode::UNAUTHORIZED
    );
    clock.advance(Duration::days(31));
    assert_eq!(
        app.lookup(&contact_only, &body).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

async fn the_token_command_refuses_unknown_scopes(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let output = app
        .run_cli(&[
            "token",
            "issue",
            "--client",
            "x",
            "--org-nr",
            "974760673",
            "--scope",
            "krr:global/alt.read",
        ])
        .await;
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown scope"));
}

async fn an_import_of_100000_persons_with_10_bad_rows_applies_the_rest(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let spoiled: Vec<usize> = (0..10).map(|n| n * 9_999 + 17).collect();
    let csv = population_csv(&own_provider(), 100_000, &spoiled, Utc::now());
    // Mailboxes at the demo's other provider need it registered first.
    let certificate = crate::helpers::provider_certificate_file();
    let added = app
        .run_cli(&[
            "provider",
            "add",
            "--org-nr",
            postkasse::demo::DEMO_PROVIDER_ORG_NR,
            "--name",
            "Eksempel Postkasse AS",
            "--endpoint",
            "http://127.0.0.1:9/dpi/messages",
            "--certificate",
            certificate.to_str().unwrap(),
        ])
        .await;
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );

    let (clean, stdout, stderr) = app.import(&csv).await;
    assert!(!clean, "bad rows make the command fail");
    // The three demo citizens come first, then the synthetic persons.
    let expected_lines: Vec<String> = spoiled
        .iter()
        .map(|index| format!("line {}:", index + 5))
        .collect();
    let reported: Vec<&str> = stderr
        .lines()
        .filter(|line| line.starts_with("line "))
        .collect();
    assert_eq!(reported.len(), 10, "{stderr}");
    for (line, expected) in reported.iter().zip(&expected_lines) {
        assert!(line.starts_with(expected.as_str()), "{line} vs {expected}");
        assert!(line.contains("personidentifikator"), "{line}");
    }
    assert!(
        stdout.contains("100003 rows: 99993 written, 0 unchanged, 10 refused"),
        "{stdout}"
    );
    assert_eq!(app.register_size().await, 99_993);

    // Importing the same file again changes nothing.
    let (_, stdout, _) = app.import(&csv).await;
    assert!(
        stdout.contains("0 written, 99993 unchanged, 10 refused"),
        "{stdout}"
    );
    assert_eq!(app.register_size().await, 99_993);
}

async fn a_file_with_an_unknown_column_is_refused_whole(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (clean, _, stderr) = app
        .import(&format!(
            "personidentifikator,epost\n{},kari@example.no\n",
            citizen(1).as_str()
        ))
        .await;
    assert!(!clean);
    assert!(stderr.contains("unknown column \"epost\""), "{stderr}");
    assert_eq!(app.register_size().await, 0);
}

/// A server function's JSON answer as a value.
async fn json_of(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn citizens_change_only_their_own_entry_and_see_it_in_their_trail(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (kari, ola) = (citizen(5), citizen(6));
    let kari_session = app.login_as(&kari).await;
    let ola_session = app.login_as(&ola).await;

    // A bad address is refused, names its field, and stores nothing.
    let (status, error) = json_of(
        app.server_fn_as("change_email", &[("email", "kari@".into())], &kari_session)
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error["Invalid"]["field"], "email", "{error}");
    assert!(app.database.register_entry(&kari).await.unwrap().is_none());

    app.prove_address(&kari_session, "email", "kari@example.no", "kari@example.no")
        .await;
    app.prove_address(&kari_session, "mobile", "912 34 567", "+4791234567")
        .await;
    assert_eq!(
        app.server_fn_as("reserve", &[], &kari_session)
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        app.server_fn_as(
            "choose_language",
            &[("language", "nn".into())],
            &kari_session
        )
        .await
        .status(),
        StatusCode::OK
    );
    let (status, error) = json_of(
        app.server_fn_as(
            "choose_mailbox",
            &[("provider", "974760673".into())],
            &kari_session,
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "not a provider");
    assert_eq!(error["Invalid"]["field"], "provider");

    let (_, settings) = json_of(
        app.server_fn_as("load_contact_settings", &[], &kari_session)
            .await,
    )
    .await;
    assert_eq!(settings["email"]["value"], "kari@example.no");
    assert_eq!(settings["mobile"]["value"], "+4791234567");
    assert_eq!(settings["reserved"], true);
    assert_eq!(settings["can_be_notified"], false);
    let trail: Vec<(&str, Option<&str>)> = settings["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|change| (change["what"].as_str().unwrap(), change["value"].as_str()))
        .collect();
    assert_eq!(
        trail,
        [
            ("Language", Some("Norsk nynorsk")),
            ("Reservation", Some("JA")),
            ("Mobile", Some("+4791234567")),
            ("Email", Some("kari@example.no")),
        ]
    );

    // Ola sees none of it, and his entry is untouched.
    let (_, settings) = json_of(
        app.server_fn_as("load_contact_settings", &[], &ola_session)
            .await,
    )
    .await;
    assert_eq!(settings["email"], Value::Null);
    assert_eq!(settings["reserved"], false);
    assert_eq!(settings["changes"], json!([]));

    // The agencies' view agrees with Kari's.
    let token = app.issue_token(&[CONTACT, DIGITAL_POST]).await;
    let body: Value = app
        .lookup(
            &token,
            &json!({ "personidentifikatorer": [kari.as_str(), ola.as_str()] }),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["personer"][0]["reservasjon"], "JA");
    assert!(body["personer"][0]["reservasjonstidspunkt"].is_string());
    assert_eq!(body["personer"][0]["varslingsstatus"], "KAN_IKKE_VARSLES");
    assert_eq!(body["personer"][0]["spraak"], "nn");
    assert_eq!(body["personer"][1]["status"], "IKKE_REGISTRERT");

    // Withdrawing the reservation makes Kari notifiable again.
    app.server_fn_as("withdraw_reservation", &[], &kari_session)
        .await;
    let body: Value = app
        .lookup(&token, &json!({ "personidentifikatorer": [kari.as_str()] }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["personer"][0]["reservasjon"], "NEI");
    assert!(body["personer"][0].get("reservasjonstidspunkt").is_none());
    assert_eq!(body["personer"][0]["varslingsstatus"], "KAN_VARSLES");
}

async fn self_service_needs_a_login(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let response = app
        .client
        .post(app.url("/api/reserve"))
        .form(&[("x", "y")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.register_size().await, 0);
}

/// A synthetic id born on 1 January 2035: well formed, but nobody yet.
pub(crate) fn born_in_2035() -> Fnr {
    let born = chrono::NaiveDate::from_ymd_opt(2035, 1, 1).unwrap();
    (500..1000)
        .find_map(|individual| Fnr::synthetic(born, individual))
        .unwrap()
}

/// An id whose birth date has not come is refused with that reason: by the
/// register's lookup and in a letter's recipient.
async fn ids_born_in_the_future_are_refused_with_the_reason(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let token = app.issue_token(&[CONTACT]).await;
    let future = born_in_2035();
    let response = app
        .lookup(
            &token,
            &json!({ "personidentifikatorer": [citizen(1).as_str(), future.as_str()] }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let problem: Value = response.json().await.unwrap();
    assert_eq!(
        problem["invalid-params"][0]["name"], "personidentifikatorer[1]",
        "{problem}"
    );
    assert_eq!(
        problem["invalid-params"][0]["reason"], "has a birth date in the future",
        "{problem}"
    );

    let sender = app
        .sender(crate::helpers::TEST_SENDER, "Brønnøysundregistrene")
        .await;
    let letter = crate::helpers::test_letter(
        &OrgNr::parse(crate::helpers::TEST_SENDER).unwrap(),
        &future,
        "Til en som ikke er født",
    );
    let problem = crate::helpers::refused(sender.send(&app, &letter).await).await;
    assert!(
        problem
            .to_string()
            .contains("has a birth date in the future"),
        "{problem}"
    );
}

on_both_backends!(
    ids_born_in_the_future_are_refused_with_the_reason,
    a_lookup_of_1000_ids_answers_1000_persons_in_request_order,
    bad_lookups_get_a_problem_naming_the_field,
    scopes_decide_the_fields_and_tokens_must_be_valid,
    the_token_command_refuses_unknown_scopes,
    an_import_of_100000_persons_with_10_bad_rows_applies_the_rest,
    a_file_with_an_unknown_column_is_refused_whole,
    citizens_change_only_their_own_entry_and_see_it_in_their_trail,
    self_service_needs_a_login,
);
