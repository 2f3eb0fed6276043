//! Starting a sign-in: the pending record kept until the callback, and the authorization
//! request (RFC 6749 §4.1.1 with PKCE, RFC 7636 §4.3; OpenID Connect Core §3.1.2.1),
//! pushed to the provider first when it takes that (RFC 9126).

use serde::{Deserialize, Serialize};

use super::config::{ClientConfig, Preference};
use super::document;
use super::dpop::dpop_in_use;
use super::error::AuthError;
use super::metadata::ProviderMetadata;
use super::pkce::{PkceVerifier, random_value};
use super::token::ErrorDocument;
use super::url::{form_encode, with_query};

/// How long a started sign-in stays valid, in seconds.
pub const PENDING_LIFETIME_SECS: u64 = 600;

/// A sign-in that has sent the browser to the provider and awaits its callback.
/// Stored (in sessionStorage, by the browser layer) under a key made from its `state`,
/// so that several can be pending at once, and taken out exactly once. Its serde form is
/// the stored record; it holds the verifier, so it goes to sessionStorage only, until its
/// one use.
#[derive(Debug, Serialize, Deserialize)]
pub struct PendingSignIn {
    /// The `state` sent to the provider, which the callback must return (RFC 6749 §10.12); also
    /// the record's storage key.
    pub state: String,
    /// The `nonce` sent to the provider, which the ID token must repeat (OpenID Connect Core
    /// §3.1.3.7 step 11).
    pub nonce: String,
    /// The PKCE code verifier, sent only with the token request (RFC 7636 §4.1, §4.5).
    pub verifier: PkceVerifier,
    /// A same-origin path to return to afterwards (already made safe).
    pub return_to: String,
    /// Seconds since the Unix epoch.
    pub created_at: u64,
    /// A silent sign-in (`prompt=none`, OpenID Connect Core §3.1.2.1) restoring a session
    /// after a reload: whatever its outcome, it shows no error.
    #[serde(default)]
    pub silent: bool,
}

/// The CSPRNG output a sign-in needs: verifier, state and nonce, 32 bytes each.
pub struct SignInRandomness {
    /// Bytes for the PKCE code verifier (RFC 7636 §4.1).
    pub verifier: [u8; 32],
    /// Bytes for the `state` parameter (RFC 6749 §10.10).
    pub state: [u8; 32],
    /// Bytes for the ID token `nonce` (OpenID Connect Core §3.1.2.1).
    pub nonce: [u8; 32],
}

impl PendingSignIn {
    /// A new pending sign-in made from `random`, coming back to `return_to` (made safe by
    /// [`safe_return_to`]); `now` is in seconds since the Unix epoch.
    pub fn new(random: &SignInRandomness, return_to: &str, now: u64) -> PendingSignIn {
        PendingSignIn {
            state: random_value(&random.state),
            nonce: random_value(&random.nonce),
            verifier: PkceVerifier::from_random(&random.verifier),
            return_to: safe_return_to(return_to),
            created_at: now,
            silent: false,
        }
    }

    /// The same sign-in, made silent: the provider is asked not to show any page
    /// (`prompt=none`) and to answer at once, with a code or an error.
    pub fn silently(mut self) -> PendingSignIn {
        self.silent = true;
        self
    }

    /// Whether it is older than [`PENDING_LIFETIME_SECS`] (or claims to be from the future,
    /// beyond a minute of clock change).
    pub fn is_expired(&self, now: u64) -> bool {
        // Saturating: `created_at` comes back from storage and may be anything.
        now > self.created_at.saturating_add(PENDING_LIFETIME_SECS) || self.created_at > now.saturating_add(60)
    }

    /// A record read back from storage, which is untrusted input: used only when its
    /// `state` and `nonce` are there (the verifier's form was checked as it was read),
    /// with its return-to path made safe again.
    pub fn checked(mut self) -> Option<PendingSignIn> {
        if self.state.is_empty() || self.nonce.is_empty() {
            return None;
        }
        self.return_to = safe_return_to(&self.return_to);
        Some(self)
    }
}

