//! Postkasse's seal on the PDFs it makes (a reply's receipt): a PAdES
//! baseline signature (`ETSI.CAdES.detached`) with this Postkasse's key and
//! certificate, so the citizen and the agency can both show what was sent
//! and that it has not changed since.
//!
//! lopdf puts a signature field and dictionary into the document with room
//! for the signature; the CMS `SignedData` over the document's bytes around
//! that room comes from RustCrypto's `cms` builder. Only the assembly is
//! Postkasse's own.
//!
//! CPU-bound (RSA): async callers run it in `tokio::task::spawn_blocking`.

use anyhow::Context;
use chrono::{DateTime, Utc};
use cms::{
    builder::{SignedDataBuilder, SignerInfoBuilder},
    cert::{CertificateChoices, IssuerAndSerialNumber},
    signed_data::{EncapsulatedContentInfo, SignerIdentifier},
};
use der::{asn1::SetOfVec, Any, Decode, Encode};
use lopdf::{dictionary, Object, StringFormat};
use rsa::{pkcs1v15::SigningKey, RsaPrivateKey};
use sha2::{Digest, Sha256};
use spki::AlgorithmIdentifierOwned;
use x509_cert::{attr::Attribute, Certificate};

/// Bytes set aside for the CMS signature: a 4096-bit RSA signature with a
/// certificate chain of a few kilobytes fits with room to spare.
const SIGNATURE_ROOM: usize = 16 * 1024;
/// Written where the byte range goes, then overwritten with the real one,
/// padded to the same width.
const RANGE_PLACEHOLDER: i64 = 9_999_999_999;

/// Seals with one key and its certificate.
#[derive(Clone)]
pub struct Sealer {
    key: RsaPrivateKey,
    certificate: Certificate,
}

impl Sealer {
    pub fn new(key: RsaPrivateKey, certificate_der: &[u8]) -> anyhow::Result<Self> {
        Ok(Self {
            key,
            certificate: Certificate::from_der(certificate_der)
                .context("the sealing certificate is not DER X.509")?,
        })
    }

    /// The PDF with a signature over all of it, made at `at`, with `reason`
    /// in the signature dictionary.
    pub fn seal(&self, pdf: &[u8], reason: &str, at: DateTime<Utc>) -> anyhow::Result<Vec<u8>> {
        let prepared = prepare(pdf, reason, at)?;
        let (before, after) = prepared.contents;
        let mut signed_bytes = Vec::with_capacity(prepared.bytes.len());
        signed_bytes.extend_from_slice(&prepared.bytes[..before]);
        signed_bytes.extend_from_slice(&prepared.bytes[after..]);
        let signature = self.signature(&Sha256::digest(&signed_bytes))?;
        let hex = hex::encode_upper(&signature);
        anyhow::ensure!(
            hex.len() <= SIGNATURE_ROOM * 2,
            "the signature ({} bytes) does not fit its room",
            signature.len()
        );
        let mut sealed = prepared.bytes;
        // Inside the angle brackets; the zeros after the signature stay, as
        // PDF readers expect.
        sealed[before + 1..before + 1 + hex.len()].copy_from_slice(hex.as_bytes());
        Ok(sealed)
    }

    /// A detached CMS SignedData over `digest` (SHA-256 of the signed bytes),
    /// with the signing certificate in it and named by an ESS
    /// signing-certificate-v2 attribute, as PAdES baseline asks.
    fn signature(&self, digest: &[u8]) -> anyhow::Result<Vec<u8>> {
        let sha256 = AlgorithmIdentifierOwned {
            oid: const_oid::db::rfc5912::ID_SHA_256,
            parameters: None,
        };
        let content = EncapsulatedContentInfo {
            econtent_type: const_oid::db::rfc5911::ID_DATA,
            econtent: None,
        };
        let signer = SigningKey::<Sha256>::new(self.key.clone());
        let sid = SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: self.certificate.tbs_certificate.issuer.clone(),
            serial_number: self.certificate.tbs_certificate.serial_number.clone(),
        });
        let mut signer_info =
            SignerInfoBuilder::new(&signer, sid, sha256.clone(), &content, Some(digest))
                .map_err(|error| anyhow::anyhow!("the signer info: {error}"))?;
        signer_info
            .add_signed_attribute(self.signing_certificate()?)
            .map_err(|error| anyhow::anyhow!("the signed attributes: {error}"))?;
        let signed = SignedDataBuilder::new(&content)
            .add_digest_algorithm(sha256)
            .map_err(|error| anyhow::anyhow!("the digest algorithm: {error}"))?
            .add_certificate(CertificateChoices::Certificate(self.certificate.clone()))
            .map_err(|error| anyhow::anyhow!("the certificate: {error}"))?
            .add_signer_info::<_, rsa::pkcs1v15::Signature>(signer_info)
            .map_err(|error| anyhow::anyhow!("signing: {error}"))?
            .build()
            .map_err(|error| anyhow::anyhow!("the signed data: {error}"))?;
        signed.to_der().context("encoding the signed data")
    }

    /// ESS `signing-certificate-v2` (RFC 5035): the SHA-256 of the signing
    /// certificate (SHA-256 being the default algorithm, it is not named).
    fn signing_certificate(&self) -> anyhow::Result<Attribute> {
        let certificate_hash = Sha256::digest(self.certificate.to_der()?);
        // SigningCertificateV2 ::= SEQUENCE { certs SEQUENCE OF ESSCertIDv2 }
        // ESSCertIDv2 ::= SEQUENCE { certHash OCTET STRING }
        let ess_cert_id = der_sequence(&[&[&[0x04, 0x20][..], &certificate_hash[..]].concat()]);
        let value = der_sequence(&[&der_sequence(&[&ess_cert_id])]);
        let mut values = SetOfVec::new();
        values.insert(Any::from_der(&value)?)?;
        Ok(Attribute {
            oid: const_oid::db::rfc5911::ID_AA_SIGNING_CERTIFICATE_V_2,
            values,
        })
    }
}

