//! Data portability: everything in the citizen's archive as one zip, with
//! `index.json` describing every letter and upload and naming its files.
//!
//! At a login below a letter's security level the export leaves out that
//! letter's sensitive title and documents and says in the index that they
//! need a login at level high; the letter's non-sensitive title, sender and
//! dates are there. Letters waiting for the citizen's consent to an opening
//! receipt are listed without documents too, as the letter page would show
//! them. Every exported document is noted in its letter's access log as a
//! download. Beside each letter the citizen may read are their answer to
//! its reply form and their messages to its sender (with their files).
//!
//! An archive can be far larger than memory should hold, so the zip is
//! written to an unnamed temporary file (removed by the system when it is
//! closed), one document at a time, and the response streams that file.

use super::MailboxService;
use crate::blobs::BlobStore;
use crate::errors::internal;
use app::{
    api::session::SignedIn,
    domain::{Place, SecurityLevel, Sha256Digest},
    error::AppError,
};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::{
    io::{BufWriter, Seek, SeekFrom, Write},
    sync::Arc,
};

/// A finished export: the zip in an unnamed temporary file, read from the start.
pub struct ExportFile {
    pub file: std::fs::File,
    pub size_bytes: u64,
}

#[derive(Serialize)]
struct Index {
    eksportert: DateTime<Utc>,
    brev: Vec<IndexLetter>,
    opplastinger: Vec<IndexFile>,
}

#[derive(Serialize)]
struct IndexLetter {
    id: String,
    avsender: String,
    avsender_organisasjonsnummer: String,
    /// The manifest title, or the non-sensitive title when the login is too low.
    tittel: String,
    ikkesensitivtittel: String,
    sikkerhetsnivaa: u8,
    mottatt: DateTime<Utc>,
    lest: Option<DateTime<Utc>>,
    /// `innboks`, `arkiv`, `mappe` or `papirkurv`.
    plassering: &'static str,
    mappe: Option<String>,
    dokumenter: Vec<IndexFile>,
    /// The citizen's answer to the letter's reply form, once sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    svar: Option<IndexReply>,
    /// What the citizen wrote to the sender about the letter.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    meldinger: Vec<IndexMessage>,
    #[serde(skip_serializing_if = "Option::is_none")]
    merknad: Option<&'static str>,
}

#[derive(Serialize)]
struct IndexReply {
    skjema: String,
    sendt: Option<DateTime<Utc>>,
    /// The questions asked, in order, with what was answered (as the form
    /// showed it: a choice by its value, a date as `YYYY-MM-DD`, a file by
    /// its name; the files are in the sealed receipt among the uploads).
    svar: Vec<IndexAnswer>,
}

#[derive(Serialize)]
struct IndexAnswer {
    sporsmal: String,
    svar: Vec<String>,
}

#[derive(Serialize)]
struct IndexMessage {
    sendt: DateTime<Utc>,
    tekst: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    vedlegg: Option<IndexFile>,
}

#[derive(Serialize)]
struct IndexFile {
    /// The entry's path inside the zip.
    fil: String,
    navn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    tittel: Option<String>,
    mediatype: &'static str,
    sha256: String,
    storrelse: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    lastet_opp: Option<DateTime<Utc>>,
}

const NEEDS_HIGH: &str =
    "Dokumentene og den fullstendige tittelen krever innlogging på høyt sikkerhetsnivå.";
const NEEDS_CONSENT: &str =
    "Avsenderen vil vite når brevet åpnes: åpne brevet i postkassen for å få dokumentene.";

/// A file name safe as the last part of a zip entry: no directories, no
/// climbing out of the folder it is extracted to.
fn entry_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|character| {
            if matches!(character, '/' | '\\' | ':') || character.is_control() {
                '_'
            } else {
                character
            }
        })
        .collect();
    let trimmed = cleaned.trim_start_matches('.');
    if trimmed.is_empty() {
        "dokument".to_owned()
    } else {
        trimmed.to_owned()
    }
}

