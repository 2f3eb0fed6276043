//! Exchanging the code for tokens: the token request (RFC 6749 §4.1.3, RFC 7636 §4.5)
//! and its response (RFC 6749 §5.1-5.2), with the ID token's claims checked
//! (OpenID Connect Core §3.1.3.7).

use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

use super::callback::ValidatedCallback;
use super::config::ClientConfig;
use super::document::{self, DocumentError};
use super::error::AuthError;
use super::jws::{JoseHeader, VerifiedSignature, compact_parts, json_part};
use super::metadata::ProviderMetadata;
use super::secret::{Secret, constant_time_eq};
use super::url::form_encode;

/// How far the provider's clock may be ahead of or behind ours, in seconds.
pub const CLOCK_SKEW_SECS: i64 = 60;

/// A token request, ready to send: POST `body` as `application/x-www-form-urlencoded`
/// to `url`. The body holds the code and verifier, so it is a [`Secret`].
#[derive(Debug)]
pub struct TokenRequest {
    /// The endpoint to POST to: the token endpoint, or the revocation endpoint for a revocation.
    pub url: String,
    /// The form-encoded body (RFC 6749 Appendix B); it carries a code, verifier or token.
    pub body: Secret,
}

/// What the token response is checked against; made together with the request.
#[derive(Debug)]
pub struct TokenExpectations {
    /// The provider's issuer identifier, which the ID token's `iss` must equal (OpenID Connect
    /// Core §3.1.3.7 step 2).
    pub issuer: String,
    /// This client's identifier, which the ID token's `aud` must include and its `azp`, when
    /// present, equal (OpenID Connect Core §3.1.3.7 steps 3-5).
    pub client_id: String,
    /// The sign-in's nonce, which the ID token must repeat (OpenID Connect Core §3.1.3.7
    /// step 11).
    pub nonce: String,
    /// Whether the answer must carry an ID token: a code exchange with the `openid` scope.
    pub id_token_required: bool,
    /// Where to go after the sign-in, from the pending sign-in; empty for a refresh.
    pub return_to: String,
    /// When refreshing: the signed-in person's `sub`, which a new ID token must repeat
    /// (OpenID Connect Core §12.2); its `nonce` may then be absent.
    pub refreshing_sub: Option<String>,
    /// The request carries a DPoP proof (RFC 9449 §5): the answer's `token_type` must be
    /// `DPoP`, a token bound to this page's key, and not a plain Bearer token.
    pub dpop: bool,
}

/// Builds the token request for a validated callback. Consumes the callback, so the code
/// and verifier are used exactly once. No client secret: this is a public client
/// (RFC 6749 §2.1, §3.2.1), identified by `client_id` in the body. `dpop`: the request
/// goes with a DPoP proof (RFC 9449 §5).
pub fn token_request(
    metadata: &ProviderMetadata,
    config: &ClientConfig,
    callback: ValidatedCallback,
    dpop: bool,
) -> (TokenRequest, TokenExpectations) {
    let ValidatedCallback { code, pending } = callback;
    let body = form_encode(&[
        ("grant_type", "authorization_code"),
        ("code", code.expose()),
        ("redirect_uri", &config.redirect_uri),
        ("client_id", &config.client_id),
        ("code_verifier", pending.verifier.expose()),
    ]);
    let expect = TokenExpectations {
        issuer: metadata.issuer.clone(),
        client_id: config.client_id.clone(),
        nonce: pending.nonce,
        id_token_required: config.requests_openid(),
        return_to: pending.return_to,
        refreshing_sub: None,
        dpop,
    };
    (TokenRequest { url: metadata.token_endpoint.clone(), body: Secret::new(body) }, expect)
}

/// The identity claims this client uses from a validated ID token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdTokenClaims {
    /// The subject identifier, never empty (OpenID Connect Core §2).
    pub sub: String,
    /// The person's full name, if the token carries it (OpenID Connect Core §5.1).
    pub name: Option<String>,
    /// The person's email address, if the token carries it (OpenID Connect Core §5.1).
    pub email: Option<String>,
    /// When the ID token expires, in seconds since the Unix epoch (OpenID Connect Core §2).
    pub exp: i64,
}

/// The tokens of a signed-in session. Held in memory only.
#[derive(Debug)]
pub struct TokenSet {
    /// The access token, for an `Authorization: Bearer` header (RFC 6750 §2.1).
    pub access_token: Secret,
    /// Seconds since the Unix epoch, when `expires_in` was given.
    pub expires_at: Option<u64>,
    /// When the answer that brought these tokens arrived (seconds since the Unix epoch).
    pub received_at: u64,
    /// The refresh token, if the provider issued one (RFC 6749 §5.1, §6).
    pub refresh_token: Option<Secret>,
    /// The ID token as received, kept for `id_token_hint` at sign-out (RP-Initiated Logout
    /// 1.0 §2).
    pub id_token: Option<Secret>,
    /// The ID token's checked claims (OpenID Connect Core §3.1.3.7), if there is an ID token.
    pub id_claims: Option<IdTokenClaims>,
    /// The scope granted, when the provider states it (RFC 6749 §5.1).
    pub scope: Option<String>,
    /// The sign-in's nonce, which a refreshed ID token may repeat (OIDC Core §12.2).
    pub nonce: String,
    /// The tokens are bound to this page's DPoP key (`token_type` `DPoP`, RFC 9449 §5):
    /// every use and refresh goes with a proof signed by it.
    pub dpop_bound: bool,
}

impl TokenSet {
    /// Whether the access token has expired at `now` (seconds since the Unix epoch); never,
    /// when its lifetime is not known.
    pub fn is_expired(&self, now: u64) -> bool {
        self.expires_at.is_some_and(|at| now >= at)
    }

    /// Whether it is time to renew the access token before using it, rather than have an
    /// API refuse it (see [`RENEWAL_MARGIN_SECS`]).
    pub fn renewal_due(&self, now: u64) -> bool {
        self.renewal_due_at().is_some_and(|at| now >= at)
    }

