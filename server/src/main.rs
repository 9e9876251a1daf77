//! `postkasse`: the server and the operator's command line.

use anyhow::Context;
use app::domain::OrgNr;
use clap::{Parser, Subcommand};
use postkasse::{
    agency, demo,
    krr::{import, person::MailboxProvider, providers},
    settings::Settings,
    startup::{shutdown_signal, Application, Services},
    telemetry,
};
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
            let report = demo::seed(services.storage.as_ref(), &services.broker()).await?;
            if let Some(register) = demo::seed_register(
                services.storage.as_ref(),
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
                services.storage.as_ref(),
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
            services.storage.upsert_mailbox_provider(&provider).await?;
            println!(
                "registered {} ({})",
                provider.name,
                provider.org_nr.as_str()
            );
            Ok(())
        }
        Command::Provider(ProviderCommand::List) => {
            let services = Services::open_from(&settings).await?;
            for provider in services.storage.mailbox_providers().await? {
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
            .storage
            .mailbox_providers()
            .await?
            .into_iter()
            .map(|provider| provider.org_nr.as_str().to_owned())
            .collect(),
        now: services.clock.now(),
    };
    let report = import::import_csv(
        services.storage.as_ref(),
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
