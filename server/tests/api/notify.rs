//! Notifications end to end: letters sent through the agency API schedule
//! durable notice jobs; workers on an injected clock send them through the
//! sink, a real HTTP SMS gateway and a real SMTP server started here.

use crate::helpers::{
    citizen, on_both_backends, spawn_app_with_clock, test_letter, Backend, TestApp, TestSender,
    OWN_PROVIDER, TEST_SENDER,
};
use app::api::mailbox::{AccessEntry, AccessKind};
use app::domain::{Fnr, Language, LetterId, OrgNr, SecurityLevel};
use axum::{extract::State, http::HeaderMap, http::StatusCode, routing::post, Router};
use chrono::{DateTime, Duration, TimeZone, Utc};
use postkasse::krr::Store as _;
use postkasse::mailbox::Store as _;
use postkasse::notify::Store as _;
use postkasse::{
    clock::{Clock, ManualClock},
    krr::{
        contact::{EmailAddress, MobileNumber},
        person::{Channel, DigitalMailbox, Person},
    },
    notify::{
        channels::{
            email::{SmtpOptions, SmtpSender},
            sink::SinkSender,
            sms::HttpSmsGateway,
            NoticeSender,
        },
        worker::{NotifyWorker, NotifyWorkerSettings, RateLimit, Route, Routes},
        NoticeChannel, NoticePreference,
    },
};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// 23:30 on 24.06.2017 in Oslo (summer time, UTC+2).
fn seed_evening() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2017, 6, 24, 21, 30, 0).unwrap()
}

fn oslo(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    use chrono::TimeZone as _;
    chrono_tz::Europe::Oslo
        .with_ymd_and_hms(y, m, d, h, min, 0)
        .unwrap()
        .with_timezone(&Utc)
}

struct Setup {
    app: TestApp,
    clock: Arc<ManualClock>,
    sender: TestSender,
}

/// The server on a manual clock with no notice workers of its own: each
/// test runs its workers itself, on the routes it needs.
async fn start(backend: Backend, at: DateTime<Utc>) -> Option<Setup> {
    let clock = Arc::new(ManualClock::starting_at(at));
    let app = spawn_app_with_clock(
        backend,
        |settings| settings.notify.workers = 0,
        clock.clone(),
    )
    .await?;
    let agency = app
        .register_agency(TEST_SENDER, "Brønnøysundregistrene")
        .await;
    let token = agency
        .access_token_at(&app, &["digitalpostinnbygger:send"], clock.now())
        .await;
    Some(Setup {
        app,
        clock,
        sender: TestSender { agency, token },
    })
}

impl Setup {
    /// Registers the citizen with a mailbox here and the given channels,
    /// each last updated that long ago.
    async fn register(&self, fnr: &Fnr, email_age: Option<Duration>, mobile_age: Option<Duration>) {
        let now = self.clock.now();
        let mut person = Person::blank(fnr.clone());
        person.email = email_age.map(|age| Channel {
            value: EmailAddress::parse("kari@example.no").unwrap(),
            updated_at: now - age,
            verified_at: None,
        });
        person.mobile = mobile_age.map(|age| Channel {
            value: MobileNumber::parse("+4791234567").unwrap(),
            updated_at: now - age,
            verified_at: None,
        });
        self.import_with_mailbox_here(person).await;
    }

    /// Registers the citizen with a mailbox here, a current e-mail address
    /// and `language` as KRR's `spraak`, and turns on their own e-mail notices.
    async fn register_speaking(&self, fnr: &Fnr, language: Option<Language>, email: &str) {
        let now = self.clock.now();
        let mut person = Person::blank(fnr.clone());
        person.email = Some(Channel {
            value: EmailAddress::parse(email).unwrap(),
            updated_at: now - Duration::days(30),
            verified_at: None,
        });
        person.language = language;
        self.import_with_mailbox_here(person).await;
        self.app
            .database
            .set_notice_preference(
                fnr,
                NoticePreference {
                    email: true,
                    sms: false,
                },
                now,
            )
            .await
            .unwrap();
    }

    async fn import_with_mailbox_here(&self, mut person: Person) {
        person.mailbox = Some(DigitalMailbox {
            address: format!("kari{}#TEST", &person.fnr.as_str()[..6]),
            provider: OrgNr::parse(OWN_PROVIDER).unwrap(),
        });
        self.app
            .database
            .import_entries(&[person], self.clock.now())
            .await
            .unwrap();
    }

