//! Provider metadata: OpenID Connect Discovery 1.0 with the RFC 8414 fallback.

use serde::{Deserialize, Serialize};

use super::document::{self, DocumentError};
use super::error::AuthError;
use super::url::{is_secure_endpoint, origin_of};

/// The endpoints and capabilities this client uses, under their names in the metadata
/// document (OIDC Discovery §3, RFC 8414 §2), so that its serde form is itself a metadata
/// document: the one the browser layer caches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderMetadata {
    /// The issuer identifier, identical to the configured one (OIDC Discovery §4.3).
    pub issuer: String,
    /// Where the browser is sent to sign in (RFC 6749 §3.1).
    pub authorization_endpoint: String,
    /// Where the code is exchanged and tokens are refreshed (RFC 6749 §3.2).
    pub token_endpoint: String,
    /// The UserInfo endpoint (OpenID Connect Core §5.3), if any.
    pub userinfo_endpoint: Option<String>,
    /// Where the browser is sent to end the provider's session (RP-Initiated Logout 1.0 §2.1),
    /// if the provider supports it.
    pub end_session_endpoint: Option<String>,
    /// The token revocation endpoint (RFC 7009 §2, RFC 8414 §2), if any.
    pub revocation_endpoint: Option<String>,
    /// The provider's public signing keys (OIDC Discovery §3: required for OpenID providers).
    pub jwks_uri: Option<String>,
    /// The algorithms it signs ID tokens with; empty when it does not say.
    #[serde(default)]
    pub id_token_signing_alg_values_supported: Vec<String>,
    /// RFC 9207 §3: the provider always sends `iss` in authorization responses.
    #[serde(default, rename = "authorization_response_iss_parameter_supported")]
    pub iss_parameter_supported: bool,
    /// RFC 8414 §2: the PKCE methods it supports, when it says.
    pub code_challenge_methods_supported: Option<Vec<String>>,
    /// Where authorization requests may be pushed (RFC 9126 §5), if it takes them.
    #[serde(default)]
    pub pushed_authorization_request_endpoint: Option<String>,
    /// RFC 9126 §5: it takes authorization requests only when pushed.
    #[serde(default)]
    pub require_pushed_authorization_requests: bool,
    /// RFC 9449 §5.1: the algorithms it takes DPoP proofs signed with, if it takes them.
    #[serde(default)]
    pub dpop_signing_alg_values_supported: Option<Vec<String>>,
}

/// Where to look for metadata, in order: OpenID Connect Discovery §4 (issuer path +
/// `/.well-known/openid-configuration`), then RFC 8414 §3.1 (well-known segment
/// inserted between the host and the issuer's path).
pub fn discovery_urls(issuer: &str) -> [String; 2] {
    let trimmed = issuer.trim_end_matches('/');
    let oidc = format!("{trimmed}/.well-known/openid-configuration");
    let origin = origin_of(trimmed).unwrap_or(trimmed);
    let path = trimmed.get(origin.len()..).unwrap_or_default();
    [oidc, format!("{origin}/.well-known/oauth-authorization-server{path}")]
}

impl ProviderMetadata {
    /// Reads a metadata document and checks it (see [`ProviderMetadata::validated`]).
    pub fn parse(text: &str, expected_issuer: &str) -> Result<ProviderMetadata, AuthError> {
        let metadata: ProviderMetadata = document::parse(text).map_err(|error| {
            AuthError::Discovery(match error {
                DocumentError::NotAnObject => "metadata is not a JSON object".into(),
                DocumentError::Syntax(detail) => format!("metadata is not valid JSON: {detail}"),
                other => format!("metadata is not valid: {other}"),
            })
        })?;
        metadata.validated(expected_issuer)
    }

    /// Checks that the metadata belongs to `expected_issuer` (OIDC Discovery §4.3,
    /// RFC 8414 §3.3: the `issuer` value must be identical) and that every endpoint is
    /// safe to use (TLS, or loopback). Run on every copy, the cached one included.
    pub fn validated(self, expected_issuer: &str) -> Result<ProviderMetadata, AuthError> {
        if self.issuer != expected_issuer {
            return Err(AuthError::Discovery(format!(
                "metadata is for issuer \"{}\", not the configured \"{expected_issuer}\"",
                self.issuer
            )));
        }
        let endpoints = [
            ("authorization_endpoint", Some(&self.authorization_endpoint)),
            ("token_endpoint", Some(&self.token_endpoint)),
            ("userinfo_endpoint", self.userinfo_endpoint.as_ref()),
            ("end_session_endpoint", self.end_session_endpoint.as_ref()),
            ("revocation_endpoint", self.revocation_endpoint.as_ref()),
            ("jwks_uri", self.jwks_uri.as_ref()),
            ("pushed_authorization_request_endpoint", self.pushed_authorization_request_endpoint.as_ref()),
        ];
        for (name, url) in endpoints {
            if url.is_some_and(|url| !is_secure_endpoint(url)) {
                return Err(AuthError::Discovery(format!("{name} is not an https URL")));
            }
        }
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = r#"{
        "issuer": "http://127.0.0.1:9000",
        "authorization_endpoint": "http://127.0.0.1:9000/auth",
        "token_endpoint": "http://127.0.0.1:9000/token",
        "userinfo_endpoint": "http://127.0.0.1:9000/me",
        "end_session_endpoint": "http://127.0.0.1:9000/session/end",
        "authorization_response_iss_parameter_supported": true,
        "jwks_uri": "http://127.0.0.1:9000/jwks",
        "id_token_signing_alg_values_supported": ["RS256", "ES256"],
        "scopes_supported": ["openid"]
    }"#;

