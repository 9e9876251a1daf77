//! PAdES baseline signatures (`ETSI.CAdES.detached`) on PDFs: Postkasse's
//! seal on the PDFs it makes (a reply's receipt), and the signatures its
//! signing service makes on a citizen's behalf (crate::signing).
//!
//! lopdf appends an incremental update to the document (so signatures
//! already in it stay intact) with a signature field, its dictionary with
//! room for the signature, and optionally a visible signature on a new last
//! page and embedded files; the CMS `SignedData` over the document's bytes
//! around that room comes from RustCrypto's `cms` builder. A timestamp
//! token (RFC 3161) can be added to it before it is written in (B-T). Only
//! the assembly is Postkasse's own.
//!
//! The private key is behind [`SignatureKey`]: a key file ([`KeyFile`]) by
//! default; a hardware security module can implement it later.
//!
//! CPU-bound (RSA): async callers run it in `tokio::task::spawn_blocking`.

use anyhow::Context;
use chrono::{DateTime, Utc};
use cms::{
    builder::{SignedDataBuilder, SignerInfoBuilder},
    cert::{CertificateChoices, IssuerAndSerialNumber},
    content_info::ContentInfo,
    signed_data::{EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo},
};
use der::{asn1::SetOfVec, Any, Decode, Encode};
use lopdf::{dictionary, IncrementalDocument, Object, ObjectId, Stream, StringFormat};
use rsa::{pkcs1v15::SigningKey, RsaPrivateKey};
use sha2::{Digest, Sha256};
use spki::AlgorithmIdentifierOwned;
use std::sync::Arc;
use x509_cert::{attr::Attribute, Certificate};

/// Bytes set aside for the CMS signature: a 4096-bit RSA signature, a
/// certificate chain of a few kilobytes and a timestamp token with its own
/// certificates fit with room to spare.
const SIGNATURE_ROOM: usize = 32 * 1024;
/// Written where the byte range goes, then overwritten with the real one,
/// padded to the same width.
const RANGE_PLACEHOLDER: i64 = 9_999_999_999;
/// id-aa-timeStampToken (RFC 3161, appendix A): the unsigned attribute that
/// makes a PAdES B-B signature B-T.
pub const TIMESTAMP_TOKEN: der::oid::ObjectIdentifier =
    der::oid::ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.14");

/// A private key that signs for its certificate. Signing is
/// RSASSA-PKCS1-v1_5 with SHA-256.
pub trait SignatureKey: Send + Sync + 'static {
    /// The key's certificate first, then the intermediates a verifier needs
    /// to reach a trust anchor.
    fn chain(&self) -> &[Certificate];

    /// The signature of `message` (the DER of a signer info's signed attributes).
    fn sign(&self, message: &[u8]) -> anyhow::Result<Vec<u8>>;
}

/// A key kept in a file, with its certificate chain.
pub struct KeyFile {
    key: RsaPrivateKey,
    chain: Vec<Certificate>,
}

impl KeyFile {
    /// `chain_der`: the key's certificate first, then any intermediates.
    pub fn new(key: RsaPrivateKey, chain_der: &[&[u8]]) -> anyhow::Result<Self> {
        let chain = chain_der
            .iter()
            .map(|der| Certificate::from_der(der))
            .collect::<Result<Vec<_>, _>>()
            .context("a signing certificate is not DER X.509")?;
        anyhow::ensure!(!chain.is_empty(), "a signing key needs its certificate");
        Ok(Self { key, chain })
    }

    /// The key in a PKCS#8 PEM file, and its chain in a PEM file (its
    /// certificate first). CPU work: call it off the async runtime.
    pub fn load(key_file: &std::path::Path, chain_file: &std::path::Path) -> anyhow::Result<Self> {
        use rsa::pkcs8::DecodePrivateKey;
        let key_pem = std::fs::read_to_string(key_file)
            .with_context(|| format!("cannot read the signing key {}", key_file.display()))?;
        let key = RsaPrivateKey::from_pkcs8_pem(&key_pem)
            .context("the signing key is not a PKCS#8 RSA key")?;
        let chain_pem = std::fs::read(chain_file)
            .with_context(|| format!("cannot read the certificates {}", chain_file.display()))?;
        let chain = Certificate::load_pem_chain(&chain_pem)
            .context("the signing certificates are not PEM X.509")?;
        anyhow::ensure!(!chain.is_empty(), "a signing key needs its certificate");
        Ok(Self { key, chain })
    }
}

impl SignatureKey for KeyFile {
    fn chain(&self) -> &[Certificate] {
        &self.chain
    }

