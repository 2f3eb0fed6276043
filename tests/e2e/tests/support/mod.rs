//! Page-object helpers over WebDriver: a fresh headless Chromium per test, and the steps
//! a person takes (click "Sign in", fill the provider's login form, consent, sign out).
//!
//! The services come from tools/test.sh, which starts them and sets:
//! APP_URL (the release build), PROVIDER_URL (oidc-provider), WEBDRIVER_URL (chromedriver),
//! E2E_DIR (a scratch folder for browser profiles and failure screenshots).

#![allow(dead_code)]

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};

pub const WAIT: Duration = Duration::from_secs(15);

/// The tests of a suite share the provider's token log, the fault provider's fixed port
/// and the machine's two cores, so each takes its turn: they run one at a time whatever
/// `--test-threads` says. (Cargo runs the suites themselves one after another.)
static TURN_TAKEN: std::sync::Mutex<bool> = std::sync::Mutex::new(false);
static TURN_FREED: std::sync::Condvar = std::sync::Condvar::new();

std::thread_local! {
    /// This test's thread holds the turn (a test's FaultProvider takes it before its
    /// browser does; `#[tokio::test]` runs the whole test on one thread).
    static HOLDS_THE_TURN: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// A test's turn, held until dropped.
pub struct Turn {
    owner: bool,
}

/// Waits for this test's turn (or returns at once if this test already holds it).
pub fn take_turn() -> Turn {
    if HOLDS_THE_TURN.get() {
        return Turn { owner: false };
    }
    // The lock is held only for these few lines, but recover from poisoning anyway.
    let mut taken = TURN_TAKEN.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    while *taken {
        taken = TURN_FREED.wait(taken).unwrap_or_else(std::sync::PoisonError::into_inner);
    }
    *taken = true;
    HOLDS_THE_TURN.set(true);
    Turn { owner: true }
}

impl Drop for Turn {
    fn drop(&mut self) {
        if self.owner {
            HOLDS_THE_TURN.set(false);
            *TURN_TAKEN.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = false;
            TURN_FREED.notify_one();
        }
    }
}

/// Counts the page's requests to a token endpoint.
pub const TOKEN_REQUESTS: &str =
    "return performance.getEntriesByType('resource').filter(e => e.name.endsWith('/token')).length";

fn env(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

pub fn app_url() -> String {
    env("APP_URL", "http://localhost:8080")
}

pub fn provider_url() -> String {
    env("PROVIDER_URL", "http://127.0.0.1:9000")
}

/// A real provider the flow suite (flow.rs) runs against, each with the same release build
/// served on its own port with its own config.json (tools/test.sh): nothing else differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    /// oidc-provider (npm), OpenID Certified: provider/server.mjs.
    OidcProvider,
    /// django-oauth-toolkit (PyPI): provider-django/.
    DjangoOauthToolkit,
}

impl Provider {
    pub const ALL: [Provider; 2] = [Provider::OidcProvider, Provider::DjangoOauthToolkit];

    pub fn name(self) -> &'static str {
        match self {
            Provider::OidcProvider => "oidc-provider",
            Provider::DjangoOauthToolkit => "django-oauth-toolkit",
        }
    }

    /// The release build, configured for this provider.
    pub fn app_url(self) -> String {
        match self {
            Provider::OidcProvider => app_url(),
            Provider::DjangoOauthToolkit => env("DJANGO_APP_URL", "http://localhost:8082"),
        }
    }

    /// The provider's issuer.
    pub fn issuer(self) -> String {
        match self {
            Provider::OidcProvider => provider_url(),
            Provider::DjangoOauthToolkit => env("DJANGO_PROVIDER_URL", "http://127.0.0.1:8000/o"),
        }
    }

    /// Its token endpoint, as its metadata names it.
    pub fn token_endpoint(self) -> String {
        match self {
            Provider::OidcProvider => format!("{}/token", provider_url()),
            Provider::DjangoOauthToolkit => format!("{}/token/", self.issuer()),
        }
    }

    /// How many token requests a page makes before its first is answered, to learn the
    /// provider's DPoP nonce (RFC 9449 §8): oidc-provider here binds tokens to the page's key
    /// and asks for a nonce in every proof; django-oauth-toolkit takes no proofs.
    pub fn nonce_round_trips(self) -> u64 {
        match self {
            Provider::OidcProvider => 1,
            Provider::DjangoOauthToolkit => 0,
        }
    }

    /// Where its login page is.
    pub fn login_page(self) -> String {
        match self {
            Provider::OidcProvider => format!("{}/interaction/", provider_url()),
            Provider::DjangoOauthToolkit => format!("{}/accounts/login/", origin(&self.issuer())),
        }
    }

    /// Its login form's password field: there only when it asks for the password.
    pub fn password_field(self) -> &'static str {
        "input[name=password]"
    }

    /// On its login page: signs in as `login` and consents where it asks.
    pub async fn log_in(self, browser: &Browser, login: &str, password: &str) {
        match self {
            Provider::OidcProvider => {
                browser.log_in_at_provider(login, password).await;
                browser.consent_at_provider().await;
            }
            Provider::DjangoOauthToolkit => {
                browser.wait_for_url(&self.login_page()).await;
                browser.type_into("input[name=username]", login).await;
                browser.type_into("input[name=password]", password).await;
                // No consent page: the client is registered with skip_authorization.
                browser.click_button("Sign in").await;
            }
        }
    }

    /// On its logout endpoint, after the app sent the browser there: confirms where it asks
    /// (django-oauth-toolkit does not, given a valid id_token_hint).
    pub async fn confirm_logout(self, browser: &Browser) {
        if self == Provider::OidcProvider {
            browser.click_button("Yes, sign me out").await;
        }
    }
}

