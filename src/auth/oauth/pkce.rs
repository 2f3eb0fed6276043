//! PKCE (RFC 7636) and the other one-time random values of a sign-in.

use super::base64url;
use super::secret::Secret;

/// The PKCE `code_verifier` (RFC 7636 §4.1). Not `Clone`, redacted in `Debug`: it is
/// used once, for the token request, and is otherwise only stored until then.
#[derive(Debug)]
pub struct PkceVerifier(Secret);

impl PkceVerifier {
    /// A verifier from 32 random bytes: 43 base64url characters, 256 bits of entropy
    /// (RFC 7636 §4.1 and §7.1). The bytes must come from a CSPRNG.
    pub fn from_random(bytes: &[u8; 32]) -> Self {
        PkceVerifier(Secret::new(base64url::encode(bytes)))
    }

    /// A verifier read back from storage; `None` unless it is 43-128 unreserved characters.
    pub fn from_stored(text: &str) -> Option<Self> {
        let ok = (43..=128).contains(&text.len())
            && text.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
        ok.then(|| PkceVerifier(Secret::new(text.to_owned())))
    }

    /// `code_challenge` for method S256: BASE64URL(SHA256(ASCII(code_verifier))) (RFC 7636 §4.2).
    /// `sha256` is SHA256(ASCII(code_verifier)), computed by the caller: the browser's
    /// WebCrypto in the app, which costs no bundle bytes.
    pub fn challenge_s256(sha256: &[u8; 32]) -> String {
        base64url::encode(sha256)
    }

    pub fn expose(&self) -> &str {
        self.0.expose()
    }
}

/// An opaque random value for `state` or `nonce`: 32 CSPRNG bytes as base64url, 256 bits
/// (RFC 6749 §10.10 asks for at least 128).
pub fn random_value(bytes: &[u8; 32]) -> String {
    base64url::encode(bytes)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    /// SHA-256 for native tests (the app uses WebCrypto).
    pub fn sha256(text: &str) -> [u8; 32] {
        Sha256::digest(text.as_bytes()).into()
    }

    /// RFC 7636 Appendix B: the verifier's octets, the verifier, and its S256 challenge.
    #[test]
    fn rfc7636_appendix_b() {
        let octets: [u8; 32] = [
            116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212, 37, 77, 105, 214, 191,
            240, 91, 88, 5, 88, 83, 132, 141, 121,
        ];
        let verifier = PkceVerifier::from_random(&octets);
        assert_eq!(verifier.expose(), "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
        assert_eq!(
            PkceVerifier::challenge_s256(&sha256(verifier.expose())),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
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
    fn debug_does_not_print_the_verifier() {
        let verifier = PkceVerifier::from_random(&[7; 32]);
        assert!(!format!("{verifier:?}").contains(verifier.expose()));
    }
}