    fn sign(&self, message: &[u8]) -> anyhow::Result<Vec<u8>> {
        use rsa::signature::{SignatureEncoding, Signer};
        let signer = SigningKey::<Sha256>::new(self.key.clone());
        Ok(signer.try_sign(message)?.to_vec())
    }
}

/// What a signature shows of itself.
pub struct Appearance<'a> {
    /// The signature field's name (`/T`), unique in the document.
    pub field_name: &'a str,
    /// `/Name`: who signed.
    pub name: &'a str,
    /// `/Reason`.
    pub reason: &'a str,
    /// `/M`, the time claimed in the dictionary (a timestamp proves it).
    pub at: DateTime<Utc>,
    /// Drawn on a new last page when given; otherwise the field is invisible.
    pub visible: Option<VisibleSignature<'a>>,
    /// Files embedded in the document before it is signed, so the
    /// signature covers them. Only a document's first signature may embed
    /// files (see [`SignaturePlace`]); a later one puts what it must carry
    /// in `in_dictionary`.
    pub embedded: Vec<EmbeddedFile<'a>>,
    /// Text kept in the signature dictionary under `/Postkasse.Bevis`,
    /// which the signature covers too.
    pub in_dictionary: Option<&'a str>,
}

/// A box on a signature page: a heading above it and lines inside it.
pub struct VisibleSignature<'a> {
    pub heading: &'a str,
    pub lines: Vec<String>,
    pub place: SignaturePlace,
}

/// Where a visible signature goes. A document's first signature adds the
/// signature pages at its end with room for every signature to come, so a
/// later signature only adds its field to a page already there: a
/// signature made before may see form fields signed after it, but not
/// pages added (what validators such as pyHanko call a permitted change).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignaturePlace {
    /// `pages` new pages at the end, this signature in the first box.
    NewPages { pages: usize },
    /// Box `slot` (from 0) of the `pages` signature pages a first
    /// signature added, the last pages of the document.
    Slot { pages: usize, slot: usize },
}

/// How many signature boxes a signature page holds.
pub const SIGNATURES_PER_PAGE: usize = 5;

impl SignaturePlace {
    /// The signature pages `signatures` need.
    pub fn pages_for(signatures: usize) -> usize {
        signatures.div_ceil(SIGNATURES_PER_PAGE).max(1)
    }
}

pub struct EmbeddedFile<'a> {
    pub name: &'a str,
    pub media_type: &'a str,
    pub description: &'a str,
    pub bytes: &'a [u8],
}

/// Seals and signs with one key.
#[derive(Clone)]
pub struct Sealer {
    key: Arc<dyn SignatureKey>,
}

/// A document with its signature dictionary in place and where the
/// `/Contents` hex string (angle brackets included) lies in it; what the
/// signature covers is every byte but that.
pub struct Prepared {
    bytes: Vec<u8>,
    contents: (usize, usize),
}

impl Sealer {
    pub fn new(key: Arc<dyn SignatureKey>) -> Self {
        Self { key }
    }

    /// A sealer with a key file and its certificate.
    pub fn from_key(key: RsaPrivateKey, certificate_der: &[u8]) -> anyhow::Result<Self> {
        Ok(Self::new(Arc::new(KeyFile::new(key, &[certificate_der])?)))
    }

    /// The signing certificate.
    pub fn certificate(&self) -> &Certificate {
        &self.key.chain()[0]
    }

    /// The PDF with Postkasse's invisible seal over all of it, made at `at`,
    /// with `reason` in the signature dictionary.
    pub fn seal(&self, pdf: &[u8], reason: &str, at: DateTime<Utc>) -> anyhow::Result<Vec<u8>> {
        let prepared = prepare(
            pdf,
            &Appearance {
                field_name: "Postkasse-segl",
                name: "Postkasse",
                reason,
                at,
                visible: None,
                embedded: Vec::new(),
                in_dictionary: None,
            },
        )?;
        let signed = self.sign(&prepared)?;
        prepared.finish(&signed)
    }

