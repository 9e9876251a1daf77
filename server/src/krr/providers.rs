//! Mailbox providers: this Postkasse's own identity as a provider (its
//! organisation number and the certificate senders encrypt letters to) and
//! the external providers operators register.

use super::person::MailboxProvider;
use anyhow::Context;
use app::domain::OrgNr;
use rsa::RsaPrivateKey;
use std::path::Path;
use x509_cert::{
    der::{DecodePem, Encode, EncodePem},
    spki::SubjectPublicKeyInfoOwned,
    Certificate,
};

/// This Postkasse as a mailbox provider, with the private key that opens
/// letters encrypted to its certificate.
pub struct OwnProvider {
    pub provider: MailboxProvider,
    pub private_key: RsaPrivateKey,
}

impl OwnProvider {
    /// Loads the key and certificate, creating either when missing. A
    /// certificate is made anew when it does not belong to the key. In
    /// production the certificate would be an enterprise certificate
    /// (virksomhetssertifikat) from a CA; here it is self-signed, as in
    /// DPI's test environments' own tooling (an interpretation; see
    /// docs/protocol.md#choices-where-the-sources-are-silent).
    pub fn load_or_create(
        org_nr: OrgNr,
        name: &str,
        key_file: &Path,
        certificate_file: &Path,
    ) -> anyhow::Result<OwnProvider> {
        let private_key = crate::keys::load_or_generate_rsa(key_file, "mailbox provider key")?;
        let public_spki = SubjectPublicKeyInfoOwned::from_key(private_key.to_public_key())
            .context("cannot encode the provider's public key")?;
        let existing = if certificate_file.exists() {
            let pem = std::fs::read_to_string(certificate_file).with_context(|| {
                format!("cannot read the certificate {}", certificate_file.display())
            })?;
            Some(Certificate::from_pem(pem.as_bytes()).context("the certificate is not PEM")?)
        } else {
            None
        };
        let certificate = match existing {
            Some(certificate)
                if certificate.tbs_certificate.subject_public_key_info == public_spki =>
            {
                certificate
            }
            _ => {
                let certificate = crate::keys::self_signed(&private_key, &org_nr, name)?;
                if let Some(directory) = certificate_file.parent() {
                    std::fs::create_dir_all(directory)?;
                }
                std::fs::write(
                    certificate_file,
                    certificate.to_pem(x509_cert::der::pem::LineEnding::LF)?,
                )
                .with_context(|| {
                    format!(
                        "cannot save the certificate to {}",
                        certificate_file.display()
                    )
                })?;
                certificate
            }
        };
        Ok(OwnProvider {
            provider: MailboxProvider {
                org_nr,
                name: name.to_owned(),
                endpoint: None,
                certificate_der: certificate.to_der()?,
            },
            private_key,
        })
    }
}

/// What an operator gives to register another provider, not yet checked.
pub struct NewProvider {
    pub org_nr: OrgNr,
    pub name: String,
    /// Where letters for its citizens are delivered.
    pub endpoint: String,
    pub certificate_der: Vec<u8>,
}

/// Registers another mailbox provider, or updates it: a name, an endpoint
/// that is a URL, and never this Postkasse's own organisation number (its own
/// entry is kept by the server itself).
pub async fn register(
    store: &dyn super::Store,
    own_org_nr: &OrgNr,
    new: NewProvider,
) -> anyhow::Result<MailboxProvider> {
    let name = new.name.trim();
    anyhow::ensure!(!name.is_empty(), "--name must not be empty");
    let endpoint = url::Url::parse(&new.endpoint)
        .map_err(|error| anyhow::anyhow!("--endpoint is not a URL: {error}"))?;
    anyhow::ensure!(
        new.org_nr != *own_org_nr,
        "{} is this Postkasse's own organisation number",
        new.org_nr.as_str()
    );
    let provider = MailboxProvider {
        org_nr: new.org_nr,
        name: name.to_owned(),
        endpoint: Some(endpoint.to_string()),
        certificate_der: new.certificate_der,
    };
    store.upsert_mailbox_provider(&provider).await?;
    Ok(provider)
}

/// Reads an external provider's certificate from a PEM or DER file.
pub fn read_certificate(path: &Path) -> anyhow::Result<Vec<u8>> {
    use x509_cert::der::Decode;
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let certificate = if bytes.starts_with(b"-----BEGIN") {
        Certificate::from_pem(&bytes)
    } else {
        Certificate::from_der(&bytes)
    }
    .with_context(|| format!("{} is not an X.509 certificate", path.display()))?;
    Ok(certificate.to_der()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use x509_cert::der::Decode;

    #[test]
    fn the_own_certificate_is_made_once_and_names_the_organisation() {
        let directory = tempfile::tempdir().unwrap();
        let key = directory.path().join("provider-key.pem");
        let certificate = directory.path().join("provider-certificate.pem");
        let org_nr = OrgNr::parse("999900003").unwrap();
        let first =
            OwnProvider::load_or_create(org_nr.clone(), "Postkasse, test", &key, &certificate)
                .unwrap();
        let second =
            OwnProvider::load_or_create(org_nr, "Postkasse, test", &key, &certificate).unwrap();
        assert_eq!(
            first.provider.certificate_der,
            second.provider.certificate_der
        );
        let parsed = Certificate::from_der(&first.provider.certificate_der).unwrap();
        let subject = parsed.tbs_certificate.subject.to_string();
        assert!(subject.contains("999900003"), "{subject}");
        assert_eq!(
            read_certificate(&certificate).unwrap(),
            first.provider.certificate_der
        );
    }

    #[test]
    fn a_certificate_for_another_key_is_replaced() {
        let directory = tempfile::tempdir().unwrap();
        let key = directory.path().join("provider-key.pem");
        let certificate = directory.path().join("provider-certificate.pem");
        let org_nr = OrgNr::parse("999900003").unwrap();
        let first =
            OwnProvider::load_or_create(org_nr.clone(), "Postkasse", &key, &certificate).unwrap();
        std::fs::remove_file(&key).unwrap();
        let second = OwnProvider::load_or_create(org_nr, "Postkasse", &key, &certificate).unwrap();
        assert_ne!(
            first.provider.certificate_der,
            second.provider.certificate_der
        );
    }
}
