//! Wiring: from [`Settings`] to a bound, running server.
//!
//! [`Application::build`] opens storage, binds the address (port 0 picks a free
//! one, as the tests do) and reports the port; [`Application::run_until_stopped`]
//! serves until the shutdown future resolves, finishing requests in flight.

use crate::{
    activity,
    agency::{
        self,
        maskinporten::Maskinporten,
        network_tokens::{NetworkTokens, RemoteIssuer, TokenSource},
        token_verifier::{IssuerKeys, JwksCache, TokenVerifier},
    },
    auth::{
        self,
        oidc::{RelyingParty, RelyingPartySettings},
        Auth, SessionPolicy,
    },
    blobs::{self, BlobStore, ObjectStoreBlobs, TieredBlobs},
    broker::{
        self,
        outbox::{OutboxSettings, OutboxWorker},
        Broker,
    },
    clock::{Clock, SystemClock},
    fullmakt, health,
    http::{csrf, extract, language, security_headers},
    krr::{self, providers::OwnProvider, Register},
    limits,
    mailbox::{self, archive::TrashPurge, ArchiveLimits, MailboxService},
    moving::{self, worker::MoveWorker, LetterMoves},
    notify::{
        self,
        channels::{
            email::{SmtpOptions, SmtpSender},
            sink::SinkSender,
            sms::HttpSmsGateway,
            NoticeSender,
        },
        worker::{NotifyWorker, NotifyWorkerSettings, RateLimit, Route, Routes},
        NoticeRoute,
    },
    operator::{self, Console, Operators},
    print,
    replies::{self, ReplyService, UnansweredWorker},
    search::{self, Indexer, SearchService},
    settings::{BlobStoreKind, Settings},
    signing,
    sql::Database,
    testid::{self, RegisteredClient, TestIdProvider},
    timestamp::responder::TimestampResponder,
    trust::TrustAnchors,
};
use anyhow::Context;
use app::{
    api::{
        activity::ssr::SharedActivityLog, archive::ssr::SharedArchive,
        check::ssr::SharedPaperLetterCheck, contact::ssr::SharedContactRegister,
        fullmakt::ssr::SharedPowers, mailbox::ssr::SharedMailbox, moving::ssr::SharedLetterMoves,
        operator::ssr::SharedOperatorConsole, print_console::ssr::SharedPrintConsole,
        replies::ssr::SharedReplies, search::ssr::SharedSearch, signing::ssr::SharedSigning,
    },
    csp::FormTargets,
    shell, App,
};
use axum::{
    extract::{DefaultBodyLimit, FromRef},
    routing::{get, post},
    Router,
};
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, AxumRouteListing, LeptosRoutes};
use secrecy::SecretString;
use std::{future::Future, net::SocketAddr, sync::Arc};
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;

/// What every handler can reach. Cheap to clone: everything is behind `Arc`.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub settings: Arc<Settings>,
    /// The database, for the readiness check.
    pub database: Database,
    /// Registered agencies and the bearer tokens operators issued them.
    pub agencies: Arc<dyn agency::Store>,
    pub blobs: Arc<dyn BlobStore>,
    pub broker: Arc<Broker>,
    pub auth: Arc<Auth>,
    pub mailbox: Arc<MailboxService>,
    /// The citizen's search over the archive's full-text index.
    pub search: Arc<SearchService>,
    pub register: Arc<Register>,
    /// Moving citizens' letters to the providers they switched to.
    pub moves: Arc<LetterMoves>,
    pub clock: Arc<dyn Clock>,
    /// The token endpoint agencies exchange grants at, and the check of its tokens.
    pub maskinporten: Arc<Maskinporten>,
    /// `scheme://host[:port]` of the public URL, for same-origin checks.
    pub public_origin: String,
    /// Other origins pages' forms may lead to (the identity provider).
    pub form_targets: FormTargets,
    /// Operators' sign-in codes and sessions.
    pub operators: Arc<Operators>,
    /// What the operator pages show.
    pub console: Arc<Console>,
    /// The public check of paper letters' codes.
    pub paper_checks: SharedPaperLetterCheck,
    /// The print service in the operators' console, and its downloads.
    pub print_console: Arc<print::console::PrintConsoleService>,
    /// Citizens' answers to letters' reply forms.
    pub replies: Arc<ReplyService>,
    pub signing: Arc<signing::SigningService>,
    /// What the citizen's "Min aktivitet" lists.
    pub activity: Arc<activity::ActivityService>,
    /// Powers of attorney citizens give each other.
    pub fullmakt: Arc<fullmakt::FullmaktService>,
    /// Postkasse's own timestamp authority, when it is served.
    pub tsa: Option<Arc<TimestampResponder>>,
    /// Rate limits at the edge, shared by every node.
    pub limiter: Arc<limits::Limiter>,
}

