//! The session core's seam: everything it needs from the world around it, and nothing
//! it decides. In the browser this is [`crate::browser::Browser`] (fetch, sessionStorage,
//! the address bar, WebCrypto, timers); in native tests, a scripted provider and a fake
//! tab. The core never reaches past this trait.

use futures::future::LocalBoxFuture;

use crate::oauth::{AuthError, SignatureCheck};

/// A request to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpRequest<'a> {
    /// A plain GET (metadata, config, keys): no headers at all.
    Get {
        /// The URL to fetch.
        url: &'a str,
    },
    /// A form POST with only CORS-safelisted headers, so a browser sends no preflight
    /// (the token request, RFC 10017 §6.3.3).
    PostForm {
        /// The URL to post to.
        url: &'a str,
        /// The form-encoded body.
        body: &'a str,
    },
    /// A GET with `Authorization: Bearer` (RFC 6750 §2.1).
    GetWithBearer {
        /// The URL to fetch.
        url: &'a str,
        /// The access token to present.
        token: &'a str,
    },
}

impl HttpRequest<'_> {
    /// Where the request goes.
    pub fn url(&self) -> &str {
        match self {
            HttpRequest::Get { url } | HttpRequest::PostForm { url, .. } | HttpRequest::GetWithBearer { url, .. } => {
                url
            }
        }
    }
}

/// What came back: enough for the protocol core to judge it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// The HTTP status code.
    pub status: u16,
    /// The `Content-Type` header, or empty when there is none.
    pub content_type: String,
    /// The body, as text.
    pub body: String,
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

    /// `scheme://host:port` of the page.
    fn origin(&self) -> String;
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
