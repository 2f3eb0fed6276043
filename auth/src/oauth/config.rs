//! The client's settings, read at start-up from the deployed `config.json`, so one build
//! can be pointed at another provider by editing that file.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::document::{self, DocumentError};
use super::error::AuthError;
use super::url::{is_secure_endpoint, normalized_origin, origin_of};

/// `config.json` as written: every member may be missing here, and
/// [`ClientConfig::from_document`] decides what is required. A [`ClientConfig`] serializes
/// to this same shape, with its defaults filled in.
#[derive(Debug, Deserialize)]
pub struct ConfigDocument {
    /// The provider's issuer identifier (required).
    pub issuer: Option<String>,
    /// This app's client identifier at the provider (required).
    pub client_id: Option<String>,
    /// Space-separated scopes; `openid profile email` when absent.
    pub scope: Option<String>,
    /// The callback URL; `<origin>/callback` when absent.
    pub redirect_uri: Option<String>,
    /// Where the provider sends the browser after sign-out; `<origin>/` when absent.
    pub post_logout_redirect_uri: Option<String>,
    /// `GET` or `POST`, in any case (see [`LogoutMethod`]); `GET` when absent.
    pub logout_method: Option<String>,
    /// Whether a reload or a new tab restores the session silently; on when absent.
    pub restore_session: Option<bool>,
    /// The origins, besides the app's own, that API requests may carry the access token to.
    #[serde(default)]
    pub api_origins: Vec<String>,
    /// Other origins a signed-in page may reach, never with the token.
    #[serde(default)]
    pub extra_origins: Vec<String>,
    /// Pushed authorization requests (RFC 9126): `"auto"` (when absent), `true`, `false`,
    /// as written (read in [`ClientConfig::from_document`]).
    pub par: Option<Box<serde_json::value::RawValue>>,
    /// Sender-constrained tokens (DPoP, RFC 9449): `"auto"` (when absent), `true`, `false`.
    pub dpop: Option<Box<serde_json::value::RawValue>>,
    /// The app's own settings (an API's URL...), passed through untouched.
    #[serde(default)]
    pub app: BTreeMap<String, String>,
}

/// Provider and client settings, validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClientConfig {
    /// The issuer identifier, exactly as the provider's metadata states it.
    pub issuer: String,
    /// The client identifier registered at the provider (RFC 6749 §2.2).
    pub client_id: String,
    /// Space-separated scopes (RFC 6749 §3.3).
    pub scope: String,
    /// Where the provider sends the browser back; registered exactly at the provider.
    pub redirect_uri: String,
    /// Where the provider sends the browser after sign-out.
    pub post_logout_redirect_uri: String,
    /// How the browser goes to the provider's logout endpoint.
    pub logout_method: LogoutMethod,
    /// Whether a reload or a new tab restores the session with a silent sign-in
    /// (`prompt=none`) when this browser was signed in.
    pub restore_session: bool,
    /// The origins, besides the app's own, that API requests made through the session may
    /// carry the access token to (RFC 9700 §4.10: no token to a server that is not meant to
    /// get it), each as a browser serializes origins (`https://api.example.com`).
    pub api_origins: Vec<String>,
    /// Other origins a signed-in page may reach (`fetch` without the token, a logout that
    /// redirects through another host), as browsers serialize them: they go in the policy the
    /// page adds at sign-in ([`crate::oauth::csp`]), and no token is ever sent to them.
    pub extra_origins: Vec<String>,
    /// Whether sign-ins push their authorization request first (RFC 9126).
    pub par: Preference,
    /// Whether tokens are bound to a key this page holds (DPoP, RFC 9449): `Auto` when the
    /// provider advertises ES256 proofs (`dpop_signing_alg_values_supported`).
    pub dpop: Preference,
    /// The app's own settings from `config.json`'s `app` object: strings under names, for
    /// whatever the app wants to configure per deployment. The auth module reads none.
    pub app: BTreeMap<String, String>,
}

