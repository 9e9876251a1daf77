//! The DPI document package (`dokumentpakke`): an ASiC-E zip holding the SDP
//! manifest (`manifest.xml`) and the letter's documents.
//!
//! - [`open`] reads a package a sender sent, checks it against DPI's rules
//!   (docs/protocol.md#document-package) and returns a typed [`Package`], or
//!   every problem it found, each as a [`FieldError`] named by its place in
//!   the package (`dokumentpakke.manifest.xml`,
//!   `dokumentpakke.hoveddokument.mime`, `dokumentpakke.vedlegg[3]`;
//!   `vedlegg` are counted from 0).
//! - [`build`] writes a package, for tests, the demo and the sender CLI.
//! - [`fingerprint`] is the `dokumentpakkefingeravtrykk` of the bytes sent.
//! - [`is_zip`] and [`is_cms`] tell a plain package from an encrypted one;
//!   [`super::cms`] opens (and makes) the encrypted form.
//!
//! Everything here is synchronous and CPU-bound (inflating up to 50 MiB,
//! parsing XML): async callers run it in `tokio::task::spawn_blocking`.

use crate::validation::FieldError;
use app::domain::letter::checked_text;
use app::domain::{MediaType, OrgNr, Title};
use base64::Engine as _;
use bytes::Bytes;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::io::{Cursor, Read, Write};

/// Why a package could not be encrypted, decrypted or written.
///
/// Messages never carry key material or plaintext: they may be shown to the
/// sender.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    #[error("the package is not CMS EnvelopedData: {0}")]
    NotEnvelopedData(String),
    #[error("the package is not encrypted to this provider's certificate")]
    NotForThisProvider,
    #[error("the {what} {oid} is not supported")]
    UnsupportedAlgorithm { what: &'static str, oid: String },
    #[error("the {0} are malformed")]
    BadParameters(&'static str),
    #[error("the content-encryption key cannot be decrypted with this provider's key")]
    KeyDecryption,
    #[error("the content cannot be decrypted: wrong key or damaged ciphertext")]
    ContentDecryption,
    #[error("the package has no encrypted content")]
    NoContent,
    #[error("the certificate has no usable RSA public key")]
    Certificate,
    #[error("the content-encryption key cannot be encrypted to the certificate's key")]
    KeyEncryption,
    #[error("encoding the CMS structure failed: {0}")]
    Encoding(String),
    #[error("writing the zip container failed: {0}")]
    Zip(String),
}

/// The ASiC-E `mimetype` entry's required content.
pub const ASIC_E_MIMETYPE: &str = "application/vnd.etsi.asic-e+zip";
/// The SDP manifest's XML namespace.
pub const SDP_NAMESPACE: &str = "http://begrep.difi.no/sdp/schema_v10";
/// The most `vedlegg` a package may have.
pub const MAX_ATTACHMENTS: usize = 200;
/// A manifest for 201 documents with 255-character titles is far below this.
const MAX_MANIFEST_BYTES: u64 = 1024 * 1024;
const MAX_AVSENDERIDENTIFIKATOR_CHARS: usize = 100;
const MAX_POSTKASSEADRESSE_CHARS: usize = 100;

/// The MIME types DPI allows for documents
/// (<https://docs.digdir.no/dpi_mimetypes.html>), lower case.
pub const DPI_MIME_TYPES: &[&str] = &[
    "application/pdf",
    "text/html",
    "text/plain",
    "application/ehf+xml",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.presentation",
    "application/vnd.oasis.opendocument.graphics",
    "image/gif",
    "image/jpeg",
    "image/png",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/octet-stream",
    "application/vnd.difi.dpi.lenke+xml",
    "application/vnd.difi.dpi.bevis+xml",
    "application/vnd.difi.dpi.arrangement+xml",
];

/// The types a document's `data` file may have besides DPI's: Postkasse's
/// reply form (docs/replies.md) and signing order (docs/signing.md).
pub const POSTKASSE_DATA_TYPES: &[&str] = &[
    crate::replies::form::MEDIA_TYPE,
    crate::signing::order::MEDIA_TYPE,
];

/// File name endings of programs and scripts, which DPI forbids. The list is
/// not exhaustive; the content check in [`executable_reason`] catches
/// renamed binaries.
const EXECUTABLE_EXTENSIONS: &[&str] = &[
    ".exe", ".bat", ".cmd", ".com", ".msi", ".sh", ".js", ".scr", ".ps1", ".vbs", ".vbe", ".jse",
    ".wsf", ".hta", ".jar", ".dll", ".cpl", ".pif", ".lnk", ".app", ".apk",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PackageLimits {
    /// The most bytes all documents may take uncompressed, counted while
    /// inflating.
    pub max_total_bytes: u64,
    /// The most entries (files and folders) the zip may have.
    pub max_entries: usize,
}

impl Default for PackageLimits {
    fn default() -> Self {
        Self {
            max_total_bytes: 50 * 1024 * 1024,
            max_entries: 1000,
        }
    }
}

/// A package that passed every check.
#[derive(Clone)]
pub struct Package {
    pub avsender: OrgNr,
    pub avsenderidentifikator: Option<String>,
    /// 11 digits, not yet checked as a national id: the caller compares it
    /// with the business message's recipient under its own policy for
    /// synthetic ids.
    pub mottaker_personidentifikator: Option<String>,
    pub mottaker_postkasseadresse: Option<String>,
    pub main: PackageDocument,
    pub attachments: Vec<PackageDocument>,
    /// `manifest.xml` as it is in the package, for checking its signature.
    pub manifest_xml: Bytes,
    /// `META-INF/signatures.xml`, the sender's XAdES signature, if any.
    pub signatures_xml: Option<Bytes>,
}

// By hand: the national id must not reach logs, nor megabytes of document bytes.
impl fmt::Debug for Package {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Package")
            .field("avsender", &self.avsender)
            .field("avsenderidentifikator", &self.avsenderidentifikator)
            .field(
                "mottaker_personidentifikator",
                &self.mottaker_personidentifikator.as_ref().map(|_| "***"),
            )
            .field("mottaker_postkasseadresse", &self.mottaker_postkasseadresse)
            .field("main", &self.main)
            .field("attachments", &self.attachments)
            .field("signed", &self.signatures_xml.is_some())
            .finish()
    }
}

/// One document of a package: the `hoveddokument` or a `vedlegg`.
#[derive(Clone, PartialEq, Eq)]
pub struct PackageDocument {
    pub href: String,
    /// One of [`DPI_MIME_TYPES`], lower case, without parameters.
    pub mime: String,
    pub title: Title,
    pub lang: Option<String>,
    pub bytes: Bytes,
    /// The document's extension data (`<data href mime>`), e.g. a
    /// `application/vnd.difi.dpi.lenke+xml` file.
    pub data: Option<PackageData>,
}

impl PackageDocument {
    /// The type as Postkasse knows it, when it is one Postkasse can show.
    pub fn media_type(&self) -> Option<MediaType> {
        MediaType::from_mime(&self.mime)
    }
}

impl fmt::Debug for PackageDocument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PackageDocument")
            .field("href", &self.href)
            .field("mime", &self.mime)
            .field("title", &self.title)
            .field("lang", &self.lang)
            .field("bytes", &format_args!("{} bytes", self.bytes.len()))
            .field("data", &self.data)
            .finish()
    }
}

/// A document's `data` file.
#[derive(Clone, PartialEq, Eq)]
pub struct PackageData {
    pub href: String,
    pub mime: String,
    pub bytes: Bytes,
}

impl fmt::Debug for PackageData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PackageData")
            .field("href", &self.href)
            .field("mime", &self.mime)
            .field("bytes", &format_args!("{} bytes", self.bytes.len()))
            .finish()
    }
}

/// Whether the bytes are a zip (a plain ASiC-E package).
pub fn is_zip(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04")
}

