//! The sign-in steps as plain async functions: each joins the platform's I/O to the
//! protocol core's decisions, in the order the specs give. [`super::Session`] strings them
//! together into a session.

use core::future::Future;
use core::pin::Pin;
use std::rc::Rc;

use futures::future::LocalBoxFuture;

use super::dpop::{self, Dpop};
use super::platform::{HttpRequest, HttpResponse, InFlight, Platform};
use super::store;
use crate::oauth::dpop::dpop_in_use;
use crate::oauth::{
    AuthError, AuthorizationRequest, CallbackExpectations, CallbackParams, ClientConfig, ConfigDocument,
    EndSessionRequest, PendingSignIn, Preference, ProviderMetadata, Secret, SignInRandomness, TokenExpectations,
    TokenRequest, TokenSet, UserInfo, authorization_request, check_key_set, discovery_urls, end_session_request,
    is_logout_return, process_pushed_response, process_token_response, process_userinfo, pushed_redirect_url,
    random_value, refresh_token_of_refused_answer, return_target, revocation_request, signature_check,
    signed_in_policy, token_request, validate_callback,
};

/// Reads the app's `config.json`, and keeps it in this tab for the callback.
pub async fn load_config(platform: &impl Platform, url: &str) -> Result<ClientConfig, AuthError> {
    let response = send(platform, HttpRequest::Get { url }).await?;
    if response.status != 200 {
        return Err(AuthError::Config(format!("{url} answered HTTP {}", response.status)));
    }
    let config = ClientConfig::parse(&response.body, &platform.origin())?;
    store::cache_config(platform, &config);
    Ok(config)
}

/// On the way back from the provider, the config this tab signed in with: the token
/// request must repeat the authorization request's `client_id` and `redirect_uri`
/// (RFC 6749 §4.1.3), and with it the exchange leaves without waiting for config.json.
/// `None` unless the page is that config's callback route.
pub fn config_for_callback(platform: &impl Platform) -> Option<ClientConfig> {
    let config = cached_config(platform)?;
    (config.callback_path() == platform.path()).then_some(config)
}

/// The config this tab last loaded, if it still reads as one for this page's origin.
pub fn cached_config(platform: &impl Platform) -> Option<ClientConfig> {
    let document = store::cached_config::<ConfigDocument>(platform)?;
    ClientConfig::from_document(document, &platform.origin()).ok()
}

/// The provider's metadata: from this tab's cache when it is there and still for the
/// configured issuer, otherwise by discovery (OIDC Discovery §4, then RFC 8414 §3),
/// which is then cached. Metadata is public, so sessionStorage is a fine cache, and it
/// spares the callback a discovery round trip.
pub async fn load_metadata(platform: &impl Platform, config: &ClientConfig) -> Result<ProviderMetadata, AuthError> {
    if let Some(cached) = store::cached_metadata::<ProviderMetadata>(platform) {
        if let Ok(metadata) = cached.validated(&config.issuer) {
            return Ok(metadata);
        }
        store::forget_metadata(platform);
    }
    let mut first_error = None;
    for url in discovery_urls(&config.issuer) {
        let outcome = match send(platform, HttpRequest::Get { url: &url }).await {
            Ok(response) if response.status == 200 => ProviderMetadata::parse(&response.body, &config.issuer),
            Ok(response) => Err(AuthError::Discovery(format!("{url} answered HTTP {}", response.status))),
            Err(error) => Err(error),
        };
        match outcome {
            Ok(metadata) => {
                store::cache_metadata(platform, &metadata);
                return Ok(metadata);
            }
            Err(error) => {
                first_error.get_or_insert(error);
            }
        }
    }
    Err(first_error.unwrap_or_else(|| AuthError::Discovery("no metadata".into())))
}

/// Starts a sign-in: makes the pending record, pushes the authorization request when the
/// provider takes that (RFC 9126), stores the record, and returns the URL of the provider's
/// authorization endpoint to send the browser to.
pub async fn start_sign_in(
    platform: &impl Platform,
    config: &ClientConfig,
    metadata: &ProviderMetadata,
    return_to: &str,
    silent: bool,
) -> Result<String, AuthError> {
    let now = platform.now_secs();
    forget_stale_sign_ins(platform, now);
    let mut random = SignInRandomness { verifier: [0; 32], state: [0; 32], nonce: [0; 32] };
    let fill = |bytes: &mut [u8]| platform.fill_random(bytes);
    if !(fill(&mut random.verifier) && fill(&mut random.state) && fill(&mut random.nonce)) {
        return Err(AuthError::Storage);
    }
    let pending = PendingSignIn::new(&random, &return_target(return_to, config), now);
    let pending = if silent { pending.silently() } else { pending };
    // The URL first: a provider refused before the redirect leaves no sign-in pending.
    let url = match authorization_request(metadata, config, &pending)? {
        AuthorizationRequest::Redirect(url) => url,
        AuthorizationRequest::Push { url, body } => {
            let response = send(platform, HttpRequest::PostForm { url: &url, body: &body, proof: None }).await?;
            let request_uri = process_pushed_response(response.status, &response.body)?;
            pushed_redirect_url(metadata, config, &request_uri)
        }
    };
    // The callback exchanges the code with the tab's copy of the config: it must be this
    // request's (the same `client_id` and `redirect_uri`, RFC 6749 §4.1.3), even where the
    // page kept an older one than config.json's (see `Session::finish`). Written first, so
    // that no sign-in is pending without it.
    if !store::cache_config(platform, config) || !store::put_pending(platform, &pending.state, &pending) {
        return Err(AuthError::Storage);
    }
    Ok(url)
}

