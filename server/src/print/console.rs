//! The print service in the operators' console: the queue, the batches,
//! each letter's timeline, the chart of letters per day, re-sending a batch,
//! and downloads of batches and letters, each download recorded for every
//! letter it holds.

use super::{
    batch,
    chart::{self, ChartLabels, DayCounts},
    store::{BatchSummary, ConsoleLetter, Download},
    Store,
};
use crate::{activity::Activity, blobs::BlobStore, clock::Clock, errors::internal};
use app::{
    api::{
        activity::ActivityKind,
        print_console::{
            ssr::PrintConsole, BatchDetail, BatchLetter, BatchView, ChartWords, DayCount,
            LetterTimeline, PrintOverview, QueuedLetter, StateCount, TimelineEntry,
        },
        session::OperatorSignedIn,
    },
    error::AppError,
};
use bytes::Bytes;
use chrono::Duration;
use std::{io::Write, sync::Arc};
use uuid::Uuid;

pub struct PrintConsoleService {
    store: Arc<dyn Store>,
    blobs: Arc<dyn BlobStore>,
    clock: Arc<dyn Clock>,
    /// Downloads are listed in each citizen's "Min aktivitet".
    activity: Arc<dyn crate::activity::Store>,
}

impl PrintConsoleService {
    pub fn new(
        store: Arc<dyn Store>,
        blobs: Arc<dyn BlobStore>,
        clock: Arc<dyn Clock>,
        activity: Arc<dyn crate::activity::Store>,
    ) -> Self {
        Self {
            store,
            blobs,
            clock,
            activity,
        }
    }

    /// Records the download of the letters (`rows`), and for each citizen
    /// they were for, a line in their "Min aktivitet".
    async fn record_download(&self, rows: &[Uuid], what: Download) -> anyhow::Result<()> {
        let at = self.clock.now();
        let recipients = self.store.record_download(rows, what, at).await?;
        let activities: Vec<Activity> = recipients
            .into_iter()
            .map(|fnr| Activity {
                fnr,
                at,
                kind: ActivityKind::PrintDownload {
                    batch: what == Download::Batch,
                },
            })
            .collect();
        self.activity.record_activity(&activities).await?;
        Ok(())
    }

    /// A letter's print-ready PDF, recorded as downloaded; `None` for no
    /// such letter, or one not yet made print-ready.
    pub async fn letter_pdf(
        &self,
        _operator: OperatorSignedIn,
        id: Uuid,
    ) -> anyhow::Result<Option<Bytes>> {
        let Some(ConsoleLetter { pdf: Some(pdf), .. }) = self.store.console_letter(id).await?
        else {
            return Ok(None);
        };
        let bytes = self.blobs.get(&pdf).await?;
        self.record_download(&[id], Download::Letter).await?;
        Ok(Some(bytes))
    }

    /// The batch as the print house got it (its PDFs and manifest) in a zip,
    /// recorded as downloaded for each of its letters; `None` for no such batch.
    pub async fn batch_zip(
        &self,
        _operator: OperatorSignedIn,
        id: Uuid,
    ) -> anyhow::Result<Option<Vec<u8>>> {
        let Some(summary) = self.store.batch_summary(id).await? else {
            return Ok(None);
        };
        let letters = self.store.letters_in_batch(id).await?;
        let mut files = Vec::with_capacity(letters.len());
        let mut manifest_letters = Vec::with_capacity(letters.len());
        for letter in &letters {
            let Some(pdf) = letter.pdf else { continue };
            let entry = batch::ManifestLetter::new(
                letter.job.message_row,
                &letter.job.order,
                summary.kind,
                &pdf,
                letter.pages.unwrap_or_default(),
                letter.sheets.unwrap_or_default(),
            );
            files.push((entry.file.clone(), self.blobs.get(&pdf).await?));
            manifest_letters.push(entry);
        }
        let manifest = serde_json::to_vec_pretty(&batch::Manifest::new(
            id,
            summary.cut_off,
            summary.kind,
            manifest_letters,
        ))?;
        let zip = tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<u8>> {
            let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
            // PDFs are compressed already.
            let options = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Stored);
            zip.start_file("manifest.json", options)?;
            zip.write_all(&manifest)?;
            for (name, bytes) in files {
                zip.start_file(name, options)?;
                zip.write_all(&bytes)?;
            }
            Ok(zip.finish()?.into_inner())
        })
        .await??;
        let rows: Vec<Uuid> = letters
            .iter()
            .map(|letter| letter.job.message_row)
            .collect();
        self.record_download(&rows, Download::Batch).await?;
        Ok(Some(zip))
    }
}

fn batch_view(summary: BatchSummary) -> BatchView {
    BatchView {
        id: summary.id.to_string(),
        cut_off: summary.cut_off,
        post_class: summary.kind.post_class.code().to_owned(),
        colour: summary.kind.colour.code().to_owned(),
        envelope: summary.kind.envelope.as_str().to_owned(),
        letters: summary.letters,
        pages: summary.pages,
        sheets: summary.sheets,
        delivered_at: summary.delivered_at,
        attempts: summary.attempts,
        last_error: summary.last_error,
    }
}

/// An id from the address bar: a malformed one is no such thing.
fn parse_id(id: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(id).map_err(|_| AppError::NotFound)
}

