//! Bulk import from CSV files, for operators' commands and the demo: the
//! register's entries (`krr import`) and postal addresses (`address import`).
//!
//! The header names known columns (any order, case-insensitive; an unknown or
//! repeated one refuses the whole file). Each row is read on its own: a good
//! row becomes a value, a bad one is reported with its line number and every
//! reason, and changes nothing. Good rows are stored in batches, each batch
//! one transaction, so no row is ever half-stored. The file is read on a
//! blocking thread and the batches handed to the async side over a channel,
//! so reading and writing overlap; progress is reported by bytes read.

use anyhow::Context;
use std::{future::Future, io::Read};

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
    /// Rows inserted or changed.
    pub written: u64,
    /// Good rows already stored exactly so.
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

/// The file to import, buffered, and its size for the progress bar.
pub fn open(
    file: &std::path::Path,
) -> anyhow::Result<(std::io::BufReader<std::fs::File>, Option<u64>)> {
    let input =
        std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    let size = input.metadata().ok().map(|metadata| metadata.len());
    Ok((std::io::BufReader::new(input), size))
}

/// What a command says when an import is done: each refused row on stderr,
/// the counts on stdout, and an error (a non-zero exit) if any was refused.
pub fn print_report(report: &ImportReport) -> anyhow::Result<()> {
    for bad in &report.bad_rows {
        eprintln!("line {}: {}", bad.line, bad.reason);
    }
    println!(
        "{} rows: {} written, {} unchanged, {} refused",
        report.rows,
        report.written,
        report.unchanged,
        report.bad_rows.len()
    );
    anyhow::ensure!(
        report.is_clean(),
        "{} rows were refused (listed above); every other row was applied",
        report.bad_rows.len()
    );
    Ok(())
}

/// A bar for an import from a file of `total_bytes`, as the commands show it.
pub fn progress_bar(total_bytes: Option<u64>) -> anyhow::Result<indicatif::ProgressBar> {
    Ok(
        indicatif::ProgressBar::new(total_bytes.unwrap_or(0)).with_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {msg}",
            )?,
        ),
    )
}

/// One kind of file: its columns and how a row becomes a value.
pub trait RowReader: Send + 'static {
    type Row: Send + 'static;
    /// Every column a file may have.
    const COLUMNS: &'static [&'static str];
    /// The columns every file must have.
    const REQUIRED: &'static [&'static str];

    /// The row's value, or every reason it is refused.
    fn read(&self, row: &Row<'_>) -> Result<Self::Row, Vec<String>>;
}

/// Where each known column is in this file.
pub struct Columns {
    known: &'static [&'static str],
    index: Vec<Option<usize>>,
}

impl Columns {
    pub fn from_header(
        header: &csv::StringRecord,
        known: &'static [&'static str],
        required: &[&str],
    ) -> anyhow::Result<Columns> {
        let mut index = vec![None; known.len()];
        for (position, name) in header.iter().enumerate() {
            let column = known
                .iter()
                .position(|column| column.eq_ignore_ascii_case(name))
                .with_context(|| {
                    format!(
                        "the header names an unknown column {name:?}; known columns: {}",
                        known.join(", ")
                    )
                })?;
            anyhow::ensure!(index[column].is_none(), "the header names {name:?} twice");
            index[column] = Some(position);
        }
        for name in required {
            anyhow::ensure!(
                known
                    .iter()
                    .position(|column| column == name)
                    .is_some_and(|column| index[column].is_some()),
                "the header must name the column {name}"
            );
        }
        Ok(Columns { known, index })
    }
}

/// One data row, read by column name.
pub struct Row<'r> {
    columns: &'r Columns,
    record: &'r csv::StringRecord,
}

impl Row<'_> {
    /// The row's value in `column` (trimmed), empty when the file lacks it.
    pub fn get(&self, column: &str) -> &str {
        let known = self
            .columns
            .known
            .iter()
            .position(|name| *name == column)
            .expect("a known column");
        self.columns.index[known]
            .and_then(|position| self.record.get(position))
            .unwrap_or_default()
    }
}

