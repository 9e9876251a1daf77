//! RFC 3161 timestamps: asking a timestamp authority (TSA) to vouch for the
//! time a signature existed (PAdES B-T), and answering such requests as
//! Postkasse's own TSA where the operator runs none.
//!
//! - [`TimestampAuthority`]: a token over a SHA-256 digest;
//!   [`HttpTimestampAuthority`] asks a TSA over HTTP (RFC 3161 §3.4),
//!   [`LocalTimestampAuthority`] asks Postkasse's own in-process.
//! - [`read_token`]: what a token says (time, serial, imprint, policy).
//! - [`responder`]: Postkasse's own TSA, and its `POST /tsa` route.
//!
//! Nothing here verifies a token's signature: the token is a CMS SignedData,
//! checked where every CMS signature is. The client checks only that the
//! answer is the one it asked for (nonce and imprint), which the signature
//! cannot tell it.
//!
//! Tokens are read leniently where RFC 3161 is looser than DER's
//! RFC 5280-flavoured types: `genTime` may carry fractional seconds (many
//! TSAs send milliseconds), and a refusal's `failInfo` may name any bit.

pub mod responder;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDateTime, Utc};
use cms::{content_info::ContentInfo, signed_data::SignedData};
use der::{
    asn1::{BitString, Int, ObjectIdentifier, Uint, Utf8StringRef},
    Any, Decode, Encode, Reader, SliceReader, Tag, Tagged,
};
use spki::AlgorithmIdentifierOwned;
use std::time::Duration;
use x509_tsp::{MessageImprint, TimeStampReq, TspVersion};

/// id-ct-TSTInfo (RFC 3161 §2.4.2): the eContentType of a timestamp token.
/// const-oid's database does not name it.
pub const ID_CT_TST_INFO: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");

/// The media type of a timestamp request (RFC 3161 §3.4).
pub const QUERY_MEDIA_TYPE: &str = "application/timestamp-query";
/// The media type of a timestamp response (RFC 3161 §3.4).
pub const REPLY_MEDIA_TYPE: &str = "application/timestamp-reply";

/// How long a TSA has to answer, connecting included.
const TIMEOUT: Duration = Duration::from_secs(10);
/// A reply is a token with a certificate chain: a few kilobytes. Anything
/// far larger is not a timestamp reply, and is not read into memory whole.
const MAX_REPLY_BYTES: usize = 256 * 1024;

/// Why no timestamp was had. The messages can be logged as they stand.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimestampError {
    /// The TSA did not answer with a timestamp reply: network, timeout, or
    /// an HTTP error status. Possibly passing; trying again may help.
    #[error("the timestamp authority cannot be reached: {0}")]
    Unreachable(String),
    /// The TSA answered, and refused: `status` is the PKIStatus (2 is
    /// rejection, 3 waiting, …), `text` its statusString and failInfo.
    #[error("the timestamp authority refused (status {status}): {text}")]
    Refused { status: u32, text: String },
    /// The answer, or the token, is not what RFC 3161 describes.
    #[error("the timestamp reply is malformed: {0}")]
    Malformed(String),
    /// A well-formed token, but not for what was asked: another nonce or
    /// another message imprint.
    #[error("the timestamp does not match the request: {0}")]
    Mismatch(String),
}

/// A timestamp authority: something that vouches, with its signature, that
/// a digest existed at a time.
#[async_trait]
pub trait TimestampAuthority: Send + Sync + 'static {
    /// The RFC 3161 TimeStampToken (a CMS ContentInfo, DER) over `sha256`,
    /// the SHA-256 of the stamped data.
    async fn timestamp(&self, sha256: [u8; 32]) -> Result<Vec<u8>, TimestampError>;
}

/// A TSA asked over HTTP (RFC 3161 §3.4): a POST of the DER request,
/// answered with the DER response.
#[derive(Debug, Clone)]
pub struct HttpTimestampAuthority {
    url: url::Url,
    client: reqwest::Client,
}

