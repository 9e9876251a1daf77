//! RSA private keys kept in PEM files: generated on first start, readable only
//! by their owner, and loaded again on every later start; self-signed
//! certificates for them; and [`LocalCa`], a certificate authority of
//! Postkasse's own that issues certificates by [`CertificatePurpose`].

use anyhow::Context;
use app::domain::OrgNr;
use rsa::{
    pkcs1v15::SigningKey,
    pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding},
    RsaPrivateKey,
};
use sha2::Sha256;
use std::{
    path::{Path, PathBuf},
    str::FromStr,
    time::Duration,
};
use x509_cert::{
    builder::{Builder, CertificateBuilder, Profile},
    der::{DecodePem, Encode, EncodePem},
    ext::pkix::ExtendedKeyUsage,
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
    let subject = subject_name(name, Some(org_nr))?;
    // A self-issued end-entity certificate, not a CA: another provider
    // that trusts it (as a trust anchor) checks this Postkasse's
    // signatures with it, and a CA certificate may not sign as an end entity.
    let profile = Profile::Leaf {
        issuer: subject.clone(),
        enable_key_agreement: false,
        enable_key_encipherment: true,
    };
    build_certificate(
        profile,
        subject,
        private_key,
        private_key,
        Validity::from_now(FIVE_YEARS)?,
        None,
    )
}

/// What a certificate issued by [`issue`] is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertificatePurpose {
    /// Signing and sealing documents: key usage digitalSignature and
    /// nonRepudiation, no extended key usage (so no verifier's purpose check
    /// excludes it).
    DocumentSigning,
    /// An RFC 3161 timestamp authority: key usage digitalSignature and
    /// nonRepudiation, and the extended key usage id-kp-timeStamping alone,
    /// marked critical, as RFC 3161 §2.3 requires.
    Timestamping,
}

/// An end-entity certificate for `key`, issued by `issuer` (whose key is
/// `issuer_key`) for `purpose`: subject `CN=<subject_cn>,C=NO`, or with an
/// organisation `CN=<subject_cn>,O=<subject_cn>,serialNumber=<org>,C=NO` as in
/// an enterprise certificate. Valid for five years, but never past the
/// issuer's own end. It carries authority and subject key identifiers, so
/// verifiers find its issuer among several. CPU work (an RSA signature).
pub fn issue(
    key: &RsaPrivateKey,
    subject_cn: &str,
    org: Option<&OrgNr>,
    purpose: CertificatePurpose,
    issuer_key: &RsaPrivateKey,
    issuer: &Certificate,
) -> anyhow::Result<Certificate> {
    let mut validity = Validity::from_now(FIVE_YEARS)?;
    // A certificate outliving its issuer would fail validation before its
    // own end anyway; saying so in the certificate is honest.
    let issuer_end = issuer.tbs_certificate.validity.not_after;
    if issuer_end.to_unix_duration() < validity.not_after.to_unix_duration() {
        validity.not_after = issuer_end;
    }
    let profile = Profile::Leaf {
        issuer: issuer.tbs_certificate.subject.clone(),
        enable_key_agreement: false,
        enable_key_encipherment: false,
    };
    build_certificate(
        profile,
        subject_name(subject_cn, org)?,
        key,
        issuer_key,
        validity,
        Some(purpose),
    )
}

const FIVE_YEARS: Duration = Duration::from_secs(5 * 365 * 24 * 60 * 60);
const TEN_YEARS: Duration = Duration::from_secs(10 * 365 * 24 * 60 * 60);
const RENEW_BEFORE: Duration = Duration::from_secs(30 * 24 * 60 * 60);

/// `CN=<common_name>[,O=<common_name>,serialNumber=<org>],C=NO`.
fn subject_name(common_name: &str, org: Option<&OrgNr>) -> anyhow::Result<Name> {
    // RFC 4514 escaping for the few characters that matter in a name.
    let escaped: String = common_name
        .chars()
        .flat_map(|c| match c {
            ',' | '+' | '"' | '\\' | '<' | '>' | ';' | '=' => vec!['\\', c],
            _ => vec![c],
        })
        .collect();
    let rfc4514 = match org {
        Some(org_nr) => format!(
            "CN={escaped},O={escaped},serialNumber={},C=NO",
            org_nr.as_str()
        ),
        None => format!("CN={escaped},C=NO"),
    };
    Name::from_str(&rfc4514).context("cannot form the certificate's subject")
}

