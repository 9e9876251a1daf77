//! `postkasse`: the server and the operator's command line.

use anyhow::Context;
use clap::{Parser, Subcommand};
use postkasse::{
    demo,
    settings::Settings,
    startup::{shutdown_signal, Application, Services},
    telemetry,
};
use std::{path::PathBuf, process::ExitCode};

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
    }
}

async fn serve(settings: Settings, services: Services) -> anyhow::Result<()> {
    let application = Application::build_with(settings, services).await?;
    println!("Postkasse is listening on http://{}", application.address());
    application
        .run_until_stopped(shutdown_signal())
        .await
        .context("the server stopped with an error")
}
