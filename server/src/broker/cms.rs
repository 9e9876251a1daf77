//! The encrypted document package: CMS `id-envelopedData` (RFC 5652) as DPI
//! senders make it (docs/protocol.md#document-package).
//!
//! - [`decrypt`] opens a package sent to this provider: RSAES-OAEP key
//!   transport (SHA-256 as in DPI's sample and Java client, or SHA-1 as the
//!   DPI text says) and AES-CBC content encryption.
//! - [`encrypt`] makes one exactly as DPI's Java client does: EnvelopedData
//!   v0, one KeyTransRecipientInfo by issuer and serial number, RSAES-OAEP
//!   with SHA-256 and MGF1-SHA-256, AES-256-CBC with a fresh key and IV. Used
//!   to forward a package to another provider, and by tests, the demo and
//!   the sender CLI.
//!
//! RSA and AES over up to 50 MiB are CPU-bound and synchronous: async callers
//! run them in `tokio::task::spawn_blocking`.

use super::package::PackageError;
use aes::cipher::{
    block_padding::Pkcs7, BlockCipher, BlockDecryptMut, BlockEncryptMut, KeyInit, KeyIvInit,
};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::enveloped_data::{
    EncryptedContentInfo, EnvelopedData, KeyTransRecipientInfo, RecipientIdentifier, RecipientInfo,
    RecipientInfos,
};
use der::asn1::{ObjectIdentifier, OctetString, SetOfVec};
use der::{Any, AnyRef, Decode, Encode, Tag, Tagged};
use rsa::pkcs1::RsaOaepParams;
use rsa::pkcs8::DecodePublicKey;
use rsa::rand_core::CryptoRngCore;
use rsa::{Oaep, RsaPrivateKey, RsaPublicKey};
use sha2::digest::DynDigest;
use x509_cert::spki::{AlgorithmIdentifier, AlgorithmIdentifierOwned, AlgorithmIdentifierRef};
use x509_cert::Certificate;

const ID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
const ID_ENVELOPED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.3");
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const ID_RSAES_OAEP: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.7");
const ID_MGF1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.8");
const ID_P_SPECIFIED: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.9");
const ID_SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
const ID_SHA224: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.4");
const ID_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const ID_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
const ID_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");
const ID_AES128_CBC: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.1.2");
const ID_AES192_CBC: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.1.22");
const ID_AES256_CBC: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.1.42");

/// Decrypts a package encrypted to `certificate`, whose private key is `key`.
pub fn decrypt(
    cms_der: &[u8],
    key: &RsaPrivateKey,
    certificate: &Certificate,
) -> Result<Vec<u8>, PackageError> {
    let enveloped = parse(cms_der)?;
    let recipient = recipient_for(&enveloped, certificate)?;
    let content_key = unwrap_key(recipient, key)?;
    decrypt_content(&enveloped.encrypted_content, &content_key)
}

/// Encrypts a package to `certificate` as DPI senders do.
pub fn encrypt<R: CryptoRngCore>(
    content: &[u8],
    certificate: &Certificate,
    rng: &mut R,
) -> Result<Vec<u8>, PackageError> {
    encrypt_with(content, certificate, rng, OaepHash::Sha256)
}

