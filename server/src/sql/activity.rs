//! The activity log's store in SQL.

use super::{stored_level, Database, Query};
use crate::{
    activity::{self, Activity},
    store::StorageError,
};
use app::{
    api::activity::{ActivityEntry, ActivityKind},
    domain::Fnr,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_query::Value;
use uuid::Uuid;

/// Rows per insert: 8 parameters a row stays well under both databases'
/// limits on bound parameters (a lookup names at most 1000 persons).
const ROWS_PER_INSERT: usize = 1000;

fn kind_code(kind: &ActivityKind) -> &'static str {
    match kind {
        ActivityKind::Login { .. } => "innlogging",
        ActivityKind::Export => "eksport",
        ActivityKind::Lookup { .. } => "oppslag",
        ActivityKind::FullmaktGiven { .. } => "fullmakt_gitt",
        ActivityKind::FullmaktUsed { .. } => "fullmakt_brukt",
        ActivityKind::FullmaktEnded {
            by_delegate: false, ..
        } => "fullmakt_avsluttet",
        ActivityKind::FullmaktEnded {
            by_delegate: true, ..
        } => "fullmakt_avsluttet_av_fullmektig",
        ActivityKind::PrintDownload { batch: false } => "utskrift_lastet_ned",
        ActivityKind::PrintDownload { batch: true } => "utskriftsbunke_lastet_ned",
    }
}

#[derive(sqlx::FromRow)]
struct ActivityRow {
    at: DateTime<Utc>,
    kind: String,
    level: Option<i32>,
    browser: Option<String>,
    agency: Option<String>,
    /// The other person of a power of attorney.
    person: Option<String>,
}

impl ActivityRow {
    fn into_entry(self) -> Result<ActivityEntry, StorageError> {
        let kind = match (self.kind.as_str(), self.level, self.agency, self.person) {
            ("innlogging", Some(level), _, _) => ActivityKind::Login {
                level: stored_level(level)?,
                browser: self.browser,
            },
            ("eksport", _, _, _) => ActivityKind::Export,
            ("oppslag", _, Some(agency), _) => ActivityKind::Lookup { agency },
            ("fullmakt_gitt", _, _, Some(delegate)) => ActivityKind::FullmaktGiven { delegate },
            ("fullmakt_brukt", _, _, Some(delegate)) => ActivityKind::FullmaktUsed { delegate },
            ("fullmakt_avsluttet", _, _, Some(delegate)) => ActivityKind::FullmaktEnded {
                delegate,
                by_delegate: false,
            },
            ("utskrift_lastet_ned", _, _, _) => ActivityKind::PrintDownload { batch: false },
            ("utskriftsbunke_lastet_ned", _, _, _) => ActivityKind::PrintDownload { batch: true },
            ("fullmakt_avsluttet_av_fullmektig", _, _, Some(delegate)) => {
                ActivityKind::FullmaktEnded {
                    delegate,
                    by_delegate: true,
                }
            }
            _ => return Err(StorageError::corrupt("activity")),
        };
        Ok(ActivityEntry { at: self.at, kind })
    }
}

#[async_trait]
impl activity::Store for Database {
    async fn record_activity(&self, activities: &[Activity]) -> Result<(), StorageError> {
        let mut transaction = self.begin().await?;
        for chunk in activities.chunks(ROWS_PER_INSERT) {
            let rows = chunk.iter().map(|activity| {
                let (level, browser, agency, person) = match &activity.kind {
                    ActivityKind::Login { level, browser } => (
                        Some(i32::from(level.as_number())),
                        browser.clone(),
                        None,
                        None,
                    ),
                    ActivityKind::Export | ActivityKind::PrintDownload { .. } => {
                        (None, None, None, None)
                    }
                    ActivityKind::Lookup { agency } => (None, None, Some(agency.clone()), None),
                    ActivityKind::FullmaktGiven { delegate }
                    | ActivityKind::FullmaktUsed { delegate }
                    | ActivityKind::FullmaktEnded { delegate, .. } => {
                        (None, None, None, Some(delegate.clone()))
                    }
                };
                vec![
                    Value::from(Uuid::new_v4()),
                    Value::from(activity.fnr.as_str()),
                    Value::from(activity.at),
                    Value::from(kind_code(&activity.kind)),
                    Value::from(level),
                    Value::from(browser),
                    Value::from(agency),
                    Value::from(person),
                ]
            });
            transaction
                .execute(
                    Query::new(
                        "INSERT INTO citizen_activity (id, fnr, at, kind, level, browser, agency, person)",
                    )
                    .values(rows),
                )
                .await?;
        }
        transaction.commit().await
    }

    async fn activity(&self, fnr: &Fnr, limit: u32) -> Result<Vec<ActivityEntry>, StorageError> {
        let rows: Vec<ActivityRow> = self
            .fetch_all(
                Query::new(
                    "SELECT at, kind, level, browser, agency, person FROM citizen_activity
                     WHERE fnr = $1 ORDER BY at DESC, id LIMIT $2",
                )
                .bind(fnr.as_str())
                .bind(i64::from(limit)),
            )
            .await?;
        rows.into_iter().map(ActivityRow::into_entry).collect()
    }
}