struct Batch<T> {
    rows: Vec<T>,
    bad_rows: Vec<BadRow>,
    read: u64,
    bytes_read: u64,
}

impl<T> Batch<T> {
    fn new(capacity: usize) -> Batch<T> {
        Batch {
            rows: Vec::with_capacity(capacity),
            bad_rows: Vec::new(),
            read: 0,
            bytes_read: 0,
        }
    }
}

/// Imports every good row of `input`: `store` writes one batch (at most
/// `batch_rows` rows) in one transaction and says how many rows it changed.
pub async fn import<R, S, F>(
    input: impl Read + Send + 'static,
    total_bytes: Option<u64>,
    reader: R,
    batch_rows: usize,
    progress: &dyn Progress,
    mut store: S,
) -> anyhow::Result<ImportReport>
where
    R: RowReader,
    S: FnMut(Vec<R::Row>) -> F,
    F: Future<Output = anyhow::Result<u64>>,
{
    progress.start(total_bytes);
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<Batch<R::Row>>(4);
    let parser =
        tokio::task::spawn_blocking(move || read_batches(input, &reader, batch_rows, &sender));
    let mut report = ImportReport::default();
    while let Some(batch) = receiver.recv().await {
        let good = batch.rows.len() as u64;
        let written = store(batch.rows).await?;
        report.rows += batch.read;
        report.written += written;
        report.unchanged += good - written.min(good);
        report.bad_rows.extend(batch.bad_rows);
        progress.advance(batch.bytes_read, report.rows);
    }
    // The reader's own failure (an unreadable file or header) comes last, once
    // the channel has closed.
    parser.await.context("the CSV reader stopped")??;
    progress.finish();
    Ok(report)
}

/// Every row of `csv_text`, read at once: for tests of a [`RowReader`].
pub fn read_all<R: RowReader>(
    csv_text: &str,
    reader: &R,
) -> anyhow::Result<(Vec<R::Row>, Vec<BadRow>)> {
    let (sender, mut receiver) = tokio::sync::mpsc::channel(1024);
    read_batches(csv_text.as_bytes(), reader, 1000, &sender)?;
    drop(sender);
    let (mut rows, mut bad_rows) = (Vec::new(), Vec::new());
    while let Ok(batch) = receiver.try_recv() {
        rows.extend(batch.rows);
        bad_rows.extend(batch.bad_rows);
    }
    Ok((rows, bad_rows))
}

fn read_batches<R: RowReader>(
    input: impl Read,
    reader: &R,
    batch_rows: usize,
    sender: &tokio::sync::mpsc::Sender<Batch<R::Row>>,
) -> anyhow::Result<()> {
    let mut csv = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(input);
    let header = csv.headers().context("cannot read the CSV header")?.clone();
    let columns = Columns::from_header(&header, R::COLUMNS, R::REQUIRED)?;
    let mut batch = Batch::new(batch_rows);
    let mut record = csv::StringRecord::new();
    loop {
        let line = csv.position().line() + 1;
        match csv.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                batch.read += 1;
                let line = record.position().map_or(line, |position| position.line());
                let row = Row {
                    columns: &columns,
                    record: &record,
                };
                match reader.read(&row) {
                    Ok(value) => batch.rows.push(value),
                    Err(reasons) => batch.bad_rows.push(BadRow {
                        line,
                        reason: reasons.join("; "),
                    }),
                }
            }
            Err(error) => {
                // A broken row (bad UTF-8, say) is reported; the file goes on.
                batch.read += 1;
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
        if batch.rows.len() >= batch_rows {
            batch.bytes_read = csv.position().byte();
            let full = std::mem::replace(&mut batch, Batch::new(batch_rows));
            if sender.blocking_send(full).is_err() {
                return Ok(()); // The writer stopped; its error is reported there.
            }
        }
    }
    batch.bytes_read = csv.position().byte();
    let _ = sender.blocking_send(batch);
    Ok(())
}
