//! Letters on paper: postal addresses, the print options DPI's `utskrift`
//! message carries, and the print queue operators work through.
//!
//! In DPI the print provider takes addresses from the sender (`utskrift`) or,
//! for letters the broker sends to print, from the national population
//! register (FREG). Postkasse has no FREG connection; operators load the
//! addresses it needs with `postkasse address set`, or in bulk from a
//! register extract with `postkasse address import` ([`import`]), a stand-in
//! for that lookup.

pub mod answers;
pub mod batch;
pub mod chart;
pub mod check;
pub mod console;
pub mod import;
pub mod letter;
pub mod preflight;
pub mod routes;
pub mod schedule;
mod service;
pub mod store;
pub mod transport;
pub mod verification;
pub mod worker;

pub use service::PrintService;
pub use store::{PrintJob, Store};

use serde::{Deserialize, Serialize};

/// A postal address in DPI's `adresseInformasjon` shape: a name, one to four
/// address lines, and either a Norwegian postcode and town or a country.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostalAddress {
    pub navn: String,
    pub adresselinje1: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub adresselinje2: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub adresselinje3: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub adresselinje4: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postnummer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub poststed: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub land: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub landkode: Option<String>,
}

/// The address as it arrives, every field optional so that every problem can
/// be named at once.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPostalAddress {
    pub navn: Option<String>,
    pub adresselinje1: Option<String>,
    pub adresselinje2: Option<String>,
    pub adresselinje3: Option<String>,
    pub adresselinje4: Option<String>,
    pub postnummer: Option<String>,
    pub poststed: Option<String>,
    pub land: Option<String>,
    pub landkode: Option<String>,
}

/// DPI's limit on each address line.
pub const MAX_LINE_CHARS: usize = 100;

impl RawPostalAddress {
    /// Checks the address, naming each bad field under `path`
    /// (`forretningsmelding.utskrift.mottaker.postnummer`).
    pub fn parse(self, path: &str) -> Result<PostalAddress, Vec<(String, String)>> {
        let mut problems = Vec::new();
        let mut line = |name: &str, value: Option<String>, required: bool| {
            let value = value
                .map(|value| value.trim().to_owned())
                .filter(|value| !value.is_empty());
            match value {
                None if required => {
                    problems.push((format!("{path}.{name}"), "is required".to_owned()));
                    None
                }
                Some(value) if value.chars().count() > MAX_LINE_CHARS => {
                    problems.push((
                        format!("{path}.{name}"),
                        format!("must be at most {MAX_LINE_CHARS} characters"),
                    ));
                    None
                }
                Some(value) if value.chars().any(char::is_control) => {
                    problems.push((
                        format!("{path}.{name}"),
                        "must not contain control characters".to_owned(),
                    ));
                    None
                }
                value => value,
            }
        };
        let navn = line("navn", self.navn, true);
        let adresselinje1 = line("adresselinje1", self.adresselinje1, true);
        let adresselinje2 = line("adresselinje2", self.adresselinje2, false);
        let adresselinje3 = line("adresselinje3", self.adresselinje3, false);
        let adresselinje4 = line("adresselinje4", self.adresselinje4, false);
        let postnummer = line("postnummer", self.postnummer, false);
        let poststed = line("poststed", self.poststed, false);
        let land = line("land", self.land, false);
        let landkode = line("landkode", self.landkode, false);
        if let Some(code) = &postnummer {
            if code.len() != 4 || !code.bytes().all(|byte| byte.is_ascii_digit()) {
                problems.push((
                    format!("{path}.postnummer"),
                    "must be exactly four digits".to_owned(),
                ));
            }
        }
        if let Some(code) = &landkode {
            if code.len() != 2 || !code.bytes().all(|byte| byte.is_ascii_alphabetic()) {
                problems.push((
                    format!("{path}.landkode"),
                    "must be a two-letter country code".to_owned(),
                ));
            }
        }
        // DPI's two valid shapes: Norwegian (postcode and town) or foreign (a country).
        let norwegian = postnummer.is_some() && poststed.is_some();
        let foreign = land.is_some() || landkode.is_some();
        if !norwegian && !foreign {
            problems.push((
                path.to_owned(),
                "needs postnummer and poststed, or land or landkode".to_owned(),
            ));
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(PostalAddress {
            navn: navn.unwrap_or_default(),
            adresselinje1: adresselinje1.unwrap_or_default(),
            adresselinje2,
            adresselinje3,
            adresselinje4,
            postnummer,
            poststed,
            land,
            landkode: landkode.map(|code| code.to_ascii_uppercase()),
        })
    }
}

impl PostalAddress {
    /// A Norwegian address: name, one line, postcode and town.
    pub fn norwegian(
        navn: &str,
        adresselinje1: &str,
        postnummer: &str,
        poststed: &str,
    ) -> Result<PostalAddress, String> {
        RawPostalAddress {
            navn: Some(navn.to_owned()),
            adresselinje1: Some(adresselinje1.to_owned()),
            postnummer: Some(postnummer.to_owned()),
            poststed: Some(poststed.to_owned()),
            ..RawPostalAddress::default()
        }
        .parse("address")
        .map_err(|problems| {
            problems
                .into_iter()
                .map(|(field, reason)| format!("{field} {reason}"))
                .collect::<Vec<_>>()
                .join("; ")
        })
    }
}

/// `utskriftstype`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum PrintColour {
    #[serde(rename = "SORT_HVIT")]
    BlackAndWhite,
    #[serde(rename = "FARGE")]
    Colour,
}