/// Drops pending sign-ins that are unreadable or expired, so storage does not grow with
/// abandoned attempts. Returns whether any sign-in is still pending.
fn forget_stale_sign_ins(platform: &impl Platform, now: u64) -> bool {
    let mut any_left = false;
    for (state, record) in store::pending_records::<PendingSignIn>(platform) {
        if record.and_then(PendingSignIn::checked).is_none_or(|p| p.is_expired(now)) {
            store::remove_pending(platform, &state);
        } else {
            any_left = true;
        }
    }
    any_left
}

/// A finished sign-in.
pub struct SignedIn<K> {
    /// The tokens the code was exchanged for, checked (RFC 6749 §5.1, OpenID Connect Core §3.1.3.7).
    pub tokens: TokenSet,
    /// The provider's metadata this sign-in used.
    pub metadata: ProviderMetadata,
    /// The same-origin path to go back to, recorded when the sign-in started.
    pub return_to: String,
    /// It was a silent sign-in (a session restore).
    pub silent: bool,
    /// The key the tokens are bound to (RFC 9449), when they are.
    pub dpop: Option<Dpop<K>>,
}

/// A sign-in that did not finish.
#[derive(Debug)]
pub struct NotSignedIn {
    /// Why.
    pub error: AuthError,
    /// For a silent sign-in (a session restore), the page it started on: it fails
    /// quietly, back there, signed out.
    pub silent_return_to: Option<String>,
}

impl From<AuthError> for NotSignedIn {
    fn from(error: AuthError) -> Self {
        NotSignedIn { error, silent_return_to: None }
    }
}

/// Finishes a sign-in on the callback route: reads and validates the authorization
/// response (RFC 6749 §4.1.2, RFC 9207), then exchanges the code (RFC 6749 §4.1.3), with a
/// proof of a new key when the tokens are to be bound to one (RFC 9449 §5).
pub async fn finish_sign_in<P: Platform>(
    platform: &P,
    config: &ClientConfig,
    query: &str,
) -> Result<SignedIn<P::ProofKey>, NotSignedIn> {
    let params = CallbackParams::parse(query)?;
    if params.is_empty() {
        return Err(AuthError::NoSignInInProgress.into());
    }
    let metadata = load_metadata(platform, config).await?;
    let now = platform.now_secs();
    // Taking the record deletes it: whatever happens next, this response is used once.
    let pending = params
        .state
        .as_deref()
        .and_then(|state| store::take_pending::<PendingSignIn>(platform, state))
        .and_then(PendingSignIn::checked);
    let other_pending = forget_stale_sign_ins(platform, now);
    // The record was found under the response's own `state`: if it was a silent sign-in,
    // any failure from here on is quiet.
    let silent_return_to = pending.as_ref().filter(|p| p.silent).map(|p| p.return_to.clone());
    let failed = |error: AuthError| NotSignedIn { error, silent_return_to: silent_return_to.clone() };
    let expect = CallbackExpectations { issuer: &config.issuer, iss_required: metadata.iss_parameter_supported, now };
    let callback = validate_callback(params, pending, other_pending, &expect).map_err(failed)?;
    // Before any token exists in the page: from here on it reaches only these servers. A
    // page that cannot be narrowed gets no token.
    if !platform.restrict_page(&signed_in_policy(config, &metadata)) {
        return Err(failed(AuthError::Config("this page could not set its Content-Security-Policy".into())));
    }

    let dpop = match dpop_in_use(&metadata, config).map_err(failed)? {
        true => match Dpop::make(platform).await {
            Some(dpop) => Some(dpop),
            // No WebCrypto (not a secure context): with "auto", Bearer tokens as without DPoP.
            None if config.dpop == Preference::Required => {
                return Err(failed(AuthError::Config(
                    "config.json asks for DPoP (\"dpop\": true), and this page cannot make a key: WebCrypto needs \
                     a secure context (https, or http on localhost)"
                        .into(),
                )));
            }
            None => None,
        },
        false => None,
    };
    let (request, expect) = token_request(&metadata, config, callback, dpop.is_some());
    let tokens = request_tokens(platform, &request, &expect, &metadata, dpop.as_ref()).await.map_err(failed)?;
    Ok(SignedIn { tokens, metadata, return_to: expect.return_to, silent: silent_return_to.is_some(), dpop })
}

