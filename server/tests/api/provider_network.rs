//! Two Postkasse installations talking DPI to each other: A as the real
//! `postkasse serve` process, B in the test. A is the broker the agency sends
//! to and the network's Maskinporten; B is the citizen's mailbox provider,
//! which trusts A's tokens (by A's `/jwk`) and A's certificate, and gets its
//! own tokens from A's `/token`. A forwards the letter to B in DPI's
//! provider shape; the citizen opens it at B; B's receipts come back to A as
//! signed business messages and reach the agency, each once.

use crate::{
    crash::Environment,
    helpers::{
        citizen, http_client, on_both_backends, provider_files, receipts_at, refused,
        registered_agency_key, spawn_app_with, test_letter, Backend, TestApp, TestDatabase,
        OWN_PROVIDER, TEST_SENDER,
    },
    messages::receipt_kinds,
};
use app::domain::{Fnr, OrgNr};
use postkasse::{
    broker::Store as _,
    krr::{lookup::krr_time, person::MailboxProvider, providers::OwnProvider, Store as _},
    mailbox::Store as _,
    settings::Settings,
};
use reqwest::StatusCode;
use serde_json::Value;
use std::{path::PathBuf, time::Duration};
use x509_cert::der::Encode;

/// B's organisation number.
pub(crate) const PROVIDER_B: &str = "921000006";
const B_CLIENT_ID: &str = "postkasse-b";

/// B's key, certificate and public key, made before either installation
/// starts: A trusts B's certificate from its first moment.
pub(crate) struct KeysOfB {
    _directory: tempfile::TempDir,
    pub(crate) key_file: PathBuf,
    pub(crate) certificate_file: PathBuf,
    pub(crate) public_key_file: PathBuf,
    pub(crate) provider: OwnProvider,
}

/// B's key and certificate files.
#[derive(Clone)]
pub(crate) struct FilesOfB {
    key_file: PathBuf,
    certificate_file: PathBuf,
}

impl KeysOfB {
    pub(crate) fn files(&self) -> FilesOfB {
        FilesOfB {
            key_file: self.key_file.clone(),
            certificate_file: self.certificate_file.clone(),
        }
    }
}

/// B's settings: its own identity, trusting A's certificate, and A at
/// `a_address` as the network's Maskinporten, where B is a client.
pub(crate) fn as_provider_b(settings: &mut Settings, files: &FilesOfB, a_address: &str) {
    settings.provider.org_nr = PROVIDER_B.into();
    settings.provider.name = "Postkasse B".into();
    settings.provider.key_file = files.key_file.clone();
    settings.provider.certificate_file = files.certificate_file.clone();
    settings.trust.anchors = vec![provider_files().1];
    settings.maskinporten.issuer = format!("{a_address}/");
    settings.maskinporten.jwks_url = format!("{a_address}/jwk");
    settings.maskinporten.token_url = format!("{a_address}/token");
    settings.maskinporten.client_id = B_CLIENT_ID.into();
}

pub(crate) async fn keys_of_b() -> KeysOfB {
    tokio::task::spawn_blocking(|| {
        use rsa::pkcs8::EncodePublicKey;
        let directory = tempfile::tempdir().unwrap();
        let key_file = directory.path().join("b-key.pem");
        let certificate_file = directory.path().join("b-certificate.pem");
        let public_key_file = directory.path().join("b-public.pem");
        let provider = OwnProvider::load_or_create(
            OrgNr::parse(PROVIDER_B).unwrap(),
            "Postkasse B",
            &key_file,
            &certificate_file,
        )
        .unwrap();
        let public = provider
            .private_key
            .to_public_key()
            .to_public_key_pem(rsa::pkcs8::LineEnding::LF)
            .unwrap();
        std::fs::write(&public_key_file, public).unwrap();
        KeysOfB {
            _directory: directory,
            key_file,
            certificate_file,
            public_key_file,
            provider,
        }
    })
    .await
    .unwrap()
}

