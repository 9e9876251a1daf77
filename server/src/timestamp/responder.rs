//! Postkasse's own timestamp authority (RFC 3161), for the demo, for tests,
//! and for operators who have no TSA: it answers a TimeStampReq with a
//! TimeStampResp whose token is a CMS SignedData over a TSTInfo, signed with
//! a key whose certificate allows nothing but timestamping (see
//! [`timestamping_certificate`] and [`crate::keys::LocalCa`]).
//!
//! Its timestamps are only as trustworthy as the server's clock and the
//! operator's care of the key: verifiers trust them by trusting the CA that
//! issued its certificate, nothing more.
//!
//! [`routes`] serves it as `POST /tsa` (RFC 3161 §3.4).

use super::{is_media_type, positive_int, ID_CT_TST_INFO, QUERY_MEDIA_TYPE, REPLY_MEDIA_TYPE};
use crate::{
    clock::Clock,
    http::ApiError,
    keys::{self, CertificatePurpose},
};
use anyhow::Context;
use axum::{
    body::Bytes,
    extract::{rejection::BytesRejection, DefaultBodyLimit, FromRef, State},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
    Router,
};
use cms::{
    builder::{SignedDataBuilder, SignerInfoBuilder},
    cert::{CertificateChoices, IssuerAndSerialNumber},
    content_info::ContentInfo,
    signed_data::{EncapsulatedContentInfo, SignerIdentifier},
};
use der::{
    asn1::{BitString, GeneralizedTime, ObjectIdentifier, Utf8StringRef},
    Any, Decode, Encode, Tag,
};
use rsa::{pkcs1v15::SigningKey, RsaPrivateKey};
use sha2::Sha256;
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use std::{sync::Arc, time::Duration};
use x509_cert::{attr::Attribute, ext::pkix::name::GeneralName, Certificate};
use x509_tsp::{Accuracy, TimeStampReq, TspVersion, TstInfo};

/// The TSA policy Postkasse's own timestamps are issued under. An OID under
/// the private-enterprise arc that is not registered to Postkasse: it names
/// "Postkasse's built-in TSA, no further promises", for demo and tests. An
/// operator who needs a registered policy uses a real TSA.
pub const POLICY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.99999.1.1");

/// A timestamp request is about a hundred bytes; room for extensions.
pub const MAX_REQUEST_BYTES: usize = 16 * 1024;

/// PKIFailureInfo bits (RFC 3161 §2.4.2) the responder answers with.
const BAD_ALG: u8 = 0;
const BAD_REQUEST: u8 = 2;
const UNACCEPTED_POLICY: u8 = 15;
const UNACCEPTED_EXTENSION: u8 = 16;
const SYSTEM_FAILURE: u8 = 25;

/// Postkasse's timestamp authority: its key, its certificate (with the
/// critical extended key usage timeStamping), the intermediates a verifier
/// needs, and the clock it reads the time from.
pub struct TimestampResponder {
    key: RsaPrivateKey,
    certificate: Certificate,
    chain: Vec<Certificate>,
    clock: Arc<dyn Clock>,
    /// The ESS signing-certificate-v2 attribute naming `certificate`: the
    /// same in every token, so made once.
    signing_certificate: Attribute,
}