    /// A detached CMS SignedData over the prepared document's signed bytes,
    /// with the certificate chain in it and the signing certificate named by
    /// an ESS signing-certificate-v2 attribute, as PAdES baseline asks (and
    /// no signing-time attribute, which it forbids).
    pub fn sign(&self, prepared: &Prepared) -> anyhow::Result<SignedData> {
        let (before, after) = prepared.contents;
        let mut hasher = Sha256::new();
        hasher.update(&prepared.bytes[..before]);
        hasher.update(&prepared.bytes[after..]);
        let digest = hasher.finalize();
        let sha256 = AlgorithmIdentifierOwned {
            oid: const_oid::db::rfc5912::ID_SHA_256,
            parameters: None,
        };
        let content = EncapsulatedContentInfo {
            econtent_type: const_oid::db::rfc5911::ID_DATA,
            econtent: None,
        };
        let certificate = self.certificate();
        let signer = CmsSigner::new(self.key.as_ref())?;
        let sid = SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: certificate.tbs_certificate.issuer.clone(),
            serial_number: certificate.tbs_certificate.serial_number.clone(),
        });
        let mut signer_info =
            SignerInfoBuilder::new(&signer, sid, sha256.clone(), &content, Some(&digest))
                .map_err(|error| anyhow::anyhow!("the signer info: {error}"))?;
        signer_info
            .add_signed_attribute(signing_certificate_v2(certificate)?)
            .map_err(|error| anyhow::anyhow!("the signed attributes: {error}"))?;
        let mut builder = SignedDataBuilder::new(&content);
        builder
            .add_digest_algorithm(sha256)
            .map_err(|error| anyhow::anyhow!("the digest algorithm: {error}"))?;
        for certificate in self.key.chain() {
            builder
                .add_certificate(CertificateChoices::Certificate(certificate.clone()))
                .map_err(|error| anyhow::anyhow!("the certificate: {error}"))?;
        }
        let signed = builder
            .add_signer_info::<_, rsa::pkcs1v15::Signature>(signer_info)
            .map_err(|error| anyhow::anyhow!("signing: {error}"))?
            .build()
            .map_err(|error| anyhow::anyhow!("the signed data: {error}"))?;
        signed_data(&signed)
    }
}

/// The SignedData inside a ContentInfo.
fn signed_data(content: &ContentInfo) -> anyhow::Result<SignedData> {
    content
        .content
        .decode_as::<SignedData>()
        .context("the signature is not CMS SignedData")
}

/// The signature value of the (only) signer: what a timestamp is asked for.
pub fn signature_value(signed: &SignedData) -> anyhow::Result<&[u8]> {
    Ok(only_signer(signed)?.signature.as_bytes())
}

fn only_signer(signed: &SignedData) -> anyhow::Result<&SignerInfo> {
    signed
        .signer_infos
        .0
        .iter()
        .next()
        .context("the signature has no signer")
}

/// Adds an RFC 3161 timestamp token (DER ContentInfo) over the signature
/// value as the signer's unsigned attribute id-aa-timeStampToken.
pub fn add_timestamp(signed: &mut SignedData, token_der: &[u8]) -> anyhow::Result<()> {
    let mut signer = only_signer(signed)?.clone();
    let mut values = SetOfVec::new();
    values.insert(Any::from_der(token_der).context("the timestamp token is not DER")?)?;
    let mut unsigned = signer.unsigned_attrs.take().unwrap_or_default();
    unsigned.insert(Attribute {
        oid: TIMESTAMP_TOKEN,
        values,
    })?;
    signer.unsigned_attrs = Some(unsigned);
    signed.signer_infos = cms::signed_data::SignerInfos::try_from(vec![signer])?;
    Ok(())
}

impl Prepared {
    /// The document with `signed` written into its room.
    pub fn finish(self, signed: &SignedData) -> anyhow::Result<Vec<u8>> {
        let content = ContentInfo {
            content_type: const_oid::db::rfc5911::ID_SIGNED_DATA,
            content: Any::encode_from(signed)?,
        };
        let signature = content.to_der().context("encoding the signed data")?;
        let hex = hex::encode_upper(&signature);
        anyhow::ensure!(
            hex.len() <= SIGNATURE_ROOM * 2,
            "the signature ({} bytes) does not fit its room",
            signature.len()
        );
        let (before, _) = self.contents;
        let mut bytes = self.bytes;
        // Inside the angle brackets; the zeros after the signature stay, as
        // PDF readers expect.
        bytes[before + 1..before + 1 + hex.len()].copy_from_slice(hex.as_bytes());
        Ok(bytes)
    }
}

/// ESS `signing-certificate-v2` (RFC 5035): the SHA-256 of the signing
/// certificate (SHA-256 being the default algorithm, it is not named).
pub(crate) fn signing_certificate_v2(certificate: &Certificate) -> anyhow::Result<Attribute> {
    let value = SigningCertificateV2 {
        certs: vec![EssCertIdV2 {
            cert_hash: der::asn1::OctetString::new(Sha256::digest(certificate.to_der()?).to_vec())?,
        }],
    };
    let mut values = SetOfVec::new();
    values.insert(Any::encode_from(&value)?)?;
    Ok(Attribute {
        oid: const_oid::db::rfc5911::ID_AA_SIGNING_CERTIFICATE_V_2,
        values,
    })
}

