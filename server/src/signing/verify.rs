//! Checks the signatures in a PDF (PAdES / `adbe.pkcs7.detached`).
//!
//! The mailbox shows a citizen, for each signature in a document, who signed
//! it, when, and whether the signature holds: the seals Postkasse puts on its
//! own PDFs (`ETSI.CAdES.detached`, see [`crate::seal`]) as well as signed
//! PDFs that arrive in letters (also `adbe.pkcs7.detached`, and document
//! timestamps, `ETSI.RFC3161`).
//!
//! For each signature dictionary:
//!
//! 1. the `/ByteRange` must cover the file from its first byte, leaving out
//!    exactly the `/Contents` hex string;
//! 2. `/Contents` must be a CMS `SignedData` (RFC 5652) with one signer whose
//!    signature verifies, with the certificate the CMS carries, over the
//!    digest of those bytes;
//! 3. an RFC 3161 timestamp among the signer's unsigned attributes must be
//!    over that signature, and is then the time of signing;
//! 4. the signer's certificate must lead, through the certificates in the
//!    CMS, to one of the operator's trust anchors, at the time given.
//!
//! The DER is read by RustCrypto's `cms`, signatures are verified by `ring`
//! and certificate paths by `rustls-webpki` (through [`crate::trust`]).
//!
//! Not checked: revocation (CRL, OCSP, and the PAdES-LTV data a document may
//! carry for it), DocMDP/FieldMDP permissions (what a later incremental update
//! may change), and whether the PDF shows what was signed. A signature that
//! does not cover the whole file is reported as such
//! ([`SignatureCheck::covers_whole_document`]); what the later update changed
//! is not examined.

use crate::{
    timestamp::ID_CT_TST_INFO,
    trust::{readable_subject, TrustAnchors, TrustError},
};
use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone, Utc};
use cms::{
    content_info::ContentInfo,
    signed_data::{SignedData, SignerIdentifier, SignerInfo},
};
use const_oid::{
    db::{rfc5911, rfc5912, DB},
    ObjectIdentifier,
};
use der::{Any, Decode, Header, Reader, SliceReader, Tag, Tagged};
use lopdf::{Dictionary, Document, Object, ObjectId};
use ring::signature::{self as ring_signature, UnparsedPublicKey, VerificationAlgorithm};
use sha2::{Digest, Sha256, Sha384, Sha512};
use spki::AlgorithmIdentifierOwned;
use std::{collections::HashSet, ops::Range};
use x509_cert::{ext::pkix::SubjectKeyIdentifier, Certificate};

/// One signature in a PDF, as the mailbox shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureCheck {
    /// The signing certificate's subject, for people (CN, and O if present);
    /// for a document timestamp, the timestamp authority's. "unknown" when
    /// the signature holds no readable certificate.
    pub signer: String,
    /// The signature dictionary's /Name, when present (the person Postkasse signed for).
    pub name: Option<String>,
    /// When: the RFC 3161 timestamp's genTime when a valid one is embedded, else the dictionary's /M.
    /// /M is only the signer's claim: it is not signed.
    pub signed_at: Option<DateTime<Utc>>,
    /// Whether `signed_at` comes from a timestamp whose authority is trusted.
    /// A timestamp from an authority the anchors do not lead to is ignored.
    pub timestamped: bool,
    /// Whether the signed byte range reaches the end of the file (a later incremental update is not covered).
    pub covers_whole_document: bool,
    /// Whether this is a document timestamp (`/Type /DocTimeStamp`,
    /// `ETSI.RFC3161`) rather than someone's signature: `signer` is then the
    /// timestamp authority.
    pub document_timestamp: bool,
    pub verdict: Verdict,
}

/// Whether a signature holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Intact, and the signer's certificate leads to a trust anchor.
    Valid,
    /// Broken, malformed or unsupported; why, in English, for logs and the API.
    Invalid(String),
    /// Intact but the certificate does not lead to a trust anchor.
    UnknownSigner,
}

/// Every signature field's check, in document order (the order in which
/// they were added, by where they lie in the file); empty when the PDF has
/// none or does not parse. `at` is the moment the certificates must be valid
/// at, usually now. CPU-bound: callers use spawn_blocking.
pub fn check_pdf(pdf: &[u8], anchors: &TrustAnchors, at: DateTime<Utc>) -> Vec<SignatureCheck> {
    if !may_be_signed(pdf) {
        return Vec::new();
    }
    let Ok(document) = Document::load_mem(pdf) else {
        return Vec::new();
    };
    signature_dictionaries(&document)
        .into_iter()
        .map(|dictionary| check_signature(pdf, &document, dictionary, anchors, at))
        .collect()
}

/// A quick test whether the bytes could hold a signature (`/ByteRange` occurs), so unsigned PDFs skip parsing.
pub fn may_be_signed(pdf: &[u8]) -> bool {
    const NEEDLE: &[u8] = b"/ByteRange";
    pdf.windows(NEEDLE.len()).any(|window| window == NEEDLE)
}

/// Written for a signer whose certificate cannot be read.
const UNKNOWN: &str = "unknown";

// ---------------------------------------------------------------------------
// Finding the signatures
// ---------------------------------------------------------------------------

/// Form fields nest; a hostile document may nest them in a loop.
const MAX_FIELD_DEPTH: usize = 32;

/// The signature dictionaries: the values of the AcroForm's signature
/// fields, and any other dictionary that looks like one (a signature whose
/// field a later update dropped still signed the bytes it covers), each
/// once, ordered by where its signature lies in the file.
fn signature_dictionaries(document: &Document) -> Vec<&Dictionary> {
    let mut seen = HashSet::new();
    let mut found = Vec::new();
    if let Some(fields) = form_fields(document) {
        for field in fields {
            collect_from_field(document, field, None, 0, &mut seen, &mut found);
        }
    }
    for (id, object) in &document.objects {
        if let Object::Dictionary(dictionary) = object {
            if is_signature_dictionary(dictionary) && seen.insert(*id) {
                found.push(dictionary);
            }
        }
    }
    // The signature's own position (where its unsigned gap ends) is the
    // order the signatures were made in; unreadable ranges go last.
    found.sort_by_key(|dictionary| {
        byte_range_numbers(document, dictionary).map_or(i64::MAX, |numbers| numbers[2])
    });
    found
}

/// The catalog's `/AcroForm /Fields`.
fn form_fields(document: &Document) -> Option<&Vec<Object>> {
    let form = document
        .catalog()
        .ok()?
        .get_deref(b"AcroForm", document)
        .ok()?;
    form.as_dict()
        .ok()?
        .get_deref(b"Fields", document)
        .ok()?
        .as_array()
        .ok()
}

/// A field's signature value, and those of its descendants. `/FT` is
/// inheritable, so the parent's travels down.
fn collect_from_field<'a>(
    document: &'a Document,
    field: &'a Object,
    inherited_type: Option<&'a [u8]>,
    depth: usize,
    seen: &mut HashSet<ObjectId>,
    found: &mut Vec<&'a Dictionary>,
) {
    if depth > MAX_FIELD_DEPTH {
        return;
    }
    let Ok((_, Object::Dictionary(field))) = document.dereference(field) else {
        return;
    };
    let field_type = field
        .get(b"FT")
        .and_then(Object::as_name)
        .ok()
        .or(inherited_type);
    if field_type == Some(b"Sig".as_slice()) {
        if let Ok(value) = field.get(b"V") {
            if let Ok((id, Object::Dictionary(signature))) = document.dereference(value) {
                // A direct dictionary has no id: it cannot be met again.
                if id.is_none_or(|id| seen.insert(id)) {
                    found.push(signature);
                }
            }
        }
    }
    if let Ok(kids) = field
        .get_deref(b"Kids", document)
        .and_then(Object::as_array)
    {
        for kid in kids {
            collect_from_field(document, kid, field_type, depth + 1, seen, found);
        }
    }
}

