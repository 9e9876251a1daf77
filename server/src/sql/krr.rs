//! The contact and reservation register's store in SQL.

use super::{placeholders, Database, Query, Transaction};
use crate::{
    krr::{
        self,
        contact::{EmailAddress, MobileNumber},
        person::{
            change_code, parse_change_code, parse_source_code, source_code, ChangeBy, ChangeWhat,
            Channel, DigitalMailbox, MailboxProvider, Person, PersonStatus, RecordedChange,
            SelfServiceChange,
        },
        proof::{ContactProof, NewAddress, TRIES},
        RegisterEntry, IMPORT_BATCH_ROWS,
    },
    notify,
    store::StorageError,
};
use app::domain::{Fnr, Language, OrgNr, SyntheticIds};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_query::Value;

const ENTRY_COLUMNS: &str = "p.fnr, p.status, p.reserved, p.reserved_at,
    p.reservation_updated_at, p.email, p.email_updated_at, p.email_verified_at, p.mobile,
    p.mobile_updated_at, p.mobile_verified_at, p.mailbox_address, p.provider_org_nr,
    p.language, p.language_updated_at, m.certificate_der";

const ENTRY_FROM: &str =
    "FROM krr_person p LEFT JOIN mailbox_provider m ON m.org_nr = p.provider_org_nr";

#[derive(sqlx::FromRow)]
struct EntryRow {
    fnr: String,
    status: String,
    reserved: bool,
    reserved_at: Option<DateTime<Utc>>,
    reservation_updated_at: Option<DateTime<Utc>>,
    email: Option<String>,
    email_updated_at: Option<DateTime<Utc>>,
    email_verified_at: Option<DateTime<Utc>>,
    mobile: Option<String>,
    mobile_updated_at: Option<DateTime<Utc>>,
    mobile_verified_at: Option<DateTime<Utc>>,
    mailbox_address: Option<String>,
    provider_org_nr: Option<String>,
    language: Option<String>,
    language_updated_at: Option<DateTime<Utc>>,
    certificate_der: Option<Vec<u8>>,
}

fn stored_channel<T>(
    value: Option<String>,
    updated_at: Option<DateTime<Utc>>,
    verified_at: Option<DateTime<Utc>>,
    parse: impl Fn(&str) -> Option<T>,
    what: &str,
) -> Result<Option<Channel<T>>, StorageError> {
    let Some(value) = value else {
        return Ok(None);
    };
    Ok(Some(Channel {
        value: parse(&value).ok_or_else(|| StorageError::corrupt(what))?,
        updated_at: updated_at.ok_or_else(|| StorageError::corrupt(what))?,
        verified_at,
    }))
}

impl EntryRow {
    fn into_entry(self) -> Result<RegisterEntry, StorageError> {
        let mailbox = match (self.mailbox_address, self.provider_org_nr) {
            (Some(address), Some(provider)) => Some(DigitalMailbox {
                address,
                provider: OrgNr::parse(&provider).map_err(|_| StorageError::corrupt("provider"))?,
            }),
            _ => None,
        };
        let person = Person {
            fnr: Fnr::parse(&self.fnr, SyntheticIds::Accepted)
                .map_err(|_| StorageError::corrupt("national id"))?,
            status: PersonStatus::parse(&self.status)
                .ok_or_else(|| StorageError::corrupt("status"))?,
            reserved: self.reserved,
            reserved_at: self.reserved_at,
            reservation_updated_at: self.reservation_updated_at,
            email: stored_channel(
                self.email,
                self.email_updated_at,
                self.email_verified_at,
                |value| EmailAddress::parse(value).ok(),
                "e-mail address",
            )?,
            mobile: stored_channel(
                self.mobile,
                self.mobile_updated_at,
                self.mobile_verified_at,
                |value| MobileNumber::parse(value).ok(),
                "mobile number",
            )?,
            mailbox,
            language: self
                .language
                .map(|code| Language::parse(&code).map_err(|_| StorageError::corrupt("language")))
                .transpose()?,
            language_updated_at: self.language_updated_at,
        };
        Ok(RegisterEntry {
            person,
            certificate_der: self.certificate_der,
        })
    }
}

