//! Every way a sign-in can fail, with a stable code and a family ([`ErrorFamily`]) for
//! programs. The sentences people read are the UI layer's (`crate::messages`), not the
//! protocol's. No variant carries a token, code or verifier, so an error can be shown or
//! logged as it is.

use core::fmt;

/// Why sign-in, a renewal or a profile request failed: [`AuthError::code`] and
/// [`AuthError::family`] for programs, `crate::messages::error_message` for people.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthError {
    /// The app's own configuration file is missing or wrong.
    Config(String),
    /// The provider's metadata could not be loaded or is not usable.
    Discovery(String),
    /// The callback URL could not be read: broken encoding, or a parameter given twice.
    MalformedCallback(String),
    /// RFC 9207: `iss` names another issuer.
    IssuerMismatch,
    /// RFC 9207: the provider promises `iss` but the response lacks it.
    IssuerMissing,
    /// The response has no `state`.
    StateMissing,
    /// The `state` matches no sign-in this tab started.
    StateMismatch,
    /// The callback arrived but no sign-in is in progress (visited directly, replayed, reloaded).
    NoSignInInProgress,
    /// The pending sign-in is older than allowed.
    SignInExpired,
    /// The provider answered with an error (RFC 6749 §4.1.2.1).
    Provider {
        /// The error code (RFC 6749 §4.1.2.1), e.g. `access_denied`.
        error: String,
        /// The provider's `error_description`, if any: untrusted, shown only as text.
        description: Option<String>,
    },
    /// Neither `code` nor `error` came back.
    CodeMissing,
    /// The token endpoint refused the exchange (RFC 6749 §5.2), or the pushed authorization
    /// request endpoint answered with an HTTP error and no OAuth error (RFC 9126 §2.3).
    TokenRejected {
        /// The HTTP status of the answer.
        status: u16,
        /// The error code (RFC 6749 §5.2), e.g. `invalid_grant`, when the answer could be read.
        error: Option<String>,
        /// The provider's `error_description`, if any: untrusted, shown only as text.
        description: Option<String>,
    },
    /// The token endpoint's answer is not a valid token response (or a pushed authorization
    /// request's success carried no `request_uri`).
    InvalidTokenResponse(String),
    /// The ID token failed validation (OpenID Connect Core §3.1.3.7).
    InvalidIdToken(String),
    /// The userinfo response is unusable (OpenID Connect Core §5.3.2, §5.3.4).
    InvalidUserInfo(String),
    /// The browser refused to store the sign-in in progress (sessionStorage blocked or full),
    /// or has no secure random numbers (a page not on HTTPS).
    Storage,
    /// An access token was asked for, but nobody is signed in.
    NotSignedIn,
    /// The provider no longer renews the session (the refresh token was refused).
    SessionExpired,
    /// The request did not reach the server, or its answer did not reach us.
    Network(String),
    /// No answer within the time allowed.
    Timeout,
    /// An API request the browser would not send as built (a header name it refuses, a GET
    /// with a body): the browser's reason. Nothing was sent.
    ApiRequestInvalid(String),
    /// An API request went out, but no answer came from the API (its server down, a CORS
    /// refusal, no answer in time): the browser's reason.
    ApiUnreachable(String),
    /// An API request was not sent: its URL's origin (given here, or the URL when it has
    /// none) is neither the app's nor one of the config's `api_origins`, and the access
    /// token goes nowhere else.
    ApiOriginNotAllowed(String),
}

