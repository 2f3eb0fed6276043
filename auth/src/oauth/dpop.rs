//! DPoP proofs (RFC 9449): what the app signs so that its tokens are bound to a key only the
//! page holds. Pure: the key pair (WebCrypto, not extractable) and the signature come from
//! the platform; this module builds what is signed and what the servers are shown.
//!
//! Not wired into the session yet (issue 12, part 2): the proof's parts, tested against the
//! RFCs' own examples, for the token requests and API calls to use.

use base64::prelude::{BASE64_URL_SAFE_NO_PAD, Engine as _};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::secret::Secret;

/// A public key as a JWK (RFC 7517), with only the members RFC 7638 §3.2 requires: what a
/// proof's header carries and what the token's thumbprint is taken of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kty")]
pub enum PublicJwk {
    /// An elliptic-curve key (the page's own: P-256, for ES256).
    #[serde(rename = "EC")]
    Ec {
        /// The curve, `P-256`.
        crv: String,
        /// The point's coordinates, base64url.
        x: String,
        /// The point's coordinates, base64url.
        y: String,
    },
    /// An RSA key (a provider's; here for RFC 7638's own example).
    #[serde(rename = "RSA")]
    Rsa {
        /// The exponent, base64url.
        e: String,
        /// The modulus, base64url.
        n: String,
    },
}

impl PublicJwk {
    /// The JWK thumbprint (RFC 7638 §3): SHA-256 over the required members in
    /// lexicographic order with no whitespace, base64url. What a DPoP-bound token's
    /// `cnf.jkt` names (RFC 9449 §6.1).
    pub fn thumbprint(&self) -> String {
        // serde_json writes strings with RFC 8259's minimal escaping, as §3.3 asks.
        let text = |value: &str| serde_json::to_string(value).unwrap_or_default();
        let canonical = match self {
            PublicJwk::Ec { crv, x, y } => {
                format!(r#"{{"crv":{},"kty":"EC","x":{},"y":{}}}"#, text(crv), text(x), text(y))
            }
            PublicJwk::Rsa { e, n } => format!(r#"{{"e":{},"kty":"RSA","n":{}}}"#, text(e), text(n)),
        };
        BASE64_URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
    }
}

/// What one proof says (RFC 9449 §4.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProofClaims<'a> {
    /// A unique identifier for this proof (the server's replay check).
    pub jti: &'a str,
    /// The request's method.
    pub htm: &'a str,
    /// The request's URI without query and fragment (see [`target_uri`]).
    pub htu: &'a str,
    /// When the proof was made, in seconds since the Unix epoch.
    pub iat: u64,
    /// The newest nonce this server gave (§8, §9), if it gave one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<&'a str>,
    /// A resource request's access token hash (see [`access_token_hash`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ath: Option<String>,
}

#[derive(Serialize)]
struct ProofHeader<'a> {
    typ: &'static str,
    alg: &'static str,
    jwk: &'a PublicJwk,
}

/// The proof's signing input (RFC 9449 §4.2, RFC 7515 §5.1): its header (`typ`
/// `dpop+jwt`, `alg` ES256, the public `jwk`) and claims, each base64url JSON, joined by
/// a dot. The platform signs it with the page's private key; [`proof`] finishes it.
pub fn proof_signing_input(jwk: &PublicJwk, claims: &ProofClaims) -> String {
    let header = ProofHeader { typ: "dpop+jwt", alg: "ES256", jwk };
    let part = |json: serde_json::Result<String>| BASE64_URL_SAFE_NO_PAD.encode(json.unwrap_or_default());
    format!("{}.{}", part(serde_json::to_string(&header)), part(serde_json::to_string(claims)))
}

/// The proof: the signing input and its signature (ES256: `r || s`, 64 bytes, as WebCrypto
/// gives it and RFC 7518 §3.4 wants it), base64url.
pub fn proof(signing_input: &str, signature: &[u8]) -> String {
    format!("{signing_input}.{}", BASE64_URL_SAFE_NO_PAD.encode(signature))
}

