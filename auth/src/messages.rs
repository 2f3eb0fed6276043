//! Everything the crate's components say to a person, in one place and in the UI layer,
//! never in the protocol or session core: to change the wording or the language, change
//! this file (or write your own components over [`error_message`]'s counterpart).

use crate::oauth::AuthError;

/// What the guard says while it sends the person to sign in.
pub const TAKING_YOU_TO_SIGN_IN: &str = "Taking you to sign in…";
/// What the guard says to a person who signed out themselves, before signing in again.
pub const SIGNED_OUT_SIGN_IN_TO_SEE: &str = "You are signed out. Sign in to see this page.";
/// What the home page says once the person has signed out (and, after the provider's
/// logout, only when the page is its verified answer).
pub const YOU_HAVE_SIGNED_OUT: &str = "You have signed out.";
/// What a page says while a reload or a new tab restores the session.
pub const RESTORING_YOUR_SESSION: &str = "Restoring your session…";
/// The sign-in button's label.
pub const SIGN_IN: &str = "Sign in";

/// What the profile says about the scopes the provider did not grant: "The sign-in
/// service did not share your email address." `None` when it shared all.
pub fn withheld_scopes_note(scopes: &[String]) -> Option<String> {
    let things: Vec<String> = scopes
        .iter()
        .map(|scope| match scope.as_str() {
            "profile" => "your name".to_owned(),
            "email" => "your email address".to_owned(),
            "phone" => "your phone number".to_owned(),
            "address" => "your postal address".to_owned(),
            other => format!("\u{201c}{other}\u{201d}"),
        })
        .collect();
    let list = match things.as_slice() {
        [] => return None,
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    };
    Some(format!("The sign-in service did not share {list} with this app."))
}

/// A failure card's heading and its button's label.
pub fn failure_heading(error: &AuthError) -> (&'static str, &'static str) {
    // Finding no sign-in in progress (a reload, a replayed link) and a session that ended
    // are news, not errors.
    match error {
        AuthError::NoSignInInProgress => ("No sign-in in progress", SIGN_IN),
        AuthError::SessionExpired => ("Your session has ended", SIGN_IN),
        _ => ("Sign-in did not work", "Try again"),
    }
}

/// What happened, in one or two sentences a person can act on. Provider-supplied text is
/// included verbatim: render it as text, never as markup.
pub fn error_message(error: &AuthError) -> String {
    match error {
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
            // A 408 or 429 without an OAuth error says "later", as a 5xx does.
            None if *status >= 500 || matches!(status, 408 | 429) => {
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
        AuthError::SessionExpired => {
            "The sign-in service did not renew your session: it may have expired or been ended elsewhere. Sign in again to continue."
                .into()
        }
        AuthError::Network(_) => {
            "The sign-in service could not be reached. Check your connection.".into()
        }
        AuthError::Timeout => "The sign-in service did not answer in time.".into(),
        AuthError::ApiUnreachable(_) => "The server could not be reached, or did not answer in time. If you were \
             saving something, check whether it was saved before trying again."
            .into(),
        AuthError::ApiRequestInvalid(detail) => {
            format!("This app built a request the browser would not send ({detail}), so nothing was sent.")
        }
        AuthError::ApiOriginNotAllowed(origin) => format!(
            "This app tried to send your sign-in to {origin}, a server it is not set up to trust, so nothing was sent."
        ),
    }
}

fn with_detail(what: &str, error: &str, description: Option<&str>) -> String {
    match description {
        Some(description) if !description.is_empty() => format!("{what} ({error}: {description})"),
        _ => format!("{what} ({error})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_withheld_scopes_note_names_what_is_missing_in_words() {
        let note = |scopes: &[&str]| withheld_scopes_note(&scopes.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>());
        assert_eq!(note(&[]), None);
        assert_eq!(
            note(&["email"]).as_deref(),
            Some("The sign-in service did not share your email address with this app.")
        );
        assert_eq!(
            note(&["profile", "email", "orders:read"]).as_deref(),
            Some(
                "The sign-in service did not share your name, your email address and \u{201c}orders:read\u{201d} with this app."
            )
        );
    }

    #[test]
    fn provider_error_message_keeps_description_as_given() {
        let error =
            AuthError::Provider { error: "access_denied".into(), description: Some("<script>x</script>".into()) };
        assert_eq!(
            error_message(&error),
            "The sign-in was cancelled or access was refused. (access_denied: <script>x</script>)"
        );
    }

    #[test]
    fn token_rejection_without_error_code_names_the_status() {
        let error = AuthError::TokenRejected { status: 403, error: None, description: None };
        assert_eq!(error_message(&error), "The sign-in service refused to complete the sign-in (HTTP 403).");
        for status in [502, 429, 408] {
            let error = AuthError::TokenRejected { status, error: None, description: None };
            assert_eq!(
                error_message(&error),
                format!("The sign-in service has a problem right now (HTTP {status}). Try again in a moment.")
            );
        }
    }

    /// Each variant has its own sentence, capitalised and ending with a full stop (those
    /// that name the provider's error code end with it in brackets instead).
    #[test]
    fn every_variant_has_a_sentence() {
        let errors = [
            AuthError::Config("x".into()),
            AuthError::Discovery("x".into()),
            AuthError::MalformedCallback("x".into()),
            AuthError::IssuerMismatch,
            AuthError::IssuerMissing,
            AuthError::StateMissing,
            AuthError::StateMismatch,
            AuthError::NoSignInInProgress,
            AuthError::SignInExpired,
            AuthError::Provider { error: "access_denied".into(), description: None },
            AuthError::CodeMissing,
            AuthError::TokenRejected { status: 400, error: Some("invalid_grant".into()), description: None },
            AuthError::InvalidTokenResponse("x".into()),
            AuthError::InvalidIdToken("x".into()),
            AuthError::InvalidUserInfo("x".into()),
            AuthError::Storage,
            AuthError::NotSignedIn,
            AuthError::SessionExpired,
            AuthError::Network("x".into()),
            AuthError::Timeout,
            AuthError::ApiOriginNotAllowed("https://x.example".into()),
            AuthError::ApiUnreachable("x".into()),
            AuthError::ApiRequestInvalid("x".into()),
        ];
        let mut seen = std::collections::BTreeSet::new();
        for error in &errors {
            let message = error_message(error);
            let names_code = matches!(error, AuthError::Provider { .. } | AuthError::TokenRejected { .. });
            let end = if names_code { ')' } else { '.' };
            assert!(message.ends_with(end) && message.chars().next().is_some_and(char::is_uppercase), "{message}");
            seen.insert(message);
        }
        // StateMissing and StateMismatch share theirs: to a person they are one thing.
        assert_eq!(seen.len(), errors.len() - 1);
    }
}
