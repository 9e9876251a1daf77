//! Letters, their documents and their senders.

use super::{ConversationId, Fnr, LetterId, MessageId, OrgNr, SecurityLevel};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::{fmt, marker::PhantomData};

/// Why a piece of text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most {max} characters")]
    TooLong { max: usize },
    #[error("must not contain control characters")]
    ControlCharacters,
    #[error("must not contain / or \\")]
    PathSeparators,
}

/// The rules of one kind of [`CheckedText`]: its name, its length bound and
/// any check beyond the common ones.
pub trait TextRules {
    /// What the text type is called; `Debug` shows it, as in `Title("…")`.
    const NAME: &'static str;
    /// The most characters (not bytes) the text may have.
    const MAX_CHARS: usize;

    /// Runs after the common checks, on the trimmed text.
    fn check(_text: &str) -> Result<(), TextError> {
        Ok(())
    }
}

/// A piece of text with a checked constructor: `parse` trims it, bounds it
/// in characters and refuses control characters, then runs `R::check`.
/// Serde goes through `parse` too, and `Display` and `as_str` give the text
/// back. `R` is only a marker, so the traits are written by hand rather than
/// derived (a derive would ask the same of `R`).
#[derive(Serialize, Deserialize)]
#[serde(try_from = "String", into = "String", bound = "R: TextRules")]
pub struct CheckedText<R>(String, PhantomData<fn() -> R>);

impl<R: TextRules> CheckedText<R> {
    pub const MAX_CHARS: usize = R::MAX_CHARS;

    pub fn parse(input: &str) -> Result<Self, TextError> {
        let text = checked_text(input, Self::MAX_CHARS)?;
        R::check(&text)?;
        Ok(Self(text, PhantomData))
    }
}

impl<R> CheckedText<R> {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<R: TextRules> TryFrom<String> for CheckedText<R> {
    type Error = TextError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl<R> From<CheckedText<R>> for String {
    fn from(text: CheckedText<R>) -> String {
        text.0
    }
}

impl<R> fmt::Display for CheckedText<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<R: TextRules> fmt::Debug for CheckedText<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple(R::NAME).field(&self.0).finish()
    }
}

impl<R> Clone for CheckedText<R> {
    fn clone(&self) -> Self {
        Self(self.0.clone(), PhantomData)
    }
}

impl<R> PartialEq for CheckedText<R> {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl<R> Eq for CheckedText<R> {}

/// The rules of a [`Title`].
pub enum TitleRules {}

impl TextRules for TitleRules {
    const NAME: &'static str = "Title";
    const MAX_CHARS: usize = 255;
}

/// A title shown to the citizen: 1 to 255 characters, as DPI allows for
/// `ikkesensitivtittel` and manifest titles; surrounding whitespace trimmed.
pub type Title = CheckedText<TitleRules>;

/// Trims, then checks length (in characters, not bytes) and control characters.
pub fn checked_text(input: &str, max_chars: usize) -> Result<String, TextError> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(TextError::Empty);
    }
    if trimmed.chars().count() > max_chars {
        return Err(TextError::TooLong { max: max_chars });
    }
    if trimmed.chars().any(char::is_control) {
        return Err(TextError::ControlCharacters);
    }
    Ok(trimmed.to_owned())
}

/// The public body that sent a letter (`avsender`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sender {
    pub org_nr: OrgNr,
    pub name: String,
}

impl Sender {
    pub const MAX_NAME_CHARS: usize = 200;

    pub fn new(org_nr: OrgNr, name: &str) -> Result<Sender, TextError> {
        Ok(Sender {
            org_nr,
            name: checked_text(name, Self::MAX_NAME_CHARS)?,
        })
    }
}

/// The formats a document may have. DPI allows more; these are the ones
/// Postkasse can show a citizen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MediaType {
    Pdf,
    Html,
    PlainText,
    Png,
    Jpeg,
}

impl MediaType {
    pub fn as_mime(self) -> &'static str {
        match self {
            MediaType::Pdf => "application/pdf",
            MediaType::Html => "text/html",
            MediaType::PlainText => "text/plain",
            MediaType::Png => "image/png",
            MediaType::Jpeg => "image/jpeg",
        }
    }

    pub fn from_mime(mime: &str) -> Option<MediaType> {
        let essence = mime.split(';').next().unwrap_or_default().trim();
        [
            MediaType::Pdf,
            MediaType::Html,
            MediaType::PlainText,
            MediaType::Png,
            MediaType::Jpeg,
        ]
        .into_iter()
        .find(|media_type| media_type.as_mime().eq_ignore_ascii_case(essence))
    }

    /// Whether the bytes look like this format. Only formats with a fixed
    /// signature can be checked; text formats always pass.
    pub fn matches_content(self, bytes: &[u8]) -> bool {
        match self {
            // PDF readers accept the header anywhere in the first 1024 bytes.
            MediaType::Pdf => bytes.windows(5).take(1024).any(|window| window == b"%PDF-"),
            MediaType::Png => bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
            MediaType::Jpeg => bytes.starts_with(&[0xFF, 0xD8, 0xFF]),
            MediaType::Html | MediaType::PlainText => true,
        }
    }
}

/// The SHA-256 digest of a document's bytes: its address in the blob store.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Sha256Digest([u8; 32]);

