//! How fast a citizen's PAdES B-T signature is made and checked, beside a
//! bare RSA signature.
//!
//! `cargo bench -p postkasse --bench signing [-- SIGNATURES]` (default 300).
//!
//! Before any clock starts: a local CA issues a 2048-bit signing key and a
//! timestamping key (as the demo has), and a one-page letter is made. Then,
//! on one thread (a signature is made on one blocking thread, and the
//! timestamp asked for between):
//!
//! - Postkasse: [`seal::prepare`] (an incremental update with the signature
//!   page, the login evidence embedded, the signature dictionary),
//!   [`Sealer::sign`] (the CMS SignedData), the timestamp from Postkasse's
//!   own TSA in-process ([`LocalTimestampAuthority`], a second RSA
//!   signature), and the token written in: what signing costs on top of its
//!   database and blob work.
//! - Checking: [`verify::check_pdf`] on the signed PDF (digest, CMS
//!   signature, timestamp, certificate chain), as the letter page does.
//! - Bare RSA: a PKCS#1 v1.5 signature over a SHA-256 digest with the same
//!   key, which every signature makes once (the TSA another): the least a
//!   signature can cost.
//!
//! It prints signatures per second for each and the ratio. Nothing is asserted.

use chrono::Utc;
use postkasse::{
    keys::{CertificatePurpose, LocalCa},
    seal::{self, Appearance, EmbeddedFile, KeyFile, Sealer, SignaturePlace, VisibleSignature},
    signing::verify,
    timestamp::{responder::TimestampResponder, LocalTimestampAuthority, TimestampAuthority},
    trust::TrustAnchors,
};
use rsa::{pkcs1v15::SigningKey, signature::Signer};
use sha2::{Digest, Sha256};
use std::{sync::Arc, time::Instant};
use x509_cert::der::Encode;

fn main() {
    let count: usize = std::env::args()
        .skip(1)
        .find_map(|argument| argument.parse().ok())
        .unwrap_or(300);
    let directory = tempfile::tempdir().expect("a directory");
    let ca = LocalCa::load_or_generate(directory.path(), "Bench CA").expect("a CA");
    let (key, certificate) = ca
        .load_or_issue(
            "signing",
            "Postkasse",
            None,
            CertificatePurpose::DocumentSigning,
        )
        .expect("a signing key");
    let (tsa_key, tsa_certificate) = ca
        .load_or_issue(
            "tsa",
            "Postkasse TSA",
            None,
            CertificatePurpose::Timestamping,
        )
        .expect("a timestamping key");
    let sealer = Sealer::new(Arc::new(
        KeyFile::new(key.clone(), &[&certificate.to_der().expect("DER")]).expect("a key file"),
    ));
    let responder = TimestampResponder::new(
        tsa_key,
        tsa_certificate,
        Vec::new(),
        Arc::new(postkasse::clock::SystemClock),
    )
    .expect("a responder");
    let timestamps = LocalTimestampAuthority::new(Arc::new(responder));
    let anchors = TrustAnchors::from_pem(ca.pem().as_bytes()).expect("anchors");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let document = postkasse::pdf::letter_pdf(
        "Arbeidsavtale",
        "Kari Nordmann",
        &["Avtalen gjelder fra 1. januar 2027.", "Lønn etter tariff."],
    )
    .expect("a letter");
    let evidence = br#"{"innlogging":{"sikkerhetsnivaa":4}}"#;
    let sign = || {
        let prepared = seal::prepare(
            &document,
            &Appearance {
                field_name: "Signatur",
                name: "Kari Nordmann",
                reason: "Signert av Kari Nordmann i Postkasse",
                at: Utc::now(),
                visible: Some(VisibleSignature {
                    heading: "Elektronisk signatur / Electronic signature",
                    lines: vec![
                        "Signert av / Signed by: Kari Nordmann, født 14.03.1985".to_owned(),
                        "Innlogging / Login: ID-porten, sikkerhetsnivå 4".to_owned(),
                    ],
                    place: SignaturePlace::NewPages { pages: 1 },
                }),
                embedded: vec![EmbeddedFile {
                    name: "signeringsbevis.json",
                    media_type: "application/json",
                    description: "Innloggingsbevis",
                    bytes: evidence,
                }],
                in_dictionary: None,
            },
        )
        .expect("prepared");
        let mut signed = sealer.sign(&prepared).expect("signed");
        let stamped: [u8; 32] =
            Sha256::digest(seal::signature_value(&signed).expect("a signature")).into();
        let token = runtime
            .block_on(timestamps.timestamp(stamped))
            .expect("a timestamp");
        seal::add_timestamp(&mut signed, &token).expect("stamped");
        prepared.finish(&signed).expect("written")
    };
    println!("{count} signatures, one thread");

    let started = Instant::now();
    let mut last = Vec::new();
    for _ in 0..count {
        last = sign();
    }
    let signed_rate = count as f64 / started.elapsed().as_secs_f64();
    println!(
        "postkasse: {signed_rate:.0} PAdES B-T signatures/s ({} bytes each)",
        last.len()
    );

    let started = Instant::now();
    for _ in 0..count {
        let checks = verify::check_pdf(&last, &anchors, Utc::now());
        assert!(matches!(checks[0].verdict, verify::Verdict::Valid));
    }
    let check_rate = count as f64 / started.elapsed().as_secs_f64();
    println!("checking the signed PDF: {check_rate:.0}/s");

    let signer = SigningKey::<Sha256>::new(key);
    let started = Instant::now();
    for number in 0..count {
        let digest = Sha256::digest(number.to_le_bytes());
        let _signature = signer.sign(&digest);
    }
    let bare_rate = count as f64 / started.elapsed().as_secs_f64();
    println!("bare RSA-2048 PKCS#1 v1.5 signatures: {bare_rate:.0}/s");
    println!(
        "ratio (PAdES B-T signatures / bare signatures): {:.2}",
        signed_rate / bare_rate
    );
}
