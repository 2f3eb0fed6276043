//! The page itself: what it shows before the app starts, its Content-Security-Policy
//! through a whole sign-in and sign-out, no secret in the console, and every asset checked
//! by its hash.

mod support;

use base64::Engine;
use serde_json::json;
use sha2::{Digest, Sha256, Sha384};
use support::{
    Browser, api_url, app_url, csp_violations, http_get, provider_token_log, provider_url, with_browser,
    with_browser_flags,
};

/// What the page shows as it is now: its header's links, its buttons, and which of the
/// shell's messages a person sees.
const SHOWN: &str = "const seen = (css) => { const e = document.querySelector(css);
        return e !== null && getComputedStyle(e).visibility === 'visible' && e.offsetParent !== null; };
    return { header: [...document.querySelectorAll('header a')].map(a => [a.textContent.trim(), a.getAttribute('href')]),
             buttons: document.querySelectorAll('button').length,
             loading: seen('[role=status] .shell-loading'),
             advice: seen('[role=status] .shell-advice') }";

const SHELL_HEADER: [[&str; 2]; 4] = [["Leptos OIDC", "/"], ["Home", "/"], ["Profile", "/profile"], ["API", "/api"]];

/// What [`SHOWN`] tells of the shell: its header, no button, and whether each message shows.
fn shell_showing(loading: bool, advice: bool) -> serde_json::Value {
    json!({ "header": SHELL_HEADER, "buttons": 0, "loading": loading, "advice": advice })
}

/// Moves every animation of the page (stopped by `set_animation_rate(0.0)`) to `at` ms,
/// then tells what the page shows.
fn shown_at(at: u32) -> String {
    format!("document.getAnimations().forEach((a) => {{ a.currentTime = {at}; }}); {SHOWN}")
}

#[tokio::test]
async fn until_the_app_starts_the_page_shows_its_header_then_that_it_is_loading_then_what_to_do() {
    with_browser("shell", |browser| async move {
        // The page's animations wait for the test to move them; its .wasm is held back.
        browser.set_animation_rate(0.0).await;
        browser.hold_requests(&["*.wasm"]).await;
        browser.goto("/profile").await;
        browser.wait_for_element("#app-shell").await;
        // One animation per message, stopped where it started.
        let animations = "return document.getAnimations().map((a) => [a.animationName, a.currentTime])";
        assert_eq!(browser.run_js(animations).await, json!([["shell-wait", 0], ["shell-wait", 0]]));
        for (at, loading, advice) in
            [(0, false, false), (499, false, false), (500, true, false), (14_999, true, false), (15_000, true, true)]
        {
            assert_eq!(browser.run_js(&shown_at(at)).await, shell_showing(loading, advice), "{at} ms in");
            if at == 500 {
                browser.assert_accessible("the page while the app loads").await;
                browser.snapshot("shell").await;
            }
        }
        let advice = browser.run_js("return document.querySelector('.shell-advice').textContent").await;
        assert_eq!(advice, json!("The app has not started. Check your connection, then reload the page."));
        browser.assert_accessible("the page when the app is slow to start").await;
        browser.snapshot("shell-slow").await;

        // A page whose animations do not run (a user style, an extension) shows both at once.
        browser.goto("/profile").await;
        browser.wait_for_element("#app-shell").await;
        let unanimated = format!("document.getAnimations().forEach((a) => a.cancel()); {SHOWN}");
        assert_eq!(browser.run_js(&unanimated).await, shell_showing(true, true));
    })
    .await;
}

#[tokio::test]
async fn an_app_that_cannot_start_has_the_page_say_what_to_do_at_once() {
    with_browser("shell_failed", |browser| async move {
        // Not by the clock: the page's animations stand still, and are moved to 1 s in.
        browser.set_animation_rate(0.0).await;
        for refused in ["*.wasm", "*.js"] {
            browser.block_requests(&[refused]).await;
            browser.goto("/").await;
            let marked = "return document.documentElement.classList.contains('app-failed')";
            browser.wait_for_js(marked, json!(true)).await;
            assert_eq!(browser.run_js(&shown_at(1000)).await, shell_showing(false, true), "{refused} refused");
        }
        browser.assert_accessible("the page when the app cannot start").await;
    })
    .await;
}