fn encrypt_with<R: CryptoRngCore>(
    content: &[u8],
    certificate: &Certificate,
    rng: &mut R,
    hash: OaepHash,
) -> Result<Vec<u8>, PackageError> {
    let encoding = |error: der::Error| PackageError::Encoding(error.to_string());
    let tbs = &certificate.tbs_certificate;
    let spki = tbs
        .subject_public_key_info
        .to_der()
        .map_err(|_| PackageError::Certificate)?;
    let public_key =
        RsaPublicKey::from_public_key_der(&spki).map_err(|_| PackageError::Certificate)?;

    let mut content_key = [0u8; 32];
    rng.fill_bytes(&mut content_key);
    let mut iv = [0u8; 16];
    rng.fill_bytes(&mut iv);
    let ciphertext = cbc::Encryptor::<aes::Aes256>::new(&content_key.into(), &iv.into())
        .encrypt_padded_vec_mut::<Pkcs7>(content);
    let padding = Oaep {
        digest: hash.digest(),
        mgf_digest: hash.digest(),
        label: None,
    };
    let encrypted_key = public_key
        .encrypt(rng, padding, &content_key)
        .map_err(|_| PackageError::KeyEncryption)?;

    // As BouncyCastle writes them for DPI's Java client: hash and MGF1 hash
    // with NULL parameters, the empty label left at its default.
    let hash_algorithm = AlgorithmIdentifierRef {
        oid: hash.oid(),
        parameters: Some(AnyRef::NULL),
    };
    let oaep_params = RsaOaepParams {
        hash: hash_algorithm,
        mask_gen: AlgorithmIdentifier {
            oid: ID_MGF1,
            parameters: Some(hash_algorithm),
        },
        p_source: RsaOaepParams::default().p_source,
    };
    let recipient = KeyTransRecipientInfo {
        version: CmsVersion::V0,
        rid: RecipientIdentifier::IssuerAndSerialNumber(cms::cert::IssuerAndSerialNumber {
            issuer: tbs.issuer.clone(),
            serial_number: tbs.serial_number.clone(),
        }),
        key_enc_alg: AlgorithmIdentifierOwned {
            oid: ID_RSAES_OAEP,
            parameters: Some(Any::encode_from(&oaep_params).map_err(encoding)?),
        },
        enc_key: OctetString::new(encrypted_key).map_err(encoding)?,
    };
    let enveloped = EnvelopedData {
        version: CmsVersion::V0,
        originator_info: None,
        recip_infos: RecipientInfos(
            SetOfVec::try_from(vec![RecipientInfo::Ktri(recipient)]).map_err(encoding)?,
        ),
        encrypted_content: EncryptedContentInfo {
            content_type: ID_DATA,
            content_enc_alg: AlgorithmIdentifierOwned {
                oid: ID_AES256_CBC,
                parameters: Some(
                    Any::encode_from(&OctetString::new(iv.to_vec()).map_err(encoding)?)
                        .map_err(encoding)?,
                ),
            },
            encrypted_content: Some(OctetString::new(ciphertext).map_err(encoding)?),
        },
        unprotected_attrs: None,
    };
    ContentInfo {
        content_type: ID_ENVELOPED_DATA,
        content: Any::encode_from(&enveloped).map_err(encoding)?,
    }
    .to_der()
    .map_err(encoding)
}

/// The EnvelopedData inside a ContentInfo, in DER or BER.
fn parse(bytes: &[u8]) -> Result<EnvelopedData, PackageError> {
    let malformed = |error: der::Error| PackageError::NotEnvelopedData(error.to_string());
    let content_info = match ContentInfo::from_der(bytes) {
        Ok(content_info) => content_info,
        // BouncyCastle, which DPI's Java client uses, writes CMS in BER:
        // indefinite lengths, the ciphertext in 1000-byte chunks. The der
        // crate reads only DER, so BER is re-encoded first.
        Err(der_error) => {
            let normalized = ber::to_der(bytes).map_err(|_| malformed(der_error))?;
            ContentInfo::from_der(&normalized).map_err(malformed)?
        }
    };
    if content_info.content_type != ID_ENVELOPED_DATA {
        return Err(PackageError::NotEnvelopedData(format!(
            "the content type is {}, not id-envelopedData",
            content_info.content_type
        )));
    }
    content_info.content.decode_as().map_err(malformed)
}

/// The KeyTransRecipientInfo addressed to the certificate by issuer and
/// serial number.
fn recipient_for<'a>(
    enveloped: &'a EnvelopedData,
    certificate: &Certificate,
) -> Result<&'a KeyTransRecipientInfo, PackageError> {
    let tbs = &certificate.tbs_certificate;
    enveloped
        .recip_infos
        .0
        .iter()
        .find_map(|info| match info {
            RecipientInfo::Ktri(recipient) => match &recipient.rid {
                RecipientIdentifier::IssuerAndSerialNumber(id)
                    if id.issuer == tbs.issuer && id.serial_number == tbs.serial_number =>
                {
                    Some(recipient)
                }
                _ => None,
            },
            _ => None,
        })
        .ok_or(PackageError::NotForThisProvider)
}

