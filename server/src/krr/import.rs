//! Bulk import of register entries from CSV, for operators
//! (`postkasse krr import FILE.csv`) and the demo's synthetic population.
//!
//! The header names KRR's fields; `personidentifikator` is required, every
//! other column optional. Each row is checked on its own: good rows are
//! written in batches of [`IMPORT_BATCH_ROWS`], each batch one transaction;
//! bad rows are reported with their line number and reason and change
//! nothing. Importing the same file again writes nothing new.
//!
//! Parsing runs on a blocking thread (it reads a file) and hands batches to
//! the async side over a channel, so reading and writing overlap.

use super::{
    contact::{EmailAddress, MobileNumber},
    person::{Channel, DigitalMailbox, Person, PersonStatus},
};
use super::{Store, IMPORT_BATCH_ROWS};
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

/// A row that was not imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRow {
    /// 1-based line number in the file (the header is line 1).
    pub line: u64,
    pub reason: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Data rows read (good and bad).
    pub rows: u64,
    /// Entries inserted or changed.
    pub written: u64,
    /// Good rows whose entry was already stored exactly so.
    pub unchanged: u64,
    pub bad_rows: Vec<BadRow>,
}

impl ImportReport {
    pub fn is_clean(&self) -> bool {
        self.bad_rows.is_empty()
    }
}

/// Where the import reports how far it has come; the CLI draws a bar.
pub trait Progress: Send + Sync {
    /// The input's size in bytes, when known.
    fn start(&self, total_bytes: Option<u64>);
    /// `bytes` of the input have been read and their rows stored.
    fn advance(&self, bytes: u64, rows: u64);
    fn finish(&self);
}

/// For imports nobody watches (the demo, tests).
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _: Option<u64>) {}
    fn advance(&self, _: u64, _: u64) {}
    fn finish(&self) {}
}

impl Progress for indicatif::ProgressBar {
    fn start(&self, total_bytes: Option<u64>) {
        if let Some(total) = total_bytes {
            self.set_length(total);
        }
    }
    fn advance(&self, bytes: u64, rows: u64) {
        self.set_position(bytes);
        self.set_message(format!("{rows} rows"));
    }
    fn finish(&self) {
        self.finish();
    }
}

/// What parsing needs to know besides the text.
#[derive(Debug, Clone)]
pub struct ImportRules {
    pub synthetic_ids: SyntheticIds,
    /// Organisation numbers of registered mailbox providers.
    pub known_providers: HashSet<String>,
    /// Used for a reservation without `reservasjonstidspunkt`.
    pub now: DateTime<Utc>,
}

struct Batch {
    persons: Vec<Person>,
    bad_rows: Vec<BadRow>,
    rows: u64,
    bytes_read: u64,
}

/// Imports every good row of `input` into the register.
pub async fn import_csv(
    store: &dyn Store,
    input: impl Read + Send + 'static,
    total_bytes: Option<u64>,
    rules: ImportRules,
    progress: &dyn Progress,
) -> anyhow::Result<ImportReport> {
    progress.start(total_bytes);
    let now = rules.now;
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<Batch>(4);
    let parser = tokio::task::spawn_blocking(move || parse_batches(input, &rules, &sender));
    let mut report = ImportReport::default();
    while let Some(batch) = receiver.recv().await {
        let written = store
            .import_entries(&batch.persons, now)
            .await
            .context("cannot store imported entries")?;
        report.rows += batch.rows;
        report.written += written;
        report.unchanged += batch.persons.len() as u64 - written.min(batch.persons.len() as u64);
        report.bad_rows.extend(batch.bad_rows);
        progress.advance(batch.bytes_read, report.rows);
    }
    // The parser's own failure (an unreadable file or header) comes last, once
    // the channel has closed.
    parser.await.context("the CSV reader stopped")??;
    progress.finish();
    Ok(report)
}

