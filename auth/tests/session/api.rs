//! `Session::fetch`, the API helper: the token goes only where the config allows, is
//! renewed first when due, and a resource server's `invalid_token` gets exactly one renewal
//! and one retry; every other answer reaches the app as it came.

use leptos_oidc_auth::session::ApiRequest;
use leptos_oidc_auth::{AuthError, AuthState, HttpResponse, Session};

use crate::world::{API, Endpoint, Fault, ORIGIN, TTL, Tab, World};
use Endpoint::*;

fn fetch(world: &World, session: &Session<Tab>, request: ApiRequest) -> Result<HttpResponse, AuthError> {
    let session = session.clone();
    world.run(async move { session.fetch(&request).await }).expect("answered")
}

/// Signed in, with the config allowing [`API`].
fn signed_in_with_the_api() -> (crate::world::TestWorld, Session<Tab>) {
    let world = World::new();
    world.configure(&format!(r#","api_origins":["{API}"],"app":{{"orders":"{API}/orders"}}"#));
    let session = world.signed_in();
    (world, session)
}

#[test]
fn a_request_leaves_with_the_token_in_place_of_any_authorization_and_its_answer_comes_back() {
    let (world, session) = signed_in_with_the_api();
    let from = world.request_count();
    let request = ApiRequest::post(&format!("{API}/orders"))
        .header("Authorization", "Basic c3RvbGVu")
        .header("X-Trace", "1")
        .json(&serde_json::json!({"item": "tea"}))
        .expect("json");
    let response = fetch(&world, &session, request.clone()).expect("sent");
    assert_eq!((response.status, response.body.as_str()), (200, r#"{"sub":"alice"}"#));
    assert_eq!(response.content_type(), "application/json");
    assert_eq!(world.endpoints(from), [Api]);
    let seen = world.request_to(Api, from, 0);
    assert_eq!(seen.url, format!("{API}/orders"));
    assert_eq!(
        seen.bearer.as_deref(),
        Some(world.access_tokens()[0].as_str()),
        "the session's token, not the app's header"
    );
    assert_eq!(seen.api.as_ref(), Some(&request), "method, headers and body as the app made them");
    let names: Vec<&str> = request.headers().iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, ["X-Trace", "Content-Type"], "the app's Authorization header is not kept");
}

#[test]
fn a_path_goes_to_the_apps_own_origin_with_no_config_needed() {
    let world = World::new();
    let session = world.signed_in();
    let from = world.request_count();
    let response = fetch(&world, &session, ApiRequest::get("/api/me")).expect("sent");
    assert_eq!(response.status, 200);
    assert_eq!(world.request_to(Api, from, 0).url, format!("{ORIGIN}/api/me"));
}

#[test]
fn a_request_for_an_origin_not_allowed_is_not_sent() {
    let (world, session) = signed_in_with_the_api();
    let from = world.request_count();
    for (url, origin) in [
        ("https://elsewhere.example/x", "https://elsewhere.example"),
        ("//elsewhere.example/x", "https://elsewhere.example"),
        // A backslash is a slash to the URL parser of http(s) URLs.
        ("/\\elsewhere.example/x", "https://elsewhere.example"),
        ("https://app.example@elsewhere.example/", "https://elsewhere.example"),
        ("https://api.example.evil/x", "https://api.example.evil"),
        ("http://api.example/x", "http://api.example"),
        ("https://api.example:8443/x", "https://api.example:8443"),
        ("data:text/plain,x", "null"),
        ("about:blank", "null"),
    ] {
        let refused = fetch(&world, &session, ApiRequest::get(url));
        assert_eq!(refused, Err(AuthError::ApiOriginNotAllowed(origin.into())), "{url}");
    }
    assert_eq!(world.request_count(), from, "nothing left the tab");
    assert!(matches!(session.state(), AuthState::SignedIn(_)), "a refused request changes nothing else");
}

#[test]
fn a_rejected_token_gets_one_renewal_and_one_retry_with_the_new_token() {
    let (world, session) = signed_in_with_the_api();
    let from = world.request_count();
    world.fault(Api, Fault::InvalidToken);
    let response = fetch(&world, &session, ApiRequest::get(&format!("{API}/me"))).expect("sent");
    assert_eq!(response.status, 200, "the retry's answer");
    assert_eq!(world.endpoints(from), [Api, Refresh, Keys, Api]);
    let tokens = world.access_tokens();
    assert_eq!(world.request_to(Api, from, 0).bearer.as_ref(), Some(&tokens[0]));
    assert_eq!(world.request_to(Api, from, 1).bearer.as_ref(), Some(&tokens[1]), "the renewed token");
    assert_eq!(tokens.len(), 2, "one renewal");
}

#[test]
fn a_token_rejected_again_after_the_renewal_is_answered_as_it_came() {
    let (world, session) = signed_in_with_the_api();
    let from = world.request_count();
    world.fault(Api, Fault::InvalidToken);
    world.fault(Api, Fault::InvalidToken);
    let response = fetch(&world, &session, ApiRequest::get(&format!("{API}/me"))).expect("sent");
    assert_eq!(response.status, 401);
    assert_eq!(response.header("WWW-Authenticate"), Some(r#"Bearer realm="api", error="invalid_token""#));
    assert_eq!(world.endpoints(from), [Api, Refresh, Keys, Api], "one renewal, one retry, no more");
}

#[test]
fn a_rejected_token_with_no_way_to_renew_is_answered_as_it_came() {
    let world = World::new();
    world.without_refresh_tokens();
    let session = world.signed_in();
    let from = world.request_count();
    world.fault(Api, Fault::InvalidToken);
    let response = fetch(&world, &session, ApiRequest::get("/api/me")).expect("sent");
    assert_eq!(response.status, 401);
    assert_eq!(world.endpoints(from), [Api]);
    assert!(matches!(session.state(), AuthState::SignedIn(_)), "the API's word does not end the session");
}

#[test]
fn a_renewal_refused_after_a_rejected_token_ends_the_session() {
    let (world, session) = signed_in_with_the_api();
    let from = world.request_count();
    world.fault(Api, Fault::InvalidToken);
    world.fault(Refresh, Fault::Answer(400, r#"{"error":"invalid_grant"}"#));
    let outcome = fetch(&world, &session, ApiRequest::get("/api/me"));
    assert_eq!(outcome, Err(AuthError::SessionExpired));
    assert_eq!(session.state(), AuthState::Failed(AuthError::SessionExpired));
    assert_eq!(world.endpoints(from), [Api, Refresh]);
}

#[test]
fn a_renewal_that_fails_for_a_passing_reason_sends_no_useless_retry() {
    let (world, session) = signed_in_with_the_api();
    let from = world.request_count();
    world.fault(Api, Fault::InvalidToken);
    world.fault(Refresh, Fault::NetworkDown);
    let response = fetch(&world, &session, ApiRequest::get("/api/me")).expect("the API's answer");
    assert_eq!(response.status, 401);
    assert_eq!(world.endpoints(from), [Api, Refresh]);
    assert!(matches!(session.state(), AuthState::SignedIn(_)));
}

#[test]
fn other_refusals_and_failures_pass_through_untouched() {
    let (world, session) = signed_in_with_the_api();
    for (fault, status, body) in [
        (Fault::Answer(403, r#"{"error":"insufficient_scope"}"#), 403, r#"{"error":"insufficient_scope"}"#),
        // No challenge: nothing says the token is the problem.
        (Fault::Answer(401, r#"{"error":"invalid_token"}"#), 401, r#"{"error":"invalid_token"}"#),
        (Fault::Answer(500, "<html>oops</html>"), 500, "<html>oops</html>"),
        (Fault::Answer(404, ""), 404, ""),
        (Fault::Challenge(403, r#"Bearer error="insufficient_scope", scope="orders""#), 403, "{}"),
        (Fault::Challenge(401, r#"Bearer realm="api""#), 401, "{}"),
        (Fault::Challenge(400, r#"Bearer error="invalid_token""#), 400, "{}"),
    ] {
        let from = world.request_count();
        world.fault(Api, fault);
        let response = fetch(&world, &session, ApiRequest::get("/api/me")).expect("sent");
        assert_eq!((response.status, response.body.as_str()), (status, body));
        assert_eq!(world.endpoints(from), [Api], "HTTP {status}: no renewal, no retry");
    }
    for (fault, detail) in [(Fault::NetworkDown, "Failed to fetch"), (Fault::NoAnswer, "no answer in time")] {
        let from = world.request_count();
        world.fault(Api, fault);
        let call = world.spawn({
            let session = session.clone();
            async move { session.fetch(&ApiRequest::get("/api/me")).await }
        });
        world.settle();
        world.advance(16);
        assert_eq!(call.take(), Some(Err(AuthError::ApiUnreachable(detail.into()))), "the API's, not the provider's");
        assert_eq!(world.endpoints(from), [Api]);
    }
    assert!(matches!(session.state(), AuthState::SignedIn(_)));
}

#[test]
fn the_retry_sends_the_same_request_again() {
    let (world, session) = signed_in_with_the_api();
    let from = world.request_count();
    world.fault(Api, Fault::InvalidToken);
    let request = ApiRequest::put(&format!("{API}/orders/7")).header("If-Match", "\"v2\"").body("note=tea");
    fetch(&world, &session, request.clone()).expect("sent");
    assert_eq!(world.request_to(Api, from, 0).api.as_ref(), Some(&request));
    assert_eq!(world.request_to(Api, from, 1).api.as_ref(), Some(&request));
}

#[test]
fn two_calls_rejected_together_share_one_renewal() {
    let (world, session) = signed_in_with_the_api();
    let from = world.request_count();
    world.fault(Api, Fault::InvalidToken);
    world.fault(Api, Fault::InvalidToken);
    let calls: Vec<_> = (0..2)
        .map(|_| {
            let session = session.clone();
            world.spawn(async move { session.fetch(&ApiRequest::get("/api/me")).await })
        })
        .collect();
    world.settle();
    for call in calls {
        assert_eq!(call.take().map(|r| r.map(|response| response.status)), Some(Ok(200)));
    }
    assert_eq!(world.endpoints(from), [Api, Api, Refresh, Keys, Api, Api], "one renewal for both");
    assert!(matches!(session.state(), AuthState::SignedIn(_)), "no refresh token presented twice");
}

#[test]
fn an_api_refusing_every_token_costs_one_renewal_per_back_off_not_one_per_call() {
    let (world, session) = signed_in_with_the_api();
    let from = world.request_count();
    for _ in 0..3 {
        world.fault(Api, Fault::InvalidToken);
    }
    assert_eq!(fetch(&world, &session, ApiRequest::get("/api/me")).map(|r| r.status), Ok(401));
    assert_eq!(fetch(&world, &session, ApiRequest::get("/api/me")).map(|r| r.status), Ok(401));
    assert_eq!(world.endpoints(from), [Api, Refresh, Keys, Api, Api], "the second call renews nothing");
    world.advance(leptos_oidc_auth::session::RETRY_AFTER_SECS);
    let from = world.request_count();
    world.fault(Api, Fault::InvalidToken);
    assert_eq!(fetch(&world, &session, ApiRequest::get("/api/me")).map(|r| r.status), Ok(200));
    assert_eq!(world.endpoints(from), [Api, Refresh, Keys, Api], "after the back-off, one renewal again");
}

#[test]
fn a_rejected_token_while_renewals_back_off_is_answered_as_it_came() {
    let (world, session) = signed_in_with_the_api();
    world.set_hidden(true);
    world.advance(TTL - 20); // due, not expired
    world.fault(Refresh, Fault::NetworkDown);
    crate::access_token(&world, &session).expect("the current token while it is valid");
    let from = world.request_count();
    world.fault(Api, Fault::InvalidToken);
    let response = fetch(&world, &session, ApiRequest::get("/api/me")).expect("the API's answer");
    assert_eq!(response.status, 401);
    assert_eq!(world.endpoints(from), [Api], "the provider is not asked again so soon");
}

#[test]
fn a_renewal_that_fails_once_the_token_has_expired_still_answers_the_apis_401() {
    let (world, session) = signed_in_with_the_api();
    world.set_hidden(true);
    world.advance(TTL - 10); // due, not expired: the call renews beside itself
    let from = world.request_count();
    world.fault(Refresh, Fault::NoAnswer);
    world.fault(Api, Fault::InvalidToken);
    let call = world.spawn({
        let session = session.clone();
        async move { session.fetch(&ApiRequest::get("/api/me")).await }
    });
    world.settle();
    world.advance(16); // the renewal gives up; the token has expired meanwhile
    let response = call.take().expect("answered").expect("the API did answer");
    assert_eq!(response.status, 401);
    assert_eq!(world.endpoints(from), [Api, Refresh]);
}

#[test]
fn an_expired_token_is_renewed_before_the_request_leaves() {
    let (world, session) = signed_in_with_the_api();
    world.set_hidden(true); // no renewal timer: the call finds the token expired
    world.advance(TTL + 1);
    let from = world.request_count();
    let response = fetch(&world, &session, ApiRequest::get("/api/me")).expect("sent");
    assert_eq!(response.status, 200);
    assert_eq!(world.endpoints(from), [Refresh, Keys, Api]);
    assert_eq!(world.request_to(Api, from, 0).bearer.as_ref(), Some(&world.access_tokens()[1]));
}

#[test]
fn signed_out_nothing_is_sent() {
    let world = World::new();
    world.configure(&format!(r#","api_origins":["{API}"]"#));
    let session = world.open("/");
    let from = world.request_count();
    assert_eq!(fetch(&world, &session, ApiRequest::get("/api/me")), Err(AuthError::NotSignedIn));
    assert_eq!(world.request_count(), from);
}

#[test]
fn app_settings_come_from_the_config() {
    let (world, session) = signed_in_with_the_api();
    let get = |name: &'static str| {
        let session = session.clone();
        world.run(async move { session.app_setting(name).await }).expect("answered")
    };
    assert_eq!(get("orders"), Some(format!("{API}/orders")));
    assert_eq!(get("nothing"), None);
}

#[test]
fn a_token_renewed_since_a_forced_renewal_may_be_renewed_once_more() {
    // 4 s tokens, renewed by the page's timer half-way: the limit on forced renewals holds
    // for the token a forced renewal made, not for the next one the timer brings.
    let world = World::new();
    world.set_ttl(4);
    world.configure(&format!(r#","api_origins":["{API}"]"#));
    let session = world.signed_in();
    world.fault(Api, Fault::InvalidToken);
    world.fault(Api, Fault::InvalidToken);
    assert_eq!(fetch(&world, &session, ApiRequest::get("/api/me")).map(|r| r.status), Ok(401));
    world.advance(3); // the timer renews the forced renewal's token at 2 s
    let from = world.request_count();
    world.fault(Api, Fault::InvalidToken);
    assert_eq!(fetch(&world, &session, ApiRequest::get("/api/me")).map(|r| r.status), Ok(200));
    assert_eq!(world.endpoints(from), [Api, Refresh, Keys, Api]);
}

#[test]
fn a_request_the_browser_will_not_send_is_the_apps_mistake_not_an_unreachable_server() {
    let (world, session) = signed_in_with_the_api();
    let from = world.request_count();
    world.fault(Api, Fault::RefusedBeforeSending);
    let refused = fetch(&world, &session, ApiRequest::get("/api/me").header("Bad Name", "x"));
    assert!(matches!(refused, Err(AuthError::ApiRequestInvalid(_))), "{refused:?}");
    assert_eq!(world.endpoints(from), [], "nothing left");
    assert_eq!(refused.unwrap_err().family(), leptos_oidc_auth::ErrorFamily::Setup);
}