    /// Sends a letter with these `varsler` and returns its id.
    async fn send(&self, fnr: &Fnr, title: &str, varsler: Option<Value>) -> LetterId {
        let mut letter = test_letter(&self.sender.org_nr(), fnr, title);
        letter.nonsensitive_title = "Brev fra Brønnøysundregistrene".to_owned();
        let package = letter.package().unwrap();
        let mut message = letter.business_message(&package);
        if let Some(varsler) = varsler {
            message["standardBusinessDocument"]["digital"]["varsler"] = varsler;
        }
        let response = self
            .sender
            .send_parts(&self.app, "", message.to_string(), package)
            .await;
        let status = response.status();
        let body = response.text().await.unwrap();
        assert_eq!(status, reqwest::StatusCode::CREATED, "{body}");
        self.app
            .database
            .letters_for(fnr, self.clock.now())
            .await
            .unwrap()
            .into_iter()
            .find(|summary| summary.title.as_str() == title)
            .expect("the letter is in the mailbox")
            .id
    }

    fn sink(&self) -> Arc<dyn NoticeSender> {
        Arc::new(SinkSender {
            notices: Arc::new(self.app.database.clone()),
            clock: self.clock.clone(),
        })
    }

    fn worker(&self, email: Arc<dyn NoticeSender>, sms: Arc<dyn NoticeSender>) -> NotifyWorker {
        NotifyWorker {
            notices: Arc::new(self.app.database.clone()),
            receipts: Arc::new(postkasse::broker::ReceiptIssuer::new(
                Arc::new(self.app.database.clone()),
                Arc::new(self.app.database.clone()),
                Arc::new(self.app.database.clone()),
                OrgNr::parse(OWN_PROVIDER).unwrap(),
                self.clock.clone(),
            )),
            register: Arc::new(self.app.database.clone()),
            clock: self.clock.clone(),
            routes: Arc::new(Routes {
                email: Route {
                    sender: email,
                    limit: RateLimit::per_second(0),
                },
                sms: Route {
                    sender: sms,
                    limit: RateLimit::per_second(0),
                },
            }),
            settings: NotifyWorkerSettings {
                batch: 50,
                max_attempts: 3,
                retry_base: Duration::minutes(1),
                retry_max: Duration::minutes(10),
                lease: Duration::minutes(2),
                poll: std::time::Duration::from_millis(50),
            },
        }
    }

    /// Works until nothing is due; returns how many jobs were handled.
    async fn drain(&self, worker: &NotifyWorker) -> usize {
        let mut handled = 0;
        loop {
            match worker.work_once().await.unwrap() {
                0 => return handled,
                count => handled += count,
            }
        }
    }

    /// The `varslingfeiletkvittering` bodies queued for the agency, read
    /// with a token fresh by the moved clock.
    async fn failure_receipts(&self) -> Vec<Value> {
        let token = self
            .sender
            .agency
            .access_token_at(&self.app, &["digitalpostinnbygger:send"], self.clock.now())
            .await;
        let response = self
            .app
            .client
            .get(self.app.url("/messages/in?kanal="))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let receipts: Vec<Value> = match response.status() {
            reqwest::StatusCode::NO_CONTENT => Vec::new(),
            reqwest::StatusCode::OK => response.json().await.unwrap(),
            other => panic!("GET /messages/in answered {other}"),
        };
        receipts
            .into_iter()
            .filter_map(|receipt| {
                receipt["forretningsmelding"]["standardBusinessDocument"]
                    .get("varslingfeiletkvittering")
                    .cloned()
            })
            .collect()
    }

    async fn sink_count(&self) -> usize {
        self.app.database.sink_notices(1000).await.unwrap().len()
    }
}

fn email_notice(days: &[u8]) -> Value {
    json!({"epostvarsel": {
        "epostadresse": "kari@example.no",
        "varslingstekst": "Du har fått et brev fra Brønnøysundregistrene.",
        "repetisjoner": days}})
}

