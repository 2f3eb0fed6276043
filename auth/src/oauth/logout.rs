//! Signing out at the provider: OpenID Connect RP-Initiated Logout 1.0 §2.

use super::config::{ClientConfig, LogoutMethod};
use super::metadata::ProviderMetadata;
use super::secret::Secret;
use super::url::{form_encode, parse_query, with_query};

/// The navigation that ends the provider's session and comes back to
/// `post_logout_redirect_uri`. No `Debug`: it may carry the ID token.
#[derive(PartialEq, Eq)]
pub enum EndSessionRequest {
    /// Go to this URL, the parameters in its query.
    Get(String),
    /// Submit these fields as a form POST to `endpoint` (a top-level navigation).
    Post {
        /// The provider's `end_session_endpoint`, as published.
        endpoint: String,
        /// The form fields: `id_token_hint` (when there is an ID token), `client_id`,
        /// `post_logout_redirect_uri`, `state`.
        fields: Vec<(&'static str, String)>,
    },
}

/// The logout request of RP-Initiated Logout 1.0 §2: `id_token_hint` (the provider learns
/// whose session to end, and some require it), `client_id`, `post_logout_redirect_uri`
/// and `state` (which the provider passes back, §3, so that the app can tell its own
/// sign-out's return from a crafted link; some providers are reported to send the browser
/// back only when it is there), sent the way the config says. `None` when the provider has no
/// `end_session_endpoint`.
pub fn end_session_request(
    metadata: &ProviderMetadata,
    config: &ClientConfig,
    id_token: Option<&Secret>,
    state: Option<&str>,
) -> Option<EndSessionRequest> {
    let endpoint = metadata.end_session_endpoint.as_deref()?;
    let mut fields = Vec::with_capacity(4);
    if let Some(id_token) = id_token {
        fields.push(("id_token_hint", id_token.expose().to_owned()));
    }
    fields.push(("client_id", config.client_id.clone()));
    fields.push(("post_logout_redirect_uri", config.post_logout_redirect_uri.clone()));
    if let Some(state) = state {
        fields.push(("state", state.to_owned()));
    }
    Some(match config.logout_method {
        LogoutMethod::Post => EndSessionRequest::Post { endpoint: endpoint.to_owned(), fields },
        LogoutMethod::Get => {
            let pairs: Vec<(&str, &str)> = fields.iter().map(|(name, value)| (*name, value.as_str())).collect();
            EndSessionRequest::Get(with_query(endpoint, &form_encode(&pairs)))
        }
    })
}

/// Whether `query`, on the page `post_logout_redirect_uri` names, is the provider's answer
/// to the logout request sent with `state` (RP-Initiated Logout 1.0 §3): exactly one
/// `state`, the one sent. Anything else (none, another, two) is no proof that the person
/// came back from signing out, whatever else the page says.
pub fn is_logout_return(query: &str, state: &str) -> bool {
    let Ok(pairs) = parse_query(query) else { return false };
    let mut states = pairs.iter().filter(|(name, _)| name == "state");
    matches!((states.next(), states.next()), (Some((_, value)), None) if value == state)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metadata() -> ProviderMetadata {
        ProviderMetadata {
            issuer: "https://id.example.com".into(),
            authorization_endpoint: "https://id.example.com/a".into(),
            token_endpoint: "https://id.example.com/t".into(),
            userinfo_endpoint: None,
            end_session_endpoint: Some("https://id.example.com/logout?tenant=1".into()),
            revocation_endpoint: None,
            jwks_uri: None,
            id_token_signing_alg_values_supported: Vec::new(),
            iss_parameter_supported: false,
            code_challenge_methods_supported: None,
            pushed_authorization_request_endpoint: None,
            require_pushed_authorization_requests: false,
            dpop_signing_alg_values_supported: None,
        }
    }

    fn config(method: &str) -> ClientConfig {
        let text = format!(r#"{{"issuer":"https://id.example.com","client_id":"c","logout_method":"{method}"}}"#);
        ClientConfig::parse(&text, "https://app.example").unwrap()
    }

    #[test]
    fn a_post_logout_carries_the_hint_in_the_form_and_leaves_the_url_as_published() {
        let request = end_session_request(&metadata(), &config("POST"), Some(&Secret::new("h.i.j".into())), Some("s1"));
        let Some(EndSessionRequest::Post { endpoint, fields }) = request else { panic!("not a POST") };
        assert_eq!(endpoint, "https://id.example.com/logout?tenant=1");
        let expected = [
            ("id_token_hint", "h.i.j".to_owned()),
            ("client_id", "c".to_owned()),
            ("post_logout_redirect_uri", "https://app.example/".to_owned()),
            ("state", "s1".to_owned()),
        ];
        assert_eq!(fields, expected);
    }

    #[test]
    fn a_get_logout_carries_everything_in_the_query() {
        let request = end_session_request(&metadata(), &config("GET"), Some(&Secret::new("h.i.j".into())), Some("s1"));
        let Some(EndSessionRequest::Get(url)) = request else { panic!("not a GET") };
        assert_eq!(
            url,
            "https://id.example.com/logout?tenant=1&id_token_hint=h.i.j&client_id=c&post_logout_redirect_uri=https%3A%2F%2Fapp.example%2F&state=s1"
        );
        let without_hint = end_session_request(&metadata(), &config("GET"), None, None);
        assert!(
            matches!(without_hint, Some(EndSessionRequest::Get(url)) if !url.contains("id_token_hint") && !url.contains("state"))
        );
    }

    #[test]
    fn no_endpoint_no_logout_request() {
        let no_endpoint = ProviderMetadata { end_session_endpoint: None, ..metadata() };
        assert!(end_session_request(&no_endpoint, &config("POST"), None, Some("s1")).is_none());
    }

    #[test]
    fn only_the_state_sent_once_proves_a_return_from_logout() {
        assert!(is_logout_return("state=s1", "s1"));
        assert!(is_logout_return("lang=en&state=s%31", "s1"), "decoded, among other parameters");
        for query in ["", "state=", "state=s2", "state=s1&state=s1", "state=s1&state=s2", "State=s1", "state=%zz"] {
            assert!(!is_logout_return(query, "s1"), "{query:?}");
        }
    }
}
