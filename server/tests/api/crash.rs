//! Crash safety of the agency API: a client sends 1,000 letters, retrying
//! until each is acknowledged, while the real `postkasse serve` process is
//! killed with SIGKILL at random moments and started again. Afterwards every
//! acknowledged letter exists exactly once, went to exactly one channel, and
//! has exactly one receipt; no receipt exists without its committed message.

use crate::helpers::{
    citizen, on_both_backends, provider_files, testid_key_file, Backend, TestDatabase,
};
use app::domain::MessageId;
use postkasse::{broker::client::OutgoingLetter, broker::Store as _, krr::lookup::krr_time};
use rand::Rng;
use reqwest::StatusCode;
use std::{
    collections::HashSet,
    path::{Path, PathBuf},
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
    sync::RwLock,
};

const LETTERS: usize = 1000;
const CLIENTS: usize = 8;
const AGENCY: &str = "974760673";
/// Citizens with a mailbox here, and reserved ones with a postal address
/// (their decisions go to print).
pub(crate) const MAILBOX_CITIZENS: u32 = 16;
const PRINT_CITIZENS: u32 = 4;

/// Where the server process keeps its data, shared by every start.
pub(crate) struct Environment {
    pub(crate) database_url: String,
    pub(crate) blobs: PathBuf,
    pub(crate) scratch: PathBuf,
    /// 0: any free port, a new one at each start.
    pub(crate) port: u16,
    /// A settings file on top of the built-in defaults.
    pub(crate) config: Option<PathBuf>,
}