/// Decrypts the content-encryption key with RSAES-OAEP, its hashes read from
/// the algorithm parameters.
fn unwrap_key(
    recipient: &KeyTransRecipientInfo,
    key: &RsaPrivateKey,
) -> Result<Vec<u8>, PackageError> {
    let algorithm = &recipient.key_enc_alg;
    if algorithm.oid == RSA_ENCRYPTION {
        // PKCS#1 v1.5 decryption is a padding oracle (Bleichenbacher); DPI
        // uses OAEP, so there is no reason to offer it.
        return Err(PackageError::UnsupportedAlgorithm {
            what: "key-encryption algorithm (RSA PKCS#1 v1.5; DPI requires RSAES-OAEP)",
            oid: algorithm.oid.to_string(),
        });
    }
    if algorithm.oid != ID_RSAES_OAEP {
        return Err(PackageError::UnsupportedAlgorithm {
            what: "key-encryption algorithm",
            oid: algorithm.oid.to_string(),
        });
    }
    let (hash, mgf_hash) = oaep_hashes(algorithm.parameters.as_ref())?;
    let padding = Oaep {
        digest: hash.digest(),
        mgf_digest: mgf_hash.digest(),
        label: None,
    };
    // Blinding, against timing attacks on the private key.
    key.decrypt_blinded(
        &mut rand::thread_rng(),
        padding,
        recipient.enc_key.as_bytes(),
    )
    .map_err(|_| PackageError::KeyDecryption)
}

/// The OAEP hash and MGF1 hash from RSAES-OAEP-params (RFC 8017 A.2.1),
/// where SHA-1 is the default for both.
fn oaep_hashes(parameters: Option<&Any>) -> Result<(OaepHash, OaepHash), PackageError> {
    const WHAT: &str = "RSAES-OAEP parameters";
    let Some(parameters) = parameters.filter(|any| any.tag() != Tag::Null) else {
        // An interpretation: RFC 4055 requires the parameters, so absent or
        // NULL ones can only mean the defaults (see
        // docs/protocol.md#choices-where-the-sources-are-silent).
        return Ok((OaepHash::Sha1, OaepHash::Sha1));
    };
    let der = parameters
        .to_der()
        .map_err(|_| PackageError::BadParameters(WHAT))?;
    let params = RsaOaepParams::from_der(&der).map_err(|_| PackageError::BadParameters(WHAT))?;
    let hash = OaepHash::from_oid(params.hash.oid)?;
    if params.mask_gen.oid != ID_MGF1 {
        return Err(PackageError::UnsupportedAlgorithm {
            what: "OAEP mask generation function",
            oid: params.mask_gen.oid.to_string(),
        });
    }
    let mgf_hash = params
        .mask_gen
        .parameters
        .ok_or(PackageError::BadParameters(WHAT))
        .and_then(|algorithm| OaepHash::from_oid(algorithm.oid))?;
    if params.p_source.oid != ID_P_SPECIFIED {
        return Err(PackageError::UnsupportedAlgorithm {
            what: "OAEP label source",
            oid: params.p_source.oid.to_string(),
        });
    }
    match params.p_source.parameters {
        None => {}
        Some(label) if label.tag() == Tag::OctetString && label.value().is_empty() => {}
        Some(label) if label.tag() == Tag::OctetString => {
            return Err(PackageError::UnsupportedAlgorithm {
                what: "OAEP label (only the empty label is accepted) of",
                oid: ID_P_SPECIFIED.to_string(),
            })
        }
        Some(_) => return Err(PackageError::BadParameters(WHAT)),
    }
    Ok((hash, mgf_hash))
}

