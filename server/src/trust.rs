//! Which enterprise certificates (virksomhetssertifikat) Postkasse trusts.
//!
//! A sender shows who it is with a certificate chain: in a JWS `x5c` header,
//! or in the `ds:KeyInfo` of its document package's signature. The chain must
//! lead to one of the trust anchors the operator configured (the roots of the
//! certificate authorities that issue enterprise certificates), and its
//! end-entity certificate must name a Norwegian organisation number.
//!
//! The chain itself (signatures, validity periods, CA constraints) is checked
//! by `rustls-webpki`, the validator rustls uses; this module only chooses its
//! inputs and reads the organisation from the certificate's subject.
//! Revocation (CRL, OCSP) is not checked here.

use anyhow::Context;
use app::domain::OrgNr;
use chrono::{DateTime, Utc};
use rustls_pki_types::{pem::PemObject, CertificateDer, TrustAnchor, UnixTime};
use std::{path::PathBuf, time::Duration};
use webpki::{
    EndEntityCert, ExtendedKeyUsageValidator, KeyPurposeId, KeyPurposeIdIter, KeyUsage,
    RequiredEkuNotFoundContext,
};
use x509_cert::{
    der::{asn1::ObjectIdentifier, Any, Decode, Tag, Tagged},
    name::Name,
    Certificate,
};

/// The certificate authorities whose enterprise certificates are trusted.
/// Empty anchors trust nothing.
#[derive(Debug, Clone, Default)]
pub struct TrustAnchors {
    anchors: Vec<TrustAnchor<'static>>,
}

/// An end-entity certificate whose chain leads to a trust anchor, and the
/// organisation it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedCertificate {
    pub org_nr: OrgNr,
    /// The organisation's name (O) and the certificate's common name (CN), for people.
    pub subject: String,
    /// The end-entity certificate, DER.
    pub der: Vec<u8>,
}

/// Why a certificate chain is not trusted. The messages can be shown to the
/// sender as they stand.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrustError {
    #[error("the certificate is not issued by a trusted certificate authority")]
    UnknownIssuer,
    #[error(
        "the certificate was not valid at {at}: it, or a certificate in its chain, had expired"
    )]
    Expired { at: DateTime<Utc> },
    #[error("the certificate was not valid at {at}: it, or a certificate in its chain, was not yet valid")]
    NotYetValid { at: DateTime<Utc> },
    #[error("a signature in the certificate chain does not verify")]
    BadSignature,
    #[error("the certificate chain is not well-formed X.509")]
    Malformed,
    #[error("the certificate's extended key usage allows neither client authentication nor e-mail protection")]
    WrongPurpose,
    #[error("the certificate's subject names no organisation number (serialNumber, or organizationIdentifier NTRNO-)")]
    NoOrganisationNumber,
    #[error("no certificate was given")]
    EmptyChain,
    #[error("{0}")]
    Other(String),
}

impl TrustAnchors {
    /// Anchors that trust nothing.
    pub fn none() -> Self {
        Self::default()
    }

    /// Every certificate in the PEM files the operator configured.
    pub fn from_pem_files(paths: &[PathBuf]) -> anyhow::Result<Self> {
        let mut certificates = Vec::new();
        for path in paths {
            let pem = std::fs::read(path)
                .with_context(|| format!("cannot read the trust anchors {}", path.display()))?;
            let found = certificates_in_pem(&pem)
                .with_context(|| format!("no trust anchors in {}", path.display()))?;
            certificates.extend(found);
        }
        Self::from_der_certificates(certificates)
    }

    /// Every certificate in one PEM text.
    pub fn from_pem(pem: &[u8]) -> anyhow::Result<Self> {
        Self::from_der_certificates(certificates_in_pem(pem)?)
    }