/// A server at `at` with one citizen registered (channels of the given
/// ages) and one letter to them carrying `varsler`.
async fn with_letter(
    backend: Backend,
    at: DateTime<Utc>,
    day: u32,
    ages: (Option<Duration>, Option<Duration>),
    varsler: Value,
) -> Option<(Setup, Fnr, LetterId)> {
    let setup = start(backend, at).await?;
    let kari = citizen(day);
    setup.register(&kari, ages.0, ages.1).await;
    let letter = setup
        .send(&kari, "Vedtak om registrering", Some(varsler))
        .await;
    Some((setup, kari, letter))
}

/// The seed's letter: available 23:30 on 24.06.2017, e-mail on day 0 and 7.
async fn seed_letter(backend: Backend, day: u32) -> Option<(Setup, Fnr, LetterId)> {
    let ages = (Some(Duration::days(30)), None);
    with_letter(backend, seed_evening(), day, ages, email_notice(&[0, 7])).await
}

async fn the_seed_example_notifies_on_the_25th_and_the_1st(backend: Backend) {
    let Some((setup, kari, letter)) = seed_letter(backend, 3).await else {
        return;
    };
    let states = setup
        .app
        .database
        .notice_states(&kari, letter)
        .await
        .unwrap();
    let due: Vec<_> = states
        .iter()
        .map(|state| (state.day, state.due_at))
        .collect();
    assert_eq!(
        due,
        [(0, oslo(2017, 6, 25, 9, 0)), (7, oslo(2017, 7, 1, 9, 0))]
    );
    // Another citizen's id sees nothing of Kari's notices.
    assert!(setup
        .app
        .database
        .notice_states(&citizen(4), letter)
        .await
        .unwrap()
        .is_empty());

    let worker = setup.worker(setup.sink(), setup.sink());
    assert_eq!(setup.drain(&worker).await, 0, "nothing at night");
    setup
        .clock
        .advance(oslo(2017, 6, 25, 8, 59) - setup.clock.now());
    assert_eq!(setup.drain(&worker).await, 0, "nothing before nine");
    setup.clock.advance(Duration::minutes(1));
    assert_eq!(setup.drain(&worker).await, 1);
    let sent = setup.app.database.sink_notices(10).await.unwrap();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].channel, NoticeChannel::Email);
    assert_eq!(sent[0].address, "kari@example.no");
    assert_eq!(
        sent[0].text,
        "Du har fått et brev fra Brønnøysundregistrene."
    );
    assert_eq!(sent[0].sent_at, oslo(2017, 6, 25, 9, 0));

    setup
        .clock
        .advance(oslo(2017, 7, 1, 9, 0) - setup.clock.now());
    assert_eq!(setup.drain(&worker).await, 1);
    let sent = setup.app.database.sink_notices(10).await.unwrap();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0].sent_at, oslo(2017, 7, 1, 9, 0));
}

async fn a_letter_opened_before_the_reminder_gets_only_the_first_notice(backend: Backend) {
    let Some((setup, kari, letter)) = seed_letter(backend, 5).await else {
        return;
    };
    let worker = setup.worker(setup.sink(), setup.sink());
    setup
        .clock
        .advance(oslo(2017, 6, 25, 9, 0) - setup.clock.now());
    assert_eq!(setup.drain(&worker).await, 1);

    setup.clock.advance(Duration::days(2));
    let viewed = AccessEntry {
        at: setup.clock.now(),
        kind: AccessKind::View,
        document: None,
        level: SecurityLevel::Substantial,
        delegate: None,
    };
    // Another citizen's view of the id is not Kari opening it.
    setup
        .app
        .database
        .record_access(&citizen(6), letter, &viewed, None)
        .await
        .unwrap();
    setup
        .app
        .database
        .record_access(&kari, letter, &viewed, None)
        .await
        .unwrap();

    setup
        .clock
        .advance(oslo(2017, 7, 1, 9, 0) - setup.clock.now());
    assert_eq!(setup.drain(&worker).await, 0);
    assert_eq!(setup.sink_count().await, 1, "only the first notice");
    let states = setup
        .app
        .database
        .notice_states(&kari, letter)
        .await
        .unwrap();
    let outcomes: Vec<_> = states
        .iter()
        .map(|state| state.outcome.as_deref())
        .collect();
    assert_eq!(outcomes, [Some("sent"), Some("skipped")]);
}

