//! HTTP through the browser's `fetch`, with the settings every request of this client
//! wants: CORS mode, no referrer, no cache (but for a proof's preflight, see [`build`]), and
//! a time limit after which the request is aborted. Credentials stay at fetch's default, `same-origin`, which sends no cookie to
//! the provider. Answers are read with gloo-net's `Response`.
//!
//! Requests are made with web-sys's `RequestInit` rather than gloo-net's `RequestBuilder`,
//! for three things the builder cannot do: keep an endpoint's own query exactly as it is
//! (0.6 appends `&` to it, while RFC 6749 §3.1 says it "MUST be retained"), set
//! `keepalive`, and start the request at once (its `send()` starts it when first polled).

use gloo_net::http::Response;
use gloo_timers::callback::Timeout;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, Headers, ReferrerPolicy, Request, RequestCache, RequestInit, RequestMode};

use crate::oauth::AuthError;
use crate::session::platform::{HttpRequest, HttpResponse, REQUEST_TIME_LIMIT_MS};

/// The request with this client's settings, ready to send.
fn build(request: HttpRequest<'_>, init: RequestInit) -> Result<Request, AuthError> {
    init.set_mode(RequestMode::Cors);
    init.set_cache(match request {
        // A token request with a DPoP proof: its `DPoP` header needs a CORS preflight, and
        // Chromium skips its preflight cache for a `no-store` request, so the nonce retry
        // and every renewal would be preflighted again (a round trip each). The default
        // mode lets the browser reuse the preflight; what keeps the answer out of the HTTP
        // cache is then the provider's `Cache-Control: no-store`, which RFC 6749 §5.1
        // requires on every answer with tokens (an error answer carries none).
        HttpRequest::PostForm { proof: Some(_), .. } => RequestCache::Default,
        _ => RequestCache::NoStore,
    });
    init.set_referrer_policy(ReferrerPolicy::NoReferrer);
    let headers = Headers::new().map_err(network)?;
    init.set_method(request.method());
    match request {
        HttpRequest::Get { .. } | HttpRequest::GetWithToken { .. } => {}
        HttpRequest::PostForm { body, .. } => {
            headers.set("Content-Type", "application/x-www-form-urlencoded").map_err(network)?;
            init.set_body(&JsValue::from_str(body));
        }
        HttpRequest::Api { request, .. } => {
            for (name, value) in request.headers() {
                headers.append(name, value).map_err(network)?;
            }
            if let Some(body) = request.body_text() {
                init.set_body(&JsValue::from_str(body));
            }
        }
    }
    if let Some(authorization) = request.authorization() {
        headers.set("Authorization", &authorization).map_err(network)?;
    }
    if let Some(proof) = request.proof() {
        headers.set("DPoP", proof).map_err(network)?;
    }
    init.set_headers(&headers);
    let url = request.url();
    Request::new_with_str_and_init(url, &init).map_err(network)
}

/// A request that has left: [`start`] issues it at once, so the caller can do other work
/// (send a second request, paint the page) while it is in flight, then await
/// [`Fetch::response`]. Dropped unanswered, it is aborted and its timer cleared.
pub struct Fetch {
    fetch: JsFuture,
    controller: AbortController,
    /// Aborts the request when the time limit passes; dropping it clears the timer.
    _time_limit: Timeout,
}

/// Issues `request` now, with the time limit running.
pub fn start(request: HttpRequest<'_>) -> Result<Fetch, AuthError> {
    let controller = AbortController::new().map_err(network)?;
    let init = RequestInit::new();
    init.set_signal(Some(&controller.signal()));
    let request = build(request, init)?;
    let time_limit = {
        let controller = controller.clone();
        Timeout::new(REQUEST_TIME_LIMIT_MS, move || controller.abort())
    };
    let window = web_sys::window().ok_or_else(|| AuthError::Network("no window".into()))?;
    let fetch = JsFuture::from(window.fetch_with_request(&request));
    Ok(Fetch { fetch, controller, _time_limit: time_limit })
}

impl Fetch {
    /// The answer, headers and body, within the time limit.
    pub async fn response(mut self) -> Result<HttpResponse, AuthError> {
        let outcome = async {
            let response = Response::from(
                (&mut self.fetch).await.map_err(network)?.dyn_into::<web_sys::Response>().map_err(network)?,
            );
            // What the page may read: for another origin, the safelisted and exposed ones.
            let headers = response.headers().entries().collect();
            let body = response.text().await.map_err(|error| AuthError::Network(error.to_string()))?;
            Ok(HttpResponse { status: response.status(), headers, body })
        }
        .await;
        outcome.map_err(|error| if self.controller.signal().aborted() { AuthError::Timeout } else { error })
    }
}

impl Drop for Fetch {
    /// A request nobody waits for any more (the token request failed while the keys were
    /// loading) stops here rather than running on to its time limit.
    fn drop(&mut self) {
        self.controller.abort();
    }
}

/// POSTs a form and does not wait for the answer; `keepalive` lets the request outlive the
/// page, for the last request before leaving it (the revocation at sign-out).
pub fn post_form_and_forget(url: &str, body: &str) {
    let init = RequestInit::new();
    // Not in web-sys's bindings; RequestInit is a plain object, so set the member.
    let _ = js_sys::Reflect::set(&init, &JsValue::from_str("keepalive"), &JsValue::TRUE);
    if let (Some(window), Ok(request)) =
        (web_sys::window(), build(HttpRequest::PostForm { url, body, proof: None }, init))
    {
        let _ = window.fetch_with_request(&request);
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