    #[test]
    fn reads_endpoints_and_rfc9207_flag() {
        let meta = ProviderMetadata::parse(DOC, "http://127.0.0.1:9000").unwrap();
        assert_eq!(meta.token_endpoint, "http://127.0.0.1:9000/token");
        assert_eq!(meta.code_challenge_methods_supported, None);
        assert_eq!(meta.end_session_endpoint.as_deref(), Some("http://127.0.0.1:9000/session/end"));
        assert_eq!(meta.revocation_endpoint, None);
        assert!(meta.iss_parameter_supported);
        assert_eq!(meta.jwks_uri.as_deref(), Some("http://127.0.0.1:9000/jwks"));
        assert_eq!(meta.id_token_signing_alg_values_supported, ["RS256", "ES256"]);
    }

    #[test]
    fn refuses_metadata_of_another_issuer() {
        let err = ProviderMetadata::parse(DOC, "http://127.0.0.1:9000/").unwrap_err();
        assert_eq!(err.code(), "discovery");
        assert!(err.to_string().contains("not the configured"));
    }

    #[test]
    fn refuses_missing_or_insecure_endpoints() {
        let no_token = DOC.replace("\"token_endpoint\"", "\"x_token_endpoint\"");
        assert!(
            ProviderMetadata::parse(&no_token, "http://127.0.0.1:9000")
                .unwrap_err()
                .to_string()
                .contains("metadata is not valid: missing field `token_endpoint`")
        );
        let insecure_optional = DOC.replace("http://127.0.0.1:9000/jwks", "http://keys.example/jwks");
        assert!(
            ProviderMetadata::parse(&insecure_optional, "http://127.0.0.1:9000")
                .unwrap_err()
                .to_string()
                .contains("jwks_uri is not an https URL")
        );
        let insecure = r#"{"issuer":"https://id.example.com","authorization_endpoint":"http://id.example.com/a","token_endpoint":"https://id.example.com/t"}"#;
        assert!(
            ProviderMetadata::parse(insecure, "https://id.example.com")
                .unwrap_err()
                .to_string()
                .contains("authorization_endpoint is not an https URL")
        );
    }

    #[test]
    fn members_it_reads_must_have_their_types_and_appear_once() {
        let cases = [
            (DOC.replace("\"scopes_supported\"", "\"issuer\""), "duplicate field `issuer`"),
            (DOC.replace("true", "\"yes\""), "invalid type: string \"yes\", expected a boolean"),
            (DOC.replace("[\"RS256\", \"ES256\"]", "\"RS256\""), "expected a sequence"),
            ("[1]".to_owned(), "metadata is not a JSON object"),
            (
                DOC.replacen('{', &format!(r#"{{"x":"{}","#, "a".repeat(256 * 1024)), 1),
                "metadata is not valid: it is larger than 256 KB",
            ),
        ];
        for (text, expected) in cases {
            let error = ProviderMetadata::parse(&text, "http://127.0.0.1:9000").unwrap_err();
            assert_eq!(error.code(), "discovery");
            assert!(error.to_string().contains(expected), "{}", error);
        }
        let with_methods =
            DOC.replace("\"scopes_supported\"", "\"code_challenge_methods_supported\": [\"S256\"], \"x\"");
        let methods =
            ProviderMetadata::parse(&with_methods, "http://127.0.0.1:9000").unwrap().code_challenge_methods_supported;
        assert_eq!(methods, Some(vec!["S256".to_owned()]));
        let null_optional = DOC.replace("\"http://127.0.0.1:9000/me\"", "null");
        assert_eq!(ProviderMetadata::parse(&null_optional, "http://127.0.0.1:9000").unwrap().userinfo_endpoint, None);
    }

    #[test]
    fn its_serde_form_is_a_metadata_document_that_reads_back_the_same() {
        let meta = ProviderMetadata::parse(DOC, "http://127.0.0.1:9000").unwrap();
        let cached = serde_json::to_string(&meta).unwrap();
        assert!(cached.contains("\"authorization_response_iss_parameter_supported\":true"), "{cached}");
        assert_eq!(ProviderMetadata::parse(&cached, "http://127.0.0.1:9000").unwrap(), meta);
    }

    #[test]
    fn optional_flag_defaults_to_false() {
        let doc = r#"{"issuer":"https://id.example.com","authorization_endpoint":"https://id.example.com/a","token_endpoint":"https://id.example.com/t"}"#;
        let meta = ProviderMetadata::parse(doc, "https://id.example.com").unwrap();
        assert!(!meta.iss_parameter_supported);
        assert_eq!(meta.jwks_uri, None);
        assert!(meta.id_token_signing_alg_values_supported.is_empty(), "no list: jws then accepts RS256 only");
    }

    /// RFC 8414 §3.1: "any terminating '/' MUST be removed before inserting
    /// '/.well-known/' and the well-known URI suffix between the host component and the
    /// path component"; OIDC Discovery §4.1 removes it before appending, likewise.
    #[test]
    fn discovery_urls_follow_both_specs() {
        assert_eq!(
            discovery_urls("https://id.example.com"),
            [
                "https://id.example.com/.well-known/openid-configuration",
                "https://id.example.com/.well-known/oauth-authorization-server"
            ]
        );
        assert_eq!(
            discovery_urls("https://id.example.com/tenant/"),
            [
                "https://id.example.com/tenant/.well-known/openid-configuration",
                "https://id.example.com/.well-known/oauth-authorization-server/tenant"
            ]
        );
    }
}