/// `SigningCertificateV2 ::= SEQUENCE { certs SEQUENCE OF ESSCertIDv2,
/// policies … OPTIONAL }` (RFC 5035), without policies.
#[derive(der::Sequence)]
struct SigningCertificateV2 {
    certs: Vec<EssCertIdV2>,
}

/// `ESSCertIDv2 ::= SEQUENCE { hashAlgorithm DEFAULT id-sha256, certHash
/// OCTET STRING, issuerSerial OPTIONAL }`, with the default algorithm and
/// no issuer and serial.
#[derive(der::Sequence)]
struct EssCertIdV2 {
    cert_hash: der::asn1::OctetString,
}

/// The cms builder's view of a [`SignatureKey`]: a signer whose verifying
/// key is its certificate's and whose algorithm is sha256WithRSAEncryption.
struct CmsSigner<'a> {
    key: &'a dyn SignatureKey,
    verifying_key: rsa::pkcs1v15::VerifyingKey<Sha256>,
}

impl<'a> CmsSigner<'a> {
    fn new(key: &'a dyn SignatureKey) -> anyhow::Result<Self> {
        use rsa::pkcs8::DecodePublicKey;
        let spki = key.chain()[0]
            .tbs_certificate
            .subject_public_key_info
            .to_der()?;
        let public = rsa::RsaPublicKey::from_public_key_der(&spki)
            .context("the signing certificate's key is not RSA")?;
        Ok(Self {
            key,
            verifying_key: rsa::pkcs1v15::VerifyingKey::new(public),
        })
    }
}

impl rsa::signature::Keypair for CmsSigner<'_> {
    type VerifyingKey = rsa::pkcs1v15::VerifyingKey<Sha256>;

    fn verifying_key(&self) -> Self::VerifyingKey {
        self.verifying_key.clone()
    }
}

impl spki::DynSignatureAlgorithmIdentifier for CmsSigner<'_> {
    fn signature_algorithm_identifier(&self) -> spki::Result<AlgorithmIdentifierOwned> {
        Ok(AlgorithmIdentifierOwned {
            oid: const_oid::db::rfc5912::SHA_256_WITH_RSA_ENCRYPTION,
            parameters: Some(der::asn1::Null.into()),
        })
    }
}

impl rsa::signature::Signer<rsa::pkcs1v15::Signature> for CmsSigner<'_> {
    fn try_sign(&self, message: &[u8]) -> Result<rsa::pkcs1v15::Signature, rsa::signature::Error> {
        let bytes = self
            .key
            .sign(message)
            .map_err(rsa::signature::Error::from_source)?;
        rsa::pkcs1v15::Signature::try_from(bytes.as_slice())
    }
}

/// A4 portrait, in points: the added signature page.
const PAGE_WIDTH: f32 = 595.0;
const PAGE_HEIGHT: f32 = 842.0;