fn is_signature_dictionary(dictionary: &Dictionary) -> bool {
    dictionary.has_type(b"Sig")
        || dictionary.has_type(b"DocTimeStamp")
        || (dictionary.has(b"ByteRange") && dictionary.has(b"Contents"))
}

// ---------------------------------------------------------------------------
// One signature
// ---------------------------------------------------------------------------

/// The check of one signature dictionary: what it claims, then what holds.
fn check_signature(
    pdf: &[u8],
    document: &Document,
    dictionary: &Dictionary,
    anchors: &TrustAnchors,
    at: DateTime<Utc>,
) -> SignatureCheck {
    let mut check = SignatureCheck {
        signer: UNKNOWN.to_owned(),
        name: string_entry(document, dictionary, b"Name").map(|text| pdf_text(&text)),
        signed_at: string_entry(document, dictionary, b"M").and_then(|date| pdf_date(&date)),
        timestamped: false,
        covers_whole_document: false,
        document_timestamp: is_document_timestamp(document, dictionary),
        verdict: Verdict::UnknownSigner,
    };
    check.verdict = verify_signature(pdf, document, dictionary, anchors, at, &mut check)
        .unwrap_or_else(Verdict::Invalid);
    check
}

/// Fills in `check` as the signature is taken apart, so that a broken
/// signature still names whom it claims to be from; the verdict, or why the
/// signature is invalid.
fn verify_signature(
    pdf: &[u8],
    document: &Document,
    dictionary: &Dictionary,
    anchors: &TrustAnchors,
    at: DateTime<Utc>,
    check: &mut SignatureCheck,
) -> Result<Verdict, String> {
    let range = ByteRange::read(document, dictionary, pdf.len())?;
    check.covers_whole_document = range.reaches_end(pdf);
    let contents = string_entry(document, dictionary, b"Contents")
        .ok_or("the signature dictionary has no /Contents string")?;
    range.check_gap(pdf, &contents)?;
    let signed = range.signed_pieces(pdf);

    if check.document_timestamp {
        let token = verify_timestamp_token(&contents, &signed, anchors, at)?;
        check.signer = token.authority;
        check.signed_at = Some(token.generated_at);
        check.timestamped = token.trust == Verdict::Valid;
        return Ok(token.trust);
    }
    match name_entry(document, dictionary, b"SubFilter") {
        None | Some(b"adbe.pkcs7.detached" | b"ETSI.CAdES.detached") => {}
        Some(other) => {
            return Err(format!(
                "unsupported signature format /SubFilter /{}",
                String::from_utf8_lossy(other)
            ))
        }
    }

    let cms = Cms::parse(&contents)?;
    check.signer = readable_subject(&cms.certificate.tbs_certificate.subject);
    cms.verify(SignedContent::Detached(&signed))?;

    apply_timestamp(&cms, anchors, at, check)?;
    Ok(chain_verdict(&cms, anchors, at, "the signer's"))
}

/// The signer's RFC 3161 timestamp (PAdES B-T), if there is one: a trusted
/// one gives the time of signing; one that does not hold breaks the signature.
fn apply_timestamp(
    cms: &Cms,
    anchors: &TrustAnchors,
    at: DateTime<Utc>,
    check: &mut SignatureCheck,
) -> Result<(), String> {
    let Some(token) = cms.timestamp_token() else {
        return Ok(());
    };
    let signature_value = cms.signer_info.signature.as_bytes();
    let token = verify_timestamp_token(&token, &[signature_value], anchors, at)
        .map_err(|reason| format!("the timestamp does not match the signature: {reason}"))?;
    match token.trust {
        Verdict::Valid => {
            check.signed_at = Some(token.generated_at);
            check.timestamped = true;
            Ok(())
        }
        // Intact, but nobody vouches for the time: /M stands.
        Verdict::UnknownSigner => Ok(()),
        Verdict::Invalid(reason) => Err(format!("the timestamp is not accepted: {reason}")),
    }
}

fn is_document_timestamp(document: &Document, dictionary: &Dictionary) -> bool {
    dictionary.has_type(b"DocTimeStamp")
        || name_entry(document, dictionary, b"SubFilter") == Some(b"ETSI.RFC3161".as_slice())
}

// ---------------------------------------------------------------------------
// The byte range
// ---------------------------------------------------------------------------

/// The two signed stretches of the file, around the unsigned gap that holds
/// the signature.
struct ByteRange {
    first: Range<usize>,
    second: Range<usize>,
}

impl ByteRange {
    /// `/ByteRange [0 a b c]`, checked against a file of `length` bytes.
    fn read(document: &Document, dictionary: &Dictionary, length: usize) -> Result<Self, String> {
        let [start, first_length, second_start, second_length] =
            byte_range_numbers(document, dictionary)
                .ok_or("the /ByteRange is not four integers")?
                .map(|number| usize::try_from(number).ok());
        let (Some(0), Some(a), Some(b), Some(c)) =
            (start, first_length, second_start, second_length)
        else {
            return Err("the /ByteRange does not start at the first byte".to_owned());
        };
        if a >= b || b.checked_add(c).is_none_or(|end| end > length) {
            return Err("the /ByteRange does not fit the file".to_owned());
        }
        Ok(Self {
            first: 0..a,
            second: b..b + c,
        })
    }

    /// Whether nothing but whitespace follows the signed bytes: something a
    /// transport may add, unlike an incremental update.
    fn reaches_end(&self, pdf: &[u8]) -> bool {
        pdf[self.second.end..]
            .iter()
            .all(|byte| b" \t\r\n\x0c\0".contains(byte))
    }

    /// The gap must be the dictionary's own `/Contents`, angle brackets
    /// included: otherwise the signature would vouch for bytes other than
    /// those the dictionary points at (signature wrapping).
    fn check_gap(&self, pdf: &[u8], contents: &[u8]) -> Result<(), String> {
        let not_contents =
            || "the gap in the /ByteRange is not the signature's /Contents".to_owned();
        let gap = &pdf[self.first.end..self.second.start];
        let digits: Vec<u8> = gap
            .strip_prefix(b"<")
            .and_then(|inner| inner.strip_suffix(b">"))
            .ok_or_else(not_contents)?
            .iter()
            .copied()
            .filter(|byte| !byte.is_ascii_whitespace())
            .collect();
        let mut digits = digits;
        if digits.len() % 2 == 1 {
            // A PDF hex string's missing last digit is 0.
            digits.push(b'0');
        }
        let decoded = hex::decode(&digits).map_err(|_| not_contents())?;
        if decoded != contents {
            return Err(not_contents());
        }
        Ok(())
    }

    fn signed_pieces<'a>(&self, pdf: &'a [u8]) -> [&'a [u8]; 2] {
        [&pdf[self.first.clone()], &pdf[self.second.clone()]]
    }
}

fn byte_range_numbers(document: &Document, dictionary: &Dictionary) -> Option<[i64; 4]> {
    let numbers = dictionary
        .get_deref(b"ByteRange", document)
        .and_then(Object::as_array)
        .ok()?;
    let numbers: Vec<i64> = numbers
        .iter()
        .map(|number| number.as_i64().ok())
        .collect::<Option<_>>()?;
    numbers.try_into().ok()
}

// ---------------------------------------------------------------------------
// CMS SignedData
// ---------------------------------------------------------------------------

