//! The session core's seam: everything it needs from the world around it, and nothing
//! it decides. In the browser this is [`crate::browser::Browser`] (fetch, sessionStorage,
//! the address bar, WebCrypto, timers); in native tests, a scripted provider and a fake
//! tab. The core never reaches past this trait.

use futures::future::LocalBoxFuture;

use super::api::ApiRequest;
use crate::oauth::dpop::PublicJwk;
use crate::oauth::{AuthError, SignatureCheck};

/// A request to send. Not `non_exhaustive`: a platform must handle every kind, so that a
/// new one (carrying a token) cannot slip through a catch-all arm.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum HttpRequest<'a> {
    /// A plain GET (metadata, config, keys): no headers at all.
    Get {
        /// The URL to fetch.
        url: &'a str,
    },
    /// A form POST (the token request). Without a proof it has only CORS-safelisted
    /// headers, so a browser sends no preflight (RFC 10017 §6.3.3); with one, a `DPoP`
    /// header (RFC 9449 §5).
    PostForm {
        /// The URL to post to.
        url: &'a str,
        /// The form-encoded body.
        body: &'a str,
        /// A DPoP proof for the `DPoP` header.
        proof: Option<&'a str>,
    },
    /// A GET with the access token: `Authorization: Bearer` (RFC 6750 §2.1), or with a
    /// proof `Authorization: DPoP` and the `DPoP` header (RFC 9449 §7.1).
    GetWithToken {
        /// The URL to fetch.
        url: &'a str,
        /// The access token to present.
        token: &'a str,
        /// The DPoP proof that goes with a DPoP-bound token.
        proof: Option<&'a str>,
    },
    /// The app's request to an API, sent with the access token as [`HttpRequest::GetWithToken`]
    /// is, whose `Authorization` (and `DPoP`) header is the only one (an [`ApiRequest`] keeps
    /// none of its own).
    Api {
        /// The request as the app made it.
        request: &'a ApiRequest,
        /// Where it goes: the request's URL, resolved against the page.
        url: &'a str,
        /// The access token to present.
        token: &'a str,
        /// The DPoP proof that goes with a DPoP-bound token.
        proof: Option<&'a str>,
    },
}

impl<'a> HttpRequest<'a> {
    /// Where the request goes.
    pub fn url(&self) -> &'a str {
        match *self {
            HttpRequest::Get { url }
            | HttpRequest::PostForm { url, .. }
            | HttpRequest::GetWithToken { url, .. }
            | HttpRequest::Api { url, .. } => url,
        }
    }

    /// The HTTP method.
    pub fn method(&self) -> &'a str {
        match *self {
            HttpRequest::Get { .. } | HttpRequest::GetWithToken { .. } => "GET",
            HttpRequest::PostForm { .. } => "POST",
            HttpRequest::Api { request, .. } => request.method(),
        }
    }

    /// The access token it presents, if any.
    pub fn access_token(&self) -> Option<&'a str> {
        match *self {
            HttpRequest::GetWithToken { token, .. } | HttpRequest::Api { token, .. } => Some(token),
            HttpRequest::Get { .. } | HttpRequest::PostForm { .. } => None,
        }
    }

    /// Its `Authorization` header, when it presents a token: `DPoP <token>` with a proof
    /// (RFC 9449 §7.1), else `Bearer <token>` (RFC 6750 §2.1).
    pub fn authorization(&self) -> Option<String> {
        let scheme = if self.proof().is_some() { "DPoP" } else { "Bearer" };
        self.access_token().map(|token| format!("{scheme} {token}"))
    }

    /// The DPoP proof it carries, if any.
    pub fn proof(&self) -> Option<&'a str> {
        match *self {
            HttpRequest::PostForm { proof, .. }
            | HttpRequest::GetWithToken { proof, .. }
            | HttpRequest::Api { proof, .. } => proof,
            HttpRequest::Get { .. } => None,
        }
    }

    /// The same request with `proof`. (A plain GET presents no token and gets no proof:
    /// the session never asks for one.)
    pub fn with_proof<'p>(self, proof: &'p str) -> HttpRequest<'p>
    where
        'a: 'p,
    {
        match self {
            HttpRequest::Get { url } => HttpRequest::Get { url },
            HttpRequest::PostForm { url, body, .. } => HttpRequest::PostForm { url, body, proof: Some(proof) },
            HttpRequest::GetWithToken { url, token, .. } => {
                HttpRequest::GetWithToken { url, token, proof: Some(proof) }
            }
            HttpRequest::Api { request, url, token, .. } => {
                HttpRequest::Api { request, url, token, proof: Some(proof) }
            }
        }
    }
}

/// The URL only: bodies hold codes and verifiers, and the token is the token.
impl core::fmt::Debug for HttpRequest<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("HttpRequest").field("url", &self.url()).finish_non_exhaustive()
    }
}

