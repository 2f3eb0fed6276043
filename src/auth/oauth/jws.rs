//! The ID token's signature (OpenID Connect Core §3.1.3.7 step 6, RFC 7515 §5.2): which
//! key of the provider's JWKS (RFC 7517) must have signed it, and with which algorithm
//! (RFC 7518 §3). The verification itself is WebCrypto's (`browser::verify_signature`);
//! this module decides everything around it, so that the browser layer only runs it.

use super::base64url;
use super::error::AuthError;
use super::json::{Json, write_string};
use super::text::concat;

/// The asymmetric JWS algorithms WebCrypto can verify. Anything else, `none` and the
/// HMAC family included (a public client has no secret to share), is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwsAlgorithm {
    Rs256,
    Rs384,
    Rs512,
    Ps256,
    Ps384,
    Ps512,
    Es256,
    Es384,
    Es512,
}

impl JwsAlgorithm {
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
    pub alg: JwsAlgorithm,
    /// The public key as a minimal JWK (only the members WebCrypto needs).
    pub jwk: String,
    /// `BASE64URL(header) '.' BASE64URL(payload)` (RFC 7515 §5.2 step 8).
    pub signing_input: String,
    pub signature: Vec<u8>,
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

/// Decodes one base64url part of a JWS into a JSON object.
pub(super) fn json_part(text: &str) -> Option<Json> {
    let bytes = base64url::decode(text)?;
    Json::parse(core::str::from_utf8(&bytes).ok()?).ok().filter(Json::is_object)
}

/// Smallest RSA modulus accepted (RFC 7518 §3.3: 2048 bits or larger).
const MIN_RSA_MODULUS_BYTES: usize = 256;

/// Prepares the signature check of the compact JWS `jwt` against the provider's key set
/// `jwks` (the JSON document at `jwks_uri`). `allowed` is the provider's
/// `id_token_signing_alg_values_supported`; empty when it does not say.
///
/// The key is the one the header's `kid` names; without a `kid`, the set must hold
/// exactly one key that fits the algorithm. Keys must be for signing (`use`, `key_ops`)
/// and, when they say, for this algorithm (`alg`). The header's own `jwk`, `jku` and
/// `x5u` are never followed: the keys come from the provider's metadata only.
pub fn signature_check(jwt: &str, jwks: &str, allowed: &[String]) -> Result<SignatureCheck, AuthError> {
    let (header_b64, payload_b64, signature_b64) = compact_parts(jwt).ok_or_else(|| refused("not a signed JWT"))?;
    let header = json_part(header_b64).ok_or_else(|| refused("the header is not valid"))?;
    let alg_name = header.get("alg").and_then(Json::as_str).ok_or_else(|| refused("alg is missing"))?;
    let alg = JwsAlgorithm::from_name(alg_name)
        .ok_or_else(|| refused(&concat(&["it is signed with ", alg_name, ", which this client does not accept"])))?;
    if !allowed.is_empty() && !allowed.iter().any(|a| a == alg_name) {
        return Err(refused(&concat(&["it is signed with ", alg_name, ", which the provider does not list"])));
    }
    let signature = base64url::decode(signature_b64).ok_or_else(|| refused("the signature is not base64url"))?;
    if let Some((_, coordinate)) = alg.curve()
        && signature.len() != 2 * coordinate
    {
        return Err(refused("the signature has the wrong length"));
    }

    let key_set = Json::parse(jwks).ok();
    let keys = match key_set.as_ref().and_then(|doc| doc.get("keys")) {
        Some(Json::Array(keys)) => keys,
        _ => return Err(refused("the provider's key set (JWKS) is not valid")),
    };
    let kid = match header.get("kid") {
        None => None,
        Some(Json::String(kid)) => Some(kid.as_str()),
        Some(_) => return Err(refused("kid is not a string")),
    };
    let fits = |key: &&Json| {
        let member = |name: &str| key.get(name).and_then(Json::as_str);
        member("kty") == Some(alg.key_type())
            && member("use").is_none_or(|u| u == "sig")
            && member("alg").is_none_or(|a| a == alg_name)
            && match key.get("key_ops") {
                None => true,
                Some(Json::Array(ops)) => ops.iter().any(|op| op.as_str() == Some("verify")),
                Some(_) => false,
            }
            && alg.curve().is_none_or(|(crv, _)| member("crv") == Some(crv))
            && kid.is_none_or(|kid| member("kid") == Some(kid))
    };
    let mut candidates = keys.iter().filter(fits);
    let key = match (candidates.next(), candidates.next()) {
        (Some(key), None) => key,
        (None, _) if kid.is_some() => return Err(refused("no key of the provider's key set has its kid")),
        (None, _) => return Err(refused("no key of the provider's key set fits its algorithm")),
        (Some(_), Some(_)) => return Err(refused("it names no kid, and several of the provider's keys fit")),
    };
    Ok(SignatureCheck {
        alg,
        jwk: minimal_jwk(key, alg)?,
        signing_input: concat(&[header_b64, ".", payload_b64]),
        signature,
    })
}

/// The public members of `key` that WebCrypto imports, checked: a key that is
/// malformed, or an RSA key under 2048 bits, is refused here with a clear reason.
fn minimal_jwk(key: &Json, alg: JwsAlgorithm) -> Result<String, AuthError> {
    // A member as given, with its decoded bytes.
    let bytes_of = |name: &str| {
        key.get(name)
            .and_then(Json::as_str)
            .and_then(|text| Some((text, base64url::decode(text)?)))
            .ok_or_else(|| refused(&concat(&["the provider's key has no valid ", name])))
    };
    let mut out = String::from("{");
    let mut member = |name: &str, value: &str, last: bool| {
        write_string(&mut out, name);
        out.push(':');
        write_string(&mut out, value);
        out.push(if last { '}' } else { ',' });
    };
    match alg.curve() {
        Some((crv, coordinate)) => {
            let ((x, x_bytes), (y, y_bytes)) = (bytes_of("x")?, bytes_of("y")?);
            if x_bytes.len() != coordinate || y_bytes.len() != coordinate {
                return Err(refused("the provider's key does not fit its curve"));
            }
            member("kty", "EC", false);
            member("crv", crv, false);
            member("x", x, false);
            member("y", y, true);
        }
        None => {
            let ((n, modulus), (e, _)) = (bytes_of("n")?, bytes_of("e")?);
            let significant = modulus.iter().skip_while(|&&b| b == 0).count();
            if significant < MIN_RSA_MODULUS_BYTES {
                return Err(refused("the provider's RSA key is shorter than 2048 bits"));
            }
            member("kty", "RSA", false);
            member("n", n, false);
            member("e", e, true);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(text: &str) -> String {
        base64url::encode(text.as_bytes())
    }

    fn n_2048() -> String {
        let mut modulus = vec![0xC5u8; 256];
        modulus[255] = 0x01;
        base64url::encode(&modulus)
    }

    fn coordinate(len: usize) -> String {
        base64url::encode(&vec![7u8; len])
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
        format!("{}.{}.{}", b64(header), b64(r#"{"sub":"alice"}"#), base64url::encode(signature))
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
        assert_eq!(signature_check(&token, &jwks(), &[]).expect("one P-384 key").alg, JwsAlgorithm::Es384);
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

    #[test]
    fn refusal_table() {
        let rs = |header: &str| jwt(header, &[1; 256]);
        let short_rsa = format!(r#"{{"keys":[{{"kty":"RSA","n":"{}","e":"AQAB"}}]}}"#, base64url::encode(&[9; 128]));
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
            (rs(r#"{"alg":"RS256","kid":7}"#), jwks(), vec![], "kid is not a string"),
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
            (format!("{}.e30.AA", b64("[]")), jwks(), vec![], "the header is not valid"),
        ];
        for (token, keys, allowed, expected) in cases {
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