/// `scheme://host:port` of `url`.
pub fn origin(url: &str) -> String {
    let after_scheme = url.find("://").map_or(0, |at| at + 3);
    let end = url[after_scheme..].find('/').map_or(url.len(), |at| after_scheme + at);
    url[..end].to_owned()
}

/// The demo API (api/server.mjs, with API_TEST_HOOKS=1).
pub fn api_url() -> String {
    env("API_URL", "http://127.0.0.1:9200")
}

/// A request as the demo API saw it.
#[derive(Debug, Clone)]
pub struct ApiSeen {
    pub method: String,
    pub path: String,
    pub origin: Option<String>,
    /// Whether it carried an Authorization header at all.
    pub authorization: bool,
    /// A digest of its Bearer token (base64url SHA-256, 16 characters), if it had one.
    pub token: Option<String>,
    pub status: u64,
    /// When it arrived, in ms since the Unix epoch.
    pub at: u64,
    /// How its token was presented: `Bearer` or `DPoP` (RFC 9449 §7.1).
    pub scheme: Option<String>,
    /// Its DPoP proof, as sent.
    pub proof: Option<String>,
    /// The error of the API's refusal (`use_dpop_nonce`, `invalid_dpop_proof`...), if it refused.
    pub error: Option<String>,
}

impl ApiSeen {
    /// The API's request for a DPoP nonce (RFC 9449 §9), which the app answers by sending the
    /// call again: not a call of its own.
    pub fn asked_for_nonce(&self) -> bool {
        self.error.as_deref() == Some("use_dpop_nonce")
    }
}

/// What reached the demo API since the last call.
pub fn api_log() -> Vec<ApiSeen> {
    assert!(HOLDS_THE_TURN.get(), "read the demo API's log inside with_browser, which takes the test's turn");
    let (status, body) = http_get(&format!("{}/__test/log", api_url()));
    assert_eq!(status, 200, "the demo API runs without API_TEST_HOOKS=1");
    let log: Value = serde_json::from_slice(&body).expect("API log JSON");
    log["requests"]
        .as_array()
        .expect("requests")
        .iter()
        .map(|r| ApiSeen {
            method: r["method"].as_str().unwrap_or_default().to_owned(),
            path: r["path"].as_str().unwrap_or_default().to_owned(),
            origin: r["origin"].as_str().map(str::to_owned),
            authorization: r["authorization"].as_bool().expect("authorization"),
            token: r["token"].as_str().map(str::to_owned),
            status: r["status"].as_u64().unwrap_or_default(),
            at: r["at"].as_u64().expect("at"),
            scheme: r["scheme"].as_str().map(str::to_owned),
            proof: r["proof"].as_str().map(str::to_owned),
            error: r["error"].as_str().map(str::to_owned),
        })
        .collect()
}

/// Has the demo API refuse the next call with `invalid_token`, as if the token had been revoked.
pub fn api_rejects_the_next_token() {
    let (status, _) = http_post_form(&format!("{}/__test/reject-next", api_url()), "");
    assert_eq!(status, 200);
}