/// What a CMS signature is over.
enum SignedContent<'a> {
    /// Content outside the CMS, in pieces: the PDF's signed byte ranges.
    Detached(&'a [&'a [u8]]),
    /// The CMS's own eContent, which must be of this type (a timestamp
    /// token's TSTInfo).
    Encapsulated(ObjectIdentifier),
}

/// A CMS SignedData with its one signer and that signer's certificate.
struct Cms {
    signed_data: SignedData,
    signer_info: SignerInfo,
    /// The signed attributes as the signer encoded them, with the SET OF tag
    /// the signature is computed under (RFC 5652, 5.4). Taken from the
    /// input, not re-encoded: the `der` crate sorts a SET OF as it decodes
    /// it, and a signer that did not sort signed what it wrote.
    signed_attributes: Option<Vec<u8>>,
    certificate: Certificate,
    certificate_der: Vec<u8>,
    /// The other certificates in the CMS: candidates for the path.
    other_certificates: Vec<Vec<u8>>,
}

impl Cms {
    /// Reads a DER ContentInfo holding SignedData; anything after the DER
    /// (the zeros a PDF pads `/Contents` with) is ignored.
    fn parse(bytes: &[u8]) -> Result<Self, String> {
        let not_cms = || "the signature is not a well-formed CMS SignedData".to_owned();
        let der = first_der_element(bytes).ok_or_else(not_cms)?;
        let content_info = ContentInfo::from_der(der).map_err(|_| not_cms())?;
        if content_info.content_type != rfc5911::ID_SIGNED_DATA {
            return Err(not_cms());
        }
        let signed_data: SignedData = content_info.content.decode_as().map_err(|_| not_cms())?;
        let raw = RawSignedData::read(der).ok_or_else(not_cms)?;

        let signer_info = match signed_data.signer_infos.0.as_slice() {
            [one] => one.clone(),
            many => {
                return Err(format!(
                    "the signature holds {} signers; one is expected",
                    many.len()
                ))
            }
        };
        let certificates: Vec<(Certificate, &[u8])> = raw
            .certificates
            .iter()
            .filter_map(|der| Some((Certificate::from_der(der).ok()?, *der)))
            .collect();
        let position = certificates
            .iter()
            .position(|(certificate, _)| identifies(&signer_info.sid, certificate))
            .ok_or("the signer's certificate is not in the signature")?;
        let other_certificates = certificates
            .iter()
            .enumerate()
            .filter(|(index, _)| *index != position)
            .map(|(_, (_, der))| der.to_vec())
            .collect();
        let (certificate, certificate_der) = certificates[position].clone();
        Ok(Self {
            signed_data,
            signer_info,
            signed_attributes: raw.signed_attributes.map(|attributes| {
                let mut attributes = attributes.to_vec();
                attributes[0] = 0x31;
                attributes
            }),
            certificate,
            certificate_der: certificate_der.to_vec(),
            other_certificates,
        })
    }

    /// Whether the signature holds over `content`: the digests agree and
    /// the signer's key verifies the signature value. Says nothing about
    /// whether the certificate is trusted (see [`chain_verdict`]).
    fn verify(&self, content: SignedContent<'_>) -> Result<(), String> {
        let digest_algorithm = DigestAlgorithm::from_oid(&self.signer_info.digest_alg.oid)?;
        let encapsulated = &self.signed_data.encap_content_info;
        let econtent = encapsulated
            .econtent
            .as_ref()
            .filter(|econtent| econtent.tag() == Tag::OctetString)
            .map(Any::value);
        let (pieces, content_type, changed): (Vec<&[u8]>, _, _) = match content {
            SignedContent::Detached(pieces) => {
                if encapsulated.econtent.is_some() {
                    return Err(
                        "the signature carries its own content instead of signing the document"
                            .to_owned(),
                    );
                }
                (
                    pieces.to_vec(),
                    rfc5911::ID_DATA,
                    "the document has been changed since it was signed",
                )
            }
            SignedContent::Encapsulated(content_type) => {
                let econtent = econtent.ok_or("the signed content is missing")?;
                (
                    vec![econtent],
                    content_type,
                    "the signed content does not match its digest",
                )
            }
        };
        if encapsulated.econtent_type != content_type {
            return Err(format!(
                "the signed content is of type {}, not {}",
                oid_name(&encapsulated.econtent_type),
                oid_name(&content_type)
            ));
        }

        let message = match &self.signed_attributes {
            Some(attributes) => {
                let claimed = self.single_signed_attribute(rfc5911::ID_MESSAGE_DIGEST)?;
                if claimed.tag() != Tag::OctetString
                    || claimed.value() != digest_algorithm.digest(&pieces).as_slice()
                {
                    return Err(changed.to_owned());
                }
                let claimed_type = self.single_signed_attribute(rfc5911::ID_CONTENT_TYPE)?;
                if claimed_type.decode_as::<ObjectIdentifier>().ok() != Some(content_type) {
                    return Err(
                        "the signed content-type attribute does not match the content".to_owned(),
                    );
                }
                attributes.clone()
            }
            // Without signed attributes the signature is over the content
            // itself (old adbe.pkcs7.detached signers).
            None => pieces.concat(),
        };
        let algorithm = verification_algorithm(
            &self.certificate,
            &self.signer_info.signature_algorithm,
            digest_algorithm,
        )?;
        let key = self
            .certificate
            .tbs_certificate
            .subject_public_key_info
            .subject_public_key
            .raw_bytes();
        UnparsedPublicKey::new(algorithm, key)
            .verify(&message, self.signer_info.signature.as_bytes())
            .map_err(|_| {
                if self.signed_attributes.is_none() {
                    changed.to_owned()
                } else {
                    "the signature value does not verify with the signer's certificate".to_owned()
                }
            })
    }

    /// The one value of the one signed attribute of this type, as RFC 5652
    /// (11.1, 11.2) requires of content-type and message-digest.
    fn single_signed_attribute(&self, oid: ObjectIdentifier) -> Result<&Any, String> {
        let missing = || {
            format!(
                "the signed attribute {} is missing or repeated",
                oid_name(&oid)
            )
        };
        let attributes = self.signer_info.signed_attrs.as_ref().ok_or_else(missing)?;
        let mut matching = attributes.iter().filter(|attribute| attribute.oid == oid);
        match (matching.next(), matching.next()) {
            (Some(attribute), None) if attribute.values.len() == 1 => {
                attribute.values.get(0).ok_or_else(missing)
            }
            _ => Err(missing()),
        }
    }

    /// The DER of the first RFC 3161 timestamp token among the signer's
    /// unsigned attributes (PAdES B-T).
    fn timestamp_token(&self) -> Option<Vec<u8>> {
        let attributes = self.signer_info.unsigned_attrs.as_ref()?;
        let attribute = attributes
            .iter()
            .find(|attribute| attribute.oid == crate::seal::TIMESTAMP_TOKEN)?;
        der::Encode::to_der(attribute.values.get(0)?).ok()
    }
}

/// Whether the SignerIdentifier names this certificate.
fn identifies(sid: &SignerIdentifier, certificate: &Certificate) -> bool {
    let tbs = &certificate.tbs_certificate;
    match sid {
        SignerIdentifier::IssuerAndSerialNumber(id) => {
            id.issuer == tbs.issuer && id.serial_number == tbs.serial_number
        }
        SignerIdentifier::SubjectKeyIdentifier(wanted) => {
            matches!(tbs.get::<SubjectKeyIdentifier>(), Ok(Some((_, found))) if found == *wanted)
        }
    }
}

