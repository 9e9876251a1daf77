//! Demo data: synthetic citizens with letters from well-known agencies, so a
//! newcomer sees a lived-in mailbox. Letters go in through the broker, the way
//! agency letters do, and seeding twice changes nothing. Oslo kommune's offer
//! of a kindergarten place asks for an answer with a reply form.

use crate::{
    agency::registry::Agency,
    broker::{
        client::{OutgoingDocument, OutgoingLetter},
        routing::Process,
        Broker, Kanal, Submission,
    },
    csv_import::{ImportReport, NoProgress},
    krr::{
        import::{self, ImportRules},
        lookup::krr_time,
        person::MailboxProvider,
    },
    mailbox::{self, Citizen},
};
use anyhow::Context;
use app::domain::{ConversationId, Fnr, MessageId, OrgNr, SecurityLevel};
use bytes::Bytes;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use std::fmt::Write as _;
use uuid::Uuid;

/// A synthetic citizen in the demo population.
pub struct DemoCitizen {
    pub name: &'static str,
    pub birth_date: (i32, u32, u32),
}

pub const CITIZENS: [DemoCitizen; 3] = [
    DemoCitizen {
        name: "Kari Nordmann",
        birth_date: (1985, 3, 14),
    },
    DemoCitizen {
        name: "Ola Nordmann",
        birth_date: (1979, 11, 2),
    },
    DemoCitizen {
        name: "Sofie Hansen",
        birth_date: (1996, 6, 30),
    },
];

struct DemoLetter {
    org_nr: &'static str,
    sender: &'static str,
    nonsensitive_title: &'static str,
    title: &'static str,
    level: SecurityLevel,
    body: &'static [&'static str],
    /// What the letter asks of the citizen besides reading it.
    asks: Asks,
}

enum Asks {
    Nothing,
    /// An answer with a reply form ([`barnehage_form`]).
    Reply,
    /// A signature on the letter's PDF ([`brreg_signing_order`]).
    Signature,
}

const LETTERS: [DemoLetter; 4] = [
    DemoLetter {
        org_nr: "974761076",
        sender: "Skatteetaten",
        nonsensitive_title: "Skatteoppgjøret ditt er klart",
        title: "Skatteoppgjør for inntektsåret 2025",
        level: SecurityLevel::Substantial,
        body: &[
            "Skatteoppgjøret for 2025 er ferdig.",
            "Du får 4 312 kroner igjen på skatten.",
            "Beløpet blir utbetalt til kontonummeret ditt innen tre uker.",
        ],
        asks: Asks::Nothing,
    },
    DemoLetter {
        org_nr: "889640782",
        sender: "NAV",
        nonsensitive_title: "Du har fått et brev fra NAV",
        title: "Vedtak om foreldrepenger",
        level: SecurityLevel::High,
        body: &[
            "Vi har innvilget søknaden din om foreldrepenger.",
            "Vedtaket gjelder fra 1. desember 2026.",
            "Du kan klage på vedtaket innen seks uker.",
        ],
        asks: Asks::Nothing,
    },
    DemoLetter {
        org_nr: "958935420",
        sender: "Oslo kommune",
        nonsensitive_title: "Svar på søknad om barnehageplass",
        title: "Tilbud om barnehageplass",
        level: SecurityLevel::Substantial,
        body: &[
            "Barnet ditt har fått tilbud om plass i Bjørnebo barnehage.",
            "Svar på tilbudet innen 14 dager.",
        ],
        asks: Asks::Reply,
    },
    DemoLetter {
        org_nr: "974760673",
        sender: "Brønnøysundregistrene",
        nonsensitive_title: "Bekreftelse på registrering",
        title: "Bekreftelse på registrering i Enhetsregisteret",
        level: SecurityLevel::Substantial,
        body: &[
            "Enkeltpersonforetaket ditt er registrert i Enhetsregisteret.",
            "Organisasjonsnummeret finner du i Brønnøysundregistrenes søketjeneste.",
            "Signer brevet for å bekrefte at de registrerte opplysningene stemmer.",
        ],
        asks: Asks::Signature,
    },
];

