//! Hostile and broken callbacks against the real provider: a sign-in is really in
//! progress (its state is read from this tab's storage), and the browser then arrives at
//! `/callback` with a crafted response. Each test asserts what the person sees and that
//! no token request was made (the provider's own count).

mod support;

use serde_json::json;
use support::{Browser, app_url, provider_token_log, provider_url, with_browser};

/// Starts a real sign-in (to the provider's login page), comes back to the app, and
/// returns the pending sign-in's `state`.
async fn sign_in_in_progress(browser: &Browser) -> String {
    browser.goto("/").await;
    browser.click_button("Sign in").await;
    browser.wait_for_provider_login().await;
    browser.goto("/").await;
    browser.wait_for_text("h1", "Sign in").await;
    let states = browser
        .run_js(
            "return Object.keys(sessionStorage).filter(k => k.startsWith('leptos-oidc:pending:'))
                 .map(k => k.slice('leptos-oidc:pending:'.length))",
        )
        .await;
    let states = states.as_array().expect("a list").clone();
    assert_eq!(states.len(), 1, "one sign-in in progress: {states:?}");
    states[0].as_str().expect("state").to_owned()
}

fn iss() -> String {
    provider_url().replace(':', "%3A").replace('/', "%2F")
}

/// Opens `/callback?<query>` and checks the failure shown: its code, a message containing
/// `message`, a way to try again, and no token request.
async fn assert_callback_refused(browser: &Browser, query: &str, code: &str, message: &str) {
    provider_token_log();
    browser.goto(&format!("/callback?{query}")).await;
    browser.wait_for_text("[role=alert] .message", message).await;
    let shown = browser.shown_error_code().await;
    assert_eq!(shown, code, "for {}", &query[..query.len().min(120)]);
    let button = browser.run_js("return document.querySelector('[role=alert] button')?.textContent ?? ''").await;
    assert!(["Try again", "Sign in"].contains(&button.as_str().unwrap_or_default()), "no way to try again: {button}");
    assert_eq!(provider_token_log().requests, 0, "a token request was made for {}", &query[..query.len().min(120)]);
    assert_eq!(browser.url().await, format!("{}/callback", app_url()), "the response must leave the address bar");
    // The page that read the hostile response runs under the built policy.
    assert!(!browser.inline_script_ran().await, "an inline script ran on the callback page");
}

const NOT_THIS_TAB: &str = "does not belong to a sign-in started in this tab";

macro_rules! callback_cases {
    ($($name:ident: |$s:ident| $query:expr => $code:literal, $message:expr;)*) => {$(
        #[tokio::test]
        async fn $name() {
            with_browser(stringify!($name), |browser| async move {
                let $s = sign_in_in_progress(&browser).await;
                assert_callback_refused(&browser, &$query, $code, $message).await;
            })
            .await;
        }
    )*};
}

callback_cases! {
    state_missing_is_refused:
        |s| { let _ = s; format!("code=abc&iss={}", iss()) } => "state_missing", NOT_THIS_TAB;
    state_different_from_the_pending_one_is_refused:
        |s| { let _ = s; format!("code=abc&state=another-state&iss={}", iss()) } => "state_mismatch", NOT_THIS_TAB;
    state_present_twice_is_refused:
        |s| format!("code=abc&state={s}&state={s}&iss={}", iss()) => "malformed_callback", "\"state\" appears more than once";
    code_missing_is_refused:
        |s| format!("state={s}&iss={}", iss()) => "code_missing", "carried no authorization code";
    code_present_twice_is_refused:
        |s| format!("code=a&code=b&state={s}&iss={}", iss()) => "malformed_callback", "\"code\" appears more than once";
    iss_of_another_issuer_is_refused:
        |s| format!("code=abc&state={s}&iss=https%3A%2F%2Fevil.example") => "iss_mismatch", "came from a different sign-in service";
    iss_missing_while_the_provider_advertises_rfc9207_is_refused:
        |s| format!("code=abc&state={s}") => "iss_missing", "did not say which sign-in service sent it";
    an_error_without_state_is_reported_as_a_missing_state_not_believed:
        |s| { let _ = s; format!("error=access_denied&iss={}", iss()) } => "state_missing", NOT_THIS_TAB;
    an_error_with_another_state_is_reported_as_a_state_mismatch_not_believed:
        |s| { let _ = s; format!("error=server_error&state=another-state&iss={}", iss()) } => "state_mismatch", NOT_THIS_TAB;
    a_100_kb_query_is_refused_without_a_crash:
        |s| format!("code={}&state={s}&iss={}", "a".repeat(100_000), iss()) => "malformed_callback", "could not be read (it is too long)";
    broken_percent_encoding_is_refused_without_a_crash:
        |s| format!("code=%E0%A4%A&state={s}&iss={}", iss()) => "malformed_callback", "could not be read (broken percent-encoding)";
    non_utf8_bytes_are_refused_without_a_crash:
        |s| format!("code=%FF%FE&state={s}&iss={}", iss()) => "malformed_callback", "could not be read (it is not UTF-8)";
}

