//! DPoP (RFC 9449) through the session: tokens bound to the page's key, a proof on every
//! token request and every use of the token, the servers' nonces, and the refusals the
//! spec asks for. The world's provider and resource server check each proof as §4.3 has
//! servers do (signature, `htm`, `htu`, `iat`, `jti`, `ath`, nonce) and refuse what fails.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use leptos_oidc_auth::session::ApiRequest;
use leptos_oidc_auth::{AuthError, AuthState, HttpResponse, Session};

use crate::world::{API, Endpoint, Fault, ISSUER, Seen, TTL, Tab, World};
use Endpoint::*;

fn fetch(world: &World, session: &Session<Tab>, request: ApiRequest) -> Result<HttpResponse, AuthError> {
    let session = session.clone();
    world.run(async move { session.fetch(&request).await }).expect("answered")
}

/// RFC 7638 §3 of an EC JWK.
fn thumbprint(jwk: &serde_json::Value) -> String {
    use sha2::Digest;
    let canonical = format!(r#"{{"crv":{},"kty":"EC","x":{},"y":{}}}"#, jwk["crv"], jwk["x"], jwk["y"]);
    B64.encode(sha2::Sha256::digest(canonical.as_bytes()))
}

fn ath(token: &str) -> String {
    use sha2::Digest;
    B64.encode(sha2::Sha256::digest(token.as_bytes()))
}

/// A proof's header and claims.
fn proof_of(seen: &Seen) -> (serde_json::Value, serde_json::Value) {
    let proof = seen.proof.as_deref().unwrap_or_else(|| panic!("no proof to {}", seen.url));
    let part = |n: usize| -> serde_json::Value {
        serde_json::from_slice(&B64.decode(proof.split('.').nth(n).expect("a part")).expect("base64url")).expect("JSON")
    };
    (part(0), part(1))
}

fn signed_in_with_dpop(nonce: Option<&str>) -> (crate::world::TestWorld, Session<Tab>) {
    let world = World::new();
    world.offer_dpop(nonce);
    world.configure(&format!(r#","api_origins":["{API}"]"#));
    let session = world.signed_in();
    (world, session)
}

/// §5, §7.1: the code exchange, the refresh, UserInfo and an API call each carry a proof of
/// the one key the provider bound the tokens to, naming their method and URL, with the token's
/// hash where a token goes, and a `jti` never used before.
#[test]
fn a_provider_with_dpop_binds_the_tokens_and_every_use_carries_a_proof_of_the_key() {
    let (world, session) = signed_in_with_dpop(None);
    let jkt = world.bound_jkt().expect("the provider bound the tokens to a key");
    let exchange = world.request_to(CodeExchange, 0, 0);
    let (header, claims) = proof_of(&exchange);
    assert_eq!((header["typ"].as_str(), header["alg"].as_str()), (Some("dpop+jwt"), Some("ES256")));
    assert!(header["jwk"].get("d").is_none(), "no private part");
    assert_eq!(claims["htm"], "POST");
    assert_eq!(claims["htu"], format!("{ISSUER}/token"));
    assert!(claims.get("ath").is_none(), "no token yet");
    let user_info = world.request_to(UserInfo, 0, 0);
    assert_eq!(proof_of(&user_info).1["htm"], "GET");
    assert_eq!(proof_of(&user_info).1["htu"], format!("{ISSUER}/me"));
    assert!(matches!(session.state(), AuthState::SignedIn(ref user) if user.name.as_deref() == Some("Alice Liddell")));

    let from = world.request_count();
    let response = fetch(&world, &session, ApiRequest::post(&format!("{API}/orders?page=2")).body("x")).expect("sent");
    assert_eq!(response.status, 200, "the resource server took the proof");
    let (_, claims) = proof_of(&world.request_to(Api, from, 0));
    assert_eq!(
        (claims["htm"].as_str(), claims["htu"].as_str()),
        (Some("POST"), Some(format!("{API}/orders").as_str()))
    );
    let token = world.access_tokens()[0].clone();
    use sha2::Digest;
    assert_eq!(claims["ath"], B64.encode(sha2::Sha256::digest(token.as_bytes())));

    // The renewal: the bound refresh token with a proof of the same key (or the provider refuses).
    let from = world.request_count();
    world.advance(TTL);
    let renewed = crate::access_token(&world, &session).expect("renewed");
    assert_eq!(renewed, world.access_tokens()[1]);
    let (header, _) = proof_of(&world.request_to(Refresh, from, 0));
    assert_eq!(header["jwk"], proof_of(&exchange).0["jwk"], "the same key");
    assert_eq!(thumbprint(&header["jwk"]), jkt, "the key the provider bound the tokens to");

    let jtis: Vec<String> = world
        .requests
        .borrow()
        .iter()
        .filter(|seen| seen.proof.is_some())
        .map(|seen| proof_of(seen).1["jti"].as_str().expect("jti").to_owned())
        .collect();
    assert_eq!(jtis.len(), 4);
    assert!(jtis.iter().all(|jti| jti.len() == 22), "{jtis:?}");
    assert!((1..jtis.len()).all(|i| !jtis[..i].contains(&jtis[i])), "each jti once: {jtis:?}");
}

/// §8: the provider's first answer asks for a nonce (400 `use_dpop_nonce` and `DPoP-Nonce`);
/// the exchange is sent once more with it, and UserInfo on the same server uses it from the
/// start, with no second refusal.
#[test]
fn a_provider_nonce_costs_one_retry_and_is_used_from_then_on() {
    let (world, session) = signed_in_with_dpop(Some("n-1"));
    let exchanges: Vec<Seen> = world.requests.borrow().iter().filter(|s| s.endpoint == CodeExchange).cloned().collect();
    assert_eq!(exchanges.len(), 2, "one retry");
    assert!(proof_of(&exchanges[0]).1.get("nonce").is_none());
    assert_eq!(proof_of(&exchanges[1]).1["nonce"], "n-1");
    assert_ne!(proof_of(&exchanges[0]).1["jti"], proof_of(&exchanges[1]).1["jti"], "a new proof");
    let user_info: Vec<Seen> = world.requests.borrow().iter().filter(|s| s.endpoint == UserInfo).cloned().collect();
    assert_eq!(user_info.len(), 1, "the nonce was known already");
    assert_eq!(proof_of(&user_info[0]).1["nonce"], "n-1");
    // The provider moves on to a new nonce: the next request learns it and uses it.
    world.rotate_dpop_nonce("n-2");
    let from = world.request_count();
    let reloaded = session.clone();
    let user = world.run(async move { reloaded.reload_profile().await }).expect("answered");
    assert!(user.is_ok(), "{user:?}");
    assert_eq!(world.endpoints(from), [UserInfo, UserInfo]);
    assert_eq!(proof_of(&world.request_to(UserInfo, from, 1)).1["nonce"], "n-2");
}

/// §8: a server that asks for a nonce again right after its own is not asked a third time:
/// its refusal is the answer, and the sign-in fails saying so.
#[test]
fn a_second_request_for_a_nonce_is_the_answer() {
    let world = World::new();
    world.offer_dpop(Some("n-1"));
    let callback = world.callback_of_a_sign_in();
    // Each nonce the provider gives is stale by the time the proof with it arrives.
    world.fault(CodeExchange, Fault::UseDpopNonce("n-2"));
    world.fault(CodeExchange, Fault::UseDpopNonce("n-3"));
    let from = world.request_count();
    let session = world.open(&callback);
    assert_eq!(world.endpoints(from), [Keys, CodeExchange, Config, CodeExchange], "one retry, no third try");
    assert_eq!(proof_of(&world.request_to(CodeExchange, from, 1)).1["nonce"], "n-2");
    assert!(
        matches!(
            session.state(),
            AuthState::Failed(AuthError::TokenRejected { status: 400, error: Some(ref error), .. }) if error == "use_dpop_nonce"
        ),
        "{:?}",
        session.state()
    );
}

/// §9: a resource server's 401 with `DPoP error="use_dpop_nonce"` and a nonce gets one retry
/// carrying it; the app sees only the final answer.
#[test]
fn a_resource_server_nonce_costs_one_retry() {
    let (world, session) = signed_in_with_dpop(None);
    world.require_api_dpop_nonce("api-n");
    let from = world.request_count();
    let response = fetch(&world, &session, ApiRequest::get(&format!("{API}/me"))).expect("sent");
    assert_eq!(response.status, 200);
    assert_eq!(world.endpoints(from), [Api, Api]);
    assert!(proof_of(&world.request_to(Api, from, 0)).1.get("nonce").is_none());
    assert_eq!(proof_of(&world.request_to(Api, from, 1)).1["nonce"], "api-n");
    let from = world.request_count();
    fetch(&world, &session, ApiRequest::get(&format!("{API}/me"))).expect("sent");
    assert_eq!(world.endpoints(from), [Api], "the newest nonce is kept");
}

/// §5: a provider that answers a Bearer token to a request with a proof gave a token anyone
/// who copies it can use: refused with a message, and its refresh token revoked.
#[test]
fn a_bearer_answer_to_a_proof_is_refused_and_its_refresh_token_revoked() {
    let world = World::new();
    world.offer_dpop(None);
    world.answer_bearer_to_proofs();
    let callback = world.callback_of_a_sign_in();
    let session = world.open(&callback);
    match session.state() {
        AuthState::Failed(AuthError::InvalidTokenResponse(detail)) => {
            assert!(detail.contains("did not bind the token to this page's DPoP key"), "{detail}")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(world.revoked().len(), 1, "the refresh token it brought is revoked");
}

/// `"dpop": true` refuses a provider that takes no proofs before the person is sent
/// anywhere; `"dpop": false` sends none to one that does, and gets Bearer tokens.
#[test]
fn the_config_can_require_dpop_or_turn_it_off() {
    let world = World::new();
    world.configure(r#","dpop":true"#);
    let home = world.open("/");
    let from = world.request_count();
    home.sign_in("/");
    world.settle();
    assert!(!world.endpoints(from).contains(&Authorize), "nobody left: {:?}", world.endpoints(from));
    assert!(
        matches!(home.state(), AuthState::Failed(AuthError::Config(ref detail)) if detail.contains("\"dpop\": true")),
        "{:?}",
        home.state()
    );

    let world = World::new();
    world.offer_dpop(None);
    world.configure(r#","dpop":false"#);
    world.signed_in();
    assert!(world.requests.borrow().iter().all(|seen| seen.proof.is_none()));
    assert_eq!(world.bound_jkt(), None);
}

/// A page with no WebCrypto (not a secure context) cannot make a key: with `"auto"` it signs
/// in with Bearer tokens, with `true` it refuses to exchange the code unbound.
#[test]
fn without_webcrypto_auto_goes_without_and_required_refuses() {
    let world = World::new();
    world.offer_dpop(None);
    world.without_webcrypto();
    world.signed_in();
    assert!(world.requests.borrow().iter().all(|seen| seen.proof.is_none()));

    let world = World::new();
    world.offer_dpop(None);
    world.configure(r#","dpop":true"#);
    world.without_webcrypto();
    let callback = world.callback_of_a_sign_in();
    let from = world.request_count();
    let session = world.open(&callback);
    assert!(!world.endpoints(from).contains(&CodeExchange), "the code was not sent");
    assert!(
        matches!(session.state(), AuthState::Failed(AuthError::Config(ref detail)) if detail.contains("secure context")),
        "{:?}",
        session.state()
    );
}

/// §8, §9: the provider's nonce and the resource server's are each their server's: the first
/// API proof carries neither (not the provider's), and once each is known, UserInfo and a
/// refresh use the provider's and the API the API's, with no request asked twice. A nonce the
/// provider changes costs the next refresh one retry, and a second request for a nonce after
/// that retry keeps the session (nothing was spent).
#[test]
fn each_server_gets_its_own_nonce_and_a_changed_one_costs_one_retry() {
    let (world, session) = signed_in_with_dpop(Some("n-1"));
    world.require_api_dpop_nonce("api-n");
    let from = world.request_count();
    fetch(&world, &session, ApiRequest::get(&format!("{API}/me"))).expect("sent");
    assert_eq!(world.endpoints(from), [Api, Api]);
    assert!(proof_of(&world.request_to(Api, from, 0)).1.get("nonce").is_none(), "not the provider's nonce");
    let from = world.request_count();
    fetch(&world, &session, ApiRequest::get(&format!("{API}/me"))).expect("sent");
    let reloaded = session.clone();
    assert!(world.run(async move { reloaded.reload_profile().await }).expect("answered").is_ok());
    assert_eq!(world.endpoints(from), [Api, UserInfo], "each server's own nonce, known");
    assert_eq!(proof_of(&world.request_to(Api, from, 0)).1["nonce"], "api-n");
    assert_eq!(proof_of(&world.request_to(UserInfo, from, 0)).1["nonce"], "n-1");

    world.rotate_dpop_nonce("n-2");
    let from = world.request_count();
    world.advance(TTL);
    crate::access_token(&world, &session).expect("renewed");
    assert_eq!(world.endpoints(from), [Refresh, Refresh, Keys], "the changed nonce, learnt from one refusal");
    assert_eq!(proof_of(&world.request_to(Refresh, from, 1)).1["nonce"], "n-2");

    // A nonce asked for again after the retry: a passing fault, the session keeps its tokens.
    // (Hidden: only this caller renews, not the page's timer, which would try again in 10 s.)
    world.set_hidden(true);
    world.fault(Refresh, Fault::UseDpopNonce("n-3"));
    world.fault(Refresh, Fault::UseDpopNonce("n-4"));
    let from = world.request_count();
    world.advance(TTL - 30);
    let outcome = crate::access_token(&world, &session);
    assert_eq!(world.endpoints(from), [Refresh, Refresh]);
    assert_ne!(outcome, Err(AuthError::SessionExpired), "not the end of the session");
    assert!(matches!(session.state(), AuthState::SignedIn(_)), "{:?}", session.state());
    // After the back-off, a renewal with the nonce the last refusal gave.
    world.advance(10);
    let from = world.request_count();
    assert!(crate::access_token(&world, &session).is_ok());
    assert_eq!(proof_of(&world.request_to(Refresh, from, 0)).1["nonce"], "n-4");
}

/// RFC 9449 §7.1: a resource server's `DPoP error="invalid_token"` gets the one renewal and the
/// one retry, whose proof hashes the new token.
#[test]
fn a_dpop_invalid_token_challenge_gets_one_renewal_and_a_retry_with_the_new_token() {
    let (world, session) = signed_in_with_dpop(None);
    world.fault(Api, Fault::Challenge(401, r#"DPoP algs="ES256", error="invalid_token""#));
    let from = world.request_count();
    let response = fetch(&world, &session, ApiRequest::get(&format!("{API}/me"))).expect("sent");
    assert_eq!(response.status, 200);
    assert_eq!(world.endpoints(from), [Api, Refresh, Keys, Api]);
    let renewed = world.access_tokens()[1].clone();
    assert_eq!(world.request_to(Api, from, 1).bearer.as_deref(), Some(renewed.as_str()));
    assert_eq!(proof_of(&world.request_to(Api, from, 1)).1["ath"], ath(&renewed));
}

/// A reload signs in again silently: the new page makes a key of its own, and the provider
/// binds the new tokens to it.
#[test]
fn a_restored_page_binds_its_tokens_to_a_key_of_its_own() {
    let (world, _session) = signed_in_with_dpop(None);
    let first = world.bound_jkt().expect("bound");
    let start = world.request_count();
    let reload = world.open("/orders");
    assert_eq!(reload.state(), AuthState::Restoring);
    let restored = world.open(&world.approve());
    assert!(matches!(restored.state(), AuthState::SignedIn(_)), "{:?}", restored.state());
    let exchange = world.request_to(CodeExchange, start, 0);
    let second = world.bound_jkt().expect("bound");
    assert_eq!(thumbprint(&proof_of(&exchange).0["jwk"]), second);
    assert_ne!(first, second, "a new key in the new page");
}

/// With a key, a request the browser will not send is still the app's mistake, and nothing left.
#[test]
fn with_dpop_a_request_the_browser_will_not_send_is_still_the_apps_mistake() {
    let (world, session) = signed_in_with_dpop(None);
    world.fault(Api, Fault::RefusedBeforeSending);
    let refused = fetch(&world, &session, ApiRequest::get(&format!("{API}/me")).header("Bad Name", "x"));
    assert!(matches!(refused, Err(AuthError::ApiRequestInvalid(_))), "{refused:?}");
}

/// Fetch upper-cases `post` as it sends it; the proof names the method sent (§4.3 compares
/// exactly), and the resource server takes it.
#[test]
fn a_method_written_in_lower_case_is_named_as_sent() {
    let (world, session) = signed_in_with_dpop(None);
    let from = world.request_count();
    let request = ApiRequest::new("post", &format!("{API}/orders"));
    assert_eq!(request.method(), "POST");
    let response = fetch(&world, &session, request).expect("sent");
    assert_eq!(response.status, 200);
    assert_eq!(proof_of(&world.request_to(Api, from, 0)).1["htm"], "POST");
    assert_eq!(ApiRequest::new("Patch", "/x").method(), "Patch", "others as written, as fetch sends them");
}

/// Reloads the page at `/orders` (a silent sign-in the provider approves) and gives the
/// code exchanges the new page made: the first proof's nonce says what had been kept.
fn reload_and_exchanges(world: &crate::world::TestWorld) -> (Session<Tab>, Vec<Seen>) {
    let start = world.request_count();
    world.open("/orders");
    let restored = world.open(&world.approve());
    let exchanges = world.requests.borrow()[start..].iter().filter(|s| s.endpoint == CodeExchange).cloned().collect();
    (restored, exchanges)
}

/// The nonce each request's proof carried, if any.
fn nonces_sent(requests: &[Seen]) -> Vec<Option<String>> {
    requests.iter().map(|seen| proof_of(seen).1["nonce"].as_str().map(str::to_owned)).collect()
}

/// The key the app keeps its DPoP nonces under (in the storage all tabs share), if any holds
/// `nonce`; none may be in the tab's own storage.
fn kept_with(world: &World, nonce: &str) -> Option<String> {
    let in_tab = world.tab().storage.borrow().values().any(|value| value.contains(nonce));
    assert!(!in_tab, "a nonce in the tab's own storage: {:?}", world.tab().storage.borrow());
    world.shared_storage.borrow().iter().find(|(_, value)| value.contains(nonce)).map(|(key, _)| key.clone())
}

/// §8: the nonce the provider gave is kept (where every tab reads it), so the page a reload brings back sends
/// it with its first token request and needs no retry (a round trip saved on every reload).
/// One the provider has since changed costs the one retry it always did.
#[test]
fn a_reloaded_page_sends_the_nonce_the_provider_gave_before_and_is_not_refused() {
    let (world, _session) = signed_in_with_dpop(Some("n-1"));
    let (restored, exchanges) = reload_and_exchanges(&world);
    assert!(matches!(restored.state(), AuthState::SignedIn(_)), "{:?}", restored.state());
    assert_eq!(exchanges.len(), 1, "no retry");
    assert_eq!(proof_of(&exchanges[0]).1["nonce"], "n-1");

    world.rotate_dpop_nonce("n-2");
    let (restored, exchanges) = reload_and_exchanges(&world);
    assert!(matches!(restored.state(), AuthState::SignedIn(_)), "{:?}", restored.state());
    assert_eq!(exchanges.len(), 2, "the old nonce, refused once");
    assert_eq!(proof_of(&exchanges[0]).1["nonce"], "n-1");
    assert_eq!(proof_of(&exchanges[1]).1["nonce"], "n-2");
}

/// §8: a nonce is a public value, kept where every tab of the app reads it: a new tab's
/// silent sign-in sends the one another tab learnt with its first token request, and needs
/// no retry (the round trip a new tab used to pay).
#[test]
fn a_new_tab_sends_the_nonce_another_tab_learnt_and_is_not_refused() {
    let (world, _session) = signed_in_with_dpop(Some("n-1"));
    world.new_tab();
    let (restored, exchanges) = reload_and_exchanges(&world);
    assert!(matches!(restored.state(), AuthState::SignedIn(_)), "{:?}", restored.state());
    assert_eq!(nonces_sent(&exchanges), [Some("n-1".to_owned())], "one request, with the nonce");
}

/// The kept nonces go with the session: after a sign-out, the next person's sign-in in the
/// tab starts without the last one's (a server may tie its nonces to a session). A stored
/// value that is not a fresh, readable record of nonces is no nonce, and no failure.
#[test]
fn a_sign_out_forgets_the_kept_nonces_and_an_unreadable_copy_is_none() {
    let (world, session) = signed_in_with_dpop(Some("n-1"));
    session.sign_out();
    world.advance(5);
    assert_eq!(kept_with(&world, "n-1"), None, "{:?}", world.shared_storage.borrow());
    let start = world.request_count();
    let session = world.signed_in();
    assert!(matches!(session.state(), AuthState::SignedIn(_)));
    let first = world.requests.borrow()[start..].iter().find(|s| s.endpoint == CodeExchange).cloned().expect("sent");
    assert!(proof_of(&first).1.get("nonce").is_none(), "no nonce from the session before");
    let key = kept_with(&world, "n-1").expect("the new session's nonce is kept");

    let now = world.now();
    let record = |signal: &str, nonces: &str| format!(r#"{{"signal":{signal},"nonces":[{nonces}]}}"#);
    let nonce = |origin: &str, nonce: &str, given_at: u64| {
        format!(r#"{{"origin":"{origin}","nonce":"{nonce}","given_at":{given_at}}}"#)
    };
    let ours = nonce(ISSUER, "n-1", now);
    // The control: a record as the session writes it is read back, and saves the retry.
    world.shared_storage.borrow_mut().insert(key.clone(), record(r#""1""#, &ours));
    let (_, exchanges) = reload_and_exchanges(&world);
    assert_eq!((exchanges.len(), proof_of(&exchanges[0]).1["nonce"].as_str()), (1, Some("n-1")), "the control");

    let newer: Vec<String> = (0..8).map(|i| nonce(&format!("https://api{i}.example"), "a", now)).collect();
    let hostile = [
        "[\"n-1\"]".to_owned(),
        "{\"nonces\":7}".to_owned(),
        "not JSON".to_owned(),
        record(r#""1""#, &nonce(ISSUER, &"n".repeat(513), now)),
        record(r#""1""#, &nonce(ISSUER, "n\\\"-1", now)),
        // From before a sign-out in another tab.
        record("null", &ours),
        // Given ahead of the clock: none outlives its five minutes.
        record(r#""1""#, &nonce(ISSUER, "n-1", now + 3600)),
        // Older than the eight newest.
        record(r#""1""#, &format!("{},{}", newer.join(","), nonce(ISSUER, "n-1", now - 1))),
    ];
    for junk in hostile {
        world.shared_storage.borrow_mut().insert(key.clone(), junk.clone());
        let (restored, exchanges) = reload_and_exchanges(&world);
        assert!(matches!(restored.state(), AuthState::SignedIn(_)), "{junk}: {:?}", restored.state());
        assert_eq!(exchanges.len(), 2, "{junk}: no nonce, so one retry");
        assert!(proof_of(&exchanges[0]).1.get("nonce").is_none(), "{junk}");
        let stored = world.shared_storage.borrow().get(&key).cloned().unwrap_or_default();
        assert!(stored != junk && stored.contains("n-1"), "{junk}: the retry's nonce is kept anew: {stored}");
    }
    // Two for one server: the newer is sent, and the one the server asks for replaces both.
    let twice = format!("{},{}", nonce(ISSUER, "a-stale", world.now()), nonce(ISSUER, "n-1", world.now() - 1));
    world.shared_storage.borrow_mut().insert(key.clone(), record(r#""1""#, &twice));
    let (restored, exchanges) = reload_and_exchanges(&world);
    assert!(matches!(restored.state(), AuthState::SignedIn(_)), "{:?}", restored.state());
    let sent = nonces_sent(&exchanges);
    assert_eq!(sent, [Some("a-stale".to_owned()), Some("n-1".to_owned())]);
    // Nor do one server's many take the others' places among the eight.
    let api: Vec<String> = (0..8).map(|i| nonce(API, &format!("a-{i}"), world.now())).collect();
    let crowded = format!("{},{}", api.join(","), nonce(ISSUER, "n-1", world.now() - 1));
    world.shared_storage.borrow_mut().insert(key.clone(), record(r#""1""#, &crowded));
    let (_, exchanges) = reload_and_exchanges(&world);
    assert_eq!((exchanges.len(), proof_of(&exchanges[0]).1["nonce"].as_str()), (1, Some("n-1")), "{crowded}");
}

/// A restore that ends signed out (another tab signed out while it was away, or the app was
/// redeployed for another client) ends the session its exchange began: the nonce that
/// exchange learnt is not kept for the next sign-in.
#[test]
fn a_restore_that_is_not_taken_up_keeps_no_nonce() {
    // Redeployed: the previous page's nonce, sent and accepted by the exchange, goes too.
    let (world, _session) = signed_in_with_dpop(Some("n-1"));
    world.configure_client_id("another-spa");
    let (back, exchanges) = reload_and_exchanges(&world);
    assert_eq!(back.state(), AuthState::SignedOut);
    assert_eq!(exchanges.len(), 1);
    assert_eq!(kept_with(&world, "n-1"), None, "{:?}", world.shared_storage.borrow());

    // A sign-out in another tab while this one was away restoring.
    let (world, a) = signed_in_with_dpop(Some("n-1"));
    let callback = world.restore_overtaken_by_a_sign_out(&a);
    let start = world.request_count();
    let b = world.open(&callback);
    assert_eq!(b.state(), AuthState::SignedOut, "the sign-out stands");
    assert!(world.endpoints(start).contains(&CodeExchange), "the exchange learnt the nonce");
    assert_eq!(kept_with(&world, "n-1"), None, "{:?}", world.shared_storage.borrow());
}

/// An API call still under way when another tab signs out is asked for its server's nonce
/// after this tab forgot the kept ones: the nonce is not kept again, and the access token is
/// not sent again after the sign-out (the call ends signed out, as one started then would).
#[test]
fn a_call_under_way_at_a_sign_out_is_not_sent_again_nor_its_nonce_kept() {
    let (world, session) = signed_in_with_dpop(None);
    world.require_api_dpop_nonce("api-n");
    world.fault(Api, Fault::Held);
    let start = world.request_count();
    let caller = session.clone();
    let call = world.spawn(async move { caller.fetch(&ApiRequest::get(&format!("{API}/orders"))).await });
    world.settle();
    // Another tab signs out (the marker goes, the signal changes): this one hears it.
    world.shared_storage.borrow_mut().remove("leptos-oidc:session");
    world.shared_storage.borrow_mut().insert("leptos-oidc:signed-out".into(), "1".into());
    session.shared_storage_changed(Some("leptos-oidc:signed-out"));
    assert_eq!(session.state(), AuthState::SignedOut);
    // The held answer is the API's request for its nonce, with the nonce.
    world.release();
    assert_eq!(call.take().map(|answer| answer.map(|r| r.status)), Some(Err(AuthError::NotSignedIn)));
    let to_api = world.endpoints(start).into_iter().filter(|e| *e == Api).count();
    assert_eq!(to_api, 1, "not sent again: {:?}", world.endpoints(start));
    assert_eq!(kept_with(&world, "api-n"), None, "{:?}", world.shared_storage.borrow());
}

/// A page whose key was made before another tab's sign-out, and which has not heard of it
/// yet (storage events come later), keeps what it learns under its own session's signal: the
/// next session, in a new tab, does not send that session's nonces.
#[test]
fn a_nonce_kept_by_a_page_that_missed_a_sign_out_is_not_sent_in_the_next_session() {
    let (world, session) = signed_in_with_dpop(None);
    world.require_api_dpop_nonce("api-n");
    // Another tab signs out; this page has not heard of it.
    world.shared_storage.borrow_mut().remove("leptos-oidc:session");
    world.shared_storage.borrow_mut().insert("leptos-oidc:signed-out".into(), "1".into());
    let caller = session.clone();
    world.spawn(async move { caller.fetch(&ApiRequest::get(&format!("{API}/orders"))).await });
    world.settle();
    assert!(kept_with(&world, "api-n").is_some(), "kept, under the signal of the session that learnt it");
    world.new_tab();
    let next = world.signed_in();
    let start = world.request_count();
    world.spawn(async move { next.fetch(&ApiRequest::get(&format!("{API}/orders"))).await });
    world.settle();
    assert_eq!(proof_of(&world.request_to(Api, start, 0)).1.get("nonce"), None, "a nonce from before the sign-out");
}

/// localStorage outlives the browser: a kept record with nothing left to offer (older than
/// five minutes, or from before a sign-out) is removed when a page reads it, not left on disk.
#[test]
fn a_kept_record_with_nothing_to_offer_is_removed_when_read() {
    for signal in ["null", r#""7""#] {
        let (world, _session) = signed_in_with_dpop(None);
        let stale = world.now() - 400;
        let record = format!(
            r#"{{"signal":{signal},"nonces":[{{"origin":"{ISSUER}","nonce":"old","given_at":{}}}]}}"#,
            if signal == "null" { stale } else { world.now() }
        );
        world.shared_storage.borrow_mut().insert("leptos-oidc:dpop-nonces".into(), record);
        let (_, exchanges) = reload_and_exchanges(&world);
        assert_eq!(nonces_sent(&exchanges), [None], "{signal}");
        assert_eq!(kept_with(&world, "old"), None, "{signal}: {:?}", world.shared_storage.borrow());
    }
}

/// A kept nonce is offered to a new page for five minutes only (it is still sent just before):
/// after that, servers have moved on, and the reload asks without one, as it always did.
#[test]
fn a_nonce_kept_longer_than_five_minutes_is_not_sent() {
    let (world, _session) = signed_in_with_dpop(Some("n-1"));
    world.set_hidden(true);
    world.advance(299);
    world.set_hidden(false);
    let (_, exchanges) = reload_and_exchanges(&world);
    assert_eq!((exchanges.len(), proof_of(&exchanges[0]).1["nonce"].as_str()), (1, Some("n-1")), "at 299 s");
    // The nonce was accepted, not given anew: it is as old as when it was given.
    world.set_hidden(true);
    world.advance(2);
    world.set_hidden(false);
    let (restored, exchanges) = reload_and_exchanges(&world);
    assert!(matches!(restored.state(), AuthState::SignedIn(_)), "{:?}", restored.state());
    assert_eq!(exchanges.len(), 2, "asked for the nonce again");
    assert!(proof_of(&exchanges[0]).1.get("nonce").is_none());
}

/// §4.3 step 10: a server may refuse a nonce that is no longer its newest as an invalid proof,
/// without naming the newest. A kept nonce (older than the server's newest after a rotation)
/// then costs a request without it, and the one the server asks for: never the sign-in.
/// The same holds for a resource server's nonce.
#[test]
fn a_nonce_refused_as_an_invalid_proof_is_dropped_and_the_request_sent_again() {
    let (world, _session) = signed_in_with_dpop(Some("n-1"));
    world.refuse_stale_dpop_nonces();
    world.rotate_dpop_nonce("n-2");
    let (restored, exchanges) = reload_and_exchanges(&world);
    assert!(matches!(restored.state(), AuthState::SignedIn(_)), "{:?}", restored.state());
    let sent = nonces_sent(&exchanges);
    assert_eq!(sent, [Some("n-1".to_owned()), None, Some("n-2".to_owned())]);
    assert!(kept_with(&world, "n-2").is_some() && kept_with(&world, "n-1").is_none());

    world.require_api_dpop_nonce("a-1");
    let orders = || ApiRequest::get(&format!("{API}/orders"));
    assert_eq!(fetch(&world, &restored, orders()).map(|r| r.status), Ok(200));
    world.require_api_dpop_nonce("a-2");
    let start = world.request_count();
    assert_eq!(fetch(&world, &restored, orders()).map(|r| r.status), Ok(200));
    let calls: Vec<Seen> = (0..3).map(|i| world.request_to(Api, start, i)).collect();
    let sent = nonces_sent(&calls);
    assert_eq!(sent, [Some("a-1".to_owned()), None, Some("a-2".to_owned())]);
}

/// Each server's nonce is kept, and a reloaded page sends each only to the server that gave
/// it (§9: a resource server's nonce is its own).
#[test]
fn a_reloaded_page_sends_each_server_the_nonce_it_gave() {
    let (world, session) = signed_in_with_dpop(Some("n-1"));
    world.require_api_dpop_nonce("a-1");
    let orders = || ApiRequest::get(&format!("{API}/orders"));
    assert_eq!(fetch(&world, &session, orders()).map(|r| r.status), Ok(200));
    let (restored, exchanges) = reload_and_exchanges(&world);
    assert_eq!((exchanges.len(), proof_of(&exchanges[0]).1["nonce"].as_str()), (1, Some("n-1")));
    let start = world.request_count();
    assert_eq!(fetch(&world, &restored, orders()).map(|r| r.status), Ok(200));
    assert_eq!(world.endpoints(start), [Api], "no retry");
    assert_eq!(proof_of(&world.request_to(Api, start, 0)).1["nonce"], "a-1");
}

/// A session the provider ends (its refresh token refused) takes the kept nonces with it.
#[test]
fn a_session_the_provider_ends_takes_its_kept_nonces_with_it() {
    let (world, session) = signed_in_with_dpop(Some("n-1"));
    assert!(kept_with(&world, "n-1").is_some(), "kept while signed in");
    world.fault(Refresh, Fault::Answer(400, r#"{"error":"invalid_grant"}"#));
    world.advance(TTL);
    assert_eq!(session.state(), AuthState::Failed(AuthError::SessionExpired));
    assert_eq!(kept_with(&world, "n-1"), None, "{:?}", world.shared_storage.borrow());
}

/// A silent restore the provider refuses (its session ended elsewhere) leaves this browser
/// signed out, and the kept nonces, which every tab reads, go with the marker.
#[test]
fn a_refused_restore_takes_the_kept_nonces_with_it() {
    let (world, _session) = signed_in_with_dpop(Some("n-1"));
    world.end_provider_session();
    world.new_tab();
    world.open("/orders");
    let back = world.open(&world.approve());
    assert_eq!(back.state(), AuthState::SignedOut);
    assert_eq!(world.marker(), None, "signed out");
    assert_eq!(kept_with(&world, "n-1"), None, "{:?}", world.shared_storage.borrow());
}

/// The second try after an `invalid_dpop_proof` goes only where it can help: with the new
/// nonce the refusal gave; not after a nonce this very call was just given, nor when the
/// refusal names the nonce the proof carried (the proof was refused for something else, and
/// the refusal is the answer).
#[test]
fn a_proof_refused_as_invalid_is_sent_again_only_where_a_nonce_could_be_the_reason() {
    // With the new nonce the refusal gave.
    let (world, _session) = signed_in_with_dpop(Some("n-1"));
    world.rotate_dpop_nonce("n-2");
    world.fault(CodeExchange, Fault::InvalidDpopProof(Some("n-2")));
    let (restored, exchanges) = reload_and_exchanges(&world);
    assert!(matches!(restored.state(), AuthState::SignedIn(_)), "{:?}", restored.state());
    let sent = nonces_sent(&exchanges);
    assert_eq!(sent, [Some("n-1".to_owned()), Some("n-2".to_owned())]);

    // The refusal names the nonce the proof carried: no second try.
    let (world, _session) = signed_in_with_dpop(Some("n-1"));
    world.fault(CodeExchange, Fault::InvalidDpopProof(Some("n-1")));
    let (_, exchanges) = reload_and_exchanges(&world);
    assert_eq!(exchanges.len(), 1, "the refusal is the answer");

    // A nonce the call was just given, refused: the refusal is the answer, not a third try.
    let world = World::new();
    world.offer_dpop(None);
    let callback = world.callback_of_a_sign_in();
    world.fault(CodeExchange, Fault::UseDpopNonce("n-1"));
    world.fault(CodeExchange, Fault::InvalidDpopProof(None));
    let start = world.request_count();
    let session = world.open(&callback);
    assert!(
        matches!(session.state(), AuthState::Failed(AuthError::TokenRejected { status: 400, ref error, .. }) if error.as_deref() == Some("invalid_dpop_proof")),
        "{:?}",
        session.state()
    );
    assert_eq!(world.endpoints(start).iter().filter(|e| **e == CodeExchange).count(), 2);
}