/// How a sign-in's authorization request reaches the provider.
#[derive(Debug, PartialEq, Eq)]
pub enum AuthorizationRequest {
    /// Send the browser to this URL, the request in its query (RFC 6749 §4.1.1).
    Redirect(String),
    /// POST `body` (the same request, form-encoded, with `client_id` and no secret: a
    /// public client, RFC 9126 §2.1) to `url` first; the browser then goes to
    /// [`pushed_redirect_url`] with the `request_uri` the answer gives
    /// ([`process_pushed_response`]). Nothing in it is secret: the verifier stays behind.
    Push {
        /// The provider's `pushed_authorization_request_endpoint`.
        url: String,
        /// The authorization request's parameters.
        body: String,
    },
}

/// The authorization request (RFC 6749 §4.1.1, RFC 7636 §4.3, OpenID Connect Core
/// §3.1.2.1): pushed first (RFC 9126) when the provider has the endpoint and the config
/// allows it (`par`: `auto` by default), and always when the provider requires it.
/// Refused when the provider lists its PKCE methods (RFC 8414 §2) without S256, the only
/// one this client uses (RFC 9700 §2.1.1), a provider that does not list them getting
/// S256 all the same; when the config asks for pushing and the provider cannot take it;
/// and when the provider requires it and the config says no.
pub fn authorization_request(
    metadata: &ProviderMetadata,
    config: &ClientConfig,
    pending: &PendingSignIn,
) -> Result<AuthorizationRequest, AuthError> {
    let endpoint = metadata.pushed_authorization_request_endpoint.as_ref();
    if metadata.require_pushed_authorization_requests && endpoint.is_none() {
        return Err(AuthError::Discovery(
            "the provider requires pushed authorization requests but names no endpoint for them".into(),
        ));
    }
    let push = match (config.par, endpoint) {
        (Preference::Off, _) if metadata.require_pushed_authorization_requests => {
            return Err(AuthError::Config(
                "the provider takes only pushed authorization requests (PAR), and config.json says \"par\": false"
                    .into(),
            ));
        }
        (Preference::Off, _) => None,
        (_, Some(endpoint)) => Some(endpoint),
        (Preference::Required, None) => {
            return Err(AuthError::Config(
                "config.json asks for pushed authorization requests (\"par\": true), and the provider offers none"
                    .into(),
            ));
        }
        (Preference::Auto, None) => None,
    };
    // A DPoP requirement the provider cannot meet is found here, before anyone leaves.
    dpop_in_use(metadata, config)?;
    let parameters = authorization_parameters(metadata, config, pending)?;
    Ok(match push {
        Some(url) => AuthorizationRequest::Push { url: url.clone(), body: parameters },
        None => AuthorizationRequest::Redirect(with_query(&metadata.authorization_endpoint, &parameters)),
    })
}

/// Where the browser goes after a push: the authorization endpoint with `client_id` and
/// the `request_uri` the provider gave, nothing else (RFC 9126 §4).
pub fn pushed_redirect_url(metadata: &ProviderMetadata, config: &ClientConfig, request_uri: &str) -> String {
    let pairs = [("client_id", config.client_id.as_str()), ("request_uri", request_uri)];
    with_query(&metadata.authorization_endpoint, &form_encode(&pairs))
}

/// The pushed authorization response (RFC 9126 §2.2): its `request_uri`. An error
/// answer (§2.3) is the provider's verdict on the authorization request, as if it had
/// come back on the callback; a success without a `request_uri` is not one.
pub fn process_pushed_response(status: u16, body: &str) -> Result<String, AuthError> {
    #[derive(Deserialize)]
    struct Answer {
        request_uri: Option<String>,
    }
    if (200..300).contains(&status) {
        let uri = document::parse::<Answer>(body).ok().and_then(|answer| answer.request_uri);
        return uri.filter(|uri| !uri.is_empty()).ok_or_else(|| {
            AuthError::InvalidTokenResponse("the pushed authorization request got no request_uri".into())
        });
    }
    // Read as leniently as the token endpoint's errors: a description that is not a string
    // does not lose the code.
    match ErrorDocument::read(body) {
        (Some(error), description) => Err(AuthError::Provider { error, description }),
        (None, _) => Err(AuthError::TokenRejected { status, error: None, description: None }),
    }
}