    pub fn from_der_certificates(certificates: Vec<Vec<u8>>) -> anyhow::Result<Self> {
        let anchors = certificates
            .iter()
            .enumerate()
            .map(|(index, der)| {
                webpki::anchor_from_trusted_cert(&CertificateDer::from(der.as_slice()))
                    .map(|anchor| anchor.to_owned())
                    .map_err(|error| {
                        anyhow::anyhow!(
                            "trust anchor {} is not a usable X.509 certificate: {error}",
                            index + 1
                        )
                    })
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(Self { anchors })
    }

    pub fn len(&self) -> usize {
        self.anchors.len()
    }

    pub fn is_empty(&self) -> bool {
        self.anchors.is_empty()
    }

    /// Validates `chain_der` (the end-entity certificate first, then any
    /// intermediates, as a JWS `x5c` gives them) at `now`, and reads the
    /// organisation the end-entity certificate names. CPU work: call it off
    /// the async runtime.
    pub fn verify(
        &self,
        chain_der: &[Vec<u8>],
        now: DateTime<Utc>,
    ) -> Result<VerifiedCertificate, TrustError> {
        let (end_entity_der, intermediates_der) =
            chain_der.split_first().ok_or(TrustError::EmptyChain)?;
        let certificate = self.verify_chain(
            end_entity_der,
            intermediates_der,
            now,
            EnterpriseCertificateUsage,
        )?;
        let subject = &certificate.tbs_certificate.subject;
        let org_nr = organisation_number(subject).ok_or(TrustError::NoOrganisationNumber)?;
        Ok(VerifiedCertificate {
            org_nr,
            subject: readable_subject(subject),
            der: end_entity_der.clone(),
        })
    }

    /// Validates the certificate of whoever signed a document (a person, an
    /// organisation, a timestamp authority) at `at`, with `intermediates_der` as
    /// candidates for the path. Unlike [`TrustAnchors::verify`] it accepts
    /// any extended key usage, or none, and needs no organisation number:
    /// document signers' certificates are not enterprise certificates.
    /// Returns the subject for people. CPU work: call it off the async runtime.
    pub fn verify_signer(
        &self,
        end_entity_der: &[u8],
        intermediates_der: &[Vec<u8>],
        at: DateTime<Utc>,
    ) -> Result<String, TrustError> {
        let certificate = self.verify_chain(end_entity_der, intermediates_der, at, AnyUsage)?;
        Ok(readable_subject(&certificate.tbs_certificate.subject))
    }

    /// The path from `end_entity_der` through `intermediates_der` to an
    /// anchor, checked at `now` with `usage` as the extended key usage
    /// policy; the end-entity certificate, parsed.
    fn verify_chain(
        &self,
        end_entity_der: &[u8],
        intermediates_der: &[Vec<u8>],
        now: DateTime<Utc>,
        usage: impl ExtendedKeyUsageValidator,
    ) -> Result<Certificate, TrustError> {
        let end_entity_certificate = CertificateDer::from(end_entity_der);
        let end_entity = EndEntityCert::try_from(&end_entity_certificate)
            .map_err(|error| TrustError::from_webpki(error, now))?;
        let intermediates: Vec<CertificateDer<'_>> = intermediates_der
            .iter()
            .map(|der| CertificateDer::from(der.as_slice()))
            .collect();
        let seconds = u64::try_from(now.timestamp()).unwrap_or(0);
        end_entity
            .verify_for_usage(
                webpki::ALL_VERIFICATION_ALGS,
                &self.anchors,
                &intermediates,
                UnixTime::since_unix_epoch(Duration::from_secs(seconds)),
                usage,
                None,
                None,
            )
            .map_err(|error| TrustError::from_webpki(error, now))?;
        Certificate::from_der(end_entity_der).map_err(|_| TrustError::Malformed)
    }
}

fn certificates_in_pem(pem: &[u8]) -> anyhow::Result<Vec<Vec<u8>>> {
    let certificates = CertificateDer::pem_slice_iter(pem)
        .map(|certificate| certificate.map(|der| der.to_vec()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| anyhow::anyhow!("not PEM: {error}"))?;
    anyhow::ensure!(!certificates.is_empty(), "no CERTIFICATE block");
    Ok(certificates)
}

impl TrustError {
    fn from_webpki(error: webpki::Error, now: DateTime<Utc>) -> Self {
        use webpki::Error;
        match error {
            Error::UnknownIssuer => Self::UnknownIssuer,
            Error::CertExpired { .. } => Self::Expired { at: now },
            Error::CertNotValidYet { .. } => Self::NotYetValid { at: now },
            Error::InvalidSignatureForPublicKey | Error::SignatureAlgorithmMismatch => {
                Self::BadSignature
            }
            Error::BadDer
            | Error::BadDerTime
            | Error::TrailingData(_)
            | Error::UnsupportedCertVersion
            | Error::MalformedExtensions
            | Error::ExtensionValueInvalid
            | Error::InvalidSerialNumber
            | Error::InvalidCertValidity
            | Error::UnsupportedCriticalExtension
            | Error::EmptyEkuExtension => Self::Malformed,
            Error::RequiredEkuNotFoundContext(_) => Self::WrongPurpose,
            Error::CaUsedAsEndEntity => Self::Other(
                "the certificate belongs to a certificate authority, not to an organisation"
                    .to_owned(),
            ),
            Error::UnsupportedSignatureAlgorithmContext(_)
            | Error::UnsupportedSignatureAlgorithmForPublicKeyContext(_) => Self::Other(
                "the certificate chain is signed with an algorithm that is not accepted".to_owned(),
            ),
            Error::EndEntityUsedAsCa
            | Error::PathLenConstraintViolated
            | Error::NameConstraintViolation => Self::Other(
                "the certificate chain breaks its certificate authorities' constraints".to_owned(),
            ),
            _ => Self::Other("the certificate chain is not accepted".to_owned()),
        }
    }
}

/// Enterprise certificates carry the extended key usages client
/// authentication and e-mail protection, or none at all.
struct EnterpriseCertificateUsage;

/// id-kp-clientAuth, 1.3.6.1.5.5.7.3.2, as DER content octets.
const CLIENT_AUTH: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x02];
/// id-kp-emailProtection, 1.3.6.1.5.5.7.3.4, as DER content octets.
const EMAIL_PROTECTION: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x04];

impl ExtendedKeyUsageValidator for EnterpriseCertificateUsage {
    fn validate(&self, purposes: KeyPurposeIdIter<'_, '_>) -> Result<(), webpki::Error> {
        let accepted = [
            KeyPurposeId::new(CLIENT_AUTH),
            KeyPurposeId::new(EMAIL_PROTECTION),
        ];
        let mut present = Vec::new();
        for purpose in purposes {
            let purpose = purpose?;
            if accepted.contains(&purpose) {
                return Ok(());
            }
            present.push(purpose.to_decoded_oid());
        }
        if present.is_empty() {
            return Ok(());
        }
        Err(webpki::Error::RequiredEkuNotFoundContext(
            RequiredEkuNotFoundContext {
                required: KeyUsage::client_auth(),
                present,
            },
        ))
    }
}

/// Document signers' certificates carry whatever extended key usages their
/// authority gave them (document signing, e-mail protection, timestamping),
/// or none: the usage is not what makes a signature on a PDF trustworthy.
struct AnyUsage;

impl ExtendedKeyUsageValidator for AnyUsage {
    fn validate(&self, purposes: KeyPurposeIdIter<'_, '_>) -> Result<(), webpki::Error> {
        // Still refuse an extension that does not parse.
        for purpose in purposes {
            purpose?;
        }
        Ok(())
    }
}

const COMMON_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.3");
const SERIAL_NUMBER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.5");
const ORGANIZATION: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.10");
const ORGANIZATION_IDENTIFIER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.97");

/// The organisation number in `serialNumber` (9 digits, as Norwegian CAs
/// have long issued them) or in `organizationIdentifier` (`NTRNO-` and 9
/// digits, the eIDAS form of newer certificates).
fn organisation_number(subject: &Name) -> Option<OrgNr> {
    attributes(subject).find_map(|(oid, text)| {
        if oid == SERIAL_NUMBER {
            OrgNr::parse(&text).ok()
        } else if oid == ORGANIZATION_IDENTIFIER {
            text.strip_prefix("NTRNO-")
                .and_then(|digits| OrgNr::parse(digits).ok())
        } else {
            None
        }
    })
}

/// "Organisation (common name)", or whichever of the two there is.
pub(crate) fn readable_subject(subject: &Name) -> String {
    let first = |wanted: ObjectIdentifier| {
        attributes(subject)
            .find(|(oid, _)| *oid == wanted)
            .map(|(_, text)| text)
    };
    match (first(ORGANIZATION), first(COMMON_NAME)) {
        (Some(organisation), Some(common_name)) if organisation != common_name => {
            format!("{organisation} ({common_name})")
        }
        (Some(organisation), _) => organisation,
        (None, Some(common_name)) => common_name,
        (None, None) => subject.to_string(),
    }
}

/// The name's attributes whose values are text.
fn attributes(name: &Name) -> impl Iterator<Item = (ObjectIdentifier, String)> + '_ {
    name.0
        .iter()
        .flat_map(|relative_name| relative_name.0.iter())
        .filter_map(|attribute| Some((attribute.oid, attribute_text(&attribute.value)?)))
}