/// The demo API's digest of a token (see [`ApiSeen::token`]).
pub fn token_digest(token: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    let digest = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(token.as_bytes()));
    digest[..16].to_owned()
}

#[derive(Clone)]
pub struct Browser {
    pub client: Client,
}

static SESSIONS: AtomicUsize = AtomicUsize::new(0);

/// Runs `test` in a fresh browser (its own profile: cold cache, no cookies), closes the
/// browser afterwards whatever happens, and keeps a screenshot when the test fails.
pub async fn with_browser<F, Fut>(name: &str, test: F)
where
    F: FnOnce(Browser) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    with_browser_flags(name, &[], test).await;
}

/// [`with_browser`], Chromium started with `flags` besides the usual ones.
pub async fn with_browser_flags<F, Fut>(name: &str, flags: &[&str], test: F)
where
    F: FnOnce(Browser) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let _turn = take_turn();
    let browser = Browser::open_with(flags).await;
    let outcome = tokio::spawn(test(browser.clone())).await;
    if outcome.is_err() {
        if let Ok(png) = browser.client.screenshot().await {
            let dir = env("E2E_DIR", "target/e2e");
            let _ = std::fs::create_dir_all(&dir);
            let _ = std::fs::write(format!("{dir}/failure-{name}.png"), png);
        }
        if let Ok(url) = browser.client.current_url().await {
            eprintln!("[{name}] failed at {url}");
        }
    }
    let _ = browser.client.close().await;
    if let Err(error) = outcome {
        std::panic::resume_unwind(error.into_panic());
    }
}

impl Browser {
    /// Adds an inline script to the page: whether it ran (the app's policy allows no inline
    /// script but the loader).
    pub async fn inline_script_ran(&self) -> bool {
        let script = "const s = document.createElement('script'); s.textContent = 'window.__inline_ran = true';
                      document.head.append(s); return window.__inline_ran === true";
        self.run_js(script).await == json!(true)
    }

    pub async fn open() -> Browser {
        Browser::open_with(&[]).await
    }

