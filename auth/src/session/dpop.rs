//! DPoP (RFC 9449) in a session: the page's key, the newest nonce each server sent, and
//! requests sent with a proof, and once more with the server's nonce when it asks for one.
//! The nonces are kept in the storage the app's tabs share too, so that the page a reload
//! brings back and a new tab (each makes a key of its own) need no refusal to learn them.
//! The proof's parts are `oauth::dpop`'s; the key and its signatures are the platform's.

use core::cell::{Cell, RefCell};

use futures::future::LocalBoxFuture;

use super::platform::{HttpRequest, HttpResponse, InFlight, Platform};
use super::store::{self, KeptNonce};
use crate::oauth::AuthError;
use crate::oauth::dpop::{
    ProofClaims, ProofRefusal, PublicJwk, access_token_hash, proof, proof_id, proof_refusal, proof_signing_input,
    target_uri,
};
use crate::oauth::url::origin_of;

/// This page's DPoP key, which every token of the session is bound to, and the nonces the
/// servers gave. The key is in memory only, for the page's life: every page that holds
/// tokens got them through its own callback, which made its key (a reload signs in again,
/// silently).
pub struct Dpop<K> {
    key: K,
    jwk: PublicJwk,
    /// The newest `DPoP-Nonce` each server sent (RFC 9449 §8.2, §9), by origin.
    nonces: RefCell<Vec<KeptNonce>>,
    /// The sign-out signal when the key was made, which the kept nonces go with: after a
    /// sign-out in any tab, what this page learns is stale for the next one.
    signal: Option<String>,
    /// The session this key served has ended: what a request still under way learns is
    /// kept in this page only.
    retired: Cell<bool>,
}

impl<K: 'static> Dpop<K> {
    /// A new key pair from the platform, with the nonces the app's tabs kept; `None` where it
    /// cannot make one. A kept nonce the server no longer takes costs a retry (see [`send`]).
    pub async fn make<P: Platform<ProofKey = K>>(platform: &P) -> Option<Dpop<K>> {
        let (key, jwk) = platform.make_proof_key().await?;
        let (signal, nonces) = store::dpop_nonces(platform);
        Some(Dpop { key, jwk, nonces: RefCell::new(nonces), signal, retired: Cell::new(false) })
    }

    /// A proof for `request` (RFC 9449 §4.2): a new `jti`, its method and URL, now, `nonce`
    /// (the newest its server gave), and the hash of the access token it presents.
    async fn proof<P: Platform<ProofKey = K>>(
        &self,
        platform: &P,
        request: &HttpRequest<'_>,
        nonce: Option<&str>,
    ) -> Result<String, AuthError> {
        let mut random = [0; 16];
        if !platform.fill_random(&mut random) {
            return Err(AuthError::Storage);
        }
        // The URL as the browser will request it (host case, default port, encoding), which
        // is what a server compares `htu` with.
        let url = platform.resolve_url(request.url()).map_or_else(|| request.url().to_owned(), |url| url.href);
        let claims = ProofClaims {
            jti: &proof_id(&random),
            htm: request.method(),
            htu: target_uri(&url),
            iat: platform.now_secs(),
            nonce,
            ath: request.access_token().map(access_token_hash),
        };
        let input = proof_signing_input(&self.jwk, &claims);
        let signature = platform.sign_proof(&self.key, &input).await.ok_or(AuthError::Storage)?;
        Ok(proof(&input, &signature))
    }

    fn nonce_for(&self, url: &str) -> Option<String> {
        let origin = origin_of(url)?;
        self.nonces.borrow().iter().find(|kept| kept.origin == origin).map(|kept| kept.nonce.clone())
    }

    /// Keeps the nonce an answer carries, the newest its server gave (§8.2: a server may send
    /// a new one with any answer), in the page and for the app's tabs.
    fn remember_nonce(&self, platform: &impl Platform, url: &str, response: &HttpResponse) {
        let (Some(origin), Some(nonce)) = (origin_of(url), response.header("dpop-nonce")) else { return };
        let mut nonces = self.nonces.borrow_mut();
        if nonces.iter().find(|kept| kept.origin == origin).is_some_and(|kept| kept.nonce == nonce) {
            return;
        }
        nonces.retain(|kept| kept.origin != origin);
        let given = KeptNonce { origin: origin.to_owned(), nonce: nonce.to_owned(), given_at: platform.now_secs() };
        // First: of nonces given in the same second, the one just given is the newest.
        nonces.insert(0, given);
        self.keep(platform, &nonces);
    }

    /// Forgets `nonce`, which `url`'s server no longer takes, unless a newer one has come
    /// meanwhile (with the answer to another request).
    fn forget_nonce(&self, platform: &impl Platform, url: &str, nonce: &str) {
        let Some(origin) = origin_of(url) else { return };
        let mut nonces = self.nonces.borrow_mut();
        nonces.retain(|kept| kept.origin != origin || kept.nonce != nonce);
        self.keep(platform, &nonces);
    }

    /// Keeps the nonces for the app's tabs too, for the next page, unless the session has ended.
    fn keep(&self, platform: &impl Platform, nonces: &[KeptNonce]) {
        if !self.retired.get() {
            store::keep_dpop_nonces(platform, self.signal.clone(), nonces.to_vec());
        }
    }

    /// Ends the key's session: the kept nonces are forgotten (a server may tie
    /// its nonces to a session), and none this key learns is kept from now on.
    pub fn retire(&self, platform: &impl Platform) {
        self.retired.set(true);
        store::forget_dpop_nonces(platform);
    }
}