fn place_name(place: Place) -> &'static str {
    match place {
        Place::Inbox => "innboks",
        Place::Archive => "arkiv",
        Place::Folder(_) => "mappe",
        Place::Trash => "papirkurv",
    }
}

/// Writes the zip: `index.json` first, then every file, each read from the
/// blob store only when its turn comes. Runs on a blocking thread (zipping
/// is CPU work, the file is written synchronously); `runtime` reads the blobs.
fn write_zip(
    index: &Index,
    files: Vec<(String, Sha256Digest)>,
    blobs: &dyn BlobStore,
    runtime: &tokio::runtime::Handle,
) -> anyhow::Result<ExportFile> {
    let mut zip = zip::ZipWriter::new(BufWriter::new(tempfile::tempfile()?));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    zip.start_file("index.json", options)?;
    zip.write_all(&serde_json::to_vec_pretty(index)?)?;
    for (path, digest) in files {
        let bytes = runtime.block_on(blobs.get(&digest))?;
        zip.start_file(path, options)?;
        zip.write_all(&bytes)?;
    }
    let mut file = zip.finish()?.into_inner()?;
    let size_bytes = file.seek(SeekFrom::End(0))?;
    file.rewind()?;
    Ok(ExportFile { file, size_bytes })
}

impl MailboxService {
    /// The sent reply to the letter's form and the citizen's messages about
    /// it; each message's file is added to `files`.
    async fn conversation_for_export(
        &self,
        viewer: &SignedIn,
        letter: app::domain::LetterId,
        files: &mut Vec<(String, Sha256Digest)>,
    ) -> Result<(Option<IndexReply>, Vec<IndexMessage>), AppError> {
        let Some(replies) = &self.replies else {
            return Ok((None, Vec::new()));
        };
        let now = self.clock.now();
        let reply = match replies
            .letter_form(crate::store::Reader::of(viewer), letter, now)
            .await
            .map_err(internal)?
        {
            crate::replies::FormLookup::Form(form) => replies
                .sent_reply(&viewer.fnr, letter)
                .await
                .map_err(internal)?
                .map(|sent| IndexReply {
                    skjema: form.form.title.clone(),
                    sendt: sent.sent_at,
                    svar: form
                        .form
                        .path(&sent.answers)
                        .into_iter()
                        .map(|question| IndexAnswer {
                            sporsmal: question.text.clone(),
                            svar: sent
                                .answers
                                .get(&question.id)
                                .map(app::api::replies::field_values)
                                .unwrap_or_default(),
                        })
                        .collect(),
                }),
            _ => None,
        };
        let mut messages = Vec::new();
        for (number, (text, attachment, sent_at)) in replies
            .letter_messages(&viewer.fnr, letter)
            .await
            .map_err(internal)?
            .into_iter()
            .enumerate()
        {
            let file = match attachment {
                Some(file) => {
                    let digest = Sha256Digest::from_hex(&file.sha256)
                        .ok_or_else(|| internal(anyhow::anyhow!("a message file's digest")))?;
                    let path = format!(
                        "brev/{letter}/melding-{}-{}",
                        number + 1,
                        entry_name(&file.file_name)
                    );
                    files.push((path.clone(), digest));
                    Some(IndexFile {
                        fil: path,
                        navn: file.file_name,
                        tittel: None,
                        mediatype: app::domain::MediaType::from_mime(&file.media_type)
                            .map_or("application/octet-stream", |media_type| {
                                media_type.as_mime()
                            }),
                        sha256: file.sha256,
                        storrelse: file.size_bytes,
                        lastet_opp: None,
                    })
                }
                None => None,
            };
            messages.push(IndexMessage {
                sendt: sent_at,
                tekst: text,
                vedlegg: file,
            });
        }
        Ok((reply, messages))
    }

