//! The ID token's signature (OpenID Connect Core §3.1.3.7 step 6, RFC 7515 §5.2): which
//! key of the provider's JWKS (RFC 7517) must have signed it, and with which algorithm
//! (RFC 7518 §3). The verification itself is WebCrypto's (`browser::verify_signature`);
//! this module decides everything around it, so that the browser layer only runs it.

use base64::prelude::{BASE64_URL_SAFE_NO_PAD, Engine as _};
use serde::de::{DeserializeOwned, IgnoredAny};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

use super::document;
use super::error::AuthError;

/// The asymmetric JWS algorithms WebCrypto can verify. Anything else, `none` and the
/// HMAC family included (a public client has no secret to share), is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwsAlgorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256 (RFC 7518 §3.3).
    Rs256,
    /// RSASSA-PKCS1-v1_5 with SHA-384 (RFC 7518 §3.3).
    Rs384,
    /// RSASSA-PKCS1-v1_5 with SHA-512 (RFC 7518 §3.3).
    Rs512,
    /// RSASSA-PSS with SHA-256 and MGF1 with SHA-256 (RFC 7518 §3.5).
    Ps256,
    /// RSASSA-PSS with SHA-384 and MGF1 with SHA-384 (RFC 7518 §3.5).
    Ps384,
    /// RSASSA-PSS with SHA-512 and MGF1 with SHA-512 (RFC 7518 §3.5).
    Ps512,
    /// ECDSA with P-256 and SHA-256 (RFC 7518 §3.4).
    Es256,
    /// ECDSA with P-384 and SHA-384 (RFC 7518 §3.4).
    Es384,
    /// ECDSA with P-521 and SHA-512 (RFC 7518 §3.4).
    Es512,
}

impl JwsAlgorithm {
    /// The algorithm a JOSE `alg` value names, matched exactly (RFC 7518 §3.1); `None` for
    /// any this client does not accept.
    pub fn from_name(name: &str) -> Option<JwsAlgorithm> {
        use JwsAlgorithm::*;
        Some(match name {
            "RS256" => Rs256,
            "RS384" => Rs384,
            "RS512" => Rs512,
            "PS256" => Ps256,
            "PS384" => Ps384,
            "PS512" => Ps512,
            "ES256" => Es256,
            "ES384" => Es384,
            "ES512" => Es512,
            _ => return None,
        })
    }

    /// Its `alg` value (RFC 7518 §3.1).
    pub fn name(self) -> &'static str {
        use JwsAlgorithm::*;
        match self {
            Rs256 => "RS256",
            Rs384 => "RS384",
            Rs512 => "RS512",
            Ps256 => "PS256",
            Ps384 => "PS384",
            Ps512 => "PS512",
            Es256 => "ES256",
            Es384 => "ES384",
            Es512 => "ES512",
        }
    }

    /// WebCrypto's name for the algorithm family.
    pub fn webcrypto_name(self) -> &'static str {
        use JwsAlgorithm::*;
        match self {
            Rs256 | Rs384 | Rs512 => "RSASSA-PKCS1-v1_5",
            Ps256 | Ps384 | Ps512 => "RSA-PSS",
            Es256 | Es384 | Es512 => "ECDSA",
        }
    }

    /// The hash, as WebCrypto names it.
    pub fn hash(self) -> &'static str {
        use JwsAlgorithm::*;
        match self {
            Rs256 | Ps256 | Es256 => "SHA-256",
            Rs384 | Ps384 | Es384 => "SHA-384",
            Rs512 | Ps512 | Es512 => "SHA-512",
        }
    }

    /// For RSA-PSS: the salt length, the hash's length (RFC 7518 §3.5).
    pub fn pss_salt_len(self) -> Option<u32> {
        use JwsAlgorithm::*;
        match self {
            Ps256 => Some(32),
            Ps384 => Some(48),
            Ps512 => Some(64),
            _ => None,
        }
    }

    /// For ECDSA: the curve, and the byte length of each of the signature's R and S
    /// (RFC 7518 §3.4).
    pub fn curve(self) -> Option<(&'static str, usize)> {
        match self {
            JwsAlgorithm::Es256 => Some(("P-256", 32)),
            JwsAlgorithm::Es384 => Some(("P-384", 48)),
            JwsAlgorithm::Es512 => Some(("P-521", 66)),
            _ => None,
        }
    }

    fn key_type(self) -> &'static str {
        if self.curve().is_some() { "EC" } else { "RSA" }
    }
}

