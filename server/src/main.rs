//! `postkasse`: the server and the operator's command line.

use anyhow::Context;
use app::domain::OrgNr;
use clap::{Parser, Subcommand};
use postkasse::{
    agency::{self, maskinporten, registry},
    demo,
    krr::{import, person::MailboxProvider, providers},
    settings::Settings,
    startup::{shutdown_signal, Application, Services},
    telemetry,
};
use secrecy::ExposeSecret;
use std::{
    path::{Path, PathBuf},
    process::ExitCode,
};

#[derive(Parser)]
#[command(
    name = "postkasse",
    version,
    about = "Postkasse: a digital mailbox for citizens"
)]
struct Cli {
    /// Settings file layered over the built-in defaults.
    #[arg(long, global = true, env = "POSTKASSE_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web app and the APIs.
    Serve,
    /// Create or upgrade the database schema, then exit.
    Migrate,
    /// Seed synthetic citizens and letters, then serve (unless --seed-only).
    Demo {
        #[arg(long)]
        seed_only: bool,
    },
    /// The contact and reservation register.
    #[command(subcommand)]
    Krr(KrrCommand),
    /// Access tokens for agencies.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Digital mailbox providers letters may be routed to.
    #[command(subcommand)]
    Provider(ProviderCommand),
    /// Agencies: the Maskinporten-style clients that send and look up.
    #[command(subcommand)]
    Agency(AgencyCommand),
    /// The print queue: letters that go on paper.
    #[command(subcommand)]
    Print(PrintCommand),
    /// Postal addresses for letters that go on paper (a stand-in for the
    /// population register).
    #[command(subcommand)]
    Address(AddressCommand),
    /// What the development sink channel would have sent (notify.email or
    /// notify.sms = "sink"), newest first.
    Notices {
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Rebuild the search index from the database (stop the server first:
    /// only one process may write the index).
    Reindex,
    /// The operators' web console (the development sink's page).
    #[command(subcommand)]
    Operator(OperatorCommand),
}

#[derive(Subcommand)]
enum OperatorCommand {
    /// Print a single-use link that signs a browser in as an operator (valid
    /// for ten minutes). It opens the page of notices the sink stored.
    LoginLink,
}

#[derive(Subcommand)]
enum PrintCommand {
    /// List letters waiting to be printed (with --all, printed ones too).
    List {
        #[arg(long)]
        all: bool,
    },
    /// Mark a letter posted; the sender gets its leveringskvittering.
    Done { id: uuid::Uuid },
}

#[derive(Subcommand)]
enum AddressCommand {
    /// Set a person's Norwegian postal address.
    Set {
        #[arg(long)]
        fnr: String,
        #[arg(long)]
        navn: String,
        #[arg(long)]
        adresselinje1: String,
        #[arg(long)]
        postnummer: String,
        #[arg(long)]
        poststed: String,
    },
}

#[derive(Subcommand)]
enum KrrCommand {
    /// Insert or update register entries from a CSV file with KRR's field
    /// names as its header. Good rows are applied; bad rows are listed by line
    /// and make the command exit non-zero.
    Import { file: PathBuf },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Issue a bearer token to an agency and print it (it is shown only once).
    Issue {
        /// Who the token is for, as the logs will name it.
        #[arg(long)]
        client: String,
        /// The agency's organisation number.
        #[arg(long, value_parser = org_nr_argument)]
        org_nr: OrgNr,
        /// A scope to grant; repeat for several.
        #[arg(long = "scope", required = true)]
        scopes: Vec<String>,
        /// How many days the token is valid.
        #[arg(long, default_value_t = 90)]
        days: i64,
    },
}

#[derive(Subcommand)]
enum ProviderCommand {
    /// Register another mailbox provider, or update one.
    Add {
        #[arg(long, value_parser = org_nr_argument)]
        org_nr: OrgNr,
        #[arg(long)]
        name: String,
        /// Where letters for its citizens are delivered.
        #[arg(long)]
        endpoint: String,
        /// Its X.509 certificate, PEM or DER.
        #[arg(long)]
        certificate: PathBuf,
    },
    /// List the registered providers.
    List,
}

#[derive(Subcommand)]
enum AgencyCommand {
    /// Register an agency, or replace its registration. With a callback URL,
    /// prints the callback's HMAC secret (shown only once).
    Add {
        #[arg(long, value_parser = org_nr_argument)]
        org_nr: OrgNr,
        #[arg(long)]
        name: String,
        /// The client id its grants name as iss and kid.
        #[arg(long)]
        client_id: String,
        /// Its RSA public key (or certificate), PEM, at least 2048 bits.
        #[arg(long, value_name = "FILE.pem")]
        public_key: PathBuf,
        /// A sender id it may send under; repeat for several.
        #[arg(long = "avsenderidentifikator", value_name = "ID")]
        avsenderidentifikatorer: Vec<String>,
        /// Where Postkasse posts receipts to it.
        #[arg(long, value_name = "URL")]
        callback_url: Option<String>,
    },
    /// List the registered agencies.
    List,
    /// Print a signed grant, as an agency's own client makes one, to
    /// exchange at POST /token (for trying the API out).
    Grant {
        #[arg(long)]
        client_id: String,
        /// The agency's RSA private key, PEM (PKCS#8 or PKCS#1).
        #[arg(long, value_name = "PRIVATE.pem")]
        key: PathBuf,
        /// A scope to ask for; repeat for several.
        #[arg(long = "scope", required = true)]
        scopes: Vec<String>,
        /// The token endpoint's audience; defaults to this installation's
        /// public URL with a trailing slash.
        #[arg(long, value_name = "URL")]
        audience: Option<String>,
    },
    /// Write a one-page letter as an agency's system sends it, for
    /// `POST /messages/out`: `forretningsmelding.json` (the business message)
    /// and `dokumentpakke.asice` (the package) in the --out directory.
    Letter {
        /// The sending agency.
        #[arg(long, value_parser = org_nr_argument)]
        from: OrgNr,
        /// The recipient's national id.
        #[arg(long)]
        to: String,
        /// The letter's title (shown once the citizen is logged in).
        #[arg(long)]
        title: String,
        /// The title shown before login and in notices.
        #[arg(long, default_value = "Du har fått et brev")]
        nonsensitive_title: String,
        /// 3 (substantial) or 4 (high).
        #[arg(long, default_value_t = 3)]
        level: i64,
        /// Ask for an opening receipt (aapningskvittering).
        #[arg(long)]
        opening_receipt: bool,
        /// Order an e-mail notice (epostvarsel) to this address; Postkasse
        /// sends it to the address in the register.
        #[arg(long, value_name = "ADDRESS")]
        email_notice: Option<String>,
        /// The notice's varslingstekst: no links, nothing sensitive.
        #[arg(
            long,
            default_value = "Du har fått et brev i den digitale postkassen din."
        )]
        notice_text: String,
        /// The notice's repetisjoner: days after the effective time.
        #[arg(long, value_delimiter = ',', default_value = "0")]
        notice_days: Vec<u8>,
        #[arg(long, value_name = "DIRECTORY")]
        out: PathBuf,
    },
}