fn attribute_text(value: &Any) -> Option<String> {
    match value.tag() {
        Tag::Utf8String
        | Tag::PrintableString
        | Tag::Ia5String
        | Tag::TeletexString
        | Tag::VisibleString => std::str::from_utf8(value.value()).ok().map(str::to_owned),
        Tag::BmpString => {
            let units: Vec<u16> = value
                .value()
                .chunks_exact(2)
                .map(|pair| u16::from_be_bytes([pair[0], pair[1]]))
                .collect();
            String::from_utf16(&units).ok()
        }
        _ => None,
    }
}

/// Certificates for tests; never used by the server. A test CA is a root (the
/// trust anchor) and an issuing intermediate below it; it issues enterprise
/// certificates the way Norwegian CAs do, with the organisation number in
/// the subject's `serialNumber`.
pub mod testing {
    use app::domain::OrgNr;
    use chrono::{DateTime, Duration, Utc};
    use rsa::{
        pkcs1v15::{Signature, SigningKey},
        RsaPrivateKey,
    };
    use sha2::Sha256;
    use std::{
        str::FromStr,
        sync::{
            atomic::{AtomicUsize, Ordering},
            OnceLock,
        },
        time::SystemTime,
    };
    use x509_cert::{
        builder::{Builder, CertificateBuilder, Profile},
        der::{asn1::ObjectIdentifier, pem::LineEnding, Decode, Encode, EncodePem},
        ext::pkix::ExtendedKeyUsage,
        name::Name,
        serial_number::SerialNumber,
        spki::SubjectPublicKeyInfoOwned,
        time::{Time, Validity},
        Certificate,
    };