/// Appends to `pdf` an incremental update with the signature field, its
/// dictionary with room for the signature, and what `appearance` adds.
pub fn prepare(pdf: &[u8], appearance: &Appearance<'_>) -> anyhow::Result<Prepared> {
    let mut document: IncrementalDocument = pdf
        .try_into()
        .map_err(|error| anyhow::anyhow!("the PDF to sign does not load: {error}"))?;
    let previous = document.get_prev_documents();
    anyhow::ensure!(!previous.is_encrypted(), "the PDF to sign is encrypted");
    let catalog_id = previous
        .trailer
        .get(b"Root")
        .and_then(Object::as_reference)
        .context("the PDF to sign has no catalog")?;
    let pages = previous.get_pages();
    let first_page = *pages
        .values()
        .next()
        .context("the PDF to sign has no page")?;
    let pages_root = previous
        .catalog()
        .and_then(|catalog| catalog.get(b"Pages"))
        .and_then(Object::as_reference)
        .context("the PDF to sign has no page tree")?;

    let placeholder = Object::Integer(RANGE_PLACEHOLDER);
    let signature = document.new_document.add_object(dictionary! {
        "Type" => "Sig",
        "Filter" => "Adobe.PPKLite",
        "SubFilter" => "ETSI.CAdES.detached",
        "ByteRange" => vec![Object::Integer(0), placeholder.clone(), placeholder.clone(), placeholder],
        "Contents" => Object::String(vec![0; SIGNATURE_ROOM], StringFormat::Hexadecimal),
        "M" => Object::string_literal(appearance.at.format("D:%Y%m%d%H%M%SZ").to_string()),
        "Reason" => text_string(appearance.reason),
        "Name" => text_string(appearance.name),
    });
    if let (Some(text), Ok(Object::Dictionary(dictionary))) = (
        appearance.in_dictionary,
        document.new_document.get_object_mut(signature),
    ) {
        dictionary.set("Postkasse.Bevis", Object::string_literal(text));
    }
    let later = matches!(
        appearance.visible,
        Some(VisibleSignature {
            place: SignaturePlace::Slot { .. },
            ..
        })
    );
    let (page, rect, look) = match &appearance.visible {
        Some(visible) => {
            let (page, slot) = match visible.place {
                SignaturePlace::NewPages { pages } => {
                    let mut added = Vec::new();
                    for _ in 0..pages.max(1) {
                        added.push(add_signature_page(&mut document, pages_root, visible)?);
                    }
                    (added[0], 0)
                }
                SignaturePlace::Slot {
                    pages: signature_pages,
                    slot,
                } => {
                    let all: Vec<ObjectId> = pages.values().copied().collect();
                    let first = all
                        .len()
                        .checked_sub(signature_pages)
                        .context("fewer pages than signature pages")?;
                    let page = *all
                        .get(first + slot / SIGNATURES_PER_PAGE)
                        .context("no signature page for this signature")?;
                    (page, slot % SIGNATURES_PER_PAGE)
                }
            };
            let top = PAGE_HEIGHT - 130.0 - 140.0 * slot as f32;
            let rect = [50.0, top - 120.0, PAGE_WIDTH - 50.0, top];
            let look = document.new_document.add_object(signature_box(
                visible,
                rect[2] - rect[0],
                rect[3] - rect[1],
            ));
            (page, rect, Some(look))
        }
        // An invisible widget on the first page: the seal is shown by
        // readers' signature panels, not drawn.
        None => (first_page, [0.0; 4], None),
    };
    let mut field = dictionary! {
        "Type" => "Annot",
        "Subtype" => "Widget",
        "FT" => "Sig",
        "T" => text_string(appearance.field_name),
        "V" => signature,
        "Rect" => rect.iter().map(|&n| Object::Real(n)).collect::<Vec<_>>(),
        "F" => 132,
        "P" => page,
    };
    if let Some(look) = look {
        field.set("AP", dictionary! { "N" => look });
    }
    let embedded = embed_files(&mut document, &appearance.embedded);
    anyhow::ensure!(
        !later || embedded.is_empty(),
        "a later signature cannot embed files: the signatures before would see the document changed"
    );
    let field = document.new_document.add_object(field);
    add_annotation(&mut document, page, field)?;
    add_to_form(&mut document, catalog_id, field, &embedded)?;

    let mut bytes = Vec::new();
    document
        .save_to(&mut bytes)
        .context("writing the PDF to sign")?;
    let room = format!("<{}>", "00".repeat(SIGNATURE_ROOM));
    let before =
        rfind(&bytes, room.as_bytes()).context("the signature's room is not in the PDF")?;
    let after = before + room.len();
    let written_range = format!("[0 {RANGE_PLACEHOLDER} {RANGE_PLACEHOLDER} {RANGE_PLACEHOLDER}]");
    let range_at =
        rfind(&bytes, written_range.as_bytes()).context("the byte range is not in the PDF")?;
    let range = format!("[0 {before} {after} {}", bytes.len() - after);
    anyhow::ensure!(
        range.len() < written_range.len(),
        "the byte range does not fit"
    );
    let padded = format!(
        "{range}{}]",
        " ".repeat(written_range.len() - range.len() - 1)
    );
    bytes[range_at..range_at + padded.len()].copy_from_slice(padded.as_bytes());
    Ok(Prepared {
        bytes,
        contents: (before, after),
    })
}