#[derive(sqlx::FromRow)]
struct ChangeRow {
    changed_at: DateTime<Utc>,
    field: String,
    value: Option<String>,
    source: String,
}

impl ChangeRow {
    fn into_change(self) -> Result<RecordedChange, StorageError> {
        Ok(RecordedChange {
            at: self.changed_at,
            what: parse_change_code(&self.field)
                .ok_or_else(|| StorageError::corrupt("change kind"))?,
            value: self.value,
            by: parse_source_code(&self.source)
                .ok_or_else(|| StorageError::corrupt("change source"))?,
        })
    }
}

#[derive(sqlx::FromRow)]
struct ProviderRow {
    org_nr: String,
    name: String,
    endpoint: Option<String>,
    certificate_der: Vec<u8>,
}

impl ProviderRow {
    fn into_provider(self) -> Result<MailboxProvider, StorageError> {
        Ok(MailboxProvider {
            org_nr: OrgNr::parse(&self.org_nr).map_err(|_| StorageError::corrupt("provider"))?,
            name: self.name,
            endpoint: self.endpoint,
            certificate_der: self.certificate_der,
        })
    }
}

/// The one statement a self-service change is: its SQL (with `$1` the national
/// id and `$2` the time) and the values it binds after those.
enum ChangeValues<'a> {
    None,
    Text(Option<&'a str>),
    Pair(&'a str, &'a str),
}

fn self_service_statement(change: &SelfServiceChange) -> (&'static str, ChangeValues<'_>) {
    match change {
        SelfServiceChange::Email(email) => (
            // An address is stored only once proven (krr::proof), so it is
            // confirmed when it is stored; removing one removes both times' use.
            "UPDATE krr_person SET email = $3, email_updated_at = $2,
                 email_verified_at = CASE WHEN $3 IS NULL THEN NULL ELSE $2 END,
                 updated_at = $2
             WHERE fnr = $1",
            ChangeValues::Text(email.as_ref().map(EmailAddress::as_str)),
        ),
        SelfServiceChange::Mobile(mobile) => (
            "UPDATE krr_person SET mobile = $3, mobile_updated_at = $2,
                 mobile_verified_at = CASE WHEN $3 IS NULL THEN NULL ELSE $2 END,
                 updated_at = $2
             WHERE fnr = $1",
            ChangeValues::Text(mobile.as_ref().map(MobileNumber::as_str)),
        ),
        SelfServiceChange::Confirm => (
            // Renews only what was proven once: an address never proven
            // needs its code, not a click.
            "UPDATE krr_person SET
                 email_verified_at = CASE WHEN email IS NULL OR email_verified_at IS NULL
                     THEN email_verified_at ELSE $2 END,
                 mobile_verified_at = CASE WHEN mobile IS NULL OR mobile_verified_at IS NULL
                     THEN mobile_verified_at ELSE $2 END,
                 updated_at = $2
             WHERE fnr = $1",
            ChangeValues::None,
        ),
        SelfServiceChange::Reserve => (
            // Reserving again keeps the time of the reservation in force.
            "UPDATE krr_person SET reserved_at = CASE WHEN reserved THEN reserved_at ELSE $2 END,
                 reserved = TRUE, reservation_updated_at = $2, updated_at = $2
             WHERE fnr = $1",
            ChangeValues::None,
        ),
        SelfServiceChange::WithdrawReservation => (
            "UPDATE krr_person SET reserved = FALSE, reserved_at = NULL,
                 reservation_updated_at = $2, updated_at = $2
             WHERE fnr = $1",
            ChangeValues::None,
        ),
        SelfServiceChange::Mailbox(mailbox) => (
            "UPDATE krr_person SET mailbox_address = $3, provider_org_nr = $4, updated_at = $2
             WHERE fnr = $1",
            ChangeValues::Pair(&mailbox.address, mailbox.provider.as_str()),
        ),
        SelfServiceChange::Language(language) => (
            "UPDATE krr_person SET language = $3, language_updated_at = $2, updated_at = $2
             WHERE fnr = $1",
            ChangeValues::Text(Some(language.code())),
        ),
    }
}