impl HttpTimestampAuthority {
    /// The TSA at `url`, asked with `client` (each request has its own
    /// ten-second timeout, whatever the client's).
    pub fn new(url: url::Url, client: reqwest::Client) -> Self {
        Self { url, client }
    }

    /// The reply's bytes, refused if it is not a timestamp reply.
    async fn exchange(&self, request: Vec<u8>) -> Result<Vec<u8>, TimestampError> {
        // Without the URL: a TSA's address may carry credentials, and
        // these messages are logged.
        let unreachable =
            |error: reqwest::Error| TimestampError::Unreachable(error.without_url().to_string());
        let mut response = self
            .client
            .post(self.url.clone())
            .header(reqwest::header::CONTENT_TYPE, QUERY_MEDIA_TYPE)
            .header(reqwest::header::ACCEPT, REPLY_MEDIA_TYPE)
            .timeout(TIMEOUT)
            .body(request)
            .send()
            .await
            .map_err(unreachable)?;
        let status = response.status();
        if !status.is_success() {
            return Err(TimestampError::Unreachable(format!(
                "{} answered HTTP {status}",
                self.url.host_str().unwrap_or("the timestamp authority")
            )));
        }
        let media_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("");
        if !is_media_type(media_type, REPLY_MEDIA_TYPE) {
            return Err(TimestampError::Malformed(format!(
                "the answer is {media_type:?}, not {REPLY_MEDIA_TYPE}"
            )));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(unreachable)? {
            if body.len() + chunk.len() > MAX_REPLY_BYTES {
                return Err(TimestampError::Malformed(format!(
                    "the answer is larger than {MAX_REPLY_BYTES} bytes"
                )));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

#[async_trait]
impl TimestampAuthority for HttpTimestampAuthority {
    async fn timestamp(&self, sha256: [u8; 32]) -> Result<Vec<u8>, TimestampError> {
        let (request, nonce) = request(&sha256);
        let reply = self.exchange(request).await?;
        checked_token(&reply, &nonce, &sha256)
    }
}

/// Postkasse's own TSA asked in-process, without an HTTP round trip to
/// itself: for operators who serve the TSA and sign with it. Its replies are
/// checked as an outside TSA's are.
#[derive(Clone)]
pub struct LocalTimestampAuthority {
    responder: std::sync::Arc<responder::TimestampResponder>,
}

impl LocalTimestampAuthority {
    /// Asks `responder`.
    pub fn new(responder: std::sync::Arc<responder::TimestampResponder>) -> Self {
        Self { responder }
    }
}

#[async_trait]
impl TimestampAuthority for LocalTimestampAuthority {
    async fn timestamp(&self, sha256: [u8; 32]) -> Result<Vec<u8>, TimestampError> {
        let (request, nonce) = request(&sha256);
        let responder = self.responder.clone();
        // An RSA signature: off the async runtime.
        let reply = tokio::task::spawn_blocking(move || responder.respond(&request))
            .await
            .map_err(|error| {
                TimestampError::Unreachable(format!("the timestamp responder's task: {error}"))
            })?;
        checked_token(&reply, &nonce, &sha256)
    }
}

/// A DER TimeStampReq for `sha256`, asking for the TSA's certificate, and
/// its nonce.
fn request(sha256: &[u8; 32]) -> (Vec<u8>, Int) {
    // Positive and never zero; fresh for each request, so a replayed older
    // reply (for the same digest) is told apart.
    let nonce = positive_int(&rand::random::<u64>().max(1).to_be_bytes());
    let request = TimeStampReq {
        version: TspVersion::V1,
        message_imprint: MessageImprint {
            hash_algorithm: AlgorithmIdentifierOwned {
                // RFC 5754: SHA-2 identifiers are sent without parameters.
                oid: const_oid::db::rfc5912::ID_SHA_256,
                parameters: None,
            },
            hashed_message: der::asn1::OctetString::new(sha256.as_slice())
                .expect("32 bytes fit an OCTET STRING"),
        },
        req_policy: None,
        nonce: Some(nonce.clone()),
        // The certificate in the token lets a verifier check it without
        // fetching the TSA's certificate elsewhere.
        cert_req: true,
        extensions: None,
    }
    .to_der()
    .expect("a timestamp request encodes");
    (request, nonce)
}

/// The token in `reply`, if it is granted and for what was asked: `nonce`
/// and a SHA-256 imprint of `sha256`.
fn checked_token(reply: &[u8], nonce: &Int, sha256: &[u8; 32]) -> Result<Vec<u8>, TimestampError> {
    let token = granted_token(reply)?;
    let read = parse_token(&token)?;
    if read.nonce.as_ref() != Some(nonce) {
        return Err(TimestampError::Mismatch(
            "the token's nonce is not the request's".to_owned(),
        ));
    }
    if !is_sha(&read.hash_algorithm, const_oid::db::rfc5912::ID_SHA_256) {
        return Err(TimestampError::Mismatch(format!(
            "the token's imprint is made with {}, not SHA-256",
            read.hash_algorithm.oid
        )));
    }
    if read.info.hashed_message != sha256 {
        return Err(TimestampError::Mismatch(
            "the token is for another digest".to_owned(),
        ));
    }
    Ok(token)
}

/// What a timestamp token says. Read by [`read_token`], which does not check
/// the token's signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    /// When the TSA says the imprint existed (TSTInfo genTime).
    pub gen_time: DateTime<Utc>,
    /// The token's serial number, big-endian, without a sign octet.
    pub serial: Vec<u8>,
    /// The imprint's hash (TSTInfo messageImprint.hashedMessage).
    pub hashed_message: Vec<u8>,
    /// The imprint's hash algorithm, as a dotted OID (2.16.840.1.101.3.4.2.1
    /// is SHA-256): `hashed_message` means nothing without it.
    pub hash_algorithm: String,
    /// The TSA policy the token was issued under, as a dotted OID.
    pub policy: String,
}

/// Reads a TimeStampToken (DER ContentInfo → SignedData → encapsulated
/// TSTInfo). Checks the structure and the content type, not the signature:
/// that is for whoever verifies CMS signatures.
pub fn read_token(token_der: &[u8]) -> Result<TokenInfo, TimestampError> {
    parse_token(token_der).map(|read| read.info)
}

/// A token's TSTInfo, with what the client checks besides [`TokenInfo`].
struct ReadToken {
    info: TokenInfo,
    hash_algorithm: AlgorithmIdentifierOwned,
    nonce: Option<Int>,
}

fn parse_token(token_der: &[u8]) -> Result<ReadToken, TimestampError> {
    let content_info = ContentInfo::from_der(token_der)
        .map_err(|error| malformed("the token is not a CMS ContentInfo", error))?;
    if content_info.content_type != const_oid::db::rfc5911::ID_SIGNED_DATA {
        return Err(TimestampError::Malformed(format!(
            "the token is a {}, not a SignedData",
            content_info.content_type
        )));
    }
    let signed_data: SignedData = content_info
        .content
        .decode_as()
        .map_err(|error| malformed("the token's SignedData", error))?;
    let encapsulated = signed_data.encap_content_info;
    if encapsulated.econtent_type != ID_CT_TST_INFO {
        return Err(TimestampError::Malformed(format!(
            "the token's content is a {}, not a TSTInfo",
            encapsulated.econtent_type
        )));
    }
    let content = encapsulated
        .econtent
        .ok_or_else(|| TimestampError::Malformed("the token has no TSTInfo".to_owned()))?;
    if content.tag() != Tag::OctetString {
        return Err(TimestampError::Malformed(
            "the token's TSTInfo is not in an OCTET STRING".to_owned(),
        ));
    }
    parse_tst_info(content.value())
}

/// TSTInfo field by field (RFC 3161 §2.4.2), rather than with x509-tsp's
/// `TstInfo`: its GeneralizedTime refuses the fractional seconds RFC 3161
/// allows and many TSAs send.
fn parse_tst_info(der: &[u8]) -> Result<ReadToken, TimestampError> {
    let mut reader =
        SliceReader::new(der).map_err(|error| malformed("the TSTInfo is too large", error))?;
    let read = reader
        .sequence(|fields| {
            let version: u8 = fields.decode()?;
            let policy: ObjectIdentifier = fields.decode()?;
            let imprint: MessageImprint = fields.decode()?;
            let serial: Int = fields.decode()?;
            let gen_time: Any = fields.decode()?;
            // What follows is optional: accuracy (SEQUENCE), ordering
            // (BOOLEAN), nonce (the only INTEGER), tsa [0], extensions [1].
            let mut nonce = None;
            while !fields.is_finished() {
                let field: Any = fields.decode()?;
                if field.tag() == Tag::Integer && nonce.is_none() {
                    nonce = Some(field.decode_as::<Int>()?);
                }
            }
            Ok((version, policy, imprint, serial, gen_time, nonce))
        })
        .and_then(|read| reader.finish(read))
        .map_err(|error| malformed("the TSTInfo", error))?;
    let (version, policy, imprint, serial, gen_time, nonce) = read;
    if version != 1 {
        return Err(TimestampError::Malformed(format!(
            "the TSTInfo is version {version}, not 1"
        )));
    }
    if gen_time.tag() != Tag::GeneralizedTime {
        return Err(TimestampError::Malformed(
            "the TSTInfo's genTime is not a GeneralizedTime".to_owned(),
        ));
    }
    let gen_time = generalized_time(gen_time.value()).ok_or_else(|| {
        TimestampError::Malformed(format!(
            "the TSTInfo's genTime {:?} is not YYYYMMDDhhmmss[.s…]Z",
            String::from_utf8_lossy(gen_time.value())
        ))
    })?;
    let serial_bytes = serial.as_bytes();
    let serial = match serial_bytes.split_first() {
        Some((0, rest)) if !rest.is_empty() => rest.to_vec(),
        _ => serial_bytes.to_vec(),
    };
    Ok(ReadToken {
        info: TokenInfo {
            gen_time,
            serial,
            hashed_message: imprint.hashed_message.as_bytes().to_vec(),
            hash_algorithm: imprint.hash_algorithm.oid.to_string(),
            policy: policy.to_string(),
        },
        hash_algorithm: imprint.hash_algorithm,
        nonce,
    })
}

/// GeneralizedTime as RFC 3161 §2.4.2 has it: UTC (`Z`), whole seconds, and
/// optionally a fraction without trailing zeros.
fn generalized_time(value: &[u8]) -> Option<DateTime<Utc>> {
    let text = std::str::from_utf8(value).ok()?.strip_suffix('Z')?;
    let (whole, fraction) = match text.split_once('.') {
        Some((whole, fraction)) => (whole, fraction),
        None => (text, ""),
    };
    if whole.len() != 14 || !fraction.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    let time = NaiveDateTime::parse_from_str(whole, "%Y%m%d%H%M%S").ok()?;
    // Nanoseconds: the fraction's first nine digits, padded.
    let digits: String = fraction
        .chars()
        .chain(std::iter::repeat('0'))
        .take(9)
        .collect();
    let nanoseconds: u32 = digits.parse().ok()?;
    Some(time.and_utc() + chrono::Duration::nanoseconds(nanoseconds.into()))
}

/// The token of a granted reply; the refusal of any other.
///
/// TimeStampResp is read field by field too: x509-tsp's `PkiStatusInfo`
/// (cmpv2's) keeps failInfo in 16 bits and refuses a BIT STRING naming a
/// later bit (such as systemFailure, 25), which would hide a refusal's reason.
fn granted_token(reply: &[u8]) -> Result<Vec<u8>, TimestampError> {
    let mut reader =
        SliceReader::new(reply).map_err(|error| malformed("the reply is too large", error))?;
    let read = reader
        .sequence(|fields| {
            let status = fields.sequence(|status_info| {
                let status: u32 = status_info.decode()?;
                let mut texts = Vec::new();
                let mut fail_info = None;
                while !status_info.is_finished() {
                    let field: Any = status_info.decode()?;
                    match field.tag() {
                        Tag::Sequence => {
                            let strings: Vec<Utf8StringRef<'_>> = field.decode_as()?;
                            texts.extend(strings.iter().map(|text| text.as_str().to_owned()));
                        }
                        Tag::BitString => fail_info = Some(field.decode_as::<BitString>()?),
                        _ => {}
                    }
                }
                Ok((status, texts, fail_info))
            })?;
            let token = if fields.is_finished() {
                None
            } else {
                Some(fields.decode::<Any>()?)
            };
            Ok((status, token))
        })
        .and_then(|read| reader.finish(read))
        .map_err(|error| malformed("the reply is not a TimeStampResp", error))?;
    let ((status, texts, fail_info), token) = read;
    if status > 1 {
        let mut reasons = texts;
        if let Some(fail_info) = fail_info {
            reasons.extend(failure_names(&fail_info));
        }
        if reasons.is_empty() {
            reasons.push("no reason given".to_owned());
        }
        return Err(TimestampError::Refused {
            status,
            text: reasons.join("; "),
        });
    }
    let token = token.ok_or_else(|| {
        TimestampError::Malformed("the reply grants a timestamp but has no token".to_owned())
    })?;
    token
        .to_der()
        .map_err(|error| malformed("the reply's token", error))
}

/// PKIFailureInfo bits (RFC 3161 §2.4.2) by name.
const FAILURE_NAMES: [(usize, &str); 8] = [
    (0, "badAlg: unrecognized or unsupported algorithm"),
    (2, "badRequest: transaction not permitted or supported"),
    (5, "badDataFormat: the data submitted has the wrong format"),
    (
        14,
        "timeNotAvailable: the TSA's time source is not available",
    ),
    (
        15,
        "unacceptedPolicy: the requested TSA policy is not supported",
    ),
    (
        16,
        "unacceptedExtension: the requested extension is not supported",
    ),
    (
        17,
        "addInfoNotAvailable: the additional information requested is not available",
    ),
    (
        25,
        "systemFailure: the request cannot be handled due to system failure",
    ),
];

fn failure_names(fail_info: &BitString) -> Vec<String> {
    fail_info
        .bits()
        .enumerate()
        .filter(|(_, set)| *set)
        .map(|(bit, _)| {
            FAILURE_NAMES
                .iter()
                .find(|(named, _)| *named == bit)
                .map_or_else(
                    || format!("failInfo bit {bit}"),
                    |(_, name)| (*name).to_owned(),
                )
        })
        .collect()
}

/// Whether `algorithm` is `oid` with absent or NULL parameters (RFC 5754
/// has receivers accept both).
fn is_sha(algorithm: &AlgorithmIdentifierOwned, oid: ObjectIdentifier) -> bool {
    algorithm.oid == oid
        && algorithm
            .parameters
            .as_ref()
            .is_none_or(|parameters| parameters.is_null())
}

/// A positive INTEGER from unsigned big-endian bytes (a sign octet is added
/// where the first bit is set).
fn positive_int(bytes: &[u8]) -> Int {
    Int::from(Uint::new(bytes).expect("a short unsigned integer"))
}

/// Whether a Content-Type header value is `expected`, parameters and case aside.
fn is_media_type(header: &str, expected: &str) -> bool {
    header
        .split(';')
        .next()
        .is_some_and(|media_type| media_type.trim().eq_ignore_ascii_case(expected))
}

fn malformed(what: &str, error: der::Error) -> TimestampError {
    TimestampError::Malformed(format!("{what}: {error}"))
}

#[cfg(test)]
mod tests {
    use super::responder::{routes, test_responder, TimestampResponder};
    use super::*;
    use crate::clock::ManualClock;
    use axum::{body::Bytes, http::header, routing::post, Router};
    use chrono::TimeZone;
    use sha2::{Digest, Sha256};
    use std::sync::Arc;

    /// 2025-03-01 12:00:00.250 UTC: not on a whole second, so the token's
    /// truncation shows.
    fn clock() -> Arc<ManualClock> {
        Arc::new(ManualClock::starting_at(
            Utc.with_ymd_and_hms(2025, 3, 1, 12, 0, 0).unwrap()
                + chrono::Duration::milliseconds(250),
        ))
    }

    /// Serves `router` on a free port of 127.0.0.1; the address of its `/tsa`.
    async fn serve(router: Router) -> url::Url {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        url::Url::parse(&format!("http://{address}/tsa")).unwrap()
    }

    /// A client that never goes through a proxy the environment names.
    fn client(url: url::Url) -> HttpTimestampAuthority {
        HttpTimestampAuthority::new(url, reqwest::Client::builder().no_proxy().build().unwrap())
    }

    /// A TSA that changes each request with `tamper` before the real
    /// responder answers it: the reply is well-formed and signed, but not
    /// for what the client asked.
    async fn tampering_tsa(
        responder: TimestampResponder,
        tamper: fn(&mut TimeStampReq),
    ) -> url::Url {
        let responder = Arc::new(responder);
        let router = Router::new().route(
            "/tsa",
            post(move |body: Bytes| async move {
                let mut request = TimeStampReq::from_der(&body).unwrap();
                tamper(&mut request);
                let reply = responder.respond(&request.to_der().unwrap());
                ([(header::CONTENT_TYPE, REPLY_MEDIA_TYPE)], reply)
            }),
        );
        serve(router).await
    }

    #[tokio::test]
    async fn the_client_gets_a_timestamp_token_over_its_digest_from_the_responder() {
        let directory = tempfile::tempdir().unwrap();
        let (_, responder) = test_responder(directory.path(), clock());
        let url = serve(routes().with_state(Arc::new(responder))).await;
        let digest: [u8; 32] = Sha256::digest(b"the signature value").into();

        let token = client(url).timestamp(digest).await.unwrap();

        let info = read_token(&token).unwrap();
        assert_eq!(info.hashed_message, digest);
        assert_eq!(info.hash_algorithm, "2.16.840.1.101.3.4.2.1");
        assert_eq!(info.policy, responder::POLICY.to_string());
        assert_eq!(
            info.gen_time,
            Utc.with_ymd_and_hms(2025, 3, 1, 12, 0, 0).unwrap(),
            "the clock's time, to the whole second"
        );
        assert_eq!(info.serial.len(), 16, "a 128-bit serial");
    }

    #[tokio::test]
    async fn the_local_authority_checks_its_own_token_too() {
        let directory = tempfile::tempdir().unwrap();
        let (_, responder) = test_responder(directory.path(), clock());
        let digest: [u8; 32] = Sha256::digest(b"sealed").into();
        let token = LocalTimestampAuthority::new(Arc::new(responder))
            .timestamp(digest)
            .await
            .unwrap();
        assert_eq!(read_token(&token).unwrap().hashed_message, digest);
    }

    #[tokio::test]
    async fn a_token_for_another_digest_is_refused_as_a_mismatch() {
        let directory = tempfile::tempdir().unwrap();
        let (_, responder) = test_responder(directory.path(), clock());
        let url = tampering_tsa(responder, |request| {
            request.message_imprint.hashed_message =
                der::asn1::OctetString::new(Sha256::digest(b"something else").to_vec()).unwrap();
        })
        .await;
        let digest: [u8; 32] = Sha256::digest(b"the signature value").into();

        let refused = client(url).timestamp(digest).await.unwrap_err();

        assert!(
            matches!(&refused, TimestampError::Mismatch(why) if why.contains("another digest")),
            "{refused:?}"
        );
    }

    #[tokio::test]
    async fn a_token_with_another_nonce_is_refused_as_a_mismatch() {
        let directory = tempfile::tempdir().unwrap();
        let (_, responder) = test_responder(directory.path(), clock());
        let url = tampering_tsa(responder, |request| {
            request.nonce = Some(positive_int(&[0x42]));
        })
        .await;

        let refused = client(url).timestamp([7; 32]).await.unwrap_err();

        assert!(
            matches!(&refused, TimestampError::Mismatch(why) if why.contains("nonce")),
            "{refused:?}"
        );
    }

    #[tokio::test]
    async fn a_rejection_is_refused_with_its_status_and_reason() {
        let directory = tempfile::tempdir().unwrap();
        let (_, responder) = test_responder(directory.path(), clock());
        // MD5, which the responder does not stamp.
        let url = tampering_tsa(responder, |request| {
            request.message_imprint.hash_algorithm.oid = const_oid::db::rfc5912::ID_MD_5;
        })
        .await;

        let refused = client(url).timestamp([7; 32]).await.unwrap_err();

        let TimestampError::Refused { status, text } = &refused else {
            panic!("{refused:?}");
        };
        assert_eq!(*status, 2, "rejection");
        assert!(text.contains("badAlg"), "{text}");
    }

    #[tokio::test]
    async fn a_closed_port_is_unreachable() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        drop(listener);
        let url = url::Url::parse(&format!("http://{address}/tsa")).unwrap();

        let refused = client(url).timestamp([7; 32]).await.unwrap_err();

        assert!(
            matches!(refused, TimestampError::Unreachable(_)),
            "{refused:?}"
        );
    }

    #[tokio::test]
    async fn an_answer_that_is_not_a_timestamp_reply_is_malformed() {
        let router = Router::new().route("/tsa", post(|| async { "<html>maintenance</html>" }));
        let url = serve(router).await;

        let refused = client(url).timestamp([7; 32]).await.unwrap_err();

        assert!(
            matches!(refused, TimestampError::Malformed(_)),
            "{refused:?}"
        );
    }

    #[test]
    fn gen_time_with_fractional_seconds_is_read() {
        let whole = Utc.with_ymd_and_hms(2024, 1, 2, 3, 4, 5).unwrap();
        assert_eq!(generalized_time(b"20240102030405Z"), Some(whole));
        assert_eq!(
            generalized_time(b"20240102030405.12Z"),
            Some(whole + chrono::Duration::milliseconds(120))
        );
        assert_eq!(generalized_time(b"20240102030405"), None, "no zone");
        assert_eq!(generalized_time(b"20240102030405+0100"), None, "not UTC");
        assert_eq!(generalized_time(b"2024010203040Z"), None, "no seconds");
    }

    #[test]
    fn a_token_that_is_not_a_timestamp_token_is_malformed() {
        assert!(matches!(
            read_token(b"not DER"),
            Err(TimestampError::Malformed(_))
        ));
        // A SignedData over plain data (id-data), as a PDF signature has.
        let data = cms::signed_data::EncapsulatedContentInfo {
            econtent_type: const_oid::db::rfc5911::ID_DATA,
            econtent: None,
        };
        let signed_data = cms::signed_data::SignedData {
            version: cms::content_info::CmsVersion::V1,
            digest_algorithms: Default::default(),
            encap_content_info: data,
            certificates: None,
            crls: None,
            signer_infos: cms::signed_data::SignerInfos(Default::default()),
        };
        let content_info = ContentInfo {
            content_type: const_oid::db::rfc5911::ID_SIGNED_DATA,
            content: Any::encode_from(&signed_data).unwrap(),
        };
        let refused = read_token(&content_info.to_der().unwrap()).unwrap_err();
        assert!(
            matches!(&refused, TimestampError::Malformed(why) if why.contains("not a TSTInfo")),
            "{refused:?}"
        );
    }
}