/// Markup and script in `error_description`: shown as text, nothing of it runs or becomes
/// an element, and `error_uri` is not followed.
#[tokio::test]
async fn provider_errors_are_shown_as_text_and_error_uri_is_not_followed() {
    let cases = [
        ("access_denied", "The sign-in was cancelled or access was refused."),
        ("invalid_scope", "The sign-in service refused the requested permissions."),
        ("server_error", "The sign-in service has a problem right now."),
        ("temporarily_unavailable", "The sign-in service has a problem right now."),
        ("something_new", "The sign-in service refused the sign-in."),
    ];
    with_browser("provider_errors", |browser| async move {
        let hostile = "<img src=x onerror=window.__xss=1><script>window.__xss=2</script>";
        let description = "%3Cimg%20src%3Dx%20onerror%3Dwindow.__xss%3D1%3E%3Cscript%3Ewindow.__xss%3D2%3C%2Fscript%3E";
        for (error, what) in cases {
            let state = sign_in_in_progress(&browser).await;
            let query = format!(
                "error={error}&error_description={description}&error_uri=https%3A%2F%2Fevil.example%2Fhelp&state={state}&iss={}",
                iss()
            );
            assert_callback_refused(&browser, &query, "provider_error", &format!("{what} ({error}: {hostile})")).await;
            let inside = browser
                .run_js("const a = document.querySelector('[role=alert]'); return [a.querySelectorAll('img, script').length, window.__xss ?? null]")
                .await;
            assert_eq!(inside, json!([0, null]), "{error}: markup became elements or ran");
            if error == "access_denied" {
                browser.snapshot("9-provider-error-as-text").await;
                browser.assert_accessible("9-provider-error-as-text").await;
            }
        }
    })
    .await;
}

#[tokio::test]
async fn a_pending_sign_in_older_than_ten_minutes_is_refused_as_expired() {
    with_browser("expired", |browser| async move {
        let state = sign_in_in_progress(&browser).await;
        // Age the stored record by 601 s: the app's clock cannot be moved from here.
        browser
            .run_js(&format!(
                "const key = 'leptos-oidc:pending:{state}'; const r = JSON.parse(sessionStorage.getItem(key));
                 r.created_at -= 601; sessionStorage.setItem(key, JSON.stringify(r)); return true"
            ))
            .await;
        let query = format!("code=abc&state={state}&iss={}", iss());
        assert_callback_refused(&browser, &query, "sign_in_expired", "took too long and has expired").await;
    })
    .await;
}