async fn a_stale_email_gets_a_failure_receipt_and_a_fresh_mobile_its_sms(backend: Backend) {
    let Some(setup) = start(backend, oslo(2024, 3, 5, 10, 0)).await else {
        return;
    };
    let kari = citizen(7);
    setup
        .register(
            &kari,
            Some(Duration::days(19 * 31)),
            Some(Duration::days(20)),
        )
        .await;
    let mut varsler = email_notice(&[0]);
    varsler["smsvarsel"] = json!({
        "mobiltelefonnummer": "+4791234567",
        "varslingstekst": "Du har fått et brev.",
        "repetisjoner": [0]});
    setup.send(&kari, "Vedtak", Some(varsler)).await;
    let worker = setup.worker(setup.sink(), setup.sink());
    assert_eq!(setup.drain(&worker).await, 2);

    let sent = setup.app.database.sink_notices(10).await.unwrap();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].channel, NoticeChannel::Sms);
    assert_eq!(sent[0].address, "+4791234567");
    let failures = setup.failure_receipts().await;
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert_eq!(failures[0]["varslingskanal"], "EPOST");
    assert!(failures[0]["beskrivelse"]
        .as_str()
        .unwrap()
        .contains("kontaktinformasjon"));
    assert!(failures[0]["tidspunkt"].is_string());
}

async fn the_citizens_own_notice_adds_to_the_senders_once_per_day(backend: Backend) {
    let Some(setup) = start(backend, oslo(2024, 3, 5, 10, 0)).await else {
        return;
    };
    let kari = citizen(8);
    setup
        .register(&kari, Some(Duration::days(30)), Some(Duration::days(30)))
        .await;
    setup
        .app
        .database
        .set_notice_preference(
            &kari,
            NoticePreference {
                email: true,
                sms: false,
            },
            setup.clock.now(),
        )
        .await
        .unwrap();
    // No varsler: the citizen's own e-mail notice with the non-sensitive title.
    setup.send(&kari, "Hemmelig vedtak", None).await;
    // Sender's e-mail on day 0 and 7: one e-mail on day 0, not two.
    let second = setup
        .send(&kari, "Annet vedtak", Some(email_notice(&[0, 7])))
        .await;
    let worker = setup.worker(setup.sink(), setup.sink());
    assert_eq!(setup.drain(&worker).await, 2);
    let sent = setup.app.database.sink_notices(10).await.unwrap();
    assert_eq!(sent.len(), 2);
    assert!(sent
        .iter()
        .all(|notice| notice.channel == NoticeChannel::Email));
    let own = sent
        .iter()
        .find(|notice| notice.text.contains("Brev fra Brønnøysundregistrene"))
        .expect("the citizen's own notice names the non-sensitive title");
    assert!(!own.text.contains("Hemmelig"), "{}", own.text);
    assert!(sent
        .iter()
        .any(|notice| notice.text == "Du har fått et brev fra Brønnøysundregistrene."));
    let states = setup
        .app
        .database
        .notice_states(&kari, second)
        .await
        .unwrap();
    assert_eq!(states.len(), 2, "{states:?}");
}

/// A real HTTP SMS gateway: fails the first `failures` requests (or all),
/// and delivers each idempotency key once.
#[derive(Default)]
struct Gateway {
    failures: usize,
    always_fail: bool,
    requests: Mutex<Vec<String>>,
    delivered: Mutex<Vec<(String, String)>>,
}

