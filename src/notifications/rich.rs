//! Rich notifications: the resource data encrypted exactly as "Set up change notifications that
//! include resource data" documents it, and the receiving side that undoes it.
//!
//! The server makes a fresh AES-256 key for each notification, encrypts the JSON with AES-CBC and
//! PKCS7 padding, the IV being the key's first 16 bytes (`data`), signs `data` with HMAC-SHA256
//! under the same key (`dataSignature`), and encrypts the key with RSA-OAEP (SHA-1, as Graph's
//! samples decrypt it) under the subscriber's certificate (`dataKey`). The receiver (the runner's
//! webhook) holds a key pair and a self-signed certificate it generated itself.

use aws_lc_rs::cipher::{
    AES_256, AES_256_KEY_LEN, DecryptionContext, EncryptionContext, PaddedBlockDecryptingKey,
    PaddedBlockEncryptingKey, UnboundCipherKey,
};
use aws_lc_rs::iv::FixedLength;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use aws_lc_rs::rsa::{
    OAEP_SHA1_MGF1SHA1, OaepPrivateDecryptingKey, OaepPublicEncryptingKey, PrivateDecryptingKey,
    PublicEncryptingKey,
};
use aws_lc_rs::{digest, hmac};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};
use x509_cert::der::{Decode, Encode};

/// RSA key sizes Graph takes ("between 2,048 bits and 4,096 bits").
const KEY_BITS: std::ops::RangeInclusive<usize> = 2048..=4096;

/// Why an `encryptionCertificate` cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CertificateError {
    #[error("not base64")]
    Base64,
    #[error("not an X.509 certificate (DER): {0}")]
    X509(String),
    #[error("its public key is not an RSA key")]
    NotRsa,
    #[error("its RSA key has {0} bits; Graph takes 2,048 to 4,096")]
    KeySize(usize),
}

/// Why a rich notification cannot be made or read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RichError {
    #[error("{0} is not base64")]
    Base64(&'static str),
    #[error("the data signature does not match: the payload was tampered with")]
    Signature,
    #[error("the symmetric key could not be decrypted with this private key")]
    Key,
    #[error("the data could not be decrypted")]
    Data,
    #[error("the encryption failed")]
    Encrypt,
    #[error("the receiver's key could not be made: {0}")]
    KeyGeneration(String),
}

/// A subscriber's certificate: its RSA public key and SHA-1 thumbprint.
#[derive(Clone)]
pub struct EncryptionCertificate {
    key: std::sync::Arc<OaepPublicEncryptingKey>,
    /// Upper-case hex SHA-1 of the certificate's DER, as Graph writes it.
    thumbprint: String,
}

impl std::fmt::Debug for EncryptionCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EncryptionCertificate")
            .field("thumbprint", &self.thumbprint)
            .finish_non_exhaustive()
    }
}

impl EncryptionCertificate {
    /// Reads the base64 DER certificate of `encryptionCertificate`.
    pub fn from_base64(text: &str) -> Result<Self, CertificateError> {
        let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        let der = BASE64
            .decode(compact.as_bytes())
            .map_err(|_| CertificateError::Base64)?;
        Self::from_der(&der)
    }

    pub fn from_der(der: &[u8]) -> Result<Self, CertificateError> {
        let certificate = x509_cert::Certificate::from_der(der)
            .map_err(|e| CertificateError::X509(e.to_string()))?;
        let spki = certificate
            .tbs_certificate()
            .subject_public_key_info()
            .to_der()
            .map_err(|e| CertificateError::X509(e.to_string()))?;
        let public = PublicEncryptingKey::from_der(&spki).map_err(|_| CertificateError::NotRsa)?;
        let bits = public.key_size_bits();
        if !KEY_BITS.contains(&bits) {
            return Err(CertificateError::KeySize(bits));
        }
        let key = OaepPublicEncryptingKey::new(public).map_err(|_| CertificateError::NotRsa)?;
        let thumbprint = hex_upper(digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, der).as_ref());
        Ok(EncryptionCertificate {
            key: std::sync::Arc::new(key),
            thumbprint,
        })
    }

    pub fn thumbprint(&self) -> &str {
        &self.thumbprint
    }
}

/// `encryptedContent` of a rich notification.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EncryptedContent {
    pub data: String,
    pub data_signature: String,
    pub data_key: String,
    pub encryption_certificate_id: String,
    pub encryption_certificate_thumbprint: String,
}