/// The services Postkasse runs on, opened from settings.
pub struct Services {
    /// The database every domain's store is on.
    pub database: Database,
    pub blobs: Arc<dyn BlobStore>,
    pub clock: Arc<dyn Clock>,
    /// This Postkasse as a mailbox provider, registered in storage.
    pub own_provider: Arc<OwnProvider>,
}

/// The network's Maskinporten when it is another installation: its tokens
/// are checked by the keys it publishes.
fn network_issuer(settings: &Settings, clock: Arc<dyn Clock>) -> anyhow::Result<TokenVerifier> {
    let configured = &settings.maskinporten;
    let url = url::Url::parse(&configured.jwks_url)
        .context("maskinporten.jwks_url must be the issuer's JWKS URL")?;
    let cache = JwksCache::new(
        url,
        plain_http_client()?,
        std::time::Duration::from_secs(configured.jwks_cache_seconds),
    );
    Ok(TokenVerifier::new(
        configured.issuer.clone(),
        IssuerKeys::Published(Box::new(cache)),
        clock_skew(settings),
        clock,
    ))
}

fn clock_skew(settings: &Settings) -> chrono::Duration {
    chrono::Duration::seconds(settings.maskinporten.clock_skew_seconds as i64)
}

/// Retries, leases and timeouts of work that goes to other servers.
fn outbox_settings(settings: &Settings) -> OutboxSettings {
    let broker = &settings.broker;
    OutboxSettings {
        max_attempts: broker.max_attempts,
        retry_base: chrono::Duration::milliseconds(broker.retry_base_milliseconds as i64),
        retry_max: chrono::Duration::seconds(broker.retry_max_seconds as i64),
        lease: chrono::Duration::seconds(broker.lease_seconds as i64),
        poll: std::time::Duration::from_millis(broker.poll_milliseconds),
        request_timeout: std::time::Duration::from_secs(broker.request_timeout_seconds),
    }
}

/// An HTTP client that does not follow redirects: a server talking to
/// other servers goes exactly where it was configured to.
fn plain_http_client() -> anyhow::Result<reqwest::Client> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .context("cannot make an HTTP client")
}

impl Services {
    /// Opens the database (applying migrations) and the blob store, and
    /// registers this Postkasse as a mailbox provider.
    pub async fn open_from(settings: &Settings) -> anyhow::Result<Services> {
        let database = Database::connect(&settings.database_options()).await?;
        let provider_settings = settings.provider.clone();
        let org_nr = app::domain::OrgNr::parse(&provider_settings.org_nr)
            .map_err(|error| anyhow::anyhow!("provider.org_nr {error}"))?;
        // Making a key is CPU work: keep it off the runtime.
        let own_provider = tokio::task::spawn_blocking(move || {
            OwnProvider::load_or_create(
                org_nr,
                &provider_settings.name,
                &provider_settings.key_file,
                &provider_settings.certificate_file,
            )
        })
        .await??;
        krr::Store::upsert_mailbox_provider(&database, &own_provider.provider)
            .await
            .context("cannot register this Postkasse as a mailbox provider")?;
        let blobs = match settings.blobs.store {
            BlobStoreKind::Directory => ObjectStoreBlobs::local(&settings.blobs.directory)
                .with_context(|| {
                    format!(
                        "cannot open the blob store at {}",
                        settings.blobs.directory.display()
                    )
                })?,
            BlobStoreKind::S3 => ObjectStoreBlobs::s3(&settings.blobs.s3).with_context(|| {
                format!(
                    "cannot open the blob store in bucket {:?} at {:?}",
                    settings.blobs.s3.bucket, settings.blobs.s3.endpoint
                )
            })?,
        };
        let blobs = TieredBlobs::new(
            Arc::new(blobs),
            Arc::new(database.clone()) as Arc<dyn blobs::Store>,
            settings.blobs.inline_max_bytes,
        );
        Ok(Services {
            database,
            blobs: Arc::new(blobs),
            clock: Arc::new(SystemClock),
            own_provider: Arc::new(own_provider),
        })
    }

    /// This installation's Maskinporten-style token endpoint, whose tokens
    /// name `public_url` as their issuer; it accepts the network issuer's
    /// tokens too when `maskinporten.issuer` names another one.
    pub fn maskinporten(
        &self,
        settings: &Settings,
        public_url: &str,
    ) -> anyhow::Result<Arc<Maskinporten>> {
        let own = Maskinporten::new(
            agency::maskinporten::token_audience(public_url),
            chrono::Duration::seconds(settings.maskinporten.token_lifetime_seconds as i64),
            &self.own_provider.private_key,
            self.agency_store(),
            self.clock.clone(),
        )?;
        Ok(Arc::new(if settings.maskinporten.issuer.is_empty() {
            own
        } else {
            own.with_network_issuer(Arc::new(network_issuer(settings, self.clock.clone())?))
        }))
    }

