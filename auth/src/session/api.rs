//! Requests the app makes to its APIs through [`super::Session::fetch`], which adds the
//! access token. The request holds no token: it is added as the request leaves, so an
//! `ApiRequest` can be kept, logged or sent again.

use serde::Serialize;

/// An API request: method, URL, headers and an optional text body. Build it with
/// [`ApiRequest::get`], [`ApiRequest::post`] and the like, then hand it to
/// [`super::Session::fetch`] (or `Auth::fetch`).
///
/// ```
/// # use leptos_oidc_auth::session::ApiRequest;
/// let request = ApiRequest::post("https://api.example.com/orders")
///     .header("Accept", "application/json")
///     .json(&serde_json::json!({ "item": "tea" }))
///     .expect("a serializable body");
/// assert_eq!(request.method(), "POST");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiRequest {
    method: String,
    url: String,
    headers: Vec<(String, String)>,
    body: Option<String>,
}

impl ApiRequest {
    /// A request with `method` (`GET`, `POST`, ...) to `url`: absolute, or a path on the
    /// app's own origin. The six methods fetch upper-cases whatever their case (`DELETE`,
    /// `GET`, `HEAD`, `OPTIONS`, `POST`, `PUT`) are upper-cased here too, so that a DPoP proof
    /// names the method that is sent (RFC 9449 §4.3 compares it exactly); others are kept.
    pub fn new(method: &str, url: &str) -> ApiRequest {
        const NORMALIZED: [&str; 6] = ["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"];
        let method = match NORMALIZED.iter().find(|name| name.eq_ignore_ascii_case(method)) {
            Some(name) => (*name).to_owned(),
            None => method.to_owned(),
        };
        ApiRequest { method, url: url.to_owned(), headers: Vec::new(), body: None }
    }

    /// A GET to `url`.
    pub fn get(url: &str) -> ApiRequest {
        ApiRequest::new("GET", url)
    }

    /// A POST to `url`.
    pub fn post(url: &str) -> ApiRequest {
        ApiRequest::new("POST", url)
    }

    /// A PUT to `url`.
    pub fn put(url: &str) -> ApiRequest {
        ApiRequest::new("PUT", url)
    }

    /// A PATCH to `url`.
    pub fn patch(url: &str) -> ApiRequest {
        ApiRequest::new("PATCH", url)
    }

    /// A DELETE to `url`.
    pub fn delete(url: &str) -> ApiRequest {
        ApiRequest::new("DELETE", url)
    }

    /// Adds a header. An `Authorization` or `DPoP` header is not kept: the request carries
    /// the access token's, and the session's proof (RFC 9449), and only those.
    pub fn header(mut self, name: &str, value: &str) -> ApiRequest {
        if !name.eq_ignore_ascii_case("authorization") && !name.eq_ignore_ascii_case("dpop") {
            self.headers.push((name.to_owned(), value.to_owned()));
        }
        self
    }

    /// Sets a text body (set its `Content-Type` with [`ApiRequest::header`]).
    pub fn body(mut self, body: impl Into<String>) -> ApiRequest {
        self.body = Some(body.into());
        self
    }

    /// Sets `value` as a JSON body, with `Content-Type: application/json` in place of any
    /// content type set before.
    pub fn json<T: Serialize + ?Sized>(mut self, value: &T) -> Result<ApiRequest, serde_json::Error> {
        let body = serde_json::to_string(value)?;
        self.headers.retain(|(name, _)| !name.eq_ignore_ascii_case("content-type"));
        Ok(self.header("Content-Type", "application/json").body(body))
    }

    /// The method.
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The URL as given.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The headers, in the order added (never an `Authorization` or `DPoP` header).
    pub fn headers(&self) -> &[(String, String)] {
        &self.headers
    }

    /// The body, if any.
    pub fn body_text(&self) -> Option<&str> {
        self.body.as_deref()
    }
}