/// Encrypts `plaintext` (the resource's JSON) for the holder of `certificate`.
pub(crate) fn encrypt(
    certificate: &EncryptionCertificate,
    certificate_id: &str,
    plaintext: &[u8],
) -> Result<EncryptedContent, RichError> {
    let mut key = [0u8; AES_256_KEY_LEN];
    SystemRandom::new()
        .fill(&mut key)
        .map_err(|_| RichError::Encrypt)?;
    let cipher = UnboundCipherKey::new(&AES_256, &key)
        .and_then(PaddedBlockEncryptingKey::cbc_pkcs7)
        .map_err(|_| RichError::Encrypt)?;
    let mut data = plaintext.to_vec();
    cipher
        .less_safe_encrypt(&mut data, EncryptionContext::Iv128(iv_of(&key)))
        .map_err(|_| RichError::Encrypt)?;
    let signature = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &key), &data);
    let mut wrapped = vec![0u8; certificate.key.ciphertext_size()];
    let wrapped = certificate
        .key
        .encrypt(&OAEP_SHA1_MGF1SHA1, &key, &mut wrapped, None)
        .map_err(|_| RichError::Encrypt)?;
    Ok(EncryptedContent {
        data: BASE64.encode(&data),
        data_signature: BASE64.encode(signature.as_ref()),
        data_key: BASE64.encode(wrapped),
        encryption_certificate_id: certificate_id.to_owned(),
        encryption_certificate_thumbprint: certificate.thumbprint.clone(),
    })
}

/// "Set the initialization vector by copying the first 16 bytes of the symmetric key".
fn iv_of(key: &[u8; AES_256_KEY_LEN]) -> FixedLength<16> {
    let mut iv = [0u8; 16];
    iv.copy_from_slice(&key[..16]);
    FixedLength::from(iv)
}

/// A receiver's key pair and the self-signed certificate it subscribes with.
pub struct ReceiverKey {
    private: OaepPrivateDecryptingKey,
    certificate_der: Vec<u8>,
}

impl std::fmt::Debug for ReceiverKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReceiverKey(***)")
    }
}

impl ReceiverKey {
    /// A fresh 2,048-bit RSA key and a self-signed certificate for it.
    pub(crate) fn generate() -> Result<Self, RichError> {
        let failed = |e: rcgen::Error| RichError::KeyGeneration(e.to_string());
        let pair =
            rcgen::KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_2048)
                .map_err(failed)?;
        let params =
            rcgen::CertificateParams::new(vec!["presence-conformance-receiver".to_owned()])
                .map_err(failed)?;
        let certificate = params.self_signed(&pair).map_err(failed)?;
        let private = PrivateDecryptingKey::from_pkcs8(&pair.serialize_der())
            .ok()
            .and_then(|k| OaepPrivateDecryptingKey::new(k).ok())
            .ok_or_else(|| RichError::KeyGeneration("the RSA key did not load".to_owned()))?;
        Ok(ReceiverKey {
            private,
            certificate_der: certificate.der().to_vec(),
        })
    }

    /// The certificate as `encryptionCertificate` takes it (base64 DER).
    pub fn certificate_base64(&self) -> String {
        BASE64.encode(&self.certificate_der)
    }

    /// The certificate's thumbprint, as notifications carry it.
    pub fn thumbprint(&self) -> String {
        hex_upper(digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, &self.certificate_der).as_ref())
    }

    /// Checks the signature and decrypts `content`, as the documentation's samples do.
    pub(crate) fn decrypt(&self, content: &EncryptedContent) -> Result<Vec<u8>, RichError> {
        let wrapped = BASE64
            .decode(&content.data_key)
            .map_err(|_| RichError::Base64("dataKey"))?;
        let mut buffer = vec![0u8; self.private.min_output_size()];
        let key = self
            .private
            .decrypt(&OAEP_SHA1_MGF1SHA1, &wrapped, &mut buffer, None)
            .map_err(|_| RichError::Key)?;
        let key: [u8; AES_256_KEY_LEN] = key.try_into().map_err(|_| RichError::Key)?;
        let mut data = BASE64
            .decode(&content.data)
            .map_err(|_| RichError::Base64("data"))?;
        let signature = BASE64
            .decode(&content.data_signature)
            .map_err(|_| RichError::Base64("dataSignature"))?;
        hmac::verify(&hmac::Key::new(hmac::HMAC_SHA256, &key), &data, &signature)
            .map_err(|_| RichError::Signature)?;
        let cipher = UnboundCipherKey::new(&AES_256, &key)
            .and_then(PaddedBlockDecryptingKey::cbc_pkcs7)
            .map_err(|_| RichError::Data)?;
        let plain = cipher
            .decrypt(&mut data, DecryptionContext::Iv128(iv_of(&key)))
            .map_err(|_| RichError::Data)?;
        Ok(plain.to_vec())
    }
}

