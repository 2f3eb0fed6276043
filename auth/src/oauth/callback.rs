//! The authorization response on the redirect URI (RFC 6749 §4.1.2), checked in a fixed
//! order: `iss` (RFC 9207 §2.4), `state` (RFC 6749 §10.12), `error` (RFC 6749 §4.1.2.1),
//! `code`. The state is checked before an error is believed, so a forged error cannot
//! hide a mismatched or missing state.

use super::authorize::PendingSignIn;
use super::error::AuthError;
use super::secret::{Secret, constant_time_eq};
use super::url::{QueryError, parse_query};

/// The longest query accepted. Real responses are a few hundred bytes.
pub const MAX_CALLBACK_QUERY: usize = 16 * 1024;

/// The parameters of an authorization response, each present at most once.
#[derive(Debug, Default)]
pub struct CallbackParams {
    /// The issuer identifier the response names (RFC 9207 §2).
    pub iss: Option<String>,
    /// The `state` the provider sent back (RFC 6749 §4.1.2).
    pub state: Option<String>,
    /// The error code, when the provider refused (RFC 6749 §4.1.2.1).
    pub error: Option<String>,
    /// The provider's text about the error (RFC 6749 §4.1.2.1): untrusted, shown only as text.
    pub error_description: Option<String>,
    code: Option<Secret>,
}

impl CallbackParams {
    /// Reads the query of the callback URL (without `?`). A parameter this client reads
    /// that appears twice makes the whole response invalid (RFC 6749 §3.1: "MUST NOT be
    /// included more than once"); unknown parameters are ignored (§3.1).
    pub fn parse(query: &str) -> Result<CallbackParams, AuthError> {
        if query.len() > MAX_CALLBACK_QUERY {
            return Err(AuthError::MalformedCallback("it is too long".into()));
        }
        let pairs = parse_query(query).map_err(|e| {
            AuthError::MalformedCallback(match e {
                QueryError::BadPercentEncoding => "broken percent-encoding".into(),
                QueryError::NotUtf8 => "it is not UTF-8".into(),
            })
        })?;
        let mut params = CallbackParams::default();
        for (name, value) in pairs {
            let slot = match name.as_str() {
                "iss" => &mut params.iss,
                "state" => &mut params.state,
                "error" => &mut params.error,
                "error_description" => &mut params.error_description,
                "code" => {
                    if params.code.replace(Secret::new(value)).is_some() {
                        return Err(duplicate("code"));
                    }
                    continue;
                }
                _ => continue,
            };
            if slot.replace(value).is_some() {
                return Err(duplicate(&name));
            }
        }
        Ok(params)
    }

    /// Nothing an authorization response carries: the page was opened some other way.
    pub fn is_empty(&self) -> bool {
        self.iss.is_none() && self.state.is_none() && self.error.is_none() && self.code.is_none()
    }
}

fn duplicate(name: &str) -> AuthError {
    AuthError::MalformedCallback(format!("\"{name}\" appears more than once"))
}

/// What the callback is checked against.
pub struct CallbackExpectations<'a> {
    /// The configured issuer, which `iss` must equal (RFC 9207 §2.4).
    pub issuer: &'a str,
    /// RFC 9207 §2.4: the metadata says `authorization_response_iss_parameter_supported`.
    pub iss_required: bool,
    /// Seconds since the Unix epoch.
    pub now: u64,
}

/// A response that passed every check: only [`validate_callback`] makes one, so an
/// unchecked code cannot reach the token request.
#[derive(Debug)]
pub struct ValidatedCallback {
    pub(super) code: Secret,
    pub(super) pending: PendingSignIn,
}

impl ValidatedCallback {
    /// The same-origin path to go back to after sign-in, from the pending sign-in.
    pub fn return_to(&self) -> &str {
        &self.pending.return_to
    }
}

