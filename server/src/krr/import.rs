//! Bulk import of register entries from CSV, for operators
//! (`postkasse krr import FILE.csv`) and the demo's synthetic population.
//!
//! The header names KRR's fields; `personidentifikator` is required, every
//! other column optional. Rows are read and stored as [`crate::csv_import`]
//! does it, in batches of [`IMPORT_BATCH_ROWS`]. Importing the same file
//! again writes nothing new.

use super::{
    contact::{EmailAddress, MobileNumber},
    person::{Channel, DigitalMailbox, Person, PersonStatus},
};
use super::{Store, IMPORT_BATCH_ROWS};
use crate::csv_import::{import, ImportReport, Progress, Row, RowReader};
use anyhow::Context;
use app::domain::{Fnr, Language, OrgNr, SyntheticIds};
use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use std::{collections::HashSet, io::Read};

/// The columns a file may have, as KRR names the fields.
pub const COLUMNS: [&str; 15] = [
    "personidentifikator",
    "status",
    "reservasjon",
    "reservasjonstidspunkt",
    "reservasjon_oppdatert",
    "epostadresse",
    "epostadresse_oppdatert",
    "epostadresse_sist_verifisert",
    "mobiltelefonnummer",
    "mobiltelefonnummer_oppdatert",
    "mobiltelefonnummer_sist_verifisert",
    "postkasseadresse",
    "postkasseleverandoeradresse",
    "spraak",
    "spraak_oppdatert",
];

/// What parsing needs to know besides the text.
#[derive(Debug, Clone)]
pub struct ImportRules {
    pub synthetic_ids: SyntheticIds,
    /// Organisation numbers of registered mailbox providers.
    pub known_providers: HashSet<String>,
    /// Used for a reservation without `reservasjonstidspunkt`.
    pub now: DateTime<Utc>,
}

/// Imports every good row of `input` into the register.
pub async fn import_csv(
    store: &dyn Store,
    input: impl Read + Send + 'static,
    total_bytes: Option<u64>,
    rules: ImportRules,
    progress: &dyn Progress,
) -> anyhow::Result<ImportReport> {
    let now = rules.now;
    import(
        input,
        total_bytes,
        RegisterRows(rules),
        IMPORT_BATCH_ROWS,
        progress,
        |persons| async move {
            store
                .import_entries(&persons, now)
                .await
                .context("cannot store imported entries")
        },
    )
    .await
}

/// A file of register entries, read by KRR's field names.
pub struct RegisterRows(pub ImportRules);

impl RowReader for RegisterRows {
    type Row = Person;
    const COLUMNS: &'static [&'static str] = &COLUMNS;
    const REQUIRED: &'static [&'static str] = &["personidentifikator"];

    fn read(&self, row: &Row<'_>) -> Result<Person, Vec<String>> {
        let rules = &self.0;
        let mut reasons = Vec::new();
        let get = |column: &str| row.get(column);
        let mut time = |column: &str| -> Option<DateTime<Utc>> {
            let text = get(column);
            if text.is_empty() {
                return None;
            }
            parse_time(text).or_else(|| {
                reasons.push(format!("{column} {text:?} is not a time"));
                None
            })
        };
        let reserved_at = time("reservasjonstidspunkt");
        let reservation_updated_at = time("reservasjon_oppdatert");
        let email_updated = time("epostadresse_oppdatert");
        let email_verified = time("epostadresse_sist_verifisert");
        let mobile_updated = time("mobiltelefonnummer_oppdatert");
        let mobile_verified = time("mobiltelefonnummer_sist_verifisert");
        let language_updated_at = time("spraak_oppdatert");

        let fnr = Fnr::parse_on(
            get("personidentifikator"),
            rules.synthetic_ids,
            crate::clock::norwegian_date(rules.now),
        )
        .map_err(|error| reasons.push(format!("personidentifikator {error}")))
        .ok();
        let status = match get("status") {
            "" => Some(PersonStatus::Active),
            text => PersonStatus::parse(text).or_else(|| {
                reasons.push(format!("status {text:?} must be AKTIV or SLETTET"));
                None
            }),
        };
        let reserved = match get("reservasjon").to_ascii_uppercase().as_str() {
            "" | "NEI" => false,
            "JA" => true,
            other => {
                reasons.push(format!("reservasjon {other:?} must be JA or NEI"));
                false
            }
        };
        let email = channel(
            get("epostadresse"),
            email_updated,
            email_verified,
            "epostadresse",
            |text| EmailAddress::parse(text).map_err(|e| e.to_string()),
            &mut reasons,
        );
        let mobile = channel(
            get("mobiltelefonnummer"),
            mobile_updated,
            mobile_verified,
            "mobiltelefonnummer",
            |text| MobileNumber::parse(text).map_err(|e| e.to_string()),
            &mut reasons,
        );
        let mailbox = match (get("postkasseadresse"), get("postkasseleverandoeradresse")) {
            ("", "") => None,
            ("", _) | (_, "") => {
                reasons.push(
                    "postkasseadresse and postkasseleverandoeradresse come together or not at all"
                        .to_owned(),
                );
                None
            }
            (address, provider) => match OrgNr::parse(provider) {
                Ok(org_nr) if rules.known_providers.contains(org_nr.as_str()) => {
                    Some(DigitalMailbox {
                        address: address.to_owned(),
                        provider: org_nr,
                    })
                }
                Ok(_) => {
                    reasons.push(format!(
                        "postkasseleverandoeradresse {provider} is not a registered mailbox provider"
                    ));
                    None
                }
                Err(error) => {
                    reasons.push(format!("postkasseleverandoeradresse {error}"));
                    None
                }
            },
        };
        let language = match get("spraak") {
            "" => None,
            code => Language::parse(code)
                .map_err(|error| reasons.push(format!("spraak {code:?} {error}")))
                .ok(),
        };
        match (fnr, status) {
            (Some(fnr), Some(status)) if reasons.is_empty() => Ok(Person {
                fnr,
                status,
                reserved,
                reserved_at: reserved.then(|| reserved_at.unwrap_or(rules.now)),
                reservation_updated_at: reservation_updated_at
                    .or(reserved.then_some(reserved_at).flatten()),
                email,
                mobile,
                mailbox,
                language,
                language_updated_at: language.and(language_updated_at),
            }),
            _ => Err(reasons),
        }
    }
}