impl PrintColour {
    /// As DPI writes it: `SORT_HVIT` or `FARGE`.
    pub fn code(self) -> &'static str {
        match self {
            PrintColour::BlackAndWhite => "SORT_HVIT",
            PrintColour::Colour => "FARGE",
        }
    }
}

/// `posttype`: A (1–2 working days) or B (3–5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum PostClass {
    A,
    B,
}

impl PostClass {
    /// As DPI writes it: `A` or `B`.
    pub fn code(self) -> &'static str {
        match self {
            PostClass::A => "A",
            PostClass::B => "B",
        }
    }
}

/// `retur.returposthaandtering`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReturnHandling {
    /// Returned mail goes straight back to the return address.
    #[serde(rename = "DIREKTE_RETUR")]
    Direct,
    /// Returned mail is shredded and the sender gets a `returpostkvittering`.
    #[serde(rename = "MAKULERING_MED_MELDING")]
    ShredWithNotice,
}

/// How a letter is to be printed and posted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrintOrder {
    pub address: PostalAddress,
    pub colour: PrintColour,
    pub post_class: PostClass,
    /// `None`: the sender's business address, which the print service takes
    /// from the Central Coordinating Register (BRREG).
    pub return_address: Option<PostalAddress>,
    pub return_handling: ReturnHandling,
}

impl PrintOrder {
    /// eFormidling's defaults for letters the broker sends to print: black and
    /// white, B post, returns straight back to the sender.
    pub fn with_defaults(
        address: PostalAddress,
        return_address: Option<PostalAddress>,
    ) -> PrintOrder {
        PrintOrder {
            address,
            colour: PrintColour::BlackAndWhite,
            post_class: PostClass::B,
            return_address,
            return_handling: ReturnHandling::Direct,
        }
    }
}

/// Print if unread (Postkasse's `utskriftHvisUlest`, as Digipost's
/// `printIfUnread`): a digital letter not opened by the deadline is printed,
/// to the citizen's address in the population register, and posted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrintIfUnread {
    pub deadline: chrono::DateTime<chrono::Utc>,
    pub colour: PrintColour,
    pub post_class: PostClass,
}

/// A letter headed for paper, as the broker's commit stores it: how to
/// print it, and what printing it takes without its package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPrintJob {
    pub order: PrintOrder,
    pub sender_name: String,
    /// The main document's title, shown by the public check page.
    pub title: String,
    /// The documents in the blob store, main document first.
    pub documents: Vec<app::domain::Sha256Digest>,
    pub check_code: verification::VerificationCode,
    /// The citizen it is for, when the sender named one (a letter routed to
    /// paper, or unread at its deadline); none for a letter the agency
    /// addressed by postal address alone. Their "Min aktivitet" lists
    /// operators' downloads of it.
    pub recipient: Option<app::domain::Fnr>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw() -> RawPostalAddress {
        RawPostalAddress {
            navn: Some("Kari Nordmann".into()),
            adresselinje1: Some("Storgata 1".into()),
            postnummer: Some("0155".into()),
            poststed: Some("Oslo".into()),
            ..RawPostalAddress::default()
        }
    }

    #[test]
    fn a_norwegian_and_a_foreign_address_are_both_valid_shapes() {
        assert!(raw().parse("mottaker").is_ok());
        let foreign = RawPostalAddress {
            navn: Some("Kari Nordmann".into()),
            adresselinje1: Some("Drottninggatan 1".into()),
            landkode: Some("se".into()),
            ..RawPostalAddress::default()
        }
        .parse("mottaker")
        .unwrap();
        assert_eq!(foreign.landkode.as_deref(), Some("SE"));
    }

    #[test]
    fn every_bad_field_is_named() {
        let problems = RawPostalAddress {
            navn: None,
            adresselinje1: Some("x".repeat(101)),
            postnummer: Some("155".into()),
            poststed: Some("Oslo".into()),
            ..RawPostalAddress::default()
        }
        .parse("mottaker")
        .unwrap_err();
        let fields: Vec<&str> = problems.iter().map(|(field, _)| field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "mottaker.navn",
                "mottaker.adresselinje1",
                "mottaker.postnummer"
            ]
        );
    }

    #[test]
    fn an_address_needs_a_postcode_and_town_or_a_country() {
        let problems = RawPostalAddress {
            poststed: None,
            ..raw()
        }
        .parse("mottaker")
        .unwrap_err();
        assert_eq!(problems[0].0, "mottaker");
    }
}