#[tokio::test]
async fn the_callback_replayed_or_reloaded_after_sign_in_finds_no_sign_in_in_progress() {
    with_browser("replay", |browser| async move {
        browser.goto("/").await;
        browser.sign_in_as_alice().await;
        // The address the provider sent the browser to, code and state included (the app
        // replaced it in the address bar; the navigation entry still has it).
        let callback = browser.run_js("return performance.getEntriesByType('navigation')[0].name").await;
        let callback = callback.as_str().expect("url").to_owned();
        assert!(callback.contains("/callback?code="), "{callback}");
        let query = callback.split_once('?').expect("query").1.to_owned();
        // Replayed in the same tab (a reload of the callback page is the same request).
        assert_callback_refused(&browser, &query, "no_sign_in_in_progress", "There is no sign-in in progress").await;
        provider_token_log();
        // And Back cannot reach the first callback either: the app replaced that history
        // entry with the page the sign-in returned to, which is where Back lands.
        browser.client.back().await.expect("back");
        browser.wait_for_js("return location.href", json!(format!("{}/", app_url()))).await;
        // The home page as it was left (restored from the back-forward cache), or loaded
        // afresh, signed out: either way no callback is processed.
        let home = "return ['Welcome, Alice Liddell', 'Sign in with your identity provider']
                        .includes(document.querySelector('main h1')?.textContent)";
        browser.wait_for_js(home, json!(true)).await;
        assert!(browser.client.find(fantoccini::Locator::Css("[role=alert]")).await.is_err(), "a failure shows");
        assert_eq!(provider_token_log().requests, 0, "Back made a token request");
    })
    .await;
}

/// Two sign-ins pending in one tab (Sign in, Back, Sign in again from another page):
/// finishing the older one signs in and returns to its page, and leaves the newer one
/// pending, which can then finish too.
#[tokio::test]
async fn two_sign_ins_pending_in_one_tab_each_finish_with_their_own_record() {
    with_browser("two_pending", |browser| async move {
        provider_token_log();
        let pending = "return Object.entries(sessionStorage).filter(([k]) => k.startsWith('leptos-oidc:pending:'))
                           .map(([, v]) => JSON.parse(v).return_to).sort()";
        // The older sign-in, from the home page: its page at the provider, kept for later.
        browser.goto("/").await;
        browser.click_button("Sign in").await;
        browser.wait_for_provider_login().await;
        let older = browser.url().await;
        browser.client.back().await.expect("back");
        browser.wait_for_url(&format!("{}/", app_url())).await;
        // The newer one, from the protected page.
        browser.goto("/profile").await;
        browser.wait_for_provider_login().await;
        let newer = browser.url().await;
        browser.goto("/").await;
        browser.wait_for_text("main h1", "Sign in").await;
        assert_eq!(browser.run_js(pending).await, json!(["/", "/profile"]), "both pending");
        // The older one finishes first.
        browser.client.goto(&older).await.expect("older sign-in");
        browser.log_in_at_provider("alice", "wonderland").await;
        browser.consent_at_provider().await;
        browser.wait_for_text("main h1", "Welcome, Alice Liddell").await;
        assert_eq!(browser.url().await, format!("{}/", app_url()));
        assert_eq!(browser.run_js(pending).await, json!(["/profile"]), "the newer one is still pending");
        // Then the newer one (its page at the provider still asks for the password).
        browser.client.goto(&newer).await.expect("newer sign-in");
        browser.log_in_at_provider("alice", "wonderland").await;
        browser.continue_at_provider_until(&app_url()).await;
        browser.wait_for_text("dd.person-name", "Alice Liddell").await;
        assert_eq!(browser.url().await, format!("{}/profile", app_url()));
        assert_eq!(browser.run_js(pending).await, json!([]), "nothing left pending");
        // The first exchange is asked for the DPoP nonce and sent again (RFC 9449 §8); the
        // second page, in the same tab, sends the nonce the first one learnt and kept.
        let log = provider_token_log();
        assert_eq!((log.requests, log.answered().len()), (3, 2), "one code exchange per sign-in");
    })
    .await;
}