/// Sends a token request, the code exchange (RFC 6749 §4.1.3) or a refresh (§6), with a
/// DPoP proof when `dpop` is given (RFC 9449 §5), and checks the answer (§5): its ID
/// token's claims, then its signature against the provider's keys (OIDC Core §3.1.3.7
/// step 6).
pub fn request_tokens<'a, P: Platform>(
    platform: &'a P,
    request: &'a TokenRequest,
    expect: &'a TokenExpectations,
    metadata: &'a ProviderMetadata,
    dpop: Option<&'a Dpop<P::ProofKey>>,
) -> Pin<Box<dyn Future<Output = Result<TokenSet, AuthError>> + 'a>> {
    // Boxed: it has two callers (sign-in and refresh), which would otherwise each get
    // their own copy of this state machine in the .wasm (6 KB gzip measured).
    Box::pin(async move {
        // Without DPoP the token request leaves first: a provider that serves requests in
        // order answers it without waiting for the keys (with DPoP it leaves once its proof
        // is signed, after them). A code exchange with OpenID always brings an ID token, so
        // the keys are fetched meanwhile rather than one round trip later; a refresh may
        // bring none, and fetches them only if it does.
        let form = HttpRequest::PostForm { url: &request.url, body: request.body.expose(), proof: None };
        let tokens_in_flight = dpop::send(platform, dpop, form);
        let exchanging_for_id_token = expect.id_token_required && expect.refreshing_sub.is_none();
        let keys = if exchanging_for_id_token { Some(request_keys(platform, metadata)) } else { None };
        let response = tokens_in_flight.await?;
        let outcome = check_token_answer(platform, &response, expect, metadata, keys).await;
        if outcome.is_err()
            && let Some(refresh_token) = refresh_token_of_refused_answer(response.status, &response.body)
        {
            revoke(platform, metadata, &expect.client_id, &refresh_token);
            // A refresh: the refresh token presented is spent (rotation) or is the one just
            // revoked, so the session cannot be renewed again.
            if expect.refreshing_sub.is_some() {
                return Err(AuthError::SessionExpired);
            }
        }
        outcome
    })
}

/// Checks a token answer (RFC 6749 §5) and its ID token: claims, then the signature
/// against the provider's keys (OIDC Core §3.1.3.7 step 6).
async fn check_token_answer(
    platform: &impl Platform,
    response: &HttpResponse,
    expect: &TokenExpectations,
    metadata: &ProviderMetadata,
    keys: Option<Result<InFlight, AuthError>>,
) -> Result<TokenSet, AuthError> {
    let answer = process_token_response(response.status, &response.body, expect, platform.now_secs())?;
    let Some(id_token) = answer.id_token() else { return answer.verified(None) };
    let keys = match load_keys(keys.unwrap_or_else(|| request_keys(platform, metadata))).await {
        Ok(keys) => keys,
        // A refresh whose keys did not load keeps its new access and refresh tokens (the
        // old refresh token may already be spent: RFC 9700 §4.14.2) and not its new ID
        // token: the person stays the one the verified ID token named.
        Err(_) if expect.refreshing_sub.is_some() => return Ok(answer.without_id_token()),
        Err(error) => return Err(error),
    };
    let check = signature_check(id_token.expose(), &keys, &metadata.id_token_signing_alg_values_supported)?;
    let valid = platform.verify_signature(&check).await;
    answer.verified(Some(check.verdict(valid)?))
}

/// The provider's key set (the JWKS document), from its request in flight: an error
/// unless it came, with a 200, as a key set.
async fn load_keys(request: Result<InFlight, AuthError>) -> Result<String, AuthError> {
    let keys = request?.await?;
    if keys.status != 200 {
        return Err(AuthError::InvalidIdToken(format!("the provider's keys did not load: HTTP {}", keys.status)));
    }
    check_key_set(&keys.body)?;
    Ok(keys.body)
}

/// Sends the request for the provider's public signing keys (its JWKS).
fn request_keys(platform: &impl Platform, metadata: &ProviderMetadata) -> Result<InFlight, AuthError> {
    let url = metadata
        .jwks_uri
        .as_deref()
        .ok_or_else(|| AuthError::InvalidIdToken("the provider publishes no signing keys (jwks_uri)".into()))?;
    platform.send(HttpRequest::Get { url })
}

