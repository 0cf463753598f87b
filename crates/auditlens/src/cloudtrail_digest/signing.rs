//! Signing digests the way AWS does, with a private key: for building test exports and demos only. Verifying an
//! export never needs a private key; AWS signs real digests.

use rsa::PrivateKey;
use rsa::pkcs1::EncodeRsaPublicKey as _;
use rsa::pkcs8::{DecodePrivateKey as _, EncodePublicKey as _};

use super::CloudTrailError;
use super::keys::hex_lower;

/// An RSA private key that signs like CloudTrail (SHA256withRSA, hex signatures).
#[derive(Debug, Clone)]
pub struct DigestSigner {
    key: PrivateKey,
}

impl DigestSigner {
    /// The key from a PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`).
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self, CloudTrailError> {
        PrivateKey::from_pkcs8_pem(pem)
            .map(|key| DigestSigner { key })
            .map_err(|e| CloudTrailError::SigningKey(e.to_string()))
    }

    /// The hex SHA256withRSA signature of `message` (e.g. [`super::string_to_sign`]).
    pub fn sign_hex(&self, message: &[u8]) -> Result<String, CloudTrailError> {
        self.key
            .pkcs1v15_sign::<sha2::Sha256>(message)
            .map(|s| hex_lower(&s))
            .map_err(|e| CloudTrailError::SigningKey(e.to_string()))
    }

    /// The public key as PKCS#1 `RSAPublicKey` DER (the form `list-public-keys` usually gives).
    pub fn public_key_pkcs1_der(&self) -> Result<Vec<u8>, CloudTrailError> {
        self.key
            .to_public_key()
            .to_pkcs1_der()
            .map(|d| d.as_bytes().to_vec())
            .map_err(|e| CloudTrailError::SigningKey(e.to_string()))
    }

    /// The public key as `SubjectPublicKeyInfo` DER.
    pub fn public_key_spki_der(&self) -> Result<Vec<u8>, CloudTrailError> {
        self.key
            .to_public_key()
            .to_public_key_der()
            .map(|d| d.as_bytes().to_vec())
            .map_err(|e| CloudTrailError::SigningKey(e.to_string()))
    }
}