async fn gateway_send(
    State(gateway): State<Arc<Gateway>>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> StatusCode {
    let key = headers
        .get("Idempotency-Key")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(body["idempotency_key"], key.as_str());
    let seen = {
        let mut requests = gateway.requests.lock().unwrap();
        requests.push(key.clone());
        requests.len()
    };
    if gateway.always_fail || seen <= gateway.failures {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    let mut delivered = gateway.delivered.lock().unwrap();
    if !delivered.iter().any(|(known, _)| *known == key) {
        delivered.push((key, body["text"].as_str().unwrap_or_default().to_owned()));
    }
    StatusCode::OK
}

async fn start_gateway(gateway: Arc<Gateway>) -> Arc<dyn NoticeSender> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/sms", listener.local_addr().unwrap());
    let router = Router::new()
        .route("/sms", post(gateway_send))
        .with_state(gateway);
    tokio::spawn(async move { axum::serve(listener, router).await });
    Arc::new(HttpSmsGateway {
        url: url.parse().unwrap(),
        http: reqwest::Client::new(),
        timeout: std::time::Duration::from_secs(5),
    })
}

/// A server with a citizen with a fresh mobile and a letter ordering a day-0 SMS.
async fn sms_letter(backend: Backend, day: u32) -> Option<(Setup, Fnr, LetterId)> {
    let ages = (None, Some(Duration::days(30)));
    with_letter(backend, oslo(2024, 3, 5, 10, 0), day, ages, sms_notice()).await
}

fn sms_notice() -> Value {
    json!({"smsvarsel": {
        "mobiltelefonnummer": "+4791234567",
        "varslingstekst": "Du har fått et brev.",
        "repetisjoner": [0]}})
}

/// Runs the worker until nothing is due, moving the clock past each backoff.
async fn drain_with_retries(setup: &Setup, worker: &NotifyWorker) {
    for _ in 0..10 {
        setup.drain(worker).await;
        setup.clock.advance(Duration::minutes(15));
    }
}

async fn a_gateway_failing_twice_then_succeeding_sends_one_sms(backend: Backend) {
    let Some((setup, _kari, _letter)) = sms_letter(backend, 9).await else {
        return;
    };
    let gateway = Arc::new(Gateway {
        failures: 2,
        ..Gateway::default()
    });
    let worker = setup.worker(setup.sink(), start_gateway(gateway.clone()).await);
    drain_with_retries(&setup, &worker).await;
    let requests = gateway.requests.lock().unwrap().clone();
    assert_eq!(requests.len(), 3);
    assert!(
        requests.iter().all(|key| *key == requests[0]),
        "one key throughout"
    );
    assert_eq!(gateway.delivered.lock().unwrap().len(), 1);
    assert!(setup.failure_receipts().await.is_empty());
}

async fn a_gateway_that_always_fails_yields_one_failure_receipt(backend: Backend) {
    let Some((setup, _kari, _letter)) = sms_letter(backend, 10).await else {
        return;
    };
    let gateway = Arc::new(Gateway {
        always_fail: true,
        ..Gateway::default()
    });
    let worker = setup.worker(setup.sink(), start_gateway(gateway.clone()).await);
    drain_with_retries(&setup, &worker).await;
    assert_eq!(gateway.requests.lock().unwrap().len(), 3, "max_attempts");
    assert!(gateway.delivered.lock().unwrap().is_empty());
    let failures = setup.failure_receipts().await;
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert_eq!(failures[0]["varslingskanal"], "SMS");
}

async fn a_worker_killed_between_send_and_record_sends_no_second_sms(backend: Backend) {
    let Some((setup, kari, letter)) = sms_letter(backend, 11).await else {
        return;
    };
    let gateway = Arc::new(Gateway::default());
    let sms = start_gateway(gateway.clone()).await;

    // The first worker sends, then dies before recording anything.
    let doomed = setup.worker(setup.sink(), sms.clone());
    let jobs = doomed.claim().await.unwrap();
    assert_eq!(jobs.len(), 1);
    let _unrecorded = doomed.attempt(jobs).await.unwrap();
    drop(doomed);

    // While its lease lasts nobody takes the job; after, another worker
    // resends under the same key and the gateway recognises it.
    let survivor = setup.worker(setup.sink(), sms);
    assert_eq!(setup.drain(&survivor).await, 0);
    setup.clock.advance(Duration::minutes(3));
    assert_eq!(setup.drain(&survivor).await, 1);
    let requests = gateway.requests.lock().unwrap().clone();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0], requests[1]);
    assert_eq!(gateway.delivered.lock().unwrap().len(), 1, "one SMS");
    let states = setup
        .app
        .database
        .notice_states(&kari, letter)
        .await
        .unwrap();
    assert_eq!(states[0].outcome.as_deref(), Some("sent"));
    assert_eq!(states[0].attempts, 2);
}