fn channel<T>(
    value: &str,
    updated: Option<DateTime<Utc>>,
    verified: Option<DateTime<Utc>>,
    column: &str,
    parse: impl Fn(&str) -> Result<T, String>,
    reasons: &mut Vec<String>,
) -> Option<Channel<T>> {
    if value.is_empty() {
        return None;
    }
    let parsed = parse(value)
        .map_err(|reason| reasons.push(format!("{column} {reason}")))
        .ok()?;
    let Some(updated_at) = updated else {
        reasons.push(format!("{column}_oppdatert is needed with {column}"));
        return None;
    };
    Some(Channel {
        value: parsed,
        updated_at,
        verified_at: verified,
    })
}

/// KRR's times, read leniently: RFC 3339 (`2023-06-29T10:14:52+02:00`), the
/// short offset KRR writes (`+02`), local Norwegian time without an offset,
/// or a bare date (taken as midnight in Norway).
pub fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Some(time.with_timezone(&Utc));
    }
    if let Ok(time) = DateTime::parse_from_str(&format!("{text}00"), "%Y-%m-%dT%H:%M:%S%z") {
        return Some(time.with_timezone(&Utc));
    }
    let local = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S")
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S"))
        .ok()
        .or_else(|| {
            NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .ok()
                .and_then(|date| date.and_hms_opt(0, 0, 0))
        })?;
    chrono_tz::Europe::Oslo
        .from_local_datetime(&local)
        .earliest()
        .map(|time| time.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::csv_import::{read_all, BadRow};

    fn rules() -> ImportRules {
        ImportRules {
            synthetic_ids: SyntheticIds::Accepted,
            known_providers: ["999900003".to_owned()].into(),
            now: Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap(),
        }
    }

    fn parse(csv_text: &str) -> (Vec<Person>, Vec<BadRow>) {
        read_all(csv_text, &RegisterRows(rules())).unwrap()
    }

    #[test]
    fn times_are_read_in_every_form_krr_uses() {
        let expected = Utc.with_ymd_and_hms(2023, 6, 29, 8, 14, 52).unwrap();
        assert_eq!(parse_time("2023-06-29T10:14:52+02:00"), Some(expected));
        assert_eq!(parse_time("2023-06-29T10:14:52+02"), Some(expected));
        assert_eq!(parse_time("2023-06-29T08:14:52Z"), Some(expected));
        assert_eq!(parse_time("2023-06-29T10:14:52"), Some(expected));
        assert_eq!(
            parse_time("2023-06-29"),
            Some(Utc.with_ymd_and_hms(2023, 6, 28, 22, 0, 0).unwrap())
        );
        assert_eq!(parse_time("29.06.2023"), None);
    }

    #[test]
    fn good_rows_become_entries_and_bad_rows_are_reported_by_line() {
        let (persons, bad) = parse(
            "personidentifikator,reservasjon,epostadresse,epostadresse_oppdatert,postkasseadresse,postkasseleverandoeradresse,spraak\n\
             14838510036,NEI,kari@example.no,2026-01-01,kari#AB12,999900003,nb\n\
             12345678901,NEI,,,,,\n\
             02917910181,KANSKJE,ola@,2026-01-01,,,\n\
             30869610050,JA,,,ola#X,922020175,xx\n\
             02917910181,,,,,,en\n",
        );
        assert_eq!(persons.len(), 2);
        assert_eq!(
            persons[0].email.as_ref().unwrap().value.as_str(),
            "kari@example.no"
        );
        assert_eq!(persons[0].language, Some(Language::Bokmaal));
        assert_eq!(persons[1].language, Some(Language::English));
        let lines: Vec<u64> = bad.iter().map(|row| row.line).collect();
        assert_eq!(lines, vec![3, 4, 5]);
        assert!(bad[0].reason.contains("personidentifikator"), "{bad:?}");
        assert!(
            bad[1].reason.contains("reservasjon") && bad[1].reason.contains("epostadresse"),
            "{bad:?}"
        );
        assert!(
            bad[2].reason.contains("not a registered mailbox provider"),
            "{bad:?}"
        );
        assert!(bad[2].reason.contains("spraak"), "{bad:?}");
    }

    #[test]
    fn a_reservation_without_a_time_is_dated_at_the_import() {
        let (persons, bad) = parse("personidentifikator,reservasjon\n14838510036,JA\n");
        assert!(bad.is_empty());
        assert!(persons[0].reserved);
        assert_eq!(persons[0].reserved_at, Some(rules().now));
    }

    #[test]
    fn contact_details_need_their_update_time() {
        let (_, bad) = parse("personidentifikator,mobiltelefonnummer\n14838510036,91234567\n");
        assert!(
            bad[0].reason.contains("mobiltelefonnummer_oppdatert"),
            "{bad:?}"
        );
    }

    #[test]
    fn an_unknown_column_refuses_the_whole_file() {
        let error = read_all(
            "personidentifikator,epost\n14838510036,x\n",
            &RegisterRows(rules()),
        )
        .unwrap_err();
        assert!(error.to_string().contains("\"epost\""), "{error}");
    }
}