    /// What senders are checked against: the network's token issuer (by
    /// default `own`) and the trust anchors for enterprise certificates.
    pub fn sender_checks(
        &self,
        settings: &Settings,
        own: &Arc<Maskinporten>,
    ) -> anyhow::Result<broker::SenderChecks> {
        let tokens = match own.network_issuer() {
            Some(network) => network.clone(),
            None => Arc::new(TokenVerifier::new(
                own.audience().to_owned(),
                IssuerKeys::Own(own.clone()),
                clock_skew(settings),
                self.clock.clone(),
            )),
        };
        Ok(broker::SenderChecks {
            tokens,
            anchors: Arc::new(
                TrustAnchors::from_pem_files(&settings.trust.anchors)
                    .context("cannot read trust.anchors")?,
            ),
        })
    }

    /// Where this Postkasse gets its own tokens for talking to other
    /// providers: itself, unless the network's issuer is elsewhere.
    pub fn network_tokens(
        &self,
        settings: &Settings,
        own: &Arc<Maskinporten>,
    ) -> anyhow::Result<Arc<NetworkTokens>> {
        let configured = &settings.maskinporten;
        let source = if configured.issuer.is_empty() {
            TokenSource::Own(own.clone())
        } else if configured.token_url.is_empty() {
            TokenSource::Unconfigured
        } else {
            use rsa::pkcs8::EncodePrivateKey;
            let pem = self
                .own_provider
                .private_key
                .to_pkcs8_pem(rsa::pkcs8::LineEnding::LF)
                .context("cannot encode the provider key")?;
            TokenSource::Remote(Box::new(RemoteIssuer {
                token_url: url::Url::parse(&configured.token_url)
                    .context("maskinporten.token_url is not a URL")?,
                client_id: configured.client_id.clone(),
                audience: configured.issuer.clone(),
                private_key_pem: SecretString::from(pem.to_string()),
                http: plain_http_client()?,
            }))
        };
        Ok(Arc::new(NetworkTokens::new(
            source,
            self.own_provider.provider.org_nr.clone(),
            self.clock.clone(),
        )))
    }

    /// The broker for the command line, outside a running server: its token
    /// issuer is named by the configured public URL.
    pub fn command_line_broker(&self, settings: &Settings) -> anyhow::Result<Broker> {
        let own = self.maskinporten(settings, &settings.public_url(settings.site_addr()))?;
        self.broker(settings, self.sender_checks(settings, &own)?)
    }

    pub fn broker(
        &self,
        settings: &Settings,
        checks: broker::SenderChecks,
    ) -> anyhow::Result<Broker> {
        Broker::new(
            broker::BrokerStores {
                messages: self.broker_store(),
                print: self.print_store(),
                agencies: self.agency_store(),
                register: self.krr_store(),
            },
            self.blobs.clone(),
            self.clock.clone(),
            self.own_provider.clone(),
            checks,
            broker::BrokerSettings {
                synthetic_ids: settings.synthetic_ids(),
                package_limits: broker::package::PackageLimits {
                    max_total_bytes: settings.broker.max_package_bytes as u64,
                    ..Default::default()
                },
                max_group: settings.broker.max_commit_group,
                notice_window: settings.notify.window()?,
                preflight: print::preflight::PreflightRules {
                    max_pages: settings.print.max_pages,
                },
            },
        )
    }

    /// The print chain, printing `public_url`'s check page on every letter.
    pub fn print_chain(
        &self,
        settings: &Settings,
        public_url: &str,
    ) -> anyhow::Result<Arc<print::worker::PrintChain>> {
        let print = &settings.print;
        Ok(Arc::new(print::worker::PrintChain {
            store: self.print_store(),
            blobs: self.blobs.clone(),
            clock: self.clock.clone(),
            house: Arc::new(print::transport::DropDirectory::new(&print.drop_directory)),
            receipts: Arc::new(self.receipt_issuer()),
            settings: print::worker::PrintSettings {
                cut_offs: print::schedule::CutOffs::parse(&print.cut_offs)?,
                c5_max_sheets: print.c5_max_sheets,
                check_url: format!("{public_url}/kontroll"),
                letters_per_round: print.letters_per_round.max(1),
                preflight: print::preflight::PreflightRules {
                    max_pages: print.max_pages,
                },
                parallel: std::thread::available_parallelism().map_or(2, usize::from),
                retry_base: chrono::Duration::milliseconds(print.retry_base_milliseconds as i64),
                retry_max: chrono::Duration::seconds(print.retry_max_seconds as i64),
                poll: std::time::Duration::from_millis(print.poll_milliseconds),
            },
        }))
    }

