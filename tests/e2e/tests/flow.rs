//! The sign-in flows, run against each real provider (`support::Provider`): one release
//! build, pointed at each by its config.json alone (tools/test.sh serves the same dist/
//! twice). What differs between the providers is in `Provider` (their login and logout
//! pages); every assertion here holds for both.

mod support;

use serde_json::{Value, json};
use support::{Browser, Provider, csp_violations, with_browser};

/// Calls the demo API from the API page; answers the call count it reports (the API counts
/// each person's calls for its whole life, across tests).
async fn call_the_api(browser: &Browser, provider: Provider) -> u64 {
    browser.click_button("Call the demo API").await;
    let answer = browser.wait_for_text(".api-answer", "The demo API knows you as").await;
    let count = answer.rsplit("Calls so far: ").next().and_then(|tail| tail.trim_end_matches('.').parse().ok());
    count.unwrap_or_else(|| panic!("{}: no call count in {answer:?}", provider.name()))
}

async fn sign_in_as_alice(browser: &Browser, provider: Provider) {
    browser.visit(&format!("{}/", provider.app_url())).await;
    browser.click_button("Sign in").await;
    provider.log_in(browser, "alice", "wonderland").await;
    browser.wait_for_text(".header-name", "Alice Liddell").await;
}

/// How many requests this page has made to the provider's token endpoint.
async fn token_requests(browser: &Browser, provider: Provider) -> Value {
    let script = format!(
        "return performance.getEntriesByType('resource').filter(e => e.name.split('?')[0] === '{}').length",
        provider.token_endpoint()
    );
    browser.run_js(&script).await
}

/// The browser's storage holds the session marker, the servers' DPoP nonces and pending
/// records at most: no token.
async fn assert_no_token_stored(browser: &Browser, provider: Provider) {
    let stored = browser.stored_state().await;
    let local: Vec<&String> = stored["local"].as_object().map(|o| o.keys().collect()).unwrap_or_default();
    assert!(
        local.iter().all(|key| {
            ["leptos-oidc:session", "leptos-oidc:signed-out", "leptos-oidc:dpop-nonces"].contains(&key.as_str())
        }),
        "{}: localStorage holds {local:?}",
        provider.name()
    );
    let session = stored["session"].as_object().cloned().unwrap_or_default();
    for (key, value) in &session {
        assert!(!key.contains("pending:"), "{}: a sign-in left pending: {key}", provider.name());
        let text = value.as_str().unwrap_or_default();
        assert!(
            !text.contains("access_token") && !text.contains("refresh_token"),
            "{}: {key} = {text}",
            provider.name()
        );
    }
}

/// The page holds a token, so it runs under the policy its callback added: the built one
/// and one naming this provider's origin first.
async fn assert_narrowed(browser: &Browser, provider: Provider) {
    let policies = browser
        .run_js("return [...document.querySelectorAll('meta[http-equiv=Content-Security-Policy]')].map(m => m.content)")
        .await;
    assert_eq!(policies.as_array().map(Vec::len), Some(2), "{}: {policies}", provider.name());
    let built = policies[0].as_str().unwrap_or_default();
    assert!(built.starts_with("default-src 'self'"), "{}: the built policy first: {policies}", provider.name());
    let narrowed = policies.as_array().and_then(|all| all.get(1)).and_then(Value::as_str).unwrap_or_default();
    let issuer_origin = support::origin(&provider.issuer());
    assert!(narrowed.starts_with(&format!("connect-src 'self' {issuer_origin}")), "{}: {policies}", provider.name());
}

#[tokio::test]
async fn signs_in_shows_the_person_and_calls_the_api_with_no_token_stored() {
    for provider in Provider::ALL {
        with_browser(&format!("flow_sign_in-{}", provider.name()), move |browser| async move {
            sign_in_as_alice(&browser, provider).await;
            // Before the first renewal (5 s in): one code exchange.
            assert_eq!(
                token_requests(&browser, provider).await,
                json!(1 + provider.nonce_round_trips()),
                "{}: one code exchange",
                provider.name()
            );
            browser.snapshot(&format!("flow-{}-signed-in", provider.name())).await;
            assert_narrowed(&browser, provider).await;
            browser.click_link("Profile").await;
            browser.wait_for_text("dd.person-name", "Alice Liddell").await;
            browser.wait_for_text("dd.person-email", "alice@example.test").await;
            browser.click_link("API").await;
            let first = call_the_api(&browser, provider).await;
            assert_eq!(call_the_api(&browser, provider).await, first + 1, "{}: the API counted", provider.name());
            assert_no_token_stored(&browser, provider).await;
            // The build names no provider: this one was reached by config.json alone, and
            // the page's policies (built and narrowed at sign-in) refused nothing.
            let log = browser.browser_log().await;
            assert!(csp_violations(&log).is_empty(), "{}: {:#?}", provider.name(), csp_violations(&log));
        })
        .await;
    }
}

/// Both providers issue access tokens for 10 s here (tools/test.sh); the app renews one
/// half-way through its life, with the refresh token each provider rotates.
#[tokio::test]
async fn the_access_token_is_renewed_before_it_expires_and_api_calls_keep_working() {
    for provider in Provider::ALL {
        with_browser(&format!("flow_refresh-{}", provider.name()), move |browser| async move {
            sign_in_as_alice(&browser, provider).await;
            browser.click_link("API").await;
            let first = call_the_api(&browser, provider).await;
            for round in 1..=2u64 {
                tokio::time::sleep(std::time::Duration::from_millis(6500)).await;
                // Answered with a renewed token: the API accepted it as the same person's.
                assert_eq!(call_the_api(&browser, provider).await, first + round, "{}: round {round}", provider.name());
                // The exchange, then at least one renewal per round (the page's timer renews
                // every 5 s; by round 2 the sign-in's token has expired, so the call above
                // was answered with a renewed one).
                let renewed = token_requests(&browser, provider).await.as_u64().unwrap_or_default();
                assert!(
                    renewed > round + provider.nonce_round_trips(),
                    "{}: round {round}: {renewed} token requests",
                    provider.name()
                );
            }
            browser.wait_for_text(".header-name", "Alice Liddell").await;
        })
        .await;
    }
}

