//! Using an access token at a resource server (RFC 6750, and RFC 9449 §7.1 for DPoP-bound
//! tokens): reading its `WWW-Authenticate` challenge to tell a token it no longer accepts
//! (worth one renewal and one retry) from every other refusal (passed to the app as they
//! came).

/// Whether a resource server's answer says the access token itself is no good: HTTP 401
/// with a `Bearer` or `DPoP` challenge whose `error` is `invalid_token` (RFC 6750 §3.1:
/// "expired, revoked, malformed, or invalid for other reasons"; RFC 9449 §7.1). Not a 401
/// without that challenge (nothing says the token is the problem), not `insufficient_scope`
/// (a new token has the same scope).
pub fn token_rejected(status: u16, www_authenticate: Option<&str>) -> bool {
    status == 401 && www_authenticate.is_some_and(|value| token_challenge_errors(value).any(|e| e == "invalid_token"))
}

/// The `error` parameters of the challenges a token is presented under, in a
/// `WWW-Authenticate` value: the `Bearer` one's (RFC 6750 §3), then the `DPoP` one's
/// (RFC 9449 §7.1), each if the server sent it.
pub fn token_challenge_errors(www_authenticate: &str) -> impl Iterator<Item = String> + '_ {
    ["Bearer", "DPoP"].into_iter().filter_map(|scheme| challenge_error(www_authenticate, scheme))
}

/// The `error` parameter of the `Bearer` challenge in a `WWW-Authenticate` value.
pub fn bearer_error(www_authenticate: &str) -> Option<String> {
    challenge_error(www_authenticate, "Bearer")
}

/// The `error` parameter of the challenge of `scheme` (`Bearer`, `DPoP`) in a
/// `WWW-Authenticate` value, which may hold several challenges (RFC 9110 §11.6.1:
/// `#challenge`, each `auth-scheme [ token68 / #auth-param ]`, challenges and parameters
/// alike separated by commas).
pub fn challenge_error(www_authenticate: &str, scheme: &str) -> Option<String> {
    let mut in_scheme = false;
    for item in split_items(www_authenticate) {
        // Header values hold no CR or LF, so ASCII whitespace is RFC 9110's OWS here.
        let item = item.trim_ascii();
        // A parameter of the challenge before it, or a new challenge (its scheme, then
        // perhaps its first parameter or a token68).
        let param = match parse_param(item) {
            Some(param) => Some(param),
            None => {
                let end = item.bytes().position(|b| b == b' ' || b == b'\t').unwrap_or(item.len());
                let (item_scheme, rest) = item.split_at_checked(end).unwrap_or((item, ""));
                in_scheme = item_scheme.eq_ignore_ascii_case(scheme);
                parse_param(rest.trim_ascii_start())
            }
        };
        if let Some((name, value)) = param
            && in_scheme
            && name.eq_ignore_ascii_case("error")
        {
            return Some(value);
        }
    }
    None
}

/// The comma-separated items of a header value, commas inside quoted strings kept.
fn split_items(value: &str) -> Vec<&str> {
    let (mut items, mut start, mut quoted, mut escaped) = (Vec::new(), 0, false, false);
    for (at, c) in value.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ',' if !quoted => {
                items.push(value.get(start..at).unwrap_or_default());
                start = at + 1;
            }
            _ => {}
        }
    }
    items.push(value.get(start..).unwrap_or_default());
    items
}

/// `name BWS "=" BWS ( token / quoted-string )` as (name, unquoted value); `None` for
/// anything else (a token68 such as `abc==` included: its "value" is empty or `=`).
fn parse_param(item: &str) -> Option<(&str, String)> {
    let (name, value) = item.split_once('=')?;
    let (name, value) = (name.trim_ascii_end(), value.trim_ascii());
    if !is_token(name) {
        return None;
    }
    if let Some(quoted) = value.strip_prefix('"') {
        let mut text = String::new();
        let mut chars = quoted.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => text.push(chars.next()?),
                '"' => return chars.as_str().is_empty().then_some((name, text)),
                c => text.push(c),
            }
        }
        return None; // no closing quote
    }
    is_token(value).then(|| (name, value.to_owned()))
}

/// RFC 9110 §5.6.2: `1*tchar`.
fn is_token(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_error_of_a_bearer_challenge() {
        // RFC 6750 §3's own example.
        let header = r#"Bearer realm="example", error="invalid_token", error_description="The access token expired""#;
        assert_eq!(bearer_error(header).as_deref(), Some("invalid_token"));
        assert_eq!(bearer_error(r#"Bearer error=invalid_token"#).as_deref(), Some("invalid_token"));
        assert_eq!(bearer_error(r#"bearer   ERROR = "insufficient_scope" "#).as_deref(), Some("insufficient_scope"));
        assert_eq!(bearer_error(r#"Bearer realm="example""#), None);
        assert_eq!(bearer_error("Bearer"), None);
    }

    #[test]
    fn finds_the_bearer_challenge_among_others() {
        let header = r#"Basic realm="x", error="invalid_token", Bearer realm="api", error="invalid_token""#;
        assert_eq!(bearer_error(header).as_deref(), Some("invalid_token"));
        // Another scheme's error is not Bearer's.
        assert_eq!(bearer_error(r#"DPoP error="invalid_token", Bearer realm="api""#), None);
        assert_eq!(bearer_error(r#"Negotiate abc==, Bearer error="invalid_token""#).as_deref(), Some("invalid_token"));
        // A challenge after Bearer's owns the parameters that follow it.
        assert_eq!(bearer_error(r#"Bearer realm="api", DPoP error="invalid_token""#), None);
    }

    #[test]
    fn commas_and_quotes_inside_quoted_strings_do_not_split() {
        let header = r#"Bearer error_description="bad, \"very\" bad", error="invalid_token""#;
        assert_eq!(bearer_error(header).as_deref(), Some("invalid_token"));
        let header = r#"Bearer realm="a, error=invalid_token""#;
        assert_eq!(bearer_error(header), None);
    }

    #[test]
    fn malformed_values_are_no_error() {
        for header in [
            "",
            ",,,",
            "=",
            r#"Bearer error="invalid_token"#,
            "Bearer error=",
            "Bearer error=\"a\"b",
            "error=invalid_token",
        ] {
            assert_eq!(bearer_error(header), None, "{header:?}");
        }
    }

    #[test]
    fn only_a_401_with_invalid_token_is_a_rejected_token() {
        let invalid = Some(r#"Bearer error="invalid_token""#);
        assert!(token_rejected(401, invalid));
        // RFC 9449 §7.1: a DPoP-bound token's refusal.
        assert!(token_rejected(401, Some(r#"DPoP algs="ES256", error="invalid_token""#)));
        assert!(!token_rejected(401, Some(r#"DPoP error="use_dpop_nonce""#)));
        assert!(!token_rejected(401, Some(r#"Basic error="invalid_token""#)));
        assert!(!token_rejected(403, invalid));
        assert!(!token_rejected(401, None));
        assert!(!token_rejected(401, Some(r#"Bearer realm="api""#)));
        assert!(!token_rejected(401, Some(r#"Bearer error="insufficient_scope""#)));
    }
}
