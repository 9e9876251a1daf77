//! The print chain at work: at each cut-off, waiting letters are made
//! print-ready and batched; batches are handed to the print house, retried
//! until it takes them; the print house's answers are recorded with the
//! receipts they cause. [`PrintChain`] does each step once (the operator's
//! commands call it too); [`PrintWorker`] runs the steps in a loop.

use super::{
    answers::{consequence, Answer, AnswerStatus, PrintReceipt, PrintReceipts},
    batch::{self, BatchKind, Envelope, Manifest, ManifestLetter},
    letter::{self, LetterToPrint},
    schedule::CutOffs,
    store::{
        BatchToDeliver, BatchedLetter, NewBatch, RecordedAnswer, UnreadDue, UnreadOutcome,
        WaitingLetter,
    },
    transport::{BatchFiles, PrintHouse},
    verification::VerificationCode,
    NewPrintJob, PrintOrder, Store,
};
use crate::{
    blobs::BlobStore,
    clock::{retry_delay, Clock},
};
use anyhow::Context;
use chrono::{DateTime, Utc};
use futures::{stream, StreamExt, TryStreamExt};
use std::sync::Arc;
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct PrintSettings {
    pub cut_offs: CutOffs,
    /// The most sheets a C5 envelope takes; thicker letters go in C4.
    pub c5_max_sheets: u32,
    /// The public check page printed on every letter.
    pub check_url: String,
    /// Letters per batch run: a large queue is batched in rounds.
    pub letters_per_round: usize,
    /// Letters made print-ready at once (CPU-bound: about the core count).
    pub parallel: usize,
    /// What documents must be for paper: letters printed because unread
    /// are checked at their deadline.
    pub preflight: super::preflight::PreflightRules,
    pub retry_base: chrono::Duration,
    pub retry_max: chrono::Duration,
    pub poll: std::time::Duration,
}

pub struct PrintChain {
    pub store: Arc<dyn Store>,
    pub blobs: Arc<dyn BlobStore>,
    pub clock: Arc<dyn Clock>,
    pub house: Arc<dyn PrintHouse>,
    pub receipts: Arc<dyn PrintReceipts>,
    pub settings: PrintSettings,
}

/// What one step did, for logs and the operator.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Progress {
    pub batches_made: usize,
    pub letters_batched: usize,
    pub letters_failed: usize,
    pub batches_delivered: usize,
    pub answers_recorded: usize,
    /// Letters unread at their deadline, queued for print.
    pub unread_printed: usize,
}

impl PrintChain {
    /// Every step once: queue letters unread at their deadline, batch at
    /// the latest cut-off, deliver, read answers.
    pub async fn step(&self) -> anyhow::Result<Progress> {
        let unread_printed = self.print_unread().await?;
        let mut progress = match self.settings.cut_offs.latest(self.clock.now()) {
            Some(cut_off) => self.cut(cut_off).await?,
            None => Progress::default(),
        };
        progress.unread_printed = unread_printed;
        progress.batches_delivered = self.deliver_due().await?;
        progress.answers_recorded = self.read_answers().await?;
        Ok(progress)
    }

    /// Batches the letters that arrived before `cut_off` and still wait.
    pub async fn cut(&self, cut_off: DateTime<Utc>) -> anyhow::Result<Progress> {
        let mut progress = Progress::default();
        loop {
            let waiting = self
                .store
                .waiting_letters(cut_off, self.settings.letters_per_round)
                .await?;
            if waiting.is_empty() {
                return Ok(progress);
            }
            let made: Vec<(WaitingLetter, Result<letter::PrintReady, String>)> =
                stream::iter(waiting)
                    .map(|waiting| async move {
                        let ready = self.make_ready(&waiting).await;
                        Ok::<_, anyhow::Error>((waiting, ready))
                    })
                    .buffered(self.settings.parallel.max(1))
                    .try_collect()
                    .await?;
            let now = self.clock.now();
            let mut ready = Vec::new();
            let mut failed = Vec::new();
            for (waiting, made) in made {
                match made {
                    Ok(print_ready) => {
                        let pdf = self
                            .blobs
                            .put(print_ready.pdf.into())
                            .await
                            .context("storing a print-ready letter failed")?;
                        let kind = BatchKind {
                            post_class: waiting.order.post_class,
                            colour: waiting.order.colour,
                            envelope: Envelope::for_sheets(
                                print_ready.sheets,
                                self.settings.c5_max_sheets,
                            ),
                        };
                        ready.push((
                            kind,
                            BatchedLetter {
                                message_row: waiting.message_row,
                                pdf,
                                pages: print_ready.pages,
                                sheets: print_ready.sheets,
                            },
                        ));
                    }
                    Err(reason) => failed.push(Answer {
                        letter: waiting.message_row,
                        status: AnswerStatus::Failed,
                        reason: Some(reason),
                    }),
                }
            }
            // A letter that cannot be made print-ready fails as if the print
            // house had failed it: the sender gets a feil receipt.
            progress.letters_failed += self.record(&failed).await?;
            let batches: Vec<NewBatch> = batch::group(ready)
                .into_iter()
                .map(|(kind, letters)| NewBatch {
                    id: Uuid::new_v4(),
                    cut_off,
                    kind,
                    letters,
                    created_at: now,
                })
                .collect();
            if !self.store.create_batches(&batches).await? {
                // Another node took some of these letters; what is left
                // waits for the next round.
                tracing::info!("another node batched the same letters first");
                return Ok(progress);
            }
            progress.batches_made += batches.len();
            progress.letters_batched += batches
                .iter()
                .map(|batch| batch.letters.len())
                .sum::<usize>();
            tracing::info!(
                batches = batches.len(),
                letters = progress.letters_batched,
                "print batches made"
            );
        }
    }

