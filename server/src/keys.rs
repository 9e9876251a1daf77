//! RSA private keys kept in PEM files: generated on first start, readable only
//! by their owner, and loaded again on every later start; and self-signed
//! certificates for them.

use anyhow::Context;
use app::domain::OrgNr;
use rsa::{
    pkcs1v15::SigningKey,
    pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding},
    RsaPrivateKey,
};
use sha2::Sha256;
use std::{path::Path, str::FromStr, time::Duration};
use x509_cert::{
    builder::{Builder, CertificateBuilder, Profile},
    name::Name,
    serial_number::SerialNumber,
    spki::SubjectPublicKeyInfoOwned,
    time::Validity,
    Certificate,
};

/// Loads the PKCS#8 RSA key at `path`, generating a 2048-bit one and saving it
/// there if the file is missing. `what` names the key in errors. Generation is
/// CPU work: call this off the async runtime.
pub fn load_or_generate_rsa(path: &Path, what: &str) -> anyhow::Result<RsaPrivateKey> {
    if path.exists() {
        let pem = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the {what} {}", path.display()))?;
        return RsaPrivateKey::from_pkcs8_pem(&pem)
            .with_context(|| format!("the {what} is not a PKCS#8 RSA key"));
    }
    let private_key = RsaPrivateKey::new(&mut rand::thread_rng(), 2048)
        .with_context(|| format!("cannot generate the {what}"))?;
    let pem = private_key.to_pkcs8_pem(LineEnding::LF)?;
    if let Some(directory) = path.parent() {
        std::fs::create_dir_all(directory)?;
    }
    write_private(path, pem.as_bytes())
        .with_context(|| format!("cannot save the {what} to {}", path.display()))?;
    Ok(private_key)
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::{io::Write, os::unix::fs::OpenOptionsExt};
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}

/// A self-signed certificate naming the organisation, valid for five years;
/// the organisation number is its subject's serialNumber, as in an
/// enterprise certificate.
pub fn self_signed(
    private_key: &RsaPrivateKey,
    org_nr: &OrgNr,
    name: &str,
) -> anyhow::Result<Certificate> {
    // RFC 4514 escaping for the few characters that matter in a name.
    let escaped: String = name
        .chars()
        .flat_map(|c| match c {
            ',' | '+' | '"' | '\\' | '<' | '>' | ';' | '=' => vec!['\\', c],
            _ => vec![c],
        })
        .collect();
    let subject = Name::from_str(&format!(
        "CN={escaped},O={escaped},serialNumber={},C=NO",
        org_nr.as_str()
    ))
    .context("cannot form the certificate's subject")?;
    let spki = SubjectPublicKeyInfoOwned::from_key(private_key.to_public_key())?;
    let serial = SerialNumber::new(&rand::random::<[u8; 8]>().map(|b| b & 0x7f))?;
    let validity = Validity::from_now(Duration::from_secs(5 * 365 * 24 * 60 * 60))?;
    let signer = SigningKey::<Sha256>::new(private_key.clone());
    // A self-issued end-entity certificate, not a CA: another provider
    // that trusts it (as a trust anchor) checks this Postkasse's
    // signatures with it, and a CA certificate may not sign as an end entity.
    let profile = Profile::Leaf {
        issuer: subject.clone(),
        enable_key_agreement: false,
        enable_key_encipherment: true,
    };
    let builder = CertificateBuilder::new(profile, serial, validity, subject, spki, &signer)
        .context("cannot build the certificate")?;
    builder
        .build::<rsa::pkcs1v15::Signature>()
        .context("cannot sign the certificate")
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::traits::PublicKeyParts;

    #[test]
    fn a_generated_key_is_kept_private_and_reloaded() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("keys/some.pem");
        let first = load_or_generate_rsa(&path, "test key").unwrap();
        let second = load_or_generate_rsa(&path, "test key").unwrap();
        assert_eq!(first.n(), second.n());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "readable only by its owner");
        }
    }
}