/// Loads the signed-in person from the UserInfo endpoint (OIDC Core §5.3), checking it
/// is the person the ID token names.
pub async fn load_user<P: Platform>(
    platform: &P,
    metadata: &ProviderMetadata,
    access_token: &str,
    dpop: Option<Rc<Dpop<P::ProofKey>>>,
    id_sub: Option<&str>,
) -> Result<UserInfo, AuthError> {
    user_info(request_user(platform, metadata, access_token, dpop)?, id_sub).await
}

/// Sends the UserInfo request: now without DPoP, once its proof is signed with it (RFC 9449
/// §7.1); [`user_info`] reads its answer.
pub fn request_user<'a, P: Platform>(
    platform: &'a P,
    metadata: &ProviderMetadata,
    access_token: &str,
    dpop: Option<Rc<Dpop<P::ProofKey>>>,
) -> Result<LocalBoxFuture<'a, Result<HttpResponse, AuthError>>, AuthError> {
    let url = metadata
        .userinfo_endpoint
        .clone()
        .ok_or_else(|| AuthError::InvalidUserInfo("the provider has no userinfo endpoint".into()))?;
    let Some(dpop) = dpop else {
        let sent = platform.send(HttpRequest::GetWithToken { url: &url, token: access_token, proof: None });
        return Ok(Box::pin(async move { sent?.await }));
    };
    let token = access_token.to_owned();
    Ok(Box::pin(async move {
        let request = HttpRequest::GetWithToken { url: &url, token: &token, proof: None };
        dpop::send(platform, Some(&dpop), request).await
    }))
}

/// The person, from a UserInfo request in flight, checked against the ID token's `sub`.
pub async fn user_info(
    request: impl Future<Output = Result<HttpResponse, AuthError>>,
    id_sub: Option<&str>,
) -> Result<UserInfo, AuthError> {
    let response = request.await?;
    process_userinfo(response.status, response.content_type(), &response.body, id_sub)
}

/// Revokes the refresh token of `tokens` (RFC 7009 §2.1) when the provider has a revocation
/// endpoint, without waiting for the answer: the request outlives the page (`keepalive`).
pub fn revoke_refresh_token(
    platform: &impl Platform,
    config: &ClientConfig,
    metadata: &ProviderMetadata,
    tokens: &TokenSet,
) {
    if let Some(refresh_token) = &tokens.refresh_token {
        revoke(platform, metadata, &config.client_id, refresh_token);
    }
}

fn revoke(platform: &impl Platform, metadata: &ProviderMetadata, client_id: &str, refresh_token: &Secret) {
    if let Some(revocation) = revocation_request(metadata, client_id, refresh_token) {
        platform.post_form_and_forget(&revocation.url, revocation.body.expose());
    }
}

/// Sends the browser to the provider to end its session too (RP-Initiated Logout), if the
/// provider supports that, with a new random `state` kept in the tab for the page the
/// provider sends the browser back to ([`Session::start`](super::Session::start) checks
/// it). False when there is nowhere to go (or the page could not go).
pub fn sign_out_at_provider(
    platform: &impl Platform,
    config: &ClientConfig,
    metadata: &ProviderMetadata,
    tokens: Option<&TokenSet>,
) -> bool {
    let mut random = [0; 32];
    // Without randomness no state: the page back is then the plain signed-out home.
    let state = platform.fill_random(&mut random).then(|| random_value(&random));
    let request = end_session_request(metadata, config, tokens.and_then(|t| t.id_token.as_ref()), state.as_deref());
    if let (Some(_), Some(state)) = (&request, &state) {
        store::put_sign_out_state(platform, state);
    }
    let left = match request {
        Some(EndSessionRequest::Get(url)) => {
            platform.navigate(&url);
            true
        }
        Some(EndSessionRequest::Post { endpoint, fields }) => platform.navigate_by_post(&endpoint, &fields),
        None => false,
    };
    if !left {
        store::take_sign_out_state(platform);
    }
    left
}

/// The first page after this tab signed out at the provider (RP-Initiated Logout 1.0 §3),
/// given the `state` the logout request carried: whether this page is the provider's answer
/// to it. On the page `post_logout_redirect_uri` names, the address is left as configured,
/// without what the provider added. A wrong or missing `state` proves nothing, and the
/// page is then the plain signed-out home.
pub fn back_from_sign_out(platform: &impl Platform, config: &ClientConfig, state: &str) -> bool {
    let (path, clean) = config.post_logout_landing();
    if platform.path() != path {
        return false;
    }
    let back = is_logout_return(&platform.query(), state);
    if platform.path_query_fragment() != clean {
        platform.replace_path(clean);
    }
    back
}

/// Sends `request` and waits for its answer.
async fn send(platform: &impl Platform, request: HttpRequest<'_>) -> Result<HttpResponse, AuthError> {
    platform.send(request)?.await
}