fn hex_upper(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02X}");
        out
    })
}

#[cfg(test)]
mod tests {
    use std::sync::LazyLock;

    use super::*;

    /// One key for the module: RSA key generation takes a moment.
    static RECEIVER: LazyLock<ReceiverKey> =
        LazyLock::new(|| ReceiverKey::generate().expect("a receiver key"));

    fn certificate() -> EncryptionCertificate {
        EncryptionCertificate::from_base64(&RECEIVER.certificate_base64()).unwrap()
    }

    #[test]
    fn encrypt_then_decrypt_round_trips() {
        let plain = br#"{"id":"u","availability":"Busy","activity":"InACall"}"#;
        let content = encrypt(&certificate(), "cert-1", plain).unwrap();
        assert_eq!(content.encryption_certificate_id, "cert-1");
        assert_eq!(
            content.encryption_certificate_thumbprint,
            RECEIVER.thumbprint()
        );
        assert_eq!(content.encryption_certificate_thumbprint.len(), 40);
        assert_eq!(RECEIVER.decrypt(&content).unwrap(), plain);
        // A fresh key each time: the same plaintext encrypts differently.
        let again = encrypt(&certificate(), "cert-1", plain).unwrap();
        assert_ne!(again.data, content.data);
        assert_ne!(again.data_key, content.data_key);
    }

    #[test]
    fn the_layout_is_the_documented_one() {
        // Decrypt by hand with the documented parameters: the key by OAEP, the IV the key's first
        // 16 bytes, AES-256-CBC with PKCS7, the signature HMAC-SHA256 over the encrypted bytes.
        let plain = b"0123456789abcdef0123"; // 20 bytes: two blocks after PKCS7 padding
        let content = encrypt(&certificate(), "c", plain).unwrap();
        let wrapped = BASE64.decode(&content.data_key).unwrap();
        let mut buffer = vec![0u8; RECEIVER.private.min_output_size()];
        let key = RECEIVER
            .private
            .decrypt(&OAEP_SHA1_MGF1SHA1, &wrapped, &mut buffer, None)
            .unwrap()
            .to_vec();
        assert_eq!(key.len(), 32);
        let data = BASE64.decode(&content.data).unwrap();
        assert_eq!(data.len(), 32);
        let expected = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &key), &data);
        assert_eq!(
            BASE64.decode(&content.data_signature).unwrap(),
            expected.as_ref()
        );
    }

    #[test]
    fn a_tampered_payload_fails_the_signature() {
        let content = encrypt(&certificate(), "c", b"{\"availability\":\"Away\"}").unwrap();
        let mut data = BASE64.decode(&content.data).unwrap();
        data[0] ^= 1;
        let tampered = EncryptedContent {
            data: BASE64.encode(&data),
            ..content.clone()
        };
        assert_eq!(RECEIVER.decrypt(&tampered), Err(RichError::Signature));
        let mut signature = BASE64.decode(&content.data_signature).unwrap();
        signature[31] ^= 0x80;
        let resigned = EncryptedContent {
            data_signature: BASE64.encode(&signature),
            ..content.clone()
        };
        assert_eq!(RECEIVER.decrypt(&resigned), Err(RichError::Signature));
        let garbage = EncryptedContent {
            data_key: "not base64!".into(),
            ..content
        };
        assert_eq!(
            RECEIVER.decrypt(&garbage),
            Err(RichError::Base64("dataKey"))
        );
    }

    #[test]
    fn bad_certificates_are_refused_with_a_reason() {
        assert_eq!(
            EncryptionCertificate::from_base64("***").unwrap_err(),
            CertificateError::Base64
        );
        assert!(matches!(
            EncryptionCertificate::from_base64("aGVsbG8=").unwrap_err(),
            CertificateError::X509(_)
        ));
        // An EC certificate is no RSA key.
        let ec = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let cert = rcgen::CertificateParams::new(vec!["x".to_owned()])
            .unwrap()
            .self_signed(&ec)
            .unwrap();
        assert_eq!(
            EncryptionCertificate::from_der(cert.der()).unwrap_err(),
            CertificateError::NotRsa
        );
    }
}