/// What came back: the status, the headers the browser lets the page read (for another
/// origin, the CORS-safelisted ones and those it exposes), and the body as text.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// The HTTP status code.
    pub status: u16,
    /// The headers, each name in lower case, in the order received.
    pub headers: Vec<(String, String)>,
    /// The body, as text.
    pub body: String,
}

/// The status and headers; of the body only its length, since a token endpoint's holds
/// the tokens.
impl core::fmt::Debug for HttpResponse {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("HttpResponse")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .field("body_len", &self.body.len())
            .finish()
    }
}

impl HttpResponse {
    /// A response with only a `Content-Type` header.
    pub fn new(status: u16, content_type: &str, body: impl Into<String>) -> HttpResponse {
        HttpResponse { status, headers: vec![("content-type".into(), content_type.into())], body: body.into() }
    }

    /// The value of the header `name` (in any case); `None` when it is absent or hidden.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The `Content-Type` header, or empty when there is none.
    pub fn content_type(&self) -> &str {
        self.header("content-type").unwrap_or_default()
    }

    /// Whether the status is 2xx.
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The `error` of the `Bearer` or `DPoP` challenge in `WWW-Authenticate` (RFC 6750 §3,
    /// RFC 9449 §7.1), such as `invalid_token` or `insufficient_scope`, if the server sent
    /// one the page may read.
    pub fn token_error(&self) -> Option<String> {
        crate::oauth::bearer::token_challenge_errors(self.header("www-authenticate")?).next()
    }

    /// The `error` of the `Bearer` challenge.
    #[deprecated(note = "use token_error, which reads DPoP challenges too")]
    pub fn bearer_error(&self) -> Option<String> {
        self.header("www-authenticate").and_then(crate::oauth::bearer::bearer_error)
    }

    /// The body read as JSON into a `T`.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(&self.body)
    }
}

/// A URL as the browser reads it, relative to the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedUrl {
    /// The absolute URL.
    pub href: String,
    /// Its origin (`scheme://host[:port]`, as browsers serialize it); `null` for URLs
    /// without one (`data:`, `blob:`...).
    pub origin: String,
}

/// How long any request may take, headers and body together, before it fails with
/// [`AuthError::Timeout`]: long enough for a slow provider on a phone, short enough that a
/// person is told something. A renewal cut off here is a passing fault (the session keeps its
/// tokens), and sign-out waits at most [`super::SIGN_OUT_WAITS_MS`] for one in flight.
pub const REQUEST_TIME_LIMIT_MS: u32 = 15_000;

/// A request that has left, resolving to its answer: [`AuthError::Network`] or
/// [`AuthError::Timeout`] when none came; any HTTP status is an answer. Dropping it
/// abandons the request.
pub type InFlight = LocalBoxFuture<'static, Result<HttpResponse, AuthError>>;