impl AuthError {
    /// A stable identifier, for programs and tests.
    pub fn code(&self) -> &'static str {
        match self {
            AuthError::Config(_) => "config",
            AuthError::Discovery(_) => "discovery",
            AuthError::MalformedCallback(_) => "malformed_callback",
            AuthError::IssuerMismatch => "iss_mismatch",
            AuthError::IssuerMissing => "iss_missing",
            AuthError::StateMissing => "state_missing",
            AuthError::StateMismatch => "state_mismatch",
            AuthError::NoSignInInProgress => "no_sign_in_in_progress",
            AuthError::SignInExpired => "sign_in_expired",
            AuthError::Provider { .. } => "provider_error",
            AuthError::CodeMissing => "code_missing",
            AuthError::TokenRejected { .. } => "token_rejected",
            AuthError::InvalidTokenResponse(_) => "invalid_token_response",
            AuthError::InvalidIdToken(_) => "invalid_id_token",
            AuthError::InvalidUserInfo(_) => "invalid_userinfo",
            AuthError::Storage => "storage",
            AuthError::NotSignedIn => "not_signed_in",
            AuthError::SessionExpired => "session_expired",
            AuthError::Network(_) => "network",
            AuthError::Timeout => "timeout",
            AuthError::ApiOriginNotAllowed(_) => "api_origin_not_allowed",
            AuthError::ApiUnreachable(_) => "api_unreachable",
            AuthError::ApiRequestInvalid(_) => "api_request_invalid",
        }
    }

    /// Whether a failed renewal means the session cannot go on. It cannot when the
    /// provider refused the grant with an OAuth error (RFC 6749 §5.2: `invalid_grant` when
    /// the refresh token expired or was revoked), other than the ones that say "later"
    /// (`temporarily_unavailable`, `server_error`, `slow_down`); nor when the answer came
    /// but its ID token failed its checks (another person, a forged signature), since the
    /// refresh token that asked for it may already be spent. A 5xx without an OAuth error,
    /// no answer, or an answer that could not be read is a passing fault: the session
    /// keeps its tokens. A bare 401 ends it too: the token endpoint refuses this client
    /// (RFC 6749 §5.2 answers `invalid_client` with 401) without saying so, and would refuse
    /// every retry; a bare 403 may be a firewall or a CDN in front of it, so it passes. (Keys that do not load during a refresh fail nothing:
    /// `session::steps::request_tokens` keeps the new tokens and the identity already verified.)
    pub fn ends_session(&self) -> bool {
        match self {
            AuthError::TokenRejected { status, error: Some(error), .. } => {
                *status < 500
                    && !matches!(
                        error.as_str(),
                        "temporarily_unavailable" | "server_error" | "slow_down" | "use_dpop_nonce"
                    )
            }
            AuthError::TokenRejected { status: 401, error: None, .. } => true,
            AuthError::InvalidIdToken(_) | AuthError::SessionExpired => true,
            _ => false,
        }
    }

    /// Whether trying again later may succeed: no answer, no answer in time, or a server
    /// that said "later" (a 5xx without an OAuth error, `temporarily_unavailable`,
    /// `server_error`, `slow_down`, or `use_dpop_nonce` once more after its one retry: a
    /// nonce that changed meanwhile, or servers behind one name each with its own, RFC 9449
    /// §8; nothing was spent). A renewal that fails so keeps the session.
    pub fn is_transient(&self) -> bool {
        match self {
            AuthError::Network(_) | AuthError::Timeout | AuthError::ApiUnreachable(_) => true,
            AuthError::TokenRejected { status, error, .. } => match error.as_deref() {
                Some("temporarily_unavailable" | "server_error" | "slow_down" | "use_dpop_nonce") => true,
                Some(_) => *status >= 500,
                None => *status >= 500 || matches!(status, 408 | 429),
            },
            _ => false,
        }
    }

    /// Which family the failure belongs to.
    pub fn family(&self) -> ErrorFamily {
        match self {
            AuthError::Network(_) | AuthError::Timeout | AuthError::ApiUnreachable(_) => ErrorFamily::Transport,
            AuthError::NotSignedIn
            | AuthError::SessionExpired
            | AuthError::NoSignInInProgress
            | AuthError::SignInExpired => ErrorFamily::Session,
            AuthError::Config(_)
            | AuthError::Storage
            | AuthError::ApiOriginNotAllowed(_)
            | AuthError::ApiRequestInvalid(_) => ErrorFamily::Setup,
            AuthError::Discovery(_)
            | AuthError::MalformedCallback(_)
            | AuthError::IssuerMismatch
            | AuthError::IssuerMissing
            | AuthError::StateMissing
            | AuthError::StateMismatch
            | AuthError::Provider { .. }
            | AuthError::CodeMissing
            | AuthError::TokenRejected { .. }
            | AuthError::InvalidTokenResponse(_)
            | AuthError::InvalidIdToken(_)
            | AuthError::InvalidUserInfo(_) => ErrorFamily::Protocol,
        }
    }
}

