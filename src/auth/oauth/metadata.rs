//! Provider metadata: OpenID Connect Discovery 1.0 with the RFC 8414 fallback.

use super::error::AuthError;
use super::json::Json;
use super::text::concat;
use super::url::{is_secure_endpoint, origin_of};

/// The endpoints and capabilities this client uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderMetadata {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub userinfo_endpoint: Option<String>,
    pub end_session_endpoint: Option<String>,
    pub revocation_endpoint: Option<String>,
    /// The provider's public signing keys (OIDC Discovery §3: required for OpenID providers).
    pub jwks_uri: Option<String>,
    /// The algorithms it signs ID tokens with; empty when it does not say.
    pub id_token_signing_alg_values_supported: Vec<String>,
    /// RFC 9207 §3: the provider always sends `iss` in authorization responses.
    pub iss_parameter_supported: bool,
}

/// Where to look for metadata, in order: OpenID Connect Discovery §4 (issuer path +
/// `/.well-known/openid-configuration`), then RFC 8414 §3.1 (well-known segment
/// inserted between the host and the issuer's path).
pub fn discovery_urls(issuer: &str) -> [String; 2] {
    let trimmed = issuer.trim_end_matches('/');
    let oidc = concat(&[trimmed, "/.well-known/openid-configuration"]);
    let origin = origin_of(trimmed).unwrap_or(trimmed);
    let path = trimmed.get(origin.len()..).unwrap_or_default();
    let rfc8414 = concat(&[origin, "/.well-known/oauth-authorization-server", path]);
    [oidc, rfc8414]
}

impl ProviderMetadata {
    /// Reads a metadata document and checks it belongs to `expected_issuer`
    /// (OIDC Discovery §4.3, RFC 8414 §3.3: the `issuer` value must be identical).
    pub fn parse(text: &str, expected_issuer: &str) -> Result<ProviderMetadata, AuthError> {
        let doc = Json::parse(text).map_err(|e| AuthError::Discovery(concat(&["metadata is not valid JSON: ", &e])))?;
        if !doc.is_object() {
            return Err(AuthError::Discovery("metadata is not a JSON object".into()));
        }
        let issuer = doc.get("issuer").and_then(Json::as_str).unwrap_or_default();
        if issuer != expected_issuer {
            return Err(AuthError::Discovery(concat(&[
                "metadata is for issuer \"",
                issuer,
                "\", not the configured \"",
                expected_issuer,
                "\"",
            ])));
        }
        let endpoint = |name: &str| -> Result<Option<String>, AuthError> {
            match doc.get(name) {
                None | Some(Json::Null) => Ok(None),
                Some(Json::String(url)) if is_secure_endpoint(url) => Ok(Some(url.clone())),
                Some(_) => Err(AuthError::Discovery(concat(&[name, " is not an https URL"]))),
            }
        };
        let required = |name: &str| endpoint(name)?.ok_or_else(|| AuthError::Discovery(concat(&[name, " is missing"])));
        Ok(ProviderMetadata {
            issuer: issuer.to_owned(),
            authorization_endpoint: required("authorization_endpoint")?,
            token_endpoint: required("token_endpoint")?,
            userinfo_endpoint: endpoint("userinfo_endpoint")?,
            end_session_endpoint: endpoint("end_session_endpoint")?,
            revocation_endpoint: endpoint("revocation_endpoint")?,
            jwks_uri: endpoint("jwks_uri")?,
            id_token_signing_alg_values_supported: match doc.get("id_token_signing_alg_values_supported") {
                Some(Json::Array(items)) => items.iter().filter_map(Json::as_str).map(str::to_owned).collect(),
                _ => Vec::new(),
            },
            iss_parameter_supported: doc
                .get("authorization_response_iss_parameter_supported")
                .and_then(Json::as_bool)
                .unwrap_or(false),
        })
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
        assert!(err.message().contains("not the configured"));
    }

    #[test]
    fn refuses_missing_or_insecure_endpoints() {
        let no_token = DOC.replace("\"token_endpoint\"", "\"x_token_endpoint\"");
        assert!(
            ProviderMetadata::parse(&no_token, "http://127.0.0.1:9000")
                .unwrap_err()
                .message()
                .contains("token_endpoint is missing")
        );
        let insecure = r#"{"issuer":"https://id.example.com","authorization_endpoint":"http://id.example.com/a","token_endpoint":"https://id.example.com/t"}"#;
        assert!(
            ProviderMetadata::parse(insecure, "https://id.example.com")
                .unwrap_err()
                .message()
                .contains("authorization_endpoint is not an https URL")
        );
    }

    #[test]
    fn optional_flag_defaults_to_false() {
        let doc = r#"{"issuer":"https://id.example.com","authorization_endpoint":"https://id.example.com/a","token_endpoint":"https://id.example.com/t"}"#;
        let meta = ProviderMetadata::parse(doc, "https://id.example.com").unwrap();
        assert!(!meta.iss_parameter_supported);
        assert_eq!(meta.jwks_uri, None);
        assert!(meta.id_token_signing_alg_values_supported.is_empty(), "no list: any algorithm jws accepts");
    }

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