/// Validates an authorization response against the sign-in it claims to answer.
/// `pending` is the record stored under the response's `state` (already taken out of
/// storage: it is good for one use); `other_pending` says whether other sign-ins are in
/// progress, to tell a mismatched state from no sign-in at all.
pub fn validate_callback(
    params: CallbackParams,
    pending: Option<PendingSignIn>,
    other_pending: bool,
    expect: &CallbackExpectations<'_>,
) -> Result<ValidatedCallback, AuthError> {
    if params.is_empty() {
        return Err(AuthError::NoSignInInProgress);
    }
    // 1. iss (RFC 9207 §2.4): equal whenever present; required when the provider promises it.
    match &params.iss {
        Some(iss) if iss != expect.issuer => return Err(AuthError::IssuerMismatch),
        None if expect.iss_required => return Err(AuthError::IssuerMissing),
        _ => {}
    }
    // 2. state (RFC 6749 §10.12), compared in constant time.
    let Some(state) = params.state.as_deref() else {
        return Err(AuthError::StateMissing);
    };
    let pending = match pending {
        Some(pending) if constant_time_eq(pending.state.as_bytes(), state.as_bytes()) => pending,
        _ if other_pending => return Err(AuthError::StateMismatch),
        _ => return Err(AuthError::NoSignInInProgress),
    };
    if pending.is_expired(expect.now) {
        return Err(AuthError::SignInExpired);
    }
    // 3. error (RFC 6749 §4.1.2.1): believed only now that the state matched.
    if let Some(error) = params.error {
        return Err(AuthError::Provider { error, description: params.error_description });
    }
    // 4. code.
    match params.code {
        Some(code) if !code.expose().is_empty() => Ok(ValidatedCallback { code, pending }),
        _ => Err(AuthError::CodeMissing),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::authorize::SignInRandomness;

    const ISSUER: &str = "http://127.0.0.1:9000";
    const NOW: u64 = 10_000;

    fn pending() -> PendingSignIn {
        PendingSignIn::new(&SignInRandomness { verifier: [1; 32], state: [2; 32], nonce: [3; 32] }, "/profile", NOW - 5)
    }

    fn run(
        query: &str,
        iss_required: bool,
        stored: Option<PendingSignIn>,
        others: bool,
    ) -> Result<ValidatedCallback, AuthError> {
        let expect = CallbackExpectations { issuer: ISSUER, iss_required, now: NOW };
        validate_callback(CallbackParams::parse(query)?, stored, others, &expect)
    }

    fn good_state() -> String {
        pending().state
    }

    #[test]
    fn a_good_response_validates() {
        let query = format!("code=abc&state={}&iss=http%3A%2F%2F127.0.0.1%3A9000", good_state());
        let validated = run(&query, true, Some(pending()), false).unwrap();
        assert_eq!(validated.code.expose(), "abc");
        assert_eq!(validated.return_to(), "/profile");
    }

    /// The table of hostile and broken responses, each with the exact error expected.
    #[test]
    fn callback_error_table() {
        let s = good_state();
        let iss = "iss=http%3A%2F%2F127.0.0.1%3A9000";
        let cases: Vec<(String, bool, bool, bool, &str)> = vec![
            // (query, iss_required, pending stored, other pending, expected code)
            (String::new(), true, true, false, "no_sign_in_in_progress"),
            (format!("code=a&state={s}"), true, true, false, "iss_missing"),
            (format!("code=a&state={s}&iss=https%3A%2F%2Fevil.example"), false, true, false, "iss_mismatch"),
            (format!("code=a&{iss}"), true, true, false, "state_missing"),
            (format!("code=a&state=other&{iss}"), true, false, true, "state_mismatch"),
            (format!("code=a&state={s}&{iss}"), true, false, false, "no_sign_in_in_progress"),
            (format!("code=a&state={s}&state={s}&{iss}"), true, true, false, "malformed_callback"),
            (format!("code=a&code=b&state={s}&{iss}"), true, true, false, "malformed_callback"),
            (format!("code=a&state={s}&{iss}&{iss}"), true, true, false, "malformed_callback"),
            (format!("state={s}&{iss}"), true, true, false, "code_missing"),
            (format!("code=&state={s}&{iss}"), true, true, false, "code_missing"),
            (format!("error=access_denied&state={s}&{iss}"), true, true, false, "provider_error"),
            // The error is not believed before the state is checked.
            (
                "error=access_denied&state=forged&iss=http%3A%2F%2F127.0.0.1%3A9000".into(),
                true,
                false,
                true,
                "state_mismatch",
            ),
            ("error=access_denied&iss=http%3A%2F%2F127.0.0.1%3A9000".into(), true, true, false, "state_missing"),
            (format!("code=%ZZ&state={s}"), true, true, false, "malformed_callback"),
            (format!("code=%FF&state={s}"), true, true, false, "malformed_callback"),
            (format!("code={}&state={s}", "a".repeat(100_000)), true, true, false, "malformed_callback"),
        ];
        for (query, iss_required, stored, others, expected) in cases {
            let outcome = run(&query, iss_required, stored.then(pending), others);
            match outcome {
                Err(e) => assert_eq!(e.code(), expected, "{}", &query[..query.len().min(80)]),
                Ok(_) => panic!("accepted {query}"),
            }
        }
    }

    #[test]
    fn iss_is_optional_when_not_advertised() {
        let query = format!("code=abc&state={}", good_state());
        assert!(run(&query, false, Some(pending()), false).is_ok());
    }

    #[test]
    fn provider_error_keeps_code_and_description() {
        let query = format!("error=access_denied&error_description=%3Cb%3Eno%3C%2Fb%3E&state={}", good_state());
        match run(&query, false, Some(pending()), false) {
            Err(AuthError::Provider { error, description }) => {
                assert_eq!(error, "access_denied");
                assert_eq!(description.as_deref(), Some("<b>no</b>"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn expired_pending_sign_in_is_refused() {
        let mut old = pending();
        old.created_at = NOW - 601;
        let query = format!("code=abc&state={}", good_state());
        assert_eq!(run(&query, false, Some(old), false).unwrap_err(), AuthError::SignInExpired);
    }

    #[test]
    fn debug_of_params_does_not_show_the_code() {
        let params = CallbackParams::parse("code=supersecretcode&state=s").unwrap();
        assert!(!format!("{params:?}").contains("supersecretcode"));
    }
}