/// The reply form of the demo's offer of a kindergarten place
/// (docs/replies.md): accept or not, from when, and a word to the
/// kindergarten; answered within 14 days of `now`.
pub fn barnehage_form(now: chrono::DateTime<chrono::Utc>) -> serde_json::Value {
    serde_json::json!({
        "versjon": 1,
        "tittel": "Svar på tilbudet om barnehageplass",
        "ingress": "Svar innen fristen, ellers går plassen til neste på ventelisten.",
        "svarfrist": (now + chrono::Duration::days(14)).to_rfc3339(),
        "fritekst": true,
        "spoersmaal": [
            {"id": "takker-ja", "type": "JA_NEI", "tekst": "Tar du imot plassen?", "paakrevd": true,
             "forgrening": {"nei": "grunn"}},
            {"id": "oppstart", "type": "DATO", "tekst": "Når ønsker dere å begynne?", "paakrevd": true},
            {"id": "hilsen", "type": "LANG_TEKST", "tekst": "Noe barnehagen bør vite?",
             "hjelpetekst": "For eksempel allergier eller behov for tilrettelegging.",
             "nesteSpoersmaal": "SLUTT"},
            {"id": "grunn", "type": "ETT_VALG", "tekst": "Hvorfor takker du nei?", "paakrevd": true,
             "alternativer": [
                {"verdi": "annen-plass", "tekst": "Vi har fått plass et annet sted"},
                {"verdi": "flytter", "tekst": "Vi flytter"},
                {"verdi": "annet", "tekst": "Annet"}
             ]}
        ]
    })
}

/// The demo's order to sign the confirmation from Brønnøysundregistrene
/// (docs/signing.md): at level 4, within 30 days of `now`, the `signers`
/// (national id and name, the recipient first) shown by date of birth and
/// name.
pub fn brreg_signing_order(signers: &[(&Fnr, &str)], now: DateTime<Utc>) -> serde_json::Value {
    let signers: Vec<serde_json::Value> = signers
        .iter()
        .map(|(fnr, name)| serde_json::json!({"personidentifikator": fnr.as_str(), "navn": name}))
        .collect();
    serde_json::json!({
        "versjon": 1,
        "tittel": "Erklæring om registrerte opplysninger",
        "frist": (now + Duration::days(30)).to_rfc3339(),
        "identifisering": "FOEDSELSDATO_OG_NAVN",
        "signatarer": signers,
    })
}

/// Who signs a demo citizen's order: they do, and Kari's is co-signed by Ola
/// after her, so the demo shows a second signer's "Til signering" too.
fn demo_signers(citizen: &DemoCitizen) -> Vec<(Fnr, &'static str)> {
    let mut signers = vec![(demo_fnr(citizen), citizen.name)];
    if citizen.name == CITIZENS[0].name {
        signers.push((demo_fnr(&CITIZENS[1]), CITIZENS[1].name));
    }
    signers
}