    /// The outbox workers the settings ask for, woken by the broker.
    fn outbox_workers(
        &self,
        settings: &Settings,
        broker: &Broker,
        tokens: Arc<NetworkTokens>,
    ) -> Vec<OutboxWorker> {
        let outbox_settings = outbox_settings(settings);
        let http = plain_http_client().unwrap_or_default();
        (0..settings.broker.outbox_workers)
            .map(|_| OutboxWorker {
                store: self.broker_store(),
                agencies: self.agency_store(),
                register: self.krr_store(),
                blobs: self.blobs.clone(),
                clock: self.clock.clone(),
                own: self.own_provider.clone(),
                http: http.clone(),
                tokens: tokens.clone(),
                settings: outbox_settings.clone(),
                wake: broker.outbox_work(),
            })
            .collect()
    }

    /// The service behind the settings page's "move my letters", and the
    /// worker that moves them (one: a citizen's letters go one at a time).
    fn letter_moves(
        &self,
        settings: &Settings,
        tokens: Arc<NetworkTokens>,
    ) -> (Arc<LetterMoves>, MoveWorker) {
        let wake = Arc::new(tokio::sync::Notify::new());
        let store: Arc<dyn moving::Store> = Arc::new(self.database.clone());
        let moves = LetterMoves::new(
            store.clone(),
            self.krr_store(),
            self.clock.clone(),
            wake.clone(),
        );
        let worker = MoveWorker {
            store,
            register: self.krr_store(),
            blobs: self.blobs.clone(),
            clock: self.clock.clone(),
            own: self.own_provider.clone(),
            tokens,
            http: plain_http_client().unwrap_or_default(),
            settings: outbox_settings(settings),
            wake,
        };
        (Arc::new(moves), worker)
    }

    /// Where each channel's notices go, as the settings say, with its rate limit.
    pub fn notify_routes(&self, settings: &Settings) -> anyhow::Result<Routes> {
        let notify = &settings.notify;
        let timeout = std::time::Duration::from_secs(notify.request_timeout_seconds);
        let sink = || -> Arc<dyn NoticeSender> {
            Arc::new(SinkSender {
                notices: self.notify_store(),
                clock: self.clock.clone(),
            })
        };
        let email: Arc<dyn NoticeSender> = match notify.email {
            NoticeRoute::Smtp => Arc::new(SmtpSender::new(&SmtpOptions {
                host: notify.smtp_host.clone(),
                port: notify.smtp_port,
                starttls: notify.smtp_starttls,
                credentials: (!notify.smtp_user.is_empty())
                    .then(|| (notify.smtp_user.clone(), notify.smtp_password.clone())),
                from: notify.smtp_from.clone(),
                timeout,
            })?),
            _ => sink(),
        };
        let sms: Arc<dyn NoticeSender> = match notify.sms {
            NoticeRoute::Http => Arc::new(HttpSmsGateway {
                url: url::Url::parse(&notify.sms_gateway_url)
                    .context("notify.sms_gateway_url is not a URL")?,
                http: reqwest::Client::builder()
                    .redirect(reqwest::redirect::Policy::none())
                    .build()?,
                timeout,
            }),
            _ => sink(),
        };
        Ok(Routes {
            email: Route {
                sender: email,
                limit: RateLimit::per_second(notify.email_per_second),
            },
            sms: Route {
                sender: sms,
                limit: RateLimit::per_second(notify.sms_per_second),
            },
        })
    }

    /// The notice workers the settings ask for, sharing one set of routes.
    pub fn notify_workers(&self, settings: &Settings, routes: Arc<Routes>) -> Vec<NotifyWorker> {
        (0..settings.notify.workers)
            .map(|_| self.notify_worker(settings, routes.clone()))
            .collect()
    }

    /// One notice worker on the given routes.
    pub fn notify_worker(&self, settings: &Settings, routes: Arc<Routes>) -> NotifyWorker {
        let notify = &settings.notify;
        NotifyWorker {
            notices: self.notify_store(),
            receipts: Arc::new(self.receipt_issuer()),
            register: self.krr_store(),
            clock: self.clock.clone(),
            routes,
            settings: NotifyWorkerSettings {
                batch: notify.batch,
                max_attempts: notify.max_attempts,
                retry_base: chrono::Duration::milliseconds(notify.retry_base_milliseconds as i64),
                retry_max: chrono::Duration::seconds(notify.retry_max_seconds as i64),
                lease: chrono::Duration::seconds(notify.lease_seconds as i64),
                poll: std::time::Duration::from_millis(notify.poll_milliseconds),
            },
        }
    }