/// A real SMTP server, speaking as much SMTP as a client needs; keeps each
/// message's envelope recipient and data. With `reject`, it refuses every
/// recipient permanently (550).
async fn start_smtp_server(reject: bool) -> (u16, Mailbag) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let messages = Arc::new(Mutex::new(Vec::new()));
    let store = messages.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let store = store.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut lines = BufReader::new(read).lines();
                write.write_all(b"220 test ESMTP\r\n").await.unwrap();
                let mut recipient = String::new();
                while let Ok(Some(line)) = lines.next_line().await {
                    let command = line.to_ascii_uppercase();
                    let reply: &[u8] = if command.starts_with("EHLO") {
                        b"250-test\r\n250 8BITMIME\r\n"
                    } else if command.starts_with("RCPT") && reject {
                        b"550 5.1.1 unknown recipient\r\n"
                    } else if command.starts_with("RCPT") {
                        recipient = line.clone();
                        b"250 OK\r\n"
                    } else if command.starts_with("DATA") {
                        write.write_all(b"354 go on\r\n").await.unwrap();
                        let mut data = String::new();
                        while let Ok(Some(line)) = lines.next_line().await {
                            if line == "." {
                                break;
                            }
                            data.push_str(&line);
                            data.push('\n');
                        }
                        store.lock().unwrap().push((recipient.clone(), data));
                        b"250 queued\r\n"
                    } else if command.starts_with("QUIT") {
                        write.write_all(b"221 bye\r\n").await.unwrap();
                        break;
                    } else {
                        b"250 OK\r\n"
                    };
                    write.write_all(reply).await.unwrap();
                }
            });
        }
    });
    (port, messages)
}

async fn email_goes_over_smtp_with_the_job_key_as_message_id(backend: Backend) {
    let Some((setup, messages, worker)) = smtp_letter(backend, 12, false).await else {
        return;
    };
    assert_eq!(setup.drain(&worker).await, 1);
    let messages = messages.lock().unwrap().clone();
    assert_eq!(messages.len(), 1);
    let (recipient, data) = &messages[0];
    assert!(recipient.contains("<kari@example.no>"), "{recipient}");
    assert!(data.contains("Subject: Nytt brev i Postkasse"), "{data}");
    assert!(data.contains("@postkasse.localhost>"), "{data}");
    assert!(
        data.contains("Brønnøysundregistrene") || data.contains("=C3=B8"),
        "{data}"
    );
    assert_eq!(setup.sink_count().await, 0);
}

async fn a_citizen_chooses_their_own_notices_in_settings(backend: Backend) {
    let Some(setup) = start(backend, Utc::now()).await else {
        return;
    };
    let (kari, ola) = (citizen(13), citizen(14));
    let app = &setup.app;
    let kari_session = app.login_as(&kari).await;
    let ola_session = app.login_as(&ola).await;
    let page = app
        .get_as("/innstillinger", &kari_session)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Varsle meg på e-post om hvert nye brev"),
        "{page}"
    );

    let response = app
        .server_fn_as("choose_notices", &[("email", "on".into())], &kari_session)
        .await;
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    let chosen = NoticePreference {
        email: true,
        sms: false,
    };
    assert_eq!(app.database.notice_preference(&kari).await.unwrap(), chosen);
    assert_eq!(
        app.database.notice_preference(&ola).await.unwrap(),
        NoticePreference::default(),
        "only the logged-in citizen's choice changes"
    );
    let page = app
        .get_as("/innstillinger", &kari_session)
        .await
        .text()
        .await
        .unwrap();
    let email_box = &page[page.find("id=\"varsel-epost\"").unwrap()..];
    assert!(
        email_box[..email_box.find('>').unwrap()].contains("checked"),
        "{email_box}"
    );

    // Ola's unticked form leaves Kari's choice alone; Kari's clears hers.
    app.server_fn_as("choose_notices", &[], &ola_session).await;
    assert_eq!(app.database.notice_preference(&kari).await.unwrap(), chosen);
    app.server_fn_as("choose_notices", &[], &kari_session).await;
    assert_eq!(
        app.database.notice_preference(&kari).await.unwrap(),
        NoticePreference::default()
    );
    // Without a session nothing is stored.
    let anonymous = app
        .client
        .post(app.url("/api/choose_notices"))
        .header("Origin", app.address.as_str())
        .form(&[("email", "on")])
        .send()
        .await
        .unwrap();
    assert!(!anonymous.status().is_success());
    assert_eq!(
        app.database.notice_preference(&kari).await.unwrap(),
        NoticePreference::default()
    );
}

