//! `validationTokens`: JSON Web Tokens the server signs (RS256) with its own key, one per app and
//! tenant a rich notification holds items for, with the claims Graph documents (`aud` the
//! subscribing app, `appid` the change-notification publisher, `tid`, `iss`, `iat`, `nbf`, `exp`).
//! The public key is published as a JWKS so a receiver can check them.
//!
//! Like the server's access tokens, they age in wall-clock time, not on the virtual clock.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    KeyPair, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256, RsaKeyPair, UnparsedPublicKey,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as BASE64URL;
use serde_json::{Value, json};

/// The app id Graph's change-notification publisher signs as ("must always be the same value").
pub(crate) const PUBLISHER_APP_ID: &str = "0bf30f3b-4a52-48df-9a82-234910c4a086";

/// How long a validation token is good for.
const LIFETIME: Duration = Duration::from_secs(3600);

/// The server's signer of validation tokens.
pub struct TokenIssuer {
    key: Arc<SigningKey>,
    tenant: String,
}

/// An RSA signing key and its `kid`: one a process, shared by every server in it (the suite
/// starts an in-process server for each case, and making a 2,048-bit key costs ~100 ms).
struct SigningKey {
    pair: RsaKeyPair,
    id: String,
}

static SIGNING_KEY: Mutex<Option<Arc<SigningKey>>> = Mutex::new(None);

fn signing_key() -> Result<Arc<SigningKey>, TokenError> {
    let mut held = SIGNING_KEY.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(key) = held.as_ref() {
        return Ok(Arc::clone(key));
    }
    let key = Arc::new(SigningKey {
        pair: RsaKeyPair::generate(KeySize::Rsa2048).map_err(|_| TokenError::Key)?,
        id: uuid::Uuid::new_v4().simple().to_string(),
    });
    *held = Some(Arc::clone(&key));
    Ok(key)
}

impl std::fmt::Debug for TokenIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenIssuer")
            .field("key_id", &self.key.id)
            .finish_non_exhaustive()
    }
}

/// Why a validation token is not good.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token issuer's key could not be made")]
    Key,
    #[error("not a JWT (three base64url parts)")]
    Shape,
    #[error("the signature does not verify")]
    Signature,
    #[error("the claims are not JSON")]
    Claims,
}

impl TokenIssuer {
    /// The issuer for `tenant`, with the process's signing key (made the first time).
    pub(crate) fn generate(tenant: &str) -> Result<Self, TokenError> {
        Ok(TokenIssuer {
            key: signing_key()?,
            tenant: tenant.to_owned(),
        })
    }

    /// A token for the app `audience` (the subscriber), issued now.
    pub fn issue(&self, audience: &str) -> Result<String, TokenError> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let header = json!({ "typ": "JWT", "alg": "RS256", "kid": self.key.id });
        let claims = json!({
            "aud": audience,
            "iss": format!("https://sts.windows.net/{}/", self.tenant),
            "iat": now,
            "nbf": now,
            "exp": now + LIFETIME.as_secs(),
            "appid": PUBLISHER_APP_ID,
            "appidacr": "2",
            "tid": self.tenant,
            "ver": "1.0",
        });
        let signing_input = format!(
            "{}.{}",
            BASE64URL.encode(header.to_string()),
            BASE64URL.encode(claims.to_string())
        );
        let mut signature = vec![0u8; self.key.pair.public_modulus_len()];
        self.key
            .pair
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                signing_input.as_bytes(),
                &mut signature,
            )
            .map_err(|_| TokenError::Key)?;
        Ok(format!("{signing_input}.{}", BASE64URL.encode(signature)))
    }

    /// The public key as a JSON Web Key Set.
    pub(crate) fn jwks(&self) -> Value {
        let public = self.key.pair.public_key();
        json!({ "keys": [{
            "kty": "RSA",
            "use": "sig",
            "alg": "RS256",
            "kid": self.key.id,
            "n": BASE64URL.encode(public.modulus().big_endian_without_leading_zero()),
            "e": BASE64URL.encode(public.exponent().big_endian_without_leading_zero()),
        }]})
    }

    /// The claims of `token` if this issuer signed it (for receivers and tests).
    pub fn verify(&self, token: &str) -> Result<Value, TokenError> {
        verify_with(self.key.pair.public_key().as_ref(), token)
    }
}

/// The claims of `token` if `public_key` (PKCS#1 RSAPublicKey DER) signed it.
pub fn verify_with(public_key: &[u8], token: &str) -> Result<Value, TokenError> {
    let mut parts = token.split('.');
    let (Some(header), Some(claims), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Shape);
    };
    let signature = BASE64URL.decode(signature).map_err(|_| TokenError::Shape)?;
    let signing_input = &token[..header.len() + 1 + claims.len()];
    UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, public_key)
        .verify(signing_input.as_bytes(), &signature)
        .map_err(|_| TokenError::Signature)?;
    let claims = BASE64URL.decode(claims).map_err(|_| TokenError::Shape)?;
    serde_json::from_slice(&claims).map_err(|_| TokenError::Claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_issued_token_verifies_and_carries_the_documented_claims() {
        let issuer = TokenIssuer::generate("tenant-1").unwrap();
        let token = issuer.issue("app-1").unwrap();
        let claims = issuer.verify(&token).unwrap();
        assert_eq!(claims["aud"], "app-1");
        assert_eq!(claims["appid"], PUBLISHER_APP_ID);
        assert_eq!(claims["tid"], "tenant-1");
        assert_eq!(claims["iss"], "https://sts.windows.net/tenant-1/");
        assert!(claims["exp"].as_u64() > claims["iat"].as_u64());
        let jwks = issuer.jwks();
        assert_eq!(jwks["keys"][0]["kty"], "RSA");
        assert_eq!(jwks["keys"][0]["e"], "AQAB");
    }

    #[test]
    fn a_changed_token_or_another_key_fails() {
        let issuer = TokenIssuer::generate("t").unwrap();
        let token = issuer.issue("app").unwrap();
        let mut parts: Vec<&str> = token.split('.').collect();
        let forged = BASE64URL.encode(r#"{"aud":"app","appid":"someone else"}"#);
        parts[1] = &forged;
        assert_eq!(issuer.verify(&parts.join(".")), Err(TokenError::Signature));
        // Another server's key (the process's own is shared by every issuer in it).
        let other = TokenIssuer {
            key: Arc::new(SigningKey {
                pair: RsaKeyPair::generate(KeySize::Rsa2048).unwrap(),
                id: "other".into(),
            }),
            tenant: "t".into(),
        };
        assert_eq!(other.verify(&token), Err(TokenError::Signature));
        assert_eq!(issuer.verify("a.b"), Err(TokenError::Shape));
    }
}