    /// This Postkasse's receipts about stored messages (the notice workers'
    /// failure receipts among them).
    pub fn receipt_issuer(&self) -> broker::ReceiptIssuer {
        broker::ReceiptIssuer::new(
            self.broker_store(),
            self.agency_store(),
            self.krr_store(),
            self.own_provider.provider.org_nr.clone(),
            self.clock.clone(),
        )
    }

    /// The register; the codes that prove new addresses go out on `routes`,
    /// the notices' own.
    pub fn register(
        &self,
        synthetic_ids: app::domain::SyntheticIds,
        routes: Arc<Routes>,
    ) -> Register {
        Register::new(
            self.krr_store(),
            Arc::new(notify::Preferences {
                store: self.notify_store(),
            }),
            routes,
            self.activity_store(),
            self.clock.clone(),
            synthetic_ids,
        )
    }

    /// The register's store: persons, their trail, mailbox providers.
    pub fn krr_store(&self) -> Arc<dyn krr::Store> {
        Arc::new(self.database.clone())
    }

    /// Registered agencies, their grants and issued tokens.
    pub fn agency_store(&self) -> Arc<dyn agency::Store> {
        Arc::new(self.database.clone())
    }

    /// Login attempts and citizens' sessions.
    pub fn auth_store(&self) -> Arc<dyn auth::Store> {
        Arc::new(self.database.clone())
    }

    /// The log behind each citizen's "Min aktivitet".
    pub fn activity_store(&self) -> Arc<dyn activity::Store> {
        Arc::new(self.database.clone())
    }

    /// Operators' sign-in codes and sessions.
    pub fn operator_store(&self) -> Arc<dyn operator::Store> {
        Arc::new(self.database.clone())
    }

    /// Notice jobs, the citizens' notice preferences and the sink.
    pub fn notify_store(&self) -> Arc<dyn notify::Store> {
        Arc::new(self.database.clone())
    }

    /// Documents' and uploads' extracted texts, and what the search index is fed from.
    pub fn search_store(&self) -> Arc<dyn search::Store> {
        Arc::new(self.database.clone())
    }

    /// Citizens' mailboxes: letters, access logs, folders, uploads, the trash.
    pub fn mailbox_store(&self) -> Arc<dyn mailbox::Store> {
        Arc::new(self.database.clone())
    }

    /// Agencies' messages, their statuses and receipts, and the outbox.
    pub fn broker_store(&self) -> Arc<dyn broker::Store> {
        Arc::new(self.database.clone())
    }

    /// Postal addresses and the print queue.
    pub fn print_store(&self) -> Arc<dyn print::Store> {
        Arc::new(self.database.clone())
    }

    /// The print queue and postal addresses, for operators.
    pub fn print(&self) -> print::PrintService {
        print::PrintService::new(self.print_store(), self.clock.clone())
    }
}