/// A new last page headed `visible.heading`, in the update.
fn add_signature_page(
    document: &mut IncrementalDocument,
    pages_root: ObjectId,
    visible: &VisibleSignature<'_>,
) -> anyhow::Result<ObjectId> {
    let content = format!(
        "BT /F1 16 Tf 50 {} Td ({}) Tj ET",
        PAGE_HEIGHT - 100.0,
        pdf_text(visible.heading)
    );
    let contents = document
        .new_document
        .add_object(Stream::new(dictionary! {}, content.into_bytes()));
    let page = document.new_document.add_object(dictionary! {
        "Type" => "Page",
        "Parent" => pages_root,
        "MediaBox" => vec![0.into(), 0.into(), Object::Real(PAGE_WIDTH), Object::Real(PAGE_HEIGHT)],
        "Resources" => dictionary! { "Font" => dictionary! { "F1" => helvetica() } },
        "Contents" => contents,
    });
    document
        .opt_clone_object_to_new_document(pages_root)
        .context("the page tree")?;
    let root = document
        .new_document
        .get_object_mut(pages_root)
        .and_then(Object::as_dict_mut)
        .context("the page tree is not a dictionary")?;
    let count = root.get(b"Count").and_then(Object::as_i64).unwrap_or(0);
    root.set("Count", count + 1);
    match root.get_mut(b"Kids") {
        Ok(Object::Array(kids)) => kids.push(page.into()),
        _ => anyhow::bail!("the page tree's kids are not an array"),
    }
    Ok(page)
}

/// Helvetica in WinAnsi: one of the standard fonts every reader has, and
/// the encoding holds Norwegian letters.
fn helvetica() -> lopdf::Dictionary {
    dictionary! {
        "Type" => "Font",
        "Subtype" => "Type1",
        "BaseFont" => "Helvetica",
        "Encoding" => "WinAnsiEncoding",
    }
}

/// The signature's look: a framed box with its lines.
fn signature_box(visible: &VisibleSignature<'_>, width: f32, height: f32) -> Stream {
    let mut content = format!(
        "0.2 0.2 0.2 RG 1 w 0.5 0.5 {} {} re S\n",
        width - 1.0,
        height - 1.0
    );
    content.push_str("BT /F1 11 Tf 12 TL ");
    content.push_str(&format!("10 {} Td ", height - 20.0));
    for line in &visible.lines {
        content.push_str(&format!("({}) Tj T* ", pdf_text(line)));
    }
    content.push_str("ET");
    Stream::new(
        dictionary! {
            "Type" => "XObject",
            "Subtype" => "Form",
            "BBox" => vec![0.into(), 0.into(), Object::Real(width), Object::Real(height)],
            "Resources" => dictionary! { "Font" => dictionary! { "F1" => helvetica() } },
        },
        content.into_bytes(),
    )
}

