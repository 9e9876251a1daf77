//! Typed settings: built-in defaults, then an optional file, then environment
//! variables (`POSTKASSE__SECTION__KEY`). Secrets are `SecretString`, so
//! `Debug` prints them redacted and logging the settings is safe.

use crate::notify::NoticeRoute;
use anyhow::Context;
use app::domain::SyntheticIds;
use secrecy::SecretString;
use serde::Deserialize;
use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    time::Duration,
};

const DEFAULTS: &str = include_str!("../config/default.toml");

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    Local,
    Test,
    Production,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    pub environment: Environment,
    pub application: ApplicationSettings,
    pub database: DatabaseSettings,
    pub blobs: BlobSettings,
    pub broker: BrokerSettings,
    pub provider: ProviderSettings,
    pub web: WebSettings,
    pub testid: TestIdSettings,
    pub oidc: OidcSettings,
    pub session: SessionSettings,
    pub maskinporten: MaskinportenSettings,
    pub trust: TrustSettings,
    pub mailbox: MailboxSettings,
    pub notify: NotifySettings,
    pub search: SearchSettings,
    pub print: PrintSettings,
    pub signing: SigningSettings,
    pub limits: crate::limits::LimitSettings,
}

/// Signing documents for citizens (docs/signing.md).
#[derive(Debug, Clone, Deserialize)]
pub struct SigningSettings {
    /// The signing service's key (PKCS#8 PEM), and its certificate chain
    /// (PEM, its certificate first). Both empty: a key and certificate from
    /// the local CA.
    pub key_file: PathBuf,
    pub certificate_file: PathBuf,
    /// A local certificate authority for development and demos: it issues
    /// the signing certificate when none is configured, and the certificate
    /// of Postkasse's own timestamp authority.
    pub ca_directory: PathBuf,
    /// The RFC 3161 timestamp authority. Empty: Postkasse's own.
    pub tsa_url: String,
    /// Serve Postkasse's own timestamp authority at `POST /tsa`.
    pub serve_tsa: bool,
    /// PEM files of certificate authorities whose signatures in letters are
    /// called valid, beside the local CA.
    pub trust_anchors: Vec<PathBuf>,
    /// How often waiting orders are checked against their deadline.
    pub expiry_interval_seconds: u64,
}

/// The print chain: preflight, cut-off times, the print house's drop.
#[derive(Debug, Clone, Deserialize)]
pub struct PrintSettings {
    /// The most pages a letter for paper may have.
    pub max_pages: u32,
    /// Norwegian wall-clock times (`HH:MM`) at which waiting letters are batched.
    pub cut_offs: Vec<String>,
    /// The most sheets a C5 envelope takes; thicker letters go in C4.
    pub c5_max_sheets: u32,
    /// The folder shared with the print house (`outgoing/`, `responses/`).
    pub drop_directory: PathBuf,
    /// How often the chain looks for a cut-off, batches to hand over and answers.
    pub poll_milliseconds: u64,
    /// A batch the print house did not take is offered again after this, doubling.
    pub retry_base_milliseconds: u64,
    pub retry_max_seconds: u64,
    /// Letters made print-ready per round of a cut-off.
    pub letters_per_round: usize,
}

/// The citizen's archive: the trash, uploads.
#[derive(Debug, Clone, Deserialize)]
pub struct MailboxSettings {
    /// Letters in the trash are purged this many days after they were deleted.
    pub trash_days: u32,
    /// How often the server looks for trash to empty.
    pub purge_interval_seconds: u64,
    /// The largest document a citizen may upload, or attach to a reply.
    pub max_upload_bytes: usize,
    /// How often the server looks for reply forms left unanswered at their deadline.
    pub unanswered_interval_seconds: u64,
}

/// The searchable archive: its index and the text extraction feeding it.
#[derive(Debug, Clone, Deserialize)]
pub struct SearchSettings {
    /// Where the full-text index lives; rebuilt from the database when missing.
    pub index_directory: PathBuf,
    /// The hunspell word list compounds are split with; empty for none.
    pub compound_words: PathBuf,
    /// Changes are committed to the index at most this often (and at least this soon).
    pub commit_interval_milliseconds: u64,
    /// How often the indexer looks for documents whose text is due.
    pub poll_milliseconds: u64,
    /// Extraction caps per document.
    pub max_document_bytes: u64,
    pub max_pages: usize,
    pub max_decompressed_bytes_per_page: usize,
    pub max_text_chars: usize,
    pub extraction_timeout_seconds: u64,
    /// Tries before a document is left unsearchable; retries wait longer each time.
    pub max_extraction_attempts: u32,
    pub retry_base_seconds: u64,
    pub retry_max_seconds: u64,
}

