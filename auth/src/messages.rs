//! The sentences a person reads about a failure: the UI layer's, in one place, so that an
//! app can replace them (another language, another tone) without touching the protocol.

use crate::oauth::AuthError;

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
        let error = AuthError::TokenRejected { status: 502, error: None, description: None };
        assert_eq!(
            error_message(&error),
            "The sign-in service has a problem right now (HTTP 502). Try again in a moment."
        );
    }

    #[test]
    fn every_message_is_a_sentence_with_a_way_forward_or_a_reason() {
        let errors = [
            AuthError::Config("x".into()),
            AuthError::Discovery("x".into()),
            AuthError::Network("x".into()),
            AuthError::Timeout,
            AuthError::Storage,
            AuthError::SessionExpired,
            AuthError::StateMismatch,
        ];
        for error in errors {
            let message = error_message(&error);
            assert!(message.ends_with('.') && message.chars().next().is_some_and(char::is_uppercase), "{message}");
        }
    }
}