impl TimestampResponder {
    /// A TSA signing with `key` for `certificate`, which must be `key`'s;
    /// `chain` is the intermediates between it and the trust anchor (none
    /// for a certificate from [`crate::keys::LocalCa`]).
    pub fn new(
        key: RsaPrivateKey,
        certificate: Certificate,
        chain: Vec<Certificate>,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Self> {
        // Tokens signed with another key than the certificate's verify
        // nowhere, and only the verifier would notice.
        let public_key = SubjectPublicKeyInfoOwned::from_key(key.to_public_key())?;
        anyhow::ensure!(
            certificate.tbs_certificate.subject_public_key_info == public_key,
            "the timestamping certificate is not for the timestamping key"
        );
        let signing_certificate = crate::seal::signing_certificate_v2(&certificate)?;
        Ok(Self {
            key,
            certificate,
            chain,
            clock,
            signing_certificate,
        })
    }

    /// The TSA's certificate.
    pub fn certificate(&self) -> &Certificate {
        &self.certificate
    }

    /// The DER TimeStampResp to the DER TimeStampReq `request_der`: granted
    /// with a token for a well-formed request with a SHA-256, SHA-384 or
    /// SHA-512 imprint; otherwise a rejection with its failInfo (badRequest,
    /// badAlg, unacceptedPolicy, unacceptedExtension) and no token.
    ///
    /// CPU-bound (an RSA signature): async callers run it in
    /// `tokio::task::spawn_blocking`.
    pub fn respond(&self, request_der: &[u8]) -> Vec<u8> {
        let answer = self.grant(request_der).and_then(|request| {
            self.token(&request).map_err(|error| {
                tracing::error!(
                    error = format!("{error:#}"),
                    "cannot make a timestamp token"
                );
                Refusal::new(SYSTEM_FAILURE, "the timestamp could not be made")
            })
        });
        let encoded = match answer {
            Ok(token) => granted(&token),
            Err(refusal) => refusal.response(),
        };
        // Encoding values that were just built or decoded cannot fail but
        // for a bug; the client must still get an answer it can read.
        encoded.unwrap_or_else(|error| {
            tracing::error!(error = %error, "cannot encode a timestamp response");
            Refusal::new(SYSTEM_FAILURE, "the timestamp could not be made")
                .response()
                .expect("a fixed rejection encodes")
        })
    }

    /// The request, if this TSA grants it.
    fn grant(&self, request_der: &[u8]) -> Result<TimeStampReq, Refusal> {
        let request = TimeStampReq::from_der(request_der)
            .map_err(|_| Refusal::new(BAD_REQUEST, "the request is not a DER TimeStampReq"))?;
        let imprint = &request.message_imprint;
        let algorithm = AlgorithmIdentifierOwned {
            oid: imprint.hash_algorithm.oid,
            parameters: imprint.hash_algorithm.parameters.clone(),
        };
        let length = [
            (const_oid::db::rfc5912::ID_SHA_256, 32),
            (const_oid::db::rfc5912::ID_SHA_384, 48),
            (const_oid::db::rfc5912::ID_SHA_512, 64),
        ]
        .into_iter()
        .find(|(oid, _)| super::is_sha(&algorithm, *oid))
        .map(|(_, length)| length)
        .ok_or_else(|| {
            Refusal::new(
                BAD_ALG,
                "the imprint's hash algorithm is not SHA-256, SHA-384 or SHA-512",
            )
        })?;
        if imprint.hashed_message.as_bytes().len() != length {
            return Err(Refusal::new(
                BAD_REQUEST,
                "the imprint's length is not its hash algorithm's",
            ));
        }
        if request.req_policy.is_some_and(|policy| policy != POLICY) {
            return Err(Refusal::new(
                UNACCEPTED_POLICY,
                "this TSA issues timestamps under its own policy only",
            ));
        }
        // No extension is understood, so none can be honoured (§2.4.2).
        if request
            .extensions
            .as_ref()
            .is_some_and(|extensions| !extensions.is_empty())
        {
            return Err(Refusal::new(
                UNACCEPTED_EXTENSION,
                "this TSA supports no request extensions",
            ));
        }
        Ok(request)
    }

    /// The TimeStampToken for a granted `request`.
    fn token(&self, request: &TimeStampReq) -> anyhow::Result<ContentInfo> {
        // Whole seconds: DER's GeneralizedTime here has no fraction, and the
        // accuracy below covers what is cut off.
        let seconds =
            u64::try_from(self.clock.now().timestamp()).context("the clock is before 1970")?;
        let serial = {
            let mut bytes = rand::random::<[u8; 16]>();
            // 128 bits, not fewer: a zero first octet would shorten it.
            bytes[0] = bytes[0].max(1);
            positive_int(&bytes)
        };
        let tst_info = TstInfo {
            version: TspVersion::V1,
            policy: POLICY,
            message_imprint: request.message_imprint.clone(),
            serial_number: serial,
            gen_time: GeneralizedTime::from_unix_duration(Duration::from_secs(seconds))?,
            accuracy: Some(Accuracy {
                seconds: Some(1),
                millis: None,
                micros: None,
            }),
            ordering: false,
            nonce: request.nonce.clone(),
            tsa: Some(GeneralName::DirectoryName(
                self.certificate.tbs_certificate.subject.clone(),
            )),
            extensions: None,
        };
        let content = EncapsulatedContentInfo {
            econtent_type: ID_CT_TST_INFO,
            econtent: Some(Any::new(Tag::OctetString, tst_info.to_der()?)?),
        };
        let sha256 = AlgorithmIdentifierOwned {
            oid: const_oid::db::rfc5912::ID_SHA_256,
            parameters: None,
        };
        let signer = SigningKey::<Sha256>::new(self.key.clone());
        let sid = SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: self.certificate.tbs_certificate.issuer.clone(),
            serial_number: self.certificate.tbs_certificate.serial_number.clone(),
        });
        // No external digest: the builder hashes the TSTInfo itself and adds
        // the content-type and message-digest attributes.
        let mut signer_info = SignerInfoBuilder::new(&signer, sid, sha256.clone(), &content, None)
            .map_err(|error| anyhow::anyhow!("the signer info: {error}"))?;
        signer_info
            .add_signed_attribute(self.signing_certificate.clone())
            .map_err(|error| anyhow::anyhow!("the signed attributes: {error}"))?;
        let mut signed = SignedDataBuilder::new(&content);
        signed
            .add_digest_algorithm(sha256)
            .map_err(|error| anyhow::anyhow!("the digest algorithm: {error}"))?;
        if request.cert_req {
            for certificate in std::iter::once(&self.certificate).chain(&self.chain) {
                signed
                    .add_certificate(CertificateChoices::Certificate(certificate.clone()))
                    .map_err(|error| anyhow::anyhow!("the certificates: {error}"))?;
            }
        }
        signed
            .add_signer_info::<_, rsa::pkcs1v15::Signature>(signer_info)
            .map_err(|error| anyhow::anyhow!("signing: {error}"))?
            .build()
            .map_err(|error| anyhow::anyhow!("the signed data: {error}"))
    }
}