/// Keeps the last entry for each person, in first-seen order: a multi-row
/// upsert may not touch one row twice (PostgreSQL refuses).
fn last_entry_per_person(persons: &[Person]) -> Vec<&Person> {
    let mut position = std::collections::HashMap::new();
    let mut kept: Vec<&Person> = Vec::with_capacity(persons.len());
    for person in persons {
        match position.get(person.fnr.as_str()) {
            Some(&index) => kept[index] = person,
            None => {
                position.insert(person.fnr.as_str(), kept.len());
                kept.push(person);
            }
        }
    }
    kept
}

const IMPORT_UPSERT_HEAD: &str = "INSERT INTO krr_person (fnr, status, reserved,
    reserved_at, reservation_updated_at, email, email_updated_at, email_verified_at, mobile,
    mobile_updated_at, mobile_verified_at, mailbox_address, provider_org_nr, language,
    language_updated_at, updated_at) ";

const IMPORT_UPSERT_TAIL: &str = " ON CONFLICT (fnr) DO UPDATE SET
    status = excluded.status, reserved = excluded.reserved, reserved_at = excluded.reserved_at,
    reservation_updated_at = excluded.reservation_updated_at, email = excluded.email,
    email_updated_at = excluded.email_updated_at, email_verified_at = excluded.email_verified_at,
    mobile = excluded.mobile, mobile_updated_at = excluded.mobile_updated_at,
    mobile_verified_at = excluded.mobile_verified_at, mailbox_address = excluded.mailbox_address,
    provider_org_nr = excluded.provider_org_nr, language = excluded.language,
    language_updated_at = excluded.language_updated_at, updated_at = excluded.updated_at
  WHERE krr_person.status IS DISTINCT FROM excluded.status
    OR krr_person.reserved IS DISTINCT FROM excluded.reserved
    OR krr_person.reserved_at IS DISTINCT FROM excluded.reserved_at
    OR krr_person.reservation_updated_at IS DISTINCT FROM excluded.reservation_updated_at
    OR krr_person.email IS DISTINCT FROM excluded.email
    OR krr_person.email_updated_at IS DISTINCT FROM excluded.email_updated_at
    OR krr_person.email_verified_at IS DISTINCT FROM excluded.email_verified_at
    OR krr_person.mobile IS DISTINCT FROM excluded.mobile
    OR krr_person.mobile_updated_at IS DISTINCT FROM excluded.mobile_updated_at
    OR krr_person.mobile_verified_at IS DISTINCT FROM excluded.mobile_verified_at
    OR krr_person.mailbox_address IS DISTINCT FROM excluded.mailbox_address
    OR krr_person.provider_org_nr IS DISTINCT FROM excluded.provider_org_nr
    OR krr_person.language IS DISTINCT FROM excluded.language
    OR krr_person.language_updated_at IS DISTINCT FROM excluded.language_updated_at
  RETURNING fnr";

