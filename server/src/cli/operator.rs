//! `operator`: signing a browser in to the operators' console.

use crate::{
    operator::{sign_in_link, Operators, CODE_LIFETIME},
    settings::Settings,
    startup::Services,
};
use anyhow::Context;
use clap::Subcommand;

#[derive(Subcommand)]
pub enum OperatorCommand {
    /// Print a single-use link that signs a browser in as an operator (valid
    /// for ten minutes). It opens the page of notices the sink stored.
    LoginLink,
}

pub async fn run(settings: &Settings, command: OperatorCommand) -> anyhow::Result<()> {
    match command {
        OperatorCommand::LoginLink => {
            let services = Services::open_from(settings).await?;
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
    }
}