fn decrypt_content(
    info: &EncryptedContentInfo,
    content_key: &[u8],
) -> Result<Vec<u8>, PackageError> {
    const WHAT: &str = "content-encryption parameters";
    let algorithm = &info.content_enc_alg;
    let iv: OctetString = algorithm
        .parameters
        .as_ref()
        .ok_or(PackageError::BadParameters(WHAT))?
        .decode_as()
        .map_err(|_| PackageError::BadParameters(WHAT))?;
    let iv = iv.as_bytes();
    if iv.len() != 16 {
        return Err(PackageError::BadParameters(WHAT));
    }
    let ciphertext = info
        .encrypted_content
        .as_ref()
        .ok_or(PackageError::NoContent)?
        .as_bytes();
    match algorithm.oid {
        ID_AES256_CBC => cbc_decrypt::<aes::Aes256>(content_key, iv, ciphertext),
        ID_AES192_CBC => cbc_decrypt::<aes::Aes192>(content_key, iv, ciphertext),
        ID_AES128_CBC => cbc_decrypt::<aes::Aes128>(content_key, iv, ciphertext),
        oid => Err(PackageError::UnsupportedAlgorithm {
            what: "content-encryption algorithm",
            oid: oid.to_string(),
        }),
    }
}

/// A key of the wrong length, a bad padding and a ciphertext that is not
/// whole blocks all give the one error, so that it tells nothing about which.
fn cbc_decrypt<C>(key: &[u8], iv: &[u8], ciphertext: &[u8]) -> Result<Vec<u8>, PackageError>
where
    C: BlockDecryptMut + BlockCipher + KeyInit,
{
    cbc::Decryptor::<C>::new_from_slices(key, iv)
        .map_err(|_| PackageError::ContentDecryption)?
        .decrypt_padded_vec_mut::<Pkcs7>(ciphertext)
        .map_err(|_| PackageError::ContentDecryption)
}

/// The hashes RSAES-OAEP may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OaepHash {
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

impl OaepHash {
    fn from_oid(oid: ObjectIdentifier) -> Result<Self, PackageError> {
        Ok(match oid {
            ID_SHA1 => OaepHash::Sha1,
            ID_SHA224 => OaepHash::Sha224,
            ID_SHA256 => OaepHash::Sha256,
            ID_SHA384 => OaepHash::Sha384,
            ID_SHA512 => OaepHash::Sha512,
            oid => {
                return Err(PackageError::UnsupportedAlgorithm {
                    what: "OAEP hash",
                    oid: oid.to_string(),
                })
            }
        })
    }

    fn oid(self) -> ObjectIdentifier {
        match self {
            OaepHash::Sha1 => ID_SHA1,
            OaepHash::Sha224 => ID_SHA224,
            OaepHash::Sha256 => ID_SHA256,
            OaepHash::Sha384 => ID_SHA384,
            OaepHash::Sha512 => ID_SHA512,
        }
    }

    fn digest(self) -> Box<dyn DynDigest + Send + Sync> {
        match self {
            OaepHash::Sha1 => Box::new(sha1::Sha1::default()),
            OaepHash::Sha224 => Box::new(sha2::Sha224::default()),
            OaepHash::Sha256 => Box::new(sha2::Sha256::default()),
            OaepHash::Sha384 => Box::new(sha2::Sha384::default()),
            OaepHash::Sha512 => Box::new(sha2::Sha512::default()),
        }
    }
}

/// Re-encoding the BER that CMS writers produce as DER.
///
/// Handles indefinite lengths and constructed (chunked) OCTET STRINGs, both
/// universal and as the EncryptedContentInfo's `[0] IMPLICIT` content.
mod ber {
    /// Deeper than any CMS structure; bounds recursion on hostile input.
    const MAX_DEPTH: usize = 32;

