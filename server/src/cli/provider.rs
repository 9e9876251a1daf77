//! `provider`: the other digital mailbox providers letters may go to.

use super::org_nr_argument;
use crate::{krr::providers, settings::Settings, startup::Services};
use app::domain::OrgNr;
use clap::Subcommand;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum ProviderCommand {
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

pub async fn run(settings: &Settings, command: ProviderCommand) -> anyhow::Result<()> {
    let services = Services::open_from(settings).await?;
    match command {
        ProviderCommand::Add {
            org_nr,
            name,
            endpoint,
            certificate,
        } => {
            let provider = providers::register(
                services.krr_store().as_ref(),
                &services.own_provider.provider.org_nr,
                providers::NewProvider {
                    org_nr,
                    name,
                    endpoint,
                    certificate_der: providers::read_certificate(&certificate)?,
                },
            )
            .await?;
            println!(
                "registered {} ({})",
                provider.name,
                provider.org_nr.as_str()
            );
            Ok(())
        }
        ProviderCommand::List => {
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