/// The one place certificates are built: `profile` decides CA or end entity
/// and the key usages; `purpose`, if any, adds what it needs beyond them.
fn build_certificate(
    profile: Profile,
    subject: Name,
    subject_key: &RsaPrivateKey,
    issuer_key: &RsaPrivateKey,
    validity: Validity,
    purpose: Option<CertificatePurpose>,
) -> anyhow::Result<Certificate> {
    let spki = SubjectPublicKeyInfoOwned::from_key(subject_key.to_public_key())?;
    // 127 random bits: unguessable, positive, and within RFC 5280's 20 octets.
    let mut serial = rand::random::<[u8; 16]>();
    serial[0] = (serial[0] & 0x7f).max(1);
    let serial = SerialNumber::new(&serial)?;
    let signer = SigningKey::<Sha256>::new(issuer_key.clone());
    let mut builder = CertificateBuilder::new(profile, serial, validity, subject, spki, &signer)
        .context("cannot build the certificate")?;
    match purpose {
        None | Some(CertificatePurpose::DocumentSigning) => {}
        Some(CertificatePurpose::Timestamping) => {
            // x509-cert marks an extended key usage critical unless it
            // includes anyExtendedKeyUsage, which this one does not.
            builder
                .add_extension(&ExtendedKeyUsage(vec![
                    const_oid::db::rfc5280::ID_KP_TIME_STAMPING,
                ]))
                .context("cannot add the extended key usage")?;
        }
    }
    builder
        .build::<rsa::pkcs1v15::Signature>()
        .context("cannot sign the certificate")
}

/// A certificate authority of Postkasse's own, for operators without one
/// (and for the demo and tests): an RSA key and a self-signed CA certificate,
/// kept as two PEM files in a directory, `ca-key.pem` (readable only by its
/// owner) and `ca.pem`. It issues the certificates of Postkasse's seal and
/// timestamp authority; verifiers that are to trust them are given `ca.pem`.
pub struct LocalCa {
    directory: PathBuf,
    key: RsaPrivateKey,
    certificate: Certificate,
}

/// The file names in a [`LocalCa`]'s directory.
const CA_KEY_FILE: &str = "ca-key.pem";
const CA_CERTIFICATE_FILE: &str = "ca.pem";

impl LocalCa {
    /// Loads the CA in `directory`, making its key and certificate (subject
    /// `CN=<name>,C=NO`, valid ten years) on first start. A key found without
    /// its certificate gets a new certificate; a certificate for another key
    /// is an error, not silently replaced. CPU work on first start: call it
    /// off the async runtime.
    pub fn load_or_generate(directory: &Path, name: &str) -> anyhow::Result<Self> {
        let key = load_or_generate_rsa(&directory.join(CA_KEY_FILE), "local CA key")?;
        let certificate_path = directory.join(CA_CERTIFICATE_FILE);
        let certificate = if certificate_path.exists() {
            let certificate = read_certificate(&certificate_path)?;
            ensure_certificate_of(&certificate, &key, &certificate_path)?;
            certificate
        } else {
            let certificate = build_certificate(
                Profile::Root,
                subject_name(name, None)?,
                &key,
                &key,
                Validity::from_now(TEN_YEARS)?,
                None,
            )?;
            write_certificate(&certificate_path, &certificate)?;
            certificate
        };
        Ok(Self {
            directory: directory.to_owned(),
            key,
            certificate,
        })
    }

    /// The CA's self-signed certificate: the trust anchor for what it issues.
    pub fn certificate(&self) -> &Certificate {
        &self.certificate
    }

    /// [`LocalCa::certificate`] as PEM, as `ca.pem` holds it.
    pub fn pem(&self) -> String {
        self.certificate
            .to_pem(LineEnding::LF)
            .expect("a certificate that was decoded or built encodes")
    }

    /// A certificate for `key` issued by this CA; see [`issue`].
    pub fn issue(
        &self,
        key: &RsaPrivateKey,
        subject_cn: &str,
        org: Option<&OrgNr>,
        purpose: CertificatePurpose,
    ) -> anyhow::Result<Certificate> {
        issue(key, subject_cn, org, purpose, &self.key, &self.certificate)
    }

