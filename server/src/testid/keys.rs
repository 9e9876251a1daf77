//! TestID's signing key: RSA 2048, generated on first start and kept in a PEM
//! file, so tokens and cached JWKS stay valid across restarts.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use jsonwebtoken::{DecodingKey, EncodingKey};
use rsa::{
    pkcs8::{EncodePrivateKey, LineEnding},
    traits::PublicKeyParts,
    RsaPrivateKey,
};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::path::Path;

pub struct SigningKey {
    pub kid: String,
    pub encoding: EncodingKey,
    pub decoding: DecodingKey,
    /// The public half as a JWK, for the JWKS document.
    pub jwk: Value,
}

impl SigningKey {
    /// Loads the key from `path`, generating and saving one if the file is missing.
    pub fn load_or_generate(path: &Path) -> anyhow::Result<SigningKey> {
        Self::from_private_key(&crate::keys::load_or_generate_rsa(path, "TestID key")?)
    }

    fn from_private_key(private_key: &RsaPrivateKey) -> anyhow::Result<SigningKey> {
        let public_key = private_key.to_public_key();
        let n = URL_SAFE_NO_PAD.encode(public_key.n().to_bytes_be());
        let e = URL_SAFE_NO_PAD.encode(public_key.e().to_bytes_be());
        // The key id is a thumbprint-like digest of the modulus: stable for the key.
        let kid = URL_SAFE_NO_PAD.encode(&Sha256::digest(n.as_bytes())[..12]);
        let pem = private_key.to_pkcs8_pem(LineEnding::LF)?;
        Ok(SigningKey {
            encoding: EncodingKey::from_rsa_pem(pem.as_bytes())?,
            decoding: DecodingKey::from_rsa_components(&n, &e)?,
            jwk: json!({ "kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid, "n": n, "e": e }),
            kid,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_is_kept_and_reloaded_with_the_same_id() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("keys/testid.pem");
        let first = SigningKey::load_or_generate(&path).unwrap();
        let second = SigningKey::load_or_generate(&path).unwrap();
        assert_eq!(first.kid, second.kid);
        assert_eq!(first.jwk, second.jwk);
        assert_eq!(first.jwk["alg"], "RS256");
    }
}