pub struct Application {
    listener: TcpListener,
    router: Router,
    address: SocketAddr,
    outbox_workers: Vec<OutboxWorker>,
    move_worker: MoveWorker,
    print_worker: print::worker::PrintWorker,
    trash_purge: TrashPurge,
    notify_workers: Vec<NotifyWorker>,
    indexer: Indexer,
    unanswered_worker: UnansweredWorker,
    expiry_worker: signing::ExpiryWorker,
    limit_sweeper: limits::Sweeper,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        let services = Services::open_from(&settings).await?;
        Self::build_with(settings, services).await
    }

    pub async fn build_with(settings: Settings, services: Services) -> anyhow::Result<Application> {
        let listener = TcpListener::bind(settings.address())
            .await
            .with_context(|| format!("cannot listen on {}", settings.address()))?;
        let address = listener.local_addr()?;
        let public_url = settings.public_url(address);
        let clock = services.clock.clone();
        let testid = if settings.testid.enabled {
            let client = RegisteredClient {
                client_id: settings.oidc.client_id.clone(),
                client_secret: settings.oidc.client_secret.clone(),
                redirect_uris: vec![format!("{public_url}/auth/callback")],
                post_logout_redirect_uris: vec![format!("{public_url}/")],
                frontchannel_logout_uri: Some(format!("{public_url}/auth/frontchannel-logout")),
            };
            let key_file = settings.testid.key_file.clone();
            let issuer = format!("{public_url}/testid");
            let provider_clock = clock.clone();
            // Generating the key on first start is CPU work: keep it off the runtime.
            let provider = tokio::task::spawn_blocking(move || {
                TestIdProvider::new(issuer, &key_file, vec![client], provider_clock)
            })
            .await??;
            Some(Arc::new(provider))
        } else {
            None
        };
        let leptos_options = LeptosOptions::builder()
            .output_name("postkasse")
            .site_root(settings.web.site_root.to_string_lossy().as_ref())
            .site_pkg_dir("pkg")
            .site_addr(address)
            .build();
        let issuer = settings.oidc_issuer(&public_url)?;
        let provider_origin = url::Url::parse(&issuer)
            .context("oidc.issuer_url is not a URL")?
            .origin()
            .ascii_serialization();
        let relying_party = RelyingParty::new(
            RelyingPartySettings {
                issuer,
                client_id: settings.oidc.client_id.clone(),
                client_secret: settings.oidc.client_secret.clone(),
                redirect_url: format!("{public_url}/auth/callback"),
                synthetic_ids: settings.synthetic_ids(),
            },
            clock.clone(),
        )?;
        let notice_routes = Arc::new(services.notify_routes(&settings)?);
        let fullmakt = Arc::new(fullmakt::FullmaktService::new(
            Arc::new(services.database.clone()),
            services.krr_store(),
            notice_routes.clone(),
            services.activity_store(),
            clock.clone(),
            settings.synthetic_ids(),
        ));
        let auth = Auth::new(
            relying_party,
            services.auth_store(),
            services.activity_store(),
            clock.clone(),
            SessionPolicy {
                idle_timeout: chrono::Duration::minutes(settings.session.idle_timeout_minutes),
                absolute_timeout: chrono::Duration::minutes(
                    settings.session.absolute_timeout_minutes,
                ),
            },
            public_url.clone(),
        )
        .with_powers(fullmakt.clone());
        let public_origin = url::Url::parse(&public_url)
            .context("application.public_url is not a URL")?
            .origin()
            .ascii_serialization();
        // Logging out continues at the provider; a same-origin provider needs no entry.
        let form_targets = FormTargets(
            Some(provider_origin)
                .filter(|origin| *origin != public_origin)
                .into_iter()
                .collect(),
        );
        let maskinporten = services.maskinporten(&settings, &public_url)?;
        let checks = services.sender_checks(&settings, &maskinporten)?;
        let broker = Arc::new(services.broker(&settings, checks)?);
        let network_tokens = services.network_tokens(&settings, &maskinporten)?;
        let outbox_workers = services.outbox_workers(&settings, &broker, network_tokens.clone());
        let (moves, move_worker) = services.letter_moves(&settings, network_tokens);
        let print_chain = services.print_chain(&settings, &public_url)?;
        let search_index = settings.search.open_index().await?;
        let (indexer, index_feed) = Indexer::new(
            services.search_store(),
            services.blobs.clone(),
            clock.clone(),
            search_index.clone(),
            settings.search.indexer(),
        );
        let search = Arc::new(SearchService::new(
            services.search_store(),
            search_index,
            clock.clone(),
        ));
        let trash_purge = TrashPurge {
            store: services.mailbox_store(),
            clock: clock.clone(),
            trash_days: settings.mailbox.trash_days,
            interval: std::time::Duration::from_secs(settings.mailbox.purge_interval_seconds),
        };
        let notify_workers = services.notify_workers(&settings, notice_routes.clone());
        let limiter = Arc::new(limits::Limiter::new(
            Arc::new(services.database.clone()),
            clock.clone(),
            settings.limits.clone(),
        ));
        let paper_checks: SharedPaperLetterCheck = Arc::new(print::check::PaperLetterChecks::new(
            services.print(),
            limiter.clone(),
        ));
        let print_console = Arc::new(print::console::PrintConsoleService::new(
            services.print_store(),
            services.blobs.clone(),
            clock.clone(),
            services.activity_store(),
        ));
        let replies = Arc::new(ReplyService::new(
            Arc::new(services.database.clone()),
            services.blobs.clone(),
            Arc::new(services.receipt_issuer()),
            clock.clone(),
            broker.outbox_work(),
            settings.mailbox.max_upload_bytes,
            Arc::new(crate::seal::Sealer::from_key(
                services.own_provider.private_key.clone(),
                &services.own_provider.provider.certificate_der,
            )?),
        ));
        let (signing, tsa) = signing_parts(&settings, &services, broker.outbox_work()).await?;
        let expiry_worker = signing::ExpiryWorker::new(
            signing.clone(),
            std::time::Duration::from_secs(settings.signing.expiry_interval_seconds),
        );
        let unanswered_worker = UnansweredWorker::new(
            replies.clone(),
            std::time::Duration::from_secs(settings.mailbox.unanswered_interval_seconds),
        );
        let limit_sweeper = limits::Sweeper {
            limiter: limiter.clone(),
        };
        let state = AppState {
            limiter,
            replies,
            signing,
            activity: Arc::new(activity::ActivityService::new(services.activity_store())),
            fullmakt,
            tsa,
            paper_checks,
            print_console,
            operators: Arc::new(Operators::new(services.operator_store(), clock.clone())),
            console: Arc::new(Console::new(
                services.notify_store(),
                settings.notify.email,
                settings.notify.sms,
            )),
            maskinporten,
            form_targets,
            public_origin,
            mailbox: Arc::new(
                MailboxService::new(
                    services.mailbox_store(),
                    services.agency_store(),
                    services.blobs.clone(),
                    services.clock.clone(),
                    broker.clone(),
                    ArchiveLimits {
                        max_upload_bytes: settings.mailbox.max_upload_bytes,
                        trash_days: settings.mailbox.trash_days,
                    },
                    services.activity_store(),
                )
                .with_index_feed(index_feed)
                .with_replies(Arc::new(services.database.clone())),
            ),
            search,
            auth: Arc::new(auth),
            register: Arc::new(services.register(settings.synthetic_ids(), notice_routes)),
            moves,
            clock: services.clock.clone(),
            leptos_options,
            broker,
            settings: Arc::new(settings),
            agencies: services.agency_store(),
            database: services.database,
            blobs: services.blobs,
        };
        Ok(Application {
            listener,
            router: router(state, testid),
            address,
            outbox_workers,
            move_worker,
            print_worker: print::worker::PrintWorker { chain: print_chain },
            trash_purge,
            notify_workers,
            indexer,
            unanswered_worker,
            expiry_worker,
            limit_sweeper,
        })
    }

    pub fn port(&self) -> u16 {
        self.address.port()
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        tracing::info!(address = %self.address, "serving");
        // The workers serve as long as the server does; whatever they were
        // doing when it stops is leased, and taken up again after a restart.
        let mut workers: Vec<_> = self
            .outbox_workers
            .into_iter()
            .map(|worker| tokio::spawn(worker.run()))
            .chain(
                self.notify_workers
                    .into_iter()
                    .map(|worker| tokio::spawn(worker.run())),
            )
            .collect();
        workers.push(tokio::spawn(self.move_worker.run()));
        workers.push(tokio::spawn(self.print_worker.run()));
        workers.push(tokio::spawn(self.trash_purge.run()));
        workers.push(tokio::spawn(self.indexer.run()));
        workers.push(tokio::spawn(self.unanswered_worker.run()));
        workers.push(tokio::spawn(self.expiry_worker.run()));
        workers.push(tokio::spawn(self.limit_sweeper.run()));
        let served = axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await;
        for worker in workers {
            worker.abort();
        }
        served
    }
}

