//! The encrypted document package: CMS EnvelopedData in DER or in BER (as
//! BouncyCastle writes it, which is re-encoded as DER first). Any bytes are
//! decrypted or refused, never a panic or a runaway. The key is made once
//! per run; the seeds (the envelopes the unit tests try) are encrypted to
//! other keys, so the fuzzer works on the envelope's reading, which is where
//! untrusted bytes meet hand-written code.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use x509_cert::Certificate;

fn provider() -> &'static (rsa::RsaPrivateKey, Certificate) {
    static PROVIDER: OnceLock<(rsa::RsaPrivateKey, Certificate)> = OnceLock::new();
    PROVIDER.get_or_init(|| {
        let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap();
        let org_nr = app::domain::OrgNr::parse("999900003").unwrap();
        let certificate = postkasse::keys::self_signed(&key, &org_nr, "Fuzz").unwrap();
        (key, certificate)
    })
}

fuzz_target!(|input: &[u8]| {
    let (key, certificate) = provider();
    let _ = postkasse::broker::cms::decrypt(input, key, certificate);
});
