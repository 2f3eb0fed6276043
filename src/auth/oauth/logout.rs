//! Signing out at the provider: OpenID Connect RP-Initiated Logout 1.0 §2.

use super::config::ClientConfig;
use super::metadata::ProviderMetadata;
use super::secret::Secret;
use super::url::{form_encode, with_query};

/// The URL that ends the provider's session and comes back to `post_logout_redirect_uri`,
/// or `None` when the provider has no `end_session_endpoint`.
pub fn end_session_url(
    metadata: &ProviderMetadata,
    config: &ClientConfig,
    id_token: Option<&Secret>,
) -> Option<String> {
    let endpoint = metadata.end_session_endpoint.as_deref()?;
    let mut pairs =
        vec![("client_id", config.client_id.as_str()), ("post_logout_redirect_uri", &config.post_logout_redirect_uri)];
    if let Some(id_token) = id_token {
        pairs.insert(0, ("id_token_hint", id_token.expose()));
    }
    Some(with_query(endpoint, &form_encode(&pairs)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logout_url_has_hint_client_and_return() {
        let metadata = ProviderMetadata {
            issuer: "https://id.example.com".into(),
            authorization_endpoint: "https://id.example.com/a".into(),
            token_endpoint: "https://id.example.com/t".into(),
            userinfo_endpoint: None,
            end_session_endpoint: Some("https://id.example.com/logout".into()),
            revocation_endpoint: None,
            jwks_uri: None,
            id_token_signing_alg_values_supported: Vec::new(),
            iss_parameter_supported: false,
            code_challenge_methods_supported: None,
        };
        let config =
            ClientConfig::parse(r#"{"issuer":"https://id.example.com","client_id":"c"}"#, "https://app.example")
                .unwrap();
        let url = end_session_url(&metadata, &config, Some(&Secret::new("h.i.j".into()))).unwrap();
        assert_eq!(
            url,
            "https://id.example.com/logout?id_token_hint=h.i.j&client_id=c&post_logout_redirect_uri=https%3A%2F%2Fapp.example%2F"
        );
        let no_endpoint = ProviderMetadata { end_session_endpoint: None, ..metadata };
        assert_eq!(end_session_url(&no_endpoint, &config, None), None);
    }
}