/// One signature verification for WebCrypto to run: import `jwk` for `alg`, verify
/// `signature` over `signing_input`.
pub struct SignatureCheck {
    /// The algorithm the token's header names, one this provider may use.
    pub alg: JwsAlgorithm,
    /// The public key as a minimal JWK (only the members WebCrypto needs).
    pub jwk: String,
    /// `BASE64URL(header) '.' BASE64URL(payload)` (RFC 7515 §5.2 step 8).
    pub signing_input: String,
    /// The decoded signature; for ECDSA, R and S side by side (RFC 7518 §3.4), as WebCrypto
    /// verifies it.
    pub signature: Vec<u8>,
}

/// Proof that an ID token's signature verified, tied to the token it was made for: only
/// [`SignatureCheck::verdict`] makes one, from WebCrypto's answer.
#[derive(Debug)]
pub struct VerifiedSignature {
    signing_input: String,
}

impl VerifiedSignature {
    /// Whether this proof is for the compact JWS `jwt`.
    pub(super) fn is_for(&self, jwt: &str) -> bool {
        jwt.rsplit_once('.').is_some_and(|(signing_input, _)| signing_input == self.signing_input)
    }
}

impl SignatureCheck {
    /// WebCrypto's answer to this check (`browser::verify_signature`): `Some(true)` proves
    /// the signature; `Some(false)` and `None` (the key or parameters refused) refuse it.
    pub fn verdict(self, valid: Option<bool>) -> Result<VerifiedSignature, AuthError> {
        match valid {
            Some(true) => Ok(VerifiedSignature { signing_input: self.signing_input }),
            Some(false) => Err(refused("its signature does not match the provider's keys")),
            None => Err(refused("the provider's signing key cannot be used")),
        }
    }
}

/// The token's contents stay out of logs, as every token does.
impl core::fmt::Debug for SignatureCheck {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SignatureCheck").field("alg", &self.alg).field("jwk", &self.jwk).finish_non_exhaustive()
    }
}

fn refused(detail: &str) -> AuthError {
    AuthError::InvalidIdToken(detail.into())
}

/// The three parts of a compact JWS (RFC 7515 §7.1): header, payload, signature, each
/// still base64url. `None` for any other number of parts.
pub(super) fn compact_parts(jwt: &str) -> Option<(&str, &str, &str)> {
    let mut parts = jwt.split('.');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(header), Some(payload), Some(signature), None) => Some((header, payload, signature)),
        _ => None,
    }
}

/// Decodes one base64url part of a JWS, a JSON object, as a `T`; the error says why not.
pub(super) fn json_part<T: DeserializeOwned>(part: &str) -> Result<T, String> {
    let bytes = BASE64_URL_SAFE_NO_PAD.decode(part).map_err(|_| "it is not base64url".to_owned())?;
    let text = core::str::from_utf8(&bytes).map_err(|_| "it is not UTF-8".to_owned())?;
    document::parse(text).map_err(|error| error.to_string())
}

/// The JOSE header members this client reads (RFC 7515 §4.1): the claim checks and the
/// key choice read the same header.
#[derive(Deserialize)]
pub(super) struct JoseHeader {
    pub(super) alg: Option<String>,
    pub(super) kid: Option<String>,
    /// Whether `crit` is there at all, `null` included (§4.1.11): this client understands
    /// no critical extension, so a token that names any is refused.
    #[serde(default, deserialize_with = "present")]
    pub(super) crit: bool,
}

/// True for any value at all; with `#[serde(default)]`, false when the member is absent.
fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    IgnoredAny::deserialize(deserializer).map(|_| true)
}

/// A JWK Set (RFC 7517 §5). Its keys are read one by one, so that a key this client
/// cannot read is skipped rather than spoiling the set (§5: "SHOULD ignore").
#[derive(Deserialize)]
struct KeySet {
    keys: Vec<Box<RawValue>>,
}

