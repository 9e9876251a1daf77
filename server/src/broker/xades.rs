//! The sender's signature on a DPI document package: `META-INF/signatures.xml`
//! in the ASiC-E zip, an `asic:XAdESSignatures` root holding one XAdES
//! Baseline B `ds:Signature`.
//!
//! DPI asks the sender (or its data processor) to sign with its enterprise
//! certificate: RSA-SHA256 over the canonicalised `ds:SignedInfo`; in it one
//! SHA-256 reference per file outside `META-INF/`, the URI being the file's
//! name and no transforms; and one reference to the `xades:SignedProperties`
//! (signing time, the signing certificate's digest). The certificate chain
//! is in `ds:KeyInfo`. [`verify`] checks all of it and names the part that
//! fails, then has [`TrustAnchors`] validate the chain.
//!
//! Canonical XML comes from the `xml-sec` crate (pure Rust, `c14n` alone):
//! it canonicalises an element's subtree inside its document, with the
//! namespaces the element inherits, which inclusive C14N needs for
//! `ds:SignedInfo` and `xades:SignedProperties`. Its XMLDSig verifier is not
//! used: it would bring a second RSA and X.509 stack, and DPI's references
//! to files in the zip and its XAdES rules need checking here anyway.
//!
//! CPU work, and synchronous: callers run it off the async runtime.

use crate::trust::{TrustAnchors, TrustError, VerifiedCertificate};
use base64::Engine as _;
use chrono::{DateTime, NaiveDateTime, Utc};
use rsa::{
    pkcs1v15,
    pkcs8::{AssociatedOid, DecodePublicKey},
    signature::Verifier,
    traits::PublicKeyParts,
    RsaPublicKey,
};
use sha2::Digest as _;
use std::collections::HashSet;
use x509_cert::{
    der::{Decode, Encode},
    Certificate,
};
use xml_sec::{
    c14n::{C14nAlgorithm, C14nMode},
    Document, Node,
};

const ASIC: &str = "http://uri.etsi.org/2918/v1.2.1#";
const DS: &str = "http://www.w3.org/2000/09/xmldsig#";
const XADES: &str = "http://uri.etsi.org/01903/v1.3.2#";
const EXCLUSIVE_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
const SIGNED_PROPERTIES_TYPE: &str = "http://uri.etsi.org/01903#SignedProperties";
const SIGNED_PROPERTIES: &str = "xades:SignedProperties";

/// A package signature that verified, and who made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageSignature {
    pub signer: VerifiedCertificate,
    /// `xades:SigningTime`, as the signer claims it.
    pub signing_time: Option<DateTime<Utc>>,
}