/// A refused request: the failInfo bit and a statusString for people.
struct Refusal {
    bit: u8,
    text: &'static str,
}

impl Refusal {
    fn new(bit: u8, text: &'static str) -> Self {
        Self { bit, text }
    }

    /// TimeStampResp with status rejection(2), the text and the bit.
    ///
    /// Encoded here rather than with x509-tsp's `TimeStampResp`: its
    /// PKIStatusInfo is cmpv2's, whose failInfo flags are declared as masks
    /// where RFC 4210 gives bit numbers (badAlg would be no bit at all, and
    /// badRequest bit 1), and cmpv2 is not a dependency of this crate.
    fn response(&self) -> der::Result<Vec<u8>> {
        // A named bit list in DER ends at its last set bit.
        let mut bits = vec![0u8; usize::from(self.bit / 8) + 1];
        bits[usize::from(self.bit / 8)] = 0x80 >> (self.bit % 8);
        let fail_info = BitString::new(7 - self.bit % 8, bits)?;
        let status_info = vec![
            Any::encode_from(&2u8)?,
            Any::encode_from(&vec![Utf8StringRef::new(self.text)?])?,
            Any::encode_from(&fail_info)?,
        ];
        vec![Any::encode_from(&status_info)?].to_der()
    }
}

/// TimeStampResp with status granted(0) and `token`.
fn granted(token: &ContentInfo) -> der::Result<Vec<u8>> {
    let status_info = vec![Any::encode_from(&0u8)?];
    vec![Any::encode_from(&status_info)?, Any::encode_from(token)?].to_der()
}

/// A certificate for a timestamp authority's `key`, issued by `issuer` (with
/// `issuer_key`) under the common name `name`: valid five years (at most as
/// long as the issuer), key usage digitalSignature and nonRepudiation, and
/// the extended key usage id-kp-timeStamping, critical, as RFC 3161 §2.3
/// requires. See [`crate::keys::issue`].
pub fn timestamping_certificate(
    key: &RsaPrivateKey,
    issuer_key: &RsaPrivateKey,
    issuer: &Certificate,
    name: &str,
) -> anyhow::Result<Certificate> {
    keys::issue(
        key,
        name,
        None,
        CertificatePurpose::Timestamping,
        issuer_key,
        issuer,
    )
}

