//! The demo API called through the auth module's helper (`Auth::fetch`), for real: the
//! release build, the local provider, and api/server.mjs checking each token with the
//! provider (introspection). What is asserted is what the API and the provider saw.

mod support;

use support::{
    FaultProvider, api_log, api_rejects_the_next_token, api_url, app_url, fault_app_url, provider_token_log,
    token_digest, with_browser,
};

#[tokio::test]
async fn the_demo_api_answers_the_persons_own_data_for_the_token_of_the_sign_in() {
    with_browser("api_call", |browser| async move {
        browser.goto("/").await;
        browser.sign_in_as_alice().await;
        browser.click_link("API").await;
        api_log(); // a fresh log
        let mut exchanges = provider_token_log().exchanges;
        browser.click_button("Call the demo API").await;
        let answer = browser.wait_for_text("p.api-answer", "The demo API knows you as alice.").await;
        assert!(answer.contains("Your note: “Curiouser and curiouser!”"), "{answer}");
        browser.snapshot("api-page-answered").await;
        browser.assert_accessible("the API page").await;

        let seen = api_log();
        // The first call of a page is asked for the API's DPoP nonce (RFC 9449 §9) and sent
        // again with it: one call, as the app sees it.
        let calls: Vec<_> = seen.iter().filter(|r| r.method == "GET" && !r.asked_for_nonce()).collect();
        assert_eq!(calls.len(), 1, "one call: {seen:?}");
        let call = calls[0];
        assert_eq!((call.path.as_str(), call.status), ("/me", 200));
        assert_eq!(call.origin.as_deref(), Some(app_url().as_str()), "sent by the page, from the app's origin");
        // An access token the provider issued to this sign-in (at sign-in, or a renewal
        // since: the tokens live 10 s here), bound to the page's key (tests/e2e/tests/dpop.rs
        // checks its proofs).
        exchanges.extend(provider_token_log().exchanges);
        let issued: Vec<String> =
            exchanges.iter().filter_map(|e| e.access_token.as_deref().map(token_digest)).collect();
        assert!(call.token.as_ref().is_some_and(|t| issued.contains(t)), "{call:?} not among {issued:?}");
        assert_eq!(call.scheme.as_deref(), Some("DPoP"));
        // Before each, the preflight that the Authorization and DPoP headers need, allowed for
        // this origin (Chromium preflighted each request here; the app makes its requests
        // with `cache: 'no-store'`).
        let preflights: Vec<_> = seen.iter().filter(|r| r.method == "OPTIONS").collect();
        let requests = seen.iter().filter(|r| r.method == "GET").count();
        assert!(preflights.len() <= requests && preflights.iter().all(|p| p.status == 204), "{seen:?}");
    })
    .await;
}

#[tokio::test]
async fn a_token_the_api_rejects_once_gets_exactly_one_renewal_and_one_retry() {
    with_browser("api_invalid_token", |browser| async move {
        browser.goto("/").await;
        browser.sign_in_as_alice().await;
        browser.click_link("API").await;
        browser.wait_for_text("main button", "Call the demo API").await;
        api_log();
        provider_token_log();
        api_rejects_the_next_token();
        browser.click_button("Call the demo API").await;
        browser.wait_for_text("p.api-answer", "The demo API knows you as alice.").await;

        // (Leaving out the API's request for its DPoP nonce, answered by sending the call again.)
        let calls: Vec<_> = api_log().into_iter().filter(|r| r.method == "GET" && !r.asked_for_nonce()).collect();
        assert_eq!(calls.len(), 2, "the call and one retry: {calls:?}");
        let (rejected, retry) = (&calls[0], &calls[1]);
        assert_eq!((rejected.status, retry.status), (401, 200));
        assert_ne!(rejected.token, retry.token, "the retry carried a new token");
        // Between the two, exactly one renewal, and the retry carried the token it brought.
        let log = provider_token_log();
        let between: Vec<_> = log.answered().into_iter().filter(|e| e.at >= rejected.at && e.at <= retry.at).collect();
        assert_eq!(between.len(), 1, "{:?}", log.exchanges);
        assert_eq!((between[0].grant_type.as_str(), between[0].status), ("refresh_token", 200));
        assert_eq!(between[0].access_token.as_deref().map(token_digest), retry.token);
        assert!(browser.client.find(fantoccini::Locator::Css("p.error-text")).await.is_err());
    })
    .await;
}

