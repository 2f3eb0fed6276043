//! The only code that touches web APIs: [`Browser`], the session core's [`Platform`] in a
//! browser tab. It moves bytes between the session core and the browser (storage, fetch,
//! address bar, random numbers, clock, WebCrypto) and makes no decisions of its own.

pub mod dpop;
pub mod http;
pub mod location;
pub mod storage;

use futures::FutureExt;
use futures::future::LocalBoxFuture;

use crate::oauth::dpop::PublicJwk;
use crate::oauth::{AuthError, SignatureCheck};
use crate::session::platform::{HttpRequest, InFlight, Platform, ResolvedUrl};

/// This browser tab.
#[derive(Debug, Clone, Copy, Default)]
pub struct Browser;

impl Platform for Browser {
    type ProofKey = dpop::DpopKey;
    fn make_proof_key(&self) -> LocalBoxFuture<'static, Option<(dpop::DpopKey, PublicJwk)>> {
        dpop::DpopKey::generate().boxed_local()
    }
    fn sign_proof<'a>(&'a self, key: &'a dpop::DpopKey, signing_input: &'a str) -> LocalBoxFuture<'a, Option<Vec<u8>>> {
        key.sign(signing_input).boxed_local()
    }
    fn send(&self, request: HttpRequest<'_>) -> Result<InFlight, AuthError> {
        Ok(http::start(request)?.response().boxed_local())
    }
    fn post_form_and_forget(&self, url: &str, body: &str) {
        http::post_form_and_forget(url, body);
    }
    fn now_secs(&self) -> u64 {
        now_secs()
    }
    fn sleep(&self, ms: u32) -> LocalBoxFuture<'static, ()> {
        sleep(ms).boxed_local()
    }
    fn fill_random(&self, bytes: &mut [u8]) -> bool {
        fill_random(bytes)
    }
    fn verify_signature<'a>(&'a self, check: &'a SignatureCheck) -> LocalBoxFuture<'a, Option<bool>> {
        verify_signature(check).boxed_local()
    }
    fn spawn(&self, task: LocalBoxFuture<'static, ()>) {
        wasm_bindgen_futures::spawn_local(task);
    }
    fn storage_get(&self, key: &str) -> Option<String> {
        storage::read(key)
    }
    fn storage_set(&self, key: &str, value: &str) -> bool {
        storage::write(key, value)
    }
    fn storage_remove(&self, key: &str) {
        storage::delete(key);
    }
    fn storage_keys(&self) -> Vec<String> {
        storage::keys()
    }
    fn shared_storage_get(&self, key: &str) -> Option<String> {
        storage::shared_read(key)
    }
    fn shared_storage_set(&self, key: &str, value: &str) -> bool {
        storage::shared_write(key, value)
    }
    fn shared_storage_remove(&self, key: &str) {
        storage::shared_delete(key);
    }
    fn page_hidden(&self) -> bool {
        web_sys::window().and_then(|w| w.document()).is_some_and(|d| d.hidden())
    }
    fn came_back(&self) -> bool {
        location::came_back()
    }
    fn restrict_page(&self, policy: &str) -> bool {
        restrict_page(policy)
    }
    fn origin(&self) -> String {
        location::origin()
    }
    fn resolve_url(&self, url: &str) -> Option<ResolvedUrl> {
        location::resolve(url)
    }
    fn path(&self) -> String {
        location::path()
    }
    fn query(&self) -> String {
        location::query()
    }
    fn path_query_fragment(&self) -> String {
        location::path_query_fragment()
    }
    fn replace_path(&self, path: &str) {
        location::replace_path(path);
    }
    fn navigate(&self, url: &str) {
        location::go_to(url);
    }
    fn navigate_by_post(&self, action: &str, fields: &[(&str, String)]) -> bool {
        location::post_form(action, fields)
    }
}

/// Fills `bytes` from the browser's CSPRNG (`crypto.getRandomValues`, through getrandom).
/// Returns false if the browser has none, which no supported browser lacks.
pub fn fill_random(bytes: &mut [u8]) -> bool {
    getrandom::fill(bytes).is_ok()
}

