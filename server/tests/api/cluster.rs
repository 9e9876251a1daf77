//! Tax day's shape: three real `postkasse serve` nodes over one PostgreSQL
//! and one object store (SeaweedFS). Clients send 5,000 letters spread over
//! the nodes, each letter with an e-mail notice, while one node is SIGKILLed
//! and started again, twice; a client whose node does not answer sends to
//! the next, as a load balancer would. Afterwards every acknowledged letter
//! is stored once, its document is read back byte for byte through every
//! node, a search on every node finds it, and exactly one notice went out
//! for it.
//!
//! PostgreSQL only: several nodes share one database only there (SQLite is
//! one process's file; docs/cluster.md).

use crate::crash::{assert_stored_exactly, Environment, MAILBOX_CITIZENS};
use crate::helpers::{citizen, count_in, seaweedfs, Backend, TestDatabase};
use crate::login::{get_at, login_as_at};
use postkasse::{
    broker::client::OutgoingLetter,
    mailbox::Store as _,
    notify::{OrderedNotice, OrderedNotices},
};
use reqwest::StatusCode;
use std::{
    collections::{HashMap, HashSet},
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};
use tokio::sync::RwLock;

const LETTERS: usize = 5000;
const CLIENTS: usize = 12;
const NODES: usize = 3;
/// The node that is killed; the others stay up.
const KILLED: usize = 1;
/// Killed when this many letters have been acknowledged.
const KILL_AT: [usize; 2] = [LETTERS / 3, 2 * LETTERS / 3];
const AGENCY: &str = "974760673";

/// The settings every node shares: every blob in the bucket (none inline in
/// the database), notices at any hour and unthrottled, and limits that
/// leave the test's own searches alone.
fn shared_settings(bucket: &postkasse::blobs::S3Bucket) -> String {
    use secrecy::ExposeSecret as _;
    // The notice window is a day less a minute; keep now well inside it.
    let zone = if chrono::Timelike::hour(&chrono::Utc::now()) >= 20 {
        "Etc/GMT+6"
    } else {
        "UTC"
    };
    format!(
        r#"
[blobs]
store = "s3"
inline_max_bytes = 0

[blobs.s3]
endpoint = "{endpoint}"
bucket = "{bucket_name}"
region = "{region}"
access_key_id = "{key}"
secret_access_key = "{secret}"
allow_http = true
prefix = "{prefix}"

[notify]
time_zone = "{zone}"
window_opens = "00:00"
window_closes = "23:59"
email_per_second = 0
poll_milliseconds = 200

[limits]
login = {{ burst = 100000, period_seconds = 60 }}
testid = {{ burst = 100000, period_seconds = 60 }}
search = {{ burst = 100000, period_seconds = 60 }}
"#,
        endpoint = bucket.endpoint,
        bucket_name = bucket.bucket,
        region = bucket.region,
        key = bucket.access_key_id,
        secret = bucket.secret_access_key.expose_secret(),
        prefix = bucket.prefix,
    )
}

/// Letter `index`: a one-page PDF of its own (so each has a blob of its
/// own), to one of the citizens with a mailbox here, with an e-mail notice.
fn letter(index: usize) -> OutgoingLetter {
    let day = 1 + (index as u32 % MAILBOX_CITIZENS);
    let recipient = citizen(day);
    let sender = app::domain::OrgNr::parse(AGENCY).unwrap();
    let title = format!("Skatteoppgjør {index}");
    let mut letter = crate::helpers::test_letter(&sender, &recipient, &title);
    letter.main.bytes = postkasse::pdf::letter_pdf(
        &title,
        "Skatteetaten",
        &[&format!("Innhold i brev nummer {index}.")],
    )
    .unwrap();
    letter.notices = OrderedNotices {
        email: Some(OrderedNotice {
            address: format!("innbygger{day}@example.no"),
            text: "Du har fått et brev fra Skatteetaten".to_owned(),
            repetitions: vec![0],
        }),
        sms: None,
    };
    letter
}