/// The families of [`AuthError`], for deciding what to do about one without naming every
/// variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorFamily {
    /// What the provider or one of its responses did: an OAuth error, a refused exchange, a
    /// response that failed its checks. Trying again may help; the details say why.
    Protocol,
    /// The request did not reach the server, or no answer came in time: check the
    /// connection and try again.
    Transport,
    /// Where the session is: nobody signed in, the session ended, no sign-in in progress.
    Session,
    /// The app's own set-up: its configuration file, or a browser that refuses storage.
    Setup,
}

/// `code: detail`, for logs and developers: no sentence for people (those are the UI's,
/// `crate::messages`), and never a token, code or verifier.
impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())?;
        match self {
            AuthError::Config(detail)
            | AuthError::Discovery(detail)
            | AuthError::MalformedCallback(detail)
            | AuthError::InvalidTokenResponse(detail)
            | AuthError::InvalidIdToken(detail)
            | AuthError::InvalidUserInfo(detail)
            | AuthError::Network(detail)
            | AuthError::ApiOriginNotAllowed(detail)
            | AuthError::ApiUnreachable(detail)
            | AuthError::ApiRequestInvalid(detail) => write!(f, ": {}", Escaped(detail)),
            AuthError::Provider { error, description } => {
                write!(f, ": {}", Escaped(error))?;
                description.as_ref().map_or(Ok(()), |d| write!(f, " ({})", Escaped(d)))
            }
            AuthError::TokenRejected { status, error, description } => {
                write!(f, ": HTTP {status}")?;
                error.as_ref().map_or(Ok(()), |e| write!(f, ", {}", Escaped(e)))?;
                description.as_ref().map_or(Ok(()), |d| write!(f, " ({})", Escaped(d)))
            }
            _ => Ok(()),
        }
    }
}

impl std::error::Error for AuthError {}

