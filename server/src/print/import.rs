//! `postkasse address import FILE`: postal addresses in bulk, from an extract
//! of the population register. It stands in for a lookup in the National
//! Population Register (Folkeregisteret, FREG), which a print service asks
//! for a citizen's address; the columns carry FREG's field names for a
//! person's name and postal address (see README, "Letters on paper").
//!
//! A Norwegian address is a street address (`adressenavn`, `husnummer`,
//! `husbokstav`) or a post box (`postboks`), with `postnummer` and
//! `poststed`, and an optional c/o line; a foreign one is up to three
//! `adresselinje`s and a `landkode`. Rows are read and stored as
//! [`crate::csv_import`] does it.

use super::{PostalAddress, RawPostalAddress, Store};
use crate::csv_import::{import, ImportReport, Progress, Row, RowReader};
use anyhow::Context;
use app::domain::{Fnr, SyntheticIds};
use chrono::{DateTime, Utc};
use std::io::Read;

/// The columns a file may have, as FREG names the fields.
pub const COLUMNS: [&str; 15] = [
    "foedselsEllerDNummer",
    "fornavn",
    "mellomnavn",
    "etternavn",
    "coAdressenavn",
    "adressenavn",
    "husnummer",
    "husbokstav",
    "postboks",
    "postnummer",
    "poststed",
    "adresselinje1",
    "adresselinje2",
    "adresselinje3",
    "landkode",
];

/// Addresses per transaction.
pub const IMPORT_BATCH_ROWS: usize = 1000;

/// A file of postal addresses, read by FREG's field names.
pub struct AddressRows {
    pub synthetic_ids: SyntheticIds,
    /// Today in Norway: no id's birth date may be after it.
    pub today: chrono::NaiveDate,
}

impl RowReader for AddressRows {
    type Row = (Fnr, PostalAddress);
    const COLUMNS: &'static [&'static str] = &COLUMNS;
    const REQUIRED: &'static [&'static str] = &["foedselsEllerDNummer", "etternavn"];

    fn read(&self, row: &Row<'_>) -> Result<(Fnr, PostalAddress), Vec<String>> {
        let mut reasons = Vec::new();
        let fnr = Fnr::parse_on(
            row.get("foedselsEllerDNummer"),
            self.synthetic_ids,
            self.today,
        )
        .map_err(|error| reasons.push(format!("foedselsEllerDNummer {error}")))
        .ok();
        let joined = |columns: &[&str], separator: &str| {
            columns
                .iter()
                .map(|column| row.get(column))
                .filter(|part| !part.is_empty())
                .collect::<Vec<_>>()
                .join(separator)
        };
        let name = joined(&["fornavn", "mellomnavn", "etternavn"], " ");
        let street = match (row.get("adressenavn"), row.get("postboks")) {
            ("", "") => None,
            (street, "") => Some(format!(
                "{street} {}{}",
                row.get("husnummer"),
                row.get("husbokstav")
            )),
            ("", post_box) => Some(format!("Postboks {post_box}")),
            _ => {
                reasons.push("adressenavn and postboks cannot both be given".to_owned());
                None
            }
        };
        let foreign = [
            row.get("adresselinje1"),
            row.get("adresselinje2"),
            row.get("adresselinje3"),
        ];
        if street.is_some() && foreign.iter().any(|line| !line.is_empty()) {
            reasons.push(
                "a Norwegian address (adressenavn or postboks) and adresselinje cannot both be given"
                    .to_owned(),
            );
        }
        let care_of = match row.get("coAdressenavn") {
            "" => None,
            name => Some(format!("c/o {name}")),
        };
        // The address lines in order, without gaps: c/o first, then the
        // street or post box, or the foreign lines.
        let mut lines = care_of
            .into_iter()
            .chain(street.map(|street| street.trim().to_owned()))
            .chain(
                foreign
                    .iter()
                    .filter(|line| !line.is_empty())
                    .map(|line| (*line).to_owned()),
            );
        let optional = |text: &str| (!text.is_empty()).then(|| text.to_owned());
        let address = RawPostalAddress {
            navn: optional(&name),
            adresselinje1: lines.next(),
            adresselinje2: lines.next(),
            adresselinje3: lines.next(),
            adresselinje4: lines.next(),
            postnummer: optional(row.get("postnummer")),
            poststed: optional(row.get("poststed")),
            land: None,
            landkode: optional(row.get("landkode")),
        }
        .parse("adresse")
        .map_err(|problems| {
            reasons.extend(
                problems
                    .into_iter()
                    .map(|(field, reason)| format!("{field} {reason}")),
            )
        })
        .ok();
        match (fnr, address) {
            (Some(fnr), Some(address)) if reasons.is_empty() => Ok((fnr, address)),
            _ => Err(reasons),
        }
    }
}

