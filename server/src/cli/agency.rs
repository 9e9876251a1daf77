//! `agency` and `token`: registering agencies and the processors that send
//! for them, and the sender-side tools
//! (grants, letters, bearer tokens) for trying the DPI API out.

use super::org_nr_argument;
use crate::{
    agency::{self, delegation, maskinporten, registry},
    settings::Settings,
    startup::Services,
};
use anyhow::Context;
use app::domain::OrgNr;
use clap::Subcommand;
use secrecy::ExposeSecret;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum AgencyCommand {
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
    /// Let a data processor (databehandler) send digital post on behalf of
    /// an agency: the processor is the message's sender, the agency its avsender.
    Delegate {
        /// The agency the processor sends for.
        #[arg(long, value_parser = org_nr_argument)]
        agency: OrgNr,
        #[arg(long, value_parser = org_nr_argument)]
        processor: OrgNr,
    },
    /// Withdraw a processor's delegation.
    Undelegate {
        #[arg(long, value_parser = org_nr_argument)]
        agency: OrgNr,
        #[arg(long, value_parser = org_nr_argument)]
        processor: OrgNr,
    },
    /// List which processors may send for which agencies.
    Delegations,
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
        /// As a data processor, act for this agency (it must have delegated
        /// to the client's organisation: `agency delegate`).
        #[arg(long, value_parser = org_nr_argument)]
        consumer_org: Option<OrgNr>,
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
        /// A reply form (JSON, docs/replies.md) for the citizen to answer,
        /// as the main document's extension.
        #[arg(long, value_name = "FILE", conflicts_with_all = ["link", "signing_order"])]
        reply_form: Option<PathBuf>,
        /// A link out (DPI's lenke XML) as the main document's extension.
        #[arg(long, value_name = "FILE", conflicts_with = "signing_order")]
        link: Option<PathBuf>,
        /// An order to sign the letter's PDF (JSON, docs/signing.md), as the
        /// main document's extension.
        #[arg(long, value_name = "FILE")]
        signing_order: Option<PathBuf>,
        #[arg(long, value_name = "DIRECTORY")]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
pub enum TokenCommand {
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

pub async fn run(settings: &Settings, command: AgencyCommand) -> anyhow::Result<()> {
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
            reply_form,
            link,
            signing_order,
            out,
        } => {
            let recipient = app::domain::Fnr::parse_on(
                &to,
                settings.synthetic_ids(),
                crate::clock::norwegian_date(chrono::Utc::now()),
            )
            .map_err(|error| anyhow::anyhow!("--to {error}"))?;
            let level = app::domain::SecurityLevel::try_from(level)
                .map_err(|_| anyhow::anyhow!("--level must be 3 or 4"))?;
            let pdf = crate::pdf::letter_pdf(&title, "Mottaker", &["Dette er et testbrev."])?;
            let mut letter = crate::broker::client::OutgoingLetter::decision(
                from,
                recipient,
                crate::broker::client::OutgoingDocument {
                    file_name: "brev.pdf".to_owned(),
                    mime: "application/pdf".to_owned(),
                    title,
                    bytes: pdf,
                },
            );
            letter.nonsensitive_title = nonsensitive_title;
            letter.security_level = level;
            letter.opening_receipt = opening_receipt;
            letter.notices.email = email_notice.map(|address| crate::notify::OrderedNotice {
                address,
                text: notice_text,
                repetitions: notice_days,
            });
            let extension = match (reply_form, link, signing_order) {
                (Some(file), _, _) => {
                    Some((file, crate::replies::form::MEDIA_TYPE, "svarskjema.json"))
                }
                (None, Some(file), _) => Some((
                    file,
                    crate::broker::extensions::LINK_MEDIA_TYPE,
                    "lenke.xml",
                )),
                (None, None, Some(file)) => Some((
                    file,
                    crate::signing::order::MEDIA_TYPE,
                    "signeringsoppdrag.json",
                )),
                (None, None, None) => None,
            };
            if let Some((file, mime, file_name)) = extension {
                letter.main_data = Some(crate::broker::client::OutgoingData {
                    file_name: file_name.to_owned(),
                    mime: mime.to_owned(),
                    bytes: std::fs::read(&file)
                        .with_context(|| format!("cannot read {}", file.display()))?,
                });
            }
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
        AgencyCommand::Delegate { agency, processor } => {
            let services = Services::open_from(settings).await?;
            let added = delegation::delegate(
                services.agency_store().as_ref(),
                agency.clone(),
                processor.clone(),
                services.clock.now(),
            )
            .await
            .context("cannot record the delegation")?;
            if added {
                println!("{processor} may now send for {agency}");
            } else {
                println!("{processor} could already send for {agency}");
            }
            Ok(())
        }
        AgencyCommand::Undelegate { agency, processor } => {
            let services = Services::open_from(settings).await?;
            let removed = services
                .agency_store()
                .remove_delegation(&agency, &processor)
                .await?;
            anyhow::ensure!(removed, "{processor} has no delegation from {agency}");
            println!("{processor} may no longer send for {agency}");
            Ok(())
        }
        AgencyCommand::Delegations => {
            let services = Services::open_from(settings).await?;
            for delegation in services.agency_store().delegations().await? {
                println!(
                    "{}  sends for  {}  since {}",
                    delegation.processor,
                    delegation.agency,
                    delegation.created_at.to_rfc3339()
                );
            }
            Ok(())
        }
        AgencyCommand::Grant {
            client_id,
            key,
            scopes,
            audience,
            consumer_org,
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
                consumer_org.as_ref(),
            )
            .with_context(|| format!("cannot sign with {}", key.display()))?;
            println!("{grant}");
            Ok(())
        }
    }
}

pub async fn run_token(settings: &Settings, command: TokenCommand) -> anyhow::Result<()> {
    match command {
        TokenCommand::Issue {
            client,
            org_nr,
            scopes,
            days,
        } => {
            let services = Services::open_from(settings).await?;
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
    }
}