impl Sha256Digest {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    pub fn from_hex(text: &str) -> Option<Self> {
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(text, &mut bytes).ok()?;
        Some(Self(bytes))
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sha256Digest({})", self.to_hex())
    }
}

impl TryFrom<String> for Sha256Digest {
    type Error = &'static str;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Sha256Digest::from_hex(&value).ok_or("must be 64 hexadecimal digits")
    }
}

impl From<Sha256Digest> for String {
    fn from(digest: Sha256Digest) -> String {
        digest.to_hex()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DocumentRole {
    /// The `hoveddokument`: exactly one per letter.
    Main,
    /// A `vedlegg`.
    Attachment,
}

/// One document of a letter. The bytes live in the blob store under `digest`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Document {
    pub role: DocumentRole,
    pub title: Title,
    pub file_name: String,
    pub media_type: MediaType,
    pub digest: Sha256Digest,
    pub size_bytes: u64,
}

/// Who signed a letter's package (DPI's XAdES signature): checked when the
/// letter arrived, its certificate chained to an authority this Postkasse
/// trusts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageSigner {
    /// The organisation number in the signing certificate.
    pub org_nr: OrgNr,
    /// The certificate's organisation and common name, for people.
    pub name: String,
    /// The signing time the signature claims.
    pub signed_at: Option<DateTime<Utc>>,
}

/// A letter in a citizen's mailbox; a newly delivered one has no `read_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Letter {
    pub id: LetterId,
    pub message_id: MessageId,
    pub conversation_id: ConversationId,
    pub recipient: Fnr,
    pub sender: Sender,
    /// The `ikkesensitivtittel`: may be shown before login and in notices.
    pub nonsensitive_title: Title,
    /// The manifest title: shown only at the letter's security level.
    pub title: Title,
    pub security_level: SecurityLevel,
    pub received_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
    pub documents: Vec<Document>,
    /// A link out to the sender's own service (DPI's `lenke`).
    pub link: Option<super::LetterLink>,
    /// Who signed its package, when it came signed.
    pub signer: Option<PackageSigner>,
}

/// One line of a citizen's inbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LetterSummary {
    pub id: LetterId,
    pub sender_name: String,
    pub nonsensitive_title: Title,
    pub title: Title,
    pub security_level: SecurityLevel,
    pub received_at: DateTime<Utc>,
    pub unread: bool,
    pub document_count: u32,
    /// The sender is registered here as an agency that sends through DPI.
    pub public_sender: bool,
    /// The deadline of the letter's reply form, while it is unanswered.
    pub reply_by: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_are_trimmed_and_bounded_in_characters() {
        assert_eq!(
            Title::parse("  Vedtak om skatt  ").unwrap().as_str(),
            "Vedtak om skatt"
        );
        assert_eq!(Title::parse("   "), Err(TextError::Empty));
        let longest = "ø".repeat(255);
        assert!(
            Title::parse(&longest).is_ok(),
            "255 two-byte characters are fine"
        );
        assert_eq!(
            Title::parse(&"ø".repeat(256)),
            Err(TextError::TooLong { max: 255 })
        );
        assert_eq!(
            Title::parse("a\u{0007}b"),
            Err(TextError::ControlCharacters)
        );
    }

    #[test]
    fn serde_goes_through_parse_and_debug_names_the_type() {
        use serde::de::{value, IntoDeserializer};
        let read = |text: &'static str| {
            let deserializer: value::StrDeserializer<'_, value::Error> = text.into_deserializer();
            Title::deserialize(deserializer)
        };
        assert_eq!(read(" Vedtak ").unwrap().as_str(), "Vedtak");
        assert!(read("  ").is_err());
        assert_eq!(
            format!("{:?}", read("Vedtak").unwrap()),
            "Title(\"Vedtak\")"
        );
        assert_eq!(Title::MAX_CHARS, 255);
    }

    #[test]
    fn pdf_is_recognised_by_its_signature_not_its_label() {
        assert!(MediaType::Pdf.matches_content(b"%PDF-1.7\n..."));
        assert!(MediaType::Pdf.matches_content(b"\xEF\xBB\xBF%PDF-1.4"));
        assert!(!MediaType::Pdf.matches_content(b"Hello, I am a text file"));
        assert!(!MediaType::Pdf.matches_content(b""));
        let late_header = [vec![b' '; 1100], b"%PDF-1.4".to_vec()].concat();
        assert!(!MediaType::Pdf.matches_content(&late_header));
    }

    #[test]
    fn media_types_are_read_from_mime_strings_with_parameters() {
        assert_eq!(
            MediaType::from_mime("application/pdf"),
            Some(MediaType::Pdf)
        );
        assert_eq!(
            MediaType::from_mime("Text/HTML; charset=utf-8"),
            Some(MediaType::Html)
        );
        assert_eq!(MediaType::from_mime("application/x-msdownload"), None);
    }

    #[test]
    fn digests_round_trip_through_hex() {
        let digest = Sha256Digest::from_bytes([0xab; 32]);
        assert_eq!(Sha256Digest::from_hex(&digest.to_hex()), Some(digest));
        assert_eq!(Sha256Digest::from_hex("abc"), None);
        assert_eq!(Sha256Digest::from_hex(&"zz".repeat(32)), None);
    }
}