impl Environment {
    /// A server on `database_url` with its blobs under `scratch`, on any
    /// free port and the built-in settings.
    pub(crate) fn in_scratch(database_url: &str, scratch: &Path) -> Environment {
        Environment {
            database_url: database_url.to_owned(),
            blobs: scratch.join("blobs"),
            scratch: scratch.to_path_buf(),
            port: 0,
            config: None,
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let (provider_key, provider_certificate) = provider_files();
        let mut command = Command::new(env!("CARGO_BIN_EXE_postkasse"));
        command
            .args(args)
            .current_dir(&self.scratch)
            .env("POSTKASSE__DATABASE__URL", &self.database_url)
            .env("POSTKASSE__BLOBS__DIRECTORY", &self.blobs)
            .env("POSTKASSE__PROVIDER__KEY_FILE", provider_key)
            .env(
                "POSTKASSE__PROVIDER__CERTIFICATE_FILE",
                provider_certificate,
            )
            .env("POSTKASSE__TESTID__KEY_FILE", testid_key_file())
            // The signing keys are made once per test binary: RSA keys are slow.
            .env(
                "POSTKASSE__SIGNING__CA_DIRECTORY",
                crate::helpers::signing_directory(),
            )
            .env("POSTKASSE__APPLICATION__PORT", self.port.to_string())
            .env("RUST_LOG", "error")
            .kill_on_drop(true);
        if let Some(config) = &self.config {
            command.env("POSTKASSE_CONFIG", config);
        }
        command
    }

    pub(crate) async fn cli(&self, args: &[&str]) -> String {
        let output = self.command(args).output().await.expect("run postkasse");
        assert!(
            output.status.success(),
            "postkasse {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    /// A token for the agency `org_nr` to send letters with, a day long,
    /// issued by `postkasse token issue`.
    pub(crate) async fn send_token(&self, org_nr: &str) -> String {
        self.cli(&[
            "token",
            "issue",
            "--client",
            "test client",
            "--org-nr",
            org_nr,
            "--scope",
            "digitalpostinnbygger:send",
            "--days",
            "1",
        ])
        .await
        .trim()
        .to_owned()
    }

    /// Starts `postkasse serve` and waits until it says where it listens.
    pub(crate) async fn start(&self) -> (Child, String) {
        let mut child = self
            .command(&["serve"])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("start postkasse serve");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let address = tokio::time::timeout(Duration::from_secs(60), async {
            while let Some(line) = lines.next_line().await.unwrap() {
                if let Some(address) = line.strip_prefix("Postkasse is listening on ") {
                    return address.trim().to_owned();
                }
            }
            panic!("postkasse serve ended without listening");
        })
        .await
        .expect("the server starts within a minute");
        // Keep reading so the server never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        (child, address)
    }
}

/// Asserts that every message in `acknowledged` is stored, and nothing else:
/// the acknowledgements are distinct and as many as the stored messages.
pub(crate) async fn assert_stored_exactly(
    database: &TestDatabase,
    sender: &app::domain::OrgNr,
    acknowledged: &[MessageId],
) {
    let storage = database.database().await;
    for message_id in acknowledged {
        assert!(
            storage
                .message(sender, *message_id)
                .await
                .unwrap()
                .is_some(),
            "acknowledged message {message_id} is stored"
        );
    }
    let distinct: HashSet<_> = acknowledged.iter().collect();
    assert_eq!(distinct.len(), acknowledged.len(), "acknowledged once each");
    assert_eq!(
        crate::helpers::count_in(&database.url, "SELECT COUNT(*) FROM dpi_message").await,
        acknowledged.len() as i64,
        "nothing but what was acknowledged is stored, each once"
    );
}

pub(crate) fn register_csv(directory: &Path) -> PathBuf {
    let recent = krr_time(chrono::Utc::now() - chrono::Duration::days(30));
    let mut csv = String::from(
        "personidentifikator,reservasjon,reservasjonstidspunkt,epostadresse,epostadresse_oppdatert,postkasseadresse,postkasseleverandoeradresse\n",
    );
    for day in 1..=MAILBOX_CITIZENS + PRINT_CITIZENS {
        let reserved = day > MAILBOX_CITIZENS;
        csv.push_str(&format!(
            "{},{},{},innbygger{day}@example.no,{recent},innbygger{day}#CRASH,999900003\n",
            citizen(day).as_str(),
            if reserved { "JA" } else { "NEI" },
            if reserved { recent.as_str() } else { "" },
        ));
    }
    let file = directory.join("register.csv");
    std::fs::write(&file, csv).unwrap();
    file
}

async fn every_acknowledged_letter_survives_sigkill_exactly_once(backend: Backend) {
    let Some(database) = TestDatabase::create(backend).await else {
        return;
    };
    let scratch = tempfile::tempdir().unwrap();
    let environment = Arc::new(Environment::in_scratch(&database.url, scratch.path()));
    environment.cli(&["migrate"]).await;
    environment
        .cli(&[
            "krr",
            "import",
            register_csv(scratch.path()).to_str().unwrap(),
        ])
        .await;
    for day in MAILBOX_CITIZENS + 1..=MAILBOX_CITIZENS + PRINT_CITIZENS {
        environment
            .cli(&[
                "address",
                "set",
                "--fnr",
                citizen(day).as_str(),
                "--navn",
                "Test Testesen",
                "--adresselinje1",
                "Storgata 1",
                "--postnummer",
                "0155",
                "--poststed",
                "Oslo",
            ])
            .await;
    }
    let token = environment.send_token(AGENCY).await;

    // The client's work, done before the clock starts.
    let pdf = postkasse::pdf::letter_pdf("Vedtak", "Test", &["Innhold."]).unwrap();
    let sender = app::domain::OrgNr::parse(AGENCY).unwrap();
    let letters: Arc<Vec<(OutgoingLetter, String, Vec<u8>)>> = Arc::new(
        (0..LETTERS)
            .map(|index| {
                let recipient = citizen(1 + (index as u32 % (MAILBOX_CITIZENS + PRINT_CITIZENS)));
                let mut letter = crate::helpers::test_letter(&sender, &recipient, "Vedtak");
                letter.main.bytes = pdf.clone();
                let package = letter.package().unwrap();
                let message = letter.business_message(&package).to_string();
                (letter, message, package)
            })
            .collect(),
    );

    let (child, address) = environment.start().await;
    let address = Arc::new(RwLock::new(address));
    let done = Arc::new(AtomicBool::new(false));
    let killer = {
        let (environment, address, done) = (environment.clone(), address.clone(), done.clone());
        tokio::spawn(async move {
            let mut child = child;
            let mut kills = 0;
            while !done.load(Ordering::SeqCst) {
                let pause = rand::thread_rng().gen_range(50..400);
                tokio::time::sleep(Duration::from_millis(pause)).await;
                child.kill().await.expect("SIGKILL the server");
                kills += 1;
                let (restarted, new_address) = environment.start().await;
                child = restarted;
                *address.write().await = new_address;
            }
            (child, kills)
        })
    };

    let next = Arc::new(AtomicUsize::new(0));
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let mut clients = Vec::new();
    for _ in 0..CLIENTS {
        let (letters, next, address, client, token) = (
            letters.clone(),
            next.clone(),
            address.clone(),
            client.clone(),
            token.clone(),
        );
        clients.push(tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            loop {
                let index = next.fetch_add(1, Ordering::SeqCst);
                let Some((letter, message, package)) = letters.get(index) else {
                    return acknowledged;
                };
                // Retry until acknowledged, as a DPI sender would.
                loop {
                    let form = reqwest::multipart::Form::new()
                        .part(
                            "forretningsmelding",
                            reqwest::multipart::Part::text(message.clone()),
                        )
                        .part(
                            "dokumentpakke",
                            reqwest::multipart::Part::bytes(package.clone()),
                        );
                    let url = format!("{}/messages/out", address.read().await);
                    match client
                        .post(url)
                        .bearer_auth(&token)
                        .multipart(form)
                        .send()
                        .await
                    {
                        Ok(response) if response.status() == StatusCode::CREATED => {
                            let body: serde_json::Value = response.json().await.unwrap_or_default();
                            if body["messageId"] == letter.message_id.to_string() {
                                acknowledged.push(letter.message_id);
                                break;
                            }
                        }
                        Ok(response) if response.status().is_client_error() => panic!(
                            "letter {index} refused with {}: {}",
                            response.status(),
                            response.text().await.unwrap_or_default()
                        ),
                        // Killed mid-request, or not up yet: try again.
                        _ => tokio::time::sleep(Duration::from_millis(20)).await,
                    }
                }
            }
        }));
    }
    let mut acknowledged = Vec::new();
    for client in clients {
        acknowledged.extend(client.await.unwrap());
    }
    done.store(true, Ordering::SeqCst);
    let (mut child, kills) = killer.await.unwrap();
    child.kill().await.unwrap();
    assert_eq!(acknowledged.len(), LETTERS);
    assert!(kills >= 2, "the server was killed only {kills} times");
    println!("{LETTERS} letters acknowledged across {kills} SIGKILLs");

    assert_stored_exactly(&database, &sender, &acknowledged).await;
    let count = |sql: &'static str| crate::helpers::count_in(&database.url, sql);
    let in_mailboxes = count("SELECT COUNT(*) FROM dpi_message WHERE channel = 'postkasse'").await;
    let printed = count("SELECT COUNT(*) FROM dpi_message WHERE channel = 'utskrift'").await;
    assert_eq!(
        in_mailboxes + printed,
        LETTERS as i64,
        "every letter went to a mailbox or print"
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM letter").await,
        in_mailboxes,
        "one letter per mailbox message"
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM print_job").await,
        printed,
        "one print job per printed message"
    );
    assert_eq!(
        count(
            "SELECT COUNT(*) FROM dpi_message m WHERE m.letter_id IS NOT NULL
               AND EXISTS (SELECT 1 FROM print_job p WHERE p.message_row = m.id)"
        )
        .await,
        0,
        "no letter is both in a mailbox and printed"
    );
    // A letter in a mailbox has its leveringskvittering; a letter for paper
    // has none until the print house takes it (tests/api/print_chain.rs).
    assert_eq!(
        count(
            "SELECT COUNT(*) FROM dpi_message m
             WHERE (SELECT COUNT(*) FROM receipt r WHERE r.message_row = m.id)
                   <> CASE WHEN m.channel = 'utskrift' THEN 0 ELSE 1 END"
        )
        .await,
        0,
        "exactly one receipt per mailbox letter, none yet per printed one"
    );
    assert_eq!(
        count(
            "SELECT COUNT(*) FROM receipt r
             WHERE NOT EXISTS (SELECT 1 FROM dpi_message m WHERE m.id = r.message_row)"
        )
        .await,
        0,
        "no receipt without its committed message"
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM receipt").await,
        LETTERS as i64 - printed
    );
}

on_both_backends!(every_acknowledged_letter_survives_sigkill_exactly_once);