/// `POST /tsa`: a DER TimeStampReq of type `application/timestamp-query`
/// (at most [`MAX_REQUEST_BYTES`]) in, a DER TimeStampResp of type
/// `application/timestamp-reply` out, 200 even for a rejection, as RFC 3161
/// §3.4 has it. A body of another type is a 415 problem.
pub fn routes<S>() -> Router<S>
where
    Arc<TimestampResponder>: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    Router::new().route(
        "/tsa",
        post(answer).layer(DefaultBodyLimit::max(MAX_REQUEST_BYTES)),
    )
}

async fn answer(
    State(responder): State<Arc<TimestampResponder>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let media_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    if !is_media_type(media_type, QUERY_MEDIA_TYPE) {
        return Err(ApiError::UnsupportedMediaType {
            expected: QUERY_MEDIA_TYPE,
        });
    }
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge {
                limit: Some(MAX_REQUEST_BYTES),
            }
        } else {
            ApiError::invalid("body", rejection.body_text())
        }
    })?;
    let reply = tokio::task::spawn_blocking(move || responder.respond(&body))
        .await
        .context("the timestamp responder's task failed")?;
    Ok((
        [
            (header::CONTENT_TYPE, REPLY_MEDIA_TYPE),
            (header::CACHE_CONTROL, "no-store"),
        ],
        reply,
    )
        .into_response())
}