/// Whether the client uses a protocol extension the provider may offer: pushed
/// authorization requests (RFC 9126, `"par"`) and DPoP (RFC 9449, `"dpop"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Preference {
    /// When the provider advertises it (the default, `"auto"`).
    #[default]
    Auto,
    /// Always: a provider that does not advertise it is refused (`true`).
    Required,
    /// Never (`false`). A provider that says it requires it (PAR's
    /// `require_pushed_authorization_requests`) is refused before anyone leaves; one that
    /// binds this client's tokens without saying so in its metadata (DPoP's
    /// `dpop_bound_access_tokens` is client registration) refuses the code exchange.
    Off,
}

/// The name this had before DPoP shared it with PAR.
#[deprecated(note = "renamed to Preference: `par` and `dpop` share it")]
pub type ParMode = Preference;

/// As config.json writes it, so that the tab's copy of the config reads back the same.
impl Serialize for Preference {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Preference::Auto => serializer.serialize_str("auto"),
            Preference::Required => serializer.serialize_bool(true),
            Preference::Off => serializer.serialize_bool(false),
        }
    }
}

/// How the browser is sent to the provider's `end_session_endpoint`. RP-Initiated Logout
/// 1.0 §2 has providers accept both; some accept only GET.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub enum LogoutMethod {
    /// A GET, with the parameters (the ID token hint among them) in the URL's query. The
    /// default because it always carries the provider's session cookie: a cross-site POST
    /// does not carry a `SameSite=Lax` one, and the provider's session would silently
    /// survive the sign-out.
    #[default]
    #[serde(rename = "GET")]
    Get,
    /// A form POST: the ID token hint travels in the request body, out of the address bar,
    /// the browser's history and the provider's access logs. For providers whose session
    /// cookie is `SameSite=None`, or on the same site as the app.
    #[serde(rename = "POST")]
    Post,
}

impl ClientConfig {
    /// Reads the config document. `page_origin` (`scheme://host:port` of the running app)
    /// supplies the defaults `<origin>/callback` and `<origin>/`; explicit URIs must be on
    /// that origin, because only this app can finish a sign-in it started.
    pub fn parse(text: &str, page_origin: &str) -> Result<ClientConfig, AuthError> {
        let document = document::parse(text).map_err(|error| {
            AuthError::Config(match error {
                DocumentError::NotAnObject => "config.json must hold a JSON object".into(),
                DocumentError::Syntax(detail) => format!("config.json is not valid JSON: {detail}"),
                other => format!("config.json is not valid: {other}"),
            })
        })?;
        ClientConfig::from_document(document, page_origin)
    }

