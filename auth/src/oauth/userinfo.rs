//! The signed-in person, from the UserInfo endpoint (OpenID Connect Core §5.3).

use serde::Deserialize;

use super::document::{self, DocumentError};
use super::error::AuthError;

/// Who is signed in: the UserInfo claims this client reads (OIDC Core §5.1).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct UserInfo {
    /// The subject identifier, which must equal the ID token's (OpenID Connect Core §5.3.2).
    pub sub: String,
    /// The person's full name, if given (OpenID Connect Core §5.1).
    pub name: Option<String>,
    /// The person's email address, if given; not necessarily verified (OpenID Connect Core §5.1).
    pub email: Option<String>,
    /// The name the person prefers to be known by, if given (OpenID Connect Core §5.1).
    pub preferred_username: Option<String>,
}

impl UserInfo {
    /// The best name to greet the person with.
    pub fn display_name(&self) -> &str {
        self.name.as_deref().or(self.preferred_username.as_deref()).or(self.email.as_deref()).unwrap_or(&self.sub)
    }
}

/// Processes a UserInfo response (OIDC Core §5.3.2). `expected_sub` is the ID token's
/// `sub`: the two must be equal (§5.3.4), or the response is for someone else.
pub fn process_userinfo(
    status: u16,
    content_type: &str,
    body: &str,
    expected_sub: Option<&str>,
) -> Result<UserInfo, AuthError> {
    let invalid = |detail: &str| AuthError::InvalidUserInfo(detail.into());
    if status != 200 {
        return Err(invalid(&format!("HTTP {status}")));
    }
    let content_type = content_type.trim_start().to_ascii_lowercase();
    // §5.3.2: a provider may sign (or encrypt) its answer, as `application/jwt`, when the
    // client registered for it. This client reads plain JSON only, and says so.
    if content_type.starts_with("application/jwt") {
        return Err(invalid("the provider sent it signed (application/jwt), which this app does not read"));
    }
    if !content_type.starts_with("application/json") {
        return Err(invalid("the answer is not JSON"));
    }
    let info: UserInfo = document::parse(body).map_err(|error| match error {
        DocumentError::NotAnObject | DocumentError::Syntax(_) => invalid("the answer is not a JSON object"),
        other => invalid(&format!("the answer is not valid: {other}")),
    })?;
    // §5.3.2: `sub` is always returned; an empty one names nobody.
    if info.sub.is_empty() {
        return Err(invalid("sub is missing"));
    }
    if expected_sub.is_some_and(|expected| expected != info.sub) {
        return Err(invalid("it is for another person"));
    }
    Ok(info)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_person() {
        let info = process_userinfo(
            200,
            "application/json; charset=utf-8",
            r#"{"sub":"alice","name":"Alice Liddell","email":"alice@example.test"}"#,
            Some("alice"),
        )
        .unwrap();
        assert_eq!(info.display_name(), "Alice Liddell");
        assert_eq!(info.email.as_deref(), Some("alice@example.test"));
    }

    #[test]
    fn display_name_falls_back() {
        let info = process_userinfo(200, "application/json", r#"{"sub":"bob"}"#, None).unwrap();
        assert_eq!(info.display_name(), "bob");
    }

    #[test]
    fn refuses_bad_answers() {
        let cases = [
            (401, "application/json", r#"{"sub":"alice"}"#, "HTTP 401"),
            (200, "application/jwt", "a.b.c", "the provider sent it signed (application/jwt)"),
            (200, " Application/JWT; charset=utf-8", "a.b.c", "signed (application/jwt)"),
            (200, "text/html", "<p>alice</p>", "the answer is not JSON"),
            (200, "application/json", "[]", "not a JSON object"),
            (200, "application/json", r#"{"name":"x"}"#, "the answer is not valid: missing field `sub`"),
            (200, "application/json", r#"{"sub":""}"#, "sub is missing"),
            (200, "application/json", r#"{"sub":"alice","sub":"mallory"}"#, "duplicate field `sub`"),
            (
                200,
                "application/json",
                &format!(r#"{{"sub":"alice","x":"{}"}}"#, "a".repeat(256 * 1024)),
                "the answer is not valid: it is larger than 256 KB",
            ),
            (200, "application/json", r#"{"sub":"mallory"}"#, "another person"),
        ];
        for (status, content_type, body, detail) in cases {
            let err = process_userinfo(status, content_type, body, Some("alice")).unwrap_err();
            assert_eq!(err.code(), "invalid_userinfo");
            assert!(err.to_string().contains(detail), "{}: {}", &body[..body.len().min(80)], err);
        }
    }
}