/// The synthetic national id of a demo citizen: the first individual number
/// that gives valid control digits.
pub fn demo_fnr(citizen: &DemoCitizen) -> Fnr {
    let (year, month, day) = citizen.birth_date;
    let birth_date =
        NaiveDate::from_ymd_opt(year, month, day).expect("demo birth dates are real dates");
    (100..500)
        .find_map(|individual_number| Fnr::synthetic(birth_date, individual_number))
        .expect("some individual number gives valid control digits")
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct SeedReport {
    pub letters_added: usize,
    pub letters_already_present: usize,
}

/// Where the demo agencies' shared signing key is kept: beside this
/// provider's key (`data/demo-agency-key.pem` by default). The README's curl
/// walk-through signs grants with it.
pub fn demo_agency_key_file(settings: &crate::settings::Settings) -> std::path::PathBuf {
    settings
        .provider
        .key_file
        .parent()
        .unwrap_or_else(|| std::path::Path::new("."))
        .join("demo-agency-key.pem")
}

/// The client id a demo agency signs its grants with.
pub fn demo_client_id(org_nr: &str) -> String {
    format!("demo-{org_nr}")
}

/// Registers the demo agencies (once), all with one key made on first use.
async fn register_demo_agencies(
    agencies: &dyn crate::agency::Store,
    key_file: &std::path::Path,
) -> anyhow::Result<()> {
    let key_file = key_file.to_owned();
    let public_key_pem = tokio::task::spawn_blocking(move || -> anyhow::Result<String> {
        use rsa::pkcs8::{EncodePublicKey, LineEnding};
        let key = crate::keys::load_or_generate_rsa(&key_file, "demo agency key")?;
        Ok(key.to_public_key().to_public_key_pem(LineEnding::LF)?)
    })
    .await??;
    for letter in &LETTERS {
        let org_nr = OrgNr::parse(letter.org_nr)?;
        if agencies.agency_by_org_nr(&org_nr).await?.is_some() {
            continue;
        }
        agencies
            .upsert_agency(
                &Agency {
                    org_nr,
                    name: letter.sender.to_owned(),
                    client_id: demo_client_id(letter.org_nr),
                    public_key_pem: public_key_pem.clone(),
                    avsenderidentifikatorer: Vec::new(),
                    callback: None,
                },
                Utc::now(),
            )
            .await?;
    }
    Ok(())
}

/// Seeds the demo letters through the broker, as the agencies would send
/// them: routed by the register (run [`seed_register`] first), so a citizen
/// with a mailbox elsewhere has theirs forwarded. Message ids are fixed, so a
/// second run finds every letter already received and adds nothing.
pub async fn seed(
    mailboxes: &dyn mailbox::Store,
    agencies: &dyn crate::agency::Store,
    broker: &Broker,
    agency_key_file: &std::path::Path,
) -> anyhow::Result<SeedReport> {
    register_demo_agencies(agencies, agency_key_file).await?;
    let mut report = SeedReport::default();
    for (citizen_index, citizen) in CITIZENS.iter().enumerate() {
        let fnr = demo_fnr(citizen);
        mailboxes
            .upsert_citizen(&Citizen {
                fnr: fnr.clone(),
                display_name: Some(citizen.name.to_owned()),
            })
            .await
            .context("seeding a citizen failed")?;
        for (letter_index, letter) in LETTERS.iter().enumerate() {
            let sequence = (citizen_index * LETTERS.len() + letter_index) as u128;
            let sender = OrgNr::parse(letter.org_nr)?;
            let message_id = MessageId::from_uuid(Uuid::from_u128(
                0x0d3e_0000_0000_4000_8000_0000_0000_0000 + sequence,
            ));
            if broker.message(&sender, message_id).await?.is_some() {
                report.letters_already_present += 1;
                continue;
            }
            let mut outgoing = OutgoingLetter {
                message_id,
                conversation_id: ConversationId::from_uuid(Uuid::from_u128(
                    0x0d3e_0000_0000_4000_9000_0000_0000_0000 + sequence,
                )),
                process: Process::Decision,
                nonsensitive_title: letter.nonsensitive_title.to_owned(),
                security_level: letter.level,
                ..OutgoingLetter::decision(
                    sender.clone(),
                    fnr.clone(),
                    OutgoingDocument {
                        file_name: format!(
                            "{}.pdf",
                            letter.sender.to_lowercase().replace(' ', "-")
                        ),
                        mime: "application/pdf".to_owned(),
                        title: letter.title.to_owned(),
                        bytes: crate::pdf::letter_pdf(letter.title, citizen.name, letter.body)?,
                    },
                )
            };
            outgoing.main_data = match letter.asks {
                Asks::Nothing => None,
                Asks::Reply => Some(crate::broker::client::OutgoingData {
                    file_name: "svarskjema.json".to_owned(),
                    mime: crate::replies::form::MEDIA_TYPE.to_owned(),
                    bytes: barnehage_form(Utc::now()).to_string().into_bytes(),
                }),
                Asks::Signature => Some(crate::broker::client::OutgoingData {
                    file_name: "signeringsoppdrag.json".to_owned(),
                    mime: crate::signing::order::MEDIA_TYPE.to_owned(),
                    bytes: brreg_signing_order(
                        &demo_signers(citizen)
                            .iter()
                            .map(|(fnr, name)| (fnr, *name))
                            .collect::<Vec<_>>(),
                        Utc::now(),
                    )
                    .to_string()
                    .into_bytes(),
                }),
            };
            let package = outgoing.package()?;
            let business_message = outgoing.business_message(&package);
            broker
                .submit(Submission {
                    agency: sender,
                    client_name: letter.sender.to_owned(),
                    kanal: Kanal::default(),
                    forretningsmelding: Bytes::from(business_message.to_string()),
                    dokumentpakke: Some(Bytes::from(package)),
                })
                .await
                .map_err(|error| anyhow::anyhow!("seeding a letter failed: {error:?}"))?;
            report.letters_added += 1;
        }
    }
    Ok(report)
}

/// The other mailbox provider in the demo, so citizens have a choice.
pub const DEMO_PROVIDER_ORG_NR: &str = "921000006";
const DEMO_PROVIDER_NAME: &str = "Eksempel Postkasse AS";
/// How many synthetic persons the demo adds to the register besides its citizens.
pub const DEMO_POPULATION: usize = 1000;

/// Registers the demo's external mailbox provider (once) and imports the
/// demo population into the register, through the same CSV import operators
/// use. Only when the register does not know the demo citizens yet, so the
/// changes someone made while trying Postkasse survive a restart.
pub async fn seed_register(
    register: &dyn crate::krr::Store,
    own_provider: &OrgNr,
    synthetic_ids: app::domain::SyntheticIds,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<ImportReport>> {
    let demo_ids: Vec<Fnr> = CITIZENS.iter().map(demo_fnr).collect();
    if !register.register_entries(&demo_ids).await?.is_empty() {
        return Ok(None);
    }
    let mut known_providers: std::collections::HashSet<String> = register
        .mailbox_providers()
        .await?
        .into_iter()
        .map(|provider| provider.org_nr.as_str().to_owned())
        .collect();
    if !known_providers.contains(DEMO_PROVIDER_ORG_NR) {
        let org_nr = OrgNr::parse(DEMO_PROVIDER_ORG_NR)?;
        let certificate = tokio::task::spawn_blocking({
            let org_nr = org_nr.clone();
            move || -> anyhow::Result<Vec<u8>> {
                use x509_cert::der::Encode;
                // The demo provider's private key is not needed: nobody decrypts for it here.
                let key = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048)?;
                Ok(crate::keys::self_signed(&key, &org_nr, DEMO_PROVIDER_NAME)?.to_der()?)
            }
        })
        .await??;
        register
            .upsert_mailbox_provider(&MailboxProvider {
                org_nr,
                name: DEMO_PROVIDER_NAME.to_owned(),
                // Nothing listens here, on purpose: forwarding to it fails and
                // is retried, which is what a provider that is down looks like.
                endpoint: Some("http://127.0.0.1:9/dpi/messages".to_owned()),
                certificate_der: certificate,
            })
            .await?;
        known_providers.insert(DEMO_PROVIDER_ORG_NR.to_owned());
    }
    let csv = population_csv(own_provider, DEMO_POPULATION, &[], now);
    let report = import::import_csv(
        register,
        std::io::Cursor::new(csv.into_bytes()),
        None,
        ImportRules {
            synthetic_ids,
            known_providers,
            now,
        },
        &NoProgress,
    )
    .await?;
    anyhow::ensure!(
        report.is_clean(),
        "the demo population has bad rows: {:?}",
        report.bad_rows
    );
    Ok(Some(report))
}

/// A register file with the demo citizens and `count` synthetic persons,
/// in the import's CSV format. Rows whose 0-based index among the synthetic
/// persons is in `spoiled` get a national id with a wrong control digit,
/// for testing how an import reports bad rows.
///
/// The population is varied on purpose: most have a mailbox here, some at
/// the demo's other provider, some none; every 10th has reserved; every 7th
/// has contact details older than 18 months.
pub fn population_csv(
    own_provider: &OrgNr,
    count: usize,
    spoiled: &[usize],
    now: DateTime<Utc>,
) -> String {
    let mut csv = String::from(
        "personidentifikator,reservasjon,reservasjonstidspunkt,epostadresse,epostadresse_oppdatert,\
         mobiltelefonnummer,mobiltelefonnummer_oppdatert,postkasseadresse,postkasseleverandoeradresse,spraak\n",
    );
    let recent = krr_time(now - Duration::days(40));
    let expired = krr_time(now - Duration::days(600));
    let own = own_provider.as_str();
    // Kari: all current, mailbox here. Ola: e-mail expired (he is notified by
    // SMS until he confirms it). Sofie: mailbox here too, in English. The
    // other provider does not answer (it stands for one that is down), so
    // no demo letter is forwarded to it: a first run logs no retries. A
    // citizen who chooses it in Settings sees forwarding and its retries.
    let citizens = [
        (
            &CITIZENS[0],
            "kari.nordmann@example.no",
            &recent,
            "+4791234567",
            own,
            "nb",
        ),
        (
            &CITIZENS[1],
            "ola.nordmann@example.no",
            &expired,
            "+4792345678",
            own,
            "nn",
        ),
        (
            &CITIZENS[2],
            "sofie.hansen@example.no",
            &recent,
            "+4741234567",
            own,
            "en",
        ),
    ];
    for (citizen, email, updated, mobile, provider, language) in citizens {
        let address = citizen.name.to_lowercase().replace(' ', ".");
        let mobile_updated = if mobile.is_empty() {
            ""
        } else {
            recent.as_str()
        };
        let _ = writeln!(
            csv,
            "{},NEI,,{email},{updated},{mobile},{mobile_updated},{address}#DEMO,{provider},{language}",
            demo_fnr(citizen).as_str()
        );
    }
    let demo_ids: Vec<Fnr> = CITIZENS.iter().map(demo_fnr).collect();
    let first_birth_date = NaiveDate::from_ymd_opt(1940, 1, 1).expect("a date");
    let mut written = 0;
    let mut day = 0;
    while written < count {
        let birth_date = first_birth_date + Duration::days(day % 25_000);
        // Several persons per birth date, as in life; individual numbers 100..999.
        let individual_start = 100 + (day / 25_000) as u16 * 50;
        day += 1;
        for individual in individual_start..individual_start + 50 {
            if written == count {
                break;
            }
            let Some(fnr) = Fnr::synthetic(birth_date, individual) else {
                continue;
            };
            if demo_ids.contains(&fnr) {
                continue;
            }
            let index = written;
            written += 1;
            let id = if spoiled.contains(&index) {
                let mut digits = fnr.as_str().to_owned();
                let last = digits
                    .pop()
                    .and_then(|digit| digit.to_digit(10))
                    .unwrap_or(0);
                digits.push(char::from_digit((last + 1) % 10, 10).unwrap_or('0'));
                digits
            } else {
                fnr.as_str().to_owned()
            };
            let reserved = index % 10 == 4;
            let updated = if index % 7 == 5 { &expired } else { &recent };
            let (mailbox, provider) = match index % 5 {
                0..=2 => (format!("person{index}#SYN"), own),
                3 => (format!("person{index}#SYN"), DEMO_PROVIDER_ORG_NR),
                _ => (String::new(), ""),
            };
            let _ = writeln!(
                csv,
                "{id},{},{},person{index}@example.no,{updated},+474{:07},{updated},{mailbox},{provider},nb",
                if reserved { "JA" } else { "NEI" },
                if reserved { recent.as_str() } else { "" },
                index % 10_000_000,
            );
        }
    }
    csv
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_reply_form_is_a_valid_form() {
        let now = chrono::Utc::now();
        let form = crate::replies::form::parse(
            barnehage_form(now).to_string().as_bytes(),
            "svarskjema",
            now,
        )
        .unwrap();
        assert_eq!(form.questions.len(), 4);
        assert!(form.free_text);
    }
    use app::domain::SyntheticIds;

    #[test]
    fn the_demo_signing_order_is_a_valid_order() {
        let now = Utc::now();
        let fnr = demo_fnr(&CITIZENS[0]);
        let signers = demo_signers(&CITIZENS[0]);
        let signers: Vec<(&Fnr, &str)> = signers.iter().map(|(fnr, name)| (fnr, *name)).collect();
        let order = crate::signing::order::parse(
            brreg_signing_order(&signers, now).to_string().as_bytes(),
            "signeringsoppdrag",
            now,
        )
        .unwrap();
        assert_eq!(order.signers.len(), 2, "Kari's is co-signed by Ola");
        assert!(crate::signing::order::check_signers(&order, &fnr, "data").is_none());
    }

    #[test]
    fn every_demo_citizen_has_a_mailbox_here_so_seeding_forwards_nothing() {
        let own = OrgNr::parse("999900003").unwrap();
        let csv = population_csv(&own, 0, &[], Utc::now());
        let lines: Vec<&str> = csv.lines().skip(1).collect();
        assert_eq!(lines.len(), CITIZENS.len());
        for (line, citizen) in lines.iter().zip(&CITIZENS) {
            let columns: Vec<&str> = line.split(',').collect();
            assert_eq!(columns[0], demo_fnr(citizen).as_str());
            assert_eq!(columns[8], own.as_str(), "{}", citizen.name);
        }
    }

    #[test]
    fn demo_citizens_have_valid_synthetic_ids() {
        for citizen in &CITIZENS {
            let fnr = demo_fnr(citizen);
            assert!(fnr.is_synthetic());
            assert_eq!(
                Fnr::parse(fnr.as_str(), SyntheticIds::Accepted).unwrap(),
                fnr
            );
            assert!(Fnr::parse(fnr.as_str(), SyntheticIds::Refused).is_err());
        }
    }

    #[test]
    fn demo_senders_have_valid_org_numbers() {
        for letter in &LETTERS {
            OrgNr::parse(letter.org_nr)
                .unwrap_or_else(|error| panic!("{}: {error}", letter.sender));
        }
    }
}