    /// id-kp-clientAuth.
    pub const CLIENT_AUTH: &str = "1.3.6.1.5.5.7.3.2";
    /// id-kp-emailProtection.
    pub const EMAIL_PROTECTION: &str = "1.3.6.1.5.5.7.3.4";
    /// id-kp-serverAuth, which enterprise certificates do not carry alone.
    pub const SERVER_AUTH: &str = "1.3.6.1.5.5.7.3.1";

    pub struct TestCa {
        root_der: Vec<u8>,
        issuing_key: RsaPrivateKey,
        issuing_name: Name,
        issuing_der: Vec<u8>,
    }

    impl TestCa {
        /// A root "`name` Root CA" and an intermediate "`name` Issuing CA",
        /// valid from yesterday for ten years.
        pub fn new(name: &str) -> TestCa {
            let root_key = shared_key(next_authority_slot());
            let issuing_key = shared_key(next_authority_slot());
            let root_name = test_name(&format!("CN={name} Root CA,O={name},C=NO"));
            let issuing_name = test_name(&format!("CN={name} Issuing CA,O={name},C=NO"));
            let now = Utc::now();
            let (not_before, not_after) = (now - Duration::days(1), now + Duration::days(3650));
            let root = build(
                Profile::Root,
                root_name.clone(),
                &root_key,
                &root_key,
                not_before,
                not_after,
                &[],
            );
            let issuing = build(
                Profile::SubCA {
                    issuer: root_name,
                    path_len_constraint: Some(0),
                },
                issuing_name.clone(),
                &issuing_key,
                &root_key,
                not_before,
                not_after,
                &[],
            );
            TestCa {
                root_der: der(&root),
                issuing_key,
                issuing_name,
                issuing_der: der(&issuing),
            }
        }

        /// The root certificate, PEM: what an operator configures as a trust anchor.
        pub fn pem(&self) -> String {
            certificate_pem(&self.root_der)
        }

        pub fn root_der(&self) -> &[u8] {
            &self.root_der
        }

        pub fn intermediate_der(&self) -> &[u8] {
            &self.issuing_der
        }

        /// Anchors that trust this CA alone.
        pub fn anchors(&self) -> super::TrustAnchors {
            super::TrustAnchors::from_der_certificates(vec![self.root_der.clone()])
                .expect("a test root is a usable trust anchor")
        }