#[tokio::test]
async fn without_scripting_the_page_says_it_needs_javascript_and_nothing_about_loading() {
    with_browser_flags("shell_noscript", &["--blink-settings=scriptEnabled=false"], |browser| async move {
        browser.set_animation_rate(0.0).await;
        browser.goto("/").await;
        browser.wait_for_element("#app-shell").await;
        // Fifteen seconds in: neither message, whatever the clock says.
        assert_eq!(browser.run_js(&shown_at(15_000)).await, shell_showing(false, false));
        let needs = "const p = document.querySelector('main noscript p');
            return p && p.offsetParent !== null ? p.textContent : null";
        assert_eq!(browser.run_js(needs).await, json!("This app needs JavaScript and WebAssembly to sign you in."));
        // (axe cannot run here: it needs the page's timers, which scripting off stops.)
    })
    .await;
}

#[tokio::test]
async fn a_keyboard_user_on_a_link_of_the_shell_is_on_the_same_link_when_the_app_starts() {
    with_browser("shell_focus", |browser| async move {
        browser.hold_requests(&["*.wasm"]).await;
        browser.goto("/").await;
        browser.wait_for_element("#app-shell").await;
        // The focused element: its text and target, in the header, in the shell, with a
        // visible focus ring.
        let on = "const a = document.activeElement;
            return [a.textContent.trim(), a.getAttribute('href'), a.closest('header') !== null,
                    a.closest('#app-shell') !== null, a.matches(':focus-visible')]";
        browser.press_tab(3).await; // the brand, Home, Profile
        assert_eq!(browser.run_js(on).await, json!(["Profile", "/profile", true, true, true]), "in the shell");
        browser.release_requests().await;
        browser.wait_for_text("h1", "Sign in with your identity provider").await;
        assert_eq!(browser.run_js(on).await, json!(["Profile", "/profile", true, false, true]), "in the app");
    })
    .await;
}

#[tokio::test]
async fn the_app_takes_the_shells_place_and_its_header_does_not_move() {
    with_browser("shell_replaced", |browser| async move {
        // The header's height, and each of its links: its text, target and where it is.
        let header = "const h = document.querySelector('header');
            return { height: h.getBoundingClientRect().height, links: [...h.querySelectorAll('a')].map(a => {
                const r = a.getBoundingClientRect(); return [a.textContent.trim(), a.getAttribute('href'), r.x, r.y, r.width]; }) }";
        for (width, height) in [(1200, 900), (390, 844)] {
            browser.client.set_window_size(width, height).await.expect("window size");
            let phone = browser.run_js("return matchMedia('(max-width: 480px)').matches").await;
            assert_eq!(phone, json!(width < 480), "the phone layout applies at {width} px");
            for (path, shown) in [("/", "Sign in with your identity provider"), ("/callback", "No sign-in in progress")] {
                browser.block_requests(&["*.wasm"]).await;
                browser.goto(path).await;
                browser.wait_for_element("#app-shell header").await;
                let shell_header = browser.run_js(header).await;

                browser.block_requests(&[]).await;
                browser.goto(path).await;
                browser.wait_for_text("h1, h2", shown).await;
                let app = browser
                    .run_js(
                        "return { shells: document.querySelectorAll('#app-shell').length,
                                  headers: document.querySelectorAll('header').length,
                                  mains: document.querySelectorAll('main').length }",
                    )
                    .await;
                assert_eq!(app, json!({ "shells": 0, "headers": 1, "mains": 1 }), "{path} at {width} px");
                assert_eq!(browser.run_js(header).await, shell_header, "the header of {path} at {width} px");
            }
        }
    })
    .await;
}

