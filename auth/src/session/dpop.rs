//! DPoP (RFC 9449) in a session: the page's key, the newest nonce each server sent, and
//! requests sent with a proof, and once more with the server's nonce when it asks for one.
//! The proof's parts are `oauth::dpop`'s; the key and its signatures are the platform's.

use core::cell::RefCell;

use futures::future::LocalBoxFuture;

use super::platform::{HttpRequest, HttpResponse, InFlight, Platform};
use crate::oauth::AuthError;
use crate::oauth::dpop::{
    ProofClaims, PublicJwk, access_token_hash, nonce_requested, proof, proof_id, proof_signing_input, target_uri,
};
use crate::oauth::url::origin_of;

/// This page's DPoP key, which every token of the session is bound to, and the nonces the
/// servers gave. In memory only, for the page's life: every page that holds tokens got
/// them through its own callback, which made its key (a reload signs in again, silently).
pub struct Dpop<K> {
    key: K,
    jwk: PublicJwk,
    /// The newest `DPoP-Nonce` each server sent (RFC 9449 §8.2, §9), by origin.
    nonces: RefCell<Vec<(String, String)>>,
}

impl<K: 'static> Dpop<K> {
    /// A new key pair from the platform; `None` where it cannot make one.
    pub async fn make<P: Platform<ProofKey = K>>(platform: &P) -> Option<Dpop<K>> {
        let (key, jwk) = platform.make_proof_key().await?;
        Some(Dpop { key, jwk, nonces: RefCell::new(Vec::new()) })
    }

    /// A proof for `request` (RFC 9449 §4.2): a new `jti`, its method and URL, now, the
    /// newest nonce its server gave, and the hash of the access token it presents.
    async fn proof<P: Platform<ProofKey = K>>(
        &self,
        platform: &P,
        request: &HttpRequest<'_>,
    ) -> Result<String, AuthError> {
        let mut random = [0; 16];
        if !platform.fill_random(&mut random) {
            return Err(AuthError::Storage);
        }
        let nonce = self.nonce_for(request.url());
        // The URL as the browser will request it (host case, default port, encoding), which
        // is what a server compares `htu` with.
        let url = platform.resolve_url(request.url()).map_or_else(|| request.url().to_owned(), |url| url.href);
        let claims = ProofClaims {
            jti: &proof_id(&random),
            htm: request.method(),
            htu: target_uri(&url),
            iat: platform.now_secs(),
            nonce: nonce.as_deref(),
            ath: request.access_token().map(access_token_hash),
        };
        let input = proof_signing_input(&self.jwk, &claims);
        let signature = platform.sign_proof(&self.key, &input).await.ok_or(AuthError::Storage)?;
        Ok(proof(&input, &signature))
    }

    fn nonce_for(&self, url: &str) -> Option<String> {
        let origin = origin_of(url)?;
        self.nonces.borrow().iter().find(|(server, _)| server == origin).map(|(_, nonce)| nonce.clone())
    }

    /// Keeps the nonce an answer carries, the newest its server gave (§8.2: a server may send
    /// a new one with any answer).
    fn remember_nonce(&self, url: &str, response: &HttpResponse) {
        let (Some(origin), Some(nonce)) = (origin_of(url), response.header("dpop-nonce")) else { return };
        let mut nonces = self.nonces.borrow_mut();
        match nonces.iter_mut().find(|(server, _)| server == origin) {
            Some((_, newest)) => *newest = nonce.to_owned(),
            None => nonces.push((origin.to_owned(), nonce.to_owned())),
        }
    }
}

/// Sends `request`: with a key, with a proof of it, and once more with a new proof when the
/// server asks for a nonce and gives one (RFC 9449 §8 for authorization servers, §9 for
/// resource servers); a second request for a nonce is answered as it came. Without a key
/// the request leaves at once, before the caller's next one.
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
        let mut retried = false;
        loop {
            let proof = dpop.proof(platform, &request).await?;
            let response = leave(platform, request.with_proof(&proof))?.await?;
            dpop.remember_nonce(request.url(), &response);
            let resource = request.access_token().is_some();
            let challenge = response.header("www-authenticate");
            let asks_for_nonce = nonce_requested(resource, response.status, challenge, &response.body)
                && response.header("dpop-nonce").is_some();
            if retried || !asks_for_nonce {
                return Ok(response);
            }
            retried = true;
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