/// A DER SEQUENCE of already encoded elements (each under 64 KiB together).
fn der_sequence(elements: &[&[u8]]) -> Vec<u8> {
    let body: Vec<u8> = elements.concat();
    let mut encoded = vec![0x30];
    match body.len() {
        length @ 0..=0x7f => encoded.push(length as u8),
        length @ 0x80..=0xff => encoded.extend([0x81, length as u8]),
        length => encoded.extend([0x82, (length >> 8) as u8, length as u8]),
    }
    encoded.extend(body);
    encoded
}

/// The document with its signature dictionary in place, and where the
/// `/Contents` hex string (angle brackets included) lies in it.
struct Prepared {
    bytes: Vec<u8>,
    contents: (usize, usize),
}

fn prepare(pdf: &[u8], reason: &str, at: DateTime<Utc>) -> anyhow::Result<Prepared> {
    let mut document = lopdf::Document::load_mem(pdf).context("the PDF to seal does not load")?;
    let first_page = *document
        .get_pages()
        .values()
        .next()
        .context("the PDF to seal has no page")?;
    let placeholder = Object::Integer(RANGE_PLACEHOLDER);
    let signature = document.add_object(dictionary! {
        "Type" => "Sig",
        "Filter" => "Adobe.PPKLite",
        "SubFilter" => "ETSI.CAdES.detached",
        "ByteRange" => vec![Object::Integer(0), placeholder.clone(), placeholder.clone(), placeholder],
        "Contents" => Object::String(vec![0; SIGNATURE_ROOM], StringFormat::Hexadecimal),
        "M" => Object::string_literal(at.format("D:%Y%m%d%H%M%SZ").to_string()),
        "Reason" => Object::String(utf16_text(reason), StringFormat::Hexadecimal),
        "Name" => Object::string_literal("Postkasse"),
    });
    // An invisible widget on the first page: the seal is shown by readers'
    // signature panels, not drawn.
    let field = document.add_object(dictionary! {
        "Type" => "Annot",
        "Subtype" => "Widget",
        "FT" => "Sig",
        "T" => Object::string_literal("Postkasse-segl"),
        "V" => signature,
        "Rect" => vec![0.into(), 0.into(), 0.into(), 0.into()],
        "F" => 132,
        "P" => first_page,
    });
    let page = document
        .get_object_mut(first_page)
        .and_then(Object::as_dict_mut)
        .context("the first page is not a dictionary")?;
    match page.get_mut(b"Annots") {
        Ok(Object::Array(annotations)) => annotations.push(field.into()),
        _ => page.set("Annots", vec![Object::Reference(field)]),
    }
    document
        .catalog_mut()
        .context("the PDF to seal has no catalog")?
        .set(
            "AcroForm",
            dictionary! {
                "Fields" => vec![Object::Reference(field)],
                "SigFlags" => 3,
            },
        );
    let mut bytes = Vec::new();
    document
        .save_to(&mut bytes)
        .context("writing the PDF to seal")?;

    let room = format!("<{}>", "00".repeat(SIGNATURE_ROOM));
    let before = find(&bytes, room.as_bytes()).context("the signature's room is not in the PDF")?;
    let after = before + room.len();
    let written_range = format!("[0 {RANGE_PLACEHOLDER} {RANGE_PLACEHOLDER} {RANGE_PLACEHOLDER}]");
    let range_at =
        find(&bytes, written_range.as_bytes()).context("the byte range is not in the PDF")?;
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

/// A PDF text string in UTF-16BE with its byte order mark, for any language.
fn utf16_text(text: &str) -> Vec<u8> {
    let mut bytes = vec![0xFE, 0xFF];
    for unit in text.encode_utf16() {
        bytes.extend(unit.to_be_bytes());
    }
    bytes
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
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
        Sealer::new(key, &certificate.to_der().unwrap()).unwrap()
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
}