    pub(super) fn to_der(input: &[u8]) -> Result<Vec<u8>, &'static str> {
        let mut reader = Reader { input, pos: 0 };
        let element = reader.element(0)?;
        if reader.pos != input.len() {
            return Err("data after the end");
        }
        let mut out = Vec::with_capacity(input.len());
        element.write_to(&mut out);
        Ok(out)
    }

    struct Element {
        identifier: Vec<u8>,
        /// Already DER.
        content: Vec<u8>,
    }

    impl Element {
        fn write_to(&self, out: &mut Vec<u8>) {
            out.extend_from_slice(&self.identifier);
            let length = self.content.len();
            if length < 0x80 {
                out.push(length as u8);
            } else {
                let bytes = length.to_be_bytes();
                let skip = bytes.iter().take_while(|b| **b == 0).count();
                out.push(0x80 | (bytes.len() - skip) as u8);
                out.extend_from_slice(&bytes[skip..]);
            }
            out.extend_from_slice(&self.content);
        }
    }

    struct Reader<'a> {
        input: &'a [u8],
        pos: usize,
    }

    impl<'a> Reader<'a> {
        fn byte(&mut self) -> Result<u8, &'static str> {
            let byte = *self.input.get(self.pos).ok_or("truncated")?;
            self.pos += 1;
            Ok(byte)
        }

        fn bytes(&mut self, count: usize) -> Result<&'a [u8], &'static str> {
            let end = self
                .pos
                .checked_add(count)
                .filter(|end| *end <= self.input.len())
                .ok_or("truncated")?;
            let bytes = &self.input[self.pos..end];
            self.pos = end;
            Ok(bytes)
        }

        /// `None` for the indefinite length.
        fn length(&mut self) -> Result<Option<usize>, &'static str> {
            match self.byte()? {
                short @ 0x00..=0x7f => Ok(Some(usize::from(short))),
                0x80 => Ok(None),
                long @ 0x81..=0x84 => {
                    let count = usize::from(long & 0x7f);
                    let length = self
                        .bytes(count)?
                        .iter()
                        .fold(0usize, |length, byte| (length << 8) | usize::from(*byte));
                    Ok(Some(length))
                }
                _ => Err("length too long"),
            }
        }

        fn element(&mut self, depth: usize) -> Result<Element, &'static str> {
            if depth > MAX_DEPTH {
                return Err("nested too deeply");
            }
            let first = self.byte()?;
            let mut identifier = vec![first];
            if first & 0x1f == 0x1f {
                loop {
                    let byte = self.byte()?;
                    identifier.push(byte);
                    if byte & 0x80 == 0 {
                        break;
                    }
                    if identifier.len() > 5 {
                        return Err("tag number too large");
                    }
                }
            }
            let constructed = first & 0x20 != 0;
            let length = self.length()?;
            if !constructed {
                let length = length.ok_or("indefinite length on a primitive value")?;
                return Ok(Element {
                    identifier,
                    content: self.bytes(length)?.to_vec(),
                });
            }

            let mut children = Vec::new();
            match length {
                Some(length) => {
                    let end = self
                        .pos
                        .checked_add(length)
                        .filter(|end| *end <= self.input.len())
                        .ok_or("truncated")?;
                    while self.pos < end {
                        children.push(self.element(depth + 1)?);
                    }
                    if self.pos != end {
                        return Err("a value overruns its container");
                    }
                }
                None => loop {
                    if self.input.get(self.pos..self.pos + 2) == Some(&[0, 0]) {
                        self.pos += 2;
                        break;
                    }
                    children.push(self.element(depth + 1)?);
                },
            }

            let all_octet_strings = children.iter().all(|child| child.identifier == [0x04]);
            // 0x24: a constructed OCTET STRING. 0xA0 holding only OCTET
            // STRINGs: the chunked `[0] IMPLICIT` encrypted content. No other
            // `[0]` in ContentInfo or EnvelopedData holds bare OCTET STRINGs
            // (the only EXPLICIT OCTET STRING, a KARI's `ukm`, is `[1]`).
            let is_chunked_string =
                first == 0x24 || (first == 0xA0 && !children.is_empty() && all_octet_strings);
            if is_chunked_string {
                if !all_octet_strings {
                    return Err("a constructed OCTET STRING holds other values");
                }
                return Ok(Element {
                    identifier: vec![first & !0x20],
                    content: children
                        .into_iter()
                        .flat_map(|child| child.content)
                        .collect(),
                });
            }
            let mut content = Vec::new();
            for child in &children {
                child.write_to(&mut content);
            }
            Ok(Element {
                identifier,
                content,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::domain::OrgNr;
    use std::sync::OnceLock;

    /// [`super::decrypt`], keeping every envelope the tests try as a fuzz seed.
    fn decrypt(
        cms_der: &[u8],
        key: &RsaPrivateKey,
        certificate: &Certificate,
    ) -> Result<Vec<u8>, PackageError> {
        crate::fuzz_seeds::record(crate::fuzz_seeds::CMS_PACKAGE, cms_der);
        super::decrypt(cms_der, key, certificate)
    }

    /// Two providers' keys and certificates, made once: RSA key generation
    /// is slow.
    fn provider(which: usize) -> &'static (RsaPrivateKey, Certificate) {
        static PROVIDERS: OnceLock<Vec<(RsaPrivateKey, Certificate)>> = OnceLock::new();
        &PROVIDERS.get_or_init(|| {
            let org_nr = OrgNr::parse("974760673").unwrap();
            (0..2)
                .map(|i| {
                    let key = RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap();
                    let certificate =
                        crate::keys::self_signed(&key, &org_nr, &format!("Postkasse {i}")).unwrap();
                    (key, certificate)
                })
                .collect()
        })[which]
    }

    fn ours() -> &'static (RsaPrivateKey, Certificate) {
        provider(0)
    }

    fn theirs() -> &'static (RsaPrivateKey, Certificate) {
        provider(1)
    }

    /// 2,496 bytes: whole blocks (so the padding is one full block) and more
    /// than two of BouncyCastle's 1000-byte BER chunks.
    fn content() -> Vec<u8> {
        (0..2496u32).map(|i| (i % 251) as u8).collect()
    }

    fn envelope(cms: &[u8]) -> EnvelopedData {
        parse(cms).unwrap()
    }

    fn reencode(enveloped: &EnvelopedData) -> Vec<u8> {
        ContentInfo {
            content_type: ID_ENVELOPED_DATA,
            content: Any::encode_from(enveloped).unwrap(),
        }
        .to_der()
        .unwrap()
    }

    #[test]
    fn a_package_round_trips() {
        let (key, certificate) = ours();
        let cms = encrypt(&content(), certificate, &mut rand::thread_rng()).unwrap();
        assert!(super::super::package::is_cms(&cms));
        assert_eq!(decrypt(&cms, key, certificate).unwrap(), content());
        assert_eq!(decrypt(&cms, key, certificate).unwrap(), content());
        let empty = encrypt(b"", certificate, &mut rand::thread_rng()).unwrap();
        assert_eq!(decrypt(&empty, key, certificate).unwrap(), b"");
    }

    #[test]
    fn the_structure_is_what_dpi_senders_make() {
        let (_, certificate) = ours();
        let cms = encrypt(&content(), certificate, &mut rand::thread_rng()).unwrap();
        let enveloped = envelope(&cms);
        assert_eq!(enveloped.version, CmsVersion::V0);
        assert!(enveloped.originator_info.is_none());
        let infos: Vec<RecipientInfo> = enveloped.recip_infos.0.clone().into();
        let [RecipientInfo::Ktri(recipient)] = infos.as_slice() else {
            panic!("expected one KeyTransRecipientInfo")
        };
        assert_eq!(recipient.version, CmsVersion::V0);
        let RecipientIdentifier::IssuerAndSerialNumber(id) = &recipient.rid else {
            panic!("expected issuerAndSerialNumber")
        };
        assert_eq!(id.issuer, certificate.tbs_certificate.issuer);
        assert_eq!(id.serial_number, certificate.tbs_certificate.serial_number);
        assert_eq!(recipient.key_enc_alg.oid, ID_RSAES_OAEP);
        let params = recipient
            .key_enc_alg
            .parameters
            .as_ref()
            .unwrap()
            .to_der()
            .unwrap();
        let params = RsaOaepParams::from_der(&params).unwrap();
        assert_eq!(params.hash.oid, ID_SHA256);
        assert_eq!(params.mask_gen.oid, ID_MGF1);
        assert_eq!(params.mask_gen.parameters.unwrap().oid, ID_SHA256);
        assert_eq!(recipient.enc_key.as_bytes().len(), 256);
        let info = &enveloped.encrypted_content;
        assert_eq!(info.content_type, ID_DATA);
        assert_eq!(info.content_enc_alg.oid, ID_AES256_CBC);
        let iv: OctetString = info
            .content_enc_alg
            .parameters
            .as_ref()
            .unwrap()
            .decode_as()
            .unwrap();
        assert_eq!(iv.as_bytes().len(), 16);
        // Padding always adds a block when the content is whole blocks.
        assert_eq!(
            info.encrypted_content.as_ref().unwrap().as_bytes().len(),
            2512
        );
    }

    #[test]
    fn every_encryption_uses_a_fresh_key_and_iv() {
        let (_, certificate) = ours();
        let a = encrypt(&content(), certificate, &mut rand::thread_rng()).unwrap();
        let b = encrypt(&content(), certificate, &mut rand::thread_rng()).unwrap();
        let iv = |cms: &[u8]| envelope(cms).encrypted_content.content_enc_alg.parameters;
        assert_ne!(iv(&a), iv(&b));
        assert_ne!(
            envelope(&a).encrypted_content.encrypted_content,
            envelope(&b).encrypted_content.encrypted_content
        );
    }

    #[test]
    fn a_package_for_another_provider_is_refused() {
        let (key, certificate) = ours();
        let (_, their_certificate) = theirs();
        let cms = encrypt(&content(), their_certificate, &mut rand::thread_rng()).unwrap();
        let error = decrypt(&cms, key, certificate).unwrap_err();
        assert!(matches!(error, PackageError::NotForThisProvider), "{error}");
        assert_eq!(
            error.to_string(),
            "the package is not encrypted to this provider's certificate"
        );
    }

    #[test]
    fn sha1_oaep_as_the_dpi_text_says_decrypts() {
        let (key, certificate) = ours();
        let cms = encrypt_with(
            &content(),
            certificate,
            &mut rand::thread_rng(),
            OaepHash::Sha1,
        )
        .unwrap();
        let enveloped = envelope(&cms);
        let infos: Vec<RecipientInfo> = enveloped.recip_infos.0.clone().into();
        let RecipientInfo::Ktri(recipient) = &infos[0] else {
            panic!("expected a KeyTransRecipientInfo")
        };
        // SHA-1 everywhere is the default, so the parameters are empty.
        assert_eq!(
            recipient
                .key_enc_alg
                .parameters
                .as_ref()
                .unwrap()
                .to_der()
                .unwrap(),
            [0x30, 0x00]
        );
        assert_eq!(decrypt(&cms, key, certificate).unwrap(), content());
    }

    #[test]
    fn ber_as_bouncycastle_writes_it_decrypts() {
        let (key, certificate) = ours();
        let der = encrypt(&content(), certificate, &mut rand::thread_rng()).unwrap();
        let ber = to_ber(&der);
        assert_ne!(ber, der);
        assert!(
            ContentInfo::from_der(&ber).is_err(),
            "the test input must not be DER"
        );
        assert_eq!(ber::to_der(&ber).unwrap(), der);
        assert_eq!(decrypt(&ber, key, certificate).unwrap(), content());
    }

    #[test]
    fn a_tampered_ciphertext_is_an_error_not_a_panic() {
        let (key, certificate) = ours();
        let cms = encrypt(&content(), certificate, &mut rand::thread_rng()).unwrap();
        let mut enveloped = envelope(&cms);
        let mut ciphertext = enveloped
            .encrypted_content
            .encrypted_content
            .as_ref()
            .unwrap()
            .as_bytes()
            .to_vec();
        // In CBC this flips the last plaintext byte: the padding byte 0x10
        // becomes 0x11, which no valid padding has.
        let at = ciphertext.len() - 17;
        ciphertext[at] ^= 0x01;
        enveloped.encrypted_content.encrypted_content = Some(OctetString::new(ciphertext).unwrap());
        let error = decrypt(&reencode(&enveloped), key, certificate).unwrap_err();
        assert!(matches!(error, PackageError::ContentDecryption), "{error}");

        let mut enveloped = envelope(&cms);
        enveloped.encrypted_content.encrypted_content =
            Some(OctetString::new(vec![0u8; 15]).unwrap());
        let error = decrypt(&reencode(&enveloped), key, certificate).unwrap_err();
        assert!(matches!(error, PackageError::ContentDecryption), "{error}");
    }

    #[test]
    fn a_tampered_key_is_an_error_not_a_panic() {
        let (key, certificate) = ours();
        let cms = encrypt(&content(), certificate, &mut rand::thread_rng()).unwrap();
        let mut enveloped = envelope(&cms);
        let mut infos: Vec<RecipientInfo> = enveloped.recip_infos.0.clone().into();
        let RecipientInfo::Ktri(recipient) = &mut infos[0] else {
            panic!("expected a KeyTransRecipientInfo")
        };
        let mut encrypted_key = recipient.enc_key.as_bytes().to_vec();
        encrypted_key[100] ^= 0x40;
        recipient.enc_key = OctetString::new(encrypted_key).unwrap();
        enveloped.recip_infos = RecipientInfos(SetOfVec::try_from(infos).unwrap());
        let error = decrypt(&reencode(&enveloped), key, certificate).unwrap_err();
        assert!(matches!(error, PackageError::KeyDecryption), "{error}");
    }

    #[test]
    fn pkcs1_v15_key_transport_is_refused() {
        let (key, certificate) = ours();
        let cms = encrypt(&content(), certificate, &mut rand::thread_rng()).unwrap();
        let mut enveloped = envelope(&cms);
        let mut infos: Vec<RecipientInfo> = enveloped.recip_infos.0.clone().into();
        let RecipientInfo::Ktri(recipient) = &mut infos[0] else {
            panic!("expected a KeyTransRecipientInfo")
        };
        recipient.key_enc_alg = AlgorithmIdentifierOwned {
            oid: RSA_ENCRYPTION,
            parameters: None,
        };
        enveloped.recip_infos = RecipientInfos(SetOfVec::try_from(infos).unwrap());
        let error = decrypt(&reencode(&enveloped), key, certificate).unwrap_err();
        assert!(
            matches!(error, PackageError::UnsupportedAlgorithm { .. }),
            "{error}"
        );
    }

    #[test]
    fn garbage_and_truncation_are_errors_not_panics() {
        let (key, certificate) = ours();
        for input in [
            &b""[..],
            b"\x30",
            b"\x30\x80",
            b"\x30\x84\xff\xff\xff\xff",
            b"PK\x03\x04",
        ] {
            assert!(decrypt(input, key, certificate).is_err());
        }
        let cms = encrypt(&content(), certificate, &mut rand::thread_rng()).unwrap();
        for cut in [1, 10, 100, cms.len() / 2, cms.len() - 1] {
            let error = decrypt(&cms[..cut], key, certificate).unwrap_err();
            assert!(
                matches!(error, PackageError::NotEnvelopedData(_)),
                "{error}"
            );
        }
        let deep: Vec<u8> = std::iter::repeat_n([0x30u8, 0x80], 1000)
            .flatten()
            .collect();
        assert!(decrypt(&deep, key, certificate).is_err());
    }

    /// Re-encodes DER as BouncyCastle's BER: every constructed value with an
    /// indefinite length, the encrypted content in 1000-byte chunks.
    fn to_ber(der: &[u8]) -> Vec<u8> {
        fn element(input: &[u8], out: &mut Vec<u8>) -> usize {
            let identifier = input[0];
            let (length, header) = match input[1] {
                short @ 0..=0x7f => (usize::from(short), 2),
                long => {
                    let count = usize::from(long & 0x7f);
                    let length = input[2..2 + count]
                        .iter()
                        .fold(0, |length, byte| (length << 8) | usize::from(*byte));
                    (length, 2 + count)
                }
            };
            let content = &input[header..header + length];
            if identifier & 0x20 != 0 {
                out.extend_from_slice(&[identifier, 0x80]);
                let mut at = 0;
                while at < content.len() {
                    at += element(&content[at..], out);
                }
                out.extend_from_slice(&[0, 0]);
            } else if identifier == 0x80 {
                out.extend_from_slice(&[0xA0, 0x80]);
                for chunk in content.chunks(1000) {
                    let mut piece = Vec::new();
                    Any::new(Tag::OctetString, chunk.to_vec())
                        .unwrap()
                        .encode_to_vec(&mut piece)
                        .unwrap();
                    out.extend_from_slice(&piece);
                }
                out.extend_from_slice(&[0, 0]);
            } else {
                out.extend_from_slice(&input[..header + length]);
            }
            header + length
        }
        let mut out = Vec::new();
        element(der, &mut out);
        out
    }
}