/// The authorization request's parameters, form-encoded.
fn authorization_parameters(
    metadata: &ProviderMetadata,
    config: &ClientConfig,
    pending: &PendingSignIn,
) -> Result<String, AuthError> {
    if metadata.code_challenge_methods_supported.as_ref().is_some_and(|methods| !methods.iter().any(|m| m == "S256")) {
        return Err(AuthError::Discovery(
            "the provider does not support PKCE with S256 (code_challenge_methods_supported)".into(),
        ));
    }
    let challenge = pending.verifier.challenge_s256();
    let mut pairs = vec![
        ("response_type", "code"),
        ("client_id", config.client_id.as_str()),
        ("redirect_uri", &config.redirect_uri),
        ("scope", &config.scope),
        ("state", &pending.state),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
    ];
    if config.requests_openid() {
        pairs.push(("nonce", &pending.nonce));
    }
    if pending.silent {
        pairs.push(("prompt", "none"));
    }
    Ok(form_encode(&pairs))
}

/// Where to come back to after a sign-in started at `path`: [`safe_return_to`], and never
/// the callback route itself, which only finishes a sign-in (coming back there would
/// leave the person on "Signing you in…").
pub fn return_target(path: &str, config: &ClientConfig) -> String {
    let safe = safe_return_to(path);
    let route = safe.split(['?', '#']).next().unwrap_or_default();
    if route == config.callback_path() { "/".to_owned() } else { safe }
}