/// Registers a provider in an installation's register, with the address of
/// its API.
pub(crate) async fn register_provider(
    app: &TestApp,
    org_nr: &str,
    name: &str,
    address: &str,
    der: Vec<u8>,
) {
    app.database
        .upsert_mailbox_provider(&MailboxProvider {
            org_nr: OrgNr::parse(org_nr).unwrap(),
            name: name.into(),
            endpoint: Some(format!("{address}/messages/out")),
            certificate_der: der,
        })
        .await
        .unwrap();
}

/// The installation knows the agency's name, as a provider looks it up in
/// the Central Coordinating Register; a business message carries only its
/// number.
pub(crate) async fn name_the_agency(app: &TestApp) {
    postkasse::agency::registry::register(
        &app.database,
        &postkasse::clock::SystemClock,
        postkasse::agency::registry::NewAgency {
            org_nr: OrgNr::parse(TEST_SENDER).unwrap(),
            name: "Brønnøysundregistrene".into(),
            client_id: "brreg-at-b".into(),
            public_key_pem: std::fs::read_to_string(&registered_agency_key().public_key_file)
                .unwrap(),
            avsenderidentifikatorer: vec![],
            callback_url: None,
        },
    )
    .await
    .unwrap();
}

pub(crate) fn certificate_der(file: &PathBuf) -> Vec<u8> {
    use x509_cert::der::DecodePem;
    let pem = std::fs::read_to_string(file).unwrap();
    x509_cert::Certificate::from_pem(pem.as_bytes())
        .unwrap()
        .to_der()
        .unwrap()
}