    /// The citizen's whole archive as a zip (see the module docs for what a
    /// low login leaves out).
    pub async fn export(&self, viewer: &SignedIn) -> Result<ExportFile, AppError> {
        let now = self.clock.now();
        let letters = self
            .store
            .archived_letters(&viewer.fnr, now)
            .await
            .map_err(internal)?;
        let folders = self.store.folders(&viewer.fnr).await.map_err(internal)?;
        let uploads = self.store.uploads(&viewer.fnr).await.map_err(internal)?;
        let mut files = Vec::new();
        let mut index = Index {
            eksportert: now,
            brev: Vec::with_capacity(letters.len()),
            opplastinger: Vec::with_capacity(uploads.len()),
        };
        for archived in letters {
            let letter = archived.letter;
            let readable = viewer.level >= letter.security_level;
            let note = if !readable {
                Some(NEEDS_HIGH)
            } else if archived.opening_receipt_pending {
                Some(NEEDS_CONSENT)
            } else {
                None
            };
            let mut documents = Vec::new();
            if note.is_none() {
                for (position, document) in letter.documents.iter().enumerate() {
                    self.note_download(viewer, letter.id, position).await?;
                    let path = format!(
                        "brev/{}/{position}-{}",
                        letter.id,
                        entry_name(&document.file_name)
                    );
                    documents.push(IndexFile {
                        fil: path.clone(),
                        navn: document.file_name.clone(),
                        tittel: Some(document.title.to_string()),
                        mediatype: document.media_type.as_mime(),
                        sha256: document.digest.to_hex(),
                        storrelse: document.size_bytes,
                        lastet_opp: None,
                    });
                    files.push((path, document.digest));
                }
            }
            let folder = match archived.place {
                Place::Folder(id) => folders
                    .iter()
                    .find(|folder| folder.id == id)
                    .map(|folder| folder.name.clone()),
                _ => None,
            };
            let (svar, meldinger) = if note.is_none() {
                self.conversation_for_export(viewer, letter.id, &mut files)
                    .await?
            } else {
                (None, Vec::new())
            };
            index.brev.push(IndexLetter {
                id: letter.id.to_string(),
                avsender: letter.sender.name,
                avsender_organisasjonsnummer: letter.sender.org_nr.as_str().to_owned(),
                tittel: if readable {
                    letter.title.to_string()
                } else {
                    letter.nonsensitive_title.to_string()
                },
                ikkesensitivtittel: letter.nonsensitive_title.to_string(),
                sikkerhetsnivaa: match letter.security_level {
                    SecurityLevel::Substantial => 3,
                    SecurityLevel::High => 4,
                },
                mottatt: letter.received_at,
                lest: letter.read_at,
                plassering: place_name(archived.place),
                mappe: folder,
                dokumenter: documents,
                svar,
                meldinger,
                merknad: note,
            });
        }
        for upload in uploads {
            let path = format!(
                "opplastinger/{}-{}",
                upload.id,
                entry_name(upload.name.as_str())
            );
            index.opplastinger.push(IndexFile {
                fil: path.clone(),
                navn: upload.name.as_str().to_owned(),
                tittel: None,
                mediatype: upload.media_type.as_mime(),
                sha256: upload.digest.to_hex(),
                storrelse: upload.size_bytes,
                lastet_opp: Some(upload.uploaded_at),
            });
            files.push((path, upload.digest));
        }
        let blobs = Arc::clone(&self.blobs);
        let runtime = tokio::runtime::Handle::current();
        let export =
            tokio::task::spawn_blocking(move || write_zip(&index, files, blobs.as_ref(), &runtime))
                .await
                .map_err(internal)?
                .map_err(internal)?;
        self.activity
            .record_activity(&[crate::activity::Activity {
                fnr: viewer.fnr.clone(),
                at: now,
                kind: app::api::activity::ActivityKind::Export,
            }])
            .await
            .map_err(internal)?;
        Ok(export)
    }
}

#[cfg(test)]
mod tests {
    use super::entry_name;

    #[test]
    fn entry_names_stay_inside_their_folder() {
        assert_eq!(entry_name("brev.pdf"), "brev.pdf");
        assert_eq!(entry_name("../../etc/passwd"), "_.._etc_passwd");
        assert_eq!(entry_name("..\\x"), "_x");
        assert_eq!(entry_name(""), "dokument");
        assert_eq!(entry_name("skatt ø.pdf"), "skatt ø.pdf");
    }
}
