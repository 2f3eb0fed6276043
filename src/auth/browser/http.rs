//! HTTP through gloo-net (the browser's `fetch`), with the settings every request of this
//! client wants: CORS mode, no referrer, no cache, and a time limit after which the
//! request is aborted. Credentials stay at fetch's default, `same-origin`, which sends no
//! cookie to the provider.

use gloo_net::http::{Method, Request, RequestBuilder, Response};
use gloo_timers::callback::Timeout;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, ReferrerPolicy, RequestCache, RequestMode};

use crate::auth::oauth::AuthError;

/// How long any request may take, headers and body together.
pub const TIMEOUT_MS: u32 = 15_000;

/// What came back: enough for the protocol core to judge it.
pub struct HttpResponse {
    pub status: u16,
    pub content_type: String,
    pub body: String,
}

/// A request to send.
pub enum HttpRequest<'a> {
    /// A plain GET (metadata, config, keys): no headers at all.
    Get { url: &'a str },
    /// A form POST with only CORS-safelisted headers, so the browser sends no preflight
    /// (the token request, RFC 10017 §6.3.3).
    PostForm { url: &'a str, body: &'a str },
    /// A GET with `Authorization: Bearer` (RFC 6750 §2.1). This header makes a preflight.
    GetWithBearer { url: &'a str, token: &'a str },
}

/// Sends `request`. Network failures and time-outs come back as [`AuthError::Network`]
/// and [`AuthError::Timeout`]; any HTTP status is a response for the caller to judge.
pub async fn send(request: HttpRequest<'_>) -> Result<HttpResponse, AuthError> {
    start(request)?.response().await
}

/// The request with this client's settings, ready to send.
fn build(request: HttpRequest<'_>, controller: Option<&AbortController>) -> Result<Request, AuthError> {
    let (method, url) = match request {
        HttpRequest::Get { url } | HttpRequest::GetWithBearer { url, .. } => (Method::GET, url),
        HttpRequest::PostForm { url, .. } => (Method::POST, url),
    };
    let builder = RequestBuilder::new(url)
        .method(method)
        .mode(RequestMode::Cors)
        .cache(RequestCache::NoStore)
        .referrer_policy(ReferrerPolicy::NoReferrer)
        .abort_signal(controller.map(AbortController::signal).as_ref());
    let built = match request {
        HttpRequest::Get { .. } => builder.build(),
        HttpRequest::GetWithBearer { token, .. } => builder.header("Authorization", &format!("Bearer {token}")).build(),
        HttpRequest::PostForm { body, .. } => {
            builder.header("Content-Type", "application/x-www-form-urlencoded").body(body)
        }
    };
    built.map_err(|error| AuthError::Network(error.to_string()))
}

/// A request that has left: [`start`] issues it at once, so the caller can do other work
/// (send a second request, paint the page) while it is in flight, then await
/// [`InFlight::response`]. Dropped unanswered, it is aborted and its timer cleared.
pub struct InFlight {
    fetch: JsFuture,
    controller: AbortController,
    /// Aborts the request when the time limit passes; dropping it clears the timer.
    _time_limit: Timeout,
}

/// Issues `request` now, with the time limit running.
pub fn start(request: HttpRequest<'_>) -> Result<InFlight, AuthError> {
    let controller = AbortController::new().map_err(network)?;
    let request = build(request, Some(&controller))?;
    let time_limit = {
        let controller = controller.clone();
        Timeout::new(TIMEOUT_MS, move || controller.abort())
    };
    // fetch() itself, not gloo-net's `send()`: that is an async fn, which would issue the
    // request only when first polled, after the caller's other work instead of before it.
    let window = web_sys::window().ok_or_else(|| AuthError::Network("no window".into()))?;
    let fetch = JsFuture::from(window.fetch_with_request(&request.into()));
    Ok(InFlight { fetch, controller, _time_limit: time_limit })
}

impl InFlight {
    /// The answer, headers and body, within the time limit.
    pub async fn response(mut self) -> Result<HttpResponse, AuthError> {
        let outcome = async {
            let response = Response::from(web_sys::Response::from((&mut self.fetch).await?));
            let body = response.text().await.map_err(|error| JsValue::from_str(&error.to_string()))?;
            let content_type = response.headers().get("content-type").unwrap_or_default();
            Ok::<_, JsValue>(HttpResponse { status: response.status(), content_type, body })
        }
        .await;
        outcome.map_err(|error| if self.controller.signal().aborted() { AuthError::Timeout } else { network(error) })
    }
}

impl Drop for InFlight {
    /// A request nobody waits for any more (the token request failed while the keys were
    /// loading) stops here rather than running on to its time limit.
    fn drop(&mut self) {
        self.controller.abort();
    }
}

/// POSTs a form and does not wait for the answer; `keepalive` lets the request outlive the
/// page, for the last request before leaving it (the revocation at sign-out).
pub fn post_form_and_forget(url: &str, body: &str) {
    let Ok(request) = build(HttpRequest::PostForm { url, body }, None) else { return };
    // keepalive can only be given when a Request is made, and neither gloo-net's builder
    // nor web-sys's RequestInit has it: copy the request with it set.
    let init = web_sys::RequestInit::new();
    let _ = js_sys::Reflect::set(&init, &JsValue::from_str("keepalive"), &JsValue::TRUE);
    let request: web_sys::Request = request.into();
    if let (Some(window), Ok(keepalive)) =
        (web_sys::window(), web_sys::Request::new_with_request_and_init(&request, &init))
    {
        let _ = window.fetch_with_request(&keepalive);
    }
}

/// The browser's reason, which for a failed fetch is deliberately vague ("Failed to
/// fetch"): CORS refusals and dead servers look the same to a page.
fn network(error: JsValue) -> AuthError {
    let reason = error
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| error.as_string())
        .unwrap_or_else(|| "request failed".into());
    AuthError::Network(reason)
}