/// Asks `check` every 50 ms for up to 15 s until it answers.
pub(crate) async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    for _ in 0..300 {
        if let Some(found) = check().await {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("waited 15 s for {what}");
}

/// A port nothing listens on now: A keeps it across restarts, since its
/// address is the issuer B trusts.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Installation A as the real `postkasse serve` process, on its database,
/// trusting B's certificate; migrated, not yet started.
pub(crate) struct InstallationA {
    pub(crate) environment: Environment,
    pub(crate) address: String,
    pub(crate) scratch: tempfile::TempDir,
}

impl InstallationA {
    pub(crate) async fn new(database: &TestDatabase, b_keys: &KeysOfB) -> InstallationA {
        let scratch = tempfile::tempdir().unwrap();
        let port = free_port();
        // Quick retries, and a short lease so work A held when it was killed
        // is taken up soon after it starts again.
        let config = scratch.path().join("a.toml");
        std::fs::write(
            &config,
            format!(
                "[trust]\nanchors = [{:?}]\n\n[broker]\nretry_base_milliseconds = 50\nretry_max_seconds = 1\nlease_seconds = 2\npoll_milliseconds = 50\n",
                b_keys.certificate_file
            ),
        )
        .unwrap();
        let environment = Environment {
            database_url: database.url.clone(),
            blobs: scratch.path().join("blobs"),
            scratch: scratch.path().to_path_buf(),
            port,
            config: Some(config),
        };
        environment.cli(&["migrate"]).await;
        InstallationA {
            environment,
            address: format!("http://127.0.0.1:{port}"),
            scratch,
        }
    }

    /// Puts the citizen in A's register with a mailbox at `provider`.
    pub(crate) async fn register(&self, fnr: &Fnr, address: &str, provider: &str) {
        let file = self
            .scratch
            .path()
            .join(format!("register-{}.csv", fnr.as_str()));
        std::fs::write(
            &file,
            format!(
                "personidentifikator,reservasjon,epostadresse,epostadresse_oppdatert,postkasseadresse,postkasseleverandoeradresse\n{},NEI,innbygger@example.no,{},{address},{provider}\n",
                fnr.as_str(),
                krr_time(chrono::Utc::now() - chrono::Duration::days(30)),
            ),
        )
        .unwrap();
        self.environment
            .cli(&["krr", "import", file.to_str().unwrap()])
            .await;
    }

    /// Registers B, at its address, as a provider in A's register.
    pub(crate) async fn add_provider_b(&self, b: &TestApp, b_keys: &KeysOfB) {
        self.environment
            .cli(&[
                "provider",
                "add",
                "--org-nr",
                PROVIDER_B,
                "--name",
                "Postkasse B",
                "--endpoint",
                &format!("{}/messages/out", b.address),
                "--certificate",
                b_keys.certificate_file.to_str().unwrap(),
            ])
            .await;
    }

    /// A token for `org_nr` to send with, as an operator issues one.
    pub(crate) async fn send_token(&self, org_nr: &str) -> String {
        self.environment
            .cli(&[
                "token",
                "issue",
                "--client",
                org_nr,
                "--org-nr",
                org_nr,
                "--scope",
                "digitalpostinnbygger:send",
            ])
            .await
            .trim()
            .to_owned()
    }

    /// Starts `postkasse serve`; it listens where B expects it.
    pub(crate) async fn start(&self) -> tokio::process::Child {
        let (process, listening) = self.environment.start().await;
        assert_eq!(listening, self.address, "A listens where B expects it");
        process
    }
}

/// A multipart `POST /messages/out` at `address` with these parts.
pub(crate) async fn post_message(
    client: &reqwest::Client,
    address: &str,
    token: &str,
    business_message: String,
    package: Option<Vec<u8>>,
) -> reqwest::Response {
    crate::helpers::record_fuzz_seeds(&business_message, package.as_deref());
    let mut form = reqwest::multipart::Form::new().part(
        "forretningsmelding",
        reqwest::multipart::Part::text(business_message),
    );
    if let Some(package) = package {
        form = form.part("dokumentpakke", reqwest::multipart::Part::bytes(package));
    }
    client
        .post(format!("{address}/messages/out"))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

async fn a_letter_forwarded_to_another_postkasse_comes_back_as_its_receipts(backend: Backend) {
    let Some(database) = TestDatabase::create(backend).await else {
        return;
    };
    let b_keys = keys_of_b().await;
    let a = InstallationA::new(&database, &b_keys).await;
    let (b_files, a_address) = (b_keys.files(), a.address.clone());
    let b = spawn_app_with(backend, move |settings| {
        as_provider_b(settings, &b_files, &a_address)
    })
    .await
    .expect("B starts where A did");

    // Each knows the other as a provider; B is a client at A's Maskinporten.
    a.add_provider_b(&b, &b_keys).await;
    a.environment
        .cli(&[
            "agency",
            "add",
            "--org-nr",
            PROVIDER_B,
            "--name",
            "Postkasse B",
            "--client-id",
            B_CLIENT_ID,
            "--public-key",
            b_keys.public_key_file.to_str().unwrap(),
        ])
        .await;
    register_provider(
        &b,
        OWN_PROVIDER,
        "Postkasse A",
        &a.address,
        certificate_der(&provider_files().1),
    )
    .await;
    name_the_agency(&b).await;

    // Both registers say Kari's mailbox is at B, under the same address.
    let kari = citizen(21);
    b.make_reachable(&kari, PROVIDER_B).await;
    let address = b.mailbox_address(&kari).await;
    a.register(&kari, &address, PROVIDER_B).await;
    let agency_token = a.send_token(TEST_SENDER).await;
    let mut a_process = a.start().await;
    let client = http_client();

    let mut letter = test_letter(
        &OrgNr::parse(TEST_SENDER).unwrap(),
        &kari,
        "Vedtak sendt videre",
    );
    letter.opening_receipt = true;
    let package = letter.package().unwrap();
    let response = post_message(
        &client,
        &a.address,
        &agency_token,
        letter.business_message(&package).to_string(),
        Some(package),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);

    // B has the letter, from the agency (not from A), in Kari's archive.
    let at_b = eventually("the letter at B", || async {
        let letters = b.letters(&kari).await;
        (!letters.is_empty()).then_some(letters)
    })
    .await;
    assert_eq!(at_b.len(), 1);
    assert_eq!(at_b[0].title.as_str(), "Vedtak sendt videre");
    assert_eq!(at_b[0].sender_name, "Brønnøysundregistrene");
    let a_storage = database.database().await;
    assert!(
        a_storage
            .letters_for(&kari, chrono::Utc::now())
            .await
            .unwrap()
            .is_empty(),
        "A kept no copy"
    );

    // Delivered: one leveringskvittering, from B.
    let receipts = eventually("the leveringskvittering at A", || async {
        let receipts = receipts_at(
            &client,
            &format!("{}/messages/in", a.address),
            &agency_token,
        )
        .await;
        (!receipts.is_empty()).then_some(receipts)
    })
    .await;
    assert_eq!(receipt_kinds(&receipts), ["leveringskvittering"]);

    // Kari opens it at B and agrees to the opening receipt.
    let session = b.login_as(&kari).await;
    let accepted = b
        .server_fn_as(
            "accept_opening_receipt",
            &[("id", at_b[0].id.to_string())],
            &session,
        )
        .await;
    assert!(accepted.status().is_success(), "{}", accepted.status());

    let receipts = eventually("B's aapningskvittering at A", || async {
        let receipts = receipts_at(
            &client,
            &format!("{}/messages/in", a.address),
            &agency_token,
        )
        .await;
        (receipts.len() >= 2).then_some(receipts)
    })
    .await;
    assert_eq!(
        receipt_kinds(&receipts),
        ["leveringskvittering", "aapningskvittering"]
    );
    let opened = &receipts[1]["forretningsmelding"]["standardBusinessDocument"];
    assert_eq!(
        opened["standardBusinessDocumentHeader"]["businessScope"]["scope"][0]["instanceIdentifier"],
        letter.conversation_id.to_string()
    );
    assert_eq!(
        opened["aapningskvittering"]["avsender"]["virksomhetsidentifikator"]["value"],
        format!("0192:{PROVIDER_B}"),
        "the receipt is B's"
    );
    assert_eq!(
        opened["aapningskvittering"]["mottaker"]["virksomhetsidentifikator"]["value"],
        format!("0192:{TEST_SENDER}"),
        "for the agency"
    );

    // B's receipt sent again (as a retry would) is taken, and kept once.
    let sent_by_b = b
        .database
        .unread_receipts(&OrgNr::parse(OWN_PROVIDER).unwrap(), "", None, 0, 10)
        .await
        .unwrap()
        .into_iter()
        .find(|receipt| receipt.kind == "aapningskvittering")
        .expect("B's own copy of its receipt");
    let document: Value = serde_json::from_str(&sent_by_b.document).unwrap();
    let signed =
        postkasse::broker::outbox::sign_business_message(&document, &b_keys.provider).unwrap();
    let b_token = a.send_token(PROVIDER_B).await;
    let again = post_message(&client, &a.address, &b_token, signed, None).await;
    assert_eq!(again.status(), StatusCode::CREATED);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        receipt_kinds(
            &receipts_at(
                &client,
                &format!("{}/messages/in", a.address),
                &agency_token
            )
            .await
        ),
        ["leveringskvittering", "aapningskvittering"],
        "each receipt reaches the agency once"
    );

    // Unsigned, the same receipt is refused, naming why.
    let problem =
        refused(post_message(&client, &a.address, &b_token, document.to_string(), None).await)
            .await;
    let params = problem["invalid-params"].as_array().unwrap();
    assert_eq!(params[0]["name"], "forretningsmelding", "{problem}");
    assert!(
        params[0]["reason"].as_str().unwrap().contains("signed"),
        "{problem}"
    );
    a_process.kill().await.unwrap();
}

on_both_backends!(a_letter_forwarded_to_another_postkasse_comes_back_as_its_receipts);
