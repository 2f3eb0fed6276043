//! Every way a sign-in can fail, with a stable code for programs and a sentence for people.
//!
//! Three families, kept apart as oauth2-rs does: the server said no (`Provider`,
//! `TokenRejected`), the transport failed (`Network`, `Timeout`), and a response could not
//! be accepted (everything else). No variant carries a token, code or verifier, so an
//! error can be shown or logged as it is.

use core::fmt;

/// Why sign-in, a renewal or a profile request failed: [`AuthError::code`] for programs,
/// [`AuthError::message`] for people.
#[derive(Debug, Clone, PartialEq, Eq)]
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
    /// The token endpoint refused the exchange (RFC 6749 §5.2).
    TokenRejected {
        /// The HTTP status of the answer.
        status: u16,
        /// The error code (RFC 6749 §5.2), e.g. `invalid_grant`, when the answer could be read.
        error: Option<String>,
        /// The provider's `error_description`, if any: untrusted, shown only as text.
        description: Option<String>,
    },
    /// The token endpoint's answer is not a valid token response.
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
        }
    }

    /// Whether a failed renewal means the session cannot go on. It cannot when the
    /// provider refused the grant with an OAuth error (RFC 6749 §5.2: `invalid_grant` when
    /// the refresh token expired or was revoked), other than the ones that say "later"
    /// (`temporarily_unavailable`, `server_error`, `slow_down`); nor when the answer came
    /// but its ID token failed its checks (another person, a forged signature), since the
    /// refresh token that asked for it may already be spent. A 5xx without an OAuth error,
    /// no answer, or an answer that could not be read is a passing fault: the session
    /// keeps its tokens. (Keys that do not load during a refresh fail nothing:
    /// `flow::request_tokens` keeps the new tokens and the identity already verified.)
    pub fn ends_session(&self) -> bool {
        match self {
            AuthError::TokenRejected { status, error: Some(error), .. } => {
                *status < 500 && !matches!(error.as_str(), "temporarily_unavailable" | "server_error" | "slow_down")
            }
            AuthError::InvalidIdToken(_) | AuthError::SessionExpired => true,
            _ => false,
        }
    }

    /// What happened, in one or two sentences a person can act on. Provider-supplied
    /// text is included verbatim; the UI must render it as text, never as markup.
    pub fn message(&self) -> String {
        match self {
            AuthError::Config(detail) => format!("This app is not set up correctly ({detail})."),
            AuthError::Discovery(detail) => {
                format!("The sign-in service could not be reached or answered unexpectedly ({detail}).")
            }
            AuthError::MalformedCallback(detail) => {
                format!("The sign-in response could not be read ({detail}), so it was not accepted.")
            }
            AuthError::IssuerMismatch => {
                "The sign-in response came from a different sign-in service than expected, so it was not accepted."
                    .into()
            }
            AuthError::IssuerMissing => {
                "The sign-in response did not say which sign-in service sent it, so it was not accepted.".into()
            }
            AuthError::StateMissing | AuthError::StateMismatch => {
                "The sign-in response does not belong to a sign-in started in this tab, so it was not accepted."
                    .into()
            }
            AuthError::NoSignInInProgress => {
                "There is no sign-in in progress. It may have finished already, or this page was opened directly."
                    .into()
            }
            AuthError::SignInExpired => "The sign-in took too long and has expired.".into(),
            AuthError::Provider { error, description } => {
                let what = match error.as_str() {
                    "access_denied" => "The sign-in was cancelled or access was refused.",
                    "login_required" | "interaction_required" | "consent_required" => "You need to sign in again.",
                    "temporarily_unavailable" | "server_error" => "The sign-in service has a problem right now.",
                    "invalid_scope" => "The sign-in service refused the requested permissions.",
                    _ => "The sign-in service refused the sign-in.",
                };
                with_detail(what, error, description.as_deref())
            }
            AuthError::CodeMissing => "The sign-in response carried no authorization code.".into(),
            AuthError::TokenRejected { status, error, description } => match error {
                Some(error) => with_detail("The sign-in service refused to complete the sign-in.", error, description.as_deref()),
                None if *status >= 500 => {
                    format!("The sign-in service has a problem right now (HTTP {status}). Try again in a moment.")
                }
                None => format!("The sign-in service refused to complete the sign-in (HTTP {status})."),
            },
            AuthError::InvalidTokenResponse(detail) => format!("The sign-in service sent an invalid answer ({detail})."),
            AuthError::InvalidIdToken(detail) => {
                format!("The sign-in service sent an identity that could not be verified ({detail}).")
            }
            AuthError::InvalidUserInfo(detail) => format!("Your profile could not be loaded ({detail})."),
            AuthError::Storage => {
                "Your browser did not let this site keep the sign-in in progress. Allow site data for this site and try again."
                    .into()
            }
            AuthError::NotSignedIn => "You are not signed in.".into(),
            AuthError::SessionExpired => "Your session has ended. Sign in again to continue.".into(),
            AuthError::Network(_) => {
                "The sign-in service could not be reached. Check your connection.".into()
            }
            AuthError::Timeout => "The sign-in service did not answer in time.".into(),
        }
    }
}

fn with_detail(what: &str, error: &str, description: Option<&str>) -> String {
    match description {
        Some(description) if !description.is_empty() => format!("{what} ({error}: {description})"),
        _ => format!("{what} ({error})"),
    }
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code(), self.message())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_error_message_keeps_description_as_given() {
        let error =
            AuthError::Provider { error: "access_denied".into(), description: Some("<script>x</script>".into()) };
        assert_eq!(error.code(), "provider_error");
        assert_eq!(
            error.message(),
            "The sign-in was cancelled or access was refused. (access_denied: <script>x</script>)"
        );
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
            AuthError::Network("Failed to fetch".into()),
            AuthError::Timeout,
            AuthError::InvalidTokenResponse("the answer is not a JSON object".into()),
        ] {
            assert!(!passes.ends_session(), "{passes:?}");
        }
    }

    #[test]
    fn token_rejection_without_error_code_names_the_status() {
        let error = AuthError::TokenRejected { status: 403, error: None, description: None };
        assert_eq!(error.message(), "The sign-in service refused to complete the sign-in (HTTP 403).");
        let error = AuthError::TokenRejected { status: 502, error: None, description: None };
        assert_eq!(error.message(), "The sign-in service has a problem right now (HTTP 502). Try again in a moment.");
    }
}