#[tokio::test]
async fn hostile_return_to_values_land_on_home() {
    for (i, target) in ["//evil.example", "https://evil.example", "/\\evil.example", "javascript:alert(1)", "profile"]
        .into_iter()
        .enumerate()
    {
        with_browser(&format!("return_to_{i}"), |browser| async move {
            let state = sign_in_in_progress(&browser).await;
            let target_js = serde_json::to_string(target).expect("json");
            browser
                .run_js(&format!(
                    "const key = 'leptos-oidc:pending:{state}'; const r = JSON.parse(sessionStorage.getItem(key));
                     r.return_to = {target_js}; sessionStorage.setItem(key, JSON.stringify(r)); return true"
                ))
                .await;
            // Back to the provider's login page, which still holds this sign-in.
            browser.client.back().await.expect("back");
            browser.log_in_at_provider("alice", "wonderland").await;
            browser.consent_at_provider().await;
            browser.wait_for_text(".header-name", "Alice Liddell").await;
            assert_eq!(browser.url().await, format!("{}/", app_url()), "return_to {target:?}");
        })
        .await;
    }
}

#[tokio::test]
async fn two_tabs_signing_in_at_the_same_time_each_complete_their_own() {
    with_browser("two_tabs", |browser| async move {
        provider_token_log();
        // Tab A: the protected page starts its sign-in.
        browser.goto("/profile").await;
        browser.wait_for_provider_login().await;
        let tab_a = browser.client.window().await.expect("tab A");
        // Tab B: the home page's button starts another.
        let tab_b = browser.client.new_window(true).await.expect("tab B").handle;
        browser.client.switch_to_window(tab_b.clone()).await.expect("to B");
        browser.goto("/").await;
        browser.click_button("Sign in").await;
        browser.wait_for_provider_login().await;
        // A finishes first, and lands on its page.
        browser.client.switch_to_window(tab_a).await.expect("to A");
        browser.log_in_at_provider("alice", "wonderland").await;
        browser.consent_at_provider().await;
        browser.wait_for_text("dd.person-name", "Alice Liddell").await;
        assert_eq!(browser.url().await, format!("{}/profile", app_url()));
        // Then B, on its own page.
        browser.client.switch_to_window(tab_b).await.expect("to B");
        browser.log_in_at_provider("alice", "wonderland").await;
        browser.continue_at_provider_until(&app_url()).await;
        browser.wait_for_text(".header-name", "Alice Liddell").await;
        assert_eq!(browser.url().await, format!("{}/", app_url()));
        // A's first token request is asked for the DPoP nonce and sent again (RFC 9449 §8); B's
        // carries the nonce A learnt, kept where every tab reads it.
        let log = provider_token_log();
        assert_eq!((log.requests, log.answered().len()), (3, 2), "one code exchange per tab");
    })
    .await;
}

/// A return from the provider's logout whose `state` is not the one the logout request
/// carried (a forged link, a replay): the person is signed out all the same (the tokens
/// went before the browser left), the address bar is cleaned, and the page does not claim
/// that the sign-out happened at the provider.
#[tokio::test]
async fn a_logout_return_with_a_forged_state_lands_signed_out_and_claims_nothing() {
    with_browser("forged_logout_return", |browser| async move {
        browser.goto("/").await;
        browser.sign_in_as_alice().await;
        browser.click_button("Sign out").await;
        let logout = browser.wait_for_url(&format!("{}/session/end", provider_url())).await;
        assert!(logout.contains("&state="), "no state sent: {logout}");
        browser.goto("/?state=forged").await;
        // The return was judged (the tab's state is used up) and the address cleaned; the
        // page then shows what it shows, for half a second, and never claims a sign-out.
        browser
            .wait_for_js("return sessionStorage.getItem('leptos-oidc:sign-out-state')", serde_json::Value::Null)
            .await;
        browser.wait_for_js("return location.href", json!(format!("{}/", app_url()))).await;
        browser.wait_for_text("h1", "Sign in with your identity provider").await;
        for _ in 0..10 {
            let page = browser.run_js("return document.querySelector('main').innerText").await;
            assert!(!page.as_str().unwrap_or_default().contains("signed out"), "claims a sign-out: {page}");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let header = browser.run_js("return document.querySelector('header').innerText").await;
        assert!(!header.as_str().unwrap_or_default().contains("Alice"), "still shows the person: {header}");
    })
    .await;
}