/// Empties the search index and fills it from the database, with a progress bar.
async fn reindex(settings: &Settings, services: &Services) -> anyhow::Result<()> {
    use postkasse::archive::{index::SearchIndex, rebuild};
    let directory = settings.search.index_directory.clone();
    let interval = settings.search.commit_interval();
    let index =
        tokio::task::spawn_blocking(move || SearchIndex::open(&directory, interval)).await??;
    let total = services.storage.index_entry_count().await?;
    let bar =
        indicatif::ProgressBar::new(total).with_style(indicatif::ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} letters and uploads {msg}",
        )?);
    let indexed = rebuild(services.storage.as_ref(), &index, |done| {
        bar.set_position(done)
    })
    .await?;
    bar.finish_and_clear();
    println!(
        "search index rebuilt in {}: {indexed} letters and uploads",
        settings.search.index_directory.display()
    );
    Ok(())
}

/// Parses an organisation number argument, so clap reports a bad one.
fn org_nr_argument(text: &str) -> Result<OrgNr, String> {
    OrgNr::parse(text).map_err(|error| error.to_string())
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    telemetry::init("info,sqlx=warn,tower_http=info");
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = Settings::load(cli.config.as_deref())?;
    tracing::info!(?settings, "settings loaded");
    match cli.command {
        Command::Serve => {
            let services = Services::open_from(&settings).await?;
            serve(settings, services).await
        }
        Command::Migrate => {
            Services::open_from(&settings).await?;
            println!("the database schema is up to date");
            Ok(())
        }
        Command::Demo { seed_only } => {
            let services = Services::open_from(&settings).await?;
            // The register first: the broker routes the demo letters by it.
            if let Some(register) = demo::seed_register(
                services.krr_store().as_ref(),
                &services.own_provider.provider.org_nr,
                settings.synthetic_ids(),
                services.clock.now(),
            )
            .await?
            {
                println!(
                    "demo register: {} persons imported (including the demo citizens)",
                    register.written
                );
            }
            let agency_key = demo::demo_agency_key_file(&settings);
            let report = demo::seed(
                services.storage.as_ref(),
                services.mailbox_store().as_ref(),
                services.agency_store().as_ref(),
                &services.broker(&settings)?,
                &agency_key,
            )
            .await?;
            println!(
                "demo data: {} letters added, {} already present",
                report.letters_added, report.letters_already_present
            );
            println!("synthetic citizens (log in as one of them):");
            for citizen in &demo::CITIZENS {
                println!("  {}  {}", demo::demo_fnr(citizen).as_str(), citizen.name);
            }
            if seed_only {
                return Ok(());
            }
            serve(settings, services).await
        }
        Command::Reindex => {
            let services = Services::open_from(&settings).await?;
            reindex(&settings, &services).await
        }
        Command::Krr(KrrCommand::Import { file }) => {
            let services = Services::open_from(&settings).await?;
            import_file(&settings, &services, &file).await
        }
        Command::Token(TokenCommand::Issue {
            client,
            org_nr,
            scopes,
            days,
        }) => {
            let services = Services::open_from(&settings).await?;
            let token = agency::issue_token(
                services.agency_store().as_ref(),
                services.clock.as_ref(),
                &client,
                org_nr,
                &scopes,
                chrono::Duration::days(days),
            )
            .await?;
            println!("{token}");
            Ok(())
        }
        Command::Provider(ProviderCommand::Add {
            org_nr,
            name,
            endpoint,
            certificate,
        }) => {
            let services = Services::open_from(&settings).await?;
            anyhow::ensure!(!name.trim().is_empty(), "--name must not be empty");
            let endpoint = url::Url::parse(&endpoint)
                .map_err(|error| anyhow::anyhow!("--endpoint is not a URL: {error}"))?;
            anyhow::ensure!(
                org_nr != services.own_provider.provider.org_nr,
                "{} is this Postkasse's own organisation number",
                org_nr.as_str()
            );
            let provider = MailboxProvider {
                org_nr,
                name: name.trim().to_owned(),
                endpoint: Some(endpoint.to_string()),
                certificate_der: providers::read_certificate(&certificate)?,
            };
            services
                .krr_store()
                .upsert_mailbox_provider(&provider)
                .await?;
            println!(
                "registered {} ({})",
                provider.name,
                provider.org_nr.as_str()
            );
            Ok(())
        }
        Command::Agency(command) => run_agency(&settings, command).await,
        Command::Print(PrintCommand::List { all }) => {
            let services = Services::open_from(&settings).await?;
            let jobs = services.storage.print_jobs(all).await?;
            if jobs.is_empty() {
                println!("no letters to print");
            }
            for job in jobs {
                let address = &job.order.address;
                println!(
                    "{}  {}  from {}  to {}, {} {} {}{}",
                    job.message_row,
                    job.created_at.format("%Y-%m-%d %H:%M"),
                    job.agency,
                    address.navn,
                    address.adresselinje1,
                    address.postnummer.as_deref().unwrap_or_default(),
                    address.poststed.as_deref().unwrap_or_default(),
                    if job.printed_at.is_some() {
                        "  (posted)"
                    } else {
                        ""
                    },
                );
            }
            Ok(())
        }
        Command::Operator(OperatorCommand::LoginLink) => {
            use postkasse::operator::{sign_in_link, Operators, CODE_LIFETIME};
            let services = Services::open_from(&settings).await?;
            let code = Operators::new(services.operator_store(), services.clock.clone())
                .issue_code()
                .await?;
            // Without application.public_url the server is where it listens.
            let public_url = settings.public_url(
                settings
                    .address()
                    .parse()
                    .context("application.host and port do not make an address")?,
            );
            println!("{}", sign_in_link(&public_url, &code));
            eprintln!(
                "Open the link in a browser; it works once, within {} minutes.",
                CODE_LIFETIME.num_minutes()
            );
            Ok(())
        }
        Command::Notices { limit } => {
            let services = Services::open_from(&settings).await?;
            let notices = services.storage.sink_notices(limit).await?;
            if notices.is_empty() {
                println!("no notices in the sink");
            }
            for notice in notices {
                println!(
                    "{}  {}  {}  {}: {}",
                    notice.sent_at.format("%Y-%m-%d %H:%M:%S"),
                    postkasse::notify::channel_code(notice.channel),
                    notice.key,
                    notice.address,
                    notice.text,
                );
            }
            Ok(())
        }
        Command::Print(PrintCommand::Done { id }) => {
            let services = Services::open_from(&settings).await?;
            match services.broker(&settings)?.mark_printed(id).await {
                Ok(()) => {
                    println!("marked posted; the sender's leveringskvittering is queued");
                    Ok(())
                }
                Err(postkasse::broker::BrokerError::NotFound) => {
                    anyhow::bail!("no unposted print job {id}")
                }
                Err(error) => Err(error.into()),
            }
        }
        Command::Address(AddressCommand::Set {
            fnr,
            navn,
            adresselinje1,
            postnummer,
            poststed,
        }) => {
            let fnr = app::domain::Fnr::parse(&fnr, settings.synthetic_ids())
                .map_err(|error| anyhow::anyhow!("--fnr {error}"))?;
            let address = postkasse::print::PostalAddress::norwegian(
                &navn,
                &adresselinje1,
                &postnummer,
                &poststed,
            )
            .map_err(|error| anyhow::anyhow!(error))?;
            let services = Services::open_from(&settings).await?;
            services
                .storage
                .set_postal_address(&fnr, &address, services.clock.now())
                .await?;
            println!("address set");
            Ok(())
        }
        Command::Provider(ProviderCommand::List) => {
            let services = Services::open_from(&settings).await?;
            for provider in services.krr_store().mailbox_providers().await? {
                println!(
                    "{}  {}  {}",
                    provider.org_nr.as_str(),
                    provider.name,
                    provider.endpoint.as_deref().unwrap_or("(this Postkasse)")
                );
            }
            Ok(())
        }
    }
}