#[tokio::test]
async fn a_request_to_an_origin_not_allowed_is_refused_and_that_server_never_sees_it() {
    // The same build at the fault app, whose config names the demo API in `app` but not in
    // `api_origins`: the token must not go there.
    let _provider = FaultProvider::start("ok");
    with_browser("api_origin_refused", |browser| async move {
        browser.client.goto(&format!("{}/", fault_app_url())).await.expect("fault app");
        browser.click_button("Sign in").await;
        browser.wait_for_text(".header-name", "Fay Ult").await;
        browser.click_link("API").await;
        api_log();
        browser.click_button("Call the demo API").await;
        let shown = browser.wait_for_text("p.api-answer[role=alert]", "a server it is not set up to trust").await;
        assert_eq!(
            shown,
            format!(
                "This app tried to send your sign-in to {}, a server it is not set up to trust, so nothing was sent.",
                api_url()
            )
        );
        browser.snapshot("api-origin-refused").await;
        let seen = api_log();
        assert!(seen.is_empty(), "the demo API saw {seen:?}");
        // Refused by the app itself: the browser's CSP (which names no :9200 for this
        // config) never had to stop a request.
        let log = browser.browser_log().await;
        assert!(support::csp_violations(&log).is_empty(), "{log:?}");
        // Still signed in: a refused request is the app's mistake, not the session's end.
        browser.wait_for_text(".header-name", "Fay Ult").await;
    })
    .await;
}

#[tokio::test]
async fn with_short_lived_tokens_renewal_comes_before_expiry_and_no_call_sees_a_401() {
    with_browser("api_short_tokens", |browser| async move {
        provider_token_log(); // a fresh log
        browser.goto("/").await;
        browser.sign_in_as_alice().await;
        browser.click_link("API").await;
        api_log();
        // Access tokens live 10 s here (tools/test.sh); calls 0, 6 and 12 s on.
        for round in 0..3 {
            if round > 0 {
                tokio::time::sleep(std::time::Duration::from_secs(6)).await;
            }
            browser.click_button("Call the demo API").await;
            browser.wait_for_text("p.api-answer", "The demo API knows you as alice.").await;
        }
        // The API asked for its DPoP nonce once, at the page's first call, and the call was sent
        // again with it; the nonce served every call after.
        let seen: Vec<_> = api_log().into_iter().filter(|r| r.method == "GET").collect();
        assert_eq!(seen.iter().filter(|r| r.asked_for_nonce()).count(), 1, "{seen:?}");
        assert!(seen[0].asked_for_nonce(), "{seen:?}");
        let calls: Vec<_> = seen.into_iter().filter(|r| !r.asked_for_nonce()).collect();
        assert_eq!(calls.len(), 3, "no retries: {calls:?}");
        assert!(calls.iter().all(|c| c.status == 200), "{calls:?}");
        // The page's timer renewed each token before it expired: every token request came
        // less than 10 s after the one before it, and each call carried the newest token.
        let log = provider_token_log();
        let answered: Vec<_> = log.answered().into_iter().cloned().collect();
        let grants: Vec<&str> = answered.iter().map(|e| e.grant_type.as_str()).collect();
        assert!(grants.len() >= 3 && grants[1..].iter().all(|g| *g == "refresh_token"), "{grants:?}");
        for pair in answered.windows(2) {
            assert!(pair[1].at - pair[0].at < 10_000, "a token expired before its renewal: {:?}", log.exchanges);
        }
        // No call carried a token older than its 10 s life.
        for call in &calls {
            let issuance = log
                .exchanges
                .iter()
                .find(|e| e.access_token.as_deref().map(token_digest) == call.token)
                .expect("a token the provider issued");
            assert!(call.at - issuance.at < 10_000, "an expired token went out: {call:?}, issued {issuance:?}");
        }
    })
    .await;
}