    /// Settles every print-if-unread letter whose deadline has come: opened
    /// ones are left alone; unopened ones go into the queue, to the
    /// citizen's address in the population register, or fail with a `feil`
    /// receipt when there is no address or a document cannot be printed.
    /// Returns how many were queued.
    pub async fn print_unread(&self) -> anyhow::Result<usize> {
        let mut queued = 0;
        loop {
            let due = self
                .store
                .unread_prints_due(self.clock.now(), self.settings.letters_per_round)
                .await?;
            if due.is_empty() {
                return Ok(queued);
            }
            for letter in due {
                let outcome = self.unread_outcome(&letter).await?;
                let printed = matches!(outcome, UnreadOutcome::Printed(_));
                if self
                    .store
                    .settle_unread_print(letter.message_row, &outcome, self.clock.now())
                    .await?
                    && printed
                {
                    queued += 1;
                }
            }
        }
    }

    async fn unread_outcome(&self, letter: &UnreadDue) -> anyhow::Result<UnreadOutcome> {
        if letter.opened {
            return Ok(UnreadOutcome::Opened);
        }
        let failure = match self.store.postal_address(&letter.owner).await? {
            None => Err("the citizen has no postal address in the population register".to_owned()),
            Some(address) => self.unprintable(&letter.documents).await?.map(|()| address),
        };
        match failure {
            Ok(address) => Ok(UnreadOutcome::Printed(Box::new(NewPrintJob {
                order: PrintOrder {
                    colour: letter.colour,
                    post_class: letter.post_class,
                    ..PrintOrder::with_defaults(address, None)
                },
                sender_name: letter.sender_name.clone(),
                title: letter.title.clone(),
                documents: letter.documents.clone(),
                check_code: VerificationCode::generate(),
                recipient: Some(letter.owner.clone()),
            }))),
            Err(reason) => {
                let receipt = self
                    .receipts
                    .print_receipt(
                        letter.message_row,
                        &PrintReceipt::Failed {
                            reason: format!("utskrift feilet: {reason}"),
                        },
                    )
                    .await?;
                Ok(UnreadOutcome::Failed { reason, receipt })
            }
        }
    }