/// One change the citizen made, and its line in their trail, in the
/// caller's transaction; creates a blank active entry first if there is none.
async fn apply_self_service_in(
    transaction: &mut Transaction,
    fnr: &Fnr,
    change: &SelfServiceChange,
    at: DateTime<Utc>,
) -> Result<(), StorageError> {
    transaction
        .execute(
            Query::new(
                "INSERT INTO krr_person (fnr, status, reserved, updated_at)
                 VALUES ($1, 'AKTIV', FALSE, $2)
                 ON CONFLICT (fnr) DO NOTHING",
            )
            .bind(fnr.as_str())
            .bind(at),
        )
        .await?;
    let (sql, values) = self_service_statement(change);
    let query = Query::new(sql).bind(fnr.as_str()).bind(at);
    let query = match values {
        ChangeValues::None => query,
        ChangeValues::Text(text) => query.bind(text),
        ChangeValues::Pair(first, second) => query.bind(first).bind(second),
    };
    transaction.execute(query).await?;
    let (kind, value) = change.describe();
    transaction
        .execute(
            Query::new(
                "INSERT INTO krr_change (fnr, changed_at, field, value, source)
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(fnr.as_str())
            .bind(at)
            .bind(change_code(kind))
            .bind(value)
            .bind(source_code(ChangeBy::Citizen)),
        )
        .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct ProofRow {
    id: uuid::Uuid,
    fnr: String,
    channel: String,
    address: String,
    code_sha256: Vec<u8>,
    sent_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    tries: i32,
}

impl ProofRow {
    fn into_proof(self) -> Result<ContactProof, StorageError> {
        let channel =
            notify::parse_channel(&self.channel).ok_or(StorageError::corrupt("proof channel"))?;
        Ok(ContactProof {
            id: self.id,
            fnr: Fnr::parse(&self.fnr, SyntheticIds::Accepted)
                .map_err(|_| StorageError::corrupt("national id"))?,
            address: NewAddress::stored(channel, &self.address)
                .ok_or(StorageError::corrupt("proof address"))?,
            code_sha256: self.code_sha256,
            sent_at: self.sent_at,
            expires_at: self.expires_at,
            tries: u32::try_from(self.tries).unwrap_or(u32::MAX),
        })
    }
}

#[derive(sqlx::FromRow)]
struct CountRow {
    count: i64,
}

#[derive(sqlx::FromRow)]
struct TriesRow {
    tries: i32,
}

#[async_trait]
impl krr::Store for Database {
    async fn register_entries(&self, ids: &[Fnr]) -> Result<Vec<RegisterEntry>, StorageError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut query = Query::new(format!(
            "SELECT {ENTRY_COLUMNS} {ENTRY_FROM} WHERE p.fnr IN ({})",
            placeholders(1, ids.len())
        ));
        for id in ids {
            query = query.bind(id.as_str());
        }
        let rows: Vec<EntryRow> = self.fetch_all(query).await?;
        rows.into_iter().map(EntryRow::into_entry).collect()
    }

    async fn register_entry(&self, fnr: &Fnr) -> Result<Option<RegisterEntry>, StorageError> {
        let row: Option<EntryRow> = self
            .fetch_optional(
                Query::new(format!(
                    "SELECT {ENTRY_COLUMNS} {ENTRY_FROM} WHERE p.fnr = $1"
                ))
                .bind(fnr.as_str()),
            )
            .await?;
        row.map(EntryRow::into_entry).transpose()
    }

    async fn entry_by_mailbox_address(
        &self,
        provider: &OrgNr,
        address: &str,
    ) -> Result<Option<RegisterEntry>, StorageError> {
        let row: Option<EntryRow> = self
            .fetch_optional(
                Query::new(format!(
                    "SELECT {ENTRY_COLUMNS} {ENTRY_FROM}
                     WHERE p.provider_org_nr = $1 AND p.mailbox_address = $2"
                ))
                .bind(provider.as_str())
                .bind(address),
            )
            .await?;
        row.map(EntryRow::into_entry).transpose()
    }

    async fn apply_self_service(
        &self,
        fnr: &Fnr,
        change: &SelfServiceChange,
        at: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        let mut transaction = self.begin().await?;
        apply_self_service_in(&mut transaction, fnr, change, at).await?;
        transaction.commit().await
    }

    async fn insert_contact_proof(
        &self,
        proof: &ContactProof,
        stale_before: DateTime<Utc>,
        (since, max): (DateTime<Utc>, u32),
    ) -> Result<bool, StorageError> {
        let mut transaction = self.begin_write().await?;
        // Holds the person for the count and the insert: SQLite's write
        // transaction is the only writer; PostgreSQL locks their row.
        transaction
            .execute(
                Query::new(format!(
                    "SELECT fnr FROM citizen WHERE fnr = $1 {}",
                    self.for_update()
                ))
                .bind(proof.fnr.as_str()),
            )
            .await?;
        let sent: Option<CountRow> = transaction
            .fetch_optional(
                Query::new(
                    "SELECT COUNT(*) AS count FROM contact_proof WHERE fnr = $1 AND sent_at >= $2",
                )
                .bind(proof.fnr.as_str())
                .bind(since),
            )
            .await?;
        let sent = sent.map_or(0, |row| row.count);
        if u32::try_from(sent).unwrap_or(u32::MAX) >= max {
            return Ok(false);
        }
        transaction
            .execute(Query::new("DELETE FROM contact_proof WHERE sent_at < $1").bind(stale_before))
            .await?;
        // A new code replaces the one before on the channel.
        transaction
            .execute(
                Query::new(
                    "UPDATE contact_proof SET replaced = TRUE
                     WHERE fnr = $1 AND channel = $2 AND proven_at IS NULL AND NOT replaced",
                )
                .bind(proof.fnr.as_str())
                .bind(notify::channel_code(proof.address.channel())),
            )
            .await?;
        transaction
            .execute(
                Query::new(
                    "INSERT INTO contact_proof (id, fnr, channel, address, code_sha256, sent_at,
                         expires_at, tries)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(proof.id)
                .bind(proof.fnr.as_str())
                .bind(notify::channel_code(proof.address.channel()))
                .bind(proof.address.as_str())
                .bind(proof.code_sha256.clone())
                .bind(proof.sent_at)
                .bind(proof.expires_at)
                .bind(i32::try_from(proof.tries).unwrap_or(i32::MAX)),
            )
            .await?;
        transaction.commit().await?;
        Ok(true)
    }

    async fn open_contact_proofs(&self, fnr: &Fnr) -> Result<Vec<ContactProof>, StorageError> {
        let rows: Vec<ProofRow> = self
            .fetch_all(
                Query::new(
                    "SELECT id, fnr, channel, address, code_sha256, sent_at, expires_at, tries
                     FROM contact_proof
                     WHERE fnr = $1 AND proven_at IS NULL AND NOT replaced
                     ORDER BY sent_at DESC",
                )
                .bind(fnr.as_str()),
            )
            .await?;
        rows.into_iter().map(ProofRow::into_proof).collect()
    }

    async fn take_try(
        &self,
        proof: &ContactProof,
        now: DateTime<Utc>,
    ) -> Result<Option<u32>, StorageError> {
        let row: Option<TriesRow> = self
            .fetch_optional(
                Query::new(
                    "UPDATE contact_proof SET tries = tries + 1
                     WHERE id = $1 AND fnr = $2 AND proven_at IS NULL AND NOT replaced
                       AND tries < $3 AND expires_at > $4
                     RETURNING tries",
                )
                .bind(proof.id)
                .bind(proof.fnr.as_str())
                .bind(i32::try_from(TRIES).unwrap_or(i32::MAX))
                .bind(now),
            )
            .await?;
        Ok(row.map(|row| u32::try_from(row.tries).unwrap_or(u32::MAX)))
    }

    async fn prove_contact(
        &self,
        proof: &ContactProof,
        at: DateTime<Utc>,
    ) -> Result<bool, StorageError> {
        let mut transaction = self.begin().await?;
        // Of two submits of one code, one wins; a code that expired since
        // its try was taken proves nothing.
        let claimed = transaction
            .execute(
                Query::new(
                    "UPDATE contact_proof SET proven_at = $3
                     WHERE id = $1 AND fnr = $2 AND proven_at IS NULL AND NOT replaced
                       AND expires_at > $3",
                )
                .bind(proof.id)
                .bind(proof.fnr.as_str())
                .bind(at),
            )
            .await?;
        if claimed != 1 {
            return Ok(false);
        }
        apply_self_service_in(&mut transaction, &proof.fnr, &proof.address.change(), at).await?;
        transaction.commit().await?;
        Ok(true)
    }

    async fn register_changes(&self, fnr: &Fnr) -> Result<Vec<RecordedChange>, StorageError> {
        let rows: Vec<ChangeRow> = self
            .fetch_all(
                Query::new(
                    "SELECT changed_at, field, value, source FROM krr_change
                     WHERE fnr = $1 ORDER BY changed_at DESC, id DESC",
                )
                .bind(fnr.as_str()),
            )
            .await?;
        rows.into_iter().map(ChangeRow::into_change).collect()
    }

    async fn import_entries(
        &self,
        persons: &[Person],
        at: DateTime<Utc>,
    ) -> Result<u64, StorageError> {
        let persons = last_entry_per_person(persons);
        if persons.is_empty() {
            return Ok(0);
        }
        if persons.len() > IMPORT_BATCH_ROWS {
            return Err(anyhow::anyhow!(
                "an import batch holds at most {IMPORT_BATCH_ROWS} persons"
            )
            .into());
        }
        let upsert = Query::new(IMPORT_UPSERT_HEAD)
            .values(persons.into_iter().map(|person| import_row(person, at)))
            .push(IMPORT_UPSERT_TAIL);
        let mut transaction = self.begin().await?;
        let written: Vec<(String,)> = transaction.fetch_all(upsert).await?;
        if !written.is_empty() {
            let trail =
                Query::new("INSERT INTO krr_change (fnr, changed_at, field, value, source)")
                    .values(written.iter().map(|(fnr,)| {
                        vec![
                            Value::from(fnr.as_str()),
                            Value::from(at),
                            Value::from(change_code(ChangeWhat::Imported)),
                            Value::from(None::<String>),
                            Value::from(source_code(ChangeBy::Import)),
                        ]
                    }));
            transaction.execute(trail).await?;
        }
        transaction.commit().await?;
        Ok(written.len() as u64)
    }

    async fn mailbox_providers(&self) -> Result<Vec<MailboxProvider>, StorageError> {
        let rows: Vec<ProviderRow> = self
            .fetch_all(Query::new(
                "SELECT org_nr, name, endpoint, certificate_der FROM mailbox_provider
                 ORDER BY endpoint IS NOT NULL, name",
            ))
            .await?;
        rows.into_iter().map(ProviderRow::into_provider).collect()
    }

    async fn mailbox_provider(
        &self,
        org_nr: &OrgNr,
    ) -> Result<Option<MailboxProvider>, StorageError> {
        let row: Option<ProviderRow> = self
            .fetch_optional(
                Query::new(
                    "SELECT org_nr, name, endpoint, certificate_der FROM mailbox_provider
                     WHERE org_nr = $1",
                )
                .bind(org_nr.as_str()),
            )
            .await?;
        row.map(ProviderRow::into_provider).transpose()
    }

    async fn upsert_mailbox_provider(
        &self,
        provider: &MailboxProvider,
    ) -> Result<(), StorageError> {
        self.execute(
            Query::new(
                "INSERT INTO mailbox_provider (org_nr, name, endpoint, certificate_der, created_at)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (org_nr) DO UPDATE SET name = excluded.name,
                     endpoint = excluded.endpoint, certificate_der = excluded.certificate_der",
            )
            .bind(provider.org_nr.as_str())
            .bind(provider.name.as_str())
            .bind(provider.endpoint.as_deref())
            .bind(provider.certificate_der.clone())
            .bind(Utc::now()),
        )
        .await?;
        Ok(())
    }
}

/// The values of one person's row, in [`IMPORT_UPSERT_HEAD`]'s column order.
fn import_row(person: &Person, at: DateTime<Utc>) -> Vec<Value> {
    let email = person.email.as_ref();
    let mobile = person.mobile.as_ref();
    let mailbox = person.mailbox.as_ref();
    vec![
        Value::from(person.fnr.as_str()),
        Value::from(person.status.code()),
        Value::from(person.reserved),
        Value::from(person.reserved_at),
        Value::from(person.reservation_updated_at),
        Value::from(email.map(|channel| channel.value.as_str().to_owned())),
        Value::from(email.map(|channel| channel.updated_at)),
        Value::from(email.and_then(|channel| channel.verified_at)),
        Value::from(mobile.map(|channel| channel.value.as_str().to_owned())),
        Value::from(mobile.map(|channel| channel.updated_at)),
        Value::from(mobile.and_then(|channel| channel.verified_at)),
        Value::from(mailbox.map(|mailbox| mailbox.address.clone())),
        Value::from(mailbox.map(|mailbox| mailbox.provider.as_str().to_owned())),
        Value::from(person.language.map(|language| language.code())),
        Value::from(person.language_updated_at),
        Value::from(at),
    ]
}
