//! DPoP proofs (RFC 9449): what the app signs so that its tokens are bound to a key only the
//! page holds. Pure: the key pair (WebCrypto, not extractable) and the signature come from
//! the platform; this module decides whether DPoP is used, builds what is signed, and reads
//! the servers' requests for a nonce.

use base64::prelude::{BASE64_URL_SAFE_NO_PAD, Engine as _};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::bearer::challenge_error;
use super::config::{ClientConfig, Preference};
use super::error::AuthError;
pub use super::jws::PublicJwk;
use super::metadata::ProviderMetadata;
use super::token::ErrorDocument;

/// The one proof algorithm this client signs with: ES256 (RFC 7518 §3.4), which every
/// browser's WebCrypto makes keys for quickly and RFC 9449 §5.1's providers list first.
pub const PROOF_ALGORITHM: &str = "ES256";

/// Whether this sign-in binds its tokens to a key (RFC 9449): with `"dpop": "auto"`, when
/// the provider advertises ES256 proofs (§5.1, `dpop_signing_alg_values_supported`); with
/// `true`, always, and a provider that does not is refused before anyone is sent to it.
pub fn dpop_in_use(metadata: &ProviderMetadata, config: &ClientConfig) -> Result<bool, AuthError> {
    let offered = metadata
        .dpop_signing_alg_values_supported
        .as_ref()
        .is_some_and(|algorithms| algorithms.iter().any(|alg| alg == PROOF_ALGORITHM));
    match config.dpop {
        Preference::Off => Ok(false),
        Preference::Auto => Ok(offered),
        Preference::Required if offered => Ok(true),
        Preference::Required => Err(AuthError::Config(
            "config.json asks for DPoP (\"dpop\": true), and the provider does not take ES256 proofs \
             (dpop_signing_alg_values_supported)"
                .into(),
        )),
    }
}

/// The longest nonce taken back from storage: far above what servers send, so a stored
/// value is bounded before it goes into a proof.
pub const MAX_NONCE_LEN: usize = 512;

/// Whether `value` can be a nonce (RFC 9449 §8.1: `1*NQCHAR`, printable ASCII but `"` and
/// `\`), at most [`MAX_NONCE_LEN`] bytes: what is read back from storage is checked before
/// it goes into a proof.
pub fn is_nonce(value: &str) -> bool {
    (1..=MAX_NONCE_LEN).contains(&value.len()) && value.bytes().all(|b| matches!(b, 0x21 | 0x23..=0x5B | 0x5D..=0x7E))
}

/// How a server refused a request's proof.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProofRefusal {
    /// `use_dpop_nonce`: send it again with the nonce in the answer's `DPoP-Nonce` header
    /// (§8, §9).
    UseNonce,
    /// `invalid_dpop_proof`: the proof was not taken; a nonce it carried may be one the server
    /// no longer takes (§4.3 step 10: the nonce must be the one it provided).
    InvalidProof,
}

/// How an answer refuses a request's proof, read where RFC 9449 puts it: a token endpoint's
/// 400 and its `error` (§5, §8); a resource's 401 and the error of its `DPoP` challenge (§7.1,
/// §9), where `resource` says the request presented an access token (UserInfo included).
pub fn proof_refusal(resource: bool, status: u16, www_authenticate: Option<&str>, body: &str) -> Option<ProofRefusal> {
    let error = match (resource, status) {
        (false, 400) => ErrorDocument::read(body).0,
        (true, 401) => www_authenticate.and_then(|value| challenge_error(value, "DPoP")),
        _ => None,
    }?;
    match error.as_str() {
        "use_dpop_nonce" => Some(ProofRefusal::UseNonce),
        "invalid_dpop_proof" => Some(ProofRefusal::InvalidProof),
        _ => None,
    }
}