/// Runs a signature check the protocol core prepared (`oauth::jws`) through WebCrypto
/// (no crate does RSA and ECDSA verification as small and as fast as the browser's own):
/// imports its JWK and verifies. `Some(valid)`, or `None` if WebCrypto refused the key
/// or the parameters.
pub async fn verify_signature(check: &SignatureCheck) -> Option<bool> {
    use js_sys::{Object, Reflect};
    use wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;

    let subtle = web_sys::window()?.crypto().ok()?.subtle();
    // One dictionary serves importKey and verify: each reads the members it knows.
    let algorithm = Object::new();
    let set = |name: &str, value: JsValue| Reflect::set(&algorithm, &name.into(), &value).ok();
    set("name", check.alg.webcrypto_name().into())?;
    set("hash", check.alg.hash().into())?;
    if let Some((curve, _)) = check.alg.curve() {
        set("namedCurve", curve.into())?;
    }
    if let Some(salt_length) = check.alg.pss_salt_len() {
        set("saltLength", salt_length.into())?;
    }
    let jwk: Object = js_sys::JSON::parse(&check.jwk).ok()?.dyn_into().ok()?;
    let usages = js_sys::Array::of1(&"verify".into());
    let import = subtle.import_key_with_object("jwk", &jwk, &algorithm, false, &usages).ok()?;
    let key: web_sys::CryptoKey = JsFuture::from(import).await.ok()?.dyn_into().ok()?;
    let verify = subtle
        .verify_with_object_and_u8_array_and_u8_array(
            &algorithm,
            &key,
            &check.signature,
            check.signing_input.as_bytes(),
        )
        .ok()?;
    JsFuture::from(verify).await.ok()?.as_bool()
}

/// Waits `ms` milliseconds without blocking the page.
pub async fn sleep(ms: u32) {
    gloo_timers::future::TimeoutFuture::new(ms).await;
}

/// Seconds since the Unix epoch, from the browser's clock.
pub fn now_secs() -> u64 {
    (js_sys::Date::now() / 1000.0) as u64
}

/// Enforces the policy the build wrote into `index.html` (`tools/csp.mjs`), which sits in a
/// plain `<meta name="leptos-oidc:content-security-policy">` tag, not an http-equiv one:
/// with that in the served page Chromium holds back the page's preloads (README, issue 11).
/// Called as the app starts, before it reads the address, storage or the network. The tag
/// is taken out once enforced, so a second call adds nothing. A page without one (a policy
/// sent as a header instead, or an `index.html` of your own) gets a console warning.
/// Returns whether a policy was enforced.
pub fn enforce_built_policy() -> bool {
    let built = web_sys::window().and_then(|window| window.document()).and_then(|document| {
        document.query_selector("head > meta[name='leptos-oidc:content-security-policy']").ok()?
    });
    let enforced = built
        .as_ref()
        .and_then(|meta| meta.get_attribute("content"))
        .is_some_and(|policy| !policy.trim().is_empty() && restrict_page(&policy));
    match built {
        Some(meta) if enforced => meta.remove(),
        _ => web_sys::console::warn_1(
            &"No built Content-Security-Policy to enforce: see the README's \"Hosting\"".into(),
        ),
    }
    enforced
}

/// Adds a `<meta http-equiv="Content-Security-Policy">` with `policy` to the page's head,
/// which the browser enforces from then on, beside the policies the page already has.
fn restrict_page(policy: &str) -> bool {
    let Some(document) = web_sys::window().and_then(|window| window.document()) else { return false };
    let (Ok(Some(head)), Ok(meta)) = (document.query_selector("head"), document.create_element("meta")) else {
        return false;
    };
    meta.set_attribute("http-equiv", "Content-Security-Policy").is_ok()
        && meta.set_attribute("content", policy).is_ok()
        && head.append_child(&meta).is_ok()
}