    pub async fn open_with(flags: &[&str]) -> Browser {
        let dir = env("E2E_DIR", "target/e2e");
        let profile = format!("{dir}/profile-{}-{}", std::process::id(), SESSIONS.fetch_add(1, Ordering::SeqCst));
        let mut args: Vec<String> = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1200,900",
        ]
        .iter()
        .chain(flags)
        .map(|flag| flag.to_string())
        .collect();
        args.push(format!("--user-data-dir={profile}"));
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({ "binary": env("CHROMIUM", "/usr/bin/chromium"), "args": args }),
        );
        // The console, CSP violations included, for the tests that read it (browser_log).
        caps.insert("goog:loggingPrefs".into(), json!({ "browser": "ALL" }));
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&env("WEBDRIVER_URL", "http://127.0.0.1:9515"))
            .await
            .expect("WebDriver session (is chromedriver running? tools/test.sh starts it)");
        Browser { client }
    }

    pub async fn goto(&self, path: &str) {
        self.client.goto(&format!("{}{path}", app_url())).await.expect("navigate");
    }

    /// Opens `url` (any origin).
    pub async fn visit(&self, url: &str) {
        self.client.goto(url).await.expect("navigate");
    }

    /// Stores a sign-in in progress under `state` as the app stores one (a fixed verifier,
    /// coming back to `/`), so that a crafted callback can answer it.
    pub async fn plant_pending_sign_in(&self, state: &str) {
        let now = self.run_js("return Math.floor(Date.now() / 1000)").await;
        let record = json!({
            "state": state, "nonce": "e2e-nonce",
            "verifier": "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
            "return_to": "/", "created_at": now,
        });
        let store =
            format!("sessionStorage.setItem('leptos-oidc:pending:{state}', {:?}); return true", record.to_string());
        assert_eq!(self.run_js(&store).await, json!(true), "stored");
    }

    /// Waits for an element matching `css`.
    pub async fn wait_for_element(&self, css: &str) {
        self.client.wait().at_most(WAIT).for_element(Locator::Css(css)).await.expect(css);
    }

    /// Types `text` into the field matching `css`, waiting for it to appear.
    pub async fn type_into(&self, css: &str, text: &str) {
        let field = self.client.wait().at_most(WAIT).for_element(Locator::Css(css)).await.expect(css);
        field.send_keys(text).await.expect("type");
    }

    pub async fn url(&self) -> String {
        self.client.current_url().await.expect("current url").to_string()
    }

    /// Waits until an element matching `css` shows text containing `expected`.
    pub async fn wait_for_text(&self, css: &str, expected: &str) -> String {
        let deadline = tokio::time::Instant::now() + WAIT;
        let mut last = String::new();
        loop {
            if let Ok(elements) = self.client.find_all(Locator::Css(css)).await {
                for element in elements {
                    if let Ok(text) = element.text().await {
                        if text.contains(expected) {
                            return text;
                        }
                        last = text;
                    }
                }
            }
            if tokio::time::Instant::now() > deadline {
                let url = self.url().await;
                panic!("no {css} with text {expected:?} (last seen {last:?}) at {}", &url[..url.len().min(200)]);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until `script` returns `expected`.
    pub async fn wait_for_js(&self, script: &str, expected: Value) {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let value = self.run_js(script).await;
            if value == expected {
                return;
            }
            if tokio::time::Instant::now() > deadline {
                panic!("{script} returned {value}, not {expected}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until the URL starts with `prefix`.
    pub async fn wait_for_url(&self, prefix: &str) -> String {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let url = self.url().await;
            if url.starts_with(prefix) {
                return url;
            }
            if tokio::time::Instant::now() > deadline {
                panic!("URL never started with {prefix}; it is {url}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Clicks the first button whose text contains `label`, waiting for it to appear.
    pub async fn click_button(&self, label: &str) {
        self.click(&format!("//button[contains(normalize-space(.), '{label}')]"), label).await;
    }

    pub async fn click_link(&self, label: &str) {
        self.click(&format!("//a[contains(normalize-space(.), '{label}')]"), label).await;
    }

    /// Finds and clicks; an element replaced between the two (a page re-rendering for a
    /// reason of its own) is found again, a few times at most.
    async fn click(&self, xpath: &str, label: &str) {
        for attempt in 1..=3 {
            let element = self.client.wait().at_most(WAIT).for_element(Locator::XPath(xpath)).await.expect(label);
            match element.click().await {
                Ok(()) => return,
                Err(e) if attempt < 3 && e.to_string().contains("stale element") => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => panic!("click {label}: {e}"),
            }
        }
    }

    /// On the provider's login page: types the login and password and submits.
    pub async fn log_in_at_provider(&self, login: &str, password: &str) {
        self.wait_for_url(&provider_url()).await;
        let field =
            self.client.wait().at_most(WAIT).for_element(Locator::Css("input[name=login]")).await.expect("login field");
        field.send_keys(login).await.expect("type login");
        self.client
            .find(Locator::Css("input[name=password]"))
            .await
            .expect("password field")
            .send_keys(password)
            .await
            .expect("type password");
        self.click_button("Sign-in").await;
    }

    /// On the provider's consent page: agrees.
    pub async fn consent_at_provider(&self) {
        self.wait_for_text("button", "Continue").await;
        self.click_button("Continue").await;
    }

    /// Clicks the provider's consent button whenever it asks, until the browser is at
    /// `prefix` (a provider may or may not ask again for a grant it already has).
    pub async fn continue_at_provider_until(&self, prefix: &str) {
        let deadline = tokio::time::Instant::now() + WAIT;
        while !self.url().await.starts_with(prefix) {
            assert!(tokio::time::Instant::now() < deadline, "never reached {prefix}; at {}", self.url().await);
            if let Ok(button) = self.client.find(Locator::XPath("//button[contains(., 'Continue')]")).await {
                let _ = button.click().await;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the browser is at the provider's login page.
    pub async fn wait_for_provider_login(&self) {
        self.wait_for_url(&format!("{}/interaction/", provider_url())).await;
    }

    /// Opens the protected profile page signed out: its guard sends the browser to the
    /// provider, and after login and consent it comes back showing Alice.
    pub async fn sign_in_on_the_profile_page(&self) {
        self.goto("/profile").await;
        self.log_in_at_provider("alice", "wonderland").await;
        self.consent_at_provider().await;
        self.wait_for_text("dd.person-name", "Alice Liddell").await;
    }

    /// The whole sign-in from the app's "Sign in" button to the signed-in page.
    pub async fn sign_in_as_alice(&self) {
        self.click_button("Sign in").await;
        self.log_in_at_provider("alice", "wonderland").await;
        self.consent_at_provider().await;
        self.wait_for_text(".header-name", "Alice Liddell").await;
    }

    /// Checks the page as it is now with axe-core (from npm, tests/e2e/node_modules) against
    /// WCAG 2.1 A and AA, and fails with each violation's rule and the elements it found.
    pub async fn assert_accessible(&self, page: &str) {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/node_modules/axe-core/axe.min.js");
        let axe = std::fs::read_to_string(path).expect("axe-core (tools/setup.sh --test installs it)");
        let script = format!(
            "{axe}\n;return axe.run(document, {{ runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }})
                .then(r => r.violations.map(v => v.id + ' (' + v.impact + '): ' + v.nodes.map(n => n.target.join(' ')).join(', ')));"
        );
        let violations = self.client.execute(&script, vec![]).await.expect("axe ran");
        assert_eq!(violations, json!([]), "{page}: WCAG 2.1 A/AA violations");
    }

    /// Saves a screenshot as `<E2E_SCREENSHOTS>/<name>.png` when that variable is set:
    /// how the pages look to a person, for review.
    /// With E2E_SCREENSHOTS=<dir>: the page now, at desktop width (`<name>.png`) and at a
    /// phone's (`<name>-phone.png`, 390 x 844).
    pub async fn snapshot(&self, name: &str) {
        let Ok(dir) = std::env::var("E2E_SCREENSHOTS") else { return };
        let _ = std::fs::create_dir_all(&dir);
        if let Ok(png) = self.client.screenshot().await {
            let _ = std::fs::write(format!("{dir}/{name}.png"), png);
        }
        if self.client.set_window_size(390, 844).await.is_ok() {
            tokio::time::sleep(Duration::from_millis(200)).await; // the layout settles
            if let Ok(png) = self.client.screenshot().await {
                let _ = std::fs::write(format!("{dir}/{name}-phone.png"), png);
            }
            let _ = self.client.set_window_size(1200, 900).await;
        }
    }

    pub async fn run_js(&self, script: &str) -> Value {
        self.client.execute(script, vec![]).await.expect("script")
    }

    /// The `data-error-code` of the failure the page shows (null when it shows none).
    pub async fn shown_error_code(&self) -> Value {
        self.run_js("return document.querySelector('[role=alert]')?.dataset.errorCode ?? null").await
    }

    /// How many requests this page has made to a token endpoint (code exchanges and
    /// refreshes), from the Resource Timing entries.
    pub async fn token_requests(&self) -> Value {
        self.run_js(TOKEN_REQUESTS).await
    }

    /// Everything the app's origin keeps outside memory: both storages and its cookies.
    pub async fn stored_state(&self) -> Value {
        self.run_js(
            "const dump = (s) => Object.fromEntries(Array.from({length: s.length}, (_, i) => [s.key(i), s.getItem(s.key(i))]));
             return { local: dump(localStorage), session: dump(sessionStorage), cookies: document.cookie };",
        )
        .await
    }

    /// Makes this tab fail every request whose URL matches one of `patterns` (`*` for any
    /// run of characters), from now on, until it is called again; no pattern blocks nothing.
    pub async fn block_requests(&self, patterns: &[&str]) {
        self.devtools("Network.enable", json!({})).await;
        self.devtools("Network.setBlockedURLs", json!({ "urls": patterns })).await;
    }

    /// Holds back, unanswered, every request of this tab whose URL matches one of
    /// `patterns`, until [`Browser::release_requests`].
    pub async fn hold_requests(&self, patterns: &[&str]) {
        let patterns: Vec<Value> =
            patterns.iter().map(|p| json!({ "urlPattern": p, "requestStage": "Request" })).collect();
        self.devtools("Fetch.enable", json!({ "patterns": patterns })).await;
    }

    /// Lets the requests held back by [`Browser::hold_requests`] go on (Chromium continues
    /// held requests when the Fetch domain is turned off; the focus test shows it does).
    pub async fn release_requests(&self) {
        self.devtools("Fetch.disable", json!({})).await;
    }

    /// Runs this tab's animations at `rate` times their speed, from now on; at 0 they wait
    /// where they are for the test to move them (`Animation.currentTime`).
    pub async fn set_animation_rate(&self, rate: f64) {
        self.devtools("Animation.enable", json!({})).await;
        self.devtools("Animation.setPlaybackRate", json!({ "playbackRate": rate })).await;
    }

    /// Presses Tab `times` times, as a keyboard user moves through the page.
    pub async fn press_tab(&self, times: usize) {
        use fantoccini::actions::{InputSource, KeyAction, KeyActions};
        let tab: char = fantoccini::key::Key::Tab.into();
        let mut keys = KeyActions::new("keyboard".into());
        for _ in 0..times {
            keys = keys.then(KeyAction::Down { value: tab }).then(KeyAction::Up { value: tab });
        }
        self.client.perform_actions(keys).await.expect("key presses");
    }

    /// A DevTools protocol command to this tab (chromedriver only): its result.
    async fn devtools(&self, cmd: &'static str, params: Value) -> Value {
        self.client.issue_cmd(DevTools { cmd, params }).await.unwrap_or_else(|e| panic!("{cmd}: {e}"))
    }

    /// The console messages since the last call (chromedriver's log, kept across
    /// navigations): `(level, text)`. CSP violations show here as "Refused to …".
    pub async fn browser_log(&self) -> Vec<(String, String)> {
        let entries = self.client.issue_cmd(GetBrowserLog).await.expect("browser log");
        entries
            .as_array()
            .map(|list| {
                list.iter()
                    .map(|e| {
                        (e["level"].as_str().unwrap_or("").to_owned(), e["message"].as_str().unwrap_or("").to_owned())
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// A DevTools protocol command to this tab, through chromedriver (not part of W3C WebDriver
/// either): what the tests cannot do through the page, such as holding back a request.
#[derive(Debug)]
struct DevTools {
    cmd: &'static str,
    params: Value,
}

impl WebDriverCompatibleCommand for DevTools {
    fn endpoint(&self, base_url: &url::Url, session_id: Option<&str>) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!("session/{}/goog/cdp/execute", session_id.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(json!({ "cmd": self.cmd, "params": self.params }).to_string()))
    }
}

/// chromedriver's log endpoint (not part of W3C WebDriver, so fantoccini has no call for it).
#[derive(Debug)]
struct GetBrowserLog;

impl WebDriverCompatibleCommand for GetBrowserLog {
    fn endpoint(&self, base_url: &url::Url, session_id: Option<&str>) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!("session/{}/se/log", session_id.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(r#"{"type":"browser"}"#.to_owned()))
    }
}

/// A plain HTTP/1.0 GET (so no chunked body) from the test itself (not the browser): status and body.
pub fn http_get(url: &str) -> (u16, Vec<u8>) {
    http_request(url, "GET", None)
}

/// A form POST, as [`http_get`].
pub fn http_post_form(url: &str, body: &str) -> (u16, Vec<u8>) {
    http_request(url, "POST", Some(body))
}

fn http_request(url: &str, method: &str, form: Option<&str>) -> (u16, Vec<u8>) {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").expect("http URL");
    let (authority, path) = rest.split_once('/').map_or((rest, "/".to_owned()), |(a, p)| (a, format!("/{p}")));
    let address = authority.replace("localhost", "127.0.0.1");
    let mut stream = std::net::TcpStream::connect(&address).expect("connect");
    stream.set_read_timeout(Some(WAIT)).expect("timeout");
    let body = form.map(|body| {
        format!("Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}", body.len())
    });
    let end = body.unwrap_or_else(|| "\r\n".to_owned());
    write!(stream, "{method} {path} HTTP/1.0\r\nHost: {authority}\r\nConnection: close\r\n{end}").expect("send");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).expect("read");
    let split = response.windows(4).position(|w| w == b"\r\n\r\n").expect("head") + 4;
    let head = String::from_utf8_lossy(&response[..split]).to_string();
    assert!(!head.to_ascii_lowercase().contains("transfer-encoding: chunked"), "chunked bodies are not read here");
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("status");
    (status, response[split..].to_vec())
}

/// What crossed the provider's token endpoint since the last call (PROVIDER_TEST_HOOKS):
/// the number of token requests, each request's grant, and every code, verifier and token
/// in them.
pub struct TokenLog {
    pub requests: u64,
    pub exchanges: Vec<Exchange>,
    /// Each token revoked at the revocation endpoint (RFC 7009), with the answer's status.
    pub revoked: Vec<(String, u64)>,
    pub secrets: Vec<String>,
    /// Each authorization request's `prompt` (None when it had none), in order.
    pub authorizations: Vec<Option<String>>,
    /// The names of the parameters each authorization request's URL carried, in order.
    pub authorization_urls: Vec<Vec<String>>,
    /// Each pushed authorization request (RFC 9126): its answer's status and the names of
    /// the parameters pushed.
    pub pushed: Vec<(u64, Vec<String>)>,
    /// Each DPoP proof the provider was sent (RFC 9449), decoded: `method`, `path`,
    /// `status`, `grant_type` (token requests), `authorization_scheme`, `header`, `claims`.
    pub proofs: Vec<Value>,
    /// The path of each CORS preflight (`OPTIONS`) the provider answered, in order.
    pub preflights: Vec<String>,
}

impl TokenLog {
    /// The token requests that were answered, leaving out the provider's requests for a
    /// DPoP nonce (RFC 9449 §8), which the app answers by sending the request again.
    pub fn answered(&self) -> Vec<&Exchange> {
        self.exchanges.iter().filter(|e| !e.asked_for_nonce()).collect()
    }
}

/// One token request, as the provider saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    pub grant_type: String,
    /// The refresh token presented (a refresh).
    pub presented: Option<String>,
    /// The refresh token given in the answer.
    pub issued: Option<String>,
    /// The access token given in the answer.
    pub access_token: Option<String>,
    pub status: u64,
    /// When the answer left, in ms since the Unix epoch.
    pub at: u64,
    /// The answer's `token_type` (`DPoP` for a token bound to the page's key).
    pub token_type: Option<String>,
    /// The answer's `error`, if it refused.
    pub error: Option<String>,
    /// Why, in the provider's own words (its `error_detail`, which the answer leaves out).
    pub error_detail: Option<String>,
}

impl Exchange {
    /// The provider's request for a DPoP nonce (RFC 9449 §8): the request is sent again.
    pub fn asked_for_nonce(&self) -> bool {
        self.error.as_deref() == Some("use_dpop_nonce")
    }
}

/// The Content-Security-Policy violations among console messages (`browser_log`).
pub fn csp_violations(log: &[(String, String)]) -> Vec<&String> {
    log.iter().map(|(_, text)| text).filter(|text| text.contains("Content Security Policy")).collect()
}

/// A JSON list of strings.
fn names(list: &Value) -> Vec<String> {
    list.as_array().into_iter().flatten().filter_map(|name| name.as_str().map(str::to_owned)).collect()
}

pub fn provider_token_log() -> TokenLog {
    assert!(HOLDS_THE_TURN.get(), "read the provider's log inside with_browser, which takes the test's turn");
    let (status, body) = http_get(&format!("{}/__test/token-log", provider_url()));
    assert_eq!(status, 200, "the provider runs without PROVIDER_TEST_HOOKS=1");
    let log: Value = serde_json::from_slice(&body).expect("token log JSON");
    TokenLog {
        requests: log["requests"].as_u64().expect("requests"),
        exchanges: log["exchanges"]
            .as_array()
            .expect("exchanges")
            .iter()
            .map(|e| Exchange {
                grant_type: e["grant_type"].as_str().unwrap_or_default().to_owned(),
                presented: e["presented"].as_str().map(str::to_owned),
                issued: e["issued"].as_str().map(str::to_owned),
                access_token: e["access_token"].as_str().map(str::to_owned),
                status: e["status"].as_u64().unwrap_or_default(),
                at: e["at"].as_u64().expect("at"),
                token_type: e["token_type"].as_str().map(str::to_owned),
                error: e["error"].as_str().map(str::to_owned),
                error_detail: e["error_detail"].as_str().map(str::to_owned),
            })
            .collect(),
        revoked: log["revoked"]
            .as_array()
            .expect("revoked")
            .iter()
            .map(|r| (r["token"].as_str().unwrap_or_default().to_owned(), r["status"].as_u64().unwrap_or_default()))
            .collect(),
        authorizations: log["authorizations"]
            .as_array()
            .expect("authorizations")
            .iter()
            .map(|a| a["prompt"].as_str().map(str::to_owned))
            .collect(),
        authorization_urls: log["authorizations"]
            .as_array()
            .expect("authorizations")
            .iter()
            .map(|a| names(&a["url_parameters"]))
            .collect(),
        pushed: log["pushed"]
            .as_array()
            .expect("pushed")
            .iter()
            .map(|p| (p["status"].as_u64().unwrap_or_default(), names(&p["parameters"])))
            .collect(),
        proofs: log["proofs"].as_array().cloned().unwrap_or_default(),
        preflights: names(&log["preflights"]),
        secrets: log["secrets"]
            .as_array()
            .expect("secrets")
            .iter()
            .filter_map(|s| s.as_str().map(str::to_owned))
            .collect(),
    }
}

/// The app deployed a second time, against the fault provider (tools/test.sh serves it
/// with tests/e2e/fault-config.json).
pub fn fault_app_url() -> String {
    env("FAULT_APP_URL", "http://localhost:8081")
}

/// The same build against the fault provider under an issuer with a path and a trailing
/// slash (tests/e2e/fault-path-config.json; the `issuer_path_slash` scenario).
pub fn fault_path_app_url() -> String {
    env("FAULT_PATH_APP_URL", "http://localhost:8083")
}

pub const FAULT_PROVIDER_PORT: u16 = 9100;

/// tests/e2e/fault-provider.mjs running one scenario; stopped when dropped.
pub struct FaultProvider {
    child: std::process::Child,
    /// Dropped after the process is stopped: the port is free for the next test.
    _turn: Turn,
}

impl FaultProvider {
    pub fn start(scenario: &str) -> FaultProvider {
        let turn = take_turn();
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/fault-provider.mjs");
        let child = std::process::Command::new("node")
            .args([script, &FAULT_PROVIDER_PORT.to_string(), scenario])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("node (tools/setup.sh installs it)");
        let address = format!("127.0.0.1:{FAULT_PROVIDER_PORT}");
        let deadline = std::time::Instant::now() + WAIT;
        while std::net::TcpStream::connect(&address).is_err() {
            assert!(std::time::Instant::now() < deadline, "the fault provider did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        let provider = FaultProvider { child, _turn: turn };
        // The port is fixed: make sure it is this scenario's server answering, not a
        // leftover of another run's.
        let answering = provider.counts()["scenario"].as_str().unwrap_or_default().to_owned();
        assert_eq!(answering, scenario, "another fault provider holds port {FAULT_PROVIDER_PORT}");
        provider
    }

    fn counts(&self) -> Value {
        let (_, body) = http_get(&format!("http://127.0.0.1:{FAULT_PROVIDER_PORT}/__count"));
        serde_json::from_slice(&body).expect("count JSON")
    }

    /// How many token requests reached it.
    pub fn token_requests(&self) -> u64 {
        self.counts()["token_requests"].as_u64().expect("token_requests")
    }

    /// How many requests for its keys (JWKS) reached it.
    pub fn key_requests(&self) -> u64 {
        self.counts()["key_requests"].as_u64().expect("key_requests")
    }

    /// How many discovery requests reached it.
    pub fn discovery_requests(&self) -> u64 {
        self.counts()["discovery_requests"].as_u64().expect("discovery_requests")
    }

    /// The tokens revoked at it (RFC 7009), in order.
    pub fn revoked(&self) -> Vec<String> {
        self.strings("revoked")
    }

    /// The refresh token each refresh presented, in order.
    pub fn refreshes(&self) -> Vec<String> {
        self.strings("refreshes")
    }

    /// The DPoP proof of each token request that carried one (RFC 9449), in order.
    pub fn dpop_proofs(&self) -> Vec<String> {
        self.strings("dpop_proofs")
    }

    /// The access token each UserInfo request presented, in order.
    pub fn userinfo_tokens(&self) -> Vec<String> {
        self.strings("userinfo")
    }

    /// Each request to its logout endpoint: `{method, query, form}`.
    /// Each authorization request's `prompt`, in order (None when it had none).
    pub fn authorizations(&self) -> Vec<Option<String>> {
        let all = self.counts()["authorizations"].as_array().cloned().unwrap_or_default();
        all.iter().map(|p| p.as_str().map(str::to_owned)).collect()
    }

    pub fn logouts(&self) -> Vec<Value> {
        self.counts()["logouts"].as_array().cloned().unwrap_or_default()
    }

    /// When each token request reached it, in milliseconds since the Unix epoch.
    pub fn token_request_times(&self) -> Vec<u64> {
        let times = self.counts()["token_request_times"].as_array().cloned().unwrap_or_default();
        times.iter().filter_map(Value::as_u64).collect()
    }

    /// Every ID token it issued, in order.
    pub fn id_tokens(&self) -> Vec<String> {
        self.strings("id_tokens")
    }

    fn strings(&self, list: &str) -> Vec<String> {
        let values = self.counts()[list].as_array().cloned().unwrap_or_default();
        values.iter().filter_map(|value| value.as_str().map(str::to_owned)).collect()
    }
}

impl Drop for FaultProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