async fn run_agency(settings: &Settings, command: AgencyCommand) -> anyhow::Result<()> {
    match command {
        AgencyCommand::Letter {
            from,
            to,
            title,
            nonsensitive_title,
            level,
            opening_receipt,
            email_notice,
            notice_text,
            notice_days,
            out,
        } => {
            let recipient = app::domain::Fnr::parse(&to, settings.synthetic_ids())
                .map_err(|error| anyhow::anyhow!("--to {error}"))?;
            let level = app::domain::SecurityLevel::try_from(level)
                .map_err(|_| anyhow::anyhow!("--level must be 3 or 4"))?;
            let pdf = postkasse::demo::letter_pdf(&title, "Mottaker", &["Dette er et testbrev."])?;
            let mut letter = postkasse::agency::client::OutgoingLetter::decision(
                from,
                recipient,
                postkasse::agency::client::OutgoingDocument {
                    file_name: "brev.pdf".to_owned(),
                    mime: "application/pdf".to_owned(),
                    title,
                    bytes: pdf,
                },
            );
            letter.nonsensitive_title = nonsensitive_title;
            letter.security_level = level;
            letter.opening_receipt = opening_receipt;
            letter.notices.email =
                email_notice.map(|address| postkasse::broker::message::OrderedNotice {
                    address,
                    text: notice_text,
                    repetitions: notice_days,
                });
            let package = letter.package()?;
            let message = letter.business_message(&package);
            std::fs::create_dir_all(&out)
                .with_context(|| format!("cannot create {}", out.display()))?;
            std::fs::write(out.join("dokumentpakke.asice"), &package)?;
            std::fs::write(
                out.join("forretningsmelding.json"),
                serde_json::to_string_pretty(&message)?,
            )?;
            println!("{}", letter.message_id);
            Ok(())
        }
        AgencyCommand::Add {
            org_nr,
            name,
            client_id,
            public_key,
            avsenderidentifikatorer,
            callback_url,
        } => {
            let public_key_pem = std::fs::read_to_string(&public_key)
                .with_context(|| format!("cannot read {}", public_key.display()))?;
            let services = Services::open_from(settings).await?;
            let agency = registry::register(
                services.agency_store().as_ref(),
                services.clock.as_ref(),
                registry::NewAgency {
                    org_nr,
                    name,
                    client_id,
                    public_key_pem,
                    avsenderidentifikatorer,
                    callback_url,
                },
            )
            .await
            .context("cannot register the agency")?;
            println!(
                "registered {} ({}) with client id {}",
                agency.name,
                agency.org_nr.as_str(),
                agency.client_id
            );
            if let Some(callback) = &agency.callback {
                println!(
                    "callback secret for {} (shown only once): {}",
                    callback.url,
                    callback.secret.expose_secret()
                );
            }
            Ok(())
        }
        AgencyCommand::List => {
            let services = Services::open_from(settings).await?;
            for agency in services.agency_store().agencies().await? {
                println!(
                    "{}  {}  client {}  senders [{}]  callback {}",
                    agency.org_nr.as_str(),
                    agency.name,
                    agency.client_id,
                    agency.avsenderidentifikatorer.join(", "),
                    agency
                        .callback
                        .as_ref()
                        .map_or("none".to_owned(), |callback| callback.url.to_string())
                );
            }
            Ok(())
        }
        AgencyCommand::Grant {
            client_id,
            key,
            scopes,
            audience,
        } => {
            let private_key_pem = std::fs::read_to_string(&key)
                .with_context(|| format!("cannot read {}", key.display()))?;
            let audience = audience.unwrap_or_else(|| {
                maskinporten::token_audience(&settings.public_url(settings.site_addr()))
            });
            let grant = maskinporten::sign_grant(
                &private_key_pem,
                &client_id,
                &audience,
                &scopes,
                chrono::Utc::now(),
            )
            .with_context(|| format!("cannot sign with {}", key.display()))?;
            println!("{grant}");
            Ok(())
        }
    }
}