/// The parts of a SignedData whose exact bytes matter, found in the DER as
/// the signer wrote it rather than decoded.
struct RawSignedData<'a> {
    /// Every certificate in `certificates` (other choices left out).
    certificates: Vec<&'a [u8]>,
    /// The first signer's `[0] IMPLICIT` signed attributes, tag included.
    signed_attributes: Option<&'a [u8]>,
}

impl<'a> RawSignedData<'a> {
    fn read(content_info: &'a [u8]) -> Option<Self> {
        // ContentInfo ::= SEQUENCE { contentType, [0] EXPLICIT SignedData }
        let content_info = der_elements(der_value(content_info)?)?;
        let signed_data = der_value(der_value(content_info.get(1)?)?)?;
        // SignedData ::= SEQUENCE { version, digestAlgorithms, encapContentInfo,
        //   [0] IMPLICIT certificates OPTIONAL, [1] IMPLICIT crls OPTIONAL, signerInfos }
        let fields = der_elements(signed_data)?;
        let certificates = match fields.iter().find(|field| field.first() == Some(&0xA0)) {
            Some(set) => der_elements(der_value(set)?)?
                .into_iter()
                .filter(|choice| choice.first() == Some(&0x30))
                .collect(),
            None => Vec::new(),
        };
        let signer_infos = der_elements(der_value(fields.last()?)?)?;
        // SignerInfo ::= SEQUENCE { version, sid, digestAlgorithm,
        //   [0] IMPLICIT signedAttrs OPTIONAL, ... }
        let signer_info = der_elements(der_value(signer_infos.first()?)?)?;
        let signed_attributes = signer_info
            .get(3)
            .copied()
            .filter(|field| field.first() == Some(&0xA0));
        Some(Self {
            certificates,
            signed_attributes,
        })
    }
}

/// The first DER element (tag, length and value) in `bytes`.
fn first_der_element(bytes: &[u8]) -> Option<&[u8]> {
    SliceReader::new(bytes).ok()?.tlv_bytes().ok()
}

/// The DER elements one after another in `bytes`.
fn der_elements(bytes: &[u8]) -> Option<Vec<&[u8]>> {
    let mut reader = SliceReader::new(bytes).ok()?;
    let mut elements = Vec::new();
    while !reader.is_finished() {
        elements.push(reader.tlv_bytes().ok()?);
    }
    Some(elements)
}

/// The value of one DER element: its tag and length left out.
fn der_value(element: &[u8]) -> Option<&[u8]> {
    let mut reader = SliceReader::new(element).ok()?;
    let header = Header::decode(&mut reader).ok()?;
    reader.read_slice(header.length).ok()
}

// ---------------------------------------------------------------------------
// Algorithms
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DigestAlgorithm {
    Sha256,
    Sha384,
    Sha512,
}

impl DigestAlgorithm {
    fn from_oid(oid: &ObjectIdentifier) -> Result<Self, String> {
        match *oid {
            rfc5912::ID_SHA_256 => Ok(Self::Sha256),
            rfc5912::ID_SHA_384 => Ok(Self::Sha384),
            rfc5912::ID_SHA_512 => Ok(Self::Sha512),
            // SHA-1 collisions can be made: a SHA-1 signature proves little.
            _ => Err(format!("unsupported digest algorithm {}", oid_name(oid))),
        }
    }

    fn digest(self, pieces: &[&[u8]]) -> Vec<u8> {
        fn run<D: Digest>(pieces: &[&[u8]]) -> Vec<u8> {
            let mut hasher = D::new();
            for piece in pieces {
                hasher.update(piece);
            }
            hasher.finalize().to_vec()
        }
        match self {
            Self::Sha256 => run::<Sha256>(pieces),
            Self::Sha384 => run::<Sha384>(pieces),
            Self::Sha512 => run::<Sha512>(pieces),
        }
    }

    fn output_length(self) -> usize {
        match self {
            Self::Sha256 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
        }
    }
}

/// The ring algorithm for a signature made with `certificate`'s key under
/// `signature_algorithm`; `digest` is the SignerInfo's digest algorithm,
/// which the bare key algorithm OIDs some signers write leave the hash to.
fn verification_algorithm(
    certificate: &Certificate,
    signature_algorithm: &AlgorithmIdentifierOwned,
    digest: DigestAlgorithm,
) -> Result<&'static dyn VerificationAlgorithm, String> {
    use DigestAlgorithm::{Sha256, Sha384, Sha512};
    let key = &certificate
        .tbs_certificate
        .subject_public_key_info
        .algorithm;
    let unsupported = || {
        format!(
            "unsupported signature algorithm {} with a {} key",
            oid_name(&signature_algorithm.oid),
            oid_name(&key.oid)
        )
    };
    match key.oid {
        rfc5912::RSA_ENCRYPTION | rfc5912::ID_RSASSA_PSS => {
            let hash = match signature_algorithm.oid {
                rfc5912::RSA_ENCRYPTION => digest,
                rfc5912::SHA_256_WITH_RSA_ENCRYPTION => Sha256,
                rfc5912::SHA_384_WITH_RSA_ENCRYPTION => Sha384,
                rfc5912::SHA_512_WITH_RSA_ENCRYPTION => Sha512,
                rfc5912::ID_RSASSA_PSS => {
                    return pss_algorithm(signature_algorithm.parameters.as_ref())
                        .ok_or_else(unsupported)
                }
                _ => return Err(unsupported()),
            };
            Ok(match hash {
                Sha256 => &ring_signature::RSA_PKCS1_2048_8192_SHA256,
                Sha384 => &ring_signature::RSA_PKCS1_2048_8192_SHA384,
                Sha512 => &ring_signature::RSA_PKCS1_2048_8192_SHA512,
            })
        }
        rfc5912::ID_EC_PUBLIC_KEY => {
            let hash = match signature_algorithm.oid {
                rfc5912::ID_EC_PUBLIC_KEY => digest,
                rfc5912::ECDSA_WITH_SHA_256 => Sha256,
                rfc5912::ECDSA_WITH_SHA_384 => Sha384,
                rfc5912::ECDSA_WITH_SHA_512 => Sha512,
                _ => return Err(unsupported()),
            };
            let curve = key
                .parameters
                .as_ref()
                .and_then(|parameters| parameters.decode_as::<ObjectIdentifier>().ok());
            match (curve, hash) {
                (Some(rfc5912::SECP_256_R_1), Sha256) => {
                    Ok(&ring_signature::ECDSA_P256_SHA256_ASN1)
                }
                (Some(rfc5912::SECP_256_R_1), Sha384) => {
                    Ok(&ring_signature::ECDSA_P256_SHA384_ASN1)
                }
                (Some(rfc5912::SECP_384_R_1), Sha256) => {
                    Ok(&ring_signature::ECDSA_P384_SHA256_ASN1)
                }
                (Some(rfc5912::SECP_384_R_1), Sha384) => {
                    Ok(&ring_signature::ECDSA_P384_SHA384_ASN1)
                }
                (curve, _) => Err(format!(
                    "unsupported signature algorithm {} on the curve {}",
                    oid_name(&signature_algorithm.oid),
                    curve.map_or_else(|| "(not named)".to_owned(), |curve| oid_name(&curve))
                )),
            }
        }
        _ => Err(unsupported()),
    }
}