#[tokio::test]
async fn a_full_sign_in_and_sign_out_cause_no_csp_violation_and_print_no_secret() {
    with_browser("csp_clean", |browser| async move {
        provider_token_log(); // start a fresh log of what crosses the token endpoint
        browser.goto("/").await;
        browser.sign_in_as_alice().await;
        browser.click_link("Profile").await;
        browser.click_button("Call the UserInfo API again").await;
        browser.wait_for_text("p.ok", "The API answered for Alice Liddell.").await;
        browser.click_button("Sign out").await;
        browser.wait_for_url(&format!("{}/session/end", provider_url())).await;
        browser.click_button("Yes, sign me out").await;
        browser.wait_for_url(&format!("{}/", app_url())).await;
        browser.wait_for_text("h1", "Sign in with your identity provider").await;

        let log = browser.browser_log().await;
        // The provider's own pages have console errors of their own (a web font from the
        // internet, no favicon): only the app's pages are held to none.
        let ours: Vec<_> = log.iter().filter(|(_, text)| text.starts_with(&app_url())).collect();
        assert!(csp_violations(&log).is_empty(), "CSP violations: {:#?}", csp_violations(&log));
        assert!(ours.iter().all(|(level, _)| level != "SEVERE"), "console errors: {ours:#?}");
        assert!(!log.iter().any(|(_, text)| text.contains("No built Content-Security-Policy")), "{log:#?}");

        let crossed = provider_token_log();
        // The exchange, once asked for the DPoP nonce and sent again (RFC 9449 §8).
        assert_eq!((crossed.requests, crossed.answered().len()), (2, 1), "one code exchange");
        // code and code_verifier (twice, one per request), access_token, refresh_token, id_token
        assert_eq!(crossed.secrets.len(), 7, "the provider's log holds the code, verifier and three tokens");
        for secret in &crossed.secrets {
            for (_, text) in &log {
                assert!(!text.contains(secret.as_str()), "a secret ({} bytes) reached the console", secret.len());
            }
        }

        // The two checks above could pass by reading nothing: show that this log does carry
        // console output and CSP violations. An inline script is refused by the policy.
        browser.run_js("console.error('e2e-marker'); console.warn('e2e-warning-marker'); return true").await;
        assert!(!browser.inline_script_ran().await, "an inline script ran");
        let log = browser.browser_log().await;
        assert!(log.iter().any(|(_, text)| text.contains("e2e-marker")), "the console is not being read: {log:?}");
        assert!(log.iter().any(|(_, text)| text.contains("e2e-warning-marker")), "warnings are not read: {log:?}");
        assert_eq!(csp_violations(&log).len(), 1, "the refused inline script is reported: {log:?}");
    })
    .await;
}

/// The policy the build wrote into the served `index.html`, for the app to apply (the tag
/// exactly as `index.html` and `tools/csp.mjs` write it).
fn built_policy() -> String {
    let (_, page) = http_get(&format!("{}/", app_url()));
    let page = String::from_utf8(page).expect("UTF-8 page");
    page.split("<meta name=\"leptos-oidc:content-security-policy\" content=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("the built policy's meta tag")
        .to_owned()
}

/// Asks the page to fetch `url`, a server that is listening: whether the page's policy
/// refused it (the fetch then fails; allowed, a no-cors fetch answers, opaque).
async fn refused_by_policy(browser: &Browser, url: &str) -> bool {
    let script = format!("return fetch('{url}', {{ mode: 'no-cors' }}).then(() => false, () => true)");
    browser.run_js(&script).await == json!(true)
}

/// The built page names no provider, so it lets the app reach any https server (and, for
/// this local config, this machine's ports); the callback narrows it to the provider's and
/// the API's origins before the first token request, so that no script in the page can
/// send the token anywhere else.
#[tokio::test]
async fn signing_in_narrows_the_page_to_the_provider_and_the_api() {
    with_browser("csp_narrowed", |browser| async move {
        // The app itself on another origin: listening, a local port the built policy allows.
        let elsewhere = app_url().replace("localhost", "127.0.0.1") + "/config.json";
        browser.goto("/").await;
        browser.wait_for_text("h1", "Sign in").await;
        // Signed out, the built policy is in force: the app applied it when it started.
        assert!(!browser.inline_script_ran().await, "an inline script ran on the signed-out page");
        assert!(!refused_by_policy(&browser, &elsewhere).await, "signed out: not narrowed yet");
        browser.sign_in_as_alice().await;
        assert!(refused_by_policy(&browser, &elsewhere).await, "signed in: {elsewhere} still reachable");
        let log = browser.browser_log().await;
        assert!(
            csp_violations(&log).iter().any(|text| text.contains(&elsewhere)),
            "not refused by the policy: {log:?}"
        );
        for allowed in [format!("{}/me", api_url()), format!("{}/jwks", provider_url())] {
            assert!(!refused_by_policy(&browser, &allowed).await, "{allowed}");
        }
        let policies = browser
            .run_js(
                "return [...document.querySelectorAll('meta[http-equiv=Content-Security-Policy]')].map(m => m.content)",
            )
            .await;
        assert_eq!(policies.as_array().map(Vec::len), Some(2), "{policies}");
        assert_eq!(policies[0], built_policy().as_str(), "the built policy, applied by the app as it started");
        let tag = "return document.querySelector('meta[name=\"leptos-oidc:content-security-policy\"]') === null";
        assert_eq!(browser.run_js(tag).await, json!(true), "the built policy's tag is taken out once enforced");
        assert_eq!(
            policies[1],
            format!("connect-src 'self' {p} {a}; form-action 'self' {p}", p = provider_url(), a = api_url()).as_str()
        );
    })
    .await;
}

/// The value of `name="…"` in an HTML tag, if any.
fn attribute<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    tag[start..].split('"').next()
}

