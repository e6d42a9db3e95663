//! Tokens: signed (HMAC-SHA256 JWS), self-contained claims of who, in which scope,
//! with which roles, until when. The key lives in the database so every Ferric
//! process on it accepts every other's tokens. A token also names its audit id, by
//! which it can be revoked before it expires.

use base64::Engine;
use ferric_types::identity::SigningKey;
use ferric_types::Timestamp;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};

/// What a token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user's id.
    pub sub: String,
    /// The project the token is scoped to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prj: Option<String>,
    /// Scoped to the system.
    #[serde(default)]
    pub sys: bool,
    /// The roles granted at issue (implied ones included).
    pub roles: Vec<String>,
    /// How the user authenticated (`password`, `application_credential`).
    pub mth: Vec<String>,
    /// Issued at, in microseconds since the epoch.
    pub iat: i64,
    /// Expires at, in seconds since the epoch.
    pub exp: u64,
    /// The audit id (revocation handle).
    pub jti: String,
    /// The application credential used, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
}

impl Claims {
    pub fn issued_at(&self) -> Timestamp {
        Timestamp::from_micros(self.iat)
    }

    pub fn expires_at(&self) -> Timestamp {
        Timestamp::from_micros(self.exp as i64 * 1_000_000)
    }
}

/// Signs and checks tokens with one key.
pub struct Signer {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl Signer {
    pub fn new(key: &SigningKey) -> Result<Signer, String> {
        let secret = base64::engine::general_purpose::STANDARD
            .decode(&key.secret)
            .map_err(|e| format!("the stored token signing key is not base64: {e}"))?;
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "sub"]);
        Ok(Signer {
            encoding: EncodingKey::from_secret(&secret),
            decoding: DecodingKey::from_secret(&secret),
            validation,
        })
    }

    pub fn sign(&self, claims: &Claims) -> Result<String, String> {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
            .map_err(|e| format!("cannot sign a token: {e}"))
    }

    /// The claims of a token this key signed and that has not expired.
    pub fn verify(&self, token: &str) -> Option<Claims> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .ok()
            .map(|d| d.claims)
    }
}

/// A new random signing key.
pub fn fresh_key() -> SigningKey {
    let mut secret = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut secret);
    SigningKey {
        uuid: uuid::Uuid::new_v4().simple().to_string(),
        secret: base64::engine::general_purpose::STANDARD.encode(secret),
        created_at: Timestamp::now(),
        updated_at: None,
    }
}

/// `len` random bytes as URL-safe base64: secrets, passwords, audit ids.
pub fn random_text(len: usize) -> String {
    let mut bytes = vec![0u8; len];
    rand::thread_rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A new audit id: 16 random bytes (Keystone's are 22 characters).
pub fn audit_id() -> String {
    random_text(16)
}

/// A timestamp as Keystone writes it: `2026-12-05T20:00:00.000000Z`.
pub fn keystone_time(t: Timestamp) -> String {
    t.to_string().replace("+00:00", "Z")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp: u64) -> Claims {
        Claims {
            sub: "u1".into(),
            prj: Some("p1".into()),
            sys: false,
            roles: vec!["member".into(), "reader".into()],
            mth: vec!["password".into()],
            iat: Timestamp::now().micros(),
            exp,
            jti: audit_id(),
            acr: None,
        }
    }

    fn now_secs() -> u64 {
        (Timestamp::now().micros() / 1_000_000) as u64
    }

    #[test]
    fn signed_tokens_verify_and_others_do_not() {
        let signer = Signer::new(&fresh_key()).unwrap();
        let c = claims(now_secs() + 60);
        let token = signer.sign(&c).unwrap();
        assert_eq!(signer.verify(&token), Some(c));
        let other = Signer::new(&fresh_key()).unwrap();
        assert_eq!(other.verify(&token), None, "another key's token");
        let expired = signer.sign(&claims(now_secs() - 1)).unwrap();
        assert_eq!(signer.verify(&expired), None, "an expired token");
        let mut tampered = token.clone();
        tampered.insert(tampered.len() / 2, 'x');
        assert_eq!(signer.verify(&tampered), None);
        assert_eq!(signer.verify("not a token"), None);
        assert_eq!(audit_id().len(), 22);
    }
}