    /// A key and a certificate this CA issued for it, kept beside the CA as
    /// `<stem>-key.pem` and `<stem>.pem`: made on first start, loaded after,
    /// and issued anew for the same key within a month of its end. A stored
    /// certificate for another key, or from another CA (the CA's files were
    /// replaced), is an error: remove `<stem>.pem` to issue anew. CPU work
    /// on first start: call it off the async runtime.
    pub fn load_or_issue(
        &self,
        stem: &str,
        subject_cn: &str,
        org: Option<&OrgNr>,
        purpose: CertificatePurpose,
    ) -> anyhow::Result<(RsaPrivateKey, Certificate)> {
        let key = load_or_generate_rsa(
            &self.directory.join(format!("{stem}-key.pem")),
            &format!("{stem} key"),
        )?;
        let certificate_path = self.directory.join(format!("{stem}.pem"));
        if certificate_path.exists() {
            let certificate = read_certificate(&certificate_path)?;
            ensure_certificate_of(&certificate, &key, &certificate_path)?;
            anyhow::ensure!(
                self.issued(&certificate),
                "{} was not issued by the local CA in {}; remove it to issue a new one",
                certificate_path.display(),
                self.directory.display()
            );
            // Renewed a month ahead, so a server restarted now and then
            // never signs with an expired certificate.
            let renew_at = certificate
                .tbs_certificate
                .validity
                .not_after
                .to_system_time()
                - RENEW_BEFORE;
            if std::time::SystemTime::now() < renew_at {
                return Ok((key, certificate));
            }
        }
        let certificate = self.issue(&key, subject_cn, org, purpose)?;
        write_certificate(&certificate_path, &certificate)?;
        Ok((key, certificate))
    }

    /// Whether this CA's key signed `certificate`: a CA made anew under the
    /// same name has the same subject but not the same key.
    fn issued(&self, certificate: &Certificate) -> bool {
        use rsa::signature::Verifier;
        let verifying_key = rsa::pkcs1v15::VerifyingKey::<Sha256>::new(self.key.to_public_key());
        let Some(signature) = certificate.signature.as_bytes() else {
            return false;
        };
        let (Ok(signature), Ok(signed)) = (
            rsa::pkcs1v15::Signature::try_from(signature),
            certificate.tbs_certificate.to_der(),
        ) else {
            return false;
        };
        certificate.tbs_certificate.issuer == self.certificate.tbs_certificate.subject
            && verifying_key.verify(&signed, &signature).is_ok()
    }
}

fn read_certificate(path: &Path) -> anyhow::Result<Certificate> {
    let pem = std::fs::read(path)
        .with_context(|| format!("cannot read the certificate {}", path.display()))?;
    Certificate::from_pem(&pem)
        .with_context(|| format!("{} is not a PEM certificate", path.display()))
}

/// The certificate at `path` must be `key`'s: a pair that does not match
/// would make signatures no one can verify.
fn ensure_certificate_of(
    certificate: &Certificate,
    key: &RsaPrivateKey,
    path: &Path,
) -> anyhow::Result<()> {
    let spki = SubjectPublicKeyInfoOwned::from_key(key.to_public_key())?;
    anyhow::ensure!(
        certificate.tbs_certificate.subject_public_key_info == spki,
        "the certificate {} is not for the key beside it",
        path.display()
    );
    Ok(())
}

