//! `fetch`, with the settings every request of this client wants: CORS mode, no referrer,
//! no cache, and a time limit after which the request is aborted. Credentials stay at the
//! default, `same-origin`, which sends no cookie to the provider.

use crate::auth::oauth::text::concat;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, Headers, ReferrerPolicy, Request, RequestCache, RequestInit, RequestMode, Response};

use crate::auth::oauth::AuthError;

/// How long any request may take, headers and body together.
pub const TIMEOUT_MS: i32 = 15_000;

/// What came back: enough for the protocol core to judge it.
pub struct HttpResponse {
    pub status: u16,
    pub content_type: String,
    pub body: String,
}

/// A request to send.
pub enum HttpRequest<'a> {
    /// A plain GET (metadata, config): no headers at all.
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

/// A request that has left: [`start`] issues it at once, so the caller can do other work
/// (paint the page) while it is in flight, then await [`InFlight::response`].
pub struct InFlight {
    window: web_sys::Window,
    fetch: JsFuture,
    controller: AbortController,
    timer: i32,
    _abort: Closure<dyn FnMut()>,
}

/// The fetch settings for `request`, and its URL.
fn request_init(request: HttpRequest<'_>) -> Result<(RequestInit, &str), AuthError> {
    let init = RequestInit::new();
    init.set_mode(RequestMode::Cors);
    init.set_cache(RequestCache::NoStore);
    init.set_referrer_policy(ReferrerPolicy::NoReferrer);
    let headers = Headers::new().map_err(network)?;
    let url = match request {
        HttpRequest::Get { url } => url,
        HttpRequest::PostForm { url, body } => {
            init.set_method("POST");
            headers.set("Content-Type", "application/x-www-form-urlencoded").map_err(network)?;
            init.set_body(&JsValue::from_str(body));
            url
        }
        HttpRequest::GetWithBearer { url, token } => {
            headers.set("Authorization", &concat(&["Bearer ", token])).map_err(network)?;
            url
        }
    };
    init.set_headers(&headers);
    Ok((init, url))
}

/// Issues `request` now, with the time limit running.
pub fn start(request: HttpRequest<'_>) -> Result<InFlight, AuthError> {
    let window = web_sys::window().ok_or_else(|| AuthError::Network("no window".into()))?;
    let (init, url) = request_init(request)?;
    let controller = AbortController::new().map_err(network)?;
    init.set_signal(Some(&controller.signal()));
    let request = Request::new_with_str_and_init(url, &init).map_err(network)?;

    let abort = {
        let controller = controller.clone();
        Closure::once(move || controller.abort())
    };
    let timer = window
        .set_timeout_with_callback_and_timeout_and_arguments_0(abort.as_ref().unchecked_ref(), TIMEOUT_MS)
        .map_err(network)?;
    let fetch = JsFuture::from(window.fetch_with_request(&request));
    Ok(InFlight { window, fetch, controller, timer, _abort: abort })
}

impl InFlight {
    /// The answer, headers and body, within the time limit.
    pub async fn response(self) -> Result<HttpResponse, AuthError> {
        let InFlight { window, fetch, controller, timer, _abort } = self;
        let outcome = async {
            let response: Response = fetch.await?.dyn_into()?;
            let body = JsFuture::from(response.text()?).await?.as_string().unwrap_or_default();
            let content_type = response.headers().get("content-type").ok().flatten().unwrap_or_default();
            Ok::<_, JsValue>(HttpResponse { status: response.status(), content_type, body })
        }
        .await;
        window.clear_timeout_with_handle(timer);
        outcome.map_err(|error| if controller.signal().aborted() { AuthError::Timeout } else { network(error) })
    }
}

/// POSTs a form and does not wait for the answer; `keepalive` lets the request outlive the
/// page, for the last request before leaving it (the revocation at sign-out).
pub fn post_form_and_forget(url: &str, body: &str) {
    if let (Some(window), Ok((init, url))) = (web_sys::window(), request_init(HttpRequest::PostForm { url, body })) {
        // Not in web-sys's bindings yet; RequestInit is a plain object, so set the field.
        let _ = js_sys::Reflect::set(&init, &JsValue::from_str("keepalive"), &JsValue::TRUE);
        let _ = window.fetch_with_str_and_init(url, &init);
    }
}

/// The browser's reason, which for a failed fetch is deliberately vague ("Failed to
/// fetch"): CORS refusals and dead servers look the same to a page.
fn network(error: JsValue) -> AuthError {
    let reason =
        error.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message())).unwrap_or_else(|| "request failed".into());
    AuthError::Network(reason)
}