/// RSASSA-PSS as ring verifies it: MGF1 with the same hash as the message,
/// and a salt as long as the hash (what RFC 8017 recommends and signers use).
fn pss_algorithm(parameters: Option<&Any>) -> Option<&'static dyn VerificationAlgorithm> {
    use rsa::pkcs1::RsaPssParams;
    let encoded = der::Encode::to_der(parameters?).ok()?;
    let parameters = RsaPssParams::try_from(encoded.as_slice()).ok()?;
    let hash = DigestAlgorithm::from_oid(&parameters.hash.oid).ok()?;
    let mask_hash = parameters.mask_gen.parameters.as_ref()?.oid;
    if parameters.mask_gen.oid != rfc5912::ID_MGF_1
        || mask_hash != parameters.hash.oid
        || usize::from(parameters.salt_len) != hash.output_length()
    {
        return None;
    }
    Some(match hash {
        DigestAlgorithm::Sha256 => &ring_signature::RSA_PSS_2048_8192_SHA256,
        DigestAlgorithm::Sha384 => &ring_signature::RSA_PSS_2048_8192_SHA384,
        DigestAlgorithm::Sha512 => &ring_signature::RSA_PSS_2048_8192_SHA512,
    })
}

/// The OID's name, for messages: "sha256WithRSAEncryption" reads better
/// than its digits.
fn oid_name(oid: &ObjectIdentifier) -> String {
    match DB.by_oid(oid) {
        Some(name) => format!("{name} ({oid})"),
        None => oid.to_string(),
    }
}

// ---------------------------------------------------------------------------
// The certificate chain
// ---------------------------------------------------------------------------

/// Whether the CMS signer's certificate leads to a trust anchor at `at`;
/// `whose` ("the signer's") names it in the reason.
fn chain_verdict(cms: &Cms, anchors: &TrustAnchors, at: DateTime<Utc>, whose: &str) -> Verdict {
    match anchors.verify_signer(&cms.certificate_der, &cms.other_certificates, at) {
        Ok(_) => Verdict::Valid,
        Err(TrustError::UnknownIssuer) => Verdict::UnknownSigner,
        Err(error) => Verdict::Invalid(format!("{whose} certificate is not accepted: {error}")),
    }
}

// ---------------------------------------------------------------------------
// Timestamps
// ---------------------------------------------------------------------------

/// An intact RFC 3161 timestamp token.
struct TimestampToken {
    generated_at: DateTime<Utc>,
    /// The timestamp authority's subject, for people.
    authority: String,
    /// Whether the authority's certificate leads to a trust anchor.
    trust: Verdict,
}

/// Reads the timestamp token in `der` and checks that it is over
/// `imprinted` (the signature value, or the PDF's byte ranges for a
/// document timestamp) and that its own signature holds; why not, if not.
fn verify_timestamp_token(
    der: &[u8],
    imprinted: &[&[u8]],
    anchors: &TrustAnchors,
    at: DateTime<Utc>,
) -> Result<TimestampToken, String> {
    let cms = Cms::parse(der)?;
    cms.verify(SignedContent::Encapsulated(ID_CT_TST_INFO))?;
    // The TSTInfo is read where the client reads it, leniently about the
    // fractional seconds many authorities put in genTime.
    let token = first_der_element(der).ok_or("the timestamp token is not DER")?;
    let info = crate::timestamp::read_token(token).map_err(|error| error.to_string())?;
    let algorithm = ObjectIdentifier::new(&info.hash_algorithm)
        .map_err(|_| "the timestamp's imprint names no hash algorithm".to_owned())
        .and_then(|oid| DigestAlgorithm::from_oid(&oid))?;
    if algorithm.digest(imprinted) != info.hashed_message {
        return Err("the timestamp is over other data".to_owned());
    }
    let generated_at = info.gen_time;
    Ok(TimestampToken {
        generated_at,
        authority: readable_subject(&cms.certificate.tbs_certificate.subject),
        trust: chain_verdict(&cms, anchors, at, "the timestamp authority's"),
    })
}

// ---------------------------------------------------------------------------
// PDF values
// ---------------------------------------------------------------------------

fn string_entry(document: &Document, dictionary: &Dictionary, key: &[u8]) -> Option<Vec<u8>> {
    match dictionary.get_deref(key, document) {
        Ok(Object::String(bytes, _)) => Some(bytes.clone()),
        _ => None,
    }
}

fn name_entry<'a>(
    document: &'a Document,
    dictionary: &'a Dictionary,
    key: &[u8],
) -> Option<&'a [u8]> {
    dictionary
        .get_deref(key, document)
        .and_then(Object::as_name)
        .ok()
}

/// A PDF text string: UTF-16BE or UTF-8 after a byte order mark, else
/// PDFDocEncoding, read as Latin-1 (they differ only in rarely used
/// punctuation).
fn pdf_text(bytes: &[u8]) -> String {
    if let Some(utf16) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        let units: Vec<u16> = utf16
            .chunks_exact(2)
            .map(|pair| u16::from_be_bytes([pair[0], pair[1]]))
            .collect();
        String::from_utf16_lossy(&units)
    } else if let Some(utf8) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        String::from_utf8_lossy(utf8).into_owned()
    } else {
        bytes.iter().map(|&byte| char::from(byte)).collect()
    }
}