/// Polls `check` once a second until it returns `None`, or panics with its
/// last complaint after `patience`.
async fn eventually<F, Fut>(patience: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<String>>,
{
    let deadline = Instant::now() + patience;
    loop {
        let Some(complaint) = check().await else {
            return;
        };
        assert!(Instant::now() < deadline, "{complaint}");
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_keep_every_letter_once_through_two_sigkills() {
    let database = TestDatabase::create(Backend::Postgres)
        .await
        .expect("PostgreSQL, which this test needs");
    let bucket = seaweedfs().await.bucket_for_a_test();
    let shared = tempfile::tempdir().unwrap();
    let config = shared.path().join("cluster.toml");
    std::fs::write(&config, shared_settings(&bucket)).unwrap();
    // Each node has a directory of its own (its search index); the database,
    // the bucket and the keys are shared.
    let scratches: Vec<_> = (0..NODES).map(|_| tempfile::tempdir().unwrap()).collect();
    let nodes: Vec<Environment> = scratches
        .iter()
        .map(|scratch| Environment {
            config: Some(config.clone()),
            ..Environment::in_scratch(&database.url, scratch.path())
        })
        .collect();
    nodes[0].cli(&["migrate"]).await;
    nodes[0]
        .cli(&[
            "krr",
            "import",
            crate::crash::register_csv(shared.path()).to_str().unwrap(),
        ])
        .await;
    let token = nodes[0].send_token(AGENCY).await;
    let mut processes = Vec::new();
    let mut addresses = Vec::new();
    for node in &nodes {
        let (process, address) = node.start().await;
        processes.push(Some(process));
        addresses.push(RwLock::new(address));
    }
    let addresses = Arc::new(addresses);

    let letters: Arc<Vec<OutgoingLetter>> = Arc::new((0..LETTERS).map(letter).collect());
    let next = Arc::new(AtomicUsize::new(0));
    let acknowledged_so_far = Arc::new(AtomicUsize::new(0));
    let client = crate::helpers::http_client();
    let mut clients = Vec::new();
    for _ in 0..CLIENTS {
        let (letters, next, done, addresses, client, token) = (
            letters.clone(),
            next.clone(),
            acknowledged_so_far.clone(),
            addresses.clone(),
            client.clone(),
            token.clone(),
        );
        clients.push(tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            let mut retries = 0;
            loop {
                let index = next.fetch_add(1, Ordering::SeqCst);
                let Some(letter) = letters.get(index) else {
                    return (acknowledged, retries);
                };
                let package = letter.package().unwrap();
                let message = letter.business_message(&package).to_string();
                // Spread over the nodes; on no answer, the next node.
                for attempt in index.. {
                    let address = addresses[attempt % NODES].read().await.clone();
                    let response = client
                        .post(format!("{address}/messages/out"))
                        .bearer_auth(&token)
                        .multipart(
                            reqwest::multipart::Form::new()
                                .text("forretningsmelding", message.clone())
                                .part(
                                    "dokumentpakke",
                                    reqwest::multipart::Part::bytes(package.clone()),
                                ),
                        )
                        .send()
                        .await;
                    match response {
                        Ok(response) if response.status() == StatusCode::CREATED => {
                            let body: serde_json::Value = response.json().await.unwrap_or_default();
                            if body["messageId"] == letter.message_id.to_string() {
                                acknowledged.push(letter.message_id);
                                done.fetch_add(1, Ordering::SeqCst);
                                break;
                            }
                        }
                        Ok(response) if response.status().is_client_error() => panic!(
                            "letter {index} refused with {}: {}",
                            response.status(),
                            response.text().await.unwrap_or_default()
                        ),
                        // Killed mid-request, not up yet, or a 5xx while it dies.
                        _ => {}
                    }
                    retries += 1;
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        }));
    }

    // The killer: SIGKILL one node as the count passes each mark, and start
    // it again on its own index after a moment down.
    let started = Instant::now();
    let mut killed_at = Vec::new();
    for mark in KILL_AT {
        while acknowledged_so_far.load(Ordering::SeqCst) < mark {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let mut process = processes[KILLED].take().unwrap();
        process.kill().await.expect("SIGKILL the node");
        killed_at.push(acknowledged_so_far.load(Ordering::SeqCst));
        tokio::time::sleep(Duration::from_millis(500)).await;
        let (restarted, address) = nodes[KILLED].start().await;
        processes[KILLED] = Some(restarted);
        *addresses[KILLED].write().await = address;
    }
    let mut acknowledged = Vec::new();
    let mut retries = 0;
    for client in clients {
        let (mine, my_retries) = client.await.unwrap();
        acknowledged.extend(mine);
        retries += my_retries;
    }
    let sending = started.elapsed();
    assert_eq!(acknowledged.len(), LETTERS);
    println!(
        "{LETTERS} letters acknowledged by {NODES} nodes in {:.1} s ({:.0} a second), \
         node {} SIGKILLed at {killed_at:?} acknowledged and started again; \
         {retries} sends went to another node",
        sending.as_secs_f64(),
        LETTERS as f64 / sending.as_secs_f64(),
        KILLED + 1,
    );

    // Stored once.
    let sender = app::domain::OrgNr::parse(AGENCY).unwrap();
    assert_stored_exactly(&database, &sender, &acknowledged).await;
    let count = |sql: &'static str| count_in(&database.url, sql);
    assert_eq!(count("SELECT COUNT(*) FROM letter").await, LETTERS as i64);
    println!("stored once: {LETTERS} messages, {LETTERS} letters");

    // Exactly one notice per letter, sent to the sink.
    eventually(Duration::from_secs(180), || async move {
        let sent = count("SELECT COUNT(*) FROM notice_job WHERE outcome = 'sent'").await;
        (sent < LETTERS as i64).then(|| format!("{sent} of {LETTERS} notices sent"))
    })
    .await;
    assert_eq!(
        count(
            "SELECT COUNT(*) FROM letter l WHERE (SELECT COUNT(*) FROM notice_job n
               WHERE n.letter_id = l.id AND n.outcome = 'sent') <> 1"
        )
        .await,
        0,
        "every letter has exactly one notice sent"
    );
    let in_sink = count("SELECT COUNT(*) FROM notice_sink WHERE channel = 'epost'").await;
    assert_eq!(in_sink, LETTERS as i64, "one e-mail per letter in the sink");
    println!("notices: {in_sink} e-mails, one per letter");

    // The letters as each citizen's mailbox holds them, with what was sent.
    let storage = database.database().await;
    let sent_documents: HashMap<String, bytes::Bytes> = letters
        .iter()
        .map(|letter| {
            let document = bytes::Bytes::from(letter.main.bytes.clone());
            (letter.main.title.clone(), document)
        })
        .collect();
    let mut sessions = Vec::new();
    let mut letter_ids = Vec::new();
    let node_one = addresses[0].read().await.clone();
    for day in 1..=MAILBOX_CITIZENS {
        let owner = citizen(day);
        let letters = storage
            .letters_for(&owner, chrono::Utc::now())
            .await
            .unwrap();
        let session = login_as_at(&client, &node_one, &owner).await;
        for letter in &letters {
            letter_ids.push((
                sessions.len(),
                letter.id,
                sent_documents[letter.title.as_str()].clone(),
            ));
        }
        sessions.push((session, letters.len()));
    }
    assert_eq!(letter_ids.len(), LETTERS);
    let distinct: HashSet<_> = letter_ids.iter().map(|(_, id, _)| *id).collect();
    assert_eq!(distinct.len(), LETTERS);

    // Every document, byte for byte, through every node (from the bucket:
    // nothing is inline).
    let addresses: Vec<String> = {
        let mut now = Vec::new();
        for address in addresses.iter() {
            now.push(address.read().await.clone());
        }
        now
    };
    let readable = Arc::new(AtomicUsize::new(0));
    let work = Arc::new(std::sync::Mutex::new(letter_ids.into_iter()));
    let mut readers = Vec::new();
    for _ in 0..8 {
        let (work, readable, client, addresses, sessions) = (
            work.clone(),
            readable.clone(),
            client.clone(),
            addresses.clone(),
            sessions.clone(),
        );
        readers.push(tokio::spawn(async move {
            loop {
                let Some((citizen, letter, document)) = work.lock().unwrap().next() else {
                    return;
                };
                for address in &addresses {
                    let response = get_at(
                        &client,
                        address,
                        &format!("/dokumenter/{letter}/0"),
                        &sessions[citizen].0,
                    )
                    .await;
                    assert_eq!(response.status(), StatusCode::OK, "letter {letter}");
                    assert_eq!(
                        response.bytes().await.unwrap(),
                        document,
                        "letter {letter} at {address}"
                    );
                    readable.fetch_add(1, Ordering::SeqCst);
                }
            }
        }));
    }
    for reader in readers {
        reader.await.unwrap();
    }
    let readable = readable.load(Ordering::SeqCst);
    assert_eq!(readable, LETTERS * NODES);
    println!(
        "documents read back byte for byte: {readable} ({LETTERS} through each of {NODES} nodes)"
    );

    // Found by a search on every node: each citizen's hits for a word every
    // letter has are all of their letters.
    let mut found = 0;
    let client = &client;
    for address in &addresses {
        for (session, letters) in &sessions {
            eventually(Duration::from_secs(60), || async move {
                let response =
                    get_at(client, address, "/api/search_archive?q=innhold", session).await;
                assert_eq!(response.status(), StatusCode::OK);
                let results: serde_json::Value = response.json().await.unwrap();
                (results["total"] != *letters).then(|| {
                    format!(
                        "{address} finds {} of a citizen's {letters} letters",
                        results["total"]
                    )
                })
            })
            .await;
            found += letters;
        }
    }
    assert_eq!(found, LETTERS * NODES);
    println!("searchable: {found} hits ({LETTERS} on each of {NODES} nodes)");
    drop(processes);
}
