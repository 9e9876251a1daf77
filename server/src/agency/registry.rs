//! The agency register: which organisations may send and look up, the key
//! each one signs its Maskinporten-style grants with, and where Postkasse
//! calls it back.
//!
//! Operators register agencies with `postkasse agency add`; this module holds
//! the rules that command applies, so the command itself stays a thin adapter.

use crate::{clock::Clock, store::StorageError};
use anyhow::Context;
use app::domain::OrgNr;
use rsa::{
    pkcs1::DecodeRsaPublicKey,
    pkcs8::{DecodePublicKey, EncodePublicKey, LineEnding},
    traits::PublicKeyParts,
    RsaPublicKey,
};
use secrecy::SecretString;
use x509_cert::der::{DecodePem, Encode};

/// Shorter RSA keys are refused: NSM and Digdir ask for at least 2048 bits.
pub const MIN_KEY_BITS: usize = 2048;

/// A registered agency, as a Maskinporten client.
#[derive(Debug, Clone)]
pub struct Agency {
    pub org_nr: OrgNr,
    pub name: String,
    /// What its grants name as `iss` (and `kid`).
    pub client_id: String,
    /// The RSA public key its grants are signed with, as an SPKI PEM.
    pub public_key_pem: String,
    /// The sender ids (avsenderidentifikatorer) it may send under.
    pub avsenderidentifikatorer: Vec<String>,
    pub callback: Option<Callback>,
}

impl Agency {
    /// Whether the agency's receipts are pushed to its callback, besides
    /// waiting at `GET /messages/in`.
    pub fn pushes_receipts(&self) -> bool {
        self.callback.is_some()
    }
}

/// Where Postkasse posts receipts to the agency, and the HMAC secret that
/// lets the agency know they came from here.
#[derive(Debug, Clone)]
pub struct Callback {
    pub url: url::Url,
    pub secret: SecretString,
}

/// What an operator gives to register an agency, not yet checked.
#[derive(Debug, Clone)]
pub struct NewAgency {
    pub org_nr: OrgNr,
    pub name: String,
    pub client_id: String,
    /// The PEM as read from the operator's file: a public key or a certificate.
    pub public_key_pem: String,
    pub avsenderidentifikatorer: Vec<String>,
    pub callback_url: Option<String>,
}

/// Registers the agency, or replaces what was registered for its
/// organisation number (including its callback, which is dropped when none
/// is given). A callback gets a fresh secret, returned in
/// [`Agency::callback`] to be shown once.
pub async fn register(
    store: &dyn super::Store,
    clock: &dyn Clock,
    new: NewAgency,
) -> anyhow::Result<Agency> {
    let agency = checked(new)?;
    match store.upsert_agency(&agency, clock.now()).await {
        Ok(()) => Ok(agency),
        Err(StorageError::Conflict(_)) => anyhow::bail!(
            "the client id {:?} is already another agency's",
            agency.client_id
        ),
        Err(error) => Err(error).context("cannot store the agency"),
    }
}

/// Applies the register's rules to what the operator gave.
fn checked(new: NewAgency) -> anyhow::Result<Agency> {
    let name = new.name.trim();
    anyhow::ensure!(!name.is_empty(), "the agency needs a name");
    check_client_id(&new.client_id)?;
    let public_key = parse_public_key(&new.public_key_pem)?;
    let mut avsenderidentifikatorer = Vec::new();
    for id in &new.avsenderidentifikatorer {
        let id = id.trim();
        anyhow::ensure!(
            !id.is_empty() && !id.contains(char::is_whitespace),
            "an avsenderidentifikator must be non-empty and without spaces: {id:?}"
        );
        if !avsenderidentifikatorer.iter().any(|known| known == id) {
            avsenderidentifikatorer.push(id.to_owned());
        }
    }
    let callback = match new.callback_url {
        None => None,
        Some(url) => {
            let url = url::Url::parse(&url)
                .with_context(|| format!("the callback URL {url:?} is not a URL"))?;
            anyhow::ensure!(
                matches!(url.scheme(), "https" | "http"),
                "the callback URL must be https (or http on a test network)"
            );
            Some(Callback {
                url,
                secret: SecretString::from(crate::tokens::random_token()),
            })
        }
    };
    Ok(Agency {
        org_nr: new.org_nr,
        name: name.to_owned(),
        client_id: new.client_id,
        public_key_pem: public_key
            .to_public_key_pem(LineEnding::LF)
            .context("cannot encode the public key")?,
        avsenderidentifikatorer,
        callback,
    })
}

/// Client ids travel in JWT headers, logs and URLs: keep them plain.
fn check_client_id(client_id: &str) -> anyhow::Result<()> {
    anyhow::ensure!(
        !client_id.is_empty()
            && client_id.len() <= 200
            && client_id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':')),
        "the client id must be 1 to 200 characters of letters, digits and - _ . :"
    );
    Ok(())
}