/// A PDF date (ISO 32000-1, 7.9.4): `D:YYYYMMDDHHmmSSOHH'mm'`, where all
/// after the year may be left out; without a zone it is taken as UTC.
fn pdf_date(bytes: &[u8]) -> Option<DateTime<Utc>> {
    let text = std::str::from_utf8(bytes).ok()?;
    let text = text.strip_prefix("D:").unwrap_or(text);
    let digits_end = text
        .find(|character: char| !character.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, zone) = text.split_at(digits_end);
    if !(4..=14).contains(&digits.len()) || digits.len() % 2 != 0 {
        return None;
    }
    let field = |start: usize, default: u32| match digits.get(start..start + 2) {
        Some(two) => two.parse().ok(),
        None => Some(default),
    };
    let date = NaiveDate::from_ymd_opt(digits[..4].parse().ok()?, field(4, 1)?, field(6, 1)?)?;
    let local = date.and_hms_opt(field(8, 0)?, field(10, 0)?, field(12, 0)?)?;
    let offset = match zone.chars().next() {
        None | Some('Z') => 0,
        Some(sign @ ('+' | '-')) => {
            let zone_digits: String = zone[1..].chars().filter(char::is_ascii_digit).collect();
            let hours: i32 = zone_digits.get(0..2)?.parse().ok()?;
            let minutes: i32 = zone_digits
                .get(2..4)
                .map_or(Some(0), |two| two.parse().ok())?;
            let seconds = hours * 3600 + minutes * 60;
            if sign == '-' {
                -seconds
            } else {
                seconds
            }
        }
        Some(_) => return None,
    };
    FixedOffset::east_opt(offset)?
        .from_local_datetime(&local)
        .single()
        .map(|time| time.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        seal::{KeyFile, Sealer},
        trust::testing::TestCa,
    };
    use app::domain::OrgNr;
    use chrono::Duration;
    use chrono::Timelike;
    use cms::{
        builder::{SignedDataBuilder, SignerInfoBuilder},
        cert::{CertificateChoices, IssuerAndSerialNumber},
        signed_data::{EncapsulatedContentInfo, SignerInfos},
    };
    use der::{
        asn1::{GeneralizedTime, Int, OctetString, SetOfVec},
        Encode,
    };
    use rsa::{pkcs1v15::SigningKey, RsaPrivateKey};
    use std::{path::Path, process::Command, sync::Arc, sync::OnceLock};
    use x509_tsp::{MessageImprint, TspVersion, TstInfo};

    fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
        haystack
            .windows(needle.len())
            .position(|window| window == needle)
    }

    fn ca() -> &'static TestCa {
        static CA: OnceLock<TestCa> = OnceLock::new();
        CA.get_or_init(|| TestCa::new("Signatur Test"))
    }

    fn in_a_year() -> DateTime<Utc> {
        Utc::now() + Duration::days(365)
    }

    /// The /M the seals in these tests claim.
    fn sealed_at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 3, 1, 12, 0, 0).unwrap()
    }

    /// The tests' RSA key (generating one is slow) and a certificate for it
    /// made as Postkasse makes its own: self-signed, trusted by being an anchor.
    fn postkasse() -> &'static (RsaPrivateKey, Vec<u8>) {
        static POSTKASSE: OnceLock<(RsaPrivateKey, Vec<u8>)> = OnceLock::new();
        POSTKASSE.get_or_init(|| {
            let (key, _) = ca().issue_for_subject("CN=Unused", in_a_year(), &[]);
            let org_nr = OrgNr::parse("999900003").unwrap();
            let certificate = crate::keys::self_signed(&key, &org_nr, "Postkasse").unwrap();
            (key, certificate.to_der().unwrap())
        })
    }

    fn postkasse_anchors() -> TrustAnchors {
        TrustAnchors::from_der_certificates(vec![postkasse().1.clone()]).unwrap()
    }

    fn letter() -> Vec<u8> {
        crate::pdf::letter_pdf("Kvittering", "Kari Nordmann", &["Svaret ble sendt."]).unwrap()
    }

    /// A letter with Postkasse's seal.
    fn sealed() -> &'static [u8] {
        static SEALED: OnceLock<Vec<u8>> = OnceLock::new();
        SEALED.get_or_init(|| {
            let (key, certificate) = postkasse();
            Sealer::from_key(key.clone(), certificate)
                .unwrap()
                .seal(&letter(), "Kvittering for svar", sealed_at())
                .unwrap()
        })
    }

    fn only(checks: Vec<SignatureCheck>) -> SignatureCheck {
        assert_eq!(checks.len(), 1, "{checks:?}");
        checks.into_iter().next().unwrap()
    }

    fn invalid_reason(check: &SignatureCheck) -> &str {
        match &check.verdict {
            Verdict::Invalid(reason) => reason,
            other => panic!("expected an invalid signature, got {other:?}"),
        }
    }

    /// Where the (only) signature's `/Contents` lies: its `<` and after its `>`.
    fn gap(pdf: &[u8]) -> (usize, usize) {
        let document = Document::load_mem(pdf).unwrap();
        let dictionaries = signature_dictionaries(&document);
        let numbers = byte_range_numbers(&document, dictionaries[0]).unwrap();
        (numbers[1] as usize, numbers[2] as usize)
    }

    /// `pdf` with `signature` (DER) written into its signature's room.
    fn with_contents(pdf: &[u8], signature: &[u8]) -> Vec<u8> {
        let (start, end) = gap(pdf);
        let hex = hex::encode_upper(signature);
        assert!(hex.len() <= end - start - 2, "the signature fits its room");
        let mut changed = pdf.to_vec();
        changed[start + 1..end - 1].fill(b'0');
        changed[start + 1..start + 1 + hex.len()].copy_from_slice(hex.as_bytes());
        changed
    }

    /// `pdf` with its signature's CMS changed by `change`.
    fn with_cms(pdf: &[u8], change: impl FnOnce(&mut SignedData)) -> Vec<u8> {
        let (start, end) = gap(pdf);
        let contents = hex::decode(&pdf[start + 1..end - 1]).unwrap();
        let content_info = ContentInfo::from_der(first_der_element(&contents).unwrap()).unwrap();
        let mut signed_data: SignedData = content_info.content.decode_as().unwrap();
        change(&mut signed_data);
        let content_info = ContentInfo {
            content_type: rfc5911::ID_SIGNED_DATA,
            content: Any::encode_from(&signed_data).unwrap(),
        };
        with_contents(pdf, &content_info.to_der().unwrap())
    }

    fn change_signer(signed_data: &mut SignedData, change: impl FnOnce(&mut SignerInfo)) {
        let mut signer = signed_data.signer_infos.0.get(0).unwrap().clone();
        change(&mut signer);
        signed_data.signer_infos = SignerInfos(SetOfVec::try_from(vec![signer]).unwrap());
    }

    fn certificate(der: &[u8]) -> CertificateChoices {
        CertificateChoices::Certificate(Certificate::from_der(der).unwrap())
    }

    /// An RFC 3161 token from the test CA's timestamp authority, saying
    /// that `imprinted` existed at `generated_at`, with the TSA's
    /// certificate and the intermediate in it.
    fn timestamp_token(imprinted: &[u8], generated_at: DateTime<Utc>) -> Vec<u8> {
        let (key, tsa) = ca().issue_for_subject(
            "CN=Test TSA,O=Tidsstempel Test,C=NO",
            in_a_year(),
            &["1.3.6.1.5.5.7.3.8"],
        );
        let tsa = Certificate::from_der(&tsa).unwrap();
        let sha256 = AlgorithmIdentifierOwned {
            oid: rfc5912::ID_SHA_256,
            parameters: None,
        };
        let tst_info = TstInfo {
            version: TspVersion::V1,
            policy: ObjectIdentifier::new_unwrap("1.3.6.1.4.1.99999.1.1"),
            message_imprint: MessageImprint {
                hash_algorithm: sha256.clone(),
                hashed_message: OctetString::new(Sha256::digest(imprinted).to_vec()).unwrap(),
            },
            serial_number: Int::new(&[7]).unwrap(),
            gen_time: GeneralizedTime::from_system_time(generated_at.into()).unwrap(),
            accuracy: None,
            ordering: false,
            nonce: None,
            tsa: None,
            extensions: None,
        };
        let content = EncapsulatedContentInfo {
            econtent_type: ID_CT_TST_INFO,
            econtent: Some(Any::new(Tag::OctetString, tst_info.to_der().unwrap()).unwrap()),
        };
        let signer = SigningKey::<Sha256>::new(key);
        let sid = SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: tsa.tbs_certificate.issuer.clone(),
            serial_number: tsa.tbs_certificate.serial_number.clone(),
        });
        let signer_info =
            SignerInfoBuilder::new(&signer, sid, sha256.clone(), &content, None).unwrap();
        SignedDataBuilder::new(&content)
            .add_digest_algorithm(sha256)
            .unwrap()
            .add_certificate(CertificateChoices::Certificate(tsa))
            .unwrap()
            .add_certificate(certificate(ca().intermediate_der()))
            .unwrap()
            .add_signer_info::<_, rsa::pkcs1v15::Signature>(signer_info)
            .unwrap()
            .build()
            .unwrap()
            .to_der()
            .unwrap()
    }

    /// The sealed letter with a timestamp token over `imprinted(signature value)`.
    fn timestamped(imprinted: impl FnOnce(&[u8]) -> Vec<u8>, at: DateTime<Utc>) -> Vec<u8> {
        with_cms(sealed(), |signed_data| {
            let signature = crate::seal::signature_value(signed_data).unwrap().to_vec();
            let token = timestamp_token(&imprinted(&signature), at);
            crate::seal::add_timestamp(signed_data, &token).unwrap();
        })
    }

    #[test]
    fn a_seal_with_a_trusted_certificate_is_valid_and_covers_the_document() {
        let check = only(check_pdf(sealed(), &postkasse_anchors(), Utc::now()));
        assert_eq!(check.verdict, Verdict::Valid);
        assert!(check.covers_whole_document);
        assert_eq!(check.signer, "Postkasse");
        assert_eq!(check.name.as_deref(), Some("Postkasse"));
        assert_eq!(
            check.signed_at,
            Some(sealed_at()),
            "the /M of the dictionary"
        );
        assert!(!check.timestamped);
        assert!(!check.document_timestamp);
        assert!(may_be_signed(sealed()));
    }

    #[test]
    fn an_intact_seal_from_an_untrusted_certificate_is_from_an_unknown_signer() {
        let check = only(check_pdf(sealed(), &TrustAnchors::none(), Utc::now()));
        assert_eq!(check.verdict, Verdict::UnknownSigner);
        assert_eq!(check.signer, "Postkasse");
        assert!(check.covers_whole_document);
    }

    #[test]
    fn a_changed_byte_in_either_signed_range_makes_the_signature_invalid() {
        let (_, end) = gap(sealed());
        // The header's minor version: before the signature, still a PDF.
        let mut changed_before = sealed().to_vec();
        assert_eq!(&changed_before[..5], b"%PDF-");
        changed_before[7] = if changed_before[7] == b'4' {
            b'5'
        } else {
            b'4'
        };
        // The /M, after the signature: a second later.
        let mut changed_after = sealed().to_vec();
        let date = end + find(&changed_after[end..], b"(D:20250301120000Z)").unwrap();
        changed_after[date + 16] = b'1';

        for changed in [changed_before, changed_after] {
            let check = only(check_pdf(&changed, &postkasse_anchors(), Utc::now()));
            assert_eq!(
                invalid_reason(&check),
                "the document has been changed since it was signed"
            );
            assert_eq!(check.signer, "Postkasse", "who it claims to be from");
        }
    }

    #[test]
    fn a_changed_signature_value_is_invalid() {
        let pdf = with_cms(sealed(), |signed_data| {
            change_signer(signed_data, |signer| {
                let mut value = signer.signature.as_bytes().to_vec();
                value[10] ^= 1;
                signer.signature = OctetString::new(value).unwrap();
            })
        });
        let check = only(check_pdf(&pdf, &postkasse_anchors(), Utc::now()));
        assert_eq!(
            invalid_reason(&check),
            "the signature value does not verify with the signer's certificate"
        );
    }

    #[test]
    fn an_update_appended_after_the_seal_is_not_covered() {
        let mut updated = sealed().to_vec();
        updated.extend_from_slice(b"\n% x\n");
        let check = only(check_pdf(&updated, &postkasse_anchors(), Utc::now()));
        assert_eq!(check.verdict, Verdict::Valid, "what it signed is intact");
        assert!(!check.covers_whole_document);

        // A newline a transport adds is not an update.
        let mut newline = sealed().to_vec();
        newline.extend_from_slice(b"\r\n");
        let check = only(check_pdf(&newline, &postkasse_anchors(), Utc::now()));
        assert!(check.covers_whole_document);
    }

    #[test]
    fn a_second_seal_leaves_the_first_intact_but_no_longer_whole() {
        let (key, certificate) = postkasse();
        let twice = Sealer::from_key(key.clone(), certificate)
            .unwrap()
            .seal(sealed(), "Andre segl", sealed_at() + Duration::hours(1))
            .unwrap();
        let checks = check_pdf(&twice, &postkasse_anchors(), Utc::now());
        assert_eq!(checks.len(), 2, "{checks:?}");
        assert!(checks.iter().all(|check| check.verdict == Verdict::Valid));
        assert!(!checks[0].covers_whole_document);
        assert!(checks[1].covers_whole_document);
        assert_eq!(checks[0].signed_at, Some(sealed_at()), "in the order made");
    }

    #[test]
    fn a_pdf_without_signatures_has_none_and_is_not_parsed() {
        let letter = letter();
        assert!(!may_be_signed(&letter));
        assert!(check_pdf(&letter, &postkasse_anchors(), Utc::now()).is_empty());
    }

    #[test]
    fn garbage_has_no_signatures_and_does_not_panic() {
        let anchors = postkasse_anchors();
        assert!(check_pdf(b"not a PDF at all", &anchors, Utc::now()).is_empty());
        let pretending = b"%PDF-1.7\n1 0 obj << /ByteRange [0 1 2 3] /Contents <00> >>\n%%EOF";
        assert!(may_be_signed(pretending));
        assert!(check_pdf(pretending, &anchors, Utc::now()).is_empty());
        // A sealed PDF cut short.
        let cut = &sealed()[..sealed().len() / 2];
        assert!(check_pdf(cut, &anchors, Utc::now())
            .iter()
            .all(|check| check.verdict != Verdict::Valid));
    }

    #[test]
    fn a_byte_range_that_leaves_out_more_than_the_signature_is_invalid() {
        // Move the range's gap one byte to the left: it then leaves out a
        // byte of the dictionary and not all of the signature.
        let pdf = sealed();
        let (start, end) = gap(pdf);
        let written = format!("[0 {start} {end} {}", pdf.len() - end);
        let moved = format!("[0 {} {} {}", start - 1, end - 1, pdf.len() - end + 1);
        assert_eq!(written.len(), moved.len());
        let at = find(pdf, written.as_bytes()).unwrap();
        let mut changed = pdf.to_vec();
        changed[at..at + moved.len()].copy_from_slice(moved.as_bytes());
        let check = only(check_pdf(&changed, &postkasse_anchors(), Utc::now()));
        assert_eq!(
            invalid_reason(&check),
            "the gap in the /ByteRange is not the signature's /Contents"
        );
    }

    #[test]
    fn an_expired_certificate_makes_the_signature_invalid() {
        let in_ten_years = Utc::now() + Duration::days(3650);
        let check = only(check_pdf(sealed(), &postkasse_anchors(), in_ten_years));
        assert!(
            invalid_reason(&check).starts_with(
                "the signer's certificate is not accepted: the certificate was not valid"
            ),
            "{check:?}"
        );
    }

    #[test]
    fn a_chain_through_the_intermediate_in_the_signature_leads_to_the_root() {
        let (key, end_entity) =
            ca().issue_for_subject("CN=Kari Nordmann,O=Testkommune,C=NO", in_a_year(), &[]);
        let seal = |chain: &[&[u8]]| {
            Sealer::new(Arc::new(KeyFile::new(key.clone(), chain).unwrap()))
                .seal(&letter(), "Signert", sealed_at())
                .unwrap()
        };
        let with_intermediate = seal(&[end_entity.as_slice(), ca().intermediate_der()]);
        let check = only(check_pdf(&with_intermediate, &ca().anchors(), Utc::now()));
        assert_eq!(check.verdict, Verdict::Valid);
        assert_eq!(check.signer, "Testkommune (Kari Nordmann)");

        let without = seal(&[end_entity.as_slice()]);
        let check = only(check_pdf(&without, &ca().anchors(), Utc::now()));
        assert_eq!(check.verdict, Verdict::UnknownSigner, "no path to the root");
    }

    #[test]
    fn a_timestamp_over_the_signature_gives_the_time_of_signing() {
        let generated_at = Utc::now().with_nanosecond(0).unwrap() - Duration::minutes(5);
        let pdf = timestamped(<[u8]>::to_vec, generated_at);
        let anchors = TrustAnchors::from_der_certificates(vec![
            postkasse().1.clone(),
            ca().root_der().to_vec(),
        ])
        .unwrap();
        let check = only(check_pdf(&pdf, &anchors, Utc::now()));
        assert_eq!(check.verdict, Verdict::Valid);
        assert!(check.timestamped);
        assert_eq!(check.signed_at, Some(generated_at));

        // From an authority nobody trusts, the time is only claimed.
        let check = only(check_pdf(&pdf, &postkasse_anchors(), Utc::now()));
        assert_eq!(check.verdict, Verdict::Valid);
        assert!(!check.timestamped);
        assert_eq!(check.signed_at, Some(sealed_at()));
    }

    #[test]
    fn a_timestamp_over_something_else_makes_the_signature_invalid() {
        let pdf = timestamped(|_| b"another signature".to_vec(), Utc::now());
        let check = only(check_pdf(&pdf, &postkasse_anchors(), Utc::now()));
        assert_eq!(
            invalid_reason(&check),
            "the timestamp does not match the signature: the timestamp is over other data"
        );
        assert!(!check.timestamped);
    }

    #[test]
    fn a_document_timestamp_names_its_authority_and_time() {
        // The seal turned into a document timestamp: /SubFilter
        // /ETSI.RFC3161, and a token over the signed bytes for /Contents.
        let mut pdf = sealed().to_vec();
        let sub_filter = find(&pdf, b"/ETSI.CAdES.detached").unwrap();
        pdf[sub_filter..sub_filter + 20].copy_from_slice(b"/ETSI.RFC3161       ");
        let (start, end) = gap(&pdf);
        let generated_at = Utc::now().with_nanosecond(0).unwrap();
        let token = timestamp_token(&[&pdf[..start], &pdf[end..]].concat(), generated_at);
        let pdf = with_contents(&pdf, &token);

        let check = only(check_pdf(&pdf, &ca().anchors(), Utc::now()));
        assert_eq!(check.verdict, Verdict::Valid);
        assert!(check.document_timestamp && check.timestamped);
        assert_eq!(check.signer, "Tidsstempel Test (Test TSA)");
        assert_eq!(check.signed_at, Some(generated_at));

        let check = only(check_pdf(&pdf, &TrustAnchors::none(), Utc::now()));
        assert_eq!(check.verdict, Verdict::UnknownSigner);
        assert!(!check.timestamped);

        let mut changed = pdf.clone();
        changed[7] = if changed[7] == b'4' { b'5' } else { b'4' };
        let check = only(check_pdf(&changed, &ca().anchors(), Utc::now()));
        assert_eq!(invalid_reason(&check), "the timestamp is over other data");
    }

    #[test]
    fn a_signature_over_its_own_content_instead_of_the_document_is_invalid() {
        let pdf = with_cms(sealed(), |signed_data| {
            signed_data.encap_content_info.econtent =
                Some(Any::new(Tag::OctetString, b"something else".to_vec()).unwrap());
        });
        let check = only(check_pdf(&pdf, &postkasse_anchors(), Utc::now()));
        assert!(invalid_reason(&check).contains("instead of signing the document"));
    }

    #[test]
    fn pdf_dates_are_read_with_their_zone() {
        let date = |text: &str| pdf_date(text.as_bytes());
        let noon = Utc.with_ymd_and_hms(2025, 3, 1, 12, 0, 0).unwrap();
        assert_eq!(date("D:20250301120000Z"), Some(noon));
        assert_eq!(date("D:20250301130000+01'00'"), Some(noon));
        assert_eq!(date("D:20250301063000-05'30"), Some(noon));
        assert_eq!(date("D:2025030112"), Some(noon));
        assert_eq!(
            date("D:2025"),
            Some(Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap())
        );
        assert_eq!(date("D:20251301"), None, "month 13");
        assert_eq!(date("yesterday"), None);
    }

    #[test]
    fn pdf_text_strings_are_read_in_either_encoding() {
        assert_eq!(pdf_text(&[0xFE, 0xFF, 0x00, 0xC5, 0x00, 0x73]), "Ås");
        assert_eq!(pdf_text(b"\xC5s"), "Ås");
    }

    // -----------------------------------------------------------------------
    // Signatures made by OpenSSL: an implementation independent of the cms
    // crate the seal is made with. Skipped where openssl is not installed.
    // -----------------------------------------------------------------------

    const OPENSSL: &str = "/usr/bin/openssl";

    fn openssl(directory: &Path, arguments: &[&str]) {
        let output = Command::new(OPENSSL)
            .current_dir(directory)
            .args(arguments)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "openssl {arguments:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// The sealed letter with its seal replaced by OpenSSL's CMS signature
    /// over the same bytes, made with a new key (`key_options` for `openssl
    /// req`) and a self-signed certificate; and that certificate.
    fn signed_by_openssl(key_options: &[&str], sign_options: &[&str]) -> (Vec<u8>, Vec<u8>) {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path();
        std::fs::write(
            path.join("req.cnf"),
            "[req]\ndistinguished_name = dn\nx509_extensions = ext\nprompt = no\n\
             [dn]\nCN = Ola Nordmann\nO = Testkommune\n\
             [ext]\nbasicConstraints = critical, CA:FALSE\n\
             keyUsage = critical, digitalSignature, nonRepudiation\n",
        )
        .unwrap();
        let mut request = vec![
            "req", "-x509", "-nodes", "-config", "req.cnf", "-days", "30",
        ];
        request.extend_from_slice(key_options);
        request.extend_from_slice(&["-keyout", "key.pem", "-out", "certificate.pem"]);
        openssl(path, &request);
        openssl(
            path,
            &[
                "x509",
                "-in",
                "certificate.pem",
                "-outform",
                "DER",
                "-out",
                "certificate.der",
            ],
        );
        let pdf = sealed();
        let (start, end) = gap(pdf);
        std::fs::write(
            path.join("signed.bin"),
            [&pdf[..start], &pdf[end..]].concat(),
        )
        .unwrap();
        let mut signing = vec![
            "cms",
            "-sign",
            "-binary",
            "-in",
            "signed.bin",
            "-signer",
            "certificate.pem",
            "-inkey",
            "key.pem",
            "-outform",
            "DER",
            "-out",
            "signature.der",
        ];
        signing.extend_from_slice(sign_options);
        openssl(path, &signing);
        let signature = std::fs::read(path.join("signature.der")).unwrap();
        let certificate = std::fs::read(path.join("certificate.der")).unwrap();
        (with_contents(pdf, &signature), certificate)
    }

    #[test]
    fn signatures_made_by_openssl_verify() {
        if !Path::new(OPENSSL).exists() {
            eprintln!("skipped: {OPENSSL} is not installed");
            return;
        }
        let p256: &[&str] = &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"];
        let p384: &[&str] = &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384"];
        let rsa: &[&str] = &["-newkey", "rsa:2048"];
        let pss: &[&str] = &[
            "-md",
            "sha256",
            "-keyopt",
            "rsa_padding_mode:pss",
            "-keyopt",
            "rsa_pss_saltlen:digest",
        ];
        let cases: [(&[&str], &[&str]); 4] = [
            (p256, &["-md", "sha256"]),
            (p384, &["-md", "sha384"]),
            // No signed attributes: the signature is over the document itself.
            (rsa, &["-md", "sha512", "-noattr"]),
            (rsa, pss),
        ];
        for (key_options, sign_options) in cases {
            let (pdf, certificate) = signed_by_openssl(key_options, sign_options);
            let anchors = TrustAnchors::from_der_certificates(vec![certificate]).unwrap();
            let check = only(check_pdf(&pdf, &anchors, Utc::now()));
            assert_eq!(
                check.verdict,
                Verdict::Valid,
                "{key_options:?} {sign_options:?}"
            );
            assert_eq!(check.signer, "Testkommune (Ola Nordmann)");

            let mut changed = pdf.clone();
            changed[7] = if changed[7] == b'4' { b'5' } else { b'4' };
            let check = only(check_pdf(&changed, &anchors, Utc::now()));
            assert_eq!(
                invalid_reason(&check),
                "the document has been changed since it was signed",
                "{key_options:?} {sign_options:?}"
            );
        }
    }
}