        /// An enterprise certificate for `org_nr` (subject `CN=Test <org_nr>,
        /// O=Test <org_nr>, serialNumber=<org_nr>, C=NO`, extended key usages
        /// client authentication and e-mail protection) valid until
        /// `not_after`, and its key. Every end-entity certificate has the same
        /// key: generating RSA keys is slow.
        pub fn issue(&self, org_nr: &OrgNr, not_after: DateTime<Utc>) -> (RsaPrivateKey, Vec<u8>) {
            let subject = format!(
                "CN=Test {org_nr},O=Test {org_nr},serialNumber={org_nr},C=NO",
                org_nr = org_nr.as_str()
            );
            self.issue_for_subject(&subject, not_after, &[CLIENT_AUTH, EMAIL_PROTECTION])
        }

        /// An end-entity certificate for an RFC 4514 `subject` (an attribute
        /// may be named by its dotted OID, e.g. `2.5.4.97=NTRNO-…`), valid for
        /// thirty days up to `not_after`, with these extended key usages (none
        /// if empty).
        pub fn issue_for_subject(
            &self,
            subject: &str,
            not_after: DateTime<Utc>,
            extended_key_usages: &[&str],
        ) -> (RsaPrivateKey, Vec<u8>) {
            let key = shared_key(END_ENTITY_SLOT);
            let not_before = not_after.min(Utc::now()) - Duration::days(30);
            let certificate = build(
                Profile::Leaf {
                    issuer: self.issuing_name.clone(),
                    enable_key_agreement: false,
                    enable_key_encipherment: true,
                },
                test_name(subject),
                &key,
                &self.issuing_key,
                not_before,
                not_after,
                extended_key_usages,
            );
            (key, der(&certificate))
        }

        /// `end_entity_der` and the intermediate: the chain a sender presents.
        pub fn chain(&self, end_entity_der: &[u8]) -> Vec<Vec<u8>> {
            vec![end_entity_der.to_vec(), self.issuing_der.clone()]
        }

        /// [`TestCa::chain`] as PEM.
        pub fn chain_pem(&self, end_entity_der: &[u8]) -> String {
            certificate_pem(end_entity_der) + &certificate_pem(&self.issuing_der)
        }
    }

    pub fn certificate_pem(der: &[u8]) -> String {
        Certificate::from_der(der)
            .expect("a test certificate")
            .to_pem(LineEnding::LF)
            .expect("PEM encoding")
    }

    pub(super) const END_ENTITY_SLOT: usize = 0;
    const KEY_SLOTS: usize = 5;

    /// The certificate authorities take turns with the slots after the end
    /// entities' one.
    fn next_authority_slot() -> usize {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        1 + NEXT.fetch_add(1, Ordering::Relaxed) % (KEY_SLOTS - 1)
    }

    /// RSA keys are slow to generate in debug builds: tests share a few.
    pub(super) fn shared_key(slot: usize) -> RsaPrivateKey {
        static KEYS: [OnceLock<RsaPrivateKey>; KEY_SLOTS] = [const { OnceLock::new() }; KEY_SLOTS];
        KEYS[slot % KEY_SLOTS]
            .get_or_init(|| {
                RsaPrivateKey::new(&mut rand::thread_rng(), 2048).expect("a test RSA key")
            })
            .clone()
    }

    fn test_name(rfc4514: &str) -> Name {
        Name::from_str(rfc4514).expect("a test certificate's name")
    }

    fn der(certificate: &Certificate) -> Vec<u8> {
        certificate.to_der().expect("DER encoding")
    }

    fn time(at: DateTime<Utc>) -> Time {
        Time::try_from(SystemTime::from(at)).expect("a certificate time")
    }