/// Whether the bytes may be CMS (an encrypted package): a DER or BER
/// SEQUENCE. Only a first look; [`super::cms::decrypt`] decides.
pub fn is_cms(bytes: &[u8]) -> bool {
    bytes.first() == Some(&0x30)
}

/// The `dokumentpakkefingeravtrykk.digestValue`: the standard base64 of the
/// SHA-256 of the bytes as sent.
pub fn fingerprint(bytes: &[u8]) -> String {
    fingerprint_of(&crate::blobs::digest_of(bytes))
}

/// The fingerprint of bytes whose SHA-256 is known.
pub fn fingerprint_of(digest: &app::domain::Sha256Digest) -> String {
    base64::engine::general_purpose::STANDARD.encode(digest.as_bytes())
}

const PACKAGE: &str = "dokumentpakke";
const MANIFEST: &str = "dokumentpakke.manifest.xml";
const MANIFEST_FILE: &str = "manifest.xml";
const SIGNATURES_FILE: &str = "META-INF/signatures.xml";
/// Where problems with the package's signature are reported.
pub const SIGNATURES: &str = "dokumentpakke.META-INF/signatures.xml";
const MIMETYPE_FILE: &str = "mimetype";

/// Reads and checks a plain (decrypted) package, collecting every problem.
///
/// The documents are inflated within `limits.max_total_bytes` whatever the
/// zip claims, so a zip bomb costs at most that much memory.
///
/// The XAdES signature (`META-INF/signatures.xml`) is read here and checked
/// by [`super::xades`] against [`Package::signed_files`].
pub fn open(zip_bytes: &[u8], limits: &PackageLimits) -> Result<Package, Vec<FieldError>> {
    let fatal = |reason: String| vec![FieldError::new(PACKAGE, reason)];
    if !is_zip(zip_bytes) {
        return Err(fatal(
            "is not a zip file; an ASiC-E container was expected".into(),
        ));
    }
    // The zip crate allocates for every central-directory entry before it
    // can be asked how many there are, so the count is read first.
    let declared_entries = declared_entry_count(zip_bytes);
    if declared_entries.is_some_and(|count| count > limits.max_entries as u64) {
        return Err(fatal(format!("has more than {} files", limits.max_entries)));
    }
    let mut archive = zip::ZipArchive::new(Cursor::new(zip_bytes))
        .map_err(|error| fatal(format!("is not a readable zip file: {error}")))?;
    if archive.len() > limits.max_entries {
        return Err(fatal(format!("has more than {} files", limits.max_entries)));
    }

    let mut problems = Vec::new();
    // The zip crate keeps only the last of several entries with one name, so
    // a duplicate shows as fewer entries than the directory declares.
    if declared_entries.is_some_and(|count| count > archive.len() as u64) {
        problems.push(FieldError::new(
            PACKAGE,
            "holds two or more files with the same name",
        ));
    }

    let mut files: HashMap<String, usize> = HashMap::new();
    for index in 0..archive.len() {
        let entry = match archive.by_index_raw(index) {
            Ok(entry) => entry,
            Err(error) => {
                problems.push(FieldError::new(
                    PACKAGE,
                    format!("has an unreadable entry: {error}"),
                ));
                continue;
            }
        };
        if entry.is_dir() {
            continue;
        }
        // The raw name, not the zip crate's CP437 guess: DPI requires UTF-8.
        match std::str::from_utf8(entry.name_raw()) {
            Ok(name) => {
                files.insert(name.to_owned(), index);
            }
            Err(_) => problems.push(FieldError::new(
                PACKAGE,
                format!(
                    "holds a file whose name is not UTF-8 ({})",
                    String::from_utf8_lossy(entry.name_raw())
                ),
            )),
        }
    }

    let mut reader = Reader {
        archive,
        budget: limits.max_total_bytes,
        over_budget: false,
    };

    if let Some(&index) = files.get(MIMETYPE_FILE) {
        match reader.read(index, 1024) {
            Ok(bytes) if bytes.trim_ascii() == ASIC_E_MIMETYPE.as_bytes() => {}
            Ok(_) => problems.push(FieldError::new(
                "dokumentpakke.mimetype",
                format!("must be {ASIC_E_MIMETYPE}"),
            )),
            Err(problem) => {
                problems.push(FieldError::new("dokumentpakke.mimetype", problem.reason()))
            }
        }
    }

    let mut manifest_xml = Bytes::new();
    let manifest = match files.get(MANIFEST_FILE) {
        None => {
            problems.push(FieldError::new(
                MANIFEST,
                "is missing: the SDP manifest must be at the package's root",
            ));
            None
        }
        Some(&index) => match reader.read(index, MAX_MANIFEST_BYTES) {
            Ok(bytes) => {
                let parsed = parse_manifest(&bytes, &mut problems);
                manifest_xml = Bytes::from(bytes);
                parsed
            }
            Err(problem) => {
                problems.push(FieldError::new(MANIFEST, problem.reason()));
                None
            }
        },
    };

    for (name, _) in sorted(&files) {
        if let Some(inside) = strip_prefix_ignore_case(name, "META-INF/") {
            if !allowed_in_meta_inf(inside) {
                problems.push(FieldError::new(
                    PACKAGE,
                    format!("holds \"{name}\", which ASiC-E does not allow in META-INF"),
                ));
            }
        }
    }

    let signatures_xml = match files.get(SIGNATURES_FILE) {
        None => None,
        Some(&index) => match reader.read(index, MAX_MANIFEST_BYTES) {
            Ok(bytes) => Some(Bytes::from(bytes)),
            Err(problem) => {
                problems.push(FieldError::new(SIGNATURES, problem.reason()));
                None
            }
        },
    };

    let Some(manifest) = manifest else {
        return Err(problems);
    };

    let named: HashSet<&str> = manifest
        .documents()
        .flat_map(|document| [document.href.as_deref(), document.data_href()])
        .flatten()
        .chain(manifest.surplus_hrefs.iter().map(String::as_str))
        .collect();
    for (name, _) in sorted(&files) {
        if name != MIMETYPE_FILE
            && name != MANIFEST_FILE
            && strip_prefix_ignore_case(name, "META-INF/").is_none()
            && !named.contains(name.as_str())
        {
            problems.push(FieldError::new(
                PACKAGE,
                format!("holds \"{name}\", which manifest.xml does not name"),
            ));
        }
    }

    let main = manifest
        .main
        .and_then(|spec| load_document(spec, &files, &mut reader, &mut problems));
    let attachments: Vec<Option<PackageDocument>> = manifest
        .attachments
        .into_iter()
        .map(|spec| load_document(spec, &files, &mut reader, &mut problems))
        .collect();
    if reader.over_budget {
        problems.push(FieldError::new(
            PACKAGE,
            format!(
                "is larger than {} bytes uncompressed",
                limits.max_total_bytes
            ),
        ));
    }

    match (manifest.avsender, main, problems.is_empty()) {
        (Some(avsender), Some(main), true) => Ok(Package {
            avsender,
            avsenderidentifikator: manifest.avsenderidentifikator,
            mottaker_personidentifikator: manifest.personidentifikator,
            mottaker_postkasseadresse: manifest.postkasseadresse,
            main,
            attachments: attachments.into_iter().flatten().collect(),
            manifest_xml,
            signatures_xml,
        }),
        _ if problems.is_empty() => {
            // Every path that leaves a part missing records why; this is a
            // guard against a future path that forgets to.
            Err(vec![FieldError::new(MANIFEST, "is incomplete")])
        }
        _ => Err(problems),
    }
}

