//! The session's decisions, as pure functions of its state and the time: no browser, no
//! Leptos, so they are tested natively. [`super::Session::access_token`] carries them out.

use crate::oauth::{AuthError, TokenSet};

/// How long after a renewal failed for a passing reason (a 5xx, no answer) the next one may
/// be tried: a provider in trouble is not asked again at every API call.
pub const RETRY_AFTER_SECS: u64 = 10;

/// What the session knows about renewing, besides the tokens.
#[derive(Debug, Clone, Copy)]
pub struct RenewalState<'a> {
    /// A renewal is under way.
    pub in_flight: bool,
    /// The last renewal failed for a passing reason, at this time, with this error.
    pub last_failure: Option<(u64, &'a AuthError)>,
    /// A refresh request can be made (a refresh token, the config and the metadata).
    pub can_refresh: bool,
}

/// What a caller asking for an access token gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenAccess {
    /// The current access token.
    Current,
    /// The current access token, while a renewal starts beside the caller (it is due, not
    /// expired).
    CurrentAndRenew,
    /// Start a renewal and wait for its token (the current one has expired).
    RenewAndWait,
    /// Wait for the renewal under way and take its token.
    AwaitRenewal,
    /// No token to give: the last renewal's error while it is backing off, or
    /// [`AuthError::SessionExpired`] when nothing can renew an expired token.
    Fail(AuthError),
}

/// Decides how a caller gets an access token (RFC 6749 §6 for the renewal). A token is
/// renewed once it is due (see [`crate::oauth::RENEWAL_MARGIN_SECS`]), one renewal at a
/// time, as refresh-token rotation requires (RFC 9700 §4.14.2); only an expired token makes
/// a caller wait for one.
pub fn token_access(tokens: &TokenSet, renewal: RenewalState<'_>, now: u64) -> TokenAccess {
    let expired = tokens.is_expired(now);
    if !tokens.renewal_due(now) {
        return TokenAccess::Current;
    }
    if renewal.in_flight {
        return if expired { TokenAccess::AwaitRenewal } else { TokenAccess::Current };
    }
    if let Some((at, error)) = renewal.last_failure
        && now < at.saturating_add(RETRY_AFTER_SECS)
    {
        return if expired { TokenAccess::Fail(error.clone()) } else { TokenAccess::Current };
    }
    match (renewal.can_refresh, expired) {
        (true, false) => TokenAccess::CurrentAndRenew,
        (true, true) => TokenAccess::RenewAndWait,
        (false, false) => TokenAccess::Current,
        (false, true) => TokenAccess::Fail(AuthError::SessionExpired),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::{TokenExpectations, process_token_response};

    const NOW: u64 = 1_700_000_000;

    /// Tokens that arrived at NOW and live 600 s: due at NOW + 570, expired at NOW + 600.
    fn tokens() -> TokenSet {
        let expect = TokenExpectations {
            issuer: "https://id.example".into(),
            client_id: "spa".into(),
            nonce: "n".into(),
            id_token_required: false,
            return_to: "/".into(),
            refreshing_sub: None,
            dpop: false,
        };
        let body = r#"{"access_token":"at","token_type":"Bearer","expires_in":600,"refresh_token":"rt"}"#;
        process_token_response(200, body, &expect, NOW).unwrap().verified(None).unwrap()
    }

    #[test]
    fn token_access_table() {
        use TokenAccess::*;
        let passing = AuthError::Timeout;
        let idle = RenewalState { in_flight: false, last_failure: None, can_refresh: true };
        let in_flight = RenewalState { in_flight: true, ..idle };
        let no_refresh = RenewalState { can_refresh: false, ..idle };
        let failed_at = |at: u64| RenewalState { last_failure: Some((at, &passing)), ..idle };
        let (due, expired) = (NOW + 570, NOW + 600);
        let cases = [
            ("not due yet", idle, due - 1, Current),
            ("due, still valid: renewed beside the caller", idle, due, CurrentAndRenew),
            ("expired: the caller waits for the renewal", idle, expired, RenewAndWait),
            ("due, a renewal under way: no second one", in_flight, due, Current),
            ("expired, a renewal under way: wait for it", in_flight, expired, AwaitRenewal),
            ("due, backing off: the current token", failed_at(due), due + 9, Current),
            ("expired, backing off: the last error", failed_at(expired), expired + 9, Fail(passing.clone())),
            ("the back-off is over: try again", failed_at(expired), expired + 10, RenewAndWait),
            ("due, no refresh token: the current token", no_refresh, due, Current),
            ("expired, no refresh token: the session is over", no_refresh, expired, Fail(AuthError::SessionExpired)),
            ("a failure time from the far future never overflows", failed_at(u64::MAX), expired, Fail(passing.clone())),
            ("the last second before expiry: renewed beside the caller", idle, expired - 1, CurrentAndRenew),
            ("the back-off is over, still valid: renewed beside", failed_at(due), due + 10, CurrentAndRenew),
            (
                "a renewal under way wins over an earlier failure",
                RenewalState { in_flight: true, ..failed_at(expired) },
                expired + 1,
                AwaitRenewal,
            ),
        ];
        for (case, renewal, now, expected) in cases {
            assert_eq!(token_access(&tokens(), renewal, now), expected, "{case}");
        }
    }

    #[test]
    fn a_token_without_a_lifetime_is_never_renewed_nor_expired() {
        let mut forever = tokens();
        forever.expires_at = None;
        let idle = RenewalState { in_flight: false, last_failure: None, can_refresh: true };
        for now in [NOW, NOW + 600, u64::MAX] {
            assert_eq!(token_access(&forever, idle, now), TokenAccess::Current);
        }
    }
}
