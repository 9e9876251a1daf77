//! The register's part of the storage boundary: KRR entries, their audit
//! trail, mailbox providers and agencies' access tokens.
//!
//! Like the rest of [`Storage`](super::Storage), one body of SQL serves SQLite
//! and PostgreSQL: [`impl_sql_register!`] expands it for each backend.

use super::StorageError;
use crate::krr::{
    contact::{EmailAddress, MobileNumber},
    person::{
        parse_change_code, parse_source_code, Channel, DigitalMailbox, MailboxProvider, Person,
        PersonStatus, RecordedChange, SelfServiceChange,
    },
};
use anyhow::anyhow;
use app::domain::{Fnr, Language, OrgNr, SyntheticIds};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// How many persons one import statement writes: 16 parameters a row stays
/// well under SQLite's 32,766 and PostgreSQL's 65,535 bound parameters.
pub const IMPORT_BATCH_ROWS: usize = 500;

/// A register entry with the certificate of the person's mailbox provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisterEntry {
    pub person: Person,
    pub certificate_der: Option<Vec<u8>>,
}

/// A bearer token an operator issued, stored by its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAccessToken {
    pub token_hash: String,
    pub client_name: String,
    pub org_nr: OrgNr,
    pub scopes: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

#[async_trait]
pub trait RegisterStorage: Send + Sync + 'static {
    /// The entries of those of `ids` the register knows, in no particular order.
    async fn register_entries(&self, ids: &[Fnr]) -> Result<Vec<RegisterEntry>, StorageError>;

    async fn register_entry(&self, fnr: &Fnr) -> Result<Option<RegisterEntry>, StorageError>;

    /// Applies one change the citizen made and records it in their audit trail,
    /// in one transaction; creates a blank active entry first if there is none.
    async fn apply_self_service(
        &self,
        fnr: &Fnr,
        change: &SelfServiceChange,
        at: DateTime<Utc>,
    ) -> Result<(), StorageError>;

    /// The person's audit trail, newest first.
    async fn register_changes(&self, fnr: &Fnr) -> Result<Vec<RecordedChange>, StorageError>;

    /// Inserts or replaces up to [`IMPORT_BATCH_ROWS`] entries in one
    /// transaction; an entry that is already stored exactly as given is left
    /// alone. Each entry written gets an `import` line in its audit trail.
    /// Returns how many were written. Later entries for the same person win.
    async fn import_entries(
        &self,
        persons: &[Person],
        at: DateTime<Utc>,
    ) -> Result<u64, StorageError>;

    async fn mailbox_providers(&self) -> Result<Vec<MailboxProvider>, StorageError>;

    /// Registers a provider, or updates its name, endpoint and certificate.
    async fn upsert_mailbox_provider(&self, provider: &MailboxProvider)
        -> Result<(), StorageError>;

    async fn insert_access_token(&self, token: &StoredAccessToken) -> Result<(), StorageError>;

    async fn access_token(
        &self,
        token_hash: &str,
    ) -> Result<Option<StoredAccessToken>, StorageError>;
}

fn corrupt(what: &str) -> StorageError {
    StorageError::Other(anyhow!("stored {what} does not parse"))
}

pub(super) const ENTRY_COLUMNS: &str = "p.fnr, p.status, p.reserved, p.reserved_at,
    p.reservation_updated_at, p.email, p.email_updated_at, p.email_verified_at, p.mobile,
    p.mobile_updated_at, p.mobile_verified_at, p.mailbox_address, p.provider_org_nr,
    p.language, p.language_updated_at, m.certificate_der";

pub(super) const ENTRY_FROM: &str =
    "FROM krr_person p LEFT JOIN mailbox_provider m ON m.org_nr = p.provider_org_nr";

#[derive(sqlx::FromRow)]
pub(super) struct EntryRow {
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
        value: parse(&value).ok_or_else(|| corrupt(what))?,
        updated_at: updated_at.ok_or_else(|| corrupt(what))?,
        verified_at,
    }))
}