/// The app's routes, worked out once per process. Generating them sets a
/// process-wide flag that suppresses resource loading, and a page whose
/// resource first polls meanwhile never finishes (leptos#4773); one
/// generation, before anything is served, rules that out even when a process
/// builds many servers, as the tests do.
fn route_list() -> Vec<AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<AxumRouteListing>> = std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

pub fn router(state: AppState, testid: Option<Arc<TestIdProvider>>) -> Router {
    let routes = route_list();
    // Each domain brings its routes; they are merged here, and only here.
    let mut router = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .merge(broker::http::routes(&state.broker))
        .merge(agency::http::routes())
        .merge(krr::http::routes())
        .merge(auth::routes::router())
        .merge(operator::routes::router())
        .merge(print::routes::router())
        .merge(mailbox::routes::routes(&state.mailbox))
        .merge(replies::routes::routes(&state.replies))
        .merge(signing::routes::routes())
        .merge(fullmakt::routes::routes())
        .route(
            app::locale::SWITCH_PATH,
            post(language::switch_language).layer(DefaultBodyLimit::max(language::MAX_FORM_BYTES)),
        );
    if let Some(tsa) = &state.tsa {
        router = router.merge(crate::timestamp::responder::routes().with_state(tsa.clone()));
    }
    if let Some(provider) = testid {
        router = router.nest("/testid", testid::routes::router(provider));
    }
    // Server functions and pages reach the services through context; each
    // page response gets its content security policy here too, the 404 page
    // included.
    let page_context = {
        let mailbox: SharedMailbox = state.mailbox.clone();
        let archive: SharedArchive = state.mailbox.clone();
        let search: SharedSearch = state.search.clone();
        let register: SharedContactRegister = state.register.clone();
        let moves: SharedLetterMoves = state.moves.clone();
        let form_targets = state.form_targets.clone();
        let console: SharedOperatorConsole = state.console.clone();
        let paper_checks = state.paper_checks.clone();
        let print_console: SharedPrintConsole = state.print_console.clone();
        let replies: SharedReplies = state.replies.clone();
        let signing: SharedSigning = state.signing.clone();
        let activity: SharedActivityLog = state.activity.clone();
        let powers: SharedPowers = state.fullmakt.clone();
        move || {
            provide_context(activity.clone());
            provide_context(powers.clone());
            provide_context(signing.clone());
            provide_context(replies.clone());
            provide_context(console.clone());
            provide_context(paper_checks.clone());
            provide_context(print_console.clone());
            provide_context(mailbox.clone());
            provide_context(archive.clone());
            provide_context(search.clone());
            provide_context(register.clone());
            provide_context(moves.clone());
            provide_context(form_targets.clone());
            app::set_page_security_policy();
        }
    };
    let mut router = router
        .leptos_routes_with_context(&state, routes, page_context.clone(), {
            let leptos_options = state.leptos_options.clone();
            move || shell(leptos_options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(page_context, shell))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            limits::edge::guard::<AppState>,
        ))
        .layer(axum::middleware::from_fn(
            extract::limit_server_function_bodies,
        ))
        .layer(axum::middleware::from_fn_with_state(
            crate::http::client_address::TrustedProxies(Arc::new(
                state.settings.application.trusted_proxies.clone(),
            )),
            crate::http::client_address::note_client_address,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.operators.clone(),
            operator::session_layer::resolve_operator,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.auth.clone(),
            auth::session_layer::resolve_session,
        ))
        .layer(axum::middleware::from_fn_with_state(
            csrf::OwnOrigin(state.public_origin.clone()),
            csrf::refuse_cross_site,
        ))
        .layer(axum::middleware::from_fn(security_headers::page_policy))
        .with_state(state);
    for layer in security_headers::layers() {
        router = router.layer(layer);
    }
    let router = router.layer(axum::middleware::from_fn(security_headers::no_store));
    // Only method and path: query strings carry authorization codes and states.
    router.layer(TraceLayer::new_for_http().make_span_with(|request: &axum::http::Request<_>| {
        tracing::info_span!("request", method = %request.method(), path = request.uri().path())
    }))
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}