fn parse_batches(
    input: impl Read,
    rules: &ImportRules,
    sender: &tokio::sync::mpsc::Sender<Batch>,
) -> anyhow::Result<()> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(input);
    let header = reader
        .headers()
        .context("cannot read the CSV header")?
        .clone();
    let columns = Columns::from_header(&header)?;
    let mut batch = new_batch();
    let mut record = csv::StringRecord::new();
    loop {
        let line = reader.position().line() + 1;
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                batch.rows += 1;
                let line = record.position().map_or(line, |position| position.line());
                match columns.person(&record, rules) {
                    Ok(person) => batch.persons.push(person),
                    Err(reasons) => batch.bad_rows.push(BadRow {
                        line,
                        reason: reasons.join("; "),
                    }),
                }
            }
            Err(error) => {
                // A broken row (bad UTF-8, say) is reported; the file goes on.
                batch.rows += 1;
                batch.bad_rows.push(BadRow {
                    line: error.position().map_or(line, |position| position.line()),
                    reason: format!("cannot be read: {error}"),
                });
                if !matches!(
                    error.kind(),
                    csv::ErrorKind::Utf8 { .. } | csv::ErrorKind::UnequalLengths { .. }
                ) {
                    return Err(error).context("cannot read the CSV file");
                }
            }
        }
        if batch.persons.len() >= IMPORT_BATCH_ROWS {
            batch.bytes_read = reader.position().byte();
            let full = std::mem::replace(&mut batch, new_batch());
            if sender.blocking_send(full).is_err() {
                return Ok(()); // The writer stopped; its error is reported there.
            }
        }
    }
    batch.bytes_read = reader.position().byte();
    let _ = sender.blocking_send(batch);
    Ok(())
}

fn new_batch() -> Batch {
    Batch {
        persons: Vec::with_capacity(IMPORT_BATCH_ROWS),
        bad_rows: Vec::new(),
        rows: 0,
        bytes_read: 0,
    }
}

/// Where each known column is in this file.
struct Columns {
    index: [Option<usize>; COLUMNS.len()],
}

impl Columns {
    fn from_header(header: &csv::StringRecord) -> anyhow::Result<Columns> {
        let mut index = [None; COLUMNS.len()];
        for (position, name) in header.iter().enumerate() {
            let known = COLUMNS
                .iter()
                .position(|column| column.eq_ignore_ascii_case(name))
                .with_context(|| {
                    format!(
                        "the header names an unknown column {name:?}; known columns: {}",
                        COLUMNS.join(", ")
                    )
                })?;
            anyhow::ensure!(index[known].is_none(), "the header names {name:?} twice");
            index[known] = Some(position);
        }
        anyhow::ensure!(
            index[0].is_some(),
            "the header must name the column personidentifikator"
        );
        Ok(Columns { index })
    }

    fn get<'r>(&self, record: &'r csv::StringRecord, column: &str) -> &'r str {
        let known = COLUMNS
            .iter()
            .position(|name| *name == column)
            .expect("a known column");
        self.index[known]
            .and_then(|position| record.get(position))
            .unwrap_or_default()
    }

    fn person(
        &self,
        record: &csv::StringRecord,
        rules: &ImportRules,
    ) -> Result<Person, Vec<String>> {
        let mut reasons = Vec::new();
        let get = |column: &str| self.get(record, column);
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

        let fnr = Fnr::parse(get("personidentifikator"), rules.synthetic_ids)
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

    fn rules() -> ImportRules {
        ImportRules {
            synthetic_ids: SyntheticIds::Accepted,
            known_providers: ["999900003".to_owned()].into(),
            now: Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap(),
        }
    }

    fn parse(csv_text: &str) -> (Vec<Person>, Vec<BadRow>) {
        let (sender, mut receiver) = tokio::sync::mpsc::channel(100);
        parse_batches(csv_text.as_bytes(), &rules(), &sender).unwrap();
        drop(sender);
        let mut persons = Vec::new();
        let mut bad = Vec::new();
        while let Ok(batch) = receiver.try_recv() {
            persons.extend(batch.persons);
            bad.extend(batch.bad_rows);
        }
        (persons, bad)
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
        let (sender, _receiver) = tokio::sync::mpsc::channel(1);
        let error = parse_batches(
            "personidentifikator,epost\n14838510036,x\n".as_bytes(),
            &rules(),
            &sender,
        )
        .unwrap_err();
        assert!(error.to_string().contains("\"epost\""), "{error}");
    }
}
