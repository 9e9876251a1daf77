//! `print` and `address`: the print queue, and postal addresses for letters
//! that go on paper.

use crate::{broker::BrokerError, print::PostalAddress, settings::Settings, startup::Services};
use app::domain::Fnr;
use clap::Subcommand;

#[derive(Subcommand)]
pub enum PrintCommand {
    /// List letters waiting to be printed (with --all, printed ones too).
    List {
        #[arg(long)]
        all: bool,
    },
    /// Mark a letter posted; the sender gets its leveringskvittering.
    Done { id: uuid::Uuid },
}

#[derive(Subcommand)]
pub enum AddressCommand {
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
    /// Insert or update postal addresses from a CSV extract of the
    /// population register, with FREG's field names as its header. Good rows
    /// are applied; bad rows are listed by line and make the command exit
    /// non-zero.
    Import { file: std::path::PathBuf },
}

pub async fn run(settings: &Settings, command: PrintCommand) -> anyhow::Result<()> {
    let services = Services::open_from(settings).await?;
    match command {
        PrintCommand::List { all } => {
            let jobs = services.print().queue(all).await?;
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
        PrintCommand::Done { id } => match services
            .command_line_broker(settings)?
            .mark_printed(id)
            .await
        {
            Ok(()) => {
                println!("marked posted; the sender's leveringskvittering is queued");
                Ok(())
            }
            Err(BrokerError::NotFound) => anyhow::bail!("no unposted print job {id}"),
            Err(error) => Err(error.into()),
        },
    }
}

pub async fn run_address(settings: &Settings, command: AddressCommand) -> anyhow::Result<()> {
    match command {
        AddressCommand::Set {
            fnr,
            navn,
            adresselinje1,
            postnummer,
            poststed,
        } => {
            let fnr = Fnr::parse(&fnr, settings.synthetic_ids())
                .map_err(|error| anyhow::anyhow!("--fnr {error}"))?;
            let address = PostalAddress::norwegian(&navn, &adresselinje1, &postnummer, &poststed)
                .map_err(|error| anyhow::anyhow!(error))?;
            let services = Services::open_from(settings).await?;
            services.print().set_address(&fnr, &address).await?;
            println!("address set");
            Ok(())
        }
        AddressCommand::Import { file } => {
            let services = Services::open_from(settings).await?;
            let (input, size) = crate::csv_import::open(&file)?;
            let report = crate::print::import::import_addresses(
                services.print_store().as_ref(),
                input,
                size,
                crate::print::import::AddressRows {
                    synthetic_ids: settings.synthetic_ids(),
                },
                &crate::csv_import::progress_bar(size)?,
                services.clock.now(),
            )
            .await?;
            crate::csv_import::print_report(&report)
        }
    }
}