    /// `Err` with the reason when a document would be refused by preflight.
    async fn unprintable(
        &self,
        documents: &[app::domain::Sha256Digest],
    ) -> anyhow::Result<Result<(), String>> {
        let mut contents = Vec::with_capacity(documents.len());
        for digest in documents {
            contents.push(self.blobs.get(digest).await?);
        }
        let rules = self.settings.preflight;
        let problems = tokio::task::spawn_blocking(move || {
            contents
                .iter()
                .enumerate()
                .flat_map(|(index, bytes)| {
                    super::preflight::check(bytes, &rules)
                        .into_iter()
                        .map(move |problem| format!("document {}, {problem}", index + 1))
                })
                .collect::<Vec<_>>()
        })
        .await?;
        Ok(if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("; "))
        })
    }

    /// The letter as the print house gets it, or why it cannot be made.
    async fn make_ready(&self, waiting: &WaitingLetter) -> Result<letter::PrintReady, String> {
        let mut documents = Vec::with_capacity(waiting.documents.len());
        for digest in &waiting.documents {
            let bytes = self
                .blobs
                .get(digest)
                .await
                .map_err(|error| format!("a document could not be read: {error}"))?;
            documents.push(Arc::new(bytes.to_vec()));
        }
        let (message_row, order, sender_name, code, check_url) = (
            waiting.message_row,
            waiting.order.clone(),
            waiting.sender_name.clone(),
            waiting.check_code.clone(),
            self.settings.check_url.clone(),
        );
        tokio::task::spawn_blocking(move || {
            letter::assemble(&LetterToPrint {
                letter: message_row,
                code: &code,
                order: &order,
                sender_name: &sender_name,
                check_url: &check_url,
                documents: &documents,
            })
            .map_err(|error| format!("the letter could not be made print-ready: {error}"))
        })
        .await
        .map_err(|error| format!("making the letter print-ready failed: {error}"))?
    }

    /// Hands over every batch that is due; returns how many were taken.
    pub async fn deliver_due(&self) -> anyhow::Result<usize> {
        let mut delivered = 0;
        for batch in self.store.batches_due(self.clock.now()).await? {
            let files = self.batch_files(&batch).await?;
            match self.house.deliver(&files).await {
                Ok(()) => {
                    self.store
                        .batch_delivered(batch.id, self.clock.now())
                        .await?;
                    delivered += 1;
                }
                Err(error) => {
                    let retry_at = self.clock.now()
                        + retry_delay(
                            self.settings.retry_base,
                            self.settings.retry_max,
                            batch.attempts + 1,
                        );
                    tracing::warn!(batch = %batch.id, %error, "a print batch was not taken");
                    self.store
                        .batch_delivery_failed(batch.id, &error.to_string(), retry_at)
                        .await?;
                }
            }
        }
        Ok(delivered)
    }

    async fn batch_files(&self, batch: &BatchToDeliver) -> anyhow::Result<BatchFiles> {
        let mut files = Vec::with_capacity(batch.letters.len());
        let mut letters = Vec::with_capacity(batch.letters.len());
        for letter in &batch.letters {
            let bytes = self
                .blobs
                .get(&letter.pdf)
                .await
                .context("reading a print-ready letter failed")?;
            let entry = ManifestLetter::new(
                letter.message_row,
                &letter.order,
                batch.kind,
                &letter.pdf,
                letter.pages,
                letter.sheets,
            );
            files.push((entry.file.clone(), bytes));
            letters.push(entry);
        }
        Ok(BatchFiles {
            manifest: Manifest::new(batch.id, batch.cut_off, batch.kind, letters),
            files,
        })
    }

    /// Records every answer file the print house left; returns how many
    /// answers were new. A file is put aside only after its answers are
    /// committed, so a crash in between means reading it again, which
    /// records nothing twice.
    pub async fn read_answers(&self) -> anyhow::Result<usize> {
        let mut recorded = 0;
        for file in self.house.answers().await? {
            let readable = match &file.content {
                Ok(content) => {
                    recorded += self.record(&content.answers).await?;
                    true
                }
                Err(error) => {
                    tracing::error!(file = %file.source, %error, "an answer file from the print house cannot be read");
                    false
                }
            };
            if let Err(error) = self.house.acknowledge(&file.source, readable).await {
                // Another node may have put it aside first.
                tracing::warn!(file = %file.source, %error, "an answer file could not be put aside");
            }
        }
        Ok(recorded)
    }

    /// Records answers about letters, each with its receipt; answers about
    /// letters Postkasse never printed are logged and left out.
    pub async fn record(&self, answers: &[Answer]) -> anyhow::Result<usize> {
        let mut recorded = Vec::with_capacity(answers.len());
        for answer in answers {
            let Some(return_handling) = self.store.return_handling(answer.letter).await? else {
                tracing::warn!(letter = %answer.letter, "an answer about a letter not in the print queue");
                continue;
            };
            let consequence = consequence(answer, return_handling);
            let receipt = match &consequence.receipt {
                Some(receipt) => Some(self.receipts.print_receipt(answer.letter, receipt).await?),
                None => None,
            };
            recorded.push(RecordedAnswer {
                message_row: answer.letter,
                status: answer.status,
                detail: answer.reason.clone().unwrap_or_default(),
                description: consequence.description,
                failed: consequence.failed,
                receipt,
                at: self.clock.now(),
            });
        }
        Ok(self.store.record_answers(&recorded).await?)
    }
}

/// Runs the chain's steps every `poll`, for as long as the server runs.
pub struct PrintWorker {
    pub chain: Arc<PrintChain>,
}

impl PrintWorker {
    pub async fn run(self) {
        loop {
            match self.chain.step().await {
                Ok(progress) if progress != Progress::default() => {
                    tracing::info!(?progress, "print chain step")
                }
                Ok(_) => {}
                Err(error) => {
                    tracing::error!(error = %format!("{error:#}"), "print chain step failed")
                }
            }
            tokio::time::sleep(self.chain.settings.poll).await;
        }
    }
}