    #[allow(clippy::too_many_arguments)]
    fn build(
        profile: Profile,
        subject: Name,
        subject_key: &RsaPrivateKey,
        issuer_key: &RsaPrivateKey,
        not_before: DateTime<Utc>,
        not_after: DateTime<Utc>,
        extended_key_usages: &[&str],
    ) -> Certificate {
        let mut serial = rand::random::<[u8; 8]>().map(|byte| byte & 0x7f);
        serial[0] = serial[0].max(1);
        let validity = Validity {
            not_before: time(not_before),
            not_after: time(not_after),
        };
        let spki = SubjectPublicKeyInfoOwned::from_key(subject_key.to_public_key())
            .expect("a test public key");
        let signer = SigningKey::<Sha256>::new(issuer_key.clone());
        let mut builder = CertificateBuilder::new(
            profile,
            SerialNumber::new(&serial).expect("a serial number"),
            validity,
            subject,
            spki,
            &signer,
        )
        .expect("a test certificate builder");
        if !extended_key_usages.is_empty() {
            let usages = extended_key_usages
                .iter()
                .map(|oid| ObjectIdentifier::new(oid).expect("an extended key usage OID"))
                .collect();
            builder
                .add_extension(&ExtendedKeyUsage(usages))
                .expect("the extended key usage extension");
        }
        builder
            .build::<Signature>()
            .expect("a signed test certificate")
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{shared_key, TestCa, END_ENTITY_SLOT, SERVER_AUTH};
    use super::*;
    use chrono::Duration;
    use std::sync::OnceLock;

    fn trusted_ca() -> &'static TestCa {
        static CA: OnceLock<TestCa> = OnceLock::new();
        CA.get_or_init(|| TestCa::new("Trusted Test"))
    }