/// Writes beside the target and renames, so a crash never leaves half a
/// certificate for the next start to stumble on.
fn write_certificate(path: &Path, certificate: &Certificate) -> anyhow::Result<()> {
    let pem = certificate.to_pem(LineEnding::LF)?;
    let partial = path.with_extension("pem.partial");
    std::fs::write(&partial, pem.as_bytes())
        .and_then(|()| std::fs::rename(&partial, path))
        .with_context(|| format!("cannot save the certificate to {}", path.display()))
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

    fn extension(
        certificate: &Certificate,
        oid: const_oid::ObjectIdentifier,
    ) -> Option<&x509_cert::ext::Extension> {
        certificate
            .tbs_certificate
            .extensions
            .as_ref()?
            .iter()
            .find(|extension| extension.extn_id == oid)
    }

    /// Whether `/usr/bin/openssl verify` finds `leaf` issued by `ca`.
    fn openssl_verifies(directory: &Path, ca: &LocalCa, leaf: &Certificate) -> (bool, String) {
        std::fs::write(directory.join("anchor.pem"), ca.pem()).unwrap();
        std::fs::write(
            directory.join("leaf.pem"),
            leaf.to_pem(LineEnding::LF).unwrap(),
        )
        .unwrap();
        let output = std::process::Command::new("/usr/bin/openssl")
            .args(["verify", "-CAfile", "anchor.pem", "leaf.pem"])
            .current_dir(directory)
            .output()
            .unwrap();
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned()
                + &String::from_utf8_lossy(&output.stderr),
        )
    }

    #[test]
    fn a_local_ca_is_kept_and_issues_document_signing_and_timestamping_certificates() {
        use const_oid::db::rfc5280::{
            ID_CE_AUTHORITY_KEY_IDENTIFIER, ID_CE_BASIC_CONSTRAINTS, ID_CE_EXT_KEY_USAGE,
            ID_CE_KEY_USAGE, ID_CE_SUBJECT_KEY_IDENTIFIER,
        };
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("ca");
        let ca = LocalCa::load_or_generate(&path, "Postkasse Test CA").unwrap();
        let again = LocalCa::load_or_generate(&path, "Postkasse Test CA").unwrap();
        assert_eq!(again.pem(), ca.pem(), "loaded, not made anew");
        assert_eq!(
            std::fs::read_to_string(path.join("ca.pem")).unwrap(),
            ca.pem()
        );
        let ca_certificate = ca.certificate();
        assert_eq!(
            ca_certificate.tbs_certificate.issuer,
            ca_certificate.tbs_certificate.subject
        );
        assert!(extension(ca_certificate, ID_CE_BASIC_CONSTRAINTS).is_some());

        let key = RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap();
        let org = OrgNr::parse("999900003").unwrap();
        let sealing = ca
            .issue(
                &key,
                "Postkasse",
                Some(&org),
                CertificatePurpose::DocumentSigning,
            )
            .unwrap();
        assert_eq!(
            sealing.tbs_certificate.issuer,
            ca_certificate.tbs_certificate.subject
        );
        assert!(sealing
            .tbs_certificate
            .subject
            .to_string()
            .contains("999900003"));
        for oid in [
            ID_CE_AUTHORITY_KEY_IDENTIFIER,
            ID_CE_SUBJECT_KEY_IDENTIFIER,
            ID_CE_KEY_USAGE,
        ] {
            assert!(extension(&sealing, oid).is_some(), "{oid}");
        }
        assert!(extension(&sealing, ID_CE_EXT_KEY_USAGE).is_none());
        let (verified, text) = openssl_verifies(directory.path(), &ca, &sealing);
        assert!(verified, "{text}");

        let (tsa_key, timestamping) = ca
            .load_or_issue(
                "tsa",
                "Postkasse TSA",
                None,
                CertificatePurpose::Timestamping,
            )
            .unwrap();
        let (tsa_key_again, timestamping_again) = ca
            .load_or_issue(
                "tsa",
                "Postkasse TSA",
                None,
                CertificatePurpose::Timestamping,
            )
            .unwrap();
        assert_eq!(tsa_key.n(), tsa_key_again.n());
        assert_eq!(timestamping, timestamping_again, "issued once");
        let usage = extension(&timestamping, ID_CE_EXT_KEY_USAGE).expect("an EKU");
        assert!(usage.critical);
        let (verified, text) = openssl_verifies(directory.path(), &ca, &timestamping);
        assert!(verified, "{text}");

        // Another CA, even under the same name, did not issue it.
        let other_path = directory.path().join("other");
        let other = LocalCa::load_or_generate(&other_path, "Postkasse Test CA").unwrap();
        assert!(!other.issued(&timestamping));
        let (verified, _) = openssl_verifies(directory.path(), &other, &timestamping);
        assert!(!verified);
        for file in ["tsa-key.pem", "tsa.pem"] {
            std::fs::copy(path.join(file), other_path.join(file)).unwrap();
        }
        let refused = other
            .load_or_issue(
                "tsa",
                "Postkasse TSA",
                None,
                CertificatePurpose::Timestamping,
            )
            .unwrap_err();
        assert!(
            refused.to_string().contains("not issued by the local CA"),
            "{refused:#}"
        );
    }
}