/// The signing service with its key and timestamp authority, and
/// Postkasse's own TSA when it is served. Keys and certificates missing
/// from their files are made by the local CA (CPU work: off the runtime).
async fn signing_parts(
    settings: &Settings,
    services: &Services,
    outbox_work: Arc<tokio::sync::Notify>,
) -> anyhow::Result<(
    Arc<signing::SigningService>,
    Option<Arc<TimestampResponder>>,
)> {
    use crate::keys::{CertificatePurpose, LocalCa};
    let config = settings.signing.clone();
    let own = services.own_provider.provider.org_nr.clone();
    let clock = services.clock.clone();
    let (sealer, responder, ca_pem) = tokio::task::spawn_blocking(move || {
        let ca = LocalCa::load_or_generate(&config.ca_directory, "Postkasse lokal CA")?;
        let key = if config.key_file.as_os_str().is_empty() {
            let (key, certificate) = ca.load_or_issue(
                "signing",
                "Postkasse signeringstjeneste",
                Some(&own),
                CertificatePurpose::DocumentSigning,
            )?;
            crate::seal::KeyFile::new(key, &[&der::Encode::to_der(&certificate)?])?
        } else {
            crate::seal::KeyFile::load(&config.key_file, &config.certificate_file)?
        };
        let sealer = crate::seal::Sealer::new(Arc::new(key));
        let responder = if config.serve_tsa {
            let (key, certificate) = ca.load_or_issue(
                "tsa",
                "Postkasse tidsstempeltjeneste",
                Some(&own),
                CertificatePurpose::Timestamping,
            )?;
            Some(Arc::new(TimestampResponder::new(
                key,
                certificate,
                Vec::new(),
                clock,
            )?))
        } else {
            None
        };
        anyhow::Ok((sealer, responder, ca.pem()))
    })
    .await??;
    let timestamps: Arc<dyn crate::timestamp::TimestampAuthority> =
        match (settings.signing.tsa_url.trim(), &responder) {
            ("", Some(responder)) => Arc::new(crate::timestamp::LocalTimestampAuthority::new(
                responder.clone(),
            )),
            ("", None) => anyhow::bail!(
                "signing.tsa_url is empty and signing.serve_tsa is false: signatures need a timestamp authority"
            ),
            (url, _) => Arc::new(crate::timestamp::HttpTimestampAuthority::new(
                url.parse().context("signing.tsa_url is not a URL")?,
                reqwest::Client::new(),
            )),
        };
    let mut anchors_pem = ca_pem.into_bytes();
    for path in settings
        .signing
        .trust_anchors
        .iter()
        .chain(&settings.trust.anchors)
    {
        anchors_pem.extend(
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?,
        );
    }
    let anchors = crate::trust::TrustAnchors::from_pem(&anchors_pem)?;
    let service = signing::SigningService::new(
        Arc::new(services.database.clone()),
        services.blobs.clone(),
        Arc::new(services.receipt_issuer()),
        services.clock.clone(),
        outbox_work,
        Arc::new(sealer),
        timestamps,
        Arc::new(anchors),
        settings.notify.window()?,
    );
    Ok((Arc::new(service), responder))
}
