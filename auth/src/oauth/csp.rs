//! The Content-Security-Policy a signed-in page runs under, made from `config.json` and the
//! provider's metadata, so that pointing a built app at another provider needs no rebuild:
//! the page's own policy (written at build time) lets the app reach any https origin while
//! nobody is signed in, and this one, added before the first token is asked for, narrows
//! that to exactly the servers the app talks to (a page enforces every policy it has, so
//! a policy added later can only take away, CSP 3 §8.1).

use super::config::ClientConfig;
use super::metadata::ProviderMetadata;
use super::url::origin_of;

/// `connect-src` (RFC 9700 §4.10 in the browser's own words: the token goes to no other
/// server): this origin, the provider's endpoints' origins, the API origins and the
/// config's `extra_origins`; `form-action`: this origin, the provider's logout endpoint's
/// (the logout POST) and the `extra_origins` (a logout that redirects through another host).
pub fn signed_in_policy(config: &ClientConfig, metadata: &ProviderMetadata) -> String {
    let provider = [
        Some(&metadata.issuer),
        Some(&metadata.token_endpoint),
        metadata.userinfo_endpoint.as_ref(),
        metadata.revocation_endpoint.as_ref(),
        metadata.jwks_uri.as_ref(),
        // A sign-in started again from a page that is already narrowed: "Try again" on the
        // callback, a sign-out that stayed in the app, a restore when the tab is shown.
        metadata.pushed_authorization_request_endpoint.as_ref(),
    ];
    let connect = sources(provider.into_iter().flatten().chain(&config.api_origins).chain(&config.extra_origins));
    let form = sources(metadata.end_session_endpoint.iter().chain(&config.extra_origins));
    format!("connect-src 'self'{connect}; form-action 'self'{form}")
}

/// The distinct origins of `urls` as CSP sources, each after a space. An origin with
/// anything a source expression cannot hold (`;`, a quote, a space: never in a valid URL)
/// is left out, so no metadata value can add a directive.
fn sources<'a>(urls: impl Iterator<Item = &'a String>) -> String {
    let mut origins: Vec<String> = Vec::new();
    for origin in urls.filter_map(|url| origin_of(url)) {
        let origin = origin.to_ascii_lowercase();
        let plain = origin.bytes().all(|b| b.is_ascii_alphanumeric() || b"-.:/[]".contains(&b));
        if plain && !origins.contains(&origin) {
            origins.push(origin);
        }
    }
    origins.iter().map(|origin| format!(" {origin}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metadata() -> ProviderMetadata {
        ProviderMetadata {
            issuer: "https://id.example.com/tenant".into(),
            authorization_endpoint: "https://login.example.com/authorize".into(),
            token_endpoint: "https://ID.example.com/token".into(),
            userinfo_endpoint: Some("https://graph.example.net/me".into()),
            end_session_endpoint: Some("https://logout.example.com/end".into()),
            revocation_endpoint: Some("https://revoke.example.com/r".into()),
            jwks_uri: Some("https://keys.example.org:8443/jwks".into()),
            id_token_signing_alg_values_supported: Vec::new(),
            iss_parameter_supported: false,
            code_challenge_methods_supported: None,
            pushed_authorization_request_endpoint: Some("https://par.example.com/request".into()),
            require_pushed_authorization_requests: false,
            dpop_signing_alg_values_supported: None,
        }
    }

    fn config() -> ClientConfig {
        let text = r#"{"issuer":"https://id.example.com/tenant","client_id":"c","api_origins":["https://api.example.com"],
                       "extra_origins":["https://cdn.example.com"]}"#;
        ClientConfig::parse(text, "https://app.example").unwrap()
    }

    #[test]
    fn the_policy_names_each_server_the_app_talks_to_once() {
        assert_eq!(
            signed_in_policy(&config(), &metadata()),
            "connect-src 'self' https://id.example.com https://graph.example.net https://revoke.example.com \
             https://keys.example.org:8443 https://par.example.com https://api.example.com https://cdn.example.com; \
             form-action 'self' https://logout.example.com https://cdn.example.com"
        );
        assert!(!signed_in_policy(&config(), &metadata()).contains("login."), "not the authorization endpoint's");
    }

    #[test]
    fn no_metadata_value_can_add_a_directive() {
        let hostile = ProviderMetadata {
            userinfo_endpoint: Some("https://evil.example;script-src */me".into()),
            end_session_endpoint: Some("https://evil.example 'unsafe-inline'/logout".into()),
            ..metadata()
        };
        let policy = signed_in_policy(&config(), &hostile);
        assert!(!policy.contains("evil") && !policy.contains("script-src"), "{policy}");
        assert_eq!(policy.matches(';').count(), 1, "{policy}");
    }
}