/// Makes a return-to value safe: a same-origin absolute path (`/...`), or `/`.
/// Refuses scheme-relative (`//host`), backslash tricks (`/\host`, which browsers read as
/// `//host`), absolute URLs, `javascript:` and control characters (RFC 9700 §4.11, open
/// redirection).
pub fn safe_return_to(path: &str) -> String {
    let safe = path.starts_with('/')
        && !path.starts_with("//")
        && !path.contains('\\')
        && !path.chars().any(|c| c.is_control() || c == ' ')
        && path.len() <= 2048;
    if safe { path.to_owned() } else { "/".to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::url::parse_query;

    fn fixture() -> (ProviderMetadata, ClientConfig, PendingSignIn) {
        let metadata = ProviderMetadata {
            issuer: "http://127.0.0.1:9000".into(),
            authorization_endpoint: "http://127.0.0.1:9000/auth".into(),
            token_endpoint: "http://127.0.0.1:9000/token".into(),
            userinfo_endpoint: None,
            end_session_endpoint: None,
            revocation_endpoint: None,
            jwks_uri: None,
            id_token_signing_alg_values_supported: Vec::new(),
            iss_parameter_supported: true,
            code_challenge_methods_supported: None,
            pushed_authorization_request_endpoint: None,
            require_pushed_authorization_requests: false,
            dpop_signing_alg_values_supported: None,
        };
        let config = ClientConfig::parse(
            r#"{"issuer":"http://127.0.0.1:9000","client_id":"leptos spa"}"#,
            "http://localhost:8080",
        )
        .unwrap();
        let random = SignInRandomness { verifier: [1; 32], state: [2; 32], nonce: [3; 32] };
        (metadata, config, PendingSignIn::new(&random, "/profile?tab=1", 1_000))
    }

    /// The redirect a provider without PAR gets.
    fn authorization_url(
        metadata: &ProviderMetadata,
        config: &ClientConfig,
        pending: &PendingSignIn,
    ) -> Result<String, AuthError> {
        match authorization_request(metadata, config, pending)? {
            AuthorizationRequest::Redirect(url) => Ok(url),
            push => panic!("pushed: {push:?}"),
        }
    }

    fn with_par(metadata: ProviderMetadata, required: bool) -> ProviderMetadata {
        ProviderMetadata {
            pushed_authorization_request_endpoint: Some("http://127.0.0.1:9000/request".into()),
            require_pushed_authorization_requests: required,
            ..metadata
        }
    }

    fn config_with(extra: &str) -> ClientConfig {
        let text = format!(r#"{{"issuer":"http://127.0.0.1:9000","client_id":"leptos spa"{extra}}}"#);
        ClientConfig::parse(&text, "http://localhost:8080").unwrap()
    }

    /// RFC 9126 §2.1: the same parameters, in a POST body, and the browser then carries only
    /// `client_id` and the `request_uri` (§4).
    #[test]
    fn a_provider_with_par_gets_the_request_pushed_and_the_browser_only_its_reference() {
        let (metadata, config, pending) = fixture();
        let redirect = authorization_url(&metadata, &config, &pending).unwrap();
        let pushed = authorization_request(&with_par(metadata.clone(), false), &config, &pending).unwrap();
        let AuthorizationRequest::Push { url, body } = pushed else { panic!("not pushed") };
        assert_eq!(url, "http://127.0.0.1:9000/request");
        assert_eq!(body, redirect.split_once('?').unwrap().1, "the very parameters the redirect would carry");
        assert!(!body.contains(pending.verifier.expose()));
        let urn = "urn:ietf:params:oauth:request_uri:6esc_11ACC5bwc014ltc14eY22c";
        assert_eq!(
            pushed_redirect_url(&metadata, &config, urn),
            "http://127.0.0.1:9000/auth?client_id=leptos+spa&request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3A6esc_11ACC5bwc014ltc14eY22c"
        );
    }

    #[test]
    fn the_par_setting_decides_with_what_the_provider_offers_and_requires() {
        let (metadata, _, pending) = fixture();
        let pushes = |metadata: &ProviderMetadata, extra: &str| {
            authorization_request(metadata, &config_with(extra), &pending)
                .map(|request| matches!(request, AuthorizationRequest::Push { .. }))
        };
        let (offered, required) = (with_par(metadata.clone(), false), with_par(metadata.clone(), true));
        assert_eq!(pushes(&offered, ""), Ok(true), "auto, by default");
        assert_eq!(pushes(&offered, r#","par":"auto""#), Ok(true));
        assert_eq!(pushes(&offered, r#","par":false"#), Ok(false));
        assert_eq!(pushes(&required, r#","par":true"#), Ok(true));
        assert_eq!(pushes(&metadata, ""), Ok(false), "auto, and nothing offered");
        assert_eq!(pushes(&required, ""), Ok(true), "auto, and required");
        assert_eq!(pushes(&metadata, r#","par":false"#), Ok(false), "off, and nothing offered");
        let refused = |metadata: &ProviderMetadata, extra: &str| pushes(metadata, extra).unwrap_err().to_string();
        assert!(refused(&required, r#","par":false"#).contains("takes only pushed authorization requests"));
        assert!(refused(&metadata, r#","par":true"#).contains("the provider offers none"));
        let requires_without_endpoint = ProviderMetadata { require_pushed_authorization_requests: true, ..metadata };
        for par in ["", r#","par":false"#, r#","par":true"#] {
            assert!(refused(&requires_without_endpoint, par).contains("names no endpoint"), "{par}");
        }
    }

    #[test]
    fn the_pushed_authorization_response_gives_its_request_uri_or_the_providers_verdict() {
        let uri = r#"{"request_uri":"urn:ietf:params:oauth:request_uri:abc","expires_in":60}"#;
        assert_eq!(process_pushed_response(201, uri).as_deref(), Ok("urn:ietf:params:oauth:request_uri:abc"));
        assert_eq!(process_pushed_response(200, uri).as_deref(), Ok("urn:ietf:params:oauth:request_uri:abc"));
        let cases = [
            (201, r#"{"expires_in":60}"#, "invalid_token_response"),
            (201, r#"{"request_uri":""}"#, "invalid_token_response"),
            (201, "<html>", "invalid_token_response"),
            (400, r#"{"error":"invalid_scope","error_description":"no such scope"}"#, "invalid_scope"),
            (401, r#"{"error":"invalid_client"}"#, "invalid_client"),
            (400, r#"{"error":"invalid_request","error_description":["not","a","string"]}"#, "invalid_request"),
            (429, "", "token_rejected"),
            (500, "<h1>oops</h1>", "token_rejected"),
        ];
        for (status, body, code) in cases {
            let error = process_pushed_response(status, body).unwrap_err();
            let shown = match &error {
                AuthError::Provider { error, .. } => error.clone(),
                other => other.code().to_owned(),
            };
            assert_eq!(shown, code, "{status} {body}: {error}");
        }
    }

    #[test]
    fn authorization_url_carries_every_parameter_encoded() {
        let (metadata, config, pending) = fixture();
        let url = authorization_url(&metadata, &config, &pending).unwrap();
        let (endpoint, query) = url.split_once('?').unwrap();
        assert_eq!(endpoint, "http://127.0.0.1:9000/auth");
        assert!(query.contains("redirect_uri=http%3A%2F%2Flocalhost%3A8080%2Fcallback"));
        assert!(query.contains("client_id=leptos+spa"));
        let pairs = parse_query(query).unwrap();
        let get = |name: &str| pairs.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
        assert_eq!(get("response_type"), Some("code"));
        assert_eq!(get("client_id"), Some("leptos spa"));
        assert_eq!(get("redirect_uri"), Some("http://localhost:8080/callback"));
        assert_eq!(get("scope"), Some("openid profile email"));
        assert_eq!(get("state"), Some(pending.state.as_str()));
        assert_eq!(get("nonce"), Some(pending.nonce.as_str()));
        assert_eq!(get("code_challenge"), Some(pending.verifier.challenge_s256().as_str()));
        assert_eq!(get("code_challenge_method"), Some("S256"));
        assert_eq!(pairs.len(), 8);
        // The verifier itself never leaves the browser before the token request.
        assert!(!url.contains(pending.verifier.expose()));
    }

    /// A silent sign-in asks the provider to show nothing (OpenID Connect Core §3.1.2.1), and
    /// its record says so when read back (an older record without the member is not silent).
    #[test]
    fn a_silent_sign_in_asks_for_prompt_none() {
        let (metadata, config, pending) = fixture();
        let interactive = authorization_url(&metadata, &config, &pending).unwrap();
        assert!(!interactive.contains("prompt="));
        let silent = pending.silently();
        let url = authorization_url(&metadata, &config, &silent).unwrap();
        let pairs = parse_query(url.split_once('?').unwrap().1).unwrap();
        assert!(pairs.iter().any(|(n, v)| n == "prompt" && v == "none"), "{url}");
        let stored = serde_json::to_string(&silent).unwrap();
        assert!(serde_json::from_str::<PendingSignIn>(&stored).unwrap().silent);
        let older = stored.replace(",\"silent\":true", "");
        assert!(!serde_json::from_str::<PendingSignIn>(&older).unwrap().silent, "{older}");
    }

    /// Issue 13, item 12: a provider that lists its PKCE methods without S256 cannot take
    /// this client's sign-in (RFC 7636 §4.2, RFC 9700 §2.1.1): said before any redirect.
    #[test]
    fn a_provider_without_s256_is_refused_before_redirecting() {
        let (metadata, config, pending) = fixture();
        let plain_only = ProviderMetadata { code_challenge_methods_supported: Some(vec!["plain".into()]), ..metadata };
        let error = authorization_url(&plain_only, &config, &pending).unwrap_err();
        assert_eq!(error.code(), "discovery");
        assert!(error.to_string().contains("does not support PKCE with S256"), "{}", error);
        let listed = ProviderMetadata {
            code_challenge_methods_supported: Some(vec!["plain".into(), "S256".into()]),
            ..plain_only
        };
        assert!(authorization_url(&listed, &config, &pending).is_ok());
    }

    #[test]
    fn state_and_nonce_have_256_bits_and_differ() {
        let (_, _, pending) = fixture();
        assert_eq!(pending.state.len(), 43);
        assert_eq!(pending.nonce.len(), 43);
        assert_ne!(pending.state, pending.nonce);
    }

    /// As the browser layer reads it back (gloo-storage: serde_json).
    fn read_stored(text: &str) -> Option<PendingSignIn> {
        serde_json::from_str::<PendingSignIn>(text).ok()?.checked()
    }

    #[test]
    fn pending_round_trips_through_storage_form() {
        let (_, _, pending) = fixture();
        let back = read_stored(&serde_json::to_string(&pending).unwrap()).unwrap();
        assert_eq!(back.state, pending.state);
        assert_eq!(back.nonce, pending.nonce);
        assert_eq!(back.verifier.expose(), pending.verifier.expose());
        assert_eq!(back.return_to, "/profile?tab=1");
        assert_eq!(back.created_at, 1_000);
    }

    #[test]
    fn malformed_stored_pending_is_none() {
        for text in [
            "",
            "{}",
            "null",
            r#"{"state":"s","nonce":"n","verifier":"short","return_to":"/","created_at":1}"#,
            r#"{"state":"","nonce":"n","verifier":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","return_to":"/","created_at":1}"#,
            r#"{"state":"s","nonce":"n","verifier":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","return_to":"/","created_at":-1}"#,
            r#"{"state":"s","nonce":"n","verifier":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","return_to":"/","created_at":1.5}"#,
            r#"{"state":"s","state":"t","nonce":"n","verifier":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","return_to":"/","created_at":1}"#,
        ] {
            assert!(read_stored(text).is_none(), "{text}");
        }
    }

    #[test]
    fn a_stored_return_to_is_made_safe_again() {
        let text = r#"{"state":"s","nonce":"n","verifier":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","return_to":"//evil.example","created_at":1}"#;
        assert_eq!(read_stored(text).unwrap().return_to, "/");
    }

    #[test]
    fn expiry_after_ten_minutes() {
        let (_, _, pending) = fixture();
        assert!(!pending.is_expired(1_000 + 600));
        assert!(pending.is_expired(1_000 + 601));
        assert!(pending.is_expired(1_000 - 61));
        let from_the_far_future = PendingSignIn { created_at: u64::MAX, ..pending };
        assert!(from_the_far_future.is_expired(1_000), "no overflow, and refused");
    }

    #[test]
    fn the_callback_route_is_never_a_return_target() {
        let (_, config, _) = fixture();
        for path in ["/callback", "/callback?code=x&state=y", "/callback#top"] {
            assert_eq!(return_target(path, &config), "/", "{path}");
        }
        assert_eq!(return_target("/callback-help", &config), "/callback-help");
        assert_eq!(return_target("/profile?tab=1", &config), "/profile?tab=1");
        assert_eq!(return_target("//evil.example", &config), "/");
        let with_query = ClientConfig::parse(
            r#"{"issuer":"http://127.0.0.1:9000","client_id":"c","redirect_uri":"http://localhost:8080/auth/done?x=1"}"#,
            "http://localhost:8080",
        )
        .unwrap();
        for path in ["/auth/done", "/auth/done?x=1", "/auth/done?code=a&state=b"] {
            assert_eq!(return_target(path, &with_query), "/", "{path}");
        }
        assert_eq!(return_target("/callback", &with_query), "/callback", "not this config's callback route");
    }

    #[test]
    fn return_to_accepts_only_same_origin_paths() {
        for ok in ["/", "/profile", "/a/b?c=d#e"] {
            assert_eq!(safe_return_to(ok), ok);
        }
        for bad in [
            "//evil.example",
            "https://evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "javascript:alert(1)",
            "profile",
            "",
            "/\tx",
            "/%0a x",
        ] {
            assert_eq!(safe_return_to(bad), "/", "{bad:?}");
        }
    }
}