impl Package {
    /// Every file the sender's signature must cover: all but `mimetype` and
    /// what is in `META-INF` (the package holds no file its manifest does
    /// not name).
    pub fn signed_files(&self) -> Vec<(&str, &[u8])> {
        let mut files = vec![(MANIFEST_FILE, self.manifest_xml.as_ref())];
        for document in std::iter::once(&self.main).chain(&self.attachments) {
            files.push((document.href.as_str(), document.bytes.as_ref()));
            if let Some(data) = &document.data {
                files.push((data.href.as_str(), data.bytes.as_ref()));
            }
        }
        files
    }
}

/// The files in name order, so problems come out in a stable order.
fn sorted(files: &HashMap<String, usize>) -> Vec<(&String, &usize)> {
    let mut entries: Vec<_> = files.iter().collect();
    entries.sort();
    entries
}

fn strip_prefix_ignore_case<'a>(name: &'a str, prefix: &str) -> Option<&'a str> {
    let head = name.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &name[prefix.len()..])
}

/// What ASiC-E (ETSI EN 319 162-1) lets a container hold in `META-INF/`:
/// signatures, ASiC manifests, and the ODF-style `manifest.xml` that DPI's
/// own 2022 sample holds although the DPI text forbids it.
fn allowed_in_meta_inf(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    !lower.contains('/')
        && lower.ends_with(".xml")
        && (lower.contains("signatures")
            || lower.starts_with("asicmanifest")
            || lower == "manifest.xml")
}

/// The end-of-central-directory record's entry count (ZIP64's when the
/// classic field is saturated), or `None` when there is no such record.
fn declared_entry_count(bytes: &[u8]) -> Option<u64> {
    const RECORD: &[u8] = b"PK\x05\x06";
    const RECORD_LEN: usize = 22;
    let last = bytes.len().checked_sub(RECORD_LEN)?;
    let first = last.saturating_sub(u16::MAX as usize);
    let start = (first..=last)
        .rev()
        .find(|&at| bytes.get(at..at + 4) == Some(RECORD))?;
    let total = u16::from_le_bytes([*bytes.get(start + 10)?, *bytes.get(start + 11)?]);
    if total != u16::MAX {
        return Some(total.into());
    }
    let locator = bytes.get(start.checked_sub(20)?..start)?;
    if !locator.starts_with(b"PK\x06\x07") {
        return Some(total.into());
    }
    let offset = usize::try_from(u64::from_le_bytes(locator.get(8..16)?.try_into().ok()?)).ok()?;
    let record = bytes.get(offset..offset.checked_add(56)?)?;
    if !record.starts_with(b"PK\x06\x06") {
        return None;
    }
    Some(u64::from_le_bytes(record.get(32..40)?.try_into().ok()?))
}

/// Inflates entries while counting every byte against one budget.
struct Reader<'a> {
    archive: zip::ZipArchive<Cursor<&'a [u8]>>,
    budget: u64,
    over_budget: bool,
}

enum ReadProblem {
    TooLarge,
    OverBudget,
    Unreadable(String),
}

impl ReadProblem {
    fn reason(&self) -> String {
        match self {
            ReadProblem::TooLarge => "is too large".into(),
            ReadProblem::OverBudget => "could not be read: the package is too large".into(),
            ReadProblem::Unreadable(why) => format!("cannot be read from the zip: {why}"),
        }
    }
}

impl Reader<'_> {
    /// Reads at most `cap` bytes of the entry (and never more than is left
    /// of the budget), whatever sizes the zip declares.
    fn read(&mut self, index: usize, cap: u64) -> Result<Vec<u8>, ReadProblem> {
        if self.over_budget {
            return Err(ReadProblem::OverBudget);
        }
        let limit = cap.min(self.budget);
        let mut entry = self
            .archive
            .by_index(index)
            .map_err(|error| ReadProblem::Unreadable(error.to_string()))?;
        let mut bytes = Vec::new();
        (&mut entry)
            .take(limit.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(|error| ReadProblem::Unreadable(error.to_string()))?;
        let length = bytes.len() as u64;
        if length > limit {
            if limit == self.budget {
                self.over_budget = true;
                return Err(ReadProblem::OverBudget);
            }
            return Err(ReadProblem::TooLarge);
        }
        self.budget -= length;
        Ok(bytes)
    }
}

/// A manifest's content, each part present only when it was valid.
struct Manifest {
    avsender: Option<OrgNr>,
    avsenderidentifikator: Option<String>,
    personidentifikator: Option<String>,
    postkasseadresse: Option<String>,
    main: Option<DocumentSpec>,
    attachments: Vec<DocumentSpec>,
    /// The hrefs of surplus `hoveddokument` elements: already reported, and
    /// their files should not be reported again as unnamed.
    surplus_hrefs: Vec<String>,
}

impl Manifest {
    fn documents(&self) -> impl Iterator<Item = &DocumentSpec> {
        self.main.iter().chain(self.attachments.iter())
    }
}

/// One `hoveddokument` or `vedlegg` as the manifest describes it.
struct DocumentSpec {
    /// `dokumentpakke.hoveddokument` or `dokumentpakke.vedlegg[i]`.
    field: String,
    href: Option<String>,
    mime: Option<String>,
    title: Option<Title>,
    lang: Option<String>,
    data: Option<DataSpec>,
    /// A problem with this document was already reported.
    invalid: bool,
}

struct DataSpec {
    href: Option<String>,
    mime: Option<String>,
}

impl DocumentSpec {
    fn data_href(&self) -> Option<&str> {
        self.data.as_ref()?.href.as_deref()
    }
}

fn parse_manifest(bytes: &[u8], problems: &mut Vec<FieldError>) -> Option<Manifest> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let Ok(text) = std::str::from_utf8(bytes) else {
        problems.push(FieldError::new(MANIFEST, "is not UTF-8"));
        return None;
    };
    let options = roxmltree::ParsingOptions {
        // No DTD, so no entity expansion; a bound on nodes bounds memory.
        allow_dtd: false,
        nodes_limit: 100_000,
        ..roxmltree::ParsingOptions::default()
    };
    let document = match roxmltree::Document::parse_with_options(text, options) {
        Ok(document) => document,
        Err(error) => {
            problems.push(FieldError::new(
                MANIFEST,
                format!("is not well-formed XML: {error}"),
            ));
            return None;
        }
    };
    let root = document.root_element();
    if !is_sdp(root, "manifest") {
        problems.push(FieldError::new(
            MANIFEST,
            format!("must have the root element manifest in the namespace {SDP_NAMESPACE}"),
        ));
        return None;
    }

    let children: Vec<roxmltree::Node<'_, '_>> = root
        .children()
        .filter(|node| node.is_element() && node.tag_name().namespace() == Some(SDP_NAMESPACE))
        .collect();
    let named = |name: &'static str| {
        children
            .iter()
            .copied()
            .filter(move |node| node.tag_name().name() == name)
    };

    let mut manifest = Manifest {
        avsender: None,
        avsenderidentifikator: None,
        personidentifikator: None,
        postkasseadresse: None,
        main: None,
        attachments: Vec::new(),
        surplus_hrefs: Vec::new(),
    };

    let mottakere: Vec<_> = named("mottaker").collect();
    if mottakere.len() > 1 {
        problems.push(FieldError::new(
            "dokumentpakke.mottaker",
            "must appear at most once",
        ));
    }
    if let Some(person) = mottakere.first().and_then(|node| child(*node, "person")) {
        if let Some(node) = child(person, "personidentifikator") {
            let value = text_of(node);
            if value.len() == 11 && value.bytes().all(|b| b.is_ascii_digit()) {
                manifest.personidentifikator = Some(value);
            } else {
                problems.push(FieldError::new(
                    "dokumentpakke.mottaker.person.personidentifikator",
                    "must be 11 digits",
                ));
            }
        }
        if let Some(node) = child(person, "postkasseadresse") {
            match checked_text(&text_of(node), MAX_POSTKASSEADRESSE_CHARS) {
                Ok(value) => manifest.postkasseadresse = Some(value),
                Err(error) => problems.push(FieldError::new(
                    "dokumentpakke.mottaker.person.postkasseadresse",
                    error,
                )),
            }
        }
    }

    let avsendere: Vec<_> = named("avsender").collect();
    match avsendere.as_slice() {
        [] => problems.push(FieldError::new("dokumentpakke.avsender", "is required")),
        [avsender, rest @ ..] => {
            if !rest.is_empty() {
                problems.push(FieldError::new(
                    "dokumentpakke.avsender",
                    "must appear only once",
                ));
            }
            parse_avsender(*avsender, &mut manifest, problems);
        }
    }

    let mut seen_hrefs: HashMap<String, String> = HashMap::new();
    let hoveddokumenter: Vec<_> = named("hoveddokument").collect();
    if hoveddokumenter.len() != 1 {
        problems.push(FieldError::new(
            MANIFEST,
            format!(
                "must have exactly one hoveddokument, not {}",
                hoveddokumenter.len()
            ),
        ));
    }
    if let Some(node) = hoveddokumenter.first() {
        manifest.main = Some(parse_document(
            *node,
            "dokumentpakke.hoveddokument".into(),
            &mut seen_hrefs,
            problems,
        ));
    }
    manifest.surplus_hrefs = hoveddokumenter
        .iter()
        .skip(1)
        .filter_map(|node| node.attribute("href"))
        .map(str::to_owned)
        .collect();
    let vedlegg: Vec<_> = named("vedlegg").collect();
    if vedlegg.len() > MAX_ATTACHMENTS {
        problems.push(FieldError::new(
            MANIFEST,
            format!(
                "has {} vedlegg; at most {MAX_ATTACHMENTS} are allowed",
                vedlegg.len()
            ),
        ));
    }
    manifest.attachments = vedlegg
        .iter()
        .enumerate()
        .map(|(index, node)| {
            parse_document(
                *node,
                format!("dokumentpakke.vedlegg[{index}]"),
                &mut seen_hrefs,
                problems,
            )
        })
        .collect();
    Some(manifest)
}