/// Why a package's signature is refused; each message names the file or the
/// part of `META-INF/signatures.xml` at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XadesError {
    #[error("META-INF/signatures.xml is not well-formed XML: {0}")]
    NotXml(String),
    #[error("the root of META-INF/signatures.xml is not asic:XAdESSignatures")]
    NotXadesSignatures,
    #[error("META-INF/signatures.xml must hold exactly one ds:Signature; it holds {0}")]
    SignatureCount(usize),
    #[error("the signature has no {0}")]
    MissingPart(&'static str),
    #[error("the signature has more than one {0}")]
    RepeatedPart(&'static str),
    #[error("{0} in the signature is not base64")]
    NotBase64(&'static str),
    #[error("the signature method {0} is not accepted: DPI signs with RSA-SHA256")]
    UnsupportedSignatureMethod(String),
    #[error("the canonicalisation method {0} is not accepted")]
    UnsupportedCanonicalisation(String),
    #[error("the digest method {algorithm} for {part} is not accepted")]
    UnsupportedDigestMethod { part: String, algorithm: String },
    #[error("the signature has a reference without a URI")]
    ReferenceWithoutUri,
    #[error("the reference to {0} has transforms: DPI signs files as they are")]
    TransformedFile(String),
    #[error("the reference to {part} has the transform {algorithm}, which is not accepted")]
    UnsupportedTransform { part: String, algorithm: String },
    #[error("the package holds {0} more than once")]
    DuplicateFile(String),
    #[error("the signature covers {0} more than once")]
    RepeatedReference(String),
    #[error("the signature covers {0}, which is not in the package")]
    MissingFile(String),
    #[error("{0} was added to the package: the signature does not cover it")]
    UnsignedFile(String),
    #[error("{0} was changed after it was signed")]
    Changed(String),
    #[error("the signature refers to #{0}, which is not in META-INF/signatures.xml")]
    UnresolvedReference(String),
    #[error("the signature refers to #{0}, which more than one element carries")]
    AmbiguousReference(String),
    #[error("the signature refers to #{0}, which is outside the signature")]
    ReferenceOutsideSignature(String),
    #[error("the signature has no reference to its xades:SignedProperties")]
    NoSignedPropertiesReference,
    #[error("the SignedProperties reference does not point at the xades:SignedProperties in the signature's ds:Object/xades:QualifyingProperties")]
    MisplacedSignedProperties,
    #[error("{part} cannot be canonicalised: {reason}")]
    Canonicalisation { part: String, reason: String },
    #[error("the signing certificate is not the one xades:SigningCertificate names")]
    SigningCertificateMismatch,
    #[error("xades:SigningTime {0:?} is not a date and time")]
    BadSigningTime(String),
    #[error("the signing certificate is not X.509 with an RSA key of at least 2048 bits")]
    UnsupportedKey,
    #[error("the signature value does not verify with the signing certificate's key")]
    BadSignatureValue,
    #[error("the signing certificate is not trusted: {0}")]
    Untrusted(#[from] TrustError),
}

/// Verifies `signatures_xml` over `files` (every zip entry outside
/// `META-INF/`, by name) at `now`: every file is covered and unchanged, the
/// signed properties are intact, the signature value verifies with the first
/// certificate in `ds:KeyInfo`, and the chain leads to one of `anchors`.
pub fn verify(
    files: &[(&str, &[u8])],
    signatures_xml: &[u8],
    anchors: &TrustAnchors,
    now: DateTime<Utc>,
) -> Result<PackageSignature, XadesError> {
    let text = std::str::from_utf8(signatures_xml)
        .map_err(|_| XadesError::NotXml("it is not UTF-8".to_owned()))?;
    let document = Document::parse(text).map_err(|error| XadesError::NotXml(error.to_string()))?;
    if !is(document.root_element(), ASIC, "XAdESSignatures") {
        return Err(XadesError::NotXadesSignatures);
    }
    let signatures: Vec<Node<'_, '_>> = document
        .descendants()
        .filter(|node| is(*node, DS, "Signature"))
        .collect();
    let [signature] = signatures[..] else {
        return Err(XadesError::SignatureCount(signatures.len()));
    };

    let signed_info = only_child(signature, DS, "SignedInfo", "ds:SignedInfo")?;
    let canonicalisation = canonicalisation_method(signed_info)?;
    let signature_method = signature_method(signed_info)?;
    let references = references(signed_info)?;
    check_files(&references, files)?;
    let signed_properties = check_same_document_references(&document, signature, &references)?;
    let chain = certificate_chain(signature)?;
    check_signing_certificate(signed_properties, &chain[0])?;
    let signing_time = signing_time(signed_properties)?;
    let signed_info_bytes =
        canonicalise(&document, signed_info, &canonicalisation, "ds:SignedInfo")?;
    check_signature_value(signature, &signed_info_bytes, signature_method, &chain[0])?;
    let signer = anchors.verify(&chain, now)?;
    Ok(PackageSignature {
        signer,
        signing_time,
    })
}

fn is(node: Node<'_, '_>, namespace: &str, name: &str) -> bool {
    node.is_element()
        && node.tag_name().namespace() == Some(namespace)
        && node.tag_name().name() == name
}

fn children_named<'a, 'input>(
    node: Node<'a, 'input>,
    namespace: &'static str,
    name: &'static str,
) -> impl Iterator<Item = Node<'a, 'input>> {
    node.children()
        .filter(move |child| is(*child, namespace, name))
}

/// The one child `namespace:name` of `node`; `part` names it in errors.
fn only_child<'a, 'input>(
    node: Node<'a, 'input>,
    namespace: &'static str,
    name: &'static str,
    part: &'static str,
) -> Result<Node<'a, 'input>, XadesError> {
    let mut found = children_named(node, namespace, name);
    let first = found.next().ok_or(XadesError::MissingPart(part))?;
    match found.next() {
        Some(_) => Err(XadesError::RepeatedPart(part)),
        None => Ok(first),
    }
}

fn algorithm_of(
    node: Node<'_, '_>,
    namespace: &'static str,
    name: &'static str,
    part: &'static str,
) -> Result<String, XadesError> {
    only_child(node, namespace, name, part)?
        .attribute("Algorithm")
        .map(str::to_owned)
        .ok_or(XadesError::MissingPart(part))
}

fn base64_text(node: Node<'_, '_>, part: &'static str) -> Result<Vec<u8>, XadesError> {
    // XML Signature allows line breaks and spaces inside base64 values.
    let compact: String = node
        .text()
        .unwrap_or_default()
        .chars()
        .filter(|character| !character.is_ascii_whitespace())
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .map_err(|_| XadesError::NotBase64(part))
}

/// A canonicalisation algorithm named by `method` (a `ds:CanonicalizationMethod`
/// or `ds:Transform`), with its exclusive C14N prefix list.
fn c14n_algorithm(method: Node<'_, '_>) -> Option<C14nAlgorithm> {
    let uri = method.attribute("Algorithm")?;
    let algorithm = C14nAlgorithm::from_uri(uri)?;
    let prefix_list = method
        .children()
        .find(|child| is(*child, EXCLUSIVE_C14N, "InclusiveNamespaces"))
        .and_then(|inclusive| inclusive.attribute("PrefixList"));
    Some(match prefix_list {
        Some(prefixes) => algorithm.with_prefix_list(prefixes),
        None => algorithm,
    })
}

fn canonicalisation_method(signed_info: Node<'_, '_>) -> Result<C14nAlgorithm, XadesError> {
    let part = "ds:SignedInfo/ds:CanonicalizationMethod";
    let method = only_child(signed_info, DS, "CanonicalizationMethod", part)?;
    c14n_algorithm(method).ok_or_else(|| {
        XadesError::UnsupportedCanonicalisation(
            method.attribute("Algorithm").unwrap_or_default().to_owned(),
        )
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DigestAlgorithm {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl DigestAlgorithm {
    fn from_uri(uri: &str) -> Option<Self> {
        match uri {
            "http://www.w3.org/2000/09/xmldsig#sha1" => Some(Self::Sha1),
            "http://www.w3.org/2001/04/xmlenc#sha256" => Some(Self::Sha256),
            "http://www.w3.org/2001/04/xmldsig-more#sha384" => Some(Self::Sha384),
            "http://www.w3.org/2001/04/xmlenc#sha512" => Some(Self::Sha512),
            _ => None,
        }
    }

    fn digest(self, bytes: &[u8]) -> Vec<u8> {
        match self {
            Self::Sha1 => sha1::Sha1::digest(bytes).to_vec(),
            Self::Sha256 => sha2::Sha256::digest(bytes).to_vec(),
            Self::Sha384 => sha2::Sha384::digest(bytes).to_vec(),
            Self::Sha512 => sha2::Sha512::digest(bytes).to_vec(),
        }
    }
}

/// RSA PKCS#1 v1.5 with one of these hashes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SignatureMethod {
    RsaSha256,
    RsaSha384,
    RsaSha512,
}

fn signature_method(signed_info: Node<'_, '_>) -> Result<SignatureMethod, XadesError> {
    let uri = algorithm_of(
        signed_info,
        DS,
        "SignatureMethod",
        "ds:SignedInfo/ds:SignatureMethod",
    )?;
    match uri.as_str() {
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256" => Ok(SignatureMethod::RsaSha256),
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384" => Ok(SignatureMethod::RsaSha384),
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512" => Ok(SignatureMethod::RsaSha512),
        _ => Err(XadesError::UnsupportedSignatureMethod(uri)),
    }
}

/// One `ds:Reference` of the `ds:SignedInfo`.
struct Reference<'a, 'input> {
    uri: &'a str,
    reference_type: Option<&'a str>,
    transforms: Vec<Node<'a, 'input>>,
    digest_method: String,
    digest_value: Vec<u8>,
}

impl Reference<'_, '_> {
    /// Whether the digest of `bytes` is the one signed; `part` names what
    /// the reference covers.
    fn matches(&self, bytes: &[u8], part: &str) -> Result<bool, XadesError> {
        let algorithm = DigestAlgorithm::from_uri(&self.digest_method)
            .filter(|algorithm| *algorithm != DigestAlgorithm::Sha1)
            .ok_or_else(|| XadesError::UnsupportedDigestMethod {
                part: part.to_owned(),
                algorithm: self.digest_method.clone(),
            })?;
        Ok(algorithm.digest(bytes) == self.digest_value)
    }
}

fn references<'a, 'input>(
    signed_info: Node<'a, 'input>,
) -> Result<Vec<Reference<'a, 'input>>, XadesError> {
    children_named(signed_info, DS, "Reference")
        .map(|reference| {
            let uri = reference
                .attribute("URI")
                .filter(|uri| !uri.is_empty())
                .ok_or(XadesError::ReferenceWithoutUri)?;
            let transforms = match children_named(reference, DS, "Transforms").next() {
                Some(transforms) => children_named(transforms, DS, "Transform").collect(),
                None => Vec::new(),
            };
            let digest_value =
                only_child(reference, DS, "DigestValue", "ds:Reference/ds:DigestValue")?;
            Ok(Reference {
                uri,
                reference_type: reference.attribute("Type"),
                transforms,
                digest_method: algorithm_of(
                    reference,
                    DS,
                    "DigestMethod",
                    "ds:Reference/ds:DigestMethod",
                )?,
                digest_value: base64_text(digest_value, "ds:Reference/ds:DigestValue")?,
            })
        })
        .collect()
}

/// Every reference to a file names a file in the package, whose digest is
/// the signed one; every file in the package is covered.
fn check_files(
    references: &[Reference<'_, '_>],
    files: &[(&str, &[u8])],
) -> Result<(), XadesError> {
    let mut names = HashSet::new();
    if let Some((name, _)) = files.iter().find(|(name, _)| !names.insert(*name)) {
        return Err(XadesError::DuplicateFile((*name).to_owned()));
    }
    let mut covered = HashSet::new();
    for reference in references
        .iter()
        .filter(|reference| !reference.uri.starts_with('#'))
    {
        // The URI is a relative URI reference: a name with spaces comes percent-encoded.
        let name = percent_encoding::percent_decode_str(reference.uri)
            .decode_utf8_lossy()
            .into_owned();
        if !reference.transforms.is_empty() {
            return Err(XadesError::TransformedFile(name));
        }
        let Some((_, content)) = files.iter().find(|(file, _)| *file == name) else {
            return Err(XadesError::MissingFile(name));
        };
        if !reference.matches(content, &name)? {
            return Err(XadesError::Changed(name));
        }
        if !covered.insert(name.clone()) {
            return Err(XadesError::RepeatedReference(name));
        }
    }
    match files.iter().find(|(name, _)| !covered.contains(*name)) {
        Some((name, _)) => Err(XadesError::UnsignedFile((*name).to_owned())),
        None => Ok(()),
    }
}

/// Checks the references to elements of `signatures.xml` itself (`#Id`),
/// and returns the `xades:SignedProperties` one of them covers.
fn check_same_document_references<'a, 'input>(
    document: &'a Document<'input>,
    signature: Node<'a, 'input>,
    references: &[Reference<'a, 'input>],
) -> Result<Node<'a, 'input>, XadesError> {
    let mut signed_properties = None;
    for reference in references {
        let Some(id) = reference.uri.strip_prefix('#') else {
            continue;
        };
        let target = element_with_id(document, id)?;
        if !is_within(target, signature) {
            return Err(XadesError::ReferenceOutsideSignature(id.to_owned()));
        }
        let is_signed_properties = reference.reference_type == Some(SIGNED_PROPERTIES_TYPE);
        let part = if is_signed_properties {
            SIGNED_PROPERTIES.to_owned()
        } else {
            format!("#{id}")
        };
        let algorithm = same_document_c14n(reference, &part)?;
        let canonical = canonicalise(document, target, &algorithm, &part)?;
        if !reference.matches(&canonical, &part)? {
            return Err(XadesError::Changed(part));
        }
        if is_signed_properties {
            if !is_signatures_signed_properties(target, signature) {
                return Err(XadesError::MisplacedSignedProperties);
            }
            if signed_properties.replace(target).is_some() {
                return Err(XadesError::RepeatedPart("SignedProperties reference"));
            }
        }
    }
    signed_properties.ok_or(XadesError::NoSignedPropertiesReference)
}

/// The only element whose `Id` is `id`: an Id carried twice could let a
/// reference and the checks below look at different elements.
fn element_with_id<'a, 'input>(
    document: &'a Document<'input>,
    id: &str,
) -> Result<Node<'a, 'input>, XadesError> {
    let mut carriers = document
        .descendants()
        .filter(|node| node.is_element() && node.attribute("Id") == Some(id));
    let target = carriers
        .next()
        .ok_or_else(|| XadesError::UnresolvedReference(id.to_owned()))?;
    match carriers.next() {
        Some(_) => Err(XadesError::AmbiguousReference(id.to_owned())),
        None => Ok(target),
    }
}

fn is_within(node: Node<'_, '_>, ancestor: Node<'_, '_>) -> bool {
    node.ancestors()
        .any(|candidate| candidate.id() == ancestor.id())
}

/// Whether `target` is `ds:Signature/ds:Object/xades:QualifyingProperties/xades:SignedProperties`.
fn is_signatures_signed_properties(target: Node<'_, '_>, signature: Node<'_, '_>) -> bool {
    let qualifying_properties = target.parent_element();
    let object = qualifying_properties.and_then(|node| node.parent_element());
    is(target, XADES, "SignedProperties")
        && qualifying_properties.is_some_and(|node| is(node, XADES, "QualifyingProperties"))
        && object.is_some_and(|node| is(node, DS, "Object"))
        && object
            .and_then(|node| node.parent_element())
            .is_some_and(|node| node.id() == signature.id())
}

/// The canonicalisation a same-document reference names in its transforms:
/// at most one, a C14N algorithm; none means inclusive C14N 1.0. Comments are
/// never part of an `#Id` reference, whatever the transform says.
fn same_document_c14n(
    reference: &Reference<'_, '_>,
    part: &str,
) -> Result<C14nAlgorithm, XadesError> {
    match reference.transforms[..] {
        [] => Ok(C14nAlgorithm::new(C14nMode::Inclusive1_0, false)),
        [transform] => {
            let algorithm =
                c14n_algorithm(transform).ok_or_else(|| XadesError::UnsupportedTransform {
                    part: part.to_owned(),
                    algorithm: transform
                        .attribute("Algorithm")
                        .unwrap_or_default()
                        .to_owned(),
                })?;
            let prefixes: Vec<&str> = algorithm
                .inclusive_prefixes()
                .iter()
                .map(String::as_str)
                .collect();
            let without_comments = C14nAlgorithm::new(algorithm.mode(), false);
            Ok(if prefixes.is_empty() {
                without_comments
            } else {
                without_comments.with_prefix_list(&prefixes.join(" "))
            })
        }
        _ => Err(XadesError::UnsupportedTransform {
            part: part.to_owned(),
            algorithm: "a chain of transforms".to_owned(),
        }),
    }
}

/// The canonical form of `apex` and everything under it, in the context of
/// its document (inclusive C14N renders the namespaces it inherits).
fn canonicalise(
    document: &Document<'_>,
    apex: Node<'_, '_>,
    algorithm: &C14nAlgorithm,
    part: &str,
) -> Result<Vec<u8>, XadesError> {
    let in_subtree = |node: Node<'_, '_>| is_within(node, apex);
    let mut output = Vec::new();
    xml_sec::c14n::canonicalize(document, Some(&in_subtree), algorithm, &mut output).map_err(
        |error| XadesError::Canonicalisation {
            part: part.to_owned(),
            reason: error.to_string(),
        },
    )?;
    Ok(output)
}

/// The certificates in `ds:KeyInfo/ds:X509Data`, the signer's first.
fn certificate_chain(signature: Node<'_, '_>) -> Result<Vec<Vec<u8>>, XadesError> {
    let part = "ds:KeyInfo/ds:X509Data/ds:X509Certificate";
    let key_info = only_child(signature, DS, "KeyInfo", "ds:KeyInfo")?;
    let chain = children_named(key_info, DS, "X509Data")
        .flat_map(|data| children_named(data, DS, "X509Certificate"))
        .map(|certificate| base64_text(certificate, part))
        .collect::<Result<Vec<_>, _>>()?;
    if chain.is_empty() {
        return Err(XadesError::MissingPart(part));
    }
    Ok(chain)
}

fn signed_signature_properties<'a, 'input>(
    signed_properties: Node<'a, 'input>,
) -> Result<Node<'a, 'input>, XadesError> {
    only_child(
        signed_properties,
        XADES,
        "SignedSignatureProperties",
        "xades:SignedSignatureProperties",
    )
}

/// One of the certificates `xades:SigningCertificate` (or its V2) names by
/// digest is the signing certificate. Its IssuerSerial is not compared: the
/// digest already names exactly one certificate.
fn check_signing_certificate(
    signed_properties: Node<'_, '_>,
    signing_certificate: &[u8],
) -> Result<(), XadesError> {
    let properties = signed_signature_properties(signed_properties)?;
    let certs: Vec<Node<'_, '_>> = children_named(properties, XADES, "SigningCertificate")
        .chain(children_named(properties, XADES, "SigningCertificateV2"))
        .flat_map(|signing| children_named(signing, XADES, "Cert"))
        .collect();
    if certs.is_empty() {
        return Err(XadesError::MissingPart(
            "xades:SigningCertificate/xades:Cert",
        ));
    }
    let part = "xades:CertDigest/ds:DigestValue";
    for cert in certs {
        let cert_digest = only_child(cert, XADES, "CertDigest", "xades:CertDigest")?;
        let method = algorithm_of(
            cert_digest,
            DS,
            "DigestMethod",
            "xades:CertDigest/ds:DigestMethod",
        )?;
        let algorithm = DigestAlgorithm::from_uri(&method).ok_or_else(|| {
            XadesError::UnsupportedDigestMethod {
                part: "xades:CertDigest".to_owned(),
                algorithm: method.clone(),
            }
        })?;
        let expected = base64_text(only_child(cert_digest, DS, "DigestValue", part)?, part)?;
        if algorithm.digest(signing_certificate) == expected {
            return Ok(());
        }
    }
    Err(XadesError::SigningCertificateMismatch)
}

/// `xades:SigningTime`, an xs:dateTime; one without a time zone is taken as UTC.
fn signing_time(signed_properties: Node<'_, '_>) -> Result<Option<DateTime<Utc>>, XadesError> {
    let properties = signed_signature_properties(signed_properties)?;
    let Some(element) = children_named(properties, XADES, "SigningTime").next() else {
        return Ok(None);
    };
    let text = element.text().unwrap_or_default().trim();
    DateTime::parse_from_rfc3339(text)
        .map(|time| time.with_timezone(&Utc))
        .or_else(|_| {
            NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f").map(|time| time.and_utc())
        })
        .map(Some)
        .map_err(|_| XadesError::BadSigningTime(text.to_owned()))
}

fn check_signature_value(
    signature: Node<'_, '_>,
    signed_info: &[u8],
    method: SignatureMethod,
    signing_certificate: &[u8],
) -> Result<(), XadesError> {
    let part = "ds:SignatureValue";
    let value = base64_text(only_child(signature, DS, "SignatureValue", part)?, part)?;
    let public_key = Certificate::from_der(signing_certificate)
        .ok()
        .and_then(|certificate| {
            certificate
                .tbs_certificate
                .subject_public_key_info
                .to_der()
                .ok()
        })
        .and_then(|spki| RsaPublicKey::from_public_key_der(&spki).ok())
        .filter(|key| key.size() * 8 >= 2048)
        .ok_or(XadesError::UnsupportedKey)?;
    let verified = match method {
        SignatureMethod::RsaSha256 => verifies::<sha2::Sha256>(public_key, signed_info, &value),
        SignatureMethod::RsaSha384 => verifies::<sha2::Sha384>(public_key, signed_info, &value),
        SignatureMethod::RsaSha512 => verifies::<sha2::Sha512>(public_key, signed_info, &value),
    };
    if verified {
        Ok(())
    } else {
        Err(XadesError::BadSignatureValue)
    }
}

fn verifies<D>(public_key: RsaPublicKey, message: &[u8], signature: &[u8]) -> bool
where
    D: sha2::Digest + AssociatedOid,
{
    let Ok(signature) = pkcs1v15::Signature::try_from(signature) else {
        return false;
    };
    pkcs1v15::VerifyingKey::<D>::new(public_key)
        .verify(message, &signature)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trust::testing::TestCa;
    use app::domain::OrgNr;
    use chrono::Duration;
    use rsa::pkcs8::{EncodePrivateKey, LineEnding};
    use std::{path::Path, process::Command, sync::OnceLock};

    const SIGNER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/tools/sign_asice.py");

    /// A package's files and the signatures.xml the independent signer made.
    #[derive(Clone)]
    struct SignedPackage {
        files: Vec<(String, Vec<u8>)>,
        signatures_xml: Vec<u8>,
    }

    impl SignedPackage {
        fn file_list(&self) -> Vec<(&str, &[u8])> {
            self.files
                .iter()
                .map(|(name, content)| (name.as_str(), content.as_slice()))
                .collect()
        }

        fn verify(&self) -> Result<PackageSignature, XadesError> {
            verify(
                &self.file_list(),
                &self.signatures_xml,
                &trusted_ca().anchors(),
                Utc::now(),
            )
        }

        fn xml(&self) -> String {
            String::from_utf8(self.signatures_xml.clone()).unwrap()
        }

        fn with_xml(&self, xml: String) -> Self {
            Self {
                signatures_xml: xml.into_bytes(),
                ..self.clone()
            }
        }
    }

    fn trusted_ca() -> &'static TestCa {
        static CA: OnceLock<TestCa> = OnceLock::new();
        CA.get_or_init(|| TestCa::new("Trusted Test"))
    }

    fn org_nr() -> OrgNr {
        OrgNr::parse("974760673").unwrap()
    }

    fn letter_files() -> Vec<(String, Vec<u8>)> {
        vec![
            (
                "manifest.xml".to_owned(),
                b"<manifest><mottaker/></manifest>".to_vec(),
            ),
            (
                "hoveddokument.pdf".to_owned(),
                b"%PDF-1.7 the letter".to_vec(),
            ),
            (
                "vedlegg 1.pdf".to_owned(),
                b"%PDF-1.7 an attachment".to_vec(),
            ),
        ]
    }

    /// Signs `files` with a certificate from `ca` by running
    /// tests/tools/sign_asice.py (signxml, lxml and cryptography).
    fn sign(ca: &TestCa, files: Vec<(String, Vec<u8>)>, options: &[&str]) -> SignedPackage {
        let directory = tempfile::tempdir().unwrap();
        let package = directory.path().join("package");
        std::fs::create_dir(&package).unwrap();
        for (name, content) in &files {
            std::fs::write(package.join(name), content).unwrap();
        }
        let (key, certificate) = ca.issue(&org_nr(), Utc::now() + Duration::days(365));
        let key_path = directory.path().join("key.pem");
        let chain_path = directory.path().join("chain.pem");
        std::fs::write(
            &key_path,
            key.to_pkcs8_pem(LineEnding::LF).unwrap().as_bytes(),
        )
        .unwrap();
        std::fs::write(&chain_path, ca.chain_pem(&certificate)).unwrap();
        let out = directory.path().join("signatures.xml");
        let output = Command::new("python3")
            .arg(SIGNER)
            .args(["--key", path(&key_path), "--chain", path(&chain_path), "--out", path(&out)])
            .args(options)
            .arg(path(&package))
            .output()
            .unwrap_or_else(|error| {
                panic!("cannot run python3 ({error}): the XAdES tests sign with {SIGNER}; .ci/setup installs what it needs")
            });
        assert!(
            output.status.success(),
            "{SIGNER} failed (python3 with signxml 5.2, lxml and cryptography is needed; .ci/setup installs them):\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        SignedPackage {
            files,
            signatures_xml: std::fs::read(out).unwrap(),
        }
    }

    fn path(path: &Path) -> &str {
        path.to_str().unwrap()
    }

    /// One package signed once, for the tests that tamper with a copy.
    fn signed_letter() -> &'static SignedPackage {
        static PACKAGE: OnceLock<SignedPackage> = OnceLock::new();
        PACKAGE.get_or_init(|| sign(trusted_ca(), letter_files(), &[]))
    }

    #[test]
    fn a_package_signed_as_dpi_asks_verifies_and_names_the_sender() {
        let signature = signed_letter().verify().unwrap();
        assert_eq!(signature.signer.org_nr, org_nr());
        let signing_time = signature
            .signing_time
            .expect("signxml writes a SigningTime");
        assert!(
            (Utc::now() - signing_time).num_minutes().abs() < 10,
            "{signing_time}"
        );
    }

    #[test]
    fn every_canonicalisation_and_rsa_hash_dpi_allows_verifies() {
        for options in [
            &["--c14n", "1.0", "--cert-digest", "sha1"][..],
            &["--c14n", "exclusive", "--signature-method", "rsa-sha512"][..],
        ] {
            let package = sign(trusted_ca(), letter_files(), options);
            let signature = package
                .verify()
                .unwrap_or_else(|error| panic!("{options:?}: {error}"));
            assert_eq!(signature.signer.org_nr, org_nr());
        }
    }

    #[test]
    fn a_changed_byte_in_a_document_is_refused_naming_it() {
        let mut package = signed_letter().clone();
        package.files[1].1[3] ^= 1;
        let error = package.verify().unwrap_err();
        assert_eq!(error, XadesError::Changed("hoveddokument.pdf".to_owned()));
        assert_eq!(
            error.to_string(),
            "hoveddokument.pdf was changed after it was signed"
        );
    }

    #[test]
    fn an_added_file_is_refused_naming_it() {
        let mut package = signed_letter().clone();
        package
            .files
            .push(("extra.pdf".to_owned(), b"%PDF-1.7 smuggled".to_vec()));
        let error = package.verify().unwrap_err();
        assert_eq!(error, XadesError::UnsignedFile("extra.pdf".to_owned()));
        assert!(error.to_string().contains("extra.pdf was added"), "{error}");
    }

    #[test]
    fn a_removed_file_is_refused_naming_it() {
        let mut package = signed_letter().clone();
        package.files.remove(2);
        let error = package.verify().unwrap_err();
        assert_eq!(error, XadesError::MissingFile("vedlegg 1.pdf".to_owned()));
    }

    #[test]
    fn edited_signed_properties_are_refused() {
        let package = signed_letter();
        let xml = package.xml();
        let start = xml.find("<xades:SigningTime>").unwrap() + "<xades:SigningTime>".len();
        let end = xml.find("</xades:SigningTime>").unwrap();
        let edited = format!("{}2020-01-01T00:00:00+00:00{}", &xml[..start], &xml[end..]);
        let error = package.with_xml(edited).verify().unwrap_err();
        assert_eq!(error, XadesError::Changed(SIGNED_PROPERTIES.to_owned()));
    }

    #[test]
    fn an_edited_signature_value_is_refused() {
        let package = signed_letter();
        let xml = package.xml();
        let start = xml.find("<ds:SignatureValue>").unwrap() + "<ds:SignatureValue>".len();
        let replacement = if &xml[start..start + 1] == "A" {
            "B"
        } else {
            "A"
        };
        let edited = format!("{}{replacement}{}", &xml[..start], &xml[start + 1..]);
        let error = package.with_xml(edited).verify().unwrap_err();
        assert_eq!(error, XadesError::BadSignatureValue);
    }

    #[test]
    fn another_certificate_than_the_signed_one_is_refused() {
        // Same key, other certificate: only SigningCertificate's digest tells.
        let package = signed_letter();
        let (_, other) = trusted_ca().issue(
            &OrgNr::parse("991825827").unwrap(),
            Utc::now() + Duration::days(30),
        );
        let xml = package.xml();
        let start = xml.find("<ds:X509Certificate>").unwrap() + "<ds:X509Certificate>".len();
        let end = xml.find("</ds:X509Certificate>").unwrap();
        let encoded = base64::engine::general_purpose::STANDARD.encode(other);
        let edited = format!("{}{encoded}{}", &xml[..start], &xml[end..]);
        let error = package.with_xml(edited).verify().unwrap_err();
        assert_eq!(error, XadesError::SigningCertificateMismatch);
    }

    #[test]
    fn a_certificate_from_an_unknown_authority_is_refused() {
        let stranger = TestCa::new("Unknown Test");
        let package = sign(&stranger, letter_files(), &[]);
        let error = package.verify().unwrap_err();
        assert_eq!(error, XadesError::Untrusted(TrustError::UnknownIssuer));
        assert_eq!(
            error.to_string(),
            "the signing certificate is not trusted: the certificate is not issued by a trusted certificate authority"
        );
    }

    #[test]
    fn a_document_that_is_not_a_single_signature_is_refused() {
        let anchors = trusted_ca().anchors();
        let not_xml = verify(&[], b"<asic:XAdESSignatures", &anchors, Utc::now()).unwrap_err();
        assert!(matches!(not_xml, XadesError::NotXml(_)), "{not_xml:?}");
        let wrong_root = verify(&[], b"<signatures/>", &anchors, Utc::now()).unwrap_err();
        assert_eq!(wrong_root, XadesError::NotXadesSignatures);
        let empty = format!(r#"<asic:XAdESSignatures xmlns:asic="{ASIC}"/>"#);
        let none = verify(&[], empty.as_bytes(), &anchors, Utc::now()).unwrap_err();
        assert_eq!(none, XadesError::SignatureCount(0));
    }

    #[test]
    fn a_signature_method_other_than_rsa_is_refused() {
        let package = signed_letter();
        let edited = package.xml().replacen(
            "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
            "http://www.w3.org/2000/09/xmldsig#hmac-sha1",
            1,
        );
        let error = package.with_xml(edited).verify().unwrap_err();
        assert!(
            matches!(error, XadesError::UnsupportedSignatureMethod(_)),
            "{error:?}"
        );
    }
}