    /// The scopes asked for in `requested` that the provider did not grant (RFC 6749 §3.3: it
    /// may issue fewer, as when the person unticks a box on its consent page, and then says
    /// which it granted; an answer without `scope` granted all). `openid` and
    /// `offline_access` are left out: they are about the sign-in, not the person's data.
    pub fn withheld_scopes<'a>(&self, requested: &'a str) -> Vec<&'a str> {
        let Some(granted) = &self.scope else { return Vec::new() };
        let granted: Vec<&str> = granted.split_ascii_whitespace().collect();
        requested
            .split_ascii_whitespace()
            .filter(|scope| !matches!(*scope, "openid" | "offline_access"))
            .filter(|scope| !granted.contains(scope))
            .collect()
    }

    /// When the access token is due for renewal; never, when its lifetime is not known.
    pub fn renewal_due_at(&self) -> Option<u64> {
        self.lifetime().map(|secs| renewal_time(self.received_at, secs))
    }

    /// The access token's lifetime in seconds, as its answer's `expires_in` gave it.
    fn lifetime(&self) -> Option<u64> {
        self.expires_at.map(|at| at.saturating_sub(self.received_at))
    }

    /// The tokens after a refresh: the new ones, keeping the refresh token and ID token
    /// when the answer brings none (RFC 6749 §6: a new refresh token is optional).
    pub fn refreshed(self, new: TokenSet) -> TokenSet {
        // RFC 6749 §5.1 makes expires_in only RECOMMENDED: an answer without it keeps the
        // lifetime the last one gave, rather than making a token that is never renewed.
        let expires_at = match (new.expires_at, self.lifetime().filter(|&secs| secs > 0)) {
            (None, Some(secs)) => Some(new.received_at.saturating_add(secs)),
            _ => new.expires_at,
        };
        TokenSet {
            expires_at,
            refresh_token: new.refresh_token.or(self.refresh_token),
            id_claims: if new.id_token.is_some() { new.id_claims } else { self.id_claims },
            id_token: new.id_token.or(self.id_token),
            scope: new.scope.or(self.scope),
            ..new
        }
    }
}

/// A token response that passed its checks (RFC 6749 §5.1, the ID token's claims) but whose
/// ID token's signature is still to be verified (OpenID Connect Core §3.1.3.7 step 6). Its
/// tokens are out of reach until [`UnverifiedTokens::verified`] is given the proof, as an
/// unchecked code is until [`super::validate_callback`] has passed it.
#[derive(Debug)]
pub struct UnverifiedTokens(TokenSet);

impl UnverifiedTokens {
    /// The ID token whose signature is to be verified, if the answer carried one.
    pub fn id_token(&self) -> Option<&Secret> {
        self.0.id_token.as_ref()
    }

    /// The tokens, given the proof that this answer's ID token's signature verified. An
    /// answer without an ID token needs no proof.
    pub fn verified(self, proof: Option<VerifiedSignature>) -> Result<TokenSet, AuthError> {
        match (&self.0.id_token, proof) {
            (None, _) => Ok(self.0),
            (Some(id_token), Some(proof)) if proof.is_for(id_token.expose()) => Ok(self.0),
            (Some(_), _) => Err(id_error("its signature was not verified")),
        }
    }

    /// The tokens without this answer's ID token, which is then not adopted: for a refresh
    /// whose keys did not load, the person stays the one the verified ID token named.
    pub fn without_id_token(self) -> TokenSet {
        TokenSet { id_token: None, id_claims: None, ..self.0 }
    }

    /// For tests of the claim checks, which sign nothing.
    #[cfg(test)]
    pub(crate) fn assume_verified(self) -> TokenSet {
        self.0
    }
}

/// How long before expiry the access token is renewed, at most: a token that lives less
/// than twice as long is renewed half-way through its life instead, so that a renewal is
/// never due again the moment it arrives (with a fixed margin, a 20 s token would be).
pub const RENEWAL_MARGIN_SECS: u64 = 30;

/// When a token that arrived at `now` and lives `lifetime` seconds is due for renewal.
fn renewal_time(now: u64, lifetime: u64) -> u64 {
    now.saturating_add(lifetime - RENEWAL_MARGIN_SECS.min(lifetime / 2))
}

/// A refresh request (RFC 6749 §6) for `tokens`, and what its answer is checked against;
/// `None` when there is no refresh token.
pub fn refresh_request(
    metadata: &ProviderMetadata,
    config: &ClientConfig,
    tokens: &TokenSet,
) -> Option<(TokenRequest, TokenExpectations)> {
    let refresh_token = tokens.refresh_token.as_ref()?;
    let body = form_encode(&[
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token.expose()),
        ("client_id", &config.client_id),
    ]);
    let expect = TokenExpectations {
        issuer: metadata.issuer.clone(),
        client_id: config.client_id.clone(),
        nonce: tokens.nonce.clone(),
        id_token_required: false,
        return_to: String::new(),
        refreshing_sub: Some(tokens.id_claims.as_ref().map(|c| c.sub.clone()).unwrap_or_default()),
        // RFC 9449 §5: a public client's refresh token is bound to the same key.
        dpop: tokens.dpop_bound,
    };
    Some((TokenRequest { url: metadata.token_endpoint.clone(), body: Secret::new(body) }, expect))
}

/// A revocation request (RFC 7009 §2.1) for `refresh_token`, as the public client
/// `client_id`; `None` when the provider has no revocation endpoint.
pub fn revocation_request(
    metadata: &ProviderMetadata,
    client_id: &str,
    refresh_token: &Secret,
) -> Option<TokenRequest> {
    let url = metadata.revocation_endpoint.clone()?;
    let body = form_encode(&[
        ("token", refresh_token.expose()),
        ("token_type_hint", "refresh_token"),
        ("client_id", client_id),
    ]);
    Some(TokenRequest { url, body: Secret::new(body) })
}

/// The refresh token in a token answer that this client refused (it failed a check of
/// [`process_token_response`] or of the ID token's signature) though the provider gave it
/// with a 200: the provider issued it, and with rotation has spent the one presented
/// (RFC 9700 §4.14.2), so it is to be revoked, not left alive unused.
pub fn refresh_token_of_refused_answer(status: u16, body: &str) -> Option<Secret> {
    if status != 200 {
        return None;
    }
    let answer: TokenResponseDocument = document::parse(body).ok()?;
    answer.refresh_token.filter(|token| !token.is_empty()).map(Secret::new)
}

fn invalid(detail: &str) -> AuthError {
    AuthError::InvalidTokenResponse(detail.into())
}