async fn import_file(settings: &Settings, services: &Services, file: &Path) -> anyhow::Result<()> {
    let input =
        std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    let size = input.metadata().ok().map(|metadata| metadata.len());
    let bar = indicatif::ProgressBar::new(size.unwrap_or(0)).with_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {msg}",
        )?,
    );
    let rules = import::ImportRules {
        synthetic_ids: settings.synthetic_ids(),
        known_providers: services
            .krr_store()
            .mailbox_providers()
            .await?
            .into_iter()
            .map(|provider| provider.org_nr.as_str().to_owned())
            .collect(),
        now: services.clock.now(),
    };
    let report = import::import_csv(
        services.krr_store().as_ref(),
        std::io::BufReader::new(input),
        size,
        rules,
        &bar,
    )
    .await?;
    for bad in &report.bad_rows {
        eprintln!("line {}: {}", bad.line, bad.reason);
    }
    println!(
        "{} rows: {} written, {} unchanged, {} refused",
        report.rows,
        report.written,
        report.unchanged,
        report.bad_rows.len()
    );
    anyhow::ensure!(
        report.is_clean(),
        "{} rows were refused (listed above); every other row was applied",
        report.bad_rows.len()
    );
    Ok(())
}

async fn serve(settings: Settings, services: Services) -> anyhow::Result<()> {
    let application = Application::build_with(settings, services).await?;
    println!("Postkasse is listening on http://{}", application.address());
    application
        .run_until_stopped(shutdown_signal())
        .await
        .context("the server stopped with an error")
}