/// Sends `request`: with a key, with a proof of it, and once more with a new proof when the
/// server asks for a nonce and gives one (RFC 9449 §8 for authorization servers, §9 for
/// resource servers); a second request for a nonce is answered as it came. A proof refused
/// as invalid while it carried a nonce from before this call is sent once more without that
/// nonce (or with the new one the answer gave): a server may stop taking a nonce without
/// saying `use_dpop_nonce` (§4.3 step 10), and a kept one may be older than its newest. At
/// most three requests, and none more with an access token once the session has ended.
/// Without a key the request leaves at once, before the caller's next one.
pub fn send<'a, P: Platform>(
    platform: &'a P,
    dpop: Option<&'a Dpop<P::ProofKey>>,
    request: HttpRequest<'a>,
) -> LocalBoxFuture<'a, Result<HttpResponse, AuthError>> {
    let Some(dpop) = dpop else {
        let sent = leave(platform, request);
        return Box::pin(async move { sent?.await });
    };
    Box::pin(async move {
        let resource = request.access_token().is_some();
        let (mut nonce_given, mut nonce_dropped) = (false, false);
        loop {
            let carried_nonce = dpop.nonce_for(request.url());
            let proof = dpop.proof(platform, &request, carried_nonce.as_deref()).await?;
            let response = leave(platform, request.with_proof(&proof))?.await?;
            dpop.remember_nonce(platform, request.url(), &response);
            let challenge = response.header("www-authenticate");
            let answer_nonce = response.header("dpop-nonce");
            match (proof_refusal(resource, response.status, challenge, &response.body), carried_nonce.as_deref()) {
                (Some(ProofRefusal::UseNonce), _) if !nonce_given && answer_nonce.is_some() => {
                    nonce_given = true;
                }
                // Not a nonce this call was just given, nor one the server names again (then
                // the refusal is about something else, and is the answer).
                (Some(ProofRefusal::InvalidProof), Some(carried))
                    if !nonce_given && !nonce_dropped && answer_nonce != Some(carried) =>
                {
                    nonce_dropped = true;
                    if answer_nonce.is_none() {
                        dpop.forget_nonce(platform, request.url(), carried);
                    }
                }
                _ => return Ok(response),
            }
            // The session ended while the answer was on its way (a sign-out here or in another
            // tab): its access token is not sent again, as a call started now would not be.
            if resource && dpop.retired.get() {
                return Err(AuthError::NotSignedIn);
            }
        }
    })
}

/// Hands `request` to the platform. An API request the browser will not send as built (a
/// header name it refuses, a GET with a body) is the app's to fix, and nothing left:
/// [`AuthError::ApiRequestInvalid`].
fn leave<P: Platform>(platform: &P, request: HttpRequest<'_>) -> Result<InFlight, AuthError> {
    platform.send(request).map_err(|error| match (error, request) {
        (AuthError::Network(detail), HttpRequest::Api { .. }) => AuthError::ApiRequestInvalid(detail),
        (other, _) => other,
    })
}