/// A proof's `jti` (RFC 9449 §4.2): 16 random bytes, base64url, which §11.1 deems enough
/// for a server's replay check.
pub fn proof_id(random: &[u8; 16]) -> String {
    BASE64_URL_SAFE_NO_PAD.encode(random)
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
    let header = ProofHeader { typ: "dpop+jwt", alg: PROOF_ALGORITHM, jwk };
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
pub fn access_token_hash(access_token: &str) -> String {
    BASE64_URL_SAFE_NO_PAD.encode(Sha256::digest(access_token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metadata(dpop_algorithms: Option<&[&str]>) -> ProviderMetadata {
        let mut text = String::from(
            r#"{"issuer":"https://id.example","authorization_endpoint":"https://id.example/auth","token_endpoint":"https://id.example/token""#,
        );
        if let Some(algorithms) = dpop_algorithms {
            text += &format!(r#","dpop_signing_alg_values_supported":{}"#, serde_json::json!(algorithms));
        }
        ProviderMetadata::parse(&(text + "}"), "https://id.example").expect("metadata")
    }

    /// RFC 9449 §5.1: used when the provider takes ES256 proofs and the config allows it;
    /// a config that requires it refuses a provider that does not.
    #[test]
    fn dpop_is_used_when_the_provider_takes_es256_proofs_and_the_config_allows_it() {
        let config = |dpop: &str| {
            ClientConfig::parse(
                &format!(r#"{{"issuer":"https://id.example","client_id":"c","dpop":{dpop}}}"#),
                "https://app.example",
            )
            .expect("config")
        };
        let es256 = metadata(Some(&["Ed25519", "ES256"]));
        let other = metadata(Some(&["PS256"]));
        let none = metadata(None);
        assert_eq!(dpop_in_use(&es256, &config(r#""auto""#)), Ok(true));
        assert_eq!(dpop_in_use(&other, &config(r#""auto""#)), Ok(false));
        assert_eq!(dpop_in_use(&none, &config(r#""auto""#)), Ok(false));
        assert_eq!(dpop_in_use(&es256, &config("false")), Ok(false));
        assert_eq!(dpop_in_use(&es256, &config("true")), Ok(true));
        for refused in [&other, &none] {
            let error = dpop_in_use(refused, &config("true")).unwrap_err();
            assert!(matches!(&error, AuthError::Config(detail) if detail.contains("\"dpop\": true")), "{error:?}");
        }
    }

    /// RFC 9449 §8 (an authorization server's 400) and §9 (a resource server's 401 challenge).
    #[test]
    fn a_proof_is_refused_by_a_400_from_a_token_endpoint_or_a_401_dpop_challenge() {
        use ProofRefusal::*;
        let body =
            r#"{"error":"use_dpop_nonce","error_description":"Authorization server requires nonce in DPoP proof"}"#;
        assert_eq!(proof_refusal(false, 400, None, body), Some(UseNonce));
        assert_eq!(proof_refusal(false, 400, None, r#"{"error":"invalid_dpop_proof"}"#), Some(InvalidProof));
        assert_eq!(proof_refusal(false, 400, None, r#"{"error":"invalid_grant"}"#), None);
        assert_eq!(proof_refusal(false, 200, None, body), None);
        assert_eq!(proof_refusal(false, 401, None, body), None);
        assert_eq!(proof_refusal(true, 400, None, body), None, "a resource server says it in a 401 challenge");
        let challenge =
            r#"DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof""#;
        assert_eq!(proof_refusal(true, 401, Some(challenge), ""), Some(UseNonce));
        assert_eq!(proof_refusal(true, 401, Some(r#"DPoP error="invalid_dpop_proof""#), ""), Some(InvalidProof));
        assert_eq!(proof_refusal(false, 401, Some(challenge), ""), None, "a token endpoint says it in a 400");
        assert_eq!(proof_refusal(true, 403, Some(challenge), ""), None);
        assert_eq!(proof_refusal(true, 401, Some(r#"Bearer error="use_dpop_nonce""#), ""), None);
        assert_eq!(proof_refusal(true, 401, Some(r#"DPoP error="invalid_token""#), ""), None);
    }

    /// RFC 9449 §8.1: `nonce = 1*NQCHAR`, NQCHAR = %x21 / %x23-5B / %x5D-7E; at most 512 bytes
    /// are taken back from storage.
    #[test]
    fn a_nonce_is_one_to_512_printable_ascii_characters_but_quote_and_backslash() {
        assert!(is_nonce("eyJ7S_zG.9q-~!#[]"));
        assert!(is_nonce(&"n".repeat(MAX_NONCE_LEN)));
        assert!(!is_nonce(&"n".repeat(MAX_NONCE_LEN + 1)));
        assert!(!is_nonce(""));
        for refused in ["a b", "a\"b", "a\\b", "a\u{7f}", "a\tb", "a\nb", "é"] {
            assert!(!is_nonce(refused), "{refused:?}");
        }
        for edge in ["!", "#", "[", "]", "~"] {
            assert!(is_nonce(edge), "{edge:?}");
        }
    }

    #[test]
    fn a_proof_id_is_its_16_random_bytes_in_base64url() {
        assert_eq!(proof_id(&[0xfb; 16]), "-_v7-_v7-_v7-_v7-_v7-w");
        assert_ne!(proof_id(&[1; 16]), proof_id(&[2; 16]));
    }

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
        let token = "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU";
        assert_eq!(access_token_hash(token), "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo");
        let claims = ProofClaims {
            jti: "e1j3V_bKic8-LAEB",
            htm: "GET",
            htu: target_uri("https://resource.example.org/protectedresource"),
            iat: 1_562_262_618,
            nonce: Some("eyJ7S_zG.eyJH0-Z.HX4w-7v"),
            ath: Some(access_token_hash(token)),
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