#[tokio::test]
async fn sign_out_comes_back_to_a_clean_signed_out_home_and_ends_the_provider_session() {
    for provider in Provider::ALL {
        with_browser(&format!("flow_sign_out-{}", provider.name()), move |browser| async move {
            sign_in_as_alice(&browser, provider).await;
            browser.click_button("Sign out").await;
            provider.confirm_logout(&browser).await;
            browser.wait_for_text(".status", "You have signed out.").await;
            browser.snapshot(&format!("flow-{}-signed-out", provider.name())).await;
            assert_eq!(
                browser.url().await,
                format!("{}/", provider.app_url()),
                "{}: not a clean home",
                provider.name()
            );
            let header = browser.run_js("return document.querySelector('header').innerText").await;
            assert!(!header.as_str().unwrap_or_default().contains("Alice"), "{}: {header}", provider.name());
            // The provider's session ended too: signing in again asks for the password.
            browser.click_button("Sign in").await;
            browser.wait_for_url(&provider.login_page()).await;
            browser.wait_for_element(provider.password_field()).await;
        })
        .await;
    }
}

/// Cancelling at the provider's login page, as anyone can: the browser's Back.
#[tokio::test]
async fn back_from_the_login_page_leaves_a_working_sign_in_button() {
    for provider in Provider::ALL {
        with_browser(&format!("flow_back-{}", provider.name()), move |browser| async move {
            browser.visit(&format!("{}/", provider.app_url())).await;
            browser.click_button("Sign in").await;
            browser.wait_for_url(&provider.login_page()).await;
            browser.client.back().await.expect("back");
            browser.wait_for_url(&format!("{}/", provider.app_url())).await;
            let enabled = "return [...document.querySelectorAll('main button')].some(b => b.textContent.trim() === 'Sign in' && !b.disabled)";
            browser.wait_for_js(enabled, json!(true)).await;
            browser.click_button("Sign in").await;
            browser.wait_for_url(&provider.login_page()).await;
        })
        .await;
    }
}

/// A sign-in in progress answered with a code the provider never issued: its token
/// endpoint refuses it, and the page says so with the provider's reason.
#[tokio::test]
async fn a_forged_code_is_refused_with_the_providers_reason() {
    for provider in Provider::ALL {
        with_browser(&format!("flow_forged_code-{}", provider.name()), move |browser| async move {
            browser.visit(&format!("{}/", provider.app_url())).await;
            browser.wait_for_text("h1", "Sign in").await;
            browser.plant_pending_sign_in("e2e-state").await;
            let iss = provider.issuer().replace(':', "%3A").replace('/', "%2F");
            browser.visit(&format!("{}/callback?code=forged-code&state=e2e-state&iss={iss}", provider.app_url())).await;
            browser
                .wait_for_text(
                    "[role=alert] .message",
                    "The sign-in service refused to complete the sign-in. (invalid_grant",
                )
                .await;
            assert_eq!(
                token_requests(&browser, provider).await,
                json!(1 + provider.nonce_round_trips()),
                "{}: sent once",
                provider.name()
            );
            let stored = browser.stored_state().await;
            assert!(stored["session"].get("leptos-oidc:pending:e2e-state").is_none(), "{}: used once", provider.name());
        })
        .await;
    }
}

#[tokio::test]
async fn a_reload_and_a_new_tab_restore_the_person_silently() {
    for provider in Provider::ALL {
        with_browser(&format!("flow_restore-{}", provider.name()), move |browser| async move {
            sign_in_as_alice(&browser, provider).await;
            browser.client.refresh().await.expect("reload");
            browser.wait_for_text("h1", "Welcome, Alice Liddell").await;
            // A DPoP nonce the page before learnt is kept where every tab reads it (RFC 9449 §8): the new
            // sign-in's first proof carries it, and is not refused.
            assert_eq!(token_requests(&browser, provider).await, json!(1), "{}: a new sign-in", provider.name());
            assert_no_token_stored(&browser, provider).await;
            assert_narrowed(&browser, provider).await;
            // What the new tab will read: the provider's nonce, for a provider that gives one.
            let local = browser.stored_state().await["local"].clone();
            let kept = local.get("leptos-oidc:dpop-nonces").is_some();
            assert_eq!(kept, provider.nonce_round_trips() > 0, "{}: {local}", provider.name());
            let tab = browser.client.new_window(true).await.expect("new tab");
            browser.client.switch_to_window(tab.handle).await.expect("switch");
            browser.visit(&format!("{}/profile", provider.app_url())).await;
            browser.wait_for_text("dd.person-name", "Alice Liddell").await;
            assert_eq!(browser.url().await, format!("{}/profile", provider.app_url()), "{}", provider.name());
            // The new tab's first proof carries the nonce the first tab learnt (kept where
            // every tab reads it), and is not refused.
            assert_eq!(token_requests(&browser, provider).await, json!(1), "{}: the new tab's", provider.name());
            assert_narrowed(&browser, provider).await;
        })
        .await;
    }
}