#[async_trait::async_trait]
impl PrintConsole for PrintConsoleService {
    async fn overview(
        &self,
        _operator: OperatorSignedIn,
        words: ChartWords,
    ) -> Result<PrintOverview, AppError> {
        let states = self.store.state_counts().await.map_err(internal)?;
        let (c5_letters, c4_letters) = self.store.envelope_counts().await.map_err(internal)?;
        let queue = self
            .store
            .waiting_jobs(PrintOverview::QUEUE_LIMIT)
            .await
            .map_err(internal)?;
        let batches = self
            .store
            .recent_batches(PrintOverview::BATCH_LIMIT)
            .await
            .map_err(internal)?;
        // The last fourteen days, today included, every day shown.
        let today = self.clock.now().date_naive();
        let first = today - Duration::days(i64::from(PrintOverview::DAYS) - 1);
        let since = first.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
        let counted = self.store.letters_per_day(since).await.map_err(internal)?;
        let days: Vec<DayCount> = (0..PrintOverview::DAYS)
            .map(|offset| {
                let day = first + Duration::days(i64::from(offset));
                let key = day.format("%Y-%m-%d").to_string();
                let of = |channel: &str| {
                    counted
                        .iter()
                        .filter(|count| count.day == key && count.channel == channel)
                        .map(|count| count.letters)
                        .sum()
                };
                DayCount {
                    day: day.format("%d.%m").to_string(),
                    digital: of("postkasse"),
                    provider: of("leverandoer"),
                    print: of("utskrift"),
                }
            })
            .collect();
        let chart_days: Vec<DayCounts> = days
            .iter()
            .map(|day| DayCounts {
                label: day.day.clone(),
                digital: day.digital,
                provider: day.provider,
                print: day.print,
            })
            .collect();
        let labels = ChartLabels {
            digital: words.digital,
            provider: words.provider,
            print: words.print,
            letters: words.letters,
        };
        let chart_svg =
            tokio::task::spawn_blocking(move || chart::letters_per_day_svg(&chart_days, &labels))
                .await
                .map_err(internal)?
                .map_err(|error| internal(anyhow::anyhow!("drawing the chart failed: {error}")))?;
        Ok(PrintOverview {
            states: states
                .into_iter()
                .map(|(state, letters)| StateCount { state, letters })
                .collect(),
            queue: queue
                .into_iter()
                .map(|job| QueuedLetter {
                    id: job.message_row.to_string(),
                    received_at: job.created_at,
                    agency: job.agency.to_string(),
                    post_class: job.order.post_class.code().to_owned(),
                    colour: job.order.colour.code().to_owned(),
                })
                .collect(),
            batches: batches.into_iter().map(batch_view).collect(),
            c5_letters,
            c4_letters,
            days,
            chart_svg,
        })
    }

    async fn batch(&self, _operator: OperatorSignedIn, id: &str) -> Result<BatchDetail, AppError> {
        let id = parse_id(id)?;
        let summary = self
            .store
            .batch_summary(id)
            .await
            .map_err(internal)?
            .ok_or(AppError::NotFound)?;
        let letters = self.store.letters_in_batch(id).await.map_err(internal)?;
        Ok(BatchDetail {
            batch: batch_view(summary),
            letters: letters
                .into_iter()
                .map(|letter| {
                    let address = &letter.job.order.address;
                    BatchLetter {
                        id: letter.job.message_row.to_string(),
                        state: letter.job.state,
                        pages: u64::from(letter.pages.unwrap_or_default()),
                        sheets: u64::from(letter.sheets.unwrap_or_default()),
                        recipient: format!(
                            "{}, {}",
                            address.navn,
                            address
                                .postnummer
                                .as_deref()
                                .or(address.landkode.as_deref())
                                .unwrap_or_default()
                        ),
                    }
                })
                .collect(),
        })
    }

    async fn letter(
        &self,
        _operator: OperatorSignedIn,
        id: &str,
    ) -> Result<LetterTimeline, AppError> {
        let id = parse_id(id)?;
        let letter = self
            .store
            .console_letter(id)
            .await
            .map_err(internal)?
            .ok_or(AppError::NotFound)?;
        let steps = self.store.timeline(id).await.map_err(internal)?;
        let downloads = self.store.downloads(id).await.map_err(internal)?;
        Ok(LetterTimeline {
            id: id.to_string(),
            agency: letter.job.agency.to_string(),
            state: letter.job.state,
            batch: letter.job.batch.map(|batch| batch.to_string()),
            pages: letter.pages.map(u64::from),
            sheets: letter.sheets.map(u64::from),
            steps: steps
                .into_iter()
                .map(|step| TimelineEntry {
                    at: step.at,
                    status: step.status,
                    description: step.description,
                })
                .collect(),
            downloads: downloads
                .into_iter()
                .map(|(at, what)| (at, what.as_str().to_owned()))
                .collect(),
        })
    }

    async fn resend(&self, _operator: OperatorSignedIn, id: &str) -> Result<(), AppError> {
        let id = parse_id(id)?;
        if self
            .store
            .resend_batch(id, self.clock.now())
            .await
            .map_err(internal)?
        {
            tracing::info!(batch = %id, "an operator asked for a batch to be sent again");
            Ok(())
        } else {
            Err(AppError::NotFound)
        }
    }
}