fn parse_avsender(
    avsender: roxmltree::Node<'_, '_>,
    manifest: &mut Manifest,
    problems: &mut Vec<FieldError>,
) {
    const FIELD: &str = "dokumentpakke.avsender.organisasjon";
    match child(avsender, "organisasjon") {
        None => problems.push(FieldError::new(FIELD, "is required")),
        Some(node) => {
            if node
                .attribute("authority")
                .is_some_and(|authority| authority != "iso6523-actorid-upis")
            {
                problems.push(FieldError::new(
                    FIELD,
                    "must have the authority iso6523-actorid-upis",
                ));
            }
            let value = text_of(node);
            // 9908 is the ICD the old SDP used for Norwegian organisations.
            let parsed = match value.strip_prefix("9908:") {
                Some(number) => OrgNr::parse(number),
                None => OrgNr::parse_iso6523(&value),
            };
            match parsed {
                Ok(org_nr) => manifest.avsender = Some(org_nr),
                Err(error) => problems.push(FieldError::new(
                    FIELD,
                    format!("must be 0192:<organisation number>, which {error}"),
                )),
            }
        }
    }
    if let Some(node) = child(avsender, "avsenderidentifikator") {
        match checked_text(&text_of(node), MAX_AVSENDERIDENTIFIKATOR_CHARS) {
            Ok(value) => manifest.avsenderidentifikator = Some(value),
            Err(error) => problems.push(FieldError::new(
                "dokumentpakke.avsender.avsenderidentifikator",
                error,
            )),
        }
    }
}

fn parse_document(
    node: roxmltree::Node<'_, '_>,
    field: String,
    seen_hrefs: &mut HashMap<String, String>,
    problems: &mut Vec<FieldError>,
) -> DocumentSpec {
    let before = problems.len();
    let href = parse_href(node, &format!("{field}.href"), seen_hrefs, problems);
    let mime = parse_mime(node, &format!("{field}.mime"), &[], problems);
    if let Some(href) = &href {
        if is_executable_name(href) {
            problems.push(FieldError::new(
                format!("{field}.href"),
                "names a program or script, which DPI does not allow",
            ));
        }
    }

    let title_field = format!("{field}.tittel");
    let (title, lang) = match child(node, "tittel") {
        None => {
            problems.push(FieldError::new(&title_field, "is required"));
            (None, None)
        }
        Some(tittel) => {
            let title = match Title::parse(&text_of(tittel)) {
                Ok(title) => Some(title),
                Err(error) => {
                    problems.push(FieldError::new(&title_field, error));
                    None
                }
            };
            let lang = match tittel.attribute("lang").map(str::trim) {
                None => None,
                Some(lang)
                    if (1..=35).contains(&lang.len())
                        && lang.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') =>
                {
                    Some(lang.to_owned())
                }
                Some(_) => {
                    problems.push(FieldError::new(
                        format!("{title_field}.lang"),
                        "must be a language code such as NO or EN",
                    ));
                    None
                }
            };
            (title, lang)
        }
    };

    let data = child(node, "data").map(|data| {
        let data_field = format!("{field}.data");
        let href = parse_href(data, &format!("{data_field}.href"), seen_hrefs, problems);
        let mime = parse_mime(
            data,
            &format!("{data_field}.mime"),
            POSTKASSE_DATA_TYPES,
            problems,
        );
        if href.as_deref().is_some_and(is_executable_name) {
            problems.push(FieldError::new(
                format!("{data_field}.href"),
                "names a program or script, which DPI does not allow",
            ));
        }
        DataSpec { href, mime }
    });

    DocumentSpec {
        field,
        href,
        mime,
        title,
        lang,
        data,
        invalid: problems.len() > before,
    }
}

/// Checks an `href`: present, a plain relative name, outside META-INF, not a
/// container file, and not used before in this manifest.
fn parse_href(
    node: roxmltree::Node<'_, '_>,
    field: &str,
    seen: &mut HashMap<String, String>,
    problems: &mut Vec<FieldError>,
) -> Option<String> {
    let Some(href) = node.attribute("href") else {
        problems.push(FieldError::new(field, "is required"));
        return None;
    };
    let reason = if href.trim().is_empty() {
        Some("must not be empty".to_owned())
    } else if href.chars().any(char::is_control) {
        Some("must not contain control characters".to_owned())
    } else if href.starts_with('/') || href.contains('\\') {
        Some("must be a relative path with forward slashes".to_owned())
    } else if href.split('/').any(|segment| segment == "..") {
        Some("must not contain ..".to_owned())
    } else if strip_prefix_ignore_case(href, "META-INF/").is_some() {
        Some("must not name a file in META-INF".to_owned())
    } else if href == MANIFEST_FILE || href == MIMETYPE_FILE {
        Some(format!("must not name the container's own {href}"))
    } else {
        seen.get(href).map(|first| {
            format!("\"{href}\" is also the href of {first}; every href must be unique")
        })
    };
    if let Some(reason) = reason {
        problems.push(FieldError::new(field, reason));
        return None;
    }
    let owner = field.strip_suffix(".href").unwrap_or(field).to_owned();
    seen.insert(href.to_owned(), owner);
    Some(href.to_owned())
}