fn sri(algorithm: &str, bytes: &[u8]) -> String {
    let digest = match algorithm {
        "sha384" => Sha384::digest(bytes).to_vec(),
        _ => Sha256::digest(bytes).to_vec(),
    };
    format!("{algorithm}-{}", base64::engine::general_purpose::STANDARD.encode(digest))
}

#[test]
fn every_asset_is_loaded_with_an_integrity_hash_that_matches_its_bytes() {
    let (status, page) = http_get(&format!("{}/", app_url()));
    assert_eq!(status, 200);
    let page = String::from_utf8(page).expect("UTF-8 page");

    // The stylesheet, the icon and the JS module: `integrity` on their links.
    let mut checked = Vec::new();
    for tag in page.split('<').filter(|t| t.starts_with("link ")) {
        let rel = attribute(tag, "rel").unwrap_or_default();
        let href = attribute(tag, "href").expect("href");
        if rel == "preload" || href.starts_with("data:") {
            continue; // the .wasm: checked below, by the loader's fetch; the inline icon
        }
        let integrity = attribute(tag, "integrity").unwrap_or_else(|| panic!("no integrity on {tag}"));
        let (_, bytes) = http_get(&format!("{}{href}", app_url()));
        assert_eq!(integrity, sri("sha384", &bytes), "{href}");
        checked.push(rel.to_owned());
    }
    checked.sort();
    assert_eq!(checked, ["modulepreload", "stylesheet"]);

    // The .wasm: the loader fetches it with its hash.
    let loader =
        page.split("<script type=\"module\">").nth(1).and_then(|s| s.split("</script>").next()).expect("loader");
    let wasm = loader.split("fetch('").nth(1).and_then(|s| s.split('\'').next()).expect("wasm fetch in the loader");
    let integrity = loader.split("integrity:'").nth(1).and_then(|s| s.split('\'').next()).expect("wasm integrity");
    let (_, bytes) = http_get(&format!("{}{wasm}", app_url()));
    assert_eq!(integrity, sri("sha384", &bytes));

    // The policy: no inline script but the loader (by its hash), no eval, and no provider
    // named (config.json alone re-points the build): https servers, and this machine's
    // ports since this config.json's provider is local. Signing in narrows it (below).
    // Not as a `<meta http-equiv>` tag: Chromium holds back a page's preloads while the
    // parser has such a tag ahead of it (the app applies the policy as it starts instead).
    for tag in page.to_ascii_lowercase().split("<meta").skip(1) {
        let tag = tag.split('>').next().unwrap_or_default();
        assert!(!tag.contains("http-equiv"), "a policy the parser would meet: <meta{tag}>");
    }
    let csp = built_policy();
    let hash = sri("sha256", loader.as_bytes());
    let expected = format!(
        "default-src 'self'; img-src 'self' data:; script-src 'self' 'wasm-unsafe-eval' '{hash}'; connect-src 'self' {servers}; \
         form-action 'self' {servers}; base-uri 'none'; object-src 'none'",
        servers = "https: http://localhost:* http://127.0.0.1:*"
    );
    assert_eq!(csp, expected);
    assert_eq!(page.matches("<script").count(), 1, "one script only, the loader");

    // RFC 9700 §4.2.4: no Referer leaves this page; and nothing is loaded from elsewhere.
    assert!(page.contains(r#"<meta name="referrer" content="no-referrer">"#));
    for attribute_name in ["href", "src"] {
        for tag in page.split('<').skip(1) {
            if let Some(url) = attribute(tag, attribute_name) {
                let local = (url.starts_with('/') && !url.starts_with("//")) || url.starts_with("data:");
                assert!(local, "a resource from elsewhere: {url}");
            }
        }
    }
    assert!(!loader.contains("http"), "the loader imports from elsewhere: {loader}");
}