/// Text from outside (a provider's error description) with its control characters escaped,
/// so that it cannot start a forged line in a log.
struct Escaped<'a>(&'a str);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars() {
            if c.is_control() {
                write!(f, "{}", c.escape_default())?;
            } else {
                write!(f, "{c}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_the_code_and_the_detail_for_developers() {
        let cases = [
            (AuthError::Timeout, "timeout"),
            (AuthError::Network("Failed to fetch".into()), "network: Failed to fetch"),
            (
                AuthError::ApiOriginNotAllowed("https://elsewhere.example".into()),
                "api_origin_not_allowed: https://elsewhere.example",
            ),
            (
                AuthError::Provider { error: "access_denied".into(), description: Some("<b>no</b>".into()) },
                "provider_error: access_denied (<b>no</b>)",
            ),
            (
                AuthError::TokenRejected { status: 400, error: Some("invalid_grant".into()), description: None },
                "token_rejected: HTTP 400, invalid_grant",
            ),
            (AuthError::TokenRejected { status: 502, error: None, description: None }, "token_rejected: HTTP 502"),
            (
                AuthError::Provider { error: "x".into(), description: Some("a\nINFO forged\r".into()) },
                "provider_error: x (a\\nINFO forged\\r)",
            ),
        ];
        for (error, shown) in cases {
            assert_eq!(error.to_string(), shown);
        }
    }

    #[test]
    fn transient_failures_are_the_ones_worth_trying_again() {
        let rejected = |status, error: Option<&str>| AuthError::TokenRejected {
            status,
            error: error.map(str::to_owned),
            description: None,
        };
        for transient in [
            AuthError::Timeout,
            AuthError::Network("Failed to fetch".into()),
            rejected(500, None),
            rejected(503, Some("temporarily_unavailable")),
            rejected(400, Some("server_error")),
            rejected(429, Some("slow_down")),
            rejected(429, None),
            rejected(408, None),
            // RFC 9449 §8: a nonce asked for again after the one retry spent nothing.
            rejected(400, Some("use_dpop_nonce")),
        ] {
            assert!(transient.is_transient(), "{transient}");
            assert!(!transient.ends_session(), "{transient}");
        }
        for lasting in
            [rejected(400, Some("invalid_grant")), rejected(400, None), rejected(403, None), AuthError::SessionExpired]
        {
            assert!(!lasting.is_transient(), "{lasting}");
        }
    }

    #[test]
    fn every_error_has_its_family() {
        use ErrorFamily::*;
        let cases = [
            (AuthError::Network(String::new()), Transport),
            (AuthError::Timeout, Transport),
            (AuthError::SessionExpired, Session),
            (AuthError::NotSignedIn, Session),
            (AuthError::NoSignInInProgress, Session),
            (AuthError::SignInExpired, Session),
            (AuthError::Config(String::new()), Setup),
            (AuthError::Storage, Setup),
            (AuthError::ApiOriginNotAllowed(String::new()), Setup),
            (AuthError::ApiUnreachable(String::new()), Transport),
            (AuthError::ApiRequestInvalid(String::new()), Setup),
            (AuthError::Discovery(String::new()), Protocol),
            (AuthError::MalformedCallback(String::new()), Protocol),
            (AuthError::IssuerMismatch, Protocol),
            (AuthError::IssuerMissing, Protocol),
            (AuthError::StateMissing, Protocol),
            (AuthError::StateMismatch, Protocol),
            (AuthError::Provider { error: "access_denied".into(), description: None }, Protocol),
            (AuthError::CodeMissing, Protocol),
            (AuthError::TokenRejected { status: 400, error: None, description: None }, Protocol),
            (AuthError::InvalidTokenResponse(String::new()), Protocol),
            (AuthError::InvalidIdToken(String::new()), Protocol),
            (AuthError::InvalidUserInfo(String::new()), Protocol),
        ];
        assert_eq!(cases.len(), 23, "one row per variant");
        for (error, family) in cases {
            assert_eq!(error.family(), family, "{error}");
        }
    }

    /// Issue 13, item 3: only a refused grant ends the session during a renewal.
    #[test]
    fn only_a_refused_grant_or_a_failed_identity_ends_the_session() {
        let rejected = |status, error: Option<&str>| AuthError::TokenRejected {
            status,
            error: error.map(str::to_owned),
            description: None,
        };
        for ends in [
            rejected(400, Some("invalid_grant")),
            rejected(401, Some("invalid_client")),
            rejected(400, Some("invalid_request")),
            rejected(200, Some("invalid_grant")),
            rejected(401, None),
            rejected(403, Some("access_denied")),
            AuthError::InvalidIdToken("it names another person than the one signed in".into()),
            AuthError::SessionExpired,
        ] {
            assert!(ends.ends_session(), "{ends:?}");
        }
        for passes in [
            rejected(500, None),
            rejected(502, Some("invalid_grant")),
            rejected(503, Some("temporarily_unavailable")),
            rejected(400, Some("temporarily_unavailable")),
            rejected(400, Some("server_error")),
            rejected(400, None),
            rejected(429, Some("slow_down")),
            rejected(429, None),
            rejected(408, None),
            rejected(403, None),
            AuthError::Network("Failed to fetch".into()),
            AuthError::Timeout,
            AuthError::InvalidTokenResponse("the answer is not a JSON object".into()),
        ] {
            assert!(!passes.ends_session(), "{passes:?}");
        }
    }
}