/// Reads an RSA public key from a PEM public key (SPKI or PKCS#1) or an X.509
/// certificate (such as an enterprise certificate), refusing keys shorter
/// than [`MIN_KEY_BITS`].
pub fn parse_public_key(pem: &str) -> anyhow::Result<RsaPublicKey> {
    let pem = pem.trim();
    let key = if pem.starts_with("-----BEGIN CERTIFICATE-----") {
        let certificate = x509_cert::Certificate::from_pem(pem.as_bytes())
            .context("the certificate does not parse")?;
        let spki = certificate
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .context("cannot encode the certificate's public key")?;
        RsaPublicKey::from_public_key_der(&spki)
            .context("the certificate's key is not an RSA key")?
    } else if pem.starts_with("-----BEGIN RSA PUBLIC KEY-----") {
        RsaPublicKey::from_pkcs1_pem(pem).context("the PKCS#1 public key does not parse")?
    } else if pem.starts_with("-----BEGIN PUBLIC KEY-----") {
        RsaPublicKey::from_public_key_pem(pem).context("the public key is not an RSA key")?
    } else {
        anyhow::bail!(
            "expected a PEM RSA public key (BEGIN PUBLIC KEY or BEGIN RSA PUBLIC KEY) \
             or certificate (BEGIN CERTIFICATE)"
        );
    };
    let bits = key.n().bits();
    anyhow::ensure!(
        bits >= MIN_KEY_BITS,
        "the RSA key has {bits} bits; at least {MIN_KEY_BITS} are required"
    );
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::{pkcs1::EncodeRsaPublicKey, RsaPrivateKey};
    use std::sync::OnceLock;

    fn key_2048() -> &'static RsaPrivateKey {
        static KEY: OnceLock<RsaPrivateKey> = OnceLock::new();
        KEY.get_or_init(|| RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap())
    }

    fn new_agency(pem: String) -> NewAgency {
        NewAgency {
            org_nr: OrgNr::parse("974760673").unwrap(),
            name: " Brønnøysundregistrene ".into(),
            client_id: "brreg-client".into(),
            public_key_pem: pem,
            avsenderidentifikatorer: vec!["brreg".into(), "brreg".into(), "brreg-2".into()],
            callback_url: None,
        }
    }

    #[test]
    fn spki_pkcs1_and_certificate_pems_give_the_same_key() {
        let public = key_2048().to_public_key();
        let spki = public.to_public_key_pem(LineEnding::LF).unwrap();
        let pkcs1 = public.to_pkcs1_pem(LineEnding::LF).unwrap();
        let certificate = crate::keys::self_signed(
            key_2048(),
            &OrgNr::parse("974760673").unwrap(),
            "Brønnøysundregistrene",
        )
        .unwrap();
        let certificate = x509_cert::der::EncodePem::to_pem(&certificate, LineEnding::LF).unwrap();
        for pem in [spki, pkcs1, certificate] {
            assert_eq!(parse_public_key(&pem).unwrap(), public, "{pem}");
        }
    }

    #[test]
    fn short_keys_and_other_pems_are_refused() {
        let short = RsaPrivateKey::new(&mut rand::thread_rng(), 1024)
            .unwrap()
            .to_public_key()
            .to_public_key_pem(LineEnding::LF)
            .unwrap();
        let error = parse_public_key(&short).unwrap_err().to_string();
        assert!(error.contains("1024 bits"), "{error}");
        let private = rsa::pkcs8::EncodePrivateKey::to_pkcs8_pem(key_2048(), LineEnding::LF)
            .unwrap()
            .to_string();
        assert!(parse_public_key(&private).is_err());
        assert!(parse_public_key("not a pem").is_err());
    }

    #[test]
    fn registration_normalises_the_key_and_trims_and_dedups() {
        let pkcs1 = key_2048()
            .to_public_key()
            .to_pkcs1_pem(LineEnding::LF)
            .unwrap();
        let agency = checked(new_agency(pkcs1)).unwrap();
        assert_eq!(agency.name, "Brønnøysundregistrene");
        assert!(agency
            .public_key_pem
            .starts_with("-----BEGIN PUBLIC KEY-----"));
        assert_eq!(agency.avsenderidentifikatorer, ["brreg", "brreg-2"]);
        assert!(agency.callback.is_none());
    }

    #[test]
    fn a_callback_gets_a_fresh_secret_and_must_be_http() {
        use secrecy::ExposeSecret;
        let pem = key_2048()
            .to_public_key()
            .to_public_key_pem(LineEnding::LF)
            .unwrap();
        let mut new = new_agency(pem);
        new.callback_url = Some("https://brreg.example.no/kvittering".into());
        let first = checked(new.clone()).unwrap().callback.unwrap();
        let second = checked(new.clone()).unwrap().callback.unwrap();
        assert_eq!(first.url.as_str(), "https://brreg.example.no/kvittering");
        assert!(first.secret.expose_secret().len() >= 43);
        assert_ne!(first.secret.expose_secret(), second.secret.expose_secret());
        new.callback_url = Some("ftp://brreg.example.no/".into());
        assert!(checked(new).is_err());
    }

    #[test]
    fn client_ids_are_plain() {
        assert!(check_client_id("3f2c9a1e-1c4b-4f8e-9b0a-0d6c2e7f1a55").is_ok());
        assert!(check_client_id("").is_err());
        assert!(check_client_id("has space").is_err());
        assert!(check_client_id("quote\"").is_err());
    }
}