    /// Checks a config document and fills in its defaults (see [`ClientConfig::parse`]).
    pub fn from_document(document: ConfigDocument, page_origin: &str) -> Result<ClientConfig, AuthError> {
        // Surrounding spaces are an editing slip, not meaning; a blank value is a mistake.
        let given = |name: &str, value: Option<String>| match value.map(|v| v.trim().to_owned()) {
            Some(v) if v.is_empty() => Err(AuthError::Config(format!("\"{name}\" must be a non-empty string"))),
            other => Ok(other),
        };
        let required = |name: &str, value: Option<String>| {
            given(name, value)?.ok_or_else(|| AuthError::Config(format!("\"{name}\" is missing")))
        };
        let issuer = required("issuer", document.issuer)?;
        if !is_secure_endpoint(&issuer) || issuer.contains('?') {
            return Err(AuthError::Config(
                "\"issuer\" must be an https URL without query (plain http only on localhost)".into(),
            ));
        }
        let client_id = required("client_id", document.client_id)?;
        let scope = given("scope", document.scope)?.unwrap_or_else(|| "openid profile email".into());
        let on_this_origin = |name: &str, value: Option<String>, default_path: &str| -> Result<String, AuthError> {
            let uri = given(name, value)?.unwrap_or_else(|| format!("{page_origin}{default_path}"));
            if origin_of(&uri) != Some(page_origin) || uri.contains('#') {
                return Err(AuthError::Config(format!("\"{name}\" must be a URL on this app's origin {page_origin}")));
            }
            Ok(uri)
        };
        let logout_method = match given("logout_method", document.logout_method)?.map(|m| m.to_ascii_uppercase()) {
            None => LogoutMethod::default(),
            Some(method) if method == "POST" => LogoutMethod::Post,
            Some(method) if method == "GET" => LogoutMethod::Get,
            Some(_) => return Err(AuthError::Config("\"logout_method\" must be \"GET\" or \"POST\"".into())),
        };
        let origins = |name: &str, listed: &[String]| -> Result<Vec<String>, AuthError> {
            listed
                .iter()
                .map(|origin| {
                    // Plain http only to this machine, and only from an app served from it: an
                    // https app would otherwise hand tokens to whatever listens on a local port.
                    // No IPv6 literal: a Content-Security-Policy cannot name one (CSP 3 §2.3.1),
                    // so the page could never reach it.
                    normalized_origin(origin.trim())
                        .filter(|normal| {
                            normal.starts_with("https://")
                                || (page_origin.starts_with("http://") && is_secure_endpoint(page_origin))
                        })
                        .filter(|normal| !normal.contains('['))
                        .ok_or_else(|| {
                            AuthError::Config(format!(
                                "\"{name}\" must list origins such as \"https://api.example.com\" (https, or http on \
                                 localhost for an app on localhost; no path, no IPv6 address): \"{origin}\" is not one"
                            ))
                        })
                })
                .collect()
        };
        let preference = |name: &str, value: Option<&serde_json::value::RawValue>| match value.map(|v| v.get()) {
            None | Some(r#""auto""#) => Ok(Preference::Auto),
            Some("true") => Ok(Preference::Required),
            Some("false") => Ok(Preference::Off),
            Some(_) => Err(AuthError::Config(format!("\"{name}\" must be \"auto\", true or false"))),
        };
        Ok(ClientConfig {
            par: preference("par", document.par.as_deref())?,
            dpop: preference("dpop", document.dpop.as_deref())?,
            api_origins: origins("api_origins", &document.api_origins)?,
            extra_origins: origins("extra_origins", &document.extra_origins)?,
            app: document.app,
            logout_method,
            restore_session: document.restore_session.unwrap_or(true),
            redirect_uri: on_this_origin("redirect_uri", document.redirect_uri, "/callback")?,
            post_logout_redirect_uri: on_this_origin(
                "post_logout_redirect_uri",
                document.post_logout_redirect_uri,
                "/",
            )?,
            issuer,
            client_id,
            scope,
        })
    }

    /// The path part of `redirect_uri`: the route that finishes sign-in.
    pub fn callback_path(&self) -> &str {
        path_of(after_origin(&self.redirect_uri))
    }

    /// Where the provider's logout sends the browser back: the path of
    /// `post_logout_redirect_uri` (the page to recognise), and its path and query (the
    /// address to leave that page at, without what the provider added).
    pub fn post_logout_landing(&self) -> (&str, &str) {
        let path_query = after_origin(&self.post_logout_redirect_uri); // no fragment: refused in `parse`
        (path_of(path_query), if path_query.is_empty() { "/" } else { path_query })
    }

    /// Whether OpenID Connect is in use, so an ID token is required (OIDC Core §3.1.2.1).
    pub fn requests_openid(&self) -> bool {
        self.scope.split(' ').any(|s| s == "openid")
    }
}

/// What follows `url`'s origin: its path, query and fragment.
fn after_origin(url: &str) -> &str {
    url.get(origin_of(url).map_or(0, str::len)..).unwrap_or_default()
}

/// The path of a path-query-fragment, `/` when empty.
fn path_of(path_query_fragment: &str) -> &str {
    let path = path_query_fragment.split(['?', '#']).next().unwrap_or_default();
    if path.is_empty() { "/" } else { path }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORIGIN: &str = "http://localhost:8080";

    #[test]
    fn defaults_come_from_the_page_origin() {
        let config =
            ClientConfig::parse(r#"{"issuer":"http://127.0.0.1:9000","client_id":"leptos-spa"}"#, ORIGIN).unwrap();
        assert_eq!(config.redirect_uri, "http://localhost:8080/callback");
        assert_eq!(config.post_logout_redirect_uri, "http://localhost:8080/");
        assert_eq!(config.scope, "openid profile email");
        assert_eq!(config.logout_method, LogoutMethod::Get);
        assert_eq!(config.callback_path(), "/callback");
        assert_eq!(config.post_logout_landing(), ("/", "/"));
        assert!(config.requests_openid());
    }

    #[test]
    fn explicit_values_are_kept() {
        let config = ClientConfig::parse(
            r#"{"issuer":"https://id.example.com/tenant","client_id":"c","scope":"api",
                "redirect_uri":"http://localhost:8080/auth/done?x=1",
                "post_logout_redirect_uri":"http://localhost:8080/bye?from=app","logout_method":"post"}"#,
            ORIGIN,
        )
        .unwrap();
        assert_eq!(config.callback_path(), "/auth/done");
        assert_eq!(config.post_logout_landing(), ("/bye", "/bye?from=app"));
        assert_eq!(config.logout_method, LogoutMethod::Post);
        assert!(!config.requests_openid());
    }

    #[test]
    fn api_origins_are_normalized_and_app_settings_kept() {
        let config = ClientConfig::parse(
            r#"{"issuer":"https://id.example.com","client_id":"c",
                "api_origins":["https://API.example.com/"," http://localhost:9200 "],
                "app":{"orders_api":"https://api.example.com/orders"}}"#,
            ORIGIN,
        )
        .unwrap();
        assert_eq!(config.api_origins, ["https://api.example.com", "http://localhost:9200"]);
        assert_eq!(config.app.get("orders_api").map(String::as_str), Some("https://api.example.com/orders"));
        let plain = ClientConfig::parse(r#"{"issuer":"https://id.example.com","client_id":"c"}"#, ORIGIN).unwrap();
        assert!(plain.api_origins.is_empty() && plain.app.is_empty());
    }

    #[test]
    fn an_api_origin_with_a_path_or_without_tls_is_refused() {
        for (origins, page) in [
            (r#"["https://api.example.com/v1"]"#, ORIGIN),
            (r#"["http://api.example.com"]"#, ORIGIN),
            (r#"["*"]"#, ORIGIN),
            // A local http API from an app on the web: any local process could take the token.
            (r#"["http://localhost:9200"]"#, "https://app.example.com"),
            (r#"["http://localhost:9200"]"#, "http://192.168.1.20:8080"),
            // No policy can name an IPv6 address: the page could never reach it.
            (r#"["http://[::1]:9200"]"#, ORIGIN),
        ] {
            for name in ["api_origins", "extra_origins"] {
                let text = format!(r#"{{"issuer":"https://id.example.com","client_id":"c","{name}":{origins}}}"#);
                let error = ClientConfig::parse(&text, page).unwrap_err();
                assert!(
                    matches!(&error, AuthError::Config(detail) if detail.starts_with(&format!("\"{name}\" must list origins"))),
                    "{name} {origins}: {error}"
                );
            }
        }
    }

    #[test]
    fn par_and_dpop_are_auto_true_or_false_and_read_back_the_same() {
        let read = |value: &str| {
            ClientConfig::parse(&format!(r#"{{"issuer":"https://id.example.com","client_id":"c"{value}}}"#), ORIGIN)
                .map(|config| (config.par, config.dpop))
        };
        use Preference::*;
        assert_eq!(read(""), Ok((Auto, Auto)));
        assert_eq!(read(r#","par":"auto","dpop":"auto""#), Ok((Auto, Auto)));
        assert_eq!(read(r#","par":true,"dpop":false"#), Ok((Required, Off)));
        assert_eq!(read(r#","par":false,"dpop":true"#), Ok((Off, Required)));
        for (wrong, named) in [(r#","par":"yes""#, "\"par\""), (r#","dpop":1"#, "\"dpop\"")] {
            let error = read(wrong).unwrap_err();
            assert!(error.to_string().contains(named), "{wrong}: {error}");
        }
        for (par, dpop) in [(Auto, Required), (Required, Off), (Off, Auto)] {
            let config = ClientConfig {
                par,
                dpop,
                ..ClientConfig::parse(r#"{"issuer":"https://id.example.com","client_id":"c"}"#, ORIGIN).unwrap()
            };
            let document: ConfigDocument = serde_json::from_str(&serde_json::to_string(&config).unwrap()).unwrap();
            let back = ClientConfig::from_document(document, ORIGIN).unwrap();
            assert_eq!((back.par, back.dpop), (par, dpop));
        }
    }

    #[test]
    fn extra_origins_are_normalized_and_kept_apart_from_the_api_origins() {
        let config = ClientConfig::parse(
            r#"{"issuer":"https://id.example.com","client_id":"c","extra_origins":["https://CDN.example.com:443/"]}"#,
            ORIGIN,
        )
        .unwrap();
        assert_eq!(config.extra_origins, ["https://cdn.example.com"]);
        assert!(config.api_origins.is_empty(), "no token goes to an extra origin");
    }

    #[test]
    fn a_config_serializes_to_a_document_that_reads_back_the_same() {
        let config = ClientConfig::parse(
            r#"{"issuer":"https://id.example.com","client_id":"c","scope":" api ","post_logout_redirect_uri":null,"logout_method":"POST",
                "api_origins":["https://api.example.com"],"app":{"k":"v"}}"#,
            ORIGIN,
        )
        .unwrap();
        let document: ConfigDocument = serde_json::from_str(&serde_json::to_string(&config).unwrap()).unwrap();
        assert_eq!(ClientConfig::from_document(document, ORIGIN).unwrap(), config);
        assert_eq!(config.scope, "api");
    }

    #[test]
    fn refuses_unusable_settings() {
        let big = format!(r#"{{"issuer":"https://id.example.com","client_id":"c","x":"{}"}}"#, "a".repeat(256 * 1024));
        let cases = [
            ("{not json", "config.json is not valid JSON"),
            ("[]", "must hold a JSON object"),
            (r#"{"client_id":"c"}"#, "\"issuer\" is missing"),
            (r#"{"issuer":"http://id.example.com","client_id":"c"}"#, "\"issuer\" must be an https URL"),
            (r#"{"issuer":"https://id.example.com","client_id":""}"#, "\"client_id\" must be a non-empty string"),
            (
                r#"{"issuer":"https://id.example.com","client_id":7}"#,
                "config.json is not valid: invalid type: integer `7`, expected a string",
            ),
            (
                r#"{"issuer":"https://id.example.com","client_id":"a","client_id":"b"}"#,
                "config.json is not valid: duplicate field `client_id`",
            ),
            (big.as_str(), "config.json is not valid: it is larger than 256 KB"),
            (
                r#"{"issuer":"https://id.example.com","client_id":"c","logout_method":"PUT"}"#,
                "\"logout_method\" must be \"GET\" or \"POST\"",
            ),
            (
                r#"{"issuer":"https://id.example.com","client_id":"c","redirect_uri":"https://evil.example/callback"}"#,
                "\"redirect_uri\" must be a URL on this app's origin",
            ),
        ];
        for (text, expected) in cases {
            match ClientConfig::parse(text, ORIGIN) {
                Err(AuthError::Config(detail)) => assert!(detail.contains(expected), "{text}: {detail}"),
                other => panic!("{text}: {other:?}"),
            }
        }
    }
}