/// The page's annotations with `annotation` added, in the update.
fn add_annotation(
    document: &mut IncrementalDocument,
    page: ObjectId,
    annotation: ObjectId,
) -> anyhow::Result<()> {
    if !document.new_document.has_object(page) {
        document
            .opt_clone_object_to_new_document(page)
            .context("the page to sign on")?;
    }
    let existing = match document
        .new_document
        .get_dictionary(page)
        .ok()
        .and_then(|page| page.get(b"Annots").ok())
    {
        Some(Object::Array(annotations)) => annotations.clone(),
        Some(Object::Reference(id)) => document
            .get_prev_documents()
            .get_object(*id)
            .and_then(Object::as_array)
            .cloned()
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    let mut annotations = existing;
    annotations.push(annotation.into());
    document
        .new_document
        .get_object_mut(page)
        .and_then(Object::as_dict_mut)
        .context("the page is not a dictionary")?
        .set("Annots", annotations);
    Ok(())
}

/// Each file as an embedded file specification, in the update.
fn embed_files(document: &mut IncrementalDocument, files: &[EmbeddedFile<'_>]) -> Vec<ObjectId> {
    files
        .iter()
        .map(|file| {
            let stream = document.new_document.add_object(Stream::new(
                dictionary! {
                    "Type" => "EmbeddedFile",
                    "Subtype" => Object::Name(file.media_type.as_bytes().to_vec()),
                    "Params" => dictionary! { "Size" => file.bytes.len() as i64 },
                },
                file.bytes.to_vec(),
            ));
            document.new_document.add_object(dictionary! {
                "Type" => "Filespec",
                "F" => Object::string_literal(file.name),
                "UF" => text_string(file.name),
                "Desc" => text_string(file.description),
                "AFRelationship" => "Supplement",
                "EF" => dictionary! { "F" => stream, "UF" => stream },
            })
        })
        .collect()
}

/// The catalog in the update: the signature field added to the form
/// (keeping the fields already there), and the embedded files listed.
fn add_to_form(
    document: &mut IncrementalDocument,
    catalog_id: ObjectId,
    field: ObjectId,
    embedded: &[ObjectId],
) -> anyhow::Result<()> {
    let previous = document.get_prev_documents();
    let resolve = |object: &Object| -> Option<Object> {
        match object {
            Object::Reference(id) => previous.get_object(*id).ok().cloned(),
            other => Some(other.clone()),
        }
    };
    let catalog = previous.get_dictionary(catalog_id)?;
    let mut form = match catalog.get(b"AcroForm").ok().and_then(resolve) {
        Some(Object::Dictionary(form)) => form,
        _ => lopdf::Dictionary::new(),
    };
    let mut fields = match form.get(b"Fields").ok().and_then(resolve) {
        Some(Object::Array(fields)) => fields,
        _ => Vec::new(),
    };
    fields.push(field.into());
    form.set("Fields", fields);
    form.set("SigFlags", 3);
    let mut names = match catalog.get(b"Names").ok().and_then(resolve) {
        Some(Object::Dictionary(names)) => names,
        _ => lopdf::Dictionary::new(),
    };
    let mut associated = match catalog.get(b"AF").ok().and_then(resolve) {
        Some(Object::Array(files)) => files,
        _ => Vec::new(),
    };
    if !embedded.is_empty() {
        let existing = names.get(b"EmbeddedFiles").ok().and_then(resolve);
        let flat = match &existing {
            None => Some(Vec::new()),
            Some(Object::Dictionary(tree)) if !tree.has(b"Kids") => {
                match tree.get(b"Names").ok().and_then(resolve) {
                    Some(Object::Array(listed)) => Some(listed),
                    _ => None,
                }
            }
            Some(_) => None,
        };
        // A flat name tree (one the seal wrote before, say) gets the new
        // files too; a tree with kids is kept as it is, and the new files
        // are then reachable as associated files (/AF) alone.
        if let Some(listed) = flat {
            names.set(
                "EmbeddedFiles",
                dictionary! { "Names" => with_named_files(listed, embedded) },
            );
        }
        associated.extend(embedded.iter().map(|id| Object::Reference(*id)));
    }
    document
        .opt_clone_object_to_new_document(catalog_id)
        .context("the catalog")?;
    let catalog = document
        .new_document
        .get_object_mut(catalog_id)
        .and_then(Object::as_dict_mut)
        .context("the catalog is not a dictionary")?;
    catalog.set("AcroForm", form);
    if !embedded.is_empty() {
        catalog.set("Names", names);
        catalog.set("AF", associated);
    }
    Ok(())
}

/// A flat name tree's `[key value ...]` with `files` added under keys not
/// taken yet, sorted by key as name trees must be.
fn with_named_files(listed: Vec<Object>, files: &[ObjectId]) -> Vec<Object> {
    let mut pairs: Vec<(Vec<u8>, Object)> = listed
        .chunks_exact(2)
        .filter_map(|pair| Some((pair[0].as_str().ok()?.to_vec(), pair[1].clone())))
        .collect();
    let mut number = pairs.len();
    for id in files {
        let key = loop {
            let key = format!("{number:04}").into_bytes();
            number += 1;
            if pairs.iter().all(|(taken, _)| *taken != key) {
                break key;
            }
        };
        pairs.push((key, (*id).into()));
    }
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
    pairs
        .into_iter()
        .flat_map(|(key, value)| [Object::String(key, StringFormat::Literal), value])
        .collect()
}

/// A PDF text string in UTF-16BE with its byte order mark, for any language.
fn text_string(text: &str) -> Object {
    let mut bytes = vec![0xFE, 0xFF];
    for unit in text.encode_utf16() {
        bytes.extend(unit.to_be_bytes());
    }
    Object::String(bytes, StringFormat::Hexadecimal)
}

/// Text for a content stream in WinAnsi (Latin-1 for the letters that
/// matter here, as octal escapes), with `(`, `)` and `\` escaped; other
/// characters become `?`.
fn pdf_text(text: &str) -> String {
    text.chars()
        .flat_map(|c| match c {
            '(' | ')' | '\\' => vec!['\\', c],
            c if (c as u32) < 0x20 => vec![' '],
            c if c.is_ascii() => vec![c],
            // Octal escapes keep the stream ASCII.
            c if (c as u32) <= 0xFF => format!("\\{:03o}", c as u32).chars().collect(),
            _ => vec!['?'],
        })
        .collect()
}

fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .rposition(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::domain::OrgNr;

    fn sealer() -> Sealer {
        let key = RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap();
        let certificate =
            crate::keys::self_signed(&key, &OrgNr::parse("999900003").unwrap(), "Postkasse")
                .unwrap();
        Sealer::from_key(key, &certificate.to_der().unwrap()).unwrap()
    }

    #[test]
    fn the_seal_covers_every_byte_but_its_own() {
        let pdf = crate::pdf::letter_pdf("Kvittering", "Kari", &["Svaret ble sendt."]).unwrap();
        let sealed = sealer()
            .seal(&pdf, "Kvittering for svar", Utc::now())
            .unwrap();
        let document = lopdf::Document::load_mem(&sealed).unwrap();
        assert_eq!(document.get_pages().len(), 1);
        let text = String::from_utf8_lossy(&sealed);
        let range_start = text.find("/ByteRange").unwrap();
        let numbers: Vec<usize> = text[range_start..]
            .split(['[', ']'])
            .nth(1)
            .unwrap()
            .split_whitespace()
            .map(|number| number.parse().unwrap())
            .collect();
        assert_eq!(numbers[0], 0);
        assert_eq!(
            numbers[2] + numbers[3],
            sealed.len(),
            "the range reaches the end"
        );
        assert_eq!(&sealed[numbers[1]..numbers[1] + 1], b"<");
        assert_eq!(&sealed[numbers[2] - 1..numbers[2]], b">");
    }

    #[test]
    fn text_for_the_page_escapes_what_it_must() {
        assert_eq!(pdf_text("Bø (a\\b)"), "B\\370 \\(a\\\\b\\)");
        assert_eq!(pdf_text("€"), "?");
    }

    #[test]
    fn a_visible_signature_adds_a_page_and_keeps_what_was_signed_before() {
        let pdf = crate::pdf::letter_pdf("Avtale", "Kari", &["Tekst."]).unwrap();
        let sealer = sealer();
        let sealed = sealer.seal(&pdf, "Segl", Utc::now()).unwrap();
        assert!(
            sealed.starts_with(&pdf),
            "an incremental update keeps the bytes before it"
        );
        let prepared = prepare(
            &sealed,
            &Appearance {
                field_name: "Signatur 1",
                name: "Kari Nordmann",
                reason: "Signert",
                at: Utc::now(),
                visible: Some(VisibleSignature {
                    heading: "Signaturer",
                    lines: vec!["Signert av Kari Nordmann".into()],
                    place: SignaturePlace::NewPages { pages: 1 },
                }),
                embedded: vec![EmbeddedFile {
                    name: "bevis.json",
                    media_type: "application/json",
                    description: "Innloggingsbevis",
                    bytes: b"{}",
                }],
                in_dictionary: None,
            },
        )
        .unwrap();
        let signed = sealer.sign(&prepared).unwrap();
        let signed = prepared.finish(&signed).unwrap();
        assert!(signed.starts_with(&sealed));
        let document = lopdf::Document::load_mem(&signed).unwrap();
        assert_eq!(document.get_pages().len(), 2, "the signature page is added");
        let form = document
            .catalog()
            .unwrap()
            .get(b"AcroForm")
            .unwrap()
            .as_dict()
            .unwrap();
        assert_eq!(form.get(b"Fields").unwrap().as_array().unwrap().len(), 2);
    }

    #[test]
    fn each_signature_s_embedded_file_is_listed_by_name() {
        let mut pdf = crate::pdf::letter_pdf("Avtale", "Kari", &["Tekst."]).unwrap();
        let sealer = sealer();
        for (field_name, file) in [("Signatur", "bevis.json"), ("Signatur 2", "bevis-2.json")] {
            let prepared = prepare(
                &pdf,
                &Appearance {
                    field_name,
                    name: "Kari Nordmann",
                    reason: "Signert",
                    at: Utc::now(),
                    visible: None,
                    embedded: vec![EmbeddedFile {
                        name: file,
                        media_type: "application/json",
                        description: "Innloggingsbevis",
                        bytes: b"{}",
                    }],
                    in_dictionary: None,
                },
            )
            .unwrap();
            let signed = sealer.sign(&prepared).unwrap();
            pdf = prepared.finish(&signed).unwrap();
        }
        let document = lopdf::Document::load_mem(&pdf).unwrap();
        let names = document
            .catalog()
            .unwrap()
            .get(b"Names")
            .and_then(Object::as_dict)
            .unwrap()
            .get(b"EmbeddedFiles")
            .and_then(Object::as_dict)
            .unwrap()
            .get(b"Names")
            .and_then(Object::as_array)
            .unwrap();
        let keys: Vec<&[u8]> = names
            .iter()
            .step_by(2)
            .map(|key| key.as_str().unwrap())
            .collect();
        assert_eq!(keys, [b"0000", b"0001"]);
    }
}