/// The type in `node`'s `mime`, when it is one of DPI's or of `extra`.
fn parse_mime(
    node: roxmltree::Node<'_, '_>,
    field: &str,
    extra: &[&'static str],
    problems: &mut Vec<FieldError>,
) -> Option<String> {
    let Some(mime) = node.attribute("mime") else {
        problems.push(FieldError::new(field, "is required"));
        return None;
    };
    let essence = mime
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    match DPI_MIME_TYPES
        .iter()
        .chain(extra)
        .find(|allowed| **allowed == essence)
    {
        Some(allowed) => Some((*allowed).to_owned()),
        None => {
            problems.push(FieldError::new(
                field,
                format!("\"{mime}\" is not one of the document types DPI allows"),
            ));
            None
        }
    }
}

/// Reads a document's file(s) and checks the content; `None` when anything
/// about the document is wrong (and then the reasons are in `problems`).
fn load_document(
    spec: DocumentSpec,
    files: &HashMap<String, usize>,
    reader: &mut Reader<'_>,
    problems: &mut Vec<FieldError>,
) -> Option<PackageDocument> {
    let bytes = spec.href.as_deref().and_then(|href| {
        load_file(
            href,
            &format!("{}.href", spec.field),
            files,
            reader,
            problems,
        )
    });
    if let (Some(bytes), Some(mime)) = (&bytes, &spec.mime) {
        check_content(bytes, mime, &spec.field, problems);
    }
    let data = match &spec.data {
        None => None,
        Some(data) => {
            let field = format!("{}.data", spec.field);
            let bytes = data.href.as_deref().and_then(|href| {
                load_file(href, &format!("{field}.href"), files, reader, problems)
            });
            if let Some(bytes) = &bytes {
                if let Some(reason) = executable_reason(bytes) {
                    problems.push(FieldError::new(&field, reason));
                    return None;
                }
            }
            match (data.href.clone(), data.mime.clone(), bytes) {
                (Some(href), Some(mime), Some(bytes)) => Some(Some(PackageData {
                    href,
                    mime,
                    bytes: Bytes::from(bytes),
                })),
                _ => Some(None),
            }
        }
    };
    if spec.invalid {
        return None;
    }
    let data = match data {
        Some(None) => return None,
        Some(Some(data)) => Some(data),
        None => None,
    };
    Some(PackageDocument {
        href: spec.href?,
        mime: spec.mime?,
        title: spec.title?,
        lang: spec.lang,
        bytes: Bytes::from(bytes?),
        data,
    })
}

fn load_file(
    href: &str,
    field: &str,
    files: &HashMap<String, usize>,
    reader: &mut Reader<'_>,
    problems: &mut Vec<FieldError>,
) -> Option<Vec<u8>> {
    let Some(&index) = files.get(href) else {
        problems.push(FieldError::new(
            field,
            format!("\"{href}\" names a file the package does not contain"),
        ));
        return None;
    };
    match reader.read(index, u64::MAX) {
        Ok(bytes) => Some(bytes),
        // Reported once for the whole package by the caller.
        Err(ReadProblem::OverBudget) => None,
        Err(problem) => {
            problems.push(FieldError::new(
                field,
                format!("\"{href}\" {}", problem.reason()),
            ));
            None
        }
    }
}

/// Refuses programs, and content that is plainly not what the MIME type says
/// where the type has a fixed signature (PDF, PNG, JPEG).
fn check_content(bytes: &[u8], mime: &str, field: &str, problems: &mut Vec<FieldError>) {
    if let Some(reason) = executable_reason(bytes) {
        problems.push(FieldError::new(field, reason));
    } else if let Some(media_type) = MediaType::from_mime(mime) {
        if !media_type.matches_content(bytes) {
            problems.push(FieldError::new(field, format!("the content is not {mime}")));
        }
    }
}

fn is_executable_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    EXECUTABLE_EXTENSIONS
        .iter()
        .any(|extension| lower.ends_with(extension))
}

/// Why the bytes look like a program, if they do: Windows (MZ), ELF, Mach-O
/// and Java class files, and scripts with a `#!` line.
fn executable_reason(bytes: &[u8]) -> Option<&'static str> {
    const SIGNATURES: &[&[u8]] = &[
        b"MZ",
        b"\x7fELF",
        b"\xFE\xED\xFA\xCE",
        b"\xFE\xED\xFA\xCF",
        b"\xCE\xFA\xED\xFE",
        b"\xCF\xFA\xED\xFE",
        b"\xCA\xFE\xBA\xBE",
        b"#!",
    ];
    SIGNATURES
        .iter()
        .any(|signature| bytes.starts_with(signature))
        .then_some("the content is a program or script, which DPI does not allow")
}

fn is_sdp(node: roxmltree::Node<'_, '_>, name: &str) -> bool {
    node.is_element()
        && node.tag_name().name() == name
        && node.tag_name().namespace() == Some(SDP_NAMESPACE)
}

fn child<'a, 'input>(
    node: roxmltree::Node<'a, 'input>,
    name: &str,
) -> Option<roxmltree::Node<'a, 'input>> {
    node.children().find(|child| is_sdp(*child, name))
}

/// All text inside the element, CDATA included, trimmed.
fn text_of(node: roxmltree::Node<'_, '_>) -> String {
    node.descendants()
        .filter(roxmltree::Node::is_text)
        .filter_map(|text| text.text())
        .collect::<String>()
        .trim()
        .to_owned()
}

/// What [`manifest_xml`] and [`build`] write into a package's manifest.
/// Nothing is checked, so tests can build broken packages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestSpec {
    pub avsender: OrgNr,
    pub avsenderidentifikator: Option<String>,
    pub mottaker: Option<ManifestMottaker>,
    pub main: ManifestDocument,
    pub attachments: Vec<ManifestDocument>,
}

#[derive(Clone, PartialEq, Eq)]
pub struct ManifestMottaker {
    pub personidentifikator: Option<String>,
    pub postkasseadresse: Option<String>,
}

impl fmt::Debug for ManifestMottaker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ManifestMottaker")
            .field(
                "personidentifikator",
                &self.personidentifikator.as_ref().map(|_| "***"),
            )
            .field("postkasseadresse", &self.postkasseadresse)
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestDocument {
    pub href: String,
    pub mime: String,
    pub title: String,
    pub lang: Option<String>,
    /// The extension data file: `(href, mime)`.
    pub data: Option<(String, String)>,
}

impl ManifestDocument {
    pub fn new(href: &str, mime: &str, title: &str) -> Self {
        Self {
            href: href.to_owned(),
            mime: mime.to_owned(),
            title: title.to_owned(),
            lang: Some("NO".to_owned()),
            data: None,
        }
    }
}

/// The SDP `manifest.xml` for the spec.
pub fn manifest_xml(spec: &ManifestSpec) -> String {
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<manifest xmlns=\"{SDP_NAMESPACE}\">\n"
    );
    if let Some(mottaker) = &spec.mottaker {
        xml.push_str("  <mottaker><person>");
        if let Some(id) = &mottaker.personidentifikator {
            xml.push_str(&format!(
                "<personidentifikator>{}</personidentifikator>",
                escape(id)
            ));
        }
        if let Some(address) = &mottaker.postkasseadresse {
            xml.push_str(&format!(
                "<postkasseadresse>{}</postkasseadresse>",
                escape(address)
            ));
        }
        xml.push_str("</person></mottaker>\n");
    }
    xml.push_str(&format!(
        "  <avsender><organisasjon authority=\"iso6523-actorid-upis\">{}</organisasjon>",
        escape(&spec.avsender.to_iso6523())
    ));
    if let Some(id) = &spec.avsenderidentifikator {
        xml.push_str(&format!(
            "<avsenderidentifikator>{}</avsenderidentifikator>",
            escape(id)
        ));
    }
    xml.push_str("</avsender>\n");
    write_document(&mut xml, "hoveddokument", &spec.main);
    for attachment in &spec.attachments {
        write_document(&mut xml, "vedlegg", attachment);
    }
    xml.push_str("</manifest>\n");
    xml
}

fn write_document(xml: &mut String, element: &str, document: &ManifestDocument) {
    xml.push_str(&format!(
        "  <{element} href=\"{}\" mime=\"{}\"><tittel",
        escape(&document.href),
        escape(&document.mime)
    ));
    if let Some(lang) = &document.lang {
        xml.push_str(&format!(" lang=\"{}\"", escape(lang)));
    }
    xml.push_str(&format!(">{}</tittel>", escape(&document.title)));
    if let Some((href, mime)) = &document.data {
        xml.push_str(&format!(
            "<data href=\"{}\" mime=\"{}\"/>",
            escape(href),
            escape(mime)
        ));
    }
    xml.push_str(&format!("</{element}>\n"));
}