/// The members of a JWK (RFC 7517 §4, RFC 7518 §6) that choose and make the key.
#[derive(Deserialize)]
struct Jwk {
    kty: Option<String>,
    kid: Option<String>,
    #[serde(rename = "use")]
    public_key_use: Option<String>,
    key_ops: Option<Vec<String>>,
    alg: Option<String>,
    crv: Option<String>,
    x: Option<String>,
    y: Option<String>,
    n: Option<String>,
    e: Option<String>,
}

/// A public key as a JWK (RFC 7517) with only the members RFC 7638 §3.2 requires, which
/// are also those WebCrypto imports: a provider's key for an ID token's signature check, and
/// the page's DPoP key in a proof's header (`super::dpop`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kty")]
pub enum PublicJwk {
    /// An elliptic-curve key.
    #[serde(rename = "EC")]
    Ec {
        /// The curve, such as `P-256`.
        crv: String,
        /// The point's coordinates, base64url.
        x: String,
        /// The point's coordinates, base64url.
        y: String,
    },
    /// An RSA key.
    #[serde(rename = "RSA")]
    Rsa {
        /// The modulus, base64url.
        n: String,
        /// The exponent, base64url.
        e: String,
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
            PublicJwk::Rsa { n, e } => format!(r#"{{"e":{},"kty":"RSA","n":{}}}"#, text(e), text(n)),
        };
        BASE64_URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
    }
}

/// Smallest RSA modulus accepted (RFC 7518 §3.3: 2048 bits or larger).
const MIN_RSA_MODULUS_BYTES: usize = 256;

fn read_key_set(jwks: &str) -> Result<KeySet, AuthError> {
    document::parse(jwks).map_err(|_| refused("the provider's key set (JWKS) is not valid"))
}

/// Whether `jwks` is a JWK Set at all (RFC 7517 §5), before any key is chosen from it: a
/// provider's keys that arrive as something else (a maintenance page) did not load.
pub fn check_key_set(jwks: &str) -> Result<(), AuthError> {
    read_key_set(jwks).map(drop)
}

/// Prepares the signature check of the compact JWS `jwt` against the provider's key set
/// `jwks` (the JSON document at `jwks_uri`). `allowed` is the provider's
/// `id_token_signing_alg_values_supported`; empty when it does not say, and then only
/// RS256 is accepted.
///
/// The key is the one the header's `kid` names; without a `kid`, the set must hold
/// exactly one key that fits the algorithm. Keys must be for signing (`use`, `key_ops`)
/// and, when they say, for this algorithm (`alg`). The header's own `jwk`, `jku` and
/// `x5u` are never followed: the keys come from the provider's metadata only.
pub fn signature_check(jwt: &str, jwks: &str, allowed: &[String]) -> Result<SignatureCheck, AuthError> {
    let (header_b64, payload_b64, signature_b64) = compact_parts(jwt).ok_or_else(|| refused("not a signed JWT"))?;
    let header: JoseHeader =
        json_part(header_b64).map_err(|why| refused(&format!("the header is not valid ({why})")))?;
    let alg_name = header.alg.as_deref().ok_or_else(|| refused("alg is missing"))?;
    let alg = JwsAlgorithm::from_name(alg_name)
        .ok_or_else(|| refused(&format!("it is signed with {alg_name}, which this client does not accept")))?;
    if allowed.is_empty() {
        // OpenID Connect Core §3.1.3.7 step 7: the default is RS256.
        if alg != JwsAlgorithm::Rs256 {
            return Err(refused(&format!(
                "it is signed with {alg_name}, but a provider that lists no algorithms signs with RS256"
            )));
        }
    } else if !allowed.iter().any(|a| a == alg_name) {
        return Err(refused(&format!("it is signed with {alg_name}, which the provider does not list")));
    }
    let signature =
        BASE64_URL_SAFE_NO_PAD.decode(signature_b64).map_err(|_| refused("the signature is not base64url"))?;
    if let Some((_, coordinate)) = alg.curve()
        && signature.len() != 2 * coordinate
    {
        return Err(refused("the signature has the wrong length"));
    }

    let key_set = read_key_set(jwks)?;
    let kid = header.kid.as_deref();
    let fits = |key: &Jwk| {
        key.kty.as_deref() == Some(alg.key_type())
            && key.public_key_use.as_deref().is_none_or(|u| u == "sig")
            && key.alg.as_deref().is_none_or(|a| a == alg_name)
            && key.key_ops.as_ref().is_none_or(|ops| ops.iter().any(|op| op == "verify"))
            && alg.curve().is_none_or(|(crv, _)| key.crv.as_deref() == Some(crv))
            && kid.is_none_or(|kid| key.kid.as_deref() == Some(kid))
    };
    let mut candidates = key_set.keys.iter().filter_map(|key| document::parse::<Jwk>(key.get()).ok()).filter(fits);
    let key = match (candidates.next(), candidates.next()) {
        (Some(key), None) => key,
        (None, _) if kid.is_some() => return Err(refused("no key of the provider's key set has its kid")),
        (None, _) => return Err(refused("no key of the provider's key set fits its algorithm")),
        (Some(_), Some(_)) => return Err(refused("it names no kid, and several of the provider's keys fit")),
    };
    Ok(SignatureCheck {
        alg,
        jwk: minimal_jwk(&key, alg)?,
        signing_input: format!("{header_b64}.{payload_b64}"),
        signature,
    })
}

