//! `krr import`: bulk entries for the contact and reservation register.

use crate::{krr::import, settings::Settings, startup::Services};
use clap::Subcommand;
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum KrrCommand {
    /// Insert or update register entries from a CSV file with KRR's field
    /// names as its header. Good rows are applied; bad rows are listed by line
    /// and make the command exit non-zero.
    Import { file: PathBuf },
}

pub async fn run(settings: &Settings, command: KrrCommand) -> anyhow::Result<()> {
    match command {
        KrrCommand::Import { file } => {
            let services = Services::open_from(settings).await?;
            import_file(settings, &services, &file).await
        }
    }
}

async fn import_file(settings: &Settings, services: &Services, file: &Path) -> anyhow::Result<()> {
    let (input, size) = crate::csv_import::open(file)?;
    let store = services.krr_store();
    let rules = import::ImportRules {
        synthetic_ids: settings.synthetic_ids(),
        known_providers: store
            .mailbox_providers()
            .await?
            .into_iter()
            .map(|provider| provider.org_nr.as_str().to_owned())
            .collect(),
        now: services.clock.now(),
    };
    let report = import::import_csv(
        store.as_ref(),
        input,
        size,
        rules,
        &crate::csv_import::progress_bar(size)?,
    )
    .await?;
    crate::csv_import::print_report(&report)
}