impl SearchSettings {
    pub fn commit_interval(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.commit_interval_milliseconds)
    }

    /// Loads the word list and opens the index, off the async threads. A
    /// word list that cannot be read is warned about, and compounds then go
    /// unsplit: search still works, only less well.
    pub async fn open_index(
        &self,
    ) -> anyhow::Result<std::sync::Arc<crate::search::index::SearchIndex>> {
        use crate::search::compounds::Compounds;
        let (directory, interval, words) = (
            self.index_directory.clone(),
            self.commit_interval(),
            self.compound_words.clone(),
        );
        tokio::task::spawn_blocking(move || {
            let compounds = if words.as_os_str().is_empty() {
                std::sync::Arc::new(Compounds::none())
            } else {
                Compounds::shared(&words).unwrap_or_else(|error| {
                    tracing::warn!(error = %error, "compounds will not be split in searches");
                    std::sync::Arc::new(Compounds::none())
                })
            };
            crate::search::index::SearchIndex::open(&directory, interval, compounds)
        })
        .await?
    }

    pub fn indexer(&self) -> crate::search::IndexerSettings {
        crate::search::IndexerSettings {
            limits: crate::search::extract::ExtractionLimits {
                max_bytes: self.max_document_bytes,
                max_pages: self.max_pages,
                max_decompressed_bytes: self.max_decompressed_bytes_per_page,
                max_chars: self.max_text_chars,
                timeout: std::time::Duration::from_secs(self.extraction_timeout_seconds),
            },
            poll: std::time::Duration::from_millis(self.poll_milliseconds),
            max_attempts: self.max_extraction_attempts,
            retry_base: chrono::Duration::seconds(self.retry_base_seconds as i64),
            retry_max: chrono::Duration::seconds(self.retry_max_seconds as i64),
            // Room for the extraction's own time cap, and then some.
            claim: chrono::Duration::seconds(2 * self.extraction_timeout_seconds as i64 + 60),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct ApplicationSettings {
    pub host: String,
    pub port: u16,
    pub allow_synthetic_ids: bool,
    pub public_url: String,
    /// Reverse proxies whose `X-Forwarded-For` names the client.
    #[serde(default)]
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DatabaseSettings {
    pub url: SecretString,
    pub max_connections: u32,
    pub acquire_timeout_seconds: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct BlobSettings {
    /// Where blobs too large to go inline are kept.
    pub store: BlobStoreKind,
    /// The directory, when `store = "directory"`.
    pub directory: PathBuf,
    /// The bucket, when `store = "s3"`.
    pub s3: crate::blobs::S3Bucket,
    /// Blobs up to this size are stored in the database by the commit that
    /// refers to them, instead of in a file of their own.
    pub inline_max_bytes: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BlobStoreKind {
    /// A local directory (one node, or a shared file system).
    Directory,
    /// An S3-compatible object store, which every node can share.
    S3,
}

/// The agency API and the work it leaves for later.
#[derive(Debug, Clone, Deserialize)]
pub struct BrokerSettings {
    /// DPI's limit on a document package, unencrypted.
    pub max_package_bytes: usize,
    /// The most messages committed in one transaction.
    pub max_commit_group: usize,
    pub outbox_workers: usize,
    pub max_attempts: u32,
    pub retry_base_milliseconds: u64,
    pub retry_max_seconds: u64,
    pub lease_seconds: u64,
    pub poll_milliseconds: u64,
    pub request_timeout_seconds: u64,
}

/// Notifications: the daytime window, the workers, and the channels.
#[derive(Debug, Clone, Deserialize)]
pub struct NotifySettings {
    /// An IANA time zone, e.g. `Europe/Oslo`.
    pub time_zone: String,
    /// `HH:MM`, local time.
    pub window_opens: String,
    pub window_closes: String,
    pub workers: usize,
    pub batch: u32,
    pub max_attempts: u32,
    pub retry_base_milliseconds: u64,
    pub retry_max_seconds: u64,
    pub lease_seconds: u64,
    pub poll_milliseconds: u64,
    /// Notices a second per channel; 0 for no limit.
    pub email_per_second: u32,
    pub sms_per_second: u32,
    /// `sink` or `smtp`.
    pub email: NoticeRoute,
    /// `sink` or `http`.
    pub sms: NoticeRoute,
    pub smtp_host: String,
    pub smtp_port: u16,
    pub smtp_starttls: bool,
    pub smtp_user: String,
    pub smtp_password: SecretString,
    pub smtp_from: String,
    pub sms_gateway_url: String,
    pub request_timeout_seconds: u64,
}

impl NotifySettings {
    pub fn window(&self) -> anyhow::Result<crate::notify::schedule::DayWindow> {
        let zone: chrono_tz::Tz = self
            .time_zone
            .parse()
            .map_err(|_| anyhow::anyhow!("notify.time_zone {:?} is unknown", self.time_zone))?;
        let time = |name: &str, text: &str| {
            chrono::NaiveTime::parse_from_str(text, "%H:%M")
                .with_context(|| format!("notify.{name} must be HH:MM, not {text:?}"))
        };
        crate::notify::schedule::DayWindow::new(
            zone,
            time("window_opens", &self.window_opens)?,
            time("window_closes", &self.window_closes)?,
        )
        .map_err(|error| anyhow::anyhow!("notify: {error}"))
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct ProviderSettings {
    pub org_nr: String,
    pub name: String,
    pub key_file: PathBuf,
    pub certificate_file: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
pub struct WebSettings {
    pub site_root: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TestIdSettings {
    pub enabled: bool,
    pub key_file: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SessionSettings {
    pub idle_timeout_minutes: i64,
    pub absolute_timeout_minutes: i64,
}

/// The Maskinporten-style token endpoint agencies exchange grants at, and
/// the issuer whose tokens DPI messages may embed.
#[derive(Debug, Clone, Deserialize)]
pub struct MaskinportenSettings {
    /// How long an access token from `POST /token` is valid.
    pub token_lifetime_seconds: u64,
    /// The `iss` of embedded tokens; empty: this installation's own issuer.
    pub issuer: String,
    /// Where that issuer publishes its keys (a JWKS); needed with `issuer`.
    pub jwks_url: String,
    /// How long fetched keys are used before they are fetched again.
    pub jwks_cache_seconds: u64,
    /// How far past `exp` a token is still taken, for clocks that differ.
    pub clock_skew_seconds: u64,
    /// The network issuer's token endpoint, where this Postkasse gets its
    /// own tokens; empty: this installation is the issuer.
    pub token_url: String,
    /// This Postkasse's client id at `token_url`.
    pub client_id: String,
}

/// The certificate authorities Postkasse trusts to issue enterprise
/// certificates (virksomhetssertifikat), such as Buypass's and Commfides'.
#[derive(Debug, Clone, Deserialize)]
pub struct TrustSettings {
    /// PEM files of CA certificates; none: no certificate is trusted.
    pub anchors: Vec<PathBuf>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct OidcSettings {
    pub issuer_url: String,
    pub client_id: String,
    pub client_secret: SecretString,
}

impl Settings {
    /// Defaults, then `file` if given, then the environment.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Settings> {
        let mut builder = config::Config::builder()
            .add_source(config::File::from_str(DEFAULTS, config::FileFormat::Toml));
        if let Some(file) = file {
            builder = builder.add_source(config::File::from(file).required(true));
        }
        let settings: Settings = builder
            .add_source(
                config::Environment::with_prefix("POSTKASSE")
                    .prefix_separator("__")
                    .separator("__"),
            )
            // cargo-leptos tells the server where it put the compiled site.
            .set_override_option("web.site_root", std::env::var("LEPTOS_SITE_ROOT").ok())?
            .build()?
            .try_deserialize()
            .context("invalid settings")?;
        settings.check()?;
        Ok(settings)
    }

    /// Refuses combinations that are unsafe outside a developer's machine.
    pub fn check(&self) -> anyhow::Result<()> {
        if self.environment == Environment::Production {
            anyhow::ensure!(
                !self.application.allow_synthetic_ids,
                "application.allow_synthetic_ids must be false in production"
            );
            anyhow::ensure!(
                !self.testid.enabled,
                "testid.enabled must be false in production"
            );
            anyhow::ensure!(
                !self.oidc.issuer_url.is_empty(),
                "oidc.issuer_url must name the real provider in production"
            );
        }
        app::domain::OrgNr::parse(&self.provider.org_nr)
            .map_err(|error| anyhow::anyhow!("provider.org_nr {error}"))?;
        self.limits.check()?;
        anyhow::ensure!(
            !self.provider.name.trim().is_empty(),
            "provider.name must not be empty"
        );
        anyhow::ensure!(
            self.broker.max_package_bytes > 0,
            "broker.max_package_bytes must be positive"
        );
        anyhow::ensure!(
            self.broker.max_commit_group > 0 && self.broker.max_attempts > 0,
            "broker.max_commit_group and broker.max_attempts must be positive"
        );
        anyhow::ensure!(
            (1..=86_400).contains(&self.maskinporten.token_lifetime_seconds),
            "maskinporten.token_lifetime_seconds must be from 1 to 86400"
        );
        anyhow::ensure!(
            self.maskinporten.issuer.is_empty() || !self.maskinporten.jwks_url.is_empty(),
            "maskinporten.jwks_url must be set when maskinporten.issuer is"
        );
        anyhow::ensure!(
            self.maskinporten.token_url.is_empty()
                || (!self.maskinporten.issuer.is_empty()
                    && !self.maskinporten.client_id.is_empty()),
            "maskinporten.token_url needs maskinporten.issuer and maskinporten.client_id"
        );
        anyhow::ensure!(
            self.maskinporten.clock_skew_seconds <= 300,
            "maskinporten.clock_skew_seconds must be at most 300"
        );
        anyhow::ensure!(
            (1..=3650).contains(&self.mailbox.trash_days),
            "mailbox.trash_days must be from 1 to 3650"
        );
        anyhow::ensure!(
            self.mailbox.purge_interval_seconds > 0
                && self.mailbox.max_upload_bytes > 0
                && self.mailbox.unanswered_interval_seconds > 0,
            "mailbox.purge_interval_seconds, mailbox.max_upload_bytes and \
             mailbox.unanswered_interval_seconds must be positive"
        );
        self.notify.window()?;
        anyhow::ensure!(
            matches!(self.notify.email, NoticeRoute::Sink | NoticeRoute::Smtp),
            "notify.email must be sink or smtp"
        );
        anyhow::ensure!(
            matches!(self.notify.sms, NoticeRoute::Sink | NoticeRoute::Http),
            "notify.sms must be sink or http"
        );
        if self.notify.sms == NoticeRoute::Http {
            url::Url::parse(&self.notify.sms_gateway_url)
                .context("notify.sms_gateway_url must be a URL when notify.sms = \"http\"")?;
        }
        anyhow::ensure!(
            self.notify.batch > 0 && self.notify.max_attempts > 0,
            "notify.batch and notify.max_attempts must be positive"
        );
        Ok(())
    }

    /// The public base URL, without a trailing slash, given the bound address.
    pub fn public_url(&self, bound: SocketAddr) -> String {
        if self.application.public_url.is_empty() {
            format!("http://{bound}")
        } else {
            self.application.public_url.trim_end_matches('/').to_owned()
        }
    }

    /// The provider to log in with: the configured one, else the built-in TestID.
    pub fn oidc_issuer(&self, public_url: &str) -> anyhow::Result<String> {
        if !self.oidc.issuer_url.is_empty() {
            return Ok(self.oidc.issuer_url.clone());
        }
        anyhow::ensure!(
            self.testid.enabled,
            "oidc.issuer_url is empty and the built-in TestID provider is disabled"
        );
        Ok(format!("{public_url}/testid"))
    }

    pub fn address(&self) -> String {
        format!("{}:{}", self.application.host, self.application.port)
    }

    pub fn synthetic_ids(&self) -> SyntheticIds {
        if self.application.allow_synthetic_ids {
            SyntheticIds::Accepted
        } else {
            SyntheticIds::Refused
        }
    }

    pub fn database_options(&self) -> crate::sql::DatabaseOptions {
        crate::sql::DatabaseOptions {
            url: self.database.url.clone(),
            max_connections: self.database.max_connections,
            acquire_timeout: Duration::from_secs(self.database.acquire_timeout_seconds),
        }
    }

    /// The address Leptos writes into its pages; only informative for us.
    pub fn site_addr(&self) -> SocketAddr {
        self.address()
            .parse()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], self.application.port)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_defaults_load_and_pass_their_own_checks() {
        let settings = Settings::load(None).unwrap();
        assert_eq!(settings.environment, Environment::Local);
        assert_eq!(settings.synthetic_ids(), SyntheticIds::Accepted);
    }

    #[test]
    fn debug_output_redacts_secrets() {
        let settings = Settings::load(None).unwrap();
        let printed = format!("{settings:?}");
        assert!(
            !printed.contains("local-development-client-secret"),
            "{printed}"
        );
        assert!(
            !printed.contains("data/postkasse.db"),
            "database URLs may hold passwords"
        );
    }

    #[test]
    fn production_refuses_development_conveniences() {
        let mut settings = Settings::load(None).unwrap();
        settings.environment = Environment::Production;
        let error = settings.check().unwrap_err().to_string();
        assert!(error.contains("allow_synthetic_ids"), "{error}");
        settings.application.allow_synthetic_ids = false;
        let error = settings.check().unwrap_err().to_string();
        assert!(error.contains("testid.enabled"), "{error}");
        settings.testid.enabled = false;
        let error = settings.check().unwrap_err().to_string();
        assert!(error.contains("oidc.issuer_url"), "{error}");
        settings.oidc.issuer_url = "https://idporten.no".into();
        settings.check().unwrap();
    }
}
