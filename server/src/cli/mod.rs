//! The `postkasse` command line: the server itself and the operator's
//! commands, one file per command group. Each command parses its arguments
//! into domain types, calls one service, and prints what happened; the rules
//! live in the domains.

mod agency;
mod krr;
mod notify;
mod operator;
mod print;
mod provider;
mod search;
mod server;

use crate::settings::Settings;
use app::domain::OrgNr;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "postkasse",
    version,
    about = "Postkasse: a digital mailbox for citizens"
)]
pub struct Cli {
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
    Krr(krr::KrrCommand),
    /// Access tokens for agencies.
    #[command(subcommand)]
    Token(agency::TokenCommand),
    /// Digital mailbox providers letters may be routed to.
    #[command(subcommand)]
    Provider(provider::ProviderCommand),
    /// Agencies: the Maskinporten-style clients that send and look up.
    #[command(subcommand)]
    Agency(agency::AgencyCommand),
    /// The print queue: letters that go on paper.
    #[command(subcommand)]
    Print(print::PrintCommand),
    /// Postal addresses for letters that go on paper (a stand-in for the
    /// population register).
    #[command(subcommand)]
    Address(print::AddressCommand),
    /// What the development sink channel would have sent (notify.email or
    /// notify.sms = "sink"), newest first.
    Notices(notify::NoticesArgs),
    /// Rebuild the search index from the database (stop the server first:
    /// only one process may write the index).
    Reindex,
    /// The operators' web console (the development sink's page).
    #[command(subcommand)]
    Operator(operator::OperatorCommand),
}

/// Runs the parsed command line to its end.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = Settings::load(cli.config.as_deref())?;
    tracing::info!(?settings, "settings loaded");
    match cli.command {
        Command::Serve => server::serve(settings).await,
        Command::Migrate => server::migrate(&settings).await,
        Command::Demo { seed_only } => server::demo(settings, seed_only).await,
        Command::Krr(command) => krr::run(&settings, command).await,
        Command::Token(command) => agency::run_token(&settings, command).await,
        Command::Provider(command) => provider::run(&settings, command).await,
        Command::Agency(command) => agency::run(&settings, command).await,
        Command::Print(command) => print::run(&settings, command).await,
        Command::Address(command) => print::run_address(&settings, command).await,
        Command::Notices(arguments) => notify::run(&settings, arguments).await,
        Command::Reindex => search::reindex(&settings).await,
        Command::Operator(command) => operator::run(&settings, command).await,
    }
}

/// Parses an organisation number argument, so clap reports a bad one.
fn org_nr_argument(text: &str) -> Result<OrgNr, String> {
    OrgNr::parse(text).map_err(|error| error.to_string())
}
