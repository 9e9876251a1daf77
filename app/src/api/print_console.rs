//! The print service in the operators' console: the queue, the batches, each
//! letter's timeline and a chart of letters per day by channel. Operators
//! only (the operator session, never a citizen's). Downloads of batches and
//! letters are plain links to server routes, recorded per letter.

use crate::error::AppError;
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The console's print page.
pub const PRINT_PATH: &str = "/drift/utskrift";

/// A batch's page, and where its zip is downloaded.
pub fn batch_path(id: &str) -> String {
    format!("{PRINT_PATH}/bunke/{id}")
}

pub fn batch_download_path(id: &str) -> String {
    format!("{PRINT_PATH}/bunke/{id}/last-ned")
}

/// A letter's page, and where its print-ready PDF is downloaded.
pub fn letter_path(id: &str) -> String {
    format!("{PRINT_PATH}/brev/{id}")
}

pub fn letter_download_path(id: &str) -> String {
    format!("{PRINT_PATH}/brev/{id}/last-ned")
}

/// The chart's words, in the page's language (the server draws it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChartWords {
    pub digital: String,
    pub provider: String,
    pub print: String,
    pub letters: String,
}

/// Letters for paper in one state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateCount {
    /// waiting, batched, accepted, posted, failed, returned
    pub state: String,
    pub letters: u64,
}

/// A letter waiting for the next cut-off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueuedLetter {
    pub id: String,
    pub received_at: DateTime<Utc>,
    pub agency: String,
    pub post_class: String,
    pub colour: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchView {
    pub id: String,
    pub cut_off: DateTime<Utc>,
    pub post_class: String,
    pub colour: String,
    pub envelope: String,
    pub letters: u64,
    pub pages: u64,
    pub sheets: u64,
    /// When the print house got it; `None` while Postkasse still tries.
    pub delivered_at: Option<DateTime<Utc>>,
    pub attempts: u32,
    pub last_error: Option<String>,
}

/// Letters per day by channel, for the table beside the chart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayCount {
    pub day: String,
    pub digital: u64,
    pub provider: u64,
    pub print: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrintOverview {
    pub states: Vec<StateCount>,
    /// The oldest waiting letters, at most [`PrintOverview::QUEUE_LIMIT`].
    pub queue: Vec<QueuedLetter>,
    /// The newest batches, at most [`PrintOverview::BATCH_LIMIT`].
    pub batches: Vec<BatchView>,
    pub c5_letters: u64,
    pub c4_letters: u64,
    /// The last fourteen days, oldest first.
    pub days: Vec<DayCount>,
    /// The same days as an SVG chart.
    pub chart_svg: String,
}

impl PrintOverview {
    pub const QUEUE_LIMIT: u32 = 100;
    pub const BATCH_LIMIT: u32 = 50;
    pub const DAYS: u32 = 14;
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchLetter {
    pub id: String,
    pub state: String,
    pub pages: u64,
    pub sheets: u64,
    /// The recipient's name and postcode: what the envelope shows.
    pub recipient: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchDetail {
    pub batch: BatchView,
    pub letters: Vec<BatchLetter>,
}

/// One step in a letter's life, as its sender sees it in its statuses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub at: DateTime<Utc>,
    pub status: String,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LetterTimeline {
    pub id: String,
    pub agency: String,
    pub state: String,
    pub batch: Option<String>,
    pub pages: Option<u64>,
    pub sheets: Option<u64>,
    pub steps: Vec<TimelineEntry>,
    /// Operators' downloads of the letter (alone or in its batch).
    pub downloads: Vec<(DateTime<Utc>, String)>,
}

#[cfg(feature = "ssr")]
pub mod ssr {
    //! Server-only: the console's print service.

    use super::*;
    use crate::api::session::{fail, OperatorSignedIn};
    use std::sync::Arc;

    #[async_trait::async_trait]
    pub trait PrintConsole: Send + Sync + 'static {
        async fn overview(
            &self,
            operator: OperatorSignedIn,
            words: ChartWords,
        ) -> Result<PrintOverview, AppError>;
        async fn batch(
            &self,
            operator: OperatorSignedIn,
            id: &str,
        ) -> Result<BatchDetail, AppError>;
        async fn letter(
            &self,
            operator: OperatorSignedIn,
            id: &str,
        ) -> Result<LetterTimeline, AppError>;
        /// Offers the batch to the print house again (it ignores a batch it has).
        async fn resend(&self, operator: OperatorSignedIn, id: &str) -> Result<(), AppError>;
    }

    pub type SharedPrintConsole = Arc<dyn PrintConsole>;

    pub fn console() -> Result<SharedPrintConsole, AppError> {
        use_context::<SharedPrintConsole>().ok_or_else(|| fail(AppError::Internal))
    }
}

#[server(endpoint = "load_print_overview")]
pub async fn load_print_overview(words: ChartWords) -> Result<PrintOverview, AppError> {
    use crate::api::session::{fail, require_operator};
    let operator = require_operator()?;
    ssr::console()?
        .overview(operator, words)
        .await
        .map_err(fail)
}

#[server(endpoint = "load_print_batch")]
pub async fn load_print_batch(id: String) -> Result<BatchDetail, AppError> {
    use crate::api::session::{fail, require_operator};
    let operator = require_operator()?;
    ssr::console()?.batch(operator, &id).await.map_err(fail)
}

#[server(endpoint = "load_print_letter")]
pub async fn load_print_letter(id: String) -> Result<LetterTimeline, AppError> {
    use crate::api::session::{fail, require_operator};
    let operator = require_operator()?;
    ssr::console()?.letter(operator, &id).await.map_err(fail)
}

#[server(endpoint = "resend_print_batch")]
pub async fn resend_print_batch(id: String) -> Result<(), AppError> {
    use crate::api::session::{fail, require_operator};
    let operator = require_operator()?;
    ssr::console()?.resend(operator, &id).await.map_err(fail)
}