/// A TSA for tests: a [`crate::keys::LocalCa`] in `directory/ca` (its
/// certificate `ca.pem` there) and a timestamping key and certificate beside
/// it (`tsa-key.pem`, `tsa.pem`).
#[cfg(test)]
pub(super) fn test_responder(
    directory: &std::path::Path,
    clock: Arc<dyn Clock>,
) -> (keys::LocalCa, TimestampResponder) {
    let ca = keys::LocalCa::load_or_generate(&directory.join("ca"), "Postkasse Test CA")
        .expect("a local CA");
    let (key, certificate) = ca
        .load_or_issue(
            "tsa",
            "Postkasse Test TSA",
            None,
            CertificatePurpose::Timestamping,
        )
        .expect("a timestamping certificate");
    let responder =
        TimestampResponder::new(key, certificate, vec![], clock).expect("a timestamp responder");
    (ca, responder)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::SystemClock;
    use axum::body::Body;
    use der::Tagged;
    use std::{path::Path, process::Command};
    use tower::ServiceExt;
    use x509_tsp::MessageImprint;

    fn responder(directory: &Path) -> TimestampResponder {
        test_responder(directory, Arc::new(SystemClock)).1
    }

    /// Runs openssl in `directory`; its status and its output, both streams.
    fn openssl(directory: &Path, arguments: &[&str]) -> (bool, String) {
        let output = Command::new("/usr/bin/openssl")
            .args(arguments)
            .current_dir(directory)
            .output()
            .expect("openssl runs");
        let text = String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr);
        (output.status.success(), text)
    }

    /// The line of openssl's text output that starts with `label`.
    fn line<'a>(text: &'a str, label: &str) -> &'a str {
        text.lines()
            .find(|line| line.trim_start().starts_with(label))
            .unwrap_or_else(|| panic!("no {label} in {text}"))
            .trim()
    }

    /// A request with `oid` and `hash` as its imprint.
    fn request_with(oid: ObjectIdentifier, hash: &[u8]) -> Vec<u8> {
        TimeStampReq {
            version: TspVersion::V1,
            message_imprint: MessageImprint {
                hash_algorithm: AlgorithmIdentifierOwned {
                    oid,
                    parameters: None,
                },
                hashed_message: der::asn1::OctetString::new(hash).unwrap(),
            },
            req_policy: None,
            nonce: None,
            cert_req: true,
            extensions: None,
        }
        .to_der()
        .unwrap()
    }

    /// A reply's status, failInfo bits and whether it has a token, read
    /// without the module's own reader, so a mistake there cannot hide one here.
    fn status_of(reply: &[u8]) -> (u8, Vec<usize>, bool) {
        let fields: Vec<Any> = Vec::from_der(reply).unwrap();
        let status_info: Vec<Any> = fields[0].decode_as().unwrap();
        let status: u8 = status_info[0].decode_as().unwrap();
        let bits = status_info
            .iter()
            .find(|field| field.tag() == Tag::BitString)
            .map(|field| {
                let bits: BitString = field.decode_as().unwrap();
                bits.bits()
                    .enumerate()
                    .filter(|(_, set)| *set)
                    .map(|(bit, _)| bit)
                    .collect()
            })
            .unwrap_or_default();
        (status, bits, fields.len() > 1)
    }

    #[test]
    fn openssl_verifies_the_responders_timestamp_token() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path();
        let responder = responder(path);
        std::fs::write(path.join("data.txt"), "Kvittering for svar\n").unwrap();
        std::fs::write(path.join("other.txt"), "Kvittering for noe annet\n").unwrap();

        for digest in ["-sha256", "-sha384", "-sha512"] {
            let (made, text) = openssl(
                path,
                &[
                    "ts", "-query", "-data", "data.txt", digest, "-cert", "-out", "req.tsq",
                ],
            );
            assert!(made, "{text}");
            let reply = responder.respond(&std::fs::read(path.join("req.tsq")).unwrap());
            std::fs::write(path.join("resp.tsr"), reply).unwrap();

            let verify = |data: &str| {
                openssl(
                    path,
                    &[
                        "ts",
                        "-verify",
                        "-data",
                        data,
                        "-in",
                        "resp.tsr",
                        "-CAfile",
                        "ca/ca.pem",
                        "-untrusted",
                        "ca/tsa.pem",
                    ],
                )
            };
            let (verified, text) = verify("data.txt");
            assert!(
                verified && text.contains("Verification: OK"),
                "{digest}: {text}"
            );
            let (verified, text) = verify("other.txt");
            assert!(
                !verified,
                "{digest}: a token over other data verifies: {text}"
            );

            // The query file checks the imprint, the nonce and the version.
            let (verified, text) = openssl(
                path,
                &[
                    "ts",
                    "-verify",
                    "-queryfile",
                    "req.tsq",
                    "-in",
                    "resp.tsr",
                    "-CAfile",
                    "ca/ca.pem",
                    "-untrusted",
                    "ca/tsa.pem",
                ],
            );
            assert!(verified, "{digest}: {text}");

            let (_, query) = openssl(path, &["ts", "-query", "-in", "req.tsq", "-text"]);
            let (_, reply) = openssl(path, &["ts", "-reply", "-in", "resp.tsr", "-text"]);
            assert_eq!(line(&reply, "Status:"), "Status: Granted.");
            assert_eq!(
                line(&reply, "Policy OID:"),
                "Policy OID: 1.3.6.1.4.1.99999.1.1"
            );
            assert_eq!(line(&reply, "Nonce:"), line(&query, "Nonce:"));
            assert_eq!(line(&reply, "Ordering:"), "Ordering: no");
        }
    }

    #[test]
    fn the_timestamping_certificate_allows_timestamping_alone_and_critically() {
        let directory = tempfile::tempdir().unwrap();
        let responder = responder(directory.path());
        let extensions = responder
            .certificate()
            .tbs_certificate
            .extensions
            .clone()
            .unwrap();
        let usage = extensions
            .iter()
            .find(|extension| extension.extn_id == const_oid::db::rfc5280::ID_CE_EXT_KEY_USAGE)
            .expect("an extended key usage");
        assert!(usage.critical, "RFC 3161 §2.3: critical");
        let purposes =
            x509_cert::ext::pkix::ExtendedKeyUsage::from_der(usage.extn_value.as_bytes()).unwrap();
        assert_eq!(purposes.0, [const_oid::db::rfc5280::ID_KP_TIME_STAMPING]);
        // openssl agrees it is a timestamp signer's.
        let (verified, text) = openssl(
            directory.path(),
            &[
                "verify",
                "-purpose",
                "timestampsign",
                "-CAfile",
                "ca/ca.pem",
                "ca/tsa.pem",
            ],
        );
        assert!(verified, "{text}");
    }

    #[test]
    fn an_md5_imprint_is_rejected_as_a_bad_algorithm_without_a_token() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path();
        let reply =
            responder(path).respond(&request_with(const_oid::db::rfc5912::ID_MD_5, &[1; 16]));

        assert_eq!(status_of(&reply), (2, vec![usize::from(BAD_ALG)], false));
        // And openssl reads it the same way.
        std::fs::write(path.join("resp.tsr"), &reply).unwrap();
        let (_, text) = openssl(path, &["ts", "-reply", "-in", "resp.tsr", "-text"]);
        assert_eq!(line(&text, "Status:"), "Status: Rejected.");
        assert!(
            text.contains("unrecognized or unsupported algorithm identifier"),
            "{text}"
        );
        assert!(text.contains("TST info:\nNot included."), "{text}");
    }

    #[test]
    fn garbage_is_rejected_as_a_bad_request_without_a_token() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path();
        let reply = responder(path).respond(b"\x30\x03garbage");

        assert_eq!(
            status_of(&reply),
            (2, vec![usize::from(BAD_REQUEST)], false)
        );
        std::fs::write(path.join("resp.tsr"), &reply).unwrap();
        let (_, text) = openssl(path, &["ts", "-reply", "-in", "resp.tsr", "-text"]);
        assert!(
            text.contains("transaction not permitted or supported"),
            "{text}"
        );
    }

    #[test]
    fn a_sha256_imprint_of_the_wrong_length_is_a_bad_request() {
        let directory = tempfile::tempdir().unwrap();
        let reply = responder(directory.path())
            .respond(&request_with(const_oid::db::rfc5912::ID_SHA_256, &[1; 31]));
        assert_eq!(
            status_of(&reply),
            (2, vec![usize::from(BAD_REQUEST)], false)
        );
    }

    #[test]
    fn another_policy_or_an_extension_is_rejected() {
        let directory = tempfile::tempdir().unwrap();
        let responder = responder(directory.path());
        let mut request =
            TimeStampReq::from_der(&request_with(const_oid::db::rfc5912::ID_SHA_256, &[1; 32]))
                .unwrap();
        request.req_policy = Some(ObjectIdentifier::new_unwrap("1.2.3.4"));
        let reply = responder.respond(&request.to_der().unwrap());
        assert_eq!(
            status_of(&reply),
            (2, vec![usize::from(UNACCEPTED_POLICY)], false)
        );

        request.req_policy = Some(POLICY);
        let reply = responder.respond(&request.to_der().unwrap());
        assert_eq!(
            status_of(&reply),
            (0, vec![], true),
            "its own policy is granted"
        );
    }

    #[test]
    fn without_cert_req_the_token_carries_no_certificate() {
        let directory = tempfile::tempdir().unwrap();
        let responder = responder(directory.path());
        let mut request =
            TimeStampReq::from_der(&request_with(const_oid::db::rfc5912::ID_SHA_256, &[1; 32]))
                .unwrap();
        let certificates = |request: &TimeStampReq| {
            let reply = responder.respond(&request.to_der().unwrap());
            let fields: Vec<Any> = Vec::from_der(&reply).unwrap();
            let token: ContentInfo = fields[1].decode_as().unwrap();
            let signed: cms::signed_data::SignedData = token.content.decode_as().unwrap();
            assert_eq!(signed.version, cms::content_info::CmsVersion::V3);
            signed.certificates.map_or(0, |set| set.0.len())
        };
        assert_eq!(certificates(&request), 1);
        request.cert_req = false;
        assert_eq!(certificates(&request), 0);
    }

    #[tokio::test]
    async fn the_route_takes_timestamp_queries_only() {
        let directory = tempfile::tempdir().unwrap();
        let router: Router = routes().with_state(Arc::new(responder(directory.path())));
        let post = |content_type: &str, body: Vec<u8>| {
            axum::http::Request::post("/tsa")
                .header(header::CONTENT_TYPE, content_type)
                .body(Body::from(body))
                .unwrap()
        };
        let query = request_with(const_oid::db::rfc5912::ID_SHA_256, &[1; 32]);

        let answer = router
            .clone()
            .oneshot(post("application/octet-stream", query.clone()))
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert_eq!(
            answer.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );

        let answer = router
            .clone()
            .oneshot(post(QUERY_MEDIA_TYPE, vec![0; MAX_REQUEST_BYTES + 1]))
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::PAYLOAD_TOO_LARGE);

        let answer = router.oneshot(post(QUERY_MEDIA_TYPE, query)).await.unwrap();
        assert_eq!(answer.status(), StatusCode::OK);
        assert_eq!(answer.headers()[header::CONTENT_TYPE], REPLY_MEDIA_TYPE);
        let reply = axum::body::to_bytes(answer.into_body(), usize::MAX)
            .await
            .unwrap();
        assert_eq!(status_of(&reply), (0, vec![], true));
    }
}
