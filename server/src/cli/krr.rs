//! `krr import`: bulk entries for the contact and reservation register.

use crate::{krr::import, settings::Settings, startup::Services};
use anyhow::Context;
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
    let input =
        std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    let size = input.metadata().ok().map(|metadata| metadata.len());
    let bar = indicatif::ProgressBar::new(size.unwrap_or(0)).with_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {msg}",
        )?,
    );
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