/// Escapes text for XML content and double- or single-quoted attributes.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            _ => escaped.push(c),
        }
    }
    escaped
}

/// Writes an ASiC-E package: `mimetype` first and stored, then the SDP
/// manifest, then the files, deflated. No XAdES signature is added.
pub fn build(spec: &ManifestSpec, files: &[(String, Vec<u8>)]) -> Result<Vec<u8>, PackageError> {
    build_container(Some(manifest_xml(spec).as_bytes()), files)
}

/// Writes an ASiC-E container with the given manifest bytes (or none) and
/// files, as [`build`] does; for packages a [`ManifestSpec`] cannot describe.
pub fn build_container(
    manifest: Option<&[u8]>,
    files: &[(String, Vec<u8>)],
) -> Result<Vec<u8>, PackageError> {
    let zip_error = |error: zip::result::ZipError| PackageError::Zip(error.to_string());
    let io_error = |error: std::io::Error| PackageError::Zip(error.to_string());
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let deflated = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    // ASiC requires `mimetype` first and uncompressed, so that the type can
    // be read at a fixed offset.
    writer
        .start_file(MIMETYPE_FILE, stored)
        .map_err(zip_error)?;
    writer
        .write_all(ASIC_E_MIMETYPE.as_bytes())
        .map_err(io_error)?;
    if let Some(manifest) = manifest {
        writer
            .start_file(MANIFEST_FILE, deflated)
            .map_err(zip_error)?;
        writer.write_all(manifest).map_err(io_error)?;
    }
    for (name, bytes) in files {
        writer.start_file(name, deflated).map_err(zip_error)?;
        writer.write_all(bytes).map_err(io_error)?;
    }
    Ok(writer.finish().map_err(zip_error)?.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PDF: &[u8] = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n";

    fn org_nr() -> OrgNr {
        OrgNr::parse("974760673").unwrap()
    }

    fn spec() -> ManifestSpec {
        ManifestSpec {
            avsender: org_nr(),
            avsenderidentifikator: Some("skatt-1".into()),
            mottaker: Some(ManifestMottaker {
                personidentifikator: Some("01017012345".into()),
                postkasseadresse: Some("ola.nordmann#9YDT".into()),
            }),
            main: ManifestDocument::new("vedtak.pdf", "application/pdf", "Vedtak om skatt"),
            attachments: vec![ManifestDocument::new(
                "vedlegg.pdf",
                "application/pdf",
                "Beregning",
            )],
        }
    }

    fn files() -> Vec<(String, Vec<u8>)> {
        vec![
            ("vedtak.pdf".into(), PDF.to_vec()),
            ("vedlegg.pdf".into(), PDF.to_vec()),
        ]
    }

    fn open_default(bytes: &[u8]) -> Result<Package, Vec<FieldError>> {
        crate::fuzz_seeds::record(crate::fuzz_seeds::DOCUMENT_PACKAGE, bytes);
        open(bytes, &PackageLimits::default())
    }

    /// The problems, as `name: reason` lines for readable failures.
    fn problems(bytes: &[u8]) -> Vec<FieldError> {
        match open_default(bytes) {
            Ok(package) => panic!("expected problems, got {package:?}"),
            Err(problems) => problems,
        }
    }

    fn has(problems: &[FieldError], name: &str, reason_part: &str) -> bool {
        problems
            .iter()
            .any(|problem| problem.name == name && problem.reason.contains(reason_part))
    }

    #[track_caller]
    fn assert_has(problems: &[FieldError], name: &str, reason_part: &str) {
        assert!(
            has(problems, name, reason_part),
            "no problem {name}: …{reason_part}… in {problems:#?}"
        );
    }

    #[test]
    fn a_built_package_opens_with_every_field() {
        let bytes = build(&spec(), &files()).unwrap();
        assert!(is_zip(&bytes));
        assert!(!is_cms(&bytes));
        let package = open_default(&bytes).unwrap();
        assert_eq!(package.avsender, org_nr());
        assert_eq!(package.avsenderidentifikator.as_deref(), Some("skatt-1"));
        assert_eq!(
            package.mottaker_personidentifikator.as_deref(),
            Some("01017012345")
        );
        assert_eq!(
            package.mottaker_postkasseadresse.as_deref(),
            Some("ola.nordmann#9YDT")
        );
        assert_eq!(package.main.href, "vedtak.pdf");
        assert_eq!(package.main.mime, "application/pdf");
        assert_eq!(package.main.title.as_str(), "Vedtak om skatt");
        assert_eq!(package.main.lang.as_deref(), Some("NO"));
        assert_eq!(package.main.bytes.as_ref(), PDF);
        assert_eq!(package.main.media_type(), Some(MediaType::Pdf));
        assert_eq!(package.attachments.len(), 1);
        assert_eq!(package.attachments[0].title.as_str(), "Beregning");
        assert!(
            !format!("{package:?}").contains("01017012345"),
            "Debug must not show the national id"
        );
    }

    #[test]
    fn the_mimetype_entry_comes_first_and_stored() {
        let bytes = build(&spec(), &files()).unwrap();
        // Local file header: name at offset 30, method at 8 (0 = stored).
        assert_eq!(&bytes[8..10], &[0, 0]);
        assert_eq!(&bytes[30..38], b"mimetype");
        assert_eq!(
            &bytes[38..38 + ASIC_E_MIMETYPE.len()],
            ASIC_E_MIMETYPE.as_bytes()
        );
    }

    #[test]
    fn the_manifest_of_the_protocol_brief_parses() {
        let manifest = r#"<manifest xmlns="http://begrep.difi.no/sdp/schema_v10">
  <mottaker><person><personidentifikator>01017012345</personidentifikator><postkasseadresse>ola.nordmann#9YDT</postkasseadresse></person></mottaker>
  <avsender><organisasjon authority="iso6523-actorid-upis">0192:974760673</organisasjon><avsenderidentifikator>skatt-1</avsenderidentifikator></avsender>
  <hoveddokument href="vedtak.pdf" mime="application/pdf"><tittel lang="NO">Vedtak om skatt</tittel></hoveddokument>
  <vedlegg href="vedlegg.pdf" mime="application/pdf"><tittel lang="NO">Beregning</tittel></vedlegg>
</manifest>"#;
        let bytes = build_container(Some(manifest.as_bytes()), &files()).unwrap();
        let package = open_default(&bytes).unwrap();
        assert_eq!(package.avsender, org_nr());
        assert_eq!(package.attachments[0].href, "vedlegg.pdf");
    }

    #[test]
    fn the_legacy_9908_prefix_is_accepted_and_a_bare_number_is_not() {
        let manifest = manifest_xml(&spec()).replace("0192:974760673", "9908:974760673");
        let bytes = build_container(Some(manifest.as_bytes()), &files()).unwrap();
        assert_eq!(open_default(&bytes).unwrap().avsender, org_nr());

        let manifest = manifest_xml(&spec()).replace("0192:974760673", "974760673");
        let bytes = build_container(Some(manifest.as_bytes()), &files()).unwrap();
        assert_has(
            &problems(&bytes),
            "dokumentpakke.avsender.organisasjon",
            "0192:",
        );
    }

    #[test]
    fn xml_special_characters_in_titles_and_names_round_trip() {
        let mut spec = spec();
        spec.main = ManifestDocument::new(
            "vedtak & \"svar\" <ø>.pdf",
            "application/pdf",
            "Skatt & avgift <2024> «\"ja\"»",
        );
        let files = vec![
            ("vedtak & \"svar\" <ø>.pdf".to_owned(), PDF.to_vec()),
            ("vedlegg.pdf".to_owned(), PDF.to_vec()),
        ];
        let package = open_default(&build(&spec, &files).unwrap()).unwrap();
        assert_eq!(package.main.href, "vedtak & \"svar\" <ø>.pdf");
        assert_eq!(
            package.main.title.as_str(),
            "Skatt & avgift <2024> «\"ja\"»"
        );
    }

    #[test]
    fn a_non_zip_is_refused() {
        let problems = problems(b"%PDF-1.7 not a zip");
        assert_has(&problems, "dokumentpakke", "not a zip");
        let problems = self::problems(b"PK\x03\x04 truncated");
        assert_has(&problems, "dokumentpakke", "not a readable zip");
    }

    #[test]
    fn a_wrong_mimetype_is_refused() {
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default();
        writer.start_file("mimetype", options).unwrap();
        writer.write_all(b"application/zip").unwrap();
        writer.start_file("manifest.xml", options).unwrap();
        writer.write_all(manifest_xml(&spec()).as_bytes()).unwrap();
        for (name, bytes) in files() {
            writer.start_file(name, options).unwrap();
            writer.write_all(&bytes).unwrap();
        }
        let bytes = writer.finish().unwrap().into_inner();
        assert_has(&problems(&bytes), "dokumentpakke.mimetype", ASIC_E_MIMETYPE);
    }

    #[test]
    fn a_missing_manifest_is_refused() {
        let bytes = build_container(None, &files()).unwrap();
        let problems = problems(&bytes);
        assert_has(&problems, MANIFEST, "is missing");
        assert_eq!(
            problems.len(),
            1,
            "no noise about unlisted files: {problems:#?}"
        );
    }

    #[test]
    fn a_manifest_that_is_not_xml_or_not_sdp_is_refused() {
        let bytes = build_container(Some(b"<manifest><unclosed>"), &files()).unwrap();
        assert_has(&problems(&bytes), MANIFEST, "not well-formed");

        let other = manifest_xml(&spec()).replace(SDP_NAMESPACE, "urn:other");
        let bytes = build_container(Some(other.as_bytes()), &files()).unwrap();
        assert_has(&problems(&bytes), MANIFEST, "namespace");
    }

    #[test]
    fn a_manifest_with_a_dtd_is_refused() {
        let xml = format!(
            "<!DOCTYPE manifest [<!ENTITY a \"aaaa\">]>{}",
            manifest_xml(&spec()).replace("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", "")
        );
        let bytes = build_container(Some(xml.as_bytes()), &files()).unwrap();
        assert_has(&problems(&bytes), MANIFEST, "not well-formed");
    }

    #[test]
    fn two_hoveddokument_are_refused() {
        let manifest = manifest_xml(&spec()).replace(
            "</manifest>",
            "<hoveddokument href=\"annet.pdf\" mime=\"application/pdf\"><tittel>Annet</tittel></hoveddokument></manifest>",
        );
        let mut files = files();
        files.push(("annet.pdf".into(), PDF.to_vec()));
        let bytes = build_container(Some(manifest.as_bytes()), &files).unwrap();
        let problems = problems(&bytes);
        assert_has(&problems, MANIFEST, "exactly one hoveddokument, not 2");
        assert_eq!(problems.len(), 1, "{problems:#?}");
    }

    #[test]
    fn no_hoveddokument_is_refused() {
        let manifest = manifest_xml(&spec());
        let start = manifest.find("  <hoveddokument").unwrap();
        let end = manifest.find("</hoveddokument>\n").unwrap() + "</hoveddokument>\n".len();
        let manifest = format!("{}{}", &manifest[..start], &manifest[end..]);
        let bytes = build_container(Some(manifest.as_bytes()), &files()[1..]).unwrap();
        assert_has(
            &problems(&bytes),
            MANIFEST,
            "exactly one hoveddokument, not 0",
        );
    }

    #[test]
    fn two_hundred_vedlegg_are_fine_and_201_are_not() {
        let build_with = |count: usize| {
            let mut spec = spec();
            let mut files = vec![("vedtak.pdf".to_owned(), PDF.to_vec())];
            spec.attachments = (0..count)
                .map(|i| {
                    files.push((format!("v{i}.txt"), b"tekst".to_vec()));
                    ManifestDocument::new(
                        &format!("v{i}.txt"),
                        "text/plain",
                        &format!("Vedlegg {i}"),
                    )
                })
                .collect();
            build(&spec, &files).unwrap()
        };
        let package = open_default(&build_with(200)).unwrap();
        assert_eq!(package.attachments.len(), 200);
        assert_eq!(package.attachments[199].href, "v199.txt");
        assert_has(&problems(&build_with(201)), MANIFEST, "201 vedlegg");
    }

    #[test]
    fn a_href_to_a_missing_file_is_refused() {
        let bytes = build(&spec(), &files()[..1]).unwrap();
        assert_has(
            &problems(&bytes),
            "dokumentpakke.vedlegg[0].href",
            "names a file the package does not contain",
        );
    }

    #[test]
    fn a_file_the_manifest_does_not_name_is_refused() {
        let mut files = files();
        files.push(("hemmelig.pdf".into(), PDF.to_vec()));
        let problems = problems(&build(&spec(), &files).unwrap());
        assert_has(
            &problems,
            "dokumentpakke",
            "\"hemmelig.pdf\", which manifest.xml does not name",
        );
    }

    #[test]
    fn signatures_and_an_odf_manifest_in_meta_inf_are_allowed_but_other_files_are_not() {
        let mut files = files();
        files.push((
            "META-INF/signatures.xml".into(),
            b"<XAdESSignatures/>".to_vec(),
        ));
        files.push(("META-INF/manifest.xml".into(), b"<manifest/>".to_vec()));
        assert!(open_default(&build(&spec(), &files).unwrap()).is_ok());

        files.push(("META-INF/script.js".into(), b"alert(1)".to_vec()));
        assert_has(
            &problems(&build(&spec(), &files).unwrap()),
            "dokumentpakke",
            "META-INF/script.js",
        );
    }

    #[test]
    fn a_mime_type_dpi_does_not_allow_is_refused() {
        let mut spec = spec();
        spec.attachments[0].mime = "application/x-msdownload".into();
        assert_has(
            &problems(&build(&spec, &files()).unwrap()),
            "dokumentpakke.vedlegg[0].mime",
            "not one of the document types",
        );
    }

    #[test]
    fn mime_types_are_read_case_insensitively_without_parameters() {
        let mut spec = spec();
        spec.attachments[0] =
            ManifestDocument::new("vedlegg.pdf", "Text/Plain; charset=UTF-8", "Beregning");
        let package = open_default(&build(&spec, &files()).unwrap()).unwrap();
        assert_eq!(package.attachments[0].mime, "text/plain");
    }

    #[test]
    fn content_that_is_not_the_declared_type_is_refused() {
        let mut files = files();
        files[0].1 = b"not a pdf".to_vec();
        assert_has(
            &problems(&build(&spec(), &files).unwrap()),
            "dokumentpakke.hoveddokument",
            "not application/pdf",
        );
    }

    #[test]
    fn a_duplicate_href_is_refused() {
        let mut spec = spec();
        spec.attachments[0].href = "vedtak.pdf".into();
        let problems = problems(&build(&spec, &files()[..1]).unwrap());
        assert_has(
            &problems,
            "dokumentpakke.vedlegg[0].href",
            "also the href of dokumentpakke.hoveddokument",
        );
    }

    #[test]
    fn bad_hrefs_are_refused() {
        for (href, reason) in [
            ("", "must not be empty"),
            ("../etc/passwd", "must not contain .."),
            ("a/../b.pdf", "must not contain .."),
            ("/abs.pdf", "relative path"),
            ("META-INF/signatures.xml", "META-INF"),
            ("manifest.xml", "container's own"),
        ] {
            let mut spec = spec();
            spec.attachments[0].href = href.into();
            let problems = problems(&build(&spec, &files()).unwrap());
            assert_has(&problems, "dokumentpakke.vedlegg[0].href", reason);
        }
    }

    #[test]
    fn executables_are_refused_by_name_and_by_content() {
        let mut spec = spec();
        spec.attachments[0] =
            ManifestDocument::new("program.exe", "application/octet-stream", "Program");
        let files = vec![
            ("vedtak.pdf".to_owned(), PDF.to_vec()),
            ("program.exe".to_owned(), b"MZ\x90\x00".to_vec()),
        ];
        assert_has(
            &problems(&build(&spec, &files).unwrap()),
            "dokumentpakke.vedlegg[0].href",
            "program or script",
        );

        let mut spec = self::spec();
        spec.attachments[0] = ManifestDocument::new("data.bin", "application/octet-stream", "Data");
        let files = vec![
            ("vedtak.pdf".to_owned(), PDF.to_vec()),
            ("data.bin".to_owned(), b"MZ\x90\x00\x03\x00".to_vec()),
        ];
        assert_has(
            &problems(&build(&spec, &files).unwrap()),
            "dokumentpakke.vedlegg[0]",
            "program or script",
        );

        for name in ["run.sh", "x.BAT", "y.cmd", "z.com", "setup.msi", "a.js"] {
            assert!(is_executable_name(name), "{name}");
        }
        assert!(!is_executable_name("vedtak.pdf"));
    }

    #[test]
    fn a_title_is_required_and_bounded() {
        let mut spec = spec();
        spec.attachments[0].title = "x".repeat(256);
        assert_has(
            &problems(&build(&spec, &files()).unwrap()),
            "dokumentpakke.vedlegg[0].tittel",
            "at most 255",
        );
        spec.attachments[0].title = "   ".into();
        assert_has(
            &problems(&build(&spec, &files()).unwrap()),
            "dokumentpakke.vedlegg[0].tittel",
            "empty",
        );
    }

    #[test]
    fn a_zip_bomb_stops_at_the_limit() {
        // 4 MiB of zeros deflate to a few KiB; the limit is 1 MiB.
        let mut files = files();
        files[1] = ("vedlegg.txt".into(), vec![0u8; 4 * 1024 * 1024]);
        let mut spec = spec();
        spec.attachments[0] = ManifestDocument::new("vedlegg.txt", "text/plain", "Nuller");
        let bytes = build(&spec, &files).unwrap();
        assert!(bytes.len() < 100 * 1024, "{} bytes", bytes.len());
        let limits = PackageLimits {
            max_total_bytes: 1024 * 1024,
            ..PackageLimits::default()
        };
        let problems = open(&bytes, &limits).unwrap_err();
        assert_has(&problems, "dokumentpakke", "larger than 1048576 bytes");
        // The file exists, so it is not also reported missing.
        assert!(!has(
            &problems,
            "dokumentpakke.vedlegg[0].href",
            "does not contain"
        ));
    }

    #[test]
    fn too_many_entries_are_refused_before_reading() {
        let files: Vec<(String, Vec<u8>)> =
            (0..20).map(|i| (format!("f{i}"), Vec::new())).collect();
        let bytes = build(&spec(), &files).unwrap();
        assert_eq!(declared_entry_count(&bytes), Some(22));
        let limits = PackageLimits {
            max_entries: 10,
            ..PackageLimits::default()
        };
        assert_has(
            &open(&bytes, &limits).unwrap_err(),
            "dokumentpakke",
            "more than 10 files",
        );
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let mut spec = spec();
        spec.mottaker = Some(ManifestMottaker {
            personidentifikator: Some("123".into()),
            postkasseadresse: None,
        });
        spec.avsenderidentifikator = Some("x".repeat(101));
        spec.main.mime = "application/x-unknown".into();
        spec.attachments[0].href = "mangler.pdf".into();
        spec.attachments.push(ManifestDocument::new(
            "vedtak.pdf",
            "application/pdf",
            "Igjen",
        ));
        let mut files = files();
        files.push(("ekstra.txt".into(), b"ekstra".to_vec()));
        let manifest = manifest_xml(&spec).replace("0192:974760673", "0192:974760672");
        let problems = problems(&build_container(Some(manifest.as_bytes()), &files).unwrap());
        assert_has(
            &problems,
            "dokumentpakke.mottaker.person.personidentifikator",
            "11 digits",
        );
        assert_has(
            &problems,
            "dokumentpakke.avsender.organisasjon",
            "control digit",
        );
        assert_has(
            &problems,
            "dokumentpakke.avsender.avsenderidentifikator",
            "at most 100",
        );
        assert_has(&problems, "dokumentpakke.hoveddokument.mime", "not one of");
        assert_has(
            &problems,
            "dokumentpakke.vedlegg[0].href",
            "does not contain",
        );
        assert_has(&problems, "dokumentpakke.vedlegg[1].href", "unique");
        assert_has(&problems, "dokumentpakke", "\"ekstra.txt\"");
        assert_has(&problems, "dokumentpakke", "\"vedlegg.pdf\"");
        assert_eq!(problems.len(), 8, "{problems:#?}");
    }

    #[test]
    fn duplicate_zip_entries_are_refused() {
        // The zip writer refuses duplicates, so the central directory is
        // doubled by hand: two entries, one name.
        let bytes = build(&spec(), &files()).unwrap();
        let eocd = bytes.len() - 22;
        let cd_size = u32::from_le_bytes(bytes[eocd + 12..eocd + 16].try_into().unwrap()) as usize;
        let cd_start = u32::from_le_bytes(bytes[eocd + 16..eocd + 20].try_into().unwrap()) as usize;
        let directory = &bytes[cd_start..cd_start + cd_size];
        // The last central-directory record is vedlegg.pdf's.
        let last = directory
            .windows(4)
            .rposition(|w| w == b"PK\x01\x02")
            .unwrap();
        let mut forged = bytes[..cd_start + cd_size].to_vec();
        forged.extend_from_slice(&directory[last..]);
        let mut end = bytes[eocd..].to_vec();
        let count = u16::from_le_bytes([end[10], end[11]]) + 1;
        end[8..10].copy_from_slice(&count.to_le_bytes());
        end[10..12].copy_from_slice(&count.to_le_bytes());
        let size = (cd_size + directory.len() - last) as u32;
        end[12..16].copy_from_slice(&size.to_le_bytes());
        forged.extend_from_slice(&end);
        let problems = problems(&forged);
        assert_has(&problems, "dokumentpakke", "same name");
    }

    #[test]
    fn extension_data_is_read_with_its_document() {
        let mut spec = spec();
        spec.main = ManifestDocument {
            data: Some((
                "lenke.xml".into(),
                "application/vnd.difi.dpi.lenke+xml".into(),
            )),
            ..ManifestDocument::new("vedtak.html", "text/html", "Lenke")
        };
        let files = vec![
            ("vedtak.html".to_owned(), b"<p>Se lenke</p>".to_vec()),
            ("lenke.xml".to_owned(), b"<lenke/>".to_vec()),
            ("vedlegg.pdf".to_owned(), PDF.to_vec()),
        ];
        let package = open_default(&build(&spec, &files).unwrap()).unwrap();
        let data = package.main.data.unwrap();
        assert_eq!(data.href, "lenke.xml");
        assert_eq!(data.bytes.as_ref(), b"<lenke/>");
    }

    #[test]
    fn the_fingerprint_is_base64_of_sha256() {
        // SHA-256("abc"), a FIPS 180-2 test vector.
        assert_eq!(
            fingerprint(b"abc"),
            "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="
        );
    }
}