/// Imports every good row of `input` into the postal addresses.
pub async fn import_addresses(
    store: &dyn Store,
    input: impl Read + Send + 'static,
    total_bytes: Option<u64>,
    rows: AddressRows,
    progress: &dyn Progress,
    now: DateTime<Utc>,
) -> anyhow::Result<ImportReport> {
    import(
        input,
        total_bytes,
        rows,
        IMPORT_BATCH_ROWS,
        progress,
        |addresses| async move {
            store
                .set_postal_addresses(&addresses, now)
                .await
                .context("cannot store imported addresses")
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::csv_import::read_all;

    fn read(csv_text: &str) -> (Vec<(Fnr, PostalAddress)>, Vec<u64>, Vec<String>) {
        let (rows, bad) = read_all(
            csv_text,
            &AddressRows {
                synthetic_ids: SyntheticIds::Accepted,
                today: chrono::NaiveDate::from_ymd_opt(2026, 12, 7).unwrap(),
            },
        )
        .unwrap();
        let lines = bad.iter().map(|row| row.line).collect();
        let reasons = bad.into_iter().map(|row| row.reason).collect();
        (rows, lines, reasons)
    }

    /// A synthetic national id no other row uses.
    fn synthetic_id() -> String {
        let born = chrono::NaiveDate::from_ymd_opt(1990, 5, 17).unwrap();
        (100..999)
            .find_map(|individual| Fnr::synthetic(born, individual))
            .unwrap()
            .as_str()
            .to_owned()
    }

    #[test]
    fn an_id_born_after_today_is_a_bad_row() {
        let born = chrono::NaiveDate::from_ymd_opt(2035, 1, 1).unwrap();
        let future = (500..1000)
            .find_map(|individual| Fnr::synthetic(born, individual))
            .unwrap();
        let (rows, lines, reasons) = read(&format!(
            "foedselsEllerDNummer,fornavn,mellomnavn,etternavn,coAdressenavn,adressenavn,husnummer,husbokstav,postboks,postnummer,poststed,adresselinje1,adresselinje2,landkode\n\
             {},Ufødt,,Nordmann,,Storgata,12,,,0155,OSLO,,,\n",
            future.as_str()
        ));
        assert!(rows.is_empty());
        assert_eq!(lines, [2]);
        assert!(
            reasons[0].contains("birth date in the future"),
            "{reasons:?}"
        );
    }

    #[test]
    fn street_post_box_care_of_and_foreign_addresses_become_postal_addresses() {
        let (rows, lines, _) = read(&format!(
            "foedselsEllerDNummer,fornavn,mellomnavn,etternavn,coAdressenavn,adressenavn,husnummer,husbokstav,postboks,postnummer,poststed,adresselinje1,adresselinje2,landkode\n\
             14838510036,Kari,,Nordmann,,Storgata,12,B,,0155,OSLO,,,\n\
             02917910181,Ola,Johan,Nordmann,Per Hansen,Fjellveien,3,,,5003,BERGEN,,,\n\
             30869610050,Sofie,,Hansen,,,,,123,9001,TROMSØ,,,\n\
             {},Nils,,Nilsen,,,,,,,,Kungsgatan 1,111 43 Stockholm,SE\n",
            synthetic_id()
        ));
        assert!(lines.is_empty());
        let addresses: Vec<&PostalAddress> = rows.iter().map(|(_, address)| address).collect();
        assert_eq!(addresses[0].navn, "Kari Nordmann");
        assert_eq!(addresses[0].adresselinje1, "Storgata 12B");
        assert_eq!(addresses[0].postnummer.as_deref(), Some("0155"));
        assert_eq!(addresses[1].navn, "Ola Johan Nordmann");
        assert_eq!(addresses[1].adresselinje1, "c/o Per Hansen");
        assert_eq!(addresses[1].adresselinje2.as_deref(), Some("Fjellveien 3"));
        assert_eq!(addresses[2].adresselinje1, "Postboks 123");
        assert_eq!(
            addresses[3].adresselinje2.as_deref(),
            Some("111 43 Stockholm")
        );
        assert_eq!(addresses[3].landkode.as_deref(), Some("SE"));
    }

    #[test]
    fn bad_rows_are_named_by_line_with_every_reason() {
        let (rows, lines, reasons) = read(&format!(
            "foedselsEllerDNummer,etternavn,adressenavn,husnummer,postboks,postnummer,poststed\n\
             14838510036,Nordmann,Storgata,1,,0155,OSLO\n\
             12345678901,Nordmann,Storgata,1,,0155,OSLO\n\
             02917910181,,Storgata,1,,01555,OSLO\n\
             30869610050,Hansen,Storgata,1,4,0155,OSLO\n\
             {},Nilsen,,,,,\n",
            synthetic_id()
        ));
        assert_eq!(rows.len(), 1);
        assert_eq!(lines, [3, 4, 5, 6]);
        assert!(reasons[0].contains("foedselsEllerDNummer"), "{reasons:?}");
        assert!(
            reasons[1].contains("adresse.navn") && reasons[1].contains("four digits"),
            "{reasons:?}"
        );
        assert!(reasons[2].contains("postboks"), "{reasons:?}");
        assert!(reasons[3].contains("adresse.adresselinje1"), "{reasons:?}");
    }

    #[test]
    fn a_file_without_a_name_column_is_refused_whole() {
        let error = read_all(
            "foedselsEllerDNummer,adressenavn\n14838510036,Storgata\n",
            &AddressRows {
                synthetic_ids: SyntheticIds::Accepted,
                today: chrono::NaiveDate::from_ymd_opt(2026, 12, 7).unwrap(),
            },
        )
        .unwrap_err();
        assert!(error.to_string().contains("etternavn"), "{error}");
    }
}
