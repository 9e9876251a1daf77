//! Powers of attorney in SQL. Every statement names the person (principal
//! or delegate) in its WHERE clause.

use super::{Database, Query};
use crate::{
    fullmakt::{self, NewFullmakt, StoredFullmakt},
    store::StorageError,
};
use app::{
    api::fullmakt::{EndedBy, SenderChoice},
    domain::{Fnr, FullmaktId, OrgNr, SyntheticIds},
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

const COLUMNS: &str = "f.id, f.principal_fnr, f.principal_name, f.delegate_fnr, f.delegate_name,
    f.may_reply, f.all_senders, f.created_at, f.ends_at, f.ended_at, f.ended_by";

const BY_PRINCIPAL: &str = "fullmaktsgiver";
const BY_DELEGATE: &str = "fullmektig";

#[derive(sqlx::FromRow)]
struct FullmaktRow {
    id: Uuid,
    principal_fnr: String,
    principal_name: Option<String>,
    delegate_fnr: String,
    delegate_name: String,
    may_reply: bool,
    all_senders: bool,
    created_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    ended_at: Option<DateTime<Utc>>,
    ended_by: Option<String>,
}

#[derive(sqlx::FromRow)]
struct SenderRow {
    fullmakt_id: Uuid,
    org_nr: String,
    name: String,
}

#[derive(sqlx::FromRow)]
struct ChoiceRow {
    org_nr: String,
    name: String,
}

fn choice(org_nr: &str, name: String) -> Result<SenderChoice, StorageError> {
    Ok(SenderChoice {
        org_nr: OrgNr::parse(org_nr).map_err(|_| StorageError::corrupt("organisation number"))?,
        name,
    })
}

impl FullmaktRow {
    fn into_stored(self, senders: &[SenderRow]) -> Result<StoredFullmakt, StorageError> {
        let person = |fnr: &str| {
            Fnr::parse(fnr, SyntheticIds::Accepted)
                .map_err(|_| StorageError::corrupt("national id"))
        };
        let ended = match (self.ended_at, self.ended_by.as_deref()) {
            (None, _) => None,
            (Some(at), Some(BY_PRINCIPAL)) => Some((at, EndedBy::Principal)),
            (Some(at), Some(BY_DELEGATE)) => Some((at, EndedBy::Delegate)),
            (Some(_), _) => return Err(StorageError::corrupt("ended by")),
        };
        let senders = if self.all_senders {
            None
        } else {
            Some(
                senders
                    .iter()
                    .filter(|sender| sender.fullmakt_id == self.id)
                    .map(|sender| choice(&sender.org_nr, sender.name.clone()))
                    .collect::<Result<_, _>>()?,
            )
        };
        Ok(StoredFullmakt {
            id: FullmaktId::from_uuid(self.id),
            principal: person(&self.principal_fnr)?,
            principal_name: self.principal_name,
            delegate: person(&self.delegate_fnr)?,
            delegate_name: self.delegate_name,
            may_reply: self.may_reply,
            senders,
            created_at: self.created_at,
            ends_at: self.ends_at,
            ended,
        })
    }
}

impl Database {
    /// The powers whose `column` (principal_fnr or delegate_fnr) is the
    /// person, or the one power `id` held so, with their senders.
    async fn powers_where(
        &self,
        condition: &str,
        bind: impl Fn(Query<'_>) -> Query<'_>,
    ) -> Result<Vec<StoredFullmakt>, StorageError> {
        let rows: Vec<FullmaktRow> = self
            .fetch_all(bind(Query::new(format!(
                "SELECT {COLUMNS} FROM fullmakt f WHERE {condition}
                 ORDER BY f.created_at DESC, f.id"
            ))))
            .await?;
        let senders: Vec<SenderRow> = self
            .fetch_all(bind(Query::new(format!(
                "SELECT fs.fullmakt_id, fs.org_nr, COALESCE(s.name, fs.org_nr) AS name
                 FROM fullmakt f JOIN fullmakt_sender fs ON fs.fullmakt_id = f.id
                 LEFT JOIN sender s ON s.org_nr = fs.org_nr
                 WHERE {condition} ORDER BY name, fs.org_nr"
            ))))
            .await?;
        rows.into_iter()
            .map(|row| row.into_stored(&senders))
            .collect()
    }
}

#[async_trait]
impl fullmakt::Store for Database {
    async fn insert_fullmakt(&self, power: &NewFullmakt) -> Result<(), StorageError> {
        let mut transaction = self.begin_write().await?;
        transaction
            .execute(
                Query::new(
                    "INSERT INTO fullmakt (id, principal_fnr, principal_name, delegate_fnr,
                         delegate_name, may_reply, all_senders, created_at, ends_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(power.id.as_uuid())
                .bind(power.principal.as_str())
                .bind(power.principal_name.as_deref())
                .bind(power.delegate.as_str())
                .bind(power.delegate_name.as_str())
                .bind(power.may_reply)
                .bind(power.senders.is_none())
                .bind(power.created_at)
                .bind(power.ends_at),
            )
            .await?;
        for org_nr in power.senders.iter().flatten() {
            transaction
                .execute(
                    Query::new("INSERT INTO fullmakt_sender (fullmakt_id, org_nr) VALUES ($1, $2)")
                        .bind(power.id.as_uuid())
                        .bind(org_nr.as_str()),
                )
                .await?;
        }
        transaction.commit().await
    }

    async fn fullmakter_given(&self, principal: &Fnr) -> Result<Vec<StoredFullmakt>, StorageError> {
        self.powers_where("f.principal_fnr = $1", |query| {
            query.bind(principal.as_str())
        })
        .await
    }

    async fn fullmakter_received(
        &self,
        delegate: &Fnr,
    ) -> Result<Vec<StoredFullmakt>, StorageError> {
        self.powers_where("f.delegate_fnr = $1", |query| query.bind(delegate.as_str()))
            .await
    }

    async fn end_fullmakt(
        &self,
        id: FullmaktId,
        person: &Fnr,
        now: DateTime<Utc>,
    ) -> Result<Option<StoredFullmakt>, StorageError> {
        let ended: Option<(Uuid,)> = self
            .fetch_optional(
                Query::new(
                    "UPDATE fullmakt SET ended_at = $3,
                         ended_by = CASE WHEN principal_fnr = $2 THEN $4 ELSE $5 END
                     WHERE id = $1 AND (principal_fnr = $2 OR delegate_fnr = $2)
                       AND ended_at IS NULL AND ends_at > $3
                     RETURNING id",
                )
                .bind(id.as_uuid())
                .bind(person.as_str())
                .bind(now)
                .bind(BY_PRINCIPAL)
                .bind(BY_DELEGATE),
            )
            .await?;
        if ended.is_none() {
            return Ok(None);
        }
        Ok(self
            .powers_where(
                "f.id = $1 AND (f.principal_fnr = $2 OR f.delegate_fnr = $2)",
                |query| query.bind(id.as_uuid()).bind(person.as_str()),
            )
            .await?
            .pop())
    }

    async fn fullmakt_in_force(
        &self,
        id: FullmaktId,
        delegate: &Fnr,
        now: DateTime<Utc>,
    ) -> Result<Option<StoredFullmakt>, StorageError> {
        Ok(self
            .powers_where(
                "f.id = $1 AND f.delegate_fnr = $2 AND f.ended_at IS NULL AND f.ends_at > $3",
                |query| query.bind(id.as_uuid()).bind(delegate.as_str()).bind(now),
            )
            .await?
            .pop())
    }

    async fn senders_in_mailbox(&self, principal: &Fnr) -> Result<Vec<SenderChoice>, StorageError> {
        let rows: Vec<ChoiceRow> = self
            .fetch_all(
                Query::new(
                    "SELECT DISTINCT s.org_nr, s.name FROM letter l
                     JOIN sender s ON s.org_nr = l.sender_org_nr
                     WHERE l.recipient_fnr = $1 AND l.purged_at IS NULL
                     ORDER BY s.name, s.org_nr",
                )
                .bind(principal.as_str()),
            )
            .await?;
        rows.into_iter()
            .map(|row| choice(&row.org_nr, row.name))
            .collect()
    }
}