impl EntryRow {
    pub fn into_entry(self) -> Result<RegisterEntry, StorageError> {
        let mailbox = match (self.mailbox_address, self.provider_org_nr) {
            (Some(address), Some(provider)) => Some(DigitalMailbox {
                address,
                provider: OrgNr::parse(&provider).map_err(|_| corrupt("provider"))?,
            }),
            _ => None,
        };
        let person = Person {
            fnr: Fnr::parse(&self.fnr, SyntheticIds::Accepted)
                .map_err(|_| corrupt("national id"))?,
            status: PersonStatus::parse(&self.status).ok_or_else(|| corrupt("status"))?,
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
                .map(|code| Language::parse(&code).map_err(|_| corrupt("language")))
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
pub(super) struct ChangeRow {
    changed_at: DateTime<Utc>,
    field: String,
    value: Option<String>,
    source: String,
}

impl ChangeRow {
    pub fn into_change(self) -> Result<RecordedChange, StorageError> {
        Ok(RecordedChange {
            at: self.changed_at,
            what: parse_change_code(&self.field).ok_or_else(|| corrupt("change kind"))?,
            value: self.value,
            by: parse_source_code(&self.source).ok_or_else(|| corrupt("change source"))?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct ProviderRow {
    org_nr: String,
    name: String,
    endpoint: Option<String>,
    certificate_der: Vec<u8>,
}

impl ProviderRow {
    pub fn into_provider(self) -> Result<MailboxProvider, StorageError> {
        Ok(MailboxProvider {
            org_nr: OrgNr::parse(&self.org_nr).map_err(|_| corrupt("provider"))?,
            name: self.name,
            endpoint: self.endpoint,
            certificate_der: self.certificate_der,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct AccessTokenRow {
    token_hash: String,
    client_name: String,
    org_nr: String,
    scopes: String,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
}

impl AccessTokenRow {
    pub fn into_token(self) -> Result<StoredAccessToken, StorageError> {
        Ok(StoredAccessToken {
            token_hash: self.token_hash,
            client_name: self.client_name,
            org_nr: OrgNr::parse(&self.org_nr).map_err(|_| corrupt("org number"))?,
            scopes: self.scopes.split_whitespace().map(str::to_owned).collect(),
            created_at: self.created_at,
            expires_at: self.expires_at,
        })
    }
}

/// `$1, $2, …, $n`, for `IN (…)` lists of bound values.
pub(super) fn placeholders(count: usize) -> String {
    (1..=count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The one statement a self-service change is: its SQL (with `$1` the national
/// id and `$2` the time) and the values it binds after those.
pub(super) enum ChangeValues<'a> {
    None,
    Text(Option<&'a str>),
    Pair(&'a str, &'a str),
}

pub(super) fn self_service_statement(
    change: &SelfServiceChange,
) -> (&'static str, ChangeValues<'_>) {
    match change {
        SelfServiceChange::Email(email) => (
            "UPDATE krr_person SET email = $3, email_updated_at = $2, email_verified_at = NULL,
                 updated_at = $2
             WHERE fnr = $1",
            ChangeValues::Text(email.as_ref().map(EmailAddress::as_str)),
        ),
        SelfServiceChange::Mobile(mobile) => (
            "UPDATE krr_person SET mobile = $3, mobile_updated_at = $2, mobile_verified_at = NULL,
                 updated_at = $2
             WHERE fnr = $1",
            ChangeValues::Text(mobile.as_ref().map(MobileNumber::as_str)),
        ),
        SelfServiceChange::Confirm => (
            "UPDATE krr_person SET
                 email_verified_at = CASE WHEN email IS NULL THEN email_verified_at ELSE $2 END,
                 mobile_verified_at = CASE WHEN mobile IS NULL THEN mobile_verified_at ELSE $2 END,
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
pub(super) fn last_entry_per_person(persons: &[Person]) -> Vec<&Person> {
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

pub(super) const IMPORT_UPSERT_HEAD: &str = "INSERT INTO krr_person (fnr, status, reserved,
    reserved_at, reservation_updated_at, email, email_updated_at, email_verified_at, mobile,
    mobile_updated_at, mobile_verified_at, mailbox_address, provider_org_nr, language,
    language_updated_at, updated_at) ";

pub(super) const IMPORT_UPSERT_TAIL: &str = " ON CONFLICT (fnr) DO UPDATE SET
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

/// Implements [`RegisterStorage`] for a type with a `pool` field of a sqlx pool
/// of database `$db`.
macro_rules! impl_sql_register {
    ($storage:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::storage::register::RegisterStorage for $storage {
            async fn register_entries(
                &self,
                ids: &[app::domain::Fnr],
            ) -> Result<Vec<$crate::storage::register::RegisterEntry>, $crate::storage::StorageError> {
                use $crate::storage::register::{placeholders, EntryRow, ENTRY_COLUMNS, ENTRY_FROM};
                if ids.is_empty() {
                    return Ok(Vec::new());
                }
                let sql = format!(
                    "SELECT {ENTRY_COLUMNS} {ENTRY_FROM} WHERE p.fnr IN ({})",
                    placeholders(ids.len())
                );
                let mut query = sqlx::query_as::<_, EntryRow>(&sql);
                for id in ids {
                    query = query.bind(id.as_str());
                }
                let rows = query.fetch_all(&self.pool).await?;
                rows.into_iter().map(EntryRow::into_entry).collect()
            }

            async fn register_entry(
                &self,
                fnr: &app::domain::Fnr,
            ) -> Result<Option<$crate::storage::register::RegisterEntry>, $crate::storage::StorageError> {
                use $crate::storage::register::{EntryRow, ENTRY_COLUMNS, ENTRY_FROM};
                let sql = format!("SELECT {ENTRY_COLUMNS} {ENTRY_FROM} WHERE p.fnr = $1");
                let row: Option<EntryRow> = sqlx::query_as(&sql)
                    .bind(fnr.as_str())
                    .fetch_optional(&self.pool)
                    .await?;
                row.map(EntryRow::into_entry).transpose()
            }

            async fn apply_self_service(
                &self,
                fnr: &app::domain::Fnr,
                change: &$crate::krr::person::SelfServiceChange,
                at: chrono::DateTime<chrono::Utc>,
            ) -> Result<(), $crate::storage::StorageError> {
                use $crate::storage::register::{self_service_statement, ChangeValues};
                let mut transaction = self.pool.begin().await?;
                sqlx::query(
                    "INSERT INTO krr_person (fnr, status, reserved, updated_at)
                     VALUES ($1, 'AKTIV', FALSE, $2)
                     ON CONFLICT (fnr) DO NOTHING",
                )
                .bind(fnr.as_str())
                .bind(at)
                .execute(&mut *transaction)
                .await?;
                let (sql, values) = self_service_statement(change);
                let query = sqlx::query(sql).bind(fnr.as_str()).bind(at);
                let query = match values {
                    ChangeValues::None => query,
                    ChangeValues::Text(text) => query.bind(text),
                    ChangeValues::Pair(first, second) => query.bind(first).bind(second),
                };
                query.execute(&mut *transaction).await?;
                let (kind, value) = change.describe();
                sqlx::query(
                    "INSERT INTO krr_change (fnr, changed_at, field, value, source)
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(fnr.as_str())
                .bind(at)
                .bind($crate::krr::person::change_code(kind))
                .bind(value)
                .bind($crate::krr::person::source_code($crate::krr::person::ChangeBy::Citizen))
                .execute(&mut *transaction)
                .await?;
                transaction.commit().await?;
                Ok(())
            }

            async fn register_changes(
                &self,
                fnr: &app::domain::Fnr,
            ) -> Result<Vec<$crate::krr::person::RecordedChange>, $crate::storage::StorageError> {
                let rows: Vec<$crate::storage::register::ChangeRow> = sqlx::query_as(
                    "SELECT changed_at, field, value, source FROM krr_change
                     WHERE fnr = $1 ORDER BY changed_at DESC, id DESC",
                )
                .bind(fnr.as_str())
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map(|row| row.into_change()).collect()
            }

            async fn import_entries(
                &self,
                persons: &[$crate::krr::person::Person],
                at: chrono::DateTime<chrono::Utc>,
            ) -> Result<u64, $crate::storage::StorageError> {
                use $crate::storage::register::{
                    last_entry_per_person, IMPORT_BATCH_ROWS, IMPORT_UPSERT_HEAD, IMPORT_UPSERT_TAIL,
                };
                let persons = last_entry_per_person(persons);
                if persons.is_empty() {
                    return Ok(0);
                }
                if persons.len() > IMPORT_BATCH_ROWS {
                    return Err(anyhow::anyhow!("an import batch holds at most {IMPORT_BATCH_ROWS} persons").into());
                }
                let mut transaction = self.pool.begin().await?;
                let mut upsert = sqlx::QueryBuilder::<$db>::new(IMPORT_UPSERT_HEAD);
                upsert.push_values(persons, |mut row, person| {
                    row.push_bind(person.fnr.as_str().to_owned())
                        .push_bind(person.status.code())
                        .push_bind(person.reserved)
                        .push_bind(person.reserved_at)
                        .push_bind(person.reservation_updated_at)
                        .push_bind(person.email.as_ref().map(|c| c.value.as_str().to_owned()))
                        .push_bind(person.email.as_ref().map(|c| c.updated_at))
                        .push_bind(person.email.as_ref().and_then(|c| c.verified_at))
                        .push_bind(person.mobile.as_ref().map(|c| c.value.as_str().to_owned()))
                        .push_bind(person.mobile.as_ref().map(|c| c.updated_at))
                        .push_bind(person.mobile.as_ref().and_then(|c| c.verified_at))
                        .push_bind(person.mailbox.as_ref().map(|m| m.address.clone()))
                        .push_bind(person.mailbox.as_ref().map(|m| m.provider.as_str().to_owned()))
                        .push_bind(person.language.map(|l| l.code()))
                        .push_bind(person.language_updated_at)
                        .push_bind(at);
                });
                upsert.push(IMPORT_UPSERT_TAIL);
                let written: Vec<String> = upsert
                    .build_query_scalar()
                    .fetch_all(&mut *transaction)
                    .await?;
                if !written.is_empty() {
                    let mut trail = sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO krr_change (fnr, changed_at, field, value, source) ",
                    );
                    trail.push_values(&written, |mut row, fnr| {
                        row.push_bind(fnr.clone())
                            .push_bind(at)
                            .push_bind($crate::krr::person::change_code($crate::krr::person::ChangeWhat::Imported))
                            .push_bind(None::<String>)
                            .push_bind($crate::krr::person::source_code($crate::krr::person::ChangeBy::Import));
                    });
                    trail.build().execute(&mut *transaction).await?;
                }
                transaction.commit().await?;
                Ok(written.len() as u64)
            }

            async fn mailbox_providers(
                &self,
            ) -> Result<Vec<$crate::krr::person::MailboxProvider>, $crate::storage::StorageError> {
                let rows: Vec<$crate::storage::register::ProviderRow> = sqlx::query_as(
                    "SELECT org_nr, name, endpoint, certificate_der FROM mailbox_provider
                     ORDER BY endpoint IS NOT NULL, name",
                )
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map(|row| row.into_provider()).collect()
            }

            async fn upsert_mailbox_provider(
                &self,
                provider: &$crate::krr::person::MailboxProvider,
            ) -> Result<(), $crate::storage::StorageError> {
                sqlx::query(
                    "INSERT INTO mailbox_provider (org_nr, name, endpoint, certificate_der, created_at)
                     VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (org_nr) DO UPDATE SET name = excluded.name,
                         endpoint = excluded.endpoint, certificate_der = excluded.certificate_der",
                )
                .bind(provider.org_nr.as_str())
                .bind(&provider.name)
                .bind(provider.endpoint.as_deref())
                .bind(&provider.certificate_der)
                .bind(chrono::Utc::now())
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn insert_access_token(
                &self,
                token: &$crate::storage::register::StoredAccessToken,
            ) -> Result<(), $crate::storage::StorageError> {
                sqlx::query(
                    "INSERT INTO access_token (token_hash, client_name, org_nr, scopes, created_at,
                         expires_at)
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(&token.token_hash)
                .bind(&token.client_name)
                .bind(token.org_nr.as_str())
                .bind(token.scopes.join(" "))
                .bind(token.created_at)
                .bind(token.expires_at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn access_token(
                &self,
                token_hash: &str,
            ) -> Result<Option<$crate::storage::register::StoredAccessToken>, $crate::storage::StorageError> {
                let row: Option<$crate::storage::register::AccessTokenRow> = sqlx::query_as(
                    "SELECT token_hash, client_name, org_nr, scopes, created_at, expires_at
                     FROM access_token WHERE token_hash = $1",
                )
                .bind(token_hash)
                .fetch_optional(&self.pool)
                .await?;
                row.map(|row| row.into_token()).transpose()
            }
        }
    };
}

pub(super) use impl_sql_register;