/// The outside world of one browser tab, as the session core sees it.
pub trait Platform: 'static {
    /// A key pair for DPoP proofs (RFC 9449) whose private half nobody can read out, not
    /// even this app: WebCrypto's non-extractable `CryptoKey` in a browser.
    type ProofKey: 'static;
    /// Makes a new ES256 key pair, and its public half as a JWK; `None` where the platform
    /// cannot (a page that is not a secure context has no WebCrypto).
    fn make_proof_key(&self) -> LocalBoxFuture<'static, Option<(Self::ProofKey, PublicJwk)>>;
    /// Signs `signing_input` with `key` (ECDSA P-256, SHA-256): `r || s`, 64 bytes, as a JWS
    /// ES256 signature is written (RFC 7518 §3.4); `None` if it could not.
    fn sign_proof<'a>(&'a self, key: &'a Self::ProofKey, signing_input: &'a str)
    -> LocalBoxFuture<'a, Option<Vec<u8>>>;

    /// Sends `request` now (it has left when this returns), so that the caller can do
    /// other work while it is in flight. No answer within [`REQUEST_TIME_LIMIT_MS`] is
    /// [`AuthError::Timeout`].
    fn send(&self, request: HttpRequest<'_>) -> Result<InFlight, AuthError>;
    /// POSTs a form that must reach the server even if the page is left at once (the
    /// revocation at sign-out); nobody waits for its answer.
    fn post_form_and_forget(&self, url: &str, body: &str);

    /// Seconds since the Unix epoch.
    fn now_secs(&self) -> u64;
    /// Resolves after `ms` milliseconds.
    fn sleep(&self, ms: u32) -> LocalBoxFuture<'static, ()>;
    /// Fills `bytes` from a CSPRNG; false if there is none.
    fn fill_random(&self, bytes: &mut [u8]) -> bool;
    /// Runs a signature check the protocol core prepared: `Some(valid)`, or `None` if the
    /// key or parameters were refused.
    fn verify_signature<'a>(&'a self, check: &'a SignatureCheck) -> LocalBoxFuture<'a, Option<bool>>;
    /// Runs `task` to its end on this tab's executor, whoever waits for it.
    fn spawn(&self, task: LocalBoxFuture<'static, ()>);

    /// The text stored under `key` in storage scoped to this tab (sessionStorage), which
    /// outlives the page but not the tab.
    fn storage_get(&self, key: &str) -> Option<String>;
    /// Stores `value` under `key`; false if storage is unavailable or full.
    fn storage_set(&self, key: &str, value: &str) -> bool;
    /// Removes `key`.
    fn storage_remove(&self, key: &str);
    /// Every key in this tab's storage.
    fn storage_keys(&self) -> Vec<String>;

    /// The text under `key` in storage shared by the app's tabs that outlives them
    /// (localStorage). Only the non-secret session marker and sign-out counter live there.
    fn shared_storage_get(&self, key: &str) -> Option<String>;
    /// Stores `value` under `key` in the shared storage; false if unavailable or full.
    fn shared_storage_set(&self, key: &str, value: &str) -> bool;
    /// Removes `key` from the shared storage.
    fn shared_storage_remove(&self, key: &str);

    /// Whether the page is hidden (a background tab, a minimised window, a closed laptop):
    /// the session then renews nothing by itself until it is shown.
    fn page_hidden(&self) -> bool;
    /// Whether this page was reached by the browser's Back or Forward (a history traversal),
    /// rather than loaded, reloaded or opened from a link or the address bar.
    fn came_back(&self) -> bool;

    /// Adds `policy` to the page's Content-Security-Policy; false if it could not. Policies
    /// only add up (each must allow a request), so this can narrow what the page may reach,
    /// never widen it.
    fn restrict_page(&self, policy: &str) -> bool;

    /// `scheme://host:port` of the page.
    fn origin(&self) -> String;
    /// `url` read relative to the page by the browser's own URL parser (the one its fetch
    /// uses, so that the origin checked is the origin reached); `None` if it is not a URL.
    fn resolve_url(&self, url: &str) -> Option<ResolvedUrl>;
    /// The page's path, e.g. `/profile`.
    fn path(&self) -> String;
    /// The page's query, without its `?`.
    fn query(&self) -> String;
    /// Path, query and fragment: what a return-to value records.
    fn path_query_fragment(&self) -> String;
    /// Replaces the current history entry's URL with the same-origin `path`, loading
    /// nothing, and tells the app's router.
    fn replace_path(&self, path: &str);
    /// Leaves the app for `url` (the provider's pages).
    fn navigate(&self, url: &str);
    /// Leaves the app by POSTing `fields` as a form to `action`; false if nothing was sent.
    fn navigate_by_post(&self, action: &str, fields: &[(&str, String)]) -> bool;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_shows_no_token_and_no_body() {
        let api = ApiRequest::get("https://api.example/me");
        let requests = [
            HttpRequest::Api { request: &api, url: "https://api.example/me", token: "at-secret", proof: None },
            HttpRequest::GetWithToken { url: "https://id.example/me", token: "at-secret", proof: Some("proof-secret") },
            HttpRequest::PostForm { url: "https://id.example/token", body: "code=code-secret", proof: None },
        ];
        for request in requests {
            let shown = format!("{request:?}");
            assert!(!shown.contains("secret") && shown.contains("example"), "{shown}");
        }
        let response = HttpResponse::new(200, "application/json", r#"{"access_token":"at-secret"}"#);
        let proved = HttpRequest::GetWithToken { url: "https://id.example/me", token: "at-secret", proof: Some("p") };
        assert_eq!(proved.authorization().as_deref(), Some("DPoP at-secret"));
        assert_eq!(requests[0].authorization().as_deref(), Some("Bearer at-secret"));
        assert_eq!(requests[2].authorization(), None);
        let shown = format!("{response:?}");
        assert!(!shown.contains("secret") && shown.contains("body_len: 28"), "{shown}");
    }

    /// RFC 6750 §3 and RFC 9449 §7.1: the error of whichever token challenge the server sent.
    #[test]
    fn a_token_error_is_read_from_a_bearer_or_a_dpop_challenge() {
        let with = |challenge: &str| {
            let mut response = HttpResponse::new(401, "application/json", "{}");
            response.headers.push(("WWW-Authenticate".into(), challenge.into()));
            response.token_error()
        };
        assert_eq!(with(r#"Bearer error="invalid_token""#).as_deref(), Some("invalid_token"));
        assert_eq!(with(r#"DPoP algs="ES256", error="invalid_dpop_proof""#).as_deref(), Some("invalid_dpop_proof"));
        assert_eq!(with(r#"Bearer realm="api", DPoP error="use_dpop_nonce""#).as_deref(), Some("use_dpop_nonce"));
        assert_eq!(with(r#"Basic error="invalid_token""#), None);
        assert_eq!(HttpResponse::new(401, "text/plain", "").token_error(), None);
    }
}