/// The token endpoint's answer as sent: a success (RFC 6749 §5.1) or an error (§5.2).
/// What each member means is decided in [`process_token_response`].
#[derive(Deserialize)]
struct TokenResponseDocument {
    access_token: Option<String>,
    token_type: Option<String>,
    /// Any JSON value, `null` included, as its text: §5.1 wants a whole number of
    /// seconds, checked by hand below so that the message can say so.
    #[serde(default, deserialize_with = "raw_including_null")]
    expires_in: Option<Box<RawValue>>,
    refresh_token: Option<String>,
    scope: Option<String>,
    id_token: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// An error answer's two members (RFC 6749 §5.2), read on their own and leniently: a
/// provider whose `error_description` is a number or a list still has its `error` read,
/// and a member that is not a string is dropped rather than failing the whole answer.
#[derive(Deserialize)]
pub(crate) struct ErrorDocument {
    error: Option<Box<RawValue>>,
    error_description: Option<Box<RawValue>>,
}

impl ErrorDocument {
    /// `error` and `error_description` of an error answer, each if it is a string.
    pub(crate) fn read(body: &str) -> (Option<String>, Option<String>) {
        let text = |raw: Option<Box<RawValue>>| raw.and_then(|raw| serde_json::from_str::<String>(raw.get()).ok());
        match document::parse::<ErrorDocument>(body) {
            Ok(answer) => (text(answer.error), text(answer.error_description)),
            Err(_) => (None, None),
        }
    }
}

/// A member's raw text whatever it is; a plain `Option` would read `null` as absent.
fn raw_including_null<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Box<RawValue>>, D::Error> {
    Box::<RawValue>::deserialize(deserializer).map(Some)
}

/// Processes the token endpoint's answer (RFC 6749 §5.1 success, §5.2 error).
///
/// Its ID token's claims are checked here, its signature is not: the answer is not yet a
/// [`TokenSet`] that the session can use (issue 13, item 13).
///
/// ```compile_fail
/// use leptos_oidc_auth::oauth::{AuthError, TokenExpectations, TokenSet, process_token_response};
/// fn usable(body: &str, expect: &TokenExpectations) -> Result<TokenSet, AuthError> {
///     process_token_response(200, body, expect, 0)
/// }
/// ```
pub fn process_token_response(
    status: u16,
    body: &str,
    expect: &TokenExpectations,
    now: u64,
) -> Result<UnverifiedTokens, AuthError> {
    if status != 200 {
        // An error answer is read for its `error` and `error_description` when it can be
        // (whatever its status: providers answer 400, 401 or 403, with codes of their own);
        // an unreadable one (an HTML error page) still says its status.
        let (error, description) = ErrorDocument::read(body);
        return Err(AuthError::TokenRejected { status, error, description });
    }
    let answer = document::parse::<TokenResponseDocument>(body).map_err(|error| match error {
        DocumentError::NotAnObject | DocumentError::Syntax(_) => invalid("the answer is not a JSON object"),
        other => invalid(&format!("the answer is not valid: {other}")),
    })?;
    if let Some(error) = answer.error {
        return Err(AuthError::TokenRejected { status, error: Some(error), description: answer.error_description });
    }
    let access_token =
        answer.access_token.filter(|t| !t.is_empty()).ok_or_else(|| invalid("access_token is missing"))?;
    // RFC 6749 §7.1: the type names how the token is used, case-insensitively; a proof
    // asked for a DPoP-bound one (RFC 9449 §5). A Bearer answer to it would be a token any
    // script that copies it can use: refused.
    match (answer.token_type, expect.dpop) {
        (Some(t), false) if t.eq_ignore_ascii_case("bearer") => {}
        (Some(t), true) if t.eq_ignore_ascii_case("dpop") => {}
        (Some(t), true) if t.eq_ignore_ascii_case("bearer") => {
            return Err(invalid("token_type is Bearer: the provider did not bind the token to this page's DPoP key"));
        }
        (Some(_), false) => return Err(invalid("token_type is not Bearer")),
        (Some(_), true) => return Err(invalid("token_type is not DPoP")),
        (None, _) => return Err(invalid("token_type is missing")),
    }
    // RFC 6749 §5.1: the access token's lifetime in seconds. Zero is refused: a token
    // expired on arrival would be renewed over and over.
    let lifetime = match answer.expires_in {
        None => None,
        // The text of a JSON number that is a whole number of seconds is its digits.
        Some(raw) => match raw.get().parse::<u64>() {
            Ok(secs) if secs > 0 => Some(secs),
            _ => return Err(invalid("expires_in is not a positive whole number")),
        },
    };
    let id_claims = match &answer.id_token {
        Some(jwt) => Some(validate_id_token(jwt, expect, now)?),
        None if expect.id_token_required => return Err(invalid("id_token is missing")),
        None => None,
    };
    Ok(UnverifiedTokens(TokenSet {
        access_token: Secret::new(access_token),
        expires_at: lifetime.map(|secs| now.saturating_add(secs)),
        received_at: now,
        refresh_token: answer.refresh_token.map(Secret::new),
        id_token: answer.id_token.map(Secret::new),
        id_claims,
        scope: answer.scope,
        nonce: expect.nonce.clone(),
        dpop_bound: expect.dpop,
    }))
}

fn id_error(detail: &str) -> AuthError {
    AuthError::InvalidIdToken(detail.into())
}

/// The ID token claims this client reads (OpenID Connect Core §2). Each must have the type
/// the spec gives it, the display-only `name` and `email` too: an identity that breaks
/// the spec's types is refused whole, not read in part.
#[derive(Deserialize)]
struct IdTokenClaimsDocument {
    iss: Option<String>,
    sub: Option<String>,
    /// A string or an array of strings (§2): told apart by [`audiences`].
    aud: Option<Box<RawValue>>,
    azp: Option<String>,
    exp: Option<i64>,
    iat: Option<i64>,
    nonce: Option<String>,
    name: Option<String>,
    email: Option<String>,
}

/// The audiences an `aud` claim names: it is one string or an array of strings (OIDC Core §2).
fn audiences(aud: &RawValue) -> Option<Vec<String>> {
    let one = serde_json::from_str::<String>(aud.get()).map(|aud| vec![aud]);
    one.or_else(|_| serde_json::from_str::<Vec<String>>(aud.get())).ok()
}

/// The claim checks of OpenID Connect Core §3.1.3.7 for an ID token received directly
/// from the token endpoint over TLS (steps 2-3, 9-11).
pub fn validate_id_token(jwt: &str, expect: &TokenExpectations, now: u64) -> Result<IdTokenClaims, AuthError> {
    let (header, payload, _signature) = compact_parts(jwt).ok_or_else(|| id_error("not a signed JWT"))?;
    let header: JoseHeader = json_part(header).map_err(|why| id_error(&format!("the header is not valid ({why})")))?;
    match header.alg.as_deref() {
        None => return Err(id_error("alg is missing")),
        Some(alg) if alg.eq_ignore_ascii_case("none") => return Err(id_error("it is not signed: alg is none")),
        Some(_) => {}
    }
    if header.crit {
        return Err(id_error("it has critical header parameters this client does not know"));
    }
    let claims: IdTokenClaimsDocument =
        json_part(payload).map_err(|why| id_error(&format!("the claims are not valid ({why})")))?;
    if claims.iss.as_deref() != Some(expect.issuer.as_str()) {
        return Err(id_error("iss is not the issuer"));
    }
    let audiences = match &claims.aud {
        Some(aud) => audiences(aud).ok_or_else(|| id_error("aud is not a string or a list of strings"))?,
        None => return Err(id_error("aud is missing")),
    };
    if !audiences.contains(&expect.client_id) {
        return Err(id_error("aud does not include this client"));
    }
    match claims.azp.as_deref() {
        Some(azp) if azp != expect.client_id => return Err(id_error("azp is another client")),
        None if audiences.len() > 1 => return Err(id_error("several audiences but no azp")),
        _ => {}
    }
    // Saturating: `exp` and `iat` come from the provider and may be anything an i64 holds.
    let now = i64::try_from(now).unwrap_or(i64::MAX);
    let exp = claims.exp.ok_or_else(|| id_error("exp is missing"))?;
    if exp.saturating_add(CLOCK_SKEW_SECS) <= now {
        return Err(id_error("it has expired"));
    }
    let iat = claims.iat.ok_or_else(|| id_error("iat is missing"))?;
    if iat > now.saturating_add(CLOCK_SKEW_SECS) {
        return Err(id_error("it was issued in the future"));
    }
    match claims.nonce.as_deref() {
        Some(nonce) if constant_time_eq(nonce.as_bytes(), expect.nonce.as_bytes()) => {}
        Some(_) => return Err(id_error("nonce does not match this sign-in")),
        // A refreshed ID token need not repeat the nonce (OIDC Core §12.2).
        None if expect.refreshing_sub.is_some() => {}
        None => return Err(id_error("nonce is missing")),
    }
    let sub = claims.sub.filter(|s| !s.is_empty()).ok_or_else(|| id_error("sub is missing"))?;
    if expect.refreshing_sub.as_deref().is_some_and(|signed_in| signed_in != sub) {
        return Err(id_error("it names another person than the one signed in"));
    }
    Ok(IdTokenClaims { sub, name: claims.name, email: claims.email, exp })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use base64::prelude::{BASE64_URL_SAFE_NO_PAD, Engine as _};

    pub const NOW: u64 = 1_700_000_000;

    pub fn expectations() -> TokenExpectations {
        TokenExpectations {
            issuer: "http://127.0.0.1:9000".into(),
            client_id: "leptos-spa".into(),
            nonce: "n-123".into(),
            id_token_required: true,
            return_to: "/".into(),
            refreshing_sub: None,
            dpop: false,
        }
    }

    pub fn jwt(header: &str, claims: &str) -> String {
        format!("{}.{}.c2ln", BASE64_URL_SAFE_NO_PAD.encode(header), BASE64_URL_SAFE_NO_PAD.encode(claims))
    }

    pub fn good_claims() -> String {
        format!(
            r#"{{"iss":"http://127.0.0.1:9000","aud":"leptos-spa","sub":"alice","exp":{},"iat":{},"nonce":"n-123"}}"#,
            NOW + 3600,
            NOW
        )
    }

    fn response_with(id_token: &str) -> String {
        format!(r#"{{"access_token":"at","token_type":"Bearer","expires_in":3600,"id_token":"{id_token}"}}"#)
    }

    #[test]
    fn a_good_response_gives_tokens_and_claims() {
        let id = jwt(r#"{"alg":"RS256"}"#, &good_claims());
        let body = format!(
            r#"{{"access_token":"at","token_type":"bearer","expires_in":3600,"refresh_token":"rt","scope":"openid","id_token":"{id}"}}"#
        );
        let tokens = process_token_response(200, &body, &expectations(), NOW).unwrap().assume_verified();
        assert_eq!(tokens.access_token.expose(), "at");
        assert_eq!(tokens.expires_at, Some(NOW + 3600));
        assert_eq!(tokens.refresh_token.as_ref().map(Secret::expose), Some("rt"));
        assert_eq!(tokens.id_claims.as_ref().map(|c| c.sub.as_str()), Some("alice"));
        assert!(!tokens.is_expired(NOW + 3599));
        assert!(tokens.is_expired(NOW + 3600));
        let printed = format!("{tokens:?}");
        assert!(!printed.contains("\"at\"") && !printed.contains("rt\""), "{printed}");
    }

    /// The table of token responses, each with the exact error expected.
    #[test]
    fn token_response_table() {
        let id = jwt(r#"{"alg":"RS256"}"#, &good_claims());
        let cases: Vec<(u16, String, &str, &str)> = vec![
            (
                400,
                r#"{"error":"invalid_grant","error_description":"grant request is invalid"}"#.into(),
                "token_rejected",
                "invalid_grant (grant request is invalid)",
            ),
            (401, r#"{"error":"invalid_client"}"#.into(), "token_rejected", "HTTP 401, invalid_client"),
            // Providers' own ways: 403, codes of their own, a description that is not a string.
            (
                403,
                r#"{"error":"code_expired","error_description":42}"#.into(),
                "token_rejected",
                "HTTP 403, code_expired",
            ),
            (
                400,
                r#"{"error":"invalid_code","error_description":["a","b"],"x":1}"#.into(),
                "token_rejected",
                "HTTP 400, invalid_code",
            ),
            (
                401,
                r#"{"error":{"code":"x"},"error_description":"bad client"}"#.into(),
                "token_rejected",
                "HTTP 401 (bad client)",
            ),
            (403, "{}".into(), "token_rejected", "HTTP 403"),
            (500, "<html>oops</html>".into(), "token_rejected", "HTTP 500"),
            (200, "not json".into(), "invalid_token_response", "not a JSON object"),
            (200, "[1]".into(), "invalid_token_response", "not a JSON object"),
            (200, r#"{"error":"invalid_grant"}"#.into(), "token_rejected", "invalid_grant"),
            (
                200,
                format!(r#"{{"token_type":"Bearer","id_token":"{id}"}}"#),
                "invalid_token_response",
                "access_token is missing",
            ),
            (
                200,
                format!(r#"{{"access_token":"","token_type":"Bearer","id_token":"{id}"}}"#),
                "invalid_token_response",
                "access_token is missing",
            ),
            (
                200,
                format!(r#"{{"access_token":5,"token_type":"Bearer","id_token":"{id}"}}"#),
                "invalid_token_response",
                "the answer is not valid: invalid type: integer `5`, expected a string",
            ),
            (
                200,
                format!(r#"{{"access_token":"at","token_type":"DPoP","id_token":"{id}"}}"#),
                "invalid_token_response",
                "token_type is not Bearer",
            ),
            (
                200,
                format!(r#"{{"access_token":"at","id_token":"{id}"}}"#),
                "invalid_token_response",
                "token_type is missing",
            ),
            (
                200,
                format!(r#"{{"access_token":"at","token_type":"Bearer","expires_in":-1,"id_token":"{id}"}}"#),
                "invalid_token_response",
                "expires_in",
            ),
            // Zero seconds: a token that has expired on arrival, which would be renewed at once.
            (
                200,
                format!(r#"{{"access_token":"at","token_type":"Bearer","expires_in":0,"id_token":"{id}"}}"#),
                "invalid_token_response",
                "expires_in is not a positive whole number",
            ),
            (
                200,
                format!(r#"{{"access_token":"at","token_type":"Bearer","expires_in":"3600","id_token":"{id}"}}"#),
                "invalid_token_response",
                "expires_in",
            ),
            (
                200,
                format!(r#"{{"access_token":"at","token_type":"Bearer","expires_in":1.5,"id_token":"{id}"}}"#),
                "invalid_token_response",
                "expires_in",
            ),
            (
                200,
                r#"{"access_token":"at","token_type":"Bearer"}"#.into(),
                "invalid_token_response",
                "id_token is missing",
            ),
            (
                200,
                format!(r#"{{"access_token":"at","access_token":"x","token_type":"Bearer","id_token":"{id}"}}"#),
                "invalid_token_response",
                "the answer is not valid: duplicate field `access_token`",
            ),
            (
                200,
                format!(r#"{{"access_token":"at","token_type":"Bearer","expires_in":null,"id_token":"{id}"}}"#),
                "invalid_token_response",
                "expires_in is not a positive whole number",
            ),
            (
                200,
                format!(r#"{{"access_token":"at","token_type":"Bearer","expires_in":1e3,"id_token":"{id}"}}"#),
                "invalid_token_response",
                "expires_in is not a positive whole number",
            ),
            (
                200,
                format!(
                    r#"{{"access_token":"at","token_type":"Bearer","expires_in":3600,"expires_in":60,"id_token":"{id}"}}"#
                ),
                "invalid_token_response",
                "the answer is not valid: duplicate field `expires_in`",
            ),
        ];
        for (status, body, code, detail) in cases {
            let err = process_token_response(status, &body, &expectations(), NOW).unwrap_err();
            assert_eq!(err.code(), code, "{status} {body}");
            assert!(err.to_string().contains(detail), "{status} {body}: {}", err);
        }
    }

    /// The ID token's claims, each broken in turn.
    #[test]
    fn id_token_table() {
        let claims = |edit: &dyn Fn(&str) -> String| edit(&good_claims());
        let cases: Vec<(String, &str)> = vec![
            (jwt(r#"{"alg":"none"}"#, &good_claims()), "alg is none"),
            (jwt(r#"{"typ":"JWT"}"#, &good_claims()), "alg is missing"),
            (jwt(r#"{"alg":"RS256","crit":["x"]}"#, &good_claims()), "critical header"),
            (jwt(r#"{"alg":"RS256","crit":null}"#, &good_claims()), "critical header"),
            ("abc.def".into(), "not a signed JWT"),
            ("a.b.c.d".into(), "not a signed JWT"),
            ("!!.!!.!!".into(), "header is not valid"),
            (jwt(r#"{"alg":"RS256"}"#, "[]"), "claims are not valid"),
            (
                jwt(r#"{"alg":"RS256"}"#, &claims(&|c| c.replace("http://127.0.0.1:9000", "https://evil.example"))),
                "iss is not the issuer",
            ),
            (
                jwt(r#"{"alg":"RS256"}"#, &claims(&|c| c.replace("\"aud\":\"leptos-spa\"", "\"aud\":\"other\""))),
                "aud does not include",
            ),
            (
                jwt(
                    r#"{"alg":"RS256"}"#,
                    &claims(&|c| c.replace("\"aud\":\"leptos-spa\"", "\"aud\":[\"leptos-spa\",\"other\"]")),
                ),
                "no azp",
            ),
            (
                jwt(
                    r#"{"alg":"RS256"}"#,
                    &claims(&|c| c.replace("\"aud\":\"leptos-spa\"", "\"aud\":\"leptos-spa\",\"azp\":\"other\"")),
                ),
                "azp is another client",
            ),
            (
                jwt(r#"{"alg":"RS256"}"#, &claims(&|c| c.replace(&(NOW + 3600).to_string(), &(NOW - 61).to_string()))),
                "expired",
            ),
            (
                jwt(r#"{"alg":"RS256"}"#, &claims(&|c| c.replace("\"nonce\":\"n-123\"", "\"nonce\":\"n-999\""))),
                "nonce does not match",
            ),
            (jwt(r#"{"alg":"RS256"}"#, &claims(&|c| c.replace(",\"nonce\":\"n-123\"", ""))), "nonce is missing"),
            (jwt(r#"{"alg":"RS256"}"#, &claims(&|c| c.replace("\"sub\":\"alice\",", ""))), "sub is missing"),
            (
                jwt(r#"{"alg":"RS256"}"#, &claims(&|c| c.replace("\"sub\":\"alice\"", "\"sub\":\"alice\",\"name\":5"))),
                "the claims are not valid (invalid type: integer `5`, expected a string",
            ),
            (
                jwt(
                    r#"{"alg":"RS256"}"#,
                    &claims(&|c| c.replace("\"aud\":\"leptos-spa\"", "\"aud\":[\"leptos-spa\",7]")),
                ),
                "aud is not a string or a list of strings",
            ),
            (jwt(r#"{"alg":"RS256"}"#, &claims(&|c| c.replace("\"aud\":\"leptos-spa\",", ""))), "aud is missing"),
            (jwt(r#"{"alg":"RS256"}"#, &claims(&|c| c.replace(&format!(",\"iat\":{NOW}"), ""))), "iat is missing"),
            (
                jwt(
                    r#"{"alg":"RS256"}"#,
                    &claims(&|c| c.replace(&format!("\"iat\":{NOW}"), &format!("\"iat\":{NOW}.5"))),
                ),
                "the claims are not valid (invalid type: floating point",
            ),
            (
                jwt(
                    r#"{"alg":"RS256"}"#,
                    &claims(&|c| c.replace(&(NOW + 3600).to_string(), &format!("{}.5", NOW + 3600))),
                ),
                "the claims are not valid (invalid type: floating point",
            ),
            (
                jwt(r#"{"alg":"RS256"}"#, &claims(&|c| c.replace(&(NOW + 3600).to_string(), "1.7000036e9"))),
                "the claims are not valid (invalid type: floating point",
            ),
            (
                format!("{}=", jwt(r#"{"alg":"RS256"}"#, &good_claims()).replace(".c2ln", "")) + ".c2ln",
                "the claims are not valid (it is not base64url)",
            ),
            (
                jwt(r#"{"alg":"RS256"}"#, &claims(&|c| c.replace("\"exp\":", "\"exp\":\"1\",\"x\":"))),
                "the claims are not valid (invalid type: string \"1\", expected i64",
            ),
            (
                jwt(
                    r#"{"alg":"RS256"}"#,
                    &claims(&|c| c.replace("\"sub\":\"alice\"", "\"sub\":\"alice\",\"sub\":\"mallory\"")),
                ),
                "the claims are not valid (duplicate field `sub`",
            ),
            (jwt(r#"{"alg":"RS256","alg":"none"}"#, &good_claims()), "the header is not valid (duplicate field `alg`"),
        ];
        for (id_token, detail) in cases {
            let err = process_token_response(200, &response_with(&id_token), &expectations(), NOW).unwrap_err();
            assert_eq!(err.code(), "invalid_id_token", "{detail}");
            assert!(err.to_string().contains(detail), "{detail}: {}", err);
        }
    }

    /// Issue 13, item 8: `exp + skew` must not overflow, and `iat` may not lie in the
    /// future beyond the allowed clock skew.
    #[test]
    fn time_claims_at_the_edges() {
        let with = |from: String, to: String| jwt(r#"{"alg":"RS256"}"#, &good_claims().replace(&from, &to));
        let far = with((NOW + 3600).to_string(), i64::MAX.to_string());
        assert_eq!(validate_id_token(&far, &expectations(), NOW).map(|c| c.exp), Ok(i64::MAX));
        let long_ago = with((NOW + 3600).to_string(), i64::MIN.to_string());
        assert_eq!(validate_id_token(&long_ago, &expectations(), NOW).unwrap_err(), id_error("it has expired"));
        let issued_later = with(format!("\"iat\":{NOW}"), format!("\"iat\":{}", NOW + 61));
        assert_eq!(
            validate_id_token(&issued_later, &expectations(), NOW).unwrap_err(),
            id_error("it was issued in the future")
        );
        let within_skew = with(format!("\"iat\":{NOW}"), format!("\"iat\":{}", NOW + 60));
        assert!(validate_id_token(&within_skew, &expectations(), NOW).is_ok());
        let iat_max = with(format!("\"iat\":{NOW}"), format!("\"iat\":{}", i64::MAX));
        assert_eq!(
            validate_id_token(&iat_max, &expectations(), NOW).unwrap_err(),
            id_error("it was issued in the future")
        );
        // A clock beyond i64 (not a real one) neither wraps nor panics: it is past everything.
        assert_eq!(validate_id_token(&far, &expectations(), u64::MAX).unwrap_err(), id_error("it has expired"));
    }

    /// Every document is bounded (oauth::document), the token response and the ID token's
    /// claims included.
    #[test]
    fn documents_over_the_size_limit_are_refused() {
        let padding = "a".repeat(256 * 1024);
        let id = jwt(r#"{"alg":"RS256"}"#, &good_claims());
        let body = format!(r#"{{"x":"{padding}","access_token":"at","token_type":"Bearer","id_token":"{id}"}}"#);
        let err = process_token_response(200, &body, &expectations(), NOW).unwrap_err();
        assert_eq!(err.code(), "invalid_token_response");
        assert!(err.to_string().contains("the answer is not valid: it is larger than 256 KB"), "{}", err);
        let big_claims = good_claims().replacen('{', &format!(r#"{{"x":"{padding}","#), 1);
        let err = validate_id_token(&jwt(r#"{"alg":"RS256"}"#, &big_claims), &expectations(), NOW).unwrap_err();
        assert!(err.to_string().contains("the claims are not valid (it is larger than 256 KB)"), "{}", err);
    }

    /// Issue 13, item 13: only a proof made for this very ID token unlocks the tokens.
    #[test]
    fn an_id_token_is_usable_only_with_the_proof_of_its_own_signature() {
        use crate::oauth::jws::{JwsAlgorithm, SignatureCheck};
        let proof_for = |jwt: &str| {
            let (signing_input, _) = jwt.rsplit_once('.').unwrap();
            let check = SignatureCheck {
                alg: JwsAlgorithm::Rs256,
                jwk: String::new(),
                signing_input: signing_input.into(),
                signature: vec![],
            };
            check.verdict(Some(true)).unwrap()
        };
        let id = jwt(r#"{"alg":"RS256"}"#, &good_claims());
        let other = jwt(r#"{"alg":"RS256","kid":"x"}"#, &good_claims());
        let answer = || process_token_response(200, &response_with(&id), &expectations(), NOW).unwrap();
        assert_eq!(answer().verified(None).unwrap_err(), id_error("its signature was not verified"));
        assert_eq!(answer().verified(Some(proof_for(&other))).unwrap_err(), id_error("its signature was not verified"));
        let tokens = answer().verified(Some(proof_for(&id))).expect("its own proof");
        assert_eq!(tokens.id_claims.map(|c| c.sub).as_deref(), Some("alice"));
        let kept = answer().without_id_token();
        assert!(kept.id_token.is_none() && kept.id_claims.is_none());
        assert_eq!(kept.access_token.expose(), "at");
        let refused = |valid| {
            SignatureCheck {
                alg: JwsAlgorithm::Rs256,
                jwk: String::new(),
                signing_input: String::new(),
                signature: vec![],
            }
            .verdict(valid)
        };
        assert_eq!(refused(Some(false)).unwrap_err(), id_error("its signature does not match the provider's keys"));
        assert_eq!(refused(None).unwrap_err(), id_error("the provider's signing key cannot be used"));
    }

    #[test]
    fn multiple_audiences_with_our_azp_are_accepted() {
        let claims =
            good_claims().replace("\"aud\":\"leptos-spa\"", "\"aud\":[\"api\",\"leptos-spa\"],\"azp\":\"leptos-spa\"");
        let body = response_with(&jwt(r#"{"alg":"ES256"}"#, &claims));
        assert!(process_token_response(200, &body, &expectations(), NOW).is_ok());
    }

    #[test]
    fn id_token_optional_for_plain_oauth() {
        let mut expect = expectations();
        expect.id_token_required = false;
        let unverified =
            process_token_response(200, r#"{"access_token":"at","token_type":"Bearer"}"#, &expect, NOW).unwrap();
        let tokens = unverified.verified(None).expect("no ID token, no signature to verify");
        assert!(tokens.id_claims.is_none());
        assert_eq!(tokens.expires_at, None);
    }

    fn signed_in_tokens() -> TokenSet {
        let id = jwt(r#"{"alg":"RS256"}"#, &good_claims());
        let body = format!(
            r#"{{"access_token":"at1","token_type":"Bearer","expires_in":600,"refresh_token":"rt1","id_token":"{id}"}}"#
        );
        process_token_response(200, &body, &expectations(), NOW).unwrap().assume_verified()
    }

    fn metadata() -> ProviderMetadata {
        ProviderMetadata {
            issuer: "http://127.0.0.1:9000".into(),
            authorization_endpoint: "http://127.0.0.1:9000/auth".into(),
            token_endpoint: "http://127.0.0.1:9000/token".into(),
            userinfo_endpoint: None,
            end_session_endpoint: None,
            revocation_endpoint: Some("http://127.0.0.1:9000/token/revocation".into()),
            jwks_uri: None,
            id_token_signing_alg_values_supported: Vec::new(),
            iss_parameter_supported: true,
            code_challenge_methods_supported: None,
            pushed_authorization_request_endpoint: None,
            require_pushed_authorization_requests: false,
            dpop_signing_alg_values_supported: None,
        }
    }

    fn config() -> ClientConfig {
        ClientConfig::parse(r#"{"issuer":"http://127.0.0.1:9000","client_id":"leptos-spa"}"#, "http://localhost:8080")
            .unwrap()
    }

    #[test]
    fn the_scopes_the_provider_withheld_are_the_asked_ones_it_did_not_grant() {
        let granting = |scope: Option<&str>| TokenSet { scope: scope.map(str::to_owned), ..signed_in_tokens() };
        let asked = "openid profile email offline_access";
        assert_eq!(granting(None).withheld_scopes(asked), Vec::<&str>::new(), "no scope: all granted (§5.1)");
        assert_eq!(granting(Some("openid profile email offline_access")).withheld_scopes(asked), Vec::<&str>::new());
        assert_eq!(granting(Some("profile openid")).withheld_scopes(asked), ["email"]);
        assert_eq!(granting(Some("")).withheld_scopes("openid  profile email"), ["profile", "email"]);
    }

    #[test]
    fn refresh_request_sends_the_refresh_token_and_client_id() {
        let tokens = signed_in_tokens();
        let (request, expect) = refresh_request(&metadata(), &config(), &tokens).unwrap();
        assert_eq!(request.url, "http://127.0.0.1:9000/token");
        assert_eq!(request.body.expose(), "grant_type=refresh_token&refresh_token=rt1&client_id=leptos-spa");
        assert_eq!(expect.refreshing_sub.as_deref(), Some("alice"));
        assert!(!expect.id_token_required);
        let without = TokenSet { refresh_token: None, ..signed_in_tokens() };
        assert!(refresh_request(&metadata(), &config(), &without).is_none());
    }

    /// RFC 9449 §5: a request with a proof must bring a DPoP-bound token, one without a
    /// proof a Bearer token; the binding carries over to the refresh.
    #[test]
    fn a_dpop_request_takes_only_a_dpop_token_and_its_refresh_asks_for_one_too() {
        let answer = |token_type: &str, dpop: bool| {
            let body = format!(r#"{{"access_token":"at","token_type":"{token_type}","refresh_token":"rt"}}"#);
            let expect = TokenExpectations { id_token_required: false, dpop, ..expectations() };
            process_token_response(200, &body, &expect, NOW).map(|t| t.assume_verified())
        };
        for token_type in ["DPoP", "dpop"] {
            assert!(answer(token_type, true).is_ok_and(|t| t.dpop_bound), "{token_type}");
        }
        assert!(answer("Bearer", false).is_ok_and(|t| !t.dpop_bound));
        let refused = |token_type, dpop| match answer(token_type, dpop) {
            Err(AuthError::InvalidTokenResponse(detail)) => detail,
            other => panic!("{token_type}: {other:?}"),
        };
        assert!(refused("Bearer", true).contains("did not bind the token to this page's DPoP key"));
        assert_eq!(refused("N_A", true), "token_type is not DPoP");
        assert_eq!(refused("DPoP", false), "token_type is not Bearer");
        let bound = answer("DPoP", true).unwrap();
        let (_, expect) = refresh_request(&metadata(), &config(), &bound).unwrap();
        assert!(expect.dpop, "a bound refresh token is presented with a proof");
        let (_, expect) = refresh_request(&metadata(), &config(), &answer("Bearer", false).unwrap()).unwrap();
        assert!(!expect.dpop);
    }

    #[test]
    fn a_refresh_answer_replaces_tokens_and_keeps_what_it_omits() {
        let tokens = signed_in_tokens();
        let (_, expect) = refresh_request(&metadata(), &config(), &tokens).unwrap();
        let new = process_token_response(
            200,
            r#"{"access_token":"at2","token_type":"Bearer","expires_in":600}"#,
            &expect,
            NOW + 590,
        )
        .unwrap()
        .verified(None)
        .unwrap();
        let merged = tokens.refreshed(new);
        assert_eq!(merged.access_token.expose(), "at2");
        assert_eq!(merged.expires_at, Some(NOW + 1190));
        assert_eq!(merged.refresh_token.as_ref().map(Secret::expose), Some("rt1"), "kept when none came");
        assert_eq!(merged.id_claims.as_ref().map(|c| c.sub.as_str()), Some("alice"));
        assert!(merged.id_token.is_some(), "kept for id_token_hint at sign-out");
    }

    #[test]
    fn a_refreshed_id_token_must_name_the_same_person_and_may_omit_the_nonce() {
        let tokens = signed_in_tokens();
        let (_, expect) = refresh_request(&metadata(), &config(), &tokens).unwrap();
        let no_nonce = good_claims().replace(",\"nonce\":\"n-123\"", "");
        let body = response_with(&jwt(r#"{"alg":"RS256"}"#, &no_nonce));
        assert!(process_token_response(200, &body, &expect, NOW).is_ok());
        let someone_else = good_claims().replace("\"sub\":\"alice\"", "\"sub\":\"mallory\"");
        let body = response_with(&jwt(r#"{"alg":"RS256"}"#, &someone_else));
        let err = process_token_response(200, &body, &expect, NOW).unwrap_err();
        assert!(err.to_string().contains("another person"), "{}", err);
        let wrong_nonce = good_claims().replace("n-123", "n-999");
        let body = response_with(&jwt(r#"{"alg":"RS256"}"#, &wrong_nonce));
        assert_eq!(process_token_response(200, &body, &expect, NOW).unwrap_err().code(), "invalid_id_token");
    }

    /// Tokens from an answer whose `expires_in` is `lifetime` (None: not given), at NOW.
    fn tokens_living(lifetime: Option<u64>) -> TokenSet {
        let expires_in = lifetime.map(|secs| format!(r#","expires_in":{secs}"#)).unwrap_or_default();
        let body = format!(r#"{{"access_token":"at","token_type":"Bearer"{expires_in}}}"#);
        let mut expect = expectations();
        expect.id_token_required = false;
        process_token_response(200, &body, &expect, NOW).unwrap().verified(None).unwrap()
    }

    #[test]
    fn renewal_is_due_the_margin_before_expiry_and_never_before_half_the_lifetime() {
        // (lifetime, first second renewal is due): RENEWAL_MARGIN_SECS before expiry, or
        // half-way through a shorter life, so that a renewed token is never due at once
        // (20 s tokens with a 30 s margin were renewed in a loop).
        for (lifetime, due_after) in [(600, 570), (61, 31), (60, 30), (20, 10), (3, 2), (1, 1)] {
            let tokens = tokens_living(Some(lifetime));
            assert!(!tokens.renewal_due(NOW + due_after - 1), "{lifetime} s: due too early");
            assert!(tokens.renewal_due(NOW + due_after), "{lifetime} s: not due at {due_after} s");
            assert!(!tokens.is_expired(NOW + lifetime - 1), "{lifetime} s");
            assert!(tokens.is_expired(NOW + lifetime), "{lifetime} s");
        }
        let forever = tokens_living(None);
        assert!(!forever.renewal_due(u64::MAX) && !forever.is_expired(u64::MAX), "no expires_in: never due");
    }

    #[test]
    fn a_renewed_token_takes_the_renewal_time_of_the_answer() {
        let tokens = tokens_living(Some(20));
        let renewed = tokens.refreshed(tokens_living(Some(600)));
        assert!(!renewed.renewal_due(NOW + 569));
        assert!(renewed.renewal_due(NOW + 570));
    }

    #[test]
    fn a_renewal_answer_without_expires_in_keeps_the_lifetime_the_last_one_gave() {
        // RFC 6749 §5.1: expires_in is only RECOMMENDED. Without it, the renewed token would
        // never be due again, and APIs would refuse it once the provider's lifetime ran out.
        let renewed = tokens_living(Some(20)).refreshed(tokens_living(None));
        assert!(!renewed.renewal_due(NOW + 9) && renewed.renewal_due(NOW + 10));
        assert!(!renewed.is_expired(NOW + 19) && renewed.is_expired(NOW + 20));
        let never = tokens_living(None).refreshed(tokens_living(None));
        assert!(!never.renewal_due(u64::MAX), "no lifetime was ever given");
    }

    #[test]
    fn a_refused_200_answer_gives_up_its_refresh_token_for_revocation() {
        let unusable = r#"{"access_token":"at2","refresh_token":"rt2"}"#; // no token_type
        assert!(process_token_response(200, unusable, &expectations(), NOW).is_err());
        assert_eq!(refresh_token_of_refused_answer(200, unusable).as_ref().map(Secret::expose), Some("rt2"));
        for (status, body) in [
            (400, r#"{"error":"invalid_grant","refresh_token":"rt2"}"#),
            (200, r#"{"access_token":"at2","refresh_token":""}"#),
            (200, "<html>rt2</html>"),
            (200, r#"{"refresh_token":"a","refresh_token":"b"}"#),
        ] {
            assert!(refresh_token_of_refused_answer(status, body).is_none(), "{status} {body}");
        }
    }

    #[test]
    fn revocation_request_names_the_refresh_token() {
        let refresh_token = Secret::new("rt1".into());
        let request = revocation_request(&metadata(), "leptos-spa", &refresh_token).unwrap();
        assert_eq!(request.url, "http://127.0.0.1:9000/token/revocation");
        assert_eq!(request.body.expose(), "token=rt1&token_type_hint=refresh_token&client_id=leptos-spa");
        let no_endpoint = ProviderMetadata { revocation_endpoint: None, ..metadata() };
        assert!(revocation_request(&no_endpoint, "leptos-spa", &refresh_token).is_none());
    }
}