/// `htu` (RFC 9449 §4.2): the request's URI without its query and fragment.
pub fn target_uri(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or(url)
}

/// `ath` (RFC 9449 §4.2): base64url SHA-256 of the access token's ASCII, which binds a
/// resource request's proof to the token it is sent with.
pub fn access_token_hash(access_token: &Secret) -> String {
    BASE64_URL_SAFE_NO_PAD.encode(Sha256::digest(access_token.expose().as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The key of RFC 9449's examples (§4.1 proof header, §6.1 `jkt`).
    fn rfc_9449_key() -> PublicJwk {
        PublicJwk::Ec {
            crv: "P-256".into(),
            x: "l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs".into(),
            y: "9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA".into(),
        }
    }

    #[test]
    fn thumbprints_match_rfc_7638_and_rfc_9449() {
        // RFC 7638 §3.1.
        let rsa = PublicJwk::Rsa {
            e: "AQAB".into(),
            n: "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebW\
                KRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMi\
                cAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3X\
                PksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
                .into(),
        };
        assert_eq!(rsa.thumbprint(), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
        // RFC 9449 §6.1: the example token's `cnf.jkt`.
        assert_eq!(rfc_9449_key().thumbprint(), "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I");
    }

    /// RFC 9449 §4.1's example proof, as this module writes it: the same header and claims.
    #[test]
    fn a_proof_carries_the_header_and_claims_of_rfc_9449() {
        let claims = ProofClaims {
            jti: "-BwC3ESc6acc2lTc",
            htm: "POST",
            htu: target_uri("https://server.example.com/token?x=1#f"),
            iat: 1_562_262_616,
            nonce: None,
            ath: None,
        };
        let input = proof_signing_input(&rfc_9449_key(), &claims);
        let decode = |part: &str| -> serde_json::Value {
            serde_json::from_slice(&BASE64_URL_SAFE_NO_PAD.decode(part).expect("base64url")).expect("JSON")
        };
        let (header, payload) = input.split_once('.').expect("two parts");
        assert_eq!(
            decode(header),
            serde_json::json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": {
                "kty": "EC", "crv": "P-256",
                "x": "l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs",
                "y": "9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA"}})
        );
        assert_eq!(
            decode(payload),
            serde_json::json!({"jti": "-BwC3ESc6acc2lTc", "htm": "POST",
                "htu": "https://server.example.com/token", "iat": 1_562_262_616})
        );
        let signed = proof(&input, &[7; 64]);
        assert_eq!(signed.split('.').count(), 3);
        assert_eq!(BASE64_URL_SAFE_NO_PAD.decode(signed.rsplit('.').next().unwrap()).unwrap(), [7; 64]);
    }

    /// RFC 9449 §4.2's example `ath`, and a resource request's proof with a server's nonce.
    #[test]
    fn a_resource_proof_carries_the_token_hash_and_the_newest_nonce() {
        let token = Secret::new("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU".into());
        assert_eq!(access_token_hash(&token), "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo");
        let claims = ProofClaims {
            jti: "e1j3V_bKic8-LAEB",
            htm: "GET",
            htu: target_uri("https://resource.example.org/protectedresource"),
            iat: 1_562_262_618,
            nonce: Some("eyJ7S_zG.eyJH0-Z.HX4w-7v"),
            ath: Some(access_token_hash(&token)),
        };
        let input = proof_signing_input(&rfc_9449_key(), &claims);
        let payload = input.split('.').nth(1).expect("claims");
        let claims: serde_json::Value =
            serde_json::from_slice(&BASE64_URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        assert_eq!(claims["ath"], "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo");
        assert_eq!(claims["nonce"], "eyJ7S_zG.eyJH0-Z.HX4w-7v");
        assert!(!input.contains("Kz~8mXK1"), "the token itself is not in the proof");
    }
}