    fn unknown_ca() -> &'static TestCa {
        static CA: OnceLock<TestCa> = OnceLock::new();
        CA.get_or_init(|| TestCa::new("Unknown Test"))
    }

    fn org_nr() -> OrgNr {
        OrgNr::parse("974760673").expect("a valid organisation number")
    }

    fn in_a_year() -> DateTime<Utc> {
        Utc::now() + Duration::days(365)
    }

    /// Verifies, now, a certificate the trusted CA issues for `subject`.
    fn verify_subject(
        subject: &str,
        extended_key_usages: &[&str],
    ) -> Result<VerifiedCertificate, TrustError> {
        let ca = trusted_ca();
        let (_, certificate) = ca.issue_for_subject(subject, in_a_year(), extended_key_usages);
        ca.anchors().verify(&ca.chain(&certificate), Utc::now())
    }

    #[test]
    fn a_chain_through_an_intermediate_names_the_organisation_in_its_serial_number() {
        let ca = trusted_ca();
        let (_, certificate) = ca.issue(&org_nr(), in_a_year());
        let verified = ca
            .anchors()
            .verify(&ca.chain(&certificate), Utc::now())
            .unwrap();
        assert_eq!(verified.org_nr, org_nr());
        assert_eq!(verified.subject, "Test 974760673");
        assert_eq!(verified.der, certificate);
    }

    #[test]
    fn the_organisation_identifier_form_names_the_organisation_too() {
        let verified = verify_subject(
            "CN=Signering,O=Digitaliseringsdirektoratet,2.5.4.97=NTRNO-991825827,C=NO",
            &[],
        )
        .unwrap();
        assert_eq!(verified.org_nr.as_str(), "991825827");
        assert_eq!(verified.subject, "Digitaliseringsdirektoratet (Signering)");
    }

    #[test]
    fn anchors_read_from_pem_files_trust_their_certificates() {
        let ca = trusted_ca();
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("anchors.pem");
        std::fs::write(&path, ca.pem() + &unknown_ca().pem()).unwrap();
        let anchors = TrustAnchors::from_pem_files(&[path]).unwrap();
        assert_eq!(anchors.len(), 2);
        let (_, certificate) = ca.issue(&org_nr(), in_a_year());
        assert!(anchors.verify(&ca.chain(&certificate), Utc::now()).is_ok());
    }

    #[test]
    fn a_pem_file_without_certificates_is_refused() {
        let error = TrustAnchors::from_pem(b"not a certificate").unwrap_err();
        assert!(error.to_string().contains("no CERTIFICATE"), "{error:#}");
    }

    #[test]
    fn a_certificate_from_an_unknown_authority_is_refused() {
        let stranger = unknown_ca();
        let (_, certificate) = stranger.issue(&org_nr(), in_a_year());
        let error = trusted_ca()
            .anchors()
            .verify(&stranger.chain(&certificate), Utc::now())
            .unwrap_err();
        assert_eq!(error, TrustError::UnknownIssuer);
        assert_eq!(
            error.to_string(),
            "the certificate is not issued by a trusted certificate authority"
        );
    }

    #[test]
    fn empty_anchors_trust_nothing() {
        let ca = trusted_ca();
        let (_, certificate) = ca.issue(&org_nr(), in_a_year());
        let error = TrustAnchors::none()
            .verify(&ca.chain(&certificate), Utc::now())
            .unwrap_err();
        assert_eq!(error, TrustError::UnknownIssuer);
    }

    #[test]
    fn an_expired_certificate_is_refused() {
        let ca = trusted_ca();
        let (_, certificate) = ca.issue(&org_nr(), Utc::now() - Duration::days(1));
        let now = Utc::now();
        let error = ca
            .anchors()
            .verify(&ca.chain(&certificate), now)
            .unwrap_err();
        assert_eq!(error, TrustError::Expired { at: now });
        assert!(error
            .to_string()
            .starts_with("the certificate was not valid at "));
    }

    #[test]
    fn a_certificate_is_refused_before_it_is_valid() {
        let ca = trusted_ca();
        let (_, certificate) = ca.issue(&org_nr(), in_a_year());
        let long_ago = Utc::now() - Duration::days(400);
        let error = ca
            .anchors()
            .verify(&ca.chain(&certificate), long_ago)
            .unwrap_err();
        assert_eq!(error, TrustError::NotYetValid { at: long_ago });
    }

    #[test]
    fn a_certificate_without_an_organisation_number_is_refused() {
        let error = verify_subject("CN=Nobody,O=Nobody,serialNumber=12345,C=NO", &[]).unwrap_err();
        assert_eq!(error, TrustError::NoOrganisationNumber);
    }

    #[test]
    fn a_certificate_for_servers_only_is_refused() {
        let error =
            verify_subject("CN=Web,O=Web,serialNumber=974760673,C=NO", &[SERVER_AUTH]).unwrap_err();
        assert_eq!(error, TrustError::WrongPurpose);
    }

    #[test]
    fn a_chain_without_its_intermediate_is_refused() {
        let ca = trusted_ca();
        let (_, certificate) = ca.issue(&org_nr(), in_a_year());
        let error = ca.anchors().verify(&[certificate], Utc::now()).unwrap_err();
        assert_eq!(error, TrustError::UnknownIssuer);
    }

    #[test]
    fn a_chain_is_refused_when_its_anchor_is_not_configured() {
        // The sender sends the root along: only configured anchors count.
        let ca = trusted_ca();
        let (_, certificate) = ca.issue(&org_nr(), in_a_year());
        let mut chain = ca.chain(&certificate);
        chain.push(ca.root_der().to_vec());
        let error = unknown_ca()
            .anchors()
            .verify(&chain, Utc::now())
            .unwrap_err();
        assert_eq!(error, TrustError::UnknownIssuer);
    }

    #[test]
    fn an_empty_or_garbled_chain_is_refused() {
        let anchors = trusted_ca().anchors();
        assert_eq!(
            anchors.verify(&[], Utc::now()).unwrap_err(),
            TrustError::EmptyChain
        );
        assert_eq!(
            anchors
                .verify(&[b"garbage".to_vec()], Utc::now())
                .unwrap_err(),
            TrustError::Malformed
        );
    }

    #[test]
    fn a_certificate_authority_cannot_sign_as_an_organisation() {
        let ca = trusted_ca();
        let error = ca
            .anchors()
            .verify(&[ca.intermediate_der().to_vec()], Utc::now())
            .unwrap_err();
        assert!(matches!(error, TrustError::Other(_)), "{error:?}");
    }

    #[test]
    fn a_providers_self_signed_certificate_is_trusted_where_it_is_an_anchor() {
        // Another Postkasse trusts this one by configuring its certificate
        // (from crate::keys::self_signed) as a trust anchor.
        use x509_cert::der::Encode;
        let key = shared_key(END_ENTITY_SLOT);
        let certificate = crate::keys::self_signed(&key, &org_nr(), "Postkasse A").unwrap();
        let der = certificate.to_der().unwrap();
        let anchors = TrustAnchors::from_der_certificates(vec![der.clone()]).unwrap();
        let verified = anchors
            .verify(std::slice::from_ref(&der), Utc::now())
            .unwrap();
        assert_eq!(verified.org_nr, org_nr());
        assert!(TrustAnchors::none().verify(&[der], Utc::now()).is_err());
    }
}
