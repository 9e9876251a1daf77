//! `print` and `address`: the print queue, and postal addresses for letters
//! that go on paper.

use crate::{
    print::{
        answers::{Answer, AnswerStatus},
        PostalAddress,
    },
    settings::Settings,
    startup::Services,
};
use app::domain::Fnr;
use clap::Subcommand;

#[derive(Subcommand)]
pub enum PrintCommand {
    /// List letters in the print queue with their state (with --all,
    /// posted, failed and returned ones too).
    List {
        #[arg(long)]
        all: bool,
    },
    /// Batch every waiting letter now, as at a cut-off, and hand the
    /// batches to the print house.
    Batch,
    /// Record the answers the print house has left in the drop.
    Answers,
    /// Record that a letter was posted, as the print house's answer would;
    /// the sender gets its leveringskvittering.
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
                    "{}  {}  {:<8}  from {}  to {}, {} {} {}",
                    job.message_row,
                    job.created_at.format("%Y-%m-%d %H:%M"),
                    job.state,
                    job.agency,
                    address.navn,
                    address.adresselinje1,
                    address.postnummer.as_deref().unwrap_or_default(),
                    address.poststed.as_deref().unwrap_or_default(),
                );
            }
            Ok(())
        }
        PrintCommand::Batch => {
            let chain = services.print_chain(settings, &public_url(settings))?;
            let progress = chain.cut(services.clock.now()).await?;
            let delivered = chain.deliver_due().await?;
            println!(
                "{} letters in {} batches, {} batches handed to the print house, {} letters could not be made print-ready",
                progress.letters_batched, progress.batches_made, delivered, progress.letters_failed
            );
            Ok(())
        }
        PrintCommand::Answers => {
            let chain = services.print_chain(settings, &public_url(settings))?;
            let recorded = chain.read_answers().await?;
            println!("{recorded} new answers recorded");
            Ok(())
        }
        PrintCommand::Done { id } => {
            let chain = services.print_chain(settings, &public_url(settings))?;
            let answer = Answer {
                letter: id,
                status: AnswerStatus::Posted,
                reason: None,
            };
            match chain.record(&[answer]).await? {
                1 => {
                    println!("marked posted; the sender's leveringskvittering is queued");
                    Ok(())
                }
                _ => anyhow::bail!("no print job {id} that is not already posted"),
            }
        }
    }
}

fn public_url(settings: &Settings) -> String {
    settings.public_url(settings.site_addr())
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
            let fnr = Fnr::parse_on(
                &fnr,
                settings.synthetic_ids(),
                crate::clock::norwegian_date(chrono::Utc::now()),
            )
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
                    today: crate::clock::norwegian_date(chrono::Utc::now()),
                },
                &crate::csv_import::progress_bar(size)?,
                services.clock.now(),
            )
            .await?;
            crate::csv_import::print_report(&report)
        }
    }
}
