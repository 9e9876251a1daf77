//! How batches reach the print house and its answers come back.
//!
//! [`PrintHouse`] is the seam: the default is [`DropDirectory`], a folder
//! shared with the print house as an SFTP drop is. An HTTP print API would be
//! another implementation.
//!
//! The drop's layout:
//! - `outgoing/<batch id>/`: a batch, its letters' PDFs and `manifest.json`.
//!   It is written under a temporary name, every file and the folder synced,
//!   and renamed into place, so the print house never sees half a batch.
//!   A batch already there is not written again: re-sending is idempotent by
//!   batch id.
//! - `responses/*.json`: the print house's answers ([`super::answers`]).
//!   Postkasse moves each to `responses/processed/` once it is recorded, or
//!   to `responses/rejected/` when it cannot be read.

use super::{answers::AnswerFile, batch::Manifest};
use async_trait::async_trait;
use bytes::Bytes;
use std::{
    fs,
    io::Write,
    path::{Path, PathBuf},
};

/// A batch as it is handed over.
#[derive(Debug, Clone)]
pub struct BatchFiles {
    pub manifest: Manifest,
    /// Each letter's file name (as the manifest names it) and bytes.
    pub files: Vec<(String, Bytes)>,
}

/// An answer file the print house left, read.
#[derive(Debug)]
pub struct ReceivedAnswers {
    /// Where it came from, to acknowledge it by.
    pub source: String,
    /// What it says; an error when it cannot be read.
    pub content: Result<AnswerFile, String>,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct TransportError(pub String);

impl From<std::io::Error> for TransportError {
    fn from(error: std::io::Error) -> Self {
        TransportError(error.to_string())
    }
}

#[async_trait]
pub trait PrintHouse: Send + Sync + 'static {
    /// Hands the batch over; done when it returns `Ok`. Handing the same
    /// batch over again does nothing.
    async fn deliver(&self, batch: &BatchFiles) -> Result<(), TransportError>;

    /// The answers waiting, oldest first.
    async fn answers(&self) -> Result<Vec<ReceivedAnswers>, TransportError>;

    /// The answers from `source` are recorded (or could not be read): they
    /// are not to be read again.
    async fn acknowledge(&self, source: &str, readable: bool) -> Result<(), TransportError>;
}

pub struct DropDirectory {
    root: PathBuf,
}

impl DropDirectory {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    fn outgoing(&self) -> PathBuf {
        self.root.join("outgoing")
    }

    fn responses(&self) -> PathBuf {
        self.root.join("responses")
    }
}

fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = fs::File::create(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

fn sync_directory(path: &Path) -> std::io::Result<()> {
    fs::File::open(path)?.sync_all()
}

fn deliver_to(outgoing: &Path, batch: &BatchFiles) -> Result<(), TransportError> {
    fs::create_dir_all(outgoing)?;
    let id = batch.manifest.batch;
    let target = outgoing.join(id.to_string());
    if target.is_dir() {
        return Ok(());
    }
    // A dot-name the print house ignores, and this writer's own: two
    // processes delivering the same batch (the worker and `print batch`, or
    // two nodes) must not write into, or remove, each other's folder. One
    // cut off is left behind under its dot-name.
    let partial = outgoing.join(format!(".{id}.{}.partial", uuid::Uuid::new_v4()));
    fs::create_dir(&partial)?;
    let written = (|| -> Result<(), TransportError> {
        for (name, bytes) in &batch.files {
            write_synced(&partial.join(name), bytes)?;
        }
        let manifest = serde_json::to_vec_pretty(&batch.manifest)
            .map_err(|error| TransportError(error.to_string()))?;
        write_synced(&partial.join("manifest.json"), &manifest)?;
        Ok(sync_directory(&partial)?)
    })();
    if let Err(error) = written {
        let _ = fs::remove_dir_all(&partial);
        return Err(error);
    }
    match fs::rename(&partial, &target) {
        Ok(()) => {}
        // Another writer put the whole batch there first.
        Err(_) if target.join("manifest.json").is_file() => {
            fs::remove_dir_all(&partial)?;
            return Ok(());
        }
        Err(error) => return Err(error.into()),
    }
    sync_directory(outgoing)?;
    Ok(())
}

fn read_answers(responses: &Path) -> Result<Vec<ReceivedAnswers>, TransportError> {
    fs::create_dir_all(responses)?;
    let mut files: Vec<(std::time::SystemTime, PathBuf)> = fs::read_dir(responses)?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.is_file() && path.extension().is_some_and(|ext| ext == "json"))
        .map(|path| {
            let modified = fs::metadata(&path)
                .and_then(|metadata| metadata.modified())
                .unwrap_or(std::time::UNIX_EPOCH);
            (modified, path)
        })
        .collect();
    files.sort();
    Ok(files
        .into_iter()
        .map(|(_, path)| {
            let content = fs::read(&path)
                .map_err(|error| error.to_string())
                .and_then(|bytes| {
                    serde_json::from_slice::<AnswerFile>(&bytes).map_err(|error| error.to_string())
                });
            ReceivedAnswers {
                source: path
                    .file_name()
                    .map(|name| name.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                content,
            }
        })
        .collect())
}

fn acknowledge_in(responses: &Path, source: &str, readable: bool) -> Result<(), TransportError> {
    // Only a plain file name from our own listing is moved.
    if source.contains('/') || source.contains('\\') || source.starts_with('.') {
        return Err(TransportError(format!("not an answer file: {source}")));
    }
    let folder = responses.join(if readable { "processed" } else { "rejected" });
    fs::create_dir_all(&folder)?;
    fs::rename(responses.join(source), folder.join(source))?;
    sync_directory(responses)?;
    Ok(())
}

#[async_trait]
impl PrintHouse for DropDirectory {
    async fn deliver(&self, batch: &BatchFiles) -> Result<(), TransportError> {
        let outgoing = self.outgoing();
        let batch = batch.clone();
        tokio::task::spawn_blocking(move || deliver_to(&outgoing, &batch))
            .await
            .map_err(|error| TransportError(error.to_string()))?
    }

    async fn answers(&self) -> Result<Vec<ReceivedAnswers>, TransportError> {
        let responses = self.responses();
        tokio::task::spawn_blocking(move || read_answers(&responses))
            .await
            .map_err(|error| TransportError(error.to_string()))?
    }

    async fn acknowledge(&self, source: &str, readable: bool) -> Result<(), TransportError> {
        let responses = self.responses();
        let source = source.to_owned();
        tokio::task::spawn_blocking(move || acknowledge_in(&responses, &source, readable))
            .await
            .map_err(|error| TransportError(error.to_string()))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::print::{batch::Envelope, PostClass, PrintColour};

    fn batch() -> BatchFiles {
        BatchFiles {
            manifest: Manifest {
                batch: uuid::Uuid::new_v4(),
                cut_off: chrono::Utc::now(),
                post_class: PostClass::B,
                colour: PrintColour::BlackAndWhite,
                envelope: Envelope::C5,
                letters: vec![],
            },
            files: vec![("a.pdf".into(), Bytes::from_static(b"%PDF-1.7"))],
        }
    }

    #[tokio::test]
    async fn a_batch_appears_whole_and_once() {
        let root = tempfile::tempdir().unwrap();
        let drop = DropDirectory::new(root.path());
        let batch = batch();
        drop.deliver(&batch).await.unwrap();
        let folder = root
            .path()
            .join("outgoing")
            .join(batch.manifest.batch.to_string());
        assert_eq!(fs::read(folder.join("a.pdf")).unwrap(), b"%PDF-1.7");
        let manifest: Manifest =
            serde_json::from_slice(&fs::read(folder.join("manifest.json")).unwrap()).unwrap();
        assert_eq!(manifest, batch.manifest);
        // Sent again (the print house has it, and changed nothing): untouched.
        fs::write(folder.join("a.pdf"), b"taken").unwrap();
        drop.deliver(&batch).await.unwrap();
        assert_eq!(fs::read(folder.join("a.pdf")).unwrap(), b"taken");
        let names: Vec<_> = fs::read_dir(root.path().join("outgoing"))
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "no partial folder is left: {names:?}");
    }

    #[test]
    fn two_writers_of_one_batch_leave_it_whole_and_nothing_else() {
        for _ in 0..20 {
            let root = tempfile::tempdir().unwrap();
            let outgoing = root.path().join("outgoing");
            let batch = batch();
            std::thread::scope(|scope| {
                for _ in 0..2 {
                    scope.spawn(|| deliver_to(&outgoing, &batch).unwrap());
                }
            });
            let names: Vec<_> = fs::read_dir(&outgoing)
                .unwrap()
                .map(|entry| entry.unwrap().file_name())
                .collect();
            assert_eq!(names, [batch.manifest.batch.to_string().as_str()]);
            let folder = outgoing.join(batch.manifest.batch.to_string());
            assert!(folder.join("manifest.json").is_file());
            assert_eq!(fs::read(folder.join("a.pdf")).unwrap(), b"%PDF-1.7");
        }
    }

    #[tokio::test]
    async fn answers_are_read_then_moved_aside() {
        let root = tempfile::tempdir().unwrap();
        let drop = DropDirectory::new(root.path());
        let responses = root.path().join("responses");
        fs::create_dir_all(&responses).unwrap();
        fs::write(responses.join("good.json"), br#"{"answers": []}"#).unwrap();
        fs::write(responses.join("bad.json"), b"{").unwrap();
        let answers = drop.answers().await.unwrap();
        assert_eq!(answers.len(), 2);
        for answer in &answers {
            drop.acknowledge(&answer.source, answer.content.is_ok())
                .await
                .unwrap();
        }
        assert!(drop.answers().await.unwrap().is_empty());
        assert!(responses.join("processed/good.json").exists());
        assert!(responses.join("rejected/bad.json").exists());
        assert!(drop.acknowledge("../x.json", true).await.is_err());
    }
}