/// The public members of `key` that WebCrypto imports, checked: a key that is
/// malformed, or an RSA key under 2048 bits, is refused here with a clear reason.
fn minimal_jwk<'a>(key: &'a Jwk, alg: JwsAlgorithm) -> Result<String, AuthError> {
    // A member as given, with its decoded bytes.
    let member = |name: &str, value: &'a Option<String>| -> Result<(&'a str, Vec<u8>), AuthError> {
        value
            .as_deref()
            .and_then(|text| Some((text, BASE64_URL_SAFE_NO_PAD.decode(text).ok()?)))
            .ok_or_else(|| refused(&format!("the provider's key has no valid {name}")))
    };
    let public = match alg.curve() {
        Some((crv, coordinate)) => {
            let ((x, x_bytes), (y, y_bytes)) = (member("x", &key.x)?, member("y", &key.y)?);
            if x_bytes.len() != coordinate || y_bytes.len() != coordinate {
                return Err(refused("the provider's key does not fit its curve"));
            }
            PublicJwk::Ec { crv: crv.into(), x: x.into(), y: y.into() }
        }
        None => {
            let ((n, modulus), (e, _)) = (member("n", &key.n)?, member("e", &key.e)?);
            let significant = modulus.iter().skip_while(|&&b| b == 0).count();
            if significant < MIN_RSA_MODULUS_BYTES {
                return Err(refused("the provider's RSA key is shorter than 2048 bits"));
            }
            PublicJwk::Rsa { n: n.into(), e: e.into() }
        }
    };
    serde_json::to_string(&public).map_err(|_| refused("the provider's signing key cannot be used"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(text: &str) -> String {
        BASE64_URL_SAFE_NO_PAD.encode(text)
    }

    fn n_2048() -> String {
        let mut modulus = vec![0xC5u8; 256];
        modulus[255] = 0x01;
        BASE64_URL_SAFE_NO_PAD.encode(&modulus)
    }

    /// `encoded` with a bit set among the last character's unused trailing bits: the same
    /// bytes in a second, non-canonical spelling.
    fn with_trailing_bit(encoded: &str) -> String {
        const ALPHABET: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let (head, last) = encoded.split_at(encoded.len() - 1);
        let index = ALPHABET.find(last).unwrap();
        format!("{head}{}", &ALPHABET[index + 1..index + 2])
    }

    fn coordinate(len: usize) -> String {
        BASE64_URL_SAFE_NO_PAD.encode(vec![7u8; len])
    }

    fn jwks() -> String {
        format!(
            r#"{{"keys":[
              {{"kty":"RSA","kid":"rsa-1","use":"sig","alg":"RS256","n":"{n}","e":"AQAB"}},
              {{"kty":"RSA","kid":"rsa-enc","use":"enc","n":"{n}","e":"AQAB"}},
              {{"kty":"EC","kid":"ec-1","crv":"P-256","x":"{x}","y":"{x}"}},
              {{"kty":"EC","kid":"ec-384","crv":"P-384","x":"{x48}","y":"{x48}","key_ops":["verify"]}}
            ]}}"#,
            n = n_2048(),
            x = coordinate(32),
            x48 = coordinate(48)
        )
    }

    fn jwt(header: &str, signature: &[u8]) -> String {
        format!("{}.{}.{}", b64(header), b64(r#"{"sub":"alice"}"#), BASE64_URL_SAFE_NO_PAD.encode(signature))
    }

    #[test]
    fn a_key_set_is_an_object_with_keys() {
        assert!(check_key_set(r#"{"keys":[]}"#).is_ok());
        assert!(check_key_set(r#"{"keys":[{"kty":"unknown"}],"other":1}"#).is_ok(), "unknown keys are skipped later");
        for not_a_set in ["<html>Maintenance</html>", "{}", r#"{"keys":{}}"#, "[]", ""] {
            let error = check_key_set(not_a_set).unwrap_err();
            assert_eq!(error.code(), "invalid_id_token", "{not_a_set}");
            assert!(error.to_string().contains("key set (JWKS) is not valid"), "{not_a_set}");
        }
    }

    #[test]
    fn the_key_named_by_kid_is_chosen_and_reduced_to_its_public_members() {
        let token = jwt(r#"{"alg":"RS256","kid":"rsa-1","typ":"JWT"}"#, &[1; 256]);
        let check = signature_check(&token, &jwks(), &[]).expect("check");
        assert_eq!(check.alg, JwsAlgorithm::Rs256);
        assert_eq!(check.jwk, format!(r#"{{"kty":"RSA","n":"{}","e":"AQAB"}}"#, n_2048()));
        assert_eq!(check.signing_input, token.rsplit_once('.').unwrap().0);
        assert_eq!(check.signature, vec![1; 256]);

        let token = jwt(r#"{"alg":"ES256","kid":"ec-1"}"#, &[2; 64]);
        let check = signature_check(&token, &jwks(), &["RS256".into(), "ES256".into()]).expect("check");
        let x = coordinate(32);
        assert_eq!(check.jwk, format!(r#"{{"kty":"EC","crv":"P-256","x":"{x}","y":"{x}"}}"#));
        assert_eq!(check.alg.curve(), Some(("P-256", 32)));
    }

    #[test]
    fn without_a_kid_the_only_key_that_fits_is_used() {
        let token = jwt(r#"{"alg":"ES384"}"#, &[3; 96]);
        assert_eq!(
            signature_check(&token, &jwks(), &["ES384".into()]).expect("one P-384 key").alg,
            JwsAlgorithm::Es384
        );
        // Two RSA signing keys without kid: ambiguous.
        let two = format!(
            r#"{{"keys":[{{"kty":"RSA","n":"{n}","e":"AQAB"}},{{"kty":"RSA","n":"{n}","e":"AQAB"}}]}}"#,
            n = n_2048()
        );
        let token = jwt(r#"{"alg":"RS256"}"#, &[1; 256]);
        assert_eq!(
            signature_check(&token, &two, &[]).unwrap_err(),
            refused("it names no kid, and several of the provider's keys fit")
        );
    }

    /// RFC 7517 §5: keys a client cannot read are ignored, not fatal to the set.
    #[test]
    fn a_key_this_client_cannot_read_is_skipped() {
        let set = format!(
            r#"{{"keys":[{{"kty":"RSA","kid":5}},["RSA","rsa-1"],{{"kty":"RSA","kid":"rsa-1","n":"{n}","e":"AQAB"}}]}}"#,
            n = n_2048()
        );
        let token = jwt(r#"{"alg":"RS256","kid":"rsa-1"}"#, &[1; 256]);
        assert_eq!(signature_check(&token, &set, &[]).expect("the readable key").alg, JwsAlgorithm::Rs256);
    }

    /// Issue 13, item 9: a provider whose metadata lists no algorithms signs ID tokens
    /// with RS256 (OpenID Connect Core §3.1.3.7 step 7, Discovery §3), and only RS256 is
    /// accepted from it.
    #[test]
    fn without_a_list_only_rs256_is_accepted() {
        let es = jwt(r#"{"alg":"ES256","kid":"ec-1"}"#, &[2; 64]);
        assert_eq!(
            signature_check(&es, &jwks(), &[]).unwrap_err(),
            refused("it is signed with ES256, but a provider that lists no algorithms signs with RS256")
        );
        let rs = jwt(r#"{"alg":"RS256","kid":"rsa-1"}"#, &[1; 256]);
        assert_eq!(signature_check(&rs, &jwks(), &[]).map(|c| c.alg), Ok(JwsAlgorithm::Rs256));
    }

    #[test]
    fn refusal_table() {
        let rs = |header: &str| jwt(header, &[1; 256]);
        let short_rsa =
            format!(r#"{{"keys":[{{"kty":"RSA","n":"{}","e":"AQAB"}}]}}"#, BASE64_URL_SAFE_NO_PAD.encode([9; 128]));
        let cases: Vec<(String, String, Vec<String>, &str)> = vec![
            (rs(r#"{"alg":"none"}"#), jwks(), vec![], "it is signed with none, which this client does not accept"),
            (
                rs(r#"{"alg":"HS256","kid":"rsa-1"}"#),
                jwks(),
                vec![],
                "it is signed with HS256, which this client does not accept",
            ),
            (
                rs(r#"{"alg":"rs256","kid":"rsa-1"}"#),
                jwks(),
                vec![],
                "it is signed with rs256, which this client does not accept",
            ),
            (rs(r#"{"alg":"EdDSA"}"#), jwks(), vec![], "it is signed with EdDSA, which this client does not accept"),
            (rs(r#"{"kid":"rsa-1"}"#), jwks(), vec![], "alg is missing"),
            (
                rs(r#"{"alg":"RS256","kid":"rsa-1"}"#),
                jwks(),
                vec!["ES256".into()],
                "it is signed with RS256, which the provider does not list",
            ),
            (rs(r#"{"alg":"RS256","kid":"nobody"}"#), jwks(), vec![], "no key of the provider's key set has its kid"),
            // The encryption key and a key for another algorithm are not candidates.
            (rs(r#"{"alg":"RS256","kid":"rsa-enc"}"#), jwks(), vec![], "no key of the provider's key set has its kid"),
            (rs(r#"{"alg":"RS384","kid":"rsa-1"}"#), jwks(), vec![], "no key of the provider's key set has its kid"),
            // An RSA algorithm cannot name an EC key, nor ES256 a P-384 key.
            (rs(r#"{"alg":"RS256","kid":"ec-1"}"#), jwks(), vec![], "no key of the provider's key set has its kid"),
            (
                jwt(r#"{"alg":"ES256","kid":"ec-384"}"#, &[1; 64]),
                jwks(),
                vec![],
                "no key of the provider's key set has its kid",
            ),
            (jwt(r#"{"alg":"ES256","kid":"ec-1"}"#, &[1; 65]), jwks(), vec![], "the signature has the wrong length"),
            (
                rs(r#"{"alg":"RS256","kid":7}"#),
                jwks(),
                vec![],
                "the header is not valid (invalid type: integer `7`, expected a string at line 1 column 22)",
            ),
            (
                rs(r#"{"alg":"PS256"}"#),
                r#"{"keys":[]}"#.into(),
                vec![],
                "no key of the provider's key set fits its algorithm",
            ),
            (rs(r#"{"alg":"RS256"}"#), r#"{"keys":{}}"#.into(), vec![], "the provider's key set (JWKS) is not valid"),
            (rs(r#"{"alg":"RS256"}"#), "<html>".into(), vec![], "the provider's key set (JWKS) is not valid"),
            (rs(r#"{"alg":"RS256"}"#), short_rsa, vec![], "the provider's RSA key is shorter than 2048 bits"),
            (
                rs(r#"{"alg":"RS256"}"#),
                r#"{"keys":[{"kty":"RSA","n":"!!","e":"AQAB"}]}"#.into(),
                vec![],
                "the provider's key has no valid n",
            ),
            ("a.b".into(), jwks(), vec![], "not a signed JWT"),
            (
                format!("{}.e30.!!", b64(r#"{"alg":"RS256","kid":"rsa-1"}"#)),
                jwks(),
                vec![],
                "the signature is not base64url",
            ),
            (format!("{}.e30.AA", b64("[]")), jwks(), vec![], "the header is not valid (it is not a JSON object)"),
            // base64url is strict (RFC 7515 §2): no padding, no stray trailing bits.
            (
                format!("{}=.e30.AA", b64(r#"{"alg":"RS256","kid":"rsa-1"}"#)),
                jwks(),
                vec![],
                "the header is not valid (it is not base64url)",
            ),
            (
                format!("{}.e30.AB", b64(r#"{"alg":"RS256","kid":"rsa-1"}"#)),
                jwks(),
                vec![],
                "the signature is not base64url",
            ),
            (
                format!("{}.e30.AA==", b64(r#"{"alg":"RS256","kid":"rsa-1"}"#)),
                jwks(),
                vec![],
                "the signature is not base64url",
            ),
            (
                rs(r#"{"alg":"RS256","kid":"p"}"#),
                format!(r#"{{"keys":[{{"kty":"RSA","kid":"p","n":"{}==","e":"AQAB"}}]}}"#, n_2048()),
                vec![],
                "the provider's key has no valid n",
            ),
            (
                rs(r#"{"alg":"RS256","kid":"p"}"#),
                format!(r#"{{"keys":[{{"kty":"RSA","kid":"p","n":"{}","e":"AQAB"}}]}}"#, with_trailing_bit(&n_2048())),
                vec![],
                "the provider's key has no valid n",
            ),
            (
                jwt(r#"{"alg":"ES256","kid":"p"}"#, &[2; 64]),
                format!(
                    r#"{{"keys":[{{"kty":"EC","kid":"p","crv":"P-256","x":"{}","y":"{}"}}]}}"#,
                    with_trailing_bit(&coordinate(32)),
                    coordinate(32)
                ),
                vec![],
                "the provider's key has no valid x",
            ),
            // A member read twice is refused; a key with one is skipped (RFC 7517 §5).
            (
                rs(r#"{"alg":"RS256","kid":"rsa-1","kid":"rsa-enc"}"#),
                jwks(),
                vec![],
                "the header is not valid (duplicate field `kid` at line 1 column 34)",
            ),
            (
                rs(r#"{"alg":"RS256","kid":"rsa-1"}"#),
                format!(r#"{{"keys":[],"keys":{}}}"#, &jwks()[8..jwks().len() - 1]),
                vec![],
                "the provider's key set (JWKS) is not valid",
            ),
            (
                rs(r#"{"alg":"RS256","kid":"p"}"#),
                format!(r#"{{"keys":[{{"kty":"RSA","kid":"p","n":"{n}","n":"{n}","e":"AQAB"}}]}}"#, n = n_2048()),
                vec![],
                "no key of the provider's key set has its kid",
            ),
            // A key set over the size limit is refused, however good its keys.
            (
                rs(r#"{"alg":"RS256","kid":"rsa-1"}"#),
                jwks().replacen("{", &format!(r#"{{"padding":"{}","#, "a".repeat(256 * 1024)), 1),
                vec![],
                "the provider's key set (JWKS) is not valid",
            ),
            ("!!.e30.AA".to_string(), jwks(), vec![], "the header is not valid (it is not base64url)"),
        ];
        // An empty list in a row stands for "every algorithm": the key choice is what
        // these rows test (an empty list itself is tested above).
        let every: Vec<String> = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"]
            .map(String::from)
            .to_vec();
        for (token, keys, allowed, expected) in cases {
            let allowed = if allowed.is_empty() { every.clone() } else { allowed };
            assert_eq!(signature_check(&token, &keys, &allowed).unwrap_err(), refused(expected), "{token}");
        }
    }

    #[test]
    fn debug_output_leaves_out_the_token() {
        let token = jwt(r#"{"alg":"RS256","kid":"rsa-1"}"#, &[1; 256]);
        let printed = format!("{:?}", signature_check(&token, &jwks(), &[]).unwrap());
        assert!(!printed.contains(&b64(r#"{"sub":"alice"}"#)), "{printed}");
        assert!(printed.contains("Rs256"));
    }
}