type Mailbag = Arc<Mutex<Vec<(String, String)>>>;

/// A letter ordering a day-0 e-mail, and a worker sending e-mail to a test
/// SMTP server (which refuses every recipient when `reject`).
async fn smtp_letter(
    backend: Backend,
    day: u32,
    reject: bool,
) -> Option<(Setup, Mailbag, NotifyWorker)> {
    let ages = (Some(Duration::days(30)), None);
    let at = oslo(2024, 3, 5, 10, 0);
    let (setup, _, _) = with_letter(backend, at, day, ages, email_notice(&[0])).await?;
    let (port, messages) = start_smtp_server(reject).await;
    let worker = setup.worker(Arc::new(smtp_sender(port)), setup.sink());
    Some((setup, messages, worker))
}

fn smtp_sender(port: u16) -> SmtpSender {
    SmtpSender::new(&SmtpOptions {
        host: "127.0.0.1".into(),
        port,
        starttls: false,
        credentials: None,
        from: "Postkasse <varsel@postkasse.localhost>".into(),
        timeout: std::time::Duration::from_secs(5),
    })
    .unwrap()
}

async fn a_refused_email_address_gives_one_failure_receipt(backend: Backend) {
    let Some((setup, messages, worker)) = smtp_letter(backend, 15, true).await else {
        return;
    };
    assert_eq!(
        setup.drain(&worker).await,
        1,
        "a permanent refusal is not retried"
    );
    assert!(messages.lock().unwrap().is_empty());
    let failures = setup.failure_receipts().await;
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert_eq!(failures[0]["varslingskanal"], "EPOST");
}

/// Postkasse's own notices are worded in the citizen's language as the
/// register has it (KRR's `spraak`) when they are sent: nynorsk, English,
/// and bokmål for Northern Sami or no language on record.
async fn notices_come_in_the_citizens_language(backend: Backend) {
    let Some(setup) = start(backend, oslo(2026, 12, 7, 10, 0)).await else {
        return;
    };
    let expected = [
        (
            citizen(21),
            Some(Language::Nynorsk),
            "nn@example.no",
            "Du har fått eit nytt brev i Postkasse: «Brev fra Brønnøysundregistrene».",
        ),
        (
            citizen(22),
            Some(Language::English),
            "en@example.no",
            "You have a new letter in Postkasse: “Brev fra Brønnøysundregistrene”.",
        ),
        (
            citizen(23),
            Some(Language::Sami),
            "se@example.no",
            "Du har fått et nytt brev i Postkasse: «Brev fra Brønnøysundregistrene».",
        ),
        (
            citizen(24),
            None,
            "nb@example.no",
            "Du har fått et nytt brev i Postkasse: «Brev fra Brønnøysundregistrene».",
        ),
    ];
    for (fnr, language, email, _) in &expected {
        setup.register_speaking(fnr, *language, email).await;
        setup.send(fnr, &format!("Vedtak til {email}"), None).await;
    }
    let worker = setup.worker(setup.sink(), setup.sink());
    assert_eq!(setup.drain(&worker).await, expected.len());
    let sent = setup.app.database.sink_notices(10).await.unwrap();
    for (_, _, email, text) in &expected {
        let notice = sent
            .iter()
            .find(|notice| notice.address == *email)
            .unwrap_or_else(|| panic!("no notice to {email}"));
        assert_eq!(notice.text, *text, "to {email}");
    }
}

on_both_backends!(
    notices_come_in_the_citizens_language,
    a_refused_email_address_gives_one_failure_receipt,
    a_citizen_chooses_their_own_notices_in_settings,
    the_seed_example_notifies_on_the_25th_and_the_1st,
    a_letter_opened_before_the_reminder_gets_only_the_first_notice,
    a_stale_email_gets_a_failure_receipt_and_a_fresh_mobile_its_sms,
    the_citizens_own_notice_adds_to_the_senders_once_per_day,
    a_gateway_failing_twice_then_succeeding_sends_one_sms,
    a_gateway_that_always_fails_yields_one_failure_receipt,
    a_worker_killed_between_send_and_record_sends_no_second_sms,
    email_goes_over_smtp_with_the_job_key_as_message_id,
);
