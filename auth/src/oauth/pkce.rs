//! PKCE (RFC 7636) and the other one-time random values of a sign-in.

use base64::prelude::{BASE64_URL_SAFE_NO_PAD, Engine as _};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

use super::secret::Secret;

/// The PKCE `code_verifier` (RFC 7636 §4.1). Not `Clone`, redacted in `Debug`: it is
/// used once, for the token request, and is otherwise only stored until then.
#[derive(Debug)]
pub struct PkceVerifier(Secret);

impl PkceVerifier {
    /// A verifier from 32 random bytes: 43 base64url characters, 256 bits of entropy
    /// (RFC 7636 §4.1 and §7.1). The bytes must come from a CSPRNG.
    pub fn from_random(bytes: &[u8; 32]) -> Self {
        PkceVerifier(Secret::new(BASE64_URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// A verifier read back from storage; `None` unless it is 43-128 unreserved characters.
    pub fn from_stored(text: &str) -> Option<Self> {
        let ok = (43..=128).contains(&text.len())
            && text.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
        ok.then(|| PkceVerifier(Secret::new(text.to_owned())))
    }

    /// `code_challenge` for method S256: BASE64URL(SHA256(ASCII(code_verifier))) (RFC 7636 §4.2).
    pub fn challenge_s256(&self) -> String {
        BASE64_URL_SAFE_NO_PAD.encode(Sha256::digest(self.expose().as_bytes()))
    }

    /// The verifier's text, for the token request (RFC 7636 §4.5) and the stored record.
    pub fn expose(&self) -> &str {
        self.0.expose()
    }
}

/// The stored form, for the pending sign-in record in sessionStorage (its one place
/// until the token request).
impl Serialize for PkceVerifier {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.expose())
    }
}

/// Read back from storage, which is untrusted: only the form RFC 7636 §4.1 allows.
impl<'de> Deserialize<'de> for PkceVerifier {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        PkceVerifier::from_stored(&text).ok_or_else(|| serde::de::Error::custom("not a PKCE code verifier"))
    }
}

/// An opaque random value for `state` or `nonce`: 32 CSPRNG bytes as base64url, 256 bits
/// (RFC 6749 §10.10 asks for at least 128).
pub fn random_value(bytes: &[u8; 32]) -> String {
    BASE64_URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7636 Appendix B: the verifier's octets, the verifier, and its S256 challenge.
    #[test]
    fn rfc7636_appendix_b() {
        let octets: [u8; 32] = [
            116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212, 37, 77, 105, 214, 191,
            240, 91, 88, 5, 88, 83, 132, 141, 121,
        ];
        let verifier = PkceVerifier::from_random(&octets);
        assert_eq!(verifier.expose(), "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
        assert_eq!(verifier.challenge_s256(), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    }

    #[test]
    fn verifier_is_43_unreserved_characters() {
        let verifier = PkceVerifier::from_random(&[0xff; 32]);
        assert_eq!(verifier.expose().len(), 43);
        assert!(PkceVerifier::from_stored(verifier.expose()).is_some());
    }

    #[test]
    fn stored_verifier_must_have_rfc_length_and_alphabet() {
        assert!(PkceVerifier::from_stored(&"a".repeat(42)).is_none());
        assert!(PkceVerifier::from_stored(&"a".repeat(129)).is_none());
        assert!(PkceVerifier::from_stored(&format!("{}+", "a".repeat(43))).is_none());
        assert!(PkceVerifier::from_stored(&"a~.-_".repeat(10)).is_some());
    }

    #[test]
    fn stored_form_round_trips_and_is_checked_when_read() {
        let verifier = PkceVerifier::from_random(&[9; 32]);
        let stored = serde_json::to_string(&verifier).unwrap();
        assert_eq!(stored, format!("\"{}\"", verifier.expose()));
        let back: PkceVerifier = serde_json::from_str(&stored).unwrap();
        assert_eq!(back.expose(), verifier.expose());
        assert!(serde_json::from_str::<PkceVerifier>("\"short\"").is_err());
        assert!(serde_json::from_str::<PkceVerifier>("42").is_err());
    }

    #[test]
    fn debug_does_not_print_the_verifier() {
        let verifier = PkceVerifier::from_random(&[7; 32]);
        assert!(!format!("{verifier:?}").contains(verifier.expose()));
    }
}
